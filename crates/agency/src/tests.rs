//! The store as a state machine: feed it transactions, assert the exact tree.

use serde_json::{json, Value};

use crate::{Outcome, Store};

fn store_with(trxs: &[Value]) -> Store {
    let mut s = Store::new();
    for (i, t) in trxs.iter().enumerate() {
        assert_eq!(s.apply(t, 1_000, i as u64 + 1).unwrap(), Outcome::Applied, "{t}");
    }
    s
}

fn read(s: &Store, keys: &[&str]) -> Value {
    s.read(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(), 1_000)
}

#[test]
fn set_and_read_cross_sections() {
    let s = store_with(&[json!([{"/arango/Plan/Version": 1, "arango//Current/x/": {"a": [1, 2]}}])]);
    assert_eq!(read(&s, &["/"]), json!({"arango": {"Plan": {"Version": 1}, "Current": {"x": {"a": [1, 2]}}}}));
    assert_eq!(read(&s, &["/arango/Plan/Version"]), json!({"arango": {"Plan": {"Version": 1}}}));
    assert_eq!(read(&s, &["/arango/Plan/Version", "/arango/Current/x/a"]), json!({"arango": {"Plan": {"Version": 1}, "Current": {"x": {"a": [1, 2]}}}}));
    // A missing key gives the existing prefix with {} where it stops.
    assert_eq!(read(&s, &["/arango/Plan/Nope/deeper"]), json!({"arango": {"Plan": {}}}));
    assert_eq!(read(&s, &["/nothing"]), json!({}));
}

#[test]
fn setting_a_subtree_replaces_it_and_creates_parents() {
    let mut s = store_with(&[json!([{"/a/b": {"c": 1, "d": 2}}])]);
    s.apply(&json!([{"/a/b": {"c": 3}}]), 1_000, 2).unwrap();
    assert_eq!(read(&s, &["/a"]), json!({"a": {"b": {"c": 3}}}));
    s.apply(&json!([{"/a/b/c/e": 4}]), 1_000, 3).unwrap();
    assert_eq!(read(&s, &["/a"]), json!({"a": {"b": {"c": {"e": 4}}}}), "a scalar on the way becomes an object");
}

#[test]
fn every_operation() {
    let mut s = store_with(&[json!([{"/n": 5, "/l": [1, 2, 3, 2], "/o": {"x": 1}}])]);
    let ops = json!([{
        "/n": {"op": "increment", "step": 10},
        "/m": {"op": "decrement"},
        "/l": {"op": "erase", "val": 2},
        "/p": {"op": "push", "new": "a"},
        "/q": {"op": "prepend", "new": "z"},
        "/o": {"op": "delete"},
        "/gone": {"op": "delete"},
    }]);
    assert_eq!(s.apply(&ops, 1_000, 2).unwrap(), Outcome::Applied);
    assert_eq!(read(&s, &["/"]), json!({"n": 15, "l": [1, 3], "m": -1, "p": ["a"], "q": ["z"]}));
    let ops = json!([{"/l": {"op": "replace", "val": 3, "new": 4}, "/p": {"op": "pop"}, "/q": {"op": "shift"}, "/r": {"op": "pop"}}]);
    s.apply(&ops, 1_000, 3).unwrap();
    assert_eq!(read(&s, &["/"]), json!({"n": 15, "l": [1, 4], "m": -1, "p": [], "q": [], "r": []}));
    s.apply(&json!([{"/l": {"op": "erase", "pos": 0}, "/s": {"op": "set", "new": {"deep": true}}}]), 1_000, 4).unwrap();
    assert_eq!(read(&s, &["/l", "/s"]), json!({"l": [4], "s": {"deep": true}}));
    assert!(s.apply(&json!([{"/l": {"op": "erase", "pos": 9}}]), 1_000, 5).is_err(), "position out of range");
    assert!(s.apply(&json!([{"/x": {"op": "frobnicate"}}]), 1_000, 5).is_err());
    assert!(s.apply(&json!([{"/x": {"op": "set"}}]), 1_000, 5).is_err(), "set needs new");
    assert_eq!(read(&s, &["/l"]), json!({"l": [4]}), "failed transactions change nothing");
}

