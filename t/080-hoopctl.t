# hoopctl, the policy CLI (docs/hoopctl.md), against a real Redis
# (t/bin/redis-env; started here when it is not running): lint of every
# example and of broken policies (exact diagnostic lines), push of
# immutable versions (the Redis layout of docs/redis-layout.md), show,
# history, the semantic diff, rollback with its pub/sub notice, refusals
# (a policy that does not lint, an unknown version, a store that would be
# half written), the no-op push of an identical document, and the access
# review with dates relative to today.  Every run uses its own key prefix.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(read_env_file);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(strftime);
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time);

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
# HOOPCTL="build/tools/hoopctl-asan" or HOOPCTL="valgrind -q
# --error-exitcode=99 --leak-check=full build/tools/hoopctl": run the same
# tests under a checker
my @H = split ' ', ($ENV{HOOPCTL} // "$repo/build/tools/hoopctl");
my $dir = tempdir('hoopctl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->canonical;

# --- the binary and Redis --------------------------------------------------

my $b = $ENV{HOOPCTL} ? { rc => 0, stdout => '', stderr => '' }
    : run_cmd(cmd => [ 'make', '-s', '-C', "$repo/tools", 'hoopctl' ],
              timeout => 180);
unless ($b->{rc} == 0 && -x $H[-1]) {
    plan tests => 1;
    fail('make -C tools hoopctl');
    diag($b->{stdout} . $b->{stderr});
    exit;
}

my $port = $ENV{TEST_NGINX_REDIS_PORT};
unless ($port) {
    my $r = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start' ], timeout => 30);
    my ($envf) = $r->{stdout} =~ /^(\S+\.env)$/m;
    my $env = $envf ? read_env_file($envf) : undef;
    $port = $env->{REDIS_PORT} if $env;
    unless ($port) {
        plan skip_all => "no Redis (t/bin/redis-env start): $r->{stderr}";
    }
}

my $PREFIX = sprintf 't080-%d-%d:', $$, int(time * 1000) % 1000000000;
my @STORE = ('--redis', "127.0.0.1:$port", '--prefix', $PREFIX);

# --- a small RESP client ---------------------------------------------------

my %BUF;

sub redis_connect {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or die "redis: connect 127.0.0.1:$port: $!";
    $BUF{$s} = '';
    return $s;
}

sub redis_send {
    my ($s, @args) = @_;
    my $m = '*' . @args . "\r\n";
    $m .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print {$s} $m;
    $s->flush;
}

sub _fill {
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
        _fill($s, $deadline) or die "redis: no answer\n";
    }
    my $line = substr($BUF{$s}, 0, $i);
    substr($BUF{$s}, 0, $i + 2, '');
    return $line;
}

# one reply (undef for nil; array refs for arrays; errors die)
sub redis_read {
    my ($s, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    my $line = _line($s, $deadline);
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    die "redis: $v\n" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        _fill($s, $deadline) or die "redis: short bulk\n"
            while length($BUF{$s}) < $v + 2;
        my $data = substr($BUF{$s}, 0, $v);
        substr($BUF{$s}, 0, $v + 2, '');
        return $data;
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { redis_read($s, $timeout) } 1 .. $v ];
    }
    die "redis: bad reply '$line'\n";
}

my $R = redis_connect();
sub redis { redis_send($R, @_); return redis_read($R); }

# a subscriber to the notice channel, subscribed before any change
my $SUB = redis_connect();
redis_send($SUB, 'SUBSCRIBE', "${PREFIX}policy:notify");
my $ack = redis_read($SUB);
die "redis: SUBSCRIBE failed" unless ref $ack && $ack->[0] eq 'subscribe';

