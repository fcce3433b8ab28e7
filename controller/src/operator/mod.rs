//! `gatehouse run`: the Kubernetes operator (`docs/kubernetes.md`).

pub mod index;
