//! The auth phase of a request, host-independent: find the tokens, verify them (shared
//! verified-token cache first, then the host's native signature check, then pure Rust),
//! authorize against the operation's policy, and say what to forward, strip, or answer.
//!
//! The glue calls [`authenticate`] once per request, after routing, with the operation's
//! merged [`AuthPolicy`]; the root context drives [`AuthState::jwks`]
//! ([`crate::jwks_sync::JwksSync`]) from its tick and HTTP-call callbacks.
//!
//! Semantics (`docs/sso.md`, "Token sources" to "Verified-token cache"):
//! - policy absent: no authentication; `anyOf: []` (or an empty alternative): explicitly
//!   public. Neither reads or verifies tokens.
//! - every header any provider forwards is in [`AuthDecision::strip`], whatever the outcome,
//!   so a client can never choose a value a later hop trusts.
//! - only the sources of providers the policy names are read; per provider the first source
//!   present wins, in configured order; a source shared by several providers is read and
//!   verified once.
//! - a source header sent more than once, or a query parameter given more than once, is a
//!   malformed token (no guessing which copy the upstream would see); for a cookie the first
//!   occurrence wins (RFC 6265 orders more specific paths first).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::config::AuthPolicy;
use crate::host::{Host, LogLevel};
use crate::jwks_sync::JwksSync;
use crate::jwt::authz::{self, Decision};
use crate::jwt::jwks::ecdsa_raw_to_der;
use crate::jwt::providers::TokenSource;
use crate::jwt::{
    json, token_digest, Algorithm, Jwk, JwtError, ProviderSet, Reason, SignatureVerifier, Verified,
};
use crate::metrics::tagged_name;
use crate::problem::{LocalReply, Problem};

/// Default number of slots of the shared verified-token cache.
pub const DEFAULT_CACHE_SLOTS: u32 = 1024;
/// Largest number of slots.
pub const MAX_CACHE_SLOTS: u32 = 65_536;
/// Default largest claims JSON cached per token; tokens with bigger payloads are verified
/// every time.
pub const DEFAULT_CACHE_MAX_CLAIMS_BYTES: usize = 2048;
/// Prefix of the verified-token cache keys in shared data (`gatehouse/tok/<slot>`).
pub const CACHE_KEY_PREFIX: &str = "gatehouse/tok/";

const CACHE_MAGIC: &[u8; 2] = b"G1";
/// magic, digest, fingerprint, exp, stored_at, alg, provider, kid length.
const CACHE_HEADER: usize = 2 + 32 + 8 + 8 + 8 + 1 + 2 + 2;

/// Per-VM settings of the auth phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    /// Slots of the direct-mapped verified-token cache (0 disables it). At most
    /// [`MAX_CACHE_SLOTS`]. Shared data holds at most `slots` entries of at most
    /// `cache_max_claims_bytes + ~350` bytes each.
    pub cache_slots: u32,
    /// Tokens whose claims JSON is larger are not cached.
    pub cache_max_claims_bytes: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            cache_slots: DEFAULT_CACHE_SLOTS,
            cache_max_claims_bytes: DEFAULT_CACHE_MAX_CLAIMS_BYTES,
        }
    }
}

/// What one VM keeps for the auth phase: settings, fetched keys (JWKS sync), metric ids.
/// Build it again whenever the configuration changes (provider indices change).
#[derive(Debug)]
pub struct AuthState {
    pub settings: AuthSettings,
    pub jwks: JwksSync,
    strip: Vec<String>,
    counters: HashMap<(usize, &'static str), Option<u32>>,
    cache_counters: HashMap<&'static str, Option<u32>>,
}

impl AuthState {
    /// State for `providers`; loads JWKS other VMs already fetched from shared data, so a
    /// reconfiguration does not start without keys. `seed` must differ between VMs (it
    /// identifies the VM in JWKS fetch leases and seeds backoff jitter).
    #[must_use]
    pub fn new(
        providers: &ProviderSet,
        settings: AuthSettings,
        host: &dyn Host,
        seed: u64,
    ) -> AuthState {
        let mut strip: Vec<String> = Vec::new();
        for name in providers.forwarded_header_names() {
            if !strip.iter().any(|s| s == name) {
                strip.push(name.to_owned());
            }
        }
        AuthState {
            settings: AuthSettings {
                cache_slots: settings.cache_slots.min(MAX_CACHE_SLOTS),
                ..settings
            },
            jwks: JwksSync::new(providers, host, seed),
            strip,
            counters: HashMap::new(),
            cache_counters: HashMap::new(),
        }
    }

