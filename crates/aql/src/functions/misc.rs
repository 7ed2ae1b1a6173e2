//! Type-check aliases and miscellaneous functions: control flow (FIRST_DOCUMENT,
//! MIN_MATCH, ASSERT, WARN, FAIL), pass-throughs, hashing, revision decoding and the
//! server version.

use errors::{err, ERROR_QUERY_FAIL_CALLED, ERROR_QUERY_USER_ASSERT, ERROR_QUERY_USER_WARN};
use serde_json::{json, Value};

use super::{alias, type_mismatch, Entry};
use crate::eval::Env;
use crate::value::{compare, to_number, to_string, truthy};

/// The database a function reads, or an error where there is none (computed values).
fn database<'e>(env: &Env<'e>, name: &str) -> Result<&'e dyn crate::eval::Database, errors::ArangoError> {
    env.db.ok_or_else(|| err!(errors::ERROR_BAD_PARAMETER, "function '{name}()' reads the database and cannot be used here"))
}

/// `DOCUMENT(id)`, `DOCUMENT([ids])`, `DOCUMENT(collection, key or id)` and
/// `DOCUMENT(collection, [keys or ids])`: the documents that exist (`null` for a single one
/// that does not).
fn document(a: &[Value], env: &mut Env, name: &str) -> Result<Value, errors::ArangoError> {
    let db = database(env, name)?;
    let one = |collection: Option<&str>, handle: &Value| -> Result<Option<Value>, errors::ArangoError> {
        let Some(h) = handle.as_str() else { return Ok(None) };
        match (h.split_once('/'), collection) {
            // An id of another collection than the one named finds nothing.
            (Some((c, _)), Some(named)) if c != named => Ok(None),
            (Some((c, k)), _) => db.document(c, k),
            (None, Some(c)) => db.document(c, h),
            (None, None) => Ok(None),
        }
    };
    let (collection, handles) = match a {
        [h] => (None, h),
        [c, h] => match c.as_str() {
            Some(c) => (Some(c), h),
            None => return type_mismatch(env, name),
        },
        _ => return type_mismatch(env, name),
    };
    match handles {
        Value::Array(items) => {
            let mut out = Vec::new();
            for h in items {
                out.extend(one(collection, h)?);
            }
            Ok(Value::Array(out))
        }
        h => Ok(one(collection, h)?.unwrap_or(Value::Null)),
    }
}

/// The ArangoDB version Rango answers as; it matches the server's `/_api/version`.
pub const ARANGODB_VERSION: &str = "3.12.4";

