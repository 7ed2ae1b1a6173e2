//! Collection schemas: JSON Schema rules with ArangoDB's `level` and `message`.

use errors::{err, Result, ERROR_VALIDATION_BAD_PARAMETER, ERROR_VALIDATION_FAILED};
use serde_json::{json, Map, Value};

/// When a schema applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    None,
    New,
    Moderate,
    Strict,
}

pub struct Schema {
    validator: jsonschema::Validator,
    level: Level,
    message: String,
}

const DEFAULT_MESSAGE: &str = "Schema validation failed";

impl Schema {
    /// Checks a `schema` option and returns what is stored: `None` for `{}` (no schema).
    pub fn normalize(v: &Value) -> Result<Option<Value>> {
        let bad = |msg: &str| err!(ERROR_VALIDATION_BAD_PARAMETER, "invalid schema validation parameter: {msg}");
        let obj = v.as_object().ok_or_else(|| bad("schema must be an object"))?;
        if obj.is_empty() {
            return Ok(None);
        }
        let rule = obj.get("rule").filter(|r| r.is_object()).ok_or_else(|| bad("'rule' must be an object"))?;
        let level = obj.get("level").map_or(Some("strict"), Value::as_str).ok_or_else(|| bad("'level' must be a string"))?;
        parse_level(level).ok_or_else(|| bad("'level' must be one of none, new, moderate, strict"))?;
        let message =
            obj.get("message").map_or(Some(DEFAULT_MESSAGE), Value::as_str).ok_or_else(|| bad("'message' must be a string"))?;
        if let Some(t) = obj.get("type") {
            if t != "json" {
                return Err(bad("'type' must be \"json\""));
            }
        }
        jsonschema::draft4::new(rule).map_err(|e| bad(&format!("invalid JSON schema: {e}")))?;
        Ok(Some(json!({"rule": rule, "level": level, "message": message, "type": "json"})))
    }

    /// Compiles a stored (normalized) schema.
    pub fn compile(stored: &Value) -> Result<Schema> {
        let rule = &stored["rule"];
        let validator = jsonschema::draft4::new(rule)
            .map_err(|e| err!(ERROR_VALIDATION_BAD_PARAMETER, "invalid JSON schema: {e}"))?;
        Ok(Schema {
            validator,
            level: stored["level"].as_str().and_then(parse_level).unwrap_or(Level::Strict),
            message: stored["message"].as_str().unwrap_or(DEFAULT_MESSAGE).to_string(),
        })
    }

    /// Validates `new` (system attributes are not subject to the schema). `old` is the
    /// document being replaced or updated, if any.
    pub fn check(&self, new: &Map<String, Value>, old: Option<&Map<String, Value>>) -> Result<()> {
        let applies = match (self.level, old) {
            (Level::None, _) => false,
            (Level::New, old) => old.is_none(),
            (Level::Moderate, Some(old)) => self.is_valid(old),
            (Level::Moderate | Level::Strict, _) => true,
        };
        if applies && !self.is_valid(new) {
            return Err(err!(ERROR_VALIDATION_FAILED, "{}", self.message));
        }
        Ok(())
    }

    fn is_valid(&self, doc: &Map<String, Value>) -> bool {
        let user: Map<String, Value> = doc
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "_key" | "_id" | "_rev" | "_from" | "_to"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.validator.is_valid(&Value::Object(user))
    }
}

fn parse_level(s: &str) -> Option<Level> {
    Some(match s {
        "none" => Level::None,
        "new" => Level::New,
        "moderate" => Level::Moderate,
        "strict" => Level::Strict,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn levels_decide_what_is_checked() {
        let stored = Schema::normalize(&json!({
            "rule": {"properties": {"n": {"type": "number"}}, "required": ["n"]},
            "level": "moderate", "message": "need n"
        }))
        .unwrap()
        .unwrap();
        let s = Schema::compile(&stored).unwrap();
        assert!(s.check(&doc(json!({"n": 1, "_key": "a"})), None).is_ok());
        let e = s.check(&doc(json!({"n": "x"})), None).unwrap_err();
        assert_eq!((e.code.0, e.message.as_str()), (1620, "need n"));
        // Moderate: an update of an already invalid document is not checked.
        assert!(s.check(&doc(json!({"m": 1})), Some(&doc(json!({"m": 0})))).is_ok());
        assert!(s.check(&doc(json!({"m": 1})), Some(&doc(json!({"n": 0})))).is_err());
    }

    #[test]
    fn bad_schemas_are_refused() {
        assert!(Schema::normalize(&json!({})).unwrap().is_none());
        assert_eq!(Schema::normalize(&json!({"rule": 1})).unwrap_err().code.0, 1621);
        assert_eq!(Schema::normalize(&json!({"rule": {}, "level": "x"})).unwrap_err().code.0, 1621);
        assert_eq!(Schema::normalize(&json!({"rule": {"type": 5}})).unwrap_err().code.0, 1621);
    }
}
