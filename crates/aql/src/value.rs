//! AQL's value semantics over JSON values: truthiness, casts, and the type-then-value order
//! used by comparisons and sorting.

use std::cmp::Ordering;

use serde_json::Value;

use crate::parser::number;

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `TO_NUMBER` rules: null and false are 0, true is 1, numeric strings are their number,
/// a one-element array is its element's number, everything else is 0.
pub fn to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                0.0
            } else {
                t.parse::<f64>().ok().filter(|f| f.is_finite()).unwrap_or(0.0)
            }
        }
        Value::Array(a) if a.len() == 1 => to_number(&a[0]),
        _ => 0.0,
    }
}

/// A finite number as a JSON value; NaN and infinities become null, as in AQL.
pub fn num(f: f64) -> Value {
    if f.is_finite() {
        number(f)
    } else {
        Value::Null
    }
}

/// `TO_STRING` rules.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// AQL's name for a value's type, as `TYPENAME` returns it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// AQL's total order: by type (null < bool < number < string < array < object), then by
/// value. Strings compare by code point here (ArangoDB uses ICU collation).
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (type_rank(a), type_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let c = compare(x.get(i).unwrap_or(&Value::Null), y.get(i).unwrap_or(&Value::Null));
                if c != Ordering::Equal {
                    return c;
                }
            }
            Ordering::Equal
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let c = compare(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                if c != Ordering::Equal {
                    return c;
                }
            }
            Ordering::Equal
        }
        _ => Ordering::Equal,
    }
}

/// `LIKE`: `%` any sequence, `_` one character, `\` escapes; case-sensitive.
pub fn like(text: &str, pattern: &str, case_insensitive: bool) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = if case_insensitive {
        (text.to_lowercase().chars().collect(), pattern.to_lowercase().chars().collect())
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    // Pattern tokens: Some(c) literal, None = '_' , and '%' handled as a marker.
    enum P {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => {
                toks.push(P::Lit(p[i + 1]));
                i += 1;
            }
            '%' => toks.push(P::Any),
            '_' => toks.push(P::One),
            c => toks.push(P::Lit(c)),
        }
        i += 1;
    }
    // Classic two-row dynamic programme: matched[j] = tokens[..i] match text[..j].
    let mut prev = vec![false; t.len() + 1];
    prev[0] = true;
    for tok in &toks {
        let mut cur = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            cur[j] = match tok {
                P::Any => prev[j] || (j > 0 && cur[j - 1]),
                P::One => j > 0 && prev[j - 1],
                P::Lit(c) => j > 0 && prev[j - 1] && t[j - 1] == *c,
            };
        }
        prev = cur;
    }
    prev[t.len()]
}
