//! Users, access levels and authentication, through the real binary.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use common::Server;
use serde_json::{json, Value};

fn basic(user: &str, password: &str) -> String {
    common::basic_header(user, password)
}

#[test]
fn users_are_created_changed_and_removed() {
    let s = Server::start();
    let r = s.post("/_api/user", json!({"user": "ann", "passwd": "pw1", "extra": {"team": "a"}}));
    assert_eq!((r.status, r.body["user"].clone(), r.body["extra"]["team"].clone()), (201, json!("ann"), json!("a")));
    assert_eq!(s.post("/_api/user", json!({"user": "ann"})).error(), (409, 1702));
    assert_eq!(s.post("/_api/user", json!({"user": ""})).error(), (400, 1700));
    assert_eq!(s.post("/_api/user", json!({"user": "a:b"})).error(), (400, 1700));
    assert_eq!(s.get("/_api/user/nobody").error(), (404, 1703));
    let names: Vec<Value> = s.get("/_api/user").body["result"].as_array().unwrap().iter().map(|u| u["user"].clone()).collect();
    assert_eq!(names, [json!("root"), json!("ann")]);
    assert_eq!(s.patch("/_api/user/ann", json!({"active": false})).body["active"], false);
    let ann = basic("ann", "pw1");
    s.put("/_api/user/ann/database/_system", json!({"grant": "ro"}));
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &ann)]).status, 401, "inactive users cannot log in");
    s.patch("/_api/user/ann", json!({"active": true}));
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &ann)]).status, 200);
    // A user may change their own password, but nothing else.
    let r = s.call_raw("PATCH", "/_api/user/ann", br#"{"passwd":"pw2"}"#, &[("Authorization", &ann)]);
    assert_eq!(r.status, 200);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &ann)]).status, 401);
    let ann = basic("ann", "pw2");
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &ann)]).status, 200);
    let r = s.call_raw("PATCH", "/_api/user/ann", br#"{"active":true}"#, &[("Authorization", &ann)]);
    assert_eq!(r.error(), (403, 11));
    assert_eq!(s.call_raw("PATCH", "/_api/user/root", br#"{"passwd":"x"}"#, &[("Authorization", &ann)]).error(), (403, 11));
    // Replace resets what is not given.
    assert_eq!(s.put("/_api/user/ann", json!({"passwd": "pw3"})).body["extra"], json!({}));
    assert_eq!(s.delete("/_api/user/ann").status, 202);
    assert_eq!(s.delete("/_api/user/ann").error(), (404, 1703));
    assert_eq!(s.delete("/_api/user/root").error(), (403, 11));
    // Passwords are never stored in clear.
    let data = std::fs::read_dir(s.data_dir().join("engine-rocksdb")).unwrap();
    for f in data.flatten() {
        let bytes = std::fs::read(f.path()).unwrap_or_default();
        assert!(!bytes.windows(3).any(|w| w == b"pw3"), "{:?} holds a password", f.path());
    }
}

#[test]
fn access_levels_are_enforced_per_database_and_collection() {
    let s = Server::start();
    s.post("/_api/database", json!({"name": "shop"}));
    s.post("/_db/shop/_api/collection", json!({"name": "items"}));
    s.post("/_db/shop/_api/collection", json!({"name": "secret"}));
    s.post("/_db/shop/_api/document/items", json!({"_key": "i"}));
    s.post("/_api/user", json!({"user": "bob", "passwd": "pw"}));
    let bob = basic("bob", "pw");
    let as_bob = |m: &str, p: &str, b: &str| s.call_raw(m, p, b.as_bytes(), &[("Authorization", &bob)]);
    // No grant: the database is closed (401), and not listed.
    assert_eq!(as_bob("GET", "/_db/shop/_api/document/items/i", "").error(), (401, 11));
    // Read-only database: reads work, writes are forbidden.
    assert_eq!(s.put("/_api/user/bob/database/shop", json!({"grant": "ro"})).body["shop"], "ro");
    assert_eq!(as_bob("GET", "/_db/shop/_api/document/items/i", "").status, 200);
    assert_eq!(as_bob("POST", "/_db/shop/_api/document/items", "{}").error(), (403, 11));
    assert_eq!(as_bob("POST", "/_db/shop/_api/collection", r#"{"name":"x"}"#).error(), (403, 11));
    assert_eq!(as_bob("GET", "/_db/shop/_api/database/user", "").body["result"], json!(["shop"]));
    // A collection grant beats the database level; none hides the collection.
    s.put("/_api/user/bob/database/shop/items", json!({"grant": "rw"}));
    s.put("/_api/user/bob/database/shop/secret", json!({"grant": "none"}));
    assert_eq!(as_bob("POST", "/_db/shop/_api/document/items", "{}").status, 202);
    assert_eq!(as_bob("GET", "/_db/shop/_api/document/secret/x", "").error(), (403, 11));
    let listed = as_bob("GET", "/_db/shop/_api/collection?excludeSystem=true", "").body["result"].clone();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["items"]);
    assert_eq!(as_bob("PUT", "/_db/shop/_api/document/secret?onlyget=true", r#"["x"]"#).error(), (403, 11));
    assert_eq!(as_bob("POST", "/_db/shop/_api/import?collection=secret&type=list", "[{}]").error(), (403, 11));
    // Effective levels as the API reports them.
    assert_eq!(s.get("/_api/user/bob/database/shop").body["result"], "ro");
    assert_eq!(s.get("/_api/user/bob/database/shop/items").body["result"], "rw");
    assert_eq!(s.get("/_api/user/bob/database/shop/secret").body["result"], "none");
    let full = s.get("/_api/user/bob/database?full=true").body["result"].clone();
    assert_eq!(full["shop"]["permission"], "ro");
    assert_eq!(full["shop"]["collections"]["items"], "rw");
    assert_eq!(s.get("/_api/user/bob/database").body["result"], json!({"shop": "ro"}));
    // Revoking, and bad grants.
    assert_eq!(s.delete("/_api/user/bob/database/shop/items").status, 202);
    assert_eq!(as_bob("POST", "/_db/shop/_api/document/items", "{}").error(), (403, 11));
    // Defaults (they also lift what a database grant leaves read-only) with "*".
    s.put("/_api/user/bob/database/*", json!({"grant": "rw"}));
    s.post("/_api/database", json!({"name": "other"}));
    assert_eq!(as_bob("POST", "/_db/other/_api/collection", r#"{"name":"mine"}"#).status, 200);
    assert_eq!(as_bob("POST", "/_db/shop/_api/document/items", "{}").status, 202);
    assert_eq!(s.put("/_api/user/bob/database/shop", json!({"grant": "all"})).error(), (400, 10));
    assert_eq!(s.put("/_api/user/bob/database/shop/_graphs", json!({"grant": "rw"})).error(), (400, 10));
    assert_eq!(s.put("/_api/user/root/database/_system", json!({"grant": "ro"})).error(), (403, 11));
    // Only administrators manage users and databases ("*" would make bob one).
    s.delete("/_api/user/bob/database/*");
    assert_eq!(as_bob("POST", "/_api/user", r#"{"user":"eve"}"#).error().0, 401, "no access to _system at all");
    s.put("/_api/user/bob/database/_system", json!({"grant": "ro"}));
    assert_eq!(as_bob("POST", "/_api/user", r#"{"user":"eve"}"#).error(), (403, 11));
    assert_eq!(as_bob("POST", "/_api/database", r#"{"name":"x"}"#).error(), (403, 11));
    // Dropping a database drops the grants on it.
    s.delete("/_api/database/shop");
    let full = s.get("/_api/user/bob/database?full=true").body["result"].clone();
    assert!(full.get("shop").is_none());
}

#[test]
fn tokens_from_open_auth_and_access_tokens() {
    let s = Server::start();
    s.post("/_api/user", json!({"user": "tia", "passwd": "pw"}));
    s.put("/_api/user/tia/database/_system", json!({"grant": "ro"}));
    let jwt = s.call_raw("POST", "/_open/auth", br#"{"username":"tia","password":"pw"}"#, &[]).body["jwt"].as_str().unwrap().to_string();
    let bearer = format!("bearer {jwt}");
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &bearer)]).status, 200);
    assert_eq!(s.call_raw("POST", "/_open/auth", br#"{"username":"tia","password":"no"}"#, &[]).status, 401);
    assert_eq!(s.call_raw("POST", "/_open/auth", br#"{"username":"ghost","password":"pw"}"#, &[]).status, 401);
    // Access tokens work as passwords until deleted or expired.
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    let t = s.post("/_api/token/tia", json!({"name": "ci", "valid_until": until}));
    assert_eq!(t.status, 200, "{}", t.body);
    let token = t.body["token"].as_str().unwrap().to_string();
    let as_token = basic("tia", &token);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &as_token)]).status, 200);
    // The token alone, with an empty user name, identifies its user.
    let token_only = basic("", &token);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &token_only)]).status, 200);
    let listed = s.get("/_api/token/tia").body["tokens"].clone();
    assert_eq!(listed[0]["name"], "ci");
    assert!(listed[0].get("token").is_none(), "tokens are shown once");
    let id = listed[0]["id"].as_u64().unwrap();
    assert_eq!(s.delete(&format!("/_api/token/tia/{id}")).status, 200);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &as_token)]).status, 401);
    let expired = s.post("/_api/token/tia", json!({"name": "old", "valid_until": 1}));
    let old = basic("tia", expired.body["token"].as_str().unwrap());
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &old)]).status, 401);
    // Removing the user invalidates their JWTs.
    s.delete("/_api/user/tia");
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &bearer)]).status, 401);
}

