//! `/_api/agency/*` (ArangoDB's Agency API) and `/_api/agency_priv/*` (Raft between agents).
//! Served by agents only; other servers answer 501.

use std::sync::Arc;
use std::time::Duration;

use agency::agent::{read_query, touches_reserved, Agent, AgentError};
use agency::raft::TrxResult;
use errors::{err, ArangoError, Result, ERROR_HTTP_BAD_PARAMETER, ERROR_HTTP_NOT_IMPLEMENTED, ERROR_HTTP_SERVICE_UNAVAILABLE};
use hyper::header::LOCATION;
use serde_json::{json, Value};

use crate::req::Req;
use crate::resp::Resp;
use crate::Ctx;

/// Longest `poll` wait, in seconds (ArangoDB's default).
const POLL_TIMEOUT_S_MAX: f64 = 60.0;

fn agent(ctx: &Ctx) -> Result<Arc<Agent>> {
    ctx.agent
        .clone()
        .ok_or_else(|| err!(ERROR_HTTP_NOT_IMPLEMENTED, "this server is not an agent (start it with --agency.activate true)").status(501))
}

/// 307 to the leader with the same path, or 503 without a leader, as ArangoDB answers.
fn agent_error(req: &Req, e: AgentError) -> Resp {
    match e {
        AgentError::NotLeader(Some(leader)) => {
            let query = if req.query.is_empty() {
                String::new()
            } else {
                let pairs: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("?{}", pairs.join("&"))
            };
            let mut body = ArangoError::with_message(errors::ERROR_CLUSTER_NOT_LEADER, "not the leader").status(307).body();
            body["leader"] = json!(leader);
            Resp::json(307, &body).header(LOCATION, &format!("{leader}{}{query}", req.path))
        }
        AgentError::NotLeader(None) => {
            let mut body = err!(ERROR_HTTP_SERVICE_UNAVAILABLE, "No leader").body();
            body["message"] = json!("No leader");
            Resp::json(503, &body)
        }
        AgentError::Invalid(m) => Resp::error(&err!(ERROR_HTTP_BAD_PARAMETER, "{m}")),
        AgentError::Timeout => Resp::error(&err!(errors::ERROR_HTTP_REQUEST_TIMEOUT, "the write was not committed in time; use inquire to learn whether it was applied")),
        AgentError::Fatal(m) => Resp::error(&err!(errors::ERROR_INTERNAL, "agency failure: {m}")),
    }
}

fn body_array(req: &Req) -> Result<Vec<Value>> {
    match req.json()? {
        // The `/.agency` subtree belongs to the agents themselves.
        Value::Array(a) if a.iter().any(touches_reserved) => {
            Err(err!(errors::ERROR_FORBIDDEN, "writing to /.agency is reserved to the agents"))
        }
        Value::Array(a) => Ok(a),
        _ => Err(err!(ERROR_HTTP_BAD_PARAMETER, "expecting a JSON array")),
    }
}

fn queries(items: &[Value]) -> Result<Vec<Vec<String>>> {
    items
        .iter()
        .map(|q| read_query(q).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "a read query is an array of key strings")))
        .collect()
}

fn results_resp(results: Vec<Value>, failed: bool) -> Resp {
    Resp::json(if failed { 412 } else { 200 }, &json!({"results": results}))
}

pub async fn read(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let qs = queries(&body_array(req)?)?;
    Ok(match a.read(&qs).await {
        Ok(values) => Resp::json(200, &Value::Array(values)),
        Err(e) => agent_error(req, e),
    })
}

pub async fn write(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let trxs = body_array(req)?;
    let no_wait = req.header("x-arangodb-agency-mode") == Some("noWait");
    if no_wait {
        let a2 = a.clone();
        tokio::spawn(async move {
            let _ = a2.write(trxs).await;
        });
        return Ok(Resp::empty(200));
    }
    Ok(match a.write(trxs).await {
        Ok((index, results)) => {
            let failed = results.iter().any(|r| *r != TrxResult::Applied);
            if let Some(TrxResult::Invalid(m)) = results.iter().find(|r| matches!(r, TrxResult::Invalid(_))) {
                return Err(err!(ERROR_HTTP_BAD_PARAMETER, "{m}"));
            }
            let values = results.iter().map(|r| if *r == TrxResult::Applied { json!(index) } else { json!(0) }).collect();
            results_resp(values, failed)
        }
        Err(e) => agent_error(req, e),
    })
}

