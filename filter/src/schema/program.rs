//! The compiled form of JSON Schema: what the filter configuration carries.
//!
//! Field and variant names are short on purpose: a program is embedded in the filter
//! configuration JSON, once per API, and parsed by every worker VM. Unknown fields are
//! refused like everywhere else in the configuration.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::ecma::Pattern;
use super::format::Format;

/// Index of a node in [`Program`]'s arena.
pub type NodeId = u32;

/// Compiled schemas: an arena of nodes. A schema is entered at a root [`NodeId`] returned
/// by the compiler; one program holds any number of roots sharing their subschemas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    #[serde(rename = "n")]
    pub(crate) nodes: Vec<Node>,
    /// `$dynamicAnchor`s per schema resource (indexed by [`Node::res`]): name → node.
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) dynamic: Vec<Vec<(String, NodeId)>>,
}

impl Program {
    /// Number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the program has no node.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Checks that every index in the program points inside it. A program that passes
    /// can be validated against without out-of-range lookups (the validator would treat
    /// them as violations anyway, but a configuration should be refused up front).
    pub fn check(&self) -> Result<(), String> {
        let len = self.nodes.len();
        let ok = |id: NodeId| (id as usize) < len;
        for (i, node) in self.nodes.iter().enumerate() {
            if let Some(res) = node.res {
                if res as usize >= self.dynamic.len() {
                    return Err(format!("node {i}: resource {res} out of range"));
                }
            }
            let mut bad = None;
            for kw in &node.kw {
                kw.for_each_child(&mut |id| {
                    if !ok(id) && bad.is_none() {
                        bad = Some(id);
                    }
                });
            }
            if let Some(id) = bad {
                return Err(format!("node {i}: reference to node {id} out of range"));
            }
        }
        for (r, anchors) in self.dynamic.iter().enumerate() {
            if let Some((name, id)) = anchors.iter().find(|(_, id)| !ok(*id)) {
                return Err(format!(
                    "resource {r}: anchor {name:?} -> node {id} out of range"
                ));
            }
        }
        Ok(())
    }
}

/// One schema object (or boolean schema): its keywords in evaluation order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Node {
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub kw: Vec<Kw>,
    /// The schema resource this node belongs to, for `$dynamicRef` resolution; set only
    /// in programs that use `$dynamicRef` and only for resources declaring dynamic anchors.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub res: Option<u32>,
    /// The node has `unevaluatedProperties`/`unevaluatedItems`: its evaluation collects
    /// the annotations of its other keywords and in-place subschemas.
    #[serde(rename = "u", default, skip_serializing_if = "is_false")]
    pub ann: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// Type bits of [`Kw::Type`].
pub(crate) mod types {
    pub const NULL: u8 = 1;
    pub const BOOLEAN: u8 = 2;
    pub const OBJECT: u8 = 4;
    pub const ARRAY: u8 = 8;
    pub const NUMBER: u8 = 16;
    pub const STRING: u8 = 32;
    pub const INTEGER: u8 = 64;
}

