//! The authorization-code flow with PKCE (RFC 7636 S256), `state` and `nonce`, the
//! session it leaves behind, its refresh and logout. Host-independent: the glue hands in
//! the request and the token endpoint's answers, and applies what comes back.

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::cookies::{self, Attributes};
use super::seal;
use super::settings::{Endpoint, OidcClient, OidcClients, SessionToken};
use crate::auth::{AuthState, HostVerifier};
use crate::compiled::CompiledConfig;
use crate::config::AuthPolicy;
use crate::host::{Host, HttpCall, LogLevel};
use crate::jwt::{b64, json, Reason, Verified};
use crate::metrics::tagged_name;
use crate::problem::{LocalReply, Problem};
use crate::router::RouteMatch;

/// How long a login may take between the redirect and the callback.
pub const LOGIN_TIMEOUT_MS: u64 = 600_000;
/// Timeout of a token endpoint call.
pub const TOKEN_TIMEOUT_MS: u64 = 5_000;
/// Largest token endpoint answer read (the glue reads at most one byte more to tell).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;
/// Longest original URL kept for after the login.
const MAX_RETURN_URL: usize = 2048;
/// Slots of the shared table of used `state` values (replay refusal).
const USED_STATE_SLOTS: u64 = 1024;
/// Shared-data prefix of the discovered endpoints and used states.
pub const KEY_PREFIX: &str = "gatehouse/oidc/";

/// The parts of a request the flow reads.
#[derive(Debug, Clone, Copy)]
pub struct OidcRequest<'a> {
    pub method: &'a str,
    /// Raw `:path`, query included.
    pub path: &'a str,
    pub authority: &'a str,
    /// `:scheme` (`https` when absent).
    pub scheme: &'a str,
    pub headers: &'a [(String, String)],
    pub request_id: &'a str,
    pub request_id_header: &'a str,
    /// Milliseconds since the Unix epoch.
    pub now_ms: u64,
}

impl OidcRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn route_path(&self) -> &str {
        self.path.split(['?', '#']).next().unwrap_or_default()
    }

    fn query(&self) -> &str {
        self.path
            .split_once('?')
            .map_or("", |(_, q)| q.split('#').next().unwrap_or_default())
    }

    /// A top-level browser navigation: only those are sent to the login page. Scripts
    /// (`X-Requested-With`, `Accept` without `text/html`) and unsafe methods get a 401.
    #[must_use]
    pub fn is_navigation(&self) -> bool {
        if !matches!(self.method, "GET" | "HEAD") || self.header("x-requested-with").is_some() {
            return false;
        }
        if self
            .header("sec-fetch-mode")
            .is_some_and(|m| !m.eq_ignore_ascii_case("navigate"))
        {
            return false;
        }
        self.header("accept")
            .is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
    }
}

/// What the login left in its state cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    #[serde(rename = "s")]
    pub state: String,
    #[serde(rename = "n")]
    pub nonce: String,
    #[serde(rename = "v")]
    pub verifier: String,
    /// Where to go after the login (a path on this host).
    #[serde(rename = "u")]
    pub return_to: String,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    /// Expiry, ms.
    #[serde(rename = "e")]
    pub expires_ms: u64,
}