#[test]
fn operations_apply_in_sorted_key_order() {
    // "/a" sorts before "/a/b": the subtree set first, then the deeper increment.
    let s = store_with(&[json!([{"/a/b": {"op": "increment"}, "/a": {"b": 10, "c": 1}}])]);
    assert_eq!(read(&s, &["/a"]), json!({"a": {"b": 11, "c": 1}}));
}

#[test]
fn preconditions() {
    let mut s = store_with(&[json!([{"/v": 1, "/arr": ["x", "y"], "/o": {"k": 1.0}}])]);
    let cases = [
        (json!({"/v": 1}), true),
        (json!({"/v": 2}), false),
        (json!({"/v": {"old": 1.0}}), true),
        (json!({"/o": {"old": {"k": 1}}}), true),
        (json!({"/v": {"oldNot": 1}}), false),
        (json!({"/absent": {"oldNot": 1}}), true),
        (json!({"/absent": {"oldEmpty": true}}), true),
        (json!({"/v": {"oldEmpty": true}}), false),
        (json!({"/v": {"oldEmpty": false}}), true),
        (json!({"/arr": {"isArray": true}}), true),
        (json!({"/v": {"isArray": true}}), false),
        (json!({"/arr": {"in": "x"}}), true),
        (json!({"/arr": {"in": "z"}}), false),
        (json!({"/arr": {"notin": "z"}}), true),
        (json!({"/arr": {"intersectionEmpty": ["z", "w"]}}), true),
        (json!({"/arr": {"intersectionEmpty": ["y"]}}), false),
        (json!({"/absent": {"intersectionEmpty": ["y"]}}), true),
        (json!({"/v": {"unknownOperator": 1}}), false),
        (json!({"/v": {}}), false),
        (json!({"/v": 1, "/arr": {"in": "nope"}}), false),
    ];
    for (pre, holds) in cases {
        let outcome = s.apply(&json!([{"/touched": {"op": "increment"}}, pre]), 1_000, 9).unwrap();
        assert_eq!(outcome == Outcome::Applied, holds, "{pre}");
    }
    let outcome = s.apply(&json!([{"/w": 1}, {"/v": 2, "/arr": {"in": "x"}, "/o": {"oldEmpty": true}}]), 1_000, 10).unwrap();
    assert_eq!(outcome, Outcome::Failed(vec!["/o".to_string(), "/v".to_string()]), "all failing keys, sorted");
}

#[test]
fn locks() {
    let mut s = Store::new();
    let apply = |s: &mut Store, t: Value| s.apply(&t, 1_000, 1).unwrap();
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "read-lock", "by": "a"}}])), Outcome::Applied);
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "read-lock", "by": "b"}}])), Outcome::Applied);
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "read-lock", "by": "a"}}])), Outcome::Failed(vec!["/l".into()]));
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "write-lock", "by": "c"}}])), Outcome::Failed(vec!["/l".into()]));
    assert_eq!(apply(&mut s, json!([{}, {"/l": {"is-read-locked": "b"}}])), Outcome::Applied);
    assert_eq!(apply(&mut s, json!([{}, {"/l": {"can-write-lock": "c"}}])), Outcome::Failed(vec!["/l".into()]));
    apply(&mut s, json!([{"/l": {"op": "read-unlock", "by": "a"}}]));
    apply(&mut s, json!([{"/l": {"op": "read-unlock", "by": "b"}}]));
    assert_eq!(read(&s, &["/l"]), json!({}), "the last reader removes the lock");
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "write-lock", "by": "c"}, "/other": 1}])), Outcome::Applied);
    assert_eq!(apply(&mut s, json!([{}, {"/l": {"is-write-locked": "c"}}])), Outcome::Applied);
    // A refused lock rolls back the whole transaction.
    assert_eq!(apply(&mut s, json!([{"/a-first": 1, "/l": {"op": "write-unlock", "by": "x"}}])), Outcome::Failed(vec!["/l".into()]));
    assert_eq!(read(&s, &["/a-first"]), json!({}));
    assert_eq!(apply(&mut s, json!([{"/l": {"op": "write-unlock", "by": "c"}}])), Outcome::Applied);
    assert_eq!(read(&s, &["/l"]), json!({}));
}

