# SASL/OAUTHBEARER (RFC 7628, KIP-255) terminated at the gateway with OIDC
# JWTs minted by the test (t/bin/mint-jwt: RS256 and ES256 keys made for
# the run, JWKS file for nginx), against a real broker behind it.  Good
# tokens authenticate with the token's subject and groups and a session
# that ends with the token; every refusal the issue lists is refused.

use lib 't/lib';
use Test::Hoop::Stream;

our %TOK;

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    my $dir = "$repo/build/t-oauth";
    system("$repo/t/bin/mint-jwt", 'keys', $dir) == 0 or die "mint-jwt keys";
    $ENV{TEST_NGINX_JWKS} = "$dir/jwks.json";

    my @base = ('--iss', 'https://idp.hoop.test', '--aud', 'kafka',
                '--sub', 'alice', '--groups', 'payments,ops');
    my %cases = (
        rs256        => [ '--alg', 'RS256' ],
        es256        => [ '--alg', 'ES256' ],
        short        => [ '--alg', 'RS256', '--exp-in', 2 ],
        expired      => [ '--alg', 'RS256', '--exp-in', -600 ],
        future       => [ '--alg', 'RS256', '--nbf-in', 600 ],
        none         => [ '--alg', 'RS256', '--alg-none' ],
        hs256        => [ '--alg', 'RS256', '--hs256-with-public-key' ],
        rogue        => [ '--alg', 'RS256', '--rogue-key' ],
        badsig       => [ '--alg', 'RS256', '--bad-signature' ],
        no_exp       => [ '--alg', 'RS256', '--no-exp' ],
    );
    for my $k (keys %cases) {
        my $cmd = join ' ', map { "'$_'" } "$repo/t/bin/mint-jwt", 'token',
            $dir, @base, @{$cases{$k}};
        chomp($TOK{$k} = `$cmd`);
        die "mint-jwt $k failed" if $? || $TOK{$k} !~ /\./;
    }
    chomp($TOK{wrong_iss} = `'$repo/t/bin/mint-jwt' token '$dir' --alg RS256 --iss https://evil.test --aud kafka --sub alice`);
    chomp($TOK{wrong_aud} = `'$repo/t/bin/mint-jwt' token '$dir' --alg ES256 --iss https://idp.hoop.test --aud other --sub alice`);
}

sub handshake { kafka_request(api_key => 17, version => 1,
                              correlation_id => $_[1], body => enc_string($_[0])) }

sub oauth { my ($token, $corr, $authzid) = @_;
    my $msg = 'n,' . (defined $authzid ? "a=$authzid" : '') . ","
            . "\x01auth=Bearer $token\x01\x01";
    kafka_request(api_key => 36, version => 2, correlation_id => $corr,
                  body => enc_compact_bytes($msg) . enc_tagged_fields()) }

sub parse_authenticate {
    my $r = kafka_reader($_[0], 'SaslAuthenticate v2 response');
    my %a = (correlation_id => $r->int32);
    $r->tagged_fields;
    $a{error_code} = $r->int16;
    $a{error_message} = $r->compact_string;
    $a{auth_bytes} = $r->compact_bytes;
    $a{session_lifetime_ms} = $r->int64;
    $r->tagged_fields;
    return \%a;
}

# a refusal: the handshake answer, then SASL_AUTHENTICATION_FAILED, closed
sub refused {
    my ($resp) = @_;
    my @f = kafka_frames($resp);
    my $a = parse_authenticate($f[1]);
    return scalar(@f) == 2 && $a->{error_code} == 58;
}

our $OAUTH = <<'CONF';
hoop on;
hoop_auth sasl;
hoop_oauth_jwks $TEST_NGINX_JWKS;
hoop_oauth_issuer https://idp.hoop.test;
hoop_oauth_audience kafka;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

run_tests();

__DATA__

=== TEST 1: RS256 token: authenticated, session ends with the token
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{rs256}, 2)
. metadata_request(version => 12, correlation_id => 3, topics => undef)
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 1, 2, 3 ], 'all answered');
my $a = parse_authenticate($f[1]);
is($a->{error_code}, 0, 'authenticated');
ok($a->{session_lifetime_ms} > 290_000 && $a->{session_lifetime_ms} <= 300_000,
   "session lifetime $a->{session_lifetime_ms} ms: the token's 300 s");
--- error_log
client authenticated as "alice" with OAUTHBEARER
--- no_error_log
[error]



=== TEST 2: ES256 token, with an authzid equal to the subject
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{es256}, 2, 'alice')
--- response_check
is(parse_authenticate((kafka_frames($resp))[1])->{error_code}, 0, 'authenticated');
--- error_log
client authenticated as "alice" with OAUTHBEARER



=== TEST 3: an authzid other than the subject is refused
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{es256}, 2, 'bob')
--- read_until_close
--- response_check
ok(refused($resp), 'SASL_AUTHENTICATION_FAILED, then closed');
--- error_log
authzid "bob" is not the token's subject "alice"



=== TEST 4: expired token
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{expired}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(expired)



=== TEST 5: token not yet valid (nbf in the future)
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{future}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(not_yet_valid)



=== TEST 6: alg none
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{none}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(alg_none)



=== TEST 7: HS256 signed with the RSA public key (key confusion)
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{hs256}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(alg_hmac)



=== TEST 8: signed by a key the JWKS does not have, under a known kid
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{rogue}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(bad_signature)



=== TEST 9: bad signature
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{badsig}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(bad_signature)



=== TEST 10: wrong issuer
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
[ handshake('OAUTHBEARER', 1) . oauth($main::TOK{wrong_iss}, 2) ]
--- read_until_close
--- response_check
ok(refused($resp), 'wrong issuer refused');
--- error_log
(wrong_issuer)



=== TEST 11: wrong audience
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{wrong_aud}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(wrong_audience)



=== TEST 12: a token without exp
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
handshake('OAUTHBEARER', 1) . oauth($main::TOK{no_exp}, 2)
--- read_until_close
--- response_check
ok(refused($resp), 'refused');
--- error_log
(exp_missing)



=== TEST 13: a short token: the session ends with it, a later request closes
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::OAUTH
--- stream_request eval
[ handshake('OAUTHBEARER', 1) . oauth($main::TOK{short}, 2)
  . metadata_request(version => 12, correlation_id => 3, topics => undef),
  \3,
  metadata_request(version => 12, correlation_id => 4, topics => undef) ]
--- read_until_close
--- timeout: 10
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 1, 2, 3 ], 'nothing after the token expired');
ok(parse_authenticate($f[1])->{session_lifetime_ms} <= 2000, 'lifetime of the token');
--- error_log
SASL session of "alice" expired without re-authentication



=== TEST 14: hoop_oauth_jwks without issuer and audience fails nginx -t
--- stream_server_config
hoop on;
hoop_auth sasl;
hoop_oauth_jwks $TEST_NGINX_JWKS;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{"hoop_oauth_jwks" needs hoop_oauth_issuer and hoop_oauth_audience}



=== TEST 15: a JWKS file that is not JSON fails nginx -t with file and line
--- stream_server_config
hoop on;
hoop_auth sasl;
hoop_oauth_jwks $TEST_NGINX_REPO_DIR/README.md;
hoop_oauth_issuer https://idp.hoop.test;
hoop_oauth_audience kafka;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{hoop_oauth_jwks "\S+README\.md": .* in \S+/nginx\.conf:\d+}
