# Hostile frames, part two (issue 8; part one is t/093-hostile-frames.t):
#
#  - bogus compression: a Produce whose RecordBatch claims gzip, snappy,
#    lz4 or zstd but holds garbage, under a valid CRC-32C (so only the
#    decompression fails).  On a topic a produce masking rule touches, the
#    gateway cannot mask it and does not forward it (docs/masking.md):
#    CORRUPT_MESSAGE for that partition, REQUEST_TIMED_OUT for the other
#    partition of the request (not written), the connection stays usable;
#    with acks=0 the connection closes, with a protocol_error audit event
#    that says why.  On a topic no rule touches the request goes to the
#    broker and the client gets the broker's own answer, the same one the
#    broker gives to the same bytes sent to it directly.
#  - duplicate correlation ids in flight on one connection: Kafka does not
#    reject them and neither does the gateway (docs/threat-model.md): it
#    matches answers by order, so every request gets its own answer, in
#    order, whether the broker, the policy (a local denial) or the
#    gateway's own Metadata request (topic id resolution, whose correlation
#    id the client reuses here) is behind it.
#
# A well-behaved connection opened first keeps working; no alert, no crash.
# Needs the "kafka" and "redis" environments (t/bin/kafka-cluster start,
# t/bin/redis-env start).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir spew);
use Kafka::RecordBatch qw(crc32c record_batch);
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

require_envs(qw(kafka redis));

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = run_dir() . "/t111-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";
END { remove_tree($DIR) if $DIR && Test::More->builder->is_passing; }

my $RPORT = test_env('redis')->{REDIS_PORT};
my $PREFIX = "t111:$$:";
my ($KPORT) = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} =~ /:(\d+)$/;
my $MT = "hc.m.$$";          # a produce masking rule touches it
my $PT = "hc.p.$$";          # none does
my $PT2 = "hc.q.$$";         # none does either

spew("$DIR/policy.yaml", <<'YAML');
policy_version: 1
default: deny
grants:
  - id: anyone-rw
    principals: [ "User:ANONYMOUS" ]
    resources: [ { type: topic, name: "hc.", match: prefix } ]
    operations: [ read, write, describe, create ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T111"
masking:
  - id: ssn-in
    topics: [ { name: "hc.m.", match: prefix } ]
    principals: [ "User:*" ]
    direction: produce
    fields:
      - { path: "$.ssn", strategy: redact }
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T111"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info',
    main_config => "user root;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

sub connect_to {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5);
    die "connect: $!" unless $s;
    return $s;
}

