# Under `make test-asan` (HOOP_SANITIZER_REPORTS set): the nginx the suite
# starts really runs the module built with ASan and UBSan, with the
# sanitizer runtimes loaded, so a clean suite means something.  Skipped in
# the plain suite.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;

my $reports = $ENV{HOOP_SANITIZER_REPORTS};
plan skip_all => 'not a sanitizer run (make test-asan)' unless $reports;
plan tests => 5;

my $ng = hoop_nginx_start(
    master => 1, workers => 1,
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => "hoop on;\nproxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;");

my @frames = kafka_roundtrip($ng->{port},
    api_versions_request(version => 3, correlation_id => 7));
is(parse_api_versions_response($frames[0], 3)->{correlation_id}, 7,
   'the sanitized module answers through nginx');

my ($worker) = grep { /^\d+$/ } split /\s+/, `pgrep -P $ng->{pid}`;
my $maps = do { local $/; open my $m, '<', "/proc/$worker/maps" or die $!; <$m> };
like($maps, qr{/libasan\.so}, 'the worker has the ASan runtime');
like($maps, qr{/libubsan\.so}, 'and the UBSan runtime');
like($maps, qr{\Q$ENV{HOOP_MODULE}\E}, "and the sanitized module ($ENV{HOOP_MODULE})");

my $log = hoop_nginx_stop($ng);
my @r = glob("$reports/*");
is(scalar @r, 0, 'no sanitizer report') or diag(`head -n 40 @r`);
