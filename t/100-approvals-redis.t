# Approvals in Redis (docs/approvals.md), against a real Redis
# (t/bin/redis-env; started here under the name "approvals" when the suite
# gives none, and then stopped): the approval script
# src/approval/hoop_approval.lua run as the gateway will run it (the
# EVALSHA argument lists come from src/approval's builder, through
# test/unit/build/approval_args, after the policy's decision), and
# `hoopctl approvals` run as a person:
#
#  - request: a pending approval, listed (table and --json), its
#    notification on P approvals:notify and in P approvals:events (the
#    documented fields, in order); later requests join it; twenty
#    connections racing create exactly one;
#  - approve by an approver: the just-in-time grant P jit:<subject> with
#    the rule's grant_duration as TTL, requests answered "granted";
#    refused: not an approver (hoopctl, and the script on its own),
#    self-approval, deciding twice; a repeated approval is no error;
#  - deny with a reason: the requester's next request is answered
#    "denied" with the reason; no reason, no denial;
#  - expiry: an undecided approval expires (swept by any call, or by
#    "expire"), cannot be approved, and the next request asks again; an
#    expired grant asks again too;
#  - revoke: an approver (or the principal) ends an active grant early,
#    recorded with who and why, notified and in the stream; the next
#    request asks again; refused: not an approver, no active grant;
#  - the audit trail: with the audit stream argument (and from hoopctl,
#    --stream, default "audit") each step (requested, approved, denied,
#    expired by a sweep or by "expire", revoked) is exactly one "approval"
#    event in P audit with the documented fields in order; repeated calls
#    add none; --stream "" writes none; hoopctl audit tail shows them;
#  - bad ids and bad arguments; ids that collide; hoopctl approvals watch.
#
# Every run uses its own key prefix.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Hoop::Util qw(read_env_file run_cmd run_dir);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP;
use Time::HiRes qw(time sleep);

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
# HOOPCTL="build/tools/hoopctl-asan": the same tests under the sanitizers
my @H = split ' ', ($ENV{HOOPCTL} // "$repo/build/tools/hoopctl");
my $ARGS = "$repo/test/unit/build/approval_args";
my $dir = tempdir('approvals-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8->canonical;

# --- the binaries and Redis ------------------------------------------------

for my $b ([ 'make', '-s', '-C', "$repo/tools", 'hoopctl' ],
           [ 'make', '-s', '-C', "$repo/test/unit", 'build/approval_args' ])
{
    next if $ENV{HOOPCTL} && $b->[3] =~ /tools/;
    my $r = run_cmd(cmd => $b, timeout => 300);
    next if $r->{rc} == 0;
    plan tests => 1;
    fail("@$b");
    diag($r->{stdout} . $r->{stderr});
    exit;
}

my $port = $ENV{TEST_NGINX_REDIS_PORT};
my $started_redis = 0;
unless ($port) {
    my $r = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name',
                             'approvals' ], timeout => 30);
    my $envf = run_dir() . '/approvals.env';
    my $env = -f $envf ? read_env_file($envf) : undef;
    $port = $env->{REDIS_PORT} if $env;
    unless ($port) {
        plan skip_all => "no Redis (t/bin/redis-env start): $r->{stderr}";
    }
    $started_redis = 1;
}
END {
    run_cmd(cmd => [ "$repo/t/bin/redis-env", 'stop', '--name', 'approvals' ],
            timeout => 30) if $started_redis;
}

my $P = sprintf 't100-%d-%d:', $$, int(time * 1000) % 1000000000;
my @STORE = ('--redis', "127.0.0.1:$port", '--prefix', $P);

# --- a small RESP client -----------------------------------------------------

my %BUF;

sub rconnect {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or die "redis: connect 127.0.0.1:$port: $!";
    binmode $s;
    $BUF{$s} = '';
    return $s;
}

sub rsend {
    my ($s, @args) = @_;
    my $m = '*' . @args . "\r\n";
    $m .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print {$s} $m;
    $s->flush;
}

sub _more {
    my ($s, $deadline) = @_;
    my $left = $deadline - time;
    return 0 if $left <= 0 || !IO::Select->new($s)->can_read($left);
    my $n = sysread($s, my $chunk, 65536);
    return 0 unless $n;
    $BUF{$s} .= $chunk;
    return 1;
}

sub _line {
    my ($s, $deadline) = @_;
    my $i;
    until (($i = index($BUF{$s}, "\r\n")) >= 0) {
        _more($s, $deadline) or die "redis: no answer\n";
    }
    my $line = substr($BUF{$s}, 0, $i);
    substr($BUF{$s}, 0, $i + 2, '');
    return $line;
}

# one reply: undef for nil, array refs, { err => text } for errors
sub rread {
    my ($s, $timeout) = @_;
    my $deadline = time + ($timeout // 10);
    my $line = _line($s, $deadline);
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    return { err => $v } if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        _more($s, $deadline) or die "redis: short bulk\n"
            while length($BUF{$s}) < $v + 2;
        my $data = substr($BUF{$s}, 0, $v);
        substr($BUF{$s}, 0, $v + 2, '');
        return $data;
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { rread($s, $timeout) } 1 .. $v ];
    }
    die "redis: bad reply '$line'\n";
}

my $R = rconnect();
sub redis { rsend($R, @_); return rread($R); }

# --- the script, as the gateway loads it -----------------------------------

my $lua = do {
    open my $f, '<:raw', "$repo/src/approval/hoop_approval.lua" or die $!;
    local $/;
    <$f>;
};
my ($header_sha) = do {
    open my $f, '<', "$repo/src/approval/hoop_approval_lua.h" or die $!;
    local $/;
    <$f> =~ /#define HOOP_APPROVAL_LUA_SHA1\s+"([0-9a-f]{40})"/;
};
my $r = run_cmd(cmd => [ "$repo/tools/embed-lua", '--check', 'approval' ],
                timeout => 20);
is($r->{rc}, 0, 'src/approval/hoop_approval_lua.h is that of the script')
    or diag($r->{stderr});
is(redis('SCRIPT', 'LOAD', $lua), $header_sha,
   'SCRIPT LOAD: the SHA1 of the header (EVALSHA name)');

# --- the policies ------------------------------------------------------------

