package hoop;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Client-matrix driver for the hoop regression suite (Apache Kafka Java client).
 * Command-line contract: see t/clients/README.md. Uses only public kafka-clients API.
 */
public final class HoopClient {

    static final long TS_BASE = 1700000000000L;
    static final String PAYLOAD_UNIT = "hoop-payload-";

    /** Exit codes shared by all drivers. */
    static final int EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_SHORT = 3;

    static final class Usage extends RuntimeException {
        Usage(String m) { super(m); }
    }

    /* ---------------------------------------------------------------- options */

    static final class Opts {
        String cmd;
        String bootstrap;
        String topic;
        String group;
        long count = -1;
        long first = 0;
        int payloadBytes = 100;
        String compression = "none";
        String acks = "all";
        boolean idempotent;
        String transactionalId;
        long timeoutMs = 30000;
        boolean debug;
        String clientId;
        String api = "describe-cluster";
        String groupProtocol;
        final List<String[]> props = new ArrayList<>();
        // authentication / TLS (see t/clients/README.md, "Authentication and TLS")
        String securityProtocol;
        String saslMechanism;
        String saslUser;
        String saslPassword;
        String saslPasswordFile;
        String tokenFile;
        String sslCa;
        String sslCert;
        String sslKey;
        String sslKeyPassword;
        String sslKeystore;
        String sslKeystorePassword;
        String sslTruststore;
        String sslTruststorePassword;
        boolean sslNoHostnameCheck;
    }

