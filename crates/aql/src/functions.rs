//! AQL functions: ArangoDB's function library (strings, numbers, types, arrays, objects,
//! dates and miscellaneous), each with ArangoDB's name, arity and casting rules. Wrong
//! argument types give AQL's warning and `null`. This file holds the first table and the
//! dispatch; each submodule adds the table of one family.

mod collections;
mod dates;
mod misc;
mod numeric;
mod strings;

use std::time::{Duration, Instant};

use errors::{err, ArangoError, ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH};
use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::eval::Env;
use crate::value::{compare, num, to_number, to_string, truthy};

pub use dates::{iso8601_from_ms, parse_duration};
pub use misc::ARANGODB_VERSION;

type Fun = fn(&[Value], &mut Env, &str) -> Result<Value, ArangoError>;

/// `(name, minimum arguments, maximum arguments, implementation)`.
type Entry = (&'static str, usize, usize, Fun);

/// Every family's table; a name appears in exactly one of them.
const TABLES: [&[Entry]; 6] =
    [FUNCTIONS, strings::FUNCTIONS, numeric::FUNCTIONS, collections::FUNCTIONS, dates::FUNCTIONS, misc::FUNCTIONS];

/// A function by name, from a map built once: calls are looked up for every row.
fn lookup(name: &str) -> Option<&'static Entry> {
    static BY_NAME: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static Entry>> = std::sync::OnceLock::new();
    BY_NAME.get_or_init(|| TABLES.into_iter().flat_map(|t| t.iter()).map(|e| (e.0, e)).collect()).get(name).copied()
}

/// The names of all functions, for checks and listings.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLES.into_iter().flat_map(|t| t.iter()).map(|(n, ..)| *n)
}

