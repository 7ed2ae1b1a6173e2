//! Execution plans as ArangoDB shows them (`POST /_api/explain`): a chain of ArangoDB's node
//! types with estimates, the optimizer rules applied, the indexes used, and the text layout
//! arangosh prints. The plan is derived from the parsed query with the same decisions the
//! executor makes ([`index_access`], [`chosen_projection`], [`sort_limit`]), so it describes
//! how the query really runs.

use std::collections::BTreeMap;

use aql::ast::Expr;
use aql::print::{aql, ast};
use aql::query::{Collect, Op, Query};
use docstore::{Database, Store};
use errors::{err, Result};
use serde_json::{json, Map, Value};

use crate::{chosen_projection, index_access, pruned_filter, scan_parallel, scan_threads, sort_limit, whole_on_pass, Options};

pub struct Plan {
    pub nodes: Vec<Node>,
    /// Rules applied, in the order first applied.
    pub rules: Vec<&'static str>,
    /// Collections and how the query uses them (`read` or `write`).
    pub collections: BTreeMap<String, &'static str>,
    pub variables: Vec<(u64, String)>,
    /// Index uses: the node, the index type, the collection, the fields.
    pub indexes: Vec<(u64, &'static str, String, Vec<&'static str>)>,
    pub is_modification: bool,
}

pub struct Node {
    pub id: u64,
    pub kind: &'static str,
    pub dependencies: Vec<u64>,
    pub items: f64,
    pub cost: f64,
    /// How many loops (and subqueries) enclose the node, for the text layout.
    pub depth: usize,
    /// The text layout's comment: the operation in AQL.
    pub comment: String,
    /// The node type's own JSON attributes.
    pub fields: Map<String, Value>,
    /// The operation of the (outermost) query the node belongs to, for profiles.
    pub op: Option<usize>,
}

/// An estimate for a list whose length is unknown before running, as ArangoDB assumes.
const UNKNOWN_LIST_ITEMS: f64 = 100.0;

struct Builder<'a> {
    store: &'a Store,
    db: &'a Database,
    binds: &'a Map<String, Value>,
    opts: &'a Options,
    plan: Plan,
    next_id: u64,
    /// Variables in scope, innermost last.
    scope: Vec<(String, u64)>,
    /// The last node of the chain being built, its estimated items and cost.
    last: Option<u64>,
    items: f64,
    cost: f64,
    depth: usize,
    /// The outermost query's operation being planned (`None` inside subqueries).
    op: Option<usize>,
    in_subquery: bool,
    /// Operations of the query being planned where a loop's documents are fetched whole.
    materialize_at: Vec<usize>,
    /// The FILTER just folded into its loop (`move-filters-into-enumerate`), to skip.
    folded: Option<usize>,
}

/// Plans a parsed query.
pub fn plan(store: &Store, db: &Database, query: &Query, binds: &Map<String, Value>, opts: &Options) -> Result<Plan> {
    let mut b = Builder {
        store,
        db,
        binds,
        opts,
        plan: Plan { nodes: Vec::new(), rules: Vec::new(), collections: BTreeMap::new(), variables: Vec::new(), indexes: Vec::new(), is_modification: false },
        next_id: 1,
        scope: Vec::new(),
        last: None,
        items: 1.0,
        cost: 0.0,
        depth: 0,
        op: None,
        in_subquery: false,
        materialize_at: Vec::new(),
        folded: None,
    };
    b.add("SingletonNode", "ROOT".into(), Map::new(), 1.0);
    b.ops(&query.ops)?;
    Ok(b.plan)
}

