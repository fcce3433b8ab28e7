//! Tests of the JWKS sync state machine under a mock host.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};

use super::*;
use crate::config::Provider;
use crate::jwt::fixtures as f;
use crate::jwt::{JwtError, Reason, RustCryptoVerifier};
use crate::testing::MockHost;

const URI: &str = "https://idp.example.test/keys?v=1";
const T0: u64 = f::NOW * 1000;

/// One provider whose keys come only from its JWKS endpoint, plus one with inline keys.
fn providers_with(extra: Value) -> ProviderSet {
    let mut remote = json!({
        "name": "idp",
        "issuer": f::ISSUER,
        "audiences": [f::AUDIENCE],
        "jwksUri": URI,
        "jwksCluster": "outbound|443||idp.example.test",
        "jwksHeaders": {"x-api-key": "k1"}
    });
    for (k, v) in extra.as_object().unwrap() {
        remote[k] = v.clone();
    }
    let list: Vec<Value> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    let list = vec![remote, list[1].clone()];
    let list: Vec<Provider> = serde_json::from_value(Value::Array(list)).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

fn providers() -> ProviderSet {
    providers_with(json!({}))
}

fn verify(set: &ProviderSet, sync: &JwksSync, token: &str) -> Result<(), JwtError> {
    set.verify_with_fetched(token, f::NOW, &RustCryptoVerifier, sync.keys())
        .map(|_| ())
}

fn schedule(host: &MockHost) -> Schedule {
    Schedule::decode(&host.shared_value(&lease_key("idp")).unwrap()).unwrap()
}

fn last_call(host: &MockHost) -> u32 {
    host.http_calls.borrow().last().unwrap().token
}

fn calls(host: &MockHost) -> usize {
    host.http_calls.borrow().len()
}

#[test]
fn jwks_initial_fetch_installs_and_shares_keys() {
    let set = providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    assert_eq!(
        verify(&set, &sync, f::GOOD_RS256).unwrap_err().reason,
        Reason::UnknownKid
    );
    sync.on_tick(&set, T0, &host);
    {
        let recorded = host.http_calls.borrow();
        assert_eq!(recorded.len(), 1);
        let call = &recorded[0];
        assert_eq!(call.upstream, "outbound|443||idp.example.test");
        assert_eq!(call.method, "GET");
        assert_eq!(call.authority, "idp.example.test");
        assert_eq!(call.path, "/keys?v=1");
        assert_eq!(call.timeout_ms, FETCH_TIMEOUT_MS);
        assert!(call.headers.contains(&("x-api-key".into(), "k1".into())));
        assert!(call
            .headers
            .contains(&("accept".into(), "application/json".into())));
    }
    // In flight: later ticks do not call again.
    sync.on_tick(&set, T0 + 1000, &host);
    assert_eq!(calls(&host), 1);
    // Not our token.
    assert!(!sync.on_http_response(&set, 999, 200, f::JWKS.as_bytes(), T0, &host));
    assert!(sync.on_http_response(
        &set,
        last_call(&host),
        200,
        f::JWKS.as_bytes(),
        T0 + 1500,
        &host
    ));
    assert_eq!(sync.keys()[0].len(), 5);
    assert_eq!(sync.version(0), 1);
    verify(&set, &sync, f::GOOD_RS256).unwrap();
    verify(&set, &sync, f::GOOD_ES256).unwrap();
    // Shared: document, version, schedule.
    let doc = host.shared_value(&jwks_key("idp")).unwrap();
    assert!(doc.starts_with(format!("v1 1 {} {URI}\n", T0 + 1500).as_bytes()));
    assert_eq!(host.shared_value(&version_key("idp")).unwrap(), b"1");
    let s = schedule(&host);
    assert_eq!(s.holder, 0);
    assert_eq!(s.failures, 0);
    assert_eq!(s.next_due, T0 + 1500 + 600_000);
    assert_eq!(
        host.counter(&tagged_name(
            "gatehouse_jwks_fetch_total",
            &[("provider", "idp"), ("result", "ok")]
        )),
        1
    );
    // The inline-keyed provider is never fetched.
    assert!(host
        .http_calls
        .borrow()
        .iter()
        .all(|c| c.path == "/keys?v=1"));
}

#[test]
fn jwks_other_vms_share_one_fetch_through_the_lease() {
    let set = providers();
    let a = MockHost::new();
    let b = a.sibling();
    let mut sync_a = JwksSync::new(&set, &a, 11);
    let mut sync_b = JwksSync::new(&set, &b, 22);
    sync_a.on_tick(&set, T0, &a);
    assert_eq!(calls(&a), 1);
    assert_eq!(schedule(&a).holder, 11);
    // B sees the lease and waits.
    for t in 0..5 {
        sync_b.on_tick(&set, T0 + t * 1000, &b);
    }
    assert_eq!(calls(&b), 0);
    sync_a.on_http_response(&set, last_call(&a), 200, f::JWKS.as_bytes(), T0 + 5000, &a);
    // B picks the keys up on its next tick, without fetching.
    sync_b.on_tick(&set, T0 + 6000, &b);
    assert_eq!(calls(&b), 0);
    assert_eq!(sync_b.version(0), 1);
    verify(&set, &sync_b, f::GOOD_RS256).unwrap();
    // A VM created later starts with the shared keys at once.
    let c = a.sibling();
    let sync_c = JwksSync::new(&set, &c, 33);
    verify(&set, &sync_c, f::GOOD_EDDSA).unwrap();
    // A lease whose holder never answered expires: another VM takes over.
    let set2 = providers_with(json!({"jwksUri": "https://idp.example.test/other"}));
    let mut sync_a2 = JwksSync::new(&set2, &a, 11);
    let mut sync_b2 = JwksSync::new(&set2, &b, 22);
    sync_a2.on_tick(&set2, T0 + 10_000, &a);
    assert_eq!(calls(&a), 2, "a changed jwksUri is fetched at once");
    sync_b2.on_tick(&set2, T0 + 10_000 + LEASE_MS - 1, &b);
    assert_eq!(calls(&b), 0);
    sync_b2.on_tick(&set2, T0 + 10_000 + LEASE_MS, &b);
    assert_eq!(calls(&b), 1);
    assert_eq!(schedule(&b).holder, 22);
    // Keys for the old URI are not used for the new one.
    assert_eq!(sync_b2.version(0), 0);
}

#[test]
fn jwks_refresh_interval() {
    let set = providers_with(json!({"jwksRefreshSeconds": 60}));
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    sync.on_tick(&set, T0, &host);
    sync.on_http_response(&set, last_call(&host), 200, f::JWKS.as_bytes(), T0, &host);
    sync.on_tick(&set, T0 + 59_999, &host);
    assert_eq!(calls(&host), 1);
    sync.on_tick(&set, T0 + 60_000, &host);
    assert_eq!(calls(&host), 2);
    // The same document keeps its version: no VM re-parses it.
    sync.on_http_response(
        &set,
        last_call(&host),
        200,
        f::JWKS.as_bytes(),
        T0 + 60_100,
        &host,
    );
    assert_eq!(sync.version(0), 1);
    // A rotated document gets a new version.
    sync.on_tick(&set, T0 + 120_100, &host);
    assert_eq!(calls(&host), 3);
    let rotated = f::JWKS.replace("\"ed-1\"", "\"ed-2\"");
    sync.on_http_response(
        &set,
        last_call(&host),
        200,
        rotated.as_bytes(),
        T0 + 120_200,
        &host,
    );
    assert_eq!(sync.version(0), 2);
    assert_eq!(
        verify(&set, &sync, f::GOOD_EDDSA).unwrap_err().reason,
        Reason::UnknownKid
    );
}

#[test]
fn jwks_unknown_kid_refresh_is_rate_limited() {
    let set = providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    sync.on_tick(&set, T0, &host);
    sync.on_http_response(&set, last_call(&host), 200, f::JWKS.as_bytes(), T0, &host);
    // Next fetch is 600 s away; an unknown kid pulls it to the next tick.
    sync.request_refresh(&set, 0, T0 + 10_000, &host);
    sync.on_tick(&set, T0 + 10_500, &host);
    assert_eq!(calls(&host), 2);
    sync.on_http_response(
        &set,
        last_call(&host),
        200,
        f::JWKS.as_bytes(),
        T0 + 10_600,
        &host,
    );
    // Again within 30 s: ignored, here and in another VM.
    sync.request_refresh(&set, 0, T0 + 20_000, &host);
    let other = host.sibling();
    let mut sync_b = JwksSync::new(&set, &other, 2);
    sync_b.request_refresh(&set, 0, T0 + 25_000, &other);
    sync.on_tick(&set, T0 + 26_000, &host);
    sync_b.on_tick(&set, T0 + 26_000, &other);
    assert_eq!(calls(&host) + calls(&other), 2);
    // After 30 s it works again (from either VM).
    sync_b.request_refresh(&set, 0, T0 + 40_001, &other);
    sync_b.on_tick(&set, T0 + 40_500, &other);
    assert_eq!(calls(&other), 1);
    // Providers without jwksUri ignore refresh requests.
    let writes = host.shared_writes.get();
    sync.request_refresh(&set, 1, T0 + 90_000, &host);
    sync.request_refresh(&set, 7, T0 + 90_000, &host);
    assert_eq!(host.shared_writes.get(), writes);
}

#[test]
fn jwks_backoff_on_failure_with_jitter_and_cap() {
    let set = providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 5);
    let mut now = T0;
    sync.on_tick(&set, now, &host);
    let mut previous_full = 0;
    for failure in 1..=10u32 {
        sync.on_http_response(&set, last_call(&host), 503, b"busy", now, &host);
        let s = schedule(&host);
        assert_eq!(s.failures, failure);
        assert_eq!(s.holder, 0);
        let full = (BACKOFF_BASE_MS << (failure - 1)).min(BACKOFF_CAP_MS);
        let delay = s.next_due - now;
        assert!(
            delay >= full / 2 && delay <= full,
            "failure {failure}: {delay} vs {full}"
        );
        assert!(full >= previous_full);
        previous_full = full;
        // Not before the delay...
        let before = calls(&host);
        sync.on_tick(&set, s.next_due - 1, &host);
        assert_eq!(calls(&host), before);
        // ...then again.
        now = s.next_due;
        sync.on_tick(&set, now, &host);
        assert_eq!(calls(&host), before + 1);
    }
    assert_eq!(previous_full, BACKOFF_CAP_MS);
    // Success resets the backoff.
    sync.on_http_response(&set, last_call(&host), 200, f::JWKS.as_bytes(), now, &host);
    assert_eq!(schedule(&host).failures, 0);
    // A call that cannot even be dispatched counts as a failure too.
    host.http_call_fails.set(true);
    sync.request_refresh(&set, 0, now + 31_000, &host);
    sync.on_tick(&set, now + 31_000, &host);
    let s = schedule(&host);
    assert_eq!(s.failures, 1);
    assert_eq!(s.holder, 0);
    assert!(s.next_due >= now + 31_500);
    assert!(host.logged(LogLevel::Warn, "cannot call"));
}

