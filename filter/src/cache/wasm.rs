//! The cache's hostcalls: the glue calls one function per callback and applies the
//! returned action. Everything else is in the host-independent core ([`super`]).

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};

use super::idempotency::{self, AwaitingBody};
use super::{CacheRequest, Pending, RequestStep, ResponseStep};
use crate::compiled::CompiledConfig;
use crate::config::CachePolicy;
use crate::engine::Forward;
use crate::glue::send;
use crate::host::Host;
use crate::router::RouteMatch;

/// Per-exchange cache state.
#[derive(Debug, Default)]
pub(crate) struct ExchangeCache {
    pending: Option<Box<Pending>>,
    awaiting: Option<AwaitingBody>,
    /// The request's host, for `Location` invalidation (request headers cannot be read in
    /// the response phase: Envoy answers BadArgument, which the SDK's reader panics on).
    authority: String,
}

/// The cache policy of the GET operation for `path` on `authority`.
fn get_policy(config: &CompiledConfig, authority: &str, path: &str) -> Option<CachePolicy> {
    match config.router.route(authority, "GET", path) {
        RouteMatch::Operation { api, operation, .. } => config
            .router
            .apis
            .get(api)?
            .operations
            .get(operation)?
            .policies
            .cache
            .clone(),
        _ => None,
    }
}

/// The purge endpoint, before routing: true when it answered.
pub(crate) fn admin(
    config: &CompiledConfig,
    host: &dyn Host,
    method: &str,
    path: &str,
    headers: &[(String, String)],
) -> bool {
    match super::purge::admin(&config.source.settings, host, method, path, headers) {
        Some(reply) => {
            send(&reply);
            true
        }
        None => false,
    }
}

/// After auth admitted a routed request. `Some(action)`: return it (answered here).
#[allow(clippy::too_many_arguments)]
pub(crate) fn on_request(
    ex: &mut ExchangeCache,
    config: &CompiledConfig,
    host: &dyn Host,
    forward: &Forward<'_>,
    method: &str,
    path: &str,
    authority: &str,
    headers: &[(String, String)],
    principal: Option<&str>,
    end_of_stream: bool,
) -> Option<Action> {
    let matched = forward.matched.as_ref()?;
    let op = config
        .router
        .apis
        .get(matched.api)?
        .operations
        .get(matched.operation)?;
    // Unsafe methods invalidate what their path's GET stored, whatever their own policy.
    let unset = CachePolicy::default();
    let policy = op.policies.cache.as_ref().unwrap_or(&unset);
    authority.clone_into(&mut ex.authority);
    let scheme = headers
        .iter()
        .find(|(n, _)| n == ":scheme")
        .map_or("http", |(_, v)| v.as_str());
    let settings = &config.source.settings;
    let resolve = |p: &str| get_policy(config, authority, p);
    let request = CacheRequest {
        method,
        scheme,
        authority,
        path,
        headers,
        principal,
        operation: &op.tag,
        policy,
        request_id: &forward.request_id,
        request_id_header: &settings.request_id_header,
        resolve_get: &resolve,
    };
    apply(
        ex,
        super::on_request(settings, host, &request, !end_of_stream),
    )
}

fn apply(ex: &mut ExchangeCache, step: RequestStep) -> Option<Action> {
    match step {
        RequestStep::Skip => None,
        RequestStep::Reply(reply) => {
            send(&reply);
            Some(Action::Pause)
        }
        RequestStep::Forward {
            pending,
            set_headers,
        } => {
            for (name, value) in &set_headers {
                let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value));
            }
            ex.pending = Some(pending);
            None
        }
        RequestStep::NeedBody(awaiting) => {
            ex.awaiting = Some(awaiting);
            None
        }
    }
}

/// Request body: buffers it while an idempotency fingerprint waits for it.
/// `Some(action)`: return it; `None`: carry on with the other body phases.
pub(crate) fn on_request_body(
    ex: &mut ExchangeCache,
    host: &dyn Host,
    body_size: usize,
    end_of_stream: bool,
) -> Option<Action> {
    ex.awaiting.as_ref()?;
    if !end_of_stream {
        return Some(Action::Pause);
    }
    let awaiting = ex.awaiting.take()?;
    let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
        .ok()
        .flatten()
        .unwrap_or_default();
    apply(ex, idempotency::on_request_body(host, awaiting, &body))
}

pub(crate) fn on_response_headers(
    ex: &mut ExchangeCache,
    config: &CompiledConfig,
    host: &dyn Host,
    headers: &[(String, String)],
    end_of_stream: bool,
) -> Action {
    let Some(pending) = ex.pending.as_mut() else {
        return Action::Continue;
    };
    let status = headers
        .iter()
        .find(|(n, _)| n == ":status")
        .and_then(|(_, v)| v.trim().parse::<u16>().ok())
        .unwrap_or(0);
    let authority = &ex.authority;
    let resolve = |p: &str| get_policy(config, authority, p);
    let step = super::on_response_headers(host, &resolve, pending, status, headers, end_of_stream);
    match step {
        ResponseStep::Reply(reply) => {
            // Our own reply passes through this callback again: nothing pending then.
            ex.pending = None;
            send(&reply);
            Action::Pause
        }
        ResponseStep::Continue { collect } => {
            if let Some((name, value)) = pending.status_header() {
                let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(value));
            }
            if collect && end_of_stream {
                super::on_response_body(host, pending, &[], true);
            }
            if !collect || end_of_stream {
                let mut done = ex.pending.take();
                if let Some(p) = done.as_mut() {
                    super::on_done(host, p);
                }
            }
            Action::Continue
        }
    }
}

/// `chunk`: the response body bytes not seen before (the glue tracks what the host re-hands
/// while another reader holds the body back). Each chunk streams on to the client; the
/// copy is collected for the store.
pub(crate) fn on_response_chunk(
    ex: &mut ExchangeCache,
    host: &dyn Host,
    chunk: &[u8],
    end_of_stream: bool,
) -> Action {
    let Some(pending) = ex.pending.as_mut() else {
        return Action::Continue;
    };
    super::on_response_body(host, pending, chunk, end_of_stream);
    if end_of_stream {
        if let Some(mut p) = ex.pending.take() {
            super::on_done(host, &mut p);
        }
    }
    Action::Continue
}

/// The exchange is over (`on_log`): release what it still holds.
pub(crate) fn on_done(ex: &mut ExchangeCache, host: &dyn Host) {
    if let Some(a) = ex.awaiting.take() {
        idempotency::release(host, &a);
    }
    if let Some(mut p) = ex.pending.take() {
        super::on_done(host, &mut p);
    }
}

/// The filter answers the request itself (a validation refusal after the cache phase):
/// nothing of this exchange is stored, and a claimed Idempotency-Key is given back (the
/// request never ran, so a corrected retry with the same key must run).
pub(crate) fn on_local_reply(ex: &mut ExchangeCache, host: &dyn Host) {
    on_done(ex, host);
}

impl ExchangeCache {
    /// A response is being collected for the store.
    pub(crate) fn wants_body(&self) -> bool {
        self.pending.is_some()
    }
}
