//! Tests of the auth phase: every accept and reject path, sources, forwarding, the cache.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::*;
use crate::compiled::CompiledConfig;
use crate::config::Provider;
use crate::jwt::fixtures as f;
use crate::jwt::{b64, Reason};
use crate::testing::MockHost;

const REALM: &str = "api";

/// idp (RS*/ES*/EdDSA, Bearer, forwards claims), hmac (HS*, cookie → query → header,
/// token removed), mixed; `patch` is merged into each provider by name.
fn providers_with(patch: Value) -> ProviderSet {
    let mut list: Vec<Value> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    list[0]["forwardClaims"] = json!({"x-user": "sub", "x-groups": "groups"});
    list[0]["forwardPayloadHeader"] = json!("x-jwt-payload");
    list[1]["tokenSources"] = json!([
        {"cookie": "session"},
        {"query": "access_token"},
        {"header": "x-token"}
    ]);
    list[1]["forwardToken"] = json!(false);
    list[1]["forwardClaims"] = json!({"x-user": "sub"});
    for p in &mut list {
        let name = p["name"].as_str().unwrap().to_owned();
        if let Some(extra) = patch.get(&name).and_then(Value::as_object) {
            for (k, v) in extra {
                p[k] = v.clone();
            }
        }
    }
    let list: Vec<Provider> = serde_json::from_value(Value::Array(list)).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

fn providers() -> ProviderSet {
    providers_with(json!({}))
}

fn policy(alternatives: Value) -> AuthPolicy {
    serde_json::from_value(json!({ "anyOf": alternatives })).unwrap()
}

fn need(provider: &str, scopes: &[&str]) -> AuthPolicy {
    policy(json!([{ "allOf": [{ "provider": provider, "scopes": scopes }] }]))
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn bearer(token: &str) -> Vec<(String, String)> {
    headers(&[("authorization", &format!("Bearer {token}"))])
}

struct Harness {
    providers: ProviderSet,
    state: AuthState,
    host: MockHost,
    now: u64,
}

impl Harness {
    fn new(providers: ProviderSet) -> Self {
        Self::with_settings(providers, AuthSettings::default())
    }

    fn with_settings(providers: ProviderSet, settings: AuthSettings) -> Self {
        let host = MockHost::new();
        let state = AuthState::new(&providers, settings, &host, 7);
        Self {
            providers,
            state,
            host,
            now: f::NOW,
        }
    }

    fn run(
        &mut self,
        policy: Option<&AuthPolicy>,
        headers: &[(String, String)],
        path: &str,
    ) -> AuthDecision {
        let request = AuthRequest {
            policy,
            headers,
            path,
            now_ms: self.now * 1000,
            realm: Some(REALM),
            request_id: "rid-1",
            request_id_header: "x-request-id",
        };
        authenticate(&self.providers, &mut self.state, &self.host, &request)
    }

    fn counter(&self, provider: &str, result: &str) -> i64 {
        self.host.counter(&tagged_name(
            "gatehouse_auth_total",
            &[("provider", provider), ("result", result)],
        ))
    }

    fn cache_counter(&self, result: &str) -> i64 {
        self.host.counter(&tagged_name(
            "gatehouse_auth_token_cache_total",
            &[("result", result)],
        ))
    }
}

fn allowed(d: &AuthDecision) -> (&[(String, String)], &[String]) {
    match d {
        AuthDecision::Allowed { forward, strip, .. } => (forward, strip),
        AuthDecision::Rejected { reply, .. } => panic!(
            "rejected {}: {:?} {}",
            reply.status,
            header(reply, "www-authenticate"),
            String::from_utf8_lossy(&reply.body)
        ),
    }
}

fn rejected(d: &AuthDecision) -> &LocalReply {
    match d {
        AuthDecision::Rejected { reply, .. } => reply,
        AuthDecision::Allowed { .. } => panic!("allowed, expected a rejection"),
    }
}

fn header<'r>(reply: &'r LocalReply, name: &str) -> Option<&'r str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn forwarded<'d>(forward: &'d [(String, String)], name: &str) -> Option<&'d str> {
    forward
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An HS256 token of the `hmac` provider with these claims merged over the defaults.
fn mint(claims: Value) -> String {
    let mut payload = json!({
        "iss": f::HMAC_ISSUER,
        "aud": f::AUDIENCE,
        "sub": "user-1",
        "iat": f::NOW - 60,
        "exp": 4_000_000_000u64,
        "scope": "read write",
    });
    for (k, v) in claims.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64::encode(&serde_json::to_vec(&payload).unwrap());
    let input = format!("{header}.{payload}");
    let secret = b64::decode_config(f::HMAC_SECRET_B64).unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&secret).unwrap();
    mac.update(input.as_bytes());
    let sig = mac.finalize().into_bytes();
    format!("{input}.{}", b64::encode(&sig))
}

const STRIPPED: [&str; 3] = ["x-user", "x-groups", "x-jwt-payload"];

#[test]
fn auth_absent_or_public_policy_reads_no_token_and_strips_forwarded_headers() {
    let mut h = Harness::new(providers());
    let spoofed = headers(&[
        ("x-user", "admin"),
        ("x-jwt-payload", "e30"),
        ("authorization", "Bearer garbage"),
    ]);
    let public = policy(json!([]));
    let empty_alternative = policy(json!([{ "allOf": [] }, { "allOf": [{ "provider": "idp" }] }]));
    for p in [None, Some(&public), Some(&empty_alternative)] {
        let d = h.run(p, &spoofed, "/pets");
        let (forward, strip) = allowed(&d);
        assert!(forward.is_empty());
        for name in STRIPPED {
            assert!(strip.iter().any(|s| s == name), "{name} not stripped");
        }
    }
    assert_eq!(h.host.signature_calls.get(), 0);
}

#[test]
fn auth_missing_token_is_401_with_a_bare_challenge() {
    let mut h = Harness::new(providers());
    let p = need("idp", &[]);
    for hs in [
        headers(&[]),
        headers(&[("authorization", "Basic dXNlcjpwYXNz")]),
    ] {
        let d = h.run(Some(&p), &hs, "/pets?x=1");
        let reply = rejected(&d);
        assert_eq!(reply.status, 401);
        assert_eq!(
            header(reply, "www-authenticate"),
            Some(r#"Bearer realm="api""#)
        );
        assert_eq!(
            header(reply, "content-type"),
            Some("application/problem+json")
        );
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["status"], 401);
        assert_eq!(body["instance"], "/pets");
        assert_eq!(body["requestId"], "rid-1");
        for name in STRIPPED {
            assert!(d.strip().iter().any(|s| s == name));
        }
    }
    assert_eq!(h.counter("idp", "missing"), 2);
    // The scheme without a token is a malformed token, not a missing one.
    let d = h.run(Some(&p), &headers(&[("authorization", "Bearer ")]), "/");
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("malformed"));
}

#[test]
fn auth_every_fixture_token_through_authenticate() {
    let mut h = Harness::new(providers());
    // Any provider will do: the table's providers are idp, hmac and mixed.
    let p = policy(json!([
        { "allOf": [{ "provider": "idp" }] },
        { "allOf": [{ "provider": "mixed" }] },
        { "allOf": [{ "provider": "hmac" }] }
    ]));
    let mut checked = 0;
    for fx in f::TOKENS {
        // The hmac provider reads cookies, query and x-token; idp and mixed read Bearer.
        let hs = if fx.provider == "hmac" {
            headers(&[("x-token", fx.token)])
        } else {
            bearer(fx.token)
        };
        let d = h.run(Some(&p), &hs, "/");
        if fx.expect == "ok" {
            let (forward, _) = allowed(&d);
            if fx.provider == "idp" {
                assert_eq!(forwarded(forward, "x-user"), Some("user-1"), "{}", fx.name);
            }
        } else {
            let reply = match &d {
                AuthDecision::Rejected { reply, .. } => reply,
                AuthDecision::Allowed { .. } => panic!("{} allowed", fx.name),
            };
            assert_eq!(reply.status, 401, "{}", fx.name);
            let challenge = header(reply, "www-authenticate").unwrap();
            let reason = Reason::ALL
                .into_iter()
                .find(|r| r.label() == fx.expect)
                .unwrap();
            // Header values cannot hold a newline or surrounding spaces: those tokens
            // arrive trimmed, or not at all, and are refused on another ground.
            if !(fx.token.ends_with('\n') || fx.token.starts_with(' ')) {
                assert_eq!(
                    challenge,
                    JwtError::new(reason).www_authenticate(Some(REALM)),
                    "{}",
                    fx.name
                );
            } else {
                assert!(
                    challenge.contains(r#"error="invalid_token""#),
                    "{}",
                    fx.name
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 100);
    assert!(h.counter("idp", "expired") >= 1);
    assert!(h.counter("idp", "bad_signature") >= 1);
    assert!(h.counter("idp", "unknown_issuer") >= 1);
    assert!(h.counter("idp", "allowed") >= 1);
}

#[test]
fn auth_reject_reasons_map_to_rfc6750_challenges() {
    let mut h = Harness::new(providers());
    let p = need("idp", &[]);
    for (token, label, description) in [
        (f::EXPIRED, "expired", "Jwt is expired"),
        (f::BAD_SIGNATURE, "bad_signature", "Jwt verification fails"),
        (
            f::ALG_NONE,
            "alg_not_allowed",
            "Jwt algorithm is not allowed",
        ),
        (
            f::WRONG_AUDIENCE,
            "bad_audience",
            "Audiences in Jwt are not allowed",
        ),
        (f::UNKNOWN_KID, "unknown_kid", "Jwt verification fails"),
        (f::HUGE_TOKEN, "too_large", "Jwt is too large"),
        (f::TWO_SEGMENTS, "malformed", "Jwt is malformed"),
    ] {
        let d = h.run(Some(&p), &bearer(token), "/");
        let reply = rejected(&d);
        assert_eq!(reply.status, 401, "{label}");
        assert_eq!(
            header(reply, "www-authenticate").unwrap(),
            format!(
                r#"Bearer realm="api", error="invalid_token", error_description="{description}""#
            ),
            "{label}"
        );
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["detail"], description);
        // Counted under the provider whose token source carried the token.
        assert_eq!(h.counter("idp", label), 1, "{label}");
    }
    // A valid token of a provider the operation does not accept.
    let d = h.run(Some(&p), &headers(&[("x-token", f::GOOD_HS256)]), "/");
    let reply = rejected(&d);
    // x-token is only read for hmac, which this policy does not name: no token at all.
    assert_eq!(
        header(reply, "www-authenticate"),
        Some(r#"Bearer realm="api""#)
    );
    let both_bearer = providers_with(json!({"hmac": {"tokenSources": null}}));
    let mut h = Harness::new(both_bearer);
    let d = h.run(Some(&p), &bearer(f::GOOD_HS256), "/");
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("Jwt issuer is not configured"));
    assert_eq!(h.counter("hmac", "unknown_issuer"), 1);
}

#[test]
fn auth_insufficient_scope_is_403() {
    let mut h = Harness::new(providers());
    let p = need("idp", &["read", "admin"]);
    let d = h.run(Some(&p), &bearer(f::GOOD_RS256), "/");
    let reply = rejected(&d);
    assert_eq!(reply.status, 403);
    assert_eq!(
        header(reply, "www-authenticate").unwrap(),
        r#"Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope or claims", scope="read admin""#
    );
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["status"], 403);
    assert!(body["detail"].as_str().unwrap().contains("read admin"));
    assert_eq!(h.counter("idp", "forbidden"), 1);
    // The scopes it has are enough.
    let d = h.run(
        Some(&need("idp", &["read", "write"])),
        &bearer(f::GOOD_RS256),
        "/",
    );
    allowed(&d);
}

#[test]
fn auth_any_of_alternatives() {
    let mut h = Harness::new(providers());
    let p = policy(json!([
        { "allOf": [{ "provider": "idp", "scopes": ["admin"] }] },
        { "allOf": [{ "provider": "hmac", "scopes": ["read"] }] }
    ]));
    // The second alternative holds.
    let cookie = format!("theme=dark; session={}", f::GOOD_HS256);
    let d = h.run(Some(&p), &headers(&[("cookie", &cookie)]), "/");
    allowed(&d);
    // Only an idp token, without admin: the first alternative had its token → 403.
    let d = h.run(Some(&p), &bearer(f::GOOD_RS256), "/");
    assert_eq!(rejected(&d).status, 403);
    // Both tokens: allowed through hmac.
    let mut both = bearer(f::GOOD_RS256);
    both.push(("cookie".into(), cookie.clone()));
    let d = h.run(Some(&p), &both, "/");
    allowed(&d);
    // AND: both required.
    let and = policy(json!([{ "allOf": [{ "provider": "idp" }, { "provider": "hmac" }] }]));
    let d = h.run(Some(&and), &bearer(f::GOOD_RS256), "/");
    assert_eq!(rejected(&d).status, 401);
    let d = h.run(Some(&and), &both, "/");
    let (forward, _) = allowed(&d);
    // Both forward x-user: the first verified token wins.
    assert_eq!(forwarded(forward, "x-user"), Some("user-1"));
    // A bad idp token next to a good hmac one: the other alternative still admits.
    let mut mixed = bearer(f::EXPIRED);
    mixed.push(("cookie".into(), cookie));
    let d = h.run(Some(&p), &mixed, "/");
    allowed(&d);
}

#[test]
fn auth_required_claims() {
    let mut h = Harness::new(providers_with(
        json!({"idp": {"requiredClaims": {"groups": "admins"}}}),
    ));
    let d = h.run(Some(&need("idp", &[])), &bearer(f::GOOD_RS256), "/");
    let reply = rejected(&d);
    assert_eq!(reply.status, 403);
    assert!(header(reply, "www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    let mut h = Harness::new(providers_with(
        json!({"idp": {"requiredClaims": {"groups": "eng", "/realm_access/roles": ["user", "x"]}}}),
    ));
    let d = h.run(Some(&need("idp", &[])), &bearer(f::GOOD_RS256), "/");
    allowed(&d);
}

#[test]
fn auth_forwards_claims_and_strips_spoofed_copies() {
    let mut h = Harness::new(providers());
    let mut hs = bearer(f::GOOD_RS256);
    hs.extend(headers(&[
        ("x-user", "admin"),
        ("X-Groups", "root"),
        ("x-jwt-payload", "eyJzdWIiOiJhZG1pbiJ9"),
    ]));
    let d = h.run(Some(&need("idp", &["read"])), &hs, "/");
    let (forward, strip) = allowed(&d);
    for name in STRIPPED {
        assert!(strip.iter().any(|s| s == name), "{name}");
    }
    assert_eq!(forwarded(forward, "x-user"), Some("user-1"));
    assert_eq!(forwarded(forward, "x-groups"), Some("eng,ops"));
    let payload = b64::decode(forwarded(forward, "x-jwt-payload").unwrap().as_bytes()).unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["sub"], "user-1");
    assert_eq!(payload["iss"], f::ISSUER);
    // idp keeps its token upstream (forwardToken defaults to true).
    assert!(!strip.iter().any(|s| s == "authorization"));
    assert!(forwarded(forward, "cookie").is_none());
}

#[test]
fn auth_token_removal_from_header_cookie_and_query() {
    let mut h = Harness::new(providers());
    let p = need("hmac", &[]);
    // Header.
    let d = h.run(Some(&p), &headers(&[("x-token", f::GOOD_HS256)]), "/a");
    let (forward, strip) = allowed(&d);
    assert!(strip.iter().any(|s| s == "x-token"));
    assert_eq!(forwarded(forward, "x-user"), Some("user-1"));
    // Cookie, among others, over two cookie headers.
    let session = format!("a=1; session={}", f::GOOD_HS256);
    let d = h.run(
        Some(&p),
        &headers(&[("cookie", &session), ("cookie", "b=2")]),
        "/a",
    );
    let (forward, strip) = allowed(&d);
    assert_eq!(forwarded(forward, "cookie"), Some("a=1; b=2"));
    assert!(!strip.iter().any(|s| s == "cookie"));
    // The only cookie: the header goes.
    let only = format!("session={}", f::GOOD_HS256);
    let d = h.run(Some(&p), &headers(&[("cookie", &only)]), "/a");
    let (forward, strip) = allowed(&d);
    assert!(strip.iter().any(|s| s == "cookie"));
    assert!(forwarded(forward, "cookie").is_none());
    // Query, first, middle and only parameter.
    for (path, want) in [
        (format!("/a?access_token={}&b=2", f::GOOD_HS256), "/a?b=2"),
        (
            format!("/a?x=1&access_token={}&b=2", f::GOOD_HS256),
            "/a?x=1&b=2",
        ),
        (format!("/a?access_token={}", f::GOOD_HS256), "/a"),
    ] {
        let d = h.run(Some(&p), &[], &path);
        let (forward, _) = allowed(&d);
        assert_eq!(forwarded(forward, ":path"), Some(want));
    }
}

#[test]
fn auth_sources_first_match_wins_in_configured_order() {
    let mut h = Harness::new(providers());
    let p = need("hmac", &[]);
    // Cookie before query: a good cookie wins over a bad query parameter...
    let cookie = format!("session={}", f::GOOD_HS256);
    let d = h.run(
        Some(&p),
        &headers(&[("cookie", &cookie)]),
        "/?access_token=garbage",
    );
    allowed(&d);
    // ...and a bad cookie is not rescued by a good query parameter.
    let path = format!("/?access_token={}", f::GOOD_HS256);
    let d = h.run(Some(&p), &headers(&[("cookie", "session=garbage")]), &path);
    assert_eq!(rejected(&d).status, 401);
    // Query before header.
    let d = h.run(Some(&p), &headers(&[("x-token", "garbage")]), &path);
    allowed(&d);
    // Percent-encoded query value.
    let encoded = f::GOOD_HS256.replace('.', "%2E");
    let d = h.run(Some(&p), &[], &format!("/?access_token={encoded}"));
    allowed(&d);
    // A parameter given twice is refused (which copy would the upstream use?).
    let twice = format!("/?access_token={0}&access_token={0}", f::GOOD_HS256);
    let d = h.run(Some(&p), &[], &twice);
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("malformed"));
    // So is a repeated token header.
    let d = h.run(
        Some(&need("idp", &[])),
        &headers(&[
            ("authorization", &format!("Bearer {}", f::GOOD_RS256)),
            ("authorization", &format!("Bearer {}", f::GOOD_RS256)),
        ]),
        "/",
    );
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("malformed"));
    // Scheme names are case-insensitive.
    let d = h.run(
        Some(&need("idp", &[])),
        &headers(&[("Authorization", &format!("bearer {}", f::GOOD_RS256))]),
        "/",
    );
    allowed(&d);
    // An oversized cookie is refused before any parsing.
    let big = format!("session={}", "a".repeat(9000));
    let d = h.run(Some(&p), &headers(&[("cookie", &big)]), "/");
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("too large"));
}

