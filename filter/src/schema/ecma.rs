//! ECMA-262 regular expressions (JSON Schema `pattern`) on top of `regex-lite`.
//!
//! A pattern is translated token by token into `regex-lite` syntax so that the ECMA
//! meaning is kept where the engines differ: `.` excludes all four ECMA line
//! terminators, `\s`/`\S` use ECMA's (Unicode) white space set, `[^]` and `[]` work,
//! `\uXXXX` (with surrogate pairs), `\u{...}`, `\cX`, `\0` and Annex B literal braces are
//! accepted. What `regex-lite` cannot do is refused with an error instead of being matched
//! differently: lookahead/lookbehind, backreferences, Unicode property escapes
//! (`\p{...}`) and inline modifiers. `\d`, `\w` and `\b` are ASCII in both.
//!
//! A [`Pattern`] serializes as its ECMA source and is translated and compiled again when
//! deserialized (in `on_configure`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::anchored::Anchored;

/// ECMA-262 `WhiteSpace` and `LineTerminator` code points, as class items.
const WHITE_SPACE: &str = r"\x{9}-\x{D}\x{20}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";

/// What `.` matches in ECMA-262 without the `s` flag.
const DOT: &str = r"[^\x{A}\x{D}\x{2028}\x{2029}]";

/// A compiled `pattern`.
#[derive(Clone)]
pub(crate) struct Pattern {
    source: String,
    matcher: Matcher,
}

#[derive(Clone)]
enum Matcher {
    /// `^...$` of single-character atoms: bit-parallel NFA (see `anchored.rs`).
    Anchored(Anchored),
    Regex(regex_lite::Regex),
}

impl Pattern {
    /// Translates and compiles an ECMA-262 pattern.
    pub fn new(source: &str) -> Result<Self, String> {
        let matcher = match Anchored::parse(source) {
            Some(a) => Matcher::Anchored(a),
            None => {
                let translated = translate(source)?;
                let re = regex_lite::Regex::new(&translated).map_err(|e| {
                    let text = e.to_string();
                    let first = text.lines().last().unwrap_or("invalid regular expression");
                    format!("unsupported regular expression: {first}")
                })?;
                Matcher::Regex(re)
            }
        };
        Ok(Self {
            source: source.to_owned(),
            matcher,
        })
    }

    /// True when the pattern matches anywhere in `s` (patterns are not anchored).
    pub fn is_match(&self, s: &str) -> bool {
        match &self.matcher {
            Matcher::Anchored(a) => a.is_match(s),
            Matcher::Regex(re) => re.is_match(s),
        }
    }

    /// The ECMA-262 source.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Pattern::new(&source).map_err(serde::de::Error::custom)
    }
}

struct Translator<'a> {
    chars: &'a [char],
    pos: usize,
    out: String,
}

/// Translates an ECMA-262 pattern into `regex-lite` syntax.
pub(crate) fn translate(source: &str) -> Result<String, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut t = Translator {
        chars: &chars,
        pos: 0,
        out: String::with_capacity(source.len() + 8),
    };
    t.run()?;
    Ok(t.out)
}

fn push_code_point(out: &mut String, c: char) {
    out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
}

/// A literal character outside a class.
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || c == ' ' || (!c.is_ascii() && !c.is_control()) {
        out.push(c);
    } else {
        push_code_point(out, c);
    }
}

