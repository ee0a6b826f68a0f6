# Record batches rewritten by src/kafka/hoop_record_batch.c, proven on a
# real Kafka 4.1.1 broker with real clients and Kafka's own tools (no
# gateway involved yet; the data path wires the codec in later).  For every
# codec (none, gzip, snappy, lz4, zstd):
#
#  - the Java client (idempotent) and librdkafka (kcat driver, idempotent;
#    its own snappy and lz4 framings) produce into source topics; a raw
#    Fetch (Kafka::Frame) returns the records blob as the broker serves it;
#  - test/unit/build/test_record_batch_tool rewrites it (keys, values and
#    "h1" header values changed, to longer and shorter bytes; offsets,
#    timestamps, producer state kept) and checks the result field by field;
#    without a change the output is the input, byte for byte;
#  - fetch direction: Kafka's DumpLogSegments (kafka-dump-log) reads the
#    rewritten blob as a log segment: every batch valid (CRC-32C), every
#    record the rewritten one;
#  - produce direction: the batches as a producer sends them (baseOffset 0,
#    partitionLeaderEpoch -1: outside the CRC) are rewritten and sent in
#    raw Produce requests; the broker takes them (CRC, record counts,
#    idempotent sequences), its own log holds the rewritten records with
#    the same codec (DumpLogSegments), and the Java consumer and kcat
#    (check.crcs) read exactly the rewritten keys, values, headers and
#    timestamps;
#  - a Fetch cut by max bytes ends in a truncated tail: forwarded as is, or
#    trimmed to whole batches;
#  - transactional batches are rewritten with their COMMIT marker copied
#    byte for byte, and DumpLogSegments reads the marker.
#
# Needs the "kafka" cluster (t/bin/kafka-cluster start) and the Java and
# kcat client drivers (t/clients/setup).  HOOP_RB_CODECS=gzip,zstd limits
# the codecs; HOOP_KEEP=1 keeps the work files in $HOOP_RUN_DIR.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use JSON::PP;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';
my $tool = "$repo/test/unit/build/test_record_batch_tool";
my @CODECS = qw(none gzip snappy lz4 zstd);
@CODECS = split /,/, $ENV{HOOP_RB_CODECS} if $ENV{HOOP_RB_CODECS};
my %CODEC_ID = (none => 0, gzip => 1, snappy => 2, lz4 => 3, zstd => 4);

unless (env_is_up('kafka')) {
    if ($ENV{HOOP_TEST_REQUIRE_ALL}) {
        plan tests => 1;
        fail('kafka cluster is up');
        exit 0;
    }
    plan skip_all => 'needs t/bin/kafka-cluster start';
}

my $b = run_cmd(cmd => [ 'make', '-s', '-C', "$repo/test/unit",
                         'build/test_record_batch_tool' ], timeout => 120);
if ($b->{rc} != 0) {
    plan tests => 1;
    fail('test_record_batch_tool builds');
    diag($b->{stderr});
    exit 0;
}

my ($port) = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP} =~ /:(\d+)$/;
my $bootstrap = $ENV{TEST_NGINX_KAFKA_BOOTSTRAP};
my $data_dir = test_env('kafka')->{KAFKA_DIR} . '/node-1/data';
my $dir = Test::Hoop::Util::run_dir() . "/record-batch-$$";
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

sub tool {
    my @args = @_;
    return run_cmd(cmd => [ $tool, @args ], timeout => 60);
}

# CreateTopics v4: one partition, retention off (the drivers' records carry
# 2023 timestamps) and no time-based segment roll (with such timestamps the
# broker would roll at almost every append, and a Fetch reads one segment)
sub create_topics {
    my @names = @_;
    my $topic = sub {
        enc_string($_[0]) . enc_int32(1) . enc_int16(1) . enc_array([])
        . enc_array([ enc_string('retention.ms') . enc_string('-1'),
                      enc_string('segment.ms')
                      . enc_string('31536000000000') ]);
    };
    my $body = enc_array([ map { $topic->($_) } @names ])
        . enc_int32(30000) . enc_bool(0);
    my ($resp) = kafka_roundtrip($port, kafka_request(api_key => 19,
        version => 4, correlation_id => ++$corr, body => $body));
    my $r = kafka_reader(parse_response_header($resp, 0)->{body}, 'create');
    $r->int32;
    my $topics = $r->array(sub {
        { name => $_[0]->string, error_code => $_[0]->int16,
          message => $_[0]->string } });
    return { map { $_->{name} => $_->{error_code} } @$topics };
}

