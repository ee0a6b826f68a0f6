"""Client-matrix driver for the hoop regression suite: kcat / librdkafka (Debian's packages).

Command-line contract: see t/clients/README.md. Python 3 standard library only; run through
t/clients/kcat/run.
  consume   kcat -G GROUP -J (balanced consumer group), output rewritten to the contract's JSON
  metadata  kcat -L -J
  produce   hoop-rdkafka-produce (same librdkafka; kcat cannot set per-record headers or
            timestamps), or with --via-kcat one `kcat -P -k KEY -H h1=.. -H h2=b` per record
            (timestamps then come from the producer's clock)
  With --sasl-mechanism OAUTHBEARER --token-file F (kcat cannot set a token) or
  --rdkafka-helper, consume and metadata run hoop-rdkafka-consume / hoop-rdkafka-metadata
  (same librdkafka) instead of kcat.
"""
import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hoop_auth_opts  # noqa: E402

PAYLOAD_UNIT = "hoop-payload-"
EXIT_ERROR, EXIT_USAGE, EXIT_SHORT = 1, 2, 3
KCAT = os.environ.get("HOOP_KCAT", "kcat")


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def payload(n):
    return (PAYLOAD_UNIT * (n // len(PAYLOAD_UNIT) + 1))[:n]


def need(a, *names):
    for n in names:
        if getattr(a, n) is None:
            raise Usage("--%s is required" % n.replace("_", "-"))


def security_props(a):
    """librdkafka settings for the authentication/TLS options (before --prop)."""
    p = []
    if a.security_protocol:
        p.append("security.protocol=" + a.security_protocol.lower())
    if a.sasl_mechanism:
        p.append("sasl.mechanisms=" + a.sasl_mechanism)
        if a.sasl_mechanism != "OAUTHBEARER":
            p += ["sasl.username=" + a.sasl_user, "sasl.password=" + a.sasl_password]
    if a.ssl_ca:
        p.append("ssl.ca.location=" + a.ssl_ca)
    if a.ssl_cert:
        p += ["ssl.certificate.location=" + a.ssl_cert, "ssl.key.location=" + a.ssl_key]
        if a.ssl_key_password is not None:
            p.append("ssl.key.password=" + a.ssl_key_password)
    if a.ssl_keystore:
        p.append("ssl.keystore.location=" + a.ssl_keystore)
        pw = a.ssl_keystore_password if a.ssl_keystore_password is not None else a.ssl_key_password
        if pw is not None:
            p.append("ssl.keystore.password=" + pw)
    if a.ssl_no_hostname_check:
        p.append("ssl.endpoint.identification.algorithm=none")
    return p


def all_props(a):
    for kv in a.prop:
        if "=" not in kv or kv.startswith("="):
            raise Usage("--prop needs KEY=VALUE, got %s" % kv)
    return security_props(a) + list(a.prop)


def use_helper(a):
    """consume/metadata through the C helpers instead of kcat?"""
    return a.rdkafka_helper or a.sasl_mechanism == "OAUTHBEARER"


def helper_args(a, name):
    """command line of a C helper: its path plus the options all of them share."""
    args = [os.path.join(os.environ["HOOP_CLIENTS_CACHE"], "kcat", name), "--bootstrap", a.bootstrap,
            "--timeout-ms", str(a.timeout_ms)]
    if a.client_id:
        args += ["--client-id", a.client_id]
    for kv in all_props(a):
        args += ["--prop", kv]
    if a.token_file:
        args += ["--token-file", a.token_file]
    if a.debug:
        args.append("--debug")
    return args


def common_x(a):
    """kcat arguments shared by every mode: bootstrap, client id, --prop, debug."""
    args = ["-b", a.bootstrap]
    if a.client_id:
        args += ["-X", "client.id=" + a.client_id]
    for kv in all_props(a):
        args += ["-X", kv]
    if a.debug:
        args += ["-d", "broker"]
    else:
        args += ["-q"]
    return args


def check_produce_args(a):
    need(a, "topic", "count")
    if a.compression not in ("none", "gzip", "snappy", "lz4", "zstd"):
        raise Usage("--compression must be none|gzip|snappy|lz4|zstd")
    if a.acks not in ("all", "-1", "1", "0"):
        raise Usage("--acks must be all|1|0")


def produce(a):
    check_produce_args(a)
    if not a.via_kcat:
        args = helper_args(a, "hoop-rdkafka-produce")
        args += ["--topic", a.topic, "--count", str(a.count),
                 "--first", str(a.first), "--payload-bytes", str(a.payload_bytes),
                 "--compression", a.compression, "--acks", a.acks]
        if a.idempotent:
            args.append("--idempotent")
        if a.transactional_id:
            args += ["--transactional-id", a.transactional_id]
        sys.stdout.flush()
        os.execv(args[0], args)

    # --via-kcat: kcat's own produce path, one process (and one single-record batch) per record.
    if a.transactional_id:
        raise Usage("--via-kcat does not support --transactional-id")
    if a.sasl_mechanism == "OAUTHBEARER":
        raise Usage("--via-kcat cannot do OAUTHBEARER with --token-file (kcat cannot set a token)")
    base = [KCAT, "-P", "-t", a.topic, "-c", "1", "-m", str(max(1, math.ceil(a.timeout_ms / 1000)))]
    base += ["-X", "acks=" + a.acks, "-X", "partitioner=murmur2_random",
             "-X", "message.timeout.ms=%d" % a.timeout_ms,
             "-X", "enable.idempotence=" + ("true" if a.idempotent else "false")]
    if a.compression != "none":
        base += ["-z", a.compression]
    base += common_x(a)
    pl = payload(a.payload_bytes)
    for i in range(a.first, a.first + a.count):
        cmd = base + ["-k", "key-%d" % i, "-H", "h1=a-%d" % i, "-H", "h2=b"]
        r = subprocess.run(cmd, input=("value-%d-%s\n" % (i, pl)).encode(), timeout=a.timeout_ms / 1000 + 10)
        if r.returncode != 0:
            print("produce failed: kcat exited %d for key-%d" % (r.returncode, i), file=sys.stderr)
            return EXIT_ERROR
    print(json.dumps({"produced": a.count}, separators=(",", ":")))
    return 0


def consume(a):
    need(a, "topic", "group", "count")
    if use_helper(a):
        args = helper_args(a, "hoop-rdkafka-consume") + ["--topic", a.topic, "--group", a.group,
                                                           "--count", str(a.count)]
        sys.stdout.flush()
        os.execv(args[0], args)
    secs = max(1, math.ceil(a.timeout_ms / 1000))
    # SIGINT makes kcat close the consumer cleanly, which commits the offsets it delivered.
    cmd = ["timeout", "-s", "INT", "-k", "15", str(secs),
           KCAT, "-G", a.group, "-J", "-c", str(a.count), "-u",
           "-X", "auto.offset.reset=earliest"] + common_x(a) + [a.topic]
    got = 0
    out = sys.stdout
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as p:
        for raw in p.stdout:
            raw = raw.strip()
            if not raw:
                continue
            try:
                m = json.loads(raw)
            except ValueError:
                print("consume: kcat printed a non-JSON line: %r" % raw[:200], file=sys.stderr)
                continue
            hs = m.get("headers") or []
            line = {
                "partition": m["partition"],
                "offset": m["offset"],
                "key": m.get("key"),
                "value": m.get("payload"),
                "headers": {hs[j]: hs[j + 1] for j in range(0, len(hs) - 1, 2)},
                "timestamp": m.get("ts"),
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            out.flush()
            got += 1
        rc = p.wait()
    if got < a.count:
        print("consume: got %d of %d records within %d ms (kcat exit %d)" % (got, a.count, a.timeout_ms, rc),
              file=sys.stderr)
        return EXIT_SHORT
    if rc != 0:
        print("consume: kcat exited %d" % rc, file=sys.stderr)
        return EXIT_ERROR
    return 0


def metadata(a):
    if a.api != "metadata":
        raise Usage("kcat supports only --api metadata")
    if use_helper(a):
        args = helper_args(a, "hoop-rdkafka-metadata") + (["--topic", a.topic] if a.topic else [])
        sys.stdout.flush()
        os.execv(args[0], args)
    cmd = [KCAT, "-L", "-J", "-m", str(max(1, math.ceil(a.timeout_ms / 1000)))] + common_x(a)
    if a.topic:
        cmd += ["-t", a.topic]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=a.timeout_ms / 1000 + 15)
    if r.returncode != 0:
        print("metadata: kcat exited %d" % r.returncode, file=sys.stderr)
        return EXIT_ERROR
    md = json.loads(r.stdout)
    brokers = []
    for b in md.get("brokers", []):
        host, _, port = b["name"].rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        brokers.append({"id": b["id"], "host": host, "port": int(port)})
    brokers.sort(key=lambda b: b["id"])
    print(json.dumps(brokers, separators=(",", ":")))
    return 0


def main(argv):
    ap = Parser(prog="run")
    ap.add_argument("cmd", choices=["produce", "consume", "metadata"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic")
    ap.add_argument("--group")
    ap.add_argument("--count", type=int)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--payload-bytes", type=int, default=100)
    ap.add_argument("--compression", default="none")
    ap.add_argument("--acks", default="all")
    ap.add_argument("--idempotent", action="store_true")
    ap.add_argument("--transactional-id")
    ap.add_argument("--timeout-ms", type=int, default=30000)
    ap.add_argument("--client-id")
    ap.add_argument("--api", default="metadata")
    ap.add_argument("--group-protocol")
    ap.add_argument("--prop", action="append", default=[])
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("--via-kcat", action="store_true")
    ap.add_argument("--rdkafka-helper", action="store_true")
    hoop_auth_opts.add_arguments(ap)
    try:
        a = ap.parse_args(argv)
        hoop_auth_opts.check(a, Usage)
        if a.ssl_truststore:
            raise Usage("librdkafka has no PKCS#12/JKS trust store: use --ssl-ca PEM")
        if os.environ.get("HOOP_CLIENT_DEBUG", "0") not in ("", "0"):
            a.debug = True
        if a.group_protocol not in (None, "classic"):
            raise Usage("librdkafka 2.0.2 supports only the classic group protocol")
        return {"produce": produce, "consume": consume, "metadata": metadata}[a.cmd](a)
    except Usage as e:
        print("usage error: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - one line, non-zero exit
        print("error: %r" % (e,), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
