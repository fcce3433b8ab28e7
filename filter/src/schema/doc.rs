//! A JSON document as a flat tape over the request's own bytes, for the validator.
//!
//! Parsing a body into `serde_json::Value` cost more than validating it (one allocation
//! per string, object and map node; measured in `docs/performance.md`). A [`Doc`] is one
//! `Vec` of tokens: strings without escapes borrow the input, escaped strings are decoded
//! into one shared scratch buffer, containers record their member count and where they
//! end so the validator skips a subtree in O(1). Objects keep the document's member order
//! and every member, duplicates included (each occurrence is validated; `serde_json`
//! would keep the last one only).
//!
//! [`Doc::parse`] accepts exactly what `serde_json::from_slice` accepts as far as it goes
//! (the grammar of RFC 8259, UTF-8, no lone surrogates, nesting below 128, numbers within
//! `f64`); whenever it refuses, the caller falls back to `serde_json`, which produces the
//! error message (or, should the two ever disagree, the value), so both paths answer alike.

use serde_json::{Number, Value};

/// Nesting at which `serde_json` stops with "recursion limit exceeded".
const MAX_NESTING: usize = 127;

/// Where a string's text is.
#[derive(Debug, Clone, Copy)]
enum Text<'a> {
    /// Borrowed from the input (no escapes) or from a `Value`.
    Borrowed(&'a str),
    /// Decoded into [`Doc::scratch`] at this byte range.
    Scratch(u32, u32),
}

#[derive(Debug, Clone)]
enum Tok<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Text<'a>),
    /// `len` elements follow; the array's last token is before `end`.
    Arr {
        len: u32,
        end: u32,
    },
    /// `len` members follow, each a `Str` key token and the value's tokens.
    Obj {
        len: u32,
        end: u32,
    },
}

/// A parsed JSON document (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Doc<'a> {
    toks: Vec<Tok<'a>>,
    scratch: String,
}

/// The document could not be parsed by the fast path; parse it with `serde_json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotParsed;

impl<'a> Doc<'a> {
    /// The root value.
    #[must_use]
    #[inline]
    pub(crate) fn root(&self) -> Inst<'_> {
        Inst { doc: self, i: 0 }
    }

    /// Parses JSON text. Refuses (for the caller to fall back on `serde_json`) anything
    /// `serde_json` would refuse.
    pub fn parse(bytes: &'a [u8]) -> Result<Doc<'a>, NotParsed> {
        let text = std::str::from_utf8(bytes).map_err(|_| NotParsed)?;
        let mut p = Parser {
            text,
            bytes,
            pos: 0,
            doc: Doc {
                // About one token per 8 bytes of typical API JSON: one allocation mostly.
                toks: Vec::with_capacity(bytes.len() / 8 + 4),
                scratch: String::new(),
            },
            open: Vec::new(),
        };
        p.document()?;
        Ok(p.doc)
    }

    /// The tokens of an existing value (parameters, form bodies, tests).
    #[must_use]
    pub fn from_value(value: &'a Value) -> Doc<'a> {
        let mut doc = Doc {
            toks: Vec::with_capacity(tokens(value, 0)),
            scratch: String::new(),
        };
        doc.push_value(value, 0);
        doc
    }

    /// Depth is bounded by the value's own construction (`serde_json` stops at 128
    /// levels); a deeper hand-built value is cut (its deeper parts become `null`).
    fn push_value(&mut self, value: &'a Value, depth: usize) {
        match value {
            Value::Null => self.toks.push(Tok::Null),
            Value::Bool(b) => self.toks.push(Tok::Bool(*b)),
            Value::Number(n) => self.toks.push(Tok::Num(n.clone())),
            Value::String(s) => self.toks.push(Tok::Str(Text::Borrowed(s))),
            Value::Array(_) | Value::Object(_) if depth > 4 * MAX_NESTING => {
                self.toks.push(Tok::Null);
            }
            Value::Array(items) => {
                let at = self.toks.len();
                self.toks.push(Tok::Arr { len: 0, end: 0 });
                for item in items {
                    self.push_value(item, depth + 1);
                }
                self.close(at, items.len());
            }
            Value::Object(map) => {
                let at = self.toks.len();
                self.toks.push(Tok::Obj { len: 0, end: 0 });
                for (k, v) in map {
                    self.toks.push(Tok::Str(Text::Borrowed(k)));
                    self.push_value(v, depth + 1);
                }
                self.close(at, map.len());
            }
        }
    }

    fn close(&mut self, at: usize, count: usize) {
        let end = u32::try_from(self.toks.len()).unwrap_or(u32::MAX);
        let n = u32::try_from(count).unwrap_or(u32::MAX);
        if let Some(Tok::Arr { len, end: e } | Tok::Obj { len, end: e }) = self.toks.get_mut(at) {
            *len = n;
            *e = end;
        }
    }

    #[inline(always)]
    fn text(&self, t: Text<'a>) -> &str {
        match t {
            Text::Borrowed(s) => s,
            Text::Scratch(from, to) => self.scratch.get(from as usize..to as usize).unwrap_or(""),
        }
    }

    /// Index after the value starting at `i`.
    #[inline(always)]
    fn next(&self, i: u32) -> u32 {
        match self.toks.get(i as usize) {
            Some(Tok::Arr { end, .. } | Tok::Obj { end, .. }) => *end,
            _ => i + 1,
        }
    }
}

/// One value of a [`Doc`]: what the validator walks.
#[derive(Clone, Copy)]
pub(crate) struct Inst<'d> {
    doc: &'d Doc<'d>,
    i: u32,
}

