//! `/_api/query`: the AQL queries running now, the slow ones that finished, tracking
//! settings, and killing a running query.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use errors::{err, Result, ERROR_FORBIDDEN, ERROR_HTTP_BAD_PARAMETER, ERROR_QUERY_NOT_FOUND};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};

use crate::api;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// Most slow queries kept, whatever `maxSlowQueries` asks, so the list cannot exhaust memory.
const SLOW_QUERIES_MAX: u64 = 10_000;

/// Query tracking settings (`/_api/query/properties`), with ArangoDB's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Properties {
    pub enabled: bool,
    pub track_slow_queries: bool,
    pub track_bind_vars: bool,
    pub max_slow_queries: u64,
    pub slow_query_threshold: f64,
    pub slow_streaming_query_threshold: f64,
    pub max_query_string_length: u64,
}

impl Default for Properties {
    fn default() -> Self {
        Properties {
            enabled: true,
            track_slow_queries: true,
            track_bind_vars: true,
            max_slow_queries: 64,
            slow_query_threshold: 10.0,
            slow_streaming_query_threshold: 10.0,
            max_query_string_length: 4096,
        }
    }
}

impl Properties {
    fn to_json(&self) -> Map<String, Value> {
        let fields = json!({
            "enabled": self.enabled,
            "trackSlowQueries": self.track_slow_queries,
            "trackBindVars": self.track_bind_vars,
            "maxSlowQueries": self.max_slow_queries,
            "slowQueryThreshold": self.slow_query_threshold,
            "slowStreamingQueryThreshold": self.slow_streaming_query_threshold,
            "maxQueryStringLength": self.max_query_string_length,
        });
        fields.as_object().cloned().unwrap_or_default()
    }

    /// Applies the fields present in `body`; the rest keep their values.
    fn update(&mut self, body: &Value) -> Result<()> {
        let Value::Object(fields) = body else {
            return Err(err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON object with query tracking properties"));
        };
        let mut next = self.clone();
        for (name, v) in fields {
            let bad = || err!(ERROR_HTTP_BAD_PARAMETER, "invalid value for '{name}'");
            let flag = || v.as_bool().ok_or_else(bad);
            let count = || v.as_u64().ok_or_else(bad);
            let seconds = || v.as_f64().filter(|s| *s >= 0.0).ok_or_else(bad);
            match name.as_str() {
                "enabled" => next.enabled = flag()?,
                "trackSlowQueries" => next.track_slow_queries = flag()?,
                "trackBindVars" => next.track_bind_vars = flag()?,
                "maxSlowQueries" => next.max_slow_queries = count()?.min(SLOW_QUERIES_MAX),
                "slowQueryThreshold" => next.slow_query_threshold = seconds()?,
                "slowStreamingQueryThreshold" => next.slow_streaming_query_threshold = seconds()?,
                "maxQueryStringLength" => next.max_query_string_length = count()?,
                _ => {}
            }
        }
        *self = next;
        Ok(())
    }
}

struct Running {
    db: String,
    user: Option<String>,
    query: String,
    bind_vars: Value,
    started_ms: i64,
    started: Instant,
    kill: Arc<AtomicBool>,
}

impl Running {
    fn to_json(&self, id: u64, state: &str) -> Value {
        json!({
            "id": id.to_string(),
            "database": self.db,
            "user": self.user.clone().unwrap_or_default(),
            "query": self.query,
            "bindVars": self.bind_vars,
            "started": aql::functions::iso8601_from_ms(self.started_ms),
            "runTime": self.started.elapsed().as_secs_f64(),
            "peakMemoryUsage": 0,
            "state": state,
            "stream": false,
        })
    }
}

/// The server's running and slow queries.
#[derive(Default)]
pub struct Queries {
    next_id: AtomicU64,
    running: Mutex<HashMap<u64, Running>>,
    /// Finished slow queries, oldest first, with their database.
    slow: Mutex<VecDeque<(String, Value)>>,
    props: Mutex<Properties>,
}

/// A running query's entry; dropping it ends the query's tracking (and records it as slow
/// if it took long enough).
pub struct Ticket<'a> {
    queries: &'a Queries,
    id: Option<u64>,
    /// The query's `errorNum`, or 0 when it succeeded.
    exit_code: i64,
    pub kill: Arc<AtomicBool>,
}

impl Ticket<'_> {
    /// Ends tracking with the query's outcome: its `errorNum`, or 0.
    pub fn finish(mut self, exit_code: i64) {
        self.exit_code = exit_code;
    }
}

