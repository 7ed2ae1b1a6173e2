//! A Pratt parser for AQL expressions, with ArangoDB's operator precedence (lowest first):
//! `?:`, `||`, `&&`, `== != LIKE =~ !~`, `IN NOT IN`, `< <= > >=`, `..`, `+ -`, `* / %`,
//! unary `! - + NOT`, then member access and calls.

use errors::{err, ArangoError, ERROR_QUERY_PARSE};
use serde_json::{json, Value};

use crate::ast::{BinaryOp, Expansion, Expr, ObjectKey, Quantifier, UnaryOp, CURRENT};
use crate::lexer::{lex, Tok, Token};

/// Deepest nesting of expressions accepted, so hostile input cannot overflow the stack.
const NESTING_MAX: usize = 100;
/// Deepest expression tree accepted: nesting plus chains such as `a + b + c` or `a.b.c`,
/// which the parser builds in a loop but evaluating (and dropping) the tree recurses through.
const TREE_DEPTH_MAX: usize = 500;
/// Array comparisons (`ALL ==` …) bind more loosely than `==` and more tightly than `&&`.
const ARRAY_COMPARISON_LEVEL: usize = 3;

pub struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// How deep the tree being built is along the current path (see [`TREE_DEPTH_MAX`]).
    tree: usize,
    /// At this nesting depth `IN` is not an operator (it names a collection, as in
    /// `INSERT doc IN coll`).
    no_in_at: Option<usize>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Result<Parser<'a>, ArangoError> {
        let toks = lex(text).map_err(|(msg, line, col)| parse_error(text, &msg, line, col))?;
        Ok(Parser { text, toks, pos: 0, depth: 0, tree: 0, no_in_at: None })
    }

    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    /// The token `n` places after the cursor.
    pub(crate) fn peek_ahead(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }

    pub(crate) fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    /// An error at the current token, in ArangoDB's words.
    pub fn error(&self, msg: &str) -> ArangoError {
        let t = &self.toks[self.pos];
        parse_error(self.text, msg, t.line, t.col)
    }

    pub(crate) fn expect_op(&mut self, op: &str) -> Result<(), ArangoError> {
        if self.is_op(op) {
            self.next();
            Ok(())
        } else {
            Err(self.error(&format!("syntax error, unexpected {}, expecting {op}", describe(self.peek()))))
        }
    }

    pub fn expect_keyword(&mut self, kw: &str) -> Result<(), ArangoError> {
        if self.is_keyword(kw) {
            self.next();
            Ok(())
        } else {
            Err(self.error(&format!("syntax error, unexpected {}, expecting {kw}", describe(self.peek()))))
        }
    }

    pub fn expect_end(&self) -> Result<(), ArangoError> {
        match self.peek() {
            Tok::Eof => Ok(()),
            t => Err(self.error(&format!("syntax error, unexpected {}, expecting end of query string", describe(t)))),
        }
    }

    pub fn expression(&mut self) -> Result<Expr, ArangoError> {
        self.nested(|p| p.ternary())
    }

    /// One more level in the tree being built, refused past [`TREE_DEPTH_MAX`].
    fn grow(&mut self) -> Result<(), ArangoError> {
        self.tree += 1;
        if self.tree > TREE_DEPTH_MAX {
            return Err(self.error("expression nested too deeply"));
        }
        Ok(())
    }

    /// An expression whose top level does not take `IN` as an operator.
    pub(crate) fn expression_before_in(&mut self) -> Result<Expr, ArangoError> {
        let saved = self.no_in_at.replace(self.depth + 1);
        let e = self.expression();
        self.no_in_at = saved;
        e
    }

    fn ternary(&mut self) -> Result<Expr, ArangoError> {
        let cond = self.binary(0)?;
        if !self.is_op("?") {
            return Ok(cond);
        }
        self.next();
        let middle = if self.is_op(":") { None } else { Some(Box::new(self.expression()?)) };
        self.expect_op(":")?;
        let other = self.expression()?;
        Ok(Expr::Ternary(Box::new(cond), middle, Box::new(other)))
    }

    /// The binary operator at the cursor with its precedence level and width in tokens.
    fn binary_op(&self) -> Option<(BinaryOp, usize, usize)> {
        let kw = |k: &str| self.is_keyword(k);
        let next_kw = |k: &str| matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k));
        Some(match self.peek() {
            Tok::Op("||") => (BinaryOp::Or, 1, 1),
            Tok::Ident(_) if kw("OR") => (BinaryOp::Or, 1, 1),
            Tok::Op("&&") => (BinaryOp::And, 2, 1),
            Tok::Ident(_) if kw("AND") => (BinaryOp::And, 2, 1),
            Tok::Op("==") => (BinaryOp::Eq, 3, 1),
            Tok::Op("!=") => (BinaryOp::Ne, 3, 1),
            Tok::Op("=~") => (BinaryOp::RegexMatch, 3, 1),
            Tok::Op("!~") => (BinaryOp::RegexNotMatch, 3, 1),
            Tok::Ident(_) if kw("LIKE") => (BinaryOp::Like, 3, 1),
            Tok::Ident(_) if kw("NOT") && next_kw("LIKE") => (BinaryOp::NotLike, 3, 2),
            Tok::Ident(_) if kw("IN") && self.no_in_at == Some(self.depth) => return None,
            Tok::Ident(_) if kw("IN") => (BinaryOp::In, 4, 1),
            Tok::Ident(_) if kw("NOT") && next_kw("IN") => (BinaryOp::NotIn, 4, 2),
            Tok::Op("<") => (BinaryOp::Lt, 5, 1),
            Tok::Op("<=") => (BinaryOp::Le, 5, 1),
            Tok::Op(">") => (BinaryOp::Gt, 5, 1),
            Tok::Op(">=") => (BinaryOp::Ge, 5, 1),
            Tok::Op("..") => (BinaryOp::Range, 6, 1),
            Tok::Op("+") => (BinaryOp::Add, 7, 1),
            Tok::Op("-") => (BinaryOp::Sub, 7, 1),
            Tok::Op("*") => (BinaryOp::Mul, 8, 1),
            Tok::Op("/") => (BinaryOp::Div, 8, 1),
            Tok::Op("%") => (BinaryOp::Mod, 8, 1),
            _ => return None,
        })
    }

    fn binary(&mut self, min_level: usize) -> Result<Expr, ArangoError> {
        let tree = self.tree;
        let e = self.binary_chain(min_level);
        self.tree = tree;
        e
    }

    /// Operators folded to the left; each fold makes the tree one level deeper.
    fn binary_chain(&mut self, min_level: usize) -> Result<Expr, ArangoError> {
        let mut left = self.unary()?;
        loop {
            if ARRAY_COMPARISON_LEVEL > min_level && self.at_array_comparison() {
                let quantifier = self.quantifier_keyword()?.unwrap_or(Quantifier::Any);
                let Some((op, level, width)) = self.binary_op().filter(|(op, ..)| op.is_comparison()) else {
                    return Err(self.error(&format!("syntax error, unexpected {}, expecting comparison operator", describe(self.peek()))));
                };
                for _ in 0..width {
                    self.next();
                }
                self.grow()?;
                let rhs = self.binary(level)?;
                left = Expr::ArrayCompare { quantifier, op, lhs: Box::new(left), rhs: Box::new(rhs) };
                continue;
            }
            let Some((op, level, width)) = self.binary_op() else { break };
            if level <= min_level {
                break;
            }
            for _ in 0..width {
                self.next();
            }
            self.grow()?;
            let right = self.binary(level)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ArangoError> {
        let op = match self.peek() {
            Tok::Op("!") => Some(UnaryOp::Not),
            Tok::Op("-") => Some(UnaryOp::Neg),
            Tok::Op("+") => Some(UnaryOp::Plus),
            Tok::Ident(_) if self.is_keyword("NOT") => Some(UnaryOp::Not),
            _ => None,
        };
        if let Some(op) = op {
            self.next();
            let operand = self.nested(|p| p.unary())?;
            // Fold negative number literals, as ArangoDB does.
            return Ok(match (op, operand) {
                (UnaryOp::Neg, Expr::Value(Value::Number(n))) => Expr::Value(number(-n.as_f64().unwrap_or(0.0))),
                (op, operand) => Expr::Unary(op, Box::new(operand)),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ArangoError> {
        let e = self.primary()?;
        self.postfix_ops(e)
    }

    /// Attribute and index access, expansions and question marks after `e`.
    fn postfix_ops(&mut self, e: Expr) -> Result<Expr, ArangoError> {
        let tree = self.tree;
        let e = self.postfix_chain(e);
        self.tree = tree;
        e
    }

    fn postfix_chain(&mut self, mut e: Expr) -> Result<Expr, ArangoError> {
        loop {
            if self.is_op(".") || self.is_op("[") {
                self.grow()?;
            }
            if self.is_op(".") {
                self.next();
                match self.next() {
                    Tok::Ident(name) | Tok::Str(name) => e = Expr::Attr(Box::new(e), name),
                    Tok::Bind(name) => e = Expr::Index(Box::new(e), Box::new(Expr::Bind(name))),
                    t => return Err(self.error(&format!("syntax error, unexpected {}, expecting attribute name", describe(&t)))),
                }
            } else if self.is_op("[") {
                match self.toks.get(self.pos + 1).map(|t| &t.tok) {
                    Some(Tok::Op("*")) => return self.nested(|p| p.expansion(e)),
                    Some(Tok::Op("?")) => e = self.nested(|p| p.question(e))?,
                    _ => {
                        self.next();
                        let index = self.expression()?;
                        self.expect_op("]")?;
                        e = Expr::Index(Box::new(e), Box::new(index));
                    }
                }
            } else {
                return Ok(e);
            }
        }
    }

    /// Runs `f` one nesting level deeper, refusing input nested too deeply.
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<Expr, ArangoError>) -> Result<Expr, ArangoError> {
        self.depth += 1;
        if self.depth > NESTING_MAX {
            return Err(self.error("expression nested too deeply"));
        }
        let tree = self.tree;
        let e = self.grow().and_then(|_| f(self));
        self.depth -= 1;
        self.tree = tree;
        e
    }

    /// `base[* FILTER … LIMIT … RETURN …]` and the path after it (the cursor is on `[`).
    fn expansion(&mut self, base: Expr) -> Result<Expr, ArangoError> {
        self.next();
        let mut levels = 0;
        while self.is_op("*") {
            self.next();
            levels += 1;
        }
        let filter = self.inline_keyword("FILTER")?;
        let limit = match self.inline_keyword("LIMIT")? {
            Some(first) if self.is_op(",") => {
                self.next();
                Some((first, self.expression()?))
            }
            Some(count) => Some((Expr::Value(json!(0)), count)),
            None => None,
        };
        let ret = self.inline_keyword("RETURN")?;
        self.expect_op("]")?;
        let current = Expr::Var(CURRENT.into());
        let project = Some(self.postfix_ops(current.clone())?).filter(|p| *p != current);
        Ok(Expr::Expand(Box::new(Expansion { base, levels, filter, limit, ret, project })))
    }

    /// `base[? quantifier FILTER …]` (the cursor is on `[`).
    fn question(&mut self, base: Expr) -> Result<Expr, ArangoError> {
        self.next();
        self.next();
        let quantifier = if self.is_op("]") || self.is_keyword("FILTER") {
            Quantifier::Any
        } else if let Some(q) = self.quantifier_keyword()? {
            q
        } else {
            match self.binary(0)? {
                Expr::Binary(BinaryOp::Range, low, high) => Quantifier::Between(low, high),
                n => Quantifier::Exactly(Box::new(n)),
            }
        };
        let filter = self.inline_keyword("FILTER")?.map(Box::new);
        self.expect_op("]")?;
        Ok(Expr::Question { base: Box::new(base), quantifier, filter })
    }

    /// `KEYWORD expression` inside an expansion, when the keyword is next.
    fn inline_keyword(&mut self, kw: &str) -> Result<Option<Expr>, ArangoError> {
        if !self.is_keyword(kw) {
            return Ok(None);
        }
        self.next();
        self.expression().map(Some)
    }

    /// `ALL`, `ANY`, `NONE` or `AT LEAST (n)` at the cursor, consumed.
    fn quantifier_keyword(&mut self) -> Result<Option<Quantifier>, ArangoError> {
        let q = if self.is_keyword("ALL") {
            Quantifier::All
        } else if self.is_keyword("ANY") {
            Quantifier::Any
        } else if self.is_keyword("NONE") {
            Quantifier::None
        } else if self.is_keyword("AT") && self.next_is_keyword("LEAST") {
            self.next();
            self.next();
            self.expect_op("(")?;
            let n = self.expression()?;
            self.expect_op(")")?;
            return Ok(Some(Quantifier::AtLeast(Box::new(n))));
        } else {
            return Ok(None);
        };
        self.next();
        Ok(Some(q))
    }

    fn next_is_keyword(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    /// Whether an array comparison (`ALL ==`, `ANY IN`, `NONE <`, `AT LEAST (n) IN`) starts at
    /// the cursor.
    fn at_array_comparison(&self) -> bool {
        let comparison_at = |i: usize| match self.toks.get(i).map(|t| &t.tok) {
            Some(Tok::Op(o)) => ["==", "!=", "<", "<=", ">", ">="].contains(o),
            Some(Tok::Ident(s)) => s.eq_ignore_ascii_case("IN") || s.eq_ignore_ascii_case("NOT"),
            _ => false,
        };
        (["ALL", "ANY", "NONE"].iter().any(|k| self.is_keyword(k)) && comparison_at(self.pos + 1))
            || (self.is_keyword("AT") && self.next_is_keyword("LEAST"))
    }

    fn primary(&mut self) -> Result<Expr, ArangoError> {
        match self.next() {
            Tok::Num(n) => Ok(Expr::Value(number(n))),
            Tok::Str(s) => Ok(Expr::Value(Value::String(s))),
            Tok::Bind(name) => Ok(Expr::Bind(name)),
            Tok::BindCollection(name) => Ok(Expr::BindCollection(name)),
            Tok::Op("(") => {
                // A parenthesised query is a subquery.
                if crate::query::starts_operation(self.peek()) {
                    let q = self.query_body()?;
                    self.expect_op(")")?;
                    return Ok(Expr::Subquery(Box::new(q)));
                }
                let e = self.expression()?;
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.is_op("]") {
                    items.push(self.expression()?);
                    if !self.is_op("]") {
                        self.expect_op(",")?;
                    }
                }
                self.next();
                Ok(Expr::Array(items))
            }
            Tok::Op("{") => self.object(),
            Tok::Ident(name) => {
                if self.is_op("(") {
                    self.next();
                    let mut args = Vec::new();
                    while !self.is_op(")") {
                        // A function argument may be a query without parentheses of its own.
                        if crate::query::starts_operation(self.peek()) {
                            let q = self.nested(|p| p.query_body().map(|q| Expr::Subquery(Box::new(q))))?;
                            args.push(q);
                        } else {
                            args.push(self.expression()?);
                        }
                        if !self.is_op(")") {
                            self.expect_op(",")?;
                        }
                    }
                    self.next();
                    return Ok(Expr::Call(name.to_ascii_uppercase(), args));
                }
                Ok(match name.to_ascii_uppercase().as_str() {
                    "TRUE" => Expr::Value(Value::Bool(true)),
                    "FALSE" => Expr::Value(Value::Bool(false)),
                    "NULL" => Expr::Value(Value::Null),
                    _ => Expr::Var(name),
                })
            }
            t => {
                self.pos = self.pos.saturating_sub(1);
                Err(self.error(&format!("syntax error, unexpected {}", describe(&t))))
            }
        }
    }

    fn object(&mut self) -> Result<Expr, ArangoError> {
        let mut members = Vec::new();
        while !self.is_op("}") {
            let key = match self.next() {
                Tok::Ident(name) if !self.is_op(":") => {
                    // Shorthand `{ a }` means `{ a: a }`.
                    members.push((ObjectKey::Name(name.clone()), Expr::Var(name)));
                    if !self.is_op("}") {
                        self.expect_op(",")?;
                    }
                    continue;
                }
                Tok::Ident(name) | Tok::Str(name) => ObjectKey::Name(name),
                Tok::Num(n) => ObjectKey::Name(number(n).to_string()),
                Tok::Bind(b) => ObjectKey::Computed(Expr::Bind(b)),
                Tok::Op("[") => {
                    let e = self.expression()?;
                    self.expect_op("]")?;
                    ObjectKey::Computed(e)
                }
                t => return Err(self.error(&format!("syntax error, unexpected {}, expecting attribute name", describe(&t)))),
            };
            self.expect_op(":")?;
            members.push((key, self.expression()?));
            if !self.is_op("}") {
                self.expect_op(",")?;
            }
        }
        self.next();
        Ok(Expr::Object(members))
    }
}

/// A number literal as JSON: integers stay integers.
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

pub(crate) fn describe(t: &Tok) -> String {
    match t {
        Tok::Eof => "end of query string".into(),
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("quoted string \"{s}\""),
        Tok::Ident(s) => format!("identifier '{s}'"),
        Tok::Bind(s) => format!("bind parameter '@{s}'"),
        Tok::BindCollection(s) => format!("bind parameter '@@{s}'"),
        Tok::Op(o) => format!("'{o}'"),
    }
}

/// ArangoDB's parse error: the message, the text near the position, and `line:column`.
fn parse_error(text: &str, msg: &str, line: usize, col: usize) -> ArangoError {
    let offset: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum::<usize>();
    let near: String = text.get(offset..).unwrap_or("").chars().skip(col.saturating_sub(1)).take(32).collect();
    err!(ERROR_QUERY_PARSE, "{msg} near '{near}' at position {line}:{col}")
}
