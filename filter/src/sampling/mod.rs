//! Traffic sampling for learned OpenAPI (`docs/learning.md`).
//!
//! Per VM: decide which exchanges to sample (per-operation rate, per-operation and
//! per-API-unmatched caps per interval), reduce a sampled exchange to its [`Sample`]
//! shape, queue it (bounded, drops counted), and on the root context's tick post batches
//! to the collector. The queue is the VM's own: every worker VM has its own root context
//! and tick, so no hostcall is spent per sample and the bound is exact (a proxy-wasm
//! shared queue has no size limit of its own).

pub mod contract;
pub mod shape;

use std::collections::HashMap;

use crate::compiled::CompiledConfig;
use crate::config::SamplingSettings;
use crate::engine::Forward;
use crate::host::{Host, HttpCall, LogLevel};
use crate::metrics::tagged_name;
use contract::{Batch, Body, Sample, BATCH_VERSION};
use shape::{Evidence, Extractor, Limits};

/// Counter slots of `gatehouse_samples_total{result}`.
const RESULTS: [&str; 4] = ["queued", "dropped", "posted", "failed"];
const QUEUED: usize = 0;
const DROPPED: usize = 1;
const POSTED: usize = 2;
const FAILED: usize = 3;

/// Most query parameters and header names reported per exchange.
const MAX_NAMES: usize = 32;

/// A sampled exchange being built. Holds no value from the traffic: bodies are reduced as
/// soon as they are complete.
#[derive(Debug)]
pub struct Pending {
    sample: Sample,
    /// Evidence place of this exchange (its API).
    place: u64,
    /// The request body is JSON and should be shaped.
    pub want_request_body: bool,
    /// The response body is JSON and should be shaped (set by the response headers).
    pub want_response_body: bool,
    max_body_bytes: usize,
}

/// What the glue does with a body chunk of a sampled exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStep {
    /// Not needed (not JSON, not sampled, or over the limit): let it flow.
    Skip,
    /// Keep buffering until the end of the stream.
    Buffer,
    /// Complete: read `0..len` of the body buffer and call [`Pending::request_body`] /
    /// [`Pending::response_body`].
    Read(usize),
}

impl Pending {
    fn body_step(&mut self, response: bool, body_size: usize, end_of_stream: bool) -> BodyStep {
        let wanted = if response {
            self.want_response_body
        } else {
            self.want_request_body
        };
        if !wanted {
            return BodyStep::Skip;
        }
        if body_size > self.max_body_bytes {
            let body = if response {
                &mut self.sample.response
            } else {
                &mut self.sample.request
            };
            if let Some(b) = body {
                b.skipped = Some("size".to_owned());
            }
            self.want_response_body &= !response;
            self.want_request_body &= response;
            return BodyStep::Skip;
        }
        if end_of_stream {
            BodyStep::Read(body_size)
        } else {
            BodyStep::Buffer
        }
    }

    /// Request body chunk: what to do.
    pub fn request_step(&mut self, body_size: usize, end_of_stream: bool) -> BodyStep {
        self.body_step(false, body_size, end_of_stream)
    }

    /// Response body chunk: what to do.
    pub fn response_step(&mut self, body_size: usize, end_of_stream: bool) -> BodyStep {
        self.body_step(true, body_size, end_of_stream)
    }

    /// The complete request body.
    pub fn request_body(&mut self, sampler: &mut Sampler, bytes: &[u8]) {
        self.want_request_body = false;
        let place = shape::hash_str(self.place, "request");
        if let Some(body) = &mut self.sample.request {
            shape_body(body, bytes, &mut sampler.evidence, place);
        }
    }

    /// The complete response body.
    pub fn response_body(&mut self, sampler: &mut Sampler, bytes: &[u8]) {
        self.want_response_body = false;
        let place = shape::hash_str(self.place, "response");
        if let Some(body) = &mut self.sample.response {
            shape_body(body, bytes, &mut sampler.evidence, place);
        }
    }

    /// Response headers: status and content type; whether the body is wanted.
    pub fn response_headers(&mut self, status: u16, content_type: Option<&str>) {
        self.sample.status = status;
        self.sample.response = content_type.and_then(shape::media_type).map(|t| Body {
            content_type: t,
            shape: None,
            skipped: None,
        });
        self.want_response_body = self
            .sample
            .response
            .as_ref()
            .is_some_and(|b| shape::is_json(&b.content_type));
    }

    /// The finished sample (for tests and the queue).
    #[must_use]
    pub fn sample(&self) -> &Sample {
        &self.sample
    }
}

