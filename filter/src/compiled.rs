//! A checked, ready-to-serve configuration: parsed once, cross-references verified, the
//! router built. Only `on_configure` (and the controller) build it; requests only read it.

use crate::config::{FilterConfig, CONFIG_VERSION};
use crate::router::Router;

/// Why a configuration was refused. `pointer` is a JSON pointer into the configuration
/// document (RFC 6901), so the controller can map it back onto the resource it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn at(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// The configuration the filter serves from.
#[derive(Debug)]
pub struct CompiledConfig {
    pub source: FilterConfig,
    pub router: Router,
    /// Identity providers, compiled (`/providers/...` pointers on refusal).
    pub providers: crate::jwt::ProviderSet,
    /// OIDC clients of the providers that have one (browser login).
    pub oidc: crate::oidc::OidcClients,
}

impl CompiledConfig {
    /// Parses and compiles the JSON configuration.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let config: FilterConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let pointer = path_to_pointer(&e.path().to_string());
            ConfigError::at(pointer, e.into_inner().to_string())
        })?;
        Self::from_config(config)
    }

    /// Compiles an already parsed configuration.
    pub fn from_config(source: FilterConfig) -> Result<Self, ConfigError> {
        if source.version != CONFIG_VERSION {
            return Err(ConfigError::at(
                "/version",
                format!(
                    "unsupported configuration version {} (this filter reads version {CONFIG_VERSION})",
                    source.version
                ),
            ));
        }
        let router = Router::build(&source)?;
        let providers = crate::jwt::ProviderSet::from_config(&source.providers)?;
        let oidc = crate::oidc::OidcClients::from_config(&source.providers)?;
        Ok(Self {
            source,
            router,
            providers,
            oidc,
        })
    }
}

/// Turns serde_path_to_error's `apis[0].operations[2].path` into `/apis/0/operations/2/path`.
fn path_to_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            let (name, tail) = rest.split_at(open);
            if !name.is_empty() {
                out.push('/');
                out.push_str(&escape_pointer(name));
            }
            let close = tail.find(']').unwrap_or(tail.len());
            out.push('/');
            out.push_str(tail.get(1..close).unwrap_or_default());
            rest = tail.get(close + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            out.push('/');
            out.push_str(&escape_pointer(rest));
        }
    }
    out
}

/// Escapes one JSON pointer reference token (RFC 6901 §3).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> ConfigError {
        CompiledConfig::from_json(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn the_documented_example_compiles() {
        let doc = include_str!("../../docs/filter-config.example.json");
        let compiled = CompiledConfig::from_json(doc.as_bytes()).unwrap();
        assert_eq!(compiled.router.apis.len(), 2);
    }

    #[test]
    fn parse_errors_carry_a_json_pointer() {
        let e = err(
            r#"{"version":1,"apis":[{"name":"a","hosts":["h"],"operations":[{"operationId":"x","method":"GETT","path":"/"}]}]}"#,
        );
        assert_eq!(e.pointer, "/apis/0/operations/0/method");
        assert!(e.message.contains("GETT"), "{e}");

        let e = err(
            r#"{"version":1,"apis":[{"name":"a","hosts":["h"],"stirct":true,"operations":[]}]}"#,
        );
        assert_eq!(e.pointer, "/apis/0/stirct");
        assert!(e.message.contains("stirct"), "{e}");

        let e = err(
            r#"{"version":1,"apis":[{"name":"a","hosts":["h"],"operations":[{"operationId":"x","method":"GET","path":"/","policies":{"validation":{"mode":"strict"}}}]}]}"#,
        );
        assert_eq!(e.pointer, "/apis/0/operations/0/policies/validation/mode");

        let e = err(r#"{"version":1,"settings":{"requestIdHeader":7}}"#);
        assert_eq!(e.pointer, "/settings/requestIdHeader");
    }

    #[test]
    fn other_versions_and_non_json_are_refused() {
        assert_eq!(err(r#"{"version":2,"apis":[]}"#).pointer, "/version");
        assert!(err(r#"{"apis":[]}"#).message.contains("version"));
        assert!(!err("not json").message.is_empty());
        assert!(!err("").message.is_empty());
        assert!(!err("[]").message.is_empty());
    }

    #[test]
    fn pointers_escape_and_index() {
        assert_eq!(
            path_to_pointer("apis[3].operations[12].path"),
            "/apis/3/operations/12/path"
        );
        assert_eq!(path_to_pointer("."), "");
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }
}
