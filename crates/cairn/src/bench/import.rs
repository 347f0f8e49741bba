//! `cairn bench import`: `cairn import` of N generated events from gzip JSON log files in the S3 layout, and DuckDB
//! reading the same files into Parquet (`read_json` … `COPY … (FORMAT parquet)`) in the same run.
//!
//! The data directory holds `logs/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz` (one file per
//! account and region, closed at `--records-per-file` records or when the day changes, gzip level 6 as S3 log
//! files are), `cairn/` (the cairn data directory the import creates) and `duckdb-import/` (the peer's output,
//! written by `bench/duckdb_peer.py --mode import`, which also writes `import-peer-results.json`). cairn is timed
//! in this process through the very function `cairn import` runs ([`crate::import::execute`]: listing the
//! files, opening the data directory and the store, reading, converting, writing and committing the segments).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Deserialize;

use super::generator::{Generator, GeneratorConfig};
use super::{DataArgs, command_line, disk_usage, load_average, machine, memory, mib};
use crate::import::{Outcome, Request};
use crate::offline::Offline;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// Events to generate and import.
    #[arg(long, default_value_t = 5_000_000)]
    events: u64,
    /// Records per log file at most (files are per account, region and day).
    #[arg(long, default_value_t = 2_000)]
    records_per_file: usize,
    /// A quick run for the test script: 20,000 events.
    #[arg(long)]
    smoke: bool,
    /// A fresh directory for the data [default: a temporary directory, removed at the end].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Skip the DuckDB peer.
    #[arg(long)]
    no_peer: bool,
    /// The Python that has `duckdb` (bench/requirements.txt).
    #[arg(long, env = "CAIRN_BENCH_PYTHON", default_value = ".venv/bin/python")]
    python: PathBuf,
    /// The peer script [default: bench/duckdb_peer.py in the working directory, else in the source tree].
    #[arg(long)]
    peer_script: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

/// The store the events go into.
const STORE: &str = "bench-import";

pub(super) fn run(mut args: ImportArgs) -> anyhow::Result<()> {
    let load_at_start = load_average();
    if args.smoke {
        args.events = 20_000;
    }
    anyhow::ensure!(args.events > 0 && args.records_per_file > 0, "--events and --records-per-file must be positive");
    let scratch = super::ScratchDir::new(args.data_dir.clone(), "import");
    let dir = scratch.path.clone();
    super::fresh_dir(&dir)?;
    let logs = dir.join("logs");

    let config = args.data.generator_config(args.events, Timestamp::now());
    eprintln!(
        "writing {} events (seed {}) as gzip JSON log files under {} …",
        args.events,
        args.data.seed,
        logs.display()
    );
    let generated = generate(&config, &logs, args.records_per_file)?;
    eprintln!(
        "  {} files, {:.1} MiB gzip, {:.1} MiB JSON in {:.1} s",
        generated.n_files,
        mib(generated.gzip_bytes),
        mib(generated.json_bytes),
        generated.seconds
    );

    eprintln!("cairn import {} --store {STORE} --data-dir {} …", logs.display(), dir.join("cairn").display());
    let data_dir = dir.join("cairn");
    let request = Request {
        paths: std::slice::from_ref(&logs),
        store: STORE,
        data_dir: &data_dir,
        errors: None,
        progress: false,
    };
    let outcome = crate::import::execute(&request)?;
    eprintln!("  {}", outcome.summary(STORE));
    let peak = memory().peak;
    check(&outcome, &generated, args.events, &data_dir)?;
    let store_usage = disk_usage(&data_dir.join("datasets"))?;

    let peer = if args.no_peer { None } else { Some(run_peer(&args, &dir)?) };
    report(
        &args,
        &generated,
        &outcome,
        peer.as_ref(),
        &Figures { load_at_start, peak, store_bytes: store_usage.allocated },
    );
    drop(scratch);
    Ok(())
}

/// What was written for both engines to read.
struct Generated {
    n_files: u64,
    gzip_bytes: u64,
    json_bytes: u64,
    seconds: f64,
}

/// Where a record goes: the members of its log file's key.
#[derive(Deserialize)]
struct Placement<'a> {
    #[serde(rename = "recipientAccountId")]
    account: &'a str,
    #[serde(rename = "awsRegion")]
    region: &'a str,
    #[serde(rename = "eventTime")]
    time: &'a str,
}

/// An open log file: its writer, the day its key names, and its records so far.
struct OpenFile {
    encoder: GzEncoder<BufWriter<File>>,
    day: String,
    n_records: usize,
}

