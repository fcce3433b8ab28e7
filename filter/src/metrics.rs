//! `gatehouse_*` counters.
//!
//! The proxy-wasm ABI has no metric tags, so tags travel in the name in Istio's encoding
//! (`api=.=default/pets;.;operation=.=getPet;.;result=.=routed;.;gatehouse_requests_total`);
//! Envoy's `stats_tags` extractors (`(api=\.=(.*?);\.;)`) turn them into Prometheus labels
//! (see `docs/filter-config.md#metrics`). Counters are defined lazily, once per VM, so a
//! 5,000-operation API does not define 30,000 stats up front.

use std::collections::HashMap;

use crate::host::Host;

/// Outcome label of `gatehouse_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestResult {
    /// Matched an operation and forwarded.
    Routed,
    /// Unknown route on a non-strict API, forwarded.
    Passthrough,
    /// Unknown route on a strict API: 404.
    NotFound,
    /// Known path, other method, strict API: 405.
    MethodNotAllowed,
    /// Path that cannot be routed safely: 400.
    Malformed,
    /// No API for this host and path.
    Unmanaged,
}

impl RequestResult {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            RequestResult::Routed => "routed",
            RequestResult::Passthrough => "passthrough",
            RequestResult::NotFound => "not_found",
            RequestResult::MethodNotAllowed => "method_not_allowed",
            RequestResult::Malformed => "malformed",
            RequestResult::Unmanaged => "unmanaged",
        }
    }
}

/// What a request counter is about: API and operation by index (`None`: no API / no
/// operation matched), so counting allocates nothing.
pub type RequestKey = (Option<usize>, Option<usize>, RequestResult);

/// Per-VM cache of defined counter ids.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: HashMap<RequestKey, Option<u32>>,
}

impl Metrics {
    /// Counts one request; `api` and `operation` are the label values, used only the
    /// first time this key is seen.
    pub fn count_request(&mut self, host: &dyn Host, key: RequestKey, api: &str, operation: &str) {
        let result = key.2;
        let id = *self.requests.entry(key).or_insert_with(|| {
            host.define_counter(&tagged_name(
                "gatehouse_requests_total",
                &[
                    ("api", api),
                    ("operation", operation),
                    ("result", result.label()),
                ],
            ))
        });
        if let Some(id) = id {
            host.increment_counter(id, 1);
        }
    }
}

/// Encodes tags into a stat name the way Envoy's extractors expect.
#[must_use]
pub fn tagged_name(name: &str, tags: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in tags {
        out.push_str(key);
        out.push_str("=.=");
        // `;` and `=` would end the tag early; stat names also reserve `.` as a separator
        // only outside the encoded tags, which the extractor's lazy match handles.
        out.extend(
            value
                .chars()
                .map(|c| if c == ';' || c == '=' { '_' } else { c }),
        );
        out.push_str(";.;");
    }
    out.push_str(name);
    out
}
