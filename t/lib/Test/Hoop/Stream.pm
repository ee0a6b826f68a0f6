package Test::Hoop::Stream;

# Test::Hoop::Stream: data-driven nginx stream tests in the style of CPAN's
# Test::Nginx::Socket::Lua::Stream, built on Debian's Test::Base. Each
# "=== TEST" block becomes an nginx.conf (the stream module, then our module,
# then the block's sections), nginx runs in the foreground for the block,
# a Perl TCP client sends stream_request and reads the reply, then nginx is
# stopped and the reply and the error log are checked. docs/testing.md has
# the section list; Kafka::Frame (exported too) builds and parses frames.
#
#   use lib 't/lib';
#   use Test::Hoop::Stream;
#   plan tests => repeat_each() * blocks() * 2;   # or no plan: automatic
#   run_tests();
#   __DATA__
#   === TEST 1: ...
#
# With HOOP_TEST_NGINX_CPAN=1 and Test::Nginx::Socket::Lua::Stream
# installed, `use Test::Hoop::Stream` loads that module instead (our extra
# sections are then not available).

use strict;
use warnings;
use Carp qw(croak);
use File::Basename qw(basename dirname);
use Fcntl qw(:flock);
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(time sleep);

use IO::Select;
use Kafka::Frame ();
use Test::Hoop::Util qw(:all);

our @OWN_EXPORT = qw(
    run_tests run_test repeat_each master_on master_off workers log_level
    timeout server_port port servroot no_check_env hoop_test_count
    hoop_nginx_start hoop_nginx_stop hoop_error_log kafka_roundtrip
    tcp_exchange run_cmd kafka_tool kafka_libs env_is_up test_env
    hoop_module_available free_port free_ports
    require_envs hoop_worker_pids kafka_read_frame kafka_describe
);

my $CPAN_CLASS = 'Test::Nginx::Socket::Lua::Stream';
our $USING_CPAN = 0;

my %CFG = (repeat_each => $ENV{TEST_NGINX_REPEAT_EACH} || 1, master => 0,
           workers => 1, log_level => 'debug', timeout => 5);
my $SERVROOT;
my $SERVROOT_LOCK;
my $SERVROOT_TEMP = 0;
my @FILE_PORTS;
my $NGINX_SEQ = 0;

sub _export {
    my ($pkg, $from, @names) = @_;
    no strict 'refs';
    for my $n (@names) {
        next if defined &{"${pkg}::$n"};
        *{"${pkg}::$n"} = \&{"${from}::$n"};
    }
}

sub _setup_env {
    load_test_env();
    # ports for this test file: the generated server's port and as many
    # extra ones as the file mentions ($TEST_NGINX_PORT_1, _2, ...)
    my $text = slurp($0) // '';
    my $max = 0;
    while ($text =~ /TEST_NGINX_PORT_(\d+)/g) { $max = $1 if $1 > $max; }
    my @ports = free_ports(1 + $max, owner => "test $0");
    @FILE_PORTS = @ports;
    $ENV{TEST_NGINX_SERVER_PORT} = shift @ports;
    $ENV{"TEST_NGINX_PORT_$_"} = $ports[$_ - 1] for 1 .. $max;
    $ENV{TEST_NGINX_REPO_DIR} = repo_dir();
}

sub import {
    my $class = shift;
    my $caller = caller;

    if ($ENV{HOOP_TEST_NGINX_CPAN}) {
        if (eval "require $CPAN_CLASS; 1") {
            $USING_CPAN = 1;
            load_test_env();
            my @mods;
            for my $m (qw(ndk_http_module ngx_http_lua_module)) {
                my $p = "/usr/lib/nginx/modules/$m.so";
                push @mods, $p if -f $p;
            }
            push @mods, stream_module_path() if stream_module_path() ne '';
            push @mods, hoop_module_path() if hoop_module_available();
            $ENV{TEST_NGINX_LOAD_MODULES} //= join ' ', @mods;
            $ENV{TEST_NGINX_BINARY} //= nginx_binary();
            _export($caller, 'Kafka::Frame', @Kafka::Frame::EXPORT);
            _export('main', 'Kafka::Frame', @Kafka::Frame::EXPORT);
            _export($caller, 'Test::Hoop::Util', qw(tcp_exchange run_cmd
                kafka_tool kafka_libs env_is_up test_env));
            @_ = ($CPAN_CLASS, @_);
            my $imp = $CPAN_CLASS->can('import');
            goto &$imp;
        }
        print STDERR "# HOOP_TEST_NGINX_CPAN=1 but $CPAN_CLASS is not "
            . "installed: using Test::Hoop::Stream\n";
    }

    _setup_env();
    require Test::Base;
    Test::Base->import(-package => $caller);
    _export($caller, __PACKAGE__, @OWN_EXPORT);
    _export($caller, 'Kafka::Frame', @Kafka::Frame::EXPORT);
    # `--- section eval` code and response_check code run in package main
    _export('main', 'Kafka::Frame', @Kafka::Frame::EXPORT);
    _export('main', __PACKAGE__, @OWN_EXPORT);
    _fix_eval_filter();
}

