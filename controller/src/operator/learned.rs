//! What the collector learned, as `ApiSchema.status.learned` (`docs/learning.md`).
//!
//! The operator serves the collector itself (`gatehouse run --collector-listen`), so each
//! status pass reads the model in memory: no API call, no extra watch.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::crd::LearnedSummary;
use crate::learn::{self, diff, emit, Model, Summary};

/// `status.learned` of API `namespace/name`, or `None` before its first sample (the
/// field stays absent rather than reading "0 samples" for an API nobody sampled).
/// `authored` is the document the ApiSchema compiled with and `base_path` where it is
/// served; without it nothing can be undocumented or drifted.
#[must_use]
pub fn learned_status(
    model: &Model,
    api: &str,
    authored: Option<&Value>,
    base_path: &str,
) -> Option<LearnedSummary> {
    let m = model.apis.get(api)?;
    let summary = learn::summary(model, api, authored, base_path);
    let drifted = authored.map_or(0, |a| {
        let learned = emit::document(api, m);
        drifted_operations(&diff::diff(a, &learned, base_path))
    });
    Some(to_status(&summary, drifted))
}

/// Operations with at least one difference other than being undocumented: the summary
/// counts differences (`drift`), the status counts operations.
#[must_use]
pub fn drifted_operations(drift: &[diff::Drift]) -> u64 {
    let ops: BTreeSet<(&str, &str)> = drift
        .iter()
        .filter(|d| d.kind != "undocumented-operation")
        .map(|d| (d.method.as_str(), d.path.as_str()))
        .collect();
    ops.len() as u64
}

/// The summary in the CRD's status shape. `operationsLearned` is not a status field (the
/// CRD's `learned` has none for it); the collector's `/summary` serves it.
#[must_use]
pub fn to_status(summary: &Summary, drifted_operations: u64) -> LearnedSummary {
    let count = |n: u64| Some(u32::try_from(n).unwrap_or(u32::MAX));
    LearnedSummary {
        samples: Some(summary.samples),
        undocumented_operations: count(summary.undocumented_operations),
        drifted_operations: count(drifted_operations),
        // The model keeps no clock; a time here would be the pass's, not a sample's.
        last_sample_time: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn drift(kind: &str, method: &str, path: &str) -> diff::Drift {
        diff::Drift {
            kind: kind.into(),
            method: method.into(),
            path: path.into(),
            pointer: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn summary_maps_onto_the_status_shape() {
        let s = Summary {
            operations_learned: 7,
            samples: 1234,
            undocumented_operations: 2,
            drift: 5,
        };
        assert_eq!(
            to_status(&s, 3),
            LearnedSummary {
                samples: Some(1234),
                undocumented_operations: Some(2),
                drifted_operations: Some(3),
                last_sample_time: None,
            }
        );
        let json = serde_json::to_value(to_status(&s, 3)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"samples": 1234, "undocumentedOperations": 2, "driftedOperations": 3})
        );
        let huge = Summary {
            undocumented_operations: u64::MAX,
            ..s
        };
        assert_eq!(to_status(&huge, 0).undocumented_operations, Some(u32::MAX));
    }

    #[test]
    fn drifted_operations_count_operations_not_differences() {
        let d = [
            drift("undocumented-operation", "GET", "/a"),
            drift("undocumented-parameter", "GET", "/b"),
            drift("type-differs", "GET", "/b"),
            drift("undocumented-status", "POST", "/b"),
            drift("required-differs", "GET", "/c"),
        ];
        assert_eq!(drifted_operations(&d), 3);
        assert_eq!(drifted_operations(&[]), 0);
    }

    #[test]
    fn no_samples_no_status() {
        assert_eq!(
            learned_status(&Model::new(), "default/shop", None, ""),
            None
        );
    }
}
