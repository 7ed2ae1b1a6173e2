//! The Agency's Raft: openraft's type configuration, the log store (RocksDB through the
//! `storage` crate, every append synced before it is acknowledged, by a sync thread) and the state machine
//! (the [`Store`], snapshotted as JSON).
//!
//! A log entry carries one client request: the write transactions of one HTTP call and the
//! leader's clock at the time, so that TTLs expire identically on every agent.

// openraft's `StorageError` is large, and its traits return it; our helpers return it too.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, Entry, EntryPayload, LogId, OptionalSend, RaftLogReader, RaftSnapshotBuilder, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership, Vote,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use storage::{Batch, Engine, Space};
use tokio::sync::watch;

use crate::store::{Outcome, Store};

/// How many applied entries the state machine keeps for `/_api/agency/poll`.
pub const POLL_LOG_ENTRIES_MAX: usize = 10_000;

/// One client request in the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Request {
    /// Write transactions, applied in order, each atomic.
    pub trxs: Vec<Value>,
    /// The leader's clock when it accepted the request (ms since 1970).
    pub now_ms: u64,
}

/// What applying a request did, one result per transaction.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub results: Vec<TrxResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum TrxResult {
    Applied,
    /// Preconditions failed on these keys.
    Failed(Vec<String>),
    /// The transaction was malformed.
    Invalid(String),
}

openraft::declare_raft_types!(
    /// Openraft's types for the Agency.
    pub TypeConfig: D = Request, R = Response
);

pub type NodeId = u64;
pub type AgencyRaft = openraft::Raft<TypeConfig>;
type StorageResult<T> = Result<T, StorageError<NodeId>>;

fn io_err(e: impl std::fmt::Display) -> AnyError {
    AnyError::error(e.to_string())
}

const KEY_VOTE: &[u8] = b"raft/vote";
const KEY_COMMITTED: &[u8] = b"raft/committed";
const KEY_PURGED: &[u8] = b"raft/purged";
const KEY_SNAPSHOT: &[u8] = b"raft/snapshot";
const LOG_PREFIX: &[u8] = b"raft/log/";

fn log_key(index: u64) -> Vec<u8> {
    let mut k = LOG_PREFIX.to_vec();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn get_json<T: for<'de> Deserialize<'de>>(engine: &Engine, key: &[u8]) -> StorageResult<Option<T>> {
    match engine.get(Space::Meta, key).map_err(|e| StorageIOError::read(io_err(e)))? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| StorageIOError::read(io_err(e)).into()),
    }
}

/// Writes one JSON value; `sync` waits until it is on disk.
fn put_json<T: Serialize>(engine: &Engine, key: &[u8], value: &T, sync: bool) -> StorageResult<()> {
    let mut b = Batch::default();
    b.put(Space::Meta, key.to_vec(), serde_json::to_vec(value).map_err(|e| StorageIOError::write(io_err(e)))?);
    engine.write(b, sync).map_err(|e| StorageIOError::write(io_err(e)).into())
}

/// The Raft log, vote and committed index in the agent's own engine.
#[derive(Clone)]
pub struct LogStore {
    engine: Arc<Engine>,
    /// Where appends wait for their sync (see [`wal_syncer`]).
    syncs: std::sync::mpsc::Sender<LogFlushed<TypeConfig>>,
}

impl LogStore {
    pub fn new(engine: Arc<Engine>) -> LogStore {
        LogStore { syncs: wal_syncer(engine.clone()), engine }
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, key: &[u8]) -> StorageResult<Option<T>> {
        get_json(&self.engine, key)
    }

