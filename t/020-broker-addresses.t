# Every broker address a response carries is the gateway's: Metadata (old
# and flexible versions), FindCoordinator (single and KIP-699 batched),
# DescribeCluster.  "No coordinator" answers (node -1) pass unchanged.

use lib 't/lib';
use Test::Hoop::Stream;
use Kafka::Topic;

# the group coordinator exists before the tests ask for it through nginx
sub coordinator_ready {
    my ($group) = @_;
    my ($host, $port) = split /:/, $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
    for (1 .. 100) {
        my $r = tcp_exchange(host => $host, port => $port, frames => 1,
            request => find_coordinator_request(version => 4,
                                                keys => [ $group ]));
        my $f = parse_find_coordinator_response(substr($r->{response}, 4), 4);
        return 1 if $f->{coordinators}[0]{error_code} == 0;
        select undef, undef, undef, 0.2;
    }
    die "no coordinator for $group";
}

# DescribeCluster v1 (KIP-700, KIP-919 EndpointType)
sub describe_cluster_request {
    return kafka_request(api_key => 60, version => 1, correlation_id => 61,
                         body => enc_bool(0) . enc_int8(1)
                                 . enc_tagged_fields());
}

sub parse_describe_cluster_v1 {
    my ($payload) = @_;
    my $r = kafka_reader($payload, 'DescribeCluster v1 response');
    my %res = (correlation_id => $r->int32);
    $r->tagged_fields;
    $res{throttle_time_ms} = $r->int32;
    $res{error_code} = $r->int16;
    $res{error_message} = $r->compact_string;
    $res{endpoint_type} = $r->int8;
    $res{cluster_id} = $r->compact_string;
    $res{controller_id} = $r->int32;
    $res{brokers} = $r->compact_array(sub {
        my ($r) = @_;
        my %b = (broker_id => $r->int32, host => $r->compact_string,
                 port => $r->int32, rack => $r->compact_string);
        $r->tagged_fields;
        return \%b;
    });
    $res{cluster_authorized_operations} = $r->int32;
    $r->tagged_fields;
    $r->expect_end;
    return \%res;
}

run_tests();

__DATA__

=== TEST 1: Metadata v1 (not flexible), with a rack-less broker
--- stream_config
hoop_broker_address 1 gw.example.test:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 1, correlation_id => 11, topics => undef)
--- response_check
my $m = parse_metadata_response((kafka_frames($resp))[0], 1);
is_deeply([ map { [ $_->{node_id}, $_->{host}, $_->{port} ] } @{$m->{brokers}} ],
          [ [ 1, 'gw.example.test', $ENV{TEST_NGINX_SERVER_PORT} ] ],
          'host and port from hoop_broker_address, node id kept');
is($m->{controller_id}, 1, 'controller id unchanged');
--- no_error_log
[error]



=== TEST 2: Metadata v12 for a topic: leader ids stay the broker's node ids
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "hoop-addr-$$");
metadata_request(version => 12, correlation_id => 12, topics => [ "hoop-addr-$$" ])
--- response_check
my $m = parse_metadata_response((kafka_frames($resp))[0], 12);
is($m->{topics}[0]{name}, "hoop-addr-$$", 'topic');
is($m->{topics}[0]{partitions}[0]{leader_id}, 1, 'leader is node 1');
is($m->{brokers}[0]{port}, $ENV{TEST_NGINX_SERVER_PORT}, 'broker rewritten');
--- no_error_log
[error]



=== TEST 3: FindCoordinator v4, batched keys (KIP-699): every coordinator rewritten
--- stream_config
hoop_broker_address 1 gw.example.test:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
coordinator_ready("hoop-g1-$$");
coordinator_ready("hoop-g2-$$");
find_coordinator_request(version => 4, correlation_id => 13,
                         keys => [ "hoop-g1-$$", "hoop-g2-$$" ])
