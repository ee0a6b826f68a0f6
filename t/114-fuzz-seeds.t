# Fuzz seed corpora from real client traffic (issue 8): kcat (librdkafka)
# and the Java client produce and consume through the gateway with every
# codec, under a grant that records the sessions with their payloads
# (docs/audit.md "Session recording").  The recorded frames, read back
# from Redis, become seeds:
#
#   walker/<Api>-v<N>-<req|resp>-<client>   fuzz_kafka_walker inputs (uint8
#       direction, int16 ApiKey, int16 version, the frame without its size)
#       one per ApiKey, version and direction each client used;
#   batch/<codec>-<produce|fetch>-<client>  fuzz_record_batch inputs (mode
#       byte 0, then a records blob: the record batches found in a Produce
#       request or a Fetch response, CRC-32C checked).
#
# Recording starts with the first request a recording grant decides, so
# ApiVersions and the SASL handshake are not among them (test/unit/frames,
# fuzz/seeds.py, seed those).  The test checks what it captured: the
# ApiKeys a producer and a consumer group use, both directions, every codec from both clients' produce side
# and the fetch side, batches the record batch tool decodes with valid
# CRCs, and (when built) each fuzz target runs every seed once cleanly.
# With HOOP_CAPTURE_SEEDS=DIR the seeds are also written to DIR/walker and
# DIR/batch (tools/capture-seeds does this for fuzz/corpus, the corpora
# fuzz/Makefile and fuzz/batch.mk add to their seeds).
#
# Needs the "kafka" and "redis" environments, kcat and the Java driver
# (t/clients/java/run).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir spew slurp redis_xrange);
use Kafka::Topic;
use Kafka::RecordBatch qw(crc32c);
use File::Path qw(make_path remove_tree);
use MIME::Base64 qw(decode_base64);
use Digest::SHA qw(sha1_hex);
use JSON::PP ();
use Time::HiRes qw(time sleep);

require_envs(qw(kafka redis));

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = run_dir() . "/t114-$$";
remove_tree($DIR);
make_path("$DIR/spool", "$DIR/seeds/walker", "$DIR/seeds/batch");
chmod 0777, $DIR, "$DIR/spool";
END { remove_tree($DIR) if $DIR && Test::More->builder->is_passing && !$ENV{HOOP_KEEP}; }

my $RPORT = test_env('redis')->{REDIS_PORT};
my $PREFIX = "t114:$$:";
my $run = $$;
my @CODECS = qw(none gzip snappy lz4 zstd);
my %CODEC_NAME = (0 => 'none', 1 => 'gzip', 2 => 'snappy', 3 => 'lz4', 4 => 'zstd');

spew("$DIR/policy.yaml", <<'YAML');
policy_version: 1
default: deny
description: t/114-fuzz-seeds.t
grants:
  - id: seed-clients
    principals: [ "User:ANONYMOUS" ]
    resources:
      - { type: topic, name: "seed.", match: prefix }
      - { type: group, name: "seed-", match: prefix }
    operations: [ read, write, describe ]
    record: payloads
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T114 seed capture"
  - id: seed-idempotent
    principals: [ "User:ANONYMOUS" ]
    resources: [ { type: cluster, name: "kafka-cluster", match: literal } ]
    operations: [ idempotent_write ]
    record: payloads
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T114 seed capture"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info',
    main_config => "user root;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
my $boot = "127.0.0.1:$ng->{port}";

