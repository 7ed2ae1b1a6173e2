//! Collection definitions: the options a client gives at creation, their validation with
//! ArangoDB's errors, and the in-memory collection with its shards.

use std::sync::Arc;

use errors::{err, ArangoError, Result, ERROR_ARANGO_COLLECTION_TYPE_INVALID, ERROR_ARANGO_ILLEGAL_NAME,
    ERROR_ARANGO_INVALID_KEY_GENERATOR, ERROR_BAD_PARAMETER, ERROR_HTTP_BAD_PARAMETER};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::names;
use crate::schema::Schema;

pub const TYPE_DOCUMENT: u8 = 2;
pub const TYPE_EDGE: u8 = 3;

/// Most shards a collection may have.
pub const SHARDS_MAX: u64 = 1000;
/// Largest replication factor.
pub const REPLICATION_FACTOR_MAX: u64 = 10;
/// Largest autoincrement `increment` (ArangoDB's bound).
pub const KEY_INCREMENT_MAX: u64 = 1 << 16;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyOptions {
    #[serde(rename = "type")]
    pub kind: KeyGenerator,
    pub allow_user_keys: bool,
    #[serde(default)]
    pub increment: u64,
    #[serde(default)]
    pub offset: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KeyGenerator {
    Traditional,
    Autoincrement,
    Padded,
    Uuid,
}

/// What is stored for a collection, under ArangoDB's attribute names.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionInfo {
    pub id: u64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: u8,
    pub is_system: bool,
    pub wait_for_sync: bool,
    pub key_options: KeyOptions,
    pub schema: Option<Value>,
    pub computed_values: Option<Value>,
    pub number_of_shards: u64,
    pub shard_keys: Vec<String>,
    pub replication_factor: Value,
    pub write_concern: u64,
    pub distribute_shards_like: Option<String>,
    pub sharding_strategy: String,
    pub cache_enabled: bool,
    pub globally_unique_id: String,
    /// Local shard ids. A single server holds one shard per collection; the DB-Server holds
    /// the shards the Plan gives it.
    pub shards: Vec<u64>,
}

impl CollectionInfo {
    pub fn is_edge(&self) -> bool {
        self.kind == TYPE_EDGE
    }

