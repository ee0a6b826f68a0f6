# The Debian package libnginx-mod-stream-hoop (debian/, docs/packaging.md):
# `make deb` builds it with Debian's tooling and lints it; dpkg installs it
# on the machine's stock Debian nginx; the stock nginx.conf still passes
# `nginx -t`, and so does it with a stream server using the module; a
# separate nginx (own prefix, pid and port) that loads the module only
# through the installed modules-enabled snippet proxies a real Kafka broker
# for kcat; the installed hoopctl lints an installed example policy; the
# purge leaves nothing behind.
#
# Needs root (dpkg) and dpkg-buildpackage, else it skips (fails under
# HOOP_TEST_REQUIRE_ALL=1). HOOP_TEST_DEB=path/to.deb tests that package
# instead of building one. It refuses to run when the package is installed
# already, since it ends with a purge.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(port_listening release_ports run_dir slurp spew);
use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep time);

my $PKG      = 'libnginx-mod-stream-hoop';
my $repo     = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $so       = '/usr/lib/nginx/modules/ngx_stream_hoop_module.so';
my $avail    = '/usr/share/nginx/modules-available/mod-stream-hoop.conf';
my $enabled  = '/etc/nginx/modules-enabled/70-mod-stream-hoop.conf';
my $doc      = "/usr/share/doc/$PKG";
my $examples = "$doc/examples";

sub need {
    my ($ok, $why) = @_;
    return if $ok;
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail("098-debian-package: $why");
        exit 0;
    }
    plan skip_all => $why;
}

