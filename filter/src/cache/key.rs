//! Cache keys: what makes two requests share a stored response.
//!
//! Primary key (one line per part, `\n` never appears in a part):
//! `C1`, `GET` (HEAD shares GET's entries), scheme, host (lower case, default port
//! dropped), path, normalized query, each listed header `name=value` (normalized), and the
//! partition: `*` (shared, the operation declares its responses public or the request
//! carries no credentials) or `p:<principal>`. A response with `Vary` stores a marker under
//! the primary key and the response under primary + nonce + the varied request headers.

use super::CompiledCachePolicy;

/// Who a response may be shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partition {
    Shared,
    Principal(String),
}

/// Collapses whitespace runs and trims (RFC 9111 §4.1 normalization of field values), so
/// `gzip,  br` and `gzip, br` select the same variant.
#[must_use]
pub fn normalize_value(value: &str) -> String {
    value
        .split(',')
        .map(|part| part.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// Every copy of a request header joined with `,`, normalized; `None` when absent.
#[must_use]
pub fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| normalize_value(v))
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Query pairs sorted, filtered by the policy's include/exclude lists (names compared
/// as sent, percent-encoding included).
#[must_use]
pub fn normalize_query(query: &str, policy: &CompiledCachePolicy) -> String {
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split_once('=').map_or(*p, |(n, _)| n);
            (policy.query_include.is_empty() || policy.query_include.iter().any(|i| i == name))
                && !policy.query_exclude.iter().any(|e| e == name)
        })
        .collect();
    pairs.sort_unstable();
    pairs.join("&")
}

/// Host as keyed: lower case, `:80`/`:443` dropped (same origin either way).
#[must_use]
pub fn normalize_host(authority: &str, scheme: &str) -> String {
    let host = authority.trim().trim_end_matches('.').to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    host.strip_suffix(default)
        .map(str::to_owned)
        .unwrap_or(host)
}

/// The primary key of a request for `path` (raw, query included).
#[must_use]
pub fn primary(
    scheme: &str,
    authority: &str,
    path: &str,
    headers: &[(String, String)],
    partition: &Partition,
    policy: &CompiledCachePolicy,
) -> String {
    let path = path.split('#').next().unwrap_or_default();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut key = String::with_capacity(64 + path.len() + query.len());
    key.push_str("C1\nGET\n");
    key.push_str(scheme);
    key.push('\n');
    key.push_str(&normalize_host(authority, scheme));
    key.push('\n');
    key.push_str(&clean(path));
    key.push('\n');
    key.push_str(&clean(&normalize_query(query, policy)));
    for name in &policy.key_headers {
        key.push('\n');
        key.push_str(name);
        key.push('=');
        key.push_str(&clean(&header_value(headers, name).unwrap_or_default()));
    }
    key.push('\n');
    match partition {
        Partition::Shared => key.push('*'),
        Partition::Principal(p) => {
            key.push_str("p:");
            key.push_str(&clean(p));
        }
    }
    key
}

/// The key of one variant of a primary key whose responses vary on `names`.
#[must_use]
pub fn variant(
    primary: &str,
    nonce: u64,
    names: &[String],
    headers: &[(String, String)],
) -> String {
    let mut key = format!("{primary}\nV{nonce:x}");
    for name in names {
        key.push('\n');
        key.push_str(name);
        key.push('=');
        key.push_str(&clean(&header_value(headers, name).unwrap_or_default()));
    }
    key
}

/// Names of a `Vary` field, lower case, sorted and deduplicated; `None` for `Vary: *`.
#[must_use]
pub fn vary_names<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for value in values {
        for name in super::control::split_list(value) {
            if name == "*" {
                return None;
            }
            names.push(name.to_ascii_lowercase());
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

fn clean(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
