package Kafka::Frame;

# Kafka::Frame: build and parse Apache Kafka wire-protocol frames in tests.
#
# Primitive encoders (enc_*) return byte strings; Kafka::Frame::Reader decodes
# them. Frame builders add the 4-byte size prefix and the request header
# (v0: api_key, api_version, correlation_id; v1: + client_id; v2: + tagged
# fields; client_id is an int16-length string in every version) or the
# response header (v0: correlation_id; v1: + tagged fields). Header versions
# follow each API's first flexible version (table below, from the message
# specs of Kafka 4.1.1, common/message/*Request.json: validVersions and
# flexibleVersions); ApiVersions responses always use response header v0.
#
# Ready-made: ApiVersions v0..v4, Metadata v0..v13 and FindCoordinator v0..v6
# requests; parsers for their responses. See docs/testing.md.

use strict;
use warnings;
use Carp qw(croak);
use Exporter 'import';

our @EXPORT = qw(
    enc_int8 enc_int16 enc_int32 enc_int64 enc_uint16 enc_uint32
    enc_float64 enc_bool enc_uvarint enc_varint enc_uuid
    enc_string enc_nullable_string enc_compact_string
    enc_compact_nullable_string
    enc_bytes enc_nullable_bytes enc_compact_bytes enc_compact_nullable_bytes
    enc_array enc_compact_array enc_tagged_fields
    kafka_request kafka_response kafka_frame
    kafka_frames kafka_request_expects_response
    kafka_api_info kafka_api_name kafka_api_key
    kafka_request_header_version kafka_response_header_version
    kafka_error_name
    parse_request_header parse_response_header
    api_versions_request metadata_request find_coordinator_request
    parse_api_versions_response parse_metadata_response
    parse_find_coordinator_response
    kafka_reader hexdump
);

# --- API table --------------------------------------------------------------
# api_key  name  min_version  max_version  first_flexible_version ('-': none)
# (Kafka 4.1.1; keys the broker no longer serves are absent)
my $API_TABLE = <<'END';
0   Produce                        3 13  9
1   Fetch                          4 18 12
2   ListOffsets                    1 10  6
3   Metadata                       0 13  9
8   OffsetCommit                   2 10  8
9   OffsetFetch                    1 10  6
10  FindCoordinator                0  6  3
11  JoinGroup                      0  9  6
12  Heartbeat                      0  4  4
13  LeaveGroup                     0  5  4
14  SyncGroup                      0  5  4
15  DescribeGroups                 0  6  5
16  ListGroups                     0  5  3
17  SaslHandshake                  0  1  -
18  ApiVersions                    0  4  3
19  CreateTopics                   2  7  5
20  DeleteTopics                   1  6  4
21  DeleteRecords                  0  2  2
22  InitProducerId                 0  6  2
23  OffsetForLeaderEpoch           2  4  4
24  AddPartitionsToTxn             0  5  3
25  AddOffsetsToTxn                0  4  3
26  EndTxn                         0  5  3
27  WriteTxnMarkers                1  1  1
28  TxnOffsetCommit                0  5  3
29  DescribeAcls                   1  3  2
30  CreateAcls                     1  3  2
31  DeleteAcls                     1  3  2
32  DescribeConfigs                1  4  4
33  AlterConfigs                   0  2  2
34  AlterReplicaLogDirs            1  2  2
35  DescribeLogDirs                1  4  2
36  SaslAuthenticate               0  2  2
37  CreatePartitions               0  3  2
38  CreateDelegationToken          1  3  2
39  RenewDelegationToken           1  2  2
40  ExpireDelegationToken          1  2  2
41  DescribeDelegationToken        1  3  2
42  DeleteGroups                   0  2  2
43  ElectLeaders                   0  2  2
44  IncrementalAlterConfigs        0  1  1
45  AlterPartitionReassignments    0  1  0
46  ListPartitionReassignments     0  0  0
47  OffsetDelete                   0  0  -
48  DescribeClientQuotas           0  1  1
49  AlterClientQuotas              0  1  1
50  DescribeUserScramCredentials   0  0  0
51  AlterUserScramCredentials      0  0  0
52  Vote                           0  2  0
53  BeginQuorumEpoch               0  1  1
54  EndQuorumEpoch                 0  1  1
55  DescribeQuorum                 0  2  0
56  AlterPartition                 2  3  0
57  UpdateFeatures                 0  2  0
58  Envelope                       0  0  0
59  FetchSnapshot                  0  1  0
60  DescribeCluster                0  2  0
61  DescribeProducers              0  0  0
62  BrokerRegistration             0  4  0
63  BrokerHeartbeat                0  1  0
64  UnregisterBroker               0  0  0
65  DescribeTransactions           0  0  0
66  ListTransactions               0  2  0
67  AllocateProducerIds            0  0  0
68  ConsumerGroupHeartbeat         0  1  0
69  ConsumerGroupDescribe          0  1  0
70  ControllerRegistration         0  0  0
71  GetTelemetrySubscriptions      0  0  0
72  PushTelemetry                  0  0  0
73  AssignReplicasToDirs           0  0  0
74  ListConfigResources            0  1  0
75  DescribeTopicPartitions        0  0  0
76  ShareGroupHeartbeat            1  1  0
77  ShareGroupDescribe             1  1  0
78  ShareFetch                     1  1  0
79  ShareAcknowledge               1  1  0
80  AddRaftVoter                   0  0  0
81  RemoveRaftVoter                0  0  0
82  UpdateRaftVoter                0  0  0
83  InitializeShareGroupState      0  0  0
84  ReadShareGroupState            0  0  0
85  WriteShareGroupState           0  0  0
86  DeleteShareGroupState          0  0  0
87  ReadShareGroupStateSummary     0  0  0
88  StreamsGroupHeartbeat          0  0  0
89  StreamsGroupDescribe           0  0  0
90  DescribeShareGroupOffsets      0  0  0
91  AlterShareGroupOffsets         0  0  0
92  DeleteShareGroupOffsets        0  0  0
END