    /// Parses creation options as `POST /_api/collection` takes them.
    pub fn from_create_options(body: &Value, extended_names: bool) -> Result<CollectionInfo> {
        let obj = body.as_object().ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON object as body"))?;
        let name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
        let is_system = get_bool(obj, "isSystem")?.unwrap_or(false) && name.starts_with('_');
        if !names::is_valid_collection_name(name, is_system, extended_names) {
            return Err(err!(ERROR_ARANGO_ILLEGAL_NAME, "illegal name: collection name invalid"));
        }
        let kind = match obj.get("type") {
            None | Some(Value::Null) => TYPE_DOCUMENT,
            Some(v) => match (v.as_u64(), v.as_str()) {
                (Some(2), _) | (_, Some("document")) => TYPE_DOCUMENT,
                (Some(3), _) | (_, Some("edge")) => TYPE_EDGE,
                _ => return Err(err!(ERROR_ARANGO_COLLECTION_TYPE_INVALID, "invalid collection type")),
            },
        };
        let number_of_shards = get_u64(obj, "numberOfShards")?.unwrap_or(1);
        if number_of_shards == 0 || number_of_shards > SHARDS_MAX {
            return Err(err!(ERROR_BAD_PARAMETER, "invalid number of shards: must be between 1 and {SHARDS_MAX}"));
        }
        let replication_factor = parse_replication_factor(obj.get("replicationFactor"), json!(1))?;
        let write_concern = get_u64(obj, "writeConcern")?.or(get_u64(obj, "minReplicationFactor")?).unwrap_or(1);
        check_write_concern(&replication_factor, write_concern)?;
        let shard_keys = match obj.get("shardKeys") {
            None | Some(Value::Null) => vec!["_key".to_string()],
            Some(Value::Array(keys)) if (1..=8).contains(&keys.len()) => keys
                .iter()
                .map(|k| k.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| err!(ERROR_BAD_PARAMETER, "invalid shard keys"))?,
            Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "invalid shard keys")),
        };
        let key_options = parse_key_options(obj.get("keyOptions"))?;
        let schema = match obj.get("schema") {
            None | Some(Value::Null) => None,
            Some(v) => Schema::normalize(v)?,
        };
        let computed_values = parse_computed_values(obj.get("computedValues"))?;
        let distribute_shards_like = match obj.get("distributeShardsLike") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "distributeShardsLike must be a collection name")),
        };
        let sharding_strategy = match obj.get("shardingStrategy").and_then(Value::as_str) {
            None => "hash".to_string(),
            Some(s @ ("hash" | "community-compat" | "enterprise-compat" | "enterprise-hash-smart-edge"
                | "enterprise-hex-smart-vertex")) => s.to_string(),
            Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "invalid sharding strategy")),
        };
        Ok(CollectionInfo {
            id: 0,
            name: name.to_string(),
            kind,
            is_system,
            wait_for_sync: get_bool(obj, "waitForSync")?.unwrap_or(false),
            key_options,
            schema,
            computed_values,
            number_of_shards,
            shard_keys,
            replication_factor,
            write_concern,
            distribute_shards_like,
            sharding_strategy,
            cache_enabled: get_bool(obj, "cacheEnabled")?.unwrap_or(false),
            globally_unique_id: String::new(),
            shards: Vec::new(),
        })
    }

    /// Applies `PUT /_api/collection/<name>/properties`: only the changeable options.
    pub fn apply_properties(&mut self, body: &Value) -> Result<()> {
        let obj = body.as_object().ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON object as body"))?;
        if let Some(w) = get_bool(obj, "waitForSync")? {
            self.wait_for_sync = w;
        }
        if let Some(c) = get_bool(obj, "cacheEnabled")? {
            self.cache_enabled = c;
        }
        if let Some(v) = obj.get("schema") {
            self.schema = if v.is_null() { None } else { Schema::normalize(v)? };
        }
        if let Some(v) = obj.get("computedValues") {
            self.computed_values = parse_computed_values(Some(v))?;
        }
        // Both may change together; check the pair they form, not each against the old other.
        let rf = match obj.get("replicationFactor") {
            None | Some(Value::Null) => self.replication_factor.clone(),
            Some(v) if *v == "satellite" && self.replication_factor == "satellite" => v.clone(),
            Some(v) => json!(v.as_u64().filter(|n| (1..=REPLICATION_FACTOR_MAX).contains(n))
                .ok_or_else(|| err!(ERROR_BAD_PARAMETER, "bad value for replicationFactor"))?),
        };
        let wc = get_u64(obj, "writeConcern")?.or(get_u64(obj, "minReplicationFactor")?).unwrap_or(self.write_concern);
        check_write_concern(&rf, wc)?;
        self.replication_factor = rf;
        self.write_concern = wc;
        Ok(())
    }

    /// `GET /_api/collection/<name>` fields.
    pub fn summary(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id.to_string()));
        m.insert("name".into(), json!(self.name));
        m.insert("status".into(), json!(3));
        m.insert("type".into(), json!(self.kind));
        m.insert("isSystem".into(), json!(self.is_system));
        m.insert("globallyUniqueId".into(), json!(self.globally_unique_id));
        m
    }

    /// `GET /_api/collection/<name>/properties` fields (without the live `lastValue`).
    pub fn properties(&self) -> Map<String, Value> {
        let mut m = self.summary();
        m.insert("waitForSync".into(), json!(self.wait_for_sync));
        let mut key_options = json!({
            "type": self.key_options.kind,
            "allowUserKeys": self.key_options.allow_user_keys,
        });
        if self.key_options.kind == KeyGenerator::Autoincrement {
            key_options["increment"] = json!(self.key_options.increment);
            key_options["offset"] = json!(self.key_options.offset);
        }
        m.insert("keyOptions".into(), key_options);
        m.insert("schema".into(), self.schema.clone().unwrap_or(Value::Null));
        m.insert("computedValues".into(), self.computed_values.clone().unwrap_or(Value::Null));
        m.insert("cacheEnabled".into(), json!(self.cache_enabled));
        m.insert("syncByRevision".into(), json!(true));
        m.insert("usesRevisionsAsDocumentIds".into(), json!(true));
        m.insert("isSmart".into(), json!(false));
        m.insert("isSmartChild".into(), json!(false));
        m.insert("isDisjoint".into(), json!(false));
        m.insert("internalValidatorType".into(), json!(0));
        m.insert("numberOfShards".into(), json!(self.number_of_shards));
        m.insert("shardKeys".into(), json!(self.shard_keys));
        m.insert("replicationFactor".into(), self.replication_factor.clone());
        m.insert("writeConcern".into(), json!(self.write_concern));
        m.insert("minReplicationFactor".into(), json!(self.write_concern));
        m.insert("shardingStrategy".into(), json!(self.sharding_strategy));
        if let Some(d) = &self.distribute_shards_like {
            m.insert("distributeShardsLike".into(), json!(d));
        }
        m
    }
}

