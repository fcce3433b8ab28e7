//! Native cost of one token verification per algorithm (parse, provider lookup, claims,
//! key selection, signature), pure-Rust crypto. Not a regular test; run in release:
//!
//! ```text
//! cargo test --release -p gatehouse-filter --test jwt_bench -- --ignored --nocapture
//! ```

// Test helpers outside `#[test]` functions may unwrap and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../src/jwt/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::time::{Duration, Instant};

use fixtures as f;
use gatehouse_filter::config::Provider;
use gatehouse_filter::jwt::ProviderSet;

fn measure(set: &ProviderSet, token: &str) -> f64 {
    // Warm up, then run for at least half a second; best of three rounds.
    for _ in 0..20 {
        assert!(set.verify(black_box(token), f::NOW).is_ok());
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < Duration::from_millis(500) {
            for _ in 0..10 {
                assert!(set.verify(black_box(token), f::NOW).is_ok());
            }
            n += 10;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    best
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn jwt_bench_verification_per_algorithm() {
    let list: Vec<Provider> = serde_json::from_str(f::PROVIDERS_JSON).unwrap();
    let set = ProviderSet::from_config(&list).unwrap();
    let cases = [
        ("RS256", f::GOOD_RS256),
        ("RS512", f::GOOD_RS512),
        ("PS256", f::GOOD_PS256),
        ("ES256", f::GOOD_ES256),
        ("ES384", f::GOOD_ES384),
        ("EdDSA", f::GOOD_EDDSA),
        ("HS256", f::GOOD_HS256),
    ];
    println!("\nalgorithm  µs per verification (native, release)");
    for (name, token) in cases {
        println!("{name:<9}  {:>8.1}", measure(&set, token));
    }
    // Refusals that must stay cheap: no signature work.
    println!("{:<9}  {:>8.1}", "expired", {
        let start = Instant::now();
        for _ in 0..10_000 {
            assert!(set.verify(black_box(f::EXPIRED), f::NOW).is_err());
        }
        start.elapsed().as_secs_f64() * 1e6 / 10_000.0
    });
}
