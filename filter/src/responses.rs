//! Response validation, `report` mode only (`docs/validation.md#responses`).
//!
//! For an operation whose validation policy says `responses: report`, the response is
//! checked against what the OpenAPI document declares: the status (its own entry, a range
//! such as `2XX`, or `default`), the content type, and a JSON body against its schema.
//! Nothing here ever holds, blocks or changes a response: body chunks are copied as they
//! pass (up to [`MAX_RESPONSE_BYTES`]) and checked once the last one went through. The
//! result is counted in `gatehouse_response_validation_total{api,operation,status,result}`
//! and a violation is logged at `warn` with its pointers and keywords only (never values:
//! responses carry data the gateway must not copy into logs).

use std::collections::HashMap;

use crate::compiled::CompiledConfig;
use crate::config::{MediaSpec, ResponseMode, ResponseSpec};
use crate::engine::Matched;
use crate::host::{Host, LogLevel};
use crate::metrics::tagged_name;
use crate::schema::{self, Doc, Limits};
use crate::validation::media_matches;

/// Largest response body copied for checking; larger bodies are counted as checked for
/// status and content type only (and logged at `debug`).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Most violations listed in one log line.
const MAX_LOGGED: usize = 5;

/// `200`, `2XX` (any case) or `default`: the keys of OpenAPI `responses`.
#[must_use]
pub fn status_key_valid(key: &str) -> bool {
    let b = key.as_bytes();
    key == "default"
        || (b.len() == 3
            && matches!(b.first(), Some(b'1'..=b'5'))
            && (b.iter().skip(1).all(u8::is_ascii_digit)
                || b.iter().skip(1).all(|c| c.eq_ignore_ascii_case(&b'x'))))
}

/// Counter ids of `gatehouse_response_validation_total`, per VM.
#[derive(Debug, Default)]
pub struct Counters {
    ids: HashMap<(usize, usize, u16, bool), Option<u32>>,
}

/// The response headers the check needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseHead<'a> {
    pub status: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    /// The response has no body.
    pub end_of_stream: bool,
}

/// One difference between a response and the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseViolation {
    /// JSON pointer into the body; `""` for the whole response.
    pub pointer: String,
    /// `status`, `content-type`, `malformed-body`, or the schema keyword.
    pub keyword: &'static str,
}

#[derive(Debug)]
struct Watch {
    api: usize,
    operation: usize,
    request_id: String,
}

#[derive(Debug)]
struct Body {
    status: u16,
    response: usize,
    media: usize,
    buf: Vec<u8>,
    too_large: bool,
}

/// The response side of one exchange.
#[derive(Debug, Default)]
pub struct Exchange {
    watch: Option<Watch>,
    body: Option<Body>,
}

impl Exchange {
    /// Called once the request is routed: remembers the operation when its responses are
    /// to be checked.
    pub fn watch(&mut self, config: &CompiledConfig, matched: Option<&Matched>, request_id: &str) {
        self.body = None;
        self.watch = matched
            .filter(|m| !responses_of(config, m.api, m.operation).is_empty())
            .map(|m| Watch {
                api: m.api,
                operation: m.operation,
                request_id: request_id.to_owned(),
            });
    }

    /// The filter answers the request itself: its own answer is not the upstream's.
    pub fn forget(&mut self) {
        self.watch = None;
        self.body = None;
    }

    /// The response headers should be looked at.
    #[must_use]
    pub fn watching(&self) -> bool {
        self.watch.is_some()
    }

    /// The response body should be copied to [`Exchange::on_body`].
    #[must_use]
    pub fn wants_body(&self) -> bool {
        self.body.is_some()
    }

