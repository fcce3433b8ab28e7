//! Request validation inside Envoy: an `ApiSchema` compiled by the controller
//! ([`configs::validated_petstore`]), the built `.wasm`, the real backend. Valid requests
//! reach the backend with their body intact; each refusal is answered by the filter with
//! the right status and a problem+json body, and the backend never sees it; `report` mode
//! forwards and counts.

// Tests: a failed expectation is a panic by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use wasm_host_tests::configs::{self, VALIDATED_HOST};
use wasm_host_tests::prometheus;
use wasm_host_tests::{Response, Stack};

fn stack(mode: &str) -> Stack {
    Stack::gatehouse(&configs::to_json(&configs::validated_petstore(mode)))
}

fn send(
    stack: &Stack,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let mut all = vec![("host", VALIDATED_HOST)];
    all.extend_from_slice(headers);
    stack
        .client
        .send(method, &stack.envoy.url(path), &all, body)
}

/// Asserts a problem+json answer with `status` and returns the body.
fn problem(r: &Response, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let body = r.json();
    assert_eq!(body["status"], status);
    assert!(body["requestId"].as_str().is_some_and(|id| !id.is_empty()));
    body
}

fn errors(body: &Value) -> Vec<(String, String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| {
            (
                e["in"].as_str().unwrap().to_owned(),
                e["pointer"].as_str().unwrap().to_owned(),
                e["keyword"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn e(location: &str, pointer: &str, keyword: &str) -> (String, String, String) {
    (location.into(), pointer.into(), keyword.into())
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn valid_requests_reach_the_backend_with_the_body_intact() {
    let stack = stack("enforce");
    let r = send(
        &stack,
        "GET",
        "/v1/pets?limit=10",
        &[("x-api-key", "abcd1234")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["query"], "limit=10");

    let body = r#"{"name": "Rex", "age": 3, "tags": ["good", "dog"]}"#;
    let r = send(&stack, "POST", "/v1/pets", &[JSON], Some(body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["body"],
        body,
        "the body reaches the backend unchanged"
    );
    assert_eq!(
        r.echoed_header("x-gatehouse-operation").as_deref(),
        Some("default/validated/createPet")
    );

    let form = "name=Rex&age=3";
    let r = send(
        &stack,
        "POST",
        "/v1/pets",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(form),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["body"], form);

    let r = send(&stack, "GET", "/v1/pets/42", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stack.backend.hits(), 4);
}

#[test]
fn every_refusal_is_answered_by_the_filter() {
    let stack = stack("enforce");
    // Query, path and header parameters.
    let body = problem(&send(&stack, "GET", "/v1/pets?limit=0", &[], None), 400);
    assert_eq!(body["type"], "https://gatehouse.dev/problems/validation");
    assert_eq!(errors(&body), vec![e("query", "/limit", "minimum")]);
    let body = problem(&send(&stack, "GET", "/v1/pets/abc", &[], None), 400);
    assert_eq!(errors(&body), vec![e("path", "/petId", "type")]);
    let secret = "NOT-a-valid-KEY-but-secret";
    let r = send(&stack, "GET", "/v1/pets", &[("x-api-key", secret)], None);
    let body = problem(&r, 400);
    assert_eq!(errors(&body), vec![e("header", "/x-api-key", "pattern")]);
    assert!(
        !r.body.contains(secret),
        "sensitive value echoed: {}",
        r.body
    );
    // Unknown query parameter.
    let body = problem(&send(&stack, "GET", "/v1/pets?limt=5", &[], None), 400);
    assert_eq!(
        errors(&body),
        vec![e("query", "/limt", "additionalProperties")]
    );

    // Refused from the headers alone: missing body, 415, 413 by Content-Length.
    let body = problem(&send(&stack, "POST", "/v1/pets", &[JSON], None), 400);
    assert_eq!(errors(&body), vec![e("body", "", "required")]);
    let body = problem(
        &send(
            &stack,
            "POST",
            "/v1/pets",
            &[("content-type", "text/xml")],
            Some("<pet/>"),
        ),
        415,
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json, application/x-www-form-urlencoded"),
        "{body}"
    );
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(600));
    let body = problem(&send(&stack, "POST", "/v1/pets", &[JSON], Some(&big)), 413);
    assert_eq!(
        body["type"],
        "https://gatehouse.dev/problems/body-too-large"
    );
    assert_eq!(
        stack.backend.hits(),
        0,
        "requests refused from their headers never reach the backend"
    );

    // Refused from the body: schema violations with pointers, malformed JSON, a streamed
    // body over the limit. Envoy has sent the headers upstream by then (proxy-wasm cannot
    // hold the headers while it reads the body); the filter's answer is what the client
    // gets and the upstream request is reset before the body reaches it.
    let r = send(
        &stack,
        "POST",
        "/v1/pets",
        &[JSON],
        Some(r#"{"name": "", "age": -1, "tags": [1], "extra": true}"#),
    );
    let mut got = errors(&problem(&r, 400));
    got.sort();
    assert_eq!(
        got,
        vec![
            e("body", "/age", "minimum"),
            e("body", "/extra", "additionalProperties"),
            e("body", "/name", "minLength"),
            e("body", "/tags/0", "type"),
        ]
    );
    let body = problem(
        &send(&stack, "POST", "/v1/pets", &[JSON], Some("{\"name\": ")),
        400,
    );
    assert_eq!(
        body["type"],
        "https://gatehouse.dev/problems/malformed-body"
    );
    // Streamed without Content-Length: refused once the buffered bytes pass the limit.
    let (status, text) = chunked_post(&stack, "/v1/pets", &big);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("body-too-large"), "{text}");

    // At most the three body-phase refusals started an upstream request (reset unanswered).
    assert!(stack.backend.hits() <= 3, "{}", stack.backend.hits());
    // 4 parameter refusals, 3 from the request head, 3 from the body.
    wait_for_count(&stack, &[("result", "violation")], 10.0);
}

/// Waits until `gatehouse_validation_total{api="default/validated", labels...}` is `value`.
fn wait_for_count(stack: &Stack, labels: &[(&str, &str)], value: f64) {
    let mut wanted = vec![("api", "default/validated")];
    wanted.extend_from_slice(labels);
    let mut last = 0.0;
    let seen = wait_until_opt(|| {
        let samples = prometheus::parse(&stack.envoy.prometheus());
        last = prometheus::sum(&samples, METRIC, &wanted);
        ((last - value).abs() < 0.5).then_some(())
    });
    assert!(
        seen.is_some(),
        "{METRIC}{wanted:?}: {last}, expected {value}"
    );
}

fn wait_until_opt(check: impl FnMut() -> Option<()>) -> Option<()> {
    wasm_host_tests::poll::try_wait_until(Duration::from_secs(10), check)
}

const METRIC: &str = "gatehouse_validation_total";

#[test]
fn report_mode_forwards_and_counts() {
    let stack = stack("report");
    let r = send(&stack, "GET", "/v1/pets?limit=1000", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(&stack, "POST", "/v1/pets", &[JSON], Some(r#"{"name": 7}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["body"], r#"{"name": 7}"#);
    let r = send(&stack, "GET", "/v1/pets?limit=5", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stack.backend.hits(), 3);
    wait_for_count(
        &stack,
        &[("operation", "listPets"), ("result", "violation")],
        1.0,
    );
    wait_for_count(&stack, &[("operation", "listPets"), ("result", "ok")], 1.0);
    wait_for_count(
        &stack,
        &[("operation", "createPet"), ("result", "violation")],
        1.0,
    );
    stack
        .envoy
        .wait_for_log("validation (report) 400", Duration::from_secs(5));
}

#[test]
fn mode_off_lets_everything_through() {
    let stack = stack("off");
    let r = send(&stack, "GET", "/v1/pets?limit=zero&other=1", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(
        &stack,
        "POST",
        "/v1/pets",
        &[("content-type", "text/xml")],
        Some("<x/>"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stack.backend.hits(), 2);
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no Content-Length) in 64-byte chunks;
/// returns the status and the whole answer.
fn chunked_post(stack: &Stack, path: &str, body: &str) -> (u16, String) {
    let url = stack.envoy.url("");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: {VALIDATED_HOST}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(64) {
        request.push_str(&format!("{:x}\r\n", chunk.len()));
        request.push_str(std::str::from_utf8(chunk).unwrap());
        request.push_str("\r\n");
    }
    request.push_str("0\r\n\r\n");
    // The filter may answer before the whole body is written; ignore write errors then.
    let _ = stream.write_all(request.as_bytes());
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// A generated 1,000-operation API with validation on: Envoy accepts it and validates on
/// its last operation. Prints Envoy's time to `/ready` and RSS next to the 3-operation
/// petstore's (each includes `on_configure` in every VM).
#[test]
fn a_thousand_validated_operations_configure_and_serve() {
    let small = stack("enforce");
    let mut paths = serde_json::Map::new();
    for i in 0..500 {
        paths.insert(
            format!("/r{i}/items"),
            serde_json::json!({
                "get": {"operationId": format!("list{i}"), "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 40}}]},
                "post": {"operationId": format!("create{i}"), "requestBody": {"required": true,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}}}
            }),
        );
    }
    let yaml: Value =
        serde_yaml_ng::from_str(&configs::validated_petstore_yaml("enforce")).unwrap();
    let mut resource = yaml.clone();
    resource["spec"]["openapi"]["paths"] = Value::Object(paths);
    let text = serde_yaml_ng::to_string(&resource).unwrap();
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("big.yaml"), &text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let config = gatehouse_controller::compile(&loaded.resources).unwrap();
    let json = configs::to_json(&config);
    let big = Stack::gatehouse(&json);
    println!(
        "Envoy ready after {:?} (RSS {:?}) with 3 operations, {:?} (RSS {:?}) with 1,000 \
         ({} bytes of configuration)",
        small.envoy.ready_after(),
        small.envoy.rss_bytes(),
        big.envoy.ready_after(),
        big.envoy.rss_bytes(),
        json.len()
    );
    let r = send(&big, "GET", "/v1/r499/items?limit=5", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(&big, "GET", "/v1/r499/items?limit=500", &[], None);
    problem(&r, 400);
    let r = send(
        &big,
        "POST",
        "/v1/r0/items",
        &[JSON],
        Some(r#"{"name": 1}"#),
    );
    assert_eq!(errors(&problem(&r, 400)), vec![e("body", "/name", "type")]);
}
