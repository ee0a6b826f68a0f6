# Valgrind memcheck over a scripted session (issue 8): nginx (master and
# one worker) runs under valgrind with the module, SASL logins, a policy
# and the audit trail to a real Redis; kcat produces and consumes through
# it as an allowed and a denied user; then nginx quits.  Every process
# valgrind watched must report no memory error and nothing definitely
# lost (nginx keeps its pools until exit, so "still reachable" is
# expected and not counted; t/valgrind.supp names what nginx itself
# leaves definitely lost).
#
# Needs: valgrind, t/bin/kafka-cluster start (Kafka), redis-server, kcat.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file spew slurp);
use Kafka::Topic;
use File::Path qw(make_path remove_tree);
use Cwd ();

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
chomp(my $vg = `command -v valgrind 2>/dev/null` // '');
if (!$vg) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('valgrind is not installed (tools/install-deps installs it)');
        exit 0;
    }
    plan skip_all => 'valgrind is not installed';
}

# The sanitized module (make test-asan) cannot run under valgrind: both
# want to own the process's memory.  The plain suite (make test) runs this.
plan skip_all => 'the sanitized module does not run under valgrind (make test runs this)'
    if $ENV{HOOP_SANITIZER_REPORTS};

my $DIR = "$repo/build/t-valgrind-$$";
remove_tree($DIR);
make_path("$DIR/spool", "$DIR/vg");
chmod 0777, $DIR, "$DIR/spool", "$DIR/vg";
$DIR = Cwd::abs_path($DIR);

my $NAME = "t110r$$";
# nginx's own: the worker's environment array, kept until exit
my $SUPP = Cwd::abs_path("$repo/t/valgrind.supp");
my $TOPIC = "vg.t110-$$";

plan tests => 6;

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
  - id: alice-all
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "vg.", match: prefix }
      - { type: group, name: "t110-", match: prefix }
    operations: [ read, write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T110"
YAML

spew("$DIR/nginx-vg", <<"SH");
#!/bin/sh
exec $vg --quiet --leak-check=full --show-leak-kinds=definite \\
    --suppressions=$SUPP \\
    --errors-for-leak-kinds=definite --num-callers=30 \\
    --log-file=$DIR/vg/vg.%p /usr/sbin/nginx "\$@"
SH
chmod 0755, "$DIR/nginx-vg";
local $ENV{TEST_NGINX_BINARY} = "$DIR/nginx-vg";

my $ng = hoop_nginx_start(
    master => 1, workers => 1, log_level => 'info', timeout => 120,
    main_config => "user root;\nworker_shutdown_timeout 10s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=t110:$$:;\n"
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

kafka_ensure_topic($ENV{TEST_NGINX_KAFKA_BOOTSTRAP}, $TOPIC);
my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, as_user('alice') ],
                stdin => "one\ntwo\nthree\n", timeout => 120);
is($p->{rc}, 0, 'alice produces through nginx under valgrind') or diag($p->{stderr});
my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', $TOPIC, '-e', '-q',
                         '-f', '%s\n', as_user('alice') ], timeout => 120);
is($c->{stdout}, "one\ntwo\nthree\n", 'and consumes') or diag($c->{stderr});
my $d = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $TOPIC, as_user('bob') ],
                stdin => "no\n", timeout => 120);
like($d->{stderr}, qr/authorization failed/i, 'bob is denied');

my $log = hoop_nginx_stop($ng, grace => 60);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');

my @logs = glob("$DIR/vg/vg.*");
my $all = join '', map { "== $_\n" . (slurp($_) // '') } @logs;
ok(@logs >= 2, scalar(@logs) . ' processes watched (master, worker, ...)');
my @bad = grep { /\S/ } map { slurp($_) // '' } @logs;
is(scalar @bad, 0, 'no memory error, nothing definitely lost') or diag(substr($all, 0, 8000));

remove_tree($DIR) if Test::More->builder->is_passing;
