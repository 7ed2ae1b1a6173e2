//! The expression tree.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Value(Value),
    Array(Vec<Expr>),
    Object(Vec<(ObjectKey, Expr)>),
    Var(String),
    Bind(String),
    /// `@@name`: a collection named by a bind parameter.
    BindCollection(String),
    /// `(FOR … RETURN …)`: a subquery, evaluated by the executor.
    Subquery(Box<crate::query::Query>),
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a ? b : c`, and `a ?: c` (then the middle is `None`).
    Ternary(Box<Expr>, Option<Box<Expr>>, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ObjectKey {
    Name(String),
    Computed(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Like,
    NotLike,
    RegexMatch,
    RegexNotMatch,
    Range,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}
