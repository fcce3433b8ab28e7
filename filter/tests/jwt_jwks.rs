//! JWKS parsing: accepted key kinds, SPKI DER, and every refusal.

// Test helpers outside `#[test]` functions may unwrap and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../src/jwt/fixtures.rs"]
mod fixtures;

use fixtures as f;
use gatehouse_filter::jwt::jwks::{ecdsa_raw_to_der, SkipReason};
use gatehouse_filter::jwt::{b64, Algorithm, Jwks, JwksError, JwksLimits, KeyType};
use serde_json::{json, Value};

fn parse(doc: &Value) -> Result<Jwks, JwksError> {
    Jwks::parse(doc.to_string().as_bytes(), &JwksLimits::default())
}

fn one(key: Value) -> Result<KeyType, SkipReason> {
    let set = parse(&json!({ "keys": [key] })).unwrap();
    match (set.keys().first(), set.skipped.first()) {
        (Some(k), None) => Ok(k.key_type()),
        (None, Some((_, why))) => Err(*why),
        other => panic!("{other:?}"),
    }
}

fn rsa(n: &str) -> Value {
    json!({"kty": "RSA", "n": n, "e": f::RSA_E})
}

fn p256(x: &str, y: &str) -> Value {
    json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
}

fn flip_last_byte(b64url: &str) -> String {
    let mut bytes = b64::decode(b64url.as_bytes()).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    b64::encode(&bytes)
}

#[test]
fn jwt_fixture_jwks_keys_and_spki_der() {
    let set = Jwks::parse(f::JWKS.as_bytes(), &JwksLimits::default()).unwrap();
    let kinds: Vec<(Option<&str>, KeyType)> =
        set.keys().iter().map(|k| (k.kid(), k.key_type())).collect();
    assert_eq!(
        kinds,
        vec![
            (Some("rsa-1"), KeyType::Rsa { bits: 2048 }),
            (Some("rsa-rs256"), KeyType::Rsa { bits: 2048 }),
            (Some("ec-p256"), KeyType::EcP256),
            (Some("ec-p384"), KeyType::EcP384),
            (Some("ed-1"), KeyType::Ed25519),
        ]
    );
    // rsa-enc (use: enc) is skipped, not an error.
    assert_eq!(set.skipped, vec![(5, SkipReason::NotForSignatures)]);
    let der = |kid: &str| b64::encode(set.with_kid(kid).next().unwrap().spki_der());
    assert_eq!(der("rsa-1"), f::RSA_SPKI_DER);
    assert_eq!(der("ec-p256"), f::EC_P256_SPKI_DER);
    assert_eq!(der("ec-p384"), f::EC_P384_SPKI_DER);
    assert_eq!(der("ed-1"), f::ED25519_SPKI_DER);
    assert_eq!(
        set.with_kid("rsa-rs256").next().unwrap().alg(),
        Some(Algorithm::Rs256)
    );
    assert_eq!(set.with_kid("nope").count(), 0);
}

#[test]
fn jwt_key_type_fits_only_its_algorithm_family() {
    use Algorithm as A;
    let rsa = KeyType::Rsa { bits: 2048 };
    for alg in Algorithm::ALL {
        let rsa_ok = matches!(
            alg,
            A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512
        );
        assert_eq!(rsa.fits(alg), rsa_ok, "{alg}");
        assert_eq!(KeyType::EcP256.fits(alg), alg == A::Es256, "{alg}");
        assert_eq!(KeyType::EcP384.fits(alg), alg == A::Es384, "{alg}");
        assert_eq!(KeyType::Ed25519.fits(alg), alg == A::EdDsa, "{alg}");
        assert_eq!(KeyType::Oct { len: 64 }.fits(alg), alg.is_hmac(), "{alg}");
    }
    // RFC 7518 §3.2: the secret must be at least as long as the hash.
    assert!(KeyType::Oct { len: 32 }.fits(A::Hs256));
    assert!(!KeyType::Oct { len: 32 }.fits(A::Hs384));
    assert!(!KeyType::Oct { len: 63 }.fits(A::Hs512));
}

