# The equivalence suite: one set of grants, written once as a hoop policy and
# once as Kafka ACLs on a broker with Kafka's own StandardAuthorizer
# (kafkasasl), and one script of client operations run by real clients (Java
# kafka-clients 4.1.1 and librdkafka 2.0.2) as each test principal, twice:
#
#   direct   client --mTLS--> broker           the broker's ACLs decide
#   gateway  client --mTLS--> gateway --SASL (User:gateway, all rights)--> broker
#                                               the gateway's policy decides
#
# Every outcome (OK or the Kafka error the client library reports, plus the
# visible set of list operations and the per-entry results of multi-resource
# requests) must be the same both ways; a core subset is also checked against
# the expected outcome, so both sides failing alike cannot pass.  Each client
# and side works on its own copy of every resource (names end in a tag: dj gj
# for Java direct/gateway, dr gr for librdkafka), so the four runs go in
# parallel and do not see each other.
#
# Principals are client certificates made for the run (CN = principal, OU =
# group, signed by the kafkasasl test CA): the broker maps CN to User:NAME
# (KAFKA_MTLS_PRINCIPAL_RULE), the gateway does the same (hoop_auth mtls) and
# adds the OU as the caller's group.  Grants to Group:analysts in the policy
# are ACLs for alice, its only member, on the broker (Kafka has no groups).
#
# Differences docs/authorization.md lists are asserted as such (%KNOWN_DIFF);
# requests naming topics by id (KIP-516) are compared like the others: the
# gateway resolves the ids (src/session/hoop_resolve.c).  The gateway runs at debug
# level so that its log names every request: the ApiKeys the clients sent
# must include @APIS.
#
# Not run (the gateway does not advertise them, docs/authorization.md):
# delegation tokens (38-41), DescribeQuorum (55), share groups (76-79, 90-92),
# streams groups (88-89), WriteTxnMarkers (27).  AbortTransaction (Admin
# abortTransaction) sends WriteTxnMarkers, so it is left out too.

use strict;
use warnings;
use lib 't/lib';
use Test::Hoop::Stream;
use Test::Hoop::Auth;
use JSON::PP;
use Time::HiRes qw(time);

our $TODO;

my $repo = $ENV{TEST_NGINX_REPO_DIR} // '.';

unless ($ENV{TEST_NGINX_KAFKASASL_MTLS_BOOTSTRAP}) {
    plan skip_all => 'requires kafkasasl with --tls (t/bin/kafka-cluster start --sasl --tls DIR)'
        unless $ENV{HOOP_TEST_REQUIRE_ALL};
    BAIL_OUT('kafkasasl with --tls is not running');
}

my $BROKER = $ENV{TEST_NGINX_KAFKASASL_MTLS_BOOTSTRAP};
my $PKI = $ENV{TEST_NGINX_KAFKASASL_TLS_DIR};
my $CA = "$PKI/ca.pem";

# every name of this run starts with $E (topics, groups, transactional ids,
# principals), so runs on the shared broker never meet
my $E = sprintf 'eq%d%04d', $$, int(rand 10000);
my $dir = "$repo/build/t-policy-equiv/$E";
system('mkdir', '-p', $dir) == 0 or die "mkdir $dir";

my @PRINCIPALS = qw(alice bob carol dave);
my %OU = (alice => 'analysts', bob => 'services', carol => 'platform', dave => 'contractors');
my @TAGS = qw(dj gj dr gr);

# --- the grants: one list, written as the policy and as ACLs ------------------
# [ id, grant|deny, policy principal, ACL principals, [ [type, name, match] ], [ operations ] ]

my @RULES = (
    [ 'analysts-read-pay', 'grant', 'Group:analysts', [ 'alice' ],
      [ [ topic => "$E.pay.", 'prefix' ], [ group => "$E.ana.", 'prefix' ] ], [ 'read' ] ],
    [ 'alice-no-pii', 'deny', "User:$E-alice", [ 'alice' ],
      [ [ topic => "$E.pay.pii.", 'prefix' ] ], [ 'read' ] ],
    [ 'bob-writes-orders', 'grant', "User:$E-bob", [ 'bob' ],
      [ map { [ topic => "$E.orders.$_", 'literal' ] } @TAGS ], [ 'write' ] ],
    [ 'bob-transactions', 'grant', "User:$E-bob", [ 'bob' ],
      [ [ transactional_id => "$E.tx.", 'prefix' ] ], [ 'write' ] ],
    [ 'bob-reads-pay', 'grant', "User:$E-bob", [ 'bob' ],
      [ [ topic => "$E.pay.", 'prefix' ], [ group => "$E.bobg.", 'prefix' ] ], [ 'read' ] ],
    [ 'carol-platform', 'grant', "User:$E-carol", [ 'carol' ],
      [ [ topic => "$E.carol.", 'prefix' ] ], [ qw(create delete alter alter_configs) ] ],
    [ 'carol-cleans-groups', 'grant', "User:$E-carol", [ 'carol' ],
      [ [ group => "$E.ana.", 'prefix' ] ], [ 'delete' ] ],
    [ 'carol-runs-cluster', 'grant', "User:$E-carol", [ 'carol' ],
      [ [ cluster => 'kafka-cluster', 'literal' ] ], [ qw(describe describe_configs alter) ] ],
    # last: once dave may describe $E.ready the broker applies every ACL
    # above (it applies them in order); no operation names that topic
    [ 'ready', 'grant', "User:$E-dave", [ 'dave' ],
      [ [ topic => "$E.ready", 'literal' ] ], [ 'describe' ] ],
);

