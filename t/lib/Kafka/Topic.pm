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

our @EXPORT = qw(kafka_ensure_topic kafka_create_topic);

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

# kafka_create_topic("host:port", $topic, assignment => [ [2], ... ])
# CreateTopics v7 with a manual replica assignment (one list of broker ids
# per partition); waits until the topic has a leader.  Dies on an error
# other than TOPIC_ALREADY_EXISTS (36).
sub kafka_create_topic {
    my ($addr, $topic, %o) = @_;
    my ($host, $port) = $addr =~ /^(.*):(\d+)$/ or die "bad address $addr";
    my @asg = @{ $o{assignment} || [ [1] ] };
    my $i = 0;
    my $body = Kafka::Frame::enc_compact_array([
        Kafka::Frame::enc_compact_string($topic)
        . Kafka::Frame::enc_int32(-1) . Kafka::Frame::enc_int16(-1)
        . Kafka::Frame::enc_compact_array([ map {
            Kafka::Frame::enc_int32($i++)
            . Kafka::Frame::enc_compact_array($_, \&Kafka::Frame::enc_int32)
            . Kafka::Frame::enc_tagged_fields() } @asg ])
        . Kafka::Frame::enc_compact_array([])
        . Kafka::Frame::enc_tagged_fields() ])
        . Kafka::Frame::enc_int32(15000) . Kafka::Frame::enc_bool(0)
        . Kafka::Frame::enc_tagged_fields();
    my $r = tcp_exchange(host => $host, port => $port, frames => 1,
        timeout => 20,
        request => Kafka::Frame::kafka_request(api_key => 19, version => 7,
                                               correlation_id => 1,
                                               body => $body));
    die "CreateTopics: $r->{error}" if $r->{error};
    my $rd = Kafka::Frame::kafka_reader(substr($r->{response}, 4),
                                        'CreateTopics v7 response');
    $rd->int32; $rd->tagged_fields; $rd->int32;
    my $t = $rd->compact_array(sub {
        my ($r) = @_;
        my %t = (name => $r->compact_string, topic_id => $r->uuid,
                 error_code => $r->int16,
                 error_message => $r->compact_string);
        return \%t;     # the rest of the element is not needed
    });
    my $err = $t->[0]{error_code};
    die "CreateTopics $topic: error $err ($t->[0]{error_message})"
        if $err && $err != 36;
    return kafka_ensure_topic($addr, $topic, %o);
}

1;
