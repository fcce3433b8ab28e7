//! proxy-wasm side of sampling: reads what the sampler asked for from the host. Kept out
//! of `glue.rs` so that file only calls in; the decisions are in [`crate::sampling`].

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, BufferType};

use crate::auth::header_values;
use crate::compiled::CompiledConfig;
use crate::engine::Forward;
use crate::host::Host;
use crate::sampling::{BodyStep, Pending, RequestInfo, Sampler};

/// The sampler of this VM and the exchange's sample, if it is sampled.
pub(crate) struct ExchangeSample {
    pub sampler: Rc<RefCell<Sampler>>,
    pub pending: Option<Box<Pending>>,
}

impl ExchangeSample {
    pub fn new(sampler: Rc<RefCell<Sampler>>) -> Self {
        Self {
            sampler,
            pending: None,
        }
    }

    /// After routing and auth let the request through.
    pub fn begin(
        &mut self,
        config: &CompiledConfig,
        host: &dyn Host,
        forward: &Forward<'_>,
        request: &RequestInfo<'_>,
    ) {
        if config.source.settings.sampling.is_none() {
            return;
        }
        if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
            self.pending = sampler.begin(config, host, forward, request);
        }
    }

    /// A local reply replaced the upstream's answer: not the API's behaviour, not sampled.
    pub fn cancel(&mut self) {
        self.pending = None;
    }

    /// Request body callback: `Some(Pause)` while a sampled JSON body is buffered.
    pub fn request_body(&mut self, body_size: usize, end_of_stream: bool) -> Option<Action> {
        let pending = self.pending.as_mut()?;
        match pending.request_step(body_size, end_of_stream) {
            BodyStep::Skip => None,
            BodyStep::Buffer => Some(Action::Pause),
            BodyStep::Read(n) => {
                let body = read(BufferType::HttpRequestBody, n);
                if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
                    pending.request_body(&mut sampler, &body);
                }
                None
            }
        }
    }

    pub fn response_headers(&mut self, headers: &[(String, String)]) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let value = |name| header_values(headers, name).next();
        let status = value(":status")
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(0);
        pending.response_headers(status, value("content-type"));
    }

    /// Response body callback: `Some(Pause)` while a sampled JSON body is buffered.
    pub fn response_body(&mut self, body_size: usize, end_of_stream: bool) -> Option<Action> {
        let pending = self.pending.as_mut()?;
        match pending.response_step(body_size, end_of_stream) {
            BodyStep::Skip => None,
            BodyStep::Buffer => Some(Action::Pause),
            BodyStep::Read(n) => {
                let body = read(BufferType::HttpResponseBody, n);
                if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
                    pending.response_body(&mut sampler, &body);
                }
                None
            }
        }
    }

    /// End of the exchange: queue the sample.
    pub fn finish(&mut self, config: &CompiledConfig, host: &dyn Host) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        if pending.sample().status == 0 {
            return;
        }
        if let Ok(mut sampler) = self.sampler.try_borrow_mut() {
            sampler.finish(config, host, pending);
        }
    }
}

fn read(buffer: BufferType, n: usize) -> Vec<u8> {
    hostcalls::get_buffer(buffer, 0, n)
        .ok()
        .flatten()
        .unwrap_or_default()
}
