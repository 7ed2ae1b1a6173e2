//! Computed values: attributes a collection fills in from an AQL expression
//! (`RETURN <expression>` over `@doc`) on insert, update or replace, with ArangoDB's
//! `overwrite`, `keepNull` and `failOnWarning`.

use aql::ast::Expr;
use errors::{ArangoError, Result};
use serde_json::{Map, Value};

/// The write a computed value may apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Insert,
    Update,
    Replace,
}

impl On {
    fn name(self) -> &'static str {
        match self {
            On::Insert => "insert",
            On::Update => "update",
            On::Replace => "replace",
        }
    }
}

struct Entry {
    name: String,
    expr: Expr,
    compute_on: Vec<String>,
    overwrite: bool,
    keep_null: bool,
    fail_on_warning: bool,
}

pub struct ComputedValues {
    entries: Vec<Entry>,
}

/// Checks that `expression` is a `RETURN` expression over `@doc` that Rango can evaluate.
pub fn check_expression(expression: &str) -> Result<()> {
    aql::parse_return_expression(expression, &["doc"]).map(|_| ())
}

impl ComputedValues {
    /// Compiles the stored (already validated) definitions.
    pub fn compile(stored: &Value) -> Result<ComputedValues> {
        let list = stored.as_array().map(Vec::as_slice).unwrap_or_default();
        let entries = list
            .iter()
            .map(|e| {
                Ok(Entry {
                    name: e["name"].as_str().unwrap_or_default().to_string(),
                    expr: aql::parse_return_expression(e["expression"].as_str().unwrap_or_default(), &["doc"])?,
                    compute_on: e["computeOn"].as_array().map_or_else(Vec::new, |ops| {
                        ops.iter().filter_map(Value::as_str).map(str::to_string).collect()
                    }),
                    overwrite: e["overwrite"] == true,
                    keep_null: e["keepNull"] != false,
                    fail_on_warning: e["failOnWarning"] == true,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ComputedValues { entries })
    }

    /// Sets the computed attributes of `doc` for the write `on`. Every expression sees the
    /// document as it was before any of them ran.
    pub fn apply(&self, on: On, doc: &mut Map<String, Value>, id: &str) -> Result<()> {
        let applicable: Vec<&Entry> = self.entries.iter().filter(|e| e.compute_on.iter().any(|o| o == on.name())).collect();
        if applicable.is_empty() {
            return Ok(());
        }
        let mut input = doc.clone();
        input.remove("_rev");
        input.insert("_id".into(), Value::String(id.to_string()));
        let mut binds = Map::new();
        binds.insert("doc".into(), Value::Object(input));
        for e in applicable {
            if !e.overwrite && doc.contains_key(&e.name) {
                continue;
            }
            let mut env = aql::eval::Env::new(&binds);
            let value = aql::eval::eval(&e.expr, &mut env)?;
            if let (true, Some((code, msg))) = (e.fail_on_warning, env.warnings.first()) {
                return Err(ArangoError::with_message(*code, format!("computed value '{}': {msg}", e.name)).status(400));
            }
            if value.is_null() && !e.keep_null {
                doc.remove(&e.name);
            } else {
                doc.insert(e.name.clone(), value);
            }
        }
        Ok(())
    }
}