# Fetch v11 of partition 0 from offset 0: the records blob
sub fetch_records {
    my ($topic, $max_bytes) = @_;
    my $body = enc_int32(-1) . enc_int32(500) . enc_int32(1)
        . enc_int32($max_bytes) . enc_int8(0)          # read_uncommitted
        . enc_int32(0) . enc_int32(-1)                  # no fetch session
        . enc_array([ enc_string($topic) . enc_array([
              enc_int32(0) . enc_int32(-1) . enc_int64(0) . enc_int64(-1)
              . enc_int32($max_bytes) ]) ])
        . enc_array([]) . enc_string('');
    my ($resp) = kafka_roundtrip($port, kafka_request(api_key => 1,
        version => 11, correlation_id => ++$corr, body => $body));
    my $r = kafka_reader(parse_response_header($resp, 0)->{body}, 'fetch');
    $r->int32;
    my $err = $r->int16;
    $r->int32;
    my $records;
    $r->array(sub {
        my $t = $_[0];
        $t->string;
        $t->array(sub {
            my $p = $_[0];
            $p->int32;
            my $pe = $p->int16;
            $p->int64 for 1 .. 3;
            $p->array(sub { $_[0]->int64; $_[0]->int64 });
            $p->int32;
            $records = $p->bytes;
            die "fetch $topic: partition error $pe" if $pe;
        });
    });
    die "fetch $topic: error $err" if $err;
    return $records // '';
}

# fetches until the blob holds at least $records records (a producer's
# acks come before every follower fetch; a COMMIT marker comes after the
# producer returns)
sub fetch_until {
    my ($topic, $file, $records, $control) = @_;
    my ($blob, $s);
    for (1 .. 50) {
        $blob = fetch_records($topic, 1 << 20);
        spew_file($file, $blob);
        $s = summary($file);
        last if $s->{records} >= $records && $s->{control} >= $control;
        select(undef, undef, undef, 0.2);
    }
    return ($blob, $s);
}

# Produce v9 of one records blob to partition 0 (acks=all):
# (error code, error message)
sub produce_records {
    my ($topic, $records) = @_;
    my $body = enc_compact_nullable_string(undef) . enc_int16(-1)
        . enc_int32(10000)
        . enc_compact_array([ enc_compact_string($topic)
            . enc_compact_array([ enc_int32(0)
                . enc_compact_nullable_bytes($records)
                . enc_tagged_fields() ])
            . enc_tagged_fields() ])
        . enc_tagged_fields();
    my ($resp) = kafka_roundtrip($port, kafka_request(api_key => 0,
        version => 9, correlation_id => ++$corr, body => $body));
    my $r = kafka_reader(parse_response_header($resp, 1)->{body},
                         'produce');
    my ($code, $msg);
    $r->compact_array(sub {
        $_[0]->compact_string;
        $_[0]->compact_array(sub {
            my $p = $_[0];
            $p->int32;
            $code = $p->int16;
            $p->int64 for 1 .. 3;
            $p->compact_array(sub { $_[0]->int32; $_[0]->compact_string;
                                    $_[0]->tagged_fields });
            $msg = $p->compact_string;
            $p->tagged_fields;
        });
        $_[0]->tagged_fields;
    });
    return ($code, $msg);
}

# the batches of a blob: [offset, size] each (whole ones only)
sub batch_spans {
    my ($blob) = @_;
    my ($pos, @spans) = (0);
    while (length($blob) - $pos >= 12) {
        my $size = 12 + unpack('N', substr($blob, $pos + 8, 4));
        last if $pos + $size > length $blob;
        push @spans, [ $pos, $size ];
        $pos += $size;
    }
    return @spans;
}

# a fetched blob as its producer sent it: every batch at baseOffset 0 with
# partitionLeaderEpoch -1 (Kafka 4 refuses any other baseOffset in a
# Produce; neither field is under the CRC)
sub as_produced {
    my ($blob) = @_;
    for my $s (batch_spans($blob)) {
        substr($blob, $s->[0], 8) = "\0" x 8;
        substr($blob, $s->[0] + 12, 4) = "\xff" x 4;
    }
    return $blob;
}

