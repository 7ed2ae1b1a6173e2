//! Document reads and writes on one collection's local shard.
//!
//! A write request is a batch of items (one for single-document calls). Items are checked
//! outside any lock, then the stripes of their keys are locked in order, each item is decided
//! against the stored state (and the items before it in the same batch), and everything is
//! written as one atomic storage batch with the count, revision and generator counters.
//! Writers of different keys never wait for each other, so synced writes share fsyncs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use errors::{err, ArangoError, Result, ERROR_ARANGO_CONFLICT, ERROR_ARANGO_DOCUMENT_KEY_BAD,
    ERROR_ARANGO_DOCUMENT_KEY_UNEXPECTED, ERROR_ARANGO_DOCUMENT_NOT_FOUND, ERROR_ARANGO_DOCUMENT_TYPE_INVALID,
    ERROR_ARANGO_INVALID_EDGE_ATTRIBUTE, ERROR_ARANGO_OUT_OF_KEYS, ERROR_ARANGO_UNIQUE_CONSTRAINT_VIOLATED,
    ERROR_INTERNAL};
use serde_json::{Map, Value};
use storage::{Batch, Space};

use crate::clock::{decode_rev, encode_rev};
use crate::collection::{Collection, KeyGenerator};
use crate::computed::On;
use crate::keys::{self, Direction};
use crate::names;
use crate::store::{storage_err, Store};

/// A stored document: its revision and its JSON without `_id` (which follows from the
/// collection's current name).
#[derive(Clone, Debug)]
pub struct StoredDoc {
    pub rev: u64,
    /// The stored value: 8 bytes of revision, then the JSON.
    bytes: Vec<u8>,
}

impl StoredDoc {
    fn decode(bytes: Vec<u8>) -> Result<StoredDoc> {
        let rev = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| err!(ERROR_INTERNAL, "stored document is truncated"))?;
        Ok(StoredDoc { rev, bytes })
    }

    fn json(&self) -> &[u8] {
        &self.bytes[8..]
    }

    fn encode(rev: u64, doc: &Map<String, Value>) -> Result<Vec<u8>> {
        let mut out = rev.to_be_bytes().to_vec();
        serde_json::to_writer(&mut out, doc).map_err(|e| err!(ERROR_INTERNAL, "cannot serialize document: {e}"))?;
        Ok(out)
    }

    pub fn rev_string(&self) -> String {
        encode_rev(self.rev)
    }

    /// The stored JSON, lent.
    pub fn raw(&self) -> RawDoc<'_> {
        RawDoc { json: self.json() }
    }

    /// Appends the document as JSON, with `_id` after `_key` as ArangoDB orders them.
    pub fn write_json(&self, collection: &str, key: &str, out: &mut Vec<u8>) {
        self.raw().write_json(collection, key, out)
    }

    pub fn to_value(&self, collection: &str, key: &str) -> Result<Value> {
        self.raw().to_value(collection, key)
    }

    /// See [`RawDoc::project`].
    pub fn project(&self, collection: &str, key: &str, attrs: &[String]) -> Result<Value> {
        self.raw().project(collection, key, attrs)
    }

    fn to_map(&self) -> Result<Map<String, Value>> {
        serde_json::from_slice(self.json()).map_err(|e| err!(ERROR_INTERNAL, "stored document unreadable: {e}"))
    }
}

/// A part of a collection's documents in key order: storage keys from `from` (inclusive;
/// the collection's start when `None`) to `to` (exclusive; its end when `None`).
#[derive(Clone, Debug)]
pub struct ScanRange {
    from: Option<Vec<u8>>,
    to: Option<Vec<u8>>,
}

impl ScanRange {
    /// A whole collection.
    pub fn whole() -> ScanRange {
        ScanRange { from: None, to: None }
    }

    /// What is left of this range after the document with key `key` of `col`.
    pub fn rest_after(&self, col: &Collection, key: &str) -> ScanRange {
        let mut from = keys::document(col.shard.id, key);
        from.push(0);
        ScanRange { from: Some(from), to: self.to.clone() }
    }
}

/// A stored document's JSON (without `_id`, which follows from the collection's name), lent
/// by a scan or a [`StoredDoc`].
#[derive(Clone, Copy)]
pub struct RawDoc<'a> {
    json: &'a [u8],
}

