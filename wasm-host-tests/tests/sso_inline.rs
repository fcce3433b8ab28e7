//! SSO inside Envoy with an inline JWKS ([`configs::sso`] + [`configs::sso_inline_provider`]):
//! good RS256 and ES256 tokens reach the backend with their claims forwarded; every refusal
//! (no token, expired, wrong audience, bad signature, `alg: none`, missing scope) is
//! answered by the filter with the right status and `WWW-Authenticate`, and the backend
//! never sees it; spoofed forwarded headers are stripped; the public operation needs no
//! token; RS256 signatures are checked by Envoy's native `verify_signature`.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use wasm_host_tests::configs::{self, SSO_HOST};
use wasm_host_tests::fixtures::{add_stats_tags, jwt_token};
use wasm_host_tests::{prometheus, wait_until, Backend, Client, EnvoyBuilder, Response, Stack};

fn stack() -> Stack {
    let backend = Backend::start();
    let config = configs::to_json(&configs::sso(configs::sso_inline_provider()));
    let envoy = EnvoyBuilder::new(&backend)
        .gatehouse(&config)
        .component_log_level("wasm:debug")
        .patch_bootstrap(add_stats_tags(&["provider"]))
        .start();
    Stack {
        envoy,
        backend,
        client: Client::new(),
    }
}

fn get(stack: &Stack, path: &str, headers: &[(&str, &str)]) -> Response {
    stack.send_to(SSO_HOST, "GET", path, headers)
}

fn with_token(stack: &Stack, path: &str, token: &str, extra: &[(&str, &str)]) -> Response {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    get(stack, path, &headers)
}

/// Asserts a refusal by the filter: status, problem+json, challenge; returns the challenge.
fn refused(r: &Response, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["status"], status);
    assert!(body["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    r.header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate on {status}: {r:?}"))
        .to_owned()
}

#[test]
fn good_rs256_and_es256_tokens_are_admitted_with_claims_forwarded() {
    let stack = stack();
    for name in ["GOOD_RS256", "GOOD_ES256"] {
        let r = with_token(&stack, "/pets/7", &jwt_token(name), &[]);
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert_eq!(
            r.echoed_header("x-user").as_deref(),
            Some("user-1"),
            "{name}"
        );
        assert_eq!(
            r.echoed_header("x-groups").as_deref(),
            Some("eng,ops"),
            "{name}"
        );
        assert_eq!(
            r.echoed_header("x-gatehouse-operation").as_deref(),
            Some("default/sso/getPet")
        );
        // forwardToken defaults to true: the upstream sees the token too.
        assert!(r.echoed_header("authorization").is_some());
    }
    assert_eq!(stack.backend.hits(), 2);
    let samples = wait_until(
        "gatehouse_auth_total{allowed}",
        Duration::from_secs(5),
        || {
            let samples = prometheus::parse(&stack.envoy.prometheus());
            (prometheus::sum(
                &samples,
                "gatehouse_auth_total",
                &[("provider", "idp"), ("result", "allowed")],
            ) >= 2.0)
                .then_some(samples)
        },
    );
    assert!(!samples.is_empty());
}

#[test]
fn refusals_get_401_or_403_with_the_right_challenge_and_never_reach_the_backend() {
    let stack = stack();

    // No token: a bare challenge, no error code (RFC 6750 §3.1).
    let challenge = refused(&get(&stack, "/pets/7", &[]), 401);
    assert_eq!(challenge, r#"Bearer realm="default/sso""#);

    for (name, description) in [
        ("EXPIRED", "Jwt is expired"),
        ("WRONG_AUDIENCE", "Audiences in Jwt are not allowed"),
        ("BAD_SIGNATURE", "Jwt verification fails"),
        ("ALG_NONE", "Jwt algorithm is not allowed"),
    ] {
        let r = with_token(&stack, "/pets/7", &jwt_token(name), &[]);
        let challenge = refused(&r, 401);
        assert_eq!(
            challenge,
            format!(
                r#"Bearer realm="default/sso", error="invalid_token", error_description="{description}""#
            ),
            "{name}"
        );
    }

    // A valid token without the operation's scope.
    let r = with_token(&stack, "/admin", &jwt_token("GOOD_RS256"), &[]);
    let challenge = refused(&r, 403);
    assert!(
        challenge.starts_with(r#"Bearer realm="default/sso", error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="admin""#), "{challenge}");

    assert_eq!(
        stack.backend.hits(),
        0,
        "a refused request reached the backend"
    );
}

#[test]
fn spoofed_forwarded_headers_are_stripped_and_public_operations_need_no_token() {
    let stack = stack();
    let spoof = [("x-user", "root"), ("x-groups", "admins")];

    // Admitted: the claims replace the client's values.
    let r = with_token(&stack, "/pets/7", &jwt_token("GOOD_RS256"), &spoof);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.echoed_header("x-user").as_deref(), Some("user-1"));
    assert_eq!(r.echoed_header("x-groups").as_deref(), Some("eng,ops"));

    // Public: no token needed, and the spoofed headers never reach the upstream.
    let r = get(&stack, "/health", &spoof);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.echoed_header("x-user"), None);
    assert_eq!(r.echoed_header("x-groups"), None);
    assert_eq!(
        r.echoed_header("x-gatehouse-operation").as_deref(),
        Some("default/sso/health")
    );

    // A garbage token on a public operation is not even read.
    let r = get(&stack, "/health", &[("authorization", "Bearer garbage")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stack.backend.hits(), 3);
}

#[test]
fn rs256_signatures_are_checked_by_envoys_native_verify_signature() {
    let stack = stack();
    // Distinct tokens: the verified-token cache would answer a repeated one.
    for name in ["GOOD_RS256", "GOOD_RS384", "GOOD_RS512"] {
        let r = with_token(&stack, "/pets/1", &jwt_token(name), &[]);
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
    let r = with_token(&stack, "/pets/1", &jwt_token("BAD_SIGNATURE"), &[]);
    assert_eq!(r.status, 401);
    wait_until(
        "gatehouse_auth_native_total valid 3, invalid 1",
        Duration::from_secs(5),
        || {
            let samples = prometheus::parse(&stack.envoy.prometheus());
            let count = |result| {
                prometheus::sum(
                    &samples,
                    "gatehouse_auth_native_total",
                    &[("result", result)],
                )
            };
            (count("valid") >= 3.0 && count("invalid") >= 1.0).then_some(())
        },
    );
    stack
        .envoy
        .wait_for_log("native verify_signature available", Duration::from_secs(5));
}