/// A lowered keyword.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Kw {
    /// The `false` schema: nothing is valid.
    #[serde(rename = "f")]
    False,
    /// OpenAPI 3.0 `nullable: true`: `null` is valid, whatever the other keywords say.
    #[serde(rename = "nl")]
    Nullable,
    #[serde(rename = "t")]
    Type(u8),
    #[serde(rename = "e")]
    Enum(Vec<Value>),
    #[serde(rename = "c")]
    Const(Value),
    #[serde(rename = "m")]
    MultipleOf(Number),
    #[serde(rename = "ge")]
    Minimum(Number),
    #[serde(rename = "le")]
    Maximum(Number),
    #[serde(rename = "gt")]
    ExclusiveMinimum(Number),
    #[serde(rename = "lt")]
    ExclusiveMaximum(Number),
    #[serde(rename = "sn")]
    MinLength(u64),
    #[serde(rename = "sx")]
    MaxLength(u64),
    #[serde(rename = "re")]
    Pattern(Pattern),
    #[serde(rename = "fm")]
    Format(Format),
    /// `prefixItems` + `items` (2020-12), `items` + `additionalItems` (draft 4).
    #[serde(rename = "i")]
    Items(Items),
    #[serde(rename = "ct")]
    Contains(Contains),
    #[serde(rename = "an")]
    MinItems(u64),
    #[serde(rename = "ax")]
    MaxItems(u64),
    #[serde(rename = "uq")]
    UniqueItems,
    /// `properties` + `patternProperties` + `additionalProperties`.
    #[serde(rename = "p")]
    Properties(Properties),
    #[serde(rename = "rq")]
    Required(Vec<String>),
    #[serde(rename = "dr")]
    DependentRequired(Vec<(String, Vec<String>)>),
    #[serde(rename = "ds")]
    DependentSchemas(Vec<(String, NodeId)>),
    #[serde(rename = "pn")]
    PropertyNames(NodeId),
    #[serde(rename = "on")]
    MinProperties(u64),
    #[serde(rename = "ox")]
    MaxProperties(u64),
    #[serde(rename = "all")]
    AllOf(Vec<NodeId>),
    #[serde(rename = "any")]
    AnyOf(Vec<NodeId>),
    #[serde(rename = "one")]
    OneOf(Vec<NodeId>),
    #[serde(rename = "not")]
    Not(NodeId),
    #[serde(rename = "if")]
    If(Conditional),
    #[serde(rename = "$")]
    Ref(NodeId),
    #[serde(rename = "$d")]
    DynamicRef(DynamicRef),
    /// OpenAPI `discriminator` with the `oneOf`/`anyOf` it selects from.
    #[serde(rename = "dc")]
    Discriminator(Discriminator),
    /// `readOnly: true` in a request (or `writeOnly: true` in a response): the value must
    /// not be there at all.
    #[serde(rename = "ro")]
    ReadOnly,
    #[serde(rename = "wo")]
    WriteOnly,
    #[serde(rename = "ui")]
    UnevaluatedItems(NodeId),
    #[serde(rename = "up")]
    UnevaluatedProperties(NodeId),
}

