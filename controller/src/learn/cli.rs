//! `gatehouse infer`, `diff`, `merge` and `adopt`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::set;
use anyhow::Context;
use serde_json::Value;

use super::{diff, emit, har, read_document, read_jsonl, render, Model};
use crate::envoy::write_atomic;

fn output(bytes: &[u8], out: &Path) -> anyhow::Result<()> {
    if out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(bytes)?;
        Ok(())
    } else {
        write_atomic(out, bytes).with_context(|| format!("cannot write {}", out.display()))
    }
}

/// `gatehouse infer`: samples (JSON Lines of batches or samples) or a HAR file → OpenAPI.
/// With several APIs in the input, `api` picks one (default: the one with most samples).
pub fn infer(
    samples: Option<&Path>,
    har_file: Option<&Path>,
    api: Option<&str>,
    out: &Path,
) -> anyhow::Result<()> {
    let all = match (samples, har_file) {
        (Some(p), None) => read_jsonl(p)?,
        (None, Some(p)) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let doc: Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", p.display()))?;
            har::samples(&doc)?
        }
        _ => anyhow::bail!("give exactly one of --samples FILE.jsonl or --har FILE.har"),
    };
    let mut model = Model::new();
    for s in &all {
        model.add(s);
    }
    let name = match api {
        Some(a) => a.to_owned(),
        None => model
            .apis
            .iter()
            .max_by_key(|(_, m)| m.samples)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| anyhow::anyhow!("no samples in the input"))?,
    };
    let m = model.apis.get(&name).ok_or_else(|| {
        anyhow::anyhow!(
            "no samples of API {name}; have: {:?}",
            model.apis.keys().collect::<Vec<_>>()
        )
    })?;
    let doc = emit::document(&name, m);
    output(&render(&doc, out)?, out)?;
    tracing::info!(api = %name, samples = m.samples, "learned document written");
    Ok(())
}

fn base_path(authored: &Value, explicit: Option<&str>) -> String {
    explicit
        .map(str::to_owned)
        .unwrap_or_else(|| crate::openapi::server_base_path(authored).unwrap_or_default())
        .trim_end_matches('/')
        .to_owned()
}

/// `gatehouse diff`: prints the drift; exit status 1 when there is any.
pub fn diff_command(
    authored: &Path,
    learned: &Path,
    base: Option<&str>,
    json: bool,
) -> anyhow::Result<bool> {
    let a = read_document(authored)?;
    let l = read_document(learned)?;
    let drift = diff::diff(&a, &l, &base_path(&a, base));
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &drift)?;
        writeln!(stdout)?;
    } else {
        for d in &drift {
            writeln!(stdout, "{d}")?;
        }
        writeln!(stdout, "{} difference(s)", drift.len())?;
    }
    Ok(drift.is_empty())
}

/// `gatehouse merge`: authored + learned additions; conflicts listed on stderr and in
/// `x-gatehouse-drift`.
pub fn merge_command(
    authored: &Path,
    learned: &Path,
    base: Option<&str>,
    out: &Path,
) -> anyhow::Result<()> {
    let a = read_document(authored)?;
    let l = read_document(learned)?;
    let (mut merged, conflicts) = diff::merge(&a, &l, &base_path(&a, base));
    for c in &conflicts {
        eprintln!("conflict (kept as authored): {c}");
    }
    if !conflicts.is_empty() {
        set(
            &mut merged,
            "x-gatehouse-drift",
            serde_json::to_value(&conflicts)?,
        );
    }
    output(&render(&merged, out)?, out)
}

/// `gatehouse adopt`: writes the merged document into the `ApiSchema` resource `name`
/// (`namespace/name`, or `name` in `default`) found in DIR, learning from a running
/// collector (or a learned document file).
pub fn adopt(
    dir: &Path,
    name: &str,
    collector: Option<&str>,
    learned: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let qualified = if name.contains('/') {
        name.to_owned()
    } else {
        format!("default/{name}")
    };
    let loaded = crate::load::load_paths(&[dir.to_path_buf()]);
    let resource = loaded
        .resources
        .iter()
        .find(|r| r.schema.metadata.qualified_name() == qualified)
        .ok_or_else(|| anyhow::anyhow!("no ApiSchema {qualified} in {}", dir.display()))?;
    let learned_doc = match (collector, learned) {
        (_, Some(p)) => read_document(p)?,
        (Some(url), None) => super::collector::fetch(url, &qualified)?,
        (None, None) => anyhow::bail!("give --collector URL or --learned FILE"),
    };
    let base = super::collector::base_path_of(resource);
    let (mut merged, conflicts) = diff::merge(&resource.schema.spec.openapi, &learned_doc, &base);
    for c in &conflicts {
        eprintln!("conflict (kept as authored): {c}");
    }
    if let Some(o) = merged.as_object_mut() {
        o.remove("x-gatehouse-drift");
    }
    // Rewrite the one YAML document that holds the resource, leaving the others as they are.
    let text = std::fs::read_to_string(&resource.file)?;
    let mut docs: Vec<Value> = Vec::new();
    for d in serde_yaml_ng::Deserializer::from_str(&text) {
        docs.push(serde::Deserialize::deserialize(d)?);
    }
    let target = docs.get_mut(resource.document).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: document {} vanished",
            resource.file.display(),
            resource.document
        )
    })?;
    let spec = target
        .get_mut("spec")
        .ok_or_else(|| anyhow::anyhow!("{}: resource without spec", resource.file.display()))?;
    set(spec, "openapi", merged);
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_yaml_ng::to_string(d)?);
    }
    write_atomic(&resource.file, out.as_bytes())?;
    Ok(resource.file.clone())
}