our (%API, %API_BY_NAME);
for my $line (split /\n/, $API_TABLE) {
    my ($key, $name, $min, $max, $flex) = split ' ', $line;
    $API{$key} = {
        api_key => $key, name => $name, min => $min, max => $max,
        flexible => $flex eq '-' ? undef : $flex,
    };
    $API_BY_NAME{$name} = $key;
}

# api key number -> { api_key, name, min, max, flexible } or undef
sub kafka_api_info { my ($key) = @_; return $API{$key}; }

sub kafka_api_name {
    my ($key) = @_;
    return $API{$key} ? $API{$key}{name} : "ApiKey$key";
}

# name ('Metadata') -> api key number, or undef
sub kafka_api_key { my ($name) = @_; return $API_BY_NAME{$name}; }

sub _is_flexible {
    my ($key, $version) = @_;
    my $info = $API{$key} or croak "unknown api_key $key (pass header_version)";
    return defined $info->{flexible} && $version >= $info->{flexible};
}

# request header version (1 or 2) for api_key/version
sub kafka_request_header_version {
    my ($key, $version) = @_;
    return _is_flexible($key, $version) ? 2 : 1;
}

# response header version (0 or 1); ApiVersions (18) always answers with v0
sub kafka_response_header_version {
    my ($key, $version) = @_;
    return 0 if $key == 18;
    return _is_flexible($key, $version) ? 1 : 0;
}

# --- error codes (protocol error codes, the ones tests meet most) -------------
my %ERRORS = (
    -1 => 'UNKNOWN_SERVER_ERROR', 0 => 'NONE', 1 => 'OFFSET_OUT_OF_RANGE',
    2 => 'CORRUPT_MESSAGE', 3 => 'UNKNOWN_TOPIC_OR_PARTITION',
    4 => 'INVALID_FETCH_SIZE', 5 => 'LEADER_NOT_AVAILABLE',
    6 => 'NOT_LEADER_OR_FOLLOWER', 7 => 'REQUEST_TIMED_OUT',
    10 => 'MESSAGE_TOO_LARGE', 13 => 'NETWORK_EXCEPTION',
    14 => 'COORDINATOR_LOAD_IN_PROGRESS', 15 => 'COORDINATOR_NOT_AVAILABLE',
    16 => 'NOT_COORDINATOR', 17 => 'INVALID_TOPIC_EXCEPTION',
    22 => 'ILLEGAL_GENERATION', 25 => 'UNKNOWN_MEMBER_ID',
    27 => 'REBALANCE_IN_PROGRESS', 29 => 'TOPIC_AUTHORIZATION_FAILED',
    30 => 'GROUP_AUTHORIZATION_FAILED', 31 => 'CLUSTER_AUTHORIZATION_FAILED',
    33 => 'UNSUPPORTED_SASL_MECHANISM', 34 => 'ILLEGAL_SASL_STATE',
    35 => 'UNSUPPORTED_VERSION', 36 => 'TOPIC_ALREADY_EXISTS',
    37 => 'INVALID_PARTITIONS', 38 => 'INVALID_REPLICATION_FACTOR',
    41 => 'NOT_CONTROLLER', 42 => 'INVALID_REQUEST',
    43 => 'UNSUPPORTED_FOR_MESSAGE_FORMAT', 44 => 'POLICY_VIOLATION',
    47 => 'INVALID_PRODUCER_EPOCH', 48 => 'INVALID_TXN_STATE',
    53 => 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    58 => 'SASL_AUTHENTICATION_FAILED', 69 => 'GROUP_ID_NOT_FOUND',
    72 => 'LISTENER_NOT_FOUND', 79 => 'MEMBER_ID_REQUIRED',
    87 => 'INVALID_RECORD', 89 => 'THROTTLING_QUOTA_EXCEEDED',
    100 => 'UNKNOWN_TOPIC_ID',
);

