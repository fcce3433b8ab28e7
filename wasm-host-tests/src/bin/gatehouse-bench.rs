//! `gatehouse-bench`: Envoy + wrk benchmark of the Gatehouse filter against bare Envoy and
//! a no-op wasm filter. Prints a markdown table and appends it to `docs/performance.md`.
//! See `docs/testing.md#benchmark`.
//!
//! Needs: Envoy (`bash scripts/setup.sh`), the filters built
//! (`cargo build --release --target wasm32-wasip1 -p gatehouse-filter -p noop-filter`),
//! and wrk (installed with apt-get when missing).

use std::time::Duration;

use clap::Parser;
use wasm_host_tests::bench::{self, Options};

#[derive(Debug, Parser)]
#[command(name = "gatehouse-bench", version, about)]
struct Args {
    /// Rounds; each round runs every variant once, in order (A B C A B C ...).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Measured seconds per run (14 variants x 3 rounds x (5 + 2) s keeps `make bench` near 5 minutes).
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Warm-up seconds per run (not measured).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// wrk connections.
    #[arg(long, default_value_t = 10)]
    connections: u32,
    /// CPU for Envoy.
    #[arg(long, default_value = "0")]
    envoy_cpu: String,
    /// CPU for wrk and the backend.
    #[arg(long, default_value = "1")]
    load_cpu: String,
    /// Comma-separated variants to run (default: all).
    #[arg(long, value_delimiter = ',')]
    variants: Vec<String>,
    /// List the variants and exit.
    #[arg(long)]
    list: bool,
    /// File the results are appended to.
    #[arg(long, default_value = "docs/performance.md")]
    out: std::path::PathBuf,
    /// Print only; do not append to --out.
    #[arg(long)]
    no_append: bool,
    /// Instead of the variants: the cache budget check under mixed load for this many
    /// seconds (two workers, many objects, a 1 MB budget; docs/caching.md).
    #[arg(long, value_name = "SECONDS")]
    cache_budget: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.list {
        for v in bench::variants() {
            println!(
                "{:<16} {} (reference: {})",
                v.name,
                v.description,
                v.reference.unwrap_or("-")
            );
        }
        return Ok(());
    }
    anyhow::ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let out = if args.out.is_absolute() {
        args.out
    } else {
        wasm_host_tests::locate::repo_root().join(args.out)
    };
    if let Some(seconds) = args.cache_budget {
        let report = bench::cache::budget_check(Duration::from_secs(seconds.max(1)), 2000)?;
        println!("{report}");
        if !args.no_append {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new().append(true).open(&out)?;
            writeln!(file, "\n{report}")?;
        }
        return Ok(());
    }
    let options = Options {
        rounds: args.rounds,
        duration: Duration::from_secs(args.duration.max(1)),
        warmup: Duration::from_secs(args.warmup),
        connections: args.connections,
        envoy_cpu: args.envoy_cpu,
        load_cpu: args.load_cpu,
        only: args.variants,
        append_to: (!args.no_append).then_some(out),
    };
    let report = bench::run(&options)?;
    println!("{report}");
    Ok(())
}