# Test::Base's eval filter returns $@ as the value when the code dies and
# compiles in its own package; ours dies and compiles in package main.
sub _fix_eval_filter {
    no warnings qw(redefine once);
    require Test::Base::Filter;
    *Test::Base::Filter::eval = sub {
        my ($self, $code) = @_;
        my @r = eval "package main; no strict 'vars';\n#line 1 \"eval section\"\n$code";
        die "eval section failed: $@" if $@;
        return @r;
    };
}

# --- settings ------------------------------------------------------------------

sub repeat_each { $CFG{repeat_each} = shift if @_; return $CFG{repeat_each}; }
sub master_on  { $CFG{master} = 1; }
sub master_off { $CFG{master} = 0; }
sub workers    { $CFG{workers} = shift if @_; return $CFG{workers}; }
sub log_level  { $CFG{log_level} = shift if @_; return $CFG{log_level}; }
sub timeout    { $CFG{timeout} = shift if @_; return $CFG{timeout}; }
sub server_port { return $ENV{TEST_NGINX_SERVER_PORT}; }
sub port       { my ($n) = @_; return $ENV{"TEST_NGINX_PORT_$n"}; }
sub no_check_env { $CFG{no_check_env} = 1; }

sub servroot {
    return $SERVROOT if $SERVROOT;
    (my $name = basename($0)) =~ s/\.t$//;
    $name =~ s/[^\w.-]/_/g;
    my $base = repo_dir() . "/t/servroot-$name";
    make_path($base);
    open $SERVROOT_LOCK, '>', "$base/.lock" or croak "$base/.lock: $!";
    if (flock($SERVROOT_LOCK, LOCK_EX | LOCK_NB)) {
        $SERVROOT = $base;
    } else {           # the same .t file is running elsewhere
        $SERVROOT = "$base-$$";
        $SERVROOT_TEMP = 1;
    }
    $ENV{TEST_NGINX_SERVER_ROOT} = $ENV{TEST_NGINX_SERVROOT} = $SERVROOT;
    return $SERVROOT;
}

END {
    remove_tree($SERVROOT) if $SERVROOT && $SERVROOT_TEMP;
    release_ports(@FILE_PORTS) if @FILE_PORTS;
}

# --- sections ---------------------------------------------------------------------

# substitute $TEST_NGINX_X / ${TEST_NGINX_X}; collect the missing ones
sub _subst {
    my ($text, $missing, $vars) = @_;
    return $text unless defined $text && !ref $text;
    $text =~ s{\$(?:\{(TEST_NGINX_\w+)\}|(TEST_NGINX_[A-Z0-9_]*[A-Z0-9]))}{
        my $v = $1 // $2;
        my $val = $vars && exists $vars->{$v} ? $vars->{$v} : $ENV{$v};
        defined $val ? $val : do { push @$missing, $v; "\$$v" };
    }ge;
    return $text;
}

sub _has_filter {
    my ($block, $sec, $filter) = @_;
    my $f = ($block->{_section_map}[0] || {})->{$sec}{filters} // '';
    return $f =~ /\b\Q$filter\E\b/;
}

sub _val {
    my ($block, $sec) = @_;
    return undef unless exists $block->{$sec};
    my $v = $block->$sec;
    return $v;
}

