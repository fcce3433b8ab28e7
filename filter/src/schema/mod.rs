//! JSON Schema, compiled ahead of time and checked cheaply (`docs/validation.md`).
//!
//! The controller [`compile`]s JSON Schema documents (the body schemas of an OpenAPI
//! document) into a [`Program`]: an arena of nodes addressed by [`NodeId`], with every
//! `$ref` resolved to an index (recursive schemas become cycles of indices), patterns
//! translated from ECMA-262 to the regex engine's syntax and keywords lowered to what the
//! validator checks directly. The program is plain data: it serializes compactly into the
//! filter configuration and deserializes in `on_configure` (patterns are compiled there,
//! once). The filter never sees raw JSON Schema.
//!
//! [`validate`] runs on the request path. It never panics, never recurses without a depth
//! limit, stops after [`Limits::max_errors`] violations and after [`Limits::max_steps`]
//! evaluated nodes, and allocates nothing when the instance is valid (except for the few
//! keywords that need scratch space: `uniqueItems` on long arrays, `propertyNames`,
//! `unevaluated*`, `$dynamicRef`).

mod anchored;
mod compile;
#[cfg(test)]
mod differential_tests;
mod doc;
mod ecma;
mod format;
mod json;
mod program;
mod uri;
mod validate;
#[cfg(test)]
mod validate_value;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use compile::{compile, Compiler, DEFAULT_BASE_URI};
pub use doc::{Doc, NotParsed};
pub use program::{NodeId, Program};
pub use uri::percent_decode;
pub use validate::{is_valid, validate, validate_doc};

/// The JSON Schema dialect a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Dialect {
    /// JSON Schema 2020-12, the dialect of OpenAPI 3.1 (which adds `discriminator`).
    #[default]
    Draft2020_12,
    /// JSON Schema draft 4.
    Draft4,
    /// The OpenAPI 3.0 Schema Object: draft 4 plus `nullable`, `discriminator`,
    /// `readOnly`/`writeOnly` and the OpenAPI formats.
    OpenApi30,
}

/// Which way the validated message travels; decides what `readOnly` and `writeOnly` mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Direction {
    /// Plain JSON Schema: `readOnly` and `writeOnly` are annotations.
    #[default]
    Neither,
    /// A request body: properties whose schema is `readOnly: true` must be absent and are
    /// dropped from `required`.
    Request,
    /// A response body: the same for `writeOnly: true`.
    Response,
}

/// How a schema is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub dialect: Dialect,
    pub direction: Direction,
    /// Assert `format` (the formats listed in `docs/validation.md`; unknown formats are
    /// ignored). When false, `format` is an annotation as JSON Schema 2020-12 specifies.
    pub assert_formats: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dialect: Dialect::Draft2020_12,
            direction: Direction::Neither,
            assert_formats: true,
        }
    }
}

impl Options {
    /// Default options for a dialect.
    #[must_use]
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            ..Self::default()
        }
    }
}

/// A schema the compiler refuses, located by a JSON pointer into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// URI of the document the error is in (without fragment).
    pub document: String,
    /// JSON pointer into that document.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.document, self.pointer, self.message)
    }
}

impl std::error::Error for CompileError {}

/// Bounds on the work of one [`validate`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// Maximum nesting of schema evaluation (each subschema entered counts one level;
    /// an instance nested N levels deep needs at least N).
    pub max_depth: u32,
    /// Violations collected before validation stops.
    pub max_errors: u32,
    /// Schema nodes evaluated (plus comparisons made by `uniqueItems`) before validation
    /// stops. Guards against pathological schemas and instances.
    pub max_steps: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 128,
            max_errors: 20,
            max_steps: 200_000,
        }
    }
}

/// One reason an instance is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer into the instance (`""` for the whole instance).
    pub pointer: String,
    /// The schema keyword that failed (`type`, `required`, ...); `limit` when validation
    /// was cut short by [`Limits`].
    pub keyword: &'static str,
    /// Human-readable reason. Never contains more than a short excerpt of the instance.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {} ({})", self.message, self.keyword)
    }
}
