//! `gatehouse`: the controller's command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use gatehouse_controller::compile_paths;
use gatehouse_controller::envoy::write_atomic;
use gatehouse_controller::learn;
use gatehouse_controller::local::{self, EcdsOptions, LocalOptions, Message};

mod scan_cmd;

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
    /// Keep the filter configuration in step with the resources: from Kubernetes (the
    /// operator), or with --local from the YAML files of a directory.
    Run {
        /// Read resources from the YAML files in DIR and watch it, instead of Kubernetes.
        #[arg(long = "local", value_name = "DIR")]
        local: Option<PathBuf>,
        /// Where to write the filter configuration (JSON). Required with --local.
        #[arg(long, value_name = "FILE", requires = "local")]
        config_out: Option<PathBuf>,
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
        #[command(flatten)]
        collector: CollectorArgs,
        #[command(flatten)]
        operator: Box<OperatorArgs>,
    },
    /// Print the CustomResourceDefinitions (YAML) for `kubectl apply -f -`.
    Crds,
    /// OpenAPI from the route declarations of source code, by convention (no code is run).
    Scan(scan_cmd::ScanArgs),
    /// Response cache operations on a running proxy.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Turn an OpenAPI 3.0/3.1 or Swagger 2.0 file into an ApiSchema resource (YAML).
    Import(ImportArgs),
    /// Infer an OpenAPI 3.1 document from samples (JSON Lines) or a HAR file.
    Infer {
        #[arg(long, value_name = "FILE.jsonl", conflicts_with = "har")]
        samples: Option<PathBuf>,
        #[arg(long, value_name = "FILE.har")]
        har: Option<PathBuf>,
        /// The API to write when the input holds several (default: the most sampled).
        #[arg(long, value_name = "NAME")]
        api: Option<String>,
        /// `.json` for JSON, anything else YAML; `-` for stdout (YAML).
        #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
        output: PathBuf,
    },
    /// Compare an authored OpenAPI document (or ApiSchema) with a learned one; exit 1 on drift.
    Diff {
        authored: PathBuf,
        learned: PathBuf,
        /// Base path the authored document is served under (default: its first server's path).
        #[arg(long, value_name = "PATH")]
        base_path: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Authored document plus what was learned (marked `x-gatehouse-learned`); conflicts kept as authored.
    Merge {
        authored: PathBuf,
        learned: PathBuf,
        #[arg(long, value_name = "PATH")]
        base_path: Option<String>,
        #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
        output: PathBuf,
    },
    /// Write the merged document into the ApiSchema resource NAME in DIR (local mode).
    Adopt {
        /// `namespace/name`, or `name` in `default`.
        name: String,
        #[arg(long = "local", value_name = "DIR")]
        local: PathBuf,
        /// The collector to learn from, e.g. `http://127.0.0.1:9190`.
        #[arg(long, value_name = "URL", required_unless_present = "learned")]
        collector: Option<String>,
        /// A learned document instead of a collector.
        #[arg(long, value_name = "FILE")]
        learned: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CacheCommand {
    /// Remove stored responses through the filter's purge endpoint (docs/caching.md).
    Purge {
        /// `http://HOST:PORT/PATH` of the purge endpoint (`settings.cache.purge.path`).
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// File holding the purge token (`settings.cache.purge.token`); else
        /// `GATEHOUSE_PURGE_TOKEN`.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Only entries of this host.
        #[arg(long)]
        host: Option<String>,
        /// Every entry of exactly this path (all query strings, principals, variants).
        #[arg(long, required_unless_present_any = ["prefix", "operation"])]
        path: Option<String>,
        /// Every entry whose path is under this prefix.
        #[arg(long)]
        prefix: Option<String>,
        /// Every entry this operation (`<namespace>/<name>/<operationId>`) produced.
        #[arg(long)]
        operation: Option<String>,
    },
}

/// The collector served by `gatehouse run` (`docs/learning.md`).
#[derive(Debug, clap::Args)]
struct CollectorArgs {
    /// Serve the collector on this address (e.g. `127.0.0.1:9190`).
    #[arg(long, value_name = "ADDR")]
    collector_listen: Option<std::net::SocketAddr>,
    /// Envoy cluster (or `host:port`) the filters post samples to; written into the
    /// configuration's `settings.sampling`. Default with `--collector-listen`: its address.
    #[arg(long, value_name = "CLUSTER")]
    collector_cluster: Option<String>,
    /// Persist the learned model in this file (saved every 10 s when changed and on
    /// shutdown, reloaded on start).
    #[arg(long, value_name = "FILE")]
    learned_model: Option<PathBuf>,
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

fn crds_command() -> ExitCode {
    match gatehouse_controller::crd::crds_yaml() {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    // `crds` needs neither logging nor a runtime.
    if std::env::args().nth(1).as_deref() == Some("crds") {
        return crds_command();
    }
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Compile { paths, output } => compile_command(&paths, &output),
        Command::Scan(args) => scan_cmd::run(&args),
        Command::Import(args) => import_command(&args),
        Command::Crds => return crds_command(),
        Command::Run {
            local: None,
            operator,
            collector,
            ..
        } => run_operator(*operator, &collector),
        Command::Run {
            local: Some(local),
            config_out,
            ecds_out,
            wasm,
            filter_name,
            collector,
            ..
        } => {
            let Some(config_out) = config_out else {
                eprintln!("error: --local needs --config-out FILE");
                return ExitCode::from(2);
            };
            let ecds = ecds_out.zip(wasm).map(|(out, wasm)| EcdsOptions {
                out,
                wasm,
                filter_name,
            });
            let sampling = collector
                .collector_cluster
                .clone()
                .or_else(|| collector.collector_listen.map(|a| a.to_string()))
                .map(|cluster| {
                    serde_json::from_value::<gatehouse_filter::config::SamplingSettings>(
                        serde_json::json!({ "collector": cluster }),
                    )
                })
                .transpose();
            match sampling {
                Ok(sampling) => start_collector(&collector, &local).and_then(|_running| {
                    run_local(LocalOptions {
                        dir: local,
                        config_out,
                        ecds,
                        debounce: Duration::from_millis(200),
                        sampling,
                    })
                }),
                Err(e) => Err(e.into()),
            }
        }
        Command::Infer {
            samples,
            har,
            api,
            output,
        } => learn::cli::infer(samples.as_deref(), har.as_deref(), api.as_deref(), &output)
            .map(|()| ExitCode::SUCCESS),
        Command::Diff {
            authored,
            learned,
            base_path,
            json,
        } => {
            learn::cli::diff_command(&authored, &learned, base_path.as_deref(), json).map(|same| {
                if same {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            })
        }
        Command::Merge {
            authored,
            learned,
            base_path,
            output,
        } => learn::cli::merge_command(&authored, &learned, base_path.as_deref(), &output)
            .map(|()| ExitCode::SUCCESS),
        Command::Adopt {
            name,
            local,
            collector,
            learned,
        } => {
            learn::cli::adopt(&local, &name, collector.as_deref(), learned.as_deref()).map(|file| {
                eprintln!("merged document written into {}", file.display());
                ExitCode::SUCCESS
            })
        }
        Command::Cache(CacheCommand::Purge {
            endpoint,
            token_file,
            host,
            path,
            prefix,
            operation,
        }) => purge_command(
            &endpoint,
            token_file.as_deref(),
            gatehouse_controller::cache::PurgeTarget {
                host,
                path,
                prefix,
                operation,
            },
        ),
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

/// Flags of the Kubernetes operator (`gatehouse run` without --local).
#[derive(Debug, clap::Args)]
struct OperatorArgs {
    /// URL of the filter module the generated WasmPlugin / EnvoyExtensionPolicy loads
    /// (`oci://`, `https://` or `file://`).
    #[arg(
        long,
        env = "GATEHOUSE_WASM_URL",
        default_value = "oci://ghcr.io/gatehouse-dev/gatehouse-filter:latest"
    )]
    wasm_url: String,
    /// SHA-256 of the module, written next to its URL.
    #[arg(long, env = "GATEHOUSE_WASM_SHA256")]
    wasm_sha256: Option<String>,
    /// What the proxy does when the module cannot run.
    #[arg(
        long,
        value_enum,
        env = "GATEHOUSE_FAIL_STRATEGY",
        default_value = "FAIL_CLOSE"
    )]
    fail_strategy: gatehouse_controller::operator::outputs::FailStrategy,
    /// Path of the .wasm inside plain-Envoy pods, named in the generated ECDS document.
    #[arg(long, default_value = "/etc/gatehouse/gatehouse_filter.wasm")]
    envoy_wasm_path: PathBuf,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: std::net::SocketAddr,
    /// Elect one active replica with a coordination.k8s.io Lease.
    #[arg(long, env = "GATEHOUSE_LEADER_ELECT")]
    leader_elect: bool,
    /// Name of the Lease.
    #[arg(long, default_value = "gatehouse-controller")]
    lease_name: String,
    /// Namespace of the Lease (in a cluster: the pod's namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// This replica's identity in the Lease (in a cluster: the pod name).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Seconds a Lease stays valid without renewal.
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,
    /// Seconds between renewals (and a follower's attempts).
    #[arg(long, default_value_t = 5)]
    lease_renew_seconds: u64,
    /// Seconds between full passes even without changes.
    #[arg(long, default_value_t = 300)]
    resync_seconds: u64,
}

fn run_operator(args: OperatorArgs, collector: &CollectorArgs) -> anyhow::Result<ExitCode> {
    use gatehouse_controller::operator::{self, outputs::ModuleOptions};
    let sampling = collector
        .collector_cluster
        .clone()
        .or_else(|| collector.collector_listen.map(|a| a.to_string()))
        .map(|cluster| {
            serde_json::from_value::<gatehouse_filter::config::SamplingSettings>(
                serde_json::json!({ "collector": cluster }),
            )
        })
        .transpose()?;
    // Kept until the operator stops: dropping it saves the model.
    let running = match collector.collector_listen {
        Some(addr) => {
            if collector.learned_model.is_none() {
                tracing::warn!(
                    "no --learned-model FILE: what the collector learns is lost on exit"
                );
            }
            let state = learn::collector::State::new(collector.learned_model.clone(), None)?;
            Some(learn::collector::Collector::start(
                addr,
                std::sync::Arc::new(state),
                Duration::from_secs(10),
            )?)
        }
        None => None,
    };
    let identity = args.identity.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let options = operator::OperatorOptions {
        controller: operator::ControllerOptions {
            module: ModuleOptions {
                url: args.wasm_url,
                sha256: args.wasm_sha256,
                fail_strategy: args.fail_strategy,
                envoy_wasm_path: args.envoy_wasm_path,
            },
            debounce: Duration::from_millis(100),
            resync: Duration::from_secs(args.resync_seconds.max(1)),
            identity: identity.clone(),
            collector: running.as_ref().map(|c| c.state.clone()),
            sampling,
        },
        metrics_addr: args.metrics_addr,
        lease: args.leader_elect.then(|| operator::LeaseOptions {
            namespace: args.lease_namespace,
            name: args.lease_name,
            identity,
            duration: Duration::from_secs(args.lease_duration_seconds.max(1)),
            renew_every: Duration::from_secs(args.lease_renew_seconds.max(1)),
        }),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            let _ = tx.send(true);
        });
        operator::run(options, rx).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
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

fn purge_command(
    endpoint: &str,
    token_file: Option<&std::path::Path>,
    target: gatehouse_controller::cache::PurgeTarget,
) -> anyhow::Result<ExitCode> {
    let token = match token_file {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?,
        None => std::env::var("GATEHOUSE_PURGE_TOKEN")
            .context("give --token-file or set GATEHOUSE_PURGE_TOKEN")?,
    };
    let purged = gatehouse_controller::cache::purge(endpoint, token.trim(), &target)?;
    println!("purged {purged} entries");
    Ok(ExitCode::SUCCESS)
}

/// Starts the collector when asked; it stops (and saves the model) when dropped.
fn start_collector(
    args: &CollectorArgs,
    dir: &std::path::Path,
) -> anyhow::Result<Option<learn::collector::Collector>> {
    let Some(addr) = args.collector_listen else {
        return Ok(None);
    };
    if args.learned_model.is_none() {
        tracing::warn!("no --learned-model FILE: what the collector learns is lost on exit");
    }
    let state = learn::collector::State::new(args.learned_model.clone(), Some(dir.to_path_buf()))?;
    let collector = learn::collector::Collector::start(
        addr,
        std::sync::Arc::new(state),
        Duration::from_secs(10),
    )?;
    Ok(Some(collector))
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
