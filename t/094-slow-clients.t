# Slow and idle clients (issue 8): a client that sends half a frame and
# stalls, one that connects and says nothing, and 300 idle connections at
# once.  nginx's proxy_timeout closes them (the module adds no timer of its
# own that could keep them), memory for a half frame follows the bytes
# that arrived, not the announced size, and a well-behaved client is
# answered throughout.  Real broker.
#
# Needs: t/bin/kafka-cluster start (Kafka).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info',
    main_config => "worker_rlimit_nofile 4096;",
    events_config => "worker_connections 2048;",
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<'CONF');
hoop on;
proxy_timeout 2s;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

sub connect_gw {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5);
    die "connect: $!" unless $s;
    return $s;
}

# seconds until $s is closed by the other side (undef: not within $max)
sub closed_after {
    my ($s, $max) = @_;
    my $t0 = time;
    my $sel = IO::Select->new($s);
    while (time - $t0 < $max) {
        $sel->can_read(0.1) or next;
        my $buf;
        my $r = sysread($s, $buf, 65536);
        return time - $t0 if !$r;
    }
    return undef;
}

sub worker_rss_kb {
    my ($w) = hoop_worker_pids($ng);
    open my $f, '<', "/proc/$w/status" or return 0;
    while (<$f>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

sub answered {
    my ($corr) = @_;
    my $s = connect_gw();
    syswrite($s, metadata_request(version => 12, correlation_id => $corr, topics => undef));
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + 10;
    while (time < $end) {
        if (length $buf >= 4 && length($buf) >= 4 + unpack('l>', $buf)) {
            return parse_metadata_response(substr($buf, 4), 12)->{correlation_id} == $corr;
        }
        $sel->can_read(0.2) or next;
        sysread($s, $buf, 65536, length $buf) or return 0;
    }
    return 0;
}

ok(answered(1), 'a well-behaved client is answered');

# half a frame: 50 MB announced, 10 bytes sent, then nothing
my $rss0 = worker_rss_kb();
my $half = connect_gw();
syswrite($half, pack('l>', 50_000_000) . ("\x00" x 10));
my $idle = connect_gw();
sleep 0.3;
ok(worker_rss_kb() - $rss0 < 4096,
   'a 50 MB frame announced costs the bytes that came, not 50 MB');
ok(answered(2), 'others are answered while it stalls');
my $th = closed_after($half, 8);
ok(defined $th && $th < 5, 'the stalled half frame is closed by proxy_timeout'
   . (defined $th ? sprintf(' (%.1f s)', $th) : ''));
my $ti = closed_after($idle, 8);
ok(defined $ti, 'the silent connection too');

# many idle connections at once
my @many = map { connect_gw() } 1 .. 300;
sleep 0.5;
ok(answered(3), '300 idle connections do not keep others waiting');
my $end = time + 8;
my $sel = IO::Select->new(@many);
my %gone;
while (time < $end && keys %gone < @many) {
    for my $s ($sel->can_read(0.2)) {
        my $b;
        if (!sysread($s, $b, 4096)) { $gone{fileno $s} = 1; $sel->remove($s); }
    }
}
is(scalar keys %gone, 300, 'all closed by proxy_timeout');
close $_ for @many;

ok(answered(4), 'and the gateway is as it was');
my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');

Test::More::done_testing();
