//! Request validation against an operation's [`RequestSpec`] (`docs/validation.md`).
//!
//! Host-independent: the engine hands in what the glue read (path parameters from the
//! router, the raw query, the headers, later the buffered body) and gets back violations
//! or an early answer (413, 415, malformed body). Everything here is bounded by the
//! configuration's limits; nothing panics.

use serde_json::{Map, Value};

use crate::compiled::ConfigError;
use crate::config::{BodySpec, FilterConfig, MediaSpec, RequestSpec};
use crate::params::{self, Location, ParamSpec, Query, RawRequest, Shape};
use crate::problem::FieldError;
use crate::schema::{self, Limits, NodeId, Program};

/// Body size limit when the operation sets none.
pub const DEFAULT_MAX_BODY_BYTES: u32 = 1024 * 1024;
/// Longest unknown query parameter name echoed in a violation.
const MAX_NAME_ECHO: usize = 64;
/// Longest client content type echoed in a 415.
const MAX_TYPE_ECHO: usize = 64;
/// Message used instead of the validator's for sensitive parameters.
const SENSITIVE_MESSAGE: &str = "value is not valid (not shown: sensitive parameter)";

/// Checks the validation parts of a configuration: the schema program's indices and every
/// root an operation refers to. Run once, in `on_configure` (and by the controller).
pub fn check_config(config: &FilterConfig) -> Result<(), ConfigError> {
    let len = match &config.schemas {
        Some(program) => {
            program.check().map_err(|m| ConfigError {
                pointer: "/schemas".to_owned(),
                message: m,
            })?;
            program.len()
        }
        None => 0,
    };
    let in_range = |id: &Option<NodeId>, at: String| match id {
        Some(id) if (*id as usize) >= len => Err(ConfigError {
            pointer: at,
            message: format!("schema root {id} is not in /schemas ({len} nodes)"),
        }),
        _ => Ok(()),
    };
    for (a, api) in config.apis.iter().enumerate() {
        for (o, op) in api.operations.iter().enumerate() {
            let Some(request) = &op.request else {
                continue;
            };
            let at = format!("/apis/{a}/operations/{o}/request");
            for (p, param) in request.parameters.iter().enumerate() {
                if param.name.is_empty() {
                    return Err(ConfigError {
                        pointer: format!("{at}/parameters/{p}/name"),
                        message: "parameter name is empty".to_owned(),
                    });
                }
                in_range(&param.schema, format!("{at}/parameters/{p}/schema"))?;
            }
            if let Some(body) = &request.body {
                if body.max_bytes == Some(0) {
                    return Err(ConfigError {
                        pointer: format!("{at}/body/maxBytes"),
                        message: "maxBytes must be positive".to_owned(),
                    });
                }
                for (m, media) in body.content.iter().enumerate() {
                    if !media.media_type.contains('/') {
                        return Err(ConfigError {
                            pointer: format!("{at}/body/content/{m}/mediaType"),
                            message: format!("{:?} is not a media type", media.media_type),
                        });
                    }
                    in_range(&media.schema, format!("{at}/body/content/{m}/schema"))?;
                }
            }
            for (r, response) in request.responses.iter().enumerate() {
                if !crate::responses::status_key_valid(&response.status) {
                    return Err(ConfigError {
                        pointer: format!("{at}/responses/{r}/status"),
                        message: format!(
                            "{:?} is not a status, a range like 2XX or default",
                            response.status
                        ),
                    });
                }
                for (m, media) in response.content.iter().enumerate() {
                    in_range(
                        &media.schema,
                        format!("{at}/responses/{r}/content/{m}/schema"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Checks parameters: presence, serialization, schema; unknown query parameters when the
/// operation rejects them. Returns every violation (up to `limits.max_errors`).
#[must_use]
pub fn validate_parameters(
    program: Option<&Program>,
    spec: &RequestSpec,
    raw: &RawRequest<'_>,
    limits: &Limits,
) -> Vec<FieldError> {
    let max = limits.max_errors.max(1) as usize;
    let query = Query::parse(raw.query);
    let mut errors = Vec::new();
    for param in &spec.parameters {
        if errors.len() >= max {
            break;
        }
        let value = match params::extract(param, raw, &query) {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(problem) => {
                errors.push(FieldError {
                    location: problem.location.as_str(),
                    pointer: format!("/{}", escape(&param.name)),
                    keyword: problem.keyword,
                    message: if param.sensitive && problem.keyword != "required" {
                        SENSITIVE_MESSAGE.to_owned()
                    } else {
                        problem.message
                    },
                });
                continue;
            }
        };
        let (Some(program), Some(root)) = (program, param.schema) else {
            continue;
        };
        for v in schema::validate(program, root, &value, limits) {
            if errors.len() >= max {
                break;
            }
            errors.push(FieldError {
                location: param.location.as_str(),
                pointer: format!("/{}{}", escape(&param.name), v.pointer),
                keyword: v.keyword,
                message: if param.sensitive {
                    SENSITIVE_MESSAGE.to_owned()
                } else {
                    v.message
                },
            });
        }
    }
    if spec.reject_unknown_query {
        for name in query.names() {
            if errors.len() >= max {
                break;
            }
            if !declared_query_name(&spec.parameters, name) {
                errors.push(FieldError {
                    location: "query",
                    pointer: format!("/{}", escape(&cut(name, MAX_NAME_ECHO))),
                    keyword: "additionalProperties",
                    message: "query parameter is not declared by the operation".to_owned(),
                });
            }
        }
    }
    errors
}

fn declared_query_name(params: &[ParamSpec], name: &str) -> bool {
    params
        .iter()
        .filter(|p| p.location == Location::Query)
        .any(|p| {
            if p.name == name {
                return true;
            }
            match (p.style(), &p.shape) {
                (params::Style::DeepObject, _) => name
                    .strip_prefix(p.name.as_str())
                    .is_some_and(|rest| rest.starts_with('[')),
                (params::Style::Form, Shape::Object { properties, .. }) if p.explode() => {
                    properties.iter().any(|(k, _)| k == name)
                }
                _ => false,
            }
        })
}

/// Why a body cannot be accepted before its content is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Required body absent: 400.
    Missing,
    /// Content type not declared: 415. Carries the declared types, comma-separated.
    Unsupported { got: String, declared: String },
    /// Over the limit: 413.
    TooLarge { max: u32 },
}

/// What to do with the body, decided from the request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyPlan {
    /// Nothing to read: no body, or a declared-only media type.
    Skip,
    /// Buffer up to `max` bytes, then validate against `content[media]`.
    Buffer { media: usize, max: u32 },
}

/// The head-time decision about the body: matches the content type, applies the size
/// limit to `Content-Length`, notices a missing required body.
pub fn plan_body(
    spec: &BodySpec,
    content_type: Option<&str>,
    content_length: Option<u64>,
    body_absent: bool,
) -> Result<BodyPlan, BodyRefusal> {
    let max = spec.max_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    let absent = body_absent || content_length == Some(0);
    if absent {
        return if spec.required {
            Err(BodyRefusal::Missing)
        } else {
            Ok(BodyPlan::Skip)
        };
    }
    if content_length.is_some_and(|n| n > u64::from(max)) {
        return Err(BodyRefusal::TooLarge { max });
    }
    let media_type = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let Some(index) = spec
        .content
        .iter()
        .position(|m| media_matches(&m.media_type, &media_type))
    else {
        return Err(BodyRefusal::Unsupported {
            got: cut(&media_type, MAX_TYPE_ECHO),
            declared: spec
                .content
                .iter()
                .map(|m| m.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let needs_body = spec
        .content
        .get(index)
        .is_some_and(|m| m.schema.is_some() || spec.required);
    Ok(if needs_body {
        BodyPlan::Buffer { media: index, max }
    } else {
        BodyPlan::Skip
    })
}

/// `declared` (a type or a range such as `application/*`, `*/*`, `application/*+json`)
/// against a normalized request media type.
#[must_use]
pub fn media_matches(declared: &str, actual: &str) -> bool {
    if actual.is_empty() || !actual.contains('/') {
        return declared == "*/*";
    }
    if declared == actual || declared == "*/*" {
        return true;
    }
    let (Some((dt, ds)), Some((at, asub))) = (declared.split_once('/'), actual.split_once('/'))
    else {
        return false;
    };
    if dt != at && dt != "*" {
        return false;
    }
    match ds.split_once('*') {
        Some((prefix, suffix)) => {
            asub.len() >= prefix.len() + suffix.len()
                && asub.starts_with(prefix)
                && asub.ends_with(suffix)
        }
        None => ds == asub,
    }
}

/// Why a buffered body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyOutcome {
    Valid,
    /// Not parseable as its media type: 400 `malformed-body`.
    Malformed(String),
    /// Schema violations: 400 `validation`.
    Invalid(Vec<FieldError>),
    /// Required but empty.
    Missing,
}

/// Parses and validates a complete body against the chosen media type.
#[must_use]
pub fn validate_body(
    program: Option<&Program>,
    spec: &BodySpec,
    media: &MediaSpec,
    body: &[u8],
    limits: &Limits,
) -> BodyOutcome {
    if body.is_empty() {
        return if spec.required {
            BodyOutcome::Missing
        } else {
            BodyOutcome::Valid
        };
    }
    let (Some(program), Some(root)) = (program, media.schema) else {
        return BodyOutcome::Valid;
    };
    let violations = if media.media_type == "application/x-www-form-urlencoded" {
        match std::str::from_utf8(body) {
            Ok(text) => schema::validate(program, root, &form_body(text, &media.form), limits),
            Err(_) => return BodyOutcome::Malformed("form body is not UTF-8".to_owned()),
        }
    } else if media.media_type == "application/json" || media.media_type.ends_with("+json") {
        // Validated on a token tape over the body's own bytes (no DOM, one allocation);
        // whatever the tape parser refuses goes through serde_json, which words the error
        // (and refuses nesting deeper than 128 levels, "recursion limit exceeded").
        match schema::Doc::parse(body) {
            Ok(doc) => schema::validate_doc(program, root, &doc, limits),
            Err(schema::NotParsed) => match serde_json::from_slice::<Value>(body) {
                Ok(value) => schema::validate(program, root, &value, limits),
                Err(e) => {
                    return BodyOutcome::Malformed(format!(
                        "body is not valid JSON ({:?} at line {} column {})",
                        e.classify(),
                        e.line(),
                        e.column()
                    ))
                }
            },
        }
    } else {
        return BodyOutcome::Valid;
    };
    if violations.is_empty() {
        BodyOutcome::Valid
    } else {
        BodyOutcome::Invalid(
            violations
                .into_iter()
                .map(|v| FieldError {
                    location: "body",
                    pointer: v.pointer,
                    keyword: v.keyword,
                    message: v.message,
                })
                .collect(),
        )
    }
}

/// Decodes a form body into an object, coercing declared fields like query parameters.
fn form_body(text: &str, fields: &[(String, Shape)]) -> Value {
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = params::form_decode(name).unwrap_or_else(|| name.to_owned());
        let value = params::form_decode(value).unwrap_or_else(|| value.to_owned());
        let shape = fields.iter().find(|(n, _)| *n == name).map(|(_, s)| s);
        let coerced = match shape {
            Some(Shape::Scalar { scalar }) => params::coerce(&value, *scalar),
            Some(Shape::Array { items }) => params::coerce(&value, *items),
            _ => Value::String(value),
        };
        let is_array = matches!(shape, Some(Shape::Array { .. }));
        match map.get_mut(&name) {
            Some(Value::Array(items)) if is_array => items.push(coerced),
            Some(existing) => {
                // A repeated scalar field: keep every value so the schema sees the list.
                let first = existing.take();
                *existing = match first {
                    Value::Array(mut items) => {
                        items.push(coerced);
                        Value::Array(items)
                    }
                    other => Value::Array(vec![other, coerced]),
                };
            }
            None if is_array => {
                map.insert(name, Value::Array(vec![coerced]));
            }
            None => {
                map.insert(name, coerced);
            }
        }
    }
    Value::Object(map)
}

/// Escapes one JSON pointer token.
fn escape(token: &str) -> String {
    crate::compiled::escape_pointer(token)
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
