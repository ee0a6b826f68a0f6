#!/usr/bin/env python3
"""Record Kafka frames between real clients and a real broker.

For each --relay LISTEN=BROKER, accepts connections on LISTEN, relays them
to BROKER unchanged, and writes each complete frame (int32 size prefix
included) to

    OUT/<ApiName>-v<version>-<req|resp>-<n>.bin

Requests name their ApiKey and version in the header; responses only carry
the correlation id, so each connection remembers its requests and pairs a
response with its request by correlation id.  The broker must advertise the
recorder's addresses (advertised.listeners), or clients reconnect straight
to the broker after their first Metadata response.

At most --per-key frames are kept per (ApiKey, version, direction) (more
for ApiKeys given with --limit NAME=N, e.g. Produce=6 to keep one request
per compression codec), and frames over --max-bytes are skipped, so the
committed set stays small.  Numbering continues after the files already in
OUT.

Usage:
  capture.py --relay 127.0.0.1:19092=127.0.0.1:9092 [--relay ...] \\
             --out test/unit/frames [--jar kafka-clients.jar]
Runs until SIGINT/SIGTERM.  Standard library only.
"""

import argparse
import os
import re
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (the spec loader: ApiKey -> name)


class Recorder:
    def __init__(self, out, names, per_key, limits, max_bytes):
        self.out = out
        self.names = names
        self.per_key = per_key
        self.limits = limits
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.counts = {}
        self.next = {}
        self.written = 0
        pat = re.compile(r"^(\w+)-v(\d+)-(req|resp)-(\d+)\.bin$")
        for f in os.listdir(out):
            m = pat.match(f)
            if m:
                key = (m.group(1), int(m.group(2)), m.group(3))
                self.counts[key] = self.counts.get(key, 0) + 1
                self.next[key] = max(self.next.get(key, 1), int(m.group(4)) + 1)

    def write(self, api_key, version, kind, frame):
        name = self.names.get(api_key, "ApiKey%d" % api_key)
        key = (name, version, kind)
        with self.lock:
            if len(frame) > self.max_bytes:
                return
            if self.counts.get(key, 0) >= self.limits.get(name,
                                                          self.per_key):
                return
            n = self.next.get(key, 1)
            self.next[key] = n + 1
            self.counts[key] = self.counts.get(key, 0) + 1
            path = os.path.join(self.out, "%s-v%d-%s-%d.bin"
                                % (name, version, kind, n))
            with open(path, "wb") as fh:
                fh.write(frame)
            self.written += 1
            print("capture: %s (%d bytes)" % (os.path.basename(path),
                                              len(frame)), flush=True)


class Frames:
    """Splits a byte stream into length-prefixed frames."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            size = struct.unpack(">i", self.buf[:4])[0]
            if size < 0:
                raise ValueError("negative frame size")
            if len(self.buf) < 4 + size:
                break
            frame = bytes(self.buf[:4 + size])
            del self.buf[:4 + size]
            yield frame


def relay(src, dst, on_frame):
    frames = Frames()
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            # record first: a request must be known before its response
            for frame in frames.feed(data):
                on_frame(frame)
            dst.sendall(data)
    except (OSError, ValueError) as e:
        print("capture: connection closed: %s" % e, file=sys.stderr)
    finally:
        # one side ended: end the other relay too
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_connection(client, broker_addr, rec):
    try:
        broker = socket.create_connection(broker_addr)
    except OSError as e:
        print("capture: cannot reach broker: %s" % e, file=sys.stderr)
        client.close()
        return

    inflight = {}
    ilock = threading.Lock()

    def on_request(frame):
        if len(frame) < 12:
            return
        api_key, version, corr = struct.unpack(">hhi", frame[4:12])
        with ilock:
            inflight[corr] = (api_key, version)
        rec.write(api_key, version, "req", frame)

    def on_response(frame):
        if len(frame) < 8:
            return
        corr = struct.unpack(">i", frame[4:8])[0]
        with ilock:
            req = inflight.pop(corr, None)
        if req is None:
            print("capture: response to unknown correlation id %d" % corr,
                  file=sys.stderr)
            return
        rec.write(req[0], req[1], "resp", frame)

    t1 = threading.Thread(target=relay, args=(client, broker, on_request),
                          daemon=True)
    t2 = threading.Thread(target=relay, args=(broker, client, on_response),
                          daemon=True)
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    client.close()
    broker.close()


def hostport(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--relay", action="append", required=True,
                    metavar="LISTEN=BROKER",
                    help="HOST:PORT to accept on = HOST:PORT to relay to")
    ap.add_argument("--out", required=True, help="directory for .bin files")
    ap.add_argument("--jar", help="kafka-clients jar, for ApiKey names "
                    "(default: .cache/jars/kafka-clients-4.1.1.jar)")
    ap.add_argument("--per-key", type=int, default=2,
                    help="frames kept per ApiKey, version and direction")
    ap.add_argument("--limit", action="append", default=[],
                    metavar="NAME=N", help="frames kept for ApiKey NAME")
    ap.add_argument("--max-bytes", type=int, default=16384,
                    help="skip larger frames")
    args = ap.parse_args()
    limits = {}
    for item in args.limit:
        name, _, n = item.partition("=")
        limits[name] = int(n)

    jar = args.jar or os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".cache", "jars",
                                   "kafka-clients-4.1.1.jar")
    msgs, _, _ = generate.load_specs(jar)
    names = {m.api_key: m.api_name() for m in msgs}

    os.makedirs(args.out, exist_ok=True)
    rec = Recorder(args.out, names, args.per_key, limits, args.max_bytes)

    def stop(signum, frame):
        print("capture: %d frames written" % rec.written, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    for item in args.relay:
        listen, _, broker = item.partition("=")
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(hostport(listen))
        ls.listen(64)
        threading.Thread(target=accept_loop,
                         args=(ls, hostport(broker), rec),
                         daemon=True).start()
        print("capture: listening on %s, relaying to %s" % (listen, broker),
              flush=True)

    while True:
        signal.pause()


def accept_loop(ls, broker, rec):
    while True:
        client, _ = ls.accept()
        threading.Thread(target=serve_connection,
                         args=(client, broker, rec), daemon=True).start()


if __name__ == "__main__":
    main()
