//! The catalog: databases and their collections, kept in memory and persisted in the
//! storage engine's meta space. DDL is serialised by one lock; document writes are not.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use errors::{err, Result, ERROR_ARANGO_DATABASE_NAME_INVALID, ERROR_ARANGO_DATABASE_NOT_FOUND,
    ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, ERROR_ARANGO_DUPLICATE_NAME, ERROR_ARANGO_ILLEGAL_NAME,
    ERROR_FORBIDDEN, ERROR_INTERNAL};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use storage::{counter_value, Batch, Engine, Space};

use crate::clock::Clock;
use crate::collection::{Collection, CollectionInfo, Shard, TYPE_DOCUMENT};
use crate::{keys, names};

pub const SYSTEM_DATABASE: &str = "_system";

/// System collections every database has, and those only `_system` has.
const SYSTEM_COLLECTIONS: &[&str] =
    &["_analyzers", "_aqlfunctions", "_graphs", "_queues", "_jobs", "_apps", "_appbundles", "_frontend"];
const SYSTEM_DATABASE_ONLY_COLLECTIONS: &[&str] = &["_users", "_statistics", "_statistics15", "_statisticsRaw"];

/// How many key stripes serialise writers of the same document.
const KEY_STRIPES: usize = 1024;

/// Database-wide defaults for new collections (`sharding`, `replicationFactor`,
/// `writeConcern`), stored with the database.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseInfo {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub sharding: String,
    #[serde(default = "one")]
    pub replication_factor: Value,
    #[serde(default = "one_u64")]
    pub write_concern: u64,
}
fn one() -> Value {
    json!(1)
}
fn one_u64() -> u64 {
    1
}

pub struct Database {
    pub info: DatabaseInfo,
    collections: RwLock<BTreeMap<String, Arc<Collection>>>,
    /// Set when the database is dropped, so DDL that raced with the drop fails.
    dropped: std::sync::atomic::AtomicBool,
}

impl Database {
    pub fn name(&self) -> &str {
        &self.info.name
    }
    pub fn is_system(&self) -> bool {
        self.info.name == SYSTEM_DATABASE
    }

    /// Finds a collection by name or by numeric id.
    pub fn collection(&self, name_or_id: &str) -> Result<Arc<Collection>> {
        let cols = self.collections.read();
        if let Some(c) = cols.get(name_or_id) {
            return Ok(c.clone());
        }
        if let Ok(id) = name_or_id.parse::<u64>() {
            if let Some(c) = cols.values().find(|c| c.id() == id) {
                return Ok(c.clone());
            }
        }
        Err(err!(ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, "collection or view not found: {name_or_id}"))
    }

    pub fn collections(&self) -> Vec<Arc<Collection>> {
        self.collections.read().values().cloned().collect()
    }
}

pub struct Store {
    pub(crate) engine: Engine,
    pub(crate) clock: Clock,
    databases: RwLock<BTreeMap<String, Arc<Database>>>,
    pub(crate) stripes: Box<[Mutex<()>]>,
    ddl: Mutex<()>,
    pub extended_names: bool,
}

