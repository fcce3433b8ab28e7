//! The validation phase through the engine, under the mock host.

use serde_json::{json, Value};

use super::*;
use crate::config::{
    Api, BodySpec, FilterConfig, MediaSpec, Method, Operation, Policies, Settings,
    ValidationPolicy, CONFIG_VERSION,
};
use crate::host::LogLevel;
use crate::params::{Location, ParamSpec, Scalar, Shape};
use crate::schema::{Compiler, Dialect, Direction, Options};
use crate::testing::MockHost;

fn schemas() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        json!({
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "id": {"type": "integer"},
            "token": {"type": "string", "pattern": "^[a-z]+$"},
            "session": {"type": "string", "minLength": 8},
            "pet": {"type": "object", "required": ["name"], "additionalProperties": false,
                    "properties": {"name": {"type": "string", "maxLength": 10},
                                   "age": {"type": "integer", "minimum": 0},
                                   "tags": {"type": "array", "items": {"type": "string"}}}}
        })
    })
}

fn param(name: &str, location: Location, scalar: Scalar, schema: u32) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        location,
        required: location == Location::Path,
        style: None,
        explode: None,
        allow_empty_value: false,
        shape: Shape::Scalar { scalar },
        sensitive: false,
        schema: Some(schema),
    }
}

fn policy(mode: ValidationMode) -> Policies {
    Policies {
        validation: Some(ValidationPolicy {
            mode,
            ..ValidationPolicy::default()
        }),
        ..Policies::default()
    }
}

fn config() -> &'static CompiledConfig {
    static CONFIG: std::sync::OnceLock<CompiledConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| {
        let mut compiler = Compiler::new(Options {
            dialect: Dialect::Draft2020_12,
            direction: Direction::Request,
            assert_formats: true,
        });
        compiler.add_document("t:/d.json", schemas());
        let mut root = |name: &str| compiler.compile_ref(&format!("t:/d.json#/{name}")).unwrap();
        let (limit, id, token, session, pet) = (
            root("limit"),
            root("id"),
            root("token"),
            root("session"),
            root("pet"),
        );
        let program = compiler.finish().unwrap();
        let pet_body = |max: Option<u32>| BodySpec {
            required: true,
            content: vec![
                MediaSpec {
                    media_type: "application/json".into(),
                    schema: Some(pet),
                    form: Vec::new(),
                },
                MediaSpec {
                    media_type: "application/x-www-form-urlencoded".into(),
                    schema: Some(pet),
                    form: vec![
                        (
                            "age".into(),
                            Shape::Scalar {
                                scalar: Scalar::Integer,
                            },
                        ),
                        (
                            "tags".into(),
                            Shape::Array {
                                items: Scalar::String,
                            },
                        ),
                    ],
                },
                MediaSpec {
                    media_type: "text/*".into(),
                    schema: None,
                    form: Vec::new(),
                },
            ],
            max_bytes: max,
        };
        let mut token_param = param("X-Token", Location::Header, Scalar::String, token);
        token_param.sensitive = true;
        let list = RequestSpec {
            parameters: vec![
                param("limit", Location::Query, Scalar::Integer, limit),
                token_param,
                param("session", Location::Cookie, Scalar::String, session),
            ],
            reject_unknown_query: true,
            body: None,
            responses: Vec::new(),
        };
        let mut required_limit = list.clone();
        required_limit.parameters[0].required = true;
        let operation = |id: &str, method, path: &str, mode, request| Operation {
            operation_id: id.into(),
            method,
            path: path.into(),
            policies: policy(mode),
            request: Some(request),
        };
        let config = FilterConfig {
            version: CONFIG_VERSION,
            settings: Settings::default(),
            providers: Vec::new(),
            apis: vec![Api {
                name: "default/pets".into(),
                hosts: vec!["pets.test".into()],
                base_path: "/v1".into(),
                strict: true,
                defaults: Policies::default(),
                operations: vec![
                    operation(
                        "listPets",
                        Method::Get,
                        "/pets",
                        ValidationMode::Enforce,
                        list,
                    ),
                    operation(
                        "search",
                        Method::Get,
                        "/search",
                        ValidationMode::Enforce,
                        required_limit,
                    ),
                    operation(
                        "getPet",
                        Method::Get,
                        "/pets/{petId}",
                        ValidationMode::Enforce,
                        RequestSpec {
                            parameters: vec![param("petId", Location::Path, Scalar::Integer, id)],
                            ..RequestSpec::default()
                        },
                    ),
                    operation(
                        "createPet",
                        Method::Post,
                        "/pets",
                        ValidationMode::Enforce,
                        RequestSpec {
                            body: Some(pet_body(Some(64))),
                            ..RequestSpec::default()
                        },
                    ),
                    operation(
                        "reportPet",
                        Method::Post,
                        "/report",
                        ValidationMode::Report,
                        RequestSpec {
                            body: Some(pet_body(None)),
                            ..RequestSpec::default()
                        },
                    ),
                    operation(
                        "offPet",
                        Method::Post,
                        "/off",
                        ValidationMode::Off,
                        RequestSpec {
                            body: Some(pet_body(None)),
                            ..RequestSpec::default()
                        },
                    ),
                ],
            }],
            schemas: Some(program),
        };
        // Through JSON, as on_configure sees it.
        let json = serde_json::to_vec(&config).unwrap();
        let compiled = CompiledConfig::from_json(&json).unwrap();
        validation::check_config(&compiled.source).unwrap();
        compiled
    })
}

