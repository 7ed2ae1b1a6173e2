//! Queries against a real store in a temp dir.

use serde_json::{json, Map, Value};

use crate::{run, Options};

fn setup() -> (tempfile::TempDir, docstore::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = docstore::Store::open(dir.path(), true).unwrap();
    let db = store.database("_system").unwrap();
    let col = store.create_collection(&db, &json!({"name": "c"})).unwrap();
    let docs: Vec<_> = (0..100)
        .map(|i| docstore::WriteItem { body: json!({"_key": format!("k{i:03}"), "value": i, "group": i % 3}), key: None, if_match: None })
        .collect();
    store.write_documents(&col, docstore::WriteKind::Insert(docstore::OverwriteMode::Conflict), docs, &Default::default()).unwrap();
    (dir, store)
}

fn q(store: &docstore::Store, text: &str, binds: Value) -> Vec<Value> {
    let db = store.database("_system").unwrap();
    let binds: Map<String, Value> = binds.as_object().cloned().unwrap_or_default();
    run(store, &db, text, &binds, &Options::default()).unwrap_or_else(|e| panic!("{text}: {e}")).results
}

#[test]
fn the_seed_query_and_friends() {
    let (_d, s) = setup();
    let r = q(&s, "FOR doc IN c FILTER doc.value % 2 == 0 SORT doc.value DESC LIMIT 3 RETURN doc.value", json!({}));
    assert_eq!(r, [json!(98), json!(96), json!(94)]);
    let r = q(&s, "FOR d IN @@col FILTER d.value < @n RETURN d._key", json!({"@col": "c", "n": 3}));
    assert_eq!(r, [json!("k000"), json!("k001"), json!("k002")]);
    let r = q(&s, "FOR d IN c COLLECT g = d.group WITH COUNT INTO n RETURN {g, n}", json!({}));
    assert_eq!(r, [json!({"g": 0, "n": 34}), json!({"g": 1, "n": 33}), json!({"g": 2, "n": 33})]);
    let r = q(&s, "FOR d IN c COLLECT AGGREGATE total = SUM(d.value), top = MAX(d.value) RETURN [total, top]", json!({}));
    assert_eq!(r, [json!([4950, 99])]);
    let r = q(&s, "FOR i IN 1..4 LET sq = i * i FILTER sq > 3 RETURN DISTINCT sq % 2", json!({}));
    assert_eq!(r, [json!(0), json!(1)]);
    let r = q(&s, "LET top = (FOR d IN c SORT d.value DESC LIMIT 2 RETURN d.value) RETURN top", json!({}));
    assert_eq!(r, [json!([99, 98])]);
    let r = q(&s, "FOR d IN c LIMIT 0, null FILTER d.value == 42 RETURN d._id", json!({}));
    assert_eq!(r, [json!("c/k042")]);
}

#[test]
fn limit_stops_reading_and_full_count_counts() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let out = run(&s, &db, "FOR d IN c LIMIT 5 RETURN d", &Map::new(), &Options::default()).unwrap();
    assert_eq!(out.results.len(), 5);
    assert!(out.stats.scanned_full <= 5, "scanned {}", out.stats.scanned_full);
    let opts = Options { full_count: true, ..Options::default() };
    let out = run(&s, &db, "FOR d IN c FILTER d.group == 1 LIMIT 2, 5 RETURN d.value", &Map::new(), &opts).unwrap();
    assert_eq!(out.results, [json!(7), json!(10), json!(13), json!(16), json!(19)]);
    assert_eq!(out.stats.full_count, Some(33));
    assert_eq!(out.stats.filtered, 67);
}

#[test]
fn modifications_are_atomic() {
    let (_d, s) = setup();
    let r = q(&s, "FOR i IN 1..3 INSERT {_key: CONCAT('n', i), i} INTO c RETURN NEW._key", json!({}));
    assert_eq!(r, [json!("n1"), json!("n2"), json!("n3")]);
    let r = q(&s, "FOR d IN c FILTER d.i != null UPDATE d WITH {doubled: d.i * 2} IN c RETURN [OLD.doubled, NEW.doubled]", json!({}));
    assert_eq!(r, [json!([null, 2]), json!([null, 4]), json!([null, 6])]);
    // A duplicate key fails the whole INSERT: nothing of it is written.
    let db = s.database("_system").unwrap();
    let e = run(&s, &db, "FOR k IN ['x1', 'n1', 'x2'] INSERT {_key: k} INTO c", &Map::new(), &Options::default()).unwrap_err();
    assert_eq!(e.code.0, 1210);
    assert_eq!(q(&s, "FOR d IN c FILTER d._key IN ['x1', 'x2'] RETURN 1", json!({})), Vec::<Value>::new());
    let r = q(&s, "FOR k IN ['x1', 'n1'] INSERT {_key: k} INTO c OPTIONS {ignoreErrors: true} RETURN NEW._key", json!({}));
    assert_eq!(r, [json!("x1")]);
    q(&s, "FOR d IN c FILTER d.i != null REMOVE d IN c", json!({}));
    assert_eq!(q(&s, "FOR d IN c FILTER d.i != null RETURN 1", json!({})).len(), 0);
    assert_eq!(s.count(&db.collection("c").unwrap()).unwrap(), 101);
}

#[test]
fn errors_have_arangodb_numbers() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let code = |text: &str, binds: Value| {
        let b: Map<String, Value> = binds.as_object().cloned().unwrap_or_default();
        run(&s, &db, text, &b, &Options::default()).err().map(|e| e.code.0)
    };
    assert_eq!(code("FOR d IN nope RETURN d", json!({})), Some(1203));
    assert_eq!(code("RETURN @x", json!({})), Some(1551));
    assert_eq!(code("RETURN 1", json!({"x": 1})), Some(1552));
    assert_eq!(code("RETURN 1 +", json!({})), Some(1501));
    assert_eq!(code("FOR x IN 5 RETURN x", json!({})), Some(1563));
}

