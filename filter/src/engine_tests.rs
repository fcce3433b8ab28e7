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

mod auth_wiring {
    //! The auth phase as the glue drives it: routing picks the policy (operation, API
    //! defaults on pass-through), `on_request_auth` decides.

    use serde_json::{json, Value};

    use super::super::*;
    use crate::auth::{AuthDecision, AuthSettings, AuthState};
    use crate::jwt::fixtures as f;
    use crate::testing::MockHost;

    /// `secure` (strict): `getPet` needs an idp token with scope `read`, `admin` needs
    /// scope `admin`, `health` is public (`anyOf: []`), `plain` inherits nothing.
    /// `legacy` (non-strict): defaults need any idp token; `open` overrides with public.
    /// `free`: no auth anywhere.
    fn config() -> CompiledConfig {
        let mut providers: Value = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
        providers[0]["forwardClaims"] = json!({"x-user": "sub"});
        let need = |scopes: &[&str]| json!({"anyOf": [{"allOf": [{"provider": "idp", "scopes": scopes}]}]});
        let doc = json!({
            "version": 1,
            "providers": providers,
            "apis": [
                {"name": "default/secure", "hosts": ["secure.test"], "strict": true,
                 "operations": [
                    {"operationId": "getPet", "method": "GET", "path": "/pets/{id}",
                     "policies": {"auth": need(&["read"])}},
                    {"operationId": "admin", "method": "GET", "path": "/admin",
                     "policies": {"auth": need(&["admin"])}},
                    {"operationId": "health", "method": "GET", "path": "/health",
                     "policies": {"auth": {"anyOf": []}}},
                    {"operationId": "plain", "method": "GET", "path": "/plain"}
                 ]},
                {"name": "default/legacy", "hosts": ["legacy.test"], "strict": false,
                 "defaults": {"auth": need(&[])},
                 "operations": [
                    {"operationId": "old", "method": "GET", "path": "/old"},
                    {"operationId": "open", "method": "GET", "path": "/open",
                     "policies": {"auth": {"anyOf": []}}}
                 ]},
                {"name": "default/free", "hosts": ["free.test"], "strict": false,
                 "operations": [{"operationId": "any", "method": "GET", "path": "/any"}]}
            ]
        });
        CompiledConfig::from_json(doc.to_string().as_bytes()).unwrap()
    }

    struct Run {
        decision: Option<AuthDecision>,
        reply: Option<LocalReply>,
        host: MockHost,
    }

    fn run(authority: &str, path: &str, headers: &[(&str, &str)]) -> Run {
        let config = config();
        let host = MockHost::new();
        host.now_nanos.set(f::NOW * 1_000_000_000);
        host.signature_answer.set(None);
        let mut state = VmState::new(3);
        let mut auth = AuthState::new(&config.providers, AuthSettings::default(), &host, 9);
        let head = RequestHead {
            method: "GET",
            path,
            authority,
            request_id: Some("rid-7"),
        };
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        match on_request_headers(&config, &mut state, &host, &head) {
            Decision::Forward(forward) => {
                let public = auth_is_public(forward.auth);
                let seen: &[(String, String)] = if public { &[] } else { &headers };
                let decision = on_request_auth(&config, &mut auth, &host, &forward, path, seen);
                Run {
                    decision: Some(decision),
                    reply: None,
                    host,
                }
            }
            Decision::Reply(reply) => Run {
                decision: None,
                reply: Some(reply),
                host,
            },
        }
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn rejected(run: &Run) -> (u16, String, Value) {
        match &run.decision {
            Some(AuthDecision::Rejected { reply, .. }) => (
                reply.status,
                super::header(reply, "www-authenticate")
                    .unwrap_or_default()
                    .to_owned(),
                serde_json::from_slice(&reply.body).unwrap(),
            ),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    fn allowed(run: &Run) -> (&[(String, String)], &[String]) {
        match &run.decision {
            Some(AuthDecision::Allowed { forward, strip, .. }) => (forward, strip),
            other => panic!("expected an admission, got {other:?}"),
        }
    }

    #[test]
    fn operation_auth_admits_good_tokens_and_forwards_claims() {
        let token = bearer(f::GOOD_RS256);
        let r = run("secure.test", "/pets/1", &[("authorization", &token)]);
        let (forward, strip) = allowed(&r);
        assert!(forward.contains(&("x-user".to_owned(), "user-1".to_owned())));
        assert!(strip.iter().any(|s| s == "x-user"));
        assert_eq!(
            r.host
                .counter("provider=.=idp;.;result=.=allowed;.;gatehouse_auth_total"),
            1
        );
    }

    #[test]
    fn operation_auth_answers_401_and_403_with_challenges() {
        let r = run("secure.test", "/pets/1", &[]);
        let (status, challenge, body) = rejected(&r);
        assert_eq!(status, 401);
        assert_eq!(challenge, r#"Bearer realm="default/secure""#);
        assert_eq!(body["requestId"], "rid-7");
        assert_eq!(body["instance"], "/pets/1");
        assert!(r
            .host
            .logged(crate::host::LogLevel::Info, "rejected 401 auth"));

        let token = bearer(f::EXPIRED);
        let (status, challenge, _) =
            rejected(&run("secure.test", "/pets/1", &[("authorization", &token)]));
        assert_eq!(status, 401);
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );

        let token = bearer(f::GOOD_RS256);
        let (status, challenge, _) =
            rejected(&run("secure.test", "/admin", &[("authorization", &token)]));
        assert_eq!(status, 403);
        assert!(
            challenge.contains(r#"error="insufficient_scope""#),
            "{challenge}"
        );
    }

    #[test]
    fn public_operations_read_no_token_but_strip_forwarded_headers() {
        for path in ["/health", "/plain"] {
            let r = run(
                "secure.test",
                path,
                &[("authorization", "Bearer garbage"), ("x-user", "root")],
            );
            let (forward, strip) = allowed(&r);
            assert!(forward.is_empty(), "{path}");
            assert_eq!(strip, ["x-user".to_owned()], "{path}");
            assert!(r.host.counter_names().iter().all(|n| !n.contains("auth")));
        }
        // `anyOf: []` on an operation overrides the API's defaults.
        let r = run("legacy.test", "/open", &[]);
        assert!(matches!(r.decision, Some(AuthDecision::Allowed { .. })));
    }

    #[test]
    fn unmatched_requests_on_a_non_strict_api_use_its_default_auth() {
        // Undocumented path: passed through, but not without a token.
        let r = run("legacy.test", "/undocumented", &[]);
        let (status, challenge, _) = rejected(&r);
        assert_eq!(status, 401);
        assert_eq!(challenge, r#"Bearer realm="default/legacy""#);
        let token = bearer(f::GOOD_ES256);
        let r = run("legacy.test", "/undocumented", &[("authorization", &token)]);
        allowed(&r);
        // A documented operation inherits the defaults too.
        let (status, _, _) = rejected(&run("legacy.test", "/old", &[]));
        assert_eq!(status, 401);
        // An API without auth, and requests no API claims, pass untouched.
        for (host, path) in [("free.test", "/whatever"), ("nobody.test", "/x")] {
            let r = run(host, path, &[]);
            let (forward, _) = allowed(&r);
            assert!(forward.is_empty());
        }
    }

    #[test]
    fn strict_refusals_happen_before_auth() {
        let r = run("secure.test", "/nope", &[]);
        assert!(r.decision.is_none());
        assert_eq!(r.reply.map(|r| r.status), Some(404));
    }
}
