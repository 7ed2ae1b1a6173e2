//! Optimizer rules that rewrite the parsed query before it is planned and run, under
//! ArangoDB's rule names. Each keeps the query's results exactly (the random-query test runs
//! every query with and without them); each can be turned off with `optimizer.rules`.
//!
//! - `remove-unnecessary-filters`: a `FILTER` whose condition is a true constant goes.
//! - `move-filters-up`: a `FILTER` moves up past loops, `LET`s and `SORT`s it does not
//!   depend on, so it discards rows before they multiply (and lands right after its own
//!   loop, where an index can serve it).
//! - `move-calculations-up`: a `LET` moves up past loops it does not depend on (and past
//!   filters when it calls no function), so it is computed once instead of once per row.
//! - `remove-redundant-calculations`: a `LET` computing what an earlier `LET` in scope
//!   computed reads the earlier one's variable instead.
//! - `remove-unnecessary-calculations`: a `LET` nothing reads goes.
//! - `optimize-subqueries`: a subquery only read for its first element (`FIRST(sq)`, `sq[0]`)
//!   stops after one row (`LIMIT 1`); one only counted (`LENGTH(sq)`, `COUNT(sq)`) returns
//!   `true` for each row instead of building its values. Only subqueries that write nothing
//!   and cannot fail with an error.
//! - `use-index-for-sort`: `SORT var._key` (or `_id`) right after the first loop over a
//!   collection goes: the primary index already yields documents in that order.
//!
//! Only deterministic expressions without subqueries move or go; nothing moves past `LIMIT`,
//! `COLLECT`, `WINDOW` or a modification.

use std::collections::HashSet;

use aql::ast::Expr;
use aql::query::{Op, Query};

use crate::{declared, op_expressions, Options};

/// Functions whose result may differ between calls, or that must not be moved (`NOOPT`).
pub const NOT_MOVABLE_FUNCTIONS: &[&str] = &["RAND", "RANDOM", "UUID", "RANDOM_TOKEN", "DATE_NOW", "SLEEP", "FAIL", "WARN", "ASSERT", "NOOPT", "V8"];

/// Rewrites `q` (and the subqueries of its `LET`s) with the rules `opts` allows; returns the
/// rules that changed something, in the order first applied.
pub fn optimize(q: &mut Query, opts: &Options) -> Vec<&'static str> {
    let mut applied = Vec::new();
    rewrite(q, opts, &mut applied, true);
    applied
}

fn note(applied: &mut Vec<&'static str>, rule: &'static str) {
    if !applied.contains(&rule) {
        applied.push(rule);
    }
}

fn rewrite(q: &mut Query, opts: &Options, applied: &mut Vec<&'static str>, top: bool) {
    for op in &mut q.ops {
        if let Op::Let { expr: Expr::Subquery(sub), .. } = op {
            rewrite(sub, opts, applied, false);
        }
    }
    // Moving or dropping an expression can change which warnings a query raises, and with
    // failOnWarning a warning is an error: then nothing moves.
    let may_move = !opts.fail_on_warning;
    if opts.rule_enabled("remove-unnecessary-filters") {
        let before = q.ops.len();
        q.ops.retain(|op| !matches!(op, Op::Filter(Expr::Value(v)) if aql::value::truthy(v)));
        if q.ops.len() < before {
            note(applied, "remove-unnecessary-filters");
        }
    }
    if may_move && opts.rule_enabled("move-filters-up") && move_up(&mut q.ops, true) {
        note(applied, "move-filters-up");
    }
    if may_move && opts.rule_enabled("move-calculations-up") && move_up(&mut q.ops, false) {
        note(applied, "move-calculations-up");
    }
    if may_move && opts.rule_enabled("remove-redundant-calculations") && reuse_calculations(&mut q.ops) {
        note(applied, "remove-redundant-calculations");
    }
    if may_move && opts.rule_enabled("remove-unnecessary-calculations") && remove_unused_lets(&mut q.ops) {
        note(applied, "remove-unnecessary-calculations");
    }
    if may_move && opts.rule_enabled("optimize-subqueries") && optimize_subqueries(&mut q.ops) {
        note(applied, "optimize-subqueries");
    }
    // Only the outermost query: a subquery's loop may run over an outer variable's list.
    if top && opts.rule_enabled("use-index-for-sort") && remove_sort_by_key(&mut q.ops) {
        note(applied, "use-index-for-sort");
    }
}

