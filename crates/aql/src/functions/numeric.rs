//! Numeric functions beyond the basics in `functions.rs`: RANGE, random numbers,
//! percentiles, vector similarity and distance, decay scores, and the BIT_* family over
//! unsigned 32-bit integers.

use errors::{err, ArangoError};
use rand::Rng;
use serde_json::{json, Value};

use super::{type_mismatch, Entry};
use crate::eval::Env;
use crate::value::{num, to_number, to_string};

pub(super) const FUNCTIONS: &[Entry] = &[
    ("RANGE", 2, 3, range),
    ("RAND", 0, 0, |_, _, _| Ok(num(rand::rng().random::<f64>()))),
    ("RANDOM", 0, 0, |_, _, _| Ok(num(rand::rng().random::<f64>()))),
    ("PERCENTILE", 2, 3, percentile),
    ("COSINE_SIMILARITY", 2, 2, |a, env, name| vectors(a, env, name, cosine)),
    ("L1_DISTANCE", 2, 2, |a, env, name| vectors(a, env, name, |x, y| Some(x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum()))),
    ("L2_DISTANCE", 2, 2, |a, env, name| {
        vectors(a, env, name, |x, y| Some(x.iter().zip(y).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt()))
    }),
    ("DECAY_GAUSS", 5, 5, |a, env, name| decay(a, env, name, Decay::Gauss)),
    ("DECAY_EXP", 5, 5, |a, env, name| decay(a, env, name, Decay::Exp)),
    ("DECAY_LINEAR", 5, 5, |a, env, name| decay(a, env, name, Decay::Linear)),
    ("BIT_AND", 1, 2, |a, env, name| bit_fold(a, env, name, |x, y| x & y)),
    ("BIT_OR", 1, 2, |a, env, name| bit_fold(a, env, name, |x, y| x | y)),
    ("BIT_XOR", 1, 2, |a, env, name| bit_fold(a, env, name, |x, y| x ^ y)),
    ("BIT_NEGATE", 2, 2, |a, env, name| match (bits(&a[0]), width(&a[1])) {
        (Some(n), Some(w)) => Ok(json!(!n & mask(w))),
        _ => type_mismatch(env, name),
    }),
    ("BIT_TEST", 2, 2, |a, env, name| match (bits(&a[0]), a[1].as_f64().filter(|i| i.fract() == 0.0 && (0.0..32.0).contains(i))) {
        (Some(n), Some(i)) => Ok(Value::Bool(n >> i as u32 & 1 == 1)),
        _ => type_mismatch(env, name),
    }),
    ("BIT_POPCOUNT", 1, 1, |a, env, name| match bits(&a[0]) {
        Some(n) => Ok(json!(n.count_ones())),
        None => type_mismatch(env, name),
    }),
    ("BIT_SHIFT_LEFT", 3, 3, |a, env, name| match (bits(&a[0]), width(&a[1]), width(&a[2])) {
        (Some(n), Some(s), Some(w)) => Ok(json!((u64::from(n) << s) & u64::from(mask(w)))),
        _ => type_mismatch(env, name),
    }),
    ("BIT_SHIFT_RIGHT", 3, 3, |a, env, name| match (bits(&a[0]), width(&a[1]), width(&a[2])) {
        (Some(n), Some(s), Some(w)) => Ok(json!((u64::from(n) >> s) & u64::from(mask(w)))),
        _ => type_mismatch(env, name),
    }),
    ("BIT_CONSTRUCT", 1, 1, |a, env, name| {
        let Value::Array(positions) = &a[0] else { return type_mismatch(env, name) };
        let mut n = 0u32;
        for p in positions {
            match p.as_f64().filter(|i| i.fract() == 0.0 && (0.0..32.0).contains(i)) {
                Some(i) => n |= 1 << i as u32,
                None => return type_mismatch(env, name),
            }
        }
        Ok(json!(n))
    }),
    ("BIT_DECONSTRUCT", 1, 1, |a, env, name| match bits(&a[0]) {
        Some(n) => Ok(json!((0..32).filter(|i| n >> i & 1 == 1).collect::<Vec<u32>>())),
        None => type_mismatch(env, name),
    }),
    ("BIT_TO_STRING", 2, 2, |a, env, name| match (bits(&a[0]), width(&a[1])) {
        (Some(n), Some(w)) => Ok(json!((0..w).rev().map(|i| if n >> i & 1 == 1 { '1' } else { '0' }).collect::<String>())),
        _ => type_mismatch(env, name),
    }),
    ("BIT_FROM_STRING", 1, 1, |a, env, name| match &a[0] {
        Value::String(s) if s.len() <= 32 && s.bytes().all(|b| b == b'0' || b == b'1') => {
            Ok(json!(s.bytes().fold(0u64, |n, b| n << 1 | u64::from(b - b'0'))))
        }
        _ => type_mismatch(env, name),
    }),
];

