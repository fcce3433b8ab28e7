//! Response validation (`validation.responses: report`) inside Envoy: an `ApiSchema`
//! compiled by the controller whose declared responses describe the test backend's echo,
//! the built `.wasm`, the real backend made to answer off-spec (undeclared status, wrong
//! content type, a body that breaks the schema). Every response reaches the client
//! unchanged; each is counted in `gatehouse_response_validation_total` on
//! `/stats/prometheus` by operation, status and result, and violations are logged with
//! pointers and keywords, never values.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use gatehouse_filter::config::FilterConfig;
use wasm_host_tests::{configs, prometheus, Response, Stack};

const HOST: &str = "echo.test";
const METRIC: &str = "gatehouse_response_validation_total";

/// The backend echoes `{method, path, query, headers, body}`: the document declares that
/// shape, with `query` always `null` (so a query string makes the body off-spec).
fn api(responses: &str) -> FilterConfig {
    let yaml = format!(
        r##"apiVersion: gatehouse.dev/v1alpha1
kind: ApiSchema
metadata: {{ name: echo }}
spec:
  hosts: ["{HOST}"]
  policies:
    defaults:
      validation: {{ mode: off, responses: {responses} }}
  openapi:
    openapi: 3.1.0
    info: {{ title: Echo, version: "1" }}
    paths:
      /items/{{id}}:
        get:
          operationId: getItem
          parameters:
            - {{ name: id, in: path, required: true, schema: {{ type: integer }} }}
          responses:
            "200":
              description: the echo
              content:
                application/json:
                  schema: {{ $ref: "#/components/schemas/Echo" }}
            "4XX":
              description: a problem
              content:
                application/problem+json:
                  schema: {{ type: object, required: [title] }}
            "204": {{ description: nothing }}
    components:
      schemas:
        Echo:
          type: object
          required: [method, path, query, headers, body]
          properties:
            method: {{ const: GET }}
            path: {{ type: string, pattern: "^/items/[0-9]+$" }}
            query: {{ type: "null" }}
            headers: {{ type: object, additionalProperties: {{ type: string }} }}
            body: {{ type: string, maxLength: 0 }}
"##
    );
    let loaded =
        gatehouse_controller::load::parse_documents(std::path::Path::new("echo.yaml"), &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    gatehouse_controller::compile(&loaded.resources).unwrap_or_else(|e| panic!("{e:?}"))
}

fn get(stack: &Stack, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("host", HOST)];
    all.extend_from_slice(headers);
    stack.client.send("GET", &stack.envoy.url(path), &all, None)
}

fn wait_for_count(stack: &Stack, status: &str, result: &str, value: f64) {
    let wanted = [
        ("api", "default/echo"),
        ("operation", "getItem"),
        ("status", status),
        ("result", result),
    ];
    let mut last = 0.0;
    let seen = wasm_host_tests::poll::try_wait_until(Duration::from_secs(10), || {
        let samples = prometheus::parse(&stack.envoy.prometheus());
        last = prometheus::sum(&samples, METRIC, &wanted);
        ((last - value).abs() < 0.5).then_some(())
    });
    assert!(
        seen.is_some(),
        "{METRIC}{wanted:?}: {last}, expected {value}"
    );
}

#[test]
fn off_spec_responses_are_reported_and_left_alone() {
    let stack = Stack::gatehouse(&configs::to_json(&api("report")));

    // Conforming: counted ok.
    let r = get(&stack, "/items/1", &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    // A body breaking the schema (a query string makes `query` non-null): the client
    // still gets the backend's answer, byte for byte.
    let r = get(&stack, "/items/2?secret=hunter2", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["query"], "secret=hunter2");

    // An undeclared status, passed through as is.
    let r = get(&stack, "/items/3", &[("x-backend-status", "503")]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));

    // 404 falls under 4XX, which declares problem+json: the echo's JSON is the wrong type.
    let r = get(&stack, "/items/4", &[("x-backend-status", "404")]);
    assert_eq!(r.status, 404, "{}", r.body);

    // A large echo (a 40 KB header echoed back) reaches the filter in several chunks,
    // copied as they pass and checked whole: it conforms.
    let pad = "p".repeat(40_000);
    let r = get(&stack, "/items/5", &[("x-pad", &pad)]);
    assert_eq!(r.status, 200, "{}", r.body.len());
    assert!(r.body.len() > 40_000);

    assert_eq!(stack.backend.hits(), 5);
    wait_for_count(&stack, "200", "ok", 2.0);
    wait_for_count(&stack, "200", "violation", 1.0);
    wait_for_count(&stack, "503", "violation", 1.0);
    wait_for_count(&stack, "404", "violation", 1.0);

    // Log lines reach the file a little after the counters move: wait for each.
    let wait = Duration::from_secs(10);
    stack.envoy.wait_for_log(
        "response validation (report) status 503: 1 violation: \"\" status",
        wait,
    );
    stack.envoy.wait_for_log(
        "response validation (report) status 404: 1 violation: \"\" content-type",
        wait,
    );
    let logs = stack
        .envoy
        .wait_for_log("response validation (report) status 200", wait);
    let line = logs
        .lines()
        .find(|l| l.contains("response validation (report) status 200"))
        .unwrap();
    assert!(line.contains(r#""/query" type"#), "{line}");
    assert!(
        !logs.contains("hunter2"),
        "a response value reached the log"
    );
}

#[test]
fn responses_off_counts_nothing() {
    let stack = Stack::gatehouse(&configs::to_json(&api("off")));
    let r = get(&stack, "/items/1?x=1", &[("x-backend-status", "503")]);
    assert_eq!(r.status, 503);
    // The request counter proves the exchange went through the filter.
    let seen = wasm_host_tests::poll::try_wait_until(Duration::from_secs(10), || {
        let text = stack.envoy.prometheus();
        text.contains("gatehouse_requests_total").then_some(text)
    })
    .expect("no gatehouse metrics");
    assert!(!seen.contains(METRIC), "{seen}");
}
