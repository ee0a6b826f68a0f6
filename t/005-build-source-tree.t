# The module builds from an nginx source tree given by path (make
# NGINX_SRC=DIR: ./configure --with-compat --with-stream), here a copy of
# Debian's nginx source (nginx-dev), and, --with-compat and of the same
# version, loads into Debian's packaged nginx, which then proxies Kafka.
# (Another tree, e.g. nginx 1.26.3, works the same: make NGINX_SRC=...)

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $tree = "$repo/build/src-tree/nginx";
my $out = "$repo/build/src-tree/out";

plan tests => 3;

system("rm -rf '$repo/build/src-tree' && mkdir -p '$repo/build/src-tree' "
       . "&& cp -r /usr/share/nginx/src '$tree'") == 0 or die "copy failed";

# a separate build directory: the suite's own module stays as it is
my $b = run_cmd(cmd => [ 'make', '-C', $repo, "NGINX_SRC=$tree",
                         "BUILD=$out", "$out/ngx_stream_hoop_module.so" ],
                timeout => 600);
is($b->{rc}, 0, 'make NGINX_SRC=... builds the module')
    or diag(substr($b->{stdout} . $b->{stderr}, -3000));

$ENV{HOOP_MODULE} = "$out/ngx_stream_hoop_module.so";
my $ng = hoop_nginx_start(
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => "hoop on;\nproxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;");
my @f = kafka_roundtrip($ng->{port},
    metadata_request(version => 12, correlation_id => 1, topics => undef));
my $m = parse_metadata_response($f[0], 12);
is($m->{brokers}[0]{port}, $ng->{port}, 'it proxies Kafka with addresses rewritten');
my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alerts');