#[test]
fn collections_used_for_access_checks() {
    let binds: Map<String, Value> = json!({"@w": "target"}).as_object().cloned().unwrap();
    let q = crate::parse("FOR a IN x LET s = (FOR b IN y RETURN b) FOR i IN [1] INSERT {a, s} INTO @@w RETURN NEW").unwrap();
    let (r, w) = crate::collections_used(&q, &binds);
    assert_eq!((r, w), (vec!["x".to_string(), "y".to_string()], vec!["target".to_string()]));
}

#[test]
fn upsert_inserts_then_updates() {
    let (_d, s) = setup();
    let text = "FOR name IN ['a', 'b', 'a'] UPSERT {name} INSERT {name, n: 1} UPDATE {n: OLD.n + 1} IN c RETURN NEW.n";
    assert_eq!(q(&s, text, json!({})), [json!(1), json!(1), json!(2)]);
    let r = q(&s, "UPSERT {_key: 'k005'} INSERT {} REPLACE {value: -5} IN c RETURN [OLD.value, NEW.value]", json!({}));
    assert_eq!(r, [json!([5, -5])]);
}

#[test]
fn runtime_and_memory_are_bounded() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let slow = Options { max_runtime: Some(std::time::Duration::from_millis(200)), ..Options::default() };
    let e = run(&s, &db, "FOR a IN 1..5000000 FOR b IN 1..1000 FILTER a == -1 RETURN a", &Map::new(), &slow).unwrap_err();
    assert_eq!(e.code.0, 1500);
    let small = Options { memory_limit_bytes: 100_000, ..Options::default() };
    let e = run(&s, &db, "FOR i IN 1..100000 RETURN {i, pad: 'xxxxxxxxxxxxxxxxxxxx'}", &Map::new(), &small).unwrap_err();
    assert_eq!(e.code.0, 32);
    let e = run(&s, &db, "FOR i IN 1..100000 SORT i DESC RETURN i", &Map::new(), &small).unwrap_err();
    assert_eq!(e.code.0, 32, "gathered rows count too");
}

/// Random queries, well-formed and not: none may panic, hang or grow without bound.
#[test]
fn random_queries_never_panic() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    // Every scan is parallel, in pieces (the unoptimized run below scans with one thread).
    let opts = Options { max_runtime: Some(std::time::Duration::from_millis(200)), memory_limit_bytes: 10 << 20, scan_threads: 3, parallel_scan_min_docs: 0, ..Options::default() };
    // RANGO_FUZZ_ITERATIONS and RANGO_FUZZ_SEED run it longer or differently by hand.
    let iterations: usize = std::env::var("RANGO_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let mut seed: u64 = std::env::var("RANGO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x2545F4914F6CDD1D);
    let mut rnd = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let atoms = [
        "1", "-2.5", "'s'", "null", "true", "[1, 2, 3]", "{a: 1}", "d", "d.value", "d._key", "d._id", "d['group']", "'k007'", "x", "@p",
        "1..3", "(FOR y IN [1] RETURN y)", "[1, 2][* FILTER CURRENT > 1]", "[1, 2] ANY == 2",
    ];
    let funcs = ["LENGTH", "CONCAT", "TO_NUMBER", "SUM", "UNIQUE", "MERGE", "FIRST", "SORTED", "SUBSTRING", "RANGE", "NOPE", "ABS"];
    let ops = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "IN", "NOT IN", "LIKE", "..", "?"];
    let tokens = ["FOR", "IN", "c", "RETURN", "FILTER", "LET", "=", "SORT", "LIMIT", "COLLECT", "INTO", "WITH", "COUNT", "(", ")", "[", "]", "{", "}", ",", ".", "INSERT", "UPDATE", "REMOVE", "@@c", "x", "1", "WINDOW", "AGGREGATE", "OUTBOUND", "ANY", "[*", "[?", "*]", "ALL", "=="];
    let expr = |depth: usize, rnd: &mut dyn FnMut(usize) -> usize| -> String {
        fn go(depth: usize, rnd: &mut dyn FnMut(usize) -> usize, atoms: &[&str], funcs: &[&str], ops: &[&str]) -> String {
            match if depth == 0 { 0 } else { rnd(4) } {
                0 => atoms[rnd(atoms.len())].to_string(),
                1 => format!("{}({})", funcs[rnd(funcs.len())], go(depth - 1, rnd, atoms, funcs, ops)),
                2 => format!("({} {} {})", go(depth - 1, rnd, atoms, funcs, ops), ops[rnd(ops.len())], go(depth - 1, rnd, atoms, funcs, ops)),
                _ => format!("[{}, {}]", go(depth - 1, rnd, atoms, funcs, ops), go(depth - 1, rnd, atoms, funcs, ops)),
            }
        }
        go(depth, rnd, &atoms, &funcs, &ops)
    };
    let binds: Map<String, Value> = json!({"p": 3}).as_object().cloned().unwrap();
    for i in 0..iterations {
        let text = if i % 3 == 0 {
            (0..rnd(12) + 1).map(|_| tokens[rnd(tokens.len())]).collect::<Vec<_>>().join(" ")
        } else {
            let e1 = expr(3, &mut rnd);
            let e2 = expr(2, &mut rnd);
            match rnd(12) {
                0 => format!("RETURN {e1}"),
                9 => format!("LET s = (FOR d IN c FILTER {e1} SORT d.value DESC RETURN {e2}) RETURN [FIRST(s), s[0]]"),
                10 => format!("LET s = (FOR d IN c FILTER {e2} RETURN {e1}) RETURN [LENGTH(s), FIRST(FOR d IN c FILTER {e1} RETURN {e2}), COUNT(FOR d IN c FILTER {e1} RETURN d)]"),
                11 => format!("FOR d IN c LET a = {e1} FILTER {e2} LET b = {e1} LIMIT 4 RETURN [a, b]"),
                8 => format!("FOR d IN c FILTER {e1} SORT d.group DESC, d.value LIMIT 1, 4 RETURN [d, {e2}]"),
                6 => format!("FOR a IN [1, 2, 3] FOR d IN c LET x = {e1} FILTER {e2} FILTER a > 1 SORT d._key LIMIT 5 RETURN [a, d._key, x]"),
                7 => format!("FOR d IN c LET y = {e2} FILTER {e1} SORT d._key LIMIT 3 RETURN [d.value, y]"),
                5 => format!("FOR d IN c FILTER d._key IN [{e1}, 'k010'] SORT {e2} LIMIT 2 RETURN [d, {e2}]"),
                1 => format!("FOR d IN c FILTER {e1} LIMIT 5 RETURN {e2}"),
                2 => format!("FOR x IN {e1} SORT {e2} RETURN x"),
                3 => format!("FOR d IN c COLLECT g = {e1} WITH COUNT INTO n RETURN [g, n]"),
                _ => format!("LET x = {e1} FOR d IN c LIMIT 3 RETURN [x, {e2}]"),
            }
        };
        let b = if text.contains("@p") { binds.clone() } else { Map::new() };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&s, &db, &text, &b, &opts)));
        let Ok(outcome) = outcome else { panic!("query panicked: {text}") };
        // The optimizer's rules change how a query runs, never what it returns.
        if i % 3 != 0 {
            let plain = Options { optimizer_rules: vec!["-all".into()], ..opts.clone() };
            let unoptimized = run(&s, &db, &text, &b, &plain);
            match (&outcome, &unoptimized) {
                (Ok(a), Ok(b)) => assert_eq!(a.results, b.results, "{text}"),
                (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{text}"),
                (a, b) => panic!("{text}: optimized {:?}, unoptimized {:?}", a.as_ref().err(), b.as_ref().err()),
            }
        }
    }
    // Nothing written by accident.
    assert_eq!(s.count(&db.collection("c").unwrap()).unwrap(), 100);
}