/// Longest array RANGE() may build.
const RANGE_ITEMS_MAX: f64 = 10_000_000.0;

/// `RANGE(start, stop, step)`: without a step, start and stop are truncated to integers.
fn range(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let (mut from, mut to) = (to_number(&a[0]), to_number(&a[1]));
    let step = match a.get(2).filter(|v| !v.is_null()) {
        Some(s) => to_number(s),
        None => {
            (from, to) = (from.trunc(), to.trunc());
            if to >= from { 1.0 } else { -1.0 }
        }
    };
    if step == 0.0 || (to > from && step < 0.0) || (to < from && step > 0.0) {
        return type_mismatch(env, name);
    }
    let n = ((to - from) / step).floor() + 1.0;
    if n > RANGE_ITEMS_MAX {
        return Err(err!(errors::ERROR_RESOURCE_LIMIT, "RANGE() would build {n} values"));
    }
    Ok(Value::Array((0..n.max(0.0) as i64).map(|i| num(from + step * i as f64)).collect()))
}

fn percentile(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Value::Array(items) = &a[0] else { return type_mismatch(env, name) };
    let Some(p) = a[1].as_f64().filter(|p| (0.0..=100.0).contains(p)) else { return type_mismatch(env, name) };
    let interpolate = match a.get(2).map(to_string).as_deref() {
        None | Some("rank") => false,
        Some("interpolation") => true,
        Some(_) => return type_mismatch(env, name),
    };
    let mut v = Vec::with_capacity(items.len());
    for item in items.iter().filter(|v| !v.is_null()) {
        match item.as_f64() {
            Some(f) => v.push(f),
            None => return type_mismatch(env, name),
        }
    }
    if v.is_empty() {
        return Ok(Value::Null);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if !interpolate {
        // The nearest rank: the smallest value with at least p percent at or below it.
        let rank = (p / 100.0 * n as f64).ceil() as usize;
        return Ok(num(v[rank.clamp(1, n) - 1]));
    }
    let pos = p / 100.0 * (n + 1) as f64;
    Ok(num(if pos < 1.0 {
        v[0]
    } else if pos >= n as f64 {
        v[n - 1]
    } else {
        let i = pos.floor() as usize;
        v[i - 1] + (pos - i as f64) * (v[i] - v[i - 1])
    }))
}

fn cosine(x: &[f64], y: &[f64]) -> Option<f64> {
    let dot: f64 = x.iter().zip(y).map(|(p, q)| p * q).sum();
    let norm = x.iter().map(|p| p * p).sum::<f64>().sqrt() * y.iter().map(|q| q * q).sum::<f64>().sqrt();
    (norm != 0.0).then(|| dot / norm)
}

fn numeric_array(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?.iter().map(Value::as_f64).collect()
}

/// Two vectors, or a matrix (one vector per row) and a vector: one number per row then.
fn vectors(a: &[Value], env: &mut Env, name: &str, f: fn(&[f64], &[f64]) -> Option<f64>) -> Result<Value, ArangoError> {
    let one = |x: &[f64], y: &[f64]| if x.len() == y.len() && !x.is_empty() { f(x, y) } else { None };
    let matrix = |rows: &Value, y: &[f64]| -> Option<Value> {
        rows.as_array()?.iter().map(|r| numeric_array(r).and_then(|r| one(&r, y)).map(num)).collect::<Option<Vec<_>>>().map(Value::Array)
    };
    let is_matrix = |v: &Value| v.as_array().is_some_and(|r| r.first().is_some_and(Value::is_array));
    let result = if is_matrix(&a[0]) {
        numeric_array(&a[1]).and_then(|y| matrix(&a[0], &y))
    } else if is_matrix(&a[1]) {
        numeric_array(&a[0]).and_then(|x| matrix(&a[1], &x))
    } else {
        numeric_array(&a[0]).zip(numeric_array(&a[1])).and_then(|(x, y)| one(&x, &y)).map(num)
    };
    match result {
        Some(v) => Ok(v),
        None => type_mismatch(env, name),
    }
}

#[derive(Clone, Copy)]
enum Decay {
    Gauss,
    Exp,
    Linear,
}

/// `DECAY_*(value, origin, scale, offset, decay)`: 1 within `offset` of `origin`, and
/// `decay` at `scale` beyond that, falling along a Gaussian, exponential or linear curve.
fn decay(a: &[Value], env: &mut Env, name: &str, kind: Decay) -> Result<Value, ArangoError> {
    let params: Option<Vec<f64>> = a[1..].iter().map(Value::as_f64).collect();
    let Some([origin, scale, offset, decay]) = params.as_deref().and_then(|p| <[f64; 4]>::try_from(p).ok()) else {
        return type_mismatch(env, name);
    };
    let decay_ok = match kind {
        Decay::Linear => (0.0..1.0).contains(&decay),
        _ => decay > 0.0 && decay < 1.0,
    };
    if scale <= 0.0 || offset < 0.0 || !decay_ok {
        return type_mismatch(env, name);
    }
    let score = |v: f64| {
        let d = ((v - origin).abs() - offset).max(0.0);
        match kind {
            Decay::Gauss => {
                let variance = -(scale * scale) / (2.0 * decay.ln());
                (-(d * d) / (2.0 * variance)).exp()
            }
            Decay::Exp => (decay.ln() / scale * d).exp(),
            Decay::Linear => {
                let s = scale / (1.0 - decay);
                ((s - d) / s).max(0.0)
            }
        }
    };
    match &a[0] {
        Value::Number(n) => Ok(num(score(n.as_f64().unwrap_or(0.0)))),
        Value::Array(items) => match items.iter().map(|v| v.as_f64().map(|v| num(score(v)))).collect::<Option<Vec<_>>>() {
            Some(scores) => Ok(Value::Array(scores)),
            None => type_mismatch(env, name),
        },
        _ => type_mismatch(env, name),
    }
}

/// An operand of the bit functions: an integer from 0 to 2^32 - 1.
fn bits(v: &Value) -> Option<u32> {
    v.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n)).map(|n| n as u32)
}

/// A bit count or shift from 0 to 32.
fn width(v: &Value) -> Option<u32> {
    v.as_f64().filter(|n| n.fract() == 0.0 && (0.0..=32.0).contains(n)).map(|n| n as u32)
}

fn mask(width: u32) -> u32 {
    if width >= 32 { u32::MAX } else { (1 << width) - 1 }
}

/// BIT_AND, BIT_OR and BIT_XOR: of two operands, or of an array (nulls skipped).
fn bit_fold(a: &[Value], env: &mut Env, name: &str, op: fn(u32, u32) -> u32) -> Result<Value, ArangoError> {
    let operands: Vec<&Value> = match a {
        [Value::Array(items)] => items.iter().filter(|v| !v.is_null()).collect(),
        [x, y] => vec![x, y],
        _ => return type_mismatch(env, name),
    };
    let mut acc: Option<u32> = None;
    for v in operands {
        let Some(n) = bits(v) else { return type_mismatch(env, name) };
        acc = Some(acc.map_or(n, |m| op(m, n)));
    }
    Ok(acc.map_or(Value::Null, |n| json!(n)))
}
