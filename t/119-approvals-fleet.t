# Approvals across a fleet (issue 7, docs/approvals.md): two nginx nodes,
# node-a and node-b, with the same policy in front of the same broker,
# sharing one Redis.  A just-in-time grant is Redis's, not a node's:
#
#  - a Produce held on node-a and approved with hoopctl opens the grant;
#    the same principal's same operation on node-b (kcat, then a raw
#    client) goes through at once, with no new approval;
#  - once grant_duration is over, node-b asks again (a new approval id)
#    and holds the request until that one is approved;
#  - `hoopctl approvals revoke` ends the second grant: node-a, which never
#    saw it, holds the next request at once.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew);
use Kafka::RecordBatch;
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

if (!env_is_up('kafka')) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('kafka is up');
        exit 0;
    }
    plan skip_all => 'needs kafka (t/bin/kafka-cluster start)';
}

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = run_dir() . "/t119-$$";
remove_tree($DIR);
make_path($DIR);
chmod 0777, $DIR;

my $NAME = "t119r$$";
my $PREFIX = "t119:$$:" . int(time) . ':';
my $BROKER = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my $HOOPCTL = "$repo/build/tools/hoopctl";
my $TOPIC = "prod.fleet-$$";
my $GRANT_S = 5;
my $json = JSON::PP->new->canonical;

plan tests => 26;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

sub hoopctl {
    return run_cmd(cmd => [ $HOOPCTL, @_, '--redis', "127.0.0.1:$RPORT",
                            '--prefix', $PREFIX ], timeout => 30);
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $t = time + $timeout;
    while (time < $t) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.1;
    }
    return $cond->();
}

