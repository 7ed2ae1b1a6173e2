//! Handlers for ArangoDB's REST API, one module per API family.

pub mod admin;
pub mod agency;
pub mod collection;
pub mod cursor;
pub mod database;
pub mod document;
pub mod explain;
pub mod import;
pub mod index;
pub mod query;
pub mod query_cache;
pub mod users;

use std::sync::Arc;

use docstore::{Collection, Database};
use errors::Result;

use crate::req::Req;
use crate::Ctx;

/// The database a request addresses; 404 with `ERROR_ARANGO_DATABASE_NOT_FOUND` if none.
pub fn database(ctx: &Ctx, req: &Req) -> Result<Arc<Database>> {
    ctx.store.database(&req.db)
}

/// The database and a collection of it, by name or id.
pub fn collection(ctx: &Ctx, req: &Req, name: &str) -> Result<(Arc<Database>, Arc<Collection>)> {
    let db = database(ctx, req)?;
    let col = db.collection(name)?;
    Ok((db, col))
}

/// The caller's grants; `None` for superusers (and with authentication off), who may do all.
pub fn caller_grants(ctx: &Ctx, req: &Req) -> Option<crate::access::Grants> {
    match &req.caller {
        Some(crate::req::Caller::User(name)) => Some(ctx.users.get(name).map(|u| u.grants.clone()).unwrap_or_default()),
        _ => None,
    }
}

/// Whether the caller is an administrator: a superuser, or read-write on `_system`.
pub fn is_admin(ctx: &Ctx, req: &Req) -> bool {
    match &req.caller {
        Some(crate::req::Caller::Superuser) => true,
        Some(crate::req::Caller::User(name)) => ctx.users.get(name).is_some_and(|u| u.grants.is_admin()),
        None => false,
    }
}

/// Fails with 403 unless the caller has `level` on collection `col` of the request's database.
pub fn require_collection(ctx: &Ctx, req: &Req, col: &Collection, level: crate::access::Level) -> Result<()> {
    match caller_grants(ctx, req) {
        Some(g) if g.collection(&req.db, &col.name()) < level => Err(errors::err!(errors::ERROR_FORBIDDEN, "forbidden")),
        _ => Ok(()),
    }
}
