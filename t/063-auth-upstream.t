# The gateway logs in to the broker with its own credentials.  The broker
# (t/bin/kafka-cluster --sasl, name kafkasasl) requires SASL/SCRAM and its
# ACLs allow only User:gateway; clients authenticate to the gateway as
# alice (PLAIN, gateway's credential store) and never see the gateway's
# credentials.  A rewritten secret file is used by new connections while
# live ones go on.

use lib 't/lib';
use Test::Hoop::Stream;
use IO::Socket::INET;

our ($PW, $SECRETS);

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    my $dir = "$repo/build/t-upstream";
    mkdir "$repo/build"; mkdir $dir;
    my $line = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    open my $f, '>', "$dir/credentials.jsonl" or die $!;
    print $f $line;
    close $f;
    $ENV{TEST_NGINX_CREDENTIALS} = "$dir/credentials.jsonl";
    $SECRETS = $dir;
}

sub write_secret {
    my ($name, $user, $pw) = @_;
    my $tmp = "$SECRETS/$name.tmp";
    open my $f, '>', $tmp or die $!;
    print $f "username=$user\npassword=$pw\n";
    close $f;
    rename $tmp, "$SECRETS/$name" or die $!;    # atomically, as operators should
}

sub sasl_login {
    kafka_request(api_key => 17, version => 1, correlation_id => 1,
                  body => enc_string('PLAIN'))
    . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                    body => enc_compact_bytes("\0alice\0alice-secret")
                            . enc_tagged_fields())
}

# the broker's password for User:gateway, from the cluster's env
if (my $file = $ENV{TEST_NGINX_KAFKASASL_SASL_PASSWORD_FILE}) {
    open my $f, '<', $file or die "$file: $!";
    chomp($PW = <$f>);
    write_secret('gateway', 'gateway', $PW);
    write_secret('wrong', 'gateway', 'not-the-password');
    $ENV{TEST_NGINX_SECRET} = "$SECRETS/gateway";
    $ENV{TEST_NGINX_WRONG_SECRET} = "$SECRETS/wrong";
}

our $GW = <<'CONF';
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_CREDENTIALS;
proxy_pass $TEST_NGINX_KAFKASASL_BOOTSTRAP;
CONF

plan tests => hoop_test_count() + 7;

run_tests();

# --- rotation: new connections use the new secret, live ones go on ---------

SKIP: {
    skip 'requires kafkasasl', 5 unless $PW || !$ENV{HOOP_TEST_REQUIRE_ALL};
    write_secret('rotating', 'gateway', $PW);
    my $ng = hoop_nginx_start(log_level => 'info',
        stream_config => "hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_SERVER_PORT;\n"
                         . "hoop_upstream_sasl SCRAM-SHA-256 $SECRETS/rotating;",
        stream_server_config => $GW);

    my $live = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ng->{port}")
        or die "connect: $!";
    my $metadata = sub {
        my ($corr) = @_;
        print $live metadata_request(version => 12, correlation_id => $corr,
                                     topics => undef);
        my ($len, $body) = ('', '');
        $live->read($len, 4) == 4 or return undef;
        $live->read($body, unpack 'l>', $len);
        return parse_metadata_response($body, 12);
    };
    print $live sasl_login();
    for (1 .. 2) { my $l; $live->read($l, 4); $live->read(my $b, unpack 'l>', $l); }
    ok($metadata->(10), 'live connection works');

    write_secret('rotating', 'gateway', 'rotated-to-a-wrong-one');
    sleep 1.1;    # a new mtime second
    my $r = tcp_exchange(port => $ng->{port}, timeout => 10,
        request => sasl_login() . metadata_request(version => 12,
                       correlation_id => 3, topics => undef));
    my @f = kafka_frames($r->{response});
    is(scalar @f, 2, 'a new connection uses the new (wrong) secret: no Metadata');
    ok($metadata->(11), 'the live connection is not dropped');

    write_secret('rotating', 'gateway', $PW);
    sleep 1.1;
    $r = tcp_exchange(port => $ng->{port}, timeout => 10,
        request => sasl_login() . metadata_request(version => 12,
                       correlation_id => 3, topics => undef));
    is(scalar(kafka_frames($r->{response})), 3, 'the restored secret works at once');
    close $live;
    my $log = hoop_nginx_stop($ng);
    like($log, qr/broker refused the gateway's SASL SCRAM-SHA-256 credentials/,
         'the refusal is logged');
}

# --- KIP-368 upstream: the broker's sessions end (connections.max.reauth.ms,
# 8 s in make test): the gateway re-authenticates on a live connection ----

