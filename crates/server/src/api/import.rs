//! `POST /_api/import`: bulk loading of JSON documents (`type=documents|list|auto`) or of
//! the header-plus-values form (no `type`), with `onDuplicate`, `complete`, `details`,
//! `overwrite`, `fromPrefix` and `toPrefix`.

use docstore::{OverwriteMode, WriteItem, WriteKind};
use errors::{err, Result, ERROR_ARANGO_COLLECTION_PARAMETER_MISSING, ERROR_ARANGO_DOCUMENT_TYPE_INVALID, ERROR_HTTP_BAD_PARAMETER};
use serde_json::{json, Map, Value};

use crate::api;
use crate::api::document::write_options;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// Documents written per storage batch, so a huge import never builds one huge batch
/// (unless `complete=true` asks for all or nothing).
const IMPORT_BATCH_DOCUMENTS_MAX: usize = 10_000;

/// One line or element of the input: a document, an empty line, or something unusable.
enum Entry {
    Doc(Value),
    Empty,
    Bad(String),
}

pub fn import(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let name = req.query("collection").filter(|c| !c.is_empty()).ok_or_else(|| {
        err!(ERROR_ARANGO_COLLECTION_PARAMETER_MISSING, "'collection' is missing, expecting /_api/import?collection=<identifier>")
    })?;
    let (_, col) = api::collection(ctx, req, name)?;
    let on_duplicate = match req.query("onDuplicate").unwrap_or("error") {
        "error" => OverwriteMode::Conflict,
        "update" => OverwriteMode::Update,
        "replace" => OverwriteMode::Replace,
        "ignore" => OverwriteMode::Ignore,
        other => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "invalid onDuplicate '{other}'")),
    };
    let entries = match req.query("type") {
        Some("documents") => parse_lines(&req.body),
        Some("list" | "array") => parse_list(&req.body)?,
        Some("auto") => {
            if req.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                parse_list(&req.body)?
            } else {
                parse_lines(&req.body)
            }
        }
        None | Some("") => parse_header_values(&req.body)?,
        Some(other) => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "invalid value for 'type': '{other}'")),
    };
    let from_prefix = req.query("fromPrefix").map(str::to_string);
    let to_prefix = req.query("toPrefix").map(str::to_string);
    let complete = req.flag_or("complete", false);
    let details = req.flag_or("details", false);
    let mut opts = write_options(req);
    opts.all_or_nothing = complete;
    // overwrite=true empties the collection in the same atomic batch as the first documents,
    // so an import that fails with complete=true leaves the collection as it was.
    let mut truncate_pending = req.flag_or("overwrite", false);

    let (mut created, mut errors_n, mut empty, mut updated, mut ignored) = (0u64, 0u64, 0u64, 0u64, 0u64);
    // (position, message), reported in input order.
    let mut messages: Vec<(usize, String)> = Vec::new();
    // With complete=true, the first failure is the answer.
    let mut first_error: Option<errors::ArangoError> = None;
    let mut pending: Vec<(usize, WriteItem)> = Vec::new();
    let batch_max = if complete { usize::MAX } else { IMPORT_BATCH_DOCUMENTS_MAX };
    let total = entries.len();
    let col_name = col.name();
    for (pos, entry) in entries.into_iter().enumerate() {
        match entry {
            Entry::Empty => empty += 1,
            Entry::Bad(msg) => {
                errors_n += 1;
                first_error.get_or_insert_with(|| err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "at position {pos}: {msg}"));
                messages.push((pos, format!("at position {pos}: {msg}")));
            }
            Entry::Doc(mut doc) => {
                if let Value::Object(m) = &mut doc {
                    add_prefix(m, "_from", from_prefix.as_deref());
                    add_prefix(m, "_to", to_prefix.as_deref());
                }
                pending.push((pos, WriteItem { body: doc, key: None, if_match: None }));
            }
        }
        if complete && errors_n > 0 {
            break;
        }
        if pending.len() >= batch_max || (pos + 1 == total && !pending.is_empty()) {
            let (positions, items): (Vec<usize>, Vec<WriteItem>) = std::mem::take(&mut pending).into_iter().unzip();
            let snapshot: Vec<String> = if details { items.iter().map(|i| i.body.to_string()).collect() } else { Vec::new() };
            opts.truncate_first = std::mem::take(&mut truncate_pending);
            let (results, _) = ctx.store.write_documents(&col, WriteKind::Insert(on_duplicate), items, &opts)?;
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Ok(w) if w.ignored => ignored += 1,
                    Ok(w) if w.overwritten => updated += 1,
                    Ok(_) => created += 1,
                    Err(e) => {
                        errors_n += 1;
                        let doc = snapshot.get(i).map(String::as_str).unwrap_or("");
                        let text = format!(
                            "at position {}: creating document failed with error '{}', offending document: {doc}",
                            positions[i], e.error.message
                        );
                        first_error.get_or_insert_with(|| errors::ArangoError { message: text.clone(), ..e.error.clone() });
                        messages.push((positions[i], text));
                    }
                }
            }
        }
    }
    if truncate_pending && !(complete && first_error.is_some()) {
        // Nothing was left to write: still empty the collection as asked.
        ctx.store.truncate(&col, opts.wait_for_sync)?;
    }
    if let (true, Some(mut e)) = (complete, first_error) {
        e.message = format!("import into '{col_name}' aborted (complete=true), nothing was written: {}", e.message);
        return Err(e);
    }
    messages.sort_by_key(|(pos, _)| *pos);
    let mut m = Map::new();
    m.insert("created".into(), json!(created));
    m.insert("errors".into(), json!(errors_n));
    m.insert("empty".into(), json!(empty));
    m.insert("updated".into(), json!(updated));
    m.insert("ignored".into(), json!(ignored));
    if details {
        m.insert("details".into(), json!(messages.into_iter().map(|(_, m)| m).collect::<Vec<_>>()));
    }
    Ok(Resp::ok(201, m))
}

