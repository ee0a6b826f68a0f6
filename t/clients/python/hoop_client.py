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


def base_config(a):
    c = {"bootstrap_servers": a.bootstrap.split(","), "bootstrap_timeout_ms": a.timeout_ms}
    if a.client_id:
        c["client_id"] = a.client_id
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
    try:
        a = ap.parse_args(argv)
        debug = a.debug or os.environ.get("HOOP_CLIENT_DEBUG", "0") not in ("", "0")
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.DEBUG if debug else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
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
