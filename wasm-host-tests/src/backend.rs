//! The test backend: echoes each request as JSON and does what request headers say.
//!
//! | request | answer |
//! |---|---|
//! | any | 200 `application/json` `{method, path, query, headers, body}` (`query` is `null` without one; `headers` maps lower-case names to values, repeated headers joined with `, `) |
//! | `x-backend-status: N` | status N instead of 200 |
//! | `x-backend-delay-ms: N` | answers after N ms |
//! | `x-backend-set-header: name: value` (repeatable) | adds that response header |
//! | `x-backend-body-bytes: N` (any path) or `GET /__bytes/1k`, `/__bytes/64k`, `/__bytes/N` | a fixed body of N bytes (`application/octet-stream`), no echo: the cheap answer for benchmarks |
//! | `x-backend-etag: "v"` | adds `ETag: "v"`; a request whose `If-None-Match` carries it gets `304` with no body |
//! | `GET /__cached/N` (`1k`, `64k`, bytes) | a fixed body of N bytes with `cache-control: public, max-age=3600` (the path wins over `x-backend-body-bytes`): the cacheable answer for the cache benchmark |
//! | `GET /__hits` | `{"hits": N}`, not counted itself |
//!
//! Every request other than `/__hits` increments the hit counter, readable in-process
//! through [`Backend::hits`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

/// Largest fixed body the backend will produce (`/__bytes/N`, `x-backend-body-bytes`).
pub const MAX_FIXED_BODY: usize = 16 * 1024 * 1024;

static FIXED_BYTES: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// A running in-process backend. Stops when dropped.
#[derive(Debug)]
pub struct Backend {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Backend {
    /// Starts a backend on a free loopback port, on its own thread and runtime.
    pub fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap())
    }

    /// Starts a backend on `addr` (port 0 for a free one).
    pub fn start_on(addr: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind(addr)
            .unwrap_or_else(|e| panic!("test backend: cannot bind {addr}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU64::new(0));
        let (tx, rx) = oneshot::channel();
        let thread_hits = Arc::clone(&hits);
        let thread = std::thread::Builder::new()
            .name(format!("test-backend-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    tokio::select! {
                        () = serve(listener, thread_hits) => {}
                        _ = rx => {}
                    }
                });
            })
            .unwrap();
        Self {
            addr,
            hits,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Address the backend listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests served so far (all but `/__hits`).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections forever, serving each with HTTP/1.1 keep-alive.
pub async fn serve(listener: tokio::net::TcpListener, hits: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let hits = Arc::clone(&hits);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&hits)));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Answer = Response<Full<Bytes>>;

async fn handle(req: Request<Incoming>, hits: Arc<AtomicU64>) -> Result<Answer, Infallible> {
    if req.uri().path() == "/__hits" {
        let n = hits.load(Ordering::SeqCst);
        return Ok(json_answer(StatusCode::OK, &json!({ "hits": n })));
    }
    hits.fetch_add(1, Ordering::SeqCst);
    Ok(answer(req).await.unwrap_or_else(|message| {
        json_answer(StatusCode::BAD_REQUEST, &json!({ "backendError": message }))
    }))
}