my $policy = "$repo/policy-examples/approvals-prod-writes.yaml";
my $fast = "$dir/fast.yaml";
open my $ff, '>', $fast or die $!;
print {$ff} <<'EOF';
policy_version: 1
grants:
  - id: fast
    principals: [ "User:quick" ]
    resources: [ { type: topic, name: "prod.", match: prefix } ]
    operations: [ write ]
    approval:
      approvers: [ "User:carol" ]
      grant_duration: 2s
      hold: 1s
      expire_after: 2s
    reviewed_by: grace
    reviewed_at: 2026-11-20
    reason: "the test's short timers"
EOF
close $ff;

sub hoopctl {
    my (@args) = @_;
    my $r = run_cmd(cmd => [ @H, @args, @STORE ], timeout => 60);
    return $r;
}

$r = hoopctl('push', $policy, '--author', 't100');
is($r->{rc}, 0, 'the example policy is pushed (hoopctl checks approvers '
               . 'against it)') or diag($r->{stderr});

# the data path: the decision, then the arguments src/approval builds
sub decide_for {
    my ($pol, $principal, $groups, $type, $name, $op, $summary) = @_;
    my $r = run_cmd(cmd => [ $ARGS, 'request', $pol, $P, $principal, $groups,
                             $type, $name, $op,
                             defined $summary ? ($summary) : () ],
                    timeout => 20);
    die "approval_args: $r->{stderr}" if $r->{rc} != 0;
    return $json->decode($r->{stdout});
}

sub args_of {
    my (@a) = @_;
    my $r = run_cmd(cmd => [ $ARGS, @a ], timeout => 20);
    die "approval_args: $r->{stderr}" if $r->{rc} != 0;
    return @{ $json->decode($r->{stdout})->{argv} };
}

# a request as the gateway sends it: the reply, and what was sent
sub ask {
    my ($s, @q) = @_;
    my $d = decide_for(@q);
    die "no approval needed: $d->{decision}" unless $d->{argv};
    rsend($s, @{ $d->{argv} });
    return (rread($s), $d);
}

my $SUB = rconnect();
rsend($SUB, 'SUBSCRIBE', "${P}approvals:notify");
is_deeply(rread($SUB), [ 'subscribe', "${P}approvals:notify", 1 ],
          'a chat bot subscribes to P approvals:notify');

sub notice {
    my $m = eval { rread($SUB, 5) };
    return [ '', {} ] unless ref $m eq 'ARRAY' && $m->[0] eq 'message';
    return [ $m->[2], $json->decode($m->[2]) ];
}

sub hash_of {
    my ($id) = @_;
    my $h = redis('HGETALL', "${P}approval:$id");
    return { @$h };
}

sub events {
    my $e = redis('XRANGE', "${P}approvals:events", '-', '+');
    return map { { id => $_->[0], f => $_->[1], h => { @{ $_->[1] } } } } @$e;
}

# --- request: pending, listed, notified --------------------------------------

my $summary = '{"api":"Produce","api_key":0,"api_version":11,'
            . '"client":"10.0.0.2:4000","client_id":"orders-svc",'
            . '"node":"gw1","records":3,"bytes":120}';

my $d0 = decide_for($policy, 'ci-bot', '', 'topic', 'prod.orders',
                    'describe');
is($d0->{decision}, 'grant', 'DESCRIBE of the topic needs no approval '
                             . '(implied by the approval grant)');
is($d0->{rule}, 'prod-writes', '... by that grant');

my $t0 = int(time * 1000);
my ($rep, $d) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.orders',
                    'write', $summary);
my $ID = $d->{id};
is($d->{decision}, 'approval needed', 'the policy says: approval needed');
is($d->{rule}, 'prod-writes', '... under rule prod-writes');
is($d->{hold_ms}, 25000, '... hold 25s (the default)');
like($ID, qr/^[a-z2-7]{10}$/, 'a new id: 10 base32 characters');
is_deeply($rep, [ 'pending', $ID, 1, 1800000, '' ],
          'request: pending, created, expires in expire_after (30m)');

my $h = hash_of($ID);
is($h->{state}, 'pending', 'P approval:<id> is pending');
is($h->{principal}, 'ci-bot', '... principal');
is($h->{groups}, '[]', '... groups');
is($h->{resource_type} . ':' . $h->{resource}, 'topic:prod.orders',
   '... resource');
is($h->{operation}, 'write', '... operation');
is($h->{approvers}, '["Group:sre","User:carol"]', '... approvers recorded');
is($h->{grant_ms}, 3600000, '... grant_duration');
is($h->{expires_ms} - $h->{created_ms}, 1800000, '... expiry');
cmp_ok(abs($h->{created_ms} - $t0), '<', 5000, '... Redis time');
is($h->{request}, $summary, '... the request summary as sent');
is(redis('ZSCORE', "${P}approvals:pending", $ID), $h->{expires_ms},
   'P approvals:pending: the id by expiry');
my $ttl = redis('PTTL', "${P}approval:$ID");
cmp_ok($ttl, '>', 1800000 + 7 * 86400_000, 'the hash expires after '
       . 'expiry, grant and retention');

my $n = notice();
ok($n, 'a message on P approvals:notify');
is_deeply($n->[1], {
    v => 1, event => 'requested', id => $ID, state => 'pending',
    principal => 'ci-bot', groups => [], resource_type => 'topic',
    resource => 'prod.orders', operation => 'write', rule => 'prod-writes',
    approvers => [ 'Group:sre', 'User:carol' ],
    allow_self_approval => JSON::PP::false,
    created_ms => $h->{created_ms} + 0, expires_ms => $h->{expires_ms} + 0,
    grant_ms => 3600000, requests => 1,
    request => $json->decode($summary) }, '... the documented message');
