//! `/_api/document` and `/_api/edges`: single and multi-document reads and writes.

use std::collections::BTreeMap;

use docstore::keys::Direction;
use docstore::{Collection, ItemResult, OverwriteMode, WriteItem, WriteKind, WriteOptions};
use errors::{err, ArangoError, Result, ERROR_ARANGO_COLLECTION_TYPE_INVALID, ERROR_ARANGO_CONFLICT,
    ERROR_ARANGO_DOCUMENT_HANDLE_BAD, ERROR_ARANGO_DOCUMENT_NOT_FOUND, ERROR_ARANGO_DOCUMENT_TYPE_INVALID,
    ERROR_HTTP_BAD_PARAMETER};
use hyper::header::{HeaderName, ETAG};
use serde_json::{json, Map, Value};

use crate::api;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

const ERROR_CODES_HEADER: HeaderName = HeaderName::from_static("x-arango-error-codes");

/// The write options of a request's query parameters.
pub fn write_options(req: &Req) -> WriteOptions {
    let d = WriteOptions::default();
    WriteOptions {
        wait_for_sync: req.flag_or("waitForSync", d.wait_for_sync),
        keep_null: req.flag_or("keepNull", d.keep_null),
        merge_objects: req.flag_or("mergeObjects", d.merge_objects),
        ignore_revs: req.flag_or("ignoreRevs", d.ignore_revs),
        return_old: req.flag_or("returnOld", false),
        return_new: req.flag_or("returnNew", false),
        skip_validation: false,
        is_restore: req.flag_or("isRestore", false),
        ..d
    }
}

/// `If-Match` without quotes.
fn if_match(req: &Req) -> Option<String> {
    req.header("if-match").map(|v| v.trim().trim_matches('"').to_string())
}

fn status_of(synced: bool, sync_status: u16) -> u16 {
    if synced {
        sync_status
    } else {
        202
    }
}

/// The JSON a client gets for one successful write.
fn written_json(col_name: &str, w: &docstore::Written, with_old_rev: bool) -> Value {
    let mut m = Map::new();
    m.insert("_id".into(), json!(format!("{col_name}/{}", w.key)));
    m.insert("_key".into(), json!(w.key));
    m.insert("_rev".into(), json!(docstore::clock::encode_rev(w.rev)));
    if let (true, Some(old)) = (with_old_rev, w.old_rev) {
        m.insert("_oldRev".into(), json!(docstore::clock::encode_rev(old)));
    }
    if let Some(new) = &w.new {
        m.insert("new".into(), new.clone());
    }
    if let Some(old) = &w.old {
        m.insert("old".into(), old.clone());
    }
    Value::Object(m)
}

/// The JSON body of a failed single-document operation: the error, and for conflicts the
/// stored document's `_id`, `_key` and `_rev`.
fn item_error_resp(col_name: &str, e: &docstore::ItemError) -> Resp {
    let mut body = e.error.body();
    if let (Some(rev), Some(key)) = (e.current_rev, &e.key) {
        add_document_meta(&mut body, col_name, key, &docstore::clock::encode_rev(rev));
    }
    Resp::json(e.error.http_status(), &body)
}

/// Adds a stored document's `_id`, `_key` and `_rev` to an error body (for conflicts).
fn add_document_meta(body: &mut Value, col_name: &str, key: &str, rev: &str) {
    body["_id"] = json!(format!("{col_name}/{key}"));
    body["_key"] = json!(key);
    body["_rev"] = json!(rev);
}

/// Adds `X-Arango-Error-Codes` (how many items failed with each errorNum) when any did.
fn with_error_codes(resp: Resp, codes: &BTreeMap<i32, u64>) -> Resp {
    if codes.is_empty() {
        return resp;
    }
    let header: Map<String, Value> = codes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    resp.header(ERROR_CODES_HEADER, &Value::Object(header).to_string())
}

/// Answers a multi-document write: per-item results in order, errors inline, and the
/// `X-Arango-Error-Codes` header counting them.
fn many_resp(col_name: &str, results: &[ItemResult], synced: bool, ok_status: u16, silent: bool, with_old_rev: bool) -> Resp {
    let mut codes: BTreeMap<i32, u64> = BTreeMap::new();
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(_) if silent => {}
            Ok(w) => out.push(written_json(col_name, w, with_old_rev || w.overwritten)),
            Err(e) => {
                *codes.entry(e.error.code.0).or_default() += 1;
                let mut body = json!({"error": true, "errorNum": e.error.code.0, "errorMessage": e.error.message});
                if let (Some(rev), Some(key)) = (e.current_rev, &e.key) {
                    add_document_meta(&mut body, col_name, key, &docstore::clock::encode_rev(rev));
                }
                out.push(body);
            }
        }
    }
    with_error_codes(Resp::json(status_of(synced, ok_status), &Value::Array(out)), &codes)
}