async fn answer(req: Request<Incoming>) -> Result<Answer, String> {
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    if let Some(ms) = header("x-backend-delay-ms") {
        let ms: u64 = ms.trim().parse().map_err(|_| "bad x-backend-delay-ms")?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = match header("x-backend-status") {
        Some(s) => s
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or("bad x-backend-status")?,
        None => StatusCode::OK,
    };
    let mut extra = Vec::new();
    for value in headers.get_all("x-backend-set-header") {
        let value = value.to_str().map_err(|_| "bad x-backend-set-header")?;
        let (name, value) = value
            .split_once(':')
            .ok_or("x-backend-set-header must be `name: value`")?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| "bad header name in x-backend-set-header")?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| "bad header value in x-backend-set-header")?;
        extra.push((name, value));
    }

    let cached = req.uri().path().strip_prefix("/__cached/");
    if cached.is_some() {
        extra.push((
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ));
    }
    let fixed = match cached.map(|n| parse_size(n).ok_or("bad /__cached/ size")) {
        Some(n) => Some(n?),
        None => match header("x-backend-body-bytes") {
            Some(n) => Some(parse_size(n).ok_or("bad x-backend-body-bytes")?),
            None => match req.uri().path().strip_prefix("/__bytes/") {
                Some(n) => Some(parse_size(n).ok_or("bad /__bytes/ size")?),
                None => None,
            },
        },
    };

    let mut response = match fixed {
        Some(n) => {
            // Drain the request body so the connection stays reusable.
            let _ = req.into_body().collect().await;
            let body = match FIXED_BYTES.get(..n) {
                Some(slice) => Bytes::from_static(slice),
                None => Bytes::from(vec![b'x'; n]),
            };
            let mut r = Response::new(Full::new(body));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
        None => {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let mut names = Map::new();
            for (name, value) in &parts.headers {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                match names.get_mut(name.as_str()) {
                    Some(Value::String(existing)) => {
                        existing.push_str(", ");
                        existing.push_str(&value);
                    }
                    _ => {
                        names.insert(name.as_str().to_owned(), Value::String(value));
                    }
                }
            }
            let echo = json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "query": parts.uri.query(),
                "headers": names,
                "body": String::from_utf8_lossy(&body),
            });
            json_answer(StatusCode::OK, &echo)
        }
    };
    *response.status_mut() = status;
    for (name, value) in extra {
        response.headers_mut().append(name, value);
    }
    if let Some(etag) = header("x-backend-etag") {
        let etag = HeaderValue::from_str(etag).map_err(|_| "bad x-backend-etag")?;
        let matches = header("if-none-match").is_some_and(|inm| {
            inm.split(',')
                .any(|t| t.trim() == etag.to_str().unwrap_or(""))
        });
        if matches {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            *response.body_mut() = Full::new(Bytes::new());
            response.headers_mut().remove(CONTENT_TYPE);
        }
        response.headers_mut().insert(hyper::header::ETAG, etag);
    }
    Ok(response)
}

/// A tiny static JWKS server for the SSO host tests: answers every request with the
/// current document (status and body settable while it runs), counts requests, and can be
/// stopped (the port then refuses connections) to play an identity provider that is down.
#[derive(Debug)]
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<std::sync::Mutex<(u16, String)>>,
    hits: Arc<AtomicU64>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl JwksServer {
    /// Serves `document` (`200 application/json`) on a free loopback port.
    pub fn start(document: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(std::sync::Mutex::new((200, document.to_owned())));
        let hits = Arc::new(AtomicU64::new(0));
        let (tx, rx) = oneshot::channel();
        let (thread_state, thread_hits) = (Arc::clone(&state), Arc::clone(&hits));
        let thread = std::thread::Builder::new()
            .name(format!("test-jwks-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let accept = async move {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else {
                                continue;
                            };
                            let (state, hits) =
                                (Arc::clone(&thread_state), Arc::clone(&thread_hits));
                            tokio::spawn(async move {
                                let service = service_fn(move |_req: Request<Incoming>| {
                                    hits.fetch_add(1, Ordering::SeqCst);
                                    let (status, body) = state.lock().unwrap().clone();
                                    let mut r = Response::new(Full::new(Bytes::from(body)));
                                    *r.status_mut() =
                                        StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                                    r.headers_mut().insert(
                                        CONTENT_TYPE,
                                        HeaderValue::from_static("application/json"),
                                    );
                                    async move { Ok::<_, Infallible>(r) }
                                });
                                let _ = http1::Builder::new()
                                    .keep_alive(false)
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    };
                    tokio::select! {
                        () = accept => {}
                        _ = rx => {}
                    }
                });
            })
            .unwrap();
        Self {
            addr,
            state,
            hits,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `document` with `status` from now on.
    pub fn set(&self, status: u16, document: &str) {
        *self.state.lock().unwrap() = (status, document.to_owned());
    }

    /// Requests served so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops serving: the port refuses connections from now on.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn json_answer(status: StatusCode, value: &Value) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `1024`, `1k`, `64k`, `1m` → bytes (at most [`MAX_FIXED_BODY`]).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    let (digits, unit) = match s.strip_suffix('k') {
        Some(d) => (d, 1024),
        None => match s.strip_suffix('m') {
            Some(d) => (d, 1024 * 1024),
            None => (s.as_str(), 1),
        },
    };
    let n = digits.parse::<usize>().ok()?.checked_mul(unit)?;
    (n <= MAX_FIXED_BODY).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("17m"), None);
        assert_eq!(parse_size("x"), None);
    }
}
