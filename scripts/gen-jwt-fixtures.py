#!/usr/bin/env python3
# Generates the JWT test fixtures of gatehouse-filter, once; the output is committed:
#   filter/fixtures/jwt/*.pem, hmac-secret.txt   test-only keys (kept when present)
#   filter/fixtures/jwt/jwks.json, tokens.json   key set; every token with its expected result
#   filter/src/jwt/fixtures.rs                   the same as Rust consts, decoded in comments
#
# Requires: cryptography==48.0.0 (pinned). Use scripts/gen-jwt-fixtures.sh, which installs it
# into a throwaway venv and runs this file. Existing keys are reused, so re-running keeps the
# keys and regenerates tokens (PSS signatures are randomized: those strings change; all
# other signatures are deterministic).
#
# Time: tests pin NOW; good tokens expire at FAR (2096), so they also verify against a real
# clock (Envoy tests); "future" claims are far in the future, "past" ones are before NOW.

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.x509.oid import NameOID

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT_DIR = os.path.join(ROOT, "filter", "fixtures", "jwt")
RS_FILE = os.path.join(ROOT, "filter", "src", "jwt", "fixtures.rs")

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
FAR = 4_000_000_000  # 2096-10-02
FUTURE = 3_900_000_000  # 2093-08-02
ISSUER = "https://idp.example.test"
HMAC_ISSUER = "https://hmac.example.test"
MIXED_ISSUER = "https://mixed.example.test"
AUDIENCE = "api://gatehouse"

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_L = 2**252 + 27742317777372353535851937790883648493


# --- keys ---------------------------------------------------------------------------------

def pem_path(name):
    return os.path.join(OUT_DIR, name)


def load_or_make(name, make):
    path = pem_path(name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), password=None)
    key = make()
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key


def load_or_make_secret():
    path = pem_path("hmac-secret.txt")
    if os.path.exists(path):
        with open(path) as f:
            return base64.b64decode(f.read().strip())
    secret = os.urandom(64)
    with open(path, "w") as f:
        f.write(base64.b64encode(secret).decode() + "\n")
    return secret


os.makedirs(OUT_DIR, exist_ok=True)
RSA = load_or_make("rsa-2048.pem", lambda: rsa.generate_private_key(65537, 2048))
RSA_ENC = load_or_make("rsa-2048-enc.pem", lambda: rsa.generate_private_key(65537, 2048))
RSA_1024 = load_or_make("rsa-1024-weak.pem", lambda: rsa.generate_private_key(65537, 1024))
ATTACKER = load_or_make("attacker-rsa-2048.pem", lambda: rsa.generate_private_key(65537, 2048))
P256 = load_or_make("ec-p256.pem", lambda: ec.generate_private_key(ec.SECP256R1()))
P384 = load_or_make("ec-p384.pem", lambda: ec.generate_private_key(ec.SECP384R1()))
ED = load_or_make("ed25519.pem", ed25519.Ed25519PrivateKey.generate)
SECRET = load_or_make_secret()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def rsa_jwk(key, **extra):
    nums = key.public_key().public_numbers()
    return {"kty": "RSA", **extra, "n": b64u(int_bytes(nums.n)), "e": b64u(int_bytes(nums.e))}


def ec_jwk(key, crv, size, **extra):
    nums = key.public_key().public_numbers()
    return {"kty": "EC", **extra, "crv": crv,
            "x": b64u(int_bytes(nums.x, size)), "y": b64u(int_bytes(nums.y, size))}


