//! `/_api/index`: the indexes every collection has (primary, and edge for edge
//! collections), listed and read as ArangoDB shows them. Creating other kinds is not built
//! yet and answers 501.

use errors::{err, Result, ERROR_ARANGO_INDEX_NOT_FOUND, ERROR_HTTP_BAD_PARAMETER, ERROR_NOT_IMPLEMENTED};
use serde_json::{json, Map, Value};

use crate::api;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

fn indexes_of(col: &docstore::Collection) -> Vec<Value> {
    let name = col.name();
    let mut out = vec![json!({
        "id": format!("{name}/0"), "name": "primary", "type": "primary", "fields": ["_key"],
        "unique": true, "sparse": false, "selectivityEstimate": 1,
    })];
    if col.is_edge() {
        out.push(json!({
            "id": format!("{name}/1"), "name": "edge", "type": "edge", "fields": ["_from", "_to"],
            "unique": false, "sparse": false, "selectivityEstimate": 1,
        }));
    }
    out
}

/// `GET /_api/index?collection=…`.
pub fn list(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let name = req.query("collection").filter(|c| !c.is_empty()).ok_or_else(|| {
        err!(errors::ERROR_ARANGO_COLLECTION_PARAMETER_MISSING, "expecting GET /_api/index?collection=<collection-name>")
    })?;
    let (_, col) = api::collection(ctx, req, name)?;
    let indexes = indexes_of(&col);
    let identifiers: Map<String, Value> = indexes.iter().map(|i| (i["id"].as_str().unwrap_or_default().to_string(), i.clone())).collect();
    let mut m = Map::new();
    m.insert("indexes".into(), Value::Array(indexes));
    m.insert("identifiers".into(), Value::Object(identifiers));
    Ok(Resp::ok(200, m))
}

/// `GET /_api/index/<collection>/<id>`.
pub fn get(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let wanted = req.param(1);
    let found = indexes_of(&col).into_iter().find(|i| {
        i["id"].as_str().is_some_and(|id| id.rsplit('/').next() == Some(wanted)) || i["name"] == wanted
    });
    match found {
        Some(Value::Object(m)) => Ok(Resp::ok(200, m)),
        _ => Err(err!(ERROR_ARANGO_INDEX_NOT_FOUND, "index not found")),
    }
}

/// `POST /_api/index?collection=…`: only the indexes a collection already has.
pub fn create(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let name = req.query("collection").unwrap_or_default().to_string();
    let (_, col) = api::collection(ctx, req, &name)?;
    let body = req.json()?;
    let kind = body.get("type").and_then(Value::as_str).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "index type missing"))?;
    match indexes_of(&col).into_iter().find(|i| i["type"] == kind) {
        Some(Value::Object(mut m)) => {
            m.insert("isNewlyCreated".into(), json!(false));
            Ok(Resp::ok(200, m))
        }
        _ => Err(err!(ERROR_NOT_IMPLEMENTED, "{kind} indexes are not built yet").status(501)),
    }
}
