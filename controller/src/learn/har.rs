//! HAR 1.2 files (browser dev tools, proxies) as a source of samples: each entry reduced
//! with the filter's own shape code, so a HAR teaches exactly what live traffic would.
//! The file stays local; property names are trusted without the repetition the proxy
//! demands (the user owns the file), enum candidates still need repeats.

use std::collections::HashMap;

use gatehouse_filter::sampling::contract::{Body, Sample};
use gatehouse_filter::sampling::shape::{self, Evidence, Extractor, Limits};
use serde_json::Value;

/// Bodies larger than this are not shaped.
const MAX_BODY: usize = 1 << 20;

/// Samples of every entry of a HAR document; the API of each is its host.
pub fn samples(har: &Value) -> anyhow::Result<Vec<Sample>> {
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("not a HAR file: no /log/entries"))?;
    let mut evidence = Evidence::default();
    let limits = Limits {
        name_evidence: false,
        ..Limits::default()
    };
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        if let Some(s) = entry(e, &mut evidence, limits) {
            out.push(s);
        }
    }
    Ok(out)
}

fn headers(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_ascii_lowercase(),
                        h.get("value")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn body(
    mime: Option<&str>,
    text: Option<&str>,
    base64: bool,
    x: &mut Extractor<'_>,
    place: u64,
) -> Option<Body> {
    let content_type = shape::media_type(mime?)?;
    let mut b = Body {
        content_type,
        shape: None,
        skipped: None,
    };
    let text = text.filter(|t| !t.is_empty())?;
    if base64 || !shape::is_json(&b.content_type) {
        return Some(b);
    }
    if text.len() > MAX_BODY {
        b.skipped = Some("size".into());
        return Some(b);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => b.shape = Some(x.json(&v, place)),
        Err(_) => b.skipped = Some("malformed".into()),
    }
    Some(b)
}

fn entry(e: &Value, evidence: &mut Evidence, limits: Limits) -> Option<Sample> {
    let req = e.get("request")?;
    let resp = e.get("response")?;
    let method = req.get("method")?.as_str()?.to_ascii_uppercase();
    let url = req.get("url")?.as_str()?;
    let (_, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let reduced = shape::reduce_path(path);
    let place = shape::hash_str(shape::hash_str(0, &method), &reduced);
    let mut x = Extractor { limits, evidence };
    let request_headers = headers(req.get("headers"));
    let find = |name: &str| {
        request_headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let query = shape::query_shapes(&mut x, path, shape::hash_str(place, "?"), 32);
    let request = req.get("postData").and_then(|p| {
        body(
            p.get("mimeType")
                .and_then(Value::as_str)
                .or(find("content-type")),
            p.get("text").and_then(Value::as_str),
            false,
            &mut x,
            shape::hash_str(place, "request"),
        )
    });
    let content = resp.get("content");
    let response = content.and_then(|c| {
        body(
            c.get("mimeType").and_then(Value::as_str),
            c.get("text").and_then(Value::as_str),
            c.get("encoding").and_then(Value::as_str) == Some("base64"),
            &mut x,
            shape::hash_str(place, "response"),
        )
    });
    let status = u16::try_from(resp.get("status")?.as_u64()?).ok()?;
    if status == 0 {
        return None; // blocked or aborted in the browser
    }
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let names: Vec<(String, String)> = request_headers
        .iter()
        .filter(|(k, _)| seen.insert(k.as_str(), ()).is_none())
        .cloned()
        .collect();
    Some(Sample {
        api: host.clone(),
        method,
        host,
        operation_id: None,
        path: reduced,
        path_params: Default::default(),
        query,
        headers: shape::header_names(&names, 32),
        auth: find("authorization").and_then(shape::auth_scheme),
        status,
        request,
        response,
    })
}
