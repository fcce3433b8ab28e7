//! A small blocking HTTP client for tests (ureq underneath): never treats a status as an
//! error, follows no redirects, keeps every response header.

use std::time::Duration;

use serde_json::Value;

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased, repeated headers kept.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}); status {} body: {}",
                self.status, self.body
            )
        })
    }

    /// For backend echoes: the value of request header `name` as the backend saw it.
    pub fn echoed_header(&self, name: &str) -> Option<String> {
        self.json()
            .get("headers")?
            .get(name.to_ascii_lowercase())?
            .as_str()
            .map(str::to_owned)
    }
}

/// A blocking client.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Self {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(Duration::from_secs(15))
            .build();
        Self { agent }
    }

    /// Sends `method url` with `headers` (a `host` header overrides the URL's) and an
    /// optional body. Panics on transport errors, naming the request.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        self.try_send(method, url, headers, body)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    /// Like [`Client::send`], returning transport errors.
    pub fn try_send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Response, Box<ureq::Error>> {
        let mut request = self.agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_string(body),
            None => request.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(Box::new(e)),
        };
        let status = response.status();
        let mut names = response.headers_names();
        names.dedup();
        let mut headers = Vec::new();
        for name in names {
            let name = name.to_ascii_lowercase();
            if headers.iter().any(|(n, _)| *n == name) {
                continue;
            }
            for value in response.all(&name) {
                headers.push((name.clone(), value.to_owned()));
            }
        }
        let body = response.into_string().map_err(|e| Box::new(e.into()))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// `GET url` with headers.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", url, headers, None)
    }
}

/// Sends `method target` exactly as given (no URL normalisation: `..`, `%2e`, `//` reach
/// Envoy as written) over a fresh HTTP/1.1 connection to `base` (`http://host:port`), with
/// `Connection: close`, and reads the whole answer.
pub fn raw_request(base: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("set a read timeout");
    let mut request = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("connection: close\r\ncontent-length: 0\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("write to {addr}: {e}"));
    // Read until the response is complete rather than until EOF: Envoy may hold the
    // connection open for its `delayed_close_timeout` (1 s) after answering.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(response) = parse_raw_response(&raw, false, method == "HEAD") {
            return response;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    parse_raw_response(&raw, true, method == "HEAD").unwrap_or_else(|| {
        panic!(
            "unreadable answer to {method} {target}: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// Parses an HTTP/1.1 response with a `content-length` or `chunked` body; `None` while
/// incomplete. A body delimited by the end of the connection is complete only at `eof`.
/// Answers to HEAD, 1xx, 204 and 304 have no body.
fn parse_raw_response(raw: &[u8], eof: bool, head_request: bool) -> Option<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let bodyless = head_request || status < 200 || status == 204 || status == 304;
    let body = if bodyless {
        String::new()
    } else if chunked {
        let mut body = String::new();
        let mut rest = rest;
        loop {
            let (size, after) = rest.split_once("\r\n")?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            body.push_str(after.get(..size)?);
            rest = after.get(size + 2..)?;
        }
        body
    } else if let Some(length) = length {
        rest.get(..length)?.to_owned()
    } else if eof {
        rest.to_owned()
    } else {
        return None;
    };
    Some(Response {
        status,
        headers,
        body,
    })
}
