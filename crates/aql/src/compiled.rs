//! FILTER conditions compiled for a scan. A scan tests the same condition against every
//! document, so the common shapes, comparisons, arithmetic, `AND`/`OR`/`NOT` over attributes of
//! the loop's document, literals and bind parameters, are turned once into a tree that is
//! quick to test. It gives exactly what [`crate::eval::eval`] gives: where the answer would
//! come with a warning (a division by zero) or from an arithmetic result that is not a finite
//! number, [`Condition::test`] answers `None` and the caller evaluates the expression itself.

use serde_json::{Map, Value};

use crate::ast::{BinaryOp, Expr, UnaryOp};
use crate::eval::{attribute, compares};
use crate::value::{num, to_number, truthy};

/// A condition on one document, the loop variable's value.
pub struct Condition(Node);

enum Node {
    /// The operand's truthiness.
    Test(Operand),
    Compare(BinaryOp, Operand, Operand),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

enum Operand {
    /// An attribute path of the document, read as it is.
    Path(Vec<String>),
    Const(Value),
    /// The result of arithmetic: always a number.
    Number(Arith),
}

enum Arith {
    /// An attribute path, converted to a number as arithmetic converts its operands.
    Path(Vec<String>),
    Const(f64),
    Neg(Box<Arith>),
    Plus(Box<Arith>),
    Op(BinaryOp, Box<Arith>, Box<Arith>),
}

impl Condition {
    /// `cond` compiled, when it has a shape compiled: it reads no variable but `var`.
    pub fn compile(cond: &Expr, var: &str, binds: &Map<String, Value>) -> Option<Condition> {
        Compiler { var, binds }.node(cond).map(Condition)
    }

    /// Whether `doc` passes; `None` when only the general evaluator can say.
    pub fn test(&self, doc: &Value) -> Option<bool> {
        self.0.test(doc)
    }
}

struct Compiler<'c> {
    var: &'c str,
    binds: &'c Map<String, Value>,
}

impl Compiler<'_> {
    fn node(&self, e: &Expr) -> Option<Node> {
        Some(match e {
            Expr::Binary(BinaryOp::And, l, r) => Node::And(Box::new(self.node(l)?), Box::new(self.node(r)?)),
            Expr::Binary(BinaryOp::Or, l, r) => Node::Or(Box::new(self.node(l)?), Box::new(self.node(r)?)),
            Expr::Unary(UnaryOp::Not, x) => Node::Not(Box::new(self.node(x)?)),
            Expr::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::In | BinaryOp::NotIn), l, r) => {
                Node::Compare(*op, self.operand(l)?, self.operand(r)?)
            }
            e => Node::Test(self.operand(e)?),
        })
    }

    fn operand(&self, e: &Expr) -> Option<Operand> {
        if let Some(path) = self.path(e) {
            return Some(Operand::Path(path));
        }
        if let Some(v) = self.constant(e) {
            return Some(Operand::Const(v));
        }
        self.arith(e).map(Operand::Number)
    }

    fn arith(&self, e: &Expr) -> Option<Arith> {
        if let Some(path) = self.path(e) {
            return Some(Arith::Path(path));
        }
        if let Some(v) = self.constant(e) {
            return Some(Arith::Const(to_number(&v)));
        }
        Some(match e {
            Expr::Unary(UnaryOp::Neg, x) => Arith::Neg(Box::new(self.arith(x)?)),
            Expr::Unary(UnaryOp::Plus, x) => Arith::Plus(Box::new(self.arith(x)?)),
            Expr::Binary(op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod), l, r) => {
                Arith::Op(*op, Box::new(self.arith(l)?), Box::new(self.arith(r)?))
            }
            _ => return None,
        })
    }

    /// A literal or bind parameter's value; arrays of them too.
    fn constant(&self, e: &Expr) -> Option<Value> {
        match e {
            Expr::Value(v) => Some(v.clone()),
            Expr::Bind(name) => self.binds.get(name).cloned(),
            Expr::Array(items) => items.iter().map(|i| self.constant(i)).collect::<Option<Vec<_>>>().map(Value::Array),
            _ => None,
        }
    }

    /// See [`attribute_path`].
    fn path(&self, e: &Expr) -> Option<Vec<String>> {
        match e {
            Expr::Attr(base, name) => self.path_or_root(base).map(|mut p| {
                p.push(name.clone());
                p
            }),
            Expr::Index(base, index) => match &**index {
                Expr::Value(Value::String(name)) => self.path_or_root(base).map(|mut p| {
                    p.push(name.clone());
                    p
                }),
                _ => None,
            },
            _ => None,
        }
    }

    fn path_or_root(&self, e: &Expr) -> Option<Vec<String>> {
        match e {
            Expr::Var(v) if v == self.var => Some(Vec::new()),
            e => self.path(e),
        }
    }
}

/// `var.a.b` or `var["a"]`, as the attribute names from `var` on: a read that never fails.
pub fn attribute_path(e: &Expr, var: &str) -> Option<Vec<String>> {
    Compiler { var, binds: &Map::new() }.path(e)
}

static NULL: Value = Value::Null;

