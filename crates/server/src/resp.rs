//! Responses: JSON bodies, headers, and the one path from an [`ArangoError`] to the wire.

use bytes::Bytes;
use errors::ArangoError;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Resp {
    /// A JSON body.
    pub fn json(status: u16, body: &Value) -> Resp {
        Resp::raw_json(status, serde_json::to_vec(body).unwrap_or_default())
    }

    /// A body that is already JSON text.
    pub fn raw_json(status: u16, body: Vec<u8>) -> Resp {
        Resp { status, headers: vec![(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"))], body: body.into() }
    }

    /// `{"error":false,"code":status, …fields}`, the envelope of most ArangoDB answers.
    pub fn ok(status: u16, mut fields: serde_json::Map<String, Value>) -> Resp {
        fields.insert("error".into(), Value::Bool(false));
        fields.insert("code".into(), Value::from(status));
        Resp::json(status, &Value::Object(fields))
    }

    /// `{"error":false,"code":status,"result":result}`.
    pub fn result(status: u16, result: Value) -> Resp {
        let mut m = serde_json::Map::new();
        m.insert("error".into(), Value::Bool(false));
        m.insert("code".into(), Value::from(status));
        m.insert("result".into(), result);
        Resp::json(status, &Value::Object(m))
    }

    pub fn empty(status: u16) -> Resp {
        Resp { status, headers: Vec::new(), body: Bytes::new() }
    }

    pub fn error(e: &ArangoError) -> Resp {
        Resp::json(e.http_status(), &e.body())
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Resp {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

impl From<ArangoError> for Resp {
    fn from(e: ArangoError) -> Resp {
        Resp::error(&e)
    }
}