/// The JSON type of an [`Inst`], with its payload where cheap.
pub(crate) enum Kind<'d> {
    Null,
    Bool(bool),
    Num(&'d Number),
    Str(&'d str),
    Arr(u32),
    Obj(u32),
}

impl<'d> Inst<'d> {
    #[inline(always)]
    pub fn kind(self) -> Kind<'d> {
        match self.doc.toks.get(self.i as usize) {
            Some(Tok::Bool(b)) => Kind::Bool(*b),
            Some(Tok::Num(n)) => Kind::Num(n),
            Some(Tok::Str(t)) => Kind::Str(self.doc.text(*t)),
            Some(Tok::Arr { len, .. }) => Kind::Arr(*len),
            Some(Tok::Obj { len, .. }) => Kind::Obj(*len),
            Some(Tok::Null) | None => Kind::Null,
        }
    }

    #[inline(always)]
    pub fn is_null(self) -> bool {
        matches!(self.kind(), Kind::Null)
    }

    #[inline(always)]
    pub fn as_str(self) -> Option<&'d str> {
        match self.kind() {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    #[inline(always)]
    pub fn as_number(self) -> Option<&'d Number> {
        match self.kind() {
            Kind::Num(n) => Some(n),
            _ => None,
        }
    }

    /// Elements, when an array.
    #[inline(always)]
    pub fn items(self) -> Option<Items<'d>> {
        match self.doc.toks.get(self.i as usize) {
            Some(Tok::Arr { len, .. }) => Some(Items {
                doc: self.doc,
                at: self.i + 1,
                left: *len,
            }),
            _ => None,
        }
    }

    /// Members in document order, when an object.
    #[inline(always)]
    pub fn members(self) -> Option<Members<'d>> {
        match self.doc.toks.get(self.i as usize) {
            Some(Tok::Obj { len, .. }) => Some(Members {
                doc: self.doc,
                at: self.i + 1,
                left: *len,
            }),
            _ => None,
        }
    }

    /// The member named `key` (the last one, as `serde_json` keeps it).
    pub fn get(self, key: &str) -> Option<Inst<'d>> {
        self.members()?
            .filter(|(k, _)| k.as_str() == Some(key))
            .last()
            .map(|(_, v)| v)
    }

    pub fn has(self, key: &str) -> bool {
        self.members()
            .is_some_and(|mut m| m.any(|(k, _)| k.as_str() == Some(key)))
    }
}

