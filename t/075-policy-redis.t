# Policy distribution from Redis (hoop_policy redis, hoop_redis,
# hoop_policy_cache; docs/policy-distribution.md): a version pushed to
# Redis reaches every worker through pub/sub and applies to a live Kafka
# connection within a second; a version that does not compile is refused
# and the last good one stays; with Redis gone the workers keep enforcing,
# nginx restarted without Redis starts from the cache file, and when Redis
# is back a newer version is picked up.  Without cache and Redis nginx
# still starts and denies everything.  No worker crashes, no socket leaks.
#
# Versions are written with redis-cli in the layout of
# docs/redis-layout.md (what hoopctl push does): HSET PREFIX policy:v:N
# text ..., SET PREFIX policy:current N, PUBLISH PREFIX policy:notify.
# A Redis of its own (t/bin/redis-env start --name ...) is stopped and
# brought back on the same port.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file slurp spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-policy-redis-$$";
remove_tree($DIR);
make_path($DIR);
# the workers write the cache file: they may run as nobody
chmod 0777, $DIR;

my $NAME = "t075r$$";
my $PREFIX = "t075:$$:" . int(time) . ':';
my $TOPIC = "t075.live-$$";
my $CACHE = "$DIR/policy-cache.json";

plan tests => 47;

# --- Redis of our own -------------------------------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};
my $RDIR = $renv->{REDIS_DIR};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

sub rcli {
    my ($stdin, @args) = @_;
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @args ],
                   stdin => $stdin // '', timeout => 10);
}

sub policy {
    my ($id, $prefix) = @_;
    return <<"YAML";
policy_version: 1
default: deny
description: t/075-policy-redis.t $id
grants:
  - id: $id
    principals: [ "User:ANONYMOUS" ]
    resources:
      - { type: topic, name: "$prefix", match: prefix }
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T075 $id"
YAML
}

# push version $n with text $text the way hoopctl does; returns the time
# the notice was published
sub push_version {
    my ($n, $text, $sha) = @_;
    my $r = rcli($text, '-x', 'HSET', "${PREFIX}policy:v:$n", 'text');
    die "HSET: $r->{stdout}$r->{stderr}" if $r->{rc} != 0 || $r->{stdout} =~ /ERR/;
    rcli(undef, 'HSET', "${PREFIX}policy:v:$n", 'sha256', $sha) if defined $sha;
    rcli(undef, 'SET', "${PREFIX}policy:seq", $n);
    $r = rcli(undef, 'SET', "${PREFIX}policy:current", $n);
    die "SET: $r->{stdout}$r->{stderr}" if $r->{rc} != 0 || $r->{stdout} !~ /OK/;
    $r = rcli(undef, 'PUBLISH', "${PREFIX}policy:notify",
              qq({"version":$n,"sha256":""}));
    die "PUBLISH: $r->{stderr}" if $r->{rc} != 0;
    return time;
}

# wait until the error log matches $re $count times; returns the seconds
# waited, or undef on timeout
sub wait_log {
    my ($ng, $re, $count, $timeout) = @_;
    my $t0 = time;
    while (time - $t0 < $timeout) {
        my @m = (hoop_error_log($ng) =~ /$re/g);
        return time - $t0 if @m >= $count;
        sleep 0.02;
    }
    return undef;
}

# the cache file once it holds version $n (worker 0 writes it right after
# logging the switch), or what it holds after 3 s
sub cache_with {
    my ($n) = @_;
    my $t0 = time;
    my $c;
    while (1) {
        $c = slurp($CACHE) // '';
        return $c if $c =~ /"version": $n\b/ || time - $t0 > 3;
        sleep 0.02;
    }
}

# --- a Kafka client that keeps its connection --------------------------------

my $corr = 100;

