//! A bounded key → bytes store in host shared data, shared by every worker VM.
//!
//! Shared data has neither eviction nor deletion (a key, once set, stays), so the store
//! uses a fixed key space and keeps its own books:
//!
//! | shared-data key | value |
//! |---|---|
//! | `gatehouse/c/index` | the allocator: `GCI1`, CLOCK hand (u32), bytes used (u64), slot count (u32), then per slot `hash u64, gen u32, size u32, expires u32 (unix s), flags u8` (bit 0 live, bit 1 referenced) |
//! | `gatehouse/c/b/<n>` | bucket `n = hash % slots`: up to [`BUCKET_WAYS`] records `hash u64, slot u32, gen u32` — how readers find a slot without reading the index |
//! | `gatehouse/c/s/<slot>` | the object: `GCS1`, gen u32, hash u64, expires u32 (unix s; never served after), key length u16, key, payload; empty when free |
//!
//! At most `2 × slots + 1` keys ever exist. Readers do two small reads (bucket, object) and
//! trust an object only when its generation, hash and full key match. Writers reserve a
//! slot and its bytes in the index with compare-and-swap (so `bytes used` never passes the
//! budget), then write the object, then publish it in its bucket (CAS again). Evicted and
//! purged objects are emptied with a CAS on the object that checks its generation, so a
//! writer never wipes a slot somebody else has taken since.
//!
//! The one race the books cannot see: a writer whose reservation is evicted by another
//! writer before it writes its object. It re-reads the index after writing and empties the
//! object again, so memory held outside the books is at most one object per writer in
//! flight (budget + one object with two workers).
//!
//! Eviction is CLOCK: hits record `(slot, gen)` per VM and the VM's next index write sets
//! their referenced bits (a hit never writes shared data); expired slots are reclaimed first.

use crate::host::{Host, SharedDataError};

pub const INDEX_KEY: &str = "gatehouse/c/index";
pub const BUCKET_PREFIX: &str = "gatehouse/c/b/";
pub const SLOT_PREFIX: &str = "gatehouse/c/s/";
/// Records per bucket; a full bucket forgets its oldest record (the object stays until
/// CLOCK evicts it).
pub const BUCKET_WAYS: usize = 8;
/// Compare-and-swap attempts before a write gives up (the response is then not stored).
pub const MAX_ATTEMPTS: usize = 16;
/// Referenced slots remembered per VM between two index writes.
pub const MAX_PENDING_REFS: usize = 256;

const INDEX_MAGIC: &[u8; 4] = b"GCI1";
const OBJECT_MAGIC: &[u8; 4] = b"GCS1";
const INDEX_HEADER: usize = 4 + 4 + 8 + 4;
const SLOT_BYTES: usize = 8 + 4 + 4 + 4 + 1;
const RECORD_BYTES: usize = 16;
const LIVE: u8 = 1;
const REFERENCED: u8 = 2;

/// Sizes from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of objects (key + payload + 22 bytes of framing) held at once.
    pub max_bytes: u64,
    /// Objects held at once (slots).
    pub max_entries: u32,
    /// Largest object stored.
    pub max_object: u32,
}

/// Where an object lives, as readers found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRef {
    pub slot: u32,
    pub gen: u32,
}

/// How [`Store::put`] treats a live object with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Replace,
    /// Store only if no live object has this key (idempotency records: first one wins).
    IfAbsent,
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Stored {
        slot: SlotRef,
        evicted: u32,
    },
    /// [`PutMode::IfAbsent`] and the key is live.
    Exists,
    /// Larger than the object limit or the whole budget.
    TooLarge,
    /// Lost every compare-and-swap, or the host refused: not stored.
    Failed,
}

/// One slot of the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    hash: u64,
    gen: u32,
    size: u32,
    expires: u32,
    flags: u8,
}

impl Slot {
    fn live(&self, now: u32) -> bool {
        self.flags & LIVE != 0 && self.expires > now
    }
}

/// The decoded index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    hand: u32,
    used: u64,
    slots: Vec<Slot>,
}

impl Index {
    fn empty(n: u32) -> Self {
        Self {
            hand: 0,
            used: 0,
            slots: vec![Slot::default(); n as usize],
        }
    }

