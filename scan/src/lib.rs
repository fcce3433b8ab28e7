//! `gatehouse scan`: an OpenAPI 3.1 document from the route declarations of a project, read
//! by convention with real parsers (tree-sitter for Python and JavaScript/TypeScript, `syn`
//! for Rust). Nothing is executed. What cannot be read statically is left out of the
//! document and named in the [`Report`], never guessed.
//!
//! Frameworks: FastAPI and Flask ([`python`]), Express ([`express`]), axum and actix-web
//! ([`rust`]). Each produces [`Route`]s; [`document`] applies the `gatehouse:` comments
//! ([`annotate`]) and assembles the document.

pub mod annotate;
pub mod document;
pub mod express;
pub mod files;
pub mod python;
pub mod report;
pub mod rust;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

pub use report::{Gap, Report};

/// Which convention to read. `Auto` reads every framework the project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Framework {
    Auto,
    Fastapi,
    Flask,
    Express,
    Axum,
    Actix,
}

impl Framework {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Framework::Auto => "auto",
            Framework::Fastapi => "fastapi",
            Framework::Flask => "flask",
            Framework::Express => "express",
            Framework::Axum => "axum",
            Framework::Actix => "actix",
        }
    }

    fn wants(self, other: Framework) -> bool {
        self == Framework::Auto || self == other
    }
}

/// Where a declaration is: the file relative to the scanned directory, and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One operation as a framework declares it.
#[derive(Debug, Clone)]
pub struct Route {
    pub framework: Framework,
    /// Lower-case HTTP method.
    pub method: String,
    /// OpenAPI path template (`/items/{id}`).
    pub path: String,
    /// The operation object: operationId, parameters, requestBody, responses, ...
    pub operation: Map<String, Value>,
    /// The declaration; `gatehouse:` comments are looked up right above `comment_line`.
    pub loc: Loc,
    /// 0-based line above which the comment block is read.
    pub comment_line: usize,
    /// A second place a comment block may stand when the first has none: an actix handler's
    /// `.service(h)` registration (the first being its route attribute).
    pub alt_comment_line: Option<usize>,
    /// The file of `alt_comment_line` when it is not `loc.file`.
    pub alt_file: Option<String>,
    /// The comment syntax of the file (`#` or `//`).
    pub comment_prefix: &'static str,
}

/// What a framework scanner returns.
#[derive(Debug, Default)]
pub struct Found {
    pub routes: Vec<Route>,
    pub schemas: BTreeMap<String, Value>,
    pub gaps: Vec<Gap>,
    /// `info` fields the application declares (FastAPI `title`/`version`/`description`).
    pub info: Map<String, Value>,
    pub frameworks: Vec<Framework>,
}

/// The result of a scan.
#[derive(Debug)]
pub struct Scan {
    pub openapi: Value,
    pub report: Report,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}: not a directory")]
    NotADirectory(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no routes of {framework} found under {dir}")]
    Nothing { framework: String, dir: String },
}

/// Scans `dir` for the routes of `framework`.
pub fn scan_dir(dir: &Path, framework: Framework) -> Result<Scan, ScanError> {
    if !dir.is_dir() {
        return Err(ScanError::NotADirectory(dir.display().to_string()));
    }
    let sources = files::collect(dir)?;
    let mut found = Found::default();
    found.gaps.extend(sources.skipped.iter().cloned());
    if framework.wants(Framework::Fastapi) || framework.wants(Framework::Flask) {
        python::scan(&sources, framework, &mut found);
    }
    if framework.wants(Framework::Express) {
        express::scan(&sources, &mut found);
    }
    if framework.wants(Framework::Axum) || framework.wants(Framework::Actix) {
        rust::scan(&sources, framework, &mut found);
    }
    if found.routes.is_empty() && framework != Framework::Auto {
        return Err(ScanError::Nothing {
            framework: framework.name().to_string(),
            dir: dir.display().to_string(),
        });
    }
    let default_title = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "api".to_string());
    Ok(document::assemble(found, &sources, &default_title))
}

/// The document as YAML.
pub fn to_yaml(value: &Value) -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(value)
}
