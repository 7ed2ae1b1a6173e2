//! Array and object functions beyond the basics in `functions.rs`: interleaving, Jaccard
//! index, replacing by position, recursive merge/keep/unset, path access, and the parts of
//! document identifiers.

use errors::{err, ArangoError, ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH};
use serde_json::{json, Map, Value};

use super::{alias, type_mismatch, Entry};
use crate::eval::Env;
use crate::value::{compare, to_number, to_string, truthy};

pub(super) const FUNCTIONS: &[Entry] = &[
    ("APPEND", 2, 3, append),
    ("CONTAINS_ARRAY", 2, 3, |a, env, name| alias("POSITION", a, env, name)),
    ("INTERLEAVE", 2, usize::MAX, interleave),
    ("JACCARD", 2, 2, jaccard),
    ("REPLACE_NTH", 3, 4, replace_nth),
    ("KEYS", 1, 3, |a, env, name| alias("ATTRIBUTES", a, env, name)),
    ("MERGE_RECURSIVE", 1, usize::MAX, merge_recursive),
    ("KEEP_RECURSIVE", 2, usize::MAX, |a, env, name| pick_recursive(a, env, name, true)),
    ("UNSET_RECURSIVE", 2, usize::MAX, |a, env, name| pick_recursive(a, env, name, false)),
    ("VALUE", 2, 2, value_at_path),
    ("TRANSLATE", 2, 3, |a, env, name| {
        let Value::Object(lookup) = &a[1] else { return type_mismatch(env, name) };
        Ok(match lookup.get(&to_string(&a[0])) {
            Some(v) => v.clone(),
            None => a.get(2).unwrap_or(&a[0]).clone(),
        })
    }),
    ("PARSE_IDENTIFIER", 1, 1, |a, env, name| match identifier(&a[0]) {
        Some((collection, key)) => Ok(json!({"collection": collection, "key": key})),
        None => type_mismatch(env, name),
    }),
    ("PARSE_COLLECTION", 1, 1, |a, env, name| match identifier(&a[0]) {
        Some((collection, _)) => Ok(json!(collection)),
        None => type_mismatch(env, name),
    }),
    ("PARSE_KEY", 1, 1, |a, env, name| match identifier(&a[0]) {
        Some((_, key)) => Ok(json!(key)),
        None => type_mismatch(env, name),
    }),
    ("IS_SAME_COLLECTION", 2, 2, |a, env, name| {
        let id = match &a[1] {
            Value::String(s) => Some(s.as_str()),
            Value::Object(m) => m.get("_id").and_then(Value::as_str),
            _ => None,
        };
        match (&a[0], id) {
            (Value::String(collection), Some(id)) => {
                Ok(Value::Bool(id.split_once('/').is_some_and(|(c, _)| c == collection)))
            }
            _ => type_mismatch(env, name),
        }
    }),
];

/// Most padding values REPLACE_NTH adds.
const PADDING_MAX: usize = 10_000_000;

fn push_unique(out: &mut Vec<Value>, v: &Value) {
    if !out.iter().any(|x| compare(x, v).is_eq()) {
        out.push(v.clone());
    }
}

/// `APPEND(array, values, unique)`: with `unique`, the whole result is free of duplicates.
fn append(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let more = match &a[1] {
        Value::Null => Vec::new(),
        Value::Array(m) => m.clone(),
        v => vec![v.clone()],
    };
    let base = match &a[0] {
        Value::Null => return Ok(Value::Array(more)),
        Value::Array(x) => x,
        _ => return type_mismatch(env, name),
    };
    if more.is_empty() {
        return Ok(a[0].clone());
    }
    if !a.get(2).is_some_and(truthy) {
        return Ok(Value::Array(base.iter().chain(&more).cloned().collect()));
    }
    let mut out = Vec::with_capacity(base.len() + more.len());
    base.iter().chain(&more).for_each(|v| push_unique(&mut out, v));
    Ok(Value::Array(out))
}

fn interleave(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Some(lists) = a.iter().map(Value::as_array).collect::<Option<Vec<_>>>() else { return type_mismatch(env, name) };
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    Ok(Value::Array((0..longest).flat_map(|i| lists.iter().filter_map(move |l| l.get(i).cloned())).collect()))
}

