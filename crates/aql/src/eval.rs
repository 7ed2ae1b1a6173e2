//! Evaluates expressions against bind parameters and variables. Runtime problems that AQL
//! reports as warnings (division by zero, wrong argument types) are collected; the caller
//! decides whether a warning fails the operation.

use std::cmp::Ordering;

use errors::{err, ArangoError, ErrorCode, ERROR_NOT_IMPLEMENTED, ERROR_QUERY_BIND_PARAMETER_MISSING,
    ERROR_QUERY_DIVISION_BY_ZERO, ERROR_QUERY_VARIABLE_NAME_UNKNOWN, ERROR_RESOURCE_LIMIT};
use serde_json::{Map, Value};

use crate::ast::{BinaryOp, Expansion, Expr, ObjectKey, Quantifier, UnaryOp, CURRENT};
use crate::functions;
use crate::value::{compare, like, num, to_number, to_string, truthy};

/// Longest array a range expression (`a..b`) may build.
const RANGE_ITEMS_MAX: f64 = 10_000_000.0;

/// Runs a subquery with the variables in scope and returns its result array.
pub type SubqueryFn<'a> = &'a dyn Fn(&crate::query::Query, &[(String, Value)]) -> Result<Value, ArangoError>;

/// What AQL functions that read the database (`DOCUMENT`, `COLLECTION_COUNT`, …) need from
/// the query's executor. Each call checks the caller's access.
pub trait Database {
    /// The database's name.
    fn name(&self) -> String;
    /// A document by collection name and key; `Ok(None)` when either does not exist.
    fn document(&self, collection: &str, key: &str) -> Result<Option<Value>, ArangoError>;
    /// How many documents a collection holds (1203 when it does not exist).
    fn count(&self, collection: &str) -> Result<u64, ArangoError>;
    /// All documents of a collection, for a collection read as a value (`RETURN users`).
    fn documents(&self, collection: &str) -> Result<Vec<Value>, ArangoError>;
    /// The collections the caller may read, as `(id, name)`.
    fn collections(&self) -> Vec<(String, String)>;
    /// The user running the query, when there is one.
    fn user(&self) -> Option<String>;
}

pub struct Env<'a> {
    pub binds: &'a Map<String, Value>,
    /// The row's variables, innermost last. Borrowed: evaluating an expression copies only
    /// the values it returns.
    pub vars: &'a [(String, Value)],
    /// Variables bound inside the expression (`CURRENT` in an array expansion), innermost
    /// last; they hide `vars` of the same name.
    pub locals: Vec<(std::borrow::Cow<'a, str>, Value)>,
    /// A loop's document while the FILTER after the loop decides whether it joins the row;
    /// it sits between `vars` and `locals`.
    pub pending: Option<(&'a str, &'a Value)>,
    pub warnings: Vec<(ErrorCode, String)>,
    /// The executor, for subqueries; without one they are refused.
    pub subquery: Option<SubqueryFn<'a>>,
    /// The query's kill flag, which `SLEEP` watches.
    pub kill: Option<&'a std::sync::atomic::AtomicBool>,
    /// The database, for the functions that read it; without it they are refused.
    pub db: Option<&'a dyn Database>,
}

impl<'a> Env<'a> {
    pub fn new(binds: &'a Map<String, Value>) -> Env<'a> {
        Env { binds, vars: &[], locals: Vec::new(), pending: None, warnings: Vec::new(), subquery: None, kill: None, db: None }
    }

    pub fn warn(&mut self, code: ErrorCode, msg: impl Into<String>) {
        self.warnings.push((code, msg.into()));
    }

    /// A variable's value, innermost binding first.
    pub fn var(&self, name: &str) -> Option<&Value> {
        let locals = self.locals.iter().rev().map(|(n, v)| (&**n, v));
        let vars = self.vars.iter().rev().map(|(n, v)| (n.as_str(), v));
        locals.chain(self.pending).chain(vars).find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

static NULL: Value = Value::Null;

/// The value an attribute path over a variable or bind parameter leads to (`doc.a.b`,
/// `doc["a"]`, `@p[0]`), borrowed; `None` when `e` is not such a path (or names nothing,
/// which `eval` then reports).
fn path<'v>(e: &Expr, env: &'v Env) -> Option<&'v Value> {
    match e {
        Expr::Var(name) => env.var(name),
        Expr::Bind(name) => env.binds.get(name),
        Expr::Attr(base, name) => Some(match path(base, env)? {
            Value::Object(m) => attribute(m, name).unwrap_or(&NULL),
            _ => &NULL,
        }),
        Expr::Index(base, index) => match index.as_ref() {
            Expr::Value(k) => Some(index_of(path(base, env)?, k).unwrap_or(&NULL)),
            _ => None,
        },
        _ => None,
    }
}

/// An attribute of an object. A small object is searched in order: quicker than hashing the
/// name, and most documents are small.
pub(crate) fn attribute<'v>(m: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if m.len() <= 8 {
        m.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
    } else {
        m.get(name)
    }
}

