# Prometheus metrics (hoop_metrics, docs/metrics.md): a stream server with
# "hoop_metrics;" answers a scrape with the counters every worker keeps in
# one shared memory zone.  Real traffic (kcat as two SASL users under a
# policy, with the audit trail on) moves the counters by what happened:
# requests by ApiKey and decision, authentications by mechanism and
# result, connections, client bytes, audit events written; the numbers are
# the instance's (two workers), survive a reload, and the endpoint answers
# only GET.  The stream access log, with the $hoop_* variables of a
# documented log_format, names each connection's principal, outcome,
# ApiKeys, topics and its session id in the audit trail.
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew free_port);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-metrics-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t096r$$";
my $PREFIX = "t096:$$:";
my $TOPIC = "metrics.t096-$$";

plan tests => 26;

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

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
grants:
  - id: bob-writes
    principals: [ "User:bob" ]
    resources: [ { type: topic, name: "metrics.", match: prefix } ]
    operations: [ write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T096"
  - id: alice-reads
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "metrics.", match: prefix }
      - { type: group, name: "t096-", match: prefix }
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T096"
YAML

my $MPORT = free_port(owner => 't/096 metrics');

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 3s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_audit_spool $DIR/spool;\n"
                     . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;' . "\n"
                     . "server { listen 127.0.0.1:$MPORT; hoop_metrics; }\n"
                     . 'log_format hoop \'$remote_addr [$time_local] $hoop_session_id '
                     . '"$hoop_principal" $hoop_auth_method $hoop_decision '
                     . 'requests=$hoop_requests "$hoop_decisions" "$hoop_api_keys" '
                     . 'last=$hoop_api_key topics="$hoop_topics" $bytes_received '
                     . "\$bytes_sent \$session_time';",
    stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $DIR/credentials.jsonl;
hoop_policy $DIR/policy.yaml;
hoop_audit on;
access_log $DIR/access.log hoop;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
my $boot = "127.0.0.1:$ng->{port}";

# one scrape: (status line, { "name{labels}" => value })
sub scrape {
    my ($req) = @_;
    $req //= "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $MPORT,
                                  Proto => 'tcp', Timeout => 5) or return;
    print $s $req;
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my %m;
    for (split /\n/, $body // '') {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (-?\d+)$/;
    }
    return ((split /\r\n/, $head // '')[0] // '', \%m, $head // '', $body // '');
}

sub as_user {
    my ($u, $pw) = @_;
    return ('-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN',
            '-X', "sasl.username=$u", '-X', "sasl.password=" . ($pw // "$u-secret"));
}

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);

my ($status0, $m0, $head0) = scrape();
is($status0, 'HTTP/1.1 200 OK', 'the scrape answers 200');
like($head0, qr/Content-Type: text\/plain; version=0\.0\.4/i, 'in the Prometheus text format');

run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, as_user('bob') ],
        stdin => "a\nb\n", timeout => 60);
run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, as_user('alice') ],
        stdin => "c\n", timeout => 60);
run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, as_user('bob', 'wrong') ], timeout => 30);

