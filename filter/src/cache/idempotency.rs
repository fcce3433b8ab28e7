//! `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header) for POST and PATCH.
//!
//! Per key (scoped by operation and principal) the store holds one record:
//!
//! ```text
//!            first request                     response < 500, body fits
//! (absent) ───────────────▶ in flight(fp) ───────────────────────────────▶ done(fp, response)
//!                               │  5xx, too large, or the exchange ends
//!                               └─────────────────────────────────────────▶ (absent)
//! ```
//!
//! A request with a key finds: nothing → it runs (record written with `IfAbsent`, so of two
//! racing workers exactly one runs); the same fingerprint in flight → 409; the same
//! fingerprint done → the stored response is replayed; another fingerprint → 422.
//! The fingerprint is SHA-256 over method, path (with query) and body.

use sha2::{Digest, Sha256};

use super::entry::{Payload, Stored};
use super::store::{Limits, PutMode, PutOutcome, Store};
use super::{with_vm, CacheRequest, Outcome, Pending, PendingKind, RequestStep, ResponseStep};
use crate::host::{Host, LogLevel};
use crate::problem::{LocalReply, Problem};

/// Longest key accepted (the draft leaves it to the server).
pub const MAX_KEY_LEN: usize = 255;
/// Request header carrying the key.
pub const HEADER: &str = "idempotency-key";
/// Response header marking a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A request with a key, waiting for its body to be fingerprinted.
#[derive(Debug, Clone)]
pub struct AwaitingBody {
    key: String,
    method: String,
    path: String,
    request_id: String,
    request_id_header: String,
    operation: String,
    ttl: u32,
    in_flight: u32,
    limits: Limits,
    status_header: String,
    /// This request holds the key (claimed in flight at its headers).
    claimed: Option<super::store::SlotRef>,
}

/// An idempotent request forwarded to the upstream, holding its key.
#[derive(Debug)]
pub struct Running {
    key: String,
    slot: super::store::SlotRef,
    fingerprint: [u8; 32],
    operation: String,
    ttl: u32,
    /// The response to store, after its headers.
    response: Option<Stored>,
    /// Finished (stored or released): nothing left to clean up.
    settled: bool,
}

impl Running {
    pub(crate) fn abandon(&mut self) {
        self.response = None;
    }
}

/// Fingerprint of a request: method, path and body.
#[must_use]
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().into()
}

fn problem(
    a: &AwaitingBody,
    status: u16,
    slug: &str,
    title: &'static str,
    detail: &str,
) -> LocalReply {
    Problem::new(status, slug, title, detail, &a.request_id)
        .with_instance(&a.path)
        .into_reply(&a.request_id_header, Vec::new())
}

/// The key as sent: an RFC 8941 string (`"abc"`) or, leniently, a bare token.
fn parse_key(value: &str) -> Option<&str> {
    let v = value.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v);
    (!v.is_empty() && v.len() <= MAX_KEY_LEN && v.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .then_some(v)
}

