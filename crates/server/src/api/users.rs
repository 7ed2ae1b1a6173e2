//! `/_api/user` (users and their access levels) and `/_api/token` (access tokens).

use errors::{err, ArangoError, Result, ERROR_BAD_PARAMETER, ERROR_FORBIDDEN, ERROR_USER_INVALID_NAME,
    ERROR_USER_NOT_FOUND};
use serde_json::{json, Map, Value};

use crate::access::{Level, SYSTEM};
use crate::req::Req;
use crate::resp::Resp;
use crate::api::is_admin;
use crate::users::{token_json, User};
use crate::Ctx;

/// Longest user name, in bytes.
const USER_NAME_BYTES_MAX: usize = 254;

fn user_or_404(ctx: &Ctx, name: &str) -> Result<std::sync::Arc<User>> {
    ctx.users.get(name).ok_or_else(|| err!(ERROR_USER_NOT_FOUND, "user not found"))
}

fn public_resp(status: u16, user: &User) -> Resp {
    let Value::Object(m) = user.public() else { return Resp::empty(500) };
    Resp::ok(status, m)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= USER_NAME_BYTES_MAX && !name.contains(':') && !name.chars().any(char::is_control)
}

/// `GET /_api/user`: every user for administrators, only oneself for others.
pub fn list(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let admin = is_admin(ctx, req);
    let users: Vec<Value> = ctx
        .users
        .list()
        .iter()
        .filter(|u| admin || req.user.as_deref() == Some(u.name.as_str()))
        .map(|u| u.public())
        .collect();
    Ok(Resp::result(200, Value::Array(users)))
}

/// `POST /_api/user` with `user`, `passwd`, `active`, `extra`.
pub fn create(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json_object_or_empty()?;
    let name = body.get("user").and_then(Value::as_str).unwrap_or_default();
    if !valid_name(name) {
        return Err(err!(ERROR_USER_INVALID_NAME, "invalid user name"));
    }
    let mut user = User::new(name, body.get("passwd").and_then(Value::as_str).unwrap_or(""));
    apply_fields(&mut user, &body, true)?;
    ctx.users.create(&ctx.store, user.clone())?;
    Ok(public_resp(201, &user))
}

/// Sets `passwd`, `active` and `extra` from a body; `replace` resets what is missing.
fn apply_fields(user: &mut User, body: &Value, replace: bool) -> Result<()> {
    match body.get("passwd") {
        Some(Value::String(p)) => user.set_password(p),
        None | Some(Value::Null) if replace => user.set_password(""),
        None | Some(Value::Null) => {}
        Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "passwd must be a string")),
    }
    match body.get("active") {
        Some(Value::Bool(a)) => user.active = *a,
        None | Some(Value::Null) if replace => user.active = true,
        None | Some(Value::Null) => {}
        Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "active must be a boolean")),
    }
    match body.get("extra") {
        // Replacing sets `extra`; updating merges into it, as ArangoDB does.
        Some(Value::Object(e)) if replace => user.extra = Value::Object(e.clone()),
        Some(Value::Object(e)) => {
            let mut merged = user.extra.as_object().cloned().unwrap_or_default();
            merged.extend(e.clone());
            user.extra = Value::Object(merged);
        }
        None | Some(Value::Null) if replace => user.extra = json!({}),
        None | Some(Value::Null) => {}
        Some(_) => return Err(err!(ERROR_BAD_PARAMETER, "extra must be an object")),
    }
    Ok(())
}

pub fn get(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let user = user_or_404(ctx, req.param(0))?;
    Ok(public_resp(200, &user))
}

fn change(ctx: &Ctx, req: &mut Req, replace: bool) -> Result<Resp> {
    let body = req.json_object_or_empty()?;
    // Users may change their own password; everything else is for administrators.
    if !is_admin(ctx, req) && (body.get("active").is_some() || body.get("extra").is_some()) {
        return Err(err!(ERROR_FORBIDDEN, "forbidden: only administrators may change active or extra"));
    }
    let user = ctx.users.modify(&ctx.store, req.param(0), |u| apply_fields(u, &body, replace))?;
    Ok(public_resp(200, &user))
}

