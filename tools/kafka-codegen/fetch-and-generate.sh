#!/bin/bash
# fetch-and-generate.sh: fetch the pinned kafka-clients jar from Maven
# Central (once, into .cache/jars/) and regenerate src/kafka/generated/.
#
#   tools/kafka-codegen/fetch-and-generate.sh [--check]
#
# --check regenerates into a temporary directory and fails if the committed
# output differs (CI: generated code is never edited by hand).
set -euo pipefail

KAFKA_VERSION=4.1.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
jars=$repo/.cache/jars
jar=$jars/kafka-clients-$KAFKA_VERSION.jar
out=$repo/src/kafka/generated

if [ ! -f "$jar" ]; then
    command -v mvn >/dev/null ||
        { echo "fetch-and-generate: mvn not found" >&2; exit 1; }
    mkdir -p "$jars"
    mvn -q dependency:copy \
        -Dartifact="org.apache.kafka:kafka-clients:$KAFKA_VERSION" \
        -DoutputDirectory="$jars"
fi

if [ "${1:-}" = "--check" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 "$here/generate.py" --jar "$jar" --out "$tmp" >/dev/null
    for f in "$tmp"/*; do
        if ! cmp -s "$f" "$out/$(basename "$f")"; then
            echo "fetch-and-generate: $out/$(basename "$f") is stale;" \
                 "run tools/kafka-codegen/fetch-and-generate.sh" >&2
            exit 1
        fi
    done
    echo "fetch-and-generate: $out matches Kafka $KAFKA_VERSION"
    exit 0
fi

python3 "$here/generate.py" --jar "$jar" --out "$out"