# JSON-ish text records, long enough for every codec to compress
my $records = join '', map {
    qq({"id":$_,"name":"seed record $_","email":"user$_\@example.com","note":")
    . ('lorem ipsum ' x 8) . qq("}\n) } 1 .. 20;

# --- the sessions -------------------------------------------------------------

for my $c (@CODECS) {
    my $topic = "seed.$c-$run";
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $topic);
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $topic, '-z', $c,
                             '-X', 'enable.idempotence=true', '-X', 'linger.ms=50' ],
                    stdin => $records, timeout => 60);
    is($p->{rc}, 0, "kcat produces 20 records, $c") or diag($p->{stderr});
    my $k = run_cmd(cmd => [ 'kcat', '-b', $boot, '-G', "seed-kcat-$c-$run", $topic,
                             '-e', '-q', '-X', 'auto.offset.reset=earliest' ],
                    timeout => 60);
    is(scalar(() = $k->{stdout} =~ /^\{"id"/mg), 20, "kcat consumes them in a group, $c")
        or diag($k->{stderr});
}

my $java = "$repo/t/clients/java/run";
for my $c (qw(lz4 zstd)) {
    my $topic = "seed.java-$c-$run";
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $topic);
    my $p = run_cmd(cmd => [ $java, 'produce', '--bootstrap', $boot, '--topic', $topic,
                             '--count', 30, '--payload-bytes', 200, '--compression', $c,
                             '--idempotent' ], timeout => 180);
    is($p->{rc}, 0, "the Java client produces 30 records, $c, idempotent")
        or diag($p->{stderr});
    my $r = run_cmd(cmd => [ $java, 'consume', '--bootstrap', $boot, '--topic', $topic,
                             '--group', "seed-java-$c-$run", '--count', 30 ],
                    timeout => 180);
    is($r->{rc}, 0, "the Java client consumes them in a group, $c") or diag($r->{stderr});
}

# --- the recorded frames ----------------------------------------------------------

sub xrange { return redis_xrange($RPORT, $_[0]); }

# every session closed, its record events written
my @sids;
my $t = time + 20;
do {
    sleep 0.5;
    my $z = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'ZRANGE',
                             "${PREFIX}audit:sessions", '0', '-1' ], timeout => 10);
    @sids = grep { /\S/ } split /\n/, $z->{stdout} // '';
} until (@sids >= 2 * @CODECS + 4 || time > $t);
sleep 2;

