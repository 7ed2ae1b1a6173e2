//! `rango`: one binary for every role. `rango server` runs a database server (ArangoDB's
//! `arangod`) with ArangoDB's option names.

use std::path::PathBuf;

use anyhow::Context;
use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rango", version, about = "Rango: a distributed multi-model database speaking ArangoDB's API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a database server (single server for now).
    Server(Box<ServerArgs>),
    /// Generate load against a server, as arangobench does.
    Bench(Box<BenchArgs>),
}

#[derive(Parser)]
struct BenchArgs {
    /// Workload: version, document, import-document, aqlinsert, crud, crud-append,
    /// crud-write-read, edge-crud, persistent-index, collection, custom-query; also
    /// document-read, document-update, document-remove, and http (any HTTP server).
    #[arg(long = "test-case", default_value = "version")]
    test_case: String,
    /// Concurrent clients, each on its own thread and connection.
    #[arg(long, alias = "concurrency", default_value_t = 1)]
    threads: usize,
    /// Requests in total (with --duration: how many documents read cases prepare).
    #[arg(long, default_value_t = 1000)]
    requests: u64,
    /// Run for this many seconds instead of a fixed number of requests.
    #[arg(long)]
    duration: Option<u64>,
    /// Repeat the whole case this many times.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    /// Documents per request for import-document.
    #[arg(long = "batch-size", default_value_t = 1000)]
    batch_size: u64,
    /// Extra payload bytes per document.
    #[arg(long, default_value_t = 40)]
    complexity: usize,
    /// Keep connections open between requests.
    #[arg(long = "keep-alive", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    keep_alive: bool,
    /// Collection to (re)create and use.
    #[arg(long, default_value = "ArangoBenchmark")]
    collection: String,
    /// Write with waitForSync.
    #[arg(long = "wait-for-sync", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    wait_for_sync: bool,
    #[arg(long = "number-of-shards", default_value_t = 1)]
    number_of_shards: u64,
    #[arg(long = "replication-factor", default_value_t = 1)]
    replication_factor: u64,
    /// AQL for custom-query.
    #[arg(long = "custom-query")]
    custom_query: Option<String>,
    /// File holding the AQL for custom-query.
    #[arg(long = "custom-query-file", conflicts_with = "custom_query")]
    custom_query_file: Option<PathBuf>,
    /// Bind parameters for custom-query, as a JSON object.
    #[arg(long = "custom-query-bindvars", default_value = "{}")]
    custom_query_bindvars: String,
    /// For the http case: method, path and body of the request.
    #[arg(long = "http-method", default_value = "GET")]
    http_method: String,
    #[arg(long = "http-path", default_value = "/")]
    http_path: String,
    #[arg(long = "http-body", default_value = "")]
    http_body: String,
    #[arg(long = "server.endpoint", default_value = "tcp://127.0.0.1:8529")]
    endpoint: String,
    #[arg(long = "server.database", default_value = "_system")]
    database: String,
    /// User name (empty: send no credentials).
    #[arg(long = "server.username", default_value = "root")]
    username: String,
    /// Password (default: $ARANGO_ROOT_PASSWORD, else empty).
    #[arg(long = "server.password")]
    password: Option<String>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, default_value_t = false)]
    quiet: bool,
}


/// mimalloc (its version 2) instead of the system allocator: a query makes and drops many
/// small values for each row, often on other threads than made them, and glibc's allocator
/// spent a third of a full scan's time on them. Version 3 cost the Agency a third of its write
/// throughput at 256 clients; version 2 costs it little.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;


