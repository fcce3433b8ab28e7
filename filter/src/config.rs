//! Filter configuration, contract version 1 (`docs/filter-config.md`).
//!
//! The controller writes this JSON and the filter reads it in `on_configure`. Both sides
//! compile it with [`crate::compiled::CompiledConfig::from_json`], so a configuration the
//! controller accepts is one the filter accepts. Unknown fields are refused everywhere:
//! a typo in a policy must not silently turn the policy off.

use serde::{Deserialize, Serialize};

/// The only configuration version this build understands.
pub const CONFIG_VERSION: u32 = 1;

/// The whole filter configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilterConfig {
    /// Contract version; must be [`CONFIG_VERSION`].
    pub version: u32,
    /// Process-wide settings.
    #[serde(default)]
    pub settings: Settings,
    /// Identity providers that operations' `auth` requirements refer to by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<Provider>,
    /// The APIs this filter fronts.
    #[serde(default)]
    pub apis: Vec<Api>,
    /// Every compiled schema of every API, one arena; operations refer to roots by index.
    /// Written by the controller's OpenAPI compiler, never by hand (`docs/validation.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schemas: Option<crate::schema::Program>,
}

/// Process-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Header carrying the request id; generated when a request arrives without one.
    #[serde(default = "default_request_id_header")]
    pub request_id_header: String,
    /// Request header set to `<api>/<operationId>` for the upstream and later filters.
    /// Any incoming copy is removed first so clients cannot spoof it.
    #[serde(default = "default_operation_header")]
    pub operation_header: String,
    /// Slots of the shared verified-token cache (`docs/sso.md`, "Verified-token cache"):
    /// default 1024, 0 disables it, values above 65536 are treated as 65536.
    #[serde(
        default = "default_token_cache_slots",
        skip_serializing_if = "is_default_token_cache_slots"
    )]
    pub token_cache_slots: u32,
    /// Response cache and idempotency store sizes, `x-cache` header, purge endpoint
    /// (`docs/caching.md`); absent: defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::cache::CacheSettings>,
    /// Where and how sampled shapes are posted (`docs/learning.md`); absent: no sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingSettings>,
}

fn default_token_cache_slots() -> u32 {
    crate::auth::DEFAULT_CACHE_SLOTS
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_default_token_cache_slots(slots: &u32) -> bool {
    *slots == default_token_cache_slots()
}

fn default_request_id_header() -> String {
    "x-request-id".to_owned()
}

fn default_operation_header() -> String {
    "x-gatehouse-operation".to_owned()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            request_id_header: default_request_id_header(),
            operation_header: default_operation_header(),
            token_cache_slots: default_token_cache_slots(),
            cache: None,
            sampling: None,
        }
    }
}

