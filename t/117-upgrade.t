# nginx binary upgrade under load (issue 8), nginx's documented procedure
# (https://nginx.org/en/docs/control.html#upgrade) with the gateway: USR2
# to the old master starts a new master from the binary (and here a module
# file swapped in just before: a module upgrade), both serve for a while,
# WINCH stops the old workers gracefully, QUIT ends the old master.
# Meanwhile t/bin/kafka-load produces through the gateway (SASL, policy,
# audit to Redis with a spool), reconnecting every 40 records, and kcat
# consumes through it.  Then: no producer saw an error, every acknowledged
# record is in the topic exactly once (read from the broker), the consumer
# kept reading and has them all, the audit trail counts exactly the
# client's Metadata and Produce requests and one `closed` event per
# connection (old and new workers alike), and no spool holds an event.
#
# nginx ignores USR2 when the master's parent is the process that started
# it and WINCH when it is not daemonized (os/unix/ngx_process.c), so this
# test runs nginx with `daemon on` and follows it by its pid file.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat, python3.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Hoop::Util qw(:all);
use Kafka::Topic;
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use POSIX ();
use JSON::PP ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';
load_test_env();

my $repo = repo_dir();
my $BOOT = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my $need = !$BOOT ? 'Kafka (t/bin/kafka-cluster start)'
         : !hoop_module_available() ? 'the module (make)'
         : system('which kcat redis-server python3 >/dev/null 2>&1') ? 'kcat, redis-server, python3'
         : '';
if ($need) {
    plan skip_all => "needs $need" unless $ENV{HOOP_TEST_REQUIRE_ALL};
    plan tests => 1;
    fail("needs $need");
    exit 0;
}

my $DIR = "$repo/build/t-upgrade-$$";
remove_tree($DIR);
make_path("$DIR/spool", "$DIR/mod", "$DIR/nginx/logs", "$DIR/nginx/conf");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t117u$$";
my $PREFIX = "t117:$$:";
my $TOPIC = "upg.t117-$$";
my $ROOT = "$DIR/nginx";
my $PIDFILE = "$ROOT/logs/nginx.pid";

plan tests => 25;

my @pids;    # nginx masters to stop at the end
my @kids;    # the consumer and the load, if the test dies early
my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    local $?;
    kill 'TERM', @kids if @kids;
    for my $p (@pids) { kill 'QUIT', $p if alive($p); }
    my $t = time + 10;
    sleep 0.1 while grep({ alive($_) } @pids) && time < $t;
    for my $p (@pids) { kill 'KILL', $p if alive($p); }
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

# a process that exists and is not a zombie (a daemonized master is
# reaped by whatever adopted it, maybe late)
sub alive {
    my ($pid) = @_;
    my $s = slurp("/proc/$pid/stat") // return 0;
    return $s !~ /^\d+ \(.*?\) Z/s;
}

sub children {
    my ($pid) = @_;
    my @c;
    for my $f (glob '/proc/[0-9]*/stat') {
        my $s = slurp($f) // next;
        push @c, $1 if $s =~ /^(\d+) \(.*\) [^Z] (\d+) /s && $2 == $pid;
    }
    return @c;
}

sub wait_for {
    my ($cb, $secs) = @_;
    my $t = time + $secs;
    while (1) {
        my $r = $cb->();
        return $r if $r || time > $t;
        sleep 0.1;
    }
}

sub read_pid {
    my ($f) = @_;
    my $p = slurp($f) // return 0;
    return $p =~ /^(\d+)/ ? $1 : 0;
}

