# Redis with a replica and Sentinel (hoop_redis sentinel=... master=...,
# docs/operations.md): a primary, a replica and three sentinels (quorum 2)
# of the test's own; the gateway and hoopctl find the primary through the
# sentinels.  A policy pushed by hoopctl (Sentinel mode) reaches the
# gateway; the primary is killed (SIGKILL), the sentinels promote the
# replica, and the gateway follows within a bounded time: audit events of
# requests made while no primary was reachable, and after, are in the new
# primary's stream exactly once each, and a version pushed by hoopctl to the
# new primary is enforced.  Events the old primary acknowledged but had not
# replicated may be lost with it (asynchronous replication): those are not
# asserted on.  The workers hear +switch-master from a sentinel and follow
# at once.  Then the old port comes back as a replica and SENTINEL FAILOVER
# moves the primary back while every connection is up: the workers follow
# again.  A bad Sentinel form of hoop_redis fails nginx -t with the file
# and line.
#
# Data nodes and sentinels have passwords of their own (password=,
# sentinel_password=; HOOP_REDIS_PASSWORD, HOOP_SENTINEL_PASSWORD).
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, redis-sentinel.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file free_port release_ports slurp spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-redis-sentinel-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t115p$$";
my $MASTER = "t115m$$";
my $PREFIX = "t115:$$:" . int(time) . ':';
my $TOPIC_OK = "t115.ok-$$";
my $TOPIC_A = "t115.a-$$";      # denied before the failover
my $TOPIC_B = "t115.b-$$";      # denied while no primary is reachable
my $TOPIC_C = "t115.c-$$";      # denied after the failover
my $HOOPCTL = "$repo/build/tools/hoopctl";

