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
        operator: Box<OperatorArgs>,
    },
    /// Print the CustomResourceDefinitions (YAML) for `kubectl apply -f -`.
    Crds,
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
        Command::Crds => return crds_command(),
        Command::Run {
            local: None,
            operator,
            ..
        } => run_operator(*operator),
        Command::Run {
            local: Some(local),
            config_out,
            ecds_out,
            wasm,
            filter_name,
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

fn run_operator(args: OperatorArgs) -> anyhow::Result<ExitCode> {
    use gatehouse_controller::operator::{self, outputs::ModuleOptions};
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
