//! String functions beyond the basics in `functions.rs`: searching and replacing,
//! wildcard and regular-expression matching, hashes and encodings, IPv4 addresses,
//! byte-based substrings, and n-gram similarity.

use base64::Engine;
use errors::{err, ArangoError, ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, ERROR_QUERY_INVALID_REGEX};
use rand::Rng;
use serde_json::{json, Value};
use sha1::Digest;

use super::{type_mismatch, Entry};
use crate::eval::Env;
use crate::value::{like, to_number, to_string, truthy};

pub(super) const FUNCTIONS: &[Entry] = &[
    ("SPLIT", 1, 3, split),
    ("STARTS_WITH", 2, 3, starts_with),
    ("SUBSTITUTE", 2, 4, substitute),
    ("FIND_FIRST", 2, 4, |a, _, _| Ok(find(a, false))),
    ("FIND_LAST", 2, 4, |a, _, _| Ok(find(a, true))),
    ("REPEAT", 2, 3, repeat),
    ("LIKE", 2, 3, |a, _, _| Ok(Value::Bool(like(&to_string(&a[0]), &to_string(&a[1]), a.get(2).is_some_and(truthy))))),
    ("REGEX_TEST", 2, 3, |a, env, name| {
        Ok(regex(&a[1], a.get(2), env, name).map_or(Value::Null, |re| Value::Bool(re.is_match(&to_string(&a[0])))))
    }),
    ("REGEX_REPLACE", 3, 4, |a, env, name| {
        let Some(re) = regex(&a[1], a.get(3), env, name) else { return Ok(Value::Null) };
        Ok(Value::String(re.replace_all(&to_string(&a[0]), to_string(&a[2]).as_str()).into_owned()))
    }),
    ("REGEX_MATCHES", 2, 3, regex_matches),
    ("REGEX_SPLIT", 2, 4, regex_split),
    ("SHA1", 1, 1, |a, _, _| Ok(Value::String(hex(&sha1::Sha1::digest(to_string(&a[0]).as_bytes()))))),
    ("CRC32", 1, 1, |a, _, _| Ok(Value::String(format!("{:X}", crc32c(to_string(&a[0]).as_bytes()))))),
    ("FNV64", 1, 1, |a, _, _| Ok(Value::String(format!("{:X}", fnv1a64(to_string(&a[0]).as_bytes()))))),
    ("TO_BASE64", 1, 1, |a, _, _| Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(to_string(&a[0]))))),
    ("TO_CHAR", 1, 1, |a, env, name| match a[0].as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u32::MAX as f64) {
        Some(n) => Ok(char::from_u32(n as u32).map_or(Value::Null, |c| Value::String(c.to_string()))),
        None => type_mismatch(env, name),
    }),
    ("UUID", 0, 0, |_, _, _| Ok(Value::String(uuid::Uuid::new_v4().to_string()))),
    ("RANDOM_TOKEN", 1, 1, random_token),
    ("SOUNDEX", 1, 1, |a, _, _| Ok(Value::String(soundex(&to_string(&a[0]))))),
    ("IS_IPV4", 1, 1, |a, _, _| Ok(Value::Bool(a[0].as_str().and_then(ipv4).is_some()))),
    ("IPV4_TO_NUMBER", 1, 1, |a, env, name| match a[0].as_str().and_then(ipv4) {
        Some(n) => Ok(json!(n)),
        None => type_mismatch(env, name),
    }),
    ("IPV4_FROM_NUMBER", 1, 1, |a, env, name| match a[0].as_f64().filter(|n| n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(n)) {
        Some(n) => Ok(Value::String(std::net::Ipv4Addr::from(n as u32).to_string())),
        None => type_mismatch(env, name),
    }),
    ("SUBSTRING_BYTES", 2, 5, substring_bytes),
    ("NGRAM_SIMILARITY", 3, 3, |a, env, name| ngram(a, env, name, false)),
    ("NGRAM_POSITIONAL_SIMILARITY", 3, 3, |a, env, name| ngram(a, env, name, true)),
];

