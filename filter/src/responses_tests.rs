//! Response validation under the mock host.

use serde_json::json;

use super::*;
use crate::engine::{on_request_headers, Decision, RequestHead, VmState};
use crate::schema::{Compiler, Dialect, Direction, Options};
use crate::testing::MockHost;

fn config(responses: &str) -> CompiledConfig {
    let mut compiler = Compiler::new(Options::new(Dialect::OpenApi30));
    let doc = json!({
        "pet": {"type": "object", "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                               "secret": {"type": "string", "writeOnly": true}}},
        "problem": {"type": "object", "required": ["title"]}
    });
    compiler.add_document("t:/r.json", &doc);
    compiler.set_direction(Direction::Response);
    let pet = compiler.compile_ref("t:/r.json#/pet").unwrap();
    let problem = compiler.compile_ref("t:/r.json#/problem").unwrap();
    let program = compiler.finish().unwrap();
    let config = json!({
        "version": 1,
        "apis": [{
            "name": "default/pets", "hosts": ["pets.test"],
            "defaults": {"validation": {"mode": "off", "responses": responses}},
            "operations": [
                {"operationId": "getPet", "method": "GET", "path": "/pets/{id}",
                 "request": {"responses": [
                    {"status": "200", "content": [{"mediaType": "application/json", "schema": pet}]},
                    {"status": "4XX", "content": [{"mediaType": "application/problem+json", "schema": problem}]},
                    {"status": "204"}
                 ]}},
                {"operationId": "other", "method": "GET", "path": "/other"}
            ]
        }],
        "schemas": program
    });
    let compiled = CompiledConfig::from_json(&serde_json::to_vec(&config).unwrap()).unwrap();
    crate::validation::check_config(&compiled.source).unwrap();
    compiled
}

/// Runs one exchange: request routed, response headers, body in `chunks`.
fn exchange(
    config: &CompiledConfig,
    path: &str,
    status: &str,
    content_type: Option<&str>,
    chunks: &[&[u8]],
) -> MockHost {
    let host = MockHost::new();
    let mut state = VmState::new(1);
    let head = RequestHead {
        method: "GET",
        path,
        authority: "pets.test",
        request_id: Some("rid-r"),
    };
    let Decision::Forward(forward) = on_request_headers(config, &mut state, &host, &head) else {
        panic!("not routed");
    };
    let mut ex = Exchange::default();
    ex.watch(config, forward.matched.as_ref(), &forward.request_id);
    let head = ResponseHead {
        status: Some(status),
        content_type,
        content_encoding: None,
        end_of_stream: chunks.is_empty(),
    };
    ex.on_headers(config, &mut state.responses, &host, &head);
    for (i, chunk) in chunks.iter().enumerate() {
        if ex.wants_body() {
            ex.on_body(
                config,
                &mut state.responses,
                &host,
                chunk,
                i + 1 == chunks.len(),
            );
        }
    }
    host
}

fn counter(host: &MockHost, operation: &str, status: u16, result: &str) -> i64 {
    host.counter(&tagged_name(
        "gatehouse_response_validation_total",
        &[
            ("api", "default/pets"),
            ("operation", operation),
            ("status", &status.to_string()),
            ("result", result),
        ],
    ))
}

fn warnings(host: &MockHost) -> Vec<String> {
    host.logs
        .borrow()
        .iter()
        .filter(|(l, _)| *l == LogLevel::Warn)
        .map(|(_, m)| m.clone())
        .collect()
}

#[test]
fn a_conforming_response_counts_ok_and_logs_nothing() {
    let c = config("report");
    let host = exchange(
        &c,
        "/pets/1",
        "200",
        Some("application/json; charset=utf-8"),
        &[br#"{"id": 1, "#, br#""name": "Rex"}"#],
    );
    assert_eq!(counter(&host, "getPet", 200, "ok"), 1);
    assert_eq!(counter(&host, "getPet", 200, "violation"), 0);
    assert!(warnings(&host).is_empty());
}

#[test]
fn body_violations_are_counted_and_logged_without_values() {
    let c = config("report");
    let host = exchange(
        &c,
        "/pets/1",
        "200",
        Some("application/json"),
        &[br#"{"id": "SECRET-VALUE", "secret": "hunter2"}"#],
    );
    assert_eq!(counter(&host, "getPet", 200, "violation"), 1);
    let logs = warnings(&host);
    assert_eq!(logs.len(), 1, "{logs:?}");
    let line = &logs[0];
    assert!(line.contains("request_id=rid-r"), "{line}");
    assert!(line.contains("operation=getPet"), "{line}");
    assert!(line.contains("status 200"), "{line}");
    assert!(line.contains(r#""/id" type"#), "{line}");
    assert!(line.contains(r#""" required"#), "{line}");
    assert!(line.contains(r#""/secret" writeOnly"#), "{line}");
    assert!(
        !line.contains("SECRET-VALUE") && !line.contains("hunter2"),
        "{line}"
    );
}

#[test]
fn undeclared_status_and_content_type_are_violations() {
    let c = config("report");
    let host = exchange(&c, "/pets/1", "500", Some("application/json"), &[b"{}"]);
    assert_eq!(counter(&host, "getPet", 500, "violation"), 1);
    assert!(warnings(&host)[0].contains(r#""" status"#));

    let host = exchange(&c, "/pets/1", "200", Some("text/html"), &[b"<html>"]);
    assert_eq!(counter(&host, "getPet", 200, "violation"), 1);
    assert!(warnings(&host)[0].contains(r#""" content-type"#));
}

#[test]
fn ranges_and_bodiless_responses() {
    let c = config("report");
    // 404 falls under 4XX; its problem body is checked against that schema.
    let host = exchange(
        &c,
        "/pets/1",
        "404",
        Some("application/problem+json"),
        &[br#"{"title": "Not Found"}"#],
    );
    assert_eq!(counter(&host, "getPet", 404, "ok"), 1);
    let host = exchange(
        &c,
        "/pets/1",
        "409",
        Some("application/problem+json"),
        &[b"{}"],
    );
    assert_eq!(counter(&host, "getPet", 409, "violation"), 1);
    // 204 declares no content: nothing more is compared.
    let host = exchange(&c, "/pets/1", "204", None, &[]);
    assert_eq!(counter(&host, "getPet", 204, "ok"), 1);
    // A declared body that is not sent is not a violation.
    let host = exchange(&c, "/pets/1", "200", Some("application/json"), &[]);
    assert_eq!(counter(&host, "getPet", 200, "ok"), 1);
}

#[test]
fn malformed_and_oversized_bodies() {
    let c = config("report");
    let host = exchange(
        &c,
        "/pets/1",
        "200",
        Some("application/json"),
        &[b"{\"id\": "],
    );
    assert_eq!(counter(&host, "getPet", 200, "violation"), 1);
    assert!(warnings(&host)[0].contains("malformed-body"));

    let big = vec![b' '; MAX_RESPONSE_BYTES];
    let host = exchange(
        &c,
        "/pets/1",
        "200",
        Some("application/json"),
        &[b"{\"id\": \"x\"}", &big],
    );
    // Too large to copy: counted as checked for status and content type only.
    assert_eq!(counter(&host, "getPet", 200, "ok"), 1);
    assert!(warnings(&host).is_empty());
}

#[test]
fn off_and_unwatched_operations_cost_nothing() {
    let c = config("off");
    let host = exchange(&c, "/pets/1", "500", Some("text/html"), &[b"x"]);
    assert_eq!(counter(&host, "getPet", 500, "violation"), 0);
    assert!(host.logs.borrow().is_empty());

    let c = config("report");
    let host = exchange(&c, "/other", "500", Some("text/html"), &[b"x"]);
    assert_eq!(counter(&host, "other", 500, "violation"), 0);
    assert!(warnings(&host).is_empty());
}

#[test]
fn local_replies_are_not_checked() {
    let c = config("report");
    let host = MockHost::new();
    let mut state = VmState::new(1);
    let head = RequestHead {
        method: "GET",
        path: "/pets/1",
        authority: "pets.test",
        request_id: None,
    };
    let Decision::Forward(forward) = on_request_headers(&c, &mut state, &host, &head) else {
        panic!("not routed");
    };
    let mut ex = Exchange::default();
    ex.watch(&c, forward.matched.as_ref(), &forward.request_id);
    assert!(ex.watching());
    ex.forget();
    let head = ResponseHead {
        status: Some("400"),
        content_type: Some("application/problem+json"),
        content_encoding: None,
        end_of_stream: false,
    };
    ex.on_headers(&c, &mut state.responses, &host, &head);
    assert!(!ex.wants_body());
    assert_eq!(counter(&host, "getPet", 400, "ok"), 0);
    assert_eq!(counter(&host, "getPet", 400, "violation"), 0);
}

#[test]
fn status_keys() {
    for ok in ["200", "2XX", "4xx", "default", "599"] {
        assert!(status_key_valid(ok), "{ok}");
    }
    for bad in ["", "20", "2000", "6XX", "2X0", "DEFAULT", "abc"] {
        assert!(!status_key_valid(bad), "{bad}");
    }
}
