//! Runs AQL queries against the document store.
//!
//! Execution walks the query's operations row by row: a `FOR` over a collection reads it in
//! batches and hands each document down the rest of the query, so `FOR … FILTER … LIMIT`
//! stops reading as soon as the limit is reached. Operations that need all their input
//! (`SORT`, `COLLECT`, the modifications) gather rows and go on once the input is done.
//! Modifications of one operation are written as one atomic batch: a query that fails
//! leaves no partial writes of that operation.
//!
//! This is the first, thin execution path of the AQL issue: no optimizer and no indexes
//! beyond the primary one yet.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use aql::ast::Expr;
use aql::eval::{eval, Env};
use aql::query::{parse_query, Collect, Op};
pub use aql::query::Query;
use aql::value::{compare, truthy, type_name};
use docstore::{Collection, Database, OverwriteMode, Snapshot, Store, WriteItem, WriteKind, WriteOptions};
use errors::{err, ArangoError, Result, ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, ERROR_QUERY_BIND_PARAMETER_MISSING,
    ERROR_QUERY_BIND_PARAMETER_UNDECLARED, ERROR_QUERY_BIND_PARAMETER_TYPE, ERROR_RESOURCE_LIMIT};
use serde_json::{json, Map, Value};

/// Values a WINDOW may aggregate over all its rows together (each row's window counts).
const WINDOW_VALUES_MAX: usize = 200_000_000;

/// Rows a blocking operation (SORT, COLLECT, a modification) may gather at most.
pub const GATHERED_ROWS_MAX: usize = 5_000_000;

type Row = Vec<(String, Value)>;

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub writes_executed: u64,
    pub writes_ignored: u64,
    pub scanned_full: u64,
    pub scanned_index: u64,
    pub filtered: u64,
    pub full_count: Option<u64>,
}

impl Outcome {
    /// Results served from the query results cache (which the caller holds): nothing ran,
    /// nothing was counted.
    pub fn cached(execution_time_s: f64) -> Outcome {
        Outcome { results: Vec::new(), stats: Stats::default(), warnings: Vec::new(), execution_time_s, op_profile: Vec::new() }
    }
}

impl Stats {
    /// Adds what a subquery counted (its `fullCount` is its own).
    fn add(&mut self, other: &Stats) {
        self.writes_executed += other.writes_executed;
        self.writes_ignored += other.writes_ignored;
        self.scanned_full += other.scanned_full;
        self.scanned_index += other.scanned_index;
        self.filtered += other.filtered;
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub results: Vec<Value>,
    pub stats: Stats,
    pub warnings: Vec<Value>,
    pub execution_time_s: f64,
    /// With `profile` 2: what each operation of the query did.
    pub op_profile: Vec<plan::OpProfile>,
}

#[derive(Clone)]
pub struct Options {
    pub full_count: bool,
    pub wait_for_sync: bool,
    /// Stop with `ERROR_QUERY_KILLED` after this long (`maxRuntime`).
    pub max_runtime: Option<std::time::Duration>,
    /// Stop with `ERROR_RESOURCE_LIMIT` when the results and gathered rows grow past this
    /// many bytes (`memoryLimit`, approximately).
    pub memory_limit_bytes: usize,
    /// Set from elsewhere to stop the query with `ERROR_QUERY_KILLED`.
    pub kill: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// `optimizer.rules`: `-name` turns a rule off, `-all` turns all off, `+name` back on.
    pub optimizer_rules: Vec<String>,
    /// `profile`: 2 counts what each operation does.
    pub profile: u8,
    /// The user running the query (`CURRENT_USER()`).
    pub user: Option<String>,
    /// `failOnWarning`: a warning ends the query as an error.
    pub fail_on_warning: bool,
    /// `maxWarningCount`: warnings reported at most.
    pub max_warning_count: usize,
    /// Whether the user may read a collection, for functions that name collections at run
    /// time (`DOCUMENT`); without it every collection may be read.
    pub can_read: Option<ReadCheck>,
    /// Threads a full scan may use (`parallel-scan`); 1 reads with the query's thread only.
    pub scan_threads: usize,
    /// Documents a collection needs before its full scans use more than one thread.
    pub parallel_scan_min_docs: u64,
}

/// Says whether the caller may read a collection (by name).
pub type ReadCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl Options {
    /// Whether the optimizer rule `name` may be applied.
    pub fn rule_enabled(&self, name: &str) -> bool {
        let mut on = true;
        for r in &self.optimizer_rules {
            match r.split_at_checked(1) {
                Some(("-", n)) if n == name || n == "all" => on = false,
                Some(("+", n)) if n == name || n == "all" => on = true,
                _ => {}
            }
        }
        on
    }
}

/// The memory a query may use when the client sets no `memoryLimit`, so that no query can
/// exhaust the server's memory.
pub const MEMORY_LIMIT_BYTES_DEFAULT: usize = 1 << 30;

impl Default for Options {
    fn default() -> Self {
        Options {
            full_count: false,
            wait_for_sync: false,
            max_runtime: None,
            memory_limit_bytes: MEMORY_LIMIT_BYTES_DEFAULT,
            kill: None,
            optimizer_rules: Vec::new(),
            profile: 0,
            user: None,
            can_read: None,
            fail_on_warning: false,
            max_warning_count: 10,
            scan_threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            parallel_scan_min_docs: PARALLEL_SCAN_MIN_DOCS,
        }
    }
}

/// Stack size every thread that runs queries needs: expression trees up to the parser's depth
/// limit recurse deeply.
pub const STACK_BYTES: usize = 16 << 20;

/// Below this many documents a full scan is over before helper threads pay for themselves.
pub const PARALLEL_SCAN_MIN_DOCS: u64 = 20_000;

/// The LIMIT's offset and count when the SORT at `i` feeds a LIMIT with constant ones and the
/// `sort-limit` rule applies.
fn sort_limit<'q>(ops: &'q [Op], i: usize, opts: &Options) -> Option<(&'q Expr, &'q Expr)> {
    if opts.full_count || !opts.rule_enabled("sort-limit") {
        return None;
    }
    let Some(Op::Limit { offset, count }) = ops.get(i + 1) else { return None };
    (!mentions_any_variable(offset) && !mentions_any_variable(count)).then_some((offset, count))
}

/// Sorting with a following LIMIT trims its rows once it holds twice this many (or twice the
/// LIMIT's reach, when larger).
const SORT_LIMIT_TRIM_MIN: usize = 512;

fn row_bytes(row: &Row) -> usize {
    row.iter().map(|(k, v)| k.len() + approx_bytes(v)).sum()
}

/// Whether `e` reads any variable (or runs a subquery).
fn mentions_any_variable(e: &Expr) -> bool {
    match e {
        Expr::Var(_) | Expr::Subquery(_) => true,
        e => e.children().into_iter().any(mentions_any_variable),
    }
}

/// A cheap estimate of a value's size in memory.
fn approx_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => 24 + s.len(),
        Value::Array(a) => 24 + a.iter().map(approx_bytes).sum::<usize>(),
        Value::Object(m) => 48 + m.iter().map(|(k, v)| 24 + k.len() + approx_bytes(v)).sum::<usize>(),
        _ => 16,
    }
}

/// Parses and runs a query.
pub fn run(store: &Store, db: &Database, text: &str, binds: &Map<String, Value>, opts: &Options) -> Result<Outcome> {
    let started = Instant::now();
    execute(store, db, text, &parse(text)?, binds, opts, started)
}

/// Parses a query (1501 and friends on bad text), for [`collections_used`] and [`execute`].
pub fn parse(text: &str) -> Result<Query> {
    let q = parse_query(text)?;
    check_names(&q, &[], &mut Vec::new())?;
    Ok(q)
}

/// The names a query's expressions use that no variable declares: collections read as values
/// (`LENGTH(users)`, `RETURN users`), which must exist.
pub fn collection_references(q: &Query) -> Vec<String> {
    let mut names = Vec::new();
    let _ = check_names(q, &[], &mut names);
    names.sort();
    names.dedup();
    names
}

/// Checks before anything runs, as ArangoDB does: every function call names a known function
/// with an accepted number of arguments (1540, 1541). A name no variable declares is a
/// collection read as a value and goes into `collections`. `outer` holds the variables of
/// enclosing queries.
fn check_names(q: &Query, outer: &[String], collections: &mut Vec<String>) -> Result<()> {
    let mut scope: Vec<String> = outer.to_vec();
    for op in &q.ops {
        // A FOR source or a modification target that is a bare name names a collection.
        let target = match op {
            Op::For { source, .. } => Some(source),
            Op::Insert { collection, .. }
            | Op::Update { collection, .. }
            | Op::Replace { collection, .. }
            | Op::Remove { collection, .. }
            | Op::Upsert { collection, .. } => Some(collection),
            _ => None,
        };
        let traversal_collections: Vec<&Expr> = match op {
            Op::Traverse(t) => t.edge_collections.iter().map(|(_, c)| c).chain(t.graph.iter()).collect(),
            _ => Vec::new(),
        };
        // UPSERT's UPDATE/REPLACE expression reads OLD; PRUNE reads the traversal's variables.
        let mut local = scope.clone();
        match op {
            Op::Upsert { .. } => local.push("OLD".into()),
            Op::Traverse(t) => local.extend(t.vars.iter().cloned()),
            _ => {}
        }
        for e in op_expressions(op) {
            let is_name = matches!(e, Expr::Var(_)) && (target.is_some_and(|t| std::ptr::eq(t, e)) || traversal_collections.iter().any(|c| std::ptr::eq(*c, e)));
            if !is_name {
                check_expression(e, &local, collections)?;
            }
        }
        match op {
            // OLD and NEW come anew after each modification.
            Op::Insert { .. } | Op::Update { .. } | Op::Replace { .. } | Op::Remove { .. } | Op::Upsert { .. } => {
                scope.extend(declared(op));
                continue;
            }
            // Only what COLLECT makes is visible after it (and the enclosing queries').
            Op::Collect(_) => scope = outer.to_vec(),
            _ => {}
        }
        // A variable may be declared once among those visible (1511).
        for n in declared(op) {
            if scope.contains(&n) {
                return Err(err!(errors::ERROR_QUERY_VARIABLE_REDECLARED, "variable '{n}' is assigned multiple times").status(400));
            }
            scope.push(n);
        }
    }
    Ok(())
}

