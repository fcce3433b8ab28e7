//! Per-request decisions, independent of the host: the glue reads the request, asks the
//! engine, and applies the answer.

use std::collections::HashMap;

use crate::auth::{self, AuthDecision, AuthRequest, AuthState};
use crate::compiled::CompiledConfig;
use crate::config::{AuthPolicy, RequestSpec, ValidationMode};
use crate::host::{Host, LogLevel};
use crate::metrics::{tagged_name, Metrics, RequestKey, RequestResult};
use crate::params::RawRequest;
use crate::problem::{FieldError, LocalReply, Problem};
use crate::request_id::RequestIds;
use crate::router::RouteMatch;
use crate::schema::Limits;
use crate::validation::{self, BodyOutcome, BodyPlan, BodyRefusal};

/// Longest client-supplied request id kept; longer or odd ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// State one VM keeps across requests.
#[derive(Debug)]
pub struct VmState {
    pub metrics: Metrics,
    pub ids: RequestIds,
    /// `gatehouse_validation_total` counter ids by (api, operation, violation).
    validation_counters: HashMap<(usize, usize, bool), Option<u32>>,
    /// `gatehouse_response_validation_total` counter ids.
    pub responses: crate::responses::Counters,
}

impl VmState {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            metrics: Metrics::default(),
            ids: RequestIds::new(seed),
            validation_counters: HashMap::new(),
            responses: crate::responses::Counters::default(),
        }
    }
}

/// The request line and the headers routing needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// Raw `:path`, query included.
    pub path: &'a str,
    pub authority: &'a str,
    pub request_id: Option<&'a str>,
}

/// The matched operation, for the later phases of the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub api: usize,
    pub operation: usize,
    pub params: Vec<(String, String)>,
}

/// A request let through, and what to change on it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward<'c> {
    pub request_id: String,
    /// The id was generated here: set it on the request for the upstream.
    pub generated_request_id: bool,
    /// Value for the operation header, replacing any client copy; `None`: remove client
    /// copies (clients must never choose the operation a later filter trusts).
    pub operation_tag: Option<&'c str>,
    pub matched: Option<Matched>,
    /// The auth policy that applies ([`on_request_auth`]): the matched operation's (merged
    /// with its API's `defaults`), or, for a request a non-strict API passes through
    /// unmatched, that API's `defaults.auth` (an undocumented path must not skip
    /// authentication). `None`: no authentication (unmanaged requests, APIs without auth).
    pub auth: Option<&'c AuthPolicy>,
    /// Name of the API the request belongs to (the `realm` of auth challenges).
    pub api_name: Option<&'c str>,
}

/// What to do with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'c> {
    Forward(Forward<'c>),
    /// Answer it here.
    Reply(LocalReply),
}