#[test]
fn jwks_last_good_keys_survive_failures_and_garbage() {
    let set = providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    sync.on_tick(&set, T0, &host);
    sync.on_http_response(&set, last_call(&host), 200, f::JWKS.as_bytes(), T0, &host);
    let doc = host.shared_value(&jwks_key("idp")).unwrap();
    let big = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(200_000));
    let bad_key = r#"{"keys":[{"kty":"RSA","kid":"weak","n":"AQAB","e":"AQAB"}]}"#;
    let mut now = T0;
    for (status, body, result) in [
        (500, "oops", "http_error"),
        (0, "", "http_error"),
        (200, "not json", "bad_jwks"),
        (200, r#"{"keys": []}"#, "bad_jwks"),
        (200, bad_key, "bad_jwks"),
        (200, big.as_str(), "bad_jwks"),
        (200, "[1,2]", "bad_jwks"),
    ] {
        now += 700_000;
        sync.request_refresh(&set, 0, now, &host);
        sync.on_tick(&set, now, &host);
        sync.on_http_response(&set, last_call(&host), status, body.as_bytes(), now, &host);
        verify(&set, &sync, f::GOOD_RS256).unwrap();
        assert_eq!(sync.version(0), 1);
        assert_eq!(
            host.shared_value(&jwks_key("idp")).unwrap(),
            doc,
            "{result}"
        );
        assert!(
            host.counter(&tagged_name(
                "gatehouse_jwks_fetch_total",
                &[("provider", "idp"), ("result", result)]
            )) >= 1
        );
    }
    // A VM starting now still gets the last good keys.
    let other = host.sibling();
    let sync_b = JwksSync::new(&set, &other, 2);
    verify(&set, &sync_b, f::GOOD_RS256).unwrap();
    // A corrupted shared document is ignored by the VMs that read it.
    other
        .set_shared(
            &jwks_key("idp"),
            b"v1 9 0 https://idp.example.test/keys?v=1\n{garbage",
            None,
        )
        .unwrap();
    other.set_shared(&version_key("idp"), b"9", None).unwrap();
    let mut sync_c = JwksSync::new(&set, &other, 3);
    sync_c.on_tick(&set, now + 1, &other);
    assert!(sync_c.keys()[0].is_empty());
    let mut sync_b = sync_b;
    sync_b.on_tick(&set, now + 1, &other);
    verify(&set, &sync_b, f::GOOD_RS256).unwrap();
}

