# The OIDC JWK Set from Redis (hoop_oauth_jwks redis; docs/redis-layout.md,
# docs/authentication.md): hoopctl jwks push / fetch / show store and read
# PREFIX oauth:jwks, refusing a set that does not parse; the gateway takes
# the set from Redis, and a key rotation reaches the workers through the
# notify channel: a token signed by a new key is refused until the new set
# is pushed, then accepted on a new connection within a second.  A set that
# does not parse is refused by the workers and the last good one stays.
#
# Needs: t/bin/kafka-cluster start, t/bin/redis-env start, build/tools/hoopctl,
# python3 (http.server for the OIDC discovery document).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(load_test_env free_port release_ports slurp spew
                        port_listening);
use File::Path qw(make_path remove_tree);
use File::Copy qw(copy);
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

plan tests => 21;

my $DIR = "$repo/build/t-auth-redis-$$";
remove_tree($DIR);
make_path("$DIR/www/.well-known");
my $PREFIX = "t065:$$:" . int(time) . ':';
my $ISS = 'https://idp.hoop.test';

for my $k (qw(a b)) {
    system("'$repo/t/bin/mint-jwt' keys '$DIR/$k' >/dev/null") == 0 or die "mint-jwt keys $k";
}

sub token {
    my ($k) = @_;
    my $t = `'$repo/t/bin/mint-jwt' token '$DIR/$k' --alg RS256 --iss $ISS --aud kafka --sub alice --groups ops`;
    chomp $t;
    die "mint-jwt token $k" if $? || $t !~ /\./;
    return $t;
}
my %TOK = (a => token('a'), b => token('b'));

sub rcli { my $o = `redis-cli -p $RPORT @_`; chomp $o; return $o }

sub hoopctl {
    my @a = @_;
    return run_cmd(cmd => [ $HOOPCTL, @a, '--redis', "127.0.0.1:$RPORT",
                            '--prefix', $PREFIX ], timeout => 30);
}

# --- hoopctl jwks ----------------------------------------------------------------

spew("$DIR/bad.json", '{"keys":[{"kty":"RSA","kid":"x","n":"AQAB"}]}');
my $h = hoopctl('jwks', 'push', "$DIR/bad.json");
is($h->{rc}, 1, 'hoopctl jwks push of an invalid set: refused (exit 1)');
is(rcli('EXISTS', "'${PREFIX}oauth:jwks'"), '0', 'nothing stored');

# OIDC discovery served by python3 -m http.server
my $HPORT = free_port(owner => "test $0 http");
copy("$DIR/a/jwks.json", "$DIR/www/jwks.json") or die "copy: $!";
spew("$DIR/www/.well-known/openid-configuration",
     qq({"issuer":"http://127.0.0.1:$HPORT","jwks_uri":"http://127.0.0.1:$HPORT/jwks.json"}\n));
my $http = fork // die "fork: $!";
if ($http == 0) {
    chdir "$DIR/www" or die;
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    exec 'python3', '-m', 'http.server', '--bind', '127.0.0.1', $HPORT;
    exit 127;
}
END { if ($http) { local $?; kill 'TERM', $http; waitpid $http, 0 } }
my $up = time + 10;
sleep 0.05 until port_listening($HPORT) || time > $up;

$h = hoopctl('jwks', 'fetch', "http://127.0.0.1:$HPORT");
is($h->{rc}, 0, 'hoopctl jwks fetch ISSUER') or diag($h->{stdout} . $h->{stderr});
like($h->{stdout}, qr/stored \Q${PREFIX}\Eoauth:jwks: \d+ keys?, sha256 [0-9a-f]{64}/,
     'fetch says what it stored');
is(rcli('GET', "'${PREFIX}oauth:jwks'") =~ s/\s+\z//r, slurp("$DIR/a/jwks.json") =~ s/\s+\z//r,
   'the stored set is the jwks_uri document');
