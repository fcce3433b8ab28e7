//! Providers compiled from the configuration, and token verification against them.
//!
//! [`ProviderSet::verify`] routes a token to its provider by `iss` with one hash lookup on
//! the decoded (unverified) payload, so 50 providers cost what one does, and no signature
//! is computed for a token whose issuer is unknown. Then, for that provider only: the
//! algorithm allow-list, the registered claims (cheap, before any signature work), key
//! selection by `kid`, and the signature.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::claims::{self, ClaimPolicy, ClaimRule};
use super::jwks::{Jwk, Jwks, JwksError, JwksLimits, SkipReason};
use super::token::{self, TokenLimits, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_TOKEN_BYTES};
use super::verify::{verify_with_fallback, RustCryptoVerifier, SignatureVerifier};
use super::{b64, AlgSet, Algorithm, JwtError, Reason};
use crate::compiled::{escape_pointer, ConfigError};
use crate::config::Provider;

/// Most keys whose signature is tried for one token (several keys can fit when the token
/// has no `kid`, or when keys lack one). Bounds the CPU a single token can cost.
pub const MAX_KEYS_TRIED: usize = 4;
/// Largest `maxTokenBytes` a provider may configure.
pub const MAX_TOKEN_BYTES_LIMIT: u32 = 64 * 1024;
/// Largest `leewaySeconds` a provider may configure.
pub const MAX_LEEWAY_SECONDS: u64 = 86_400;
/// Longest forwarded claim header value; longer values are not forwarded.
pub const MAX_FORWARDED_VALUE_BYTES: usize = 4096;
/// Default interval between JWKS fetches, seconds.
pub const DEFAULT_JWKS_REFRESH_SECONDS: u64 = 600;
/// Default longest age of a verified-token cache entry, seconds.
pub const DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS: u64 = 300;
/// Most token sources per provider, and most extra JWKS request headers.
pub const MAX_TOKEN_SOURCES: usize = 8;
pub const MAX_JWKS_HEADERS: usize = 16;

/// Where a provider's token is looked for (compiled `tokenSources` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A request header (lower-case name); with a prefix (`"Bearer "`, compared
    /// case-insensitively) the token is what follows it.
    Header {
        name: String,
        prefix: Option<String>,
    },
    /// A cookie, by exact name.
    Cookie(String),
    /// A query parameter, by exact name.
    Query(String),
}

impl TokenSource {
    /// The default source: `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer() -> TokenSource {
        TokenSource::Header {
            name: "authorization".to_owned(),
            prefix: Some("Bearer ".to_owned()),
        }
    }
}

/// `jwksUri` split for an HTTP callout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksEndpoint {
    /// Upstream (`jwksCluster`): an Envoy cluster name or `host:port`.
    pub upstream: String,
    /// The full URI as configured (`jwksUri`, or the discovery document's URI): also
    /// the identity of the fetched keys in shared data.
    pub uri: String,
    /// `:authority` of the request (host and port of the URI).
    pub authority: String,
    /// `:path` of the request (path and query of the URI).
    pub path: String,
    /// Extra request headers (`jwksHeaders`).
    pub headers: Vec<(String, String)>,
    /// Seconds between fetches.
    pub refresh_seconds: u64,
    /// `uri`, `authority` and `path` name the OIDC discovery document; the JWKS location
    /// is its `jwks_uri`.
    pub discovery: bool,
}

/// A successfully verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Name of the provider that issued it.
    pub provider: String,
    /// The payload.
    pub claims: Map<String, Value>,
    /// `exp`, floored to seconds (absent only when the provider does not require it).
    /// A verified-token cache must not keep the entry past this.
    pub exp: Option<u64>,
    pub alg: Algorithm,
    pub kid: Option<String>,
}

impl Verified {
    /// Scopes from `scope` and `scp` ([`claims::scopes`]).
    #[must_use]
    pub fn scopes(&self) -> Vec<&str> {
        claims::scopes(&self.claims)
    }

    /// The `sub` claim when it is a string.
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }
}

