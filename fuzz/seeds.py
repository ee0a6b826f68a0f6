#!/usr/bin/env python3
"""Turns captured frames (test/unit/frames/<Api>-v<N>-<req|resp>-<i>.bin,
size prefix included) into fuzz_kafka_walker inputs:
uint8 direction, int16 api_key, int16 version, frame without its size."""

import os
import re
import struct
import sys

HEADER = os.path.join(os.path.dirname(__file__),
                      '../src/kafka/generated/hoop_kafka_messages.h')


def api_keys():
    keys = {}
    for m in re.finditer(r'HOOP_KAFKA_API_([A-Z0-9_]+) = (\d+),',
                         open(HEADER).read()):
        keys[m.group(1)] = int(m.group(2))
    return keys


def snake(name):
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name).upper()


def main(src, dst):
    keys = api_keys()
    n = 0
    for f in sorted(os.listdir(src)):
        m = re.match(r'([A-Za-z]+)-v(\d+)-(req|resp)-\d+\.bin$', f)
        if not m or snake(m.group(1)) not in keys:
            continue
        frame = open(os.path.join(src, f), 'rb').read()[4:]
        seed = struct.pack('>Bhh', 1 if m.group(3) == 'resp' else 0,
                           keys[snake(m.group(1))], int(m.group(2))) + frame
        open(os.path.join(dst, f), 'wb').write(seed)
        n += 1
    print(f'{n} seeds in {dst}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