#[test]
fn auth_host_verifier_is_asked_first() {
    let mut h = Harness::with_settings(
        providers(),
        AuthSettings {
            cache_slots: 0,
            ..AuthSettings::default()
        },
    );
    let p = need("idp", &[]);
    // The host decides when it answers: even a forged signature passes a lying host,
    // which shows the answer is used (and why the host must be trusted).
    h.host.signature_answer.set(Some(true));
    allowed(&h.run(Some(&p), &bearer(f::BAD_SIGNATURE), "/"));
    h.host.signature_answer.set(Some(false));
    assert_eq!(
        rejected(&h.run(Some(&p), &bearer(f::GOOD_RS256), "/")).status,
        401
    );
    assert_eq!(
        rejected(&h.run(Some(&p), &bearer(f::GOOD_ES256), "/")).status,
        401
    );
    // EdDSA and PS* are not offered to the host.
    let calls = h.host.signature_calls.get();
    allowed(&h.run(Some(&p), &bearer(f::GOOD_EDDSA), "/"));
    allowed(&h.run(Some(&p), &bearer(f::GOOD_PS256), "/"));
    assert_eq!(h.host.signature_calls.get(), calls);
    // No answer: pure Rust decides.
    h.host.signature_answer.set(None);
    allowed(&h.run(Some(&p), &bearer(f::GOOD_RS256), "/"));
    assert_eq!(
        rejected(&h.run(Some(&p), &bearer(f::BAD_SIGNATURE), "/")).status,
        401
    );
    // What the host is given: the hash name and, for ECDSA, a DER signature.
    h.host.signature_answer.set(None);
    for (token, hash, der) in [
        (f::GOOD_RS256, "sha256", false),
        (f::GOOD_RS512, "sha512", false),
        (f::GOOD_ES256, "sha256", true),
        (f::GOOD_ES384, "sha384", true),
    ] {
        allowed(&h.run(Some(&p), &bearer(token), "/"));
        let (name, sig) = h.host.last_signature.borrow().clone().unwrap();
        assert_eq!(name, hash);
        if der {
            assert_eq!(sig[0], 0x30);
        } else {
            assert_eq!(sig.len(), 256);
        }
    }
    // All-zero ECDSA signatures never reach the host.
    let calls = h.host.signature_calls.get();
    h.host.signature_answer.set(Some(true));
    assert_eq!(
        rejected(&h.run(Some(&p), &bearer(f::ES256_ZERO_SIGNATURE), "/")).status,
        401
    );
    assert_eq!(h.host.signature_calls.get(), calls);
}

