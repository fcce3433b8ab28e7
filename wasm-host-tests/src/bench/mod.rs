//! `gatehouse-bench`: what the filter costs inside Envoy.
//!
//! One Envoy (`--concurrency 1`) pinned to one core, wrk (`-t1 -c10`) and the in-process
//! test backend pinned to the other. Variants run alternately (A B C A B C ...) so drift of
//! the machine's speed spreads over all of them; each run gets a fresh Envoy, a short
//! warm-up, then a measured wrk run. Reported per variant (medians over rounds): requests
//! per second, Envoy CPU µs per request (user+system time from `/proc/PID/stat` over the
//! run, divided by the requests wrk completed), latency p50/p99, time to `/ready`, RSS at
//! ready and after the load; ratios against the variant's reference.
//!
//! Adding a variant is adding a row to [`variants`].

pub mod cache;
pub mod learn;
pub mod shop;
pub mod sso;
pub mod wrk;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::Backend;
use crate::client::Client;
use crate::configs;
use crate::envoy::{EnvoyBuilder, Filter};
use crate::locate;

/// Body size every benchmark request asks the backend for (`x-backend-body-bytes`).
pub const BODY_BYTES: usize = 1024;

/// What one variant puts in front of the router, and the requests it is driven with.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub filter: Filter,
    /// Request paths; wrk cycles through them.
    pub paths: Vec<String>,
    /// `x-gatehouse-operation` the first path must produce (checked before measuring).
    pub expect_operation: Option<String>,
    /// Send every request as a POST with this JSON body (validation variants).
    pub json_body: Option<String>,
    /// `Authorization` header sent with every request (SSO variants).
    pub authorization: Option<String>,
    /// Native filter put in front of the router instead of a wasm one (`jwt_authn`).
    pub native_jwt_authn: Option<bool>,
    /// Envoy's native cache filter (`SimpleHttpCache`) in front of the router.
    pub native_cache: bool,
}

/// One row of the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Short name, used on the command line (`--variants`) and in the table.
    pub name: &'static str,
    pub description: &'static str,
    /// The variant this one's ratios are computed against.
    pub reference: Option<&'static str>,
    pub prepare: fn() -> Prepared,
}