fn shape_body(body: &mut Body, bytes: &[u8], evidence: &mut Evidence, place: u64) {
    if !shape::is_json(&body.content_type) || bytes.is_empty() {
        return;
    }
    let mut x = Extractor {
        limits: Limits::default(),
        evidence,
    };
    match x.json_bytes(bytes, place) {
        Ok(shape) => body.shape = Some(shape),
        Err(_) => body.skipped = Some("malformed".to_owned()),
    }
}

/// What a request looks like to the sampler.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub method: &'a str,
    /// Raw `:path`, query included.
    pub path: &'a str,
    pub authority: &'a str,
    /// The request headers (lower-case names).
    pub headers: &'a [(String, String)],
    /// No body follows the headers.
    pub end_of_stream: bool,
}

/// Sampling state of one VM.
#[derive(Debug)]
pub struct Sampler {
    rng: u64,
    window_start_ms: u64,
    per_operation: HashMap<(usize, usize), u32>,
    per_api_unmatched: HashMap<usize, u32>,
    evidence: Evidence,
    queue: Vec<Sample>,
    /// Drops not yet reported to the collector.
    dropped: u64,
    /// The batch being posted: call token, sample count, start time.
    in_flight: Option<(u32, usize, u64)>,
    last_flush_ms: u64,
    counters: Option<[Option<u32>; 4]>,
}