#[test]
fn ttl_expiry_is_a_replicated_delete() {
    let mut s = Store::new();
    s.apply(&json!([{"/tmp": {"op": "set", "new": {"x": 1}, "ttl": 2}, "/keep": 1}]), 10_000, 1).unwrap();
    assert_eq!(s.read(&["/tmp/x".to_string()], 11_000), json!({"tmp": {"x": 1}}));
    // Invisible once expired, before the delete is replicated.
    assert_eq!(s.read(&["/".to_string()], 12_000), json!({"keep": 1}));
    let expire = s.expiry_transaction(12_000).expect("an expiry transaction");
    assert_eq!(expire, json!([{"/tmp": {"op": "delete"}}]));
    assert!(s.expiry_transaction(11_999).is_none());
    s.apply(&expire, 12_000, 2).unwrap();
    assert_eq!(s.read(&["/".to_string()], 0), json!({"keep": 1}));
    assert!(s.expiry_transaction(99_000).is_none());
    // Setting again without ttl keeps the key forever.
    s.apply(&json!([{"/t2": {"op": "set", "new": 1, "ttl": 1}}]), 10_000, 3).unwrap();
    s.apply(&json!([{"/t2": 2}]), 10_000, 4).unwrap();
    assert_eq!(s.read(&["/t2".to_string()], 99_000), json!({"t2": 2}));
    // An expired key fails oldEmpty:false and passes oldEmpty:true.
    s.apply(&json!([{"/t3": {"op": "set", "new": 1, "ttl": 1}}]), 10_000, 5).unwrap();
    assert_eq!(s.apply(&json!([{"/t3": 5}, {"/t3": {"oldEmpty": true}}]), 20_000, 6).unwrap(), Outcome::Applied);
}

#[test]
fn hidden_keys_client_ids_and_observers() {
    let mut s = store_with(&[json!([{"/.agency/pool": {"a": "tcp://x"}, "/arango": 1}])]);
    assert_eq!(read(&s, &["/"]), json!({"arango": 1}));
    assert_eq!(read(&s, &["/.agency"]), json!({".agency": {"pool": {"a": "tcp://x"}}}));
    s.apply(&json!([{"/c": 1}, {}, "client-7"]), 1_000, 42).unwrap();
    assert_eq!(s.client_index("client-7"), Some(42));
    assert_eq!(s.client_index("client-8"), None);
    s.apply(&json!([{"/arango/Plan": {"op": "observe", "url": "http://cb"}}]), 1_000, 43).unwrap();
    assert_eq!(s.observers()["/arango/Plan"].len(), 1);
    s.apply(&json!([{"/arango/Plan": {"op": "unobserve", "url": "http://cb"}}]), 1_000, 44).unwrap();
    assert!(s.observers().is_empty());
}

#[test]
fn malformed_transactions_are_errors() {
    let mut s = Store::new();
    for bad in [json!({}), json!([]), json!([1]), json!([{}, 1]), json!([{}, {}, 5]), json!([{}, {}, "id", 4])] {
        assert!(s.apply(&bad, 0, 1).is_err(), "{bad}");
    }
}

#[test]
fn the_same_log_gives_the_same_store() {
    let log = [
        json!([{"/a": {"op": "push", "new": 1}}]),
        json!([{"/b": {"op": "set", "new": 2, "ttl": 5}}, {"/a": {"isArray": true}}, "c1"]),
        json!([{"/a": {"op": "prepend", "new": 0}, "/l": {"op": "write-lock", "by": "j"}}]),
    ];
    let (mut x, mut y) = (Store::new(), Store::new());
    for (i, t) in log.iter().enumerate() {
        x.apply(t, 5_000, i as u64).unwrap();
        y.apply(t, 5_000, i as u64).unwrap();
    }
    assert_eq!(x, y);
    let snapshot = serde_json::to_string(&x).unwrap();
    assert_eq!(serde_json::from_str::<Store>(&snapshot).unwrap(), x);
}
