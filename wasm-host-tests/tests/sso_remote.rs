//! SSO inside Envoy with a remote JWKS: the bootstrap gets a `jwks` cluster pointing at a
//! loopback [`JwksServer`], the provider ([`configs::sso_remote_provider`]) has no inline
//! keys. Keys are fetched by the filter's tick (`dispatch_http_call`), shared by every VM;
//! a rotated key set is picked up after a token names an unknown `kid`; with the JWKS
//! server down, the last good keys keep verifying.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use wasm_host_tests::backend::JwksServer;
use wasm_host_tests::client::raw_request;
use wasm_host_tests::configs::{self, JWKS_CLUSTER, SSO_HOST};
use wasm_host_tests::fixtures::{add_static_cluster, add_stats_tags, jwt_jwks, jwt_token};
use wasm_host_tests::poll::try_wait_until;
use wasm_host_tests::{prometheus, wait_until, Backend, Client, EnvoyBuilder, Response, Stack};

/// Longest wait for a fetch: the first tick comes 1 s after configuration; the scheduled
/// refresh (`jwksRefreshSeconds: 30`) bounds any unknown-`kid` rate limiting.
const FETCH_BOUND: Duration = Duration::from_secs(45);

fn stack(jwks: &JwksServer) -> Stack {
    stack_with_workers(jwks, 1)
}

fn stack_with_workers(jwks: &JwksServer, workers: u32) -> Stack {
    let backend = Backend::start();
    let config = configs::to_json(&configs::sso(configs::sso_remote_provider()));
    let envoy = EnvoyBuilder::new(&backend)
        .gatehouse(&config)
        .concurrency(workers)
        .component_log_level("wasm:debug")
        .patch_bootstrap(add_static_cluster(JWKS_CLUSTER, jwks.addr()))
        .patch_bootstrap(add_stats_tags(&["provider"]))
        .start();
    Stack {
        envoy,
        backend,
        client: Client::new(),
    }
}

fn with_token(stack: &Stack, token_name: &str) -> Response {
    let auth = format!("Bearer {}", jwt_token(token_name));
    stack.send_to(SSO_HOST, "GET", "/pets/1", &[("authorization", &auth)])
}

fn counter(stack: &Stack, name: &str, labels: &[(&str, &str)]) -> f64 {
    prometheus::sum(&prometheus::parse(&stack.envoy.prometheus()), name, labels)
}

fn fetches(stack: &Stack, result: &str) -> f64 {
    counter(
        stack,
        "gatehouse_jwks_fetch_total",
        &[("provider", "idp"), ("result", result)],
    )
}

/// Waits for the first good fetch, then one tick more so every VM installed the shared
/// keys (a request reaching a VM without keys would spend the unknown-`kid` refresh).
fn wait_first_fetch(stack: &Stack) {
    wait_until("the first JWKS fetch", FETCH_BOUND, || {
        (fetches(stack, "ok") >= 1.0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1200));
}

/// Polls until `token_name` is admitted; returns how long it took.
fn wait_admitted(stack: &Stack, token_name: &str) -> Duration {
    let started = Instant::now();
    let mut last = None;
    let admitted = try_wait_until(FETCH_BOUND, || {
        let r = with_token(stack, token_name);
        if r.status == 200 {
            Some(())
        } else {
            last = Some(r);
            None
        }
    });
    assert!(
        admitted.is_some(),
        "{token_name} not admitted within {FETCH_BOUND:?}; last answer: {last:?}"
    );
    started.elapsed()
}

#[test]
fn remote_keys_are_fetched_once_for_all_vms_and_verify_natively() {
    let jwks = JwksServer::start(&jwt_jwks(&["rsa-1", "ec-p256"]));
    let stack = stack(&jwks);
    wait_first_fetch(&stack);
    wait_admitted(&stack, "GOOD_RS256");
    let r = with_token(&stack, "GOOD_ES256");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.echoed_header("x-user").as_deref(), Some("user-1"));
    let r = with_token(&stack, "BAD_SIGNATURE");
    assert_eq!(r.status, 401);
    // One VM fetches for all (lease in shared data): a couple of calls at most, not one
    // per VM per tick.
    assert!(
        (1..=2).contains(&jwks.hits()),
        "JWKS fetched {} times",
        jwks.hits()
    );
    // RS256 with fetched keys went through Envoy's BoringSSL.
    wait_until(
        "gatehouse_auth_native_total",
        Duration::from_secs(5),
        || {
            (counter(
                &stack,
                "gatehouse_auth_native_total",
                &[("result", "valid")],
            ) >= 1.0)
                .then_some(())
        },
    );
    assert_eq!(stack.backend.hits(), 2);
}

