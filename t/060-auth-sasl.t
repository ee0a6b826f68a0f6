# Client SASL terminated at the gateway, frame by frame against a real
# broker behind it: SaslHandshake v0/v1, SaslAuthenticate v1/v2 with PLAIN,
# refusals (SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM,
# ILLEGAL_SASL_STATE) that close the connection, the gate that keeps every
# other request away until authentication, KIP-368 session lifetime and
# re-authentication, and nginx -t errors.  Credentials come from
# tools/hoop-passwd (PBKDF2 and SCRAM keys, never a password).

use lib 't/lib';
use Test::Hoop::Stream;

BEGIN {
    my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
    my $dir = "$repo/build/t-auth";
    mkdir "$repo/build"; mkdir $dir;
    my $passwd = "$repo/build/tools/hoop-passwd";
    die "build $passwd first (make)" unless -x $passwd;
    open my $f, '>', "$dir/credentials.jsonl" or die $!;
    for ([ 'alice', 'alice-secret', 'payments,ops' ], [ 'bob', 'bob-secret', '' ]) {
        my ($u, $p, $g) = @$_;
        my $line = `printf '%s' '$p' | $passwd --user $u @{[ $g ? "--groups $g" : '' ]}`;
        die "hoop-passwd failed for $u" if $? || $line !~ /^\{/;
        print $f $line;
    }
    close $f;
    $ENV{TEST_NGINX_CREDENTIALS} = "$dir/credentials.jsonl";
    $ENV{TEST_NGINX_AUTH_DIR} = $dir;
}

sub handshake { my ($v, $mech, $corr) = @_;
    kafka_request(api_key => 17, version => $v, correlation_id => $corr,
                  body => enc_string($mech)) }

sub authenticate { my ($v, $bytes, $corr) = @_;
    kafka_request(api_key => 36, version => $v, correlation_id => $corr,
        body => $v >= 2 ? enc_compact_bytes($bytes) . enc_tagged_fields()
                        : enc_bytes($bytes)) }

sub plain { "\0$_[0]\0$_[1]" }

sub parse_handshake {
    my $r = kafka_reader($_[0], 'SaslHandshake response');
    my %h = (correlation_id => $r->int32, error_code => $r->int16);
    $h{mechanisms} = $r->array(sub { $_[0]->string });
    $r->expect_end;
    return \%h;
}

sub parse_authenticate {
    my ($payload, $v) = @_;
    my $r = kafka_reader($payload, "SaslAuthenticate v$v response");
    my %a = (correlation_id => $r->int32);
    $r->tagged_fields if $v >= 2;
    $a{error_code} = $r->int16;
    $a{error_message} = $v >= 2 ? $r->compact_string : $r->string;
    $a{auth_bytes} = $v >= 2 ? $r->compact_bytes : $r->bytes;
    $a{session_lifetime_ms} = $r->int64 if $v >= 1;
    $r->tagged_fields if $v >= 2;
    $r->expect_end;
    return \%a;
}

our $SASL = <<'CONF';
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_CREDENTIALS;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

plan tests => hoop_test_count() + 7;

run_tests();

# --- real clients: librdkafka (kcat) and Java with each mechanism --------

{
    my $ng = hoop_nginx_start(log_level => 'info',
        stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => $SASL
            . "hoop_sasl_mechanisms PLAIN SCRAM-SHA-256 SCRAM-SHA-512;\n");
    my $boot = "127.0.0.1:$ng->{port}";
    for my $m (qw(PLAIN SCRAM-SHA-256 SCRAM-SHA-512)) {
        my $r = run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-m', 10,
            '-X', 'security.protocol=SASL_PLAINTEXT', '-X', "sasl.mechanism=$m",
            '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret' ],
            timeout => 30);
        like($r->{stdout}, qr/broker 1 at 127\.0\.0\.1:$ng->{port}/,
             "librdkafka $m through the gateway") or diag($r->{stderr});
    }
    my $bad = run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-m', 5,
        '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-512',
        '-X', 'sasl.username=alice', '-X', 'sasl.password=wrong' ], timeout => 30);
    like($bad->{stderr}, qr/Authentication failed: invalid credentials/,
         'librdkafka: a wrong SCRAM password is refused');

    my $props = "$ENV{TEST_NGINX_AUTH_DIR}/scram512.properties";
    open my $f, '>', $props or die $!;
    print $f "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
        . "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
        . "required username=\"alice\" password=\"alice-secret\";\n";
    close $f;
    my $t = "hoop-scram-java-$$";
    my $j = kafka_tool('topics', '--bootstrap-server', $boot, '--command-config',
                       $props, '--create', '--topic', $t, { timeout => 90 });
    is($j->{rc}, 0, 'Java (kafka-topics) SCRAM-SHA-512 through the gateway')
        or diag($j->{stderr});
    my $log = hoop_nginx_stop($ng);
    like($log, qr/client authenticated as "alice" with SCRAM-SHA-512/, 'as alice');
    unlike($log, qr/\[(alert|crit)\]/, 'no alerts');
}

