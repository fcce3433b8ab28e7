//! Per-request decisions, independent of the host: the glue reads the request, asks the
//! engine, and applies the answer.

use crate::compiled::CompiledConfig;
use crate::host::{Host, LogLevel};
use crate::metrics::{Metrics, RequestResult};
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

/// What to do with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it through after changing these request headers (removals first).
    Forward {
        request_id: String,
        remove_headers: Vec<String>,
        set_headers: Vec<(String, String)>,
        matched: Option<Matched>,
    },
    /// Answer it here.
    Reply(LocalReply),
}

/// Routes a request and decides its fate.
pub fn on_request_headers(
    config: &CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    head: &RequestHead<'_>,
) -> Decision {
    let settings = &config.source.settings;
    let mut set_headers = Vec::new();
    let request_id = match head.request_id.filter(|id| acceptable_request_id(id)) {
        Some(id) => id.to_owned(),
        None => {
            let id = state.ids.next(host.now_nanos());
            set_headers.push((settings.request_id_header.clone(), id.clone()));
            id
        }
    };
    // Clients must never choose the operation a later filter or the upstream trusts.
    let remove_headers = vec![settings.operation_header.clone()];
    let forward = |set_headers, matched| Decision::Forward {
        request_id: request_id.clone(),
        remove_headers: remove_headers.clone(),
        set_headers,
        matched,
    };

    let routed = config.router.route(head.authority, head.method, head.path);
    let api_name = |api: usize| {
        config
            .router
            .apis
            .get(api)
            .map(|a| a.name.as_str())
            .unwrap_or("-")
    };
    match routed {
        RouteMatch::NoApi => {
            state
                .metrics
                .count_request(host, "-", "-", RequestResult::Unmanaged);
            forward(set_headers, None)
        }
        RouteMatch::Operation {
            api,
            operation,
            params,
        } => {
            let Some(op) = config
                .router
                .apis
                .get(api)
                .and_then(|a| a.operations.get(operation))
            else {
                return forward(set_headers, None);
            };
            let name = api_name(api);
            state
                .metrics
                .count_request(host, name, &op.operation_id, RequestResult::Routed);
            host.log(
                LogLevel::Debug,
                &format!(
                    "request_id={request_id} api={name} operation={} routed",
                    op.operation_id
                ),
            );
            set_headers.push((
                settings.operation_header.clone(),
                format!("{name}/{}", op.operation_id),
            ));
            forward(
                set_headers,
                Some(Matched {
                    api,
                    operation,
                    params,
                }),
            )
        }
        RouteMatch::NotFound { api } | RouteMatch::MethodNotAllowed { api, .. }
            if !config.router.apis.get(api).is_some_and(|a| a.strict) =>
        {
            state
                .metrics
                .count_request(host, api_name(api), "-", RequestResult::Passthrough);
            forward(set_headers, None)
        }
        RouteMatch::NotFound { api } => {
            let name = api_name(api);
            let detail = format!(
                "no operation of API {name} matches {} {}",
                head.method,
                strip_query(head.path)
            );
            reject(
                host,
                state,
                &request_id,
                settings,
                name,
                RequestResult::NotFound,
                404,
                "not-found",
                "Not Found",
                &detail,
                head.path,
                Vec::new(),
            )
        }
        RouteMatch::MethodNotAllowed { api, allow } => {
            let name = api_name(api);
            let allow: Vec<&str> = allow.iter().map(|m| m.as_str()).collect();
            let detail = format!(
                "{} {} is not an operation of API {name}; allowed: {}",
                head.method,
                strip_query(head.path),
                allow.join(", ")
            );
            let extra = vec![("allow".to_owned(), allow.join(", "))];
            reject(
                host,
                state,
                &request_id,
                settings,
                name,
                RequestResult::MethodNotAllowed,
                405,
                "method-not-allowed",
                "Method Not Allowed",
                &detail,
                head.path,
                extra,
            )
        }
        RouteMatch::Malformed { api, reason } => {
            let name = api.map_or("-", api_name);
            reject(
                host,
                state,
                &request_id,
                settings,
                name,
                RequestResult::Malformed,
                400,
                "malformed-path",
                "Bad Request",
                reason,
                head.path,
                Vec::new(),
            )
        }
    }
}

#[allow(clippy::too_many_arguments)] // one call site per rejection kind; a struct adds nothing
fn reject(
    host: &dyn Host,
    state: &mut VmState,
    request_id: &str,
    settings: &crate::config::Settings,
    api: &str,
    result: RequestResult,
    status: u16,
    slug: &str,
    title: &'static str,
    detail: &str,
    path: &str,
    extra: Vec<(String, String)>,
) -> Decision {
    state.metrics.count_request(host, api, "-", result);
    host.log(
        LogLevel::Info,
        &format!(
            "request_id={request_id} api={api} rejected {status} {}: {detail}",
            result.label()
        ),
    );
    Decision::Reply(
        Problem::new(status, slug, title, detail, request_id)
            .with_instance(path)
            .into_reply(&settings.request_id_header, extra),
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
