//! The function library against ArangoDB 3.12's documented examples: each case is the
//! documented query and the result the documentation shows for it.

// The documented results spell out constants such as π as the digits ArangoDB prints.
#![allow(clippy::approx_constant)]

use serde_json::{json, Map, Value};

use crate::eval::{eval, Env};
use crate::parse_return_expression;

/// Evaluates `RETURN <expr>` and returns its value and the warning codes it raised.
fn run(text: &str) -> (Result<Value, i32>, Vec<i32>) {
    let e = match parse_return_expression(&format!("RETURN {text}"), &[]) {
        Ok(e) => e,
        Err(e) => return (Err(e.code.0), Vec::new()),
    };
    let binds = Map::new();
    let mut env = Env::new(&binds);
    let value = eval(&e, &mut env).map_err(|e| e.code.0);
    (value, env.warnings.iter().map(|(c, _)| c.0).collect())
}

fn check(cases: &[(&str, Value)]) {
    for (text, want) in cases {
        let (got, warnings) = run(text);
        assert_eq!(got, Ok(want.clone()), "{text} (warnings {warnings:?})");
    }
}

/// Cases that answer `null` with one warning of the given code.
fn check_warns(cases: &[(&str, i32)]) {
    for (text, code) in cases {
        let (got, warnings) = run(text);
        assert_eq!((got, warnings), (Ok(Value::Null), vec![*code]), "{text}");
    }
}

fn check_fails(cases: &[(&str, i32)]) {
    for (text, code) in cases {
        assert_eq!(run(text).0, Err(*code), "{text}");
    }
}