const FUNCTIONS: &[Entry] = &[
    // Strings.
    ("CONCAT", 1, usize::MAX, concat),
    ("CONCAT_SEPARATOR", 2, usize::MAX, concat_separator),
    ("LOWER", 1, 1, |a, _, _| Ok(Value::String(to_string(&a[0]).to_lowercase()))),
    ("UPPER", 1, 1, |a, _, _| Ok(Value::String(to_string(&a[0]).to_uppercase()))),
    ("CHAR_LENGTH", 1, 1, |a, _, _| Ok(json!(to_string(&a[0]).chars().count()))),
    ("LENGTH", 1, 1, length),
    ("COUNT", 1, 1, length),
    ("SUBSTRING", 2, 3, substring),
    ("LEFT", 2, 2, |a, _, _| Ok(Value::String(to_string(&a[0]).chars().take(to_number(&a[1]).max(0.0) as usize).collect()))),
    ("RIGHT", 2, 2, |a, _, _| {
        let s: Vec<char> = to_string(&a[0]).chars().collect();
        let n = (to_number(&a[1]).max(0.0) as usize).min(s.len());
        Ok(Value::String(s[s.len() - n..].iter().collect()))
    }),
    ("TRIM", 1, 2, |a, _, _| Ok(Value::String(trim(a, true, true)))),
    ("LTRIM", 1, 2, |a, _, _| Ok(Value::String(trim(a, true, false)))),
    ("RTRIM", 1, 2, |a, _, _| Ok(Value::String(trim(a, false, true)))),
    ("CONTAINS", 2, 3, contains),
    ("REVERSE", 1, 1, |a, _, _| {
        Ok(match &a[0] {
            Value::Array(items) => Value::Array(items.iter().rev().cloned().collect()),
            v => Value::String(to_string(v).chars().rev().collect()),
        })
    }),
    ("MD5", 1, 1, |a, _, _| Ok(Value::String(format!("{:x}", md5::compute(to_string(&a[0]).as_bytes()))))),
    ("SHA256", 1, 1, |a, _, _| {
        let h = sha2::Sha256::digest(to_string(&a[0]).as_bytes());
        Ok(Value::String(h.iter().map(|b| format!("{b:02x}")).collect()))
    }),
    ("JSON_STRINGIFY", 1, 1, |a, _, _| Ok(Value::String(a[0].to_string()))),
    ("JSON_PARSE", 1, 1, |a, env, name| match serde_json::from_str(&to_string(&a[0])) {
        Ok(v) => Ok(v),
        Err(_) => type_mismatch(env, name),
    }),
    // Types and casts.
    ("TO_STRING", 1, 1, |a, _, _| Ok(Value::String(to_string(&a[0])))),
    ("TO_NUMBER", 1, 1, |a, _, _| Ok(num(to_number(&a[0])))),
    ("TO_BOOL", 1, 1, |a, _, _| Ok(Value::Bool(truthy(&a[0])))),
    ("TO_ARRAY", 1, 1, |a, _, _| {
        Ok(match &a[0] {
            Value::Null => json!([]),
            Value::Array(_) => a[0].clone(),
            Value::Object(m) => Value::Array(m.values().cloned().collect()),
            v => json!([v]),
        })
    }),
    ("IS_NULL", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_null()))),
    ("IS_BOOL", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_boolean()))),
    ("IS_NUMBER", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_number()))),
    ("IS_STRING", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_string()))),
    ("IS_ARRAY", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_array()))),
    ("IS_OBJECT", 1, 1, |a, _, _| Ok(Value::Bool(a[0].is_object()))),
    ("TYPENAME", 1, 1, |a, _, _| Ok(json!(crate::value::type_name(&a[0])))),
    ("NOT_NULL", 1, usize::MAX, |a, _, _| Ok(a.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null))),
    // Numbers.
    ("ABS", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).abs()))),
    ("FLOOR", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).floor()))),
    ("CEIL", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).ceil()))),
    // AQL rounds halves up (towards positive infinity).
    ("ROUND", 1, 1, |a, _, _| Ok(num((to_number(&a[0]) + 0.5).floor()))),
    ("SQRT", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).sqrt()))),
    ("POW", 2, 2, |a, _, _| Ok(num(to_number(&a[0]).powf(to_number(&a[1]))))),
    ("MIN", 1, 1, |a, env, name| extreme(a, env, name, true)),
    ("MAX", 1, 1, |a, env, name| extreme(a, env, name, false)),
    ("SUM", 1, 1, |a, env, name| numbers(a, env, name, |n| Some(num(n.iter().sum())))),
    ("AVERAGE", 1, 1, |a, env, name| numbers(a, env, name, average)),
    ("AVG", 1, 1, |a, env, name| numbers(a, env, name, average)),
    // Arrays.
    ("FIRST", 1, 1, |a, env, name| array(a, env, name, |x| x.first().cloned().unwrap_or(Value::Null))),
    ("LAST", 1, 1, |a, env, name| array(a, env, name, |x| x.last().cloned().unwrap_or(Value::Null))),
    ("NTH", 2, 2, |a, env, name| {
        let i = to_number(&a[1]);
        array(a, env, name, |x| if i >= 0.0 { x.get(i as usize).cloned().unwrap_or(Value::Null) } else { Value::Null })
    }),
    ("PUSH", 2, 3, |a, env, name| {
        let unique = a.get(2).is_some_and(truthy);
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            if !(unique && v.iter().any(|y| compare(y, &a[1]).is_eq())) {
                v.push(a[1].clone());
            }
            Value::Array(v)
        })
    }),
    ("UNIQUE", 1, 1, |a, env, name| {
        array(a, env, name, |x| {
            let mut out: Vec<Value> = Vec::new();
            for v in x {
                if !out.iter().any(|y| compare(y, v).is_eq()) {
                    out.push(v.clone());
                }
            }
            Value::Array(out)
        })
    }),
    ("FLATTEN", 1, 2, |a, env, name| {
        let depth = a.get(1).map_or(1.0, to_number).max(0.0) as usize;
        array(a, env, name, |x| Value::Array(flatten(x, depth)))
    }),
    ("POSITION", 2, 3, |a, env, name| {
        let want_index = a.get(2).is_some_and(truthy);
        array(a, env, name, |x| {
            let pos = x.iter().position(|y| compare(y, &a[1]).is_eq());
            if want_index { json!(pos.map_or(-1, |p| p as i64)) } else { Value::Bool(pos.is_some()) }
        })
    }),
    // Objects.
    ("MERGE", 1, usize::MAX, merge),
    ("HAS", 2, 2, |a, _, _| Ok(Value::Bool(matches!(&a[0], Value::Object(m) if m.contains_key(&to_string(&a[1])))))),
    ("ATTRIBUTES", 1, 3, |a, env, name| {
        let Value::Object(m) = &a[0] else { return type_mismatch(env, name) };
        let skip_system = a.get(1).is_some_and(truthy);
        let mut keys: Vec<Value> = m.keys().filter(|k| !(skip_system && k.starts_with('_'))).map(|k| json!(k)).collect();
        if a.get(2).is_some_and(truthy) {
            keys.sort_by(compare);
        }
        Ok(Value::Array(keys))
    }),
    ("VALUES", 1, 2, |a, env, name| {
        let Value::Object(m) = &a[0] else { return type_mismatch(env, name) };
        let skip_system = a.get(1).is_some_and(truthy);
        Ok(Value::Array(m.iter().filter(|(k, _)| !(skip_system && k.starts_with('_'))).map(|(_, v)| v.clone()).collect()))
    }),
    ("KEEP", 2, usize::MAX, |a, env, name| pick(a, env, name, true)),
    ("UNSET", 2, usize::MAX, |a, env, name| pick(a, env, name, false)),
    // More numbers.
    ("LOG", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).ln()))),
    ("LOG2", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).log2()))),
    ("LOG10", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).log10()))),
    ("EXP", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).exp()))),
    ("EXP2", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).exp2()))),
    ("SIN", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).sin()))),
    ("COS", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).cos()))),
    ("TAN", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).tan()))),
    ("ASIN", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).asin()))),
    ("ACOS", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).acos()))),
    ("ATAN", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).atan()))),
    ("ATAN2", 2, 2, |a, _, _| Ok(num(to_number(&a[0]).atan2(to_number(&a[1]))))),
    ("PI", 0, 0, |_, _, _| Ok(num(std::f64::consts::PI))),
    ("RADIANS", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).to_radians()))),
    ("DEGREES", 1, 1, |a, _, _| Ok(num(to_number(&a[0]).to_degrees()))),
    ("PRODUCT", 1, 1, |a, env, name| numbers(a, env, name, |n| Some(num(n.iter().product())))),
    ("MEDIAN", 1, 1, |a, env, name| numbers(a, env, name, median)),
    ("VARIANCE_POPULATION", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, false).map(num))),
    ("VARIANCE", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, false).map(num))),
    ("VARIANCE_SAMPLE", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, true).map(num))),
    ("STDDEV_POPULATION", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, false).map(|v| num(v.sqrt())))),
    ("STDDEV", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, false).map(|v| num(v.sqrt())))),
    ("STDDEV_SAMPLE", 1, 1, |a, env, name| numbers(a, env, name, |n| variance(n, true).map(|v| num(v.sqrt())))),
    // More arrays.
    ("SLICE", 2, 3, |a, env, name| {
        array(a, env, name, |x| {
            let len = x.len() as i64;
            let start = to_number(&a[1]) as i64;
            let start = if start < 0 { (len + start).max(0) } else { start.min(len) };
            let end = match a.get(2) {
                None | Some(Value::Null) => len,
                Some(l) => {
                    let l = to_number(l) as i64;
                    if l < 0 { (len + l).max(start) } else { (start + l).min(len) }
                }
            };
            Value::Array(x[start as usize..end.max(start) as usize].to_vec())
        })
    }),
    ("SORTED", 1, 1, |a, env, name| {
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            v.sort_by(compare);
            Value::Array(v)
        })
    }),
    ("SORTED_UNIQUE", 1, 1, |a, env, name| {
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            v.sort_by(compare);
            v.dedup_by(|p, q| compare(p, q).is_eq());
            Value::Array(v)
        })
    }),
    ("COUNT_DISTINCT", 1, 1, |a, env, name| {
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            v.sort_by(compare);
            v.dedup_by(|p, q| compare(p, q).is_eq());
            json!(v.len())
        })
    }),
    ("COUNT_UNIQUE", 1, 1, |a, env, name| call("COUNT_DISTINCT", a.to_vec(), env).or_else(|_| type_mismatch(env, name))),
    ("REMOVE_VALUE", 2, 3, |a, env, name| {
        let limit = a.get(2).map_or(usize::MAX, |l| to_number(l).max(0.0) as usize);
        array(a, env, name, |x| {
            let mut removed = 0;
            Value::Array(x.iter().filter(|v| !(compare(v, &a[1]).is_eq() && { removed += 1; removed <= limit })).cloned().collect())
        })
    }),
    ("REMOVE_VALUES", 2, 2, |a, env, name| {
        let drop = a[1].as_array().cloned().unwrap_or_default();
        array(a, env, name, |x| Value::Array(x.iter().filter(|v| !drop.iter().any(|d| compare(v, d).is_eq())).cloned().collect()))
    }),
    ("REMOVE_NTH", 2, 2, |a, env, name| {
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            let i = to_number(&a[1]) as i64;
            let i = if i < 0 { v.len() as i64 + i } else { i };
            if i >= 0 && (i as usize) < v.len() {
                v.remove(i as usize);
            }
            Value::Array(v)
        })
    }),
    ("UNSHIFT", 2, 3, |a, env, name| {
        let unique = a.get(2).is_some_and(truthy);
        array(a, env, name, |x| {
            let mut v = x.to_vec();
            if !(unique && v.iter().any(|y| compare(y, &a[1]).is_eq())) {
                v.insert(0, a[1].clone());
            }
            Value::Array(v)
        })
    }),
    ("POP", 1, 1, |a, env, name| array(a, env, name, |x| Value::Array(x[..x.len().saturating_sub(1)].to_vec()))),
    ("SHIFT", 1, 1, |a, env, name| array(a, env, name, |x| Value::Array(x.iter().skip(1).cloned().collect()))),
    ("INTERSECTION", 2, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Intersection)),
    ("UNION", 2, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Union)),
    ("UNION_DISTINCT", 2, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::UnionDistinct)),
    ("MINUS", 2, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Minus)),
    ("OUTERSECTION", 2, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Outersection)),
    // More objects.
    ("ZIP", 2, 2, |a, env, name| match (&a[0], &a[1]) {
        (Value::Array(k), Value::Array(v)) if k.len() == v.len() => {
            Ok(Value::Object(k.iter().map(to_string).zip(v.iter().cloned()).collect()))
        }
        _ => type_mismatch(env, name),
    }),
    ("ENTRIES", 1, 1, |a, env, name| match &a[0] {
        Value::Object(m) => Ok(Value::Array(m.iter().map(|(k, v)| json!([k, v])).collect())),
        _ => type_mismatch(env, name),
    }),
    ("MATCHES", 2, 3, |a, env, name| {
        let Value::Object(doc) = &a[0] else { return type_mismatch(env, name) };
        let examples = match &a[1] {
            Value::Array(e) => e.clone(),
            e => vec![e.clone()],
        };
        let hit = examples.iter().position(|e| {
            e.as_object().is_some_and(|e| e.iter().all(|(k, v)| doc.get(k).is_some_and(|x| compare(x, v).is_eq())))
        });
        Ok(if a.get(2).is_some_and(truthy) { json!(hit.map_or(-1, |h| h as i64)) } else { Value::Bool(hit.is_some()) })
    }),
    ("TO_HEX", 1, 1, |a, _, _| Ok(Value::String(to_string(&a[0]).bytes().map(|b| format!("{b:02x}")).collect()))),
    ("SHA512", 1, 1, |a, _, _| {
        let h = sha2::Sha512::digest(to_string(&a[0]).as_bytes());
        Ok(Value::String(h.iter().map(|b| format!("{b:02x}")).collect()))
    }),
    ("LEVENSHTEIN_DISTANCE", 2, 2, |a, _, _| {
        let (x, y): (Vec<char>, Vec<char>) = (to_string(&a[0]).chars().collect(), to_string(&a[1]).chars().collect());
        if x.len().saturating_mul(y.len()) > 100_000_000 {
            return Err(err!(errors::ERROR_RESOURCE_LIMIT, "LEVENSHTEIN_DISTANCE() of strings this long"));
        }
        let mut prev: Vec<usize> = (0..=y.len()).collect();
        for (i, cx) in x.iter().enumerate() {
            let mut cur = vec![i + 1; y.len() + 1];
            for (j, cy) in y.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(cx != cy)).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        Ok(json!(prev[y.len()]))
    }),
    ("ENCODE_URI_COMPONENT", 1, 1, |a, _, _| {
        Ok(Value::String(to_string(&a[0]).bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()))
    }),
    ("SLEEP", 1, 1, sleep),
];