/// The variants, in run order. Later features add rows here (e.g. JWT on, validation on),
/// with the variant they should be compared to as `reference`.
pub fn variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "bare",
            description: "Envoy, no wasm filter",
            reference: None,
            prepare: || Prepared {
                filter: Filter::None,
                paths: configs::synthetic(10).1,
                expect_operation: None,
                json_body: None,
        authorization: None,
        native_jwt_authn: None,
        native_cache: false,
            },
        },
        Variant {
            name: "noop",
            description: "Envoy + no-op proxy-wasm filter (adds one response header)",
            reference: Some("bare"),
            prepare: || Prepared {
                filter: Filter::Wasm {
                    name: "noop".into(),
                    wasm: locate::noop_wasm(),
                    configuration: String::new(),
                },
                paths: configs::synthetic(10).1,
                expect_operation: None,
                json_body: None,
        authorization: None,
        native_jwt_authn: None,
        native_cache: false,
            },
        },
        Variant {
            name: "gatehouse-10",
            description: "Envoy + Gatehouse, 10-operation API, all features off",
            reference: Some("noop"),
            prepare: || gatehouse_synthetic(10),
        },
        Variant {
            name: "gatehouse-5000",
            description: "Envoy + Gatehouse, 5,000-operation API, all features off",
            reference: Some("gatehouse-10"),
            prepare: || gatehouse_synthetic(5000),
        },
        Variant {
            name: "body-1k-off",
            description: "Envoy + Gatehouse, POST of a 1 KB order, validation off",
            reference: None,
            prepare: || shop_orders("off", false),
        },
        Variant {
            name: "body-1k-enforce",
            description: "Envoy + Gatehouse, POST of a 1 KB order validated (nested objects, arrays, formats, patterns, discriminated oneOf)",
            reference: Some("body-1k-off"),
            prepare: || shop_orders("enforce", false),
        },
        Variant {
            name: "body-64k-off",
            description: "Envoy + Gatehouse, POST of 64 KB of orders, validation off",
            reference: None,
            prepare: || shop_orders("off", true),
        },
        Variant {
            name: "body-64k-enforce",
            description: "Envoy + Gatehouse, POST of 64 KB of orders validated",
            reference: Some("body-64k-off"),
            prepare: || shop_orders("enforce", true),
        },
        Variant {
            name: "sampling-0.01",
            description: "Envoy + Gatehouse, POST of a 1 KB order, validation off, 1% of exchanges sampled and posted",
            reference: Some("body-1k-off"),
            prepare: || learn::sampled_orders(0.01, false),
        },
        Variant {
            name: "sampling-1.0",
            description: "Envoy + Gatehouse, POST of a 1 KB order, validation off, every exchange sampled (JSON body shaped) and posted, cap lifted",
            reference: Some("body-1k-off"),
            prepare: || learn::sampled_orders(1.0, false),
        },
        Variant {
            name: "sampling-1.0-capped",
            description: "Envoy + Gatehouse, POST of a 1 KB order, validation off, rate 1 with the default cap (100 samples per operation per minute)",
            reference: Some("body-1k-off"),
            prepare: || learn::sampled_orders(1.0, true),
        },
        Variant {
            name: "rs256-jwt_authn",
            description: "Envoy's native jwt_authn, RS256 token, no cache (verifies every request)",
            reference: None,
            prepare: || sso_variant("GOOD_RS256", true, false),
        },
        Variant {
            name: "rs256-verify",
            description: "Gatehouse, RS256 token, verified-token cache off (native verify_signature every request)",
            reference: Some("rs256-jwt_authn"),
            prepare: || sso_variant("GOOD_RS256", false, false),
        },
        Variant {
            name: "rs256-jwt_authn-cache",
            description: "Envoy's native jwt_authn, RS256 token, jwt_cache_config on",
            reference: None,
            prepare: || sso_variant("GOOD_RS256", true, true),
        },
        Variant {
            name: "rs256-cached",
            description: "Gatehouse, the same RS256 token repeated, verified-token cache on",
            reference: Some("rs256-jwt_authn"),
            prepare: || sso_variant("GOOD_RS256", false, true),
        },
        Variant {
            name: "es256-jwt_authn",
            description: "Envoy's native jwt_authn, ES256 token, no cache",
            reference: None,
            prepare: || sso_variant("GOOD_ES256", true, false),
        },
        Variant {
            name: "cache-native-1k",
            description: "Envoy's native cache filter (SimpleHttpCache), 1 KB object, every request a hit",
            reference: None,
            prepare: || cache_variant("1k", CacheMode::Native),
        },
        Variant {
            name: "cache-hit-1k",
            description: "Gatehouse cache, 1 KB object, every request a hit",
            reference: Some("cache-native-1k"),
            prepare: || cache_variant("1k", CacheMode::Gatehouse),
        },
        Variant {
            name: "cache-off-1k",
            description: "Gatehouse, the same 1 KB object uncached (every request to the backend)",
            reference: Some("cache-hit-1k"),
            prepare: || cache_variant("1k", CacheMode::Uncached),
        },
        Variant {
            name: "cache-native-64k",
            description: "Envoy's native cache filter (SimpleHttpCache), 64 KB object",
            reference: None,
            prepare: || cache_variant("64k", CacheMode::Native),
        },
        Variant {
            name: "cache-hit-64k",
            description: "Gatehouse cache, 64 KB object, every request a hit",
            reference: Some("cache-native-64k"),
            prepare: || cache_variant("64k", CacheMode::Gatehouse),
        },
        Variant {
            name: "cache-off-64k",
            description: "Gatehouse, the same 64 KB object uncached",
            reference: Some("cache-hit-64k"),
            prepare: || cache_variant("64k", CacheMode::Uncached),
        },
        Variant {
            name: "es256-verify",
            description: "Gatehouse, ES256 token, verified-token cache off",
            reference: Some("es256-jwt_authn"),
            prepare: || sso_variant("GOOD_ES256", false, false),
        },
        Variant {
            name: "sso-1-provider",
            description: "Gatehouse, RS256 token, 1 configured provider, verified-token cache off",
            reference: None,
            prepare: || sso_providers_variant(1),
        },
        Variant {
            name: "sso-50-providers",
            description: "Gatehouse, RS256 token, 50 configured providers (the token's is the last), cache off",
            reference: Some("sso-1-provider"),
            prepare: || sso_providers_variant(50),
        },
    ]
}

