//! Host + method + path template → operation.
//!
//! Rules (documented in `docs/filter-config.md#routing`):
//! - Hosts match case-insensitively with the port removed: exact names first, then the
//!   longest `*.suffix` wildcard, then `*`.
//! - Within a host, the API with the longest base path that prefixes the path (on segment
//!   boundaries) owns the request.
//! - Paths match per segment after percent-decoding. Literal segments win over mixed ones
//!   (`{name}.json`), which win over whole-segment parameters. The first route in that
//!   order that declares the request's method wins; a path that matches only routes with
//!   other methods gives "method not allowed".
//! - One trailing slash is not significant (`/pets/` is `/pets`). Paths are case-sensitive.
//! - Empty segments (`//`), dot segments, encoded slashes or backslashes, NUL, bad
//!   percent-encoding and invalid UTF-8 make the path malformed: on a host with APIs the
//!   filter refuses it rather than guess what the upstream would make of it.
//! - `HEAD` falls back to the `GET` operation when no `HEAD` operation is declared.
//!
//! Lookup cost depends on the path's length, never on the number of operations: hosts and
//! literal segments are hash lookups in a trie.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::compiled::ConfigError;
use crate::config::{Api, FilterConfig, Method, Policies};

/// Paths with more segments than this are refused as malformed. It also bounds the
/// backtracking of the trie walk.
pub const MAX_SEGMENTS: usize = 64;

/// Upper bound on trie nodes visited for one request; only pathological configurations
/// mixing parameters and literals at every level come near it.
const MAX_VISITS: usize = 4096;

/// An operation as the request path sees it.
#[derive(Debug)]
pub struct RoutedOperation {
    pub operation_id: String,
    /// `<api>/<operationId>`, the value of the operation header, built once.
    pub tag: String,
    pub method: Method,
    /// The template as configured, relative to the API's base path.
    pub template: String,
    /// Names of the template's parameters in the order they appear.
    pub param_names: Vec<String>,
    /// The operation's policies with the API defaults filled in.
    pub policies: Policies,
}

/// An API as the router keeps it.
#[derive(Debug)]
pub struct RoutedApi {
    pub name: String,
    pub strict: bool,
    pub base_path: String,
    pub operations: Vec<RoutedOperation>,
    trie: Node,
}

/// What the router made of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// No API serves this host and path: not Gatehouse's business.
    NoApi,
    /// An operation matched; `params` pairs its parameter names with decoded values.
    Operation {
        api: usize,
        operation: usize,
        params: Vec<(String, String)>,
    },
    /// The API owns the path prefix but no route matches.
    NotFound { api: usize },
    /// Routes match the path, none with this method; `allow` lists theirs.
    MethodNotAllowed { api: usize, allow: Vec<Method> },
    /// The path cannot be routed safely.
    Malformed {
        api: Option<usize>,
        reason: &'static str,
    },
}

/// The compiled routing table.
#[derive(Debug, Default)]
pub struct Router {
    pub apis: Vec<RoutedApi>,
    exact_hosts: HashMap<String, usize>,
    /// Keyed by the suffix after `*`, e.g. `.example.com`.
    wildcard_hosts: HashMap<String, usize>,
    any_host: Option<usize>,
    /// Per host entry: (base path segments, api index), longest base path first.
    host_bases: Vec<Vec<(Vec<String>, usize)>>,
}

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// Mixed segments (`{name}.{ext}`), most literal text first.
    mixed: Vec<(Vec<Piece>, Node)>,
    param: Option<Box<Node>>,
    /// Operation index per method, in `Method::ALL` order.
    methods: [Option<u32>; 8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Param,
}

#[derive(Debug)]
enum SegmentPattern {
    Literal(String),
    Param,
    Mixed(Vec<Piece>),
}

fn method_slot(method: Method) -> usize {
    Method::ALL.iter().position(|m| *m == method).unwrap_or(0)
}

