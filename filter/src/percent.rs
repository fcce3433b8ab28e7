//! Percent-decoding (RFC 3986 §2.1), shared by the router (path segments) and the
//! parameter reader (query, cookie and form values); each adds its own rules on top.

/// Decodes every `%XX`; `None` when a `%` is not followed by two hex digits.
#[must_use]
pub fn decode(raw: &str) -> Option<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_and_refuses_truncated_escapes() {
        assert_eq!(decode("a%20b%2F%c3%a9").unwrap(), b"a b/\xc3\xa9");
        assert_eq!(decode("plain").unwrap(), b"plain");
        for bad in ["%", "%4", "%zz", "a%g0"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
