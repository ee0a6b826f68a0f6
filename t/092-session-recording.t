# Session recording end to end (issue 5; docs/audit.md "Session recording",
# docs/policy.md `record:`): the gateway with hoop_audit on, a Redis of the
# test's own, the real broker and real clients (librdkafka through kcat,
# authenticated by SASL PLAIN at the gateway).  One grant records its
# sessions as summaries (alice), one with the payloads (bob), one not at all
# (carol).  Each of them produces known records to a topic of their own and
# consumes them again; then:
#
#  - `hoopctl sessions list` shows exactly alice's and bob's sessions, with
#    the right principal, client and record mode, and --principal, --since
#    and --until select among them;
#  - `hoopctl sessions show` of alice's sessions has, for every ApiKey the
#    client used (Metadata, Produce, Fetch, ...), each request followed by
#    its response (same correlation id), the topic and the decisions, and
#    no payload; the timeline ends with the session's "closed" event;
#  - `show --payloads` of bob's sessions holds the produced record values in
#    the Produce request frames and in the Fetch response frames, both in
#    the JSON (base64) and in the hex dump of the table;
#  - the main stream holds no `record` event (it stays the decision trail)
#    and carol's sessions have no session stream; the session keys expire
#    (hoop_audit_retention) and the index scores are the sessions' starts.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat, the module
# (make).  HOOP_TEST_REQUIRE_ALL=1: a missing one fails instead of skipping.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';

{
    my @missing;
    push @missing, 'Kafka (t/bin/kafka-cluster start)'
        unless $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
    push @missing, 'the module (make)' unless hoop_module_available();
    for my $bin (qw(kcat redis-server redis-cli)) {
        push @missing, $bin unless grep { -x "$_/$bin" } split /:/, $ENV{PATH};
    }
    if (@missing) {
        plan skip_all => "requires @missing" unless $ENV{HOOP_TEST_REQUIRE_ALL};
        BAIL_OUT("t/092: missing @missing");
    }
}

my $DIR = "$repo/build/t-sessions-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t092r$$";
my $PREFIX = "t092:$$:" . int(time) . ':';
my $NODE = 'gw-t092';
my $RETENTION = 7200;
my %TOPIC = map { $_ => "t092-$_-$$" } qw(alice bob carol);
my %VALUES = map { my $u = $_; $u => [ map { "$u-value-$$-$_-\x{2603}ok" } 1 .. 3 ] }
    qw(alice bob carol);
for my $vals (values %VALUES) { utf8::encode($_) for @$vals; }

# --- Redis of our own, the gateway --------------------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME && $RPORT;
}

sub rcli {
    my $r = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', @_ ], timeout => 10);
    chomp(my $out = $r->{stdout} // '');
    return $out;
}

# a stream's entries as { id, f => [fields], h => {field => value} }
# (redis-cli --raw prints an entry as its id, then field and value lines;
# values are single lines here: the tests write none with a newline, and
# payloads are base64)
sub xrange {
    my ($key) = @_;
    my @lines = split /\n/, rcli('XRANGE', $key, '-', '+');
    my (@ev, $cur, $k);
    for my $l (@lines) {
        if (!defined $k && $l =~ /^\d{13}-\d+$/
            && (!$cur || @{ $cur->{f} } % 2 == 0)) {
            push @ev, $cur = { id => $l, f => [], h => {} };
            next;
        }
        next unless $cur;
        push @{ $cur->{f} }, $l;
        if (defined $k) { $cur->{h}{$k} = $l; undef $k; } else { $k = $l; }
    }
    return @ev;
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $t = time + $timeout;
    while (time < $t) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.2;
    }
    return $cond->();
}

open my $cf, '>', "$DIR/credentials.jsonl" or die $!;
for my $u (qw(alice bob carol)) {
    my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    print $cf $line;
}
close $cf;

my %RECORD = (alice => "    record: summary\n", bob => "    record: payloads\n",
              carol => '');
spew("$DIR/policy.yaml", "policy_version: 1\ndefault: deny\n"
     . "description: t/092-session-recording.t\ngrants:\n" . join('', map { <<"YAML" } qw(alice bob carol)));
  - id: $_-topic
    principals: [ "User:$_" ]
    resources:
      - { type: topic, name: "$TOPIC{$_}", match: literal }
    operations: [ read, write, describe ]
