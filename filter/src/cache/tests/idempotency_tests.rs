//! The Idempotency-Key state machine.

use super::*;
use crate::cache::idempotency::{self, REPLAYED_HEADER};

fn idem_policy(required: bool) -> CachePolicy {
    CachePolicy {
        idempotency: Some(IdempotencyPolicy {
            ttl_seconds: 3600,
            required,
            in_flight_seconds: 30,
        }),
        ..CachePolicy::default()
    }
}

impl Flow {
    fn post(&self, key: Option<&str>, body: &[u8], principal: Option<&str>) -> RequestStep {
        let mut headers = vec![];
        if let Some(k) = key {
            headers.push(("idempotency-key", k));
        }
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let req = CacheRequest {
            method: "POST",
            scheme: "http",
            authority: "pets.test",
            path: "/pets",
            headers: &headers,
            principal,
            operation: "default/pets/createPet",
            policy: &self.policy,
            request_id: "rid",
            request_id_header: "x-request-id",
            resolve_get: &|_| None,
        };
        match on_request(&self.settings, &self.host, &req, true) {
            RequestStep::NeedBody(awaiting) => {
                idempotency::on_request_body(&self.host, awaiting, body)
            }
            other => other,
        }
    }
}

const CREATED: Origin<'static> = Origin {
    status: 201,
    headers: &[
        ("content-type", "application/json"),
        ("location", "/pets/7"),
    ],
    body: b"{\"id\":7}",
};

#[test]
fn first_request_runs_then_retries_replay() {
    let f = Flow::new(idem_policy(false));
    let first = f.post(Some("\"k1\""), b"{\"name\":\"rex\"}", None);
    assert!(matches!(first, RequestStep::Forward { .. }));
    f.respond(first, &CREATED);
    let r = reply(f.post(Some("\"k1\""), b"{\"name\":\"rex\"}", None));
    assert_eq!(
        (r.status, r.body.as_slice()),
        (201, b"{\"id\":7}".as_slice())
    );
    assert_eq!(header(&r, REPLAYED_HEADER), Some("true"));
    assert_eq!(header(&r, "location"), Some("/pets/7"));
    assert_eq!(
        f.host
            .counter("result=.=replayed;.;gatehouse_idempotency_total"),
        1
    );
    // A bare token works as well as an sf-string.
    assert_eq!(
        reply(f.post(Some("k1"), b"{\"name\":\"rex\"}", None)).status,
        201
    );
}

#[test]
fn in_flight_is_409_and_another_payload_is_422() {
    let f = Flow::new(idem_policy(false));
    let first = f.post(Some("k"), b"a", None);
    let r = reply(f.post(Some("k"), b"a", None));
    assert_eq!(r.status, 409);
    assert_eq!(header(&r, "content-type"), Some("application/problem+json"));
    // While in flight every retry is 409, whatever its payload (decided before the body).
    assert_eq!(reply(f.post(Some("k"), b"b", None)).status, 409);
    f.respond(first, &CREATED);
    assert_eq!(reply(f.post(Some("k"), b"b", None)).status, 422);
    // Another worker VM sees the same record.
    let other = Flow {
        host: f.host.sibling(),
        settings: Settings::default(),
        policy: idem_policy(false),
    };
    assert_eq!(reply(other.post(Some("k"), b"a", None)).status, 201);
}

#[test]
fn failures_and_abandoned_exchanges_release_the_key() {
    let f = Flow::new(idem_policy(false));
    let first = f.post(Some("k"), b"a", None);
    f.respond(
        first,
        &Origin {
            status: 503,
            headers: &[],
            body: b"",
        },
    );
    let again = f.post(Some("k"), b"a", None);
    assert!(
        matches!(again, RequestStep::Forward { .. }),
        "5xx is not replayed"
    );
    // The exchange ends without a response (client gone): the key frees itself.
    let RequestStep::Forward { mut pending, .. } = again else {
        unreachable!()
    };
    on_done(&f.host, &mut pending);
    assert!(matches!(
        f.post(Some("k"), b"a", None),
        RequestStep::Forward { .. }
    ));
    // A crashed worker's in-flight record expires.
    set_time(&f.host, T0 + 31);
    assert!(matches!(
        f.post(Some("k"), b"a", None),
        RequestStep::Forward { .. }
    ));
}

#[test]
fn keys_are_scoped_per_principal_and_expire() {
    let f = Flow::new(idem_policy(false));
    f.respond(f.post(Some("k"), b"a", Some("idp\nalice")), &CREATED);
    assert!(matches!(
        f.post(Some("k"), b"a", Some("idp\nbob")),
        RequestStep::Forward { .. }
    ));
    assert_eq!(
        reply(f.post(Some("k"), b"a", Some("idp\nalice"))).status,
        201
    );
    set_time(&f.host, T0 + 3601);
    assert!(matches!(
        f.post(Some("k"), b"a", Some("idp\nalice")),
        RequestStep::Forward { .. }
    ));
}

#[test]
fn missing_and_malformed_keys() {
    let required = Flow::new(idem_policy(true));
    assert_eq!(reply(required.post(None, b"", None)).status, 400);
    let optional = Flow::new(idem_policy(false));
    assert!(matches!(optional.post(None, b"", None), RequestStep::Skip));
    let long = "x".repeat(300);
    for bad in ["", "\"\"", long.as_str(), "a\u{7f}b"] {
        assert_eq!(
            reply(optional.post(Some(bad), b"", None)).status,
            400,
            "{bad:?}"
        );
    }
}

#[test]
fn fingerprints_cover_method_path_and_body() {
    let a = idempotency::fingerprint("POST", "/p", b"x");
    assert_ne!(a, idempotency::fingerprint("PATCH", "/p", b"x"));
    assert_ne!(a, idempotency::fingerprint("POST", "/q", b"x"));
    assert_ne!(a, idempotency::fingerprint("POST", "/p", b"y"));
    assert_eq!(a, idempotency::fingerprint("POST", "/p", b"x"));
}

#[test]
fn a_claim_made_at_the_headers_answers_retries_409_and_is_released_if_the_exchange_dies() {
    let f = Flow::new(idem_policy(false));
    let headers = vec![("idempotency-key".to_owned(), "k".to_owned())];
    let req = CacheRequest {
        method: "POST",
        scheme: "http",
        authority: "pets.test",
        path: "/pets",
        headers: &headers,
        principal: None,
        operation: "default/pets/createPet",
        policy: &f.policy,
        request_id: "rid",
        request_id_header: "x-request-id",
        resolve_get: &|_| None,
    };
    let RequestStep::NeedBody(awaiting) = on_request(&f.settings, &f.host, &req, true) else {
        panic!("a body follows: wait for it");
    };
    // A retry racing the first, before its body arrived: 409 at the headers.
    let RequestStep::Reply(r) = on_request(&f.settings, &f.host, &req, true) else {
        panic!("expected 409 at the headers");
    };
    assert_eq!(r.status, 409);
    idempotency::release(&f.host, &awaiting);
    assert!(matches!(
        on_request(&f.settings, &f.host, &req, true),
        RequestStep::NeedBody(_)
    ));
}
