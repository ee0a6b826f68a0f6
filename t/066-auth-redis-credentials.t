# PLAIN/SCRAM credentials from Redis (hoop_sasl_credentials redis;
# docs/redis-layout.md, docs/authentication.md): hoopctl credentials set /
# delete / list keep PREFIX credentials (one hoop-passwd line per user) and
# its sha256 together; the gateway reads the hash at start and the workers
# follow it through the notify channel: a user added while nginx runs logs
# in on a new connection within a second, a deleted one is refused, and a
# hash that does not parse is refused with the last good set kept.
#
# Needs: t/bin/kafka-cluster start, t/bin/redis-env start, build/tools/hoopctl,
# kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(load_test_env free_port release_ports);
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
load_test_env();
my $RPORT = $ENV{TEST_NGINX_REDIS_PORT};
my $HOOPCTL = "$repo/build/tools/hoopctl";

if (!$RPORT || !$ENV{TEST_NGINX_KAFKA_BOOTSTRAP}) {
    print "1..0 # SKIP needs t/bin/redis-env start and t/bin/kafka-cluster start\n";
    exit 0;
}
if (!-x $HOOPCTL) {
    print "1..0 # SKIP build/tools/hoopctl is not built (make tools)\n";
    exit 0;
}

plan tests => 24;

my $PREFIX = "t066:$$:" . int(time) . ':';

sub rcli { my $o = `redis-cli -p $RPORT @_`; chomp $o; return $o }

sub hoopctl {
    my ($stdin, @a) = @_;
    return run_cmd(cmd => [ $HOOPCTL, @a, '--redis', "127.0.0.1:$RPORT",
                            '--prefix', $PREFIX ],
                   stdin => $stdin, timeout => 30);
}

# --- hoopctl credentials ---------------------------------------------------------

my $h = hoopctl("alice-secret\n", 'credentials', 'set', 'alice', '--groups', 'dev,ops');
is($h->{rc}, 0, 'hoopctl credentials set alice') or diag($h->{stderr});
like($h->{stdout}, qr/stored alice, credentials sha256 [0-9a-f]{64}/, 'set says what it stored');
my $line = rcli('HGET', "'${PREFIX}credentials'", 'alice');
like($line, qr/^\{"user":\s*"alice".*"scram-sha-256"/, 'the hash holds a hoop-passwd line');
unlike($line, qr/alice-secret/, 'never the password');
like(rcli('GET', "'${PREFIX}credentials:sha256'"), qr/^[0-9a-f]{64}$/, 'its sha256 is stored');

$h = hoopctl('', 'credentials', 'set', 'nopass');
isnt($h->{rc}, 0, 'an empty password is refused');

$h = hoopctl('', 'credentials', 'list');
is($h->{stdout}, "alice\tdev,ops\n", 'list: users and groups, no hashes');

# --- the gateway -------------------------------------------------------------------

sub handshake { kafka_request(api_key => 17, version => 1,
                              correlation_id => $_[1], body => enc_string($_[0])) }

sub authenticate { my ($bytes, $corr) = @_;
    kafka_request(api_key => 36, version => 2, correlation_id => $corr,
                  body => enc_compact_bytes($bytes) . enc_tagged_fields()) }

# the SaslAuthenticate error code of PLAIN user/password on a new connection
sub plain_code {
    my ($ng, $user, $pw) = @_;
    my $r = tcp_exchange(port => $ng->{port},
                         request => handshake('PLAIN', 1)
                                    . authenticate("\0$user\0$pw", 2),
                         frames => 2, timeout => 5);
    my @f = kafka_frames($r->{response} // '');
    return 'no answer' if @f < 2;
    my $rd = kafka_reader($f[1], 'SaslAuthenticate v2 response');
    $rd->int32;
    $rd->tagged_fields;
    return $rd->int16;
}

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

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials redis;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

# the first client of a worker is served before its watcher has read
# anything: what it gets is what nginx read at start
is(plain_code($ng, 'alice', 'alice-secret'), 0,
   'PLAIN as alice: accepted (credentials read from Redis at start)');
is(plain_code($ng, 'alice', 'wrong'), 58, 'a wrong password: refused');
is(plain_code($ng, 'bob', 'bob-secret'), 58, 'an unknown user: refused');
# make sure each worker watches (the watcher starts on a first client)
plain_code($ng, 'alice', 'alice-secret') for 1 .. 4;
sleep 0.3;

$h = hoopctl("bob-secret\n", 'credentials', 'set', 'bob');
is($h->{rc}, 0, 'hoopctl credentials set bob while nginx runs') or diag($h->{stderr});
my $t0 = time;
my ($code, $took);
while (time - $t0 < 3) {
    $code = plain_code($ng, 'bob', 'bob-secret');
    if ($code eq '0') { $took = time - $t0; last }
    sleep 0.05;
}
ok(defined $took && $took < 1, 'the new user logs in within 1 s')
    or diag('took ' . ($took // 'more than 3') . " s, last code $code");
my $all = 1;
for (1 .. 6) { $all = 0 unless plain_code($ng, 'bob', 'bob-secret') eq '0' }
ok($all, 'in every worker');

my $boot = "127.0.0.1:$ng->{port}";
my $r = run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-m', 10,
    '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-256',
    '-X', 'sasl.username=bob', '-X', 'sasl.password=bob-secret' ], timeout => 30);
like($r->{stdout}, qr/broker 1 at 127\.0\.0\.1:$ng->{port}/,
     'librdkafka SCRAM-SHA-256 with a Redis-held user') or diag($r->{stderr});

$h = hoopctl('', 'credentials', 'delete', 'bob');
is($h->{rc}, 0, 'hoopctl credentials delete bob') or diag($h->{stderr});
$t0 = time;
$took = undef;
while (time - $t0 < 3) {
    $code = plain_code($ng, 'bob', 'bob-secret');
    if ($code eq '58') { $took = time - $t0; last }
    sleep 0.05;
}
ok(defined $took && $took < 1, 'the deleted user is refused within 1 s')
    or diag('took ' . ($took // 'more than 3') . " s, last code $code");
$all = 1;
for (1 .. 6) { $all = 0 unless plain_code($ng, 'bob', 'bob-secret') eq '58' }
ok($all, 'in every worker');
is(hoopctl('', 'credentials', 'delete', 'bob')->{rc}, 1,
   'deleting a missing user: exit 1');

# a hash that does not parse, written past hoopctl: refused, last good kept
rcli('HSET', "'${PREFIX}credentials'", 'mallory', "'{\"user\":'");
rcli('PUBLISH', "'${PREFIX}policy:notify'", "'{\"credentials\":\"x\"}'");
ok(defined wait_log($ng, qr/credentials from redis refused: .*keeping the last good set/, 1, 3),
   'a set that does not parse is refused by the workers');
is(plain_code($ng, 'alice', 'alice-secret'), 0, 'the last good set stays');
rcli('HDEL', "'${PREFIX}credentials'", 'mallory');

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal|open socket/, 'no worker crash, no socket left open');

# without Redis: nginx starts, PLAIN is refused until credentials arrive
my $NOPORT = free_port(owner => "test $0 no redis");
$ng = hoop_nginx_start(
    log_level => 'info',
    stream_config => "hoop_redis 127.0.0.1:$NOPORT prefix=$PREFIX;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials redis;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
is(plain_code($ng, 'alice', 'alice-secret'), 58,
   'Redis away: nginx starts, PLAIN refused');
$log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'and nothing worse');
release_ports($NOPORT);

rcli('DEL', "'${PREFIX}credentials'", "'${PREFIX}credentials:sha256'");
