//! Path templating: turns the paths samples arrived on into OpenAPI path templates.
//!
//! Documented operations arrive with their template. Undocumented ones arrive reduced by
//! the filter: value-like segments already replaced by a class (`{int}`, `{uuid}`,
//! `{hex}`, `{date}`, `{email}`, `{slug}`, `{str}`), word-like segments kept. Here,
//! position by position under each common prefix (every method together):
//! - a class segment is a parameter;
//! - word segments become a parameter on structural evidence: at least
//!   [`MIN_DISTINCT`] rare words (seen at most [`RARE`] times) under one prefix, two
//!   when values of a class were seen there too, and rare words at least half of the
//!   distinct ones; the frequent ones stay literal, so `/users/me` stays beside
//!   `/users/{userId}`;
//! - the parameter is named after the previous literal segment (`/users/{userId}`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gatehouse_filter::sampling::contract::{Format, Kind, Shape};

/// Distinct words under one prefix before a position can be a parameter.
pub const MIN_DISTINCT: usize = 5;
/// A word seen at most this many times at a position is a value candidate.
pub const RARE: u64 = 2;

/// One observed operation path, before templating.
#[derive(Debug, Clone)]
pub struct Observed {
    pub method: String,
    pub path: String,
    /// The path is a documented template (kept as is).
    pub documented: bool,
    pub samples: u64,
}

/// Where an observed path went.
#[derive(Debug, Clone, PartialEq)]
pub struct Templated {
    pub method: String,
    pub template: String,
    /// For undocumented paths: per parameter, the class seen (as a shape to merge).
    pub params: Vec<(String, Shape)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Literal(String),
    /// A class token from the filter (`int`, `uuid`, ...) or `word` for a merged literal.
    Param(String),
}

/// Templates every observed path; returns one entry per input, in order.
#[must_use]
pub fn template(observed: &[Observed]) -> Vec<Templated> {
    let mut rows: Vec<Vec<Seg>> = observed
        .iter()
        .map(|o| {
            split(&o.path)
                .map(|s| {
                    if o.documented {
                        Seg::Literal(s.to_owned())
                    } else if let Some(class) =
                        s.strip_prefix('{').and_then(|c| c.strip_suffix('}'))
                    {
                        Seg::Param(class.to_owned())
                    } else {
                        Seg::Literal(s.to_owned())
                    }
                })
                .collect()
        })
        .collect();
    let depth = rows.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..depth {
        // Group the undocumented rows by their (already templated) prefix.
        let mut groups: HashMap<Vec<Seg>, Vec<usize>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            if observed.get(r).is_some_and(|o| o.documented) || row.len() <= i {
                continue;
            }
            // Parameters of any class are one position for what follows.
            let prefix: Vec<Seg> = row
                .iter()
                .take(i)
                .map(|s| match s {
                    Seg::Param(_) => Seg::Param(String::new()),
                    literal => literal.clone(),
                })
                .collect();
            groups.entry(prefix).or_default().push(r);
        }
        for members in groups.values() {
            let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
            for &r in members {
                if let (Some(Seg::Literal(s)), Some(o)) =
                    (rows.get(r).and_then(|row| row.get(i)), observed.get(r))
                {
                    *counts.entry(s.as_str()).or_default() += o.samples;
                }
            }
            let rare: BTreeSet<String> = counts
                .iter()
                .filter(|(_, c)| **c <= RARE)
                .map(|(s, _)| (*s).to_owned())
                .collect();
            // Values already seen at this position (a class) lower the bar for words.
            let has_param = members
                .iter()
                .any(|&r| matches!(rows.get(r).and_then(|row| row.get(i)), Some(Seg::Param(_))));
            let min = if has_param { 2 } else { MIN_DISTINCT };
            if rare.len() < min || rare.len() * 2 < counts.len() {
                continue;
            }
            for &r in members {
                if let Some(seg) = rows.get_mut(r).and_then(|row| row.get_mut(i)) {
                    if matches!(seg, Seg::Literal(s) if rare.contains(s)) {
                        *seg = Seg::Param("word".to_owned());
                    }
                }
            }
        }
    }
    observed
        .iter()
        .zip(rows)
        .map(|(o, row)| {
            if o.documented {
                return Templated {
                    method: o.method.clone(),
                    template: o.path.clone(),
                    params: Vec::new(),
                };
            }
            name(&o.method, &row)
        })
        .collect()
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').skip(1)
}

fn name(method: &str, row: &[Seg]) -> Templated {
    let mut template = String::new();
    let mut params = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut previous: Option<&str> = None;
    for seg in row {
        template.push('/');
        match seg {
            Seg::Literal(s) => {
                template.push_str(s);
                previous = Some(s);
            }
            Seg::Param(class) => {
                let base = match previous {
                    Some(p) => format!("{}Id", camel(&singular(p))),
                    None => "id".to_owned(),
                };
                let mut n = base.clone();
                let mut k = 2;
                while used.contains(&n) {
                    n = format!("{base}{k}");
                    k += 1;
                }
                used.insert(n.clone());
                template.push('{');
                template.push_str(&n);
                template.push('}');
                params.push((n, class_shape(class)));
                previous = None;
            }
        }
    }
    if template.is_empty() {
        template.push('/');
    }
    Templated {
        method: method.to_owned(),
        template,
        params,
    }
}

/// The shape a class token stands for (merged like any parameter value).
fn class_shape(class: &str) -> Shape {
    let mut s = Shape::of_kind(Kind::String);
    s.format = match class {
        "int" => Some(Format::Integer),
        "uuid" => Some(Format::Uuid),
        "date" => Some(Format::Date),
        "email" => Some(Format::Email),
        "hex" => Some(Format::Hex),
        _ => None,
    };
    s
}

/// `users` → `user`, `categories` → `category`, `addresses` → `address`.
#[must_use]
pub fn singular(word: &str) -> String {
    const IRREGULAR: [(&str, &str); 6] = [
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("data", "datum"),
        ("indices", "index"),
    ];
    if let Some((_, one)) = IRREGULAR.iter().find(|(many, _)| *many == word) {
        return (*one).to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        if !stem.is_empty() {
            return format!("{stem}y");
        }
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    match word.strip_suffix('s') {
        Some(stem) if !stem.is_empty() && !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

/// `user-group` / `user_group` → `userGroup`.
#[must_use]
pub fn camel(word: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in word.chars() {
        if c == '-' || c == '_' || c == '.' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else if out.is_empty() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
