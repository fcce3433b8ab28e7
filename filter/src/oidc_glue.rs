//! The browser login's hooks into the request path (`crate::oidc`): the glue calls
//! these at four points, so the exchange code in `glue.rs` stays readable.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType, MapType};

use super::{now_ms, send, Exchange, WasmHost};
use crate::config::AuthPolicy;
use crate::oidc::flow::{self, MAX_TOKEN_RESPONSE_BYTES};
use crate::oidc::{ExchangeState, Intercept, OidcRequest, Protected, Resumed};
use crate::problem::LocalReply;

/// What the login decided before the auth phase.
pub(super) enum Before {
    Normal,
    Reply(LocalReply),
    /// Authenticate with `headers` (the session's token); then set `upstream`.
    Session {
        provider: usize,
        headers: Vec<(String, String)>,
        upstream: Vec<(String, Option<String>)>,
    },
}

fn request<'a>(
    headers: &'a [(String, String)],
    request_id: &'a str,
    request_id_header: &'a str,
) -> OidcRequest<'a> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let authority = match find(":authority") {
        "" => find("host"),
        a => a,
    };
    OidcRequest {
        method: find(":method"),
        path: find(":path"),
        authority,
        scheme: find(":scheme"),
        headers,
        request_id,
        request_id_header,
        now_ms: now_ms(),
    }
}

/// Callback and logout endpoints, refresh of a session that is due. `Some`: the
/// header phase ends here with this action.
pub(super) fn before_routing(
    exchange: &mut Exchange,
    headers: &[(String, String)],
    end_of_stream: bool,
) -> Option<Action> {
    if exchange.config.oidc.is_empty() {
        return None;
    }
    let state = exchange.oidc.get_or_insert_with(ExchangeState::default);
    if state.resumed {
        // Resumed after a refresh: the refreshed session is used below.
        return None;
    }
    state.end_of_stream = end_of_stream;
    let settings = &exchange.config.source.settings;
    let id = headers
        .iter()
        .find(|(k, _)| *k == settings.request_id_header)
        .map_or("-", |(_, v)| v.as_str());
    let req = request(headers, id, &settings.request_id_header);
    match flow::intercept(&exchange.config, &WasmHost, &req) {
        Intercept::Pass => None,
        Intercept::Reply(reply) => {
            send(&reply);
            Some(Action::Pause)
        }
        Intercept::Call(token, pending) => {
            state.pending = Some((token, pending));
            Some(Action::Pause)
        }
    }
}

pub(super) fn before_auth(
    exchange: &Exchange,
    policy: Option<&AuthPolicy>,
    headers: &[(String, String)],
    request_id: &str,
) -> Before {
    let Some(state) = exchange.oidc.as_ref() else {
        return Before::Normal;
    };
    let config = &exchange.config;
    let req = request(
        headers,
        request_id,
        &config.source.settings.request_id_header,
    );
    match flow::on_protected(config, &WasmHost, policy, &req, state) {
        Protected::NotInteractive | Protected::Anonymous => Before::Normal,
        Protected::Login(reply) => Before::Reply(reply),
        Protected::Session {
            provider,
            bearer,
            upstream,
        } => Before::Session {
            provider,
            headers: flow::session_headers(headers, &bearer),
            upstream,
        },
    }
}

/// Sets what a session changes on the forwarded request: the session cookies removed,
/// `authorization` the session's access token.
pub(super) fn after_allowed(before: &Before) {
    if let Before::Session { upstream, .. } = before {
        for (name, value) in upstream {
            let _ = match value {
                Some(v) => hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(v)),
                None => hostcalls::remove_map_value(MapType::HttpRequestHeaders, name),
            };
        }
    }
}

/// A browser whose session no longer authenticates goes to the login instead of a 401.
pub(super) fn on_rejected(
    exchange: &Exchange,
    before: &Before,
    headers: &[(String, String)],
    reply: LocalReply,
    request_id: &str,
) -> LocalReply {
    let Before::Session { provider, .. } = before else {
        return reply;
    };
    let config = &exchange.config;
    let req = request(
        headers,
        request_id,
        &config.source.settings.request_id_header,
    );
    match config.oidc.for_provider(*provider) {
        Some(client) if reply.status == 401 && req.is_navigation() => {
            flow::login(client, &WasmHost, &req)
        }
        _ => reply,
    }
}

/// A token endpoint answer. `Some(Continue)`: resume the request.
pub(super) fn on_call_response(
    exchange: &mut Exchange,
    token_id: u32,
    body_size: usize,
) -> Option<Action> {
    let state = exchange.oidc.as_mut()?;
    let (token, pending) = state.pending.take()?;
    if token != token_id {
        state.pending = Some((token, pending));
        return None;
    }
    let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .unwrap_or(0);
    let oversized = body_size > MAX_TOKEN_RESPONSE_BYTES;
    let body = if body_size == 0 || oversized {
        Vec::new()
    } else {
        hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let headers = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
    let config = std::rc::Rc::clone(&exchange.config);
    let settings = &config.source.settings;
    let id = headers
        .iter()
        .find(|(k, _)| *k == settings.request_id_header)
        .map_or("-", |(_, v)| v.as_str());
    let req = request(&headers, id, &settings.request_id_header);
    let Ok(mut auth) = exchange.auth.try_borrow_mut() else {
        return None;
    };
    let state = exchange.oidc.as_mut()?;
    let resumed = flow::on_token_response(
        &config, &mut auth, &WasmHost, state, pending, status, &body, oversized, &req,
    );
    drop(auth);
    match resumed {
        Resumed::Reply(reply) => {
            send(&reply);
            None
        }
        Resumed::Continue => {
            use proxy_wasm::traits::HttpContext;
            // The whole header phase again, now with the refreshed session (or
            // without one); `resumed` keeps it from refreshing twice.
            let end_of_stream = state.end_of_stream;
            Some(exchange.on_http_request_headers(0, end_of_stream))
        }
    }
}