/// An identity provider: who issues tokens, with which keys, and what is checked and
/// forwarded. Compiled (and validated, with JSON pointers in errors) by
/// [`crate::jwt::ProviderSet::from_config`]; `docs/sso.md` describes every field.
/// A provider needs at least one key source: `jwks`, `jwksUri` or `hmacSecret`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provider {
    /// Name that `auth` requirements use.
    pub name: String,
    /// Expected `iss` claim, compared exactly. Unique across providers: tokens are routed
    /// to their provider by `iss` before any signature work.
    pub issuer: String,
    /// Accepted `aud` values: a token's `aud` (string or array) must contain one of them.
    /// Empty: `aud` is not checked (a wrongly typed `aud` is still refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Inline JWKS (RFC 7517): a JSON object `{"keys": [...]}`, or a string holding one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the provider publishes its JWKS; fetched and refreshed by the filter's glue
    /// through `jwksCluster`. Fetched keys are used alongside inline ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Upstream for the JWKS fetch: an Envoy cluster name, or `host:port` on hosts whose
    /// callouts take an address (nginx). Required with `jwksUri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cluster: Option<String>,
    /// Accepted `alg` values. Default: every asymmetric one (RS256/384/512, PS256/384/512,
    /// ES256/384, EdDSA). HS256/384/512 must be listed explicitly and need `hmacSecret`
    /// (or `allowJwksOctKeys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<crate::jwt::Algorithm>>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway_seconds: Option<u64>,
    /// Longest accepted token lifetime (`exp` minus `iat`, else `nbf`, else now), seconds.
    /// Unset: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime_seconds: Option<u64>,
    /// Refuse tokens without `exp`. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_expiration: Option<bool>,
    /// Shared secret for HS256/384/512, base64 (standard or URL alphabet, padding
    /// optional), at least 32 bytes decoded (48 for HS384, 64 for HS512). Visible to anyone
    /// who can read the filter configuration: prefer asymmetric keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_secret: Option<crate::jwt::SecretString>,
    /// Accept `kty: oct` keys found in the JWKS (inline or fetched). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_jwks_oct_keys: bool,
    /// Longest token accepted, in bytes. Default 8192; at most 65536.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_bytes: Option<u32>,
    /// Claims every token of this provider must carry, checked after verification (a
    /// failure is a 403 `insufficient_scope`, like a missing scope). Key: a claim name, or a
    /// JSON pointer into the payload when it starts with `/` (`/realm_access/roles`).
    /// Value: a JSON value or an array of alternatives; the claim must equal one of them or,
    /// when the claim is an array, contain one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_claims: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// Claims copied into upstream request headers: header name → claim (name or JSON
    /// pointer). Incoming copies of these headers are always removed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_claims: Option<std::collections::BTreeMap<String, String>>,
    /// Header that receives the verified payload as base64url JSON. Incoming copies are
    /// always removed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_payload_header: Option<String>,
    /// Where this provider's tokens are looked for, in order; the first source present in
    /// the request wins. Default: `[{"header": "authorization", "prefix": "Bearer "}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sources: Option<Vec<TokenSource>>,
    /// Keep the token on the request forwarded upstream. Default true; false removes the
    /// header, cookie or query parameter it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_token: Option<bool>,
    /// Interval between JWKS fetches from `jwksUri`, seconds. Default 600, 30 to 86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_refresh_seconds: Option<u64>,
    /// Extra request headers for the JWKS fetch (some identity providers sit behind a WAF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_headers: Option<std::collections::BTreeMap<String, String>>,
    /// Longest time a verified token is served from the shared verified-token cache,
    /// seconds (never past its `exp`). Default 300; 0 disables caching for this provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_cache_max_age_seconds: Option<u64>,
    /// Find `jwks_uri` by OIDC discovery (`<issuer>/.well-known/openid-configuration`,
    /// fetched through `jwksCluster`) instead of setting `jwksUri`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_discovery: Option<bool>,
    /// OIDC client for the browser login (`docs/sso.md`, "Browser login").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<crate::oidc::OidcClientConfig>,
}

/// One place a token may be found: exactly one of `header`, `cookie`, `query`; `prefix`
/// only with `header` (matched case-insensitively, e.g. `"Bearer "`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// One API: a set of operations served under some hosts and a base path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Api {
    /// Unique name, `namespace/name` when written by the controller. Used in metrics and logs.
    pub name: String,
    /// Host names (`api.example.com`), suffix wildcards (`*.example.com`) or `*` for any host.
    /// Matched case-insensitively, port ignored.
    pub hosts: Vec<String>,
    /// Path prefix every operation path is relative to (`/v1`); empty for none.
    #[serde(default)]
    pub base_path: String,
    /// Strict APIs answer unknown routes with 404 (and known paths with another method with
    /// 405); non-strict APIs let them through to the upstream.
    #[serde(default)]
    pub strict: bool,
    /// Policies applied to every operation that does not set its own.
    #[serde(default)]
    pub defaults: Policies,
    /// The operations.
    pub operations: Vec<Operation>,
}