sub error_log { return slurp("$ROOT/logs/error.log") // '' }

for my $u ([ alice => 'alice-secret' ], [ bob => 'bob-secret' ]) {
    my $line = `printf '%s' '$u->[1]' | '$repo/build/tools/hoop-passwd' --user $u->[0]`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    open my $f, '>>', "$DIR/credentials.jsonl" or die $!;
    print $f $line;
    close $f;
}

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
grants:
  - id: alice-writes
    principals: [ "User:alice" ]
    resources: [ { type: topic, name: "upg.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T117 producer"
  - id: bob-reads
    principals: [ "User:bob" ]
    resources: [ { type: topic, name: "upg.", match: prefix } ]
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T117 consumer"
YAML

# the module is loaded from a copy that is replaced before USR2
my $MOD = "$DIR/mod/ngx_stream_hoop_module.so";
copy(hoop_module_path(), $MOD) or die "copy module: $!";
my ($port) = free_ports(1, owner => "test $0");
my $conf = nginx_conf_text(
    servroot => $ROOT, server_port => $port, master => 1, workers => 2,
    log_level => 'info', load_hoop => 0, extra_modules => [ $MOD ],
    # the new binary gets only the environment `env` names: keep what
    # tools/asan-nginx preloads (make test-asan)
    main_config => "user root;\nworker_shutdown_timeout 5s;\n"
                   . join('', map { "env $_;\n" } qw(LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS)),
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . "hoop_broker_address 1 127.0.0.1:$port;",
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass $BOOT;
CONF
$conf =~ s/^daemon off;$/daemon on;/m or die 'no daemon line';
spew("$ROOT/conf/nginx.conf", $conf);

my $r = run_cmd(cmd => [ nginx_binary(), '-p', "$ROOT/", '-c', 'conf/nginx.conf' ],
                timeout => 30);
die "nginx did not start: $r->{stderr}$r->{stdout}" . error_log() if $r->{rc} != 0;
my $old = wait_for(sub { read_pid($PIDFILE) }, 10) or die 'no pid file';
push @pids, $old;
wait_for(sub { port_listening($port) && children($old) == 2 }, 15)
    or die "nginx is not listening on $port\n" . error_log();
kafka_ensure_topic($BOOT, $TOPIC);

# the consumer: kcat through the gateway as bob, from the beginning
my $cons = fork // die "fork: $!";
if ($cons == 0) {
    open STDOUT, '>', "$DIR/consumer.out" or die $!;
    open STDERR, '>', "$DIR/consumer.err" or die $!;
    # -E: when the old worker closes its connections at
    # worker_shutdown_timeout, librdkafka reports all brokers down and
    # reconnects; kcat would exit on that report without -E
    { exec 'kcat', '-C', '-E', '-u', '-q', '-b', "127.0.0.1:$port", '-t', $TOPIC,
           '-o', 'beginning', '-f', '%s\n', '-X', 'security.protocol=SASL_PLAINTEXT',
           '-X', 'sasl.mechanism=PLAIN', '-X', 'sasl.username=bob',
           '-X', 'sasl.password=bob-secret' };
    POSIX::_exit(127);
}
push @kids, $cons;

my $STOP = "$DIR/stop";
my $load = fork // die "fork: $!";
if ($load == 0) {
    open STDOUT, '>', "$DIR/load.json" or die $!;
    open STDERR, '>', "$DIR/load.err" or die $!;
    { exec "$repo/t/bin/kafka-load", '--port', $port, '--topic', $TOPIC,
           '--stop-file', $STOP, '--acked-file', "$DIR/acked",
           '--producers', 3, '--per-conn', 40, '--churn', 1,
           '--interval', 0.01, '--seconds', 120,
           '--sasl-user', 'alice', '--sasl-password', 'alice-secret' };
    POSIX::_exit(127);
}
push @kids, $load;

sleep 2;
# the module upgrade: a new file (new inode) where load_module points
copy(hoop_module_path(), "$MOD.new") or die "copy module: $!";
rename "$MOD.new", $MOD or die "rename: $!";
my $mod_ino = (stat $MOD)[1];

# 1. USR2: a new master from the binary, with the old one's listeners
kill 'USR2', $old;
my $new = wait_for(sub {
    my $p = read_pid($PIDFILE);
    return $p && $p != $old && -e "$PIDFILE.oldbin" ? $p : 0;
}, 15);
ok($new, "USR2: a new master ($new) next to the old one ($old)")
    or diag(error_log());
push @pids, $new if $new;
ok(wait_for(sub { $new && children($new) == 2 }, 20), 'the new master runs two workers');
my @new_workers = $new ? children($new) : ();
is(read_pid("$PIDFILE.oldbin"), $old, 'the old pid file is nginx.pid.oldbin');
my $maps = slurp("/proc/$new/maps") // '';
ok(scalar(grep { /\s$mod_ino\s+\Q$MOD\E$/ } split /\n/, $maps),
   'the new master mapped the replaced module file (inode ' . $mod_ino . ')');
# (the new master is a child of the old one too)
my @old_workers = grep { $_ != $new } children($old);
is(scalar @old_workers, 2, 'the old workers still run');
sleep 2;    # old and new workers both accept

# 2. WINCH: the old workers stop accepting and leave when their
# connections end (the consumer's after worker_shutdown_timeout)
kill 'WINCH', $old;
ok(wait_for(sub { !grep { alive($_) } @old_workers }, 25),
   'WINCH: the old workers exit gracefully') or diag(error_log());
sleep 1;

# 3. QUIT: the old master leaves, the new one keeps serving
kill 'QUIT', $old;
ok(wait_for(sub { !alive($old) }, 15), 'QUIT: the old master exits');
ok(alive($new) && !-e "$PIDFILE.oldbin" && read_pid($PIDFILE) == $new,
   'the new master owns nginx.pid');
sleep 2;

spew($STOP, '');
waitpid($load, 0);
my $lrc = $? >> 8;
my $lj = eval { JSON::PP::decode_json(slurp("$DIR/load.json") // '') } // {};
is($lrc, 0, 'kafka-load finished') or diag(slurp("$DIR/load.err"));
is($lj->{errors}, 0, 'the producers saw no error: ' . JSON::PP::encode_json($lj));
ok(($lj->{produced} // 0) > 100 && ($lj->{connections} // 0) > 10,
   "$lj->{produced} records acknowledged over $lj->{connections} connections");

# every acknowledged record is in the topic exactly once (the broker)
my @acked = split /\n/, slurp("$DIR/acked") // '';
my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $BOOT, '-t', $TOPIC, '-e', '-q',
                         '-f', '%s\n' ], timeout => 60);
my %in;
$in{$_}++ for split /\n/, $c->{stdout};
my @missing = grep { !$in{$_} } @acked;
my @dup = grep { $in{$_} > 1 } keys %in;
is(scalar @missing, 0, scalar(@acked) . ' acknowledged records all in the topic')
    or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
is(scalar @dup, 0, 'none twice');
is(scalar(keys %in), scalar @acked, 'and nothing else');

# the consumer kept reading through the upgrade
my $got = wait_for(sub {
    my %r = map { $_ => 1 } split /\n/, slurp("$DIR/consumer.out") // '';
    return (grep { !$r{$_} } @acked) ? 0 : scalar keys %r;
}, 30);
my $cons_running = waitpid($cons, POSIX::WNOHANG()) == 0;
ok($got && $cons_running, "the consumer kept reading: it has all "
   . scalar(@acked) . ' records') or diag(slurp("$DIR/consumer.err"));
kill 'TERM', $cons;
waitpid($cons, 0);
@kids = ();

# the audit trail: alice's decisions equal what kafka-load did; events of
# the old workers' last connections went to their spool or to Redis
my $day = POSIX::strftime('%Y-%m-%d', gmtime);
my %who;
wait_for(sub {
    my $r = run_cmd(cmd => [ "$repo/build/tools/hoopctl", '--redis', "127.0.0.1:$RPORT",
                             '--prefix', $PREFIX, 'audit', 'who', '--topic', $TOPIC,
                             '--date', $day, '--json' ], timeout => 20);
    my $w = eval { JSON::PP::decode_json($r->{stdout}) } // [];
    %who = map { ("$_->{principal}/$_->{operation}/$_->{decision}" => $_->{requests}) } @$w;
    return ($who{'alice/write/allow'} // 0) >= ($lj->{produced} // 1)
        && ($who{'alice/describe/allow'} // 0) >= ($lj->{metadata} // 1);
}, 20);
is($who{'alice/write/allow'} // 0, $lj->{produced},
   'audit: one allowed write per acknowledged Produce request');
is($who{'alice/describe/allow'} // 0, $lj->{metadata},
   'audit: one allowed describe per Metadata request');

# alice's events in the stream: closed events, allowed writes on the
# topic (an aggregate counts `count` requests) and entries seen twice
sub stream_tally {
    my $r = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE',
                             "${PREFIX}audit", '-', '+' ], timeout => 20);
    my (%t, %seen, @ev, $k) = (closed => 0, writes => 0, dups => 0);
    # --raw: an id, then field and value lines, entry after entry
    for my $l (split /\n/, $r->{stdout} // '') {
        if (!defined $k && $l =~ /^\d{13}-\d+$/) { push @ev, {}; next; }
        next unless @ev;
        if (defined $k) { $ev[-1]{$k} = $l; undef $k; } else { $k = $l; }
    }
    for my $e (@ev) {
        next unless ($e->{principal} // '') eq 'alice';
        $t{dups}++ if defined $e->{seq} && $seen{"$e->{sid}/$e->{seq}"}++;
        $t{closed}++ if ($e->{event} // '') eq 'closed';
        $t{writes} += $e->{count} // 1
            if ($e->{operation} // '') eq 'write' && ($e->{decision} // '') eq 'allow'
               && ($e->{resource} // '') eq $TOPIC;
    }
    return \%t;
}
my $tally = {};
wait_for(sub { $tally = stream_tally(); $tally->{closed} >= ($lj->{connections} // 1) }, 15);
is($tally->{closed}, $lj->{connections}, "audit: a closed event for each of alice's connections");
is($tally->{writes}, $lj->{produced}, 'audit: the stream\'s write events count each Produce once');
is($tally->{dups}, 0, 'audit: no event in the stream twice');

# who served whom, by the worker pid in the error log lines
my (%alice, %bob);
for (split /\n/, error_log()) {
    $alice{$1}++ if /\s(\d+)#\d+: .*client authenticated as "alice"/;
    $bob{$1}++ if /\s(\d+)#\d+: .*client authenticated as "bob"/;
}
ok(grep({ $alice{$_} } @old_workers) && grep({ $alice{$_} } @new_workers),
   'the producers were served by old and new workers');
ok(grep({ $bob{$_} } @new_workers),
   'the consumer moved to a new worker when the old one closed its connection');

# stop the new master; the spools hold no event
kill 'QUIT', $new;
ok(wait_for(sub { !alive($new) }, 20), 'the new master stops');
my @left = grep { (slurp($_) // '') =~ /"event"/ } glob "$DIR/spool/*";
is(scalar @left, 0, 'no event left in a spool') or diag(`ls -la $DIR/spool`);
my $log = error_log();
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal|ignoring/,
       'no alert, no crash, no signal ignored')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]|exited on signal|ignoring/ } split /\n/, $log);

release_ports($port);
remove_tree($DIR) if Test::More->builder->is_passing;
