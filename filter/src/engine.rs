//! Per-request decisions, independent of the host: the glue reads the request, asks the
//! engine, and applies the answer.

use crate::compiled::CompiledConfig;
use crate::host::{Host, LogLevel};
use crate::metrics::{Metrics, RequestKey, RequestResult};
use crate::problem::{LocalReply, Problem};
use crate::request_id::RequestIds;
use crate::router::RouteMatch;

/// Longest client-supplied request id kept; longer or odd ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// State one VM keeps across requests.
#[derive(Debug)]
pub struct VmState {
    pub metrics: Metrics,
    pub ids: RequestIds,
}

impl VmState {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            metrics: Metrics::default(),
            ids: RequestIds::new(seed),
        }
    }
}

/// The request line and the headers routing needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// Raw `:path`, query included.
    pub path: &'a str,
    pub authority: &'a str,
    pub request_id: Option<&'a str>,
}

/// The matched operation, for the later phases of the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub api: usize,
    pub operation: usize,
    pub params: Vec<(String, String)>,
}

/// A request let through, and what to change on it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward<'c> {
    pub request_id: String,
    /// The id was generated here: set it on the request for the upstream.
    pub generated_request_id: bool,
    /// Value for the operation header, replacing any client copy; `None`: remove client
    /// copies (clients must never choose the operation a later filter trusts).
    pub operation_tag: Option<&'c str>,
    pub matched: Option<Matched>,
}

/// What to do with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'c> {
    Forward(Forward<'c>),
    /// Answer it here.
    Reply(LocalReply),
}

/// Routes a request and decides its fate.
pub fn on_request_headers<'c>(
    config: &'c CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    head: &RequestHead<'_>,
) -> Decision<'c> {
    let (request_id, generated_request_id) =
        match head.request_id.filter(|id| acceptable_request_id(id)) {
            Some(id) => (id.to_owned(), false),
            None => (state.ids.next(host.now_nanos()), true),
        };
    let apis = &config.router.apis;
    let api_name = |api: usize| apis.get(api).map_or("-", |a| a.name.as_str());
    let mut forward = |key: RequestKey, operation: Option<(&'c str, Matched)>| {
        let (api, op) = (key.0, operation.as_ref().map(|(_, m)| m.operation));
        let op_name = op
            .and_then(|o| apis.get(api.unwrap_or(usize::MAX))?.operations.get(o))
            .map_or("-", |o| o.operation_id.as_str());
        state
            .metrics
            .count_request(host, (api, op, key.2), api.map_or("-", api_name), op_name);
        let (operation_tag, matched) = match operation {
            Some((tag, matched)) => (Some(tag), Some(matched)),
            None => (None, None),
        };
        Decision::Forward(Forward {
            request_id: request_id.clone(),
            generated_request_id,
            operation_tag,
            matched,
        })
    };

    match config.router.route(head.authority, head.method, head.path) {
        RouteMatch::NoApi => forward((None, None, RequestResult::Unmanaged), None),
        RouteMatch::Operation {
            api,
            operation,
            params,
        } => match apis.get(api).and_then(|a| a.operations.get(operation)) {
            Some(op) => forward(
                (Some(api), Some(operation), RequestResult::Routed),
                Some((
                    op.tag.as_str(),
                    Matched {
                        api,
                        operation,
                        params,
                    },
                )),
            ),
            None => forward((Some(api), None, RequestResult::Unmanaged), None),
        },
        RouteMatch::NotFound { api } | RouteMatch::MethodNotAllowed { api, .. }
            if !apis.get(api).is_some_and(|a| a.strict) =>
        {
            forward((Some(api), None, RequestResult::Passthrough), None)
        }
        RouteMatch::NotFound { api } => {
            let detail = format!(
                "no operation of API {} matches {} {}",
                api_name(api),
                head.method,
                strip_query(head.path)
            );
            let rejection = Rejection {
                api: Some(api),
                result: RequestResult::NotFound,
                status: 404,
                slug: "not-found",
                title: "Not Found",
                detail: &detail,
                extra: Vec::new(),
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
        RouteMatch::MethodNotAllowed { api, allow } => {
            let allow: Vec<&str> = allow.iter().map(|m| m.as_str()).collect();
            let detail = format!(
                "{} {} is not an operation of API {}; allowed: {}",
                head.method,
                strip_query(head.path),
                api_name(api),
                allow.join(", ")
            );
            let rejection = Rejection {
                api: Some(api),
                result: RequestResult::MethodNotAllowed,
                status: 405,
                slug: "method-not-allowed",
                title: "Method Not Allowed",
                detail: &detail,
                extra: vec![("allow".to_owned(), allow.join(", "))],
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
        RouteMatch::Malformed { api, reason } => {
            let rejection = Rejection {
                api,
                result: RequestResult::Malformed,
                status: 400,
                slug: "malformed-path",
                title: "Bad Request",
                detail: reason,
                extra: Vec::new(),
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
    }
}

/// A request the filter answers itself.
#[derive(Debug)]
pub struct Rejection<'a> {
    pub api: Option<usize>,
    pub result: RequestResult,
    pub status: u16,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: &'a str,
    /// Extra response headers (`allow`, `www-authenticate`).
    pub extra: Vec<(String, String)>,
}

/// Counts, logs (with the request id) and builds the problem+json answer.
pub fn reject(
    host: &dyn Host,
    state: &mut VmState,
    config: &CompiledConfig,
    request_id: &str,
    path: &str,
    rejection: Rejection<'_>,
) -> Decision<'static> {
    let api = rejection
        .api
        .and_then(|a| config.router.apis.get(a))
        .map_or("-", |a| a.name.as_str());
    state
        .metrics
        .count_request(host, (rejection.api, None, rejection.result), api, "-");
    host.log(
        LogLevel::Info,
        &format!(
            "request_id={request_id} api={api} rejected {} {}: {}",
            rejection.status,
            rejection.result.label(),
            rejection.detail
        ),
    );
    Decision::Reply(
        Problem::new(
            rejection.status,
            rejection.slug,
            rejection.title,
            rejection.detail,
            request_id,
        )
        .with_instance(path)
        .into_reply(&config.source.settings.request_id_header, rejection.extra),
    )
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or_default()
}

/// Ids end up in logs and headers: keep them short and printable.
fn acceptable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
