//! The `cairn` binary: command line, configuration and wiring; no service logic.

mod bench;
mod bootstrap;
mod config;
mod export;
mod import;
mod insights;
mod lake;
mod log_streaming;
mod offline;
mod query;
mod security_alarms;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A self-hosted audit trail that speaks the AWS CloudTrail API.
#[derive(Debug, Parser)]
#[command(name = "cairn", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the CloudTrail API (and the embedded S3 endpoint) until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Import CloudTrail log files (json, json.gz, NDJSON) into an event data store of a data directory.
    Import(import::ImportArgs),
    /// Run a CloudTrail Lake SQL statement against a data directory that no server holds.
    Query(query::QueryArgs),
    /// Run Insights over an event data store's events after the fact (e.g. an imported archive) and write the
    /// insight events found into the store.
    Insights(insights::InsightsArgs),
    /// Export an event data store's events as CloudTrail log files in the S3 layout, or as Parquet.
    Export(export::ExportArgs),
    /// Benchmarks of the event store and trail delivery, with DuckDB as the peer (results in BENCHMARKS.md).
    Bench(bench::BenchArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4590].
    #[arg(long, env = "CAIRN_LISTEN")]
    listen: Option<String>,
    /// The web console's address [default: the API's port + 1, e.g. 127.0.0.1:4591].
    #[arg(long, env = "CAIRN_CONSOLE_LISTEN")]
    console_listen: Option<String>,
    /// Write the console's bound address (ADDRESS:PORT) to this file once listening.
    #[arg(long)]
    console_address_file: Option<PathBuf>,
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file (identities, organization, SNS topics, external buckets).
    #[arg(long, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// Default region, printed for AWS_DEFAULT_REGION [default: us-east-1].
    #[arg(long, env = "CAIRN_REGION")]
    region: Option<String>,
    /// The default account's ID (12 digits); generated on first start if unset.
    #[arg(long, env = "CAIRN_ACCOUNT_ID")]
    account_id: Option<String>,
    /// The default account's root access key ID; generated on first start if unset.
    #[arg(long, env = "CAIRN_ROOT_ACCESS_KEY_ID")]
    root_access_key_id: Option<String>,
    /// The default account's root secret access key.
    #[arg(long, env = "CAIRN_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    root_secret_access_key: Option<String>,
    /// Accept any well-formed SigV4 request whatever its key and secret (local testing only).
    #[arg(long)]
    accept_any_credentials: bool,
    /// How often trails deliver log files, e.g. 1s or 5m [default: 5m].
    #[arg(long, env = "CAIRN_DELIVERY_INTERVAL")]
    delivery_interval: Option<String>,
    /// The digest period, e.g. 60s or 1h [default: 1h].
    #[arg(long, env = "CAIRN_DIGEST_INTERVAL")]
    digest_interval: Option<String>,
    /// How often digest signing keys rotate [default: 30d].
    #[arg(long, env = "CAIRN_SIGNING_KEY_ROTATION")]
    signing_key_rotation: Option<String>,
    /// Insights' learning period and baseline window, in whole minutes, e.g. 10m or 7d [default: 7d].
    #[arg(long, env = "CAIRN_INSIGHTS_LEARNING")]
    insights_learning: Option<String>,
    /// Keep the starter security alarms (CIS monitoring controls) as rules of the root account,
    /// sending their state changes to TARGET (a webhook URL or another rule target).
    #[arg(long, env = "CAIRN_SECURITY_ALARMS", value_name = "TARGET")]
    security_alarms: Option<String>,
    /// Write the bound address (ADDRESS:PORT) to this file once listening.
    #[arg(long)]
    address_file: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = serve::LogFormat::Text)]
    log_format: serve::LogFormat,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Import(args) => import::run(args),
        Command::Query(args) => query::run(args),
        Command::Insights(args) => insights::run(args),
        Command::Export(args) => export::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
