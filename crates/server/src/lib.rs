//! Rango's server role: ArangoDB's HTTP API over the document layer.
//!
//! [`start`] opens the store, binds the endpoint and serves until `shutdown` resolves. Each
//! request passes [`http`] (body limits, decompression, `/_db/<name>` routing, auth) to a
//! handler from the [`routes`] table.
//!
//! **API Boundary:** only this crate knows routes and wire shapes.

pub mod access;
pub mod agency_net;
pub mod api;
pub mod auth;
pub mod http;
pub mod req;
pub mod resp;
pub mod routes;
pub mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Time since the Unix epoch by the wall clock (zero if the clock is before 1970).
pub fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}

use docstore::Store;

/// Server options, under ArangoDB's names where they have one.
#[derive(Clone, Debug)]
pub struct Config {
    /// `--server.endpoint`, such as `tcp://127.0.0.1:8529`.
    pub endpoint: String,
    /// `--database.directory`.
    pub database_directory: PathBuf,
    /// `--server.authentication`.
    pub authentication: bool,
    /// `--server.jwt-secret-keyfile` or `--server.jwt-secret-folder`.
    pub jwt_secret: auth::SecretSource,
    /// From `ARANGO_ROOT_PASSWORD`; sets root's password when the database is created.
    pub root_password: String,
    /// `--server.maximal-body-size`: the largest request body accepted, after decompression.
    pub maximal_body_size_bytes: usize,
    /// `--database.extended-names`.
    pub extended_names: bool,
    /// Set when this server is an agent (`--agency.activate true`).
    pub agency: Option<agency::agent::AgentConfig>,
}

/// What every handler can reach.
pub struct Ctx {
    pub store: Store,
    pub auth: auth::Auth,
    pub users: users::Users,
    pub config: Config,
    pub started: Instant,
    pub router: routes::Router,
    /// This server's agent, when it is one.
    pub agent: Option<Arc<agency::agent::Agent>>,
    /// Bounds how many slow password checks run at once.
    pub slow_auth: tokio::sync::Semaphore,
    pub cursors: api::cursor::Cursors,
    pub queries: api::query::Queries,
    pub query_cache: api::query_cache::QueryCache,
    pub metrics: api::admin::Metrics,
    /// This context itself, for work that outlives a request (a streaming cursor's query).
    pub me: std::sync::Weak<Ctx>,
}

/// Stack size every thread that runs queries needs (the runtime's threads among them).
pub use query::STACK_BYTES as QUERY_STACK_BYTES;

/// Slow password checks (PBKDF2) running at once; the rest wait their turn.
pub const SLOW_AUTH_CONCURRENT_MAX: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bad --server.endpoint '{0}': expected tcp://HOST:PORT")]
    Endpoint(String),
    #[error("cannot listen on {addr}: {source}; is another server running there?")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the database in {dir}: {source}")]
    Open { dir: String, source: docstore::OpenError },
    #[error("{0}")]
    Secret(String),
    #[error("cannot start the agent: {0}")]
    Agency(String),
    #[error("cannot load users: {0}")]
    Users(errors::ArangoError),
    #[error("cannot create the database directory {dir}: {source}")]
    Directory { dir: String, source: std::io::Error },
}

/// Parses `tcp://host:port` (or `http+tcp://`, or a bare `host:port`).
pub fn parse_endpoint(endpoint: &str) -> Result<SocketAddr, StartError> {
    let rest = endpoint
        .strip_prefix("tcp://")
        .or_else(|| endpoint.strip_prefix("http+tcp://"))
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint);
    let rest = rest.replace("localhost", "127.0.0.1");
    rest.parse().map_err(|_| StartError::Endpoint(endpoint.to_string()))
}

/// Opens the store and serves until `shutdown` completes. `ready` is called with the bound
/// address once the server accepts connections.
pub async fn start(
    config: Config,
    shutdown: impl std::future::Future<Output = ()>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let addr = parse_endpoint(&config.endpoint)?;
    let dir = config.database_directory.display().to_string();
    std::fs::create_dir_all(&config.database_directory).map_err(|source| StartError::Directory { dir: dir.clone(), source })?;
    let store = Store::open(&config.database_directory.join("engine-rocksdb"), config.extended_names)
        .map_err(|source| StartError::Open { dir, source })?;
    let auth = auth::Auth::new(config.authentication, config.jwt_secret.clone()).map_err(StartError::Secret)?;
    let users = users::Users::load(&store, &config.root_password).map_err(StartError::Users)?;
    let agent = match &config.agency {
        Some(agent_config) => {
            let network = agency_net::Network::new(format!("bearer {}", auth.issue_superuser_token()));
            Some(agency::agent::Agent::start(agent_config.clone(), network).await.map_err(StartError::Agency)?)
        }
        None => None,
    };
    let ctx = Arc::new_cyclic(|me| Ctx {
        me: me.clone(),
        store,
        auth,
        users,
        config,
        started: Instant::now(),
        router: routes::Router::new(),
        agent,
        slow_auth: tokio::sync::Semaphore::new(SLOW_AUTH_CONCURRENT_MAX),
        cursors: Default::default(),
        queries: Default::default(),
        query_cache: Default::default(),
        metrics: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!("Rango {} is ready for business on {bound}", env!("CARGO_PKG_VERSION"));
    ready(bound);
    http::serve(listener, ctx, shutdown).await;
    Ok(())
}