sub kafka_error_name {
    my ($code) = @_;
    return 'undef' unless defined $code;
    return $ERRORS{$code} // "ERROR_$code";
}

# --- primitive encoders --------------------------------------------------------
sub _bytes_of {
    my ($s) = @_;
    if (utf8::is_utf8($s)) { $s = "$s"; utf8::encode($s); }
    return $s;
}

sub enc_int8    { pack 'c',  $_[0] }
sub enc_int16   { pack 's>', $_[0] }
sub enc_int32   { pack 'l>', $_[0] }
sub enc_int64   { pack 'q>', $_[0] }
sub enc_uint16  { pack 'n',  $_[0] }
sub enc_uint32  { pack 'N',  $_[0] }
sub enc_float64 { pack 'd>', $_[0] }
sub enc_bool    { pack 'C',  $_[0] ? 1 : 0 }

# unsigned varint (protobuf style, 7 bits a byte, low group first)
sub enc_uvarint {
    my ($v) = @_;
    croak "enc_uvarint: negative value $v" if $v < 0;
    my $out = '';
    while ($v >= 0x80) {
        $out .= chr(($v & 0x7f) | 0x80);
        $v >>= 7;
    }
    return $out . chr($v);
}

# signed varint/varlong: zigzag, then unsigned varint
sub enc_varint {
    my ($v) = @_;
    return enc_uvarint($v >= 0 ? $v * 2 : -$v * 2 - 1);
}

# a UUID from 32 hex digits (dashes allowed), 16 raw bytes, or undef (zero)
sub enc_uuid {
    my ($u) = @_;
    return "\0" x 16 unless defined $u;
    return $u if length $u == 16;
    (my $hex = $u) =~ s/-//g;
    croak "enc_uuid: bad uuid '$u'" unless $hex =~ /^[0-9a-fA-F]{32}$/;
    return pack 'H32', $hex;
}

# STRING / NULLABLE_STRING: int16 length, -1 for null (undef)
sub enc_string {
    my ($s) = @_;
    return enc_int16(-1) unless defined $s;
    $s = _bytes_of($s);
    return enc_int16(length $s) . $s;
}
sub enc_nullable_string { goto &enc_string }

# COMPACT_STRING / COMPACT_NULLABLE_STRING: uvarint length+1, 0 for null
sub enc_compact_string {
    my ($s) = @_;
    return enc_uvarint(0) unless defined $s;
    $s = _bytes_of($s);
    return enc_uvarint(length($s) + 1) . $s;
}
sub enc_compact_nullable_string { goto &enc_compact_string }

# BYTES / NULLABLE_BYTES: int32 length, -1 for null
sub enc_bytes {
    my ($b) = @_;
    return enc_int32(-1) unless defined $b;
    return enc_int32(length $b) . $b;
}
sub enc_nullable_bytes { goto &enc_bytes }

sub enc_compact_bytes {
    my ($b) = @_;
    return enc_uvarint(0) unless defined $b;
    return enc_uvarint(length($b) + 1) . $b;
}
sub enc_compact_nullable_bytes { goto &enc_compact_bytes }

