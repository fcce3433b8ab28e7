//! Reduces values to shapes. Every function here takes a value from the traffic and
//! returns only its type, format and length class; the single exception is an enum
//! candidate, a short word-like string that [`Evidence`] has seen before at the same place
//! and that matches no sensitive pattern.

use std::collections::BTreeMap;

use serde_json::Value;

use super::contract::{Format, Kind, Len, Shape};

/// Bounds on the work spent on one body.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deeper values are not looked at (`any`, `truncated`).
    pub max_depth: usize,
    /// Properties looked at per object.
    pub max_properties: usize,
    /// Elements looked at per array.
    pub max_elements: usize,
    /// Distinct element shapes kept per array.
    pub max_item_shapes: usize,
    /// Property names are sent only once an earlier document had them at the same place
    /// (always, in the proxy). Off for offline sources the user owns (HAR files).
    pub name_evidence: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_properties: 64,
            max_elements: 32,
            max_item_shapes: 4,
            name_evidence: true,
        }
    }
}

/// Longest string considered as an enum candidate.
const MAX_CANDIDATE: usize = 24;
/// Fingerprints remembered for name and enum evidence (8 bytes each).
const EVIDENCE_SLOTS: usize = 8192;

/// Words that make a property name or a value unfit to be an enum candidate.
const SENSITIVE: [&str; 22] = [
    "pass", "pwd", "secret", "token", "key", "auth", "bearer", "session", "cookie", "cred", "ssn",
    "card", "cvv", "cvc", "pin", "iban", "account", "email", "phone", "name", "address", "otp",
];

/// Per-VM memory of which names and short strings were seen where: a property name is
/// sent, and a string becomes an enum candidate, only once it has appeared at the same
/// place in an earlier document, so a key or value unique to one request (a secret, an
/// id) is never sent. A direct-mapped table of 32-bit fingerprints, fixed size (64 KB):
/// a collision evicts, it never merges two strings.
#[derive(Debug, Default)]
pub struct Evidence {
    slots: Vec<u64>,
    /// Sequence number of the current document; a repeat within one document is no
    /// evidence.
    document: u32,
}

impl Evidence {
    /// Starts a new document.
    pub fn next_document(&mut self) {
        self.document = self.document.wrapping_add(1);
    }

    /// Records `value` at `place`; whether an earlier document had it there.
    fn repeated(&mut self, place: u64, value: &str) -> bool {
        match self.peek(place, value) {
            Seen::Earlier => true,
            Seen::ThisDocument => false,
            Seen::Never => {
                self.record(place, value);
                false
            }
        }
    }

    fn slot(place: u64, value: &str) -> (usize, u64) {
        // FNV's low bits depend only on low bits: mix before picking a slot.
        let mut h = hash_str(place, value);
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        let fingerprint = (h >> 32) | 1;
        let slot = usize::try_from(h % EVIDENCE_SLOTS as u64).unwrap_or(0);
        (slot, fingerprint)
    }

    /// Whether `value` was seen at `place`, without recording it.
    fn peek(&self, place: u64, value: &str) -> Seen {
        let (slot, fingerprint) = Self::slot(place, value);
        match self.slots.get(slot) {
            Some(entry) if *entry >> 32 == fingerprint => {
                if (*entry & 0xffff_ffff) as u32 == self.document {
                    Seen::ThisDocument
                } else {
                    Seen::Earlier
                }
            }
            _ => Seen::Never,
        }
    }

    fn record(&mut self, place: u64, value: &str) {
        if self.slots.is_empty() {
            self.slots = vec![0; EVIDENCE_SLOTS];
        }
        let (slot, fingerprint) = Self::slot(place, value);
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = (fingerprint << 32) | u64::from(self.document);
        }
    }
}

/// What [`Evidence`] knows of a string at a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Never,
    ThisDocument,
    Earlier,
}

/// FNV-1a over `s`, continuing from `seed`: places and evidence keys, not security.
#[must_use]
pub fn hash_str(seed: u64, s: &str) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Walks JSON values into shapes.
#[derive(Debug)]
pub struct Extractor<'a> {
    pub limits: Limits,
    pub evidence: &'a mut Evidence,
}

