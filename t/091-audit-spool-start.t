# Workers starting together share the spool directory (hoop_audit_spool):
# each creates its own spool file while the others scan the directory for
# spools to adopt.  A new spool must never be seen half made: before the
# fix a scanning worker could open one before its header was written, log
# "is not a spool file" and hold its lock, leaving the owner without a
# spool.  Many workers and several reloads make the window likely.
#
# Needs: redis-server (t/bin/redis-env), the module.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(run_dir read_env_file);
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(time sleep);

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $DIR = "$repo/build/t-spool-start-$$";
remove_tree($DIR);
make_path("$DIR/spool");
chmod 0777, $DIR, "$DIR/spool";

my $NAME = "t091r$$";
my $WORKERS = 12;
my $RELOADS = 6;

plan tests => 4;

my $st = run_cmd(cmd => [ "$repo/t/bin/redis-env", 'start', '--name', $NAME ],
                 timeout => 30);
die "redis-env start: $st->{stderr}" if $st->{rc} != 0;
my $renv = read_env_file(run_dir() . "/$NAME.env") or die 'no redis env file';
my $RPORT = $renv->{REDIS_PORT};

END {
    system("$repo/t/bin/redis-env", 'stop', '--name', $NAME) if $NAME;
}

my $ng = hoop_nginx_start(
    master => 1, workers => $WORKERS, log_level => 'info',
    main_config => "user root;\nworker_shutdown_timeout 2s;",
    stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=t091:$$:;\n"
                     . "hoop_audit_spool $DIR/spool;",
    stream_server_config => "hoop on;\nhoop_audit on;\n"
                            . "proxy_pass 127.0.0.1:1;");

sub started {
    return scalar(() = hoop_error_log($ng) =~ /start worker process \d+/g);
}

my $t = time + 20;
sleep 0.05 while started() < $WORKERS && time < $t;
for my $i (1 .. $RELOADS) {
    kill 'HUP', $ng->{pid};
    $t = time + 20;
    sleep 0.05 while started() < $WORKERS * ($i + 1) && time < $t;
}
is(started(), $WORKERS * ($RELOADS + 1), "$WORKERS workers started " . ($RELOADS + 1) . ' times');
sleep 3;   # old workers gone, their spools adopted

my $log = hoop_nginx_stop($ng);
unlike($log, qr/is not a spool file/, 'no worker saw a spool without its header');
unlike($log, qr/cannot (?:lock|create|write|rename)[^\n]*spool/, 'every worker had its own spool');
unlike($log, qr/\[(alert|crit|emerg)\]|exited on signal/, 'no alert, no crash');

remove_tree($DIR) if Test::More->builder->is_passing;
