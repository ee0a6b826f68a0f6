package hoop;

import java.io.BufferedReader;
import java.io.FileReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Equivalence driver (t/071-policy-equivalence.t): runs a script of client
 * operations with the Java client and prints one JSON line per operation:
 * {"id":ID,"result":"OK"|KAFKA_ERROR_NAME,"detail":{...}}.  The result is the
 * Kafka error the client library reported (Errors.forException), so the same
 * script run against a broker and against the gateway can be compared.
 *
 * Script (whitespace separated, '#' comments):
 *   as NAME CERT KEY            following operations authenticate with this
 *                               client certificate (mTLS); --ssl-ca trusts
 *   ID OP ARG...                one operation (see run() for the list)
 *
 * Usage: Equiv --bootstrap HOST:PORT --ssl-ca CA.pem --script FILE
 */
public final class Equiv {

    static final long TIMEOUT_MS = 10000;

    static String bootstrap, sslCa;
    static Properties principal;
    static Admin admin;

    /* ---------------------------------------------------------------- outcome */

    static final class Out {
        final String result;
        final String detail;
        Out(String r, String d) { result = r; detail = d; }
    }

    static Out ok(String detail) { return new Out("OK", detail); }

    /** The Kafka error name of a client exception (cause chain unwrapped). */
    static String err(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ApiException) return Errors.forException(c).name();
        }
        Throwable root = t;
        while (root.getCause() != null) root = root.getCause();
        return "EXCEPTION:" + root.getClass().getSimpleName();
    }

    static <T> T get(KafkaFuture<T> f) throws Exception {
        return f.get(TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS);
    }

    /** A JSON object from an ordered map of already-encoded values. */
    static String obj(Map<String, String> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (b.length() > 1) b.append(',');
            b.append(HoopClient.js(e.getKey())).append(':').append(e.getValue());
        }
        return b.append('}').toString();
    }

    static String arr(Collection<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (String s : new TreeSet<>(items)) {
            if (b.length() > 1) b.append(',');
            b.append(HoopClient.js(s));
        }
        return b.append(']').toString();
    }

    static String ops(Set<AclOperation> s) {
        if (s == null) return "null";
        List<String> l = new ArrayList<>();
        for (AclOperation o : s) l.add(o.name());
        return arr(l);
    }

    /** Per-entry outcomes of a multi-resource call: OK when all are, else the first error by name. */
    static Out perEntry(Map<String, String> results, Map<String, String> details) {
        String first = "OK";
        for (Map.Entry<String, String> e : new TreeMap<>(results).entrySet()) {
            if (!e.getValue().equals("OK")) { first = e.getValue(); break; }
        }
        Map<String, String> d = new TreeMap<>();
        for (Map.Entry<String, String> e : results.entrySet()) {
            String x = details.get(e.getKey());
            d.put(e.getKey(), x != null ? x : HoopClient.js(e.getValue()));
        }
        return new Out(first, obj(d));
    }

    /** Waits for each entry's future: OK or its error, and det(value) as the detail when OK. */
    static Out each(Map<String, ? extends KafkaFuture<?>> fs, java.util.function.Function<Object, String> det) {
        Map<String, String> r = new HashMap<>(), d = new HashMap<>();
        for (var e : fs.entrySet()) {
            try {
                Object v = get(e.getValue());
                r.put(e.getKey(), "OK");
                if (det != null) d.put(e.getKey(), det.apply(v));
            } catch (Exception x) {
                r.put(e.getKey(), err(x));
            }
        }
        return perEntry(r, d);
    }

    static List<String> rest(String[] a, int from) {
        return List.of(java.util.Arrays.copyOfRange(a, from, a.length));
    }

    static ConfigResource resource(String typeColonName) {
        int c = typeColonName.indexOf(':');
        String t = typeColonName.substring(0, c), n = typeColonName.substring(c + 1);
        return new ConfigResource(t.equals("topic") ? ConfigResource.Type.TOPIC
            : t.equals("group") ? ConfigResource.Type.GROUP : ConfigResource.Type.BROKER, n);
    }

    /* ---------------------------------------------------------------- clients */

    static Properties props() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.putAll(principal);
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", Long.toString(TIMEOUT_MS));
        p.put("reconnect.backoff.max.ms", "500");
        return p;
    }

    static Admin admin() {
        if (admin == null) admin = Admin.create(props());
        return admin;
    }

    static KafkaProducer<byte[], byte[]> producer(String acks, boolean idem, String txid) {
        return producer(acks, idem, txid, 0);
    }

    static KafkaProducer<byte[], byte[]> producer(String acks, boolean idem, String txid, int lingerMs) {
        Properties p = props();
        p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        p.put("acks", acks);
        p.put("enable.idempotence", Boolean.toString(idem));
        p.put("max.block.ms", Long.toString(TIMEOUT_MS));
        p.put("delivery.timeout.ms", Long.toString(TIMEOUT_MS));
        p.put("linger.ms", Integer.toString(lingerMs));
        p.put("retries", idem ? "2147483647" : "0");
        if (txid != null) {
            p.put("transactional.id", txid);
            p.put("transaction.timeout.ms", "30000");
        }
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<byte[], byte[]> consumer(String group, String protocol) {
        Properties p = props();
        p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        if (group != null) {
            p.put("group.id", group);
            p.put("group.protocol", protocol);
            if (protocol.equals("classic")) p.put("heartbeat.interval.ms", "200");
        }
        return new KafkaConsumer<>(p);
    }

    static ProducerRecord<byte[], byte[]> record(String topic, String key) {
        return new ProducerRecord<>(topic, 0, HoopClient.bytes(key), HoopClient.bytes("value-" + key));
    }

    /* ---------------------------------------------------------------- operations */

    static Out produce(String topic, String acks, boolean idem) {
        try (KafkaProducer<byte[], byte[]> p = producer(acks, idem, null)) {
            var md = p.send(record(topic, "k")).get(TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS);
            return ok("{\"partition\":" + md.partition() + "}");
        } catch (Exception e) {
            return new Out(err(e), "null");
        }
    }

    /** topics and offsetTopics: comma-separated; a record to each topic, offset 1 of each offset topic. */
    static Out produceTxn(String txid, String topics, String group, String offsetTopics) {
        String stage = "init";
        KafkaProducer<byte[], byte[]> p = null;
        try {
            p = producer("all", true, txid);
            p.initTransactions();
            stage = "begin";
            p.beginTransaction();
            stage = "send";
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (String t : topics.split(",")) sent.add(p.send(record(t, "txn")));
            for (var f : sent) f.get(TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS);
            stage = "offsets";
            Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
            for (String t : offsetTopics.split(",")) offs.put(new TopicPartition(t, 0), new OffsetAndMetadata(1));
            p.sendOffsetsToTransaction(offs, new ConsumerGroupMetadata(group));
            stage = "commit";
            p.commitTransaction();
            return ok("{\"stage\":\"done\"}");
        } catch (Exception e) {
            return new Out(err(e), "{\"stage\":\"" + stage + "\"}");
        } finally {
            if (p != null) p.close(Duration.ofSeconds(2));
        }
    }

    static Out consumeGroup(String topic, String group, int n, String protocol) {
        int got = 0;
        String stage = "poll";
        try (KafkaConsumer<byte[], byte[]> c = consumer(group, protocol)) {
            // re:REGEX matched by the client over Metadata; re2:REGEX sent to the group
            // coordinator (KIP-848 SubscribedTopicRegex, RE2/J syntax)
            if (topic.startsWith("re:")) c.subscribe(java.util.regex.Pattern.compile(topic.substring(3)));
            else if (topic.startsWith("re2:"))
                c.subscribe(new org.apache.kafka.clients.consumer.SubscriptionPattern(topic.substring(4)));
            else c.subscribe(List.of(topic));
            topic = topic.replaceFirst("^re2?:", "").replace("\\.", ".");
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS + 5000);
            while (got < n && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(200));
                got += rs.count();
            }
            stage = "commit";
            c.commitSync(Duration.ofMillis(TIMEOUT_MS));
            stage = "committed";
            TopicPartition tp = new TopicPartition(topic, 0);
            OffsetAndMetadata om = c.committed(Set.of(tp), Duration.ofMillis(TIMEOUT_MS)).get(tp);
            return ok("{\"records\":" + got + ",\"committed\":" + (om == null ? -1 : om.offset()) + "}");
        } catch (Exception e) {
            return new Out(err(e), "{\"stage\":\"" + stage + "\",\"records\":" + got + "}");
        }
    }

    /** From the beginning, or from offset with its leader epoch (validated: OffsetForLeaderEpoch). */
    static Out consumeAssign(String topic, int n, long offset, int epoch) {
        int got = 0;
        try (KafkaConsumer<byte[], byte[]> c = consumer(null, null)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            if (offset < 0) c.seekToBeginning(List.of(tp));
            else c.seek(tp, new OffsetAndMetadata(offset, Optional.of(epoch), ""));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (got < n && System.nanoTime() < deadline) got += c.poll(Duration.ofMillis(200)).count();
            return ok("{\"records\":" + got + "}");
        } catch (Exception e) {
            return new Out(err(e), "{\"records\":" + got + "}");
        }
    }

    static Out run(String op, String[] a) throws Exception {
        Admin ad;
        switch (op) {
            case "list-topics": {
                Set<String> names = get(admin().listTopics().names());
                return ok(arr(names));
            }
            case "describe-topics": {
                List<String> topics = List.of(a);
                var res = admin().describeTopics(TopicCollection.ofTopicNames(topics),
                    new org.apache.kafka.clients.admin.DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .topicNameValues();
                Map<String, String> r = new HashMap<>(), d = new HashMap<>();
                for (String t : topics) {
                    try {
                        var td = get(res.get(t));
                        r.put(t, "OK");
                        d.put(t, "{\"partitions\":" + td.partitions().size()
                            + ",\"ops\":" + ops(td.authorizedOperations()) + "}");
                    } catch (Exception e) {
                        r.put(t, err(e));
                    }
                }
                return perEntry(r, d);
            }
            case "metadata-autocreate": {   // a producer's Metadata, which may create the topic
                try (KafkaProducer<byte[], byte[]> p = producer("all", false, null)) {
                    return ok("{\"partitions\":" + p.partitionsFor(a[0]).size() + "}");
                }
            }
            case "produce": return produce(a[0], a[1], false);
            case "produce-multi": {     // ACKS T...: a record to each topic, in one Produce request
                Map<String, String> r = new java.util.concurrent.ConcurrentHashMap<>();
                try (KafkaProducer<byte[], byte[]> p = producer(a[0], false, null, 200)) {
                    for (String t : rest(a, 1))
                        p.send(record(t, "multi"), (md, ex) -> r.put(t, ex == null ? "OK" : err(ex)));
                    p.flush();
                }
                return perEntry(r, Map.of());
            }
            case "produce-idempotent": return produce(a[0], "all", true);
            case "produce-txn": return produceTxn(a[0], a[1], a[2], a[3]);
            case "consume-group": return consumeGroup(a[0], a[1], Integer.parseInt(a[2]), a[3]);
            case "consume-assign": return consumeAssign(a[0], Integer.parseInt(a[1]),
                a.length > 2 ? Long.parseLong(a[2]) : -1, a.length > 3 ? Integer.parseInt(a[3]) : 0);
            case "list-offsets": {
                TopicPartition tp = new TopicPartition(a[0], 0);
                ad = admin();
                long lo = get(ad.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp)).offset();
                long hi = get(ad.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)).offset();
                return ok("{\"earliest\":" + lo + ",\"latest\":" + hi + "}");
            }
            case "list-group-offsets": {
                Map<TopicPartition, OffsetAndMetadata> m =
                    get(admin().listConsumerGroupOffsets(a[0]).partitionsToOffsetAndMetadata());
                Map<String, String> d = new TreeMap<>();
                for (var e : m.entrySet()) d.put(e.getKey().toString(), e.getValue() == null ? "null"
                    : Long.toString(e.getValue().offset()));
                return ok(obj(d));
            }
            case "alter-group-offsets": {   // GROUP T OFFSET [T OFFSET]...
                Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
                for (int i = 1; i + 1 < a.length; i += 2)
                    m.put(new TopicPartition(a[i], 0), new OffsetAndMetadata(Long.parseLong(a[i + 1])));
                var r = admin().alterConsumerGroupOffsets(a[0], m);
                if (m.size() == 1) {
                    get(r.all());
                    return ok("null");
                }
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (TopicPartition tp : m.keySet()) fs.put(tp.toString(), r.partitionResult(tp));
                return each(fs, null);
            }
            case "delete-group-offsets": {
                get(admin().deleteConsumerGroupOffsets(a[0], Set.of(new TopicPartition(a[1], 0))).all());
                return ok("null");
            }
            case "describe-groups": {
                var res = admin().describeConsumerGroups(List.of(a),
                    new org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions()
                        .includeAuthorizedOperations(true)).describedGroups();
                Map<String, String> r = new HashMap<>(), d = new HashMap<>();
                for (String g : a) {
                    try {
                        var gd = get(res.get(g));
                        r.put(g, "OK");
                        d.put(g, "{\"state\":" + HoopClient.js(gd.groupState().toString())
                            + ",\"type\":" + HoopClient.js(gd.type().toString())
                            + ",\"members\":" + gd.members().size()
                            + ",\"ops\":" + ops(gd.authorizedOperations()) + "}");
                    } catch (Exception e) {
                        r.put(g, err(e));
                    }
                }
                return perEntry(r, d);
            }
            case "list-groups": {
                List<String> l = new ArrayList<>();
                for (var g : get(admin().listGroups().all())) l.add(g.groupId());
                return ok(arr(l));
            }
            case "delete-groups": {
                var res = admin().deleteConsumerGroups(List.of(a)).deletedGroups();
                Map<String, String> r = new HashMap<>();
                for (String g : a) {
                    try {
                        get(res.get(g));
                        r.put(g, "OK");
                    } catch (Exception e) {
                        r.put(g, err(e));
                    }
                }
                return perEntry(r, Map.of());
            }
            case "create-topics": {     // PARTITIONS T...
                List<NewTopic> l = new ArrayList<>();
                for (String t : rest(a, 1)) l.add(new NewTopic(t, Integer.parseInt(a[0]), (short) 1));
                return each(admin().createTopics(l).values(), null);
            }
            case "topic-id":    // T: the topic's id (set-up)
                return ok("{\"id\":" + HoopClient.js(get(admin().describeTopics(List.of(a[0])).allTopicNames())
                    .get(a[0]).topicId().toString()) + "}");
            case "delete-topics-by-id": {   // ID... (KIP-516: DeleteTopics v6 by id)
                List<org.apache.kafka.common.Uuid> ids = new ArrayList<>();
                for (String x : a) ids.add(org.apache.kafka.common.Uuid.fromString(x));
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (var e : admin().deleteTopics(TopicCollection.ofTopicIds(ids)).topicIdValues().entrySet())
                    fs.put(e.getKey().toString(), e.getValue());
                return each(fs, null);
            }
            case "describe-topics-by-id": {     // ID... (Metadata by topic id)
                List<org.apache.kafka.common.Uuid> ids = new ArrayList<>();
                for (String x : a) ids.add(org.apache.kafka.common.Uuid.fromString(x));
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (var e : admin().describeTopics(TopicCollection.ofTopicIds(ids)).topicIdValues().entrySet())
                    fs.put(e.getKey().toString(), e.getValue());
                return each(fs, v -> HoopClient.js(((org.apache.kafka.clients.admin.TopicDescription) v).name()));
            }
            case "delete-topics":
                return each(admin().deleteTopics(rest(a, 0)).topicNameValues(), null);
            case "list-offsets-latest": {   // T...: the latest offset of partition 0 of each
                Map<TopicPartition, OffsetSpec> m = new HashMap<>();
                for (String t : a) m.put(new TopicPartition(t, 0), OffsetSpec.latest());
                var r = admin().listOffsets(m);
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (TopicPartition tp : m.keySet()) fs.put(tp.toString(), r.partitionResult(tp));
                return each(fs, v -> Long.toString(
                    ((org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo) v).offset()));
            }
            case "delete-records-multi": {  // OFFSET T...
                Map<TopicPartition, RecordsToDelete> m = new HashMap<>();
                for (String t : rest(a, 1))
                    m.put(new TopicPartition(t, 0), RecordsToDelete.beforeOffset(Long.parseLong(a[0])));
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (var e : admin().deleteRecords(m).lowWatermarks().entrySet()) fs.put(e.getKey().toString(), e.getValue());
                return each(fs, v -> Long.toString(((org.apache.kafka.clients.admin.DeletedRecords) v).lowWatermark()));
            }
            case "describe-configs-multi": {    // TYPE:NAME...
                List<ConfigResource> l = new ArrayList<>();
                for (String r : a) l.add(resource(r));
                Map<String, KafkaFuture<?>> fs = new HashMap<>();
                for (var e : admin().describeConfigs(l).values().entrySet())
                    fs.put(e.getKey().type() + ":" + e.getKey().name(), e.getValue());
                return each(fs, null);
            }
            case "list-group-offsets-of": {     // GROUP T...: the committed offsets of those topics' partition 0
                List<TopicPartition> tps = new ArrayList<>();
                for (String t : rest(a, 1)) tps.add(new TopicPartition(t, 0));
                Map<TopicPartition, OffsetAndMetadata> m = get(admin().listConsumerGroupOffsets(Map.of(a[0],
                    new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec().topicPartitions(tps)))
                    .partitionsToOffsetAndMetadata(a[0]));
                Map<String, String> d = new TreeMap<>();
                for (var e : m.entrySet()) d.put(e.getKey().toString(), e.getValue() == null ? "null"
                    : Long.toString(e.getValue().offset()));
                return ok(obj(d));
            }
            case "create-topic": {
                get(admin().createTopics(List.of(new NewTopic(a[0], Integer.parseInt(a[1]), (short) 1))).all());
                return ok("null");
            }
            case "create-partitions": {
                get(admin().createPartitions(Map.of(a[0], NewPartitions.increaseTo(Integer.parseInt(a[1])))).all());
                return ok("null");
            }
            case "delete-topic": {
                get(admin().deleteTopics(List.of(a[0])).all());
                return ok("null");
            }
            case "delete-records": {
                TopicPartition tp = new TopicPartition(a[0], 0);
                long low = get(admin().deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(Long.parseLong(a[1]))))
                    .lowWatermarks().get(tp)).lowWatermark();
                return ok("{\"low_watermark\":" + low + "}");
            }
            case "describe-configs": {
                ConfigResource cr = new ConfigResource(a[0].equals("topic") ? ConfigResource.Type.TOPIC
                    : a[0].equals("group") ? ConfigResource.Type.GROUP : ConfigResource.Type.BROKER, a[1]);
                var c = get(admin().describeConfigs(List.of(cr)).all()).get(cr);
                ConfigEntry e = c.get(a.length > 2 ? a[2] : "cleanup.policy");
                return ok("{\"value\":" + HoopClient.js(e == null ? null : e.value()) + "}");
            }
            case "alter-configs": {
                ConfigResource cr = new ConfigResource(a[0].equals("topic") ? ConfigResource.Type.TOPIC
                    : ConfigResource.Type.BROKER, a[1]);
                get(admin().incrementalAlterConfigs(Map.of(cr, List.of(new AlterConfigOp(
                    new ConfigEntry(a[2], a[3]), AlterConfigOp.OpType.SET)))).all());
                return ok("null");
            }
            case "describe-producers": {
                TopicPartition tp = new TopicPartition(a[0], 0);
                var s = get(admin().describeProducers(List.of(tp)).partitionResult(tp));
                return ok("{\"producers\":" + s.activeProducers().size() + "}");
            }
            case "describe-transactions": {
                var d = get(admin().describeTransactions(List.of(a[0])).description(a[0]));
                List<String> tps = new ArrayList<>();
                for (TopicPartition tp : d.topicPartitions()) tps.add(tp.toString());
                return ok("{\"state\":" + HoopClient.js(d.state().toString()) + ",\"partitions\":" + arr(tps) + "}");
            }
            case "list-transactions": {
                List<String> l = new ArrayList<>();
                for (var t : get(admin().listTransactions().all())) l.add(t.transactionalId());
                return ok(arr(l));
            }
            case "fence-producers": {
                get(admin().fenceProducers(List.of(a[0])).all());
                return ok("null");
            }
            case "describe-cluster": {
                var r = admin().describeCluster(new org.apache.kafka.clients.admin.DescribeClusterOptions()
                    .includeAuthorizedOperations(true));
                int nodes = get(r.nodes()).size();
                return ok("{\"nodes\":" + nodes + ",\"ops\":" + ops(get(r.authorizedOperations())) + "}");
            }
            case "describe-acls": {
                get(admin().describeAcls(AclBindingFilter.ANY).values());
                return ok("null");
            }
            case "create-acls": {
                get(admin().createAcls(List.of(new AclBinding(
                    new ResourcePattern(ResourceType.TOPIC, a[0], PatternType.LITERAL),
                    new AccessControlEntry("User:" + a[1], "*", AclOperation.READ, AclPermissionType.ALLOW)))).all());
                return ok("null");
            }
            case "delete-acls": {    // delete-acls PRINCIPAL: every ACL of User:PRINCIPAL
                var r = get(admin().deleteAcls(List.of(new AclBindingFilter(
                    org.apache.kafka.common.resource.ResourcePatternFilter.ANY,
                    new org.apache.kafka.common.acl.AccessControlEntryFilter("User:" + a[0], null,
                        AclOperation.ANY, AclPermissionType.ANY)))).all());
                return ok("{\"deleted\":" + r.size() + "}");
            }
            case "alter-replica-log-dirs": {    // TOPIC DIR: move replica 0 on broker 1
                var r = admin().alterReplicaLogDirs(Map.of(
                    new org.apache.kafka.common.TopicPartitionReplica(a[0], 0, 1), a[1])).values();
                Map<String, String> res = new HashMap<>();
                for (var e : r.entrySet()) {
                    try {
                        get(e.getValue());
                        res.put(e.getKey().toString(), "OK");
                    } catch (Exception x) {
                        res.put(e.getKey().toString(), err(x));
                    }
                }
                return perEntry(res, Map.of());
            }
            case "alter-user-scram": {  // USER: delete a SCRAM-SHA-256 credential
                get(admin().alterUserScramCredentials(List.of(
                    new org.apache.kafka.clients.admin.UserScramCredentialDeletion(a[0],
                        org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256))).all());
                return ok("null");
            }
            case "update-features": {   // FEATURE LEVEL, validate only
                get(admin().updateFeatures(Map.of(a[0], new org.apache.kafka.clients.admin.FeatureUpdate(
                        Short.parseShort(a[1]), org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.UPGRADE)),
                    new org.apache.kafka.clients.admin.UpdateFeaturesOptions().validateOnly(true)).all());
                return ok("null");
            }
            case "unregister-broker": {
                get(admin().unregisterBroker(Integer.parseInt(a[0])).all());
                return ok("null");
            }
            case "describe-log-dirs": {
                get(admin().describeLogDirs(List.of(Integer.parseInt(a[0]))).allDescriptions());
                return ok("null");
            }
            case "list-partition-reassignments": {
                get(admin().listPartitionReassignments().reassignments());
                return ok("null");
            }
            case "alter-partition-reassignments": {
                get(admin().alterPartitionReassignments(Map.of(new TopicPartition(a[0], 0),
                    Optional.empty())).all());
                return ok("null");
            }
            case "describe-user-scram": {
                get(admin().describeUserScramCredentials().all());
                return ok("null");
            }
            case "describe-client-quotas": {
                get(admin().describeClientQuotas(ClientQuotaFilter.all()).entities());
                return ok("null");
            }
            case "alter-client-quotas": {
                ClientQuotaEntity ent = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, a[0]));
                get(admin().alterClientQuotas(List.of(new ClientQuotaAlteration(ent,
                    List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1048576.0))))).all());
                return ok("null");
            }
            case "elect-leaders": {
                var r = get(admin().electLeaders(org.apache.kafka.common.ElectionType.PREFERRED,
                    Set.of(new TopicPartition(a[0], 0))).partitions());
                Map<String, String> res = new HashMap<>();
                for (var e : r.entrySet())
                    res.put(e.getKey().toString(), e.getValue().isPresent() ? err(e.getValue().get()) : "OK");
                return perEntry(res, Map.of());
            }
            case "list-config-resources": {
                get(admin().listConfigResources(Set.of(ConfigResource.Type.CLIENT_METRICS),
                    new org.apache.kafka.clients.admin.ListConfigResourcesOptions()).all());
                return ok("null");
            }
            /* set-up and clean-up, run as a principal with full rights */
            case "acl": {   // acl ALLOW|DENY PRINCIPAL TYPE LITERAL|PREFIXED NAME OPERATION
                get(admin().createAcls(List.of(new AclBinding(
                    new ResourcePattern(ResourceType.fromString(a[2]), a[4], PatternType.fromString(a[3])),
                    new AccessControlEntry(a[1], "*", AclOperation.fromString(a[5]),
                        AclPermissionType.fromString(a[0]))))).all());
                return ok("null");
            }
            case "seed": {  // seed TOPIC N: N records to partition 0
                try (KafkaProducer<byte[], byte[]> p = producer("all", false, null)) {
                    for (int i = 0; i < Integer.parseInt(a[1]); i++)
                        p.send(record(a[0], "seed-" + i)).get(TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS);
                }
                return ok("null");
            }
            case "await-topic": {   // await-topic TOPIC: until the current principal may describe it
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) {
                    try {
                        get(admin().describeTopics(List.of(a[0])).allTopicNames());
                        return ok("null");
                    } catch (Exception e) {
                        if (System.nanoTime() > deadline) throw e;
                        Thread.sleep(100);
                    }
                }
            }
            case "cleanup": {   // cleanup PREFIX PRINCIPAL...: topics and groups PREFIX.*, ACLs of the principals
                ad = admin();
                List<AclBindingFilter> fs = new ArrayList<>();
                for (int i = 1; i < a.length; i++)
                    fs.add(new AclBindingFilter(org.apache.kafka.common.resource.ResourcePatternFilter.ANY,
                        new org.apache.kafka.common.acl.AccessControlEntryFilter(a[i], null,
                            AclOperation.ANY, AclPermissionType.ANY)));
                get(ad.deleteAcls(fs).all());
                List<String> topics = new ArrayList<>();
                for (String t : get(ad.listTopics().names())) if (t.startsWith(a[0] + ".")) topics.add(t);
                if (!topics.isEmpty()) get(ad.deleteTopics(topics).all());
                List<String> groups = new ArrayList<>();
                for (var g : get(ad.listGroups().all())) if (g.groupId().startsWith(a[0] + ".")) groups.add(g.groupId());
                if (!groups.isEmpty()) {
                    try {
                        get(ad.deleteConsumerGroups(groups).all());
                    } catch (Exception e) {
                        return new Out(err(e), "null");
                    }
                }
                return ok("{\"topics\":" + topics.size() + ",\"groups\":" + groups.size() + "}");
            }
            default:
                throw new HoopClient.Usage("unknown operation " + op);
        }
    }

    /* ---------------------------------------------------------------- main */

    static void as(String cert, String key) {
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
            admin = null;
        }
        HoopClient.Opts o = new HoopClient.Opts();
        o.sslCa = sslCa;
        o.sslCert = cert;
        o.sslKey = key;
        HoopClient.checkSecurity(o);
        principal = new Properties();
        HoopClient.securityProps(principal, o);
    }

    public static void main(String[] args) throws Exception {
        HoopClient.setupLogging(false);
        String script = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--bootstrap": bootstrap = args[i + 1]; break;
                case "--ssl-ca": sslCa = args[i + 1]; break;
                case "--script": script = args[i + 1]; break;
                default: System.err.println("usage error: unknown option " + args[i]); System.exit(2);
            }
        }
        if (bootstrap == null || script == null || sslCa == null) {
            System.err.println("usage: Equiv --bootstrap HOST:PORT --ssl-ca CA --script FILE");
            System.exit(2);
        }
        List<String[]> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new FileReader(script))) {
            for (String l; (l = r.readLine()) != null; ) {
                l = l.replaceAll("#.*", "").trim();
                if (!l.isEmpty()) lines.add(l.split("\\s+"));
            }
        }
        for (String[] l : lines) {
            if (l[0].equals("as")) {
                as(l[2], l[3]);
                continue;
            }
            String[] a = java.util.Arrays.copyOfRange(l, 2, l.length);
            long t0 = System.nanoTime();
            Out o;
            try {
                o = run(l[1], a);
            } catch (HoopClient.Usage u) {
                throw u;
            } catch (Exception e) {
                o = new Out(err(e), "null");
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("{\"id\":" + HoopClient.js(l[0]) + ",\"result\":" + HoopClient.js(o.result)
                + ",\"detail\":" + o.detail + ",\"ms\":" + ms + "}");
            System.out.flush();
        }
        if (admin != null) admin.close(Duration.ofSeconds(2));
    }
}
