//! Generates the error-number table (`codes.rs`) from `errors.csv`, ArangoDB's list.
use std::{env, fmt::Write, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=errors.csv");
    let text = fs::read_to_string("errors.csv").expect("errors.csv is next to build.rs");
    let mut consts = String::new();
    let mut arms = String::from("pub(crate) fn lookup(n: i32) -> Option<(&'static str, &'static str)> {\n    match n {\n");
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ',');
        let (Some(name), Some(num), Some(msg)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("errors.csv line {}: expected NAME,NUMBER,\"message\"", i + 1);
        };
        let num: i32 = num.parse().unwrap_or_else(|_| panic!("errors.csv line {}: bad number", i + 1));
        let msg = msg.trim().trim_matches('"');
        writeln!(consts, "pub const {name}: ErrorCode = ErrorCode({num});").expect("write to a String");
        writeln!(arms, "        {num} => Some(({name:?}, {msg:?})),").expect("write to a String");
    }
    arms.push_str("        _ => None,\n    }\n}\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("codes.rs");
    fs::write(out, format!("{consts}\n{arms}")).expect("write codes.rs");
}