/// Who serves the cache variants' object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheMode {
    Native,
    Gatehouse,
    Uncached,
}

fn cache_variant(size: &str, mode: CacheMode) -> Prepared {
    let filter = match mode {
        CacheMode::Native => Filter::None,
        CacheMode::Gatehouse | CacheMode::Uncached => Filter::Gatehouse {
            config: cache::gatehouse_config(mode == CacheMode::Gatehouse),
        },
    };
    Prepared {
        filter,
        paths: vec![format!("/__cached/{size}")],
        expect_operation: None,
        json_body: None,
        authorization: None,
        native_jwt_authn: None,
        native_cache: mode == CacheMode::Native,
    }
}

fn shop_orders(mode: &str, batch: bool) -> Prepared {
    let config = shop::config(mode).unwrap_or_else(|e| panic!("bench API: {e}"));
    let (path, body, operation) = if batch {
        ("/orders/batch", shop::orders(64 * 1024), "createOrders")
    } else {
        ("/orders", shop::order(0).to_string(), "createOrder")
    };
    Prepared {
        filter: Filter::Gatehouse {
            config: configs::to_json(&config),
        },
        paths: vec![path.to_owned()],
        expect_operation: Some(format!("bench/shop/{operation}")),
        json_body: Some(body),
        authorization: None,
        native_jwt_authn: None,
        native_cache: false,
    }
}

/// A fixture token checked by Gatehouse (`cache`: its verified-token cache) or, with
/// `native`, by Envoy's `jwt_authn` (`cache`: its `jwt_cache_config`).
fn sso_variant(token: &str, native: bool, cache: bool) -> Prepared {
    let (filter, expect_operation) = if native {
        (Filter::None, None)
    } else {
        (
            Filter::Gatehouse {
                config: sso::gatehouse_config(cache),
            },
            Some("bench/sso/getPet".to_owned()),
        )
    };
    Prepared {
        filter,
        paths: vec!["/pets/1".to_owned()],
        expect_operation,
        json_body: None,
        authorization: Some(sso::bearer(token)),
        native_jwt_authn: native.then_some(cache),
        native_cache: false,
    }
}

/// The RS256 fixture token against `n` configured providers ([`sso::gatehouse_config_providers`]).
fn sso_providers_variant(n: usize) -> Prepared {
    Prepared {
        filter: Filter::Gatehouse {
            config: sso::gatehouse_config_providers(n),
        },
        paths: vec!["/pets/1".to_owned()],
        expect_operation: Some("bench/sso/getPet".to_owned()),
        json_body: None,
        authorization: Some(sso::bearer("GOOD_RS256")),
        native_jwt_authn: None,
        native_cache: false,
    }
}

fn gatehouse_synthetic(n: usize) -> Prepared {
    let (config, paths) = configs::synthetic(n);
    Prepared {
        filter: Filter::Gatehouse {
            config: configs::to_json(&config),
        },
        paths,
        expect_operation: Some("bench/synthetic/op0".into()),
        json_body: None,
        authorization: None,
        native_jwt_authn: None,
        native_cache: false,
    }
}

/// Benchmark options (the CLI's flags).
#[derive(Debug, Clone)]
pub struct Options {
    pub rounds: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: u32,
    /// Core for Envoy (`taskset -c`).
    pub envoy_cpu: String,
    /// Core for wrk and the backend.
    pub load_cpu: String,
    /// Variant names to run (all when empty).
    pub only: Vec<String>,
    /// Markdown file the results are appended to (`None`: print only).
    pub append_to: Option<PathBuf>,
}

/// One measured run.
#[derive(Debug, Clone)]
struct Run {
    rps: f64,
    cpu_us_per_request: f64,
    p50_us: f64,
    p99_us: f64,
    ready_ms: f64,
    rss_ready_mb: f64,
    rss_after_mb: f64,
    bad_responses: u64,
}

