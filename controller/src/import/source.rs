//! Reading OpenAPI files: JSON or YAML text into a JSON tree, syntax errors with their line,
//! and — only when there is something to report — the line of any JSON pointer.
//!
//! serde builds the tree without positions (fast, and what every other part of the
//! controller uses); positions come from a second, event-level pass with yaml-rust2 that
//! only looks up the pointers a diagnostic needs, so large documents pay nothing for it
//! when they import cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::Diagnostic;
use crate::error::pointer_join;

/// One file as read: its text (kept for line numbers) and its tree.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub doc: Value,
}

/// Reads and parses a file. JSON is recognised by its first non-blank character, so a
/// `.yaml` file holding JSON (or the reverse) still reads.
pub fn read(path: &Path) -> Result<SourceFile, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::new(Some(path), None, "", format!("cannot read: {e}")))?;
    let doc = parse(path, &text)?;
    Ok(SourceFile {
        path: path.to_path_buf(),
        text,
        doc,
    })
}

/// Parses JSON or YAML text (one document).
pub fn parse(path: &Path, text: &str) -> Result<Value, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) {
        match serde_json::from_str::<Value>(text) {
            Ok(doc) => return Ok(doc),
            // Flow-style YAML also starts with `{`: unless the file says it is JSON, let
            // the YAML parser have a go and report the JSON error only if that fails too.
            Err(json_error) => {
                let json_named = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"));
                if let (false, Ok(doc)) = (json_named, parse_yaml(path, text)) {
                    return Ok(doc);
                }
                return Err(Diagnostic::new(
                    Some(path),
                    Some(json_error.line()),
                    "",
                    format!("invalid JSON: {json_error}"),
                ));
            }
        }
    }
    parse_yaml(path, text)
}

fn parse_yaml(path: &Path, text: &str) -> Result<Value, Diagnostic> {
    // `from_str` reads the whole stream: a syntax error anywhere, or a second document,
    // is an error rather than a silently partial tree.
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        Diagnostic::new(Some(path), line, "", format!("invalid YAML: {e}"))
    })
}

/// The line (1-based) of each wanted pointer that exists in `text`. A pointer's line is
/// the line of its mapping key, or of the item for sequence items.
#[must_use]
pub fn lines_of(text: &str, wanted: &BTreeSet<String>) -> BTreeMap<String, usize> {
    if wanted.is_empty() {
        return BTreeMap::new();
    }
    let mut finder = LineFinder {
        wanted,
        found: BTreeMap::new(),
        stack: Vec::new(),
        root_done: false,
    };
    let mut parser = Parser::new_from_str(text);
    // A scan error only stops the search; whatever was found before it is still right.
    // The search also stops once every pointer is found: lints about the start of a
    // 13 MB document need not scan all of it.
    while let Ok((event, mark)) = parser.next_token() {
        if matches!(event, Event::StreamEnd) {
            break;
        }
        finder.on_event(event, mark);
        if finder.root_done || finder.found.len() == wanted.len() {
            break;
        }
    }
    finder.found
}

/// For a pointer that does not exist as such (a missing key), the line of its deepest
/// existing ancestor is the best place to send the reader.
#[must_use]
pub fn nearest_line(text: &str, pointer: &str) -> Option<usize> {
    let mut candidates = BTreeSet::new();
    let mut p = pointer.to_owned();
    loop {
        candidates.insert(p.clone());
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => break,
        }
    }
    let found = lines_of(text, &candidates);
    let mut p = pointer.to_owned();
    loop {
        if let Some(line) = found.get(&p) {
            return Some(*line);
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => return None,
        }
    }
}

enum Frame {
    Map {
        pointer: String,
        key: Option<String>,
    },
    Seq {
        pointer: String,
        next: usize,
    },
}

struct LineFinder<'a> {
    wanted: &'a BTreeSet<String>,
    found: BTreeMap<String, usize>,
    stack: Vec<Frame>,
    root_done: bool,
}

impl LineFinder<'_> {
    /// The pointer of the node an event starts, or `None` when the event is a mapping key
    /// (recorded here, with the key's line).
    fn node_pointer(&mut self, key_text: Option<&str>, line: usize) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { pointer, key }) => match key.take() {
                Some(k) => Some(pointer_join(pointer, &k)),
                None => {
                    let k = key_text.unwrap_or("").to_owned();
                    let child = pointer_join(pointer, &k);
                    if self.wanted.contains(&child) {
                        self.found.entry(child).or_insert(line);
                    }
                    *key = Some(k);
                    None
                }
            },
            Some(Frame::Seq { pointer, next }) => {
                let child = format!("{pointer}/{next}");
                *next += 1;
                if self.wanted.contains(&child) {
                    self.found.entry(child.clone()).or_insert(line);
                }
                Some(child)
            }
        }
    }
}

impl MarkedEventReceiver for LineFinder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.root_done {
            return;
        }
        let line = mark.line();
        match ev {
            Event::Scalar(text, ..) => {
                let _ = self.node_pointer(Some(&text), line);
            }
            Event::Alias(_) => {
                let _ = self.node_pointer(Some(""), line);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // A complex key (a mapping used as a key) gets a placeholder pointer.
                let pointer = self
                    .node_pointer(None, line)
                    .unwrap_or_else(|| "/\u{0}".to_owned());
                if pointer.is_empty() && self.wanted.contains("") {
                    self.found.entry(String::new()).or_insert(line);
                }
                self.stack.push(if is_map {
                    Frame::Map { pointer, key: None }
                } else {
                    Frame::Seq { pointer, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                if self.stack.is_empty() {
                    self.root_done = true;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn lines_of_yaml_keys_and_items() {
        let text = "openapi: 3.0.3\npaths:\n  /pets/{id}:\n    get:\n      parameters:\n        - name: id\n          in: path\n        - name: q\n";
        let found = lines_of(
            text,
            &set(&[
                "/openapi",
                "/paths/~1pets~1{id}/get",
                "/paths/~1pets~1{id}/get/parameters/1",
                "/paths/~1pets~1{id}/get/parameters/0/in",
                "/nope",
            ]),
        );
        assert_eq!(found["/openapi"], 1);
        assert_eq!(found["/paths/~1pets~1{id}/get"], 4);
        assert_eq!(found["/paths/~1pets~1{id}/get/parameters/0/in"], 7);
        assert_eq!(found["/paths/~1pets~1{id}/get/parameters/1"], 8);
        assert!(!found.contains_key("/nope"));
    }

    #[test]
    fn lines_of_json() {
        let text =
            "{\n  \"swagger\": \"2.0\",\n  \"paths\": {\n    \"/a\": {\"get\": {}}\n  }\n}\n";
        let found = lines_of(text, &set(&["/swagger", "/paths/~1a/get"]));
        assert_eq!(found["/swagger"], 2);
        assert_eq!(found["/paths/~1a/get"], 4);
        assert_eq!(nearest_line(text, "/paths/~1a/get/responses"), Some(4));
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let e = parse(Path::new("a.yaml"), "a: 1\nb: \"unterminated\nc: 2\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
        assert!(e.to_string().starts_with("a.yaml:"), "{e}");
        let e = parse(Path::new("a.json"), "{\n\"a\": 1,\n\"b\": }\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }
}
