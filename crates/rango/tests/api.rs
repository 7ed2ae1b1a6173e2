//! The single server's HTTP API, driven over loopback against the real binary.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use common::Server;
use std::time::{Duration, Instant};
use serde_json::{json, Value};

#[test]
fn version_engine_role_and_auth() {
    let s = Server::start();
    let v = s.get("/_api/version?details=true");
    assert_eq!(v.status, 200);
    assert_eq!(v.body["server"], "arango");
    assert!(v.body["version"].as_str().unwrap().starts_with("3.12."));
    assert_eq!(v.body["details"]["server"], "rango");
    assert_eq!(s.get("/_api/engine").body["name"], "rocksdb");
    assert_eq!(s.get("/_admin/server/role").body["role"], "SINGLE");
    assert!(s.get("/_admin/time").body["time"].as_f64().unwrap() > 1.7e9);

    // No or wrong credentials: 401 with errorNum 11; availability stays open.
    let r = s.call_raw("GET", "/_api/version", b"", &[]);
    assert_eq!(r.error(), (401, 11));
    let r = s.call_raw("GET", "/_api/version", b"", &[("Authorization", "Basic cm9vdDp3cm9uZw==")]);
    assert_eq!(r.error(), (401, 11));
    assert_eq!(s.call_raw("GET", "/_admin/server/availability", b"", &[]).status, 200);

    // A JWT from /_open/auth works as a bearer token.
    let body = json!({"username": "root", "password": s.password}).to_string();
    let jwt = s.call_raw("POST", "/_open/auth", body.as_bytes(), &[]).body["jwt"].as_str().unwrap().to_string();
    let r = s.call_raw("GET", "/_api/version", b"", &[("Authorization", &format!("bearer {jwt}"))]);
    assert_eq!(r.status, 200);
    let bad = json!({"username": "root", "password": "nope"}).to_string();
    assert_eq!(s.call_raw("POST", "/_open/auth", bad.as_bytes(), &[]).status, 401);
}

#[test]
fn echo_and_unknown_and_not_built_routes() {
    let s = Server::start();
    let r = s.call("POST", "/_admin/echo?a=1", Some(&json!({"x": 1})));
    assert_eq!(r.body["requestType"], "POST");
    assert_eq!(r.body["parameters"]["a"], "1");
    assert_eq!(s.get("/_api/nothing-here").error(), (404, 404));
    assert_eq!(s.post("/_api/view", json!({"name": "v"})).error(), (501, 9));
    assert_eq!(s.call("PATCH", "/_api/version", None).error(), (405, 405));
}

#[test]
fn databases_create_list_drop_and_errors() {
    let s = Server::start();
    assert_eq!(s.post("/_api/database", json!({"name": "shop"})).status, 201);
    assert_eq!(s.post("/_api/database", json!({"name": "shop"})).error(), (409, 1207));
    assert_eq!(s.post("/_api/database", json!({"name": "1bad"})).error(), (400, 1229));
    assert_eq!(s.post("/_api/database", json!({"name": "a/b"})).error(), (400, 1229));
    // Extended (UTF-8) names, addressed percent-encoded.
    assert_eq!(s.post("/_api/database", json!({"name": "Ünïcödé db"})).status, 201);
    let r = s.get("/_db/%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20db/_api/database/current");
    assert_eq!(r.body["result"]["name"], "Ünïcödé db");
    let names = s.get("/_api/database").body["result"].clone();
    assert!(names.as_array().unwrap().contains(&json!("shop")));
    assert!(names.as_array().unwrap().contains(&json!("_system")));
    // Listing and creating only from _system.
    assert_eq!(s.get("/_db/shop/_api/database").error(), (403, 1230));
    assert_eq!(s.get("/_db/nope/_api/collection").error(), (404, 1228));
    assert_eq!(s.delete("/_api/database/_system").error(), (403, 11));
    // A fresh database has ArangoDB's system collections.
    let cols = s.get("/_db/shop/_api/collection").body["result"].clone();
    let names: Vec<&str> = cols.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for sys in ["_graphs", "_apps", "_appbundles", "_jobs", "_queues", "_analyzers", "_frontend", "_aqlfunctions"] {
        assert!(names.contains(&sys), "{sys} missing");
    }
    let sys_cols = s.get("/_api/collection?excludeSystem=true").body["result"].clone();
    assert_eq!(sys_cols, json!([]));
    // _system/_users is closed to everyone's document and collection APIs, root included.
    assert_eq!(s.get("/_api/collection/_users").error(), (403, 11));
    assert_eq!(s.delete("/_api/database/shop").status, 200);
    assert_eq!(s.delete("/_api/database/shop").error(), (404, 1228));
    // Users given at creation are stored in _users with access to the new database.
    let r = s.post("/_api/database", json!({"name": "withusers", "users": [{"username": "alice", "passwd": "x"}]}));
    assert_eq!(r.status, 201);
    let r = s.get("/_api/user/alice");
    assert_eq!((r.status, r.body["user"].clone()), (200, json!("alice")));
}

