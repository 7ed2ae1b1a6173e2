//! AQL statements: a query is a sequence of operations (`FOR`, `LET`, `FILTER`, `SORT`,
//! `LIMIT`, `COLLECT`, the modifications) ending in `RETURN` or a modification. This is the
//! parser's output; planning and execution build on it.

use errors::ArangoError;

use crate::ast::Expr;
use crate::lexer::Tok;
use crate::parser::{describe, Parser};

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// Collections declared with `WITH` (for traversals).
    pub with: Vec<String>,
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `FOR var IN source [OPTIONS {…}]`; the source is a collection (a name or `@@bind`)
    /// or an expression giving an array.
    For { var: String, source: Expr, options: Option<Expr> },
    Let { var: String, expr: Expr },
    Filter(Expr),
    /// `SORT expr [ASC|DESC], …`; `true` is ascending.
    Sort(Vec<(Expr, bool)>),
    /// `LIMIT [offset,] count`.
    Limit { offset: Expr, count: Expr },
    Collect(Collect),
    Insert { doc: Expr, collection: Expr, options: Option<Expr> },
    Update { key: Expr, with: Option<Expr>, collection: Expr, options: Option<Expr> },
    Replace { key: Expr, with: Option<Expr>, collection: Expr, options: Option<Expr> },
    Remove { key: Expr, collection: Expr, options: Option<Expr> },
    Upsert { search: Expr, insert: Expr, update: Expr, replace: bool, collection: Expr, options: Option<Expr> },
    Return { distinct: bool, expr: Expr },
    /// A graph traversal or path search (`FOR v, e, p IN 1..3 OUTBOUND start edges`, `…
    /// SHORTEST_PATH a TO b GRAPH 'g'`). Parsed and checked now; the graph issue runs them.
    Traverse(Box<Traversal>),
    /// `WINDOW { preceding, following } AGGREGATE …` over rows, or `WINDOW value WITH {…}
    /// AGGREGATE …` over a range of values.
    Window { range: Option<Expr>, bounds: Expr, aggregates: Vec<(String, Expr)> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Traversal {
    /// The vertex, edge and path variables (one to three; path searches bind one or two).
    pub vars: Vec<String>,
    /// `TRAVERSAL`, `SHORTEST_PATH`, `K_SHORTEST_PATHS`, `K_PATHS` or `ALL_SHORTEST_PATHS`.
    pub kind: &'static str,
    /// `min..max` or a depth before the direction.
    pub depth: Option<Expr>,
    /// `OUTBOUND`, `INBOUND` or `ANY`.
    pub direction: &'static str,
    pub start: Expr,
    /// `TO target` of path searches.
    pub target: Option<Expr>,
    /// Edge collections, each with its own direction if it has one; empty with `GRAPH`.
    pub edge_collections: Vec<(Option<&'static str>, Expr)>,
    pub graph: Option<Expr>,
    /// `PRUNE [var =] condition`.
    pub prune: Option<(Option<String>, Expr)>,
    pub options: Option<Expr>,
}

const DIRECTIONS: [&str; 3] = ["OUTBOUND", "INBOUND", "ANY"];
const PATH_SEARCHES: [&str; 4] = ["SHORTEST_PATH", "K_SHORTEST_PATHS", "K_PATHS", "ALL_SHORTEST_PATHS"];

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Collect {
    pub groups: Vec<(String, Expr)>,
    pub aggregates: Vec<(String, Expr)>,
    /// `INTO var [= expr]`.
    pub into: Option<(String, Option<Expr>)>,
    pub keep: Vec<String>,
    /// `WITH COUNT INTO var`.
    pub count_into: Option<String>,
    pub options: Option<Expr>,
}

impl Collect {
    /// Whether the COLLECT keeps only its groups, not the rows in them (no `INTO`, no `KEEP`).
    pub fn streams(&self) -> bool {
        self.into.is_none() && self.keep.is_empty()
    }

    /// Whether the COLLECT takes whole rows, every variable in them (`INTO var` without an
    /// expression, or `KEEP`).
    pub fn takes_rows(&self) -> bool {
        self.into.as_ref().is_some_and(|(_, e)| e.is_none()) || !self.keep.is_empty()
    }
}

const OPERATIONS: &[&str] =
    &["FOR", "LET", "FILTER", "SORT", "LIMIT", "COLLECT", "INSERT", "UPDATE", "REPLACE", "REMOVE", "UPSERT", "RETURN", "WITH", "WINDOW"];

/// Whether a token starts an operation (so `(` opens a subquery, not an expression).
pub fn starts_operation(t: &Tok) -> bool {
    matches!(t, Tok::Ident(s) if OPERATIONS.iter().any(|k| s.eq_ignore_ascii_case(k)))
}

/// Parses a whole query.
pub fn parse_query(text: &str) -> Result<Query, ArangoError> {
    let mut p = Parser::new(text)?;
    let q = p.query_body()?;
    p.expect_end()?;
    Ok(q)
}

impl Parser<'_> {
    fn keyword(&self) -> Option<String> {
        match self.peek() {
            Tok::Ident(s) => Some(s.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn variable(&mut self) -> Result<String, ArangoError> {
        match self.next() {
            Tok::Ident(name) if !starts_operation(&Tok::Ident(name.clone())) => Ok(name),
            t => Err(self.error(&format!("syntax error, unexpected {}, expecting variable name", describe(&t)))),
        }
    }

    fn options(&mut self) -> Result<Option<Expr>, ArangoError> {
        if self.is_keyword("OPTIONS") {
            self.next();
            return Ok(Some(self.expression()?));
        }
        Ok(None)
    }

    /// `IN|INTO collection`: a name or `@@bind`.
    fn collection(&mut self) -> Result<Expr, ArangoError> {
        if !(self.is_keyword("IN") || self.is_keyword("INTO")) {
            return Err(self.error(&format!("syntax error, unexpected {}, expecting IN or INTO", describe(self.peek()))));
        }
        self.next();
        match self.next() {
            Tok::Ident(name) => Ok(Expr::Var(name)),
            Tok::Str(name) => Ok(Expr::Var(name)),
            Tok::BindCollection(name) => Ok(Expr::BindCollection(name)),
            Tok::Bind(name) => Ok(Expr::Bind(name)),
            t => Err(self.error(&format!("syntax error, unexpected {}, expecting collection name", describe(&t)))),
        }
    }

    /// The operations of a query or subquery, up to and including the last `RETURN` or
    /// modification.
    #[inline(never)]
    pub(crate) fn query_body(&mut self) -> Result<Query, ArangoError> {
        let mut q = Query { with: Vec::new(), ops: Vec::new() };
        if self.is_keyword("WITH") {
            self.next();
            loop {
                match self.next() {
                    Tok::Ident(n) | Tok::Str(n) => q.with.push(n),
                    t => return Err(self.error(&format!("syntax error, unexpected {}, expecting collection name", describe(&t)))),
                }
                if !self.is_op(",") {
                    break;
                }
                self.next();
            }
        }
        while let Some(kw) = self.keyword() {
            let op = match kw.as_str() {
                "FOR" => {
                    self.next();
                    let mut vars = vec![self.variable()?];
                    while self.is_op(",") && vars.len() < 3 {
                        self.next();
                        vars.push(self.variable()?);
                    }
                    self.expect_keyword("IN")?;
                    let depth = if self.direction_keyword().is_some() { None } else { Some(self.expression()?) };
                    if self.direction_keyword().is_some() {
                        Op::Traverse(Box::new(self.traversal(vars, depth)?))
                    } else if vars.len() > 1 {
                        return Err(self.error(&format!("syntax error, unexpected {}, expecting OUTBOUND, INBOUND or ANY", describe(self.peek()))));
                    } else {
                        let source = depth.unwrap_or(Expr::Value(serde_json::Value::Null));
                        Op::For { var: vars.remove(0), source, options: self.options()? }
                    }
                }
                "WINDOW" => {
                    self.next();
                    let range = if self.is_op("{") { None } else { Some(self.expression()?) };
                    if range.is_some() {
                        self.expect_keyword("WITH")?;
                    }
                    let bounds = self.expression()?;
                    self.expect_keyword("AGGREGATE")?;
                    let mut aggregates = Vec::new();
                    loop {
                        let var = self.variable()?;
                        self.expect_op("=")?;
                        aggregates.push((var, self.expression()?));
                        if !self.is_op(",") {
                            break;
                        }
                        self.next();
                    }
                    Op::Window { range, bounds, aggregates }
                }
                "LET" => {
                    self.next();
                    let var = self.variable()?;
                    self.expect_op("=")?;
                    Op::Let { var, expr: self.expression()? }
                }
                "FILTER" => {
                    self.next();
                    Op::Filter(self.expression()?)
                }
                "SORT" => {
                    self.next();
                    let mut keys = Vec::new();
                    loop {
                        let e = self.expression()?;
                        let asc = if self.is_keyword("DESC") {
                            self.next();
                            false
                        } else {
                            if self.is_keyword("ASC") {
                                self.next();
                            }
                            true
                        };
                        keys.push((e, asc));
                        if !self.is_op(",") {
                            break;
                        }
                        self.next();
                    }
                    Op::Sort(keys)
                }
                "LIMIT" => {
                    self.next();
                    let first = self.expression()?;
                    if self.is_op(",") {
                        self.next();
                        Op::Limit { offset: first, count: self.expression()? }
                    } else {
                        Op::Limit { offset: Expr::Value(0.into()), count: first }
                    }
                }
                "COLLECT" => {
                    self.next();
                    Op::Collect(self.collect()?)
                }
                "INSERT" => {
                    self.next();
                    let doc = self.expression_before_in()?;
                    let collection = self.collection()?;
                    Op::Insert { doc, collection, options: self.options()? }
                }
                "UPDATE" | "REPLACE" => {
                    self.next();
                    let first = self.expression_before_in()?;
                    let (key, with) = if self.is_keyword("WITH") {
                        self.next();
                        (first, Some(self.expression_before_in()?))
                    } else {
                        (first, None)
                    };
                    let collection = self.collection()?;
                    let options = self.options()?;
                    if kw == "UPDATE" {
                        Op::Update { key, with, collection, options }
                    } else {
                        Op::Replace { key, with, collection, options }
                    }
                }
                "REMOVE" => {
                    self.next();
                    let key = self.expression_before_in()?;
                    let collection = self.collection()?;
                    Op::Remove { key, collection, options: self.options()? }
                }
                "UPSERT" => {
                    self.next();
                    let search = self.expression()?;
                    self.expect_keyword("INSERT")?;
                    let insert = self.expression()?;
                    let replace = if self.is_keyword("REPLACE") {
                        true
                    } else {
                        self.expect_keyword("UPDATE")?;
                        false
                    };
                    if replace {
                        self.next();
                    }
                    let update = self.expression_before_in()?;
                    let collection = self.collection()?;
                    Op::Upsert { search, insert, update, replace, collection, options: self.options()? }
                }
                "RETURN" => {
                    self.next();
                    let distinct = if self.is_keyword("DISTINCT") {
                        self.next();
                        true
                    } else {
                        false
                    };
                    q.ops.push(Op::Return { distinct, expr: self.expression()? });
                    return Ok(q);
                }
                _ => break,
            };
            q.ops.push(op);
        }
        match q.ops.last() {
            Some(Op::Insert { .. } | Op::Update { .. } | Op::Replace { .. } | Op::Remove { .. } | Op::Upsert { .. }) => Ok(q),
            _ => Err(self.error(&format!("syntax error, unexpected {}, expecting RETURN or a data-modification operation", describe(self.peek())))),
        }
    }

    fn direction_keyword(&self) -> Option<&'static str> {
        DIRECTIONS.into_iter().find(|d| self.is_keyword(d))
    }

    /// The rest of `FOR vars IN [depth] DIRECTION …` (the cursor is on the direction).
    fn traversal(&mut self, vars: Vec<String>, depth: Option<Expr>) -> Result<Traversal, ArangoError> {
        let direction = self.direction_keyword().unwrap_or("OUTBOUND");
        self.next();
        let kind = match PATH_SEARCHES.into_iter().find(|k| self.is_keyword(k)) {
            Some(k) => {
                self.next();
                k
            }
            None => "TRAVERSAL",
        };
        let max_vars = match kind {
            "TRAVERSAL" => 3,
            "SHORTEST_PATH" => 2,
            _ => 1,
        };
        if vars.len() > max_vars {
            return Err(self.error(&format!("{kind} binds at most {max_vars} variable(s), the query names {}", vars.len())));
        }
        let start = self.expression()?;
        let target = if kind == "TRAVERSAL" {
            None
        } else {
            self.expect_keyword("TO")?;
            Some(self.expression()?)
        };
        let mut t = Traversal { vars, kind, depth, direction, start, target, edge_collections: Vec::new(), graph: None, prune: None, options: None };
        if self.is_keyword("GRAPH") {
            self.next();
            t.graph = Some(self.primary_name()?);
        } else {
            loop {
                let dir = self.direction_keyword();
                if dir.is_some() {
                    self.next();
                }
                t.edge_collections.push((dir, self.primary_name()?));
                if !self.is_op(",") {
                    break;
                }
                self.next();
            }
        }
        if self.is_keyword("PRUNE") {
            self.next();
            let var = match (self.peek(), self.peek_ahead(1)) {
                (Tok::Ident(_), Some(Tok::Op("="))) => {
                    let v = self.variable()?;
                    self.next();
                    Some(v)
                }
                _ => None,
            };
            t.prune = Some((var, self.expression()?));
        }
        t.options = self.options()?;
        Ok(t)
    }

    /// A collection or graph name: an identifier, a string, or a bind parameter.
    fn primary_name(&mut self) -> Result<Expr, ArangoError> {
        match self.next() {
            Tok::Ident(name) | Tok::Str(name) => Ok(Expr::Var(name)),
            Tok::BindCollection(name) => Ok(Expr::BindCollection(name)),
            Tok::Bind(name) => Ok(Expr::Bind(name)),
            t => Err(self.error(&format!("syntax error, unexpected {}, expecting collection or graph name", describe(&t)))),
        }
    }

    fn collect(&mut self) -> Result<Collect, ArangoError> {
        let mut c = Collect::default();
        let assignments = |p: &mut Parser, out: &mut Vec<(String, Expr)>| -> Result<(), ArangoError> {
            loop {
                let var = p.variable()?;
                p.expect_op("=")?;
                out.push((var, p.expression()?));
                if !p.is_op(",") {
                    return Ok(());
                }
                p.next();
            }
        };
        if !(self.is_keyword("AGGREGATE") || self.is_keyword("INTO") || self.is_keyword("WITH")) {
            assignments(self, &mut c.groups)?;
        }
        if self.is_keyword("AGGREGATE") {
            self.next();
            assignments(self, &mut c.aggregates)?;
        }
        if self.is_keyword("WITH") {
            self.next();
            self.expect_keyword("COUNT")?;
            self.expect_keyword("INTO")?;
            c.count_into = Some(self.variable()?);
        } else if self.is_keyword("INTO") {
            self.next();
            let var = self.variable()?;
            let projection = if self.is_op("=") {
                self.next();
                Some(self.expression()?)
            } else {
                None
            };
            c.into = Some((var, projection));
            if self.is_keyword("KEEP") {
                self.next();
                loop {
                    c.keep.push(self.variable()?);
                    if !self.is_op(",") {
                        break;
                    }
                    self.next();
                }
            }
        }
        c.options = self.options()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(q: &str) -> Vec<&'static str> {
        parse_query(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .ops
            .iter()
            .map(|o| match o {
                Op::For { .. } => "FOR",
                Op::Let { .. } => "LET",
                Op::Filter(_) => "FILTER",
                Op::Sort(_) => "SORT",
                Op::Limit { .. } => "LIMIT",
                Op::Collect(_) => "COLLECT",
                Op::Insert { .. } => "INSERT",
                Op::Update { .. } => "UPDATE",
                Op::Replace { .. } => "REPLACE",
                Op::Remove { .. } => "REMOVE",
                Op::Upsert { .. } => "UPSERT",
                Op::Return { .. } => "RETURN",
                Op::Traverse(_) => "TRAVERSE",
                Op::Window { .. } => "WINDOW",
            })
            .collect()
    }

    #[test]
    fn statements_parse() {
        assert_eq!(
            ops("FOR doc IN c FILTER doc.value % 2 == 0 SORT doc.value ASC LIMIT 10 RETURN doc"),
            ["FOR", "FILTER", "SORT", "LIMIT", "RETURN"]
        );
        assert_eq!(ops("RETURN 1"), ["RETURN"]);
        assert_eq!(ops("FOR i IN 1..3 LET x = i * 2 RETURN DISTINCT x"), ["FOR", "LET", "RETURN"]);
        assert_eq!(ops("FOR d IN @@col LIMIT 0, null RETURN d"), ["FOR", "LIMIT", "RETURN"]);
        assert_eq!(ops("FOR d IN c COLLECT g = d.group WITH COUNT INTO n RETURN {g, n}"), ["FOR", "COLLECT", "RETURN"]);
        assert_eq!(ops("FOR d IN c COLLECT AGGREGATE m = MAX(d.v) RETURN m"), ["FOR", "COLLECT", "RETURN"]);
        assert_eq!(ops("FOR d IN c COLLECT g = d.g INTO items = d.name KEEP d RETURN items"), ["FOR", "COLLECT", "RETURN"]);
        assert_eq!(ops("INSERT {a: 1} INTO c OPTIONS {waitForSync: true}"), ["INSERT"]);
        assert_eq!(ops("FOR d IN c UPDATE d WITH {x: 1} IN c RETURN NEW"), ["FOR", "UPDATE", "RETURN"]);
        assert_eq!(ops("FOR d IN c REPLACE d._key WITH {x: 1} IN c"), ["FOR", "REPLACE"]);
        assert_eq!(ops("FOR d IN c REMOVE d IN c"), ["FOR", "REMOVE"]);
        assert_eq!(ops("UPSERT {k: 1} INSERT {k: 1, n: 1} UPDATE {n: OLD.n + 1} IN c RETURN NEW"), ["UPSERT", "RETURN"]);
        assert_eq!(ops("WITH a, b FOR x IN a RETURN x"), ["FOR", "RETURN"]);
        // IN inside brackets is still the operator.
        assert_eq!(ops("FOR d IN c INSERT {ok: (d.x IN [1, 2])} INTO other"), ["FOR", "INSERT"]);
        // Subqueries are expressions.
        let q = parse_query("LET s = (FOR x IN [1, 2] RETURN x * 2) RETURN LENGTH(s)").unwrap();
        assert!(matches!(&q.ops[0], Op::Let { expr: Expr::Subquery(_), .. }));
    }

    #[test]
    fn bad_queries_give_1501_with_position() {
        for bad in ["FOR x IN c", "FOR IN c RETURN 1", "RETURN", "FILTER true", "FOR x IN c SORT RETURN x", "INSERT {} c", "RETURN 1 RETURN 2", "COLLECT WITH COUNT x RETURN 1"] {
            let e = parse_query(bad).unwrap_err();
            assert_eq!(e.code.0, 1501, "{bad}: {e}");
            assert!(e.message.contains("at position"), "{bad}: {}", e.message);
        }
    }
}