/// `base[index]`: an attribute of an object, or an array member counted from the end when
/// negative.
fn index_of<'v>(base: &'v Value, index: &Value) -> Option<&'v Value> {
    match (base, index) {
        (Value::Object(m), k) => m.get(&to_string(k)),
        (Value::Array(a), Value::Number(n)) => {
            let i = n.as_f64().unwrap_or(0.0) as i64;
            let i = if i < 0 { a.len() as i64 + i } else { i };
            usize::try_from(i).ok().and_then(|i| a.get(i))
        }
        _ => None,
    }
}

/// Evaluates `e`, borrowing when it is a path (see [`path`]) and copying nothing.
fn operand<'v>(e: &Expr, env: &'v mut Env) -> Result<std::borrow::Cow<'v, Value>, ArangoError> {
    if path(e, env).is_some() {
        return Ok(std::borrow::Cow::Borrowed(path(e, env).unwrap_or(&NULL)));
    }
    eval(e, env).map(std::borrow::Cow::Owned)
}

pub fn eval(e: &Expr, env: &mut Env) -> Result<Value, ArangoError> {
    if matches!(e, Expr::Var(_) | Expr::Attr(..) | Expr::Index(..)) {
        if let Some(v) = path(e, env) {
            return Ok(v.clone());
        }
    }
    Ok(match e {
        Expr::Value(v) => v.clone(),
        Expr::Array(items) => Value::Array(items.iter().map(|i| eval(i, env)).collect::<Result<_, _>>()?),
        Expr::Object(members) => {
            let mut m = Map::new();
            for (k, v) in members {
                let key = match k {
                    ObjectKey::Name(n) => n.clone(),
                    ObjectKey::Computed(e) => to_string(&eval(e, env)?),
                };
                let value = eval(v, env)?;
                m.insert(key, value);
            }
            Value::Object(m)
        }
        // A declared variable was read above; a name no variable declares is a collection,
        // read as the array of its documents.
        Expr::Var(name) => match env.db {
            Some(db) => Value::Array(db.documents(name)?),
            None => return Err(err!(ERROR_QUERY_VARIABLE_NAME_UNKNOWN, "unknown variable '{name}'")),
        },
        Expr::BindCollection(name) => {
            return Err(err!(ERROR_NOT_IMPLEMENTED, "collection bind parameter @@{name} needs the query executor, which is not built yet").status(501));
        }
        Expr::Subquery(q) => match env.subquery {
            Some(run) if env.locals.is_empty() && env.pending.is_none() => run(q, env.vars)?,
            Some(run) => {
                let pending = env.pending.map(|(n, v)| (n.to_string(), v.clone()));
                let locals = env.locals.iter().map(|(n, v)| (n.to_string(), v.clone()));
                let all: Vec<(String, Value)> = env.vars.iter().cloned().chain(pending).chain(locals).collect();
                run(q, &all)?
            }
            None => return Err(err!(ERROR_NOT_IMPLEMENTED, "subqueries are not allowed here").status(501)),
        },
        Expr::Bind(name) => env
            .binds
            .get(name)
            .cloned()
            .ok_or_else(|| err!(ERROR_QUERY_BIND_PARAMETER_MISSING, "no value specified for declared bind parameter '{name}'"))?,
        Expr::Attr(base, name) => match eval(base, env)? {
            Value::Object(mut m) => m.remove(name).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Expr::Index(base, index) => {
            let index = eval(index, env)?;
            let base = operand(base, env)?;
            index_of(&base, &index).cloned().unwrap_or(Value::Null)
        }
        Expr::Call(name, args) => {
            // LENGTH of a collection counts it without reading its documents.
            if let ("LENGTH" | "COUNT", [arg], Some(db)) = (name.as_str(), &args[..], env.db) {
                if let Some(collection) = collection_name(arg, env) {
                    return Ok(Value::from(db.count(collection)?));
                }
            }
            // DOCUMENT(users, …) and COLLECTION_COUNT(users) take a collection by its bare name.
            let names_collection = matches!(name.as_str(), "DOCUMENT" | "COLLECTION_COUNT") && args.len() > (name == "DOCUMENT") as usize;
            let values = args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let bare = if i == 0 && names_collection { collection_name(a, env) } else { None };
                    match bare {
                        Some(n) => Ok(Value::String(n.to_string())),
                        None => eval(a, env),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            functions::call(name, values, env)?
        }
        Expr::Unary(op, operand) => {
            let v = eval(operand, env)?;
            match op {
                UnaryOp::Not => Value::Bool(!truthy(&v)),
                UnaryOp::Neg => num(-to_number(&v)),
                UnaryOp::Plus => num(to_number(&v)),
            }
        }
        Expr::Ternary(cond, middle, other) => {
            let c = eval(cond, env)?;
            if truthy(&c) {
                match middle {
                    Some(m) => eval(m, env)?,
                    None => c,
                }
            } else {
                eval(other, env)?
            }
        }
        Expr::Binary(op, l, r) => binary(*op, l, r, env)?,
        Expr::Expand(x) => expand(x, env)?,
        Expr::Question { base, quantifier, filter } => {
            let Value::Array(items) = eval(base, env)? else { return Ok(Value::Bool(false)) };
            let bounds = quantifier_bounds(quantifier, env)?;
            let mut matched = 0;
            for item in &items {
                if match filter {
                    Some(f) => truthy(&with_current(env, item.clone(), |env| eval(f, env))?),
                    None => true,
                } {
                    matched += 1;
                }
            }
            Value::Bool(quantifier.holds(matched, items.len(), bounds))
        }
        Expr::ArrayCompare { quantifier, op, lhs, rhs } => {
            let rhs = eval(rhs, env)?;
            let Value::Array(items) = eval(lhs, env)? else { return Ok(Value::Bool(false)) };
            // As in ArangoDB, `IN` and `NOT IN` against anything but an array are false.
            if matches!(op, BinaryOp::In | BinaryOp::NotIn) && !rhs.is_array() {
                return Ok(Value::Bool(false));
            }
            let bounds = quantifier_bounds(quantifier, env)?;
            let matched = items.iter().filter(|x| compares(*op, x, &rhs)).count();
            Value::Bool(quantifier.holds(matched, items.len(), bounds))
        }
    })
}

/// The collection `e` names, when it is a name no variable declares and there is a database
/// to read.
fn collection_name<'e>(e: &'e Expr, env: &Env) -> Option<&'e str> {
    match e {
        Expr::Var(n) if env.db.is_some() && env.var(n).is_none() => Some(n),
        _ => None,
    }
}