impl Extractor<'_> {
    /// Shape of a whole JSON document; `place` identifies where it came from (operation and
    /// direction) for enum evidence.
    pub fn json(&mut self, value: &Value, place: u64) -> Shape {
        self.evidence.next_document();
        self.walk(value, place, 0, "")
    }

    fn walk(&mut self, value: &Value, place: u64, depth: usize, name: &str) -> Shape {
        if depth >= self.limits.max_depth {
            let mut s = Shape::of_kind(Kind::Any);
            s.truncated = true;
            return s;
        }
        match value {
            Value::Null => Shape::of_kind(Kind::Null),
            Value::Bool(_) => Shape::of_kind(Kind::Boolean),
            Value::Number(n) => Shape::of_kind(if n.is_f64() {
                Kind::Number
            } else {
                Kind::Integer
            }),
            Value::String(s) => {
                let mut shape = string_shape(s);
                if shape.format.is_none()
                    && candidate_ok(name, s)
                    && self.evidence.repeated(place, s)
                {
                    shape.candidate = Some(s.clone());
                }
                shape
            }
            Value::Array(items) => {
                let mut shape = Shape::of_kind(Kind::Array);
                shape.len = Some(Len::of(items.len()));
                let inner = hash_str(place, "[]");
                for item in items.iter().take(self.limits.max_elements) {
                    let s = self.walk(item, inner, depth + 1, name);
                    if !shape.items.contains(&s) {
                        if shape.items.len() >= self.limits.max_item_shapes {
                            shape.truncated = true;
                            continue;
                        }
                        shape.items.push(s);
                    }
                }
                if items.len() > self.limits.max_elements {
                    shape.truncated = true;
                }
                shape
            }
            Value::Object(map) => {
                let mut shape = Shape::of_kind(Kind::Object);
                if map.keys().any(|k| !name_like(k)) {
                    // Keys are data (ids, emails): send one merged value shape, no keys.
                    let inner = hash_str(place, "{}");
                    let mut values: Vec<Shape> = Vec::new();
                    for v in map.values().take(self.limits.max_elements) {
                        let s = self.walk(v, inner, depth + 1, "");
                        if !values.contains(&s) && values.len() < self.limits.max_item_shapes {
                            values.push(s);
                        }
                    }
                    let mut m = values
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Shape::of_kind(Kind::Any));
                    m.truncated |= map.len() > self.limits.max_elements;
                    shape.map = Some(Box::new(m));
                    return shape;
                }
                let mut props = BTreeMap::new();
                let mut hidden = false;
                for (k, v) in map.iter().take(self.limits.max_properties) {
                    let known = self.evidence.repeated(place, k) || !self.limits.name_evidence;
                    // Walked either way, so the evidence below it accumulates too.
                    let inner = hash_str(place, k);
                    let s = self.walk(v, inner, depth + 1, k);
                    if known {
                        props.insert(k.clone(), s);
                    } else {
                        // First sighting here: could be data that merely looks like a name.
                        hidden = true;
                    }
                }
                shape.truncated = hidden || map.len() > self.limits.max_properties;
                shape.properties = Some(props);
                shape
            }
        }
    }

    /// Shape of a parameter value (query, path): typed by what the text looks like.
    pub fn param(&mut self, name: &str, value: &str, place: u64) -> Shape {
        let mut shape = string_shape(value);
        if shape.format.is_none()
            && candidate_ok(name, value)
            && self.evidence.repeated(place, value)
        {
            shape.candidate = Some(value.to_owned());
        }
        shape
    }
}

/// A string's format and length class.
#[must_use]
pub fn string_shape(s: &str) -> Shape {
    let mut shape = Shape::of_kind(Kind::String);
    shape.len = Some(Len::of(s.chars().count()));
    shape.format = format_of(s);
    shape
}

/// Recognized format of a string, most specific first.
#[must_use]
pub fn format_of(s: &str) -> Option<Format> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 4096 {
        return None;
    }
    if is_integer(s) {
        return Some(Format::Integer);
    }
    if s == "true" || s == "false" {
        return Some(Format::Boolean);
    }
    if is_number(s) {
        return Some(Format::Number);
    }
    if is_uuid(b) {
        return Some(Format::Uuid);
    }
    if is_date(b) {
        return Some(Format::Date);
    }
    if is_date_time(b) {
        return Some(Format::DateTime);
    }
    if is_time(b) {
        return Some(Format::Time);
    }
    if is_email(s) {
        return Some(Format::Email);
    }
    if is_uri(s) {
        return Some(Format::Uri);
    }
    if is_ipv4(s) {
        return Some(Format::Ipv4);
    }
    if is_ipv6(s) {
        return Some(Format::Ipv6);
    }
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) {
        return Some(Format::Hex);
    }
    if is_base64(b) {
        return Some(Format::Byte);
    }
    None
}

fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.len() <= 19
        && digits.bytes().all(|c| c.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    let Some((int, frac)) = t.split_once('.') else {
        return false;
    };
    !int.is_empty()
        && !frac.is_empty()
        && t.len() <= 32
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

fn digits(b: &[u8], from: usize, n: usize) -> bool {
    b.get(from..from + n)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

fn at(b: &[u8], i: usize, c: u8) -> bool {
    b.get(i) == Some(&c)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_date(b: &[u8]) -> bool {
    b.len() == 10
        && digits(b, 0, 4)
        && at(b, 4, b'-')
        && digits(b, 5, 2)
        && at(b, 7, b'-')
        && digits(b, 8, 2)
}

/// `HH:MM:SS[.frac](Z|±HH:MM)` from `i`; `zone` demands the offset.
fn is_time_at(b: &[u8], i: usize, zone: bool) -> bool {
    if !(digits(b, i, 2)
        && at(b, i + 2, b':')
        && digits(b, i + 3, 2)
        && at(b, i + 5, b':')
        && digits(b, i + 6, 2))
    {
        return false;
    }
    let mut j = i + 8;
    if at(b, j, b'.') {
        j += 1;
        let start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == start {
            return false;
        }
    }
    match b.get(j) {
        None => !zone,
        Some(b'Z' | b'z') => j + 1 == b.len(),
        Some(b'+' | b'-') => {
            j + 6 == b.len() && digits(b, j + 1, 2) && at(b, j + 3, b':') && digits(b, j + 4, 2)
        }
        Some(_) => false,
    }
}

fn is_date_time(b: &[u8]) -> bool {
    b.len() >= 20
        && b.get(..10).is_some_and(is_date)
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && is_time_at(b, 11, true)
}

fn is_time(b: &[u8]) -> bool {
    b.len() >= 8 && is_time_at(b, 0, false)
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
}

fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme.len() <= 16
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'.' || c == b'-')
        && !rest.is_empty()
        && !rest.contains(char::is_whitespace)
}

fn is_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

fn is_ipv6(s: &str) -> bool {
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}

fn is_base64(b: &[u8]) -> bool {
    // Long enough, padded to a quantum, and not a plain word: base64 text nearly always
    // mixes cases with digits or `+/=`.
    if b.len() < 16 || !b.len().is_multiple_of(4) {
        return false;
    }
    let body = b
        .strip_suffix(b"==")
        .or_else(|| b.strip_suffix(b"="))
        .unwrap_or(b);
    body.iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        && body.iter().any(u8::is_ascii_digit)
        && body.iter().any(u8::is_ascii_uppercase)
        && body.iter().any(u8::is_ascii_lowercase)
}

/// Whether a property name reads as a name rather than as data: identifier characters,
/// few digits, no recognized format, and made of word-like parts (camelCase, snake_case,
/// kebab-case) — random tokens split into many one-letter or vowel-less parts.
#[must_use]
pub fn name_like(k: &str) -> bool {
    let b = k.as_bytes();
    let digit_count = b.iter().filter(|c| c.is_ascii_digit()).count();
    !b.is_empty()
        && b.len() <= 48
        && b.first()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'$' | b'@'))
        && b.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'$' | b'@' | b'.' | b':')
        })
        && digit_count <= 3
        && format_of(k).is_none()
        && !separated_number(b)
        && words_like(b)
}

/// `user_665`, `item-42`, `a40bc`: a number of two or more digits after a separator or
/// followed by a letter is an id or a token, not part of a name (`sha256`, `line2` are).
fn separated_number(b: &[u8]) -> bool {
    b.windows(3).any(|w| match w {
        [s, d1, d2] => {
            matches!(s, b'_' | b'-' | b'.' | b':' | b'@' | b'$')
                && d1.is_ascii_digit()
                && d2.is_ascii_digit()
        }
        _ => false,
    }) || b.windows(3).any(|w| match w {
        [d1, d2, c] => d1.is_ascii_digit() && d2.is_ascii_digit() && c.is_ascii_alphabetic(),
        _ => false,
    })
}

