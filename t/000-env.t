# Self-test of the test environment and harness (t/lib, t/bin): a real Kafka
# broker behind plain nginx proxying (no hoop directives), Kafka::Frame
# against real responses, splitting requests, must_die, log checks, and the
# functions for plain Test::More files.
# Needs: t/bin/kafka-cluster start && t/bin/redis-env start
# (blocks marked `requires: kafka3` run when
#  t/bin/kafka-cluster start --name kafka3 --brokers 3 is up, else skip).
#
# Runs without our module so that it checks the harness, not the module.

BEGIN { $ENV{HOOP_MODULE} = 'none' }

use lib 't/lib';
use Test::Hoop::Stream;

plan tests => hoop_test_count() + 5;

run_tests();

# --- the functions for plain Test::More files ---------------------------------

my $ng = hoop_nginx_start(
    ports => 1,
    stream_server_config => 'proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;',
    stream_config => <<'EOF',
server {
    listen 127.0.0.1:$TEST_NGINX_PORT_1;
    proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
}
EOF
);
ok($ng->{port} && $ng->{ports}[0], "hoop_nginx_start: ports $ng->{port} and $ng->{ports}[0]");

my @frames = kafka_roundtrip($ng->{ports}[0],
    api_versions_request(version => 0, correlation_id => 41)
    . metadata_request(version => 12, correlation_id => 42, topics => undef));
my $av = parse_api_versions_response($frames[0], 0);
my $md = parse_metadata_response($frames[1], 12);
is_deeply([ $av->{correlation_id}, $av->{error_code}, $md->{correlation_id},
            scalar @{$md->{brokers}} ], [ 41, 0, 42, 1 ],
          'kafka_roundtrip: pipelined ApiVersions v0 + Metadata v12 on an extra listener');

my $r = run_cmd(cmd => ['sh', '-c', 'echo out; echo err >&2; exit 3']);
is_deeply([ $r->{rc}, $r->{stdout}, $r->{stderr}, $r->{timed_out} ],
          [ 3, "out\n", "err\n", 0 ], 'run_cmd captures rc, stdout, stderr');

# a topic through the console tools of Kafka 4.1.1, via nginx
my $topic = "hoop-env-$$";
my $boot = "127.0.0.1:$ng->{port}";
my $p = kafka_tool('console-producer', '--bootstrap-server', $boot,
                   '--topic', $topic, { stdin => "one\ntwo\n", timeout => 60 });
my $c = kafka_tool('console-consumer', '--bootstrap-server', $boot,
                   '--topic', $topic, '--from-beginning', '--max-messages', '2',
                   '--timeout-ms', '20000', { timeout => 60 });
is($c->{stdout}, "one\ntwo\n", 'console producer + consumer through nginx')
    or diag("producer rc=$p->{rc}: $p->{stderr}\nconsumer rc=$c->{rc}: $c->{stderr}");

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(error|alert|crit|emerg)\]/, 'no errors in the error log');

__DATA__

=== TEST 1: ApiVersions v3 through plain nginx: error 0, Produce listed
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
api_versions_request(version => 3, correlation_id => 7)
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 1, 'one response frame');
my $r = parse_api_versions_response($f[0], 3);
is($r->{correlation_id}, 7, 'correlation id');
is($r->{error_code}, 0, 'error_code 0');
ok($r->{api_map}{0}, 'ApiKey 0 (Produce) listed');
ok($r->{api_map}{18}{max_version} >= 4, 'ApiVersions up to v4 at least');
ok(@{$r->{finalized_features} || []}, 'finalized features (tagged field 2) parsed');
--- no_error_log
[error]



=== TEST 2: the same request in 1-byte pieces
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
api_versions_request(version => 3, correlation_id => 8)
--- stream_request_split: 1
--- stream_request_delay: 0.005
--- response_check
my ($f) = kafka_frames($resp);
my $r = parse_api_versions_response($f, 3);
$r->{correlation_id} == 8 && $r->{error_code} == 0 && $r->{api_map}{0};
--- error_log eval
qr/recv: fd:\d+ 1 of \d+/
--- no_error_log
[error]