/// The arity of a known function, for checking calls before running them.
pub fn arity(name: &str) -> Option<(usize, usize)> {
    lookup(name).map(|(_, min, max, _)| (*min, *max))
}

pub fn call(name: &str, args: Vec<Value>, env: &mut Env) -> Result<Value, ArangoError> {
    let Some((_, min, max, f)) = lookup(name) else {
        return Err(err!(errors::ERROR_QUERY_FUNCTION_NAME_UNKNOWN, "usage of unknown function '{name}()'"));
    };
    // Implementations index their arguments: the count is checked here, always.
    if args.len() < *min || args.len() > *max {
        let max = if *max == usize::MAX { "unlimited".to_string() } else { max.to_string() };
        return Err(err!(
            errors::ERROR_QUERY_FUNCTION_ARGUMENT_NUMBER_MISMATCH,
            "invalid number of arguments for function '{name}()', expected number of arguments: minimum: {min}, maximum: {max}"
        ));
    }
    f(&args, env, name)
}

/// Calls the function `target` under the name of its alias, for warnings.
fn alias(target: &str, a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    match lookup(target) {
        Some((_, _, _, f)) => f(a, env, name),
        None => Err(err!(errors::ERROR_QUERY_FUNCTION_NAME_UNKNOWN, "usage of unknown function '{target}()'")),
    }
}

