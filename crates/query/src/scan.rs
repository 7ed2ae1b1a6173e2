//! Full collection scans. A `FOR` over a collection without an index reads each document from
//! the bytes the storage engine lends, parsing only the attributes the query reads when it
//! reads few (`reduce-extraction-to-projection`), and applies the `FILTER` right after the
//! loop there (`move-filters-into-enumerate`), before the document becomes a row.
//!
//! `parallel-scan` (Rango's own rule): a large collection's key range is cut into pieces of
//! similar size, read by several threads at once. The thread running the query reads pieces
//! too, and hands documents on strictly in key order, so results and errors come exactly as
//! a single-threaded scan gives them. Helpers read at most a few pieces ahead, and a piece
//! stops buffering at [`PIECE_BYTES_MAX`] (the rest is read by the query's thread when it gets
//! there), so the memory a scan holds is bounded whatever the collection's size.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use aql::ast::Expr;
use aql::compiled::Condition;
use aql::eval::{eval, Env};
use aql::value::truthy;
use docstore::{Collection, ScanRange, Snapshot, Store};
use errors::{err, ErrorCode, Result};
use serde_json::{Map, Value};

use crate::{approx_bytes, DbAccess};

/// Pieces a scan is cut into for each thread: enough that a thread finishing early finds
/// more to do.
const PIECES_PER_THREAD: usize = 8;

/// How much a helper buffers for one piece before leaving the rest of it to the query's
/// thread.
const PIECE_BYTES_MAX: usize = if cfg!(test) { 16 << 10 } else { 4 << 20 };

/// Documents read between checks of the kill flag, `maxRuntime` and the stop signal.
const CHECK_EVERY: u32 = 1024;


/// What one scan reads and how it filters.
pub(crate) struct Scan<'s> {
    pub store: &'s Store,
    /// What every range is read as of: the pieces together read one state of the collection,
    /// as one iterator would.
    pub snapshot: &'s Snapshot<'s>,
    pub col: &'s Collection,
    /// The collection's name, for `_id`.
    pub name: &'s str,
    /// The attributes the loop reads, when it reads only some.
    pub attrs: Option<&'s [String]>,
    /// The attributes serve the filter only: a document that passes is read whole.
    pub whole_on_pass: bool,
    /// The FILTER after the loop, when it is evaluated during the scan: it runs no subquery.
    pub filter: Option<&'s Expr>,
    /// The filter compiled, when it has a shape that compiles.
    pub compiled: Option<Condition>,
    pub var: &'s str,
    /// The row the loop runs in.
    pub row: &'s [(String, Value)],
    pub binds: &'s Map<String, Value>,
    pub access: DbAccess<'s>,
    /// When `maxRuntime` ends the query.
    pub deadline: Option<Instant>,
    /// `sort-limit` within the scan, see [`Top`].
    pub top: Option<Top<'s>>,
}

/// `sort-limit` within a scan: the loop's rows go straight to a SORT on attributes of its
/// documents followed by a constant LIMIT, so each range keeps only the `keep` rows that come
/// first in the SORT's order, and hands them on in that order when it is done. The SORT then
/// orders what is left; rows with equal keys still arrive in key order, so the result is the
/// same as without this.
pub(crate) struct Top<'s> {
    pub keys: &'s [(Expr, bool)],
    pub keep: usize,
    /// Bytes a range may hold for it (the query's memoryLimit shared among the ranges that
    /// can be held at once).
    pub bytes_max: usize,
}

/// The rows a range keeps for [`Top`]: a buffer trimmed to the best `keep` when it is twice
/// that long; after the first trim, a document that cannot beat the worst kept one is
/// dropped after one comparison, without being copied.
struct Kept<'t> {
    top: &'t Top<'t>,
    rows: Vec<(Vec<Value>, u64, String, Value)>,
    arrived: u64,
    worst: Option<Vec<Value>>,
    /// Approximate bytes the rows hold.
    bytes: usize,
}

impl<'t> Kept<'t> {
    fn order(&self, a: &(Vec<Value>, u64, String, Value), b: &(Vec<Value>, u64, String, Value)) -> std::cmp::Ordering {
        crate::sort_order(self.top.keys, &a.0, &b.0).then(a.1.cmp(&b.1))
    }