# patterns of an error_log-like section: [ string | qr// ]
sub _patterns {
    my ($block, $sec, $missing) = @_;
    return [] unless exists $block->{$sec};
    my @v = @{$block->{$sec}};
    return [ map { ref $_ eq 'ARRAY' ? @$_ : $_ } @v ]
        if _has_filter($block, $sec, 'eval');
    my $v = join '', grep { defined } @v;
    return [ grep { /\S/ } map { _subst($_, $missing) } split /\n/, $v ];
}

sub _flag {
    my ($block, $sec) = @_;
    return 0 unless exists $block->{$sec};
    my $v = $block->$sec // '';
    return 1 if $v eq '' || $v =~ /^\s*(1|on|yes|true)\s*$/i;
    return 0;
}

sub _num {
    my ($block, $sec, $def) = @_;
    return $def unless exists $block->{$sec};
    my $v = $block->$sec;
    return $def unless defined $v && $v =~ /\S/;
    $v =~ s/^\s+|\s+$//g;
    return $v;
}

# how many tests a block produces (one repeat)
sub _block_count {
    my ($block) = @_;
    my $dummy = [];
    my $n = 0;
    if (exists $block->{must_die}) {
        return 1 + @{_patterns($block, 'error_log', $dummy)};
    }
    $n++ for grep { exists $block->{$_} }
        qw(stream_response stream_response_like response_check
           grep_error_log_out);
    $n += @{_patterns($block, 'error_log', $dummy)};
    $n += @{_patterns($block, 'no_error_log', $dummy)};
    return $n;
}

sub _block_repeats {
    my ($block) = @_;
    return 1 if exists $block->{must_die};
    return _num($block, 'repeat_each', $CFG{repeat_each});
}

# total number of tests run_tests() will run
sub hoop_test_count {
    my $n = 0;
    $n += _block_count($_) * _block_repeats($_) for Test::Base::blocks();
    return $n;
}

# --- running ---------------------------------------------------------------------

sub run_tests {
    my $tb = Test::More->builder;
    my @blocks = Test::Base::blocks();
    Test::More::plan(tests => hoop_test_count()) unless $tb->has_plan;
    for my $block (@blocks) {
        run_test($block);
    }
}

sub _short {
    my ($s) = @_;
    $s = "$s";
    $s =~ s/\n/\\n/g;
    return length $s > 60 ? substr($s, 0, 57) . '...' : $s;
}

sub _match {
    my ($text, $pat) = @_;
    return ref $pat eq 'Regexp' ? scalar($text =~ $pat)
                                : index($text, $pat) >= 0;
}

sub _printable { my ($s) = @_; return $s !~ /[^\x09\x0a\x0d\x20-\x7e]/; }

sub _fail_block {
    my ($name, $count, $reason) = @_;
    Test::More::fail("$name - $reason");
    SKIP: { Test::More::skip("$name: $reason", $count - 1) if $count > 1; }
}

