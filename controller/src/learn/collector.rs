//! The collector: filters post sample batches here; the learned documents, the diff
//! against the authored ones and a status summary are served from here.
//!
//! | request | answer |
//! |---|---|
//! | `POST /v1/samples` (batch contract v1) | 202 `{"accepted": n}`; 400 bad batch; 413 over 8 MiB |
//! | `GET /v1/apis` | every API learned: `[{name, summary}]` |
//! | `GET /v1/apis/{namespace}/{name}/openapi.json` / `.yaml` | the learned OpenAPI 3.1 document |
//! | `GET /v1/apis/{namespace}/{name}/diff` | drift against the authored `ApiSchema` |
//! | `GET /v1/apis/{namespace}/{name}/merged.yaml` / `.json` | authored + learned additions |
//! | `GET /v1/apis/{namespace}/{name}/summary` | [`super::Summary`] |
//!
//! In local mode the model is persisted to a file (periodically when it changed, and on
//! shutdown) and reloaded on start.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::set;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::{add_batch, diff, emit, parse_batch, summary, Model};
use crate::envoy::write_atomic;
use crate::resource::LoadedResource;

/// Largest accepted batch.
pub const MAX_BATCH_BYTES: usize = 8 << 20;

/// Shared state of a running collector.
#[derive(Debug)]
pub struct State {
    pub model: Mutex<Model>,
    /// Where the model is persisted (local mode).
    pub persist: Option<PathBuf>,
    /// Directory of `ApiSchema` YAML: the authored documents for diff and merge.
    pub resources: Option<PathBuf>,
    /// Operator mode: `namespace/name` → (authored document, base path), as compiled on
    /// the last pass (the operator has no directory to read).
    pub authored_docs: Mutex<BTreeMap<String, (Value, String)>>,
    dirty: AtomicBool,
}

impl State {
    /// A collector state, with the model reloaded from `persist` when it exists.
    pub fn new(persist: Option<PathBuf>, resources: Option<PathBuf>) -> anyhow::Result<Self> {
        let model = match &persist {
            Some(p) if p.exists() => {
                let bytes = std::fs::read(p)?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: not a learned model: {e}", p.display()))?
            }
            _ => Model::new(),
        };
        Ok(Self {
            model: Mutex::new(model),
            persist,
            resources,
            authored_docs: Mutex::new(BTreeMap::new()),
            dirty: AtomicBool::new(false),
        })
    }

    /// Writes the model if it changed since the last save.
    pub fn save(&self) -> anyhow::Result<bool> {
        let Some(path) = &self.persist else {
            return Ok(false);
        };
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        let bytes = {
            let model = self
                .model
                .lock()
                .map_err(|_| anyhow::anyhow!("model lock poisoned"))?;
            serde_json::to_vec(&*model)?
        };
        write_atomic(path, &bytes)?;
        Ok(true)
    }

    /// Merges one posted batch; the number of samples taken.
    pub fn accept(&self, body: &[u8]) -> Result<usize, String> {
        let batch = parse_batch(body).map_err(|e| e.to_string())?;
        let mut model = self
            .model
            .lock()
            .map_err(|_| "model lock poisoned".to_owned())?;
        add_batch(&mut model, &batch);
        self.dirty.store(true, Ordering::Release);
        Ok(batch.samples.len())
    }

    /// Operator mode: the authored documents the diff and merge endpoints compare with.
    pub fn set_authored(&self, docs: BTreeMap<String, (Value, String)>) {
        if let Ok(mut slot) = self.authored_docs.lock() {
            *slot = docs;
        }
    }

    fn authored(&self, api: &str) -> Option<(Value, String)> {
        let Some(dir) = self.resources.as_ref() else {
            return self.authored_docs.lock().ok()?.get(api).cloned();
        };
        let loaded = crate::load::load_paths(std::slice::from_ref(dir));
        let r = loaded
            .resources
            .iter()
            .find(|r| r.schema.metadata.qualified_name() == api)?;
        Some((r.schema.spec.openapi.clone(), base_path_of(r)))
    }
}

/// The base path an `ApiSchema` is served under (`spec.basePath`, else the first server's
/// path), as the compiler derives it.
#[must_use]
pub fn base_path_of(r: &LoadedResource) -> String {
    let written = match &r.schema.spec.base_path {
        Some(p) => p.clone(),
        None => crate::openapi::server_base_path(&r.schema.spec.openapi).unwrap_or_default(),
    };
    written.trim_end_matches('/').to_owned()
}

