//! Response caching on the controller side: the `x-gatehouse-cache` OpenAPI extension on
//! operations, and `gatehouse cache purge` (a client of the filter's purge endpoint).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use gatehouse_filter::config::CachePolicy;
use serde_json::Value;

/// Name of the operation-level OpenAPI extension.
pub const EXTENSION: &str = "x-gatehouse-cache";

/// The cache policy an operation object declares with `x-gatehouse-cache`: `true` (cached
/// with defaults), `false`, or an object with the fields of `policies.*.cache`
/// (`docs/caching.md`). `Err` carries the message for the extension's pointer.
pub fn extension(operation: &Value) -> Result<Option<CachePolicy>, String> {
    let Some(value) = operation.get(EXTENSION) else {
        return Ok(None);
    };
    match value {
        Value::Bool(enabled) => Ok(Some(CachePolicy {
            enabled: *enabled,
            ..CachePolicy::default()
        })),
        Value::Object(fields) => {
            let mut value = value.clone();
            // `enabled` may be left out: declaring the extension means caching.
            if !fields.contains_key("enabled") {
                if let Some(map) = value.as_object_mut() {
                    map.insert("enabled".into(), Value::Bool(true));
                }
            }
            serde_json::from_value(value)
                .map(Some)
                .map_err(|e| format!("invalid {EXTENSION}: {e}"))
        }
        _ => Err(format!("{EXTENSION} must be true, false or an object")),
    }
}

/// What `gatehouse cache purge` removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeTarget {
    pub host: Option<String>,
    pub path: Option<String>,
    pub prefix: Option<String>,
    pub operation: Option<String>,
}

impl PurgeTarget {
    /// The purge endpoint's query string.
    #[must_use]
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("host", &self.host),
            ("path", &self.path),
            ("prefix", &self.prefix),
            ("operation", &self.operation),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name}={}", encode(v)));
            }
        }
        parts.join("&")
    }
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends the purge to `endpoint` (`http://HOST:PORT/PATH`, the proxy's listener and the
/// configured `settings.cache.purge.path`) and returns how many entries were removed.
/// Plain HTTP only: run it where the proxy's listener is reachable (a port-forward, the
/// mesh); every worker VM shares the store, so one request purges the whole proxy.
pub fn purge(endpoint: &str, token: &str, target: &PurgeTarget) -> anyhow::Result<u64> {
    let rest = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--endpoint must be http://HOST:PORT/PATH"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let host_header = target.host.as_deref().unwrap_or(authority);
    let request = format!(
        "POST {path}?{} HTTP/1.1\r\nHost: {host_header}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
        target.query()
    );
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if status != 200 {
        anyhow::bail!("purge refused with status {status}: {}", body.trim());
    }
    let answer: Value = serde_json::from_str(body.trim())
        .map_err(|e| anyhow::anyhow!("unexpected purge answer {body:?}: {e}"))?;
    answer
        .get("purged")
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow::anyhow!("unexpected purge answer {body:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    #[test]
    fn the_extension_reads_booleans_and_objects() {
        assert_eq!(extension(&json!({})).unwrap(), None);
        assert!(
            extension(&json!({"x-gatehouse-cache": true}))
                .unwrap()
                .unwrap()
                .enabled
        );
        let p = extension(
            &json!({"x-gatehouse-cache": {"defaultTtlSeconds": 30, "public": true,
            "keyHeaders": ["accept-language"]}}),
        )
        .unwrap()
        .unwrap();
        assert!(p.enabled && p.public);
        assert_eq!(p.default_ttl_seconds, 30);
        assert_eq!(p.key_headers, vec!["accept-language".to_owned()]);
        let e = extension(&json!({"x-gatehouse-cache": {"ttl": 3}})).unwrap_err();
        assert!(e.contains("ttl"), "{e}");
        assert!(extension(&json!({"x-gatehouse-cache": 5})).is_err());
    }

    #[test]
    fn purge_posts_the_selector_with_the_token() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n{\"purged\":3}")
                .unwrap();
            req
        });
        let target = PurgeTarget {
            host: Some("pets.test".into()),
            prefix: Some("/v1/pets".into()),
            ..PurgeTarget::default()
        };
        let n = purge(
            &format!("http://{addr}/.gatehouse/cache/purge"),
            "tok",
            &target,
        )
        .unwrap();
        assert_eq!(n, 3);
        let req = server.join().unwrap();
        assert!(
            req.starts_with("POST /.gatehouse/cache/purge?host=pets.test&prefix=/v1/pets HTTP/1.1"),
            "{req}"
        );
        assert!(req.contains("Authorization: Bearer tok\r\n"));
        assert!(req.contains("Host: pets.test\r\n"));
        assert_eq!(
            PurgeTarget {
                operation: Some("default/pets getPet".into()),
                ..PurgeTarget::default()
            }
            .query(),
            "operation=default/pets%20getPet"
        );
    }
}