/// The value at `path` in `doc`; null where there is none, as reading it gives.
fn lookup<'v>(doc: &'v Value, path: &[String]) -> &'v Value {
    let mut at = doc;
    for name in path {
        at = match at {
            Value::Object(m) => attribute(m, name).unwrap_or(&NULL),
            _ => &NULL,
        };
    }
    at
}

impl Node {
    fn test(&self, doc: &Value) -> Option<bool> {
        Some(match self {
            Node::Test(o) => truthy(&*o.value(doc)?),
            Node::Compare(op, l, r) => compares(*op, &*l.value(doc)?, &*r.value(doc)?),
            Node::And(l, r) => l.test(doc)? && r.test(doc)?,
            Node::Or(l, r) => l.test(doc)? || r.test(doc)?,
            Node::Not(x) => !x.test(doc)?,
        })
    }
}

impl Operand {
    fn value<'v>(&'v self, doc: &'v Value) -> Option<std::borrow::Cow<'v, Value>> {
        Some(match self {
            Operand::Path(p) => std::borrow::Cow::Borrowed(lookup(doc, p)),
            Operand::Const(v) => std::borrow::Cow::Borrowed(v),
            Operand::Number(a) => std::borrow::Cow::Owned(num(a.value(doc)?)),
        })
    }
}

impl Arith {
    /// The number, or `None` when the general evaluator must decide (division by zero warns;
    /// a result that is not finite becomes null there).
    fn value(&self, doc: &Value) -> Option<f64> {
        let r = match self {
            Arith::Path(p) => to_number(lookup(doc, p)),
            Arith::Const(x) => *x,
            Arith::Neg(a) => -a.value(doc)?,
            Arith::Plus(a) => a.value(doc)?,
            Arith::Op(op, a, b) => {
                let (x, d) = (a.value(doc)?, b.value(doc)?);
                match op {
                    BinaryOp::Add => x + d,
                    BinaryOp::Sub => x - d,
                    BinaryOp::Mul => x * d,
                    BinaryOp::Div | BinaryOp::Mod if d == 0.0 => return None,
                    BinaryOp::Div => x / d,
                    _ => crate::eval::remainder(x, d),
                }
            }
        };
        r.is_finite().then_some(r)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::Condition;
    use crate::eval::{eval, Env};

    /// Every compiled condition answers as the evaluator does, on documents of every type.
    #[test]
    fn compiled_conditions_answer_as_the_evaluator_does() {
        let docs = [
            json!({"value": 7, "s": "7", "n": null, "b": true, "a": [1, 2], "o": {"x": 3}}),
            json!({"value": 0, "s": "abc", "b": false, "a": [], "o": {}}),
            json!({"value": -12.5, "s": "", "o": {"x": "3"}}),
            json!({"value": "14", "s": "z"}),
            json!({"value": [7], "s": 7}),
            json!({}),
            json!(null),
            json!(9007199254740993i64),
        ];
        let conditions = [
            "d.value % 100 == 7",
            "d.value % 2 == 0",
            "d.value == 7",
            "d.value > 5 && d.s != '7'",
            "d.value < 1 || d.b",
            "NOT (d.value >= 0)",
            "d.s",
            "!d.n",
            "d.value IN [7, '14', null]",
            "d.value NOT IN @list",
            "d.o.x == 3",
            "d['value'] * 2 + 1 > 14.5",
            "-d.value < @n",
            "+d.s == 7",
            "d.value / d.value == 1",
            "d.value % 0 == 0",
            "d.value / 0 > 1",
            "d.value * 1e308 * 10 > 1",
            "d.a == [1, 2]",
            "d.value - 0.5 > 6",
            "1 + 2 == 3",
        ];
        let binds: Map<String, Value> = json!({"list": [0, "abc"], "n": 3}).as_object().cloned().unwrap_or_default();
        let mut compiled_any = 0;
        for text in conditions {
            let query = crate::query::parse_query(&format!("FOR d IN [] FILTER {text} RETURN d")).unwrap();
            let crate::query::Op::Filter(cond) = &query.ops[1] else { panic!("{text}") };
            let Some(compiled) = Condition::compile(cond, "d", &binds) else { continue };
            compiled_any += 1;
            for doc in &docs {
                let vars = vec![("d".to_string(), doc.clone())];
                let mut env = Env::new(&binds);
                env.vars = &vars;
                let expected = crate::value::truthy(&eval(cond, &mut env).unwrap());
                if let Some(got) = compiled.test(doc) {
                    assert_eq!(got, expected, "{text} on {doc}");
                    assert!(env.warnings.is_empty(), "{text} on {doc} answered although it warns");
                }
            }
        }
        assert_eq!(compiled_any, conditions.len());
    }

    #[test]
    fn other_variables_and_calls_are_not_compiled() {
        let binds = Map::new();
        for text in ["d.value == x.value", "LENGTH(d.a) > 1", "d.value == (FOR y IN [1] RETURN y)[0]", "d == 1"] {
            let query = crate::query::parse_query(&format!("LET x = 1 FOR d IN [] FILTER {text} RETURN d")).unwrap();
            let crate::query::Op::Filter(cond) = &query.ops[2] else { panic!("{text}") };
            assert!(Condition::compile(cond, "d", &binds).is_none(), "{text}");
        }
    }
}
