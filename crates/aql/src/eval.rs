//! Evaluates expressions against bind parameters and variables. Runtime problems that AQL
//! reports as warnings (division by zero, wrong argument types) are collected; the caller
//! decides whether a warning fails the operation.

use std::cmp::Ordering;

use errors::{err, ArangoError, ErrorCode, ERROR_NOT_IMPLEMENTED, ERROR_QUERY_BIND_PARAMETER_MISSING,
    ERROR_QUERY_DIVISION_BY_ZERO, ERROR_QUERY_VARIABLE_NAME_UNKNOWN, ERROR_RESOURCE_LIMIT};
use serde_json::{Map, Value};

use crate::ast::{BinaryOp, Expr, ObjectKey, UnaryOp};
use crate::functions;
use crate::value::{compare, like, num, to_number, to_string, truthy};

/// Longest array a range expression (`a..b`) may build.
const RANGE_ITEMS_MAX: f64 = 10_000_000.0;

/// Runs a subquery with the variables in scope and returns its result array.
pub type SubqueryFn<'a> = &'a dyn Fn(&crate::query::Query, &[(String, Value)]) -> Result<Value, ArangoError>;

pub struct Env<'a> {
    pub binds: &'a Map<String, Value>,
    pub vars: Vec<(String, Value)>,
    pub warnings: Vec<(ErrorCode, String)>,
    /// The executor, for subqueries; without one they are refused.
    pub subquery: Option<SubqueryFn<'a>>,
    /// The query's kill flag, which `SLEEP` watches.
    pub kill: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl<'a> Env<'a> {
    pub fn new(binds: &'a Map<String, Value>) -> Env<'a> {
        Env { binds, vars: Vec::new(), warnings: Vec::new(), subquery: None, kill: None }
    }

    pub fn warn(&mut self, code: ErrorCode, msg: impl Into<String>) {
        self.warnings.push((code, msg.into()));
    }
}

pub fn eval(e: &Expr, env: &mut Env) -> Result<Value, ArangoError> {
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
        Expr::Var(name) => env
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| err!(ERROR_QUERY_VARIABLE_NAME_UNKNOWN, "unknown variable '{name}'"))?,
        Expr::BindCollection(name) => {
            return Err(err!(ERROR_NOT_IMPLEMENTED, "collection bind parameter @@{name} needs the query executor, which is not built yet").status(501));
        }
        Expr::Subquery(q) => match env.subquery {
            Some(run) => run(q, &env.vars)?,
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
            let (base, index) = (eval(base, env)?, eval(index, env)?);
            match (base, index) {
                (Value::Object(mut m), k) => m.remove(&to_string(&k)).unwrap_or(Value::Null),
                (Value::Array(a), Value::Number(n)) => {
                    let i = n.as_f64().unwrap_or(0.0) as i64;
                    let i = if i < 0 { a.len() as i64 + i } else { i };
                    usize::try_from(i).ok().and_then(|i| a.get(i).cloned()).unwrap_or(Value::Null)
                }
                _ => Value::Null,
            }
        }
        Expr::Call(name, args) => {
            let values = args.iter().map(|a| eval(a, env)).collect::<Result<Vec<_>, _>>()?;
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
    })
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
    let (a, b) = (eval(l, env)?, eval(r, env)?);
    Ok(match op {
        BinaryOp::Eq => Value::Bool(compare(&a, &b) == Ordering::Equal),
        BinaryOp::Ne => Value::Bool(compare(&a, &b) != Ordering::Equal),
        BinaryOp::Lt => Value::Bool(compare(&a, &b) == Ordering::Less),
        BinaryOp::Le => Value::Bool(compare(&a, &b) != Ordering::Greater),
        BinaryOp::Gt => Value::Bool(compare(&a, &b) == Ordering::Greater),
        BinaryOp::Ge => Value::Bool(compare(&a, &b) != Ordering::Less),
        BinaryOp::In | BinaryOp::NotIn => {
            let found = matches!(&b, Value::Array(items) if items.iter().any(|x| compare(x, &a) == Ordering::Equal));
            Value::Bool(found == (op == BinaryOp::In))
        }
        BinaryOp::Like | BinaryOp::NotLike => {
            Value::Bool(like(&to_string(&a), &to_string(&b), false) == (op == BinaryOp::Like))
        }
        BinaryOp::RegexMatch | BinaryOp::RegexNotMatch => {
            return Err(err!(ERROR_NOT_IMPLEMENTED, "regular expression operators are not built yet").status(501));
        }
        BinaryOp::Range => {
            let (from, to) = (to_number(&a).trunc(), to_number(&b).trunc());
            if (to - from).abs() >= RANGE_ITEMS_MAX {
                return Err(err!(ERROR_RESOURCE_LIMIT, "range {from}..{to} is too large"));
            }
            let step = if to >= from { 1.0 } else { -1.0 };
            let n = (to - from).abs() as usize + 1;
            Value::Array((0..n).map(|i| num(from + step * i as f64)).collect())
        }
        BinaryOp::Add => num(to_number(&a) + to_number(&b)),
        BinaryOp::Sub => num(to_number(&a) - to_number(&b)),
        BinaryOp::Mul => num(to_number(&a) * to_number(&b)),
        BinaryOp::Div | BinaryOp::Mod => {
            let d = to_number(&b);
            if d == 0.0 {
                env.warn(ERROR_QUERY_DIVISION_BY_ZERO, "division by zero");
                Value::Null
            } else if op == BinaryOp::Div {
                num(to_number(&a) / d)
            } else {
                num(to_number(&a) % d)
            }
        }
        BinaryOp::And | BinaryOp::Or => Value::Null,
    })
}
