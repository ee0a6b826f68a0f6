# Topic ids (KIP-516) through the gateway with a policy: requests that
# name topics by id (Fetch v13+, Produce v13, Metadata v12+, DeleteTopics
# v6) are authorized by the names the worker learned from the broker's
# answers; an id the worker does not know makes the gateway ask the broker
# itself (its own Metadata request on that connection, the client's
# requests held in order), and an id the broker does not know either is
# answered UNKNOWN_TOPIC_ID (100).  Then the real Java client (kafka-clients
# 4.1.1), which uses ids in Produce and Fetch when ApiVersions allows them:
# bob writes, alice reads, alice is refused a topic she may describe but
# not read.
#
# Each block starts a fresh gateway, so it has learned nothing: the ids of
# the topics (read from the broker directly) are unknown to it.

use lib 't/lib';
use Test::Hoop::Stream;
use Kafka::RecordBatch;
use Kafka::Topic;

our $DIR;
our %ID;

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    $DIR = "$repo/build/t-topic-ids";
    mkdir "$repo/build"; mkdir $DIR;
    open my $f, '>', "$DIR/credentials.jsonl" or die $!;
    for my $u (qw(alice bob)) {
        my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
        die "hoop-passwd failed" if $? || $line !~ /^\{/;
        print $f $line;
    }
    close $f;
    open $f, '>', "$DIR/policy.yaml" or die $!;
    print $f <<'YAML';
policy_version: 1
default: deny
description: t/072-topic-ids.t
grants:
  - id: alice-reads-payments
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "payments.", match: prefix }
      - { type: group, name: "pay-", match: prefix }
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "SEC-1 payments analytics"
  - id: alice-sees-audit
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "audit.", match: prefix }
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "SEC-3 audit topics are listed, not read"
  - id: bob-writes-payments
    principals: [ "User:bob" ]
    resources:
      - { type: topic, name: "payments.", match: prefix }
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "SEC-2 payments service"
  - id: bob-idempotent
    principals: [ "User:bob" ]
    resources:
      - { type: cluster, name: "kafka-cluster", match: literal }
    operations: [ idempotent_write ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "SEC-2 payments service"
  - id: bob-cleans-scratch
    principals: [ "User:bob" ]
    resources:
      - { type: topic, name: "scratch.", match: prefix }
    operations: [ describe, delete ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "SEC-4 scratch topics"
YAML
    close $f;
    $ENV{TEST_NGINX_POLICY_DIR} = $DIR;
}

sub login { my ($u) = @_;
    kafka_request(api_key => 17, version => 1, correlation_id => 1,
                  body => enc_string('PLAIN'))
    . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                    body => enc_compact_bytes("\0$u\0$u-secret") . enc_tagged_fields()) }

sub broker { my ($h, $p) = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} =~ /^(.*):(\d+)$/; return ($h, $p) }

# the topic's id, asked from the broker directly (the gateway never sees it)
sub topic_id {
    my ($topic, %o) = @_;
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $topic);
    my ($h, $p) = broker();
    if ($o{records}) {
        my $r = tcp_exchange(host => $h, port => $p, frames => 1, timeout => 10,
            request => produce_request(version => 9, correlation_id => 1, acks => -1,
                                       topic => $topic, records => $o{records}));
        die "produce to $topic: $r->{error}" if $r->{error};
    }
    my $r = tcp_exchange(host => $h, port => $p, frames => 1, timeout => 10,
        request => metadata_request(version => 12, correlation_id => 1, topics => [ $topic ],
                                    allow_auto_topic_creation => 0));
    my $m = parse_metadata_response(substr($r->{response}, 4), 12);
    my $id = $m->{topics}[0]{topic_id};
    die "no id for $topic" unless $id && $id =~ /[1-9a-f]/;
    return $id;
}

