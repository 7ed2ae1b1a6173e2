//! The AQL query results cache (`/_api/query-cache`) and plan cache
//! (`/_api/query-plan-cache`).
//!
//! Results are kept per database, query text and bind parameters, together with a
//! fingerprint of every collection the query read (id, revision and count): a lookup whose
//! fingerprints no longer match is a miss, so a write never serves stale results and no
//! write path has to know about the cache. The plan cache keeps parsed queries for requests
//! with `usePlanCache`, keyed by database, query text and the collection bind parameters.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use errors::{err, Result, ERROR_HTTP_BAD_PARAMETER};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};

use crate::api;
use crate::api::cursor::Json;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// Besides the functions the optimizer does not move (their results change between runs),
/// these are not cached: their results depend on the caller, or they read collections the
/// query does not name (so its fingerprint cannot cover them).
const NOT_CACHEABLE_FUNCTIONS: &[&str] = &["CURRENT_USER", "DOCUMENT", "COLLECTIONS", "COLLECTION_COUNT"];
/// Plans kept at most; the oldest go first.
const PLAN_ENTRIES_MAX: usize = 128;
/// Longest query text whose plan or results are kept, so the caches stay small.
const PLAN_QUERY_BYTES_MAX: usize = 1 << 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Properties {
    /// `off`, `on` (every eligible query unless it says `cache: false`) or `demand` (those
    /// that say `cache: true`).
    pub mode: String,
    pub max_results: u64,
    pub max_results_size: u64,
    pub max_entry_size: u64,
    pub include_system: bool,
}

impl Default for Properties {
    fn default() -> Self {
        // ArangoDB's defaults.
        Properties { mode: "off".into(), max_results: 128, max_results_size: 256 << 20, max_entry_size: 16 << 20, include_system: false }
    }
}

impl Properties {
    fn to_json(&self) -> Value {
        json!({
            "mode": self.mode,
            "maxResults": self.max_results,
            "maxResultsSize": self.max_results_size,
            "maxEntrySize": self.max_entry_size,
            "includeSystem": self.include_system,
        })
    }
}

/// What a collection looked like when a result was cached.
pub type Fingerprint = Vec<(String, u64, u64, u64)>;

struct Entry {
    db: String,
    query: String,
    bind_vars: Map<String, Value>,
    results: Arc<Vec<Json>>,
    size: u64,
    hits: u64,
    run_time: f64,
    started: String,
    fingerprint: Fingerprint,
}

struct PlanEntry {
    db: String,
    query: String,
    parsed: Arc<aql::query::Query>,
    hits: u64,
    created: String,
    collections: Vec<String>,
}

#[derive(Default)]
pub struct QueryCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    props: Properties,
    results: Ordered<Entry>,
    plans: Ordered<PlanEntry>,
}

/// Entries by key that also remember the order they came in, so the oldest go first.
struct Ordered<E> {
    entries: HashMap<String, E>,
    order: VecDeque<String>,
}

impl<E> Default for Ordered<E> {
    fn default() -> Self {
        Ordered { entries: HashMap::new(), order: VecDeque::new() }
    }
}

impl<E> Ordered<E> {
    fn insert(&mut self, key: String, entry: E) {
        self.order.retain(|k| *k != key);
        self.order.push_back(key.clone());
        self.entries.insert(key, entry);
    }

    /// Drops the oldest entries while `too_many` says so.
    fn trim(&mut self, too_many: impl Fn(&HashMap<String, E>) -> bool) {
        while too_many(&self.entries) {
            let Some(oldest) = self.order.pop_front() else { break };
            self.entries.remove(&oldest);
        }
    }

    fn remove(&mut self, key: &str) {
        self.entries.remove(key);
        self.order.retain(|k| k != key);
    }

    fn retain(&mut self, keep: impl Fn(&E) -> bool) {
        self.entries.retain(|_, e| keep(e));
        let entries = &self.entries;
        self.order.retain(|k| entries.contains_key(k));
    }