/// A browser session, sealed in the session cookie(s). The refresh token never reaches
/// scripts (`HttpOnly`) nor the upstream (the cookies are removed from forwarded requests).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Start of the session, s: `sessionMaxAgeSeconds` counts from here.
    #[serde(rename = "c")]
    pub created: u64,
    /// When the session token expires, s: refreshed `refreshBeforeSeconds` earlier.
    #[serde(rename = "e")]
    pub expires: u64,
    #[serde(rename = "i")]
    pub id_token: String,
    #[serde(rename = "a")]
    pub access_token: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("created", &self.created)
            .field("expires", &self.expires)
            .field("refresh", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Session {
    fn token(&self, which: SessionToken) -> &str {
        match which {
            SessionToken::IdToken => &self.id_token,
            SessionToken::AccessToken => &self.access_token,
        }
    }
}

/// A token call in flight, for [`on_token_response`].
#[derive(Debug, Clone)]
pub enum Pending {
    /// The code exchange of a callback.
    Code {
        provider: usize,
        login: LoginState,
        /// Session chunks the browser holds (cleared if the new session has fewer).
        present: Vec<String>,
    },
    /// A session refresh; the request continues afterwards.
    Refresh {
        provider: usize,
        session: Session,
        present: Vec<String>,
    },
}

/// The OIDC part of one exchange, kept by the glue between callbacks.
#[derive(Debug, Default)]
pub struct ExchangeState {
    /// Token call in flight: (call token, what it is for).
    pub pending: Option<(u32, Pending)>,
    /// Set by a refresh: the session to use instead of the cookie's (`Some(None)`: the
    /// cookie's session is over).
    pub session: Option<Option<Session>>,
    /// `Set-Cookie` values for the response.
    pub set_cookies: Vec<String>,
    /// A refresh answered: the request is being run again (no second refresh).
    pub resumed: bool,
    /// `end_of_stream` of the paused header phase, for the run after the refresh.
    pub end_of_stream: bool,
}

/// Before routing.
#[derive(Debug)]
pub enum Intercept {
    /// Not an OIDC endpoint, no refresh due: carry on.
    Pass,
    Reply(LocalReply),
    /// A token call was started: pause until its answer ([`on_token_response`]).
    Call(u32, Pending),
}

/// After routing, before the auth phase.
#[derive(Debug)]
pub enum Protected {
    /// The policy is not interactive (or no provider it names has an OIDC client).
    NotInteractive,
    /// A session: authenticate with `authorization` = `bearer` instead of the request's
    /// own, then apply `upstream` (set, or remove when `None`) to the forwarded request.
    Session {
        provider: usize,
        bearer: String,
        upstream: Vec<(String, Option<String>)>,
    },
    /// No session, a browser navigation: send it to the provider.
    Login(LocalReply),
    /// No session, not a navigation (or a token in the request): the auth phase decides
    /// (401 without a token).
    Anonymous,
}

/// Answer of a token call.
#[derive(Debug)]
pub enum Resumed {
    Reply(LocalReply),
    /// Refreshed (or the refresh failed and the session is over): run the request again
    /// with [`ExchangeState::session`] set.
    Continue,
}

fn attrs(client: &OidcClient) -> Attributes<'_> {
    Attributes {
        domain: client.cookie_domain.as_deref(),
        secure: client.cookie_secure,
    }
}

fn aad(kind: &str, client: &OidcClient) -> Vec<u8> {
    format!("{kind}\n{}\n{}", client.provider_name, client.cookie_name).into_bytes()
}

fn count(host: &dyn Host, client: &OidcClient, result: &str) {
    if let Some(id) = host.define_counter(&tagged_name(
        "gatehouse_oidc_total",
        &[("provider", &client.provider_name), ("result", result)],
    )) {
        host.increment_counter(id, 1);
    }
}

fn problem(
    req: &OidcRequest<'_>,
    status: u16,
    slug: &str,
    title: &'static str,
    detail: &str,
) -> LocalReply {
    Problem::new(status, slug, title, detail, req.request_id)
        .with_instance(req.path)
        .into_reply(req.request_id_header, Vec::new())
}

fn redirect(req: &OidcRequest<'_>, location: &str, set_cookies: Vec<String>) -> LocalReply {
    let mut headers = vec![
        ("location".to_owned(), location.to_owned()),
        ("cache-control".to_owned(), "no-store".to_owned()),
        (req.request_id_header.to_owned(), req.request_id.to_owned()),
    ];
    headers.extend(
        set_cookies
            .into_iter()
            .map(|c| ("set-cookie".to_owned(), c)),
    );
    LocalReply {
        status: 302,
        headers,
        body: Vec::new(),
    }
}

/// `application/x-www-form-urlencoded` value.
#[must_use]
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The single value of a query parameter; `Err` when given twice or undecodable.
fn query_param(query: &str, name: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != name {
            continue;
        }
        if found.is_some() {
            return Err(());
        }
        let bytes = crate::percent::decode(&v.replace('+', " ")).ok_or(())?;
        found = Some(String::from_utf8(bytes).map_err(|_| ())?);
    }
    Ok(found)
}

/// Shared-data key of the endpoints discovered for `provider`.
#[must_use]
pub fn endpoints_key(provider: &str) -> String {
    format!(
        "{KEY_PREFIX}{}/endpoints",
        provider.replace('%', "%25").replace('/', "%2F")
    )
}

/// Records the login endpoints of a discovery document (called by the JWKS sync when it
/// reads one): `authorization_endpoint`, `token_endpoint`, `end_session_endpoint`.
pub fn store_discovered(
    provider: &str,
    doc: &serde_json::Map<String, serde_json::Value>,
    host: &dyn Host,
) {
    let mut kept = serde_json::Map::new();
    for name in [
        "authorization_endpoint",
        "token_endpoint",
        "end_session_endpoint",
    ] {
        if let Some(uri) = doc.get(name).and_then(serde_json::Value::as_str) {
            if Endpoint::parse(uri).is_some() {
                kept.insert(name.to_owned(), serde_json::Value::String(uri.to_owned()));
            }
        }
    }
    if let Ok(bytes) = serde_json::to_vec(&kept) {
        let _ = host.set_shared(&endpoints_key(provider), &bytes, None);
    }
}

