//! A linearizability checker for histories of one register with reads, writes and
//! compare-and-set, after Wing & Gong and Lowe: search for an order of the operations that
//! respects real time and the register's semantics, remembering visited states.
//!
//! An operation whose outcome the client never learned (a timeout, a dropped connection)
//! may or may not have taken effect, at any time after it was called: the checker may place
//! it anywhere after its call, or leave it out.

use std::collections::HashSet;

/// What a client did to the register.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Read(Option<u64>),
    Write(u64),
    /// Compare-and-set from `old` to `new`; `ok` says whether it took effect.
    Cas { old: Option<u64>, new: u64, ok: bool },
}

#[derive(Clone, Debug)]
pub struct Event {
    /// When the call was made and when its answer came (any monotonic unit).
    pub call: u64,
    /// `None` if the answer never came (the outcome is unknown).
    pub ret: Option<u64>,
    pub op: Op,
}

/// Largest history checked (the search is exponential in the worst case).
pub const HISTORY_EVENTS_MAX: usize = 4096;

/// Whether the history is linearizable for a register starting empty. Reads with an
/// unknown outcome carry no information and are ignored.
pub fn check(history: &[Event]) -> Result<bool, String> {
    let events: Vec<&Event> = history.iter().filter(|e| !(e.ret.is_none() && matches!(e.op, Op::Read(_)))).collect();
    if events.len() > HISTORY_EVENTS_MAX {
        return Err(format!("history of {} events is larger than {HISTORY_EVENTS_MAX}", events.len()));
    }
    let words = events.len().div_ceil(64).max(1);
    let mut done = vec![0u64; words];
    let mut seen: HashSet<(Vec<u64>, Option<u64>)> = HashSet::new();
    // Depth-first search with an explicit stack of (chosen event, state before it).
    let mut stack: Vec<(usize, Option<u64>)> = Vec::new();
    let mut state: Option<u64> = None;
    let mut next_candidate = 0usize;
    loop {
        let required_left = events.iter().enumerate().any(|(i, e)| e.ret.is_some() && done[i / 64] & (1 << (i % 64)) == 0);
        if !required_left {
            return Ok(true);
        }
        // An event may go next only if it was called before every pending answered event returned.
        let horizon = events
            .iter()
            .enumerate()
            .filter(|(i, _)| done[i / 64] & (1 << (i % 64)) == 0)
            .filter_map(|(_, e)| e.ret)
            .min()
            .unwrap_or(u64::MAX);
        let mut advanced = false;
        let mut i = next_candidate;
        while i < events.len() {
            let e = events[i];
            if done[i / 64] & (1 << (i % 64)) == 0 && e.call <= horizon {
                if let Some(after) = apply(state, &e.op) {
                    done[i / 64] |= 1 << (i % 64);
                    if seen.insert((done.clone(), after)) {
                        stack.push((i, state));
                        state = after;
                        next_candidate = 0;
                        advanced = true;
                        break;
                    }
                    done[i / 64] &= !(1 << (i % 64));
                }
            }
            i += 1;
        }
        if advanced {
            continue;
        }
        // Backtrack: undo the last choice and try the next candidate after it.
        let Some((last, before)) = stack.pop() else { return Ok(false) };
        done[last / 64] &= !(1 << (last % 64));
        state = before;
        next_candidate = last + 1;
    }
}

/// The register after `op`, if `op` could have happened in `state`.
fn apply(state: Option<u64>, op: &Op) -> Option<Option<u64>> {
    match op {
        Op::Read(v) => (*v == state).then_some(state),
        Op::Write(v) => Some(Some(*v)),
        Op::Cas { old, new, ok: true } => (*old == state).then_some(Some(*new)),
        Op::Cas { old, ok: false, .. } => (*old != state).then_some(state),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(call: u64, ret: Option<u64>, op: Op) -> Event {
        Event { call, ret, op }
    }

    #[test]
    fn sequential_and_concurrent_histories() {
        let h = [ev(0, Some(1), Op::Write(1)), ev(2, Some(3), Op::Read(Some(1)))];
        assert!(check(&h).unwrap());
        // A read after a completed write must see it.
        let stale = [ev(0, Some(1), Op::Write(1)), ev(2, Some(3), Op::Read(None))];
        assert!(!check(&stale).unwrap());
        // Overlapping write and read: either value is fine.
        let overlap = [ev(0, Some(5), Op::Write(1)), ev(1, Some(2), Op::Read(None))];
        assert!(check(&overlap).unwrap());
        // Two reads that see the writes in opposite orders cannot both be right.
        let h = [
            ev(0, Some(10), Op::Write(1)),
            ev(0, Some(10), Op::Write(2)),
            ev(11, Some(12), Op::Read(Some(1))),
            ev(13, Some(14), Op::Read(Some(2))),
        ];
        assert!(!check(&h).unwrap());
    }

    #[test]
    fn compare_and_set() {
        let h = [
            ev(0, Some(1), Op::Write(1)),
            ev(2, Some(3), Op::Cas { old: Some(1), new: 2, ok: true }),
            ev(4, Some(5), Op::Cas { old: Some(1), new: 3, ok: false }),
            ev(6, Some(7), Op::Read(Some(2))),
        ];
        assert!(check(&h).unwrap());
        let lost = [ev(0, Some(1), Op::Write(1)), ev(2, Some(3), Op::Cas { old: Some(1), new: 2, ok: false })];
        assert!(!check(&lost).unwrap(), "a CAS that should have succeeded failed");
    }

    #[test]
    fn unknown_outcomes_may_or_may_not_apply() {
        let h = [ev(0, None, Op::Write(7)), ev(5, Some(6), Op::Read(Some(7)))];
        assert!(check(&h).unwrap(), "the timed-out write took effect");
        let h = [ev(0, None, Op::Write(7)), ev(5, Some(6), Op::Read(None))];
        assert!(check(&h).unwrap(), "the timed-out write did not take effect");
        let h = [ev(10, None, Op::Write(7)), ev(0, Some(5), Op::Read(Some(7)))];
        assert!(!check(&h).unwrap(), "a read cannot see a write called after it returned");
    }
}
