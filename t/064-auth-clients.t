# Real clients authenticate to the gateway, which logs in to a broker that
# trusts only the gateway (kafkasasl: SCRAM, ACLs for User:gateway alone):
# Java kafka-clients, librdkafka and kafka-python with PLAIN, SCRAM-SHA-256,
# SCRAM-SHA-512 and OAUTHBEARER (tokens minted for the run), and with a
# client certificate (mTLS).  Each produces and consumes with a consumer
# group.  Short-lived tokens: Java and kafka-python re-authenticate on the
# same connection (KIP-368); librdkafka 2.0.2 cannot, is disconnected when
# its session ends and reconnects with a fresh token.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Auth;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my @CLIENTS = qw(java kcat python);

unless ($ENV{TEST_NGINX_KAFKASASL_BOOTSTRAP}) {
    plan skip_all => 'requires kafkasasl (t/bin/kafka-cluster start --sasl)'
        unless $ENV{HOOP_TEST_REQUIRE_ALL};
    BAIL_OUT('kafkasasl is not running');
}

plan tests => 4 * @CLIENTS + @CLIENTS + 2 * @CLIENTS + 2 * @CLIENTS + 3;

my $dir = "$repo/build/t-auth-clients";
mkdir "$repo/build"; mkdir $dir;

# the gateway's stores: alice's password, the JWKS, the PKI, the broker secret
my $cred = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice --groups payments`;
die "hoop-passwd failed" if $? || $cred !~ /^\{/;
open my $f, '>', "$dir/credentials.jsonl" or die $!;
print $f $cred;
close $f;
my $jwt = jwt_keys("$dir/jwt");
my $pki = test_pki("$dir/pki");
my $pw = read_secret($ENV{TEST_NGINX_KAFKASASL_SASL_PASSWORD_FILE});
open $f, '>', "$dir/broker-secret" or die $!;
print $f "username=gateway\npassword=$pw\n";
close $f;

my $ng = hoop_nginx_start(ports => 1, log_level => 'info',
    stream_config => <<"CONF",
hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_SERVER_PORT;
hoop_upstream_sasl SCRAM-SHA-512 $dir/broker-secret;

server {
    listen 127.0.0.1:\$TEST_NGINX_PORT_1 ssl;
    ssl_certificate        $pki/server-chain.pem;
    ssl_certificate_key    $pki/server.key;
    ssl_client_certificate $pki/ca.pem;
    ssl_verify_client      on;
    hoop on;
    hoop_auth mtls;
    hoop_mtls_principal_rule "^CN=([^,]+)," "\$1";
    hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_PORT_1;   # this listener's
    proxy_pass \$TEST_NGINX_KAFKASASL_BOOTSTRAP;
}
CONF
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $dir/credentials.jsonl;
hoop_sasl_mechanisms PLAIN SCRAM-SHA-256 SCRAM-SHA-512 OAUTHBEARER;
hoop_oauth_jwks $jwt/jwks.json;
hoop_oauth_issuer https://idp.hoop.test;
hoop_oauth_audience kafka;
proxy_pass \$TEST_NGINX_KAFKASASL_BOOTSTRAP;
CONF
my $gw = "127.0.0.1:$ng->{port}";

sub client {
    my ($name, @args) = @_;
    return run_cmd(cmd => [ "$repo/t/clients/$name/run", @args ], timeout => 180,
                   env => { HOOP_CLIENT_TOKEN_DEBUG => 1 });
}

sub round_trip {
    my ($c, $what, $n, $bootstrap, @auth) = @_;
    (my $t = "hoop-auth-$c-$what-$$") =~ s/[^\w-]/-/g;
    my $p = client($c, 'produce', '--bootstrap', $bootstrap, '--topic', $t,
                   '--count', $n, @auth);
    my $k = client($c, 'consume', '--bootstrap', $bootstrap, '--topic', $t,
                   '--group', "g-$t", '--count', $n, @auth);
    my $chk = run_cmd(cmd => [ "$repo/t/clients/check-records", '--count', $n ],
                      stdin => $k->{stdout}, timeout => 30);
    ok($p->{rc} == 0 && $k->{rc} == 0 && $chk->{rc} == 0,
       "$c: $what through the gateway, $n records intact")
        or diag("produce rc=$p->{rc}: " . substr($p->{stderr}, -1500)
                . "\nconsume rc=$k->{rc}: " . substr($k->{stderr}, -1500)
                . "\ncheck: $chk->{stdout}$chk->{stderr}");
    return $k;
}

# PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER with each client
my $token = mint_jwt(dir => $jwt, alg => 'RS256', iss => 'https://idp.hoop.test',
                     aud => 'kafka', sub => 'alice', groups => 'payments',
                     exp_in => 600, out => "$dir/token");
for my $c (@CLIENTS) {
    for my $m (qw(PLAIN SCRAM-SHA-256 SCRAM-SHA-512)) {
        round_trip($c, $m, 20, $gw, '--sasl-mechanism', $m,
                   '--sasl-user', 'alice', '--sasl-password', 'alice-secret');
    }
    round_trip($c, 'OAUTHBEARER', 20, $gw, '--sasl-mechanism', 'OAUTHBEARER',
               '--token-file', "$dir/token");
}

# a wrong password is refused by every client
for my $c (@CLIENTS) {
    my $r = client($c, 'metadata', '--bootstrap', $gw, '--timeout-ms', 10000,
                   '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-user', 'alice',
                   '--sasl-password', 'wrong');
    isnt($r->{rc}, 0, "$c: a wrong password is refused");
}

# mTLS with alice's certificate
for my $c (@CLIENTS) {
    my $k = round_trip($c, 'mTLS', 10, "127.0.0.1:$ng->{ports}[0]",
        '--security-protocol', 'SSL', '--ssl-ca', "$pki/ca.pem",
        '--ssl-cert', "$pki/alice.pem", '--ssl-key', "$pki/alice.key");
    my $bad = client($c, 'metadata', '--bootstrap', "127.0.0.1:$ng->{ports}[0]",
        '--timeout-ms', 10000, '--security-protocol', 'SSL',
        '--ssl-ca', "$pki/ca.pem", '--ssl-cert', "$pki/alice-other-ca.pem",
        '--ssl-key', "$pki/alice-other-ca.key");
    isnt($bad->{rc}, 0, "$c: a certificate from another CA is refused");
}

# short-lived tokens, refreshed in the file every 3 s: 30 s of consuming
my $refresher = run_cmd(cmd => [ 'sh', '-c',
    "'$repo/t/bin/mint-jwt' token '$jwt' --alg ES256 --iss https://idp.hoop.test "
    . "--aud kafka --sub alice --exp-in 12 --out '$dir/short-token' --every 3 "
    . ">/dev/null 2>&1 & echo \$!" ], timeout => 10);
chomp(my $refresher_pid = $refresher->{stdout});
sleep 1;

# per client: a producer adds a record a second for 30 s (PLAIN), while the
# consumer (OAUTHBEARER, 12 s tokens) waits for all 30: all run at once
my $script = '';
my $plain = '-X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=PLAIN '
          . '-X sasl.username=alice -X sasl.password=alice-secret';
for my $c (@CLIENTS) {
    my $t = "hoop-reauth-$c-$$";
    $script .= "( for i in \$(seq 0 29); do sleep 1; echo v\$i | kcat -q -P "
             . "-b $gw $plain -t $t -k k\$i; done ) &\n"
             . "HOOP_CLIENT_TOKEN_DEBUG=1 '$repo/t/clients/$c/run' consume "
             . "--bootstrap $gw --topic $t --group g-$t --count 30 "
             . "--timeout-ms 60000 --sasl-mechanism OAUTHBEARER "
             . "--token-file '$dir/short-token' >'$dir/s-$c.out' "
             . "2>'$dir/s-$c.err' &\n";
}
run_cmd(cmd => [ 'sh', '-c', $script . "wait\n" ], timeout => 150);
for my $c (@CLIENTS) {
    my @got = grep { /\S/ } split /\n/, (Test::Hoop::Util::slurp("$dir/s-$c.out") // '');
    my $err = Test::Hoop::Util::slurp("$dir/s-$c.err") // '';
    is(scalar @got, 30, "$c: 30 records over 30 s with 12 s tokens")
        or diag(substr($err, -1500));
    my $reads = () = $err =~ /hoop-token: read/g;
    ok($reads >= 2, "$c: read the token file $reads times");
}
kill 'TERM', $refresher_pid if $refresher_pid;

my $log = hoop_nginx_stop($ng);
like($log, qr/client authenticated as "alice" with OAUTHBEARER \(re-authentication\)/,
     'Java or kafka-python re-authenticated on a live connection');
like($log, qr/SASL session of "alice" expired without re-authentication/,
     'librdkafka, which cannot, was disconnected when its session ended');
unlike(join("\n", grep { !/SSL_shutdown\(\) failed/ } split /\n/, $log),
       qr/\[(alert|crit|emerg)\]/, 'no alerts (nginx 1.22 logs SSL_shutdown at crit on refused handshakes: not ours)')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
