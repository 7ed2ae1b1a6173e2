//! Three agents on loopback: they elect a leader, replicate writes, survive the leader's
//! SIGKILL, a restart from disk, and a follower paused with SIGSTOP past the election
//! timeout; no acknowledged write is lost and none is applied twice.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{free_port, Server};
use serde_json::{json, Value};

/// How long a test waits for the Agency to have a leader again.
const LEADER_WAIT_MS: u64 = 20_000;

struct Agency {
    agents: Vec<Server>,
    /// An agent stopped with SIGSTOP: it holds connections without answering, so the test
    /// client leaves it alone.
    paused: Option<usize>,
    _secret_dir: tempfile::TempDir,
}

impl Agency {
    fn start() -> Agency {
        Agency::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Agency {
        let secret_dir = tempfile::tempdir().unwrap();
        let secret = secret_dir.path().join("secret");
        std::fs::write(&secret, "agency test secret").unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let agents = ports
            .iter()
            .map(|&p| {
                let mut args = vec![
                    "--agency.activate".to_string(), "true".into(), "--agency.size".into(), "3".into(),
                    "--agency.my-address".into(), format!("tcp://127.0.0.1:{p}"),
                    "--server.jwt-secret-keyfile".into(), secret.to_str().unwrap().to_string(),
                ];
                args.extend(extra.iter().map(|a| a.to_string()));
                for q in ports.iter().filter(|q| **q != p) {
                    args.push("--agency.endpoint".into());
                    args.push(format!("tcp://127.0.0.1:{q}"));
                }
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                Server::start_on(p, &refs)
            })
            .collect();
        Agency { agents, paused: None, _secret_dir: secret_dir }
    }

    /// The index of the agent all running agents call leader, once they agree.
    fn reachable(&self) -> impl Iterator<Item = (usize, &Server)> {
        self.agents.iter().enumerate().filter(|(i, a)| a.pid().is_some() && self.paused != Some(*i))
    }

    fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_millis(LEADER_WAIT_MS);
        loop {
            let leaders: Vec<Option<String>> =
                self.reachable().map(|(_, a)| a.get("/_api/agency/config").body["leaderId"].as_str().map(str::to_string)).collect();
            if let Some(Some(l)) = leaders.first() {
                if leaders.iter().all(|x| x.as_deref() == Some(l.as_str())) {
                    let found = self.reachable().find(|(_, a)| a.get("/_api/agency/config").body["configuration"]["id"] == l.as_str()).map(|(i, _)| i);
                    if let Some(i) = found {
                        return i;
                    }
                }
            }
            assert!(Instant::now() < deadline, "no agreed leader within {LEADER_WAIT_MS} ms: {leaders:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a write to any running agent, following redirects; `None` if no agent took it.
    fn write(&self, trx: Value) -> Option<Value> {
        for (_, a) in self.reachable() {
            let r = a.post("/_api/agency/write", json!([trx]));
            if r.status == 200 || r.status == 412 {
                return Some(r.body);
            }
        }
        None
    }

    fn read(&self, key: &str) -> Value {
        let i = self.leader();
        self.agents[i].post("/_api/agency/read", json!([[key]])).body[0].clone()
    }
}

#[test]
fn agency_replicates_and_survives_faults() {
    let mut agency = Agency::start();
    let first = agency.leader();
    // Writes, preconditions and reads through the leader.
    let r = agency.write(json!([{"/arango/Plan/Version": 1}])).expect("a write");
    assert!(r["results"][0].as_u64().unwrap() > 0);
    let r = agency.write(json!([{"/arango/Plan/Version": 2}, {"/arango/Plan/Version": 99}])).unwrap();
    assert_eq!(r["results"][0], 0, "failed precondition");
    assert_eq!(agency.read("/arango/Plan/Version"), json!({"arango": {"Plan": {"Version": 1}}}));
    // A follower redirects to the leader.
    let follower = (first + 1) % 3;
    let r = agency.agents[follower].post("/_api/agency/write", json!([[{"/x": 1}]]));
    assert_eq!(r.status, 307);
    assert!(r.header("location").unwrap().contains(&agency.agents[first].port.to_string()));

    let mut acked: Vec<u64> = Vec::new();
    let push = |agency: &Agency, i: u64, acked: &mut Vec<u64>| {
        if let Some(r) = agency.write(json!([{"/list": {"op": "push", "new": i}}, {}, format!("client-{i}")])) {
            if r["results"][0].as_u64().unwrap_or(0) > 0 {
                acked.push(i);
            }
        }
    };
    for i in 0..20 {
        push(&agency, i, &mut acked);
    }
    // Kill the leader: a new one takes over and writes go on.
    agency.agents[first].kill9();
    let t0 = Instant::now();
    let second = agency.leader();
    assert_ne!(second, first);
    let mut i = 20;
    while agency.write(json!([{"/probe": i}])).is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "no write accepted after the leader died");
        std::thread::sleep(Duration::from_millis(20));
        i += 1;
    }
    eprintln!("write outage after leader SIGKILL: {} ms", t0.elapsed().as_millis());
    for i in 100..120 {
        push(&agency, i, &mut acked);
    }
    // The killed agent restarts from its own disk and catches up.
    agency.agents[first].start_again();
    for i in 200..210 {
        push(&agency, i, &mut acked);
    }
    // Pause a follower past the election timeout; the other two go on; resume it.
    let leader = agency.leader();
    let paused = (0..3).find(|&j| j != leader).unwrap();
    agency.agents[paused].signal("STOP");
    agency.paused = Some(paused);
    for i in 300..310 {
        push(&agency, i, &mut acked);
    }
    std::thread::sleep(Duration::from_millis(1500));
    agency.agents[paused].signal("CONT");
    agency.paused = None;
    for i in 400..410 {
        push(&agency, i, &mut acked);
    }
    let leader = agency.leader();
    let list: Vec<u64> = agency.read("/list")["list"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    for a in &acked {
        assert!(list.contains(a), "acknowledged push {a} is missing from {list:?}");
    }
    let mut dedup = list.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), list.len(), "no push applied twice: {list:?}");
    // Every agent, the restarted one included, converges on the same tree.
    let want = agency.agents[leader].get("/_api/agency/state").body["readDB"].clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    for (j, a) in agency.agents.iter().enumerate() {
        loop {
            if a.get("/_api/agency/state").body["readDB"] == want {
                break;
            }
            assert!(Instant::now() < deadline, "agent {j} did not catch up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Client ids are remembered for inquire.
    let r = agency.agents[leader].post("/_api/agency/inquire", json!(["client-0", "never-sent"]));
    assert_eq!(r.status, 404, "an unknown id: the client may resend");
    assert!(r.body["results"][0].as_u64().unwrap() > 0);
}

/// One client's view of a request to the Agency: the answer, or `None` if it never came.
fn agency_call(agents: &[(u16, bool)], auth: &str, path: &str, body: &Value) -> Option<(u16, Value)> {
    // Try each reachable agent, following a redirect to the leader once.
    for &(port, reachable) in agents {
        if !reachable {
            continue;
        }
        let mut url = format!("http://127.0.0.1:{port}{path}");
        for _ in 0..2 {
            let r = ureq::post(&url).set("Authorization", auth).timeout(Duration::from_secs(3)).send_json(body);
            let resp = match r {
                Ok(r) => r,
                Err(ureq::Error::Status(_, r)) => r,
                Err(_) => return None,
            };
            let status = resp.status();
            if status == 307 {
                url = resp.header("location").unwrap_or_default().to_string();
                continue;
            }
            if status == 503 {
                break;
            }
            return Some((status, resp.into_json().unwrap_or(Value::Null)));
        }
    }
    None
}

#[test]
fn concurrent_register_history_is_linearizable_across_leader_loss() {
    use agency::linearizability::{check, Event, Op};
    use std::sync::{Arc, Mutex};
    let mut agency = Agency::start();
    agency.leader();
    let auth = agency.agents[0].auth();
    let ports: Arc<Mutex<Vec<(u16, bool)>>> = Arc::new(Mutex::new(agency.agents.iter().map(|a| (a.port, true)).collect()));
    let history: Arc<Mutex<Vec<Event>>> = Arc::default();
    let t0 = Instant::now();
    let now = move || t0.elapsed().as_micros() as u64;
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let (ports, history, auth) = (ports.clone(), history.clone(), auth.clone());
            std::thread::spawn(move || {
                let mut seed = c * 7919 + 1;
                let mut next = || {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    seed >> 33
                };
                // Bounded: at most 60 operations or 6 seconds per client.
                for n in 0..60u64 {
                    if t0.elapsed() > Duration::from_secs(6) {
                        break;
                    }
                    let agents = ports.lock().unwrap().clone();
                    let value = c * 1000 + n;
                    let call = now();
                    let (op, outcome) = match next() % 3 {
                        0 => {
                            let r = agency_call(&agents, &auth, "/_api/agency/read", &json!([["/reg"]]));
                            let v = r.as_ref().map(|(_, b)| b[0]["reg"].as_u64());
                            (Op::Read(v.flatten()), r.filter(|(s, _)| *s == 200).map(|_| ()))
                        }
                        1 => {
                            let r = agency_call(&agents, &auth, "/_api/agency/write", &json!([[{"/reg": value}]]));
                            (Op::Write(value), r.filter(|(s, _)| *s == 200).map(|_| ()))
                        }
                        _ => {
                            let old = next() % 4 * 1000 + next() % 5;
                            let r = agency_call(&agents, &auth, "/_api/agency/write", &json!([[{"/reg": value}, {"/reg": old}]]));
                            let ok = r.as_ref().map(|(s, _)| *s == 200);
                            let known = r.as_ref().is_some_and(|(s, _)| *s == 200 || *s == 412);
                            (Op::Cas { old: Some(old), new: value, ok: ok.unwrap_or(false) }, known.then_some(()))
                        }
                    };
                    let ret = outcome.map(|_| now());
                    // A CAS with an unknown outcome may have succeeded.
                    let op = match (op, ret) {
                        (Op::Cas { old, new, .. }, None) => Op::Cas { old, new, ok: true },
                        (op, _) => op,
                    };
                    history.lock().unwrap().push(Event { call, ret, op });
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let leader = agency.leader();
    ports.lock().unwrap()[leader].1 = false;
    agency.agents[leader].kill9();
    std::thread::sleep(Duration::from_millis(2000));
    agency.agents[leader].start_again();
    ports.lock().unwrap()[leader].1 = true;
    for c in clients {
        c.join().unwrap();
    }
    let history = history.lock().unwrap().clone();
    let answered = history.iter().filter(|e| e.ret.is_some()).count();
    assert!(answered > 20, "too few operations were answered: {answered} of {}", history.len());
    assert_eq!(check(&history), Ok(true), "history is not linearizable: {history:#?}");
}

#[test]
fn a_wiped_agent_catches_up_by_snapshot() {
    let mut agency = Agency::start_with(&["--agency.compaction-step-size", "20", "--agency.compaction-keep-size", "5"]);
    let leader = agency.leader();
    let follower = (leader + 1) % 3;
    for i in 0..120 {
        agency.write(json!([{"/counter": {"op": "increment"}, format!("/keys/k{i}"): i}])).expect("write");
    }
    // Clients may not write the agents' own subtree.
    let r = agency.agents[leader].post("/_api/agency/write", json!([[{"/.agency/x": 1}]]));
    assert_eq!(r.error(), (403, 11));
    // Lose a follower's disk entirely; it comes back empty and must get a snapshot.
    agency.agents[follower].kill9();
    std::fs::remove_dir_all(agency.agents[follower].data_dir()).unwrap();
    for i in 120..150 {
        agency.write(json!([{"/counter": {"op": "increment"}, format!("/keys/k{i}"): i}])).expect("write");
    }
    agency.agents[follower].start_again();
    let want = agency.read("/counter");
    assert_eq!(want, json!({"counter": 150}));
    let leader_state = agency.agents[agency.leader()].get("/_api/agency/state").body["readDB"].clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    while agency.agents[follower].get("/_api/agency/state").body["readDB"] != leader_state {
        assert!(Instant::now() < deadline, "the wiped agent did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}
