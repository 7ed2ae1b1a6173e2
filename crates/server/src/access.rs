//! Access levels as ArangoDB resolves them: per database and per collection, with `*`
//! defaults, and `_system` access counting for every database.

use serde_json::{json, Map, Value};

/// An access level. `Undefined` means "not set here", which falls back elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Undefined,
    None,
    Ro,
    Rw,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "rw" => Level::Rw,
            "ro" => Level::Ro,
            "none" => Level::None,
            "undefined" => Level::Undefined,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Undefined => "undefined",
            Level::None => "none",
            Level::Ro => "ro",
            Level::Rw => "rw",
        }
    }

    /// The `{"read":…,"write":…}` form of the `_users` documents.
    pub fn to_permissions(self) -> Value {
        json!({"read": self >= Level::Ro, "write": self == Level::Rw})
    }

    pub fn from_permissions(p: &Value) -> Level {
        match (p.get("read").and_then(Value::as_bool), p.get("write").and_then(Value::as_bool)) {
            (_, Some(true)) => Level::Rw,
            (Some(true), _) => Level::Ro,
            (Some(false), _) | (_, Some(false)) => Level::None,
            _ => Level::Undefined,
        }
    }
}

/// The grants of one user: the `databases` object of its `_users` document.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    databases: Map<String, Value>,
}

pub const SYSTEM: &str = "_system";

impl Grants {
    pub fn new(databases: &Value) -> Grants {
        Grants { databases: databases.as_object().cloned().unwrap_or_default() }
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.databases.clone())
    }

    /// The level set for a database itself (`Undefined` if none).
    pub fn configured_database(&self, db: &str) -> Level {
        self.databases.get(db).map_or(Level::Undefined, |d| Level::from_permissions(&d["permissions"]))
    }

    /// The level set for a collection itself (`Undefined` if none).
    pub fn configured_collection(&self, db: &str, col: &str) -> Level {
        self.databases
            .get(db)
            .and_then(|d| d["collections"].get(col))
            .map_or(Level::Undefined, |c| Level::from_permissions(&c["permissions"]))
    }

    /// Effective database level: the database's own, else the best of `*` and `_system`.
    pub fn database(&self, db: &str) -> Level {
        let mut level = self.configured_database(db);
        if level == Level::Undefined && db != "*" {
            level = level.max(self.configured_database("*"));
            if db != SYSTEM {
                level = level.max(self.configured_database(SYSTEM));
            }
        }
        level.max(Level::None)
    }

    /// Effective collection level. System collections follow the database, except that
    /// `_system/_users` is closed to everyone, `_queues` read-only and `_frontend` writable.
    pub fn collection(&self, db: &str, col: &str) -> Level {
        if col.is_empty() || (db == "*" && col != "*") {
            return Level::None;
        }
        let is_system = col.starts_with('_');
        if is_system {
            return match col {
                "_users" if db == SYSTEM => Level::None,
                "_queues" => Level::Ro,
                "_frontend" => Level::Rw,
                _ => self.database(db),
            };
        }
        let mut level = Level::None;
        if db != "*" {
            if self.databases.contains_key(db) {
                let explicit = self.configured_collection(db, col);
                if explicit != Level::Undefined {
                    return explicit;
                }
                if col == "*" {
                    return Level::None;
                }
                level = self.configured_database(db).max(self.configured_collection(db, "*"));
            }
            if db != SYSTEM {
                level = level.max(self.configured_database(SYSTEM));
            }
        }
        if self.databases.contains_key("*") {
            level = level.max(self.configured_database("*")).max(self.configured_collection("*", "*"));
        }
        level.max(Level::None)
    }

    pub fn grant_database(&mut self, db: &str, level: Level) {
        let entry = self.databases.entry(db.to_string()).or_insert_with(|| json!({"collections": {}}));
        entry["permissions"] = level.to_permissions();
    }

    pub fn revoke_database(&mut self, db: &str) -> bool {
        self.databases.remove(db).is_some()
    }

    pub fn grant_collection(&mut self, db: &str, col: &str, level: Level) {
        let entry = self.databases.entry(db.to_string()).or_insert_with(|| json!({"collections": {}}));
        if !entry["collections"].is_object() {
            entry["collections"] = json!({});
        }
        entry["collections"][col] = json!({"permissions": level.to_permissions()});
    }

    pub fn revoke_collection(&mut self, db: &str, col: &str) -> bool {
        self.databases
            .get_mut(db)
            .and_then(|d| d.get_mut("collections"))
            .and_then(Value::as_object_mut)
            .is_some_and(|c| c.remove(col).is_some())
    }

    /// Whether these grants make an administrator: read-write on `_system`.
    pub fn is_admin(&self) -> bool {
        self.database(SYSTEM) == Level::Rw
    }

    /// Databases with a grant of their own (for `?full=true` listings).
    pub fn databases(&self) -> impl Iterator<Item = &str> {
        self.databases.keys().map(String::as_str)
    }

    /// Collections with a grant of their own in `db`.
    pub fn collections(&self, db: &str) -> Vec<String> {
        self.databases
            .get(db)
            .and_then(|d| d["collections"].as_object())
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Drops grants on a database (when it is dropped).
    pub fn forget_database(&mut self, db: &str) -> bool {
        self.databases.remove(db).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_levels_fall_back_to_star_and_system() {
        let mut g = Grants::default();
        assert_eq!(g.database("shop"), Level::None);
        g.grant_database("*", Level::Ro);
        assert_eq!(g.database("shop"), Level::Ro);
        g.grant_database("shop", Level::None);
        assert_eq!(g.database("shop"), Level::None, "an explicit grant wins over *");
        g.grant_database(SYSTEM, Level::Rw);
        assert_eq!(g.database("other"), Level::Rw, "_system access counts everywhere");
        assert_eq!(g.database("shop"), Level::None);
    }

    #[test]
    fn collection_levels_follow_arangodb_fallbacks() {
        let mut g = Grants::default();
        g.grant_database("shop", Level::Rw);
        assert_eq!(g.collection("shop", "items"), Level::Rw, "database level applies");
        g.grant_collection("shop", "items", Level::None);
        assert_eq!(g.collection("shop", "items"), Level::None, "explicit collection grant wins");
        g.grant_collection("shop", "*", Level::Ro);
        assert_eq!(g.collection("shop", "other"), Level::Rw, "best of database and * collection");
        g.grant_database("shop", Level::None);
        assert_eq!(g.collection("shop", "other"), Level::Ro);
        assert_eq!(g.collection("shop", "_graphs"), Level::None, "system collections follow the database");
        assert_eq!(g.collection("shop", "_frontend"), Level::Rw);
        assert_eq!(g.collection("shop", "_queues"), Level::Ro);
        g.grant_database(SYSTEM, Level::Rw);
        assert_eq!(g.collection(SYSTEM, "_users"), Level::None, "_users is closed to everyone");
        assert_eq!(g.collection("elsewhere", "c"), Level::Rw);
        assert!(g.revoke_collection("shop", "items"));
        assert!(!g.revoke_collection("shop", "items"));
    }

    #[test]
    fn permissions_round_trip() {
        for l in [Level::None, Level::Ro, Level::Rw] {
            assert_eq!(Level::from_permissions(&l.to_permissions()), l);
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert_eq!(Level::from_permissions(&json!({})), Level::Undefined);
    }
}