impl Router {
    /// Builds the table and checks everything a request would otherwise trip over.
    pub fn build(config: &FilterConfig) -> Result<Router, ConfigError> {
        let mut router = Router::default();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (index, api) in config.apis.iter().enumerate() {
            let at = format!("/apis/{index}");
            if api.name.is_empty() {
                return Err(ConfigError::at(format!("{at}/name"), "API name is empty"));
            }
            if let Some(first) = names.insert(&api.name, index) {
                return Err(ConfigError::at(
                    format!("{at}/name"),
                    format!("API name {:?} is also used by /apis/{first}", api.name),
                ));
            }
            let routed = compile_api(api, &at, config)?;
            router.apis.push(routed);
            router.add_hosts(api, index, &at, config)?;
        }
        for bases in &mut router.host_bases {
            bases.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        }
        Ok(router)
    }

    fn add_hosts(
        &mut self,
        api: &Api,
        index: usize,
        at: &str,
        config: &FilterConfig,
    ) -> Result<(), ConfigError> {
        if api.hosts.is_empty() {
            return Err(ConfigError::at(
                format!("{at}/hosts"),
                "an API needs at least one host (use \"*\" for any)",
            ));
        }
        let base = base_segments(&api.base_path)
            .map_err(|m| ConfigError::at(format!("{at}/basePath"), m))?;
        for (h, host) in api.hosts.iter().enumerate() {
            let pointer = format!("{at}/hosts/{h}");
            let pattern = normalize_host_pattern(host).map_err(|m| ConfigError::at(&pointer, m))?;
            let slot = match pattern {
                HostPattern::Any => &mut self.any_host,
                HostPattern::Exact(name) => {
                    let next = self.host_bases.len();
                    let entry = self.exact_hosts.entry(name).or_insert(next);
                    let idx = *entry;
                    if idx == next {
                        self.host_bases.push(Vec::new());
                    }
                    push_base(&mut self.host_bases, idx, &base, index, &pointer, config)?;
                    continue;
                }
                HostPattern::Suffix(suffix) => {
                    let next = self.host_bases.len();
                    let idx = *self.wildcard_hosts.entry(suffix).or_insert(next);
                    if idx == next {
                        self.host_bases.push(Vec::new());
                    }
                    push_base(&mut self.host_bases, idx, &base, index, &pointer, config)?;
                    continue;
                }
            };
            let idx = match slot {
                Some(i) => *i,
                None => {
                    let i = self.host_bases.len();
                    self.host_bases.push(Vec::new());
                    *slot = Some(i);
                    i
                }
            };
            push_base(&mut self.host_bases, idx, &base, index, &pointer, config)?;
        }
        Ok(())
    }

    /// Routes a request. `authority` is the `:authority`/`Host` value, `path` the raw
    /// `:path` (query string included).
    #[must_use]
    pub fn route(&self, authority: &str, method: &str, path: &str) -> RouteMatch {
        let Some(bases) = self.host_entry(authority) else {
            return RouteMatch::NoApi;
        };
        let segments = match split_path(path) {
            Ok(s) => s,
            Err(reason) => {
                // Refused on every host we serve, whichever API it seems to fall under:
                // an upstream that merges slashes or resolves dot segments could land it
                // under any base path (`//v1/pets`, `/x/../v1/pets`).
                return RouteMatch::Malformed {
                    api: raw_owner(path, bases),
                    reason,
                };
            }
        };
        let Some((base_len, api_index)) = bases
            .iter()
            .find(|(base, _)| starts_with_segments(&segments, base))
            .map(|(base, api)| (base.len(), *api))
        else {
            return RouteMatch::NoApi;
        };
        let Some(api) = self.apis.get(api_index) else {
            return RouteMatch::NoApi;
        };
        let rest = segments.get(base_len..).unwrap_or_default();
        let wanted = Method::from_token(method);
        let mut walk = Walk {
            method: wanted,
            captures: Vec::new(),
            first_terminal: None,
            visits: 0,
        };
        if let Some((op, captures)) = walk.find(&api.trie, rest) {
            return operation_match(api, api_index, op, captures);
        }
        if wanted == Some(Method::Head) {
            walk.method = Some(Method::Get);
            if let Some((op, captures)) = walk.find(&api.trie, rest) {
                return operation_match(api, api_index, op, captures);
            }
        }
        match walk.first_terminal {
            Some(methods) => RouteMatch::MethodNotAllowed {
                api: api_index,
                allow: allowed(methods),
            },
            None => RouteMatch::NotFound { api: api_index },
        }
    }