sub summary {
    my ($file) = @_;
    my $s = tool('summary', $file);
    die "summary $file: $s->{stderr}" if $s->{rc};
    return decode_json($s->{stdout});
}

# records of a blob as the tool decodes them, in order
sub dump_records {
    my ($file) = @_;
    my $d = tool('dump', $file);
    die "dump $file: $d->{stderr}" if $d->{rc};
    return [ map { decode_json($_) } grep { /\S/ } split /\n/, $d->{stdout} ];
}

sub java_client {
    return run_cmd(cmd => [ "$repo/t/clients/java/run", @_ ],
                   timeout => 180);
}

# what a consumer must see for each record: key, value, headers, timestamp
sub expected_view {
    my ($recs) = @_;
    return [ map { {
        key => $_->{key}, value => $_->{value}, ts => $_->{timestamp},
        headers => { map { $_->[0] => $_->[1] } @{ $_->{headers} } } }
    } grep { !$_->{control} } @$recs ];
}

# Kafka's DumpLogSegments over segment files: { ok, batches => [{ valid,
# codec, control }], records => [{ offset, key, value }], markers => [...],
# out }
sub dump_log {
    my @files = @_;
    my $r = kafka_tool('kafka.tools.DumpLogSegments', '--deep-iteration',
                       '--print-data-log', '--files', join(',', @files),
                       { timeout => 120 });
    my %d = (ok => $r->{rc} == 0, batches => [], records => [],
             markers => [], out => "$r->{stdout}\n$r->{stderr}");
    for (split /\n/, $r->{stdout}) {
        if (/^baseOffset: /) {
            push @{ $d{batches} }, {
                valid => /isvalid: true/ ? 1 : 0,
                codec => /compresscodec: (\w+)/ ? $1 : '?',
                control => /isControl: true/ ? 1 : 0 };
        } elsif (/^\| offset: (\d+) .*endTxnMarker: (\w+)/) {
            push @{ $d{markers} }, $2;
        } elsif (/^\| offset: (\d+) .* key: (.*?) payload: (.*)$/) {
            push @{ $d{records} }, { offset => $1, key => $2, value => $3 };
        }
    }
    return \%d;
}

# a blob as a one-segment log: its file name says its first offset
sub blob_segment {
    my ($name, $blob) = @_;
    my $d = "$dir/$name";
    mkdir $d or die "mkdir $d: $!";
    my $f = "$d/00000000000000000000.log";
    spew_file($f, $blob);
    return $f;
}

sub log_files {
    my ($topic) = @_;
    return sort glob("$data_dir/$topic-0/*.log");
}

