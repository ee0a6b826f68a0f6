# Three brokers behind one nginx: a bootstrap server balancing over all of
# them and one server per broker (docs/routing.md).  Every address clients
# learn is a gateway port, including the KIP-951 NodeEndpoints a broker
# sends with NOT_LEADER_OR_FOLLOWER, and a real client (librdkafka) never
# connects to a broker directly.  Needs the 3-broker cluster (kafka3).

use lib 't/lib';
use Test::Hoop::Stream;
use Kafka::RecordBatch;
use Kafka::Topic;

# Produce v11 response: per partition error and KIP-951 CurrentLeader, and
# the NodeEndpoints tagged field (tag 0) at the top level.
sub parse_produce_v11 {
    my ($payload) = @_;
    my $r = kafka_reader($payload, 'Produce v11 response');
    my %res = (correlation_id => $r->int32);
    $r->tagged_fields;
    $res{topics} = $r->compact_array(sub {
        my ($r) = @_;
        my %t = (name => $r->compact_string);
        $t{partitions} = $r->compact_array(sub {
            my ($r) = @_;
            my %p = (index => $r->int32, error_code => $r->int16,
                     base_offset => $r->int64, log_append_time => $r->int64,
                     log_start_offset => $r->int64);
            $r->compact_array(sub { $_[0]->int32; $_[0]->compact_string;
                                    $_[0]->tagged_fields });
            $p{error_message} = $r->compact_string;
            my $tags = $r->tagged_fields;
            if (defined $tags->{0}) {
                my $l = kafka_reader($tags->{0}, 'CurrentLeader');
                $p{leader_id} = $l->int32;
                $p{leader_epoch} = $l->int32;
            }
            return \%p;
        });
        $r->tagged_fields;
        return \%t;
    });
    $res{throttle_time_ms} = $r->int32;
    my $tags = $r->tagged_fields;
    if (defined $tags->{0}) {
        my $e = kafka_reader($tags->{0}, 'NodeEndpoints');
        $res{node_endpoints} = $e->compact_array(sub {
            my ($r) = @_;
            my %n = (node_id => $r->int32, host => $r->compact_string,
                     port => $r->int32, rack => $r->compact_string);
            $r->tagged_fields;
            return \%n;
        });
    }
    $r->expect_end;
    return \%res;
}

our $ROUTING = <<'CONF';
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_PORT_1;
hoop_broker_address 2 127.0.0.1:$TEST_NGINX_PORT_2;
hoop_broker_address 3 127.0.0.1:$TEST_NGINX_PORT_3;

upstream kafka3_bootstrap {
    server $TEST_NGINX_KAFKA3_BROKER_1;
    server $TEST_NGINX_KAFKA3_BROKER_2;
    server $TEST_NGINX_KAFKA3_BROKER_3;
}

server { listen 127.0.0.1:$TEST_NGINX_PORT_1; hoop on; proxy_pass $TEST_NGINX_KAFKA3_BROKER_1; }
server { listen 127.0.0.1:$TEST_NGINX_PORT_2; hoop on; proxy_pass $TEST_NGINX_KAFKA3_BROKER_2; }
server { listen 127.0.0.1:$TEST_NGINX_PORT_3; hoop on; proxy_pass $TEST_NGINX_KAFKA3_BROKER_3; }
CONF

plan tests => hoop_test_count() + 9;

run_tests();

# --- librdkafka (kcat) produces and consumes, never to a broker directly ----

