//! RFC 9457 problem details, the body of every answer the filter makes itself.

use serde::Serialize;

/// Longest `detail`/`instance` text echoed back; clients control these strings.
const MAX_ECHO: usize = 256;

/// A local reply: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One problem document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub request_id: String,
    /// Validation violations (`type` `.../validation`), one per problem found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One violation in a validation problem: where (`in` and a JSON pointer), which keyword
/// failed and why. Never carries the value of a sensitive parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `path`, `query`, `header`, `cookie` or `body`.
    #[serde(rename = "in")]
    pub location: &'static str,
    /// For parameters `/<name>` (plus the pointer inside the value); for bodies a JSON
    /// pointer into the body (`""`: the whole body).
    pub pointer: String,
    pub keyword: &'static str,
    pub message: String,
}

impl Problem {
    /// `slug` names the problem type (`https://gatehouse.dev/problems/<slug>`).
    #[must_use]
    pub fn new(
        status: u16,
        slug: &str,
        title: &'static str,
        detail: &str,
        request_id: &str,
    ) -> Self {
        Self {
            kind: format!("https://gatehouse.dev/problems/{slug}"),
            title,
            status,
            detail: truncate(detail),
            instance: None,
            request_id: request_id.to_owned(),
            errors: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    #[must_use]
    pub fn with_instance(mut self, path: &str) -> Self {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        self.instance = Some(truncate(path));
        self
    }

    /// The reply carrying this problem; `request_id_header` echoes the id as a header too.
    #[must_use]
    pub fn into_reply(self, request_id_header: &str, extra: Vec<(String, String)>) -> LocalReply {
        // Serializing a struct of strings and integers cannot fail; an empty body is the
        // harmless fallback if it ever did.
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut headers = vec![
            (
                "content-type".to_owned(),
                "application/problem+json".to_owned(),
            ),
            (request_id_header.to_owned(), self.request_id.clone()),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ];
        headers.extend(extra);
        LocalReply {
            status: self.status,
            headers,
            body,
        }
    }
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_ECHO {
        return text.to_owned();
    }
    let mut end = MAX_ECHO;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}