#[test]
fn superuser_tokens_and_secret_rotation() {
    use base64::Engine as _;
    use hmac_free::sign;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("secrets");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("1-current"), "current-secret").unwrap();
    std::fs::write(folder.join("2-previous"), "previous-secret").unwrap();
    let s = Server::start_with(&["--server.jwt-secret-folder", folder.to_str().unwrap()]);
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let token = |secret: &str, payload: &str| {
        let unsigned = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(payload));
        format!("bearer {unsigned}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sign(secret.as_bytes(), unsigned.as_bytes())))
    };
    let superuser = token("previous-secret", r#"{"iss":"arangodb","server_id":"s1"}"#);
    assert_eq!(s.call_raw("POST", "/_api/database", br#"{"name":"viajwt"}"#, &[("Authorization", &superuser)]).status, 201);
    let expired = token("current-secret", r#"{"iss":"arangodb","server_id":"s1","exp":1}"#);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &expired)]).status, 401);
    let wrong_iss = token("current-secret", r#"{"iss":"someone","server_id":"s1"}"#);
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &wrong_iss)]).status, 401);
    let info = s.get("/_admin/server/jwt").body["result"].clone();
    assert_eq!(info["passive"].as_array().unwrap().len(), 1);
    // Rotate: drop the previous secret and reload.
    std::fs::remove_file(folder.join("2-previous")).unwrap();
    assert_eq!(s.post("/_admin/server/jwt", json!({})).body["result"]["passive"], json!([]));
    assert_eq!(s.call_raw("GET", "/_api/version", b"", &[("Authorization", &superuser)]).status, 401);
}