/// Routes a request and decides its fate.
pub fn on_request_headers<'c>(
    config: &'c CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    head: &RequestHead<'_>,
) -> Decision<'c> {
    let (request_id, generated_request_id) =
        match head.request_id.filter(|id| acceptable_request_id(id)) {
            Some(id) => (id.to_owned(), false),
            None => (state.ids.next(host.now_nanos()), true),
        };
    let apis = &config.router.apis;
    let api_name = |api: usize| apis.get(api).map_or("-", |a| a.name.as_str());
    let mut forward = |key: RequestKey, operation: Option<(&'c str, Matched)>| {
        let (api, op) = (key.0, operation.as_ref().map(|(_, m)| m.operation));
        let op_name = op
            .and_then(|o| apis.get(api.unwrap_or(usize::MAX))?.operations.get(o))
            .map_or("-", |o| o.operation_id.as_str());
        state
            .metrics
            .count_request(host, (api, op, key.2), api.map_or("-", api_name), op_name);
        let auth = match (&operation, api.and_then(|a| apis.get(a))) {
            (Some((_, m)), Some(routed)) => routed
                .operations
                .get(m.operation)
                .and_then(|o| o.policies.auth.as_ref()),
            // Passed through a non-strict API: its defaults apply.
            (None, Some(_)) if key.2 == RequestResult::Passthrough => api
                .and_then(|a| config.source.apis.get(a))
                .and_then(|a| a.defaults.auth.as_ref()),
            _ => None,
        };
        let api_name = api.and_then(|a| apis.get(a)).map(|a| a.name.as_str());
        let (operation_tag, matched) = match operation {
            Some((tag, matched)) => (Some(tag), Some(matched)),
            None => (None, None),
        };
        Decision::Forward(Forward {
            request_id: request_id.clone(),
            generated_request_id,
            operation_tag,
            matched,
            auth,
            api_name,
        })
    };

    match config.router.route(head.authority, head.method, head.path) {
        RouteMatch::NoApi => forward((None, None, RequestResult::Unmanaged), None),
        RouteMatch::Operation {
            api,
            operation,
            params,
        } => match apis.get(api).and_then(|a| a.operations.get(operation)) {
            Some(op) => forward(
                (Some(api), Some(operation), RequestResult::Routed),
                Some((
                    op.tag.as_str(),
                    Matched {
                        api,
                        operation,
                        params,
                    },
                )),
            ),
            None => forward((Some(api), None, RequestResult::Unmanaged), None),
        },
        RouteMatch::NotFound { api } | RouteMatch::MethodNotAllowed { api, .. }
            if !apis.get(api).is_some_and(|a| a.strict) =>
        {
            forward((Some(api), None, RequestResult::Passthrough), None)
        }
        RouteMatch::NotFound { api } => {
            let detail = format!(
                "no operation of API {} matches {} {}",
                api_name(api),
                head.method,
                strip_query(head.path)
            );
            let rejection = Rejection {
                api: Some(api),
                result: RequestResult::NotFound,
                status: 404,
                slug: "not-found",
                title: "Not Found",
                detail: &detail,
                extra: Vec::new(),
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
        RouteMatch::MethodNotAllowed { api, allow } => {
            let allow: Vec<&str> = allow.iter().map(|m| m.as_str()).collect();
            let detail = format!(
                "{} {} is not an operation of API {}; allowed: {}",
                head.method,
                strip_query(head.path),
                api_name(api),
                allow.join(", ")
            );
            let rejection = Rejection {
                api: Some(api),
                result: RequestResult::MethodNotAllowed,
                status: 405,
                slug: "method-not-allowed",
                title: "Method Not Allowed",
                detail: &detail,
                extra: vec![("allow".to_owned(), allow.join(", "))],
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
        RouteMatch::Malformed { api, reason } => {
            let rejection = Rejection {
                api,
                result: RequestResult::Malformed,
                status: 400,
                slug: "malformed-path",
                title: "Bad Request",
                detail: reason,
                extra: Vec::new(),
            };
            reject(host, state, config, &request_id, head.path, rejection)
        }
    }
}

/// True when the policy lets every request in without reading a token: absent, or
/// explicitly public (`anyOf: []`, or an alternative without requirements).
#[must_use]
pub fn auth_is_public(policy: Option<&AuthPolicy>) -> bool {
    policy.is_none_or(|p| p.any_of.is_empty() || p.any_of.iter().any(|a| a.all_of.is_empty()))
}

/// The auth phase of a forwarded request, after routing and before validation.
///
/// `headers` (lower-case names, every copy) are only read when the policy is not public:
/// the glue passes an empty slice otherwise and copies no header map
/// ([`auth_is_public`]). Whatever the outcome, remove [`AuthDecision::strip`] first (the
/// headers providers forward, so clients cannot spoof them), then set the `forward`
/// headers (including `:path` / `cookie` rewrites when the token is removed) or answer
/// the rejection (401 / 403 problem+json with `WWW-Authenticate`).
pub fn on_request_auth(
    config: &CompiledConfig,
    auth: &mut AuthState,
    host: &dyn Host,
    forward: &Forward<'_>,
    path: &str,
    headers: &[(String, String)],
) -> AuthDecision {
    let settings = &config.source.settings;
    let request = AuthRequest {
        policy: forward.auth,
        headers,
        path,
        now_ms: host.now_nanos() / 1_000_000,
        realm: forward.api_name,
        request_id: &forward.request_id,
        request_id_header: &settings.request_id_header,
    };
    let decision = auth::authenticate(&config.providers, auth, host, &request);
    if let AuthDecision::Rejected { reply, .. } = &decision {
        let operation = forward
            .matched
            .as_ref()
            .and_then(|m| config.router.apis.get(m.api)?.operations.get(m.operation))
            .map_or("-", |o| o.operation_id.as_str());
        host.log(
            LogLevel::Info,
            &format!(
                "request_id={} api={} operation={operation} rejected {} auth",
                forward.request_id,
                forward.api_name.unwrap_or("-"),
                reply.status
            ),
        );
    }
    decision
}

/// A request the filter answers itself.
#[derive(Debug)]
pub struct Rejection<'a> {
    pub api: Option<usize>,
    pub result: RequestResult,
    pub status: u16,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: &'a str,
    /// Extra response headers (`allow`, `www-authenticate`).
    pub extra: Vec<(String, String)>,
}

/// Counts, logs (with the request id) and builds the problem+json answer.
pub fn reject(
    host: &dyn Host,
    state: &mut VmState,
    config: &CompiledConfig,
    request_id: &str,
    path: &str,
    rejection: Rejection<'_>,
) -> Decision<'static> {
    let api = rejection
        .api
        .and_then(|a| config.router.apis.get(a))
        .map_or("-", |a| a.name.as_str());
    state
        .metrics
        .count_request(host, (rejection.api, None, rejection.result), api, "-");
    host.log(
        LogLevel::Info,
        &format!(
            "request_id={request_id} api={api} rejected {} {}: {}",
            rejection.status,
            rejection.result.label(),
            rejection.detail
        ),
    );
    Decision::Reply(
        Problem::new(
            rejection.status,
            rejection.slug,
            rejection.title,
            rejection.detail,
            request_id,
        )
        .with_instance(path)
        .into_reply(&config.source.settings.request_id_header, rejection.extra),
    )
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or_default()
}

/// Ids end up in logs and headers: keep them short and printable.
fn acceptable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The validation step of a routed request, after its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Nothing (more) to check: let the request go.
    Continue,
    /// Buffer the body, then call [`on_request_body`].
    Body(PendingBody),
    /// Answer it here.
    Reply(LocalReply),
}

