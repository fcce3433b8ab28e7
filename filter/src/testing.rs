//! An in-memory [`Host`] for native tests.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::host::{Host, LogLevel, SharedDataError};

/// Records what the core did; the clock is set by the test.
#[derive(Debug, Default)]
pub struct MockHost {
    pub now_nanos: Cell<u64>,
    pub logs: RefCell<Vec<(LogLevel, String)>>,
    counters: RefCell<Vec<(String, i64)>>,
    shared: RefCell<HashMap<String, (Vec<u8>, u32)>>,
}

impl MockHost {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Current value of the counter with this exact (tag-encoded) name.
    #[must_use]
    pub fn counter(&self, name: &str) -> i64 {
        self.counters
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }

    /// Names of all counters defined so far.
    #[must_use]
    pub fn counter_names(&self) -> Vec<String> {
        self.counters
            .borrow()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// True when some log line at `level` or above contains `needle`.
    #[must_use]
    pub fn logged(&self, level: LogLevel, needle: &str) -> bool {
        self.logs
            .borrow()
            .iter()
            .any(|(l, m)| *l >= level && m.contains(needle))
    }
}

impl Host for MockHost {
    fn now_nanos(&self) -> u64 {
        self.now_nanos.get()
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }

    fn define_counter(&self, name: &str) -> Option<u32> {
        let mut counters = self.counters.borrow_mut();
        if let Some(pos) = counters.iter().position(|(n, _)| n == name) {
            return u32::try_from(pos).ok();
        }
        counters.push((name.to_owned(), 0));
        u32::try_from(counters.len() - 1).ok()
    }

    fn increment_counter(&self, id: u32, by: i64) {
        if let Some((_, value)) = self.counters.borrow_mut().get_mut(id as usize) {
            *value += by;
        }
    }

    fn get_shared(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        match self.shared.borrow().get(key) {
            Some((value, cas)) => (Some(value.clone()), Some(*cas)),
            None => (None, None),
        }
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SharedDataError> {
        let mut shared = self.shared.borrow_mut();
        let current = shared.get(key).map(|(_, c)| *c);
        if let Some(expected) = cas {
            // proxy-wasm semantics: a CAS of 0 means "no check"; otherwise it must match.
            if expected != 0 && current.unwrap_or(0) != expected {
                return Err(SharedDataError::CasMismatch);
            }
        }
        let next = current.unwrap_or(0).wrapping_add(1).max(1);
        shared.insert(key.to_owned(), (value.to_vec(), next));
        Ok(())
    }
}
