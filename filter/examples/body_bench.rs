//! Body validation cost, built for the host or for wasm32-wasip1 (to time it in V8
//! without Envoy around it):
//!
//! ```text
//! cargo run --release -p gatehouse-filter --example body_bench
//! cargo build --release --target wasm32-wasip1 -p gatehouse-filter --example body_bench
//! node scripts/wasi-run.mjs $CARGO_TARGET_DIR/wasm32-wasip1/release/examples/body_bench.wasm
//! ```
//!
//! Prints the minimum over rounds of the mean µs per call (the minimum is what survives a
//! loaded machine best) for: the previous request path (`serde_json::Value`, then
//! validation), the tape parse alone, validation on the tape, and the whole request path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use gatehouse_filter::schema::{validate, validate_doc, Doc, Limits};
use serde_json::Value;

#[path = "../tests/common/shop_orders.rs"]
mod orders;

fn min_us(rounds: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..calls {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    best
}

fn main() {
    let doc = orders::document();
    let (program, order_root, list_root) = orders::program(&doc);
    let limits = Limits::default();
    let order = serde_json::to_vec(&orders::order(0)).unwrap();
    let list = serde_json::to_vec(&orders::orders()).unwrap();
    // The first pass warms up (V8 compiles with its baseline tier first and optimizes
    // hot functions later); the second is printed.
    for (pass, (name, root, bytes, calls)) in [
        ("1 KB", order_root, &order, 400),
        ("64 KB", list_root, &list, 8),
    ]
    .into_iter()
    .cycle()
    .take(4)
    .enumerate()
    {
        let rounds = 25;
        let old = min_us(rounds, calls, || {
            let v: Value = serde_json::from_slice(black_box(bytes)).unwrap();
            black_box(validate(&program, root, &v, &limits));
        });
        let serde = min_us(rounds, calls, || {
            black_box(serde_json::from_slice::<Value>(black_box(bytes)).unwrap());
        });
        let tape = min_us(rounds, calls, || {
            black_box(Doc::parse(black_box(bytes)).unwrap());
        });
        let new = min_us(rounds, calls, || {
            let d = Doc::parse(black_box(bytes)).unwrap();
            black_box(validate_doc(&program, root, &d, &limits));
        });
        let parsed = Doc::parse(bytes).unwrap();
        let check = min_us(rounds, calls, || {
            black_box(validate_doc(&program, root, black_box(&parsed), &limits));
        });
        if pass < 2 {
            continue;
        }
        println!(
            "{name} ({} bytes): Value+validate {old:.2} µs | serde_json Value {serde:.2} | tape {tape:.2} | validate on tape {check:.2} | tape+validate {new:.2} µs",
            bytes.len()
        );
    }
}