#[test]
fn primary_and_edge_lookups_use_indexes() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let run_stats = |text: &str, binds: Value| {
        let binds: Map<String, Value> = binds.as_object().cloned().unwrap_or_default();
        let out = run(&s, &db, text, &binds, &Options::default()).unwrap_or_else(|e| panic!("{text}: {e}"));
        (out.results, out.stats.scanned_index, out.stats.scanned_full)
    };
    let (r, index, full) = run_stats("FOR d IN c FILTER d._key == 'k007' RETURN d.value", json!({}));
    assert_eq!((r, index, full), (vec![json!(7)], 1, 0));
    let (r, index, full) = run_stats("FOR d IN c FILTER 'c/k008' == d._id RETURN d.value", json!({}));
    assert_eq!((r, index, full), (vec![json!(8)], 1, 0));
    // The rest of the condition still applies to what the index finds.
    let (r, index, _) = run_stats("FOR d IN c FILTER d._key IN @keys && d.value > 3 RETURN d.value", json!({"keys": ["k009", "k002", "nope", "k009", 5]}));
    assert_eq!((r, index), (vec![json!(9)], 2));
    let (r, index, full) = run_stats("FOR k IN ['k001', 'k099'] FOR d IN c FILTER d._key == k RETURN d.value", json!({}));
    assert_eq!((r, index, full), (vec![json!(1), json!(99)], 2, 0));
    // A condition on the loop variable itself cannot use the index.
    let (r, _, full) = run_stats("FOR d IN c FILTER d._key == CONCAT('k00', d.group) RETURN d.value", json!({}));
    assert_eq!((r, full), (vec![json!(0), json!(1), json!(2)], 100));

    let edges = s.create_collection(&db, &json!({"name": "e", "type": 3})).unwrap();
    let items = [("c/k001", "c/k002"), ("c/k001", "c/k003"), ("c/k002", "c/k001")]
        .iter()
        .map(|(f, t)| docstore::WriteItem { body: json!({"_from": f, "_to": t}), key: None, if_match: None })
        .collect();
    s.write_documents(&edges, docstore::WriteKind::Insert(docstore::OverwriteMode::Conflict), items, &Default::default()).unwrap();
    let (r, index, full) = run_stats("FOR e IN e FILTER e._from == 'c/k001' SORT e._to RETURN e._to", json!({}));
    assert_eq!((r, index, full), (vec![json!("c/k002"), json!("c/k003")], 2, 0));
    let (r, index, _) = run_stats("FOR e IN e FILTER e._to == 'c/k001' RETURN e._from", json!({}));
    assert_eq!((r, index), (vec![json!("c/k002")], 1));
}

#[test]
fn sort_limit_keeps_only_what_the_limit_needs() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    // 20,000 rows through a SORT that feeds LIMIT 5, 3, with a memory limit that holding them
    // all would break.
    let text = "FOR i IN 1..20000 SORT i % 7, -i LIMIT 5, 3 RETURN i";
    let small = Options { memory_limit_bytes: 100_000, ..Options::default() };
    let out = run(&s, &db, text, &Map::new(), &small).unwrap();
    let plain = Options { optimizer_rules: vec!["-sort-limit".into()], ..Options::default() };
    let want = run(&s, &db, text, &Map::new(), &plain).unwrap();
    assert_eq!(out.results, want.results);
    assert_eq!(out.results, [json!(19964), json!(19957), json!(19950)]);
    let e = run(&s, &db, text, &Map::new(), &Options { memory_limit_bytes: 100_000, ..plain }).unwrap_err();
    assert_eq!(e.code.0, 32);
}