impl RawDoc<'_> {
    /// Appends the document as JSON, with `_id` after `_key` as ArangoDB orders them.
    /// Stored documents always start with `{"_key":"<key>"`, and keys need no escaping.
    pub fn write_json(&self, collection: &str, key: &str, out: &mut Vec<u8>) {
        let json = self.json;
        if let Some(head) = self.key_head(key).filter(|&h| json.get(h) == Some(&b',')) {
            out.extend_from_slice(&json[..=head]);
            out.extend_from_slice(b"\"_id\":");
            if collection.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                // Traditional names and keys need no escaping: write the id as it is.
                out.push(b'"');
                out.extend_from_slice(collection.as_bytes());
                out.push(b'/');
                out.extend_from_slice(key.as_bytes());
                out.push(b'"');
            } else {
                let _ = serde_json::to_writer(&mut *out, &format!("{collection}/{key}"));
            }
            out.push(b',');
            out.extend_from_slice(&json[head + 1..]);
        } else {
            out.extend_from_slice(json);
        }
    }

    pub fn to_value(&self, collection: &str, key: &str) -> Result<Value> {
        let mut buf = Vec::with_capacity(self.json.len() + collection.len() + key.len() + 10);
        self.write_json(collection, key, &mut buf);
        serde_json::from_slice(&buf).map_err(|e| err!(ERROR_INTERNAL, "stored document unreadable: {e}"))
    }

    /// Only the top-level attributes named in `attrs`, as an object with one member for
    /// each, in `attrs` order; an attribute the document lacks is null, which is what reading
    /// it gives. See [`Self::project_into`].
    pub fn project(&self, collection: &str, key: &str, attrs: &[String]) -> Result<Value> {
        let mut doc = projection_template(attrs);
        self.project_into(collection, key, attrs, &mut doc)?;
        Ok(doc)
    }

    /// Overwrites the values of `into`, made by [`projection_template`] for `attrs`, with this
    /// document's. Only the wanted values are parsed; the rest of the stored JSON is stepped
    /// over, and nothing is allocated beyond the values themselves, so a scan can reuse one
    /// object for every document it reads. `_key` and `_id` come from the key and the
    /// collection's name.
    pub fn project_into(&self, collection: &str, key: &str, attrs: &[String], into: &mut Value) -> Result<()> {
        let Value::Object(map) = into else { return Err(err!(ERROR_INTERNAL, "projection target is not an object")) };
        let mut missing = 0;
        for (name, v) in map.iter_mut() {
            *v = match name.as_str() {
                "_key" => Value::String(key.to_string()),
                "_id" => Value::String(format!("{collection}/{key}")),
                _ => {
                    missing += 1;
                    Value::Null
                }
            };
        }
        if missing == 0 {
            return Ok(());
        }
        let mut failed = None;
        // The members after the last wanted one are not looked at.
        let mut found = |name: &[u8], raw: &[u8]| {
            let wanted = match attrs.iter().position(|a| a.as_bytes() == name) {
                Some(i) => Some(i),
                // An escaped name is compared decoded.
                None if name.contains(&b'\\') => match serde_json::from_slice::<String>(&self.json[name_span(self.json, name)]) {
                    Ok(n) => attrs.iter().position(|a| *a == n),
                    Err(_) => None,
                },
                None => None,
            };
            match wanted {
                Some(i) if attrs[i] != "_key" && attrs[i] != "_id" => {
                    match raw_json::value(raw) {
                        Ok(v) => {
                            if let Some(slot) = map.values_mut().nth(i) {
                                *slot = v;
                            }
                        }
                        Err(e) => {
                            failed = Some(err!(ERROR_INTERNAL, "stored document unreadable: {e}"));
                            return false;
                        }
                    }
                    missing -= 1;
                    missing > 0
                }
                _ => true,
            }
        };
        // The stored `{"_key":"<key>"` is stepped over without looking.
        let walked = match self.key_head(key) {
            Some(head) => raw_json::members_after(self.json, head, &mut found),
            None => raw_json::members(self.json, &mut found),
        };
        if let Some(e) = failed {
            return Err(e);
        }
        walked.ok_or_else(|| err!(ERROR_INTERNAL, "stored document unreadable: malformed JSON"))
    }
}

impl RawDoc<'_> {
    /// Where the stored document's first member, `"_key":"<key>"`, ends: stored documents
    /// start with it, and keys need no escaping. `None` when it is not there.
    fn key_head(&self, key: &str) -> Option<usize> {
        let head = 9 + key.len() + 1; // {"_key":" + key + "
        let rest = self.json.strip_prefix(b"{\"_key\":\"")?.strip_prefix(key.as_bytes())?;
        (rest.first() == Some(&b'"')).then_some(head)
    }
}

/// An object with a null member for each of `attrs`, in order: what [`RawDoc::project_into`]
/// fills.
pub fn projection_template(attrs: &[String]) -> Value {
    Value::Object(attrs.iter().map(|a| (a.clone(), Value::Null)).collect())
}

/// The span of `name` (a subslice of `json`) with its quotes.
fn name_span(json: &[u8], name: &[u8]) -> std::ops::Range<usize> {
    let start = name.as_ptr() as usize - json.as_ptr() as usize;
    start - 1..start + name.len() + 1
}

/// Steps over JSON text without building it. Every function answers `None` for input that is
/// not well-formed where it looks, and never reads out of bounds: stored bytes are not trusted.
mod raw_json {
    /// Calls `f` with each top-level member's name (between its quotes, escapes as written)
    /// and value (as written) until it returns false. `None` when `json` is not an object.
    pub fn members<'a>(json: &'a [u8], f: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> Option<()> {
        let mut at = space(json, 0);
        if json.get(at) != Some(&b'{') {
            return None;
        }
        at = space(json, at + 1);
        if json.get(at) == Some(&b'}') {
            return Some(());
        }
        each(json, at, f)
    }

    /// [`members`] after the first, which ends before `at`.
    pub fn members_after<'a>(json: &'a [u8], at: usize, f: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> Option<()> {
        let at = space(json, at);
        match json.get(at) {
            Some(b',') => each(json, space(json, at + 1), f),
            Some(b'}') => Some(()),
            _ => None,
        }
    }

