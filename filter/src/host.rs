//! What the core needs from the proxy. The wasm glue implements it over proxy-wasm
//! hostcalls; `testing::MockHost` implements it in memory for native tests.

/// Log severity, mirroring proxy-wasm's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

/// Why a shared-data write did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDataError {
    /// Another writer changed the value since it was read (compare-and-swap lost).
    CasMismatch,
    /// The host refused the call.
    Unavailable,
}

/// Host services used by the core. Calls never panic; a host failure is reported as a
/// `None`/`Err` and the core degrades instead of trapping the VM.
pub trait Host {
    /// Wall-clock time, nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> u64;

    fn log(&self, level: LogLevel, message: &str);

    /// Defines (or finds) a counter by name; `None` when the host has no metrics.
    fn define_counter(&self, name: &str) -> Option<u32>;

    fn increment_counter(&self, id: u32, by: i64);

    /// Defines (or finds) a gauge by name; `None` (the default) when the host has none.
    fn define_gauge(&self, name: &str) -> Option<u32> {
        let _ = name;
        None
    }

    /// Sets a gauge defined with [`Host::define_gauge`].
    fn set_gauge(&self, id: u32, value: i64) {
        let _ = (id, value);
    }

    /// Value and CAS token of a shared-data key (shared by every VM with the same `vm_id`).
    fn get_shared(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>);

    /// Writes a shared-data key; with `cas`, only if nobody wrote it since that token.
    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SharedDataError>;

    /// Verifies a signature natively (Envoy's `verify_signature` foreign function):
    /// `hash` is `sha256`/`sha384`/`sha512`, `spki_der` the public key as
    /// SubjectPublicKeyInfo DER, `signature` in the host's encoding (RSA as is, ECDSA DER).
    /// `Some(valid)` decides; `None` (the default): not available here, the core falls back
    /// to pure Rust.
    fn verify_signature(
        &self,
        hash: &str,
        spki_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let _ = (hash, spki_der, message, signature);
        None
    }

    /// Starts an HTTP call (`dispatch_http_call`) to `upstream` (an Envoy cluster name or
    /// `host:port`). Returns the call's token, matched against the response callback;
    /// `None` (the default) when the call could not be started.
    fn http_call(&self, request: &HttpCall<'_>) -> Option<u32> {
        let _ = request;
        None
    }
}

/// An outgoing HTTP call, as [`Host::http_call`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct HttpCall<'a> {
    pub upstream: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub authority: &'a str,
    /// Extra headers (`:method`, `:path`, `:authority` come from the fields above).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
    pub timeout_ms: u64,
}