    /// True when some API serves this host (`:authority`, port ignored), whatever the path.
    #[must_use]
    pub fn serves_host(&self, authority: &str) -> bool {
        self.host_entry(authority).is_some()
    }

    fn host_entry(&self, authority: &str) -> Option<&Vec<(Vec<String>, usize)>> {
        let host = strip_port(authority);
        let host = host.strip_suffix('.').unwrap_or(host);
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = host.to_ascii_lowercase();
            lowered.as_str()
        } else {
            host
        };
        if let Some(i) = self.exact_hosts.get(host) {
            return self.host_bases.get(*i);
        }
        // Longest suffix first: walk the dots left to right.
        let mut from = 0;
        while let Some(dot) = host.get(from..).and_then(|s| s.find('.')) {
            let suffix = host.get(from + dot..).unwrap_or_default();
            if let Some(i) = self.wildcard_hosts.get(suffix) {
                return self.host_bases.get(*i);
            }
            from += dot + 1;
        }
        self.any_host.and_then(|i| self.host_bases.get(i))
    }
}

fn push_base(
    host_bases: &mut [Vec<(Vec<String>, usize)>],
    idx: usize,
    base: &[String],
    api: usize,
    pointer: &str,
    config: &FilterConfig,
) -> Result<(), ConfigError> {
    let Some(entry) = host_bases.get_mut(idx) else {
        return Ok(());
    };
    if let Some((_, other)) = entry.iter().find(|(b, _)| b.as_slice() == base) {
        if *other == api {
            return Ok(()); // the same host listed twice in one API
        }
        let other_name = config
            .apis
            .get(*other)
            .map(|a| a.name.as_str())
            .unwrap_or("");
        return Err(ConfigError::at(
            pointer,
            format!(
                "host and base path {:?} are already served by API {other_name:?} (/apis/{other})",
                format!("/{}", base.join("/"))
            ),
        ));
    }
    entry.push((base.to_vec(), api));
    Ok(())
}

/// The API whose base path prefixes the raw path once slashes are merged, longest
/// first; only used to label a refusal in metrics and logs.
fn raw_owner(path: &str, bases: &[(Vec<String>, usize)]) -> Option<usize> {
    bases.iter().find_map(|(base, api)| {
        let mut rest = path;
        for segment in base {
            let trimmed = rest.trim_start_matches('/');
            if trimmed.len() == rest.len() {
                return None;
            }
            rest = trimmed.strip_prefix(segment.as_str())?;
        }
        matches!(rest.bytes().next(), None | Some(b'/' | b'?' | b'#')).then_some(*api)
    })
}

fn operation_match(
    api: &RoutedApi,
    api_index: usize,
    op: u32,
    captures: Vec<String>,
) -> RouteMatch {
    let names = api
        .operations
        .get(op as usize)
        .map(|o| o.param_names.as_slice())
        .unwrap_or_default();
    RouteMatch::Operation {
        api: api_index,
        operation: op as usize,
        params: names.iter().cloned().zip(captures).collect(),
    }
}

fn allowed(methods: [Option<u32>; 8]) -> Vec<Method> {
    let mut out: Vec<Method> = Method::ALL
        .iter()
        .zip(methods)
        .filter(|(_, op)| op.is_some())
        .map(|(m, _)| *m)
        .collect();
    if out.contains(&Method::Get) && !out.contains(&Method::Head) {
        out.push(Method::Head);
    }
    out
}

struct Walk {
    /// `None` for a method token no operation can declare: nothing matches, but the walk
    /// still finds whether the path exists.
    method: Option<Method>,
    captures: Vec<String>,
    /// Methods of the first node (in precedence order) where the path ended.
    first_terminal: Option<[Option<u32>; 8]>,
    visits: usize,
}