# one response frame (payload) from $s; undef on EOF or timeout
sub read_frame {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $end = time + ($timeout // 15);
    ${*$s}{buf} //= '';
    while (time < $end) {
        my $b = \${*$s}{buf};
        if (length $$b >= 4) {
            my $n = unpack('l>', $$b);
            if (length($$b) >= 4 + $n) {
                my $f = substr($$b, 4, $n);
                substr($$b, 0, 4 + $n) = '';
                return $f;
            }
        }
        $sel->can_read(0.2) or next;
        my $r = sysread($s, $$b, 65536, length $$b);
        return undef unless $r;
    }
    return undef;
}

# 1 when $s is closed by the other side within $timeout without a byte
sub closed_silently {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my ($got, $end) = ('', time + ($timeout // 10));
    while (time < $end) {
        $sel->can_read(0.2) or next;
        my $r = sysread($s, $got, 65536, length $got);
        return $got eq '' ? 1 : 0 unless $r;
    }
    return 0;
}

# a magic 2 batch of one record whose attributes name $codec and whose
# records section is $payload (CRC-32C computed over it: valid)
my %CODEC = (gzip => 1, snappy => 2, lz4 => 3, zstd => 4);
sub bogus_batch {
    my ($codec, $payload) = @_;
    my $after_crc = enc_int16($CODEC{$codec}) . enc_int32(0)
        . enc_int64(1700000000000) . enc_int64(1700000000000)
        . enc_int64(-1) . enc_int16(-1) . enc_int32(-1)
        . enc_int32(1) . $payload;
    my $after_len = enc_int32(0) . enc_int8(2)
        . pack('N', crc32c($after_crc)) . $after_crc;
    return enc_int64(0) . enc_int32(length $after_len) . $after_len;
}

# garbage that each codec's header check passes or not, deterministic
my %GARBAGE = (
    gzip   => "\x1f\x8b\x08\x00" . ("\xde\xad\xbe\xef" x 16),   # gzip magic, then junk
    snappy => "\x82SNAPPY\x00" . pack('NN', 1, 1) . pack('N', 40)
              . ("\xff" x 40),                             # xerial header, bad block
    lz4    => "\x04\x22\x4d\x18" . ("\x5a" x 48),            # LZ4 frame magic, junk
    zstd   => "\x28\xb5\x2f\xfd" . ("\xa5" x 48),            # zstd magic, junk
);

# Produce v9 of [topic, partition 0, records] pairs
sub produce {
    my ($cid, $acks, @parts) = @_;
    my %by;
    my @order;
    for my $p (@parts) {
        push @order, $p->[0] unless $by{$p->[0]};
        push @{ $by{$p->[0]} }, $p->[1];
    }
    my $body = enc_compact_nullable_string(undef) . enc_int16($acks)
        . enc_int32(5000)
        . enc_compact_array([ map {
              my $t = $_;
              enc_compact_string($t) . enc_compact_array([ map {
                  enc_int32(0) . enc_compact_nullable_bytes($_)
                  . enc_tagged_fields() } @{ $by{$t} } ])
              . enc_tagged_fields() } @order ])
        . enc_tagged_fields();
    return kafka_request(api_key => 0, version => 9, correlation_id => $cid,
                         client_id => 't111', body => $body);
}

# Produce v9 response: (correlation id, { topic => [ error, base offset ] })
sub parse_produce {
    my ($f) = @_;
    my $r = kafka_reader($f, 'Produce v9 response');
    my $cid = $r->int32;
    $r->tagged_fields;
    my %res;
    $r->compact_array(sub {
        my $t = $_[0];
        my $name = $t->compact_string;
        $t->compact_array(sub {
            my $p = $_[0];
            $p->int32;
            my $err = $p->int16;
            my $base = $p->int64;
            $p->int64;
            $p->int64;
            $p->compact_array(sub { $_[0]->int32; $_[0]->compact_string;
                                    $_[0]->tagged_fields });
            $p->compact_string;
            $p->tagged_fields;
            $res{$name} = [ $err, $base ];
        });
        $t->tagged_fields;
    });
    $r->int32;
    $r->tagged_fields;
    return ($cid, \%res);
}

# the topics exist (auto-created by Metadata on the broker itself)
{
    my $s = connect_to($KPORT);
    syswrite($s, metadata_request(version => 12, correlation_id => 1,
                                  topics => [ $MT, $PT, $PT2 ]));
    read_frame($s);
    my $ok = 0;
    for (1 .. 40) {
        syswrite($s, metadata_request(version => 12, correlation_id => 2,
                                      topics => [ $MT, $PT, $PT2 ]));
        my $m = parse_metadata_response(read_frame($s), 12);
        $ok = !grep { $_->{error_code} || !@{ $_->{partitions} } } @{ $m->{topics} };
        last if $ok;
        sleep 0.25;
    }
    ok($ok, 'the test topics exist');
    close $s;
}

# the end offset of partition 0 of $topic, from the broker (ListOffsets v7)
sub end_offset {
    my ($topic) = @_;
    my $s = connect_to($KPORT);
    syswrite($s, kafka_request(api_key => 2, version => 7, correlation_id => 9,
        body => enc_int32(-1) . enc_int8(0)
              . enc_compact_array([ enc_compact_string($topic)
                  . enc_compact_array([ enc_int32(0) . enc_int32(-1)
                                        . enc_int64(-1) . enc_tagged_fields() ])
                  . enc_tagged_fields() ])
              . enc_tagged_fields()));
    my $r = kafka_reader(read_frame($s), 'ListOffsets v7 response');
    close $s;
    $r->int32; $r->tagged_fields; $r->int32;
    my $off;
    $r->compact_array(sub {
        $_[0]->compact_string;
        $_[0]->compact_array(sub {
            my $p = $_[0];
            $p->int32; $p->int16; $p->int64;
            $off = $p->int64;
            $p->int32; $p->tagged_fields;
        });
        $_[0]->tagged_fields;
    });
    return $off;
}

# a well-behaved client, connected before and kept through it all
my $good = connect_to($ng->{port});
syswrite($good, metadata_request(version => 12, correlation_id => 1, topics => [ $PT ]));
my $gm = read_frame($good);
ok($gm && parse_metadata_response($gm, 12)->{topics}[0]{error_code} == 0,
   'a well-behaved client is answered');

my $good_batch = record_batch(records => [ { key => 'k', value => '{"ssn":"1"}' } ]);
my $cid = 100;
my $closed_expected = 0;

for my $codec (qw(gzip snappy lz4 zstd)) {
    my $bad = bogus_batch($codec, $GARBAGE{$codec});

    # masked topic: refused by the gateway, nothing written
    my ($m0, $p0) = (end_offset($MT), end_offset($PT));
    my $s = connect_to($ng->{port});
    syswrite($s, produce(++$cid, 1, [ $MT, $bad ], [ $PT, $good_batch ]));
    my $f = read_frame($s);
    my ($rcid, $res) = $f ? parse_produce($f) : (0, {});
    is($rcid, $cid, "$codec, masked topic: answered");
    is($res->{$MT}[0], 2, "$codec, masked topic: CORRUPT_MESSAGE for the bogus batch");
    is($res->{$PT}[0], 7, "$codec, masked topic: REQUEST_TIMED_OUT for the rest of the request");
    is(end_offset($MT) . '/' . end_offset($PT), "$m0/$p0",
       "$codec, masked topic: nothing written to either topic");
    # the connection goes on
    syswrite($s, produce(++$cid, 1, [ $PT, $good_batch ]));
    ($rcid, $res) = parse_produce(read_frame($s) // die 'no answer');
    ok($rcid == $cid && $res->{$PT}[0] == 0 && end_offset($PT) == $p0 + 1,
       "$codec, masked topic: the same connection then writes a good batch");
    close $s;

    # same with acks=0: no answer to give, the connection closes
    $s = connect_to($ng->{port});
    syswrite($s, produce(++$cid, 0, [ $MT, $bad ]));
    ok(closed_silently($s), "$codec, masked topic, acks=0: the connection is closed");
    $closed_expected++;
    close $s;
    is(end_offset($MT), $m0, "$codec, masked topic, acks=0: nothing written");

    # unmasked topic: the broker's own answer, as to the same bytes direct
    my $req = produce(++$cid, 1, [ $PT2, $bad ], [ $PT, $good_batch ]);
    my $d = connect_to($KPORT);
    syswrite($d, $req);
    my ($dcid, $dres) = parse_produce(read_frame($d) // die 'no broker answer');
    close $d;
    $p0 = end_offset($PT);
    $s = connect_to($ng->{port});
    syswrite($s, $req);
    ($rcid, $res) = parse_produce(read_frame($s) // die 'no answer');
    close $s;
    ok($dres->{$PT2}[0] != 0, "$codec, unmasked topic: the broker refuses the batch "
       . "itself (error $dres->{$PT2}[0])");
    is($res->{$PT2}[0], $dres->{$PT2}[0],
       "$codec, unmasked topic: the client gets the broker's error");
    ok($res->{$PT}[0] == 0 && end_offset($PT) == $p0 + 1,
       "$codec, unmasked topic: the good partition of the request is written");
}

# --- duplicate correlation ids in flight on one connection ----------------------

my $unknown_id = 'd0d0cafe' x 4;
{
    my $s = connect_to($ng->{port});
    # all in one write: none is answered before the last is sent
    syswrite($s, api_versions_request(version => 3, correlation_id => 7)
        . metadata_request(version => 12, correlation_id => 7, topics => [ $PT ])
        . metadata_request(version => 12, correlation_id => 7,
                           topics => [ "secret.$$" ])
        . produce(7, 1, [ $PT, $good_batch ])
        # an unknown topic id: the gateway asks the broker with its own
        # Metadata request, correlation id 1 on this connection
        . metadata_request(version => 12, correlation_id => 1,
                           topics => [ { topic_id => $unknown_id } ])
        . metadata_request(version => 9, correlation_id => 1, topics => [ $PT ]));
    my @f = map { read_frame($s) } 1 .. 6;
    is(scalar(grep { defined } @f), 6, 'duplicate correlation ids: six answers');
    my $av = eval { parse_api_versions_response($f[0], 3) };
    ok($av && $av->{correlation_id} == 7 && $av->{error_code} == 0
       && @{ $av->{api_keys} } > 10, 'the ApiVersions answer first')
        or diag($@);
    my $m1 = eval { parse_metadata_response($f[1], 12) };
    ok($m1 && $m1->{correlation_id} == 7 && $m1->{topics}[0]{name} eq $PT
       && $m1->{topics}[0]{error_code} == 0, 'then the broker\'s Metadata for the topic')
        or diag($@);
    my $m2 = eval { parse_metadata_response($f[2], 12) };
    ok($m2 && $m2->{correlation_id} == 7 && $m2->{topics}[0]{name} eq "secret.$$"
       && $m2->{topics}[0]{error_code} == 29,
       'then the policy\'s own denial (TOPIC_AUTHORIZATION_FAILED)') or diag($@);
    my ($pc, $pr) = eval { parse_produce($f[3]) };
    ok($pc && $pc == 7 && $pr->{$PT}[0] == 0, 'then the Produce answer')
        or diag($@);
    my $m3 = eval { parse_metadata_response($f[4], 12) };
    ok($m3 && $m3->{correlation_id} == 1 && $m3->{topics}[0]{topic_id} eq $unknown_id
       && $m3->{topics}[0]{error_code} == 100,
       'then UNKNOWN_TOPIC_ID for the id, not the gateway\'s own answer') or diag($@);
    my $m4 = eval { parse_metadata_response($f[5], 9) };
    ok($m4 && $m4->{correlation_id} == 1 && $m4->{topics}[0]{name} eq $PT,
       'then the Metadata v9 answer') or diag($@);
    # and it goes on
    syswrite($s, api_versions_request(version => 3, correlation_id => 7));
    my $more = read_frame($s);
    ok($more && parse_api_versions_response($more, 3)->{correlation_id} == 7,
       'the connection stays open');
    close $s;
}

syswrite($good, metadata_request(version => 12, correlation_id => 2, topics => [ $PT ]));
$gm = read_frame($good);
ok($gm && parse_metadata_response($gm, 12)->{correlation_id} == 2,
   'the well-behaved client still works');
close $good;

# the audit trail: a protocol_error for each closed connection, saying why
my @why;
my $t = time + 15;
do {
    sleep 0.3;
    my $x = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE',
                             "${PREFIX}audit", '-', '+' ], timeout => 10);
    my @l = split /\n/, $x->{stdout} // '';
    @why = ();
    for my $i (0 .. $#l - 1) {
        next unless $l[$i] eq 'event' && $l[$i + 1] eq 'protocol_error';
        for my $j ($i + 2 .. ($i + 40 < $#l ? $i + 40 : $#l - 1)) {
            last if $l[$j] eq 'event';
            push(@why, $l[$j + 1]), last if $l[$j] eq 'error';
        }
    }
} until (@why >= $closed_expected || time > $t);
is(scalar @why, $closed_expected, 'a protocol_error event per closed connection')
    or diag(join "\n", @why);
is(scalar(grep { /Produce/ && /cannot be masked/ && /topic "\Q$MT\E" partition 0/ } @why),
   $closed_expected, 'each says the Produce to that partition could not be masked')
    or diag(join "\n", @why);

my $log = hoop_nginx_stop($ng);
my $refused = () = $log =~ /masking: Produce of "[^"]*" to topic "\Q$MT\E" partition 0 refused \(Kafka error 2\)/g;
is($refused, 8, 'the error log names each refused batch');
unlike($log, qr/closing connection: broker response has correlation id/,
       'no answer was mismatched');
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');

Test::More::done_testing();