/// Runs the benchmark and returns the report (markdown).
pub fn run(options: &Options) -> anyhow::Result<String> {
    let all = variants();
    let selected: Vec<Variant> = if options.only.is_empty() {
        all.clone()
    } else {
        for name in &options.only {
            anyhow::ensure!(
                all.iter().any(|v| v.name == name),
                "unknown variant {name}; known: {}",
                all.iter().map(|v| v.name).collect::<Vec<_>>().join(", ")
            );
        }
        all.iter()
            .filter(|v| options.only.iter().any(|n| n == v.name))
            .copied()
            .collect()
    };
    let machine = Machine::probe();
    let wrk = wrk::ensure_installed()?;

    // Pin this process (and the backend thread started next) to the load core.
    pin_self(&options.load_cpu);
    let backend = Backend::start();
    let client = Client::new();

    let prepared: Vec<(Variant, Prepared)> = selected.iter().map(|v| (*v, (v.prepare)())).collect();
    let wasm_sizes = wasm_sizes(&prepared);
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); prepared.len()];
    let scripts_dir = tempfile::Builder::new()
        .prefix("gatehouse-bench-")
        .tempdir()?;

    let per_run = options.duration + options.warmup + Duration::from_secs(2);
    eprintln!(
        "[bench] {} variants x {} rounds, {:?} measured + {:?} warm-up each (about {} s); \
         Envoy on cpu {}, wrk + backend on cpu {}",
        prepared.len(),
        options.rounds,
        options.duration,
        options.warmup,
        per_run.as_secs() * (prepared.len() * options.rounds) as u64,
        options.envoy_cpu,
        options.load_cpu
    );
    for round in 1..=options.rounds {
        for (i, (variant, prep)) in prepared.iter().enumerate() {
            let script = scripts_dir.path().join(format!("{}.lua", variant.name));
            if !script.exists() {
                wrk::write_script(
                    &script,
                    &prep.paths,
                    BODY_BYTES,
                    prep.json_body.as_deref(),
                    prep.authorization.as_deref(),
                )?;
            }
            let run = measure(&wrk, options, &backend, &client, prep, &script)?;
            eprintln!(
                "[bench] round {round}/{} {:<15} {:>9.0} rps  {:>6.1} µs/req CPU  ready {:>6.0} ms  RSS {:>5.1} MB{}",
                options.rounds,
                variant.name,
                run.rps,
                run.cpu_us_per_request,
                run.ready_ms,
                run.rss_ready_mb,
                if run.bad_responses > 0 {
                    format!("  ({} bad responses!)", run.bad_responses)
                } else {
                    String::new()
                }
            );
            if let Some(slot) = runs.get_mut(i) {
                slot.push(run);
            }
        }
    }

    let mut machine = machine;
    machine.load_after = load_average();
    let report = report(options, &machine, &prepared, &runs, &wasm_sizes);
    if let Some(path) = &options.append_to {
        append(path, &report)?;
        eprintln!("[bench] appended to {}", path.display());
    }
    Ok(report)
}