sub policy_yaml {
    my (@grants, @denies);
    for my $r (@RULES) {
        my ($id, $kind, $who, undef, $res, $ops) = @$r;
        my $y = "  - id: $id\n    principals: [ \"$who\" ]\n    resources:\n"
              . join('', map { "      - { type: $_->[0], name: \"$_->[1]\", match: $_->[2] }\n" } @$res)
              . "    operations: [ " . join(', ', @$ops) . " ]\n";
        $y .= "    reviewed_by: t071\n    reviewed_at: 2026-01-01\n    reason: \"equivalence suite\"\n"
            if $kind eq 'grant';
        push @{ $kind eq 'grant' ? \@grants : \@denies }, $y;
    }
    return "policy_version: 1\ndefault: deny\ndescription: t/071-policy-equivalence.t\n"
         . "grants:\n" . join('', @grants) . "denies:\n" . join('', @denies);
}

my %ACL_TYPE = (topic => 'TOPIC', group => 'GROUP', transactional_id => 'TRANSACTIONAL_ID',
                cluster => 'CLUSTER');

sub acl_lines {
    my @l;
    for my $r (@RULES) {
        my ($id, $kind, undef, $users, $res, $ops) = @$r;
        for my $u (@$users) {
            for my $x (@$res) {
                for my $op (@$ops) {
                    push @l, sprintf "acl-%d acl %s User:%s-%s %s %s %s %s", scalar @l,
                        $kind eq 'grant' ? 'ALLOW' : 'DENY', $E, $u, $ACL_TYPE{$x->[0]},
                        $x->[2] eq 'prefix' ? 'PREFIXED' : 'LITERAL', $x->[1], uc $op;
                }
            }
        }
    }
    return @l;
}

# --- the operations ------------------------------------------------------------
# [ id, clients (j: Java, r: librdkafka), operation and arguments, principals
# (a pattern; default all) ]; {T} is the run's tag.  Each principal runs
# them in this order, alice, bob, carol, dave in turn.