like($n->[0], qr/^\{"v":1,"event":"requested","id":"$ID","state":"pending",/,
     '... its keys in the documented order');

my @ev = events();
is(scalar @ev, 1, 'one entry in P approvals:events');
is_deeply([ @{ $ev[0]{f} }[ grep { !($_ % 2) } 0 .. $#{ $ev[0]{f} } ] ],
          [ qw(v event id state principal groups resource_type resource
               operation rule approvers allow_self_approval created_ms
               expires_ms grant_ms requests request) ],
          '... its fields in the documented order');
is($ev[0]{h}{allow_self_approval}, 'false', '... booleans as false/true');
is($ev[0]{h}{approvers}, '["Group:sre","User:carol"]', '... arrays as JSON');

$r = hoopctl('approvals', 'list');
is($r->{rc}, 0, 'hoopctl approvals list') or diag($r->{stderr});
like($r->{stdout}, qr/^1 pending approval\n/, '... one pending');
like($r->{stdout}, qr/^ID\s+STATE\s+PRINCIPAL\s+OPERATION\s+RESOURCE\s+RULE\s+REQUESTED\s+LEFT\s+REQUESTS\s+BY$/m,
     '... the table head');
like($r->{stdout}, qr/^$ID  pending  ci-bot\s+write\s+topic:prod.orders  prod-writes  \d{4}-\d\d-\d\dT[\d:.]+Z  (29m5\ds|30m)\s+1\s+-$/m,
     '... the row');

$r = hoopctl('approvals', 'list', '--json');
my $list = $json->decode($r->{stdout});
is(scalar @$list, 1, 'list --json: one');
is_deeply([ map { $_->{id} } @$list ], [ $ID ], '... the id');
is($list->[0]{state}, 'pending', '... state');
is_deeply($list->[0]{approvers}, [ 'Group:sre', 'User:carol' ],
          '... approvers as an array');
is($list->[0]{request}{client}, '10.0.0.2:4000', '... request as an object');
is($list->[0]{requests}, 1, '... requests as a number');
ok(!$list->[0]{allow_self_approval}, '... allow_self_approval false');

# --- join; racing requests ---------------------------------------------------

my ($rep2, $d2) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.orders',
                      'write');
isnt($d2->{id}, $ID, 'a retry draws a new id ...');
is($rep2->[0], 'pending', '... and joins: pending');
is($rep2->[1], $ID, '... the same approval');
is($rep2->[2], 0, '... not created');
cmp_ok($rep2->[3], '<=', 1800000, '... the time left');
is(hash_of($ID)->{requests}, 2, 'requests counted: 2');
ok(!redis('EXISTS', "${P}approval:$d2->{id}"), 'no hash for the unused id');
is(scalar(events()), 1, 'a join notifies nobody');

my @conns = map { rconnect() } 1 .. 20;
my @race = map { decide_for($policy, "ann", 'deployers', 'topic',
                            'prod.payments', 'write') } 1 .. 20;
rsend($conns[$_], @{ $race[$_]{argv} }) for 0 .. 19;
my @rr = map { rread($conns[$_]) } 0 .. 19;
my %ids = map { $_->[1] => 1 } @rr;
is(scalar(keys %ids), 1, '20 connections racing: one approval');
is(scalar(grep { $_->[2] == 1 } @rr), 1, '... created once');
is(scalar(grep { $_->[0] eq 'pending' } @rr), 20, '... all pending');
my ($RACE) = keys %ids;
is(hash_of($RACE)->{requests}, 20, '... 20 requests counted');
is(scalar(grep { $_->{h}{id} eq $RACE } events()), 1, '... notified once');
my $rn = notice();
is($rn->[1]{id}, $RACE, '... one message');
is($rn->[1]{groups}[0], 'deployers', '... with the caller\'s groups');
close $_ for @conns;

# --- approve: refusals first -----------------------------------------------

$r = hoopctl('approvals', 'approve', $ID, '--as', 'bob');
is($r->{rc}, 1, 'approve by bob (no group): refused, exit 1');
like($r->{stderr}, qr/bob is not an approver of rule "prod-writes"/,
     '... by the current policy');
is(hash_of($ID)->{state}, 'pending', '... still pending');

my @dec = args_of('decide', $P, $ID, 'approve', 'bob', 'dev', '');
rsend($R, @dec);
my $e = rread($R);
like($e->{err} // '', qr/^NOTAPPROVER bob may not decide approval $ID \(approvers: Group:sre, User:carol\)$/,
     'the script refuses bob on its own (approvers recorded)');

$r = hoopctl('approvals', 'approve', $ID);
is($r->{rc}, 2, 'approve without --as: exit 2');
like($r->{stderr}, qr/--as PRINCIPAL is required/, '... says why');

# self-approval: an SRE asks to delete, the same SRE approves
my ($srep, $sd) = ask($R, $policy, 'sam', 'sre', 'topic', 'prod.orders',
                      'delete');
my $SELF = $srep->[1];
is($sd->{rule}, 'prod-topic-admin', 'sam (sre) asks to delete a topic');
notice();
$r = hoopctl('approvals', 'approve', $SELF, '--as', 'sam', '--groups', 'sre');
is($r->{rc}, 1, 'sam approves his own request: refused, exit 1');
like($r->{stderr}, qr/does not allow self-approval/, '... self-approval');
@dec = args_of('decide', $P, $SELF, 'approve', 'sam', 'sre', '');
rsend($R, @dec);
like(rread($R)->{err} // '', qr/^SELFAPPROVAL sam asked for approval $SELF: rule prod-topic-admin does not allow self-approval$/,
     'the script refuses it on its own');
is(hash_of($SELF)->{state}, 'pending', '... still pending');

# --- approve by an approver ---------------------------------------------------

$r = hoopctl('approvals', 'approve', $ID, '--as', 'User:carol', '--reason',
             'CHG-1001 window');
is($r->{rc}, 0, 'carol approves') or diag($r->{stderr});
like($r->{stdout}, qr/^approved $ID: ci-bot write topic:prod.orders, granted until \d{4}-\d\d-\d\dT[\d:.]+Z$/,
     '... what and until when');

$h = hash_of($ID);
is($h->{state}, 'approved', 'state approved');
is($h->{decided_by}, 'carol', '... decided_by: the approver (User: dropped)');
is($h->{decided_groups}, '[]', '... her groups');
is($h->{reason}, 'CHG-1001 window', '... the reason');
is($h->{grant_until_ms} - $h->{decided_ms}, 3600000,
   '... grant_until = decision + grant_duration');
ok(!defined redis('ZSCORE', "${P}approvals:pending", $ID),
   '... out of P approvals:pending');

my $JIT = "${P}jit:ci-bot:topic:prod.orders:write";
is(redis('GET', $JIT), $ID, "the just-in-time grant P jit:<subject> names "
                            . "the approval");
my $jttl = redis('PTTL', $JIT);
cmp_ok($jttl, '>', 3590000, '... TTL: the rule\'s grant_duration (1h)');
cmp_ok($jttl, '<=', 3600000, '... not more');

$n = notice();
is($n->[1]{event}, 'approved', 'notified: approved');
is($n->[1]{id}, $ID, '... the id');
is($n->[1]{decided_by}, 'carol', '... by whom');
is($n->[1]{reason}, 'CHG-1001 window', '... why');
is($n->[1]{grant_until_ms}, $h->{grant_until_ms}, '... until when');
is((events())[-1]{h}{event}, 'approved', '... and in the stream');

my ($g) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.orders', 'write');
is($g->[0], 'granted', 'the next request: granted');
is($g->[1], $ID, '... by that approval');
cmp_ok($g->[3], '>', 3580000, '... with the time left on the grant');
is(hash_of($ID)->{requests}, 2, '... not counted as a join');
my ($other) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.payments',
                  'write');
is($other->[0], 'pending', 'another topic: its own approval');
is($other->[2], 1, '... created');
notice();

$r = hoopctl('approvals', 'approve', $ID, '--as', 'carol');
is($r->{rc}, 0, 'carol approves again: no error');
like($r->{stdout}, qr/^approved $ID \(already, by you\)/, '... says so');
$r = hoopctl('approvals', 'approve', $ID, '--as', 'tom', '--groups', 'sre');
is($r->{rc}, 1, 'tom (sre) approves a decided approval: refused');
like($r->{stderr}, qr/DECIDED approval $ID is approved already \(by carol\)/,
     '... decided already');
$r = hoopctl('approvals', 'deny', $ID, '--as', 'tom', '--groups', 'sre',
             '--reason', 'too late');
is($r->{rc}, 1, '... nor deny it');

$r = hoopctl('approvals', 'show', $ID);
is($r->{rc}, 0, 'hoopctl approvals show');
like($r->{stdout}, qr/^state\s+approved$/m, '... state');
like($r->{stdout}, qr/^decided_by\s+carol$/m, '... decided_by');
like($r->{stdout}, qr/^grant\s+active, (59m\d+s|1h) left$/m, '... the grant');
$r = hoopctl('approvals', 'show', $ID, '--json');
my $shown = $json->decode($r->{stdout});
is($shown->{state}, 'approved', 'show --json: state');
cmp_ok($shown->{grant_left_ms}, '>', 3500000, '... grant_left_ms');
is($shown->{grant_ms}, 3600000, '... grant_ms as a number');

# --- deny with a reason --------------------------------------------------------

$r = hoopctl('approvals', 'deny', $SELF, '--as', 'tom', '--groups', 'sre');
is($r->{rc}, 2, 'deny without --reason: exit 2');
$r = hoopctl('approvals', 'deny', $SELF, '--as', 'tom', '--groups', 'sre',
             '--reason', 'not during the freeze');
is($r->{rc}, 0, 'tom (sre) denies sam\'s request') or diag($r->{stderr});
like($r->{stdout}, qr/^denied $SELF: sam delete topic:prod.orders$/,
     '... says what');
$h = hash_of($SELF);
is($h->{state}, 'denied', 'state denied');
is($h->{decided_by}, 'tom', '... by tom');
is($h->{decided_groups}, '["sre"]', '... as sre');
is($h->{reason}, 'not during the freeze', '... the reason');
ok(!redis('EXISTS', "${P}jit:sam:topic:prod.orders:delete"), '... no grant');
$n = notice();
is($n->[1]{event}, 'denied', 'notified: denied');
is($n->[1]{reason}, 'not during the freeze', '... with the reason');

my ($dr) = ask($R, $policy, 'sam', 'sre', 'topic', 'prod.orders', 'delete');
is($dr->[0], 'denied', 'sam asks again at once: denied');
is($dr->[1], $SELF, '... the same approval');
is($dr->[4], 'not during the freeze', '... with the reason');
cmp_ok($dr->[3], '<=', 60000, '... for at most a minute');
cmp_ok($dr->[3], '>', 50000, '... about a minute');

# --- status, as the data path polls ---------------------------------------------

rsend($R, args_of('status', $P, $ID));
$e = rread($R);
is($e->[0], 'approved', 'status of an approved one: approved');
cmp_ok($e->[3], '>', 3500000, '... the grant left');
is($e->[4], 'carol', '... and who');
rsend($R, args_of('status', $P, $SELF));
is_deeply(rread($R), [ 'denied', $SELF, 0, 0, 'not during the freeze' ],
          'status of a denied one: the reason');
rsend($R, args_of('status', $P, $RACE));
$e = rread($R);
is($e->[0], 'pending', 'status of a pending one');

# --- expiry ----------------------------------------------------------------------

my ($q1) = ask($R, $fast, 'quick', '', 'topic', 'prod.fast', 'write');
my $FAST = $q1->[1];
is_deeply($q1, [ 'pending', $FAST, 1, 2000, '' ],
          'a request under a 2s expire_after');
notice();
sleep 2.3;
rsend($R, args_of('status', $P, $FAST));
is(rread($R)->[0], 'expired', 'status after 2s: expired (not written yet)');
is(hash_of($FAST)->{state}, 'pending', '... the hash is swept later');
$r = hoopctl('approvals', 'list');
unlike($r->{stdout}, qr/$FAST/, 'hoopctl approvals list sweeps: gone');
is(hash_of($FAST)->{state}, 'expired', 'state expired');
$n = notice();
is($n->[1]{event}, 'expired', 'notified: expired');
is($n->[1]{id}, $FAST, '... the id');
$r = hoopctl('approvals', 'approve', $FAST, '--as', 'carol');
is($r->{rc}, 1, 'approving an expired one: refused');
like($r->{stderr}, qr/DECIDED approval $FAST expired undecided/,
     '... expired');
my ($q2) = ask($R, $fast, 'quick', '', 'topic', 'prod.fast', 'write');
is($q2->[0], 'pending', 'the next request asks again');
isnt($q2->[1], $FAST, '... a new approval');
is($q2->[2], 1, '... created');
notice();

$r = hoopctl('approvals', 'approve', $q2->[1], '--as', 'carol');
is($r->{rc}, 0, 'approved (a 2s grant)') or diag($r->{stderr});
notice();
my ($q3) = ask($R, $fast, 'quick', '', 'topic', 'prod.fast', 'write');
is($q3->[0], 'granted', 'granted while the grant lasts');
sleep 2.3;
ok(!redis('EXISTS', "${P}jit:quick:topic:prod.fast:write"),
   'the grant expired with its TTL');
my ($q4) = ask($R, $fast, 'quick', '', 'topic', 'prod.fast', 'write');
is($q4->[0], 'pending', 'an expired grant asks again');
is($q4->[2], 1, '... a new approval');
notice();
rsend($R, args_of('status', $P, $q2->[1]));
is_deeply(rread($R), [ 'approved', $q2->[1], 0, 0, 'carol' ],
          'status of an approval whose grant is over: 0 left');

sleep 2.3;
rsend($R, args_of('expire', $P, 100, 604800));
is_deeply(rread($R), [ $q4->[1] ], 'expire: the overdue ids');
is(notice()->[1]{event}, 'expired', '... notified');
rsend($R, args_of('expire', $P, 100, 604800));
is_deeply(rread($R), [], 'expire again: none');
$r = hoopctl('approvals', 'expire');
is($r->{rc}, 0, 'hoopctl approvals expire');
is($r->{stdout}, "no overdue approvals\n", '... none');

# --- revoke: a just-in-time grant ended early ----------------------------------------

my ($v1) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.refunds', 'write');
my $REV = $v1->[1];
is($v1->[0], 'pending', 'revoke: a new approval for prod.refunds');
notice();
$r = hoopctl('approvals', 'revoke', $REV, '--as', 'carol');
is($r->{rc}, 1, 'revoking a pending approval: refused, exit 1');
like($r->{stderr}, qr/NOTACTIVE approval $REV is pending: it has no grant/,
     '... it has no grant');
$r = hoopctl('approvals', 'approve', $REV, '--as', 'carol');
is($r->{rc}, 0, 'carol approves it') or diag($r->{stderr});
notice();
my $RJIT = "${P}jit:ci-bot:topic:prod.refunds:write";
is(redis('GET', $RJIT), $REV, '... the grant is active');

$r = hoopctl('approvals', 'revoke', $REV);
is($r->{rc}, 2, 'revoke without --as: exit 2');
$r = hoopctl('approvals', 'revoke', $REV, '--as', 'bob', '--groups', 'dev');
is($r->{rc}, 1, 'revoke by bob (not an approver): refused, exit 1');
like($r->{stderr}, qr/NOTAPPROVER bob may not revoke the grant of approval $REV/,
     '... says why');
is(redis('GET', $RJIT), $REV, '... the grant stays');

$r = hoopctl('approvals', 'revoke', $REV, '--as', 'tom', '--groups', 'sre',
             '--reason', 'incident 77');
is($r->{rc}, 0, 'tom (sre) revokes the grant') or diag($r->{stderr});
like($r->{stdout}, qr/^revoked $REV: ci-bot write topic:prod.refunds, grant ended at \d{4}-\d\d-\d\dT[\d:.]+Z$/,
     '... says what and when');
ok(!redis('EXISTS', $RJIT), '... P jit:<subject> is gone');
$h = hash_of($REV);
is($h->{state}, 'revoked', 'state revoked');
is($h->{decided_by}, 'carol', '... the approver stays recorded');
is($h->{revoked_by}, 'tom', '... revoked_by: the revoker');
is($h->{revoked_groups}, '["sre"]', '... his groups');
is($h->{revoke_reason}, 'incident 77', '... why');
is($h->{grant_until_ms}, $h->{revoked_ms}, '... the grant ended then');
$n = notice();
is($n->[1]{event}, 'revoked', 'notified: revoked');
is($n->[1]{id}, $REV, '... the id');
is($n->[1]{revoked_by}, 'tom', '... by whom');
is($n->[1]{revoke_reason}, 'incident 77', '... why');
is($n->[1]{state}, 'revoked', '... the state');
my $last = (events())[-1]{h};
is("$last->{event} $last->{id} $last->{revoked_by}", "revoked $REV tom",
   '... and in the stream');

rsend($R, args_of('status', $P, $REV));
is_deeply(rread($R), [ 'revoked', $REV, 0, 0, 'tom' ],
          'status of a revoked one: revoked, by whom');

$r = hoopctl('approvals', 'revoke', $REV, '--as', 'tom', '--groups', 'sre');
is($r->{rc}, 0, 'tom revokes again: no error');
like($r->{stdout}, qr/^revoked $REV \(already, by you\)/, '... says so');
$r = hoopctl('approvals', 'revoke', $REV, '--as', 'carol');
is($r->{rc}, 1, 'carol revokes it too: refused');
like($r->{stderr}, qr/NOTACTIVE the grant of approval $REV was revoked already \(by tom\)/,
     '... revoked already');
$r = hoopctl('approvals', 'approve', $REV, '--as', 'carol');
is($r->{rc}, 1, 'a revoked approval cannot be approved again');

my ($v2) = ask($R, $policy, 'ci-bot', '', 'topic', 'prod.refunds', 'write');
is($v2->[0], 'pending', 'the next request asks again');
isnt($v2->[1], $REV, '... a new approval');
is($v2->[2], 1, '... created');
notice();
$r = hoopctl('approvals', 'approve', $v2->[1], '--as', 'carol');
is($r->{rc}, 0, 'approved again') or diag($r->{stderr});
notice();
$r = hoopctl('approvals', 'revoke', $v2->[1], '--as', 'ci-bot', '--json');
is($r->{rc}, 0, 'its principal gives the grant up') or diag($r->{stderr});
my $rj = eval { $json->decode($r->{stdout}) } // {};
is("$rj->{state} $rj->{revoked_by}", 'revoked ci-bot', '... --json: the approval');
is(notice()->[1]{event}, 'revoked', '... notified');

$r = hoopctl('approvals', 'revoke', $q2->[1], '--as', 'carol');
is($r->{rc}, 1, 'revoking a grant that ran out: refused');
like($r->{stderr}, qr/NOTACTIVE the grant of approval $q2->[1] ended already/,
     '... ended already');

rsend($R, args_of('revoke', $P, $REV, 'tom', 'sre', ''));
is(rread($R)->[0], 'revoked', 'the script on its own: the same answer');
rsend($R, 'EVALSHA', $header_sha, 0, 'revoke', $P, $REV, 'tom', '[]', '');
like(rread($R)->{err} // '', qr/^BADARG revoke: 5 arguments after the prefix/,
     'script: revoke with an argument missing');

$r = hoopctl('approvals', 'watch', '--all', '--count', scalar(my @all_ev = events()));
like($r->{stdout}, qr/^\S+Z  revoked  $REV  ci-bot write topic:prod.refunds  rule=prod-writes by=carol revoked_by=tom revoke_reason="incident 77"$/m,
     'watch: the revocation, one line');

# --- bad ids, bad arguments -------------------------------------------------------

$r = hoopctl('approvals', 'show', 'not-an-id');
is($r->{rc}, 2, 'show with a bad id: exit 2');
like($r->{stderr}, qr/bad approval id "not-an-id": 10 characters a-z, 2-7/,
     '... says why');
$r = hoopctl('approvals', 'approve', 'abcdefgh18', '--as', 'carol');
is($r->{rc}, 2, 'approve with a bad id (8, 1 are not base32): exit 2');
$r = hoopctl('approvals', 'show', 'abcdefgh27');
is($r->{rc}, 1, 'show an unknown id: exit 1');
like($r->{stderr}, qr/no approval abcdefgh27/, '... says so');
$r = hoopctl('approvals', 'approve', 'abcdefgh27', '--as', 'carol');
is($r->{rc}, 1, 'approve an unknown id: exit 1');
$r = hoopctl('approvals', 'approve', $ID, '--as', 'carol', '--all');
is($r->{rc}, 2, 'an option that does not apply: exit 2');
$r = hoopctl('approvals', 'frobnicate');
is($r->{rc}, 2, 'an unknown subcommand: exit 2');
like($r->{stderr}, qr/\(list, show, approve, deny, revoke, watch, expire\)/,
     'the refusal lists every approvals command, revoke included');

rsend($R, args_of('status', $P, 'abcdefgh27'));
like(rread($R)->{err}, qr/^NOAPPROVAL approval abcdefgh27 does not exist/,
     'script: status of an unknown id');
rsend($R, args_of('decide', $P, 'abcdefgh27', 'approve', 'carol', '', ''));
like(rread($R)->{err}, qr/^NOAPPROVAL /, 'script: deciding an unknown id');

my @req = @{ decide_for($policy, 'ci-bot', '', 'topic', 'prod.new',
                        'write')->{argv} };
my @bad = @req;
$bad[5] = 'ABCDEFGH27';
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: id is 10 characters/,
     'script: a bad id');