/// Reads and writes in one request: each write answered with its log index, or with the
/// current values of the keys whose preconditions failed; each read with its result.
pub async fn transact(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let items = body_array(req)?;
    let mut out = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        if let Some(keys) = read_query(&item) {
            match a.read(&[keys]).await {
                Ok(mut v) => out.push(v.pop().unwrap_or(Value::Null)),
                Err(e) => return Ok(agent_error(req, e)),
            }
            continue;
        }
        match a.write(vec![item]).await {
            Ok((index, results)) => match results.into_iter().next() {
                Some(TrxResult::Applied) => out.push(json!(index)),
                Some(TrxResult::Failed(keys)) => {
                    failed = true;
                    out.push(a.read_keys(&keys));
                }
                Some(TrxResult::Invalid(m)) => return Err(err!(ERROR_HTTP_BAD_PARAMETER, "{m}")),
                None => out.push(json!(0)),
            },
            Err(e) => return Ok(agent_error(req, e)),
        }
    }
    Ok(results_resp(out, failed))
}

/// Like `transact`, on the leader's own store that is not replicated (heartbeats).
pub async fn transient(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let items = body_array(req)?;
    let mut out = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        let result = match read_query(&item) {
            Some(keys) => a.transient_read(&keys),
            None => a.transient_write(&item).map(|r| match r {
                TrxResult::Applied => json!(1),
                TrxResult::Failed(_) => {
                    failed = true;
                    json!(0)
                }
                TrxResult::Invalid(m) => json!({"error": m}),
            }),
        };
        match result {
            Ok(v) => out.push(v),
            Err(e) => return Ok(agent_error(req, e)),
        }
    }
    Ok(results_resp(out, failed))
}

/// Which of these client ids were applied, and at which log index (0: never seen).
pub async fn inquire(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let ids: Vec<String> = body_array(req)?
        .into_iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| err!(ERROR_HTTP_BAD_PARAMETER, "client ids are strings")))
        .collect::<Result<_>>()?;
    Ok(match a.inquire(&ids).await {
        Ok(indices) => {
            let status = if indices.contains(&0) { 404 } else { 200 };
            Resp::json(status, &json!({"results": indices, "inquired": true}))
        }
        Err(e) => agent_error(req, e),
    })
}

pub async fn poll(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    let index: u64 = req.query("index").map_or(Ok(0), str::parse).map_err(|_| err!(ERROR_HTTP_BAD_PARAMETER, "index must be a number"))?;
    let timeout: f64 = req.query("timeout").map_or(Ok(POLL_TIMEOUT_S_MAX), str::parse).map_err(|_| err!(ERROR_HTTP_BAD_PARAMETER, "timeout must be a number"))?;
    let timeout = Duration::from_secs_f64(timeout.clamp(0.0, POLL_TIMEOUT_S_MAX));
    Ok(match a.poll(index, timeout).await {
        Ok(result) => Resp::result(200, result),
        Err(e) => agent_error(req, e),
    })
}

pub fn config(ctx: &Ctx, _req: &mut Req) -> Result<Resp> {
    Ok(Resp::json(200, &agent(ctx)?.config_json()))
}

pub fn state(ctx: &Ctx, req: &mut Req) -> Result<Resp> {
    let a = agent(ctx)?;
    if req.flag_or("redirectToLeader", false) && !a.is_leader() {
        return Ok(agent_error(req, AgentError::NotLeader(a.leader_endpoint())));
    }
    Ok(Resp::json(200, &a.state_json()))
}

/// Raft RPCs from other agents: the body is openraft's request, the answer its result.
fn rpc_answer<A: serde::Serialize>(out: A) -> Result<Resp> {
    Ok(Resp::raw_json(200, serde_json::to_vec(&out).map_err(|e| err!(errors::ERROR_INTERNAL, "{e}"))?))
}

fn decode<Q: serde::de::DeserializeOwned>(req: &Req) -> Result<Q> {
    serde_json::from_slice(&req.body).map_err(|e| err!(ERROR_HTTP_BAD_PARAMETER, "bad Raft message: {e}"))
}

pub async fn priv_append(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    rpc_answer(a.raft.append_entries(decode(req)?).await)
}

pub async fn priv_vote(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    rpc_answer(a.raft.vote(decode(req)?).await)
}

pub async fn priv_snapshot(ctx: Arc<Ctx>, req: Req) -> Result<Resp> {
    let (ctx, req) = (&*ctx, &req);
    let a = agent(ctx)?;
    rpc_answer(a.raft.install_snapshot(decode(req)?).await)
}