# the approvals of the topic, every state
sub approvals {
    my $r = hoopctl('approvals', 'list', '--all', '--json');
    my $l = eval { $json->decode($r->{stdout}) } // [];
    return grep { ($_->{resource} // '') eq $TOPIC } @$l;
}

sub pending_id {
    my (%not) = map { $_ => 1 } @_;
    my $a = wait_for(sub {
        my ($p) = grep { $_->{state} eq 'pending' && !$not{ $_->{id} } } approvals();
        return $p;
    }, 15);
    return $a ? $a->{id} : undef;
}

sub broker_keys {
    my $r = run_cmd(cmd => [ 'kcat', '-C', '-b', $BROKER, '-t', $TOPIC, '-o', 'beginning',
                             '-e', '-q', '-f', '%k\n' ], timeout => 30);
    return [ sort grep { length } split /\n/, $r->{stdout} // '' ];
}

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
my $cred = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice`;
die "hoop-passwd failed" if $? || $cred !~ /^\{/;
print $f $cred;
close $f;

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
description: t/119-approvals-fleet.t
grants:
  - id: prod-writes
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "prod.", match: prefix }
    operations: [ write ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: ${GRANT_S}s
      hold: 15s
      expire_after: 10m
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T119 four eyes, fleet-wide"
YAML

sub node {
    my ($name) = @_;
    make_path("$DIR/$name-spool");
    chmod 0777, "$DIR/$name-spool";
    return hoop_nginx_start(
        master => 1, workers => 2, log_level => 'info',
        main_config => "user root;\nworker_shutdown_timeout 3s;",
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_node_name $name;\n"
                         . "hoop_audit_spool $DIR/$name-spool;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

kafka_ensure_topic($BROKER, $TOPIC);
my %ng = (a => node('node-a'), b => node('node-b'));

# --- a raw client as alice ----------------------------------------------------

my %INBUF;

sub read_frame {
    my ($s, $timeout) = @_;
    my $buf = \($INBUF{"$s"} //= '');
    my $sel = IO::Select->new($s);
    my $end = time + $timeout;
    while (1) {
        if (length $$buf >= 4) {
            my $n = unpack('l>', $$buf);
            if (length $$buf >= 4 + $n) {
                my $p = substr($$buf, 4, $n);
                substr($$buf, 0, 4 + $n, '');
                return $p;
            }
        }
        my $left = $end - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        return undef unless sysread($s, $$buf, 65536, length $$buf);
    }
}

sub connect_alice {
    my ($node) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng{$node}{port},
                                  Proto => 'tcp', Timeout => 5) or die "connect: $!";
    syswrite($s, kafka_request(api_key => 17, version => 1, correlation_id => 1,
                               body => enc_string('PLAIN'))
                 . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                                 body => enc_compact_bytes("\0alice\0alice-secret")
                                         . enc_tagged_fields()));
    read_frame($s, 10) // die 'no handshake answer';
    read_frame($s, 10) // die 'no authenticate answer';
    return $s;
}

my $corr = 10;

sub send_produce {
    my ($s, $key) = @_;
    syswrite($s, produce_request(version => 9, correlation_id => ++$corr, acks => 1,
                                 topic => $TOPIC, timeout_ms => 30000,
                                 records => [ { key => $key, value => 'v' } ]));
}

# the error code of partition 0 in a Produce v9 response (undef: none)
sub produce_error {
    my ($payload) = @_;
    return undef unless defined $payload;
    my $r = kafka_reader($payload, 'Produce v9 response');
    $r->int32; $r->tagged_fields;
    my $err;
    $r->compact_array(sub {
        my ($r) = @_;
        $r->compact_string;
        $r->compact_array(sub {
            my ($r) = @_;
            $r->int32; $err //= $r->int16;
            $r->int64; $r->int64; $r->int64;
            $r->compact_array(sub { $_[0]->int32; $_[0]->compact_string; $_[0]->tagged_fields });
            $r->compact_string; $r->tagged_fields;
        });
        $r->tagged_fields;
    });
    return $err;
}

# --- 1. held on node-a, approved ------------------------------------------------

my $sa = connect_alice('a');
send_produce($sa, 'a1');
my $ID1 = pending_id();
ok($ID1, 'node-a holds the Produce: approval ' . ($ID1 // '-'))
    or diag(hoop_error_log($ng{a}));
is(read_frame($sa, 0.5), undef, 'no answer while held');
my $ap = hoopctl('approvals', 'approve', $ID1 // 'none', '--as', 'carol');
is($ap->{rc}, 0, 'carol approves with hoopctl') or diag($ap->{stderr});
my $t_approved = time;
is(produce_error(read_frame($sa, 5)), 0, 'node-a: written');
close $sa;

# --- 2. node-b: the grant answers, no new approval -------------------------------

my $kc = run_cmd(cmd => [ 'kcat', '-P', '-b', "127.0.0.1:$ng{b}{port}", '-t', $TOPIC, '-K:',
                          '-X', 'security.protocol=SASL_PLAINTEXT',
                          '-X', 'sasl.mechanism=PLAIN', '-X', 'sasl.username=alice',
                          '-X', 'sasl.password=alice-secret' ],
                 stdin => "b1:v\n", timeout => 30);
is($kc->{rc}, 0, 'kcat as alice on node-b: written within the grant') or diag($kc->{stderr});
my $sb = connect_alice('b');
send_produce($sb, 'b2');
my $t0 = time;
is(produce_error(read_frame($sb, 3)), 0, 'a raw Produce on node-b: written');
ok(time - $t0 < 1, sprintf('at once (%.2f s), not held', time - $t0));
my @all = approvals();
is(scalar @all, 1, 'still one approval: node-b asked nobody');
like(hoop_error_log($ng{b}), qr/approval \Q$ID1\E: Produce v\d+ correlation id \d+ goes on/,
     "node-b's log: the request goes on under the grant of $ID1")
    or diag(hoop_error_log($ng{b}));
unlike(hoop_error_log($ng{b}), qr/held for approval/, 'node-b held nothing');
ok(time - $t_approved < $GRANT_S, sprintf('all within the %d s grant (%.1f s)',
                                          $GRANT_S, time - $t_approved));

# --- 3. the grant is over: node-b asks again -------------------------------------

my $wait = $t_approved + $GRANT_S + 2.5 - time;    # + the gateways' 2 s memory
sleep $wait if $wait > 0;
send_produce($sb, 'b3');
my $ID2 = pending_id($ID1);
ok($ID2 && $ID2 ne $ID1, 'after grant_duration node-b asks again: approval ' . ($ID2 // '-'))
    or diag(hoop_error_log($ng{b}));
is(read_frame($sb, 0.5), undef, 'node-b holds the request');
like(hoop_error_log($ng{b}), qr/held for approval \Q$ID2\E \(asked\)/, "node-b's log: asked");
$ap = hoopctl('approvals', 'approve', $ID2 // 'none', '--as', 'carol');
is($ap->{rc}, 0, 'approved') or diag($ap->{stderr});
$t0 = time;
is(produce_error(read_frame($sb, 5)), 0, 'node-b: written');
ok(time - $t0 < 1, sprintf('within a second of the approval (%.2f s)', time - $t0));

# --- 4. revoked: node-a holds the next request at once ---------------------------

my $rv = hoopctl('approvals', 'revoke', $ID2 // 'none', '--as', 'carol', '--reason',
                 'T119 done early');
is($rv->{rc}, 0, 'carol revokes the second grant') or diag($rv->{stderr});
my $sa2 = connect_alice('a');
send_produce($sa2, 'a4');
my $ID3 = pending_id($ID1, $ID2);
ok($ID3, 'node-a asks for a new approval right after the revocation: ' . ($ID3 // '-'));
is(read_frame($sa2, 0.5), undef, 'and holds the request');
my $dn = hoopctl('approvals', 'deny', $ID3 // 'none', '--as', 'carol', '--reason', 'no more');
is($dn->{rc}, 0, 'denied');
is(produce_error(read_frame($sa2, 5)), 29, 'node-a: TOPIC_AUTHORIZATION_FAILED');
close $sa2;
close $sb;

my %st = map { $_->{id} => $_->{state} } approvals();
is(join(' ', map { $st{$_ // ''} // '-' } $ID1, $ID2, $ID3), 'approved revoked denied',
   'the approvals: approved, revoked, denied');
is_deeply(broker_keys(), [ qw(a1 b1 b2 b3) ], 'the broker holds each approved record once');

my $log = hoop_nginx_stop($ng{a}) . hoop_nginx_stop($ng{b});
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
unlike($log, qr/exited on signal|open socket/, 'no crash, no socket left');

remove_tree($DIR) if Test::More->builder->is_passing;