@bad = @req;
$bad[6] = "m\xffria";
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: principal/,
     'script: a principal that is not UTF-8');
@bad = @req;
$bad[17] = '[1,2]';
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: summary is a JSON object/,
     'script: a summary that is not an object');
$bad[17] = '{"records":NaN,"bytes":0x10}';
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: summary is a JSON object/,
     'script: a summary only Lua reads (NaN, hex) is refused too');
@bad = @req;
$bad[12] = '[]';
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: groups is a JSON array/,
     'script: no approvers');
@bad = @req;
pop @bad;
rsend($R, @bad);
like(rread($R)->{err}, qr/^BADARG request: 13 arguments/,
     'script: an argument missing');
rsend($R, 'EVALSHA', $header_sha, 0, 'decide', $P, $ID, 'maybe', 'carol',
      '[]', '', 0);
like(rread($R)->{err}, qr/^BADARG decide: approve or deny/,
     'script: neither approve nor deny');
rsend($R, 'EVALSHA', $header_sha, 0, 'frob', $P);
like(rread($R)->{err}, qr/^BADARG unknown operation "frob"/,
     'script: an unknown operation');
ok(!redis('EXISTS', "${P}jit:ci-bot:topic:prod.new:write")
   && !redis('EXISTS', "${P}approvals:subject:ci-bot:topic:prod.new:write"),
   'nothing written by refused calls');

