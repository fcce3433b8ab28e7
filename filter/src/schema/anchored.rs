//! A fast path for the most common shape of `pattern` in API schemas: anchored at both
//! ends and made of single-character atoms with quantifiers (`^[A-Z]{3}-[0-9]{4,8}$`,
//! `^\+[1-9]\d{6,14}$`, `^[a-z0-9-]+$`).
//!
//! Such a pattern is a chain of at most 63 states matched with a bit-parallel NFA: one
//! `u64` of active states, a few instructions per character, no allocation, no lock. It
//! is built from the ECMA-262 source with the same character semantics as the `regex-lite`
//! translation (ECMA `\s` and `.`, ASCII `\d`/`\w`); anything else (groups, alternation,
//! assertions, backreferences) returns `None` and goes to `regex-lite`.

/// Set of characters an atom accepts.
#[derive(Debug, Clone)]
struct Class {
    /// Bit `c` set: ASCII character `c` is in the set (before negation).
    ascii: u128,
    /// Non-ASCII ranges in the set (before negation).
    ranges: Vec<(char, char)>,
    negated: bool,
}

impl Class {
    fn empty() -> Self {
        Self {
            ascii: 0,
            ranges: Vec::new(),
            negated: false,
        }
    }

    fn add_range(&mut self, lo: char, hi: char) {
        let (lo_u, hi_u) = (u32::from(lo), u32::from(hi));
        for c in lo_u..=hi_u.min(127) {
            self.ascii |= 1u128 << c;
        }
        if hi_u >= 128 {
            let start = char::from_u32(lo_u.max(128)).unwrap_or(lo);
            self.ranges.push((start, hi));
        }
    }

    fn matches(&self, c: char) -> bool {
        let code = u32::from(c);
        let inside = if code < 128 {
            (self.ascii >> code) & 1 == 1
        } else {
            self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
        };
        inside != self.negated
    }
}