#[test]
fn collect_without_groups_makes_one_row_even_from_nothing() {
    let (_d, s) = setup();
    assert_eq!(q(&s, "FOR d IN [] COLLECT WITH COUNT INTO n RETURN n", json!({})), [json!(0)]);
    assert_eq!(q(&s, "FOR d IN c FILTER d.value < 0 COLLECT AGGREGATE m = MAX(d.value) RETURN m", json!({})), [Value::Null]);
    assert_eq!(q(&s, "FOR d IN c FILTER d.value < 0 COLLECT g = d.group WITH COUNT INTO n RETURN n", json!({})), Vec::<Value>::new());
    let r = q(&s, "FOR d IN c COLLECT g = d.group AGGREGATE n = COUNT(1), top = MAX(d.value) RETURN [g, n, top]", json!({}));
    assert_eq!(r, [json!([0, 34, 99]), json!([1, 33, 97]), json!([2, 33, 98])]);
    let r = q(&s, "LET x = (FOR d IN c FILTER d.value > 200 COLLECT WITH COUNT INTO n RETURN n) RETURN x", json!({}));
    assert_eq!(r, [json!([0])]);
}

/// Explain output against golden files in `crates/query/golden/` (run with
/// `RANGO_UPDATE_GOLDEN=1` to rewrite them after a deliberate change, and read the diff).
#[test]
fn explain_matches_golden_files() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    s.create_collection(&db, &json!({"name": "e", "type": 3})).unwrap();
    let cases = [
        ("seed", "FOR doc IN c FILTER doc.value % 2 == 0 SORT doc.value ASC LIMIT 10 RETURN doc"),
        ("key-lookup", "FOR k IN @keys FOR doc IN c FILTER doc._key == k RETURN doc"),
        ("collect", "FOR doc IN c COLLECT g = doc.group AGGREGATE top = MAX(doc.value) WITH COUNT INTO n RETURN {g, n, top}"),
        ("edges-subquery", "FOR d IN c LET out = (FOR e IN e FILTER e._from == d._id RETURN e._to) FILTER LENGTH(out) > 0 RETURN [d._key, out]"),
        ("modification", "FOR i IN 1..3 INSERT {value: i} INTO c RETURN NEW._key"),
        ("no-rules", "FOR doc IN c FILTER doc._key IN ['k001', 'k002'] RETURN doc.value"),
        ("rewrites", "FOR a IN 1..3 FOR d IN c LET unused = a * 2 LET twice = @n * 2 FILTER d._key == CONCAT('k00', a) FILTER a > 1 FILTER true SORT d._key RETURN [d.value, twice]"),
        ("sort-by-key", "FOR d IN c FILTER d.group == 1 SORT d._key LIMIT 3 RETURN d._key"),
        ("subqueries", "LET low = FIRST(FOR d IN c SORT d.value RETURN d.value) LET ones = (FOR d IN c FILTER d.group == 1 RETURN d) FOR i IN 1..2 LET a = i * low LET b = i * low RETURN [LENGTH(ones), a, b]"),
    ];
    let update = std::env::var("RANGO_UPDATE_GOLDEN").is_ok();
    for (name, text) in cases {
        let binds: Map<String, Value> = json!({"keys": ["k001"]}).as_object().cloned().unwrap();
        let binds = if text.contains("@keys") {
            binds
        } else if text.contains("@n") {
            json!({"n": 21}).as_object().cloned().unwrap()
        } else {
            Map::new()
        };
        let opts = Options { optimizer_rules: if name == "no-rules" { vec!["-all".into()] } else { Vec::new() }, ..Options::default() };
        let plan = crate::explain(&s, &db, text, &crate::parse(text).unwrap(), &binds, &opts).unwrap();
        let got = plan.to_text(text);
        let path = format!("{}/golden/explain-{name}.txt", env!("CARGO_MANIFEST_DIR"));
        if update {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(got, want, "{name}: explain differs from {path}");
        // What the rules change never changes the results.
        if name != "modification" {
            let parsed = crate::parse(text).unwrap();
            let run_with = |rules: Vec<String>| {
                let o = Options { optimizer_rules: rules, ..Options::default() };
                crate::execute(&s, &db, text, &parsed, &binds, &o, std::time::Instant::now()).unwrap().results
            };
            assert_eq!(run_with(Vec::new()), run_with(vec!["-all".into()]), "{name}");
        }
        // The JSON form has ArangoDB's keys.
        let j = plan.to_json();
        for k in ["nodes", "rules", "collections", "variables", "estimatedCost", "estimatedNrItems", "isModificationQuery"] {
            assert!(j.get(k).is_some(), "{name}: no {k}");
        }
    }
}

#[test]
fn window_aggregates_over_rows_and_ranges() {
    let (_d, s) = setup();
    let r = q(&s, "FOR x IN [1, 2, 3, 4, 5] WINDOW {preceding: 1, following: 1} AGGREGATE s = SUM(x), n = LENGTH(x) RETURN [s, n]", json!({}));
    assert_eq!(r, [json!([3, 2]), json!([6, 3]), json!([9, 3]), json!([12, 3]), json!([9, 2])]);
    let r = q(&s, "FOR x IN [1, 2, 3, 4, 5] WINDOW {preceding: 'unbounded', following: 0} AGGREGATE s = SUM(x) RETURN s", json!({}));
    assert_eq!(r, [json!(1), json!(3), json!(6), json!(10), json!(15)]);
    let r = q(&s, "FOR x IN [1, 2, 4, 7, 8] WINDOW x WITH {preceding: 2, following: 0} AGGREGATE c = LENGTH(x), m = MIN(x) RETURN [c, m]", json!({}));
    assert_eq!(r, [json!([1, 1]), json!([2, 1]), json!([2, 2]), json!([1, 7]), json!([2, 7])]);
    let r = q(&s, "FOR d IN c FILTER d.value < 4 SORT d.value WINDOW {following: 'unbounded'} AGGREGATE rest = SUM(d.value) RETURN rest", json!({}));
    assert_eq!(r, [json!(6), json!(6), json!(5), json!(3)]);
    // Durations over dates.
    let text = "FOR t IN ['2024-01-01T00:00:00Z', '2024-01-01T00:20:00Z', '2024-01-01T01:10:00Z'] \
        WINDOW t WITH {preceding: 'PT30M'} AGGREGATE n = LENGTH(t) RETURN n";
    assert_eq!(q(&s, text, json!({})), [json!(1), json!(2), json!(1)]);
    let db = s.database("_system").unwrap();
    let e = run(&s, &db, "FOR x IN [1] WINDOW {preceding: -1} AGGREGATE s = SUM(x) RETURN s", &Map::new(), &Options::default()).unwrap_err();
    assert_eq!(e.code.0, 10);
}