# an id that exists already, for another subject: refused, ask again
@bad = @req;
$bad[5] = $ID;
rsend($R, @bad);
like(rread($R)->{err}, qr/^IDCOLLISION approval $ID exists/,
     'script: a new approval with an id in use');
ok(!redis('EXISTS', "${P}approvals:subject:ci-bot:topic:prod.new:write"),
   '... nothing written');

# keys with ':' and blanks in names stay unambiguous
my ($k) = ask($R, $policy, 'we:ird user', '', 'topic', 'pii.customers',
              'read');
is($k->[0], 'pending', 'a principal with ":" and a blank');
ok(redis('EXISTS', "${P}approvals:subject:we%3Aird%20user:topic:"
                   . "pii.customers:read"),
   '... its subject key is escaped (%3A, %20)');
notice();

# --- watch ---------------------------------------------------------------------------

$r = hoopctl('approvals', 'watch', '--all', '--count', '3', '--json');
is($r->{rc}, 0, 'hoopctl approvals watch --all --count 3 --json');
my @w = map { $json->decode($_) } split /\n/, $r->{stdout};
is_deeply([ map { "$_->{event} $_->{id}" } @w ],
          [ "requested $ID", "requested $RACE", "requested $SELF" ],
          '... the first three events, in order');
is($w[0]{request}{client_id}, 'orders-svc', '... with the request');
is_deeply($w[0]{approvers}, [ 'Group:sre', 'User:carol' ],
          '... arrays as arrays');