    /// The entries `keep` selects, oldest first, with their keys.
    fn listed<'a>(&'a self, keep: impl Fn(&E) -> bool + 'a) -> impl Iterator<Item = (&'a String, &'a E)> + 'a {
        self.order.iter().filter_map(|k| self.entries.get(k).map(|e| (k, e))).filter(move |(_, e)| keep(e))
    }
}

fn now_iso() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    aql::functions::iso8601_from_ms(ms)
}

/// A stable short name for a cache key, as the entry lists show it.
fn hash_hex(key: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    format!("{:016x}", h.finish())
}

fn result_key(db: &str, query: &str, binds: &Map<String, Value>) -> String {
    serde_json::to_string(&json!([db, query, binds])).unwrap_or_default()
}

impl QueryCache {
    /// Whether a query run with `body`'s options uses the results cache.
    pub fn wanted(&self, body: &Value, options: &Value, text: &str, reads: &[String]) -> bool {
        let asked = body.get("cache").or_else(|| options.get("cache")).and_then(Value::as_bool);
        let p = &self.inner.lock().props;
        let on = match p.mode.as_str() {
            "on" => asked != Some(false),
            "demand" => asked == Some(true),
            _ => false,
        };
        // `includeSystem`: whether queries over system collections are cached too.
        on && text.len() <= PLAN_QUERY_BYTES_MAX && (p.include_system || !reads.iter().any(|c| c.starts_with('_'))) && cacheable_text(text)
    }

    /// Cached results, if the collections still look as they did.
    pub fn lookup(&self, db: &str, query: &str, binds: &Map<String, Value>, now: &Fingerprint) -> Option<Arc<Vec<Json>>> {
        let mut inner = self.inner.lock();
        let key = result_key(db, query, binds);
        match inner.results.entries.get_mut(&key) {
            Some(e) if e.fingerprint == *now => {
                e.hits += 1;
                Some(e.results.clone())
            }
            Some(_) => {
                inner.results.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn store(&self, db: &str, query: &str, binds: &Map<String, Value>, results: &[Json], run_time: f64, fingerprint: Fingerprint) {
        let size = results.iter().map(|r| r.get().len() as u64).sum::<u64>();
        let mut inner = self.inner.lock();
        if size > inner.props.max_entry_size {
            return;
        }
        let key = result_key(db, query, binds);
        if key.len() > PLAN_QUERY_BYTES_MAX {
            return;
        }
        let entry = Entry {
            db: db.to_string(),
            query: query.to_string(),
            bind_vars: binds.clone(),
            results: Arc::new(results.to_vec()),
            size,
            hits: 0,
            run_time,
            started: now_iso(),
            fingerprint,
        };
        inner.results.insert(key, entry);
        // Oldest entries go once there are too many or they are too large together.
        let (most, most_bytes) = (inner.props.max_results, inner.props.max_results_size);
        inner.results.trim(|e| e.len() as u64 > most || e.values().map(|e| e.size).sum::<u64>() > most_bytes);
    }

    /// The parsed query from the plan cache, or `parse` run and its result kept.
    pub fn plan(&self, db: &str, text: &str, binds: &Map<String, Value>, parse: impl FnOnce() -> Result<aql::query::Query>) -> Result<Arc<aql::query::Query>> {
        let collection_binds: Map<String, Value> = binds.iter().filter(|(k, _)| k.starts_with('@')).map(|(k, v)| (k.clone(), v.clone())).collect();
        let key = result_key(db, text, &collection_binds);
        if let Some(p) = self.inner.lock().plans.entries.get_mut(&key) {
            p.hits += 1;
            return Ok(p.parsed.clone());
        }
        let parsed = Arc::new(parse()?);
        if key.len() > PLAN_QUERY_BYTES_MAX {
            return Ok(parsed);
        }
        let (reads, writes) = query::collections_used(&parsed, binds);
        let mut inner = self.inner.lock();
        let entry =
            PlanEntry { db: db.to_string(), query: text.to_string(), parsed: parsed.clone(), hits: 0, created: now_iso(), collections: [reads, writes].concat() };
        inner.plans.insert(key, entry);
        inner.plans.trim(|e| e.len() > PLAN_ENTRIES_MAX);
        Ok(parsed)
    }
}

/// Whether a query's text allows caching its results: no function whose result changes from
/// run to run.
fn cacheable_text(text: &str) -> bool {
    let Ok(tokens) = aql::lexer::lex(text) else { return false };
    !tokens.iter().any(|t| matches!(&t.tok, aql::lexer::Tok::Ident(n) if query::optimize::NOT_MOVABLE_FUNCTIONS.iter().chain(NOT_CACHEABLE_FUNCTIONS).any(|f| f.eq_ignore_ascii_case(n))))
}

/// The fingerprint of the collections a query reads (see the module documentation).
pub fn fingerprint(ctx: &Ctx, db: &docstore::Database, reads: &[String]) -> Option<Fingerprint> {
    let mut out = Vec::with_capacity(reads.len());
    for name in reads {
        let col = db.collection(name).ok()?;
        out.push((name.clone(), col.info.read().id, ctx.store.revision(&col).ok()?, ctx.store.count(&col).ok()?));
    }
    Some(out)
}

/// `GET /_api/query-cache/properties`.
pub fn properties(ctx: &Ctx, _: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &ctx.query_cache.inner.lock().props.to_json()))
}

/// `PUT /_api/query-cache/properties`.
pub fn set_properties(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json()?;
    let mut inner = ctx.query_cache.inner.lock();
    let mut p = inner.props.clone();
    if let Some(m) = body.get("mode") {
        match m.as_str() {
            Some(m @ ("off" | "on" | "demand")) => p.mode = m.to_string(),
            _ => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "mode must be \"off\", \"on\" or \"demand\"")),
        }
    }
    let number = |name: &str, current: u64| -> Result<u64> {
        match body.get(name) {
            None => Ok(current),
            Some(v) => v.as_u64().filter(|n| *n > 0).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "{name} must be a positive number")),
        }
    };
    p.max_results = number("maxResults", p.max_results)?;
    p.max_results_size = number("maxResultsSize", p.max_results_size)?;
    p.max_entry_size = number("maxEntrySize", p.max_entry_size)?;
    if let Some(b) = body.get("includeSystem") {
        p.include_system = b.as_bool().ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "includeSystem must be a boolean"))?;
    }
    if p.mode == "off" {
        inner.results = Ordered::default();
    }
    inner.props = p;
    Ok(Resp::json(200, &inner.props.to_json()))
}

