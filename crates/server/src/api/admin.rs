//! Server information: `/_api/version`, `/_api/engine`, `/_admin/server/*`, `/_admin/time`,
//! `/_admin/echo`, `/_admin/status`, and `/_open/auth`.

use errors::{err, Result, ERROR_HTTP_BAD_PARAMETER, ERROR_HTTP_UNAUTHORIZED};
use serde_json::{json, Map, Value};

use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// The ArangoDB version Rango speaks the API of; drivers choose features by it (one constant,
/// shared with AQL's `VERSION()`).
pub use aql::functions::ARANGODB_VERSION;

pub fn version(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let mut body = json!({"server": "arango", "version": ARANGODB_VERSION, "license": "community"});
    if req.flag_or("details", false) {
        body["details"] = json!({
            "architecture": "64bit",
            "arm": "false",
            "mode": "server",
            "role": "SINGLE",
            "engine": "rocksdb",
            "server": "rango",
            "rango-version": env!("CARGO_PKG_VERSION"),
            "host": hostname(),
            "maintainer-mode": "false",
            "platform": std::env::consts::OS,
            "license": "community",
            "uptime-s": ctx.started.elapsed().as_secs(),
        });
    }
    Ok(Resp::json(200, &body))
}

pub fn engine(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &json!({
        "name": "rocksdb",
        "supports": {"dfdb": false, "indexes": ["primary", "edge"], "aliases": {"indexes": {}}}
    })))
}

pub fn role(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    let mut m = Map::new();
    m.insert("role".into(), json!("SINGLE"));
    m.insert("mode".into(), json!("default"));
    Ok(Resp::ok(200, m))
}

pub fn availability(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &json!({"mode": "default", "writable": true})))
}

pub fn time(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    let now = crate::unix_now().as_secs_f64();
    let mut m = Map::new();
    m.insert("time".into(), json!(now));
    Ok(Resp::ok(200, m))
}

pub fn status(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &json!({
        "server": "arango",
        "version": ARANGODB_VERSION,
        "pid": std::process::id(),
        "license": "community",
        "mode": "server",
        "operationMode": "server",
        "foxxApi": false,
        "host": hostname(),
        "serverInfo": {
            "role": "SINGLE",
            "writeOpsEnabled": true,
            "readOnly": false,
            "maintenance": false,
            "address": ctx.config.endpoint,
        }
    })))
}

/// Echoes the request back, as ArangoDB does for debugging clients and proxies.
pub fn echo(_ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let headers: Map<String, Value> = req
        .headers
        .iter()
        .filter(|(k, _)| *k != hyper::header::AUTHORIZATION)
        .map(|(k, v)| (k.as_str().to_string(), json!(String::from_utf8_lossy(v.as_bytes()))))
        .collect();
    Ok(Resp::json(200, &json!({
        "authorized": req.user.is_some(),
        "user": req.user,
        "database": req.db,
        "url": req.path,
        "protocol": "http",
        "portType": "tcp",
        "requestType": req.method.as_str(),
        "headers": headers,
        "parameters": req.query,
        "suffix": [],
        "rawSuffix": [],
        "path": "/",
        "prefix": "/",
        "requestBody": String::from_utf8_lossy(&req.body),
    })))
}

/// `POST /_open/auth`: exchanges a user name and password for a JWT.
pub fn open_auth(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json()?;
    let (Some(user), password) = (body.get("username").and_then(Value::as_str), body.get("password").and_then(Value::as_str))
    else {
        return Err(err!(ERROR_HTTP_BAD_PARAMETER, "invalid authentication data, expecting username and password"));
    };
    // With an access token as password the user name may be empty: the token names its user.
    let Some(user) = ctx.users.authenticate(user, password.unwrap_or("")) else {
        return Err(err!(ERROR_HTTP_UNAUTHORIZED, "Wrong credentials").status(401));
    };
    Ok(Resp::json(200, &json!({"jwt": ctx.auth.issue_token(&user)})))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// `GET /_api/tasks`: Rango runs no server-side JavaScript tasks yet (creating one answers
/// 501), so the list is truthfully empty.
pub fn tasks(_ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &json!([])))
}

/// `GET /_admin/server/jwt`: digests of the active and passive JWT secrets.
pub fn jwt_secrets(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::result(200, ctx.auth.secrets_info()))
}

/// `POST /_admin/server/jwt`: reads the secrets again from the keyfile or folder.
pub fn jwt_reload(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    ctx.auth.reload().map_err(|e| err!(errors::ERROR_BAD_PARAMETER, "{e}"))?;
    Ok(Resp::result(200, ctx.auth.secrets_info()))
}

/// Counters for `/_admin/metrics`, under ArangoDB's metric names.
#[derive(Default)]
pub struct Metrics {
    /// Requests by method: GET, POST, PUT, PATCH, DELETE, HEAD, other.
    requests: [std::sync::atomic::AtomicU64; 7],
}

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "other"];

impl Metrics {
    pub fn count_request(&self, method: &hyper::Method) {
        let i = METHODS.iter().position(|m| m.eq_ignore_ascii_case(method.as_str())).unwrap_or(6);
        self.requests[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `GET /_admin/metrics[/v2]`: Prometheus text with the server's counters.
pub fn metrics(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let counts: Vec<u64> = ctx.metrics.requests.iter().map(|c| c.load(Relaxed)).collect();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    metric("arangodb_http_request_statistics_total_requests_total", "counter", "Total number of HTTP requests", counts.iter().sum::<u64>().to_string());
    for (i, m) in METHODS.iter().enumerate() {
        let name = format!("arangodb_http_request_statistics_http_{m}_requests_total");
        metric(&name, "counter", &format!("Number of HTTP {} requests", m.to_uppercase()), counts[i].to_string());
    }
    metric("arangodb_server_statistics_server_uptime_total", "counter", "Seconds since the server started", format!("{:.3}", ctx.started.elapsed().as_secs_f64()));
    metric("rango_aql_cursors_open", "gauge", "AQL cursors open", ctx.cursors.open_count().to_string());
    let mut resp = Resp::raw_json(200, out.into_bytes());
    resp.headers.clear();
    Ok(resp.header(hyper::header::CONTENT_TYPE, "text/plain; version=0.0.4"))
}
