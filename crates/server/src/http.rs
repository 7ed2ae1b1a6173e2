//! The HTTP front: accepts connections, reads each request with bounded size (after
//! `Content-Encoding` decompression), splits off `/_db/<name>`, authenticates, and runs the
//! route's handler. Reads run on the async workers; writes run on the blocking pool, since
//! a synced write waits for the disk.

use std::convert::Infallible;
use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use errors::{err, ArangoError, ERROR_HTTP_BAD_PARAMETER, 
    ERROR_NOT_IMPLEMENTED, ERROR_RESOURCE_LIMIT};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_ENCODING};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

use crate::access::Level;
use crate::auth::Credentials;
use crate::req::Caller;
use crate::req::{decode_segment, parse_query, Req};
use crate::resp::Resp;
use crate::routes::{Handler, Need, NOT_BUILT_PREFIXES};
use crate::Ctx;

pub async fn serve(listener: tokio::net::TcpListener, ctx: Arc<Ctx>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let ctx = ctx.clone();
                async move { Ok::<_, Infallible>(handle(ctx, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    tracing::info!("shutting down");
}

async fn handle(ctx: Arc<Ctx>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let resp = match prepare(&ctx, request).await {
        Ok(req) => dispatch(ctx, req).await,
        Err(e) => Resp::error(&e),
    };
    let mut builder = Response::builder().status(resp.status).header("Server", "ArangoDB");
    if let Some(h) = builder.headers_mut() {
        for (k, v) in resp.headers {
            h.append(k, v);
        }
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    }
    builder.body(Full::new(resp.body)).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// How much of an oversized body is read and thrown away, so that the client can read the
/// 413 instead of a broken connection; past this the connection is simply closed.
const OVERSIZED_BODY_DRAIN_BYTES_MAX: usize = 64 << 20;

/// Reads a body of at most `limit` bytes. `None` if it is larger (the rest is drained up to
/// a bound); `Some(Err)` if the connection failed.
async fn read_body(mut body: Incoming, limit: usize) -> Option<Result<Bytes, ArangoError>> {
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return Some(Err(err!(ERROR_HTTP_BAD_PARAMETER, "cannot read request body: {e}"))),
        };
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen > limit {
            buf = Vec::new();
            if seen > limit.saturating_add(OVERSIZED_BODY_DRAIN_BYTES_MAX) {
                break;
            }
        } else {
            buf.extend_from_slice(&data);
        }
    }
    (seen <= limit).then(|| Ok(Bytes::from(buf)))
}

/// Reads and checks everything about a request that is the same for every route.
async fn prepare(ctx: &Ctx, request: Request<Incoming>) -> Result<Req, ArangoError> {
    let (parts, body) = request.into_parts();
    let limit = ctx.config.maximal_body_size_bytes;
    let too_large = || err!(ERROR_RESOURCE_LIMIT, "request body too large: the limit is {limit} bytes (--server.maximal-body-size)").status(413);
    let body = read_body(body, limit).await.ok_or_else(too_large)??;
    let body = match parts.headers.get(CONTENT_ENCODING).map(|v| v.as_bytes().to_ascii_lowercase()) {
        None => body,
        Some(enc) if enc == b"identity" => body,
        Some(enc) if enc == b"gzip" || enc == b"deflate" => {
            let mut out = Vec::new();
            let read = if enc == b"gzip" {
                flate2::read::MultiGzDecoder::new(&body[..]).take(limit as u64 + 1).read_to_end(&mut out)
            } else {
                // "deflate" is zlib-wrapped per HTTP; accept raw deflate streams too.
                flate2::read::ZlibDecoder::new(&body[..]).take(limit as u64 + 1).read_to_end(&mut out).or_else(|_| {
                    out.clear();
                    flate2::read::DeflateDecoder::new(&body[..]).take(limit as u64 + 1).read_to_end(&mut out)
                })
            };
            read.map_err(|e| err!(ERROR_HTTP_BAD_PARAMETER, "cannot decompress request body: {e}"))?;
            if out.len() > limit {
                return Err(too_large());
            }
            Bytes::from(out)
        }
        Some(_) => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "unsupported Content-Encoding").status(415)),
    };
    let raw_path = parts.uri.path();
    let mut segments = Vec::new();
    for s in raw_path.split('/').filter(|s| !s.is_empty()) {
        segments.push(decode_segment(s).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "invalid URL encoding in path"))?);
    }
    let mut db = docstore::SYSTEM_DATABASE.to_string();
    let mut path = raw_path.to_string();
    if segments.first().map(String::as_str) == Some("_db") && segments.len() >= 2 {
        db = segments[1].clone();
        segments.drain(..2);
        path = format!("/{}", raw_path.trim_start_matches('/').splitn(3, '/').nth(2).unwrap_or(""));
    }
    Ok(Req {
        method: parts.method,
        db,
        path,
        segments,
        params: Vec::new(),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        headers: parts.headers,
        body,
        user: None,
        caller: None,
    })
}

