use super::*;
use crate::testing::MockHost;

const CONFIG: &str = r#"{
  "version": 1,
  "apis": [
    {"name": "default/pets", "hosts": ["pets.test"], "basePath": "/v1", "strict": true,
     "operations": [
       {"operationId": "getPet", "method": "GET", "path": "/pets/{petId}"},
       {"operationId": "listPets", "method": "GET", "path": "/pets"}
     ]},
    {"name": "default/legacy", "hosts": ["pets.test"], "basePath": "/legacy", "strict": false,
     "operations": [{"operationId": "old", "method": "GET", "path": "/old"}]}
  ]
}"#;

fn config() -> &'static CompiledConfig {
    static CONFIG_ONCE: std::sync::OnceLock<CompiledConfig> = std::sync::OnceLock::new();
    CONFIG_ONCE.get_or_init(|| CompiledConfig::from_json(CONFIG.as_bytes()).unwrap())
}

fn run(method: &str, path: &str, request_id: Option<&str>) -> (Decision<'static>, MockHost) {
    let config = config();
    let host = MockHost::new();
    host.now_nanos.set(1_700_000_000_000_000_000);
    let mut state = VmState::new(7);
    let head = RequestHead {
        method,
        path,
        authority: "pets.test:8080",
        request_id,
    };
    let decision = on_request_headers(config, &mut state, &host, &head);
    (decision, host)
}

fn metric(api: &str, operation: &str, result: &str) -> String {
    format!("api=.={api};.;operation=.={operation};.;result=.={result};.;gatehouse_requests_total")
}

fn reply(decision: Decision<'_>) -> (LocalReply, serde_json::Value) {
    match decision {
        Decision::Reply(reply) => {
            let body = serde_json::from_slice(&reply.body).unwrap();
            (reply, body)
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn header<'a>(reply: &'a LocalReply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn routed_requests_carry_the_operation_and_strip_spoofed_copies() {
    let (decision, host) = run("GET", "/v1/pets/9", Some("rid-1"));
    let Decision::Forward(forward) = decision else {
        panic!("not forwarded");
    };
    assert_eq!(forward.request_id, "rid-1");
    assert!(!forward.generated_request_id);
    // The glue sets (replacing client copies) when routed, removes them otherwise.
    assert_eq!(forward.operation_tag, Some("default/pets/getPet"));
    assert_eq!(
        forward.matched,
        Some(Matched {
            api: 0,
            operation: 0,
            params: vec![("petId".into(), "9".into())]
        })
    );
    assert_eq!(host.counter(&metric("default/pets", "getPet", "routed")), 1);
}

#[test]
fn a_missing_or_unacceptable_request_id_is_generated_and_forwarded() {
    for given in [None, Some(""), Some("has space"), Some("line\nbreak")] {
        let (decision, _) = run("GET", "/v1/pets", given);
        let Decision::Forward(forward) = decision else {
            panic!("not forwarded");
        };
        assert_eq!(forward.request_id.len(), 36, "{given:?}");
        assert!(forward.generated_request_id);
    }
    let long = "a".repeat(MAX_REQUEST_ID + 1);
    let (decision, _) = run("GET", "/v1/pets", Some(&long));
    assert!(
        matches!(decision, Decision::Forward(f) if f.request_id != long && f.generated_request_id)
    );
}

#[test]
fn strict_unknown_route_is_a_404_problem_with_the_request_id() {
    let (decision, host) = run("GET", "/v1/cats?x=secret", Some("rid-404"));
    let (reply, body) = reply(decision);
    assert_eq!(reply.status, 404);
    assert_eq!(
        header(&reply, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&reply, "x-request-id"), Some("rid-404"));
    assert_eq!(body["status"], 404);
    assert_eq!(body["requestId"], "rid-404");
    assert_eq!(body["instance"], "/v1/cats");
    assert_eq!(body["type"], "https://gatehouse.dev/problems/not-found");
    assert!(
        !body.to_string().contains("secret"),
        "query strings are not echoed"
    );
    assert!(host.logged(crate::host::LogLevel::Info, "request_id=rid-404"));
    assert_eq!(host.counter(&metric("default/pets", "-", "not_found")), 1);
}

#[test]
fn strict_wrong_method_is_a_405_with_allow() {
    let (decision, host) = run("DELETE", "/v1/pets", Some("r"));
    let (reply, body) = reply(decision);
    assert_eq!(reply.status, 405);
    assert_eq!(header(&reply, "allow"), Some("GET, HEAD"));
    assert_eq!(body["title"], "Method Not Allowed");
    assert_eq!(
        host.counter(&metric("default/pets", "-", "method_not_allowed")),
        1
    );
}

#[test]
fn malformed_paths_are_a_400_problem() {
    let (decision, host) = run("GET", "/v1/pets/..%2Fadmin", Some("r"));
    let (reply, body) = reply(decision);
    assert_eq!(reply.status, 400);
    assert_eq!(
        body["type"],
        "https://gatehouse.dev/problems/malformed-path"
    );
    assert_eq!(host.counter(&metric("default/pets", "-", "malformed")), 1);
}

#[test]
fn non_strict_and_unmanaged_requests_pass_through() {
    let (decision, host) = run("GET", "/legacy/unknown", Some("r"));
    assert!(matches!(
        decision,
        Decision::Forward(Forward {
            matched: None,
            operation_tag: None,
            generated_request_id: false,
            ..
        })
    ));
    assert_eq!(
        host.counter(&metric("default/legacy", "-", "passthrough")),
        1
    );

    let (decision, host) = run("GET", "/elsewhere", Some("r"));
    assert!(matches!(
        decision,
        Decision::Forward(Forward {
            matched: None,
            operation_tag: None,
            ..
        })
    ));
    assert_eq!(host.counter(&metric("-", "-", "unmanaged")), 1);
}

#[test]
fn counters_are_defined_once_per_label_set() {
    let config = config();
    let host = MockHost::new();
    let mut state = VmState::new(1);
    for _ in 0..3 {
        let head = RequestHead {
            method: "GET",
            path: "/v1/pets",
            authority: "pets.test",
            request_id: Some("r"),
        };
        on_request_headers(config, &mut state, &host, &head);
    }
    assert_eq!(host.counter_names().len(), 1);
    assert_eq!(
        host.counter(&metric("default/pets", "listPets", "routed")),
        3
    );
}