pub fn replace(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    change(ctx, req, true)
}

pub fn update(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    change(ctx, req, false)
}

pub fn remove(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    if req.param(0) == "root" {
        return Err(err!(ERROR_FORBIDDEN, "forbidden: the root user cannot be removed"));
    }
    ctx.users.remove(&ctx.store, req.param(0))?;
    Ok(Resp::ok(202, Map::new()))
}

/// `GET /_api/user/<user>/database[?full=true]`: the databases the user may use.
pub fn databases(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let user = user_or_404(ctx, req.param(0))?;
    let full = req.flag_or("full", false);
    let mut result = Map::new();
    for db in ctx.store.databases() {
        let level = user.grants.database(db.name());
        if !full {
            if level > Level::None {
                result.insert(db.name().to_string(), json!(level.as_str()));
            }
            continue;
        }
        let mut cols: Map<String, Value> = db
            .collections()
            .iter()
            .map(|c| {
                let name = c.name();
                let level = user.grants.collection(db.name(), &name);
                (name, json!(level.as_str()))
            })
            .collect();
        cols.insert("*".into(), json!(user.grants.configured_collection(db.name(), "*").as_str()));
        result.insert(db.name().to_string(), json!({"permission": level.as_str(), "collections": cols}));
    }
    if full {
        let star = json!({"permission": user.grants.configured_database("*").as_str(),
                          "collections": {"*": user.grants.configured_collection("*", "*").as_str()}});
        result.insert("*".into(), star);
    }
    Ok(Resp::result(200, Value::Object(result)))
}

pub fn database_level(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let user = user_or_404(ctx, req.param(0))?;
    Ok(Resp::result(200, json!(user.grants.database(req.param(1)).as_str())))
}

pub fn collection_level(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let user = user_or_404(ctx, req.param(0))?;
    Ok(Resp::result(200, json!(user.grants.collection(req.param(1), req.param(2)).as_str())))
}

fn grant_of(req: &Req) -> Result<Level> {
    let body = req.json_object_or_empty()?;
    body.get("grant")
        .and_then(Value::as_str)
        .and_then(Level::parse)
        .filter(|l| *l != Level::Undefined)
        .ok_or_else(|| err!(ERROR_BAD_PARAMETER, "invalid grant: expecting \"rw\", \"ro\" or \"none\""))
}

fn check_root_system(user: &str, db: &str, col: Option<&str>, level: Option<Level>) -> Result<()> {
    let lowers = level != Some(Level::Rw);
    if user == "root" && db == SYSTEM && col.is_none_or(|c| c == "*") && lowers {
        return Err(err!(ERROR_FORBIDDEN, "Cannot lower access level of 'root' to _system"));
    }
    Ok(())
}

pub fn grant_database(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let level = grant_of(req)?;
    let (name, db) = (req.param(0).to_string(), req.param(1).to_string());
    check_root_system(&name, &db, None, Some(level))?;
    ctx.users.modify(&ctx.store, &name, |u| {
        u.grants.grant_database(&db, level);
        Ok(())
    })?;
    let mut m = Map::new();
    m.insert(db, json!(level.as_str()));
    Ok(Resp::ok(200, m))
}

pub fn grant_collection(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let level = grant_of(req)?;
    let (name, db, col) = (req.param(0).to_string(), req.param(1).to_string(), req.param(2).to_string());
    if col.starts_with('_') {
        return Err(err!(ERROR_BAD_PARAMETER, "Cannot set rights for system collections"));
    }
    if db == "*" && col != "*" {
        return Err(err!(ERROR_BAD_PARAMETER, "Invalid database / collection pair"));
    }
    check_root_system(&name, &db, Some(&col), Some(level))?;
    ctx.users.modify(&ctx.store, &name, |u| {
        u.grants.grant_collection(&db, &col, level);
        Ok(())
    })?;
    let mut m = Map::new();
    m.insert(format!("{db}/{col}"), json!(level.as_str()));
    Ok(Resp::ok(200, m))
}