fn type_mismatch(env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    env.warn(ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, format!("invalid argument type in call to function '{name}()'"));
    Ok(Value::Null)
}

/// The strings CONCAT and CONCAT_SEPARATOR join: nulls are skipped, and the members of
/// an array are used when it is the only value.
fn concat_parts(args: &[Value]) -> Vec<String> {
    let values = match args {
        [Value::Array(items)] => items.as_slice(),
        _ => args,
    };
    values.iter().filter(|v| !v.is_null()).map(to_string).collect()
}

fn concat(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    Ok(Value::String(concat_parts(a).concat()))
}

/// Unlike CONCAT, this expands arrays in any position, which `tests.rs` pins down; the
/// documentation has `CONCAT_SEPARATOR(", ", [5, 6], {foo: "bar"})` give `"[5,6], {...}"`.
fn concat_separator(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let parts: Vec<String> = a[1..]
        .iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().filter(|x| !x.is_null()).map(to_string).collect::<Vec<_>>(),
            Value::Null => Vec::new(),
            v => vec![to_string(v)],
        })
        .collect();
    Ok(Value::String(parts.join(&to_string(&a[0]))))
}

fn length(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    Ok(json!(match &a[0] {
        Value::Null => 0,
        Value::Bool(b) => usize::from(*b),
        Value::Number(_) => to_string(&a[0]).chars().count(),
        Value::String(s) => s.chars().count(),
        Value::Array(x) => x.len(),
        Value::Object(m) => m.len(),
    }))
}

