#!/usr/bin/env python3
"""A small asyncio Kafka client for bench/run: many connections, and a
latency probe.  Python 3 standard library only.

  kafka_conns.py conns  --port P [--idle 1000] [--active 100] [--seconds 5]
                        [--topic T] [--value-file F] [--sasl-user U
                        --sasl-password-file F]
      opens IDLE connections that each do what a Kafka client does on
      connect (ApiVersions v3, SASL PLAIN when asked, Metadata v4) and then
      stay idle; prints "idle-ready {json}" and waits for a line on stdin;
      then opens ACTIVE more connections that each send Produce v7 (acks=1,
      one record) in a closed loop for SECONDS; prints "active-done {json}"
      and waits for a line on stdin before closing everything.

  kafka_conns.py load   --port P [--active 32] [--seconds 5] [--topic T] [...]
      ACTIVE connections, each sending Produce v7 (acks=1, one record) in
      a closed loop for SECONDS; prints {json} with the request count and
      rate (bench/run's audit rate: one decision per request).

  kafka_conns.py probe  --port P [--rate 500] [--seconds 5] [...]
      one connection, Produce v7 acks=1 of one record every 1/RATE s;
      prints {json} with the round-trip percentiles in microseconds.

  kafka_conns.py create --port P --topic T [--topic T2 ...]
      asks the broker to auto-create the topics (Metadata v4) and waits
      until each has a leader.

Every connection checks that Metadata hands out the address it connected
to, so a run where clients would bypass a proxy fails loudly.

Wire formats: the Kafka protocol guide (https://kafka.apache.org/protocol):
request header v1/v2, ApiVersions v3, SaslHandshake v1, SaslAuthenticate
v1, Metadata v4, Produce v7, RecordBatch magic 2 with CRC-32C.
"""

import argparse
import asyncio
import json
import resource
import struct
import sys
import time

API_PRODUCE, API_METADATA, API_SASL_HANDSHAKE, API_API_VERSIONS, \
    API_SASL_AUTHENTICATE = 0, 3, 17, 18, 36
CLIENT_ID = b"hoop-bench"


# --- encoding -----------------------------------------------------------------

def str16(s):
    if s is None:
        return struct.pack(">h", -1)
    return struct.pack(">h", len(s)) + s


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