/// A running collector; stops (and saves) when dropped or on [`Collector::stop`].
#[derive(Debug)]
pub struct Collector {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    /// Listens on `addr` (port 0: any free one) on its own thread; saves every
    /// `save_every` when the model changed.
    pub fn start(
        addr: SocketAddr,
        state: Arc<State>,
        save_every: Duration,
    ) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("collector: cannot listen on {addr}: {e}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, mut rx) = oneshot::channel::<()>();
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("collector".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "collector: no runtime");
                        return;
                    }
                };
                let serving = Arc::clone(&thread_state);
                runtime.block_on(async move {
                    let thread_state = serving;
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        tracing::error!("collector: cannot adopt the listener");
                        return;
                    };
                    let mut tick = tokio::time::interval(save_every);
                    loop {
                        tokio::select! {
                            _ = &mut rx => break,
                            _ = tick.tick() => {
                                if let Err(e) = thread_state.save() {
                                    tracing::warn!(error = %e, "collector: cannot save the model");
                                }
                            }
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let state = Arc::clone(&thread_state);
                                tokio::spawn(async move {
                                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                                    let _ = http1::Builder::new()
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                });
                            }
                        }
                    }
                });
                if let Err(e) = thread_state.save() {
                    tracing::warn!(error = %e, "collector: cannot save the model on shutdown");
                }
            })?;
        tracing::info!(%addr, "collector listening");
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Stops serving and saves the model.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn json_answer(status: StatusCode, v: &Value) -> Answer {
    answer(
        status,
        "application/json",
        serde_json::to_vec_pretty(v).unwrap_or_default(),
    )
}

fn problem(status: StatusCode, detail: &str) -> Answer {
    let body = json!({"title": status.canonical_reason().unwrap_or("error"), "status": status.as_u16(), "detail": detail});
    answer(
        status,
        "application/problem+json",
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Answer, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    if path == "/v1/samples" {
        if method != Method::POST {
            return Ok(problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST a sample batch",
            ));
        }
        let body = match Limited::new(req.into_body(), MAX_BATCH_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(_) => return Ok(problem(StatusCode::PAYLOAD_TOO_LARGE, "batch over 8 MiB")),
        };
        return Ok(match state.accept(&body) {
            Ok(n) => json_answer(StatusCode::ACCEPTED, &json!({"accepted": n})),
            Err(e) => problem(StatusCode::BAD_REQUEST, &e),
        });
    }
    if method != Method::GET {
        return Ok(problem(StatusCode::METHOD_NOT_ALLOWED, "read-only"));
    }
    Ok(get(&state, &path))
}

fn get(state: &State, path: &str) -> Answer {
    let Ok(model) = state.model.lock() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "model lock poisoned");
    };
    if path == "/v1/apis" {
        let list: Vec<Value> = model
            .apis
            .keys()
            .map(|name| {
                let authored = state.authored(name);
                let s = summary(
                    &model,
                    name,
                    authored.as_ref().map(|a| &a.0),
                    authored.as_ref().map_or("", |a| a.1.as_str()),
                );
                json!({"name": name, "summary": s})
            })
            .collect();
        return json_answer(StatusCode::OK, &Value::Array(list));
    }
    let Some(rest) = path.strip_prefix("/v1/apis/") else {
        return problem(StatusCode::NOT_FOUND, "no such resource");
    };
    let mut parts = rest.splitn(3, '/');
    let (Some(ns), Some(name), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
        return problem(
            StatusCode::NOT_FOUND,
            "expected /v1/apis/{namespace}/{name}/...",
        );
    };
    let api = format!("{ns}/{name}");
    let Some(m) = model.apis.get(&api) else {
        return problem(StatusCode::NOT_FOUND, &format!("nothing learned for {api}"));
    };
    let learned = emit::document(&api, m);
    let authored = state.authored(&api);
    match what {
        "openapi.json" => json_answer(StatusCode::OK, &learned),
        "openapi.yaml" => yaml(&learned),
        "summary" => {
            let s = summary(
                &model,
                &api,
                authored.as_ref().map(|a| &a.0),
                authored.as_ref().map_or("", |a| a.1.as_str()),
            );
            json_answer(StatusCode::OK, &json!(s))
        }
        "diff" | "merged.json" | "merged.yaml" => {
            let Some((doc, base)) = authored else {
                return problem(
                    StatusCode::NOT_FOUND,
                    &format!("no authored ApiSchema {api} to compare with"),
                );
            };
            if what == "diff" {
                return json_answer(StatusCode::OK, &json!(diff::diff(&doc, &learned, &base)));
            }
            let (merged, conflicts) = diff::merge(&doc, &learned, &base);
            let mut merged = merged;
            set(&mut merged, "x-gatehouse-drift", json!(conflicts));
            if what == "merged.json" {
                json_answer(StatusCode::OK, &merged)
            } else {
                yaml(&merged)
            }
        }
        _ => problem(StatusCode::NOT_FOUND, "unknown view"),
    }
}

fn yaml(v: &Value) -> Answer {
    match serde_yaml_ng::to_string(v) {
        Ok(s) => answer(StatusCode::OK, "application/yaml", s),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Fetches a learned document from a running collector (for `gatehouse adopt`).
pub fn fetch(collector: &str, api: &str) -> anyhow::Result<Value> {
    let url = format!(
        "{}/v1/apis/{api}/openapi.json",
        collector.trim_end_matches('/')
    );
    let body = ureq::get(&url).call()?.into_string()?;
    Ok(serde_json::from_str(&body)?)
}
