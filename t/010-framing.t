# Kafka framing in the stream filter: frames reassembled from any TCP split,
# pipelined requests answered in order, Produce acks=0 expecting nothing,
# local answers kept in response order, and bad frames closing only that
# connection with a log line that names the cause.  Real broker behind.

use lib 't/lib';
use Test::Hoop::Stream;
use Kafka::RecordBatch;
use Kafka::Topic;

run_tests();

__DATA__

=== TEST 1: Metadata sent one byte at a time, broker address rewritten
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, correlation_id => 5, topics => undef)
--- stream_request_split: 1
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 1, 'one response');
my $m = parse_metadata_response($f[0], 12);
is($m->{correlation_id}, 5, 'correlation id');
is_deeply([ map { "$_->{node_id} $_->{host}:$_->{port}" } @{$m->{brokers}} ],
          [ "1 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}" ],
          'the only broker address is the gateway');
--- no_error_log
[error]
[alert]



=== TEST 2: pipelined requests in one write come back in order
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
api_versions_request(version => 3, correlation_id => 101)
. metadata_request(version => 12, correlation_id => 102, topics => undef)
. api_versions_request(version => 0, correlation_id => 103)
. metadata_request(version => 9, correlation_id => 104, topics => undef)
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 101, 102, 103, 104 ],
          'four responses in request order');
my $m = parse_metadata_response($f[3], 9);
is($m->{brokers}[0]{port}, $ENV{TEST_NGINX_SERVER_PORT}, 'v9 rewritten too');
--- no_error_log
[error]



=== TEST 3: Produce with acks=0 gets no response slot
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, "hoop-acks0-$$");
produce_request(version => 9, correlation_id => 201, acks => 0,
                topic => "hoop-acks0-$$", records => [
                    { key => 'k1', value => 'v1', headers => [[ 'h', '1' ]] } ])
. api_versions_request(version => 3, correlation_id => 202)
--- response_frames: 1
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 1, 'one response only');
is(unpack('l>', $f[0]), 202, 'it answers the ApiVersions request');
--- no_error_log
[error]



=== TEST 4: ApiVersions newer than the gateway: local UNSUPPORTED_VERSION, connection still usable
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
kafka_request(api_key => 18, version => 99, correlation_id => 301,
              body => enc_compact_string('x') . enc_compact_string('1')
                      . enc_tagged_fields())
. api_versions_request(version => 3, correlation_id => 302)
--- response_frames: 2
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 2, 'two responses');
my $a = parse_api_versions_response($f[0], 0);
is($a->{correlation_id}, 301, 'fallback first');
is($a->{error_code}, 35, 'UNSUPPORTED_VERSION');
is_deeply([ map { [ $_->{api_key}, $_->{min_version}, $_->{max_version} ] }
            @{$a->{api_keys}} ], [ [ 18, 0, 4 ] ],
          'the gateway range of ApiVersions');
my $b = parse_api_versions_response($f[1], 3);
is($b->{correlation_id}, 302, 'then the real answer');
is($b->{error_code}, 0, 'no error');
--- error_log
ApiVersions v99 is newer than the gateway supports
--- no_error_log
[error]



=== TEST 5: a local answer waits for the broker response before it
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, correlation_id => 401, topics => undef)
. kafka_request(api_key => 18, version => 50, correlation_id => 402,
                body => enc_compact_string('x') . enc_compact_string('1')
                        . enc_tagged_fields())
--- response_frames: 2
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 401, 402 ],
          'broker answer, then the local one');
--- no_error_log
[error]



=== TEST 6: ApiVersions ranges: gateway maxima, broker minima, no DescribeQuorum
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
api_versions_request(version => 4, correlation_id => 9)
--- response_check
my $a = parse_api_versions_response((kafka_frames($resp))[0], 4);
is($a->{error_code}, 0, 'no error');
ok(!$a->{api_map}{55}, 'DescribeQuorum (55) removed: it lists controller addresses');
ok(!$a->{api_map}{4}, 'no inter-broker LeaderAndIsr');
is($a->{api_map}{18}{max_version}, 4, 'ApiVersions up to v4');
is($a->{api_map}{0}{min_version}, 0, 'broker minimum of Produce (0, the gateway decodes from 3) kept');
ok($a->{api_map}{3}{max_version} >= 12, 'Metadata v12+ offered');
ok(@{$a->{finalized_features} || []}, 'tagged fields carried through');



=== TEST 7: frame above hoop_max_frame_size closes the connection
--- stream_server_config
hoop on;
hoop_max_frame_size 1k;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
pack('l>', 2000) . ('x' x 100)
--- read_until_close
--- stream_response:
--- error_log
invalid Kafka frame size 2000 from client (hoop_max_frame_size 1024)



=== TEST 8: TLS on a plaintext listener is named in the log
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ("\0" x 40)
--- read_until_close
--- stream_response:
--- error_log
likely a TLS handshake: is a TLS client talking to a plaintext listener



=== TEST 9: unknown ApiKey closes the connection
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
kafka_request(api_key => 999, version => 0, correlation_id => 1, body => '', header_version => 1)
--- read_until_close
--- stream_response:
--- error_log
bad Kafka request from client: unknown ApiKey (ApiKey 999, ApiVersion 0



=== TEST 10: a request header cut short inside client_id
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
pack('l>', 12) . pack('s>s>l>', 3, 12, 7) . pack('s>', 200) . 'ab'
--- read_until_close
--- stream_response:
--- error_log
bad Kafka request from client
(ApiKey 3, ApiVersion 12, 12 bytes)



=== TEST 11: a broker node without hoop_broker_address is never revealed
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, correlation_id => 5, topics => undef)
--- read_until_close
--- stream_response:
--- error_log
Metadata response names broker node 1, which has no hoop_broker_address



=== TEST 12: hoop off passes bytes through untouched
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop off;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
metadata_request(version => 12, correlation_id => 5, topics => undef)
--- response_check
my $m = parse_metadata_response((kafka_frames($resp))[0], 12);
is("$m->{brokers}[0]{host}:$m->{brokers}[0]{port}",
   $ENV{TEST_NGINX_KAFKA_BROKER_1}, 'the broker address itself');



=== TEST 13: a negative frame size closes the connection
--- stream_server_config
hoop on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- stream_request eval
pack('l>', -5) . 'abcd'
--- read_until_close
--- stream_response:
--- error_log
invalid Kafka frame size -5 from client
