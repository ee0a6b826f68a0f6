# A broker restarted during produce and consume through the gateway (issue
# 8): three brokers (kafka3), one gateway port per broker
# (docs/routing.md), a topic with replication factor 3 and
# min.insync.replicas 2 led by broker 2.  An idempotent librdkafka
# producer (acks=all) writes a numbered record every 10 ms through the
# gateway and a librdkafka consumer reads the topic through the gateway,
# while broker 2 (the leader) is stopped (controlled shutdown), stays down
# for a few seconds and is started again with the same configuration and
# data (t/bin/kafka-cluster restart-node).  Both clients follow the new
# leader through the gateway; the broker holds every record exactly once,
# in order, and the consumer has read them all, each once.
#
# Needs: t/bin/kafka-cluster start --name kafka3 --brokers 3, kcat.
# Restarts node 2 of that cluster (it is back when the test ends).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(spew slurp load_test_env);
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
plan tests => 10;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-restart-$$";
remove_tree($DIR);
make_path($DIR);

my $ng = hoop_nginx_start(ports => 3, stream_config => <<"CONF",
log_format t112 '\$server_port "\$hoop_api_keys"';
access_log $DIR/access.log t112;
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
my $topic = "t112-restart-$$";

kafka_create_topic($direct, $topic, assignment => [ [ 2, 3, 1 ] ]);
my $cfg = kafka_tool('configs', '--bootstrap-server', $direct, '--alter',
                     '--entity-type', 'topics', '--entity-name', $topic,
                     '--add-config', 'min.insync.replicas=2', { timeout => 60 });

sub describe {
    my $r = kafka_tool('topics', '--bootstrap-server', $direct, '--describe',
                       '--topic', $topic);
    return $r->{stdout} // '';
}
sub leader { return describe() =~ /Partition: 0\s+Leader: (\d+)/ ? $1 : undef; }

my $t = time + 30;
my $d;
sleep 0.5 until (($d = describe()) =~ /Leader: 2\s+Replicas: 2,3,1\s+Isr: [123],[123],[123]/
                 && describe() =~ /min.insync.replicas=2/) || time > $t;
$d = describe();
ok($d =~ /Leader: 2\s+Replicas: 2,3,1/ && $d =~ /min.insync.replicas=2/,
   'broker 2 leads the partition: 3 replicas, min.insync.replicas 2')
    or diag("$d\n$cfg->{stdout}$cfg->{stderr}");

# the consumer: kcat through the gateway, one line per record, no group
my $consumer = fork // die "fork: $!";
if ($consumer == 0) {
    open STDOUT, '>', "$DIR/consumed" or die $!;
    open STDERR, '>', "$DIR/consumer.err" or die $!;
    { exec 'kcat', '-C', '-b', $boot, '-t', $topic, '-o', 'beginning', '-u',
          '-f', '%s\n', '-X', 'topic.metadata.refresh.interval.ms=1000' };
    POSIX::_exit(127);
}

# the producer: kcat reading a FIFO that a writer fills every 10 ms
my $fifo = "$DIR/in.fifo";
POSIX::mkfifo($fifo, 0600) or die "mkfifo: $!";
my $kcat = fork // die "fork: $!";
if ($kcat == 0) {
    open STDIN, '<', $fifo or die $!;
    open STDOUT, '>', "$DIR/kcat.out" or die $!;
    open STDERR, '>', "$DIR/kcat.err" or die $!;
    { exec 'kcat', '-P', '-b', $boot, '-t', $topic, '-X', 'enable.idempotence=true',
         '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'message.timeout.ms=120000' };
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
        last if $n >= 8000;
    }
    spew("$DIR/count", $n);
    close $w;
    POSIX::_exit(0);
}

sleep 2;   # records flowing to broker 2
my $rs = run_cmd(cmd => [ "$repo/t/bin/kafka-cluster", 'restart-node', '--name', 'kafka3',
                          '--node', '2', '--down', '4' ], timeout => 180);
is($rs->{rc}, 0, 'broker 2 stopped, down for 4 s, and started again while producing and consuming')
    or diag($rs->{stderr});
sleep 2;   # records flowing after the restart
spew($stop, '');
waitpid($writer, 0);
waitpid($kcat, 0);
my $kerr = slurp("$DIR/kcat.err") // '';
is($? >> 8, 0, 'the producer finished without a delivery failure') or diag($kerr);
my $n = slurp("$DIR/count") // 0;
ok($n > 300, "$n records produced");

my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $direct, '-t', $topic, '-e', '-q',
                         '-f', '%s\n' ], timeout => 60);
my @got = map { /^(\d+) x{1000}$/ ? $1 : "bad: $_" } split /\n/, $c->{stdout};
is(scalar @got, $n, "the broker holds $n records") or diag($c->{stderr});
is_deeply(\@got, [ 1 .. $n ], 'each exactly once, in order');

# the consumer catches up
my @read;
$t = time + 60;
do {
    sleep 0.5;
    @read = map { /^(\d+) x{1000}$/ ? $1 : "bad: $_" }
            split /\n/, slurp("$DIR/consumed") // '';
} until (@read >= $n || time > $t);
sleep 1;   # nothing more arrives
@read = map { /^(\d+) x{1000}$/ ? $1 : "bad: $_" } split /\n/, slurp("$DIR/consumed") // '';
kill 'TERM', $consumer;
waitpid($consumer, 0);
is(scalar @read, $n, "the consumer read $n records through the gateway")
    or diag(slurp("$DIR/consumer.err"));
is_deeply(\@read, [ 1 .. $n ], 'each once, in order');

my $log = hoop_nginx_stop($ng);
# which gateway ports carried Produce requests: broker 2's before the
# restart, another one while it was down
my %produce;
for (split /\n/, slurp("$DIR/access.log") // '') {
    $produce{$1} += $2 if /^(\d+) "[^"]*\bProduce=(\d+)/;
}
my @p = @{$ng->{ports}};
ok(($produce{$p[1]} // 0) > 0 && (($produce{$p[0]} // 0) + ($produce{$p[2]} // 0)) > 0,
   'Produce requests went to broker 2, then to another broker, through the gateway ('
   . join(', ', map { $produce{$_} // 0 } @p) . ')');
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');
remove_tree($DIR) if Test::More->builder->is_passing;