/// One compiled provider.
#[derive(Debug)]
pub struct JwtProvider {
    name: String,
    issuer: String,
    algorithms: AlgSet,
    claim_policy: ClaimPolicy,
    max_token_bytes: usize,
    jwks_limits: JwksLimits,
    static_keys: Jwks,
    remote_keys: Jwks,
    jwks_uri: Option<String>,
    jwks_cluster: Option<String>,
    required_claims: Vec<ClaimRule>,
    forward_claims: Vec<(String, String)>,
    forward_payload_header: Option<String>,
    token_sources: Vec<TokenSource>,
    forward_token: bool,
    jwks_endpoint: Option<JwksEndpoint>,
    token_cache_max_age: u64,
}

impl JwtProvider {
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    #[must_use]
    pub fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    #[must_use]
    pub fn claim_policy(&self) -> &ClaimPolicy {
        &self.claim_policy
    }

    /// `(jwksUri, jwksCluster)` when the keys are to be fetched.
    #[must_use]
    pub fn jwks_source(&self) -> Option<(&str, &str)> {
        Some((self.jwks_uri.as_deref()?, self.jwks_cluster.as_deref()?))
    }

    /// Where the JWKS is fetched from, when `jwksUri` is set.
    #[must_use]
    pub fn jwks_endpoint(&self) -> Option<&JwksEndpoint> {
        self.jwks_endpoint.as_ref()
    }

    /// Where tokens of this provider are looked for, in order.
    #[must_use]
    pub fn token_sources(&self) -> &[TokenSource] {
        &self.token_sources
    }

    /// False when the token must be removed before the request goes upstream.
    #[must_use]
    pub fn forward_token(&self) -> bool {
        self.forward_token
    }

    /// Longest accepted token, bytes.
    #[must_use]
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// Longest age of a verified-token cache entry, seconds (0: not cached).
    #[must_use]
    pub fn token_cache_max_age(&self) -> u64 {
        self.token_cache_max_age
    }

    /// Parses a fetched JWKS document with this provider's limits (`allowJwksOctKeys`).
    ///
    /// # Errors
    /// See [`Jwks::parse`].
    pub fn parse_jwks(&self, bytes: &[u8]) -> Result<Jwks, JwksError> {
        Jwks::parse(bytes, &self.jwks_limits)
    }

    /// Keys from the configuration (inline JWKS and `hmacSecret`).
    #[must_use]
    pub fn static_keys(&self) -> &Jwks {
        &self.static_keys
    }

    /// Keys last installed with [`ProviderSet::set_remote_jwks`].
    #[must_use]
    pub fn remote_keys(&self) -> &Jwks {
        &self.remote_keys
    }

    /// Names of the required claims the payload does not satisfy (empty: all hold).
    #[must_use]
    pub fn failed_claims(&self, claims: &Map<String, Value>) -> Vec<&str> {
        self.required_claims
            .iter()
            .filter(|r| !r.holds(claims))
            .map(|r| r.claim.as_str())
            .collect()
    }

