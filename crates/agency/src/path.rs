//! Agency keys: `/`-separated paths, normalised as ArangoDB does (leading `/` added,
//! repeated and trailing `/` dropped).

/// The segments of a key; the root is the empty list.
pub fn segments(key: &str) -> Vec<String> {
    key.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The normalised form of a key: `/a/b`, or `/` for the root.
pub fn normalize(key: &str) -> String {
    let segs = segments(key);
    if segs.is_empty() {
        "/".to_string()
    } else {
        format!("/{}", segs.join("/"))
    }
}

/// Whether the key names something hidden (a segment starting with `.`, like `/.agency`).
pub fn is_hidden(segs: &[String]) -> bool {
    segs.iter().any(|s| s.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        assert_eq!(normalize("a//b/"), "/a/b");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize(""), "/");
        assert_eq!(segments("/arango/Plan"), ["arango", "Plan"]);
        assert!(is_hidden(&segments("/.agency/x")));
        assert!(!is_hidden(&segments("/arango")));
    }
}
