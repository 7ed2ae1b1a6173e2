//! openraft's own conformance suite, run against the Agency's log store and state machine.

use std::sync::Arc;

use agency::raft::{LogStore, NodeId, StateMachine, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use openraft::StorageError;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Arc::new(storage::Engine::open(dir.path()).expect("open engine"));
        let sm = StateMachine::open(engine.clone())?;
        Ok((dir, LogStore::new(engine), sm))
    }
}

#[test]
fn openraft_suite_passes() {
    if let Err(e) = Suite::test_all(Builder) {
        panic!("openraft's storage suite failed: {e}");
    }
}
