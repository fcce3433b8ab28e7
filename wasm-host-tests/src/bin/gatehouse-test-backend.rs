//! `gatehouse-test-backend --port N`: the test backend as a process, for the demo and the
//! benchmark. Prints `listening on http://ADDR` once it accepts connections.

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clap::Parser;

/// Echoes requests as JSON; see `wasm_host_tests::backend` for the control headers.
#[derive(Debug, Parser)]
#[command(name = "gatehouse-test-backend", version)]
struct Args {
    /// Port to listen on (0: any free port, printed at start-up).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Runtime worker threads (1: a single-threaded runtime, best when pinned to one core).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host, args.port)).await?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
        wasm_host_tests::backend::serve(listener, Arc::new(AtomicU64::new(0))).await;
        Ok(())
    })
}