# which requirements of `--- requires: kafka redis hoop` are missing
sub _missing_requirements {
    my ($block) = @_;
    return () unless exists $block->{requires};
    my @need = split /[\s,]+/, ($block->requires // '');
    return grep { $_ ne '' && !env_is_up($_) } @need;
}

sub _how_to_start {
    my ($vars) = @_;
    my @hints;
    for my $v (@$vars) {
        if ($v =~ /^TEST_NGINX_(KAFKA\w*?)_/) {
            my $n = lc $1;
            push @hints, $n eq 'kafka' ? 't/bin/kafka-cluster start'
                : "t/bin/kafka-cluster start --name $n --brokers N";
        } elsif ($v =~ /^TEST_NGINX_REDIS/) {
            push @hints, 't/bin/redis-env start';
        }
    }
    my %seen;
    @hints = grep { !$seen{$_}++ } @hints;
    return @hints ? ' (run: ' . join('; ', @hints) . ')' : '';
}

sub run_test {
    my ($block) = @_;
    my $name = $block->name // 'TEST';
    my $count = _block_count($block);
    my $repeats = _block_repeats($block);
    my $tb = Test::More->builder;

    if (my @miss = _missing_requirements($block)) {
        my $why = "requires @miss, not available"
            . (grep({ $_ eq 'hoop' } @miss)
               ? ' (build the module: ' . hoop_module_path() . ')' : '')
            . _how_to_start([ map { "TEST_NGINX_\U$_\E_" } @miss ]);
        if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
            _fail_block($name, $count * $repeats, $why) if $count * $repeats;
        } else {
            SKIP: { Test::More::skip("$name: $why", $count * $repeats); }
        }
        return;
    }

    my @missing;
    my %conf = (
        main_config => _subst(_val($block, 'main_config'), \@missing),
        stream_config => _subst(_val($block, 'stream_config'), \@missing),
        stream_server_config =>
            _subst(_val($block, 'stream_server_config'), \@missing),
        events_config => _subst(_val($block, 'events_config'), \@missing),
    );
    if (@missing) {
        my %u; @missing = grep { !$u{$_}++ } @missing;
        _fail_block($name, $count * $repeats,
            "not set: @missing" . _how_to_start(\@missing))
            if $count * $repeats;
        return;
    }

    my %start = (
        %conf,
        servroot => servroot(),
        server_port => $ENV{TEST_NGINX_SERVER_PORT},
        master => exists $block->{master_process}
            ? _flag($block, 'master_process') : $CFG{master},
        workers => _num($block, 'workers', $CFG{workers}),
        log_level => _num($block, 'log_level', $CFG{log_level}),
    );
    $start{load_hoop} = 0 if _flag($block, 'no_hoop');

    if (exists $block->{must_die}) {
        _run_must_die($block, $name, \%start);
        return;
    }

    for my $rep (1 .. $repeats) {
        my $rname = $repeats > 1 ? "$name (repeat $rep)" : $name;
        my $fails_before = grep { !$_ } $tb->summary;
        my $ng = nginx_start(%start);
        if ($ng->{failed}) {
            Test::More::diag("$rname: $ng->{failed}\n" . ($ng->{stderr} // '')
                . _tail(slurp($ng->{error_log}), 20));
            _fail_block($rname, $count, "nginx did not start: $ng->{failed}")
                if $count;
            next;
        }
        my $ex = _exchange($block, $rname);
        my $log = nginx_stop($ng);
        Test::More::diag("$rname: $ng->{stop_note}") if $ng->{stop_note};
        _check_response($block, $rname, $ex);
        _check_logs($block, $rname, $log);
        my $fails_after = grep { !$_ } $tb->summary;
        if ($fails_after > $fails_before) {
            my $kept = _keep_failed($ng, $block, $rep);
            Test::More::diag("$rname: config and logs kept in $kept\n"
                . "--- error.log, last lines above debug level\n"
                . _tail(join("\n", grep { !/\[debug\]/ } split /\n/, $log), 15)
                . ($ex && defined $ex->{response}
                   && !exists $block->{stream_response}
                   ? "--- response (" . length($ex->{response})
                     . " bytes)\n" . Kafka::Frame::hexdump($ex->{response}, 128)
                   : ''));
        }
    }
}

# copy a failed block's nginx.conf and logs to servroot/failed/
sub _keep_failed {
    my ($ng, $block, $rep) = @_;
    my $dir = "$ng->{servroot}/failed";
    make_path($dir);
    (my $id = $block->name // 'block') =~ s/^TEST\s*(\d+).*/test-$1/s;
    $id =~ s/[^\w.-]+/_/g;
    $id .= "-repeat-$rep" if $rep > 1;
    for my $f (qw(conf/nginx.conf logs/error.log logs/stderr.log)) {
        my $data = slurp("$ng->{servroot}/$f") // next;
        (my $base = $f) =~ s{.*/}{};
        spew("$dir/$id.$base", $data);
    }
    return "$dir/$id.*";
}

sub _tail {
    my ($t, $n) = @_;
    return "(none)\n" unless defined $t && length $t;
    my @l = split /\n/, $t;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l) . "\n";
}

sub _exchange {
    my ($block, $name) = @_;
    return undef unless exists $block->{stream_request};
    my $req;
    if (_has_filter($block, 'stream_request', 'eval')) {
        my @v = @{$block->{stream_request}};
        $req = @v == 1 ? $v[0] : \@v;
    } else {
        my @miss;
        $req = _subst($block->stream_request, \@miss);
    }
    my %o = (request => $req,
             port => _subst(_num($block, 'stream_request_port',
                                 $ENV{TEST_NGINX_SERVER_PORT})),
             timeout => _num($block, 'timeout', $CFG{timeout}));
    $o{split} = _num($block, 'stream_request_split') // undef;
    $o{delay} = _num($block, 'stream_request_delay');
    $o{shutdown_write} = 1 if _flag($block, 'stream_request_shutdown');
    if (exists $block->{client_ssl}) {
        my $v = $block->client_ssl;
        $o{ssl} = ref $v eq 'HASH' ? $v : 1;
    }
    if (_flag($block, 'read_until_close')) {
        $o{until_close} = 1;
    } elsif (defined(my $n = _num($block, 'response_frames'))) {
        $o{frames} = $n;
    } else {
        $o{frames} = _expected_frames($req);
    }
    delete $o{$_} for grep { !defined $o{$_} } keys %o;
    my $ex = tcp_exchange(%o);
    $ex->{expected_frames} = $o{frames};
    if ($ex->{error}) {
        Test::More::diag("$name: $ex->{error}");
    }
    if ($ex->{timed_out} && !_flag($block, 'abort')) {
        Test::More::fail("$name - client read timed out after "
            . "$o{timeout}s (" . length($ex->{response}) . " bytes"
            . (defined $o{frames} ? ", $o{frames} Kafka frame(s) expected"
                                  : ", waiting for close") . ")");
    }
    Test::More::diag("$name: $ex->{send_error}") if $ex->{send_error}
        && $ENV{HOOP_TEST_VERBOSE};
    return $ex;
}

# a request that is a whole sequence of Kafka request frames: how many
# responses to wait for; otherwise undef (read until the server closes)
sub _expected_frames {
    my ($req) = @_;
    my $bytes = ref $req eq 'ARRAY'
        ? join('', grep { !ref } @$req) : ($req // '');
    return undef unless length $bytes >= 12;
    my $rest;
    my @f = eval { Kafka::Frame::kafka_frames($bytes, \$rest) } or return undef;
    return undef if length $rest;
    for my $f (@f) {
        return undef if length $f < 8;
        my $key = unpack 's>', $f;
        return undef unless Kafka::Frame::kafka_api_info($key);
    }
    return scalar grep { Kafka::Frame::kafka_request_expects_response($_) } @f;
}

sub _check_response {
    my ($block, $name, $ex) = @_;
    my $resp = $ex ? $ex->{response} : undef;
    if (exists $block->{stream_response}) {
        my $exp = $block->stream_response;
        unless (_has_filter($block, 'stream_response', 'eval')) {
            my @m;
            $exp = _subst($exp, \@m);
        }
        $exp //= '';
        my $got = $resp // '';
        if (_printable($exp) && _printable($got)) {
            Test::Base::is($got, $exp, "$name - stream response");
        } else {
            Test::More::ok($got eq $exp, "$name - stream response")
                or Test::More::diag("got:\n" . Kafka::Frame::hexdump($got, 512)
                    . "expected:\n" . Kafka::Frame::hexdump($exp, 512));
        }
    }
    if (exists $block->{stream_response_like}) {
        my $pat = $block->stream_response_like;
        unless (ref $pat eq 'Regexp') {
            my @m;
            $pat = _subst($pat, \@m);
            $pat =~ s/\n\z//;
            $pat = qr/$pat/s;
        }
        Test::More::like($resp // '', $pat, "$name - stream response like");
    }
    if (exists $block->{response_check}) {
        my $code = $block->response_check;
        my $sub = ref $code eq 'CODE' ? $code
            : eval "package main; no strict 'vars'; sub { my (\$resp, \$block, \$ex) = \@_; local \$_ = \$resp;\n#line 1 \"response_check\"\n$code\n}";
        if (!$sub) {
            Test::More::fail("$name - response_check");
            Test::More::diag("response_check does not compile: $@");
        } else {
            Test::More::subtest("$name - response_check" => sub {
                my $ret = eval { $sub->($resp // '', $block, $ex) };
                if ($@) {
                    Test::More::fail("response_check died");
                    Test::More::diag($@);
                    return;
                }
                Test::More::ok($ret, 'response_check returned true')
                    if Test::More->builder->current_test == 0;
            });
        }
    }
}

sub _check_logs {
    my ($block, $name, $log) = @_;
    my @m;
    for my $p (@{_patterns($block, 'error_log', \@m)}) {
        Test::More::ok(_match($log, $p),
            "$name - pattern \"" . _short($p) . "\" should match a line in error.log");
    }
    for my $p (@{_patterns($block, 'no_error_log', \@m)}) {
        my $hit = _match($log, $p);
        Test::More::ok(!$hit,
            "$name - pattern \"" . _short($p) . "\" should not match any line in error.log")
            or Test::More::diag(join '', map { "  $_\n" }
                grep { _match($_, $p) } split /\n/, $log);
    }
    if (exists $block->{grep_error_log_out}) {
        my $pat = $block->grep_error_log;
        croak "$name: grep_error_log_out needs grep_error_log"
            unless defined $pat;
        unless (ref $pat eq 'Regexp') {
            $pat = _subst($pat, \@m);
            $pat =~ s/\n\z//;
            $pat = qr/\Q$pat\E/;
        }
        my $out = '';
        for my $line (split /\n/, $log) {
            while ($line =~ /$pat/g) { $out .= "$&\n"; }
        }
        my $exp = $block->grep_error_log_out;
        if (ref $exp eq 'Regexp') {
            Test::More::like($out, $exp, "$name - grep_error_log_out");
        } else {
            $exp = _subst($exp // '', \@m);
            Test::Base::is($out, $exp, "$name - grep_error_log_out");
        }
    }
}

sub _run_must_die {
    my ($block, $name, $start) = @_;
    my $want = $block->must_die;
    $want = '' unless defined $want;
    $want =~ s/^\s+|\s+$//g;
    my $ng = nginx_start(%$start, test_only => 1);
    my $out = $ng->{stderr} // '';
    my $died = $ng->{failed};
    unless ($died) {
        # the config parses; some errors only show when nginx starts
        $ng = nginx_start(%$start, timeout => 3);
        if ($ng->{failed} && defined $ng->{exit}) {
            $died = 1;
            $out .= $ng->{stderr} // '';
        } else {
            nginx_stop($ng, grace => 1);
        }
    }
    $out .= slurp($ng->{error_log}) // '';
    my $ok = $died ? 1 : 0;
    my $why = $died ? '' : 'nginx started although the block says must_die';
    if ($ok && $want ne '') {
        # the emerg message's "in FILE:LINE" must point at a line with $want
        if ($out =~ /\[emerg\].*? in (\S+):(\d+)/) {
            my ($file, $line) = ($1, $2);
            my @lines = split /\n/, slurp($file) // '';
            my $text = $lines[$line - 1] // '';
            unless (index($text, $want) >= 0) {
                $ok = 0;
                $why = "error points at $file:$line ('$text'), "
                     . "which does not contain '$want'";
            }
        } else {
            $ok = 0;
            $why = "no '[emerg] ... in FILE:LINE' message";
        }
    }
    Test::More::ok($ok, "$name - nginx fails to start (must_die)")
        or Test::More::diag("$why\n--- nginx output\n$out");
    my @m;
    for my $p (@{_patterns($block, 'error_log', \@m)}) {
        Test::More::ok(_match($out, $p),
            "$name - pattern \"" . _short($p) . "\" should match nginx's error output")
            or Test::More::diag("--- nginx output\n$out");
    }
}

# --- for plain Test::More files ------------------------------------------------------

# hoop_nginx_start(stream_config => ..., stream_server_config => ...,
#   main_config => ..., ports => N (extra ports, $TEST_NGINX_PORT_1..N in
#   the configs), master => 0/1, workers => 1, log_level => 'debug',
#   load_hoop => auto, servroot => dir (default t/servroot-<file>/nginx-N))
# -> { port (the generated server's), ports => [extra], servroot,
#   error_log, conf, pid }. Dies (with nginx's output) if nginx fails.
sub hoop_nginx_start {
    my (%o) = @_;
    load_test_env();
    my $n = delete $o{ports} // 0;
    my @p = free_ports(1 + $n, owner => "test $0");
    my %vars = (TEST_NGINX_SERVER_PORT => $p[0],
                map { ("TEST_NGINX_PORT_$_" => $p[$_]) } 1 .. $n);
    my @missing;
    for my $k (qw(main_config stream_config stream_server_config
                  events_config)) {
        $o{$k} = _subst($o{$k}, \@missing, \%vars) if defined $o{$k};
    }
    croak "hoop_nginx_start: not set: @missing" . _how_to_start(\@missing)
        if @missing;
    $o{servroot} //= servroot() . '/nginx-' . ++$NGINX_SEQ;
    my $ng = nginx_start(log_level => $CFG{log_level}, %o,
                         server_port => $p[0]);
    if ($ng->{failed}) {
        croak "hoop_nginx_start: $ng->{failed}\n" . ($ng->{stderr} // '')
            . _tail(slurp($ng->{error_log}), 20);
    }
    $ng->{port} = $p[0];
    $ng->{ports} = [ @p[1 .. $n] ];
    $ng->{reserved} = \@p;
    return $ng;
}

# hoop_nginx_stop($ng) -> the error log text
sub hoop_nginx_stop {
    my ($ng) = @_;
    my $log = nginx_stop($ng);
    release_ports(@{$ng->{reserved} || []});
    return $log;
}

sub hoop_error_log { my ($ng) = @_; return slurp($ng->{error_log}) // ''; }

# kafka_roundtrip($port, $frames_bytes, %tcp_exchange_options) -> list of
# response payloads (size prefix removed); dies on connect errors/timeouts
sub kafka_roundtrip {
    my ($port, $req, %o) = @_;
    my $want = $o{frames} // _expected_frames($req);
    croak "kafka_roundtrip: request is not a sequence of Kafka frames"
        unless defined $want;
    my $r = tcp_exchange(port => $port, request => $req, frames => $want, %o);
    croak "kafka_roundtrip: $r->{error}" if $r->{error};
    croak "kafka_roundtrip: timed out with " . length($r->{response})
        . " bytes" if $r->{timed_out};
    return Kafka::Frame::kafka_frames($r->{response});
}

# --- plain Test::More files ----------------------------------------------------

# require_envs(qw(kafka redis)): call before plan.  Skips the file when one
# of them is not up, or fails it with HOOP_TEST_REQUIRE_ALL (CI).
sub require_envs {
    my @missing = grep { !env_is_up($_) } @_;
    return unless @missing;
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        Test::More::plan(tests => scalar @missing);
        Test::More::fail("$_ is up") for @missing;
        exit 0;
    }
    my $hint = _how_to_start([ map { 'TEST_NGINX_' . uc($_) . '_' } @missing ]);
    Test::More::plan(skip_all => "needs @missing$hint");
}

# hoop_worker_pids($ng) -> the worker processes of an nginx started with
# master => 1
sub hoop_worker_pids {
    my ($ng) = @_;
    return grep { /^\d+$/ } split /\s+/, (`pgrep -P $ng->{pid}` // '');
}

# kafka_read_frame($sock, $seconds) -> the payload of the next Kafka frame
# (size prefix removed), or 'closed' (EOF first) or 'timeout' (default 5 s)
sub kafka_read_frame {
    my ($sock, $secs) = @_;
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $end = time + ($secs // 5);
    while (1) {
        if (length $buf >= 4) {
            my $size = unpack 'l>', $buf;
            return substr($buf, 4, $size) if length $buf >= 4 + $size;
        }
        my $left = $end - time;
        return 'timeout' if $left <= 0 || !$sel->can_read($left);
        return 'closed' unless sysread($sock, $buf, 1 << 20, length $buf);
    }
}

# kafka_describe($sock, $topic, $correlation_id, $seconds) -> the topic's
# error code in the answer to a Metadata v12 request for it (0: described),
# or 'closed' / 'timeout'
sub kafka_describe {
    my ($sock, $topic, $corr, $secs) = @_;
    my $req = Kafka::Frame::metadata_request(version => 12,
        correlation_id => $corr // 1, topics => [ $topic ],
        allow_auto_topic_creation => 0);
    my $w = syswrite($sock, $req);
    return 'closed' unless defined $w && $w == length $req;
    my $p = kafka_read_frame($sock, $secs);
    return $p if $p eq 'closed' || $p eq 'timeout';
    return Kafka::Frame::parse_metadata_response($p, 12)->{topics}[0]{error_code};
}

1;