# the next notice as a hash, or undef after $timeout seconds
sub next_notice {
    my ($timeout) = @_;
    my $m = eval { redis_read($SUB, $timeout // 2) };
    return undef unless ref $m && $m->[0] eq 'message';
    return $json->decode($m->[2]);
}

# --- helpers ---------------------------------------------------------------

sub hoopctl {
    my (@args) = @_;
    return run_cmd(cmd => [ @H, @args ], timeout => 60);
}

sub store { return hoopctl(@_, @STORE); }

sub spew_file {
    my ($name, $text) = @_;
    my $path = "$dir/$name";
    open my $f, '>', $path or die "$path: $!";
    print $f $text;
    close $f;
    return $path;
}

sub day { return strftime('%Y-%m-%d', gmtime(time + $_[0] * 86400)); }

sub current { return redis('GET', "${PREFIX}policy:current"); }

sub history_lines {
    my $r = store('history');
    my @l = split /\n/, $r->{stdout};
    shift @l;                                   # the header
    return @l;
}

# --- lint ------------------------------------------------------------------

my @examples = sort glob("$repo/policy-examples/*.yaml"),
               glob("$repo/policy-examples/*.json");
ok(@examples >= 5, 'policy-examples/ has examples');

for my $f (@examples) {
    my $r = hoopctl('lint', $f);
    ok($r->{rc} == 0 && $r->{stdout} eq '' && $r->{stderr} eq '',
       "lint $f: clean") or diag("rc $r->{rc}\n$r->{stdout}$r->{stderr}");
}

my $r = hoopctl('lint', @examples);
is($r->{rc}, 0, 'lint of all examples at once: 0');

my $broken = spew_file('broken.yaml', <<'EOF');
policy_version: 1
grants:
  - id: g1
    principals: [ "User:alice" ]
    resources:
      - { type: group, name: "g", match: literal }
    operations: [ write ]
    reviewed_by: carol
    reviewed_at: 2026-11-02
    reason: "x"
EOF
$r = hoopctl('lint', $broken);
is($r->{rc}, 1, 'lint of a broken policy: exit 1');
is($r->{stdout}, "$broken:7:19: error: operation write does not apply to "
   . "group resources (Kafka never checks it there) "
   . "[operation-not-applicable]\n", 'lint: the exact diagnostic line');
like($r->{stderr}, qr/1 error, 0 warnings/, 'lint: a summary on stderr');

my $dup = spew_file('dup.json', <<'EOF');
{
  "policy_version": 1,
  "grants": [
    { "id": "a", "principals": ["User:x"], "resources": [{"type": "topic", "name": "t"}],
      "operations": ["read"], "reviewed_by": "r", "reviewed_at": "2026-01-01", "reason": "x" },
    { "id": "a", "principals": ["User:y"], "resources": [{"type": "topic", "name": "t"}],
      "operations": ["read"], "reviewed_by": "r", "reviewed_at": "2026-01-01", "reason": "x" }
  ]
}
EOF
$r = hoopctl('lint', $examples[0], $dup);
is($r->{rc}, 1, 'lint of a good and a broken file: exit 1');
is($r->{stdout}, "$dup:6:5: error: id \"a\" is already used by the grant at "
   . "line 4 [duplicate-id]\n", 'lint (JSON): the exact diagnostic line');

$r = hoopctl('lint', '--json', $broken);
my $lj = eval { $json->decode($r->{stdout}) };
ok($lj && !$lj->[0]{ok} && $lj->[0]{diagnostics}[0]{code} eq
   'operation-not-applicable' && $lj->[0]{diagnostics}[0]{path} eq
   '/grants/0/operations/0', 'lint --json: code and JSON Pointer')
    or diag($r->{stdout});

$r = hoopctl('lint', "$dir/missing.yaml");
is($r->{rc}, 2, 'lint of a missing file: exit 2');

# the masking section is checked with the rest (src/mask through the
# compiler's hook): clean, or errors with their lines; key files are not
# read (they are the gateways')
$r = hoopctl('lint', "$repo/policy-examples/proposed/masking.yaml");
ok($r->{rc} == 0 && $r->{stdout} eq '' && $r->{stderr} eq '',
   'lint of the masking example: clean, no reserved-section warning')
    or diag("rc $r->{rc}\n$r->{stdout}$r->{stderr}");
my $badmask = spew_file('badmask.yaml', <<'EOF');
policy_version: 1
grants: []
masking:
  - id: m1
    description: "x"
    topics: [ { name: "pii.", match: prefix } ]
    principals: [ "User:*" ]
    direction: fetch
    fields:
      - { path: "$.ssn", strategy: scramble }
      - { path: "$.a[", strategy: redact }
EOF
$r = hoopctl('lint', $badmask);
is($r->{rc}, 1, 'lint of a bad masking section: exit 1');
like($r->{stdout}, qr/^\Q$badmask\E:10:\d+: error: [^\n]*\[bad-strategy\]$/m,
     'the unknown strategy, at its line') or diag($r->{stdout});
like($r->{stdout}, qr/^\Q$badmask\E:11:\d+: error: [^\n]*\[bad-path\]$/m,
     'the broken path, at its line');

# --- push, show, history ---------------------------------------------------

my $yesterday = day(-1);
my $v1_text = <<"EOF";
# hoopctl test, version 1
policy_version: 1
default: deny
description: "hoopctl test"
grants:
  - id: orders-consumer
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "orders", match: literal }
      - { type: group, name: "orders-", match: prefix }
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "T-1: orders consumer"
EOF
my $v2_text = <<"EOF";
# hoopctl test, version 2: a producer grant, describe dropped
policy_version: 1
default: deny
description: "hoopctl test"
grants:
  - id: orders-consumer
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "orders", match: literal }
      - { type: group, name: "orders-", match: prefix }
    operations: [ read ]
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "T-1: orders consumer"
  - id: orders-producer
    principals: [ "User:bob" ]
    resources:
      - { type: topic, name: "orders", match: literal }
    operations: [ write ]
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "T-2: orders producer"
EOF
my $v1 = spew_file('v1.yaml', $v1_text);
my $v2 = spew_file('v2.yaml', $v2_text);

