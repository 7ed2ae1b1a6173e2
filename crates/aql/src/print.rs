//! Expressions written out the two ways ArangoDB shows them: as AQL text the way its explain
//! output prints it (`((doc.`value` % 2) == 0)`), and as its AST JSON (`{"type": "compare ==",
//! "subNodes": [...]}`), as `POST /_api/query` and `POST /_api/explain` return it.

use serde_json::{json, Value};

use crate::ast::{BinaryOp, Expansion, Expr, ObjectKey, Quantifier, UnaryOp, CURRENT};

/// The AQL text of an expression, fully parenthesised, attribute names in backticks.
pub fn aql(e: &Expr) -> String {
    match e {
        Expr::Value(v) => v.to_string(),
        Expr::Array(items) => format!("[ {} ]", items.iter().map(aql).collect::<Vec<_>>().join(", ")),
        Expr::Object(members) => {
            let m: Vec<String> = members
                .iter()
                .map(|(k, v)| match k {
                    ObjectKey::Name(n) => format!("{} : {}", Value::String(n.clone()), aql(v)),
                    ObjectKey::Computed(k) => format!("[ {} ] : {}", aql(k), aql(v)),
                })
                .collect();
            format!("{{ {} }}", m.join(", "))
        }
        Expr::Var(n) => n.clone(),
        Expr::Bind(n) => format!("@{n}"),
        Expr::BindCollection(n) => format!("@@{n}"),
        Expr::Subquery(_) => "(subquery)".into(),
        Expr::Attr(base, name) => format!("{}.`{name}`", aql(base)),
        Expr::Index(base, index) => format!("{}[{}]", aql(base), aql(index)),
        Expr::Call(name, args) => format!("{name}({})", args.iter().map(aql).collect::<Vec<_>>().join(", ")),
        Expr::Unary(op, o) => format!("{}{}", unary_symbol(*op), aql(o)),
        Expr::Binary(op, l, r) => format!("({} {} {})", aql(l), binary_symbol(*op), aql(r)),
        Expr::Ternary(c, m, o) => match m {
            Some(m) => format!("({} ? {} : {})", aql(c), aql(m), aql(o)),
            None => format!("({} ?: {})", aql(c), aql(o)),
        },
        Expr::Expand(x) => {
            let mut s = format!("{}[{}", aql(&x.base), "*".repeat(x.levels.max(1)));
            if let Some(f) = &x.filter {
                s += &format!(" FILTER {}", aql(f));
            }
            if let Some((o, c)) = &x.limit {
                s += &format!(" LIMIT {}, {}", aql(o), aql(c));
            }
            if let Some(r) = &x.ret {
                s += &format!(" RETURN {}", aql(r));
            }
            s.push(']');
            if let Some(p) = &x.project {
                s += aql(p).strip_prefix(CURRENT).unwrap_or("");
            }
            s
        }
        Expr::Question { base, quantifier, filter } => {
            let f = filter.as_ref().map(|f| format!(" FILTER {}", aql(f))).unwrap_or_default();
            format!("{}[? {}{f}]", aql(base), quantifier_text(quantifier))
        }
        Expr::ArrayCompare { quantifier, op, lhs, rhs } => {
            format!("({} {} {} {})", aql(lhs), quantifier_text(quantifier), binary_symbol(*op), aql(rhs))
        }
    }
}

fn quantifier_text(q: &Quantifier) -> String {
    match q {
        Quantifier::All => "ALL".into(),
        Quantifier::Any => "ANY".into(),
        Quantifier::None => "NONE".into(),
        Quantifier::AtLeast(n) => format!("AT LEAST ({})", aql(n)),
        Quantifier::Exactly(n) => aql(n),
        Quantifier::Between(a, b) => format!("{}..{}", aql(a), aql(b)),
    }
}