/// Splits on separators, case changes (`fooBar`, `HTTPServer`) and digit runs, and checks
/// that the parts look like words.
fn words_like(b: &[u8]) -> bool {
    let mut words: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let class = |c: u8| -> u8 {
        if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_lowercase() {
            2
        } else if c.is_ascii_digit() {
            3
        } else {
            0
        }
    };
    for i in 1..=b.len() {
        let (Some(&prev), next) = (b.get(i - 1), b.get(i).copied()) else {
            break;
        };
        let boundary = match next {
            None => true,
            Some(c) => {
                let (p, n) = (class(prev), class(c));
                p == 0
                    || n == 0
                    || (p != n && !(p == 1 && n == 2))
                    // `HTTPServer`: the last capital starts the next word.
                    || (p == 1 && n == 1 && b.get(i + 1).is_some_and(u8::is_ascii_lowercase))
            }
        };
        if boundary {
            if let Some(w) = b.get(start..i) {
                if w.iter().any(u8::is_ascii_alphanumeric) {
                    words.push(w);
                }
            }
            start = i;
        }
    }
    let vowel = |w: &[u8]| {
        w.iter().any(|c| {
            matches!(
                c.to_ascii_lowercase(),
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
            )
        })
    };
    // Each oddity a real identifier has now and then (`x_id`, `userID`, `msgCount`,
    // `utf8Name`) costs a point; random tokens collect several.
    let mut penalty = 0;
    let mut acronyms = 0;
    for w in &words {
        let alpha = w.iter().all(u8::is_ascii_alphabetic);
        let upper = alpha && w.iter().all(u8::is_ascii_uppercase);
        if w.len() > 20 || (alpha && !upper && w.len() >= 4 && !vowel(w)) || (upper && w.len() > 6)
        {
            return false;
        }
        if upper && w.len() >= 2 {
            acronyms += 1;
            if acronyms > 1 {
                penalty += 1;
            }
        } else if alpha && (w.len() <= 2 || (w.len() == 3 && !vowel(w))) {
            penalty += 1;
        }
    }
    let embedded_digit = b.windows(3).any(|w| match w {
        [l, d, r] => l.is_ascii_alphabetic() && d.is_ascii_digit() && r.is_ascii_alphabetic(),
        _ => false,
    });
    if embedded_digit {
        penalty += 1;
    }
    words.len() <= 8 && penalty < 3
}
fn sensitive(text: &str) -> bool {
    let b = text.as_bytes();
    SENSITIVE.iter().any(|w| {
        b.windows(w.len())
            .any(|win| win.eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Whether a string may be sent as an enum candidate (before the repetition check).
fn candidate_ok(name: &str, value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_CANDIDATE
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        && b.iter().filter(|c| c.is_ascii_digit()).count() <= 2
        && !sensitive(name)
        && !sensitive(value)
}

/// Path of an unmatched request with every segment that may carry a value replaced by its
/// class: word-like segments (letters, `-`, `_`, `.`, at most two trailing digits as in
/// `v2`) are kept because they name routes; anything else becomes `{int}`, `{uuid}`,
/// `{hex}`, `{date}`, `{email}`, `{slug}` (letters and digits) or `{str}`.
#[must_use]
pub fn reduce_path(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut out = String::with_capacity(path.len().min(256));
    for (i, segment) in path.split('/').enumerate().skip(1) {
        if i > 32 {
            out.push_str("/{str}");
            break;
        }
        out.push('/');
        out.push_str(&reduce_segment(segment));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn reduce_segment(raw: &str) -> String {
    let decoded = crate::percent::decode(raw)
        .and_then(|d| String::from_utf8(d).ok())
        .unwrap_or_default();
    let s = decoded.as_str();
    if s.is_empty() {
        return String::new();
    }
    if literal_like(s) {
        return s.to_owned();
    }
    let class = match format_of(s) {
        Some(Format::Integer) => "{int}",
        Some(Format::Uuid) => "{uuid}",
        Some(Format::Hex) => "{hex}",
        Some(Format::Date) => "{date}",
        Some(Format::Email) => "{email}",
        _ if s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')) =>
        {
            "{slug}"
        }
        _ => "{str}",
    };
    class.to_owned()
}

fn literal_like(s: &str) -> bool {
    let b = s.as_bytes();
    let trailing_digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let head = b.get(..b.len() - trailing_digits).unwrap_or_default();
    b.len() <= 40
        && !head.is_empty()
        && trailing_digits <= 2
        && head.first().is_some_and(u8::is_ascii_alphabetic)
        && head
            .iter()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.'))
        && !(trailing_digits > 0 && b.len() > 12)
}

/// Request headers whose names are never reported (credentials, cookies, the proxy's own).
const DENIED_HEADERS: [&str; 8] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-request-id",
    "content-length",
    "host",
];

/// Header names worth reporting: lower case, token characters, not denied, not the
/// proxy's own (`x-envoy-*`, `x-forwarded-*`, `x-gatehouse-*`), pseudo-headers dropped.
#[must_use]
pub fn header_names(headers: &[(String, String)], max: usize) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| {
            !k.starts_with(':')
                && k.len() <= 64
                && k.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
                && !DENIED_HEADERS.contains(&k.as_str())
                && !k.starts_with("x-envoy-")
                && !k.starts_with("x-forwarded-")
                && !k.starts_with("x-gatehouse-")
                && !sensitive_header(k)
        })
        .collect();
    names.sort();
    names.dedup();
    names.truncate(max);
    names
}

fn sensitive_header(k: &str) -> bool {
    ["token", "secret", "session", "auth", "cookie", "key"]
        .iter()
        .any(|w| k.contains(w))
}

/// The scheme of an `Authorization` value (`bearer`, `basic`, ...); the credentials are
/// not looked at further.
#[must_use]
pub fn auth_scheme(value: &str) -> Option<String> {
    let scheme = value.split_whitespace().next()?;
    (scheme.len() <= 16 && scheme.bytes().all(|c| c.is_ascii_alphabetic()))
        .then(|| scheme.to_ascii_lowercase())
}

/// Media type of a `content-type` value: lower case, parameters dropped, at most 100 bytes
/// of `type/subtype` token characters.
#[must_use]
pub fn media_type(value: &str) -> Option<String> {
    let t = value.split(';').next()?.trim().to_ascii_lowercase();
    (t.len() <= 100
        && t.contains('/')
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'+' | b'-' | b'_')))
    .then_some(t)
}

/// Whether a media type carries JSON (`application/json`, `*/*+json`).
#[must_use]
pub fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Query parameter names with the shapes of their values; a repeated name becomes an
/// array of its values' shapes. At most `max` names.
pub fn query_shapes(
    extractor: &mut Extractor<'_>,
    path: &str,
    place: u64,
    max: usize,
) -> BTreeMap<String, Shape> {
    let mut out: BTreeMap<String, Shape> = BTreeMap::new();
    let Some((_, query)) = path.split_once('?') else {
        return out;
    };
    let query = query.split('#').next().unwrap_or_default();
    for pair in query.split('&').filter(|p| !p.is_empty()).take(4 * max) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            crate::percent::decode(&s.replace('+', " ")).and_then(|d| String::from_utf8(d).ok())
        };
        let (Some(name), Some(value)) = (decode(raw_name), decode(raw_value)) else {
            continue;
        };
        if !name_like(name.trim_end_matches("[]")) {
            continue;
        }
        let shape = extractor.param(&name, &value, hash_str(place, &name));
        let room = out.len() < max;
        match out.get_mut(&name) {
            Some(existing) if existing.kind == Kind::Array => {
                push_distinct(&mut existing.items, shape, 4);
            }
            Some(existing) => {
                let first = existing.clone();
                let mut array = Shape::of_kind(Kind::Array);
                array.items.push(first);
                if !array.items.contains(&shape) {
                    array.items.push(shape);
                }
                *existing = array;
            }
            None if room => {
                out.insert(name, shape);
            }
            None => {}
        }
    }
    out
}

