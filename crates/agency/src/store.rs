//! The Agency's store: a JSON tree changed only by write transactions, so that every agent
//! that applies the same log holds the same tree. Everything here is deterministic: time
//! comes in with each transaction (the leader stamps it), never from a clock.
//!
//! A write transaction is `[ops]`, `[ops, preconditions]` or `[ops, preconditions,
//! clientId]`. Its operations apply in sorted key order, all or none; a failed precondition
//! or a refused lock operation leaves the tree untouched and reports the keys at fault.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use errors::{err, ArangoError, ERROR_BAD_PARAMETER};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::path::{is_hidden, normalize, segments};

/// How many client ids the store remembers for `/_api/agency/inquire`.
pub const CLIENT_IDS_MAX: usize = 100_000;

/// What a write transaction did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Applied,
    /// Preconditions (or lock operations) failed on these keys; nothing changed.
    Failed(Vec<String>),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Store {
    root: Value,
    /// Expiry times (ms since 1970) of keys set with a `ttl`.
    ttl: BTreeMap<String, u64>,
    /// Callback URLs by observed key.
    observers: BTreeMap<String, BTreeSet<String>>,
    /// Client ids of applied transactions with the log index that carried them, oldest first.
    client_ids: VecDeque<(String, u64)>,
}

/// Numbers compare by value (`1 == 1.0`), everything else structurally.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn bad(msg: impl Into<String>) -> ArangoError {
    err!(ERROR_BAD_PARAMETER, "{}", msg.into())
}

fn lookup<'a>(root: &'a Value, segs: &[String]) -> Option<&'a Value> {
    segs.iter().try_fold(root, |node, s| node.as_object()?.get(s))
}

/// The node at `segs`, created (with objects on the way, replacing non-objects) if missing.
fn lookup_mut<'a>(root: &'a mut Value, segs: &[String]) -> &'a mut Value {
    let mut node = root;
    for s in segs {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(m) = node else { unreachable!("made an object above") };
        node = m.entry(s.clone()).or_insert(Value::Object(Map::new()));
    }
    node
}

fn remove(root: &mut Value, segs: &[String]) -> Option<Value> {
    let (last, parents) = segs.split_last()?;
    let mut node = root;
    for s in parents {
        node = node.as_object_mut()?.get_mut(s)?;
    }
    node.as_object_mut()?.remove(last)
}

fn number(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64).unwrap_or(0.0)
}

fn num_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

impl Store {
    pub fn new() -> Store {
        Store { root: Value::Object(Map::new()), ..Store::default() }
    }

    /// The tree as it is, hidden keys included (for snapshots and `/_api/agency/state`).
    pub fn tree(&self) -> &Value {
        &self.root
    }

