//! A Pratt parser for AQL expressions, with ArangoDB's operator precedence (lowest first):
//! `?:`, `||`, `&&`, `== != LIKE =~ !~`, `IN NOT IN`, `< <= > >=`, `..`, `+ -`, `* / %`,
//! unary `! - + NOT`, then member access and calls.

use errors::{err, ArangoError, ERROR_QUERY_PARSE};
use serde_json::{json, Value};

use crate::ast::{BinaryOp, Expr, ObjectKey, UnaryOp};
use crate::lexer::{lex, Tok, Token};

/// Deepest nesting of expressions accepted, so hostile input cannot overflow the stack.
const NESTING_MAX: usize = 100;

pub struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// At this nesting depth `IN` is not an operator (it names a collection, as in
    /// `INSERT doc IN coll`).
    no_in_at: Option<usize>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Result<Parser<'a>, ArangoError> {
        let toks = lex(text).map_err(|(msg, line, col)| parse_error(text, &msg, line, col))?;
        Ok(Parser { text, toks, pos: 0, depth: 0, no_in_at: None })
    }

    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
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
        self.depth += 1;
        if self.depth > NESTING_MAX {
            return Err(self.error("expression nested too deeply"));
        }
        let e = self.ternary();
        self.depth -= 1;
        e
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
        let mut left = self.unary()?;
        while let Some((op, level, width)) = self.binary_op() {
            if level <= min_level {
                break;
            }
            for _ in 0..width {
                self.next();
            }
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
            self.depth += 1;
            if self.depth > NESTING_MAX {
                return Err(self.error("expression nested too deeply"));
            }
            let operand = self.unary()?;
            self.depth -= 1;
            // Fold negative number literals, as ArangoDB does.
            return Ok(match (op, operand) {
                (UnaryOp::Neg, Expr::Value(Value::Number(n))) => Expr::Value(number(-n.as_f64().unwrap_or(0.0))),
                (op, operand) => Expr::Unary(op, Box::new(operand)),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ArangoError> {
        let mut e = self.primary()?;
        loop {
            if self.is_op(".") {
                self.next();
                match self.next() {
                    Tok::Ident(name) | Tok::Str(name) => e = Expr::Attr(Box::new(e), name),
                    Tok::Bind(name) => e = Expr::Index(Box::new(e), Box::new(Expr::Bind(name))),
                    t => return Err(self.error(&format!("syntax error, unexpected {}, expecting attribute name", describe(&t)))),
                }
            } else if self.is_op("[") {
                self.next();
                let index = self.expression()?;
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
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
                        args.push(self.expression()?);
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
