# mTLS identity: nginx verifies the client certificate (ssl_verify_client)
# and the module maps its subject to a principal with
# hoop_mtls_principal_rule, before any request reaches the broker.  Test
# PKI from t/bin/make-test-pki; a real broker behind; librdkafka (kcat)
# over TLS with a client certificate as the real client.

use lib 't/lib';
use Test::Hoop::Stream;

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    my $dir = "$repo/build/t-pki";
    system("$repo/t/bin/make-test-pki $dir >/dev/null") == 0
        or die "make-test-pki failed";
    $ENV{TEST_NGINX_PKI} = $dir;
}

sub cert { my ($who) = @_; my $d = $ENV{TEST_NGINX_PKI};
    return { SSL_cert_file => "$d/$who.pem", SSL_key_file => "$d/$who.key",
             SSL_ca_file => "$d/ca.pem", SSL_verify_mode => 0 } }

our $TLS = <<'CONF';
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_PORT_1;

server {
    listen 127.0.0.1:$TEST_NGINX_PORT_1 ssl;
    ssl_certificate        $TEST_NGINX_PKI/server-chain.pem;
    ssl_certificate_key    $TEST_NGINX_PKI/server.key;
    ssl_client_certificate $TEST_NGINX_PKI/ca.pem;
    ssl_verify_client      on;

    hoop on;
    hoop_auth mtls;
    hoop_mtls_principal_rule "^CN=([^,]+),OU=payments," "$1";
    proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
}
CONF

plan tests => hoop_test_count() + 3;

run_tests();

# --- a real client: librdkafka over TLS with alice's certificate -----------

{
    my $ng = hoop_nginx_start(ports => 1, stream_config => $TLS,
                              stream_server_config => 'return "";',
                              log_level => 'info');
    my $d = $ENV{TEST_NGINX_PKI};
    my $boot = "127.0.0.1:$ng->{ports}[0]";
    my @tls = ('-X', 'security.protocol=SSL', '-X', "ssl.ca.location=$d/ca.pem",
               '-X', "ssl.certificate.location=$d/alice.pem",
               '-X', "ssl.key.location=$d/alice.key");
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', "hoop-mtls-$$",
                             '-K:', @tls ], stdin => "k1:v1\nk2:v2\n", timeout => 60);
    my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', "hoop-mtls-$$",
                             '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n', @tls ],
                    timeout => 60);
    my $log = hoop_nginx_stop($ng);
    is($p->{rc}, 0, 'kcat produced over TLS') or diag(substr($p->{stderr}, -1500));
    is($c->{stdout}, "k1=v1\nk2=v2\n", 'kcat consumed over TLS');
    like($log, qr/client certificate identifies "alice"/, 'as alice');
}

__DATA__

=== TEST 1: alice's certificate: principal "alice", requests reach the broker
--- stream_config eval: $main::TLS
--- stream_server_config
return "";
--- stream_request_port: $TEST_NGINX_PORT_1
--- client_ssl eval: main::cert('alice')
--- stream_request eval
metadata_request(version => 12, correlation_id => 7, topics => undef)
--- response_check
my $m = parse_metadata_response((kafka_frames($resp))[0], 12);
is($m->{brokers}[0]{port}, $ENV{TEST_NGINX_PORT_1}, 'Metadata through TLS');
--- error_log
client certificate identifies "alice"
--- no_error_log
[error]



=== TEST 2: bob's certificate verifies, but no rule maps OU=analytics
--- stream_config eval: $main::TLS
--- stream_server_config
return "";
--- stream_request_port: $TEST_NGINX_PORT_1
--- client_ssl eval: main::cert('bob')
--- stream_request eval
metadata_request(version => 12, correlation_id => 7, topics => undef)
--- read_until_close
--- stream_response:
--- error_log
no hoop_mtls_principal_rule matches "CN=bob,OU=analytics,O=Hoop Test"



=== TEST 3: a certificate from another CA never gets past nginx
--- stream_config eval: $main::TLS
--- stream_server_config
return "";
--- stream_request_port: $TEST_NGINX_PORT_1
--- client_ssl eval: main::cert('alice-other-ca')
--- stream_request eval
metadata_request(version => 12, correlation_id => 7, topics => undef)
--- read_until_close
--- abort
--- stream_response:
--- error_log eval
qr/client SSL certificate verify error|certificate verify failed/
--- no_error_log
client certificate identifies



=== TEST 4: an expired certificate never gets past nginx
--- stream_config eval: $main::TLS
--- stream_server_config
return "";
--- stream_request_port: $TEST_NGINX_PORT_1
--- client_ssl eval: main::cert('alice-expired')
--- stream_request eval
metadata_request(version => 12, correlation_id => 7, topics => undef)
--- read_until_close
--- abort
--- stream_response:
--- error_log eval
qr/certificate has expired/
--- no_error_log
client certificate identifies



=== TEST 5: SASL on an mTLS listener is refused
--- stream_config eval: $main::TLS
--- stream_server_config
return "";
--- stream_request_port: $TEST_NGINX_PORT_1
--- client_ssl eval: main::cert('alice')
--- stream_request eval
kafka_request(api_key => 17, version => 1, correlation_id => 2, body => enc_string('PLAIN'))
--- read_until_close
--- response_check
my $r = kafka_reader((kafka_frames($resp))[0], 'SaslHandshake');
$r->int32;
is($r->int16, 34, 'ILLEGAL_SASL_STATE');
--- error_log
this listener authenticates with hoop_auth mtls