like(rcli('GET', "'${PREFIX}oauth:jwks:sha256'"), qr/^[0-9a-f]{64}$/, 'its sha256 is stored');

$h = hoopctl('jwks', 'fetch', "http://127.0.0.1:$HPORT/nothing-here");
isnt($h->{rc}, 0, 'fetch from an issuer without discovery document fails');

$h = hoopctl('jwks', 'show');
is($h->{rc}, 0, 'hoopctl jwks show');
like($h->{stdout}, qr/"kid"\s*:\s*"rsa-1"/, 'show prints the set');

# --- the gateway -------------------------------------------------------------------

sub handshake { kafka_request(api_key => 17, version => 1,
                              correlation_id => $_[1], body => enc_string($_[0])) }

sub oauth { my ($token, $corr) = @_;
    my $msg = "n,,\x01auth=Bearer $token\x01\x01";
    kafka_request(api_key => 36, version => 2, correlation_id => $corr,
                  body => enc_compact_bytes($msg) . enc_tagged_fields()) }

# the SaslAuthenticate error code for $token on a new connection
sub auth_code {
    my ($ng, $token) = @_;
    my $r = tcp_exchange(port => $ng->{port},
                         request => handshake('OAUTHBEARER', 1) . oauth($token, 2),
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
hoop_oauth_jwks redis;
hoop_oauth_issuer $ISS;
hoop_oauth_audience kafka;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

unlike(hoop_error_log($ng), qr/no JWKS published/,
       'the set is read from Redis at start');
is(auth_code($ng, $TOK{a}), 0, 'a token signed by the published key: accepted');
is(auth_code($ng, $TOK{b}), 58, 'a token signed by a new key: refused');
# make sure each worker watches (the watcher starts on a first client)
auth_code($ng, $TOK{a}) for 1 .. 4;
sleep 0.3;

# rotation
$h = hoopctl('jwks', 'push', "$DIR/b/jwks.json");
is($h->{rc}, 0, 'hoopctl jwks push of the new set') or diag($h->{stderr});
my $t0 = time;
my $code;
my $took;
while (time - $t0 < 3) {
    $code = auth_code($ng, $TOK{b});
    if ($code eq '0') { $took = time - $t0; last }
    sleep 0.05;
}
ok(defined $took && $took < 1, 'after the push, the new key is accepted within 1 s')
    or diag('took ' . ($took // 'more than 3') . " s, last code $code");
my $all = 1;
for (1 .. 6) { $all = 0 unless auth_code($ng, $TOK{b}) eq '0' }
ok($all, 'every worker accepts the new key');
is(auth_code($ng, $TOK{a}), 58, 'the old key is refused now');

# a set that does not parse, written past hoopctl: refused, last good kept
rcli('SET', "'${PREFIX}oauth:jwks'", "'{\"keys\":'");
rcli('PUBLISH', "'${PREFIX}policy:notify'", "'{\"jwks\":\"x\"}'");
ok(defined wait_log($ng, qr/JWKS from redis refused: .*keeping the last good set/, 1, 3),
   'a set that does not parse is refused by the workers');
is(auth_code($ng, $TOK{b}), 0, 'the last good set stays');

# the timer alone (no notice): the good set again
rcli('SET', "'${PREFIX}oauth:jwks'", "'" . slurp("$DIR/a/jwks.json") . "'");
$t0 = time;
$took = undef;
while (time - $t0 < 4) {
    if (auth_code($ng, $TOK{a}) eq '0') { $took = time - $t0; last }
    sleep 0.1;
}
ok(defined $took, 'without a notice the refresh timer picks a new set up')
    or diag('error log: ' . hoop_error_log($ng));

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg');
unlike($log, qr/exited on signal|open socket/, 'no worker crash, no socket left open');

rcli('DEL', "'${PREFIX}oauth:jwks'", "'${PREFIX}oauth:jwks:sha256'");
release_ports($HPORT);
remove_tree($DIR);