# ok() that the log matches $count times within $timeout s; on failure,
# the end of the log
sub log_ok {
    my ($ng, $re, $count, $timeout, $name) = @_;
    ok(defined wait_log($ng, $re, $count, $timeout), $name) and return 1;
    my @l = grep { !/\[debug\]/ } split /\n/, hoop_error_log($ng);
    diag(join "\n", 'error log, last lines:', @l[($#l > 30 ? $#l - 30 : 0) .. $#l]);
    return 0;
}

sub kconnect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5);
    die "connect $port: $!" unless $s;
    return $s;
}

# Metadata v12 for $TOPIC on $sock: the topic's error code (0, 29), or
# 'closed' / 'timeout'
sub describe_topic { return kafka_describe($_[0], $TOPIC, ++$corr); }

sub gateway {
    my (%o) = @_;
    my $redis = $o{redis_port} // $RPORT;
    my $cache = $o{cache} // $CACHE;
    return hoop_nginx_start(
        master => 1, workers => 2, log_level => 'info',
        # workers write the cache: as root, wherever the checkout lives
        # (a worker user may not reach a folder under /root)
        main_config => "user root;\nworker_shutdown_timeout 3s;",
        stream_config => "hoop_redis 127.0.0.1:$redis prefix=$PREFIX;\n"
                         . "hoop_policy_cache $cache;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<'CONF');
hoop on;
hoop_auth none;
hoop_policy redis;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

sub clean_log {
    my ($log, $what) = @_;
    unlike($log, qr/\[(alert|crit|emerg)\]/, "$what: no alert, crit or emerg")
        or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
    unlike($log, qr/exited on signal|open socket/,
           "$what: no worker crash, no socket left open");
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

# --- 1. versions pushed while connected ---------------------------------------

push_version(1, policy('anon-describes-t075', 't075.'));

my $ng = gateway();
log_ok($ng, qr/policy version 1 \(sha256 [0-9a-f]{64}\) from redis/,
                    2, 5, 'both workers start with version 1 from Redis');
log_ok($ng, qr/subscribed to \Q${PREFIX}\Epolicy:notify/, 2, 5,
   'both workers subscribed to the notices');

my $live = kconnect($ng->{port});
is(describe_topic($live), 0, 'version 1: the topic may be described');

my $t = push_version(2, policy('anon-describes-other', 'other.'));
my $took = wait_log($ng, qr/policy version 2 \(sha256 [0-9a-f]{64}\) from redis/,
                    2, 5);
ok(defined $took && $took < 1, 'version 2 reaches both workers within 1 s')
    or diag('took ' . ($took // 'more than 5') . ' s');
is(describe_topic($live), 29,
   'version 2 applies to the live connection: TOPIC_AUTHORIZATION_FAILED');

push_version(3, policy('anon-describes-t075-again', 't075.'));
log_ok($ng, qr/policy version 3 \(sha256 [0-9a-f]{64}\) from redis/,
                    2, 5, 'version 3 loaded');
is(describe_topic($live), 0, 'version 3 allows again on the same connection');

my $log = hoop_error_log($ng);
my ($sha3) = $log =~ /policy version 3 \(sha256 ([0-9a-f]{64})\) from redis/;

# a version that does not compile
push_version(4, "policy_version: 1\ndefault: allow\ngrants: []\n");
log_ok($ng, qr/policy version 4 from redis refused: it does not compile; keeping version 3/,
                    2, 5, 'version 4 (broken) refused by both workers, version 3 kept');
like(hoop_error_log($ng), qr/hoop: policy: \Q${PREFIX}\Epolicy:v:4:2:\d+: error: /,
     'the compiler diagnostic names the Redis key and line');
is(describe_topic($live), 0, 'the live connection is still under version 3');

# the cache file follows the loaded version
my $cache = cache_with(3);
like($cache, qr/"version": 3\b/, 'cache file holds version 3');
like($cache, qr/"sha256": "\Q$sha3\E"/, 'cache file has version 3\'s sha256');
ok(!glob("$CACHE.tmp.*"), 'no temporary cache file left');

# a notice while version 4 is current: it is not compiled again
rcli(undef, 'PUBLISH', "${PREFIX}policy:notify", '{"version":4}');
my $again = wait_log($ng, qr/policy version 4 from redis refused/, 3, 1);
ok(!defined $again, 'the refused version is not compiled again on a notice');

# a version whose stored sha256 is not that of its compiled text
push_version(5, policy('anon-describes-t075-5', 't075.'), '0' x 64);
log_ok($ng, qr/policy version 5 from redis refused: its sha256 does not match; keeping version 3/,
                    2, 5, 'version 5 (sha256 mismatch) refused, version 3 kept');

# no notice at all: the refresh timer (5 s) finds version 6
rcli(policy('anon-describes-t075-6', 't075.'), '-x', 'HSET',
     "${PREFIX}policy:v:6", 'text');
rcli(undef, 'SET', "${PREFIX}policy:current", 6);
log_ok($ng, qr/policy version 6 \(sha256 [0-9a-f]{64}\) from redis/,
                    2, 7, 'without a notice the refresh timer loads version 6');
$log = hoop_error_log($ng);
my ($sha6) = $log =~ /policy version 6 \(sha256 ([0-9a-f]{64})\) from redis/;
like(cache_with(6), qr/"version": 6\b/, 'cache file holds version 6');

# --- 2. Redis goes away --------------------------------------------------------

rcli(undef, 'SHUTDOWN', 'NOSAVE');
log_ok($ng, qr/redis 127\.0\.0\.1:$RPORT \(policy\): connection lost/, 2, 5,
   'workers notice that Redis is gone');
is(describe_topic($live), 0, 'live connection still enforces version 6');
my $new = kconnect($ng->{port});
is(describe_topic($new), 0, 'a new connection is under version 6 too');
close $new;
close $live;

$log = hoop_nginx_stop($ng);
clean_log($log, 'first gateway');
ok(!glob("$CACHE.tmp.*"), 'still no temporary cache file');

# --- 3. nginx starts without Redis, from the cache ------------------------------

$ng = gateway();
log_ok($ng, qr/policy version 6 \(sha256 \Q$sha6\E\) from cache at start/, 2, 5,
   'restarted without Redis: both workers start with version 6 from the cache');
$live = kconnect($ng->{port});
is(describe_topic($live), 0, 'the cached version is enforced');
log_ok($ng, qr/redis 127\.0\.0\.1:$RPORT \(policy\): connect: /, 2, 5,
   'Redis unreachable is logged');

# --- 4. Redis comes back (same port, empty: no persistence) --------------------

my $rs = run_cmd(cmd => [ 'redis-server', '--bind', '127.0.0.1', '--port', $RPORT,
                          '--save', '', '--appendonly', 'no', '--dir', $RDIR,
                          '--daemonize', 'yes', '--pidfile', "$RDIR/redis.pid",
                          '--logfile', "$RDIR/redis.log" ], timeout => 10);
is($rs->{rc}, 0, 'Redis back on its port');
my $up = time + 5;
sleep 0.05 until (rcli(undef, 'PING')->{stdout} // '') =~ /PONG/ || time > $up;

log_ok($ng, qr/redis 127\.0\.0\.1:$RPORT \(policy\): connected again/, 2, 8,
   'both workers reconnect');
log_ok($ng, qr/redis 127\.0\.0\.1:$RPORT \(policy notices\): connected again/, 2, 8,
   'both subscriptions reconnect');
push_version(7, policy('anon-describes-other-7', 'other.'));
log_ok($ng, qr/policy version 7 \(sha256 [0-9a-f]{64}\) from redis/, 2, 5,
   'a newer version is picked up once Redis is back');
is(describe_topic($live), 29, 'version 7 applies to the connection opened without Redis');
like(cache_with(7), qr/"version": 7\b/, 'cache file holds version 7');

# reload while a client is connected: new workers start with version 7,
# the old ones keep their client until worker_shutdown_timeout closes it
# (and their Redis connections), then exit
kill 'HUP', $ng->{pid};
log_ok($ng, qr/policy version 7 \(sha256 [0-9a-f]{64}\) from redis at start/, 2, 5,
   'reload: new workers start with version 7');
log_ok($ng, qr/worker process \d+ exited with code 0/, 2, 8,
   'reload: the old workers exit after worker_shutdown_timeout');
is(describe_topic($live), 'closed', 'reload: the old connection was closed at shutdown');
close $live;

# the real pusher, when it is built: its sha256 is the workers' sha256
SKIP: {
    my $hoopctl = "$repo/build/tools/hoopctl";
    skip 'build/tools/hoopctl is not built', 2 unless -x $hoopctl;
    spew("$DIR/hoopctl.yaml", policy('anon-describes-t075-hoopctl', 't075.'));
    my $h = run_cmd(cmd => [ $hoopctl, 'push', "$DIR/hoopctl.yaml",
                             '--author', 't075', '--redis', "127.0.0.1:$RPORT",
                             '--prefix', $PREFIX ], timeout => 20);
    is($h->{rc}, 0, 'hoopctl push') or diag($h->{stdout} . $h->{stderr});
    my $n = rcli(undef, 'GET', "${PREFIX}policy:current")->{stdout} // '';
    my $sha = rcli(undef, 'HGET', "${PREFIX}policy:v:" . ($n =~ s/\s+//gr),
                   'sha256')->{stdout} // '';
    s/\s+//g for $n, $sha;
    log_ok($ng, qr/policy version \Q$n\E \(sha256 \Q$sha\E\) from redis/,
                        2, 5, "hoopctl's version $n loaded, with hoopctl's sha256");
}

$log = hoop_nginx_stop($ng);
clean_log($log, 'second gateway');
like($log, qr/\(policy notices\): closed at shutdown/,
     'Redis connections closed by worker_shutdown_timeout');

# nginx -t with neither cache nor Redis
my $dead = free_port();
my $tst = hoop_nginx_start(test_only => 1, stream_config => "hoop_redis 127.0.0.1:$dead;\n"
    . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => "hoop on;\nhoop_policy redis;\nproxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;");
like($tst->{stderr} // '', qr/syntax is ok.*test is successful/s, 'nginx -t passes without cache and Redis')
    or diag($tst->{stderr});
like($tst->{stderr} // '', qr/no policy loaded .*every request is denied/,
     'nginx -t says every request will be denied');
hoop_nginx_stop($tst);

# --- 5. no cache, no Redis: nginx starts and denies everything ------------------

$ng = gateway(redis_port => $dead, cache => "$DIR/none/cache.json");
log_ok($ng, qr/no policy loaded: every request is denied/, 2, 5,
   'no cache and no Redis: nginx starts, and says every request is denied');
$live = kconnect($ng->{port});
is(describe_topic($live), 29, 'default deny');
close $live;
$log = hoop_nginx_stop($ng);
like($log, qr/denied "ANONYMOUS" describe topic "\Q$TOPIC\E": no policy loaded/,
     'the denial says why');
clean_log($log, 'third gateway');

remove_tree($DIR);
