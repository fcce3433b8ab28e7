//! OpenAPI parameters: from raw request text to typed JSON values.
//!
//! The controller precomputes, per parameter, where it lives, its serialization (`style`,
//! `explode`) and the [`Shape`] its schema gives the value (scalar, array or object, with
//! the scalar types to coerce strings into). At request time [`extract`] reads each
//! parameter and coerces it; the schema validator then checks the value like any JSON. A
//! string that does not coerce (`limit=ten` for an integer) stays a string, so the
//! validator reports the real problem ("expected integer") in the same words as for bodies.
//!
//! Gap (documented in docs/validation.md): path parameters arrive percent-decoded from the
//! router, so an encoded delimiter (`%2C`) inside a `simple` array item splits it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// Where a parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

/// OpenAPI serialization styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Style {
    Simple,
    Label,
    Matrix,
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
}

/// The JSON type a string is coerced into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Scalar {
    #[default]
    String,
    Integer,
    Number,
    Boolean,
    /// The schema allows several types: integer, then number, then boolean, else string.
    Any,
}

/// What the parameter's schema makes of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", tag = "kind")]
pub enum Shape {
    Scalar {
        #[serde(default)]
        scalar: Scalar,
    },
    Array {
        #[serde(default)]
        items: Scalar,
    },
    Object {
        /// Declared properties and their scalar types.
        #[serde(default)]
        properties: Vec<(String, Scalar)>,
        /// Type of undeclared properties.
        #[serde(default)]
        additional: Scalar,
    },
}

impl Default for Shape {
    fn default() -> Self {
        Shape::Scalar {
            scalar: Scalar::String,
        }
    }
}

/// One declared parameter, as the controller compiled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "in")]
    pub location: Location,
    #[serde(default)]
    pub required: bool,
    /// Defaults: `simple` for path and header, `form` for query and cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Default: true for `form`, false otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_empty_value: bool,
    #[serde(default)]
    pub shape: Shape,
    /// Values never appear in answers or logs (credentials, tokens).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Root in the configuration's schema program the value must satisfy; absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<crate::schema::NodeId>,
}

impl ParamSpec {
    #[must_use]
    pub fn style(&self) -> Style {
        self.style.unwrap_or(match self.location {
            Location::Path | Location::Header => Style::Simple,
            Location::Query | Location::Cookie => Style::Form,
        })
    }

    #[must_use]
    pub fn explode(&self) -> bool {
        self.explode.unwrap_or(self.style() == Style::Form)
    }
}

/// A parameter that could not be read (before any schema check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    pub location: Location,
    pub name: String,
    pub keyword: &'static str,
    pub message: String,
}

/// The raw inputs parameters are read from.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// Decoded path parameters from the router, by template name.
    pub path_params: &'a [(String, String)],
    /// Query string without the leading `?` (may be empty).
    pub query: &'a str,
    /// Request headers with lower-case names.
    pub headers: &'a [(String, String)],
}

/// A query string split into raw (still encoded) pairs.
#[derive(Debug, Default)]
pub struct Query<'a> {
    pairs: Vec<(String, &'a str)>,
}