/// Starts Envoy for one variant, checks it routes, warms up, measures.
fn measure(
    wrk: &Path,
    options: &Options,
    backend: &Backend,
    client: &Client,
    prep: &Prepared,
    script: &Path,
) -> anyhow::Result<Run> {
    let mut builder = EnvoyBuilder::new(backend);
    if let Some(cache) = prep.native_jwt_authn {
        builder = builder.patch_bootstrap(sso::jwt_authn_patch(cache));
    }
    if prep.native_cache {
        builder = builder.patch_bootstrap(cache::native_cache_patch);
    }
    let envoy = builder
        .filter(prep.filter.clone())
        .concurrency(1)
        .pin_cpus(&options.envoy_cpu)
        .access_log(false)
        .log_level("warn")
        .try_start()
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let ready_ms = envoy.ready_after().as_secs_f64() * 1e3;
    let rss_ready_mb = mb(envoy.rss_bytes());

    // The first path must reach the backend (as the expected operation for Gatehouse).
    let first = prep.paths.first().map_or("/", String::as_str);
    let mut headers = Vec::new();
    if let Some(value) = &prep.authorization {
        headers.push(("authorization", value.as_str()));
    }
    let check = match &prep.json_body {
        Some(body) => {
            headers.push(("content-type", "application/json"));
            client.send("POST", &envoy.url(first), &headers, Some(body))
        }
        None => client.get(&envoy.url(first), &headers),
    };
    anyhow::ensure!(
        check.status == 200,
        "{first} answered {} {} (Envoy log:\n{})",
        check.status,
        check.body,
        crate::envoy::tail(&envoy.logs(), 20)
    );
    if let Some(expected) = &prep.expect_operation {
        let seen = check.echoed_header("x-gatehouse-operation");
        anyhow::ensure!(
            seen.as_deref() == Some(expected.as_str()),
            "{first}: expected operation {expected}, backend saw {seen:?}"
        );
    }

    let url = envoy.url("/");
    if !options.warmup.is_zero() {
        wrk::run(
            wrk,
            &options.load_cpu,
            &url,
            script,
            options.connections,
            options.warmup,
        )?;
    }
    let ticks_before = envoy.cpu_ticks().unwrap_or(0);
    let result = wrk::run(
        wrk,
        &options.load_cpu,
        &url,
        script,
        options.connections,
        options.duration,
    )?;
    let ticks_after = envoy.cpu_ticks().unwrap_or(0);
    let rss_after_mb = mb(envoy.rss_bytes());
    let cpu_seconds = ticks_after.saturating_sub(ticks_before) as f64
        / crate::process::clock_ticks_per_second() as f64;
    let requests = result.requests.max(1) as f64;
    Ok(Run {
        rps: result.requests as f64 / result.duration.as_secs_f64().max(1e-9),
        cpu_us_per_request: cpu_seconds * 1e6 / requests,
        p50_us: result.p50_us,
        p99_us: result.p99_us,
        ready_ms,
        rss_ready_mb,
        rss_after_mb,
        bad_responses: result.bad_responses(),
    })
}

fn mb(bytes: Option<u64>) -> f64 {
    bytes.unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

/// Median of `values` (mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0.0),
        _ => {
            (v.get(n / 2 - 1).copied().unwrap_or(0.0) + v.get(n / 2).copied().unwrap_or(0.0)) / 2.0
        }
    }
}

fn pin_self(cpus: &str) {
    let Some(cpu) = cpus
        .split([',', '-'])
        .next()
        .and_then(|c| c.trim().parse::<usize>().ok())
    else {
        return;
    };
    let mut set = nix::sched::CpuSet::new();
    if set.set(cpu).is_ok() {
        if let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
            eprintln!("[bench] cannot pin the load generator side to cpu {cpu}: {e}");
        }
    }
}

fn wasm_sizes(prepared: &[(Variant, Prepared)]) -> Vec<(String, u64)> {
    let mut sizes = Vec::new();
    for (_, prep) in prepared {
        let path = match &prep.filter {
            Filter::Gatehouse { .. } => Some(locate::gatehouse_wasm()),
            Filter::Wasm { wasm, .. } => Some(wasm.clone()),
            _ => None,
        };
        if let Some(path) = path {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !sizes.iter().any(|(n, _)| *n == name) {
                let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                sizes.push((name, len));
            }
        }
    }
    sizes
}

