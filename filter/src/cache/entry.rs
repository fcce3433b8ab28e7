//! What the store holds for the cache and for idempotency records, and its byte layout.
//!
//! Payload = kind byte + fields, little endian, strings as u16/u32 length + bytes:
//! - `R` response: response time (u64 unix s), corrected initial age (u64), lifetime
//!   (u64), stale-while-revalidate (u64), stale-if-error (u64), flags (u8: 1 no-cache,
//!   2 must-revalidate), status (u16), operation (u16 + bytes), headers (u16 count, each u16 name + u32 value),
//!   body (u32 + bytes).
//! - `V` vary marker: nonce (u64), names (u16 count, each u16 + bytes).
//! - `I` idempotency record: fingerprint (32 bytes), state (u8: 0 in flight, 1 done),
//!   then for done a response as above.

use super::store::Reader;

/// A stored response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub response_time: u64,
    pub initial_age: u64,
    pub lifetime: u64,
    pub swr: u64,
    pub sie: u64,
    pub no_cache: bool,
    pub must_revalidate: bool,
    pub status: u16,
    /// `<api>/<operationId>` that produced it (purge by operation).
    pub operation: String,
    /// Lower-case names, end-to-end headers only (no `age`, no hop-by-hop).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Stored {
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Current age in seconds (RFC 9111 §4.2.3).
    #[must_use]
    pub fn age(&self, now: u64) -> u64 {
        self.initial_age
            .saturating_add(now.saturating_sub(self.response_time))
    }
}

/// One payload of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Response(Stored),
    /// The primary key's responses vary on these request headers; `nonce` is part of
    /// every variant's key, so replacing the marker orphans the old variants.
    Vary {
        nonce: u64,
        names: Vec<String>,
    },
    Idempotency {
        fingerprint: [u8; 32],
        /// `None` while the first request is in flight.
        done: Option<Stored>,
    },
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    let s = s
        .get(..s.len().min(usize::from(u16::MAX)))
        .unwrap_or_default();
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_bytes32(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn encode_stored(out: &mut Vec<u8>, s: &Stored) {
    for v in [s.response_time, s.initial_age, s.lifetime, s.swr, s.sie] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(u8::from(s.no_cache) | (u8::from(s.must_revalidate) << 1));
    out.extend_from_slice(&s.status.to_le_bytes());
    put_str16(out, &s.operation);
    out.extend_from_slice(&(s.headers.len().min(usize::from(u16::MAX)) as u16).to_le_bytes());
    for (n, v) in s.headers.iter().take(usize::from(u16::MAX)) {
        put_str16(out, n);
        put_bytes32(out, v.as_bytes());
    }
    put_bytes32(out, &s.body);
}

fn string(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

fn decode_stored(r: &mut Reader<'_>, copy_body: bool) -> Option<Stored> {
    let mut s = Stored {
        response_time: r.u64()?,
        initial_age: r.u64()?,
        lifetime: r.u64()?,
        swr: r.u64()?,
        sie: r.u64()?,
        ..Stored::default()
    };
    let flags = r.u8()?;
    s.no_cache = flags & 1 != 0;
    s.must_revalidate = flags & 2 != 0;
    s.status = r.u16()?;
    let len = r.u16()?;
    s.operation = string(r.take(usize::from(len))?)?;
    let n = r.u16()?;
    for _ in 0..n {
        let len = r.u16()?;
        let name = string(r.take(usize::from(len))?)?;
        let len = r.u32()?;
        let value = string(r.take(len as usize)?)?;
        s.headers.push((name, value));
    }
    let len = r.u32()?;
    if r.0.len() < len as usize {
        return None;
    }
    // The body is the last field: `decode_owned` takes it from the buffer without a copy.
    if copy_body {
        s.body = r.take(len as usize)?.to_vec();
    }
    Some(s)
}

impl Payload {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Payload::Response(s) => {
                out.reserve(64 + s.body.len());
                out.push(b'R');
                encode_stored(&mut out, s);
            }
            Payload::Vary { nonce, names } => {
                out.push(b'V');
                out.extend_from_slice(&nonce.to_le_bytes());
                out.extend_from_slice(&(names.len() as u16).to_le_bytes());
                for n in names {
                    put_str16(&mut out, n);
                }
            }
            Payload::Idempotency { fingerprint, done } => {
                out.push(b'I');
                out.extend_from_slice(fingerprint);
                match done {
                    None => out.push(0),
                    Some(s) => {
                        out.push(1);
                        encode_stored(&mut out, s);
                    }
                }
            }
        }
        out
    }

    /// Like [`Payload::decode`], reusing `bytes` as a response's body (a hit on a large
    /// object copies it once less).
    #[must_use]
    pub fn decode_owned(mut bytes: Vec<u8>) -> Option<Payload> {
        if bytes.first() != Some(&b'R') {
            return Payload::decode(&bytes);
        }
        let mut r = Reader(bytes.get(1..)?);
        let mut stored = decode_stored(&mut r, false)?;
        let body_len = r.0.len();
        let start = bytes.len() - body_len;
        let body_len = usize::try_from(u32::from_le_bytes(
            bytes.get(start.checked_sub(4)?..start)?.try_into().ok()?,
        ))
        .ok()?;
        bytes.drain(..start);
        bytes.truncate(body_len);
        stored.body = bytes;
        Some(Payload::Response(stored))
    }

    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Payload> {
        let mut r = Reader(bytes);
        match r.u8()? {
            b'R' => Some(Payload::Response(decode_stored(&mut r, true)?)),
            b'V' => {
                let nonce = r.u64()?;
                let n = r.u16()?;
                let mut names = Vec::with_capacity(usize::from(n));
                for _ in 0..n {
                    let len = r.u16()?;
                    names.push(string(r.take(usize::from(len))?)?);
                }
                Some(Payload::Vary { nonce, names })
            }
            b'I' => {
                let fingerprint: [u8; 32] = r.take(32)?.try_into().ok()?;
                let done = match r.u8()? {
                    0 => None,
                    _ => Some(decode_stored(&mut r, true)?),
                };
                Some(Payload::Idempotency { fingerprint, done })
            }
            _ => None,
        }
    }
}