impl Walk {
    /// Depth-first in precedence order; the first terminal node with the method wins.
    fn find(&mut self, node: &Node, rest: &[Cow<'_, str>]) -> Option<(u32, Vec<String>)> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return None;
        }
        let Some((segment, tail)) = rest.split_first() else {
            if node.methods.iter().any(Option::is_some) {
                if self.first_terminal.is_none() {
                    self.first_terminal = Some(node.methods);
                }
                if let Some(op) = self
                    .method
                    .and_then(|m| node.methods.get(method_slot(m)).copied().flatten())
                {
                    return Some((op, self.captures.clone()));
                }
            }
            return None;
        };
        if let Some(child) = node.literal.get(segment.as_ref()) {
            if let Some(found) = self.find(child, tail) {
                return Some(found);
            }
        }
        for (pieces, child) in &node.mixed {
            let mark = self.captures.len();
            if match_mixed(pieces, segment, &mut self.captures) {
                if let Some(found) = self.find(child, tail) {
                    return Some(found);
                }
            }
            self.captures.truncate(mark);
        }
        if let Some(child) = &node.param {
            if !segment.is_empty() {
                self.captures.push(segment.to_string());
                if let Some(found) = self.find(child, tail) {
                    return Some(found);
                }
                self.captures.pop();
            }
        }
        None
    }
}

/// Matches `segment` against literal/parameter pieces; parameters take at least one byte.
fn match_mixed(pieces: &[Piece], segment: &str, captures: &mut Vec<String>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return segment.is_empty();
    };
    match first {
        Piece::Lit(lit) => match segment.strip_prefix(lit.as_str()) {
            Some(tail) => match_mixed(rest, tail, captures),
            None => false,
        },
        Piece::Param => {
            // Try every split point, shortest capture first; segments are short.
            for (end, _) in segment.char_indices().skip(1).chain([(segment.len(), ' ')]) {
                let (value, tail) = segment.split_at(end);
                captures.push(value.to_owned());
                if match_mixed(rest, tail, captures) {
                    return true;
                }
                captures.pop();
            }
            false
        }
    }
}

fn compile_api(api: &Api, at: &str, config: &FilterConfig) -> Result<RoutedApi, ConfigError> {
    check_policies(&api.defaults, &format!("{at}/defaults"), config)?;
    let mut trie = Node::default();
    let mut operations = Vec::with_capacity(api.operations.len());
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (o, op) in api.operations.iter().enumerate() {
        let op_at = format!("{at}/operations/{o}");
        if op.operation_id.is_empty() {
            return Err(ConfigError::at(
                format!("{op_at}/operationId"),
                "operationId is empty",
            ));
        }
        if let Some(first) = ids.insert(&op.operation_id, o) {
            return Err(ConfigError::at(
                format!("{op_at}/operationId"),
                format!(
                    "operationId {:?} is also used by {at}/operations/{first}",
                    op.operation_id
                ),
            ));
        }
        let (patterns, param_names) =
            parse_template(&op.path).map_err(|m| ConfigError::at(format!("{op_at}/path"), m))?;
        let mut node = &mut trie;
        for pattern in patterns {
            node = match pattern {
                SegmentPattern::Literal(text) => node.literal.entry(text).or_default(),
                SegmentPattern::Param => node.param.get_or_insert_with(Default::default),
                SegmentPattern::Mixed(pieces) => {
                    if !node.mixed.iter().any(|(p, _)| *p == pieces) {
                        node.mixed.push((pieces.clone(), Node::default()));
                        // Stable sort: equally literal patterns keep declaration order.
                        node.mixed
                            .sort_by_key(|(p, _)| std::cmp::Reverse(literal_len(p)));
                    }
                    match node.mixed.iter_mut().find(|(p, _)| *p == pieces) {
                        Some((_, n)) => n,
                        None => return Err(ConfigError::at(format!("{op_at}/path"), "internal")),
                    }
                }
            };
        }
        let slot = node
            .methods
            .get_mut(method_slot(op.method))
            .ok_or_else(|| ConfigError::at(format!("{op_at}/method"), "unknown method"))?;
        if let Some(existing) = slot {
            let other = api
                .operations
                .get(*existing as usize)
                .map(|x| x.operation_id.as_str())
                .unwrap_or("");
            return Err(ConfigError::at(
                format!("{op_at}/path"),
                format!(
                    "{} {} matches the same requests as operation {other:?} ({at}/operations/{existing})",
                    op.method, op.path
                ),
            ));
        }
        *slot = Some(o as u32);
        check_policies(&op.policies, &format!("{op_at}/policies"), config)?;
        let policies = op.policies.or(&api.defaults);
        operations.push(RoutedOperation {
            tag: format!("{}/{}", api.name, op.operation_id),
            operation_id: op.operation_id.clone(),
            method: op.method,
            template: op.path.clone(),
            param_names,
            policies,
        });
    }
    Ok(RoutedApi {
        name: api.name.clone(),
        strict: api.strict,
        base_path: api.base_path.clone(),
        operations,
        trie,
    })
}

