//! ArangoDB's naming rules for databases, collections and document keys.

use unicode_normalization::UnicodeNormalization;

/// Longest traditional database name, in bytes.
pub const DATABASE_NAME_TRADITIONAL_BYTES_MAX: usize = 64;
/// Longest database name with extended names, in bytes.
pub const DATABASE_NAME_EXTENDED_BYTES_MAX: usize = 128;
/// Longest collection name, in bytes.
pub const COLLECTION_NAME_BYTES_MAX: usize = 256;
/// Longest document key, in bytes.
pub const KEY_BYTES_MAX: usize = 254;

/// Whether `name` is a valid database name. `extended` allows UTF-8 names (NFC-normalised,
/// no `/` or `:`, no control characters, no leading or trailing space).
pub fn is_valid_database_name(name: &str, allow_system: bool, extended: bool) -> bool {
    let max = if extended { DATABASE_NAME_EXTENDED_BYTES_MAX } else { DATABASE_NAME_TRADITIONAL_BYTES_MAX };
    is_valid_name(name, allow_system, extended, max)
}

/// Whether `name` is a valid collection name.
pub fn is_valid_collection_name(name: &str, allow_system: bool, extended: bool) -> bool {
    is_valid_name(name, allow_system, extended, COLLECTION_NAME_BYTES_MAX)
}

fn is_valid_name(name: &str, allow_system: bool, extended: bool, bytes_max: usize) -> bool {
    let Some(first) = name.chars().next() else { return false };
    if name.len() > bytes_max {
        return false;
    }
    if first == '_' {
        if !allow_system {
            return false;
        }
    } else if extended {
        if first.is_ascii_digit() || first == '.' || first.is_whitespace() {
            return false;
        }
    } else if !first.is_ascii_alphabetic() {
        return false;
    }
    if extended {
        !name.ends_with(char::is_whitespace)
            && name.chars().all(|c| c != '/' && c != ':' && !c.is_control())
            && name.nfc().eq(name.chars())
    } else {
        name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

/// Whether `key` is a valid `_key`: 1–254 bytes of letters, digits and `_-:.@()+,=;$!*'%`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= KEY_BYTES_MAX
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:.@()+,=;$!*'%".contains(&b))
}

/// Splits a document handle `collection/key`, checking both parts.
pub fn split_document_id(id: &str) -> Option<(&str, &str)> {
    let (col, key) = id.split_once('/')?;
    (is_valid_collection_name(col, true, true) && is_valid_key(key)).then_some((col, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names() {
        assert!(is_valid_database_name("abc-1_x", false, false));
        assert!(!is_valid_database_name("1abc", false, false));
        assert!(!is_valid_database_name("_system", false, false));
        assert!(is_valid_database_name("_system", true, false));
        assert!(!is_valid_database_name("ümlaut", false, false));
        assert!(is_valid_database_name("ümlaut 😀", false, true));
        assert!(!is_valid_database_name("a/b", false, true));
        assert!(!is_valid_database_name("a:b", false, true));
        assert!(!is_valid_database_name("trailing ", false, true));
        assert!(!is_valid_database_name("", false, true));
        assert!(!is_valid_database_name(&"a".repeat(65), false, false));
        assert!(is_valid_database_name(&"a".repeat(128), false, true));
        // "e" + combining acute is not NFC.
        assert!(!is_valid_database_name("caf\u{0065}\u{0301}", false, true));
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("abc:def@(x)+,=;$!*'%._-"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a/b"));
        assert!(!is_valid_key("a b"));
        assert!(!is_valid_key(&"k".repeat(255)));
        assert!(is_valid_key(&"k".repeat(254)));
        assert_eq!(split_document_id("c/k"), Some(("c", "k")));
        assert_eq!(split_document_id("c/"), None);
        assert_eq!(split_document_id("nokey"), None);
    }
}