fn run_bench(args: BenchArgs) -> anyhow::Result<()> {
    let case = bench::Case::parse(&args.test_case).with_context(|| {
        let names: Vec<&str> = bench::Case::ALL.iter().map(|(n, _)| *n).collect();
        format!("unknown --test-case '{}'; choose one of {}", args.test_case, names.join(", "))
    })?;
    anyhow::ensure!((1..=1000).contains(&args.runs), "--runs must be between 1 and 1000");
    let custom_query = match &args.custom_query_file {
        Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("cannot read --custom-query-file {}", f.display()))?),
        None => args.custom_query.clone(),
    };
    let bindvars: serde_json::Value =
        serde_json::from_str(&args.custom_query_bindvars).context("--custom-query-bindvars is not valid JSON")?;
    let opts = bench::Options {
        address: server::parse_endpoint(&args.endpoint)?.to_string(),
        database: args.database,
        username: args.username,
        password: args.password.or_else(|| std::env::var("ARANGO_ROOT_PASSWORD").ok()).unwrap_or_default(),
        threads: args.threads,
        requests: args.requests,
        duration: args.duration.map(std::time::Duration::from_secs),
        batch_size: args.batch_size.max(1),
        collection: args.collection,
        wait_for_sync: args.wait_for_sync,
        number_of_shards: args.number_of_shards,
        replication_factor: args.replication_factor,
        keep_alive: args.keep_alive,
        complexity: args.complexity,
        custom_query,
        custom_query_bindvars: bindvars,
        http_method: args.http_method,
        http_path: args.http_path,
        http_body: args.http_body,
        progress: !args.quiet,
    };
    let mut reports = Vec::new();
    for _ in 0..args.runs {
        let report = bench::run(&opts, case)?;
        let l = &report.latency_ms;
        let ms = |p: &str| l[p].as_f64().unwrap_or(0.0);
        println!(
            "{:<16} threads {:>3}  requests {:>8}  errors {:>6}  {:>10.0} req/s  {:>10.0} docs/s  p50 {:.3}  p80 {:.3}  p85 {:.3}  p90 {:.3}  p95 {:.3}  p99 {:.3} ms",
            case.name(), report.threads, report.requests, report.errors, report.requests_per_s, report.documents_per_s,
            ms("50"), ms("80"), ms("85"), ms("90"), ms("95"), ms("99")
        );
        if let Some(e) = &report.first_error {
            eprintln!("rango bench: {} errors {}; first: {e}", report.errors, report.error_kinds);
        }
        reports.push(report);
    }
    if let Some(path) = &args.json {
        // One run: the report itself; several: every run and the mean rates.
        let out = if reports.len() == 1 {
            serde_json::to_value(&reports[0])?
        } else {
            let mean = |f: fn(&bench::Report) -> f64| reports.iter().map(f).sum::<f64>() / reports.len() as f64;
            serde_json::json!({
                "case": case.name(), "threads": opts.threads,
                "requests_per_s": mean(|r| r.requests_per_s), "documents_per_s": mean(|r| r.documents_per_s),
                "latency_ms": reports[reports.len() / 2].latency_ms, "runs": reports,
            })
        };
        std::fs::write(path, serde_json::to_vec_pretty(&out)?).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let failed: u64 = reports.iter().map(|r| r.errors).sum();
    let total: u64 = reports.iter().map(|r| r.requests).sum();
    anyhow::ensure!(failed == 0, "{failed} of {total} requests failed");
    Ok(())
}

#[derive(Parser)]
struct ServerArgs {
    /// Where to listen, as tcp://HOST:PORT.
    #[arg(long = "server.endpoint", default_value = "tcp://127.0.0.1:8529")]
    endpoint: String,
    /// Directory for the database files.
    #[arg(long = "database.directory", default_value = "./rango-data")]
    database_directory: PathBuf,
    /// Require credentials (HTTP Basic or JWT) on every request but the open ones.
    #[arg(long = "server.authentication", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    authentication: bool,
    /// File holding the secret that signs and checks JWTs.
    #[arg(long = "server.jwt-secret-keyfile", conflicts_with = "jwt_secret_folder")]
    jwt_secret_keyfile: Option<PathBuf>,
    /// Folder of JWT secret files: the first by name signs, all are accepted (rotation).
    #[arg(long = "server.jwt-secret-folder")]
    jwt_secret_folder: Option<PathBuf>,
    /// Largest request body accepted, in bytes (after decompression).
    #[arg(long = "server.maximal-body-size", default_value_t = 512 << 20)]
    maximal_body_size: usize,
    /// Allow UTF-8 names for databases and collections.
    #[arg(long = "database.extended-names", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    extended_names: bool,
    /// Log level: fatal, error, warning, info, debug or trace (`topic=level` is accepted;
    /// the level of `general` or of no topic counts).
    #[arg(long = "log.level", default_value = "info")]
    log_level: Vec<String>,
    /// Write the log to this file instead of standard error.
    #[arg(long = "log.file")]
    log_file: Option<PathBuf>,
    /// Run as an agent of the Agency.
    #[arg(long = "agency.activate", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    agency_activate: bool,
    /// Number of agents (odd).
    #[arg(long = "agency.size", default_value_t = 1)]
    agency_size: usize,
    /// This agent's address as the others reach it, such as tcp://127.0.0.1:8531.
    #[arg(long = "agency.my-address")]
    agency_my_address: Option<String>,
    /// Another agent's address (repeat for each; all agents of the Agency must be named).
    #[arg(long = "agency.endpoint")]
    agency_endpoint: Vec<String>,
    /// Shortest election timeout in seconds (ArangoDB's default is 1; Rango's 0.3 fails over faster).
    #[arg(long = "agency.election-timeout-min", default_value_t = 0.3)]
    agency_election_timeout_min: f64,
    /// Longest election timeout in seconds.
    #[arg(long = "agency.election-timeout-max", default_value_t = 0.6)]
    agency_election_timeout_max: f64,
    /// Snapshot the Agency's state after this many log entries.
    #[arg(long = "agency.compaction-step-size", default_value_t = 1000)]
    agency_compaction_step_size: u64,
    /// Log entries kept behind a snapshot, for agents that lag.
    #[arg(long = "agency.compaction-keep-size", default_value_t = 50_000)]
    agency_compaction_keep_size: u64,
    /// Run the Supervision (accepted for compatibility; it comes with the cluster issue).
    #[arg(long = "agency.supervision", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    agency_supervision: bool,
}


