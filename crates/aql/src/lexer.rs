//! AQL tokens. Positions are kept as (line, column), 1-based, for ArangoDB's parse errors.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    /// `@name`
    Bind(String),
    /// `@@name`
    BindCollection(String),
    /// Operators and punctuation, as written.
    Op(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
    pub col: usize,
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "..", "=~", "!~", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(",
    ")", "[", "]", "{", "}", "=",
];

/// Splits `text` into tokens, or says where it cannot.
pub fn lex(text: &str) -> Result<Vec<Token>, (String, usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut col) = (0, 1, 1);
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        let (tl, tc) = (line, col);
        let advance = |n: usize, i: &mut usize, line: &mut usize, col: &mut usize| {
            for _ in 0..n {
                if chars.get(*i) == Some(&'\n') {
                    *line += 1;
                    *col = 1;
                } else {
                    *col += 1;
                }
                *i += 1;
            }
        };
        if c.is_whitespace() {
            advance(1, &mut i, &mut line, &mut col);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(1, &mut i, &mut line, &mut col);
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            advance(2, &mut i, &mut line, &mut col);
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                advance(1, &mut i, &mut line, &mut col);
            }
            if i >= chars.len() {
                return Err(("unterminated comment".into(), tl, tc));
            }
            advance(2, &mut i, &mut line, &mut col);
            continue;
        }
        let start = i;
        let tok = if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) && !matches!(out.last(), Some(Token { tok: Tok::Ident(_) | Tok::Op(")" | "]"), .. }))) {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
                || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E') && !text_is_hex(&chars[start..i])))
            {
                advance(1, &mut i, &mut line, &mut col);
            }
            let s: String = chars[start..i].iter().collect();
            let n = parse_number(&s).ok_or_else(|| (format!("invalid number '{s}'"), tl, tc))?;
            Tok::Num(n)
        } else if c == '"' || c == '\'' {
            advance(1, &mut i, &mut line, &mut col);
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else { return Err(("unterminated string".into(), tl, tc)) };
                advance(1, &mut i, &mut line, &mut col);
                if ch == c {
                    break;
                }
                if ch == '\\' {
                    let Some(&e) = chars.get(i) else { return Err(("unterminated string".into(), tl, tc)) };
                    advance(1, &mut i, &mut line, &mut col);
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'r' => s.push('\r'),
                        'b' => s.push('\u{8}'),
                        'f' => s.push('\u{c}'),
                        'u' => {
                            let hex: String = chars.get(i..i + 4).map(|h| h.iter().collect()).unwrap_or_default();
                            let v = u32::from_str_radix(&hex, 16).map_err(|_| ("invalid \\u escape".to_string(), line, col))?;
                            s.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                            advance(4, &mut i, &mut line, &mut col);
                        }
                        other => s.push(other),
                    }
                } else {
                    s.push(ch);
                }
            }
            Tok::Str(s)
        } else if c == '`' || c == '´' {
            advance(1, &mut i, &mut line, &mut col);
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else { return Err(("unterminated quoted name".into(), tl, tc)) };
                advance(1, &mut i, &mut line, &mut col);
                if ch == c {
                    break;
                }
                s.push(ch);
            }
            Tok::Ident(s)
        } else if c == '@' {
            let two = chars.get(i + 1) == Some(&'@');
            advance(if two { 2 } else { 1 }, &mut i, &mut line, &mut col);
            let s0 = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                advance(1, &mut i, &mut line, &mut col);
            }
            let name: String = chars[s0..i].iter().collect();
            if name.is_empty() {
                return Err(("bind parameter name expected after '@'".into(), tl, tc));
            }
            if two {
                Tok::BindCollection(name)
            } else {
                Tok::Bind(name)
            }
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                advance(1, &mut i, &mut line, &mut col);
            }
            // Function names may be namespaced: `NS::FUNC`.
            while chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
                advance(2, &mut i, &mut line, &mut col);
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    advance(1, &mut i, &mut line, &mut col);
                }
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err((format!("unexpected character '{c}'"), tl, tc));
            };
            advance(op.chars().count(), &mut i, &mut line, &mut col);
            Tok::Op(op)
        };
        out.push(Token { tok, line: tl, col: tc });
    }
    out.push(Token { tok: Tok::Eof, line, col });
    Ok(out)
}

fn text_is_hex(chars: &[char]) -> bool {
    chars.len() > 1 && chars[0] == '0' && matches!(chars[1], 'x' | 'X')
}

fn parse_number(s: &str) -> Option<f64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if let Some(bin) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        return u64::from_str_radix(bin, 2).ok().map(|v| v as f64);
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}
