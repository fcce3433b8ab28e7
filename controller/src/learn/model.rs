//! The learned model: shapes merged into counts. Memory grows with the number of distinct
//! operations, properties and enum candidates (each bounded), never with the number of
//! samples: a million samples of one operation cost what ten do.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_filter::sampling::contract::{Format, Kind, Len, Sample, Shape};
use serde::{Deserialize, Serialize};

/// Most properties kept per object; more are counted in `dropped_properties`.
pub const MAX_PROPERTIES: usize = 256;
/// Most distinct enum candidates kept per place; more mean "not an enum".
pub const MAX_CANDIDATES: usize = 16;
/// Most operations (distinct method + path) per API.
pub const MAX_OPERATIONS: usize = 4096;
/// Most header names, query names and statuses per operation.
pub const MAX_NAMES: usize = 64;
/// Nesting kept in the model (the filter sends at most 12 levels).
const MAX_DEPTH: usize = 16;

/// Merged shapes of one place (a body, a property, a parameter).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaModel {
    /// Observations.
    pub count: u64,
    /// Observations per JSON type.
    pub kinds: BTreeMap<Kind, u64>,
    /// String observations per recognized format (the rest have none).
    pub formats: BTreeMap<Format, u64>,
    /// String observations per length class.
    pub lens: BTreeMap<Len, u64>,
    /// Enum candidates with their counts; `None` once too many distinct ones were seen.
    pub candidates: Option<BTreeMap<String, u64>>,
    /// Strings that came with a candidate.
    pub with_candidate: u64,
    /// Array elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<SchemaModel>>,
    /// Object properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, PropertyModel>,
    /// Objects seen whole (not truncated by the filter): the base of `required`.
    pub complete_objects: u64,
    /// Objects used as maps (keys are data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<Box<SchemaModel>>,
    pub dropped_properties: u64,
}

/// One property of an object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyModel {
    /// Objects it appeared in.
    pub present: u64,
    /// Complete objects it appeared in.
    pub present_complete: u64,
    pub schema: SchemaModel,
}

impl SchemaModel {
    /// Adds one observation.
    pub fn add(&mut self, shape: &Shape) {
        self.add_at(shape, 0);
    }

