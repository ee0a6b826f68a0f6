"""Client-matrix driver for the hoop regression suite (kafka-python).

Command-line contract: see t/clients/README.md. Run through t/clients/python/run, which uses the
venv made by t/clients/python/setup.
"""
import argparse
import json
import logging
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hoop_auth_opts  # noqa: E402

TS_BASE = 1700000000000
PAYLOAD_UNIT = "hoop-payload-"
EXIT_ERROR, EXIT_USAGE, EXIT_SHORT = 1, 2, 3


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def payload(n):
    return (PAYLOAD_UNIT * (n // len(PAYLOAD_UNIT) + 1))[:n]


def prop_value(v):
    if re.fullmatch(r"-?[0-9]+", v):
        return int(v)
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def user_props(a):
    """--prop KEY=VALUE: kafka-python keyword arguments; Java-style dotted names are accepted
    (security.protocol -> security_protocol). Numbers and true/false are converted."""
    out = {}
    for kv in a.prop:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise Usage("--prop needs KEY=VALUE, got %s" % kv)
        out[k.replace(".", "_")] = prop_value(v)
    return out


def token_debug():
    """HOOP_CLIENT_TOKEN_DEBUG=1 or --debug: one stderr line per token read."""
    return (os.environ.get("HOOP_CLIENT_TOKEN_DEBUG", "0") not in ("", "0")
            or logging.getLogger().isEnabledFor(logging.DEBUG))


def claims_summary(tok):
    import base64
    try:
        part = tok.split(".")[1]
        c = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return "sub=%s exp=%s" % (c.get("sub"), c.get("exp"))
    except Exception:  # noqa: BLE001 - not a JWT: sent anyway
        return "not a JWT"


def token_provider_class():
    try:
        from kafka.net.sasl.oauth import AbstractTokenProvider      # kafka-python 3.x
    except ImportError:  # pragma: no cover - older kafka-python
        from kafka.sasl.oauth import AbstractTokenProvider

    class FileTokenProvider(AbstractTokenProvider):
        """OAUTHBEARER: the token is whatever the file holds, read again at every authentication
        (new connections and KIP-368 re-authentication); not checked, so bad tokens are sent too."""

        def __init__(self, path):
            super().__init__()
            self.path = path

        def token(self):
            with open(self.path, "r", encoding="utf-8") as f:
                tok = f.read().strip()
            if token_debug():
                print("hoop-token: read %s: %s (%d chars)" % (self.path, claims_summary(tok), len(tok)),
                      file=sys.stderr, flush=True)
            return tok

    return FileTokenProvider


def security_config(a):
    """kafka-python settings for the authentication/TLS options (before --prop)."""
    c = {}
    if a.security_protocol:
        c["security_protocol"] = a.security_protocol
    if a.sasl_mechanism:
        c["sasl_mechanism"] = a.sasl_mechanism
        if a.sasl_mechanism == "OAUTHBEARER":
            c["sasl_oauth_token_provider"] = token_provider_class()(a.token_file)
        else:
            c["sasl_plain_username"] = a.sasl_user
            c["sasl_plain_password"] = a.sasl_password
    if a.ssl_ca:
        c["ssl_cafile"] = a.ssl_ca
    if a.ssl_cert:
        c["ssl_certfile"] = a.ssl_cert
        c["ssl_keyfile"] = a.ssl_key
        if a.ssl_key_password is not None:
            c["ssl_password"] = a.ssl_key_password
    if a.ssl_no_hostname_check:
        c["ssl_check_hostname"] = False
    return c


def base_config(a):
    c = {"bootstrap_servers": a.bootstrap.split(","), "bootstrap_timeout_ms": a.timeout_ms}
    if a.client_id:
        c["client_id"] = a.client_id
    c.update(security_config(a))
    return c


def need(a, *names):
    for n in names:
        if getattr(a, n) is None:
            raise Usage("--%s is required" % n.replace("_", "-"))


def produce(a):
    from kafka import KafkaProducer

    need(a, "topic", "count")
    if a.compression not in ("none", "gzip", "snappy", "lz4", "zstd"):
        raise Usage("--compression must be none|gzip|snappy|lz4|zstd")
    acks = {"all": "all", "-1": "all", "1": 1, "0": 0}.get(a.acks)
    if acks is None:
        raise Usage("--acks must be all|1|0")
    req_timeout = max(1000, min(30000, a.timeout_ms))
    c = base_config(a)
    c.update(
        acks=acks,
        compression_type=None if a.compression == "none" else a.compression,
        enable_idempotence=bool(a.idempotent or a.transactional_id),
        linger_ms=5,
        request_timeout_ms=req_timeout,
        max_block_ms=a.timeout_ms,
        delivery_timeout_ms=max(a.timeout_ms, req_timeout + 5),
    )
    if a.transactional_id:
        c["transactional_id"] = a.transactional_id
    c.update(user_props(a))
    p = KafkaProducer(**c)
    acked = 0
    try:
        if a.transactional_id:
            p.init_transactions()
            p.begin_transaction()
        pl = payload(a.payload_bytes)
        futures = []
        for i in range(a.first, a.first + a.count):
            futures.append(p.send(
                a.topic,
                key=b"key-%d" % i,
                value=("value-%d-%s" % (i, pl)).encode(),
                headers=[("h1", b"a-%d" % i), ("h2", b"b")],
                timestamp_ms=TS_BASE + i,
            ))
        p.flush(timeout=a.timeout_ms / 1000.0)
        failure = None
        for f in futures:
            try:
                f.get(timeout=max(1.0, a.timeout_ms / 1000.0))
                acked += 1
            except Exception as e:  # noqa: BLE001 - report the first delivery error
                failure = failure or e
        if a.transactional_id:
            if failure is None:
                p.commit_transaction()
            else:
                p.abort_transaction()
    finally:
        p.close(timeout=10)
    if failure is not None:
        print("produce failed: %r" % (failure,), file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps({"produced": acked}, separators=(",", ":")))
    return 0


def text(b):
    return None if b is None else b.decode("utf-8", errors="replace")


def consume(a):
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

    need(a, "topic", "group", "count")
    c = base_config(a)
    c.update(group_id=a.group, auto_offset_reset="earliest", enable_auto_commit=False)
    c.update(user_props(a))
    consumer = KafkaConsumer(a.topic, **c)
    got = 0
    offsets = {}
    deadline = time.monotonic() + a.timeout_ms / 1000.0
    out = sys.stdout
    try:
        while got < a.count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch = consumer.poll(timeout_ms=int(min(left, 1.0) * 1000), max_records=a.count - got)
            for tp, recs in batch.items():
                for r in recs:
                    if got >= a.count:
                        break
                    line = {
                        "partition": r.partition,
                        "offset": r.offset,
                        "key": text(r.key),
                        "value": text(r.value),
                        "headers": {k: text(v) for k, v in (r.headers or [])},
                        "timestamp": r.timestamp,
                    }
                    out.write(json.dumps(line, separators=(",", ":")) + "\n")
                    offsets[TopicPartition(r.topic, r.partition)] = OffsetAndMetadata(r.offset + 1, "", -1)
                    got += 1
            out.flush()
        if offsets:
            consumer.commit(offsets=offsets)
    finally:
        out.flush()
        consumer.close()
    if got < a.count:
        print("consume: got %d of %d records within %d ms" % (got, a.count, a.timeout_ms), file=sys.stderr)
        return EXIT_SHORT
    return 0


def metadata(a):
    from kafka import KafkaAdminClient

    c = base_config(a)
    c.update(request_timeout_ms=max(1000, min(30000, a.timeout_ms)))
    c.update(user_props(a))
    admin = KafkaAdminClient(**c)
    try:
        if a.api == "describe-cluster":
            brokers = [(b["broker_id"], b["host"], b["port"]) for b in admin.describe_cluster()["brokers"]]
        elif a.api == "metadata":
            # Metadata RPC: the broker list the client's own cluster view holds after a refresh.
            if a.topic:
                admin.describe_topics([a.topic])
            else:
                admin.list_topics()
            brokers = [(b.node_id, b.host, b.port) for b in admin._manager.cluster.brokers()]
        else:
            raise Usage("--api must be metadata|describe-cluster")
    finally:
        admin.close()
    print(json.dumps([{"id": i, "host": h, "port": p} for i, h, p in sorted(brokers)], separators=(",", ":")))
    return 0


def main(argv):
    ap = Parser(prog="run", add_help=True)
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
    hoop_auth_opts.add_arguments(ap)
    try:
        a = ap.parse_args(argv)
        hoop_auth_opts.check(a, Usage)
        if a.ssl_keystore or a.ssl_truststore:
            raise Usage("kafka-python takes PEM files only: use --ssl-ca/--ssl-cert/--ssl-key")
        debug = a.debug or os.environ.get("HOOP_CLIENT_DEBUG", "0") not in ("", "0")
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.DEBUG if debug else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        if not debug:
            # "Sending username and password in the clear" on every SASL_PLAINTEXT connection
            logging.getLogger("kafka.net.sasl").setLevel(logging.ERROR)
        if a.group_protocol not in (None, "classic"):
            raise Usage("kafka-python supports only the classic group protocol")
        return {"produce": produce, "consume": consume, "metadata": metadata}[a.cmd](a)
    except Usage as e:
        print("usage error: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - one line, non-zero exit
        if os.environ.get("HOOP_CLIENT_TRACEBACK"):
            raise
        print("error: %r" % (e,), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    sys.exit(rc)
