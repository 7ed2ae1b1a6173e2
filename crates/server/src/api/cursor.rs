//! `/_api/cursor`: runs AQL queries and hands their results out in batches.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use errors::{err, Result, ERROR_CURSOR_NOT_FOUND, ERROR_FORBIDDEN, ERROR_HTTP_BAD_PARAMETER, ERROR_QUERY_EMPTY, ERROR_RESOURCE_LIMIT};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};

use crate::access::Level;
use crate::api;
use crate::api::query_cache;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// Results per batch unless `batchSize` says otherwise (ArangoDB's default).
const BATCH_SIZE_DEFAULT: usize = 1000;
/// Seconds an idle cursor lives unless `ttl` says otherwise (ArangoDB's default).
const TTL_S_DEFAULT: f64 = 30.0;
/// Longest ttl accepted.
const TTL_S_MAX: f64 = 24.0 * 3600.0;
/// Open cursors at most; past this, new queries with more results than one batch are refused.
pub const CURSORS_MAX: usize = 10_000;

/// An open cursor: the results not handed out yet.
pub struct Cursor {
    db: String,
    user: Option<String>,
    rest: VecDeque<Json>,
    batch_size: usize,
    ttl: Duration,
    expires: Instant,
    count: Option<usize>,
    extra: Value,
    /// The last batch's id, and the batch itself when `allowRetry` asked for retries
    /// (`POST /_api/cursor/<id>/<batchId>`).
    last_batch: (u64, Vec<Json>),
    allow_retry: bool,
    /// The results came from the query results cache.
    cached: bool,
    /// With `stream`: where the query, still running on a thread of its own, hands its
    /// results over as batches are asked for.
    stream: Option<Stream>,
}

/// A streaming query's side of its cursor.
struct Stream {
    rx: std::sync::mpsc::Receiver<Streamed>,
    /// The query's memoryLimit, which one batch may not pass.
    bytes_max: usize,
}

/// What a streaming query hands its cursor: results, then how it ended (the cursor's `extra`).
enum Streamed {
    Row(Json),
    Done(Result<Value>),
}

/// Streaming cursors whose queries run at once; past this, a `stream` query runs to the end
/// before its first batch, as other queries do.
const STREAMS_MAX: usize = 64;