--- response_check
my $f = parse_find_coordinator_response((kafka_frames($resp))[0], 4);
is_deeply([ map { "$_->{key} $_->{node_id} $_->{host}:$_->{port} $_->{error_code}" }
            @{$f->{coordinators}} ],
          [ "hoop-g1-$$ 1 gw.example.test:$ENV{TEST_NGINX_SERVER_PORT} 0",
            "hoop-g2-$$ 1 gw.example.test:$ENV{TEST_NGINX_SERVER_PORT} 0" ],
          'both coordinators are the gateway');
--- no_error_log
[error]



=== TEST 4: FindCoordinator v3 (flexible, single key) and v2
--- stream_config
hoop_broker_address 1 gw.example.test:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
coordinator_ready("hoop-g1-$$");
find_coordinator_request(version => 3, correlation_id => 14, key => "hoop-g1-$$")
. find_coordinator_request(version => 2, correlation_id => 15, key => "hoop-g1-$$")
--- response_check
my @f = kafka_frames($resp);
my $a = parse_find_coordinator_response($f[0], 3);
my $b = parse_find_coordinator_response($f[1], 2);
is("$a->{node_id} $a->{host}:$a->{port}", "1 gw.example.test:$ENV{TEST_NGINX_SERVER_PORT}", 'v3');
is("$b->{node_id} $b->{host}:$b->{port}", "1 gw.example.test:$ENV{TEST_NGINX_SERVER_PORT}", 'v2');
--- no_error_log
[error]



=== TEST 5: FindCoordinator for an unknown transactional id: node -1 passes unchanged
--- stream_config
hoop_broker_address 1 gw.example.test:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
find_coordinator_request(version => 4, correlation_id => 16, key_type => 7,
                         keys => [ "x" ])
--- response_check
my $f = parse_find_coordinator_response((kafka_frames($resp))[0], 4);
my $c = $f->{coordinators}[0];
isnt($c->{error_code}, 0, "an error answer ($c->{error_code})");
is($c->{node_id}, -1, 'no node');
isnt($c->{host}, 'gw.example.test', 'nothing to rewrite');
--- no_error_log
[error]



=== TEST 6: DescribeCluster v1 brokers rewritten
--- stream_config
hoop_broker_address 1 gw.example.test:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
describe_cluster_request()
--- response_check
my $d = parse_describe_cluster_v1((kafka_frames($resp))[0]);
is($d->{error_code}, 0, 'no error');
is_deeply([ map { "$_->{broker_id} $_->{host}:$_->{port}" } @{$d->{brokers}} ],
          [ "1 gw.example.test:$ENV{TEST_NGINX_SERVER_PORT}" ], 'gateway address');
--- no_error_log
[error]



=== TEST 7: bad hoop value fails nginx -t with file and line
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
hoop maybe;
--- must_die
--- error_log eval
qr{invalid value "maybe" in "hoop" directive, it must be "on" or "off" in \S+/nginx\.conf:\d+}



=== TEST 8: hoop_max_frame_size below 1k
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
hoop on;
hoop_max_frame_size 100;
--- must_die
--- error_log eval
qr{"hoop_max_frame_size" directive must be between 1k and 2147483647 bytes \(2g - 1\) in \S+/nginx\.conf:\d+}



=== TEST 9: hoop_broker_address without a port
--- stream_config
hoop_broker_address 1 gw.example.test;
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
hoop on;
--- must_die
--- error_log eval
qr{invalid gateway address "gw\.example\.test": expected host:port .* in \S+/nginx\.conf:\d+}



=== TEST 10: hoop_broker_address with a bad node id, and a duplicate
--- stream_config
hoop_broker_address one 127.0.0.1:9092;
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{invalid broker node id "one": expected the broker's node\.id, a non-negative integer in \S+/nginx\.conf:\d+}



=== TEST 11: duplicate hoop_broker_address
--- stream_config
hoop_broker_address 1 127.0.0.1:9092;
hoop_broker_address 1 127.0.0.1:9093;
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{duplicate hoop_broker_address for node 1 in \S+/nginx\.conf:\d+}



=== TEST 12: hoop_buffer_size below 4k
--- stream_server_config
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
hoop on;
hoop_buffer_size 1k;
--- must_die
--- error_log eval
qr{"hoop_buffer_size" directive must be at least 4k in \S+/nginx\.conf:\d+}
