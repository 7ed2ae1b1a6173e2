//! An agent: openraft over the Agency store, with the operations `/_api/agency/*` needs.
//! The network (how agents reach each other) is given by the caller, so this crate has no
//! HTTP in it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openraft::error::{ClientWriteError, InitializeError, RaftError};
use openraft::raft::ClientWriteResponse;
use openraft::{BasicNode, RaftNetworkFactory};
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::path::normalize;
use crate::raft::{AgencyRaft, LogStore, NodeId, Request, StateMachine, TrxResult, TypeConfig};
use crate::store::{Outcome, Store};

/// How often the leader looks for expired TTLs.
const TTL_CHECK_INTERVAL_MS: u64 = 250;
/// How long a write waits to be committed before the client is told to ask again (408);
/// without a majority nothing commits, and the client should not wait forever.
pub const WRITE_COMMIT_TIMEOUT_MS: u64 = 10_000;

#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// This agent's endpoint as the others reach it, such as `http://127.0.0.1:8531`.
    pub my_endpoint: String,
    /// Every agent's endpoint, this one's included.
    pub endpoints: Vec<String>,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    /// Snapshot after this many log entries (`--agency.compaction-step-size`).
    pub compaction_step_size: u64,
    /// Log entries kept behind a snapshot for followers that lag (`--agency.compaction-keep-size`).
    pub compaction_keep_size: u64,
    /// Where the agent keeps its log, vote and snapshots.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentError {
    /// Not the leader; the leader's endpoint if one is known.
    NotLeader(Option<String>),
    /// The request is malformed.
    Invalid(String),
    /// Not committed in time (no majority?); it may still commit later.
    Timeout,
    /// Raft stopped or storage failed.
    Fatal(String),
}

