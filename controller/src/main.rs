//! `gatehouse`: the controller's command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use gatehouse_controller::compile_paths;
use gatehouse_controller::envoy::write_atomic;
use gatehouse_controller::local::{self, EcdsOptions, LocalOptions, Message};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse API gateway controller"
)]
struct Cli {
    /// Log line format (logs go to stderr; the level comes from RUST_LOG, default `info`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Readable lines; coloured when stderr is a terminal.
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile ApiSchema resources into the filter configuration (JSON).
    Compile {
        /// A YAML file, or a directory whose *.yaml / *.yml files are read. Repeatable.
        #[arg(
            short = 'f',
            long = "filename",
            value_name = "DIR_OR_FILE",
            required = true
        )]
        paths: Vec<PathBuf>,
        /// Where to write the configuration; `-` for stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
        output: PathBuf,
    },
    /// Keep the filter configuration in step with the resources.
    Run {
        /// Read resources from the YAML files in DIR and watch it, instead of Kubernetes.
        #[arg(long = "local", value_name = "DIR", required = true)]
        local: PathBuf,
        /// Where to write the filter configuration (JSON).
        #[arg(long, value_name = "FILE")]
        config_out: PathBuf,
        /// Also write an Envoy ECDS document (for `config_discovery` with a
        /// `path_config_source`) carrying the configuration.
        #[arg(long, value_name = "FILE", requires = "wasm")]
        ecds_out: Option<PathBuf>,
        /// The filter's .wasm file, named in the ECDS document.
        #[arg(long, value_name = "PATH", requires = "ecds_out")]
        wasm: Option<PathBuf>,
        /// The HTTP filter name Envoy's `config_discovery` entry uses.
        #[arg(long, value_name = "NAME", default_value = "gatehouse")]
        filter_name: String,
    },
    /// Turn an OpenAPI 3.0/3.1 or Swagger 2.0 file into an ApiSchema resource (YAML).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The OpenAPI or Swagger file (JSON or YAML); `$ref`s to other local files are bundled.
    file: PathBuf,
    /// metadata.name (default: from info.title, else the file name).
    #[arg(long)]
    name: Option<String>,
    /// metadata.namespace of every resource written.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// spec.hosts entry; repeatable (default: the hosts of the server URLs, else `*`).
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// spec.basePath (default: the path of the first server URL, at compile time).
    #[arg(long)]
    base_path: Option<String>,
    /// spec.strict: unknown routes answer 404.
    #[arg(long)]
    strict: bool,
    /// spec.policies.defaults.validation.mode.
    #[arg(long, value_enum)]
    validation: Option<ValidationArg>,
    /// Check a security scheme's credentials as JWTs of this IdentityProvider
    /// (SCHEME=NAME or SCHEME=NAMESPACE/NAME); repeatable.
    #[arg(long = "provider-map", value_name = "SCHEME=PROVIDER", value_parser = parse_mapping)]
    provider_map: Vec<(String, String)>,
    /// Documents larger than this (bytes of compact JSON) go to a ConfigMap.
    #[arg(long, value_name = "BYTES", default_value_t = gatehouse_controller::import::DEFAULT_CONFIGMAP_THRESHOLD)]
    configmap_threshold: usize,
    /// Where to write the YAML; `-` for stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
    output: PathBuf,
    /// Print every warning instead of the first few of each kind.
    #[arg(long)]
    all_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValidationArg {
    Enforce,
    Report,
    Off,
}