/// An endpoint of `client`: configured, else discovered (`None` before discovery).
fn endpoint(client: &OidcClient, host: &dyn Host, which: &str) -> Option<Endpoint> {
    let configured = match which {
        "authorization_endpoint" => &client.authorization_endpoint,
        "token_endpoint" => &client.token_endpoint,
        _ => &client.end_session_endpoint,
    };
    if let Some(e) = configured {
        return Some(e.clone());
    }
    if !client.discovery {
        return None;
    }
    let bytes = host.get_shared(&endpoints_key(&client.provider_name)).0?;
    let doc = json::parse_object(&bytes)?;
    Endpoint::parse(doc.get(which)?.as_str()?)
}

fn open_session(client: &OidcClient, headers: &[(String, String)]) -> Option<Session> {
    let value = cookies::join(headers, &client.cookie_name)?;
    let plain = seal::open(&client.key, &aad("session", client), &value)?;
    serde_json::from_slice(&plain).ok()
}

/// `Set-Cookie` values writing `session` (and clearing chunks it no longer uses).
fn write_session(
    client: &OidcClient,
    session: &Session,
    present: &[String],
    now: u64,
) -> Option<Vec<String>> {
    let plain = serde_json::to_vec(session).ok()?;
    let sealed = seal::seal(&client.key, &aad("session", client), &plain)?;
    let parts = cookies::split(&client.cookie_name, &sealed)?;
    let max_age = session
        .created
        .saturating_add(client.session_max_age)
        .saturating_sub(now);
    let mut out: Vec<String> = parts
        .iter()
        .map(|(n, v)| cookies::set_cookie(n, v, max_age, attrs(client)))
        .collect();
    for stale in present {
        if !parts.iter().any(|(n, _)| n == stale) {
            out.push(cookies::clear_cookie(stale, attrs(client)));
        }
    }
    Some(out)
}

fn clear_session(client: &OidcClient, present: &[String]) -> Vec<String> {
    present
        .iter()
        .map(|n| cookies::clear_cookie(n, attrs(client)))
        .collect()
}

/// The merged auth policy of the route a request takes (as the engine decides it).
fn route_policy<'c>(config: &'c CompiledConfig, req: &OidcRequest<'_>) -> Option<&'c AuthPolicy> {
    let apis = &config.router.apis;
    match config.router.route(req.authority, req.method, req.path) {
        RouteMatch::Operation { api, operation, .. } => apis
            .get(api)?
            .operations
            .get(operation)?
            .policies
            .auth
            .as_ref(),
        RouteMatch::NotFound { api } | RouteMatch::MethodNotAllowed { api, .. }
            if !apis.get(api)?.strict =>
        {
            config.source.apis.get(api)?.defaults.auth.as_ref()
        }
        _ => None,
    }
}

/// The OIDC client an interactive policy logs in with: the first provider it names that
/// has one.
#[must_use]
pub fn interactive_client<'c>(
    config: &'c CompiledConfig,
    policy: Option<&AuthPolicy>,
) -> Option<&'c OidcClient> {
    let policy = policy.filter(|p| p.interactive)?;
    policy
        .any_of
        .iter()
        .flat_map(|a| a.all_of.iter())
        .filter_map(|r| config.providers.index_of(&r.provider))
        .find_map(|i| config.oidc.for_provider(i))
}

