//! The cache benchmark: one object served from Gatehouse's shared-data cache, from Envoy's
//! native cache filter (`envoy.filters.http.cache` with `SimpleHttpCache`), and uncached
//! from the backend (`GET /__cached/{size}`: `cache-control: public, max-age=3600`).

use gatehouse_filter::config::{CachePolicy, Method};
use serde_json::{json, Value};

use crate::configs::{api, config, op, to_json};

/// Gatehouse: `GET /__cached/{size}`, cached (`enabled`) or not.
pub fn gatehouse_config(enabled: bool) -> String {
    let mut get = op("getObject", Method::Get, "/__cached/{size}");
    get.policies.cache = Some(CachePolicy {
        enabled,
        ..CachePolicy::default()
    });
    to_json(&config(vec![api(
        "bench/cache",
        &["*"],
        "",
        true,
        vec![get],
    )]))
}

/// A bootstrap patch putting Envoy's cache filter with the in-memory `SimpleHttpCache`
/// in front of the router.
pub fn native_cache_patch(bootstrap: &mut Value) {
    let filter = json!({
        "name": "envoy.filters.http.cache",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cache.v3.CacheConfig",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.http.cache.simple_http_cache.v3.SimpleHttpCacheConfig"
            }
        }
    });
    if let Some(filters) = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]
        ["filters"][0]["typed_config"]["http_filters"]
        .as_array_mut()
    {
        filters.insert(0, filter);
    }
}

/// The budget check of issue 5: Envoy with two workers, a small cache budget, and wrk
/// alternating between `paths` cold objects and 16 hot ones (1 to 64 KB)
/// for `duration`; `gatehouse_cache_bytes` is sampled every 100 ms. Returns a markdown
/// report; fails when a sample passes the budget plus one object.
pub fn budget_check(duration: std::time::Duration, paths: usize) -> anyhow::Result<String> {
    use gatehouse_filter::cache::CacheSettings;

    let budget: u64 = 1024 * 1024;
    let max_object: u32 = 80 * 1024;
    let mut get = op("getObject", Method::Get, "/__cached/{size}");
    get.policies.cache = Some(CachePolicy {
        enabled: true,
        ..CachePolicy::default()
    });
    let mut cfg = config(vec![api("bench/cache", &["*"], "", true, vec![get])]);
    cfg.settings.cache = Some(CacheSettings {
        max_bytes: budget,
        max_entries: 256,
        max_object_bytes: max_object,
        ..CacheSettings::default()
    });
    let backend = crate::backend::Backend::start();
    let envoy = crate::envoy::EnvoyBuilder::new(&backend)
        .gatehouse(&to_json(&cfg))
        .concurrency(2)
        .access_log(false)
        .log_level("warn")
        .try_start()
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let sizes = ["1k", "4k", "16k", "64k"];
    // Every other request goes to one of 16 hot objects, the rest cycle over `paths`
    // cold ones: hits, stores and evictions all at once.
    let targets: Vec<String> = (0..paths)
        .flat_map(|i| {
            [
                format!("/__cached/{}?n={i}", sizes[i % sizes.len()]),
                format!("/__cached/{}?hot={}", sizes[i % 2], i % 16),
            ]
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("budget.lua");
    super::wrk::write_script(&script, &targets, super::BODY_BYTES, None, None)?;
    let wrk = super::wrk::ensure_installed()?;
    let url = envoy.url("/");
    let load = {
        let (wrk, script, url) = (wrk.clone(), script.clone(), url.clone());
        std::thread::spawn(move || super::wrk::run(&wrk, "0-1", &url, &script, 20, duration))
    };
    let read = |suffix: &str| -> u64 {
        envoy
            .stats()
            .lines()
            .filter_map(|l| l.split_once(": "))
            .find(|(n, _)| n.ends_with(suffix))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let (mut samples, mut max) = (0u64, 0u64);
    while !load.is_finished() {
        max = max.max(read("gatehouse_cache_bytes"));
        samples += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let result = load
        .join()
        .map_err(|_| anyhow::anyhow!("wrk thread panicked"))??;
    let limit = budget + u64::from(max_object);
    let report = format!(
        "### Cache budget under mixed load\n\n{} s, Envoy `--concurrency 2`, wrk -c20, half the requests over \
         {paths} distinct objects of 1/4/16/64 KB, half over 16 hot ones, budget {budget} B, max object {max_object} B, 256 entries: \
         {} requests ({} non-2xx), {} hits, {} stores, {} evictions; `gatehouse_cache_bytes` sampled \
         {samples} times, max **{max} B** (limit budget + one object = {limit} B): {}.\n",
        duration.as_secs(),
        result.requests,
        result.bad_responses(),
        read("hit;.;gatehouse_cache_lookups_total"),
        read("gatehouse_cache_stores_total"),
        read("gatehouse_cache_evictions_total"),
        if max <= limit { "honored" } else { "EXCEEDED" }
    );
    anyhow::ensure!(max <= limit, "{report}");
    Ok(report)
}
