# The audit trail on the data path (hoop_audit, docs/audit.md): real
# clients (librdkafka through kcat) authenticated by SASL at the gateway,
# a policy file, and a Redis of the test's own.  Every decision and
# connection milestone lands in the stream with the fields of format v1,
# denials also in the denied stream, the who/what indexes answer "which
# identity read topic X today" in one lookup, and grant:last_used moves.
# Then Redis goes away: requests keep flowing, events go to the spool and
# are replayed exactly once when Redis is back, also across a reload (the
# new workers adopt the old workers' spools).  Last, a full spool under
# full=refuse closes new requests' connections.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file slurp spew redis_xrange);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-audit-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t090r$$";
my $PREFIX = "t090:$$:" . int(time) . ':';
my $TOPIC = "audit.t090-$$";
my $NODE = "gw-t090";

plan tests => 57;

# --- Redis of our own -----------------------------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};
my $RDIR = $renv->{REDIS_DIR};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

sub rcli {
    my (@args) = @_;
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @args ], timeout => 10);
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

# the stream's entries as hashes (id, then fields), via redis-cli --json
# is not in Debian 12's redis-cli: parse the raw (--no-raw off) output
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

# --- the gateway ------------------------------------------------------------

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
for my $u (qw(alice bob)) {
    my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    print $f $line;
}
close $f;

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
description: t/090-audit.t
grants:
  - id: alice-reads-audit
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "audit.", match: prefix }
      - { type: group, name: "t090-", match: prefix }
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T090"
  - id: bob-writes-audit
    principals: [ "User:bob" ]
    resources:
      - { type: topic, name: "audit.", match: prefix }
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T090"
  - id: bob-idempotent
    principals: [ "User:bob" ]
    resources:
      - { type: cluster, name: "kafka-cluster", match: literal }
    operations: [ idempotent_write ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T090"
YAML

sub gateway {
    my (%o) = @_;
    my $spool = $o{spool} // "$DIR/spool";
    my $extra = $o{extra} // '';
    return hoop_nginx_start(
        master => 1, workers => 2, log_level => 'info',
        main_config => "user root;\nworker_shutdown_timeout 3s;",
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_node_name $NODE;\n"
                         . "hoop_audit_aggregate 500ms;\n"
                         . "hoop_audit_spool $spool $extra;\n"
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

sub as_user {
    my ($u) = @_;
    return ('-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN',
            '-X', "sasl.username=$u", '-X', "sasl.password=$u-secret");
}

sub clean_log {
    my ($log, $what) = @_;
    unlike($log, qr/\[(alert|crit|emerg)\]/, "$what: no alert, crit or emerg")
        or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
    unlike($log, qr/exited on signal|open socket/, "$what: no crash, no socket left");
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

my $ng = gateway();
my $boot = "127.0.0.1:$ng->{port}";
my $day = strftime('%Y-%m-%d', gmtime);

# --- 1. decisions of real clients -------------------------------------------

my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, '-K:', as_user('bob') ],
                stdin => "k1:v1\nk2:v2\nk3:v3\n", timeout => 60);
is($p->{rc}, 0, 'bob produces 3 records') or diag($p->{stderr});
my $d = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, '-K:', as_user('alice') ],
                stdin => "k4:v4\n", timeout => 60);
like($d->{stderr}, qr/Topic authorization failed/i, 'alice may not produce');
my $c = run_cmd(cmd => [ 'kcat', '-b', $boot, '-G', "t090-$$", $TOPIC, '-e', '-q',
                         '-f', '%k=%s\n', '-X', 'auto.offset.reset=earliest',
                         as_user('alice') ], timeout => 60);
is(join('', sort split /^/, $c->{stdout}), "k1=v1\nk2=v2\nk3=v3\n", 'alice consumes')
    or diag($c->{stderr});

