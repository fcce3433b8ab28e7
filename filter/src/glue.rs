//! proxy-wasm glue: reads requests from the host, asks the core, applies its answer.
//!
//! Only hostcalls that return `Result` are used, so a host refusal degrades instead of
//! panicking (the SDK's trait helpers unwrap). A panic would trap the VM and, with the
//! default fail-closed policy, turn every later request into a 503.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{
    Action, BufferType, ContextType, LogLevel as PwLevel, MapType, MetricType, Status,
};

#[path = "glue_responses.rs"]
mod glue_responses;

use crate::auth::{AuthDecision, AuthSettings, AuthState};
use crate::compiled::CompiledConfig;
use crate::engine::{self, Decision, PendingBody, RequestHead, Validation, VmState};
use crate::foreign;
use crate::glue_sampling::ExchangeSample;
use crate::host::{Host, HttpCall, LogLevel, SharedDataError};
use crate::jwks_sync::MAX_JWKS_RESPONSE_BYTES;
use crate::metrics::tagged_name;
use crate::problem::{LocalReply, Problem};
use crate::sampling::{RequestInfo, Sampler};

proxy_wasm::main! {{
    std::panic::set_hook(Box::new(|info| {
        let _ = hostcalls::log(PwLevel::Critical, &format!("panic: {info}"));
    }));
    proxy_wasm::set_root_context(|context_id| -> Box<dyn RootContext> {
        Box::new(Root::new(context_id))
    });
}}

/// Whether the host offers Envoy's `verify_signature` foreign function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Native {
    Unknown,
    Available,
    /// The host answered "no such function" (nginx, other hosts): pure Rust from now on.
    Unavailable,
}

thread_local! {
    // A VM is single-threaded: these are per-VM globals.
    static NATIVE: Cell<Native> = const { Cell::new(Native::Unknown) };
    /// `gatehouse_auth_native_total{result}` ids: valid, invalid, undecided.
    static NATIVE_COUNTERS: Cell<Option<[Option<u32>; 3]>> = const { Cell::new(None) };
}

/// Counts one native verification (`gatehouse_auth_native_total{result=valid|invalid|
/// undecided}`): proof that Envoy's BoringSSL did the signature work.
fn count_native(slot: usize) {
    let ids = NATIVE_COUNTERS.with(|c| match c.get() {
        Some(ids) => ids,
        None => {
            let ids = ["valid", "invalid", "undecided"].map(|result| {
                WasmHost.define_counter(&tagged_name(
                    "gatehouse_auth_native_total",
                    &[("result", result)],
                ))
            });
            c.set(Some(ids));
            ids
        }
    });
    if let Some(Some(id)) = ids.get(slot) {
        WasmHost.increment_counter(*id, 1);
    }
}

/// [`Host`] over proxy-wasm hostcalls.
#[derive(Debug, Clone, Copy, Default)]
struct WasmHost;