unless (grep { -x "$_/redis-sentinel" } split(/:/, $ENV{PATH} // ''), '/usr/bin') {
    # like the harness's requires: fail instead of skipping when asked to
    plan skip_all => 'redis-sentinel is not installed (tools/install-deps)'
        unless $ENV{HOOP_TEST_REQUIRE_ALL};
    plan tests => 1;
    fail('redis-sentinel is not installed (tools/install-deps)');
    exit 1;
}
plan tests => 49;

# --- primary, replica, three sentinels ------------------------------------------

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $P1 = $renv->{REDIS_PORT};
my $P1PID = $renv->{REDIS_PID};

my $P2 = free_port(owner => "t115 replica");
my @SP = map { free_port(owner => "t115 sentinel $_") } 1 .. 3;
my $DEAD = free_port(owner => "t115 no sentinel");
my @pidfiles;

END {
    for my $pf (@pidfiles) {
        my $pid = slurp($pf) // next;
        chomp $pid;
        kill 'TERM', $pid if $pid =~ /^\d+$/;
    }
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
    release_ports($P2, @SP, $DEAD) if $P2;
}

# the data nodes and the sentinels have passwords of their own
my $DATAPASS = "t115-data-$$";
my $SENTPASS = "t115-sentinel-$$";
spew("$DIR/redis.pass", "$DATAPASS\n");
spew("$DIR/sentinel.pass", "$SENTPASS\n");

sub rcli {
    my ($port, @args) = @_;
    my $pass = (grep { $_ == $port } @SP) ? $SENTPASS : $DATAPASS;
    return run_cmd(cmd => [ 'redis-cli', '-p', $port, '--no-auth-warning', '-a', $pass,
                            @args ], timeout => 10);
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

# a full sync at once (the diskless default waits 5 s for more replicas)
run_cmd(cmd => [ 'redis-cli', '-p', $P1, 'CONFIG', 'SET', 'repl-diskless-sync-delay', '0' ],
        timeout => 10);
run_cmd(cmd => [ 'redis-cli', '-p', $P1, 'CONFIG', 'SET', 'requirepass', $DATAPASS ],
        timeout => 10);

make_path("$DIR/replica");
push @pidfiles, "$DIR/replica/redis.pid";
my $rs = run_cmd(cmd => [ 'redis-server', '--bind', '127.0.0.1', '--port', $P2,
                          '--replicaof', '127.0.0.1', $P1,
                          '--requirepass', $DATAPASS, '--masterauth', $DATAPASS,
                          '--save', '', '--appendonly', 'no', '--dir', "$DIR/replica",
                          '--daemonize', 'yes', '--pidfile', "$DIR/replica/redis.pid",
                          '--logfile', "$DIR/replica/redis.log" ], timeout => 10);
die "replica: $rs->{stderr}" if $rs->{rc} != 0;

for my $i (0 .. 2) {
    my $d = "$DIR/sentinel-$i";
    make_path($d);
    push @pidfiles, "$d/sentinel.pid";
    # sentinels rewrite their file: one each
    spew("$d/sentinel.conf", <<"CONF");
bind 127.0.0.1
port $SP[$i]
daemonize yes
pidfile $d/sentinel.pid
logfile $d/sentinel.log
dir $d
requirepass $SENTPASS
sentinel sentinel-pass $SENTPASS
sentinel monitor $MASTER 127.0.0.1 $P1 2
sentinel auth-pass $MASTER $DATAPASS
sentinel down-after-milliseconds $MASTER 1000
sentinel failover-timeout $MASTER 4000
sentinel parallel-syncs $MASTER 1
CONF
    my $s = run_cmd(cmd => [ 'redis-sentinel', "$d/sentinel.conf" ], timeout => 10);
    die "sentinel $i: $s->{stderr}" if $s->{rc} != 0;
}

my $SENTINELS = join ',', map { "127.0.0.1:$_" } @SP;

# SENTINEL MASTER NAME as a hash
sub sentinel_master {
    my ($port) = @_;
    my @l = split /\n/, rcli($port, '--raw', 'SENTINEL', 'MASTER', $MASTER)->{stdout} // '';
    my %h;
    while (@l >= 2) { my $k = shift @l; $h{$k} = shift @l; }
    return \%h;
}

sub master_port_of {
    my ($port) = @_;
    my @l = split /\n/, rcli($port, '--raw', 'SENTINEL', 'get-master-addr-by-name',
                             $MASTER)->{stdout} // '';
    return $l[1];
}

# every sentinel sees the replica and the two other sentinels
my $ready = wait_for(sub {
    for my $p (@SP) {
        my $m = sentinel_master($p);
        return 0 unless ($m->{'num-other-sentinels'} // 0) == 2
                        && ($m->{'num-slaves'} // 0) == 1;
    }
    return 1;
}, 30);
ok($ready, 'three sentinels watch the primary and its replica')
    or diag(explain(sentinel_master($SP[0])));
ok(wait_for(sub { (rcli($P2, 'INFO', 'replication')->{stdout} // '')
                  =~ /master_link_status:up/ }, 20),
   'the second Redis is a replica in sync');

# --- policies, hoopctl ------------------------------------------------------------

sub policy {
    my ($v, $name, $match) = @_;
    return <<"YAML";
policy_version: 1
default: deny
description: t/115-redis-sentinel.t v$v
grants:
  - id: anon-describes-v$v
    principals: [ "User:ANONYMOUS" ]
    resources:
      - { type: topic, name: "$name", match: $match }
    operations: [ describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T115 v$v"
YAML
}

sub hoopctl {
    my (@args) = @_;
    local $ENV{HOOP_REDIS_PASSWORD} = $DATAPASS;
    local $ENV{HOOP_SENTINEL_PASSWORD} = $SENTPASS;
    return run_cmd(cmd => [ $HOOPCTL, @args, '--prefix', $PREFIX ], timeout => 30);
}

spew("$DIR/v1.yaml", policy(1, 't115.', 'prefix'));
my $h = hoopctl('push', "$DIR/v1.yaml", '--author', 'carol',
                '--sentinel', $SENTINELS, '--master', $MASTER);
is($h->{rc}, 0, 'hoopctl push --sentinel --master: version 1') or diag($h->{stderr});
like(rcli($P1, 'GET', "${PREFIX}policy:current")->{stdout} // '', qr/^1$/m,
     'version 1 is on the primary');

# --- the gateway --------------------------------------------------------------------

sub gateway {
    return hoop_nginx_start(
        master => 1, workers => 2, log_level => 'info',
        main_config => "user root;\nworker_shutdown_timeout 3s;",
        # the first sentinel listed is not there: passed over
        stream_config => "hoop_redis sentinel=127.0.0.1:$DEAD,$SENTINELS "
                         . "master=$MASTER prefix=$PREFIX password=$DIR/redis.pass "
                         . "sentinel_password=$DIR/sentinel.pass;\n"
                         . "hoop_policy_cache $DIR/policy-cache.json;\n"
                         . "hoop_node_name gw-t115;\n"
                         . "hoop_audit_aggregate 500ms;\n"
                         . "hoop_audit_spool $DIR/spool;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<'CONF');
hoop on;
hoop_auth none;
hoop_policy redis;
hoop_audit on;
proxy_pass $TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

sub wait_log {
    my ($ng, $re, $count, $timeout) = @_;
    my $t0 = time;
    while (time - $t0 < $timeout) {
        my @m = (hoop_error_log($ng) =~ /$re/g);
        return time - $t0 if @m >= $count;
        sleep 0.05;
    }
    return undef;
}

sub log_ok {
    my ($ng, $re, $count, $timeout, $name) = @_;
    ok(defined wait_log($ng, $re, $count, $timeout), $name) and return 1;
    my @l = grep { !/\[debug\]/ } split /\n/, hoop_error_log($ng);
    diag(join "\n", 'error log, last lines:', @l[($#l > 40 ? $#l - 40 : 0) .. $#l]);
    return 0;
}

my $corr = 100;

# Metadata v12 for $topic: the topic's error code (0, 29) or 'closed'
sub describe_topic {
    my ($sock, $topic) = @_;
    my $req = metadata_request(version => 12, correlation_id => ++$corr,
                               topics => [ $topic ],
                               allow_auto_topic_creation => 0);
    my $w = syswrite($sock, $req);
    return 'closed' unless defined $w && $w == length($req);
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 5;
    while (1) {
        if (length $buf >= 4) {
            my $size = unpack 'l>', $buf;
            if (length $buf >= 4 + $size) {
                my $m = parse_metadata_response(substr($buf, 4, $size), 12);
                return $m->{topics}[0]{error_code};
            }
        }
        my $left = $deadline - time;
        return 'timeout' if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        return 'closed' unless $n;
    }
}

# the audit stream of the Redis on $port, entries as hashes
sub xrange {
    my ($port) = @_;
    my $r = rcli($port, '--raw', 'XRANGE', "${PREFIX}audit", '-', '+');
    my @lines = split /\n/, $r->{stdout} // '';
    my (@ev, $cur);
    while (@lines) {
        my $l = shift @lines;
        if ($l =~ /^\d{13}-\d+$/ && (!$cur || !defined $cur->{_pending})) {
            push @ev, $cur = { id => $l };
            next;
        }
        next unless $cur;
        if (defined $cur->{_pending}) {
            $cur->{ delete $cur->{_pending} } = $l;
        } else {
            $cur->{_pending} = $l;
        }
    }
    return @ev;
}

# denials of describe on $topic in the stream on $port
sub denials {
    my ($port, $topic) = @_;
    return grep { ($_->{resource} // '') eq $topic && ($_->{decision} // '') eq 'deny'
                  && ($_->{operation} // '') eq 'describe' } xrange($port);
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC_OK);

my $ng = gateway();
log_ok($ng, qr/sentinel 127\.0\.0\.1:$DEAD: connect: Connection refused; asking the next/,
       1, 10, 'a sentinel that is not there is passed over');
log_ok($ng, qr/sentinel 127\.0\.0\.1:$SP[0] reports master "$MASTER" at 127\.0\.0\.1:$P1/,
       1, 10, 'the next sentinel reports the primary');
log_ok($ng, qr/policy version 1 \(sha256 [0-9a-f]{64}\) from redis/, 2, 10,
       'both workers load version 1 from the primary');
log_ok($ng, qr/watching sentinel 127\.0\.0\.1:\d+ for \+switch-master/, 2, 10,
       'each worker subscribes to +switch-master on a sentinel');

my $live = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                 Proto => 'tcp', Timeout => 5) or die "connect: $!";
is(describe_topic($live, $TOPIC_OK), 0, 'version 1: the topic may be described');

spew("$DIR/v2.yaml", policy(2, 'other.', 'prefix'));
$h = hoopctl('push', "$DIR/v2.yaml", '--author', 'carol',
             '--sentinel', $SENTINELS, '--master', $MASTER);
is($h->{rc}, 0, 'hoopctl push (Sentinel): version 2') or diag($h->{stderr});
log_ok($ng, qr/policy version 2 \(sha256 [0-9a-f]{64}\) from redis/, 2, 5,
       'version 2 reaches both workers');
is(describe_topic($live, $TOPIC_OK), 29, 'version 2 is enforced on the live connection');

my @codes = map { describe_topic($live, $TOPIC_A) } 1 .. 3;
is("@codes", '29 29 29', 'three denied requests before the failover');
my $n = wait_for(sub { my @d = denials($P1, $TOPIC_A); @d == 3 ? 3 : 0 }, 10);
is($n, 3, 'their 3 audit events are in the primary\'s stream');

# --- the primary dies ------------------------------------------------------------

# what the primary has is on the replica, but for what the test adds next
like(rcli($P1, 'WAIT', 1, 5000)->{stdout} // '', qr/^1$/m,
     'the replica acknowledged everything so far (WAIT)');

my $t_kill = time;
ok(kill('KILL', $P1PID), 'primary killed (SIGKILL)');
log_ok($ng, qr/redis sentinel=\S+ \(audit\): connection lost/, 2, 5,
       'both workers notice the primary is gone');

# while no primary is reachable: decisions go to the spool
@codes = map { describe_topic($live, $TOPIC_B) } 1 .. 2;
is("@codes", '29 29', 'two denied requests while no primary is reachable');

my $switched = wait_for(sub {
    return (master_port_of($SP[0]) // 0) == $P2
        && (master_port_of($SP[1]) // 0) == $P2 ? 1 : 0;
}, 30);
my $t_switch = time;
ok($switched, 'the sentinels promote the replica') or diag(explain(sentinel_master($SP[0])));
diag(sprintf 'failover took %.1f s after the kill', $t_switch - $t_kill);
like(rcli($P2, 'ROLE')->{stdout} // '', qr/^master/m, 'the replica is a master now');

my $took = wait_log($ng, qr/\(audit\): connected again to master "$MASTER" at 127\.0\.0\.1:$P2/,
                    1, 15);
ok(defined $took, 'the gateway\'s audit writer follows to the new primary');
ok(defined wait_log($ng, qr/\(policy notices\): connected again to master "$MASTER" at 127\.0\.0\.1:$P2/,
                    2, 15),
   'both workers\' policy subscriptions follow to the new primary');
my $follow = time - $t_switch;
diag(sprintf 'the gateway followed %.1f s after the sentinels switched', $follow);
like(hoop_error_log($ng),
     qr/\+switch-master $MASTER 127\.0\.0\.1 $P1 127\.0\.0\.1 $P2/,
     'the workers hear +switch-master from their sentinel');
ok($follow < 5, 'within 5 s of the switch (+switch-master; the backoff alone is up to 5 s)')
    or diag("took $follow s");

$n = wait_for(sub { my @d = denials($P2, $TOPIC_B); @d >= 2 ? scalar @d : 0 }, 15);
is($n, 2, 'the 2 events of the outage are replayed to the new primary, once each');

# --- after the failover -----------------------------------------------------------

spew("$DIR/v3.yaml", policy(3, $TOPIC_OK, 'literal'));
$h = hoopctl('push', "$DIR/v3.yaml", '--author', 'carol',
             '--sentinel', $SENTINELS, '--master', $MASTER);
is($h->{rc}, 0, 'hoopctl push (Sentinel) after the failover: version 3')
    or diag($h->{stderr});
like(rcli($P2, 'GET', "${PREFIX}policy:current")->{stdout} // '', qr/^3$/m,
     'version 3 is on the new primary');
log_ok($ng, qr/policy version 3 \(sha256 [0-9a-f]{64}\) from redis/, 2, 10,
       'version 3 reaches both workers');
is(describe_topic($live, $TOPIC_OK), 0, 'version 3 is enforced: the topic may be described again');

@codes = map { describe_topic($live, $TOPIC_C) } 1 .. 5;
is("@codes", '29 29 29 29 29', 'five denied requests after the failover');
$n = wait_for(sub { my @d = denials($P2, $TOPIC_C); @d >= 5 ? scalar @d : 0 }, 10);
sleep 1;    # nothing more arrives
my @c = denials($P2, $TOPIC_C);
is(scalar @c, 5, 'exactly 5 audit events for the 5 decisions, in the new primary\'s stream');
is(join(',', map { $_->{policy_version} // '?' } @c), '3,3,3,3,3',
   'decided under version 3');

# hoopctl through the environment: show and audit reach the new primary
{
    local $ENV{HOOP_SENTINEL} = $SENTINELS;
    local $ENV{HOOP_MASTER} = $MASTER;
    my $s = hoopctl('show');
    like($s->{stdout} // '', qr/description: t\/115-redis-sentinel\.t v3/,
         'hoopctl show (HOOP_SENTINEL, HOOP_MASTER) prints version 3')
        or diag($s->{stderr});
}
{
    # audit parses its options again from argv: --sentinel/--master too
    my $day = strftime('%Y-%m-%d', gmtime);
    my $aw = hoopctl('audit', 'who', '--topic', $TOPIC_C, '--date', $day, '--json',
                     '--sentinel', $SENTINELS, '--master', $MASTER);
    my $rows = eval { decode_json($aw->{stdout}) } // [];
    my ($row) = grep { ($_->{decision} // '') eq 'deny' } @$rows;
    ok($row && $row->{operation} eq 'describe',
       'hoopctl audit who (Sentinel) answers from the new primary')
        or diag($aw->{stdout} . $aw->{stderr});
}

my $bad = hoopctl('show', '--sentinel', "127.0.0.1:$P1", '--master', $MASTER);
ok($bad->{rc} == 2 && $bad->{stderr} =~ /no sentinel of 127\.0\.0\.1:$P1 led to master/,
   'hoopctl --sentinel with no sentinel there fails (exit 2)') or diag($bad->{stderr});
$bad = hoopctl('show', '--sentinel', $SENTINELS);
ok($bad->{rc} == 2 && $bad->{stderr} =~ /--sentinel needs --master NAME/,
   'hoopctl --sentinel without --master fails') or diag($bad->{stderr});

# --- a switchover while every connection is up -----------------------------------

# the old primary's port comes back as a replica of the new one; an operator
# moves the primary back (SENTINEL FAILOVER): connections that are up follow
make_path("$DIR/old");
push @pidfiles, "$DIR/old/redis.pid";
$rs = run_cmd(cmd => [ 'redis-server', '--bind', '127.0.0.1', '--port', $P1,
                       '--replicaof', '127.0.0.1', $P2,
                       '--requirepass', $DATAPASS, '--masterauth', $DATAPASS,
                       '--save', '', '--appendonly', 'no', '--dir', "$DIR/old",
                       '--daemonize', 'yes', '--pidfile', "$DIR/old/redis.pid",
                       '--logfile', "$DIR/old/redis.log" ], timeout => 10);
die "old primary: $rs->{stderr}" if $rs->{rc} != 0;
ok(wait_for(sub {
    return 0 unless (rcli($P1, 'INFO', 'replication')->{stdout} // '')
                    =~ /master_link_status:up/;
    # every sentinel sees it as a healthy replica
    for my $sp (@SP) {
        my $r = rcli($sp, '--raw', 'SENTINEL', 'REPLICAS', $MASTER)->{stdout} // '';
        return 0 unless $r =~ /^127\.0\.0\.1:$P1\nip\n127\.0\.0\.1\nport\n$P1\n.*?^flags\nslave\n/ms;
    }
    return 1;
}, 40), 'the old primary\'s port is back as a replica, seen by the sentinels');

my $fo = rcli($SP[0], 'SENTINEL', 'FAILOVER', $MASTER);
like($fo->{stdout} // '', qr/^OK/, 'SENTINEL FAILOVER') or diag($fo->{stdout} . $fo->{stderr});
ok(wait_for(sub { (master_port_of($SP[0]) // 0) == $P1 }, 30),
   'the sentinels make it the primary again');
log_ok($ng, qr/\(audit\): connected again to master "$MASTER" at 127\.0\.0\.1:$P1/, 2, 10,
       'both audit writers follow the switchover');
log_ok($ng, qr/\(policy\): connected again to master "$MASTER" at 127\.0\.0\.1:$P1/, 2, 10,
       'both workers\' policy connections follow the switchover');

spew("$DIR/v4.yaml", policy(4, 'other.', 'prefix'));
$h = hoopctl('push', "$DIR/v4.yaml", '--author', 'carol',
             '--sentinel', $SENTINELS, '--master', $MASTER);
is($h->{rc}, 0, 'hoopctl push (Sentinel) after the switchover: version 4')
    or diag($h->{stderr});
log_ok($ng, qr/policy version 4 \(sha256 [0-9a-f]{64}\) from redis/, 2, 10,
       'version 4 reaches both workers');
is(describe_topic($live, $TOPIC_OK), 29, 'version 4 is enforced: the topic is refused again');
$n = wait_for(sub { my @d = denials($P1, $TOPIC_C); @d >= 5 ? scalar @d : 0 }, 10);
is($n, 5, 'the switched-back primary has the replicated events');

close $live;
my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
unlike($log, qr/exited on signal|open socket/, 'no worker crash, no socket left open');

# --- a bad Sentinel form fails nginx -t with file:line ------------------------------

sub must_fail {
    my ($directive, $want, $name) = @_;
    my $ng = eval {
        hoop_nginx_start(test_only => 1,
                         stream_config => "$directive\n"
                             . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
                         stream_server_config => "hoop on;\nhoop_policy redis;\n"
                             . "proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;");
    };
    my $out = $@ // '';
    hoop_nginx_stop($ng) if $ng;
    my ($file, $line) = $out =~ /\[emerg\].*? in (\S+):(\d+)/;
    my $text = $file ? (split /\n/, slurp($file) // '')[$line - 1] // '' : '';
    ok(!$ng && $out =~ $want && index($text, 'hoop_redis sentinel=') >= 0, $name)
        or diag("--- output\n$out");
}

must_fail("hoop_redis sentinel=127.0.0.1:$SP[0] prefix=x:;",
          qr/"sentinel=" needs "master=NAME"/, 'nginx -t: sentinel= without master=');
must_fail("hoop_redis sentinel=127.0.0.1:$SP[0],,127.0.0.1:1 master=m;",
          qr/empty address in "sentinel="/, 'nginx -t: an empty sentinel address');