SKIP: {
    skip 'requires kafka3', 9 unless env_is_up('kafka3') || !fail_missing();

    my $ng = hoop_nginx_start(ports => 3, stream_config => $ROUTING,
        stream_server_config => "hoop on;\nproxy_pass kafka3_bootstrap;");
    my @gw = @{$ng->{ports}};
    my $boot = "127.0.0.1:$ng->{port}";
    my $topic = "hoop-route-$$";

    # a partition on each broker, so the client needs all three
    kafka_create_topic($ENV{TEST_NGINX_KAFKA3_BROKER_1}, $topic,
                       assignment => [ [1], [2], [3] ]);

    my $in = join '', map { "k$_:v$_\n" } 1 .. 30;
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $topic,
                             '-K:', '-d', 'broker' ], stdin => $in, timeout => 60);
    my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', $topic,
                             '-o', 'beginning', '-e', '-q', '-f', '%p %k %s\n',
                             '-d', 'broker' ], timeout => 60);
    my $log = hoop_nginx_stop($ng);

    is($p->{rc}, 0, 'kcat produced') or diag(substr($p->{stderr}, -2000));
    my @got = sort split /\n/, $c->{stdout};
    is_deeply([ sort map { (split / /, $_, 2)[1] } @got ],
              [ sort map { "k$_ v$_" } 1 .. 30 ], '30 records consumed intact');
    my %parts = map { (split / /)[0] => 1 } @got;
    is(scalar keys %parts, 3, 'from all three partitions (three brokers)');

    my %gw = map { $_ => 1 } @gw, $ng->{port};
    my %brokers = map { (split /:/, $ENV{"TEST_NGINX_KAFKA3_BROKER_$_"})[1] => 1 } 1 .. 3;
    my (@seen, @direct);
    for my $line (split /\n/, $p->{stderr} . $c->{stderr}) {
        next unless $line =~ /Connected to ipv4#127\.0\.0\.1:(\d+)/;
        push @seen, $1;
        push @direct, $1 if $brokers{$1} || !$gw{$1};
    }
    ok(@seen >= 4, 'kcat connected ' . scalar(@seen) . ' times');
    is_deeply(\@direct, [], 'every connection went to a gateway port');
    my %used = map { $_ => 1 } @seen;
    ok($used{$gw[$_ - 1]}, "broker $_ used through its gateway port") for 1 .. 3;
    unlike($log, qr/\[(error|alert|crit)\]/, 'no errors in the error log');
}

sub fail_missing { return $ENV{HOOP_TEST_REQUIRE_ALL} }

__DATA__

=== TEST 1: Metadata through the bootstrap server lists three gateway ports
--- requires: kafka3
--- stream_config eval: $main::ROUTING
--- stream_server_config
hoop on;
proxy_pass kafka3_bootstrap;
--- stream_request eval
metadata_request(version => 12, correlation_id => 1, topics => undef)
--- response_check
my $m = parse_metadata_response((kafka_frames($resp))[0], 12);
is_deeply([ map { "$_->{node_id} $_->{host}:$_->{port}" }
            sort { $a->{node_id} <=> $b->{node_id} } @{$m->{brokers}} ],
          [ map { "$_ 127.0.0.1:" . $ENV{"TEST_NGINX_PORT_$_"} } 1 .. 3 ],
          'node ids kept, each broker behind its own gateway port');
--- no_error_log
[error]



=== TEST 2: NOT_LEADER_OR_FOLLOWER carries the new leader's gateway address (KIP-951)
--- requires: kafka3
--- stream_config eval: $main::ROUTING
--- stream_server_config
hoop on;
proxy_pass kafka3_bootstrap;
--- stream_request_port: $TEST_NGINX_PORT_1
--- stream_request eval
kafka_create_topic($ENV{TEST_NGINX_KAFKA3_BROKER_2}, "hoop-led-by-2-$$",
                   assignment => [ [2] ]);
produce_request(version => 11, correlation_id => 7, acks => 1,
                topic => "hoop-led-by-2-$$")
--- response_check
my $p = parse_produce_v11((kafka_frames($resp))[0]);
my $part = $p->{topics}[0]{partitions}[0];
is($part->{error_code}, 6, 'NOT_LEADER_OR_FOLLOWER from broker 1');
is($part->{leader_id}, 2, 'current leader: node 2');
is_deeply([ map { "$_->{node_id} $_->{host}:$_->{port}" } @{$p->{node_endpoints} || []} ],
          [ "2 127.0.0.1:$ENV{TEST_NGINX_PORT_2}" ],
          'NodeEndpoints: node 2 at its gateway port');
--- no_error_log
[error]