/// A body being buffered for validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBody {
    pub api: usize,
    pub operation: usize,
    /// Index of the matched media type in the operation's body content.
    pub media: usize,
    /// Bodies above this many bytes are refused (413).
    pub max_bytes: u32,
    pub request_id: String,
    pub path: String,
}

/// The request spec and mode of a matched operation, when it is validated at all.
#[must_use]
pub fn validation_for<'c>(
    config: &'c CompiledConfig,
    matched: &Matched,
) -> Option<(&'c RequestSpec, ValidationMode)> {
    let mode = config
        .router
        .apis
        .get(matched.api)?
        .operations
        .get(matched.operation)?
        .policies
        .validation
        .as_ref()
        .map_or(ValidationMode::Off, |v| v.mode);
    if mode == ValidationMode::Off {
        return None;
    }
    let request = config
        .source
        .apis
        .get(matched.api)?
        .operations
        .get(matched.operation)?
        .request
        .as_ref()?;
    Some((request, mode))
}

/// Validates parameters and plans the body of a routed request. `headers` are the request
/// headers with lower-case names; `end_of_stream`: the request has no body.
pub fn on_request_validation(
    config: &CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    forward: &Forward<'_>,
    path: &str,
    headers: &[(String, String)],
    end_of_stream: bool,
) -> Validation {
    let Some(matched) = &forward.matched else {
        return Validation::Continue;
    };
    let Some((spec, mode)) = validation_for(config, matched) else {
        return Validation::Continue;
    };
    let program = config.source.schemas.as_ref();
    let limits = Limits::default();
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    let raw = RawRequest {
        path_params: &matched.params,
        query,
        headers,
    };
    let ctx = Ctx {
        config,
        host,
        api: matched.api,
        operation: matched.operation,
        mode,
        request_id: &forward.request_id,
        path,
    };
    let errors = validation::validate_parameters(program, spec, &raw, &limits);
    if !errors.is_empty() {
        return ctx.violation(state, Refusal::Invalid(errors));
    }
    let Some(body) = &spec.body else {
        ctx.count(state, false);
        return Validation::Continue;
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let content_length = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    match validation::plan_body(body, header("content-type"), content_length, end_of_stream) {
        Ok(BodyPlan::Skip) => {
            ctx.count(state, false);
            Validation::Continue
        }
        Ok(BodyPlan::Buffer { media, max }) => Validation::Body(PendingBody {
            api: matched.api,
            operation: matched.operation,
            media,
            max_bytes: max,
            request_id: forward.request_id.clone(),
            path: path.to_owned(),
        }),
        Err(refusal) => ctx.violation(state, Refusal::Body(refusal)),
    }
}

/// The body grew past the limit while buffering: 413 (enforce) or let it go (report).
pub fn on_request_body_too_large(
    config: &CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    pending: &PendingBody,
) -> Validation {
    match pending_ctx(config, host, pending) {
        Some(ctx) => ctx.violation(
            state,
            Refusal::Body(BodyRefusal::TooLarge {
                max: pending.max_bytes,
            }),
        ),
        None => Validation::Continue,
    }
}

/// Validates the complete, buffered body.
pub fn on_request_body(
    config: &CompiledConfig,
    state: &mut VmState,
    host: &dyn Host,
    pending: &PendingBody,
    body: &[u8],
) -> Validation {
    let Some(ctx) = pending_ctx(config, host, pending) else {
        return Validation::Continue;
    };
    if body.len() > pending.max_bytes as usize {
        return ctx.violation(
            state,
            Refusal::Body(BodyRefusal::TooLarge {
                max: pending.max_bytes,
            }),
        );
    }
    let spec = config
        .source
        .apis
        .get(pending.api)
        .and_then(|a| a.operations.get(pending.operation))
        .and_then(|o| o.request.as_ref())
        .and_then(|r| r.body.as_ref());
    let Some(spec) = spec else {
        return Validation::Continue;
    };
    let Some(media) = spec.content.get(pending.media) else {
        return Validation::Continue;
    };
    let outcome = validation::validate_body(
        config.source.schemas.as_ref(),
        spec,
        media,
        body,
        &Limits::default(),
    );
    match outcome {
        BodyOutcome::Valid => {
            ctx.count(state, false);
            Validation::Continue
        }
        BodyOutcome::Missing => ctx.violation(state, Refusal::Body(BodyRefusal::Missing)),
        BodyOutcome::Malformed(detail) => ctx.violation(state, Refusal::Malformed(detail)),
        BodyOutcome::Invalid(errors) => ctx.violation(state, Refusal::Invalid(errors)),
    }
}

fn pending_ctx<'a>(
    config: &'a CompiledConfig,
    host: &'a dyn Host,
    pending: &'a PendingBody,
) -> Option<Ctx<'a>> {
    let matched = Matched {
        api: pending.api,
        operation: pending.operation,
        params: Vec::new(),
    };
    let (_, mode) = validation_for(config, &matched)?;
    Some(Ctx {
        config,
        host,
        api: pending.api,
        operation: pending.operation,
        mode,
        request_id: &pending.request_id,
        path: &pending.path,
    })
}