my @OPS = (
    [ 'list-topics',        'jr', 'list-topics' ],
    [ 'describe-topics',    'jr', "describe-topics $E.pay.events.{T} $E.pay.pii.{T} $E.orders.{T}"
                                  . " $E.carol.base.{T} $E.other.{T} $E.carol.missing.{T}" ],
    [ 'metadata-autocreate','jr', "metadata-autocreate $E.carol.auto.{T}" ],
    [ 'metadata-autocreate-pay', 'jr', "metadata-autocreate $E.pay.auto.{T}" ],
    [ 'produce-acks1',      'jr', "produce $E.orders.{T} 1" ],
    [ 'produce-acksall',    'jr', "produce $E.orders.{T} all" ],
    [ 'produce-idempotent', 'j',  "produce-idempotent $E.orders.{T}" ],
    # librdkafka asks for the producer id and the topic's metadata at once:
    # a caller that may neither write nor describe gets either error first
    [ 'produce-idempotent', 'r',  "produce-idempotent $E.orders.{T}", 'bob' ],
    [ 'produce-idempotent-pay', 'j', "produce-idempotent $E.pay.events.{T}" ],
    [ 'produce-idempotent-pay', 'r', "produce-idempotent $E.pay.events.{T}", 'alice|bob' ],
    [ 'produce-pay',        'jr', "produce $E.pay.events.{T} 1" ],
    # acks=0: Kafka and the gateway close the connection, the client sees nothing
    [ 'produce-pay-acks0',  'jr', "produce $E.pay.events.{T} 0", 'bob' ],
    [ 'produce-multi',      'jr', "produce-multi 1 $E.orders.{T} $E.pay.events.{T}" ],
    [ 'produce-txn',        'jr', "produce-txn $E.tx.bob.{T} $E.orders.{T} $E.bobg.txn.{T} $E.pay.events.{T}" ],
    # a transaction writing a topic bob may not write (AddPartitionsToTxn)
    [ 'produce-txn-mixed',  'jr', "produce-txn $E.tx.bob2.{T} $E.orders.{T},$E.pay.events.{T} $E.bobg.txn.{T} $E.pay.events.{T}" ],
    # ... committing the offsets of a topic bob may not read (TxnOffsetCommit)
    [ 'produce-txn-offsets-mixed', 'jr', "produce-txn $E.tx.bob3.{T} $E.orders.{T} $E.bobg.txn3.{T} $E.pay.events.{T},$E.orders.{T}" ],
    # a consumer that may neither describe the topic nor use the group gets
    # whichever refusal arrives first (the group coordinator's or the
    # topic's metadata): only callers with one possible refusal
    [ 'consume-ana',        'jr', "consume-group $E.pay.events.{T} $E.ana.g1.{T} 3 classic", 'alice|bob' ],
    [ 'consume-bobg',       'jr', "consume-group $E.pay.events.{T} $E.bobg.g1.{T} 3 classic", 'alice|bob' ],
    [ 'consume-kip848',     'j',  "consume-group $E.pay.events.{T} $E.ana.k848.{T} 3 consumer", 'alice|bob' ],
    [ 'consume-pii',        'jr', "consume-group $E.pay.pii.{T} $E.ana.pii.{T} 3 classic", 'alice|bob' ],
    # a pattern: the classic protocol matches it in the client, over Metadata;
    # KIP-848 sends it to the group coordinator (a known difference, below)
    [ 'consume-pattern',    'j',  "consume-group re:$E\\.pay\\.events\\.{T} $E.ana.re.{T} 3 classic", 'alice|bob' ],
    [ 'consume-pattern-kip848', 'j', "consume-group re:$E\\.pay\\.events\\.{T} $E.ana.re848.{T} 3 consumer", 'alice|bob' ],
    [ 'consume-regex-kip848', 'j', "consume-group re2:$E\\.pay\\.events\\.{T} $E.ana.re2.{T} 3 consumer", 'alice' ],
    [ 'assign-events',      'jr', "consume-assign $E.pay.events.{T} 3" ],
    [ 'assign-epoch',       'j',  "consume-assign $E.pay.events.{T} 2 1 0" ],
    [ 'assign-pii',         'jr', "consume-assign $E.pay.pii.{T} 3" ],
    [ 'list-offsets',       'jr', "list-offsets $E.pay.events.{T}" ],
    [ 'list-offsets-orders','jr', "list-offsets $E.orders.{T}" ],
    [ 'list-offsets-mixed', 'j',  "list-offsets-latest $E.pay.events.{T} $E.orders.{T}" ],
    [ 'group-offsets',      'jr', "list-group-offsets $E.ana.g1.{T}" ],
    [ 'group-offsets-of',   'jr', "list-group-offsets-of $E.ana.g1.{T} $E.pay.events.{T} $E.orders.{T}" ],
    [ 'alter-offsets',      'jr', "alter-group-offsets $E.ana.g1.{T} $E.pay.events.{T} 2" ],
    [ 'alter-offsets-mixed','jr', "alter-group-offsets $E.ana.g1.{T} $E.pay.events.{T} 2 $E.orders.{T} 1" ],
    [ 'describe-groups',    'jr', "describe-groups $E.ana.g1.{T} $E.bobg.g1.{T} $E.other.g.{T}" ],
    [ 'describe-k848',      'j',  "describe-groups $E.ana.k848.{T}" ],
    [ 'list-groups',        'jr', 'list-groups' ],
    [ 'delete-group-offsets','jr', "delete-group-offsets $E.ana.g1.{T} $E.pay.events.{T}" ],
    [ 'delete-groups',      'jr', "delete-groups $E.ana.pii.{T} $E.bobg.g1.{T}" ],
    [ 'create-topic',       'jr', "create-topics 1 $E.carol.new.{T}" ],
    [ 'create-topics-mixed','jr', "create-topics 1 $E.carol.new2.{T} $E.other.new.{T}" ],
    [ 'create-partitions',  'jr', "create-partitions $E.carol.base.{T} 2" ],
    [ 'describe-configs',   'jr', "describe-configs topic $E.carol.base.{T}" ],
    [ 'describe-configs-pay','jr', "describe-configs topic $E.pay.events.{T}" ],
    [ 'describe-broker-configs', 'jr', 'describe-configs broker 1' ],
    [ 'describe-configs-mixed', 'jr', "describe-configs-multi topic:$E.carol.base.{T} topic:$E.pay.events.{T} broker:1" ],
    [ 'describe-group-configs', 'j', "describe-configs group $E.ana.g1.{T} consumer.session.timeout.ms" ],
    [ 'alter-configs',      'j',  "alter-configs topic $E.carol.base.{T} retention.ms 86400000" ],
    [ 'alter-configs-legacy','r', "alter-configs-legacy topic $E.carol.base.{T} retention.ms 86400000" ],
    [ 'delete-records',     'jr', "delete-records $E.carol.base.{T} 1" ],
    [ 'delete-records-mixed', 'j', "delete-records-multi 1 $E.carol.base.{T} $E.pay.events.{T}" ],
    [ 'describe-producers', 'j',  "describe-producers $E.orders.{T}" ],
    [ 'describe-producers-pay', 'j', "describe-producers $E.pay.events.{T}" ],
    [ 'describe-txn',       'j',  "describe-transactions $E.tx.bob.{T}" ],
    [ 'list-txn',           'j',  'list-transactions' ],
    [ 'fence-producers',    'j',  "fence-producers $E.tx.bob.{T}" ],
    [ 'describe-cluster',   'j',  'describe-cluster' ],
    [ 'describe-acls',      'jr', 'describe-acls' ],
    [ 'create-acls',        'jr', "create-acls $E.other.{T} $E-nobody-{T}" ],
    [ 'delete-acls',        'j',  "delete-acls $E-nobody-{T}" ],
    [ 'describe-log-dirs',  'j',  'describe-log-dirs 1' ],
    [ 'alter-replica-log-dirs', 'j', "alter-replica-log-dirs $E.carol.base.{T} /nonexistent/$E" ],
    [ 'alter-user-scram',   'j',  "alter-user-scram $E-nobody" ],
    [ 'update-features',    'j',  'update-features hoop.test.feature 1' ],
    [ 'unregister-broker',  'j',  'unregister-broker 99' ],
    [ 'list-reassignments', 'j',  'list-partition-reassignments' ],
    [ 'alter-reassignments','j',  "alter-partition-reassignments $E.carol.base.{T}" ],
    [ 'describe-scram',     'j',  'describe-user-scram' ],
    [ 'describe-quotas',    'j',  'describe-client-quotas' ],
    [ 'alter-quotas',       'j',  "alter-client-quotas $E-client" ],
    [ 'elect-leaders',      'j',  "elect-leaders $E.carol.base.{T}" ],
    [ 'list-config-resources', 'j', 'list-config-resources' ],
    # by topic id (KIP-516): ids the gateway never saw (the set-up ran
    # directly), so it asks the broker for them
    [ 'describe-by-id',     'j',  "describe-topics-by-id {ID:pay.events} {ID:carol.byid}" ],
    [ 'delete-by-id',       'j',  "delete-topics-by-id {ID:carol.byid}" ],
    [ 'delete-topic',       'jr', "delete-topics $E.carol.new.{T}" ],
    [ 'delete-topics-mixed','jr', "delete-topics $E.carol.new2.{T} $E.other.{T}" ],
);