/// Runs a write of one document (`single`) or of an array, and answers as ArangoDB does.
fn write(ctx: &Ctx, req: &Req, col: &Collection, kind: WriteKind, items: Vec<WriteItem>, single: bool, ok_status: u16) -> Result<Resp> {
    let opts = write_options(req);
    let silent = req.flag_or("silent", false);
    let with_old_rev = matches!(kind, WriteKind::Replace | WriteKind::Update);
    let name = col.name();
    let (mut results, synced) = ctx.store.write_documents(col, kind, items, &opts)?;
    if !single {
        return Ok(many_resp(&name, &results, synced, ok_status, silent, with_old_rev));
    }
    match results.pop() {
        Some(Ok(w)) => {
            let body = if silent { json!({}) } else { written_json(&name, &w, with_old_rev || w.overwritten) };
            Ok(Resp::json(status_of(synced, ok_status), &body).header(ETAG, &format!("\"{}\"", docstore::clock::encode_rev(w.rev))))
        }
        Some(Err(e)) => Ok(item_error_resp(&name, &e)),
        None => Err(err!(errors::ERROR_INTERNAL, "no result for the document")),
    }
}

/// Splits a body into write items: one object, or an array of them.
fn items_of(body: Value, key: Option<String>, if_match: Option<String>) -> (Vec<WriteItem>, bool) {
    match body {
        Value::Array(list) => (list.into_iter().map(|body| WriteItem { body, key: None, if_match: None }).collect(), false),
        body => (vec![WriteItem { body, key, if_match }], true),
    }
}

pub fn insert(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let body = req.json()?;
    if !body.is_object() && !body.is_array() {
        return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "invalid document type"));
    }
    let mode = match req.query("overwriteMode") {
        Some(m) => OverwriteMode::parse(m).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "invalid overwriteMode '{m}'"))?,
        None if req.flag_or("overwrite", false) => OverwriteMode::Replace,
        None => OverwriteMode::Conflict,
    };
    let (items, single) = items_of(body, None, None);
    write(ctx, req, &col, WriteKind::Insert(mode), items, single, 201)
}

fn write_one(ctx: &Ctx, req: &mut Req, kind: WriteKind) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let body = if kind == WriteKind::Remove { json!({}) } else { req.json()? };
    if !body.is_object() {
        return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "invalid document type"));
    }
    let item = WriteItem { body, key: Some(req.param(1).to_string()), if_match: if_match(req) };
    let ok_status = if kind == WriteKind::Remove { 200 } else { 201 };
    write(ctx, req, &col, kind, vec![item], true, ok_status)
}

fn write_many(ctx: &Ctx, req: &mut Req, kind: WriteKind) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let body = req.json()?;
    let Value::Array(_) = body else {
        return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "expecting an array of documents"));
    };
    let (items, _) = items_of(body, None, None);
    let ok_status = if kind == WriteKind::Remove { 200 } else { 201 };
    write(ctx, req, &col, kind, items, false, ok_status)
}

pub fn replace_one(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    write_one(ctx, req, WriteKind::Replace)
}
pub fn update_one(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    write_one(ctx, req, WriteKind::Update)
}
pub fn remove_one(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    write_one(ctx, req, WriteKind::Remove)
}

/// `PUT /_api/document/<collection>`: replaces many, or with `onlyget=true` reads many.
pub fn replace_many(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    if req.flag_or("onlyget", false) {
        return get_many(ctx, req);
    }
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    api::require_collection(ctx, req, &col, crate::access::Level::Rw)?;
    write_many(ctx, req, WriteKind::Replace)
}
pub fn update_many(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    write_many(ctx, req, WriteKind::Update)
}
pub fn remove_many(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    write_many(ctx, req, WriteKind::Remove)
}

/// A 412 for a read whose `If-Match` did not hold (or whose `If-None-Match` did not).
fn precondition_failed(col_name: &str, key: &str, rev: &str) -> Resp {
    let mut body = ArangoError::with_message(ERROR_ARANGO_CONFLICT, "conflict, _rev values do not match").status(412).body();
    add_document_meta(&mut body, col_name, key, rev);
    Resp::json(412, &body)
}

