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
    /// `base[* FILTER … LIMIT … RETURN …]` followed by a path over each element (`.name`),
    /// which `project` holds as an expression of `CURRENT`. `levels` counts the stars: the
    /// input is flattened `levels - 1` times first.
    Expand(Box<Expansion>),
    /// `base[? quantifier FILTER …]`: whether the right number of elements pass the filter.
    Question { base: Box<Expr>, quantifier: Quantifier, filter: Option<Box<Expr>> },
    /// `lhs ALL|ANY|NONE|AT LEAST (n) <comparison> rhs`: the comparison made for each element
    /// of `lhs`.
    ArrayCompare { quantifier: Quantifier, op: BinaryOp, lhs: Box<Expr>, rhs: Box<Expr> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    pub base: Expr,
    pub levels: usize,
    pub filter: Option<Expr>,
    /// `LIMIT offset, count`.
    pub limit: Option<(Expr, Expr)>,
    /// Inline `RETURN`, then the path after `]`; both are expressions of `CURRENT`.
    pub ret: Option<Expr>,
    pub project: Option<Expr>,
}

/// How many elements must satisfy a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantifier {
    All,
    Any,
    None,
    AtLeast(Box<Expr>),
    Exactly(Box<Expr>),
    Between(Box<Expr>, Box<Expr>),
}

impl Quantifier {
    /// Whether `matched` of `total` elements satisfy it, given the evaluated bounds.
    pub fn holds(&self, matched: usize, total: usize, bounds: (f64, f64)) -> bool {
        let m = matched as f64;
        match self {
            Quantifier::All => matched == total,
            Quantifier::Any => matched > 0,
            Quantifier::None => matched == 0,
            Quantifier::AtLeast(_) => m >= bounds.0,
            Quantifier::Exactly(_) => m == bounds.0,
            Quantifier::Between(..) => m >= bounds.0 && m <= bounds.1,
        }
    }

    fn children(&self) -> Vec<&Expr> {
        match self {
            Quantifier::AtLeast(e) | Quantifier::Exactly(e) => vec![e],
            Quantifier::Between(a, b) => vec![a, b],
            _ => Vec::new(),
        }
    }

    fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Quantifier::AtLeast(e) | Quantifier::Exactly(e) => vec![&mut **e],
            Quantifier::Between(a, b) => vec![&mut **a, &mut **b],
            _ => Vec::new(),
        }
    }
}

impl BinaryOp {
    /// The operators an array comparison (`ALL ==`, `ANY IN` …) may use.
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge | In | NotIn)
    }
}

/// The name of the element variable in expansions and the question mark operator.
pub const CURRENT: &str = "CURRENT";

impl Expr {
    /// The expressions directly inside this one (not those inside a subquery).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Value(_) | Expr::Var(_) | Expr::Bind(_) | Expr::BindCollection(_) | Expr::Subquery(_) => Vec::new(),
            Expr::Array(items) => items.iter().collect(),
            Expr::Object(members) => members
                .iter()
                .flat_map(|(k, v)| match k {
                    ObjectKey::Computed(k) => vec![k, v],
                    ObjectKey::Name(_) => vec![v],
                })
                .collect(),
            Expr::Attr(b, _) | Expr::Unary(_, b) => vec![b],
            Expr::Index(a, b) | Expr::Binary(_, a, b) => vec![a, b],
            Expr::Call(_, args) => args.iter().collect(),
            Expr::Ternary(c, m, o) => [Some(&**c), m.as_deref(), Some(&**o)].into_iter().flatten().collect(),
            Expr::Expand(x) => {
                let mut v = vec![&x.base];
                v.extend(x.filter.iter());
                v.extend(x.limit.iter().flat_map(|(a, b)| [a, b]));
                v.extend(x.ret.iter().chain(x.project.iter()));
                v
            }
            Expr::Question { base, quantifier, filter } => {
                let mut v = vec![&**base];
                v.extend(quantifier.children());
                v.extend(filter.as_deref());
                v
            }
            Expr::ArrayCompare { quantifier, lhs, rhs, .. } => {
                let mut v = vec![&**lhs, &**rhs];
                v.extend(quantifier.children());
                v
            }
        }
    }
}

impl Expr {
    /// Whether evaluating this runs a subquery anywhere in it.
    pub fn has_subquery(&self) -> bool {
        matches!(self, Expr::Subquery(_)) || self.children().into_iter().any(Expr::has_subquery)
    }

    /// [`Expr::children`], to change them.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Value(_) | Expr::Var(_) | Expr::Bind(_) | Expr::BindCollection(_) | Expr::Subquery(_) => Vec::new(),
            Expr::Array(items) => items.iter_mut().collect(),
            Expr::Object(members) => members
                .iter_mut()
                .flat_map(|(k, v)| match k {
                    ObjectKey::Computed(k) => vec![k, v],
                    ObjectKey::Name(_) => vec![v],
                })
                .collect(),
            Expr::Attr(b, _) | Expr::Unary(_, b) => vec![&mut **b],
            Expr::Index(a, b) | Expr::Binary(_, a, b) => vec![&mut **a, &mut **b],
            Expr::Call(_, args) => args.iter_mut().collect(),
            Expr::Ternary(c, m, o) => [Some(&mut **c), m.as_deref_mut(), Some(&mut **o)].into_iter().flatten().collect(),
            Expr::Expand(x) => {
                let x = &mut **x;
                let mut v = vec![&mut x.base];
                v.extend(x.filter.iter_mut());
                v.extend(x.limit.iter_mut().flat_map(|(a, b)| [a, b]));
                v.extend(x.ret.iter_mut().chain(x.project.iter_mut()));
                v
            }
            Expr::Question { base, quantifier, filter } => {
                let mut v = vec![&mut **base];
                v.extend(quantifier.children_mut());
                v.extend(filter.as_deref_mut());
                v
            }
            Expr::ArrayCompare { quantifier, lhs, rhs, .. } => {
                let mut v = vec![&mut **lhs, &mut **rhs];
                v.extend(quantifier.children_mut());
                v
            }
        }
    }
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
