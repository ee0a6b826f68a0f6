#!/bin/bash
# capture-frames.sh: re-record test/unit/frames/ from a real Kafka 4.1.1
# broker and real clients (kcat/librdkafka and Kafka's own Java tools).
#
#   tools/kafka-codegen/capture-frames.sh [OUT]     (default test/unit/frames)
#
# Starts a throw-away single-node KRaft broker (combined broker+controller,
# dynamic quorum, share groups on) on loopback whose advertised listener is
# tools/kafka-codegen/capture.py, so every client connection goes through
# the recorder; drives traffic: metadata, produce with every compression
# codec, idempotent and transactional produce, classic/consumer/share
# groups, topic, config, quota, SCRAM, ACL, log dir, record, transaction
# and quorum admin commands; then stops everything.  Needs java, kcat, mvn
# (the broker jars come from t/bin/kafka-fetch into .cache/).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/test/unit/frames}
jar=$repo/.cache/jars/kafka-clients-4.1.1.jar

[ -f "$jar" ] || mvn -q dependency:copy \
    -Dartifact=org.apache.kafka:kafka-clients:4.1.1 \
    -DoutputDirectory="$repo/.cache/jars"
libs=$("$repo/t/bin/kafka-fetch")

work=$(mktemp -d /tmp/hoop-capture.XXXXXX)
log=$work/traffic.log
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

