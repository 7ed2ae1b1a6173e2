//! The route table: every endpoint the server knows, with its method and handler. Tests walk
//! this table (not a hand-written list) to check every route.

use errors::{err, Result, ERROR_HTTP_METHOD_NOT_ALLOWED, ERROR_HTTP_NOT_FOUND};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::Method;

use crate::access::Level;
use crate::api::{admin, agency, collection, cursor, database, document, explain, import, index, query, query_cache, users};
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// A handler that runs to completion without waiting on other servers.
pub type SyncHandler = fn(&Ctx, &mut Req) -> Result<Resp>;
/// A handler that waits on other servers (the Agency's Raft), without holding a thread.
pub type AsyncHandler = fn(Arc<Ctx>, Req) -> Pin<Box<dyn Future<Output = Result<Resp>> + Send>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Sync(SyncHandler),
    Async(AsyncHandler),
}

/// What a caller needs for a route. Everything but `Open` needs valid credentials, and,
/// unless said otherwise, at least read access to the database in the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone, even without credentials.
    Open,
    /// This access level on the database.
    Db(Level),
    /// Read-write access to `_system`: ArangoDB's administrators.
    Admin,
    /// The user named by this path parameter, or an administrator; no database check.
    SelfOrAdmin(usize),
    /// This access level on the collection named by this path parameter.
    Col(usize, Level),
    /// This level on the database and on the collection named by this path parameter
    /// (changing a collection: drop, rename, properties).
    DbAndCol(usize, Level),
    /// This access level on the collection named by the `collection` query parameter.
    ColQuery(Level),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seg {
    Lit(&'static str),
    Param,
}

pub struct Route {
    pub method: Method,
    pub pattern: &'static str,
    pub handler: Handler,
    pub need: Need,
    segs: Vec<Seg>,
}

pub struct Router {
    routes: Vec<Route>,
}

/// `(method, pattern, handler, need)`; `:name` matches one path segment.
type Entry = (Method, &'static str, SyncHandler, Need);
type AsyncEntry = (Method, &'static str, AsyncHandler, Need);

/// The Agency's routes: they wait on Raft, so their handlers are async.
fn async_table() -> Vec<AsyncEntry> {
    use Method as M;
    use Need::Admin;
    vec![
        (M::POST, "/_api/agency/read", |c, r| Box::pin(agency::read(c, r)), Admin),
        (M::POST, "/_api/agency/write", |c, r| Box::pin(agency::write(c, r)), Admin),
        (M::POST, "/_api/agency/transact", |c, r| Box::pin(agency::transact(c, r)), Admin),
        (M::POST, "/_api/agency/transient", |c, r| Box::pin(agency::transient(c, r)), Admin),
        (M::POST, "/_api/agency/inquire", |c, r| Box::pin(agency::inquire(c, r)), Admin),
        (M::GET, "/_api/agency/poll", |c, r| Box::pin(agency::poll(c, r)), Admin),
        (M::POST, "/_api/agency_priv/append", |c, r| Box::pin(agency::priv_append(c, r)), Admin),
        (M::POST, "/_api/agency_priv/vote", |c, r| Box::pin(agency::priv_vote(c, r)), Admin),
        (M::POST, "/_api/agency_priv/snapshot", |c, r| Box::pin(agency::priv_snapshot(c, r)), Admin),
    ]
}

fn table() -> Vec<Entry> {
    use Level::{Ro, Rw};
    use Method as M;
    use Need::{Admin, Col, ColQuery, Db, DbAndCol, Open, SelfOrAdmin};
    vec![
        (M::GET, "/_api/version", admin::version, Db(Ro)),
        (M::GET, "/_api/engine", admin::engine, Db(Ro)),
        (M::GET, "/_admin/server/role", admin::role, Db(Ro)),
        (M::GET, "/_admin/server/availability", admin::availability, Open),
        (M::GET, "/_admin/time", admin::time, Db(Ro)),
        (M::GET, "/_admin/status", admin::status, Db(Ro)),
        (M::GET, "/_admin/echo", admin::echo, Db(Ro)),
        (M::POST, "/_admin/echo", admin::echo, Db(Ro)),
        (M::PUT, "/_admin/echo", admin::echo, Db(Ro)),
        (M::GET, "/_admin/server/jwt", admin::jwt_secrets, Admin),
        (M::POST, "/_admin/server/jwt", admin::jwt_reload, Admin),
        (M::POST, "/_open/auth", admin::open_auth, Open),
        (M::GET, "/_api/tasks", admin::tasks, Db(Ro)),
        (M::GET, "/_admin/metrics", admin::metrics, Db(Ro)),
        (M::GET, "/_admin/metrics/v2", admin::metrics, Db(Ro)),
        (M::GET, "/_api/database", database::list, Db(Ro)),
        (M::GET, "/_api/database/user", database::list_user, Db(Ro)),
        (M::GET, "/_api/database/current", database::current, Db(Ro)),
        (M::POST, "/_api/database", database::create, Admin),
        (M::DELETE, "/_api/database/:name", database::drop, Admin),
        (M::GET, "/_api/collection", collection::list, Db(Ro)),
        (M::POST, "/_api/collection", collection::create, Db(Rw)),
        (M::GET, "/_api/collection/:name", collection::get, Col(0, Ro)),
        (M::DELETE, "/_api/collection/:name", collection::drop, DbAndCol(0, Rw)),
        (M::GET, "/_api/collection/:name/properties", collection::properties, Col(0, Ro)),
        (M::PUT, "/_api/collection/:name/properties", collection::set_properties, DbAndCol(0, Rw)),
        (M::GET, "/_api/collection/:name/count", collection::count, Col(0, Ro)),
        (M::GET, "/_api/collection/:name/figures", collection::figures, Col(0, Ro)),
        (M::GET, "/_api/collection/:name/revision", collection::revision, Col(0, Ro)),
        (M::GET, "/_api/collection/:name/checksum", collection::checksum, Col(0, Ro)),
        (M::GET, "/_api/collection/:name/shards", collection::shards, Col(0, Ro)),
        (M::PUT, "/_api/collection/:name/truncate", collection::truncate, Col(0, Rw)),
        (M::PUT, "/_api/collection/:name/rename", collection::rename, DbAndCol(0, Rw)),
        (M::PUT, "/_api/collection/:name/recalculateCount", collection::recalculate_count, Col(0, Rw)),
        (M::PUT, "/_api/collection/:name/compact", collection::compact, Col(0, Rw)),
        (M::PUT, "/_api/collection/:name/load", collection::load, Col(0, Ro)),
        (M::PUT, "/_api/collection/:name/unload", collection::unload, Col(0, Ro)),
        (M::PUT, "/_api/collection/:name/loadIndexesIntoMemory", collection::load_indexes, Col(0, Ro)),
        (M::PUT, "/_api/collection/:name/responsibleShard", collection::responsible_shard, Col(0, Ro)),
        (M::GET, "/_api/key-generators", collection::key_generators, Db(Ro)),
        (M::POST, "/_api/document/:collection", document::insert, Col(0, Rw)),
        // `PUT …?onlyget=true` reads; the handler checks write access for real replaces.
        (M::PUT, "/_api/document/:collection", document::replace_many, Col(0, Ro)),
        (M::PATCH, "/_api/document/:collection", document::update_many, Col(0, Rw)),
        (M::DELETE, "/_api/document/:collection", document::remove_many, Col(0, Rw)),
        (M::GET, "/_api/document/:collection/:key", document::get, Col(0, Ro)),
        (M::HEAD, "/_api/document/:collection/:key", document::head, Col(0, Ro)),
        (M::PUT, "/_api/document/:collection/:key", document::replace_one, Col(0, Rw)),
        (M::PATCH, "/_api/document/:collection/:key", document::update_one, Col(0, Rw)),
        (M::DELETE, "/_api/document/:collection/:key", document::remove_one, Col(0, Rw)),
        (M::GET, "/_api/edges/:collection", document::edges, Col(0, Ro)),
        (M::POST, "/_api/import", import::import, ColQuery(Rw)),
        (M::GET, "/_api/index", index::list, ColQuery(Ro)),
        (M::POST, "/_api/index", index::create, ColQuery(Rw)),
        (M::GET, "/_api/index/:collection/:id", index::get, Col(0, Ro)),
        (M::POST, "/_api/cursor", cursor::create, Db(Ro)),
        (M::PUT, "/_api/cursor/:id", cursor::next, Db(Ro)),
        (M::POST, "/_api/cursor/:id", cursor::next, Db(Ro)),
        (M::POST, "/_api/cursor/:id/:batch", cursor::batch, Db(Ro)),
        (M::DELETE, "/_api/cursor/:id", cursor::delete, Db(Ro)),
        (M::POST, "/_api/explain", explain::explain, Db(Ro)),
        (M::POST, "/_api/query", explain::parse, Db(Ro)),
        (M::GET, "/_api/query/rules", explain::rules, Db(Ro)),
        (M::GET, "/_api/query-cache/properties", query_cache::properties, Db(Ro)),
        (M::PUT, "/_api/query-cache/properties", query_cache::set_properties, Admin),
        (M::GET, "/_api/query-cache/entries", query_cache::entries, Db(Ro)),
        (M::DELETE, "/_api/query-cache", query_cache::clear, Db(Rw)),
        (M::GET, "/_api/query-plan-cache", query_cache::plan_entries, Db(Ro)),
        (M::DELETE, "/_api/query-plan-cache", query_cache::clear_plans, Db(Rw)),
        (M::GET, "/_api/query/current", query::current, Db(Ro)),
        (M::GET, "/_api/query/slow", query::slow, Db(Ro)),
        (M::DELETE, "/_api/query/slow", query::clear_slow, Db(Rw)),
        (M::GET, "/_api/query/properties", query::properties, Db(Ro)),
        (M::PUT, "/_api/query/properties", query::set_properties, Admin),
        (M::DELETE, "/_api/query/:id", query::kill, Db(Rw)),
        (M::GET, "/_api/user", users::list, SelfOrAdmin(usize::MAX)),
        (M::POST, "/_api/user", users::create, Admin),
        (M::GET, "/_api/user/:user", users::get, SelfOrAdmin(0)),
        (M::PUT, "/_api/user/:user", users::replace, SelfOrAdmin(0)),
        (M::PATCH, "/_api/user/:user", users::update, SelfOrAdmin(0)),
        (M::DELETE, "/_api/user/:user", users::remove, Admin),
        (M::GET, "/_api/user/:user/database", users::databases, SelfOrAdmin(0)),
        (M::GET, "/_api/user/:user/database/:db", users::database_level, SelfOrAdmin(0)),
        (M::GET, "/_api/user/:user/database/:db/:col", users::collection_level, SelfOrAdmin(0)),
        (M::PUT, "/_api/user/:user/database/:db", users::grant_database, Admin),
        (M::PUT, "/_api/user/:user/database/:db/:col", users::grant_collection, Admin),
        (M::DELETE, "/_api/user/:user/database/:db", users::revoke_database, Admin),
        (M::DELETE, "/_api/user/:user/database/:db/:col", users::revoke_collection, Admin),
        (M::GET, "/_api/token/:user", users::list_tokens, SelfOrAdmin(0)),
        (M::POST, "/_api/token/:user", users::create_token, SelfOrAdmin(0)),
        (M::DELETE, "/_api/token/:user/:id", users::delete_token, SelfOrAdmin(0)),
        (M::GET, "/_api/agency/config", agency::config, Admin),
        (M::GET, "/_api/agency/state", agency::state, Admin),
    ]
}

impl Router {
    pub fn new() -> Router {
        let sync = table().into_iter().map(|(m, p, h, n)| (m, p, Handler::Sync(h), n));
        let asynchronous = async_table().into_iter().map(|(m, p, h, n)| (m, p, Handler::Async(h), n));
        let routes = sync
            .chain(asynchronous)
            .map(|(method, pattern, handler, need)| Route {
                method,
                pattern,
                handler,
                need,
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
    "/_api/query", "/_api/index", "/_api/transaction",
    "/_api/gharial", "/_api/view", "/_api/analyzer", "/_api/aqlfunction", "/_api/foxx",
    "/_api/cluster", "/_api/replication", "/_api/wal", "/_api/export", "/_api/simple", "/_api/batch",
    "/_api/job", "/_api/tasks", "/_api/traversal", "/_api/control_pregel", "/_api/dump",
    "/_admin/cluster", "/_admin/server/aql-queries", "/_admin/log", "/_admin/statistics", "/_admin/backup",
    "/_admin/license", "/_admin/support-info", "/_admin/routing", "/_admin/server/tls",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_method_and_path() {
        let r = Router::new();
        let segs = |p: &str| p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>();
        let (route, params) = r.find(&Method::GET, &segs("/_api/index"), "/_api/index").unwrap();
        assert_eq!((route.pattern, params.len()), ("/_api/index", 0));
        let (_, params) = r.find(&Method::GET, &segs("/_api/document/c/k"), "").unwrap();
        assert_eq!(params, ["c", "k"]);
        let code = |m: Method, p: &str| r.find(&m, &segs(p), p).err().map(|e| e.code.0);
        assert_eq!(code(Method::PATCH, "/_api/version"), Some(405));
        assert_eq!(code(Method::GET, "/_api/nothing"), Some(404));
    }
}
