//! Prometheus metrics and the `/metrics`, `/healthz`, `/readyz` endpoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// Every metric the operator exports (`docs/kubernetes.md#status-and-troubleshooting`).
#[derive(Debug)]
pub struct Metrics {
    pub registry: Registry,
    /// Passes run.
    pub reconciles: Counter,
    /// Failures by cause.
    pub errors: Family<ErrorLabels, Counter>,
    /// Time of the pure compile (index → configurations), seconds.
    pub compile_seconds: Histogram,
    /// Objects watched (ApiSchema, IdentityProvider, ConfigMap, Secret) and generated
    /// (WasmPlugin, ...).
    pub objects: Family<KindLabels, Gauge>,
    /// Generated objects written (server-side apply) or deleted.
    pub writes: Family<KindLabels, Counter>,
    /// 1 while this replica holds the lease.
    pub leader: Gauge,
    /// Ready: caches synced and a first pass done (or standing by as a follower).
    pub ready: Arc<AtomicBool>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("gatehouse_operator");
        let reconciles = Counter::default();
        registry.register("reconciles", "Reconcile passes run", reconciles.clone());
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register("errors", "Reconcile errors by cause", errors.clone());
        let compile_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "compile_seconds",
            "Time to compile every resource into per-target configurations",
            compile_seconds.clone(),
        );
        let objects = Family::<KindLabels, Gauge>::default();
        registry.register(
            "objects",
            "Objects watched or generated, by kind",
            objects.clone(),
        );
        let writes = Family::<KindLabels, Counter>::default();
        registry.register(
            "writes",
            "Generated objects written or deleted, by kind",
            writes.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica is the leader",
            leader.clone(),
        );
        Self {
            registry,
            reconciles,
            errors,
            compile_seconds,
            objects,
            writes,
            leader,
            ready: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Metrics {
    pub fn error(&self, label: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                error: label.to_owned(),
            })
            .inc();
    }

    pub fn set_objects(&self, kind: &str, count: usize) {
        self.objects
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn wrote(&self, kind: &str) {
        self.writes
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Serves the endpoints on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving /metrics, /healthz, /readyz");
    }
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&req, &metrics)) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

fn answer(req: &Request<hyper::body::Incoming>, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        ),
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
        "/readyz" if metrics.ready.load(Ordering::Relaxed) => {
            (StatusCode::OK, "text/plain", "ready\n".to_owned())
        }
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "not ready\n".to_owned(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}