fn jaccard(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let (Value::Array(x), Value::Array(y)) = (&a[0], &a[1]) else { return type_mismatch(env, name) };
    let (mut xs, mut union) = (Vec::new(), Vec::new());
    x.iter().for_each(|v| push_unique(&mut xs, v));
    x.iter().chain(y).for_each(|v| push_unique(&mut union, v));
    if union.is_empty() {
        return Ok(json!(1));
    }
    let common = xs.iter().filter(|v| y.iter().any(|w| compare(v, w).is_eq())).count();
    Ok(crate::value::num(common as f64 / union.len() as f64))
}

/// `REPLACE_NTH(array, position, value, padding)`: a position past the end appends,
/// padding the gap; without a padding value such a gap is an error.
fn replace_nth(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Value::Array(items) = &a[0] else { return type_mismatch(env, name) };
    let len = items.len() as f64;
    let pos = to_number(&a[1]).trunc();
    let pos = if pos < 0.0 { (len + pos).max(0.0) } else { pos };
    let mut out = items.clone();
    if pos < len {
        out[pos as usize] = a[2].clone();
        return Ok(Value::Array(out));
    }
    let gap = pos - len;
    if gap > 0.0 && a.len() < 4 {
        return Err(err!(ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, "invalid argument type in call to function '{name}()'"));
    }
    if gap > PADDING_MAX as f64 {
        return Err(err!(errors::ERROR_RESOURCE_LIMIT, "{name}() would pad the array with more than {PADDING_MAX} values"));
    }
    out.extend(std::iter::repeat_n(a.get(3).cloned().unwrap_or(Value::Null), gap as usize));
    out.push(a[2].clone());
    Ok(Value::Array(out))
}

fn merge_into(target: &mut Map<String, Value>, source: &Map<String, Value>) {
    for (k, v) in source {
        match (target.get_mut(k), v) {
            (Some(Value::Object(t)), Value::Object(s)) => merge_into(t, s),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

fn merge_recursive(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    super::merge_objects(a, env, name, merge_into)
}

/// Attribute names given as separate arguments or as one array.
fn attribute_names(args: &[Value]) -> Vec<String> {
    args.iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().map(to_string).collect::<Vec<_>>(),
            v => vec![to_string(v)],
        })
        .collect()
}

fn pick_in(m: &Map<String, Value>, names: &[String], keep: bool) -> Map<String, Value> {
    m.iter()
        .filter(|(k, _)| names.contains(k) == keep)
        .map(|(k, v)| {
            let v = match v {
                Value::Object(inner) => Value::Object(pick_in(inner, names, keep)),
                v => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// KEEP_RECURSIVE and UNSET_RECURSIVE: keep or drop the named attributes on every level
/// of nested objects.
fn pick_recursive(a: &[Value], env: &mut Env, name: &str, keep: bool) -> Result<Value, ArangoError> {
    let Value::Object(m) = &a[0] else { return type_mismatch(env, name) };
    Ok(Value::Object(pick_in(m, &attribute_names(&a[1..]), keep)))
}

/// `VALUE(document, path)`: strings select attributes, numbers array positions (negative
/// ones from the end); a missing step gives `null`.
fn value_at_path(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let (Value::Object(_), Value::Array(path)) = (&a[0], &a[1]) else { return type_mismatch(env, name) };
    let mut cur = &a[0];
    for step in path {
        let next = match (cur, step) {
            (Value::Object(m), Value::String(k)) => m.get(k),
            (Value::Array(items), Value::Number(n)) => {
                let i = n.as_f64().unwrap_or(0.0).trunc();
                let i = if i < 0.0 { items.len() as f64 + i } else { i };
                (i >= 0.0).then(|| items.get(i as usize)).flatten()
            }
            (_, Value::String(_) | Value::Number(_)) => None,
            _ => return type_mismatch(env, name),
        };
        match next {
            Some(v) => cur = v,
            None => return Ok(Value::Null),
        }
    }
    Ok(cur.clone())
}

/// The collection and key of a document identifier, or of a document's `_id`.
fn identifier(v: &Value) -> Option<(&str, &str)> {
    let id = match v {
        Value::String(s) => s.as_str(),
        Value::Object(m) => m.get("_id")?.as_str()?,
        _ => return None,
    };
    id.split_once('/')
}