/// `writeConcern` is at least 1 and at most the replication factor.
pub fn check_write_concern(replication_factor: &Value, write_concern: u64) -> Result<()> {
    if write_concern == 0 || replication_factor.as_u64().is_some_and(|rf| write_concern > rf) {
        return Err(err!(ERROR_BAD_PARAMETER, "writeConcern must be at least 1 and not higher than replicationFactor"));
    }
    Ok(())
}

/// A replication factor as given: 1 to 10, or "satellite".
pub fn parse_replication_factor(v: Option<&Value>, default: Value) -> Result<Value> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) if s == "satellite" => Ok(json!("satellite")),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=REPLICATION_FACTOR_MAX).contains(&n) => Ok(json!(n)),
            _ => Err(err!(ERROR_BAD_PARAMETER, "bad value for replicationFactor")),
        },
    }
}

fn get_bool(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(err!(ERROR_BAD_PARAMETER, "{name} must be a boolean")),
    }
}

fn get_u64(obj: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| err!(ERROR_BAD_PARAMETER, "{name} must be a non-negative integer")),
    }
}

fn parse_key_options(v: Option<&Value>) -> Result<KeyOptions> {
    let bad = |msg: &str| err!(ERROR_ARANGO_INVALID_KEY_GENERATOR, "invalid key generator: {msg}");
    let empty = Map::new();
    let obj = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad("keyOptions must be an object")),
    };
    let kind = match obj.get("type").and_then(Value::as_str).unwrap_or("traditional") {
        "traditional" => KeyGenerator::Traditional,
        "autoincrement" => KeyGenerator::Autoincrement,
        "padded" => KeyGenerator::Padded,
        "uuid" => KeyGenerator::Uuid,
        other => return Err(bad(&format!("unknown type '{other}'"))),
    };
    let allow_user_keys = get_bool(obj, "allowUserKeys").map_err(|_| bad("allowUserKeys must be a boolean"))?.unwrap_or(true);
    let (mut increment, mut offset) = (0, 0);
    if kind == KeyGenerator::Autoincrement {
        increment = get_u64(obj, "increment").map_err(|_| bad("increment must be a number"))?.unwrap_or(1);
        offset = get_u64(obj, "offset").map_err(|_| bad("offset must be a number"))?.unwrap_or(0);
        if increment == 0 || increment >= KEY_INCREMENT_MAX {
            return Err(bad("increment value must be greater than zero and smaller than 65536"));
        }
    }
    Ok(KeyOptions { kind, allow_user_keys, increment, offset })
}