/// What became of a request.
#[derive(Debug)]
enum Outcome {
    Forwarded { buffered: bool },
    Replied(LocalReply, Value),
}

fn send(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (Outcome, MockHost) {
    let config = config();
    let host = MockHost::new();
    let mut state = VmState::new(3);
    let head = RequestHead {
        method,
        path,
        authority: "pets.test",
        request_id: Some("rid-v"),
    };
    let Decision::Forward(forward) = on_request_headers(config, &mut state, &host, &head) else {
        panic!("not routed");
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let step = on_request_validation(
        config,
        &mut state,
        &host,
        &forward,
        path,
        &headers,
        body.is_none(),
    );
    let finish = |step: Validation| match step {
        Validation::Continue => Outcome::Forwarded { buffered: false },
        Validation::Reply(reply) => {
            let json = serde_json::from_slice(&reply.body).unwrap();
            Outcome::Replied(reply, json)
        }
        Validation::Body(_) => panic!("still buffering"),
    };
    let outcome = match step {
        Validation::Body(pending) => {
            let body = body.unwrap_or_default();
            // The glue refuses as soon as the buffered size passes the limit.
            let step = if body.len() > pending.max_bytes as usize {
                on_request_body_too_large(config, &mut state, &host, &pending)
            } else {
                on_request_body(config, &mut state, &host, &pending, body)
            };
            match finish(step) {
                Outcome::Forwarded { .. } => Outcome::Forwarded { buffered: true },
                other => other,
            }
        }
        other => finish(other),
    };
    (outcome, host)
}

fn rejected(outcome: Outcome, status: u16) -> (LocalReply, Value) {
    match outcome {
        Outcome::Replied(reply, body) => {
            assert_eq!(reply.status, status, "{body}");
            (reply, body)
        }
        other => panic!("expected {status}, got {other:?}"),
    }
}

fn errors(body: &Value) -> Vec<(String, String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
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

fn validation_metric(operation: &str, result: &str) -> String {
    format!(
        "api=.=default/pets;.;operation=.={operation};.;result=.={result};.;gatehouse_validation_total"
    )
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn valid_requests_are_forwarded_and_counted() {
    let (outcome, host) = send(
        "GET",
        "/v1/pets?limit=10",
        &[("x-token", "abc"), ("cookie", "a=1; session=abcdefghij")],
        None,
    );
    assert!(matches!(outcome, Outcome::Forwarded { buffered: false }));
    assert_eq!(host.counter(&validation_metric("listPets", "ok")), 1);

    let body = br#"{"name": "rex", "tags": ["a"]}"#;
    let (outcome, host) = send("POST", "/v1/pets", &[JSON], Some(body));
    assert!(matches!(outcome, Outcome::Forwarded { buffered: true }));
    assert_eq!(host.counter(&validation_metric("createPet", "ok")), 1);
}

#[test]
fn each_parameter_location_is_checked() {
    let (outcome, host) = send(
        "GET",
        "/v1/pets?limit=500",
        &[("cookie", "session=short")],
        None,
    );
    let (reply, body) = rejected(outcome, 400);
    assert_eq!(body["type"], "https://gatehouse.dev/problems/validation");
    assert_eq!(body["requestId"], "rid-v");
    assert_eq!(
        reply.headers[0],
        ("content-type".into(), "application/problem+json".into())
    );
    assert_eq!(
        errors(&body),
        vec![
            e("query", "/limit", "maximum"),
            e("cookie", "/session", "minLength")
        ]
    );
    assert_eq!(host.counter(&validation_metric("listPets", "violation")), 1);
    assert!(host.logged(LogLevel::Info, "request_id=rid-v"));

    let (outcome, _) = send("GET", "/v1/pets/abc", &[], None);
    let (_, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("path", "/petId", "type")]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("integer"),
        "{body}"
    );
    let (outcome, _) = send("GET", "/v1/pets/12", &[], None);
    assert!(matches!(outcome, Outcome::Forwarded { .. }));
}

#[test]
fn missing_required_and_unknown_query_parameters() {
    let (outcome, _) = send("GET", "/v1/search", &[], None);
    let (_, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("query", "/limit", "required")]);

    let (outcome, _) = send("GET", "/v1/pets?limit=1&debug=1&x%2Fy=2", &[], None);
    let (_, body) = rejected(outcome, 400);
    assert_eq!(
        errors(&body),
        vec![
            e("query", "/debug", "additionalProperties"),
            e("query", "/x~1y", "additionalProperties")
        ]
    );
}

#[test]
fn sensitive_header_values_are_never_echoed() {
    let secret = "SECRET-Token-Value";
    let (outcome, host) = send("GET", "/v1/pets", &[("x-token", secret)], None);
    let (reply, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("header", "/X-Token", "pattern")]);
    let text = String::from_utf8(reply.body).unwrap();
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("^[a-z]+$"), "not even the pattern: {text}");
    assert!(host.logs.borrow().iter().all(|(_, m)| !m.contains(secret)));
}