read -r bport sport cport rport rsport < <(python3 - <<'EOF'
import socket
ss = [socket.socket() for _ in range(5)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
EOF
)
bs=127.0.0.1:$rport        # clients bootstrap through the recorder
sbs=127.0.0.1:$rsport      # ... and its SASL_PLAINTEXT side

# PLAIN for alice, SCRAM-SHA-256 for users created below; the standard
# authorizer with alice and anonymous (PLAINTEXT) as super users, so ACL
# commands get real answers; a token key so delegation tokens work
cat >"$work/server.properties" <<EOF
node.id=1
process.roles=broker,controller
controller.quorum.bootstrap.servers=127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$bport,SASL_PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$rport,SASL_PLAINTEXT://127.0.0.1:$rsport
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:alice;User:bob
allow.everyone.if.no.acl.found=true
delegation.token.secret.key=hoop-capture-token-key
log.dirs=$work/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
EOF

cat >"$work/scram.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="bob-secret";
EOF

java_() {
    java -Xmx256m -Dlog4j2.level=WARN -cp "$libs/*" "$@"
}

# a Kafka tool; failures are logged, not fatal (some answer with errors
# on purpose: ACLs without an authorizer, tokens without SASL)
kt() {
    echo "+ $*" >>"$log"
    java_ "$@" >>"$log" 2>&1 </dev/null || echo "  (exit $?)" >>"$log"
}

kc() {
    echo "+ kcat $*" >>"$log"
    kcat -b "$bs" "$@" >>"$log" 2>&1 || echo "  (exit $?)" >>"$log"
}

mkdir -p "$out"
python3 "$here/capture.py" --relay "$bs=127.0.0.1:$bport" \
    --relay "$sbs=127.0.0.1:$sport" --out "$out" --jar "$jar" \
    --limit Produce=6 --limit Fetch=4 \
    >"$work/capture.log" 2>&1 &
pids+=($!)

java_ kafka.tools.StorageTool format -t "$(java_ kafka.tools.StorageTool \
    random-uuid)" -c "$work/server.properties" --standalone \
    --feature share.version=1 >>"$log" 2>&1
java_ kafka.Kafka "$work/server.properties" >"$work/broker.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
    kcat -b "$bs" -L -m 2 >/dev/null 2>&1 && break
    sleep 0.5
done
echo "capture-frames: broker up; bootstrap $bs" >&2

T=org.apache.kafka.tools

# metadata, topics
kc -L
kt $T.TopicCommand --bootstrap-server "$bs" --create --topic orders \
    --partitions 2 --config compression.type=producer
kt $T.TopicCommand --bootstrap-server "$bs" --create --topic copied \
    --partitions 1
kt $T.TopicCommand --bootstrap-server "$bs" --create --topic doomed \
    --partitions 1
kt $T.TopicCommand --bootstrap-server "$bs" --alter --topic doomed \
    --partitions 2
kt $T.TopicCommand --bootstrap-server "$bs" --describe --topic orders
kt $T.TopicCommand --bootstrap-server "$bs" --list

# produce: librdkafka with each codec, then the Java producer
for z in none gzip snappy lz4 zstd; do
    printf 'k1:{"id":1,"codec":"%s"}\nk2:{"id":2}\n' "$z" |
        kc -P -t orders -p 0 -K: -z "$z"
done
for z in gzip zstd; do
    printf 'java %s a\njava %s b\n' "$z" "$z" |
        kt $T.ConsoleProducer --bootstrap-server "$bs" --topic orders \
            --compression-codec "$z" --producer-property enable.idempotence=true
done
printf 'x\n' | kt $T.ConsoleProducer --bootstrap-server "$bs" --topic doomed \
    --request-required-acks 0

# consume: plain, classic group (librdkafka), consumer group protocol (Java)
kc -C -t orders -p 0 -o beginning -e -q
kc -G kcat-group -o beginning -e -q orders
kt $T.consumer.ConsoleConsumer --bootstrap-server "$bs" --topic orders \
    --from-beginning --max-messages 6 --timeout-ms 15000 \
    --group java-classic --consumer-property group.protocol=classic
kt $T.consumer.ConsoleConsumer --bootstrap-server "$bs" --topic orders \
    --from-beginning --max-messages 6 --timeout-ms 15000 \
    --group java-consumer --consumer-property group.protocol=consumer
kt $T.consumer.ConsoleShareConsumer --bootstrap-server "$bs" --topic orders \
    --group share-1 --max-messages 2 --timeout-ms 15000

# transactions
kt $T.TransactionalMessageCopier --broker-list "$bs" --input-topic orders \
    --input-partition 0 --output-topic copied --transactional-id tx-copier \
    --consumer-group tx-group --max-messages 4 --transaction-size 2 \
    --use-group-metadata
kt $T.TransactionsCommand --bootstrap-server "$bs" list
kt $T.TransactionsCommand --bootstrap-server "$bs" describe \
    --transactional-id tx-copier
kt $T.TransactionsCommand --bootstrap-server "$bs" describe-producers \
    --topic orders --partition 0

# groups
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" --list
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" \
    --describe --group kcat-group
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" \
    --describe --group java-consumer
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" \
    --reset-offsets --group java-classic --topic orders --to-earliest \
    --execute
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" \
    --delete-offsets --group java-classic --topic orders
kt $T.consumer.group.ConsumerGroupCommand --bootstrap-server "$bs" \
    --delete --group kcat-group
kt $T.consumer.group.ShareGroupCommand --bootstrap-server "$bs" \
    --describe --group share-1
kt $T.GroupsCommand --bootstrap-server "$bs" --list

# configs, quotas, SCRAM, client metrics
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --describe \
    --entity-type topics --entity-name orders
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --alter \
    --entity-type topics --entity-name orders --add-config retention.ms=86400000
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --describe \
    --entity-type brokers --entity-name 1
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --alter \
    --entity-type clients --entity-name slow-client \
    --add-config producer_byte_rate=1048576
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --describe \
    --entity-type clients
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --alter \
    --entity-type users --entity-name alice \
    --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]'
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --describe \
    --entity-type users --entity-name alice
kt $T.ClientMetricsCommand --bootstrap-server "$bs" --alter \
    --name basic --metrics org.apache.kafka.producer. --interval 60000
kt $T.ClientMetricsCommand --bootstrap-server "$bs" --list