fn check_expression(e: &Expr, scope: &[String], collections: &mut Vec<String>) -> Result<()> {
    match e {
        Expr::Call(name, args) => aql::check_call(name, args.len())?,
        Expr::Var(v) if !scope.contains(v) => collections.push(v.clone()),
        Expr::Subquery(q) => return check_names(q, scope, collections),
        Expr::Expand(_) | Expr::Question { .. } => {
            // The element variable CURRENT is visible inside.
            let mut inner = scope.to_vec();
            inner.push(aql::ast::CURRENT.to_string());
            return e.children().into_iter().try_for_each(|c| check_expression(c, &inner, collections));
        }
        _ => {}
    }
    e.children().into_iter().try_for_each(|c| check_expression(c, scope, collections))
}

/// Every collection a query reads as a value must exist (1203), as ArangoDB checks when it
/// plans the query.
fn check_collections(db: &Database, query: &Query) -> Result<()> {
    for name in collection_references(query) {
        db.collection(&name).map_err(|e| e.status(404))?;
    }
    Ok(())
}

/// Runs a query already parsed from `text`; `started` is when its timing began.
pub fn execute(store: &Store, db: &Database, text: &str, query: &Query, binds: &Map<String, Value>, opts: &Options, started: Instant) -> Result<Outcome> {
    let mut results = Vec::new();
    let mut out = execute_into(store, db, text, query, binds, opts, started, &mut |v| {
        let bytes = approx_bytes(&v);
        results.push(v);
        Ok(bytes)
    })?;
    out.results = results;
    Ok(out)
}

/// [`execute`] handing each result to `sink` as it is made, which keeps it in whatever form it
/// likes and says how many bytes that takes: those count toward the query's memory limit. The
/// outcome's `results` stay empty.
#[allow(clippy::too_many_arguments)]
pub fn execute_into(
    store: &Store,
    db: &Database,
    text: &str,
    query: &Query,
    binds: &Map<String, Value>,
    opts: &Options,
    started: Instant,
    sink: &mut dyn FnMut(Value) -> Result<usize>,
) -> Result<Outcome> {
    let (query, _) = checked_and_optimized(db, text, query, binds, opts)?;
    let query = &query;
    let snapshot = store.snapshot();
    let mut ex = Executor::new(store, &snapshot, db, binds, opts.clone(), started);
    if opts.profile >= 2 {
        ex.op_profile = vec![plan::OpProfile::default(); query.ops.len()];
    }
    let limit = opts.memory_limit_bytes;
    let mut used = 0usize;
    let ran = ex.run_query(query, Vec::new(), &mut |v| {
        used = used.saturating_add(sink(v)?);
        if used > limit {
            return Err(err!(ERROR_RESOURCE_LIMIT, "query would use more than {limit} bytes of memory (memoryLimit)"));
        }
        Ok(true)
    });
    if let Err(e) = ran {
        ex.roll_back();
        return Err(e);
    }
    Ok(Outcome {
        results: Vec::new(),
        stats: ex.stats,
        warnings: ex.warnings.iter().take(opts.max_warning_count).map(|(c, m)| json!({"code": c.0, "message": m})).collect(),
        execution_time_s: started.elapsed().as_secs_f64(),
        op_profile: ex.op_profile,
    })
}

/// The collections a query reads and writes, by name (for access checks). Names bound with
/// `@@` are resolved from `binds`.
pub fn collections_used(q: &Query, binds: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    walk(q, binds, &mut Vec::new(), &mut reads, &mut writes);
    reads.extend(collection_references(q));
    reads.sort();
    reads.dedup();
    writes.sort();
    writes.dedup();
    (reads, writes)
}

fn walk(q: &Query, binds: &Map<String, Value>, vars: &mut Vec<String>, reads: &mut Vec<String>, writes: &mut Vec<String>) {
    let outer = vars.clone();
    let name_of = |e: &Expr, vars: &[String]| match e {
        Expr::Var(n) if !vars.contains(n) => Some(n.clone()),
        Expr::BindCollection(n) => binds.get(&format!("@{n}")).and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    for op in &q.ops {
        // Subqueries anywhere in the operation (options and INTO expressions included) see
        // the variables declared before it.
        for e in op_expressions(op) {
            subqueries(e, &mut |sq| walk(sq, binds, &mut vars.clone(), reads, writes));
        }
        match op {
            Op::For { source, .. } => reads.extend(name_of(source, vars)),
            Op::Insert { collection, .. }
            | Op::Update { collection, .. }
            | Op::Replace { collection, .. }
            | Op::Remove { collection, .. }
            | Op::Upsert { collection, .. } => writes.extend(name_of(collection, vars)),
            Op::Traverse(t) => reads.extend(t.edge_collections.iter().filter_map(|(_, c)| name_of(c, vars))),
            // After a COLLECT only its variables and the enclosing queries' are visible.
            Op::Collect(_) => *vars = outer.clone(),
            _ => {}
        }
        vars.extend(declared(op));
    }
}

/// Calls `f` with every subquery inside an expression.
fn subqueries(e: &Expr, f: &mut dyn FnMut(&Query)) {
    match e {
        Expr::Subquery(q) => f(q),
        e => e.children().into_iter().for_each(|c| subqueries(c, f)),
    }
}

/// The bind parameters a query text names (`@@coll` as `@coll`), each once, in order.
pub fn bind_parameters(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out: Vec<String> = Vec::new();
    for t in aql::lexer::lex(text).unwrap_or_default() {
        let name = match t.tok {
            aql::lexer::Tok::Bind(n) => n,
            aql::lexer::Tok::BindCollection(n) => format!("@{n}"),
            _ => continue,
        };
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}

/// The optimizer rules Rango applies, under ArangoDB's names.
pub const RULES: &[&str] = &[
    "remove-filter-covered-by-index",
    "move-filters-into-enumerate",
    "remove-unnecessary-filters",
    "move-filters-up",
    "move-calculations-up",
    "remove-unnecessary-calculations",
    "use-index-for-sort",
    "use-indexes",
    "reduce-extraction-to-projection",
    "late-document-materialization",
    "sort-limit",
    "remove-redundant-calculations",
    "optimize-subqueries",
    "splice-subqueries",
    // Rango's own: a large collection's full scan is read by several threads.
    "parallel-scan",
];

/// What running and explaining a query start from: its bind parameters and collections
/// checked, and the query rewritten by the optimizer's rules, with the rules that applied.
fn checked_and_optimized(db: &Database, text: &str, query: &Query, binds: &Map<String, Value>, opts: &Options) -> Result<(Query, Vec<&'static str>)> {
    check_binds(text, binds)?;
    check_collections(db, query)?;
    let mut query = query.clone();
    let rewritten = optimize::optimize(&mut query, opts);
    Ok((query, rewritten))
}

/// The execution plan of a parsed query (`POST /_api/explain`).
pub fn explain(store: &Store, db: &Database, text: &str, query: &Query, binds: &Map<String, Value>, opts: &Options) -> Result<plan::Plan> {
    let (query, rewritten) = checked_and_optimized(db, text, query, binds, opts)?;
    let mut plan = plan::plan(store, db, &query, binds, opts)?;
    plan.rules.splice(0..0, rewritten);
    Ok(plan)
}

/// The AST of a parsed query in ArangoDB's format (`POST /_api/query`).
pub fn ast_json(query: &Query) -> Value {
    aql::print::query_ast(query)
}

/// Every `@name` in the query must be bound and every bound value used (errors 1551/1552).
fn check_binds(text: &str, binds: &Map<String, Value>) -> Result<()> {
    let used: HashSet<String> = bind_parameters(text).into_iter().collect();
    for name in &used {
        if !binds.contains_key(name) {
            return Err(err!(ERROR_QUERY_BIND_PARAMETER_MISSING, "no value specified for declared bind parameter '{name}'"));
        }
    }
    if let Some(unused) = binds.keys().find(|k| !used.contains(*k)) {
        return Err(err!(ERROR_QUERY_BIND_PARAMETER_UNDECLARED, "bind parameter '{unused}' was not declared in the query"));
    }
    Ok(())
}

struct Executor<'a> {
    store: &'a Store,
    /// What the query reads: the state of the database when the query started, except in
    /// collections the query itself has written to (see [`Written`]).
    snapshot: &'a Snapshot<'a>,
    written: Arc<Written>,
    db: &'a Database,
    binds: &'a Map<String, Value>,
    stats: Stats,
    warnings: Vec<(errors::ErrorCode, String)>,
    opts: Options,
    started: Instant,
    /// Rows handled, to check the runtime limit now and then.
    steps: u64,
    /// Approximate bytes of rows gathered by blocking operations.
    gathered_bytes: usize,
    /// For each `FOR` over a collection (by operation index), the attributes its documents are
    /// read with when the query needs only some of them (`None`: whole documents).
    projections: HashMap<usize, Option<Arc<Projected>>>,
    /// Where a projected loop variable is read whole after all: `(operation index, variable,
    /// collection)`. Its document is fetched there by `_key` (late materialisation).
    materialize: Vec<(usize, String, Arc<Collection>)>,
    /// [`Executor::sort_bound`] for each SORT, once known.
    sort_bounds: HashMap<usize, Option<usize>>,
    /// With `profile` 2, what each operation did (empty otherwise).
    op_profile: Vec<plan::OpProfile>,
    /// The writes made so far, so that a query that fails takes them back.
    undo: Vec<Undo>,
    /// The row the query started from: the enclosing queries' variables, which rows made by
    /// COLLECT keep.
    outer_row: Row,
}

/// The database as AQL functions read it, with the caller's access checked.
struct DbAccess<'a> {
    store: &'a Store,
    /// What reads see: the query's snapshot, except in collections it wrote to.
    snapshot: &'a Snapshot<'a>,
    written: &'a Written,
    db: &'a Database,
    opts: &'a Options,
}