#[test]
fn a_rotated_key_is_admitted_after_the_unknown_kid_refresh() {
    // Before the rotation the provider publishes only the P-256 key.
    let jwks = JwksServer::start(&jwt_jwks(&["ec-p256"]));
    let stack = stack(&jwks);
    wait_first_fetch(&stack);
    wait_admitted(&stack, "GOOD_ES256");
    let before = jwks.hits();

    // The provider rotates: a new RSA key `rsa-1`; tokens signed with it start arriving.
    jwks.set(200, &jwt_jwks(&["ec-p256", "rsa-1"]));
    let took = wait_admitted(&stack, "GOOD_RS256");
    assert!(jwks.hits() > before, "no new fetch");
    stack.envoy.wait_for_log(
        "jwks provider=idp: unknown kid, refresh requested",
        Duration::from_secs(5),
    );
    // Well before the 30 s scheduled refresh: the unknown kid pulled the fetch forward.
    assert!(
        took < Duration::from_secs(20),
        "the new kid took {took:?} to be admitted"
    );
    // The old key still works.
    assert_eq!(with_token(&stack, "GOOD_ES256").status, 200);
}

#[test]
fn with_the_jwks_server_down_the_last_good_keys_keep_verifying() {
    let mut jwks = JwksServer::start(&jwt_jwks(&["rsa-1", "ec-p256"]));
    let stack = stack(&jwks);
    wait_first_fetch(&stack);
    wait_admitted(&stack, "GOOD_RS256");

    jwks.stop();
    // An unknown kid asks for a refresh, which now fails (connection refused).
    let r = with_token(&stack, "UNKNOWN_KID");
    assert_eq!(r.status, 401);
    wait_until("a failed JWKS fetch", FETCH_BOUND, || {
        (fetches(&stack, "http_error") + fetches(&stack, "dispatch_failed") >= 1.0).then_some(())
    });
    stack
        .envoy
        .wait_for_log("keeping the last good keys", Duration::from_secs(5));

    // The keys fetched before the outage still verify (the token cache is off for this
    // provider, so these are fresh signature checks).
    for name in ["GOOD_RS256", "GOOD_ES256", "GOOD_RS256_NO_KID"] {
        let r = with_token(&stack, name);
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
}

#[test]
fn every_worker_vm_uses_keys_fetched_by_another() {
    let jwks = JwksServer::start(&jwt_jwks(&["rsa-1", "ec-p256"]));
    let stack = stack_with_workers(&jwks, 2);
    wait_first_fetch(&stack);
    wait_admitted(&stack, "GOOD_RS256");
    // Fresh connections spread over both workers; one fetch served every VM.
    let auth = format!("Bearer {}", jwt_token("GOOD_ES256"));
    for i in 0..20 {
        let r = raw_request(
            &stack.envoy.url(""),
            "GET",
            "/pets/1",
            &[("host", SSO_HOST), ("authorization", &auth)],
        );
        assert_eq!(r.status, 200, "request {i}: {}", r.body);
    }
    // Both workers (each its own VM) served some of them.
    let stats = stack.envoy.stats();
    for worker in ["worker_0", "worker_1"] {
        let served = stats.lines().any(|l| {
            l.starts_with("listener.")
                && l.contains(&format!(".{worker}.downstream_cx_total: "))
                && !l.ends_with(": 0")
        });
        assert!(served, "{worker} served no connection:\n{stats}");
    }
    assert!(
        (1..=2).contains(&jwks.hits()),
        "JWKS fetched {} times for 4 VMs",
        jwks.hits()
    );
}
