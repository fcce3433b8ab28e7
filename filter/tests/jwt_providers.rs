//! Provider compilation (configuration errors with JSON pointers), provider-dependent
//! reasons, the pluggable verifier, fetched keys, many providers, forwarding.

// Test helpers outside `#[test]` functions may unwrap and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../src/jwt/fixtures.rs"]
mod fixtures;

use std::cell::RefCell;
use std::time::Instant;

use fixtures as f;
use gatehouse_filter::config::Provider;
use gatehouse_filter::jwt::{
    Algorithm, Jwk, Jwks, JwksLimits, ProviderSet, Reason, SignatureVerifier,
};
use serde_json::{json, Value};

fn provider(extra: Value) -> Provider {
    let mut base = json!({"name": "idp", "issuer": f::ISSUER, "jwks": f::JWKS});
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    serde_json::from_value(base).unwrap()
}

fn set_of(extra: Value) -> ProviderSet {
    ProviderSet::from_config(&[provider(extra)]).unwrap()
}

fn config_error(list: Vec<Value>) -> (String, String) {
    let providers: Vec<Provider> = list
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let e = ProviderSet::from_config(&providers).unwrap_err();
    (e.pointer, e.message)
}

fn reason(set: &ProviderSet, token: &str) -> Reason {
    set.verify(token, f::NOW).unwrap_err().reason
}

#[test]
fn jwt_fixture_providers_compile_and_round_trip() {
    let list: Vec<Provider> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    let set = ProviderSet::from_config(&list).unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.get("idp").unwrap().static_keys().len(), 5);
    assert_eq!(set.by_issuer(f::HMAC_ISSUER).unwrap().name(), "hmac");
    // Serializing and parsing again gives the same configuration.
    let text = serde_json::to_string(&list).unwrap();
    let again: Vec<Provider> = serde_json::from_str(&text).unwrap();
    assert_eq!(again, list);
    // The secret never shows in Debug output.
    let debug = format!("{:?}", list[1]);
    assert!(!debug.contains(f::HMAC_SECRET_B64), "{debug}");
}

#[test]
fn jwt_jwks_may_be_a_string() {
    let set = set_of(json!({"jwks": f::JWKS}));
    assert!(set.verify(f::GOOD_RS256, f::NOW).is_ok());
    let obj: Value = serde_json::from_str(f::JWKS).unwrap();
    let set = set_of(json!({ "jwks": obj }));
    assert!(set.verify(f::GOOD_EDDSA, f::NOW).is_ok());
}

#[test]
fn jwt_configuration_errors_point_at_the_field() {
    let base = || json!({"name": "idp", "issuer": f::ISSUER, "jwks": f::JWKS});
    let with = |k: &str, v: Value| {
        let mut p = base();
        p[k] = v;
        p
    };
    let secret = f::HMAC_SECRET_B64;
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (vec![with("name", json!(""))], "/providers/0/name"),
        (vec![with("issuer", json!(""))], "/providers/0/issuer"),
        (vec![base(), base()], "/providers/1/name"),
        (
            vec![base(), with("name", json!("other"))],
            "/providers/1/issuer",
        ),
        (
            vec![with("algorithms", json!([]))],
            "/providers/0/algorithms",
        ),
        (
            vec![with("algorithms", json!(["HS256"]))],
            "/providers/0/algorithms",
        ),
        (
            vec![with("hmacSecret", json!(secret))],
            "/providers/0/algorithms",
        ),
        (
            vec![with("hmacSecret", json!("c2hvcnQ="))],
            "/providers/0/hmacSecret",
        ),
        (
            vec![with("hmacSecret", json!("not base64!"))],
            "/providers/0/hmacSecret",
        ),
        (
            vec![with("leewaySeconds", json!(100_000))],
            "/providers/0/leewaySeconds",
        ),
        (
            vec![with("maxTokenBytes", json!(0))],
            "/providers/0/maxTokenBytes",
        ),
        (
            vec![with("maxTokenBytes", json!(70_000))],
            "/providers/0/maxTokenBytes",
        ),
        (vec![with("jwks", json!(5))], "/providers/0/jwks"),
        (vec![with("jwks", json!("{"))], "/providers/0/jwks"),
        (vec![with("jwks", json!({"keys": []}))], "/providers/0/jwks"),
        (
            vec![with(
                "jwks",
                json!({"keys": [{"kty": "RSA", "n": f::RSA_1024_N, "e": "AQAB"}]}),
            )],
            "/providers/0/jwks/keys/0",
        ),
        (
            vec![with("jwks", json!({"keys": [{"kty": "oct", "k": "AAAA"}]}))],
            "/providers/0/jwks/keys/0",
        ),
        (
            vec![with("jwksUri", json!("https://idp/jwks"))],
            "/providers/0/jwksCluster",
        ),
        (
            vec![with("jwksCluster", json!("idp"))],
            "/providers/0/jwksUri",
        ),
        (
            vec![json!({"name": "idp", "issuer": f::ISSUER})],
            "/providers/0",
        ),
        (
            vec![with("requiredClaims", json!({"roles": []}))],
            "/providers/0/requiredClaims/roles",
        ),
        (
            vec![with("forwardClaims", json!({"X-User": "sub"}))],
            "/providers/0/forwardClaims/X-User",
        ),
        (
            vec![with("forwardClaims", json!({"x-user": ""}))],
            "/providers/0/forwardClaims/x-user",
        ),
        (
            vec![with("forwardPayloadHeader", json!("bad header"))],
            "/providers/0/forwardPayloadHeader",
        ),
    ];
    for (list, pointer) in cases {
        let shown = serde_json::to_string(&list).unwrap();
        let (got, message) = config_error(list);
        assert_eq!(got, pointer, "{shown}: {message}");
        assert!(!message.is_empty());
    }
    // Unknown fields are refused by the configuration parser itself.
    let typo = json!({"name": "idp", "issuer": f::ISSUER, "audience": ["x"]});
    assert!(serde_json::from_value::<Provider>(typo).is_err());
    let bad_alg = json!({"name": "idp", "issuer": f::ISSUER, "algorithms": ["none"]});
    assert!(serde_json::from_value::<Provider>(bad_alg).is_err());
}