#[test]
fn body_size_limit_from_content_length_and_while_streaming() {
    let big = vec![b' '; 100];
    // Content-Length over the limit: answered before any byte is buffered.
    let (outcome, _) = send(
        "POST",
        "/v1/pets",
        &[JSON, ("content-length", "100")],
        Some(&big),
    );
    let (_, body) = rejected(outcome, 413);
    assert_eq!(
        body["type"],
        "https://gatehouse.dev/problems/body-too-large"
    );
    // Without Content-Length (chunked): counted while buffering.
    let (outcome, _) = send("POST", "/v1/pets", &[JSON], Some(&big));
    rejected(outcome, 413);
}

#[test]
fn undeclared_content_type_is_415_with_the_declared_types() {
    let (outcome, _) = send(
        "POST",
        "/v1/pets",
        &[("content-type", "application/xml")],
        Some(b"<pet/>"),
    );
    let (reply, body) = rejected(outcome, 415);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("application/json, application/x-www-form-urlencoded, text/*"),
        "{detail}"
    );
    assert!(reply.headers.iter().any(|(k, _)| k == "accept-post"));
    let (outcome, _) = send("POST", "/v1/pets", &[], Some(b"{}"));
    rejected(outcome, 415);
    // A declared range matches; declared-only types are not parsed.
    let (outcome, _) = send(
        "POST",
        "/v1/pets",
        &[("content-type", "text/plain; charset=utf-8")],
        Some(b"anything"),
    );
    assert!(matches!(outcome, Outcome::Forwarded { .. }));
}