    /// Headers this provider writes upstream (to strip from incoming requests first).
    pub fn forwarded_header_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.forward_claims
            .iter()
            .map(|(h, _)| h.as_str())
            .chain(self.forward_payload_header.as_deref())
    }

    /// The upstream headers for a token this provider verified: configured claims (absent
    /// or unsafe values skipped, see [`claims::header_value`]) and the payload header.
    #[must_use]
    pub fn forward_headers(&self, verified: &Verified) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (header, claim) in &self.forward_claims {
            if let Some(value) = claims::lookup(&verified.claims, claim)
                .and_then(|v| claims::header_value(v, MAX_FORWARDED_VALUE_BYTES))
            {
                out.push((header.clone(), value));
            }
        }
        if let Some(header) = &self.forward_payload_header {
            if let Ok(json) = serde_json::to_vec(&verified.claims) {
                out.push((header.clone(), b64::encode(&json)));
            }
        }
        out
    }

    /// Keys to try for a token with `alg` and `kid`, at most [`MAX_KEYS_TRIED`].
    ///
    /// With a `kid`: keys with that `kid`, then keys without any `kid` (as Envoy does).
    /// Without: every key. Only keys usable with `alg` are kept.
    fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&str>,
        fetched: Option<&'a Jwks>,
    ) -> Result<Vec<&'a Jwk>, Reason> {
        let mut sets: Vec<&Jwks> = vec![&self.static_keys, &self.remote_keys];
        sets.extend(fetched);
        let mut out: Vec<&Jwk> = Vec::new();
        let mut kid_matched = false;
        match kid {
            Some(kid) => {
                for set in &sets {
                    for k in set.with_kid(kid) {
                        kid_matched = true;
                        consider(k, alg, &mut out);
                    }
                }
                for set in &sets {
                    for k in set.without_kid() {
                        consider(k, alg, &mut out);
                    }
                }
            }
            None => {
                for set in &sets {
                    for k in set.keys() {
                        consider(k, alg, &mut out);
                    }
                }
            }
        }
        if out.is_empty() {
            return Err(if kid_matched {
                Reason::KeyAlgMismatch
            } else if kid.is_some() {
                Reason::UnknownKid
            } else {
                Reason::NoMatchingKey
            });
        }
        Ok(out)
    }

    fn compile(index: usize, p: &Provider) -> Result<JwtProvider, ConfigError> {
        let at = |field: &str| {
            if field.is_empty() {
                format!("/providers/{index}")
            } else {
                format!("/providers/{index}/{field}")
            }
        };
        if p.name.is_empty() {
            return Err(ConfigError::at(
                at("name"),
                "provider name must not be empty",
            ));
        }
        if p.issuer.is_empty() {
            return Err(ConfigError::at(at("issuer"), "issuer must not be empty"));
        }
        let algorithms = match &p.algorithms {
            None => AlgSet::of(&Algorithm::ASYMMETRIC),
            Some(list) if list.is_empty() => {
                return Err(ConfigError::at(
                    at("algorithms"),
                    "allow at least one algorithm",
                ))
            }
            Some(list) => AlgSet::of(list),
        };
        let leeway = p.leeway_seconds.unwrap_or(claims::DEFAULT_LEEWAY_SECONDS);
        if leeway > MAX_LEEWAY_SECONDS {
            return Err(ConfigError::at(
                at("leewaySeconds"),
                format!("at most {MAX_LEEWAY_SECONDS} seconds"),
            ));
        }
        let max_token_bytes = match p.max_token_bytes {
            None => DEFAULT_MAX_TOKEN_BYTES,
            Some(n) if (1..=MAX_TOKEN_BYTES_LIMIT).contains(&n) => n as usize,
            Some(_) => {
                return Err(ConfigError::at(
                    at("maxTokenBytes"),
                    format!("must be between 1 and {MAX_TOKEN_BYTES_LIMIT}"),
                ))
            }
        };
        let jwks_limits = JwksLimits {
            allow_oct: p.allow_jwks_oct_keys,
            ..JwksLimits::default()
        };

        let mut keys: Vec<Jwk> = Vec::new();
        if let Some(secret) = &p.hmac_secret {
            let bytes = b64::decode_config(&secret.0)
                .ok_or_else(|| ConfigError::at(at("hmacSecret"), "not valid base64"))?;
            let key = Jwk::from_secret(bytes, None).ok_or_else(|| {
                ConfigError::at(
                    at("hmacSecret"),
                    "secret must be 32 to 1024 bytes once decoded",
                )
            })?;
            if !algorithms.any_hmac() {
                return Err(ConfigError::at(
                    at("algorithms"),
                    "hmacSecret is set but no HS256/HS384/HS512 algorithm is allowed",
                ));
            }
            keys.push(key);
        } else if algorithms.any_hmac() && !p.allow_jwks_oct_keys {
            return Err(ConfigError::at(
                at("algorithms"),
                "HS256/HS384/HS512 need hmacSecret (or allowJwksOctKeys)",
            ));
        }

        if let Some(doc) = &p.jwks {
            let parsed = match doc {
                Value::Object(obj) => Jwks::from_object(obj, &jwks_limits),
                Value::String(text) => Jwks::parse(text.as_bytes(), &jwks_limits),
                _ => {
                    return Err(ConfigError::at(
                        at("jwks"),
                        "a JWKS object or a string holding one",
                    ))
                }
            }
            .map_err(|e| ConfigError::at(at("jwks"), e.to_string()))?;
            // Keys for encryption or of kinds this build does not verify are ignored (an
            // IdP's JWKS pasted as is may hold them); a broken or too weak key is a mistake.
            if let Some((i, why)) = parsed.skipped.iter().find(|(_, why)| {
                matches!(
                    why,
                    SkipReason::Invalid | SkipReason::BadSize | SkipReason::OctNotAllowed
                )
            }) {
                return Err(ConfigError::at(
                    format!("{}/keys/{i}", at("jwks")),
                    format!("key not usable: {why:?}"),
                ));
            }
            if parsed.is_empty() {
                return Err(ConfigError::at(at("jwks"), "no usable key"));
            }
            keys.extend(parsed.keys_owned());
        }

        match (&p.jwks_uri, &p.jwks_cluster) {
            (Some(uri), Some(cluster)) => {
                if uri.is_empty() || cluster.is_empty() {
                    return Err(ConfigError::at(at("jwksUri"), "must not be empty"));
                }
            }
            (Some(_), None) => {
                return Err(ConfigError::at(at("jwksCluster"), "required with jwksUri"))
            }
            (None, Some(_)) if p.oidc_discovery == Some(true) => {}
            (None, Some(_)) => {
                return Err(ConfigError::at(
                    at("jwksUri"),
                    "required with jwksCluster (or set oidcDiscovery)",
                ))
            }
            (None, None) if p.oidc_discovery == Some(true) => {
                return Err(ConfigError::at(
                    at("jwksCluster"),
                    "required with oidcDiscovery",
                ))
            }
            (None, None) => {
                if keys.is_empty() {
                    return Err(ConfigError::at(
                        at(""),
                        "no keys: set jwks, jwksUri (with jwksCluster) or hmacSecret",
                    ));
                }
            }
        }

        let mut required_claims = Vec::new();
        for (claim, want) in p.required_claims.iter().flatten() {
            let allowed = match want {
                Value::Array(items) if items.is_empty() => {
                    return Err(ConfigError::at(
                        format!("{}/{}", at("requiredClaims"), escape_pointer(claim)),
                        "list at least one accepted value",
                    ))
                }
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            if claim.is_empty() {
                return Err(ConfigError::at(at("requiredClaims"), "empty claim name"));
            }
            required_claims.push(ClaimRule {
                claim: claim.clone(),
                allowed,
            });
        }

        let mut forward_claims = Vec::new();
        for (header, claim) in p.forward_claims.iter().flatten() {
            let pointer = format!("{}/{}", at("forwardClaims"), escape_pointer(header));
            if !is_header_name(header) {
                return Err(ConfigError::at(
                    pointer,
                    "not a valid lower-case header name",
                ));
            }
            if claim.is_empty() {
                return Err(ConfigError::at(pointer, "empty claim name"));
            }
            forward_claims.push((header.clone(), claim.clone()));
        }
        if let Some(h) = &p.forward_payload_header {
            if !is_header_name(h) {
                return Err(ConfigError::at(
                    at("forwardPayloadHeader"),
                    "not a valid lower-case header name",
                ));
            }
        }

        let token_sources = compile_sources(p, &at)?;
        if p.oidc_discovery == Some(true) && p.jwks_uri.is_some() {
            return Err(ConfigError::at(
                at("oidcDiscovery"),
                "set either jwksUri or oidcDiscovery",
            ));
        }
        let discovery_uri = match p.oidc_discovery {
            Some(true) => Some(format!(
                "{}/.well-known/openid-configuration",
                p.issuer.trim_end_matches('/')
            )),
            _ => None,
        };
        let jwks_endpoint = match (
            p.jwks_uri.as_ref().or(discovery_uri.as_ref()),
            &p.jwks_cluster,
        ) {
            (Some(uri), Some(cluster)) => {
                let (authority, path) = split_uri(uri).ok_or_else(|| {
                    if discovery_uri.is_some() {
                        ConfigError::at(
                            at("issuer"),
                            "oidcDiscovery needs an http(s)://host/path issuer",
                        )
                    } else {
                        ConfigError::at(at("jwksUri"), "expected http(s)://host/path")
                    }
                })?;
                let refresh_seconds = p
                    .jwks_refresh_seconds
                    .unwrap_or(DEFAULT_JWKS_REFRESH_SECONDS);
                if !(30..=86_400).contains(&refresh_seconds) {
                    return Err(ConfigError::at(
                        at("jwksRefreshSeconds"),
                        "must be between 30 and 86400",
                    ));
                }
                let mut headers = Vec::new();
                for (name, value) in p.jwks_headers.iter().flatten() {
                    let pointer = format!("{}/{}", at("jwksHeaders"), escape_pointer(name));
                    if !is_header_name(name) || name == "host" || name == "content-length" {
                        return Err(ConfigError::at(
                            pointer,
                            "not a valid lower-case header name (host and content-length are set by the proxy)",
                        ));
                    }
                    if value.bytes().any(|b| b.is_ascii_control()) || value.len() > 4096 {
                        return Err(ConfigError::at(
                            pointer,
                            "value must be printable and at most 4096 bytes",
                        ));
                    }
                    headers.push((name.clone(), value.clone()));
                }
                if headers.len() > MAX_JWKS_HEADERS {
                    return Err(ConfigError::at(
                        at("jwksHeaders"),
                        format!("at most {MAX_JWKS_HEADERS} headers"),
                    ));
                }
                Some(JwksEndpoint {
                    discovery: discovery_uri.is_some(),
                    upstream: cluster.clone(),
                    uri: uri.clone(),
                    authority,
                    path,
                    headers,
                    refresh_seconds,
                })
            }
            _ => {
                if p.jwks_refresh_seconds.is_some() || p.jwks_headers.is_some() {
                    return Err(ConfigError::at(
                        at("jwksUri"),
                        "jwksRefreshSeconds and jwksHeaders need jwksUri",
                    ));
                }
                None
            }
        };
        let token_cache_max_age = p
            .token_cache_max_age_seconds
            .unwrap_or(DEFAULT_TOKEN_CACHE_MAX_AGE_SECONDS);
        if token_cache_max_age > 86_400 {
            return Err(ConfigError::at(
                at("tokenCacheMaxAgeSeconds"),
                "at most 86400",
            ));
        }

        Ok(JwtProvider {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            algorithms,
            claim_policy: ClaimPolicy {
                leeway,
                audiences: p.audiences.clone(),
                require_exp: p.require_expiration.unwrap_or(true),
                max_lifetime: p.max_lifetime_seconds,
            },
            max_token_bytes,
            jwks_limits,
            static_keys: Jwks::from_keys(keys),
            remote_keys: Jwks::default(),
            jwks_uri: p.jwks_uri.clone(),
            jwks_cluster: p.jwks_cluster.clone(),
            required_claims,
            forward_claims,
            forward_payload_header: p.forward_payload_header.clone(),
            token_sources,
            forward_token: p.forward_token.unwrap_or(true),
            jwks_endpoint,
            token_cache_max_age,
        })
    }
}