#[test]
fn jwt_enc_and_unsupported_keys_in_inline_jwks_are_ignored() {
    let set = set_of(json!({"jwks": {"keys": [
        {"kty": "RSA", "use": "enc", "n": f::RSA_N, "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed448", "x": "AAAA"},
        {"kty": "EC", "kid": "ec-p256", "crv": "P-256", "x": f::EC_P256_X, "y": f::EC_P256_Y},
    ]}}));
    assert_eq!(set.get("idp").unwrap().static_keys().len(), 1);
    assert!(set.verify(f::GOOD_ES256, f::NOW).is_ok());
}

#[test]
fn jwt_provider_dependent_reasons() {
    // No kid and no key usable with the algorithm.
    let rsa_only = json!({"keys": [{"kty": "RSA", "kid": "rsa-1", "n": f::RSA_N, "e": "AQAB"}]});
    let set = set_of(json!({ "jwks": rsa_only }));
    assert_eq!(reason(&set, f::GOOD_ES256_NO_KID), Reason::NoMatchingKey);
    assert!(set.verify(f::GOOD_RS256_NO_KID, f::NOW).is_ok());
    // Lifetime: good tokens live from NOW-60 to 2096.
    let set = set_of(json!({"maxLifetimeSeconds": 86_400}));
    assert_eq!(reason(&set, f::GOOD_RS256), Reason::LifetimeTooLong);
    let set = set_of(json!({"maxLifetimeSeconds": 5_000_000_000u64}));
    assert!(set.verify(f::GOOD_RS256, f::NOW).is_ok());
    // Expiration optional.
    let set = set_of(json!({"requireExpiration": false}));
    assert!(set.verify(f::MISSING_EXP, f::NOW).is_ok());
    assert_eq!(set.verify(f::MISSING_EXP, f::NOW).unwrap().exp, None);
    // Leeway.
    let set = set_of(json!({"leewaySeconds": 0}));
    assert_eq!(
        reason(&set, f::GOOD_LEEWAY_EXPIRED_30S_AGO),
        Reason::Expired
    );
    let set = set_of(json!({"leewaySeconds": 7200}));
    assert!(set.verify(f::EXPIRED, f::NOW).is_ok());
    // Audiences: none configured means any (well-typed) aud.
    let set = set_of(json!({}));
    assert!(set.verify(f::WRONG_AUDIENCE, f::NOW).is_ok());
    assert_eq!(reason(&set, f::AUD_AS_NUMBER), Reason::BadClaim);
    // Algorithm allow-list.
    let set = set_of(json!({"algorithms": ["ES256"]}));
    assert_eq!(reason(&set, f::GOOD_RS256), Reason::AlgNotAllowed);
    assert!(set.verify(f::GOOD_ES256, f::NOW).is_ok());
    // Per-provider size limit, under the default.
    let set = set_of(json!({"maxTokenBytes": 200}));
    assert_eq!(reason(&set, f::GOOD_RS256), Reason::TooLarge);
    // A larger limit admits larger tokens (HUGE_TOKEN is about 12.6 KB).
    let set = set_of(json!({"maxTokenBytes": 16_384}));
    assert!(set.verify(f::HUGE_TOKEN, f::NOW).is_ok());
    // Empty sets know no issuer.
    let empty = ProviderSet::from_config(&[]).unwrap();
    assert_eq!(reason(&empty, f::GOOD_RS256), Reason::UnknownIssuer);
}