/// Checks the shape of `computedValues` (each entry's `name`, `expression`, `computeOn`,
/// `overwrite`, `keepNull`, `failOnWarning`) and fills in ArangoDB's defaults.
fn parse_computed_values(v: Option<&Value>) -> Result<Option<Value>> {
    let bad = |msg: String| ArangoError::with_message(ERROR_BAD_PARAMETER, format!("invalid computedValues: {msg}"));
    let list = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) if list.is_empty() => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(bad("expecting an array".into())),
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in list {
        let obj = entry.as_object().ok_or_else(|| bad("expecting objects".into()))?;
        let name = obj.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).ok_or_else(|| bad("missing name".into()))?;
        if name.starts_with('_') && matches!(name, "_key" | "_id" | "_rev" | "_from" | "_to") {
            return Err(bad(format!("cannot compute system attribute '{name}'")));
        }
        if !seen.insert(name.to_string()) {
            return Err(bad(format!("duplicate name '{name}'")));
        }
        let expression = obj
            .get("expression")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("missing expression for '{name}'")))?;
        crate::computed::check_expression(expression)?;
        let compute_on = match obj.get("computeOn") {
            None | Some(Value::Null) => json!(["insert", "update", "replace"]),
            Some(Value::Array(ops))
                if !ops.is_empty() && ops.iter().all(|o| matches!(o.as_str(), Some("insert" | "update" | "replace"))) =>
            {
                Value::Array(ops.clone())
            }
            Some(_) => return Err(bad(format!("invalid computeOn for '{name}'"))),
        };
        let flag = |key: &str, default: bool| match obj.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("{key} must be a boolean"))),
        };
        out.push(json!({
            "name": name,
            "expression": expression,
            "computeOn": compute_on,
            "overwrite": flag("overwrite", false)?,
            "keepNull": flag("keepNull", true)?,
            "failOnWarning": flag("failOnWarning", false)?,
        }));
    }
    Ok(Some(Value::Array(out)))
}

/// A collection as the document layer uses it: its definition, its compiled schema and
/// computed values, and its local shards.
pub struct Collection {
    pub db_id: u64,
    pub info: RwLock<CollectionInfo>,
    pub(crate) schema: RwLock<Option<Arc<Schema>>>,
    pub(crate) computed: RwLock<Option<Arc<crate::computed::ComputedValues>>>,
    pub(crate) shard: Shard,
}

/// The local storage of a collection: on a single server one per collection, on a DB-Server
/// one per shard the Plan assigns it.
pub struct Shard {
    pub id: u64,
    /// Writers hold it shared; truncate and drop hold it exclusively.
    pub(crate) gate: RwLock<()>,
    /// The key generator's last value (autoincrement and traditional).
    pub(crate) keygen_last: std::sync::atomic::AtomicU64,
    /// Set (under the exclusive gate) when the collection is dropped; writers that waited on
    /// the gate must not write into a dropped shard.
    pub(crate) dropped: std::sync::atomic::AtomicBool,
}

impl Collection {
    pub fn id(&self) -> u64 {
        self.info.read().id
    }
    pub fn name(&self) -> String {
        self.info.read().name.clone()
    }
    pub fn is_edge(&self) -> bool {
        self.info.read().is_edge()
    }
    pub fn is_system(&self) -> bool {
        self.info.read().is_system
    }
    /// Replaces the definition, compiling its schema and computed values first, so writers
    /// never see a definition with another definition's checks.
    pub(crate) fn set_info(&self, info: CollectionInfo) -> Result<()> {
        let schema = info.schema.as_ref().map(Schema::compile).transpose()?.map(Arc::new);
        let computed = info.computed_values.as_ref().map(crate::computed::ComputedValues::compile).transpose()?.map(Arc::new);
        let mut guard = self.info.write();
        *self.schema.write() = schema;
        *self.computed.write() = computed;
        *guard = info;
        Ok(())
    }

    /// Whether truncate, drop or a recount holds the collection right now, so a writer would
    /// wait (callers use it to keep such writers off the async workers).
    pub fn is_busy(&self) -> bool {
        self.shard.gate.is_locked_exclusive()
    }

    /// Fails with "collection not found" once the collection is dropped.
    pub(crate) fn check_not_dropped(&self) -> Result<()> {
        if self.shard.dropped.load(std::sync::atomic::Ordering::Acquire) {
            return Err(errors::err!(errors::ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, "collection or view not found"));
        }
        Ok(())
    }
}
