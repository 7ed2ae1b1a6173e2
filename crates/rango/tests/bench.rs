//! `rango bench` against a real server: its counts must match what the server stored.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{json, Value};

fn bench(s: &Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rango"))
        .arg("bench")
        .arg("--quiet")
        .arg("--server.endpoint")
        .arg(format!("tcp://127.0.0.1:{}", s.port))
        .arg("--server.password")
        .arg(&s.password)
        .args(args)
        .output()
        .expect("run rango bench");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn count(s: &Server, col: &str) -> u64 {
    s.get(&format!("/_api/collection/{col}/count")).body["count"].as_u64().unwrap()
}

#[test]
fn counts_match_the_server() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("r.json");
    let (ok, out, err) = bench(&s, &["--test-case", "document", "--threads", "4", "--requests", "300", "--collection", "docs", "--json", json_path.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("p99"), "{out}");
    assert_eq!(count(&s, "docs"), 300);
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!((report["requests"].clone(), report["errors"].clone(), report["documents"].clone()), (json!(300), json!(0), json!(300)));
    for p in ["50", "80", "85", "90", "95", "99"] {
        assert!(report["latency_ms"][p].as_f64().unwrap() > 0.0);
    }
    let (ok, _, err) = bench(&s, &["--test-case", "import-document", "--threads", "2", "--requests", "10", "--batch-size", "50", "--collection", "imp"]);
    assert!(ok, "{err}");
    assert_eq!(count(&s, "imp"), 500);
    // Each key of crud is inserted, read, updated, read and removed; of crud-append it stays.
    let (ok, _, err) = bench(&s, &["--test-case", "crud", "--threads", "3", "--requests", "100", "--collection", "crud"]);
    assert!(ok, "{err}");
    assert_eq!(count(&s, "crud"), 0);
    let (ok, _, err) = bench(&s, &["--test-case", "crud-append", "--threads", "3", "--requests", "100", "--collection", "ca"]);
    assert!(ok, "{err}");
    assert_eq!(count(&s, "ca"), 25);
    let (ok, _, err) = bench(&s, &["--test-case", "crud-write-read", "--requests", "40", "--collection", "cwr", "--wait-for-sync", "true"]);
    assert!(ok, "{err}");
    assert_eq!(count(&s, "cwr"), 20);
    let (ok, _, err) = bench(&s, &["--test-case", "edge-crud", "--threads", "2", "--requests", "40", "--collection", "ec"]);
    assert!(ok, "{err}");
    assert_eq!(count(&s, "ec"), 10);
    assert_eq!(s.get("/_api/collection/ec").body["type"], 3);
    for case in ["document-read", "document-update", "document-remove"] {
        let (ok, _, err) = bench(&s, &["--test-case", case, "--threads", "2", "--requests", "50", "--collection", case]);
        assert!(ok, "{case}: {err}");
    }
    assert_eq!(count(&s, "document-remove"), 0);
    // collection: creates one collection a request, and drops them afterwards.
    let (ok, _, err) = bench(&s, &["--test-case", "collection", "--requests", "5", "--collection", "many"]);
    assert!(ok, "{err}");
    assert_eq!(s.get("/_api/collection/many0").status, 404);
    let (ok, out, _) = bench(&s, &["--test-case", "version", "--requests", "20", "--runs", "3"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 3, "{out}");
    // A duration bounds the run.
    let t0 = Instant::now();
    let (ok, _, err) = bench(&s, &["--test-case", "version", "--duration", "1", "--threads", "2"]);
    assert!(ok, "{err}");
    assert!(t0.elapsed() < Duration::from_secs(20));
}

#[test]
fn failures_are_counted_and_reported() {
    let s = Server::start();
    // AQL inserts count like document inserts.
    let (ok, _, err) = bench(&s, &["--test-case", "aqlinsert", "--requests", "10", "--collection", "aql"]);
    assert!(ok, "{err}");
    assert_eq!(s.get("/_api/collection/aql/count").body["count"], 10);
    let (ok, _, err) = bench(&s, &["--test-case", "custom-query", "--requests", "5", "--custom-query", "RETURN @a + 1", "--custom-query-bindvars", r#"{"a":1}"#]);
    assert!(ok, "{err}");
    // Server errors: indexes are not built yet, so Rango answers 501 for the index case.
    let (ok, _, err) = bench(&s, &["--test-case", "persistent-index", "--requests", "10", "--collection", "pi"]);
    assert!(!ok);
    assert!(err.contains("501"), "{err}");
    // Wrong options.
    let (ok, _, err) = bench(&s, &["--test-case", "nope"]);
    assert!(!ok && err.contains("unknown --test-case"), "{err}");
    let (ok, _, err) = bench(&s, &["--test-case", "custom-query"]);
    assert!(!ok && err.contains("custom-query needs"), "{err}");
    let (ok, _, err) = bench(&s, &["--test-case", "version", "--threads", "0"]);
    assert!(!ok && err.contains("--threads"), "{err}");
    // Wrong password: every request is a 401, counted.
    let out = Command::new(env!("CARGO_BIN_EXE_rango"))
        .args(["bench", "--quiet", "--requests", "5", "--server.password", "wrong", "--server.endpoint"])
        .arg(format!("tcp://127.0.0.1:{}", s.port))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    // An unreachable server fails fast with a clear message.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rango"))
        .args(["bench", "--quiet", "--requests", "5", "--test-case", "document", "--server.endpoint"])
        .arg(format!("tcp://127.0.0.1:{dead}"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(t0.elapsed() < Duration::from_secs(20));
}