#[test]
fn auth_cache_hit_skips_signature_verification() {
    let mut h = Harness::new(providers());
    let p = need("idp", &["read"]);
    allowed(&h.run(Some(&p), &bearer(f::GOOD_RS256), "/"));
    assert_eq!(h.host.signature_calls.get(), 1);
    assert_eq!(h.cache_counter("miss"), 1);
    for _ in 0..5 {
        let d = h.run(Some(&p), &bearer(f::GOOD_RS256), "/");
        let (forward, _) = allowed(&d);
        assert_eq!(forwarded(forward, "x-groups"), Some("eng,ops"));
    }
    assert_eq!(h.host.signature_calls.get(), 1);
    assert_eq!(h.cache_counter("hit"), 5);
    // Authorization still runs on a hit.
    assert_eq!(
        rejected(&h.run(Some(&need("idp", &["admin"])), &bearer(f::GOOD_RS256), "/")).status,
        403
    );
    // Another VM (same shared data) hits too.
    let other = h.host.sibling();
    let mut state = AuthState::new(&h.providers, AuthSettings::default(), &other, 8);
    let headers = bearer(f::GOOD_RS256);
    let request = AuthRequest {
        policy: Some(&p),
        headers: &headers,
        path: "/",
        now_ms: f::NOW * 1000,
        realm: None,
        request_id: "r",
        request_id_header: "x-request-id",
    };
    allowed(&authenticate(&h.providers, &mut state, &other, &request));
    assert_eq!(other.signature_calls.get(), 0);
    // Entries from another provider configuration are not trusted.
    let changed = providers_with(json!({"idp": {"leewaySeconds": 5}}));
    let mut state = AuthState::new(&changed, AuthSettings::default(), &other, 9);
    allowed(&authenticate(&changed, &mut state, &other, &request));
    assert_eq!(other.signature_calls.get(), 1);
}