# connections are closed: their aggregates and "closed" events are out
my @ev = @{ wait_for(sub {
    my @e = xrange("${PREFIX}audit");
    return (grep { ($_->{event} // '') eq 'closed' } @e) >= 3 ? \@e : undef;
}, 10) // [] };
ok(@ev > 0, 'events in the stream ' . "${PREFIX}audit") or diag(hoop_error_log($ng));

my ($auth) = grep { $_->{event} eq 'authenticated' && ($_->{principal} // '') eq 'bob' } @ev;
ok($auth, 'bob\'s authentication is an event');
is($auth->{auth}, 'PLAIN', 'with the mechanism');
is($auth->{node}, $NODE, 'with the node name');
like($auth->{client}, qr/^127\.0\.0\.1:\d+$/, 'with the client address and port');
like($auth->{software} // '', qr/^librdkafka\//, 'with the client software (KIP-511)');
is($auth->{v}, '1', 'format version 1');

my ($wr) = grep { ($_->{principal} // '') eq 'bob' && ($_->{resource} // '') eq $TOPIC
                  && ($_->{operation} // '') eq 'write' } @ev;
ok($wr, 'bob\'s write is an event');
is($wr->{event}, 'aggregate', 'an allowed Produce is aggregated');
is($wr->{decision}, 'allow', 'decision allow');
is($wr->{rule}, 'bob-writes-audit', 'the deciding rule');
is($wr->{records}, '3', 'record count from the batch headers');
is($wr->{partitions}, '[0]', 'partitions');
is($wr->{api}, 'Produce', 'ApiKey name');
like($wr->{policy_version} // '', qr/^\d+$/, 'policy version');

my ($deny) = grep { ($_->{principal} // '') eq 'alice' && ($_->{operation} // '') eq 'write' } @ev;
ok($deny, 'alice\'s refused write is an event');
is($deny->{event}, 'request', 'a denial is never aggregated');
is($deny->{decision}, 'deny', 'decision deny');
is($deny->{reason}, 'no grant', 'reason');

my ($rd) = grep { ($_->{principal} // '') eq 'alice' && ($_->{operation} // '') eq 'read'
                  && ($_->{resource_type} // '') eq 'topic' } @ev;
ok($rd, 'alice\'s reads are events');
like($rd->{offsets} // '', qr/^\[\[0,\d+,\d+\]\]$/, 'fetch offsets per partition');
my @reads = grep { ($_->{principal} // '') eq 'alice' && ($_->{operation} // '') eq 'read'
                   && ($_->{resource} // '') eq $TOPIC } @ev;
my $nread = 0; $nread += $_->{records} // 0 for @reads;
is($nread, 3, 'records read, counted from the Fetch responses');
my ($next) = sort { $b <=> $a } map { ($_->{offsets} // '') =~ /,(\d+)\]\]$/ ? $1 : () } @reads;
is($next, 3, 'offsets: the next offset after what was read');

my @closed = grep { $_->{event} eq 'closed' } @ev;
ok(!grep({ !($_->{bytes_in} > 0 && defined $_->{bytes_out}
             && $_->{duration_ms} =~ /^\d+$/) } @closed),
   'closed events carry byte counts and durations') or diag(explain(\@closed));
my ($bob_closed) = grep { $_->{sid} eq $auth->{sid} } @closed;
ok($bob_closed && $bob_closed->{bytes_out} > 0 && $bob_closed->{requests} > 2,
   'bob\'s connection: bytes both ways, request count') or diag(explain($bob_closed));

my @denied = xrange("${PREFIX}audit:denied");
ok((grep { ($_->{principal} // '') eq 'alice' && $_->{decision} eq 'deny' } @denied),
   'the denial is in the denied stream');

# the who index: one HGETALL answers who touched the topic today
my $who = rcli('--raw', 'HGETALL', "${PREFIX}audit:who:topic:$day:$TOPIC")->{stdout} // '';
like($who, qr/\["bob","write","allow"\]/, 'who index: bob wrote');
like($who, qr/\["alice","read","allow"\]/, 'who index: alice read');
like($who, qr/\["alice","write","deny"\]/, 'who index: alice was refused');
my $what = rcli('--raw', 'HGETALL', "${PREFIX}audit:what:$day:alice")->{stdout} // '';
like($what, qr/\["topic","\Q$TOPIC\E","read","allow"\]/, 'what index of alice');
my $lu = rcli('--raw', 'HGET', "${PREFIX}grant:last_used", 'alice-reads-audit')->{stdout} // '';
like($lu, qr/^\d{13}$/, 'grant:last_used has alice\'s grant');

# hoopctl review reads grant:last_used: the grants used today are not
# UNUSED, the one nobody used is (issue 4's access review)
my $HOOPCTL = "$repo/build/tools/hoopctl";
my @hc = ('--redis', "127.0.0.1:$RPORT", '--prefix', $PREFIX);
my $rv = run_cmd(cmd => [ $HOOPCTL, 'review', '--file', "$DIR/policy.yaml", '--json', @hc ],
                 timeout => 20);
my $review = eval { decode_json($rv->{stdout}) } // {};
my %g = map { $_->{id} => $_ } @{ $review->{grants} // $review->{rules} // [] };
like($g{'alice-reads-audit'}{last_used} // '', qr/^\d{4}-\d\d-\d\d|^\d{13}$/,
     'hoopctl review: alice\'s grant was used') or diag($rv->{stdout} . $rv->{stderr});
ok((grep { $_ eq 'UNUSED' } @{ $g{'bob-idempotent'}{flags} // [] })
   && !defined $g{'bob-idempotent'}{last_used}
   && !grep({ $_ eq 'UNUSED' } @{ $g{'alice-reads-audit'}{flags} // [] }),
   'hoopctl review: only the grant nobody used is flagged UNUSED');

# hoopctl audit who: the question an auditor asks, in one command
my $aw = run_cmd(cmd => [ $HOOPCTL, 'audit', 'who', '--topic', $TOPIC, '--date', $day,
                          '--json', @hc ], timeout => 20);
my $rows = eval { decode_json($aw->{stdout}) } // [];
my %who = map { join('/', $_->{principal}, $_->{operation}, $_->{decision}) => 1 } @$rows;
ok($who{'alice/read/allow'} && $who{'bob/write/allow'} && $who{'alice/write/deny'},
   'hoopctl audit who --topic: alice read, bob wrote, alice was refused')
    or diag($aw->{stdout} . $aw->{stderr});

# whatever bytes a client sends: a client_id that is not UTF-8 lands
# readable, with the raw bytes in hex
{
    my $bad = "\xffbad\x01";
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                     Proto => 'tcp', Timeout => 5) or die "connect: $!";
    syswrite($sock, kafka_request(api_key => 17, version => 1, correlation_id => 1,
                                  client_id => $bad, body => enc_string('PLAIN'))
                    . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                                    client_id => $bad,
                                    body => enc_compact_bytes("\0alice\0alice-secret")
                                            . enc_tagged_fields()));
    my ($buf, $n) = ('', 0);
    while ($n < 2) {
        last unless sysread($sock, $buf, 65536, length $buf);
        while (length $buf >= 4 && length $buf >= 4 + unpack('l>', $buf)) {
            substr($buf, 0, 4 + unpack('l>', $buf), '');
            $n++;
        }
    }
    close $sock;
    is($n, 2, 'SASL with a client_id that is not UTF-8');
    my ($e) = grep { ($_->{client_id_hex} // '') eq 'ff62616401' } @{ wait_for(sub {
        my @e = xrange("${PREFIX}audit");
        return (grep { ($_->{client_id_hex} // '') eq 'ff62616401' } @e) ? \@e : undef;
    }, 5) // [] };
    ok($e, 'the event keeps the raw client_id in hex');
    is($e->{client_id} // '', "\xef\xbf\xbdbad\x01",
       'and the client_id with U+FFFD for the bad byte');
}

# --- 2. Redis away: requests flow, events spool, then replay once ----------

redis_down();
my $n_before = scalar @ev;
my $p2 = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, '-K:', as_user('bob') ],
                 stdin => "k5:v5\n", timeout => 60);
is($p2->{rc}, 0, 'Redis away: bob still produces') or diag($p2->{stderr});
my $spooled = wait_for(sub {
    my $n = 0;
    for my $sf (glob "$DIR/spool/audit.*.spool") {
        $n += () = (slurp($sf) // '') =~ /"event":"closed"/g;
    }
    return $n;
}, 5);
ok($spooled, 'the events are in the spool') or diag(`ls -la $DIR/spool`);

# a reload while events are spooled: old workers leave their files
kill 'HUP', $ng->{pid};
sleep 1;
redis_up();
# (Redis came back empty: only what was spooled is there)
my @ev2 = @{ wait_for(sub {
    my @e = xrange("${PREFIX}audit");
    return (grep { ($_->{event} // '') eq 'closed' } @e) >= 1 ? \@e : undef;
}, 15) // [] };
ok(@ev2, 'after Redis returns, the spooled events are written')
    or diag(hoop_error_log($ng));
my ($w5) = grep { ($_->{principal} // '') eq 'bob' && ($_->{operation} // '') eq 'write'
                  && ($_->{records} // '') eq '1' } @ev2;
ok($w5, 'bob\'s write while Redis was away is there');
my %seen;
my @dups = grep { $seen{"$_->{sid}/$_->{seq}"}++ } grep { defined $_->{seq} } @ev2;
is(scalar @dups, 0, 'no event written twice');
ok(wait_for(sub { !glob("$DIR/spool/audit.*.spool")
                  || !grep { -s $_ > 200 } glob("$DIR/spool/audit.*.spool") }, 10),
   'the spools are emptied');
like(hoop_error_log($ng), qr/adopting spool|replayed/, 'spools of the old workers are adopted');

my $log = hoop_nginx_stop($ng);
clean_log($log, 'spool and reload');

# a restart while events are spooled: the next nginx replays them
redis_down();
$ng = gateway();
$boot = "127.0.0.1:$ng->{port}";
my $p3 = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, '-K:', as_user('bob') ],
                 stdin => "k6:v6\nk7:v7\n", timeout => 60);
is($p3->{rc}, 0, 'Redis away again: bob produces 2 records') or diag($p3->{stderr});
wait_for(sub { grep { (slurp($_) // '') =~ /"event":"closed"/ } glob("$DIR/spool/audit.*.spool") }, 5);
$log = hoop_nginx_stop($ng);
redis_up();
$ng = gateway();
ok(wait_for(sub { grep { ($_->{principal} // '') eq 'bob' && ($_->{records} // '') eq '2' }
                       xrange("${PREFIX}audit") }, 15),
   'after a restart the new workers replay what the stopped ones spooled')
    or diag(hoop_error_log($ng));
$log = hoop_nginx_stop($ng);
clean_log($log, 'restart');

# --- 3. full=refuse ------------------------------------------------------------

make_path("$DIR/spool2");
chmod 0777, "$DIR/spool2";
$ng = gateway(spool => "$DIR/spool2", extra => 'max_size=64k full=refuse');
$boot = "127.0.0.1:$ng->{port}";
redis_down();
my $refused = 0;
for my $i (1 .. 200) {
    my $r = run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-t', $TOPIC, as_user('alice') ],
                    timeout => 20);
    if ($r->{rc} != 0) { $refused = $i; last; }
}
ok($refused, 'a full spool refuses new requests') or diag(`ls -la $DIR/spool2`);
like(hoop_error_log($ng), qr/audit spool is full and Redis is away/, 'and says why');
redis_up();
ok(wait_for(sub { run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-t', $TOPIC,
                                   as_user('alice') ], timeout => 20)->{rc} == 0 }, 15),
   'Redis back: requests pass again');
$log = hoop_nginx_stop($ng);
unlike($log, qr/exited on signal|open socket/, 'full=refuse: no crash, no socket left');

remove_tree($DIR) if Test::More->builder->is_passing;
