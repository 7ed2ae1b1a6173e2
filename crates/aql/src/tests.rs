use serde_json::{json, Map, Value};

use crate::eval::{eval, Env};
use crate::parse_return_expression;

fn run(text: &str, doc: Value) -> Value {
    let e = parse_return_expression(text, &["doc"]).unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut binds = Map::new();
    binds.insert("doc".into(), doc);
    let mut env = Env::new(&binds);
    eval(&e, &mut env).unwrap()
}

#[test]
fn operators_follow_aql_precedence_and_semantics() {
    let d = json!({"a": 2, "b": "x", "arr": [1, 2, 3], "o": {"p": {"q": 7}}});
    let cases = [
        ("RETURN 1 + 2 * 3", json!(7)),
        ("RETURN (1 + 2) * 3", json!(9)),
        ("RETURN -@doc.a - 1", json!(-3)),
        ("RETURN 7 % 4", json!(3)),
        // Regression: negative literals stayed integers only after the fold learned to.
        ("RETURN [-5, -2.5]", json!([-5, -2.5])),
        ("RETURN 1 / 4", json!(0.25)),
        ("RETURN 1 / 0", Value::Null),
        ("RETURN 1 + '2'", json!(3)),
        ("RETURN @doc.a == 2 && @doc.b == 'x'", json!(true)),
        ("RETURN null || 'fallback'", json!("fallback")),
        ("RETURN 0 && 'no'", json!(0)),
        ("RETURN 2 IN @doc.arr", json!(true)),
        ("RETURN 5 NOT IN @doc.arr", json!(true)),
        ("RETURN 'abc' LIKE 'a%'", json!(true)),
        ("RETURN 'abc' NOT LIKE '_b'", json!(true)),
        ("RETURN null < false", json!(true)),
        ("RETURN 'a' < [] && [] < {}", json!(true)),
        ("RETURN @doc.a > 1 ? 'big' : 'small'", json!("big")),
        ("RETURN @doc.missing ?: 'dflt'", json!("dflt")),
        ("RETURN @doc.o.p.q", json!(7)),
        ("RETURN @doc['o']['p'].q", json!(7)),
        ("RETURN @doc.arr[-1]", json!(3)),
        ("RETURN @doc.nope.deeper", Value::Null),
        ("RETURN 1..3", json!([1, 2, 3])),
        ("RETURN {a: 1, 'b c': [true, null], [CONCAT('d', 1)]: 2}", json!({"a": 1, "b c": [true, null], "d1": 2})),
        ("RETURN NOT true", json!(false)),
        ("RETURN 'foo' =~ '^f[o].$'", json!(true)),
        ("RETURN 'foo' !~ '[a-z]+bar$'", json!(true)),
        ("RETURN /* comment */ 0x10 + 0b11 // end", json!(19)),
    ];
    for (text, want) in cases {
        assert_eq!(run(text, d.clone()), want, "{text}");
    }
}