    fn count(
        &mut self,
        host: &dyn Host,
        providers: &ProviderSet,
        provider: usize,
        result: &'static str,
    ) {
        let id = *self.counters.entry((provider, result)).or_insert_with(|| {
            let name = providers
                .providers()
                .get(provider)
                .map_or("-", |p| p.name());
            host.define_counter(&tagged_name(
                "gatehouse_auth_total",
                &[("provider", name), ("result", result)],
            ))
        });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
    }

    fn count_cache(&mut self, host: &dyn Host, result: &'static str) {
        let id = *self.cache_counters.entry(result).or_insert_with(|| {
            host.define_counter(&tagged_name(
                "gatehouse_auth_token_cache_total",
                &[("result", result)],
            ))
        });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
    }
}

/// The parts of a request the auth phase reads.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The operation's merged policy; `None`: no authentication required.
    pub policy: Option<&'a AuthPolicy>,
    /// Request headers (names compared case-insensitively; repeated names allowed).
    pub headers: &'a [(String, String)],
    /// Raw `:path`, query included.
    pub path: &'a str,
    /// Current time, milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// `realm` of the `WWW-Authenticate` challenge, if any.
    pub realm: Option<&'a str>,
    pub request_id: &'a str,
    /// Header echoing the request id on local replies.
    pub request_id_header: &'a str,
}

/// What to do with the request. In both cases, remove [`AuthDecision::strip`] headers
/// first (every copy), then set the `forward` ones (replacing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    Allowed {
        /// `<provider>\n<sub>` of the verified token(s) (several joined by `\n`), for
        /// per-principal cache partitions; `None` when no token was verified or one lacks `sub`.
        principal: Option<String>,
        /// Headers to set on the upstream request: forwarded claims and payload, and, when
        /// a token is removed from a cookie or a query parameter, the rewritten `cookie`
        /// header or `:path`.
        forward: Vec<(String, String)>,
        /// Headers to remove: every header any provider forwards, and a token header when
        /// `forwardToken: false` (and `cookie` when removing the token leaves none).
        strip: Vec<String>,
    },
    /// Answer with this reply (401 / 403, problem+json, `WWW-Authenticate`).
    Rejected {
        reply: LocalReply,
        strip: Vec<String>,
    },
}

impl AuthDecision {
    /// Headers to remove from the request.
    #[must_use]
    pub fn strip(&self) -> &[String] {
        match self {
            AuthDecision::Allowed { strip, .. } | AuthDecision::Rejected { strip, .. } => strip,
        }
    }
}

/// [`SignatureVerifier`] asking the host first (Envoy's native `verify_signature`) for the
/// algorithms BoringSSL verifies the JWS way (RS*, ES* with the signature as DER); `None`
/// for the rest, so the core falls back to pure Rust.
#[derive(Clone, Copy)]
pub struct HostVerifier<'h> {
    pub host: &'h dyn Host,
}

impl std::fmt::Debug for HostVerifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostVerifier")
    }
}

impl SignatureVerifier for HostVerifier<'_> {
    fn verify(
        &self,
        alg: Algorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let hash = alg.hash().host_name();
        match alg {
            Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512 => {
                self.host
                    .verify_signature(hash, key.spki_der(), signing_input, signature)
            }
            Algorithm::Es256 | Algorithm::Es384 => {
                let size = if alg == Algorithm::Es256 { 32 } else { 48 };
                // Wrong lengths: let the pure-Rust verifier refuse them.
                let der = ecdsa_raw_to_der(signature, size)?;
                let (r, s) = signature.split_at(size);
                if r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0) {
                    return Some(false);
                }
                self.host
                    .verify_signature(hash, key.spki_der(), signing_input, &der)
            }
            _ => None,
        }
    }
}