# Operations the gateway does not yet do as Kafka does: their comparison is a
# TODO test (op => reason).  None today.
my %TODO_OPS = ();

# Documented differences (docs/authorization.md, "Where the gateway differs
# from Kafka"), asserted as such: principal/op => [ direct, gateway ].
# KIP-848 SubscribedTopicRegex: Kafka's coordinator resolves the expression
# with the member's principal, which on the broker is the gateway's; the
# gateway refuses it (TOPIC_AUTHORIZATION_FAILED) instead of widening it.
# The group it creates directly (E.ana.re2) is left out of the lists.
my %KNOWN_DIFF = ('alice/consume-regex-kip848' => [ 'OK', 'TOPIC_AUTHORIZATION_FAILED' ]);
my $KNOWN_LIST_DIFF = qr/\.ana\.re2\./;

# expected outcomes of a core subset, for both clients and both sides:
# principal/op => result, or [ result, detail check ]
my %EXPECT = (
    'alice/list-topics'        => [ OK => sub { $_[0] eq '["E.pay.events.T","E.pay.pii.T"]' } ],
    'bob/list-topics'          => [ OK => sub { $_[0] eq '["E.orders.T","E.pay.events.T","E.pay.pii.T"]' } ],
    'dave/list-topics'         => [ OK => sub { $_[0] eq '[]' } ],
    'bob/produce-acks1'        => 'OK',
    'bob/produce-acksall'      => 'OK',
    'alice/produce-acks1'      => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/produce-acksall'    => 'TOPIC_AUTHORIZATION_FAILED',
    'bob/produce-idempotent'   => 'OK',
    'alice/produce-idempotent' => 'TOPIC_AUTHORIZATION_FAILED',
    'alice/produce-idempotent-pay' => 'CLUSTER_AUTHORIZATION_FAILED',
    'bob/produce-idempotent-pay' => 'TOPIC_AUTHORIZATION_FAILED',
    'bob/produce-pay'          => 'TOPIC_AUTHORIZATION_FAILED',
    'bob/produce-txn'          => [ OK => sub { $_[0] =~ /"done"/ } ],
    'alice/produce-txn'        => 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    'alice/consume-ana'        => [ OK => sub { $_[0] eq '{"committed":3,"records":3}' } ],
    'bob/consume-ana'          => 'GROUP_AUTHORIZATION_FAILED',
    'bob/consume-bobg'         => [ OK => sub { $_[0] =~ /"records":3/ } ],
    'alice/consume-pii'        => 'TOPIC_AUTHORIZATION_FAILED',
    'alice/assign-events'      => [ OK => sub { $_[0] =~ /"records":3/ } ],
    'alice/assign-epoch'       => [ OK => sub { $_[0] =~ /"records":2/ } ],
    'alice/assign-pii'         => 'TOPIC_AUTHORIZATION_FAILED',
    'bob/assign-pii'           => [ OK => sub { $_[0] =~ /"records":3/ } ],
    'carol/assign-events'      => 'TOPIC_AUTHORIZATION_FAILED',
    'alice/list-offsets'       => 'OK',
    'alice/list-offsets-orders'=> { j => 'TOPIC_AUTHORIZATION_FAILED', r => '_UNKNOWN_PARTITION' },
    'alice/group-offsets'      => 'OK',
    'bob/group-offsets'        => 'GROUP_AUTHORIZATION_FAILED',
    'alice/delete-group-offsets' => 'GROUP_AUTHORIZATION_FAILED',
    'carol/create-topic'       => 'OK',
    'alice/create-topic'       => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/create-topics-mixed' => [ TOPIC_AUTHORIZATION_FAILED =>
        sub { $_[0] eq '{"E.carol.new2.T":"OK","E.other.new.T":"TOPIC_AUTHORIZATION_FAILED"}' } ],
    'bob/produce-multi'        => [ TOPIC_AUTHORIZATION_FAILED =>
        sub { $_[0] eq '{"E.orders.T":"OK","E.pay.events.T":"TOPIC_AUTHORIZATION_FAILED"}' } ],
    # librdkafka purges the record once AddPartitionsToTxn is refused
    'bob/produce-txn-mixed'    => { j => [ TOPIC_AUTHORIZATION_FAILED => sub { $_[0] =~ /"send"/ } ],
                                    r => [ _PURGE_QUEUE => sub { $_[0] =~ /"send"/ } ] },
    # the Java client has no case for TOPIC_AUTHORIZATION_FAILED in TxnOffsetCommit
    'bob/produce-txn-offsets-mixed' => { j => [ 'EXCEPTION:KafkaException' => sub { $_[0] =~ /"offsets"/ } ],
                                         r => [ TOPIC_AUTHORIZATION_FAILED => sub { $_[0] =~ /"offsets"/ } ] },
    'carol/describe-configs-mixed' => [ TOPIC_AUTHORIZATION_FAILED =>
        sub { $_[0] =~ /"TOPIC:E.carol.base.T":"OK"/ && $_[0] =~ /"TOPIC:E.pay.events.T":"TOPIC_AUTHORIZATION_FAILED"/ } ],
    # Java's Admin leaves out partitions it may not describe
    'alice/group-offsets-of'   => {
        j => [ OK => sub { $_[0] eq '{"E.pay.events.T-0":3}' } ],
        r => [ TOPIC_AUTHORIZATION_FAILED =>
               sub { $_[0] eq '{"E.ana.g1.T":{"E.orders.T-0":"TOPIC_AUTHORIZATION_FAILED","E.pay.events.T-0":3}}' } ] },
    'carol/create-partitions'  => 'OK',
    'bob/create-partitions'    => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/describe-configs'   => 'OK',
    'alice/describe-configs-pay' => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/describe-broker-configs' => 'OK',
    'alice/describe-broker-configs' => 'CLUSTER_AUTHORIZATION_FAILED',
    'alice/describe-group-configs' => 'GROUP_AUTHORIZATION_FAILED',
    'carol/metadata-autocreate' => [ OK => sub { $_[0] eq '{"partitions":1}' } ],
    'alice/metadata-autocreate' => 'TOPIC_AUTHORIZATION_FAILED',
    'alice/metadata-autocreate-pay' => 'TOPIC_AUTHORIZATION_FAILED',
    'alice/alter-offsets-mixed' => [ TOPIC_AUTHORIZATION_FAILED => sub { $_[0] =~ /"E.orders.T-0":"TOPIC_AUTHORIZATION_FAILED"/ } ],
    'alice/consume-pattern'    => [ OK => sub { $_[0] =~ /"records":3/ } ],
    'alice/consume-pattern-kip848' => [ OK => sub { $_[0] =~ /"records":3/ } ],
    'carol/elect-leaders'      => 'ELECTION_NOT_NEEDED',
    'dave/elect-leaders'       => 'CLUSTER_AUTHORIZATION_FAILED',
    'carol/describe-quotas'    => 'OK',
    'bob/describe-quotas'      => 'CLUSTER_AUTHORIZATION_FAILED',
    'carol/list-groups'        => {
        j => [ OK => sub { $_[0] eq '["E.ana.g1.T","E.ana.k848.T","E.ana.pii.T","E.ana.re.T","E.ana.re848.T",'
                                    . '"E.bobg.g1.T","E.bobg.txn.T","E.bobg.txn3.T"]' } ],
        r => [ OK => sub { $_[0] eq '["E.ana.g1.T","E.ana.pii.T","E.bobg.g1.T","E.bobg.txn.T","E.bobg.txn3.T"]' } ] },
    'alice/list-groups'        => { j => [ OK => sub { $_[0] eq '["E.ana.g1.T","E.ana.k848.T","E.ana.pii.T","E.ana.re.T","E.ana.re848.T"]' } ],
                                    r => [ OK => sub { $_[0] eq '["E.ana.g1.T","E.ana.pii.T"]' } ] },
    'dave/list-groups'         => [ OK => sub { $_[0] eq '[]' } ],
    'bob/list-groups'          => [ OK => sub { $_[0] eq '["E.bobg.g1.T","E.bobg.txn.T","E.bobg.txn3.T"]' } ],
    'bob/list-txn'             => [ OK => sub { $_[0] eq '["E.tx.bob.T","E.tx.bob2.T","E.tx.bob3.T"]' } ],
    'alice/list-txn'           => [ OK => sub { $_[0] eq '[]' } ],
    'carol/alter-configs'      => 'OK',
    'carol/alter-configs-legacy' => 'OK',
    'dave/alter-configs'       => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/delete-records'     => 'OK',
    'alice/delete-records'     => { j => 'TOPIC_AUTHORIZATION_FAILED', r => '_NOENT' },
    'bob/describe-txn'         => 'OK',
    'alice/describe-txn'       => 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    # librdkafka 2.0.2 drops DescribeAcls' top-level error (the broker logs the denial)
    'alice/describe-acls'      => { j => 'CLUSTER_AUTHORIZATION_FAILED', r => 'OK' },
    'carol/create-acls'        => 'OK',
    'bob/create-acls'          => 'CLUSTER_AUTHORIZATION_FAILED',
    'carol/delete-acls'        => [ OK => sub { $_[0] eq '{"deleted":1}' } ],
    'dave/delete-acls'         => 'CLUSTER_AUTHORIZATION_FAILED',
    'alice/alter-user-scram'   => 'CLUSTER_AUTHORIZATION_FAILED',
    'alice/unregister-broker'  => 'CLUSTER_AUTHORIZATION_FAILED',
    'carol/delete-topic'       => 'OK',
    'bob/delete-topic'         => 'TOPIC_AUTHORIZATION_FAILED',
    # by topic id: Java's Admin reports an id it may not describe as unknown
    'alice/describe-by-id'     => [ UNKNOWN_TOPIC_ID =>
        sub { $_[0] eq '{"ID:carol.byid":"UNKNOWN_TOPIC_ID","ID:pay.events":"E.pay.events.T"}' } ],
    'carol/describe-by-id'     => [ UNKNOWN_TOPIC_ID =>
        sub { $_[0] eq '{"ID:carol.byid":"E.carol.byid.T","ID:pay.events":"UNKNOWN_TOPIC_ID"}' } ],
    'bob/delete-by-id'         => 'TOPIC_AUTHORIZATION_FAILED',
    'carol/delete-by-id'       => [ OK => sub { $_[0] eq '{"ID:carol.byid":"OK"}' } ],
    # dave comes after carol deleted it: the id is gone
    'dave/delete-by-id'        => 'UNKNOWN_TOPIC_ID',
    'carol/delete-topics-mixed' => [ TOPIC_AUTHORIZATION_FAILED =>
        sub { $_[0] eq '{"E.carol.new2.T":"OK","E.other.T":"TOPIC_AUTHORIZATION_FAILED"}' } ],
);