/// Moves each FILTER (`filters`) or LET up as far as the rules allow; whether any moved.
fn move_up(ops: &mut Vec<Op>, filters: bool) -> bool {
    let mut moved = false;
    let mut i = 0;
    while i < ops.len() {
        let candidate = match &ops[i] {
            Op::Filter(e) if filters => Some(e),
            Op::Let { expr, .. } if !filters => Some(expr),
            _ => None,
        };
        // What moves may then run where it did not before (once for a loop that made no
        // rows, or for rows a filter drops): a calculation only when it cannot fail at all, a
        // filter when it cannot fail with an error.
        let safe = |e: &Expr| if filters { !may_fail_hard(e) } else { !may_fail(e) };
        let Some(expr) = candidate.filter(|e| movable(e) && safe(e)) else {
            i += 1;
            continue;
        };
        let used = variables(expr);
        let mut to = i;
        while to > 0 {
            let before = &ops[to - 1];
            // Nothing passes an operation that runs a subquery (it may write), or a
            // traversal (which answers 501 until the graph issue).
            let passable = !has_subquery(before)
                && match before {
                    Op::For { .. } | Op::Let { .. } | Op::Filter(_) => true,
                    Op::Sort(_) => filters,
                    _ => false,
                };
            if !passable || declared(before).iter().any(|v| used.contains(v)) {
                break;
            }
            to -= 1;
        }
        // A LET only moves past loops: passing other LETs alone gains nothing.
        let worth = to < i && ops[to..i].iter().any(|op| matches!(op, Op::For { .. } | Op::Sort(_)) || filters);
        if worth {
            let op = ops.remove(i);
            ops.insert(to, op);
            moved = true;
        }
        i += 1;
    }
    moved
}

/// Whether an expression may be moved or dropped: deterministic and without subqueries.
fn movable(e: &Expr) -> bool {
    match e {
        Expr::Subquery(_) => false,
        Expr::Call(name, _) if NOT_MOVABLE_FUNCTIONS.contains(&name.as_str()) => false,
        e => e.children().into_iter().all(movable),
    }
}

/// Whether evaluating `e` could raise an error or a warning: function calls, ranges (too
/// large) and division (by zero) can.
fn may_fail(e: &Expr) -> bool {
    use aql::ast::BinaryOp::{Div, Mod, Range};
    matches!(e, Expr::Call(..) | Expr::Binary(Range | Div | Mod, ..)) || e.children().into_iter().any(may_fail)
}

/// Whether evaluating `e` could raise an error (not just a warning): reading the database
/// (access may be refused) and ranges (too large) can.
fn may_fail_hard(e: &Expr) -> bool {
    matches!(e, Expr::Binary(aql::ast::BinaryOp::Range, ..))
        || matches!(e, Expr::Call(name, _) if matches!(name.as_str(), "DOCUMENT" | "COLLECTION_COUNT" | "COLLECTIONS" | "FAIL" | "ASSERT" | "CALL" | "APPLY"))
        || e.children().into_iter().any(may_fail_hard)
}

/// Whether an operation runs a subquery anywhere in its expressions.
fn has_subquery(op: &Op) -> bool {
    op_expressions(op).into_iter().any(Expr::has_subquery)
}

/// The names an expression reads (collection names among them, which no operation declares).
fn variables(e: &Expr) -> HashSet<String> {
    fn walk(e: &Expr, out: &mut HashSet<String>) {
        match e {
            Expr::Var(v) => {
                out.insert(v.clone());
            }
            Expr::Subquery(q) => {
                for op in &q.ops {
                    for x in op_expressions(op) {
                        walk(x, out);
                    }
                }
            }
            e => e.children().into_iter().for_each(|c| walk(c, out)),
        }
    }
    let mut out = HashSet::new();
    walk(e, &mut out);
    out
}