#[test]
fn jwt_hmac_secret_length_per_algorithm() {
    // A 32-byte secret serves HS256 only (RFC 7518 §3.2).
    let secret = gatehouse_filter::jwt::b64::encode(&[9u8; 32]);
    let set = set_of(json!({
        "jwks": null, "algorithms": ["HS256", "HS384"], "hmacSecret": secret
    }));
    let key = set.get("idp").unwrap().static_keys().keys()[0].key_type();
    assert!(key.fits(Algorithm::Hs256));
    assert!(!key.fits(Algorithm::Hs384));
}

#[test]
fn jwt_fetched_keys_and_unknown_kid() {
    let mut set = set_of(json!({
        "jwks": null, "jwksUri": "https://idp.example.test/jwks", "jwksCluster": "idp"
    }));
    let p = set.get("idp").unwrap();
    assert_eq!(
        p.jwks_source(),
        Some(("https://idp.example.test/jwks", "idp"))
    );
    // No keys yet: unknown kid, reported for the provider (the glue refreshes on it).
    let e = set.verify(f::GOOD_RS256, f::NOW).unwrap_err();
    assert_eq!(
        (e.reason, e.provider.as_deref()),
        (Reason::UnknownKid, Some("idp"))
    );
    let fetched = set
        .get("idp")
        .unwrap()
        .parse_jwks(f::JWKS.as_bytes())
        .unwrap();
    assert!(set.set_remote_jwks("idp", fetched));
    assert!(!set.set_remote_jwks("nope", Jwks::default()));
    assert!(set.verify(f::GOOD_RS256, f::NOW).is_ok());
    assert!(set.verify(f::GOOD_EDDSA, f::NOW).is_ok());
    // Rotation: the new set replaces the old one.
    let only_ec = json!({"keys": [
        {"kty": "EC", "kid": "ec-p256", "crv": "P-256", "x": f::EC_P256_X, "y": f::EC_P256_Y}
    ]})
    .to_string();
    let rotated = Jwks::parse(only_ec.as_bytes(), &JwksLimits::default()).unwrap();
    assert!(set.set_remote_jwks("idp", rotated));
    assert_eq!(reason(&set, f::GOOD_RS256), Reason::UnknownKid);
    assert!(set.verify(f::GOOD_ES256, f::NOW).is_ok());
}

/// A verifier that records calls and answers as told.
struct Recording {
    answer: Option<bool>,
    calls: RefCell<Vec<(Algorithm, usize)>>,
}

impl SignatureVerifier for Recording {
    fn verify(&self, alg: Algorithm, key: &Jwk, _input: &[u8], _sig: &[u8]) -> Option<bool> {
        self.calls.borrow_mut().push((alg, key.spki_der().len()));
        self.answer
    }
}

