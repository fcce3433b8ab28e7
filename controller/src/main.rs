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