def ed_raw(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def spki_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


JWKS = {"keys": [
    rsa_jwk(RSA, kid="rsa-1", use="sig"),
    rsa_jwk(RSA, kid="rsa-rs256", use="sig", alg="RS256"),
    ec_jwk(P256, "P-256", 32, kid="ec-p256", use="sig"),
    ec_jwk(P384, "P-384", 48, kid="ec-p384", use="sig"),
    {"kty": "OKP", "kid": "ed-1", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": b64u(ed_raw(ED))},
    rsa_jwk(RSA_ENC, kid="rsa-enc", use="enc", alg="RSA-OAEP"),
]}
MIXED_JWKS = {"keys": JWKS["keys"] + [{"kty": "oct", "kid": "oct-1", "k": b64u(SECRET)}]}
ATTACKER_JWK = rsa_jwk(ATTACKER, kid="attacker-1")

PROVIDERS = [
    {"name": "idp", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": JWKS},
    {"name": "hmac", "issuer": HMAC_ISSUER, "audiences": [AUDIENCE],
     "algorithms": ["HS256", "HS384", "HS512"], "hmacSecret": base64.b64encode(SECRET).decode()},
    {"name": "mixed", "issuer": MIXED_ISSUER, "algorithms": ["RS256", "HS256"],
     "allowJwksOctKeys": True, "jwks": MIXED_JWKS},
]


# --- signing --------------------------------------------------------------------------------

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
HMAC_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def ecdsa(hash_cls):
    try:
        return ec.ECDSA(hash_cls(), deterministic_signing=True)
    except TypeError:
        return ec.ECDSA(hash_cls())


def sign(alg, key, data):
    bits = alg[2:]
    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), HASHES[bits]())
    if alg.startswith("PS"):
        h = HASHES[bits]()
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg.startswith("ES"):
        size = (key.curve.key_size + 7) // 8
        r, s = utils.decode_dss_signature(key.sign(data, ecdsa(HASHES[bits])))
        return int_bytes(r, size) + int_bytes(s, size)
    if alg == "EdDSA":
        return key.sign(data)
    if alg.startswith("HS"):
        return hmac.new(key, data, HMAC_HASHES[bits]).digest()
    raise ValueError(alg)


def enc_json(value):
    if isinstance(value, bytes):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def claims(**over):
    base = {"iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "iat": NOW - 60, "exp": FAR,
            "scope": "read write", "groups": ["eng", "ops"], "realm_access": {"roles": ["user"]}}
    for k, v in over.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


FIXTURES = []


def add(name, expect, header, payload, signer=None, provider="idp", sig=None, tamper=None,
        comment=None):
    """signer: (alg, key) used to sign; sig: explicit signature bytes or a function of the
    correct signature; tamper: function of the finished token string."""
    h, p = enc_json(header), enc_json(payload)
    signing_input = (b64u(h) + "." + b64u(p)).encode()
    signature = b""
    if signer is not None:
        signature = sign(signer[0], signer[1], signing_input)
    if callable(sig):
        signature = sig(signature)
    elif sig is not None:
        signature = sig
    token = signing_input.decode() + "." + b64u(signature)
    if tamper is not None:
        token = tamper(token)
    FIXTURES.append({"name": name, "token": token, "expect": expect, "provider": provider,
                     "header": h, "payload": p, "comment": comment})
    return token


def hdr(alg, kid=None, **extra):
    h = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        h["kid"] = kid
    h.update(extra)
    return h


RSA_PEM = spki_pem(RSA)
RSA_DER = spki_der(RSA)

# --- good tokens, one per algorithm -------------------------------------------------------

for bits in ("256", "384", "512"):
    add(f"GOOD_RS{bits}", "ok", hdr(f"RS{bits}", "rsa-1"), claims(), (f"RS{bits}", RSA))
for bits in ("256", "384", "512"):
    add(f"GOOD_PS{bits}", "ok", hdr(f"PS{bits}", "rsa-1"), claims(), (f"PS{bits}", RSA))
add("GOOD_ES256", "ok", hdr("ES256", "ec-p256"), claims(), ("ES256", P256))
add("GOOD_ES384", "ok", hdr("ES384", "ec-p384"), claims(), ("ES384", P384))
add("GOOD_EDDSA", "ok", hdr("EdDSA", "ed-1"), claims(), ("EdDSA", ED))
for bits in ("256", "384", "512"):
    add(f"GOOD_HS{bits}", "ok", hdr(f"HS{bits}"), claims(iss=HMAC_ISSUER), (f"HS{bits}", SECRET),
        provider="hmac")
add("GOOD_RS256_KEY_WITH_ALG", "ok", hdr("RS256", "rsa-rs256"), claims(), ("RS256", RSA),
    comment="the JWK declares alg RS256")
add("GOOD_RS256_NO_KID", "ok", hdr("RS256"), claims(), ("RS256", RSA),
    comment="no kid: the provider's RS256-capable keys are tried (bounded)")
add("GOOD_ES256_NO_KID", "ok", {"alg": "ES256"}, claims(), ("ES256", P256),
    comment="no kid, no typ")
add("GOOD_AUD_ARRAY", "ok", hdr("RS256", "rsa-1"), claims(aud=["api://other", AUDIENCE]),
    ("RS256", RSA))
add("GOOD_TYP_AT_JWT", "ok", hdr("RS256", "rsa-1", typ="at+jwt"), claims(), ("RS256", RSA))
add("GOOD_TYP_APPLICATION_JWT", "ok", hdr("RS256", "rsa-1", typ="application/JWT"), claims(),
    ("RS256", RSA))
add("GOOD_FRACTIONAL_EXP", "ok", hdr("RS256", "rsa-1"), claims(exp=FAR + 0.5), ("RS256", RSA))
add("GOOD_ESCAPED_ALG_NAME", "ok", b'{"alg":"\\u0052S256","kid":"rsa-1"}', claims(),
    ("RS256", RSA), comment="JSON escapes decode first: the alg is RS256")
add("GOOD_ES256_HIGH_S", "ok", hdr("ES256", "ec-p256"), claims(), ("ES256", P256),
    sig=lambda s: s[:32] + int_bytes(P256_N - int.from_bytes(s[32:], "big"), 32),
    comment="s replaced by n - s: ECDSA signatures are malleable and JWS does not require low-S"
            " (BoringSSL accepts it too)")
add("GOOD_MIXED_HS256", "ok", hdr("HS256", "oct-1"), claims(iss=MIXED_ISSUER), ("HS256", SECRET),
    provider="mixed")
add("GOOD_LEEWAY_EXPIRED_30S_AGO", "ok", hdr("RS256", "rsa-1"), claims(exp=NOW - 30, iat=NOW - 3600),
    ("RS256", RSA), comment="expired 30 s before NOW, within the 60 s leeway")

# --- ordinary failures -------------------------------------------------------------------

add("EXPIRED", "expired", hdr("RS256", "rsa-1"), claims(exp=NOW - 3600, iat=NOW - 7200),
    ("RS256", RSA))
add("NOT_YET_VALID", "not_yet_valid", hdr("RS256", "rsa-1"), claims(nbf=FUTURE), ("RS256", RSA))
add("IAT_IN_FUTURE", "iat_in_future", hdr("RS256", "rsa-1"), claims(iat=FUTURE), ("RS256", RSA))
add("MISSING_EXP", "missing_exp", hdr("RS256", "rsa-1"), claims(exp=None), ("RS256", RSA))
add("WRONG_ISSUER", "unknown_issuer", hdr("RS256", "rsa-1"), claims(iss="https://evil.example.test"),
    ("RS256", RSA))
add("MISSING_ISSUER", "unknown_issuer", hdr("RS256", "rsa-1"), claims(iss=None), ("RS256", RSA))
add("WRONG_AUDIENCE", "bad_audience", hdr("RS256", "rsa-1"), claims(aud="api://other"),
    ("RS256", RSA))
add("MISSING_AUDIENCE", "bad_audience", hdr("RS256", "rsa-1"), claims(aud=None), ("RS256", RSA))
add("EMPTY_AUDIENCE_ARRAY", "bad_audience", hdr("RS256", "rsa-1"), claims(aud=[]), ("RS256", RSA))
add("UNKNOWN_KID", "unknown_kid", hdr("RS256", "rsa-9"), claims(), ("RS256", RSA))
add("ENC_KEY_KID", "unknown_kid", hdr("RS256", "rsa-enc"), claims(), ("RS256", RSA_ENC),
    comment="the JWKS key rsa-enc has use=enc and is ignored")
good_rs256 = next(f["token"] for f in FIXTURES if f["name"] == "GOOD_RS256")
add("BAD_SIGNATURE", "bad_signature", hdr("RS256", "rsa-1"), claims(sub="admin"),
    sig=base64.urlsafe_b64decode(good_rs256.split(".")[2] + "=="),
    comment="GOOD_RS256's signature on another payload")
add("SIGNED_BY_OTHER_KEY", "bad_signature", hdr("RS256", "rsa-1"), claims(), ("RS256", ATTACKER))
add("PSS_SIGNATURE_AS_RS256", "bad_signature", hdr("RS256", "rsa-1"), claims(),
    sig=lambda _: sign("PS256", RSA, (b64u(enc_json(hdr("RS256", "rsa-1"))) + "." +
                                      b64u(enc_json(claims()))).encode()),
    comment="alg RS256 over a PS256 signature")
add("RS256_KEY_FOR_PS256", "key_alg_mismatch", hdr("PS256", "rsa-rs256"), claims(),
    ("PS256", RSA), comment="the JWK restricts itself to RS256")
add("HMAC_WRONG_SECRET", "bad_signature", hdr("HS256"), claims(iss=HMAC_ISSUER),
    ("HS256", b"x" * 64), provider="hmac")

# --- malicious ---------------------------------------------------------------------------

add("ALG_NONE", "alg_not_allowed", {"alg": "none", "typ": "JWT"}, claims())
add("ALG_NONE_WITH_SIGNATURE", "alg_not_allowed", {"alg": "none", "kid": "rsa-1"}, claims(),
    ("RS256", RSA))
add("ALG_NONE_CAPITALIZED", "alg_not_allowed", {"alg": "None"}, claims())
add("ALG_NONE_UPPERCASE", "alg_not_allowed", {"alg": "NONE"}, claims())
add("ALG_LOWERCASE_RS256", "alg_not_allowed", hdr("rs256", "rsa-1"), claims(), ("RS256", RSA))
add("ALG_FULLWIDTH", "alg_not_allowed", hdr("ＲＳ256", "rsa-1"), claims(), ("RS256", RSA))
add("ALG_TRAILING_NUL", "alg_not_allowed", hdr("RS256\u0000", "rsa-1"), claims(), ("RS256", RSA))
add("ALG_NOT_IN_ALLOW_LIST", "alg_not_allowed", hdr("ES256", "ec-p256"),
    claims(iss=MIXED_ISSUER), ("ES256", P256), provider="mixed",
    comment="provider mixed allows RS256 and HS256 only")
add("CONFUSION_HS256_RSA_PEM", "alg_not_allowed", hdr("HS256", "rsa-1"), claims(),
    ("HS256", RSA_PEM), comment="HMAC keyed with the provider's RSA public key (PEM)")
add("CONFUSION_HS256_RSA_DER", "alg_not_allowed", hdr("HS256", "rsa-1"), claims(),
    ("HS256", RSA_DER), comment="HMAC keyed with the RSA SubjectPublicKeyInfo DER")
add("CONFUSION_HS256_RSA_JWK_N", "alg_not_allowed", hdr("HS256", "rsa-1"), claims(),
    ("HS256", JWKS["keys"][0]["n"].encode()), comment="HMAC keyed with the JWK's n")
add("CONFUSION_HMAC_PROVIDER_RSA_PEM", "bad_signature", hdr("HS256", "rsa-1"),
    claims(iss=HMAC_ISSUER), ("HS256", RSA_PEM), provider="hmac",
    comment="HS allowed here, but only the configured secret is an HMAC key")
add("CONFUSION_MIXED_RSA_KID", "key_alg_mismatch", hdr("HS256", "rsa-1"),
    claims(iss=MIXED_ISSUER), ("HS256", RSA_PEM), provider="mixed",
    comment="HS256 allowed; kid names an RSA key: never an HMAC secret")
add("CONFUSION_MIXED_NO_KID", "bad_signature", hdr("HS256"), claims(iss=MIXED_ISSUER),
    ("HS256", RSA_PEM), provider="mixed", comment="no kid: only oct keys are tried for HS256")
add("ES256_WITH_P384_KEY", "key_alg_mismatch", hdr("ES256", "ec-p384"), claims(),
    ("ES384", P384), comment="ES256 needs P-256; signed with the P-384 key")
add("ES384_WITH_P256_KEY", "key_alg_mismatch", hdr("ES384", "ec-p256"), claims(),
    ("ES256", P256))
add("ES256_P384_SIGNATURE_NO_KID", "bad_signature", {"alg": "ES256"}, claims(),
    ("ES384", P384), comment="96-byte signature: wrong length for ES256")
add("RS256_WITH_EC_KID", "key_alg_mismatch", hdr("RS256", "ec-p256"), claims(), ("RS256", RSA))
add("EDDSA_WITH_RSA_KID", "key_alg_mismatch", hdr("EdDSA", "rsa-1"), claims(), ("EdDSA", ED))
add("TRUNCATED_SIGNATURE", "bad_signature", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    sig=lambda s: s[:-1])
add("EMPTY_SIGNATURE", "bad_signature", hdr("RS256", "rsa-1"), claims())
add("SIGNATURE_LEADING_ZERO_BYTE", "bad_signature", hdr("RS256", "rsa-1"), claims(),
    ("RS256", RSA), sig=lambda s: b"\x00" + s)
add("ES256_DER_SIGNATURE", "bad_signature", hdr("ES256", "ec-p256"), claims(), ("ES256", P256),
    sig=lambda s: utils.encode_dss_signature(int.from_bytes(s[:32], "big"),
                                             int.from_bytes(s[32:], "big")),
    comment="valid signature in DER instead of r||s")
add("ES256_ZERO_SIGNATURE", "bad_signature", hdr("ES256", "ec-p256"), claims(), sig=bytes(64),
    comment="r = s = 0 (CVE-2022-21449, psychic signatures)")
add("ES256_R_S_EQUAL_N", "bad_signature", hdr("ES256", "ec-p256"), claims(),
    sig=int_bytes(P256_N, 32) * 2, comment="r = s = n, out of range")
add("EDDSA_NON_CANONICAL_S", "bad_signature", hdr("EdDSA", "ed-1"), claims(), ("EdDSA", ED),
    sig=lambda s: s[:32] + (int.from_bytes(s[32:], "little") + ED25519_L).to_bytes(32, "little"),
    comment="S + L: same value mod L, non-canonical encoding")
add("ALG_SWAPPED_RS512", "bad_signature", hdr("RS512", "rsa-1"), claims(),
    sig=base64.urlsafe_b64decode(good_rs256.split(".")[2] + "=="),
    comment="alg changed to RS512, RS256 signature kept")
add("PADDING_IN_PAYLOAD", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t.split(".")[0] + "." + t.split(".")[1] + "=." + t.split(".")[2])
add("PADDING_IN_SIGNATURE", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t + "==")


def standard_alphabet(t):
    head, sig = t.rsplit(".", 1)
    assert "-" in sig or "_" in sig, "pick another key: signature has no - or _"
    return head + "." + sig.replace("-", "+").replace("_", "/")


add("STANDARD_ALPHABET_SIGNATURE", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=standard_alphabet, comment="+ and / instead of - and _")


def non_canonical(t):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    head, sig = t.rsplit(".", 1)
    assert len(sig) % 4 == 2
    last = alphabet.index(sig[-1])
    return head + "." + sig[:-1] + alphabet[last | 1]


add("NON_CANONICAL_SIGNATURE_BITS", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=non_canonical, comment="unused low bits of the last character set: decodes to the"
                                  " same bytes in lenient decoders")
add("BAD_BASE64_CHARACTER", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t[:40] + "*" + t[41:])
add("PERCENT_ENCODED", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t.replace(".", "%2E", 1))
add("LEADING_SPACE", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: " " + t)
add("TRAILING_NEWLINE", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t + "\n")
add("INNER_WHITESPACE", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t.replace(".", ". ", 1))
add("JWE_FIVE_PARTS", "malformed", {"alg": "RSA-OAEP", "enc": "A256GCM"}, claims(),
    tamper=lambda t: t.split(".")[0] + ".ZW5jcnlwdGVkLWtleQ.aXY.Y2lwaGVydGV4dA.dGFn",
    comment="a JWE (encrypted) token: five segments")
add("EXTRA_SEGMENT", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t + ".AAAA")
add("TWO_SEGMENTS", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t.rsplit(".", 1)[0])
add("TRAILING_DOT", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: t + ".")
add("EMPTY_HEADER_SEGMENT", "malformed", hdr("RS256", "rsa-1"), claims(), ("RS256", RSA),
    tamper=lambda t: "." + t.split(".", 1)[1])
add("EMPTY_PAYLOAD_SEGMENT", "malformed", hdr("RS256", "rsa-1"), b"", ("RS256", RSA))
add("ONLY_DOTS", "malformed", b"", b"", tamper=lambda t: "..")
add("EMPTY_TOKEN", "malformed", b"", b"", tamper=lambda t: "")
add("DUPLICATE_CLAIM_ISS", "malformed", hdr("RS256", "rsa-1"),
    enc_json(claims(iss=None))[:-1] + b',"iss":"' + ISSUER.encode() + b'","iss":"https://evil.example.test"}',
    ("RS256", RSA), comment="duplicate member names are refused (parsers disagree on which wins)")
add("DUPLICATE_HEADER_ALG", "malformed", b'{"alg":"RS256","kid":"rsa-1","alg":"HS256"}', claims(),
    ("RS256", RSA))
add("DUPLICATE_ESCAPED_CLAIM", "malformed", hdr("RS256", "rsa-1"),
    enc_json(claims())[:-1] + b',"\\u0069ss":"https://evil.example.test"}', ("RS256", RSA),
    comment='"\\u0069ss" is "iss"')
add("PAYLOAD_ARRAY", "malformed", hdr("RS256", "rsa-1"), [claims()], ("RS256", RSA))
add("PAYLOAD_STRING", "malformed", hdr("RS256", "rsa-1"), "iss", ("RS256", RSA))
add("PAYLOAD_NULL", "malformed", hdr("RS256", "rsa-1"), b"null", ("RS256", RSA))
add("HEADER_ARRAY", "malformed", [hdr("RS256", "rsa-1")], claims(), ("RS256", RSA))
add("HEADER_ALG_ARRAY", "malformed", {"alg": ["RS256"], "kid": "rsa-1"}, claims(), ("RS256", RSA))
add("HEADER_KID_NUMBER", "malformed", {"alg": "RS256", "kid": 1}, claims(), ("RS256", RSA))
add("HEADER_INVALID_UTF8", "malformed", b'{"alg":"RS256","kid":"rsa-1\xff"}', claims(),
    ("RS256", RSA))
add("PAYLOAD_LONE_SURROGATE", "malformed", hdr("RS256", "rsa-1"),
    enc_json(claims())[:-1] + b',"name":"\\ud800"}', ("RS256", RSA))
add("PAYLOAD_BOM", "malformed", hdr("RS256", "rsa-1"), b"\xef\xbb\xbf" + enc_json(claims()),
    ("RS256", RSA))
add("PAYLOAD_TRAILING_GARBAGE", "malformed", hdr("RS256", "rsa-1"), enc_json(claims()) + b"x",
    ("RS256", RSA))
add("PAYLOAD_NUMBER_OVERFLOW", "malformed", hdr("RS256", "rsa-1"),
    enc_json(claims(exp=None))[:-1] + b',"exp":1e400}', ("RS256", RSA))
add("DEEPLY_NESTED_PAYLOAD", "malformed", hdr("RS256", "rsa-1"),
    enc_json(claims())[:-1] + b',"deep":' + b"[" * 200 + b"]" * 200 + b"}", ("RS256", RSA),
    comment="200 levels of arrays (limit 32)")
add("EXP_AS_STRING", "bad_claim", hdr("RS256", "rsa-1"), claims(exp=str(FAR)), ("RS256", RSA))
add("EXP_NEGATIVE", "bad_claim", hdr("RS256", "rsa-1"), claims(exp=-1), ("RS256", RSA))
add("NBF_AS_BOOLEAN", "bad_claim", hdr("RS256", "rsa-1"), claims(nbf=True), ("RS256", RSA))
add("IAT_AS_STRING", "bad_claim", hdr("RS256", "rsa-1"), claims(iat="yesterday"), ("RS256", RSA))
add("AUD_AS_NUMBER", "bad_claim", hdr("RS256", "rsa-1"), claims(aud=42), ("RS256", RSA))
add("AUD_ARRAY_WITH_NUMBER", "bad_claim", hdr("RS256", "rsa-1"), claims(aud=[AUDIENCE, 42]),
    ("RS256", RSA))
add("ISS_AS_ARRAY", "bad_claim", hdr("RS256", "rsa-1"), claims(iss=[ISSUER]), ("RS256", RSA))
add("HUGE_TOKEN", "too_large", hdr("RS256", "rsa-1"), claims(pad="A" * 9000), ("RS256", RSA),
    comment="over the 8 KiB default limit")
add("HUGE_HEADER", "too_large", hdr("RS256", "rsa-1", x="A" * 3000), claims(), ("RS256", RSA),
    comment="header over 2 KiB")
add("CRIT_HEADER", "crit_header", hdr("RS256", "rsa-1", crit=["exp"], exp=FAR), claims(),
    ("RS256", RSA))
add("CRIT_B64_FALSE", "crit_header", hdr("RS256", "rsa-1", crit=["b64"], b64=False), claims(),
    ("RS256", RSA), comment="RFC 7797 unencoded payload")
add("CRIT_EMPTY", "crit_header", hdr("RS256", "rsa-1", crit=[]), claims(), ("RS256", RSA))
add("JKU_ATTACKER_KEY", "unknown_kid",
    hdr("RS256", "attacker-1", jku="https://evil.example.test/jwks.json"), claims(),
    ("RS256", ATTACKER), comment="jku is never fetched")
add("JKU_WITH_KNOWN_KID", "bad_signature",
    hdr("RS256", "rsa-1", jku="https://evil.example.test/jwks.json"), claims(), ("RS256", ATTACKER))
add("X5U_WITH_KNOWN_KID", "bad_signature",
    hdr("RS256", "rsa-1", x5u="https://evil.example.test/cert.pem"), claims(), ("RS256", ATTACKER))
add("JWK_EMBEDDED_NO_KID", "bad_signature", hdr("RS256", jwk=ATTACKER_JWK), claims(),
    ("RS256", ATTACKER), comment="the embedded jwk is never trusted")
add("JWK_EMBEDDED_KNOWN_KID", "bad_signature",
    hdr("RS256", "rsa-1", jwk=rsa_jwk(ATTACKER, kid="rsa-1")), claims(), ("RS256", ATTACKER))
_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.test")])
_cert = (x509.CertificateBuilder().subject_name(_name).issuer_name(_name)
         .public_key(ATTACKER.public_key()).serial_number(1)
         .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
         .not_valid_after(datetime.datetime(2096, 1, 1, tzinfo=datetime.timezone.utc))
         .sign(ATTACKER, hashes.SHA256()))
add("X5C_ATTACKER_CERT", "bad_signature",
    hdr("RS256", "rsa-1", x5c=[base64.b64encode(_cert.public_bytes(serialization.Encoding.DER)).decode()]),
    claims(), ("RS256", ATTACKER), comment="self-signed certificate chain in the header")
inner = good_rs256
add("NESTED_JWT", "nested_jwt", hdr("RS256", "rsa-1", cty="JWT"), inner.encode(), ("RS256", RSA),
    comment="payload is another JWT")
add("NESTED_JWT_MEDIA_TYPE", "nested_jwt", hdr("RS256", "rsa-1", cty="application/jwt"),
    claims(), ("RS256", RSA))
add("TYP_DPOP", "bad_typ", hdr("RS256", "rsa-1", typ="dpop+jwt"), claims(), ("RS256", RSA))
add("UNICODE_ISSUER_ZERO_WIDTH", "unknown_issuer", hdr("RS256", "rsa-1"),
    claims(iss=ISSUER + "\u200b"), ("RS256", RSA))
add("UNICODE_ISSUER_HOMOGLYPH", "unknown_issuer", hdr("RS256", "rsa-1"),
    claims(iss=ISSUER.replace("example", "\u0435xample")), ("RS256", RSA),
    comment="Cyrillic small ie instead of e")
add("UNICODE_KID_HYPHEN", "unknown_kid", hdr("RS256", "rsa\u20111"), claims(), ("RS256", RSA),
    comment="non-breaking hyphen in kid")
add("KID_PATH_TRAVERSAL", "unknown_kid", hdr("RS256", "../../../../etc/passwd"), claims(),
    ("RS256", RSA))
add("KID_SQL_INJECTION", "unknown_kid", hdr("RS256", "' OR '1'='1"), claims(), ("RS256", RSA))
add("KID_TRAILING_NUL", "unknown_kid", hdr("RS256", "rsa-1\u0000"), claims(), ("RS256", RSA))


# --- output ----------------------------------------------------------------------------------

def const_name(name):
    return name


def rust_str(s):
    # A raw string when possible, otherwise an escaped one.
    if '"#' not in s and all(ord(c) >= 0x20 or c == "\n" for c in s):
        return 'r#"' + s + '"#'
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif ord(c) < 0x20:
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def show(data):
    text = data.decode("utf-8", errors="backslashreplace")
    text = "".join(c if ord(c) >= 0x20 and c not in "\u2028\u2029" else "\\u%04x" % ord(c)
                   for c in text)
    if len(text) > 400:
        text = text[:200] + " ... " + text[-80:] + " (%d bytes in all)" % len(data)
    return text


lines = [
    "//! JWT test fixtures. GENERATED by `scripts/gen-jwt-fixtures.sh` (cryptography 48.0.0):",
    "//! do not edit by hand. Keys: `filter/fixtures/jwt/` (test-only, never use elsewhere).",
    "//!",
    "//! Every token is a const with its decoded header and payload in a comment, and",
    "//! [`TOKENS`] lists them all with the provider they target and the expected result:",
    '//! `"ok"` or a [`crate::jwt::Reason::label`]. Tests pin time to [`NOW`]; good tokens',
    "//! expire at 4000000000 (2096), so they verify against a real clock too.",
    "",
    "#![allow(dead_code)]",
    "",
    "/// The time tests verify at: 2026-01-01T00:00:00Z.",
    f"pub const NOW: u64 = {NOW};",
    f"pub const ISSUER: &str = {rust_str(ISSUER)};",
    f"pub const HMAC_ISSUER: &str = {rust_str(HMAC_ISSUER)};",
    f"pub const MIXED_ISSUER: &str = {rust_str(MIXED_ISSUER)};",
    f"pub const AUDIENCE: &str = {rust_str(AUDIENCE)};",
    "/// The HMAC secret (64 bytes), standard base64.",
    f"pub const HMAC_SECRET_B64: &str = {rust_str(base64.b64encode(SECRET).decode())};",
    "",
    "/// The providers' key set: rsa-1 (RSA 2048), rsa-rs256 (same key, alg RS256), ec-p256,",
    "/// ec-p384, ed-1 (Ed25519), rsa-enc (use enc: ignored).",
    f"pub const JWKS: &str = {rust_str(json.dumps(JWKS, indent=1))};",
    "/// [`JWKS`] plus an oct key (kid oct-1, the HMAC secret) for the `mixed` provider.",
    f"pub const MIXED_JWKS: &str = {rust_str(json.dumps(MIXED_JWKS, indent=1))};",
    "/// `/providers` of a filter configuration: idp (asymmetric, JWKS), hmac (HS*, secret),",
    "/// mixed (RS256 + HS256 with JWKS oct keys allowed).",
    f"pub const PROVIDERS_JSON: &str = {rust_str(json.dumps(PROVIDERS, indent=1))};",
    "",
    "// Key components, for JWKS tests (base64url).",
]
rsa_nums = RSA.public_key().public_numbers()
components = {
    "RSA_N": b64u(int_bytes(rsa_nums.n)),
    "RSA_E": b64u(int_bytes(rsa_nums.e)),
    "RSA_1024_N": b64u(int_bytes(RSA_1024.public_key().public_numbers().n)),
    "EC_P256_X": JWKS["keys"][2]["x"], "EC_P256_Y": JWKS["keys"][2]["y"],
    "EC_P384_X": JWKS["keys"][3]["x"], "EC_P384_Y": JWKS["keys"][3]["y"],
    "ED25519_X": JWKS["keys"][4]["x"],
    "RSA_SPKI_DER": b64u(RSA_DER),
    "EC_P256_SPKI_DER": b64u(spki_der(P256)),
    "EC_P384_SPKI_DER": b64u(spki_der(P384)),
    "ED25519_SPKI_DER": b64u(spki_der(ED)),
}
for k, v in components.items():
    lines.append(f"pub const {k}: &str = {rust_str(v)};")
lines.append("")

for f in FIXTURES:
    lines.append(f"// {f['name']}: expect {f['expect']} (provider {f['provider']})")
    if f["comment"]:
        lines.append(f"//   {f['comment']}")
    lines.append(f"//   header:  {show(f['header'])}")
    lines.append(f"//   payload: {show(f['payload'])}")
    lines.append(f"pub const {const_name(f['name'])}: &str = {rust_str(f['token'])};")
    lines.append("")

lines += [
    "/// One fixture token: its const name, the token, the provider it targets and the",
    '/// expected outcome (`"ok"` or a reason label).',
    "#[derive(Debug, Clone, Copy)]",
    "pub struct Fixture {",
    "    pub name: &'static str,",
    "    pub token: &'static str,",
    "    pub provider: &'static str,",
    "    pub expect: &'static str,",
    "}",
    "",
    "/// Every token above.",
    "pub const TOKENS: &[Fixture] = &[",
]
for f in FIXTURES:
    lines.append(f"    Fixture {{ name: \"{f['name']}\", token: {f['name']}, "
                 f"provider: \"{f['provider']}\", expect: \"{f['expect']}\" }},")
lines.append("];")
lines.append("")

with open(RS_FILE, "w") as out:
    out.write("\n".join(lines))
with open(os.path.join(OUT_DIR, "jwks.json"), "w") as out:
    json.dump(JWKS, out, indent=1)
    out.write("\n")
with open(os.path.join(OUT_DIR, "tokens.json"), "w") as out:
    json.dump({"now": NOW, "providers": PROVIDERS,
               "tokens": [{k: f[k] for k in ("name", "provider", "expect", "token")}
                          for f in FIXTURES]}, out, indent=1)
    out.write("\n")
names = [f["name"] for f in FIXTURES]
assert len(names) == len(set(names)), "duplicate fixture name"
print(f"{len(FIXTURES)} tokens -> {os.path.relpath(RS_FILE, ROOT)}, "
      f"{os.path.relpath(OUT_DIR, ROOT)}/tokens.json", file=sys.stderr)