#[test]
fn jwt_pluggable_verifier_and_fallback() {
    let list: Vec<Provider> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    let set = ProviderSet::from_config(&list).unwrap();
    // None: falls back to pure Rust, which decides.
    let fallback = Recording {
        answer: None,
        calls: RefCell::new(Vec::new()),
    };
    assert!(set.verify_with(f::GOOD_RS256, f::NOW, &fallback).is_ok());
    assert_eq!(
        set.verify_with(f::BAD_SIGNATURE, f::NOW, &fallback)
            .unwrap_err()
            .reason,
        Reason::BadSignature
    );
    // The host gets the SPKI DER (294 bytes for RSA 2048).
    assert_eq!(fallback.calls.borrow()[0], (Algorithm::Rs256, 294));
    // Some(false) is final.
    let deny = Recording {
        answer: Some(false),
        calls: RefCell::new(Vec::new()),
    };
    assert_eq!(
        set.verify_with(f::GOOD_ES256, f::NOW, &deny)
            .unwrap_err()
            .reason,
        Reason::BadSignature
    );
    // Some(true) is trusted: the core does not re-verify.
    let allow = Recording {
        answer: Some(true),
        calls: RefCell::new(Vec::new()),
    };
    assert!(set.verify_with(f::BAD_SIGNATURE, f::NOW, &allow).is_ok());
    // No signature work before the provider, algorithm, claims and key checks pass.
    for token in [
        f::WRONG_ISSUER,
        f::EXPIRED,
        f::ALG_NONE,
        f::CONFUSION_HS256_RSA_PEM,
        f::UNKNOWN_KID,
        f::ES256_WITH_P384_KEY,
        f::WRONG_AUDIENCE,
    ] {
        let calls_before = allow.calls.borrow().len();
        assert!(set.verify_with(token, f::NOW, &allow).is_err());
        assert_eq!(allow.calls.borrow().len(), calls_before);
    }
}

#[test]
fn jwt_key_tries_are_bounded() {
    // Ten RSA keys without kid; a token without kid signed by none of them is tried
    // against at most four.
    let keys: Vec<Value> = (0..10)
        .map(|_| json!({"kty": "RSA", "n": f::RSA_N, "e": "AQAB"}))
        .collect();
    let set = set_of(json!({"jwks": {"keys": keys}}));
    let rec = Recording {
        answer: Some(false),
        calls: RefCell::new(Vec::new()),
    };
    assert_eq!(
        set.verify_with(f::GOOD_RS256_NO_KID, f::NOW, &rec)
            .unwrap_err()
            .reason,
        Reason::BadSignature
    );
    assert_eq!(rec.calls.borrow().len(), 4);
}

#[test]
fn jwt_fifty_providers_cost_what_one_does() {
    let mut list = Vec::new();
    for i in 0..60 {
        list.push(provider(json!({
            "name": format!("p{i}"),
            "issuer": format!("https://issuer-{i}.example.test"),
        })));
    }
    list.push(provider(json!({})));
    let many = ProviderSet::from_config(&list).unwrap();
    let one = set_of(json!({}));
    // Unknown issuers are refused without any key or signature work: time both on a token
    // whose issuer nobody has, many times, and compare.
    // Best of five rounds each, so a busy machine does not make the test flaky.
    let time = |set: &ProviderSet| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..1000 {
                    assert_eq!(reason(set, f::WRONG_ISSUER), Reason::UnknownIssuer);
                }
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let (t_one, t_many) = (time(&one), time(&many));
    assert!(
        t_many < t_one * 3,
        "61 providers: {t_many:?}, one provider: {t_one:?}"
    );
    assert!(many.verify(f::GOOD_RS256, f::NOW).is_ok());
    assert_eq!(many.verify(f::GOOD_RS256, f::NOW).unwrap().provider, "idp");
}

#[test]
fn jwt_forwarded_headers() {
    let set = set_of(json!({
        "forwardClaims": {"x-user": "sub", "x-groups": "groups", "x-roles": "/realm_access/roles",
                          "x-missing": "nope"},
        "forwardPayloadHeader": "x-jwt-payload"
    }));
    let p = set.get("idp").unwrap();
    let v = set.verify(f::GOOD_RS256, f::NOW).unwrap();
    let headers = p.forward_headers(&v);
    let get = |h: &str| {
        headers
            .iter()
            .find(|(k, _)| k == h)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("x-user"), Some("user-1"));
    assert_eq!(get("x-groups"), Some("eng,ops"));
    assert_eq!(get("x-roles"), Some("user"));
    assert_eq!(get("x-missing"), None);
    let payload =
        gatehouse_filter::jwt::b64::decode(get("x-jwt-payload").unwrap().as_bytes()).unwrap();
    let back: serde_json::Map<String, Value> = serde_json::from_slice(&payload).unwrap();
    assert_eq!(back, v.claims);
    let mut names: Vec<&str> = set.forwarded_header_names().collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "x-groups",
            "x-jwt-payload",
            "x-missing",
            "x-roles",
            "x-user"
        ]
    );
}