$r = hoopctl('approvals', 'watch', '--all', '--count', '4');
my @lines = split /\n/, $r->{stdout};
like($lines[3], qr/^\S+Z  approved  $ID  ci-bot write topic:prod.orders  rule=prod-writes by=carol reason="CHG-1001 window"$/,
     'watch: one line per event');

# a live watch sees what happens after it starts
my ($win, $wout, $werr) = ('', '', '');
my $watch = IPC::Run::start([ @H, 'approvals', 'watch', '--count', '1',
                              '--json', @STORE ], \$win, \$wout, \$werr,
                            IPC::Run::timeout(30));
sleep 1.5;
$r = hoopctl('approvals', 'deny', $RACE, '--as', 'carol', '--reason', 'no');
is($r->{rc}, 0, 'carol denies the raced approval');
$watch->finish;
my $live = $json->decode((split /\n/, $wout)[0] // '{}');
is("$live->{event} $live->{id}", "denied $RACE", 'watch follows: the denial');

$r = hoopctl('approvals', 'list', '--all', '--json');
my %all = map { $_->{id} => $_->{state} } @{ $json->decode($r->{stdout}) };
is($all{$ID}, 'approved', 'list --all: decided ones too');
is($all{$RACE}, 'denied', '... denied');
is($all{$FAST}, 'expired', '... expired');

# --- the audit trail: every step an "approval" event in P audit ---------------------

my $AUD = "${P}audit";

# the approval events of one approval id in a stream, oldest first
sub audit_of {
    my ($id, $key) = @_;
    my $e = redis('XRANGE', $key // $AUD, '-', '+');
    return grep { ($_->{h}{event} // '') eq 'approval'
                  && ($_->{h}{approval} // '') eq $id }
           map { { id => $_->[0], f => $_->[1], h => { @{ $_->[1] } } } }
           @$e;
}

sub keys_of { my ($e) = @_; [ @{ $e->{f} }[ grep { !($_ % 2) } 0 .. $#{ $e->{f} } ] ] }

# a request as the gateway with hoop_audit on sends it
sub ask_audit {
    my ($pol, $principal, $groups, $type, $name, $op) = @_;
    my $r = run_cmd(cmd => [ $ARGS, '--audit', $AUD, 'request', $pol, $P,
                             $principal, $groups, $type, $name, $op ],
                    timeout => 20);
    die "approval_args: $r->{stderr}" if $r->{rc} != 0;
    my $d = $json->decode($r->{stdout});
    die "no approval needed: $d->{decision}" unless $d->{argv};
    rsend($R, @{ $d->{argv} });
    return (rread($R), $d);
}

# steps taken by hoopctl earlier (its default --stream audit): the expiry
# of $FAST swept by "approvals list", the approval and revoke of $REV
my @fa = audit_of($FAST);
is(scalar @fa, 1, 'hoopctl list swept $FAST: one approval event in P audit');
is($fa[0]{h}{step}, 'expired', '... step expired');
is($fa[0]{h}{principal}, 'quick', '... principal');
ok(!exists $fa[0]{h}{by}, '... nobody decided: no by');
my @ra = audit_of($REV);
is_deeply([ map { $_->{h}{step} } @ra ], [ 'approved', 'revoked' ],
          '$REV: approved then revoked, once each (a repeated revoke adds '
          . 'nothing)');
is("$ra[1]{h}{by}|$ra[1]{h}{reason}", 'tom|incident 77',
   '... revoked by tom, his reason');

# a full cycle with the audit argument (first the notices not read yet)
while (ref(eval { rread($SUB, 0.5) }) eq 'ARRAY') { }
my $ta = int(time * 1000);
my ($a1, $ad) = ask_audit($policy, 'ci-bot', '', 'topic', 'prod.audit',
                          'write');
my $AID = $a1->[1];
is_deeply([ @$a1[0, 2] ], [ 'pending', 1 ], 'audited request: pending, created');
is($ad->{argv}[-1], $AUD, '... the audit stream is the last argument');
my @aa = audit_of($AID);
is(scalar @aa, 1, '... one approval event in P audit');
is_deeply(keys_of($aa[0]),
          [ qw(v ts event principal groups resource_type resource operation
               rule approval step) ],
          '... its fields in the documented order');
is_deeply({ %{ $aa[0]{h} }, ts => 0 },
          { v => 1, ts => 0, event => 'approval', principal => 'ci-bot',
            groups => '[]', resource_type => 'topic', resource => 'prod.audit',
            operation => 'write', rule => 'prod-writes', approval => $AID,
            step => 'requested' }, '... the documented values');
cmp_ok(abs($aa[0]{h}{ts} - $ta), '<', 5000, '... ts: Redis time in ms');
my ($ams) = $aa[0]{id} =~ /^(\d+)-\d+$/;
cmp_ok($ams, '>=', $aa[0]{h}{ts}, '... the entry id: that time (or later)');
ok(!redis('EXISTS', "${P}audit:denied"), '... not in P audit:denied');
is(notice()->[1]{event}, 'requested', '... notified as before');
is(scalar(grep { $_->{h}{id} eq $AID } events()), 1,
   '... and in P approvals:events as before');

my ($a2) = ask_audit($policy, 'ci-bot', '', 'topic', 'prod.audit', 'write');
is_deeply([ @$a2[0, 1, 2] ], [ 'pending', $AID, 0 ], 'a second request joins');
is(scalar(audit_of($AID)), 1, '... no new step, no new event');

$r = hoopctl('approvals', 'approve', $AID, '--as', 'carol', '--reason',
             'CHG-7 "x"');
is($r->{rc}, 0, 'hoopctl approves it') or diag($r->{stderr});
notice();
@aa = audit_of($AID);
is(scalar @aa, 2, '... one more event');
is_deeply(keys_of($aa[1]),
          [ qw(v ts event principal groups resource_type resource operation
               reason rule approval by step) ],
          '... fields in order: by and step after the known ones');
is("$aa[1]{h}{step}|$aa[1]{h}{by}|$aa[1]{h}{reason}",
   'approved|carol|CHG-7 "x"', '... step approved, by carol, her reason');
$r = hoopctl('approvals', 'approve', $AID, '--as', 'carol');
is($r->{rc}, 0, 'approved again by carol: no error');
is(scalar(audit_of($AID)), 2, '... no second approved event');

$r = hoopctl('approvals', 'revoke', $AID, '--as', 'ci-bot');
is($r->{rc}, 0, 'its principal gives the grant up') or diag($r->{stderr});
notice();
@aa = audit_of($AID);
is(scalar @aa, 3, '... one more event');
is("$aa[2]{h}{step}|$aa[2]{h}{by}", 'revoked|ci-bot', '... revoked by ci-bot');
ok(!exists $aa[2]{h}{reason}, '... no reason given: none stored');

# deny, with the requester's groups
my ($d1) = ask_audit($policy, 'ci-bot', 'dev,ops', 'topic', 'prod.audit2',
                     'write');
my $DID = $d1->[1];
notice();
$r = hoopctl('approvals', 'deny', $DID, '--as', 'tom', '--groups', 'sre',
             '--reason', 'not now');
is($r->{rc}, 0, 'tom (sre) denies another') or diag($r->{stderr});
notice();
my @da = audit_of($DID);
is_deeply([ map { $_->{h}{step} } @da ], [ 'requested', 'denied' ],
          '... requested, denied');
is($da[0]{h}{groups}, '["dev","ops"]', '... the groups as JSON text');
is("$da[1]{h}{by}|$da[1]{h}{reason}|$da[1]{h}{groups}",
   'tom|not now|["dev","ops"]', '... by tom, why; groups: the requester\'s');
my ($dd2) = ask_audit($policy, 'ci-bot', 'dev,ops', 'topic', 'prod.audit2',
                     'write');
is($dd2->[0], 'denied', 'the next request is answered from the denial');
is(scalar(audit_of($DID)), 2, '... no new event');

# expiry: swept by another call that has the audit argument
my ($e1) = ask_audit($fast, 'quick', '', 'topic', 'prod.fastaudit', 'write');
my $EID = $e1->[1];
notice();
sleep 2.3;
my ($e2) = ask_audit($policy, 'ci-bot', '', 'topic', 'prod.audit3', 'write');
my $SID = $e2->[1];
notice();
notice();
my @ea = audit_of($EID);
is_deeply([ map { $_->{h}{step} } @ea ], [ 'requested', 'expired' ],
          'expired by the sweep of another request: one expired event');
ok(!exists $ea[1]{h}{by} && !exists $ea[1]{h}{reason},
   '... no by, no reason');
is("$ea[1]{h}{principal} $ea[1]{h}{resource_type}:$ea[1]{h}{resource} "
   . "$ea[1]{h}{operation} $ea[1]{h}{rule}",
   'quick topic:prod.fastaudit write fast', '... what it was for');

# expiry: by the expire call
my ($e3) = ask_audit($fast, 'quick', '', 'topic', 'prod.fastaudit', 'write');
my $XID = $e3->[1];
isnt($XID, $EID, 'a new approval after the expiry');
notice();
sleep 2.3;
rsend($R, args_of('--audit', $AUD, 'expire', $P, 100, 604800));
is_deeply(rread($R), [ $XID ], 'expire with the audit argument');
notice();
is_deeply([ map { $_->{h}{step} } audit_of($XID) ], [ 'requested', 'expired' ],
          '... one expired event');
rsend($R, args_of('--audit', $AUD, 'expire', $P, 100, 604800));
is_deeply(rread($R), [], 'expire again: none');
is(scalar(audit_of($XID)), 2, '... no event');
is(scalar(audit_of($EID)), 2, '... none for the first either');

# hoopctl --stream: another stream, or none
$r = hoopctl('approvals', 'approve', $SID, '--as', 'carol', '--stream',
             'audit2');
is($r->{rc}, 0, 'approve --stream audit2') or diag($r->{stderr});
notice();
is_deeply([ map { $_->{h}{step} } audit_of($SID, "${P}audit2") ],
          [ 'approved' ], '... the approved event in P audit2');
is_deeply([ map { $_->{h}{step} } audit_of($SID) ], [ 'requested' ],
          '... not in P audit');
my ($n1) = ask_audit($policy, 'ci-bot', '', 'topic', 'prod.audit4', 'write');
notice();
$r = hoopctl('approvals', 'deny', $n1->[1], '--as', 'carol', '--reason', 'x',
             '--stream', '');
is($r->{rc}, 0, 'deny --stream "": no audit') or diag($r->{stderr});
notice();
is_deeply([ map { $_->{h}{step} } audit_of($n1->[1]) ], [ 'requested' ],
          '... no denied event');
$r = hoopctl('approvals', 'deny', $n1->[1], '--as', 'carol', '--reason', 'x',
             '--stream', 'a b');
is($r->{rc}, 2, '--stream with a blank: usage error');
$r = hoopctl('approvals', 'watch', '--count', '1', '--stream', 'audit');
is($r->{rc}, 2, 'watch --stream: does not apply');

# the script's checks of the argument
rsend($R, @{ $ad->{argv} }, 'extra');
like(rread($R)->{err} // '', qr/^BADARG request: 13 arguments after the prefix \(14 with the audit stream\)/,
     'script: request with an argument too many');
rsend($R, args_of('expire', $P, 100, 604800), "bad \xff");
like(rread($R)->{err} // '', qr/^BADARG expire: the audit stream is a key of 1-1024 bytes/,
     'script: an audit stream that is not UTF-8');
rsend($R, args_of('expire', $P, 100, 604800), '');
is_deeply(rread($R), [], 'script: an empty audit stream is none');
redis('SET', "${P}notastream", 'x');
my $wt = run_cmd(cmd => [ $ARGS, '--audit', "${P}notastream", 'request',
                          $policy, $P, 'ci-bot', '', 'topic', 'prod.audit5',
                          'write' ], timeout => 20);
rsend($R, @{ $json->decode($wt->{stdout})->{argv} });
like(rread($R)->{err} // '', qr/^BADARG request: the audit stream is a key of 1-1024 bytes that is a stream or absent/,
     'script: an audit key of another type is refused');
ok(!redis('EXISTS', "${P}approvals:subject:ci-bot:topic:prod.audit5:write"),
   '... before anything is written');

# hoopctl audit tail shows them
$r = hoopctl('audit', 'tail', '--count', '1000');
is($r->{rc}, 0, 'hoopctl audit tail') or diag($r->{stderr});
like($r->{stdout}, qr/^\S+Z  approval  ci-bot  -  topic:prod\.audit  write requested  groups=\[\]  rule=prod-writes  approval=$AID$/m,
     '... requested: the step where a decision would be');
like($r->{stdout}, qr/^\S+Z  approval  ci-bot  -  topic:prod\.audit  write approved  groups=\[\]  reason="CHG-7 \\"x\\""  rule=prod-writes  approval=$AID  by=carol$/m,
     '... approved: by, reason');
like($r->{stdout}, qr/^\S+Z  approval  quick  -  topic:prod\.fastaudit  write expired  groups=\[\]  rule=fast  approval=$EID$/m,
     '... expired');
$r = hoopctl('audit', 'tail', '--count', '1000', '--json');
my ($tj) = grep { ($_->{approval} // '') eq $DID && $_->{step} eq 'denied' }
           map { $json->decode($_) } split /\n/, $r->{stdout};
ok($tj, 'audit tail --json: the denial');
is_deeply([ @{$tj}{qw(event principal by reason v)} ],
          [ 'approval', 'ci-bot', 'tom', 'not now', 1 ], '... its fields');
is_deeply($tj->{groups}, [ 'dev', 'ops' ], '... groups as an array');

# --- clean up this run's keys --------------------------------------------------------

my $cursor = 0;
do {
    my $sc = redis('SCAN', $cursor, 'MATCH', "${P}*", 'COUNT', 1000);
    $cursor = $sc->[0];
    redis('DEL', @{ $sc->[1] }) if @{ $sc->[1] };
} while ($cursor ne '0');

done_testing();