pub(crate) fn on_request(
    _settings: &crate::config::Settings,
    host: &dyn Host,
    request: &CacheRequest<'_>,
    limits: Limits,
    body_follows: bool,
    status_header: String,
) -> RequestStep {
    let Some(policy) = request.policy.idempotency.as_ref() else {
        return RequestStep::Skip;
    };
    let values: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n == HEADER)
        .map(|(_, v)| v.as_str())
        .collect();
    let mut awaiting = AwaitingBody {
        key: String::new(),
        method: request.method.to_owned(),
        path: request.path.to_owned(),
        request_id: request.request_id.to_owned(),
        request_id_header: request.request_id_header.to_owned(),
        operation: request.operation.to_owned(),
        ttl: policy.ttl_seconds,
        in_flight: policy.in_flight_seconds.max(1),
        limits,
        status_header,
        claimed: None,
    };
    let key = match values.as_slice() {
        [] if policy.required => {
            return RequestStep::Reply(problem(
                &awaiting,
                400,
                "idempotency-key-missing",
                "Bad Request",
                "this operation requires an Idempotency-Key header",
            ))
        }
        [] => return RequestStep::Skip,
        [one] => parse_key(one),
        _ => None,
    };
    let Some(key) = key else {
        return RequestStep::Reply(problem(
            &awaiting,
            400,
            "idempotency-key-invalid",
            "Bad Request",
            "Idempotency-Key must be one string of 1 to 255 printable characters",
        ));
    };
    let principal = request.principal.unwrap_or("-");
    awaiting.key = format!(
        "I1\n{}\n{}\n{}",
        request.operation,
        principal.replace('\n', " "),
        key
    );
    if !body_follows {
        return on_request_body(host, awaiting, &[]);
    }
    // Decided before the body where possible: the upstream sees a request's headers as
    // soon as they pass (a paused header phase would never get the body), so a retry
    // of a request in flight is answered 409 here, and a first request claims the key
    // here so that a retry racing it finds the claim.
    let store = Store { host, limits };
    match store
        .get(&awaiting.key)
        .and_then(|(_, p)| Payload::decode(&p))
    {
        Some(Payload::Idempotency { done: None, .. }) => {
            with_vm(|vm| vm.count(host, "gatehouse_idempotency_total", Some("conflict"), 1));
            RequestStep::Reply(in_flight(&awaiting))
        }
        // Replay or 422, decided on the body's fingerprint.
        Some(Payload::Idempotency { done: Some(_), .. }) => RequestStep::NeedBody(awaiting),
        _ => {
            let now = host.now_nanos() / 1_000_000_000;
            let claim = Payload::Idempotency {
                fingerprint: UNKNOWN,
                done: None,
            }
            .encode();
            let expires = u32::try_from(now + u64::from(awaiting.in_flight)).unwrap_or(u32::MAX);
            let put = with_vm(|vm| {
                store.put(
                    &mut vm.refs,
                    &awaiting.key,
                    &claim,
                    expires,
                    PutMode::IfAbsent,
                )
            });
            match put {
                PutOutcome::Stored { slot, .. } => {
                    awaiting.claimed = Some(slot);
                    RequestStep::NeedBody(awaiting)
                }
                PutOutcome::Exists => {
                    with_vm(|vm| {
                        vm.count(host, "gatehouse_idempotency_total", Some("conflict"), 1)
                    });
                    RequestStep::Reply(in_flight(&awaiting))
                }
                PutOutcome::TooLarge | PutOutcome::Failed => RequestStep::NeedBody(awaiting),
            }
        }
    }
}

/// Fingerprint of a claim made before the body was read.
const UNKNOWN: [u8; 32] = [0; 32];

fn in_flight(a: &AwaitingBody) -> LocalReply {
    problem(
        a,
        409,
        "idempotency-key-in-flight",
        "Conflict",
        "a request with this Idempotency-Key is still being processed",
    )
}

/// The exchange ended before its body did: give back a claimed key.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn release(host: &dyn Host, a: &AwaitingBody) {
    if let Some(slot) = a.claimed {
        let store = Store {
            host,
            limits: a.limits,
        };
        store.remove_if(&a.key, slot);
    }
}