impl Sampler {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            rng: seed | 1,
            window_start_ms: 0,
            per_operation: HashMap::new(),
            per_api_unmatched: HashMap::new(),
            evidence: Evidence::default(),
            queue: Vec::new(),
            dropped: 0,
            in_flight: None,
            last_flush_ms: 0,
            counters: None,
        }
    }

    /// Samples waiting to be posted.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn count(&mut self, host: &dyn Host, slot: usize, by: usize) {
        let ids = *self.counters.get_or_insert_with(|| {
            RESULTS.map(|r| {
                host.define_counter(&tagged_name("gatehouse_samples_total", &[("result", r)]))
            })
        });
        if let Some(Some(id)) = ids.get(slot) {
            host.increment_counter(*id, i64::try_from(by).unwrap_or(i64::MAX));
        }
    }

    fn random(&mut self) -> f64 {
        // xorshift64*: plenty for a sampling coin.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        #[allow(clippy::cast_precision_loss)]
        let r = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        r
    }

    fn roll_window(&mut self, settings: &SamplingSettings, now_ms: u64) {
        if now_ms.saturating_sub(self.window_start_ms)
            >= u64::from(settings.interval_seconds) * 1000
        {
            self.window_start_ms = now_ms;
            self.per_operation.clear();
            self.per_api_unmatched.clear();
        }
    }

    /// Decides whether to sample this exchange and, if so, starts its [`Pending`] shape.
    pub fn begin(
        &mut self,
        config: &CompiledConfig,
        host: &dyn Host,
        forward: &Forward<'_>,
        request: &RequestInfo<'_>,
    ) -> Option<Box<Pending>> {
        let settings = config.source.settings.sampling.as_ref()?;
        let apis = &config.router.apis;
        let (api, sample) = match &forward.matched {
            Some(m) => {
                let routed = apis.get(m.api)?;
                let op = routed.operations.get(m.operation)?;
                let rate = op.policies.sampling.as_ref().map_or(0.0, |s| s.rate);
                // The coin first: an exchange not sampled costs no hostcall.
                if rate <= 0.0 || (rate < 1.0 && self.random() >= rate) {
                    return None;
                }
                self.roll_window(settings, host.now_nanos() / 1_000_000);
                let taken = self
                    .per_operation
                    .get(&(m.api, m.operation))
                    .copied()
                    .unwrap_or(0);
                if taken >= settings.max_per_operation {
                    return None;
                }
                self.per_operation.insert((m.api, m.operation), taken + 1);
                let path = format!("{}{}", routed.base_path, op.template);
                (
                    m.api,
                    Sample {
                        api: routed.name.clone(),
                        operation_id: Some(op.operation_id.clone()),
                        path,
                        ..Sample::default()
                    },
                )
            }
            None => {
                // Unmatched on a (non-strict) API: always sampled while the API samples at
                // all, to discover undocumented operations; capped per interval.
                let name = forward.api_name?;
                let index = apis.iter().position(|a| a.name == name)?;
                let rate = config
                    .source
                    .apis
                    .get(index)
                    .and_then(|a| a.defaults.sampling.as_ref())
                    .map_or(0.0, |s| s.rate);
                if rate <= 0.0 {
                    return None;
                }
                self.roll_window(settings, host.now_nanos() / 1_000_000);
                let taken = self.per_api_unmatched.get(&index).copied().unwrap_or(0);
                if taken >= settings.max_unmatched {
                    return None;
                }
                self.per_api_unmatched.insert(index, taken + 1);
                (
                    index,
                    Sample {
                        api: name.to_owned(),
                        path: shape::reduce_path(request.path),
                        ..Sample::default()
                    },
                )
            }
        };
        let mut sample = sample;
        sample.method = request.method.to_owned();
        sample.host = normalize_host(request.authority);
        // Evidence is per API, not per path: an undocumented `/users/alice` and
        // `/users/bob` are one operation, and a name repeated across any two exchanges of
        // the API is not unique to one request.
        let place = shape::hash_str(api as u64, "api");
        self.evidence.next_document();
        let mut x = Extractor {
            limits: Limits::default(),
            evidence: &mut self.evidence,
        };
        if let Some(m) = &forward.matched {
            for (name, value) in m.params.iter().take(MAX_NAMES) {
                let shape = x.param(name, value, shape::hash_str(place, name));
                sample.path_params.insert(name.clone(), shape);
            }
        }
        sample.query =
            shape::query_shapes(&mut x, request.path, shape::hash_str(place, "?"), MAX_NAMES);
        sample.headers = shape::header_names(request.headers, MAX_NAMES);
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        sample.auth = header("authorization").and_then(shape::auth_scheme);
        sample.request = if request.end_of_stream {
            None
        } else {
            header("content-type")
                .and_then(shape::media_type)
                .map(|t| Body {
                    content_type: t,
                    shape: None,
                    skipped: None,
                })
        };
        let want_request_body = sample
            .request
            .as_ref()
            .is_some_and(|b| shape::is_json(&b.content_type));
        Some(Box::new(Pending {
            sample,
            place,
            want_request_body,
            want_response_body: false,
            max_body_bytes: settings.max_body_bytes as usize,
        }))
    }

    /// Queues a finished exchange; drops it (counted) when the queue is full.
    pub fn finish(&mut self, config: &CompiledConfig, host: &dyn Host, pending: Box<Pending>) {
        let Some(settings) = config.source.settings.sampling.as_ref() else {
            return;
        };
        if self.queue.len() >= settings.max_queue as usize {
            self.dropped += 1;
            self.count(host, DROPPED, 1);
            return;
        }
        self.queue.push(pending.sample);
        self.count(host, QUEUED, 1);
    }

    /// Tick: posts a batch when one is due and none is in flight. Never blocks a request.
    pub fn on_tick(&mut self, config: &CompiledConfig, host: &dyn Host, now_ms: u64) {
        let Some(settings) = config.source.settings.sampling.as_ref() else {
            return;
        };
        if let Some((_, n, started)) = self.in_flight {
            // The host always answers a call (timeout included); this is a safety net.
            if now_ms.saturating_sub(started) < 10 * u64::from(settings.timeout_ms).max(3000) {
                return;
            }
            self.in_flight = None;
            self.dropped += n as u64;
            self.count(host, FAILED, n);
        }
        let due = now_ms.saturating_sub(self.last_flush_ms) >= u64::from(settings.flush_ms)
            || self.queue.len() >= settings.batch_size as usize;
        if self.queue.is_empty() || !due {
            return;
        }
        self.last_flush_ms = now_ms;
        let n = self.queue.len().min(settings.batch_size as usize);
        let samples: Vec<Sample> = self.queue.drain(..n).collect();
        let batch = Batch {
            version: BATCH_VERSION,
            dropped: self.dropped,
            samples,
        };
        let Ok(body) = serde_json::to_vec(&batch) else {
            return;
        };
        let call = HttpCall {
            upstream: &settings.collector,
            method: "POST",
            path: &settings.path,
            authority: &settings.authority,
            headers: &[("content-type", "application/json")],
            body: Some(&body),
            timeout_ms: u64::from(settings.timeout_ms),
        };
        match host.http_call(&call) {
            Some(token) => {
                self.dropped = 0;
                self.in_flight = Some((token, n, now_ms));
            }
            None => {
                self.dropped += n as u64;
                self.count(host, FAILED, n);
            }
        }
    }

    /// A callout answer: `true` when it was this sampler's batch.
    pub fn on_http_response(&mut self, host: &dyn Host, token: u32, status: u16) -> bool {
        match self.in_flight {
            Some((t, n, _)) if t == token => {
                self.in_flight = None;
                if (200..300).contains(&status) {
                    self.count(host, POSTED, n);
                } else {
                    self.dropped += n as u64;
                    self.count(host, FAILED, n);
                    host.log(
                        LogLevel::Debug,
                        &format!("sample batch of {n} refused by the collector (status {status})"),
                    );
                }
                true
            }
            _ => false,
        }
    }
}

fn normalize_host(authority: &str) -> String {
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.len() <= 253 {
        host
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests;
