//! proxy-wasm glue: reads requests from the host, asks the core, applies its answer.
//!
//! Only hostcalls that return `Result` are used, so a host refusal degrades instead of
//! panicking (the SDK's trait helpers unwrap). A panic would trap the VM and, with the
//! default fail-closed policy, turn every later request into a 503.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{
    Action, BufferType, ContextType, LogLevel as PwLevel, MapType, MetricType, Status,
};

use crate::compiled::CompiledConfig;
use crate::engine::{self, Decision, PendingBody, RequestHead, Validation, VmState};
use crate::host::{Host, LogLevel, SharedDataError};
use crate::problem::{LocalReply, Problem};

proxy_wasm::main! {{
    std::panic::set_hook(Box::new(|info| {
        let _ = hostcalls::log(PwLevel::Critical, &format!("panic: {info}"));
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::new()) });
}}

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
}

struct Root {
    config: Option<Rc<CompiledConfig>>,
    state: Rc<RefCell<VmState>>,
}

impl Root {
    fn new() -> Self {
        Self {
            config: None,
            state: Rc::new(RefCell::new(VmState::new(WasmHost.now_nanos()))),
        }
    }
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
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
                        "configuration accepted: {} APIs, {operations} operations",
                        config.router.apis.len()
                    ),
                );
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

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let config = self.config.clone()?;
        Some(Box::new(Exchange {
            config,
            state: Rc::clone(&self.state),
            pending: None,
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
    /// Set while the request body is buffered for validation.
    pending: Option<PendingBody>,
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
                send(&reply);
                Action::Pause
            }
        }
    }
}

impl Context for Exchange {}

fn request_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
}

fn send(reply: &LocalReply) {
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let _ = hostcalls::send_http_response(u32::from(reply.status), headers, Some(&reply.body));
}

impl HttpContext for Exchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let settings = &self.config.source.settings;
        let method = request_header(":method").unwrap_or_default();
        let path = request_header(":path").unwrap_or_default();
        let authority = request_header(":authority")
            .or_else(|| request_header("host"))
            .unwrap_or_default();
        let request_id = request_header(&settings.request_id_header);
        let head = RequestHead {
            method: &method,
            path: &path,
            authority: &authority,
            request_id: request_id.as_deref(),
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
        let Some(pending) = self.pending.clone() else {
            return Action::Continue;
        };
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
}