#[test]
fn functions_match_arangodb_examples() {
    let d = json!({"first": "Ann", "last": "Lee", "tags": ["a", "b", "a"], "n": [3, 1, 2]});
    let cases = [
        ("RETURN CONCAT(@doc.first, ' ', @doc.last)", json!("Ann Lee")),
        ("RETURN CONCAT_SEPARATOR(', ', 'a', null, ['b', 'c'])", json!("a, b, c")),
        ("RETURN CONCAT('foo', 'bar', 'baz')", json!("foobarbaz")),
        ("RETURN UPPER('aBc') == 'ABC' && LOWER('AbC') == 'abc'", json!(true)),
        ("RETURN LENGTH(@doc.tags) + LENGTH('ümlaut') + LENGTH({a:1})", json!(10)),
        ("RETURN SUBSTRING('Hello World', 6)", json!("World")),
        ("RETURN SUBSTRING('Hello World', -5, 3)", json!("Wor")),
        ("RETURN LEFT('foobar', 3)", json!("foo")),
        ("RETURN RIGHT('foobar', 3)", json!("bar")),
        ("RETURN TRIM('  foo  ')", json!("foo")),
        ("RETURN TRIM('--==[foo-bar]==--', '-=[]')", json!("foo-bar")),
        ("RETURN CONTAINS('foobarbaz', 'bar', true)", json!(3)),
        ("RETURN SPLIT('foo-bar-baz', '-', 2)", json!(["foo", "bar"])),
        ("RETURN REVERSE('abc')", json!("cba")),
        ("RETURN MD5('foobar')", json!("3858f62230ac3c915f300c664312c63f")),
        ("RETURN SHA256('foobar')", json!("c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2")),
        ("RETURN TO_NUMBER('  1.5 ') + TO_NUMBER(true) + TO_NUMBER('x')", json!(2.5)),
        ("RETURN TO_STRING(1) == '1' && TO_STRING(null) == ''", json!(true)),
        ("RETURN TO_BOOL('') == false && TO_BOOL([]) == true", json!(true)),
        ("RETURN TYPENAME(1.5)", json!("number")),
        ("RETURN ROUND(2.5) + ROUND(-2.5) + FLOOR(2.9) + CEIL(2.1) + ABS(-1)", json!(7)),
        ("RETURN SUM(@doc.n) + MIN(@doc.n) * 10 + MAX(@doc.n) * 100", json!(316)),
        ("RETURN AVERAGE([1, 2, 3, 4])", json!(2.5)),
        ("RETURN UNIQUE(@doc.tags)", json!(["a", "b"])),
        ("RETURN FLATTEN([1, [2, [3]]])", json!([1, 2, [3]])),
        ("RETURN PUSH([1, 2], 2, true)", json!([1, 2])),
        ("RETURN APPEND([1], [2, 3])", json!([1, 2, 3])),
        ("RETURN POSITION([1, 2, 3], 3, true)", json!(2)),
        ("RETURN FIRST([]) == null && LAST([1, 2]) == 2 && NTH([1, 2], 1) == 2", json!(true)),
        ("RETURN MERGE({a: 1, b: 1}, {b: 2})", json!({"a": 1, "b": 2})),
        ("RETURN KEEP({a: 1, b: 2, c: 3}, 'a', 'c')", json!({"a": 1, "c": 3})),
        ("RETURN UNSET({a: 1, b: 2}, ['a'])", json!({"b": 2})),
        ("RETURN HAS({a: null}, 'a')", json!(true)),
        ("RETURN ATTRIBUTES({b: 1, _k: 2, a: 3}, true, true)", json!(["a", "b"])),
        ("RETURN DATE_ISO8601(0)", json!("1970-01-01T00:00:00.000Z")),
        ("RETURN DATE_ISO8601(1399472349522)", json!("2014-05-07T14:19:09.522Z")),
        ("RETURN DATE_TIMESTAMP('2014-05-07T14:19:09.522Z')", json!(1399472349522i64)),
        ("RETURN DATE_TIMESTAMP('2014-05-07T16:19:09.522+02:00')", json!(1399472349522i64)),
        ("RETURN DATE_ISO8601(2000, 2, 29, 12)", json!("2000-02-29T12:00:00.000Z")),
        ("RETURN DATE_NOW() > 1700000000000", json!(true)),
        ("RETURN JSON_PARSE(JSON_STRINGIFY({a: [1]}))", json!({"a": [1]})),
        ("RETURN NOT_NULL(null, 2)", json!(2)),
        ("RETURN [LOG2(1024), LOG10(1000), EXP2(10), FLOOR(PI() * 100)]", json!([10, 3, 1024, 314])),
        ("RETURN [MEDIAN([1, 2, 3, 4]), PRODUCT([1, 2, 3, 4]), VARIANCE_SAMPLE([1, 3])]", json!([2.5, 24, 2])),
        ("RETURN [STDDEV_POPULATION([2, 4, 4, 4, 5, 5, 7, 9]), DEGREES(PI())]", json!([2, 180])),
        ("RETURN RANGE(1, 2, 0.5)", json!([1, 1.5, 2])),
        ("RETURN RANGE(5, 1, -2)", json!([5, 3, 1])),
        ("RETURN SLICE([1, 2, 3, 4, 5], 1, 2)", json!([2, 3])),
        ("RETURN SLICE([1, 2, 3, 4, 5], -3, -1)", json!([3, 4])),
        ("RETURN SORTED_UNIQUE([8, 4, 2, 10, 6, 2, 8, 6, 4])", json!([2, 4, 6, 8, 10])),
        ("RETURN COUNT_DISTINCT(['b', 'a', 'b'])", json!(2)),
        ("RETURN REMOVE_VALUE(['a', 'b', 'b', 'a', 'c'], 'a', 1)", json!(["b", "b", "a", "c"])),
        ("RETURN REMOVE_VALUES(['a', 'b', 'c', 'd'], ['a', 'c'])", json!(["b", "d"])),
        ("RETURN REMOVE_NTH(['a', 'b', 'c'], -1)", json!(["a", "b"])),
        ("RETURN [UNSHIFT([1, 2], 3), POP([1, 2, 3]), SHIFT([1, 2, 3])]", json!([[3, 1, 2], [1, 2], [2, 3]])),
        ("RETURN INTERSECTION([1, 2, 3, 4, 5], [2, 3, 4, 5, 6], [3, 4, 5, 6, 7])", json!([3, 4, 5])),
        ("RETURN UNION_DISTINCT([1, 2, 3], [1, 2])", json!([1, 2, 3])),
        ("RETURN MINUS([1, 2, 3, 4], [3, 4, 5])", json!([1, 2])),
        ("RETURN OUTERSECTION([1, 2, 3], [2, 3, 4], [3, 4, 5])", json!([1, 5])),
        ("RETURN ZIP(['a', 'b'], [1, 2])", json!({"a": 1, "b": 2})),
        ("RETURN ENTRIES({a: 1})", json!([["a", 1]])),
        ("RETURN MATCHES({test: 1, x: 2}, [{test: 2}, {test: 1}], true)", json!(1)),
        ("RETURN SUBSTITUTE('the quick brown foxx', ['quick', 'foxx'], ['slow', 'dog'])", json!("the slow brown dog")),
        ("RETURN SUBSTITUTE('the quick', {quick: 'lazy'})", json!("the lazy")),
        ("RETURN [FIND_FIRST('foobarbaz', 'ba'), FIND_LAST('foobarbaz', 'ba'), FIND_FIRST('x', 'y')]", json!([3, 6, -1])),
        ("RETURN REPEAT('foo', 3, '-')", json!("foo-foo-foo")),
        ("RETURN TO_HEX('abc')", json!("616263")),
        ("RETURN ENCODE_URI_COMPONENT('a b/ö')", json!("a%20b%2F%C3%B6")),
        ("RETURN [DATE_YEAR('2014-05-07T14:19:09.522Z'), DATE_MONTH(0), DATE_DAY('2016-12-31'), DATE_HOUR('2014-05-07T14:19:09Z')]", json!([2014, 1, 31, 14])),
        ("RETURN [DATE_MINUTE('2014-05-07T14:19:09Z'), DATE_SECOND('2014-05-07T14:19:09Z'), DATE_MILLISECOND('2014-05-07T14:19:09.522Z')]", json!([19, 9, 522])),
        ("RETURN [DATE_DAYOFWEEK('2014-05-07'), DATE_DAYOFWEEK(0), DATE_DAYOFYEAR('2016-12-31')]", json!([3, 4, 366])),
        ("RETURN [DATE_LEAPYEAR('2016-01-01'), DATE_LEAPYEAR('1900-01-01'), DATE_DAYS_IN_MONTH('2016-02-03'), DATE_QUARTER('2016-11-01')]", json!([true, false, 29, 4])),
        ("RETURN DATE_ADD('2016-01-31T00:00:00.000Z', 1, 'month')", json!("2016-02-29T00:00:00.000Z")),
        ("RETURN DATE_ADD('2015-12-31T23:59:59.999Z', 1, 'f')", json!("2016-01-01T00:00:00.000Z")),
        ("RETURN DATE_SUBTRACT('2016-03-01T00:00:00.000Z', 1, 'day')", json!("2016-02-29T00:00:00.000Z")),
        ("RETURN DATE_DIFF('2016-01-01', '2016-01-08', 'd')", json!(7)),
        ("RETURN DATE_DIFF('2016-01-01', '2016-01-01T12:00:00Z', 'days', true)", json!(0.5)),
        ("RETURN LEVENSHTEIN_DISTANCE('foobar', 'bar')", json!(3)),
        ("RETURN LENGTH(SHA512('x'))", json!(128)),
    ];
    for (text, want) in cases {
        assert_eq!(run(text, d.clone()), want, "{text}");
    }
}

