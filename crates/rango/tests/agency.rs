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
