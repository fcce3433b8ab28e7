//! Bounded polling. Tests never sleep and then assert: they poll a condition until it
//! holds or a deadline passes, and the failure names what was awaited.

use std::time::{Duration, Instant};

/// How often [`wait_until`] re-checks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` until it returns `Some`, at most for `timeout`; panics naming `what`
/// (and the last observation `check` reported through `last`) when the deadline passes.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    match try_wait_until(timeout, &mut check) {
        Some(value) => value,
        None => panic!("timed out after {timeout:?} waiting for: {what}"),
    }
}

/// Like [`wait_until`] but returns `None` instead of panicking.
pub fn try_wait_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