pub(super) const FUNCTIONS: &[Entry] = &[
    ("TO_LIST", 1, 1, |a, env, name| alias("TO_ARRAY", a, env, name)),
    ("IS_LIST", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_array()))),
    ("IS_DOCUMENT", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_object()))),
    ("IS_KEY", 1, 1, |a, _, _| Ok(Value::Bool(a[0].as_str().is_some_and(is_key)))),
    ("FIRST_DOCUMENT", 1, usize::MAX, |a, _, _| Ok(a.iter().find(|v| v.is_object()).cloned().unwrap_or(Value::Null))),
    ("FIRST_LIST", 1, usize::MAX, |a, _, _| Ok(a.iter().find(|v| v.is_array()).cloned().unwrap_or(Value::Null))),
    ("MIN_MATCH", 2, usize::MAX, |a, _, _| {
        let (conditions, min) = a.split_at(a.len() - 1);
        let min = to_number(&min[0]);
        Ok(Value::Bool(conditions.iter().filter(|c| truthy(c)).count() as f64 >= min))
    }),
    ("IN_RANGE", 5, 5, |a, _, _| {
        let (low, high) = (compare(&a[0], &a[1]), compare(&a[0], &a[2]));
        let above = if truthy(&a[3]) { low.is_ge() } else { low.is_gt() };
        let below = if truthy(&a[4]) { high.is_le() } else { high.is_lt() };
        Ok(Value::Bool(above && below))
    }),
    ("ASSERT", 2, 2, |a, _, _| {
        if truthy(&a[0]) {
            Ok(Value::Bool(true))
        } else {
            Err(err!(ERROR_QUERY_USER_ASSERT, "{}", to_string(&a[1])))
        }
    }),
    ("WARN", 2, 2, |a, env, _| {
        if truthy(&a[0]) {
            return Ok(Value::Bool(true));
        }
        env.warn(ERROR_QUERY_USER_WARN, to_string(&a[1]));
        Ok(Value::Bool(false))
    }),
    ("FAIL", 0, 1, |a, _, _| Err(err!(ERROR_QUERY_FAIL_CALLED, "FAIL({}) called", a.first().map(to_string).unwrap_or_default()))),
    ("NOOPT", 1, 1, |a, _, _| Ok(a[0].clone())),
    ("NOEVAL", 1, 1, |a, _, _| Ok(a[0].clone())),
    ("PASSTHRU", 1, 1, |a, _, _| Ok(a[0].clone())),
    // Rango has no JavaScript engine: V8() evaluates its argument like any expression.
    ("V8", 1, 1, |a, _, _| Ok(a[0].clone())),
    ("VERSION", 0, 0, |_, _, _| Ok(json!(ARANGODB_VERSION))),
    ("DOCUMENT", 1, 2, document),
    ("CURRENT_DATABASE", 0, 0, |_, env, name| Ok(json!(database(env, name)?.name()))),
    ("CURRENT_USER", 0, 0, |_, env, name| Ok(database(env, name)?.user().map_or(Value::Null, Value::String))),
    ("COLLECTION_COUNT", 1, 1, |a, env, name| {
        let Some(c) = a[0].as_str() else { return type_mismatch(env, name) };
        Ok(json!(database(env, name)?.count(c)?))
    }),
    ("COLLECTIONS", 0, 0, |_, env, name| {
        let list = database(env, name)?.collections();
        Ok(Value::Array(list.into_iter().map(|(id, name)| json!({"_id": id, "name": name})).collect()))
    }),
    ("HASH", 1, 1, |a, _, _| Ok(json!(hash(&a[0], 0xcbf2_9ce4_8422_2325) & HASH_MASK))),
    ("MINHASH_COUNT", 1, 1, |a, env, name| match a[0].as_f64().filter(|e| *e > 0.0 && *e < 1.0) {
        Some(e) => Ok(json!((1.0 / (e * e)).ceil() as u64)),
        None => type_mismatch(env, name),
    }),
    ("MINHASH_ERROR", 1, 1, |a, env, name| match a[0].as_f64().filter(|n| *n >= 1.0) {
        Some(n) => Ok(crate::value::num(1.0 / n.sqrt())),
        None => type_mismatch(env, name),
    }),
    ("DECODE_REV", 1, 1, |a, env, name| match a[0].as_str().and_then(decode_rev) {
        Some(rev) => Ok(json!({
            "date": super::iso8601_from_ms((rev >> 20) as i64),
            "count": rev & 0xF_FFFF,
        })),
        None => type_mismatch(env, name),
    }),
];

/// HASH() answers numbers that survive a round trip through a double.
const HASH_MASK: u64 = (1 << 53) - 1;

/// Whether `key` is a valid `_key`: 1–254 bytes of letters, digits and `_-:.@()+,=;$!*'%`.
fn is_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 254 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:.@()+,=;$!*'%".contains(&b))
}

/// FNV-1a over a value's type and contents; objects hash the same whatever the order of
/// their attributes.
fn hash(v: &Value, seed: u64) -> u64 {
    let mix = |h: u64, bytes: &[u8]| bytes.iter().fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    match v {
        Value::Null => mix(seed, b"n"),
        Value::Bool(b) => mix(seed, if *b { b"t" } else { b"f" }),
        Value::Number(n) => mix(mix(seed, b"#"), &n.as_f64().unwrap_or(0.0).to_bits().to_le_bytes()),
        Value::String(s) => mix(mix(mix(seed, b"s"), &(s.len() as u64).to_le_bytes()), s.as_bytes()),
        Value::Array(items) => items.iter().fold(mix(seed, b"["), |h, item| hash(item, h)),
        Value::Object(m) => {
            // A sum of per-attribute hashes does not depend on the order.
            let members = m.iter().fold(0u64, |acc, (k, v)| acc.wrapping_add(hash(v, hash(&json!(k), seed))));
            mix(mix(seed, b"{"), &members.to_le_bytes())
        }
    }
}

/// A revision string as the number it encodes (ArangoDB's base64 alphabet, big-endian).
fn decode_rev(s: &str) -> Option<u64> {
    const ALPHABET: &[u8; 64] = b"-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    s.bytes().try_fold(0u64, |v, b| v.checked_mul(64)?.checked_add(ALPHABET.iter().position(|&c| c == b)? as u64))
}