fn unary_symbol(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Not => "! ",
        UnaryOp::Neg => "- ",
        UnaryOp::Plus => "+ ",
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "||",
        BinaryOp::And => "&&",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::In => "IN",
        BinaryOp::NotIn => "NOT IN",
        BinaryOp::Like => "LIKE",
        BinaryOp::NotLike => "NOT LIKE",
        BinaryOp::RegexMatch => "=~",
        BinaryOp::RegexNotMatch => "!~",
        BinaryOp::Range => "..",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
    }
}

/// ArangoDB's AST JSON of an expression. `var_id` gives the id of a variable in scope; a
/// name that is not one is a collection.
pub fn ast(e: &Expr, var_id: &dyn Fn(&str) -> Option<u64>) -> Value {
    let node = |t: &str, subs: Vec<Value>| json!({"type": t, "subNodes": subs});
    let subs = |es: &[&Expr]| es.iter().map(|e| ast(e, var_id)).collect::<Vec<_>>();
    match e {
        Expr::Value(v) => json!({"type": "value", "value": v}),
        Expr::Array(items) => node("array", items.iter().map(|i| ast(i, var_id)).collect()),
        Expr::Object(members) => node(
            "object",
            members
                .iter()
                .map(|(k, v)| match k {
                    ObjectKey::Name(n) => json!({"type": "object element", "name": n, "subNodes": [ast(v, var_id)]}),
                    ObjectKey::Computed(k) => node("calculated object element", subs(&[k, v])),
                })
                .collect(),
        ),
        Expr::Var(n) => match var_id(n) {
            Some(id) => json!({"type": "reference", "name": n, "id": id}),
            None => json!({"type": "collection", "name": n}),
        },
        Expr::Bind(n) => json!({"type": "parameter", "name": n}),
        Expr::BindCollection(n) => json!({"type": "datasource parameter", "name": n}),
        Expr::Subquery(_) => node("subquery", Vec::new()),
        Expr::Attr(base, name) => json!({"type": "attribute access", "name": name, "subNodes": [ast(base, var_id)]}),
        Expr::Index(base, index) => node("indexed access", subs(&[base, index])),
        Expr::Call(name, args) => json!({"type": "function call", "name": name, "subNodes": [node("array", args.iter().map(|a| ast(a, var_id)).collect())]}),
        Expr::Unary(op, o) => node(
            match op {
                UnaryOp::Not => "unary not",
                UnaryOp::Neg => "unary minus",
                UnaryOp::Plus => "unary plus",
            },
            subs(&[o]),
        ),
        Expr::Binary(op, l, r) => match op {
            // ArangoDB turns these operators into function calls.
            BinaryOp::Like | BinaryOp::RegexMatch => call(if *op == BinaryOp::Like { "LIKE" } else { "REGEX_TEST" }, subs(&[l, r])),
            BinaryOp::NotLike | BinaryOp::RegexNotMatch => {
                node("unary not", vec![call(if *op == BinaryOp::NotLike { "LIKE" } else { "REGEX_TEST" }, subs(&[l, r]))])
            }
            op => node(binary_type(*op), subs(&[l, r])),
        },
        Expr::Ternary(c, m, o) => match m {
            Some(m) => node("ternary", subs(&[c, m, o])),
            None => node("ternary", subs(&[c, o])),
        },
        Expr::Expand(x) => expansion(x, var_id),
        Expr::Question { base, quantifier, filter } => {
            let mut s = vec![ast(base, var_id), quantifier_ast(quantifier, var_id)];
            s.extend(filter.iter().map(|f| ast(f, var_id)));
            node("array filter", s)
        }
        Expr::ArrayCompare { quantifier, op, lhs, rhs } => {
            node(&format!("array {}", binary_type(*op)), vec![ast(lhs, var_id), ast(rhs, var_id), quantifier_ast(quantifier, var_id)])
        }
    }
}

fn call(name: &str, args: Vec<Value>) -> Value {
    json!({"type": "function call", "name": name, "subNodes": [{"type": "array", "subNodes": args}]})
}