#[test]
fn auth_cache_never_serves_past_exp_or_max_age() {
    let mut h = Harness::new(providers_with(
        json!({"hmac": {"tokenCacheMaxAgeSeconds": 50}}),
    ));
    let p = need("hmac", &[]);
    let token = mint(json!({"exp": f::NOW + 100}));
    let hs = headers(&[("x-token", &token)]);
    allowed(&h.run(Some(&p), &hs, "/"));
    h.now = f::NOW + 49;
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("hit"), 1);
    // Past the max age: verified again (and cached again).
    h.now = f::NOW + 60;
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("hit"), 1);
    assert_eq!(h.cache_counter("miss"), 2);
    h.now = f::NOW + 99;
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("hit"), 2);
    // At exp: no hit (the leeway still admits it after a full verification, uncached).
    h.now = f::NOW + 100;
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("hit"), 2);
    assert_eq!(h.cache_counter("skip"), 1);
    // Past exp + leeway: refused, although an entry for it sits in the cache.
    h.now = f::NOW + 161;
    let reply = rejected(&h.run(Some(&p), &hs, "/")).clone();
    assert!(header(&reply, "www-authenticate")
        .unwrap()
        .contains("expired"));
    assert_eq!(h.cache_counter("hit"), 2);
    // tokenCacheMaxAgeSeconds 0: never cached.
    let mut h = Harness::new(providers_with(
        json!({"hmac": {"tokenCacheMaxAgeSeconds": 0}}),
    ));
    allowed(&h.run(Some(&p), &hs, "/"));
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("hit"), 0);
    assert!(h.host.shared_keys(CACHE_KEY_PREFIX).is_empty());
}

