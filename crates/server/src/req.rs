//! A request as handlers see it: the database it addresses, decoded path segments, query
//! parameters, headers and the (decompressed, size-checked) body.

use std::collections::HashMap;

use bytes::Bytes;
use errors::{err, Result, ERROR_HTTP_BAD_PARAMETER, ERROR_HTTP_CORRUPTED_JSON};
use hyper::{HeaderMap, Method};
use serde_json::Value;

pub struct Req {
    pub method: Method,
    /// Database name from `/_db/<name>/`, `_system` when absent.
    pub db: String,
    /// The path after the database prefix, as the client sent it (for messages).
    pub path: String,
    /// Decoded path segments after the database prefix.
    pub segments: Vec<String>,
    /// Values of the `:name` parts of the matched route, in order.
    pub params: Vec<String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The authenticated user's name (`root` for superusers), if any.
    pub user: Option<String>,
    pub caller: Option<Caller>,
}

/// Who sent a request, once its credentials are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A superuser token, or any request when authentication is off.
    Superuser,
    User(String),
}

impl Req {
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map_or("", String::as_str)
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A boolean query parameter as ArangoDB reads them: `true`, `yes`, `on`, `1` are true.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.query(name).map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1" | "y"))
    }

    pub fn flag_or(&self, name: &str, default: bool) -> bool {
        self.flag(name).unwrap_or(default)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; an empty body is an error.
    pub fn json(&self) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(err!(ERROR_HTTP_CORRUPTED_JSON, "request body is empty; expecting JSON"));
        }
        parse_json(&self.body)
    }

    /// The body as a JSON object (an empty body counts as `{}`).
    pub fn json_object_or_empty(&self) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        let v = parse_json(&self.body)?;
        if !v.is_object() {
            return Err(err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON object as body"));
        }
        Ok(v)
    }
}

pub fn parse_json(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| err!(ERROR_HTTP_CORRUPTED_JSON, "VPackError error: {e}"))
}

/// Parses a query string into decoded pairs (the last of repeated names wins).
pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes a URL part (and `+` as space in query strings, as ArangoDB does).
pub fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned()
}

/// Percent-decodes a path segment (`+` stays `+`, keys may contain it).
pub fn decode_segment(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned())
}