# --- the run's principals: client certificates signed by the test CA -------------

sub make_cert {
    my ($name, $ou) = @_;
    my $base = "$dir/$name";
    my $r = run_cmd(cmd => [ 'sh', '-c', <<"SH" ], timeout => 30);
set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '$base.key' 2>/dev/null
openssl req -new -key '$base.key' -subj '/O=Hoop Test/OU=$ou/CN=$name' -out '$base.csr'
printf 'extendedKeyUsage=clientAuth\\n' > '$base.ext'
openssl x509 -req -in '$base.csr' -CA '$CA' -CAkey '$PKI/ca.key' -set_serial 0x\$(openssl rand -hex 8) \\
    -days 2 -extfile '$base.ext' -out '$base.pem' 2>/dev/null
SH
    die "certificate for $name: $r->{stderr}" if $r->{rc};
    return ("$base.pem", "$base.key");
}

my %CERT = map { $_ => [ make_cert("$E-$_", $OU{$_}) ] } @PRINCIPALS;
$CERT{gateway} = [ "$PKI/gateway.pem", "$PKI/gateway.key" ];

sub java_driver { return ("$repo/t/clients/java/equiv") }
sub rdkafka_driver {
    my $b = run_cmd(cmd => [ "$repo/t/clients/kcat/build" ], timeout => 300);
    die "kcat/build: $b->{stderr}" if $b->{rc};
    my $cache = $ENV{HOOP_CLIENTS_CACHE} || "$repo/.cache/clients";
    return ("$cache/kcat/hoop-rdkafka-equiv");
}
my %DRIVER = (j => [ java_driver() ], r => [ rdkafka_driver() ]);
my $b = run_cmd(cmd => [ "$repo/t/clients/java/build" ], timeout => 300);
die "java/build: $b->{stderr}" if $b->{rc};