/// Longest string REPEAT may build (ArangoDB's limit, 16 MiB).
const REPEAT_BYTES_MAX: usize = 16 << 20;
/// Longest RANDOM_TOKEN.
const TOKEN_LEN_MAX: f64 = 65_536.0;
/// Largest compiled regular expression, in bytes of the regex crate's program.
const REGEX_SIZE_MAX: usize = 1 << 20;
/// Longest n-gram comparison, in cells of its table.
const NGRAM_CELLS_MAX: usize = 100_000_000;

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `SPLIT(value, separator, limit)`: the separator may be a list of separators.
fn split(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let s = to_string(&a[0]);
    let limit = a.get(2).map_or(usize::MAX, |l| if to_number(l) < 0.0 { usize::MAX } else { to_number(l) as usize });
    let separators: Vec<String> = match a.get(1) {
        None | Some(Value::Null) => return Ok(json!([s])),
        Some(Value::Array(seps)) => seps.iter().map(to_string).collect(),
        Some(sep) => vec![to_string(sep)],
    };
    let mut parts = Vec::new();
    if separators.iter().any(String::is_empty) {
        parts.extend(s.chars().take(limit).map(|c| json!(c.to_string())));
        return Ok(Value::Array(parts));
    }
    let (mut start, mut i) = (0, 0);
    while i < s.len() && parts.len() < limit {
        match separators.iter().find(|sep| s[i..].starts_with(sep.as_str())) {
            Some(sep) => {
                parts.push(json!(s[start..i]));
                i += sep.len();
                start = i;
            }
            None => i += s[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if parts.len() < limit {
        parts.push(json!(s[start..]));
    }
    Ok(Value::Array(parts))
}

fn starts_with(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let s = to_string(&a[0]);
    Ok(Value::Bool(match &a[1] {
        Value::Array(prefixes) => {
            let min = a.get(2).map_or(1.0, to_number).max(0.0) as usize;
            prefixes.iter().filter(|p| s.starts_with(&to_string(p))).count() >= min
        }
        p => s.starts_with(&to_string(p)),
    }))
}

/// `SUBSTITUTE`: one pass over the text; at each position the first search string that
/// matches is replaced, so replacements are never searched again.
fn substitute(a: &[Value], _: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let s = to_string(&a[0]);
    let (pairs, limit): (Vec<(String, String)>, Option<&Value>) = match (&a[1], a.get(2)) {
        (Value::Object(m), limit) => (m.iter().map(|(k, v)| (k.clone(), to_string(v))).collect(), limit),
        (Value::Array(search), Some(Value::Array(repl))) => {
            (search.iter().enumerate().map(|(i, x)| (to_string(x), repl.get(i).map(to_string).unwrap_or_default())).collect(), a.get(3))
        }
        (Value::Array(search), r) => (search.iter().map(|x| (to_string(x), r.map(to_string).unwrap_or_default())).collect(), a.get(3)),
        (x, r) => (vec![(to_string(x), r.map(to_string).unwrap_or_default())], a.get(3)),
    };
    let mut left = match limit {
        None | Some(Value::Null) => usize::MAX,
        Some(l) => to_number(l).max(0.0) as usize,
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let hit = (left > 0).then(|| pairs.iter().find(|(f, _)| !f.is_empty() && s[i..].starts_with(f.as_str()))).flatten();
        match hit {
            Some((from, to)) => {
                out.push_str(to);
                i += from.len();
                left -= 1;
            }
            None => {
                let c = s[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Ok(Value::String(out))
}

/// FIND_FIRST and FIND_LAST: character positions, searching `text[start..=end]`.
fn find(a: &[Value], last: bool) -> Value {
    let text: Vec<char> = to_string(&a[0]).chars().collect();
    let needle: Vec<char> = to_string(&a[1]).chars().collect();
    let start = a.get(2).filter(|v| !v.is_null()).map_or(0.0, to_number).max(0.0) as usize;
    let end = match a.get(3).filter(|v| !v.is_null()) {
        Some(e) => (to_number(e).max(0.0) as usize).min(text.len().saturating_sub(1)),
        None => text.len().saturating_sub(1),
    };
    if needle.is_empty() {
        return json!(if last { if a.get(3).is_some_and(|v| !v.is_null()) { end + 1 } else { text.len() } } else { start });
    }
    if start >= text.len() || end < start {
        return json!(-1);
    }
    let window = &text[start..=end];
    let mut hits = (0..window.len()).filter(|&i| window[i..].starts_with(&needle));
    let hit = if last { hits.next_back() } else { hits.next() };
    json!(hit.map_or(-1, |i| (start + i) as i64))
}

fn repeat(a: &[Value], env: &mut Env, _: &str) -> Result<Value, ArangoError> {
    let (s, sep) = (to_string(&a[0]), a.get(2).map(to_string).unwrap_or_default());
    let n = to_number(&a[1]).max(0.0).min(usize::MAX as f64) as usize;
    let bytes = n.saturating_mul(s.len()).saturating_add(n.saturating_sub(1).saturating_mul(sep.len()));
    if bytes > REPEAT_BYTES_MAX {
        env.warn(errors::ERROR_RESOURCE_LIMIT, "REPEAT() would build a string longer than 16 MiB");
        return Ok(Value::Null);
    }
    Ok(Value::String(vec![s; n].join(&sep)))
}

/// Compiles an AQL regular expression; an invalid one gives AQL's warning and `None`.
fn regex(pattern: &Value, case_insensitive: Option<&Value>, env: &mut Env, name: &str) -> Option<regex::Regex> {
    let built = regex::RegexBuilder::new(&to_string(pattern))
        .case_insensitive(case_insensitive.is_some_and(truthy))
        .size_limit(REGEX_SIZE_MAX)
        .build();
    match built {
        Ok(re) => Some(re),
        Err(e) => {
            env.warn(ERROR_QUERY_INVALID_REGEX, format!("invalid regex value in call to function '{name}()': {e}"));
            None
        }
    }
}

/// The first match and its groups, or `null` when nothing matches.
fn regex_matches(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Some(re) = regex(&a[1], a.get(2), env, name) else { return Ok(Value::Null) };
    let text = to_string(&a[0]);
    Ok(re.captures(&text).map_or(Value::Null, |c| {
        Value::Array(c.iter().map(|g| json!(g.map_or("", |g| g.as_str()))).collect())
    }))
}

/// Splits at each match; the text of capturing groups is kept between the parts, and an
/// empty match at either end of the text splits nothing.
fn regex_split(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Some(re) = regex(&a[1], a.get(2), env, name) else { return Ok(Value::Null) };
    let limit = a.get(3).filter(|v| !v.is_null()).map_or(usize::MAX, |l| to_number(l).max(0.0) as usize);
    let text = to_string(&a[0]);
    let mut parts = Vec::new();
    let mut last = 0;
    for c in re.captures_iter(&text) {
        let m = c.get(0).map_or(0..0, |m| m.range());
        if m.is_empty() && (m.start == 0 || m.start == text.len()) {
            continue;
        }
        parts.push(json!(text[last..m.start]));
        parts.extend(c.iter().skip(1).flatten().map(|g| json!(g.as_str())));
        last = m.end;
        if parts.len() >= limit {
            break;
        }
    }
    parts.push(json!(text[last..]));
    parts.truncate(limit);
    Ok(Value::Array(parts))
}

/// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected), as ArangoDB's CRC32 computes.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
        }
    }
    !crc
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn random_token(a: &[Value], _: &mut Env, name: &str) -> Result<Value, ArangoError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let len = to_number(&a[0]);
    if !(0.0..=TOKEN_LEN_MAX).contains(&len) {
        return Err(err!(ERROR_QUERY_FUNCTION_ARGUMENT_TYPE_MISMATCH, "invalid argument type in call to function '{name}()'"));
    }
    let mut rng = rand::rng();
    Ok(Value::String((0..len as usize).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()))
}

/// American Soundex: the first letter, then up to three digits for the consonants that
/// follow; letters with the same digit collapse, unless a vowel stands between them.
fn soundex(s: &str) -> String {
    fn code(c: char) -> u8 {
        match c {
            'B' | 'F' | 'P' | 'V' => b'1',
            'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => b'2',
            'D' | 'T' => b'3',
            'L' => b'4',
            'M' | 'N' => b'5',
            'R' => b'6',
            'H' | 'W' => b'h',
            _ => b'0',
        }
    }
    let mut letters = s.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_uppercase());
    let Some(first) = letters.next() else { return String::new() };
    let mut out = first.to_string();
    let mut prev = code(first);
    for c in letters {
        let d = code(c);
        if d == b'h' {
            continue;
        }
        if d != b'0' && d != prev {
            out.push(d as char);
            if out.len() == 4 {
                break;
            }
        }
        prev = d;
    }
    format!("{out:0<4}")
}

/// Four decimal octets without leading zeros, as IS_IPV4 accepts them.
fn ipv4(s: &str) -> Option<u32> {
    let mut n = 0u32;
    let mut count = 0;
    for part in s.split('.') {
        count += 1;
        let ok = !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit()) && (part == "0" || !part.starts_with('0'));
        let octet: u32 = part.parse().ok().filter(|o| ok && *o <= 255)?;
        n = n.checked_mul(256)? + octet;
    }
    (count == 4).then_some(n)
}

/// `SUBSTRING_BYTES(value, offset, length, left, right)`: the byte range must start and
/// end on character boundaries; `left` and `right` then widen it by whole characters.
fn substring_bytes(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let s = to_string(&a[0]);
    let len = s.len() as f64;
    let offset = to_number(&a[1]);
    let start = if offset < 0.0 { (len + offset).max(0.0) } else { offset.min(len) } as usize;
    let end = match a.get(2).filter(|v| !v.is_null()) {
        Some(l) => (start as f64 + to_number(l).max(0.0)).min(len) as usize,
        None => s.len(),
    };
    if !s.is_char_boundary(start) || !s.is_char_boundary(end) {
        return type_mismatch(env, name);
    }
    let left = a.get(3).filter(|v| !v.is_null()).map_or(0.0, to_number).max(0.0) as usize;
    let right = a.get(4).filter(|v| !v.is_null()).map_or(left as f64, to_number).max(0.0) as usize;
    let start = s[..start].char_indices().rev().take(left).last().map_or(start, |(i, _)| i);
    let end = s[end..].char_indices().nth(right).map_or(s.len(), |(i, _)| end + i);
    Ok(Value::String(s[start..end].to_string()))
}

fn ngrams(s: &str, n: usize) -> Vec<Vec<char>> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < n {
        return if chars.is_empty() { Vec::new() } else { vec![chars] };
    }
    chars.windows(n).map(<[char]>::to_vec).collect()
}

/// Kondrak's n-gram similarity: the best alignment of the two n-gram sequences, where
/// equal n-grams score 1 and, for the positional variant, others the share of equal
/// characters at equal positions. NGRAM_SIMILARITY divides by the target's n-gram count,
/// the positional variant by the longer count; both answer in single precision, as
/// ArangoDB does.
fn ngram(a: &[Value], env: &mut Env, name: &str, positional: bool) -> Result<Value, ArangoError> {
    let (Value::String(x), Value::String(y)) = (&a[0], &a[1]) else { return type_mismatch(env, name) };
    let Some(n) = a[2].as_f64().filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n <= 1e6) else { return type_mismatch(env, name) };
    let (gx, gy) = (ngrams(x, n as usize), ngrams(y, n as usize));
    if gx.len().saturating_mul(gy.len()) > NGRAM_CELLS_MAX {
        env.warn(errors::ERROR_RESOURCE_LIMIT, format!("{name}() of strings this long"));
        return Ok(Value::Null);
    }
    let score = |p: &[char], q: &[char]| -> f64 {
        if p == q {
            1.0
        } else if positional {
            p.iter().zip(q).filter(|(c, d)| c == d).count() as f64 / p.len().max(q.len()) as f64
        } else {
            0.0
        }
    };
    let mut prev = vec![0.0f64; gy.len() + 1];
    for p in &gx {
        let mut cur = vec![0.0f64; gy.len() + 1];
        for (j, q) in gy.iter().enumerate() {
            cur[j + 1] = (prev[j] + score(p, q)).max(prev[j + 1]).max(cur[j]);
        }
        prev = cur;
    }
    let total = if positional { gx.len().max(gy.len()) } else { gy.len() };
    let similarity = if total == 0 { if gx.is_empty() { 1.0 } else { 0.0 } } else { prev[gy.len()] / total as f64 };
    Ok(json!(f64::from(similarity as f32)))
}