fn substring(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let s: Vec<char> = to_string(&a[0]).chars().collect();
    let mut start = to_number(&a[1]) as i64;
    if start < 0 {
        start = (s.len() as i64 + start).max(0);
    }
    let start = (start as usize).min(s.len());
    let len = a.get(2).map_or(s.len(), |l| to_number(l).max(0.0) as usize);
    Ok(Value::String(s[start..].iter().take(len).collect()))
}

fn trim(a: &[Value], left: bool, right: bool) -> String {
    let s = to_string(&a[0]);
    let chars: Vec<char> = match a.get(1) {
        None | Some(Value::Null) => vec![' ', '\t', '\r', '\n'],
        Some(Value::Number(n)) => {
            // Numeric second argument of TRIM: 0 both, 1 left, 2 right.
            let mode = n.as_u64().unwrap_or(0);
            let (l, r) = (mode != 2, mode != 1);
            let t = if l && left { s.trim_start() } else { &s };
            return (if r && right { t.trim_end() } else { t }).to_string();
        }
        Some(v) => to_string(v).chars().collect(),
    };
    let t = if left { s.trim_start_matches(chars.as_slice()) } else { &s };
    (if right { t.trim_end_matches(chars.as_slice()) } else { t }).to_string()
}

fn contains(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let (s, needle) = (to_string(&a[0]), to_string(&a[1]));
    let pos = s.find(&needle).map(|b| s[..b].chars().count() as i64);
    Ok(if a.get(2).is_some_and(truthy) { json!(pos.unwrap_or(-1)) } else { Value::Bool(pos.is_some()) })
}

