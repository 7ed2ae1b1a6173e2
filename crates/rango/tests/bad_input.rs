//! Hostile input: every malformed request gets ArangoDB's status and errorNum, the server
//! keeps serving, and stored data stays intact.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use common::Server;
use serde_json::json;

#[test]
fn battery_of_bad_requests_leaves_server_and_data_intact() {
    let s = Server::start_with(&["--server.maximal-body-size", "1048576"]);
    s.post("/_api/collection", json!({"name": "c"}));
    s.post("/_api/collection", json!({"name": "e", "type": 3}));
    s.post("/_api/document/c", json!({"_key": "keep", "v": 42}));
    let auth = s.auth();
    let h = [("Authorization", auth.as_str())];
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let big = vec![b' '; 2 << 20];
    let zip_bomb = {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'['; 4 << 20]).unwrap();
        gz.finish().unwrap()
    };
    // (method, path, body, extra header, expected status, expected errorNum)
    type Case<'a> = (&'a str, &'a str, Vec<u8>, Option<(&'a str, &'a str)>, u16, i64);
    let cases: Vec<Case> = vec![
        ("POST", "/_api/document/c", b"{".to_vec(), None, 400, 600),
        ("POST", "/_api/document/c", b"".to_vec(), None, 400, 600),
        ("POST", "/_api/document/c", b"\xff\xfe".to_vec(), None, 400, 600),
        ("POST", "/_api/document/c", deep.clone().into_bytes(), None, 400, 600),
        ("POST", "/_api/document/c", b"\"str\"".to_vec(), None, 400, 1227),
        ("POST", "/_api/document/c", br#"{"_key":"bad key"}"#.to_vec(), None, 400, 1221),
        ("POST", "/_api/document/c", format!(r#"{{"_key":"{}"}}"#, "k".repeat(300)).into_bytes(), None, 400, 1221),
        ("POST", "/_api/document/c", br#"{"_key":"keep"}"#.to_vec(), None, 409, 1210),
        ("POST", "/_api/document/nope", b"{}".to_vec(), None, 404, 1203),
        ("POST", "/_db/nope/_api/document/c", b"{}".to_vec(), None, 404, 1228),
        ("POST", "/_api/document/e", br#"{"_from":5,"_to":"a/b"}"#.to_vec(), None, 400, 1233),
        ("PUT", "/_api/document/c/keep", b"[1]".to_vec(), None, 400, 1227),
        ("PUT", "/_api/document/c/keep", b"{}".to_vec(), Some(("If-Match", "\"garbage\"")), 412, 1200),
        ("PATCH", "/_api/document/c/missing", b"{}".to_vec(), None, 404, 1202),
        ("DELETE", "/_api/document/c/missing", b"".to_vec(), None, 404, 1202),
        ("GET", "/_api/document/c/%FF%FE", b"".to_vec(), None, 400, 400),
        ("POST", "/_api/collection", br#"{"name":"a/b"}"#.to_vec(), None, 400, 1208),
        ("POST", "/_api/collection", br#"{"name":"c"}"#.to_vec(), None, 409, 1207),
        ("POST", "/_api/collection", br#"{"name":"x","type":7}"#.to_vec(), None, 400, 1218),
        ("POST", "/_api/collection", br#"{"name":"x","waitForSync":"yes"}"#.to_vec(), None, 400, 10),
        ("POST", "/_api/collection", br#"{"name":"x","numberOfShards":0}"#.to_vec(), None, 400, 10),
        ("POST", "/_api/collection", br#"[]"#.to_vec(), None, 400, 400),
        ("POST", "/_api/database", br#"{"name":""}"#.to_vec(), None, 400, 1229),
        ("POST", "/_api/database", br#"{"name":"x","users":"nope"}"#.to_vec(), None, 400, 10),
        ("PUT", "/_api/collection/c/rename", br#"{"name":"bad/name"}"#.to_vec(), None, 400, 1208),
        ("POST", "/_api/document/c", big, None, 413, 32),
        ("POST", "/_api/document/c", zip_bomb, Some(("Content-Encoding", "gzip")), 413, 32),
        ("POST", "/_api/document/c", b"not gzip".to_vec(), Some(("Content-Encoding", "gzip")), 400, 400),
        ("POST", "/_api/import?collection=c&type=weird", b"[]".to_vec(), None, 400, 400),
        ("POST", "/_api/import?collection=c&type=list", b"{}".to_vec(), None, 400, 400),
        ("GET", "/_api/edges/e", b"".to_vec(), None, 400, 1205),
        ("GET", "/_api/edges/e?vertex=v/1&direction=sideways", b"".to_vec(), None, 400, 400),
    ];
    for (method, path, body, header, status, errnum) in cases {
        let mut headers = h.to_vec();
        if let Some(extra) = header {
            headers.push(extra);
        }
        let r = s.call_raw(method, path, &body, &headers);
        assert_eq!(r.error(), (status, errnum), "{method} {path}: {}", String::from_utf8_lossy(&r.raw));
        assert_eq!(r.body["error"], true, "{method} {path}: error bodies have ArangoDB's shape");
        assert_eq!(r.body["code"], status, "{method} {path}");
    }
    // Malformed credentials are 401s, never crashes.
    for bad in ["Basic", "Basic !!!", "Bearer", "Bearer a.b.c", "Bearer ..", "Digest x", "Basic cm9vdA=="] {
        let r = s.call_raw("GET", "/_api/version", b"", &[("Authorization", bad)]);
        assert_eq!(r.status, 401, "{bad}");
    }
    // Still serving, data intact.
    let r = s.get("/_api/document/c/keep");
    assert_eq!((r.status, r.body["v"].clone()), (200, json!(42)));
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 1);
    assert!(!s.log().contains("panicked"), "log: {}", s.log());
}