#[test]
fn jwt_rsa_refusals() {
    assert_eq!(one(rsa(f::RSA_1024_N)), Err(SkipReason::BadSize));
    // A leading zero octet is tolerated (some publishers add one).
    let mut padded = vec![0u8];
    padded.extend(b64::decode(f::RSA_N.as_bytes()).unwrap());
    assert_eq!(
        one(rsa(&b64::encode(&padded))),
        Ok(KeyType::Rsa { bits: 2048 })
    );
    // Over 4096 bits.
    let big = b64::encode(&[0xffu8; 513]);
    assert_eq!(one(rsa(&big)), Err(SkipReason::BadSize));
    // Even modulus, exponent 1, missing or non-base64url members.
    let mut even = b64::decode(f::RSA_N.as_bytes()).unwrap();
    *even.last_mut().unwrap() &= 0xfe;
    assert_eq!(one(rsa(&b64::encode(&even))), Err(SkipReason::Invalid));
    assert_eq!(
        one(json!({"kty": "RSA", "n": f::RSA_N, "e": "AQ"})),
        Err(SkipReason::Invalid)
    );
    assert_eq!(
        one(json!({"kty": "RSA", "n": f::RSA_N})),
        Err(SkipReason::Invalid)
    );
    assert_eq!(
        one(json!({"kty": "RSA", "n": f::RSA_N.replace('-', "+"), "e": "AQAB"})),
        Err(SkipReason::Invalid)
    );
    assert_eq!(
        one(json!({"kty": "RSA", "n": format!("{}=", f::RSA_N), "e": "AQAB"})),
        Err(SkipReason::Invalid)
    );
    // x5c alone is not used: no n/e, no key.
    assert_eq!(
        one(json!({"kty": "RSA", "x5c": ["MIIB"]})),
        Err(SkipReason::Invalid)
    );
}