$r = store('show');
is($r->{rc}, 2, 'show with nothing pushed: exit 2');

$r = store('push', $v1, '--author', 'alice', '--comment', 'first version',
           '--json');
is($r->{rc}, 0, 'push v1: exit 0') or diag($r->{stderr});
my $p1 = eval { $json->decode($r->{stdout}) } // {};
is($p1->{version}, 1, 'push v1: version 1');
ok($p1->{created}, 'push v1: created');
is(current(), '1', 'push v1: policy:current is 1');
is_deeply(next_notice(), { version => 1, sha256 => $p1->{sha256} },
          'push v1: notice published on policy:notify');

my %h = @{ redis('HGETALL', "${PREFIX}policy:v:1") };
is($h{text}, $v1_text, 'policy:v:1 text: the original');
is($h{format}, 'yaml', 'policy:v:1 format');
is($h{author}, 'alice', 'policy:v:1 author');
is($h{comment}, 'first version', 'policy:v:1 comment');
is($h{version}, '1', 'policy:v:1 version');
is($h{sha256}, sha256_hex($h{canonical}), 'policy:v:1 sha256 of canonical');
ok($h{canonical} =~ /^\{\n  "policy_version": 1,/, 'policy:v:1 canonical');
ok(abs($h{time_ms} / 1000 - time) < 60, 'policy:v:1 time_ms');

# the same document twice, and the same policy in JSON: no-ops
$r = store('push', $v1, '--author', 'alice');
is($r->{rc}, 0, 'push of the same document: exit 0');
like($r->{stdout}, qr/identical to the current version 1 .*nothing pushed/,
     'push of the same document: says so');
my $canon = spew_file('v1.json', $h{canonical});
$r = store('push', $canon, '--author', 'alice', '--json');
my $pj = eval { $json->decode($r->{stdout}) } // {};
ok($r->{rc} == 0 && !$pj->{created} && $pj->{version} == 1,
   'push of its canonical JSON: a no-op too');
is(redis('GET', "${PREFIX}policy:seq"), '1', 'no-op pushes: no new version');
is(redis('LLEN', "${PREFIX}policy:history"), 1, 'no-op pushes: no event');

$r = store('push', $v2, '--author', 'bob', '--comment', 'add producer');
is($r->{rc}, 0, 'push v2: exit 0') or diag($r->{stderr});
like($r->{stdout}, qr/^pushed version 2 \(sha256:[0-9a-f]{12}\), previously 1$/m,
     'push v2: version 2');
is(current(), '2', 'push v2: current is 2');
my $n2 = next_notice();
is($n2->{version}, 2, 'push v2: notice (none for the no-op pushes)');

$r = store('show');
is($r->{stdout}, $v2_text, 'show: the current text, byte for byte');
$r = store('show', '1');
is($r->{stdout}, $v1_text, 'show 1: the first text');
$r = store('show', '1', '--canonical');
is($r->{stdout}, $h{canonical}, 'show 1 --canonical');
$r = store('show', '--json');
my $sj = eval { $json->decode($r->{stdout}) } // {};
ok($sj->{version} == 2 && $sj->{current} && $sj->{author} eq 'bob'
   && $sj->{sha256} eq $n2->{sha256}, 'show --json: metadata');
$r = store('show', '7');
ok($r->{rc} == 2 && $r->{stderr} =~ /no version 7/, 'show 7: no such version');

my @hist = history_lines();
is(scalar @hist, 2, 'history: two events');
my $sha1_12 = substr($p1->{sha256}, 0, 12);
my $sha2_12 = substr($n2->{sha256}, 0, 12);
like($hist[0], qr/^1\s+push\s+\S+Z\s+alice\s+$sha1_12\s+first version$/,
     'history: line of version 1');
like($hist[1], qr/^2\s+push\s+\S+Z\s+bob\s+$sha2_12\s+add producer$/,
     'history: line of version 2');

# --- diff ------------------------------------------------------------------

$r = store('diff', '1', '2');
is($r->{rc}, 1, 'diff 1 2: exit 1 (different)');
like($r->{stdout}, qr/^added grant orders-producer$/m, 'diff: grant added');
like($r->{stdout}, qr/^changed grant orders-consumer\n\s+operations\s+-describe\n/m,
     'diff: operation removed');
like($r->{stdout}, qr/^1 added, 0 removed, 1 changed$/m, 'diff: summary');

$r = store('diff', '1', '--json');
my $dj = eval { $json->decode($r->{stdout}) } // {};
ok($r->{rc} == 1 && @{ $dj->{added} } == 1
   && $dj->{added}[0]{id} eq 'orders-producer'
   && $dj->{added}[0]{operations}[0] eq 'write'
   && @{ $dj->{removed} } == 0 && @{ $dj->{changed} } == 1
   && $dj->{changed}[0]{id} eq 'orders-consumer', 'diff 1 --json (B: current)')
    or diag($r->{stdout});
is_deeply($dj->{changed}[0]{changes},
          { operations => { removed => ['describe'], added => [] } },
          'diff --json: the changed field');

$r = store('diff', '2', '1');
like($r->{stdout}, qr/^removed grant orders-producer$/m, 'diff 2 1: removed');
$r = store('diff', '2', '2');
ok($r->{rc} == 0 && $r->{stdout} =~ /^no difference$/m, 'diff 2 2: none');
$r = store('diff', '--file', $v2);
is($r->{rc}, 0, 'diff --file of the current text: no difference');
$r = store('diff', '--file', $v1);
ok($r->{rc} == 1 && $r->{stdout} =~ /^\+\+\+ \Q$v1\E/m
   && $r->{stdout} =~ /^removed grant orders-producer$/m,
   'diff --file FILE: current against the file');
$r = store('diff', '1', '9');
is($r->{rc}, 2, 'diff with an unknown version: exit 2');

# --- rollback --------------------------------------------------------------

$r = store('rollback', '1', '--author', 'carol', '--comment', 'undo v2');
is($r->{rc}, 0, 'rollback 1: exit 0') or diag($r->{stderr});
like($r->{stdout}, qr/^version 1 .*current again, was 2$/, 'rollback 1: says so');
is(current(), '1', 'rollback 1: current is 1');
is_deeply(next_notice(), { version => 1, sha256 => $p1->{sha256} },
          'rollback 1: notice published');
@hist = history_lines();
like($hist[2] // '', qr/^1\s+rollback\s+\S+Z\s+carol\s+$sha1_12\s+undo v2$/,
     'history: the rollback');
my $ev = $json->decode(redis('LINDEX', "${PREFIX}policy:history", -1));
ok($ev->{event} eq 'rollback' && $ev->{version} == 1 && $ev->{previous} == 2
   && $ev->{author} eq 'carol', 'history event (JSON)');

$r = store('rollback', '1', '--author', 'carol');
ok($r->{rc} == 0 && $r->{stdout} =~ /current already/,
   'rollback to the current version: a no-op');
$r = store('rollback', '99', '--author', 'carol');
ok($r->{rc} == 1 && $r->{stderr} =~ /no version 99/,
   'rollback to an unknown version: refused (exit 1)');
$r = store('rollback', '2');
is($r->{rc}, 2, 'rollback without --author: exit 2');
is(current(), '1', 'refused rollbacks: current unchanged');
is(next_notice(0.3), undef, 'refused and no-op rollbacks: no notice');

# --- refusals --------------------------------------------------------------

$r = store('push', $broken, '--author', 'mallory');
is($r->{rc}, 1, 'push of a broken policy: exit 1');
like($r->{stderr}, qr/operation-not-applicable.*\n.*refused, nothing pushed/s,
     'push of a broken policy: the diagnostic and the refusal');
is(current(), '1', 'push of a broken policy: current unchanged');
is(redis('GET', "${PREFIX}policy:seq"), '2', 'push of a broken policy: no version');
$r = store('push', $v2);
is($r->{rc}, 2, 'push without --author: exit 2');

# a store that a script would only half write: nothing is written
my $P2 = "${PREFIX}half:";
redis('SET', "${P2}policy:history", 'not a list');
$r = hoopctl('push', $v1, '--author', 'a', '--redis', "127.0.0.1:$port",
             '--prefix', $P2);
ok($r->{rc} == 2 && $r->{stderr} =~ /not a list/,
   'push onto a broken store: exit 2, says why');
ok(!redis('EXISTS', "${P2}policy:v:1") && !defined redis('GET', "${P2}policy:current")
   && !defined redis('GET', "${P2}policy:seq"), 'and nothing was written');

# a version altered by hand so that it no longer compiles: no rollback to it
my @P3 = ('--redis', "127.0.0.1:$port", '--prefix', "${PREFIX}tamper:");
hoopctl('push', $v1, '--author', 'a', @P3);
hoopctl('push', $v2, '--author', 'a', @P3);
redis('HSET', "${PREFIX}tamper:policy:v:1", 'canonical', '{"policy_version": 2}');
$r = hoopctl('rollback', '1', '--author', 'a', @P3);
ok($r->{rc} == 1 && $r->{stderr} =~ /does not compile/
   && redis('GET', "${PREFIX}tamper:policy:current") eq '2',
   'rollback to a version that does not compile: refused')
    or diag($r->{stderr});

$r = hoopctl('history', '--redis', '127.0.0.1:1');
ok($r->{rc} == 2 && $r->{stderr} =~ /cannot connect to Redis at 127\.0\.0\.1:1/,
   'no Redis: exit 2 with a clear message');
$r = hoopctl('frobnicate');
is($r->{rc}, 2, 'unknown command: exit 2');

# --- review ----------------------------------------------------------------

my ($old, $ago, $soon, $later, $future) =
    (day(-400), day(-10), day(5), day(100), day(30));
my $rv = spew_file('review.yaml', <<"EOF");
policy_version: 1
grants:
  - id: expired-grant
    principals: [ "User:old" ]
    resources: [ { type: topic, name: "a" } ]
    operations: [ read ]
    valid_until: $ago
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "R-1"
  - id: fine-grant
    principals: [ "User:fine" ]
    resources: [ { type: topic, name: "b" } ]
    operations: [ read ]
    valid_until: $later
    reviewed_by: dave
    reviewed_at: $yesterday
    reason: "R-2"
  - id: future-grant
    principals: [ "User:new" ]
    resources: [ { type: topic, name: "c" } ]
    operations: [ write ]
    valid_from: $future
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "R-3"
  - id: old-review
    principals: [ "Group:ops" ]
    resources: [ { type: group, name: "ops-", match: prefix } ]
    operations: [ read ]
    reviewed_by: erin
    reviewed_at: $old
    reason: "R-4"
  - id: soon-grant
    principals: [ "User:temp" ]
    resources: [ { type: topic, name: "d." , match: prefix } ]
    operations: [ read ]
    valid_until: $soon
    reviewed_by: carol
    reviewed_at: $yesterday
    reason: "R-5"
EOF
$r = store('push', $rv, '--author', 'auditor');
is($r->{rc}, 0, 'push the review policy (warnings only)') or diag($r->{stderr});
like($r->{stderr}, qr/\[expired\]/, 'push: the expired warning is shown');
is(next_notice()->{version}, 3, 'push v3: notice');

$r = store('review');
is($r->{rc}, 0, 'review: exit 0');
my %row;
for (split /\n/, $r->{stdout}) {
    my @c = split /\s{2,}/;
    $row{$c[0]} = \@c if @c >= 10;
}
is($row{'expired-grant'}[-1], 'EXPIRED', 'review: EXPIRED');
is($row{'soon-grant'}[-1], 'EXPIRES-SOON', 'review: EXPIRES-SOON');
is($row{'future-grant'}[-1], 'NOT-YET-VALID', 'review: NOT-YET-VALID');
is($row{'old-review'}[-1], 'REVIEW-OLD', 'review: REVIEW-OLD');
is($row{'fine-grant'}[-1], '-', 'review: no flag');
is($row{'soon-grant'}[7], "${soon}T23:59:59Z", 'review: expiry');
is($row{'old-review'}[5], 'erin', 'review: reviewer');
is($row{'old-review'}[2], 'group:prefix:ops-', 'review: resources');
is($row{'fine-grant'}[8], '-', 'review: last used "-" without audit data');
like($r->{stdout}, qr/^access review of version 3 .*: 5 grants, 4 flagged$/m,
     'review: header');

my $used_ms = int(time * 1000) - 3600_000;
redis('HSET', "${PREFIX}grant:last_used", 'fine-grant', $used_ms);
$r = store('review', '--soon', '3', '--json');
my $rj = eval { $json->decode($r->{stdout}) } // {};
my %g = map { $_->{id} => $_ } @{ $rj->{grants} // [] };
is_deeply($g{'fine-grant'}{flags}, [], 'review --json: used, fine: no flag');
is($g{'fine-grant'}{last_used},
   strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(int($used_ms / 1000))),
   'review --json: last use from grant:last_used');
is_deeply($g{'soon-grant'}{flags}, ['UNUSED'],
          'review --soon 3: not expiring soon; never used: UNUSED');
is_deeply($g{'expired-grant'}{flags}, ['EXPIRED', 'UNUSED'],
          'review --json: EXPIRED, UNUSED');
ok($rj->{last_used_available} && $rj->{soon_days} == 3
   && $g{'old-review'}{reviewed_by} eq 'erin', 'review --json: fields');
$r = store('review');
for (split /\n/, $r->{stdout}) {
    my @c = split /\s{2,}/;
    $row{$c[0]} = \@c if @c >= 10;
}
is($row{'soon-grant'}[8], 'never', 'review: last used "never"');

$r = hoopctl('review', '--file', $rv, '--json');
$rj = eval { $json->decode($r->{stdout}) } // {};
is(scalar @{ $rj->{grants} // [] }, 5, 'review --file: without Redis');

# --- clean up --------------------------------------------------------------

my $cursor = 0;
do {
    my $s = redis('SCAN', $cursor, 'MATCH', "$PREFIX*", 'COUNT', 1000);
    $cursor = $s->[0];
    redis('DEL', @{ $s->[1] }) if @{ $s->[1] };
} while ($cursor ne '0');

Test::More::done_testing();
