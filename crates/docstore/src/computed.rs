//! Computed values: attributes a collection fills in from an AQL expression on insert,
//! update or replace. Their expressions need the AQL expression engine, which is not built
//! yet, so a collection that asks for them is refused with 501 and ArangoDB's
//! `ERROR_NOT_IMPLEMENTED`; nothing is silently ignored.

use errors::{err, Result, ERROR_NOT_IMPLEMENTED};
use serde_json::Value;

pub struct ComputedValues;

/// Checks that `expression` is one Rango can evaluate.
pub fn check_expression(_expression: &str) -> Result<()> {
    Err(err!(ERROR_NOT_IMPLEMENTED, "computed values need AQL expressions, which are not built yet").status(501))
}

impl ComputedValues {
    pub fn compile(_stored: &Value) -> Result<ComputedValues> {
        Err(err!(ERROR_NOT_IMPLEMENTED, "computed values need AQL, which is not built yet").status(501))
    }
}