#[test]
fn traversals_parse_and_answer_not_implemented() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    s.create_collection(&db, &json!({"name": "e", "type": 3})).unwrap();
    for text in [
        "FOR v, e, p IN 1..3 OUTBOUND 'c/k001' e PRUNE v.value > 5 OPTIONS {uniqueVertices: 'path'} RETURN p",
        "FOR v IN ANY 'c/k001' INBOUND e, OUTBOUND e RETURN v",
        "FOR v IN 2 INBOUND 'c/k001' GRAPH 'social' RETURN v._key",
        "FOR v, e IN OUTBOUND SHORTEST_PATH 'c/k001' TO 'c/k002' e RETURN [v, e]",
        "FOR p IN 1..2 ANY K_PATHS 'c/k001' TO 'c/k002' GRAPH @g RETURN p",
    ] {
        let parsed = crate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let binds: Map<String, Value> = if text.contains("@g") { json!({"g": "social"}).as_object().cloned().unwrap() } else { Map::new() };
        let e = crate::execute(&s, &db, text, &parsed, &binds, &Options::default(), std::time::Instant::now()).unwrap_err();
        assert_eq!((e.code.0, e.status), (9, Some(501)), "{text}");
        let plan = crate::plan::plan(&s, &db, &parsed, &binds, &Options::default()).unwrap();
        assert!(plan.nodes.iter().any(|n| n.kind == "TraversalNode" || n.kind == "ShortestPathNode"), "{text}");
    }
    let (reads, _) = crate::collections_used(&crate::parse("FOR v IN OUTBOUND 'c/k001' e RETURN v").unwrap(), &Map::new());
    assert_eq!(reads, ["e"]);
    for bad in ["FOR v, e, p, x IN OUTBOUND 'a' e RETURN v", "FOR v, e IN 1..2 RETURN v", "FOR v IN OUTBOUND SHORTEST_PATH 'a' e RETURN v", "FOR v, e, p IN OUTBOUND K_PATHS 'a' TO 'b' e RETURN v"] {
        assert_eq!(crate::parse(bad).unwrap_err().code.0, 1501, "{bad}");
    }
}

#[test]
fn review_regressions() {
    // Subqueries in COLLECT INTO and in modification OPTIONS count for access checks.
    let q1 = crate::parse("FOR x IN [1] COLLECT k = 1 INTO g = (FOR s IN secret RETURN s) RETURN g").unwrap();
    assert_eq!(crate::collections_used(&q1, &Map::new()).0, ["secret"]);
    let q2 = crate::parse("FOR x IN [1] INSERT {} INTO c OPTIONS {x: (FOR s IN secret RETURN s)}").unwrap();
    assert_eq!(crate::collections_used(&q2, &Map::new()), (vec!["secret".to_string()], vec!["c".to_string()]));
    // A document read before a write to it is returned as it was read, not fetched after.
    let (_d, s) = setup();
    let r = q(&s, "FOR d IN c FILTER d.value == 3 UPDATE d._key WITH {value: 300} IN c RETURN d.value", json!({}));
    assert_eq!(r, [json!(3)]);
    let r = q(&s, "FOR d IN c FILTER d.value == 4 REMOVE d._key IN c RETURN d", json!({}));
    assert_eq!(r[0]["group"], json!(1), "{r:?}");
    // A huge LIMIT bound from bind parameters does not overflow sort-limit.
    let r = q(&s, "FOR i IN 1..3000 SORT i DESC LIMIT @o, @c RETURN i", json!({"o": 9223372036854775807u64, "c": 1}));
    assert!(r.is_empty());
    // Index lookups inside subqueries count in the query's statistics.
    let db = s.database("_system").unwrap();
    let out = run(&s, &db, "FOR k IN ['k001'] LET d = (FOR x IN c FILTER x._key == k RETURN x) RETURN d", &Map::new(), &Options::default()).unwrap();
    assert_eq!(out.stats.scanned_index, 1);
}

