//! Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! JWS segments have exactly one encoding, so anything else is refused: `=` padding,
//! the standard alphabet's `+` and `/`, whitespace, a length of 4n+1, and non-canonical
//! trailing bits (the unused low bits of the last character must be zero; otherwise several
//! strings would decode to the same bytes, and a token could be altered without changing
//! its signature segment's meaning).

/// Decodes strict unpadded base64url. `None` on any deviation.
#[must_use]
pub fn decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    for chunk in &mut chunks {
        let mut acc: u32 = 0;
        for &c in chunk {
            acc = (acc << 6) | u32::from(value(c)?);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
    }
    match *chunks.remainder() {
        [] => {}
        [c0, c1] => {
            let (v0, v1) = (value(c0)?, value(c1)?);
            if v1 & 0x0f != 0 {
                return None;
            }
            out.push((v0 << 2) | (v1 >> 4));
        }
        [c0, c1, c2] => {
            let (v0, v1, v2) = (value(c0)?, value(c1)?, value(c2)?);
            if v2 & 0x03 != 0 {
                return None;
            }
            out.push((v0 << 2) | (v1 >> 4));
            out.push((v1 << 4) | (v2 >> 2));
        }
        _ => return None,
    }
    Some(out)
}

/// Encodes as unpadded base64url.
#[must_use]
pub fn encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sym = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        if chunk.len() > 1 {
            out.push(sym(n >> 6));
        }
        if chunk.len() > 2 {
            out.push(sym(n));
        }
    }
    out
}

/// Decodes base64 from a configuration value: standard or URL-safe alphabet, padding
/// optional. Still refuses whitespace and non-canonical trailing bits.
#[must_use]
pub fn decode_config(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.strip_suffix("==").or_else(|| input.strip_suffix('='));
    let body = trimmed.unwrap_or(input);
    if trimmed.is_some() && body.len().is_multiple_of(4) {
        return None; // padding where none belongs
    }
    let mapped: Vec<u8> = body
        .bytes()
        .map(|c| match c {
            b'+' => b'-',
            b'/' => b'_',
            other => other,
        })
        .collect();
    decode(&mapped)
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_lengths() {
        let data: Vec<u8> = (0u8..=255).collect();
        for len in 0..70 {
            let slice = &data[..len];
            let enc = encode(slice);
            assert_eq!(decode(enc.as_bytes()).as_deref(), Some(slice), "len {len}");
        }
    }

    #[test]
    fn rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc.as_bytes()).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(decode(b"-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
    }

    #[test]
    fn refuses_deviations() {
        for bad in [
            "Zg==", "Zg=", "Zm8=", "+/+/", "Zm9 v", "Zm9v\n", "Z", "Zm9vY", "Zh", "Zm9", "Zm-",
            "%41", "Zm9v.", "\u{0}AAA",
        ] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad:?}");
        }
        // Canonical neighbours of the non-canonical strings above decode.
        assert!(decode(b"Zg").is_some());
        assert!(decode(b"Zm8").is_some());
    }

    #[test]
    fn config_decoding_is_lenient_about_alphabet_and_padding() {
        assert_eq!(decode_config("Zm8=").as_deref(), Some(&b"fo"[..]));
        assert_eq!(decode_config("Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(
            decode_config("+/+/").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(decode_config("Zm9v="), None);
        assert_eq!(decode_config("Zm 8"), None);
    }
}