fn array(a: &[Value], env: &mut Env, name: &str, f: impl FnOnce(&[Value]) -> Value) -> Result<Value, ArangoError> {
    match &a[0] {
        Value::Array(items) => Ok(f(items)),
        _ => type_mismatch(env, name),
    }
}

fn numbers(a: &[Value], env: &mut Env, name: &str, f: fn(&[f64]) -> Option<Value>) -> Result<Value, ArangoError> {
    let Value::Array(items) = &a[0] else { return type_mismatch(env, name) };
    let values: Vec<f64> = items.iter().filter(|v| !v.is_null()).map(to_number).collect();
    Ok(f(&values).unwrap_or(Value::Null))
}

fn median(n: &[f64]) -> Option<Value> {
    if n.is_empty() {
        return None;
    }
    let mut v = n.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = v.len() / 2;
    Some(num(if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] }))
}

/// Welford's running variance, which ArangoDB uses too, so the last digits agree.
fn variance(n: &[f64], sample: bool) -> Option<f64> {
    if n.is_empty() || (sample && n.len() < 2) {
        return None;
    }
    let (mut mean, mut m2) = (0.0, 0.0);
    for (i, x) in n.iter().enumerate() {
        let delta = x - mean;
        mean += delta / (i + 1) as f64;
        m2 += delta * (x - mean);
    }
    Some(m2 / if sample { n.len() - 1 } else { n.len() } as f64)
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Intersection,
    Union,
    UnionDistinct,
    Minus,
    Outersection,
}