#[test]
fn names_are_checked_before_running() {
    for (text, code) in [("FOR d IN [] RETURN NOPE(d)", 1540), ("FOR d IN [] RETURN SUBSTRING(d)", 1541)] {
        assert_eq!(crate::parse(text).unwrap_err().code.0, code, "{text}");
    }
    // A name no variable declares is a collection, which must exist before anything runs.
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    for text in [
        "FOR d IN [] RETURN x",
        "LET x = x + 1 RETURN x",
        "FOR d IN [] COLLECT g = d.a RETURN d",
        "FOR x IN [1] LET s = (FOR y IN [2] RETURN [x, y, z]) RETURN s",
    ] {
        let parsed = crate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let e = crate::execute(&s, &db, text, &parsed, &Map::new(), &Options::default(), std::time::Instant::now()).unwrap_err();
        assert_eq!((e.code.0, e.status), (1203, Some(404)), "{text}");
    }
    assert_eq!(q(&s, "RETURN [LENGTH(c), COUNT(c), c[0]._key, LENGTH(c[* FILTER CURRENT.group == 1])]", json!({})), [json!([100, 100, "k000", 33])]);
    assert_eq!(crate::collections_used(&crate::parse("RETURN LENGTH(c)").unwrap(), &Map::new()).0, ["c"]);
    for ok in [
        "FOR d IN c COLLECT g = d.a INTO items RETURN [g, items]",
        "UPSERT {a: 1} INSERT {a: 1} UPDATE {n: OLD.n + 1} IN c RETURN [OLD, NEW]",
        "FOR x IN [[1]] RETURN x[* FILTER CURRENT > 0][? ANY FILTER CURRENT == 1]",
        "FOR v, e, p IN 1..2 OUTBOUND 'c/a' edges PRUNE v.x == 1 RETURN p",
        "FOR x IN [1] LET s = (FOR y IN [2] RETURN [x, y]) RETURN s",
    ] {
        crate::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

#[test]
fn a_failing_query_takes_back_its_writes() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let col = db.collection("c").unwrap();
    let before: Vec<Value> = q(&s, "FOR d IN c SORT d._key RETURN [d._key, d._rev, d.value]", json!({}));
    for (text, code) in [
        // The second INSERT hits an existing key after the first wrote three documents.
        ("FOR i IN 1..3 INSERT {_key: CONCAT('n', i)} INTO c INSERT {_key: 'k001'} INTO c", 1210),
        // UPSERT writes row by row; the third row is not a document.
        ("FOR x IN [{_key: 'u1'}, {_key: 'k002'}, 5] UPSERT {_key: x._key} INSERT x UPDATE {touched: true} IN c", 1227),
        // Updates, removes and a subquery's inserts, then a failure.
        ("FOR d IN c FILTER d.value < 3 UPDATE d WITH {value: -1} IN c FOR x IN [1] RETURN FAIL('after the update')", 1569),
        ("FOR d IN c FILTER d.value < 2 REMOVE d IN c FOR x IN [1] RETURN FAIL('after the remove')", 1569),
        ("LET made = (FOR i IN 1..2 INSERT {_key: CONCAT('s', i)} INTO c RETURN NEW._key) RETURN FAIL('after the subquery')", 1569),
    ] {
        let e = run(&s, &db, text, &Map::new(), &Options::default()).unwrap_err();
        assert_eq!(e.code.0, code, "{text}: {e}");
        assert_eq!(q(&s, "FOR d IN c SORT d._key RETURN [d._key, d._rev, d.value]", json!({})), before, "{text}");
        assert_eq!(s.count(&col).unwrap(), 100, "{text}");
    }
}

#[test]
fn functions_that_read_the_database() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    s.create_collection(&db, &json!({"name": "secret"})).unwrap();
    let r = q(&s, "RETURN [DOCUMENT('c/k001').value, DOCUMENT('c', 'k002').value, DOCUMENT('c', ['k003', 'nope', 'c/k004'])[*].value]", json!({}));
    assert_eq!(r, [json!([1, 2, [3, 4]])]);
    let r = q(&s, "RETURN [DOCUMENT('c/nope'), DOCUMENT('nowhere/k001'), DOCUMENT(['c/k005', 5])[*].value, COLLECTION_COUNT('c'), CURRENT_DATABASE()]", json!({}));
    assert_eq!(r, [json!([null, null, [5], 100, "_system"])]);
    let names = q(&s, "RETURN COLLECTIONS()[*].name", json!({}));
    assert!(names[0].as_array().unwrap().contains(&json!("secret")));
    // Without read access to a collection, DOCUMENT is refused; COLLECTIONS leaves it out.
    let opts = Options { can_read: Some(std::sync::Arc::new(|c: &str| c != "secret")), ..Options::default() };
    let e = run(&s, &db, "RETURN DOCUMENT('secret/x')", &Map::new(), &opts).unwrap_err();
    assert_eq!(e.code.0, 11);
    let out = run(&s, &db, "RETURN COLLECTIONS()[*].name", &Map::new(), &opts).unwrap();
    assert!(!out.results[0].as_array().unwrap().contains(&json!("secret")));
    // Computed values cannot read the database.
    assert_eq!(aql::parse_return_expression("RETURN DOCUMENT('c/k001')", &["doc"]).unwrap_err().code.0, 10);
}

#[test]
fn warnings_are_capped_or_fatal_on_request() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let text = "FOR i IN 1..30 RETURN i / 0";
    let out = run(&s, &db, text, &Map::new(), &Options::default()).unwrap();
    assert_eq!(out.warnings.len(), 10);
    let few = Options { max_warning_count: 2, ..Options::default() };
    assert_eq!(run(&s, &db, text, &Map::new(), &few).unwrap().warnings.len(), 2);
    let strict = Options { fail_on_warning: true, ..Options::default() };
    let e = run(&s, &db, text, &Map::new(), &strict).unwrap_err();
    assert_eq!((e.code.0, e.status), (1562, Some(400)));
    // A subquery's warnings count too.
    let out = run(&s, &db, "LET x = (FOR i IN [1] RETURN i / 0) RETURN x", &Map::new(), &Options::default()).unwrap();
    assert_eq!(out.warnings.len(), 1);
    // A failing query with failOnWarning takes back its writes like any other.
    let e = run(&s, &db, "FOR i IN 1..2 INSERT {_key: CONCAT('w', i)} INTO c RETURN 1 / 0", &Map::new(), &strict).unwrap_err();
    assert_eq!(e.code.0, 1562);
    assert_eq!(s.count(&db.collection("c").unwrap()).unwrap(), 100);
}