#[test]
fn auth_cache_is_bounded_and_checks_the_full_digest() {
    let settings = AuthSettings {
        cache_slots: 8,
        cache_max_claims_bytes: 1024,
    };
    let mut h = Harness::with_settings(providers(), settings);
    let p = need("hmac", &[]);
    for i in 0..60 {
        let token = mint(json!({"sub": format!("user-{i}")}));
        let d = h.run(Some(&p), &headers(&[("x-token", &token)]), "/");
        let (forward, _) = allowed(&d);
        assert_eq!(
            forwarded(forward, "x-user"),
            Some(format!("user-{i}").as_str())
        );
    }
    let keys = h.host.shared_keys(CACHE_KEY_PREFIX);
    assert!(!keys.is_empty() && keys.len() <= 8, "{keys:?}");
    for key in &keys {
        assert!(h.host.shared_value(key).unwrap().len() < 1024 + 200);
    }
    // One slot: two tokens evict each other and never answer for each other.
    let mut h = Harness::with_settings(
        providers(),
        AuthSettings {
            cache_slots: 1,
            ..AuthSettings::default()
        },
    );
    let a = mint(json!({"sub": "alice"}));
    let b = mint(json!({"sub": "bob"}));
    for (token, sub) in [(&a, "alice"), (&b, "bob"), (&a, "alice"), (&a, "alice")] {
        let d = h.run(Some(&p), &headers(&[("x-token", token)]), "/");
        assert_eq!(forwarded(allowed(&d).0, "x-user"), Some(sub));
    }
    assert_eq!(h.cache_counter("hit"), 1);
    assert_eq!(h.host.shared_keys(CACHE_KEY_PREFIX).len(), 1);
    // Claims over the size cap are not cached.
    let big = mint(json!({"blob": "x".repeat(3000)}));
    let hs = headers(&[("x-token", &big)]);
    allowed(&h.run(Some(&p), &hs, "/"));
    allowed(&h.run(Some(&p), &hs, "/"));
    assert_eq!(h.cache_counter("skip"), 2);
    // A corrupted entry is a miss, not an error.
    let key = cache_key(&token_digest(&a), 1);
    h.host.set_shared(&key, b"G1garbage", None).unwrap();
    allowed(&h.run(Some(&p), &headers(&[("x-token", &a)]), "/"));
}