    /// The members from the one whose name starts at `at`.
    fn each<'a>(json: &'a [u8], mut at: usize, mut f: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> Option<()> {
        loop {
            if json.get(at) != Some(&b'"') {
                return None;
            }
            let name_end = string_end(json, at + 1)?;
            let name = &json[at + 1..name_end - 1];
            at = space(json, name_end);
            if json.get(at) != Some(&b':') {
                return None;
            }
            let value_start = space(json, at + 1);
            let value_end = value_end(json, value_start)?;
            if !f(name, &json[value_start..value_end]) {
                return Some(());
            }
            at = space(json, value_end);
            match json.get(at) {
                Some(b',') => at = space(json, at + 1),
                Some(b'}') => return Some(()),
                _ => return None,
            }
        }
    }

    fn space(json: &[u8], mut at: usize) -> usize {
        while matches!(json.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }

    /// A value as written, parsed. Small whole numbers, the most common values in filters,
    /// are read directly.
    pub fn value(raw: &[u8]) -> serde_json::Result<serde_json::Value> {
        let digits = raw.strip_prefix(b"-").unwrap_or(raw);
        if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) && (digits[0] != b'0' || raw == b"0") {
            let n = digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            return Ok(serde_json::Value::from(if digits.len() < raw.len() { -n } else { n }));
        }
        serde_json::from_slice(raw)
    }

    /// The index after the quote that closes a string whose text starts at `at`.
    fn string_end(json: &[u8], mut at: usize) -> Option<usize> {
        // Most strings here are short names and keys: a plain loop beats setting up a search.
        for _ in 0..32 {
            match *json.get(at)? {
                b'"' => return Some(at + 1),
                b'\\' => at += 2,
                _ => at += 1,
            }
        }
        loop {
            at += memchr::memchr2(b'"', b'\\', json.get(at..)?)?;
            if json[at] == b'"' {
                return Some(at + 1);
            }
            at += 2;
        }
    }