    fn decode(bytes: &[u8], n: u32) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.take(4)? != INDEX_MAGIC {
            return None;
        }
        let hand = r.u32()?;
        let used = r.u64()?;
        let count = r.u32()?;
        if count != n || r.0.len() != count as usize * SLOT_BYTES {
            return None;
        }
        let mut slots = Vec::with_capacity(count as usize);
        for _ in 0..count {
            slots.push(Slot {
                hash: r.u64()?,
                gen: r.u32()?,
                size: r.u32()?,
                expires: r.u32()?,
                flags: r.u8()?,
            });
        }
        Some(Self { hand, used, slots })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(INDEX_HEADER + self.slots.len() * SLOT_BYTES);
        out.extend_from_slice(INDEX_MAGIC);
        out.extend_from_slice(&self.hand.to_le_bytes());
        out.extend_from_slice(&self.used.to_le_bytes());
        out.extend_from_slice(&(self.slots.len() as u32).to_le_bytes());
        for s in &self.slots {
            out.extend_from_slice(&s.hash.to_le_bytes());
            out.extend_from_slice(&s.gen.to_le_bytes());
            out.extend_from_slice(&s.size.to_le_bytes());
            out.extend_from_slice(&s.expires.to_le_bytes());
            out.push(s.flags);
        }
        out
    }

    /// Frees a slot's bytes; returns whether it held any.
    fn free(&mut self, i: usize) -> bool {
        let Some(s) = self.slots.get_mut(i) else {
            return false;
        };
        let held = s.flags & LIVE != 0;
        if held {
            self.used = self.used.saturating_sub(u64::from(s.size));
        }
        s.flags = 0;
        held
    }
}

/// Little-endian reader that answers `None` instead of panicking.
pub(crate) struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Per-VM memory of the store: slots hit since this VM last wrote the index.
#[derive(Debug, Default)]
pub struct Refs {
    pending: Vec<SlotRef>,
}

impl Refs {
    pub fn record(&mut self, slot: SlotRef) {
        if self.pending.len() < MAX_PENDING_REFS && !self.pending.contains(&slot) {
            self.pending.push(slot);
        }
    }
}

/// The store over a host's shared data.
#[derive(Clone, Copy)]
pub struct Store<'h> {
    pub host: &'h dyn Host,
    pub limits: Limits,
}

impl std::fmt::Debug for Store<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Object size as accounted: framing + key + payload.
#[must_use]
pub fn object_size(key: &str, payload: &[u8]) -> usize {
    4 + 4 + 8 + 4 + 2 + key.len() + payload.len()
}

/// 64-bit FNV-1a: spreads keys over buckets; objects carry their full key, so a
/// collision costs a miss, never a wrong answer.
#[must_use]
pub fn hash_key(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn slot_key(slot: u32) -> String {
    format!("{SLOT_PREFIX}{slot}")
}

fn bucket_key(hash: u64, slots: u32) -> String {
    format!("{BUCKET_PREFIX}{}", hash % u64::from(slots.max(1)))
}

fn decode_bucket(bytes: &[u8]) -> Vec<(u64, SlotRef)> {
    let mut r = Reader(bytes);
    let mut out = Vec::new();
    while let (Some(hash), Some(slot), Some(gen)) = (r.u64(), r.u32(), r.u32()) {
        out.push((hash, SlotRef { slot, gen }));
    }
    out
}

fn encode_bucket(records: &[(u64, SlotRef)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * RECORD_BYTES);
    for (hash, s) in records {
        out.extend_from_slice(&hash.to_le_bytes());
        out.extend_from_slice(&s.slot.to_le_bytes());
        out.extend_from_slice(&s.gen.to_le_bytes());
    }
    out
}

fn encode_object(gen: u32, hash: u64, expires: u32, key: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(object_size(key, payload));
    out.extend_from_slice(OBJECT_MAGIC);
    out.extend_from_slice(&gen.to_le_bytes());
    out.extend_from_slice(&hash.to_le_bytes());
    out.extend_from_slice(&expires.to_le_bytes());
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A decoded object.
struct Object<'a> {
    gen: u32,
    hash: u64,
    expires: u32,
    key: &'a [u8],
    payload: &'a [u8],
}

fn decode_object(bytes: &[u8]) -> Option<Object<'_>> {
    let mut r = Reader(bytes);
    if r.take(4)? != OBJECT_MAGIC {
        return None;
    }
    let gen = r.u32()?;
    let hash = r.u64()?;
    let expires = r.u32()?;
    let len = r.u16()?;
    let key = r.take(usize::from(len))?;
    Some(Object {
        gen,
        hash,
        expires,
        key,
        payload: r.0,
    })
}