fn generate(config: &GeneratorConfig, logs: &Path, records_per_file: usize) -> anyhow::Result<Generated> {
    let started = Instant::now();
    let mut generator = Generator::new(config.clone());
    let mut names = StdRng::seed_from_u64(config.seed);
    let mut open: HashMap<(String, String), OpenFile> = HashMap::new();
    let mut generated = Generated { n_files: 0, gzip_bytes: 0, json_bytes: 0, seconds: 0.0 };
    for _ in 0..config.n_events {
        let text = generator.next_record();
        let placement: Placement<'_> = serde_json::from_str(&text).context("a generated record without its place")?;
        let day = placement.time.get(..10).context("a generated eventTime")?.to_owned();
        let key = (placement.account.to_owned(), placement.region.to_owned());
        if open.get(&key).is_some_and(|file| file.day != day || file.n_records >= records_per_file)
            && let Some(full) = open.remove(&key)
        {
            generated.gzip_bytes += close(full)?;
        }
        let file = match open.entry(key) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let path = log_file_path(logs, &placement, &mut names)?;
                generated.n_files += 1;
                entry.insert(create(&path, day)?)
            }
        };
        file.encoder.write_all(if file.n_records == 0 { b"{\"Records\":[" } else { b"," })?;
        file.encoder.write_all(text.as_bytes())?;
        file.n_records += 1;
        generated.json_bytes += text.len() as u64 + 1;
    }
    for (_, file) in open.drain() {
        generated.gzip_bytes += close(file)?;
    }
    generated.seconds = started.elapsed().as_secs_f64();
    Ok(generated)
}

/// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 chars>.json.gz`,
/// named by the first record's time.
fn log_file_path(logs: &Path, placement: &Placement<'_>, names: &mut StdRng) -> anyhow::Result<PathBuf> {
    let time: Timestamp = placement.time.parse().context("a generated eventTime")?;
    let folder = logs
        .join("AWSLogs")
        .join(placement.account)
        .join("CloudTrail")
        .join(placement.region)
        .join(time.strftime("%Y/%m/%d").to_string());
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let unique: String = (0..16).map(|_| char::from(ALPHABET[names.random_range(0..ALPHABET.len())])).collect();
    let name = format!(
        "{}_CloudTrail_{}_{}_{unique}.json.gz",
        placement.account,
        placement.region,
        time.strftime("%Y%m%dT%H%MZ")
    );
    Ok(folder.join(name))
}

fn create(path: &Path, day: String) -> anyhow::Result<OpenFile> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(OpenFile { encoder: GzEncoder::new(BufWriter::new(file), Compression::default()), day, n_records: 0 })
}

/// Ends a log file; returns its compressed length.
fn close(mut file: OpenFile) -> anyhow::Result<u64> {
    file.encoder.write_all(b"]}")?;
    let mut writer = file.encoder.finish()?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(file.metadata()?.len())
}

/// The import took every generated event and the store answers with all of them.
fn check(outcome: &Outcome, generated: &Generated, n_events: u64, data_dir: &Path) -> anyhow::Result<()> {
    let t = &outcome.tallies;
    anyhow::ensure!(
        t.refused == 0 && t.files_failed == 0 && t.files_read == generated.n_files,
        "the import refused {} records and failed {} files, and read {} of {} files",
        t.refused,
        t.files_failed,
        t.files_read,
        generated.n_files
    );
    let offline = Offline::open(data_dir, "bench")?;
    let counted = offline.runtime.block_on(async {
        let lake = offline.lake().await?;
        anyhow::Ok(lake.query_now(&format!("SELECT COUNT(*) FROM \"{STORE}\"")).await)
    });
    offline.close();
    let result = counted?.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
    let counted = result.rows.first().and_then(|row| row.first()).cloned().flatten().unwrap_or_default();
    anyhow::ensure!(
        counted == n_events.to_string() && outcome.n_events == n_events,
        "{n_events} events generated, the import reported {} and the store holds {counted}",
        outcome.n_events
    );
    Ok(())
}

fn run_peer(args: &ImportArgs, dir: &Path) -> anyhow::Result<serde_json::Value> {
    let mode = ["--mode".to_owned(), "import".to_owned()];
    super::run_duckdb_peer(&args.python, args.peer_script.as_deref(), &mode, dir, "import-peer-results.json")
}

struct Figures {
    load_at_start: String,
    /// Peak resident memory of this process after the import (VmHWM).
    peak: u64,
    store_bytes: u64,
}