/// Drops LETs whose variable nothing after them reads; whether any went.
fn remove_unused_lets(ops: &mut Vec<Op>) -> bool {
    let mut removed = false;
    let mut i = ops.len();
    while i > 0 {
        i -= 1;
        let Op::Let { var, expr } = &ops[i] else { continue };
        // Kept when it could fail (its error is the query's) or when a later subquery could
        // read it in ways not visible here (COLLECT … INTO takes every variable).
        if !movable(expr) || may_fail(expr) || ops[i + 1..].iter().any(has_subquery) {
            continue;
        }
        // COLLECT INTO without an expression and KEEP read every variable in scope.
        let read_later = ops[i + 1..].iter().any(|op| {
            matches!(op, Op::Collect(c) if c.into.as_ref().is_some_and(|(_, e)| e.is_none()) || c.keep.contains(var))
                || op_expressions(op).into_iter().any(|e| variables(e).contains(var))
        });
        if !read_later {
            ops.remove(i);
            removed = true;
        }
    }
    removed
}

/// Removes `SORT var._key ASC` (or `_id`) when `var` is the query's first loop, over a
/// collection, and only FILTERs and LETs stand between; whether it did.
fn remove_sort_by_key(ops: &mut Vec<Op>) -> bool {
    let Some(first) = ops.iter().position(|op| matches!(op, Op::For { .. } | Op::Traverse(_) | Op::Collect(_) | Op::Window { .. })) else {
        return false;
    };
    let Op::For { var, source, .. } = &ops[first] else { return false };
    // Only a collection name or `@@bind` is read in key order (a variable may hold a list).
    let declared_before: Vec<String> = ops[..first].iter().flat_map(declared).collect();
    let over_collection = match source {
        Expr::Var(n) => !declared_before.contains(n),
        Expr::BindCollection(_) => true,
        _ => false,
    };
    if !over_collection {
        return false;
    }
    // The edge index hands out edges by vertex first: not in key order.
    if crate::index_access(var, ops.get(first + 1), true).is_some_and(|a| matches!(a.attribute, "_from" | "_to")) {
        return false;
    }
    let mut k = first + 1;
    while matches!(ops.get(k), Some(Op::Filter(_) | Op::Let { .. })) {
        k += 1;
    }
    let by_key = matches!(ops.get(k), Some(Op::Sort(keys)) if keys.len() == 1 && keys[0].1
        && matches!(&keys[0].0, Expr::Attr(base, a) if (a == "_key" || a == "_id") && matches!(&**base, Expr::Var(v) if v == var)));
    if by_key {
        ops.remove(k);
    }
    by_key
}

/// A LET whose expression an earlier LET of the same operations computed, with nothing
/// between them but loops, LETs, FILTERs, SORTs and LIMITs (so the earlier variable is in
/// scope and nothing it reads has changed), reads the earlier variable instead; whether any
/// did. Only deterministic expressions that cannot fail, and not bare variables or constants.
fn reuse_calculations(ops: &mut [Op]) -> bool {
    let mut changed = false;
    for i in 0..ops.len() {
        let Op::Let { expr, .. } = &ops[i] else { continue };
        if !movable(expr) || may_fail(expr) || matches!(expr, Expr::Var(_) | Expr::Value(_) | Expr::Bind(_)) {
            continue;
        }
        let mut earlier = None;
        for j in (0..i).rev() {
            // A subquery in between may write what the expression reads.
            if has_subquery(&ops[j]) && !matches!(&ops[j], Op::Let { expr: e, .. } if e == expr) {
                break;
            }
            match &ops[j] {
                Op::Let { var, expr: e } if e == expr => {
                    earlier = Some(var.clone());
                    break;
                }
                Op::For { .. } | Op::Let { .. } | Op::Filter(_) | Op::Sort(_) | Op::Limit { .. } => {}
                _ => break,
            }
        }
        if let (Some(var), Op::Let { expr, .. }) = (earlier, &mut ops[i]) {
            *expr = Expr::Var(var);
            changed = true;
        }
    }
    changed
}

/// How later operations read a subquery's result.
#[derive(Default)]
struct Uses {
    /// `FIRST(v)` or `v[0]`.
    first: bool,
    /// `LENGTH(v)` or `COUNT(v)`.
    count: bool,
    /// Anything else.
    other: bool,
}

