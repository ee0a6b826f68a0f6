# A partition's leader moves while a client produces through the gateway
# (issue 8): three brokers (kafka3), one gateway port per broker
# (docs/routing.md).  An idempotent librdkafka producer (acks=all) writes
# a numbered record every 10 ms; meanwhile the replicas are reordered and
# a preferred-leader election moves leadership to another broker.  The
# producer follows the new leader through the gateway (NOT_LEADER_OR_
# FOLLOWER, Metadata with gateway addresses) and the broker holds every
# record exactly once, in order.
#
# Needs: t/bin/kafka-cluster start --name kafka3 --brokers 3, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(spew load_test_env);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use POSIX ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';
load_test_env();
unless ($ENV{TEST_NGINX_KAFKA3_BROKER_1}) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('kafka3 is not running (t/bin/kafka-cluster start --name kafka3 --brokers 3)');
        exit 0;
    }
    plan skip_all => 'requires kafka3';
}
plan tests => 7;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-leader-$$";
remove_tree($DIR);
make_path($DIR);

my $ng = hoop_nginx_start(ports => 3, stream_config => <<"CONF",
log_format t095 '\$server_port "\$hoop_api_keys"';
access_log $DIR/access.log t095;
hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_PORT_1;
hoop_broker_address 2 127.0.0.1:\$TEST_NGINX_PORT_2;
hoop_broker_address 3 127.0.0.1:\$TEST_NGINX_PORT_3;
server { listen 127.0.0.1:\$TEST_NGINX_PORT_1; hoop on; proxy_pass \$TEST_NGINX_KAFKA3_BROKER_1; }
server { listen 127.0.0.1:\$TEST_NGINX_PORT_2; hoop on; proxy_pass \$TEST_NGINX_KAFKA3_BROKER_2; }
server { listen 127.0.0.1:\$TEST_NGINX_PORT_3; hoop on; proxy_pass \$TEST_NGINX_KAFKA3_BROKER_3; }
CONF
    stream_server_config => "hoop on;\nproxy_pass \$TEST_NGINX_KAFKA3_BROKER_1;");
my $boot = "127.0.0.1:$ng->{port}";
my $direct = $ENV{TEST_NGINX_KAFKA3_BROKER_1};
my $topic = "t095-move-$$";

kafka_create_topic($direct, $topic, assignment => [ [ 1, 2, 3 ] ]);

sub leader {
    my $r = kafka_tool('topics', '--bootstrap-server', $direct, '--describe',
                       '--topic', $topic);
    return ($r->{stdout} // '') =~ /Partition: 0\s+Leader: (\d+)/ ? $1 : undef;
}
my $t = time + 30;
my $before;
sleep 0.5 until defined($before = leader()) || time > $t;
is($before, 1, 'broker 1 leads the partition');

# the producer: kcat reading a FIFO that a writer fills every 10 ms
my $fifo = "$DIR/in.fifo";
POSIX::mkfifo($fifo, 0600) or die "mkfifo: $!";
my $kcat = fork // die "fork: $!";
if ($kcat == 0) {
    open STDIN, '<', $fifo or die $!;
    open STDOUT, '>', "$DIR/kcat.out" or die $!;
    open STDERR, '>', "$DIR/kcat.err" or die $!;
    { exec "kcat", "-P", "-b", $boot, '-t', $topic, '-X', 'enable.idempotence=true',
         '-X', 'acks=all', '-X', 'linger.ms=5', "-X", "message.timeout.ms=60000" };
    POSIX::_exit(127);
}
my $stop = "$DIR/stop";
my $writer = fork // die "fork: $!";
if ($writer == 0) {
    open my $w, '>', $fifo or POSIX::_exit(1);
    $w->autoflush(1);
    my $n = 0;
    while (!-e $stop || $n < 300) {
        # 1 KB records: kcat reads stdin through stdio, small lines
        # would sit in its buffer until the end
        print $w ++$n, ' ', 'x' x 1000, "\n";
        sleep 0.01;
        last if $n >= 5000;
    }
    spew("$DIR/count", $n);
    close $w;
    POSIX::_exit(0);
}

sleep 1;   # records flowing to broker 1
spew("$DIR/reassign.json", qq({"version":1,"partitions":[{"topic":"$topic",)
                           . qq("partition":0,"replicas":[2,3,1]}]}));
my $ra = kafka_tool('org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
                    '--bootstrap-server', $direct, '--reassignment-json-file',
                    "$DIR/reassign.json", '--execute', { timeout => 60 });
my $el = kafka_tool('org.apache.kafka.tools.LeaderElectionCommand',
                    '--bootstrap-server', $direct, '--election-type', 'preferred',
                    '--topic', $topic, '--partition', '0', { timeout => 60 });
my $after;
$t = time + 30;
sleep 0.5 until (($after = leader() // 0) == 2) || time > $t;
is($after, 2, 'leadership moved to broker 2 while producing')
    or diag("reassign: $ra->{stdout}$ra->{stderr}\nelection: $el->{stdout}$el->{stderr}");
sleep 1;   # records flowing to broker 2
spew($stop, '');
waitpid($writer, 0);
waitpid($kcat, 0);
my $kerr = do { local $/; open my $e, '<', "$DIR/kcat.err"; <$e> // '' };
is($? >> 8, 0, 'the producer finished without a delivery failure') or diag($kerr);
my $n = do { local $/; open my $c, '<', "$DIR/count"; <$c> // 0 };

my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $direct, '-t', $topic, '-e', '-q',
                         '-f', '%s\n' ], timeout => 60);
my @got = map { /^(\d+) x{1000}$/ ? $1 : "bad: $_" } split /\n/, $c->{stdout};
is(scalar @got, $n, "the broker holds $n records") or diag($c->{stderr});
is_deeply(\@got, [ 1 .. $n ], 'each exactly once, in order');

my $log = hoop_nginx_stop($ng);
# which gateway ports carried Produce requests: broker 1's before the move,
# broker 2's after it
my %produce;
for (split /\n/, do { local $/; open my $a, '<', "$DIR/access.log"; <$a> // '' }) {
    $produce{$1} += $2 if /^(\d+) "[^"]*\bProduce=(\d+)/;
}
my ($p1, $p2) = @{$ng->{ports}}[0, 1];
ok(($produce{$p1} // 0) > 0 && ($produce{$p2} // 0) > 0,
   "Produce requests went to broker 1, then broker 2, through the gateway ("
   . ($produce{$p1} // 0) . ' and ' . ($produce{$p2} // 0) . ')');
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');
remove_tree($DIR) if Test::More->builder->is_passing;
