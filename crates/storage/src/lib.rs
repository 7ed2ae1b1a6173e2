//! The ordered key-value engine under Rango's document layer.
//!
//! **Architecture Invariant:** this is the only crate that links RocksDB. Layers above see
//! [`Engine`], [`Batch`] and [`Space`]: ordered byte keys in a few named key spaces, atomic
//! batches that may be synced, point reads, prefix scans and range deletes. Everything the
//! document layer needs, nothing RocksDB-specific.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, Options,
    ReadOptions, WriteOptions, DB,
};

/// The key spaces Rango keeps apart (RocksDB column families).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// Databases, collections, shards, counters, generator high-water marks.
    Meta,
    /// Documents: `shard id (8 bytes, big-endian) ++ _key` → document bytes.
    Documents,
    /// Index entries (edge index and later secondary indexes).
    Indexes,
}

impl Space {
    const ALL: [Space; 3] = [Space::Meta, Space::Documents, Space::Indexes];

    fn cf_name(self) -> &'static str {
        match self {
            Space::Meta => "meta",
            Space::Documents => "documents",
            Space::Indexes => "indexes",
        }
    }
}

/// Failures of the engine. They carry RocksDB's own text, which names the file or the cause.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage engine I/O error: {0}")]
    Io(String),
    #[error("database directory {path} is locked by another process; stop it or choose another --database.directory")]
    Locked { path: String },
}

impl From<rocksdb::Error> for StorageError {
    fn from(e: rocksdb::Error) -> Self {
        StorageError::Io(e.into_string())
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// A state of the engine that reads can share ([`Engine::snapshot`]).
pub struct Snapshot<'e>(rocksdb::SnapshotWithThreadMode<'e, DB>);

/// An open engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Engine {
    db: DB,
}

/// Block cache shared by all key spaces.
const BLOCK_CACHE_BYTES: usize = 128 << 20;
/// Size of a data block in the engine's files.
const BLOCK_BYTES: usize = 16 << 10;
/// Memtable size per key space before a flush.
const WRITE_BUFFER_BYTES: usize = 32 << 20;