# ARRAY: int32 count (-1: null) + elements. enc_array(\@encoded) or
# enc_array(\@values, \&encoder); undef is the null array.
sub enc_array {
    my ($items, $enc) = @_;
    return enc_int32(-1) unless defined $items;
    return enc_int32(scalar @$items)
        . join('', map { $enc ? $enc->($_) : $_ } @$items);
}

# COMPACT_ARRAY: uvarint count+1 (0: null) + elements
sub enc_compact_array {
    my ($items, $enc) = @_;
    return enc_uvarint(0) unless defined $items;
    return enc_uvarint(@$items + 1)
        . join('', map { $enc ? $enc->($_) : $_ } @$items);
}

# TAGGED_FIELDS: uvarint count, then (uvarint tag, uvarint size, bytes) in
# ascending tag order. No argument: the empty set ("\0").
# Accepts { tag => raw_bytes } or a list tag => raw_bytes.
sub enc_tagged_fields {
    my %tags = @_ == 1 && ref $_[0] eq 'HASH' ? %{$_[0]} : @_;
    my $out = enc_uvarint(scalar keys %tags);
    for my $tag (sort { $a <=> $b } keys %tags) {
        $out .= enc_uvarint($tag) . enc_uvarint(length $tags{$tag})
              . $tags{$tag};
    }
    return $out;
}

# --- frames -------------------------------------------------------------------

# kafka_frame($payload): prefix with the int32 size
sub kafka_frame { my ($p) = @_; return pack('l>', length $p) . $p; }