impl Builder<'_> {
    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn add(&mut self, kind: &'static str, comment: String, fields: Map<String, Value>, items: f64) -> u64 {
        let id = self.id();
        self.items = items;
        self.cost += items.max(1.0);
        self.plan.nodes.push(Node {
            id,
            kind,
            dependencies: self.last.into_iter().collect(),
            items,
            cost: self.cost,
            depth: self.depth,
            comment,
            fields,
            op: self.op,
        });
        self.last = Some(id);
        id
    }

    fn declare(&mut self, name: &str) -> Value {
        let id = self.id();
        self.scope.push((name.to_string(), id));
        self.plan.variables.push((id, name.to_string()));
        json!({"id": id, "name": name})
    }

    fn var_json(&self, name: &str) -> Value {
        let id = self.scope.iter().rev().find(|(n, _)| n == name).map_or(0, |(_, id)| *id);
        json!({"id": id, "name": name})
    }

    fn ast(&self, e: &Expr) -> Value {
        let lookup = |n: &str| self.scope.iter().rev().find(|(v, _)| v == n).map(|(_, id)| *id);
        ast(e, &lookup)
    }

    fn rule(&mut self, name: &'static str) {
        if !self.plan.rules.contains(&name) {
            self.plan.rules.push(name);
        }
    }

    /// A variable holding `e`: `e` itself when it is one, else a new CalculationNode's.
    fn calculation(&mut self, e: &Expr) -> String {
        if let Expr::Var(v) = e {
            if self.scope.iter().any(|(n, _)| n == v) {
                return v.clone();
            }
        }
        let name = format!("#{}", self.next_id + 1);
        let expression = self.ast(e);
        let comment = format!("LET {name} = {}", aql(e));
        let items = self.items;
        let id = self.add("CalculationNode", comment, Map::new(), items);
        let out = self.declare(&name);
        self.set(id, json!({"expression": expression, "outVariable": out, "canThrow": false, "expressionType": "simple"}));
        name
    }

    fn set(&mut self, id: u64, fields: Value) {
        if let (Some(n), Value::Object(f)) = (self.plan.nodes.iter_mut().find(|n| n.id == id), fields) {
            n.fields.extend(f);
        }
    }

    /// The collection a `FOR` source or modification target names, if it names one.
    fn collection_name(&self, e: &Expr) -> Result<Option<String>> {
        let name = match e {
            Expr::Var(n) if !self.scope.iter().any(|(v, _)| v == n) => n.clone(),
            Expr::BindCollection(n) => match self.binds.get(&format!("@{n}")) {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(err!(errors::ERROR_QUERY_BIND_PARAMETER_TYPE, "bind parameter '@{n}' has an invalid value or type")),
            },
            Expr::Bind(n) => match self.binds.get(n) {
                Some(Value::String(s)) => s.clone(),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.db.collection(&name)?;
        Ok(Some(name))
    }

    fn ops(&mut self, ops: &[Op]) -> Result<()> {
        for (i, op) in ops.iter().enumerate() {
            if !self.in_subquery {
                self.op = Some(i);
            }
            if self.folded.take() == Some(i) {
                continue;
            }
            match op {
                Op::For { var, source, .. } => self.for_loop(ops, i, var, source)?,
                Op::Let { var, expr: Expr::Subquery(q) } => self.subquery(var, q)?,
                Op::Let { var, expr } => {
                    let expression = self.ast(expr);
                    let comment = format!("LET {var} = {}", aql(expr));
                    let items = self.items;
                    let id = self.add("CalculationNode", comment, Map::new(), items);
                    let out = self.declare(var);
                    self.set(id, json!({"expression": expression, "outVariable": out, "canThrow": false, "expressionType": "simple"}));
                }
                Op::Filter(cond) => {
                    let v = self.calculation(cond);
                    let items = self.items;
                    let fields = json!({"inVariable": self.var_json(&v)});
                    self.add("FilterNode", format!("FILTER {v}"), as_map(fields), items);
                }
                Op::Sort(keys) => {
                    let vars: Vec<(String, bool)> = keys.iter().map(|(e, asc)| (self.calculation(e), *asc)).collect();
                    let constrained = sort_limit(ops, i, self.opts).and_then(|(o, c)| Some((constant_number(o)?, constant_number(c)?)));
                    let strategy = if constrained.is_some() { "constrained heap" } else { "standard" };
                    if constrained.is_some() {
                        self.rule("sort-limit");
                    }
                    let elements: Vec<Value> = vars.iter().map(|(v, asc)| json!({"inVariable": self.var_json(v), "ascending": asc})).collect();
                    let text: Vec<String> = vars.iter().map(|(v, asc)| format!("{v} {}", if *asc { "ASC" } else { "DESC" })).collect();
                    let mut fields = json!({"elements": elements, "stable": false, "strategy": strategy.replace(' ', "-")});
                    if let Some((o, c)) = constrained {
                        fields["limit"] = json!(o + c);
                    }
                    let items = self.items;
                    self.add("SortNode", format!("SORT {}   /* sorting strategy: {strategy} */", text.join(", ")), as_map(fields), items);
                }
                Op::Limit { offset, count } => {
                    let (o, c) = (constant_number(offset), constant_number(count));
                    let items = c.map_or(self.items, |c| self.items.min(c as f64));
                    let fields = json!({"offset": o.unwrap_or(0), "limit": c.unwrap_or(0), "fullCount": self.opts.full_count});
                    self.add("LimitNode", format!("LIMIT {}, {}", aql(offset), aql(count)), as_map(fields), items);
                }
                Op::Collect(c) => self.collect(c)?,
                Op::Insert { doc, collection, .. } => self.modification("InsertNode", "INSERT", doc, None, collection)?,
                Op::Update { key, with, collection, .. } => self.modification("UpdateNode", "UPDATE", key, with.as_ref(), collection)?,
                Op::Replace { key, with, collection, .. } => self.modification("ReplaceNode", "REPLACE", key, with.as_ref(), collection)?,
                Op::Remove { key, collection, .. } => self.modification("RemoveNode", "REMOVE", key, None, collection)?,
                Op::Upsert { search, insert, update, collection, .. } => {
                    let name = self.collection_name(collection)?.unwrap_or_default();
                    let vars: Vec<String> = [search, insert, update].into_iter().map(|e| self.calculation(e)).collect();
                    self.plan.collections.insert(name.clone(), "write");
                    self.plan.is_modification = true;
                    let fields = json!({"collection": name, "inDocVariable": self.var_json(&vars[0]), "insertVariable": self.var_json(&vars[1]), "updateVariable": self.var_json(&vars[2])});
                    let items = self.items;
                    self.add("UpsertNode", format!("UPSERT {} INSERT {} UPDATE {} IN {name}", vars[0], vars[1], vars[2]), as_map(fields), items);
                }
                Op::Traverse(t) => {
                    let items = self.items;
                    let target = t.target.as_ref().map(|x| format!(" TO {}", aql(x))).unwrap_or_default();
                    let via = match &t.graph {
                        Some(g) => format!("GRAPH {}", aql(g)),
                        None => t.edge_collections.iter().map(|(d, c)| format!("{}{}", d.map(|d| format!("{d} ")).unwrap_or_default(), aql(c))).collect::<Vec<_>>().join(", "),
                    };
                    let kind = if t.kind == "TRAVERSAL" { "TraversalNode" } else { "ShortestPathNode" };
                    let depth = t.depth.as_ref().map(|d| format!("{} ", aql(d))).unwrap_or_default();
                    let comment = format!("FOR {} IN {depth}{} {}{}{target} {via}", t.vars.join(", "), t.direction, if t.kind == "TRAVERSAL" { String::new() } else { format!("{} ", t.kind) }, aql(&t.start));
                    self.add(kind, comment, Map::new(), items * UNKNOWN_LIST_ITEMS);
                    for v in &t.vars {
                        self.declare(v);
                    }
                    self.depth += 1;
                }
                Op::Window { range, bounds, aggregates } => {
                    let items = self.items;
                    let aggs: Vec<String> = aggregates.iter().map(|(v, e)| format!("{v} = {}", aql(e))).collect();
                    let range = range.as_ref().map(|r| format!("{} WITH ", aql(r))).unwrap_or_default();
                    self.add("WindowNode", format!("WINDOW {range}{} AGGREGATE {}", aql(bounds), aggs.join(", ")), Map::new(), items);
                    for (v, _) in aggregates {
                        self.declare(v);
                    }
                }
                Op::Return { distinct, expr } => {
                    let v = self.calculation(expr);
                    let items = self.items;
                    let fields = json!({"inVariable": self.var_json(&v), "count": true});
                    let comment = format!("RETURN {}{v}", if *distinct { "DISTINCT " } else { "" });
                    self.add("ReturnNode", comment, as_map(fields), items);
                }
            }
        }
        Ok(())
    }

    fn for_loop(&mut self, ops: &[Op], i: usize, var: &str, source: &Expr) -> Result<()> {
        let Some(name) = self.collection_name(source)? else {
            let list = self.calculation(source);
            let items = self.items * constant_len(source).unwrap_or(UNKNOWN_LIST_ITEMS);
            let in_var = self.var_json(&list);
            let id = self.add("EnumerateListNode", format!("FOR {var} IN {list}   /* list iteration */"), Map::new(), items);
            let out = self.declare(var);
            self.set(id, json!({"inVariable": in_var, "outVariable": out}));
            self.depth += 1;
            return Ok(());
        };
        let col = self.db.collection(&name)?;
        self.plan.collections.entry(name.clone()).or_insert("read");
        let count = self.store.count(&col).unwrap_or(0) as f64;
        let access = index_access(var, ops.get(i + 1), col.info.read().is_edge()).filter(|_| self.opts.rule_enabled("use-indexes"));
        let fetched_at_filter = self.materialize_at.contains(&(i + 1));
        // A document read whole as it passes the FILTER shows as read whole, as it is.
        let projection = chosen_projection(ops, i, var, self.opts, access.is_some())
            .filter(|(_, late)| access.is_some() || !whole_on_pass(ops, i, *late, self.opts, fetched_at_filter));
        let mut notes = Vec::new();
        let mut fields = json!({"database": self.db.name(), "collection": name, "random": false, "producesResult": true});
        if let Some((attrs, late)) = &projection {
            let shown: Vec<&String> = attrs.iter().filter(|a| *a != "_key" || late.is_none()).collect();
            notes.push(format!("projections: {}", shown.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")));
            fields["projections"] = json!(shown);
            self.rule("reduce-extraction-to-projection");
            if let Some(at) = late {
                notes.push("late materialization".into());
                self.rule("late-document-materialization");
                self.materialize_at.push(*at);
            }
        }
        // move-filters-into-enumerate, decided as the executor decides it.
        let folded = pruned_filter(ops, i, self.opts, fetched_at_filter);
        let id = match access {
            Some(access) => {
                self.rule("use-indexes");
                let (kind, field) = match access.attribute {
                    "_key" | "_id" => ("primary", "_key"),
                    "_from" => ("edge", "_from"),
                    _ => ("edge", "_to"),
                };
                let per_lookup = if kind == "primary" { 1.0 } else { (count / 10.0).max(1.0) };
                let lookups = if access.list { constant_len(access.operand).unwrap_or(10.0) } else { 1.0 };
                let items = self.items * per_lookup * lookups;
                fields["indexes"] = json!([{"type": kind, "name": kind, "id": "0", "fields": [field], "unique": kind == "primary", "sparse": false}]);
                fields["condition"] = json!(format!("({var}.`{}` {} {})", access.attribute, if access.list { "IN" } else { "==" }, aql(access.operand)));
                let comment = note_comment(format!("FOR {var} IN {name}   /* {kind} index scan */"), &notes);
                // remove-filter-covered-by-index, decided as the executor decides it.
                let covered = access.covers_filter
                    && self.opts.rule_enabled("remove-filter-covered-by-index")
                    && self.opts.profile < 2
                    && !self.materialize_at.contains(&(i + 1));
                let comment = if covered {
                    self.rule("remove-filter-covered-by-index");
                    self.folded = Some(i + 1);
                    comment
                } else {
                    self.fold(comment, folded, &mut fields, i)
                };
                let id = self.add("IndexNode", comment, as_map(fields), items);
                self.plan.indexes.push((id, kind, name, vec![field]));
                id
            }
            None => {
                // parallel-scan, decided as the executor decides it.
                let threads = if scan_parallel(self.opts) { scan_threads(self.opts, count as u64) } else { 1 };
                if threads > 1 {
                    self.rule("parallel-scan");
                    notes.push(format!("{threads} threads"));
                    fields["parallelism"] = json!(threads);
                }
                let comment = note_comment(format!("FOR {var} IN {name}   /* full collection scan */"), &notes);
                let comment = self.fold(comment, folded, &mut fields, i);
                let items = self.items * count;
                self.add("EnumerateCollectionNode", comment, as_map(fields), items)
            }
        };
        let out = self.declare(var);
        self.set(id, json!({"outVariable": out}));
        self.depth += 1;
        Ok(())
    }

    /// Folds the FILTER after the loop at `i` into it (`move-filters-into-enumerate`).
    fn fold(&mut self, comment: String, filter: Option<&Expr>, fields: &mut Value, i: usize) -> String {
        let Some(f) = filter else { return comment };
        self.rule("move-filters-into-enumerate");
        self.folded = Some(i + 1);
        fields["filter"] = self.ast(f);
        format!("{comment}   FILTER {}   /* early pruning */", aql(f))
    }

    fn subquery(&mut self, var: &str, q: &Query) -> Result<()> {
        let items = self.items;
        let scope = self.scope.len();
        let (depth, outer_items) = (self.depth, self.items);
        // ArangoDB 3.12 always splices subqueries into the plan this way, and says so.
        self.rule("splice-subqueries");
        self.add("SubqueryStartNode", "LET ( /* subquery begin */".into(), Map::new(), items);
        self.depth += 1;
        let (outer_op, was_in) = (self.op, self.in_subquery);
        (self.op, self.in_subquery) = (None, true);
        let outer_materialize = std::mem::take(&mut self.materialize_at);
        self.ops(&q.ops)?;
        self.materialize_at = outer_materialize;
        (self.op, self.in_subquery) = (outer_op, was_in);
        self.scope.truncate(scope);
        self.depth = depth;
        let out = self.declare(var);
        self.add("SubqueryEndNode", format!("LET {var} = ( /* subquery end */ )"), as_map(json!({"outVariable": out})), outer_items);
        Ok(())
    }

    fn collect(&mut self, c: &Collect) -> Result<()> {
        let groups: Vec<(String, String)> = c.groups.iter().map(|(v, e)| (v.clone(), self.calculation(e))).collect();
        let aggregates: Vec<(String, String, String)> = c
            .aggregates
            .iter()
            .map(|(v, e)| match e {
                Expr::Call(f, args) if args.len() == 1 => (v.clone(), f.clone(), self.calculation(&args[0])),
                e => (v.clone(), "UNKNOWN".into(), aql(e)),
            })
            .collect();
        // After COLLECT only its own variables are in scope.
        self.scope.retain(|(n, _)| n.starts_with('#'));
        let group_json: Vec<Value> = groups.iter().map(|(v, from)| json!({"outVariable": {"name": v}, "inVariable": self.var_json(from)})).collect();
        let aggregate_json: Vec<Value> =
            aggregates.iter().map(|(v, f, from)| json!({"outVariable": {"name": v}, "inVariable": self.var_json(from), "type": f})).collect();
        let mut text = "COLLECT".to_string();
        let parts: Vec<String> = groups.iter().map(|(v, from)| format!("{v} = {from}")).collect();
        if !parts.is_empty() {
            text += &format!(" {}", parts.join(", "));
        }
        if !aggregates.is_empty() {
            let a: Vec<String> = aggregates.iter().map(|(v, f, from)| format!("{v} = {f}({from})")).collect();
            text += &format!(" AGGREGATE {}", a.join(", "));
        }
        if let Some((v, _)) = &c.into {
            text += &format!(" INTO {v}");
        }
        if let Some(v) = &c.count_into {
            text += &format!(" WITH COUNT INTO {v}");
        }
        let items = if groups.is_empty() { 1.0 } else { self.items };
        let fields = json!({"groups": group_json, "aggregates": aggregate_json, "collectOptions": {"method": "hash"}});
        self.depth = self.depth.min(1);
        self.add("CollectNode", format!("{text}   /* hash */"), as_map(fields), items);
        for v in groups.iter().map(|(v, _)| v).chain(aggregates.iter().map(|(v, ..)| v)).chain(c.into.iter().map(|(v, _)| v)).chain(c.count_into.iter()) {
            self.declare(v);
        }
        Ok(())
    }

    fn modification(&mut self, kind: &'static str, keyword: &str, doc: &Expr, with: Option<&Expr>, collection: &Expr) -> Result<()> {
        let name = self.collection_name(collection)?.unwrap_or_else(|| aql(collection));
        let v = self.calculation(doc);
        let with_var = with.map(|w| self.calculation(w));
        self.plan.collections.insert(name.clone(), "write");
        self.plan.is_modification = true;
        let mut fields = json!({"collection": name, "inDocVariable": self.var_json(&v)});
        let mut text = format!("{keyword} {v}");
        if let Some(w) = &with_var {
            fields["inKeyVariable"] = fields["inDocVariable"].take();
            fields["inDocVariable"] = self.var_json(w);
            text += &format!(" WITH {w}");
        }
        text += &format!(" {} {name}", if keyword == "INSERT" { "INTO" } else { "IN" });
        let items = self.items;
        self.add(kind, text, as_map(fields), items);
        self.declare("OLD");
        self.declare("NEW");
        Ok(())
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn note_comment(text: String, notes: &[String]) -> String {
    notes.iter().fold(text, |t, n| format!("{t}   /* {n} */"))
}

/// A number written as a literal.
fn constant_number(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => v.as_u64(),
        _ => None,
    }
}

/// The length of an array written as a literal or a range of literals.
fn constant_len(e: &Expr) -> Option<f64> {
    match e {
        Expr::Array(items) => Some(items.len() as f64),
        Expr::Binary(aql::ast::BinaryOp::Range, a, b) => {
            let (Expr::Value(a), Expr::Value(b)) = (&**a, &**b) else { return None };
            Some((b.as_f64()? - a.as_f64()?).abs() + 1.0)
        }
        _ => None,
    }
}

/// What one operation of a query did, counted while it ran (`profile` 2).
#[derive(Clone, Debug, Default)]
pub struct OpProfile {
    /// Rows handed to the operation.
    pub calls: u64,
    /// Rows it handed on.
    pub items: u64,
    /// Time spent in it and the operations after it, seconds.
    pub inclusive_s: f64,
}

impl Plan {
    /// `extra.stats.nodes` of a profiled query: each node of the outermost query with what
    /// its operation did. An operation's last node carries its output and its own time (what
    /// it took minus what the operations after it took); its calculation nodes before it pass
    /// every row on.
    pub fn node_stats(&self, ops: &[OpProfile]) -> Vec<Value> {
        let mut out = vec![json!({"id": 1, "calls": 1, "items": 1, "filtered": 0, "runtime": 0.0})];
        for (k, n) in self.nodes.iter().enumerate() {
            let Some(p) = n.op.and_then(|i| ops.get(i)) else { continue };
            let i = n.op.unwrap_or(0);
            let last_of_op = self.nodes.get(k + 1).is_none_or(|next| next.op != n.op);
            let own = p.inclusive_s - ops.get(i + 1).map_or(0.0, |q| q.inclusive_s);
            let (items, runtime) = if last_of_op { (p.items, own.max(0.0)) } else { (p.calls, 0.0) };
            let filtered = if n.kind == "FilterNode" { p.calls.saturating_sub(items) } else { 0 };
            out.push(json!({"id": n.id, "calls": p.calls, "items": items, "filtered": filtered, "runtime": runtime}));
        }
        out
    }

    pub fn estimated_cost(&self) -> f64 {
        self.nodes.last().map_or(0.0, |n| n.cost)
    }

    pub fn estimated_items(&self) -> f64 {
        self.nodes.last().map_or(0.0, |n| n.items)
    }

    /// The plan as `POST /_api/explain` returns it.
    pub fn to_json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| {
                let mut m = Map::new();
                m.insert("type".into(), json!(n.kind));
                m.insert("dependencies".into(), json!(n.dependencies));
                m.insert("id".into(), json!(n.id));
                m.insert("estimatedCost".into(), json!(n.cost));
                m.insert("estimatedNrItems".into(), json!(n.items.round() as u64));
                m.extend(n.fields.clone());
                Value::Object(m)
            })
            .collect();
        json!({
            "nodes": nodes,
            "rules": self.rules,
            "collections": self.collections.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "variables": self.variables.iter().rev().map(|(id, n)| json!({"id": id, "name": n, "isFullDocumentFromCollection": false})).collect::<Vec<_>>(),
            "estimatedCost": self.estimated_cost(),
            "estimatedNrItems": self.estimated_items().round() as u64,
            "isModificationQuery": self.is_modification,
        })
    }

    /// The text arangosh prints for `db._explain(query)`.
    pub fn to_text(&self, query: &str) -> String {
        let mut out = format!("Query String ({} chars, cacheable: true):\n {query}\n\nExecution plan:\n", query.chars().count());
        let ests: Vec<String> = self.nodes.iter().map(|n| format!("{}", n.items.round() as u64)).collect();
        let w_id = self.nodes.iter().map(|n| n.id.to_string().len()).max().unwrap_or(1).max(2) + 1;
        let w_type = self.nodes.iter().map(|n| n.kind.len()).max().unwrap_or(0).max(8);
        let w_est = ests.iter().map(String::len).max().unwrap_or(0).max(4);
        out += &format!("{:>w_id$}   {:<w_type$}   {:>w_est$}   Comment\n", "Id", "NodeType", "Est.");
        for (n, est) in self.nodes.iter().zip(&ests) {
            let comment = if n.kind == "SingletonNode" { "* ROOT".to_string() } else { format!("{}- {}", "  ".repeat(n.depth + 1), n.comment) };
            out += &format!("{:>w_id$}   {:<w_type$}   {est:>w_est$}   {comment}\n", n.id, n.kind);
        }
        out += "\nIndexes used:\n";
        if self.indexes.is_empty() {
            out += " none\n";
        } else {
            let w_by = self.indexes.iter().map(|i| i.0.to_string().len()).max().unwrap_or(1).max(2) + 1;
            let w_col = self.indexes.iter().map(|i| i.2.len()).max().unwrap_or(0).max(10);
            out += &format!("{:>w_by$}   {:<8}   {:<8}   {:<w_col$}   {:<6}   Fields\n", "By", "Name", "Type", "Collection", "Unique");
            for (by, kind, col, fields) in &self.indexes {
                let f: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
                out += &format!("{by:>w_by$}   {kind:<8}   {kind:<8}   {col:<w_col$}   {:<6}   [ {} ]\n", *kind == "primary", f.join(", "));
            }
        }
        out += "\nOptimization rules applied:\n";
        if self.rules.is_empty() {
            out += " none\n";
        } else {
            let w = self.rules.len().to_string().len().max(2) + 1;
            out += &format!("{:>w$}   RuleName\n", "Id");
            for (i, r) in self.rules.iter().enumerate() {
                out += &format!("{:>w$}   {r}\n", i + 1);
            }
        }
        out
    }
}
