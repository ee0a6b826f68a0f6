# nginx -s reload under load, the gateway against plain nginx (issue 8:
# "no connection errors beyond what plain nginx shows").  The same load
# (t/bin/kafka-load: 3 producer loops reconnecting every N records and a
# loop of one-request connections) runs through plain nginx stream
# proxy_pass (no module) and through the gateway (SASL, policy, audit to
# Redis with a spool), each reloaded 4 times, and the errors the client
# sees (refused or reset connects, connections closed under it, Produce
# without an answer) are counted.  Two cases:
#
#   drain: connections of ~0.5 s, worker_shutdown_timeout 10s: old
#          workers finish them; plain nginx shows no error and neither
#          may the gateway;
#   cut:   connections of ~5 s, worker_shutdown_timeout 1s: old workers
#          close what is still open, plain nginx shows errors too; the
#          gateway may show at most TOLERANCE more (the number of cut
#          connections depends on where each loop stands at the cut).
#
# Then, for both: every acknowledged record is in the topic exactly once
# (read from the broker), and for the gateway the audit trail counts every
# answered Produce (and at most the unanswered ones on top).
#
# The broker is a single node: its Metadata names itself, not plain
# nginx, so kafka-load keeps producing over the connection it opened
# (--no-address-check), which is all plain nginx can proxy.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat, python3.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew slurp);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use POSIX ();
use JSON::PP ();
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $TOLERANCE = 3;    # cut case: extra errors the gateway may show
my $RELOADS = 4;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
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

my $DIR = "$repo/build/t-reload-plain-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t118r$$";
my $PREFIX = "t118:$$:";

plan tests => 2 * (2 * 5 + 2) + 3;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