    fn add_at(&mut self, shape: &Shape, depth: usize) {
        self.count += 1;
        *self.kinds.entry(shape.kind).or_default() += 1;
        if depth >= MAX_DEPTH {
            return;
        }
        match shape.kind {
            Kind::String => {
                if let Some(f) = shape.format {
                    *self.formats.entry(f).or_default() += 1;
                }
                if let Some(l) = shape.len {
                    *self.lens.entry(l).or_default() += 1;
                }
                if self.count == 1 {
                    self.candidates = Some(BTreeMap::new());
                }
                if let Some(c) = &shape.candidate {
                    self.with_candidate += 1;
                    if let Some(cands) = &mut self.candidates {
                        *cands.entry(c.clone()).or_default() += 1;
                        if cands.len() > MAX_CANDIDATES {
                            self.candidates = None;
                        }
                    }
                }
            }
            Kind::Array => {
                let items = self.items.get_or_insert_with(Box::default);
                for item in &shape.items {
                    items.add_at(item, depth + 1);
                }
            }
            Kind::Object => {
                if let Some(m) = &shape.map {
                    self.map
                        .get_or_insert_with(Box::default)
                        .add_at(m, depth + 1);
                }
                if let Some(props) = &shape.properties {
                    if !shape.truncated {
                        self.complete_objects += 1;
                    }
                    for (name, s) in props {
                        let room = self.properties.len() < MAX_PROPERTIES;
                        let p = match self.properties.get_mut(name) {
                            Some(p) => p,
                            None if room => self.properties.entry(name.clone()).or_default(),
                            None => {
                                self.dropped_properties += 1;
                                continue;
                            }
                        };
                        p.present += 1;
                        if !shape.truncated {
                            p.present_complete += 1;
                        }
                        p.schema.add_at(s, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds `n` observations of a flat (string or scalar) shape at once.
    pub fn add_times(&mut self, shape: &Shape, n: u64) {
        self.count += n;
        *self.kinds.entry(shape.kind).or_default() += n;
        if let Some(f) = shape.format {
            *self.formats.entry(f).or_default() += n;
        }
        if let Some(l) = shape.len {
            *self.lens.entry(l).or_default() += n;
        }
    }

    /// Folds another model of the same place in (partial models from other replicas).
    pub fn merge(&mut self, other: &SchemaModel) {
        self.count += other.count;
        add_counts(&mut self.kinds, &other.kinds);
        add_counts(&mut self.formats, &other.formats);
        add_counts(&mut self.lens, &other.lens);
        self.with_candidate += other.with_candidate;
        self.candidates = match (self.candidates.take(), &other.candidates) {
            (Some(mut a), Some(b)) => {
                add_counts(&mut a, b);
                (a.len() <= MAX_CANDIDATES).then_some(a)
            }
            (None, Some(b)) if self.count == other.count => Some(b.clone()),
            _ => None,
        };
        if let Some(o) = &other.items {
            self.items.get_or_insert_with(Box::default).merge(o);
        }
        if let Some(o) = &other.map {
            self.map.get_or_insert_with(Box::default).merge(o);
        }
        self.complete_objects += other.complete_objects;
        self.dropped_properties += other.dropped_properties;
        for (name, p) in &other.properties {
            if !self.properties.contains_key(name) && self.properties.len() >= MAX_PROPERTIES {
                self.dropped_properties += p.present;
                continue;
            }
            let mine = self.properties.entry(name.clone()).or_default();
            mine.present += p.present;
            mine.present_complete += p.present_complete;
            mine.schema.merge(&p.schema);
        }
    }
}

fn add_counts<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

/// A body of one content type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyModel {
    pub count: u64,
    /// Shapes seen (JSON bodies within the filter's size limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaModel>,
}

/// Responses of one status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseModel {
    pub count: u64,
    pub content: BTreeMap<String, BodyModel>,
}

/// One operation: a method and a path (a documented template, or a reduced raw path that
/// [`super::paths`] templates).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Samples routed to a documented operation.
    pub matched: u64,
    pub samples: u64,
    pub path_params: BTreeMap<String, SchemaModel>,
    pub query: BTreeMap<String, SchemaModel>,
    pub headers: BTreeMap<String, u64>,
    pub auth: BTreeMap<String, u64>,
    /// Samples that carried a request body, and those bodies per content type.
    pub with_body: u64,
    pub request: BTreeMap<String, BodyModel>,
    pub responses: BTreeMap<u16, ResponseModel>,
}

impl OperationModel {
    pub fn add(&mut self, s: &Sample) {
        self.samples += 1;
        if s.operation_id.is_some() {
            self.matched += 1;
            self.operation_id.clone_from(&s.operation_id);
        }
        for (name, shape) in &s.path_params {
            if self.path_params.len() < MAX_NAMES || self.path_params.contains_key(name) {
                self.path_params.entry(name.clone()).or_default().add(shape);
            }
        }
        for (name, shape) in &s.query {
            if self.query.len() < MAX_NAMES || self.query.contains_key(name) {
                self.query.entry(name.clone()).or_default().add(shape);
            }
        }
        for name in &s.headers {
            if self.headers.len() < MAX_NAMES || self.headers.contains_key(name) {
                *self.headers.entry(name.clone()).or_default() += 1;
            }
        }
        if let Some(a) = &s.auth {
            if self.auth.len() < 8 || self.auth.contains_key(a) {
                *self.auth.entry(a.clone()).or_default() += 1;
            }
        }
        if let Some(body) = &s.request {
            self.with_body += 1;
            if self.request.len() < 8 || self.request.contains_key(&body.content_type) {
                let b = self.request.entry(body.content_type.clone()).or_default();
                b.count += 1;
                if let Some(shape) = &body.shape {
                    b.schema.get_or_insert_with(SchemaModel::default).add(shape);
                }
            }
        }
        if self.responses.len() < MAX_NAMES || self.responses.contains_key(&s.status) {
            let r = self.responses.entry(s.status).or_default();
            r.count += 1;
            if let Some(body) = &s.response {
                if r.content.len() < 8 || r.content.contains_key(&body.content_type) {
                    let b = r.content.entry(body.content_type.clone()).or_default();
                    b.count += 1;
                    if let Some(shape) = &body.shape {
                        b.schema.get_or_insert_with(SchemaModel::default).add(shape);
                    }
                }
            }
        }
    }

    pub fn merge(&mut self, o: &OperationModel) {
        self.samples += o.samples;
        self.matched += o.matched;
        if self.operation_id.is_none() {
            self.operation_id.clone_from(&o.operation_id);
        }
        for (k, v) in &o.path_params {
            self.path_params.entry(k.clone()).or_default().merge(v);
        }
        for (k, v) in &o.query {
            self.query.entry(k.clone()).or_default().merge(v);
        }
        add_counts(&mut self.headers, &o.headers);
        add_counts(&mut self.auth, &o.auth);
        self.with_body += o.with_body;
        merge_bodies(&mut self.request, &o.request);
        for (status, r) in &o.responses {
            let mine = self.responses.entry(*status).or_default();
            mine.count += r.count;
            merge_bodies(&mut mine.content, &r.content);
        }
    }
}

fn merge_bodies(a: &mut BTreeMap<String, BodyModel>, b: &BTreeMap<String, BodyModel>) {
    for (ct, body) in b {
        let mine = a.entry(ct.clone()).or_default();
        mine.count += body.count;
        if let Some(s) = &body.schema {
            mine.schema
                .get_or_insert_with(SchemaModel::default)
                .merge(s);
        }
    }
}

/// Everything learned about one API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiModel {
    pub samples: u64,
    /// Samples the filters reported dropping (queue full, collector down).
    pub dropped: u64,
    pub hosts: BTreeSet<String>,
    /// `METHOD path` → operation.
    pub operations: BTreeMap<String, OperationModel>,
    /// Samples refused because the operation table was full.
    pub overflow: u64,
}

impl ApiModel {
    pub fn add(&mut self, s: &Sample) {
        self.samples += 1;
        if !s.host.is_empty() && self.hosts.len() < 16 {
            self.hosts.insert(s.host.clone());
        }
        let key = format!("{} {}", s.method, s.path);
        let room = self.operations.len() < MAX_OPERATIONS;
        match self.operations.get_mut(&key) {
            Some(op) => op.add(s),
            None if room => self.operations.entry(key).or_default().add(s),
            None => self.overflow += 1,
        }
    }

    pub fn merge(&mut self, o: &ApiModel) {
        self.samples += o.samples;
        self.dropped += o.dropped;
        self.overflow += o.overflow;
        for h in &o.hosts {
            if self.hosts.len() < 16 {
                self.hosts.insert(h.clone());
            }
        }
        for (k, op) in &o.operations {
            self.operations.entry(k.clone()).or_default().merge(op);
        }
    }
}

/// The models of every API, keyed by the API's configured name (`namespace/name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// Persistence format version.
    #[serde(default = "model_version")]
    pub version: u32,
    pub apis: BTreeMap<String, ApiModel>,
    /// Drops reported by filters, not attributable to one API.
    pub dropped: u64,
}

fn model_version() -> u32 {
    1
}

impl Model {
    #[must_use]
    pub fn new() -> Self {
        Self {
            version: 1,
            ..Self::default()
        }
    }

    pub fn add(&mut self, s: &Sample) {
        if s.api.is_empty() || s.api.len() > 253 {
            return;
        }
        if !self.apis.contains_key(&s.api) && self.apis.len() >= 1024 {
            return;
        }
        self.apis.entry(s.api.clone()).or_default().add(s);
    }

    pub fn merge(&mut self, o: &Model) {
        self.dropped += o.dropped;
        for (k, a) in &o.apis {
            self.apis.entry(k.clone()).or_default().merge(a);
        }
    }

    /// Total samples merged.
    #[must_use]
    pub fn samples(&self) -> u64 {
        self.apis.values().map(|a| a.samples).sum()
    }
}