impl<'a> Query<'a> {
    /// Splits `a=1&b=2`; names are decoded, values kept raw so delimiters can be split
    /// before decoding. Pairs whose name does not decode are kept under their raw name.
    #[must_use]
    pub fn parse(query: &'a str) -> Self {
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = form_decode(name).unwrap_or_else(|| name.to_owned());
                (name, value)
            })
            .collect();
        Self { pairs }
    }

    /// Names present in the query, decoded.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(n, _)| n.as_str())
    }

    fn values(&self, name: &str) -> impl Iterator<Item = &'a str> + '_ {
        let name = name.to_owned();
        self.pairs
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// Reads and coerces one parameter. `Ok(None)` when it is absent.
pub fn extract(
    spec: &ParamSpec,
    raw: &RawRequest<'_>,
    query: &Query<'_>,
) -> Result<Option<Value>, ParamProblem> {
    let problem = |keyword, message: String| ParamProblem {
        location: spec.location,
        name: spec.name.clone(),
        keyword,
        message,
    };
    let value = match spec.location {
        Location::Path => raw
            .path_params
            .iter()
            .find(|(n, _)| *n == spec.name)
            .map(|(_, v)| from_path(spec, v))
            .transpose()
            .map_err(|m| problem("style", m))?,
        Location::Header => {
            let lowered = spec.name.to_ascii_lowercase();
            let values: Vec<&str> = raw
                .headers
                .iter()
                .filter(|(n, _)| *n == lowered)
                .map(|(_, v)| v.as_str())
                .collect();
            if values.is_empty() {
                None
            } else {
                // Repeated headers are one comma-joined list (RFC 9110 §5.3).
                Some(split_value(spec, &values.join(","), ','))
            }
        }
        Location::Cookie => {
            let values: Vec<&str> = raw
                .headers
                .iter()
                .filter(|(n, _)| n == "cookie")
                .flat_map(|(_, v)| v.split(';'))
                .filter_map(|c| {
                    let (n, v) = c.trim().split_once('=')?;
                    (n == spec.name).then_some(v)
                })
                .collect();
            match (values.as_slice(), &spec.shape) {
                ([], _) => None,
                (many, Shape::Array { items }) if many.len() > 1 || spec.explode() => {
                    Some(Value::Array(
                        many.iter()
                            .map(|v| coerce(&lossy_decode(v), *items))
                            .collect(),
                    ))
                }
                ([first, ..], _) => Some(delimited(spec, first, ",")),
            }
        }
        Location::Query => from_query(spec, query),
    };
    match value {
        None if spec.required => Err(problem(
            "required",
            format!(
                "{} parameter {:?} is required",
                spec.location.as_str(),
                spec.name
            ),
        )),
        Some(Value::String(s))
            if s.is_empty() && !spec.allow_empty_value && spec.location == Location::Query =>
        {
            Err(problem(
                "allowEmptyValue",
                format!("query parameter {:?} must not be empty", spec.name),
            ))
        }
        other => Ok(other),
    }
}

fn from_path(spec: &ParamSpec, decoded: &str) -> Result<Value, String> {
    match spec.style() {
        Style::Label => {
            let rest = decoded.strip_prefix('.').ok_or_else(|| {
                format!("label-style parameter {:?} must start with '.'", spec.name)
            })?;
            let sep = if spec.explode() { '.' } else { ',' };
            Ok(split_value(spec, rest, sep))
        }
        Style::Matrix => {
            let rest = decoded.strip_prefix(';').ok_or_else(|| {
                format!("matrix-style parameter {:?} must start with ';'", spec.name)
            })?;
            Ok(matrix(spec, rest))
        }
        _ => Ok(split_value(spec, decoded, ',')),
    }
}

/// `simple`-like: `a,b,c` for arrays, `k,v,k,v` or (exploded) `k=v,k=v` for objects.
fn split_value(spec: &ParamSpec, text: &str, sep: char) -> Value {
    match &spec.shape {
        Shape::Scalar { scalar } => coerce(text, *scalar),
        Shape::Array { items } => Value::Array(if text.is_empty() {
            Vec::new()
        } else {
            text.split(sep).map(|v| coerce(v, *items)).collect()
        }),
        Shape::Object { .. } if spec.explode() => {
            object(spec, text.split(sep).filter_map(|kv| kv.split_once('=')))
        }
        Shape::Object { .. } => object(spec, pairs_of(text.split(sep))),
    }
}

fn matrix(spec: &ParamSpec, rest: &str) -> Value {
    let prefix = format!("{}=", spec.name);
    match (&spec.shape, spec.explode()) {
        (Shape::Array { items }, true) => Value::Array(
            rest.split(';')
                .filter_map(|p| p.strip_prefix(prefix.as_str()))
                .map(|v| coerce(v, *items))
                .collect(),
        ),
        (Shape::Object { .. }, true) => {
            object(spec, rest.split(';').filter_map(|kv| kv.split_once('=')))
        }
        _ => {
            let value = rest.strip_prefix(prefix.as_str()).unwrap_or(rest);
            split_value(spec, value, ',')
        }
    }
}

fn from_query(spec: &ParamSpec, query: &Query<'_>) -> Option<Value> {
    match (spec.style(), &spec.shape) {
        (Style::DeepObject, _) => {
            let prefix = format!("{}[", spec.name);
            let pairs: Vec<(String, String)> = query
                .pairs
                .iter()
                .filter_map(|(n, v)| {
                    let key = n.strip_prefix(prefix.as_str())?.strip_suffix(']')?;
                    Some((key.to_owned(), lossy_decode(v)))
                })
                .collect();
            object_of_pairs(spec, &pairs)
        }
        (Style::Form, Shape::Object { properties, .. }) if spec.explode() => {
            // Exploded form objects spread their properties over the top-level names.
            let pairs: Vec<(String, String)> = query
                .pairs
                .iter()
                .filter(|(n, _)| properties.iter().any(|(p, _)| p == n))
                .map(|(n, v)| (n.clone(), lossy_decode(v)))
                .collect();
            object_of_pairs(spec, &pairs)
        }
        (style, shape) => {
            let values: Vec<&str> = query.values(&spec.name).collect();
            let first = *values.first()?;
            Some(match (style, shape) {
                (Style::Form, Shape::Array { items }) if spec.explode() => Value::Array(
                    values
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| coerce(&lossy_decode(v), *items))
                        .collect(),
                ),
                (Style::SpaceDelimited, _) => delimited(spec, first, " "),
                (Style::PipeDelimited, _) => delimited(spec, first, "|"),
                _ => delimited(spec, first, ","),
            })
        }
    }
}