    fn offer(&mut self, keys: Vec<Value>, key: &str, doc: Cow<Value>) -> Result<()> {
        self.arrived += 1;
        if self.top.keep == 0 || self.worst.as_ref().is_some_and(|w| crate::sort_order(self.top.keys, &keys, w).is_ge()) {
            return Ok(());
        }
        let doc = doc.into_owned();
        self.bytes += approx_bytes(&doc) + keys.iter().map(approx_bytes).sum::<usize>() + key.len();
        self.rows.push((keys, self.arrived, key.to_string(), doc));
        if self.rows.len() >= self.top.keep.max(64) * 2 {
            self.trim();
        }
        if self.bytes > self.top.bytes_max {
            return Err(err!(errors::ERROR_RESOURCE_LIMIT, "query would use more than its memoryLimit to sort"));
        }
        Ok(())
    }

    fn trim(&mut self) {
        let keep = self.top.keep;
        if self.rows.len() > keep {
            let mut rows = std::mem::take(&mut self.rows);
            rows.select_nth_unstable_by(keep - 1, |a, b| self.order(a, b));
            rows.truncate(keep);
            self.worst = rows.iter().max_by(|a, b| self.order(a, b)).map(|r| r.0.clone());
            self.bytes = rows.iter().map(|(k, _, key, d)| approx_bytes(d) + k.iter().map(approx_bytes).sum::<usize>() + key.len()).sum();
            self.rows = rows;
        }
    }

    fn finish(mut self) -> Vec<(String, Value)> {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_unstable_by(|a, b| self.order(a, b));
        rows.truncate(self.top.keep);
        rows.into_iter().map(|(_, _, key, doc)| (key, doc)).collect()
    }
}

/// What a scan did, beyond the documents it handed on.
#[derive(Default)]
pub(crate) struct Counts {
    pub scanned: u64,
    pub filtered: u64,
    pub warnings: Vec<(ErrorCode, String)>,
}

impl Counts {
    fn add(&mut self, mut other: Counts) {
        self.scanned += other.scanned;
        self.filtered += other.filtered;
        self.warnings.append(&mut other.warnings);
    }
}

/// Where a receiver of documents hands each on, with what the scan has counted so far.
type Sink<'f> = &'f mut dyn FnMut(&str, Cow<Value>, &mut Counts) -> Result<bool>;

/// A piece read ahead by a helper: its passing documents, and what is left when it filled up.
struct Piece {
    docs: Vec<Value>,
    /// For each document, what had been counted when it passed: a scan stopped at that
    /// document counts only that much, as a single thread would have.
    marks: Vec<Mark>,
    counts: Counts,
    error: Option<errors::ArangoError>,
    rest: Option<ScanRange>,
}

struct Mark {
    scanned: u64,
    filtered: u64,
    warnings: usize,
}

/// Which pieces are taken and done.
struct Queue {
    /// The first piece nobody has taken.
    next: usize,
    /// The first piece not yet handed on.
    cursor: usize,
    done: Vec<Option<Piece>>,
    stop: bool,
}

