//! `rango bench`: arangobench's load shapes against any server speaking ArangoDB's HTTP API
//! (Rango or ArangoDB). Keep-alive clients on threads, fixed request counts, latency
//! percentiles, JSON output.

pub mod client;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
use serde_json::json;

use client::{Client, ClientError};

/// Documents per request when a case prepares data.
const SETUP_BATCH_DOCUMENTS: u64 = 10_000;

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
}

impl Case {
    pub const ALL: [(&'static str, Case); 6] = [
        ("version", Case::Version),
        ("document", Case::Document),
        ("document-read", Case::DocumentRead),
        ("document-update", Case::DocumentUpdate),
        ("document-remove", Case::DocumentRemove),
        ("import-document", Case::ImportDocument),
    ];

    pub fn parse(s: &str) -> Option<Case> {
        Case::ALL.iter().find(|(n, _)| *n == s).map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        Case::ALL.iter().find(|(_, c)| *c == self).map_or("?", |(n, _)| n)
    }

    fn needs_documents(self) -> bool {
        matches!(self, Case::DocumentRead | Case::DocumentUpdate | Case::DocumentRemove)
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
    pub batch_size: u64,
    pub collection: String,
    pub wait_for_sync: bool,
    /// Extra bytes of payload per document (documents are about 60 + this many bytes).
    pub complexity: usize,
    pub progress: bool,
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
    pub latency_ms: serde_json::Value,
    /// The first error seen, to say what went wrong.
    pub first_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("setup failed: {0}")]
    Setup(String),
}

fn document(i: u64, complexity: usize) -> serde_json::Value {
    json!({"_key": format!("k{i}"), "value": i, "name": format!("name-{i}"), "payload": "x".repeat(complexity)})
}

impl Options {
    fn auth(&self) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.username, self.password));
        format!("Basic {token}")
    }

    fn db_path(&self, rest: &str) -> String {
        format!("/_db/{}{rest}", self.database)
    }
}

/// Drops and recreates the collection, and fills it when the case reads existing documents.
fn setup(opts: &Options, case: Case) -> Result<(), BenchError> {
    let mut c = Client::new(&opts.address, &opts.auth());
    if case == Case::Version {
        return Ok(());
    }
    c.request("DELETE", &opts.db_path(&format!("/_api/collection/{}", opts.collection)), b"")?;
    let body = json!({"name": opts.collection, "waitForSync": opts.wait_for_sync}).to_string();
    let r = c.request("POST", &opts.db_path("/_api/collection"), body.as_bytes())?;
    if r.status != 200 {
        return Err(BenchError::Setup(format!("creating collection answered {}: {}", r.status, String::from_utf8_lossy(&r.body))));
    }
    if case.needs_documents() {
        let mut i = 0;
        while i < opts.requests {
            let end = (i + SETUP_BATCH_DOCUMENTS).min(opts.requests);
            let docs: Vec<_> = (i..end).map(|k| document(k, opts.complexity)).collect();
            let path = opts.db_path(&format!("/_api/import?collection={}&type=list", opts.collection));
            let r = c.request("POST", &path, serde_json::to_vec(&docs).unwrap_or_default().as_slice())?;
            if r.status != 201 {
                return Err(BenchError::Setup(format!("import answered {}", r.status)));
            }
            i = end;
        }
    }
    Ok(())
}

/// One request of a case: method, path, body, documents it carries, expected statuses.
fn request_for(opts: &Options, case: Case, i: u64) -> (&'static str, String, Vec<u8>, u64) {
    let col = &opts.collection;
    let sync = if opts.wait_for_sync { "?waitForSync=true" } else { "" };
    match case {
        Case::Version => ("GET", "/_api/version".to_string(), Vec::new(), 0),
        Case::Document => ("POST", opts.db_path(&format!("/_api/document/{col}{sync}")), document(i, opts.complexity).to_string().into_bytes(), 1),
        Case::DocumentRead => ("GET", opts.db_path(&format!("/_api/document/{col}/k{i}")), Vec::new(), 1),
        Case::DocumentUpdate => ("PATCH", opts.db_path(&format!("/_api/document/{col}/k{i}{sync}")), json!({"value": i + 1}).to_string().into_bytes(), 1),
        Case::DocumentRemove => ("DELETE", opts.db_path(&format!("/_api/document/{col}/k{i}{sync}")), Vec::new(), 1),
        Case::ImportDocument => {
            let docs: Vec<_> = (i * opts.batch_size..(i + 1) * opts.batch_size).map(|k| document(k, opts.complexity)).collect();
            let path = format!("/_api/import?collection={col}&type=list{}", if opts.wait_for_sync { "&waitForSync=true" } else { "" });
            ("POST", opts.db_path(&path), serde_json::to_vec(&docs).unwrap_or_default(), opts.batch_size)
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

/// Runs one case: setup, then `requests` requests spread over `threads` keep-alive clients.
pub fn run(opts: &Options, case: Case) -> Result<Report, BenchError> {
    setup(opts, case)?;
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let threads = opts.threads.max(1);
    let start = Instant::now();
    let progress = opts.progress.then(|| {
        let (done, total) = (done.clone(), opts.requests);
        std::thread::spawn(move || {
            while done.load(Ordering::Relaxed) < total {
                let d = done.load(Ordering::Relaxed);
                let bar = "#".repeat((d * 30 / total.max(1)) as usize);
                eprint!("\r  {:<10} [{bar:<30}] {d}/{total}", case.name());
                std::thread::sleep(Duration::from_millis(250));
            }
            eprintln!("\r  {:<10} [{}] {total}/{total}", case.name(), "#".repeat(30));
        })
    });
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (opts, done, errors) = (opts.clone(), done.clone(), errors.clone());
            std::thread::spawn(move || -> (Vec<u32>, u64, Option<String>) {
                let mut client = Client::new(&opts.address, &opts.auth());
                let mut lat = Vec::new();
                let (mut docs, mut first_error) = (0, None);
                let mut i = t as u64;
                while i < opts.requests {
                    let (method, path, body, n) = request_for(&opts, case, i);
                    let t0 = Instant::now();
                    let outcome = client.request(method, &path, &body);
                    lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    match outcome {
                        Ok(r) if r.status < 300 => docs += n,
                        Ok(r) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            first_error.get_or_insert_with(|| format!("HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)));
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += threads as u64;
                }
                (lat, docs, first_error)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut documents, mut first_error) = (0, None);
    for w in workers {
        let (lat, docs, err) = w.join().map_err(|_| BenchError::Setup("a load thread panicked".into()))?;
        latencies.extend(lat);
        documents += docs;
        first_error = first_error.or(err);
    }
    let seconds = start.elapsed().as_secs_f64();
    done.store(opts.requests, Ordering::Relaxed);
    if let Some(p) = progress {
        let _ = p.join();
    }
    latencies.sort_unstable();
    let pct = |p| percentile(&latencies, p);
    Ok(Report {
        case,
        threads,
        requests: opts.requests,
        errors: errors.load(Ordering::Relaxed),
        documents,
        seconds,
        requests_per_s: opts.requests as f64 / seconds,
        documents_per_s: documents as f64 / seconds,
        latency_ms: json!({"50": pct(50.0), "80": pct(80.0), "85": pct(85.0), "90": pct(90.0), "95": pct(95.0), "99": pct(99.0)}),
        first_error,
    })
}
