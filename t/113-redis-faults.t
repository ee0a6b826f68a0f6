# Redis slowed, frozen and restarted while traffic flows (issue 8; Redis
# stopped and started between requests is t/090-audit.t, policy versions
# and the cache file t/075-policy-redis.t).  The policy comes from Redis
# (hoop_policy redis) and every decision is audited to Redis.  Four
# clients keep sending Metadata requests, half for a topic the policy lets
# them describe and half for one it does not, while Redis is
#
#   1. paused (CLIENT PAUSE ALL: commands wait), then frozen (SIGSTOP: the
#      TCP connection stays, nothing answers), then running again;
#   2. shut down (its memory gone: no persistence), then started again
#      empty, without the policy.
#
# Throughout, every request is answered at once with the decision of the
# policy the workers hold (the allowed topic described, the other one
# TOPIC_AUTHORIZATION_FAILED), also after Redis came back without a
# policy.  The audit events spool and are replayed: per phase, the events
# count exactly the decisions the clients saw (a request event per denial,
# aggregates summing the allowed ones), none twice.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file slurp redis_xrange);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

require_envs(qw(kafka));

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-redis-faults-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t113r$$";
my $PREFIX = "t113:$$:" . int(time) . ':';
my $OK = "t113.ok-$$";
my $NO = "t113.no-$$";

# --- Redis of our own (t/090's helpers) -----------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};
my $RDIR = $renv->{REDIS_DIR};

END {
    if ($NAME) {
        # never leave it frozen
        my $pid = slurp("$RDIR/redis.pid") // $renv->{REDIS_PID};
        kill 'CONT', $pid if $pid && $pid =~ /^(\d+)/;
        system("$repo/t/bin/redis-env", 'stop', '--name', $NAME);
    }
}

sub rcli {
    my ($stdin, @args) = @_;
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @args ],
                   stdin => $stdin // '', timeout => 10);
}

sub redis_pid {
    my $p = slurp("$RDIR/redis.pid") // $renv->{REDIS_PID} // '';
    return $p =~ /^(\d+)/ ? $1 : undef;
}

