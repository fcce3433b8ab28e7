//! The purge endpoint: an admin path on the filter, guarded by a configured bearer token.
//!
//! `POST <path>?host=H&path=/v1/pets/1` removes every stored response of that path on that
//! host (all query strings, principals and variants); `prefix=/v1/pets` every path under
//! it; `operation=<api>/<operationId>` every response that operation produced. `host` may
//! be left out (any host). Answers `200 {"purged": N}`; a missing or wrong token 401,
//! another method 405, no selector 400. Idempotency records are never purged.

use serde::{Deserialize, Serialize};

use super::store::Store;
use super::with_vm;
use crate::host::{Host, LogLevel};
use crate::jwt::SecretString;
use crate::problem::{LocalReply, Problem};

/// `settings.cache.purge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PurgeSettings {
    /// Request path of the endpoint, on every host (e.g. `/.gatehouse/cache/purge`).
    pub path: String,
    /// Bearer token the purge request must carry (`Authorization: Bearer <token>`).
    pub token: SecretString,
}

/// What to purge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub host: Option<String>,
    pub path: Option<String>,
    pub prefix: Option<String>,
    pub operation: Option<String>,
}

impl Selector {
    /// Parses the query string of a purge request.
    #[must_use]
    pub fn from_query(query: &str) -> Self {
        let mut s = Selector::default();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = crate::percent::decode(&value.replace('+', " "))
                .and_then(|v| String::from_utf8(v).ok());
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            match name {
                "host" => s.host = Some(value.to_ascii_lowercase()),
                "path" => s.path = Some(value),
                "prefix" => s.prefix = Some(value),
                "operation" => s.operation = Some(value),
                _ => {}
            }
        }
        s
    }

    fn is_empty(&self) -> bool {
        self.path.is_none() && self.prefix.is_none() && self.operation.is_none()
    }

    /// Whether a stored object (key, payload) is selected.
    #[must_use]
    pub fn matches(&self, key: &[u8], payload: &[u8]) -> bool {
        let Ok(key) = std::str::from_utf8(key) else {
            return false;
        };
        let mut lines = key.split('\n');
        if lines.next() != Some("C1") {
            return false;
        }
        let (_method, _scheme, host, path) =
            (lines.next(), lines.next(), lines.next(), lines.next());
        if let Some(h) = &self.host {
            if host != Some(h.as_str()) {
                return false;
            }
        }
        let path = path.unwrap_or_default();
        if let Some(p) = &self.path {
            if path != p {
                return false;
            }
        }
        if let Some(p) = &self.prefix {
            let under = path == p
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| p.ends_with('/') || rest.starts_with('/'));
            if !under {
                return false;
            }
        }
        if let Some(op) = &self.operation {
            let produced_by = match super::entry::Payload::decode(payload) {
                Some(super::entry::Payload::Response(s)) => s.operation == *op,
                _ => false,
            };
            if !produced_by {
                return false;
            }
        }
        true
    }
}

/// Constant-time comparison: the token must not leak through timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Answers a request to the purge endpoint; `None` for every other request.
#[must_use]
pub fn admin(
    settings: &crate::config::Settings,
    host: &dyn Host,
    method: &str,
    path: &str,
    headers: &[(String, String)],
) -> Option<LocalReply> {
    let cache = settings.cache.as_ref()?;
    let purge = cache.purge.as_ref()?;
    let (target, query) = path.split_once('?').unwrap_or((path, ""));
    if target != purge.path {
        return None;
    }
    let rid = headers
        .iter()
        .find(|(n, _)| *n == settings.request_id_header)
        .map_or("-", |(_, v)| v.as_str());
    let refuse = |status: u16, slug: &str, title: &'static str, detail: &str| {
        Some(
            Problem::new(status, slug, title, detail, rid)
                .with_instance(target)
                .into_reply(&settings.request_id_header, Vec::new()),
        )
    };
    let token = headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .and_then(|(_, v)| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    if !token.is_some_and(|t| same(t.as_bytes(), purge.token.0.as_bytes())) {
        host.log(
            LogLevel::Warn,
            "cache purge refused: missing or wrong token",
        );
        return refuse(
            401,
            "unauthorized",
            "Unauthorized",
            "a valid purge token is required",
        );
    }
    if method != "POST" {
        return refuse(
            405,
            "method-not-allowed",
            "Method Not Allowed",
            "purge with POST",
        );
    }
    let selector = Selector::from_query(query);
    if selector.is_empty() {
        return refuse(
            400,
            "purge-selector",
            "Bad Request",
            "name what to purge: path, prefix or operation (and optionally host)",
        );
    }
    let store = Store {
        host,
        limits: cache.limits(),
    };
    let purged = store.remove_where(|k, p| selector.matches(k, p));
    with_vm(|vm| {
        vm.count(host, "gatehouse_cache_purges_total", None, 1);
        vm.record_bytes(host, store.used_bytes());
    });
    host.log(
        LogLevel::Info,
        &format!("cache purge {selector:?}: {purged} entries removed"),
    );
    Some(LocalReply {
        status: 200,
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        body: format!("{{\"purged\":{purged}}}").into_bytes(),
    })
}
