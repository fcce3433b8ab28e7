//! What the scan could not infer. Every entry names the declaration it is about, so the author
//! can fill the gap with a `gatehouse:` comment or in the document.

use serde::Serialize;

use crate::Loc;

/// One thing left out of the document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Gap {
    pub file: String,
    pub line: usize,
    /// `GET /items/{id}` when the gap is about one operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub message: String,
}

impl Gap {
    pub fn at(loc: &Loc, message: impl Into<String>) -> Self {
        Gap {
            file: loc.file.clone(),
            line: loc.line,
            operation: None,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.operation = Some(format!("{} {path}", method.to_ascii_uppercase()));
        self
    }
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(op) = &self.operation {
            write!(f, "{op}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The scan's report (`--report FILE` writes it as JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Frameworks whose declarations were found.
    pub frameworks: Vec<String>,
    pub files: usize,
    pub operations: usize,
    pub parameters: usize,
    #[serde(rename = "requestBodies")]
    pub request_bodies: usize,
    pub schemas: usize,
    /// Operations changed by `gatehouse:` comments.
    pub annotated: usize,
    pub gaps: Vec<Gap>,
}