#[test]
fn jwks_schedule_round_trips() {
    let s = Schedule {
        holder: 3,
        lease_until: 4,
        next_due: 5,
        failures: 6,
        last_forced: 7,
        uri: "https://a/b?c=d e".into(),
    };
    assert_eq!(Schedule::decode(s.encode().as_bytes()), Some(s));
    assert_eq!(Schedule::decode(b"1 2 3"), None);
    assert_eq!(Schedule::decode(b"x 2 3 4 5 u"), None);
    assert_eq!(decode_doc(b"v1 3 4 u\n{}"), Some((3, "u", &b"{}"[..])));
    assert_eq!(decode_doc(b"v2 3 4 u\n{}"), None);
    // Provider names cannot make keys collide.
    assert_eq!(jwks_key("a/version"), "gatehouse/jwks/a%2Fversion");
    assert_ne!(jwks_key("a/version"), version_key("a"));
    assert_eq!(lease_key("50%"), "gatehouse/jwks/50%25/lease");
}

fn discovery_providers() -> ProviderSet {
    let list = vec![json!({
        "name": "idp",
        "issuer": f::ISSUER,
        "audiences": [f::AUDIENCE],
        "oidcDiscovery": true,
        "jwksCluster": "idp"
    })];
    let list: Vec<Provider> = serde_json::from_value(Value::Array(list)).unwrap();
    ProviderSet::from_config(&list).unwrap()
}