fn push_distinct(items: &mut Vec<Shape>, shape: Shape, max: usize) {
    if items.len() < max && !items.contains(&shape) {
        items.push(shape);
    }
}

/// Streaming shape building: the body is read once by serde_json's deserializer and
/// reduced as it goes, with no `Value` tree and no copy of any string that needs no
/// unescaping. Same rules as [`Extractor::json`].
mod streaming {
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    use super::{candidate_ok, hash_str, name_like, string_shape, Extractor, Kind, Len, Shape};

    pub(super) struct Seed<'x, 'e> {
        pub x: &'x mut Extractor<'e>,
        pub place: u64,
        pub depth: usize,
        pub name: &'x str,
    }

    impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
        type Value = Shape;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
            if self.depth >= self.x.limits.max_depth {
                d.deserialize_ignored_any(IgnoredAny)?;
                let mut s = Shape::of_kind(Kind::Any);
                s.truncated = true;
                return Ok(s);
            }
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed<'_, '_> {
        type Value = Shape;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_unit<E>(self) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Null))
        }
        fn visit_none<E>(self) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Null))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Boolean))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Integer))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Integer))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
            Ok(Shape::of_kind(Kind::Number))
        }
        fn visit_str<E>(self, s: &str) -> Result<Shape, E> {
            let mut shape = string_shape(s);
            if shape.format.is_none()
                && candidate_ok(self.name, s)
                && self.x.evidence.repeated(self.place, s)
            {
                shape.candidate = Some(s.to_owned());
            }
            Ok(shape)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
            let mut shape = Shape::of_kind(Kind::Array);
            let inner = hash_str(self.place, "[]");
            let mut n = 0usize;
            loop {
                if n >= self.x.limits.max_elements {
                    if seq.next_element::<IgnoredAny>()?.is_none() {
                        break;
                    }
                    shape.truncated = true;
                    n += 1;
                    continue;
                }
                let seed = Seed {
                    x: &mut *self.x,
                    place: inner,
                    depth: self.depth + 1,
                    name: self.name,
                };
                let Some(s) = seq.next_element_seed(seed)? else {
                    break;
                };
                n += 1;
                if !shape.items.contains(&s) {
                    if shape.items.len() >= self.x.limits.max_item_shapes {
                        shape.truncated = true;
                    } else {
                        shape.items.push(s);
                    }
                }
            }
            shape.len = Some(Len::of(n));
            Ok(shape)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
            let mut shape = Shape::of_kind(Kind::Object);
            let mut props = BTreeMap::new();
            let mut hidden = false;
            let mut is_map = false;
            let mut map_value: Option<Shape> = None;
            let mut n = 0usize;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                n += 1;
                if n > self.x.limits.max_properties {
                    map.next_value::<IgnoredAny>()?;
                    shape.truncated = true;
                    continue;
                }
                // Only name-like keys are ever recorded, so a key seen before needs no
                // second look.
                let seen = self.x.evidence.peek(self.place, &key);
                if is_map || (seen == super::Seen::Never && !name_like(&key)) {
                    // Keys are data (ids, emails): one value shape, no keys.
                    is_map = true;
                    let seed = Seed {
                        x: &mut *self.x,
                        place: hash_str(self.place, "{}"),
                        depth: self.depth + 1,
                        name: "",
                    };
                    let s = map.next_value_seed(seed)?;
                    if map_value.is_none() {
                        map_value = Some(s);
                    }
                    continue;
                }
                let known = match seen {
                    super::Seen::Earlier => true,
                    super::Seen::ThisDocument => false,
                    super::Seen::Never => {
                        self.x.evidence.record(self.place, &key);
                        false
                    }
                } || !self.x.limits.name_evidence;
                let seed = Seed {
                    x: &mut *self.x,
                    place: hash_str(self.place, &key),
                    depth: self.depth + 1,
                    name: &key,
                };
                let s = map.next_value_seed(seed)?;
                if known {
                    props.insert(key.into_owned(), s);
                } else {
                    hidden = true;
                }
            }
            if is_map {
                let mut m = map_value
                    .or_else(|| props.into_values().next())
                    .unwrap_or_else(|| Shape::of_kind(Kind::Any));
                m.truncated |= shape.truncated;
                shape.truncated = false;
                shape.map = Some(Box::new(m));
                return Ok(shape);
            }
            shape.truncated |= hidden;
            shape.properties = Some(props);
            Ok(shape)
        }
    }
}

impl Extractor<'_> {
    /// Shape of a JSON body read straight from its bytes (see [`streaming`]); `Err` when
    /// it is not JSON.
    pub fn json_bytes(&mut self, bytes: &[u8], place: u64) -> Result<Shape, serde_json::Error> {
        use serde::de::DeserializeSeed;
        self.evidence.next_document();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let shape = streaming::Seed {
            x: self,
            place,
            depth: 0,
            name: "",
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(shape)
    }
}
