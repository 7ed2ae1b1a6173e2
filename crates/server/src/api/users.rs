//! Users in `_system/_users`, in ArangoDB's document shape. Only what database creation
//! needs so far: create a user (salted SHA-256, as ArangoDB stores `authData.simple`) and
//! grant it read-write access to a database. Logging in as these users, and `/_api/user`,
//! come with the users issue.

use docstore::{OverwriteMode, WriteItem, WriteKind, WriteOptions};
use errors::{Result, ERROR_USER_DUPLICATE};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the users listed in `POST /_api/database`'s `users` (if missing) with `rw` on `db`.
pub fn grant_on_new_database(ctx: &Ctx, db: &str, users: &[Value]) -> Result<()> {
    let system = ctx.store.database(docstore::SYSTEM_DATABASE)?;
    let col = system.collection("_users")?;
    for u in users {
        let name = u.get("username").or_else(|| u.get("user")).and_then(Value::as_str).unwrap_or_default();
        let mut existing = None;
        ctx.store.scan_documents(&col, |key, doc| {
            let found = doc.to_value("_users", key).ok().filter(|v| v["user"] == name);
            existing = found.map(|v| (key.to_string(), v));
            existing.is_none()
        })?;
        let mut doc = match existing {
            Some((_, v)) => v,
            None => {
                let mut salt = [0u8; 8];
                rand::rng().fill_bytes(&mut salt);
                let password = u.get("passwd").and_then(Value::as_str).unwrap_or("");
                let hash = Sha256::new().chain_update(hex(&salt)).chain_update(password).finalize();
                json!({
                    "user": name,
                    "source": "LOCAL",
                    "active": u.get("active").and_then(Value::as_bool).unwrap_or(true),
                    "extra": u.get("extra").cloned().unwrap_or(json!({})),
                    "authData": {"active": true, "simple": {"method": "sha256", "salt": hex(&salt), "hash": hex(&hash)}},
                    "databases": {},
                })
            }
        };
        doc["databases"][db] = json!({"permissions": {"read": true, "write": true}});
        let item = WriteItem { body: doc, key: None, if_match: None };
        let (mut results, _) = ctx.store.write_documents(
            &col,
            WriteKind::Insert(OverwriteMode::Replace),
            vec![item],
            &WriteOptions { wait_for_sync: true, ..Default::default() },
        )?;
        if let Some(Err(e)) = results.pop() {
            return Err(if e.error.code == errors::ERROR_ARANGO_UNIQUE_CONSTRAINT_VIOLATED { errors::ArangoError::new(ERROR_USER_DUPLICATE) } else { e.error });
        }
    }
    Ok(())
}

/// The stored user document of `name`, if any.
fn stored_user(ctx: &Ctx, name: &str) -> Option<Value> {
    let col = ctx.store.database(docstore::SYSTEM_DATABASE).ok()?.collection("_users").ok()?;
    let mut found = None;
    ctx.store
        .scan_documents(&col, |key, doc| {
            found = doc.to_value("_users", key).ok().filter(|v| v["user"] == name);
            found.is_none()
        })
        .ok()?;
    found
}

/// Checks a stored user's password (salted SHA-256, as ArangoDB's `authData.simple`).
/// Returns the user's document if it matches and the user is active.
pub fn authenticate(ctx: &Ctx, name: &str, password: &str) -> Option<Value> {
    let user = stored_user(ctx, name)?;
    let simple = &user["authData"]["simple"];
    let salt = simple["salt"].as_str()?;
    let hash = hex(&Sha256::new().chain_update(salt).chain_update(password).finalize());
    let stored = simple["hash"].as_str()?;
    let matches = hash.len() == stored.len() && hash.bytes().zip(stored.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    (matches && user["active"] != false).then_some(user)
}

/// A user known from a token: must exist and be active.
pub fn lookup_active(ctx: &Ctx, name: &str) -> Option<Value> {
    stored_user(ctx, name).filter(|u| u["active"] != false)
}

/// Whether a stored user may use database `db` (`write` for anything but reads), from the
/// `databases` grants in its document. Until the users issue brings full access levels,
/// only database-level grants exist; `_system` needs an explicit grant too.
pub fn may_use(user: &Value, db: &str, write: bool) -> bool {
    let grants = &user["databases"];
    [db, "*"].iter().any(|d| {
        let p = &grants[*d]["permissions"];
        if write { p["write"] == true } else { p["read"] == true }
    })
}

/// Users as `/_api/user` lists them: root, then the users stored in `_system/_users`.
fn all_users(ctx: &Ctx) -> Result<Vec<(Option<String>, Value)>> {
    let system = ctx.store.database(docstore::SYSTEM_DATABASE)?;
    let col = system.collection("_users")?;
    let mut users = vec![(None, json!({"user": "root", "active": true, "extra": {}}))];
    let mut failure = None;
    ctx.store.scan_documents(&col, |key, doc| match doc.to_value("_users", key) {
        Ok(v) => {
            let entry = json!({"user": v["user"], "active": v["active"], "extra": v["extra"]});
            users.push((Some(key.to_string()), entry));
            true
        }
        Err(e) => {
            failure = Some(e);
            false
        }
    })?;
    failure.map_or(Ok(users), Err)
}

/// `GET /_api/user`.
pub fn list(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    let users: Vec<Value> = all_users(ctx)?.into_iter().map(|(_, v)| v).collect();
    Ok(Resp::result(200, Value::Array(users)))
}

fn find(ctx: &Ctx, name: &str) -> Result<(Option<String>, Value)> {
    all_users(ctx)?
        .into_iter()
        .find(|(_, v)| v["user"] == name)
        .ok_or_else(|| errors::err!(errors::ERROR_USER_NOT_FOUND, "user not found"))
}

/// `GET /_api/user/<name>`.
pub fn get(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, mut user) = find(ctx, req.param(0))?;
    user["error"] = json!(false);
    user["code"] = json!(200);
    Ok(Resp::json(200, &user))
}

/// `DELETE /_api/user/<name>`: removes a stored user; root stays.
pub fn remove(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (key, _) = find(ctx, req.param(0))?;
    let Some(key) = key else {
        return Err(errors::err!(errors::ERROR_FORBIDDEN, "the root user cannot be removed"));
    };
    let col = ctx.store.database(docstore::SYSTEM_DATABASE)?.collection("_users")?;
    let item = WriteItem { body: json!({}), key: Some(key), if_match: None };
    let opts = WriteOptions { wait_for_sync: true, ..Default::default() };
    let (mut results, _) = ctx.store.write_documents(&col, WriteKind::Remove, vec![item], &opts)?;
    if let Some(Err(e)) = results.pop() {
        return Err(e.error);
    }
    Ok(Resp::ok(202, serde_json::Map::new()))
}
