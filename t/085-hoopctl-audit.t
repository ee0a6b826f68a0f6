# The Redis side of the audit trail (docs/audit.md), against a real Redis
# (t/bin/redis-env; started here when it is not running, and then stopped):
# the script src/audit/hoop_audit.lua fed with batches exactly as the
# gateway sends them (EVALSHA with the embedded script's SHA1), and
# `hoopctl audit who / what / denied / export / tail` on what it wrote.
#
#  - the script: events in the main stream with the fields of format v1 in
#    their order; gateway times as stream ids, and Redis' when an event is
#    older than the stream's last entry (or far in the future); replays of
#    a writer's seqs skipped; invalid UTF-8 kept with "<name>_hex"; denies,
#    failed logins, protocol errors and dropped-event notices in
#    P audit:denied; P grant:last_used only moving forward; the who/what
#    indexes with aggregates counted by "count"; MAXLEN and retention
#    (MINID trimming, index expiry); arguments that are not events kept as
#    "invalid" entries; garbage never failing a batch;
#  - hoopctl: tables and --json with exact values, time arguments and their
#    errors, export through a consumer group resumed after a crash (pending
#    entries re-read, a cut line repaired, duplicates only for entries
#    written but not acknowledged) and after a clean stop (none), tail.
#
# Every run uses its own key prefixes.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(read_env_file);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
# HOOPCTL="build/tools/hoopctl-asan": the same tests under the sanitizers
my @H = split ' ', ($ENV{HOOPCTL} // "$repo/build/tools/hoopctl");
my $dir = tempdir('hoopctl-audit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8->canonical;

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
my $started_redis = 0;
unless ($port) {
    my $r = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start' ], timeout => 30);
    my ($envf) = $r->{stdout} =~ /^(\S+\.env)$/m;
    my $env = $envf ? read_env_file($envf) : undef;
    $port = $env->{REDIS_PORT} if $env;
    unless ($port) {
        plan skip_all => "no Redis (t/bin/redis-env start): $r->{stderr}";
    }
    $started_redis = 1;
}
END {
    run_cmd(cmd => [ "$repo/t/bin/redis-env", 'stop' ], timeout => 30)
        if $started_redis;
}

my $PREFIX = sprintf 't085-%d-%d:', $$, int(time * 1000) % 1000000000;
my @STORE = ('--redis', "127.0.0.1:$port", '--prefix', $PREFIX);
my $STREAM = "${PREFIX}audit";
my $DENIED = "${PREFIX}audit:denied";

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
    my $deadline = time + ($timeout // 10);
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

# --- the script, as the module embeds it -----------------------------------

my $lua = do {
    open my $f, '<:raw', "$repo/src/audit/hoop_audit.lua" or die $!;
    local $/;
    <$f>;
};
my ($header_sha) = do {
    open my $f, '<', "$repo/src/audit/hoop_audit_lua.h" or die $!;
    local $/;
    <$f> =~ /#define HOOP_AUDIT_LUA_SHA1\s+"([0-9a-f]{40})"/;
};
my $r = run_cmd(cmd => [ "$repo/tools/embed-lua", '--check' ], timeout => 20);
is($r->{rc}, 0, 'src/audit/hoop_audit_lua.h is that of hoop_audit.lua')
    or diag($r->{stderr});
my $SHA = redis('SCRIPT', 'LOAD', $lua);
is($SHA, $header_sha, 'SCRIPT LOAD: the SHA1 of the header (EVALSHA name)');

my $now = int(time * 1000);
my $today = strftime('%Y-%m-%d', gmtime($now / 1000));
my $y_ts = $now - 86400_000;
my $yesterday = strftime('%Y-%m-%d', gmtime($y_ts / 1000));

# EVALSHA sha 0 prefix stream maxlen retention_s writer event...
sub batch {
    my ($writer, $o, @events) = @_;
    return redis('EVALSHA', $SHA, 0, $o->{prefix} // $PREFIX,
                 $o->{stream} // $STREAM, $o->{maxlen} // 0,
                 $o->{retention} // 0, $writer,
                 map { ref $_ ? $json->encode($_) : $_ } @events);
}

sub day_of { return strftime('%Y-%m-%d', gmtime($_[0] / 1000)); }

# an event of format v1 with the common fields
sub ev {
    my ($seq, $ts, %f) = @_;
    return { v => 1, seq => $seq, ts => $ts, day => day_of($ts), node => 'gw1',
             sid => 'gw1-1a2b-' . ($f{sid} // 1), %f };
}

sub entries {
    my ($key, @range) = @_;
    my $e = redis('XRANGE', $key, @range ? @range : ('-', '+'));
    return map { { id => $_->[0], f => $_->[1], h => { @{ $_->[1] } } } } @$e;
}

sub keys_of { my ($e) = @_; my @f = @{ $e->{f} }; return @f[grep { !($_ % 2) } 0 .. $#f]; }

my %fetch = (principal => 'alice', groups => ['analysts'],
             auth => 'SCRAM-SHA-256', client => '127.0.0.1:5001',
             client_id => 'console-consumer',
             software => 'apache-kafka-java/4.1.1', api => 'Fetch',
             api_key => 1, api_version => 12, correlation_id => 7,
             resource_type => 'topic', resource => 'orders',
             operation => 'read', partitions => [0, 1], records => 120,
             bytes => 48211, offsets => [[0, 100, 219], [1, 5, 5]],
             decision => 'allow', reason => 'grant',
             rule => 'analysts-read-orders', policy_version => 12);

my $t0 = $now - 120_000;
my @ev = (
    undef,
    ev(1, $y_ts, event => 'request', %fetch),
    ev(2, $y_ts + 10, event => 'aggregate', %fetch, count => 5,
       until => $y_ts + 4000, correlation_id => undef),
    ev(3, $y_ts + 20, event => 'request', principal => 'bob', api => 'Produce',
       resource_type => 'topic', resource => 'orders', operation => 'write',
       decision => 'deny', reason => 'no grant', client => '10.0.0.2:4000',
       policy_version => 12),
    ev(4, $t0, event => 'authenticated', principal => 'alice',
       groups => ['analysts'], auth => 'SCRAM-SHA-256'),
    ev(5, $t0 + 1, event => 'request', %fetch, sid => 2),
    ev(6, $t0 + 2, event => 'request', principal => 'alice',
       api => 'JoinGroup', resource_type => 'group', resource => 'orders-app',
       operation => 'read', decision => 'allow', rule => 'analysts-group'),
    ev(7, $t0 + 3, event => 'request', principal => 'carol',
       api => 'InitProducerId', resource_type => 'transactional_id',
       resource => 'tx-1', operation => 'write', decision => 'deny',
       reason => 'no grant'),
    ev(8, $t0 + 4, event => 'request', principal => 'alice',
       api => 'InitProducerId', resource_type => 'cluster',
       resource => 'kafka-cluster', operation => 'idempotent_write',
       decision => 'allow', rule => 'cluster-rule'),
    ev(9, $t0 + 5, event => 'authentication_failed', principal => 'mallory',
       auth => 'PLAIN', client => '10.0.0.9:5555', error => 'bad password'),
    ev(10, $t0 + 6, event => 'protocol_error', client => '10.0.0.9:5556',
       error => 'frame of 2147483647 bytes'),
    ev(11, $t0 + 7, event => 'closed', principal => 'alice',
       bytes_in => 100, bytes_out => 2000),
    ev(12, $t0 + 8, event => 'audit_dropped', count => 17),
    # a principal and client id that were not UTF-8 (bytes 6d ff 72 69 61)
    ev(13, $t0 + 9, event => 'request', principal => "m\x{FFFD}ria",
       principal_hex => '6dff726961', client_id => "c\x{FFFD}",
       client_id_hex => '63fe', zz_note => 'extra', api => 'Fetch',
       resource_type => 'topic', resource => 'orders', operation => 'read',
       decision => 'deny', reason => 'no grant'),
);

my $W1 = 'gw1:4242:1764998400000';

# --- the script: batches, replays ------------------------------------------

my $res = batch($W1, {}, @ev[1 .. 7]);
is_deeply($res, [7, 0], 'batch 1..7: 7 applied');
$res = batch($W1, {}, @ev[5 .. 13]);
is_deeply($res, [6, 3], 'batch 5..13: 5, 6, 7 skipped (replayed), 6 applied');
$res = batch($W1, {}, @ev[1 .. 7]);
is_deeply($res, [0, 7], 'batch 1..7 again (a lost reply): all skipped');
is(redis('XLEN', $STREAM), 13, 'the stream has each event once');
is(redis('GET', "${PREFIX}audit:writer:$W1"), '13',
   'audit:writer:<writer> = the last applied seq');
my $ttl = redis('TTL', "${PREFIX}audit:writer:$W1");
ok($ttl > 29 * 86400 && $ttl <= 30 * 86400, "writer key expires in 30 days ($ttl s)");

my @main = entries($STREAM);
my %by_seq = map { $_->{h}{seq} => $_ } @main;
is_deeply([ map { $_->{h}{seq} } @main ], [1 .. 13], 'stream order = seq order');
is($by_seq{1}{id}, "$y_ts-0", 'stream id: the gateway time, <ts>-0');
is($by_seq{5}{id}, ($t0 + 1) . '-0', 'stream id of a later event: its ts');

is_deeply([ keys_of($by_seq{1}) ],
          [qw(v seq ts node sid event principal groups auth client client_id
              software api api_key api_version correlation_id resource_type
              resource operation partitions records bytes offsets decision
              reason rule policy_version)],
          'fields in the order of format v1, "day" not written');
my $h1 = $by_seq{1}{h};
is_deeply([ @$h1{qw(v seq ts api_key records bytes)} ],
          [ '1', '1', "$y_ts", '1', '120', '48211' ], 'numbers as decimal text');
is_deeply([ @$h1{qw(groups partitions offsets)} ],
          [ '["analysts"]', '[0,1]', '[[0,100,219],[1,5,5]]' ],
          'arrays as their JSON text');
is($h1->{software}, 'apache-kafka-java/4.1.1', 'strings as they are');
is_deeply([ keys_of($by_seq{2}) ],
          [qw(v seq ts node sid event principal groups auth client client_id
              software api api_key api_version resource_type resource
              operation partitions records bytes offsets decision reason rule
              policy_version count until)],
          'aggregate: count and until; absent fields not written');
is_deeply([ keys_of($by_seq{13}) ],
          [qw(v seq ts node sid event principal client_id api resource_type
              resource operation decision reason client_id_hex principal_hex
              zz_note)],
          'other keys after the known ones, sorted');
is($by_seq{13}{h}{principal}, "m\xef\xbf\xbdria", 'invalid UTF-8: U+FFFD in the field');
is($by_seq{13}{h}{principal_hex}, '6dff726961', 'and the raw bytes in <name>_hex');

my @den = entries($DENIED);
is_deeply([ map { $_->{h}{seq} } @den ], [3, 7, 9, 10, 12, 13],
          'audit:denied: denies, authentication_failed, protocol_error, '
          . 'audit_dropped; nothing allowed');
is_deeply([ map { [ $_->{id}, $_->{f} ] } @den ],
          [ map { [ $by_seq{$_}{id}, $by_seq{$_}{f} ] } 3, 7, 9, 10, 12, 13 ],
          'audit:denied: same ids and fields as the main stream');

# the indexes
my %who_keys = map { $_ => 1 } @{ redis('KEYS', "${PREFIX}audit:who:*") };
is_deeply(\%who_keys, { map { ("${PREFIX}audit:who:$_" => 1) }
    "topic:$yesterday:orders", "topic:$today:orders",
    "group:$today:orders-app", "transactional_id:$today:tx-1",
    "cluster:$today:kafka-cluster" },
    'who keys: request and aggregate events with a resource only');
is_deeply({ @{ redis('HGETALL', "${PREFIX}audit:who:topic:$yesterday:orders") } },
          { '["alice","read","allow"]' => 6, '["bob","write","deny"]' => 1 },
          'who index of yesterday: the aggregate counts its 5 requests');
is_deeply({ @{ redis('HGETALL', "${PREFIX}audit:who:topic:$today:orders") } },
          { '["alice","read","allow"]' => 1,
            "[\"m\xef\xbf\xbdria\",\"read\",\"deny\"]" => 1 },
          'who index of today');
is_deeply({ @{ redis('HGETALL', "${PREFIX}audit:what:$today:alice") } },
          { '["topic","orders","read","allow"]' => 1,
            '["group","orders-app","read","allow"]' => 1,
            '["cluster","kafka-cluster","idempotent_write","allow"]' => 1 },
          'what index of today');
is_deeply({ @{ redis('HGETALL', "${PREFIX}audit:what:$yesterday:alice") } },
          { '["topic","orders","read","allow"]' => 6 }, 'what index of yesterday');
is(redis('TTL', "${PREFIX}audit:what:$today:alice"), -1,
   'retention_s 0: index keys do not expire');

is_deeply({ @{ redis('HGETALL', "${PREFIX}grant:last_used") } },
          { 'analysts-read-orders' => $t0 + 1, 'analysts-group' => $t0 + 2,
            'cluster-rule' => $t0 + 4 },
          'grant:last_used: the last allowed request per rule');

# late events: older than the stream's last entry, then far in the future
my $top = $main[-1]{id};
$res = batch($W1, {}, ev(14, $y_ts - 1000, event => 'request', %fetch));
is_deeply($res, [1, 0], 'a late event (spooled) is applied');
my ($late) = grep { $_->{h}{seq} == 14 } entries($STREAM);
my ($lms, $lseq) = split /-/, $late->{id};
my ($tms, $tseq) = split /-/, $top;
ok($lms > $tms || ($lms == $tms && $lseq > $tseq),
   "its id ($late->{id}) comes after the stream's last ($top): Redis' own");
is($late->{h}{ts}, $y_ts - 1000, 'and ts keeps the gateway time');
is(redis('HGET', "${PREFIX}grant:last_used", 'analysts-read-orders'), $t0 + 1,
   'grant:last_used does not move back');
is_deeply({ @{ redis('HGETALL', "${PREFIX}audit:who:topic:" . day_of($y_ts - 1000)
                     . ':orders') } }->{'["alice","read","allow"]'},
          day_of($y_ts - 1000) eq $yesterday ? 7 : 1,
          'a late event counts on its own day');

$res = batch($W1, {}, ev(15, $now + 3600_000, event => 'request', %fetch,
                         count => 4, event => 'aggregate',
                         until => $now + 3600_000 + 500));
my ($future) = grep { $_->{h}{seq} == 15 } entries($STREAM);
my ($fms) = split /-/, $future->{id};
ok($fms < $now + 600_000, 'an event an hour ahead: id from the Redis clock');
is(redis('HGET', "${PREFIX}grant:last_used", 'analysts-read-orders'),
   $now + 3600_000 + 500, 'grant:last_used moves forward, to an aggregate\'s until');

# values cjson cannot hold exactly are stored from the event's own text
{
    my $PX = "${PREFIX}exact:";
    my $big = '{"v":1,"seq":2,"ts":' . ($now - 1000) . ',"event":"request",'
        . '"offsets":[[0,1,12345678901234567890]],"ratio":1.5,"meta":{},'
        . '"principal":"a\\u00e9\\/b","groups":["g"],"list":[[]]}';
    $res = batch('gwx:1:1', { prefix => $PX, stream => "${PX}audit" },
                 ev(1, $now - 2000, event => 'request', groups => [], partitions => [],
                    principal => 'x/y', note => "tab\there", mask => [[ 'r"1', 2 ]]),
                 $big);
    is_deeply($res, [2, 0], 'events with empty arrays, big numbers, reals');
    my @x = entries("${PX}audit");
    is_deeply([ @{ $x[0]{h} }{qw(groups partitions principal note mask)} ],
              [ '[]', '[]', 'x/y', "tab\there", '[["r\\"1",2]]' ],
              'empty arrays, a slash, a tab, a quote in an array');
    is_deeply([ @{ $x[1]{h} }{qw(offsets ratio meta principal groups list)} ],
              [ '[[0,1,12345678901234567890]]', '1.5', '{}', "a\xc3\xa9/b", '["g"]', '[[]]' ],
              'a number above 2^53, a real, empty objects: their exact text');
}

# arguments that are not events
my $W2 = 'gw2:1:1';
my $before = redis('XLEN', $STREAM);
$res = batch($W2, {}, 'not json', '{"seq":1,"event":"request"}', '[1,2]',
             ev(2, $now - 5000, event => 'closed', principal => 'dan'));
is_deeply($res, [4, 0], 'garbage is applied, not dropped');
my @inv = grep { ($_->{h}{event} // '') eq 'invalid' } entries($STREAM);
is_deeply([ map { [ $_->{h}{raw}, $_->{h}{error}, $_->{h}{writer} ] } @inv ],
          [ [ 'not json', 'not a JSON object', $W2 ],
            [ '{"seq":1,"event":"request"}',
              'no "ts" (milliseconds since the Epoch)', $W2 ],
            [ '[1,2]', 'not a JSON object', $W2 ] ],
          'as "invalid" entries with the text and why');
is(scalar(grep { ($_->{h}{event} // '') eq 'invalid' } entries($DENIED)), 3,
   'and in audit:denied');
$res = batch($W2, {}, 'not json', '{"seq":1,"event":"request"}', '[1,2]',
             ev(2, $now - 5000, event => 'closed', principal => 'dan'));
is_deeply($res, [2, 2], 'replayed: those with a seq skipped, the others again');

# bad calls write nothing
$before = redis('XLEN', $STREAM);
my $err = eval { batch('gw3:1:1', { maxlen => 'x' }, ev(1, $now, event => 'closed')); 1 }
    ? '' : $@;
like($err, qr/hoop_audit: bad arguments/, 'a bad maxlen: error reply');
$err = eval { redis('EVALSHA', $SHA, 0, $PREFIX, $STREAM, 0, 0); 1 } ? '' : $@;
like($err, qr/hoop_audit: usage/, 'no writer: error reply');
redis('SET', "${PREFIX}audit:writer:gw4:1:1", 'x');
$err = eval { batch('gw4:1:1', {}, ev(1, $now, event => 'closed')); 1 } ? '' : $@;
like($err, qr/audit:writer:gw4:1:1 is not a number/, 'a corrupt writer key: error reply');
is(redis('XLEN', $STREAM), $before, 'and nothing was written');

# a write that fails half way: what was applied is recorded for the writer
my $PF = "${PREFIX}fail:";
redis('SET', "${PF}audit:denied", 'not a stream');
$err = eval { batch('gw5:1:1', { prefix => $PF, stream => "${PF}audit" },
                    ev(1, $now, event => 'closed'),
                    ev(2, $now, event => 'request', decision => 'deny'),
                    ev(3, $now, event => 'closed')); 1 } ? '' : $@;
like($err, qr/WRONGTYPE.*\(2 of 3 events applied, 0 skipped\)/,
     'a failing write: error reply saying how far it got');
redis('DEL', "${PF}audit:denied");
$res = batch('gw5:1:1', { prefix => $PF, stream => "${PF}audit" },
             ev(1, $now, event => 'closed'),
             ev(2, $now, event => 'request', decision => 'deny'),
             ev(3, $now, event => 'closed'));
is_deeply($res, [1, 2], 'the batch sent again applies the rest once');
is(redis('XLEN', "${PF}audit"), 3, 'no event twice in the stream');

# garbage: mutated events never fail a batch
srand(85);
my $template = $json->encode(ev(1, $now, event => 'request', %fetch));
my ($fz_applied, $fz_ok, $fz_n) = (0, 1, 0);
my $FZ = "${PREFIX}fz:";
for my $round (1 .. 20) {
    my @args;
    for my $i (1 .. 10) {
        my $t = $template;
        $t =~ s/"seq":1/'"seq":' . ($round * 10 + $i)/e;
        for (1 .. 1 + int(rand(4))) {
            my $pos = int(rand(length $t));
            my $op = int(rand(3));
            if ($op == 0) { substr($t, $pos, 1, chr(int(rand(256)))); }
            elsif ($op == 1) { substr($t, $pos) = ''; }
            else { substr($t, $pos, 0, substr($t, int(rand(length $t)), 5)); }
        }
        push @args, $t;
    }
    my $x = eval { batch('fz:1:1', { prefix => $FZ, stream => "${FZ}audit" }, @args) };
    if (!$x || $x->[0] + $x->[1] != 10) {
        $fz_ok = 0;
        diag("round $round: " . ($@ || "@$x"));
        last;
    }
    $fz_applied += $x->[0];
    $fz_n += 10;
}
ok($fz_ok, "200 mutated events: no batch failed");
is(redis('XLEN', "${FZ}audit"), $fz_applied, 'and every applied one is in the stream');

# --- the script: MAXLEN and retention ---------------------------------------

my $PM = "${PREFIX}maxlen:";
for my $k (0 .. 5) {
    batch('gwm:1:1', { prefix => $PM, stream => "${PM}audit", maxlen => 50 },
          map { ev($k * 100 + $_, $now - 60_000 + $k * 100 + $_,
                   event => 'request', principal => 'p', resource_type => 'topic',
                   resource => 't', operation => 'read',
                   decision => $_ % 2 ? 'deny' : 'allow') } 1 .. 100);
}
my $len = redis('XLEN', "${PM}audit");
ok($len >= 50 && $len <= 200, "maxlen 50: 600 events, $len kept (MAXLEN ~)");
$len = redis('XLEN', "${PM}audit:denied");
ok($len >= 50 && $len <= 200, "maxlen 50: audit:denied trimmed too ($len)");

my $PR = "${PREFIX}retention:";
batch('gwr:1:1', { prefix => $PR, stream => "${PR}audit", retention => 3600 },
      map { ev($_, $now - 7200_000 + $_, event => 'request', principal => 'old',
               resource_type => 'topic', resource => 't', operation => 'read',
               decision => 'deny') } 1 .. 300);
batch('gwr:1:1', { prefix => $PR, stream => "${PR}audit", retention => 3600 },
      map { ev(300 + $_, $now - 1000 + $_, event => 'request', principal => 'new',
               resource_type => 'topic', resource => 't', operation => 'read',
               decision => 'deny') } 1 .. 10);
my @kept = entries("${PR}audit");
ok(@kept >= 10 && @kept <= 110,
   'retention 1 h: events 2 h old trimmed (' . scalar(@kept) . ' left)');
is_deeply([ map { $_->{h}{seq} } @kept[-10 .. -1] ], [301 .. 310], 'the new ones kept');
ok(scalar(entries("${PR}audit:denied")) <= 110, 'audit:denied trimmed by age too');
$ttl = redis('TTL', "${PR}audit:who:topic:" . day_of($now) . ':t');
ok($ttl > 3500 && $ttl <= 3600, "retention 1 h: index keys expire ($ttl s)");
$ttl = redis('TTL', "${PR}audit:what:" . day_of($now) . ':new');
ok($ttl > 3500 && $ttl <= 3600, "and the what keys ($ttl s)");

# --- hoopctl audit who -------------------------------------------------------

sub hoopctl { return run_cmd(cmd => [ @H, @_ ], timeout => 60); }
sub audit { return hoopctl('audit', @_, @STORE); }
sub jdecode { my $x = eval { $json->decode($_[0]) }; return $x; }

my $late_day = day_of($y_ts - 1000);
my $yc = $late_day eq $yesterday ? 7 : 6;
my $fc = day_of($now + 3600_000) eq $today ? 4 : 0;   # the aggregate ahead
$r = audit('who', '--topic', 'orders', '--date', $yesterday);
is($r->{rc}, 0, 'who: exit 0') or diag($r->{stderr});
is($r->{stdout}, <<"EOF", 'who --topic orders --date yesterday: the table');
topic orders on $yesterday (UTC): 2 principals, @{[ $yc + 1 ]} requests
PRINCIPAL  OPERATION  DECISION  REQUESTS
alice      read       allow     $yc
bob        write      deny      1
EOF

$r = audit('who', '--topic', 'orders', '--date', $today, '--json');
is_deeply(jdecode($r->{stdout}),
          [ { principal => 'alice', operation => 'read', decision => 'allow',
              requests => 1 + $fc },
            { principal => "m\x{FFFD}ria", operation => 'read', decision => 'deny',
              requests => 1 } ], 'who --json of today (sorted by principal)')
    or diag($r->{stdout});

$r = audit('who', '--group', 'orders-app');
like($r->{stdout}, qr/^group orders-app on $today \(UTC\): 1 principal, 1 request\n.*\nalice\s+read\s+allow\s+1\n\z/s,
     'who --group (today by default)');
$r = audit('who', '--transactional-id', 'tx-1', '--json');
is_deeply(jdecode($r->{stdout}), [ { principal => 'carol', operation => 'write',
          decision => 'deny', requests => 1 } ], 'who --transactional-id');
$r = audit('who', '--cluster', '--json');
is_deeply(jdecode($r->{stdout}), [ { principal => 'alice',
          operation => 'idempotent_write', decision => 'allow', requests => 1 } ],
          'who --cluster (kafka-cluster)');
$r = audit('who', '--topic', 'nothing-here');
is_deeply([ $r->{rc}, $r->{stdout} ],
          [ 0, "topic nothing-here on $today (UTC): no requests recorded\n" ],
          'who: nobody');
$r = audit('who', '--topic', 'nothing-here', '--json');
is($r->{stdout}, "[]\n", 'who --json: []');

for my $bad ([ [ 'who', '--date', $today ], qr/one resource/ ],
             [ [ 'who', '--topic', 'a', '--group', 'b' ], qr/one resource/ ],
             [ [ 'who', '--topic', 'a', '--date', '2026-02-29' ], qr/bad --date "2026-02-29"/ ],
             [ [ 'who', '--topic', 'a', '--date', '26-01-01' ], qr/bad --date/ ],
             [ [ 'who', '--topic', 'a', '--since', '1d' ], qr/--since does not apply/ ],
             [ [ 'who', '--topic', 'a', 'extra' ], qr/unexpected argument "extra"/ ],
             [ [ 'bogus' ], qr/unknown audit command "bogus"/ ],
             [ [ 'who', '--topic', 'a', '--author', 'x' ], qr/unknown option "--author"/ ]) {
    $r = audit(@{ $bad->[0] });
    ok($r->{rc} == 2 && $r->{stderr} =~ $bad->[1], "audit @{ $bad->[0] }: exit 2, clear error")
        or diag("rc $r->{rc}: $r->{stderr}");
}
$r = hoopctl('audit', 'who', @STORE, '--topic');
ok($r->{rc} == 2 && $r->{stderr} =~ /--topic needs a value/, 'who --topic (last): exit 2, needs a value');
$r = audit('who', '--topic', 'a', '--date', '2028-02-29');
is($r->{rc}, 0, 'who --date 2028-02-29 (a leap day)');
$r = hoopctl('audit', 'who', '--topic', 'a', '--redis', '127.0.0.1:1');
ok($r->{rc} == 2 && $r->{stderr} =~ /cannot connect to Redis/, 'who: Redis away: exit 2');
$r = hoopctl('--redis', "127.0.0.1:$port", '--prefix', $PREFIX, 'audit', 'who',
             '--json', '--topic', 'orders', '--date', $yesterday);
is(scalar @{ jdecode($r->{stdout}) // [] }, 2, 'global options before "audit"');

# --- hoopctl audit what ------------------------------------------------------

$r = audit('what', '--principal', 'alice', '--since', $yesterday, '--until', $today);
my @rows = map { [ split /\s{2,}/ ] } split /\n/, $r->{stdout};
like($r->{stdout}, qr/^alice from ${yesterday}T00:00:00\.000Z to ${today}T23:59:59\.999Z \(whole UTC days\): 3 resources, \d+ requests\n/,
     'what: the header');
my $tc = 1 + $fc;
is_deeply([ @rows[2 .. $#rows] ],
          [ [ $yesterday, 'topic', 'orders', 'read', 'allow', $yc ],
            [ $today, 'cluster', 'kafka-cluster', 'idempotent_write', 'allow', 1 ],
            [ $today, 'group', 'orders-app', 'read', 'allow', 1 ],
            [ $today, 'topic', 'orders', 'read', 'allow', $tc ] ],
          'what --principal alice --since yesterday --until today: the rows')
    or diag($r->{stdout});

$r = audit('what', '--principal', 'alice', '--json');
my $wj = jdecode($r->{stdout}) // [];
is_deeply([ map { "$_->{date} $_->{resource_type}:$_->{resource} $_->{requests}" } @$wj ],
          [ "$yesterday topic:orders $yc", "$today cluster:kafka-cluster 1",
            "$today group:orders-app 1", "$today topic:orders $tc" ],
          'what --json, default range (the last day: yesterday and today)');
is_deeply($wj->[0], { date => $yesterday, resource_type => 'topic', resource => 'orders',
          operation => 'read', decision => 'allow', requests => $yc }, 'what --json: an object');
$r = audit('what', '--principal', 'alice', '--since', '90m', '--json');
is_deeply([ map { $_->{date} } @{ jdecode($r->{stdout}) // [] } ],
          [ (day_of($now - 5400_000) eq $today ? () : ($yesterday)), ($today) x 3 ],
          'what --since 90m: the days of that range');
$r = audit('what', '--principal', 'nobody');
like($r->{stdout}, qr/no requests recorded/, 'what: nothing');
$r = audit('what', '--principal', "m\xef\xbf\xbdria", '--json');
is(jdecode($r->{stdout})->[0]{decision}, 'deny', 'what: a principal with U+FFFD');

for my $bad ([ [ 'what' ], qr/--principal P is required/ ],
             [ [ 'what', '--principal', 'a', '--since', '2026-13-01' ], qr/bad --since "2026-13-01"/ ],
             [ [ 'what', '--principal', 'a', '--since', '10x' ], qr/bad --since "10x"/ ],
             [ [ 'what', '--principal', 'a', '--since', '' ], qr/bad --since ""/ ],
             [ [ 'what', '--principal', 'a', '--until', "${today}T25:00" ], qr/bad --until/ ],
             [ [ 'what', '--principal', 'a', '--since', 'now', '--until', '1d' ], qr/is after --until/ ],
             [ [ 'what', '--principal', 'a', '--since', '2000-01-01' ], qr/at most 1000/ ]) {
    $r = audit(@{ $bad->[0] });
    ok($r->{rc} == 2 && $r->{stderr} =~ $bad->[1], "audit @{ $bad->[0] }: exit 2, clear error")
        or diag("rc $r->{rc}: $r->{stderr}");
}
for my $t ("${yesterday}T00:00", "${yesterday}T00:00Z", "${yesterday}T00:00:00Z",
           "${yesterday}T00:00:00.5Z", '24h', '1440m', '86400s', 'now') {
    $r = audit('what', '--principal', 'alice', '--since', $t, '--until', 'now');
    is($r->{rc}, 0, "--since $t accepted") or diag($r->{stderr});
}

# --- hoopctl audit denied ----------------------------------------------------

my @den_all = entries($DENIED);
$r = audit('denied', '--since', $yesterday);
my @d = map { [ split /\s{2,}/ ] } split /\n/, $r->{stdout};
like($d[0][0], qr/^denied from ${yesterday}T00:00:00\.000Z to \S+: ${\ scalar @den_all} events$/,
     'denied: the header');
is_deeply($d[1], [qw(TIME PRINCIPAL CLIENT API RESOURCE OPERATION REASON)], 'denied: heads');
my $y3 = strftime('%Y-%m-%dT%H:%M:%S', gmtime(($y_ts + 20) / 1000))
    . sprintf('.%03dZ', ($y_ts + 20) % 1000);
is_deeply($d[2], [ $y3, 'bob', '10.0.0.2:4000', 'Produce', 'topic:orders', 'write', 'no grant' ],
          'denied: a deny') or diag($r->{stdout});
my %dr = map { $_->[3] => $_ } @d[2 .. $#d];
is_deeply([ @{ $dr{authentication_failed} }[1, 2, 4, 5, 6] ],
          [ 'mallory', '10.0.0.9:5555', '-', '-', 'bad password' ],
          'denied: a failed authentication (its error)');
is($dr{audit_dropped}[6], 'dropped: 17', 'denied: dropped events');
is($dr{protocol_error}[6], 'frame of 2147483647 bytes', 'denied: a protocol error');

$r = audit('denied', '--since', $yesterday, '--json');
my $dj = jdecode($r->{stdout}) // [];
is_deeply([ map { $_->{id} } @$dj ], [ map { $_->{id} } @den_all ],
          'denied --json: every event, in order');
my ($af) = grep { $_->{event} eq 'authentication_failed' } @$dj;
is_deeply($af, { id => $by_seq{9}{id}, v => 1, seq => 9, ts => $t0 + 5,
                 node => 'gw1', sid => 'gw1-1a2b-1', event => 'authentication_failed',
                 principal => 'mallory', auth => 'PLAIN', client => '10.0.0.9:5555',
                 error => 'bad password' },
          'denied --json: all fields, numbers as numbers');
my ($m13) = grep { ($_->{seq} // 0) == 13 } @$dj;
is($m13->{principal_hex}, '6dff726961', 'denied --json: _hex stays a string');

$r = audit('denied', '--since', $yesterday, '--count', 2, '--json');
is_deeply([ map { $_->{seq} } @{ jdecode($r->{stdout}) // [] } ], [3, 7], 'denied --count 2');
$r = audit('denied', '--since', $yesterday, '--until', $yesterday, '--json');
is_deeply([ map { $_->{seq} } @{ jdecode($r->{stdout}) // [] } ], [3],
          'denied --until a date: to the end of that day');
$r = audit('denied', '--since', '90m', '--json');
is_deeply([ map { $_->{seq} // $_->{event} } @{ jdecode($r->{stdout}) // [] } ],
          [ map { $_->{h}{seq} // $_->{h}{event} } grep { (split /-/, $_->{id})[0] >= $now - 5400_000 } @den_all ],
          'denied --since 90m: the newer ones');
$r = audit('denied');
ok($r->{rc} == 2 && $r->{stderr} =~ /--since TIME is required/, 'denied without --since: exit 2');
$r = audit('denied', '--since', '1d', '--count', '0');
ok($r->{rc} == 2 && $r->{stderr} =~ /bad --count "0"/, 'denied --count 0: exit 2');

# --- hoopctl audit export ----------------------------------------------------

sub lines_of {
    my ($path) = @_;
    open my $f, '<:raw', $path or return ();
    local $/;
    my $t = <$f> // '';
    return split /\n/, $t, -1;
}

sub stream_ids { return map { $_->{id} } entries($STREAM); }

my $out = "$dir/export.jsonl";
$r = audit('export', '--group', 'g1', '--out', $out);
my @ids = stream_ids();
is($r->{rc}, 0, 'export: exit 0') or diag($r->{stderr});
is($r->{stdout}, "exported ${\ scalar @ids} events to $out (group g1, consumer export)\n",
   'export: the summary');
my @lines = lines_of($out);
is(pop @lines, '', 'export: the file ends with a newline');
my @objs = map { jdecode($_) } @lines;
is_deeply([ map { $_->{id} } @objs ], \@ids, 'export: one line per entry, in stream order');
my ($o1) = grep { ($_->{seq} // 0) == 1 && ($_->{event} // '') eq 'request' } @objs;
is_deeply($o1, { id => "$y_ts-0", v => 1, seq => 1, ts => $y_ts, node => 'gw1',
                 sid => 'gw1-1a2b-1', event => 'request', %fetch },
          'export: an event back as the gateway built it (minus "day")');
is_deeply([ $lines[0] =~ /"(\w+)":/g ],
          [qw(id v seq ts node sid event principal groups auth client client_id
              software api api_key api_version correlation_id resource_type
              resource operation partitions records bytes offsets decision
              reason rule policy_version)],
          'export: "id" first, then the stream order');
my ($o13) = grep { ($_->{seq} // 0) == 13 } @objs;
is_deeply([ @$o13{qw(principal principal_hex client_id_hex zz_note)} ],
          [ "m\x{FFFD}ria", '6dff726961', '63fe', 'extra' ], 'export: other fields as strings');
is(redis('XPENDING', $STREAM, 'g1')->[0], 0, 'export: everything acknowledged');

$r = audit('export', '--group', 'g1', '--out', $out);
is_deeply([ $r->{rc}, scalar(lines_of($out)) ], [ 0, @ids + 1 ],
          'export again: nothing new, nothing written');
batch($W1, {}, ev(16, $now - 2000, event => 'closed', principal => 'erin',
                 bytes_in => 10, bytes_out => 20, requests => 3, duration_ms => 1500),
      ev(17, $now - 1000, event => 'record', principal => 'frank', dir => 'response',
         sid => 'gw1-export-1', api => 'Metadata', api_key => 3, api_version => 12,
         correlation_id => 9, size => 512, local => JSON::PP::true, payload => 'AAAAAQ==',
         checks => [[ 'topic', 'orders', 'describe', 'allow' ]]));
$r = audit('export', '--group', 'g1', '--out', $out);
@lines = grep { length } lines_of($out);
like($r->{stdout}, qr/^exported 1 event /,
     'export after new events: 1 (a record event is in its session\'s stream)');
is_deeply([ map { my $o = jdecode($_); delete @$o{qw(id v seq ts node sid)}; $o } $lines[-1] ],
          [ { event => 'closed', principal => 'erin', bytes_in => 10, bytes_out => 20,
              requests => 3, duration_ms => 1500 } ],
          'export: closed events typed (numbers)');
$r = hoopctl('sessions', 'show', 'gw1-export-1', '--payloads', '--json', @STORE);
is_deeply([ map { delete @$_{qw(id v seq ts node sid)}; $_ } @{ jdecode($r->{stdout}) // [] } ],
          [ { event => 'record', principal => 'frank', dir => 'response', api => 'Metadata',
              api_key => 3, api_version => 12, correlation_id => 9, size => 512,
              local => JSON::PP::true, payload => 'AAAAAQ==', offset_ms => 0,
              checks => [[ 'topic', 'orders', 'describe', 'allow' ]] } ],
          'sessions show --json: record events typed (numbers, checks, local)');
is_deeply([ map { jdecode($_)->{id} } @lines ], [ stream_ids() ],
          'the file has every entry once');

# stdout
$r = audit('export', '--group', 'g-stdout', '--out', '-', '--batch', 3);
@lines = split /\n/, $r->{stdout};
is_deeply([ map { jdecode($_)->{id} } @lines ], [ stream_ids() ], 'export --out -: JSON lines on stdout');
like($r->{stderr}, qr/^exported \d+ events to standard output/, 'and the summary on stderr');

# an exporter that died after reading 5 entries, having written 2 lines and
# part of a third
my $g2 = "$dir/g2.jsonl";
redis('XGROUP', 'CREATE', $STREAM, 'g2', '0');
my $rd = redis('XREADGROUP', 'GROUP', 'g2', 'export', 'COUNT', 5, 'STREAMS', $STREAM, '>');
my @pend = map { $_->[0] } @{ $rd->[0][1] };
open my $gf, '>', $g2 or die;
print $gf qq({"id":"$pend[0]","written":"before the crash"}\n),
          qq({"id":"$pend[1]","written":"before the crash"}\n), qq({"id":"$pend[2]","v");
close $gf;
$r = audit('export', '--group', 'g2', '--out', $g2, '--batch', 2);
is($r->{rc}, 0, 'export after a crash: exit 0') or diag($r->{stderr});
like($r->{stderr}, qr/cut a partial last line \(\d+ bytes\)/, 'the cut line is reported');
like($r->{stdout}, qr/5 of them again after an interrupted export/, 'the pending entries are re-read');
@lines = grep { length } lines_of($g2);
my @gobjs = map { jdecode($_) } @lines;
ok(!grep({ !defined } @gobjs), 'every line is JSON');
my %n;
$n{ $_->{id} }++ for @gobjs;
is_deeply([ sort keys %n ], [ sort(stream_ids()) ], 'no entry lost');
is_deeply([ sort grep { $n{$_} > 1 } keys %n ], [ sort @pend[0, 1] ],
          'duplicates: only the entries written but not acknowledged');
is(redis('XPENDING', $STREAM, 'g2')->[0], 0, 'all acknowledged now');

# kill -9 in the middle of a follow export, then resume
my $g3 = "$dir/g3.jsonl";
my ($kout, $kerr) = ('', '');
my $kh = IPC::Run::start([ @H, 'audit', 'export', '--group', 'g3', '--out', $g3,
                          '--batch', 1, '--follow', @STORE ], \undef, \$kout, \$kerr);
my $seq = 100;
my $killed_at;
for my $round (1 .. 10) {
    batch($W1, {}, map { ev($seq++, $now + $seq, event => 'closed', principal => "k$_") } 1 .. 20);
    next if defined $killed_at;
    # kill it once it is under way, while events keep coming
    my $until = time + 10;
    sleep 0.01 while time < $until && scalar(grep { length } lines_of($g3)) < 20;
    $kh->signal('KILL');
    eval { $kh->finish };
    $killed_at = scalar grep { length } lines_of($g3);
}
ok($killed_at >= 20 && $killed_at < scalar(stream_ids()),
   "export --follow killed (-9) half way: $killed_at of " . scalar(stream_ids())
   . ' lines');
$r = audit('export', '--group', 'g3', '--out', $g3, '--batch', 7);
is($r->{rc}, 0, 'export resumed: exit 0') or diag($r->{stderr});
%n = ();
my $bad = 0;
for (grep { length } lines_of($g3)) { my $o = jdecode($_); $o ? $n{ $o->{id} }++ : $bad++; }
is($bad, 0, 'every line is whole JSON');
is_deeply([ sort keys %n ], [ sort(stream_ids()) ], 'resumed after kill -9: no entry lost');
my @dups = grep { $n{$_} > 1 } keys %n;
ok(@dups <= 1 && !grep({ $n{$_} > 2 } keys %n),
   'at most the one entry written but not acknowledged is there twice (--batch 1): '
   . scalar(@dups));

# a clean stop (SIGTERM) loses and doubles nothing; one export per file
my $g4 = "$dir/g4.jsonl";
my ($tout, $terr) = ('', '');
my $th = IPC::Run::start([ @H, 'audit', 'export', '--group', 'g4', '--out', $g4,
                          '--follow', '--batch', 10, @STORE ], \undef, \$tout, \$terr);
my $want = scalar stream_ids();
my $deadline = time + 20;
sleep 0.1 while time < $deadline && scalar(grep { length } lines_of($g4)) < $want;
$r = audit('export', '--group', 'g4', '--out', $g4);
ok($r->{rc} == 2 && $r->{stderr} =~ /another export is writing it/,
   'a second export on the same file: refused');
batch($W1, {}, ev($seq++, $now + 5000, event => 'closed', principal => 'late'));
$deadline = time + 10;
sleep 0.1 while time < $deadline && scalar(grep { length } lines_of($g4)) < $want + 1;
$th->signal('TERM');
my $t_stop = time;
eval { $th->finish };
ok(time - $t_stop < 5, 'export --follow stops on SIGTERM');
is($th->result(0), 0, 'with exit 0');
like($tout, qr/^exported ${\ ($want + 1)} events/, 'and its summary');
$r = audit('export', '--group', 'g4', '--out', $g4);
like($r->{stdout}, qr/^exported 0 events/, 'restarted: nothing left');
%n = ();
$n{ jdecode($_)->{id} }++ for grep { length } lines_of($g4);
is_deeply([ sort keys %n ], [ sort(stream_ids()) ], 'clean stop: nothing lost');
ok(!grep({ $n{$_} > 1 } keys %n), 'clean stop: nothing twice');

$r = audit('export');
ok($r->{rc} == 2 && $r->{stderr} =~ /--group NAME is required/, 'export without --group: exit 2');
$r = audit('export', '--group', 'x', '--json');
ok($r->{rc} == 2 && $r->{stderr} =~ /--json does not apply/, 'export --json: exit 2');
$r = audit('export', '--group', 'x', '--out', "$dir/no/such/dir/f");
ok($r->{rc} == 2 && $r->{stderr} =~ /No such file/, 'export to a bad path: exit 2');

# --- hoopctl audit tail ------------------------------------------------------

my @last3 = (entries($STREAM))[-3 .. -1];
$r = audit('tail', '--count', 3, '--json');
is_deeply([ map { jdecode($_)->{id} } split /\n/, $r->{stdout} ],
          [ map { $_->{id} } @last3 ], 'tail --count 3 --json: the newest, oldest first');
$r = audit('tail', '--count', 1);
my $lt = $now + 5000;
my $ltime = strftime('%Y-%m-%dT%H:%M:%S', gmtime($lt / 1000)) . sprintf('.%03dZ', $lt % 1000);
is($r->{stdout}, "$ltime  closed  late  -  node=gw1\n", 'tail: the one-line form');
batch($W1, {}, ev($seq++, $t0 + 100, event => 'request', %fetch, count => 3,
                  mask => [[ 'pii-email', 4 ]], approval => 'a-7f3k',
                  reason => 'grant expired', event => 'aggregate'));
$r = audit('tail', '--count', 1);
my $ttime = strftime('%Y-%m-%dT%H:%M:%S', gmtime(($t0 + 100) / 1000))
    . sprintf('.%03dZ', ($t0 + 100) % 1000);
is($r->{stdout}, "$ttime  aggregate  alice  127.0.0.1:5001  Fetch v12  topic:orders  read allow"
   . "  node=gw1  groups=[\"analysts\"]  auth=SCRAM-SHA-256  client_id=console-consumer"
   . "  software=apache-kafka-java/4.1.1  partitions=[0,1]  records=120  bytes=48211"
   . "  reason=\"grant expired\"  rule=analysts-read-orders  policy_version=12  count=3"
   . "  mask=[[\"pii-email\",4]]  approval=a-7f3k\n", 'tail: a request, all of it on one line');

my ($fout, $ferr) = ('', '');
my $fh = IPC::Run::start([ @H, 'audit', 'tail', '--count', 1, '--follow', @STORE ],
                         \undef, \$fout, \$ferr);
$deadline = time + 10;
$fh->pump_nb, sleep 0.05 while time < $deadline && $fout !~ /aggregate/;
batch($W1, {}, ev($seq++, $now + 6000, event => 'closed', principal => 'followed'));
$fh->pump_nb, sleep 0.05 while time < $deadline && $fout !~ /followed/;
$fh->signal('TERM');
eval { $fh->finish };
like($fout, qr/aggregate.*\n.*closed  followed/, 'tail --follow: new events as they come');
is($fh->result(0), 0, 'tail --follow: exit 0 on SIGTERM');

$r = audit('tail', '--stream', 'no-such-stream');
is_deeply([ $r->{rc}, $r->{stdout} ], [ 0, '' ], 'tail of an empty stream: nothing');

# --- the script and hoopctl: session recording -------------------------------

sub hoopctl_time {
    my ($ms) = @_;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime(int($ms / 1000))) . sprintf('.%03dZ', $ms % 1000);
}

# record events go to P audit:session:<sid>, not to the main stream; the
# session is indexed in P audit:sessions (score: its first event's ms) and
# listed from P audit:sessions:<sid>; its closed event ends its stream
{
    my $PS = "${PREFIX}rec:";
    my %o = (prefix => $PS, stream => "${PS}audit");
    my @PSTORE = ('--redis', "127.0.0.1:$port", '--prefix', $PS);
    my $ts = $now - 60_000;
    my %who = (principal => 'alice', auth => 'PLAIN', client => '127.0.0.1:5001',
               client_id => 'rdkafka', software => 'librdkafka/2.0.2');
    my @produce = (api => 'Produce', api_key => 0, api_version => 9, correlation_id => 4);
    my @rb = (
        ev(1, $ts, event => 'record', sid => 'gw1-s1', %who, @produce, dir => 'request',
           size => 120, checks => [[ 'topic', 'orders', 'write', 'allow' ]]),
        ev(2, $ts + 1, event => 'request', sid => 'gw1-s1', %who, @produce,
           resource_type => 'topic', resource => 'orders', operation => 'write',
           decision => 'allow', rule => 'r1'),
        ev(3, $ts + 7, event => 'record', sid => 'gw1-s1', %who, @produce, dir => 'response',
           size => 60),
        ev(4, $ts + 8, event => 'record', sid => 'gw1-s2', %who, principal => 'bob',
           api => 'Metadata', api_key => 3, api_version => 12, correlation_id => 1,
           dir => 'request', size => 20, payload => 'AAECAwQFBgcICQoLDA0ODxAREhM=',
           checks => [[ 'topic', 'orders', 'describe', 'allow' ],
                      [ 'topic', 'pii', 'describe', 'deny' ]],
           mask => [[ 'pii-email', 2 ]]),
        ev(5, $ts + 9, event => 'record', sid => 'gw1-s2', %who, principal => 'bob',
           api => 'Metadata', api_key => 3, api_version => 12, correlation_id => 1,
           dir => 'response', size => 4, payload => 'not base64!', local => JSON::PP::true),
        ev(6, $ts + 20, event => 'closed', sid => 'gw1-s1', %who, bytes_in => 300,
           bytes_out => 400, requests => 3, duration_ms => 21),
        ev(7, $ts + 21, event => 'closed', sid => 'gw1-s3', %who, principal => 'carol'),
        # no sid: the event cannot be filed under a session, so it stays
        ev(8, $ts + 22, event => 'record', sid => undef, dir => 'request', size => 1),
    );
    $res = batch('gwrec:1:1', \%o, @rb);
    is_deeply($res, [8, 0], 'record batch: 8 applied');
    my @m = entries("${PS}audit");
    is_deeply([ map { [ $_->{h}{seq}, $_->{h}{event} ] } @m ],
              [ [2, 'request'], [6, 'closed'], [7, 'closed'], [8, 'record'] ],
              'the main stream: the decision and the closed events; a record event '
              . 'only without a sid');
    my @s1 = entries("${PS}audit:session:gw1-s1");
    is_deeply([ map { $_->{id} } @s1 ], [ "$ts-0", ($ts + 7) . '-0', ($ts + 20) . '-0' ],
              'session stream: ids are the gateway times');
    is_deeply([ keys_of($s1[0]) ],
              [qw(v seq ts node sid event principal auth client client_id software api
                  api_key api_version correlation_id checks dir size)],
              'session stream: the fields in the order of the main stream');
    is_deeply([ @{ $s1[0]{h} }{qw(seq event dir size checks)} ],
              [ 1, 'record', 'request', 120, '[["topic","orders","write","allow"]]' ],
              'session stream: the request record as the main stream would hold it');
    is_deeply([ map { $_->{h}{event} } @s1[1, 2] ], [ 'record', 'closed' ],
              'session stream: its response, then the session\'s closed event');
    is_deeply($s1[2]{f}, (grep { $_->{h}{seq} == 6 } @m)[0]{f},
              'the closed event: the same entry as in the main stream');
    is_deeply([ map { $_->{h}{payload} } entries("${PS}audit:session:gw1-s2") ],
              [ 'AAECAwQFBgcICQoLDA0ODxAREhM=', 'not base64!' ], 'payloads kept as sent');
    is(redis('EXISTS', "${PS}audit:session:gw1-s3"), 0,
       'a session that was not recorded: no session stream for its closed event');
    is_deeply(redis('ZRANGE', "${PS}audit:sessions", 0, -1, 'WITHSCORES'),
              [ 'gw1-s1', $ts, 'gw1-s2', $ts + 8 ],
              'P audit:sessions: the sessions by the ms of their first event');
    my %h1 = @{ redis('HGETALL', "${PS}audit:sessions:gw1-s1") };
    is_deeply(\%h1, { first => $ts, last => $ts + 20, requests => 1, responses => 1,
                      bytes => 180, entries => 3, record => 'summary', node => 'gw1',
                      %who, closed => $ts + 20, bytes_in => 300, bytes_out => 400,
                      duration_ms => 21 },
              'P audit:sessions:<sid>: identity, times, counts, mode, the end');
    is(redis('HGET', "${PS}audit:sessions:gw1-s2", 'record'), 'payloads',
       'a session with payloads: record payloads');
    is(redis('TTL', "${PS}audit:session:gw1-s1"), -1, 'retention_s 0: session keys do not expire');

    $res = batch('gwrec:1:1', \%o, @rb);
    is_deeply($res, [0, 8], 'the batch again: all skipped');
    is(redis('XLEN', "${PS}audit:session:gw1-s1"), 3, 'nothing twice in the session stream');
    is(redis('HGET', "${PS}audit:sessions:gw1-s1", 'entries'), 3, 'nor counted twice');

    # a later batch: the session goes on, then closes
    $res = batch('gwrec:1:1', \%o,
                 ev(9, $ts + 30, event => 'record', sid => 'gw1-s2', %who, principal => 'bob',
                    dir => 'request', api => 'Fetch', api_key => 1, api_version => 12,
                    correlation_id => 2, size => 50, checks => [[ 'topic', 'orders', 'read', 'allow' ]]),
                 ev(10, $ts + 40, event => 'closed', sid => 'gw1-s2', %who, principal => 'bob',
                    bytes_in => 70, bytes_out => 90, requests => 2, duration_ms => 32));
    is_deeply($res, [2, 0], 'a later batch of session gw1-s2');
    is_deeply([ map { $_->{h}{seq} } entries("${PS}audit:session:gw1-s2") ], [4, 5, 9, 10],
              'its closed event ends its stream (a session of an earlier batch)');
    my %h2 = @{ redis('HGETALL', "${PS}audit:sessions:gw1-s2") };
    is_deeply([ @h2{qw(first last requests responses bytes entries record closed)} ],
              [ $ts + 8, $ts + 40, 2, 1, 74, 4, 'payloads', $ts + 40 ],
              'its hash adds up the batches');
    is(redis('ZSCORE', "${PS}audit:sessions", 'gw1-s2'), $ts + 8, 'its score stays its start');

    # hoopctl sessions list
    my $t = sub { hoopctl_time($_[0]) };
    $r = hoopctl('sessions', 'list', @PSTORE);
    is($r->{stdout}, "2 recorded sessions\n"
       . "SESSION  START                     END                       PRINCIPAL  CLIENT          REQUESTS  BYTES  RECORD\n"
       . "gw1-s1   " . $t->($ts) . "  " . $t->($ts + 20) . "  alice      127.0.0.1:5001  1         180    summary\n"
       . "gw1-s2   " . $t->($ts + 8) . "  " . $t->($ts + 40) . "  bob        127.0.0.1:5001  2         74     payloads\n",
       'sessions list: the table') or diag($r->{stderr});
    $r = hoopctl('sessions', 'list', '--json', @PSTORE);
    is_deeply(jdecode($r->{stdout}),
              [ { sid => 'gw1-s1', node => 'gw1', %who, record => 'summary', first => $ts,
                  last => $ts + 20, closed => $ts + 20, requests => 1, responses => 1,
                  bytes => 180, entries => 3, bytes_in => 300, bytes_out => 400,
                  duration_ms => 21 },
                { sid => 'gw1-s2', node => 'gw1', %who, principal => 'bob',
                  record => 'payloads', first => $ts + 8, last => $ts + 40,
                  closed => $ts + 40, requests => 2, responses => 1, bytes => 74,
                  entries => 4, bytes_in => 70, bytes_out => 90, duration_ms => 32 } ],
              'sessions list --json: every field, typed');
    is_deeply([ $r->{stdout} =~ /^    "(\w+)"/mg ],
              [ (qw(sid node principal auth client client_id software record first last
                    closed requests responses bytes entries bytes_in bytes_out
                    duration_ms)) x 2 ], 'sessions list --json: in a fixed order');
    $r = hoopctl('sessions', 'list', '--principal', 'bob', @PSTORE);
    like($r->{stdout}, qr/\A1 recorded session of bob\n.*\ngw1-s2 [^\n]*\n\z/s,
         'sessions list --principal bob');
    my $since = hoopctl_time($ts + 5);
    $r = hoopctl('sessions', 'list', '--since', $since, '--json', @PSTORE);
    is_deeply([ map { $_->{sid} } @{ jdecode($r->{stdout}) // [] } ], [ 'gw1-s2' ],
              'sessions list --since: by start time');
    $r = hoopctl('sessions', 'list', '--until', $since, @PSTORE);
    like($r->{stdout}, qr/\A1 recorded session started from 1970-01-01T00:00:00.000Z to \Q$since\E\n/,
         'sessions list --until: by start time, said in the summary');
    $r = hoopctl('sessions', 'list', '--since', 'now', '--until', '1h', @PSTORE);
    ok($r->{rc} == 2 && $r->{stderr} =~ /--since now is after --until 1h/, '--since after --until: exit 2');

    # hoopctl sessions show
    $r = hoopctl('sessions', 'show', 'gw1-s1', @PSTORE);
    is($r->{stdout},
       "session gw1-s1: principal alice (PLAIN), client 127.0.0.1:5001, client_id rdkafka, software librdkafka/2.0.2\n"
       . "recorded (summary) from " . $t->($ts) . " to " . $t->($ts + 20) . ", closed; 3 entries\n"
       . "+MS  DIR       API         CORRELATION  SIZE  CHECKS\n"
       . "+0   request   Produce v9  4            120   topic:orders write allow\n"
       . "+7   response  Produce v9  4            60    -\n"
       . "+20  closed    -           -            -     bytes_in=300  bytes_out=400  requests=3  duration_ms=21\n",
       'sessions show: the timeline') or diag($r->{stderr});
    $r = hoopctl('sessions', 'show', 'gw1-s2', '--payloads', @PSTORE);
    is($r->{stdout},
       "session gw1-s2: principal bob (PLAIN), client 127.0.0.1:5001, client_id rdkafka, software librdkafka/2.0.2\n"
       . "recorded (payloads) from " . $t->($ts + 8) . " to " . $t->($ts + 40) . ", closed; 4 entries\n"
       . "+MS  DIR       API           CORRELATION  SIZE  CHECKS\n"
       . "+0   request   Metadata v12  1            20    topic:orders describe allow, topic:pii describe deny  mask=[[\"pii-email\",2]]\n"
       . "    payload, 20 bytes:\n"
       . "    000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|\n"
       . "    000010  10 11 12 13                                       |....|\n"
       . "+1   response  Metadata v12  1            4     (answered by the gateway)\n"
       . "    payload (not base64): not base64!\n"
       . "+22  request   Fetch v12     2            50    topic:orders read allow\n"
       . "+32  closed    -             -            -     bytes_in=70  bytes_out=90  requests=2  duration_ms=32\n",
       'sessions show --payloads: the frames as hex dumps') or diag($r->{stderr});
    $r = hoopctl('sessions', 'show', 'gw1-s2', @PSTORE);
    unlike($r->{stdout}, qr/^    payload/m, 'sessions show: no dump without --payloads');
    $r = hoopctl('sessions', 'show', 'gw1-s2', '--json', @PSTORE);
    my $tl = jdecode($r->{stdout}) // [];
    is_deeply([ map { [ $_->{offset_ms}, $_->{dir} // $_->{event}, exists $_->{payload} ] } @$tl ],
              [ [0, 'request', ''], [1, 'response', ''], [22, 'request', ''], [32, 'closed', ''] ],
              'sessions show --json: the entries with offset_ms, no payload');
    is_deeply($tl->[0]{checks}, [[ 'topic', 'orders', 'describe', 'allow' ],
                                 [ 'topic', 'pii', 'describe', 'deny' ]], 'and typed');
    $r = hoopctl('sessions', 'show', 'gw1-s3', @PSTORE);
    is_deeply([ $r->{rc}, $r->{stdout} ], [ 1, '' ], 'sessions show of a session not recorded: exit 1');
    like($r->{stderr}, qr/^hoopctl: no recorded session "gw1-s3"/, 'and why');
    $r = hoopctl('sessions', 'show', 'gw1-s1', 'gw1-s2', @PSTORE);
    ok($r->{rc} == 2 && $r->{stderr} =~ /usage: hoopctl sessions show SID/, 'show of two: exit 2');
    $r = hoopctl('sessions', 'show', 'gw1-s1', '--since', '1h', @PSTORE);
    ok($r->{rc} == 2 && $r->{stderr} =~ /sessions show: --since does not apply/, 'show --since: exit 2');
    $r = hoopctl('sessions', 'list', '--bogus', @PSTORE);
    ok($r->{rc} == 2 && $r->{stderr} =~ /unknown option "--bogus"/, 'an unknown option: exit 2');
    $r = hoopctl('sessions', 'help');
    is_deeply([ $r->{rc}, $r->{stdout} =~ /^  hoopctl (sessions \w+)/mg ],
              [ 0, 'sessions list', 'sessions show' ], 'sessions help');

    # a session key of another type: the batch stops there, and is applied
    # once when sent again
    my $PW = "${PREFIX}recfail:";
    redis('SET', "${PW}audit:session:gw1-x", 'not a stream');
    $err = eval { batch('gwrf:1:1', { prefix => $PW, stream => "${PW}audit" },
                        ev(1, $now, event => 'closed', sid => 'gw1-y'),
                        ev(2, $now, event => 'record', sid => 'gw1-x', dir => 'request'),
                        ev(3, $now, event => 'closed', sid => 'gw1-x')); 1 } ? '' : $@;
    like($err, qr/WRONGTYPE.*\(1 of 3 events applied, 0 skipped\)/,
         'a session key of another type: error reply saying how far it got');
    redis('DEL', "${PW}audit:session:gw1-x");
    $res = batch('gwrf:1:1', { prefix => $PW, stream => "${PW}audit" },
                 ev(1, $now, event => 'closed', sid => 'gw1-y'),
                 ev(2, $now, event => 'record', sid => 'gw1-x', dir => 'request'),
                 ev(3, $now, event => 'closed', sid => 'gw1-x'));
    is_deeply($res, [2, 1], 'sent again: the rest applied once');
    is_deeply([ map { $_->{h}{seq} } entries("${PW}audit:session:gw1-x") ], [2, 3],
              'the session stream has each once');

    # retention: session keys expire, sessions that began before the period
    # are trimmed (the part before it) or deleted (nothing left), also those
    # of earlier batches
    my $PT = "${PREFIX}recret:";
    my %ot = (prefix => $PT, stream => "${PT}audit");
    my $old = $now - 7200_000;
    batch('gwt:1:1', \%ot,
          ev(1, $old, event => 'record', sid => 'gw1-stale', dir => 'request'),
          ev(2, $old + 1, event => 'record', sid => 'gw1-long', dir => 'request'),
          ev(3, $now - 10_000, event => 'record', sid => 'gw1-long', dir => 'response'),
          ev(4, $old + 2, event => 'record', sid => 'gw1-idle', dir => 'request'),
          ev(5, $now - 9000, event => 'record', sid => 'gw1-idle', dir => 'response'));
    is(redis('ZCARD', "${PT}audit:sessions"), 3, 'retention 0: old sessions stay');
    $res = batch('gwt:1:1', { %ot, retention => 3600 },
                 ev(6, $now - 1000, event => 'record', sid => 'gw1-new', dir => 'request'),
                 ev(7, $now - 900, event => 'record', sid => 'gw1-long', dir => 'request'),
                 ev(8, $old + 3, event => 'record', sid => 'gw1-replayed', dir => 'request'));
    is_deeply($res, [3, 0], 'retention 1 h: a batch');
    is_deeply({ @{ redis('ZRANGE', "${PT}audit:sessions", 0, -1, 'WITHSCORES') } },
              { 'gw1-new' => $now - 1000, 'gw1-long' => $now - 10_000,
                'gw1-idle' => $now - 9000 },
              'the index: sessions that began 2 h ago now start with their first kept entry; '
              . 'those with nothing left are gone');
    is_deeply([ map { $_->{h}{seq} } entries("${PT}audit:session:gw1-long") ], [3, 7],
              'a session written now: its entries before the period trimmed');
    is_deeply([ map { $_->{h}{seq} } entries("${PT}audit:session:gw1-idle") ], [5],
              'a session of an earlier batch too');
    is(redis('HGET', "${PT}audit:sessions:gw1-idle", 'first'), $now - 9000,
       'and its hash says where it starts now');
    is_deeply([ map { redis('EXISTS', "${PT}audit:$_") } 'session:gw1-stale', 'sessions:gw1-stale',
                'session:gw1-replayed', 'sessions:gw1-replayed' ], [0, 0, 0, 0],
              'sessions with nothing in the period: stream and hash deleted');
    my @ttl = map { redis('TTL', "${PT}audit:$_") } 'session:gw1-new', 'sessions:gw1-new';
    ok(!grep({ !($_ > 3500 && $_ <= 3600) } @ttl), "session keys expire after retention_s (@ttl s)");

    # garbage: mutated record events never fail a batch, and each applied
    # one is in one place (the main stream without a sid, else its session's)
    srand(92);
    my $PG = "${PREFIX}recfz:";
    my $rt = $json->encode(ev(1, $now, event => 'record', sid => 'gw1-fz', dir => 'request',
                              size => 10, payload => 'AAAA',
                              checks => [[ 'topic', 'orders', 'write', 'allow' ]]));
    my ($g_ok, $g_applied) = (1, 0);
    for my $round (1 .. 20) {
        my @args;
        for my $i (1 .. 10) {
            my $t = $rt;
            $t =~ s/"seq":1/'"seq":' . ($round * 10 + $i)/e;
            for (1 .. 1 + int(rand(4))) {
                my $pos = int(rand(length $t));
                my $op = int(rand(3));
                if ($op == 0) { substr($t, $pos, 1, chr(int(rand(256)))); }
                elsif ($op == 1) { substr($t, $pos) = ''; }
                else { substr($t, $pos, 0, substr($t, int(rand(length $t)), 5)); }
            }
            push @args, $t;
        }
        my $x = eval { batch('recfz:1:1', { prefix => $PG, stream => "${PG}audit",
                                             retention => 3600, maxlen => 1000 }, @args) };
        if (!$x || $x->[0] + $x->[1] != 10) {
            $g_ok = 0;
            diag("round $round: " . ($@ || "@$x"));
            last;
        }
        $g_applied += $x->[0];
    }
    ok($g_ok, '200 mutated record events: no batch failed');
    my $g_n = redis('XLEN', "${PG}audit");
    for my $k (@{ redis('KEYS', "${PG}audit:session:*") }) {
        $g_n += scalar grep { ($_->{h}{event} // '') ne 'closed' } entries($k);
    }
    is($g_n, $g_applied, "and each applied one ($g_applied) is in one stream");

    # maxlen: at most that many sessions (the oldest go first)
    my $PX2 = "${PREFIX}recmax:";
    for my $i (1 .. 5) {
        batch('gwx2:1:1', { prefix => $PX2, stream => "${PX2}audit", maxlen => 3 },
              ev($i, $now - 10_000 + $i, event => 'record', sid => "gw1-m$i", dir => 'request'));
    }
    is_deeply(redis('ZRANGE', "${PX2}audit:sessions", 0, -1), [ 'gw1-m3', 'gw1-m4', 'gw1-m5' ],
              'maxlen 3: the 3 newest sessions are kept');
    is_deeply([ map { redis('EXISTS', "${PX2}audit:session:gw1-m$_") } 1 .. 5 ], [0, 0, 1, 1, 1],
              'and the streams of the others deleted');
}

# --- under the sanitizers ----------------------------------------------------

SKIP: {
    skip 'HOOPCTL set: the run is under a checker already', 1 if $ENV{HOOPCTL};
    my $asan = "$repo/build/tools/hoopctl-asan";
    my $m = run_cmd(cmd => [ 'make', '-s', '-C', "$repo/tools", 'hoopctl-asan' ],
                    timeout => 300);
    skip 'no hoopctl-asan', 1 unless $m->{rc} == 0 && -x $asan;
    my $ok = 1;
    for my $args ([ 'who', '--topic', 'orders', '--date', $yesterday ],
                  [ 'what', '--principal', 'alice', '--json' ],
                  [ 'denied', '--since', $yesterday ],
                  [ 'export', '--group', 'asan', '--out', "$dir/asan.jsonl" ],
                  [ 'tail', '--count', 50 ]) {
        my $x = run_cmd(cmd => [ $asan, 'audit', @$args, @STORE ], timeout => 120,
                        env => { ASAN_OPTIONS => 'detect_leaks=1:abort_on_error=1' });
        if ($x->{rc} != 0) { $ok = 0; diag("@$args: rc $x->{rc}\n$x->{stderr}"); }
    }
    ok($ok, 'who, what, denied, export, tail under ASan/UBSan/LSan: clean');
}

# --- clean up ----------------------------------------------------------------

my $cursor = 0;
do {
    my $s = redis('SCAN', $cursor, 'MATCH', "$PREFIX*", 'COUNT', 1000);
    $cursor = $s->[0];
    redis('DEL', @{ $s->[1] }) if @{ $s->[1] };
} while ($cursor ne '0');

Test::More::done_testing();