#[test]
fn auth_unknown_kid_asks_for_a_jwks_refresh_rate_limited() {
    let set = providers_with(json!({"idp": {
        "jwksUri": "https://idp.example.test/jwks.json",
        "jwksCluster": "idp"
    }}));
    let mut h = Harness::new(set);
    let p = need("idp", &[]);
    let lease = crate::jwks_sync::lease_key("idp");
    assert!(h.host.shared_value(&lease).is_none());
    let d = h.run(Some(&p), &bearer(f::UNKNOWN_KID), "/");
    assert!(header(rejected(&d), "www-authenticate")
        .unwrap()
        .contains("verification fails"));
    let schedule =
        crate::jwks_sync::Schedule::decode(&h.host.shared_value(&lease).unwrap()).unwrap();
    assert_eq!(schedule.last_forced, f::NOW * 1000);
    assert!(schedule.next_due <= f::NOW * 1000);
    // A flood of unknown kids costs no more shared-data writes for 30 s.
    let writes = h.host.shared_writes.get();
    for s in 1..30 {
        h.now = f::NOW + s;
        h.run(Some(&p), &bearer(f::UNKNOWN_KID), "/");
    }
    assert_eq!(h.host.shared_writes.get(), writes);
    h.now = f::NOW + 31;
    h.run(Some(&p), &bearer(f::UNKNOWN_KID), "/");
    assert_eq!(h.host.shared_writes.get(), writes + 1);
    // Tokens with known kids still verify against the inline keys meanwhile.
    allowed(&h.run(Some(&p), &bearer(f::GOOD_RS256), "/"));
}