/// ECMA-262 white space and line terminators (`\s`).
const SPACE: &[(char, char)] = &[
    ('\u{9}', '\u{D}'),
    (' ', ' '),
    ('\u{A0}', '\u{A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
    ('\u{FEFF}', '\u{FEFF}'),
];
const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const LINE_TERMINATORS: &[(char, char)] = &[('\n', '\n'), ('\r', '\r'), ('\u{2028}', '\u{2029}')];

fn class_of(ranges: &[(char, char)], negated: bool) -> Class {
    let mut c = Class::empty();
    for &(lo, hi) in ranges {
        c.add_range(lo, hi);
    }
    c.negated = negated;
    c
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    One,
    Optional,
    Star,
}

#[derive(Debug, Clone)]
struct Item {
    class: Class,
    kind: Kind,
}

/// A compiled anchored pattern.
#[derive(Debug, Clone)]
pub(crate) struct Anchored {
    items: Vec<Item>,
    /// Bit i set: item i can be skipped (`?`, `*`).
    skippable: u64,
}

const MAX_ITEMS: usize = 63;

impl Anchored {
    /// Builds the fast matcher when `source` has the supported shape.
    pub fn parse(source: &str) -> Option<Anchored> {
        let chars: Vec<char> = source.chars().collect();
        let body = chars.strip_prefix(&['^'])?.strip_suffix(&['$'])?;
        // The final `$` must not be escaped.
        let trailing_backslashes = body.iter().rev().take_while(|&&c| c == '\\').count();
        if trailing_backslashes % 2 == 1 {
            return None;
        }
        let mut p = Parser {
            chars: body,
            pos: 0,
        };
        let mut items = Vec::new();
        while p.pos < body.len() {
            let class = p.atom()?;
            let (min, max) = p.quantifier()?;
            for _ in 0..min {
                items.push(Item {
                    class: class.clone(),
                    kind: Kind::One,
                });
            }
            match max {
                None => items.push(Item {
                    class,
                    kind: Kind::Star,
                }),
                Some(max) => {
                    for _ in min..max {
                        items.push(Item {
                            class: class.clone(),
                            kind: Kind::Optional,
                        });
                    }
                }
            }
            if items.len() > MAX_ITEMS {
                return None;
            }
        }
        let skippable = items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.kind != Kind::One)
            .fold(0u64, |acc, (i, _)| acc | (1u64 << i));
        Some(Anchored { items, skippable })
    }

    fn closure(&self, mut states: u64) -> u64 {
        // Edges only go forward (i → i+1), so one ascending pass suffices.
        for i in 0..self.items.len() {
            let bit = 1u64 << i;
            if states & bit != 0 && self.skippable & bit != 0 {
                states |= bit << 1;
            }
        }
        states
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        let accept = 1u64 << self.items.len();
        let mut states = self.closure(1);
        for c in s.chars() {
            let mut next = 0u64;
            let mut active = states & !accept;
            while active != 0 {
                let i = active.trailing_zeros();
                active &= active - 1;
                if let Some(item) = self.items.get(i as usize) {
                    if item.class.matches(c) {
                        next |= if item.kind == Kind::Star {
                            1u64 << i
                        } else {
                            1u64 << (i + 1)
                        };
                    }
                }
            }
            if next == 0 {
                return false;
            }
            states = self.closure(next);
        }
        states & accept != 0
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.pos += 1;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn atom(&mut self) -> Option<Class> {
        match self.next()? {
            '\\' => match self.escape()? {
                Esc::Char(c) => Some(class_of(&[(c, c)], false)),
                Esc::Set(ranges, negated) => Some(class_of(ranges, negated)),
            },
            '[' => self.class(),
            '.' => Some(class_of(LINE_TERMINATORS, true)),
            '(' | ')' | '|' | '^' | '$' | '*' | '+' | '?' => None,
            '{' if self.quantifier_ahead() => None,
            c => Some(class_of(&[(c, c)], false)),
        }
    }

    fn quantifier_ahead(&self) -> bool {
        let mut i = self.pos;
        let mut digits = 0;
        while self.chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
            digits += 1;
        }
        if digits == 0 {
            return false;
        }
        if self.chars.get(i) == Some(&',') {
            i += 1;
            while self.chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
        }
        self.chars.get(i) == Some(&'}')
    }

    fn number(&mut self) -> Option<usize> {
        let mut v: usize = 0;
        let mut any = false;
        while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
            v = v.checked_mul(10)?.checked_add(d as usize)?;
            self.pos += 1;
            any = true;
        }
        any.then_some(v)
    }

    /// `(min, max)`; `max == None` for unbounded.
    fn quantifier(&mut self) -> Option<(usize, Option<usize>)> {
        let q = match self.peek() {
            Some('?') => {
                self.pos += 1;
                (0, Some(1))
            }
            Some('*') => {
                self.pos += 1;
                (0, None)
            }
            Some('+') => {
                self.pos += 1;
                (1, None)
            }
            Some('{') if self.quantifier_ahead_at_brace() => {
                self.pos += 1;
                let min = self.number()?;
                let max = if self.peek() == Some(',') {
                    self.pos += 1;
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if self.next()? != '}' || max.is_some_and(|m| m < min) {
                    return None;
                }
                (min, max)
            }
            _ => return Some((1, Some(1))),
        };
        // A lazy quantifier matches the same strings when the pattern is anchored.
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        if matches!(self.peek(), Some('?' | '*' | '+')) {
            return None;
        }
        if q.0 > MAX_ITEMS || q.1.is_some_and(|m| m > MAX_ITEMS) {
            return None;
        }
        Some(q)
    }

    fn quantifier_ahead_at_brace(&self) -> bool {
        let probe = Parser {
            chars: self.chars,
            pos: self.pos + 1,
        };
        probe.quantifier_ahead()
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = v * 16 + self.peek()?.to_digit(16)?;
            self.pos += 1;
        }
        Some(v)
    }

    fn escape(&mut self) -> Option<Esc> {
        Some(match self.next()? {
            'd' => Esc::Set(DIGIT, false),
            'D' => Esc::Set(DIGIT, true),
            'w' => Esc::Set(WORD, false),
            'W' => Esc::Set(WORD, true),
            's' => Esc::Set(SPACE, false),
            'S' => Esc::Set(SPACE, true),
            't' => Esc::Char('\t'),
            'n' => Esc::Char('\n'),
            'v' => Esc::Char('\u{B}'),
            'f' => Esc::Char('\u{C}'),
            'r' => Esc::Char('\r'),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => Esc::Char('\0'),
            'x' => {
                let save = self.pos;
                match self.hex(2).and_then(char::from_u32) {
                    Some(c) => Esc::Char(c),
                    None => {
                        self.pos = save;
                        Esc::Char('x')
                    }
                }
            }
            'u' if self.peek() != Some('{') => {
                let save = self.pos;
                match self.hex(4) {
                    // Surrogates (pairs) are left to the general path.
                    Some(v) => Esc::Char(char::from_u32(v)?),
                    None => {
                        self.pos = save;
                        Esc::Char('u')
                    }
                }
            }
            c if c.is_ascii_punctuation() => Esc::Char(c),
            // Assertions, backreferences, \c, \p, \k, \u{...}: general path.
            _ => return None,
        })
    }

    fn class(&mut self) -> Option<Class> {
        let mut class = Class::empty();
        if self.peek() == Some('^') {
            self.pos += 1;
            class.negated = true;
        }
        if self.peek() == Some(']') {
            return None;
        }
        loop {
            let lo = match self.next()? {
                ']' => return Some(class),
                '\\' => match self.escape_in_class()? {
                    Esc::Char(c) => c,
                    Esc::Set(ranges, false) => {
                        for &(a, b) in ranges {
                            class.add_range(a, b);
                        }
                        continue;
                    }
                    Esc::Set(_, true) => return None,
                },
                '[' => return None,
                c => c,
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&c| c != ']') {
                self.pos += 1;
                let hi = match self.next()? {
                    '\\' => match self.escape_in_class()? {
                        Esc::Char(c) => c,
                        Esc::Set(..) => return None,
                    },
                    '[' => return None,
                    c => c,
                };
                if hi < lo {
                    return None;
                }
                class.add_range(lo, hi);
            } else {
                class.add_range(lo, lo);
            }
        }
    }

    fn escape_in_class(&mut self) -> Option<Esc> {
        if self.peek() == Some('b') {
            self.pos += 1;
            return Some(Esc::Char('\u{8}'));
        }
        if self.peek() == Some('-') {
            self.pos += 1;
            return Some(Esc::Char('-'));
        }
        self.escape()
    }
}

enum Esc {
    Char(char),
    Set(&'static [(char, char)], bool),
}
