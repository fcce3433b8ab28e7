//! Why a pass (or part of one) failed, with a short label for the error metric.

/// Errors of the operator's passes; each has a stable label for
/// `gatehouse_operator_errors_total{error=...}`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing {object}: {source}")]
    Apply {
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("deleting {object}: {source}")]
    Delete {
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("status of {object}: {source}")]
    Status {
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("finalizer of {object}: {source}")]
    Finalizer {
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("listing generated {kind} objects: {source}")]
    List {
        kind: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("publishing an event on {object}: {source}")]
    Event {
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("leader election lease: {0}")]
    Lease(#[source] kube::Error),
    #[error("serializing: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl Error {
    /// The metric label.
    #[must_use]
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Apply { .. } => "apply",
            Self::Delete { .. } => "delete",
            Self::Status { .. } => "status",
            Self::Finalizer { .. } => "finalizer",
            Self::List { .. } => "list",
            Self::Event { .. } => "event",
            Self::Lease(_) => "lease",
            Self::Serialize(_) => "serialize",
        }
    }
}