fn binary_type(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "logical or",
        BinaryOp::And => "logical and",
        BinaryOp::Eq => "compare ==",
        BinaryOp::Ne => "compare !=",
        BinaryOp::Lt => "compare <",
        BinaryOp::Le => "compare <=",
        BinaryOp::Gt => "compare >",
        BinaryOp::Ge => "compare >=",
        BinaryOp::In => "compare in",
        BinaryOp::NotIn => "compare not in",
        BinaryOp::Range => "range",
        BinaryOp::Add => "plus",
        BinaryOp::Sub => "minus",
        BinaryOp::Mul => "times",
        BinaryOp::Div => "division",
        BinaryOp::Mod => "modulus",
        BinaryOp::Like | BinaryOp::NotLike | BinaryOp::RegexMatch | BinaryOp::RegexNotMatch => "function call",
    }
}

fn quantifier_ast(q: &Quantifier, var_id: &dyn Fn(&str) -> Option<u64>) -> Value {
    let (name, subs): (&str, Vec<Value>) = match q {
        Quantifier::All => ("all", Vec::new()),
        Quantifier::Any => ("any", Vec::new()),
        Quantifier::None => ("none", Vec::new()),
        Quantifier::AtLeast(n) => ("at least", vec![ast(n, var_id)]),
        Quantifier::Exactly(n) => ("exactly", vec![ast(n, var_id)]),
        Quantifier::Between(a, b) => ("range", vec![ast(a, var_id), ast(b, var_id)]),
    };
    json!({"type": "quantifier", "quantifier": name, "subNodes": subs})
}

fn expansion(x: &Expansion, var_id: &dyn Fn(&str) -> Option<u64>) -> Value {
    let current = |n: &str| if n == CURRENT { Some(0) } else { var_id(n) };
    let opt = |e: &Option<Expr>| e.as_ref().map_or(json!({"type": "no-op"}), |e| ast(e, &current));
    let limit = x.limit.as_ref().map_or(json!({"type": "no-op"}), |(o, c)| json!({"type": "limit", "subNodes": [ast(o, var_id), ast(c, var_id)]}));
    json!({
        "type": "expansion",
        "levels": x.levels,
        "subNodes": [
            {"type": "iterator", "subNodes": [{"type": "variable", "name": CURRENT, "id": 0}, ast(&x.base, var_id)]},
            x.project.as_ref().or(x.ret.as_ref()).map_or(json!({"type": "reference", "name": CURRENT, "id": 0}), |p| ast(p, &current)),
            opt(&x.filter),
            limit,
            opt(&x.ret),
        ]
    })
}

/// ArangoDB's AST JSON of a whole query (`POST /_api/query`): a `root` node with one node a
/// statement, variables numbered in the order they are declared.
pub fn query_ast(q: &crate::query::Query) -> Value {
    let mut scope: Vec<(String, u64)> = Vec::new();
    json!({"type": "root", "subNodes": statements(q, &mut scope)})
}