/// The whole request body of an idempotent request: run it, replay, or refuse.
#[must_use]
pub fn on_request_body(host: &dyn Host, a: AwaitingBody, body: &[u8]) -> RequestStep {
    let fp = fingerprint(&a.method, &a.path, body);
    let store = Store {
        host,
        limits: a.limits,
    };
    let now = host.now_nanos() / 1_000_000_000;
    let record = Payload::Idempotency {
        fingerprint: fp,
        done: None,
    }
    .encode();
    let expires = u32::try_from(now + u64::from(a.in_flight)).unwrap_or(u32::MAX);
    let count = |label: &'static str| {
        with_vm(|vm| vm.count(host, "gatehouse_idempotency_total", Some(label), 1));
    };
    // Two rounds: a record that disappears between `Exists` and the read is retried once.
    for _ in 0..2 {
        // Our own claim is completed with the fingerprint; otherwise first one wins.
        let mode = if a.claimed.is_some() {
            PutMode::Replace
        } else {
            PutMode::IfAbsent
        };
        let put = with_vm(|vm| store.put(&mut vm.refs, &a.key, &record, expires, mode));
        match put {
            PutOutcome::Stored { slot, .. } => {
                let pending = Pending {
                    outcome: Outcome::Miss,
                    kind: PendingKind::Idempotent(Running {
                        key: a.key.clone(),
                        slot,
                        fingerprint: fp,
                        operation: a.operation.clone(),
                        ttl: a.ttl,
                        response: None,
                        settled: false,
                    }),
                    body: Vec::new(),
                    abandoned: false,
                    limits: a.limits,
                    status_header: String::new(),
                };
                return RequestStep::Forward {
                    pending: Box::new(pending),
                    set_headers: Vec::new(),
                };
            }
            PutOutcome::Exists => match store.get(&a.key).and_then(|(_, p)| Payload::decode(&p)) {
                Some(Payload::Idempotency { fingerprint, done }) => {
                    if fingerprint != fp && fingerprint != UNKNOWN {
                        count("mismatch");
                        return RequestStep::Reply(problem(
                            &a,
                            422,
                            "idempotency-key-reused",
                            "Unprocessable Content",
                            "this Idempotency-Key was used with a different request",
                        ));
                    }
                    return match done {
                        None => {
                            count("conflict");
                            RequestStep::Reply(in_flight(&a))
                        }
                        Some(stored) => {
                            count("replayed");
                            let mut headers = stored.headers.clone();
                            headers.push((REPLAYED_HEADER.to_owned(), "true".to_owned()));
                            if !a.status_header.is_empty() {
                                headers.push((a.status_header.clone(), "HIT".to_owned()));
                            }
                            RequestStep::Reply(LocalReply {
                                status: stored.status,
                                headers,
                                body: stored.body,
                            })
                        }
                    };
                }
                _ => continue,
            },
            PutOutcome::TooLarge | PutOutcome::Failed => break,
        }
    }
    // The store cannot hold the record: run the request unprotected rather than refuse it.
    host.log(
        LogLevel::Warn,
        "idempotency: cannot record the key (store full or contended); request runs unprotected",
    );
    RequestStep::Skip
}

pub(crate) fn on_response_headers(
    running: &mut Running,
    status: u16,
    headers: &[(String, String)],
    status_header: &str,
    _end_of_stream: bool,
) -> ResponseStep {
    if status >= 500 {
        // A failure is not an outcome worth replaying: the retry runs again.
        running.response = None;
        return ResponseStep::Continue { collect: false };
    }
    running.response = Some(Stored {
        status,
        operation: running.operation.clone(),
        headers: headers
            .iter()
            .filter(|(n, _)| super::storable_header(n, status_header))
            .cloned()
            .collect(),
        ..Stored::default()
    });
    ResponseStep::Continue { collect: true }
}

pub(crate) fn on_response_complete(
    store: &Store<'_>,
    host: &dyn Host,
    running: &mut Running,
    body: Vec<u8>,
    now: u64,
) {
    let Some(mut stored) = running.response.take() else {
        return;
    };
    stored.body = body;
    stored.response_time = now;
    let payload = Payload::Idempotency {
        fingerprint: running.fingerprint,
        done: Some(stored),
    }
    .encode();
    let expires = u32::try_from(now + u64::from(running.ttl)).unwrap_or(u32::MAX);
    let put = with_vm(|vm| {
        store.put(
            &mut vm.refs,
            &running.key,
            &payload,
            expires,
            PutMode::Replace,
        )
    });
    if let PutOutcome::Stored { .. } = put {
        running.settled = true;
        with_vm(|vm| {
            vm.count(host, "gatehouse_idempotency_total", Some("stored"), 1);
            vm.record_bytes(host, store.used_bytes());
        });
    }
}

/// The exchange ended: a key whose response was not stored is released.
pub(crate) fn on_done(store: &Store<'_>, host: &dyn Host, running: &mut Running) {
    if running.settled {
        return;
    }
    running.settled = true;
    if store.remove_if(&running.key, running.slot) {
        host.log(
            LogLevel::Debug,
            "idempotency: key released (no replayable response)",
        );
    }
}