impl Queries {
    /// Tracks a query from now until the ticket is dropped.
    pub fn start(&self, db: &str, user: Option<&str>, query: &str, binds: &Map<String, Value>) -> Ticket<'_> {
        let kill = Arc::new(AtomicBool::new(false));
        let props = self.props.lock().clone();
        if !props.enabled {
            return Ticket { queries: self, id: None, exit_code: 0, kill };
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let text: String = match query.char_indices().nth(props.max_query_string_length as usize) {
            Some((cut, _)) => query[..cut].to_string(),
            None => query.to_string(),
        };
        let started_ms = crate::unix_now().as_millis() as i64;
        let entry = Running {
            db: db.to_string(),
            user: user.map(str::to_string),
            query: text,
            bind_vars: if props.track_bind_vars { Value::Object(binds.clone()) } else { json!({}) },
            started_ms,
            started: Instant::now(),
            kill: kill.clone(),
        };
        self.running.lock().insert(id, entry);
        Ticket { queries: self, id: Some(id), exit_code: 0, kill }
    }

    fn finish(&self, id: u64, exit_code: i64) {
        let Some(entry) = self.running.lock().remove(&id) else { return };
        let props = self.props.lock().clone();
        if !props.enabled || !props.track_slow_queries || entry.started.elapsed().as_secs_f64() < props.slow_query_threshold {
            return;
        }
        let mut slow = self.slow.lock();
        let mut finished = entry.to_json(id, "finished");
        finished["exitCode"] = json!(exit_code);
        slow.push_back((entry.db.clone(), finished));
        while slow.len() as u64 > props.max_slow_queries {
            slow.pop_front();
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.queries.finish(id, self.exit_code);
        }
    }
}

/// Which database's queries a request means: its own, or with `all=true` (administrators in
/// `_system` only) every database's, as `None`.
fn scope<'r>(ctx: &Ctx, req: &'r Req) -> Result<Option<&'r str>> {
    if req.flag("all") != Some(true) {
        return Ok(Some(&req.db));
    }
    if req.db != crate::access::SYSTEM || !api::is_admin(ctx, req) {
        return Err(err!(ERROR_FORBIDDEN, "all=true is only allowed for administrators in the _system database"));
    }
    Ok(None)
}

/// `GET /_api/query/current`: the database's running queries.
pub fn current(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = scope(ctx, req)?;
    let running = ctx.queries.running.lock();
    let mut list: Vec<(&u64, &Running)> = running.iter().filter(|(_, r)| db.is_none_or(|d| r.db == d)).collect();
    list.sort_by_key(|(id, _)| **id);
    let out: Vec<Value> = list.into_iter().map(|(id, r)| r.to_json(*id, "executing")).collect();
    Ok(Resp::json(200, &Value::Array(out)))
}

/// `GET /_api/query/slow`: the database's finished slow queries, oldest first.
pub fn slow(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = scope(ctx, req)?;
    let slow = ctx.queries.slow.lock();
    let out: Vec<Value> = slow.iter().filter(|(d, _)| db.is_none_or(|db| d == db)).map(|(_, q)| q.clone()).collect();
    Ok(Resp::json(200, &Value::Array(out)))
}

/// `DELETE /_api/query/slow`: forgets the database's slow queries.
pub fn clear_slow(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = scope(ctx, req)?;
    ctx.queries.slow.lock().retain(|(d, _)| db.is_some_and(|db| d != db));
    Ok(Resp::ok(200, Map::new()))
}

/// `GET /_api/query/properties`.
pub fn properties(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::ok(200, ctx.queries.props.lock().to_json()))
}

/// `PUT /_api/query/properties`: changes the tracking settings given, answers with all.
pub fn set_properties(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json()?;
    let mut props = ctx.queries.props.lock();
    props.update(&body)?;
    Ok(Resp::ok(200, props.to_json()))
}

/// `DELETE /_api/query/<id>`: asks a running query of this database to stop; it ends with
/// `ERROR_QUERY_KILLED` at its next check (every 1024 rows).
pub fn kill(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let not_found = || err!(ERROR_QUERY_NOT_FOUND, "query ID not found");
    let db = scope(ctx, req)?;
    let id: u64 = req.param(0).parse().map_err(|_| not_found())?;
    let running = ctx.queries.running.lock();
    match running.get(&id) {
        Some(r) if db.is_none_or(|d| r.db == d) => {
            r.kill.store(true, Ordering::Relaxed);
            Ok(Resp::ok(200, Map::new()))
        }
        _ => Err(not_found()),
    }
}