    /// Checks status and content type; plans the body check.
    pub fn on_headers(
        &mut self,
        config: &CompiledConfig,
        counters: &mut Counters,
        host: &dyn Host,
        head: &ResponseHead<'_>,
    ) {
        let Some(watch) = &self.watch else {
            return;
        };
        let Some(status) = head.status.and_then(|s| s.trim().parse::<u16>().ok()) else {
            self.forget();
            return;
        };
        let responses = responses_of(config, watch.api, watch.operation);
        let Some(index) = find_response(responses, status) else {
            self.finish(
                config,
                counters,
                host,
                status,
                &[ResponseViolation {
                    pointer: String::new(),
                    keyword: "status",
                }],
            );
            return;
        };
        let content = responses
            .get(index)
            .map_or(&[][..], |r| r.content.as_slice());
        if content.is_empty() || head.end_of_stream {
            // No body declared, or none sent: nothing more to compare.
            self.finish(config, counters, host, status, &[]);
            return;
        }
        let media_type = head
            .content_type
            .and_then(|c| c.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let Some(media) = content
            .iter()
            .position(|m| media_matches(&m.media_type, &media_type))
        else {
            self.finish(
                config,
                counters,
                host,
                status,
                &[ResponseViolation {
                    pointer: String::new(),
                    keyword: "content-type",
                }],
            );
            return;
        };
        let encoded = head
            .content_encoding
            .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
        let checkable = content.get(media).is_some_and(is_json_schema);
        if !checkable || encoded {
            if encoded && checkable {
                host.log(
                    LogLevel::Debug,
                    &format!(
                        "request_id={} response body not checked: content-encoding",
                        watch.request_id
                    ),
                );
            }
            self.finish(config, counters, host, status, &[]);
            return;
        }
        self.body = Some(Body {
            status,
            response: index,
            media,
            buf: Vec::new(),
            too_large: false,
        });
    }

    /// A chunk of the response body as it passes; at the end of the stream the body is
    /// checked against its schema.
    pub fn on_body(
        &mut self,
        config: &CompiledConfig,
        counters: &mut Counters,
        host: &dyn Host,
        chunk: &[u8],
        end_of_stream: bool,
    ) {
        let Some(body) = &mut self.body else {
            return;
        };
        if !body.too_large {
            if body.buf.len() + chunk.len() > MAX_RESPONSE_BYTES {
                body.too_large = true;
                body.buf = Vec::new();
            } else {
                body.buf.extend_from_slice(chunk);
            }
        }
        if !end_of_stream {
            return;
        }
        let Some(body) = self.body.take() else {
            return;
        };
        let Some(watch) = &self.watch else {
            return;
        };
        if body.too_large {
            host.log(
                LogLevel::Debug,
                &format!(
                    "request_id={} response body not checked: over {MAX_RESPONSE_BYTES} bytes",
                    watch.request_id
                ),
            );
            self.finish(config, counters, host, body.status, &[]);
            return;
        }
        let root = responses_of(config, watch.api, watch.operation)
            .get(body.response)
            .and_then(|r| r.content.get(body.media))
            .and_then(|m| m.schema);
        let violations = match (config.source.schemas.as_ref(), root) {
            (Some(program), Some(root)) => check_body(program, root, &body.buf),
            _ => Vec::new(),
        };
        self.finish(config, counters, host, body.status, &violations);
    }

    fn finish(
        &mut self,
        config: &CompiledConfig,
        counters: &mut Counters,
        host: &dyn Host,
        status: u16,
        violations: &[ResponseViolation],
    ) {
        let Some(watch) = self.watch.take() else {
            return;
        };
        self.body = None;
        let api = config.router.apis.get(watch.api);
        let api_name = api.map_or("-", |a| a.name.as_str());
        let operation = api
            .and_then(|a| a.operations.get(watch.operation))
            .map_or("-", |o| o.operation_id.as_str());
        let violation = !violations.is_empty();
        let id = *counters
            .ids
            .entry((watch.api, watch.operation, status, violation))
            .or_insert_with(|| {
                host.define_counter(&tagged_name(
                    "gatehouse_response_validation_total",
                    &[
                        ("api", api_name),
                        ("operation", operation),
                        ("status", &status.to_string()),
                        ("result", if violation { "violation" } else { "ok" }),
                    ],
                ))
            });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
        if violation {
            let listed: Vec<String> = violations
                .iter()
                .take(MAX_LOGGED)
                .map(|v| format!("{:?} {}", v.pointer, v.keyword))
                .collect();
            let more = if violations.len() > MAX_LOGGED {
                ", ..."
            } else {
                ""
            };
            host.log(
                LogLevel::Warn,
                &format!(
                    "request_id={} api={api_name} operation={operation} response validation (report) status {status}: {} violation{}: {}{more}",
                    watch.request_id,
                    violations.len(),
                    if violations.len() == 1 { "" } else { "s" },
                    listed.join(", ")
                ),
            );
        }
    }
}

/// The declared responses of an operation whose policy reports on responses.
fn responses_of(config: &CompiledConfig, api: usize, operation: usize) -> &[ResponseSpec] {
    let reporting = config
        .router
        .apis
        .get(api)
        .and_then(|a| a.operations.get(operation))
        .and_then(|o| o.policies.validation.as_ref())
        .is_some_and(|v| v.responses == ResponseMode::Report);
    if !reporting {
        return &[];
    }
    config
        .source
        .apis
        .get(api)
        .and_then(|a| a.operations.get(operation))
        .and_then(|o| o.request.as_ref())
        .map_or(&[][..], |r| r.responses.as_slice())
}

/// OpenAPI's precedence: the exact status, then its range (`4XX`), then `default`.
fn find_response(responses: &[ResponseSpec], status: u16) -> Option<usize> {
    let exact = status.to_string();
    let class = char::from_digit(u32::from(status / 100), 10);
    responses
        .iter()
        .position(|r| r.status == exact)
        .or_else(|| {
            responses.iter().position(|r| {
                let mut chars = r.status.chars();
                chars.next() == class
                    && r.status.len() == 3
                    && chars.all(|c| c.eq_ignore_ascii_case(&'x'))
            })
        })
        .or_else(|| responses.iter().position(|r| r.status == "default"))
}

fn is_json_schema(media: &MediaSpec) -> bool {
    media.schema.is_some()
        && (media.media_type == "application/json" || media.media_type.ends_with("+json"))
}

/// Violations of a JSON body (pointers and keywords only).
fn check_body(program: &schema::Program, root: u32, body: &[u8]) -> Vec<ResponseViolation> {
    let limits = Limits::default();
    let violations = match Doc::parse(body) {
        Ok(doc) => schema::validate_doc(program, root, &doc, &limits),
        Err(schema::NotParsed) => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => schema::validate(program, root, &value, &limits),
            Err(_) => {
                return vec![ResponseViolation {
                    pointer: String::new(),
                    keyword: "malformed-body",
                }]
            }
        },
    };
    violations
        .into_iter()
        .map(|v| ResponseViolation {
            pointer: v.pointer,
            keyword: v.keyword,
        })
        .collect()
}

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