impl Scan<'_> {
    /// Reads the collection with up to `threads` threads, handing each document that passes
    /// the filter to `f`, in key order, until `f` returns false (then so does this). `f` also
    /// gets the counts, whose warnings are those raised since its last call, in order: taking
    /// them keeps warnings in the order one thread would raise them.
    pub fn run(&self, threads: usize, counts: &mut Counts, mut f: impl FnMut(Cow<Value>, &mut Counts) -> Result<bool>) -> Result<bool> {
        let stop = AtomicBool::new(false);
        let ranges = if threads > 1 { self.store.scan_ranges(self.col, threads * PIECES_PER_THREAD)? } else { Vec::new() };
        if ranges.len() < 2 {
            return self.range(&ScanRange::whole(), counts, &stop, f);
        }
        let queue = Mutex::new(Queue { next: 0, cursor: 0, done: ranges.iter().map(|_| None).collect(), stop: false });
        let changed = Condvar::new();
        let window = threads * 2;
        std::thread::scope(|s| {
            for _ in 1..threads {
                // Without a helper the query's thread reads every piece itself.
                let _ = std::thread::Builder::new()
                    .name("rango-scan".into())
                    .stack_size(crate::STACK_BYTES)
                    .spawn_scoped(s, || self.help(&ranges, &queue, &changed, &stop, window));
            }
            // Helpers stop when the query's thread is done, also when it unwinds from a panic:
            // otherwise they would wait for it forever, and so would this scope.
            let _stop = StopHelpers { stop: &stop, queue: &queue, changed: &changed };
            self.consume(&ranges, &queue, &changed, &stop, window, counts, &mut f)
        })
    }

    /// The query's thread: hands pieces on in order, reading the next one itself when no
    /// helper has taken it, and reading ahead while waiting for a helper.
    #[allow(clippy::too_many_arguments)]
    fn consume(
        &self,
        ranges: &[ScanRange],
        queue: &Mutex<Queue>,
        changed: &Condvar,
        stop: &AtomicBool,
        window: usize,
        counts: &mut Counts,
        f: &mut impl FnMut(Cow<Value>, &mut Counts) -> Result<bool>,
    ) -> Result<bool> {
        loop {
            let mut q = lock(queue);
            let at = q.cursor;
            if at == ranges.len() {
                return Ok(true);
            }
            if let Some(piece) = q.done[at].take() {
                q.cursor += 1;
                drop(q);
                changed.notify_all();
                let Piece { docs, marks, counts: read, error, rest } = piece;
                let mut warnings = read.warnings.into_iter();
                let mut handed = 0;
                // What passed before an error goes on first: a LIMIT may be met before it.
                for (doc, mark) in docs.into_iter().zip(marks) {
                    // The warnings raised up to this document come before it.
                    counts.warnings.extend(warnings.by_ref().take(mark.warnings - handed));
                    handed = mark.warnings;
                    if !f(Cow::Owned(doc), counts)? {
                        counts.scanned += mark.scanned;
                        counts.filtered += mark.filtered;
                        return Ok(false);
                    }
                }
                counts.add(Counts { scanned: read.scanned, filtered: read.filtered, warnings: warnings.collect() });
                if let Some(e) = error {
                    return Err(e);
                }
                if let Some(rest) = rest {
                    if !self.range(&rest, counts, stop, &mut *f)? {
                        return Ok(false);
                    }
                }
            } else if q.next == at {
                // Nobody has taken it: read it here, handing documents straight on.
                q.next += 1;
                drop(q);
                if !self.range(&ranges[at], counts, stop, &mut *f)? {
                    return Ok(false);
                }
                lock(queue).cursor += 1;
                changed.notify_all();
            } else if q.next < ranges.len() && q.next < at + window {
                // A helper is reading the next piece: read a later one meanwhile.
                let ahead = q.next;
                q.next += 1;
                drop(q);
                let piece = self.piece(&ranges[ahead], stop);
                lock(queue).done[ahead] = Some(piece);
            } else {
                drop(changed.wait(q));
            }
        }
    }

    /// A helper thread: reads pieces ahead of the query's thread until none are left or the
    /// scan stops.
    fn help(&self, ranges: &[ScanRange], queue: &Mutex<Queue>, changed: &Condvar, stop: &AtomicBool, window: usize) {
        loop {
            let mine = {
                let mut q = lock(queue);
                loop {
                    if q.stop || q.next >= ranges.len() {
                        return;
                    }
                    if q.next < q.cursor + window {
                        break;
                    }
                    q = changed.wait(q).unwrap_or_else(|e| e.into_inner());
                }
                q.next += 1;
                q.next - 1
            };
            // A panic must not leave the query's thread waiting for this piece forever.
            let piece = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.piece(&ranges[mine], stop))).unwrap_or_else(|_| Piece {
                docs: Vec::new(),
                marks: Vec::new(),
                counts: Counts::default(),
                error: Some(err!(errors::ERROR_INTERNAL, "a scan thread failed")),
                rest: None,
            });
            lock(queue).done[mine] = Some(piece);
            changed.notify_all();
        }
    }

    /// Reads a piece into memory, up to [`PIECE_BYTES_MAX`].
    fn piece(&self, range: &ScanRange, stop: &AtomicBool) -> Piece {
        let mut piece = Piece { docs: Vec::new(), marks: Vec::new(), counts: Counts::default(), error: None, rest: None };
        let mut bytes = 0;
        let mut last_key = None;
        let read = self.range_keyed(range, &mut piece.counts, stop, &mut |key, doc, counts| {
            let doc = doc.into_owned();
            piece.marks.push(Mark { scanned: counts.scanned, filtered: counts.filtered, warnings: counts.warnings.len() });
            bytes += approx_bytes(&doc);
            piece.docs.push(doc);
            // A range keeping its first rows for a SORT hands them on out of key order, and
            // only a few.
            if bytes > PIECE_BYTES_MAX && self.top.is_none() {
                last_key = Some(key.to_string());
                return Ok(false);
            }
            Ok(true)
        });
        match read {
            Err(e) => piece.error = Some(e),
            Ok(_) => piece.rest = last_key.map(|k| range.rest_after(self.col, &k)),
        }
        piece
    }

    /// Reads `range`, handing each document that passes the filter to `f` until it returns
    /// false (then so does this).
    fn range(&self, range: &ScanRange, counts: &mut Counts, stop: &AtomicBool, mut f: impl FnMut(Cow<Value>, &mut Counts) -> Result<bool>) -> Result<bool> {
        self.range_keyed(range, counts, stop, &mut |_, doc, c| f(doc, c))
    }

    fn range_keyed(
        &self,
        range: &ScanRange,
        counts: &mut Counts,
        stop: &AtomicBool,
        f: Sink,
    ) -> Result<bool> {
        let Some(top) = &self.top else { return self.read(range, counts, stop, f) };
        let mut kept = Kept { top, rows: Vec::new(), arrived: 0, worst: None, bytes: 0 };
        let read = self.read(range, counts, stop, &mut |key, doc, _| {
            let mut env = self.env(&doc);
            let keys = top.keys.iter().map(|(e, _)| eval(e, &mut env)).collect::<Result<Vec<Value>>>()?;
            kept.offer(keys, key, doc)?;
            Ok(true)
        })?;
        if !read {
            return Ok(false);
        }
        for (key, doc) in kept.finish() {
            if !f(&key, Cow::Owned(doc), counts)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The environment the loop's document `doc` is evaluated in.
    fn env<'e>(&'e self, doc: &'e Value) -> Env<'e> {
        let mut env = Env::new(self.binds);
        env.vars = self.row;
        env.pending = Some((self.var, doc));
        env.db = Some(&self.access);
        env.kill = self.access.opts.kill.as_deref();
        env
    }

    /// Reads `range`: each document that passes the filter goes to `f`, until it returns false.
    fn read(&self, range: &ScanRange, counts: &mut Counts, stop: &AtomicBool, f: Sink) -> Result<bool> {
        // A projection is read into one object reused for every document, copied only when
        // the document passes.
        let mut scratch = self.attrs.map(docstore::projection_template);
        let mut outcome = Ok(true);
        let mut until_check = CHECK_EVERY;
        self.store.scan_raw_range(self.col, range, Some(self.snapshot), |key, raw| {
            counts.scanned += 1;
            until_check -= 1;
            if until_check == 0 {
                until_check = CHECK_EVERY;
                outcome = self.check(stop);
                if !matches!(outcome, Ok(true)) {
                    return false;
                }
            }
            let doc = match (self.attrs, &mut scratch) {
                (Some(attrs), Some(scratch)) => raw.project_into(self.name, key, attrs, scratch).map(|()| Cow::Borrowed(&*scratch)),
                _ => raw.to_value(self.name, key).map(Cow::Owned),
            };
            outcome = doc.and_then(|doc| match self.filter {
                Some(cond) if !self.passes(cond, &doc, &mut counts.warnings)? => {
                    counts.filtered += 1;
                    Ok(true)
                }
                _ if self.whole_on_pass => f(key, Cow::Owned(raw.to_value(self.name, key)?), counts),
                _ => f(key, doc, counts),
            });
            matches!(outcome, Ok(true))
        })?;
        outcome
    }

    /// Whether `doc` passes the filter; warnings are collected.
    fn passes(&self, cond: &Expr, doc: &Value, warnings: &mut Vec<(ErrorCode, String)>) -> Result<bool> {
        if let Some(passed) = self.compiled.as_ref().and_then(|c| c.test(doc)) {
            return Ok(passed);
        }
        let mut env = self.env(doc);
        let kept = eval(cond, &mut env);
        warnings.append(&mut env.warnings);
        Ok(truthy(&kept?))
    }

    /// False when the scan should stop quietly; an error when the query was killed or ran
    /// out of time.
    fn check(&self, stop: &AtomicBool) -> Result<bool> {
        if self.access.opts.kill.as_ref().is_some_and(|k| k.load(Ordering::Relaxed)) {
            return Err(err!(errors::ERROR_QUERY_KILLED, "query killed"));
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            let max = self.access.opts.max_runtime.map_or(0.0, |d| d.as_secs_f64());
            return Err(err!(errors::ERROR_QUERY_KILLED, "query killed: it ran longer than maxRuntime ({max} s)"));
        }
        Ok(!stop.load(Ordering::Relaxed))
    }
}

/// Tells the helpers to stop when dropped.
struct StopHelpers<'q> {
    stop: &'q AtomicBool,
    queue: &'q Mutex<Queue>,
    changed: &'q Condvar,
}

impl Drop for StopHelpers<'_> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        lock(self.queue).stop = true;
        self.changed.notify_all();
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|e| e.into_inner())
}
