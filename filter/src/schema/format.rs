//! `format` assertions: RFC 3339 dates and times, e-mail addresses, host names, IP
//! addresses, URIs, UUIDs, base64 (`byte`) and the OpenAPI integer formats.
//!
//! Every check is a hand-written parser over bytes: no regex, no allocation.

use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::json::{as_f64, is_integer};

/// An asserted format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Format {
    DateTime,
    Date,
    Time,
    Duration,
    Email,
    Hostname,
    /// `hostname` of draft 4: RFC 1123 letters, digits and hyphens only.
    HostnameLdh,
    Ipv4,
    Ipv6,
    Uri,
    UriReference,
    Uuid,
    Byte,
    Int32,
    Int64,
}

impl Format {
    /// The format of a `format` keyword value; `None` for formats that are not asserted.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "date-time" => Format::DateTime,
            "date" => Format::Date,
            "time" => Format::Time,
            "duration" => Format::Duration,
            "email" => Format::Email,
            "hostname" => Format::Hostname,
            "ipv4" => Format::Ipv4,
            "ipv6" => Format::Ipv6,
            "uri" => Format::Uri,
            "uri-reference" => Format::UriReference,
            "uuid" => Format::Uuid,
            "byte" => Format::Byte,
            "int32" => Format::Int32,
            "int64" => Format::Int64,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Duration => "duration",
            Format::Email => "email",
            Format::Hostname | Format::HostnameLdh => "hostname",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::Uri => "uri",
            Format::UriReference => "uri-reference",
            Format::Uuid => "uuid",
            Format::Byte => "byte",
            Format::Int32 => "int32",
            Format::Int64 => "int64",
        }
    }

    /// Checks a string instance (numeric formats accept every string).
    pub fn check_str(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            Format::DateTime => is_date_time(b),
            Format::Date => is_date(b),
            Format::Time => is_time(b),
            Format::Duration => is_duration(b),
            Format::Email => is_email(b),
            Format::Hostname => is_hostname(s, true),
            Format::HostnameLdh => is_hostname(s, false),
            Format::Ipv4 => is_ipv4(b),
            Format::Ipv6 => is_ipv6(b),
            Format::Uri => is_uri(b, true),
            Format::UriReference => is_uri(b, false),
            Format::Uuid => is_uuid(b),
            Format::Byte => is_base64(b),
            Format::Int32 | Format::Int64 => true,
        }
    }

    /// Checks a number instance (string formats accept every number).
    pub fn check_number(self, n: &Number) -> bool {
        match self {
            Format::Int32 => in_range(n, i64::from(i32::MIN), i64::from(i32::MAX)),
            Format::Int64 => {
                n.is_i64() || (is_integer(n) && !n.is_u64() && fits_i64_float(as_f64(n)))
            }
            _ => true,
        }
    }
}

fn fits_i64_float(f: f64) -> bool {
    // 2^63 is the first float outside i64.
    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
}

fn in_range(n: &Number, min: i64, max: i64) -> bool {
    if let Some(i) = n.as_i64() {
        return (min..=max).contains(&i);
    }
    if n.is_u64() {
        return false;
    }
    #[allow(clippy::cast_precision_loss)]
    let (lo, hi) = (min as f64, max as f64);
    is_integer(n) && (lo..=hi).contains(&as_f64(n))
}

/// `n` ASCII digits at `b[at..]`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for i in 0..n {
        let d = *b.get(at + i)?;
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(d - b'0');
    }
    Some(v)
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// `full-date` at the start of `b`; returns its length (10).
fn date_prefix(b: &[u8]) -> Option<usize> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let max = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return None,
    };
    (1..=max).contains(&day).then_some(10)
}

fn is_date(b: &[u8]) -> bool {
    date_prefix(b) == Some(b.len())
}

