//! Walks every route in the server's route table (not a hand-written list) and checks that
//! callers without credentials get 401 and callers without access get 401 or 403, except on
//! the routes ArangoDB leaves open.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

use std::sync::mpsc;
use std::time::Duration;

use hyper::Method;
use server::routes::{Need, Router};

struct Running {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = server::Config {
        endpoint: "tcp://127.0.0.1:0".into(),
        database_directory: dir.path().join("data"),
        authentication: true,
        jwt_secret: server::auth::SecretSource::Generated,
        root_password: "rootpw".into(),
        maximal_body_size_bytes: 1 << 20,
        extended_names: true,
        agency: None,
    };
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(server::start(config, async { let _ = stop_rx.await; }, move |addr| tx.send(addr).unwrap())).unwrap();
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).expect("server started");
    Running { addr, stop: Some(stop_tx), thread: Some(thread), _dir: dir }
}

fn call(addr: std::net::SocketAddr, method: &Method, path: &str, auth: Option<&str>, body: &str) -> u16 {
    let mut req = ureq::request(method.as_str(), &format!("http://{addr}{path}")).timeout(Duration::from_secs(30));
    if let Some(a) = auth {
        req = req.set("Authorization", a);
    }
    match req.send_string(body) {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[test]
fn every_route_refuses_callers_without_credentials_or_access() {
    let s = start();
    let root = basic("root", "rootpw");
    // Something for the parameters to name, and a user with no access at all.
    assert_eq!(call(s.addr, &Method::POST, "/_api/database", Some(&root), r#"{"name":"d"}"#), 201);
    assert_eq!(call(s.addr, &Method::POST, "/_db/d/_api/collection", Some(&root), r#"{"name":"c"}"#), 200);
    assert_eq!(call(s.addr, &Method::POST, "/_api/user", Some(&root), r#"{"user":"nobody","passwd":"pw"}"#), 201);
    assert_eq!(call(s.addr, &Method::POST, "/_api/user", Some(&root), r#"{"user":"victim","passwd":"pw"}"#), 201);
    let nobody = basic("nobody", "pw");

    let router = Router::new();
    assert!(router.routes().len() > 40);
    for route in router.routes() {
        let path: String = route
            .pattern
            .split('/')
            .map(|seg| match seg {
                ":name" | ":collection" | ":col" => "c",
                ":key" | ":id" => "1",
                ":user" => "victim",
                ":db" => "d",
                other => other,
            })
            .collect::<Vec<_>>()
            .join("/");
        let path = format!("/_db/d{path}?collection=c");
        let body = "{}";
        let anonymous = call(s.addr, &route.method, &path, None, body);
        let no_access = call(s.addr, &route.method, &path, Some(&nobody), body);
        let bad_password = call(s.addr, &route.method, &path, Some(&basic("root", "wrong")), body);
        if route.need == Need::Open {
            assert_ne!(anonymous, 401, "{} {} is open", route.method, route.pattern);
            continue;
        }
        assert_eq!(anonymous, 401, "{} {} without credentials", route.method, route.pattern);
        assert_eq!(bad_password, 401, "{} {} with a wrong password", route.method, route.pattern);
        if route.need == Need::SelfOrAdmin(usize::MAX) {
            // Listing users shows a user only themselves (checked below).
            assert_eq!(no_access, 200, "{} {}", route.method, route.pattern);
            continue;
        }
        assert!(matches!(no_access, 401 | 403), "{} {} with no access answered {no_access}", route.method, route.pattern);
    }
    let listed = ureq::get(&format!("http://{}/_api/user", s.addr)).set("Authorization", &nobody).call().unwrap();
    let listed: serde_json::Value = listed.into_json().unwrap();
    assert_eq!(listed["result"], serde_json::json!([{"user": "nobody", "active": true, "extra": {}}]));
    // Root still reaches everything it asked for, and the data is intact.
    assert_eq!(call(s.addr, &Method::GET, "/_db/d/_api/collection/c", Some(&root), ""), 200);
}
