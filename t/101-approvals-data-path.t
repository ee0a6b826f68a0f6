# Approvals on the data path (docs/approvals.md, "The data path"): the
# gateway holds a request that needs a person's yes, asks Redis, and lets
# it through when an approver says so.  With the real broker and a Redis
# of the test's own:
#
#  - a Java producer (kafka-clients) to a protected topic is held; nothing
#    reaches the broker while it waits; `hoopctl approvals approve ID`
#    releases it and every record lands exactly once (read back from the
#    broker directly); the audit events name the approval, and each step
#    (requested by the gateway, approved or denied by hoopctl) is an
#    "approval" event in the audit stream;
#  - a denied request gets TOPIC_AUTHORIZATION_FAILED (29) with "denied by
#    approval ID: REASON" in the Produce ErrorMessage, nothing written;
#  - an undecided request gets REQUEST_TIMED_OUT (7) naming the approval
#    when the hold runs out; after a late approval the retry is written;
#  - a Java consumer's Fetch left undecided: answered NOT_LEADER_OR_FOLLOWER
#    at each 2 s hold, the consumer fetches again (joining the same
#    approval) and reads every record after a late approval;
#  - an admin request held: Kafka's own kafka-topics --delete (AdminClient,
#    DeleteTopics) waits, the topic stays until approved, then is deleted;
#  - a just-in-time grant that ended asks again (a new approval id); one
#    revoked with `hoopctl approvals revoke` too, within 2 s;
#  - Produce acks=0 held and not approved is dropped, never forwarded, and
#    the connection goes on;
#  - a client gone while held: nothing forwarded after the approval, the
#    worker healthy;
#  - Redis stopped while a request is held: REQUEST_TIMED_OUT at once,
#    nothing written; Redis back (empty: the script is loaded again): the
#    next request is held and approved;
#  - nginx reload while a request is held: no crash, nothing forwarded.
#
# Needs: t/bin/kafka-cluster start, redis-server, kcat, the Java driver
# (t/clients/java/build).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file slurp spew free_port release_ports redis_xrange);
use Kafka::RecordBatch;
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
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
my $DIR = run_dir() . "/t101-$$";
remove_tree($DIR);
make_path($DIR);
chmod 0777, $DIR;

my $NAME = "t101r$$";
my $PREFIX = "t101:$$:" . int(time) . ':';
my $BROKER = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my $HOOPCTL = "$repo/build/tools/hoopctl";
my $json = JSON::PP->new->canonical;

plan tests => 112;

# --- Redis of our own -------------------------------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};
my $RDIR = $renv->{REDIS_DIR};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
    remove_tree($DIR) if $DIR && !$ENV{HOOP_KEEP};
}

sub rcli {
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @_ ], timeout => 10);
}