$RECORD{$_}    reviewed_by: dora
    reviewed_at: 2026-11-01
    reason: "T092"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 3s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_node_name $NODE;\n"
                     . "hoop_audit_retention ${RETENTION}s;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
my $boot = "127.0.0.1:$ng->{port}";

sub as_user {
    my ($u) = @_;
    return ('-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN',
            '-X', "sasl.username=$u", '-X', "sasl.password=$u-secret");
}

# --- the scripted sessions ------------------------------------------------------

my $t_start = int(time * 1000);

for my $u (qw(alice bob carol)) {
    kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC{$u});
    my $in = join '', map { "k$_:$VALUES{$u}[$_ - 1]\n" } 1 .. 3;
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC{$u}, '-K:',
                             '-X', 'linger.ms=0', as_user($u) ],
                    stdin => $in, timeout => 60);
    is($p->{rc}, 0, "$u produces 3 records") or diag($p->{stderr});
    my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', $TOPIC{$u}, '-o', 'beginning',
                             '-e', '-q', '-f', '%k=%s\n', as_user($u) ], timeout => 60);
    is($c->{stdout}, join('', map { "k$_=$VALUES{$u}[$_ - 1]\n" } 1 .. 3),
       "$u consumes them") or diag($c->{stderr});
}

my $t_end = int(time * 1000);

