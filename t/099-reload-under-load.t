# nginx -s reload under load (issue 8): an idempotent librdkafka producer
# (acks=all) writes a numbered record every 10 ms through the gateway
# (SASL, policy, audit to Redis) while nginx is reloaded three times.  Old
# workers finish their connections, the producer sees no error, the broker
# holds every record exactly once and in order, and the audit trail has
# the producer's writes from old and new workers with no event lost to a
# reload (every Produce the gateway allowed is counted in the who index).
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use POSIX ();
use JSON::PP ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-reload-load-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t099r$$";
my $PREFIX = "t099:$$:";
my $TOPIC = "load.t099-$$";

plan tests => 8;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
my $line = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice`;
die "hoop-passwd failed" if $? || $line !~ /^\{/;
print $f $line;
close $f;

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
grants:
  - id: alice-writes
    principals: [ "User:alice" ]
    resources: [ { type: topic, name: "load.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T099"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 20s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
my $boot = "127.0.0.1:$ng->{port}";
kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

my $fifo = "$DIR/in.fifo";
POSIX::mkfifo($fifo, 0600) or die "mkfifo: $!";
my $kcat = fork // die "fork: $!";
if ($kcat == 0) {
    open STDIN, '<', $fifo or die $!;
    open STDOUT, '>', "$DIR/kcat.out" or die $!;
    open STDERR, '>', "$DIR/kcat.err" or die $!;
    { exec 'kcat', '-P', '-b', $boot, '-t', $TOPIC, '-X', 'enable.idempotence=true',
           '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'security.protocol=SASL_PLAINTEXT',
           '-X', 'sasl.mechanism=PLAIN', '-X', 'sasl.username=alice',
           '-X', 'sasl.password=alice-secret' };
    POSIX::_exit(127);
}
my $stop = "$DIR/stop";
my $writer = fork // die "fork: $!";
if ($writer == 0) {
    open my $w, '>', $fifo or POSIX::_exit(1);
    $w->autoflush(1);
    my $n = 0;
    while (!-e $stop && $n < 5000) {
        # 1 KB records: kcat reads stdin through stdio, small lines
        # would sit in its buffer until the end
        print $w ++$n, ' ', 'x' x 1000, "\n";
        sleep 0.01;
    }
    spew("$DIR/count", $n);
    close $w;
    POSIX::_exit(0);
}

sub started { return scalar(() = hoop_error_log($ng) =~ /start worker process \d+/g) }
for my $i (1 .. 3) {
    sleep 1;
    kill 'HUP', $ng->{pid};
    my $t = time + 20;
    sleep 0.05 while started() < 2 * ($i + 1) && time < $t;
}
is(started(), 8, 'reloaded three times while producing');
sleep 1;
spew($stop, '');
waitpid($writer, 0);
waitpid($kcat, 0);
my $krc = $? >> 8;
my $kerr = do { local $/; open my $e, '<', "$DIR/kcat.err"; <$e> // '' };
is($krc, 0, 'the producer finished without an error') or diag($kerr);
my $n = do { local $/; open my $c, '<', "$DIR/count"; <$c> // 0 };
ok($n > 300, "$n records written");

my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, '-t', $TOPIC,
                         '-e', '-q', '-f', '%s\n' ], timeout => 60);
my @got = map { /^(\d+) x{1000}$/ ? $1 : "bad: $_" } split /\n/, $c->{stdout};
is(scalar @got, $n, "the broker holds $n records") or diag($c->{stderr});
is_deeply(\@got, [ 1 .. $n ], 'each exactly once, in order');

# the audit trail: the old worker that served the producer hands its last
# events to its spool when it exits; a new worker adopts and replays it
my $who;
my $t = time + 15;
my $day = POSIX::strftime('%Y-%m-%d', gmtime);
do {
    sleep 0.3;
    my $r = run_cmd(cmd => [ "$repo/build/tools/hoopctl", '--redis', "127.0.0.1:$RPORT",
                             '--prefix', $PREFIX, 'audit', 'who', '--topic', $TOPIC,
                             '--date', $day, '--json' ], timeout => 20);
    $who = eval { JSON::PP::decode_json($r->{stdout}) } // [];
} until (grep({ $_->{operation} eq 'write' } @$who) || time > $t);
my ($w) = grep { $_->{principal} eq 'alice' && $_->{operation} eq 'write'
                 && $_->{decision} eq 'allow' } @$who;
ok($w && $w->{requests} > 10, 'the writes are in the audit trail, replayed by a new worker ('
   . ($w ? $w->{requests} : 0) . ' Produce requests)') or diag(JSON::PP::encode_json($who));
my $log = hoop_nginx_stop($ng, grace => 30);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');
like($log, qr/gracefully shutting down/, 'old workers shut down gracefully');

remove_tree($DIR) if Test::More->builder->is_passing;
