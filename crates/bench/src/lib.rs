//! `rango bench`: arangobench's load shapes against any server speaking ArangoDB's HTTP API
//! (Rango or ArangoDB), plus a plain `http` case for request floors of other servers.
//! Threads with their own connections, a fixed request count or a duration, latency
//! percentiles, JSON reports.

pub mod client;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};

use client::{Client, ClientError};

/// Documents per request when a case prepares data.
const SETUP_BATCH_DOCUMENTS: u64 = 10_000;
/// Longest a single run may last, whatever `--duration` says.
pub const RUN_DURATION_MAX_S: u64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Case {
    /// `GET /_api/version`: the HTTP floor.
    Version,
    /// Single-document inserts.
    Document,
    /// Single-document reads of existing documents.
    DocumentRead,
    /// Single-document partial updates.
    DocumentUpdate,
    /// Single-document removes.
    DocumentRemove,
    /// `POST /_api/import` with `--batch-size` documents a request.
    ImportDocument,
    /// One `INSERT` per AQL query.
    AqlInsert,
    /// Per key: insert, get, update, get, remove (20/40/20/20 %).
    Crud,
    /// Per key: insert, get, update, get (25/50/25 %).
    CrudAppend,
    /// Per key: insert, get (50/50 %).
    CrudWriteRead,
    /// The crud-append mix on edges.
    EdgeCrud,
    /// The crud-append mix on a collection with a persistent index on `value`.
    PersistentIndex,
    /// Each request creates a collection (all dropped afterwards).
    Collection,
    /// `--custom-query` with `--custom-query-bindvars`, through `/_api/cursor`.
    CustomQuery,
    /// A fixed request (`--http-method`, `--http-path`, `--http-body`) to any HTTP server.
    Http,
}

impl Case {
    pub const ALL: [(&'static str, Case); 15] = [
        ("version", Case::Version),
        ("document", Case::Document),
        ("document-read", Case::DocumentRead),
        ("document-update", Case::DocumentUpdate),
        ("document-remove", Case::DocumentRemove),
        ("import-document", Case::ImportDocument),
        ("aqlinsert", Case::AqlInsert),
        ("crud", Case::Crud),
        ("crud-append", Case::CrudAppend),
        ("crud-write-read", Case::CrudWriteRead),
        ("edge-crud", Case::EdgeCrud),
        ("persistent-index", Case::PersistentIndex),
        ("collection", Case::Collection),
        ("custom-query", Case::CustomQuery),
        ("http", Case::Http),
    ];

    pub fn parse(s: &str) -> Option<Case> {
        Case::ALL.iter().find(|(n, _)| *n == s).map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        Case::ALL.iter().find(|(_, c)| *c == self).map_or("?", |(n, _)| n)
    }

    /// Requests made on one key, in order (the mixes).
    fn ops_per_key(self) -> u64 {
        match self {
            Case::Crud => 5,
            Case::CrudAppend | Case::EdgeCrud | Case::PersistentIndex => 4,
            Case::CrudWriteRead => 2,
            _ => 1,
        }
    }

    fn needs_documents(self) -> bool {
        matches!(self, Case::DocumentRead | Case::DocumentUpdate | Case::DocumentRemove)
    }

    fn uses_collection(self) -> bool {
        !matches!(self, Case::Version | Case::Http | Case::CustomQuery | Case::Collection)
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// `host:port`.
    pub address: String,
    pub database: String,
    pub username: String,
    pub password: String,
    pub threads: usize,
    pub requests: u64,
    /// Run for this long instead of a fixed count (requests then only sizes prepared data).
    pub duration: Option<Duration>,
    pub batch_size: u64,
    pub collection: String,
    pub wait_for_sync: bool,
    pub number_of_shards: u64,
    pub replication_factor: u64,
    pub keep_alive: bool,
    /// Extra bytes of payload per document (documents are about 60 + this many bytes).
    pub complexity: usize,
    pub custom_query: Option<String>,
    pub custom_query_bindvars: Value,
    pub http_method: String,
    pub http_path: String,
    pub http_body: String,
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            address: "127.0.0.1:8529".into(),
            database: "_system".into(),
            username: "root".into(),
            password: String::new(),
            threads: 1,
            requests: 1000,
            duration: None,
            batch_size: 1000,
            collection: "ArangoBenchmark".into(),
            wait_for_sync: false,
            number_of_shards: 1,
            replication_factor: 1,
            keep_alive: true,
            complexity: 40,
            custom_query: None,
            custom_query_bindvars: json!({}),
            http_method: "GET".into(),
            http_path: "/".into(),
            http_body: String::new(),
            progress: false,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub case: Case,
    pub threads: usize,
    pub requests: u64,
    pub errors: u64,
    pub documents: u64,
    pub seconds: f64,
    pub requests_per_s: f64,
    pub documents_per_s: f64,
    /// Latency percentiles in milliseconds: 50, 80, 85, 90, 95, 99.
    pub latency_ms: Value,
    /// How many failures of each kind, such as `HTTP 409` or `connection refused`.
    pub error_kinds: Value,
    /// The first error seen, to say what went wrong.
    pub first_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("setup failed: {0}")]
    Setup(String),
    #[error("bad options: {0}")]
    Options(String),
}

fn document(i: u64, complexity: usize) -> Value {
    json!({"_key": format!("k{i}"), "value": i, "name": format!("name-{i}"), "payload": "x".repeat(complexity)})
}

fn edge(i: u64, complexity: usize, col: &str) -> Value {
    let mut d = document(i, complexity);
    d["_from"] = json!(format!("{col}/v{i}"));
    d["_to"] = json!(format!("{col}/v{}", i + 1));
    d
}

impl Options {
    fn auth(&self) -> String {
        if self.username.is_empty() {
            return String::new();
        }
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.username, self.password));
        format!("Basic {token}")
    }

    fn db_path(&self, rest: &str) -> String {
        format!("/_db/{}{rest}", self.database)
    }

    fn client(&self) -> Client {
        Client::new(&self.address, &self.auth()).with_keep_alive(self.keep_alive)
    }

    fn check(&self, case: Case) -> Result<(), BenchError> {
        if self.threads == 0 || self.threads > 1024 {
            return Err(BenchError::Options("--threads must be between 1 and 1024".into()));
        }
        if self.requests == 0 {
            return Err(BenchError::Options("--requests must be at least 1".into()));
        }
        if case == Case::CustomQuery && self.custom_query.as_deref().is_none_or(str::is_empty) {
            return Err(BenchError::Options("custom-query needs --custom-query or --custom-query-file".into()));
        }
        if !self.custom_query_bindvars.is_object() {
            return Err(BenchError::Options("--custom-query-bindvars must be a JSON object".into()));
        }
        if self.duration.is_some_and(|d| d.as_secs() > RUN_DURATION_MAX_S) {
            return Err(BenchError::Options(format!("--duration may be at most {RUN_DURATION_MAX_S} seconds")));
        }
        Ok(())
    }
}