sub redis_down {
    rcli('SHUTDOWN', 'NOSAVE');
    my $t = time + 5;
    sleep 0.05 while (rcli('PING')->{stdout} // '') =~ /PONG/ && time < $t;
}

sub redis_up {
    run_cmd(cmd => [ 'redis-server', '--bind', '127.0.0.1', '--port', $RPORT,
                     '--save', '', '--appendonly', 'no', '--dir', $RDIR,
                     '--daemonize', 'yes', '--pidfile', "$RDIR/redis.pid",
                     '--logfile', "$RDIR/redis.log" ], timeout => 10);
    my $t = time + 5;
    sleep 0.05 until (rcli('PING')->{stdout} // '') =~ /PONG/ || time > $t;
}

sub xrange { return redis_xrange($RPORT, $_[0]); }

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

sub hoopctl {
    return run_cmd(cmd => [ $HOOPCTL, @_, '--redis', "127.0.0.1:$RPORT",
                            '--prefix', $PREFIX ], timeout => 30);
}

# the approvals of a topic, as hoopctl lists them (every state)
sub approvals_of {
    my ($topic) = @_;
    my $r = hoopctl('approvals', 'list', '--all', '--json');
    my $l = eval { $json->decode($r->{stdout}) } // [];
    return grep { ($_->{resource} // '') eq $topic } @$l;
}

sub pending_id {
    my ($topic, $not) = @_;
    my $a = wait_for(sub {
        my ($p) = grep { $_->{state} eq 'pending' && (!$not || $_->{id} ne $not) }
                  approvals_of($topic);
        return $p;
    }, 15);
    return $a ? $a->{id} : undef;
}

# records of a topic, read from the broker itself
sub broker_keys {
    my ($topic) = @_;
    my $r = run_cmd(cmd => [ 'kcat', '-C', '-b', $BROKER, '-t', $topic, '-o', 'beginning',
                             '-e', '-q', '-f', '%k\n' ], timeout => 30);
    return [ grep { length } split /\n/, $r->{stdout} // '' ];
}

# --- the gateway ------------------------------------------------------------

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
for my $u (qw(alice carol)) {
    my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    print $f $line;
}
close $f;

# prod.: held up to 15 s, a 2 s grant (the expiry case); late.: held 2 s
spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
description: t/101-approvals-data-path.t
grants:
  - id: prod-writes
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "prod.", match: prefix }
    operations: [ write ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 2s
      hold: 15s
      expire_after: 10m
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 four eyes"
  - id: prod-reads
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "prod.", match: prefix }
    operations: [ read ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 1m
      hold: 15s
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 reading production"
  - id: alice-groups
    principals: [ "User:alice" ]
    resources:
      - { type: group, name: "t101-", match: prefix }
    operations: [ read, describe ]
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 consumer groups"
  - id: late-writes
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "late.", match: prefix }
    operations: [ write ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 1m
      hold: 2s
      expire_after: 10m
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 short hold"
  - id: late-reads
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "late.", match: prefix }
    operations: [ read ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 1m
      hold: 2s
      expire_after: 10m
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 short hold, reading"
  - id: drop-topics
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "drop.", match: prefix }
    operations: [ delete ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 1m
      hold: 25s
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "T101 deleting topics"
YAML

my $MPORT = free_port(owner => 't/101 metrics');
END { release_ports($MPORT) if $MPORT; }

sub gateway {
    return hoop_nginx_start(
        master => 1, workers => 1, log_level => 'info',
        main_config => "user root;\nworker_shutdown_timeout 5s;",
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_node_name gw-t101;\n"
                         . "hoop_audit_spool $DIR/spool;\n"
                         . "server { listen 127.0.0.1:$MPORT; hoop_metrics; }\n"
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

make_path("$DIR/spool");
chmod 0777, "$DIR/spool";

my $ng = gateway();
my $GW = "127.0.0.1:$ng->{port}";

# --- raw Kafka as alice -------------------------------------------------------

sub login {
    my ($u) = @_;
    return kafka_request(api_key => 17, version => 1, correlation_id => 1,
                         body => enc_string('PLAIN'))
        . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                        body => enc_compact_bytes("\0$u\0$u-secret") . enc_tagged_fields());
}

# one response frame's payload, or undef after $timeout seconds
my %INBUF;     # bytes read past a frame, per socket

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
        my $got = sysread($s, $$buf, 65536, length $$buf);
        return undef unless $got;
    }
}

sub connect_alice {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5) or die "connect: $!";
    syswrite($s, login('alice'));
    read_frame($s, 10) // die 'no handshake answer';
    read_frame($s, 10) // die 'no authenticate answer';
    return $s;
}

my $corr = 10;

sub send_produce {
    my ($s, $topic, %o) = @_;
    syswrite($s, produce_request(version => 9, correlation_id => ++$corr,
                                 acks => $o{acks} // 1, topic => $topic,
                                 timeout_ms => 30000,
                                 records => [ { key => $o{key} // 'k', value => 'v' } ]));
    return $corr;
}

# Produce v9 response: { topic => [error, message] } (partition 0)
sub produce_result {
    my ($payload) = @_;
    return {} unless defined $payload;
    my $r = kafka_reader($payload, 'Produce v9 response');
    $r->int32; $r->tagged_fields;
    my %e;
    $r->compact_array(sub {
        my ($r) = @_;
        my $name = $r->compact_string;
        $r->compact_array(sub {
            my ($r) = @_;
            $r->int32; my $err = $r->int16;
            $r->int64; $r->int64; $r->int64;
            $r->compact_array(sub { $_[0]->int32; $_[0]->compact_string; $_[0]->tagged_fields });
            my $msg = $r->compact_string; $r->tagged_fields;
            $e{$name} = [ $err, $msg ];
        });
        $r->tagged_fields;
    });
    return \%e;
}

sub ensure_topic { kafka_ensure_topic($BROKER, $_[0]) }

# hoop_approvals_held from a scrape of the metrics server
sub held_metric {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $MPORT,
                                  Proto => 'tcp', Timeout => 5) or return undef;
    print $s "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    close $s;
    return $resp =~ /^hoop_approvals_held (\d+)$/m ? $1 : undef;
}

# --- 1. a Java producer held, approved while it waits -------------------------

my $T1 = "prod.java-$$";
ensure_topic($T1);

my $jout = "$DIR/java.out";
my $jpid = fork // die "fork: $!";
if ($jpid == 0) {
    open STDOUT, '>', $jout;
    open STDERR, '>', "$jout.err";
    exec("$repo/t/clients/java/run", 'produce', '--bootstrap', $GW, '--topic', $T1,
         '--count', '20', '--timeout-ms', '60000',
         '--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'PLAIN',
         '--sasl-user', 'alice', '--sasl-password', 'alice-secret')
        or POSIX::_exit(127);
}

my $ID1 = pending_id($T1);
ok($ID1, "the Java producer's request is pending: approval " . ($ID1 // '-'))
    or diag(hoop_error_log($ng));
like($ID1 // '', qr/^[a-z2-7]{10}$/, 'the id is 10 base32 characters');
sleep 1;
is(scalar @{ broker_keys($T1) }, 0, 'nothing reached the broker while held');
ok(!waitpid($jpid, WNOHANG), 'the producer is still waiting');
is(held_metric(), 1, 'hoop_approvals_held: 1 while it waits');

my $ap = hoopctl('approvals', 'approve', $ID1, '--as', 'carol', '--reason', 'T101 go');
is($ap->{rc}, 0, 'carol approves with hoopctl') or diag($ap->{stderr});

my $jdone = wait_for(sub { waitpid($jpid, WNOHANG) == $jpid ? 1 : 0 }, 90);
my $jrc = $jdone ? $? >> 8 : -1;
is($jrc, 0, 'the Java producer finishes') or diag(slurp("$jout.err") // '');
like(slurp($jout) // '', qr/\{"produced":20\}/, 'all 20 records acknowledged');
is(held_metric(), 0, 'hoop_approvals_held: 0 after');

my $keys = broker_keys($T1);
is(scalar @$keys, 20, 'the broker holds 20 records');
is_deeply([ sort @$keys ], [ sort map { "key-$_" } 0 .. 19 ],
          'each record exactly once');

my ($h1) = approvals_of($T1);
is($h1->{state}, 'approved', 'the approval is approved');
is($h1->{decided_by}, 'carol', 'by carol');
is($h1->{request}{api}, 'Produce', 'the request summary the gateway sent');
like($h1->{request}{client} // '', qr/^127\.0\.0\.1:\d+$/, '... with the client address');

like(hoop_error_log($ng), qr/held for approval $ID1 \(asked\)/, 'the hold is logged');
like(hoop_error_log($ng), qr/approval $ID1: Produce v\d+ correlation id \d+ goes on/,
     'the release is logged');

my @ev = @{ wait_for(sub {
    my @e = grep { ($_->{resource} // '') eq $T1 && ($_->{approval} // '') eq $ID1
                   && ($_->{event} // '') ne 'approval' }
            xrange("${PREFIX}audit");
    return @e ? \@e : undef;
}, 10) // [] };
ok(@ev, 'audit: the request events name the approval');
is($ev[0]{decision}, 'allow', 'audit: decision allow');
is($ev[0]{reason}, 'approved', 'audit: reason approved');
is($ev[0]{rule}, 'prod-writes', 'audit: the approval grant');

# each step of the approval is an event of its own (docs/audit.md): asked
# by the gateway (hoop_audit on), approved by hoopctl (--stream audit)
my @st = grep { ($_->{event} // '') eq 'approval' && ($_->{approval} // '') eq $ID1 }
         xrange("${PREFIX}audit");
is_deeply([ map { $_->{step} } @st ], [ 'requested', 'approved' ],
          'audit: one requested and one approved approval event')
    or diag(explain(\@st));
is_deeply([ map { "$_->{principal} $_->{resource_type}:$_->{resource} $_->{operation} $_->{rule} v$_->{v}" } @st ],
          [ ("alice topic:$T1 write prod-writes v1") x 2 ],
          '... for alice writing the topic, under the rule');
like($st[0]{ts} // '', qr/^\d{13}$/, '... ts in ms');
ok(!exists $st[0]{by}, '... requested: no by');
is(($st[1]{by} // '') . '|' . ($st[1]{reason} // ''), 'carol|T101 go',
   '... approved: by carol, her reason');
ok(@st == 2 && $st[0]{id} lt $st[1]{id}, '... in order');

# --- 1b. a Java consumer reading the protected topic: held, approved ----------

{
    my $cout = "$DIR/consumer.out";
    my $cpid = fork // die "fork: $!";
    if ($cpid == 0) {
        open STDOUT, '>', $cout;
        open STDERR, '>', "$cout.err";
        exec("$repo/t/clients/java/run", 'consume', '--bootstrap', $GW, '--topic', $T1,
             '--group', "t101-g$$", '--count', '20', '--timeout-ms', '60000',
             '--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'PLAIN',
             '--sasl-user', 'alice', '--sasl-password', 'alice-secret')
            or POSIX::_exit(127);
    }
    my $a = wait_for(sub {
        my ($p) = grep { $_->{state} eq 'pending' && $_->{operation} eq 'read' }
                  approvals_of($T1);
        return $p;
    }, 30);
    ok($a, "the consumer's Fetch is held: approval " . ($a ? $a->{id} : '-'))
        or diag(hoop_error_log($ng));
    is($a && $a->{rule}, 'prod-reads', 'under the read rule');
    my $ap = hoopctl('approvals', 'approve', $a ? $a->{id} : 'none', '--as', 'carol');
    is($ap->{rc}, 0, 'approved') or diag($ap->{stderr});
    my $done = wait_for(sub { waitpid($cpid, WNOHANG) == $cpid ? 1 : 0 }, 90);
    is($done ? $? >> 8 : -1, 0, 'the Java consumer finishes') or diag(slurp("$cout.err") // '');
    my @recs = map { $json->decode($_) } grep { /^\{/ } split /\n/, slurp($cout) // '';
    is_deeply([ sort map { $_->{key} } @recs ], [ sort map { "key-$_" } 0 .. 19 ],
              'it reads the 20 records');
}

# --- 2. denied ----------------------------------------------------------------

my $T2 = "prod.deny-$$";
ensure_topic($T2);
{
    my $s = connect_alice();
    send_produce($s, $T2);
    my $id = pending_id($T2);
    ok($id, 'a raw Produce is pending');
    is(read_frame($s, 0.5), undef, 'no answer while held');
    my $d = hoopctl('approvals', 'deny', $id, '--as', 'carol', '--reason', 'not during the freeze');
    is($d->{rc}, 0, 'carol denies') or diag($d->{stderr});
    my $res = produce_result(read_frame($s, 5));
    is($res->{$T2}[0], 29, 'TOPIC_AUTHORIZATION_FAILED');
    is($res->{$T2}[1], "denied by approval $id: not during the freeze",
       'the message names the approval and the reason');
    is(scalar @{ broker_keys($T2) }, 0, 'nothing written');

    # a retry within the minute is answered the denial at once
    send_produce($s, $T2);
    $res = produce_result(read_frame($s, 5));
    is($res->{$T2}[0], 29, 'a retry is refused at once');
    like($res->{$T2}[1] // '', qr/^denied by approval $id/, '... naming the same approval');
    close $s;

    my ($e) = @{ wait_for(sub {
        my @e = grep { ($_->{resource} // '') eq $T2 && ($_->{approval} // '') eq $id
                       && ($_->{event} // '') ne 'approval' }
                xrange("${PREFIX}audit");
        return @e ? \@e : undef;
    }, 10) // [] };
    is($e && $e->{decision}, 'deny', 'audit: decision deny');
    is($e && $e->{reason}, 'denied by approval', 'audit: reason denied by approval');
    my @st = grep { ($_->{event} // '') eq 'approval' && ($_->{approval} // '') eq $id }
             xrange("${PREFIX}audit");
    is_deeply([ map { "$_->{step} " . ($_->{by} // '-') . ' ' . ($_->{reason} // '-') } @st ],
              [ 'requested - -', 'denied carol not during the freeze' ],
              'audit: approval events requested, denied (by, reason)');
}

# --- 3. undecided, then a late approval ---------------------------------------

my $T3 = "late.x-$$";
ensure_topic($T3);
{
    my $s = connect_alice();
    my $t0 = time;
    send_produce($s, $T3, key => 'late-1');
    my $res = produce_result(read_frame($s, 8));
    my $took = time - $t0;
    is($res->{$T3}[0], 7, 'undecided after the hold: REQUEST_TIMED_OUT (retriable)');
    my ($a) = approvals_of($T3);
    my $id = $a ? $a->{id} : '-';
    like($res->{$T3}[1] // '', qr/^approval $id pending: /, 'the message names the approval');
    ok($took >= 1.8 && $took < 6, sprintf('answered after the 2 s hold (%.1f s)', $took));
    is($a && $a->{state}, 'pending', 'the approval stays pending');
    is(scalar @{ broker_keys($T3) }, 0, 'nothing written');

    my $ap = hoopctl('approvals', 'approve', $id, '--as', 'carol');
    is($ap->{rc}, 0, 'a late approval') or diag($ap->{stderr});
    send_produce($s, $T3, key => 'late-2');
    $res = produce_result(read_frame($s, 8));
    is($res->{$T3}[0], 0, 'the retry goes through (the grant is active)');
    is_deeply(broker_keys($T3), [ 'late-2' ], 'exactly the retry is written');
    close $s;

    my ($e) = grep { ($_->{resource} // '') eq $T3 && ($_->{reason} // '') eq 'approval pending' }
              xrange("${PREFIX}audit");
    is($e && $e->{approval}, $id, 'audit: approval pending, with the id');
}

# --- 3a. a grant revoked with hoopctl: the next request is held again --------

{
    my $T = "late.revoke-$$";
    ensure_topic($T);
    my $s = connect_alice();
    send_produce($s, $T, key => 'r1');
    my $id = pending_id($T);
    hoopctl('approvals', 'approve', $id, '--as', 'carol') if $id;
    is(produce_result(read_frame($s, 5))->{$T}[0], 0, 'revoke: approved, written');
    send_produce($s, $T, key => 'r2');
    is(produce_result(read_frame($s, 2))->{$T}[0], 0, '... the grant (1 min) answers the next');

    my $rv = hoopctl('approvals', 'revoke', $id // 'none', '--as', 'carol',
                     '--reason', 'T101 revoked');
    is($rv->{rc}, 0, 'carol revokes the grant') or diag($rv->{stderr});
    # a connection keeps a grant in mind for at most 2 s (hoop_hold.c)
    sleep 2.2;
    send_produce($s, $T, key => 'r3');
    my $id2 = pending_id($T, $id);
    ok($id2 && $id2 ne $id, 'within 2 s the gateway asks again: ' . ($id2 // '-'));
    is(read_frame($s, 0.3), undef, '... and holds the request');
    # a new connection, which never saw the grant, joins the same approval
    my $s2 = connect_alice();
    send_produce($s2, $T, key => 'r4');
    is(read_frame($s2, 0.3), undef, 'a new connection is held too');
    hoopctl('approvals', 'approve', $id2, '--as', 'carol') if $id2;
    is(produce_result(read_frame($s, 5))->{$T}[0], 0, 'approved again: written');
    is(produce_result(read_frame($s2, 5))->{$T}[0], 0, '... both');
    is_deeply([ sort @{ broker_keys($T) } ], [ qw(r1 r2 r3 r4) ], 'each once');
    my ($ra) = grep { $_->{id} eq ($id // '') } approvals_of($T);
    is($ra && "$ra->{state} $ra->{revoked_by} $ra->{revoke_reason}",
       'revoked carol T101 revoked', 'the first approval: revoked, by whom, why');
    close $s;
    close $s2;
}

# --- 3c. a Java consumer's Fetch undecided, retried, then a late approval ------

{
    my $T = "late.fetch-$$";
    ensure_topic($T);
    my $pr = run_cmd(cmd => [ 'kcat', '-P', '-b', $BROKER, '-t', $T, '-K:' ],
                     stdin => "f1:v\nf2:v\nf3:v\n", timeout => 30);
    is($pr->{rc}, 0, 'Fetch case: 3 records written to the broker directly');
    my $cout = "$DIR/late-consumer.out";
    my $cpid = fork // die "fork: $!";
    if ($cpid == 0) {
        open STDOUT, '>', $cout;
        open STDERR, '>', "$cout.err";
        exec("$repo/t/clients/java/run", 'consume', '--bootstrap', $GW, '--topic', $T,
             '--group', "t101-f$$", '--count', '3', '--timeout-ms', '90000',
             '--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'PLAIN',
             '--sasl-user', 'alice', '--sasl-password', 'alice-secret')
            or POSIX::_exit(127);
    }
    my $id = pending_id($T);
    ok($id, "the consumer's Fetch is held: approval " . ($id // '-'))
        or diag(hoop_error_log($ng));
    # the 2 s hold runs out twice or more: each time the consumer is told
    # NOT_LEADER_OR_FOLLOWER, refreshes its metadata and fetches again,
    # joining the same approval
    my $a = wait_for(sub {
        my ($x) = grep { $_->{id} eq ($id // '') && $_->{requests} >= 3 } approvals_of($T);
        return $x;
    }, 20);
    ok($a, 'undecided, retried: the approval counts ' . ($a ? $a->{requests} : '-')
           . ' requests') or diag(hoop_error_log($ng));
    is($a && $a->{state}, 'pending', '... still pending, one approval');
    like(hoop_error_log($ng), qr/approval \Q$id\E still pending: Fetch v\d+ correlation id \d+ not forwarded/,
         'the undecided Fetch is answered, not forwarded');
    ok(!waitpid($cpid, WNOHANG), 'the consumer keeps trying');
    is(scalar(grep { /^\{"/ && /"key"/ } split /\n/, slurp($cout) // ''), 0,
       '... with no record yet');
    my $ap = hoopctl('approvals', 'approve', $id // 'none', '--as', 'carol');
    is($ap->{rc}, 0, 'a late approval') or diag($ap->{stderr});
    my $done = wait_for(sub { waitpid($cpid, WNOHANG) == $cpid ? 1 : 0 }, 60);
    is($done ? $? >> 8 : -1, 0, 'the consumer finishes') or diag(slurp("$cout.err") // '');
    my @recs = map { $json->decode($_) } grep { /^\{"/ && /"key"/ } split /\n/, slurp($cout) // '';
    is_deeply([ sort map { $_->{key} } @recs ], [ qw(f1 f2 f3) ],
              'it reads the 3 records after the approval');
    kill 'KILL', $cpid unless $done;
}

# --- 3d. an admin request held: DeleteTopics by Kafka's own tool ----------------

{
    my $T = "drop.me-$$";
    ensure_topic($T);
    spew("$DIR/admin.properties", "security.protocol=SASL_PLAINTEXT\n"
         . "sasl.mechanism=PLAIN\n"
         . "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
         . "required username=\"alice\" password=\"alice-secret\";\n");
    my $tout = "$DIR/delete.out";
    my $tpid = fork // die "fork: $!";
    if ($tpid == 0) {
        open STDOUT, '>', $tout;
        open STDERR, '>', "$tout.err";
        exec("$repo/t/bin/kafka-tool", 'topics', '--bootstrap-server', $GW,
             '--command-config', "$DIR/admin.properties", '--delete', '--topic', $T)
            or POSIX::_exit(127);
    }
    my $id = pending_id($T);
    ok($id, 'kafka-topics --delete: the DeleteTopics request is held: approval '
            . ($id // '-')) or diag(hoop_error_log($ng));
    my ($a) = grep { $_->{id} eq ($id // '') } approvals_of($T);
    is($a && "$a->{operation} $a->{rule} $a->{request}{api}", 'delete drop-topics DeleteTopics',
       '... delete, under drop-topics, the request summary names the API');
    my $md = run_cmd(cmd => [ 'kcat', '-L', '-b', $BROKER, '-t', $T ], timeout => 30);
    like($md->{stdout} // '', qr/topic "\Q$T\E" with 1 partitions/,
         'the topic is still there while held');
    my $ap = hoopctl('approvals', 'approve', $id // 'none', '--as', 'carol');
    is($ap->{rc}, 0, 'approved') or diag($ap->{stderr});
    my $done = wait_for(sub { waitpid($tpid, WNOHANG) == $tpid ? 1 : 0 }, 60);
    is($done ? $? >> 8 : -1, 0, 'kafka-topics --delete succeeds')
        or diag((slurp($tout) // '') . (slurp("$tout.err") // ''));
    ok(wait_for(sub {
        my $m = run_cmd(cmd => [ 'kcat', '-L', '-b', $BROKER ], timeout => 30);
        return ($m->{stdout} // '') !~ /topic "\Q$T\E"/;
    }, 15), 'the broker deleted the topic');
    kill 'KILL', $tpid unless $done;
}

# --- 3b. requests behind a held one wait, in order ----------------------------

{
    my $T = "late.order-$$";
    ensure_topic($T);
    my $s = connect_alice();
    my $t0 = time;
    my $c1 = send_produce($s, $T);
    syswrite($s, api_versions_request(version => 3, correlation_id => 500));
    my $f1 = read_frame($s, 8);
    my $f2 = read_frame($s, 5);
    is(defined $f1 ? unpack('l>', $f1) : -1, $c1, 'the held Produce is answered first');
    ok(time - $t0 >= 1.8, 'the ApiVersions behind it waited for the hold');
    is(defined $f2 ? unpack('l>', $f2) : -1, 500, 'then the ApiVersions');
    close $s;
}

# --- 4. the just-in-time grant of case 1 (2 s) has ended: asked again ---------

{
    sleep 3;
    my $s = connect_alice();
    send_produce($s, $T1, key => 'again');
    my $id = pending_id($T1, $ID1);
    ok($id && $id ne $ID1, 'an ended grant asks again: a new approval ' . ($id // '-'));
    is(read_frame($s, 0.5), undef, 'held again');
    hoopctl('approvals', 'approve', $id, '--as', 'carol');
    my $t0 = time;
    my $res = produce_result(read_frame($s, 5));
    ok(time - $t0 < 1, sprintf('forwarded within a second of the approval (%.2f s)', time - $t0));
    is($res->{$T1}[0], 0, 'approved: written');
    is(scalar(grep { $_ eq 'again' } @{ broker_keys($T1) }), 1, 'once');
    close $s;
}

# --- 5. acks=0 ----------------------------------------------------------------

my $T5 = "late.acks0-$$";
ensure_topic($T5);
{
    my $s = connect_alice();
    send_produce($s, $T5, acks => 0);
    sleep 3;
    syswrite($s, api_versions_request(version => 3, correlation_id => 99));
    my $p = read_frame($s, 5);
    ok(defined $p && unpack('l>', $p) == 99,
       'acks=0 held, not approved: dropped; the connection goes on');
    is(scalar @{ broker_keys($T5) }, 0, 'nothing written');
    like(hoop_error_log($ng), qr/acks=0: dropped/, 'the drop is logged');
    close $s;
}

# --- 6. the client goes away while held ----------------------------------------

my $T6 = "prod.gone-$$";
ensure_topic($T6);
{
    my $s = connect_alice();
    send_produce($s, $T6);
    my $id = pending_id($T6);
    ok($id, 'held');
    close $s;
    sleep 0.5;
    hoopctl('approvals', 'approve', $id, '--as', 'carol');
    sleep 1.5;
    is(scalar @{ broker_keys($T6) }, 0, 'approved after the client left: nothing forwarded');
    like(hoop_error_log($ng), qr/connection closed while Produce correlation id \d+ was held \(approval $id\): dropped/,
         'the drop is logged');
    my $s2 = connect_alice();
    syswrite($s2, api_versions_request(version => 3, correlation_id => 98));
    my $p = read_frame($s2, 5);
    ok(defined $p && unpack('l>', $p) == 98, 'the worker serves the next client');
    close $s2;
}

# --- 7. Redis stops while a request is held -----------------------------------

my $T7 = "prod.redis-$$";
ensure_topic($T7);
{
    my $s = connect_alice();
    send_produce($s, $T7);
    my $id = pending_id($T7);
    ok($id, 'held');
    my $t0 = time;
    redis_down();
    my $res = produce_result(read_frame($s, 10));
    is($res->{$T7}[0], 7, 'Redis gone: REQUEST_TIMED_OUT (retriable), fail closed');
    ok(time - $t0 < 5, 'at once, not after the hold');
    is(scalar @{ broker_keys($T7) }, 0, 'nothing written');

    # no Redis: asked again, answered undecided, never forwarded
    send_produce($s, $T7);
    $res = produce_result(read_frame($s, 20));
    is($res->{$T7}[0], 7, 'a request while Redis is away: REQUEST_TIMED_OUT');
    close $s;

    redis_up();
    sleep 1;
    my $s2 = connect_alice();
    my $ok;
    for my $try (1 .. 30) {
        send_produce($s2, $T7, key => 'after-redis');
        if (defined read_frame($s2, 1)) {
            sleep 0.5;       # answered undecided: not reconnected yet
            next;
        }
        my $nid = pending_id($T7);
        hoopctl('approvals', 'approve', $nid, '--as', 'carol') if $nid;
        $res = produce_result(read_frame($s2, 10));
        $ok = $res->{$T7}[0];
        last;
    }
    is($ok, 0, 'Redis back, empty: the script is loaded again, held and approved');
    is_deeply(broker_keys($T7), [ 'after-redis' ], 'only the approved request was written');
    close $s2;
}

# --- 8. nginx reload while a request is held ------------------------------------

my $T8 = "prod.reload-$$";
ensure_topic($T8);
{
    my $s = connect_alice();
    send_produce($s, $T8, key => 'reload');
    my $id = pending_id($T8);
    ok($id, 'held');
    kill 'HUP', $ng->{pid};
    sleep 1;
    is(read_frame($s, 0.5), undef, 'reload: the old worker still holds the request');
    my $s2 = connect_alice();
    syswrite($s2, api_versions_request(version => 3, correlation_id => 97));
    my $p = read_frame($s2, 5);
    ok(defined $p && unpack('l>', $p) == 97, 'the new workers serve');
    close $s2;
    hoopctl('approvals', 'approve', $id, '--as', 'carol');
    my $res = produce_result(read_frame($s, 5));
    is($res->{$T8}[0], 0, 'approved during the shutdown: the old worker forwards it');
    is_deeply(broker_keys($T8), [ 'reload' ], 'written once');
    close $s;
}

# --- 9. Redis lost the script (SCRIPT FLUSH): loaded again, asked again ---------

my $T9 = "late.flush-$$";
ensure_topic($T9);
{
    my $s = connect_alice();
    send_produce($s, $T9, key => 'first');
    my $id = pending_id($T9);
    hoopctl('approvals', 'approve', $id, '--as', 'carol') if $id;
    my $res = produce_result(read_frame($s, 5));
    is($res->{$T9}[0], 0, 'approved: written');
    close $s;

    # both scripts are gone: the gateway loads the approval script and
    # the audit writer its own again (t/116-audit-noscript.t)
    rcli('SCRIPT', 'FLUSH');
    $s = connect_alice();
    send_produce($s, $T9, key => 'flushed');
    $res = produce_result(read_frame($s, 5));
    is($res->{$T9}[0], 0, 'after SCRIPT FLUSH: loaded again, the active grant answers');
    is_deeply(broker_keys($T9), [ 'first', 'flushed' ], 'each once');
    like(hoop_error_log($ng), qr/approval script is gone \(NOSCRIPT\): loading it again/,
         'NOSCRIPT was seen and handled');
    ok(wait_for(sub { hoop_error_log($ng) =~ /audit script is gone \(NOSCRIPT\): loading it again/ }, 5),
       'the audit writer loads its script again too');
    close $s;
}

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
unlike($log, qr/exited on signal|open socket/, 'no crash, no socket left');