#[test]
fn jwt_ec_refusals() {
    assert_eq!(one(p256(f::EC_P256_X, f::EC_P256_Y)), Ok(KeyType::EcP256));
    // Not on the curve.
    assert_eq!(
        one(p256(f::EC_P256_X, &flip_last_byte(f::EC_P256_Y))),
        Err(SkipReason::Invalid)
    );
    // Coordinates must be exactly 32 bytes.
    let short = b64::encode(&b64::decode(f::EC_P256_X.as_bytes()).unwrap()[1..]);
    assert_eq!(one(p256(&short, f::EC_P256_Y)), Err(SkipReason::Invalid));
    // P-384 coordinates announced as P-256, and the other way round.
    assert_eq!(
        one(p256(f::EC_P384_X, f::EC_P384_Y)),
        Err(SkipReason::Invalid)
    );
    assert_eq!(
        one(json!({"kty": "EC", "crv": "P-384", "x": f::EC_P256_X, "y": f::EC_P256_Y})),
        Err(SkipReason::Invalid)
    );
    assert_eq!(
        one(json!({"kty": "EC", "crv": "P-384", "x": f::EC_P384_X, "y": f::EC_P384_Y})),
        Ok(KeyType::EcP384)
    );
    // The identity / zero point.
    let zero = b64::encode(&[0u8; 32]);
    assert_eq!(one(p256(&zero, &zero)), Err(SkipReason::Invalid));
    // Unsupported curves.
    assert_eq!(
        one(json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"})),
        Err(SkipReason::Unsupported)
    );
    assert_eq!(
        one(json!({"kty": "EC", "crv": "secp256k1", "x": f::EC_P256_X, "y": f::EC_P256_Y})),
        Err(SkipReason::Unsupported)
    );
}

#[test]
fn jwt_okp_refusals() {
    let ed = |x: &str| json!({"kty": "OKP", "crv": "Ed25519", "x": x});
    assert_eq!(one(ed(f::ED25519_X)), Ok(KeyType::Ed25519));
    assert_eq!(
        one(json!({"kty": "OKP", "crv": "Ed448", "x": f::ED25519_X})),
        Err(SkipReason::Unsupported)
    );
    assert_eq!(
        one(json!({"kty": "OKP", "crv": "X25519", "x": f::ED25519_X})),
        Err(SkipReason::Unsupported)
    );
    assert_eq!(one(ed("AAAA")), Err(SkipReason::Invalid));
    // The identity point (small order): a "weak" key that would accept forged signatures.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(one(ed(&b64::encode(&identity))), Err(SkipReason::Invalid));
}

#[test]
fn jwt_oct_keys_only_when_allowed() {
    let secret = b64::encode(&[7u8; 32]);
    let key = json!({"kty": "oct", "kid": "s", "k": secret});
    assert_eq!(one(key.clone()), Err(SkipReason::OctNotAllowed));
    let allow = JwksLimits {
        allow_oct: true,
        ..JwksLimits::default()
    };
    let doc = json!({ "keys": [key] }).to_string();
    let set = Jwks::parse(doc.as_bytes(), &allow).unwrap();
    assert_eq!(set.keys()[0].key_type(), KeyType::Oct { len: 32 });
    assert!(set.keys()[0].spki_der().is_empty());
    let short = json!({"keys": [{"kty": "oct", "k": b64::encode(&[7u8; 16])}]}).to_string();
    let set = Jwks::parse(short.as_bytes(), &allow).unwrap();
    assert_eq!(set.skipped, vec![(0, SkipReason::BadSize)]);
}

#[test]
fn jwt_use_key_ops_alg_members() {
    let base = || p256(f::EC_P256_X, f::EC_P256_Y);
    let with = |k: &str, v: Value| {
        let mut key = base();
        key[k] = v;
        key
    };
    assert_eq!(one(with("use", json!("sig"))), Ok(KeyType::EcP256));
    assert_eq!(
        one(with("use", json!("enc"))),
        Err(SkipReason::NotForSignatures)
    );
    assert_eq!(one(with("use", json!(1))), Err(SkipReason::Invalid));
    assert_eq!(one(with("key_ops", json!(["verify"]))), Ok(KeyType::EcP256));
    assert_eq!(
        one(with("key_ops", json!(["encrypt"]))),
        Err(SkipReason::NotForSignatures)
    );
    assert_eq!(one(with("alg", json!("ES256"))), Ok(KeyType::EcP256));
    // A key whose declared alg its type cannot serve is inconsistent.
    assert_eq!(one(with("alg", json!("RS256"))), Err(SkipReason::Invalid));
    assert_eq!(
        one(with("alg", json!("ECDH-ES"))),
        Err(SkipReason::Unsupported)
    );
    assert_eq!(one(with("kid", json!(5))), Err(SkipReason::Invalid));
    assert_eq!(
        one(with("kid", json!("k".repeat(257)))),
        Err(SkipReason::Invalid)
    );
    assert_eq!(one(json!({"kty": "RSA-PSS"})), Err(SkipReason::Unsupported));
    assert_eq!(one(json!({"n": f::RSA_N})), Err(SkipReason::Invalid));
}

#[test]
fn jwt_shared_kid_and_missing_kid() {
    let doc = json!({"keys": [
        {"kty": "RSA", "kid": "k", "n": f::RSA_N, "e": "AQAB"},
        {"kty": "EC", "kid": "k", "crv": "P-256", "x": f::EC_P256_X, "y": f::EC_P256_Y},
        {"kty": "OKP", "crv": "Ed25519", "x": f::ED25519_X},
    ]});
    let set = parse(&doc).unwrap();
    assert_eq!(set.with_kid("k").count(), 2);
    assert_eq!(set.without_kid().count(), 1);
}

#[test]
fn jwt_document_level_refusals() {
    let limits = JwksLimits::default();
    for bad in [
        &b""[..],
        b"[]",
        b"{}",
        br#"{"keys": {}}"#,
        br#"{"keys": []} trailing"#,
        br#"{"keys": [], "keys": []}"#,
        b"\xff",
    ] {
        assert_eq!(
            Jwks::parse(bad, &limits).unwrap_err(),
            JwksError::Malformed,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let many: Vec<Value> = (0..65)
        .map(|i| json!({"kty": "x", "kid": i.to_string()}))
        .collect();
    assert_eq!(
        parse(&json!({ "keys": many })).unwrap_err(),
        JwksError::TooManyKeys
    );
    let huge = format!(
        r#"{{"keys": [], "pad": "{}"}}"#,
        "a".repeat(limits.max_bytes)
    );
    assert_eq!(
        Jwks::parse(huge.as_bytes(), &limits).unwrap_err(),
        JwksError::TooLarge
    );
    // Non-object entries are skipped, the rest kept.
    let set = parse(&json!({"keys": [1, "x", null, p256(f::EC_P256_X, f::EC_P256_Y)]})).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.skipped.len(), 3);
    // Empty key sets parse (a rotation in progress); the provider decides what to do.
    assert!(parse(&json!({"keys": []})).unwrap().is_empty());
}

#[test]
fn jwt_ecdsa_signature_conversion_for_the_host() {
    // ES256_DER_SIGNATURE carries, over the same signing input, the DER form of
    // GOOD_ES256's (deterministic, RFC 6979) signature, as Python's `cryptography` encodes it.
    let segment = |t: &str| b64::decode(t.rsplit('.').next().unwrap().as_bytes()).unwrap();
    let raw = segment(f::GOOD_ES256);
    assert_eq!(
        ecdsa_raw_to_der(&raw, 32).unwrap(),
        segment(f::ES256_DER_SIGNATURE)
    );
    assert!(ecdsa_raw_to_der(&raw, 48).is_none());
}