# every connection is closed: wait for the "closed" events of all of them
# (kcat: a bootstrap connection and one to the broker per run, at least
# one per run), until their number stays the same for a second
my ($nclosed, $stable) = (-1, 0);
my @main = @{ wait_for(sub {
    my @e = xrange("${PREFIX}audit");
    my %closed;
    $closed{ $_->{h}{principal} // '' }++ for grep { $_->{h}{event} eq 'closed' } @e;
    my $n = 0;
    $n += $_ for values %closed;
    $stable = $n == $nclosed ? $stable + 1 : 0;
    $nclosed = $n;
    return (grep { ($closed{$_} // 0) >= 2 } qw(alice bob carol)) == 3 && $stable >= 5
        ? \@e : undef;
}, 30) // [] };
ok(@main, 'the main stream has the closed events of every user')
    or diag(hoop_error_log($ng));

my %sids;     # principal -> { sid => 1 } from the main stream
for my $e (grep { $_->{h}{event} eq 'closed' } @main) {
    $sids{ $e->{h}{principal} // '' }{ $e->{h}{sid} } = 1;
}

# --- what is where in Redis ------------------------------------------------------

is(scalar(grep { $_->{h}{event} eq 'record' } @main), 0,
   'the main stream has no record event');
ok((grep { $_->{h}{event} =~ /^(request|aggregate)$/ && ($_->{h}{principal} // '') eq 'alice' } @main),
   'and still the decisions of the recorded sessions');

my %indexed = split /\n/, rcli('ZRANGE', "${PREFIX}audit:sessions", 0, -1, 'WITHSCORES');
ok(%indexed, 'P audit:sessions indexes sessions');
my %carol_streams = map { $_ => rcli('EXISTS', "${PREFIX}audit:session:$_") } keys %{ $sids{carol} };
ok(keys(%carol_streams) >= 2 && !grep({ $_ } values %carol_streams),
   'carol\'s sessions (no record) have no session stream');
ok(!grep({ $indexed{$_} } keys %{ $sids{carol} }), 'nor an index entry');

my $ttl_ok = 1;
for my $sid (keys %indexed) {
    for my $key ("${PREFIX}audit:session:$sid", "${PREFIX}audit:sessions:$sid") {
        my $ttl = rcli('TTL', $key);
        unless ($ttl > $RETENTION - 120 && $ttl <= $RETENTION) {
            $ttl_ok = 0;
            diag("TTL $key: $ttl");
        }
    }
}
ok($ttl_ok && %indexed, "session streams and hashes expire after hoop_audit_retention ($RETENTION s)");
is(rcli('TYPE', "${PREFIX}audit:sessions"), 'zset', 'the index is a sorted set');

my $first_ok = 1;
for my $sid (keys %indexed) {
    my ($first) = xrange("${PREFIX}audit:session:$sid");
    $first_ok = 0, diag("$sid: $indexed{$sid} vs $first->{h}{ts}")
        unless $first && $first->{h}{ts} == $indexed{$sid};
}
ok($first_ok, 'index scores: the ms of each session\'s first recorded event');

# --- hoopctl sessions list ----------------------------------------------------------

my $HOOPCTL = "$repo/build/tools/hoopctl";
my @hc = ('--redis', "127.0.0.1:$RPORT", '--prefix', $PREFIX);
sub hoopctl { return run_cmd(cmd => [ $HOOPCTL, @_, @hc ], timeout => 30); }
sub jdecode { my $x = eval { JSON::PP->new->decode($_[0]) }; return $x; }

my $l = hoopctl('sessions', 'list', '--json');
is($l->{rc}, 0, 'sessions list --json: exit 0') or diag($l->{stderr});
my $list = jdecode($l->{stdout}) // [];
my %by_sid = map { $_->{sid} => $_ } @$list;
is_deeply([ sort keys %by_sid ], [ sort keys %indexed ], 'list: the indexed sessions');
is_deeply([ sort keys %{ { map { $_->{principal} => 1 } @$list } } ], [qw(alice bob)],
          'list: exactly alice\'s and bob\'s sessions, not carol\'s');
is_deeply([ sort grep { $by_sid{$_}{principal} eq 'alice' } keys %by_sid ],
          [ sort keys %{ $sids{alice} } ], 'list: every connection of alice');
is_deeply([ sort grep { $by_sid{$_}{principal} eq 'bob' } keys %by_sid ],
          [ sort keys %{ $sids{bob} } ], 'list: every connection of bob');
ok(!grep({ $_->{record} ne ($_->{principal} eq 'alice' ? 'summary' : 'payloads') } @$list),
   'list: record mode summary for alice, payloads for bob')
    or diag(explain($list));
ok(!grep({ !($_->{client} =~ /^127\.0\.0\.1:\d+$/ && $_->{node} eq $NODE
             && $_->{auth} eq 'PLAIN' && $_->{requests} > 0 && $_->{responses} > 0
             && $_->{bytes} > 0 && $_->{first} >= $t_start - 1000
             && $_->{closed} >= $_->{first} && $_->{closed} <= $t_end + 30000
             && $_->{bytes_in} > 0 && $_->{bytes_out} > 0) } @$list),
   'list: client, node, auth, counts, start and end of each')
    or diag(explain($list));

$l = hoopctl('sessions', 'list');
my @rows = split /\n/, $l->{stdout};
is(shift @rows, scalar(@$list) . ' recorded sessions', 'list: the summary line');
like(shift(@rows) // '', qr/^SESSION +START +END +PRINCIPAL +CLIENT +REQUESTS +BYTES +RECORD$/,
     'list: the table heads');
is_deeply([ sort map { (split ' ')[0] } @rows ], [ sort keys %by_sid ], 'list: one row per session');
ok(!grep({ my @c = split ' '; !(@c == 8 && $c[1] =~ /^\d{4}-\d\d-\d\dT[\d:.]+Z$/
                                && $c[2] =~ /Z$/ && $c[3] eq $by_sid{$c[0]}{principal}
                                && $c[4] eq $by_sid{$c[0]}{client}
                                && $c[5] == $by_sid{$c[0]}{requests}
                                && $c[6] == $by_sid{$c[0]}{bytes}
                                && $c[7] eq $by_sid{$c[0]}{record}) } @rows),
   'list: rows with the same values as --json') or diag($l->{stdout});
unlike($l->{stdout}, qr/carol/, 'list: carol nowhere');

$l = hoopctl('sessions', 'list', '--principal', 'bob', '--json');
is_deeply([ sort map { $_->{sid} } @{ jdecode($l->{stdout}) // [] } ],
          [ sort keys %{ $sids{bob} } ], 'list --principal bob: bob\'s sessions only');
$l = hoopctl('sessions', 'list', '--principal', 'carol');
is($l->{stdout}, "0 recorded sessions of carol\n", 'list --principal carol: none');
$l = hoopctl('sessions', 'list', '--since', '30m', '--json');
is(scalar @{ jdecode($l->{stdout}) // [] }, scalar @$list, 'list --since 30m: all of them');
$l = hoopctl('sessions', 'list', '--until', '1d', '--json');
is_deeply(jdecode($l->{stdout}), [], 'list --until 1d: none started a day ago');
$l = hoopctl('sessions', 'list', '--since', 'yesterday');
ok($l->{rc} == 2 && $l->{stderr} =~ /bad --since "yesterday"/, 'list --since yesterday: exit 2');

# --- hoopctl sessions show: alice (summary) -------------------------------------------

# the entries of alice's sessions, timeline after timeline
my (@alice, %alice_ok);
for my $sid (sort keys %{ $sids{alice} }) {
    my $s = hoopctl('sessions', 'show', $sid, '--json');
    my $tl = jdecode($s->{stdout});
    ok($s->{rc} == 0 && ref $tl eq 'ARRAY' && @$tl, "show $sid --json") or diag($s->{stderr});
    $tl //= [];
    is(scalar @$tl, scalar(xrange("${PREFIX}audit:session:$sid")),
       "show $sid: every entry of the session stream");
    is($tl->[-1]{event}, 'closed', "show $sid: the timeline ends with the closed event");
    ok(!grep({ exists $_->{payload} } @$tl), "show $sid: no payload (record: summary)");
    is_deeply([ map { $_->{offset_ms} } @$tl ],
              [ map { $_->{ts} - $tl->[0]{ts} } @$tl ], "show $sid: offsets from the start");
    push @alice, [ $sid, $tl ];
}

# each request of a kind, then its response (same correlation id, later);
# only a Fetch may still wait for its answer (a long poll) when the client
# leaves (kcat -e closes as soon as it has read everything)
my %api_seen;
my $pairs_ok = 1;
for my $s (@alice) {
    my ($sid, $tl) = @$s;
    my @rec = grep { $_->{event} eq 'record' } @$tl;
    for my $i (0 .. $#rec) {
        my $q = $rec[$i];
        next unless $q->{dir} eq 'request';
        my ($j) = grep { $rec[$_]{dir} eq 'response'
                         && $rec[$_]{correlation_id} == $q->{correlation_id} } $i + 1 .. $#rec;
        next if !defined $j && $q->{api} eq 'Fetch'
            && !grep { $rec[$_]{dir} eq 'response' && $rec[$_]{api} eq 'Fetch' } $i + 1 .. $#rec;
        if (!defined $j || $rec[$j]{api} ne $q->{api}
            || $rec[$j]{api_version} != $q->{api_version}) {
            $pairs_ok = 0;
            diag("$sid: no response after request $q->{api} #$q->{correlation_id}");
            next;
        }
        push @{ $api_seen{ $q->{api} } }, { request => $q, response => $rec[$j] };
    }
}
ok($pairs_ok, 'alice: every request is followed by its response');
ok($api_seen{$_}, "alice: $_ requests and responses recorded") for qw(Metadata Produce Fetch);

# the checks of the requests of one ApiKey on alice's topic for op
sub checks_of {
    my ($api, $op) = @_;
    my %c;
    for my $p (@{ $api_seen{$api} // [] }) {
        $c{ join ' ', @$_ } = 1 for grep { $_->[0] eq 'topic' && $_->[1] eq $TOPIC{alice}
                                           && $_->[2] eq $op } @{ $p->{request}{checks} // [] };
    }
    return [ sort keys %c ];
}
is_deeply(checks_of('Produce', 'write'), [ "topic $TOPIC{alice} write allow" ],
          'alice: Produce: topic write allow');
is_deeply(checks_of('Fetch', 'read'), [ "topic $TOPIC{alice} read allow" ],
          'alice: Fetch: topic read allow');
is_deeply(checks_of('Metadata', 'describe'), [ "topic $TOPIC{alice} describe allow" ],
          'alice: Metadata: topic describe allow');
ok((grep { $_->{request}{size} > 3 * 20 } @{ $api_seen{Produce} // [] })
   && (grep { $_->{response}{size} > 3 * 20 } @{ $api_seen{Fetch} // [] }),
   'alice: sizes of the frames that carried the records');
is($api_seen{Produce}[0]{request}{principal}, 'alice', 'alice: the record events name her');

# the table form of the session that produced
my ($psid) = map { $_->[0] } grep { grep { ($_->{api} // '') eq 'Produce' } @{ $_->[1] } } @alice;
my $s = hoopctl('sessions', 'show', $psid);
my @tl = split /\n/, $s->{stdout};
like($tl[0] // '', qr/^session \Q$psid\E: principal alice \(PLAIN\), client 127\.0\.0\.1:\d+, client_id \S+, software librdkafka\//,
     'show: who and from where');
like($tl[1] // '', qr/^recorded \(summary\) from \S+Z to \S+Z, closed; \d+ entries$/, 'show: when, and closed');
like($tl[2] // '', qr/^\+MS +DIR +API +CORRELATION +SIZE +CHECKS$/, 'show: the table heads');
my ($pq) = grep { /^\+\d+ +request +Produce v\d+ +\d+ +\d+ +topic:\Q$TOPIC{alice}\E write allow$/ } @tl;
ok($pq, 'show: the Produce request line') or diag($s->{stdout});
my ($pq_i) = grep { $tl[$_] eq ($pq // '') } 0 .. $#tl;
my ($corr) = ($pq // '') =~ /Produce v\d+ +(\d+)/;
ok(defined $corr && (grep { $tl[$_] =~ /^\+\d+ +response +Produce v\d+ +$corr +\d+ +-$/ } $pq_i + 1 .. $#tl),
   'show: its response line after it');
like($tl[-1], qr/^\+\d+ +closed +- +- +- +bytes_in=\d+  bytes_out=\d+  requests=\d+  duration_ms=\d+$/,
     'show: the closed line last');
is(scalar(@tl), 3 + scalar(@{ (grep { $_->[0] eq $psid } @alice)[0][1] }), 'show: one line per entry');
Test::More::note("hoopctl sessions show $psid:\n$s->{stdout}");
$s = hoopctl('sessions', 'show', $psid, '--payloads');
unlike($s->{stdout}, qr/^    payload/m, 'show --payloads of a summary session: no dump');

# --- hoopctl sessions show --payloads: bob ----------------------------------------------

my (%found_json, %found_dump, $bob_nopayload_ok);
$bob_nopayload_ok = 1;
for my $sid (sort keys %{ $sids{bob} }) {
    my $j = jdecode(hoopctl('sessions', 'show', $sid, '--payloads', '--json')->{stdout}) // [];
    for my $ev (grep { defined $_->{payload} } @$j) {
        my $bytes = decode_base64($ev->{payload});
        is(length $bytes, $ev->{size}, "bob $sid: $ev->{dir} $ev->{api} #$ev->{correlation_id}: payload of size bytes")
            if $ev->{api} =~ /^(Produce|Fetch)$/;
        for my $v (@{ $VALUES{bob} }) {
            $found_json{"$ev->{api} $ev->{dir}"}{$v} = 1 if index($bytes, $v) >= 0;
        }
    }
    my $nj = jdecode(hoopctl('sessions', 'show', $sid, '--json')->{stdout}) // [];
    $bob_nopayload_ok = 0 if !@$nj || grep { exists $_->{payload} } @$nj;
    my $t = hoopctl('sessions', 'show', $sid)->{stdout};
    $bob_nopayload_ok = 0 if $t =~ /^    payload/m || $t !~ /^recorded \(payloads\)/m;

    # the hex dumps of the table, back to bytes, per entry
    my $text = hoopctl('sessions', 'show', $sid, '--payloads')->{stdout};
    my ($what, %dump);
    for my $line (split /\n/, $text) {
        if ($line =~ /^\+\d+ +(request|response) +(\w+) v/) { $what = "$2 $1"; next; }
        next unless defined $what;
        if ($line =~ /^    [0-9a-f]{6} ((?: {1,2}[0-9a-f]{2})+)/) {
            $dump{$what} .= pack 'H*', join '', split ' ', $1;
        } elsif ($line =~ /^    payload, \d+ bytes:$/) {
            $dump{$what} .= "\n--\n";       # entries apart
        }
    }
    for my $w (keys %dump) {
        for my $v (@{ $VALUES{bob} }) {
            $found_dump{$w}{$v} = 1 if index($dump{$w}, $v) >= 0;
        }
    }
}
is_deeply([ sort keys %{ $found_json{'Produce request'} // {} } ], [ sort @{ $VALUES{bob} } ],
          'bob: the produced values are in the Produce request payloads (JSON, base64)');
is_deeply([ sort keys %{ $found_json{'Fetch response'} // {} } ], [ sort @{ $VALUES{bob} } ],
          'bob: and in the Fetch response payloads');
is_deeply([ sort keys %{ $found_dump{'Produce request'} // {} } ], [ sort @{ $VALUES{bob} } ],
          'bob: the produced values in the hex dump of show --payloads');
ok($bob_nopayload_ok, 'bob: show without --payloads has no payload');

Test::More::note("hoopctl sessions list:\n" . hoopctl('sessions', 'list')->{stdout});
Test::More::note("hoopctl sessions show --payloads (bob):\n"
     . hoopctl('sessions', 'show', (sort keys %{ $sids{bob} })[0], '--payloads')->{stdout});

# --- errors ---------------------------------------------------------------------------

$s = hoopctl('sessions', 'show', 'gw-t092-nope-1');
ok($s->{rc} == 1 && $s->{stderr} =~ /no recorded session "gw-t092-nope-1"/,
   'show of an unknown session: exit 1, says so');
my ($csid) = keys %{ $sids{carol} };
$s = hoopctl('sessions', 'show', $csid);
ok($s->{rc} == 1 && $s->{stderr} =~ /no recorded session/, 'show of carol\'s (not recorded) session: exit 1');
$s = hoopctl('sessions', 'show');
ok($s->{rc} == 2 && $s->{stderr} =~ /usage: hoopctl sessions show SID/, 'show without SID: exit 2');
$s = hoopctl('sessions', 'list', '--payloads');
ok($s->{rc} == 2 && $s->{stderr} =~ /--payloads does not apply/, 'list --payloads: exit 2');
$s = hoopctl('sessions', 'replay');
ok($s->{rc} == 2 && $s->{stderr} =~ /unknown sessions command "replay"/, 'an unknown subcommand: exit 2');

# --- under the sanitizers --------------------------------------------------------------

SKIP: {
    my $asan = "$repo/build/tools/hoopctl-asan";
    my $m = run_cmd(cmd => [ 'make', '-s', '-C', "$repo/tools", 'hoopctl-asan' ],
                    timeout => 300);
    skip 'no hoopctl-asan', 1 unless $m->{rc} == 0 && -x $asan;
    my ($bsid) = sort keys %{ $sids{bob} };
    my $ok = 1;
    for my $args ([ 'list' ], [ 'list', '--json', '--principal', 'alice' ],
                  [ 'show', $psid ], [ 'show', $bsid, '--payloads' ],
                  [ 'show', $bsid, '--payloads', '--json' ]) {
        my $x = run_cmd(cmd => [ $asan, 'sessions', @$args, @hc ], timeout => 120,
                        env => { ASAN_OPTIONS => 'detect_leaks=1:abort_on_error=1' });
        if ($x->{rc} != 0) { $ok = 0; diag("@$args: rc $x->{rc}\n$x->{stderr}"); }
    }
    my $x = run_cmd(cmd => [ $asan, 'sessions', 'show', 'nope', @hc ], timeout => 120,
                    env => { ASAN_OPTIONS => 'detect_leaks=1:abort_on_error=1' });
    $ok = 0, diag("show nope: rc $x->{rc}\n$x->{stderr}") unless $x->{rc} == 1;
    ok($ok, 'sessions list and show under ASan/UBSan/LSan: clean');
}

my $log = hoop_nginx_stop($ng);
my @alerts = grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log;
is_deeply(\@alerts, [], 'no alert, crit or emerg');
like($log, qr/recording session \S+ \(summary, rule "alice-topic"\)/, 'the log says alice is recorded');
like($log, qr/recording session \S+ \(payloads, rule "bob-topic"\)/, 'and bob with payloads');
unlike($log, qr/recording session.*carol/, 'and not carol');

remove_tree($DIR) if Test::More->builder->is_passing;
Test::More::done_testing();
