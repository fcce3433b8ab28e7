//! Sampling variants (`docs/learning.md`): the 1 KB order POST of [`super::shop`] with
//! validation off, sampled at a rate. Batches go to the `backend` cluster (the test
//! backend answers 200 with an empty body), so posting is real; the per-operation cap is lifted so the rate
//! alone decides.

use gatehouse_filter::config::{SamplingPolicy, SamplingSettings};

use super::{shop, Prepared};
use crate::configs;
use crate::envoy::Filter;

/// `capped`: the default per-operation cap (100 per minute per VM) stays, as deployed.
pub fn sampled_orders(rate: f64, capped: bool) -> Prepared {
    let mut config = shop::config("off").unwrap_or_else(|e| panic!("bench API: {e}"));
    for api in &mut config.apis {
        api.defaults.sampling = Some(SamplingPolicy { rate });
    }
    let mut settings = serde_json::json!({
        "collector": "backend",
        // A fixed empty answer, as cheap as the collector's 202 (the echo would send every
        // batch back).
        "path": "/__bytes/0",
    });
    if !capped {
        settings["maxPerOperation"] = u32::MAX.into();
        settings["maxUnmatched"] = u32::MAX.into();
    }
    let settings: SamplingSettings =
        serde_json::from_value(settings).unwrap_or_else(|e| panic!("sampling settings: {e}"));
    config.settings.sampling = Some(settings);
    Prepared {
        filter: Filter::Gatehouse {
            config: configs::to_json(&config),
        },
        paths: vec!["/orders".to_owned()],
        expect_operation: Some("bench/shop/createOrder".to_owned()),
        json_body: Some(shop::order(0).to_string()),
        authorization: None,
        native_jwt_authn: None,
        native_cache: false,
    }
}