# records, log dirs, leaders, reassignments, offsets
echo '{"partitions":[{"topic":"orders","partition":1,"offset":0}],' \
    '"version":1}' | tr -d ' ' >"$work/delete.json"
kt $T.DeleteRecordsCommand --bootstrap-server "$bs" \
    --offset-json-file "$work/delete.json"
kt $T.LogDirsCommand --bootstrap-server "$bs" --describe
kt $T.LeaderElectionCommand --bootstrap-server "$bs" \
    --election-type preferred --all-topic-partitions
kt $T.reassign.ReassignPartitionsCommand --bootstrap-server "$bs" --list
kt $T.GetOffsetShell --bootstrap-server "$bs" --topic orders
kt $T.GetOffsetShell --bootstrap-server "$bs" --topic orders --time -3

# cluster, features, quorum, API versions
kt $T.BrokerApiVersionsCommand --bootstrap-server "$bs"
kt $T.FeatureCommand --bootstrap-server "$bs" describe
kt $T.FeatureCommand --bootstrap-server "$bs" upgrade \
    --feature group.version=1
kt $T.MetadataQuorumCommand --bootstrap-server "$bs" describe --status
kt $T.MetadataQuorumCommand --bootstrap-server "$bs" describe --replication

# ACLs
kt $T.AclCommand --bootstrap-server "$bs" --add --allow-principal User:carol \
    --operation Read --topic orders --group kcat-group
kt $T.AclCommand --bootstrap-server "$bs" --list
kt $T.AclCommand --bootstrap-server "$bs" --remove --force \
    --allow-principal User:carol --operation Read --topic orders

# SASL: PLAIN from librdkafka, SCRAM from Java (bob is created over
# PLAINTEXT), delegation tokens (only allowed on authenticated channels)
kt kafka.admin.ConfigCommand --bootstrap-server "$bs" --alter \
    --entity-type users --entity-name bob \
    --add-config 'SCRAM-SHA-256=[iterations=4096,password=bob-secret]'
sleep 2
kcat -b "$sbs" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=alice-secret -L >>"$log" 2>&1 ||
    echo "  (kcat sasl exit $?)" >>"$log"
kt $T.consumer.ConsoleConsumer --bootstrap-server "$sbs" --topic orders \
    --from-beginning --max-messages 2 --timeout-ms 15000 \
    --consumer.config "$work/scram.properties"
kt $T.DelegationTokenCommand --bootstrap-server "$sbs" \
    --command-config "$work/scram.properties" --create \
    --max-life-time-period -1 --renewer-principal User:bob
kt $T.DelegationTokenCommand --bootstrap-server "$sbs" \
    --command-config "$work/scram.properties" --describe
hmac=$(grep -oE '^[^ ]+ +[A-Za-z0-9+/=]{20,}' "$log" | tail -1 |
    awk '{print $2}')
if [ -n "$hmac" ]; then
    kt $T.DelegationTokenCommand --bootstrap-server "$sbs" \
        --command-config "$work/scram.properties" --renew \
        --renew-time-period -1 --hmac "$hmac"
    kt $T.DelegationTokenCommand --bootstrap-server "$sbs" \
        --command-config "$work/scram.properties" --expire \
        --expiry-time-period -1 --hmac "$hmac"
fi

# a consumer resuming from committed offsets validates its position
kt $T.consumer.ConsoleConsumer --bootstrap-server "$bs" --topic orders \
    --max-messages 1 --timeout-ms 8000 --group java-classic \
    --consumer-property group.protocol=classic

# finally delete a topic
kt $T.TopicCommand --bootstrap-server "$bs" --delete --topic doomed

sleep 1
cp "$log" "$repo/.cache/capture-traffic.log"
cp "$work/capture.log" "$repo/.cache/capture-recorder.log"
echo "capture-frames: $(ls "$out" | wc -l) frames in $out," \
     "$(du -sk "$out" | cut -f1) KB; logs in .cache/capture-*.log" >&2