/// Before routing: the callback and logout endpoints, and the refresh of a session about
/// to expire on an interactive route.
pub fn intercept(config: &CompiledConfig, host: &dyn Host, req: &OidcRequest<'_>) -> Intercept {
    let clients: &OidcClients = &config.oidc;
    let path = req.route_path();
    // Only on hosts an API serves: an application behind the same listener may have an
    // `/oauth2/callback` of its own.
    let served = || config.router.serves_host(req.authority);
    for client in &clients.clients {
        if path == client.redirect_path && served() {
            return callback(client, host, req);
        }
        if client.logout_path.as_deref() == Some(path) && served() {
            return Intercept::Reply(logout(client, host, req));
        }
    }
    // Refresh only where a session will be used, and only when due.
    let Some(client) = clients
        .clients
        .iter()
        .find(|c| cookies::find(req.headers, &c.cookie_name).is_some())
    else {
        return Intercept::Pass;
    };
    let Some(interactive) = interactive_client(config, route_policy(config, req)) else {
        return Intercept::Pass;
    };
    if interactive.provider != client.provider {
        return Intercept::Pass;
    }
    let now = req.now_ms / 1000;
    let Some(session) = open_session(client, req.headers) else {
        return Intercept::Pass;
    };
    let due = now.saturating_add(client.refresh_before) >= session.expires;
    let alive = now < session.created.saturating_add(client.session_max_age);
    let Some(refresh_token) = session.refresh_token.as_deref().filter(|_| due && alive) else {
        return Intercept::Pass;
    };
    let Some(token_endpoint) = endpoint(client, host, "token_endpoint") else {
        return Intercept::Pass;
    };
    // One refresh per session: a browser's parallel requests (on any VM) keep using the
    // still valid session while one of them refreshes, and afterwards until it expires
    // (their responses would otherwise race the new cookie, and providers that rotate
    // refresh tokens end the grant when an old one is reused).
    let (marker_key, marker) = refresh_marker(refresh_token, session.expires);
    if let (Some(held), _) = host.get_shared(&marker_key) {
        if held.get(..32) == marker.get(..32) && marker_until(&held) > req.now_ms {
            return Intercept::Pass;
        }
    }
    let _ = host.set_shared(&marker_key, &marker, None);
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ]);
    let body = with_public_client_id(client, body);
    match token_call(client, host, &token_endpoint, &body) {
        Some(token) => {
            count(host, client, "refresh_started");
            Intercept::Call(
                token,
                Pending::Refresh {
                    provider: client.provider,
                    present: cookies::present_chunks(req.headers, &client.cookie_name),
                    session,
                },
            )
        }
        // The current session serves until it expires; the next request tries again.
        None => {
            let _ = host.set_shared(&marker_key, b"", None);
            Intercept::Pass
        }
    }
}