impl Host for WasmHost {
    fn now_nanos(&self) -> u64 {
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => PwLevel::Trace,
            LogLevel::Debug => PwLevel::Debug,
            LogLevel::Info => PwLevel::Info,
            LogLevel::Warn => PwLevel::Warn,
            LogLevel::Error => PwLevel::Error,
            LogLevel::Critical => PwLevel::Critical,
        };
        let _ = hostcalls::log(level, message);
    }

    fn define_counter(&self, name: &str) -> Option<u32> {
        hostcalls::define_metric(MetricType::Counter, name).ok()
    }

    fn increment_counter(&self, id: u32, by: i64) {
        let _ = hostcalls::increment_metric(id, by);
    }

    fn define_gauge(&self, name: &str) -> Option<u32> {
        hostcalls::define_metric(MetricType::Gauge, name).ok()
    }

    fn set_gauge(&self, id: u32, value: i64) {
        let _ = hostcalls::record_metric(id, u64::try_from(value).unwrap_or(0));
    }

    fn get_shared(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        hostcalls::get_shared_data(key).unwrap_or((None, None))
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SharedDataError> {
        match hostcalls::set_shared_data(key, Some(value), cas) {
            Ok(()) => Ok(()),
            Err(Status::CasMismatch) => Err(SharedDataError::CasMismatch),
            Err(_) => Err(SharedDataError::Unavailable),
        }
    }

    /// Envoy's `verify_signature` foreign function (BoringSSL). On a host without it the
    /// first call answers an error status: remembered, and pure Rust is used from then on.
    fn verify_signature(
        &self,
        hash: &str,
        spki_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        if NATIVE.with(Cell::get) == Native::Unavailable {
            return None;
        }
        let args = foreign::encode_verify_arguments(hash, spki_der, signature, message);
        match hostcalls::call_foreign_function(foreign::VERIFY_SIGNATURE, Some(&args)) {
            Ok(answer) => {
                if NATIVE.with(Cell::get) == Native::Unknown {
                    NATIVE.with(|n| n.set(Native::Available));
                    self.log(
                        LogLevel::Info,
                        "native verify_signature available: RS*/ES* signatures are checked by the host",
                    );
                }
                let result = answer.as_deref().and_then(foreign::decode_verify_result);
                let verdict = result.as_ref().and_then(foreign::VerifyResult::verdict);
                if verdict.is_none() {
                    self.log(
                        LogLevel::Debug,
                        &format!(
                            "verify_signature gave no verdict ({:?}); checking in wasm",
                            result.map(|r| r.error)
                        ),
                    );
                }
                count_native(match verdict {
                    Some(true) => 0,
                    Some(false) => 1,
                    None => 2,
                });
                verdict
            }
            Err(Status::NotFound) => {
                NATIVE.with(|n| n.set(Native::Unavailable));
                self.log(
                    LogLevel::Info,
                    "no verify_signature foreign function on this host: signatures are checked in wasm",
                );
                None
            }
            Err(status) => {
                // The function exists but refused this call: pure Rust decides this one.
                self.log(
                    LogLevel::Debug,
                    &format!("verify_signature refused the call ({status:?}); checking in wasm"),
                );
                count_native(2);
                None
            }
        }
    }

    fn http_call(&self, request: &HttpCall<'_>) -> Option<u32> {
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + 3);
        headers.push((":method", request.method));
        headers.push((":path", request.path));
        headers.push((":authority", request.authority));
        headers.extend_from_slice(request.headers);
        match hostcalls::dispatch_http_call(
            request.upstream,
            headers,
            request.body,
            Vec::new(),
            Duration::from_millis(request.timeout_ms),
        ) {
            Ok(token) => Some(token),
            Err(status) => {
                self.log(
                    LogLevel::Warn,
                    &format!(
                        "cannot call {} {} ({status:?})",
                        request.upstream, request.path
                    ),
                );
                None
            }
        }
    }
}

fn now_ms() -> u64 {
    WasmHost.now_nanos() / 1_000_000
}

struct Root {
    config: Option<Rc<CompiledConfig>>,
    state: Rc<RefCell<VmState>>,
    /// Auth state of this VM for `config`: rebuilt on every configuration (provider indices
    /// change); exchanges keep the one of the configuration they started with, so keys
    /// fetched by the tick are the keys their requests verify with.
    auth: Option<Rc<RefCell<AuthState>>>,
    /// Identifies this VM in JWKS fetch leases (non-zero, differs between VMs).
    seed: u64,
    /// Learned-OpenAPI sampling of this VM (`docs/learning.md`).
    sampler: Rc<RefCell<Sampler>>,
}