#[test]
fn second_review_regressions() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    s.create_collection(&db, &json!({"name": "secret"})).unwrap();
    s.create_collection(&db, &json!({"name": "log"})).unwrap();
    // A name declared before COLLECT is a collection again after it, and access checks see it.
    let q1 = crate::parse("LET secret = 1 COLLECT k = 1 FOR d IN secret RETURN d").unwrap();
    assert_eq!(crate::collections_used(&q1, &Map::new()).0, ["secret"]);
    let q2 = crate::parse("LET c = 1 COLLECT k = 1 INSERT {} INTO c").unwrap();
    assert_eq!(crate::collections_used(&q2, &Map::new()).1, ["c"]);
    // COLLECT in a subquery keeps the outer variables.
    let r = q(&s, "FOR u IN ['k001', 'k002'] RETURN FIRST(FOR o IN c FILTER o._key == u COLLECT WITH COUNT INTO n RETURN {u, n})", json!({}));
    assert_eq!(r, [json!({"u": "k001", "n": 1}), json!({"u": "k002", "n": 1})]);
    // Nothing moves past a subquery that writes.
    let r = q(&s, "FOR u IN c FILTER u.value < 3 LET w = (INSERT {u: u._key} INTO log RETURN 1) FILTER u.group == 0 RETURN u.value", json!({}));
    assert_eq!(r, [json!(0)]);
    assert_eq!(s.count(&db.collection("log").unwrap()).unwrap(), 3);
    let r = q(&s, "LET w = (INSERT {_key: 'x'} INTO log RETURN 1) FOR i IN [1] LET d = DOCUMENT('log/x') RETURN d._key", json!({}));
    assert_eq!(r, [json!("x")]);
    // use-index-for-sort stays out of subqueries, where a loop may be over an outer list.
    let r = q(&s, "FOR l IN [[{_key: 'b'}, {_key: 'a'}]] LET s = (FOR x IN l SORT x._key RETURN x._key) RETURN s", json!({}));
    assert_eq!(r, [json!(["a", "b"])]);
    // A variable is declared once (1511).
    assert_eq!(crate::parse("FOR a IN [1, 2] LET a = 5 RETURN a").unwrap_err().code.0, 1511);
    // A calculation that may fail is not moved where it would run more often.
    let r = q(&s, "FOR i IN [] LET r = 1..20000000 RETURN r", json!({}));
    assert!(r.is_empty());
    // DOCUMENT and COLLECTION_COUNT take a bare collection name; an id of another collection finds nothing.
    let r = q(&s, "RETURN [DOCUMENT(c, 'k003').value, COLLECTION_COUNT(c), DOCUMENT('c', 'log/x')]", json!({}));
    assert_eq!(r, [json!([3, 100, null])]);
}

/// Parallel scans, in pieces cut from file sizes and from key interpolation, return what a
/// single-threaded scan returns: the same rows in the same order, the same counts, warnings
/// and errors.
#[test]
fn parallel_scans_match_single_threaded_ones() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let col = s.create_collection(&db, &json!({"name": "big"})).unwrap();
    let insert = |from: usize, to: usize| {
        let docs: Vec<_> = (from..to)
            .map(|i| docstore::WriteItem {
                body: json!({"_key": format!("{i}"), "value": i, "g": i % 7, "s": format!("s{}", i % 13), "pad": "x".repeat(i % 50)}),
                key: None,
                if_match: None,
            })
            .collect();
        s.write_documents(&col, docstore::WriteKind::Insert(docstore::OverwriteMode::Conflict), docs, &Default::default()).unwrap();
    };
    insert(0, 25_000);
    assert!(s.scan_ranges(&db.collection("c").unwrap(), 16).unwrap().len() >= 12, "in memory only, cut by key");
    // Most of it in files, where the cuts follow sizes; some still in memory.
    s.compact(&col);
    insert(25_000, 26_000);
    let pieces = s.scan_ranges(&col, 16).unwrap().len();
    assert!(pieces >= 12, "cut into {pieces} pieces");
    let queries = [
        "FOR d IN big FILTER d.value % 7 == 3 RETURN d",
        "FOR d IN big FILTER d.g == 2 SORT d.value DESC, d._key LIMIT 5, 10 RETURN d",
        "FOR d IN big SORT d.g LIMIT 20 RETURN d._key",
        "FOR d IN big SORT d.s DESC, d.g LIMIT 0, 7 RETURN [d._key, d.s]",
        "FOR d IN big FILTER d.value > 30 SORT d['g'] LIMIT 3 RETURN d.value",
        "FOR d IN big COLLECT g = d.g WITH COUNT INTO n RETURN [g, n]",
        "FOR d IN big FILTER d.value / (d.value % 2) > 3 LIMIT 7 RETURN d.value",
        "FOR d IN big FILTER d.value > 100 LIMIT 3 RETURN d",
        "FOR d IN big RETURN d._key",
        "FOR d IN big FILTER (FOR x IN [1] RETURN x)[0] == 1 && d.value < 5 RETURN d.value",
        "FOR d IN big FILTER d.value == 20000 ? FAIL('stop here') : true RETURN d.value",
        "FOR k IN ['1', '2'] FOR d IN big FILTER d.g == TO_NUMBER(k) SORT d.value LIMIT 2 RETURN [k, d.value]",
        // Warnings from the filter and from later operations, in the order one thread raises them.
        "FOR d IN big FILTER d.value % 1000 < 3 && 1 / (d.value % 2) > 0 RETURN [d.value, d.value % 3 == 0 ? KEYS(d.value) : null]",
        // An error further on in a piece comes after what passed before it: the LIMIT is met first.
        "FOR d IN big FILTER d.value < 3 OR (d.value > 20000 ? FAIL('boom') : false) LIMIT 3 RETURN d.value",
    ];
    for threads in [2, 3, 5] {
        let parallel = Options { scan_threads: threads, ..Options::default() };
        let single = Options { optimizer_rules: vec!["-parallel-scan".into()], ..Options::default() };
        for text in queries {
            match (run(&s, &db, text, &Map::new(), &parallel), run(&s, &db, text, &Map::new(), &single)) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.results, b.results, "{text}");
                    assert_eq!(a.warnings, b.warnings, "{text}");
                    assert_eq!(a.stats.filtered, b.stats.filtered, "{text}");
                    assert_eq!(a.stats.scanned_full, b.stats.scanned_full, "{text}");
                }
                (Err(a), Err(b)) => assert_eq!((a.code, a.message), (b.code, b.message), "{text}"),
                (a, b) => panic!("{text}: parallel {:?}, single {:?}", a.err(), b.err()),
            }
        }
    }
    // The same warnings, in the same order, as evaluating the FILTER as an operation of its own.
    let text = queries.iter().find(|q| q.contains("1 / (d.value % 2)")).copied().unwrap_or_default();
    let all = Options { max_warning_count: 1000, ..Options::default() };
    let parallel = run(&s, &db, text, &Map::new(), &Options { scan_threads: 3, ..all.clone() }).unwrap();
    let plain = run(&s, &db, text, &Map::new(), &Options { optimizer_rules: vec!["-all".into()], ..all }).unwrap();
    assert!(parallel.warnings.len() > 20);
    let kinds: std::collections::HashSet<String> = parallel.warnings.iter().map(|w| w.to_string()).collect();
    assert!(kinds.len() >= 2, "{kinds:?}");
    assert_eq!(parallel.warnings, plain.warnings);
    // Keeping rows for a SORT and LIMIT inside the scan counts toward memoryLimit.
    for threads in [1, 3] {
        let small = Options { scan_threads: threads, memory_limit_bytes: 300_000, ..Options::default() };
        let e = run(&s, &db, "FOR d IN big SORT d.pad LIMIT 5000 RETURN d", &Map::new(), &small).unwrap_err();
        assert_eq!(e.code.0, 32, "{threads} threads");
    }
    // The pieces read one state: two documents far apart, always written together, are
    // always seen with the same value while a writer keeps changing them.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..100_000u64 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let items = ["1", "25999"].map(|k| docstore::WriteItem { body: json!({"tok": i}), key: Some(k.into()), if_match: None }).into();
                s.write_documents(&col, docstore::WriteKind::Update, items, &Default::default()).unwrap();
            }
        });
        let parallel = Options { scan_threads: 3, ..Options::default() };
        for _ in 0..30 {
            let out = run(&s, &db, "FOR d IN big FILTER d.tok != null RETURN d.tok", &Map::new(), &parallel).unwrap();
            assert!(out.results.len() < 2 || out.results[0] == out.results[1], "{:?}", out.results);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // The plan says so.
    let explained = crate::explain(&s, &db, queries[0], &aql::query::parse_query(queries[0]).unwrap(), &Map::new(), &Options { scan_threads: 2, ..Options::default() }).unwrap();
    assert!(explained.rules.contains(&"parallel-scan"), "{:?}", explained.rules);
}