/// `optimize-subqueries` (see the module's notes); whether anything changed.
fn optimize_subqueries(ops: &mut [Op]) -> bool {
    let mut changed = false;
    for i in 0..ops.len() {
        let Op::Let { var, expr: Expr::Subquery(_) } = &ops[i] else { continue };
        let var = var.clone();
        let mut uses = Uses::default();
        for op in &ops[i + 1..] {
            // COLLECT … INTO without an expression and KEEP take every variable.
            if matches!(op, Op::Collect(c) if c.takes_rows()) {
                uses.other = true;
            }
            for e in op_expressions(op) {
                classify(e, &var, &mut uses);
            }
        }
        if let Op::Let { expr: Expr::Subquery(q), .. } = &mut ops[i] {
            changed |= shrink(q, &uses);
        }
    }
    // Subqueries written where they are read: FIRST((FOR …)), LENGTH((FOR …)), (FOR …)[0].
    for op in ops.iter_mut() {
        if let Op::Let { expr, .. } | Op::Filter(expr) | Op::Return { expr, .. } = op {
            changed |= shrink_inline(expr);
        }
    }
    changed
}

fn classify(e: &Expr, var: &str, uses: &mut Uses) {
    let is_var = |x: &Expr| matches!(x, Expr::Var(v) if v == var);
    match e {
        Expr::Call(f, args) if args.len() == 1 && is_var(&args[0]) => match f.as_str() {
            "FIRST" => uses.first = true,
            "LENGTH" | "COUNT" => uses.count = true,
            _ => uses.other = true,
        },
        Expr::Index(base, index) if is_var(base) && is_zero(index) => uses.first = true,
        Expr::Var(v) if v == var => uses.other = true,
        // A subquery's rows start with the outer row: a COLLECT … INTO or KEEP in it may take
        // the variable without naming it.
        Expr::Subquery(q) if variables(e).contains(var) || collects_rows(q) => uses.other = true,
        e => e.children().into_iter().for_each(|c| classify(c, var, uses)),
    }
}

/// Whether `q`, or a subquery in it, has a COLLECT … INTO without an expression or a KEEP,
/// which take the variables of the rows they collect.
fn collects_rows(q: &Query) -> bool {
    fn in_expr(e: &Expr) -> bool {
        match e {
            Expr::Subquery(q) => collects_rows(q),
            e => e.children().into_iter().any(in_expr),
        }
    }
    q.ops.iter().any(|op| {
        matches!(op, Op::Collect(c) if c.takes_rows())
            || op_expressions(op).into_iter().any(in_expr)
    })
}

fn is_zero(e: &Expr) -> bool {
    matches!(e, Expr::Value(n) if n.as_u64() == Some(0))
}

fn shrink_inline(e: &mut Expr) -> bool {
    let mut changed = false;
    match e {
        Expr::Call(f, args) if args.len() == 1 => {
            let uses = Uses { first: f == "FIRST", count: f == "LENGTH" || f == "COUNT", other: false };
            if let Expr::Subquery(q) = &mut args[0] {
                changed |= shrink(q, &uses);
            }
        }
        Expr::Index(base, index) if is_zero(index) => {
            if let Expr::Subquery(q) = &mut **base {
                changed |= shrink(q, &Uses { first: true, ..Uses::default() });
            }
        }
        _ => {}
    }
    for c in e.children_mut() {
        changed |= shrink_inline(c);
    }
    changed
}

/// Applies `optimize-subqueries` to one subquery read as `uses` says; whether it changed.
fn shrink(q: &mut Query, uses: &Uses) -> bool {
    if uses.other || uses.first == uses.count {
        return false;
    }
    // Rows it no longer makes must not be writes or errors.
    let safe = q.ops.iter().all(|op| {
        !has_subquery(op)
            && matches!(op, Op::For { .. } | Op::Let { .. } | Op::Filter(_) | Op::Sort(_) | Op::Limit { .. } | Op::Collect(_) | Op::Window { .. } | Op::Return { .. })
            && !op_expressions(op).into_iter().any(may_fail_hard)
    });
    if !safe {
        return false;
    }
    let n = q.ops.len();
    let one = |e: &Expr, v: u64| matches!(e, Expr::Value(x) if x.as_u64() == Some(v));
    let already_limited = n >= 2 && matches!(&q.ops[n - 2], Op::Limit { offset, count } if one(offset, 0) && one(count, 1));
    match q.ops.last_mut() {
        Some(Op::Return { .. }) if uses.first && !already_limited => {
            q.ops.insert(n - 1, Op::Limit { offset: Expr::Value(0.into()), count: Expr::Value(1.into()) });
            true
        }
        Some(Op::Return { distinct: false, expr }) if uses.count && !may_fail(expr) && *expr != Expr::Value(true.into()) => {
            *expr = Expr::Value(true.into());
            true
        }
        _ => false,
    }
}