def compact_str(s):
    return uvarint(len(s) + 1) + s


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(value):
    """One magic 2 batch holding one record (null key, no headers),
    uncompressed, not idempotent."""
    rec = b"\0" + varint(0) + varint(0) + varint(-1) \
        + varint(len(value)) + value + varint(0)
    rec = varint(len(rec)) + rec
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, 0, now, now, -1, -1, -1, 1) + rec
    crc = crc32c(after_crc)
    length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", 0, length, -1, 2, crc) + after_crc


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def str16(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.b[self.p:self.p + n]
        self.p += n
        return s


# --- a connection ---------------------------------------------------------------

class KafkaError(Exception):
    pass


class Conn:
    def __init__(self):
        self.r = self.w = None
        self.corr = 0

    async def open(self, host, port):
        self.r, self.w = await asyncio.open_connection(host, port)

    async def request(self, api_key, version, body, flexible=False):
        """Sends one request, returns the response body (header removed;
        ApiVersions and non-flexible responses have header v0)."""
        self.corr += 1
        hdr = struct.pack(">hhi", api_key, version, self.corr) + str16(CLIENT_ID)
        if flexible:
            hdr += b"\0"
        payload = hdr + body
        self.w.write(struct.pack(">i", len(payload)) + payload)
        size = struct.unpack(">i", await self.r.readexactly(4))[0]
        resp = await self.r.readexactly(size)
        corr = struct.unpack_from(">i", resp)[0]
        if corr != self.corr:
            raise KafkaError("correlation id %d, expected %d" % (corr, self.corr))
        hlen = 5 if flexible and api_key != API_API_VERSIONS else 4
        return resp[hlen:]

    async def handshake(self, port, topics, sasl=None):
        """What a client does on connect: ApiVersions, SASL PLAIN, Metadata.
        Checks the broker address handed out is the one connected to."""
        body = compact_str(b"hoop-bench") + compact_str(b"1") + b"\0"
        r = await self.request(API_API_VERSIONS, 3, body, flexible=True)
        err = struct.unpack_from(">h", r)[0]
        if err:
            raise KafkaError("ApiVersions error %d" % err)
        if sasl:
            r = await self.request(API_SASL_HANDSHAKE, 1, str16(b"PLAIN"))
            err = struct.unpack_from(">h", r)[0]
            if err:
                raise KafkaError("SaslHandshake error %d" % err)
            tok = b"\0" + sasl[0] + b"\0" + sasl[1]
            r = await self.request(API_SASL_AUTHENTICATE, 1,
                                   struct.pack(">i", len(tok)) + tok)
            err = struct.unpack_from(">h", r)[0]
            if err:
                raise KafkaError("SaslAuthenticate error %d" % err)
        return await self.metadata(port, topics, False)

    async def metadata(self, port, topics, create):
        body = struct.pack(">i", len(topics)) + b"".join(str16(t) for t in topics) \
            + (b"\1" if create else b"\0")
        rd = Reader(await self.request(API_METADATA, 4, body))
        rd.take(">i")                                   # throttle
        brokers = []
        for _ in range(rd.take(">i")):
            node = rd.take(">i")
            host = rd.str16()
            bport = rd.take(">i")
            rd.str16()                                  # rack
            brokers.append((node, host, bport))
        if port is not None and not any(b[2] == port for b in brokers):
            raise KafkaError("Metadata hands out %s, not the port %d connected "
                             "to: clients would bypass it" % (brokers, port))
        rd.str16()                                      # cluster id
        rd.take(">i")                                   # controller
        errors = {}
        for _ in range(rd.take(">i")):
            err = rd.take(">h")
            name = rd.str16()
            rd.take(">b")
            leaders = []
            for _ in range(rd.take(">i")):
                rd.take(">h")
                rd.take(">i")
                leaders.append(rd.take(">i"))
                for _ in range(2):                  # replicas, isr
                    n = rd.take(">i")
                    rd.p += 4 * n
            errors[name.decode()] = (err, leaders)
        return errors

    async def produce(self, topic, batch):
        body = str16(None) + struct.pack(">hii", 1, 30000, 1) + str16(topic) \
            + struct.pack(">iii", 1, 0, len(batch)) + batch
        rd = Reader(await self.request(API_PRODUCE, 7, body))
        rd.take(">i")
        rd.str16()
        rd.take(">i")
        rd.take(">i")
        err = rd.take(">h")
        if err:
            raise KafkaError("Produce error %d" % err)

    def close(self):
        if self.w is not None:
            self.w.close()


# --- commands ---------------------------------------------------------------------

def sasl_of(a):
    if not a.sasl_user:
        return None
    with open(a.sasl_password_file, "rb") as f:
        pw = f.read().strip()
    return (a.sasl_user.encode(), pw)


def value_of(a):
    if a.value_file:
        with open(a.value_file, "rb") as f:
            return f.readline().rstrip(b"\n")
    return b"x" * 1024


def percentile(sorted_v, q):
    if not sorted_v:
        return None
    i = min(len(sorted_v) - 1, max(0, int(round(q * len(sorted_v) + 0.5)) - 1))
    return sorted_v[i]


async def open_ready(a, sasl, sem, conns, errors):
    async with sem:
        c = Conn()
        try:
            await c.open(a.host, a.port)
            await c.handshake(a.port, [a.topic.encode()], sasl)
            conns.append(c)
        except (OSError, KafkaError, asyncio.IncompleteReadError, struct.error) as e:
            errors.append(str(e) or type(e).__name__)
            c.close()


async def cmd_conns(a):
    sasl = sasl_of(a)
    batch = record_batch(value_of(a))
    topic = a.topic.encode()
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(50)
    idle, errors = [], []
    t0 = time.monotonic()
    await asyncio.gather(*(open_ready(a, sasl, sem, idle, errors)
                           for _ in range(a.idle)))
    print("idle-ready " + json.dumps({
        "idle": len(idle), "errors": len(errors), "first_error": errors[:1],
        "seconds": round(time.monotonic() - t0, 2)}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)

    active, errors2 = [], []
    await asyncio.gather(*(open_ready(a, sasl, sem, active, errors2)
                           for _ in range(a.active)))
    counts = [0] * len(active)
    perrors = []
    stop = time.monotonic() + a.seconds

    async def loop_produce(i, c):
        while time.monotonic() < stop:
            try:
                await c.produce(topic, batch)
            except (OSError, KafkaError, asyncio.IncompleteReadError) as e:
                perrors.append(str(e) or type(e).__name__)
                return
            counts[i] += 1

    t1 = time.monotonic()
    await asyncio.gather(*(loop_produce(i, c) for i, c in enumerate(active)))
    el = time.monotonic() - t1
    print("active-done " + json.dumps({
        "active": len(active), "errors": len(errors2) + len(perrors),
        "first_error": (errors2 + perrors)[:1], "requests": sum(counts),
        "requests_per_s": round(sum(counts) / el, 1) if el > 0 else 0}),
        flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    for c in idle + active:
        c.close()


async def cmd_load(a):
    sasl = sasl_of(a)
    batch = record_batch(value_of(a))
    topic = a.topic.encode()
    sem = asyncio.Semaphore(50)
    conns, errors = [], []
    await asyncio.gather(*(open_ready(a, sasl, sem, conns, errors)
                           for _ in range(a.active)))
    counts = [0] * len(conns)
    stop = time.monotonic() + a.seconds

    async def loop_produce(i, c):
        while time.monotonic() < stop:
            try:
                await c.produce(topic, batch)
            except (OSError, KafkaError, asyncio.IncompleteReadError) as e:
                errors.append(str(e) or type(e).__name__)
                return
            counts[i] += 1

    t1 = time.monotonic()
    await asyncio.gather(*(loop_produce(i, c) for i, c in enumerate(conns)))
    el = time.monotonic() - t1
    for c in conns:
        c.close()
    print(json.dumps({
        "active": len(conns), "errors": len(errors), "first_error": errors[:1],
        "requests": sum(counts), "seconds": round(el, 3),
        "requests_per_s": round(sum(counts) / el, 1) if el > 0 else 0}),
        flush=True)


async def cmd_probe(a):
    sasl = sasl_of(a)
    batch = record_batch(value_of(a))
    topic = a.topic.encode()
    c = Conn()
    await c.open(a.host, a.port)
    await c.handshake(a.port, [topic], sasl)
    for _ in range(20):                      # warm the path
        await c.produce(topic, batch)
    rtt = []
    interval = 1.0 / a.rate
    start = time.monotonic()
    n = int(a.seconds * a.rate)
    for i in range(n):
        due = start + i * interval
        d = due - time.monotonic()
        if d > 0:
            await asyncio.sleep(d)
        t = time.perf_counter_ns()
        await c.produce(topic, batch)
        rtt.append((time.perf_counter_ns() - t) / 1000.0)
    c.close()
    rtt.sort()
    print(json.dumps({
        "requests": len(rtt), "rate": a.rate,
        "p50_us": percentile(rtt, 0.50), "p99_us": percentile(rtt, 0.99),
        "p999_us": percentile(rtt, 0.999), "max_us": rtt[-1] if rtt else None}),
        flush=True)


async def cmd_create(a):
    c = Conn()
    await c.open(a.host, a.port)
    names = [t.encode() for t in a.topic]
    deadline = time.monotonic() + 60
    while True:
        errs = await c.metadata(None, names, True)
        if all(errs.get(t.decode(), (1, []))[0] == 0
               and errs[t.decode()][1] and errs[t.decode()][1][0] >= 0
               for t in names):
            break
        if time.monotonic() > deadline:
            raise SystemExit("kafka_conns: topics not ready: %s" % errs)
        await asyncio.sleep(0.2)
    c.close()
    print(json.dumps({"created": a.topic}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["conns", "load", "probe", "create"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--topic", action="append")
    p.add_argument("--idle", type=int, default=1000)
    p.add_argument("--active", type=int, default=100)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--value-file")
    p.add_argument("--sasl-user")
    p.add_argument("--sasl-password-file")
    a = p.parse_args()
    if not a.topic:
        p.error("--topic is required")
    if a.command != "create":
        a.topic = a.topic[0]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * (a.idle + a.active) + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    run = {"conns": cmd_conns, "load": cmd_load, "probe": cmd_probe,
           "create": cmd_create}[a.command]
    try:
        asyncio.run(run(a))
    except (OSError, KafkaError, asyncio.IncompleteReadError) as e:
        sys.exit("kafka_conns: %s: %s" % (a.command, e))


if __name__ == "__main__":
    main()
