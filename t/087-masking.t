# Masking on the data path (docs/masking.md): the policy's masking section
# applied by the gateway to Produce requests (before the broker stores the
# records) and Fetch responses (before the client reads them), with real
# clients and the real broker.  For every codec (none, gzip, snappy, lz4,
# zstd):
#
#  - fetch side: librdkafka (kcat) produces mixed records straight to the
#    broker (JSON, unicode, escapes, nested arrays, a top-level array, an
#    SSN in text, plain text, invalid JSON, empty value, tombstone, no key,
#    headers) and a batch no rule touches; a raw Fetch through the gateway
#    as alice (a fetch rule applies) is compared byte for byte, record by
#    record, with the broker's own bytes masked by this test's oracle
#    (HMAC-SHA-256 with the key file, keep_last, remove, redact; written
#    here, not by the engine); the untouched batch is byte-identical;
#    carol (excepted from the rule) gets the broker's bytes exactly; a
#    Fetch cut by max bytes loses its clear tail for alice only; kcat and
#    the Java consumer (check.crcs) and kafka-python read the masked
#    records;
#  - produce side: bob produces through the gateway (kcat, idempotent;
#    the Java client idempotent and transactional); the broker's own log
#    (Kafka's DumpLogSegments), a raw Fetch and direct consumers (kcat,
#    Java read_committed / read_uncommitted) hold the masked records, with
#    producer ids and sequences intact;
#  - audit events carry "mask": [[rule id, fields]] and the metric
#    hoop_masked_fields_total counts the same fields;
#  - the policy: a masking section that does not compile (bad path,
#    missing key file) stops nginx -t, and refuses a new file version or a
#    Redis version while the last good one stays; the cache file brings
#    masking back without Redis.
#
# Needs the "kafka" and "redis" environments (t/bin/kafka-cluster start,
# t/bin/redis-env start) and the Java and kcat drivers (t/clients/setup).
# HOOP_MASK_CODECS=gzip,zstd limits the codecs; HOOP_KEEP=1 keeps files.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Util qw(redis_xrange);
use JSON::PP;
use Digest::SHA qw(hmac_sha256_hex);
use Encode qw(decode encode);
use IO::Socket::INET;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $tool = "$repo/test/unit/build/test_record_batch_tool";
my @CODECS = qw(none gzip snappy lz4 zstd);
@CODECS = split /,/, $ENV{HOOP_MASK_CODECS} if $ENV{HOOP_MASK_CODECS};
my %CODEC_ID = (none => 0, gzip => 1, snappy => 2, lz4 => 3, zstd => 4);

require_envs(qw(kafka redis));

my $built = run_cmd(cmd => [ 'make', '-s', '-C', "$repo/test/unit",
                         'build/test_record_batch_tool' ], timeout => 120);
if ($built->{rc} != 0) {
    plan tests => 1;
    fail('test_record_batch_tool builds');
    diag($built->{stderr});
    exit 0;
}

my $bootstrap = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my ($kport) = $bootstrap =~ /:(\d+)$/;
my $data_dir = test_env('kafka')->{KAFKA_DIR} . '/node-1/data';
my $renv = test_env('redis');
my $RPORT = $renv->{REDIS_PORT};
my $run = "$$-" . time;
my $PREFIX = "t087-$run:";
my $dir = Test::Hoop::Util::run_dir() . "/masking-$$";
mkdir $dir or die "mkdir $dir: $!";
my $json = JSON::PP->new->canonical;
my $corr = 100;

END { system('rm', '-rf', $dir) if $dir && -d $dir && !$ENV{HOOP_KEEP}; }

sub spew_file {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $data;
    close $fh;
}

sub slurp_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# --- identities, key, policy --------------------------------------------------

