package Test::Hoop::Auth;

# Test::Hoop::Auth: helpers for the identity tests (docs/testing.md, "Authentication test
# setup"). Used next to Test::Hoop::Stream:
#
#   use Test::Hoop::Stream;
#   use Test::Hoop::Auth;
#   my $pki = test_pki();                    # $HOOP_RUN_DIR/pki, made once (t/bin/make-test-pki)
#   my $jwt = jwt_keys();                    # $HOOP_RUN_DIR/jwt: rsa-1, ec-1, jwks.json
#   my $tok = mint_jwt(iss => 'https://issuer.hoop.test', aud => 'kafka', sub => 'alice',
#                      groups => ['payments'], exp_in => 60);
#   mint_jwt(..., out => "$dir/token");      # writes the file atomically, returns the token
#   my $pw  = read_secret($ENV{TEST_NGINX_KAFKASASL_SASL_PASSWORD_FILE});
#
# test_pki/jwt_keys take an optional directory (default $HOOP_TEST_PKI / $HOOP_TEST_JWT, else
# $HOOP_RUN_DIR/pki and $HOOP_RUN_DIR/jwt) and return it. mint_jwt options mirror
# `t/bin/mint-jwt token`: dir (default jwt_keys()), alg (RS256|ES256), kid, iss, aud (string or
# array ref), sub, groups (array ref or 'a,b'), exp_in, no_exp, nbf_in, iat_in, claims
# ({ name => perl value, JSON-encoded; undef removes the claim }), alg_none,
# hs256_with_public_key, rogue_key, bad_signature, out. All die with the tool's output on error.

use strict;
use warnings;
use Carp qw(croak);
use Exporter 'import';
use JSON::PP ();
use Scalar::Util qw(looks_like_number);
use Test::Hoop::Util qw(repo_dir run_dir run_cmd slurp);

our @EXPORT = qw(test_pki jwt_keys mint_jwt read_secret);
our @EXPORT_OK = @EXPORT;

sub test_pki {
    my ($dir) = @_;
    $dir //= $ENV{HOOP_TEST_PKI} || run_dir() . '/pki';
    my $r = run_cmd(cmd => [repo_dir() . '/t/bin/make-test-pki', $dir], timeout => 300);
    croak "make-test-pki $dir failed (rc $r->{rc}):\n$r->{stdout}$r->{stderr}" if $r->{rc};
    return $dir;
}

sub jwt_keys {
    my ($dir) = @_;
    $dir //= $ENV{HOOP_TEST_JWT} || run_dir() . '/jwt';
    my $r = run_cmd(cmd => [repo_dir() . '/t/bin/mint-jwt', 'keys', $dir], timeout => 300);
    croak "mint-jwt keys $dir failed (rc $r->{rc}):\n$r->{stdout}$r->{stderr}" if $r->{rc};
    return $dir;
}

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub mint_jwt {
    my (%o) = @_;
    my $dir = delete $o{dir} // jwt_keys();
    my @a = (repo_dir() . '/t/bin/mint-jwt', 'token', $dir);
    my $out = $o{out};
    for my $k (qw(alg kid iss sub exp_in nbf_in iat_in out)) {
        my $v = delete $o{$k};
        next unless defined $v;
        (my $opt = $k) =~ tr/_/-/;
        push @a, "--$opt", $v;
    }
    if (defined(my $aud = delete $o{aud})) {
        push @a, '--aud', ref $aud ? join(',', @$aud) : $aud;
    }
    if (defined(my $g = delete $o{groups})) {
        push @a, '--groups', ref $g ? join(',', @$g) : $g;
    }
    for my $flag (qw(no_exp alg_none hs256_with_public_key rogue_key bad_signature)) {
        (my $opt = $flag) =~ tr/_/-/;
        push @a, "--$opt" if delete $o{$flag};
    }
    my $claims = delete $o{claims} || {};
    for my $name (sort keys %$claims) {
        my $v = $claims->{$name};
        push @a, '--claim', "$name="
            . (!defined $v ? '' : ref $v || looks_like_number($v) ? $JSON->encode($v)
                                 : $JSON->encode("$v"));
    }
    croak 'mint_jwt: unknown option(s) ' . join(', ', sort keys %o) if %o;
    my $r = run_cmd(cmd => \@a, timeout => 60);
    croak "mint-jwt failed (rc $r->{rc}): @a\n$r->{stderr}" if $r->{rc};
    my $tok = defined $out ? slurp($out) // croak("mint_jwt: $out not written") : $r->{stdout};
    $tok =~ s/\s+\z//;
    return $tok;
}

# a secret file's content without the trailing newline
sub read_secret {
    my ($file) = @_;
    my $s = slurp($file) // croak "read_secret: cannot read $file";
    $s =~ s/[\r\n]+\z//;
    return $s;
}

1;