#[test]
fn missing_body_and_malformed_json() {
    let (outcome, _) = send("POST", "/v1/pets", &[JSON], None);
    let (_, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("body", "", "required")]);

    let (outcome, _) = send("POST", "/v1/pets", &[JSON], Some(b"{\"name\": "));
    let (_, body) = rejected(outcome, 400);
    assert_eq!(
        body["type"],
        "https://gatehouse.dev/problems/malformed-body"
    );

    let deep = format!("{}{}", "[".repeat(30), "]".repeat(30));
    let (outcome, _) = send(
        "POST",
        "/v1/report",
        &[JSON],
        Some(format!("{}{}", "[".repeat(200), "]".repeat(200)).as_bytes()),
    );
    assert!(matches!(outcome, Outcome::Forwarded { .. }), "report mode");
    let (outcome, _) = send("POST", "/v1/pets", &[JSON], Some(deep.as_bytes()));
    let (_, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("body", "", "type")]);
}

#[test]
fn body_violations_carry_json_pointers() {
    let (outcome, _) = send(
        "POST",
        "/v1/pets",
        &[("content-type", "application/json; charset=utf-8")],
        Some(br#"{"name": 5, "tags": ["a", 2], "x": 1}"#),
    );
    let (_, body) = rejected(outcome, 400);
    let mut got = errors(&body);
    got.sort();
    assert_eq!(
        got,
        vec![
            e("body", "/name", "type"),
            e("body", "/tags/1", "type"),
            e("body", "/x", "additionalProperties"),
        ]
    );
}

#[test]
fn form_bodies_are_coerced_like_parameters() {
    let form = ("content-type", "application/x-www-form-urlencoded");
    let (outcome, _) = send(
        "POST",
        "/v1/pets",
        &[form],
        Some(b"name=rex&age=3&tags=a&tags=b"),
    );
    assert!(matches!(outcome, Outcome::Forwarded { buffered: true }));
    let (outcome, _) = send("POST", "/v1/pets", &[form], Some(b"name=rex&age=old"));
    let (_, body) = rejected(outcome, 400);
    assert_eq!(errors(&body), vec![e("body", "/age", "type")]);
}

#[test]
fn report_mode_forwards_logs_and_counts() {
    let (outcome, host) = send("POST", "/v1/report", &[JSON], Some(br#"{"name": 1}"#));
    assert!(matches!(outcome, Outcome::Forwarded { buffered: true }));
    assert!(host.logged(LogLevel::Warn, "request_id=rid-v"));
    assert!(host.logged(LogLevel::Warn, "validation (report) 400"));
    assert_eq!(
        host.counter(&validation_metric("reportPet", "violation")),
        1
    );
    // 415 in report mode: forwarded too.
    let (outcome, host) = send(
        "POST",
        "/v1/report",
        &[("content-type", "image/png")],
        Some(b"x"),
    );
    assert!(matches!(outcome, Outcome::Forwarded { .. }));
    assert_eq!(
        host.counter(&validation_metric("reportPet", "violation")),
        1
    );
}

#[test]
fn mode_off_costs_nothing() {
    let (outcome, host) = send(
        "POST",
        "/v1/off",
        &[("content-type", "image/png")],
        Some(b"x"),
    );
    assert!(matches!(outcome, Outcome::Forwarded { buffered: false }));
    assert!(host
        .counter_names()
        .iter()
        .all(|n| !n.ends_with("gatehouse_validation_total")));
    let matched = Matched {
        api: 0,
        operation: 5,
        params: Vec::new(),
    };
    assert!(validation_for(config(), &matched).is_none());
}

#[test]
fn bad_schema_references_are_refused_at_configure() {
    let mut source = config().source.clone();
    source.apis[0].operations[0]
        .request
        .as_mut()
        .unwrap()
        .parameters[0]
        .schema = Some(9999);
    let e = validation::check_config(&source).unwrap_err();
    assert_eq!(
        e.pointer,
        "/apis/0/operations/0/request/parameters/0/schema"
    );
    source.schemas = None;
    assert!(validation::check_config(&source).is_err());
}