# Fetch v13+ (consumer): topics => [ [ id, [ partitions ] ], ... ]
sub fetch_request {
    my (%o) = @_;
    my $topics = enc_compact_array([ map {
        my ($id, $parts) = @$_;
        enc_uuid($id) . enc_compact_array([ map {
            enc_int32($_) . enc_int32(-1) . enc_int64(0) . enc_int32(-1)
            . enc_int64(-1) . enc_int32(1048576) . enc_tagged_fields() } @$parts ])
        . enc_tagged_fields() } @{ $o{topics} } ]);
    return kafka_request(api_key => 1, version => $o{version} // 13,
        correlation_id => $o{correlation_id},
        body => enc_int32(-1) . enc_int32(100) . enc_int32(0) . enc_int32(1048576)
              . enc_int8(0) . enc_int32(0) . enc_int32(-1) . $topics
              . enc_compact_array([]) . enc_compact_string('') . enc_tagged_fields());
}

# { topic id => { partition => [ error, bytes of records ] } }, top-level error
sub fetch_results {
    my ($payload) = @_;
    my $r = kafka_reader($payload, 'Fetch v13 response');
    $r->int32; $r->tagged_fields;
    $r->int32;
    my $err = $r->int16;
    $r->int32;
    my %t;
    $r->compact_array(sub {
        my ($r) = @_;
        my $id = $r->uuid;
        $r->compact_array(sub {
            my ($r) = @_;
            my $p = $r->int32;
            my $e = $r->int16;
            $r->int64; $r->int64; $r->int64;
            $r->compact_array(sub { $_[0]->int64; $_[0]->int64; $_[0]->tagged_fields });
            $r->int32;
            my $rec = $r->compact_nullable_bytes;
            $r->tagged_fields;
            $t{$id}{$p} = [ $e, length($rec // '') ];
        });
        $r->tagged_fields;
    });
    $r->tagged_fields;
    $r->expect_end;
    return (\%t, $err);
}

sub response_correlation_ids { return [ map { unpack 'l>', $_ } @_ ] }

our $CONF = <<'CONF';
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_POLICY_DIR/credentials.jsonl;
hoop_policy $TEST_NGINX_POLICY_DIR/policy.yaml;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

plan tests => hoop_test_count() + 9;

log_level('info');
run_tests();

# --- the Java client: Produce v13 and Fetch v13+ by topic id ------------------

{
    # two workers: the client's connections may land in either, so ids are
    # learned from Metadata in one and resolved by asking in the other
    my $ng = hoop_nginx_start(log_level => 'debug', master => 1, workers => 2,
        stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => $CONF);
    my $boot = "127.0.0.1:$ng->{port}";
    my $java = ($ENV{TEST_NGINX_REPO_DIR} // ".") . "/t/clients/java/run";
    my @as = map { my $u = $_; ('--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'PLAIN',
                                '--sasl-user', $u, '--sasl-password', "$u-secret") } qw(alice bob);
    my @alice = @as[0 .. 7];
    my @bob = @as[8 .. 15];
    my $t = "payments.java-$$";
    my $audit = "audit.java-$$";
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $_) for $t, $audit;

    my $p = run_cmd(cmd => [ $java, 'produce', '--bootstrap', $boot, '--topic', $t,
                             '--count', 3, @bob ], timeout => 120);
    is($p->{rc}, 0, 'Java: bob writes payments.* through the gateway')
        or diag($p->{stderr});
    like($p->{stdout}, qr/"produced":3/, 'Java: three records acknowledged');

    my $c = run_cmd(cmd => [ $java, 'consume', '--bootstrap', $boot, '--topic', $t,
                             '--group', "pay-java-$$", '--count', 3, '--timeout-ms', 30000,
                             @alice ], timeout => 120);
    is($c->{rc}, 0, 'Java: alice reads payments.* through the gateway') or diag($c->{stderr});
    is(scalar(() = $c->{stdout} =~ /"key":"key-\d"/g), 3, 'Java: the three records');

    my $d = run_cmd(cmd => [ $java, 'consume', '--bootstrap', $boot, '--topic', $audit,
                             '--group', "pay-audit-$$", '--count', 1, '--timeout-ms', 20000,
                             @alice ], timeout => 120);
    isnt($d->{rc}, 0, 'Java: alice may describe audit.* but not read it');
    like($d->{stderr}, qr/TopicAuthorizationException.*\Q$audit\E/,
         'Java: TopicAuthorizationException for the topic');

    my $log = hoop_nginx_stop($ng);
    my %fetch = map { $_ => 1 } $log =~ /hoop request Fetch v(\d+) correlation id/g;
    my %produce = map { $_ => 1 } $log =~ /hoop request Produce v(\d+) correlation id/g;
    ok((grep { $_ >= 13 } keys %fetch) && !(grep { $_ < 13 } keys %fetch),
       'Java fetched by topic id only (Fetch v13+)')
        or diag('Fetch versions: ' . join(' ', sort keys %fetch));
    ok($produce{13}, 'Java produced by topic id (Produce v13)')
        or diag('Produce versions: ' . join(' ', sort keys %produce));
    like($log, qr/denied "alice" read topic "\Q$audit\E"/, 'the Fetch denial is logged with the name');
}

__DATA__

=== TEST 1: an id the gateway never saw: it asks the broker, then alice reads by id
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
$main::ID{t1} = topic_id("payments.t1-$$", records => [ { key => 'k1', value => 'v1' } ]);
login('alice') . fetch_request(correlation_id => 3, topics => [ [ $main::ID{t1}, [ 0 ] ] ])
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 3, 'answered');
my ($t, $err) = fetch_results($f[2]);
is($err, 0, 'no top-level error');
is($t->{$main::ID{t1}}{0}[0], 0, 'partition 0 of the id: no error');
ok($t->{$main::ID{t1}}{0}[1] > 0, 'records returned');
--- error_log
Fetch v13 correlation id 3 names 1 unknown topic id: asking the broker (Metadata v10)
broker answered the gateway's Metadata request
--- no_error_log
[error]
denied



=== TEST 2: by id, alice may read payments.* but not audit.* (describe only): split and merged
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
$main::ID{t2p} = topic_id("payments.t2-$$", records => [ { key => 'k', value => 'v' } ]);
$main::ID{t2a} = topic_id("audit.t2-$$", records => [ { key => 'k', value => 'v' } ]);
login('alice') . fetch_request(correlation_id => 3,
    topics => [ [ $main::ID{t2p}, [ 0 ] ], [ $main::ID{t2a}, [ 0 ] ] ])
--- response_check
my @f = kafka_frames($resp);
my ($t) = fetch_results($f[2]);
is($t->{$main::ID{t2p}}{0}[0], 0, 'payments: read');
ok($t->{$main::ID{t2p}}{0}[1] > 0, 'payments: records');
is($t->{$main::ID{t2a}}{0}[0], 29, 'audit: TOPIC_AUTHORIZATION_FAILED, by its id');
is($t->{$main::ID{t2a}}{0}[1], 0, 'audit: no records');
--- error_log
names 2 unknown topic ids: asking the broker
denied "alice" read topic "audit.t2-



=== TEST 3: an id the broker does not know either: UNKNOWN_TOPIC_ID; later requests wait, in order
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
$main::ID{t3} = topic_id("payments.t3-$$");
login('alice')
. fetch_request(correlation_id => 3, topics => [ [ 'feedc0de' x 4, [ 0 ] ], [ $main::ID{t3}, [ 0 ] ] ])
. api_versions_request(version => 3, correlation_id => 4)
. metadata_request(version => 12, correlation_id => 5, topics => [ "payments.t3-$$" ])
. fetch_request(correlation_id => 6, topics => [ [ '0badf00d' x 4, [ 0 ] ] ])
--- response_check
my @f = kafka_frames($resp);
is_deeply(response_correlation_ids(@f), [ 1 .. 6 ], 'answers in request order');
my ($t) = fetch_results($f[2]);
is($t->{'feedc0de' x 4}{0}[0], 100, 'unknown id: UNKNOWN_TOPIC_ID');
is($t->{$main::ID{t3}}{0}[0], 0, 'the known one: no error');
my $m = parse_metadata_response($f[4], 12);
is($m->{topics}[0]{topic_id}, $main::ID{t3}, 'Metadata names the id');
($t) = fetch_results($f[5]);
is($t->{'0badf00d' x 4}{0}[0], 100, 'held while asking: answered once known to be unknown');
--- grep_error_log: asking the broker
--- grep_error_log_out
asking the broker
--- no_error_log
[error]



=== TEST 4: Metadata v12 by id: the name alice may describe, TOPIC_AUTHORIZATION_FAILED without it
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
$main::ID{t4p} = topic_id("payments.t4-$$");
$main::ID{t4s} = topic_id("secret.t4-$$");
login('alice') . metadata_request(version => 12, correlation_id => 3,
    topics => [ { topic_id => $main::ID{t4p} }, { topic_id => $main::ID{t4s} },
                { topic_id => '5eed' x 8 } ])
--- response_check
my @f = kafka_frames($resp);
my $m = parse_metadata_response($f[2], 12);
my %by = map { $_->{topic_id} => $_ } @{ $m->{topics} };
is($by{$main::ID{t4p}}{error_code}, 0, 'payments: described');
is($by{$main::ID{t4p}}{name}, "payments.t4-$$", 'payments: by its name');
is($by{$main::ID{t4s}}{error_code}, 29, 'secret: TOPIC_AUTHORIZATION_FAILED');
is($by{$main::ID{t4s}}{name}, undef, 'secret: name not revealed');
is($by{'5eed' x 8}{error_code}, 100, 'unknown: UNKNOWN_TOPIC_ID');
--- error_log
denied "alice" describe topic "secret.t4-



=== TEST 5: DeleteTopics v6 by id: bob deletes scratch.*, not payments.*
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
$main::ID{t5s} = topic_id("scratch.t5-$$");
$main::ID{t5p} = topic_id("payments.t5-$$");
login('bob') . kafka_request(api_key => 20, version => 6, correlation_id => 3,
    body => enc_compact_array([ map { enc_compact_string(undef) . enc_uuid($_) . enc_tagged_fields() }
                                $main::ID{t5s}, $main::ID{t5p} ])
            . enc_int32(15000) . enc_tagged_fields())
--- response_check
my @f = kafka_frames($resp);
my $r = kafka_reader($f[2], 'DeleteTopics v6 response');
$r->int32; $r->tagged_fields; $r->int32;
my %e;
$r->compact_array(sub { my ($r) = @_; my $n = $r->compact_string; my $id = $r->uuid;
    $e{$id} = [ $r->int16, $n ]; $r->compact_string; $r->tagged_fields });
is($e{$main::ID{t5s}}[0], 0, 'scratch: deleted');
is($e{$main::ID{t5s}}[1], "scratch.t5-$$", 'scratch: named in the answer');
is($e{$main::ID{t5p}}[0], 29, 'payments: TOPIC_AUTHORIZATION_FAILED');
is($e{$main::ID{t5p}}[1], "payments.t5-$$", 'payments: bob may describe it, so named');
--- error_log
denied "bob" delete topic "payments.t5-



=== TEST 6: ApiVersions offers Produce v13 and Fetch v13+ (ids are resolved)
--- stream_server_config eval: $main::CONF
--- stream_request eval
api_versions_request(version => 3, correlation_id => 1)
--- response_check
my $a = parse_api_versions_response((kafka_frames($resp))[0], 3);
is($a->{api_map}{0}{max_version}, 13, 'Produce v13');
ok($a->{api_map}{1}{max_version} >= 13, 'Fetch v13+');