/// One operation of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Operation {
    /// Unique within its API.
    pub operation_id: String,
    /// HTTP method.
    pub method: Method,
    /// Path template relative to the API's base path (`/pets/{petId}`).
    pub path: String,
    /// Policies of this operation; unset slots fall back to the API's `defaults`.
    #[serde(default, skip_serializing_if = "Policies::is_empty")]
    pub policies: Policies,
    /// What a valid request looks like, compiled from the OpenAPI operation. Absent: the
    /// operation has nothing to validate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestSpec>,
}

/// A request's declared parameters and body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestSpec {
    /// Path, query, header and cookie parameters (path-item and operation level merged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<crate::params::ParamSpec>,
    /// Query parameters not declared here are violations (`additionalProperties` of the
    /// query string); false lets them through.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reject_unknown_query: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySpec>,
    /// Declared responses, checked when the validation policy says
    /// `responses: report` (`docs/validation.md#responses`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<ResponseSpec>,
}

/// One declared response of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseSpec {
    /// `200`, a range `2XX`, or `default`: the OpenAPI `responses` key.
    pub status: String,
    /// Declared media types, most specific first; empty: no body is declared, the
    /// content type and body are not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<MediaSpec>,
}

/// The request body of an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BodySpec {
    #[serde(default)]
    pub required: bool,
    /// Declared media types, most specific first: `application/json`, `application/*+json`
    /// style ranges, `application/x-www-form-urlencoded`, `*/*`. A request whose
    /// `Content-Type` matches none gets 415.
    pub content: Vec<MediaSpec>,
    /// Bodies above this many bytes get 413 before any parsing. Default 1 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u32>,
}

/// One declared media type of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MediaSpec {
    /// Media type or range, lower case, without parameters.
    pub media_type: String,
    /// Root in [`FilterConfig::schemas`]; absent: only the media type is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<crate::schema::NodeId>,
    /// `application/x-www-form-urlencoded` only: the shape of each declared property, so
    /// field values are coerced like query parameters before the schema check.
    /// Undeclared fields stay strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<(String, crate::params::Shape)>,
}

/// The per-operation policy slots. Each is filled in by the feature that enforces it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CachePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingPolicy>,
}

impl Policies {
    /// True when no slot is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Policies::default()
    }

    /// This operation's policies with unset slots taken from `defaults`.
    #[must_use]
    pub fn or(&self, defaults: &Policies) -> Policies {
        Policies {
            auth: self.auth.clone().or_else(|| defaults.auth.clone()),
            validation: self
                .validation
                .clone()
                .or_else(|| defaults.validation.clone()),
            cache: self.cache.clone().or_else(|| defaults.cache.clone()),
            sampling: self.sampling.clone().or_else(|| defaults.sampling.clone()),
        }
    }
}

/// Who may call: OpenAPI `security` semantics, an OR of ANDs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthPolicy {
    /// Any one alternative satisfied admits the request; an alternative is satisfied when
    /// all its requirements are. An empty list makes the operation public.
    #[serde(default)]
    pub any_of: Vec<AuthAlternative>,
    /// Browsers without a session are sent to the login of the first provider named here
    /// that has an `oidc` client; sessions authenticate requests (`docs/sso.md`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interactive: bool,
}

/// One alternative of an [`AuthPolicy`]: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthAlternative {
    pub all_of: Vec<AuthRequirement>,
}

/// A token from `provider` carrying `scopes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthRequirement {
    /// Name of an entry of [`FilterConfig::providers`].
    pub provider: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Request validation policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidationPolicy {
    pub mode: ValidationMode,
    /// Responses are checked against the document and violations logged and counted
    /// (`report`), never blocked or changed; `off` (the default) does not look at them.
    #[serde(default, skip_serializing_if = "ResponseMode::is_off")]
    pub responses: ResponseMode,
}

/// What happens to a response that differs from the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseMode {
    /// Not looked at.
    #[default]
    Off,
    /// Checked; violations logged and counted, the response untouched.
    Report,
}

