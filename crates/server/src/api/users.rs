//! Users in `_system/_users`, in ArangoDB's document shape. Only what database creation
//! needs so far: create a user (salted SHA-256, as ArangoDB stores `authData.simple`) and
//! grant it read-write access to a database. Logging in as these users, and `/_api/user`,
//! come with the users issue.

use docstore::{OverwriteMode, WriteItem, WriteKind, WriteOptions};
use errors::{Result, ERROR_USER_DUPLICATE};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
