//! Small text helpers shared by the scanners.

/// Python's `str.title()`: a letter after a non-letter is upper-cased, the others lowered.
/// FastAPI and pydantic derive summaries and titles with it.
#[must_use]
pub fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(c);
            prev_letter = false;
        }
    }
    out
}

/// Pydantic's field title: `alias.title().replace("_", " ")`.
#[must_use]
pub fn field_title(name: &str) -> String {
    py_title(name).replace('_', " ")
}

/// Python's `inspect.cleandoc`: leading blank lines dropped, common indentation of the
/// lines after the first removed, trailing blank lines dropped.
#[must_use]
pub fn cleandoc(doc: &str) -> String {
    let expanded = doc.replace('\t', "        ");
    let lines: Vec<&str> = expanded.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push(line.trim_start().to_string());
        } else {
            out.push(line.get(indent..).unwrap_or("").trim_end().to_string());
        }
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// An operationId from method and path when the code names nothing better, by the rule
/// `gatehouse compile` uses for documents without one (docs/apischema.md).
#[must_use]
pub fn generated_operation_id(method: &str, path: &str) -> String {
    let mut parts = vec![method.to_ascii_lowercase()];
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let mut out = String::new();
        let mut in_run = false;
        for c in seg.chars().filter(|c| *c != '{' && *c != '}') {
            if c.is_ascii_alphanumeric() {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('_');
                in_run = true;
            }
        }
        parts.push(out);
    }
    parts.join("_")
}

/// Names of the `{name}` parameters of an OpenAPI path template, in order.
#[must_use]
pub fn template_params(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('}') else { break };
        out.push(after.get(..end).unwrap_or("").to_string());
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_title_rules() {
        assert_eq!(field_title("item_id"), "Item Id");
        assert_eq!(field_title("x-request-id"), "X-Request-Id");
        assert_eq!(
            field_title("Response_list_items_api_v1_items__get"),
            "Response List Items Api V1 Items  Get"
        );
        assert_eq!(py_title("get v2item"), "Get V2Item");
    }

    #[test]
    fn cleandoc_dedents() {
        assert_eq!(
            cleandoc("First.\n\n    More\n      indented\n    "),
            "First.\n\nMore\n  indented"
        );
    }

    #[test]
    fn generated_ids_and_params() {
        assert_eq!(
            generated_operation_id("GET", "/pets/{petId}"),
            "get_pets_petId"
        );
        assert_eq!(generated_operation_id("get", "/"), "get");
        assert_eq!(template_params("/a/{x}/b/{y}"), vec!["x", "y"]);
    }
}