    /// Calls `f` with each log entry from index `start` on, in index order, until it returns
    /// false.
    fn scan_log(&self, start: u64, mut f: impl FnMut(u64, Entry<TypeConfig>) -> bool) -> StorageResult<()> {
        let mut failure = None;
        self.engine
            .scan_prefix(Space::Meta, LOG_PREFIX, Some(&log_key(start)), |k, v| {
                let Some(index) = k.get(LOG_PREFIX.len()..).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes) else { return false };
                match serde_json::from_slice(v) {
                    Ok(e) => f(index, e),
                    Err(e) => {
                        failure = Some(e.to_string());
                        false
                    }
                }
            })
            .map_err(|e| StorageIOError::read_logs(io_err(e)))?;
        match failure {
            Some(f) => Err(StorageIOError::read_logs(io_err(f)).into()),
            None => Ok(()),
        }
    }

    fn last_entry(&self) -> StorageResult<Option<Entry<TypeConfig>>> {
        // Log keys sort by index; the last one is the greatest.
        let mut last = None;
        self.scan_log(0, |_, e| {
            last = Some(e);
            true
        })?;
        Ok(last)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => 0,
        };
        let mut out = Vec::new();
        self.scan_log(start, |index, e| {
            let wanted = range.contains(&index);
            if wanted {
                out.push(e);
            }
            wanted
        })?;
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> StorageResult<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.get_json(KEY_PURGED)?;
        let last_log_id = self.last_entry()?.map(|e| e.log_id).or(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> StorageResult<()> {
        put_json(&self.engine, KEY_VOTE, vote, true).map_err(|_| StorageIOError::write_vote(io_err("cannot save vote")).into())
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<NodeId>>> {
        self.get_json(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> StorageResult<()> {
        // Not synced: the committed index only saves re-applying entries after a restart, and
        // a lost one is recomputed from the log. A sync here would sit between a write's
        // commit and its answer.
        put_json(&self.engine, KEY_COMMITTED, &committed, false)
    }

    async fn read_committed(&mut self) -> StorageResult<Option<LogId<NodeId>>> {
        Ok(self.get_json::<Option<LogId<NodeId>>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut b = Batch::default();
        for e in entries {
            let bytes = serde_json::to_vec(&e).map_err(|err| StorageIOError::write_log_entry(e.log_id, io_err(err)))?;
            b.put(Space::Meta, log_key(e.log_id.index), bytes);
        }
        // A follower's append is synced right here: Raft waits for it anyway, and a hand-over
        // to another thread would only add wake-ups.
        if callback.is_awaited() {
            let result = self.engine.write(b, true).map_err(|e| e.to_string());
            callback.log_io_completed(result.clone().map_err(std::io::Error::other));
            return result.map_err(|e| StorageIOError::write_logs(io_err(e)).into());
        }
        // A leader's is written at once, so replication can read the entries, and acknowledged
        // by the sync thread while they replicate (our openraft patch, vendor/README.md).
        self.engine.write(b, false).map_err(|e| StorageIOError::write_logs(io_err(e)))?;
        self.syncs.send(callback).map_err(|_| StorageIOError::write_logs(io_err("the log's sync thread is gone")).into())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        let mut b = Batch::default();
        b.delete_range(Space::Meta, log_key(log_id.index), log_key(u64::MAX));
        b.delete(Space::Meta, log_key(u64::MAX));
        self.engine.write(b, true).map_err(|e| StorageIOError::write_logs(io_err(e)).into())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        let mut b = Batch::default();
        b.put(Space::Meta, KEY_PURGED.to_vec(), serde_json::to_vec(&log_id).map_err(|e| StorageIOError::write(io_err(e)))?);
        b.delete_range(Space::Meta, log_key(0), log_key(log_id.index + 1));
        self.engine.write(b, true).map_err(|e| StorageIOError::write_logs(io_err(e)).into())
    }
}

/// Starts the thread that makes appended entries durable: it syncs the write-ahead log and
/// then acknowledges every append written before the sync began, so appends that arrive while
/// a sync runs share the next one. It ends when the last [`LogStore`] clone is dropped. It
/// holds the engine only while it syncs, so the engine still closes where the store is
/// dropped.
fn wal_syncer(engine: Arc<Engine>) -> std::sync::mpsc::Sender<LogFlushed<TypeConfig>> {
    let (tx, rx) = std::sync::mpsc::channel::<LogFlushed<TypeConfig>>();
    let engine = Arc::downgrade(&engine);
    let spawned = std::thread::Builder::new().name("agency-wal-sync".into()).spawn(move || {
        while let Ok(first) = rx.recv() {
            let waiting: Vec<_> = std::iter::once(first).chain(rx.try_iter()).collect();
            let result = match engine.upgrade() {
                Some(engine) => engine.sync_wal().map_err(|e| e.to_string()),
                None => Err("the agency's storage is closed".to_string()),
            };
            for callback in waiting {
                callback.log_io_completed(result.clone().map_err(std::io::Error::other));
            }
        }
    });
    if let Err(e) = spawned {
        // Appends then fail with "the log's sync thread is gone" and the agent stops.
        tracing::error!("cannot start the agency's log sync thread: {e}");
    }
    tx
}

/// What a snapshot holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SnapshotData {
    store: Store,
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, openraft::BasicNode>,
}

/// One applied request, kept for `poll`.
#[derive(Clone, Debug, Serialize)]
pub struct AppliedEntry {
    pub index: u64,
    pub trxs: Vec<Value>,
    pub now_ms: u64,
}

/// The state machine shared between openraft and the HTTP handlers that read it.
pub struct Shared {
    pub store: Store,
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: StoredMembership<NodeId, openraft::BasicNode>,
    /// Recently applied requests, oldest first.
    pub recent: VecDeque<AppliedEntry>,
    snapshot: Option<(SnapshotMeta<NodeId, openraft::BasicNode>, Vec<u8>)>,
}

#[derive(Clone)]
pub struct StateMachine {
    pub shared: Arc<Mutex<Shared>>,
    engine: Arc<Engine>,
    /// The last applied index, for long polls.
    pub applied: watch::Sender<u64>,
}

impl StateMachine {
    /// A state machine starting from the snapshot persisted in `engine`, if any; the log
    /// after it is replayed by openraft.
    pub fn open(engine: Arc<Engine>) -> StorageResult<StateMachine> {
        let persisted: Option<(SnapshotMeta<NodeId, openraft::BasicNode>, Vec<u8>)> = get_json(&engine, KEY_SNAPSHOT)?;
        let mut shared = Shared {
            store: Store::new(),
            last_applied: None,
            membership: StoredMembership::default(),
            recent: VecDeque::new(),
            snapshot: None,
        };
        if let Some((meta, bytes)) = persisted {
            let data: SnapshotData = serde_json::from_slice(&bytes).map_err(|e| StorageIOError::read_snapshot(None, io_err(e)))?;
            shared.store = data.store;
            shared.last_applied = data.last_applied;
            shared.membership = data.membership;
            shared.snapshot = Some((meta, bytes));
        }
        let applied = shared.last_applied.map_or(0, |l| l.index);
        Ok(StateMachine { shared: Arc::new(Mutex::new(shared)), engine, applied: watch::channel(applied).0 })
    }

    fn build(&self) -> StorageResult<Snapshot<TypeConfig>> {
        let (meta, bytes) = {
            let s = self.shared.lock();
            let data = SnapshotData { store: s.store.clone(), last_applied: s.last_applied, membership: s.membership.clone() };
            let bytes = serde_json::to_vec(&data).map_err(|e| StorageIOError::write_snapshot(None, io_err(e)))?;
            let id = s.last_applied.map_or_else(|| "empty".to_string(), |l| format!("{}-{}", l.leader_id, l.index));
            let meta = SnapshotMeta { last_log_id: s.last_applied, last_membership: s.membership.clone(), snapshot_id: id };
            (meta, bytes)
        };
        put_json(&self.engine, KEY_SNAPSHOT, &(meta.clone(), bytes.clone()), true)?;
        self.shared.lock().snapshot = Some((meta.clone(), bytes.clone()));
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) })
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        self.build()
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> StorageResult<(Option<LogId<NodeId>>, StoredMembership<NodeId, openraft::BasicNode>)> {
        let s = self.shared.lock();
        Ok((s.last_applied, s.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<Response>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut responses = Vec::new();
        let mut last = None;
        {
            let mut s = self.shared.lock();
            for entry in entries {
                s.last_applied = Some(entry.log_id);
                last = Some(entry.log_id.index);
                match entry.payload {
                    EntryPayload::Blank => responses.push(Response::default()),
                    EntryPayload::Membership(m) => {
                        s.membership = StoredMembership::new(Some(entry.log_id), m);
                        responses.push(Response::default());
                    }
                    EntryPayload::Normal(req) => {
                        let results = req
                            .trxs
                            .iter()
                            .map(|t| match s.store.apply(t, req.now_ms, entry.log_id.index) {
                                Ok(Outcome::Applied) => TrxResult::Applied,
                                Ok(Outcome::Failed(keys)) => TrxResult::Failed(keys),
                                Err(e) => TrxResult::Invalid(e.message),
                            })
                            .collect();
                        s.recent.push_back(AppliedEntry { index: entry.log_id.index, trxs: req.trxs, now_ms: req.now_ms });
                        while s.recent.len() > POLL_LOG_ENTRIES_MAX {
                            s.recent.pop_front();
                        }
                        responses.push(Response { results });
                    }
                }
            }
        }
        if let Some(i) = last {
            self.applied.send_replace(i);
        }
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let bytes = snapshot.into_inner();
        let data: SnapshotData =
            serde_json::from_slice(&bytes).map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), io_err(e)))?;
        put_json(&self.engine, KEY_SNAPSHOT, &(meta.clone(), bytes.clone()), true)?;
        {
            let mut s = self.shared.lock();
            s.store = data.store;
            s.last_applied = meta.last_log_id;
            s.membership = meta.last_membership.clone();
            s.recent.clear();
            s.snapshot = Some((meta.clone(), bytes));
        }
        self.applied.send_replace(meta.last_log_id.map_or(0, |l| l.index));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        let s = self.shared.lock();
        Ok(s.snapshot.clone().map(|(meta, bytes)| Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) }))
    }
}