impl Store {
    /// Opens the store in `dir`, creating `_system` and its collections on first start.
    pub fn open(dir: &Path, extended_names: bool) -> Result<Store, OpenError> {
        let engine = Engine::open(dir)?;
        let read_counter = |k: &[u8]| -> Result<u64, OpenError> {
            Ok(engine.get(Space::Meta, k)?.as_deref().map_or(0, counter_value))
        };
        let clock = Clock::new(read_counter(keys::REV_HIGH_WATER)?, read_counter(keys::ID_HIGH_WATER)?);
        let mut databases = BTreeMap::new();
        let mut bad = None;
        engine.scan_prefix(Space::Meta, b"d", None, |_, v| match serde_json::from_slice::<DatabaseInfo>(v) {
            Ok(info) => {
                databases.insert(info.name.clone(), Arc::new(Database { info, collections: RwLock::default(), dropped: Default::default() }));
                true
            }
            Err(e) => {
                bad = Some(format!("database definition unreadable: {e}"));
                false
            }
        })?;
        for db in databases.values() {
            let mut cols = BTreeMap::new();
            engine.scan_prefix(Space::Meta, &keys::collection_prefix(db.info.id), None, |_, v| {
                match serde_json::from_slice::<CollectionInfo>(v) {
                    Ok(info) => {
                        cols.insert(info.name.clone(), info);
                        true
                    }
                    Err(e) => {
                        bad = Some(format!("collection definition unreadable: {e}"));
                        false
                    }
                }
            })?;
            let mut loaded = db.collections.write();
            for (name, info) in cols {
                let shard_id = info.shards.first().copied().unwrap_or(info.id);
                let keygen = read_counter(&keys::shard_keygen(shard_id))?;
                loaded.insert(name, Arc::new(new_collection(db.info.id, info, keygen)?));
            }
        }
        if let Some(msg) = bad {
            return Err(OpenError::Corrupt(msg));
        }
        let store = Store {
            engine,
            clock,
            databases: RwLock::new(databases),
            stripes: (0..KEY_STRIPES).map(|_| Mutex::new(())).collect(),
            ddl: Mutex::new(()),
            extended_names,
        };
        if store.database(SYSTEM_DATABASE).is_err() {
            store.create_database(SYSTEM_DATABASE, json!({}))?;
        }
        Ok(store)
    }

