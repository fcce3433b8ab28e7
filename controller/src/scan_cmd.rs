//! `gatehouse scan`: the command around the `gatehouse-scan` crate (docs/import-and-scan.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use gatehouse_scan::Framework;
use serde_json::{json, Value};

use gatehouse_controller::envoy::write_atomic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrameworkArg {
    Auto,
    Fastapi,
    Flask,
    Express,
    Axum,
    Actix,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The project directory.
    pub dir: PathBuf,
    /// Which convention to read; `auto` reads every one the project uses.
    #[arg(long, value_enum, default_value_t = FrameworkArg::Auto)]
    pub framework: FrameworkArg,
    /// Where to write the document (YAML); `-` for stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
    pub output: PathBuf,
    /// Write an ApiSchema resource holding the document instead of the bare document.
    #[arg(long, requires_all = ["name", "hosts"])]
    pub apischema: bool,
    /// metadata.name of the ApiSchema.
    #[arg(long)]
    pub name: Option<String>,
    /// metadata.namespace of the ApiSchema (default: none, which means `default`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// A host the API is served on (spec.hosts). Repeatable.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Also write the report (what was found and what was left out) as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

fn framework(f: FrameworkArg) -> Framework {
    match f {
        FrameworkArg::Auto => Framework::Auto,
        FrameworkArg::Fastapi => Framework::Fastapi,
        FrameworkArg::Flask => Framework::Flask,
        FrameworkArg::Express => Framework::Express,
        FrameworkArg::Axum => Framework::Axum,
        FrameworkArg::Actix => Framework::Actix,
    }
}

/// An `ApiSchema` resource (docs/apischema.md) carrying `openapi` inline.
// The import command builds the same resource from a file; this is the one place the
// scan output becomes a resource, so both can share one builder later.
pub fn apischema_document(
    openapi: Value,
    name: &str,
    namespace: Option<&str>,
    hosts: &[String],
) -> Value {
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        metadata.insert("namespace".into(), json!(ns));
    }
    json!({
        "apiVersion": "gatehouse.dev/v1alpha1",
        "kind": "ApiSchema",
        "metadata": metadata,
        "spec": { "hosts": hosts, "openapi": openapi }
    })
}

pub fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let scan = gatehouse_scan::scan_dir(&args.dir, framework(args.framework))?;
    let r = &scan.report;
    let mut stderr = std::io::stderr().lock();
    for gap in &r.gaps {
        writeln!(stderr, "note: {gap}")?;
    }
    writeln!(
        stderr,
        "scanned {} files ({}): {} operations, {} parameters, {} request bodies, {} schemas; {} annotated by comments; {} item(s) left out",
        r.files,
        if r.frameworks.is_empty() { "no framework found".to_string() } else { r.frameworks.join(", ") },
        r.operations,
        r.parameters,
        r.request_bodies,
        r.schemas,
        r.annotated,
        r.gaps.len()
    )?;
    if let Some(path) = &args.report {
        let mut bytes = serde_json::to_vec_pretty(r)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let doc = if args.apischema {
        let name = args.name.as_deref().unwrap_or_default();
        apischema_document(scan.openapi, name, args.namespace.as_deref(), &args.hosts)
    } else {
        scan.openapi
    };
    let yaml = gatehouse_scan::to_yaml(&doc)?;
    if args.output.as_os_str() == "-" {
        std::io::stdout().lock().write_all(yaml.as_bytes())?;
    } else {
        write_atomic(&args.output, yaml.as_bytes())
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
