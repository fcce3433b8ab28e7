//! The one error shape every compile step reports: where (file, resource, JSON pointer into
//! the resource) and what. Users fix YAML, so the pointer is into what they wrote, never
//! into the generated filter configuration.

use std::fmt;
use std::path::PathBuf;

use gatehouse_filter::compiled::escape_pointer;

/// A problem found while loading or compiling resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// File the resource was read from; `None` for problems of the generated configuration
    /// as a whole that no single resource caused.
    pub file: Option<PathBuf>,
    /// `ApiSchema namespace/name`, when the document got far enough to have one.
    pub resource: Option<String>,
    /// JSON pointer (RFC 6901) into the resource document; empty for the whole document.
    pub pointer: String,
    pub message: String,
}

impl CompileError {
    #[must_use]
    pub fn new(
        file: Option<PathBuf>,
        resource: Option<String>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file,
            resource,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}: ", file.display())?,
            None => f.write_str("<generated configuration>: ")?,
        }
        if let Some(resource) = &self.resource {
            write!(f, "{resource}: ")?;
        }
        if !self.pointer.is_empty() {
            write!(f, "{}: ", self.pointer)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompileError {}

/// `base` with one more reference token, escaped.
#[must_use]
pub fn pointer_join(base: &str, token: &str) -> String {
    format!("{base}/{}", escape_pointer(token))
}

/// Splits a pointer into its unescaped reference tokens (`/a~1b/0` → `["a/b", "0"]`).
#[must_use]
pub fn pointer_tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Turns serde_path_to_error's path into a JSON pointer.
#[must_use]
pub fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out = pointer_join(&out, &index.to_string()),
            Segment::Map { key } => out = pointer_join(&out, key),
            Segment::Enum { variant } => out = pointer_join(&out, variant),
            // An untracked segment: stop at the deepest point we know is right.
            Segment::Unknown => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_unescape() {
        let p = pointer_join(&pointer_join("/spec/openapi/paths", "/pets/{id}"), "get");
        assert_eq!(p, "/spec/openapi/paths/~1pets~1{id}/get");
        assert_eq!(
            pointer_tokens(&p),
            vec!["spec", "openapi", "paths", "/pets/{id}", "get"]
        );
        assert_eq!(pointer_tokens("/a~01"), vec!["a~1"]);
        assert!(pointer_tokens("").is_empty());
    }

    #[test]
    fn display_names_every_part() {
        let e = CompileError::new(
            Some(PathBuf::from("dir/pets.yaml")),
            Some("ApiSchema default/petstore".into()),
            "/spec/hosts",
            "at least one host is required",
        );
        assert_eq!(
            e.to_string(),
            "dir/pets.yaml: ApiSchema default/petstore: /spec/hosts: at least one host is required"
        );
        let e = CompileError::new(None, None, "", "boom");
        assert_eq!(e.to_string(), "<generated configuration>: boom");
    }
}