    pub fn database(&self, name: &str) -> Result<Arc<Database>> {
        self.databases
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| err!(ERROR_ARANGO_DATABASE_NOT_FOUND, "database not found"))
    }

    pub fn databases(&self) -> Vec<Arc<Database>> {
        self.databases.read().values().cloned().collect()
    }

    /// Creates a database with its system collections. `options` may carry `sharding`,
    /// `replicationFactor` and `writeConcern`.
    pub fn create_database(&self, name: &str, options: Value) -> Result<Arc<Database>> {
        if !names::is_valid_database_name(name, name == SYSTEM_DATABASE, self.extended_names) {
            return Err(err!(ERROR_ARANGO_DATABASE_NAME_INVALID, "database name invalid"));
        }
        let _ddl = self.ddl.lock();
        if self.databases.read().contains_key(name) {
            return Err(err!(ERROR_ARANGO_DUPLICATE_NAME, "duplicate database name '{name}'"));
        }
        let sharding = match options.get("sharding").and_then(Value::as_str) {
            None | Some("") | Some("flexible") => String::new(),
            Some("single") => "single".to_string(),
            Some(_) => return Err(err!(errors::ERROR_BAD_PARAMETER, "invalid sharding, expected \"\", \"flexible\" or \"single\"")),
        };
        let replication_factor = crate::collection::parse_replication_factor(options.get("replicationFactor"), json!(1))?;
        let write_concern = match options.get("writeConcern") {
            None | Some(Value::Null) => 1,
            Some(v) => v.as_u64().ok_or_else(|| err!(errors::ERROR_BAD_PARAMETER, "writeConcern must be a number"))?,
        };
        crate::collection::check_write_concern(&replication_factor, write_concern)?;
        let info = DatabaseInfo {
            id: if name == SYSTEM_DATABASE { 1 } else { self.clock.next_id() },
            name: name.to_string(),
            sharding,
            replication_factor,
            write_concern,
        };
        let db = Arc::new(Database { info: info.clone(), collections: RwLock::default(), dropped: Default::default() });
        let mut batch = Batch::default();
        batch.put(Space::Meta, keys::database(info.id), to_bytes(&info)?);
        let system: Vec<&str> = if db.is_system() {
            SYSTEM_DATABASE_ONLY_COLLECTIONS.iter().chain(SYSTEM_COLLECTIONS).copied().collect()
        } else {
            SYSTEM_COLLECTIONS.to_vec()
        };
        {
            let mut cols = db.collections.write();
            for col_name in system {
                let mut ci = CollectionInfo::from_create_options(&json!({"name": col_name, "isSystem": true}), false)?;
                self.assign_ids(&mut ci);
                batch.put(Space::Meta, keys::collection(info.id, ci.id), to_bytes(&ci)?);
                cols.insert(ci.name.clone(), Arc::new(new_collection(info.id, ci, 0)?));
            }
        }
        self.raise_high_water(&mut batch);
        self.engine.write(batch, true).map_err(storage_err)?;
        self.databases.write().insert(name.to_string(), db.clone());
        Ok(db)
    }

    pub fn drop_database(&self, name: &str) -> Result<()> {
        if name == SYSTEM_DATABASE {
            return Err(err!(ERROR_FORBIDDEN, "forbidden: the _system database cannot be dropped"));
        }
        let _ddl = self.ddl.lock();
        let db = self.database(name)?;
        let mut batch = Batch::default();
        batch.delete(Space::Meta, keys::database(db.info.id));
        let cols = db.collections();
        let gates: Vec<_> = cols.iter().map(|c| c.shard.gate.write()).collect();
        for c in &cols {
            drop_collection_data(&mut batch, db.info.id, c);
        }
        self.engine.write(batch, true).map_err(storage_err)?;
        for c in &cols {
            c.shard.dropped.store(true, Ordering::Release);
        }
        db.dropped.store(true, Ordering::Release);
        drop(gates);
        self.databases.write().remove(name);
        Ok(())
    }

    /// Creates a collection from `POST /_api/collection` options.
    pub fn create_collection(&self, db: &Database, options: &Value) -> Result<Arc<Collection>> {
        let mut info = CollectionInfo::from_create_options(options, self.extended_names)?;
        if options.get("replicationFactor").is_none_or(Value::is_null) {
            info.replication_factor = db.info.replication_factor.clone();
        }
        let _ddl = self.ddl.lock();
        if db.dropped.load(Ordering::Acquire) {
            return Err(err!(ERROR_ARANGO_DATABASE_NOT_FOUND, "database not found"));
        }
        if db.collections.read().contains_key(&info.name) {
            return Err(err!(ERROR_ARANGO_DUPLICATE_NAME, "duplicate name: {}", info.name));
        }
        if let Some(proto) = &info.distribute_shards_like {
            let proto = db.collection(proto)?;
            let p = proto.info.read();
            info.number_of_shards = p.number_of_shards;
            info.replication_factor = p.replication_factor.clone();
            info.write_concern = p.write_concern;
        }
        self.assign_ids(&mut info);
        let col = Arc::new(new_collection(db.info.id, info.clone(), 0)?);
        let mut batch = Batch::default();
        batch.put(Space::Meta, keys::collection(db.info.id, info.id), to_bytes(&info)?);
        self.raise_high_water(&mut batch);
        self.engine.write(batch, true).map_err(storage_err)?;
        db.collections.write().insert(info.name.clone(), col.clone());
        Ok(col)
    }

    /// Drops a collection; system collections only with `allow_system`.
    pub fn drop_collection(&self, db: &Database, col: &Collection, allow_system: bool) -> Result<()> {
        if col.is_system() && !allow_system {
            return Err(err!(ERROR_FORBIDDEN, "forbidden: system collections can only be dropped with isSystem=true"));
        }
        if db.is_system() && col.name() == "_users" {
            return Err(err!(ERROR_FORBIDDEN, "forbidden: _system/_users holds the users and cannot be dropped"));
        }
        let _ddl = self.ddl.lock();
        self.check_current(db, col)?;
        let _gate = col.shard.gate.write();
        let mut batch = Batch::default();
        drop_collection_data(&mut batch, db.info.id, col);
        self.engine.write(batch, true).map_err(storage_err)?;
        col.shard.dropped.store(true, Ordering::Release);
        db.collections.write().remove(&col.name());
        Ok(())
    }

    pub fn rename_collection(&self, db: &Database, col: &Collection, new_name: &str) -> Result<()> {
        if col.is_system() {
            return Err(err!(ERROR_FORBIDDEN, "forbidden: system collections cannot be renamed"));
        }
        if !names::is_valid_collection_name(new_name, false, self.extended_names) {
            return Err(err!(ERROR_ARANGO_ILLEGAL_NAME, "illegal name: collection name invalid"));
        }
        let _ddl = self.ddl.lock();
        self.check_current(db, col)?;
        if db.collections.read().contains_key(new_name) {
            return Err(err!(ERROR_ARANGO_DUPLICATE_NAME, "duplicate name: {new_name}"));
        }
        let mut info = col.info.read().clone();
        let old_name = std::mem::replace(&mut info.name, new_name.to_string());
        // Persist (and fsync) before taking the map's write lock, so lookups do not wait.
        self.persist_info(db, &info)?;
        let mut cols = db.collections.write();
        if let Some(c) = cols.remove(&old_name) {
            *c.info.write() = info;
            cols.insert(new_name.to_string(), c);
        }
        Ok(())
    }

    /// Changes collection properties (`PUT …/properties`).
    pub fn change_properties(&self, db: &Database, col: &Collection, body: &Value) -> Result<()> {
        let _ddl = self.ddl.lock();
        self.check_current(db, col)?;
        let mut info = col.info.read().clone();
        info.apply_properties(body)?;
        self.persist_info(db, &info)?;
        col.set_info(info)
    }

    /// Fails unless `col` is still the collection of that name in `db` (it may have been
    /// dropped, or dropped and recreated, since the caller looked it up).
    fn check_current(&self, db: &Database, col: &Collection) -> Result<()> {
        let cols = db.collections.read();
        match cols.get(&col.name()) {
            Some(c) if std::ptr::eq(c.as_ref(), col) && !db.dropped.load(Ordering::Acquire) => Ok(()),
            _ => Err(err!(ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, "collection or view not found")),
        }
    }

    fn persist_info(&self, db: &Database, info: &CollectionInfo) -> Result<()> {
        let mut batch = Batch::default();
        batch.put(Space::Meta, keys::collection(db.info.id, info.id), to_bytes(info)?);
        self.engine.write(batch, true).map_err(storage_err)
    }

    fn assign_ids(&self, info: &mut CollectionInfo) {
        info.id = self.clock.next_id();
        info.shards = vec![info.id];
        info.globally_unique_id = format!("c{}", info.id);
    }

    pub(crate) fn raise_high_water(&self, batch: &mut Batch) {
        batch.raise(Space::Meta, keys::ID_HIGH_WATER.to_vec(), self.clock.last_id());
        batch.raise(Space::Meta, keys::REV_HIGH_WATER.to_vec(), self.clock.last_rev());
    }

    /// Number of documents in a collection, exact.
    pub fn count(&self, col: &Collection) -> Result<u64> {
        self.count_at(col, None)
    }

    /// [`Self::count`] as of `snapshot`, when given.
    pub fn count_at(&self, col: &Collection, snapshot: Option<&storage::Snapshot>) -> Result<u64> {
        Ok(self.engine.get_at(Space::Meta, &keys::shard_count(col.shard.id), snapshot).map_err(storage_err)?.as_deref().map_or(0, counter_value))
    }

    /// The collection's revision: the highest `_rev` written to it, 0 if none.
    pub fn revision(&self, col: &Collection) -> Result<u64> {
        self.read_counter(&keys::shard_revision(col.shard.id))
    }

    /// Autoincrement or traditional generator's last value, as `keyOptions.lastValue`.
    pub fn key_last_value(&self, col: &Collection) -> u64 {
        col.shard.keygen_last.load(Ordering::Acquire)
    }

    fn read_counter(&self, key: &[u8]) -> Result<u64> {
        Ok(self.engine.get(Space::Meta, key).map_err(storage_err)?.as_deref().map_or(0, counter_value))
    }

    /// Recounts the documents of a collection and stores the exact figure.
    pub fn recalculate_count(&self, col: &Collection) -> Result<u64> {
        let _gate = col.shard.gate.write();
        col.check_not_dropped()?;
        let mut n = 0u64;
        self.engine
            .scan_prefix(Space::Documents, &keys::shard_prefix(col.shard.id), None, |_, _| {
                n += 1;
                true
            })
            .map_err(storage_err)?;
        let mut batch = Batch::default();
        batch.set_counter(Space::Meta, keys::shard_count(col.shard.id), n);
        self.engine.write(batch, true).map_err(storage_err)?;
        Ok(n)
    }

    /// Removes every document of a collection (and its index entries) at once.
    pub fn truncate(&self, col: &Collection, wait_for_sync: bool) -> Result<()> {
        let _gate = col.shard.gate.write();
        col.check_not_dropped()?;
        let shard = col.shard.id;
        let mut batch = Batch::default();
        batch.delete_prefix(Space::Documents, &keys::shard_prefix(shard));
        batch.delete_prefix(Space::Indexes, &keys::shard_prefix(shard));
        batch.set_counter(Space::Meta, keys::shard_count(shard), 0);
        self.engine.write(batch, wait_for_sync || col.info.read().wait_for_sync).map_err(storage_err)
    }

    /// Compacts a collection's data on disk.
    pub fn compact(&self, col: &Collection) {
        let (prefix, end) = keys::shard_range(col.shard.id);
        self.engine.compact_range(Space::Documents, &prefix, &end);
        self.engine.compact_range(Space::Indexes, &prefix, &end);
    }

    /// Approximate bytes of (documents, index entries) of a collection.
    pub fn sizes(&self, col: &Collection) -> (u64, u64) {
        let (prefix, end) = keys::shard_range(col.shard.id);
        (
            self.engine.approximate_size(Space::Documents, &prefix, &end),
            self.engine.approximate_size(Space::Indexes, &prefix, &end),
        )
    }
}

