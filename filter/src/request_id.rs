//! Request ids for requests that arrive without one (Envoy's HTTP connection manager
//! usually generates one first; other hosts may not).
//!
//! Ids only need to be unique, not unguessable: a per-VM counter mixed with the clock and
//! a per-VM seed through splitmix64, printed as a UUID (version 4 layout).

/// Generates ids for one VM.
#[derive(Debug)]
pub struct RequestIds {
    seed: u64,
    counter: u64,
}

impl RequestIds {
    /// `seed` should differ between VMs (the clock at VM start does).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed: splitmix64(seed),
            counter: 0,
        }
    }

    /// A fresh id.
    pub fn next(&mut self, now_nanos: u64) -> String {
        self.counter = self.counter.wrapping_add(1);
        let hi = splitmix64(self.seed ^ now_nanos);
        let lo = splitmix64(self.seed.rotate_left(32) ^ self.counter);
        format_uuid(hi, lo)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn format_uuid(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let mut ids = RequestIds::new(42);
        let a = ids.next(1);
        let b = ids.next(1);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn vms_with_other_seeds_do_not_collide() {
        let mut one = RequestIds::new(1);
        let mut two = RequestIds::new(2);
        let a: Vec<_> = (0..1000).map(|_| one.next(7)).collect();
        assert!((0..1000).all(|_| !a.contains(&two.next(7))));
    }
}