impl Engine {
    /// Opens (creating if needed) the engine in `dir`.
    pub fn open(dir: &Path) -> Result<Engine> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        opts.set_bytes_per_sync(1 << 20);
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = Space::ALL.iter().map(|space| {
            let mut cf_opts = Options::default();
            let mut block = BlockBasedOptions::default();
            block.set_block_cache(&cache);
            block.set_bloom_filter(10.0, false);
            // Larger blocks than RocksDB's 4 KiB: a full scan looks up a quarter as many in the
            // cache, and point reads barely notice.
            block.set_block_size(BLOCK_BYTES);
            cf_opts.set_block_based_table_factory(&block);
            cf_opts.set_write_buffer_size(WRITE_BUFFER_BYTES);
            // Newly flushed files are merged into the sorted level once there are two of them:
            // fewer files for every read to look into.
            cf_opts.set_level_zero_file_num_compaction_trigger(2);
            cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
            cf_opts.set_merge_operator("rango-counter", merge_counter_full, merge_counter_partial);
            ColumnFamilyDescriptor::new(space.cf_name(), cf_opts)
        });
        let db = DB::open_cf_descriptors(&opts, dir, cfs).map_err(|e| {
            let text = e.into_string();
            // RocksDB's message for a held LOCK file ("…/LOCK: Resource temporarily unavailable").
            if text.contains("/LOCK:") || text.contains("lock hold by current process") {
                StorageError::Locked { path: dir.display().to_string() }
            } else {
                StorageError::Io(text)
            }
        })?;
        Ok(Engine { db })
    }

    fn cf(&self, space: Space) -> &rocksdb::ColumnFamily {
        // The column families are created in `open`, so they exist for the DB's lifetime.
        self.db.cf_handle(space.cf_name()).expect("column family created at open")
    }

    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_at(space, key, None)
    }

    /// [`Self::get`] as of `snapshot`.
    pub fn get_at(&self, space: Space, key: &[u8], snapshot: Option<&Snapshot>) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf_opt(self.cf(space), key, &read_options(snapshot))?)
    }

    /// Reads many keys of one space at once, in the order given.
    pub fn multi_get(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        self.multi_get_at(space, keys, None)
    }

    /// [`Self::multi_get`] as of `snapshot`.
    pub fn multi_get_at(&self, space: Space, keys: &[Vec<u8>], snapshot: Option<&Snapshot>) -> Result<Vec<Option<Vec<u8>>>> {
        let cf = self.cf(space);
        self.db
            .multi_get_cf_opt(keys.iter().map(|k| (cf, k.as_slice())), &read_options(snapshot))
            .into_iter()
            .map(|r| r.map_err(StorageError::from))
            .collect()
    }

    /// Applies `batch` atomically. With `sync`, returns only after the WAL is on disk, so the
    /// batch survives `kill -9` and power loss.
    pub fn write(&self, batch: Batch, sync: bool) -> Result<()> {
        let mut wb = rocksdb::WriteBatch::default();
        for op in batch.ops {
            match op {
                Op::Put(space, k, v) => wb.put_cf(self.cf(space), k, v),
                Op::Delete(space, k) => wb.delete_cf(self.cf(space), k),
                Op::DeleteRange(space, from, to) => wb.delete_range_cf(self.cf(space), from, to),
                Op::Merge(space, k, operand) => wb.merge_cf(self.cf(space), k, operand),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(wb, &wo)?;
        Ok(())
    }

    /// Calls `f` with each key and value starting with `prefix`, in key order, from `start`
    /// (inclusive; it must start with `prefix`) or from the prefix itself. Stops when `f`
    /// returns false.
    pub fn scan_prefix(&self, space: Space, prefix: &[u8], start: Option<&[u8]>, f: impl FnMut(&[u8], &[u8]) -> bool) -> Result<()> {
        self.scan_range(space, prefix, start, None, None, f)
    }

    /// Makes every write so far durable: the write-ahead log is synced to disk.
    pub fn sync_wal(&self) -> Result<()> {
        Ok(self.db.flush_wal(true)?)
    }

    /// The engine's state as of now, for reads that must all see the same state.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot(self.db.snapshot())
    }

    /// [`Self::scan_prefix`] that also stops before `end`, and reads as of `snapshot`.
    pub fn scan_range(
        &self,
        space: Space,
        prefix: &[u8],
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        snapshot: Option<&Snapshot>,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        // RocksDB's per-thread performance counters cost a little on every step of a scan,
        // and nothing reads them.
        rocksdb::perf::set_perf_stats(rocksdb::perf::PerfStatsLevel::Disable);
        let ro = range_read_options(prefix, end, snapshot);
        // The raw iterator lends each key and value instead of copying them.
        let mut iter = self.db.raw_iterator_cf_opt(self.cf(space), ro);
        iter.seek(start.unwrap_or(prefix));
        while let (Some(k), Some(v)) = (iter.key(), iter.value()) {
            if !k.starts_with(prefix) || !f(k, v) {
                break;
            }
            iter.next();
        }
        Ok(iter.status()?)
    }

    /// Flushes memtables and compacts the given key range, as `compact` asks.
    pub fn compact_range(&self, space: Space, from: &[u8], to: &[u8]) {
        self.db.compact_range_cf(self.cf(space), Some(from), Some(to));
    }

    /// Keys that cut the keys starting with `prefix` into ranges of similar size, about
    /// `parts` of them, in increasing order (fewer when there is little to cut). Sizes come
    /// from the engine's file index, where data not yet flushed counts for nothing, so the
    /// cuts spaced by size are joined by as many spaced evenly between the first and the last
    /// key: data still in memory is cut too.
    pub fn split_points(&self, space: Space, prefix: &[u8], parts: usize) -> Result<Vec<Vec<u8>>> {
        let cf = self.cf(space);
        let mut iter = self.db.raw_iterator_cf_opt(cf, range_read_options(prefix, None, None));
        iter.seek(prefix);
        let Some(first) = iter.key().map(<[u8]>::to_vec) else { return Ok(Vec::new()) };
        iter.seek_to_last();
        let Some(last) = iter.key().map(<[u8]>::to_vec) else { return Ok(Vec::new()) };
        iter.status()?;
        // Keys between `first` and `last` share their common start; the next eight bytes,
        // read as a number, place a key between the two.
        let common = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
        let number = |key: &[u8]| {
            let mut b = [0u8; 8];
            for (slot, byte) in b.iter_mut().zip(key.iter().skip(common)) {
                *slot = *byte;
            }
            u64::from_be_bytes(b)
        };
        let (low, high) = (number(&first), number(&last));
        if parts < 2 || high <= low {
            return Ok(Vec::new());
        }
        let key_at = |n: u64| [&first[..common], &n.to_be_bytes()].concat();
        let size_below = |ns: &[u64]| -> Vec<u64> {
            let keys: Vec<Vec<u8>> = ns.iter().map(|&n| key_at(n)).collect();
            let ranges: Vec<rocksdb::Range> = keys.iter().map(|k| rocksdb::Range::new(prefix, k)).collect();
            self.db.get_approximate_sizes_cf(cf, &ranges)
        };
        let total = size_below(&[high]).first().copied().unwrap_or(0);
        // The `j`th of `parts` equal shares of `n`.
        let share = |n: u64, j: u64| (n as u128 * j as u128 / parts as u128) as u64;
        let mut cuts: Vec<u64> = (1..parts as u64).map(|j| low + share(high - low, j)).collect();
        if total > 0 {
            let even = cuts.clone();
            // Bisect every cut at once: each step asks for all of their sizes in one call.
            let wanted: Vec<u64> = (1..parts as u64).map(|j| share(total, j)).collect();
            let mut bounds: Vec<(u64, u64)> = vec![(low, high); cuts.len()];
            for _ in 0..40 {
                let mids: Vec<u64> = bounds.iter().map(|&(a, b)| a + (b - a) / 2).collect();
                let sizes = size_below(&mids);
                let mut moved = false;
                for ((bound, mid), (size, want)) in bounds.iter_mut().zip(&mids).zip(sizes.iter().zip(&wanted)) {
                    if bound.1 - bound.0 <= 1 {
                        continue;
                    }
                    moved = true;
                    if size < want {
                        bound.0 = *mid;
                    } else {
                        bound.1 = *mid;
                    }
                }
                if !moved {
                    break;
                }
            }
            cuts = bounds.iter().map(|b| b.1).chain(even).collect();
            cuts.sort_unstable();
        }
        cuts.dedup();
        Ok(cuts.into_iter().filter(|&n| n > low && n <= high).map(key_at).collect())
    }

    /// Approximate bytes on disk and in memtables for a key range.
    pub fn approximate_size(&self, space: Space, from: &[u8], to: &[u8]) -> u64 {
        let range = rocksdb::Range::new(from, to);
        self.db
            .get_approximate_sizes_cf(self.cf(space), &[range])
            .first()
            .copied()
            .unwrap_or(0)
    }

    /// Flushes every key space's memtable to disk files.
    pub fn flush(&self) -> Result<()> {
        for space in Space::ALL {
            self.db.flush_cf(self.cf(space))?;
        }
        Ok(())
    }
}