fn new_collection(db_id: u64, info: CollectionInfo, keygen_last: u64) -> Result<Collection> {
    let shard_id = info.shards.first().copied().unwrap_or(info.id);
    debug_assert!(info.kind >= TYPE_DOCUMENT);
    let col = Collection {
        db_id,
        info: RwLock::new(info.clone()),
        schema: RwLock::new(None),
        computed: RwLock::new(None),
        shard: Shard { id: shard_id, gate: RwLock::new(()), keygen_last: AtomicU64::new(keygen_last), dropped: Default::default() },
    };
    col.set_info(info)?;
    Ok(col)
}

fn drop_collection_data(batch: &mut Batch, db_id: u64, col: &Collection) {
    let shard = col.shard.id;
    batch.delete(Space::Meta, keys::collection(db_id, col.id()));
    batch.delete_prefix(Space::Documents, &keys::shard_prefix(shard));
    batch.delete_prefix(Space::Indexes, &keys::shard_prefix(shard));
    for k in [keys::shard_count(shard), keys::shard_keygen(shard), keys::shard_revision(shard)] {
        batch.delete(Space::Meta, k);
    }
}

fn to_bytes<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| err!(ERROR_INTERNAL, "cannot serialize definition: {e}"))
}

/// Storage failures become ArangoDB's I/O error; the engine refuses further work after a
/// failed write, so nothing half-written is acknowledged.
pub(crate) fn storage_err(e: storage::StorageError) -> errors::ArangoError {
    err!(errors::ERROR_ARANGO_IO_ERROR, "{e}")
}

/// Why a store could not be opened; reported to a person at startup.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error("the database directory holds a definition Rango cannot read ({0}); restore it from a backup")]
    Corrupt(String),
    #[error("cannot create the _system database: {0}")]
    Arango(#[from] errors::ArangoError),
}