fn add_prefix(m: &mut Map<String, Value>, attr: &str, prefix: Option<&str>) {
    if let (Some(prefix), Some(Value::String(v))) = (prefix, m.get_mut(attr)) {
        if !v.contains('/') {
            *v = format!("{prefix}/{v}");
        }
    }
}

/// Splits a body into lines; a final newline does not start another (empty) line.
fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.strip_suffix(b"\n").unwrap_or(body).split(|&b| b == b'\n')
}

/// `type=documents`: one JSON object per line.
fn parse_lines(body: &[u8]) -> Vec<Entry> {
    lines(body)
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                return Entry::Empty;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(v @ Value::Object(_)) => Entry::Doc(v),
                _ => Entry::Bad(format!(
                    "invalid JSON type (expecting object, probably parse error), offending context: {}",
                    String::from_utf8_lossy(&line[..line.len().min(64)])
                )),
            }
        })
        .collect()
}

/// `type=list`: one JSON array of objects.
fn parse_list(body: &[u8]) -> Result<Vec<Entry>> {
    match crate::req::parse_json(body)? {
        Value::Array(list) => Ok(list
            .into_iter()
            .map(|v| match v {
                Value::Object(_) => Entry::Doc(v),
                other => Entry::Bad(format!("invalid JSON type (expecting object), offending document: {other}")),
            })
            .collect()),
        _ => Err(err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON array in the request")),
    }
}

/// No `type`: a first line with a JSON array of attribute names, then one array of values
/// per line.
fn parse_header_values(body: &[u8]) -> Result<Vec<Entry>> {
    let mut lines = lines(body);
    let header_line = lines.by_ref().find(|l| !l.iter().all(u8::is_ascii_whitespace)).unwrap_or(b"");
    let names: Vec<String> = match serde_json::from_slice::<Value>(header_line) {
        Ok(Value::Array(names)) if names.iter().all(Value::is_string) => {
            names.into_iter().filter_map(|n| n.as_str().map(str::to_string)).collect()
        }
        _ => return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "no JSON array found in first line")),
    };
    Ok(lines
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                return Entry::Empty;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(Value::Array(values)) if values.len() == names.len() => {
                    let m: Map<String, Value> =
                        names.iter().cloned().zip(values).filter(|(_, v)| !v.is_null()).collect();
                    Entry::Doc(Value::Object(m))
                }
                Ok(Value::Array(_)) => Entry::Bad("wrong number of JSON values".into()),
                _ => Entry::Bad(format!(
                    "no valid JSON array data, offending context: {}",
                    String::from_utf8_lossy(&line[..line.len().min(64)])
                )),
            }
        })
        .collect())
}
