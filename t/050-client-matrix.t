# The client matrix through the gateway, against a real Kafka 4.1.1 broker:
# Java kafka-clients 4.1.1, librdkafka (kcat's library) and kafka-python
# each produce with none, gzip, snappy, lz4 and zstd, and every client
# consumes every topic with a consumer group; records arrive intact (keys,
# values, headers, timestamps).  acks=0/1/all, idempotent and transactional
# producers work, and no client ever connects to the broker directly (the
# kernel's view: connect() calls traced by the drivers).

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;

my @CLIENTS = qw(java python kcat);
my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';

plan tests => 1 + 4 * @CLIENTS + 4 * @CLIENTS + 2;

my $ng = hoop_nginx_start(
    stream_config => 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
    stream_server_config => "hoop on;\nproxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;",
    log_level => 'info',
);
my $gw = "127.0.0.1:$ng->{port}";
my ($broker_port) = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} =~ /:(\d+)$/;

sub client {
    my ($name, @args) = @_;
    return run_cmd(cmd => [ "$repo/t/clients/$name/run", @args ],
                   timeout => 120);
}

sub check_records {
    my ($out, $n, @flags) = @_;
    return run_cmd(cmd => [ "$repo/t/clients/check-records", '--count', $n,
                            @flags ], stdin => $out, timeout => 30);
}

# every producer x codec, consumed by every client
my $m = run_cmd(cmd => [ "$repo/t/clients/matrix", '--bootstrap', $gw,
                         '--count', 40, '--keep-going' ], timeout => 900);
like($m->{stdout}, qr/^matrix: 45 passed, 0 failed$/m,
     'matrix: 3 producers x 5 codecs x 3 consumers through the gateway')
    or diag($m->{stdout} . substr($m->{stderr}, -3000));

# metadata, and where each client really connects
for my $c (@CLIENTS) {
    my $conn = "$ng->{servroot}/connections-$c.txt";
    my $topic = "hoop-conn-$c-$$";
    my $p = client($c, 'produce', '--bootstrap', $gw, '--topic', $topic,
                   '--count', 10, '--connections-file', $conn);
    is($p->{rc}, 0, "$c: produce through the gateway")
        or diag(substr($p->{stderr}, -2000));
    my @addrs = grep { /\S/ } split /\n/, (Test::Hoop::Util::slurp($conn) // '');
    ok(@addrs && !grep({ $_ ne $gw } @addrs),
       "$c: connected only to the gateway (" . join(' ', @addrs) . ")");
    my $md = client($c, 'metadata', '--bootstrap', $gw);
    like($md->{stdout}, qr/"port":\s*$ng->{port}\b/, "$c: learns the gateway port");
    unlike($md->{stdout}, qr/"port":\s*$broker_port\b/, "$c: never the broker port");
}

# producer features
for my $c (@CLIENTS) {
    my %runs = (
        'acks=0'        => [ '--acks', '0' ],
        'acks=1'        => [ '--acks', '1' ],
        'idempotent'    => [ '--acks', 'all', '--idempotent' ],
        'transactional' => [ '--acks', 'all', '--transactional-id', "hoop-tx-$c-$$" ],
    );
    for my $what (sort keys %runs) {
        (my $t = "hoop-feat-$c-$what-$$") =~ s/[^\w-]/-/g;
        my $p = client($c, 'produce', '--bootstrap', $gw, '--topic', $t,
                       '--count', 25, '--compression', 'lz4', @{$runs{$what}});
        my $k = client($c eq 'java' ? 'python' : 'java', 'consume',
                       '--bootstrap', $gw, '--topic', $t, '--group', "g-$t",
                       '--count', 25);
        my $chk = check_records($k->{stdout}, 25);
        ok($p->{rc} == 0 && $k->{rc} == 0 && $chk->{rc} == 0,
           "$c: $what producer, 25 records consumed intact")
            or diag("produce rc=$p->{rc}: " . substr($p->{stderr}, -1500)
                    . "\nconsume rc=$k->{rc}: " . substr($k->{stderr}, -1500)
                    . "\ncheck: $chk->{stdout}$chk->{stderr}");
    }
}

my $log = hoop_nginx_stop($ng);
unlike($log, qr/\[(error|alert|crit|emerg)\]/, 'no errors in the error log')
    or diag(join "\n", grep { /\[(error|alert|crit)\]/ } split /\n/, $log);
like($log, qr/client disconnected|upstream disconnected/, 'sessions were proxied');