#[test]
fn auth_policy_naming_an_unknown_provider_fails_closed() {
    let mut h = Harness::new(providers());
    let d = h.run(Some(&need("ghost", &[])), &bearer(f::GOOD_RS256), "/");
    let reply = rejected(&d);
    assert_eq!(reply.status, 401);
    assert_eq!(h.counter("-", "missing"), 1);
    // Another alternative still admits.
    let p = policy(json!([
        { "allOf": [{ "provider": "ghost" }] },
        { "allOf": [{ "provider": "idp" }] }
    ]));
    allowed(&h.run(Some(&p), &bearer(f::GOOD_RS256), "/"));
    assert_eq!(h.counter("idp", "allowed"), 1);
}

#[test]
fn auth_configuration_is_compiled_with_pointers() {
    let bad_jwks = r#"{"version":1,"providers":[{"name":"idp","issuer":"https://i",
        "jwks":{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}}]}"#;
    let e = CompiledConfig::from_json(bad_jwks.as_bytes()).unwrap_err();
    assert!(e.pointer.starts_with("/providers/0/jwks"), "{e}");
    let good = format!(r#"{{"version":1,"providers":{}}}"#, f::PROVIDERS_JSON);
    let compiled = CompiledConfig::from_json(good.as_bytes()).unwrap();
    assert_eq!(compiled.providers.len(), 3);

    let refused = |extra: Value| {
        let mut list: Vec<Value> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
        for (k, v) in extra.as_object().unwrap() {
            list[0][k] = v.clone();
        }
        let list: Vec<Provider> = serde_json::from_value(Value::Array(list)).unwrap();
        ProviderSet::from_config(&list).unwrap_err().pointer
    };
    assert_eq!(
        refused(json!({"tokenSources": []})),
        "/providers/0/tokenSources"
    );
    assert_eq!(
        refused(json!({"tokenSources": [{"header": "a", "cookie": "b"}]})),
        "/providers/0/tokenSources/0"
    );
    assert_eq!(
        refused(json!({"tokenSources": [{"cookie": "s", "prefix": "x"}]})),
        "/providers/0/tokenSources/0"
    );
    assert_eq!(
        refused(json!({"tokenSources": [{"header": "Authorization"}]})),
        "/providers/0/tokenSources/0/header"
    );
    assert_eq!(
        refused(json!({"tokenSources": [{"query": "a&b"}]})),
        "/providers/0/tokenSources/0/query"
    );
    assert_eq!(
        refused(json!({"tokenSources": [{"header": "x", "prefix": ""}]})),
        "/providers/0/tokenSources/0/prefix"
    );
    assert_eq!(
        refused(json!({"jwksUri": "ftp://x/y", "jwksCluster": "c"})),
        "/providers/0/jwksUri"
    );
    assert_eq!(
        refused(json!({"jwksUri": "https://x/y", "jwksCluster": "c", "jwksRefreshSeconds": 5})),
        "/providers/0/jwksRefreshSeconds"
    );
    assert_eq!(
        refused(
            json!({"jwksUri": "https://x/y", "jwksCluster": "c", "jwksHeaders": {"Host": "x"}})
        ),
        "/providers/0/jwksHeaders/Host"
    );
    assert_eq!(
        refused(json!({"jwksHeaders": {"x-key": "v"}})),
        "/providers/0/jwksUri"
    );
    assert_eq!(
        refused(json!({"tokenCacheMaxAgeSeconds": 100000})),
        "/providers/0/tokenCacheMaxAgeSeconds"
    );
    let e = serde_json::from_value::<Provider>(
        json!({"name": "a", "issuer": "b", "tokenSources": [{"hedaer": "x"}]}),
    );
    assert!(e.is_err());
}

/// Native timings: `cargo test -p gatehouse-filter --release --lib auth_bench -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run by hand in release"]
fn auth_bench() {
    let p = need("idp", &["read"]);
    for (name, token) in [("RS256", f::GOOD_RS256), ("ES256", f::GOOD_ES256)] {
        for (label, slots) in [("no cache", 0), ("cache hit", 1024)] {
            let mut h = Harness::with_settings(
                providers(),
                AuthSettings {
                    cache_slots: slots,
                    ..AuthSettings::default()
                },
            );
            let hs = bearer(token);
            allowed(&h.run(Some(&p), &hs, "/"));
            let rounds = 200;
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                allowed(&h.run(Some(&p), &hs, "/"));
            }
            let per = start.elapsed() / rounds;
            println!("authenticate {name} {label}: {per:?}");
        }
    }
}
