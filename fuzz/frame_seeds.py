#!/usr/bin/env python3
"""Seeds for fuzz_frame: streams of real frames with a header.

Each captured frame of test/unit/frames (size prefix included) and of
fuzz/corpus/walker (fuzz_kafka_walker form, prefix added back) joins one
stream per direction, cut into streams of a few frames; every stream gets
the gateway's bounds (request bodies 10..1 MiB, responses 4..1 MiB), each
split mode, and one variant with a bad prefix appended.

Header: uint8 min, uint24 max, uint32 split seed, uint8 split mode."""

import os
import struct
import sys


def frames(frames_dir, walker_dir):
    out = {'req': [], 'resp': []}
    for f in sorted(os.listdir(frames_dir)):
        if f.endswith('.bin'):
            d = 'resp' if '-resp-' in f else 'req'
            out[d].append(open(os.path.join(frames_dir, f), 'rb').read())
    if os.path.isdir(walker_dir):
        for f in sorted(os.listdir(walker_dir)):
            raw = open(os.path.join(walker_dir, f), 'rb').read()
            if len(raw) < 5:
                continue
            body = raw[5:]
            d = 'resp' if raw[0] & 1 else 'req'
            out[d].append(struct.pack('>i', len(body)) + body)
    return out


def main(frames_dir, walker_dir, dst):
    os.makedirs(dst, exist_ok=True)
    n = 0
    captured = frames(frames_dir, walker_dir)
    for d, fs in captured.items():
        lo = 10 if d == 'req' else 4
        for i in range(0, len(fs), 6):
            stream = b''.join(fs[i:i + 6])
            for mode in range(4):
                head = struct.pack('>B', lo) + (1 << 20).to_bytes(3, 'big')
                head += struct.pack('>IB', 0x1000193 * (i + 1) + mode, mode)
                open(os.path.join(dst, f'{d}-{i}-{mode}'), 'wb').write(
                    head + stream)
                n += 1
            bad = struct.pack('>i', -1 if i % 2 else (1 << 20) + 1)
            open(os.path.join(dst, f'{d}-{i}-bad'), 'wb').write(
                head + stream + bad + b'\0' * 8)
            n += 1
    # frames past HOOP_FRAME_CHUNK, so that the memory grows: a whole
    # 40 KB request, then one announcing 1 MiB that stops after 60 KB
    fill = b''.join(captured['req'])
    body = (fill * (1 + 100000 // max(len(fill), 1)))[:100000]
    big = struct.pack('>i', 40000) + body[:40000]
    big += struct.pack('>i', 1 << 20) + body[:60000]
    for mode in (1, 2, 3):
        head = struct.pack('>B', 10) + (1 << 20).to_bytes(3, 'big')
        head += struct.pack('>IB', 7 + mode, mode)
        open(os.path.join(dst, f'big-{mode}'), 'wb').write(head + big)
        n += 1
    print(f'{n} seeds in {dst}', file=sys.stderr)


if __name__ == '__main__':
    main(*sys.argv[1:4])