#[test]
fn third_review_regressions() {
    let (_d, s) = setup();
    // A nested COLLECT … INTO takes the subquery's variable without naming it.
    let text = "LET sq = (FOR x IN [1, 2, 3] RETURN x) LET r = (FOR y IN [1] COLLECT k = y INTO g RETURN g[0].sq) RETURN [LENGTH(sq), r]";
    assert_eq!(q(&s, text, json!({})), [json!([3, [[1, 2, 3]]])]);
    // A COLLECT … INTO that nothing reached makes its one group once.
    assert_eq!(q(&s, "FOR d IN [] COLLECT INTO g RETURN g", json!({})), [json!([])]);
    assert_eq!(q(&s, "FOR d IN [] COLLECT AGGREGATE n = COUNT(d) INTO g RETURN [n, g]", json!({})), [json!([0, []])]);
    // A calculation is not reused across a subquery that writes what it reads.
    let text = "LET a = c[*]._key LET w = (INSERT {} INTO c RETURN 1) LET b = c[*]._key RETURN [LENGTH(a), LENGTH(b)]";
    assert_eq!(q(&s, text, json!({})), [json!([100, 101])]);
}

/// A query reads the database as it was when it started: writes made meanwhile by others do
/// not show, in any way of reading. Its own writes do.
#[test]
fn queries_read_one_snapshot_and_their_own_writes() {
    let (_d, s) = setup();
    let db = s.database("_system").unwrap();
    let col = db.collection("c").unwrap();
    let text = "LET before = [LENGTH(c), COUNT(FOR d IN c RETURN 1)] LET pause = SLEEP(0.4) \
                RETURN [before, LENGTH(c), COUNT(FOR d IN c RETURN 1), DOCUMENT(c, 'late') != null, LENGTH(FOR d IN c FILTER d._key == 'late' RETURN d)]";
    let out = std::thread::scope(|scope| {
        let query = scope.spawn(|| run(&s, &db, text, &Map::new(), &Options::default()));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let item = docstore::WriteItem { body: json!({"_key": "late"}), key: None, if_match: None };
        s.write_documents(&col, docstore::WriteKind::Insert(docstore::OverwriteMode::Conflict), vec![item], &Default::default()).unwrap();
        query.join().unwrap().unwrap()
    });
    // Normally the insert lands during the SLEEP; on a slow machine it may come before the query
    // starts. Either way every read agrees with every other.
    let r = &out.results[0];
    let n = r[0][0].as_u64().unwrap();
    assert_eq!(*r, json!([[n, n], n, n, n == 101, u64::from(n == 101)]), "reads disagree");
    // Its own writes it sees.
    let r = q(&s, "LET w = (INSERT {_key: 'mine'} INTO c RETURN 1) RETURN [DOCUMENT(c, 'mine')._key, LENGTH(c)]", json!({}));
    assert_eq!(r, [json!(["mine", 102])]);
}