open my $cf, '>', "$dir/credentials.jsonl" or die $!;
for my $u (qw(alice bob carol)) {
    my $line = `printf '%s' $u-secret | '$repo/build/tools/hoop-passwd' --user $u`;
    die "hoop-passwd failed" if $? || $line !~ /^\{/;
    print $cf $line;
}
close $cf;

my $KEYFILE = "$dir/mask.key";
my $KEY = join '', map { chr(int(rand(256))) } 1 .. 32;
spew_file($KEYFILE, $KEY);
chmod 0600, $KEYFILE;

my $GRANTS = <<'YAML';
policy_version: 1
default: deny
description: t/087-masking.t
grants:
  - id: clients-rw
    principals: [ "User:alice", "User:bob", "User:carol" ]
    resources:
      - { type: topic, name: "mk.", match: prefix }
      - { type: group, name: "mk-", match: prefix }
      - { type: transactional_id, name: "mk-", match: prefix }
    operations: [ read, write, describe ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T087"
  - id: clients-idempotent
    principals: [ "User:alice", "User:bob", "User:carol" ]
    resources:
      - { type: cluster, name: "kafka-cluster", match: literal }
    operations: [ idempotent_write ]
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T087"
YAML

# $key: the key file the rules name
sub masking_yaml {
    my ($key) = @_;
    return <<"YAML";
masking:
  - id: contacts
    description: "what consumers of mk.f. see, but carol"
    topics: [ { name: "mk.f.", match: prefix } ]
    principals: [ "User:*" ]
    except: [ "User:carol" ]
    direction: fetch
    fields:
      - { path: "\$..email", strategy: hash, key_file: "$key", hash_chars: 16 }
      - { path: "\$.card", strategy: keep_last, keep: 4 }
      - { path: "\$.secret", strategy: remove }
      - { regex: "\\\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\\\b", strategy: redact, replacement: "XXX-XX-XXXX" }
      - { part: key, strategy: hash, key_file: "$key", hash_chars: 12 }
      - { part: header, header: "secret", strategy: remove }
      - { part: header, header: "token", strategy: redact }
    reviewed_by: carol
    reviewed_at: 2026-11-01
    reason: "T087 carol checks the clear data"
  - id: pii-in
    topics: [ { name: "mk.p.", match: prefix } ]
    principals: [ "User:*" ]
    direction: produce
    fields:
      - { path: "\$.ssn", strategy: redact }
      - { regex: "hoop-payload", strategy: redact, replacement: "HP" }
      - { part: header, header: "h2", strategy: redact, replacement: "masked" }
      - { part: header, header: "x-pii", strategy: "null" }
YAML
}

my $POLICY = $GRANTS . masking_yaml($KEYFILE);
spew_file("$dir/policy.yaml", $POLICY);

# --- the oracle -----------------------------------------------------------------

sub h { my ($s, $n) = @_; return substr(hmac_sha256_hex($s, $KEY), 0, $n // 16); }

sub keep_last {
    my ($bytes, $n) = @_;
    my @cp = split //, decode('UTF-8', $bytes);
    my $m = @cp <= $n ? '*' x @cp
                      : ('*' x (@cp - $n)) . join('', @cp[-$n .. -1]);
    return encode('UTF-8', $m);
}

# fetch side records: [ key, value, masked value (undef: unchanged),
# fields the value rules mask ]; byte strings (this file is UTF-8)
my @FREC = (
    [ 'k1', '{"name":"Ann","email":"ann@example.com","card":"4111111111111111"}',
      '{"name":"Ann","email":"' . h('ann@example.com')
      . '","card":"************1111"}', 2 ],
    [ 'k2', '{"name":"Zoë 中文","email":"zoë@例え.jp","card":"４１１１-1111-😀"}',
      '{"name":"Zoë 中文","email":"' . h('zoë@例え.jp') . '","card":"'
      . keep_last('４１１１-1111-😀', 4) . '"}', 2 ],
    [ 'k3', '{"em\u0061il" : "a\"b@c", "card":"12\u00345678","note":"tab\there"}',
      '{"em\u0061il" : "' . h('a"b@c') . '", "card":"***5678","note":"tab\there"}', 2 ],
    [ 'k4', '{"users":[{"email":"u1@x"},[{"email":"u2@x"}],{"x":[[{"email":"u3@x"}]]}],"secret":"s","keep":1}',
      '{"users":[{"email":"' . h('u1@x') . '"},[{"email":"' . h('u2@x')
      . '"}],{"x":[[{"email":"' . h('u3@x') . '"}]]}],"keep":1}', 4 ],
    [ 'k5', '{"note":"ssn 123-45-6789 here","n":[1,2.5e3,-0]}',
      '{"note":"ssn XXX-XX-XXXX here","n":[1,2.5e3,-0]}', 1 ],
    [ 'k6', 'call 555-12-3456 now', 'call XXX-XX-XXXX now', 1 ],
    [ 'k7', '{"email":"x@y",}', undef, 0 ],
    [ 'k8', '[{"email":"first@x"},"tail"]',
      '[{"email":"' . h('first@x') . '"},"tail"]', 1 ],
);
my %FMASK = map { ($_->[1] => $_->[2]) } grep { defined $_->[2] } @FREC;

# fields masked for the whole fetch side of a topic: values, 8 keys and
# 2 headers of the first batch, the keys of the tombstone and of the
# empty value
my $FETCH_FIELDS = 0;
$FETCH_FIELDS += $_->[3] for @FREC;
$FETCH_FIELDS += 8 + 16 + 2;

# what alice must see of a record the broker holds
sub fetch_view {
    my ($r) = @_;
    my %e = %$r;
    $e{key} = h($r->{key}, 12) if defined $r->{key} && length $r->{key};
    $e{value} = $FMASK{$r->{value}}
        if defined $r->{value} && exists $FMASK{$r->{value}};
    $e{headers} = [ map { $_->[0] eq 'token' ? [ 'token', '***' ] : $_ }
                    grep { $_->[0] ne 'secret' } @{ $r->{headers} } ];
    return \%e;
}

# produce side: what bob sends, what the broker must hold
my @PREC = (
    [ 'p1', '{"ssn":"123-45-6789","name":"A"}', '{"ssn":"***","name":"A"}' ],
    [ 'p2', '{"a":{"ssn":"deep"}}', '{"a":{"ssn":"deep"}}' ],
    [ 'p3', 'text with hoop-payload inside', 'text with HP inside' ],
    [ 'p4', '{"ssn":null}', '{"ssn":"***"}' ],
    # long enough for librdkafka to compress the batch (it sends small
    # ones uncompressed when that is shorter)
    [ 'p5', 'filler ' . ('abcdefgh' x 300), 'filler ' . ('abcdefgh' x 300) ],
);
my $PRODUCE_FIELDS = 3 + 5 * 2;

# --- Kafka by hand ----------------------------------------------------------------

sub login {
    my ($u) = @_;
    return kafka_request(api_key => 17, version => 1, correlation_id => 1,
                         body => enc_string('PLAIN'))
        . kafka_request(api_key => 36, version => 2, correlation_id => 2,
                        body => enc_compact_bytes("\0$u\0$u-secret")
                                . enc_tagged_fields());
}

# Fetch v11 of partition 0 from offset 0 (on $port, as $user when set):
# (records blob, partition error)
sub fetch_records {
    my ($port, $topic, $max_bytes, $user) = @_;
    my $body = enc_int32(-1) . enc_int32(500) . enc_int32(1)
        . enc_int32($max_bytes) . enc_int8(0)
        . enc_int32(0) . enc_int32(-1)
        . enc_array([ enc_string($topic) . enc_array([
              enc_int32(0) . enc_int32(-1) . enc_int64(0) . enc_int64(-1)
              . enc_int32($max_bytes) ]) ])
        . enc_array([]) . enc_string('');
    my @resp = kafka_roundtrip($port, ($user ? login($user) : '')
        . kafka_request(api_key => 1, version => 11,
                        correlation_id => ++$corr, body => $body),
        timeout => 20);
    my $r = kafka_reader(parse_response_header($resp[-1], 0)->{body},
                         'fetch');
    $r->int32;
    my $err = $r->int16;
    $r->int32;
    my ($records, $pe) = ('', 0);
    $r->array(sub {
        my $t = $_[0];
        $t->string;
        $t->array(sub {
            my $p = $_[0];
            $p->int32;
            $pe = $p->int16;
            $p->int64 for 1 .. 3;
            $p->array(sub { $_[0]->int64; $_[0]->int64 });
            $p->int32;
            $records = $p->bytes // '';
        });
    });
    return ($records, $err || $pe);
}

sub tool {
    return run_cmd(cmd => [ $tool, @_ ], timeout => 60);
}

sub summary {
    my ($blob) = @_;
    my $f = "$dir/summary.bin";
    spew_file($f, $blob);
    my $s = tool('summary', $f);
    die "summary: $s->{stderr}" if $s->{rc};
    return decode_json($s->{stdout});
}

# records of a blob as the tool decodes them (bytes as code points < 256)
sub dump_records {
    my ($blob) = @_;
    my $f = "$dir/dump.bin";
    spew_file($f, $blob);
    my $d = tool('dump', $f);
    die "dump: $d->{stderr}" if $d->{rc};
    return [ map { decode_json($_) } grep { /\S/ } split /\n/, $d->{stdout} ];
}

# whole batches of a blob: { base_offset => bytes }
sub batches {
    my ($blob) = @_;
    my ($pos, %b) = (0);
    while (length($blob) - $pos >= 12) {
        my $size = 12 + unpack('N', substr($blob, $pos + 8, 4));
        last if $pos + $size > length $blob;
        my ($hi, $lo) = unpack('NN', substr($blob, $pos, 8));
        $b{$hi * 4294967296 + $lo} = substr($blob, $pos, $size);
        $pos += $size;
    }
    return \%b;
}

sub create_topics {
    my @names = @_;
    my $topic = sub {
        enc_string($_[0]) . enc_int32(1) . enc_int16(1) . enc_array([])
        . enc_array([ enc_string('retention.ms') . enc_string('-1') ]);
    };
    my $body = enc_array([ map { $topic->($_) } @names ])
        . enc_int32(30000) . enc_bool(0);
    my ($resp) = kafka_roundtrip($kport, kafka_request(api_key => 19,
        version => 4, correlation_id => ++$corr, body => $body));
    my $r = kafka_reader(parse_response_header($resp, 0)->{body}, 'create');
    $r->int32;
    my $topics = $r->array(sub {
        { name => $_[0]->string, error_code => $_[0]->int16,
          message => $_[0]->string } });
    return { map { $_->{name} => $_->{error_code} } @$topics };
}

# fetches directly until the blob holds $n records
sub fetch_until {
    my ($topic, $n) = @_;
    my ($blob, $s);
    for (1 .. 50) {
        ($blob) = fetch_records($kport, $topic, 1 << 20);
        $s = summary($blob);
        last if $s->{records} >= $n;
        select(undef, undef, undef, 0.2);
    }
    return ($blob, $s);
}

sub as_user {
    my ($u) = @_;
    return ('-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=PLAIN',
            '-X', "sasl.username=$u", '-X', "sasl.password=$u-secret");
}

sub java_auth {
    my ($u) = @_;
    return ('--sasl-mechanism', 'PLAIN', '--sasl-user', $u, '--sasl-password',
            "$u-secret");
}

sub java_client {
    return run_cmd(cmd => [ "$repo/t/clients/java/run", @_ ], timeout => 180);
}

# kcat -J lines: [{ key, value, headers => [[k, v]...] }] (UTF-8 decoded)
sub kcat_view {
    my ($out) = @_;
    my $j = JSON::PP->new->utf8;
    return [ map {
        my $m = $j->decode($_);
        my @h = @{ $m->{headers} || [] };
        { key => $m->{key}, value => $m->{payload},
          headers => [ map { [ $h[2 * $_], $h[2 * $_ + 1] ] }
                       0 .. @h / 2 - 1 ] }
    } grep { /^\{/ } split /\n/, $out ];
}

# a dumped record as kcat shows it: strings decoded from UTF-8
sub text_view {
    my ($r) = @_;
    my $d = sub { defined $_[0] ? decode('UTF-8', $_[0]) : undef };
    return { key => $d->($r->{key}), value => $d->($r->{value}),
             headers => [ map { [ $d->($_->[0]), $d->($_->[1]) ] }
                          @{ $r->{headers} } ] };
}

# Kafka's DumpLogSegments: { ok, batches => [{ valid, codec }], payloads }
sub dump_log {
    my @files = @_;
    my $r = kafka_tool('kafka.tools.DumpLogSegments', '--deep-iteration',
                       '--print-data-log', '--files', join(',', @files),
                       { timeout => 120 });
    my %d = (ok => $r->{rc} == 0, batches => [], payloads => [],
             out => "$r->{stdout}\n$r->{stderr}");
    for (split /\n/, $r->{stdout}) {
        if (/^baseOffset: /) {
            push @{ $d{batches} }, {
                valid => /isvalid: true/ ? 1 : 0,
                codec => /compresscodec: (\w+)/ ? $1 : '?' };
        } elsif (/^\| offset: (\d+) .* payload: (.*)$/) {
            push @{ $d{payloads} }, $2;
        }
    }
    return \%d;
}

# --- Redis: audit events ------------------------------------------------------------

sub rcli {
    my (@args) = @_;
    return run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, @args ], timeout => 10);
}

sub xrange { return redis_xrange($RPORT, $_[0]); }

sub wait_for {
    my ($cond, $timeout) = @_;
    my $t = time + $timeout;
    while (time < $t) {
        my $v = $cond->();
        return $v if $v;
        select(undef, undef, undef, 0.1);
    }
    return $cond->();
}

# the masked fields of $who's $api events on $topic: (sum, events with a
# mask, aggregates); mask values [[id, n]] summed per id into %$ids
sub masked_in_audit {
    my ($who, $api, $topic, $ids) = @_;
    my ($sum, $with, $agg) = (0, 0, 0);
    for my $e (xrange("${PREFIX}audit")) {
        next unless ($e->{principal} // '') eq $who
            && ($e->{api} // '') eq $api && ($e->{resource} // '') eq $topic;
        $agg++ if $e->{event} eq 'aggregate';
        next unless $e->{mask};
        $with++;
        for my $m (@{ decode_json($e->{mask}) }) {
            $sum += $m->[1];
            $ids->{ $m->[0] } += $m->[1] if $ids;
        }
    }
    return ($sum, $with, $agg);
}

my $MPORT;

sub metric {
    my ($name) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $MPORT,
                                  Proto => 'tcp', Timeout => 5) or return;
    print $s "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    return $resp =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

# --- the gateway --------------------------------------------------------------------

sub gateway {
    my (%o) = @_;
    return hoop_nginx_start(
        log_level => 'info', ports => 1,
        stream_config => "hoop_redis 127.0.0.1:$RPORT prefix=$PREFIX;\n"
                         . "hoop_node_name t087;\n"
                         . "hoop_audit_aggregate 300ms;\n"
                         . "hoop_audit_spool $dir/spool;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;' . "\n"
                         . 'server { listen 127.0.0.1:$TEST_NGINX_PORT_1; hoop_metrics; }',
        stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $dir/credentials.jsonl;
hoop_policy $dir/policy.yaml;
hoop_audit on;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

sub clean_log {
    my ($log, $what) = @_;
    unlike($log, qr/\[(alert|crit|emerg)\]/, "$what: no alert, crit or emerg")
        or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);
    unlike($log, qr/exited on signal|open socket|masking: .* (refused|withheld)/,
           "$what: no crash, no socket left, no masking failure")
        or diag(join "\n", grep { /signal|socket|masking:/ } split /\n/, $log);
}

# --- 1. policies that nginx -t refuses ------------------------------------------------

{
    my $bad = $POLICY =~ s/path: "\$\.card"/path: "\$.card[-1]"/r;
    spew_file("$dir/bad-path.yaml", $bad);
    my $missing = $GRANTS . masking_yaml("$dir/no-such.key");
    spew_file("$dir/missing-key.yaml", $missing);

    # the line of the first field each breaks
    my $line = sub {
        my ($text, $re) = @_;
        my @l = split /\n/, $text;
        return (grep { $l[$_ - 1] =~ $re } 1 .. @l)[0];
    };
    for my $case ([ 'bad-path.yaml', 'bad-path', 'a bad JSON path',
                    $line->($bad, qr/card\[-1\]/) ],
                  [ 'missing-key.yaml', 'key-file', 'a missing key file',
                    $line->($missing, qr/no-such\.key/) ]) {
        my $ng = eval {
            hoop_nginx_start(stream_server_config =>
                "hoop on;\nhoop_policy $dir/$case->[0];\n"
                . "proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;")
        };
        my $err = $@;
        hoop_nginx_stop($ng) if $ng;
        ok(!$ng && $err =~ /\Q$case->[0]\E:$case->[3]:\d+: error: .*\[$case->[1]\]/,
           "nginx refuses a policy with $case->[2] in its masking section "
           . "(line $case->[3], [$case->[1]])")
            or diag($err);
    }
}

# --- 2. the fetch side, every codec ---------------------------------------------------

my $ng = gateway();
my $gw = $ng->{port};
my $boot = "127.0.0.1:$gw";
$MPORT = $ng->{ports}[0];

my %T;
for my $c (@CODECS) {
    $T{$c} = { f => "mk.f.$c-$run", p => "mk.p.$c-$run", j => "mk.p.j.$c-$run",
               x => "mk.p.x.$c-$run" };
}
my $created = create_topics(map { values %$_ } values %T);
is_deeply([ grep { $created->{$_} } sort keys %$created ], [],
          'topics created (retention off)');

my $metric0 = metric('hoop_masked_fields_total');
ok(defined $metric0, "hoop_masked_fields_total is scraped ($metric0)");

for my $c (@CODECS) {
    my $t = $T{$c}{f};

    # straight to the broker: four kcat runs, four batches at least
    my @k = ('kcat', '-P', '-b', $bootstrap, '-t', $t, '-z', $c);
    my $p1 = run_cmd(cmd => [ @k, '-K', '|', '-H', 'secret=s3', '-H', 'token=tok1',
                              '-H', 'keep=k' ],
                     stdin => join('', map { "$_->[0]|$_->[1]\n" } @FREC),
                     timeout => 60);
    my $p2 = run_cmd(cmd => [ @k, '-K', '|', '-Z' ], stdin => "tomb|\n",
                     timeout => 60);
    my $p3 = run_cmd(cmd => [ @k, '-K', '|' ], stdin => "empty|\n",
                     timeout => 60);
    my $p4 = run_cmd(cmd => [ @k ], stdin => qq(just text\n{"id":7}\n),
                     timeout => 60);
    ok(!$p1->{rc} && !$p2->{rc} && !$p3->{rc} && !$p4->{rc},
       "$c: kcat wrote the mixed records to the broker")
        or diag("$p1->{stderr}$p2->{stderr}$p3->{stderr}$p4->{stderr}");

    my $n = @FREC + 4;
    my ($orig, $s) = fetch_until($t, $n);
    # (librdkafka sends a batch uncompressed when compressing makes it
    # larger: the small ones)
    ok($s->{records} == $n && $s->{batches} >= 4 && $s->{crc_bad} == 0
       && ($s->{codecs} & (1 << $CODEC_ID{$c})),
       "$c: the broker holds $n records in $s->{batches} batches, $c among "
       . 'them') or diag($json->encode($s));
    my $orecs = dump_records($orig);

    # alice: a fetch rule applies
    my $m0 = metric('hoop_masked_fields_total');
    my ($masked, $err) = fetch_records($gw, $t, 1 << 20, 'alice');
    my $ms = summary($masked);
    ok($err == 0 && $ms->{batches} == $s->{batches} && $ms->{crc_bad} == 0
       && $ms->{codecs} == $s->{codecs} && $ms->{records} == $n,
       "$c: alice's Fetch: $ms->{batches} batches, CRCs valid, still $c")
        or diag($json->encode($ms) . " error $err");

    my $mrecs = dump_records($masked);
    my $want = [ map { fetch_view($_) } @$orecs ];
    is_deeply($mrecs, $want, "$c: alice reads every record masked byte for "
              . 'byte as the oracle says (keys, values, headers; offsets, '
              . 'timestamps, producer fields kept)');

    my $ob = batches($orig);
    my $mb = batches($masked);
    my @same = grep { $ob->{$_} eq ($mb->{$_} // '') } sort { $a <=> $b } keys %$ob;
    my $last = (sort { $a <=> $b } keys %$ob)[-1];
    ok(@same == 1 && $same[0] == $last,
       "$c: the batch no rule touches is byte-identical, the others rebuilt")
        or diag("identical batches at offsets @same");

    my $m1 = metric('hoop_masked_fields_total');
    is($m1 - $m0, $FETCH_FIELDS,
       "$c: hoop_masked_fields_total grew by the $FETCH_FIELDS fields masked");

    # carol is excepted: the broker's bytes
    my ($clear) = fetch_records($gw, $t, 1 << 20, 'carol');
    ok($clear eq $orig, "$c: carol (excepted) gets the broker's bytes exactly");

    # a Fetch cut by max bytes: alice loses the clear tail, carol keeps it
    my $cut = length($orig) - 20;
    my ($bt) = fetch_records($kport, $t, $cut);
    my ($at) = fetch_records($gw, $t, $cut, 'alice');
    my ($ct) = fetch_records($gw, $t, $cut, 'carol');
    my ($bs, $as) = (summary($bt), summary($at));
    ok($bs->{tail_size} > 0 && $as->{tail_size} == 0
       && $as->{batches} == $bs->{batches} && $as->{crc_bad} == 0
       && $ct eq $bt,
       "$c: cut at $cut bytes: the broker's $bs->{tail_size}-byte tail is "
       . 'left out for alice, kept for carol')
        or diag($json->encode([ $bs, $as ]));

    # real consumers through the gateway
    my $kc = run_cmd(cmd => [ 'kcat', '-C', '-b', $boot, '-t', $t, '-o',
                              'beginning', '-e', '-q', '-J', '-X',
                              'check.crcs=true', as_user('alice') ],
                     timeout => 60);
    is_deeply(kcat_view($kc->{stdout}), [ map { text_view($_) } @$want ],
              "$c: kcat (librdkafka, check.crcs) as alice reads the masked "
              . 'records') or diag($kc->{stderr});

    my $j = java_client('consume', '--bootstrap', $boot, '--topic', $t,
                        '--group', "mk-$c-$run", '--count', $n,
                        '--prop', 'check.crcs=true', java_auth('alice'));
    my @jc = map { decode_json($_) } grep { /^\{/ } split /\n/, $j->{stdout};
    my $jwant = [ map { my $v = text_view($_);
                        { key => $v->{key}, value => $v->{value},
                          headers => { map { @$_ } @{ $v->{headers} } } } }
                  @$want ];
    is_deeply([ map { { key => $_->{key}, value => $_->{value},
                        headers => $_->{headers} } } @jc ], $jwant,
              "$c: the Java consumer (check.crcs) as alice reads the masked "
              . 'records') or diag(substr($j->{stderr}, -2000));

    # a third client: kafka-python (pure Python; check_crcs is its default)
    my $py = run_cmd(cmd => [ "$repo/t/clients/python/run", 'consume',
                              '--bootstrap', $boot, '--topic', $t,
                              '--group', "mk-py-$c-$run", '--count', $n,
                              '--timeout-ms', 60000,
                              java_auth('alice') ], timeout => 180);
    my @pc = map { decode_json($_) } grep { /^\{/ } split /\n/, $py->{stdout};
    is_deeply([ map { { key => $_->{key}, value => $_->{value},
                        headers => $_->{headers} } } @pc ], $jwant,
              "$c: kafka-python (check_crcs) as alice reads the masked "
              . 'records') or diag(substr($py->{stderr}, -2000));
}

# the audit trail: a request event with the mask per Fetch that masked
{
    my $c = $CODECS[0];
    my %ids;
    my ($sum, $with) = (0, 0);
    wait_for(sub {
        %ids = ();
        ($sum, $with) = masked_in_audit('alice', 'Fetch', $T{$c}{f}, \%ids);
        $sum >= $FETCH_FIELDS * 2;
    }, 10);
    ok($with >= 2 && $sum >= $FETCH_FIELDS * 2
       && join(',', sort keys %ids) eq 'contacts',
       "audit: alice's Fetch events of $T{$c}{f} carry mask "
       . "[[\"contacts\", N]] ($with events, $sum fields)");
    my ($csum) = masked_in_audit('carol', 'Fetch', $T{$c}{f});
    is($csum, 0, 'audit: carol\'s Fetch events carry no mask');
}

# --- 3. the produce side, every codec -------------------------------------------------

for my $c (@CODECS) {
    my $t = $T{$c}{p};

    my $m0 = metric('hoop_masked_fields_total');
    my $p = run_cmd(cmd => [ 'kcat', '-P', '-b', $boot, '-t', $t, '-z', $c,
                             '-K', '|', '-H', 'h2=b', '-H', 'x-pii=p',
                             '-H', 'other=o', '-X', 'enable.idempotence=true',
                             as_user('bob') ],
                    stdin => join('', map { "$_->[0]|$_->[1]\n" } @PREC),
                    timeout => 60);
    is($p->{rc}, 0, "$c: bob's idempotent kcat producer wrote through the "
                    . 'gateway') or diag($p->{stderr});

    my ($blob, $s) = fetch_until($t, scalar @PREC);
    my $recs = dump_records($blob);
    is_deeply([ map { [ $_->{key}, $_->{value}, $_->{headers} ] } @$recs ],
              [ map { [ $_->[0], $_->[2],
                        [ [ 'h2', 'masked' ], [ 'x-pii', undef ],
                          [ 'other', 'o' ] ] ] } @PREC ],
              "$c: the broker holds bob's records masked (\$.ssn, the regex, "
              . 'h2 redacted, x-pii null)');
    ok($s->{crc_bad} == 0 && $s->{codecs} == (1 << $CODEC_ID{$c})
       && !grep({ $_->{producer_id} < 0 || $_->{base_sequence} < 0 } @$recs),
       "$c: $c batches with valid CRCs, producer id and sequence kept")
        or diag($json->encode($s));

    my $dl = dump_log(sort glob("$data_dir/$t-0/*.log"));
    ok($dl->{ok} && @{ $dl->{batches} }
       && !grep({ !$_->{valid} || $_->{codec} ne $c } @{ $dl->{batches} })
       && $json->encode($dl->{payloads})
          eq $json->encode([ map { $_->[2] } @PREC ]),
       "$c: the broker's log holds the masked values (DumpLogSegments)")
        or diag(substr($dl->{out}, 0, 3000));

    my $kc = run_cmd(cmd => [ 'kcat', '-C', '-b', $bootstrap, '-t', $t, '-o',
                              'beginning', '-e', '-q', '-J', '-X',
                              'check.crcs=true' ], timeout => 60);
    is_deeply([ map { $_->{value} } @{ kcat_view($kc->{stdout}) } ],
              [ map { $_->[2] } @PREC ],
              "$c: a direct kcat consumer reads the masked values");

    my $m1 = metric('hoop_masked_fields_total');
    is($m1 - $m0, $PRODUCE_FIELDS,
       "$c: hoop_masked_fields_total grew by $PRODUCE_FIELDS");

    # the Java client through the gateway: idempotent, then transactional
    my $count = 20;
    my $jp = java_client('produce', '--bootstrap', $boot, '--topic', $T{$c}{j},
                         '--count', $count, '--payload-bytes', 60,
                         '--compression', $c, '--idempotent',
                         '--prop', 'batch.size=700', java_auth('bob'));
    is($jp->{rc}, 0, "$c: the Java idempotent producer wrote $count records "
                     . 'through the gateway') or diag(substr($jp->{stderr}, -2000));
    my $tp = java_client('produce', '--bootstrap', $boot, '--topic', $T{$c}{x},
                         '--count', $count, '--payload-bytes', 60,
                         '--compression', $c, '--transactional-id',
                         "mk-txn-$c-$run", java_auth('bob'));
    is($tp->{rc}, 0, "$c: the Java transactional producer committed through "
                     . 'the gateway') or diag(substr($tp->{stderr}, -2000));

    my @expect = map {
        my $v = 'value-' . $_ . '-' . substr('hoop-payload-' x 10, 0, 60);
        $v =~ s/hoop-payload/HP/g;
        { key => "key-$_", value => $v,
          headers => { h1 => "a-$_", h2 => 'masked' } }
    } 0 .. $count - 1;

    for my $case ([ $T{$c}{j}, 'idempotent', 'read_uncommitted' ],
                  [ $T{$c}{x}, 'transactional', 'read_committed' ],
                  [ $T{$c}{x}, 'transactional', 'read_uncommitted' ]) {
        my $jc = java_client('consume', '--bootstrap', $bootstrap, '--topic',
                             $case->[0], '--group', "mk-$case->[2]-$c-$run",
                             '--count', $count, '--prop', 'check.crcs=true',
                             '--prop', "isolation.level=$case->[2]");
        my @got = sort { $a->{key} cmp $b->{key} }
                  map { my $m = decode_json($_);
                        { key => $m->{key}, value => $m->{value},
                          headers => $m->{headers} } }
                  grep { /^\{/ } split /\n/, $jc->{stdout};
        is_deeply(\@got, [ sort { $a->{key} cmp $b->{key} } @expect ],
                  "$c: $case->[1] records read directly ($case->[2]) are "
                  . 'masked') or diag(substr($jc->{stderr}, -2000));
    }
}

{
    my $c = $CODECS[0];
    my %ids;
    my $sum = 0;
    wait_for(sub {
        %ids = ();
        ($sum) = masked_in_audit('bob', 'Produce', $T{$c}{p}, \%ids);
        $sum >= $PRODUCE_FIELDS;
    }, 10);
    ok($sum == $PRODUCE_FIELDS && join(',', sort keys %ids) eq 'pii-in',
       "audit: bob's Produce events of $T{$c}{p} carry mask "
       . "[[\"pii-in\", $sum]]");
}

clean_log(hoop_nginx_stop($ng), 'gateway');

# --- 4. policy versions: file and Redis ----------------------------------------------

my $t0 = $T{ $CODECS[0] }{f};
my ($orig0) = fetch_records($kport, $t0, 1 << 20);

sub alice_masked {
    my ($port) = @_;
    my ($got, $err) = fetch_records($port, $t0, 1 << 20, 'alice');
    return $err ? "error $err" : $got eq $orig0 ? 'clear'
         : length($got) ? 'masked' : 'empty';
}

{
    $ng = gateway();
    is(alice_masked($ng->{port}), 'masked', 'file: masked with the policy');

    # a new version whose key file is gone: refused, the last good one stays
    spew_file("$dir/policy.yaml", $GRANTS . masking_yaml("$dir/gone.key"));
    sleep 1.2;
    is(alice_masked($ng->{port}), 'masked',
       'file: a version with a missing key file is refused, masking stays');
    my $log = hoop_error_log($ng);
    ok($log =~ /\[key-file\]/
       && $log =~ /policy "[^"]+" refused \(\d+ errors\); keeping version [0-9a-f]{64}/,
       'file: the refusal is logged with the key-file diagnostic');

    # a version without masking: alice reads the broker's bytes
    spew_file("$dir/policy.yaml", $GRANTS);
    sleep 1.2;
    is(alice_masked($ng->{port}), 'clear',
       'file: a version without masking rules unmasks');
    hoop_nginx_stop($ng);
    spew_file("$dir/policy.yaml", $POLICY);
}

sub push_version {
    my ($n, $text) = @_;
    my $r = run_cmd(cmd => [ 'redis-cli', '-p', $RPORT, '-x', 'HSET',
                             "${PREFIX}policy:v:$n", 'text' ],
                    stdin => $text, timeout => 10);
    die "HSET: $r->{stdout}$r->{stderr}" if $r->{rc} || $r->{stdout} =~ /ERR/;
    rcli('SET', "${PREFIX}policy:current", $n);
    rcli('PUBLISH', "${PREFIX}policy:notify", qq({"version":$n}));
}

sub redis_gateway {
    my ($rport) = @_;
    return hoop_nginx_start(
        log_level => 'info',
        stream_config => "hoop_redis 127.0.0.1:$rport prefix=$PREFIX;\n"
                         . "hoop_policy_cache $dir/policy.cache;\n"
                         . 'hoop_broker_address 1 127.0.0.1:$TEST_NGINX_SERVER_PORT;',
        stream_server_config => <<"CONF");
hoop on;
hoop_auth sasl;
hoop_sasl_credentials $dir/credentials.jsonl;
hoop_policy redis;
proxy_pass \$TEST_NGINX_KAFKA_BOOTSTRAP;
CONF
}

{
    push_version(1, $POLICY);
    $ng = redis_gateway($RPORT);
    is(alice_masked($ng->{port}), 'masked', 'redis: version 1 masks');

    push_version(2, $GRANTS . masking_yaml("$dir/gone.key"));
    my $refused = wait_for(sub {
        hoop_error_log($ng) =~ /policy version 2 from redis refused: it does not compile; keeping version 1/
    }, 10);
    ok($refused, 'redis: version 2 (missing key file) is refused, version 1 kept');
    is(alice_masked($ng->{port}), 'masked', 'redis: masking stays');
    ok(-s "$dir/policy.cache", 'redis: version 1 is in the cache file');
    hoop_nginx_stop($ng);

    # no Redis at all: the cache file's version masks
    my ($nowhere) = free_ports(1, owner => "test $0");
    $ng = redis_gateway($nowhere);
    is(alice_masked($ng->{port}), 'masked',
       'cache: without Redis, the cached version masks (key file read again)');
    like(hoop_error_log($ng), qr/policy version 1 \(sha256 [0-9a-f]{64}\) from cache/,
         'cache: version 1 came from the cache file');
    hoop_nginx_stop($ng);
    Test::Hoop::Util::release_ports($nowhere);
    rcli('DEL', "${PREFIX}policy:v:1", "${PREFIX}policy:v:2",
         "${PREFIX}policy:current");
}

rcli('EVAL', "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
     . "redis.call('DEL', k) end", 0, "${PREFIX}*");

Test::More::done_testing();