impl Store<'_> {
    fn now_secs(&self) -> u32 {
        u32::try_from(self.host.now_nanos() / 1_000_000_000).unwrap_or(u32::MAX)
    }

    fn read_index(&self) -> (Index, Option<u32>) {
        let (bytes, cas) = self.host.get_shared(INDEX_KEY);
        let index = bytes
            .as_deref()
            .and_then(|b| Index::decode(b, self.limits.max_entries))
            .unwrap_or_else(|| Index::empty(self.limits.max_entries));
        (index, cas)
    }

    /// Bytes of live objects per the index.
    #[must_use]
    pub fn used_bytes(&self) -> u64 {
        self.read_index().0.used
    }

    /// The payload stored under `key`, with where it lives (for [`Refs::record`]).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<(SlotRef, Vec<u8>)> {
        if self.limits.max_entries == 0 {
            return None;
        }
        let hash = hash_key(key);
        let (bucket, _) = self
            .host
            .get_shared(&bucket_key(hash, self.limits.max_entries));
        let records = decode_bucket(&bucket?);
        // Newest record first: a replaced key may still have an older record.
        let found = records.iter().rev().find(|(h, _)| *h == hash)?.1;
        let (object, _) = self.host.get_shared(&slot_key(found.slot));
        let mut object = object?;
        let o = decode_object(&object)?;
        let valid = o.gen == found.gen
            && o.hash == hash
            && o.expires > self.now_secs()
            && o.key == key.as_bytes();
        // The payload is the object's tail: shift it down rather than copy it out.
        let start = object.len() - o.payload.len();
        if !valid {
            return None;
        }
        object.drain(..start);
        Some((found, object))
    }

    /// Stores `payload` under `key` until `expires` (unix seconds; the slot is reclaimed
    /// after it), evicting with CLOCK to stay within the limits.
    pub fn put(
        &self,
        refs: &mut Refs,
        key: &str,
        payload: &[u8],
        expires: u32,
        mode: PutMode,
    ) -> PutOutcome {
        let size = object_size(key, payload);
        let limits = self.limits;
        if key.len() > usize::from(u16::MAX)
            || size > limits.max_object as usize
            || size as u64 > limits.max_bytes
            || limits.max_entries == 0
        {
            return PutOutcome::TooLarge;
        }
        let size = size as u32;
        let hash = hash_key(key);
        for _ in 0..MAX_ATTEMPTS {
            let now = self.now_secs();
            let (mut index, cas) = self.read_index();
            for r in &refs.pending {
                if let Some(s) = index.slots.get_mut(r.slot as usize) {
                    if s.gen == r.gen && s.flags & LIVE != 0 {
                        s.flags |= REFERENCED;
                    }
                }
            }
            let mut freed: Vec<SlotRef> = Vec::new();
            let existing = index
                .slots
                .iter()
                .position(|s| s.live(now) && s.hash == hash);
            if let Some(i) = existing {
                if mode == PutMode::IfAbsent {
                    return PutOutcome::Exists;
                }
                let gen = index.slots.get(i).map_or(0, |s| s.gen);
                index.free(i);
                freed.push(SlotRef {
                    slot: i as u32,
                    gen,
                });
            }
            // Expired objects go first, whoever holds them.
            for i in 0..index.slots.len() {
                let (flags, expires, gen) = index
                    .slots
                    .get(i)
                    .map_or((0, 0, 0), |s| (s.flags, s.expires, s.gen));
                if flags & LIVE != 0 && expires <= now && index.free(i) {
                    freed.push(SlotRef {
                        slot: i as u32,
                        gen,
                    });
                }
            }
            let mut evicted = 0;
            let n = index.slots.len();
            let mut target = None;
            // Two sweeps clear every referenced bit, so a slot is always found.
            for _ in 0..(2 * n + 1) {
                let fits = index.used + u64::from(size) <= limits.max_bytes;
                if fits {
                    if let Some(i) =
                        target.or_else(|| index.slots.iter().position(|s| s.flags & LIVE == 0))
                    {
                        target = Some(i);
                        break;
                    }
                }
                let hand = index.hand as usize % n.max(1);
                index.hand = ((hand + 1) % n.max(1)) as u32;
                let Some(s) = index.slots.get_mut(hand) else {
                    break;
                };
                if s.flags & LIVE == 0 {
                    continue;
                }
                if s.flags & REFERENCED != 0 {
                    s.flags &= !REFERENCED;
                    continue;
                }
                let gen = s.gen;
                if index.free(hand) {
                    evicted += 1;
                    freed.push(SlotRef {
                        slot: hand as u32,
                        gen,
                    });
                }
            }
            let Some(i) = target else {
                return PutOutcome::Failed;
            };
            let Some(s) = index.slots.get_mut(i) else {
                return PutOutcome::Failed;
            };
            let gen = s.gen.wrapping_add(1);
            *s = Slot {
                hash,
                gen,
                size,
                expires,
                flags: LIVE,
            };
            index.used += u64::from(size);
            match self
                .host
                .set_shared(INDEX_KEY, &index.encode(), Some(cas.unwrap_or(0)))
            {
                Ok(()) => {}
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Unavailable) => return PutOutcome::Failed,
            }
            refs.pending.clear();
            let mine = SlotRef {
                slot: i as u32,
                gen,
            };
            for f in freed.iter().filter(|f| f.slot != mine.slot) {
                self.wipe(*f);
            }
            let object = encode_object(gen, hash, expires, key, payload);
            if self
                .host
                .set_shared(&slot_key(mine.slot), &object, None)
                .is_err()
            {
                return PutOutcome::Failed;
            }
            // Evicted by another writer between the reservation and the write: give the
            // memory back now rather than when the slot is reused.
            let (after, _) = self.read_index();
            let still_mine = after
                .slots
                .get(i)
                .is_some_and(|s| s.gen == gen && s.flags & LIVE != 0);
            if !still_mine {
                self.wipe(mine);
                return PutOutcome::Failed;
            }
            self.publish(hash, mine, &after);
            return PutOutcome::Stored {
                slot: mine,
                evicted,
            };
        }
        PutOutcome::Failed
    }

    /// Adds `(hash → slot)` to its bucket, dropping records of slots no longer live.
    fn publish(&self, hash: u64, slot: SlotRef, index: &Index) {
        let key = bucket_key(hash, self.limits.max_entries);
        for _ in 0..MAX_ATTEMPTS {
            let (bytes, cas) = self.host.get_shared(&key);
            let mut records = bytes.as_deref().map(decode_bucket).unwrap_or_default();
            records.retain(|(h, s)| {
                *h != hash
                    && index
                        .slots
                        .get(s.slot as usize)
                        .is_some_and(|x| x.gen == s.gen && x.flags & LIVE != 0)
            });
            records.push((hash, slot));
            while records.len() > BUCKET_WAYS {
                records.remove(0);
            }
            match self
                .host
                .set_shared(&key, &encode_bucket(&records), Some(cas.unwrap_or(0)))
            {
                Err(SharedDataError::CasMismatch) => continue,
                _ => return,
            }
        }
    }

    /// Empties a slot's object if it still holds generation `slot.gen`.
    fn wipe(&self, slot: SlotRef) {
        let key = slot_key(slot.slot);
        let (bytes, cas) = self.host.get_shared(&key);
        let holds = bytes
            .as_deref()
            .and_then(decode_object)
            .is_some_and(|o| o.gen == slot.gen);
        if holds {
            if let Some(cas) = cas {
                let _ = self.host.set_shared(&key, &[], Some(cas));
            }
        }
    }

    /// Removes `key`; true when a live object was removed. Two small reads when absent.
    pub fn remove(&self, key: &str) -> bool {
        match self.get(key) {
            Some((slot, _)) => self.remove_if(key, slot),
            None => false,
        }
    }

    /// Removes every live object for which `matches(key, payload)` holds; returns how
    /// many. Reads every live object: for the admin purge, not for requests.
    pub fn remove_where(&self, matches: impl Fn(&[u8], &[u8]) -> bool) -> u32 {
        for _ in 0..MAX_ATTEMPTS {
            let now = self.now_secs();
            let (mut index, cas) = self.read_index();
            let mut gone = Vec::new();
            for i in 0..index.slots.len() {
                let Some(s) = index.slots.get(i).copied() else {
                    continue;
                };
                if !s.live(now) {
                    continue;
                }
                let (object, _) = self.host.get_shared(&slot_key(i as u32));
                let hit = object
                    .as_deref()
                    .and_then(decode_object)
                    .is_some_and(|o| o.gen == s.gen && matches(o.key, o.payload));
                if hit && index.free(i) {
                    gone.push(SlotRef {
                        slot: i as u32,
                        gen: s.gen,
                    });
                }
            }
            if gone.is_empty() {
                return 0;
            }
            match self
                .host
                .set_shared(INDEX_KEY, &index.encode(), Some(cas.unwrap_or(0)))
            {
                Ok(()) => {}
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Unavailable) => return 0,
            }
            for g in &gone {
                self.wipe(*g);
            }
            return gone.len() as u32;
        }
        0
    }

    /// Removes `key` only when the object under it is still `slot` (a reader's view).
    pub fn remove_if(&self, key: &str, slot: SlotRef) -> bool {
        let hash = hash_key(key);
        for _ in 0..MAX_ATTEMPTS {
            let (mut index, cas) = self.read_index();
            let same = index
                .slots
                .get(slot.slot as usize)
                .is_some_and(|s| s.gen == slot.gen && s.hash == hash && s.flags & LIVE != 0);
            if !same {
                return false;
            }
            index.free(slot.slot as usize);
            match self
                .host
                .set_shared(INDEX_KEY, &index.encode(), Some(cas.unwrap_or(0)))
            {
                Ok(()) => {
                    self.wipe(slot);
                    return true;
                }
                Err(SharedDataError::CasMismatch) => continue,
                Err(SharedDataError::Unavailable) => return false,
            }
        }
        false
    }
}