fn read_one(ctx: &Ctx, req: &Req, with_body: bool) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let key = req.param(1);
    let Some(doc) = ctx.store.get_document(&col, key)? else {
        return Err(err!(ERROR_ARANGO_DOCUMENT_NOT_FOUND, "document not found"));
    };
    let rev = doc.rev_string();
    let name = col.name();
    if let Some(expected) = req.header("if-none-match") {
        if expected.trim().trim_matches('"') == rev {
            return Ok(Resp::empty(304).header(ETAG, &format!("\"{rev}\"")));
        }
    }
    if let Some(expected) = if_match(req) {
        if expected != rev {
            return Ok(precondition_failed(&name, key, &rev));
        }
    }
    let mut body = Vec::new();
    if with_body {
        doc.write_json(&name, key, &mut body);
    }
    let mut resp = Resp::raw_json(200, body);
    if !with_body {
        resp.headers.clear();
    }
    Ok(resp.header(ETAG, &format!("\"{rev}\"")))
}

pub fn get(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    read_one(ctx, req, true)
}

pub fn head(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    read_one(ctx, req, false).map(|r| if r.status >= 400 { Resp::empty(r.status) } else { r })
}

/// Reads many documents by key (`PUT …?onlyget=true`), errors inline for missing ones.
fn get_many(ctx: &Ctx, req: &Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    let Value::Array(selectors) = req.json()? else {
        return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "expecting an array of keys or documents"));
    };
    let name = col.name();
    let keys: Vec<Option<String>> = selectors
        .iter()
        .map(|s| match s {
            Value::String(k) => Some(k.rsplit('/').next().unwrap_or(k).to_string()),
            Value::Object(o) => o.get("_key").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect();
    let refs: Vec<&str> = keys.iter().map(|k| k.as_deref().unwrap_or("")).collect();
    let docs = ctx.store.get_documents(&col, &refs, None)?;
    let mut codes: BTreeMap<i32, u64> = BTreeMap::new();
    let mut out = b"[".to_vec();
    for (i, ((key, doc), sel)) in keys.iter().zip(docs).zip(&selectors).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let expected_rev = if req.flag_or("ignoreRevs", true) { None } else { sel.get("_rev").and_then(Value::as_str) };
        let error = match (key, doc) {
            (None, _) => Some(ArangoError::new(ERROR_ARANGO_DOCUMENT_HANDLE_BAD)),
            (Some(_), None) => Some(err!(ERROR_ARANGO_DOCUMENT_NOT_FOUND, "document not found")),
            (Some(_), Some(d)) if expected_rev.is_some_and(|r| r != d.rev_string()) => {
                Some(err!(ERROR_ARANGO_CONFLICT, "conflict, _rev values do not match"))
            }
            (Some(k), Some(d)) => {
                d.write_json(&name, k, &mut out);
                None
            }
        };
        if let Some(e) = error {
            *codes.entry(e.code.0).or_default() += 1;
            let body = json!({"error": true, "errorNum": e.code.0, "errorMessage": e.message});
            out.extend_from_slice(body.to_string().as_bytes());
        }
    }
    out.push(b']');
    Ok(with_error_codes(Resp::raw_json(200, out), &codes))
}

/// `GET /_api/edges/<collection>?vertex=…&direction=in|out|any`, from the edge index.
pub fn edges(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (_, col) = api::collection(ctx, req, req.param(0))?;
    if !col.is_edge() {
        return Err(err!(ERROR_ARANGO_COLLECTION_TYPE_INVALID, "invalid collection type: edge collection expected"));
    }
    let vertex = req.query("vertex").filter(|v| !v.is_empty()).ok_or_else(|| err!(ERROR_ARANGO_DOCUMENT_HANDLE_BAD, "illegal document identifier: vertex missing"))?;
    let dirs: &[Direction] = match req.query("direction").unwrap_or("any") {
        "any" | "" => &[Direction::Out, Direction::In],
        "out" | "outbound" => &[Direction::Out],
        "in" | "inbound" => &[Direction::In],
        other => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "<direction> must by any, in, or out, not: {other}")),
    };
    let name = col.name();
    let found = ctx.store.edges(&col, vertex, dirs, None)?;
    let mut out = b"{\"edges\":[".to_vec();
    for (i, (key, doc)) in found.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        doc.write_json(&name, key, &mut out);
    }
    out.extend_from_slice(format!("],\"error\":false,\"code\":200,\"stats\":{{\"scannedIndex\":{},\"filtered\":0}}}}", found.len()).as_bytes());
    Ok(Resp::raw_json(200, out))
}
