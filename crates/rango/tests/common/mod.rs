//! Test harness: starts the real `rango` binary on a free loopback port in a temp dir and
//! talks to it over HTTP as a client would.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a server may take to start answering.
const START_TIMEOUT_MS: u64 = 30_000;

pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub password: String,
    extra_args: Vec<String>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// `(status, errorNum)`, for asserting errors.
    pub fn error(&self) -> (u16, i64) {
        (self.status, self.body["errorNum"].as_i64().unwrap_or(0))
    }
}

/// Decodes an ArangoDB `_rev` (its alphabet does not sort as ASCII does).
pub fn rev_value(rev: &str) -> u64 {
    const ALPHABET: &[u8] = b"-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    rev.bytes().fold(0, |v, b| v * 64 + ALPHABET.iter().position(|&c| c == b).expect("rev character") as u64)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Server {
        Server::start_on(free_port(), args)
    }

    /// Starts on a given port (for clusters, whose members must know each other's ports).
    pub fn start_on(port: u16, args: &[&str]) -> Server {
        let mut s = Server {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            password: "test-pw".into(),
            extra_args: args.iter().map(|a| a.to_string()).collect(),
        };
        s.launch();
        s
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn launch(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_rango"))
            .arg("server")
            .arg("--server.endpoint")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--database.directory")
            .arg(self.data_dir())
            .arg("--log.file")
            .arg(self.dir.path().join("rango.log"))
            .args(&self.extra_args)
            .env("ARANGO_ROOT_PASSWORD", &self.password)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start rango");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_millis(START_TIMEOUT_MS);
        loop {
            if ureq::get(&self.url("/_admin/server/availability")).call().is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("rango exited during startup with {status}; log: {}", self.log());
            }
            assert!(Instant::now() < deadline, "rango did not start within {START_TIMEOUT_MS} ms");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal (such as STOP or CONT) to the server process.
    pub fn signal(&self, sig: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rango.log")).unwrap_or_default()
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_free_sigterm(c.id());
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    pub fn start_again(&mut self) {
        assert!(self.child.is_none());
        self.launch();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn auth(&self) -> String {
        basic_header("root", &self.password)
    }

    /// Sends a request with root's credentials and a JSON (or empty) body.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        self.call_raw(method, path, &bytes, &[("Authorization", &self.auth())])
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }
    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(&body))
    }
    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(&body))
    }
    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(&body))
    }
    pub fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None)
    }

    /// Sends exactly these bytes and headers.
    pub fn call_raw(&self, method: &str, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        let mut req = ureq::request(method, &self.url(path)).timeout(Duration::from_secs(60));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let resp = match req.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        let status = resp.status();
        let headers = resp.headers_names().iter().map(|n| (n.clone(), resp.header(n).unwrap_or("").to_string())).collect();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut raw).unwrap();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, body, raw }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn unsafe_free_sigterm(pid: u32) {
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}

/// An HTTP Basic `Authorization` header.
pub fn basic_header(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}
