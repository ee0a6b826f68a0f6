# The access-review policy on the data path (hoop_policy FILE): every
# request is authorized the way Kafka's own authorizer would do it, with
# the caller's identity from SASL.  Denied requests get Kafka's error codes
# (TOPIC_AUTHORIZATION_FAILED 29, GROUP_AUTHORIZATION_FAILED 30), partly
# denied ones are split and merged, Metadata lists only what the caller may
# describe, and real clients (librdkafka, Java) see exactly that.

use lib 't/lib';
use Test::Hoop::Stream;
use Kafka::RecordBatch;
use Kafka::Topic;

our $DIR;

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    $DIR = "$repo/build/t-policy";
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
description: t/070-policy.t
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
  - id: bob-writes-payments
    principals: [ "User:bob" ]
    resources:
      - { type: topic, name: "payments.", match: prefix }
    operations: [ write, describe, create ]
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
YAML
    close $f;
    open $f, '>', "$DIR/broken.yaml" or die $!;
    print $f "policy_version: 1\ndefault: allow\ngrants: []\n";
    close $f;
    $ENV{TEST_NGINX_POLICY_DIR} = $DIR;
}

sub login { my ($u) = @_;
    kafka_request(api_key => 17, version => 1, correlation_id => 1,
                  body => enc_string('PLAIN'))
    . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                    body => enc_compact_bytes("\0$u\0$u-secret") . enc_tagged_fields()) }

sub produce_errors {
    my ($payload) = @_;
    my $r = kafka_reader($payload, 'Produce v9 response');
    $r->int32; $r->tagged_fields;
    my %e;
    for my $t (@{ $r->compact_array(sub {
            my ($r) = @_;
            my $name = $r->compact_string;
            my $p = $r->compact_array(sub {
                my ($r) = @_;
                my $i = $r->int32; my $err = $r->int16;
                $r->int64; $r->int64; $r->int64;
                $r->compact_array(sub { $_[0]->int32; $_[0]->compact_string; $_[0]->tagged_fields });
                $r->compact_string; $r->tagged_fields;
                return $err;
            });
            $r->tagged_fields;
            return [ $name, $p->[0] ];
        }) }) {
        $e{$t->[0]} = $t->[1];
    }
    return \%e;
}

our $CONF = <<'CONF';
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_POLICY_DIR/credentials.jsonl;
hoop_policy $TEST_NGINX_POLICY_DIR/policy.yaml;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

plan tests => hoop_test_count() + 6;

run_tests();

# --- librdkafka as bob and alice ------------------------------------------

{
    my $ng = hoop_nginx_start(log_level => 'info',
        stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => $CONF);
    my $boot = "127.0.0.1:$ng->{port}";
    my @as = map { my $u = $_; [ '-X', 'security.protocol=SASL_PLAINTEXT',
        '-X', 'sasl.mechanism=PLAIN', '-X', "sasl.username=$u",
        '-X', "sasl.password=$u-secret" ] } qw(alice bob);
    my $t = "payments.kcat-$$";
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $t);
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $t, '-K:',
                             @{$as[1]} ], stdin => "k1:v1\nk2:v2\n", timeout => 60);
    is($p->{rc}, 0, 'bob writes payments.*') or diag($p->{stderr});
    my $d = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $t, '-K:',
                             @{$as[0]} ], stdin => "k3:v3\n", timeout => 60);
    like($d->{stderr}, qr/Topic authorization failed/i, 'alice may not write');
    my $c = run_cmd(cmd => [ 'kcat', '-b', $boot, '-G', "pay-$$", $t, '-e', '-q',
                             '-f', '%k=%s\n', '-X', 'auto.offset.reset=earliest',
                             @{$as[0]} ], timeout => 60);
    is(join('', sort split /^/, $c->{stdout}), "k1=v1\nk2=v2\n",
       'alice reads with group pay-*') or diag($c->{stderr});
    my $g = run_cmd(cmd => [ 'kcat', '-b', $boot, '-G', "other-$$", $t, '-e', '-q',
                             '-X', 'auto.offset.reset=earliest', @{$as[0]} ],
                    timeout => 30);
    like($g->{stderr}, qr/Group authorization failed/i,
         'alice may not use another group');
    my $log = hoop_nginx_stop($ng);
    like($log, qr/denied "alice" write topic "payments\.kcat-/, 'the denial is logged');
    unlike($log, qr/\[(alert|crit)\]/, 'no alerts');
}

