//! Users: kept in `_system/_users` in ArangoDB's document shape, cached in memory, with
//! passwords hashed by PBKDF2-HMAC-SHA256 (ArangoDB's own salted `sha256` is read too, for
//! users restored from ArangoDB). A failed login always costs one slow hash, whether or
//! not the user exists; a successful one is remembered by a fast digest, so requests with
//! Basic credentials do not pay the slow hash every time.

use std::collections::HashMap;
use std::sync::Arc;

use docstore::{OverwriteMode, Store, WriteItem, WriteKind, WriteOptions};
use errors::{err, ArangoError, Result, ERROR_USER_DUPLICATE, ERROR_USER_NOT_FOUND};
use parking_lot::{Mutex, RwLock};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::access::{Grants, Level, SYSTEM};

/// PBKDF2 rounds for new password hashes.
const PBKDF2_ROUNDS: u32 = 10_000;
/// Bounds on the rounds read from stored documents, so a document cannot make one login
/// attempt cost minutes of CPU.
const PBKDF2_ROUNDS_MIN: u32 = 1_000;
const PBKDF2_ROUNDS_MAX: u32 = 1_000_000;
const PBKDF2_METHOD: &str = "pbkdf2-sha256";
/// Prefix of access tokens (`/_api/token`), which may be used as passwords.
const TOKEN_PREFIX: &str = "v1.";

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub id: u64,
    pub name: String,
    pub valid_until: i64,
    pub created_at: i64,
    pub fingerprint: String,
    pub active: bool,
    /// SHA-256 of the token; the token itself is shown once, at creation.
    pub hash: String,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    /// `_key` of its document in `_users`.
    pub key: Option<String>,
    pub active: bool,
    pub extra: Value,
    method: String,
    salt: String,
    hash: String,
    rounds: u32,
    pub grants: Grants,
    pub tokens: Vec<AccessToken>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_s() -> i64 {
    crate::unix_now().as_secs() as i64
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn pbkdf2_hex(password: &str, salt: &str, rounds: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), rounds, &mut out);
    hex(&out)
}

impl User {
    /// A new active user with a password and no grants.
    pub fn new(name: &str, password: &str) -> User {
        let mut u = User {
            name: name.to_string(),
            key: None,
            active: true,
            extra: json!({}),
            method: String::new(),
            salt: String::new(),
            hash: String::new(),
            rounds: 0,
            grants: Grants::default(),
            tokens: Vec::new(),
        };
        u.set_password(password);
        u
    }

    pub fn set_password(&mut self, password: &str) {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        self.salt = hex(&salt);
        self.method = PBKDF2_METHOD.to_string();
        self.rounds = PBKDF2_ROUNDS;
        self.hash = pbkdf2_hex(password, &self.salt, self.rounds);
    }

    /// The slow check of a password against the stored hash. Every method costs at least one
    /// PBKDF2 run, so timing does not tell which kind of user (or none) is behind a name.
    fn password_matches(&self, password: &str) -> bool {
        let rounds = self.rounds.clamp(PBKDF2_ROUNDS_MIN, PBKDF2_ROUNDS_MAX);
        let slow = pbkdf2_hex(password, &self.salt, rounds);
        let computed = match self.method.as_str() {
            PBKDF2_METHOD => slow,
            "sha256" => hex(&Sha256::new().chain_update(&self.salt).chain_update(password).finalize()),
            _ => return false,
        };
        constant_time_eq(computed.as_bytes(), self.hash.as_bytes())
    }

    /// The document stored in `_users`.
    pub fn to_document(&self) -> Value {
        let mut doc = json!({
            "user": self.name,
            "source": "LOCAL",
            "active": self.active,
            "extra": self.extra,
            "authData": {"active": self.active, "simple": {"method": self.method, "salt": self.salt, "hash": self.hash, "iterations": self.rounds}},
            "databases": self.grants.to_value(),
            "accessTokens": self.tokens.iter().map(|t| json!({
                "id": t.id, "name": t.name, "valid_until": t.valid_until, "created_at": t.created_at,
                "fingerprint": t.fingerprint, "active": t.active, "hash": t.hash,
            })).collect::<Vec<_>>(),
        });
        if let Some(k) = &self.key {
            doc["_key"] = json!(k);
        }
        doc
    }