    static Opts parse(String[] args) {
        if (args.length == 0) throw new Usage("missing command (produce|consume|metadata)");
        Opts o = new Opts();
        o.cmd = args[0];
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) { v = a.substring(eq + 1); a = a.substring(0, eq); }
            switch (a) {
                case "--idempotent": o.idempotent = true; continue;
                case "--debug": o.debug = true; continue;
                case "--ssl-no-hostname-check": o.sslNoHostnameCheck = true; continue;
                default: break;
            }
            if (v == null) {
                if (i + 1 >= args.length) throw new Usage("option " + a + " needs a value");
                v = args[++i];
            }
            switch (a) {
                case "--bootstrap": o.bootstrap = v; break;
                case "--topic": o.topic = v; break;
                case "--group": o.group = v; break;
                case "--count": o.count = parseLong(a, v); break;
                case "--first": o.first = parseLong(a, v); break;
                case "--payload-bytes": o.payloadBytes = (int) parseLong(a, v); break;
                case "--compression": o.compression = v; break;
                case "--acks": o.acks = v; break;
                case "--transactional-id": o.transactionalId = v; break;
                case "--timeout-ms": o.timeoutMs = parseLong(a, v); break;
                case "--client-id": o.clientId = v; break;
                case "--api": o.api = v; break;
                case "--group-protocol": o.groupProtocol = v; break;
                case "--security-protocol": o.securityProtocol = v; break;
                case "--sasl-mechanism": o.saslMechanism = v; break;
                case "--sasl-user": o.saslUser = v; break;
                case "--sasl-password": o.saslPassword = v; break;
                case "--sasl-password-file": o.saslPasswordFile = v; break;
                case "--token-file": o.tokenFile = v; break;
                case "--ssl-ca": o.sslCa = v; break;
                case "--ssl-cert": o.sslCert = v; break;
                case "--ssl-key": o.sslKey = v; break;
                case "--ssl-key-password": o.sslKeyPassword = v; break;
                case "--ssl-keystore": o.sslKeystore = v; break;
                case "--ssl-keystore-password": o.sslKeystorePassword = v; break;
                case "--ssl-truststore": o.sslTruststore = v; break;
                case "--ssl-truststore-password": o.sslTruststorePassword = v; break;
                case "--prop": {
                    int e = v.indexOf('=');
                    if (e <= 0) throw new Usage("--prop needs KEY=VALUE, got " + v);
                    o.props.add(new String[] {v.substring(0, e), v.substring(e + 1)});
                    break;
                }
                default: throw new Usage("unknown option " + a);
            }
        }
        if (o.bootstrap == null) throw new Usage("--bootstrap is required");
        checkSecurity(o);
        return o;
    }

    static final List<String> PROTOCOLS = List.of("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL");
    static final List<String> MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER");

    /** Validates the authentication/TLS options and fills in the security protocol when not given. */
    static void checkSecurity(Opts o) {
        boolean ssl = o.sslCa != null || o.sslCert != null || o.sslKey != null
            || o.sslKeystore != null || o.sslTruststore != null || o.sslNoHostnameCheck;
        if (o.saslMechanism != null && !MECHANISMS.contains(o.saslMechanism))
            throw new Usage("--sasl-mechanism must be PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|OAUTHBEARER");
        if (o.securityProtocol == null) {
            if (o.saslMechanism != null) o.securityProtocol = ssl ? "SASL_SSL" : "SASL_PLAINTEXT";
            else if (ssl) o.securityProtocol = "SSL";
        } else if (!PROTOCOLS.contains(o.securityProtocol)) {
            throw new Usage("--security-protocol must be PLAINTEXT|SASL_PLAINTEXT|SSL|SASL_SSL");
        }
        boolean saslProto = o.securityProtocol != null && o.securityProtocol.startsWith("SASL_");
        if (saslProto && o.saslMechanism == null)
            throw new Usage("--security-protocol " + o.securityProtocol + " needs --sasl-mechanism");
        if (o.saslMechanism != null && !saslProto)
            throw new Usage("--sasl-mechanism needs --security-protocol SASL_PLAINTEXT or SASL_SSL");
        if ((o.sslCert == null) != (o.sslKey == null))
            throw new Usage("--ssl-cert and --ssl-key go together");
        if (o.sslCert != null && o.sslKeystore != null)
            throw new Usage("--ssl-keystore and --ssl-cert/--ssl-key exclude each other");
        if (o.sslCa != null && o.sslTruststore != null)
            throw new Usage("--ssl-truststore and --ssl-ca exclude each other");
        if (o.saslPassword != null && o.saslPasswordFile != null)
            throw new Usage("--sasl-password and --sasl-password-file exclude each other");
        if (o.saslMechanism == null) {
            if (o.saslUser != null || o.saslPassword != null || o.saslPasswordFile != null || o.tokenFile != null)
                throw new Usage("--sasl-user/--sasl-password/--token-file need --sasl-mechanism");
        } else if (o.saslMechanism.equals("OAUTHBEARER")) {
            if (o.tokenFile == null) throw new Usage("--sasl-mechanism OAUTHBEARER needs --token-file");
            if (o.saslUser != null || o.saslPassword != null || o.saslPasswordFile != null)
                throw new Usage("OAUTHBEARER takes --token-file, not --sasl-user/--sasl-password");
        } else {
            if (o.saslUser == null || (o.saslPassword == null && o.saslPasswordFile == null))
                throw new Usage("--sasl-mechanism " + o.saslMechanism
                    + " needs --sasl-user and --sasl-password (or --sasl-password-file)");
            if (o.tokenFile != null) throw new Usage("--token-file is for OAUTHBEARER only");
        }
    }

    /** A JAAS option value in double quotes. */
    static String jaasQuote(String v) {
        return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static String readFile(String path, String what) {
        try {
            return new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path)), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new Usage(what + " " + path + ": " + e);
        }
    }

    static String keystoreType(String path) {
        String l = path.toLowerCase(java.util.Locale.ROOT);
        return l.endsWith(".jks") ? "JKS" : l.endsWith(".pem") ? "PEM" : "PKCS12";
    }

    /** Kafka client properties for the authentication/TLS options (applied before --prop). */
    static void securityProps(Properties p, Opts o) {
        if (o.securityProtocol != null) p.put("security.protocol", o.securityProtocol);
        if (o.saslMechanism != null) {
            p.put("sasl.mechanism", o.saslMechanism);
            switch (o.saslMechanism) {
                case "PLAIN":
                case "SCRAM-SHA-256":
                case "SCRAM-SHA-512": {
                    String pw = o.saslPassword != null ? o.saslPassword
                        : readFile(o.saslPasswordFile, "--sasl-password-file").replaceAll("[\r\n]+$", "");
                    String module = o.saslMechanism.equals("PLAIN")
                        ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                        : "org.apache.kafka.common.security.scram.ScramLoginModule";
                    p.put("sasl.jaas.config", module + " required username=" + jaasQuote(o.saslUser)
                        + " password=" + jaasQuote(pw) + ";");
                    break;
                }
                case "OAUTHBEARER": {
                    String f = java.nio.file.Paths.get(o.tokenFile).toAbsolutePath().toString();
                    readFile(f, "--token-file");   // fail early (exit 2) when it cannot be read
                    p.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
                        + " required " + FileTokenLoginCallbackHandler.OPTION + "=" + jaasQuote(f) + ";");
                    p.put("sasl.login.callback.handler.class", FileTokenLoginCallbackHandler.class.getName());
                    break;
                }
                default: break;
            }
        }
        if (o.sslCa != null) {
            readFile(o.sslCa, "--ssl-ca");
            p.put("ssl.truststore.type", "PEM");
            p.put("ssl.truststore.location", o.sslCa);
        }
        if (o.sslTruststore != null) {
            p.put("ssl.truststore.type", keystoreType(o.sslTruststore));
            p.put("ssl.truststore.location", o.sslTruststore);
            if (o.sslTruststorePassword != null) p.put("ssl.truststore.password", o.sslTruststorePassword);
        }
        if (o.sslCert != null) {
            // Kafka's PEM key store: the chain and a PKCS#8 key, given as values
            String key = readFile(o.sslKey, "--ssl-key");
            if (!key.contains("-----BEGIN PRIVATE KEY-----") && !key.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
                throw new Usage("--ssl-key " + o.sslKey + ": the Java client needs a PKCS#8 key"
                    + " (BEGIN PRIVATE KEY; convert with: openssl pkcs8 -topk8 -nocrypt -in KEY)");
            p.put("ssl.keystore.type", "PEM");
            p.put("ssl.keystore.certificate.chain", readFile(o.sslCert, "--ssl-cert"));
            p.put("ssl.keystore.key", key);
            if (o.sslKeyPassword != null) p.put("ssl.key.password", o.sslKeyPassword);
        }
        if (o.sslKeystore != null) {
            p.put("ssl.keystore.type", keystoreType(o.sslKeystore));
            p.put("ssl.keystore.location", o.sslKeystore);
            if (o.sslKeystorePassword != null) p.put("ssl.keystore.password", o.sslKeystorePassword);
            String kp = o.sslKeyPassword != null ? o.sslKeyPassword : o.sslKeystorePassword;
            if (kp != null) p.put("ssl.key.password", kp);
        }
        if (o.sslNoHostnameCheck) p.put("ssl.endpoint.identification.algorithm", "");
    }

    static long parseLong(String opt, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Usage(opt + " needs a number, got " + v);
        }
    }

    static void need(Object v, String opt) {
        if (v == null || (v instanceof Long && (Long) v < 0)) throw new Usage(opt + " is required");
    }

    /* ---------------------------------------------------------------- JSON output */

    static String js(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /* ---------------------------------------------------------------- records */

    static String payload(int n) {
        StringBuilder b = new StringBuilder(n + PAYLOAD_UNIT.length());
        while (b.length() < n) b.append(PAYLOAD_UNIT);
        b.setLength(n);
        return b.toString();
    }

    static Properties baseProps(Opts o) {
        Properties p = new Properties();
        p.put("bootstrap.servers", o.bootstrap);
        if (o.clientId != null) p.put("client.id", o.clientId);
        securityProps(p, o);
        return p;
    }

    static void userProps(Properties p, Opts o) {
        for (String[] kv : o.props) p.put(kv[0], kv[1]);
    }

    /* ---------------------------------------------------------------- produce */

    static int produce(Opts o) throws Exception {
        need(o.topic, "--topic");
        need(o.count, "--count");
        if (!List.of("none", "gzip", "snappy", "lz4", "zstd").contains(o.compression))
            throw new Usage("--compression must be none|gzip|snappy|lz4|zstd");
        if (!List.of("all", "1", "0", "-1").contains(o.acks))
            throw new Usage("--acks must be all|1|0");

        org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer;
        Properties p = baseProps(o);
        p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        p.put("compression.type", o.compression);
        p.put("acks", o.acks);
        boolean idem = o.idempotent || o.transactionalId != null;
        p.put("enable.idempotence", Boolean.toString(idem));
        if (o.transactionalId != null) p.put("transactional.id", o.transactionalId);
        int reqTimeout = (int) Math.max(1000, Math.min(30000, o.timeoutMs));
        p.put("request.timeout.ms", Integer.toString(reqTimeout));
        p.put("max.block.ms", Long.toString(o.timeoutMs));
        p.put("linger.ms", "5");
        p.put("delivery.timeout.ms", Long.toString(Math.max(o.timeoutMs, reqTimeout + 5)));
        userProps(p, o);

        producer = new org.apache.kafka.clients.producer.KafkaProducer<>(p);
        AtomicReference<Exception> failure = new AtomicReference<>();
        long acked;
        try {
            if (o.transactionalId != null) {
                producer.initTransactions();
                producer.beginTransaction();
            }
            String pl = payload(o.payloadBytes);
            final long[] ok = {0};
            for (long i = o.first; i < o.first + o.count; i++) {
                List<org.apache.kafka.common.header.Header> hs = List.of(
                    new org.apache.kafka.common.header.internals.RecordHeader("h1", bytes("a-" + i)),
                    new org.apache.kafka.common.header.internals.RecordHeader("h2", bytes("b")));
                org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> r =
                    new org.apache.kafka.clients.producer.ProducerRecord<>(
                        o.topic, null, TS_BASE + i, bytes("key-" + i), bytes("value-" + i + "-" + pl), hs);
                producer.send(r, (md, ex) -> {
                    if (ex != null) failure.compareAndSet(null, ex);
                    else synchronized (ok) { ok[0]++; }
                });
                if (failure.get() != null) break;
            }
            producer.flush();
            if (o.transactionalId != null) {
                if (failure.get() == null) producer.commitTransaction();
                else producer.abortTransaction();
            }
            synchronized (ok) { acked = ok[0]; }
        } finally {
            producer.close(Duration.ofSeconds(10));
        }
        if (failure.get() != null) {
            System.err.println("produce failed: " + failure.get());
            return EXIT_ERROR;
        }
        if (acked != o.count) {
            System.err.println("produce: only " + acked + " of " + o.count + " records acknowledged");
            return EXIT_ERROR;
        }
        System.out.println("{\"produced\":" + acked + "}");
        return 0;
    }

    /* ---------------------------------------------------------------- consume */

    static int consume(Opts o) throws Exception {
        need(o.topic, "--topic");
        need(o.group, "--group");
        need(o.count, "--count");
        Properties p = baseProps(o);
        p.put("group.id", o.group);
        p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        if (o.groupProtocol != null) p.put("group.protocol", o.groupProtocol);
        userProps(p, o);

        PrintWriter out = new PrintWriter(new BufferedWriter(
            new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
        long got = 0;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.timeoutMs);
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> commit =
            new HashMap<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c =
                 new org.apache.kafka.clients.consumer.KafkaConsumer<>(p)) {
            c.subscribe(List.of(o.topic));
            while (got < o.count) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) break;
                org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> recs =
                    c.poll(Duration.ofMillis(Math.min(left, 1000)));
                for (org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> r : recs) {
                    if (got >= o.count) break;
                    StringBuilder b = new StringBuilder(256);
                    b.append("{\"partition\":").append(r.partition())
                     .append(",\"offset\":").append(r.offset())
                     .append(",\"key\":").append(js(str(r.key())))
                     .append(",\"value\":").append(js(str(r.value())))
                     .append(",\"headers\":{");
                    Map<String, String> hs = new LinkedHashMap<>();
                    for (org.apache.kafka.common.header.Header h : r.headers()) hs.put(h.key(), str(h.value()));
                    boolean firstH = true;
                    for (Map.Entry<String, String> e : hs.entrySet()) {
                        if (!firstH) b.append(',');
                        firstH = false;
                        b.append(js(e.getKey())).append(':').append(js(e.getValue()));
                    }
                    b.append("},\"timestamp\":").append(r.timestamp()).append('}');
                    out.println(b);
                    commit.put(new org.apache.kafka.common.TopicPartition(r.topic(), r.partition()),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1));
                    got++;
                }
                out.flush();
            }
            if (!commit.isEmpty()) c.commitSync(commit, Duration.ofMillis(Math.max(o.timeoutMs, 10000)));
        } finally {
            out.flush();
        }
        if (got < o.count) {
            System.err.println("consume: got " + got + " of " + o.count + " records within " + o.timeoutMs + " ms");
            return EXIT_SHORT;
        }
        return 0;
    }

    /* ---------------------------------------------------------------- metadata */

    static int metadata(Opts o) throws Exception {
        Map<Integer, org.apache.kafka.common.Node> nodes = new TreeMap<>();
        Properties p = baseProps(o);
        int t = (int) Math.max(1000, Math.min(Integer.MAX_VALUE, o.timeoutMs));
        switch (o.api) {
            case "describe-cluster": {
                p.put("request.timeout.ms", Integer.toString(Math.min(t, 30000)));
                p.put("default.api.timeout.ms", Integer.toString(t));
                userProps(p, o);
                try (org.apache.kafka.clients.admin.Admin a = org.apache.kafka.clients.admin.Admin.create(p)) {
                    for (org.apache.kafka.common.Node n :
                         a.describeCluster().nodes().get(o.timeoutMs, TimeUnit.MILLISECONDS))
                        nodes.put(n.id(), n);
                }
                break;
            }
            case "metadata": {
                // Metadata RPC as producers/consumers use it: brokers seen as partition leaders/replicas.
                p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                p.put("default.api.timeout.ms", Integer.toString(t));
                userProps(p, o);
                try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c =
                         new org.apache.kafka.clients.consumer.KafkaConsumer<>(p)) {
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(t);
                    do {
                        // A topic that is being auto-created has no partitions yet: ask again.
                        Collection<List<org.apache.kafka.common.PartitionInfo>> parts = o.topic != null
                            ? List.of(c.partitionsFor(o.topic, Duration.ofMillis(t)))
                            : c.listTopics(Duration.ofMillis(t)).values();
                        for (List<org.apache.kafka.common.PartitionInfo> l : parts)
                            for (org.apache.kafka.common.PartitionInfo pi : l) {
                                if (pi.leader() != null && !pi.leader().isEmpty())
                                    nodes.put(pi.leader().id(), pi.leader());
                                for (org.apache.kafka.common.Node n : pi.replicas())
                                    if (!n.isEmpty()) nodes.put(n.id(), n);
                            }
                        if (!nodes.isEmpty() || o.topic == null) break;
                        Thread.sleep(200);
                    } while (System.nanoTime() < deadline);
                }
                break;
            }
            default:
                throw new Usage("--api must be describe-cluster|metadata");
        }
        StringBuilder b = new StringBuilder("[");
        for (org.apache.kafka.common.Node n : nodes.values()) {
            if (b.length() > 1) b.append(',');
            b.append("{\"id\":").append(n.id()).append(",\"host\":").append(js(n.host()))
             .append(",\"port\":").append(n.port()).append('}');
        }
        System.out.println(b.append(']'));
        return 0;
    }

    /* ---------------------------------------------------------------- main */

    static void setupLogging(boolean debug) {
        // slf4j-simple reads these once, when the first logger is created (before any Kafka class loads).
        String env = System.getenv("HOOP_CLIENT_DEBUG");
        if (env != null && !env.isEmpty() && !env.equals("0")) debug = true;
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", debug ? "debug" : "warn");
        if (debug) System.setProperty("hoop.debug", "true");
    }

    public static void main(String[] args) {
        int rc;
        try {
            boolean debug = false;
            for (String a : args) if (a.equals("--debug")) debug = true;
            setupLogging(debug);
            Opts o = parse(args);
            switch (o.cmd) {
                case "produce": rc = produce(o); break;
                case "consume": rc = consume(o); break;
                case "metadata": rc = metadata(o); break;
                default: throw new Usage("unknown command " + o.cmd + " (produce|consume|metadata)");
            }
        } catch (Usage u) {
            System.err.println("usage error: " + u.getMessage());
            rc = EXIT_USAGE;
        } catch (Throwable t) {
            Throwable c = t;
            if (t instanceof java.util.concurrent.ExecutionException && t.getCause() != null) c = t.getCause();
            System.err.println("error: " + c);
            rc = EXIT_ERROR;
        }
        System.out.flush();
        // System.exit, not halt: snappy-java and lz4-java delete their extracted native
        // libraries from java.io.tmpdir in deleteOnExit/shutdown hooks.
        System.exit(rc);
    }
}