/// `full-time`: `HH:MM:SS[.frac](Z|±HH:MM)`, leap seconds only at 23:59 UTC.
fn is_time(b: &[u8]) -> bool {
    let (Some(h), Some(m), Some(s)) = (digits(b, 0, 2), digits(b, 3, 2), digits(b, 6, 2)) else {
        return false;
    };
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') || h > 23 || m > 59 || s > 60 {
        return false;
    }
    let mut i = 8;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let (Some(oh), Some(om)) = (digits(b, i + 1, 2), digits(b, i + 4, 2)) else {
                return false;
            };
            if b.get(i + 3) != Some(&b':') || oh > 23 || om > 59 {
                return false;
            }
            i += 6;
            let v = i64::from(oh * 60 + om);
            if sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return false,
    };
    if i != b.len() {
        return false;
    }
    if s == 60 {
        let utc = (i64::from(h * 60 + m) - offset_minutes).rem_euclid(24 * 60);
        return utc == 23 * 60 + 59;
    }
    true
}

fn is_date_time(b: &[u8]) -> bool {
    date_prefix(b).is_some()
        && matches!(b.get(10), Some(b'T' | b't'))
        && b.get(11..).is_some_and(is_time)
}

/// RFC 3339 Appendix A `duration` (no fractions, no signs, weeks alone).
fn is_duration(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"P") else {
        return false;
    };
    // Split off the time part.
    let (date, time) = match rest.iter().position(|&c| c == b'T') {
        Some(i) => (
            rest.get(..i).unwrap_or(&[]),
            Some(rest.get(i + 1..).unwrap_or(&[])),
        ),
        None => (rest, None),
    };
    let Some(date_units) = units(date) else {
        return false;
    };
    let time_units = match time {
        Some(t) => match units(t) {
            Some(u) if !u.is_empty() => Some(u),
            _ => return false,
        },
        None => None,
    };
    if date_units.is_empty() && time_units.is_none() {
        return false;
    }
    if date_units.as_slice() == b"W" {
        return time_units.is_none();
    }
    let date_ok = matches!(
        date_units.as_slice(),
        b"" | b"D" | b"M" | b"MD" | b"Y" | b"YM" | b"YMD"
    );
    let time_ok = time_units
        .as_ref()
        .is_none_or(|u| matches!(u.as_slice(), b"H" | b"HM" | b"HMS" | b"M" | b"MS" | b"S"));
    date_ok && time_ok
}

/// The unit letters of `1*DIGIT unit` elements; `None` when malformed.
fn units(b: &[u8]) -> Option<UnitList> {
    let mut list = UnitList::default();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let unit = *b.get(i)?;
        if i == start || !unit.is_ascii_uppercase() {
            return None;
        }
        list.push(unit)?;
        i += 1;
    }
    Some(list)
}

/// Up to four unit letters, without allocation.
#[derive(Default)]
struct UnitList {
    buf: [u8; 4],
    len: usize,
}

impl UnitList {
    fn push(&mut self, c: u8) -> Option<()> {
        *self.buf.get_mut(self.len)? = c;
        self.len += 1;
        Some(())
    }
    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn is_ipv4(b: &[u8]) -> bool {
    let mut parts = 0;
    for part in b.split(|&c| c == b'.') {
        parts += 1;
        if part.is_empty()
            || part.len() > 3
            || !part.iter().all(u8::is_ascii_digit)
            || (part.len() > 1 && part.first() == Some(&b'0'))
        {
            return false;
        }
        let v = part
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        if v > 255 {
            return false;
        }
    }
    parts == 4
}

fn is_ipv6(b: &[u8]) -> bool {
    if b.len() < 2 || b.len() > 45 {
        return false;
    }
    // Find "::" (at most one).
    let double = b.windows(2).position(|w| w == b"::");
    let (head, tail) = match double {
        Some(i) => {
            let tail = b.get(i + 2..).unwrap_or(&[]);
            if tail.windows(2).any(|w| w == b"::") || tail.first() == Some(&b':') {
                return false;
            }
            (b.get(..i).unwrap_or(&[]), Some(tail))
        }
        None => (b, None),
    };
    let mut groups = 0;
    for (part, is_last_part) in [(head, tail.is_none()), (tail.unwrap_or(&[]), true)] {
        if part.is_empty() {
            continue;
        }
        let mut pieces = part.split(|&c| c == b':').peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            if is_last_part && last && piece.contains(&b'.') {
                if !is_ipv4(piece) {
                    return false;
                }
                groups += 2;
                continue;
            }
            if piece.is_empty() || piece.len() > 4 || !piece.iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            groups += 1;
        }
        if tail.is_none() {
            break;
        }
    }
    if double.is_some() {
        groups <= 7
    } else {
        groups == 8
    }
}

