//! Rango's document layer: databases, collections and documents over the storage engine.
//!
//! A collection is stored as a shard (a key range in the engine). The single server keeps one
//! shard per collection; a DB-Server will keep the shards the Plan assigns it, with the same
//! code. Everything here is engine-neutral: it talks to [`storage::Engine`] only.
//!
//! **API Boundary:** this crate knows nothing of HTTP. It returns [`errors::ArangoError`]s
//! with ArangoDB's numbers, which the HTTP layer renders.

pub mod clock;
pub mod collection;
pub mod computed;
pub mod documents;
pub mod keys;
pub mod names;
pub mod schema;
pub mod store;

pub use collection::{Collection, CollectionInfo};
pub use storage::Snapshot;
pub use documents::{projection_template, ItemError, ItemResult, OverwriteMode, RawDoc, ScanRange, StoredDoc, WriteItem, WriteKind, WriteOptions, Written};
pub use store::{Database, OpenError, Store, SYSTEM_DATABASE};