pub fn revoke_database(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (name, db) = (req.param(0).to_string(), req.param(1).to_string());
    check_root_system(&name, &db, None, None)?;
    ctx.users.modify(&ctx.store, &name, |u| {
        u.grants.revoke_database(&db);
        Ok(())
    })?;
    Ok(Resp::ok(202, Map::new()))
}

pub fn revoke_collection(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let (name, db, col) = (req.param(0).to_string(), req.param(1).to_string(), req.param(2).to_string());
    check_root_system(&name, &db, Some(&col), None)?;
    ctx.users.modify(&ctx.store, &name, |u| {
        u.grants.revoke_collection(&db, &col);
        Ok(())
    })?;
    Ok(Resp::ok(202, Map::new()))
}

/// `POST /_api/token/<user>` with `name` and `valid_until` (seconds since 1970).
pub fn create_token(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let body = req.json_object_or_empty()?;
    let name = body.get("name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let valid_until = body.get("valid_until").and_then(Value::as_i64);
    let (Some(name), Some(valid_until)) = (name, valid_until) else {
        return Err(err!(ERROR_BAD_PARAMETER, "expecting 'name' (a string) and 'valid_until' (seconds since 1970)"));
    };
    let mut created = Value::Null;
    ctx.users.modify(&ctx.store, req.param(0), |u| {
        if u.tokens.iter().any(|t| t.name == name) {
            return Err(ArangoError::with_message(ERROR_BAD_PARAMETER, format!("a token named '{name}' exists")).status(409));
        }
        created = u.create_token(name, valid_until);
        Ok(())
    })?;
    Ok(Resp::json(200, &created))
}

pub fn list_tokens(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let user = user_or_404(ctx, req.param(0))?;
    Ok(Resp::json(200, &json!({"tokens": user.tokens.iter().map(token_json).collect::<Vec<_>>()})))
}

pub fn delete_token(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let id: u64 = req.param(1).parse().map_err(|_| err!(ERROR_BAD_PARAMETER, "invalid token id"))?;
    ctx.users.modify(&ctx.store, req.param(0), |u| {
        let before = u.tokens.len();
        u.tokens.retain(|t| t.id != id);
        if u.tokens.len() == before {
            return Err(ArangoError::with_message(errors::ERROR_HTTP_NOT_FOUND, "token not found"));
        }
        Ok(())
    })?;
    Ok(Resp::ok(200, Map::new()))
}

/// Checks the `users` of `POST /_api/database` before the database is created.
pub fn check_new_database_users(users: &[Value]) -> Result<()> {
    for u in users {
        let name = u.get("username").or_else(|| u.get("user")).and_then(Value::as_str).unwrap_or_default();
        if !valid_name(name) {
            return Err(err!(ERROR_USER_INVALID_NAME, "invalid user name"));
        }
        if u.get("passwd").is_some_and(|p| !p.is_string() && !p.is_null()) {
            return Err(err!(ERROR_BAD_PARAMETER, "passwd must be a string"));
        }
    }
    Ok(())
}

/// Creates the users listed in `POST /_api/database`'s `users` (if missing) and grants
/// them read-write access to `db`.
pub fn grant_on_new_database(ctx: &Ctx, db: &str, users: &[Value]) -> Result<()> {
    check_new_database_users(users)?;
    for u in users {
        let name = u.get("username").or_else(|| u.get("user")).and_then(Value::as_str).unwrap_or_default();
        let make = || {
            let mut user = User::new(name, u.get("passwd").and_then(Value::as_str).unwrap_or(""));
            let fields = json!({"active": u.get("active").cloned().unwrap_or(Value::Null), "extra": u.get("extra").cloned().unwrap_or(Value::Null)});
            apply_fields(&mut user, &fields, false)?;
            Ok(user)
        };
        ctx.users.upsert(&ctx.store, name, make, |user| user.grants.grant_database(db, Level::Rw))?;
    }
    Ok(())
}