/// Evaluates `f` with `CURRENT` bound to `value`.
fn with_current<T>(env: &mut Env, value: Value, f: impl FnOnce(&mut Env) -> T) -> T {
    env.locals.push((CURRENT.into(), value));
    let r = f(env);
    env.locals.pop();
    r
}

/// The numbers a quantifier compares the match count with.
fn quantifier_bounds(q: &Quantifier, env: &mut Env) -> Result<(f64, f64), ArangoError> {
    Ok(match q {
        Quantifier::AtLeast(n) | Quantifier::Exactly(n) => {
            let n = count_of(&eval(n, env)?);
            (n, n)
        }
        Quantifier::Between(low, high) => (count_of(&eval(low, env)?), count_of(&eval(high, env)?)),
        _ => (0.0, 0.0),
    })
}

/// A count as ArangoDB reads one: truncated to an integer, negative as zero.
fn count_of(v: &Value) -> f64 {
    to_number(v).trunc().max(0.0)
}

/// `base[* FILTER … LIMIT … RETURN …]` with its projection.
fn expand(x: &Expansion, env: &mut Env) -> Result<Value, ArangoError> {
    let Value::Array(items) = eval(&x.base, env)? else { return Ok(Value::Array(Vec::new())) };
    let items = flatten(items, x.levels.saturating_sub(1));
    let (offset, count) = match &x.limit {
        Some((offset, count)) => {
            let offset = to_number(&eval(offset, env)?).trunc();
            if offset < 0.0 {
                return Ok(Value::Array(Vec::new()));
            }
            (offset as usize, count_of(&eval(count, env)?) as usize)
        }
        None => (0, usize::MAX),
    };
    let mut out = Vec::new();
    let mut passed = 0;
    for item in items {
        if out.len() >= count {
            break;
        }
        let value = with_current(env, item, |env| -> Result<Option<Value>, ArangoError> {
            if let Some(f) = &x.filter {
                if !truthy(&eval(f, env)?) {
                    return Ok(None);
                }
            }
            passed += 1;
            if passed <= offset {
                return Ok(None);
            }
            let mut value = match &x.ret {
                Some(r) => eval(r, env)?,
                None => env.locals.last().map(|(_, v)| v.clone()).unwrap_or(Value::Null),
            };
            if let Some(p) = &x.project {
                if let Some(last) = env.locals.last_mut() {
                    last.1 = value;
                }
                value = eval(p, env)?;
            }
            Ok(Some(value))
        })?;
        out.extend(value);
    }
    Ok(Value::Array(out))
}