impl DbAccess<'_> {
    fn readable(&self, name: &str) -> Result<Arc<Collection>> {
        let col = self.db.collection(name)?;
        if self.opts.can_read.as_ref().is_some_and(|can| !can(&col.name())) {
            return Err(err!(errors::ERROR_FORBIDDEN, "forbidden: no read access to collection '{name}'").status(403));
        }
        Ok(col)
    }

    fn view(&self, col: &Collection) -> Option<&Snapshot<'_>> {
        self.written.view(self.snapshot, col)
    }
}

/// The collections (shards) a query has written to. A query reads the snapshot taken when it
/// started, so concurrent writers do not show through; a collection it has written to itself
/// is read as it is now, so that the query sees its own writes (`DOCUMENT` after `INSERT`,
/// `UPSERT` after an earlier row's insert), as in ArangoDB, where a query reads its own
/// transaction.
#[derive(Default)]
struct Written(std::sync::Mutex<HashSet<u64>>);

impl Written {
    fn add(&self, col: &Collection) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(col.id());
    }

    /// What a read of `col` sees: `snapshot`, or the current state (`None`) once the query
    /// has written to `col`.
    fn view<'s>(&self, snapshot: &'s Snapshot<'s>, col: &Collection) -> Option<&'s Snapshot<'s>> {
        let written = self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(&col.id());
        (!written).then_some(snapshot)
    }
}

