# Hostile frames (issue 8): each closes only its own connection, with an
# error log line and a protocol_error audit event that says why; a client
# connected at the same time keeps working, and nothing crashes.  Frames:
# a negative and a huge size prefix, an array count larger than the frame,
# a truncated varint, a frame shorter than its request header.  And a
# client cannot forge an audit event: a client_id and a topic name full of
# JSON and newlines end up as those exact strings in the fields they
# belong to, nothing more.  Real broker, real Redis.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew);
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use IO::Select;
use JSON::PP ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-hostile-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t093r$$";
my $PREFIX = "t093:$$:";

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

spew("$DIR/policy.yaml", <<'YAML');
policy_version: 1
default: deny
grants:
  - id: anyone-describes
    principals: [ "User:ANONYMOUS" ]
    resources: [ { type: topic, name: "ok.", match: prefix } ]
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T093"
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

# one Kafka response frame from $s (undef on EOF or timeout)
sub read_frame {
    my ($s, $timeout) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + ($timeout // 10);
    while (time < $end) {
        if (length $buf >= 4) {
            my $n = unpack('l>', $buf);
            return substr($buf, 4, $n) if length($buf) >= 4 + $n;
        }
        $sel->can_read(0.2) or next;
        my $r = sysread($s, $buf, 65536, length $buf);
        return undef unless $r;
    }
    return undef;
}

sub connect_gw {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5);
    die "connect: $!" unless $s;
    return $s;
}

# a well-behaved client, connected before and kept through the attacks
my $good = connect_gw();
syswrite($good, metadata_request(version => 12, correlation_id => 1, topics => undef));
my $f = read_frame($good);
ok($f && parse_metadata_response($f, 12)->{correlation_id} == 1,
   'a well-behaved client is answered');

my $hdr12 = enc_int16(3) . enc_int16(12) . enc_int32(9) . enc_string('evil')
            . enc_tagged_fields();
my @cases = (
    [ 'a negative size prefix', pack('l>', -5) . 'abcd',
      qr/invalid Kafka frame size/ ],
    [ 'a size prefix of 2 GiB', pack('l>', 0x7fffffff) . 'abcd',
      qr/invalid Kafka frame size/ ],
    [ 'an array count larger than the frame',
      kafka_frame($hdr12 . enc_uvarint(201) . enc_uuid(undef)
                  . enc_compact_string('t') . enc_tagged_fields()),
      qr/./ ],
    [ 'a truncated varint', kafka_frame($hdr12 . "\x80\x80"), qr/./ ],
    [ 'a frame shorter than its request header', kafka_frame("\x00\x03\x00"),
      qr/./ ],
);

for my $c (@cases) {
    my ($name, $bytes) = @$c;
    my $s = connect_gw();
    syswrite($s, $bytes);
    my $sel = IO::Select->new($s);
    my ($got, $eof) = ('', 0);
    my $end = time + 10;
    while (time < $end) {
        $sel->can_read(0.2) or next;
        my $r = sysread($s, $got, 65536, length $got);
        if (!$r) { $eof = 1; last; }
    }
    ok($eof && $got eq '', "$name: the connection is closed, nothing answered");
}

syswrite($good, metadata_request(version => 12, correlation_id => 2, topics => undef));
$f = read_frame($good);
ok($f && parse_metadata_response($f, 12)->{correlation_id} == 2,
   'the well-behaved client still works');
close $good;

# the audit trail: one protocol_error per hostile connection, with why
my @ev;
my $t = time + 10;
do {
    sleep 0.2;
    my $x = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE',
                             "${PREFIX}audit", '-', '+' ], timeout => 10);
    my @l = split /\n/, $x->{stdout} // '';
    @ev = ();
    for my $i (0 .. $#l - 1) {
        next unless $l[$i] eq 'event' && $l[$i + 1] eq 'protocol_error';
        my ($err) = map { $l[$_ + 1] } grep { $l[$_] eq 'error' } $i .. ($i + 40 < $#l ? $i + 40 : $#l - 1);
        push @ev, $err // '';
    }
} until (@ev >= @cases || time > $t);
is(scalar @ev, scalar @cases, 'a protocol_error event per hostile connection')
    or diag(join "\n", @ev);
# a size prefix below a request header's 8 bytes is an invalid size too
is(scalar(grep { /invalid Kafka frame size/ } @ev), 3, 'the bad sizes, named as such')
    or diag(join "\n", @ev);
is(scalar(grep { !/invalid Kafka frame size/ } @ev), 2,
   'the undecodable requests, with the decoder\'s reason') or diag(join "\n", @ev);
ok(!grep({ !/\S/ } @ev), 'every event says why') or diag(join "\n", @ev);
my $xr = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, 'XLEN', "${PREFIX}audit:denied" ],
                 timeout => 10);
ok(($xr->{stdout} // 0) >= @cases, 'and they are in the stream of events that need attention');

# forging: JSON and newlines in what the client controls
my $evil_id = qq(x","principal":"User:admin","decision":"allow"}\n{"event":"request);
my $evil_topic = qq(t","decision":"allow","principal":"User:admin);
{
    my $s = connect_gw();
    syswrite($s, metadata_request(version => 12, correlation_id => 77,
                                  client_id => $evil_id, topics => [ $evil_topic ]));
    my $f = read_frame($s);
    ok($f && parse_metadata_response($f, 12)->{correlation_id} == 77,
       'the request with a forged-looking client_id and topic is answered');
    close $s;
}
my @forged;
$t = time + 10;
do {
    sleep 0.2;
    my $r = run_cmd(cmd => [ "$repo/build/tools/hoopctl", '--redis', "127.0.0.1:$RPORT",
                             '--prefix', $PREFIX, 'audit', 'tail', '--count', '200',
                             '--json' ], timeout => 20);
    @forged = grep { ($_->{client_id} // '') eq $evil_id }
              map { eval { JSON::PP::decode_json($_) } // () } split /\n/, $r->{stdout} // '';
} until (grep({ $_->{event} eq 'request' } @forged) || time > $t);
my ($req) = grep { $_->{event} eq 'request' } @forged;
ok($req, 'the decision is an event, client_id kept exactly') or diag(scalar @forged);
is($req && $req->{resource}, $evil_topic, 'the topic name kept exactly, as the resource');
is($req && $req->{principal}, 'ANONYMOUS', 'the principal is the real one');
is($req && $req->{decision}, 'deny', 'and the decision the policy took');
ok(!grep({ ($_->{principal} // '') eq 'User:admin' || ($_->{principal} // '') eq 'admin' } @forged),
   'no event claims the forged principal');

# many connections closing at once: more than one batch of events (64)
# queued together (the writer's argument array was one short for a full
# batch: the worker died of stack smashing)
my @many = map { connect_gw() } 1 .. 300;
sleep 0.5;
close $_ for @many;
my $closed_n = 0;
$t = time + 15;
do {
    sleep 0.3;
    my $r = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE',
                             "${PREFIX}audit", '-', '+' ], timeout => 20);
    $closed_n = () = ($r->{stdout} // '') =~ /^event\nclosed$/mg;
} until ($closed_n >= 300 || time > $t);
ok($closed_n >= 300, "300 connections closed at once: their events written ($closed_n closed events)");

my $log = hoop_nginx_stop($ng);
my $closed = () = $log =~ /closing connection: bad Kafka request from client|invalid Kafka frame size/g;
ok($closed >= @cases, "the error log names each ($closed lines)");
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');

Test::More::done_testing();
remove_tree($DIR) if Test::More->builder->is_passing;