#[test]
fn string_functions() {
    check(&[
        ("CHAR_LENGTH({foo: 'bar'})", json!(13)),
        ("CONCAT([5, 6], {foo: 'bar'})", json!(r#"[5,6]{"foo":"bar"}"#)),
        ("CONCAT([null, false, 0, true, ''])", json!("false0true")),
        ("CONCAT_SEPARATOR(', ', [null, false, 0, true, ''])", json!("false, 0, true, ")),
        ("CRC32('foobar')", json!("D5F5C7F")),
        ("ENCODE_URI_COMPONENT('fünf %')", json!("f%C3%BCnf%20%25")),
        ("[FIND_FIRST('foobarbaz', 'ba', 4), FIND_FIRST('foobarbaz', 'ba', 0, 3)]", json!([6, -1])),
        ("[FIND_LAST('foobarbaz', 'ba'), FIND_LAST('foobarbaz', 'ba', 7), FIND_LAST('foobarbaz', 'ba', 0, 4)]", json!([6, -1, 3])),
        ("[FIND_FIRST('abc', '', 2), FIND_LAST('abc', ''), FIND_LAST('abc', '', 0, 1)]", json!([2, 3, 2])),
        ("FNV64('foobar')", json!("85944171F73967E8")),
        ("[IPV4_FROM_NUMBER(0), IPV4_FROM_NUMBER(134744072), IPV4_FROM_NUMBER(2130706433), IPV4_FROM_NUMBER(3232235521)]",
            json!(["0.0.0.0", "8.8.8.8", "127.0.0.1", "192.168.0.1"])),
        ("[IPV4_TO_NUMBER('0.0.0.0'), IPV4_TO_NUMBER('8.8.8.8'), IPV4_TO_NUMBER('127.0.0.1'), IPV4_TO_NUMBER('192.168.0.1')]",
            json!([0, 134744072, 2130706433, 3232235521u32])),
        ("[IS_IPV4('127.0.0.1'), IS_IPV4('8.8.8.8'), IS_IPV4('008.008.008.008'), IS_IPV4('12345.2.3.4'), IS_IPV4('12.34'), IS_IPV4(8888)]",
            json!([true, true, false, false, false, false])),
        ("[JSON_PARSE('123'), JSON_PARSE('[ true, false, null, -0.5 ]'), JSON_PARSE('\"abc\"')]", json!([123, [true, false, null, -0.5], "abc"])),
        ("[JSON_STRINGIFY(true), JSON_STRINGIFY('abc'), JSON_STRINGIFY([1, {'2': .5}])]", json!(["true", "\"abc\"", "[1,{\"2\":0.5}]"])),
        ("[LEVENSHTEIN_DISTANCE(' ', ''), LEVENSHTEIN_DISTANCE('der mötör trötet', 'der trötet')]", json!([1, 6])),
        ("LEVENSHTEIN_DISTANCE('The quick brown fox jumps over the lazy dog', 'The quick black dog jumps over the brown fox')", json!(13)),
        ("[LIKE('cart', 'ca_t'), LIKE('carrot', 'ca_t'), LIKE('carrot', 'ca%t')]", json!([true, false, true])),
        ("[LIKE('foo bar baz', 'bar'), LIKE('foo bar baz', '%bar%'), LIKE('bar', '%bar%')]", json!([false, true, true])),
        ("[LIKE('FoO bAr BaZ', 'fOo%bAz'), LIKE('FoO bAr BaZ', 'fOo%bAz', true)]", json!([false, true])),
        ("[LTRIM('  foo bar  '), LTRIM('--==[foo-bar]==--', '-=[]'), RTRIM('  foo bar  '), RTRIM('--==[foo-bar]==--', '-=[]')]",
            json!(["foo bar  ", "foo-bar]==--", "  foo bar", "--==[foo-bar"])),
        ("[NGRAM_POSITIONAL_SIMILARITY('quick fox', 'quick foxx', 2), NGRAM_POSITIONAL_SIMILARITY('quick fox', 'quick foxx', 3)]",
            json!([0.8888888955116272, 0.875])),
        ("[NGRAM_POSITIONAL_SIMILARITY('quick fox', 'quirky fox', 2), NGRAM_POSITIONAL_SIMILARITY('quick fox', 'quirky fox', 3)]",
            json!([0.7222222089767456, 0.6666666865348816])),
        ("[NGRAM_SIMILARITY('quick fox', 'quick foxx', 2), NGRAM_SIMILARITY('quick fox', 'quick foxx', 3)]", json!([0.8888888955116272, 0.875])),
        ("[NGRAM_SIMILARITY('quick fox', 'quirky fox', 2), NGRAM_SIMILARITY('quick fox', 'quirky fox', 3)]", json!([0.5555555820465088, 0.375])),
        (r#"REGEX_MATCHES("My-us3r_n4m3", "^[a-z0-9_-]{3,16}$", true)"#, json!(["My-us3r_n4m3"])),
        (r##"REGEX_MATCHES("#4d82h4", "^#?([a-f0-9]{6}|[a-f0-9]{3})$", true)"##, Value::Null),
        (r#"REGEX_MATCHES("john@doe.com", "^([a-z0-9_\\.-]+)@([\\da-z-]+)\\.([a-z\\.]{2,6})$", false)"#,
            json!(["john@doe.com", "john", "doe", "com"])),
        (r#"REGEX_SPLIT("This is a line.\n This is yet another line\r\n This again is a line.\r Mac line ", "\\.?\r\n|\r|\n")"#,
            json!(["This is a line.", " This is yet another line", " This again is a line.", " Mac line "])),
        (r#"REGEX_SPLIT("hypertext language, programming", "[\\s, ]+")"#, json!(["hypertext", "language", "programming"])),
        (r#"[REGEX_SPLIT("Capture the article", "(the)"), REGEX_SPLIT("Don't capture the article", "the")]"#,
            json!([["Capture ", "the", " article"], ["Don't capture ", " article"]])),
        (r#"REGEX_SPLIT("cA,Bc,A,BcA,BcA,Bc", "a,b", true, 3)"#, json!(["c", "c,", "c"])),
        (r#"[REGEX_TEST("the quick brown fox", "the.*fox"), REGEX_TEST("the quick brown fox", "^(a|the)\\s+(quick|slow).*f.x$")]"#,
            json!([true, true])),
        (r#"REGEX_TEST("the\nquick\nbrown\nfox", "^the(\n[a-w]+)+\nfox$")"#, json!(true)),
        (r#"[REGEX_REPLACE("the quick brown fox", "the.*fox", "jumped over"), REGEX_REPLACE("An Avocado", "a", "_")]"#,
            json!(["jumped over", "An Avoc_do"])),
        (r#"REGEX_REPLACE("An Avocado", "a", "_", true)"#, json!("_n _voc_do")),
        ("[REPEAT('foo', 3), REPEAT('foo', 3, ' | '), REPEAT(5, 5)]", json!(["foofoofoo", "foo | foo | foo", "55555"])),
        ("[REVERSE('电脑坏了'), LENGTH('电脑坏了'), LEFT('foobar', 10), RIGHT('foobar', 10)]", json!(["了坏脑电", 4, "foobar", "foobar"])),
        ("SHA1('foobar')", json!("8843d7f92416211de9ebb963ff4ce28125932878")),
        ("[SOUNDEX('example'), SOUNDEX('ekzampul'), SOUNDEX('soundex'), SOUNDEX('sounteks')]", json!(["E251", "E251", "S532", "S532"])),
        ("[SOUNDEX('Robert'), SOUNDEX('Rupert'), SOUNDEX('Tymczak'), SOUNDEX('Pfister'), SOUNDEX('')]", json!(["R163", "R163", "T522", "P236", ""])),
        ("[SPLIT('foo-bar-baz', '-'), SPLIT('foo-bar-baz', '-', 1), SPLIT('foo, bar & baz', [', ', ' & '])]",
            json!([["foo", "bar", "baz"], ["foo"], ["foo", "bar", "baz"]])),
        ("[SPLIT('abc', ''), SPLIT('abc')]", json!([["a", "b", "c"], ["abc"]])),
        ("[STARTS_WITH('foobar', 'foo'), STARTS_WITH('foobar', 'baz'), STARTS_WITH('foobar', ['bar', 'foo']), STARTS_WITH('foobar', ['bar', 'baz'])]",
            json!([true, false, true, false])),
        ("SUBSTITUTE('the quick brown foxx', 'quick', 'lazy')", json!("the lazy brown foxx")),
        ("SUBSTITUTE('the quick brown foxx', ['the', 'foxx'], ['that', 'dog'], 1)", json!("that quick brown foxx")),
        ("SUBSTITUTE('the quick brown foxx', ['the', 'quick', 'foxx'], ['A', 'VOID!'])", json!("A VOID! brown ")),
        ("SUBSTITUTE('the quick brown foxx', ['quick', 'foxx'], 'xx')", json!("the xx brown xx")),
        ("SUBSTITUTE('the quick brown foxx', {quick: 'small', brown: 'slow', foxx: 'ant'})", json!("the small slow ant")),
        ("SUBSTITUTE('the quick brown foxx', {quick: '', brown: null, foxx: 'ant'})", json!("the   ant")),
        ("SUBSTITUTE('the quick brown foxx', {quick: 'small', brown: 'slow', foxx: 'ant'}, 2)", json!("the small slow foxx")),
        // A replacement is not searched again.
        ("SUBSTITUTE('aaa', {a: 'ab', b: 'c'})", json!("ababab")),
        ("[SUBSTRING('Holy Guacamole!', 5), SUBSTRING('Holy Guacamole!', 10, 4), SUBSTRING('Holy Guacamole!', -5, 4)]",
            json!(["Guacamole!", "mole", "mole"])),
        ("[SUBSTRING_BYTES('We ❤️ avocado!', 10), SUBSTRING_BYTES('We ❤️ avocado!', 3, 3), SUBSTRING_BYTES('We ❤️ avocado!', -15, 6)]",
            json!(["avocado!", "❤", "❤️"])),
        ("SUBSTRING_BYTES('We ❤️ avocado!', 3, 3, 3, 5)", json!("We ❤️ avo")),
        ("[TO_BASE64('ABC.'), TO_BASE64('123456')]", json!(["QUJDLg==", "MTIzNDU2"])),
        ("[TO_CHAR(216), TO_CHAR(0x1F951)]", json!(["Ø", "🥑"])),
        ("[TO_HEX('ABC.'), TO_HEX('ü')]", json!(["4142432e", "c3bc"])),
        ("[TRIM('  foobar\\t \\r\\n '), TRIM(';foo;bar;baz, ', ',; '), TRIM('  foo  ', 1), TRIM('  foo  ', 2)]",
            json!(["foobar", "foo;bar;baz", "foo  ", "  foo"])),
        ("[UPPER('AVOcado'), LOWER('AVOcado')]", json!(["AVOCADO", "avocado"])),
        ("[LENGTH(RANDOM_TOKEN(8)), RANDOM_TOKEN(0), REGEX_TEST(RANDOM_TOKEN(100), '^[A-Za-z0-9]{100}$')]", json!([8, "", true])),
        ("REGEX_TEST(UUID(), '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')", json!(true)),
        ("UUID() != UUID()", json!(true)),
    ]);
    check_warns(&[
        ("IPV4_FROM_NUMBER(-23)", 1542),
        ("IPV4_TO_NUMBER('milk')", 1542),
        ("SUBSTRING_BYTES('We ❤️ avocado!', -15, 4)", 1542),
        ("REGEX_TEST('a', '(')", 1543),
        ("REGEX_REPLACE('a', '[', 'b')", 1543),
        ("REPEAT('x', 100000000)", 32),
        ("REPEAT('', 100000000, '-')", 32),
    ]);
    check_fails(&[("RANDOM_TOKEN(-1)", 1542), ("RANDOM_TOKEN(65537)", 1542)]);
}

#[test]
fn numeric_functions() {
    check(&[
        ("[ACOS(-1), ACOS(0), ACOS(1), ACOS(2)]", json!([3.141592653589793, 1.5707963267948966, 0, null])),
        ("[ATAN2(0, 0), ATAN2(1, 0), ATAN2(-10, 20)]", json!([0, 1.5707963267948966, -0.4636476090008061])),
        ("[AVERAGE([5, 2, 9, 2]), AVERAGE([-3, -5, 2]), AVERAGE([999, 80, 4, 4, 4, 3, 3, 3])]", json!([4.5, -2, 137.5])),
        ("[CEIL(2.49), CEIL(-2.50), FLOOR(-2.50), ROUND(2.49), ROUND(2.50), ROUND(-2.50), ROUND(-2.51)]", json!([3, -2, -3, 2, 3, -2, -3])),
        ("[COSINE_SIMILARITY([0,1], [1,0]), COSINE_SIMILARITY([-1,0], [1,0])]", json!([0, -1])),
        ("COSINE_SIMILARITY([[0,1,0,1],[1,0,0,1],[1,1,1,0],[0,0,0,1]], [1,1,1,1])",
            json!([0.7071067811865475, 0.7071067811865475, 0.8660254037844387, 0.5])),
        ("[DECAY_GAUSS(41, 40, 5, 5, 0.5), DECAY_GAUSS([20, 41], 40, 5, 5, 0.5)]", json!([1, [0.0019531250000000017, 1]])),
        ("[DECAY_EXP(41, 40, 5, 5, 0.7), DECAY_EXP(2, 0, 10, 0, 0.2), DECAY_EXP(49.9889, 50, 0.001, 0.001, 0.2)]",
            json!([1, 0.7247796636776955, 8.717720806626885e-08])),
        ("[DECAY_LINEAR(41, 40, 5, 5, 0.5), DECAY_LINEAR(9.8, 0, 10, 0, 0.2), DECAY_LINEAR(5..7, 0, 10, 0, 0.2)]",
            json!([1, 0.21599999999999994, [0.6, 0.52, 0.44]])),
        ("[EXP(1), EXP2(16), LOG(0), LOG(10), LOG2(0), LOG10(10000)]", json!([2.718281828459045, 65536, null, 2.302585092994046, null, 4])),
        ("[L1_DISTANCE([-1,-1], [2,2]), L1_DISTANCE([1.5], [3]), L1_DISTANCE([[1,2,3],[-1,-2,-3],[3,4,5],[-5,2,1]], [1,1,1])]",
            json!([6, 1.5, [3, 9, 9, 7]])),
        ("[L2_DISTANCE([1,1], [5,2]), L2_DISTANCE([0,1], [1,0])]", json!([4.123105625617661, 1.4142135623730951])),
        ("L2_DISTANCE([[1,2,3], [4,5,6], [7,8,9]], [3,2,1])", json!([2.8284271247461903, 5.916079783099616, 10.770329614269007])),
        ("[MAX([5, 9, -2, null, 1]), MAX([null, null]), MIN([5, 9, -2, null, 1]), MIN([null, null])]", json!([9, null, -2, null])),
        ("[MEDIAN([1, 2, 3]), MEDIAN([4, 2, 3, 1]), MEDIAN([999, 80, 4, 4, 4, 3, 3, 3])]", json!([2, 2.5, 4])),
        ("[PERCENTILE([1, 2, 3, 4], 50), PERCENTILE([1, 2, 3, 4], 50, 'rank'), PERCENTILE([1, 2, 3, 4], 50, 'interpolation')]",
            json!([2, 2, 2.5])),
        ("[PERCENTILE([], 50), PERCENTILE([null], 50), PERCENTILE([4, 1], 0), PERCENTILE([4, 1], 100, 'interpolation')]",
            json!([null, null, 1, 4])),
        ("[POW(2, 4), POW(5, -1), POW(5, 0), POW(4096, 1/4), POW(27, 1/3)]", json!([16, 0.2, 1, 8, 3])),
        ("[PRODUCT([null, -5, 6]), PRODUCT([]), SUM([null, -5, 6]), SUM([])]", json!([-30, 1, 1, 0])),
        ("[RADIANS(180), DEGREES(0.7853981633974483), SQRT(2), TAN(5)]", json!([3.141592653589793, 45, 1.4142135623730951, -3.380515006246586])),
        ("[RANGE(1, 4), RANGE(1, 4, 2), RANGE(1, 4, 3), RANGE(1.5, 2.5), RANGE(1.5, 2.5, 1), RANGE(1.5, 2.5, 0.5)]",
            json!([[1, 2, 3, 4], [1, 3], [1, 4], [1, 2], [1.5, 2.5], [1.5, 2, 2.5]])),
        ("RANGE(-0.75, 1.1, 0.5)", json!([-0.75, -0.25, 0.25, 0.75])),
        ("[STDDEV_POPULATION([1, 3, 6, 5, 2]), STDDEV_SAMPLE([1, 3, 6, 5, 2])]", json!([1.854723699099141, 2.0736441353327724])),
        ("[VARIANCE_POPULATION([1, 3, 6, 5, 2]), VARIANCE_SAMPLE([1, 3, 6, 5, 2])]", json!([3.4400000000000004, 4.300000000000001])),
        ("[RAND() >= 0 && RAND() < 1, RANDOM() < 1, RAND() != RAND()]", json!([true, true, true])),
    ]);
    // The documentation shows 0.2715403018822964: its C library rounds the last bit apart.
    let gauss = run("DECAY_GAUSS(49.9889, 49.987, 0.001, 0.001, 0.2)").0.ok().and_then(|v| v.as_f64());
    assert!(gauss.is_some_and(|g| (g - 0.2715403018822964).abs() < 1e-15), "{gauss:?}");
    check_warns(&[
        ("COSINE_SIMILARITY([1, 2], [1])", 1542),
        ("L1_DISTANCE('x', [1])", 1542),
        ("DECAY_GAUSS(1, 0, 0, 0, 0.5)", 1542),
        ("DECAY_EXP(1, 0, 1, 0, 1)", 1542),
        ("PERCENTILE([1], 101)", 1542),
        ("PERCENTILE([1], 50, 'other')", 1542),
    ]);
    check_fails(&[("RANGE(0, 1e12)", 32)]);
}

#[test]
fn bit_functions() {
    check(&[
        ("[BIT_AND([1, 4, 8, 16]), BIT_AND([3, 7, 63]), BIT_AND([255, 127, null, 63]), BIT_AND(127, 255)]", json!([0, 3, 63, 127])),
        ("[BIT_CONSTRUCT([1, 2, 3]), BIT_CONSTRUCT([0, 4, 8]), BIT_CONSTRUCT([0, 1, 10, 31])]", json!([14, 273, 2147484675u32])),
        ("[BIT_DECONSTRUCT(14), BIT_DECONSTRUCT(273), BIT_DECONSTRUCT(2147484675)]", json!([[1, 2, 3], [0, 4, 8], [0, 1, 10, 31]])),
        // The documentation prints 1048756 for the last one, a typo for 2^20.
        ("[BIT_FROM_STRING('0111'), BIT_FROM_STRING('000000000000010'), BIT_FROM_STRING('11010111011101'), BIT_FROM_STRING('100000000000000000000')]",
            json!([7, 2, 13789, 1048576])),
        ("[BIT_NEGATE(0, 8), BIT_NEGATE(0, 10), BIT_NEGATE(3, 4), BIT_NEGATE(446359921, 32)]", json!([255, 1023, 12, 3848607374u32])),
        ("[BIT_OR([1, 4, 8, 16]), BIT_OR([3, 7, 63]), BIT_OR([255, 127, null, 63]), BIT_OR(255, 127)]", json!([29, 63, 255, 255])),
        ("[BIT_POPCOUNT(0), BIT_POPCOUNT(255), BIT_POPCOUNT(69399252)]", json!([0, 8, 12])),
        ("[BIT_SHIFT_LEFT(0, 1, 8), BIT_SHIFT_LEFT(7, 1, 16), BIT_SHIFT_LEFT(2, 10, 16), BIT_SHIFT_LEFT(878836, 16, 32)]", json!([0, 14, 2048, 1760821248])),
        ("[BIT_SHIFT_RIGHT(0, 1, 8), BIT_SHIFT_RIGHT(33, 1, 16), BIT_SHIFT_RIGHT(65536, 13, 16), BIT_SHIFT_RIGHT(878836, 4, 32)]", json!([0, 16, 8, 54927])),
        ("[BIT_TEST(0, 3), BIT_TEST(255, 0), BIT_TEST(7, 2), BIT_TEST(255, 8)]", json!([false, true, true, false])),
        ("[BIT_TO_STRING(7, 4), BIT_TO_STRING(255, 8), BIT_TO_STRING(60, 8), BIT_TO_STRING(1048576, 32)]",
            json!(["0111", "11111111", "00111100", "00000000000100000000000000000000"])),
        ("[BIT_XOR([1, 4, 8, 16]), BIT_XOR([3, 7, 63]), BIT_XOR([255, 127, null, 63]), BIT_XOR(255, 257)]", json!([29, 59, 191, 510])),
    ]);
    check_warns(&[
        ("BIT_AND('foo')", 1542),
        ("BIT_OR('foo')", 1542),
        ("BIT_XOR('foo')", 1542),
        ("BIT_POPCOUNT('foo')", 1542),
        ("BIT_POPCOUNT(4294967296)", 1542),
        ("BIT_AND([1, -1])", 1542),
        ("BIT_CONSTRUCT([32])", 1542),
        ("BIT_NEGATE(1, 33)", 1542),
        ("BIT_FROM_STRING('0b11')", 1542),
    ]);
}

#[test]
fn type_functions() {
    check(&[
        ("[TO_STRING(null), TO_STRING(true), TO_STRING(123), TO_STRING(-1.23), TO_STRING([1, 2, 3])]", json!(["", "true", "123", "-1.23", "[1,2,3]"])),
        ("TO_STRING({foo: 'bar', baz: null})", json!(r#"{"foo":"bar","baz":null}"#)),
        ("[TO_ARRAY(null), TO_ARRAY(false), TO_ARRAY(5), TO_ARRAY('foo'), TO_ARRAY({foo: 1, bar: 2, baz: [3, 4, 5]})]",
            json!([[], [false], [5], ["foo"], [1, 2, [3, 4, 5]]])),
        ("[TO_LIST(null), TO_LIST(5), TO_LIST([1])]", json!([[], [5], [1]])),
        ("[!!1, !!0, !!-0.0, !!'non-empty string', !!'']", json!([true, false, false, true, false])),
        ("[IS_LIST([]), IS_LIST({}), IS_DOCUMENT({}), IS_DOCUMENT([])]", json!([true, false, true, false])),
        (r#"[IS_KEY("abc-1_:.@()+,=;$!*'%"), IS_KEY(''), IS_KEY('a/b'), IS_KEY('ü'), IS_KEY(1)]"#, json!([true, false, false, false, false])),
        ("[IS_DATESTRING('2015'), IS_DATESTRING('2015-10'), IS_DATESTRING('2015-02-31'), IS_DATESTRING('foo'), IS_DATESTRING(1)]",
            json!([true, true, true, false, false])),
        ("[TYPENAME(null), TYPENAME(false), TYPENAME(-4.56), TYPENAME('123'), TYPENAME([]), TYPENAME({})]",
            json!(["null", "bool", "number", "string", "array", "object"])),
    ]);
}

#[test]
fn array_functions() {
    check(&[
        ("[APPEND([1, 2, 3], [5, 6, 9]), APPEND([1, 2, 3], [3, 4, 5, 2, 9], true)]", json!([[1, 2, 3, 5, 6, 9], [1, 2, 3, 4, 5, 9]])),
        ("[APPEND(null, [1]), APPEND([1], null), APPEND([1], 2)]", json!([[1], [1], [1, 2]])),
        ("[CONTAINS_ARRAY([2, 4, 6, 8], 4), CONTAINS_ARRAY([2, 4, 6, 8], 4, true), POSITION([2, 4, 6, 8], 5, true)]", json!([true, 1, -1])),
        ("[COUNT_DISTINCT(['yes', 'no', 'yes', 'sauron', 'no', 'yes']), COUNT_UNIQUE([1, 1])]", json!([3, 1])),
        ("FLATTEN([1, 2, [3, 4], 5, [6, 7], [8, [9, 10]]])", json!([1, 2, 3, 4, 5, 6, 7, 8, [9, 10]])),
        ("FLATTEN([1, 2, [3, 4], 5, [6, 7], [8, [9, 10]]], 2)", json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
        ("[INTERLEAVE([1, 1, 1], [2, 2, 2], [3, 3, 3]), INTERLEAVE([1], [2, 2], [3, 3, 3])]", json!([[1, 2, 3, 1, 2, 3, 1, 2, 3], [1, 2, 3, 2, 3, 3]])),
        // The order of set results is unspecified, so these are sorted.
        ("SORTED(INTERSECTION([1,2,3,4,5], [2,3,4,5,6], [3,4,5,6,7]))", json!([3, 4, 5])),
        ("INTERSECTION([2,4,6], [8,10,12], [14,16,18])", json!([])),
        ("[SORTED(MINUS([1,2,3,4], [3,4,5,6], [5,6,7,8])), SORTED(OUTERSECTION([1, 2, 3], [2, 3, 4], [3, 4, 5]))]", json!([[1, 2], [1, 5]])),
        ("[UNION([1, 2, 3], [1, 2]), SORTED(UNION_DISTINCT([1, 2, 3], [1, 2]))]", json!([[1, 2, 3, 1, 2], [1, 2, 3]])),
        ("[JACCARD([1,2,3,4], [3,4,5,6]), JACCARD([1,1,2,2,2,3], [2,2,3,4]), JACCARD([1,2,3], []), JACCARD([], [])]",
            json!([0.3333333333333333, 0.5, 0, 1])),
        ("[LENGTH('🥑'), LENGTH(1234), LENGTH([1,2,3,4,5,6,7]), LENGTH(false), LENGTH(true), LENGTH({a:1, b:2, c:3, d:4, e:{f:5,g:6}})]",
            json!([1, 4, 7, 0, 1, 5])),
        ("[NTH(['foo', 'bar', 'baz'], 2), NTH(['foo', 'bar', 'baz'], 3), NTH(['foo', 'bar', 'baz'], -1)]", json!(["baz", null, null])),
        ("[POP([1, 2, 3, 4]), POP([1]), SHIFT([1, 2, 3, 4]), SHIFT([1])]", json!([[1, 2, 3], [], [2, 3, 4], []])),
        ("[PUSH([1, 2, 3], 4), PUSH([1, 2, 2, 3], 2, true), UNSHIFT([1, 2, 3], 4), UNSHIFT([1, 2, 3], 2, true)]",
            json!([[1, 2, 3, 4], [1, 2, 2, 3], [4, 1, 2, 3], [1, 2, 3]])),
        ("[REMOVE_NTH(['a', 'b', 'c', 'd', 'e'], 1), REMOVE_NTH(['a', 'b', 'c', 'd', 'e'], -2)]", json!([["a", "c", "d", "e"], ["a", "b", "c", "e"]])),
        ("[REPLACE_NTH(['a', 'b', 'c'], 1, 'z'), REPLACE_NTH(['a', 'b', 'c'], 3, 'z'), REPLACE_NTH(['a', 'b', 'c'], 6, 'z', 'y')]",
            json!([["a", "z", "c"], ["a", "b", "c", "z"], ["a", "b", "c", "y", "y", "y", "z"]])),
        ("[REPLACE_NTH(['a', 'b', 'c'], -1, 'z'), REPLACE_NTH(['a', 'b', 'c'], -9, 'z')]", json!([["a", "b", "z"], ["z", "b", "c"]])),
        ("[REMOVE_VALUE(['a', 'b', 'b', 'a', 'c'], 'a'), REMOVE_VALUES(['a', 'a', 'b', 'c', 'd', 'e', 'f'], ['a', 'f', 'd'])]",
            json!([["b", "b", "c"], ["b", "c", "e"]])),
        ("[REVERSE([2,4,6,8,10]), SORTED([8,4,2,10,6]), UNIQUE([1,2,2,3,3,3])]", json!([[10, 8, 6, 4, 2], [2, 4, 6, 8, 10], [1, 2, 3]])),
        ("[SLICE([1, 2, 3, 4, 5], 0, 1), SLICE([1, 2, 3, 4, 5], 3), SLICE([1, 2, 3, 4, 5], 1, -1), SLICE([1, 2, 3, 4, 5], 0, -2), SLICE([1, 2, 3, 4, 5], -3, 2)]",
            json!([[1], [4, 5], [2, 3, 4], [1, 2, 3], [3, 4]])),
    ]);
    check_warns(&[("INTERLEAVE([1], 2)", 1542), ("JACCARD([1], 'x')", 1542), ("REPLACE_NTH('x', 1, 2)", 1542)]);
    check_fails(&[
        ("REPLACE_NTH(['a', 'b', 'c'], 6, 'z')", 1542),
        ("REPLACE_NTH([], 1e15, 'z', 'y')", 32),
        ("INTERSECTION([1])", 1541),
    ]);
}

#[test]
fn object_functions() {
    let doc = "{ foo: { bar: { foo: 1, baz: 2 }, baz: 3 }, baz: 4 }";
    let with_doc = |f: &str| f.replace("doc", doc);
    let cases: Vec<(String, Value)> = vec![
        (with_doc("KEEP(doc, 'foo')"), json!({"foo": {"bar": {"foo": 1, "baz": 2}, "baz": 3}})),
        (with_doc("[KEEP(doc, 'bar'), KEEP(doc, 'baz'), KEEP(doc, ['foo', 'baz'])]"),
            json!([{}, {"baz": 4}, {"baz": 4, "foo": {"bar": {"foo": 1, "baz": 2}, "baz": 3}}])),
        (with_doc("[KEEP_RECURSIVE(doc, 'foo'), KEEP_RECURSIVE(doc, 'bar'), KEEP_RECURSIVE(doc, 'baz')]"), json!([{"foo": {}}, {}, {"baz": 4}])),
        (with_doc("[KEEP_RECURSIVE(doc, 'foo', 'bar'), KEEP_RECURSIVE(doc, 'foo', 'baz'), KEEP_RECURSIVE(doc, ['foo', 'baz'])]"),
            json!([{"foo": {"bar": {"foo": 1}}}, {"baz": 4, "foo": {"baz": 3}}, {"baz": 4, "foo": {"baz": 3}}])),
        (with_doc("KEEP_RECURSIVE(doc, 'foo', 'bar', 'baz')"), json!({"baz": 4, "foo": {"bar": {"baz": 2, "foo": 1}, "baz": 3}})),
        (with_doc("[UNSET(doc, 'foo'), UNSET(doc, 'foo', 'baz'), UNSET(doc, ['foo', 'bar'])]"), json!([{"baz": 4}, {}, {"baz": 4}])),
        (with_doc("[UNSET_RECURSIVE(doc, 'foo'), UNSET_RECURSIVE(doc, 'bar'), UNSET_RECURSIVE(doc, 'baz')]"),
            json!([{"baz": 4}, {"baz": 4, "foo": {"baz": 3}}, {"foo": {"bar": {"foo": 1}}}])),
        (with_doc("[UNSET_RECURSIVE(doc, 'foo', 'bar'), UNSET_RECURSIVE(doc, 'foo', 'baz'), UNSET_RECURSIVE(doc, ['baz'])]"),
            json!([{"baz": 4}, {}, {"foo": {"bar": {"foo": 1}}}])),
    ];
    for (text, want) in &cases {
        assert_eq!(run(text).0, Ok(want.clone()), "{text}");
    }
    check(&[
        ("SORTED(ATTRIBUTES({foo: 'bar', _key: '123', _custom: 'yes'}))", json!(["_custom", "_key", "foo"])),
        ("[ATTRIBUTES({foo: 'bar', _key: '123', _custom: 'yes'}, true), ATTRIBUTES({foo: 'bar', _key: '123', _custom: 'yes'}, false, true)]",
            json!([["foo"], ["_custom", "_key", "foo"]])),
        ("KEYS({b: 1, a: 2}, false, true)", json!(["a", "b"])),
        ("ENTRIES({foo: 'bar', number: 123})", json!([["foo", "bar"], ["number", 123]])),
        ("[HAS({name: 'Jane'}, 'name'), HAS({name: 'Jane'}, 'age'), HAS({name: null}, 'name')]", json!([true, false, true])),
        ("[IS_SAME_COLLECTION('_users', '_users/my-user'), IS_SAME_COLLECTION('_users', {_id: '_users/my-user'})]", json!([true, true])),
        ("[IS_SAME_COLLECTION('_users', 'foobar/baz'), IS_SAME_COLLECTION('_users', {_id: 'something/else'})]", json!([false, false])),
        ("LENGTH({name: 'Emma', age: 36, phone: {mobile: '...'}})", json!(3)),
        ("MATCHES({name: 'jane', age: 27, active: true}, {age: 27, active: true})", json!(true)),
        ("MATCHES({test: 1}, [{test: 1, foo: 'bar'}, {foo: 1}, {test: 1}], true)", json!(2)),
        ("MERGE({users: {name: 'Jane'}}, {users: {name: 'Tom'}})", json!({"users": {"name": "Tom"}})),
        ("MERGE([{foo: 'bar'}, {quux: 'quetzalcoatl', ruled: true}, {bar: 'baz', foo: 'done'}])",
            json!({"foo": "done", "bar": "baz", "ruled": true, "quux": "quetzalcoatl"})),
        ("MERGE_RECURSIVE({'user-1': {name: 'Jane', livesIn: {city: 'LA'}}}, {'user-1': {age: 42, livesIn: {state: 'CA'}}})",
            json!({"user-1": {"livesIn": {"city": "LA", "state": "CA"}, "name": "Jane", "age": 42}})),
        ("MERGE_RECURSIVE([{'user-1': {name: 'Jane', livesIn: {city: 'LA'}}}, {'user-1': {age: 42, livesIn: {city: 'NY'}}}])",
            json!({"user-1": {"livesIn": {"city": "NY"}, "name": "Jane", "age": 42}})),
        ("[PARSE_COLLECTION('_users/my-user'), PARSE_COLLECTION({_id: 'mycollection/mykey', value: 'some value'})]", json!(["_users", "mycollection"])),
        ("[PARSE_KEY('_users/my-user'), PARSE_KEY({_id: 'mycollection/mykey', value: 'some value'})]", json!(["my-user", "mykey"])),
        ("PARSE_IDENTIFIER('_users/my-user')", json!({"collection": "_users", "key": "my-user"})),
        ("PARSE_IDENTIFIER({_id: 'mycollection/mykey', value: 'some value'})", json!({"collection": "mycollection", "key": "mykey"})),
        ("TRANSLATE('FR', {US: 'United States', UK: 'United Kingdom', FR: 'France'})", json!("France")),
        ("[TRANSLATE(42, {foo: 'bar', bar: 'baz'}), TRANSLATE(42, {foo: 'bar', bar: 'baz'}, 'not found!'), TRANSLATE(42, {'42': true})]",
            json!([42, "not found!", true])),
        ("VALUE({foo: {bar: 'baz'}}, ['foo', 'bar'])", json!("baz")),
        ("VALUE({foo: [{bar: 'baz'}, {bar: {inner: true}}]}, ['foo', 1, 'bar'])", json!({"inner": true})),
        ("[VALUE({foo: [1, 2]}, ['foo', -1]), VALUE({foo: 1}, ['foo', 'x']), VALUE({foo: 1}, [])]", json!([2, null, {"foo": 1}])),
        ("[VALUES({_id: 'users/jane', name: 'Jane', age: 35}), VALUES({_id: 'users/jane', name: 'Jane', age: 35}, true)]",
            json!([["users/jane", "Jane", 35], ["Jane", 35]])),
        ("ZIP(['name', 'active', 'hobbies'], ['some user', true, ['swimming', 'riding']])",
            json!({"name": "some user", "active": true, "hobbies": ["swimming", "riding"]})),
    ]);
    check_warns(&[
        ("PARSE_IDENTIFIER(1)", 1542),
        ("PARSE_KEY({})", 1542),
        ("IS_SAME_COLLECTION('_users', 1)", 1542),
        ("MERGE_RECURSIVE({}, 1)", 1542),
        ("VALUE([], ['a'])", 1542),
        ("TRANSLATE('a', 1)", 1542),
    ]);
}

#[test]
fn miscellaneous_functions() {
    check(&[
        ("[FIRST_DOCUMENT(1, [], {a: 1}, {b: 2}), FIRST_DOCUMENT(1, null)]", json!([{"a": 1}, null])),
        ("[FIRST_LIST(1, {}, [2], [3]), FIRST_LIST('x')]", json!([[2], null])),
        ("[MIN_MATCH(1 == 1, 2 == 3, 3 == 3, 2), MIN_MATCH(1 == 2, 2 == 3, 3 == 3, 2)]", json!([true, false])),
        ("[IN_RANGE(4, 3, 5, true, true), IN_RANGE(3, 3, 5, false, true), IN_RANGE(5, 3, 5, false, true), IN_RANGE(6, 3, 5, false, true)]",
            json!([true, false, true, false])),
        ("[IN_RANGE('fox grape', 'fo', 'fp', true, false), IN_RANGE('fennel', 'fo', 'fp', true, false), IN_RANGE('fp', 'fo', 'fp', true, false)]",
            json!([true, false, false])),
        ("[NOT_NULL(null, 2), NOT_NULL(null, null)]", json!([2, null])),
        ("[MINHASH_COUNT(0.05), MINHASH_ERROR(400)]", json!([400, 0.05])),
        ("[NOOPT(1), NOEVAL('a'), PASSTHRU([1]), V8(1 + 1)]", json!([1, "a", [1], 2])),
        ("VERSION()", json!("3.12.4")),
        ("[ASSERT(1 == 1, 'no'), WARN(true, 'no')]", json!([true, true])),
        ("HASH({a: 1, b: [1, '1']}) == HASH({b: [1, '1'], a: 1})", json!(true)),
        ("[HASH(1) != HASH('1'), HASH([1, 2]) != HASH([2, 1]), HASH(null) <= 9007199254740991]", json!([true, true, true])),
        ("DECODE_REV('_YU0HOEG---')", json!({"date": "2019-03-11T16:15:05.314Z", "count": 0})),
    ]);
    let (value, warnings) = run("WARN(1 == 2, 'custom warning')");
    assert_eq!((value, warnings), (Ok(json!(false)), vec![1594]));
    check_fails(&[("ASSERT(1 == 2, 'custom error')", 1593), ("FAIL('reason')", 1569), ("FAIL()", 1569)]);
    check_warns(&[("DECODE_REV('not a revision!')", 1542), ("MINHASH_COUNT(1)", 1542)]);
}

#[test]
fn date_functions() {
    check(&[
        ("[DATE_DAYOFWEEK('2020-08-29'), DATE_DAYOFWEEK(0), DATE_DAYOFWEEK('2023-03-25T23:00:00.000Z', 'Europe/Berlin')]", json!([6, 4, 0])),
        ("[DATE_YEAR('2020-08-29'), DATE_YEAR(0), DATE_YEAR('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([2020, 1970, 2024])),
        ("[DATE_MONTH('2020-08-29'), DATE_MONTH(0), DATE_MONTH('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([8, 1, 1])),
        ("[DATE_DAY('2020-08-29'), DATE_DAY(0), DATE_DAY('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([29, 1, 1])),
        ("[DATE_HOUR('2020-08-29T16:30:05.123'), DATE_HOUR(14400000), DATE_HOUR('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([16, 4, 0])),
        ("[DATE_HOUR(2 * 60 * 60 * 1000), DATE_HOUR('1970-01-01T02:00:00')]", json!([2, 2])),
        ("[DATE_MINUTE('2020-08-29T16:30:05.123'), DATE_MINUTE(2520000), DATE_MINUTE('2023-12-31T23:00:00.000Z', 'Asia/Kathmandu')]", json!([30, 42, 45])),
        ("[DATE_SECOND('2020-08-29T16:30:05.123'), DATE_SECOND(1234567890), DATE_MILLISECOND('2020-08-29T16:30:05.123'), DATE_MILLISECOND(1234567890)]",
            json!([5, 7, 123, 890])),
        ("[DATE_DAYOFYEAR('2020-08-29'), DATE_DAYOFYEAR(86400000), DATE_DAYOFYEAR('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([242, 2, 1])),
        ("[DATE_ISOWEEK('2020-08-29'), DATE_ISOWEEK(1234567890)]", json!([35, 3])),
        ("[DATE_ISOWEEKYEAR('2023-01-01'), DATE_ISOWEEKYEAR('2019-12-30')]", json!([{"week": 52, "year": 2022}, {"week": 1, "year": 2020}])),
        ("[DATE_LEAPYEAR('2020-01-01'), DATE_LEAPYEAR('2021-01-01'), DATE_LEAPYEAR('2016-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([true, false, false])),
        ("[DATE_QUARTER('2020-08-29'), DATE_QUARTER('2023-12-31T23:00:00.000Z', 'Europe/Berlin')]", json!([3, 1])),
        ("[DATE_DAYS_IN_MONTH('2020-08-01'), DATE_DAYS_IN_MONTH('2020-09-01'), DATE_DAYS_IN_MONTH('2020-02-01'), DATE_DAYS_IN_MONTH('2021-02-01')]",
            json!([31, 30, 29, 28])),
        ("[DATE_DAYS_IN_MONTH(3045600000), DATE_DAYS_IN_MONTH('2023-11-30T23:00:00.000Z', 'Europe/Berlin')]", json!([28, 31])),
        ("[DATE_TIMESTAMP('2014-05-07T14:19:09.522'), DATE_TIMESTAMP('2014-05-07 14:19:09.522Z'), DATE_TIMESTAMP(2014, 5, 7, 14, 19, 9, 522)]",
            json!([1399472349522i64, 1399472349522i64, 1399472349522i64])),
        ("[DATE_ISO8601('2014-05-07 14:19:09.522Z'), DATE_ISO8601(2014, 5, 7, 14, 19, 9, 522), DATE_ISO8601(1399472349522)]",
            json!(["2014-05-07T14:19:09.522Z", "2014-05-07T14:19:09.522Z", "2014-05-07T14:19:09.522Z"])),
        ("[DATE_TIMESTAMP(2016, 2, 32), DATE_TIMESTAMP(1970, 1, 1, 26)]", json!([1456963200000i64, 93600000])),
        ("[DATE_ISO8601('2014-05-07T14:19:09+01:00'), DATE_ISO8601('2014-05-07Z'), DATE_ISO8601('2015-02-31'), DATE_ISO8601('2016')]",
            json!(["2014-05-07T13:19:09.000Z", "2014-05-07T00:00:00.000Z", "2015-03-03T00:00:00.000Z", "2016-01-01T00:00:00.000Z"])),
        ("[DATE_TRUNC('2017-02-03', 'month'), DATE_TRUNC('2017-02-03 04:05:06', 'hours'), DATE_TRUNC('2023-03-25 23:00:00', 'day')]",
            json!(["2017-02-01T00:00:00.000Z", "2017-02-03T04:00:00.000Z", "2023-03-25T00:00:00.000Z"])),
        ("[DATE_TRUNC('2023-03-25 23:00:00', 'day', 'Europe/Berlin'), DATE_TRUNC('2018-07-11', 'year')]",
            json!(["2023-03-25T23:00:00.000Z", "2018-01-01T00:00:00.000Z"])),
        ("[DATE_ROUND('2000-04-28T11:11:11.111Z', 1, 'day'), DATE_ROUND('2000-04-10T11:39:29Z', 15, 'minutes')]",
            json!(["2000-04-28T00:00:00.000Z", "2000-04-10T11:30:00.000Z"])),
        ("[DATE_ROUND('2023-03-25T23:55:55.555Z', 1, 'day'), DATE_ROUND('2023-03-25T23:55:55.555Z', 1, 'day', 'Europe/Berlin')]",
            json!(["2023-03-25T00:00:00.000Z", "2023-03-25T23:00:00.000Z"])),
        ("[DATE_ROUND('2019-12-04T21:17:52.583Z', 5, 'minutes'), DATE_ROUND('2019-12-04T21:21:53.610Z', 5, 'minutes')]",
            json!(["2019-12-04T21:15:00.000Z", "2019-12-04T21:20:00.000Z"])),
        ("[DATE_FORMAT('1969', \"Summer of '%yy\"), DATE_FORMAT('2016', '%%l = %l'), DATE_FORMAT('2016-03-01', '%xxx%')]",
            // The documentation says "063" for the last, but March 1st is day 61 of 2016.
            json!(["Summer of '69", "%l = 1", "061"])),
        ("DATE_FORMAT('2015-09-18T15:30:49.374Z', '%dd.%mm.%yyyy %hh:%ii:%ss,%fff - %q/%yyyy')", json!("18.09.2015 15:30:49,374 - 3/2015")),
        ("DATE_FORMAT('2023-03-05T07:08:09.004Z', '%y %m %d %h %i %s %f %x %k %kk %a %w %www %wwww %mmm %mmmm %yyyyyy %t %z')",
            json!("2023 3 5 7 8 9 4 64 9 09 31 0 Sun Sunday Mar March +002023 1678000089004 2023-03-05T07:08:09.004Z")),
        ("[DATE_FORMAT('2023-05-01', '%m%&month'), DATE_FORMAT('2023-05-01', '%mmonth'), DATE_FORMAT('2023-05-01', '%Y-%MM')]",
            json!(["5month", "05onth", "2023-05"])),
        ("[DATE_FORMAT('2023-03-25T23:00:00.000Z', '%w'), DATE_FORMAT('2023-12-31T23:00:00.000Z', '%yyyy'), DATE_FORMAT('2023-12-31T23:00:00.000Z', '%x')]",
            json!(["6", "2023", "365"])),
        ("[DATE_FORMAT('2023-12-31T23:00:00.000Z', '%k'), DATE_FORMAT('2016-12-31T23:00:00.000Z', '%l'), DATE_FORMAT('2023-11-30T23:00:00.000Z', '%t')]",
            json!(["52", "1", "1701385200000"])),
        ("[DATE_FORMAT('2023-03-25T23:00:00.000Z', '%w', 'Europe/Berlin'), DATE_FORMAT('2023-12-31T23:00:00.000Z', '%yyyy', 'Europe/Berlin')]",
            json!(["0", "2024"])),
        ("[DATE_FORMAT('2023-12-31T23:00:00.000Z', '%i', 'Asia/Kathmandu'), DATE_FORMAT('2023-12-31T23:00:00.000Z', '%k', 'Europe/Berlin')]",
            json!(["45", "1"])),
        ("DATE_FORMAT('2023-11-30T23:00:00.000Z', '%a', 'Europe/Berlin')", json!("31")),
        ("[DATE_ADD('2023-03-25T23:00:00.000Z', 1, 'day'), DATE_ADD('2023-03-25T23:00:00.000Z', 1, 'day', 'Europe/Berlin')]",
            json!(["2023-03-26T23:00:00.000Z", "2023-03-26T22:00:00.000Z"])),
        ("[DATE_ADD(DATE_ADD('2015-04-01', 5, 'years'), 1, 'month'), DATE_ADD('2015-04-01', 12*5 + 1, 'months')]",
            json!(["2020-05-01T00:00:00.000Z", "2020-05-01T00:00:00.000Z"])),
        ("[DATE_ADD('2000-01-01', 'PT4H'), DATE_ADD('2000-01-01', 'PT30M44.4S'), DATE_ADD('2000-01-01', 'P1Y2M3W4DT5H6M7.89S')]",
            json!(["2000-01-01T04:00:00.000Z", "2000-01-01T00:30:44.400Z", "2001-03-26T05:06:07.890Z"])),
        ("[DATE_ADD('2000-01-01', 'P5DT26H'), DATE_SUBTRACT('2000-01-05', 'P4D'), DATE_SUBTRACT('2000-01-01T02:00:00Z', 'PT1H3M')]",
            json!(["2000-01-07T02:00:00.000Z", "2000-01-01T00:00:00.000Z", "2000-01-01T00:57:00.000Z"])),
        ("[DATE_ADD('2016-03-01', -1, 'day'), DATE_SUBTRACT('2016-03-01', 1, 'day'), DATE_ADD('2016-02-10', '1', 'w')]",
            json!(["2016-02-29T00:00:00.000Z", "2016-02-29T00:00:00.000Z", "2016-02-17T00:00:00.000Z"])),
        ("[DATE_SUBTRACT(DATE_TIMESTAMP(2020, 12, 24), 4, 'years'), DATE_ADD(DATE_TIMESTAMP(2020, 12, 24), -4, 'years')]",
            json!(["2016-12-24T00:00:00.000Z", "2016-12-24T00:00:00.000Z"])),
        ("DATE_DIFF('2023-12-01', '2024-04-01', 'days')", json!(122)),
        ("DATE_DIFF('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 'hours', true, 'Asia/Kathmandu', 'America/Los_Angeles')", json!(-13.75)),
        ("[DATE_DIFF('2023-03-25T23:00:00.000Z', '2023-03-26T23:00:00.000Z', 'hours'), DATE_DIFF('2023-03-25T23:00:00.000Z', '2023-03-26T23:00:00.000Z', 'hours', 'Europe/Berlin')]",
            json!([24, 25])),
        ("[DATE_DIFF('2000-01-01', '2002-01-01', 'years'), DATE_DIFF('2000-01-01', '2000-03-01', 'm'), DATE_DIFF('2000-03-01', '2000-01-01', 'months')]",
            json!([2, 1, -1])),
        // A year is 365.2425 days.
        ("DATE_DIFF('2000-01-01', '2000-07-01T14:54:36Z', 'y', true)", json!(0.5)),
        ("DATE_COMPARE('2023-04-01T09:00:00.000Z', '2024-04-01T18:00:00.000Z', 'hour', 'minute')", json!(false)),
        ("DATE_COMPARE('2023-04-01T09:00:00.000Z', '2024-04-01T18:00:00.000Z', 'hour', 'minute', 'Europe/Berlin', 'America/Los_Angeles')", json!(true)),
        ("[DATE_COMPARE('1985-04-04', '2024-04-04T12:00:00Z', 'months', 'days'), DATE_COMPARE('1985-04-04', '2024-04-05', 'months', 'days')]",
            json!([true, false])),
        ("[DATE_COMPARE('2000-01-01', '2000-05-01', 'y'), DATE_COMPARE('2000-01-01', '2000-05-01', 'years', 'months')]", json!([true, false])),
        ("[DATE_UTCTOLOCAL('2023-04-01T09:00:00.000Z', 'Europe/Berlin'), DATE_UTCTOLOCAL('2024-04-01T18:00:00.000Z', 'America/Los_Angeles')]",
            json!(["2023-04-01T11:00:00.000", "2024-04-01T11:00:00.000"])),
        ("[DATE_UTCTOLOCAL('2020-03-15T00:00:00.000', 'Europe/Berlin'), DATE_UTCTOLOCAL('2020-03-15T00:00:00.000', 'America/New_York'), DATE_UTCTOLOCAL('2020-03-15T00:00:00.000', 'UTC')]",
            json!(["2020-03-15T01:00:00.000", "2020-03-14T20:00:00.000", "2020-03-15T00:00:00.000Z"])),
        ("[DATE_UTCTOLOCAL('2020-03-15T00:00:00.000', 'Asia/Shanghai'), DATE_UTCTOLOCAL('2020-03-15T00:00:00.000Z', 'Asia/Shanghai')]",
            json!(["2020-03-15T08:00:00.000", "2020-03-15T08:00:00.000"])),
        ("[DATE_UTCTOLOCAL('2020-03-15T00:00:00.000-02:00', 'Asia/Shanghai'), DATE_UTCTOLOCAL(1584230400000, 'Asia/Shanghai')]",
            json!(["2020-03-15T10:00:00.000", "2020-03-15T08:00:00.000"])),
        ("[DATE_LOCALTOUTC('2020-03-15T00:00:00.000', 'Europe/Berlin'), DATE_LOCALTOUTC('2020-03-15T00:00:00.000', 'America/New_York'), DATE_LOCALTOUTC('2020-03-15T00:00:00.000', 'UTC')]",
            json!(["2020-03-14T23:00:00.000Z", "2020-03-15T04:00:00.000Z", "2020-03-15T00:00:00.000Z"])),
        ("[DATE_LOCALTOUTC('2020-03-15T00:00:00.000', 'Asia/Shanghai'), DATE_LOCALTOUTC('2020-03-15T00:00:00.000Z', 'Asia/Shanghai')]",
            json!(["2020-03-14T16:00:00.000Z", "2020-03-14T16:00:00.000Z"])),
        ("[DATE_LOCALTOUTC('2020-03-15T00:00:00.000-02:00', 'Asia/Shanghai'), DATE_LOCALTOUTC(1584230400000, 'Asia/Shanghai')]",
            json!(["2020-03-14T18:00:00.000Z", "2020-03-14T16:00:00.000Z"])),
        ("UNSET(DATE_LOCALTOUTC('2021-03-16T12:00:00.000', 'Africa/Lagos', true), 'tzdb')",
            json!({"utc": "2021-03-16T11:00:00.000Z", "zoneInfo": {"name": "WAT", "begin": "1919-08-31T23:30:00.000Z", "end": null, "dst": false, "offset": 3600}})),
        ("UNSET(DATE_UTCTOLOCAL('2020-07-05', 'Europe/Berlin', true), 'tzdb')",
            json!({"local": "2020-07-05T02:00:00.000", "zoneInfo": {"name": "CEST", "begin": "2020-03-29T01:00:00.000Z", "end": "2020-10-25T01:00:00.000Z", "dst": true, "offset": 7200}})),
        ("IS_STRING(DATE_UTCTOLOCAL(DATE_NOW(), 'Africa/Lagos', true).tzdb)", json!(true)),
        ("[IS_STRING(DATE_TIMEZONE()), POSITION(DATE_TIMEZONES(), 'Europe/Berlin'), POSITION(DATE_TIMEZONES(), 'Mars/Olympus')]", json!([true, true, false])),
    ]);
    check_warns(&[
        ("DATE_TIMESTAMP(2016, 12, -1)", 1572),
        ("DATE_YEAR('foo')", 1572),
        ("DATE_ISO8601(-62167219200001)", 1572),
        ("DATE_ISO8601('10000-01-01')", 1572),
        ("DATE_ADD('2000-01-01', 1, 'fortnight')", 1542),
        ("DATE_ADD('9999-12-31', 1, 'day')", 1572),
        ("DATE_COMPARE('2000-01-01', '2000-01-01', 'days', 'years')", 1542),
        ("DATE_ROUND('2000-01-01', 0, 'days')", 1542),
        ("DATE_FORMAT([], '%y')", 1572),
    ]);
    check_fails(&[("DATE_YEAR(0, 'Mars/Olympus')", 10), ("DATE_UTCTOLOCAL(0, 'Nowhere')", 10)]);
}

#[test]
fn hostile_arguments_do_not_panic() {
    for text in [
        "SUBSTRING('abc', -1e300, 1e300)", "LEFT('abc', -5)", "RIGHT('abc', 1e300)", "SLICE([1], -1e300, 1e300)",
        "NTH([1], -1e300)", "REMOVE_NTH([1], 1e300)", "FIND_FIRST('abc', 'b', -5, -9)", "FIND_LAST('', 'b', 1e300)",
        "SUBSTRING_BYTES('ü', 1e300, -1e300, 1e300, -5)", "SPLIT('a-b', '-', -1)", "REGEX_SPLIT('abc', '', false, -1)",
        "REGEX_SPLIT('abc', '')", "NGRAM_SIMILARITY('a', 'b', 1e300)", "TO_CHAR(55296)", "TO_CHAR(-1)", "BIT_TO_STRING(1, -1)",
        "DATE_ADD(0, 1e300, 'years')", "DATE_ADD(0, 'P99999999999999999999Y')", "DATE_ROUND(0, 1e300, 'days')",
        "DATE_TIMESTAMP(1e300, 1, 1)", "DATE_FORMAT(0, '%')", "PERCENTILE([1, 'x'], 10)", "REPEAT('ab', -3)",
        "RANGE(1, 2, 1e-300)", "FLATTEN([[1]], 1e300)", "VALUE({}, [1e300])", "SUBSTITUTE('abc', 'b', 'x', -1)",
    ] {
        let _ = run(text);
    }
    assert_eq!(run("REGEX_SPLIT('abc', '')").0, Ok(json!(["a", "b", "c"])));
    assert_eq!(run("TO_CHAR(55296)").0, Ok(Value::Null));
}

/// Every function name is in exactly one family's table.
#[test]
fn function_names_are_unique() {
    let mut names: Vec<&str> = crate::functions::names().collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}