impl Kw {
    /// Calls `f` with every node this keyword refers to.
    pub fn for_each_child(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            Kw::Items(items) => {
                items.prefix.iter().for_each(|&id| f(id));
                if let Some(id) = items.rest {
                    f(id);
                }
            }
            Kw::Contains(c) => f(c.schema),
            Kw::Properties(p) => {
                p.named.iter().for_each(|(_, id)| f(*id));
                p.patterns.iter().for_each(|(_, id)| f(*id));
                if let Some(id) = p.additional {
                    f(id);
                }
            }
            Kw::DependentSchemas(list) => list.iter().for_each(|(_, id)| f(*id)),
            Kw::PropertyNames(id)
            | Kw::Not(id)
            | Kw::Ref(id)
            | Kw::UnevaluatedItems(id)
            | Kw::UnevaluatedProperties(id) => f(*id),
            Kw::AllOf(list) | Kw::AnyOf(list) | Kw::OneOf(list) => {
                list.iter().for_each(|&id| f(id));
            }
            Kw::If(c) => {
                f(c.cond);
                if let Some(id) = c.then {
                    f(id);
                }
                if let Some(id) = c.otherwise {
                    f(id);
                }
            }
            Kw::DynamicRef(d) => f(d.target),
            Kw::Discriminator(d) => {
                d.mapping.iter().for_each(|(_, id)| f(*id));
                d.branches.iter().for_each(|&id| f(id));
            }
            Kw::False
            | Kw::Nullable
            | Kw::Type(_)
            | Kw::Enum(_)
            | Kw::Const(_)
            | Kw::MultipleOf(_)
            | Kw::Minimum(_)
            | Kw::Maximum(_)
            | Kw::ExclusiveMinimum(_)
            | Kw::ExclusiveMaximum(_)
            | Kw::MinLength(_)
            | Kw::MaxLength(_)
            | Kw::Pattern(_)
            | Kw::Format(_)
            | Kw::MinItems(_)
            | Kw::MaxItems(_)
            | Kw::UniqueItems
            | Kw::Required(_)
            | Kw::DependentRequired(_)
            | Kw::MinProperties(_)
            | Kw::MaxProperties(_)
            | Kw::ReadOnly
            | Kw::WriteOnly => {}
        }
    }

    /// Calls `f` with a mutable reference to every node index in this keyword.
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut NodeId)) {
        match self {
            Kw::Items(items) => {
                items.prefix.iter_mut().for_each(&mut *f);
                if let Some(id) = &mut items.rest {
                    f(id);
                }
            }
            Kw::Contains(c) => f(&mut c.schema),
            Kw::Properties(p) => {
                p.named.iter_mut().for_each(|(_, id)| f(id));
                p.patterns.iter_mut().for_each(|(_, id)| f(id));
                if let Some(id) = &mut p.additional {
                    f(id);
                }
            }
            Kw::DependentSchemas(list) => list.iter_mut().for_each(|(_, id)| f(id)),
            Kw::PropertyNames(id)
            | Kw::Not(id)
            | Kw::Ref(id)
            | Kw::UnevaluatedItems(id)
            | Kw::UnevaluatedProperties(id) => f(id),
            Kw::AllOf(list) | Kw::AnyOf(list) | Kw::OneOf(list) => {
                list.iter_mut().for_each(&mut *f);
            }
            Kw::If(c) => {
                f(&mut c.cond);
                if let Some(id) = &mut c.then {
                    f(id);
                }
                if let Some(id) = &mut c.otherwise {
                    f(id);
                }
            }
            Kw::DynamicRef(d) => f(&mut d.target),
            Kw::Discriminator(d) => {
                d.mapping.iter_mut().for_each(|(_, id)| f(id));
                d.branches.iter_mut().for_each(&mut *f);
            }
            Kw::False
            | Kw::Nullable
            | Kw::Type(_)
            | Kw::Enum(_)
            | Kw::Const(_)
            | Kw::MultipleOf(_)
            | Kw::Minimum(_)
            | Kw::Maximum(_)
            | Kw::ExclusiveMinimum(_)
            | Kw::ExclusiveMaximum(_)
            | Kw::MinLength(_)
            | Kw::MaxLength(_)
            | Kw::Pattern(_)
            | Kw::Format(_)
            | Kw::MinItems(_)
            | Kw::MaxItems(_)
            | Kw::UniqueItems
            | Kw::Required(_)
            | Kw::DependentRequired(_)
            | Kw::MinProperties(_)
            | Kw::MaxProperties(_)
            | Kw::ReadOnly
            | Kw::WriteOnly => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Items {
    /// Schemas of the first items, by position.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<NodeId>,
    /// Schema of the items after the prefix.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Contains {
    #[serde(rename = "s")]
    pub schema: NodeId,
    #[serde(rename = "n", default = "one", skip_serializing_if = "is_one")]
    pub min: u64,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

fn one() -> u64 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_one(n: &u64) -> bool {
    *n == 1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Properties {
    /// `properties`, sorted by name.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub named: Vec<(String, NodeId)>,
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<(Pattern, NodeId)>,
    /// `additionalProperties`.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub additional: Option<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Conditional {
    #[serde(rename = "i")]
    pub cond: NodeId,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub then: Option<NodeId>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DynamicRef {
    /// Where the reference points statically (used when no dynamic anchor in scope).
    #[serde(rename = "t")]
    pub target: NodeId,
    /// The anchor name looked up in the dynamic scope.
    #[serde(rename = "a")]
    pub anchor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Discriminator {
    /// `propertyName`.
    #[serde(rename = "p")]
    pub property: String,
    /// Value of the property → schema, sorted by value (explicit and implicit mapping).
    #[serde(rename = "m")]
    pub mapping: Vec<(String, NodeId)>,
    /// The `oneOf`/`anyOf` alternatives, evaluated as usual when the instance is not an
    /// object.
    #[serde(rename = "b")]
    pub branches: Vec<NodeId>,
    /// True for `oneOf`, false for `anyOf`.
    #[serde(rename = "o", default, skip_serializing_if = "is_false")]
    pub one_of: bool,
}