fn report(
    args: &ImportArgs,
    generated: &Generated,
    outcome: &Outcome,
    peer: Option<&serde_json::Value>,
    figures: &Figures,
) {
    let n = outcome.n_events as f64;
    let gzip_mb = generated.gzip_bytes as f64 / 1e6;
    println!("## cairn bench import\n");
    println!("command: `{}`  ", command_line());
    println!(
        "machine: {}; 1-minute load average {} at the start, {} at the end  ",
        machine(),
        figures.load_at_start,
        load_average()
    );
    println!("date: {}  ", Timestamp::now().strftime("%Y-%m-%d"));
    println!("build: {}  ", if cfg!(debug_assertions) { "debug (dev profile)" } else { "release" });
    let threads = peer.and_then(|p| p.get("threads")).map(|t| t.to_string().trim_matches('"').to_owned());
    if let Some(version) = peer.and_then(|p| p.get("duckdb_version")).and_then(|v| v.as_str()) {
        println!(
            "peer: DuckDB {version} (Python, {} threads), same machine, same run, same files  ",
            threads.as_deref().unwrap_or("?")
        );
    }
    println!(
        "data: {} events (seed {}, {} days) in {} gzip JSON log files in the S3 layout (≤ {} records each, gzip -6): \
         {:.1} MB gzip, {:.1} MB JSON\n",
        outcome.n_events,
        args.data.seed,
        args.data.window_days,
        generated.n_files,
        args.records_per_file,
        gzip_mb,
        generated.json_bytes as f64 / 1e6
    );
    println!("| engine | writes | time | events/s | MB/s of gzip input | output | cairn ÷ engine (events/s) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let cairn_rate = n / outcome.seconds.max(1e-9);
    println!(
        "| cairn import | event data store: Lake schema, zstd Parquet segments sorted by time, fsynced | {:.2} s | {:.0} | {:.1} | {:.1} MiB | – |",
        outcome.seconds,
        cairn_rate,
        gzip_mb / outcome.seconds.max(1e-9),
        mib(figures.store_bytes)
    );
    let mut missed = Vec::new();
    if let Some(variants) = peer.and_then(|p| p.get("variants")).and_then(|v| v.as_object()) {
        for (name, variant) in variants {
            let what = variant.get("writes").and_then(|v| v.as_str()).unwrap_or(name);
            match variant.get("seconds").and_then(|v| v.as_f64()) {
                Some(seconds) => {
                    let rows = variant.get("rows").and_then(|v| v.as_f64()).unwrap_or(0.0);
                    let rate = rows / seconds.max(1e-9);
                    let ratio = cairn_rate / rate.max(1e-9);
                    if ratio <= 1.0 {
                        missed.push(name.clone());
                    }
                    let bytes = variant.get("bytes").and_then(|v| v.as_u64()).unwrap_or(0);
                    println!(
                        "| DuckDB, {name} | {what} | {seconds:.2} s | {rate:.0} | {:.1} | {:.1} MiB | {} |",
                        gzip_mb / seconds.max(1e-9),
                        mib(bytes),
                        if ratio > 1.0 { format!("{ratio:.2}") } else { format!("**{ratio:.2}** (missed)") }
                    );
                    if rows as u64 != outcome.n_events {
                        println!("\n**DuckDB ({name}) wrote {rows} rows, cairn {} events.**\n", outcome.n_events);
                    }
                }
                None => {
                    let error = variant.get("error").and_then(|v| v.as_str()).unwrap_or("no result");
                    println!("| DuckDB, {name} | {what} | failed: {} | – | – | – | – |", error.replace('|', "/"));
                }
            }
        }
    }
    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| cairn import | {} files read, {} records refused, {} files failed; peak RSS (VmHWM, whole process) {:.0} MiB |",
        outcome.tallies.files_read,
        outcome.tallies.refused,
        outcome.tallies.files_failed,
        mib(figures.peak)
    );
    println!(
        "| cairn import cores | {} reading threads (gunzip, split, check, Arrow) pipelined with one writer (sort, Parquet, commit) |",
        std::thread::available_parallelism().map_or(2, |n| n.get())
    );
    println!("| generating the files (not timed above) | {:.1} s |", generated.seconds);
    if let Some(sql) = peer.and_then(|p| p.get("sql")).and_then(|v| v.as_object()) {
        println!("\nDuckDB statements:\n");
        for (name, statement) in sql {
            let text = statement.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
            println!("- {name}: `{text}`");
        }
    }
    if !missed.is_empty() {
        println!("\ntarget missed (cairn faster than DuckDB): {}", missed.join(", "));
    }
}