    fn from_document(key: &str, doc: &Value) -> Option<User> {
        let simple = &doc["authData"]["simple"];
        Some(User {
            name: doc["user"].as_str()?.to_string(),
            key: Some(key.to_string()),
            active: doc["active"] != false,
            extra: doc.get("extra").cloned().filter(Value::is_object).unwrap_or(json!({})),
            method: simple["method"].as_str().unwrap_or("").to_string(),
            salt: simple["salt"].as_str().unwrap_or("").to_string(),
            hash: simple["hash"].as_str().unwrap_or("").to_string(),
            rounds: simple["iterations"].as_u64().and_then(|r| u32::try_from(r).ok()).unwrap_or(PBKDF2_ROUNDS),
            grants: Grants::new(&doc["databases"]),
            tokens: doc["accessTokens"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| {
                            Some(AccessToken {
                                id: t["id"].as_u64()?,
                                name: t["name"].as_str()?.to_string(),
                                valid_until: t["valid_until"].as_i64()?,
                                created_at: t["created_at"].as_i64().unwrap_or(0),
                                fingerprint: t["fingerprint"].as_str().unwrap_or("").to_string(),
                                active: t["active"] != false,
                                hash: t["hash"].as_str()?.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The public view, as `/_api/user` shows it.
    pub fn public(&self) -> Value {
        json!({"user": self.name, "active": self.active, "extra": self.extra})
    }

    /// Creates an access token; returns its public description with the token itself.
    pub fn create_token(&mut self, name: &str, valid_until: i64) -> Value {
        let mut raw = [0u8; 24];
        rand::rng().fill_bytes(&mut raw);
        let token = format!("{TOKEN_PREFIX}{}", hex(&raw));
        let id = self.tokens.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        let t = AccessToken {
            id,
            name: name.to_string(),
            valid_until,
            created_at: now_s(),
            fingerprint: format!("{}...{}", &token[..7], &token[token.len() - 5..]),
            active: true,
            hash: hex(&Sha256::digest(token.as_bytes())),
        };
        let mut v = token_json(&t);
        v["token"] = json!(token);
        self.tokens.push(t);
        v
    }

    fn token_matches(&self, token: &str) -> bool {
        let h = hex(&Sha256::digest(token.as_bytes()));
        let now = now_s();
        self.tokens.iter().any(|t| t.active && t.valid_until > now && constant_time_eq(t.hash.as_bytes(), h.as_bytes()))
    }
}

pub fn token_json(t: &AccessToken) -> Value {
    json!({"id": t.id, "name": t.name, "valid_until": t.valid_until, "created_at": t.created_at,
           "fingerprint": t.fingerprint, "active": t.active && t.valid_until > now_s()})
}

pub struct Users {
    /// Shared, so that checking a request's access copies nothing.
    cache: RwLock<HashMap<String, Arc<User>>>,
    /// Serialises changes (read, change, save) so that concurrent changes are not lost.
    changes: Mutex<()>,
    /// Fast digests of passwords that passed the slow check, by user.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// A user that exists for no one, so that unknown users cost a slow hash too.
    decoy: User,
}

fn users_collection(store: &Store) -> Result<std::sync::Arc<docstore::Collection>> {
    store.database(docstore::SYSTEM_DATABASE)?.collection("_users")
}

impl Users {
    /// Loads the users; on first start creates root with `root_password` and full access.
    pub fn load(store: &Store, root_password: &str) -> Result<Users> {
        let col = users_collection(store)?;
        let mut cache = HashMap::new();
        store.scan_documents(&col, |key, doc| {
            if let Some(u) = doc.to_value("_users", key).ok().and_then(|v| User::from_document(key, &v)) {
                cache.insert(u.name.clone(), Arc::new(u));
            }
            true
        })?;
        let users = Users { cache: RwLock::new(cache), changes: Mutex::new(()), verified: Mutex::default(), decoy: User::new("", "") };
        if users.get("root").is_none() {
            let mut root = User::new("root", root_password);
            root.grants.grant_database("*", Level::Rw);
            root.grants.grant_collection("*", "*", Level::Rw);
            root.grants.grant_database(SYSTEM, Level::Rw);
            users.save(store, root)?;
        }
        Ok(users)
    }

    pub fn get(&self, name: &str) -> Option<Arc<User>> {
        self.cache.read().get(name).cloned()
    }

    pub fn list(&self) -> Vec<Arc<User>> {
        let mut all: Vec<Arc<User>> = self.cache.read().values().cloned().collect();
        all.sort_by(|a, b| (a.name != "root", &a.name).cmp(&(b.name != "root", &b.name)));
        all
    }

    /// The user a name and password (or access token) authenticate, if any. With an empty
    /// name, an access token alone identifies its user. May run the slow hash.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<String> {
        if let Some(user) = self.authenticate_fast(name, password) {
            return Some(user);
        }
        (!name.is_empty() && self.check_password(name, password)).then(|| name.to_string())
    }

    /// The cheap checks only: access tokens, and passwords that passed the slow check
    /// before. `None` means the slow check is needed (or the credentials are wrong).
    pub fn authenticate_fast(&self, name: &str, password: &str) -> Option<String> {
        if name.is_empty() {
            if !password.starts_with(TOKEN_PREFIX) {
                return None;
            }
            let users = self.cache.read();
            return users.values().find(|u| u.active && u.token_matches(password)).map(|u| u.name.clone());
        }
        let user = self.get(name).filter(|u| u.active)?;
        if password.starts_with(TOKEN_PREFIX) && user.token_matches(password) {
            return Some(user.name.clone());
        }
        let fast: [u8; 32] = Sha256::new().chain_update(&user.salt).chain_update(password).finalize().into();
        self.verified.lock().get(name).is_some_and(|known| constant_time_eq(known, &fast)).then(|| user.name.clone())
    }

    fn check_password(&self, name: &str, password: &str) -> bool {
        let Some(user) = self.get(name).filter(|u| u.active) else {
            // Same cost as a real check, so that timing does not reveal who exists.
            self.decoy.password_matches(password);
            return false;
        };
        let fast: [u8; 32] = Sha256::new().chain_update(&user.salt).chain_update(password).finalize().into();
        let ok = user.password_matches(password);
        if ok {
            self.verified.lock().insert(name.to_string(), fast);
        }
        ok
    }

    /// Whether a user named in a token exists and is active.
    pub fn is_active(&self, name: &str) -> bool {
        self.get(name).is_some_and(|u| u.active)
    }

    /// Creates a user; 409 if it exists.
    pub fn create(&self, store: &Store, user: User) -> Result<()> {
        let _changes = self.changes.lock();
        if self.get(&user.name).is_some() {
            return Err(err!(ERROR_USER_DUPLICATE, "duplicate user"));
        }
        self.save_locked(store, user)
    }

    /// Stores a user (new or changed) durably, then updates the cache.
    pub fn save(&self, store: &Store, user: User) -> Result<()> {
        let _changes = self.changes.lock();
        self.save_locked(store, user)
    }

    fn save_locked(&self, store: &Store, mut user: User) -> Result<()> {
        let col = users_collection(store)?;
        let item = WriteItem { body: user.to_document(), key: None, if_match: None };
        let opts = WriteOptions { wait_for_sync: true, ..Default::default() };
        let (mut results, _) = store.write_documents(&col, WriteKind::Insert(OverwriteMode::Replace), vec![item], &opts)?;
        match results.pop() {
            Some(Ok(w)) => user.key = Some(w.key),
            Some(Err(e)) => return Err(e.error),
            None => return Err(err!(errors::ERROR_INTERNAL, "user not stored")),
        }
        self.verified.lock().remove(&user.name);
        self.cache.write().insert(user.name.clone(), Arc::new(user));
        Ok(())
    }

    pub fn remove(&self, store: &Store, name: &str) -> Result<()> {
        let _changes = self.changes.lock();
        let user = self.get(name).ok_or_else(|| ArangoError::new(ERROR_USER_NOT_FOUND))?;
        let col = users_collection(store)?;
        let item = WriteItem { body: json!({}), key: user.key.clone(), if_match: None };
        let opts = WriteOptions { wait_for_sync: true, ..Default::default() };
        let (mut results, _) = store.write_documents(&col, WriteKind::Remove, vec![item], &opts)?;
        if let Some(Err(e)) = results.pop() {
            return Err(e.error);
        }
        self.verified.lock().remove(name);
        self.cache.write().remove(name);
        Ok(())
    }

    /// Applies `change` to a stored user and saves it.
    pub fn modify(&self, store: &Store, name: &str, change: impl FnOnce(&mut User) -> Result<()>) -> Result<User> {
        let _changes = self.changes.lock();
        let current = self.get(name).ok_or_else(|| ArangoError::new(ERROR_USER_NOT_FOUND))?;
        let mut user = User::clone(&current);
        change(&mut user)?;
        self.save_locked(store, user.clone())?;
        Ok(user)
    }

    /// Creates `name` with `password` if missing, then applies `change`, as one change.
    pub fn upsert(&self, store: &Store, name: &str, make: impl FnOnce() -> Result<User>, change: impl FnOnce(&mut User)) -> Result<()> {
        let _changes = self.changes.lock();
        let mut user = match self.get(name) {
            Some(u) => User::clone(&u),
            None => make()?,
        };
        change(&mut user);
        self.save_locked(store, user)
    }

    /// Removes every user's grants on a dropped database.
    pub fn forget_database(&self, store: &Store, db: &str) -> Result<()> {
        let names: Vec<String> = self.cache.read().values().filter(|u| u.grants.databases().any(|d| d == db)).map(|u| u.name.clone()).collect();
        for name in names {
            self.modify(store, &name, |u| {
                u.grants.forget_database(db);
                Ok(())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_checked() {
        let u = User::new("bob", "s3cret");
        assert!(u.password_matches("s3cret"));
        assert!(!u.password_matches("wrong"));
        let doc = u.to_document();
        assert!(!doc.to_string().contains("s3cret"));
        assert_eq!(doc["authData"]["simple"]["method"], PBKDF2_METHOD);
        let back = User::from_document("k", &doc).unwrap();
        assert!(back.password_matches("s3cret"));
    }

    #[test]
    fn arangodb_sha256_hashes_are_understood() {
        let salt = "abcd";
        let hash = hex(&Sha256::new().chain_update(salt).chain_update("pw").finalize());
        let doc = json!({"user": "old", "authData": {"simple": {"method": "sha256", "salt": salt, "hash": hash}}});
        let u = User::from_document("k", &doc).unwrap();
        assert!(u.password_matches("pw"));
        assert!(!u.password_matches("px"));
    }

    #[test]
    fn access_tokens_work_until_they_expire() {
        let mut u = User::new("t", "pw");
        let created = u.create_token("ci", now_s() + 100);
        let token = created["token"].as_str().unwrap().to_string();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(u.token_matches(&token));
        assert!(!u.token_matches("v1.0000"));
        u.tokens[0].valid_until = now_s() - 1;
        assert!(!u.token_matches(&token));
        assert!(!u.to_document().to_string().contains(&token), "only the hash is stored");
    }
}
