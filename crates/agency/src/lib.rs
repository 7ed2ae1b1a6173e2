//! The Agency: ArangoDB's replicated configuration tree. This crate holds the part every
//! agent must compute identically, the store (a pure state machine over JSON). The Raft
//! runtime, persistence and `/_api/agency/*` come on top of it.

pub mod agent;
pub mod linearizability;
pub mod path;
pub mod raft;
pub mod store;

pub use store::{json_eq, Outcome, Store};

#[cfg(test)]
mod tests;
