//! AQL functions: a growing part of ArangoDB's function library, each with ArangoDB's
//! name, arity and casting rules. Wrong argument types give AQL's warning and `null`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use errors::{err, ArangoError, ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, ERROR_QUERY_INVALID_DATE_VALUE};
use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::eval::Env;
use crate::value::{compare, num, to_number, to_string, truthy};

type Fun = fn(&[Value], &mut Env, &str) -> Result<Value, ArangoError>;

/// `(name, minimum arguments, maximum arguments, implementation)`.
const FUNCTIONS: &[(&str, usize, usize, Fun)] = &[
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
    ("STARTS_WITH", 2, 2, |a, _, _| Ok(Value::Bool(to_string(&a[0]).starts_with(&to_string(&a[1]))))),
    ("SPLIT", 1, 3, split),
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
    ("APPEND", 2, 3, |a, env, name| {
        let more = match &a[1] {
            Value::Array(m) => m.clone(),
            v => vec![v.clone()],
        };
        array(a, env, name, |x| Value::Array(x.iter().cloned().chain(more.iter().cloned()).collect()))
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
    ("RANGE", 2, 3, |a, env, name| {
        let (from, to) = (to_number(&a[0]), to_number(&a[1]));
        let step = a.get(2).map_or(if to >= from { 1.0 } else { -1.0 }, to_number);
        if step == 0.0 || (to > from && step < 0.0) || (to < from && step > 0.0) {
            return type_mismatch(env, name);
        }
        let n = ((to - from) / step).floor() as i64 + 1;
        if n > 10_000_000 {
            return Err(err!(errors::ERROR_RESOURCE_LIMIT, "RANGE() would build {n} values"));
        }
        Ok(Value::Array((0..n.max(0)).map(|i| num(from + step * i as f64)).collect()))
    }),
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
    ("INTERSECTION", 1, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Intersection)),
    ("UNION", 1, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Union)),
    ("UNION_DISTINCT", 1, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::UnionDistinct)),
    ("MINUS", 1, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Minus)),
    ("OUTERSECTION", 1, usize::MAX, |a, env, name| set_op(a, env, name, SetOp::Outersection)),
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
    ("SUBSTITUTE", 2, 4, |a, _, _| {
        let mut s = to_string(&a[0]);
        let pairs: Vec<(String, String)> = match (&a[1], a.get(2)) {
            (Value::Object(m), _) => m.iter().map(|(k, v)| (k.clone(), to_string(v))).collect(),
            (Value::Array(search), Some(Value::Array(repl))) => {
                search.iter().enumerate().map(|(i, x)| (to_string(x), repl.get(i).map(to_string).unwrap_or_default())).collect()
            }
            (Value::Array(search), r) => search.iter().map(|x| (to_string(x), r.map(to_string).unwrap_or_default())).collect(),
            (x, r) => vec![(to_string(x), r.map(to_string).unwrap_or_default())],
        };
        for (from, to) in pairs.iter().filter(|(f, _)| !f.is_empty()) {
            s = s.replace(from.as_str(), to);
        }
        Ok(Value::String(s))
    }),
    // Their start and end arguments are not supported yet: such calls are refused (1541).
    ("FIND_FIRST", 2, 2, |a, _, _| {
        let (s, needle) = (to_string(&a[0]), to_string(&a[1]));
        Ok(json!(s.find(&needle).map_or(-1, |b| s[..b].chars().count() as i64)))
    }),
    ("FIND_LAST", 2, 2, |a, _, _| {
        let (s, needle) = (to_string(&a[0]), to_string(&a[1]));
        Ok(json!(s.rfind(&needle).map_or(-1, |b| s[..b].chars().count() as i64)))
    }),
    ("REPEAT", 2, 3, |a, _, _| {
        let n = to_number(&a[1]).max(0.0) as usize;
        if n.saturating_mul(to_string(&a[0]).len()) > 16 << 20 {
            return Err(err!(errors::ERROR_RESOURCE_LIMIT, "REPEAT() would build more than 16 MiB"));
        }
        let sep = a.get(2).map(to_string).unwrap_or_default();
        Ok(Value::String(vec![to_string(&a[0]); n].join(&sep)))
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
    // Dates.
    ("DATE_NOW", 0, 0, |_, _, _| {
        Ok(json!(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)))
    }),
    ("DATE_ISO8601", 1, 7, |a, env, _| date_iso8601(a, env)),
    ("SLEEP", 1, 1, sleep),
    ("DATE_TIMESTAMP", 1, 7, |a, env, _| Ok(date_ms(a, env).map_or(Value::Null, |ms| json!(ms)))),
    ("DATE_YEAR", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.year))),
    ("DATE_MONTH", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.month))),
    ("DATE_DAY", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.day))),
    ("DATE_HOUR", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.hour))),
    ("DATE_MINUTE", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.minute))),
    ("DATE_SECOND", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.second))),
    ("DATE_MILLISECOND", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.millisecond))),
    // 0 is Sunday, as in ArangoDB.
    ("DATE_DAYOFWEEK", 1, 1, |a, env, _| Ok(date_part(a, env, |p| (p.days + 4).rem_euclid(7)))),
    ("DATE_DAYOFYEAR", 1, 1, |a, env, _| Ok(date_part(a, env, |p| p.days - days_from_civil(p.year, 1, 1) + 1))),
    ("DATE_LEAPYEAR", 1, 1, |a, env, _| Ok(date_part(a, env, |p| i64::from(is_leap(p.year))).as_i64().map_or(Value::Null, |l| Value::Bool(l == 1)))),
    ("DATE_DAYS_IN_MONTH", 1, 1, |a, env, _| Ok(date_part(a, env, |p| days_in_month(p.year, p.month)))),
    ("DATE_QUARTER", 1, 1, |a, env, _| Ok(date_part(a, env, |p| (p.month - 1) / 3 + 1))),
    ("DATE_ADD", 2, 3, |a, env, name| date_shift(a, env, name, 1)),
    ("DATE_SUBTRACT", 2, 3, |a, env, name| date_shift(a, env, name, -1)),
    ("DATE_DIFF", 3, 4, |a, env, name| {
        let (Some(x), Some(y)) = (date_ms(&a[..1], env), date_ms(&a[1..2], env)) else { return Ok(Value::Null) };
        let unit_name = to_string(&a[2]);
        if matches!(unit_name.to_ascii_lowercase().as_str(), "m" | "month" | "months" | "y" | "year" | "years") {
            return Err(err!(errors::ERROR_NOT_IMPLEMENTED, "DATE_DIFF() in months or years is not built yet").status(501));
        }
        let Some(unit) = unit_ms(&unit_name) else { return type_mismatch(env, name) };
        let diff = (y - x) as f64 / unit as f64;
        Ok(if a.get(3).is_some_and(truthy) { num(diff) } else { num(diff.trunc()) })
    }),
];