/// Streaming queries running now.
static STREAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[derive(Default)]
pub struct Cursors {
    open: Mutex<HashMap<u64, Cursor>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Cursors {
    pub fn open_count(&self) -> usize {
        self.open.lock().len()
    }

    fn sweep(open: &mut HashMap<u64, Cursor>) {
        let now = Instant::now();
        open.retain(|_, c| c.expires > now);
    }
}

fn extra_json(out: &query::Outcome) -> Value {
    let s = &out.stats;
    let mut stats = json!({
        "writesExecuted": s.writes_executed,
        "writesIgnored": s.writes_ignored,
        "scannedFull": s.scanned_full,
        "scannedIndex": s.scanned_index,
        "filtered": s.filtered,
        "httpRequests": 0,
        "executionTime": out.execution_time_s,
        "peakMemoryUsage": 0,
    });
    if let Some(fc) = s.full_count {
        stats["fullCount"] = json!(fc);
    }
    json!({"stats": stats, "warnings": out.warnings})
}

/// A query from a request body (`query`, `bindVars`, `options`), parsed, with the caller's
/// access to its collections checked: what `/_api/cursor` and `/_api/explain` start from.
pub struct Prepared {
    pub db: std::sync::Arc<docstore::Database>,
    pub text: String,
    pub binds: Map<String, Value>,
    pub parsed: Arc<aql::query::Query>,
    pub options: Value,
    pub opts: query::Options,
    /// The collections the query reads and those it writes.
    pub reads: Vec<String>,
    pub writes: Vec<String>,
}

pub fn prepare(ctx: &Ctx, req: &Req, body: &Value) -> Result<Prepared> {
    let db = api::database(ctx, req)?;
    let text = match body.get("query") {
        Some(Value::String(q)) if !q.trim().is_empty() => q.clone(),
        Some(Value::String(_)) => return Err(err!(ERROR_QUERY_EMPTY, "query is empty")),
        _ => return Err(err!(ERROR_QUERY_EMPTY, "expecting a query string in 'query'")),
    };
    let binds: Map<String, Value> = match body.get("bindVars") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(err!(errors::ERROR_QUERY_BIND_PARAMETERS_INVALID, "bindVars must be an object")),
    };
    let options = body.get("options").cloned().unwrap_or(json!({}));
    // `usePlanCache`: the parsed query is kept and reused for the same text.
    let parsed = if options["usePlanCache"] == true {
        ctx.query_cache.plan(db.name(), &text, &binds, || query::parse(&text))?
    } else {
        Arc::new(query::parse(&text)?)
    };
    let mut opts = query::Options { full_count: options["fullCount"] == true, user: req.user.clone(), ..query::Options::default() };
    // The caller needs read access to every collection the query reads, write to those it
    // writes; collections named only at run time (DOCUMENT) are checked when read.
    let (reads, writes) = query::collections_used(&parsed, &binds);
    if let Some(grants) = api::caller_grants(ctx, req) {
        for (names, level) in [(&reads, Level::Ro), (&writes, Level::Rw)] {
            if names.iter().any(|c| grants.collection(db.name(), c) < level) {
                return Err(err!(ERROR_FORBIDDEN, "forbidden: no access to a collection the query uses"));
            }
        }
        let database = db.name().to_string();
        opts.can_read = Some(Arc::new(move |c: &str| grants.collection(&database, c) >= Level::Ro));
    }
    if let Some(rules) = options["optimizer"]["rules"].as_array() {
        opts.optimizer_rules = rules.iter().filter_map(Value::as_str).map(str::to_string).collect();
    }
    opts.fail_on_warning = options["failOnWarning"] == true;
    if let Some(n) = options.get("maxWarningCount").and_then(Value::as_u64) {
        opts.max_warning_count = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(t) = options.get("maxRuntime").and_then(Value::as_f64).filter(|t| *t > 0.0) {
        opts.max_runtime = Some(Duration::from_secs_f64(t.min(TTL_S_MAX)));
    }
    if let Some(m) = body.get("memoryLimit").and_then(Value::as_u64).filter(|m| *m > 0) {
        opts.memory_limit_bytes = (m as usize).min(query::MEMORY_LIMIT_BYTES_DEFAULT);
    }
    Ok(Prepared { db, text, binds, parsed, options, opts, reads, writes })
}

/// `POST /_api/cursor`.
pub fn create(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let started = Instant::now();
    let body = req.json()?;
    let parsing = Instant::now();
    let Prepared { db, text, binds, parsed, options, mut opts, reads, writes } = prepare(ctx, req, &body)?;
    let parsed_at = Instant::now();
    opts.profile = match &options["profile"] {
        Value::Bool(true) => 1,
        v => v.as_u64().unwrap_or(0).min(2) as u8,
    };
    // With `profile` 2 the plan comes along, and each of its nodes is counted.
    let plan = if opts.profile >= 2 { Some(query::explain(&ctx.store, &db, &text, &parsed, &binds, &opts)?) } else { None };
    let planned_at = Instant::now();
    let batch_size = match body.get("batchSize") {
        None | Some(Value::Null) => BATCH_SIZE_DEFAULT,
        Some(v) => v.as_u64().filter(|n| *n > 0).map(|n| n as usize).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "batchSize must be a positive number"))?,
    };
    let ttl = body.get("ttl").and_then(Value::as_f64).filter(|t| *t > 0.0).unwrap_or(TTL_S_DEFAULT).min(TTL_S_MAX);
    // The results cache serves read-only queries whose collections have not changed since.
    let cacheable = writes.is_empty() && opts.profile == 0 && !opts.full_count && ctx.query_cache.wanted(&body, &options, &text, &reads);
    let fingerprint = if cacheable { query_cache::fingerprint(ctx, &db, &reads) } else { None };
    // `stream`: the query runs on a thread of its own, handing results over as batches are
    // asked for, so it holds only about a batch of them.
    if options["stream"] == true && opts.profile == 0 {
        if let Some(stream) = start_stream(ctx, req, &db, &text, &parsed, &binds, &opts, started, batch_size, ttl) {
            let stream = Some(Stream { rx: stream, bytes_max: opts.memory_limit_bytes });
            return answer(ctx, Cursor { stream, ..Cursor::new(req, batch_size, ttl, &options) }, None, 201);
        }
    }
    let mut cached = false;
    // Results are kept as JSON text from the moment they are made: much smaller than values.
    let mut results: Vec<Json> = Vec::new();
    let out = match fingerprint.as_ref().and_then(|f| ctx.query_cache.lookup(db.name(), &text, &binds, f)) {
        Some(hit) => {
            cached = true;
            results = hit.to_vec();
            query::Outcome::cached(started.elapsed().as_secs_f64())
        }
        None => {
            let ticket = ctx.queries.start(db.name(), req.user.as_deref(), &text, &binds);
            opts.kill = Some(ticket.kill.clone());
            let out = query::execute_into(&ctx.store, &db, &text, &parsed, &binds, &opts, started, &mut |v| {
                let json = serde_json::value::to_raw_value(&v).map_err(|e| err!(errors::ERROR_INTERNAL, "cannot write a result: {e}"))?;
                let bytes = json.get().len();
                results.push(json);
                Ok(bytes)
            });
            ticket.finish(out.as_ref().err().map_or(0, |e| i64::from(e.code.0)));
            let out = out?;
            if let Some(f) = fingerprint {
                if out.warnings.is_empty() {
                    ctx.query_cache.store(db.name(), &text, &binds, &results, out.execution_time_s, f);
                }
            }
            out
        }
    };
    let count = (body["count"] == true).then_some(results.len());
    let mut extra = extra_json(&out);
    if opts.profile >= 1 {
        let executed_at = Instant::now();
        let secs = |a: Instant, b: Instant| b.duration_since(a).as_secs_f64();
        extra["profile"] = json!({
            "initializing": secs(started, parsing),
            "parsing": secs(parsing, parsed_at),
            "optimizing ast": 0.0,
            "loading collections": 0.0,
            "instantiating plan": secs(parsed_at, planned_at),
            "optimizing plan": 0.0,
            "instantiating executors": 0.0,
            "executing": secs(planned_at, executed_at),
            "finalizing": secs(executed_at, Instant::now()),
        });
    }
    if let Some(plan) = &plan {
        extra["stats"]["nodes"] = json!(plan.node_stats(&out.op_profile));
        extra["plan"] = plan.to_json();
    }
    let cursor = Cursor { rest: results.into(), count, extra, cached, ..Cursor::new(req, batch_size, ttl, &options) };
    answer(ctx, cursor, None, 201)
}

