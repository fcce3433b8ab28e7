//! (b) Strict API: an unknown path is answered 404 and a known path with another method 405
//! (with `Allow`), as RFC 9457 problem+json whose `requestId` is the response's
//! `x-request-id`; the backend never sees these requests. (`HEAD` on a path with a `GET`
//! operation is routed to it, so `Allow` lists it.)

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wasm_host_tests::{Response, Stack};

fn assert_problem(r: &Response, status: u16, path: &str) -> serde_json::Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let problem = r.json();
    assert_eq!(problem["status"], status);
    for field in ["type", "title", "detail", "requestId"] {
        assert!(
            problem[field].as_str().is_some_and(|s| !s.is_empty()),
            "problem lacks {field}: {problem}"
        );
    }
    assert_eq!(problem["instance"], path.split('?').next().unwrap());
    let header_id = r
        .header("x-request-id")
        .expect("x-request-id on the answer");
    assert_eq!(problem["requestId"], header_id, "body and header ids agree");
    problem
}

#[test]
fn an_unknown_path_is_404_problem_json() {
    let stack = Stack::petstore(true);
    for path in ["/v1/owners", "/v1/pets/1/toys", "/v1/", "/v1/unknown?x=1"] {
        let r = stack.send("GET", path, &[]);
        let problem = assert_problem(&r, 404, path);
        assert_eq!(problem["title"], "Not Found");
    }
    assert_eq!(
        stack.backend.hits(),
        0,
        "the backend saw a rejected request"
    );
}

#[test]
fn the_problem_carries_the_clients_request_id() {
    let stack = Stack::petstore(true);
    let r = stack.send("GET", "/v1/owners", &[("x-request-id", "trace-me-123")]);
    let problem = assert_problem(&r, 404, "/v1/owners");
    assert_eq!(problem["requestId"], "trace-me-123");
}

#[test]
fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let stack = Stack::petstore(true);
    let r = stack.send("PUT", "/v1/pets", &[]);
    let problem = assert_problem(&r, 405, "/v1/pets");
    assert_eq!(problem["title"], "Method Not Allowed");
    let allow = r.header("allow").expect("Allow header on 405");
    let mut methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    methods.sort_unstable();
    // HEAD falls back to the GET operation (router docs), so it is allowed too.
    assert_eq!(methods, ["GET", "HEAD", "POST"], "Allow: {allow}");

    let r = stack.send("PATCH", "/v1/pets/3", &[]);
    assert_problem(&r, 405, "/v1/pets/3");
    let mut methods: Vec<&str> = r
        .header("allow")
        .unwrap()
        .split(',')
        .map(str::trim)
        .collect();
    methods.sort_unstable();
    assert_eq!(methods, ["DELETE", "GET", "HEAD"]);
    assert_eq!(
        stack.backend.hits(),
        0,
        "the backend saw a rejected request"
    );
}