sub as_line { my ($p) = @_; return "as $p $CERT{$p}[0] $CERT{$p}[1]\n" }

sub decode_lines {
    my ($text) = @_;
    my %r;
    for my $l (split /\n/, $text // '') {
        next unless $l =~ /^\{/;
        my $o = eval { decode_json($l) } or next;
        $r{$o->{id}} = $o;
    }
    return \%r;
}

# --- set-up, as User:gateway (All on every resource of the broker) ---------------

my @setup = ("topic-ready create-topic $E.ready 1");
for my $t (@TAGS) {
    push @setup, map { "topic-$_-$t create-topic $E.$_.$t 1" } qw(pay.events pay.pii orders carol.base carol.byid other);
}
for my $t (@TAGS) {
    push @setup, map { "seed-$_-$t seed $E.$_.$t 3" } qw(pay.events pay.pii carol.base);
    # Groups that would otherwise have no committed offset get one: the
    # coordinator drops empty groups without offsets at its next clean-up
    # (offsets.retention.check.interval.ms), which would make lists flaky.
    # E.bobg.txn3 also hides a documented difference (docs/authorization.md):
    # Kafka writes the authorized part of a partly refused TxnOffsetCommit,
    # which creates the group; the gateway forwards none of it.
    push @setup, "offsets-pii-$t alter-group-offsets $E.ana.pii.$t $E.pay.pii.$t 0",
                 "offsets-txn3-$t alter-group-offsets $E.bobg.txn3.$t $E.pay.events.$t 0";
    # topic ids, for the operations that name topics by id (KIP-516)
    push @setup, map { "id-$_-$t topic-id $E.$_.$t" } qw(pay.events carol.byid);
}
push @setup, acl_lines();
Test::Hoop::Util::spew("$dir/setup.script", as_line('gateway') . join("\n", @setup) . "\n"
     . as_line('dave') . "await-ready await-topic $E.ready\n");
my $setup = run_cmd(cmd => [ @{ $DRIVER{j} }, '--bootstrap', $BROKER, '--ssl-ca', $CA,
                             '--script', "$dir/setup.script" ], timeout => 180);
my $sr = decode_lines($setup->{stdout});
my @bad = grep { !$sr->{$_} || $sr->{$_}{result} ne 'OK' } map { (split ' ', $_)[0] } @setup,
          'await-ready';
die "set-up failed: @bad\n$setup->{stdout}\n" . substr($setup->{stderr}, -2000) if @bad;
my %IDS = map { my $t = $_; $t => { map { $_ => $sr->{"id-$_-$t"}{detail}{id} } qw(pay.events carol.byid) } } @TAGS;

Test::Hoop::Util::spew("$dir/policy.yaml", policy_yaml());

# --- the gateway -------------------------------------------------------------------

my $pw = read_secret($ENV{TEST_NGINX_KAFKASASL_SASL_PASSWORD_FILE});
Test::Hoop::Util::spew("$dir/broker-secret", "username=gateway\npassword=$pw\n");
chmod 0600, "$dir/broker-secret";

# debug: the log names every request the gateway handled (ApiKeys covered)
my $ng = hoop_nginx_start(ports => 1, log_level => 'debug', stream_config => <<"CONF");
hoop_upstream_sasl SCRAM-SHA-512 $dir/broker-secret;

server {
    listen 127.0.0.1:\$TEST_NGINX_PORT_1 ssl;
    ssl_certificate        $PKI/server-chain.pem;
    ssl_certificate_key    $PKI/server.key;
    ssl_client_certificate $CA;
    ssl_verify_client      on;
    hoop on;
    hoop_auth mtls;
    hoop_mtls_principal_rule "^CN=([^,]+)," "\$1";
    hoop_policy $dir/policy.yaml;
    hoop_broker_address 1 127.0.0.1:\$TEST_NGINX_PORT_1;
    proxy_pass \$TEST_NGINX_KAFKASASL_BOOTSTRAP;
}
CONF
my $GATEWAY = "127.0.0.1:$ng->{ports}[0]";

# --- the four runs, in parallel --------------------------------------------------

sub ops_for {
    my ($c, $p) = @_;
    return grep { $_->[1] =~ /$c/ && (!defined $_->[3] || $p =~ /^(?:$_->[3])$/) } @OPS;
}

my %RUN = (dj => [ 'j', $BROKER ], gj => [ 'j', $GATEWAY ],
           dr => [ 'r', $BROKER ], gr => [ 'r', $GATEWAY ]);
my $sh = '';
for my $t (@TAGS) {
    my ($c, $boot) = @{ $RUN{$t} };
    my $s = '';
    for my $p (@PRINCIPALS) {
        $s .= as_line($p);
        for my $op (ops_for($c, $p)) {
            (my $line = $op->[2]) =~ s/\{T\}/$t/g;
            $line =~ s/\{ID:([\w.]+)\}/$IDS{$t}{$1}/g;
            $s .= "$p/$op->[0] $line\n";
        }
    }
    Test::Hoop::Util::spew("$dir/$t.script", $s);
    $sh .= "'" . join("' '", @{ $DRIVER{$c} }) . "' --bootstrap $boot --ssl-ca '$CA' "
         . "--script '$dir/$t.script' >'$dir/$t.out' 2>'$dir/$t.err' &\n";
}
my $t0 = time;
my $runs = run_cmd(cmd => [ 'sh', '-c', $sh . "wait\n" ], timeout => 300);
diag(sprintf 'the four runs took %.1f s', time - $t0);

# the outcome, normalised: the run's prefix and tag become E and T; lists keep
# only the run's own names
sub outcome {
    my ($o, $t) = @_;
    return 'MISSING' unless $o;
    my $d = $o->{detail};
    if (ref $d eq 'ARRAY') {
        $d = [ sort grep { /^\Q$E\E\..*\.\Q$t\E$/ && !/$KNOWN_LIST_DIFF/ } @$d ];
    }
    if (ref $d eq 'HASH') {
        # results keyed by topic id: name the ids before the keys are sorted
        my %id = map { $IDS{$t}{$_} => "ID:$_" } keys %{ $IDS{$t} };
        $d = { map { ($id{$_} // $_) => $d->{$_} } keys %$d };
    }
    my $s = JSON::PP->new->canonical->encode([ $o->{result}, $d ]);
    $s =~ s/\Q$IDS{$t}{$_}\E/ID:$_/g for keys %{ $IDS{$t} };
    $s =~ s/\Q$E\E/E/g;
    $s =~ s/\.\Q$t\E\b/.T/g;
    return $s;
}

my %OUT = map { $_ => decode_lines(Test::Hoop::Util::slurp("$dir/$_.out")) } @TAGS;

for my $c (qw(j r)) {
    my ($d, $g) = $c eq 'j' ? qw(dj gj) : qw(dr gr);
    my $name = $c eq 'j' ? 'Java' : 'librdkafka';
    my (@same, @diff, @todo);
    for my $p (@PRINCIPALS) {
        for my $op (ops_for($c, $p)) {
            my $id = "$p/$op->[0]";
            my ($x, $y) = (outcome($OUT{$d}{$id}, $d), outcome($OUT{$g}{$id}, $g));
            if (my $k = $KNOWN_DIFF{$id}) {
                my @got = map { $OUT{$_}{$id} ? $OUT{$_}{$id}{result} : 'MISSING' } $d, $g;
                is("@got", "@$k", "$name: $id differs as documented (direct $k->[0], gateway $k->[1])");
                next;
            }
            my $l = $TODO_OPS{$op->[0]} ? \@todo : \@diff;
            if ($x eq $y) { push @same, $id } else { push @$l, "$id\n    direct:  $x\n    gateway: $y" }
        }
    }
    my %todo_ops = map { $_->[0] => $TODO_OPS{$_->[0]} } grep { $TODO_OPS{$_->[0]} && $_->[1] =~ /$c/ } @OPS;
    if (%todo_ops) {
        local $TODO = join '; ', sort keys %{ { reverse %todo_ops } };
        ok(!@todo, "$name: " . join(' ', sort keys %todo_ops) . ' the same directly and through the gateway')
            or diag(join "\n", @todo);
    }
    ok(!@diff, "$name: " . @same . " outcomes the same directly and through the gateway")
        or diag(join("\n", @diff) . "\n--- direct stderr:\n" . substr(Test::Hoop::Util::slurp("$dir/$d.err") // '', -1500)
                . "\n--- gateway stderr:\n" . substr(Test::Hoop::Util::slurp("$dir/$g.err") // '', -1500));

    # the expected outcomes, on both sides
    for my $t ($d, $g) {
        my @wrong;
        my $n = 0;
        for my $id (sort keys %EXPECT) {
            my ($p, $op) = split m{/}, $id;
            next unless grep { $_->[0] eq $op } ops_for($c, $p);
            my $e = $EXPECT{$id};
            $e = $e->{$c} if ref $e eq 'HASH';
            next unless defined $e;
            my ($want, $check) = ref $e ? @$e : ($e);
            my $o = $OUT{$t}{$id};
            my $got = $o ? $o->{result} : 'MISSING';
            my $detail = $o ? outcome($o, $t) : '';
            $detail =~ s/^\["[^"]*",//; $detail =~ s/\]$//;
            $n++;
            push @wrong, "$id: expected $want, got $got $detail"
                if $got ne $want || ($check && !$check->($detail));
        }
        ok(!@wrong, "$name " . ($t =~ /^d/ ? 'direct' : 'gateway') . ": $n expected outcomes")
            or diag(join "\n", @wrong);
    }
}

my $log = hoop_nginx_stop($ng);

# the ApiKeys the clients sent through the gateway (its debug log names each
# request): the suite must keep covering them
my %seen = map { $_ => 1 } $log =~ /hoop request (\w+) v\d+ correlation id/g;
my @APIS = qw(Produce Fetch ListOffsets Metadata OffsetCommit OffsetFetch FindCoordinator
    JoinGroup Heartbeat LeaveGroup SyncGroup DescribeGroups ListGroups ApiVersions CreateTopics
    DeleteTopics DeleteRecords InitProducerId OffsetForLeaderEpoch AddPartitionsToTxn
    AddOffsetsToTxn EndTxn TxnOffsetCommit DescribeAcls CreateAcls DeleteAcls DescribeConfigs
    AlterConfigs AlterReplicaLogDirs DescribeLogDirs CreatePartitions DeleteGroups ElectLeaders
    IncrementalAlterConfigs AlterPartitionReassignments ListPartitionReassignments OffsetDelete
    DescribeClientQuotas AlterClientQuotas DescribeUserScramCredentials
    AlterUserScramCredentials UpdateFeatures DescribeCluster DescribeProducers UnregisterBroker
    DescribeTransactions ListTransactions ConsumerGroupHeartbeat ConsumerGroupDescribe
    ListConfigResources DescribeTopicPartitions);
my @missing = grep { !$seen{$_} } @APIS;
ok(!@missing, scalar(@APIS) . ' ApiKeys sent by the clients through the gateway')
    or diag("not seen: @missing; seen: " . join(' ', sort keys %seen));
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alerts in the gateway log')
    or diag(join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log);

# --- clean-up: the run's topics, groups and ACLs -----------------------------------
Test::Hoop::Util::spew("$dir/cleanup.script", as_line('gateway') . "cleanup cleanup $E "
     . join(' ', map { "User:$E-$_" } @PRINCIPALS, map { "nobody-$_" } @TAGS) . "\n");
my $cl = run_cmd(cmd => [ @{ $DRIVER{j} }, '--bootstrap', $BROKER, '--ssl-ca', $CA,
                          '--script', "$dir/cleanup.script" ], timeout => 120);
like($cl->{stdout}, qr/"result":"OK"/, 'clean-up') or diag($cl->{stdout} . substr($cl->{stderr}, -1000));

# keep the scripts, outputs and certificates of a failed run
system('rm', '-rf', $dir) if Test::More->builder->is_passing;

Test::More::done_testing();