/// The arity of a known function, for checking calls before running them.
pub fn arity(name: &str) -> Option<(usize, usize)> {
    FUNCTIONS.iter().find(|(n, ..)| *n == name).map(|(_, min, max, _)| (*min, *max))
}

pub fn call(name: &str, args: Vec<Value>, env: &mut Env) -> Result<Value, ArangoError> {
    let Some((_, min, max, f)) = FUNCTIONS.iter().find(|(n, ..)| *n == name) else {
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

fn type_mismatch(env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    env.warn(ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, format!("invalid argument type in call to function '{name}()'"));
    Ok(Value::Null)
}

fn concat_parts(args: &[Value]) -> Vec<String> {
    args.iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().filter(|x| !x.is_null()).map(to_string).collect::<Vec<_>>(),
            Value::Null => Vec::new(),
            v => vec![to_string(v)],
        })
        .collect()
}

fn concat(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    Ok(Value::String(concat_parts(a).concat()))
}

fn concat_separator(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    Ok(Value::String(concat_parts(&a[1..]).join(&to_string(&a[0]))))
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

fn split(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let s = to_string(&a[0]);
    let limit = a.get(2).map(|l| to_number(l) as i64).filter(|l| *l >= 0);
    let parts: Vec<Value> = match a.get(1) {
        None | Some(Value::Null) => vec![json!(s)],
        Some(sep) => {
            let sep = to_string(sep);
            if sep.is_empty() {
                s.chars().map(|c| json!(c.to_string())).collect()
            } else {
                s.split(sep.as_str()).map(|p| json!(p)).collect()
            }
        }
    };
    Ok(Value::Array(match limit {
        Some(l) => parts.into_iter().take(l as usize).collect(),
        None => parts,
    }))
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

fn variance(n: &[f64], sample: bool) -> Option<f64> {
    let len = n.len() as f64;
    if n.is_empty() || (sample && n.len() < 2) {
        return None;
    }
    let mean = n.iter().sum::<f64>() / len;
    let sq: f64 = n.iter().map(|x| (x - mean).powi(2)).sum();
    Some(sq / if sample { len - 1.0 } else { len })
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
    let sources: Vec<&Value> = match a {
        [Value::Array(items)] => items.iter().collect(),
        _ => a.iter().collect(),
    };
    let mut out = Map::new();
    for s in sources {
        let Value::Object(m) = s else { return type_mismatch(env, name) };
        for (k, v) in m {
            out.insert(k.clone(), v.clone());
        }
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

/// The calendar parts of a date.
struct DateParts {
    days: i64,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millisecond: i64,
}

fn date_parts(ms: i64) -> DateParts {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    DateParts { days, year, month, day, hour: rem / 3_600_000, minute: rem / 60_000 % 60, second: rem / 1000 % 60, millisecond: rem % 1000 }
}

fn date_part(a: &[Value], env: &mut Env, f: impl Fn(&DateParts) -> i64) -> Value {
    date_ms(a, env).map_or(Value::Null, |ms| json!(f(&date_parts(ms))))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds in a fixed-length unit (months and years need the calendar).
fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "f" | "millisecond" | "milliseconds" => 1,
        "s" | "second" | "seconds" => 1000,
        "i" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        _ => return None,
    })
}

/// `DATE_ADD(date, amount, unit)` / `DATE_SUBTRACT`, with months and years on the calendar.
fn date_shift(a: &[Value], env: &mut Env, name: &str, sign: i64) -> Result<Value, ArangoError> {
    let Some(ms) = date_ms(&a[..1], env) else { return Ok(Value::Null) };
    let (amount, unit) = match (a.get(1), a.get(2)) {
        (Some(n), Some(u)) => (to_number(n) as i64 * sign, to_string(u)),
        _ => return type_mismatch(env, name),
    };
    let shifted = match unit.to_ascii_lowercase().as_str() {
        "m" | "month" | "months" | "y" | "year" | "years" => {
            let months = if unit.starts_with(['y', 'Y']) { amount * 12 } else { amount };
            let p = date_parts(ms);
            let total = p.year * 12 + (p.month - 1) + months;
            let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
            let day = p.day.min(days_in_month(year, month));
            days_from_civil(year, month, day) * 86_400_000 + ms.rem_euclid(86_400_000)
        }
        u => match unit_ms(u) {
            Some(step) => ms + amount * step,
            None => return type_mismatch(env, name),
        },
    };
    date_iso8601(&[json!(shifted)], env)
}

/// Milliseconds since 1970 of a date argument: a number, an ISO 8601 string, or the
/// year/month/day/hour/minute/second/millisecond parts.
fn date_ms(a: &[Value], env: &mut Env) -> Option<i64> {
    let ms = if a.len() >= 3 {
        let p: Vec<i64> = a.iter().map(|v| to_number(v) as i64).collect();
        let days = days_from_civil(p[0], p[1], p[2]);
        Some(days * 86_400_000 + p.get(3).unwrap_or(&0) * 3_600_000 + p.get(4).unwrap_or(&0) * 60_000 + p.get(5).unwrap_or(&0) * 1000 + p.get(6).unwrap_or(&0))
    } else {
        match &a[0] {
            Value::Number(n) => n.as_f64().map(|f| f as i64),
            Value::String(s) => parse_iso8601(s),
            _ => None,
        }
    };
    if ms.is_none() {
        env.warn(ERROR_QUERY_INVALID_DATE_VALUE, "invalid date value");
    }
    ms
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

fn date_iso8601(a: &[Value], env: &mut Env) -> Result<Value, ArangoError> {
    Ok(date_ms(a, env).map_or(Value::Null, |ms| Value::String(iso8601_from_ms(ms))))
}

/// `YYYY-MM-DDTHH:MM:SS.fffZ` for milliseconds since the Unix epoch.
pub fn iso8601_from_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
}

/// Parses `YYYY-MM-DD`, optionally with `THH:MM[:SS[.fff]]` and `Z` or `±HH:MM`.
fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = b.get(from..from + n)?;
        part.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let (y, mo, d) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let mut i = 10;
    if matches!(b.get(i), Some(b'T' | b' ')) {
        let (h, mi) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
        ms += h * 3_600_000 + mi * 60_000;
        i += 6;
        if b.get(i) == Some(&b':') {
            ms += digits(i + 1, 2)? * 1000;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let frac: String = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).map(|&c| c as char).collect();
                i += 1 + frac.len();
                ms += format!("{frac:0<3}")[..3].parse::<i64>().ok()?;
            }
        }
    }
    match b.get(i) {
        None | Some(b'Z') => {}
        Some(sign @ (b'+' | b'-')) => {
            let offset = digits(i + 1, 2)? * 3_600_000 + digits(i + 4, 2)? * 60_000;
            ms += if *sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    Some(ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