/// Starts a streaming query on a thread of its own; `None` when too many run already (or no
/// thread can be started): then it runs as any other query.
#[allow(clippy::too_many_arguments)]
fn start_stream(
    ctx: &Ctx,
    req: &Req,
    db: &Arc<docstore::Database>,
    text: &str,
    parsed: &Arc<aql::query::Query>,
    binds: &Map<String, Value>,
    opts: &query::Options,
    started: Instant,
    batch_size: usize,
    ttl: f64,
) -> Option<std::sync::mpsc::Receiver<Streamed>> {
    use std::sync::atomic::Ordering;
    let ctx = ctx.me.upgrade()?;
    if STREAMS.fetch_add(1, Ordering::Relaxed) >= STREAMS_MAX {
        STREAMS.fetch_sub(1, Ordering::Relaxed);
        return None;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(batch_size.min(100_000));
    let (db, text, parsed, binds, mut opts, user) = (db.clone(), text.to_string(), parsed.clone(), binds.clone(), opts.clone(), req.user.clone());
    // The cursor itself expires after its ttl; this only keeps a query whose cursor is not
    // swept yet from waiting much longer.
    let idle_max = Duration::from_secs_f64(ttl * 2.0 + 1.0);
    let spawned = std::thread::Builder::new().name("rango-stream".into()).stack_size(query::STACK_BYTES).spawn(move || {
        let _counted = StreamCounted;
        let ticket = ctx.queries.start(db.name(), user.as_deref(), &text, &binds);
        let kill = ticket.kill.clone();
        opts.kill = Some(kill.clone());
        let out = query::execute_into(&ctx.store, &db, &text, &parsed, &binds, &opts, started, &mut |v| {
            let json = serde_json::value::to_raw_value(&v).map_err(|e| err!(errors::ERROR_INTERNAL, "cannot write a result: {e}"))?;
            hand_over(&tx, Streamed::Row(json), idle_max, &kill)?;
            // Handed over, not kept: it does not count toward memoryLimit.
            Ok(0)
        });
        ticket.finish(out.as_ref().err().map_or(0, |e| i64::from(e.code.0)));
        let _ = hand_over(&tx, Streamed::Done(out.map(|o| extra_json(&o))), idle_max, &kill);
    });
    match spawned {
        Ok(_) => Some(rx),
        Err(_) => {
            STREAMS.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }
}

/// Counts a streaming query out when its thread ends, however it ends.
struct StreamCounted;

impl Drop for StreamCounted {
    fn drop(&mut self) {
        STREAMS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Hands one message to a streaming cursor, waiting while it holds a batch nobody asked for
/// yet. Fails when the cursor is gone (deleted, or swept after its ttl), or when nobody asked
/// for a batch within the ttl: the query then ends, its writes taken back.
fn hand_over(tx: &std::sync::mpsc::SyncSender<Streamed>, mut msg: Streamed, idle_max: Duration, kill: &std::sync::atomic::AtomicBool) -> Result<()> {
    let mut waiting_since = None;
    let mut pause = Duration::from_micros(100);
    loop {
        match tx.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(err!(errors::ERROR_QUERY_KILLED, "query killed: its cursor was deleted or expired")),
            Err(std::sync::mpsc::TrySendError::Full(m)) => {
                msg = m;
                if kill.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(err!(errors::ERROR_QUERY_KILLED, "query killed"));
                }
                if waiting_since.get_or_insert_with(Instant::now).elapsed() > idle_max {
                    return Err(err!(errors::ERROR_QUERY_KILLED, "query killed: its cursor was not read within its ttl"));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
    }
}

/// Takes results from a streaming query until the cursor holds one more than a batch (so it
/// knows whether more follow) or the query has ended.
fn fill(c: &mut Cursor) -> Result<()> {
    let Some(stream) = c.stream.take() else { return Ok(()) };
    let mut bytes: usize = c.rest.iter().map(|j| j.get().len()).sum();
    while c.rest.len() <= c.batch_size {
        match stream.rx.recv() {
            Ok(Streamed::Row(json)) => {
                bytes += json.get().len();
                if bytes > stream.bytes_max {
                    return Err(err!(ERROR_RESOURCE_LIMIT, "a batch of this streaming query would use more than {} bytes of memory (memoryLimit); ask for smaller batches", stream.bytes_max));
                }
                c.rest.push_back(json);
            }
            Ok(Streamed::Done(Ok(extra))) => {
                c.extra = extra;
                return Ok(());
            }
            Ok(Streamed::Done(Err(e))) => return Err(e),
            Err(_) => return Err(err!(errors::ERROR_INTERNAL, "the streaming query ended without an answer")),
        }
    }
    c.stream = Some(stream);
    Ok(())
}

impl Cursor {
    /// A cursor for the caller of `req`, with nothing in it yet.
    fn new(req: &Req, batch_size: usize, ttl: f64, options: &Value) -> Cursor {
        Cursor {
            db: req.db.clone(),
            user: req.user.clone(),
            rest: VecDeque::new(),
            batch_size,
            ttl: Duration::from_secs_f64(ttl),
            expires: Instant::now(),
            count: None,
            extra: json!({"warnings": []}),
            last_batch: (0, Vec::new()),
            allow_retry: options["allowRetry"] == true,
            cached: false,
            stream: None,
        }
    }

    /// The fields every answer for this cursor has besides `result` and its ids.
    fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("hasMore".into(), json!(!self.rest.is_empty()));
        if let Some(n) = self.count {
            m.insert("count".into(), json!(n));
        }
        m.insert("extra".into(), self.extra.clone());
        m.insert("cached".into(), json!(self.cached));
        m
    }
}

/// A query result as JSON text.
pub type Json = Box<serde_json::value::RawValue>;

/// A cursor answer: `result` (JSON texts) next to the other fields.
fn batch_body(status: u16, result: &[Json], mut fields: Map<String, Value>) -> Resp {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        result: &'a [Json],
        #[serde(flatten)]
        fields: &'a Map<String, Value>,
    }
    fields.insert("error".into(), json!(false));
    fields.insert("code".into(), json!(status));
    Resp::raw_json(status, serde_json::to_vec(&Body { result, fields: &fields }).unwrap_or_default())
}

/// Hands out the next batch; keeps the cursor if more remain.
fn answer(ctx: &Ctx, mut c: Cursor, id: Option<u64>, status: u16) -> Result<Resp> {
    fill(&mut c)?;
    let batch: Vec<Json> = c.rest.drain(..c.batch_size.min(c.rest.len())).collect();
    let has_more = !c.rest.is_empty();
    let mut m = c.fields();
    if has_more {
        let mut open = ctx.cursors.open.lock();
        Cursors::sweep(&mut open);
        let id = match id {
            Some(id) => id,
            None => {
                if open.len() >= CURSORS_MAX {
                    return Err(err!(ERROR_RESOURCE_LIMIT, "too many open cursors ({CURSORS_MAX}); read or delete some"));
                }
                ctx.cursors.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
            }
        };
        let batch_id = c.last_batch.0 + 1;
        m.insert("id".into(), json!(id.to_string()));
        m.insert("nextBatchId".into(), json!((batch_id + 1).to_string()));
        let resp = batch_body(status, &batch, m);
        c.last_batch = (batch_id, if c.allow_retry { batch } else { Vec::new() });
        c.expires = Instant::now() + c.ttl;
        open.insert(id, c);
        return Ok(resp);
    } else if let Some(id) = id {
        m.insert("id".into(), json!(id.to_string()));
    }
    Ok(batch_body(status, &batch, m))
}

fn take(ctx: &Ctx, req: &Req) -> Result<(u64, Cursor)> {
    let id: u64 = req.param(0).parse().map_err(|_| err!(ERROR_CURSOR_NOT_FOUND, "cursor not found"))?;
    let mut open = ctx.cursors.open.lock();
    Cursors::sweep(&mut open);
    match open.remove(&id) {
        // A cursor belongs to the database and user that opened it.
        Some(c) if c.db == req.db && c.user == req.user => Ok((id, c)),
        Some(c) => {
            open.insert(id, c);
            Err(err!(ERROR_CURSOR_NOT_FOUND, "cursor not found"))
        }
        None => Err(err!(ERROR_CURSOR_NOT_FOUND, "cursor not found")),
    }
}

/// `PUT|POST /_api/cursor/<id>`: the next batch.
pub fn next(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (id, c) = take(ctx, req)?;
    answer(ctx, c, Some(id), 200)
}

/// `POST /_api/cursor/<id>/<batchId>`: the next batch, or the last one again (a retry after
/// a lost answer).
pub fn batch(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let wanted: u64 = req.param(1).parse().map_err(|_| err!(ERROR_HTTP_BAD_PARAMETER, "invalid batch id"))?;
    let (id, c) = take(ctx, req)?;
    let last = c.last_batch.0;
    if wanted == last + 1 {
        return answer(ctx, c, Some(id), 200);
    }
    if wanted != last || !c.allow_retry {
        ctx.cursors.open.lock().insert(id, c);
        return Err(if wanted == last {
            err!(ERROR_HTTP_BAD_PARAMETER, "batch {wanted} was already sent; fetching it again needs the query option allowRetry")
        } else {
            err!(ERROR_HTTP_BAD_PARAMETER, "batch {wanted} is neither the last batch ({last}) nor the next")
        });
    }
    let mut m = c.fields();
    m.insert("id".into(), json!(id.to_string()));
    m.insert("nextBatchId".into(), json!((last + 1).to_string()));
    let resp = batch_body(200, &c.last_batch.1, m);
    ctx.cursors.open.lock().insert(id, c);
    Ok(resp)
}

/// `DELETE /_api/cursor/<id>`.
pub fn delete(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (id, _) = take(ctx, req)?;
    let mut m = Map::new();
    m.insert("id".into(), json!(id.to_string()));
    Ok(Resp::ok(202, m))
}
