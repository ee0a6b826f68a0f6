package Kafka::Topic;

# Kafka::Topic: makes sure a topic exists and has a leader before a test
# sends it records by hand (Produce does not create topics; Metadata with
# allow_auto_topic_creation does, asynchronously).

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(sleep time);

use Kafka::Frame qw(metadata_request parse_metadata_response);
use Test::Hoop::Util qw(tcp_exchange);

our @EXPORT = qw(kafka_ensure_topic);

# kafka_ensure_topic("host:port", $topic, timeout => 20) -> leader node id
sub kafka_ensure_topic {
    my ($addr, $topic, %o) = @_;
    my ($host, $port) = $addr =~ /^(.*):(\d+)$/ or die "bad address $addr";
    my $deadline = time + ($o{timeout} // 20);
    while (time < $deadline) {
        my $r = tcp_exchange(host => $host, port => $port, frames => 1,
            request => metadata_request(version => 12, correlation_id => 1,
                                        topics => [ $topic ]));
        if (!$r->{error} && length $r->{response} > 4) {
            my $m = parse_metadata_response(substr($r->{response}, 4), 12);
            my $t = $m->{topics}[0];
            my $p = $t && $t->{error_code} == 0 && $t->{partitions}[0];
            return $p->{leader_id} if $p && $p->{leader_id} >= 0;
        }
        sleep 0.2;
    }
    die "topic $topic has no leader at $addr";
}

1;
