//! Reading request cookies and writing `Set-Cookie` values, with values split across
//! several cookies when they would pass the ~4 KB browsers keep per cookie.
//!
//! A split value `V` is written as `<name>=<n>.<part 0>`, `<name>.1=<part 1>` ...
//! `<name>.<n-1>`; the count in the first part means a stale extra chunk from a longer
//! earlier session is never glued on (and it is cleared when the new value is written).

/// Bytes of value per cookie (name and attributes stay under 4096 with it).
pub const CHUNK_BYTES: usize = 3800;
/// Most chunks of one value (~30 KB).
pub const MAX_CHUNKS: usize = 8;

/// Values of cookie `name` in the request's `cookie` headers (every header: HTTP/2
/// splits them), first occurrence first.
pub fn find<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    all(headers).find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// Every `(name, value)` pair of the request's cookies.
pub fn all(headers: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((n.trim(), v))
        })
}

/// Name of chunk `i` of cookie `name`.
#[must_use]
pub fn chunk_name(name: &str, i: usize) -> String {
    if i == 0 {
        name.to_owned()
    } else {
        format!("{name}.{i}")
    }
}

/// Reassembles a value written by [`split`]; `None` when the first part is missing or a
/// chunk is missing or malformed.
#[must_use]
pub fn join(headers: &[(String, String)], name: &str) -> Option<String> {
    let first = find(headers, name)?;
    let (count, part) = first.split_once('.')?;
    let count: usize = count.parse().ok()?;
    if count == 0 || count > MAX_CHUNKS || count > 1 && part.len() != CHUNK_BYTES {
        return None;
    }
    let mut value = part.to_owned();
    for i in 1..count {
        let part = find(headers, &chunk_name(name, i))?;
        if part.len() > CHUNK_BYTES || i + 1 < count && part.len() != CHUNK_BYTES {
            return None;
        }
        value.push_str(part);
    }
    Some(value)
}

/// Splits `value` into `(cookie name, cookie value)` pairs; `None` above [`MAX_CHUNKS`].
#[must_use]
pub fn split(name: &str, value: &str) -> Option<Vec<(String, String)>> {
    let parts: Vec<&str> = value
        .as_bytes()
        .chunks(CHUNK_BYTES)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let parts = if parts.is_empty() { vec![""] } else { parts };
    if parts.len() > MAX_CHUNKS {
        return None;
    }
    let count = parts.len();
    Some(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let v = if i == 0 {
                    format!("{count}.{p}")
                } else {
                    p.to_owned()
                };
                (chunk_name(name, i), v)
            })
            .collect(),
    )
}

/// Names of the chunks of `name` present in the request (for clearing).
pub fn present_chunks(headers: &[(String, String)], name: &str) -> Vec<String> {
    (0..MAX_CHUNKS)
        .map(|i| chunk_name(name, i))
        .filter(|n| find(headers, n).is_some())
        .collect()
}

/// Cookie attributes shared by every cookie a client writes.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub domain: Option<&'a str>,
    pub secure: bool,
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` unless turned off.
#[must_use]
pub fn set_cookie(name: &str, value: &str, max_age: u64, attrs: Attributes<'_>) -> String {
    let mut out = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if attrs.secure {
        out.push_str("; Secure");
    }
    if let Some(domain) = attrs.domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    out
}

/// A `Set-Cookie` value that deletes cookie `name`.
#[must_use]
pub fn clear_cookie(name: &str, attrs: Attributes<'_>) -> String {
    set_cookie(name, "", 0, attrs)
}

/// The request's `cookie` header without the cookies `drop` says; `None` when nothing
/// is left.
pub fn without(headers: &[(String, String)], drop: impl Fn(&str) -> bool) -> Option<String> {
    let kept: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| !drop(pair.split_once('=').map_or(*pair, |(n, _)| n.trim())))
        .map(str::to_owned)
        .collect();
    if kept.is_empty() {
        None
    } else {
        Some(kept.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_headers(pairs: &[(String, String)]) -> Vec<(String, String)> {
        let line: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        vec![("cookie".to_owned(), line.join("; "))]
    }

    #[test]
    fn small_and_large_values_round_trip() {
        for len in [
            0usize,
            1,
            100,
            CHUNK_BYTES,
            CHUNK_BYTES + 1,
            3 * CHUNK_BYTES + 17,
        ] {
            let value: String = "a".repeat(len);
            let parts = split("s", &value).unwrap();
            assert_eq!(parts.len(), len.div_ceil(CHUNK_BYTES).max(1));
            for (_, v) in &parts {
                assert!(v.len() <= CHUNK_BYTES + 2);
            }
            assert_eq!(join(&cookie_headers(&parts), "s").unwrap(), value);
        }
        assert!(split("s", &"a".repeat(MAX_CHUNKS * CHUNK_BYTES + 1)).is_none());
    }

    #[test]
    fn stale_or_missing_chunks_do_not_reassemble_into_something_else() {
        let long = split("s", &"b".repeat(2 * CHUNK_BYTES + 5)).unwrap();
        let short = split("s", "c").unwrap();
        // A shorter new value next to a stale chunk of the old one: only the new value.
        let mut mixed = short.clone();
        mixed.push(long[1].clone());
        mixed.push(long[2].clone());
        assert_eq!(join(&cookie_headers(&mixed), "s").unwrap(), "c");
        // A chunk missing: nothing.
        let missing = vec![long[0].clone(), long[2].clone()];
        assert!(join(&cookie_headers(&missing), "s").is_none());
        // Malformed counts.
        for bad in ["x", "0.abc", "9.abc", "2.short"] {
            let h = vec![("cookie".to_owned(), format!("s={bad}; s.1=zz"))];
            assert!(join(&h, "s").is_none(), "{bad}");
        }
        assert!(join(&[], "s").is_none());
    }

    #[test]
    fn cookie_parsing_and_rewriting() {
        let h = vec![
            ("cookie".to_owned(), "a=1; s=\"2.x\"; b=3".to_owned()),
            ("Cookie".to_owned(), "s.1=y; c=4".to_owned()),
        ];
        assert_eq!(find(&h, "s"), Some("2.x"));
        assert_eq!(find(&h, "s.1"), Some("y"));
        assert_eq!(present_chunks(&h, "s"), vec!["s", "s.1"]);
        assert_eq!(
            without(&h, |n| n == "s" || n.starts_with("s.")).unwrap(),
            "a=1; b=3; c=4"
        );
        assert!(without(&h, |_| true).is_none());
        let set = set_cookie(
            "s",
            "v",
            60,
            Attributes {
                domain: Some("example.com"),
                secure: true,
            },
        );
        assert_eq!(
            set,
            "s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure; Domain=example.com"
        );
        assert!(!clear_cookie(
            "s",
            Attributes {
                domain: None,
                secure: false
            }
        )
        .contains("Secure"));
    }
}