my $m;
my $t = time + 10;
do {
    sleep 0.2;
    (undef, $m) = scrape();
} until (($m->{'hoop_connections_active'} // 1) == 0
         && ($m->{'hoop_audit_events_total{outcome="written"}'} // 0) > 0) || time > $t;

my $k = 'hoop_requests_total{api="Produce",api_key="0",decision=';
ok(($m->{"$k\"allow\"}"} // 0) >= 1, 'Produce allowed (bob) is counted') or diag(explain($m));
ok(($m->{"$k\"deny\"}"} // 0) >= 1, 'Produce denied (alice) is counted');
ok(($m->{'hoop_requests_total{api="SaslAuthenticate",api_key="36",decision="local"}'} // 0) >= 3,
   'SASL requests answered by the gateway');
ok(($m->{'hoop_authentications_total{method="PLAIN",result="success"}'} // 0) >= 2,
   'successful PLAIN logins');
ok(($m->{'hoop_authentications_total{method="PLAIN",result="failure"}'} // 0) >= 1,
   'the failed login');
ok(($m->{'hoop_connections_total'} // 0) >= 3, 'connections handled');
is($m->{'hoop_connections_active'}, 0, 'none open after the clients left');
ok(($m->{'hoop_client_bytes_total{direction="in"}'} // 0) > 100
   && ($m->{'hoop_client_bytes_total{direction="out"}'} // 0) > 100, 'client bytes both ways');
ok(($m->{'hoop_audit_events_total{outcome="written"}'} // 0) > 0, 'audit events written');
my @w = grep { /^hoop_worker_redis_connections\{/ } keys %$m;
is(scalar @w, 2, 'a line per worker');
ok(!grep({ $m->{$_} != 1 } @w), 'each worker has its audit connection to Redis ready');

# the instance's numbers, not one worker's: compare with the error log's
# count of logins (whichever worker took them)
my $logins = () = hoop_error_log($ng) =~ /client authenticated as "(?:alice|bob)" with PLAIN/g;
is($m->{'hoop_authentications_total{method="PLAIN",result="success"}'}, $logins,
   'logins counted across both workers');

# a reload keeps the counters (the zone is reused)
my $before = $m->{"$k\"allow\"}"};
kill 'HUP', $ng->{pid};
my $reloaded = 0;
$t = time + 10;
while (time < $t) {
    $reloaded = () = hoop_error_log($ng) =~ /start worker process/g;
    last if $reloaded >= 4;
    sleep 0.1;
}
ok($reloaded >= 4, 'reloaded');
sleep 0.5;
my (undef, $m2) = scrape();
is($m2->{"$k\"allow\"}"}, $before, 'counters survive a reload');

my ($s405) = scrape("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
is($s405, 'HTTP/1.1 405 Method Not Allowed', 'only GET');
my ($s400) = scrape('x' x 5000);
is($s400, 'HTTP/1.1 400 Bad Request', 'a request head over 4 KiB is refused');

# the access log: one line per connection, bob's produce allowed, alice's
# denied, the failed login with no principal
my @acc = do { open my $a, '<', "$DIR/access.log" or die $!; <$a> };
my ($bob) = grep { /"bob" PLAIN / } @acc;
my ($alice) = grep { /"alice" PLAIN / } @acc;
ok($bob, 'a line for bob') or diag(@acc);
like($bob // '', qr/ allow requests=\d+ "[^"]*local=\d+[^"]*" "[^"]*Produce=\d[^"]*" last=\w+ topics="\Q$TOPIC\E" /,
     'bob: allowed, Produce among his ApiKeys, the topic named');
like($alice // '', qr/ deny requests=\d+ "[^"]*deny=\d[^"]*" "[^"]*Produce=\d[^"]*" last=\w+ topics="\Q$TOPIC\E" /,
     'alice: denied');
my ($bad) = grep { !/"(?:alice|bob)"/ } @acc;
like($bad // '', qr/ "-" PLAIN auth_failed requests=3 "allow=1 local=2" "ApiVersions=1 SaslHandshake=1 SaslAuthenticate=1" last=SaslAuthenticate topics="-" /,
     'the failed login: no principal, auth_failed') or diag(@acc);
my %ids = map { (/^\S+ \[[^\]]+\] (\S+) / ? ($1 => 1) : ()) } @acc;
is(scalar keys %ids, scalar @acc, 'one line per connection, each with its own session id');
my ($sid) = ($bob // '') =~ /^\S+ \[[^\]]+\] (\S+) /;
like($sid // '', qr/^[\w.-]+-[0-9a-f]+-\d+$/, '$hoop_session_id: node, worker start, connection');
my $xr = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '--raw', 'XRANGE', "${PREFIX}audit", '-', '+' ],
                 timeout => 10);
my $evs = () = ($xr->{stdout} // '') =~ /^\Q$sid\E$/mg;
ok($sid && $evs >= 2, "the audit trail has bob's session under that id ($evs events)");

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal|open socket/, 'no alert, no crash, no socket left');

remove_tree($DIR) if Test::More->builder->is_passing;