#[test]
fn bad_expressions_are_refused_with_arangodb_errors() {
    let code = |text: &str| parse_return_expression(text, &["doc"]).unwrap_err().code.0;
    assert_eq!(code("RETURN 1 +"), 1501);
    assert_eq!(code("1 + 2"), 1501);
    assert_eq!(code("RETURN 'unterminated"), 1501);
    assert_eq!(code("RETURN 1 2"), 1501);
    assert_eq!(code("RETURN NO_SUCH_FUNCTION(1)"), 1540);
    assert_eq!(code("RETURN CONCAT()"), 1541);
    assert_eq!(code("RETURN @other"), 10);
    assert_eq!(code("RETURN someVariable"), 10);
    let e = parse_return_expression("RETURN 1 +\n  )", &["doc"]).unwrap_err();
    assert!(e.message.contains("at position 2:3"), "{}", e.message);
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("RETURN {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(code(&deep), 1501);
    let deep_not = format!("RETURN {}true", "NOT ".repeat(5000));
    assert_eq!(code(&deep_not), 1501);
}

/// Long chains build deep trees too (left-folded), which evaluating and dropping recurse
/// through: they are bounded as well. Run with the stack the server's threads have.
#[test]
fn long_chains_are_bounded() {
    std::thread::Builder::new().stack_size(16 << 20).spawn(long_chains).unwrap().join().unwrap();
}

fn long_chains() {
    let code = |q: &str| parse_return_expression(q, &["doc"]).map(|_| 0).unwrap_or_else(|e| e.code.0);
    for chain in [
        format!("RETURN 1{}", " + 1".repeat(20_000)),
        format!("RETURN @doc{}", ".a".repeat(20_000)),
        format!("RETURN @doc{}", "[0]".repeat(20_000)),
        format!("RETURN [1]{}", "[?]".repeat(20_000)),
        format!("RETURN [1]{}", " ANY == [1]".repeat(20_000)),
        format!("RETURN {}1{}", "[".repeat(600), "]".repeat(600)),
    ] {
        assert_eq!(code(&chain), 1501, "{}", &chain[..40]);
    }
    // Ordinary long expressions still parse and run.
    assert_eq!(run(&format!("RETURN 1{}", " + 1".repeat(400)), json!({})), json!(401));
}

#[test]
fn warnings_are_collected() {
    let e = parse_return_expression("RETURN [1 / 0, SUM('x')]", &["doc"]).unwrap();
    let binds = Map::new();
    let mut env = Env::new(&binds);
    assert_eq!(eval(&e, &mut env).unwrap(), json!([null, null]));
    let codes: Vec<i32> = env.warnings.iter().map(|(c, _)| c.0).collect();
    assert_eq!(codes, [1562, 1542]);
}

#[test]
fn array_operators_match_arangodb_examples() {
    let users = json!([
        {"name": "john", "age": 35, "friends": [{"name": "tina", "age": 43}, {"name": "helga", "age": 52}, {"name": "alfred", "age": 34}]},
        {"name": "yves", "age": 24, "friends": [{"name": "sergei", "age": 27}, {"name": "tiffany", "age": 25}]},
        {"name": "sandra", "age": 40, "friends": [{"name": "bob", "age": 32}, {"name": "elena", "age": 48}]}
    ]);
    let cases = [
        ("RETURN @doc[*].name", json!(["john", "yves", "sandra"])),
        ("RETURN @doc[0].friends[*].name", json!(["tina", "helga", "alfred"])),
        ("RETURN @doc[*].friends[*].name", json!([["tina", "helga", "alfred"], ["sergei", "tiffany"], ["bob", "elena"]])),
        ("RETURN (@doc[*].friends[*].name)[**]", json!(["tina", "helga", "alfred", "sergei", "tiffany", "bob", "elena"])),
        ("RETURN [[1, 2], 3, [4, 5], 6][** FILTER CURRENT % 2 == 0]", json!([2, 4, 6])),
        ("RETURN [[1, [2]], 3][***]", json!([1, 2, 3])),
        ("RETURN @doc[0].friends[* FILTER CURRENT.age > 40].name", json!(["tina", "helga"])),
        ("RETURN @doc[0].friends[* LIMIT 1].name", json!(["tina"])),
        ("RETURN @doc[0].friends[* LIMIT 1, 2].name", json!(["helga", "alfred"])),
        (
            "RETURN @doc[0].friends[* FILTER CONTAINS(CURRENT.name, 'a') AND CURRENT.age > 40 LIMIT 2 RETURN CONCAT(CURRENT.name, ' is ', CURRENT.age)]",
            json!(["tina is 43", "helga is 52"]),
        ),
        ("RETURN @doc[2].friends[* RETURN CURRENT.age].x", json!([null, null])),
        ("RETURN 1[*]", json!([])),
        ("RETURN [1, 2, 3, 4][? 2 FILTER CURRENT % 2 == 0]", json!(true)),
        ("RETURN [1, 2, 3, 4][? 3 FILTER CURRENT % 2 == 0]", json!(false)),
        ("RETURN [1, 2, 3, 4][? 1..2 FILTER CURRENT > 2]", json!(true)),
        ("RETURN [1, 2, 3, 4][? NONE FILTER CURRENT > 9]", json!(true)),
        ("RETURN [1, 2, 3, 4][? ALL FILTER CURRENT > 0]", json!(true)),
        ("RETURN [1, 2, 3, 4][? AT LEAST (3) FILTER CURRENT > 1]", json!(true)),
        ("RETURN [1][?] && ![][?] && !'x'[?]", json!(true)),
        ("RETURN [1, 2, 3] ALL IN [2, 3, 4]", json!(false)),
        ("RETURN [1, 2, 3] ALL IN [1, 2, 3]", json!(true)),
        ("RETURN [1, 2, 3] NONE IN [3]", json!(false)),
        ("RETURN [1, 2, 3] NONE IN [23, 42]", json!(true)),
        ("RETURN [1, 2, 3] ANY IN [4, 5, 6]", json!(false)),
        ("RETURN [1, 2, 3] ANY IN [1, 42]", json!(true)),
        ("RETURN [1, 2, 3] ANY == 2", json!(true)),
        ("RETURN [1, 2, 3] ANY == 4", json!(false)),
        ("RETURN [1, 2, 3] ANY > 0", json!(true)),
        ("RETURN [1, 2, 3] ANY <= 1", json!(true)),
        ("RETURN [1, 2, 3] NONE < 99", json!(false)),
        ("RETURN [1, 2, 3] NONE > 10", json!(true)),
        ("RETURN [1, 2, 3] ALL > 2", json!(false)),
        ("RETURN [1, 2, 3] ALL > 0", json!(true)),
        ("RETURN [1, 2, 3] ALL >= 3", json!(false)),
        ("RETURN ['foo', 'bar'] ALL != 'moo'", json!(true)),
        ("RETURN ['foo', 'bar'] NONE == 'bar'", json!(false)),
        ("RETURN ['foo', 'bar'] ANY == 'foo'", json!(true)),
        ("RETURN [1, 2, 3] AT LEAST (2) IN [2, 3, 4]", json!(true)),
        ("RETURN ['foo', 'bar'] AT LEAST (1+1) == 'foo'", json!(false)),
        ("RETURN [1, 2] ANY == 2 && 1 + 1 == 2", json!(true)),
        ("RETURN [3] ALL NOT IN [1, 2]", json!(true)),
        ("RETURN [1, 2] ALL NOT IN null", json!(false)),
        ("RETURN [1] NONE IN 'x'", json!(false)),
        ("RETURN [1][? 1.5]", json!(true)),
        ("RETURN [][? -1]", json!(true)),
        ("RETURN [1, 2][* LIMIT -1, 5]", json!([])),
    ];
    for (text, want) in cases {
        assert_eq!(run(text, users.clone()), want, "{text}");
    }
    for bad in ["RETURN [1] ALL + 2", "RETURN [1][* FILTER]", "RETURN [1][? FILTER CURRENT", "RETURN [1] AT LEAST 2 == 1"] {
        let e = parse_return_expression(bad, &["doc"]).expect_err(bad);
        assert_eq!(e.code.0, 1501, "{bad}: {e}");
    }
}
