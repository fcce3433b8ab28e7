//! Gatehouse controller: turns `ApiSchema` resources into the filter configuration
//! (contract version 1) and delivers it where the proxy reads it.
//!
//! The compiler is the filter's own: after building a [`FilterConfig`] it runs
//! [`gatehouse_filter::compiled::CompiledConfig::from_config`], so whatever the controller
//! writes, the filter accepts.

pub mod cache;
pub mod compile;
pub mod crd;
pub mod envoy;
pub mod error;
pub mod import;
pub mod learn;
pub mod load;
pub mod local;
pub mod openapi;
pub mod openapi_ref;
pub mod operator;
pub mod providers;
pub mod resource;
pub mod secrets;
pub mod validation;

use std::path::PathBuf;

use gatehouse_filter::config::FilterConfig;

pub use compile::{compile, compile_with_providers};
pub use error::CompileError;
pub use resource::{ApiSchema, ApiSchemaSpec, IdentityProvider, LoadedProvider, LoadedResource};

/// Loads every path (files, or directories of YAML files) and compiles what they hold.
/// Load and compile errors are reported together.
pub fn compile_paths(paths: &[PathBuf]) -> Result<FilterConfig, Vec<CompileError>> {
    let loaded = load::load_paths(paths);
    let mut errors = loaded.errors;
    match compile_with_providers(&loaded.resources, &loaded.providers) {
        Ok(config) if errors.is_empty() => Ok(config),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}
