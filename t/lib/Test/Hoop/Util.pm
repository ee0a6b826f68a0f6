package Test::Hoop::Util;

# Test::Hoop::Util: the plumbing under the test harness and t/bin scripts.
#
#  - where things live: repo_dir, run_dir ($HOOP_RUN_DIR), cache_dir
#  - free loopback ports, reserved across processes (free_ports)
#  - the env files written by t/bin/kafka-cluster and t/bin/redis-env, and
#    the TEST_NGINX_* variables derived from them (load_test_env)
#  - nginx: config text, start (foreground child), stop, logs
#    (nginx_conf_text, nginx_start, nginx_stop)
#  - a TCP client that sends in pieces and reads Kafka frames (tcp_exchange)
#  - commands with a timeout (run_cmd), Kafka's console tools (kafka_tool)
#
# Used by Test::Hoop::Stream (block tests) and by plain Test::More files.

use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EAGAIN EINTR EINPROGRESS EWOULDBLOCK);
use Exporter 'import';
use Fcntl qw(O_CREAT O_EXCL O_WRONLY);
use File::Basename qw(dirname basename);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Socket qw(IPPROTO_TCP TCP_NODELAY SOL_SOCKET SO_REUSEADDR
              inet_aton sockaddr_in pack_sockaddr_in SHUT_WR);
use Time::HiRes qw(time sleep);

use Kafka::Frame qw(kafka_frames);

