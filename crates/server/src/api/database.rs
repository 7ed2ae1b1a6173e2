//! `/_api/database`: list, create, drop, and the current database.

use errors::{err, Result, ERROR_ARANGO_DATABASE_NAME_INVALID, ERROR_ARANGO_USE_SYSTEM_DATABASE, ERROR_BAD_PARAMETER};
use serde_json::{json, Value};

use crate::api;
use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

fn require_system(req: &Req) -> Result<()> {
    if req.db != docstore::SYSTEM_DATABASE {
        return Err(err!(ERROR_ARANGO_USE_SYSTEM_DATABASE, "operation only allowed in system database"));
    }
    Ok(())
}

pub fn list(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::database(ctx, req)?;
    require_system(req)?;
    let names: Vec<String> = ctx.store.databases().iter().map(|d| d.name().to_string()).collect();
    Ok(Resp::result(200, json!(names)))
}

/// Databases the caller may use.
pub fn list_user(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::database(ctx, req)?;
    let grants = api::caller_grants(ctx, req);
    let names: Vec<String> = ctx
        .store
        .databases()
        .iter()
        .map(|d| d.name().to_string())
        .filter(|d| grants.as_ref().is_none_or(|g| g.database(d) > crate::access::Level::None))
        .collect();
    Ok(Resp::result(200, json!(names)))
}

pub fn current(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let db = api::database(ctx, req)?;
    Ok(Resp::result(200, json!({
        "name": db.name(),
        "id": db.info.id.to_string(),
        "isSystem": db.is_system(),
        "path": "",
        "sharding": db.info.sharding,
        "replicationFactor": db.info.replication_factor,
        "writeConcern": db.info.write_concern,
    })))
}

pub fn create(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::database(ctx, req)?;
    require_system(req)?;
    let body = req.json()?;
    let name = body.get("name").and_then(Value::as_str).ok_or_else(|| err!(ERROR_ARANGO_DATABASE_NAME_INVALID, "database name invalid"))?;
    let options = body.get("options").cloned().unwrap_or(json!({}));
    let users = match body.get("users") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(users)) => users.clone(),
        Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "users must be an array")),
    };
    crate::api::users::check_new_database_users(&users)?;
    ctx.store.create_database(name, options)?;
    if !users.is_empty() {
        crate::api::users::grant_on_new_database(ctx, name, &users)?;
    }
    Ok(Resp::result(201, json!(true)))
}

pub fn drop(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    api::database(ctx, req)?;
    require_system(req)?;
    ctx.store.drop_database(req.param(0))?;
    ctx.users.forget_database(&ctx.store, req.param(0))?;
    Ok(Resp::result(200, json!(true)))
}