fn parse_mapping(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((scheme, provider)) if !scheme.is_empty() && !provider.is_empty() => {
            Ok((scheme.to_owned(), provider.to_owned()))
        }
        _ => Err(format!("`{s}`: expected SCHEME=PROVIDER")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Compile { paths, output } => compile_command(&paths, &output),
        Command::Import(args) => import_command(&args),
        Command::Run {
            local,
            config_out,
            ecds_out,
            wasm,
            filter_name,
        } => {
            let ecds = ecds_out.zip(wasm).map(|(out, wasm)| EcdsOptions {
                out,
                wasm,
                filter_name,
            });
            run_local(LocalOptions {
                dir: local,
                config_out,
                ecds,
                debounce: Duration::from_millis(200),
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn compile_command(paths: &[PathBuf], output: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = match compile_paths(paths) {
        Ok(config) => config,
        Err(errors) => {
            // Plain lines rather than log records: this is the command's answer.
            let mut stderr = std::io::stderr().lock();
            for e in &errors {
                writeln!(stderr, "error: {e}")?;
            }
            writeln!(stderr, "{} error(s); nothing written", errors.len())?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut bytes = serde_json::to_vec_pretty(&config)?;
    bytes.push(b'\n');
    if output.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&bytes)?;
    } else {
        write_atomic(output, &bytes)
            .with_context(|| format!("cannot write {}", output.display()))?;
        tracing::info!(apis = config.apis.len(), output = %output.display(), "configuration written");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_local(options: LocalOptions) -> anyhow::Result<ExitCode> {
    if !options.dir.is_dir() {
        anyhow::bail!("--local {}: not a directory", options.dir.display());
    }
    if let Some(ecds) = &options.ecds {
        if !ecds.wasm.is_file() {
            // Not fatal: the module may be built after the controller starts.
            tracing::warn!(wasm = %ecds.wasm.display(), "the .wasm file does not exist (yet)");
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = tx.clone();
    ctrlc::set_handler(move || {
        let _ = stop.send(Message::Stop);
    })
    .context("cannot install the signal handler")?;
    local::watch(options, tx, &rx)?;
    Ok(ExitCode::SUCCESS)
}

fn import_command(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    use gatehouse_controller::import::{self, ImportOptions, ValidationMode};
    let options = ImportOptions {
        name: args.name.clone(),
        namespace: Some(args.namespace.clone()),
        hosts: args.hosts.clone(),
        base_path: args.base_path.clone(),
        strict: args.strict,
        validation: args.validation.map(|v| match v {
            ValidationArg::Enforce => ValidationMode::Enforce,
            ValidationArg::Report => ValidationMode::Report,
            ValidationArg::Off => ValidationMode::Off,
        }),
        provider_map: args.provider_map.iter().cloned().collect(),
        configmap_threshold: args.configmap_threshold,
    };
    let started = std::time::Instant::now();
    let imported = match import::import_file(&args.file, &options) {
        Ok(imported) => imported,
        Err(e) => {
            let mut stderr = std::io::stderr().lock();
            for d in &e.0 {
                writeln!(stderr, "error: {d}")?;
            }
            writeln!(stderr, "{} error(s); nothing written", e.0.len())?;
            return Ok(ExitCode::FAILURE);
        }
    };
    let yaml = imported.to_yaml()?;
    if args.output.as_os_str() == "-" {
        std::io::stdout().lock().write_all(yaml.as_bytes())?;
    } else {
        write_atomic(&args.output, yaml.as_bytes())
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    let mut stderr = std::io::stderr().lock();
    // Plain lines: warnings are part of the command's answer. Large documents can have
    // thousands of one kind; the first few of each say enough.
    const SHOWN_PER_KIND: usize = 10;
    let mut per_kind: std::collections::BTreeMap<&str, usize> = Default::default();
    for w in &imported.warnings {
        let n = per_kind.entry(w.code).or_default();
        *n += 1;
        if args.all_warnings || *n <= SHOWN_PER_KIND {
            writeln!(stderr, "warning: {w}")?;
        }
    }
    for (code, n) in &per_kind {
        if !args.all_warnings && *n > SHOWN_PER_KIND {
            writeln!(
                stderr,
                "warning: ... {} more [{code}] (--all-warnings shows them)",
                n - SHOWN_PER_KIND
            )?;
        }
    }
    for p in &imported.referenced_providers {
        writeln!(stderr, "note: auth policies name IdentityProvider {p}")?;
    }
    let placement = match &imported.config_map {
        Some(_) => "document in a ConfigMap",
        None => "document inline",
    };
    writeln!(
        stderr,
        "imported {} ({}): {} operations, {} warnings, {placement}, {} ms",
        args.file.display(),
        imported.source_version,
        imported.operations,
        imported.warnings.len(),
        started.elapsed().as_millis()
    )?;
    Ok(ExitCode::SUCCESS)
}