async fn dispatch(ctx: Arc<Ctx>, mut req: Req) -> Resp {
    ctx.metrics.count_request(&req.method);
    let found = ctx.router.find(&req.method, &req.segments, &req.path).map(|(r, params)| (r.handler, r.need, params));
    let (handler, need, params) = match found {
        Ok(f) => f,
        Err(e) => {
            // Unknown paths and unknown methods of partly built API families are "not built".
            if NOT_BUILT_PREFIXES.iter().any(|p| req.path == *p || req.path.starts_with(&format!("{p}/"))) {
                return Resp::error(&err!(ERROR_NOT_IMPLEMENTED, "{} is not implemented in Rango yet", req.path).status(501));
            }
            return Resp::error(&e);
        }
    };
    req.params = params;
    req.caller = if ctx.auth.enabled {
        match authenticate(&ctx, &req).await {
            Ok(caller) => caller,
            Err(()) if need == Need::Open => None,
            Err(()) => return unauthorized(),
        }
    } else {
        Some(Caller::Superuser)
    };
    req.user = match &req.caller {
        Some(Caller::User(u)) => Some(u.clone()),
        Some(Caller::Superuser) => Some("root".into()),
        None => None,
    };
    if let Err(resp) = authorize(&ctx, &req, need) {
        return resp;
    }
    // Every route lives in a database; an unknown one ends the request (after authentication,
    // so that unauthenticated clients learn nothing about which databases exist).
    if let Err(e) = ctx.store.database(&req.db) {
        return Resp::error(&e);
    }
    let handler = match handler {
        Handler::Async(h) => return h(ctx, req).await.unwrap_or_else(|e| Resp::error(&e)),
        Handler::Sync(h) => h,
    };
    if runs_inline(&ctx, &req) {
        run(&ctx, handler, &mut req)
    } else {
        let ctx2 = ctx.clone();
        match tokio::task::spawn_blocking(move || run(&ctx2, handler, &mut req)).await {
            Ok(resp) => resp,
            Err(e) => Resp::error(&err!(errors::ERROR_INTERNAL, "request handler failed: {e}")),
        }
    }
}

/// Largest body of a write that runs on the async workers rather than the blocking pool.
const INLINE_WRITE_BODY_BYTES_MAX: usize = 16 * 1024;

/// Whether a request is cheap enough to run on an async worker: point reads, and small
/// single-document writes that will not wait for an fsync or for a truncate in progress. Everything else (synced writes,
/// imports, DDL, large bodies) goes to the blocking pool so it cannot stall the workers.
/// (An unsynced write can still wait behind a synced one in RocksDB's write group; that
/// costs at most one fsync, and only when both kinds are in flight.)
fn runs_inline(ctx: &Ctx, req: &Req) -> bool {
    // Reads that scan a whole collection or index range go to the blocking pool.
    let scans = req.segments.get(1).is_some_and(|s| s == "edges") || req.segments.last().is_some_and(|s| s == "checksum");
    if matches!(req.method, Method::GET | Method::HEAD) {
        return !scans;
    }
    let is_document_write = req.segments.len() >= 3 && req.segments[0] == "_api" && req.segments[1] == "document";
    if !is_document_write || req.body.len() > INLINE_WRITE_BODY_BYTES_MAX || req.flag_or("waitForSync", false) {
        return false;
    }
    let synced_collection = ctx
        .store
        .database(&req.db)
        .and_then(|db| db.collection(&req.segments[2]))
        .map_or(true, |c| c.info.read().wait_for_sync || c.is_busy());
    !synced_collection
}