__DATA__

=== TEST 1: PLAIN with SaslHandshake v1 and SaslAuthenticate v2, then Metadata
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::SASL
--- stream_request eval
api_versions_request(version => 3, correlation_id => 1)
. handshake(1, 'PLAIN', 2)
. authenticate(2, plain('alice', 'alice-secret'), 3)
. metadata_request(version => 12, correlation_id => 4, topics => undef)
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 1, 2, 3, 4 ], 'four answers in order');
my $h = parse_handshake($f[1]);
is($h->{error_code}, 0, 'handshake accepted');
is_deeply($h->{mechanisms}, [ 'PLAIN', 'SCRAM-SHA-256' ], 'mechanisms offered');
my $a = parse_authenticate($f[2], 2);
is($a->{error_code}, 0, 'authenticated');
is($a->{session_lifetime_ms}, 0, 'no session limit configured');
my $m = parse_metadata_response($f[3], 12);
is($m->{brokers}[0]{port}, $ENV{TEST_NGINX_SERVER_PORT}, 'Metadata answered');
--- error_log
client authenticated as "alice" with PLAIN
--- no_error_log
[error]



=== TEST 2: a wrong password: SASL_AUTHENTICATION_FAILED, then the connection closes
--- stream_server_config eval: $main::SASL
--- stream_request eval
handshake(1, 'PLAIN', 2)
. authenticate(2, plain('alice', 'not-her-password'), 3)
. metadata_request(version => 12, correlation_id => 4, topics => undef)
--- read_until_close
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 2, 'handshake and the refusal, nothing for Metadata');
my $a = parse_authenticate($f[1], 2);
is($a->{error_code}, 58, 'SASL_AUTHENTICATION_FAILED');
is($a->{error_message}, 'Authentication failed: invalid credentials', 'generic message');
--- error_log
SASL PLAIN authentication failed
closing connection after refusing authentication



=== TEST 3: an unknown user gets the same answer as a wrong password
--- stream_server_config eval: $main::SASL
--- stream_request eval
handshake(1, 'PLAIN', 2) . authenticate(2, plain('mallory', 'x'), 3)
--- read_until_close
--- response_check
my @f = kafka_frames($resp);
my $a = parse_authenticate($f[1], 2);
is($a->{error_code}, 58, 'SASL_AUTHENTICATION_FAILED');
is($a->{error_message}, 'Authentication failed: invalid credentials', 'same message');



=== TEST 4: no request but ApiVersions reaches the broker before authentication
--- stream_server_config eval: $main::SASL
--- stream_request eval
metadata_request(version => 12, correlation_id => 4, topics => undef)
--- read_until_close
--- stream_response:
--- error_log
closing connection: Metadata request before authentication (hoop_auth sasl)



=== TEST 5: a mechanism not offered: UNSUPPORTED_SASL_MECHANISM with the list
--- stream_server_config eval: $main::SASL
--- stream_request eval
handshake(1, 'GSSAPI', 2)
--- read_until_close
--- response_check
my $h = parse_handshake((kafka_frames($resp))[0]);
is($h->{error_code}, 33, 'UNSUPPORTED_SASL_MECHANISM');
is_deeply($h->{mechanisms}, [ 'PLAIN', 'SCRAM-SHA-256' ], 'what is offered');
--- error_log
refusing SASL mechanism "GSSAPI"



=== TEST 6: SaslAuthenticate without a handshake: ILLEGAL_SASL_STATE
--- stream_server_config eval: $main::SASL
--- stream_request eval
authenticate(1, plain('alice', 'alice-secret'), 3)
--- read_until_close
--- response_check
my $a = parse_authenticate((kafka_frames($resp))[0], 1);
is($a->{error_code}, 34, 'ILLEGAL_SASL_STATE');