/// `GET /_api/query-cache/entries`: this database's cached results.
pub fn entries(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let inner = ctx.query_cache.inner.lock();
    let list: Vec<Value> = inner
        .results
        .listed(|e| e.db == db.name())
        .map(|(k, e)| {
            json!({
                "hash": hash_hex(k),
                "query": e.query,
                "bindVars": e.bind_vars,
                "size": e.size,
                "results": e.results.len(),
                "hits": e.hits,
                "runTime": e.run_time,
                "started": e.started,
                "dataSources": e.fingerprint.iter().map(|(n, ..)| n).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Resp::json(200, &Value::Array(list)))
}

/// `DELETE /_api/query-cache`: forgets this database's cached results.
pub fn clear(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let mut inner = ctx.query_cache.inner.lock();
    inner.results.retain(|e| e.db != db.name());
    Ok(Resp::json(200, &json!({"error": false, "code": 200})))
}

/// `GET /_api/query-plan-cache`: this database's cached plans.
pub fn plan_entries(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let inner = ctx.query_cache.inner.lock();
    let list: Vec<Value> = inner
        .plans
        .listed(|p| p.db == db.name())
        .map(|(k, p)| {
            json!({
                "hash": hash_hex(k),
                "query": p.query,
                "hits": p.hits,
                "created": p.created,
                "dataSources": p.collections,
            })
        })
        .collect();
    Ok(Resp::json(200, &Value::Array(list)))
}

/// `DELETE /_api/query-plan-cache`.
pub fn clear_plans(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let mut inner = ctx.query_cache.inner.lock();
    inner.plans.retain(|p| p.db != db.name());
    Ok(Resp::json(200, &json!({"error": false, "code": 200})))
}
