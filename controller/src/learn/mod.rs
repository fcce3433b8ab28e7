//! Learned OpenAPI (`docs/learning.md`): sample shapes merged into a model
//! ([`model`]), templated and written out as OpenAPI 3.1 ([`paths`], [`emit`]), compared
//! with and merged into the authored document ([`diff`]); the collector serving it all
//! over HTTP ([`collector`]); HAR files as another source of samples ([`har`]).

pub mod cli;
pub mod collector;
pub mod diff;
pub mod emit;
pub mod har;
pub mod model;
pub mod paths;

use std::io::BufRead;
use std::path::Path;

use gatehouse_filter::sampling::contract::{Batch, Sample, BATCH_VERSION};
use serde::Serialize;
use serde_json::Value;

pub use model::Model;

/// What an API's status shows about learning (the operator writes it to the `ApiSchema`
/// status; issue 7). See [`summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Operations in the learned document (after path templating).
    pub operations_learned: u64,
    /// Samples merged.
    pub samples: u64,
    /// Learned operations the authored document does not have.
    pub undocumented_operations: u64,
    /// Every other difference: undocumented parameters, statuses and properties, and
    /// conflicts (type, required).
    pub drift: u64,
}

/// The status summary of one API: `authored` is its OpenAPI document and `base_path` the
/// base path it is served under (`ApiSchema.spec.basePath` or the first server's path).
#[must_use]
pub fn summary(model: &Model, api: &str, authored: Option<&Value>, base_path: &str) -> Summary {
    let Some(m) = model.apis.get(api) else {
        return Summary::default();
    };
    let learned = emit::document(api, m);
    let operations_learned = learned
        .get("paths")
        .and_then(Value::as_object)
        .map_or(0, |p| {
            p.values()
                .filter_map(Value::as_object)
                .map(|i| i.len() as u64)
                .sum()
        });
    let drift = authored
        .map(|a| diff::diff(a, &learned, base_path))
        .unwrap_or_default();
    let undocumented = drift
        .iter()
        .filter(|d| d.kind == "undocumented-operation")
        .count() as u64;
    Summary {
        operations_learned,
        samples: m.samples,
        undocumented_operations: undocumented,
        drift: drift.len() as u64 - undocumented,
    }
}

/// Sets `key` on a JSON object, a no-op on anything else: `v["k"] = x` without the panic
/// `IndexMut` has for non-objects.
pub(crate) fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
}

/// Why a batch was refused.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("not a sample batch: {0}")]
    Json(#[from] serde_json::Error),
    #[error("batch version {0} is not supported (this collector reads version {BATCH_VERSION})")]
    Version(u32),
}

/// Parses and checks one posted batch.
pub fn parse_batch(bytes: &[u8]) -> Result<Batch, BatchError> {
    let batch: Batch = serde_json::from_slice(bytes)?;
    if batch.version != BATCH_VERSION {
        return Err(BatchError::Version(batch.version));
    }
    Ok(batch)
}

/// Merges a batch into the model.
pub fn add_batch(model: &mut Model, batch: &Batch) {
    model.dropped += batch.dropped;
    for s in &batch.samples {
        model.add(s);
    }
}

/// Reads samples from a JSON Lines file: each line a batch or a single sample.
pub fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Sample>> {
    let file = std::fs::File::open(path)?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        if value.get("samples").is_some() {
            let batch: Batch = serde_json::from_value(value)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
            out.extend(batch.samples);
        } else {
            out.push(
                serde_json::from_value(value)
                    .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?,
            );
        }
    }
    Ok(out)
}

/// Writes a document as YAML or JSON, by the file's extension (`.json` → JSON).
pub fn render(doc: &Value, path: &Path) -> anyhow::Result<Vec<u8>> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    Ok(if json {
        let mut v = serde_json::to_vec_pretty(doc)?;
        v.push(b'\n');
        v
    } else {
        serde_yaml_ng::to_string(doc)?.into_bytes()
    })
}

/// Reads an OpenAPI document (YAML or JSON), or an `ApiSchema` resource holding one
/// (`spec.openapi`).
pub fn read_document(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)?;
    let doc: Value =
        serde_yaml_ng::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if doc.get("kind").and_then(Value::as_str) == Some("ApiSchema") {
        if let Some(openapi) = doc.pointer("/spec/openapi") {
            return Ok(openapi.clone());
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests;