#[test]
fn root_password_is_set_once_and_authentication_can_be_off() {
    let mut s = Server::start();
    s.put("/_api/user/root", json!({"passwd": "changed"}));
    s.password = "changed".into();
    s.restart();
    // ARANGO_ROOT_PASSWORD only initialises a new database, as in ArangoDB.
    assert_eq!(s.get("/_api/version").status, 200);
    let open = Server::start_with(&["--server.authentication", "false"]);
    assert_eq!(open.call_raw("POST", "/_api/database", br#"{"name":"free"}"#, &[]).status, 201);
}

/// HMAC-SHA256 for signing test tokens, without another dependency.
mod hmac_free {
    pub fn sign(key: &[u8], msg: &[u8]) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut k = if key.len() > 64 { Sha256::digest(key).to_vec() } else { key.to_vec() };
        k.resize(64, 0);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::new().chain_update(&ipad).chain_update(msg).finalize();
        Sha256::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
    }
}

/// Regression: renaming a collection one may not touch used to need only database access,
/// so a hidden collection could be renamed into view.
#[test]
fn renaming_or_dropping_needs_collection_access() {
    let s = Server::start();
    s.post("/_api/database", json!({"name": "d"}));
    s.post("/_db/d/_api/collection", json!({"name": "secret"}));
    s.post("/_api/user", json!({"user": "eve", "passwd": "pw"}));
    s.put("/_api/user/eve/database/d", json!({"grant": "rw"}));
    s.put("/_api/user/eve/database/d/secret", json!({"grant": "none"}));
    let eve = basic("eve", "pw");
    let as_eve = |m: &str, p: &str, b: &str| s.call_raw(m, p, b.as_bytes(), &[("Authorization", &eve)]);
    assert_eq!(as_eve("PUT", "/_db/d/_api/collection/secret/rename", r#"{"name":"mine"}"#).error(), (403, 11));
    assert_eq!(as_eve("DELETE", "/_db/d/_api/collection/secret", "").error(), (403, 11));
    assert_eq!(as_eve("PUT", "/_db/d/_api/collection/secret/properties", r#"{"waitForSync":true}"#).error(), (403, 11));
    assert_eq!(as_eve("POST", "/_db/d/_api/collection", r#"{"name":"own"}"#).status, 200);
    assert_eq!(as_eve("PUT", "/_db/d/_api/collection/own/rename", r#"{"name":"own2"}"#).status, 200);
    // A JWT from /_open/auth with an access token names the token's owner.
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
    let token = s.post("/_api/token/eve", json!({"name": "t", "valid_until": until})).body["token"].as_str().unwrap().to_string();
    let body = json!({"username": "", "password": token}).to_string();
    let jwt = s.call_raw("POST", "/_open/auth", body.as_bytes(), &[]).body["jwt"].as_str().unwrap().to_string();
    assert_eq!(s.call_raw("GET", "/_db/d/_api/collection/own2", b"", &[("Authorization", &format!("bearer {jwt}"))]).status, 200);
}
