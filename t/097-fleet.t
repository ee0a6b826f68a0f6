# A fleet (docs/operations.md, "A fleet of gateways"): two nginx instances,
# node-a and node-b, in front of the same Kafka broker and sharing one
# Redis.  A policy version pushed with hoopctl reaches both nodes and
# applies on both within a second; a rollback too (live connections
# follow a new version from their next request: t/075).  Audit
# events of both nodes land in the one stream, each carrying its node
# name and session ids of its own, and `hoopctl audit who` answers for the
# whole fleet.  Clients are kcat (librdkafka) with SASL PLAIN; each node
# advertises its own address for the broker, so a client that bootstrapped
# on one node stays on it.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(time sleep);
use JSON::PP;

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-fleet-$$";
remove_tree($DIR);
make_path($DIR);
chmod 0777, $DIR;

my $NAME = "t097r$$";
my $PREFIX = "t097:$$:";
my $TOPIC = "fleet.t097-$$";
my $HOOPCTL = "$repo/build/tools/hoopctl";

plan tests => 23;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
for my $u (qw(alice bob)) {
    my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    print $f $line;
}
close $f;

sub policy {
    my ($bob_writes) = @_;
    my $y = <<"YAML";
policy_version: 1
default: deny
grants:
  - id: alice-writes
    principals: [ "User:alice" ]
    resources: [ { type: topic, name: "fleet.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T097"
YAML
    $y .= <<"YAML" if $bob_writes;
  - id: bob-writes
    principals: [ "User:bob" ]
    resources: [ { type: topic, name: "fleet.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-02
    reason: "T097 bob joins"
YAML
    return $y;
}

sub hoopctl {
    my (@args) = @_;
    return run_cmd(cmd => [ $HOOPCTL, '--redis', "127.0.0.1:$RPORT",
                            '--prefix', $PREFIX, @args ], timeout => 30);
}

spew("$DIR/v1.yaml", policy(0));
spew("$DIR/v2.yaml", policy(1));
my $r = hoopctl('push', "$DIR/v1.yaml", '--author', 'carol');
is($r->{rc}, 0, 'version 1 pushed') or diag($r->{stderr});

sub node {
    my ($name) = @_;
    make_path("$DIR/$name-spool");
    chmod 0777, "$DIR/$name-spool";
    return hoop_nginx_start(
        master => 1, workers => 2, log_level => 'info',
        main_config => "user root;\nworker_shutdown_timeout 3s;",
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_node_name $name;\n"
                         . "hoop_audit_spool $DIR/$name-spool;\n"
                         . "hoop_policy_cache $DIR/$name-policy.json;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy redis;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

my %ng = (a => node('node-a'), b => node('node-b'));

# both nodes (two workers each) log the version they enforce
sub wait_version {
    my ($v, $n) = @_;
    my $t = time + 10;
    while (time < $t) {
        my $all = 1;
        for my $k (qw(a b)) {
            my @m = hoop_error_log($ng{$k})
                    =~ /hoop: policy version $v \(sha256 \w+\) from redis/g;
            $all = 0 if @m < $n;
        }
        return 1 if $all;
        sleep 0.05;
    }
    return 0;
}

ok(wait_version(1, 2), 'both nodes, every worker, enforce version 1');

sub as_user {
    my ($u) = @_;
    return ('-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN',
            '-X', "sasl.username=$u", '-X', "sasl.password=$u-secret");
}

sub produce {
    my ($node, $u, $value) = @_;
    return run_cmd(cmd => [ 'kcat', '-P', '-b', "127.0.0.1:$ng{$node}{port}",
                            '-t', $TOPIC, as_user($u) ],
                   stdin => "$value\n", timeout => 60);
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

for my $k (qw(a b)) {
    my $p = produce($k, 'alice', "alice-$k-1");
    is($p->{rc}, 0, "alice writes through node-$k") or diag($p->{stderr});
    my $d = produce($k, 'bob', "bob-$k-1");
    like($d->{stderr}, qr/Topic authorization failed/i, "bob may not, on node-$k");
}

$r = hoopctl('push', "$DIR/v2.yaml", '--author', 'carol', '--comment', 'bob joins');
is($r->{rc}, 0, 'version 2 pushed') or diag($r->{stderr});
my $t0 = time;
ok(wait_version(2, 2), 'both nodes, every worker, enforce version 2');
ok(time - $t0 < 3, sprintf('within a second or so (%.2f s)', time - $t0));

for my $k (qw(a b)) {
    my $p = produce($k, 'bob', "bob-$k-2");
    is($p->{rc}, 0, "bob writes through node-$k under version 2") or diag($p->{stderr});
}

# what the broker holds: every allowed record once, no denied one
my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $ENV{TEST_NGINX_KAFKA_BOOTSTRAP},
                         '-t', $TOPIC, '-e', '-q', '-f', '%s\n' ], timeout => 60);
is(join(',', sort split /\n/, $c->{stdout}),
   'alice-a-1,alice-b-1,bob-a-2,bob-b-2',
   'the broker holds the allowed records, once each') or diag($c->{stderr});

$r = hoopctl('rollback', '1', '--author', 'carol', '--comment', 'bob leaves');
is($r->{rc}, 0, 'rolled back to version 1') or diag($r->{stderr});
# version 1 is current again: every worker of both nodes switches back
ok(wait_version(1, 4), 'both nodes enforce the rollback');
for my $k (qw(a b)) {
    my $d = produce($k, 'bob', "bob-$k-3");
    like($d->{stderr}, qr/Topic authorization failed/i, "bob denied again on node-$k");
}

# the one audit trail: events of both nodes, each with its node and ids
my $x = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE',
                         "${PREFIX}audit", '-', '+' ], timeout => 10);
my (%nodes, %sids);
my @lines = split /\n/, $x->{stdout} // '';
for my $i (0 .. $#lines - 1) {
    $nodes{ $lines[$i + 1] }++ if $lines[$i] eq 'node';
    $sids{ $lines[$i + 1] } = 1 if $lines[$i] eq 'sid';
}
is(join(',', sort keys %nodes), 'node-a,node-b', 'events of both nodes, named');
ok(!grep({ !/^node-[ab]-[0-9a-f]+-\d+$/ } keys %sids) && keys %sids >= 8,
   'session ids carry their node (' . scalar(keys %sids) . ' sessions)');

# who wrote the topic today, across the fleet (the writers' batches may
# still be on their way: wait for bob's four denials)
my $who;
my $t = time + 10;
do {
    sleep 0.2;
    $r = hoopctl('audit', 'who', '--topic', $TOPIC, '--json');
    $who = eval { decode_json($r->{stdout}) } // [];
} until (time > $t || grep { $_->{principal} eq 'bob' && $_->{operation} eq 'describe'
                              && $_->{decision} eq 'deny' && $_->{requests} >= 4 } @$who);
my %w = map { ("$_->{principal} $_->{operation} $_->{decision}" => $_->{requests}) } @$who;
ok(($w{'alice write allow'} // 0) >= 2, 'who: alice wrote (both nodes)') or diag($r->{stdout});
ok(($w{'bob write allow'} // 0) >= 2, 'who: bob wrote under version 2, on both nodes');
# librdkafka asks Metadata first: the topic is not there for bob (describe
# denied), so no Produce is sent
ok(($w{'bob describe deny'} // 0) >= 4,
   'who: bob denied on both nodes, under version 1 and after the rollback')
    or diag($r->{stdout});
ok(!exists $w{'bob write deny'}, 'and never got as far as a Produce');

my $log = hoop_nginx_stop($ng{a}) . hoop_nginx_stop($ng{b});
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal|open socket/, 'no alert, no crash, no socket left');

remove_tree($DIR) if Test::More->builder->is_passing;