/// Shared-data key and value marking the refresh of the session that holds
/// `refresh_token` and expires at `expires` (s) as in flight or done until then:
/// SHA-256 of both, then the expiry in ms (8 bytes, big-endian).
fn refresh_marker(refresh_token: &str, expires: u64) -> (String, Vec<u8>) {
    let until_ms = expires.saturating_mul(1000);
    let mut hasher = sha2::Sha256::new();
    hasher.update(refresh_token.as_bytes());
    hasher.update(expires.to_be_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    let slot = u64::from_be_bytes(first) % USED_STATE_SLOTS;
    let mut value = digest.to_vec();
    value.extend_from_slice(&until_ms.to_be_bytes());
    (format!("{KEY_PREFIX}refresh/{slot}"), value)
}

fn marker_until(value: &[u8]) -> u64 {
    value
        .get(32..40)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

fn with_public_client_id(client: &OidcClient, body: String) -> String {
    if client.client_secret.is_some() {
        body
    } else {
        format!("{body}&client_id={}", form_encode(&client.client_id))
    }
}

fn token_call(
    client: &OidcClient,
    host: &dyn Host,
    endpoint: &Endpoint,
    body: &str,
) -> Option<u32> {
    let basic = client.client_secret.as_deref().map(|secret| {
        // RFC 6749 §2.3.1: both parts form-encoded before Basic.
        let raw = format!("{}:{}", form_encode(&client.client_id), form_encode(secret));
        format!("Basic {}", standard_base64(raw.as_bytes()))
    });
    let mut headers: Vec<(&str, &str)> = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    if let Some(b) = basic.as_deref() {
        headers.push(("authorization", b));
    }
    host.http_call(&HttpCall {
        upstream: &client.upstream,
        method: "POST",
        path: &endpoint.path,
        authority: &endpoint.authority,
        headers: &headers,
        body: Some(body.as_bytes()),
        timeout_ms: TOKEN_TIMEOUT_MS,
    })
}

fn standard_base64(input: &[u8]) -> String {
    let url = b64::encode(input);
    let mut out: String = url
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// The 302 to the provider's authorization endpoint, with the state cookie.
pub fn login(client: &OidcClient, host: &dyn Host, req: &OidcRequest<'_>) -> LocalReply {
    let Some(authorize) = endpoint(client, host, "authorization_endpoint") else {
        count(host, client, "not_discovered");
        return problem(
            req,
            503,
            "login-unavailable",
            "Service Unavailable",
            "the identity provider's endpoints are not known yet; try again shortly",
        );
    };
    let (Some(state), Some(nonce), Some(verifier)) = (
        seal::random::<16>(),
        seal::random::<16>(),
        seal::random::<32>(),
    ) else {
        return problem(
            req,
            503,
            "login-unavailable",
            "Service Unavailable",
            "no randomness",
        );
    };
    let (state, nonce, verifier) = (
        b64::encode(&state),
        b64::encode(&nonce),
        b64::encode(&verifier),
    );
    let challenge = b64::encode(&sha2::Sha256::digest(verifier.as_bytes()));
    let redirect_uri = client.redirect_uri.clone().unwrap_or_else(|| {
        let scheme = if req.scheme.is_empty() {
            "https"
        } else {
            req.scheme
        };
        format!("{scheme}://{}{}", req.authority, client.redirect_path)
    });
    let return_to = if is_local_path(req.path) {
        req.path.to_owned()
    } else {
        "/".to_owned()
    };
    let login = LoginState {
        state: state.clone(),
        nonce: nonce.clone(),
        verifier,
        return_to,
        redirect_uri: redirect_uri.clone(),
        expires_ms: req.now_ms.saturating_add(LOGIN_TIMEOUT_MS),
    };
    let sealed = serde_json::to_vec(&login)
        .ok()
        .and_then(|plain| seal::seal(&client.key, &aad("state", client), &plain));
    let Some(sealed) = sealed else {
        return problem(
            req,
            503,
            "login-unavailable",
            "Service Unavailable",
            "cannot seal the login state",
        );
    };
    let query = form(&[
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &redirect_uri),
        ("scope", &client.scope),
        ("state", &state),
        ("nonce", &nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let sep = if authorize.uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{sep}{query}", authorize.uri);
    count(host, client, "login_redirect");
    let Some(cookie_name) = state_cookie(client, &state) else {
        return problem(
            req,
            503,
            "login-unavailable",
            "Service Unavailable",
            "bad state",
        );
    };
    let cookie = cookies::set_cookie(
        &cookie_name,
        &sealed,
        LOGIN_TIMEOUT_MS / 1000,
        attrs(client),
    );
    redirect(req, &location, vec![cookie])
}

/// The state cookie of the login with `state`: `<cookieName>_state_<first 8 characters>`,
/// so logins started in parallel tabs do not overwrite each other's. `None` when `state`
/// is not one of ours (too short, or not base64url).
#[must_use]
pub fn state_cookie(client: &OidcClient, state: &str) -> Option<String> {
    let prefix = state.get(..8)?;
    prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then(|| format!("{}_{prefix}", client.state_cookie_name))
}

/// A path on this host, safe as a `Location`: never an open redirect. Browsers read
/// `//host` and `/\host` as another host, and some strip tabs and newlines first.
#[must_use]
pub fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path.len() <= MAX_RETURN_URL
        && path.bytes().all(|b| b.is_ascii_graphic())
}

/// Key of the used-state slot of `state`, and the value marking it used.
fn used_state(state: &str) -> (String, Vec<u8>) {
    let digest = sha2::Sha256::digest(state.as_bytes());
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    let slot = u64::from_be_bytes(first) % USED_STATE_SLOTS;
    (format!("{KEY_PREFIX}state/{slot}"), digest.to_vec())
}

fn callback(client: &OidcClient, host: &dyn Host, req: &OidcRequest<'_>) -> Intercept {
    // The state cookie this callback is about, cleared whatever happens.
    let own = query_param(req.query(), "state")
        .ok()
        .flatten()
        .and_then(|s| state_cookie(client, &s));
    let clear_state = own
        .as_deref()
        .map(|name| cookies::clear_cookie(name, attrs(client)));
    let refuse = |status: u16, result: &str, detail: &str| {
        count(host, client, result);
        host.log(
            LogLevel::Info,
            &format!(
                "request_id={} oidc provider={} callback refused: {detail}",
                req.request_id, client.provider_name
            ),
        );
        let mut reply = problem(
            req,
            status,
            "login-failed",
            if status == 400 {
                "Bad Request"
            } else {
                "Unauthorized"
            },
            detail,
        );
        if let Some(clear) = &clear_state {
            reply.headers.push(("set-cookie".to_owned(), clear.clone()));
        }
        Intercept::Reply(reply)
    };
    let query = req.query();
    let (Ok(code), Ok(state), Ok(error)) = (
        query_param(query, "code"),
        query_param(query, "state"),
        query_param(query, "error"),
    ) else {
        return refuse(400, "bad_callback", "malformed callback parameters");
    };
    if let Some(error) = error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return refuse(
            401,
            "provider_error",
            &format!("the identity provider refused the login ({error})"),
        );
    }
    let (Some(code), Some(state)) = (code, state) else {
        return refuse(400, "bad_callback", "the callback has no code or state");
    };
    // RFC 9207: an `iss` in the answer must be this provider's (mix-up attacks).
    if query_param(query, "iss").map_or(true, |iss| iss.is_some_and(|i| i != client.issuer)) {
        return refuse(
            400,
            "bad_callback",
            "the callback comes from another issuer",
        );
    }
    let Some(cookie) = own
        .as_deref()
        .and_then(|name| cookies::find(req.headers, name))
    else {
        return refuse(
            400,
            "missing_state_cookie",
            "no login in progress (the login state cookie is missing)",
        );
    };
    let Some(login) = seal::open(&client.key, &aad("state", client), cookie)
        .and_then(|plain| serde_json::from_slice::<LoginState>(&plain).ok())
    else {
        return refuse(
            400,
            "bad_state_cookie",
            "the login state cookie is not valid",
        );
    };
    if !constant_time_eq(login.state.as_bytes(), state.as_bytes()) {
        return refuse(
            400,
            "state_mismatch",
            "the state does not match the login in progress",
        );
    }
    if req.now_ms >= login.expires_ms {
        return refuse(400, "state_expired", "the login took too long; start again");
    }
    let (key, mark) = used_state(&login.state);
    if host.get_shared(&key).0.as_deref() == Some(mark.as_slice()) {
        return refuse(400, "state_replayed", "this login was already completed");
    }
    let _ = host.set_shared(&key, &mark, None);
    let Some(token_endpoint) = endpoint(client, host, "token_endpoint") else {
        return refuse(
            503,
            "not_discovered",
            "the identity provider's endpoints are not known yet",
        );
    };
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &login.redirect_uri),
        ("code_verifier", &login.verifier),
    ]);
    let body = with_public_client_id(client, body);
    match token_call(client, host, &token_endpoint, &body) {
        Some(token) => Intercept::Call(
            token,
            Pending::Code {
                provider: client.provider,
                login,
                present: cookies::present_chunks(req.headers, &client.cookie_name),
            },
        ),
        None => refuse(
            502,
            "token_dispatch_failed",
            "the token endpoint cannot be called",
        ),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The logout endpoint: clear the cookies, then RP-initiated logout when the provider
/// offers it.
fn logout(client: &OidcClient, host: &dyn Host, req: &OidcRequest<'_>) -> LocalReply {
    let session = open_session(client, req.headers);
    let mut set = clear_session(
        client,
        &cookies::present_chunks(req.headers, &client.cookie_name),
    );
    for (name, _) in cookies::all(req.headers) {
        if name.starts_with(client.state_cookie_name.as_str()) {
            set.push(cookies::clear_cookie(name, attrs(client)));
        }
    }
    count(host, client, "logout");
    let location = match endpoint(client, host, "end_session_endpoint") {
        Some(end) => {
            let mut params: Vec<(&str, &str)> = vec![
                ("client_id", &client.client_id),
                ("post_logout_redirect_uri", &client.post_logout_redirect_uri),
            ];
            if let Some(s) = &session {
                params.push(("id_token_hint", &s.id_token));
            }
            let sep = if end.uri.contains('?') { '&' } else { '?' };
            format!("{}{sep}{}", end.uri, form(&params))
        }
        None => client.post_logout_redirect_uri.clone(),
    };
    redirect(req, &location, set)
}

/// After routing: what an interactive policy does with this request.
pub fn on_protected(
    config: &CompiledConfig,
    host: &dyn Host,
    policy: Option<&AuthPolicy>,
    req: &OidcRequest<'_>,
    exchange: &ExchangeState,
) -> Protected {
    let Some(client) = interactive_client(config, policy) else {
        return Protected::NotInteractive;
    };
    let now = req.now_ms / 1000;
    let session = match &exchange.session {
        Some(refreshed) => refreshed.clone(),
        None => open_session(client, req.headers),
    };
    let session = session
        .filter(|s| now < s.expires && now < s.created.saturating_add(client.session_max_age));
    let is_ours = |n: &str| {
        n.starts_with(client.state_cookie_name.as_str())
            || n == client.cookie_name
            || n.strip_prefix(client.cookie_name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit()))
    };
    match session {
        Some(session) => {
            let mut upstream = vec![("cookie".to_owned(), cookies::without(req.headers, is_ours))];
            let forward = config
                .providers
                .providers()
                .get(client.provider)
                .is_none_or(|p| p.forward_token());
            upstream.push((
                "authorization".to_owned(),
                forward.then(|| format!("Bearer {}", session.access_token)),
            ));
            Protected::Session {
                provider: client.provider,
                bearer: format!("Bearer {}", session.token(client.session_token)),
                upstream,
            }
        }
        None if req.is_navigation() && req.header("authorization").is_none() => {
            Protected::Login(login(client, host, req))
        }
        None => Protected::Anonymous,
    }
}

/// The request headers the auth phase sees for a session: the request's own, with
/// `authorization` replaced by the session's token.
#[must_use]
pub fn session_headers(headers: &[(String, String)], bearer: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        .cloned()
        .collect();
    out.push(("authorization".to_owned(), bearer.to_owned()));
    out
}

/// Parsed token endpoint answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
struct TokenAnswer {
    id_token: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

fn parse_token_answer(body: &[u8]) -> Result<TokenAnswer, &'static str> {
    let doc = json::parse_object(body).ok_or("not a JSON object")?;
    let text = |name: &str| doc.get(name).and_then(serde_json::Value::as_str);
    let access_token = text("access_token").ok_or("no access_token")?.to_owned();
    if !text("token_type").is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err("token_type is not Bearer");
    }
    let printable = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic());
    if !printable(&access_token) {
        return Err("bad access_token");
    }
    let refresh_token = text("refresh_token").map(str::to_owned);
    if refresh_token.as_deref().is_some_and(|t| !printable(t)) {
        return Err("bad refresh_token");
    }
    Ok(TokenAnswer {
        id_token: text("id_token").map(str::to_owned),
        access_token,
        refresh_token,
        expires_in: doc.get("expires_in").and_then(serde_json::Value::as_u64),
    })
}