/// One character escape: the character it denotes, or a class (`\d`...).
enum Escape {
    Char(char),
    /// Already translated class text, usable inside and outside brackets.
    Class(&'static str),
    /// `\s`: ECMA white space.
    Space,
    /// `\S`.
    NotSpace,
    WordBoundary(bool),
}

impl Translator<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => match self.escape(false)? {
                    Escape::Char(c) => push_literal(&mut self.out, c),
                    Escape::Class(s) => self.out.push_str(s),
                    Escape::Space => {
                        self.out.push('[');
                        self.out.push_str(WHITE_SPACE);
                        self.out.push(']');
                    }
                    Escape::NotSpace => {
                        self.out.push_str("[^");
                        self.out.push_str(WHITE_SPACE);
                        self.out.push(']');
                    }
                    Escape::WordBoundary(true) => self.out.push_str("\\b"),
                    Escape::WordBoundary(false) => self.out.push_str("\\B"),
                },
                '[' => self.class()?,
                '.' => self.out.push_str(DOT),
                '(' => self.group()?,
                '{' => {
                    if let Some(len) = self.quantifier_len() {
                        self.out.push('{');
                        for _ in 0..len {
                            if let Some(c) = self.peek() {
                                self.out.push(c);
                            }
                            self.pos += 1;
                        }
                    } else {
                        self.out.push_str("\\{");
                    }
                }
                '}' => self.out.push_str("\\}"),
                ']' => self.out.push_str("\\]"),
                ')' | '|' | '*' | '+' | '?' | '^' | '$' => self.out.push(c),
                c => push_literal(&mut self.out, c),
            }
        }
        Ok(())
    }

    /// Length of `n}`, `n,}` or `n,m}` after a `{` at the current position.
    fn quantifier_len(&self) -> Option<usize> {
        let mut i = 0;
        let mut digits = 0;
        while self.peek_at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            digits += 1;
        }
        if digits == 0 {
            return None;
        }
        if self.peek_at(i) == Some(',') {
            i += 1;
            while self.peek_at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
        }
        (self.peek_at(i) == Some('}')).then_some(i + 1)
    }

    fn group(&mut self) -> Result<(), String> {
        if self.peek() != Some('?') {
            self.out.push('(');
            return Ok(());
        }
        match (self.peek_at(1), self.peek_at(2)) {
            (Some(':'), _) => {
                self.pos += 2;
                self.out.push_str("(?:");
                Ok(())
            }
            (Some('=' | '!'), _) => Err("lookahead assertions are not supported".to_owned()),
            (Some('<'), Some('=' | '!')) => {
                Err("lookbehind assertions are not supported".to_owned())
            }
            (Some('<'), _) => {
                self.pos += 2;
                let mut name = String::new();
                loop {
                    match self.peek() {
                        Some('>') => {
                            self.pos += 1;
                            break;
                        }
                        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                            name.push(c);
                            self.pos += 1;
                        }
                        _ => return Err("unsupported group name".to_owned()),
                    }
                }
                self.out.push_str("(?P<");
                self.out.push_str(&name);
                self.out.push('>');
                Ok(())
            }
            _ => Err("unsupported group modifier".to_owned()),
        }
    }

    fn hex_digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for i in 0..n {
            let d = self.peek_at(i)?.to_digit(16)?;
            v = v * 16 + d;
        }
        self.pos += n;
        Some(v)
    }

    /// `\u` escapes (after the `u`): `XXXX`, surrogate pairs, `{X...}`.
    fn unicode_escape(&mut self) -> Result<char, String> {
        if self.peek() == Some('{') {
            let start = self.pos + 1;
            let mut end = start;
            while self.chars.get(end).is_some_and(char::is_ascii_hexdigit) {
                end += 1;
            }
            if end == start || self.chars.get(end) != Some(&'}') || end - start > 6 {
                return Err("invalid \\u{...} escape".to_owned());
            }
            let hex: String = self.chars.get(start..end).unwrap_or(&[]).iter().collect();
            self.pos = end + 1;
            let v = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
            return char::from_u32(v).ok_or_else(|| "invalid code point".to_owned());
        }
        let Some(hi) = self.hex_digits(4) else {
            // Annex B: `\u` not followed by four hex digits is the letter u.
            return Ok('u');
        };
        if (0xD800..0xDC00).contains(&hi)
            && self.peek() == Some('\\')
            && self.peek_at(1) == Some('u')
        {
            let save = self.pos;
            self.pos += 2;
            if let Some(lo) = self.hex_digits(4) {
                if (0xDC00..0xE000).contains(&lo) {
                    let v = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(v).ok_or_else(|| "invalid surrogate pair".to_owned());
                }
            }
            self.pos = save;
        }
        char::from_u32(hi).ok_or_else(|| "lone surrogates are not supported".to_owned())
    }

    /// Parses an escape after the backslash.
    fn escape(&mut self, in_class: bool) -> Result<Escape, String> {
        let Some(c) = self.peek() else {
            return Err("pattern ends with a backslash".to_owned());
        };
        self.pos += 1;
        Ok(match c {
            'd' => Escape::Class("\\d"),
            'D' => Escape::Class("\\D"),
            'w' => Escape::Class("\\w"),
            'W' => Escape::Class("\\W"),
            's' => Escape::Space,
            'S' => Escape::NotSpace,
            'b' if in_class => Escape::Char('\u{8}'),
            'b' => Escape::WordBoundary(true),
            'B' if !in_class => Escape::WordBoundary(false),
            't' => Escape::Char('\t'),
            'n' => Escape::Char('\n'),
            'v' => Escape::Char('\u{B}'),
            'f' => Escape::Char('\u{C}'),
            'r' => Escape::Char('\r'),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => Escape::Char('\0'),
            '0'..='9' => return Err("backreferences are not supported".to_owned()),
            'k' if self.peek() == Some('<') => {
                return Err("named backreferences are not supported".to_owned())
            }
            'c' => match self.peek() {
                Some(l) if l.is_ascii_alphabetic() => {
                    self.pos += 1;
                    Escape::Char(char::from(l as u8 % 32))
                }
                _ => Escape::Char('\\'),
            },
            'x' => match self.hex_digits(2) {
                Some(v) => Escape::Char(char::from_u32(v).unwrap_or('x')),
                None => Escape::Char('x'),
            },
            'u' => Escape::Char(self.unicode_escape()?),
            'p' | 'P' => {
                return Err("Unicode property escapes (\\p{...}) are not supported".to_owned())
            }
            other => Escape::Char(other),
        })
    }

    /// A character class, after its `[`.
    fn class(&mut self) -> Result<(), String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        if self.peek() == Some(']') {
            self.pos += 1;
            // `[]` matches nothing, `[^]` any character.
            self.out.push_str(if negated {
                r"[\x{0}-\x{10FFFF}]"
            } else {
                r"[^\x{0}-\x{10FFFF}]"
            });
            return Ok(());
        }
        let mut items = String::new();
        let mut not_space = false;
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated character class".to_owned());
            };
            self.pos += 1;
            match c {
                ']' => break,
                '\\' => match self.escape(true)? {
                    Escape::Char(c) => push_class_char(&mut items, c),
                    Escape::Class(s) => items.push_str(s),
                    Escape::Space => items.push_str(WHITE_SPACE),
                    Escape::NotSpace => not_space = true,
                    Escape::WordBoundary(_) => push_class_char(&mut items, 'B'),
                },
                '-' => items.push('-'),
                c => push_class_char(&mut items, c),
            }
        }
        match (not_space, negated) {
            (false, _) => {
                self.out.push('[');
                if negated {
                    self.out.push('^');
                }
                self.out.push_str(&items);
                self.out.push(']');
            }
            (true, false) => {
                self.out.push_str("(?:[^");
                self.out.push_str(WHITE_SPACE);
                self.out.push(']');
                if !items.is_empty() {
                    self.out.push_str("|[");
                    self.out.push_str(&items);
                    self.out.push(']');
                }
                self.out.push(')');
            }
            (true, true) => {
                return Err("\\S inside a negated character class is not supported".to_owned())
            }
        }
        Ok(())
    }
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_control()) {
        out.push(c);
    } else {
        push_code_point(out, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).unwrap().is_match(s)
    }

    #[test]
    fn ecma_semantics() {
        assert!(m("^a*$", "aaa"));
        assert!(!m("^a*$", "aab"));
        assert!(!m("^.$", "\n"));
        assert!(!m("^.$", "\u{2028}"));
        assert!(m("^.$", "🐲"));
        assert!(m("^\\s$", "\u{a0}"));
        assert!(m("^\\s$", "\u{feff}"));
        assert!(!m("^\\S$", "\u{3000}"));
        assert!(m("^[\\S]$", "x"));
        assert!(!m("^\\d$", "\u{0967}"));
        assert!(m("^\\w+$", "abc_09"));
        assert!(!m("^\\w$", "é"));
        assert!(m("^[^]$", "\n"));
        assert!(!m("[]", "a"));
        assert!(m("^\\u0041\\x42\\u{43}$", "ABC"));
        assert!(m("^\\uD83D\\uDC32$", "🐲"));
        assert!(m("^\\cJ$", "\n"));
        assert!(m("^a{2}$", "aa"));
        assert!(m("^a{$", "a{"));
        assert!(m("^[a-c\\-]+$", "a-c"));
        assert!(m("^[[]$", "["));
        assert!(m("^[&~]+$", "&~"));
        assert!(m("^\\/\\.$", "/."));
        assert!(m("^(?<year>\\d{4})$", "2024"));
        assert!(m("^[\\b]$", "\u{8}"));
        assert!(m("\\bfoo\\b", "a foo b"));
        assert!(m("^\\0$", "\0"));
        assert!(m("#", "#"));
    }

    /// The anchored fast path and regex-lite agree.
    #[test]
    fn fast_path_matches_regex_lite() {
        let patterns = [
            "^[A-Z]{3}-[0-9]{4,8}$",
            "^\\+[1-9][0-9]{6,14}$",
            "^[a-z0-9-]+$",
            "^[^a-c]*x?$",
            "^\\d{2,}\\s\\w*$",
            "^.{0,3}$",
            "^[\\-.a]+b*?$",
            "^a{2}b{0,2}c*$",
            "^[\\s\\d]$",
            "^\\S\\D\\W$",
            "^\\u00e9\\x41\\.\\/$",
            "^$",
            "^a*a*a*a*b$",
            "^[a-]$",
            "^[-a]{1,2}$",
            "^x{$",
        ];
        let alphabet = [
            "", "a", "b", "c", "x", "-", ".", "0", "9", "A", "Z", " ", "\u{a0}", "\n", "é", "_",
            "{", "+", "1", "/",
        ];
        let mut inputs: Vec<String> = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in ["", "a", "0", "-", "x"] {
                    inputs.push(format!("{a}{b}{c}"));
                }
            }
        }
        inputs.push("ABC-12345".into());
        inputs.push("+4915112345678".into());
        inputs.push("aab".into());
        inputs.push("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab".into());
        for p in patterns {
            let fast = Anchored::parse(p).unwrap_or_else(|| panic!("{p}: not on the fast path"));
            let re = regex_lite::Regex::new(&translate(p).unwrap()).unwrap();
            for s in &inputs {
                assert_eq!(fast.is_match(s), re.is_match(s), "{p} on {s:?}");
            }
        }
        for p in [
            "^(a|b)$", "a+$", "^a+", "^\\bx$", "^(?:a)$", "^a\\1$", "^\\p{L}$", "^[]$", "^a**$",
        ] {
            assert!(Anchored::parse(p).is_none(), "{p}");
        }
    }

    #[test]
    fn unsupported_is_an_error() {
        for p in [
            "(?=a)",
            "(?!a)",
            "(?<=a)b",
            "(?<!a)b",
            "(a)\\1",
            "\\p{Letter}",
            "(?i)a",
            "\\",
        ] {
            assert!(Pattern::new(p).is_err(), "{p}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let p = Pattern::new("^[a-z]+\\.$").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"^[a-z]+\\\\.$\"");
        let back: Pattern = serde_json::from_str(&json).unwrap();
        assert_eq!(p, back);
        assert!(serde_json::from_str::<Pattern>("\"(?=x)\"").is_err());
    }
}