/// Facts about the machine and the build, printed with the numbers.
#[derive(Debug, Clone)]
struct Machine {
    date: String,
    git_rev: String,
    nproc: usize,
    cpu: String,
    envoy: String,
    /// 1-minute load average before and after: other work on the machine skews results.
    load_before: String,
    load_after: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

impl Machine {
    fn probe() -> Self {
        let cmd = |program: &str, args: &[&str]| -> Option<String> {
            let out = std::process::Command::new(program)
                .args(args)
                .current_dir(locate::repo_root())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let git_rev = match cmd("git", &["rev-parse", "--short", "HEAD"]) {
            Some(rev) => {
                let dirty = cmd("git", &["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{rev}-dirty")
                } else {
                    rev
                }
            }
            None => "no commit".into(),
        };
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        // `envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL`
        let envoy = cmd(&locate::envoy_bin().to_string_lossy(), &["--version"])
            .and_then(|v| {
                let after = v.split_once("version:")?.1.trim().to_owned();
                after.split('/').nth(1).map(str::to_owned)
            })
            .unwrap_or_else(|| "?".into());
        Self {
            date: cmd("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
            git_rev,
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            envoy,
            load_before: load_average(),
            load_after: String::new(),
        }
    }
}

fn report(
    options: &Options,
    machine: &Machine,
    prepared: &[(Variant, Prepared)],
    runs: &[Vec<Run>],
    wasm_sizes: &[(String, u64)],
) -> String {
    let med = |i: usize, f: fn(&Run) -> f64| -> f64 {
        runs.get(i)
            .map(|r| median(&r.iter().map(f).collect::<Vec<_>>()))
            .unwrap_or(0.0)
    };
    let index = |name: &str| prepared.iter().position(|(v, _)| v.name == name);
    let mut out = String::new();
    let _ = writeln!(out, "## {} — `gatehouse-bench`", machine.date);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "git `{}`, Envoy {}, {} CPUs ({}), Envoy `--concurrency 1` on cpu {}, \
         `wrk -t1 -c{}` + backend on cpu {}, {} rounds × {} s (+{} s warm-up) alternated, \
         GET with {} B response bodies; medians. Load average {} before, {} after.",
        machine.git_rev,
        machine.envoy,
        machine.nproc,
        machine.cpu,
        options.envoy_cpu,
        options.connections,
        options.load_cpu,
        options.rounds,
        options.duration.as_secs_f64(),
        options.warmup.as_secs_f64(),
        BODY_BYTES,
        machine.load_before,
        machine.load_after
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| variant | RPS | RPS vs ref | Envoy CPU µs/req | CPU vs ref | ref | p50 / p99 µs | time to /ready ms | RSS ready / after MB |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|---:|---:|");
    for (i, (variant, _)) in prepared.iter().enumerate() {
        let rps = med(i, |r| r.rps);
        let cpu = med(i, |r| r.cpu_us_per_request);
        let reference = variant.reference.and_then(|r| index(r).map(|j| (r, j)));
        let (rps_ratio, cpu_ratio, ref_name) = match reference {
            Some((name, j)) => (
                format!("{:.2}×", rps / med(j, |r| r.rps).max(1e-9)),
                format!("{:.2}×", cpu / med(j, |r| r.cpu_us_per_request).max(1e-9)),
                name.to_owned(),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let bad: u64 = runs
            .get(i)
            .map_or(0, |r| r.iter().map(|x| x.bad_responses).sum());
        let _ = writeln!(
            out,
            "| {}{} | {:.0} | {} | {:.1} | {} | {} | {:.0} / {:.0} | {:.0} | {:.0} / {:.0} |",
            variant.name,
            if bad > 0 {
                format!(" ⚠ {bad} non-2xx/errors")
            } else {
                String::new()
            },
            rps,
            rps_ratio,
            cpu,
            cpu_ratio,
            ref_name,
            med(i, |r| r.p50_us),
            med(i, |r| r.p99_us),
            med(i, |r| r.ready_ms),
            med(i, |r| r.rss_ready_mb),
            med(i, |r| r.rss_after_mb),
        );
    }
    let _ = writeln!(out);
    for (variant, _) in prepared {
        let _ = writeln!(out, "- `{}`: {}", variant.name, variant.description);
    }
    for (name, size) in wasm_sizes {
        let _ = writeln!(out, "- `{name}`: {size} bytes");
    }
    out
}

fn append(path: &Path, report: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let exists = path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if !exists {
        writeln!(
            file,
            "# Performance\n\nResults of `gatehouse-bench` (`make bench`), newest last; each run \
             appends a section. Compare variants only within one section: this machine's \
             speed drifts between runs. How it measures: `docs/testing.md#benchmark`.\n"
        )?;
    }
    writeln!(file, "{report}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert!((median(&[3.0, 1.0, 2.0]) - 2.0).abs() < 1e-9);
        assert!((median(&[4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < 1e-9);
        assert!(median(&[]).abs() < 1e-9);
    }

    #[test]
    fn every_reference_names_an_earlier_variant() {
        let all = variants();
        for (i, v) in all.iter().enumerate() {
            if let Some(r) = v.reference {
                let j = all.iter().position(|x| x.name == r);
                assert!(j.is_some_and(|j| j < i), "{} refers to {r}", v.name);
            }
        }
    }
}