sub redis_down {
    rcli(undef, 'SHUTDOWN', 'NOSAVE');
    my $t = time + 5;
    sleep 0.05 while (rcli(undef, 'PING')->{stdout} // '') =~ /PONG/ && time < $t;
}

sub redis_up {
    run_cmd(cmd => [ 'redis-server', '--bind', '127.0.0.1', '--port', $RPORT,
                     '--save', '', '--appendonly', 'no', '--dir', $RDIR,
                     '--daemonize', 'yes', '--pidfile', "$RDIR/redis.pid",
                     '--logfile', "$RDIR/redis.log" ], timeout => 10);
    my $t = time + 5;
    sleep 0.05 until (rcli(undef, 'PING')->{stdout} // '') =~ /PONG/ || time > $t;
}

# the stream's entries as hashes (id, then fields)
sub xrange { return redis_xrange($RPORT, $_[0]); }

# the policy version $n, pushed the way hoopctl does
sub push_policy {
    my ($n) = @_;
    my $text = <<"YAML";
policy_version: 1
default: deny
description: t/113-redis-faults.t
grants:
  - id: t113-describe
    principals: [ "User:ANONYMOUS" ]
    resources: [ { type: topic, name: "t113.ok-", match: prefix } ]
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T113"
YAML
    my $r = rcli($text, '-x', 'HSET', "${PREFIX}policy:v:$n", 'text');
    die "HSET: $r->{stdout}$r->{stderr}" if $r->{rc} != 0 || $r->{stdout} =~ /ERR/;
    rcli(undef, 'SET', "${PREFIX}policy:seq", $n);
    rcli(undef, 'SET', "${PREFIX}policy:current", $n);
    rcli(undef, 'PUBLISH', "${PREFIX}policy:notify", qq({"version":$n,"sha256":""}));
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $OK);
push_policy(1);

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 3s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_policy_cache $DIR/policy-cache.json;\n"
                     . "hoop_audit_aggregate 200ms;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => <<'CONF');
hoop on;
hoop_auth none;
hoop_policy redis;
hoop_audit on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF

# --- the clients ----------------------------------------------------------------

my $corr = 0;

sub kconnect {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5);
    die "connect: $!" unless $s;
    return $s;
}

# Metadata v12 for $topic on $s: (error code | 'closed' | 'timeout', seconds)
sub describe {
    my ($s, $topic) = @_;
    my $t0 = time;
    my $e = kafka_describe($s, $topic, ++$corr);
    return ($e, time - $t0);
}

# a phase's tally: decisions seen per topic, wrong answers, slowest answer
sub new_tally { return { $OK => 0, $NO => 0, wrong => [], slowest => 0 }; }

# $seconds of traffic on @$conns, alternating the two topics
sub traffic {
    my ($tally, $conns, $seconds, $what) = @_;
    my $end = time + $seconds;
    my $i = 0;
    while (time < $end) {
        for my $s (@$conns) {
            my $topic = $i++ % 2 ? $NO : $OK;
            my ($err, $secs) = describe($s, $topic);
            $tally->{slowest} = $secs if $secs > $tally->{slowest};
            my $want = $topic eq $OK ? 0 : 29;
            if ($err eq $want) {
                $tally->{$topic}++;
            } else {
                push @{ $tally->{wrong} }, "$what: $topic: $err";
                return if $err eq 'closed';
            }
        }
        sleep 0.01;
    }
}

# decisions the events of the stream count per topic, and events seen
# twice (an aggregate counts its requests)
sub audited {
    my %n = ($OK => 0, $NO => 0);
    my (%seen, $dups);
    for my $e (xrange("${PREFIX}audit")) {
        next unless ($e->{resource} // '') eq $OK || ($e->{resource} // '') eq $NO;
        next unless $e->{event} eq 'request' || $e->{event} eq 'aggregate';
        $dups++ if defined $e->{seq} && $seen{"$e->{sid}/$e->{seq}"}++;
        $n{ $e->{resource} } += $e->{event} eq 'aggregate' ? $e->{count} : 1;
    }
    return (\%n, $dups // 0);
}

sub wait_audited {
    my ($tally, $timeout) = @_;
    my $t = time + $timeout;
    my ($n, $dups);
    do {
        sleep 0.3;
        ($n, $dups) = audited();
    } until (($n->{$OK} >= $tally->{$OK} && $n->{$NO} >= $tally->{$NO}) || time > $t);
    sleep 0.5;    # nothing more arrives
    return audited();
}

# the policy is in the workers
my $t = time + 15;
my $probe = kconnect();
sleep 0.2 until ((describe($probe, $OK))[0] eq '0') || time > $t;
close $probe;
ok(time <= $t, 'the policy from Redis is enforced');
sleep 1;    # the probe's events are out
my ($base) = audited();

# --- 1. slowed, frozen, running again --------------------------------------------

my $t1 = new_tally();
my @c = map { kconnect() } 1 .. 4;
traffic($t1, \@c, 1.5, 'Redis up');
my $pause = rcli(undef, 'CLIENT', 'PAUSE', '3000', 'ALL');
like($pause->{stdout}, qr/OK/, 'Redis paused for 3 s (CLIENT PAUSE ALL)');
traffic($t1, \@c, 3.5, 'Redis paused');
my $rpid = redis_pid();
ok($rpid && kill('STOP', $rpid), "Redis frozen (SIGSTOP to $rpid)");
traffic($t1, \@c, 4, 'Redis frozen');
kill 'CONT', $rpid;
traffic($t1, \@c, 2, 'Redis running again');
close $_ for @c;

is_deeply($t1->{wrong}, [], 'paused and frozen Redis: every request answered with the policy\'s decision')
    or diag(join "\n", @{ $t1->{wrong} }[0 .. 9]);
ok($t1->{$OK} > 50 && $t1->{$NO} > 50,
   "many decisions ($t1->{$OK} allowed, $t1->{$NO} denied)");
ok($t1->{slowest} < 2, sprintf('none waited for Redis (slowest answer %.3f s)',
                               $t1->{slowest}));
my ($n1, $d1) = wait_audited({ $OK => $t1->{$OK} + $base->{$OK},
                               $NO => $t1->{$NO} + $base->{$NO} }, 30);
is($n1->{$OK} - $base->{$OK}, $t1->{$OK}, 'the events count every allowed decision');
is($n1->{$NO} - $base->{$NO}, $t1->{$NO}, 'and every denial');
is($d1, 0, 'none twice');

# --- 2. shut down, started again empty ----------------------------------------

redis_down();
my $t2 = new_tally();
@c = map { kconnect() } 1 .. 4;
traffic($t2, \@c, 3, 'Redis down');
my $spooled = 0;
$spooled += () = (slurp($_) // '') =~ /"event":"(request|aggregate)"/g
    for glob "$DIR/spool/audit.*.spool";
ok($spooled > 0, "Redis down: the events spool ($spooled so far)");
redis_up();
traffic($t2, \@c, 4, 'Redis back, empty');
close $_ for @c;

is(rcli(undef, 'EXISTS', "${PREFIX}policy:current")->{stdout} + 0, 0,
   'Redis came back without the policy');
is_deeply($t2->{wrong}, [], 'Redis down and back empty: the cached policy still decides')
    or diag(join "\n", @{ $t2->{wrong} }[0 .. 9]);
ok($t2->{$OK} > 50 && $t2->{$NO} > 50,
   "many decisions ($t2->{$OK} allowed, $t2->{$NO} denied)");
ok($t2->{slowest} < 2, sprintf('none waited for Redis (slowest answer %.3f s)',
                               $t2->{slowest}));
# Redis lost what it held: only this phase's events are there, replayed
my ($n2, $d2) = wait_audited($t2, 30);
is($n2->{$OK}, $t2->{$OK}, 'spooled and replayed: the events count every allowed decision');
is($n2->{$NO}, $t2->{$NO}, 'and every denial');
is($d2, 0, 'none twice');
$t = time + 10;
sleep 0.2 while grep({ -s $_ > 200 } glob "$DIR/spool/audit.*.spool") && time < $t;
ok(!grep({ -s $_ > 200 } glob "$DIR/spool/audit.*.spool"), 'the spools are emptied')
    or diag(`ls -la $DIR/spool`);

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
unlike($log, qr/exited on signal|open socket/, 'no crash, no socket left');
Test::More::done_testing();
remove_tree($DIR) if Test::More->builder->is_passing;