fn literal_len(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.len(),
            Piece::Param => 0,
        })
        .sum()
}

/// Cross-references and ranges of the policy slots.
fn check_policies(p: &Policies, at: &str, config: &FilterConfig) -> Result<(), ConfigError> {
    if let Some(auth) = &p.auth {
        for (a, alt) in auth.any_of.iter().enumerate() {
            if alt.all_of.is_empty() {
                return Err(ConfigError::at(
                    format!("{at}/auth/anyOf/{a}/allOf"),
                    "an alternative needs at least one requirement (an empty anyOf makes the operation public)",
                ));
            }
            for (r, req) in alt.all_of.iter().enumerate() {
                if !config.providers.iter().any(|pr| pr.name == req.provider) {
                    return Err(ConfigError::at(
                        format!("{at}/auth/anyOf/{a}/allOf/{r}/provider"),
                        format!("no provider named {:?} in /providers", req.provider),
                    ));
                }
            }
        }
    }
    if let Some(sampling) = &p.sampling {
        if !(0.0..=1.0).contains(&sampling.rate) {
            return Err(ConfigError::at(
                format!("{at}/sampling/rate"),
                format!("rate {} is outside 0..1", sampling.rate),
            ));
        }
    }
    Ok(())
}

/// Splits a template into segment patterns and its parameter names.
fn parse_template(template: &str) -> Result<(Vec<SegmentPattern>, Vec<String>), String> {
    let Some(body) = template.strip_prefix('/') else {
        return Err(format!("path template {template:?} must start with '/'"));
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut patterns = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if body.is_empty() {
        return Ok((patterns, names));
    }
    for raw in body.split('/') {
        if raw.is_empty() {
            return Err(format!("path template {template:?} has an empty segment"));
        }
        let pieces = parse_segment(raw, template)?;
        let mut seg_names = segment_param_names(raw);
        for name in &seg_names {
            if names.contains(name) {
                return Err(format!(
                    "path template {template:?} uses parameter {{{name}}} twice"
                ));
            }
        }
        names.append(&mut seg_names);
        patterns.push(match pieces.as_slice() {
            [Piece::Param] => SegmentPattern::Param,
            [Piece::Lit(text)] => SegmentPattern::Literal(decode_literal(text, template)?),
            _ => SegmentPattern::Mixed(pieces),
        });
    }
    Ok((patterns, names))
}

fn segment_param_names(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else { break };
        out.push(after.get(..close).unwrap_or_default().to_owned());
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out
}

fn parse_segment(raw: &str, template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(0) if rest.starts_with('{') => {
                let after = rest.get(1..).unwrap_or_default();
                let close = after
                    .find('}')
                    .ok_or_else(|| format!("path template {template:?} has an unclosed '{{'"))?;
                let name = after.get(..close).unwrap_or_default();
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-.$".contains(&b))
                {
                    return Err(format!(
                        "path template {template:?} has a bad parameter name {{{name}}}"
                    ));
                }
                if matches!(pieces.last(), Some(Piece::Param)) {
                    return Err(format!(
                        "path template {template:?} has two parameters with nothing between them"
                    ));
                }
                pieces.push(Piece::Param);
                rest = after.get(close + 1..).unwrap_or_default();
            }
            Some(0) => return Err(format!("path template {template:?} has a stray '}}'")),
            Some(i) => {
                pieces.push(Piece::Lit(rest.get(..i).unwrap_or_default().to_owned()));
                rest = rest.get(i..).unwrap_or_default();
            }
            None => {
                pieces.push(Piece::Lit(rest.to_owned()));
                rest = "";
            }
        }
    }
    Ok(pieces)
}

