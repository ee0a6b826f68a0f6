# The audit writer when Redis forgets its script (issue 5): SCRIPT FLUSH
# (an operator, a script cache reset) while requests flow.  The writer
# loads the script again and resends what was refused, once: every
# decision lands in the stream exactly once, and the error log says so
# in a line or two, not in a retry loop (before the fix: thousands of
# "NOSCRIPT" lines a second and nothing written after the flush).
#
# Each connection is a raw client: SASL PLAIN as alice, then $PER Produce
# requests to a topic she may not write (a denial is never aggregated, so
# each request is exactly one event), then close.  Expected per
# connection: one "authenticated", $PER "request" with decision deny, one
# "closed".
#
# Needs: t/bin/kafka-cluster start (Kafka), redis-server.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file slurp spew redis_xrange);
use Kafka::RecordBatch;
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

if (!env_is_up('kafka')) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('kafka is up');
        exit 0;
    }
    plan skip_all => 'needs kafka (t/bin/kafka-cluster start)';
}

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = run_dir() . "/t116-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t116r$$";
my $PREFIX = "t116:$$:" . int(time) . ':';
my $SECRET = "secret.t116-$$";
my $CONNS = 30;
my $PER = 5;

plan tests => 9;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

sub rcli {
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @_ ], timeout => 10);
}

# the stream's entries as hashes (see t/090-audit.t)
sub xrange { return redis_xrange($RPORT, $_[0]); }

open my $f, '>', "$DIR/credentials.jsonl" or die $!;
my $line = `printf '%s' alice-secret | '$repo/build/tools/hoop-passwd' --user alice`;
die "hoop-passwd failed" if $? || $line !~ /^\{/;
print $f $line;
close $f;

spew("$DIR/policy.yaml", <<"YAML");
policy_version: 1
default: deny
description: t/116-audit-noscript.t
grants:
  - id: alice-reads-audit
    principals: [ "User:alice" ]
    resources:
      - { type: topic, name: "audit.", match: prefix }
    operations: [ read, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T116"
YAML

my $ng = hoop_nginx_start(
    master => 1, workers => 2, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 3s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                     . "hoop_node_name gw-t116;\n"
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

sub read_frame {
    my ($s, $buf, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $end = time + $timeout;
    while (1) {
        if (length $$buf >= 4) {
            my $n = unpack('l>', $$buf);
            if (length $$buf >= 4 + $n) {
                my $p = substr($$buf, 4, $n);
                substr($$buf, 0, 4 + $n, '');
                return $p;
            }
        }
        my $left = $end - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        return undef unless sysread($s, $$buf, 65536, length $$buf);
    }
}

# one connection: login, $PER refused Produce requests; the number of
# answers read (2 + $PER when all went well)
sub session {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->{port},
                                  Proto => 'tcp', Timeout => 5) or return 0;
    my $buf = '';
    my $n = 0;
    syswrite($s, kafka_request(api_key => 17, version => 1, correlation_id => 1,
                               body => enc_string('PLAIN'))
                 . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                                 body => enc_compact_bytes("\0alice\0alice-secret")
                                         . enc_tagged_fields()));
    for (1 .. 2) { $n++ if defined read_frame($s, \$buf, 10) }
    for my $i (1 .. $PER) {
        syswrite($s, produce_request(version => 9, correlation_id => 10 + $i,
                                     acks => 1, topic => $SECRET));
        $n++ if defined read_frame($s, \$buf, 10);
    }
    close $s;
    return $n;
}

# --- traffic with the script flushed three times on the way -----------------

my %flush_at = (5 => 1, 12 => 1, 20 => 1);
my $answers = 0;
for my $c (1 .. $CONNS) {
    if ($flush_at{$c}) {
        is(rcli('SCRIPT', 'FLUSH')->{stdout} // '', "OK\n", "SCRIPT FLUSH before connection $c")
            if $c == 5;
        rcli('SCRIPT', 'FLUSH') if $c != 5;
    }
    $answers += session();
    sleep 0.1;
}
is($answers, $CONNS * (2 + $PER), "$CONNS connections, each answered $PER times after login");

# the "closed" events come last; wait for all of them
my @ev;
my $end = time + 20;
while (time < $end) {
    @ev = xrange("${PREFIX}audit");
    last if (grep { ($_->{event} // '') eq 'closed' } @ev) >= $CONNS;
    sleep 0.3;
}
sleep 1.5;    # anything written twice would come now
@ev = xrange("${PREFIX}audit");

my @auth = grep { ($_->{event} // '') eq 'authenticated' && ($_->{principal} // '') eq 'alice' } @ev;
my @deny = grep { ($_->{event} // '') eq 'request' && ($_->{decision} // '') eq 'deny'
                  && ($_->{resource} // '') eq $SECRET } @ev;
my @closed = grep { ($_->{event} // '') eq 'closed' } @ev;
is(scalar @auth, $CONNS, 'every login is one "authenticated" event');
is(scalar @deny, $CONNS * $PER, 'every refused Produce is one deny event')
    or diag(hoop_error_log($ng) =~ s/^(.{4000}).*/$1/sr);
is(scalar @closed, $CONNS, 'every connection is one "closed" event');

my %seen;
my @dups = grep { $seen{"$_->{sid}/$_->{seq}"}++ } grep { defined $_->{seq} } @ev;
is(scalar @dups, 0, 'no event written twice');

my $log = hoop_error_log($ng);
my $noscript = () = $log =~ /NOSCRIPT/g;
ok($noscript >= 1 && $noscript <= 12,
   "the error log says NOSCRIPT a few times, not in a loop ($noscript lines)");
like($log, qr/the audit script is gone \(NOSCRIPT\): loading it again/,
     'and says it loads the script again');

$log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal|open socket/,
       'no alert, no crash, no socket left')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]|exited on signal|open socket/ }
                       split /\n/, $log);

remove_tree($DIR) if Test::More->builder->is_passing;
