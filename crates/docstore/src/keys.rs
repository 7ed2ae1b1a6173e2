//! Byte layout of everything the document layer keeps in the storage engine.
//! `docs/design/storage-layout.md` describes it for people; keep the two in step.

/// `d` ++ database id → database definition (JSON).
pub fn database(db_id: u64) -> Vec<u8> {
    tagged(b'd', &[db_id])
}
/// `c` ++ database id ++ collection id → collection definition (JSON).
pub fn collection(db_id: u64, col_id: u64) -> Vec<u8> {
    tagged(b'c', &[db_id, col_id])
}
pub fn collection_prefix(db_id: u64) -> Vec<u8> {
    tagged(b'c', &[db_id])
}
/// `n` ++ shard id → number of documents (counter).
pub fn shard_count(shard: u64) -> Vec<u8> {
    tagged(b'n', &[shard])
}
/// `k` ++ shard id → the key generator's last value, autoincrement and traditional (counter, raised).
pub fn shard_keygen(shard: u64) -> Vec<u8> {
    tagged(b'k', &[shard])
}
/// `r` ++ shard id → highest revision written (counter, raised).
pub fn shard_revision(shard: u64) -> Vec<u8> {
    tagged(b'r', &[shard])
}
/// `R` → highest revision handed out by the clock (counter, raised).
pub const REV_HIGH_WATER: &[u8] = b"R";
/// `I` → highest id handed out by the clock (counter, raised).
pub const ID_HIGH_WATER: &[u8] = b"I";

/// Documents space: shard id ++ `_key` → 8-byte revision ++ document JSON.
pub fn document(shard: u64, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + key.len());
    k.extend_from_slice(&shard.to_be_bytes());
    k.extend_from_slice(key.as_bytes());
    k
}
pub fn shard_prefix(shard: u64) -> Vec<u8> {
    shard.to_be_bytes().to_vec()
}

/// `[start, end)` covering every key of a shard.
pub fn shard_range(shard: u64) -> (Vec<u8>, Vec<u8>) {
    let prefix = shard_prefix(shard);
    let end = storage::prefix_successor(&prefix).unwrap_or_else(|| vec![0xff; 9]);
    (prefix, end)
}

/// Edge direction in the edge index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Out = 0,
    In = 1,
}

/// Indexes space, edge index: shard id ++ `e` ++ direction ++ vertex id ++ 0 ++ edge `_key`.
/// Vertex ids never contain a zero byte (names and keys forbid control characters).
pub fn edge(shard: u64, dir: Direction, vertex: &str, key: &str) -> Vec<u8> {
    let mut k = edge_prefix(shard, dir, vertex);
    k.extend_from_slice(key.as_bytes());
    k
}
pub fn edge_prefix(shard: u64, dir: Direction, vertex: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(12 + vertex.len());
    k.extend_from_slice(&shard.to_be_bytes());
    k.push(b'e');
    k.push(dir as u8);
    k.extend_from_slice(vertex.as_bytes());
    k.push(0);
    k
}

fn tagged(tag: u8, ids: &[u64]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 8 * ids.len());
    k.push(tag);
    for id in ids {
        k.extend_from_slice(&id.to_be_bytes());
    }
    k
}