#[test]
fn collections_lifecycle_and_properties() {
    let s = Server::start();
    let r = s.post(
        "/_api/collection",
        json!({"name": "c", "waitForSync": true, "numberOfShards": 3, "shardKeys": ["a"], "replicationFactor": 2,
               "writeConcern": 2, "keyOptions": {"type": "autoincrement", "increment": 5, "offset": 10}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["numberOfShards"], 3);
    assert_eq!(r.body["shardKeys"], json!(["a"]));
    assert_eq!(r.body["replicationFactor"], 2);
    assert_eq!(r.body["writeConcern"], 2);
    assert_eq!(r.body["keyOptions"]["type"], "autoincrement");
    assert_eq!(s.post("/_api/collection", json!({"name": "c"})).error(), (409, 1207));
    assert_eq!(s.post("/_api/collection", json!({"name": "_bad"})).error(), (400, 1208));
    assert_eq!(s.post("/_api/collection", json!({"name": ""})).error(), (400, 1208));
    assert_eq!(s.post("/_api/collection", json!({"name": "x", "keyOptions": {"type": "nope"}})).error(), (400, 1232));
    assert_eq!(s.post("/_api/collection", json!({"name": "x", "replicationFactor": 1, "writeConcern": 2})).error().0, 400);

    // Autoincrement keys: offset, then steps of increment.
    let k1 = s.post("/_api/document/c", json!({})).body["_key"].clone();
    let k2 = s.post("/_api/document/c", json!({})).body["_key"].clone();
    assert_eq!((k1, k2), (json!("10"), json!("15")));
    assert_eq!(s.get("/_api/collection/c/properties").body["keyOptions"]["lastValue"], 15);

    let r = s.put("/_api/collection/c/properties", json!({"waitForSync": false}));
    assert_eq!(r.body["waitForSync"], false);
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 2);
    let f = s.get("/_api/collection/c/figures");
    assert!(f.body["figures"]["indexes"]["count"].as_u64().is_some());
    let rev = s.get("/_api/collection/c/revision").body["revision"].clone();
    assert!(rev.as_str().unwrap().len() > 5);
    let ck1 = s.get("/_api/collection/c/checksum?withRevisions=true&withData=true").body["checksum"].clone();
    s.post("/_api/document/c", json!({"z": 1}));
    let ck2 = s.get("/_api/collection/c/checksum?withRevisions=true&withData=true").body["checksum"].clone();
    assert_ne!(ck1, ck2);

    assert_eq!(s.put("/_api/collection/c/rename", json!({"name": "d"})).body["name"], "d");
    assert_eq!(s.get("/_api/collection/c").error(), (404, 1203));
    assert_eq!(s.get("/_api/document/d/10").body["_id"], "d/10");
    assert_eq!(s.put("/_api/collection/d/truncate", json!({})).status, 200);
    assert_eq!(s.get("/_api/collection/d/count").body["count"], 0);
    assert_eq!(s.put("/_api/collection/d/recalculateCount", json!({})).body["count"], 0);
    assert_eq!(s.put("/_api/collection/d/load", json!({})).body["count"], 0);
    assert_eq!(s.put("/_api/collection/d/unload", json!({})).status, 200);
    assert_eq!(s.put("/_api/collection/d/loadIndexesIntoMemory", json!({})).body["result"], true);
    assert_eq!(s.put("/_api/collection/d/compact", json!({})).status, 200);
    assert_eq!(s.delete("/_api/collection/_graphs").error(), (403, 11));
    assert_eq!(s.delete("/_api/collection/d").status, 200);
    assert_eq!(s.get("/_api/collection/d").error(), (404, 1203));
    // Ids work where names do.
    let id = s.post("/_api/collection", json!({"name": "byid"})).body["id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("/_api/collection/{id}")).body["name"], "byid");
}

#[test]
fn documents_single_crud_revisions_and_preconditions() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    let r = s.post("/_api/document/c?returnNew=true", json!({"_key": "k", "a": 1, "o": {"x": 1}}));
    assert_eq!(r.status, 202);
    assert_eq!(r.body["new"]["a"], 1);
    let rev1 = r.body["_rev"].as_str().unwrap().to_string();
    let g = s.get("/_api/document/c/k");
    assert_eq!(g.header("etag"), Some(format!("\"{rev1}\"").as_str()));
    let keys: Vec<&String> = g.body.as_object().unwrap().keys().collect();
    assert_eq!(keys[..3], ["_key", "_id", "_rev"]);

    // If-None-Match with the current revision: 304; If-Match with another: 412.
    let r = s.call_raw("GET", "/_api/document/c/k", b"", &[("Authorization", &s.auth()), ("If-None-Match", &format!("\"{rev1}\""))]);
    assert_eq!(r.status, 304);
    let r = s.call_raw("GET", "/_api/document/c/k", b"", &[("Authorization", &s.auth()), ("If-Match", "\"_abc\"")]);
    assert_eq!(r.error(), (412, 1200));
    assert_eq!(r.body["_rev"], rev1.as_str());
    assert_eq!(s.call("HEAD", "/_api/document/c/k", None).status, 200);
    assert_eq!(s.call("HEAD", "/_api/document/c/nope", None).status, 404);

    // Update merges objects and keeps nulls by default; keepNull=false removes them.
    let r = s.patch("/_api/document/c/k?returnOld=true&returnNew=true", json!({"o": {"y": 2}, "b": null}));
    assert_eq!(r.status, 202);
    assert_eq!(r.body["_oldRev"], rev1.as_str());
    assert_eq!(r.body["new"]["o"], json!({"x": 1, "y": 2}));
    assert_eq!(r.body["new"]["b"], Value::Null);
    assert_eq!(r.body["old"]["a"], 1);
    let r = s.patch("/_api/document/c/k?keepNull=false&mergeObjects=false&returnNew=true", json!({"o": {"z": 3}, "b": null}));
    assert_eq!(r.body["new"]["o"], json!({"z": 3}));
    assert!(r.body["new"].get("b").is_none());
    let rev3 = r.body["_rev"].as_str().unwrap().to_string();
    assert!(common::rev_value(&rev3) > common::rev_value(&rev1), "revisions increase");

    // Replace with a stale revision fails with 412 and reports the stored revision.
    let r = s.call_raw("PUT", "/_api/document/c/k", br#"{"c":1}"#, &[("Authorization", &s.auth()), ("If-Match", &rev1)]);
    assert_eq!(r.error(), (412, 1200));
    assert_eq!(r.body["_rev"], rev3.as_str());
    let r = s.put("/_api/document/c/k?ignoreRevs=false", json!({"_rev": rev1, "c": 1}));
    assert_eq!(r.error(), (412, 1200));
    let r = s.put("/_api/document/c/k?waitForSync=true&returnNew=true", json!({"c": 1}));
    assert_eq!(r.status, 201);
    assert_eq!(r.body["new"], json!({"_key": "k", "_id": "c/k", "_rev": r.body["_rev"], "c": 1}));

    // Errors: duplicate key, bad key, unknown collection, wrong type, missing document.
    assert_eq!(s.post("/_api/document/c", json!({"_key": "k"})).error(), (409, 1210));
    assert_eq!(s.post("/_api/document/c", json!({"_key": "a b"})).error(), (400, 1221));
    assert_eq!(s.post("/_api/document/c", json!({"_key": 12})).error(), (400, 1221));
    assert_eq!(s.post("/_api/document/nope", json!({})).error(), (404, 1203));
    assert_eq!(s.post("/_api/document/c", json!(12)).error(), (400, 1227));
    assert_eq!(s.get("/_api/document/c/none").error(), (404, 1202));
    assert_eq!(s.patch("/_api/document/c/none", json!({})).error(), (404, 1202));
    assert_eq!(s.call_raw("POST", "/_api/document/c", b"{bad json", &[("Authorization", &s.auth())]).error(), (400, 600));

    // Overwrite modes.
    let r = s.post("/_api/document/c?overwriteMode=ignore", json!({"_key": "k", "c": 99}));
    assert_eq!(r.status, 202);
    assert_eq!(s.get("/_api/document/c/k").body["c"], 1);
    let r = s.post("/_api/document/c?overwriteMode=update&returnOld=true", json!({"_key": "k", "d": 2}));
    assert_eq!(r.body["old"]["c"], 1);
    assert!(r.body["_oldRev"].is_string());
    assert_eq!(s.get("/_api/document/c/k").body["d"], 2);
    assert_eq!(s.get("/_api/document/c/k").body["c"], 1);
    s.post("/_api/document/c?overwrite=true", json!({"_key": "k", "e": 3}));
    assert_eq!(s.get("/_api/document/c/k").body.get("c"), None);
    assert_eq!(s.post("/_api/document/c?overwriteMode=conflict", json!({"_key": "k"})).error(), (409, 1210));
    assert_eq!(s.post("/_api/document/c?overwriteMode=bogus", json!({"_key": "k"})).error().0, 400);

    // Silent, then remove.
    assert_eq!(s.post("/_api/document/c?silent=true", json!({"_key": "s"})).body, json!({}));
    let r = s.delete("/_api/document/c/k?returnOld=true");
    assert_eq!(r.status, 202);
    assert_eq!(r.body["old"]["e"], 3);
    assert_eq!(s.delete("/_api/document/c/k").error(), (404, 1202));
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 1);
}

#[test]
fn documents_in_arrays_report_errors_per_item() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    let r = s.post("/_api/document/c", json!([{"_key": "a"}, {"_key": "a"}, 5, {"_key": "b"}]));
    assert_eq!(r.status, 202);
    let items = r.body.as_array().unwrap();
    assert_eq!(items[0]["_key"], "a");
    assert_eq!(items[1]["errorNum"], 1210);
    assert_eq!(items[2]["errorNum"], 1227);
    assert_eq!(items[3]["_key"], "b");
    let codes: Value = serde_json::from_str(r.header("x-arango-error-codes").unwrap()).unwrap();
    assert_eq!(codes, json!({"1210": 1, "1227": 1}));

    let r = s.put("/_api/document/c?onlyget=true", json!(["a", {"_key": "b"}, "zz"]));
    let items = r.body.as_array().unwrap();
    assert_eq!((items[0]["_key"].clone(), items[1]["_key"].clone()), (json!("a"), json!("b")));
    assert_eq!(items[2]["errorNum"], 1202);

    let r = s.patch("/_api/document/c?returnNew=true", json!([{"_key": "a", "v": 1}, {"_key": "zz", "v": 2}, {"v": 3}]));
    let items = r.body.as_array().unwrap();
    assert_eq!(items[0]["new"]["v"], 1);
    assert_eq!(items[1]["errorNum"], 1202);
    assert!(items[2]["error"] == true);
    let r = s.put("/_api/document/c", json!([{"_key": "b", "w": 1}]));
    assert_eq!(r.body[0]["_key"], "b");
    let r = s.call("DELETE", "/_api/document/c", Some(&json!(["a", {"_key": "b"}, "nope"])));
    let items = r.body.as_array().unwrap();
    assert_eq!((items[0]["_key"].clone(), items[1]["_key"].clone()), (json!("a"), json!("b")));
    assert_eq!(items[2]["errorNum"], 1202);
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 0);
}