my @frames;   # [ client, dir, api name, key, version, frame without size ]
for my $sid (@sids) {
    my @ev = xrange("${PREFIX}audit:session:$sid");
    my ($sw) = map { $_->{software} // () } @ev;
    for my $e (grep { ($_->{event} // '') eq 'record' && defined $_->{payload} } @ev) {
        my $f = decode_base64($e->{payload});
        next unless length $f > 8 && unpack('l>', $f) == length($f) - 4;
        push @frames, [ undef, $e->{dir}, $e->{api}, $e->{api_key}, $e->{api_version},
                        substr($f, 4), $sid ];
    }
}
# the client of a session: its client_id from any request frame
my %client;
for my $f (grep { $_->[1] eq 'request' } @frames) {
    my $h = eval { parse_request_header($f->[5]) } or next;
    $client{ $f->[6] } //= ($h->{client_id} // '') =~ /^(producer|consumer)-/ ? 'java'
                           : 'rdkafka';
}
$_->[0] = $client{ $_->[6] } // 'rdkafka' for @frames;
ok(@frames > 50, scalar(@frames) . ' frames recorded in ' . scalar(@sids) . ' sessions');

# walker seeds: one per client, ApiKey, version and direction
my %walker;
for my $f (@frames) {
    my ($cl, $dir, $api, $key, $ver, $frame) = @$f;
    my $name = sprintf '%s-v%d-%s-%s', $api, $ver, $dir eq 'request' ? 'req' : 'resp', $cl;
    # the largest of its kind: the most structure
    $walker{$name} = pack('Cs>s>', $dir eq 'request' ? 0 : 1, $key, $ver) . $frame
        if !$walker{$name} || length($frame) + 5 > length $walker{$name};
}
my %api_dir = map { /^(\w+)-v\d+-(req|resp)-/ ? ("$1/$2" => 1) : () } keys %walker;
my @want = map { ("$_/req", "$_/resp") }
           qw(Metadata Produce Fetch ListOffsets FindCoordinator JoinGroup SyncGroup
              Heartbeat LeaveGroup OffsetFetch OffsetCommit InitProducerId);
is_deeply([ grep { !$api_dir{$_} } @want ], [],
          'walker seeds: the requests and responses of producers and consumer groups')
    or diag(join ' ', sort keys %api_dir);
ok((grep { /-java$/ } keys %walker) && (grep { /-rdkafka$/ } keys %walker),
   'from both clients (' . scalar(keys %walker) . ' seeds)');

# record batches in a frame: runs of magic 2 batches with valid CRCs
sub batch_runs {
    my ($frame) = @_;
    my @runs;
    my $i = 0;
    my $n = length $frame;
    while ($i + 61 <= $n) {
        my $len = unpack('l>', substr($frame, $i + 8, 4));
        if (ord(substr($frame, $i + 16, 1)) == 2 && $len >= 49 && $i + 12 + $len <= $n
            && unpack('N', substr($frame, $i + 17, 4))
               == crc32c(substr($frame, $i + 21, $len - 9)))
        {
            my ($start, $codec) = ($i, unpack('n', substr($frame, $i + 21, 2)) & 7);
            $i += 12 + $len;
            # the next batches of the same blob
            while ($i + 61 <= $n) {
                my $l2 = unpack('l>', substr($frame, $i + 8, 4));
                last unless ord(substr($frame, $i + 16, 1)) == 2 && $l2 >= 49
                    && $i + 12 + $l2 <= $n
                    && unpack('N', substr($frame, $i + 17, 4))
                       == crc32c(substr($frame, $i + 21, $l2 - 9));
                $i += 12 + $l2;
            }
            push @runs, [ $codec, substr($frame, $start, $i - $start) ];
            next;
        }
        $i++;
    }
    return @runs;
}

my %batch;
for my $f (@frames) {
    my ($cl, $dir, $api, $key, $ver, $frame) = @$f;
    next unless ($api eq 'Produce' && $dir eq 'request') || ($api eq 'Fetch' && $dir eq 'response');
    for my $r (batch_runs($frame)) {
        my $name = sprintf '%s-%s-%s', $CODEC_NAME{ $r->[0] } // "codec$r->[0]",
                   $api eq 'Produce' ? 'produce' : 'fetch', $cl;
        $batch{$name} = "\0" . $r->[1]
            if !$batch{$name} || length($r->[1]) + 1 > length $batch{$name};
    }
}
is_deeply([ grep { !$batch{$_} } (map { ("$_-produce-rdkafka", "$_-fetch-rdkafka") } @CODECS),
                                 'lz4-produce-java', 'zstd-produce-java',
                                 'lz4-fetch-java', 'zstd-fetch-java' ], [],
          'batch seeds: every codec, produce and fetch side')
    or diag(join ' ', sort keys %batch);

# the record batch tool reads each: valid CRCs, the records there
my $tool = "$repo/test/unit/build/test_record_batch_tool";
run_cmd(cmd => [ 'make', '-s', '-C', "$repo/test/unit", 'build/test_record_batch_tool' ],
        timeout => 120);
my @bad;
for my $name (sort keys %batch) {
    spew("$DIR/blob.bin", substr($batch{$name}, 1));
    my $s = run_cmd(cmd => [ $tool, 'summary', "$DIR/blob.bin" ], timeout => 30);
    my $j = eval { JSON::PP::decode_json($s->{stdout}) } // {};
    push @bad, "$name: $s->{stdout}$s->{stderr}"
        unless $s->{rc} == 0 && ($j->{records} // 0) > 0 && ($j->{crc_bad} // 1) == 0;
}
is_deeply(\@bad, [], 'every batch seed decodes: records, valid CRCs');

for my $w (keys %walker) { spew("$DIR/seeds/walker/$w", $walker{$w}); }
for my $b (keys %batch) { spew("$DIR/seeds/batch/$b", $batch{$b}); }

# each target runs every seed once without a finding
for my $tg ([ 'fuzz_kafka_walker', 'walker' ], [ 'fuzz_record_batch', 'batch' ]) {
    my $bin = "$repo/build/fuzz/$tg->[0]";
    SKIP: {
        skip "$tg->[0] not built (make -C fuzz)", 1 unless -x $bin;
        my $r = run_cmd(cmd => [ $bin, '-runs=0', "$DIR/seeds/$tg->[1]" ], timeout => 120);
        is($r->{rc}, 0, "$tg->[0] runs the " . scalar(() = glob("$DIR/seeds/$tg->[1]/*"))
                        . ' seeds cleanly') or diag(substr($r->{stderr}, -2000));
    }
}

if (my $out = $ENV{HOOP_CAPTURE_SEEDS}) {
    for my $sub (qw(walker batch)) {
        remove_tree("$out/$sub");
        make_path("$out/$sub");
        system('cp', glob("$DIR/seeds/$sub/*"), "$out/$sub/") == 0
            or die "cp to $out/$sub failed";
    }
    diag(sprintf 'seeds written to %s: %d walker, %d batch', $out,
         scalar(keys %walker), scalar(keys %batch));
}

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');
Test::More::done_testing();