enum Refusal {
    Invalid(Vec<FieldError>),
    Body(BodyRefusal),
    Malformed(String),
}

struct Ctx<'a> {
    config: &'a CompiledConfig,
    host: &'a dyn Host,
    api: usize,
    operation: usize,
    mode: ValidationMode,
    request_id: &'a str,
    path: &'a str,
}

impl Ctx<'_> {
    fn names(&self) -> (&str, &str) {
        let api = self.config.router.apis.get(self.api);
        (
            api.map_or("-", |a| a.name.as_str()),
            api.and_then(|a| a.operations.get(self.operation))
                .map_or("-", |o| o.operation_id.as_str()),
        )
    }

    /// Counts `gatehouse_validation_total{api,operation,result}`.
    fn count(&self, state: &mut VmState, violation: bool) {
        let (api, operation) = self.names();
        let host = self.host;
        let id = *state
            .validation_counters
            .entry((self.api, self.operation, violation))
            .or_insert_with(|| {
                host.define_counter(&tagged_name(
                    "gatehouse_validation_total",
                    &[
                        ("api", api),
                        ("operation", operation),
                        ("result", if violation { "violation" } else { "ok" }),
                    ],
                ))
            });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
    }

    fn violation(&self, state: &mut VmState, refusal: Refusal) -> Validation {
        self.count(state, true);
        let (status, slug, title, detail, errors) = match refusal {
            Refusal::Invalid(errors) => (
                400,
                "validation",
                "Bad Request",
                format!(
                    "the request does not match the API description: {} violation{}",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                errors,
            ),
            Refusal::Body(BodyRefusal::Missing) => (
                400,
                "validation",
                "Bad Request",
                "the request body is required".to_owned(),
                vec![FieldError {
                    location: "body",
                    pointer: String::new(),
                    keyword: "required",
                    message: "the request body is required".to_owned(),
                }],
            ),
            Refusal::Body(BodyRefusal::Unsupported { got, declared }) => (
                415,
                "unsupported-media-type",
                "Unsupported Media Type",
                format!(
                    "content type {:?} is not accepted; declared: {declared}",
                    if got.is_empty() {
                        "(none)"
                    } else {
                        got.as_str()
                    }
                ),
                Vec::new(),
            ),
            Refusal::Body(BodyRefusal::TooLarge { max }) => (
                413,
                "body-too-large",
                "Content Too Large",
                format!("the request body is larger than {max} bytes"),
                Vec::new(),
            ),
            Refusal::Malformed(detail) => {
                (400, "malformed-body", "Bad Request", detail, Vec::new())
            }
        };
        let (api, operation) = self.names();
        let summary = errors
            .first()
            .map(|e| format!(" first: {} {:?} {}", e.location, e.pointer, e.keyword))
            .unwrap_or_default();
        if self.mode == ValidationMode::Report {
            self.host.log(
                LogLevel::Warn,
                &format!(
                    "request_id={} api={api} operation={operation} validation (report) {status} {slug}: {detail}{summary}",
                    self.request_id
                ),
            );
            return Validation::Continue;
        }
        self.host.log(
            LogLevel::Info,
            &format!(
                "request_id={} api={api} operation={operation} rejected {status} {slug}: {detail}{summary}",
                self.request_id
            ),
        );
        let extra = if status == 415 {
            let declared = detail
                .rsplit_once("declared: ")
                .map_or("", |(_, d)| d)
                .to_owned();
            vec![("accept-post".to_owned(), declared)]
        } else {
            Vec::new()
        };
        let settings = &self.config.source.settings;
        Validation::Reply(
            Problem::new(status, slug, title, &detail, self.request_id)
                .with_instance(self.path)
                .with_errors(errors)
                .into_reply(&settings.request_id_header, extra),
        )
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "validation_engine_tests.rs"]
mod validation_tests;
