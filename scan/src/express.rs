//! Express (JavaScript/TypeScript). Not written yet.
use crate::files::Sources;
use crate::Found;
pub fn scan(_sources: &Sources, _found: &mut Found) {}