=== TEST 7: SaslHandshake v0, then a raw PLAIN token (KIP-43)
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::SASL
--- stream_request eval
[ handshake(0, 'PLAIN', 2), \0.2,
  pack('l>', length plain('bob', 'bob-secret')) . plain('bob', 'bob-secret'), \0.2,
  metadata_request(version => 12, correlation_id => 4, topics => undef) ]
--- response_frames: 3
--- response_check
my @f = kafka_frames($resp);
is(scalar @f, 3, 'handshake, raw token answer, Metadata');
is(parse_handshake($f[0])->{error_code}, 0, 'handshake v0 accepted');
is(length $f[1], 0, 'an empty raw token: authenticated');
is(unpack('l>', $f[2]), 4, 'Metadata answered');
--- error_log
client authenticated as "bob" with PLAIN



=== TEST 8: session lifetime: SessionLifetimeMs, then an expired session is closed
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::SASL . "hoop_session_lifetime 1s;\n"
--- stream_request eval
[ handshake(1, 'PLAIN', 2) . authenticate(2, plain('alice', 'alice-secret'), 3)
  . metadata_request(version => 12, correlation_id => 4, topics => undef),
  \1.5,
  metadata_request(version => 12, correlation_id => 5, topics => undef) ]
--- read_until_close
--- timeout: 10
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 2, 3, 4 ], 'nothing after expiry');
my $a = parse_authenticate($f[1], 2);
ok($a->{session_lifetime_ms} > 0 && $a->{session_lifetime_ms} <= 1000,
   "SessionLifetimeMs $a->{session_lifetime_ms}");
--- error_log
SASL session of "alice" expired without re-authentication



=== TEST 9: KIP-368 re-authentication as the same principal keeps the connection
--- stream_config
hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;
--- stream_server_config eval: $main::SASL . "hoop_session_lifetime 1s;\n"
--- stream_request eval
[ handshake(1, 'PLAIN', 2) . authenticate(2, plain('alice', 'alice-secret'), 3),
  \0.7,
  handshake(1, 'PLAIN', 4) . authenticate(2, plain('alice', 'alice-secret'), 5),
  \0.7,
  metadata_request(version => 12, correlation_id => 6, topics => undef) ]
--- response_frames: 5
--- timeout: 10
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 2, 3, 4, 5, 6 ], 'all answered');
is(parse_authenticate($f[3], 2)->{error_code}, 0, 're-authenticated');
--- error_log
client authenticated as "alice" with PLAIN (re-authentication)
--- no_error_log
expired



=== TEST 10: re-authentication as another principal is refused
--- stream_server_config eval: $main::SASL
--- stream_request eval
handshake(1, 'PLAIN', 2) . authenticate(2, plain('alice', 'alice-secret'), 3)
. handshake(1, 'PLAIN', 4) . authenticate(2, plain('bob', 'bob-secret'), 5)
. metadata_request(version => 12, correlation_id => 6, topics => undef)
--- read_until_close
--- response_check
my @f = kafka_frames($resp);
is_deeply([ map { unpack 'l>', $_ } @f ], [ 2, 3, 4, 5 ], 'no Metadata answer');
is(parse_authenticate($f[3], 2)->{error_code}, 58, 'refused');
--- error_log
SASL re-authentication as "bob" on a connection of "alice" refused



=== TEST 11: hoop_auth sasl without a credential store or JWKS fails nginx -t
--- stream_server_config
hoop on;
hoop_auth sasl;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{"hoop_auth sasl" needs hoop_sasl_credentials or hoop_oauth_jwks}



=== TEST 12: a credential file that does not parse fails nginx -t with file and line
--- stream_server_config
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_AUTH_DIR/../../t/060-auth-sasl.t;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{hoop_sasl_credentials "\S+060-auth-sasl\.t": .* in \S+/nginx\.conf:\d+}



=== TEST 13: a mechanism the stores cannot serve fails nginx -t
--- stream_server_config
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $TEST_NGINX_CREDENTIALS;
hoop_sasl_mechanisms PLAIN OAUTHBEARER;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
--- must_die
--- error_log eval
qr{lists OAUTHBEARER without hoop_oauth_jwks}