my $line = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice`;
die "hoop-passwd failed" if $? || $line !~ /^\{/;
spew("$DIR/credentials.jsonl", $line);
spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
grants:
  - id: alice-writes
    principals: [ "User:alice" ]
    resources: [ { type: topic, name: "rvp.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T118"
YAML

sub wait_for {
    my ($cb, $secs) = @_;
    my $t = time + $secs;
    while (1) {
        my $r = $cb->();
        return $r if $r || time > $t;
        sleep 0.1;
    }
}

sub start_nginx {
    my ($kind, $shutdown) = @_;
    my %o = (master => 1, workers => 2, log_level => 'info',
             main_config => "user root;\nworker_shutdown_timeout $shutdown;");
    if ($kind eq 'plain') {
        return hoop_nginx_start(%o, load_hoop => 0,
                                stream_server_config => "proxy_pass $BOOT;");
    }
    return hoop_nginx_start(%o,
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_audit_spool $DIR/spool;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
proxy_pass $BOOT;
CONF
}

# one run: the load through $kind, $RELOADS reloads; -> the load's summary
sub run_case {
    my ($case, $kind) = @_;
    my ($shutdown, $per_conn) = $case eq 'drain' ? ('10s', 40) : ('1s', 500);
    my $topic = "rvp.t118-$$-$case-$kind";
    kafka_ensure_topic($BOOT, $topic);
    my $ng = start_nginx($kind, $shutdown);
    my $tag = "$case-$kind";
    my $stop = "$DIR/$tag.stop";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$DIR/$tag.json" or die $!;
        open STDERR, '>', "$DIR/$tag.err" or die $!;
        { exec "$repo/t/bin/kafka-load", '--port', $ng->{port}, '--topic', $topic,
               '--stop-file', $stop, '--acked-file', "$DIR/$tag.acked",
               '--producers', 3, '--per-conn', $per_conn, '--churn', 1,
               '--interval', 0.01, '--seconds', 120,
               ($kind eq 'plain' ? ('--no-address-check')
                : ('--sasl-user', 'alice', '--sasl-password', 'alice-secret')) };
        POSIX::_exit(127);
    }
    my $started = sub { scalar(() = hoop_error_log($ng) =~ /start worker process \d+/g) };
    for my $i (1 .. $RELOADS) {
        sleep 1.5;
        kill 'HUP', $ng->{pid};
        wait_for(sub { $started->() >= 2 * ($i + 1) }, 20);
    }
    sleep 1.5;
    spew($stop, '');
    waitpid($pid, 0);
    my $rc = $? >> 8;
    my $j = eval { JSON::PP::decode_json(slurp("$DIR/$tag.json") // '') } // {};
    $j->{rc} = $rc;
    $j->{reloads} = $started->() / 2 - 1;
    $j->{topic} = $topic;
    $j->{acked} = [ split /\n/, slurp("$DIR/$tag.acked") // '' ];
    # the gateway's audit count, before nginx stops: workers cut at
    # worker_shutdown_timeout leave their spool to the current workers,
    # which adopt it at their next tick (1 s); a stop before that leaves
    # it to the next start
    $j->{audit_writes} = audit_writes($topic, $j->{produced}) if $kind eq 'gateway';
    $j->{log} = hoop_nginx_stop($ng);
    diag(sprintf "%-5s %-7s: %d reloads, %d connections, %d produced, %d errors %s",
         $case, $kind, $j->{reloads}, $j->{connections} // 0, $j->{produced} // 0,
         $j->{errors} // -1, JSON::PP::encode_json([ grep { defined } @{$j->{first_errors} // []}[0 .. 1] ]));
    return $j;
}

# alice's allowed writes on $topic in the who index, once >= $want or
# after 20 s
sub audit_writes {
    my ($topic, $want) = @_;
    my $day = POSIX::strftime('%Y-%m-%d', gmtime);
    my $w = 0;
    wait_for(sub {
        my $r = run_cmd(cmd => [ "$repo/build/tools/hoopctl", '--redis', "127.0.0.1:$RPORT",
                                 '--prefix', $PREFIX, 'audit', 'who', '--topic', $topic,
                                 '--date', $day, '--json' ], timeout => 20);
        my $rows = eval { JSON::PP::decode_json($r->{stdout}) } // [];
        my ($e) = grep { $_->{principal} eq 'alice' && $_->{operation} eq 'write'
                         && $_->{decision} eq 'allow' } @$rows;
        $w = $e ? $e->{requests} : 0;
        return $w >= ($want // 1);
    }, 20);
    return $w;
}

# the records in $topic, read from the broker: value -> times
sub in_topic {
    my ($topic) = @_;
    my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $BOOT, '-t', $topic, '-e', '-q',
                             '-f', '%s\n' ], timeout => 60);
    my %in;
    $in{$_}++ for split /\n/, $c->{stdout};
    return \%in;
}

my %res;
for my $case (qw(drain cut)) {
    for my $kind (qw(plain gateway)) {
        my $j = $res{$case}{$kind} = run_case($case, $kind);
        my $n = "$case, $kind";
        is($j->{rc}, 0, "$n: kafka-load finished") or diag(slurp("$DIR/$case-$kind.err"));
        is($j->{reloads}, $RELOADS, "$n: reloaded $RELOADS times under load");
        ok(($j->{produced} // 0) > 100, "$n: $j->{produced} records acknowledged");
        my $in = in_topic($j->{topic});
        my @missing = grep { !$in->{$_} } @{$j->{acked}};
        my @dup = grep { $in->{$_} > 1 } keys %$in;
        ok(!@missing && !@dup, "$n: each acknowledged record in the topic once")
            or diag(scalar(@missing) . ' missing, ' . scalar(@dup) . ' twice');
        my $extra = keys(%$in) - @{$j->{acked}};
        ok($extra >= 0 && $extra <= ($j->{unanswered} // 0),
           "$n: no other records but unanswered ones ($extra)");
        unlike($j->{log}, qr/\[(alert|crit|emerg)\]|exited on signal/,
               "$n: no alert, no crash") if $kind eq 'gateway';
        next unless $kind eq 'gateway';
        my $w = $j->{audit_writes};
        ok($w >= $j->{produced} && $w <= $j->{produced} + ($j->{unanswered} // 0),
           "$n: audit has every answered Produce ($w events, $j->{produced} answered, "
           . "$j->{unanswered} unanswered)");
    }
}

my ($dp, $dg) = map { $res{drain}{$_}{errors} // -1 } qw(plain gateway);
is("$dp/$dg", '0/0', 'drain: neither plain nginx nor the gateway shows an error');
my ($cp, $cg) = map { $res{cut}{$_}{errors} // 1e9 } qw(plain gateway);
ok($cp > 0 && $cg <= $cp + $TOLERANCE,
   "cut: the gateway shows $cg errors, plain nginx $cp (tolerance $TOLERANCE)");

my @left = grep { (slurp($_) // '') =~ /"event"/ } glob "$DIR/spool/*";
is(scalar @left, 0, 'no event left in a spool') or diag(`ls -la $DIR/spool`);
remove_tree($DIR) if Test::More->builder->is_passing;