/// Verifies an ID token of `client` (signature, `iss`, `exp`, ... by the provider; `aud`
/// and `azp` against the client id; `nonce` when given).
fn verify_id_token(
    config: &CompiledConfig,
    auth: &mut AuthState,
    client: &OidcClient,
    host: &dyn Host,
    id_token: &str,
    nonce: Option<&str>,
    now_ms: u64,
) -> Result<Verified, String> {
    let verified = config
        .providers
        .verify_with_fetched(
            id_token,
            now_ms / 1000,
            &HostVerifier { host },
            auth.jwks.keys(),
        )
        .map_err(|e| {
            if e.reason == Reason::UnknownKid {
                auth.jwks
                    .request_refresh(&config.providers, client.provider, now_ms, host);
            }
            e.reason.label().to_owned()
        })?;
    if verified.provider != client.provider_name {
        return Err("issued by another provider".to_owned());
    }
    let audiences: Vec<&str> = match verified.claims.get("aud") {
        Some(serde_json::Value::String(a)) => vec![a.as_str()],
        Some(serde_json::Value::Array(a)) => {
            a.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => Vec::new(),
    };
    if !audiences.contains(&client.client_id.as_str()) {
        return Err("aud does not hold the client id".to_owned());
    }
    let azp = verified
        .claims
        .get("azp")
        .and_then(serde_json::Value::as_str);
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(client.client_id.as_str()) {
        return Err("azp is not the client id".to_owned());
    }
    if let Some(expected) = nonce {
        let got = verified
            .claims
            .get("nonce")
            .and_then(serde_json::Value::as_str);
        if !got.is_some_and(|g| constant_time_eq(g.as_bytes(), expected.as_bytes())) {
            return Err("nonce does not match".to_owned());
        }
    }
    Ok(verified)
}

/// The session a token answer makes: expiry is the earliest of the session token's `exp`
/// and `expires_in`.
fn session_from(
    client: &OidcClient,
    answer: TokenAnswer,
    id_token: String,
    id_exp: Option<u64>,
    created: u64,
    old_refresh: Option<String>,
    now: u64,
) -> Session {
    let at_exp = answer.expires_in.map(|s| now.saturating_add(s));
    let expires = match client.session_token {
        SessionToken::IdToken => id_exp.or(at_exp),
        SessionToken::AccessToken => at_exp.or(id_exp),
    }
    .unwrap_or(now.saturating_add(300));
    Session {
        created,
        expires,
        id_token,
        access_token: answer.access_token,
        refresh_token: answer.refresh_token.or(old_refresh),
    }
}

/// The token endpoint answered (`status` 0: no answer, e.g. a timeout; `oversized`: the
/// body passed [`MAX_TOKEN_RESPONSE_BYTES`]).
#[allow(clippy::too_many_arguments)]
pub fn on_token_response(
    config: &CompiledConfig,
    auth: &mut AuthState,
    host: &dyn Host,
    exchange: &mut ExchangeState,
    pending: Pending,
    status: u16,
    body: &[u8],
    oversized: bool,
    req: &OidcRequest<'_>,
) -> Resumed {
    let provider = match &pending {
        Pending::Code { provider, .. } | Pending::Refresh { provider, .. } => *provider,
    };
    let Some(client) = config.oidc.for_provider(provider) else {
        return Resumed::Reply(problem(
            req,
            503,
            "login-unavailable",
            "Service Unavailable",
            "configuration changed",
        ));
    };
    let now = req.now_ms / 1000;
    let answer = if status == 0 {
        Err("no answer (timeout or connection failure)".to_owned())
    } else if status != 200 {
        Err(format!("status {status}"))
    } else if oversized || body.len() > MAX_TOKEN_RESPONSE_BYTES {
        Err("answer too large".to_owned())
    } else {
        parse_token_answer(body).map_err(str::to_owned)
    };
    match pending {
        Pending::Code { login, present, .. } => {
            let clear_state = cookies::clear_cookie(
                &state_cookie(client, &login.state).unwrap_or_default(),
                attrs(client),
            );
            let fail = |code: u16, result: &str, detail: String| {
                count(host, client, result);
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "request_id={} oidc provider={} code exchange failed: {detail}",
                        req.request_id, client.provider_name
                    ),
                );
                let title = if code == 401 {
                    "Unauthorized"
                } else {
                    "Bad Gateway"
                };
                let mut reply = problem(
                    req,
                    code,
                    "login-failed",
                    title,
                    &format!("login failed: {detail}"),
                );
                reply
                    .headers
                    .push(("set-cookie".to_owned(), clear_state.clone()));
                Resumed::Reply(reply)
            };
            let answer = match answer {
                Ok(a) => a,
                Err(why) => {
                    return fail(
                        if status == 0 { 504 } else { 502 },
                        "token_error",
                        format!("token endpoint: {why}"),
                    )
                }
            };
            let Some(id_token) = answer.id_token.clone() else {
                return fail(502, "token_error", "token endpoint: no id_token".to_owned());
            };
            let verified = match verify_id_token(
                config,
                auth,
                client,
                host,
                &id_token,
                Some(&login.nonce),
                req.now_ms,
            ) {
                Ok(v) => v,
                Err(why) => return fail(401, "bad_id_token", format!("ID token refused: {why}")),
            };
            // An access token that will not authenticate requests would send the browser
            // round the login forever: refuse it now.
            if client.session_token == SessionToken::AccessToken {
                let checked = config
                    .providers
                    .verify_with_fetched(
                        &answer.access_token,
                        now,
                        &HostVerifier { host },
                        auth.jwks.keys(),
                    )
                    .map_err(|e| e.reason.label().to_owned())
                    .and_then(|v| {
                        if v.provider == client.provider_name {
                            Ok(())
                        } else {
                            Err("issued by another provider".to_owned())
                        }
                    });
                if let Err(why) = checked {
                    return fail(
                        401,
                        "bad_access_token",
                        format!("access token refused (sessionToken: accessToken): {why}"),
                    );
                }
            }
            let session = session_from(client, answer, id_token, verified.exp, now, None, now);
            let Some(mut set) = write_session(client, &session, &present, now) else {
                return fail(
                    502,
                    "session_too_large",
                    "the session does not fit in cookies".to_owned(),
                );
            };
            set.push(clear_state);
            count(host, client, "login");
            Resumed::Reply(redirect(req, &login.return_to, set))
        }
        Pending::Refresh {
            session, present, ..
        } => {
            exchange.resumed = true;
            let refreshed = answer.and_then(|a| {
                let id_token = a
                    .id_token
                    .clone()
                    .unwrap_or_else(|| session.id_token.clone());
                let id_exp = if a.id_token.is_some() {
                    verify_id_token(config, auth, client, host, &id_token, None, req.now_ms)?.exp
                } else if client.session_token == SessionToken::IdToken {
                    return Err("no new id_token".to_owned());
                } else {
                    None
                };
                Ok(session_from(
                    client,
                    a,
                    id_token,
                    id_exp,
                    session.created,
                    session.refresh_token.clone(),
                    now,
                ))
            });
            match refreshed.and_then(|s| {
                write_session(client, &s, &present, now)
                    .map(|set| (s, set))
                    .ok_or_else(|| "session too large".to_owned())
            }) {
                Ok((s, set)) => {
                    count(host, client, "refreshed");
                    exchange.session = Some(Some(s));
                    exchange.set_cookies = set;
                }
                Err(why) => {
                    count(host, client, "refresh_failed");
                    // The next request may try again.
                    if let Some(rt) = session.refresh_token.as_deref() {
                        let _ = host.set_shared(&refresh_marker(rt, session.expires).0, b"", None);
                    }
                    host.log(
                        LogLevel::Info,
                        &format!(
                            "request_id={} oidc provider={} refresh failed: {why}",
                            req.request_id, client.provider_name
                        ),
                    );
                    // A refused refresh (4xx) ends the session; an unreachable provider
                    // leaves it to serve until it expires.
                    if (400..500).contains(&status) {
                        exchange.session = Some(None);
                        exchange.set_cookies = clear_session(client, &present);
                    }
                }
            }
            Resumed::Continue
        }
    }
}