/// A stable node id for an endpoint (FNV-1a of its normalised form), so every agent derives
/// the same ids from the same endpoint list.
pub fn node_id(endpoint: &str) -> NodeId {
    let e = endpoint.trim_end_matches('/').replace("tcp://", "http://");
    e.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub struct Agent {
    pub id: NodeId,
    pub raft: AgencyRaft,
    pub sm: StateMachine,
    pub config: AgentConfig,
    /// Agent ids and endpoints.
    pub members: BTreeMap<NodeId, String>,
    /// The leader-local, non-replicated store (`/_api/agency/transient`).
    pub transient: Mutex<Store>,
    /// Writes waiting to be proposed (see [`propose_batches`]).
    proposals: tokio::sync::mpsc::Sender<Proposal>,
    /// Log entries replicating now (see [`ENTRIES_IN_FLIGHT_MAX`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

type WriteResult = Result<(u64, Vec<TrxResult>), AgentError>;

/// One client's write waiting for the next batch.
struct Proposal {
    trxs: Vec<Value>,
    reply: tokio::sync::oneshot::Sender<Proposed>,
}

/// openraft's answer to one log entry.
type RaftAnswer = tokio::sync::oneshot::Receiver<Result<ClientWriteResponse<TypeConfig>, ClientWriteError<NodeId, BasicNode>>>;

/// What a writer hears from the proposer: its results when its entry carried other writers'
/// too, or, when the entry is its alone, openraft's answer to await itself (one task
/// hand-over fewer on the way back) with the entry's in-flight permit.
enum Proposed {
    Done(WriteResult),
    Alone(RaftAnswer, tokio::sync::OwnedSemaphorePermit),
}

/// Writes queued for batching at most; past this, writers wait for room.
const PROPOSALS_QUEUED_MAX: usize = 4096;
/// Transactions in one log entry at most.
const BATCH_TRANSACTIONS_MAX: usize = 1000;
/// Log entries replicating at once at most. More than one keeps a writer that arrives while
/// an entry replicates from waiting a whole round before its own entry starts.
const ENTRIES_IN_FLIGHT_MAX: usize = 4;

fn http_endpoint(e: &str) -> String {
    e.trim_end_matches('/').replace("tcp://", "http://")
}

impl Agent {
    /// Opens the agent's storage, starts Raft, and forms the Agency from the endpoint list.
    pub async fn start<N: RaftNetworkFactory<TypeConfig>>(config: AgentConfig, network: N) -> Result<Arc<Agent>, String> {
        let mut endpoints: Vec<String> = config.endpoints.iter().map(|e| http_endpoint(e)).collect();
        let me = http_endpoint(&config.my_endpoint);
        if !endpoints.contains(&me) {
            endpoints.push(me.clone());
        }
        endpoints.sort();
        endpoints.dedup();
        let members: BTreeMap<NodeId, String> = endpoints.iter().map(|e| (node_id(e), e.clone())).collect();
        std::fs::create_dir_all(&config.dir).map_err(|e| format!("cannot create {}: {e}", config.dir.display()))?;
        let engine = Arc::new(storage::Engine::open(&config.dir).map_err(|e| e.to_string())?);
        let sm = StateMachine::open(engine.clone()).map_err(|e| e.to_string())?;
        let raft_config = openraft::Config {
            cluster_name: "rango-agency".into(),
            election_timeout_min: config.election_timeout_min_ms,
            election_timeout_max: config.election_timeout_max_ms,
            heartbeat_interval: (config.election_timeout_min_ms / 4).max(20),
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(config.compaction_step_size.max(1)),
            max_in_snapshot_log_to_keep: config.compaction_keep_size,
            purge_batch_size: 64,
            ..Default::default()
        }
        .validate()
        .map_err(|e| format!("bad Raft settings: {e}"))?;
        let id = node_id(&me);
        let raft = AgencyRaft::new(id, Arc::new(raft_config), network, LogStore::new(engine), sm.clone())
            .await
            .map_err(|e| format!("cannot start Raft: {e}"))?;
        let nodes: BTreeMap<NodeId, BasicNode> = members.iter().map(|(id, e)| (*id, BasicNode::new(e.clone()))).collect();
        // Every agent proposes the same initial membership; after the first start this is
        // refused as "already initialized", which is fine.
        match raft.initialize(nodes).await {
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
            Err(e) => return Err(format!("cannot form the Agency: {e}")),
        }
        let (proposals, queue) = tokio::sync::mpsc::channel(PROPOSALS_QUEUED_MAX);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(ENTRIES_IN_FLIGHT_MAX));
        let agent = Arc::new(Agent { id, raft, sm, config, members, transient: Mutex::new(Store::new()), proposals, in_flight });
        tokio::spawn(expire_ttls(Arc::downgrade(&agent)));
        tokio::spawn(propose_batches(Arc::downgrade(&agent), queue));
        Ok(agent)
    }

    pub fn leader_id(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    pub fn is_leader(&self) -> bool {
        self.leader_id() == Some(self.id)
    }

    pub fn leader_endpoint(&self) -> Option<String> {
        self.leader_id().and_then(|l| self.members.get(&l).cloned())
    }

    fn not_leader(&self) -> AgentError {
        AgentError::NotLeader(self.leader_endpoint())
    }

    /// Replicates write transactions as one log entry. Returns the entry's index and each
    /// transaction's result.
    ///
    /// Concurrent writes are batched: while log entries are being replicated, the writes
    /// that arrive meanwhile are gathered into the next one (each transaction still applies
    /// on its own, in arrival order). One replication round, and one fsync per agent, then
    /// serves many clients.
    pub async fn write(&self, trxs: Vec<Value>) -> WriteResult {
        for t in &trxs {
            check_write_shape(t)?;
        }
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        // Nothing waiting and nothing replicating: the write goes to Raft as an entry of its
        // own right away, one task hand-over fewer. Otherwise it queues to be batched with
        // the writes that arrive meanwhile.
        if self.proposals.capacity() == PROPOSALS_QUEUED_MAX && self.in_flight.available_permits() == ENTRIES_IN_FLIGHT_MAX {
            if let Ok(permit) = self.in_flight.clone().try_acquire_owned() {
                return match self.raft.client_write_ff(Request { trxs, now_ms: now_ms() }).await {
                    Ok(answer) => committed(answer, permit).await,
                    Err(fatal) => Err(AgentError::Fatal(fatal.to_string())),
                };
            }
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.proposals.send(Proposal { trxs, reply }).await.map_err(|_| AgentError::Fatal("agent stopped".into()))?;
        match answer.await {
            Ok(Proposed::Done(result)) => result,
            Ok(Proposed::Alone(answer, permit)) => committed(answer, permit).await,
            Err(_) => Err(AgentError::Fatal("agent stopped".into())),
        }
    }

    /// Makes sure this agent leads and has applied everything committed before the call.
    pub async fn ensure_leader(&self) -> Result<(), AgentError> {
        match self.raft.ensure_linearizable().await {
            Ok(_) => Ok(()),
            Err(RaftError::APIError(_)) => Err(self.not_leader()),
            Err(e) => Err(AgentError::Fatal(e.to_string())),
        }
    }

    /// Linearizable reads: each query a list of keys read together.
    pub async fn read(&self, queries: &[Vec<String>]) -> Result<Vec<Value>, AgentError> {
        self.ensure_leader().await?;
        let s = self.sm.shared.lock();
        let now = now_ms();
        Ok(queries.iter().map(|q| s.store.read(q, now)).collect())
    }

    /// Reads the current values of keys (for failed transactions in `transact`).
    pub fn read_keys(&self, keys: &[String]) -> Value {
        self.sm.shared.lock().store.read(keys, now_ms())
    }

    /// Applies transactions to the transient store (leader only, not replicated).
    pub fn transient_write(&self, trx: &Value) -> Result<TrxResult, AgentError> {
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        check_write_shape(trx)?;
        Ok(match self.transient.lock().apply(trx, now_ms(), 0) {
            Ok(Outcome::Applied) => TrxResult::Applied,
            Ok(Outcome::Failed(keys)) => TrxResult::Failed(keys),
            Err(e) => TrxResult::Invalid(e.message),
        })
    }

    pub fn transient_read(&self, keys: &[String]) -> Result<Value, AgentError> {
        if !self.is_leader() {
            return Err(self.not_leader());
        }
        Ok(self.transient.lock().read(keys, now_ms()))
    }

    /// The log index that carried each client id (0 if unknown).
    pub async fn inquire(&self, ids: &[String]) -> Result<Vec<u64>, AgentError> {
        self.ensure_leader().await?;
        let s = self.sm.shared.lock();
        Ok(ids.iter().map(|id| s.store.client_index(id).unwrap_or(0)).collect())
    }

    /// Waits until an entry at or after `index` is applied (or `timeout`), then returns the
    /// applied entries from `index` on, or the whole store when they are no longer kept.
    pub async fn poll(&self, index: u64, timeout: Duration) -> Result<Value, AgentError> {
        self.ensure_leader().await?;
        let mut rx = self.sm.applied.subscribe();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|applied| *applied >= index.max(1))).await;
        let s = self.sm.shared.lock();
        let commit = s.last_applied.map_or(0, |l| l.index);
        if reached.is_err() {
            return Ok(json!({"commitIndex": commit, "log": []}));
        }
        let first_kept = s.recent.front().map(|e| e.index);
        match first_kept {
            Some(first) if index >= first && index > 0 => {
                let log: Vec<Value> = s
                    .recent
                    .iter()
                    .filter(|e| e.index >= index)
                    .map(|e| json!({"index": e.index, "query": e.trxs, "timestamp": e.now_ms}))
                    .collect();
                Ok(json!({"commitIndex": commit, "firstIndex": first.max(index), "log": log}))
            }
            _ => Ok(json!({"commitIndex": commit, "firstIndex": 0, "readDB": s.store.read(&["/".to_string()], now_ms())})),
        }
    }

    /// `/_api/agency/config`.
    pub fn config_json(&self) -> Value {
        let m = self.raft.metrics().borrow().clone();
        let pool: serde_json::Map<String, Value> = self.members.iter().map(|(id, e)| (format!("{id:016x}"), json!(e))).collect();
        json!({
            "term": m.current_term,
            "leaderId": m.current_leader.map(|l| format!("{l:016x}")),
            "commitIndex": m.last_applied.map_or(0, |l| l.index),
            "lastAcked": {},
            "configuration": {
                "pool": pool,
                "active": self.members.keys().map(|id| format!("{id:016x}")).collect::<Vec<_>>(),
                "id": format!("{:016x}", self.id),
                "agency size": self.members.len(),
                "pool size": self.members.len(),
                "endpoint": http_endpoint(&self.config.my_endpoint),
                "min ping": self.config.election_timeout_min_ms as f64 / 1000.0,
                "max ping": self.config.election_timeout_max_ms as f64 / 1000.0,
                "supervision": false,
            },
            "engine": "rocksdb",
            "version": env!("CARGO_PKG_VERSION"),
        })
    }

    /// `/_api/agency/state`: the committed store, hidden keys included.
    pub fn state_json(&self) -> Value {
        let s = self.sm.shared.lock();
        json!({"readDB": s.store.tree(), "commitIndex": s.last_applied.map_or(0, |l| l.index)})
    }

    pub async fn shutdown(&self) {
        let _ = self.raft.shutdown().await;
    }
}

/// Whether a write transaction touches the reserved `/.agency` subtree (refused to clients).
pub fn touches_reserved(t: &Value) -> bool {
    let reserved = |k: &String| normalize(k).starts_with("/.agency");
    t.as_array().is_some_and(|parts| parts.iter().take(2).filter_map(Value::as_object).any(|m| m.keys().any(reserved)))
}

/// Checks a write transaction's outer shape before it goes into the log.
fn check_write_shape(t: &Value) -> Result<(), AgentError> {
    let ok = match t.as_array() {
        Some(parts) if (1..=3).contains(&parts.len()) => {
            parts[0].is_object()
                && parts.get(1).is_none_or(|p| p.is_object() || p.is_null())
                && parts.get(2).is_none_or(|c| c.is_string() || c.is_null())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AgentError::Invalid(format!("malformed write transaction: {}", truncate(&t.to_string(), 200))))
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Takes queued writes and proposes them in batches. Up to [`ENTRIES_IN_FLIGHT_MAX`] log
/// entries replicate at once; writes that arrive meanwhile gather into the next entry.
async fn propose_batches(agent: std::sync::Weak<Agent>, mut queue: tokio::sync::mpsc::Receiver<Proposal>) {
    while let Some(first) = queue.recv().await {
        let Some(in_flight) = agent.upgrade().map(|a| a.in_flight.clone()) else { return };
        let Ok(permit) = in_flight.acquire_owned().await else { return };
        let mut batch = vec![first];
        let mut count = batch[0].trxs.len();
        while count < BATCH_TRANSACTIONS_MAX {
            match queue.try_recv() {
                Ok(p) => {
                    count += p.trxs.len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let Some(agent) = agent.upgrade() else { return };
        let sizes: Vec<usize> = batch.iter().map(|p| p.trxs.len()).collect();
        let (trxs, replies): (Vec<Vec<Value>>, Vec<_>) = batch.into_iter().map(|p| (p.trxs, p.reply)).unzip();
        // Submitted here, so entries enter the log in queue order.
        let submitted = agent.raft.client_write_ff(Request { trxs: trxs.into_iter().flatten().collect(), now_ms: now_ms() }).await;
        drop(agent);
        let answer = match submitted {
            Ok(answer) => answer,
            Err(fatal) => {
                for reply in replies {
                    let _ = reply.send(Proposed::Done(Err(AgentError::Fatal(fatal.to_string()))));
                }
                continue;
            }
        };
        if replies.len() == 1 {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Proposed::Alone(answer, permit));
            }
            continue;
        }
        // A task of its own waits for the entry and hands each writer its results.
        tokio::spawn(async move {
            let result = committed(answer, permit).await;
            let mut results = match &result {
                Ok((_, r)) => r.clone().into_iter(),
                Err(_) => Vec::new().into_iter(),
            };
            for (reply, n) in replies.into_iter().zip(sizes) {
                let answer = match &result {
                    Ok((index, _)) => Ok((*index, results.by_ref().take(n).collect())),
                    Err(e) => Err(e.clone()),
                };
                let _ = reply.send(Proposed::Done(answer));
            }
        });
    }
}

/// Waits for a submitted log entry to be committed and applied, then frees its in-flight
/// slot (`permit`).
async fn committed(answer: RaftAnswer, permit: tokio::sync::OwnedSemaphorePermit) -> WriteResult {
    let _slot = permit;
    let Ok(answer) = tokio::time::timeout(Duration::from_millis(WRITE_COMMIT_TIMEOUT_MS), answer).await else {
        return Err(AgentError::Timeout);
    };
    match answer {
        Ok(Ok(r)) => Ok((r.log_id.index, r.data.results)),
        Ok(Err(ClientWriteError::ForwardToLeader(f))) => Err(AgentError::NotLeader(f.leader_node.map(|n| n.addr))),
        Ok(Err(e)) => Err(AgentError::Fatal(e.to_string())),
        Err(_) => Err(AgentError::Fatal("Raft stopped before answering".into())),
    }
}

/// The leader replicates deletes of expired keys, so TTLs end identically everywhere.
async fn expire_ttls(agent: std::sync::Weak<Agent>) {
    loop {
        tokio::time::sleep(Duration::from_millis(TTL_CHECK_INTERVAL_MS)).await;
        let Some(agent) = agent.upgrade() else { return };
        if !agent.is_leader() {
            continue;
        }
        let expiry = agent.sm.shared.lock().store.expiry_transaction(now_ms());
        if let Some(trx) = expiry {
            if let Err(e) = agent.write(vec![trx]).await {
                tracing::debug!("could not replicate TTL expiry: {e:?}");
            }
        }
        let transient_expiry = agent.transient.lock().expiry_transaction(now_ms());
        if let Some(trx) = transient_expiry {
            let _ = agent.transient.lock().apply(&trx, now_ms(), 0);
        }
    }
}

/// Normalised keys of a read query.
pub fn read_query(q: &Value) -> Option<Vec<String>> {
    q.as_array()?.iter().map(|k| k.as_str().map(normalize)).collect()
}
