//! axum and actix-web. Not written yet.
use crate::files::Sources;
use crate::{Found, Framework};
pub fn scan(_sources: &Sources, _framework: Framework, _found: &mut Found) {}
