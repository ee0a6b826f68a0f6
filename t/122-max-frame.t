# Frames at the size limit (issue 8): with hoop_max_frame_size 1m, a
# Produce request whose body is exactly 1,048,576 bytes is forwarded and
# stored intact (five times on one connection, sent slowly the first
# time), one byte more closes only that connection with a log line, and a
# maximum frame announced but only half sent is closed by proxy_timeout.
# Another client is answered throughout, and the worker's memory after
# five maximum frames is what it was after one: nothing kept per frame.
# Real broker; the records are read back with kcat straight from it.
#
# Needs: t/bin/kafka-cluster start (Kafka), kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(slurp);
use Kafka::Topic;
use Kafka::RecordBatch qw(produce_request);
use Digest::MD5 qw(md5_hex);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

require_envs(qw(kafka));

plan tests => 16;

my $MAX = 1048576;
my $BOOT = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my $TOPIC = "t122.max-$$";
kafka_ensure_topic($BOOT, $TOPIC);

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info',
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<'CONF');
hoop on;
hoop_max_frame_size 1m;
proxy_timeout 3s;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

END { hoop_nginx_stop($ng) if $ng; }

sub rss_kb {
    my $st = slurp("/proc/$_[0]/status") // '';
    return $st =~ /^VmRSS:\s+(\d+) kB/m ? $1 : undef;
}

sub kconnect {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5);
    die "connect: $!" unless $s;
    return $s;
}

# Produce v9 response: [correlation id, error code, base offset] of the
# first partition
sub produce_result {
    my ($p) = @_;
    return [ $p ] if $p eq 'closed' || $p eq 'timeout';
    my $h = parse_response_header($p, 1);
    my $r = kafka_reader($h->{body}, 'ProduceResponse');
    my $n = $r->uvarint;                       # topics + 1
    $r->compact_string;
    $r->uvarint;                               # partitions + 1
    $r->int32;
    return [ $h->{correlation_id}, $r->int16, $r->int64 ];
}

# client B: a Metadata request, answered within how many seconds
my $B = kconnect();
my $corr_b = 0;
sub metadata_b {
    my $t0 = time;
    my $e = kafka_describe($B, $TOPIC, ++$corr_b);
    return ($e, time - $t0);
}

my ($e0) = metadata_b();
is($e0, 0, 'client B describes the topic');

# --- a Produce request of exactly $MAX body bytes -----------------------------
# The value is "0000000,0000001,..." cut to length: any lost, doubled or
# moved byte changes it.

sub value_of { my ($n) = @_; return substr(join('', map { sprintf '%07d,', $_ } 0 .. $n / 8 + 1), 0, $n); }

sub produce_of {
    my ($len, $corr) = @_;
    return produce_request(version => 9, correlation_id => $corr, acks => 1,
                           topic => $TOPIC, partition => 0,
                           records => [ { key => 'max', value => value_of($len) } ]);
}

my $len = 1_000_000;
my $req = produce_of($len, 1);
$len += $MAX - (length($req) - 4);
$req = produce_of($len, 1);
is(length($req) - 4, $MAX, "a Produce request of exactly $MAX bytes (a $len-byte value)");

my ($wpid) = hoop_worker_pids($ng);
my $rss0 = rss_kb($wpid);

my $A = kconnect();
my ($slowest, @b_errors) = (0);
for (my $off = 0; $off < length $req; $off += 65536) {
    syswrite($A, substr($req, $off, 65536));
    my ($e, $secs) = metadata_b();
    push @b_errors, $e if $e ne '0';
    $slowest = $secs if $secs > $slowest;
    sleep 0.03;
}
my $res = produce_result(kafka_read_frame($A, 15));
is_deeply([ @$res[0, 1] ], [ 1, 0 ], 'sent in 17 slow pieces, it is acknowledged (error NONE)')
    or diag(explain($res));
is(scalar @b_errors, 0, 'client B was answered meanwhile') or diag("@b_errors");
cmp_ok($slowest, '<', 1, sprintf('client B waited at most %.3f s', $slowest));

my $rss1 = rss_kb($wpid);
my @offsets = ($res->[2]);
for my $c (2 .. 5) {
    substr($req, 8, 4) = pack('l>', $c);       # the correlation id
    syswrite($A, $req) == length $req or last;
    my $r = produce_result(kafka_read_frame($A, 15));
    push @offsets, $r->[1] eq '0' && $r->[0] == $c ? $r->[2] : "error @$r";
}
my $rss5 = rss_kb($wpid);
is_deeply([ map { $_ - $offsets[0] } grep { /^\d+$/ } @offsets ], [ 0 .. 4 ],
          'four more on the same connection, each acknowledged in order')
    or diag("@offsets");
SKIP: {
    # ASan keeps freed memory in quarantine (256 MiB): RSS says nothing there
    skip 'RSS under the sanitizer', 2 if $ENV{HOOP_SANITIZER_REPORTS};
    cmp_ok($rss5 - $rss1, '<', 4096,
           "worker RSS after five maximum frames: ${rss5} kB, after one: ${rss1} kB (before: ${rss0} kB)");
    cmp_ok($rss1 - $rss0, '<', 20480, 'one maximum frame costs the worker less than 20 MiB');
}

# --- one byte more -----------------------------------------------------------

my $C = kconnect();
syswrite($C, pack('l>', $MAX + 1) . substr($req, 4, 65536));
is(kafka_read_frame($C, 5), 'closed', "a frame of $MAX + 1 bytes: the connection is closed, nothing answered");
like(hoop_error_log($ng), qr/invalid Kafka frame size 1048577 from client \(hoop_max_frame_size 1048576\)/,
     'the error log says why');
my ($e1) = metadata_b();
is($e1, 0, 'client B is still answered');
is(kafka_describe($A, $TOPIC, 6), 0, 'client A is still connected and answered');

# --- a maximum frame announced, half sent, then silence ----------------------

my $D = kconnect();
syswrite($D, substr($req, 0, 4 + $MAX / 2));
my $t0 = time;
my ($got, @b_late) = ('timeout');
# client B asks every 0.5 s meanwhile (which also keeps it from idling out)
while (time - $t0 < 10) {
    if (IO::Select->new($D)->can_read(0.5)) {
        $got = kafka_read_frame($D, 1);
        last;
    }
    my ($e) = metadata_b();
    push @b_late, $e if $e ne '0';
}
my $took = time - $t0;
is($got, 'closed', 'half a maximum frame, then silence: closed');
ok($took > 2 && $took < 6, sprintf('by proxy_timeout 3s (after %.1f s)', $took));
is(scalar @b_late, 0, 'client B was answered while it waited') or diag("@b_late");

# --- what the broker stored ----------------------------------------------------

my $k = run_cmd(cmd => [ 'kcat', '-C', '-b', $BOOT, '-t', $TOPIC, '-p', '0',
                         '-o', $offsets[0], '-c', '5', '-e', '-f', '%k %S %s\n',
                         '-X', 'fetch.message.max.bytes=2000000', '-X', 'check.crcs=true' ],
                timeout => 60);
my $want = 'max ' . $len . ' ' . md5_hex(value_of($len));
my @got = map { my ($kk, $n, $v) = split / /, $_, 3; "$kk $n " . md5_hex($v // '') }
          split /\n/, $k->{stdout} // '';
is_deeply(\@got, [ ($want) x 5 ], 'kcat reads the five records back intact from the broker')
    or diag("rc $k->{rc}: $k->{stderr}");
