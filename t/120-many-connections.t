# Thousands of connections (issue 8): 2,000 Kafka clients connect through
# the gateway at once, each does what a client does on connect
# (ApiVersions, SASL PLAIN, Metadata) and then stays idle; 50 more
# produce in a closed loop meanwhile.  The worker's memory per idle
# connection stays bounded, every producer is answered, the idle ones are
# closed by proxy_timeout once they have been silent long enough, and a
# client that connects afterwards is served as before.  Real broker; the
# clients are bench/kafka_conns.py (it raises its own file limit).
#
# Needs: t/bin/kafka-cluster start (Kafka).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir spew);
use IPC::Open3;
use IO::Select;
use JSON::PP;
use Symbol qw(gensym);
use Time::HiRes qw(time sleep);

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my ($IDLE, $ACTIVE) = (2000, 50);

if (!env_is_up('kafka')) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('kafka is up');
        exit 0;
    }
    plan skip_all => 'needs kafka (t/bin/kafka-cluster start)';
}

plan tests => 8;

my $dir = run_dir() . "/many-$$";
mkdir $dir or die "mkdir $dir: $!";
END { system('rm', '-rf', $dir) if $dir && -d $dir; }

my $line = `printf '%s' load-secret | '$repo/build/tools/hoop-passwd' --user load`;
die 'hoop-passwd failed' if $? || $line !~ /^\{/;
spew("$dir/credentials.jsonl", $line);
spew("$dir/password", "load-secret\n");
spew("$dir/policy.yaml", <<'YAML');
policy_version: 1
default: deny
grants:
  - id: load
    principals: [ "User:load" ]
    resources:
      - { type: topic, name: "many.", match: prefix }
    operations: [ read, write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-12-01
    reason: "T120"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'warn',
    main_config => "worker_rlimit_nofile 16384;",
    events_config => "worker_connections 8192;",
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_mechanisms PLAIN;
hoop_sasl_credentials $dir/credentials.jsonl;
hoop_policy $dir/policy.yaml;
proxy_timeout 20s;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

sub worker_pid { return (hoop_worker_pids($ng))[0]; }

sub rss_kb {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/status" or return 0;
    while (<$f>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

sub open_fds {
    my ($pid) = @_;
    opendir my $d, "/proc/$pid/fd" or return -1;
    my $n = grep { /^\d+$/ } readdir $d;
    return $n;
}

my $topic = "many.t120-$$";
my @common = ('--port', $ng->{port}, '--sasl-user', 'load',
              '--sasl-password-file', "$dir/password");

# the topic, created at the broker itself
my ($kport) = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} =~ /:(\d+)$/;
my $mk = run_cmd(cmd => [ 'python3', "$repo/bench/kafka_conns.py", 'create',
                          '--port', $kport, '--topic', $topic ], timeout => 90);
die "create $topic: $mk->{stdout}$mk->{stderr}" if $mk->{rc} != 0;

my $cr = run_cmd(cmd => [ 'python3', "$repo/bench/kafka_conns.py", 'load',
                          @common, '--topic', $topic, '--active', 1,
                          '--seconds', 1 ], timeout => 90);
like($cr->{stdout}, qr/"errors": 0/, 'one client produces through the gateway')
    or diag($cr->{stdout} . $cr->{stderr});

my $w = worker_pid();
my $rss0 = rss_kb($w);
my $fds0 = open_fds($w);

my $err = gensym;
my $pid = open3(my $in, my $out, $err, 'python3', "$repo/bench/kafka_conns.py",
                'conns', @common, '--topic', $topic, '--idle', $IDLE,
                '--active', $ACTIVE, '--seconds', 3);
my $sel = IO::Select->new($out);

# the next "PREFIX {json}" line of the client process within $max seconds
sub expect_line {
    my ($prefix, $max) = @_;
    my $end = time + $max;
    my $buf = '';
    while (time < $end) {
        $sel->can_read(0.5) or next;
        my $l = <$out>;
        return undef unless defined $l;
        return decode_json($1) if $l =~ /^\Q$prefix\E (\{.*\})\s*$/;
    }
    return undef;
}

my $ready = expect_line('idle-ready', 120);
my $rss1 = rss_kb($w);
my $fds1 = open_fds($w);
ok($ready && $ready->{idle} == $IDLE && $ready->{errors} == 0,
   "$IDLE clients logged in and read metadata through one worker")
    or diag(explain($ready));
# issue 10's bound; the sanitized module (make test-asan) pays its shadow
# memory and redzones on top
my $per = ($rss1 - $rss0) / $IDLE;
my $bound = $ENV{HOOP_SANITIZER_REPORTS} ? 256 : 64;
ok($per < $bound, sprintf('worker memory per idle connection bounded: %.1f KiB '
                          . '(%d KiB -> %d KiB; bound %d KiB)', $per, $rss0,
                          $rss1, $bound));
ok($fds1 - $fds0 >= 2 * $IDLE,
   "the worker holds both sides of each ($fds0 -> $fds1 descriptors)");

print $in "\n";
$in->flush;
my $done = expect_line('active-done', 60);
ok($done && $done->{active} == $ACTIVE && $done->{errors} == 0
   && $done->{requests} > $ACTIVE,
   "$ACTIVE producers answered while $IDLE connections are open")
    or diag(explain($done));

# the idle clients say nothing: proxy_timeout (20 s) closes them
my $t0 = time;
my $fds2 = open_fds($w);
while (time - $t0 < 40) {
    $fds2 = open_fds($w);
    last if $fds2 <= $fds0 + 10;
    sleep 1;
}
ok($fds2 <= $fds0 + 10,
   sprintf('proxy_timeout closed the silent connections (%d descriptors '
           . 'after %.0f s)', $fds2, time - $t0));
print $in "\n";
close $in;
waitpid $pid, 0;

my $after = run_cmd(cmd => [ 'python3', "$repo/bench/kafka_conns.py", 'load',
                             @common, '--topic', $topic, '--active', 2,
                             '--seconds', 1 ], timeout => 90);
like($after->{stdout}, qr/"errors": 0/, 'a new client is served afterwards')
    or diag($after->{stdout} . $after->{stderr});

my $log = Test::Hoop::Util::slurp($ng->{error_log}) // '';
unlike($log, qr/\[(alert|crit|emerg)\]|worker process \d+ exited on signal/,
       'no alert, crit or crash in the error log')
    or diag(join "\n", grep { /alert|crit|emerg|signal/ } split /\n/, $log);

hoop_nginx_stop($ng);