impl aql::eval::Database for DbAccess<'_> {
    fn name(&self) -> String {
        self.db.name().to_string()
    }

    fn document(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        let col = match self.readable(collection) {
            Ok(c) => c,
            // A handle naming no collection finds no document, as in ArangoDB.
            Err(e) if e.code == ERROR_ARANGO_DATA_SOURCE_NOT_FOUND => return Ok(None),
            Err(e) => return Err(e),
        };
        self.store.get_document_at(&col, key, self.view(&col))?.map(|d| d.to_value(&col.name(), key)).transpose()
    }

    fn count(&self, collection: &str) -> Result<u64> {
        let col = self.readable(collection)?;
        self.store.count_at(&col, self.view(&col))
    }

    fn documents(&self, collection: &str) -> Result<Vec<Value>> {
        let col = self.readable(collection)?;
        let name = col.name();
        let (mut out, mut bytes, mut failure) = (Vec::new(), 0usize, None);
        self.store.scan_raw(&col, self.view(&col), |key, doc| match doc.to_value(&name, key) {
            Ok(v) => {
                bytes += approx_bytes(&v);
                out.push(v);
                bytes <= self.opts.memory_limit_bytes
            }
            Err(e) => {
                failure = Some(e);
                false
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if bytes > self.opts.memory_limit_bytes {
            return Err(err!(ERROR_RESOURCE_LIMIT, "collection '{name}' read as a value would use more than {} bytes of memory (memoryLimit)", self.opts.memory_limit_bytes));
        }
        Ok(out)
    }

    fn collections(&self) -> Vec<(String, String)> {
        self.db
            .collections()
            .into_iter()
            .filter(|c| self.opts.can_read.as_ref().is_none_or(|can| can(&c.name())))
            .map(|c| (c.info.read().id.to_string(), c.name()))
            .collect()
    }

    fn user(&self) -> Option<String> {
        self.opts.user.clone()
    }
}

/// One document write a query made: enough to take it back.
struct Undo {
    col: Arc<Collection>,
    key: String,
    /// The revision the write left.
    rev: u64,
    /// The document before the write; `None` when the write created it.
    old: Option<Value>,
    removed: bool,
}

/// How many rows pass between checks of `maxRuntime`.
const RUNTIME_CHECK_STEPS: u64 = 1024;

/// What a blocking operation gathered, and the per-operation state of LIMIT.
enum State {
    None,
    /// Rows that reached a LIMIT so far.
    Limit { seen: u64 },
    Gather(Vec<Row>),
    /// A SORT's rows with their sort keys and arrival numbers (which keep equal rows in
    /// order); with a LIMIT after it, trimmed to what can pass the LIMIT.
    Sorted { rows: Vec<Keyed>, next: u64 },
    /// A COLLECT without INTO: its groups so far, by canonical key, in arrival order.
    Groups(HashMap<String, Group>),
    Distinct(HashSet<String>),
}

/// How a loop reads its documents when it reads only some attributes.
struct Projected {
    /// With `_key` when the document is fetched whole later.
    attrs: Vec<String>,
    /// The attributes are read for the FILTER after the loop only: a document that passes it
    /// is read whole there and then, from the bytes in hand (see [`whole_on_pass`]).
    whole_on_pass: bool,
}

/// A row with its sort keys and arrival number.
type Keyed = (Vec<Value>, u64, Row);

/// The order of SORT `keys` over keyed rows; arrival decides between equal keys.
fn keyed_order(keys: &[(Expr, bool)], a: &Keyed, b: &Keyed) -> std::cmp::Ordering {
    sort_order(keys, &a.0, &b.0).then(a.1.cmp(&b.1))
}

/// The order of SORT `keys` over two rows' key values.
fn sort_order(keys: &[(Expr, bool)], a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    for (idx, (x, y)) in a.iter().zip(b).enumerate() {
        let c = compare(x, y);
        if c != std::cmp::Ordering::Equal {
            return if keys[idx].1 { c } else { c.reverse() };
        }
    }
    std::cmp::Ordering::Equal
}

/// The order of COLLECT groups by their keys, as AQL compares the arrays of them (which,
/// within one COLLECT, all have the same length), without building those arrays.
fn group_order(a: &[Value], b: &[Value]) -> std::cmp::Ordering {
    a.iter().zip(b).map(|(x, y)| compare(x, y)).find(|c| c.is_ne()).unwrap_or(a.len().cmp(&b.len()))
}

/// One COLLECT group gathered without keeping its rows: the key, the row count, and each
/// AGGREGATE's argument values.
struct Group {
    key: Vec<Value>,
    count: u64,
    values: Vec<Vec<Value>>,
}

impl<'a> Executor<'a> {
    fn new(store: &'a Store, snapshot: &'a Snapshot<'a>, db: &'a Database, binds: &'a Map<String, Value>, opts: Options, started: Instant) -> Executor<'a> {
        Executor {
            store,
            snapshot,
            written: Arc::default(),
            db,
            binds,
            stats: Stats::default(),
            warnings: Vec::new(),
            opts,
            started,
            steps: 0,
            gathered_bytes: 0,
            projections: HashMap::new(),
            materialize: Vec::new(),
            sort_bounds: HashMap::new(),
            op_profile: Vec::new(),
            undo: Vec::new(),
            outer_row: Row::new(),
        }
    }

    /// Evaluates an expression in a row; subqueries run through this executor.
    fn eval(&mut self, e: &Expr, row: &Row) -> Result<Value> {
        self.eval_with(e, row, None)
    }

    /// [`Self::eval`] with one more variable bound: a loop's document before it becomes part
    /// of a row.
    fn eval_with(&mut self, e: &Expr, row: &Row, pending: Option<(&str, &Value)>) -> Result<Value> {
        let store = self.store;
        let snapshot = self.snapshot;
        let written = &self.written;
        let db = self.db;
        let binds = self.binds;
        let opts = &self.opts;
        let started = self.started;
        let sub_stats = std::cell::RefCell::new(Stats::default());
        let sub_undo = std::cell::RefCell::new(Vec::new());
        let sub_warnings = std::cell::RefCell::new(Vec::new());
        let run_sub = |q: &Query, vars: &[(String, Value)]| -> Result<Value> {
            let mut ex = Executor::new(store, snapshot, db, binds, opts.clone(), started);
            ex.written = written.clone();
            let mut out = Vec::new();
            let ran = ex.run_query(q, vars.to_vec(), &mut |v| {
                out.push(v);
                Ok(true)
            });
            // A subquery's writes are the query's: taken back with the rest if it fails.
            sub_undo.borrow_mut().append(&mut ex.undo);
            sub_warnings.borrow_mut().append(&mut ex.warnings);
            ran?;
            sub_stats.borrow_mut().add(&ex.stats);
            Ok(Value::Array(out))
        };
        let access = DbAccess { store, snapshot, written, db, opts };
        let mut env = Env::new(binds);
        env.vars = row;
        env.kill = opts.kill.as_deref();
        env.subquery = Some(&run_sub);
        env.db = Some(&access);
        env.pending = pending;
        let v = eval(e, &mut env);
        self.warnings.append(&mut env.warnings);
        self.warnings.append(&mut sub_warnings.into_inner());
        self.stats.add(&sub_stats.into_inner());
        self.undo.append(&mut sub_undo.into_inner());
        // failOnWarning: the first warning ends the query as an error.
        if let (true, Some((code, message))) = (self.opts.fail_on_warning, self.warnings.first()) {
            return Err(ArangoError::with_message(*code, message.clone()).status(400));
        }
        v
    }

    fn run_query(&mut self, q: &Query, row: Row, out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<()> {
        self.outer_row = row.clone();
        let mut states: Vec<State> = q.ops.iter().map(|_| State::None).collect();
        self.step(&q.ops, 0, row, &mut states, out)?;
        // Operations that waited for all their input go on now, in order.
        for i in 0..q.ops.len() {
            let rows = match std::mem::replace(&mut states[i], State::None) {
                State::Gather(rows) => rows,
                State::Sorted { mut rows, .. } => {
                    let Op::Sort(keys) = &q.ops[i] else { continue };
                    rows.sort_unstable_by(|a, b| keyed_order(keys, a, b));
                    let sorted = rows.into_iter().map(|(_, _, r)| r).collect();
                    if !self.pass_on(&q.ops, i, sorted, &mut states, out)? {
                        break;
                    }
                    continue;
                }
                State::Groups(groups) => {
                    let Op::Collect(c) = &q.ops[i] else { continue };
                    self.collected(c, groups.into_values().collect())?
                }
                // A COLLECT without groups makes one row even when nothing reached it.
                State::None if matches!(&q.ops[i], Op::Collect(c) if c.groups.is_empty()) => {
                    let Op::Collect(c) = &q.ops[i] else { continue };
                    // With INTO or KEEP, `finish` below collects the no rows into one group.
                    if c.streams() {
                        self.collected(c, Vec::new())?
                    } else {
                        Vec::new()
                    }
                }
                other => {
                    states[i] = other;
                    continue;
                }
            };
            let more = match &q.ops[i] {
                Op::Collect(c) if c.streams() => self.pass_on(&q.ops, i, rows, &mut states, out)?,
                _ => self.finish(&q.ops, i, rows, &mut states, out)?,
            };
            if !more {
                break;
            }
        }
        // fullCount: the rows that reached the query's first LIMIT.
        if self.opts.full_count {
            if let Some(State::Limit { seen }) = states.iter().find(|s| matches!(s, State::Limit { .. })) {
                self.stats.full_count = Some(*seen);
            }
        }
        Ok(())
    }

    /// Hands one row to operation `i`. Returns false when no more input is wanted.
    fn step(&mut self, ops: &[Op], i: usize, row: Row, states: &mut [State], out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<bool> {
        if self.op_profile.is_empty() {
            return self.step_op(ops, i, row, states, out);
        }
        if let Some(previous) = i.checked_sub(1).and_then(|p| self.op_profile.get_mut(p)) {
            previous.items += 1;
        }
        if i >= self.op_profile.len() {
            return self.step_op(ops, i, row, states, out);
        }
        let started = Instant::now();
        self.op_profile[i].calls += 1;
        let more = self.step_op(ops, i, row, states, out);
        self.op_profile[i].inclusive_s += started.elapsed().as_secs_f64();
        more
    }

    fn step_op(&mut self, ops: &[Op], i: usize, mut row: Row, states: &mut [State], out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<bool> {
        self.check_limits()?;
        let Some(op) = ops.get(i) else {
            // A modification as the last operation returns nothing.
            return Ok(true);
        };
        if self.fetched_at(i) {
            self.materialize_row(i, &mut row)?;
        }
        match op {
            Op::For { var, source, .. } => {
                if let Some(col) = self.collection_of(source, &row)? {
                    let access = index_access(var, ops.get(i + 1), col.info.read().is_edge()).filter(|_| self.opts.rule_enabled("use-indexes"));
                    let projection = self.projection(ops, i, var, &col, access.is_some());
                    // remove-filter-covered-by-index: what the index finds passes the FILTER.
                    let covered = access.as_ref().is_some_and(|a| a.covers_filter) && self.opts.rule_enabled("remove-filter-covered-by-index") && self.op_profile.is_empty() && !self.fetched_at(i + 1);
                    let prune = pruned_filter(ops, i, &self.opts, self.fetched_at(i + 1));
                    let Some(access) = access else {
                        return self.scan(ops, i, var, &col, &row, projection.as_deref(), prune, states, out);
                    };
                    let name = col.name();
                    for (key, doc) in self.index_lookup(&col, &access, &row)? {
                        self.stats.scanned_index += 1;
                        let doc = match &projection {
                            Some(p) => doc.project(&name, &key, &p.attrs)?,
                            None => doc.to_value(&name, &key)?,
                        };
                        let next = match prune {
                            _ if covered => i + 2,
                            Some(cond) if !self.passes(cond, &row, var, &doc)? => continue,
                            Some(_) => i + 2,
                            None => i + 1,
                        };
                        if !self.emit(ops, next, var, &row, doc, states, out)? {
                            return Ok(false);
                        }
                    }
                    return Ok(true);
                }
                let items = match self.eval(source, &row)? {
                    Value::Array(a) => a,
                    Value::Null => Vec::new(),
                    other => {
                        return Err(err!(errors::ERROR_QUERY_ARRAY_EXPECTED, "collection or array expected as operand to FOR loop; you provided a value of type '{}'", type_name(&other)))
                    }
                };
                for item in items {
                    let mut r = row.clone();
                    r.push((var.clone(), item));
                    if !self.step(ops, i + 1, r, states, out)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Op::Let { var, expr } => {
                let v = self.eval(expr, &row)?;
                row.push((var.clone(), v));
                self.step(ops, i + 1, row, states, out)
            }
            Op::Filter(e) => {
                if truthy(&self.eval(e, &row)?) {
                    self.step(ops, i + 1, row, states, out)
                } else {
                    self.stats.filtered += 1;
                    Ok(true)
                }
            }
            Op::Limit { offset, count } => {
                let offset = self.eval(offset, &row)?.as_u64().unwrap_or(0);
                let count = match self.eval(count, &row)? {
                    Value::Null => u64::MAX,
                    v => v.as_u64().ok_or_else(|| err!(errors::ERROR_QUERY_NUMBER_OUT_OF_RANGE, "LIMIT value is not a non-negative number"))?,
                };
                if matches!(states[i], State::None) {
                    states[i] = State::Limit { seen: 0 };
                }
                let State::Limit { seen } = &mut states[i] else { return Ok(true) };
                *seen += 1;
                let seen = *seen;
                let end = offset.saturating_add(count);
                if seen <= offset {
                    return Ok(true);
                }
                if seen > end {
                    // With fullCount the rest is only counted.
                    return Ok(self.opts.full_count);
                }
                let more = self.step(ops, i + 1, row, states, out)?;
                Ok(more && (self.opts.full_count || seen < end))
            }
            Op::Collect(c) if c.streams() => {
                // Grouped as rows arrive; only the groups are kept.
                let key: Vec<Value> = c.groups.iter().map(|(_, e)| self.eval(e, &row)).collect::<Result<_>>()?;
                let values: Vec<Value> = c.aggregates.iter().map(|(_, e)| self.aggregate_argument(e, &row)).collect::<Result<_>>()?;
                if matches!(states[i], State::None) {
                    states[i] = State::Groups(HashMap::new());
                }
                let State::Groups(groups) = &mut states[i] else { return Ok(true) };
                let canonical_key = serde_json::to_string(&key).unwrap_or_default();
                let added: usize = values.iter().map(approx_bytes).sum();
                let group = match groups.get_mut(&canonical_key) {
                    Some(g) => g,
                    None => {
                        self.gathered_bytes += canonical_key.len() * 2;
                        groups.entry(canonical_key).or_insert(Group { key, count: 0, values: vec![Vec::new(); c.aggregates.len()] })
                    }
                };
                group.count += 1;
                for (slot, v) in group.values.iter_mut().zip(values) {
                    slot.push(v);
                }
                self.charge(added)?;
                Ok(true)
            }
            Op::Traverse(t) => Err(err!(
                errors::ERROR_NOT_IMPLEMENTED,
                "graph traversals and path searches ({} {}) are parsed but not executed yet; they come with the graph issue",
                t.direction,
                t.kind
            )
            .status(501)),
            Op::Sort(keys) => {
                let k: Vec<Value> = keys.iter().map(|(e, _)| self.eval(e, &row)).collect::<Result<_>>()?;
                self.charge(row_bytes(&row) + k.iter().map(approx_bytes).sum::<usize>())?;
                if matches!(states[i], State::None) {
                    states[i] = State::Sorted { rows: Vec::new(), next: 0 };
                }
                let bound = self.sort_bound(ops, i);
                let State::Sorted { rows, next } = &mut states[i] else { return Ok(true) };
                if rows.len() >= GATHERED_ROWS_MAX {
                    return Err(err!(ERROR_RESOURCE_LIMIT, "query gathers more than {GATHERED_ROWS_MAX} rows in one operation"));
                }
                rows.push((k, *next, row));
                *next += 1;
                // sort-limit: with a LIMIT after it, only the rows that can still pass the
                // LIMIT are kept; now and then the rest are dropped.
                if let Some(bound) = bound.filter(|b| rows.len() >= b.max(&SORT_LIMIT_TRIM_MIN).saturating_mul(2)) {
                    rows.select_nth_unstable_by(bound, |a, b| keyed_order(keys, a, b));
                    let dropped: usize = rows.drain(bound..).map(|(k, _, r)| row_bytes(&r) + k.iter().map(approx_bytes).sum::<usize>()).sum();
                    self.gathered_bytes = self.gathered_bytes.saturating_sub(dropped);
                }
                Ok(true)
            }
            Op::Window { .. } | Op::Collect(_) | Op::Insert { .. } | Op::Update { .. } | Op::Replace { .. } | Op::Remove { .. } | Op::Upsert { .. } => {
                if matches!(states[i], State::None) {
                    states[i] = State::Gather(Vec::new());
                }
                self.charge(row_bytes(&row))?;
                if let State::Gather(rows) = &mut states[i] {
                    if rows.len() >= GATHERED_ROWS_MAX {
                        return Err(err!(ERROR_RESOURCE_LIMIT, "query gathers more than {GATHERED_ROWS_MAX} rows in one operation"));
                    }
                    rows.push(row);
                }
                Ok(true)
            }
            Op::Return { distinct, expr } => {
                // The row ends here: a returned variable is moved out of it, not copied.
                let v = match expr {
                    Expr::Var(name) => match row.iter().rposition(|(n, _)| n == name) {
                        Some(at) => row.swap_remove(at).1,
                        None => self.eval(expr, &row)?,
                    },
                    _ => self.eval(expr, &row)?,
                };
                if *distinct {
                    if matches!(states[i], State::None) {
                        states[i] = State::Distinct(HashSet::new());
                    }
                    if let State::Distinct(seen) = &mut states[i] {
                        if !seen.insert(canonical(&v)) {
                            return Ok(true);
                        }
                    }
                }
                if let Some(p) = self.op_profile.get_mut(i) {
                    p.items += 1;
                }
                out(v)
            }
        }
    }

    /// Runs a blocking operation over everything it gathered, and the rest after it.
    fn finish(&mut self, ops: &[Op], i: usize, rows: Vec<Row>, states: &mut [State], out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<bool> {
        let next: Vec<Row> = match &ops[i] {
            Op::Collect(c) => self.collect(c, rows)?,
            Op::Window { range, bounds, aggregates } => self.window(range.as_ref(), bounds, aggregates, rows)?,
            op => self.modify(op, rows)?,
        };
        for r in next {
            if !self.step(ops, i + 1, r, states, out)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// How many sorted rows the SORT at `i` must keep when a LIMIT with a constant offset and
    /// count follows it (`offset + count`); `None` when it must keep all.
    fn sort_bound(&mut self, ops: &[Op], i: usize) -> Option<usize> {
        if let Some(b) = self.sort_bounds.get(&i) {
            return *b;
        }
        let b = self.compute_sort_bound(ops, i);
        self.sort_bounds.insert(i, b);
        b
    }

    fn compute_sort_bound(&mut self, ops: &[Op], i: usize) -> Option<usize> {
        let (offset, count) = sort_limit(ops, i, &self.opts)?;
        let offset = self.eval(offset, &Row::new()).ok()?.as_u64()?;
        let count = self.eval(count, &Row::new()).ok()?.as_u64()?;
        // A bound as large as the most rows a SORT may gather keeps them all anyway.
        usize::try_from(offset.saturating_add(count)).ok().filter(|b| *b < GATHERED_ROWS_MAX)
    }

    fn collect(&mut self, c: &Collect, rows: Vec<Row>) -> Result<Vec<Row>> {
        let mut groups: BTreeMap<String, (Vec<Value>, Vec<Row>)> = BTreeMap::new();
        for r in rows {
            let key: Vec<Value> = c.groups.iter().map(|(_, e)| self.eval(e, &r)).collect::<Result<_>>()?;
            groups.entry(canonical(&Value::Array(key.clone()))).or_insert_with(|| (key, Vec::new())).1.push(r);
        }
        if groups.is_empty() && c.groups.is_empty() {
            groups.insert(String::new(), (Vec::new(), Vec::new()));
        }
        let mut groups: Vec<(Vec<Value>, Vec<Row>)> = groups.into_values().collect();
        groups.sort_by(|(a, _), (b, _)| group_order(a, b));
        let mut out = Vec::with_capacity(groups.len());
        for (key, members) in groups {
            let mut row: Row = self.outer_row.clone();
            row.extend(c.groups.iter().map(|(v, _)| v.clone()).zip(key));
            for (var, e) in &c.aggregates {
                row.push((var.clone(), self.aggregate(e, &members)?));
            }
            if let Some(var) = &c.count_into {
                row.push((var.clone(), json!(members.len())));
            }
            if let Some((var, projection)) = &c.into {
                let items = members
                    .iter()
                    .map(|m| match projection {
                        Some(p) => self.eval(p, m),
                        None => {
                            let keep: Map<String, Value> = m
                                .iter()
                                .filter(|(k, _)| c.keep.is_empty() || c.keep.contains(k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect();
                            Ok(Value::Object(keep))
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                row.push((var.clone(), Value::Array(items)));
            }
            out.push(row);
        }
        Ok(out)
    }

    /// `WINDOW`: each row gets the aggregates over the rows around it — by position
    /// (`{preceding, following}` counts of rows, or `"unbounded"`), or with a range value by
    /// the rows whose value lies within `[value - preceding, value + following]` (the rows
    /// must come sorted by that value, as in ArangoDB).
    fn window(&mut self, range: Option<&Expr>, bounds: &Expr, aggregates: &[(String, Expr)], rows: Vec<Row>) -> Result<Vec<Row>> {
        let bounds = self.eval(bounds, &Row::new())?;
        let mut durations = false;
        let mut bound = |name: &str| -> Result<Option<f64>> {
            match bounds.get(name) {
                None | Some(Value::Null) => Ok(Some(0.0)),
                Some(Value::String(s)) if s == "unbounded" => Ok(None),
                // An ISO 8601 duration over a range of dates, in milliseconds.
                Some(Value::String(s)) if range.is_some() => match aql::functions::parse_duration(s) {
                    Some((0, ms)) if ms >= 0 => {
                        durations = true;
                        Ok(Some(ms as f64))
                    }
                    Some((_, ms)) if ms >= 0 => Err(err!(errors::ERROR_NOT_IMPLEMENTED, "WINDOW durations in months or years are not built yet; use days").status(501)),
                    _ => Err(err!(errors::ERROR_BAD_PARAMETER, "WINDOW {name} must be a non-negative number, an ISO 8601 duration or \"unbounded\"")),
                },
                Some(v) => match v.as_f64() {
                    Some(n) if n >= 0.0 => Ok(Some(n)),
                    _ => Err(err!(errors::ERROR_BAD_PARAMETER, "WINDOW {name} must be a non-negative number or \"unbounded\"")),
                },
            }
        };
        let (preceding, following) = (bound("preceding")?, bound("following")?);
        let keys: Option<Vec<f64>> = match range {
            Some(r) => {
                let mut keys = Vec::with_capacity(rows.len());
                for row in &rows {
                    let v = self.eval(r, row)?;
                    // With durations the range values are dates: timestamps or ISO strings.
                    let v = if durations && v.is_string() { aql::functions::call("DATE_TIMESTAMP", vec![v], &mut Env::new(self.binds))? } else { v };
                    keys.push(aql::value::to_number(&v));
                }
                Some(keys)
            }
            None => None,
        };
        let args: Vec<Vec<Value>> = aggregates.iter().map(|(_, e)| rows.iter().map(|r| self.aggregate_argument(e, r)).collect()).collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        let mut work = 0usize;
        for (i, mut row) in rows.into_iter().enumerate() {
            self.check_limits()?;
            let (from, to) = match &keys {
                None => (
                    preceding.map_or(0, |p| i.saturating_sub(p as usize)),
                    following.map_or(args.first().map_or(0, Vec::len), |f| i.saturating_add(f as usize).saturating_add(1)),
                ),
                Some(keys) => {
                    let (low, high) = (preceding.map_or(f64::NEG_INFINITY, |p| keys[i] - p), following.map_or(f64::INFINITY, |f| keys[i] + f));
                    (keys.partition_point(|k| *k < low), keys.partition_point(|k| *k <= high))
                }
            };
            for ((var, e), values) in aggregates.iter().zip(&args) {
                let to = to.min(values.len());
                let window = values.get(from.min(to)..to).unwrap_or_default().to_vec();
                work += window.len();
                if work > WINDOW_VALUES_MAX {
                    return Err(err!(ERROR_RESOURCE_LIMIT, "WINDOW would aggregate more than {WINDOW_VALUES_MAX} values in all; narrow its bounds"));
                }
                row.push((var.clone(), self.aggregate_values(e, window)?));
            }
            out.push(row);
        }
        Ok(out)
    }

    /// The rows a COLLECT without INTO makes of its groups, sorted by group key.
    fn collected(&mut self, c: &Collect, mut groups: Vec<Group>) -> Result<Vec<Row>> {
        if groups.is_empty() && c.groups.is_empty() {
            groups.push(Group { key: Vec::new(), count: 0, values: vec![Vec::new(); c.aggregates.len()] });
        }
        groups.sort_by(|a, b| group_order(&a.key, &b.key));
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let mut row: Row = self.outer_row.clone();
            row.extend(c.groups.iter().map(|(v, _)| v.clone()).zip(g.key));
            for ((var, e), values) in c.aggregates.iter().zip(g.values) {
                row.push((var.clone(), self.aggregate_values(e, values)?));
            }
            if let Some(var) = &c.count_into {
                row.push((var.clone(), json!(g.count)));
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Hands rows on to the operations after `i`.
    fn pass_on(&mut self, ops: &[Op], i: usize, rows: Vec<Row>, states: &mut [State], out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<bool> {
        for r in rows {
            if !self.step(ops, i + 1, r, states, out)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The argument of `AGGREGATE x = FUNC(arg)` in a row.
    fn aggregate_argument(&mut self, e: &Expr, row: &Row) -> Result<Value> {
        let Expr::Call(name, args) = e else {
            return Err(err!(errors::ERROR_QUERY_PARSE, "AGGREGATE expects a function call such as SUM(x)"));
        };
        let arg = args.first().ok_or_else(|| err!(errors::ERROR_QUERY_FUNCTION_ARGUMENT_NUMBER_MISMATCH, "{name}() needs an argument"))?;
        self.eval(arg, row)
    }

    /// `AGGREGATE x = FUNC(expr)`: the function applied to the expression over a group.
    fn aggregate(&mut self, e: &Expr, members: &[Row]) -> Result<Value> {
        let values = members.iter().map(|m| self.aggregate_argument(e, m)).collect::<Result<Vec<_>>>()?;
        self.aggregate_values(e, values)
    }

    /// `FUNC` of `AGGREGATE x = FUNC(…)` over the argument's values in a group.
    fn aggregate_values(&mut self, e: &Expr, values: Vec<Value>) -> Result<Value> {
        let Expr::Call(name, _) = e else {
            return Err(err!(errors::ERROR_QUERY_PARSE, "AGGREGATE expects a function call such as SUM(x)"));
        };
        let f = match name.as_str() {
            "LENGTH" | "COUNT" => return Ok(json!(values.len())),
            "SUM" | "MIN" | "MAX" | "AVERAGE" | "AVG" | "UNIQUE" => name.as_str(),
            other => return Err(err!(errors::ERROR_NOT_IMPLEMENTED, "aggregate function {other}() is not built yet").status(501)),
        };
        let mut env = Env::new(self.binds);
        aql::functions::call(f, vec![Value::Array(values)], &mut env)
    }

    /// Writes what a modification operation gathered, as one atomic batch, and passes the
    /// rows on with `NEW` and `OLD`.
    fn modify(&mut self, op: &Op, rows: Vec<Row>) -> Result<Vec<Row>> {
        let (collection, options) = match op {
            Op::Insert { collection, options, .. } | Op::Remove { collection, options, .. } => (collection, options),
            Op::Update { collection, options, .. } | Op::Replace { collection, options, .. } => (collection, options),
            Op::Upsert { .. } => return self.upsert(op, rows),
            _ => return Ok(rows),
        };
        let first = rows.first().cloned().unwrap_or_default();
        let col = self
            .collection_of(collection, &first)?
            .ok_or_else(|| err!(ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, "collection or view not found"))?;
        let opts_value = match options {
            Some(o) => self.eval(o, &first)?,
            None => json!({}),
        };
        let flag = |name: &str, default: bool| opts_value.get(name).and_then(Value::as_bool).unwrap_or(default);
        let ignore_errors = flag("ignoreErrors", false);
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let (body, key) = match op {
                Op::Insert { doc, .. } => (self.eval(doc, r)?, None),
                Op::Remove { key, .. } => (key_selector(self.eval(key, r)?), None),
                Op::Update { key, with, .. } | Op::Replace { key, with, .. } => match with {
                    Some(w) => (self.eval(w, r)?, key_of(&self.eval(key, r)?)),
                    None => {
                        let doc = self.eval(key, r)?;
                        let k = key_of(&doc);
                        (doc, k)
                    }
                },
                _ => unreachable!("handled above"),
            };
            items.push(WriteItem { body, key, if_match: None });
        }
        let kind = match op {
            Op::Insert { .. } => WriteKind::Insert(match opts_value.get("overwriteMode").and_then(Value::as_str) {
                Some(m) => OverwriteMode::parse(m).ok_or_else(|| err!(errors::ERROR_BAD_PARAMETER, "invalid overwriteMode"))?,
                None if flag("overwrite", false) => OverwriteMode::Replace,
                None => OverwriteMode::Conflict,
            }),
            Op::Update { .. } => WriteKind::Update,
            Op::Replace { .. } => WriteKind::Replace,
            _ => WriteKind::Remove,
        };
        let write_opts = WriteOptions {
            wait_for_sync: flag("waitForSync", self.opts.wait_for_sync),
            keep_null: flag("keepNull", true),
            merge_objects: flag("mergeObjects", true),
            ignore_revs: flag("ignoreRevs", true),
            return_old: true,
            return_new: true,
            all_or_nothing: !ignore_errors,
            ..WriteOptions::default()
        };
        let (results, _) = self.store.write_documents(&col, kind, items, &write_opts)?;
        let mut out = Vec::with_capacity(rows.len());
        for (mut r, res) in rows.into_iter().zip(results) {
            match res {
                Ok(w) => {
                    if !w.ignored {
                        self.undo.push(Undo { col: col.clone(), key: w.key.clone(), rev: w.rev, old: w.old.clone(), removed: kind == WriteKind::Remove });
                        self.written.add(&col);
                    }
                    self.stats.writes_executed += u64::from(!w.ignored);
                    r.push(("NEW".into(), w.new.unwrap_or(Value::Null)));
                    r.push(("OLD".into(), w.old.unwrap_or(Value::Null)));
                    out.push(r);
                }
                Err(e) if ignore_errors => {
                    let _ = e;
                    self.stats.writes_ignored += 1;
                }
                Err(e) => return Err(e.error),
            }
        }
        Ok(out)
    }

    /// `UPSERT search INSERT doc UPDATE|REPLACE patch IN collection`, row by row: each row
    /// looks for a document matching `search` (seeing the rows before it), and updates or
    /// replaces it with `OLD` bound, or inserts. Without an index the search scans the
    /// collection. UPSERT writes row by row; if the query fails, [`Executor::roll_back`]
    /// takes the writes back.
    fn upsert(&mut self, op: &Op, rows: Vec<Row>) -> Result<Vec<Row>> {
        let Op::Upsert { search, insert, update, replace, collection, options } = op else { return Ok(rows) };
        let mut out = Vec::with_capacity(rows.len());
        for mut r in rows {
            let col = self
                .collection_of(collection, &r)?
                .ok_or_else(|| err!(ERROR_ARANGO_DATA_SOURCE_NOT_FOUND, "collection or view not found"))?;
            let Value::Object(wanted) = self.eval(search, &r)? else {
                return Err(err!(errors::ERROR_QUERY_PARSE, "UPSERT search expression must be an object"));
            };
            let found = self.find_matching(&col, &wanted)?;
            let opts_value = match options {
                Some(o) => self.eval(o, &r)?,
                None => json!({}),
            };
            let write_opts = WriteOptions {
                wait_for_sync: opts_value.get("waitForSync").and_then(Value::as_bool).unwrap_or(self.opts.wait_for_sync),
                keep_null: opts_value.get("keepNull").and_then(Value::as_bool).unwrap_or(true),
                merge_objects: opts_value.get("mergeObjects").and_then(Value::as_bool).unwrap_or(true),
                return_old: true,
                return_new: true,
                ..WriteOptions::default()
            };
            let (kind, item) = match &found {
                Some(old) => {
                    r.push(("OLD".into(), old.clone()));
                    let body = self.eval(update, &r)?;
                    r.pop();
                    let key = old.get("_key").and_then(Value::as_str).map(str::to_string);
                    (if *replace { WriteKind::Replace } else { WriteKind::Update }, WriteItem { body, key, if_match: None })
                }
                None => (WriteKind::Insert(OverwriteMode::Conflict), WriteItem { body: self.eval(insert, &r)?, key: None, if_match: None }),
            };
            let (mut results, _) = self.store.write_documents(&col, kind, vec![item], &write_opts)?;
            match results.pop() {
                Some(Ok(w)) => {
                    self.undo.push(Undo { col: col.clone(), key: w.key.clone(), rev: w.rev, old: w.old.clone(), removed: false });
                    self.written.add(&col);
                    self.stats.writes_executed += 1;
                    r.push(("NEW".into(), w.new.unwrap_or(Value::Null)));
                    r.push(("OLD".into(), found.unwrap_or(Value::Null)));
                    out.push(r);
                }
                Some(Err(e)) => return Err(e.error),
                None => {}
            }
        }
        Ok(out)
    }

    /// The first document whose attributes equal every attribute of `wanted`.
    fn find_matching(&mut self, col: &Collection, wanted: &Map<String, Value>) -> Result<Option<Value>> {
        // A `_key` in the search is a point lookup.
        if let Some(Value::String(k)) = wanted.get("_key") {
            let doc = self.store.get_document_at(col, k, self.view(col))?.map(|d| d.to_value(&col.name(), k)).transpose()?;
            self.stats.scanned_index += 1;
            return Ok(doc.filter(|d| wanted.iter().all(|(a, v)| d.get(a).is_some_and(|x| compare(x, v).is_eq()))));
        }
        let name = col.name();
        let mut found = Ok(None);
        let mut scanned = 0;
        self.store.scan_raw(col, self.view(col), |key, doc| {
            scanned += 1;
            found = doc.to_value(&name, key).map(|d| wanted.iter().all(|(a, v)| d.get(a).is_some_and(|x| compare(x, v).is_eq())).then_some(d));
            matches!(found, Ok(None))
        })?;
        self.stats.scanned_full += scanned;
        found
    }

    /// Whether a loop's document passes the FILTER after the loop (`move-filters-into-enumerate`).
    fn passes(&mut self, cond: &Expr, row: &Row, var: &str, doc: &Value) -> Result<bool> {
        let kept = truthy(&self.eval_with(cond, row, Some((var, doc)))?);
        if !kept {
            self.stats.filtered += 1;
        }
        Ok(kept)
    }

    /// Hands a loop's document on, as part of a row, to operation `next`.
    #[allow(clippy::too_many_arguments)]
    fn emit(&mut self, ops: &[Op], next: usize, var: &str, row: &Row, doc: Value, states: &mut [State], out: &mut dyn FnMut(Value) -> Result<bool>) -> Result<bool> {
        let mut r = row.clone();
        r.push((var.to_string(), doc));
        self.step(ops, next, r, states, out)
    }

    /// A `FOR` over a whole collection (see [`scan`]). The FILTER after the loop (`prune`) runs
    /// inside the scan when it runs no subquery and no warning may end the query; otherwise
    /// here, through this executor.
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &mut self,
        ops: &[Op],
        i: usize,
        var: &str,
        col: &Arc<Collection>,
        row: &Row,
        projection: Option<&Projected>,
        prune: Option<&Expr>,
        states: &mut [State],
        out: &mut dyn FnMut(Value) -> Result<bool>,
    ) -> Result<bool> {
        let inside = prune.filter(|c| filters_while_reading(c, &self.opts));
        let threads = self.scan_threads(col)?;
        let next = if prune.is_some() { i + 2 } else { i + 1 };
        // sort-limit within the scan needs the FILTER applied there first.
        let top = if prune.is_none() || inside.is_some() { self.scan_top(ops, next, var) } else { None };
        let opts = self.opts.clone();
        let name = col.name();
        let written = self.written.clone();
        // A collection the query wrote to is read as it is now, in one state for all pieces.
        let now;
        let snapshot = match self.view(col) {
            Some(s) => s,
            None => {
                now = self.store.snapshot();
                &now
            }
        };
        let scan = scan::Scan {
            store: self.store,
            snapshot,
            col,
            name: &name,
            attrs: projection.map(|p| &p.attrs[..]),
            whole_on_pass: projection.is_some_and(|p| p.whole_on_pass),
            filter: inside,
            compiled: inside.and_then(|c| aql::compiled::Condition::compile(c, var, self.binds)),
            var,
            row,
            binds: self.binds,
            access: DbAccess { store: self.store, snapshot: self.snapshot, written: &written, db: self.db, opts: &opts },
            deadline: opts.max_runtime.map(|d| self.started + d),
            top,
        };
        let mut counts = scan::Counts::default();
        let outcome = scan.run(threads, &mut counts, |doc, counts| {
            // The filter's warnings so far come before what this document raises downstream.
            self.warnings.append(&mut counts.warnings);
            if let (None, Some(cond)) = (inside, prune) {
                if !self.passes(cond, row, var, &doc)? {
                    return Ok(true);
                }
            }
            self.emit(ops, next, var, row, doc.into_owned(), states, out)
        });
        self.stats.scanned_full += counts.scanned;
        self.stats.filtered += counts.filtered;
        self.warnings.append(&mut counts.warnings);
        outcome
    }

    /// `sort-limit` within a scan (see [`scan::Top`]), when the scan's rows go to operation
    /// `next`, a SORT on attributes of the loop's documents with a constant LIMIT after it.
    fn scan_top<'q>(&mut self, ops: &'q [Op], next: usize, var: &str) -> Option<scan::Top<'q>> {
        let Some(Op::Sort(keys)) = ops.get(next) else { return None };
        if self.opts.profile >= 2 || !keys.iter().all(|(e, _)| aql::compiled::attribute_path(e, var).is_some()) {
            return None;
        }
        let keep = self.sort_bound(ops, next)?;
        // Each range may hold its rows at once, and about three ranges per thread are held.
        let bytes_max = self.opts.memory_limit_bytes / (3 * self.opts.scan_threads.max(1));
        (keep <= SCAN_TOP_MAX).then_some(scan::Top { keys, keep, bytes_max })
    }

    fn scan_threads(&self, col: &Collection) -> Result<usize> {
        Ok(if scan_parallel(&self.opts) { scan_threads(&self.opts, self.store.count(col)?) } else { 1 })
    }

    /// The attributes the `FOR` at `i` needs of its documents, when not all (see
    /// [`chosen_projection`]); decided once per loop.
    fn projection(&mut self, ops: &[Op], i: usize, var: &str, col: &Arc<Collection>, indexed: bool) -> Option<Arc<Projected>> {
        if let Some(p) = self.projections.get(&i) {
            return p.clone();
        }
        let fetched_at_filter = self.fetched_at(i + 1);
        let p = chosen_projection(ops, i, var, &self.opts, indexed).map(|(mut attrs, whole_at)| {
            let whole_on_pass = !indexed && whole_on_pass(ops, i, whole_at, &self.opts, fetched_at_filter);
            match whole_at {
                Some(at) if !whole_on_pass => {
                    self.materialize.push((at, var.to_string(), col.clone()));
                    // A document fetched whole later is fetched by its key.
                    if !attrs.iter().any(|a| a == "_key") {
                        attrs.push("_key".into());
                    }
                }
                _ => {}
            }
            Arc::new(Projected { attrs, whole_on_pass })
        });
        self.projections.insert(i, p.clone());
        p
    }

    /// What a read of `col` sees (see [`Written`]).
    fn view(&self, col: &Collection) -> Option<&'a Snapshot<'a>> {
        self.written.view(self.snapshot, col)
    }

    /// Counts `bytes` more held by gathering operations; past `memoryLimit` the query ends
    /// with `ERROR_RESOURCE_LIMIT`.
    fn charge(&mut self, bytes: usize) -> Result<()> {
        self.gathered_bytes += bytes;
        if self.gathered_bytes > self.opts.memory_limit_bytes {
            return Err(err!(ERROR_RESOURCE_LIMIT, "query would use more than {} bytes of memory (memoryLimit)", self.opts.memory_limit_bytes));
        }
        Ok(())
    }

    /// Whether a document read by an earlier loop is fetched whole at operation `i`.
    fn fetched_at(&self, i: usize) -> bool {
        self.materialize.iter().any(|(at, ..)| *at == i)
    }

    /// Takes back the query's writes, newest first: a created document is removed, a changed
    /// or removed one is put back as it was, revision included. A document another writer
    /// changed since is left alone (its revision no longer matches).
    fn roll_back(&mut self) {
        let restore = WriteOptions { wait_for_sync: true, is_restore: true, skip_validation: true, ignore_revs: false, ..WriteOptions::default() };
        for u in self.undo.drain(..).rev() {
            let if_match = Some(docstore::clock::encode_rev(u.rev));
            let (kind, body) = match (u.old, u.removed) {
                (None, _) => (WriteKind::Remove, json!({"_key": u.key})),
                (Some(old), false) => (WriteKind::Replace, old),
                (Some(old), true) => (WriteKind::Insert(OverwriteMode::Conflict), old),
            };
            let if_match = if u.removed { None } else { if_match };
            let item = WriteItem { body, key: Some(u.key.clone()), if_match };
            let failed = match self.store.write_documents(&u.col, kind, vec![item], &restore) {
                Ok((results, _)) => results.into_iter().find_map(Result::err).map(|e| e.error),
                Err(e) => Some(e),
            };
            if let Some(e) = failed {
                tracing::warn!("could not take back the write of {}/{} after the query failed: {e}", u.col.name(), u.key);
            }
        }
    }

    /// Every [`RUNTIME_CHECK_STEPS`] calls: stops the query when it ran past `maxRuntime` or
    /// was killed.
    fn check_limits(&mut self) -> Result<()> {
        self.steps += 1;
        if !self.steps.is_multiple_of(RUNTIME_CHECK_STEPS) {
            return Ok(());
        }
        if let Some(max) = self.opts.max_runtime {
            if self.started.elapsed() > max {
                return Err(err!(errors::ERROR_QUERY_KILLED, "query killed: it ran longer than maxRuntime ({} s)", max.as_secs_f64()));
            }
        }
        if self.opts.kill.as_ref().is_some_and(|k| k.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(err!(errors::ERROR_QUERY_KILLED, "query killed"));
        }
        Ok(())
    }

    /// Replaces projected documents by whole ones where operation `i` needs them.
    fn materialize_row(&mut self, i: usize, row: &mut Row) -> Result<()> {
        for (at, var, col) in &self.materialize {
            if *at != i {
                continue;
            }
            let Some((_, value)) = row.iter_mut().rev().find(|(n, _)| n == var) else { continue };
            let Some(key) = value.get("_key").and_then(Value::as_str).map(str::to_string) else { continue };
            // A document the query removed meanwhile stays as it was read.
            if let Some(doc) = self.store.get_document_at(col, &key, self.view(col))? {
                *value = doc.to_value(&col.name(), &key)?;
            }
        }
        Ok(())
    }

    /// The documents an index finds for `access` (see [`index_access`]).
    fn index_lookup(&mut self, col: &Collection, access: &IndexAccess, row: &Row) -> Result<Vec<(String, docstore::StoredDoc)>> {
        let wanted = match (self.eval(access.operand, row)?, access.list) {
            (Value::Array(items), true) => items,
            (_, true) => Vec::new(),
            // One key: a single point lookup.
            (Value::String(key), false) if access.attribute == "_key" => {
                return Ok(self.store.get_document_at(col, &key, self.view(col))?.map(|d| (key, d)).into_iter().collect());
            }
            (v, false) => vec![v],
        };
        // Index order, each value once, as ArangoDB looks up `IN` lists.
        let mut wanted: Vec<String> = wanted.into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        wanted.sort();
        wanted.dedup();
        match access.attribute {
            "_key" | "_id" => {
                let prefix = format!("{}/", col.name());
                let keys: Vec<&str> = wanted
                    .iter()
                    .filter_map(|w| if access.attribute == "_id" { w.strip_prefix(&prefix) } else { Some(w.as_str()) })
                    .collect();
                let docs = self.store.get_documents(col, &keys, self.view(col))?;
                Ok(keys.into_iter().zip(docs).filter_map(|(k, d)| d.map(|d| (k.to_string(), d))).collect())
            }
            _ => {
                let dir = if access.attribute == "_from" { docstore::keys::Direction::Out } else { docstore::keys::Direction::In };
                let mut found = Vec::new();
                for vertex in &wanted {
                    found.extend(self.store.edges(col, vertex, &[dir], self.view(col))?);
                }
                Ok(found)
            }
        }
    }

    /// The collection a `FOR` or modification names, if it names one: a name that is not a
    /// variable, or `@@bind`.
    fn collection_of(&mut self, e: &Expr, row: &Row) -> Result<Option<Arc<Collection>>> {
        let name = match e {
            Expr::Var(n) if !row.iter().any(|(v, _)| v == n) => n.clone(),
            Expr::BindCollection(n) => match self.binds.get(&format!("@{n}")) {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(err!(ERROR_QUERY_BIND_PARAMETER_TYPE, "bind parameter '@{n}' has an invalid value or type")),
            },
            _ => return Ok(None),
        };
        // The access check before the query ran covers every collection it names; this one
        // guards against a name that turned out to mean a collection only at run time.
        DbAccess { store: self.store, snapshot: self.snapshot, written: &self.written, db: self.db, opts: &self.opts }.readable(&name).map(Some)
    }
}

/// An index that serves a `FOR` over a collection: the primary index for `_key` or `_id`,
/// the edge index for `_from` or `_to`, compared with `==` or `IN` in the `FILTER` right
/// after the loop to a value that does not depend on the loop variable. The `FILTER` still
/// runs on what the index finds, so other conditions in it keep working.
struct IndexAccess<'q> {
    attribute: &'q str,
    operand: &'q Expr,
    /// `IN`: the operand is a list of values.
    list: bool,
    /// The condition is the whole FILTER: everything the index finds passes it
    /// (`remove-filter-covered-by-index`).
    covers_filter: bool,
}

fn index_access<'q>(var: &str, next: Option<&'q Op>, edge_collection: bool) -> Option<IndexAccess<'q>> {
    let Some(Op::Filter(cond)) = next else { return None };
    let mut conjuncts = vec![cond];
    let mut found: Option<IndexAccess> = None;
    while let Some(c) = conjuncts.pop() {
        let Expr::Binary(op, l, r) = c else { continue };
        let (attribute, operand, list) = match op {
            aql::ast::BinaryOp::And => {
                conjuncts.push(r);
                conjuncts.push(l);
                continue;
            }
            aql::ast::BinaryOp::Eq => match (attribute_of(l, var), attribute_of(r, var)) {
                (Some(a), None) => (a, &**r, false),
                (None, Some(a)) => (a, &**l, false),
                _ => continue,
            },
            aql::ast::BinaryOp::In => match attribute_of(l, var) {
                Some(a) => (a, &**r, true),
                None => continue,
            },
            _ => continue,
        };
        let primary = matches!(attribute, "_key" | "_id");
        let usable = primary || (edge_collection && matches!(attribute, "_from" | "_to"));
        if !usable || mentions(operand, var) {
            continue;
        }
        // The primary index is the better choice when both apply.
        if found.as_ref().is_none_or(|f| primary && !matches!(f.attribute, "_key" | "_id")) {
            found = Some(IndexAccess { attribute, operand, list, covers_filter: std::ptr::eq(c, cond) });
        }
    }
    found
}

/// Which top-level attributes of a `FOR` loop's documents (variable `var`, operation `i`) the
/// rest of the query reads, when it reads the documents only through such attributes up to
/// some operation: then the loop reads just those attributes, and the whole document is
/// fetched by key at the operation that needs it, if any (the second value). `None` when the
/// operation right after the loop needs whole documents already.
fn projection(ops: &[Op], i: usize, var: &str) -> Option<(Vec<String>, Option<usize>)> {
    let mut attrs = BTreeSet::new();
    let mut whole_at = None;
    for (j, op) in ops.iter().enumerate().skip(i + 1) {
        let whole = match op {
            // INTO without an expression and KEEP take whole rows.
            Op::Collect(c) if c.takes_rows() => true,
            // A write may change the documents: they are fetched before it, as they were read.
            Op::Insert { .. } | Op::Update { .. } | Op::Replace { .. } | Op::Remove { .. } | Op::Upsert { .. } => true,
            op => op_expressions(op).into_iter().any(|e| reads_whole(e, var, &mut attrs)),
        };
        if whole {
            whole_at = Some(j);
            break;
        }
        if matches!(op, Op::Collect(_)) {
            // The loop variable is out of scope after COLLECT.
            break;
        }
    }
    if whole_at == Some(i + 1) {
        return None;
    }
    Some((attrs.into_iter().collect(), whole_at))
}

/// [`projection`] as the rules in `opts` allow it. A loop that reads few documents through an
/// index (`indexed`) reads them whole rather than fetch them again later.
fn chosen_projection(ops: &[Op], i: usize, var: &str, opts: &Options, indexed: bool) -> Option<(Vec<String>, Option<usize>)> {
    let late_ok = opts.rule_enabled("late-document-materialization") && !indexed;
    projection(ops, i, var).filter(|(_, whole_at)| opts.rule_enabled("reduce-extraction-to-projection") && (whole_at.is_none() || late_ok))
}

/// The most rows a scan keeps for a SORT and LIMIT after it (see [`scan::Top`]).
const SCAN_TOP_MAX: usize = 10_000;

/// Whether `parallel-scan` may apply: more than one thread allowed, the rule on, and the query
/// not profiled operation by operation.
fn scan_parallel(opts: &Options) -> bool {
    opts.scan_threads > 1 && opts.profile < 2 && opts.rule_enabled("parallel-scan")
}

/// How many threads a full scan of a collection of `count` documents uses when
/// [`scan_parallel`]: one below [`Options::parallel_scan_min_docs`].
fn scan_threads(opts: &Options, count: u64) -> usize {
    if count >= opts.parallel_scan_min_docs { opts.scan_threads } else { 1 }
}

/// `move-filters-into-enumerate`: the FILTER right after the loop at `i`, which then runs on
/// each document before it becomes a row. Not when each operation is profiled, nor when a
/// document an earlier loop read in part is fetched whole at that FILTER (`fetched_at_filter`).
fn pruned_filter<'q>(ops: &'q [Op], i: usize, opts: &Options, fetched_at_filter: bool) -> Option<&'q Expr> {
    match ops.get(i + 1) {
        Some(Op::Filter(c)) if opts.profile < 2 && opts.rule_enabled("move-filters-into-enumerate") && !fetched_at_filter => Some(c),
        _ => None,
    }
}

/// Whether a full scan evaluates the pruned FILTER `cond` itself, as it reads (on several
/// threads with `parallel-scan`): not when it runs a subquery, which needs the query's
/// executor, nor when a warning must end the query.
fn filters_while_reading(cond: &Expr, opts: &Options) -> bool {
    !opts.fail_on_warning && !cond.has_subquery()
}

/// Whether the scanning loop at `i`, which needs its documents whole from operation `whole_at`
/// on, reads them whole as they pass the FILTER after it rather than fetching them later
/// (`late-document-materialization`): so when the operation after the FILTER needs them, and
/// the scan evaluates the FILTER itself.
fn whole_on_pass(ops: &[Op], i: usize, whole_at: Option<usize>, opts: &Options, fetched_at_filter: bool) -> bool {
    whole_at == Some(i + 2) && pruned_filter(ops, i, opts, fetched_at_filter).is_some_and(|c| filters_while_reading(c, opts))
}

/// Whether `e` reads variable `var` other than as `var.attribute` (or `var["attribute"]`);
/// the attributes it reads go into `attrs`.
fn reads_whole(e: &Expr, var: &str, attrs: &mut BTreeSet<String>) -> bool {
    match e {
        Expr::Attr(base, name) if matches!(&**base, Expr::Var(v) if v == var) => {
            attrs.insert(name.clone());
            false
        }
        Expr::Index(base, index) if matches!(&**base, Expr::Var(v) if v == var) => match &**index {
            Expr::Value(Value::String(name)) => {
                attrs.insert(name.clone());
                false
            }
            _ => true,
        },
        Expr::Var(v) => v == var,
        Expr::Subquery(_) => mentions(e, var),
        e => e.children().into_iter().any(|c| reads_whole(c, var, attrs)),
    }
}

/// The variables an operation declares (a modification: `OLD` and `NEW`).
fn declared(op: &Op) -> Vec<String> {
    match op {
        Op::For { var, .. } | Op::Let { var, .. } => vec![var.clone()],
        Op::Traverse(t) => t.vars.clone(),
        Op::Collect(c) => c.groups.iter().chain(&c.aggregates).map(|(v, _)| v.clone()).chain(c.into.iter().map(|(v, _)| v.clone())).chain(c.count_into.clone()).collect(),
        Op::Window { aggregates, .. } => aggregates.iter().map(|(v, _)| v.clone()).collect(),
        Op::Insert { .. } | Op::Update { .. } | Op::Replace { .. } | Op::Remove { .. } | Op::Upsert { .. } => vec!["OLD".into(), "NEW".into()],
        Op::Filter(_) | Op::Sort(_) | Op::Limit { .. } | Op::Return { .. } => Vec::new(),
    }
}

/// The expressions of an operation.
fn op_expressions(op: &Op) -> Vec<&Expr> {
    fn opt(o: &Option<Expr>) -> Vec<&Expr> {
        o.iter().collect()
    }
    match op {
        Op::For { source, options, .. } => [vec![source], opt(options)].concat(),
        Op::Let { expr, .. } | Op::Filter(expr) | Op::Return { expr, .. } => vec![expr],
        Op::Sort(keys) => keys.iter().map(|(e, _)| e).collect(),
        Op::Limit { offset, count } => vec![offset, count],
        Op::Collect(c) => {
            let mut v: Vec<&Expr> = c.groups.iter().chain(&c.aggregates).map(|(_, e)| e).collect();
            v.extend(c.into.iter().filter_map(|(_, e)| e.as_ref()));
            v.extend(c.options.iter());
            v
        }
        Op::Insert { doc, collection, options } => [vec![doc, collection], opt(options)].concat(),
        Op::Update { key, with, collection, options } | Op::Replace { key, with, collection, options } => {
            [vec![key, collection], opt(with), opt(options)].concat()
        }
        Op::Remove { key, collection, options } => [vec![key, collection], opt(options)].concat(),
        Op::Upsert { search, insert, update, collection, options, .. } => [vec![search, insert, update, collection], opt(options)].concat(),
        Op::Traverse(t) => traversal_expressions(t),
        Op::Window { range, bounds, aggregates } => range.iter().chain([bounds]).chain(aggregates.iter().map(|(_, e)| e)).collect(),
    }
}

/// The expressions of a traversal (not its collection names).
fn traversal_expressions(t: &aql::query::Traversal) -> Vec<&Expr> {
    let mut v: Vec<&Expr> = t.depth.iter().chain([&t.start]).chain(t.target.iter()).collect();
    v.extend(t.prune.iter().map(|(_, e)| e));
    v.extend(t.options.iter());
    v
}

/// `var.<attribute>` → the attribute.
fn attribute_of<'q>(e: &'q Expr, var: &str) -> Option<&'q str> {
    match e {
        Expr::Attr(base, name) if matches!(&**base, Expr::Var(v) if v == var) => Some(name),
        _ => None,
    }
}

/// Whether `e` may read variable `var` (subqueries are assumed to).
fn mentions(e: &Expr, var: &str) -> bool {
    match e {
        Expr::Var(v) => v == var,
        Expr::Subquery(_) => true,
        e => e.children().into_iter().any(|c| mentions(c, var)),
    }
}

fn key_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.rsplit('/').next().unwrap_or(s).to_string()),
        Value::Object(m) => m.get("_key").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn key_selector(v: Value) -> Value {
    match key_of(&v) {
        Some(k) => json!({"_key": k}),
        None => v,
    }
}

fn canonical(v: &Value) -> String {
    v.to_string()
}

pub mod optimize;
mod scan;
pub mod plan;

#[cfg(test)]
mod tests;
