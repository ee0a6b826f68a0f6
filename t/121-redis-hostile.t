# A hostile or broken Redis (issue 8): replies that announce arrays of
# billions of elements.  hiredis 0.14 allocates an array's element
# pointers when it reads the "*<count>" header, before any element comes:
# "*2147483647\r\n" made the worker reserve 16 GiB, and nested arrays
# more.  The gateway's readers refuse counts above HOOP_REDIS_MAX_ELEMENTS
# (src/redis/hoop_redis_limit.c): the connection is closed with a log line
# and retried, the worker's address space does not grow, and Kafka
# clients are served meanwhile (policy from a file; audit events spool).
#
# The Redis here is a small server of the test's own: no real Redis sends
# a header for elements it does not have.
#
# Needs: t/bin/kafka-cluster start (Kafka).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(free_port release_ports slurp spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

require_envs(qw(kafka));

plan tests => 9;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-redis-hostile-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $TOPIC = "t121.ok-$$";
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

spew("$DIR/policy.yaml", <<'YAML');
policy_version: 1
default: deny
description: t/121-redis-hostile.t
grants:
  - id: t121-describe
    principals: [ "User:ANONYMOUS" ]
    resources: [ { type: topic, name: "t121.ok-", match: prefix } ]
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T121"
YAML

my $RPORT = free_port(owner => "test $0 hostile redis");

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 3s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT;\n"
                     . "hoop_audit_aggregate 200ms;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth none;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

my $server;
END {
    kill 'KILL', $server if $server;
    hoop_nginx_stop($ng) if $ng;
    release_ports($RPORT) if $RPORT;
}

sub vm_peak_kb {
    my ($pid) = @_;
    my $st = slurp("/proc/$pid/status") // '';
    return $st =~ /^VmPeak:\s+(\d+) kB/m ? $1 : undef;
}

# the worker, before any Redis answers (nothing listens on $RPORT yet)
my $wpid;
for (1 .. 50) { last if (($wpid) = hoop_worker_pids($ng)); sleep 0.1; }
sleep 1;
my $peak0 = vm_peak_kb($wpid);
ok($wpid && $peak0, "worker $wpid, VmPeak before ${\($peak0 // '?')} kB");

# --- the hostile Redis: every read answered by a huge array header --------
# Connections alternate between a flat header and one nested in an array.

my @HEADERS = ("*2147483647\r\n", "*1\r\n*1500000000\r\n");

$server = fork;
die "fork: $!" unless defined $server;
if ($server == 0) {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $RPORT,
                                  Listen => 64, ReuseAddr => 1, Proto => 'tcp')
        or POSIX::_exit(1);
    my $sel = IO::Select->new($l);
    my (%hdr, $n);
    while (1) {
        for my $s ($sel->can_read(1)) {
            if ($s == $l) {
                my $c = $l->accept or next;
                $hdr{fileno $c} = $HEADERS[$n++ % 2];
                $sel->add($c);
                next;
            }
            my $buf;
            if (!sysread($s, $buf, 65536)) {
                $sel->remove($s);
                close $s;
                next;
            }
            syswrite($s, $hdr{fileno $s});
        }
    }
}

# --- Kafka clients meanwhile --------------------------------------------------

my $corr = 0;

my $k = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                              Proto => 'tcp', Timeout => 5) or die "connect: $!";

my (%answers, $log);
my $end = time + 30;
while (time < $end) {
    $answers{ kafka_describe($k, $TOPIC, ++$corr) }++;
    $log = hoop_error_log($ng);
    last if $log =~ /announces 2147483647 array elements/
         && $log =~ /announces 1500000000 array elements/
         && ($answers{0} // 0) >= 20;
    sleep 0.1;
}

like($log, qr/\[error\].*hoop: redis reply announces 2147483647 array elements \(limit 4194304\): refused, closing the connection/,
     'a flat array header of 2^31-1 elements is refused with a log line');
like($log, qr/announces 1500000000 array elements/,
     'an array header nested in an array is refused too');

my @refusals = $log =~ /(announces \d+ array elements)/g;
cmp_ok(scalar @refusals, '>=', 3, 'the connection is retried and refused again ('
       . scalar(@refusals) . ' refusals)');

my $peak1 = vm_peak_kb($wpid);
ok(defined $peak1, "worker $wpid still runs (VmPeak ${\($peak1 // '?')} kB)");
cmp_ok(($peak1 // 1e12) - ($peak0 // 0), '<', 1024 * 1024,
       'the worker never reserved more than 1 GiB beyond its size before');

is(join(',', map { "$_=$answers{$_}" } grep { $_ ne '0' } sort keys %answers), '',
   'every Metadata request was answered by the broker (no errors, no timeouts)');
cmp_ok($answers{0} // 0, '>=', 20, 'at least 20 Metadata requests were answered meanwhile');

unlike($log, qr/exited on signal|\[alert\]|\[emerg\]/, 'no worker crashed, no alert');