# kafka_request(api_key => K, version => V, correlation_id => C,
#   client_id => 'hoop-test' (undef: null), body => BYTES,
#   header_version => auto (0, 1 or 2), header_tagged_fields => {tag=>bytes},
#   size => override the size prefix (to build broken frames))
# Returns the whole frame, size prefix included.
sub kafka_request {
    my %o = @_;
    defined $o{api_key} or croak 'kafka_request: api_key required';
    my $key = $o{api_key};
    my $ver = $o{version} // 0;
    my $hv = $o{header_version} // kafka_request_header_version($key, $ver);
    my $client_id = exists $o{client_id} ? $o{client_id} : 'hoop-test';
    my $p = enc_int16($key) . enc_int16($ver)
          . enc_int32($o{correlation_id} // 0);
    $p .= enc_string($client_id) if $hv >= 1;
    $p .= enc_tagged_fields($o{header_tagged_fields} || {}) if $hv >= 2;
    $p .= $o{body} // '';
    my $size = $o{size} // length $p;
    return pack('l>', $size) . $p;
}

# kafka_response(correlation_id => C, body => BYTES, header_version => 0|1,
#   header_tagged_fields => {...}); or api_key/version to pick the header.
sub kafka_response {
    my %o = @_;
    my $hv = $o{header_version};
    $hv //= defined $o{api_key}
          ? kafka_response_header_version($o{api_key}, $o{version} // 0) : 0;
    my $p = enc_int32($o{correlation_id} // 0);
    $p .= enc_tagged_fields($o{header_tagged_fields} || {}) if $hv >= 1;
    $p .= $o{body} // '';
    return kafka_frame($p);
}

# kafka_frames($bytes [, \$rest]): split a byte stream into frame payloads
# (size prefix removed). Incomplete trailing bytes go to $rest. Dies on a
# negative size.
sub kafka_frames {
    my ($buf, $rest) = @_;
    my @frames;
    my $pos = 0;
    my $len = length $buf;
    while ($len - $pos >= 4) {
        my $size = unpack 'l>', substr($buf, $pos, 4);
        croak "kafka_frames: negative frame size $size at offset $pos"
            if $size < 0;
        last if $len - $pos - 4 < $size;
        push @frames, substr($buf, $pos + 4, $size);
        $pos += 4 + $size;
    }
    $$rest = substr($buf, $pos) if $rest;
    return @frames;
}

# parse_request_header($payload): { api_key, api_version, correlation_id,
#   client_id, header_version, header_tagged_fields, body }
sub parse_request_header {
    my ($payload, %o) = @_;
    my $r = kafka_reader($payload, 'request header');
    my %h;
    $h{api_key} = $r->int16;
    $h{api_version} = $r->int16;
    $h{correlation_id} = $r->int32;
    my $hv = $o{header_version};
    $hv //= $API{$h{api_key}}
          ? kafka_request_header_version($h{api_key}, $h{api_version}) : 1;
    $h{header_version} = $hv;
    $h{client_id} = $r->string if $hv >= 1;
    $h{header_tagged_fields} = $r->tagged_fields if $hv >= 2;
    $h{body} = $r->rest;
    return \%h;
}

# parse_response_header($payload, $header_version): { correlation_id,
#   header_tagged_fields, body }
sub parse_response_header {
    my ($payload, $hv) = @_;
    my $r = kafka_reader($payload, 'response header');
    my %h = (correlation_id => $r->int32);
    $h{header_tagged_fields} = $r->tagged_fields if $hv;
    $h{body} = $r->rest;
    return \%h;
}

# Does this request payload (size prefix removed) get a response?
# Everything does except Produce with acks=0.
sub kafka_request_expects_response {
    my ($payload) = @_;
    my $h = eval { parse_request_header($payload) } or return 1;
    return 1 unless $h->{api_key} == 0;
    my $r = kafka_reader($h->{body}, 'produce request');
    my $acks = eval {
        $h->{api_version} >= 9 ? $r->compact_string : $r->string;
        $r->int16;
    };
    return !(defined $acks && $acks == 0);
}

# --- request builders ------------------------------------------------------------

# api_versions_request(version => 0..4 (3), correlation_id => 1,
#   client_id => 'hoop-test', client_software_name => 'hoop-test',
#   client_software_version => '1.0')
sub api_versions_request {
    my %o = @_;
    my $v = $o{version} // 3;
    my $body = '';
    if ($v >= 3) {
        $body = enc_compact_string($o{client_software_name} // 'hoop-test')
              . enc_compact_string($o{client_software_version} // '1.0')
              . enc_tagged_fields();
    }
    return kafka_request(%o, api_key => 18, version => $v, body => $body,
                         correlation_id => $o{correlation_id} // 1);
}

# metadata_request(version => 0..13 (12), topics => undef (all topics) or
#   [ 'name', { name => 'n', topic_id => uuid }, ... ],
#   allow_auto_topic_creation => 1, include_topic_authorized_operations => 0,
#   include_cluster_authorized_operations => 0 (v8..v10),
#   correlation_id => 1, client_id => ...)
sub metadata_request {
    my %o = @_;
    my $v = $o{version} // 12;
    my $flex = $v >= 9;
    my $topics = $o{topics};
    my @t = map { ref $_ ? $_ : { name => $_ } } @{$topics || []};
    my $body;
    if ($v == 0) {
        $body = enc_array(\@t, sub { enc_string($_[0]{name}) });
    } else {
        my $enc_topic = sub {
            my ($t) = @_;
            my $s = '';
            $s .= enc_uuid($t->{topic_id}) if $v >= 10;
            if ($flex) {
                $s .= enc_compact_string($t->{name}) . enc_tagged_fields();
            } else {
                $s .= enc_string($t->{name});
            }
            return $s;
        };
        my $arr = defined $topics ? \@t : undef;
        $body = $flex ? enc_compact_array($arr, $enc_topic)
                      : enc_array($arr, $enc_topic);
    }
    $body .= enc_bool($o{allow_auto_topic_creation} // 1) if $v >= 4;
    $body .= enc_bool($o{include_cluster_authorized_operations})
        if $v >= 8 && $v <= 10;
    $body .= enc_bool($o{include_topic_authorized_operations}) if $v >= 8;
    $body .= enc_tagged_fields() if $flex;
    return kafka_request(%o, api_key => 3, version => $v, body => $body,
                         correlation_id => $o{correlation_id} // 1);
}

# find_coordinator_request(version => 0..6 (4), key_type => 0 (group) |
#   1 (transaction) | 2 (share), keys => [...] (v4+), key => '...' (v0..3))
sub find_coordinator_request {
    my %o = @_;
    my $v = $o{version} // 4;
    my $type = $o{key_type} // 0;
    my $body;
    if ($v >= 4) {
        my $keys = $o{keys} // [ $o{key} // 'hoop-test-group' ];
        $body = enc_int8($type)
              . enc_compact_array($keys, \&enc_compact_string)
              . enc_tagged_fields();
    } else {
        my $key = $o{key} // ($o{keys} ? $o{keys}[0] : 'hoop-test-group');
        if ($v == 3) {
            $body = enc_compact_string($key) . enc_int8($type)
                  . enc_tagged_fields();
        } else {
            $body = enc_string($key);
            $body .= enc_int8($type) if $v >= 1;
        }
    }
    return kafka_request(%o, api_key => 10, version => $v, body => $body,
                         correlation_id => $o{correlation_id} // 1);
}

# --- response parsers --------------------------------------------------------------
# Each takes a response payload (frame without its size prefix; see
# kafka_frames) and the request's version; returns a hash with
# correlation_id, the fields by their spec names in snake_case, and
# tagged_fields (unknown tags: tag => raw bytes). They die on short or
# trailing bytes.

# ApiVersions v0..v4. A broker that does not support the requested version
# answers with error_code 35 (UNSUPPORTED_VERSION) in the v0 layout; that is
# handled. Result: error_code, api_keys => [ { api_key, min_version,
# max_version } ], api_map => { key => { min_version, max_version } },
# throttle_time_ms (v1+), and in v3+: supported_features => [ { name,
# min_version, max_version } ], finalized_features_epoch,
# finalized_features => [ { name, max_version_level, min_version_level } ],
# zk_migration_ready.
sub parse_api_versions_response {
    my ($payload, $v) = @_;
    $v //= 0;
    my $r = kafka_reader($payload, "ApiVersions v$v response");
    my %res = (correlation_id => $r->int32);   # header v0 always
    $res{error_code} = $r->int16;
    $v = 0 if $res{error_code} == 35;
    my $flex = $v >= 3;
    my $api = sub {
        my ($r) = @_;
        my %k = (api_key => $r->int16, min_version => $r->int16,
                 max_version => $r->int16);
        $k{tagged_fields} = $r->tagged_fields if $flex;
        return \%k;
    };
    $res{api_keys} = $flex ? $r->compact_array($api) : $r->array($api);
    $res{api_map} = { map { $_->{api_key} => $_ } @{$res{api_keys} || []} };
    $res{throttle_time_ms} = $r->int32 if $v >= 1;
    if ($flex) {
        my $tags = $r->tagged_fields;
        if (defined(my $raw = delete $tags->{0})) {
            my $t = kafka_reader($raw, 'SupportedFeatures');
            $res{supported_features} = $t->compact_array(sub {
                my ($r) = @_;
                my %f = (name => $r->compact_string,
                         min_version => $r->int16, max_version => $r->int16);
                $r->tagged_fields;
                return \%f;
            });
        }
        if (defined(my $raw = delete $tags->{1})) {
            $res{finalized_features_epoch} =
                kafka_reader($raw, 'FinalizedFeaturesEpoch')->int64;
        }
        if (defined(my $raw = delete $tags->{2})) {
            my $t = kafka_reader($raw, 'FinalizedFeatures');
            $res{finalized_features} = $t->compact_array(sub {
                my ($r) = @_;
                my %f = (name => $r->compact_string,
                         max_version_level => $r->int16,
                         min_version_level => $r->int16);
                $r->tagged_fields;
                return \%f;
            });
        }
        if (defined(my $raw = delete $tags->{3})) {
            $res{zk_migration_ready} =
                kafka_reader($raw, 'ZkMigrationReady')->bool;
        }
        $res{tagged_fields} = $tags;
    }
    $r->expect_end;
    return \%res;
}

# Metadata v0..v13: throttle_time_ms (v3+), brokers => [ { node_id, host,
# port, rack (v1+) } ], cluster_id (v2+), controller_id (v1+),
# topics => [ { error_code, name, topic_id (v10+, hex), is_internal (v1+),
# partitions => [ { error_code, partition_index, leader_id, leader_epoch
# (v7+), replica_nodes, isr_nodes, offline_replicas (v5+) } ],
# topic_authorized_operations (v8+) } ], cluster_authorized_operations
# (v8..v10), error_code (v13+).
sub parse_metadata_response {
    my ($payload, $v) = @_;
    $v //= 12;
    my $flex = $v >= 9;
    my $r = kafka_reader($payload, "Metadata v$v response");
    my %res = (correlation_id => $r->int32);
    $res{header_tagged_fields} = $r->tagged_fields if $flex;
    my $str = $flex ? sub { $_[0]->compact_string } : sub { $_[0]->string };
    my $arr = $flex ? sub { $_[0]->compact_array($_[1]) }
                    : sub { $_[0]->array($_[1]) };
    my $int32s = sub { $arr->($_[0], sub { $_[0]->int32 }) };
    $res{throttle_time_ms} = $r->int32 if $v >= 3;
    $res{brokers} = $arr->($r, sub {
        my ($r) = @_;
        my %b = (node_id => $r->int32, host => $str->($r), port => $r->int32);
        $b{rack} = $str->($r) if $v >= 1;
        $b{tagged_fields} = $r->tagged_fields if $flex;
        return \%b;
    });
    $res{cluster_id} = $str->($r) if $v >= 2;
    $res{controller_id} = $r->int32 if $v >= 1;
    $res{topics} = $arr->($r, sub {
        my ($r) = @_;
        my %t = (error_code => $r->int16, name => $str->($r));
        $t{topic_id} = $r->uuid if $v >= 10;
        $t{is_internal} = $r->bool if $v >= 1;
        $t{partitions} = $arr->($r, sub {
            my ($r) = @_;
            my %p = (error_code => $r->int16, partition_index => $r->int32,
                     leader_id => $r->int32);
            $p{leader_epoch} = $r->int32 if $v >= 7;
            $p{replica_nodes} = $int32s->($r);
            $p{isr_nodes} = $int32s->($r);
            $p{offline_replicas} = $int32s->($r) if $v >= 5;
            $p{tagged_fields} = $r->tagged_fields if $flex;
            return \%p;
        });
        $t{topic_authorized_operations} = $r->int32 if $v >= 8;
        $t{tagged_fields} = $r->tagged_fields if $flex;
        return \%t;
    });
    $res{cluster_authorized_operations} = $r->int32 if $v >= 8 && $v <= 10;
    $res{error_code} = $r->int16 if $v >= 13;
    $res{tagged_fields} = $r->tagged_fields if $flex;
    $r->expect_end;
    return \%res;
}

# FindCoordinator v0..v6. v0..v3: error_code, error_message (v1+), node_id,
# host, port, throttle_time_ms (v1+). v4+: throttle_time_ms,
# coordinators => [ { key, node_id, host, port, error_code, error_message } ].
# For v0..v3 the single answer is also given as coordinators->[0].
sub parse_find_coordinator_response {
    my ($payload, $v) = @_;
    $v //= 4;
    my $flex = $v >= 3;
    my $r = kafka_reader($payload, "FindCoordinator v$v response");
    my %res = (correlation_id => $r->int32);
    $res{header_tagged_fields} = $r->tagged_fields if $flex;
    my $str = $flex ? sub { $_[0]->compact_string } : sub { $_[0]->string };
    $res{throttle_time_ms} = $r->int32 if $v >= 1;
    if ($v >= 4) {
        $res{coordinators} = $r->compact_array(sub {
            my ($r) = @_;
            my %c = (key => $r->compact_string, node_id => $r->int32,
                     host => $r->compact_string, port => $r->int32,
                     error_code => $r->int16,
                     error_message => $r->compact_string);
            $c{tagged_fields} = $r->tagged_fields;
            return \%c;
        });
    } else {
        $res{error_code} = $r->int16;
        $res{error_message} = $str->($r) if $v >= 1;
        $res{node_id} = $r->int32;
        $res{host} = $str->($r);
        $res{port} = $r->int32;
        $res{coordinators} = [ { map { $_ => $res{$_} }
            qw(node_id host port error_code error_message) } ];
    }
    $res{tagged_fields} = $r->tagged_fields if $flex;
    $r->expect_end;
    return \%res;
}

# --- diagnostics ------------------------------------------------------------------

# hexdump($bytes [, $max]): "0000  00 01 ...  |..|" lines
sub hexdump {
    my ($b, $max) = @_;
    return '(undef)' unless defined $b;
    my $total = length $b;
    $b = substr($b, 0, $max) if defined $max && $total > $max;
    my $out = '';
    for (my $i = 0; $i < length $b; $i += 16) {
        my $chunk = substr($b, $i, 16);
        (my $asc = $chunk) =~ tr/\x20-\x7e/./c;
        $out .= sprintf "%04x  %-47s  |%s|\n", $i,
            join(' ', map { sprintf '%02x', ord } split //, $chunk), $asc;
    }
    $out .= "... ($total bytes)\n" if length $b < $total;
    return $out eq '' ? "(empty)\n" : $out;
}

# kafka_reader($bytes [, $what]): a Kafka::Frame::Reader
sub kafka_reader { return Kafka::Frame::Reader->new(@_); }

package Kafka::Frame::Reader;

# A cursor over Kafka-encoded bytes. Every read dies with the offset and
# what was being read when the bytes run short.

use strict;
use warnings;
use Carp qw(croak);

sub new {
    my ($class, $bytes, $what) = @_;
    return bless { b => $bytes // '', pos => 0, what => $what // 'data' },
                 $class;
}

sub pos       { $_[0]{pos} }
sub remaining { length($_[0]{b}) - $_[0]{pos} }
sub at_end    { $_[0]->remaining == 0 }

sub take {
    my ($self, $n, $what) = @_;
    croak sprintf "%s: short read at offset %d: need %d bytes for %s, have %d",
        $self->{what}, $self->{pos}, $n, $what // 'bytes', $self->remaining
        if $n < 0 || $self->remaining < $n;
    my $s = substr($self->{b}, $self->{pos}, $n);
    $self->{pos} += $n;
    return $s;
}

# the rest of the bytes (consumed)
sub rest { my ($self) = @_; return $self->take($self->remaining); }

sub expect_end {
    my ($self) = @_;
    croak sprintf "%s: %d trailing bytes at offset %d", $self->{what},
        $self->remaining, $self->{pos} if $self->remaining;
    return 1;
}

sub int8    { unpack 'c',  $_[0]->take(1, 'int8') }
sub int16   { unpack 's>', $_[0]->take(2, 'int16') }
sub int32   { unpack 'l>', $_[0]->take(4, 'int32') }
sub int64   { unpack 'q>', $_[0]->take(8, 'int64') }
sub uint16  { unpack 'n',  $_[0]->take(2, 'uint16') }
sub uint32  { unpack 'N',  $_[0]->take(4, 'uint32') }
sub float64 { unpack 'd>', $_[0]->take(8, 'float64') }
sub bool    { unpack('C', $_[0]->take(1, 'bool')) ? 1 : 0 }
sub uuid    { unpack 'H32', $_[0]->take(16, 'uuid') }

sub uvarint {
    my ($self) = @_;
    my ($v, $shift) = (0, 0);
    while (1) {
        my $b = ord $self->take(1, 'varint');
        $v |= ($b & 0x7f) << $shift;
        last unless $b & 0x80;
        $shift += 7;
        croak "$self->{what}: varint too long at offset $self->{pos}"
            if $shift > 63;
    }
    return $v;
}

sub varint {
    my ($self) = @_;
    my $z = $self->uvarint;
    return $z & 1 ? -(($z >> 1) + 1) : $z >> 1;
}

# nullable forms return undef for null
sub string {
    my ($self) = @_;
    my $n = $self->int16;
    return undef if $n < 0;
    return $self->take($n, 'string');
}
sub nullable_string { goto &string }

sub compact_string {
    my ($self) = @_;
    my $n = $self->uvarint;
    return undef if $n == 0;
    return $self->take($n - 1, 'compact string');
}
sub compact_nullable_string { goto &compact_string }

sub bytes {
    my ($self) = @_;
    my $n = $self->int32;
    return undef if $n < 0;
    return $self->take($n, 'bytes');
}
sub nullable_bytes { goto &bytes }

sub compact_bytes {
    my ($self) = @_;
    my $n = $self->uvarint;
    return undef if $n == 0;
    return $self->take($n - 1, 'compact bytes');
}
sub compact_nullable_bytes { goto &compact_bytes }

# array($elem): arrayref of $elem->($reader) results, undef for null
sub array {
    my ($self, $elem) = @_;
    my $n = $self->int32;
    return undef if $n < 0;
    croak "$self->{what}: array count $n exceeds the remaining bytes"
        if $n > $self->remaining;
    return [ map { $elem->($self) } 1 .. $n ];
}

sub compact_array {
    my ($self, $elem) = @_;
    my $n = $self->uvarint;
    return undef if $n == 0;
    croak "$self->{what}: compact array count exceeds the remaining bytes"
        if $n - 1 > $self->remaining;
    return [ map { $elem->($self) } 1 .. $n - 1 ];
}

# tagged fields: { tag => raw bytes }
sub tagged_fields {
    my ($self) = @_;
    my $n = $self->uvarint;
    my %tags;
    for (1 .. $n) {
        my $tag = $self->uvarint;
        my $size = $self->uvarint;
        $tags{$tag} = $self->take($size, "tagged field $tag");
    }
    return \%tags;
}

1;