/// Read options for keys starting with `prefix`, below `end` too when given, as of `snapshot`.
fn range_read_options(prefix: &[u8], end: Option<&[u8]>, snapshot: Option<&Snapshot>) -> ReadOptions {
    let mut ro = read_options(snapshot);
    let upper = match (end, prefix_successor(prefix)) {
        (Some(end), Some(after)) => Some(end.min(&after).to_vec()),
        (Some(end), None) => Some(end.to_vec()),
        (None, after) => after,
    };
    if let Some(upper) = upper {
        ro.set_iterate_upper_bound(upper);
    }
    ro
}

/// Read options that read as of `snapshot`, or the latest state without one.
fn read_options(snapshot: Option<&Snapshot>) -> ReadOptions {
    let mut ro = ReadOptions::default();
    if let Some(s) = snapshot {
        ro.set_snapshot(&s.0);
    }
    ro
}

/// The smallest key greater than every key starting with `prefix`, if there is one.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Reads a counter written by [`Batch::add`] or [`Batch::raise`] (or put as 8 bytes).
pub fn counter_value(bytes: &[u8]) -> u64 {
    bytes.get(..8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes)
}

const MERGE_ADD: u8 = b'+';
const MERGE_MAX: u8 = b'^';

/// RocksDB merge operator for counters: the value is a little-endian u64; an operand is a tag
/// byte and 8 bytes, adding (two's complement, so deltas may be negative) or raising to a
/// maximum. Counters therefore change atomically with the batch that changes the data they
/// count, without a read-modify-write under a lock.
///
/// The full merge folds operands into the base value (0 if none). The partial merge, which
/// RocksDB runs on flushes and compactions when the base is out of reach, must return an
/// *operand*: it combines operands of one kind into one tagged operand, and declines (so
/// RocksDB keeps them apart) when kinds are mixed.
fn merge_counter_full(_key: &[u8], existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    let mut value = existing.map_or(0, counter_value);
    for op in operands {
        value = apply_operand(value, op)?;
    }
    Some(value.to_le_bytes().to_vec())
}

