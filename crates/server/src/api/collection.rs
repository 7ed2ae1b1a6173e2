//! `/_api/collection`: create, list, inspect, change and drop collections.

use docstore::clock::encode_rev;
use docstore::{Collection, Store};
use errors::{err, Result, ERROR_ARANGO_ILLEGAL_NAME, ERROR_CLUSTER_ONLY_ON_COORDINATOR};
use serde_json::{json, Map, Value};

use crate::api;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

pub fn list(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let exclude_system = req.flag_or("excludeSystem", false);
    // Collections the caller has no access to are not listed.
    let grants = api::caller_grants(ctx, req);
    let visible = |c: &docstore::Collection| grants.as_ref().is_none_or(|g| g.collection(db.name(), &c.name()) > crate::access::Level::None);
    let result: Vec<Value> = db
        .collections()
        .iter()
        .filter(|c| !(exclude_system && c.is_system()) && visible(c))
        .map(|c| Value::Object(c.info.read().summary()))
        .collect();
    Ok(Resp::result(200, Value::Array(result)))
}

pub fn create(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    let body = req.json()?;
    if !body.is_object() {
        return Err(err!(errors::ERROR_HTTP_BAD_PARAMETER, "expecting a JSON object as body"));
    }
    if body.get("name").is_none_or(|n| !n.is_string()) {
        return Err(err!(ERROR_ARANGO_ILLEGAL_NAME, "illegal name: collection name missing"));
    }
    let col = ctx.store.create_collection(&db, &body)?;
    Ok(Resp::ok(200, properties_of(&ctx.store, &col)))
}

pub fn get(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let summary = col.info.read().summary();
    Ok(Resp::ok(200, summary))
}

pub fn drop(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (db, col) = api::collection(ctx, req, req.param(0))?;
    ctx.store.drop_collection(&db, &col, req.flag_or("isSystem", false))?;
    let mut m = Map::new();
    m.insert("id".into(), json!(col.id().to_string()));
    Ok(Resp::ok(200, m))
}

/// Properties with the generator's live `lastValue`, as ArangoDB reports them.
fn properties_of(store: &Store, col: &Collection) -> Map<String, Value> {
    let mut m = col.info.read().properties();
    if let Some(ko) = m.get_mut("keyOptions") {
        ko["lastValue"] = json!(store.key_last_value(col));
    }
    m
}

pub fn properties(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    Ok(Resp::ok(200, properties_of(&ctx.store, &col)))
}

pub fn set_properties(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (db, col) = api::collection(ctx, req, req.param(0))?;
    let body = req.json()?;
    ctx.store.change_properties(&db, &col, &body)?;
    Ok(Resp::ok(200, properties_of(&ctx.store, &col)))
}

pub fn count(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let mut m = properties_of(&ctx.store, &col);
    m.insert("count".into(), json!(ctx.store.count(&col)?));
    Ok(Resp::ok(200, m))
}

pub fn figures(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let (docs_size, index_size) = ctx.store.sizes(&col);
    let mut m = properties_of(&ctx.store, &col);
    m.insert("count".into(), json!(ctx.store.count(&col)?));
    m.insert(
        "figures".into(),
        json!({
            "indexes": {"count": if col.is_edge() { 2 } else { 1 }, "size": index_size},
            "documentsSize": docs_size,
            "cacheInUse": false,
            "cacheSize": 0,
            "cacheUsage": 0,
        }),
    );
    Ok(Resp::ok(200, m))
}

pub fn revision(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let mut m = properties_of(&ctx.store, &col);
    m.insert("revision".into(), json!(rev_string(ctx.store.revision(&col)?)));
    Ok(Resp::ok(200, m))
}

fn rev_string(rev: u64) -> String {
    if rev == 0 {
        "0".to_string()
    } else {
        encode_rev(rev)
    }
}

/// A checksum over keys (and with `withRevisions` revisions, with `withData` the user
/// data): the XOR of per-document hashes, so it does not depend on order.
pub fn checksum(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let with_revisions = req.flag_or("withRevisions", false);
    let with_data = req.flag_or("withData", false);
    let name = col.name();
    let mut sum = 0u64;
    let mut failure = None;
    ctx.store.scan_documents(&col, |key, doc| {
        let mut h = fnv1a(key.as_bytes());
        if with_revisions {
            h ^= fnv1a(doc.rev_string().as_bytes());
        }
        if with_data {
            match doc.to_value(&name, key) {
                Ok(Value::Object(mut m)) => {
                    for sys in ["_key", "_id", "_rev"] {
                        m.remove(sys);
                    }
                    h ^= fnv1a(Value::Object(m).to_string().as_bytes());
                }
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            }
        }
        sum ^= h;
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let mut m = col.info.read().summary();
    m.insert("checksum".into(), json!(sum.to_string()));
    m.insert("revision".into(), json!(rev_string(ctx.store.revision(&col)?)));
    Ok(Resp::ok(200, m))
}

fn fnv1a(b: &[u8]) -> u64 {
    // FNV-1a: small, stable across versions, good enough to detect differences.
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| (h ^ x as u64).wrapping_mul(0x100000001b3))
}

pub fn shards(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::collection(ctx, req, req.param(0))?;
    Err(err!(ERROR_CLUSTER_ONLY_ON_COORDINATOR, "this API is only available on a coordinator").status(501))
}

pub fn responsible_shard(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    shards(ctx, req)
}

pub fn truncate(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (db, col) = api::collection(ctx, req, req.param(0))?;
    if db.is_system() && col.name() == "_users" {
        return Err(err!(errors::ERROR_FORBIDDEN, "forbidden: _system/_users holds the users and cannot be truncated"));
    }
    ctx.store.truncate(&col, req.flag_or("waitForSync", false))?;
    if req.flag_or("compact", true) {
        ctx.store.compact(&col);
    }
    let summary = col.info.read().summary();
    Ok(Resp::ok(200, summary))
}

pub fn rename(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (db, col) = api::collection(ctx, req, req.param(0))?;
    let body = req.json()?;
    let name = body.get("name").and_then(Value::as_str).ok_or_else(|| err!(ERROR_ARANGO_ILLEGAL_NAME, "illegal name: name missing"))?;
    ctx.store.rename_collection(&db, &col, name)?;
    let summary = col.info.read().summary();
    Ok(Resp::ok(200, summary))
}

pub fn recalculate_count(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let n = ctx.store.recalculate_count(&col)?;
    let mut m = Map::new();
    m.insert("result".into(), json!(true));
    m.insert("count".into(), json!(n));
    Ok(Resp::ok(200, m))
}

pub fn compact(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    ctx.store.compact(&col);
    let summary = col.info.read().summary();
    Ok(Resp::ok(200, summary))
}

/// Collections are always loaded with RocksDB; `load` reports the collection and its count.
pub fn load(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let mut m = col.info.read().summary();
    if req.flag_or("count", true) {
        m.insert("count".into(), json!(ctx.store.count(&col)?));
    }
    Ok(Resp::ok(200, m))
}

/// Unloading does nothing with RocksDB (as in ArangoDB 3.12); the collection stays loaded.
pub fn unload(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let summary = col.info.read().summary();
    Ok(Resp::ok(200, summary))
}

pub fn load_indexes(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::collection(ctx, req, req.param(0))?;
    let mut m = Map::new();
    m.insert("result".into(), json!(true));
    Ok(Resp::ok(200, m))
}

/// `GET /_api/key-generators`: the key generators collections can use.
pub fn key_generators(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &json!({"keyGenerators": ["padded", "uuid", "autoincrement", "traditional"]})))
}
