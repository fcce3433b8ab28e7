//! Response caching (RFC 9111, shared cache) and Idempotency-Key replay, in host shared
//! data so every worker VM serves what any of them stored (`docs/caching.md`).
//!
//! - [`store`]: the bounded shared-data store (budget, entry limit, CLOCK, CAS).
//! - [`control`]: `Cache-Control`, dates, freshness; [`key`]: keys, `Vary`;
//!   [`entry`]: stored layout; [`idempotency`]: the Idempotency-Key state machine.
//! - this module: what to do with a request and its response. The glue calls
//!   [`on_request`], then [`on_response_headers`] / [`on_response_body`] with the
//!   [`Pending`] state it returned; `wasm.rs` holds those few hostcalls.

pub mod control;
pub mod entry;
pub mod idempotency;
pub mod key;
pub mod purge;
pub mod store;
#[cfg(target_arch = "wasm32")]
pub(crate) mod wasm;

use std::cell::RefCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::CachePolicy;
use crate::host::{Host, LogLevel};
use crate::metrics::tagged_name;
use crate::problem::{LocalReply, Problem};
use control::{Directives, FreshnessInputs};
use entry::{Payload, Stored};
use key::Partition;
use store::{Limits, PutMode, PutOutcome, SlotRef, Store};

/// The operation policy as keys read it.
pub type CompiledCachePolicy = CachePolicy;

/// Default byte budget of the shared store.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default slot count.
pub const DEFAULT_MAX_ENTRIES: u32 = 1024;
/// Largest slot count (the index is `21 × slots` bytes, written on every store).
pub const MAX_ENTRIES: u32 = 16_384;
/// Default largest object.
pub const DEFAULT_MAX_OBJECT: u32 = 1024 * 1024;

/// `settings.cache`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CacheSettings {
    /// Byte budget of stored objects (responses, vary markers, idempotency records).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Objects held at once, at most 16384.
    #[serde(default = "default_max_entries")]
    pub max_entries: u32,
    /// Largest object (a response's headers + body); larger responses are not stored.
    #[serde(default = "default_max_object")]
    pub max_object_bytes: u32,
    /// Response header telling HIT, MISS, STALE or BYPASS; empty: none.
    #[serde(default = "default_status_header")]
    pub status_header: String,
    /// Admin endpoint removing entries (`docs/caching.md#purge`); absent: no endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge: Option<purge::PurgeSettings>,
}

fn default_max_bytes() -> u64 {
    DEFAULT_MAX_BYTES
}
fn default_max_entries() -> u32 {
    DEFAULT_MAX_ENTRIES
}
fn default_max_object() -> u32 {
    DEFAULT_MAX_OBJECT
}
fn default_status_header() -> String {
    "x-cache".to_owned()
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_object_bytes: DEFAULT_MAX_OBJECT,
            status_header: default_status_header(),
            purge: None,
        }
    }
}

impl CacheSettings {
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_bytes,
            max_entries: self.max_entries.min(MAX_ENTRIES),
            max_object: self.max_object_bytes,
        }
    }
}

/// `policies.cache.idempotency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdempotencyPolicy {
    /// How long a completed request's response is replayed, seconds.
    #[serde(default = "default_idempotency_ttl")]
    pub ttl_seconds: u32,
    /// Requests without `Idempotency-Key` get 400.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// How long a request in flight holds its key (a crashed worker's key frees itself).
    #[serde(default = "default_in_flight")]
    pub in_flight_seconds: u32,
}

fn default_idempotency_ttl() -> u32 {
    86_400
}
fn default_in_flight() -> u32 {
    60
}

/// What the cache said about a request: the `x-cache` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Hit,
    Miss,
    Stale,
    Bypass,
}

impl Outcome {
    /// `result` label of `gatehouse_cache_lookups_total`.
    #[must_use]
    pub fn metric_label(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Stale => "stale",
            Outcome::Bypass => "bypass",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
            Outcome::Stale => "STALE",
            Outcome::Bypass => "BYPASS",
        }
    }
}

/// Per-VM state: referenced slots not yet written to the index, metric ids.
#[derive(Debug, Default)]
pub struct VmCache {
    pub refs: store::Refs,
    counters: HashMap<(&'static str, Option<&'static str>), Option<u32>>,
    gauge: Option<Option<u32>>,
    nonce: u64,
}

