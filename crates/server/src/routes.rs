//! The route table: every endpoint the server knows, with its method and handler. Tests walk
//! this table (not a hand-written list) to check every route.

use errors::{err, Result, ERROR_HTTP_METHOD_NOT_ALLOWED, ERROR_HTTP_NOT_FOUND};
use hyper::Method;

use crate::api::{admin, collection, database, document, import, users};
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

pub type Handler = fn(&Ctx, &mut Req) -> Result<Resp>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seg {
    Lit(&'static str),
    Param,
}

pub struct Route {
    pub method: Method,
    pub pattern: &'static str,
    pub handler: Handler,
    /// Reachable without credentials.
    pub open: bool,
    segs: Vec<Seg>,
}

pub struct Router {
    routes: Vec<Route>,
}

/// `(method, pattern, handler, open)`; `:name` matches one path segment.
type Entry = (Method, &'static str, Handler, bool);

fn table() -> Vec<Entry> {
    use Method as M;
    vec![
        (M::GET, "/_api/version", admin::version, false),
        (M::GET, "/_api/engine", admin::engine, false),
        (M::GET, "/_admin/server/role", admin::role, false),
        (M::GET, "/_admin/server/availability", admin::availability, true),
        (M::GET, "/_admin/time", admin::time, false),
        (M::GET, "/_admin/status", admin::status, false),
        (M::GET, "/_admin/echo", admin::echo, false),
        (M::POST, "/_admin/echo", admin::echo, false),
        (M::PUT, "/_admin/echo", admin::echo, false),
        (M::POST, "/_open/auth", admin::open_auth, true),
        (M::GET, "/_api/database", database::list, false),
        (M::GET, "/_api/database/user", database::list_user, false),
        (M::GET, "/_api/database/current", database::current, false),
        (M::POST, "/_api/database", database::create, false),
        (M::DELETE, "/_api/database/:name", database::drop, false),
        (M::GET, "/_api/collection", collection::list, false),
        (M::POST, "/_api/collection", collection::create, false),
        (M::GET, "/_api/collection/:name", collection::get, false),
        (M::DELETE, "/_api/collection/:name", collection::drop, false),
        (M::GET, "/_api/collection/:name/properties", collection::properties, false),
        (M::PUT, "/_api/collection/:name/properties", collection::set_properties, false),
        (M::GET, "/_api/collection/:name/count", collection::count, false),
        (M::GET, "/_api/collection/:name/figures", collection::figures, false),
        (M::GET, "/_api/collection/:name/revision", collection::revision, false),
        (M::GET, "/_api/collection/:name/checksum", collection::checksum, false),
        (M::GET, "/_api/collection/:name/shards", collection::shards, false),
        (M::PUT, "/_api/collection/:name/truncate", collection::truncate, false),
        (M::PUT, "/_api/collection/:name/rename", collection::rename, false),
        (M::PUT, "/_api/collection/:name/recalculateCount", collection::recalculate_count, false),
        (M::PUT, "/_api/collection/:name/compact", collection::compact, false),
        (M::PUT, "/_api/collection/:name/load", collection::load, false),
        (M::PUT, "/_api/collection/:name/unload", collection::unload, false),
        (M::PUT, "/_api/collection/:name/loadIndexesIntoMemory", collection::load_indexes, false),
        (M::PUT, "/_api/collection/:name/responsibleShard", collection::responsible_shard, false),
        (M::POST, "/_api/document/:collection", document::insert, false),
        (M::PUT, "/_api/document/:collection", document::replace_many, false),
        (M::PATCH, "/_api/document/:collection", document::update_many, false),
        (M::DELETE, "/_api/document/:collection", document::remove_many, false),
        (M::GET, "/_api/document/:collection/:key", document::get, false),
        (M::HEAD, "/_api/document/:collection/:key", document::head, false),
        (M::PUT, "/_api/document/:collection/:key", document::replace_one, false),
        (M::PATCH, "/_api/document/:collection/:key", document::update_one, false),
        (M::DELETE, "/_api/document/:collection/:key", document::remove_one, false),
        (M::GET, "/_api/edges/:collection", document::edges, false),
        (M::POST, "/_api/import", import::import, false),
        (M::GET, "/_api/user", users::list, false),
        (M::GET, "/_api/user/:name", users::get, false),
        (M::DELETE, "/_api/user/:name", users::remove, false),
        (M::GET, "/_api/tasks", admin::tasks, false),
        (M::GET, "/_api/key-generators", collection::key_generators, false),
    ]
}

impl Router {
    pub fn new() -> Router {
        let routes = table()
            .into_iter()
            .map(|(method, pattern, handler, open)| Route {
                method,
                pattern,
                handler,
                open,
                segs: pattern
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| if s.starts_with(':') { Seg::Param } else { Seg::Lit(s) })
                    .collect(),
            })
            .collect();
        Router { routes }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the route for a method and decoded path segments, and the parameter values.
    /// A path that exists with another method gives 405, an unknown one 404.
    pub fn find(&self, method: &Method, segments: &[String], path: &str) -> Result<(&Route, Vec<String>)> {
        let mut path_known = false;
        for route in &self.routes {
            if route.segs.len() != segments.len() {
                continue;
            }
            let matches = route.segs.iter().zip(segments).all(|(seg, s)| match seg {
                Seg::Lit(l) => l == s,
                Seg::Param => true,
            });
            if !matches {
                continue;
            }
            if route.method == *method {
                let params = route
                    .segs
                    .iter()
                    .zip(segments)
                    .filter(|(seg, _)| **seg == Seg::Param)
                    .map(|(_, s)| s.clone())
                    .collect();
                return Ok((route, params));
            }
            path_known = true;
        }
        if path_known {
            Err(err!(ERROR_HTTP_METHOD_NOT_ALLOWED, "method not supported"))
        } else {
            Err(err!(ERROR_HTTP_NOT_FOUND, "unknown path '{path}'"))
        }
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

/// ArangoDB API families Rango does not serve yet. Requests to them get 501 with
/// `ERROR_NOT_IMPLEMENTED` rather than a misleading 404.
pub const NOT_BUILT_PREFIXES: &[&str] = &[
    "/_api/cursor", "/_api/query", "/_api/explain", "/_api/index", "/_api/user", "/_api/transaction",
    "/_api/gharial", "/_api/view", "/_api/analyzer", "/_api/aqlfunction", "/_api/foxx", "/_api/agency",
    "/_api/cluster", "/_api/replication", "/_api/wal", "/_api/export", "/_api/simple", "/_api/batch",
    "/_api/job", "/_api/tasks", "/_api/token", "/_api/traversal", "/_api/control_pregel", "/_api/dump",
    "/_admin/cluster", "/_admin/log", "/_admin/metrics", "/_admin/statistics", "/_admin/backup",
    "/_admin/license", "/_admin/server/jwt", "/_admin/support-info", "/_admin/routing",
];