    /// Applies one write transaction, stamped with the leader's time and its log index.
    /// A malformed transaction is an error and changes nothing.
    pub fn apply(&mut self, trx: &Value, now_ms: u64, index: u64) -> Result<Outcome, ArangoError> {
        let parts = trx.as_array().ok_or_else(|| bad("a write transaction must be an array"))?;
        if parts.is_empty() || parts.len() > 3 {
            return Err(bad("a write transaction has 1 to 3 elements: operations, preconditions, client id"));
        }
        let ops = parts[0].as_object().ok_or_else(|| bad("operations must be an object"))?;
        let empty = Map::new();
        let pre = match parts.get(1) {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => return Err(bad("preconditions must be an object")),
        };
        let client_id = match parts.get(2) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("the client id must be a string")),
        };
        // Validate every operation before touching anything.
        let mut sorted: Vec<(String, &Value)> = ops.iter().map(|(k, v)| (normalize(k), v)).collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, op) in &sorted {
            validate_op(op)?;
        }
        let failed = self.failed_preconditions(pre, now_ms);
        if !failed.is_empty() {
            return Ok(Outcome::Failed(failed));
        }
        // Only lock operations and positional erases can fail half-way; keep a copy to roll
        // back to just for those, so ordinary writes do not copy the tree.
        let may_fail = sorted.iter().any(|(_, op)| {
            matches!(op.get("op").and_then(Value::as_str), Some("read-lock" | "read-unlock" | "write-lock" | "write-unlock" | "erase"))
        });
        let before = may_fail.then(|| self.clone());
        for (key, op) in &sorted {
            let result = self.apply_op(key, op, now_ms);
            if !matches!(result, Ok(Ok(()))) {
                if let Some(b) = before {
                    *self = b;
                }
                return match result {
                    Err(e) => Err(e),
                    _ => Ok(Outcome::Failed(vec![key.clone()])),
                };
            }
        }
        if let Some(id) = client_id {
            self.client_ids.push_back((id, index));
            while self.client_ids.len() > CLIENT_IDS_MAX {
                self.client_ids.pop_front();
            }
        }
        Ok(Outcome::Applied)
    }

    /// The keys whose preconditions do not hold.
    pub fn failed_preconditions(&self, pre: &Map<String, Value>, now_ms: u64) -> Vec<String> {
        let mut failed: Vec<String> = pre
            .iter()
            .filter(|(k, cond)| !self.holds(&normalize(k), cond, now_ms))
            .map(|(k, _)| normalize(k))
            .collect();
        failed.sort();
        failed
    }

    /// The current value at a key, unless it has expired.
    fn get(&self, key: &str, now_ms: u64) -> Option<&Value> {
        if self.is_expired(key, now_ms) {
            return None;
        }
        lookup(&self.root, &segments(key))
    }

    fn is_expired(&self, key: &str, now_ms: u64) -> bool {
        // A key is gone when it or an ancestor has expired.
        let segs = segments(key);
        (0..=segs.len()).any(|n| {
            let k = if n == 0 { "/".to_string() } else { format!("/{}", segs[..n].join("/")) };
            self.ttl.get(&k).is_some_and(|&exp| exp <= now_ms)
        })
    }

    fn holds(&self, key: &str, cond: &Value, now_ms: u64) -> bool {
        let node = self.get(key, now_ms);
        let Value::Object(c) = cond else {
            return node.is_some_and(|n| json_eq(n, cond));
        };
        if c.is_empty() {
            return false;
        }
        let array = node.and_then(Value::as_array);
        let contains = |v: &Value| array.is_some_and(|a| a.iter().any(|x| json_eq(x, v)));
        c.iter().all(|(op, v)| match op.as_str() {
            "old" => node.is_some_and(|n| json_eq(n, v)),
            "oldNot" => !node.is_some_and(|n| json_eq(n, v)),
            "oldEmpty" => match v.as_bool() {
                Some(true) => node.is_none(),
                Some(false) => node.is_some(),
                None => false,
            },
            "isArray" => v.as_bool().is_some_and(|want| want == node.is_some_and(Value::is_array)),
            "in" => contains(v),
            "notin" => !contains(v),
            "intersectionEmpty" => match (array, v.as_array()) {
                (Some(a), Some(b)) => !a.iter().any(|x| b.iter().any(|y| json_eq(x, y))),
                (None, Some(_)) => true,
                _ => false,
            },
            "is-read-locked" => contains(v),
            "is-write-locked" => node.is_some_and(|n| n == v),
            "can-read-lock" => node.is_none_or(|n| n.as_object().is_some_and(Map::is_empty) || (n.is_array() && !contains(v))),
            "can-write-lock" => node.is_none_or(|n| n.as_object().is_some_and(Map::is_empty)),
            _ => false,
        })
    }

    /// Applies one operation; `Ok(Err(()))` when a lock operation is refused.
    fn apply_op(&mut self, key: &str, op: &Value, now_ms: u64) -> Result<Result<(), ()>, ArangoError> {
        let segs = segments(key);
        // An expired key counts as absent from here on.
        if self.is_expired(key, now_ms) {
            remove(&mut self.root, &segs);
            self.clear_ttl(key);
        }
        let Some(name) = op.as_object().and_then(|o| o.get("op")).and_then(Value::as_str) else {
            // Any value that is not an operation object sets the key.
            self.set(key, &segs, op.clone(), None, now_ms);
            return Ok(Ok(()));
        };
        let arg = |f: &str| op.get(f);
        let current = lookup(&self.root, &segs).cloned();
        match name {
            "set" => {
                let new = arg("new").cloned().ok_or_else(|| bad(format!("set on {key} needs 'new'")))?;
                let ttl = arg("ttl").and_then(Value::as_f64).filter(|t| *t > 0.0);
                self.set(key, &segs, new, ttl, now_ms);
            }
            "delete" => {
                remove(&mut self.root, &segs);
                self.clear_ttl(key);
            }
            "increment" | "decrement" => {
                let step = arg("step").map_or(1.0, |s| number(Some(s)));
                let sign = if name == "increment" { 1.0 } else { -1.0 };
                let v = num_value(number(current.as_ref()) + sign * step);
                self.set(key, &segs, v, None, now_ms);
            }
            "push" | "prepend" => {
                let new = arg("new").cloned().ok_or_else(|| bad(format!("{name} on {key} needs 'new'")))?;
                let mut list = current.and_then(|c| c.as_array().cloned()).unwrap_or_default();
                if name == "push" {
                    list.push(new);
                } else {
                    list.insert(0, new);
                }
                self.set(key, &segs, Value::Array(list), None, now_ms);
            }
            "pop" | "shift" => {
                let mut list = current.and_then(|c| c.as_array().cloned()).unwrap_or_default();
                if !list.is_empty() {
                    if name == "pop" {
                        list.pop();
                    } else {
                        list.remove(0);
                    }
                }
                self.set(key, &segs, Value::Array(list), None, now_ms);
            }
            "erase" => {
                let Some(mut list) = current.and_then(|c| c.as_array().cloned()) else { return Ok(Ok(())) };
                if let Some(v) = arg("val") {
                    list.retain(|x| !json_eq(x, v));
                } else if let Some(pos) = arg("pos").and_then(Value::as_u64) {
                    if pos as usize >= list.len() {
                        return Err(bad(format!("erase on {key}: position {pos} out of range")));
                    }
                    list.remove(pos as usize);
                }
                self.set(key, &segs, Value::Array(list), None, now_ms);
            }
            "replace" => {
                let Some(list) = current.and_then(|c| c.as_array().cloned()) else { return Ok(Ok(())) };
                let (Some(v), Some(w)) = (arg("val"), arg("new")) else {
                    return Err(bad(format!("replace on {key} needs 'val' and 'new'")));
                };
                let list = list.into_iter().map(|x| if json_eq(&x, v) { w.clone() } else { x }).collect();
                self.set(key, &segs, Value::Array(list), None, now_ms);
            }
            "observe" | "unobserve" => {
                let url = arg("url").and_then(Value::as_str).ok_or_else(|| bad(format!("{name} on {key} needs 'url'")))?;
                let set = self.observers.entry(key.to_string()).or_default();
                if name == "observe" {
                    set.insert(url.to_string());
                } else {
                    set.remove(url);
                    if set.is_empty() {
                        self.observers.remove(key);
                    }
                }
            }
            "read-lock" | "read-unlock" | "write-lock" | "write-unlock" => {
                let by = arg("by").filter(|b| b.is_string()).cloned().ok_or_else(|| bad(format!("{name} on {key} needs 'by'")))?;
                let empty = current.as_ref().is_none_or(|c| c.as_object().is_some_and(Map::is_empty));
                let holders = current.as_ref().and_then(Value::as_array).cloned();
                match name {
                    "read-lock" => {
                        let mut list = match (empty, holders) {
                            (true, _) => Vec::new(),
                            (false, Some(h)) if !h.contains(&by) => h,
                            _ => return Ok(Err(())),
                        };
                        list.push(by);
                        self.set(key, &segs, Value::Array(list), None, now_ms);
                    }
                    "read-unlock" => {
                        let Some(mut list) = holders.filter(|h| h.contains(&by)) else { return Ok(Err(())) };
                        list.retain(|x| *x != by);
                        if list.is_empty() {
                            remove(&mut self.root, &segs);
                        } else {
                            self.set(key, &segs, Value::Array(list), None, now_ms);
                        }
                    }
                    "write-lock" if empty => self.set(key, &segs, by, None, now_ms),
                    "write-unlock" if current.as_ref() == Some(&by) => {
                        remove(&mut self.root, &segs);
                    }
                    _ => return Ok(Err(())),
                }
            }
            other => return Err(bad(format!("unknown operation '{other}' on {key}"))),
        }
        Ok(Ok(()))
    }

    fn set(&mut self, key: &str, segs: &[String], value: Value, ttl_s: Option<f64>, now_ms: u64) {
        *lookup_mut(&mut self.root, segs) = value;
        self.clear_ttl(key);
        if let Some(t) = ttl_s {
            self.ttl.insert(key.to_string(), now_ms + (t * 1000.0) as u64);
        }
    }

    /// Forgets the TTLs of a key and everything below it.
    fn clear_ttl(&mut self, key: &str) {
        let below = if key == "/" { "/".to_string() } else { format!("{key}/") };
        self.ttl.retain(|k, _| k != key && !k.starts_with(&below));
    }

    /// A transaction deleting every key whose TTL has passed, for the leader to replicate.
    pub fn expiry_transaction(&self, now_ms: u64) -> Option<Value> {
        let ops: Map<String, Value> =
            self.ttl.iter().filter(|(_, &exp)| exp <= now_ms).map(|(k, _)| (k.clone(), json!({"op": "delete"}))).collect();
        (!ops.is_empty()).then(|| json!([ops]))
    }

    /// A read transaction: the cross-section of the tree with the given keys, each with its
    /// full path from the root. Hidden keys show only when asked for by a hidden path.
    pub fn read(&self, keys: &[String], now_ms: u64) -> Value {
        let mut out = Value::Object(Map::new());
        for key in keys {
            let key = normalize(key);
            let segs = segments(&key);
            let show_hidden = is_hidden(&segs);
            // The longest existing prefix, with the value at the end or {} where it stops.
            let mut depth = 0;
            while depth < segs.len() && self.get(&format!("/{}", segs[..=depth].join("/")), now_ms).is_some() {
                depth += 1;
            }
            let value = if depth == segs.len() {
                self.visible(self.get(&key, now_ms).unwrap_or(&Value::Null), &key, show_hidden, now_ms)
            } else {
                Value::Object(Map::new())
            };
            merge_into(&mut out, &segs[..depth], value);
        }
        out
    }

    /// A copy of `node` without hidden or expired children.
    fn visible(&self, node: &Value, key: &str, show_hidden: bool, now_ms: u64) -> Value {
        match node {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| show_hidden || !k.starts_with('.'))
                    .filter_map(|(k, v)| {
                        let child = if key == "/" { format!("/{k}") } else { format!("{key}/{k}") };
                        (!self.is_expired(&child, now_ms)).then(|| (k.clone(), self.visible(v, &child, show_hidden, now_ms)))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The log index that carried a client id, if the store still remembers it.
    pub fn client_index(&self, client_id: &str) -> Option<u64> {
        self.client_ids.iter().rev().find(|(id, _)| id == client_id).map(|(_, i)| *i)
    }

    pub fn observers(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.observers
    }
}

/// Checks an operation's shape without applying it.
fn validate_op(op: &Value) -> Result<(), ArangoError> {
    let Some(name) = op.as_object().and_then(|o| o.get("op")) else { return Ok(()) };
    match name.as_str() {
        Some(
            "set" | "delete" | "increment" | "decrement" | "push" | "prepend" | "pop" | "shift" | "erase" | "replace"
            | "observe" | "unobserve" | "read-lock" | "read-unlock" | "write-lock" | "write-unlock",
        ) => Ok(()),
        _ => Err(bad(format!("unknown operation {name}"))),
    }
}

fn merge_into(out: &mut Value, segs: &[String], value: Value) {
    if segs.is_empty() {
        match (out, value) {
            (Value::Object(o), Value::Object(v)) => o.extend(v),
            (out, value) => *out = value,
        }
        return;
    }
    let node = lookup_mut(out, &segs[..segs.len() - 1]);
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(m) = node {
        m.insert(segs[segs.len() - 1].clone(), value);
    }
}