/// Splits a raw (encoded) value on `sep` before decoding, so encoded delimiters inside
/// items survive; spaces may be sent as `%20` or `+`.
fn delimited(spec: &ParamSpec, raw: &str, sep: &str) -> Value {
    let raw_items: Vec<String> = match sep {
        " " => raw
            .split(['+', ' '])
            .flat_map(|p| split_encoded(p, "%20"))
            .collect(),
        "|" => raw
            .split('|')
            .flat_map(|p| split_encoded(p, "%7C"))
            .collect(),
        _ => raw.split(',').map(str::to_owned).collect(),
    };
    match &spec.shape {
        Shape::Scalar { scalar } => coerce(&lossy_decode(raw), *scalar),
        Shape::Array { items } => Value::Array(if raw.is_empty() {
            Vec::new()
        } else {
            raw_items
                .iter()
                .map(|v| coerce(&lossy_decode(v), *items))
                .collect()
        }),
        Shape::Object { .. } => {
            let decoded: Vec<String> = raw_items.iter().map(|v| lossy_decode(v)).collect();
            object(spec, pairs_of(decoded.iter().map(String::as_str)))
        }
    }
}

fn split_encoded(part: &str, encoded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = part;
    loop {
        let lower = rest.to_ascii_uppercase();
        match lower.find(encoded) {
            Some(i) => {
                out.push(rest.get(..i).unwrap_or_default().to_owned());
                rest = rest.get(i + encoded.len()..).unwrap_or_default();
            }
            None => {
                out.push(rest.to_owned());
                return out;
            }
        }
    }
}

/// `k,v,k,v` → pairs.
fn pairs_of<'a>(
    mut items: impl Iterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    std::iter::from_fn(move || {
        let k = items.next()?;
        Some((k, items.next().unwrap_or("")))
    })
}

/// The object parameter made of decoded `pairs`; `None` (absent) when there are none.
fn object_of_pairs(spec: &ParamSpec, pairs: &[(String, String)]) -> Option<Value> {
    if pairs.is_empty() {
        return None;
    }
    Some(object(
        spec,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

fn object<'a>(spec: &ParamSpec, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    let (properties, additional) = match &spec.shape {
        Shape::Object {
            properties,
            additional,
        } => (properties.as_slice(), *additional),
        _ => (&[][..], Scalar::String),
    };
    let mut map = Map::new();
    for (key, value) in pairs {
        let scalar = properties
            .iter()
            .find(|(p, _)| p == key)
            .map_or(additional, |(_, s)| *s);
        map.insert(key.to_owned(), coerce(value, scalar));
    }
    Value::Object(map)
}

/// Coerces a decoded string; what does not parse stays a string for the validator.
#[must_use]
pub fn coerce(text: &str, scalar: Scalar) -> Value {
    let as_integer = || {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| text.parse::<u64>().map(Value::from).ok())
            // Integers beyond 64 bits are still integers; keep their magnitude.
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
    };
    let as_number = || {
        // JSON number grammar only: no `inf`, `NaN`, `0x..`, leading `+` or `.5`.
        serde_json::from_str::<Number>(text).ok().map(Value::Number)
    };
    let as_bool = || match text {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    };
    let coerced = match scalar {
        Scalar::String => None,
        Scalar::Integer => as_integer(),
        Scalar::Number => as_number(),
        Scalar::Boolean => as_bool(),
        Scalar::Any => as_integer().or_else(as_number).or_else(as_bool),
    };
    coerced.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
#[must_use]
pub fn form_decode(raw: &str) -> Option<String> {
    let spaced;
    let raw = if raw.contains('+') {
        spaced = raw.replace('+', " ");
        spaced.as_str()
    } else {
        raw
    };
    percent_decode(raw)
}

fn percent_decode(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_owned());
    }
    String::from_utf8(crate::percent::decode(raw)?).ok()
}

/// Values that do not decode are validated as they came (the schema then judges them).
fn lossy_decode(raw: &str) -> String {
    form_decode(raw).unwrap_or_else(|| raw.to_owned())
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