/// Array elements.
#[derive(Clone)]
pub(crate) struct Items<'d> {
    doc: &'d Doc<'d>,
    at: u32,
    left: u32,
}

impl<'d> Iterator for Items<'d> {
    type Item = Inst<'d>;
    #[inline(always)]
    fn next(&mut self) -> Option<Inst<'d>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = Inst {
            doc: self.doc,
            i: self.at,
        };
        self.at = self.doc.next(self.at);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Items<'_> {}

/// Object members: the key (a string instance, for `propertyNames`) and the value.
pub(crate) struct Members<'d> {
    doc: &'d Doc<'d>,
    at: u32,
    left: u32,
}

impl<'d> Iterator for Members<'d> {
    type Item = (Inst<'d>, Inst<'d>);
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let key = Inst {
            doc: self.doc,
            i: self.at,
        };
        let value = Inst {
            doc: self.doc,
            i: self.at + 1,
        };
        self.at = self.doc.next(self.at + 1);
        Some((key, value))
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    doc: Doc<'a>,
    /// Open containers: token index and members so far.
    open: Vec<(usize, usize)>,
}

impl<'a> Parser<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn document(&mut self) -> Result<(), NotParsed> {
        self.skip_ws();
        self.value()?;
        loop {
            self.skip_ws();
            let Some(&(at, count)) = self.open.last() else {
                break;
            };
            let is_obj = matches!(self.doc.toks.get(at), Some(Tok::Obj { .. }));
            let close = if is_obj { b'}' } else { b']' };
            if self.eat(close) {
                self.open.pop();
                self.doc.close(at, count);
                continue;
            }
            if !self.eat(b',') {
                return Err(NotParsed);
            }
            if let Some(top) = self.open.last_mut() {
                top.1 += 1;
            }
            self.skip_ws();
            if is_obj {
                self.key()?;
            }
            self.value()?;
        }
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(NotParsed)
        }
    }

    fn key(&mut self) -> Result<(), NotParsed> {
        if !self.eat(b'"') {
            return Err(NotParsed);
        }
        self.string()?;
        self.skip_ws();
        if !self.eat(b':') {
            return Err(NotParsed);
        }
        self.skip_ws();
        Ok(())
    }

    /// One value; a container is opened (its members follow in [`Self::document`]'s loop).
    fn value(&mut self) -> Result<(), NotParsed> {
        match self.peek().ok_or(NotParsed)? {
            b'"' => {
                self.pos += 1;
                self.string()
            }
            b'{' | b'[' => {
                let obj = self.peek() == Some(b'{');
                self.pos += 1;
                if self.open.len() >= MAX_NESTING {
                    return Err(NotParsed);
                }
                let at = self.doc.toks.len();
                self.doc.toks.push(if obj {
                    Tok::Obj { len: 0, end: 0 }
                } else {
                    Tok::Arr { len: 0, end: 0 }
                });
                self.skip_ws();
                if self.eat(if obj { b'}' } else { b']' }) {
                    self.doc.close(at, 0);
                    return Ok(());
                }
                self.open.push((at, 1));
                if obj {
                    self.key()?;
                }
                // A container's first member: iterative for arrays of arrays too.
                self.value()
            }
            b't' => self.literal(b"true", Tok::Bool(true)),
            b'f' => self.literal(b"false", Tok::Bool(false)),
            b'n' => self.literal(b"null", Tok::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(NotParsed),
        }
    }

    fn literal(&mut self, word: &[u8], tok: Tok<'a>) -> Result<(), NotParsed> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) != Some(word) {
            return Err(NotParsed);
        }
        self.pos = end;
        self.doc.toks.push(tok);
        Ok(())
    }

    #[inline]
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Numbers as `serde_json` represents them: integers in `u64`/`i64` when they fit,
    /// everything else (fractions, exponents, larger integers, `-0`) as `f64`.
    fn number(&mut self) -> Result<(), NotParsed> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 || (n > 1 && self.bytes.get(int_start) == Some(&b'0')) {
            return Err(NotParsed);
        }
        let mut integral = true;
        if self.eat(b'.') {
            integral = false;
            if self.digits() == 0 {
                return Err(NotParsed);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(NotParsed);
            }
        }
        let text = self.text.get(start..self.pos).ok_or(NotParsed)?;
        let number = if integral {
            let digits = self.text.get(int_start..self.pos).ok_or(NotParsed)?;
            match digits.parse::<u64>() {
                Ok(u) if !negative => Some(Number::from(u)),
                Ok(0) => Number::from_f64(-0.0),
                Ok(u) => match i64::try_from(u) {
                    Ok(i) => Some(Number::from(-i)),
                    Err(_) if u == 1 << 63 => Some(Number::from(i64::MIN)),
                    Err(_) => float(text),
                },
                Err(_) => float(text),
            }
        } else {
            float(text)
        };
        self.doc.toks.push(Tok::Num(number.ok_or(NotParsed)?));
        Ok(())
    }

    /// The rest of a string after its opening quote.
    fn string(&mut self) -> Result<(), NotParsed> {
        let start = self.pos;
        let rest = self.bytes.get(start..).ok_or(NotParsed)?;
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .ok_or(NotParsed)?;
        self.pos = start + len;
        match self.peek() {
            Some(b'"') => {
                let s = self.text.get(start..self.pos).ok_or(NotParsed)?;
                self.pos += 1;
                self.doc.toks.push(Tok::Str(Text::Borrowed(s)));
                Ok(())
            }
            Some(b'\\') => self.escaped_string(start),
            _ => Err(NotParsed),
        }
    }

    /// A string with escapes, decoded into the scratch buffer.
    fn escaped_string(&mut self, start: usize) -> Result<(), NotParsed> {
        let from = self.doc.scratch.len();
        let plain = self.text.get(start..self.pos).ok_or(NotParsed)?;
        self.doc.scratch.push_str(plain);
        loop {
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let s = self.text.get(run..self.pos).ok_or(NotParsed)?;
            self.doc.scratch.push_str(s);
            match self.peek().ok_or(NotParsed)? {
                b'"' => {
                    self.pos += 1;
                    let to = self.doc.scratch.len();
                    let range = (
                        u32::try_from(from).map_err(|_| NotParsed)?,
                        u32::try_from(to).map_err(|_| NotParsed)?,
                    );
                    self.doc
                        .toks
                        .push(Tok::Str(Text::Scratch(range.0, range.1)));
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    let c = match self.peek().ok_or(NotParsed)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return Err(NotParsed);
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(NotParsed);
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            self.doc.scratch.push(char::from_u32(c).ok_or(NotParsed)?);
                            continue;
                        }
                        _ => return Err(NotParsed),
                    };
                    self.pos += 1;
                    self.doc.scratch.push(c);
                }
                _ => return Err(NotParsed),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, NotParsed> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or(NotParsed)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NotParsed);
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| NotParsed)
    }
}

/// Tokens [`Doc::from_value`] pushes for `value` (so the tape is allocated once).
fn tokens(value: &Value, depth: usize) -> usize {
    match value {
        Value::Array(_) | Value::Object(_) if depth > 4 * MAX_NESTING => 1,
        Value::Array(items) => 1 + items.iter().map(|v| tokens(v, depth + 1)).sum::<usize>(),
        Value::Object(map) => {
            1 + map
                .values()
                .map(|v| 1 + tokens(v, depth + 1))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn float(text: &str) -> Option<Number> {
    let f: f64 = text.parse().ok()?;
    // `serde_json` refuses numbers outside `f64` ("number out of range").
    if f.is_finite() {
        Number::from_f64(f)
    } else {
        None
    }
}