# DumpLogSegments shows what the tool decoded: valid batches of codec,
# the keys and values of $want (expected_view) in order
sub dump_matches {
    my ($d, $want, $codec) = @_;
    my @data = grep { !$_->{control} } @{ $d->{batches} };
    return 0 unless $d->{ok} && @data;
    return 0 if grep { !$_->{valid} } @{ $d->{batches} };
    return 0 if grep { $_->{codec} ne $codec } @data;
    my $got = [ map { [ $_->{key}, $_->{value} ] } @{ $d->{records} } ];
    my $exp = [ map { [ $_->{key} // 'null', $_->{value} // 'null' ] }
                @$want ];
    return $json->encode($got) eq $json->encode($exp);
}

# the produce direction for one source blob: rewritten as sent, produced
# batch by batch to $dst, then read back by the broker's log and consumers
sub produce_direction {
    my ($c, $who, $blob, $dst, $count) = @_;
    my $sent = "$dir/$c.$who.sent";
    spew_file($sent, as_produced($blob));

    my $rw = tool('rewrite', 'all', $sent, "$sent.new");
    is($rw->{rc}, 0, "$c/$who: producer batches rewritten") or diag($rw->{stderr});
    my $ck = tool('check', 'all', $sent, "$sent.new");
    is($ck->{rc}, 0, "$c/$who: rewritten as sent checks field by field")
        or diag($ck->{stderr});

    my $new = slurp_file("$sent.new");
    my (@codes, @msgs);
    for my $s (batch_spans($new)) {
        my ($code, $msg) = produce_records($dst, substr($new, $s->[0],
                                                        $s->[1]));
        push @codes, $code;
        push @msgs, $msg // '';
    }
    is_deeply(\@codes, [ (0) x @codes ],
              "$c/$who: broker took all " . scalar(@codes)
              . " rewritten batches (Produce error codes)")
        or diag(join '; ', @msgs);

    my $want = expected_view(dump_records("$sent.new"));
    is(scalar @$want, $count, "$c/$who: $count rewritten records expected");

    # the broker's own log, as Kafka's dump tool reads it
    my $dl = dump_log(log_files($dst));
    ok(dump_matches($dl, $want, $c),
       "$c/$who: broker log holds the rewritten records, $c, CRCs valid "
       . '(DumpLogSegments)')
        or diag(substr($dl->{out}, 0, 3000));

    my $k = run_cmd(cmd => [ 'kcat', '-C', '-b', $bootstrap, '-t', $dst,
                             '-o', 'beginning', '-e', '-q', '-J',
                             '-X', 'check.crcs=true' ], timeout => 60);
    my @kc = map { decode_json($_) } grep { /^\{/ } split /\n/, $k->{stdout};
    my $kview = [ map { my $h = $_->{headers} || [];
        { key => $_->{key}, value => $_->{payload}, ts => $_->{ts},
          headers => { @$h } } } @kc ];
    is_deeply($kview, $want, "$c/$who: kcat (librdkafka, check.crcs) reads "
                             . 'the rewritten records')
        or diag($k->{stderr});

    my $j = java_client('consume', '--bootstrap', $bootstrap, '--topic',
                        $dst, '--group', "g-$dst", '--count', $count,
                        '--prop', 'check.crcs=true');
    my @jc = map { decode_json($_) } grep { /^\{/ } split /\n/, $j->{stdout};
    my $jview = [ map { { key => $_->{key}, value => $_->{value},
                          ts => $_->{timestamp}, headers => $_->{headers} } }
                  @jc ];
    is_deeply($jview, $want, "$c/$who: Java consumer (check.crcs) reads the "
                             . 'rewritten records')
        or diag(substr($j->{stderr}, -2000));
}

my $run = "$$-" . time;
my %topics;
for my $c (@CODECS) {
    $topics{$c} = { map { $_ => "rb-$_-$c-$run" }
                    qw(src dst txn rsrc rdst) };
}
my $created = create_topics(map { values %$_ } values %topics);
is_deeply([ grep { $created->{$_} } sort keys %$created ], [],
          'topics created (retention off, no time roll)');

for my $c (@CODECS) {
    my $t = $topics{$c};

    # 1. the Java client writes idempotent batches with this codec
    my $p = java_client('produce', '--bootstrap', $bootstrap, '--topic',
                        $t->{src}, '--count', 30, '--payload-bytes', 60,
                        '--compression', $c, '--idempotent',
                        '--prop', 'batch.size=900');
    is($p->{rc}, 0, "$c: Java producer wrote 30 records")
        or diag(substr($p->{stderr}, -2000));

    # 2. the broker's bytes, by a raw Fetch
    my $orig = "$dir/$c.orig";
    my ($blob, $s) = fetch_until($t->{src}, $orig, 30, 0);
    ok($s->{records} == 30 && $s->{batches} >= 2 && $s->{tail_size} == 0
       && $s->{crc_bad} == 0 && $s->{codecs} == (1 << $CODEC_ID{$c}),
       "$c: fetched $s->{batches} batches, 30 records, CRCs valid");

    # 3. unchanged: byte for byte; changed: exactly as asked
    my $id = tool('rewrite', 'identity', $orig, "$dir/$c.id");
    ok($id->{rc} == 0 && slurp_file("$dir/$c.id") eq $blob,
       "$c: rewrite without change is byte-identical");

    my $rw = tool('rewrite', 'all', $orig, "$dir/$c.new");
    is($rw->{rc}, 0, "$c: rewrite keys, values and headers")
        or diag($rw->{stderr});
    my $ck = tool('check', 'all', $orig, "$dir/$c.new");
    is($ck->{rc}, 0, "$c: rewritten blob checks field by field: "
                     . ($ck->{stdout} =~ s/\s+$//r))
        or diag($ck->{stderr});

    # 4. fetch direction: Kafka's reader takes the rewritten blob
    my $fwant = expected_view(dump_records("$dir/$c.new"));
    my $fd = dump_log(blob_segment("$c.fetch", slurp_file("$dir/$c.new")));
    ok(@{ $fd->{batches} } == $s->{batches} && dump_matches($fd, $fwant, $c),
       "$c: DumpLogSegments reads the rewritten Fetch blob: "
       . scalar(@{ $fd->{batches} }) . " valid $c batches, the new records")
        or diag(substr($fd->{out}, 0, 3000));

    # 5. produce direction, Java batches
    produce_direction($c, 'java', $blob, $t->{dst}, 30);

    # 6. the same with librdkafka's batches (its own framings)
    my $kp = run_cmd(cmd => [ "$repo/t/clients/kcat/run", 'produce',
                              '--bootstrap', $bootstrap, '--topic',
                              $t->{rsrc}, '--count', 12,
                              '--payload-bytes', 50, '--compression', $c,
                              '--idempotent' ], timeout => 120);
    is($kp->{rc}, 0, "$c: librdkafka producer wrote 12 records")
        or diag($kp->{stderr});
    my ($rblob, $rs) = fetch_until($t->{rsrc}, "$dir/$c.rorig", 12, 0);
    ok($rs->{records} == 12 && $rs->{crc_bad} == 0
       && $rs->{codecs} == (1 << $CODEC_ID{$c}),
       "$c: fetched librdkafka's $rs->{batches} batches");
    produce_direction($c, 'rdkafka', $rblob, $t->{rdst}, 12);

    # 7. a Fetch cut by max bytes: the last batch is a truncated tail
    my @spans = batch_spans($blob);
    my $last = $spans[-1][0];
    my $cut = fetch_records($t->{src}, $last + 25);
    spew_file("$dir/$c.cut", $cut);
    my $cs = summary("$dir/$c.cut");
    ok(length($cut) == $last + 25 && $cs->{tail_offset} == $last
       && $cs->{tail_size} == 25,
       "$c: Fetch of max bytes $last+25 ends in a 25-byte tail at $last");

    my $rt = tool('rewrite', 'values', "$dir/$c.cut", "$dir/$c.cut.new");
    my $new = slurp_file("$dir/$c.cut.new");
    ok($rt->{rc} == 0 && $rt->{stderr} =~ /, (\d+) rebuilt/ && $1 > 0
       && substr($new, -25) eq substr($cut, -25),
       "$c: tail forwarded untouched after rebuilt batches");

    my $tr = tool('rewrite', 'values', "$dir/$c.cut", "$dir/$c.cut.trim",
                  'trim');
    my $ts = summary("$dir/$c.cut.trim");
    ok($tr->{rc} == 0 && $ts->{tail_size} == 0
       && $ts->{batches} == $cs->{batches}
       && $ts->{records} == $cs->{records},
       "$c: trimmed to $ts->{batches} whole batches");

    # 8. transactional: data rebuilt, the COMMIT marker copied
    my $tp = java_client('produce', '--bootstrap', $bootstrap, '--topic',
                         $t->{txn}, '--count', 8, '--payload-bytes', 40,
                         '--compression', $c,
                         '--transactional-id', "rb-txn-$c-$run");
    is($tp->{rc}, 0, "$c: transactional producer committed")
        or diag(substr($tp->{stderr}, -2000));
    my ($tblob, $tsum) = fetch_until($t->{txn}, "$dir/$c.txn", 9, 1);
    my $tw = tool('rewrite', 'values', "$dir/$c.txn", "$dir/$c.txn.new");
    my $tc = tool('check', 'values', "$dir/$c.txn", "$dir/$c.txn.new");
    my $tnew = -e "$dir/$c.txn.new" ? slurp_file("$dir/$c.txn.new") : '';
    my @tspans = batch_spans($tnew);
    ok($tsum->{control} == 1 && $tsum->{transactional} >= 2
       && $tw->{rc} == 0 && $tc->{rc} == 0
       && $tw->{stderr} =~ /1 control/
       && substr($tnew, $tspans[-1][0]) eq
          substr($tblob, (batch_spans($tblob))[-1][0]),
       "$c: transactional batches rewritten, COMMIT marker copied")
        or diag("$tw->{stderr} $tc->{stderr}");

    my $td = dump_log(blob_segment("$c.txnseg", $tnew));
    ok(dump_matches($td, expected_view(dump_records("$dir/$c.txn.new")), $c)
       && "@{ $td->{markers} }" eq 'COMMIT',
       "$c: DumpLogSegments reads the rewritten transaction and its COMMIT")
        or diag(substr($td->{out}, 0, 3000));
}

Test::More::done_testing();