fn set_op(a: &[Value], env: &mut Env, name: &str, op: SetOp) -> Result<Value, ArangoError> {
    let mut lists = Vec::with_capacity(a.len());
    for v in a {
        match v {
            Value::Array(x) => lists.push(x.clone()),
            _ => return type_mismatch(env, name),
        }
    }
    let contains = |l: &[Value], v: &Value| l.iter().any(|x| compare(x, v).is_eq());
    let mut out: Vec<Value> = Vec::new();
    let push_unique = |out: &mut Vec<Value>, v: &Value| {
        if !out.iter().any(|x| compare(x, v).is_eq()) {
            out.push(v.clone());
        }
    };
    match op {
        SetOp::Union => out = lists.concat(),
        SetOp::UnionDistinct => lists.iter().flatten().for_each(|v| push_unique(&mut out, v)),
        SetOp::Intersection => {
            if let Some((first, rest)) = lists.split_first() {
                first.iter().filter(|v| rest.iter().all(|l| contains(l, v))).for_each(|v| push_unique(&mut out, v));
            }
        }
        SetOp::Minus => {
            if let Some((first, rest)) = lists.split_first() {
                first.iter().filter(|v| !rest.iter().any(|l| contains(l, v))).for_each(|v| push_unique(&mut out, v));
            }
        }
        SetOp::Outersection => {
            let all: Vec<&Value> = lists.iter().flatten().collect();
            for v in &all {
                let lists_with = lists.iter().filter(|l| contains(l, v)).count();
                if lists_with == 1 {
                    push_unique(&mut out, v);
                }
            }
        }
    }
    Ok(Value::Array(out))
}

fn average(n: &[f64]) -> Option<Value> {
    (!n.is_empty()).then(|| num(n.iter().sum::<f64>() / n.len() as f64))
}

fn extreme(a: &[Value], env: &mut Env, name: &str, min: bool) -> Result<Value, ArangoError> {
    let Value::Array(items) = &a[0] else { return type_mismatch(env, name) };
    let mut best: Option<&Value> = None;
    for v in items.iter().filter(|v| !v.is_null()) {
        best = match best {
            Some(b) if (compare(v, b).is_lt()) != min || compare(v, b).is_eq() => Some(b),
            _ => Some(v),
        };
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

fn flatten(items: &[Value], depth: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::Array(inner) if depth > 0 => out.extend(flatten(inner, depth - 1)),
            v => out.push(v.clone()),
        }
    }
    out
}

fn merge(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    merge_objects(a, env, name, |out, m| {
        for (k, v) in m {
            out.insert(k.clone(), v.clone());
        }
    })
}

/// MERGE and MERGE_RECURSIVE: the objects given (or the members of a sole array argument)
/// combined left to right by `into`; anything but objects is a type mismatch.
fn merge_objects(a: &[Value], env: &mut Env, name: &str, into: impl Fn(&mut Map<String, Value>, &Map<String, Value>)) -> Result<Value, ArangoError> {
    let sources: Vec<&Value> = match a {
        [Value::Array(items)] => items.iter().collect(),
        _ => a.iter().collect(),
    };
    let mut out = Map::new();
    for s in sources {
        let Value::Object(m) = s else { return type_mismatch(env, name) };
        into(&mut out, m);
    }
    Ok(Value::Object(out))
}

fn pick(a: &[Value], env: &mut Env, name: &str, keep: bool) -> Result<Value, ArangoError> {
    let Value::Object(m) = &a[0] else { return type_mismatch(env, name) };
    let names: Vec<String> = a[1..]
        .iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().map(to_string).collect::<Vec<_>>(),
            v => vec![to_string(v)],
        })
        .collect();
    Ok(Value::Object(m.iter().filter(|(k, _)| names.contains(k) == keep).map(|(k, v)| (k.clone(), v.clone())).collect()))
}

/// `SLEEP(seconds)`: waits, in slices short enough that killing the query stops it.
fn sleep(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    const SLICE: Duration = Duration::from_millis(10);
    let Some(seconds) = a[0].as_f64().filter(|s| *s >= 0.0 && s.is_finite()) else {
        return type_mismatch(env, name);
    };
    let until = Instant::now() + Duration::from_secs_f64(seconds.min(SLEEP_S_MAX));
    while let Some(left) = until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        if env.kill.as_ref().is_some_and(|k| k.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(err!(errors::ERROR_QUERY_KILLED, "query killed"));
        }
        std::thread::sleep(left.min(SLICE));
    }
    Ok(Value::Null)
}

/// Longest single `SLEEP`, in seconds (a day), so no call can overflow the clock.
const SLEEP_S_MAX: f64 = 86_400.0;
