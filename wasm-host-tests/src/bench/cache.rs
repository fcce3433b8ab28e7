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