sub in_path {
    my ($cmd) = @_;
    return scalar grep { -x "$_/$cmd" } split /:/, ($ENV{PATH} // '');
}

sub pkg_status {
    my $r = run_cmd(cmd => [ 'dpkg-query', '-W', '-f=${Status}', $_[0] ]);
    return $r->{rc} == 0 ? $r->{stdout} : '';
}

need($> == 0, 'needs root: it installs and purges a package with dpkg');
need($ENV{HOOP_TEST_DEB} || in_path('dpkg-buildpackage'),
     'dpkg-buildpackage is missing (tools/install-deps installs dpkg-dev)');
need(pkg_status($PKG) !~ /installed|config-files/,
     "$PKG is installed already (dpkg --purge $PKG first: this test ends "
     . 'with a purge)');

plan tests => 42;

my $work = run_dir() . "/deb-test-$$";
remove_tree($work);
make_path($work);
my ($installed, $ng_pid);
$SIG{INT} = $SIG{TERM} = sub { exit 1 };   # run END: purge, stop nginx

END {
    if ($ng_pid && kill 0, $ng_pid) {
        kill 'TERM', $ng_pid;
        sleep 0.5;
        kill 'KILL', $ng_pid if kill 0, $ng_pid;
    }
    # never leave the package behind, even when a test died half way
    if ($installed && pkg_status($PKG) =~ /installed|config-files/) {
        dpkg('--purge', $PKG);
    }
    remove_tree($work) if $work && !$ENV{HOOP_TEST_KEEP};
}

# dpkg, waiting for the lock while apt or another dpkg runs
sub dpkg {
    my @args = @_;
    my $r;
    my $until = time + 180;
    while (1) {
        $r = run_cmd(cmd => [ 'dpkg', @args ], timeout => 300,
                     env => { DEBIAN_FRONTEND => 'noninteractive' });
        last unless $r->{rc} != 0 && $r->{stderr} =~ /lock/i && time < $until;
        sleep 2;
    }
    return $r;
}

# nginx -t; returns [ ok, output ]
sub nginx_t {
    my @args = @_;
    my $r = run_cmd(cmd => [ '/usr/sbin/nginx', '-t', @args ], timeout => 30);
    my $out = $r->{stdout} . $r->{stderr};
    return [ $r->{rc} == 0 && $out =~ /test is successful/, $out ];
}

# --- build ------------------------------------------------------------------

my $deb = $ENV{HOOP_TEST_DEB};
if ($deb) {
    pass("using $deb");
} else {
    my $b = run_cmd(cmd => [ 'make', '-s', '-C', $repo, 'deb' ],
                    timeout => 1800);
    is($b->{rc}, 0, 'make deb builds the package and lintian finds no error')
        or diag(substr($b->{stdout} . $b->{stderr}, -4000));
    ($deb) = grep { !/-dbgsym_/ } glob("$repo/build/deb/${PKG}_*.deb");
}
unless ($deb && -f $deb) {
    diag('no package to test');
    exit 1;
}

# --- the package's metadata -------------------------------------------------

my $depends = run_cmd(cmd => [ 'dpkg-deb', '-f', $deb, 'Depends' ])->{stdout};
my ($abi) = (slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
             // '') =~ /^nginx:abi=(\S+)/m;
ok($abi && $depends =~ /(^|, )\Q$abi\E(,|$)/m,
   "Depends has dh_nginx's nginx ABI ($abi)") or diag($depends);
like($depends, qr/(^|, )libnginx-mod-stream(,|$)/m,
     'Depends has the stream module');
like($depends, qr/libc6 \(>= [^)]+\)/, 'Depends has shlibs dependencies');

# every library the module and the tools link is a Build-Depends of the
# source package (`config`'s ngx_module_libs, tools/Makefile's *_LIBS)
my %libs;
$libs{$_} = 1 for (slurp("$repo/config") // '') =~ /-l([\w.+-]+)/g;
for my $line (split /\n/, slurp("$repo/tools/Makefile") // '') {
    next unless $line =~ /^\w+_LIBS\s*:?=/;
    $libs{$_} = 1 for $line =~ /-l([\w.+-]+)/g;
}
my ($bd) = (slurp("$repo/debian/control") // '')
    =~ /^Build-Depends:(.*?)^\S/ms;
my %bd = map { /^\s*([a-z0-9.+-]+)/ ? ($1 => 1) : () } split /,/, $bd // '';
my @uncovered;
for my $l (sort keys %libs) {
    my $dev = run_cmd(cmd => [ 'gcc', "-print-file-name=lib$l.so" ])->{stdout};
    chomp $dev;
    my $path = abs_path(dirname($dev)) . '/' . basename($dev);
    my $s = run_cmd(cmd => [ 'dpkg', '-S', $path ]);
    my ($p) = $s->{stdout} =~ /^([^:\s]+)/;
    push @uncovered, "-l$l (" . ($p // "no package has $path") . ')'
        unless $p && $bd{$p};
}
ok(keys(%libs) >= 10 && !@uncovered,
   'Build-Depends cover the ' . scalar(keys %libs) . ' libraries linked')
    or diag("not in debian/control's Build-Depends: @uncovered");

# --- install ----------------------------------------------------------------

my $stock_before = nginx_t();
ok($stock_before->[0], 'the stock nginx.conf passes nginx -t before')
    or diag($stock_before->[1]);

my $i = dpkg('-i', $deb);
$installed = 1;
is($i->{rc}, 0, 'dpkg -i installs it on the stock nginx')
    or diag($i->{stdout} . $i->{stderr});
like(pkg_status($PKG), qr/install ok installed/, 'dpkg says installed');
like(pkg_status('nginx'), qr/install ok installed/, 'nginx is still fine');

ok(-f $so, "the module at $so");
like(slurp($avail) // '', qr/^load_module modules\/ngx_stream_hoop_module\.so;$/m,
     "$avail loads it");
is(readlink($enabled) // '', $avail, "enabled as $enabled");
my @order = map { basename($_) } sort glob('/etc/nginx/modules-enabled/*.conf');
my %at = map { $order[$_] => $_ } 0 .. $#order;
ok(defined $at{'50-mod-stream.conf'} && defined $at{'70-mod-stream-hoop.conf'}
   && $at{'50-mod-stream.conf'} < $at{'70-mod-stream-hoop.conf'},
   'it loads after mod-stream') or diag("@order");
ok(-x '/usr/bin/hoopctl' && -x '/usr/bin/hoop-passwd',
   'hoopctl and hoop-passwd in /usr/bin');
ok(-f "$examples/local-dev.yaml" && -f "$examples/consumer-app.yaml",
   "example policies in $examples");
ok((grep { -f } map { ("$_", "$_.gz") } "$doc/docs/packaging.md",
    "$doc/docs/directives.md", "$doc/README.md") == 3, "docs in $doc");
ok(-f '/usr/share/man/man1/hoopctl.1.gz', 'the hoopctl manual page');

# --- nginx -t: the stock configuration, alone and with a hoop server --------

my $stock = nginx_t();
ok($stock->[0], 'the stock nginx.conf passes nginx -t with the module loaded')
    or diag($stock->[1]);

my ($gw_port) = free_ports(1, owner => "test $0");
my $stream_t = <<"EOF";

stream {
    hoop_broker_address 1 127.0.0.1:$gw_port;

    server {
        listen       127.0.0.1:$gw_port;
        hoop         on;
        hoop_policy  $examples/local-dev.yaml;
        proxy_pass   127.0.0.1:9;
    }
}
EOF
my $stock_conf = "$work/stock-plus-stream.conf";
spew($stock_conf, (slurp('/etc/nginx/nginx.conf') // '') . $stream_t);
my $with = nginx_t('-c', $stock_conf);
ok($with->[0], 'the stock nginx.conf plus a hoop stream server passes nginx -t')
    or diag($with->[1]);

# --- a separate nginx loads the module through modules-enabled --------------

my $prefix = "$work/nginx";
make_path("$prefix/logs");
symlink('/usr/lib/nginx/modules', "$prefix/modules")
    or die "symlink: $!";
spew("$prefix/nginx.conf", <<"EOF");
include /etc/nginx/modules-enabled/*.conf;

worker_processes 1;
pid $prefix/logs/nginx.pid;
error_log $prefix/logs/error.log info;

events { worker_connections 256; }

stream {
    hoop_broker_address 1 127.0.0.1:$gw_port;
    log_format  kafka  '\$hoop_principal \$hoop_decision "\$hoop_api_keys" '
                       'topics=\$hoop_topics';
    access_log  $prefix/logs/kafka.log kafka;

    server {
        listen       127.0.0.1:$gw_port;
        hoop         on;
        hoop_policy  $examples/local-dev.yaml;
        proxy_pass   @{[ $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} // '127.0.0.1:9' ]};
    }
}
EOF

SKIP: {
    my $why = !env_is_up('kafka') ? 'no Kafka broker (t/bin/kafka-cluster start)'
            : !in_path('kcat') ? 'kcat is missing' : '';
    if ($why) {
        if ($ENV{HOOP_TEST_REQUIRE_ALL}) { fail($why) for 1 .. 8; last SKIP; }
        skip $why, 8;
    }

    my $s = run_cmd(cmd => [ '/usr/sbin/nginx', '-p', "$prefix/", '-c',
                             "$prefix/nginx.conf" ], timeout => 30);
    is($s->{rc}, 0, 'a separate nginx starts with the installed module')
        or diag($s->{stdout} . $s->{stderr});
    my $deadline = time + 10;
    sleep 0.1 until port_listening($gw_port) || time > $deadline;
    ($ng_pid) = (slurp("$prefix/logs/nginx.pid") // '') =~ /(\d+)/;
    ok($ng_pid && port_listening($gw_port), "it listens on $gw_port");

    my $boot = "127.0.0.1:$gw_port";
    my $topic = "hoop-deb-$$";
    my $value = "packaged-" . int(time * 1000);
    my $m = run_cmd(cmd => [ 'kcat', '-L', '-b', $boot, '-m', 15 ],
                    timeout => 30);
    like($m->{stdout}, qr/broker 1 at 127\.0\.0\.1:$gw_port\b/,
         'Metadata names the gateway, not the broker')
        or diag($m->{stdout} . $m->{stderr});
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $topic,
                             '-X', 'message.timeout.ms=30000' ],
                    stdin => "$value\n", timeout => 60);
    is($p->{rc}, 0, 'kcat produces a record through it')
        or diag($p->{stderr});
    my $c = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', $topic,
                             '-o', 'beginning', '-c', '1', '-e', '-q',
                             '-f', '%s\n' ], timeout => 60);
    is($c->{stdout}, "$value\n", 'and consumes it back')
        or diag($c->{stderr});

    kill 'QUIT', $ng_pid if $ng_pid;
    $deadline = time + 10;
    sleep 0.1 while $ng_pid && kill(0, $ng_pid) && time < $deadline;
    ok(!($ng_pid && kill 0, $ng_pid), 'it stops on QUIT');
    $ng_pid = undef;
    my $access = slurp("$prefix/logs/kafka.log") // '';
    like($access, qr/^ANONYMOUS allow "[^"]*Produce=1[^"]*" topics=\Q$topic\E$/m,
         "the policy allowed the Produce to $topic (access log)")
        or diag($access);
    my $log = slurp("$prefix/logs/error.log") // '';
    unlike($log, qr/\[(emerg|alert|crit)\]/, 'no emerg, alert or crit')
        or diag($log);
}

# --- the installed tools ----------------------------------------------------

my $lint = run_cmd(cmd => [ '/usr/bin/hoopctl', 'lint', '--json',
                            "$examples/consumer-app.yaml" ], timeout => 30);
is($lint->{rc}, 0, 'the installed hoopctl lints an installed example')
    or diag($lint->{stderr});
like($lint->{stdout}, qr/"ok":\s*true/, 'and finds it ok');
my $bad = "$work/bad.yaml";
spew($bad, "policy_version: 1\ndefault: deny\ngrants:\n  - id: x\n"
           . "    principals: []\n");
my $lb = run_cmd(cmd => [ '/usr/bin/hoopctl', 'lint', $bad ], timeout => 30);
is($lb->{rc}, 1, 'and refuses a broken policy');
like($lb->{stdout}, qr/:5:\d+: error: principals is an empty list/,
     'saying why, with the line');
my $pw = run_cmd(cmd => [ '/usr/bin/hoop-passwd', '--user', 'alice' ],
                 stdin => "secret\n", timeout => 30);
like($pw->{stdout}, qr/^\{"user":"alice".*"scram-sha-256"/,
     'the installed hoop-passwd prints a credential line');

# --- purge ------------------------------------------------------------------

my $list = run_cmd(cmd => [ 'dpkg-query', '-L', $PKG ])->{stdout};
my @files = grep { m{^/} && -f $_ } split /\n/, $list;
ok(@files >= 10, scalar(@files) . ' files installed');

my $u = dpkg('--purge', $PKG);
is($u->{rc}, 0, 'dpkg --purge removes it') or diag($u->{stdout} . $u->{stderr});
$installed = 0 if $u->{rc} == 0;
unlike(pkg_status($PKG), qr/installed|config-files/, 'dpkg knows it no more');
is_deeply([ grep { -e $_ } @files ], [], 'none of its files is left');
ok(!-e $so && !-e $avail, 'no module, no snippet');
is_deeply([ grep { /hoop/ } glob('/etc/nginx/modules-enabled/*') ], [],
          'nothing hoop in modules-enabled (no .removed link either)');
ok(!-e $doc && !-e '/usr/bin/hoopctl' && !-e '/usr/bin/hoop-passwd',
   'no docs, no tools');
like(pkg_status('nginx'), qr/install ok installed/, 'nginx is still fine');
my $after = nginx_t();
ok($after->[0], 'the stock nginx.conf passes nginx -t after the purge')
    or diag($after->[1]);
my $gone = nginx_t('-c', $stock_conf);
ok(!$gone->[0] && $gone->[1] =~ /unknown directive "hoop/,
   'and a hoop server is an unknown directive again') or diag($gone->[1]);
release_ports($gw_port);
