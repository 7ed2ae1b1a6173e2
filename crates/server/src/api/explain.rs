//! `POST /_api/explain` (a query's execution plan), `POST /_api/query` (parse a query and
//! return its AST) and `GET /_api/query/rules` (the optimizer rules Rango has).

use std::time::Instant;

use errors::Result;
use serde_json::{json, Value};

use crate::api::cursor::{prepare, Prepared};
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// `POST /_api/explain`: one plan, or with `allPlans` the list of plans (Rango makes one).
pub fn explain(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let started = Instant::now();
    let body = req.json()?;
    let Prepared { db, text, binds, parsed, options, opts, .. } = prepare(ctx, req, &body)?;
    let plan = query::explain(&ctx.store, &db, &text, &parsed, &binds, &opts)?;
    let stats = json!({
        "rulesExecuted": plan.rules.len(),
        "rulesSkipped": 0,
        "plansCreated": 1,
        "peakMemoryUsage": 0,
        "executionTime": started.elapsed().as_secs_f64(),
    });
    let mut out = json!({"warnings": [], "stats": stats, "error": false, "code": 200});
    if options["allPlans"] == true {
        out["plans"] = json!([plan.to_json()]);
    } else {
        out["plan"] = plan.to_json();
        out["cacheable"] = json!(!plan.is_modification);
    }
    Ok(Resp::json(200, &out))
}

/// `POST /_api/query`: parses without running, and returns the collections, the bind
/// parameters and the AST in ArangoDB's node format.
pub fn parse(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json()?;
    let Prepared { parsed, text, reads, writes, .. } = prepare(ctx, req, &body)?;
    let mut collections: Vec<String> = reads.into_iter().chain(writes).collect();
    collections.sort();
    collections.dedup();
    let bind_vars = query::bind_parameters(&text);
    Ok(Resp::json(
        200,
        &json!({"error": false, "code": 200, "parsed": true, "collections": collections, "bindVars": bind_vars, "ast": [query::ast_json(&parsed)]}),
    ))
}

/// `GET /_api/query/rules`.
pub fn rules(_: &Ctx, _: &mut Req) -> Result<Resp> {
    let rules: Vec<Value> = query::RULES
        .iter()
        .map(|name| {
            json!({"name": name, "flags": {"hidden": false, "clusterOnly": false, "canBeDisabled": true, "canCreateAdditionalPlans": false,
                "disabledByDefault": false, "enterpriseOnly": false}})
        })
        .collect();
    Ok(Resp::json(200, &Value::Array(rules)))
}
