//! An in-memory [`Host`] for native tests.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use crate::host::{Host, HttpCall, LogLevel, SharedDataError};

/// Shared data: key → (value, CAS token).
type SharedStore = HashMap<String, (Vec<u8>, u32)>;

/// An HTTP call the core started, as recorded by [`MockHost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub token: u32,
    pub upstream: String,
    pub method: String,
    pub path: String,
    pub authority: String,
    pub headers: Vec<(String, String)>,
    pub timeout_ms: u64,
    pub body: Vec<u8>,
}

/// Records what the core did; the clock is set by the test.
#[derive(Debug, Default)]
pub struct MockHost {
    pub now_nanos: Cell<u64>,
    pub logs: RefCell<Vec<(LogLevel, String)>>,
    counters: RefCell<Vec<(String, i64)>>,
    /// Shared data; [`MockHost::sibling`] hosts share it, like VMs with one `vm_id`.
    shared: Rc<RefCell<SharedStore>>,
    /// What `verify_signature` answers (`None`: not supported, the default).
    pub signature_answer: Cell<Option<bool>>,
    /// How many times `verify_signature` was called.
    pub signature_calls: Cell<u32>,
    /// Hash name and signature of the last `verify_signature` call.
    pub last_signature: RefCell<Option<(String, Vec<u8>)>>,
    /// HTTP calls started so far.
    pub http_calls: RefCell<Vec<RecordedCall>>,
    /// When true, `http_call` fails (returns `None`).
    pub http_call_fails: Cell<bool>,
    /// Shared-data writes so far (all keys).
    pub shared_writes: Cell<u32>,
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

    /// Another VM of the same process: same shared data, own everything else.
    #[must_use]
    pub fn sibling(&self) -> MockHost {
        let other = MockHost {
            shared: Rc::clone(&self.shared),
            ..MockHost::default()
        };
        other.now_nanos.set(self.now_nanos.get());
        other
    }

    /// Raw shared-data value of a key.
    #[must_use]
    pub fn shared_value(&self, key: &str) -> Option<Vec<u8>> {
        self.shared.borrow().get(key).map(|(v, _)| v.clone())
    }

    /// Keys of the shared data with this prefix.
    #[must_use]
    pub fn shared_keys(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .shared
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        keys
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

    fn define_gauge(&self, name: &str) -> Option<u32> {
        // Gauges live with the counters; `set_gauge` overwrites instead of adding.
        self.define_counter(name)
    }

    fn set_gauge(&self, id: u32, value: i64) {
        if let Some((_, v)) = self.counters.borrow_mut().get_mut(id as usize) {
            *v = value;
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
        self.shared_writes.set(self.shared_writes.get() + 1);
        Ok(())
    }

    fn verify_signature(
        &self,
        hash: &str,
        _spki_der: &[u8],
        _message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        self.signature_calls.set(self.signature_calls.get() + 1);
        *self.last_signature.borrow_mut() = Some((hash.to_owned(), signature.to_vec()));
        self.signature_answer.get()
    }

    fn http_call(&self, request: &HttpCall<'_>) -> Option<u32> {
        if self.http_call_fails.get() {
            return None;
        }
        let mut calls = self.http_calls.borrow_mut();
        let token = u32::try_from(calls.len()).unwrap_or(u32::MAX) + 1;
        calls.push(RecordedCall {
            token,
            upstream: request.upstream.to_owned(),
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            authority: request.authority.to_owned(),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            timeout_ms: request.timeout_ms,
            body: request.body.map(<[u8]>::to_vec).unwrap_or_default(),
        });
        Some(token)
    }
}