thread_local! {
    // A VM is single-threaded: this is the VM's cache state.
    static VM: RefCell<VmCache> = RefCell::new(VmCache::default());
}

/// Runs `f` with this VM's cache state.
pub fn with_vm<R>(f: impl FnOnce(&mut VmCache) -> R) -> R {
    VM.with(|vm| match vm.try_borrow_mut() {
        Ok(mut vm) => f(&mut vm),
        Err(_) => f(&mut VmCache::default()),
    })
}

impl VmCache {
    /// Adds `by` to a counter (`gatehouse_cache_*`), defined on first use.
    pub fn count(
        &mut self,
        host: &dyn Host,
        name: &'static str,
        label: Option<&'static str>,
        by: i64,
    ) {
        let id = *self.counters.entry((name, label)).or_insert_with(|| {
            let tags: Vec<(&str, &str)> = label.map(|l| ("result", l)).into_iter().collect();
            host.define_counter(&tagged_name(name, &tags))
        });
        if let Some(id) = id {
            host.increment_counter(id, by);
        }
    }

    /// Sets `gatehouse_cache_bytes` to the bytes the store accounts for.
    pub fn record_bytes(&mut self, host: &dyn Host, bytes: u64) {
        let id = *self
            .gauge
            .get_or_insert_with(|| host.define_gauge("gatehouse_cache_bytes"));
        if let Some(id) = id {
            host.set_gauge(id, i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }

    fn next_nonce(&mut self, host: &dyn Host) -> u64 {
        self.nonce = self.nonce.wrapping_add(1);
        (host.now_nanos() ^ self.nonce.rotate_left(48)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// The cache policy of the `GET` operation serving a path on the request's host (what an
/// unsafe request to that path invalidates).
pub type Resolver<'a> = &'a dyn Fn(&str) -> Option<CachePolicy>;

/// A request as the cache sees it (after routing and auth).
#[derive(Clone, Copy)]
pub struct CacheRequest<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    pub authority: &'a str,
    /// Raw `:path`, query included.
    pub path: &'a str,
    /// Lower-case names.
    pub headers: &'a [(String, String)],
    /// The verified SSO principal (`provider` + `sub`), when a token was verified.
    pub principal: Option<&'a str>,
    /// `<api>/<operationId>`.
    pub operation: &'a str,
    pub policy: &'a CachePolicy,
    pub request_id: &'a str,
    pub request_id_header: &'a str,
    pub resolve_get: Resolver<'a>,
}

impl std::fmt::Debug for CacheRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl CacheRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn credentialed(&self) -> bool {
        self.principal.is_some()
            || self.header("authorization").is_some()
            || self.header("cookie").is_some()
    }

    fn partition(&self) -> Option<Partition> {
        if self.policy.public || !self.credentialed() {
            return Some(Partition::Shared);
        }
        self.principal.map(|p| Partition::Principal(p.to_owned()))
    }
}

/// What to do with the request.
#[derive(Debug)]
pub enum RequestStep {
    /// The cache has nothing to do with this exchange.
    Skip,
    /// Answer here (hit, 304, 504 only-if-cached, idempotent replay, 409, 422, 400).
    Reply(LocalReply),
    /// Forward, after setting these request headers (revalidation), and call
    /// [`on_response_headers`] with `pending`.
    Forward {
        pending: Box<Pending>,
        set_headers: Vec<(String, String)>,
    },
    /// Idempotency needs the request body's fingerprint: buffer it and call
    /// [`idempotency::on_request_body`].
    NeedBody(idempotency::AwaitingBody),
}

/// What the response phase needs to know about its request.
#[derive(Debug)]
pub struct Pending {
    pub(crate) outcome: Outcome,
    pub(crate) kind: PendingKind,
    /// The response body collected so far (stores only).
    pub(crate) body: Vec<u8>,
    /// Gave up on storing this response (too large).
    pub(crate) abandoned: bool,
    pub(crate) limits: Limits,
    pub(crate) status_header: String,
}

#[derive(Debug)]
pub(crate) enum PendingKind {
    /// A GET that may be stored.
    Store(Box<StoreCtx>),
    /// An unsafe method: invalidate these primary keys after a non-error response.
    Invalidate {
        keys: Vec<String>,
        scheme: String,
        authority: String,
        partition: Option<Partition>,
    },
    /// Only the header to add (bypass).
    Label,
    Idempotent(idempotency::Running),
}

#[derive(Debug)]
pub(crate) struct StoreCtx {
    primary: String,
    operation: String,
    request_time: u64,
    /// Request said `no-store`.
    no_store: bool,
    head: bool,
    /// Request headers the variant key may need.
    headers: Vec<(String, String)>,
    policy: CachePolicy,
    /// A stale (or no-cache) entry being revalidated: (its key, slot, entry).
    revalidating: Option<(String, SlotRef, Stored)>,
    /// The client sent its own validators.
    client_conditional: bool,
    /// Keep the stored response if revalidation fails with 5xx (seconds of stale-if-error).
    stale_if_error: u64,
    /// A stored response after the headers phase, waiting for its body.
    stored: Option<(String, Stored)>,
}

impl Pending {
    /// `x-cache` header to add to the response (`None` when configured off).
    #[must_use]
    pub fn status_header(&self) -> Option<(&str, &'static str)> {
        (!self.status_header.is_empty())
            .then(|| (self.status_header.as_str(), self.outcome.label()))
    }
}

/// What to do with the response headers.
#[derive(Debug)]
pub enum ResponseStep {
    /// Let the response through (after adding the status header); call
    /// [`on_response_body`] with each chunk when `collect` is true.
    Continue { collect: bool },
    /// Replace the upstream's response with this one (revalidated entry, stale-if-error).
    Reply(LocalReply),
}

fn settings_of(config: &crate::config::Settings) -> CacheSettings {
    config.cache.clone().unwrap_or_default()
}

fn now_secs(host: &dyn Host) -> u64 {
    host.now_nanos() / 1_000_000_000
}

/// Headers never stored or served from the cache: hop-by-hop ones, `age` (recomputed),
/// framing (the host recomputes it), and the status header itself.
fn storable_header(name: &str, status_header: &str) -> bool {
    !matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "age"
            | "content-length"
            | "set-cookie"
    ) && !name.starts_with(':')
        && name != status_header
}

/// Decides what the cache does with a request (after routing and auth).
pub fn on_request(
    settings: &crate::config::Settings,
    host: &dyn Host,
    request: &CacheRequest<'_>,
    request_body_follows: bool,
) -> RequestStep {
    let cache_settings = settings_of(settings);
    let limits = cache_settings.limits();
    let policy = request.policy;
    let pending = |outcome: Outcome, kind: PendingKind| Pending {
        outcome,
        kind,
        body: Vec::new(),
        abandoned: false,
        limits,
        status_header: cache_settings.status_header.clone(),
    };
    match request.method {
        "POST" | "PATCH" if policy.idempotency.is_some() => {
            return idempotency::on_request(
                settings,
                host,
                request,
                limits,
                request_body_follows,
                cache_settings.status_header.clone(),
            );
        }
        "GET" | "HEAD" if policy.enabled => {}
        "POST" | "PUT" | "DELETE" | "PATCH" => {
            // Only paths whose GET is cached have anything to invalidate.
            let Some(get_policy) = (request.resolve_get)(request.path).filter(|p| p.enabled) else {
                return RequestStep::Skip;
            };
            let partition = request.partition();
            let keys = invalidation_keys(
                request.scheme,
                request.authority,
                request.path,
                request.headers,
                partition.as_ref(),
                &get_policy,
            );
            return RequestStep::Forward {
                pending: Box::new(pending(
                    Outcome::Bypass,
                    PendingKind::Invalidate {
                        keys,
                        scheme: request.scheme.to_owned(),
                        authority: request.authority.to_owned(),
                        partition,
                    },
                )),
                set_headers: Vec::new(),
            };
        }
        _ => return RequestStep::Skip,
    }
    let vm_count = |outcome: Outcome| {
        with_vm(|vm| {
            vm.count(
                host,
                "gatehouse_cache_lookups_total",
                Some(outcome.metric_label()),
                1,
            );
        });
    };
    let Some(partition) = request.partition() else {
        // Credentials but no verified principal, on an operation not declared public.
        vm_count(Outcome::Bypass);
        return RequestStep::Forward {
            pending: Box::new(pending(Outcome::Bypass, PendingKind::Label)),
            set_headers: Vec::new(),
        };
    };
    let mut directives = control::parse(request.all("cache-control"));
    if request.header("cache-control").is_none()
        && request
            .all("pragma")
            .any(|p| p.to_ascii_lowercase().contains("no-cache"))
    {
        directives.no_cache = true;
    }
    let primary = key::primary(
        request.scheme,
        request.authority,
        request.path,
        request.headers,
        &partition,
        policy,
    );
    let store = Store { host, limits };
    let now = now_secs(host);
    let found = lookup(&store, &primary, request.headers);
    let client_conditional =
        request.header("if-none-match").is_some() || request.header("if-modified-since").is_some();
    let head = request.method == "HEAD";
    // Only misses and revalidations need the context: hits allocate none of it.
    let new_ctx = || StoreCtx {
        primary: primary.clone(),
        operation: request.operation.to_owned(),
        request_time: now,
        no_store: directives.no_store,
        head,
        headers: request.headers.to_vec(),
        policy: policy.clone(),
        revalidating: None,
        client_conditional,
        stale_if_error: 0,
        stored: None,
    };
    if let Some((entry_key, slot, stored)) = found {
        let age = stored.age(now);
        let fresh = stored.lifetime > age;
        let acceptable = fresh
            && !stored.no_cache
            && !directives.no_cache
            && directives.max_age.is_none_or(|m| age <= m)
            && directives
                .min_fresh
                .is_none_or(|m| stored.lifetime.saturating_sub(age) >= m);
        let staleness = age.saturating_sub(stored.lifetime);
        let max_stale_ok = !fresh
            && !stored.must_revalidate
            && !stored.no_cache
            && !directives.no_cache
            && match directives.max_stale {
                Some(None) => true,
                Some(Some(s)) => staleness <= s,
                None => false,
            };
        let swr = stored
            .swr
            .min(u64::from(policy.stale_while_revalidate_seconds));
        let in_swr = !fresh
            && !stored.must_revalidate
            && !stored.no_cache
            && !directives.no_cache
            && staleness < swr;
        if acceptable || max_stale_ok {
            with_vm(|vm| vm.refs.record(slot));
            let outcome = if acceptable {
                Outcome::Hit
            } else {
                Outcome::Stale
            };
            vm_count(outcome);
            return RequestStep::Reply(serve(request, stored, now, outcome, &cache_settings));
        }
        if in_swr && !claim_revalidation(&store, &entry_key, now) {
            // Somebody else is revalidating: serve stale meanwhile.
            with_vm(|vm| vm.refs.record(slot));
            vm_count(Outcome::Stale);
            return RequestStep::Reply(serve(
                request,
                stored,
                now,
                Outcome::Stale,
                &cache_settings,
            ));
        }
        if directives.only_if_cached {
            vm_count(Outcome::Miss);
            return RequestStep::Reply(gateway_timeout(request));
        }
        // Revalidate with the stored validators (unless the client brought its own).
        let mut set_headers = Vec::new();
        if !client_conditional {
            if let Some(etag) = stored.header("etag") {
                set_headers.push(("if-none-match".to_owned(), etag.to_owned()));
            } else if let Some(lm) = stored.header("last-modified") {
                set_headers.push(("if-modified-since".to_owned(), lm.to_owned()));
            }
        }
        let mut ctx = new_ctx();
        ctx.stale_if_error = stored.sie.min(u64::from(policy.stale_if_error_seconds));
        if set_headers.is_empty() && !client_conditional && ctx.stale_if_error == 0 {
            vm_count(Outcome::Miss);
            return RequestStep::Forward {
                pending: Box::new(pending(Outcome::Miss, PendingKind::Store(Box::new(ctx)))),
                set_headers,
            };
        }
        ctx.revalidating = Some((entry_key, slot, stored));
        vm_count(Outcome::Miss);
        return RequestStep::Forward {
            pending: Box::new(pending(Outcome::Miss, PendingKind::Store(Box::new(ctx)))),
            set_headers,
        };
    }
    if directives.only_if_cached {
        vm_count(Outcome::Miss);
        return RequestStep::Reply(gateway_timeout(request));
    }
    vm_count(Outcome::Miss);
    RequestStep::Forward {
        pending: Box::new(pending(
            Outcome::Miss,
            PendingKind::Store(Box::new(new_ctx())),
        )),
        set_headers: Vec::new(),
    }
}

/// Takes the revalidation lease of a stale entry (stale-while-revalidate): true for the
/// one request that goes to the origin while the others are served stale.
fn claim_revalidation(store: &Store<'_>, entry_key: &str, now: u64) -> bool {
    let lease = format!("L\n{entry_key}");
    let expires = u32::try_from(now + 30).unwrap_or(u32::MAX);
    with_vm(|vm| {
        matches!(
            store.put(&mut vm.refs, &lease, &[], expires, PutMode::IfAbsent),
            PutOutcome::Stored { .. } | PutOutcome::TooLarge | PutOutcome::Failed
        )
    })
}

/// Finds the stored response for a request: the primary key, or through its vary marker
/// the variant matching the request's headers.
fn lookup(
    store: &Store<'_>,
    primary: &str,
    headers: &[(String, String)],
) -> Option<(String, SlotRef, Stored)> {
    let (slot, payload) = store.get(primary)?;
    match Payload::decode_owned(payload)? {
        Payload::Response(stored) => Some((primary.to_owned(), slot, stored)),
        Payload::Vary { nonce, names } => {
            let variant = key::variant(primary, nonce, &names, headers);
            let (slot, payload) = store.get(&variant)?;
            match Payload::decode_owned(payload)? {
                Payload::Response(stored) => Some((variant, slot, stored)),
                _ => None,
            }
        }
        Payload::Idempotency { .. } => None,
    }
}

fn gateway_timeout(request: &CacheRequest<'_>) -> LocalReply {
    Problem::new(
        504,
        "not-cached",
        "Gateway Timeout",
        "only-if-cached: no stored response can be used",
        request.request_id,
    )
    .with_instance(request.path)
    .into_reply(request.request_id_header, Vec::new())
}

/// Does the client's validator match the stored response (RFC 9110 §13.1)?
fn not_modified(request_headers: &[(String, String)], stored: &Stored) -> bool {
    let header = |name: &str| {
        request_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(inm) = header("if-none-match") {
        let Some(etag) = stored.header("etag") else {
            return false;
        };
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        return control::split_list(inm).any(|t| t == "*" || weak(t) == weak(etag));
    }
    if let Some(ims) = header("if-modified-since").and_then(control::parse_http_date) {
        let lm = stored
            .header("last-modified")
            .or_else(|| stored.header("date"))
            .and_then(control::parse_http_date);
        return lm.is_some_and(|lm| lm <= ims);
    }
    false
}

/// Answers a request from a stored response (200/…, or 304 to a matching conditional).
/// Answers from the stored entry in the response phase (a 304 merged into it, or
/// stale-if-error): only the request's method, headers and policy are still known.
fn serve_from_upstream_phase(
    ctx: &StoreCtx,
    stored: Stored,
    now: u64,
    outcome: Outcome,
    status_header: String,
) -> LocalReply {
    let request = CacheRequest {
        method: if ctx.head { "HEAD" } else { "GET" },
        scheme: "",
        authority: "",
        path: "",
        headers: &ctx.headers,
        principal: None,
        operation: "",
        policy: &ctx.policy,
        request_id: "",
        request_id_header: "",
        resolve_get: &|_| None,
    };
    let settings = CacheSettings {
        status_header,
        ..CacheSettings::default()
    };
    serve(&request, stored, now, outcome, &settings)
}

fn serve(
    request: &CacheRequest<'_>,
    stored: Stored,
    now: u64,
    outcome: Outcome,
    settings: &CacheSettings,
) -> LocalReply {
    let conditional = not_modified(request.headers, &stored);
    let status = if conditional { 304 } else { stored.status };
    let age = stored.age(now);
    let mut headers = stored.headers;
    if conditional {
        // A 304 carries the fields a 200 would, minus the representation's metadata.
        headers.retain(|(n, _)| {
            !matches!(
                n.as_str(),
                "content-type" | "content-encoding" | "content-range" | "content-language"
            )
        });
    }
    headers.push(("age".to_owned(), age.to_string()));
    if !settings.status_header.is_empty() {
        headers.push((settings.status_header.clone(), outcome.label().to_owned()));
    }
    let body = if conditional || request.method == "HEAD" {
        Vec::new()
    } else {
        stored.body
    };
    LocalReply {
        status,
        headers,
        body,
    }
}

fn invalidation_keys(
    scheme: &str,
    authority: &str,
    path: &str,
    headers: &[(String, String)],
    partition: Option<&Partition>,
    policy: &CachePolicy,
) -> Vec<String> {
    // The caller's own entries and the shared ones; other principals' copies expire.
    let mut keys = vec![key::primary(
        scheme,
        authority,
        path,
        headers,
        &Partition::Shared,
        policy,
    )];
    if let Some(p @ Partition::Principal(_)) = partition {
        keys.push(key::primary(scheme, authority, path, headers, p, policy));
    }
    keys
}

/// The response headers of a forwarded request. `headers`: lower-case names.
pub fn on_response_headers(
    host: &dyn Host,
    resolve_get: Resolver<'_>,
    pending: &mut Pending,
    status: u16,
    headers: &[(String, String)],
    end_of_stream: bool,
) -> ResponseStep {
    let now = now_secs(host);
    let store = Store {
        host,
        limits: pending.limits,
    };
    let status_header = pending.status_header.clone();
    match &mut pending.kind {
        PendingKind::Label => ResponseStep::Continue { collect: false },
        PendingKind::Idempotent(running) => idempotency::on_response_headers(
            running,
            status,
            headers,
            &status_header,
            end_of_stream,
        ),
        PendingKind::Invalidate {
            keys,
            scheme,
            authority,
            partition,
        } => {
            if (200..400).contains(&status) {
                let mut removed = 0;
                for k in keys.iter() {
                    removed += u32::from(store.remove(k));
                }
                // Location and Content-Location on the same host name the URIs changed.
                for name in ["location", "content-location"] {
                    let Some(target) = headers.iter().find(|(n, _)| n == name).map(|(_, v)| v)
                    else {
                        continue;
                    };
                    let Some(path) = same_origin_path(target, scheme, authority) else {
                        continue;
                    };
                    if let Some(policy) = resolve_get(&path).filter(|p| p.enabled) {
                        for k in invalidation_keys(
                            scheme,
                            authority,
                            &path,
                            &[],
                            partition.as_ref(),
                            &policy,
                        ) {
                            removed += u32::from(store.remove(&k));
                        }
                    }
                }
                if removed > 0 {
                    host.log(
                        LogLevel::Debug,
                        &format!("cache: {removed} entries invalidated by status {status}"),
                    );
                    with_vm(|vm| vm.record_bytes(host, store.used_bytes()));
                }
            }
            ResponseStep::Continue { collect: false }
        }
        PendingKind::Store(ctx) => {
            let ctx = ctx.as_mut();
            if status == 304 {
                if let Some((entry_key, _slot, mut stored)) = ctx.revalidating.take() {
                    // RFC 9111 §4.3.4: the 304's fields replace the stored ones.
                    let same_validator = match (
                        headers
                            .iter()
                            .find(|(n, _)| n == "etag")
                            .map(|(_, v)| v.as_str()),
                        stored.header("etag"),
                    ) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                    if same_validator {
                        for (n, v) in headers {
                            if !storable_header(n, &status_header) {
                                continue;
                            }
                            stored.headers.retain(|(sn, _)| sn != n);
                            stored.headers.push((n.clone(), v.clone()));
                        }
                        if let Some(fresh) = freshness(ctx, stored.status, &stored.headers, now) {
                            stored.response_time = now;
                            stored.initial_age = fresh.initial_age;
                            stored.lifetime = fresh.lifetime;
                            stored.swr = fresh.swr;
                            stored.sie = fresh.sie;
                            stored.no_cache = fresh.no_cache;
                            stored.must_revalidate = fresh.must_revalidate;
                        }
                        if !ctx.no_store {
                            put_response(&store, host, &entry_key, &stored, now);
                        }
                        if ctx.client_conditional {
                            return ResponseStep::Continue { collect: false };
                        }
                        pending.outcome = Outcome::Hit;
                        return ResponseStep::Reply(serve_from_upstream_phase(
                            ctx,
                            stored,
                            now,
                            Outcome::Hit,
                            status_header,
                        ));
                    }
                }
                return ResponseStep::Continue { collect: false };
            }
            if status >= 500 {
                if let Some((_, _, stored)) = &ctx.revalidating {
                    let staleness = stored.age(now).saturating_sub(stored.lifetime);
                    if ctx.stale_if_error > 0 && staleness <= ctx.stale_if_error {
                        pending.outcome = Outcome::Stale;
                        return ResponseStep::Reply(serve_from_upstream_phase(
                            ctx,
                            stored.clone(),
                            now,
                            Outcome::Stale,
                            status_header,
                        ));
                    }
                }
            }
            if ctx.no_store || ctx.head {
                return ResponseStep::Continue { collect: false };
            }
            match cacheable(ctx, status, headers, now, pending.limits) {
                Some((entry_key_names, stored)) => {
                    let key = match entry_key_names {
                        None => ctx.primary.clone(),
                        Some(names) => {
                            let nonce = with_vm(|vm| vm.next_nonce(host));
                            let marker = Payload::Vary {
                                nonce,
                                names: names.clone(),
                            }
                            .encode();
                            let expires = expiry(&stored, now);
                            // Reuse a marker with the same names (so sibling variants stay).
                            let nonce = match store
                                .get(&ctx.primary)
                                .and_then(|(_, p)| Payload::decode(&p))
                            {
                                Some(Payload::Vary { nonce, names: n }) if n == names => nonce,
                                _ => {
                                    with_vm(|vm| {
                                        store.put(
                                            &mut vm.refs,
                                            &ctx.primary,
                                            &marker,
                                            expires,
                                            PutMode::Replace,
                                        )
                                    });
                                    nonce
                                }
                            };
                            key::variant(&ctx.primary, nonce, &names, &ctx.headers)
                        }
                    };
                    if end_of_stream {
                        put_response(&store, host, &key, &stored, now);
                        return ResponseStep::Continue { collect: false };
                    }
                    ctx.stored = Some((key, stored));
                    ResponseStep::Continue { collect: true }
                }
                None => ResponseStep::Continue { collect: false },
            }
        }
    }
}

/// One chunk of the response body (`end_of_stream`: the last one).
pub fn on_response_body(host: &dyn Host, pending: &mut Pending, chunk: &[u8], end_of_stream: bool) {
    if pending.abandoned {
        return;
    }
    if pending.body.len() + chunk.len() > pending.limits.max_object as usize {
        pending.abandoned = true;
        pending.body = Vec::new();
        if let PendingKind::Idempotent(running) = &mut pending.kind {
            running.abandon();
        }
        return;
    }
    pending.body.extend_from_slice(chunk);
    if !end_of_stream {
        return;
    }
    let now = now_secs(host);
    let store = Store {
        host,
        limits: pending.limits,
    };
    let body = std::mem::take(&mut pending.body);
    match &mut pending.kind {
        PendingKind::Store(ctx) => {
            if let Some((key, mut stored)) = ctx.stored.take() {
                stored.body = body;
                put_response(&store, host, &key, &stored, now);
            }
        }
        PendingKind::Idempotent(running) => {
            idempotency::on_response_complete(&store, host, running, body, now);
        }
        _ => {}
    }
}

/// Called when the exchange ends: an idempotent request that never completed frees its key.
pub fn on_done(host: &dyn Host, pending: &mut Pending) {
    if let PendingKind::Idempotent(running) = &mut pending.kind {
        let store = Store {
            host,
            limits: pending.limits,
        };
        idempotency::on_done(&store, host, running);
    }
}

fn expiry(stored: &Stored, now: u64) -> u32 {
    // Kept a while past freshness (the budget bounds it anyway): stale entries serve
    // `max-stale`, stale-while-revalidate, stale-if-error and cheap 304 revalidations.
    let fresh_left = stored.lifetime.saturating_sub(stored.initial_age);
    let keep = fresh_left
        .saturating_mul(2)
        .max(fresh_left.saturating_add(60));
    let extra = stored.swr.max(stored.sie);
    u32::try_from(now.saturating_add(keep).saturating_add(extra)).unwrap_or(u32::MAX)
}

fn put_response(store: &Store<'_>, host: &dyn Host, key: &str, stored: &Stored, now: u64) {
    let payload = Payload::Response(stored.clone()).encode();
    let expires = expiry(stored, now);
    let outcome = with_vm(|vm| store.put(&mut vm.refs, key, &payload, expires, PutMode::Replace));
    with_vm(|vm| match outcome {
        PutOutcome::Stored { evicted, .. } => {
            vm.count(host, "gatehouse_cache_stores_total", None, 1);
            if evicted > 0 {
                vm.count(
                    host,
                    "gatehouse_cache_evictions_total",
                    None,
                    i64::from(evicted),
                );
            }
            vm.record_bytes(host, store.used_bytes());
        }
        PutOutcome::TooLarge => {
            host.log(
                LogLevel::Debug,
                "cache: response larger than maxObjectBytes, not stored",
            );
        }
        PutOutcome::Exists | PutOutcome::Failed => {
            host.log(
                LogLevel::Debug,
                "cache: store contended, response not stored",
            );
        }
    });
}

/// Freshness of a response as stored.
#[derive(Debug, Clone, Copy)]
struct Fresh {
    initial_age: u64,
    lifetime: u64,
    swr: u64,
    sie: u64,
    no_cache: bool,
    must_revalidate: bool,
}

fn freshness(ctx: &StoreCtx, status: u16, headers: &[(String, String)], now: u64) -> Option<Fresh> {
    let all = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let one = |name: &'static str| all(name).next();
    let d: Directives = control::parse(all("cache-control"));
    let date = one("date").and_then(control::parse_http_date);
    let inputs = FreshnessInputs {
        status,
        date,
        expires: one("expires").map(control::parse_http_date),
        last_modified: one("last-modified").and_then(control::parse_http_date),
        heuristic: ctx.policy.heuristic,
        default_ttl: u64::from(ctx.policy.default_ttl_seconds),
        max_ttl: ctx.policy.max_ttl_seconds.map(u64::from),
        response_time: now,
    };
    let lifetime = control::lifetime(&d, &inputs);
    let has_validator = one("etag").is_some() || one("last-modified").is_some();
    let lifetime = match lifetime {
        Some(l) => l.seconds,
        // no-cache responses are stored to be revalidated every time.
        None if d.no_cache && has_validator => 0,
        None => return None,
    };
    let age = one("age").and_then(|a| a.trim().parse::<u64>().ok());
    Some(Fresh {
        initial_age: control::initial_age(age, date, ctx.request_time, now),
        lifetime,
        swr: d.stale_while_revalidate.unwrap_or(0),
        sie: d.stale_if_error.unwrap_or(0),
        no_cache: d.no_cache,
        must_revalidate: d.must_revalidate || d.proxy_revalidate,
    })
}

/// Whether (and how) a response may be stored: `(vary names, entry without body)`.
fn cacheable(
    ctx: &StoreCtx,
    status: u16,
    headers: &[(String, String)],
    now: u64,
    limits: Limits,
) -> Option<(Option<Vec<String>>, Stored)> {
    let all = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let d = control::parse(all("cache-control"));
    // Final statuses the cache understands; 206 (ranges) and 304 are not stored.
    if !(200..600).contains(&status) || status == 206 || status == 304 {
        return None;
    }
    if d.no_store || d.private || all("set-cookie").next().is_some() {
        return None;
    }
    if all("content-length")
        .next()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > u64::from(limits.max_object))
    {
        return None;
    }
    let vary = key::vary_names(all("vary"))?;
    let fresh = freshness(ctx, status, headers, now)?;
    if fresh.lifetime == 0 && !fresh.no_cache {
        let validator = all("etag").next().is_some() || all("last-modified").next().is_some();
        if !validator {
            return None;
        }
    }
    let stored = Stored {
        response_time: now,
        initial_age: fresh.initial_age,
        lifetime: fresh.lifetime,
        swr: fresh.swr,
        sie: fresh.sie,
        no_cache: fresh.no_cache,
        must_revalidate: fresh.must_revalidate,
        status,
        operation: ctx.operation.clone(),
        headers: headers
            .iter()
            .filter(|(n, _)| storable_header(n, ""))
            .cloned()
            .collect(),
        body: Vec::new(),
    };
    Some(((!vary.is_empty()).then_some(vary), stored))
}

/// The path of `target` (a `Location` value) when it names the same origin.
fn same_origin_path(target: &str, scheme: &str, authority: &str) -> Option<String> {
    if target.starts_with('/') && !target.starts_with("//") {
        return Some(target.to_owned());
    }
    let rest = target.strip_prefix(scheme)?.strip_prefix("://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    (key::normalize_host(host, scheme) == key::normalize_host(authority, scheme))
        .then(|| path.to_owned())
}

#[cfg(test)]
mod tests;