our @EXPORT_OK = qw(
    repo_dir run_dir cache_dir
    free_port free_ports release_ports port_in_use port_listening
    read_env_file write_env_file env_file_alive load_test_env test_env
    env_is_up
    nginx_binary stream_module_path hoop_module_path hoop_module_available
    nginx_conf_text nginx_start nginx_stop nginx_running
    tcp_exchange run_cmd kafka_libs kafka_tool kafka_tool_class
    slurp spew redis_xrange
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# --- places ----------------------------------------------------------------

my $REPO = abs_path(dirname(__FILE__) . '/../../../..');

sub repo_dir { return $REPO; }

sub run_dir {
    my $d = $ENV{HOOP_RUN_DIR} || "$REPO/build/run";
    make_path($d) unless -d $d;
    return abs_path($d);
}

sub cache_dir { return $ENV{HOOP_CACHE} || "$REPO/.cache"; }

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

sub spew {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or croak "cannot write $path: $!";
    print {$fh} $data;
    close $fh or croak "cannot write $path: $!";
}

# --- ports --------------------------------------------------------------------
# A port is handed out when (1) 127.0.0.1:port binds (no listener, no
# TIME_WAIT), and (2) a reservation file /tmp/hoop-ports/<port> could be
# created exclusively, so concurrent test runs and clusters never pick the
# same port. Reservations expire after 15 minutes (a running server keeps
# its port bound, so (1) protects it after that). Ports come from
# 20000..31999, below Linux's ephemeral range (32768+), so client sockets
# never take them in between.

my $PORT_DIR = $ENV{HOOP_PORT_DIR} || '/tmp/hoop-ports';
my ($PORT_LO, $PORT_HI) = (20000, 31999);
my $PORT_TTL = 900;

sub port_in_use {
    my ($port, $host) = @_;
    socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0) or return 1;
    my $ok = bind($s, pack_sockaddr_in($port, inet_aton($host // '127.0.0.1')));
    close $s;
    return !$ok;
}

# Is something LISTENing on this TCP port (any address)? Reads /proc/net.
sub port_listening {
    my ($port) = @_;
    my $hex = sprintf ':%04X', $port;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        while (my $line = <$fh>) {
            my @c = split ' ', $line;
            next unless @c > 3 && $c[3] eq '0A';
            return 1 if substr($c[1], -5) eq $hex;
        }
    }
    return 0;
}

sub _reserve {
    my ($port, $owner) = @_;
    unless (-d $PORT_DIR) {
        make_path($PORT_DIR);
        chmod 01777, $PORT_DIR;
    }
    my $f = "$PORT_DIR/$port";
    for my $try (1, 2) {
        if (sysopen my $fh, $f, O_CREAT | O_EXCL | O_WRONLY, 0666) {
            print {$fh} "$$ " . time() . " " . ($owner // '') . "\n";
            close $fh;
            return 1;
        }
        my $age = time() - ((stat $f)[9] // time());
        return 0 unless $age > $PORT_TTL && $try == 1;
        unlink $f;   # stale reservation; the port binds, so reuse it
    }
    return 0;
}

# free_ports($n, owner => 'who') -> list of $n distinct reserved ports
sub free_ports {
    my ($n, %o) = @_;
    my @ports;
    my %seen;
    for (my $tries = 0; @ports < $n; $tries++) {
        croak "free_ports: no free port found after $tries tries"
            if $tries > 5000;
        my $p = $PORT_LO + int(rand($PORT_HI - $PORT_LO + 1));
        next if $seen{$p}++;
        next if port_in_use($p);
        next unless _reserve($p, $o{owner});
        push @ports, $p;
    }
    return @ports;
}

sub free_port { my (%o) = @_; return (free_ports(1, %o))[0]; }

sub release_ports { unlink map { "$PORT_DIR/$_" } grep { /^\d+$/ } @_; }

# --- env files -------------------------------------------------------------------
# Shell-sourceable KEY=value lines; values single-quoted when needed.

sub read_env_file {
    my ($path) = @_;
    my %env;
    open my $fh, '<', $path or return undef;
    while (my $line = <$fh>) {
        next unless $line =~ /^\s*(?:export\s+)?([A-Za-z_]\w*)=(.*?)\s*$/;
        my ($k, $v) = ($1, $2);
        if ($v =~ /^'/) {
            $v =~ s/^'//; $v =~ s/'$//; $v =~ s/'\\''/'/g;
        } elsif ($v =~ /^"(.*)"$/) {
            $v = $1;
        }
        $env{$k} = $v;
    }
    return \%env;
}

sub write_env_file {
    my ($path, @pairs) = @_;
    my $text = "# written by $0 at " . localtime() . "; source it from a shell\n";
    while (my ($k, $v) = splice @pairs, 0, 2) {
        $v //= '';
        if ($v !~ m{^[\w./:,@%+=-]*$}) {
            (my $q = $v) =~ s/'/'\\''/g;
            $v = "'$q'";
        }
        $text .= "$k=$v\n";
    }
    my $tmp = "$path.tmp.$$";
    spew($tmp, $text);
    rename $tmp, $path or croak "rename $tmp: $!";
}

# Are the processes an env file names (*_PIDS / *_PID) still alive?
sub env_file_alive {
    my ($env) = @_;
    my @pids = map { split /[\s,]+/ } grep { defined }
               map { $env->{$_} } grep { /_PIDS?$/ } keys %$env;
    return 1 unless @pids;
    for my $pid (@pids) {
        return 0 unless $pid =~ /^\d+$/ && kill 0, $pid;
    }
    return 1;
}

my %TEST_ENV;        # name => { KEY => value } for live env files
my $TEST_ENV_LOADED;

# load_test_env(): read $HOOP_RUN_DIR/*.env (skipping those whose processes
# died) and set TEST_NGINX_<NAME>_<REST> for each <FAMILY>_<REST> key of
# <name>.env, e.g. kafka.env KAFKA_BOOTSTRAP -> TEST_NGINX_KAFKA_BOOTSTRAP,
# kafka3.env KAFKA_BROKER_2 -> TEST_NGINX_KAFKA3_BROKER_2, redis.env
# REDIS_PORT -> TEST_NGINX_REDIS_PORT. Variables already in the environment
# win. Returns { name => { KEY => value } }.
sub load_test_env {
    return \%TEST_ENV if $TEST_ENV_LOADED++;
    my $dir = $ENV{HOOP_RUN_DIR} || "$REPO/build/run";
    for my $f (sort glob("$dir/*.env")) {
        my $name = basename($f, '.env');
        next if $name =~ /^nginx-/;
        my $env = read_env_file($f) or next;
        unless (env_file_alive($env)) {
            print STDERR "# test env: ignoring $f (its processes are gone)\n"
                if $ENV{HOOP_TEST_VERBOSE};
            next;
        }
        $TEST_ENV{$name} = $env;
        (my $uc = uc $name) =~ s/\W/_/g;
        for my $k (keys %$env) {
            next unless $k =~ /^[A-Z0-9]+_(\w+)$/;
            my $var = "TEST_NGINX_${uc}_$1";
            $ENV{$var} //= $env->{$k};
        }
    }
    return \%TEST_ENV;
}

sub test_env { load_test_env(); return $TEST_ENV{$_[0]}; }

# env_is_up('kafka'), env_is_up('kafka3'), env_is_up('redis'),
# env_is_up('hoop') (our module is built)
sub env_is_up {
    my ($what) = @_;
    return hoop_module_available() if $what eq 'hoop';
    load_test_env();
    return 1 if $TEST_ENV{$what};
    # variables given directly in the environment count too
    (my $uc = uc $what) =~ s/\W/_/g;
    return 1 if grep { /^TEST_NGINX_${uc}_/ } keys %ENV;
    return 0;
}

# --- nginx ---------------------------------------------------------------------

sub nginx_binary { return $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx'; }

my %STATIC_STREAM;
# path of ngx_stream_module.so, or '' when the binary has stream built in
sub stream_module_path {
    return $ENV{HOOP_STREAM_MODULE} if defined $ENV{HOOP_STREAM_MODULE};
    my $bin = nginx_binary();
    unless (exists $STATIC_STREAM{$bin}) {
        my $v = `'$bin' -V 2>&1`;
        $STATIC_STREAM{$bin} = ($v =~ /--with-stream(?:\s|$)/) ? 1 : 0;
    }
    return '' if $STATIC_STREAM{$bin};
    return '/usr/lib/nginx/modules/ngx_stream_module.so';
}

sub hoop_module_path {
    my $m = $ENV{HOOP_MODULE};
    return $m if $m && $m ne 'none';
    return "$REPO/build/ngx_stream_hoop_module.so";
}

# HOOP_MODULE=none runs without our module
sub hoop_module_available {
    return 0 if ($ENV{HOOP_MODULE} // '') eq 'none';
    return -f hoop_module_path();
}

# nginx_conf_text(%o): the whole nginx.conf.
#   servroot (required), main_config, stream_config, stream_server_config,
#   server_port (listen 127.0.0.1:PORT for the generated server; only when
#   stream_server_config is given), master (0/1), workers (1),
#   log_level ('debug'), events_config, load_hoop (default: if built),
#   extra_modules ([paths] or $TEST_NGINX_LOAD_MODULES).
sub nginx_conf_text {
    my (%o) = @_;
    my $root = $o{servroot} or croak 'nginx_conf_text: servroot required';
    my $level = $o{log_level} // 'debug';
    my @mods;
    my $stream = stream_module_path();
    push @mods, $stream if $stream ne '';
    my $load_hoop = $o{load_hoop} // hoop_module_available();
    if ($load_hoop) {
        croak "hoop module not found at " . hoop_module_path()
            . " (build it, or set HOOP_MODULE)" unless hoop_module_available();
        push @mods, hoop_module_path();
    }
    my $extra = $o{extra_modules} // [ split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '' ];
    push @mods, @$extra;
    my $t = "# generated by the hoop test harness\n";
    $t .= "load_module $_;\n" for @mods;
    $t .= "daemon off;\n";
    $t .= "master_process " . ($o{master} ? 'on' : 'off') . ";\n";
    $t .= "worker_processes " . ($o{workers} // 1) . ";\n";
    $t .= "pid $root/logs/nginx.pid;\n";
    $t .= "error_log $root/logs/error.log $level;\n";
    $t .= "\n# main_config\n" . _indent($o{main_config}, '') . "\n"
        if defined $o{main_config} && $o{main_config} =~ /\S/;
    $t .= "\nevents {\n"
        . (defined $o{events_config} ? _indent($o{events_config}, '    ')
                                     : "    worker_connections 1024;\n")
        . "}\n";
    if (defined $o{stream_config} || defined $o{stream_server_config}) {
        $t .= "\nstream {\n";
        $t .= "    # stream_config\n" . _indent($o{stream_config}, '    ')
            if defined $o{stream_config};
        if (defined $o{stream_server_config}) {
            my $port = $o{server_port} or croak 'nginx_conf_text: server_port';
            $t .= "\n    server {\n"
                . "        listen 127.0.0.1:$port;\n\n"
                . "        # stream_server_config\n"
                . _indent($o{stream_server_config}, '        ')
                . "    }\n";
        }
        $t .= "}\n";
    }
    return $t;
}

sub _indent {
    my ($text, $pad) = @_;
    return '' unless defined $text;
    $text =~ s/\n+\z//;
    return join('', map { ($_ =~ /\S/ ? "$pad$_" : '') . "\n" }
                    split /\n/, $text, -1);
}

my %RUNNING;    # pid => handle, stopped at exit

# nginx_start(%o): write servroot/conf/nginx.conf and start nginx in the
# foreground as a child. Options: everything nginx_conf_text takes, or
# conf_text (a complete nginx.conf); servroot (default
# run_dir()/nginx-<pid>-<n>), wait_ports ([ports] that must be LISTENing;
# default: every 'listen [127.0.0.1:]PORT' in the config), timeout (10),
# test_only (run nginx -t only).
# Returns a handle { pid, servroot, conf, error_log, stderr_log, port,
# ports } or, if nginx exited or failed, the same hash with { failed =>
# message, exit => status, stderr => text }.
my $SERVROOT_SEQ = 0;
sub nginx_start {
    my (%o) = @_;
    my $root = $o{servroot}
        // (run_dir() . "/nginx-$$-" . ++$SERVROOT_SEQ);
    $root = abs_path($root) // $root if -d $root;
    remove_tree("$root/logs", "$root/conf");   # (keeps failed/ and .lock)
    make_path("$root/logs", "$root/conf");
    $root = abs_path($root);
    my $conf = $o{conf_text} // nginx_conf_text(%o, servroot => $root);
    spew("$root/conf/nginx.conf", $conf);
    my %h = (servroot => $root, conf => "$root/conf/nginx.conf",
             error_log => "$root/logs/error.log",
             stderr_log => "$root/logs/stderr.log",
             port => $o{server_port}, conf_text => $conf);
    my @wait = $o{wait_ports} ? @{$o{wait_ports}}
        : ($conf =~ /^\s*listen\s+(?:127\.0\.0\.1:|localhost:|\*:)?(\d+)\b/mg);
    $h{ports} = [@wait];
    my @cmd = (nginx_binary(), '-p', "$root/", '-c', 'conf/nginx.conf');

    if ($o{test_only}) {
        my $r = run_cmd(cmd => [@cmd, '-t'], timeout => 30);
        $h{stderr} = $r->{stderr} . $r->{stdout};
        $h{exit} = $r->{rc};
        $h{failed} = "nginx -t failed" if $r->{rc} != 0;
        return \%h;
    }

    my $pid = fork // croak "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $h{stderr_log};
        open STDERR, '>>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $h{pid} = $pid;
    $RUNNING{$pid} = \%h;
    my $deadline = time + ($o{timeout} // 10);
    while (1) {
        my $w = waitpid($pid, WNOHANG);
        if ($w == $pid) {
            $h{exit} = $? >> 8;
            delete $RUNNING{$pid};
            delete $h{pid};
            $h{stderr} = slurp($h{stderr_log}) // '';
            $h{failed} = "nginx exited with status $h{exit} at startup";
            return \%h;
        }
        last if !grep { !port_listening($_) } @wait;
        if (time > $deadline) {
            $h{failed} = "nginx did not listen on @wait within "
                . ($o{timeout} // 10) . 's';
            nginx_stop(\%h);
            $h{stderr} = slurp($h{stderr_log}) // '';
            return \%h;
        }
        sleep 0.02;
    }
    return \%h;
}

sub nginx_running { my ($h) = @_; return $h->{pid} && kill(0, $h->{pid}); }

# nginx_stop($h [, grace => 5]): QUIT (graceful), then TERM, then KILL.
# Returns the error log text. Sets $h->{stop_note} if QUIT was not enough.
sub nginx_stop {
    my ($h, %o) = @_;
    my $pid = $h->{pid};
    if ($pid) {
        my $grace = $o{grace} // 5;
        my @steps = ([QUIT => $grace], [TERM => 3], [KILL => 2]);
        STEP: for my $s (@steps) {
            my ($sig, $wait) = @$s;
            kill $sig, $pid;
            my $until = time + $wait;
            while (time < $until) {
                if (waitpid($pid, WNOHANG) == $pid) {
                    $h->{exit} = $? >> 8;
                    last STEP;
                }
                sleep 0.02;
            }
            $h->{stop_note} = "nginx did not exit on $sig within ${wait}s";
        }
        delete $RUNNING{$pid};
        delete $h->{pid};
    }
    return slurp($h->{error_log}) // '';
}

END {
    local $?;
    nginx_stop($_, grace => 1) for values %RUNNING;
}

# --- TCP client --------------------------------------------------------------------

# tcp_exchange(%o): connect, send, read. Options:
#   port (required), host ('127.0.0.1'),
#   request: bytes, or [ chunk, \delay_seconds, chunk, ... ],
#   split: send in pieces of this many bytes (1: one byte at a time),
#   delay: seconds between pieces (0.01 with split or chunks),
#   frames: stop reading after this many complete Kafka frames,
#   until_close: read until EOF (default when frames is not given),
#   shutdown_write: half-close after sending,
#   timeout: seconds for the whole read (5), connect_timeout (5),
#   ssl: IO::Socket::SSL options (hashref) to speak TLS.
# Returns { response, eof, timed_out, error, send_error, frames, elapsed }.
sub tcp_exchange {
    my (%o) = @_;
    my $host = $o{host} // '127.0.0.1';
    my $port = $o{port} or croak 'tcp_exchange: port required';
    my $timeout = $o{timeout} // 5;
    my $start = time;
    my %res = (response => '', eof => 0, timed_out => 0);
    local $SIG{PIPE} = 'IGNORE';

    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
        Proto => 'tcp', Timeout => $o{connect_timeout} // 5);
    unless ($sock) {
        $res{error} = "connect to $host:$port failed: $@";
        return \%res;
    }
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    if ($o{ssl}) {
        unless (eval { require IO::Socket::SSL; 1 }) {
            $res{error} = 'TLS client needs IO::Socket::SSL '
                . '(apt-get install libio-socket-ssl-perl)';
            return \%res;
        }
        my %ssl = (SSL_verify_mode => 0,
                   ref $o{ssl} eq 'HASH' ? %{$o{ssl}} : ());
        unless (IO::Socket::SSL->start_SSL($sock, %ssl)) {
            $res{error} = "TLS handshake failed: "
                . IO::Socket::SSL::errstr();
            return \%res;
        }
    }
    binmode $sock;
    $sock->blocking(0) unless $o{ssl};
    my $sel = IO::Select->new($sock);

    my $want_frames = $o{frames};
    my $until_close = $o{until_close} || !defined $want_frames;

    my $done = sub {
        return 1 if $res{eof};
        return 0 if $until_close;
        my $n = () = kafka_frames($res{response});
        $res{frames} = $n;
        return $n >= $want_frames;
    };
    my $read_some = sub {
        my ($wait) = @_;
        return unless ($o{ssl} && $sock->pending) || $sel->can_read($wait);
        my $n = sysread($sock, my $buf, 65536);
        if (!defined $n) {
            return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $res{read_error} = "$!";
            $res{eof} = 1;
            return;
        }
        if ($n == 0) { $res{eof} = 1; return; }
        $res{response} .= $buf;
    };

    # pieces to send
    my @pieces;
    my $req = $o{request};
    my @chunks = ref $req eq 'ARRAY' ? @$req : (defined $req ? ($req) : ());
    my $split = $o{split};
    my $delay = $o{delay} // ((ref $req eq 'ARRAY' && @chunks > 1) || $split
                              ? 0.01 : 0);
    for my $c (@chunks) {
        if (ref $c eq 'SCALAR') { push @pieces, $c; next; }
        if ($split) {
            push @pieces, substr($c, $_ * $split, $split)
                for 0 .. int((length($c) - 1) / $split);
        } else {
            push @pieces, $c if length $c;
        }
    }

    SEND: for my $i (0 .. $#pieces) {
        my $p = $pieces[$i];
        if (ref $p) { sleep $$p; $read_some->(0); next; }
        my $off = 0;
        while ($off < length $p) {
            my $n = syswrite($sock, $p, length($p) - $off, $off);
            if (!defined $n) {
                if ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR) {
                    IO::Select->new($sock)->can_write(0.1);
                    $read_some->(0);
                    next;
                }
                $res{send_error} = "send failed after "
                    . ($off) . " bytes of piece $i: $!";
                last SEND;
            }
            $off += $n;
        }
        $read_some->(0);
        last SEND if $res{eof};
        sleep $delay if $delay && $i < $#pieces && !ref $pieces[$i + 1];
    }
    shutdown($sock, SHUT_WR) if $o{shutdown_write} && !$res{eof};

    my $deadline = time + $timeout;   # the read timeout runs after sending
    until ($done->()) {
        my $left = $deadline - time;
        if ($left <= 0) { $res{timed_out} = 1; last; }
        $read_some->($left > 0.2 ? 0.2 : $left);
    }
    $done->();
    close $sock;
    $res{elapsed} = time - $start;
    return \%res;
}

# --- commands ----------------------------------------------------------------------

# run_cmd(cmd => [argv] or 'shell string', timeout => 30, stdin => bytes,
#   env => { VAR => value }) -> { rc, stdout, stderr, timed_out, elapsed }.
# rc is the exit status (-1 with signal set if killed).
sub run_cmd {
    my (%o) = @_;
    require IPC::Run;
    my $cmd = $o{cmd} or croak 'run_cmd: cmd required';
    my @cmd = ref $cmd ? @$cmd : ('/bin/sh', '-c', $cmd);
    my ($in, $out, $err) = ($o{stdin} // '', '', '');
    my $start = time;
    my $t = IPC::Run::timeout($o{timeout} // 30);
    local %ENV = (%ENV, %{$o{env} || {}});
    my %res = (timed_out => 0);
    my $h = eval { IPC::Run::start(\@cmd, \$in, \$out, \$err, $t) };
    unless ($h) {
        return { rc => -1, stdout => '', stderr => "cannot run @cmd: $@",
                 timed_out => 0, elapsed => 0 };
    }
    eval { $h->finish; 1 } or do {
        my $e = $@;
        if ($e =~ /timeout/i) {
            $res{timed_out} = 1;
            eval { $h->kill_kill(grace => 2) };
        } else {
            $err .= "\nrun_cmd: $e";
            eval { $h->kill_kill(grace => 1) };
        }
    };
    my $status = $h->full_result(0) // -1;
    $res{rc} = $status == -1 ? -1 : ($status & 127) ? -1 : $status >> 8;
    $res{signal} = $status & 127 if $status != -1 && ($status & 127);
    $res{stdout} = $out;
    $res{stderr} = $err;
    $res{elapsed} = time - $start;
    return \%res;
}

# --- Kafka tools -------------------------------------------------------------------

my %KAFKA_TOOLS = (
    'console-producer'  => 'org.apache.kafka.tools.ConsoleProducer',
    'console-consumer'  => 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    'topics'            => 'org.apache.kafka.tools.TopicCommand',
    'consumer-groups'   => 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    'producer-perf-test'=> 'org.apache.kafka.tools.ProducerPerformance',
    'consumer-perf-test'=> 'org.apache.kafka.tools.ConsumerPerformance',
    'get-offsets'       => 'org.apache.kafka.tools.GetOffsetShell',
    'broker-api-versions' => 'org.apache.kafka.tools.BrokerApiVersionsCommand',
    'acls'              => 'org.apache.kafka.tools.AclCommand',
    'transactions'      => 'org.apache.kafka.tools.TransactionsCommand',
    'metadata-quorum'   => 'org.apache.kafka.tools.MetadataQuorumCommand',
    'cluster'           => 'org.apache.kafka.tools.ClusterTool',
    'features'          => 'org.apache.kafka.tools.FeatureCommand',
    'delete-records'    => 'org.apache.kafka.tools.DeleteRecordsCommand',
    'log-dirs'          => 'org.apache.kafka.tools.LogDirsCommand',
    'configs'           => 'kafka.admin.ConfigCommand',
    'storage'           => 'kafka.tools.StorageTool',
);

# short name ('topics') or a full class name -> class name
# The entries of a Redis stream, oldest first: ({ id => ..., field =>
# value, ... }, ...).  redis_xrange(PORT, KEY, timeout => S, args => [...])
# (args: more redis-cli options, e.g. ['-a', PASSWORD]).  redis-cli --raw
# prints the id, then field and value lines; an id is a line of the form
# ms-seq that starts a new entry after a complete one.
sub redis_xrange {
    my ($port, $key, %o) = @_;
    my $r = run_cmd(cmd => [ 'redis-cli', '-p', $port, @{ $o{args} || [] },
                             '--raw', 'XRANGE', $key, '-', '+' ],
                    timeout => $o{timeout} // 30);
    my @lines = split /\n/, $r->{stdout} // '';
    my (@ev, $cur);
    for my $l (@lines) {
        if ($l =~ /^\d{13}-\d+$/ && (!$cur || !defined $cur->{_pending})) {
            push @ev, $cur = { id => $l };
            next;
        }
        next unless $cur;
        if (defined $cur->{_pending}) {
            $cur->{ delete $cur->{_pending} } = $l;
        } else {
            $cur->{_pending} = $l;
        }
    }
    return @ev;
}

sub kafka_tool_class {
    my ($tool) = @_;
    return $KAFKA_TOOLS{$tool} // ($tool =~ /\./ ? $tool
        : croak "unknown Kafka tool '$tool' (one of: "
              . join(' ', sort keys %KAFKA_TOOLS) . ')');
}

# directory of the Kafka jars: $KAFKA_LIBS, a cluster env file's KAFKA_LIBS,
# or the fetch cache (t/bin/kafka-fetch fills it)
sub kafka_libs {
    return $ENV{KAFKA_LIBS} if $ENV{KAFKA_LIBS};
    load_test_env();
    for my $e (values %TEST_ENV) {
        return $e->{KAFKA_LIBS} if $e->{KAFKA_LIBS} && -d $e->{KAFKA_LIBS};
    }
    my $d = cache_dir() . '/kafka-4.1.1/libs';
    return $d if -d $d;
    my $r = run_cmd(cmd => ["$REPO/t/bin/kafka-fetch"], timeout => 600);
    croak "kafka-fetch failed: $r->{stderr}" if $r->{rc};
    chomp(my $libs = $r->{stdout});
    return $libs;
}

# kafka_tool($tool, @args [, { timeout => 60, stdin => ..., env => ... }])
# runs one of Kafka's command line tools (see %KAFKA_TOOLS; e.g. 'topics',
# 'console-producer') and returns run_cmd's result. Logs go to stderr at
# WARN.
sub kafka_tool {
    my ($tool, @args) = @_;
    my $opt = ref $args[-1] eq 'HASH' ? pop @args : {};
    my $libs = kafka_libs();
    my @java = ('java', '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
        "-Dlog4j2.configurationFile=$REPO/t/bin/kafka-tools-log4j2.xml",
        '-cp', "$libs/*", kafka_tool_class($tool), @args);
    return run_cmd(cmd => \@java, timeout => $opt->{timeout} // 60,
                   stdin => $opt->{stdin}, env => $opt->{env});
}

1;