/// Array members that are arrays themselves are spliced in, `depth` levels deep.
fn flatten(items: Vec<Value>, depth: usize) -> Vec<Value> {
    if depth == 0 {
        return items;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Array(inner) => out.extend(flatten(inner, depth - 1)),
            other => out.push(other),
        }
    }
    out
}

/// `a <op> b` for the comparison operators.
pub(crate) fn compares(op: BinaryOp, a: &Value, b: &Value) -> bool {
    match op {
        BinaryOp::Eq => compare(a, b) == Ordering::Equal,
        BinaryOp::Ne => compare(a, b) != Ordering::Equal,
        BinaryOp::Lt => compare(a, b) == Ordering::Less,
        BinaryOp::Le => compare(a, b) != Ordering::Greater,
        BinaryOp::Gt => compare(a, b) == Ordering::Greater,
        BinaryOp::Ge => compare(a, b) != Ordering::Less,
        BinaryOp::In | BinaryOp::NotIn => {
            let found = matches!(b, Value::Array(items) if items.iter().any(|x| compare(x, a) == Ordering::Equal));
            found == (op == BinaryOp::In)
        }
        _ => false,
    }
}

/// `x % d` for `d` not zero.
pub(crate) fn remainder(x: f64, d: f64) -> f64 {
    if x.abs() < 9.0e15 && d.abs() < 9.0e15 {
        let (xi, di) = (x as i64, d as i64);
        if xi as f64 == x && di as f64 == d {
            // Whole numbers: the integer remainder is the same number and much quicker.
            return (xi % di) as f64;
        }
    }
    x % d
}

fn binary(op: BinaryOp, l: &Expr, r: &Expr, env: &mut Env) -> Result<Value, ArangoError> {
    // Logical operators short-circuit and return an operand, as in AQL.
    match op {
        BinaryOp::And => {
            let a = eval(l, env)?;
            return if truthy(&a) { eval(r, env) } else { Ok(a) };
        }
        BinaryOp::Or => {
            let a = eval(l, env)?;
            return if truthy(&a) { Ok(a) } else { eval(r, env) };
        }
        _ => {}
    }
    let a = match path(l, env) {
        Some(_) => None,
        None => Some(eval(l, env)?),
    };
    let b = match path(r, env) {
        Some(_) => None,
        None => Some(eval(r, env)?),
    };
    let a = a.as_ref().unwrap_or_else(|| path(l, env).unwrap_or(&NULL));
    let b = b.as_ref().unwrap_or_else(|| path(r, env).unwrap_or(&NULL));
    Ok(match op {
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::In | BinaryOp::NotIn => {
            Value::Bool(compares(op, a, b))
        }
        BinaryOp::Like | BinaryOp::NotLike => {
            Value::Bool(like(&to_string(a), &to_string(b), false) == (op == BinaryOp::Like))
        }
        BinaryOp::RegexMatch | BinaryOp::RegexNotMatch => {
            let args = vec![a.clone(), b.clone()];
            match functions::call("REGEX_TEST", args, env)? {
                Value::Bool(m) => Value::Bool(m == (op == BinaryOp::RegexMatch)),
                other => other,
            }
        }
        BinaryOp::Range => {
            let (from, to) = (to_number(a).trunc(), to_number(b).trunc());
            if (to - from).abs() >= RANGE_ITEMS_MAX {
                return Err(err!(ERROR_RESOURCE_LIMIT, "range {from}..{to} is too large"));
            }
            let step = if to >= from { 1.0 } else { -1.0 };
            let n = (to - from).abs() as usize + 1;
            Value::Array((0..n).map(|i| num(from + step * i as f64)).collect())
        }
        BinaryOp::Add => num(to_number(a) + to_number(b)),
        BinaryOp::Sub => num(to_number(a) - to_number(b)),
        BinaryOp::Mul => num(to_number(a) * to_number(b)),
        BinaryOp::Div | BinaryOp::Mod => {
            let (x, d) = (to_number(a), to_number(b));
            if d == 0.0 {
                env.warn(ERROR_QUERY_DIVISION_BY_ZERO, "division by zero");
                Value::Null
            } else if op == BinaryOp::Div {
                num(x / d)
            } else {
                num(remainder(x, d))
            }
        }
        BinaryOp::And | BinaryOp::Or => Value::Null,
    })
}
