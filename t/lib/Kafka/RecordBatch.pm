package Kafka::RecordBatch;

# Kafka::RecordBatch: builds magic 2 record batches (Kafka protocol guide,
# "Record Batch") for tests that send Produce requests by hand: varint
# records with keys, values and headers, CRC-32C over attributes..end.

use strict;
use warnings;
use Exporter 'import';

use Kafka::Frame qw(enc_int8 enc_int16 enc_int32 enc_int64 enc_varint);

our @EXPORT = qw(crc32c record_batch produce_request);

my @CRC_TABLE;
for my $n (0 .. 255) {
    my $c = $n;
    for (1 .. 8) {
        $c = ($c & 1) ? (0x82F63B78 ^ ($c >> 1)) : ($c >> 1);
    }
    $CRC_TABLE[$n] = $c;
}

# CRC-32C (Castagnoli), as RecordBatch uses.
sub crc32c {
    my ($data) = @_;
    my $crc = 0xFFFFFFFF;
    for my $b (unpack 'C*', $data) {
        $crc = $CRC_TABLE[($crc ^ $b) & 0xFF] ^ ($crc >> 8);
    }
    return $crc ^ 0xFFFFFFFF;
}

sub _varbytes {
    my ($s) = @_;
    return enc_varint(-1) unless defined $s;
    return enc_varint(length $s) . $s;
}

# record_batch(records => [ { key, value, headers => [[k, v], ...] } ],
#              timestamp => ms, base_offset => 0) -> bytes
sub record_batch {
    my (%o) = @_;
    my $ts = $o{timestamp} // 1700000000000;
    my @recs = @{ $o{records} || [] };
    my $body = '';
    for my $i (0 .. $#recs) {
        my $r = $recs[$i];
        my @h = @{ $r->{headers} || [] };
        my $rec = enc_int8(0) . enc_varint(0) . enc_varint($i)
            . _varbytes($r->{key}) . _varbytes($r->{value})
            . enc_varint(scalar @h)
            . join('', map { _varbytes($_->[0]) . _varbytes($_->[1]) } @h);
        $body .= enc_varint(length $rec) . $rec;
    }
    my $after_crc = enc_int16(0)                 # attributes: no codec
        . enc_int32(scalar(@recs) - 1)           # last offset delta
        . enc_int64($ts) . enc_int64($ts)        # first, max timestamp
        . enc_int64(-1) . enc_int16(-1)          # producer id, epoch
        . enc_int32(-1)                          # base sequence
        . enc_int32(scalar @recs) . $body;
    my $after_len = enc_int32(0)                 # partition leader epoch
        . enc_int8(2)                            # magic
        . pack('N', crc32c($after_crc)) . $after_crc;
    return enc_int64($o{base_offset} // 0) . enc_int32(length $after_len)
        . $after_len;
}

# produce_request(version => 9.., correlation_id, acks, topic, partition,
#                 records => [...]) -> a whole request frame (flexible
# versions only: 9 and later)
sub produce_request {
    my (%o) = @_;
    my $v = $o{version} // 9;
    die "produce_request: flexible versions (9+) only" if $v < 9;
    my $batch = record_batch(records => $o{records} || [ { key => 'k',
                                                          value => 'v' } ]);
    my $body = Kafka::Frame::enc_compact_nullable_string(undef)
        . enc_int16($o{acks} // 1) . enc_int32($o{timeout_ms} // 5000)
        . Kafka::Frame::enc_compact_array([
            Kafka::Frame::enc_compact_string($o{topic})
            . Kafka::Frame::enc_compact_array([
                enc_int32($o{partition} // 0)
                . Kafka::Frame::enc_compact_nullable_bytes($batch)
                . Kafka::Frame::enc_tagged_fields() ])
            . Kafka::Frame::enc_tagged_fields() ])
        . Kafka::Frame::enc_tagged_fields();
    return Kafka::Frame::kafka_request(api_key => 0, version => $v,
        correlation_id => $o{correlation_id} // 1,
        client_id => $o{client_id} // 'hoop-test', body => $body);
}

1;