fn decode_literal(text: &str, template: &str) -> Result<String, String> {
    match decode_segment(text) {
        Ok(s) => Ok(s.into_owned()),
        Err(reason) => Err(format!("path template {template:?}: {reason}")),
    }
}

fn base_segments(base_path: &str) -> Result<Vec<String>, String> {
    if base_path.is_empty() || base_path == "/" {
        return Ok(Vec::new());
    }
    let Some(body) = base_path.strip_prefix('/') else {
        return Err(format!("base path {base_path:?} must start with '/'"));
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    body.split('/')
        .map(|s| {
            if s.is_empty() {
                Err(format!("base path {base_path:?} has an empty segment"))
            } else if s.contains(['{', '}']) {
                Err(format!("base path {base_path:?} cannot hold parameters"))
            } else {
                decode_segment(s)
                    .map(Cow::into_owned)
                    .map_err(|r| format!("base path {base_path:?}: {r}"))
            }
        })
        .collect()
}

enum HostPattern {
    Any,
    Exact(String),
    Suffix(String),
}

fn normalize_host_pattern(host: &str) -> Result<HostPattern, String> {
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    let lowered = host.to_ascii_lowercase();
    let (wild, name) = match lowered.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, lowered.as_str()),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let is_ipv6 = name.starts_with('[') && name.ends_with(']');
    let valid = !name.is_empty()
        && (is_ipv6
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    if !valid || name.contains("..") {
        if name.contains(':') && !is_ipv6 {
            return Err(format!(
                "host {host:?}: leave the port out, hosts match on any port"
            ));
        }
        return Err(format!(
            "host {host:?} is not a host name, '*.suffix' or '*'"
        ));
    }
    Ok(if wild {
        HostPattern::Suffix(format!(".{name}"))
    } else {
        HostPattern::Exact(name.to_owned())
    })
}

fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => authority.get(..=end).unwrap_or(authority),
            None => authority,
        };
    }
    match authority.rfind(':') {
        Some(colon) => authority.get(..colon).unwrap_or(authority),
        None => authority,
    }
}

fn starts_with_segments(segments: &[Cow<'_, str>], base: &[String]) -> bool {
    segments.len() >= base.len() && segments.iter().zip(base).all(|(s, b)| s.as_ref() == b)
}

/// Splits a raw `:path` into decoded segments (query and fragment dropped, one trailing
/// slash ignored).
pub fn split_path(raw: &str) -> Result<Vec<Cow<'_, str>>, &'static str> {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    let path = raw.get(..end).unwrap_or_default();
    let Some(body) = path.strip_prefix('/') else {
        return Err("the path must start with '/'");
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for raw_segment in body.split('/') {
        if out.len() == MAX_SEGMENTS {
            return Err("the path has too many segments");
        }
        if raw_segment.is_empty() {
            return Err("the path has an empty segment (//)");
        }
        let segment = decode_segment(raw_segment)?;
        if segment == "." || segment == ".." {
            return Err("the path has dot segments");
        }
        out.push(segment);
    }
    Ok(out)
}

/// Percent-decodes one path segment, refusing what would change the path's structure.
pub fn decode_segment(raw: &str) -> Result<Cow<'_, str>, &'static str> {
    if !raw.contains('%') {
        if raw.contains(['\\', '\0']) {
            return Err("the path has a backslash or NUL");
        }
        return Ok(Cow::Borrowed(raw));
    }
    let out = crate::percent::decode(raw).ok_or("the path has bad percent-encoding")?;
    if out.iter().any(|b| matches!(b, b'/' | b'\\' | 0)) {
        return Err("the path has an encoded slash, backslash or NUL");
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| "the path is not UTF-8 once decoded")
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