impl ResponseMode {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    fn is_off(&self) -> bool {
        *self == ResponseMode::Off
    }
}

/// What happens to a request that violates its schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ValidationMode {
    /// Reject with 400.
    Enforce,
    /// Let through, log and count.
    Report,
    /// Do not validate.
    #[default]
    Off,
}

/// Response caching and Idempotency-Key policy (`docs/caching.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CachePolicy {
    /// Serve and store responses of this (GET) operation.
    #[serde(default)]
    pub enabled: bool,
    /// Freshness lifetime when the response states none (0: such responses are not stored).
    #[serde(default)]
    pub default_ttl_seconds: u32,
    /// Upper bound on any freshness lifetime, explicit or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl_seconds: Option<u32>,
    /// Heuristic freshness (10% of the time since `Last-Modified`) for responses without
    /// explicit freshness.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heuristic: bool,
    /// Responses are the same for every caller: requests with credentials share entries
    /// (otherwise they are partitioned by the verified SSO subject, or not cached).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    /// Only these query parameters are part of the key (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_include: Vec<String>,
    /// These query parameters are never part of the key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_exclude: Vec<String>,
    /// Request headers that are part of the key (lower case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_headers: Vec<String>,
    /// Longest `stale-while-revalidate` honored, seconds (0: never serve stale for it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale_while_revalidate_seconds: u32,
    /// Longest `stale-if-error` honored, seconds (0: never serve stale on errors).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale_if_error_seconds: u32,
    /// Idempotency-Key replay for this (POST/PATCH) operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<crate::cache::IdempotencyPolicy>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Traffic sampling policy for learned OpenAPI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SamplingPolicy {
    /// Fraction of exchanges sampled, 0 to 1.
    pub rate: f64,
}

/// Process-wide sampling settings: the collector and the bounds (`docs/learning.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SamplingSettings {
    /// Upstream of the collector: an Envoy cluster name, or `host:port` on hosts whose
    /// callouts take an address.
    pub collector: String,
    #[serde(default = "default_samples_path")]
    pub path: String,
    #[serde(default = "default_collector_authority")]
    pub authority: String,
    /// Length of the cap window, seconds.
    #[serde(default = "default_interval_seconds")]
    pub interval_seconds: u32,
    /// Samples per operation per window, per VM.
    #[serde(default = "default_max_per_operation")]
    pub max_per_operation: u32,
    /// Samples of unmatched routes per API per window, per VM.
    #[serde(default = "default_max_per_operation")]
    pub max_unmatched: u32,
    /// Samples waiting to be posted, per VM; more are dropped and counted.
    #[serde(default = "default_max_queue")]
    pub max_queue: u32,
    /// Samples per POST.
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Bodies larger than this are not shaped (their content type still is).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u32,
    /// A queue is posted at most this often (and sooner when a batch is full), ms.
    #[serde(default = "default_flush_ms")]
    pub flush_ms: u32,
    /// Callout timeout, ms.
    #[serde(default = "default_flush_ms")]
    pub timeout_ms: u32,
}

fn default_samples_path() -> String {
    "/v1/samples".to_owned()
}
fn default_collector_authority() -> String {
    "gatehouse-collector".to_owned()
}
fn default_interval_seconds() -> u32 {
    60
}
fn default_max_per_operation() -> u32 {
    100
}
fn default_max_queue() -> u32 {
    1000
}
fn default_batch_size() -> u32 {
    200
}
fn default_max_body_bytes() -> u32 {
    65536
}
fn default_flush_ms() -> u32 {
    1000
}

/// HTTP methods an operation can declare (the OpenAPI set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// The method's token as it appears on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// Parses a request's method token. Methods are case-sensitive (RFC 9110 §9.1).
    #[must_use]
    pub fn from_token(token: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == token)
    }

    /// Parses an OpenAPI path-item key (`get`, `post`, ...), which is lower case.
    #[must_use]
    pub fn from_openapi_key(key: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(key))
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