=== TEST 3: chunks with explicit pauses, two pipelined requests, all versions
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
my $a = api_versions_request(version => 0, correlation_id => 1);
my $b = api_versions_request(version => 4, correlation_id => 2);
[ substr($a, 0, 3), \0.05, substr($a, 3) . substr($b, 0, 9), \0.05, substr($b, 9) ]
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 2, 'two frames');
is(parse_api_versions_response($f[0], 0)->{correlation_id}, 1, 'v0 first');
my $r = parse_api_versions_response($f[1], 4);
is($r->{correlation_id}, 2, 'v4 second');
is($r->{error_code}, 0, 'v4 error_code 0');
--- no_error_log
[error]



=== TEST 4: Metadata v12 through nginx lists the broker's own address
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, topics => undef, correlation_id => 12)
--- response_check
my ($f) = kafka_frames($resp);
my $r = parse_metadata_response($f, 12);
is($r->{correlation_id}, 12, 'correlation id');
is(scalar @{$r->{brokers}}, 1, 'one broker');
is("$r->{brokers}[0]{host}:$r->{brokers}[0]{port}",
   $ENV{TEST_NGINX_KAFKA_BROKER_1}, 'broker 1 address, not rewritten');
ok($r->{cluster_id}, "cluster id $r->{cluster_id}");
--- no_error_log
[error]



=== TEST 5: must_die on an unknown directive names file and line
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
hoop_no_such_directive on;
--- must_die: hoop_no_such_directive
--- error_log eval
qr{\[emerg\] \d+#\d+: unknown directive "hoop_no_such_directive" in \S+/conf/nginx\.conf:\d+}



=== TEST 6: extra listener in stream_config, main_config, grep_error_log
--- main_config
worker_rlimit_nofile 1024;
--- stream_config
log_format hoop_test 'hoop-test-access $server_port $status';
server {
    listen 127.0.0.1:$TEST_NGINX_PORT_1;
    access_log $TEST_NGINX_SERVER_ROOT/logs/access.log hoop_test;
    error_log $TEST_NGINX_SERVER_ROOT/logs/error.log info;
    proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
}
--- stream_server_config
proxy_pass 127.0.0.1:$TEST_NGINX_PORT_1;
--- stream_request eval
api_versions_request(version => 2, correlation_id => 22)
--- response_check
parse_api_versions_response((kafka_frames($resp))[0], 2)->{correlation_id} == 22
--- grep_error_log eval
qr/proxy 127\.0\.0\.1:\d+ connected to 127\.0\.0\.1:\d+/
--- grep_error_log_out eval
qr/\A(?:proxy 127\.0\.0\.1:\d+ connected to 127\.0\.0\.1:\d+\n){2}\z/
--- no_error_log
[error]



=== TEST 7: Redis through nginx (text protocol, read until close)
--- requires: redis
--- stream_server_config
proxy_pass 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- stream_request eval
"PING\r\nQUIT\r\n"
--- stream_response eval
"+PONG\r\n+OK\r\n"
--- no_error_log
[error]



=== TEST 8: three-broker cluster: Metadata lists 3 brokers, FindCoordinator
--- requires: kafka3
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA3_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, correlation_id => 1, topics => undef)
. find_coordinator_request(version => 4, correlation_id => 2,
                           keys => [ map { "hoop-env-group-$_" } 1 .. 6 ])
--- response_check
my @f = kafka_frames($resp);
my $m = parse_metadata_response($f[0], 12);
is_deeply([ sort map { $_->{node_id} } @{$m->{brokers}} ], [ 1, 2, 3 ],
          'node ids 1..3');
is_deeply([ sort map { "$_->{host}:$_->{port}" } @{$m->{brokers}} ],
          [ sort map { $ENV{"TEST_NGINX_KAFKA3_BROKER_$_"} } 1 .. 3 ],
          'broker addresses as in the env file');
my $c = parse_find_coordinator_response($f[1], 4);
is($c->{correlation_id}, 2, 'FindCoordinator v4 correlation id');
is(scalar @{$c->{coordinators}}, 6, 'six coordinators');
# the first FindCoordinator may find __consumer_offsets still being created
ok(!grep({ $_->{error_code} != 0 && $_->{error_code} != 15 }
         @{$c->{coordinators}}), 'error codes 0 or 15 (not yet available)');
--- no_error_log
[error]