__DATA__

=== TEST 1: bob may write payments.*; alice may not (TOPIC_AUTHORIZATION_FAILED)
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "payments.t1-$$");
login('alice') . produce_request(version => 9, correlation_id => 3, acks => 1,
                                 topic => "payments.t1-$$")
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 3, 'answered');
is_deeply(produce_errors($f[2]), { "payments.t1-$$" => 29 }, 'alice: 29');
--- error_log
denied "alice" write topic "payments.t1-
--- no_error_log
[error]



=== TEST 2: bob's Produce to an allowed and a denied topic is split and merged
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "payments.t2-$$");
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "secret.t2-$$");
my $batch = Kafka::RecordBatch::record_batch(records => [ { key => 'k', value => 'v' } ]);
my $topic = sub { enc_compact_string($_[0]) . enc_compact_array([ enc_int32(0)
    . enc_compact_nullable_bytes($batch) . enc_tagged_fields() ]) . enc_tagged_fields() };
login('bob') . kafka_request(api_key => 0, version => 9, correlation_id => 3,
    body => enc_compact_nullable_string(undef) . enc_int16(1) . enc_int32(5000)
            . enc_compact_array([ $topic->("payments.t2-$$"), $topic->("secret.t2-$$") ])
            . enc_tagged_fields())
--- response_check
my @f = kafka_frames($resp);
is_deeply(produce_errors($f[2]), { "payments.t2-$$" => 0, "secret.t2-$$" => 29 },
          'one merged answer: the allowed topic written, the other refused');
--- error_log
denied "bob" write topic "secret.t2-



=== TEST 3: Metadata lists only what alice may describe
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::CONF
--- stream_request eval
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "payments.t3-$$");
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "secret.t3-$$");
login('alice') . metadata_request(version => 12, correlation_id => 3, topics => undef)
. metadata_request(version => 12, correlation_id => 4,
                   topics => [ "payments.t3-$$", "secret.t3-$$" ])
--- response_check
my @f = kafka_frames($resp);
my $all = parse_metadata_response($f[2], 12);
my @names = map { $_->{name} } @{$all->{topics}};
ok((grep { $_ eq "payments.t3-$$" } @names), 'her topic is listed');
is_deeply([ grep { !/^payments\./ } @names ], [], 'nothing else is listed');
my $two = parse_metadata_response($f[3], 12);
my %err = map { $_->{name} => $_->{error_code} } @{$two->{topics}};
is_deeply(\%err, { "payments.t3-$$" => 0, "secret.t3-$$" => 29 },
          'a named topic she may not describe: 29');



=== TEST 4: ApiVersions offers only what the gateway can authorize
--- stream_server_config eval: $main::CONF
--- stream_request eval
api_versions_request(version => 3, correlation_id => 1)
--- response_check
my $a = parse_api_versions_response((kafka_frames($resp))[0], 3);
is($a->{api_map}{0}{max_version}, 13, 'Produce up to v13 (topic ids, resolved by the gateway)');
ok($a->{api_map}{1}{max_version} >= 13, 'Fetch v13+ (topic ids, resolved by the gateway)')
    or diag("Fetch max $a->{api_map}{1}{max_version}");
ok($a->{api_map}{3}{min_version} >= 4, 'Metadata from v4 (auto-creation can be turned off)');



=== TEST 5: a policy that does not compile fails nginx -t with its own line
--- stream_server_config
hoop on;
hoop_policy $TEST_NGINX_POLICY_DIR/broken.yaml;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{hoop_policy: \S+broken\.yaml:2:\d+: .*deny}