/// RFC 1123 host name: dot-separated LDH labels of 1..63 characters, 253 in all; A-labels
/// (`xn--`) must decode as Punycode and pass the simple IDNA2008 contextual rules.
fn is_hostname(s: &str, idna: bool) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 253 {
        return false;
    }
    b.split(|&c| c == b'.').all(|label| {
        let ldh = !label.is_empty()
            && label.len() <= 63
            && label
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-');
        if !ldh {
            return false;
        }
        if idna && label.get(2..4) == Some(b"--") {
            // Reserved for A-labels.
            let is_a_label = label
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"xn"));
            return is_a_label && label.get(4..).is_some_and(is_a_label_ok);
        }
        true
    })
}

fn is_a_label_ok(encoded: &[u8]) -> bool {
    let Some(decoded) = punycode_decode(encoded) else {
        return false;
    };
    if decoded.get(2..4) == Some(&['-', '-']) {
        return false;
    }
    idna_context_ok(&decoded)
}

/// RFC 3492 Punycode decoding.
fn punycode_decode(input: &[u8]) -> Option<Vec<char>> {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    let (basic, rest) = match input.iter().rposition(|&c| c == b'-') {
        Some(i) => (input.get(..i)?, input.get(i + 1..)?),
        None => (&[][..], input),
    };
    let mut out: Vec<char> = basic.iter().map(|&c| char::from(c)).collect();
    if rest.is_empty() && out.is_empty() {
        return None;
    }
    let mut n: u32 = 128;
    let mut i: u32 = 0;
    let mut bias: u32 = 72;
    let mut pos = 0;
    while pos < rest.len() {
        let old_i = i;
        let mut w: u32 = 1;
        let mut k = BASE;
        loop {
            let c = *rest.get(pos)?;
            pos += 1;
            let digit = match c {
                b'a'..=b'z' => u32::from(c - b'a'),
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'0'..=b'9' => u32::from(c - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                TMIN
            } else if k >= bias + TMAX {
                TMAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = u32::try_from(out.len()).ok()? + 1;
        // Bias adaptation.
        let mut delta = if old_i == 0 {
            (i - old_i) / DAMP
        } else {
            (i - old_i) / 2
        };
        delta += delta / len;
        let mut kk = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            kk += BASE;
        }
        bias = kk + (((BASE - TMIN + 1) * delta) / (delta + SKEW));
        n = n.checked_add(i / len)?;
        i %= len;
        let c = char::from_u32(n)?;
        out.insert(usize::try_from(i).ok()?, c);
        i += 1;
    }
    Some(out)
}

/// The IDNA2008 CONTEXTO rules that need no Unicode tables (RFC 5892 Appendix A).
fn idna_context_ok(label: &[char]) -> bool {
    let is_greek =
        |c: char| ('\u{370}'..='\u{3FF}').contains(&c) || ('\u{1F00}'..='\u{1FFF}').contains(&c);
    let is_hebrew = |c: char| ('\u{590}'..='\u{5FF}').contains(&c);
    let arabic_indic = label.iter().any(|c| ('\u{660}'..='\u{669}').contains(c));
    let extended = label.iter().any(|c| ('\u{6F0}'..='\u{6F9}').contains(c));
    if arabic_indic && extended {
        return false;
    }
    for (i, &c) in label.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| label.get(p)).copied();
        let next = label.get(i + 1).copied();
        let ok = match c {
            '\u{B7}' => prev == Some('l') && next == Some('l'),
            '\u{375}' => next.is_some_and(is_greek),
            '\u{5F3}' | '\u{5F4}' => prev.is_some_and(is_hebrew),
            '\u{30FB}' => label.iter().any(|&x| {
                x != '\u{30FB}'
                    && (('\u{3040}'..='\u{30FF}').contains(&x)
                        || ('\u{4E00}'..='\u{9FFF}').contains(&x)
                        || ('\u{3400}'..='\u{4DBF}').contains(&x))
            }),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c)
}

/// RFC 5321 `Mailbox`: dot-atom or quoted local part, host name or address literal.
fn is_email(b: &[u8]) -> bool {
    let (local_len, domain) = if b.first() == Some(&b'"') {
        let mut i = 1;
        loop {
            match b.get(i) {
                Some(b'"') => break,
                Some(b'\\') => {
                    if !b.get(i + 1).is_some_and(|c| (0x20..0x7F).contains(c)) {
                        return false;
                    }
                    i += 2;
                }
                Some(&c) if (0x20..0x7F).contains(&c) => i += 1,
                _ => return false,
            }
        }
        if b.get(i + 1) != Some(&b'@') {
            return false;
        }
        (i + 1, b.get(i + 2..).unwrap_or(&[]))
    } else {
        let Some(at) = b.iter().rposition(|&c| c == b'@') else {
            return false;
        };
        let local = b.get(..at).unwrap_or(&[]);
        let atoms_ok = local
            .split(|&c| c == b'.')
            .all(|atom| !atom.is_empty() && atom.iter().all(|&c| is_atext(c)));
        if local.is_empty() || !atoms_ok {
            return false;
        }
        (at, b.get(at + 1..).unwrap_or(&[]))
    };
    if local_len > 64 + 2 || domain.is_empty() {
        return false;
    }
    if let Some(literal) = domain.strip_prefix(b"[").and_then(|d| d.strip_suffix(b"]")) {
        return match literal.strip_prefix(b"IPv6:") {
            Some(v6) => is_ipv6(v6),
            None => is_ipv4(literal),
        };
    }
    std::str::from_utf8(domain).is_ok_and(|d| is_hostname(d, true))
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_base64(b: &[u8]) -> bool {
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let padding = b.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return false;
    }
    b.get(..b.len() - padding).is_some_and(|body| {
        body.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    })
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Every byte is allowed by `ok` or is part of a valid `%XX` escape.
fn all_chars(b: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else if ok(c) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn is_pchar(c: u8) -> bool {
    is_unreserved(c) || is_sub_delim(c) || c == b':' || c == b'@'
}

fn is_authority(a: &[u8]) -> bool {
    let (userinfo, hostport) = match a.iter().position(|&c| c == b'@') {
        Some(i) => (
            Some(a.get(..i).unwrap_or(&[])),
            a.get(i + 1..).unwrap_or(&[]),
        ),
        None => (None, a),
    };
    if let Some(u) = userinfo {
        if !all_chars(u, |c| is_unreserved(c) || is_sub_delim(c) || c == b':') {
            return false;
        }
    }
    let (host, port) = if hostport.first() == Some(&b'[') {
        let Some(end) = hostport.iter().position(|&c| c == b']') else {
            return false;
        };
        let literal = hostport.get(1..end).unwrap_or(&[]);
        let ok = if literal.first().is_some_and(|c| *c == b'v' || *c == b'V') {
            // IPvFuture
            literal.contains(&b'.')
        } else {
            is_ipv6(literal)
        };
        if !ok {
            return false;
        }
        let rest = hostport.get(end + 1..).unwrap_or(&[]);
        match rest.split_first() {
            None => return true,
            Some((b':', port)) => (&b""[..], port),
            Some(_) => return false,
        }
    } else {
        match hostport.iter().rposition(|&c| c == b':') {
            Some(i) => (
                hostport.get(..i).unwrap_or(&[]),
                hostport.get(i + 1..).unwrap_or(&[]),
            ),
            None => (hostport, &b""[..]),
        }
    };
    all_chars(host, |c| is_unreserved(c) || is_sub_delim(c)) && port.iter().all(u8::is_ascii_digit)
}

/// RFC 3986 `URI` (`require_scheme`) or `URI-reference`.
fn is_uri(b: &[u8], require_scheme: bool) -> bool {
    // Fragment and query.
    let (rest, fragment) = match b.iter().position(|&c| c == b'#') {
        Some(i) => (
            b.get(..i).unwrap_or(&[]),
            Some(b.get(i + 1..).unwrap_or(&[])),
        ),
        None => (b, None),
    };
    let (rest, query) = match rest.iter().position(|&c| c == b'?') {
        Some(i) => (
            rest.get(..i).unwrap_or(&[]),
            Some(rest.get(i + 1..).unwrap_or(&[])),
        ),
        None => (rest, None),
    };
    let qf_ok = |part: Option<&[u8]>| {
        part.is_none_or(|p| all_chars(p, |c| is_pchar(c) || c == b'/' || c == b'?'))
    };
    if !qf_ok(query) || !qf_ok(fragment) {
        return false;
    }
    // Scheme.
    let colon = rest.iter().position(|&c| c == b':');
    let first_delim = rest.iter().position(|&c| c == b'/');
    let scheme_end = match (colon, first_delim) {
        (Some(c), Some(s)) if c < s => Some(c),
        (Some(c), None) => Some(c),
        _ => None,
    };
    let hier = match scheme_end {
        Some(end) => {
            let scheme = rest.get(..end).unwrap_or(&[]);
            let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
                && scheme
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
            if !valid {
                // A colon in the first segment of a relative reference is not allowed.
                return false;
            }
            rest.get(end + 1..).unwrap_or(&[])
        }
        None => {
            if require_scheme {
                return false;
            }
            rest
        }
    };
    let path = if let Some(after) = hier.strip_prefix(b"//") {
        let end = after.iter().position(|&c| c == b'/').unwrap_or(after.len());
        if !is_authority(after.get(..end).unwrap_or(&[])) {
            return false;
        }
        after.get(end..).unwrap_or(&[])
    } else {
        hier
    };
    all_chars(path, |c| is_pchar(c) || c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_formats() {
        assert!(Format::Byte.check_str("aGVsbG8="));
        assert!(Format::Byte.check_str(""));
        assert!(!Format::Byte.check_str("aGVsbG8"));
        assert!(!Format::Byte.check_str("a=b="));
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => n,
            _ => unreachable!(),
        };
        assert!(Format::Int32.check_number(&n(serde_json::json!(2_147_483_647))));
        assert!(!Format::Int32.check_number(&n(serde_json::json!(2_147_483_648_i64))));
        assert!(Format::Int32.check_number(&n(serde_json::json!(-2_147_483_648_i64))));
        assert!(Format::Int32.check_number(&n(serde_json::json!(5.0))));
        assert!(!Format::Int32.check_number(&n(serde_json::json!(5.5))));
        assert!(Format::Int64.check_number(&n(serde_json::json!(i64::MIN))));
        assert!(!Format::Int64.check_number(&n(serde_json::json!(u64::MAX))));
        assert!(!Format::Int64.check_number(&n(serde_json::json!(1e19))));
    }

    #[test]
    fn punycode() {
        let d: String = punycode_decode(b"9n2bp8q").unwrap().into_iter().collect();
        assert_eq!(d, "실례");
        assert!(punycode_decode(b"X").is_none());
    }
}
