//! The sample batch contract, version 1 (`docs/learning.md`): what the filter posts to the
//! collector. Both sides use these types, so the filter cannot send what the collector
//! does not read. Nothing here carries a value from the traffic: only types, formats,
//! length classes and enum candidates the filter reduced locally.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The only batch version this build sends and reads.
pub const BATCH_VERSION: u32 = 1;

/// One POST to the collector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Batch {
    /// Must be [`BATCH_VERSION`].
    pub version: u32,
    /// Samples this VM dropped (queue full, collector down) since its previous batch.
    #[serde(default)]
    pub dropped: u64,
    pub samples: Vec<Sample>,
}

/// One sampled exchange, reduced to its shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Sample {
    /// The API's configured name (`namespace/name`).
    pub api: String,
    pub method: String,
    /// Host the client addressed (port removed, lower case).
    #[serde(default)]
    pub host: String,
    /// The matched operation; `None` for a route the API does not document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Matched: the documented template (base path included). Unmatched: the request path
    /// with every segment that may carry a value replaced by its class (`{int}`, `{uuid}`,
    /// ...); see [`super::shape::reduce_path`].
    pub path: String,
    /// Shapes of the path parameters of a matched template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub path_params: BTreeMap<String, Shape>,
    /// Query parameter names with the shapes of their values (repeated names: an array).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Shape>,
    /// Request header names (lower case), minus the deny-list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Authorization scheme seen (`bearer`, `basic`, ...), never the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Body>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Body>,
}

/// A body: its media type and, for JSON, its shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Body {
    /// Media type, lower case, parameters removed (`application/json`).
    pub content_type: String,
    /// Shape of a JSON body; `None` when not JSON, too large, or malformed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// Why there is no shape for a JSON body: `size` (over the limit) or `malformed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
    /// Not looked at (depth limit).
    Any,
}

/// String formats the filter recognizes (OpenAPI / JSON Schema names where one exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Format {
    #[serde(rename = "uuid")]
    Uuid,
    #[serde(rename = "date-time")]
    DateTime,
    #[serde(rename = "date")]
    Date,
    #[serde(rename = "time")]
    Time,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "uri")]
    Uri,
    #[serde(rename = "ipv4")]
    Ipv4,
    #[serde(rename = "ipv6")]
    Ipv6,
    /// Base64 (OpenAPI `byte`).
    #[serde(rename = "byte")]
    Byte,
    /// A hex digest or token (16+ hex digits).
    #[serde(rename = "hex")]
    Hex,
    /// Decimal digits in a string (`"42"`): query and path values, string-typed ids.
    #[serde(rename = "integer")]
    Integer,
    /// A decimal number in a string.
    #[serde(rename = "number")]
    Number,
    /// `true` / `false` in a string.
    #[serde(rename = "boolean")]
    Boolean,
}

/// Length class of a string or array: `0`, `1` (1), `s` (2–16), `m` (17–64), `l` (65–256),
/// `x` (more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Len {
    #[serde(rename = "0")]
    Empty,
    #[serde(rename = "1")]
    One,
    #[serde(rename = "s")]
    Short,
    #[serde(rename = "m")]
    Medium,
    #[serde(rename = "l")]
    Long,
    #[serde(rename = "x")]
    Huge,
}

impl Len {
    #[must_use]
    pub fn of(n: usize) -> Len {
        match n {
            0 => Len::Empty,
            1 => Len::One,
            2..=16 => Len::Short,
            17..=64 => Len::Medium,
            65..=256 => Len::Long,
            _ => Len::Huge,
        }
    }
}

/// The shape of one JSON value (or of a parameter value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Strings: length class of the value; arrays: of the element count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<Len>,
    /// A short, word-like string seen repeatedly at this place in this VM, matching no
    /// sensitive pattern: evidence for an enum. The only text from a value that is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// Arrays: the distinct shapes of the elements looked at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Shape>,
    /// Objects: property name → shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, Shape>>,
    /// Objects whose keys look like values (ids, emails, ...): a map; the merged shape of
    /// its values. The keys are not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<Box<Shape>>,
    /// Some of the value was not looked at (property, element or depth limit).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Shape {
    #[must_use]
    pub fn of_kind(kind: Kind) -> Shape {
        Shape {
            kind,
            format: None,
            len: None,
            candidate: None,
            items: Vec::new(),
            properties: None,
            map: None,
            truncated: false,
        }
    }
}