SKIP: {
    skip 'requires kafkasasl', 2 unless $PW || !$ENV{HOOP_TEST_REQUIRE_ALL};
    my $ng = hoop_nginx_start(log_level => 'info',
        stream_config => "hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_SERVER_PORT;\n"
                         . "hoop_upstream_sasl SCRAM-SHA-512 $SECRETS/gateway;",
        stream_server_config => $GW);
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ng->{port}")
        or die "connect: $!";
    print $s sasl_login();
    for (1 .. 2) { my $l; $s->read($l, 4); $s->read(my $b, unpack 'l>', $l); }
    my $ok = 0;
    for my $i (1 .. 12) {           # 12 s: longer than the broker's session
        print $s metadata_request(version => 12, correlation_id => 100 + $i,
                                  topics => undef);
        my ($l, $b) = ('', '');
        last unless $s->read($l, 4) == 4;
        $s->read($b, unpack 'l>', $l);
        $ok++ if unpack('l>', $b) == 100 + $i;
        sleep 1;
    }
    close $s;
    my $log = hoop_nginx_stop($ng);
    is($ok, 12, 'a live connection outlives the broker session lifetime');
    like($log, qr/gateway re-authenticating to the broker before its session ends/,
         'by re-authenticating upstream');
}

__DATA__

=== TEST 1: client PLAIN to the gateway, gateway SCRAM-SHA-512 to the broker
--- requires: kafkasasl
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
hoop_upstream_sasl SCRAM-SHA-512 $TEST_NGINX_SECRET;
--- stream_server_config eval: $main::GW
--- stream_request eval
main::sasl_login()
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 1, 2, 3 ], 'SASL answers and Metadata');
my $m = parse_metadata_response($f[2], 12);
is($m->{brokers}[0]{port}, $ENV{TEST_NGINX_SERVER_PORT}, 'broker behind the gateway');
unlike($resp, qr/n=gateway|\Q$main::PW\E/, 'nothing of the gateway login (user, password, SCRAM messages) reaches the client');
--- no_error_log
[error]



=== TEST 2: upstream PLAIN and SCRAM-SHA-256 work too
--- requires: kafkasasl
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: "hoop_upstream_sasl PLAIN \$TEST_NGINX_SECRET;\n" . $main::GW
--- stream_request eval
main::sasl_login()
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- response_check
is(scalar(my @f = kafka_frames($resp)), 3, 'PLAIN upstream');
--- no_error_log
[error]



=== TEST 3: a wrong gateway secret: the broker refuses, the client is disconnected
--- requires: kafkasasl
--- stream_config
hoop_upstream_sasl SCRAM-SHA-256 $TEST_NGINX_WRONG_SECRET;
--- stream_server_config eval: $main::GW
--- stream_request eval
main::sasl_login()
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- read_until_close
--- timeout: 10
--- response_check
my @f = kafka_frames($resp);
ok(@f < 3, 'no Metadata answer');
unlike($resp, qr/gateway|not-the-password/, 'the refusal text stays in the gateway');
--- error_log
broker refused the gateway's SASL SCRAM-SHA-256 credentials (hoop_upstream_sasl)



=== TEST 4: without hoop_upstream_sasl the broker lets nothing through
--- requires: kafkasasl
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::GW
--- stream_request eval
main::sasl_login()
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- read_until_close
--- timeout: 10
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 2, 'the broker closes an unauthenticated Metadata');



=== TEST 5: mTLS to the broker through nginx's proxy_ssl (the gateway's certificate)
--- requires: kafkasasl
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_CREDENTIALS;
proxy_ssl on;
proxy_ssl_certificate $TEST_NGINX_KAFKASASL_TLS_DIR/gateway-chain.pem;
proxy_ssl_certificate_key $TEST_NGINX_KAFKASASL_TLS_DIR/gateway.key;
proxy_ssl_trusted_certificate $TEST_NGINX_KAFKASASL_TLS_DIR/ca.pem;
proxy_ssl_verify on;
proxy_ssl_name localhost;
proxy_pass $TEST_NGINX_KAFKASASL_MTLS_BOOTSTRAP;
--- stream_request eval
main::sasl_login()
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 1, 2, 3 ], 'Metadata through TLS to the broker');
is(parse_metadata_response($f[2], 12)->{brokers}[0]{port}, $ENV{TEST_NGINX_SERVER_PORT},
   'the gateway address, not the broker TLS listener');
--- no_error_log
[error]



=== TEST 6: a secret file without a password fails nginx -t
--- stream_config
hoop_upstream_sasl SCRAM-SHA-256 $TEST_NGINX_CREDENTIALS;
--- stream_server_config eval: $main::GW
--- must_die
--- error_log eval
qr{hoop_upstream_sasl "\S+credentials\.jsonl": expected "username=" and "password=" lines in \S+nginx\.conf:\d+}