fn unauthorized() -> Resp {
    Resp::error(&err!(errors::ERROR_FORBIDDEN, "not authorized to execute this request").status(401))
        .header(hyper::header::WWW_AUTHENTICATE, "Bearer token_type=\"JWT\", realm=\"ArangoDB\"")
}

fn forbidden() -> Resp {
    Resp::error(&err!(errors::ERROR_FORBIDDEN, "forbidden"))
}

/// Checks the `Authorization` header: `Ok(None)` without one, `Err` if it is wrong. A
/// password not seen before costs a slow hash; that runs on the blocking pool, a few at a
/// time, so wrong passwords cannot starve the workers that serve everyone else.
async fn authenticate(ctx: &Arc<Ctx>, req: &Req) -> Result<Option<Caller>, ()> {
    match ctx.auth.credentials(req.headers.get(hyper::header::AUTHORIZATION).map(HeaderValue::as_bytes)) {
        None => Ok(None),
        Some(Credentials::Basic { user, password }) => {
            if let Some(u) = ctx.users.authenticate_fast(&user, &password) {
                return Ok(Some(Caller::User(u)));
            }
            let _permit = ctx.slow_auth.acquire().await.map_err(|_| ())?;
            let ctx2 = ctx.clone();
            let found = tokio::task::spawn_blocking(move || ctx2.users.authenticate(&user, &password)).await.map_err(|_| ())?;
            found.map(|u| Some(Caller::User(u))).ok_or(())
        }
        Some(Credentials::Token(user)) if ctx.users.is_active(&user) => Ok(Some(Caller::User(user))),
        Some(Credentials::Superuser) => Ok(Some(Caller::Superuser)),
        Some(_) => Err(()),
    }
}

/// Whether the caller may use the route: 401 without credentials or without access to the
/// database, 403 without the access level the route needs.
fn authorize(ctx: &Ctx, req: &Req, need: Need) -> Result<(), Resp> {
    if need == Need::Open {
        return Ok(());
    }
    let name = match &req.caller {
        None => return Err(unauthorized()),
        Some(Caller::Superuser) => return Ok(()),
        Some(Caller::User(name)) => name,
    };
    let user = ctx.users.get(name).ok_or_else(unauthorized)?;
    let is_admin = user.grants.is_admin();
    if let Need::SelfOrAdmin(i) = need {
        return if i == usize::MAX || is_admin || req.param(i) == name { Ok(()) } else { Err(forbidden()) };
    }
    let db_level = user.grants.database(&req.db);
    if db_level < Level::Ro {
        return Err(unauthorized());
    }
    let collection_level = |col: &str| -> Level {
        // Collections may be named by id; access is granted by name.
        let name = ctx.store.database(&req.db).ok().and_then(|db| db.collection(col).ok()).map_or(col.to_string(), |c| c.name());
        user.grants.collection(&req.db, &name)
    };
    let ok = match need {
        Need::Open | Need::SelfOrAdmin(_) => true,
        Need::Db(level) => db_level >= level,
        Need::Admin => is_admin,
        Need::Col(i, level) => collection_level(req.param(i)) >= level,
        Need::DbAndCol(i, level) => db_level >= level && collection_level(req.param(i)) >= level,
        // Without a collection the handler answers ArangoDB's "collection missing" error.
        Need::ColQuery(level) => req.query("collection").is_none_or(|c| c.is_empty() || collection_level(c) >= level),
    };
    if ok {
        Ok(())
    } else {
        Err(forbidden())
    }
}

fn run(ctx: &Ctx, handler: crate::routes::SyncHandler, req: &mut Req) -> Resp {
    // A handler that panics must not take the server down; report an internal error instead.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(ctx, req))) {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => Resp::error(&e),
        Err(_) => {
            tracing::error!("handler for {} {} panicked", req.method, req.path);
            Resp::error(&err!(errors::ERROR_INTERNAL, "internal error"))
        }
    }
}