fn merge_counter_partial(_key: &[u8], _existing: Option<&[u8]>, operands: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    let mut kind = None;
    let mut value = 0u64;
    for op in operands {
        let (&tag, _) = op.split_first()?;
        match kind {
            None => {
                kind = Some(tag);
                value = 0;
            }
            Some(k) if k != tag => return None,
            Some(_) => {}
        }
        value = apply_operand(value, op)?;
    }
    let mut out = vec![kind?];
    out.extend_from_slice(&value.to_le_bytes());
    Some(out)
}

/// Applies one tagged operand; `None` (a merge failure RocksDB reports) for a malformed one.
fn apply_operand(value: u64, op: &[u8]) -> Option<u64> {
    let (&tag, rest) = op.split_first()?;
    let arg = u64::from_le_bytes(rest.try_into().ok()?);
    match tag {
        MERGE_ADD => Some(value.wrapping_add(arg)),
        MERGE_MAX => Some(value.max(arg)),
        _ => None,
    }
}

enum Op {
    Merge(Space, Vec<u8>, Vec<u8>),
    Put(Space, Vec<u8>, Vec<u8>),
    Delete(Space, Vec<u8>),
    DeleteRange(Space, Vec<u8>, Vec<u8>),
}

/// A set of writes applied atomically by [`Engine::write`].
#[derive(Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    pub fn put(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(Op::Put(space, key, value));
    }
    pub fn delete(&mut self, space: Space, key: Vec<u8>) {
        self.ops.push(Op::Delete(space, key));
    }
    /// Deletes every key in `[from, to)`.
    pub fn delete_range(&mut self, space: Space, from: Vec<u8>, to: Vec<u8>) {
        self.ops.push(Op::DeleteRange(space, from, to));
    }
    /// Deletes every key starting with `prefix`.
    pub fn delete_prefix(&mut self, space: Space, prefix: &[u8]) {
        match prefix_successor(prefix) {
            Some(end) => self.delete_range(space, prefix.to_vec(), end),
            None => self.delete_range(space, prefix.to_vec(), vec![0xff; prefix.len() + 1]),
        }
    }
    /// Adds `delta` to the counter at `key`.
    pub fn add(&mut self, space: Space, key: Vec<u8>, delta: i64) {
        let mut operand = vec![MERGE_ADD];
        operand.extend_from_slice(&(delta as u64).to_le_bytes());
        self.ops.push(Op::Merge(space, key, operand));
    }
    /// Raises the counter at `key` to at least `value`.
    pub fn raise(&mut self, space: Space, key: Vec<u8>, value: u64) {
        let mut operand = vec![MERGE_MAX];
        operand.extend_from_slice(&value.to_le_bytes());
        self.ops.push(Op::Merge(space, key, operand));
    }
    /// Sets the counter at `key` to `value`, discarding earlier additions.
    pub fn set_counter(&mut self, space: Space, key: Vec<u8>, value: u64) {
        self.put(space, key, value.to_le_bytes().to_vec());
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_scan_and_range_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let mut b = Batch::default();
        for k in ["a1", "a2", "a3", "b1"] {
            b.put(Space::Documents, k.as_bytes().to_vec(), k.as_bytes().to_vec());
        }
        engine.write(b, true).unwrap();
        let mut seen = vec![];
        engine
            .scan_prefix(Space::Documents, b"a", None, |k, _| {
                seen.push(String::from_utf8(k.to_vec()).unwrap());
                true
            })
            .unwrap();
        assert_eq!(seen, ["a1", "a2", "a3"]);
        let mut b = Batch::default();
        b.delete_prefix(Space::Documents, b"a");
        engine.write(b, false).unwrap();
        assert_eq!(engine.get(Space::Documents, b"a2").unwrap(), None);
        assert_eq!(engine.get(Space::Documents, b"b1").unwrap().as_deref(), Some(&b"b1"[..]));
        assert_eq!(engine.get(Space::Meta, b"b1").unwrap(), None);
    }

    #[test]
    fn data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = Engine::open(dir.path()).unwrap();
            let mut b = Batch::default();
            b.put(Space::Meta, b"k".to_vec(), b"v".to_vec());
            engine.write(b, true).unwrap();
        }
        let engine = Engine::open(dir.path()).unwrap();
        assert_eq!(engine.get(Space::Meta, b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn counters_add_raise_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let mut b = Batch::default();
        b.add(Space::Meta, b"n".to_vec(), 5);
        b.add(Space::Meta, b"n".to_vec(), -2);
        b.raise(Space::Meta, b"m".to_vec(), 7);
        b.raise(Space::Meta, b"m".to_vec(), 3);
        engine.write(b, false).unwrap();
        let get = |k: &[u8]| counter_value(&engine.get(Space::Meta, k).unwrap().unwrap());
        assert_eq!((get(b"n"), get(b"m")), (3, 7));
        let mut b = Batch::default();
        b.set_counter(Space::Meta, b"n".to_vec(), 0);
        b.add(Space::Meta, b"n".to_vec(), 1);
        engine.write(b, false).unwrap();
        assert_eq!(get(b"n"), 1);
    }

    /// Regression: partial merges on flush used to store a plain value that later merges
    /// took for a replacement, so counts went wrong once a memtable was flushed.
    #[test]
    fn counters_survive_flushes_between_merges() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let add = |d: i64| {
            let mut b = Batch::default();
            b.add(Space::Meta, b"n".to_vec(), d);
            b.raise(Space::Meta, b"m".to_vec(), d.unsigned_abs());
            engine.write(b, false).unwrap();
        };
        for round in 0..5 {
            add(10);
            add(-3);
            add(43); // 43 is b'+': must not be mistaken for a tag
            engine.flush().unwrap();
            let n = counter_value(&engine.get(Space::Meta, b"n").unwrap().unwrap());
            assert_eq!(n, 50 * (round + 1), "after flush {round}");
        }
        engine.compact_range(Space::Meta, b"a", b"z");
        assert_eq!(counter_value(&engine.get(Space::Meta, b"n").unwrap().unwrap()), 250);
        assert_eq!(counter_value(&engine.get(Space::Meta, b"m").unwrap().unwrap()), 43);
        drop(engine);
        let engine = Engine::open(dir.path()).unwrap();
        assert_eq!(counter_value(&engine.get(Space::Meta, b"n").unwrap().unwrap()), 250);
    }

    #[test]
    fn prefix_successor_handles_ff() {
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
    }
}
