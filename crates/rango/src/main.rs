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
    Server(ServerArgs),
    /// Generate load against a server, as arangobench does.
    Bench(BenchArgs),
}

#[derive(Parser)]
struct BenchArgs {
    /// Workload: version, document, document-read, document-update, document-remove, import-document.
    #[arg(long = "test-case", default_value = "version")]
    test_case: String,
    /// Concurrent keep-alive clients.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Requests in total.
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    /// Documents per request for import-document.
    #[arg(long = "batch-size", default_value_t = 1000)]
    batch_size: u64,
    /// Extra payload bytes per document.
    #[arg(long, default_value_t = 40)]
    complexity: usize,
    /// Collection to (re)create and use.
    #[arg(long, default_value = "ArangoBenchCollection")]
    collection: String,
    /// Write with waitForSync.
    #[arg(long = "wait-for-sync", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    wait_for_sync: bool,
    #[arg(long = "server.endpoint", default_value = "tcp://127.0.0.1:8529")]
    endpoint: String,
    #[arg(long = "server.database", default_value = "_system")]
    database: String,
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

fn run_bench(args: BenchArgs) -> anyhow::Result<()> {
    let case = bench::Case::parse(&args.test_case).with_context(|| {
        let names: Vec<&str> = bench::Case::ALL.iter().map(|(n, _)| *n).collect();
        format!("unknown --test-case '{}'; choose one of {}", args.test_case, names.join(", "))
    })?;
    anyhow::ensure!(args.threads >= 1 && args.threads <= 1024, "--threads must be between 1 and 1024");
    anyhow::ensure!(args.requests >= 1, "--requests must be at least 1");
    let address = server::parse_endpoint(&args.endpoint)?.to_string();
    let opts = bench::Options {
        address,
        database: args.database,
        username: args.username,
        password: args.password.or_else(|| std::env::var("ARANGO_ROOT_PASSWORD").ok()).unwrap_or_default(),
        threads: args.threads,
        requests: args.requests,
        batch_size: args.batch_size.max(1),
        collection: args.collection,
        wait_for_sync: args.wait_for_sync,
        complexity: args.complexity,
        progress: !args.quiet,
    };
    let report = bench::run(&opts, case)?;
    let l = &report.latency_ms;
    println!(
        "{:<16} threads {:>3}  requests {:>8}  errors {:>6}  {:>10.0} req/s  {:>10.0} docs/s  p50 {:.3} ms  p99 {:.3} ms",
        case.name(), report.threads, report.requests, report.errors, report.requests_per_s, report.documents_per_s, l["50"].as_f64().unwrap_or(0.0), l["99"].as_f64().unwrap_or(0.0)
    );
    if let Some(e) = &report.first_error {
        eprintln!("rango bench: first error: {e}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?).with_context(|| format!("cannot write {}", path.display()))?;
    }
    anyhow::ensure!(report.errors == 0, "{} of {} requests failed", report.errors, report.requests);
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
    let config = server::Config {
        endpoint: args.endpoint,
        database_directory: args.database_directory,
        authentication: args.authentication,
        jwt_secret,
        root_password: std::env::var("ARANGO_ROOT_PASSWORD").unwrap_or_default(),
        maximal_body_size_bytes: args.maximal_body_size,
        extended_names: args.extended_names,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(server::start(config, shutdown_signal(), |_| {}))?;
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => run_server(args),
        Command::Bench(args) => run_bench(args),
    };
    if let Err(e) = result {
        eprintln!("rango: {e:#}");
        std::process::exit(1);
    }
}
