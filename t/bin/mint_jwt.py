"""mint-jwt: test keys, a JWKS and signed JWTs for the OAUTHBEARER tests.

Run through t/bin/mint-jwt (which provides the venv with the pinned `cryptography`).
All signing is done by `cryptography` (RSA PKCS#1 v1.5 + SHA-256, ECDSA P-256 + SHA-256) and
Python's `hmac`; this file only assembles base64url/JSON.

  mint-jwt keys DIR [--force]
  mint-jwt token DIR --iss ISS --aud AUD --sub SUB [--alg RS256|ES256] [--kid K]
                 [--groups a,b] [--exp-in S | --no-exp] [--nbf-in S] [--iat-in S]
                 [--claim NAME=JSON]... [--alg-none] [--hs256-with-public-key]
                 [--rogue-key] [--bad-signature] [--out FILE [--every S]]
  mint-jwt decode TOKEN|-          (header and claims as JSON, no verification)
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

KEYS = {
    # kid: (file stem, kty)
    "rsa-1": ("rsa-1", "RSA"),
    "ec-1": ("ec-1", "EC"),
}
# keys that are NOT in jwks.json (--rogue-key: a forged signature under a published kid)
ROGUE = {"RS256": "rogue-rsa", "ES256": "rogue-ec"}
DEFAULT_KID = {"RS256": "rsa-1", "ES256": "ec-1"}


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def uint_b64u(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


def jdump(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=False).encode()


def write_atomic(path, data, mode=0o644):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".mint-jwt.", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def jwk(kid, key):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": uint_b64u(n.n), "e": uint_b64u(n.e)}
    n = pub.public_numbers()
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": uint_b64u(n.x, 32), "y": uint_b64u(n.y, 32)}


# ------------------------------------------------------------------ keys

def cmd_keys(a):
    d = a.dir
    os.makedirs(d, exist_ok=True)
    want = {stem: kty for stem, kty in KEYS.values()}
    want.update({ROGUE["RS256"]: "RSA", ROGUE["ES256"]: "EC"})
    for stem, kty in want.items():
        path = os.path.join(d, stem + ".key.pem")
        if os.path.exists(path) and not a.force:
            continue
        if kty == "RSA":
            k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            k = ec.generate_private_key(ec.SECP256R1())
        pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        write_atomic(path, pem, 0o600)
        write_atomic(os.path.join(d, stem + ".pub.pem"), public_pem(k))
    jwks = {"keys": [jwk(kid, load_private(os.path.join(d, stem + ".key.pem")))
                     for kid, (stem, _) in KEYS.items()]}
    data = json.dumps(jwks, indent=2).encode() + b"\n"
    path = os.path.join(d, "jwks.json")
    old = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            old = f.read()
    if old != data:
        write_atomic(path, data)
    print(path)
    return 0


# ------------------------------------------------------------------ token

def sign(alg, key, signing_input):
    if alg == "RS256":
        return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")   # JWS (RFC 7518 3.4) form
    raise Usage("unsupported --alg %s" % alg)


def claim_value(s):
    try:
        return json.loads(s)
    except ValueError:
        return s


def mint(a):
    now = int(time.time())
    if a.alg not in ("RS256", "ES256"):
        raise Usage("--alg must be RS256 or ES256")
    kid = a.kid or DEFAULT_KID[a.alg]
    claims = {"iss": a.iss, "sub": a.sub}
    aud = [x for x in a.aud.split(",")] if a.aud is not None else None
    if aud is not None:
        claims["aud"] = aud[0] if len(aud) == 1 else aud
    claims["iat"] = now + a.iat_in
    if not a.no_exp:
        claims["exp"] = now + a.exp_in
    if a.nbf_in is not None:
        claims["nbf"] = now + a.nbf_in
    if a.groups is not None:
        claims["groups"] = [g for g in a.groups.split(",") if g]
    for kv in a.claim:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise Usage("--claim needs NAME=JSON, got %s" % kv)
        if v == "":
            claims.pop(k, None)          # --claim iss= removes a claim
        else:
            claims[k] = claim_value(v)
    for k in [k for k, v in claims.items() if v is None]:
        del claims[k]

    if a.alg_none:
        header = {"alg": "none", "typ": "JWT", "kid": kid}
        return "%s.%s." % (b64u(jdump(header)), b64u(jdump(claims)))

    kty = "RSA" if a.alg == "RS256" else "EC"
    if a.hs256_with_public_key:
        # the classic key-confusion forgery: HMAC-SHA256 keyed with the RSA public key's PEM
        # text, header alg HS256 and the RSA key's kid
        kid = a.kid or "rsa-1"
        stem = KEYS[kid][0] if kid in KEYS else "rsa-1"
        pub = public_pem(load_private(os.path.join(a.dir, stem + ".key.pem")))
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        si = ("%s.%s" % (b64u(jdump(header)), b64u(jdump(claims)))).encode()
        sig = hmac.new(pub, si, hashlib.sha256).digest()
    else:
        if a.rogue_key:
            stem = ROGUE[a.alg]           # a key that is not in jwks.json, under a known kid
        elif a.kid in KEYS:
            stem, k_kty = KEYS[a.kid]
            if k_kty != kty:
                raise Usage("--kid %s is not a %s key" % (a.kid, a.alg))
        else:
            stem = KEYS[DEFAULT_KID[a.alg]][0]   # unknown --kid: signed by the default key
        key = load_private(os.path.join(a.dir, stem + ".key.pem"))
        header = {"alg": a.alg, "typ": "JWT", "kid": kid}
        si = ("%s.%s" % (b64u(jdump(header)), b64u(jdump(claims)))).encode()
        sig = sign(a.alg, key, si)
    if a.bad_signature:
        sig = bytes([sig[0] ^ 0x01]) + sig[1:]
    return "%s.%s" % (si.decode(), b64u(sig))


def cmd_token(a):
    if not os.path.exists(os.path.join(a.dir, "jwks.json")):
        raise Usage("no keys in %s (run: mint-jwt keys %s)" % (a.dir, a.dir))
    if a.every is not None and not a.out:
        raise Usage("--every needs --out")
    while True:
        tok = mint(a)
        if a.out:
            write_atomic(a.out, tok.encode() + b"\n", 0o644)
        else:
            sys.stdout.write(tok + "\n")
            sys.stdout.flush()
        if a.every is None:
            return 0
        time.sleep(a.every)


def cmd_decode(a):
    tok = sys.stdin.read().strip() if a.token == "-" else a.token.strip()
    parts = tok.split(".")
    if len(parts) != 3:
        raise Usage("not a compact JWS (%d parts)" % len(parts))
    out = {"header": json.loads(b64u_dec(parts[0])), "claims": json.loads(b64u_dec(parts[1])),
           "signature_bytes": len(b64u_dec(parts[2]))}
    print(json.dumps(out, indent=2))
    return 0


def main(argv):
    ap = Parser(prog="mint-jwt")
    sub = ap.add_subparsers(dest="cmd")
    k = sub.add_parser("keys")
    k.add_argument("dir")
    k.add_argument("--force", action="store_true")
    t = sub.add_parser("token")
    t.add_argument("dir")
    t.add_argument("--alg", default="RS256")
    t.add_argument("--kid")
    t.add_argument("--iss")
    t.add_argument("--aud")
    t.add_argument("--sub")
    t.add_argument("--groups")
    t.add_argument("--exp-in", type=int, default=300)
    t.add_argument("--no-exp", action="store_true")
    t.add_argument("--nbf-in", type=int)
    t.add_argument("--iat-in", type=int, default=0)
    t.add_argument("--claim", action="append", default=[])
    t.add_argument("--alg-none", action="store_true")
    t.add_argument("--hs256-with-public-key", action="store_true")
    t.add_argument("--rogue-key", action="store_true")
    t.add_argument("--bad-signature", action="store_true")
    t.add_argument("--out")
    t.add_argument("--every", type=float)
    d = sub.add_parser("decode")
    d.add_argument("token")
    for p in (k, t, d):
        p.error = ap.error
    try:
        a = ap.parse_args(argv)
        if a.cmd == "keys":
            return cmd_keys(a)
        if a.cmd == "token":
            return cmd_token(a)
        if a.cmd == "decode":
            return cmd_decode(a)
        raise Usage("command: keys | token | decode")
    except Usage as e:
        print("mint-jwt: usage error: %s" % e, file=sys.stderr)
        print(__doc__.split("\n\n", 1)[1], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001
        print("mint-jwt: error: %r" % (e,), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