fn statements(q: &crate::query::Query, scope: &mut Vec<(String, u64)>) -> Vec<Value> {
    use crate::query::Op;
    fn declare(scope: &mut Vec<(String, u64)>, name: &str) -> Value {
        let id = scope.len() as u64;
        scope.push((name.to_string(), id));
        json!({"type": "variable", "name": name, "id": id})
    }
    let mut out = Vec::new();
    for op in &q.ops {
        let lookup = |s: &[(String, u64)]| {
            let s = s.to_vec();
            move |n: &str| s.iter().rev().find(|(v, _)| v == n).map(|(_, id)| *id)
        };
        let e = |e: &Expr, s: &[(String, u64)]| ast(e, &lookup(s));
        let node = match op {
            Op::For { var, source, options } => {
                let source = e(source, scope);
                let mut subs = vec![declare(scope, var), source];
                subs.extend(options.iter().map(|o| e(o, scope)));
                json!({"type": "for", "subNodes": subs})
            }
            Op::Let { var, expr } => {
                let value = e(expr, scope);
                json!({"type": "let", "subNodes": [declare(scope, var), value]})
            }
            Op::Filter(c) => json!({"type": "filter", "subNodes": [e(c, scope)]}),
            Op::Sort(keys) => {
                let elements: Vec<Value> =
                    keys.iter().map(|(k, asc)| json!({"type": "sort element", "subNodes": [e(k, scope), {"type": "value", "value": asc}]})).collect();
                json!({"type": "sort", "subNodes": [{"type": "array", "subNodes": elements}]})
            }
            Op::Limit { offset, count } => json!({"type": "limit", "subNodes": [e(offset, scope), e(count, scope)]}),
            Op::Collect(c) => {
                let assign = |list: &[(String, Expr)], scope: &mut Vec<(String, u64)>| -> Vec<Value> {
                    let mut out = Vec::new();
                    for (v, x) in list {
                        let value = e(x, scope);
                        out.push(json!({"type": "assign", "subNodes": [declare(scope, v), value]}));
                    }
                    out
                };
                let groups = assign(&c.groups, scope);
                let aggregates = assign(&c.aggregates, scope);
                let mut subs = vec![json!({"type": "array", "subNodes": groups}), json!({"type": "aggregations", "subNodes": [{"type": "array", "subNodes": aggregates}]})];
                if let Some((v, _)) = &c.into {
                    subs.push(json!({"type": "into", "subNodes": [declare(scope, v)]}));
                }
                if let Some(v) = &c.count_into {
                    subs.push(json!({"type": "collect with count", "subNodes": [declare(scope, v)]}));
                }
                json!({"type": "collect", "subNodes": subs})
            }
            Op::Insert { doc, collection, .. } => json!({"type": "insert", "subNodes": [e(doc, scope), e(collection, scope)]}),
            Op::Update { key, with, collection, .. } | Op::Replace { key, with, collection, .. } => {
                let t = if matches!(op, Op::Update { .. }) { "update" } else { "replace" };
                let mut subs = vec![e(key, scope)];
                subs.extend(with.iter().map(|w| e(w, scope)));
                subs.push(e(collection, scope));
                json!({"type": t, "subNodes": subs})
            }
            Op::Remove { key, collection, .. } => json!({"type": "remove", "subNodes": [e(key, scope), e(collection, scope)]}),
            Op::Upsert { search, insert, update, collection, .. } => {
                json!({"type": "upsert", "subNodes": [e(search, scope), e(insert, scope), e(update, scope), e(collection, scope)]})
            }
            Op::Return { distinct, expr } => json!({"type": "return", "distinct": distinct, "subNodes": [e(expr, scope)]}),
            Op::Traverse(t) => {
                let mut subs = vec![json!({"type": "direction", "value": t.direction}), e(&t.start, scope)];
                subs.extend(t.depth.iter().map(|d| e(d, scope)));
                subs.extend(t.target.iter().map(|x| e(x, scope)));
                subs.push(match &t.graph {
                    Some(g) => e(g, scope),
                    None => json!({"type": "collection list", "subNodes": t.edge_collections.iter().map(|(_, c)| e(c, scope)).collect::<Vec<_>>()}),
                });
                subs.extend(t.vars.iter().map(|v| declare(scope, v)));
                let kind = match t.kind {
                    "TRAVERSAL" => "traversal",
                    "SHORTEST_PATH" => "shortest path",
                    "K_SHORTEST_PATHS" => "k-shortest paths",
                    "K_PATHS" => "k-paths",
                    _ => "all shortest paths",
                };
                json!({"type": kind, "subNodes": subs})
            }
            Op::Window { range, bounds, aggregates } => {
                let mut subs = vec![e(bounds, scope)];
                subs.extend(range.iter().map(|r| e(r, scope)));
                for (v, a) in aggregates {
                    let value = e(a, scope);
                    subs.push(json!({"type": "assign", "subNodes": [declare(scope, v), value]}));
                }
                json!({"type": "window", "subNodes": subs})
            }
        };
        out.push(node);
    }
    out
}