#[test]
fn edges_are_checked_and_indexed() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "e", "type": 3}));
    assert_eq!(s.post("/_api/document/e", json!({"_from": "v/1"})).error(), (400, 1233));
    assert_eq!(s.post("/_api/document/e", json!({"_from": "v/1", "_to": "bad"})).error(), (400, 1233));
    s.post("/_api/document/e", json!({"_key": "e1", "_from": "v/1", "_to": "v/2"}));
    s.post("/_api/document/e", json!({"_key": "e2", "_from": "v/2", "_to": "v/1"}));
    s.post("/_api/document/e", json!({"_key": "e3", "_from": "v/1", "_to": "v/1"}));
    let keys = |dir: &str| -> Vec<String> {
        let r = s.get(&format!("/_api/edges/e?vertex=v/1&direction={dir}"));
        let mut k: Vec<String> = r.body["edges"].as_array().unwrap().iter().map(|e| e["_key"].as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    assert_eq!(keys("out"), ["e1", "e3"]);
    assert_eq!(keys("in"), ["e2", "e3"]);
    assert_eq!(keys("any"), ["e1", "e2", "e3"]);
    // Moving an edge moves its index entries.
    s.patch("/_api/document/e/e1", json!({"_from": "v/9"}));
    assert_eq!(keys("out"), ["e3"]);
    s.delete("/_api/document/e/e3");
    assert_eq!(keys("any"), ["e2"]);
    s.post("/_api/collection", json!({"name": "plain"}));
    assert_eq!(s.get("/_api/edges/plain?vertex=v/1").error(), (400, 1218));
}

#[test]
fn import_in_every_format() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    let auth = s.auth();
    let h = [("Authorization", auth.as_str())];
    let r = s.call_raw("POST", "/_api/import?collection=c&type=documents&details=true", b"{\"_key\":\"a\"}\n\n{\"_key\":\"a\"}\nnot json\n", &h);
    assert_eq!(r.status, 201);
    assert_eq!((r.body["created"].clone(), r.body["errors"].clone(), r.body["empty"].clone()), (json!(1), json!(2), json!(1)));
    assert_eq!(r.body["details"].as_array().unwrap().len(), 2);
    let r = s.call_raw("POST", "/_api/import?collection=c&type=list&onDuplicate=update", br#"[{"_key":"a","x":1},{"_key":"b"}]"#, &h);
    assert_eq!((r.body["created"].clone(), r.body["updated"].clone()), (json!(1), json!(1)));
    let r = s.call_raw("POST", "/_api/import?collection=c&type=auto&onDuplicate=ignore", br#"[{"_key":"a"}]"#, &h);
    assert_eq!(r.body["ignored"], 1);
    let r = s.call_raw("POST", "/_api/import?collection=c", b"[\"_key\",\"v\"]\n[\"h1\",1]\n[\"h2\",null]\n[\"h3\"]\n", &h);
    assert_eq!((r.body["created"].clone(), r.body["errors"].clone()), (json!(2), json!(1)));
    assert_eq!(s.get("/_api/document/c/h1").body["v"], 1);
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 4);
    // complete=true: one failure, nothing written.
    let r = s.call_raw("POST", "/_api/import?collection=c&type=list&complete=true", br#"[{"_key":"new1"},{"_key":"a"}]"#, &h);
    assert_eq!(r.error(), (409, 1210), "the first failure is the answer");
    assert_eq!(s.get("/_api/document/c/new1").status, 404);
    // overwrite=true empties the collection first.
    let r = s.call_raw("POST", "/_api/import?collection=c&type=list&overwrite=true", br#"[{"_key":"only"}]"#, &h);
    assert_eq!(r.body["created"], 1);
    assert_eq!(s.get("/_api/collection/c/count").body["count"], 1);
    // Edge prefixes.
    s.post("/_api/collection", json!({"name": "e", "type": 3}));
    let r = s.call_raw("POST", "/_api/import?collection=e&type=list&fromPrefix=v&toPrefix=w", br#"[{"_from":"1","_to":"x/2"}]"#, &h);
    assert_eq!(r.body["created"], 1);
    let r = s.get("/_api/edges/e?vertex=v/1&direction=out");
    assert_eq!(r.body["edges"][0]["_to"], "x/2");
    assert_eq!(s.call_raw("POST", "/_api/import?type=list", b"[]", &h).error(), (400, 1204));
    assert_eq!(s.call_raw("POST", "/_api/import?collection=zz&type=list", b"[]", &h).error(), (404, 1203));
}

#[test]
fn compressed_bodies_are_accepted() {
    use std::io::Write;
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    let body = br#"{"_key":"gz","v":1}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).unwrap();
    let auth = s.auth();
    let r = s.call_raw("POST", "/_api/document/c", &gz.finish().unwrap(), &[("Authorization", &auth), ("Content-Encoding", "gzip")]);
    assert_eq!(r.status, 202, "{}", r.body);
    let mut df = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    df.write_all(br#"{"_key":"df"}"#).unwrap();
    let r = s.call_raw("POST", "/_api/document/c", &df.finish().unwrap(), &[("Authorization", &auth), ("Content-Encoding", "deflate")]);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(s.get("/_api/document/c/gz").body["v"], 1);
    assert_eq!(s.get("/_api/document/c/df").status, 200);
}

#[test]
fn schema_is_enforced_by_level() {
    let s = Server::start();
    let schema = json!({"rule": {"properties": {"n": {"type": "number"}}, "required": ["n"]}, "level": "strict", "message": "n must be a number"});
    let r = s.post("/_api/collection", json!({"name": "c", "schema": schema}));
    assert_eq!(r.body["schema"]["level"], "strict");
    assert_eq!(s.post("/_api/document/c", json!({"_key": "ok", "n": 1})).status, 202);
    let r = s.post("/_api/document/c", json!({"n": "x"}));
    assert_eq!(r.error(), (400, 1620));
    assert_eq!(r.body["errorMessage"], "n must be a number");
    assert_eq!(s.patch("/_api/document/c/ok", json!({"n": "y"})).error(), (400, 1620));
    // Level "new" only checks inserts.
    let mut relaxed = schema.clone();
    relaxed["level"] = json!("new");
    s.put("/_api/collection/c/properties", json!({"schema": relaxed}));
    assert_eq!(s.patch("/_api/document/c/ok", json!({"n": "y"})).status, 202);
    assert_eq!(s.post("/_api/document/c", json!({"n": "x"})).error(), (400, 1620));
    // Removing the schema.
    s.put("/_api/collection/c/properties", json!({"schema": {}}));
    assert_eq!(s.post("/_api/document/c", json!({"n": "x"})).status, 202);
    assert_eq!(s.post("/_api/collection", json!({"name": "d", "schema": {"rule": 5}})).error(), (400, 1621));
}

#[test]
fn key_generators() {
    let s = Server::start();
    let gen = |name: &str, opts: Value| {
        s.post("/_api/collection", json!({"name": name, "keyOptions": opts}));
        let a = s.post(&format!("/_api/document/{name}"), json!({})).body["_key"].as_str().unwrap().to_string();
        let b = s.post(&format!("/_api/document/{name}"), json!({})).body["_key"].as_str().unwrap().to_string();
        (a, b)
    };
    let (a, b) = gen("trad", json!({"type": "traditional"}));
    assert!(b.parse::<u64>().unwrap() > a.parse::<u64>().unwrap());
    let (a, b) = gen("pad", json!({"type": "padded"}));
    assert_eq!((a.len(), b.len()), (16, 16));
    assert!(b > a);
    let (a, _) = gen("uuid", json!({"type": "uuid"}));
    assert_eq!(a.len(), 36);
    let (a, b) = gen("auto", json!({"type": "autoincrement", "increment": 1}));
    assert_eq!((a.as_str(), b.as_str()), ("1", "2"));
    // User keys are refused when allowUserKeys is false; a numeric user key moves the generator.
    s.post("/_api/collection", json!({"name": "nouser", "keyOptions": {"allowUserKeys": false}}));
    assert_eq!(s.post("/_api/document/nouser", json!({"_key": "x"})).error(), (400, 1222));
    s.post("/_api/document/auto", json!({"_key": "100"}));
    assert_eq!(s.post("/_api/document/auto", json!({})).body["_key"], "101");
}

#[test]
fn data_and_generators_survive_restart() {
    let mut s = Server::start();
    s.post("/_api/database", json!({"name": "d"}));
    s.post("/_db/d/_api/collection", json!({"name": "c", "keyOptions": {"type": "autoincrement"}}));
    s.post("/_db/d/_api/document/c", json!({"v": 1}));
    let rev = s.post("/_db/d/_api/document/c", json!({"v": 2})).body["_rev"].as_str().unwrap().to_string();
    s.restart();
    assert_eq!(s.get("/_db/d/_api/collection/c/count").body["count"], 2);
    assert_eq!(s.get("/_db/d/_api/document/c/2").body["v"], 2);
    let r = s.post("/_db/d/_api/document/c", json!({}));
    assert_eq!(r.body["_key"], "3");
    assert!(common::rev_value(r.body["_rev"].as_str().unwrap()) > common::rev_value(&rev));
}

#[test]
fn users_created_with_a_database_may_use_only_that_database() {
    let s = Server::start();
    let r = s.post("/_api/database", json!({"name": "shop", "users": [{"username": "alice", "passwd": "pw"}]}));
    assert_eq!(r.status, 201);
    s.post("/_api/database", json!({"name": "other"}));
    s.post("/_db/shop/_api/collection", json!({"name": "c"}));
    let alice = "Basic YWxpY2U6cHc="; // alice:pw
    let wrong = "Basic YWxpY2U6eHg="; // alice:xx
    let call = |method: &str, path: &str, auth: &str| s.call_raw(method, path, b"{}", &[("Authorization", auth)]);
    assert_eq!(call("POST", "/_db/shop/_api/document/c", alice).status, 202);
    assert_eq!(call("GET", "/_db/shop/_api/collection/c/count", alice).body["count"], 1);
    assert_eq!(call("GET", "/_db/shop/_api/version", wrong).error(), (401, 11));
    assert_eq!(call("GET", "/_db/other/_api/version", alice).error(), (401, 11));
    assert_eq!(call("GET", "/_api/version", alice).error(), (401, 11));
    // An unknown database is only revealed to authenticated callers.
    assert_eq!(call("GET", "/_db/nowhere/_api/version", wrong).error(), (401, 11));
    assert_eq!(s.get("/_db/nowhere/_api/version").error(), (404, 1228));
    let mine = call("GET", "/_db/shop/_api/database/user", alice);
    assert_eq!(mine.body["result"], json!(["shop"]));
    // Tokens from /_open/auth carry the same grants.
    let jwt = s.call_raw("POST", "/_open/auth", br#"{"username":"alice","password":"pw"}"#, &[]).body["jwt"].as_str().unwrap().to_string();
    assert_eq!(call("GET", "/_db/shop/_api/collection/c", &format!("bearer {jwt}")).status, 200);
    assert_eq!(call("GET", "/_db/other/_api/version", &format!("bearer {jwt}")).status, 401);
    // Users are listed, and once removed can no longer log in.
    let users = s.get("/_api/user").body["result"].clone();
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["user"].as_str().unwrap()).collect();
    assert_eq!(names, ["root", "alice"]);
    assert_eq!(s.delete("/_api/user/alice").status, 202);
    assert_eq!(s.get("/_api/user/alice").error(), (404, 1703));
    assert_eq!(call("GET", "/_db/shop/_api/version", alice).status, 401);
}

#[test]
fn computed_values_fill_attributes_on_the_chosen_writes() {
    let s = Server::start();
    let cv = json!([
        {"name": "full", "expression": "RETURN CONCAT(@doc.first, ' ', @doc.last)", "computeOn": ["insert", "replace"]},
        {"name": "touched", "expression": "RETURN DATE_ISO8601(DATE_NOW())", "computeOn": ["update"], "overwrite": true},
        {"name": "ratio", "expression": "RETURN @doc.a / @doc.b", "failOnWarning": true, "keepNull": false},
        {"name": "maybe", "expression": "RETURN @doc.missing", "keepNull": false},
    ]);
    let r = s.post("/_api/collection", json!({"name": "people", "computedValues": cv}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["computedValues"][0]["overwrite"], false);
    let doc = s.post("/_api/document/people?returnNew=true", json!({"_key": "p", "first": "Ann", "last": "Lee", "a": 1, "b": 4})).body["new"].clone();
    assert_eq!(doc["full"], "Ann Lee");
    assert_eq!(doc["ratio"], 0.25);
    assert!(doc.get("maybe").is_none(), "keepNull=false drops null results");
    assert!(doc.get("touched").is_none(), "not computed on insert");
    // overwrite=false keeps what the client sent.
    let doc = s.post("/_api/document/people?returnNew=true", json!({"first": "A", "last": "B", "full": "mine", "a": 1, "b": 1})).body["new"].clone();
    assert_eq!(doc["full"], "mine");
    let doc = s.patch("/_api/document/people/p?returnNew=true", json!({"first": "Bo"})).body["new"].clone();
    assert!(doc["touched"].as_str().unwrap().ends_with('Z'));
    assert_eq!(doc["full"], "Ann Lee", "not recomputed on update");
    // failOnWarning: division by zero fails the write.
    let r = s.post("/_api/document/people", json!({"first": "x", "a": 1, "b": 0}));
    assert_eq!(r.error(), (400, 1562));
    // Bad definitions are refused with AQL's errors.
    let bad = |expr: &str| s.post("/_api/collection", json!({"name": "bad", "computedValues": [{"name": "x", "expression": expr}]})).error();
    assert_eq!(bad("RETURN 1 +"), (400, 1501));
    assert_eq!(bad("RETURN NOPE()"), (400, 1540));
    assert_eq!(bad("RETURN @other"), (400, 10));
    let r = s.post("/_api/collection", json!({"name": "bad", "computedValues": [{"name": "_key", "expression": "RETURN 1"}]}));
    assert_eq!(r.error(), (400, 10));
    // Changing them through properties.
    let r = s.put("/_api/collection/people/properties", json!({"computedValues": [{"name": "k", "expression": "RETURN 42"}]}));
    assert_eq!(r.body["computedValues"][0]["name"], "k");
    assert_eq!(s.post("/_api/document/people?returnNew=true", json!({})).body["new"]["k"], 42);
}

/// Regressions found in review: each of these once misbehaved.
#[test]
fn review_regressions() {
    let s = Server::start();
    // A huge numeric user key used to wrap the server-wide id counter, reusing ids.
    s.post("/_api/collection", json!({"name": "trad"}));
    assert_eq!(s.post("/_api/document/trad", json!({"_key": "18446744073709551615"})).status, 202);
    assert_eq!(s.post("/_api/document/trad", json!({})).error(), (500, 1225), "that collection is out of keys");
    let a = s.post("/_api/collection", json!({"name": "after1"})).body["id"].as_str().unwrap().parse::<u64>().unwrap();
    let b = s.post("/_api/collection", json!({"name": "after2"})).body["id"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(b > a && a < 1 << 40, "ids keep counting up from where they were");
    // Multi-document removes with waitForSync answer 200, like single ones.
    s.post("/_api/document/after1", json!([{"_key": "x"}, {"_key": "y"}]));
    assert_eq!(s.call("DELETE", "/_api/document/after1?waitForSync=true", Some(&json!(["x", "y"]))).status, 200);
    // An ignored insert with waitForSync still answers 201.
    s.post("/_api/document/after1", json!({"_key": "z"}));
    assert_eq!(s.post("/_api/document/after1?overwriteMode=ignore&waitForSync=true", json!({"_key": "z"})).status, 201);
    // overwrite=true with complete=true used to empty the collection even when the import failed.
    let auth = s.auth();
    let r = s.call_raw("POST", "/_api/import?collection=after1&type=list&overwrite=true&complete=true", br#"[{"_key":"n1"},{"_key":"n1"}]"#, &[("Authorization", &auth)]);
    assert_eq!(r.error(), (409, 1210));
    assert_eq!(s.get("/_api/document/after1/z").status, 200, "the collection was left as it was");
    let r = s.call_raw("POST", "/_api/import?collection=after1&type=list&overwrite=true", br#"[{"_key":"n1"}]"#, &[("Authorization", &auth)]);
    assert_eq!(r.body["created"], 1);
    assert_eq!(s.get("/_api/collection/after1/count").body["count"], 1);
    // _system/_users cannot be dropped or truncated, even by root.
    assert_eq!(s.delete("/_api/collection/_users?isSystem=true").error(), (403, 11));
    // writeConcern and replicationFactor may change together.
    s.post("/_api/collection", json!({"name": "rf"}));
    let r = s.put("/_api/collection/rf/properties", json!({"replicationFactor": 3, "writeConcern": 3}));
    assert_eq!((r.body["replicationFactor"].clone(), r.body["writeConcern"].clone()), (json!(3), json!(3)));
    assert_eq!(s.post("/_api/database", json!({"name": "x", "options": {"replicationFactor": 2, "writeConcern": 3}})).error(), (400, 10));
    // A bad user entry refuses the whole database creation, before anything is created.
    assert_eq!(s.post("/_api/database", json!({"name": "y", "users": [{"username": "a:b"}]})).error(), (400, 1700));
    assert_eq!(s.get("/_db/y/_api/version").error(), (404, 1228));
    // Restored revisions move the clock: a later write gets a greater _rev.
    let restored = "_zzzzzzzzz-";
    s.post("/_api/document/rf?isRestore=true", json!({"_key": "r", "_rev": restored}));
    let later = s.patch("/_api/document/rf/r", json!({"v": 1})).body["_rev"].as_str().unwrap().to_string();
    assert!(common::rev_value(&later) > common::rev_value(restored));
}

#[test]
fn explain_parse_and_rules() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    s.post("/_api/document/c", json!([{"_key": "a", "v": 1}, {"_key": "b", "v": 2}]));
    let r = s.post("/_api/explain", json!({"query": "FOR d IN c FILTER d._key == @k RETURN d.v", "bindVars": {"k": "a"}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let plan = &r.body["plan"];
    let types: Vec<&str> = plan["nodes"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["SingletonNode", "IndexNode", "CalculationNode", "ReturnNode"]);
    assert_eq!(plan["rules"], json!(["reduce-extraction-to-projection", "use-indexes", "remove-filter-covered-by-index"]));
    assert_eq!(plan["collections"], json!([{"name": "c", "type": "read"}]));
    assert_eq!((plan["isModificationQuery"].clone(), plan["nodes"][1]["dependencies"].clone()), (json!(false), json!([1])));
    // The plan is what runs: the cursor reads through the index.
    let run = s.post("/_api/cursor", json!({"query": "FOR d IN c FILTER d._key == @k RETURN d.v", "bindVars": {"k": "a"}}));
    assert_eq!((run.body["result"].clone(), run.body["extra"]["stats"]["scannedIndex"].clone()), (json!([1]), json!(1)));
    let r = s.post("/_api/explain", json!({"query": "FOR d IN c RETURN d", "options": {"allPlans": true, "optimizer": {"rules": ["-all"]}}}));
    assert_eq!((r.status, r.body["plans"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(s.post("/_api/explain", json!({"query": "FOR d IN nope RETURN d"})).error(), (404, 1203));
    assert_eq!(s.post("/_api/explain", json!({"query": "FOR d IN"})).error(), (400, 1501));
    assert_eq!(s.post("/_api/explain", json!({"query": "RETURN @x"})).error(), (400, 1551));

    let r = s.post("/_api/query", json!({"query": "FOR d IN c FILTER d.v > @min RETURN d"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["parsed"].clone(), r.body["collections"].clone(), r.body["bindVars"].clone()), (json!(true), json!(["c"]), json!(["min"])));
    assert_eq!(r.body["ast"][0]["type"], "root");
    assert_eq!(r.body["ast"][0]["subNodes"][0]["type"], "for");
    assert_eq!(s.post("/_api/query", json!({"query": "INVALID QUERY"})).error(), (400, 1501));
    // profile 2: phase times, each node's counts, and the plan.
    let r = s.post("/_api/cursor", json!({"query": "FOR d IN c FILTER d.v > 1 RETURN d.v", "options": {"profile": 2}}));
    assert_eq!(r.body["result"], json!([2]));
    assert!(r.body["extra"]["profile"]["executing"].as_f64().unwrap() > 0.0, "{}", r.body);
    let nodes = r.body["extra"]["stats"]["nodes"].as_array().unwrap().clone();
    let by_id = |id: u64| nodes.iter().find(|n| n["id"] == id).cloned().unwrap_or_default();
    let plan_nodes = r.body["extra"]["plan"]["nodes"].as_array().unwrap().clone();
    let id_of = |t: &str| plan_nodes.iter().find(|n| n["type"] == t).map(|n| n["id"].as_u64().unwrap()).unwrap();
    assert_eq!((by_id(id_of("EnumerateCollectionNode"))["items"].clone(), by_id(id_of("FilterNode"))["items"].clone()), (json!(2), json!(1)));
    assert_eq!((by_id(id_of("FilterNode"))["filtered"].clone(), by_id(id_of("ReturnNode"))["items"].clone()), (json!(1), json!(1)));
    let r = s.get("/_api/query/rules");
    assert!(r.body.as_array().unwrap().iter().any(|rule| rule["name"] == "use-indexes"), "{}", r.body);
}

#[test]
fn query_results_and_plan_caches() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    s.post("/_api/document/c", json!({"_key": "a", "v": 1}));
    assert_eq!(s.get("/_api/query-cache/properties").body["mode"], "off");
    let q = json!({"query": "FOR d IN @@c RETURN d.v", "bindVars": {"@c": "c"}, "cache": true});
    // Off: nothing is cached.
    assert_eq!(s.post("/_api/cursor", q.clone()).body["cached"], false);
    let r = s.put("/_api/query-cache/properties", json!({"mode": "demand", "maxResults": 10}));
    assert_eq!((r.status, r.body["mode"].clone(), r.body["maxResults"].clone()), (200, json!("demand"), json!(10)));
    assert_eq!(s.put("/_api/query-cache/properties", json!({"mode": "sometimes"})).error(), (400, 400));
    assert_eq!(s.post("/_api/cursor", q.clone()).body["cached"], false);
    let r = s.post("/_api/cursor", q.clone());
    assert_eq!((r.body["cached"].clone(), r.body["result"].clone()), (json!(true), json!([1])));
    // Without cache: true in demand mode, and for queries that write or call RAND(), no.
    assert_eq!(s.post("/_api/cursor", json!({"query": "FOR d IN c RETURN d.v"})).body["cached"], false);
    let rand = json!({"query": "FOR d IN c RETURN RAND()", "cache": true});
    s.post("/_api/cursor", rand.clone());
    assert_eq!(s.post("/_api/cursor", rand).body["cached"], false);
    let entries = s.get("/_api/query-cache/entries").body;
    assert_eq!((entries.as_array().unwrap().len(), entries[0]["hits"].clone()), (1, json!(1)));
    // A write makes the entry stale: the next run reads the new data.
    s.post("/_api/document/c", json!({"_key": "b", "v": 2}));
    let r = s.post("/_api/cursor", q.clone());
    assert_eq!((r.body["cached"].clone(), r.body["result"].clone()), (json!(false), json!([1, 2])));
    // So does truncating.
    s.put("/_api/collection/c/truncate", json!({}));
    let r = s.post("/_api/cursor", q.clone());
    assert_eq!((r.body["cached"].clone(), r.body["result"].clone()), (json!(false), json!([])));
    assert_eq!(s.delete("/_api/query-cache").status, 200);
    assert_eq!(s.get("/_api/query-cache/entries").body, json!([]));
    // The plan cache keeps parsed queries for usePlanCache.
    let p = json!({"query": "FOR d IN @@c RETURN d", "bindVars": {"@c": "c"}, "options": {"usePlanCache": true}});
    s.post("/_api/cursor", p.clone());
    s.post("/_api/cursor", p);
    let plans = s.get("/_api/query-plan-cache").body;
    assert_eq!((plans.as_array().unwrap().len(), plans[0]["hits"].clone()), (1, json!(1)));
    assert_eq!(s.delete("/_api/query-plan-cache").status, 200);
    assert_eq!(s.get("/_api/query-plan-cache").body, json!([]));
}

#[test]
fn aql_cursors_batch_results() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "c"}));
    let r = s.post("/_api/cursor", json!({"query": "FOR i IN 1..5 INSERT {_key: TO_STRING(i), i} INTO c RETURN NEW._key"}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["extra"]["stats"]["writesExecuted"], 5);
    let r = s.post("/_api/cursor", json!({"query": "FOR d IN @@c SORT d.i DESC RETURN d.i", "bindVars": {"@c": "c"}, "batchSize": 2, "count": true, "options": {"allowRetry": true}}));
    assert_eq!((r.body["result"].clone(), r.body["hasMore"].clone(), r.body["count"].clone()), (json!([5, 4]), json!(true), json!(5)));
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = s.put(&format!("/_api/cursor/{id}"), json!({}));
    assert_eq!((r.status, r.body["result"].clone(), r.body["hasMore"].clone()), (200, json!([3, 2]), json!(true)));
    // A lost answer can be fetched again by its batch id.
    let again = s.post(&format!("/_api/cursor/{id}/{}", r.body["nextBatchId"].as_str().unwrap().parse::<u64>().unwrap() - 1), json!({}));
    assert_eq!(again.body["result"], json!([3, 2]));
    let r = s.put(&format!("/_api/cursor/{id}"), json!({}));
    assert_eq!((r.body["result"].clone(), r.body["hasMore"].clone()), (json!([1]), json!(false)));
    assert_eq!(s.put(&format!("/_api/cursor/{id}"), json!({})).error(), (404, 1600));
    // Without allowRetry the last batch is not kept, and asking for it again is refused.
    let r = s.post("/_api/cursor", json!({"query": "FOR d IN c RETURN d", "batchSize": 1}));
    let id = r.body["id"].as_str().unwrap().to_string();
    let next = r.body["nextBatchId"].as_str().unwrap().to_string();
    assert_eq!(s.post(&format!("/_api/cursor/{id}/{next}"), json!({})).status, 200);
    assert_eq!(s.post(&format!("/_api/cursor/{id}/{next}"), json!({})).error(), (400, 400));
    assert_eq!(s.delete(&format!("/_api/cursor/{id}")).status, 202);
    let r = s.post("/_api/cursor", json!({"query": "FOR d IN c RETURN d", "batchSize": 1}));
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&format!("/_api/cursor/{id}")).status, 202);
    assert_eq!(s.delete(&format!("/_api/cursor/{id}")).error(), (404, 1600));
    let r = s.post("/_api/cursor", json!({"query": "FOR d IN c LIMIT 1, 2 RETURN d.i", "options": {"fullCount": true}}));
    assert_eq!(r.body["extra"]["stats"]["fullCount"], 5);
    // ArangoDB's errors.
    assert_eq!(s.post("/_api/cursor", json!({"query": "FOR x IN RETURN"})).error(), (400, 1501));
    assert_eq!(s.post("/_api/cursor", json!({"query": ""})).error(), (400, 1502));
    assert_eq!(s.post("/_api/cursor", json!({"query": "FOR d IN nope RETURN d"})).error(), (404, 1203));
    assert_eq!(s.post("/_api/cursor", json!({"query": "RETURN @x"})).error(), (400, 1551));
    assert_eq!(s.post("/_api/cursor", json!({"query": "RETURN 1", "bindVars": {"y": 1}})).error(), (400, 1552));
}

/// `stream`: the query runs as batches are read, holding about a batch of results.
#[test]
fn streaming_cursors_compute_as_they_are_read() {
    let s = Server::start();
    // A hundred million results: kept, they pass memoryLimit; streamed, they never exist at once.
    let huge = "FOR i IN 1..10000 FOR j IN 1..10000 RETURN i * 10000 + j";
    assert_eq!(s.post("/_api/cursor", json!({"query": huge, "memoryLimit": 1_000_000})).error(), (400, 32));
    let r = s.post("/_api/cursor", json!({"query": huge, "memoryLimit": 1_000_000, "batchSize": 3, "options": {"stream": true}}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["result"].clone(), r.body["hasMore"].clone()), (json!([10001, 10002, 10003]), json!(true)));
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = s.put(&format!("/_api/cursor/{id}"), json!({}));
    assert_eq!((r.body["result"].clone(), r.body["hasMore"].clone()), (json!([10004, 10005, 10006]), json!(true)));
    // Still running, between batches; deleting the cursor ends it.
    let running = |s: &Server| s.get("/_api/query/current").body.as_array().map_or(0, |a| a.iter().filter(|q| q["query"] == huge).count());
    assert_eq!(running(&s), 1);
    assert_eq!(s.delete(&format!("/_api/cursor/{id}")).status, 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while running(&s) > 0 {
        assert!(std::time::Instant::now() < deadline, "the streaming query did not stop after its cursor was deleted");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A batch itself may not pass memoryLimit.
    let r = s.post("/_api/cursor", json!({"query": huge, "memoryLimit": 1_000_000, "batchSize": 100_000_000, "options": {"stream": true}}));
    assert_eq!(r.error(), (400, 32));
    // Read to the end: every result once, in order, and the statistics last.
    let mut got = Vec::new();
    let mut r = s.post("/_api/cursor", json!({"query": "FOR i IN 1..10 RETURN i", "batchSize": 4, "options": {"stream": true}}));
    loop {
        got.extend(r.body["result"].as_array().unwrap().iter().cloned());
        if r.body["hasMore"] != true {
            break;
        }
        r = s.put(&format!("/_api/cursor/{}", r.body["id"].as_str().unwrap()), json!({}));
    }
    assert_eq!(got, (1..=10).map(|i| json!(i)).collect::<Vec<_>>());
    assert_eq!(r.body["extra"]["stats"]["scannedFull"], 0);
    // An error met on the way ends the cursor with it.
    let r = s.post("/_api/cursor", json!({"query": "FOR i IN 1..100 RETURN i == 50 ? FAIL('fifty') : i", "batchSize": 10, "options": {"stream": true}}));
    assert_eq!(r.body["result"].as_array().map(Vec::len), Some(10));
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut failed = None;
    for _ in 0..10 {
        let r = s.put(&format!("/_api/cursor/{id}"), json!({}));
        if r.status != 200 {
            failed = Some(r.error());
            break;
        }
    }
    assert_eq!(failed, Some((400, 1569)));
}

#[test]
fn indexes_every_collection_has_are_listed() {
    let s = Server::start();
    s.post("/_api/collection", json!({"name": "e", "type": 3}));
    let r = s.get("/_api/index?collection=e");
    let types: Vec<&str> = r.body["indexes"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["primary", "edge"]);
    assert_eq!(s.get("/_api/index/e/0").body["type"], "primary");
    assert_eq!(s.get("/_api/index/e/9").error(), (404, 1212));
    assert_eq!(s.post("/_api/index?collection=e", json!({"type": "primary"})).body["isNewlyCreated"], false);
    assert_eq!(s.post("/_api/index?collection=e", json!({"type": "persistent", "fields": ["a"]})).error(), (501, 9));
    assert_eq!(s.delete("/_api/index/e/0").error(), (501, 9));
}

#[test]
fn metrics_count_requests() {
    let s = Server::start();
    for _ in 0..3 {
        s.get("/_api/version");
    }
    let r = s.get("/_admin/metrics/v2");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(r.raw).unwrap();
    let value = |name: &str| -> f64 {
        text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split(' ').nth(1)).unwrap().parse().unwrap()
    };
    assert!(value("arangodb_http_request_statistics_http_get_requests_total") >= 3.0);
    assert!(value("arangodb_http_request_statistics_total_requests_total") >= 4.0);
}

#[test]
fn running_queries_are_listed_and_killed() {
    let s = Server::start();
    let props = s.get("/_api/query/properties");
    assert_eq!((props.body["enabled"].clone(), props.body["maxSlowQueries"].clone()), (json!(true), json!(64)));
    assert_eq!(s.put("/_api/query/properties", json!({"enabled": "yes"})).error(), (400, 400));
    // Every finished query counts as slow from now on; two are kept.
    let r = s.put("/_api/query/properties", json!({"slowQueryThreshold": 0, "maxSlowQueries": 2}));
    assert_eq!((r.status, r.body["maxSlowQueries"].clone(), r.body["enabled"].clone()), (200, json!(2), json!(true)));

    // maxRuntime only bounds the test if the kill does not work; its message differs.
    let endless = json!({"query": "FOR i IN 1..100000 FOR j IN 1..100000 FILTER i < @x RETURN i", "bindVars": {"x": 0}, "options": {"maxRuntime": 60}});
    std::thread::scope(|t| {
        let running = t.spawn(|| s.post("/_api/cursor", endless.clone()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let listed = loop {
            let current = s.get("/_api/query/current");
            if let Some(q) = current.body.as_array().and_then(|a| a.first()) {
                break q.clone();
            }
            assert!(Instant::now() < deadline, "the query never showed in /_api/query/current");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!((listed["state"].as_str(), listed["database"].as_str(), listed["bindVars"].clone()), (Some("executing"), Some("_system"), json!({"x": 0})));
        assert!(listed["started"].as_str().unwrap().ends_with('Z'), "{listed}");
        let id = listed["id"].as_str().unwrap().to_string();
        assert_eq!(s.delete(&format!("/_api/query/{id}")).status, 200);
        let r = running.join().unwrap();
        assert_eq!(r.error(), (410, 1500), "{}", r.body);
        assert!(!r.body["errorMessage"].as_str().unwrap().contains("maxRuntime"), "{}", r.body);
        assert_eq!(s.delete(&format!("/_api/query/{id}")).error(), (404, 1591));
    });
    assert_eq!(s.get("/_api/query/current").body, json!([]));
    // SLEEP notices the kill too; `all=true` is for administrators in _system only.
    assert_eq!(s.post("/_api/database", json!({"name": "other"})).status, 201);
    assert_eq!(s.get("/_db/other/_api/query/current?all=true").error(), (403, 11));
    std::thread::scope(|t| {
        let sleeping = t.spawn(|| s.post("/_db/other/_api/cursor", json!({"query": "RETURN SLEEP(60)"})));
        let deadline = Instant::now() + Duration::from_secs(30);
        let id = loop {
            assert_eq!(s.get("/_api/query/current").body, json!([]), "a query of another database listed");
            let all = s.get("/_api/query/current?all=true");
            if let Some(q) = all.body.as_array().and_then(|a| a.first()) {
                assert_eq!(q["database"], "other");
                break q["id"].as_str().unwrap().to_string();
            }
            assert!(Instant::now() < deadline, "the query never showed in /_api/query/current?all=true");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(s.delete(&format!("/_api/query/{id}")).error(), (404, 1591), "killed from another database");
        assert_eq!(s.delete(&format!("/_api/query/{id}?all=true")).status, 200);
        assert_eq!(sleeping.join().unwrap().error(), (410, 1500));
    });
    let killed = s.get("/_api/query/slow?all=true").body;
    assert_eq!(killed[0]["exitCode"], 1500, "{killed}");
    assert_eq!(s.delete("/_api/query/slow?all=true").status, 200);
    for i in 0..3 {
        assert_eq!(s.post("/_api/cursor", json!({"query": format!("RETURN {i}")})).status, 201);
    }
    let slow = s.get("/_api/query/slow").body;
    let texts: Vec<&str> = slow.as_array().unwrap().iter().map(|q| q["query"].as_str().unwrap()).collect();
    assert_eq!(texts, ["RETURN 1", "RETURN 2"]);
    assert_eq!((slow[0]["state"].as_str(), slow[0]["exitCode"].as_i64()), (Some("finished"), Some(0)));
    assert_eq!(s.delete("/_api/query/slow").status, 200);
    assert_eq!(s.get("/_api/query/slow").body, json!([]));
    assert_eq!(s.delete("/_api/query/nonsense").error(), (404, 1591));
}
