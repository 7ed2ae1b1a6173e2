//! How agents reach each other: openraft's RPCs as JSON over HTTP to
//! `/_api/agency_priv/{append,vote,snapshot}`, authenticated with a superuser JWT signed
//! with the cluster's secret.

use std::time::Duration;

use agency::raft::{NodeId, TypeConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest, VoteResponse};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest response read from a peer.
const PEER_RESPONSE_BYTES_MAX: usize = 64 << 20;

#[derive(Clone)]
pub struct Network {
    client: Client<HttpConnector, Full<Bytes>>,
    /// `bearer <superuser token>`.
    auth: String,
}

impl Network {
    pub fn new(auth: String) -> Network {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        Network { client: Client::builder(TokioExecutor::new()).build(connector), auth }
    }
}

pub struct Peer {
    target: NodeId,
    base: String,
    net: Network,
}

#[derive(Debug)]
struct PeerError(String);
impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for PeerError {}

impl Peer {
    async fn call<Q, A, E>(&self, verb: &str, body: &Q, option: &RPCOption) -> Result<A, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>
    where
        Q: Serialize,
        A: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let bytes = serde_json::to_vec(body).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let request = hyper::Request::post(format!("{}/_api/agency_priv/{verb}", self.base))
            .header("authorization", &self.net.auth)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let sent = tokio::time::timeout(option.hard_ttl(), async {
            let resp = self.net.client.request(request).await.map_err(|e| PeerError(e.to_string()))?;
            let status = resp.status();
            let body = http_body_util::Limited::new(resp.into_body(), PEER_RESPONSE_BYTES_MAX)
                .collect()
                .await
                .map_err(|e| PeerError(e.to_string()))?
                .to_bytes();
            Ok::<_, PeerError>((status, body))
        })
        .await;
        let (status, body) = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(_) => return Err(RPCError::Unreachable(Unreachable::new(&PeerError(format!("no answer from {} in time", self.base))))),
        };
        if !status.is_success() {
            let e = PeerError(format!("{} answered {status}: {}", self.base, String::from_utf8_lossy(&body)));
            return Err(RPCError::Unreachable(Unreachable::new(&e)));
        }
        let result: Result<A, RaftError<NodeId, E>> =
            serde_json::from_slice(&body).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer { target, base: node.addr.trim_end_matches('/').to_string(), net: self.clone() }
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.call("append", &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>> {
        self.call("snapshot", &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.call("vote", &rpc, &option).await
    }
}