fn log_filter(levels: &[String]) -> &'static str {
    let mut chosen = "info";
    for l in levels {
        let (topic, level) = l.split_once('=').unwrap_or(("general", l));
        if topic == "general" {
            chosen = match level.to_ascii_lowercase().as_str() {
                "fatal" | "error" => "error",
                "warning" | "warn" => "warn",
                "debug" => "debug",
                "trace" => "trace",
                _ => "info",
            };
        }
    }
    chosen
}

fn init_logging(args: &ServerArgs) -> anyhow::Result<()> {
    let builder = tracing_subscriber::fmt().with_env_filter(log_filter(&args.log_level)).with_target(false);
    match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open --log.file {}", path.display()))?;
            builder.with_ansi(false).with_writer(std::sync::Mutex::new(file)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn run_server(args: ServerArgs) -> anyhow::Result<()> {
    init_logging(&args)?;
    let jwt_secret = match (&args.jwt_secret_keyfile, &args.jwt_secret_folder) {
        (Some(file), _) => server::auth::SecretSource::File(file.clone()),
        (None, Some(folder)) => server::auth::SecretSource::Folder(folder.clone()),
        (None, None) => server::auth::SecretSource::Generated,
    };
    let agency = if args.agency_activate {
        anyhow::ensure!(
            !args.authentication || args.jwt_secret_keyfile.is_some() || args.jwt_secret_folder.is_some(),
            "agents authenticate to each other with the cluster's JWT secret: give every agent the same \
             --server.jwt-secret-keyfile (or --server.jwt-secret-folder), or run with --server.authentication false"
        );
        anyhow::ensure!(args.agency_size % 2 == 1, "--agency.size must be odd, not {}", args.agency_size);
        anyhow::ensure!(
            args.agency_election_timeout_min > 0.0 && args.agency_election_timeout_max > args.agency_election_timeout_min,
            "--agency.election-timeout-max must be greater than --agency.election-timeout-min (> 0)"
        );
        let my = args.agency_my_address.clone().unwrap_or_else(|| args.endpoint.clone());
        let mut endpoints = args.agency_endpoint.clone();
        endpoints.push(my.clone());
        endpoints.sort();
        endpoints.dedup();
        anyhow::ensure!(
            endpoints.len() == args.agency_size,
            "--agency.size is {} but {} agents are named (this one and each --agency.endpoint); name them all",
            args.agency_size,
            endpoints.len()
        );
        Some(agency::agent::AgentConfig {
            my_endpoint: my,
            endpoints,
            election_timeout_min_ms: (args.agency_election_timeout_min * 1000.0) as u64,
            election_timeout_max_ms: (args.agency_election_timeout_max * 1000.0) as u64,
            compaction_step_size: args.agency_compaction_step_size,
            compaction_keep_size: args.agency_compaction_keep_size,
            dir: args.database_directory.join("agency"),
        })
    } else {
        None
    };
    let config = server::Config {
        endpoint: args.endpoint,
        database_directory: args.database_directory,
        authentication: args.authentication,
        jwt_secret,
        root_password: std::env::var("ARANGO_ROOT_PASSWORD").unwrap_or_default(),
        maximal_body_size_bytes: args.maximal_body_size,
        extended_names: args.extended_names,
        agency,
    };
    // Handlers run AQL, whose evaluator recurses through expression trees (bounded by the
    // parser's `TREE_DEPTH_MAX`): give every thread room for that, beyond the 2 MiB default.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(server::QUERY_STACK_BYTES)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(server::start(config, shutdown_signal(), |_| {}))?;
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => run_server(*args),
        Command::Bench(args) => run_bench(*args),
    };
    if let Err(e) = result {
        eprintln!("rango: {e:#}");
        std::process::exit(1);
    }
}