    /// The index after the value starting at `at`.
    fn value_end(json: &[u8], at: usize) -> Option<usize> {
        match *json.get(at)? {
            b'"' => string_end(json, at + 1),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut i = at;
                loop {
                    match *json.get(i)? {
                        b'"' => {
                            i = string_end(json, i + 1)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {
                let len = json[at..].iter().position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(json.len() - at);
                (len > 0).then_some(at + len)
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::members;

        fn collect(json: &str) -> Option<Vec<(String, String)>> {
            let mut out = Vec::new();
            members(json.as_bytes(), |n, v| {
                out.push((String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()));
                true
            })?;
            Some(out)
        }

        #[test]
        fn steps_over_every_kind_of_value() {
            let got = collect(r#"{"a":1,"b\"c":"x\"}y","n":{"d":[1,{"e":"]"}]},"t":true , "z" : null}"#).unwrap();
            let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["a", r#"b\"c"#, "n", "t", "z"]);
            assert_eq!(got[1].1, r#""x\"}y""#);
            assert_eq!(got[2].1, r#"{"d":[1,{"e":"]"}]}"#);
            assert_eq!(got[4].1, "null");
            assert_eq!(collect("{}").unwrap(), []);
        }

        #[test]
        fn projections_read_what_a_full_parse_reads() {
            use super::super::{projection_template, RawDoc};
            let attrs: Vec<String> = ["value", "_key", "a\"b", "_id", "nested", "missing", "_rev"].map(String::from).to_vec();
            for json in [
                r#"{"_key":"k1","_rev":"_r","value":7,"a\"b":"x","nested":{"value":1}}"#,
                r#"{"_key":"k1","nested":[1,{"a":"}"}],"value":"s"}"#,
                r#"{"value":null,"_key":"k1"}"#,
                r#"{"_key":"k1"}"#,
                r#"{"_key":"k10","value":1}"#,
            ] {
                let raw = RawDoc { json: json.as_bytes() };
                let mut got = projection_template(&attrs);
                raw.project_into("c", "k1", &attrs, &mut got).unwrap();
                let full: serde_json::Value = serde_json::from_str(json).unwrap();
                for a in &attrs {
                    let expected = match a.as_str() {
                        "_key" => serde_json::json!("k1"),
                        "_id" => serde_json::json!("c/k1"),
                        _ => full.get(a).cloned().unwrap_or(serde_json::Value::Null),
                    };
                    assert_eq!(got[a], expected, "{a} of {json}");
                }
            }
            let mut got = projection_template(&attrs);
            assert!(RawDoc { json: br#"{"_key":"k1","value":}"# }.project_into("c", "k1", &attrs, &mut got).is_err());
        }

        /// Mutated documents: never a panic; where the bytes are still a JSON object (with
        /// unique names, as stored ones have), the same values as a full parse.
        #[test]
        fn mutated_documents_never_panic() {
            use super::super::{projection_template, RawDoc};
            let attrs: Vec<String> = ["value", "s", "n", "_key", "_id"].map(String::from).to_vec();
            let base = br#"{"_key":"k1","_rev":"_r","value":-12,"s":"a\"b\\c","n":{"x":[1,{"y":"]"}],"z":null},"t":true}"#;
            let alphabet = b"{}[]\":,\\ 0-9.eEtrufalsn";
            let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut rnd = |n: usize| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % n as u64) as usize
            };
            let mut checked = 0;
            for _ in 0..20_000 {
                let mut doc = base.to_vec();
                for _ in 0..1 + rnd(3) {
                    let at = rnd(doc.len() + 1);
                    match rnd(3) {
                        0 if at < doc.len() => doc[at] = alphabet[rnd(alphabet.len())],
                        1 => doc.insert(at, alphabet[rnd(alphabet.len())]),
                        _ => doc.truncate(at),
                    }
                }
                let mut got = projection_template(&attrs);
                let read = RawDoc { json: &doc }.project_into("c", "k1", &attrs, &mut got);
                let Ok(serde_json::Value::Object(full)) = serde_json::from_slice::<serde_json::Value>(&doc) else { continue };
                let unique = {
                    let mut names = Vec::new();
                    super::members(&doc, |n, _| {
                        names.push(n.to_vec());
                        true
                    });
                    let count = names.len();
                    names.sort();
                    names.dedup();
                    names.len() == count
                };
                if !unique {
                    continue;
                }
                assert!(read.is_ok(), "{}", String::from_utf8_lossy(&doc));
                for a in ["value", "s", "n"] {
                    assert_eq!(got[a], full.get(a).cloned().unwrap_or(serde_json::Value::Null), "{a} of {}", String::from_utf8_lossy(&doc));
                }
                checked += 1;
            }
            assert!(checked > 500, "only {checked} mutations were still JSON");
        }

        #[test]
        fn reads_numbers_as_serde_does() {
            for text in ["0", "-0", "7", "-42", "123456789012345678", "1234567890123456789", "1.5", "1e3", "007", "-", "\"x\"", "[1]", "null"] {
                let ours = super::value(text.as_bytes()).ok();
                let theirs = serde_json::from_slice::<serde_json::Value>(text.as_bytes()).ok();
                assert_eq!(ours, theirs, "{text}");
            }
        }

        #[test]
        fn refuses_broken_input_without_panicking() {
            for bad in ["", "[1]", "{", r#"{"a"#, r#"{"a":"#, r#"{"a":1"#, r#"{"a":"x"#, r#"{"a":"\"#, r#"{"a":[1,2"#, r#"{"a":}"#, r#"{"a":1,}"#, r#"{"a" 1}"#, "{\"a\":1]}"] {
                assert!(collect(bad).is_none(), "{bad}");
            }
            // Depth never underflows: a closing bracket first is not a value.
            assert!(collect(r#"{"a":]}"#).is_none());
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverwriteMode {
    /// Fail with a unique constraint violation (the default).
    Conflict,
    Ignore,
    Replace,
    Update,
}

impl OverwriteMode {
    pub fn parse(s: &str) -> Option<OverwriteMode> {
        Some(match s {
            "conflict" => OverwriteMode::Conflict,
            "ignore" => OverwriteMode::Ignore,
            "replace" => OverwriteMode::Replace,
            "update" => OverwriteMode::Update,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Insert(OverwriteMode),
    Replace,
    Update,
    Remove,
}

#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub wait_for_sync: bool,
    pub keep_null: bool,
    pub merge_objects: bool,
    /// Ignore `_rev` in bodies (an `If-Match` revision still counts).
    pub ignore_revs: bool,
    pub return_old: bool,
    pub return_new: bool,
    /// Skip schema validation (`skipDocumentValidation`).
    pub skip_validation: bool,
    /// Keep `_rev` values from the bodies (restore and replication).
    pub is_restore: bool,
    /// Write nothing if any item fails (`/_api/import?complete=true`).
    pub all_or_nothing: bool,
    /// Empty the collection in the same atomic batch first (`/_api/import?overwrite=true`).
    pub truncate_first: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            wait_for_sync: false,
            keep_null: true,
            merge_objects: true,
            ignore_revs: true,
            return_old: false,
            return_new: false,
            skip_validation: false,
            is_restore: false,
            all_or_nothing: false,
            truncate_first: false,
        }
    }
}

/// One document to write: a body (or a selector for removes), an explicit key from the URL,
/// and a revision the stored document must have (`If-Match`).
#[derive(Debug)]
pub struct WriteItem {
    pub body: Value,
    pub key: Option<String>,
    pub if_match: Option<String>,
}

/// What happened to one item.
#[derive(Debug)]
pub struct Written {
    pub key: String,
    pub rev: u64,
    pub old_rev: Option<u64>,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// `overwriteMode: ignore` left an existing document alone.
    pub ignored: bool,
    /// An insert with overwrite replaced or updated an existing document.
    pub overwritten: bool,
}

/// Why one item failed; `current_rev` is the stored revision for conflicts.
#[derive(Debug)]
pub struct ItemError {
    pub error: ArangoError,
    pub key: Option<String>,
    pub current_rev: Option<u64>,
}

impl From<ArangoError> for ItemError {
    fn from(error: ArangoError) -> Self {
        ItemError { error, key: None, current_rev: None }
    }
}

pub type ItemResult = std::result::Result<Written, ItemError>;

/// The shard gate as a writer holds it (held for its lifetime, never read).
#[allow(dead_code)]
enum Gate<'a> {
    Shared(parking_lot::RwLockReadGuard<'a, ()>),
    Exclusive(parking_lot::RwLockWriteGuard<'a, ()>),
}

/// A document to store: its revision and its attributes.
type NewDoc = (u64, Map<String, Value>);

/// What a collection checks and fills in on every write.
#[derive(Clone, Copy)]
struct Checks<'a> {
    schema: Option<&'a crate::schema::Schema>,
    computed: Option<&'a crate::computed::ComputedValues>,
}

/// An item after the checks that need no stored state.
struct Prepared {
    key: String,
    body: Map<String, Value>,
    if_rev: Option<String>,
}

impl Store {
    /// Reads one document.
    pub fn get_document(&self, col: &Collection, key: &str) -> Result<Option<StoredDoc>> {
        self.get_document_at(col, key, None)
    }

    /// [`Self::get_document`] as of `snapshot`.
    pub fn get_document_at(&self, col: &Collection, key: &str, snapshot: Option<&storage::Snapshot>) -> Result<Option<StoredDoc>> {
        let raw = self.engine.get_at(Space::Documents, &keys::document(col.shard.id, key), snapshot).map_err(storage_err)?;
        raw.map(StoredDoc::decode).transpose()
    }

    /// Reads many documents, in the order of `keys`, as of `snapshot` when given.
    pub fn get_documents(&self, col: &Collection, doc_keys: &[&str], snapshot: Option<&storage::Snapshot>) -> Result<Vec<Option<StoredDoc>>> {
        let ks: Vec<Vec<u8>> = doc_keys.iter().map(|k| keys::document(col.shard.id, k)).collect();
        let raws = self.engine.multi_get_at(Space::Documents, &ks, snapshot).map_err(storage_err)?;
        raws.into_iter().map(|r| r.map(StoredDoc::decode).transpose()).collect()
    }

    /// Calls `f` with each document's key and stored form, in key order, until it returns false.
    pub fn scan_documents(&self, col: &Collection, mut f: impl FnMut(&str, StoredDoc) -> bool) -> Result<()> {
        let mut failure = None;
        self.engine
            .scan_prefix(Space::Documents, &keys::shard_prefix(col.shard.id), None, |k, v| {
                let key = std::str::from_utf8(&k[8..]).unwrap_or_default();
                match StoredDoc::decode(v.to_vec()) {
                    Ok(doc) => f(key, doc),
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            })
            .map_err(storage_err)?;
        failure.map_or(Ok(()), Err)
    }

    /// Calls `f` with each document's key and JSON in key order, lent from the storage engine
    /// without copying, until it returns false.
    pub fn scan_raw(&self, col: &Collection, snapshot: Option<&storage::Snapshot>, f: impl FnMut(&str, RawDoc) -> bool) -> Result<()> {
        self.scan_raw_range(col, &ScanRange::whole(), snapshot, f)
    }

    /// The collection's key range cut into about `parts` ranges holding similar amounts of
    /// data, in key order, for reading it with several threads.
    pub fn scan_ranges(&self, col: &Collection, parts: usize) -> Result<Vec<ScanRange>> {
        let cuts = self.engine.split_points(Space::Documents, &keys::shard_prefix(col.shard.id), parts).map_err(storage_err)?;
        let mut ranges = Vec::with_capacity(cuts.len() + 1);
        let mut from = None;
        for cut in cuts {
            ranges.push(ScanRange { from: from.take(), to: Some(cut.clone()) });
            from = Some(cut);
        }
        ranges.push(ScanRange { from, to: None });
        Ok(ranges)
    }

    /// The store's state as of now, for reads that must all see the same state.
    pub fn snapshot(&self) -> storage::Snapshot<'_> {
        self.engine.snapshot()
    }

    /// [`Self::scan_raw`] over one of the ranges [`Self::scan_ranges`] made, as of `snapshot`.
    pub fn scan_raw_range(&self, col: &Collection, range: &ScanRange, snapshot: Option<&storage::Snapshot>, mut f: impl FnMut(&str, RawDoc) -> bool) -> Result<()> {
        let mut failure = None;
        self.engine
            .scan_range(Space::Documents, &keys::shard_prefix(col.shard.id), range.from.as_deref(), range.to.as_deref(), snapshot, |k, v| {
                match (k.get(8..).map(std::str::from_utf8), v.get(8..)) {
                    (Some(Ok(key)), Some(json)) => f(key, RawDoc { json }),
                    _ => {
                        failure = Some(err!(ERROR_INTERNAL, "stored document is truncated"));
                        false
                    }
                }
            })
            .map_err(storage_err)?;
        failure.map_or(Ok(()), Err)
    }

    /// Edges of `vertex` in the given directions, from the edge index, as `(key, document)`
    /// pairs. An edge that matches in both directions (a self-loop) comes once.
    pub fn edges(&self, col: &Collection, vertex: &str, dirs: &[Direction], snapshot: Option<&storage::Snapshot>) -> Result<Vec<(String, StoredDoc)>> {
        let mut ks: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &dir in dirs {
            let prefix = keys::edge_prefix(col.shard.id, dir, vertex);
            self.engine
                .scan_range(Space::Indexes, &prefix, None, None, snapshot, |k, _| {
                    let key = String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned();
                    if seen.insert(key.clone()) {
                        ks.push(key);
                    }
                    true
                })
                .map_err(storage_err)?;
        }
        let refs: Vec<&str> = ks.iter().map(String::as_str).collect();
        let docs = self.get_documents(col, &refs, snapshot)?;
        Ok(ks.into_iter().zip(docs).filter_map(|(k, d)| d.map(|d| (k, d))).collect())
    }

    /// Applies a batch of writes. Returns each item's outcome and whether the batch was
    /// synced to disk.
    pub fn write_documents(
        &self,
        col: &Collection,
        kind: WriteKind,
        items: Vec<WriteItem>,
        opts: &WriteOptions,
    ) -> Result<(Vec<ItemResult>, bool)> {
        let info = col.info.read().clone();
        let sync = opts.wait_for_sync || info.wait_for_sync;
        let schema = if opts.skip_validation || kind == WriteKind::Remove { None } else { col.schema.read().clone() };
        // A restored document already holds its computed values.
        let computed = if kind == WriteKind::Remove || opts.is_restore { None } else { col.computed.read().clone() };
        // Writers share the gate; a write that empties the collection first holds it alone.
        let _gate = if opts.truncate_first { Gate::Exclusive(col.shard.gate.write()) } else { Gate::Shared(col.shard.gate.read()) };
        col.check_not_dropped()?;
        let prepared: Vec<std::result::Result<Prepared, ItemError>> =
            items.into_iter().map(|item| self.prepare(col, kind, item, opts)).collect();

        // Lock the stripes of all keys, in order, so that concurrent batches cannot deadlock.
        let mut stripes: Vec<usize> = prepared.iter().flatten().map(|p| self.stripe(col.shard.id, &p.key)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let _locks: Vec<_> = stripes.iter().map(|&s| self.stripes[s].lock()).collect();

        let shard = col.shard.id;
        let doc_keys: Vec<&str> = prepared.iter().flatten().map(|p| p.key.as_str()).collect();
        let mut stored = if opts.truncate_first { vec![None; doc_keys.len()] } else { self.get_documents(col, &doc_keys, None)? }.into_iter();
        // Documents written earlier in this batch, by key (None: removed).
        let mut pending: HashMap<String, Option<StoredDoc>> = HashMap::new();
        let mut batch = Batch::default();
        if opts.truncate_first {
            batch.delete_prefix(Space::Documents, &keys::shard_prefix(shard));
            batch.delete_prefix(Space::Indexes, &keys::shard_prefix(shard));
            batch.set_counter(Space::Meta, keys::shard_count(shard), 0);
        }
        let (mut count_delta, mut max_rev) = (0i64, 0u64);
        let mut results = Vec::with_capacity(prepared.len());
        for p in prepared {
            let p = match p {
                Ok(p) => p,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let from_disk = stored.next().flatten();
            let current = match pending.get(&p.key) {
                Some(doc) => doc.clone(),
                None => from_disk,
            };
            let checks = Checks { schema: schema.as_deref(), computed: computed.as_deref() };
            let outcome = self.decide(&info.name, info.is_edge(), kind, &p, current.as_ref(), opts, checks);
            match outcome {
                Ok((written, new_doc)) => {
                    let key = keys::document(shard, &p.key);
                    let old_map = match &current {
                        Some(c) if info.is_edge() => Some(c.to_map()?),
                        _ => None,
                    };
                    if info.is_edge() && !written.ignored {
                        update_edge_index(&mut batch, shard, &p.key, old_map.as_ref(), new_doc.as_ref().map(|(_, m)| m));
                    }
                    match new_doc {
                        Some((rev, map)) => {
                            let bytes = StoredDoc::encode(rev, &map)?;
                            batch.put(Space::Documents, key, bytes.clone());
                            max_rev = max_rev.max(rev);
                            if current.is_none() {
                                count_delta += 1;
                            }
                            pending.insert(p.key.clone(), Some(StoredDoc::decode(bytes)?));
                        }
                        None if !written.ignored => {
                            batch.delete(Space::Documents, key);
                            count_delta -= 1;
                            pending.insert(p.key.clone(), None);
                        }
                        None => {}
                    }
                    results.push(Ok(written));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if (batch.is_empty() && !opts.truncate_first) || (opts.all_or_nothing && results.iter().any(Result::is_err)) {
            // Nothing to write; the answer still says what the caller asked for.
            return Ok((results, sync));
        }
        if count_delta != 0 {
            batch.add(Space::Meta, keys::shard_count(shard), count_delta);
        }
        if max_rev > 0 {
            batch.raise(Space::Meta, keys::shard_revision(shard), max_rev);
        }
        if matches!(info.key_options.kind, KeyGenerator::Autoincrement | KeyGenerator::Traditional) {
            batch.raise(Space::Meta, keys::shard_keygen(shard), col.shard.keygen_last.load(Ordering::Acquire));
        }
        self.raise_high_water(&mut batch);
        self.engine.write(batch, sync).map_err(storage_err)?;
        Ok((results, sync))
    }

    fn stripe(&self, shard: u64, key: &str) -> usize {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(key.as_bytes(), shard);
        (h % self.stripes.len() as u64) as usize
    }

    /// Checks an item on its own: document type, key, edge attributes.
    fn prepare(&self, col: &Collection, kind: WriteKind, item: WriteItem, opts: &WriteOptions) -> std::result::Result<Prepared, ItemError> {
        let mut body = match item.body {
            Value::Object(m) => m,
            // A remove selector may be a bare key string.
            Value::String(s) if kind == WriteKind::Remove => {
                let mut m = Map::new();
                m.insert("_key".into(), Value::String(s));
                m
            }
            _ => return Err(err!(ERROR_ARANGO_DOCUMENT_TYPE_INVALID, "invalid document type").into()),
        };
        let body_key = match body.get("_key") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(err!(ERROR_ARANGO_DOCUMENT_KEY_BAD, "illegal document key").into()),
        };
        let if_rev = item.if_match.or_else(|| {
            if opts.ignore_revs {
                None
            } else {
                body.get("_rev").and_then(Value::as_str).map(str::to_string)
            }
        });
        let key = match (kind, item.key.or(body_key)) {
            (WriteKind::Insert(_), None) => self.generate_key(col)?,
            (WriteKind::Insert(_), Some(k)) => {
                self.check_user_key(col, &k)?;
                k
            }
            (_, Some(k)) => {
                if !names::is_valid_key(&k) {
                    return Err(err!(ERROR_ARANGO_DOCUMENT_KEY_BAD, "illegal document key").into());
                }
                k
            }
            (_, None) => {
                return Err(err!(errors::ERROR_ARANGO_DOCUMENT_HANDLE_BAD, "invalid document key").into());
            }
        };
        if col.is_edge() && matches!(kind, WriteKind::Insert(_) | WriteKind::Replace | WriteKind::Update) {
            for attr in ["_from", "_to"] {
                match body.get(attr) {
                    None if kind == WriteKind::Update => {}
                    Some(Value::String(s)) if names::split_document_id(s).is_some() => {}
                    _ => return Err(ItemError { key: Some(key), ..err!(ERROR_ARANGO_INVALID_EDGE_ATTRIBUTE, "edge attribute missing or invalid").into() }),
                }
            }
        }
        body.remove("_id");
        if !opts.is_restore {
            body.remove("_rev");
        }
        Ok(Prepared { key, body, if_rev })
    }

    fn check_user_key(&self, col: &Collection, key: &str) -> std::result::Result<(), ItemError> {
        let ko = col.info.read().key_options.clone();
        if !ko.allow_user_keys {
            return Err(err!(ERROR_ARANGO_DOCUMENT_KEY_UNEXPECTED, "unexpected document key").into());
        }
        if !names::is_valid_key(key) {
            return Err(err!(ERROR_ARANGO_DOCUMENT_KEY_BAD, "illegal document key").into());
        }
        // Numeric user keys move this collection's generator past them, so generated keys
        // never collide with them. (Per collection: a huge user key must not move the
        // server-wide id counter.)
        if let (Ok(n), KeyGenerator::Autoincrement | KeyGenerator::Traditional) = (key.parse::<u64>(), ko.kind) {
            col.shard.keygen_last.fetch_max(n, Ordering::AcqRel);
        }
        Ok(())
    }

    fn generate_key(&self, col: &Collection) -> std::result::Result<String, ItemError> {
        let ko = col.info.read().key_options.clone();
        let out_of_keys = || ItemError::from(err!(ERROR_ARANGO_OUT_OF_KEYS, "out of keys"));
        Ok(match ko.kind {
            KeyGenerator::Traditional => {
                // The server's tick, or past the highest numeric key this collection has seen.
                let tick = self.clock.next_id();
                let mut last = col.shard.keygen_last.load(Ordering::Acquire);
                loop {
                    let next = if tick > last { tick } else { last.checked_add(1).ok_or_else(out_of_keys)? };
                    match col.shard.keygen_last.compare_exchange(last, next, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => break next.to_string(),
                        Err(seen) => last = seen,
                    }
                }
            }
            KeyGenerator::Padded => format!("{:016x}", self.clock.next_id()),
            KeyGenerator::Uuid => uuid::Uuid::new_v4().to_string(),
            KeyGenerator::Autoincrement => {
                let next = |last: u64| -> Option<u64> {
                    if last < ko.offset {
                        Some(ko.offset.max(1))
                    } else {
                        let step = ko.increment - (last - ko.offset) % ko.increment;
                        last.checked_add(step)
                    }
                };
                let mut last = col.shard.keygen_last.load(Ordering::Acquire);
                loop {
                    let n = next(last).ok_or_else(out_of_keys)?;
                    match col.shard.keygen_last.compare_exchange(last, n, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => break n.to_string(),
                        Err(seen) => last = seen,
                    }
                }
            }
        })
    }

    /// Decides one item against the current stored document: the result to report and the
    /// new stored document (`None` for a remove or an ignored insert).
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        col_name: &str,
        is_edge: bool,
        kind: WriteKind,
        p: &Prepared,
        current: Option<&StoredDoc>,
        opts: &WriteOptions,
        checks: Checks,
    ) -> std::result::Result<(Written, Option<NewDoc>), ItemError> {
        let fail = |error: ArangoError, current_rev: Option<u64>| ItemError { error, key: Some(p.key.clone()), current_rev };
        let value_of = |d: &StoredDoc| d.to_value(col_name, &p.key).map_err(|e| fail(e, None));
        let mut written = Written {
            key: p.key.clone(),
            rev: 0,
            old_rev: None,
            old: None,
            new: None,
            ignored: false,
            overwritten: false,
        };
        let effective = match (kind, current) {
            (WriteKind::Insert(OverwriteMode::Conflict), Some(_)) => {
                return Err(fail(
                    err!(
                        ERROR_ARANGO_UNIQUE_CONSTRAINT_VIOLATED,
                        "unique constraint violated - in index primary of type primary over '_key'; conflicting key: {}",
                        p.key
                    ),
                    None,
                ));
            }
            (WriteKind::Insert(OverwriteMode::Ignore), Some(cur)) => {
                written.rev = cur.rev;
                written.ignored = true;
                return Ok((written, None));
            }
            (WriteKind::Insert(OverwriteMode::Replace), Some(_)) => WriteKind::Replace,
            (WriteKind::Insert(OverwriteMode::Update), Some(_)) => WriteKind::Update,
            (WriteKind::Insert(_), None) => kind,
            (_, None) => return Err(fail(err!(ERROR_ARANGO_DOCUMENT_NOT_FOUND, "document not found"), None)),
            (_, Some(_)) => kind,
        };
        if let Some(cur) = current {
            written.overwritten = matches!(kind, WriteKind::Insert(_));
            if let Some(expected) = &p.if_rev {
                if decode_rev(expected) != Some(cur.rev) && *expected != cur.rev.to_string() {
                    return Err(fail(err!(ERROR_ARANGO_CONFLICT, "conflict, _rev values do not match").status(412), Some(cur.rev)));
                }
            }
            written.old_rev = Some(cur.rev);
            if opts.return_old {
                written.old = Some(value_of(cur)?);
            }
        }
        if effective == WriteKind::Remove {
            written.rev = current.map_or(0, |c| c.rev);
            return Ok((written, None));
        }
        let old_map = current.map(StoredDoc::to_map).transpose().map_err(|e| fail(e, None))?;
        let restored = if opts.is_restore { p.body.get("_rev").and_then(Value::as_str).and_then(decode_rev) } else { None };
        let rev = match restored {
            // Later revisions must still sort after a restored one.
            Some(r) => {
                self.clock.observe_rev(r);
                r
            }
            None => self.clock.next_rev(),
        };
        let merged;
        let user: &Map<String, Value> = if effective == WriteKind::Update {
            let mut m = old_map.clone().unwrap_or_default();
            merge_patch(&mut m, &p.body, opts.keep_null, opts.merge_objects);
            merged = m;
            &merged
        } else {
            &p.body
        };
        let mut doc = Map::with_capacity(user.len() + 4);
        doc.insert("_key".into(), Value::String(p.key.clone()));
        if is_edge {
            for attr in ["_from", "_to"] {
                let v = user.get(attr).cloned().unwrap_or(Value::Null);
                if v.as_str().is_none_or(|s| names::split_document_id(s).is_none()) {
                    return Err(fail(err!(ERROR_ARANGO_INVALID_EDGE_ATTRIBUTE, "edge attribute missing or invalid"), None));
                }
                doc.insert(attr.into(), v);
            }
        }
        doc.insert("_rev".into(), Value::String(encode_rev(rev)));
        for (k, v) in user {
            if !matches!(k.as_str(), "_key" | "_id" | "_rev" | "_from" | "_to") {
                doc.insert(k.clone(), v.clone());
            }
        }
        if let Some(computed) = checks.computed {
            let on = match effective {
                WriteKind::Update => On::Update,
                WriteKind::Replace => On::Replace,
                _ => On::Insert,
            };
            computed.apply(on, &mut doc, &format!("{col_name}/{}", p.key)).map_err(|e| fail(e, None))?;
        }
        if let Some(schema) = checks.schema {
            schema.check(&doc, old_map.as_ref()).map_err(|e| fail(e, None))?;
        }
        written.rev = rev;
        if opts.return_new {
            let stored = StoredDoc::decode(StoredDoc::encode(rev, &doc).map_err(|e| fail(e, None))?).map_err(|e| fail(e, None))?;
            written.new = Some(value_of(&stored)?);
        }
        Ok((written, Some((rev, doc))))
    }
}

/// ArangoDB's update semantics: attributes of `patch` replace those of `target`; with
/// `merge_objects`, object values merge recursively; without `keep_null`, null values
/// remove attributes.
pub fn merge_patch(target: &mut Map<String, Value>, patch: &Map<String, Value>, keep_null: bool, merge_objects: bool) {
    for (k, v) in patch {
        if v.is_null() && !keep_null {
            target.remove(k);
            continue;
        }
        match (target.get_mut(k), v) {
            (Some(Value::Object(old)), Value::Object(new)) if merge_objects => merge_patch(old, new, keep_null, merge_objects),
            _ => {
                let mut v = v.clone();
                if !keep_null {
                    strip_nulls(&mut v);
                }
                target.insert(k.clone(), v);
            }
        }
    }
}

fn strip_nulls(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|_, x| !x.is_null());
        m.values_mut().for_each(strip_nulls);
    }
}

fn update_edge_index(
    batch: &mut Batch,
    shard: u64,
    key: &str,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
) {
    let ends = |m: Option<&Map<String, Value>>| {
        m.map(|m| (m.get("_from").and_then(Value::as_str).map(str::to_string), m.get("_to").and_then(Value::as_str).map(str::to_string)))
    };
    let (old_ends, new_ends) = (ends(old), ends(new));
    if old_ends == new_ends {
        return;
    }
    if let Some((from, to)) = old_ends {
        if let Some(f) = from {
            batch.delete(Space::Indexes, keys::edge(shard, Direction::Out, &f, key));
        }
        if let Some(t) = to {
            batch.delete(Space::Indexes, keys::edge(shard, Direction::In, &t, key));
        }
    }
    if let Some((from, to)) = new_ends {
        if let Some(f) = from {
            batch.put(Space::Indexes, keys::edge(shard, Direction::Out, &f, key), Vec::new());
        }
        if let Some(t) = to {
            batch.put(Space::Indexes, keys::edge(shard, Direction::In, &t, key), Vec::new());
        }
    }
}
