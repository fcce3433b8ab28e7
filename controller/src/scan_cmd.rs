//! `gatehouse scan`: the command around the `gatehouse-scan` crate (docs/import-and-scan.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use gatehouse_controller::envoy::write_atomic;
use gatehouse_controller::import::{self, ImportOptions};
use gatehouse_scan::Framework;

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
    /// Write an ApiSchema resource (as `gatehouse import` does: auth policies from the
    /// scanned `security`, a ConfigMap when large) instead of the bare document.
    #[arg(long)]
    pub apischema: bool,
    /// metadata.name of the ApiSchema (default: from info.title).
    #[arg(long, requires = "apischema")]
    pub name: Option<String>,
    /// metadata.namespace of every resource written (default: `default`).
    #[arg(long, requires = "apischema")]
    pub namespace: Option<String>,
    /// A host the API is served on (spec.hosts). Repeatable (default: `*`, with a warning).
    #[arg(long = "host", value_name = "HOST", requires = "apischema")]
    pub hosts: Vec<String>,
    /// spec.basePath, when the service is mounted under a prefix.
    #[arg(long, requires = "apischema")]
    pub base_path: Option<String>,
    /// Check a security scheme's credentials (scan names it `bearerAuth` unless a comment
    /// says `scheme=`) as JWTs of this IdentityProvider (SCHEME=NAME or
    /// SCHEME=NAMESPACE/NAME); repeatable. Default: an IdentityProvider named after the
    /// scheme (`bearerauth`) in the namespace.
    #[arg(long = "provider-map", value_name = "SCHEME=PROVIDER", value_parser = parse_mapping, requires = "apischema")]
    pub provider_map: Vec<(String, String)>,
    /// Documents larger than this (bytes of compact JSON) go to a ConfigMap.
    #[arg(long, value_name = "BYTES", default_value_t = import::DEFAULT_CONFIGMAP_THRESHOLD)]
    pub configmap_threshold: usize,
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

/// The import options a scan's `--apischema` flags amount to: the scanned document goes
/// through the same `import::to_apischema` as an imported file, so its `security` (from
/// `# gatehouse: scopes=...` comments) becomes `spec.policies` auth and large documents go
/// to a ConfigMap.
pub fn import_options(args: &ScanArgs) -> ImportOptions {
    ImportOptions {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        hosts: args.hosts.clone(),
        base_path: args.base_path.clone(),
        provider_map: args.provider_map.iter().cloned().collect(),
        configmap_threshold: args.configmap_threshold,
        ..ImportOptions::default()
    }
}

/// `SCHEME=PROVIDER`, as `gatehouse import --provider-map` takes it.
fn parse_mapping(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((scheme, provider)) if !scheme.is_empty() && !provider.is_empty() => {
            Ok((scheme.to_owned(), provider.to_owned()))
        }
        _ => Err(format!("`{s}`: expected SCHEME=PROVIDER")),
    }
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
    let yaml = if args.apischema {
        let imported = match import::to_apischema(scan.openapi, &import_options(args)) {
            Ok(imported) => imported,
            Err(e) => {
                for d in &e.0 {
                    writeln!(stderr, "error: {d}")?;
                }
                writeln!(stderr, "{} error(s); nothing written", e.0.len())?;
                return Ok(ExitCode::FAILURE);
            }
        };
        for w in &imported.warnings {
            writeln!(stderr, "warning: {w}")?;
        }
        for p in &imported.referenced_providers {
            writeln!(stderr, "note: auth policies name IdentityProvider {p}")?;
        }
        if imported.config_map.is_some() {
            writeln!(stderr, "note: the document is large; it is in a ConfigMap")?;
        }
        imported.to_yaml()?
    } else {
        gatehouse_scan::to_yaml(&scan.openapi)?
    };
    if args.output.as_os_str() == "-" {
        std::io::stdout().lock().write_all(yaml.as_bytes())?;
    } else {
        write_atomic(&args.output, yaml.as_bytes())
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