/// A token found in the request, and where.
#[derive(Debug)]
struct Found<'r> {
    source: &'r TokenSource,
    /// Provider whose source found it (its `forwardToken` applies).
    provider: usize,
    token: Result<Cow<'r, str>, Reason>,
}

/// Runs the auth phase for one request.
pub fn authenticate(
    providers: &ProviderSet,
    state: &mut AuthState,
    host: &dyn Host,
    request: &AuthRequest<'_>,
) -> AuthDecision {
    let mut strip = state.strip.clone();
    let Some(policy) = request.policy else {
        return AuthDecision::Allowed {
            principal: None,
            forward: Vec::new(),
            strip,
        };
    };
    if policy.any_of.is_empty() || policy.any_of.iter().any(|a| a.all_of.is_empty()) {
        return AuthDecision::Allowed {
            principal: None,
            forward: Vec::new(),
            strip,
        };
    }

    // Providers the policy names, in order of first mention.
    let mut named: Vec<usize> = Vec::new();
    for alternative in &policy.any_of {
        for req in &alternative.all_of {
            if let Some(i) = providers.index_of(&req.provider) {
                if !named.contains(&i) {
                    named.push(i);
                }
            }
        }
    }

    // Tokens: per provider, the first source present; each distinct source once.
    let mut found: Vec<Found<'_>> = Vec::new();
    for &i in &named {
        let Some(provider) = providers.providers().get(i) else {
            continue;
        };
        for source in provider.token_sources() {
            if found.iter().any(|f| f.source == source) {
                break;
            }
            if let Some(token) = extract(source, request, provider.max_token_bytes()) {
                found.push(Found {
                    source,
                    provider: i,
                    token,
                });
                break;
            }
        }
    }

    let now = request.now_ms / 1000;
    let mut verified: Vec<Verified> = Vec::new();
    // Refused tokens, with the provider whose source carried them.
    let mut failures: Vec<(JwtError, usize)> = Vec::new();
    for f in &found {
        let token = match &f.token {
            Ok(token) => token.as_ref(),
            Err(reason) => {
                failures.push((JwtError::new(*reason), f.provider));
                continue;
            }
        };
        match verify_cached(providers, state, host, token, now) {
            Ok(v) => verified.push(v),
            Err(e) => {
                if e.reason == Reason::UnknownKid {
                    if let Some(i) = e.provider.as_deref().and_then(|p| providers.index_of(p)) {
                        state
                            .jwks
                            .request_refresh(providers, i, request.now_ms, host);
                    }
                }
                failures.push((e, f.provider));
            }
        }
    }

    let provider_of = |v: &Verified| providers.index_of(&v.provider).unwrap_or(usize::MAX);
    match authz::authorize(policy, &verified, providers) {
        Decision::Allowed => {
            let mut forward: Vec<(String, String)> = Vec::new();
            for v in &verified {
                let Some(provider) = providers.get(&v.provider) else {
                    continue;
                };
                for (name, value) in provider.forward_headers(v) {
                    if !forward.iter().any(|(n, _)| *n == name) {
                        forward.push((name, value));
                    }
                }
            }
            for f in &found {
                let keep = providers
                    .providers()
                    .get(f.provider)
                    .is_none_or(|p| p.forward_token());
                if !keep {
                    remove_token(f.source, request, &mut forward, &mut strip);
                }
            }
            for v in &verified {
                state.count(host, providers, provider_of(v), "allowed");
            }
            let principal = principal_of(&verified);
            AuthDecision::Allowed {
                principal,
                forward,
                strip,
            }
        }
        denied @ Decision::InsufficientScope { .. } => {
            let provider = verified.first().map_or(usize::MAX, provider_of);
            state.count(host, providers, provider, "forbidden");
            let challenge = denied.www_authenticate(request.realm).unwrap_or_default();
            let detail = match &denied {
                Decision::InsufficientScope { scopes, .. } if !scopes.is_empty() => {
                    format!(
                        "the token lacks a required scope or claim (requires: {})",
                        scopes.join(" ")
                    )
                }
                _ => "the token lacks a required scope or claim".to_owned(),
            };
            let reply = reply(request, 403, "forbidden", "Forbidden", &detail, challenge);
            AuthDecision::Rejected { reply, strip }
        }
        Decision::Unauthenticated => {
            let (error, provider) = match (failures.first(), verified.first()) {
                (Some((e, source)), _) => (
                    e.clone(),
                    e.provider
                        .as_deref()
                        .and_then(|p| providers.index_of(p))
                        .unwrap_or(*source),
                ),
                // A valid token of a provider this operation does not accept counts as an
                // issuer that is not configured (for this operation).
                (None, Some(v)) => (
                    JwtError::for_provider(Reason::UnknownIssuer, &v.provider),
                    provider_of(v),
                ),
                (None, None) => (
                    JwtError::new(Reason::Missing),
                    named.first().copied().unwrap_or(usize::MAX),
                ),
            };
            state.count(host, providers, provider, error.reason.label());
            host.log(
                LogLevel::Debug,
                &format!("request_id={} auth refused: {}", request.request_id, error),
            );
            let detail = match error.reason {
                Reason::Missing => "a bearer token is required".to_owned(),
                r => r.description().to_owned(),
            };
            let challenge = error.www_authenticate(request.realm);
            let reply = reply(
                request,
                401,
                "unauthorized",
                "Unauthorized",
                &detail,
                challenge,
            );
            AuthDecision::Rejected { reply, strip }
        }
    }
}

