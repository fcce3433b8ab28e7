//! The harness itself, against bare Envoy (no wasm): the backend's control headers, request
//! ids from Envoy, and that Envoy never outlives its handle, panics included.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use wasm_host_tests::process::pid_alive;
use wasm_host_tests::{wait_until, Backend, Client, EnvoyBuilder};

#[test]
fn backend_echoes_and_obeys_control_headers() {
    let backend = Backend::start();
    let client = Client::new();

    let r = client.send(
        "POST",
        &backend.url("/a/b?x=1&y=2"),
        &[
            ("x-backend-status", "201"),
            ("x-backend-set-header", "x-one: 1"),
            ("x-backend-set-header", "x-two: two words"),
            ("content-type", "text/plain"),
        ],
        Some("hello"),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-one"), Some("1"));
    assert_eq!(r.header("x-two"), Some("two words"));
    let echo = r.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/a/b");
    assert_eq!(echo["query"], "x=1&y=2");
    assert_eq!(echo["body"], "hello");
    assert_eq!(echo["headers"]["content-type"], "text/plain");

    let r = client.get(&backend.url("/__bytes/1k"), &[]);
    assert_eq!((r.status, r.body.len()), (200, 1024));
    let r = client.get(
        &backend.url("/anything"),
        &[("x-backend-body-bytes", "64k")],
    );
    assert_eq!((r.status, r.body.len()), (200, 65536));
    let r = client.get(&backend.url("/slow"), &[("x-backend-delay-ms", "20")]);
    assert_eq!(r.status, 200);

    assert_eq!(backend.hits(), 4);
    let r = client.get(&backend.url("/__hits"), &[]);
    assert_eq!(r.json()["hits"], 4);
    assert_eq!(backend.hits(), 4, "/__hits is not counted");
}

#[test]
fn bare_envoy_proxies_to_the_backend_and_generates_request_ids() {
    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend).start();
    let client = Client::new();

    let r = client.get(&envoy.url("/hello?q=1"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["path"], "/hello");
    let generated = r
        .echoed_header("x-request-id")
        .expect("Envoy adds x-request-id");
    assert!(!generated.is_empty());

    let r = client.get(&envoy.url("/hello"), &[("x-request-id", "client-id-1")]);
    assert_eq!(
        r.echoed_header("x-request-id").as_deref(),
        Some("client-id-1")
    );

    let r = client.get(&envoy.url("/status"), &[("x-backend-status", "418")]);
    assert_eq!(r.status, 418);
    assert_eq!(backend.hits(), 3);

    assert!(envoy.ready_after() > Duration::ZERO);
    assert!(envoy.rss_bytes().unwrap() > 0);
    envoy.wait_for_log("starting main dispatch loop", Duration::from_secs(5));
    assert!(envoy
        .prometheus()
        .contains("envoy_http_downstream_rq_total"));
}

#[test]
fn envoy_is_killed_on_drop() {
    let backend = Backend::start();
    let envoy = EnvoyBuilder::new(&backend).start();
    let pid = envoy.pid();
    assert!(pid_alive(pid));
    drop(envoy);
    assert!(!pid_alive(pid), "Envoy pid {pid} still alive after drop");
}

#[test]
fn envoy_is_killed_when_the_test_panics() {
    let backend = Backend::start();
    let pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = std::sync::Arc::clone(&pid);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let envoy = EnvoyBuilder::new(&backend).start();
        seen.store(envoy.pid(), std::sync::atomic::Ordering::SeqCst);
        panic!("deliberate panic while Envoy runs");
    }));
    assert!(result.is_err());
    let pid = pid.load(std::sync::atomic::Ordering::SeqCst);
    assert_ne!(pid, 0);
    // Drop ran during unwinding and reaped Envoy; check without sleeping-then-asserting.
    wait_until("Envoy to be gone", Duration::from_secs(5), || {
        (!pid_alive(pid)).then_some(())
    });
}

#[test]
fn a_bootstrap_error_fails_start_with_the_log() {
    let backend = Backend::start();
    let failure = EnvoyBuilder::new(&backend)
        .patch_bootstrap(|b| b["static_resources"]["clusters"][0]["type"] = "NOT_A_TYPE".into())
        .try_start()
        .expect_err("Envoy must refuse this bootstrap");
    assert!(failure.exit.is_some(), "{failure}");
    assert!(failure.logs.contains("NOT_A_TYPE"), "{failure}");
}
