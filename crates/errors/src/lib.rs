//! ArangoDB's error numbers: the wire contract for every failure Rango reports.
//!
//! The table is generated at build time from `errors.csv` (ArangoDB's own list), so each
//! [`ErrorCode`] has ArangoDB's name, number and default message. [`ArangoError`] is the error
//! every library crate can turn its failures into; [`ArangoError::body`] is the one function
//! that renders `{"error":true,"code":…,"errorNum":…,"errorMessage":…}`.
//!
//! **API Boundary:** numbers and messages here are what drivers see; change them only to match
//! ArangoDB.

use std::fmt;

/// An ArangoDB error number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

include!(concat!(env!("OUT_DIR"), "/codes.rs"));

impl ErrorCode {
    pub fn number(self) -> i32 {
        self.0
    }

    /// ArangoDB's name for the number, such as `ERROR_ARANGO_CONFLICT`.
    pub fn name(self) -> &'static str {
        lookup(self.0).map_or("ERROR_UNKNOWN", |(name, _)| name)
    }

    /// ArangoDB's default message for the number.
    pub fn message(self) -> &'static str {
        lookup(self.0).map_or("unknown error", |(_, msg)| msg)
    }

    /// The HTTP status ArangoDB answers with when this error ends a request and the handler
    /// chose no other.
    pub fn http_status(self) -> u16 {
        match self.0 {
            // HTTP errors carry their status as their number.
            400..=599 => self.0 as u16,
            // A killed query is gone (ArangoDB answers 410); an unknown query id is 404.
            1500 => 410,
            1591 => 404,
            10 | 17 | 600 | 601 | 1204 | 1205 | 1208 | 1213 | 1214 | 1218 | 1220..=1222 | 1226 | 1227
            | 1229 | 1232 | 1233 | 1239 | 1500..=1599 | 1620 | 1621 | 1700 | 1701 => 400,
            11 | 1004 | 1230 => 403,
            1202 | 1203 | 1212 | 1228 | 1600 | 1703 => 404,
            1200 | 1207 | 1210 | 1702 => 409,
            9 | 31 => 501,
            30 | 38 | 1302 | 1303 => 503,
            18 => 408,
            32 => 400,
            _ => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// A failure with its ArangoDB number, a message for the client, and optionally the HTTP
/// status to answer with (otherwise [`ErrorCode::http_status`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ArangoError {
    pub code: ErrorCode,
    pub message: String,
    pub status: Option<u16>,
}

impl ArangoError {
    /// An error with the number's default message.
    pub fn new(code: ErrorCode) -> Self {
        ArangoError { code, message: code.message().to_string(), status: None }
    }

    /// An error with a message of its own.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        ArangoError { code, message: message.into(), status: None }
    }

    /// Overrides the HTTP status (ArangoDB answers some numbers with more than one status).
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn http_status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.http_status())
    }

    /// The one JSON error body of the wire protocol.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": true,
            "code": self.http_status(),
            "errorNum": self.code.0,
            "errorMessage": self.message,
        })
    }
}

impl fmt::Display for ArangoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

impl std::error::Error for ArangoError {}

/// Shorthand for results that fail with an ArangoDB error.
pub type Result<T, E = ArangoError> = std::result::Result<T, E>;

/// Builds an [`ArangoError`] from a code and a `format!` message.
#[macro_export]
macro_rules! err {
    ($code:expr) => { $crate::ArangoError::new($code) };
    ($code:expr, $($arg:tt)+) => { $crate::ArangoError::with_message($code, format!($($arg)+)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_arangodb_numbers_and_statuses() {
        assert_eq!(ERROR_ARANGO_DATABASE_NOT_FOUND.0, 1228);
        assert_eq!(ERROR_ARANGO_DATABASE_NOT_FOUND.message(), "database not found");
        assert_eq!(ERROR_HTTP_CORRUPTED_JSON.http_status(), 400);
        assert_eq!(ERROR_ARANGO_DATA_SOURCE_NOT_FOUND.http_status(), 404);
        assert_eq!(ERROR_ARANGO_DUPLICATE_NAME.http_status(), 409);
        assert_eq!(ERROR_ARANGO_UNIQUE_CONSTRAINT_VIOLATED.http_status(), 409);
        assert_eq!(ERROR_USER_DUPLICATE.http_status(), 409);
        assert_eq!(ERROR_FORBIDDEN.http_status(), 403);
        assert_eq!(ERROR_HTTP_NOT_IMPLEMENTED.http_status(), 501);
        assert_eq!(ErrorCode(99_999).name(), "ERROR_UNKNOWN");
    }

    #[test]
    fn body_has_the_wire_shape() {
        let e = err!(ERROR_ARANGO_CONFLICT, "conflict, _rev values do not match").status(412);
        assert_eq!(
            e.body().to_string(),
            r#"{"error":true,"code":412,"errorNum":1200,"errorMessage":"conflict, _rev values do not match"}"#
        );
    }
}