fn compile_sources(
    p: &Provider,
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<TokenSource>, ConfigError> {
    let Some(list) = &p.token_sources else {
        return Ok(vec![TokenSource::bearer()]);
    };
    if list.is_empty() || list.len() > MAX_TOKEN_SOURCES {
        return Err(ConfigError::at(
            at("tokenSources"),
            format!("list 1 to {MAX_TOKEN_SOURCES} sources"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let pointer = |field: &str| format!("{}/{i}/{field}", at("tokenSources"));
        let source = match (&s.header, &s.cookie, &s.query) {
            (Some(name), None, None) => {
                if !is_header_name(name) {
                    return Err(ConfigError::at(
                        pointer("header"),
                        "not a valid lower-case header name",
                    ));
                }
                if let Some(prefix) = &s.prefix {
                    if prefix.is_empty()
                        || prefix.len() > 64
                        || !prefix.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
                    {
                        return Err(ConfigError::at(
                            pointer("prefix"),
                            "1 to 64 printable ASCII characters",
                        ));
                    }
                }
                TokenSource::Header {
                    name: name.clone(),
                    prefix: s.prefix.clone(),
                }
            }
            (None, Some(name), None) if s.prefix.is_none() => {
                if !is_token(name) {
                    return Err(ConfigError::at(
                        pointer("cookie"),
                        "not a valid cookie name",
                    ));
                }
                TokenSource::Cookie(name.clone())
            }
            (None, None, Some(name)) if s.prefix.is_none() => {
                if name.is_empty()
                    || name.len() > 256
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
                {
                    return Err(ConfigError::at(
                        pointer("query"),
                        "1 to 256 unreserved characters (letters, digits, - . _ ~)",
                    ));
                }
                TokenSource::Query(name.clone())
            }
            _ => {
                return Err(ConfigError::at(
                    format!("{}/{i}", at("tokenSources")),
                    "exactly one of header, cookie or query (prefix only with header)",
                ))
            }
        };
        out.push(source);
    }
    Ok(out)
}

/// RFC 9110 token (cookie names), 1 to 256 characters.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Splits `http(s)://authority/path?query` into authority and path (`/` when empty).
#[must_use]
pub fn split_uri(uri: &str) -> Option<(String, String)> {
    if uri.len() > 2048 || uri.bytes().any(|b| !b.is_ascii_graphic()) || uri.contains('#') {
        return None;
    }
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Some((authority.to_owned(), path))
}

fn consider<'k>(key: &'k Jwk, alg: Algorithm, out: &mut Vec<&'k Jwk>) {
    if key.usable_with(alg) && out.len() < MAX_KEYS_TRIED {
        out.push(key);
    }
}

/// Lower-case RFC 9110 token characters (HTTP/2 forbids upper case in field names).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// Every configured provider, indexed by issuer and by name.
#[derive(Debug, Default)]
pub struct ProviderSet {
    providers: Vec<JwtProvider>,
    by_issuer: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    /// The largest `maxTokenBytes` of all providers: the bound applied before the issuer
    /// (and so the provider) is known.
    max_token_bytes: usize,
    /// Digest of the providers' configuration: verified-token cache entries written under
    /// another configuration are not trusted.
    fingerprint: [u8; 8],
}

impl ProviderSet {
    /// Compiles and checks the configured providers. Errors carry a JSON pointer
    /// (`/providers/2/jwks/keys/0`).
    ///
    /// # Errors
    /// The first invalid field.
    pub fn from_config(providers: &[Provider]) -> Result<ProviderSet, ConfigError> {
        let mut set = ProviderSet::default();
        for (i, p) in providers.iter().enumerate() {
            let compiled = JwtProvider::compile(i, p)?;
            if set.by_name.insert(p.name.clone(), i).is_some() {
                return Err(ConfigError::at(
                    format!("/providers/{i}/name"),
                    format!("duplicate provider name {:?}", p.name),
                ));
            }
            if set.by_issuer.insert(p.issuer.clone(), i).is_some() {
                return Err(ConfigError::at(
                    format!("/providers/{i}/issuer"),
                    format!("another provider already has issuer {:?}", p.issuer),
                ));
            }
            set.max_token_bytes = set.max_token_bytes.max(compiled.max_token_bytes);
            set.providers.push(compiled);
        }
        if !providers.is_empty() {
            use sha2::Digest;
            let bytes = serde_json::to_vec(providers).unwrap_or_default();
            let digest = sha2::Sha256::digest(&bytes);
            for (dst, src) in set.fingerprint.iter_mut().zip(digest.iter()) {
                *dst = *src;
            }
        }
        Ok(set)
    }

    /// Digest of the providers' configuration (changes when any provider field does).
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 8] {
        self.fingerprint
    }

    /// Position of a provider in configuration order.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The largest `maxTokenBytes` of all providers.
    #[must_use]
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The providers, in configuration order.
    #[must_use]
    pub fn providers(&self) -> &[JwtProvider] {
        &self.providers
    }

    /// A provider by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&JwtProvider> {
        self.providers.get(*self.by_name.get(name)?)
    }

    /// A provider by issuer.
    #[must_use]
    pub fn by_issuer(&self, issuer: &str) -> Option<&JwtProvider> {
        self.providers.get(*self.by_issuer.get(issuer)?)
    }

    /// Installs freshly fetched keys for a provider (they replace the previous fetched
    /// set; inline keys stay). `false` when no provider has that name.
    pub fn set_remote_jwks(&mut self, provider: &str, jwks: Jwks) -> bool {
        let Some(&i) = self.by_name.get(provider) else {
            return false;
        };
        match self.providers.get_mut(i) {
            Some(p) => {
                p.remote_keys = jwks;
                true
            }
            None => false,
        }
    }

    /// Every header some provider forwards upstream (strip these from requests first).
    pub fn forwarded_header_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.providers
            .iter()
            .flat_map(JwtProvider::forwarded_header_names)
    }

    /// Verifies `token` at time `now` (seconds since the epoch) with pure-Rust crypto.
    ///
    /// # Errors
    /// Why the token is refused.
    pub fn verify(&self, token: &str, now: u64) -> Result<Verified, JwtError> {
        self.verify_with(token, now, &RustCryptoVerifier)
    }

    /// Verifies `token` at time `now`, asking `verifier` first for each signature and
    /// falling back to pure Rust when it answers `None`.
    ///
    /// Steps: parse (limits, strict encoding, header checks) → provider by `iss` → `alg` in
    /// the provider's allow-list → provider's token size limit → registered claims → keys by
    /// `kid` → signature.
    ///
    /// # Errors
    /// Why the token is refused; `provider` is set once the issuer is known.
    pub fn verify_with(
        &self,
        token: &str,
        now: u64,
        verifier: &dyn SignatureVerifier,
    ) -> Result<Verified, JwtError> {
        self.verify_with_fetched(token, now, verifier, &[])
    }

    /// [`ProviderSet::verify_with`], with keys fetched at run time kept outside the set:
    /// `fetched[i]` holds extra keys of provider `i` (configuration order; missing entries
    /// are empty). This is how each VM's JWKS sync supplies the keys it loaded from shared
    /// data without mutating the (shared, immutable) compiled configuration.
    ///
    /// # Errors
    /// Why the token is refused; `provider` is set once the issuer is known.
    pub fn verify_with_fetched(
        &self,
        token: &str,
        now: u64,
        verifier: &dyn SignatureVerifier,
        fetched: &[Jwks],
    ) -> Result<Verified, JwtError> {
        let limits = TokenLimits {
            max_token_bytes: if self.providers.is_empty() {
                DEFAULT_MAX_TOKEN_BYTES
            } else {
                self.max_token_bytes
            },
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        };
        let parsed = token::parse(token, &limits).map_err(JwtError::new)?;
        let issuer = token::issuer(&parsed.claims)
            .map_err(JwtError::new)?
            .ok_or_else(|| JwtError::new(Reason::UnknownIssuer))?;
        let index = *self
            .by_issuer
            .get(issuer)
            .ok_or_else(|| JwtError::new(Reason::UnknownIssuer))?;
        let provider = self
            .providers
            .get(index)
            .ok_or_else(|| JwtError::new(Reason::UnknownIssuer))?;
        let fail = |reason| JwtError::for_provider(reason, &provider.name);

        let alg = parsed.header.alg;
        if !provider.algorithms.contains(alg) {
            return Err(fail(Reason::AlgNotAllowed));
        }
        if token.len() > provider.max_token_bytes {
            return Err(fail(Reason::TooLarge));
        }
        let exp = provider
            .claim_policy
            .check(&parsed.claims, now)
            .map_err(fail)?;
        let kid = parsed.header.kid;
        let candidates = provider
            .candidates(alg, kid.as_deref(), fetched.get(index))
            .map_err(fail)?;
        let input = parsed.signing_input.as_bytes();
        let valid = candidates
            .into_iter()
            .any(|key| verify_with_fallback(verifier, alg, key, input, &parsed.signature));
        if !valid {
            return Err(fail(Reason::BadSignature));
        }
        Ok(Verified {
            provider: provider.name.clone(),
            claims: parsed.claims,
            exp,
            alg,
            kid,
        })
    }
}