/// Expects a 2xx answer during setup.
fn expect_ok(r: client::Response, what: &str) -> Result<(), BenchError> {
    if r.status >= 300 {
        return Err(BenchError::Setup(format!("{what} answered HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body))));
    }
    Ok(())
}

/// Prepares the server for a case: a fresh collection (edge for edge-crud), an index, data.
fn setup(opts: &Options, case: Case) -> Result<(), BenchError> {
    if !case.uses_collection() {
        return Ok(());
    }
    let mut c = opts.client();
    c.request("DELETE", &opts.db_path(&format!("/_api/collection/{}", opts.collection)), b"")?;
    let body = json!({
        "name": opts.collection,
        "type": if case == Case::EdgeCrud { 3 } else { 2 },
        "waitForSync": opts.wait_for_sync,
        "numberOfShards": opts.number_of_shards,
        "replicationFactor": opts.replication_factor,
    });
    expect_ok(c.request("POST", &opts.db_path("/_api/collection"), body.to_string().as_bytes())?, "creating the collection")?;
    if case == Case::PersistentIndex {
        let index = json!({"type": "persistent", "fields": ["value"], "unique": false});
        let path = opts.db_path(&format!("/_api/index?collection={}", opts.collection));
        expect_ok(c.request("POST", &path, index.to_string().as_bytes())?, "creating the persistent index")?;
    }
    if case.needs_documents() {
        let mut i = 0;
        while i < opts.requests {
            let end = (i + SETUP_BATCH_DOCUMENTS).min(opts.requests);
            let docs: Vec<_> = (i..end).map(|k| document(k, opts.complexity)).collect();
            let path = opts.db_path(&format!("/_api/import?collection={}&type=list", opts.collection));
            expect_ok(c.request("POST", &path, serde_json::to_vec(&docs).unwrap_or_default().as_slice())?, "importing the documents")?;
            i = end;
        }
    }
    Ok(())
}

/// Drops what a case created that is not the benchmark collection.
fn teardown(opts: &Options, case: Case, made: u64) -> Result<(), BenchError> {
    if case == Case::Collection {
        let mut c = opts.client();
        for i in 0..made {
            c.request("DELETE", &opts.db_path(&format!("/_api/collection/{}{i}", opts.collection)), b"")?;
        }
    }
    Ok(())
}

/// One request: method, path, body, and how many documents it writes or reads.
fn request_for(opts: &Options, case: Case, i: u64) -> (String, String, Vec<u8>, u64) {
    let col = &opts.collection;
    let sync = if opts.wait_for_sync { "?waitForSync=true" } else { "" };
    let (key, op) = (i / case.ops_per_key(), i % case.ops_per_key());
    let doc_path = |k: u64| opts.db_path(&format!("/_api/document/{col}/k{k}{sync}"));
    let read_path = |k: u64| opts.db_path(&format!("/_api/document/{col}/k{k}"));
    let insert = |d: Value| ("POST".to_string(), opts.db_path(&format!("/_api/document/{col}{sync}")), d.to_string().into_bytes(), 1);
    let patch = |k: u64| ("PATCH".to_string(), doc_path(k), json!({"value": k + 1}).to_string().into_bytes(), 1);
    let get = |k: u64| ("GET".to_string(), read_path(k), Vec::new(), 1);
    match case {
        Case::Version => ("GET".into(), "/_api/version".into(), Vec::new(), 0),
        Case::Http => (opts.http_method.clone(), opts.http_path.clone(), opts.http_body.clone().into_bytes(), 0),
        Case::Document => insert(document(i, opts.complexity)),
        Case::DocumentRead => get(i % opts.requests),
        Case::DocumentUpdate => patch(i % opts.requests),
        Case::DocumentRemove => ("DELETE".into(), doc_path(i), Vec::new(), 1),
        Case::ImportDocument => {
            let docs: Vec<_> = (i * opts.batch_size..(i + 1) * opts.batch_size).map(|k| document(k, opts.complexity)).collect();
            let path = format!("/_api/import?collection={col}&type=list{}", if opts.wait_for_sync { "&waitForSync=true" } else { "" });
            ("POST".into(), opts.db_path(&path), serde_json::to_vec(&docs).unwrap_or_default(), opts.batch_size)
        }
        Case::AqlInsert => {
            let body = json!({"query": "INSERT @doc INTO @@col", "bindVars": {"doc": document(i, opts.complexity), "@col": col}});
            ("POST".into(), opts.db_path("/_api/cursor"), body.to_string().into_bytes(), 1)
        }
        Case::CustomQuery => {
            let body = json!({"query": opts.custom_query, "bindVars": opts.custom_query_bindvars});
            ("POST".into(), opts.db_path("/_api/cursor"), body.to_string().into_bytes(), 0)
        }
        Case::Collection => {
            let body = json!({"name": format!("{col}{i}"), "numberOfShards": opts.number_of_shards, "replicationFactor": opts.replication_factor});
            ("POST".into(), opts.db_path("/_api/collection"), body.to_string().into_bytes(), 0)
        }
        Case::Crud | Case::CrudAppend | Case::CrudWriteRead | Case::EdgeCrud | Case::PersistentIndex => match op {
            0 if case == Case::EdgeCrud => insert(edge(key, opts.complexity, col)),
            0 => insert(document(key, opts.complexity)),
            2 => patch(key),
            4 => ("DELETE".into(), doc_path(key), Vec::new(), 1),
            _ => get(key),
        },
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

/// What one load thread saw.
#[derive(Default)]
struct ThreadResult {
    latencies_us: Vec<u32>,
    documents: u64,
    requests: u64,
    errors: Vec<String>,
}

fn error_kind(e: &str) -> String {
    e.split(':').next().unwrap_or(e).to_string()
}

/// Runs one case: setup, the load, teardown. Requests of one key stay on one thread and in
/// order, so the mixes insert before they read.
pub fn run(opts: &Options, case: Case) -> Result<Report, BenchError> {
    opts.check(case)?;
    setup(opts, case)?;
    let threads = opts.threads;
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let per_key = case.ops_per_key();
    let total = if opts.duration.is_some() { u64::MAX } else { opts.requests };
    let start = Instant::now();
    let deadline = opts.duration.map(|d| start + d);
    let progress = opts.progress.then(|| spawn_progress(case, done.clone(), stop.clone(), opts.requests, opts.duration));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (opts, done) = (opts.clone(), done.clone());
            std::thread::spawn(move || {
                let mut client = opts.client();
                let mut r = ThreadResult::default();
                // Thread t owns keys k with k % threads == t.
                let mut key = t as u64;
                'keys: loop {
                    for op in 0..per_key {
                        let i = key * per_key + op;
                        if i >= total || deadline.is_some_and(|d| Instant::now() >= d) {
                            break 'keys;
                        }
                        let (method, path, body, n) = request_for(&opts, case, i);
                        let t0 = Instant::now();
                        let outcome = client.request(&method, &path, &body);
                        r.latencies_us.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        r.requests += 1;
                        match outcome {
                            Ok(resp) if resp.status < 300 => r.documents += n,
                            Ok(resp) => r.errors.push(format!("HTTP {}: {}", resp.status, String::from_utf8_lossy(&resp.body))),
                            Err(e) => r.errors.push(e.to_string()),
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    key += threads as u64;
                }
                r
            })
        })
        .collect();
    let mut all = ThreadResult::default();
    for w in workers {
        let r = w.join().map_err(|_| BenchError::Setup("a load thread panicked".into()))?;
        all.latencies_us.extend(r.latencies_us);
        all.documents += r.documents;
        all.requests += r.requests;
        all.errors.extend(r.errors);
    }
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    if let Some(p) = progress {
        let _ = p.join();
    }
    teardown(opts, case, all.requests)?;
    all.latencies_us.sort_unstable();
    let pct = |p| percentile(&all.latencies_us, p);
    let mut kinds = serde_json::Map::new();
    for e in &all.errors {
        let entry = kinds.entry(error_kind(e)).or_insert(json!(0));
        *entry = json!(entry.as_u64().unwrap_or(0) + 1);
    }
    Ok(Report {
        case,
        threads,
        requests: all.requests,
        errors: all.errors.len() as u64,
        documents: all.documents,
        seconds,
        requests_per_s: all.requests as f64 / seconds,
        documents_per_s: all.documents as f64 / seconds,
        latency_ms: json!({"50": pct(50.0), "80": pct(80.0), "85": pct(85.0), "90": pct(90.0), "95": pct(95.0), "99": pct(99.0)}),
        error_kinds: Value::Object(kinds),
        first_error: all.errors.first().cloned(),
    })
}

/// A progress bar on standard error, redrawn four times a second.
fn spawn_progress(case: Case, done: Arc<AtomicU64>, stop: Arc<AtomicBool>, total: u64, duration: Option<Duration>) -> std::thread::JoinHandle<()> {
    let start = Instant::now();
    std::thread::spawn(move || {
        let draw = |final_line: bool| {
            let d = done.load(Ordering::Relaxed);
            let fraction = match duration {
                Some(limit) => start.elapsed().as_secs_f64() / limit.as_secs_f64().max(0.001),
                None => d as f64 / total.max(1) as f64,
            };
            let filled = ((fraction.min(1.0) * 30.0) as usize).min(30);
            let rate = d as f64 / start.elapsed().as_secs_f64().max(0.001);
            eprint!("\r  {:<16} [{:<30}] {d} requests, {rate:.0}/s{}", case.name(), "#".repeat(filled), if final_line { "\n" } else { "" });
        };
        while !stop.load(Ordering::Relaxed) {
            draw(false);
            std::thread::sleep(Duration::from_millis(250));
        }
        draw(true);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_follow_arangobench_proportions() {
        let opts = Options::default();
        let methods = |case: Case, n: u64| -> Vec<String> { (0..n).map(|i| request_for(&opts, case, i).0).collect() };
        assert_eq!(methods(Case::Crud, 5), ["POST", "GET", "PATCH", "GET", "DELETE"]);
        assert_eq!(methods(Case::CrudAppend, 4), ["POST", "GET", "PATCH", "GET"]);
        assert_eq!(methods(Case::CrudWriteRead, 4), ["POST", "GET", "POST", "GET"]);
        let (_, path, body, _) = request_for(&opts, Case::EdgeCrud, 0);
        assert!(path.ends_with("/_api/document/ArangoBenchmark"));
        assert!(String::from_utf8(body).unwrap().contains("\"_from\""));
        // Every key of a mix is touched by the same key index.
        let (_, p1, _, _) = request_for(&opts, Case::Crud, 7);
        assert!(p1.ends_with("/k1"));
    }

    #[test]
    fn bad_options_are_refused() {
        let mut o = Options { threads: 0, ..Options::default() };
        assert!(matches!(o.check(Case::Version), Err(BenchError::Options(_))));
        o.threads = 1;
        assert!(matches!(o.check(Case::CustomQuery), Err(BenchError::Options(_))));
        o.custom_query = Some("RETURN 1".into());
        o.custom_query_bindvars = json!([1]);
        assert!(matches!(o.check(Case::CustomQuery), Err(BenchError::Options(_))));
    }

    #[test]
    fn percentiles() {
        let v: Vec<u32> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