/// Who the verified tokens name; `None` unless every token has a `sub`.
fn principal_of(verified: &[Verified]) -> Option<String> {
    let mut parts: Vec<String> = Vec::with_capacity(verified.len());
    for v in verified {
        parts.push(format!("{}\n{}", v.provider, v.subject()?));
    }
    parts.sort();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn reply(
    request: &AuthRequest<'_>,
    status: u16,
    slug: &str,
    title: &'static str,
    detail: &str,
    challenge: String,
) -> LocalReply {
    Problem::new(status, slug, title, detail, request.request_id)
        .with_instance(request.path)
        .into_reply(
            request.request_id_header,
            vec![("www-authenticate".to_owned(), challenge)],
        )
}

/// Verifies with the shared cache in front: a hit skips every signature computation.
fn verify_cached(
    providers: &ProviderSet,
    state: &mut AuthState,
    host: &dyn Host,
    token: &str,
    now: u64,
) -> Result<Verified, JwtError> {
    if token.len() > providers.max_token_bytes() {
        return Err(JwtError::new(Reason::TooLarge));
    }
    let slots = state.settings.cache_slots;
    if slots == 0 {
        return providers.verify_with_fetched(
            token,
            now,
            &HostVerifier { host },
            state.jwks.keys(),
        );
    }
    let digest = token_digest(token);
    let key = cache_key(&digest, slots);
    if let (Some(bytes), _) = host.get_shared(&key) {
        if let Some(v) = cache_decode(providers, &bytes, &digest, now) {
            state.count_cache(host, "hit");
            return Ok(v);
        }
    }
    state.count_cache(host, "miss");
    let verified =
        providers.verify_with_fetched(token, now, &HostVerifier { host }, state.jwks.keys())?;
    if let Some(bytes) = cache_encode(
        providers,
        &verified,
        &digest,
        now,
        state.settings.cache_max_claims_bytes,
    ) {
        // Direct-mapped: the newest token takes the slot. A failed write only costs a
        // later re-verification.
        let _ = host.set_shared(&key, &bytes, None);
    } else {
        state.count_cache(host, "skip");
    }
    Ok(verified)
}

/// `gatehouse/tok/<slot>`, slot = first 8 digest bytes mod `slots`.
#[must_use]
pub fn cache_key(digest: &[u8; 32], slots: u32) -> String {
    let mut first = [0u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    let slot = u64::from_be_bytes(first) % u64::from(slots.max(1));
    format!("{CACHE_KEY_PREFIX}{slot}")
}

fn cache_encode(
    providers: &ProviderSet,
    v: &Verified,
    digest: &[u8; 32],
    now: u64,
    max_claims: usize,
) -> Option<Vec<u8>> {
    let index = providers.index_of(&v.provider)?;
    let provider = providers.providers().get(index)?;
    if provider.token_cache_max_age() == 0 {
        return None;
    }
    let exp = v.exp?;
    if now >= exp {
        return None;
    }
    let claims = serde_json::to_vec(&v.claims).ok()?;
    if claims.len() > max_claims {
        return None;
    }
    let kid = v.kid.as_deref().unwrap_or_default().as_bytes();
    let alg = Algorithm::ALL.iter().position(|a| *a == v.alg)?;
    let mut out = Vec::with_capacity(CACHE_HEADER + kid.len() + claims.len());
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(digest);
    out.extend_from_slice(&providers.fingerprint());
    out.extend_from_slice(&exp.to_be_bytes());
    out.extend_from_slice(&now.to_be_bytes());
    out.push(u8::try_from(alg).ok()?);
    out.extend_from_slice(&u16::try_from(index).ok()?.to_be_bytes());
    out.extend_from_slice(&u16::try_from(kid.len()).ok()?.to_be_bytes());
    out.extend_from_slice(kid);
    out.extend_from_slice(&claims);
    Some(out)
}

fn cache_decode(
    providers: &ProviderSet,
    bytes: &[u8],
    digest: &[u8; 32],
    now: u64,
) -> Option<Verified> {
    let mut r = Reader(bytes);
    if r.take(2)? != CACHE_MAGIC || r.take(32)? != digest {
        return None;
    }
    if r.take(8)? != providers.fingerprint() {
        return None;
    }
    let exp = r.u64()?;
    let stored_at = r.u64()?;
    let alg = *Algorithm::ALL.get(usize::from(*r.take(1)?.first()?))?;
    let index = usize::from(r.u16()?);
    let kid_len = usize::from(r.u16()?);
    let kid = r.take(kid_len)?;
    let provider = providers.providers().get(index)?;
    // Never past `exp` (no leeway here), never older than the provider's max age.
    if now >= exp || now >= stored_at.saturating_add(provider.token_cache_max_age()) {
        return None;
    }
    let claims: Map<String, Value> = json::parse_object(r.0)?;
    let kid = if kid.is_empty() {
        None
    } else {
        Some(std::str::from_utf8(kid).ok()?.to_owned())
    };
    Some(Verified {
        provider: provider.name().to_owned(),
        claims,
        exp: Some(exp),
        alg,
        kid,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
}

/// Every value of header `name` (case-insensitive), in order.
pub(crate) fn header_values<'r>(
    headers: &'r [(String, String)],
    name: &'r str,
) -> impl Iterator<Item = &'r str> + 'r {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The token of one source: `None` when the source is absent from the request.
fn extract<'r>(
    source: &'r TokenSource,
    request: &AuthRequest<'r>,
    max_bytes: usize,
) -> Option<Result<Cow<'r, str>, Reason>> {
    let bounded = |value: &'r str| -> Result<Cow<'r, str>, Reason> {
        if value.len() > max_bytes {
            Err(Reason::TooLarge)
        } else {
            Ok(Cow::Borrowed(value))
        }
    };
    match source {
        TokenSource::Header { name, prefix } => {
            let mut values = header_values(request.headers, name);
            // Surrounding whitespace is not part of a field value (RFC 9110 §5.5); inside,
            // after the prefix, the token is taken as is (a stray space makes it malformed).
            let value = values.next()?.trim_matches([' ', '\t']);
            let value = match prefix {
                None => value,
                Some(prefix) => {
                    let scheme = prefix.trim_end_matches(' ');
                    if !scheme.is_empty() && value.eq_ignore_ascii_case(scheme) {
                        // `Authorization: Bearer` without a token.
                        return Some(Err(Reason::Malformed));
                    }
                    let head = value.get(..prefix.len())?;
                    if !head.eq_ignore_ascii_case(prefix) {
                        // Another scheme (`Basic ...`): not ours.
                        return None;
                    }
                    value.get(prefix.len()..)?
                }
            };
            if values.next().is_some() {
                return Some(Err(Reason::Malformed));
            }
            if value.is_empty() {
                return Some(Err(Reason::Malformed));
            }
            Some(bounded(value))
        }
        TokenSource::Cookie(name) => {
            for header in header_values(request.headers, "cookie") {
                for pair in header.split(';') {
                    let pair = pair.trim_matches([' ', '\t']);
                    if let Some((n, v)) = pair.split_once('=') {
                        if n == name {
                            let v = v.trim_matches('"');
                            return Some(bounded(v));
                        }
                    }
                }
            }
            None
        }
        TokenSource::Query(name) => {
            let query = request.path.split_once('?')?.1;
            let query = query.split('#').next().unwrap_or_default();
            let mut hit: Option<&'r str> = None;
            for pair in query.split('&') {
                let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                if n == name {
                    if hit.is_some() {
                        return Some(Err(Reason::Malformed));
                    }
                    hit = Some(v);
                }
            }
            let raw = hit?;
            // Percent-encoded at most 3 bytes per byte: bound before decoding.
            if raw.len() > max_bytes.saturating_mul(3) {
                return Some(Err(Reason::TooLarge));
            }
            if !raw.contains('%') {
                return Some(bounded(raw));
            }
            match percent_decode(raw) {
                Some(decoded) if decoded.len() > max_bytes => Some(Err(Reason::TooLarge)),
                Some(decoded) => Some(Ok(Cow::Owned(decoded))),
                None => Some(Err(Reason::Malformed)),
            }
        }
    }
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Removes the token's source from the upstream request (`forwardToken: false`).
fn remove_token(
    source: &TokenSource,
    request: &AuthRequest<'_>,
    forward: &mut Vec<(String, String)>,
    strip: &mut Vec<String>,
) {
    match source {
        TokenSource::Header { name, .. } => {
            if !strip.iter().any(|s| s == name) {
                strip.push(name.clone());
            }
        }
        TokenSource::Cookie(name) => {
            // Start from an earlier rewrite (two providers removing two cookies).
            let current: Vec<String> = match forward.iter().position(|(n, _)| n == "cookie") {
                Some(pos) => vec![forward.remove(pos).1],
                None => header_values(request.headers, "cookie")
                    .map(str::to_owned)
                    .collect(),
            };
            let kept: Vec<&str> = current
                .iter()
                .flat_map(|h| h.split(';'))
                .map(|p| p.trim_matches([' ', '\t']))
                .filter(|p| !p.is_empty())
                .filter(|p| p.split_once('=').map_or(*p, |(n, _)| n) != name)
                .collect();
            if kept.is_empty() {
                if !strip.iter().any(|s| s == "cookie") {
                    strip.push("cookie".to_owned());
                }
            } else {
                forward.push(("cookie".to_owned(), kept.join("; ")));
            }
        }
        TokenSource::Query(name) => {
            let current = match forward.iter().position(|(n, _)| n == ":path") {
                Some(pos) => forward.remove(pos).1,
                None => request.path.to_owned(),
            };
            let (before_fragment, fragment) = match current.split_once('#') {
                Some((a, b)) => (a.to_owned(), Some(b.to_owned())),
                None => (current.clone(), None),
            };
            let mut path = match before_fragment.split_once('?') {
                Some((path, query)) => {
                    let kept: Vec<&str> = query
                        .split('&')
                        .filter(|p| p.split_once('=').map_or(*p, |(n, _)| n) != name)
                        .collect();
                    if kept.iter().all(|p| p.is_empty()) {
                        path.to_owned()
                    } else {
                        format!("{path}?{}", kept.join("&"))
                    }
                }
                None => before_fragment,
            };
            if let Some(fragment) = fragment {
                path.push('#');
                path.push_str(&fragment);
            }
            forward.push((":path".to_owned(), path));
        }
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
