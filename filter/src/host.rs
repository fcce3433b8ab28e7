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

    /// Value and CAS token of a shared-data key (shared by every VM with the same `vm_id`).
    fn get_shared(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>);

    /// Writes a shared-data key; with `cas`, only if nobody wrote it since that token.
    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SharedDataError>;
}
