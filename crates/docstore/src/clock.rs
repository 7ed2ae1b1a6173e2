//! Revisions and ids: a hybrid logical clock for `_rev`, and a counter for ids and
//! traditional keys. Both only increase, across restarts too: every write batch raises the
//! persisted high-water marks, and `open` starts above them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// ArangoDB's alphabet for encoding revisions.
const REV_ALPHABET: &[u8; 64] = b"-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Encodes a revision as ArangoDB does (big-endian base64 digits without leading zeros).
pub fn encode_rev(mut rev: u64) -> String {
    let mut out = [0u8; 11];
    let mut pos = out.len();
    while rev > 0 {
        pos -= 1;
        out[pos] = REV_ALPHABET[(rev & 0x3f) as usize];
        rev >>= 6;
    }
    String::from_utf8_lossy(&out[pos..]).into_owned()
}

/// Decodes a revision string; `None` if it is not one.
pub fn decode_rev(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        let d = REV_ALPHABET.iter().position(|&c| c == b)? as u64;
        v = v.checked_mul(64)?.checked_add(d)?;
    }
    Some(v)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub struct Clock {
    last_rev: AtomicU64,
    last_id: AtomicU64,
}

/// Ids below this are left for the system collections created with each database.
const FIRST_ID: u64 = 100;

impl Clock {
    pub fn new(rev_high_water: u64, id_high_water: u64) -> Clock {
        Clock { last_rev: AtomicU64::new(rev_high_water), last_id: AtomicU64::new(id_high_water.max(FIRST_ID)) }
    }

    /// A revision greater than every earlier one: milliseconds since 1970 in the high bits,
    /// a counter in the low 20.
    pub fn next_rev(&self) -> u64 {
        let physical = now_ms() << 20;
        let mut last = self.last_rev.load(Ordering::Relaxed);
        loop {
            let next = physical.max(last + 1);
            match self.last_rev.compare_exchange_weak(last, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    pub fn next_id(&self) -> u64 {
        self.last_id.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Makes sure later revisions are above `seen` (a revision restored from a dump).
    pub fn observe_rev(&self, seen: u64) {
        self.last_rev.fetch_max(seen, Ordering::AcqRel);
    }

    pub fn last_id(&self) -> u64 {
        self.last_id.load(Ordering::Acquire)
    }

    pub fn last_rev(&self) -> u64 {
        self.last_rev.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revs_round_trip_and_sort() {
        let clock = Clock::new(0, 0);
        let (a, b) = (clock.next_rev(), clock.next_rev());
        assert!(b > a);
        assert_eq!(decode_rev(&encode_rev(a)), Some(a));
        assert_eq!(encode_rev(0), "");
        assert_eq!(encode_rev(1), "_");
        assert_eq!(decode_rev("not a rev!"), None);
        assert_eq!(encode_rev(a).len(), 11);
    }

    #[test]
    fn clock_starts_above_high_water() {
        let clock = Clock::new(u64::MAX / 2, 5000);
        assert!(clock.next_rev() > u64::MAX / 2);
        assert_eq!(clock.next_id(), 5001);
    }
}