impl Root {
    fn new(context_id: u32) -> Self {
        let now = WasmHost.now_nanos();
        // Distinct per VM: the clock in ns differs between VMs started one after another;
        // the root context id and a multiplicative hash spread it.
        let seed = (now ^ (u64::from(context_id) << 48)).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        Self {
            config: None,
            state: Rc::new(RefCell::new(VmState::new(now))),
            auth: None,
            seed,
            sampler: Rc::new(RefCell::new(Sampler::new(seed))),
        }
    }
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let (Some(config), Some(auth)) = (&self.config, &self.auth) else {
            return;
        };
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
            .ok()
            .flatten()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(0);
        if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
            if sampler.on_http_response(&WasmHost, token_id, status) {
                return;
            }
        }
        let body = if body_size == 0 {
            Vec::new()
        } else {
            hostcalls::get_buffer(
                BufferType::HttpCallResponseBody,
                0,
                body_size.min(MAX_JWKS_RESPONSE_BYTES),
            )
            .ok()
            .flatten()
            .unwrap_or_default()
        };
        let Ok(mut auth) = auth.try_borrow_mut() else {
            return;
        };
        auth.jwks.on_http_response(
            &config.providers,
            token_id,
            status,
            &body,
            now_ms(),
            &WasmHost,
        );
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let started = WasmHost.now_nanos();
        let bytes = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => Vec::new(),
            Err(status) => {
                WasmHost.log(
                    LogLevel::Critical,
                    &format!("configuration refused: cannot read it ({status:?})"),
                );
                return false;
            }
        };
        let compiled = CompiledConfig::from_json(&bytes).and_then(|config| {
            crate::validation::check_config(&config.source)?;
            Ok(config)
        });
        match compiled {
            Ok(config) => {
                let operations: usize = config.router.apis.iter().map(|a| a.operations.len()).sum();
                WasmHost.log(
                    LogLevel::Info,
                    &format!(
                        "configuration accepted: {} APIs, {operations} operations, {} bytes, parsed and checked in {} µs",
                        config.router.apis.len(),
                        bytes.len(),
                        WasmHost.now_nanos().saturating_sub(started) / 1000
                    ),
                );
                let settings = AuthSettings {
                    cache_slots: config.source.settings.token_cache_slots,
                    ..AuthSettings::default()
                };
                let auth = AuthState::new(&config.providers, settings, &WasmHost, self.seed);
                let remote = config
                    .providers
                    .providers()
                    .iter()
                    .any(|p| p.jwks_endpoint().is_some());
                // Ticks drive JWKS fetching and sample posting; none without either.
                let remote = remote || config.source.settings.sampling.is_some();
                let _ = hostcalls::set_tick_period(if remote {
                    Duration::from_secs(1)
                } else {
                    Duration::ZERO
                });
                self.auth = Some(Rc::new(RefCell::new(auth)));
                self.config = Some(Rc::new(config));
                true
            }
            Err(error) => {
                // The host keeps the previous configuration (or refuses to start).
                WasmHost.log(
                    LogLevel::Critical,
                    &format!("configuration refused: {error}"),
                );
                false
            }
        }
    }

    fn on_tick(&mut self) {
        let (Some(config), Some(auth)) = (&self.config, &self.auth) else {
            return;
        };
        if let Ok(mut auth) = auth.try_borrow_mut() {
            auth.jwks.on_tick(&config.providers, now_ms(), &WasmHost);
        }
        if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
            sampler.on_tick(config, &WasmHost, now_ms());
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let config = self.config.clone()?;
        let auth = self.auth.clone()?;
        Some(Box::new(Exchange {
            config,
            state: Rc::clone(&self.state),
            auth,
            pending: None,
            oidc: None,
            cache: crate::cache::wasm::ExchangeCache::default(),
            responses: crate::responses::Exchange::default(),
            sample: ExchangeSample::new(Rc::clone(&self.sampler)),
            response_seen: 0,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One HTTP exchange.
struct Exchange {
    config: Rc<CompiledConfig>,
    state: Rc<RefCell<VmState>>,
    auth: Rc<RefCell<AuthState>>,
    /// Set while the request body is buffered for validation.
    pending: Option<PendingBody>,
    /// Browser login state of this exchange (only with OIDC clients configured).
    oidc: Option<crate::oidc::ExchangeState>,
    /// Response cache and idempotency state of this exchange.
    cache: crate::cache::wasm::ExchangeCache,
    /// Response validation (report mode), `glue_responses.rs`.
    responses: crate::responses::Exchange,
    /// Traffic sampling for the learned OpenAPI (`glue_sampling.rs`).
    sample: ExchangeSample,
    /// Response body bytes at the front of the host's buffer that the streaming readers
    /// (response validation, cache) were already given: non-zero only while the sampler
    /// holds the body back, when the host hands the growing buffer again.
    response_seen: usize,
}

impl Exchange {
    /// Applies a validation step of the body phase: `Pause` while buffering (the host
    /// buffers) or after a local reply.
    fn apply(&mut self, validation: Validation) -> Action {
        match validation {
            Validation::Continue => {
                self.pending = None;
                Action::Continue
            }
            Validation::Body(pending) => {
                self.pending = Some(pending);
                Action::Pause
            }
            Validation::Reply(reply) => {
                self.pending = None;
                crate::cache::wasm::on_local_reply(&mut self.cache, &WasmHost);
                self.responses.forget();
                self.sample.cancel();
                send(&reply);
                Action::Pause
            }
        }
    }
}

impl Context for Exchange {
    /// Token endpoint answers of the browser login (`crate::oidc`).
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        if let Some(action) = oidc_glue::on_call_response(self, token_id, body_size) {
            if action == Action::Continue {
                let _ = hostcalls::resume_http_request();
            }
        }
    }
}

/// Answers the request with `reply` instead of the upstream.
pub(crate) fn send(reply: &LocalReply) {
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let _ = hostcalls::send_http_response(u32::from(reply.status), headers, Some(&reply.body));
}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // One hostcall for the whole map: crossing into the host costs more than copying a
        // request's few headers, and auth reuses the copy.
        let headers = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
        if let Some(action) = oidc_glue::before_routing(self, &headers, end_of_stream) {
            return action;
        }
        let settings = &self.config.source.settings;
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let method = find(":method").unwrap_or_default().to_owned();
        let path = find(":path").unwrap_or_default().to_owned();
        let authority = find(":authority")
            .or_else(|| find("host"))
            .unwrap_or_default()
            .to_owned();
        if crate::cache::wasm::admin(&self.config, &WasmHost, &method, &path, &headers) {
            return Action::Pause;
        }
        let request_id = find(&settings.request_id_header);
        let head = RequestHead {
            method: &method,
            path: &path,
            authority: &authority,
            request_id,
        };
        let Ok(mut state) = self.state.try_borrow_mut() else {
            // Unreachable in a single-threaded VM; fail closed rather than skip checks.
            let problem = Problem::new(
                503,
                "unavailable",
                "Service Unavailable",
                "gatehouse is busy",
                "-",
            );
            send(&problem.into_reply(&settings.request_id_header, Vec::new()));
            return Action::Pause;
        };
        match engine::on_request_headers(&self.config, &mut state, &WasmHost, &head) {
            Decision::Forward(forward) => {
                let requests = MapType::HttpRequestHeaders;
                // A set replaces every client copy, so only unrouted requests need a remove.
                let _ = match forward.operation_tag {
                    Some(tag) => {
                        hostcalls::set_map_value(requests, &settings.operation_header, Some(tag))
                    }
                    None => hostcalls::remove_map_value(requests, &settings.operation_header),
                };
                if forward.generated_request_id {
                    let _ = hostcalls::set_map_value(
                        requests,
                        &settings.request_id_header,
                        Some(&forward.request_id),
                    );
                }
                // Auth, before validation. Public operations and APIs without auth copy no
                // header map; only the headers providers forward are removed.
                let Ok(mut auth) = self.auth.try_borrow_mut() else {
                    let problem = Problem::new(
                        503,
                        "unavailable",
                        "Service Unavailable",
                        "gatehouse is busy",
                        &forward.request_id,
                    );
                    send(&problem.into_reply(&settings.request_id_header, Vec::new()));
                    return Action::Pause;
                };
                let oidc =
                    oidc_glue::before_auth(self, forward.auth, &headers, &forward.request_id);
                let session_headers;
                let auth_headers: &[(String, String)] = match &oidc {
                    oidc_glue::Before::Reply(reply) => {
                        drop(auth);
                        send(reply);
                        return Action::Pause;
                    }
                    oidc_glue::Before::Session { headers, .. } => {
                        session_headers = headers;
                        session_headers
                    }
                    oidc_glue::Before::Normal if engine::auth_is_public(forward.auth) => &[],
                    oidc_glue::Before::Normal => &headers,
                };
                let decision = engine::on_request_auth(
                    &self.config,
                    &mut auth,
                    &WasmHost,
                    &forward,
                    &path,
                    auth_headers,
                );
                drop(auth);
                for name in decision.strip() {
                    let _ = hostcalls::remove_map_value(requests, name);
                }
                let principal = match &decision {
                    AuthDecision::Allowed { principal, .. } => principal.clone(),
                    AuthDecision::Rejected { .. } => None,
                };
                let mut path = path;
                match decision {
                    AuthDecision::Allowed { forward: set, .. } => {
                        for (name, value) in &set {
                            let _ = hostcalls::set_map_value(requests, name, Some(value));
                            if name == ":path" {
                                path.clone_from(value);
                            }
                        }
                        oidc_glue::after_allowed(&oidc);
                    }
                    AuthDecision::Rejected { reply, .. } => {
                        let reply = oidc_glue::on_rejected(
                            self,
                            &oidc,
                            &headers,
                            reply,
                            &forward.request_id,
                        );
                        send(&reply);
                        return Action::Pause;
                    }
                }
                if let Some(action) = crate::cache::wasm::on_request(
                    &mut self.cache,
                    &self.config,
                    &WasmHost,
                    &forward,
                    &method,
                    &path,
                    &authority,
                    &headers,
                    principal.as_deref(),
                    end_of_stream,
                ) {
                    return action;
                }
                self.responses
                    .watch(&self.config, forward.matched.as_ref(), &forward.request_id);
                let info = RequestInfo {
                    method: &method,
                    path: &path,
                    authority: &authority,
                    headers: &headers,
                    end_of_stream,
                };
                self.sample.begin(&self.config, &WasmHost, &forward, &info);
                // Operations without a request spec (or with validation off) cost nothing
                // more: no header map copy, no body buffering.
                let validated = forward
                    .matched
                    .as_ref()
                    .is_some_and(|m| engine::validation_for(&self.config, m).is_some());
                if !validated {
                    return Action::Continue;
                }
                let headers = hostcalls::get_map(requests).unwrap_or_default();
                let config = Rc::clone(&self.config);
                let step = engine::on_request_validation(
                    &config,
                    &mut state,
                    &WasmHost,
                    &forward,
                    &path,
                    &headers,
                    end_of_stream,
                );
                drop(state);
                match step {
                    // Headers go on: a paused header phase would never see the body (the
                    // host turns a header pause into "stop all", proxy-wasm-cpp-host#143),
                    // so the body is held back in `on_http_request_body` instead and the
                    // upstream sees the headers first (docs/validation.md).
                    Validation::Body(pending) => {
                        self.pending = Some(pending);
                        Action::Continue
                    }
                    other => self.apply(other),
                }
            }
            Decision::Reply(reply) => {
                send(&reply);
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        // The sampler only decides (or reads the whole buffered body at the end); the
        // idempotency fingerprint and validation may hold the body back too.
        let sampling = self.sample.request_body(body_size, end_of_stream);
        let cache = &mut self.cache;
        if let Some(action) =
            crate::cache::wasm::on_request_body(cache, &WasmHost, body_size, end_of_stream)
        {
            return action;
        }
        let Some(pending) = &self.pending else {
            return sampling.unwrap_or(Action::Continue);
        };
        // Chunks before the last cost nothing but this check: the host buffers them.
        if !end_of_stream && body_size <= pending.max_bytes as usize {
            return Action::Pause;
        }
        let pending = pending.clone();
        let config = Rc::clone(&self.config);
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return Action::Continue;
        };
        // `body_size` is everything buffered so far: refuse as soon as it passes the limit.
        if body_size > pending.max_bytes as usize {
            let step = engine::on_request_body_too_large(&config, &mut state, &WasmHost, &pending);
            drop(state);
            return self.apply(step);
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let step = engine::on_request_body(&config, &mut state, &WasmHost, &pending, &body);
        drop(state);
        self.apply(step)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        // Cookies of a refreshed session first: a response that sets them is never stored.
        self.oidc_response_headers();
        let sampled = self.sample.pending.is_some();
        let watched = self.responses.watching();
        if !sampled && !watched && !self.cache.wants_body() {
            return Action::Continue;
        }
        // One copy of the response headers for every reader of this exchange.
        let headers = hostcalls::get_map(MapType::HttpResponseHeaders).unwrap_or_default();
        if sampled {
            self.sample.response_headers(&headers);
        }
        if watched {
            glue_responses::on_headers(self, &headers, end_of_stream);
        }
        crate::cache::wasm::on_response_headers(
            &mut self.cache,
            &self.config,
            &WasmHost,
            &headers,
            end_of_stream,
        )
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        // Response validation and the cache read the body as it streams; the sampler may
        // hold it back (Pause) to read it whole, and then the host hands the grown buffer
        // again: the streaming readers get only the bytes they have not seen.
        let streaming = self.responses.wants_body() || self.cache.wants_body();
        let fresh = body_size.saturating_sub(self.response_seen);
        let chunk = if streaming && fresh > 0 {
            hostcalls::get_buffer(BufferType::HttpResponseBody, self.response_seen, fresh)
                .ok()
                .flatten()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        if self.responses.wants_body() {
            glue_responses::on_chunk(self, &chunk, end_of_stream);
        }
        let cached = crate::cache::wasm::on_response_chunk(
            &mut self.cache,
            &WasmHost,
            &chunk,
            end_of_stream,
        );
        match self.sample.response_body(body_size, end_of_stream) {
            Some(Action::Pause) => {
                self.response_seen = body_size;
                Action::Pause
            }
            _ => {
                self.response_seen = 0;
                cached
            }
        }
    }

    fn on_log(&mut self) {
        crate::cache::wasm::on_done(&mut self.cache, &WasmHost);
        self.sample.finish(&self.config, &WasmHost);
    }
}

/// Response headers: cookies a session refresh set.
impl Exchange {
    fn oidc_response_headers(&mut self) {
        if let Some(state) = self.oidc.as_mut() {
            for cookie in state.set_cookies.drain(..) {
                let _ =
                    hostcalls::add_map_value(MapType::HttpResponseHeaders, "set-cookie", &cookie);
            }
        }
    }
}

/// The browser login's hooks (`crate::oidc`), in their own file.
#[path = "oidc_glue.rs"]
mod oidc_glue;