fn last(host: &MockHost) -> crate::testing::RecordedCall {
    host.http_calls.borrow().last().unwrap().clone()
}

#[test]
fn jwks_oidc_discovery_then_fetch() {
    let set = discovery_providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    sync.on_tick(&set, T0, &host);
    let call = last(&host);
    assert_eq!(call.authority, "idp.example.test");
    assert_eq!(call.path, "/.well-known/openid-configuration");
    let doc = json!({
        "issuer": f::ISSUER,
        "jwks_uri": "https://keys.idp.example.test/oauth/jwks"
    })
    .to_string();
    sync.on_http_response(&set, call.token, 200, doc.as_bytes(), T0 + 100, &host);
    assert_eq!(schedule(&host).next_due, T0 + 100);
    sync.on_tick(&set, T0 + 1000, &host);
    let call = last(&host);
    assert_eq!(call.authority, "keys.idp.example.test");
    assert_eq!(call.path, "/oauth/jwks");
    sync.on_http_response(&set, call.token, 200, f::JWKS.as_bytes(), T0 + 1100, &host);
    verify(&set, &sync, f::GOOD_RS256).unwrap();
    assert_eq!(
        host.counter(&tagged_name(
            "gatehouse_jwks_fetch_total",
            &[("provider", "idp"), ("result", "discovered")]
        )),
        1
    );
    // Another VM uses the shared keys and the shared discovered location.
    let other = host.sibling();
    let mut sync_b = JwksSync::new(&set, &other, 2);
    verify(&set, &sync_b, f::GOOD_RS256).unwrap();
    sync_b.on_tick(&set, T0 + 1100 + 600_000, &other);
    assert_eq!(last(&other).path, "/oauth/jwks");
    // The JWKS moved away (404): keys kept, discovery runs again next time.
    sync_b.on_http_response(&set, last(&other).token, 404, b"", T0 + 601_200, &other);
    verify(&set, &sync_b, f::GOOD_RS256).unwrap();
    let next = schedule(&other).next_due;
    sync_b.on_tick(&set, next, &other);
    assert_eq!(last(&other).path, "/.well-known/openid-configuration");
}

#[test]
fn jwks_oidc_discovery_refuses_foreign_or_broken_documents() {
    let set = discovery_providers();
    let host = MockHost::new();
    let mut sync = JwksSync::new(&set, &host, 1);
    let mut now = T0;
    for body in [
        json!({"issuer": "https://evil.example.test", "jwks_uri": "https://evil.example.test/k"})
            .to_string(),
        json!({"issuer": f::ISSUER}).to_string(),
        json!({"issuer": f::ISSUER, "jwks_uri": "file:///etc/keys"}).to_string(),
        json!({"jwks_uri": "https://idp.example.test/k"}).to_string(),
        "not json".to_owned(),
    ] {
        sync.on_tick(&set, now, &host);
        let call = last(&host);
        assert_eq!(call.path, "/.well-known/openid-configuration", "{body}");
        sync.on_http_response(&set, call.token, 200, body.as_bytes(), now, &host);
        now = schedule(&host).next_due;
    }
    assert_eq!(schedule(&host).failures, 5);
    assert!(host.shared_value(&discovered_key("idp")).is_none());
    assert!(host.logged(LogLevel::Warn, "issuer differs"));

    let refused = |p: Value| {
        let list: Vec<Provider> = serde_json::from_value(json!([p])).unwrap();
        ProviderSet::from_config(&list).unwrap_err().pointer
    };
    assert_eq!(
        refused(json!({"name": "a", "issuer": "https://i", "oidcDiscovery": true})),
        "/providers/0/jwksCluster"
    );
    assert_eq!(
        refused(
            json!({"name": "a", "issuer": "https://i", "oidcDiscovery": true,
            "jwksCluster": "c", "jwksUri": "https://i/k"})
        ),
        "/providers/0/oidcDiscovery"
    );
    assert_eq!(
        refused(json!({"name": "a", "issuer": "urn:x", "oidcDiscovery": true, "jwksCluster": "c"})),
        "/providers/0/issuer"
    );
}
