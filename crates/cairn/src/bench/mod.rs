//! `cairn bench`: ingest, LookupEvents, trail delivery and Lake query benchmarks, with DuckDB as the peer in the
//! same run.
//!
//! `ingest` times durable appends through the store's ingest path; `lookup` builds (or reuses) a store of N
//! generated events, times LookupEvents for every lookup attribute and for time windows, writes the same events
//! as gzip JSON log files, and runs `bench/duckdb_peer.py` to time the equivalent SQL over them (as one Parquet
//! file written by DuckDB, and over the gzip JSON directly), printing one markdown table with the ratios.
//! `deliver` times trail delivery (throughput while appending, catch-up, and the latency from an append to its
//! log file in the bucket) against DuckDB and `gzip` writing the same events as gzip JSON. `lake` times CloudTrail
//! Lake query shapes over an event data store against DuckDB over its segments and over gzip JSON, and durable
//! ingest while queries run. `insights` scores the Insights detector on simulated traffic. BENCHMARKS.md records the figures (house rule 11). Records come from the seeded
//! [`generator`]; `ingest` and `lookup` reach the store only through [`store::BenchStore`], the one place that
//! knows the event store's API, while `deliver` and `lake` wire the store (and delivery or the Lake) as
//! `cairn serve` does.

mod deliver;
mod generator;
mod import;
mod ingest;
mod insights;
mod lake;
mod lookup;
mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};

use generator::GeneratorConfig;

/// Benchmarks of the event store and trail delivery, with DuckDB as the peer (see BENCHMARKS.md).
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BenchCommand {
    /// Durable ingest throughput: batches appended from concurrent tasks, as PutAuditEvents or an import would.
    Ingest(ingest::IngestArgs),
    /// LookupEvents latency per attribute and time window, and the same queries in DuckDB.
    Lookup(lookup::LookupArgs),
    /// Trail delivery: throughput while appending and catching up, append-to-object latency, and DuckDB and
    /// gzip writing the same events as gzip JSON.
    Deliver(deliver::DeliverArgs),
    /// CloudTrail Lake: the common query shapes over one event data store, the same queries in DuckDB (over the
    /// store's Parquet segments and over gzip JSON), and durable ingest with and without queries running.
    Lake(lake::LakeArgs),
    /// `cairn import` of gzip JSON log files in the S3 layout, and DuckDB reading the same files into Parquet.
    Import(import::ImportArgs),
    /// Insights: weeks of simulated traffic with injected anomalies, scored for recall, precision, delay and
    /// attribution.
    Insights(insights::InsightsArgs),
}

/// What the generated events look like; shared by every benchmark.
#[derive(Debug, Clone, clap::Args)]
struct DataArgs {
    /// Seed of the record generator: the same seed gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Event times are spread over this many days ending now (at most 89, to stay inside Event history).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=89))]
    window_days: u32,
}

impl DataArgs {
    fn generator_config(&self, n_events: u64, end: Timestamp) -> GeneratorConfig {
        // Whole seconds, as event times are: the window then holds every generated event.
        let end = Timestamp::from_second(end.as_second()).unwrap_or(end);
        let start = end.saturating_sub(SignedDuration::from_hours(24 * i64::from(self.window_days))).unwrap_or(end);
        GeneratorConfig { seed: self.seed, n_events, start, end }
    }
}

pub(crate) fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Ingest(args) => ingest::run(args),
        BenchCommand::Lookup(args) => lookup::run(args),
        BenchCommand::Deliver(args) => deliver::run(args),
        BenchCommand::Lake(args) => lake::run(args),
        BenchCommand::Import(args) => import::run(args),
        BenchCommand::Insights(args) => insights::run(args),
    }
}

/// Runs `bench/duckdb_peer.py` (or `script`) with `python` and `args`, then reads the JSON it wrote to
/// `dir/results_file`. Every benchmark's DuckDB peer goes through here.
fn run_duckdb_peer(
    python: &Path,
    script: Option<&Path>,
    args: &[String],
    dir: &Path,
    results_file: &str,
) -> anyhow::Result<serde_json::Value> {
    let script = match script {
        Some(script) => script.to_path_buf(),
        None => {
            let here = PathBuf::from("bench/duckdb_peer.py");
            if here.exists() { here } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/duckdb_peer.py") }
        }
    };
    eprintln!("running the DuckDB peer: {} {} {} …", python.display(), script.display(), args.join(" "));
    let status = std::process::Command::new(python)
        .arg(&script)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .status()
        .with_context(|| {
            format!(
                "running {} (set CAIRN_BENCH_PYTHON to a Python with bench/requirements.txt installed, or pass --no-peer)",
                python.display()
            )
        })?;
    anyhow::ensure!(status.success(), "the DuckDB peer failed: {status}");
    let path = dir.join(results_file);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// A tokio runtime with one worker per core, as `cairn serve` has.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the tokio runtime")
}

/// Latency samples and their percentiles.
#[derive(Debug, Default, Clone)]
struct Samples {
    values: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, value: Duration) {
        self.values.push(value);
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// The nearest-rank percentile (`q` in 0..=1); zero when empty. With 50 samples, p99 is the maximum.
    fn percentile(&self, q: f64) -> Duration {
        let mut sorted = self.values.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The figures this process's memory reaches, from `/proc/self/status` (Linux).
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    /// Resident set size now, in bytes.
    rss: u64,
    /// Peak resident set size (VmHWM), in bytes.
    peak: u64,
}

fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Memory { rss: field("VmRSS:"), peak: field("VmHWM:") }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Bytes the files under `dir` take on disk (allocated blocks) and their apparent length.
#[derive(Debug, Clone, Copy, Default)]
struct DiskUsage {
    allocated: u64,
    apparent: u64,
    files: u64,
}

fn disk_usage(dir: &Path) -> anyhow::Result<DiskUsage> {
    use std::os::unix::fs::MetadataExt as _;
    let mut usage = DiskUsage::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                usage.allocated += metadata.blocks() * 512;
                usage.apparent += metadata.len();
                usage.files += 1;
            }
        }
    }
    Ok(usage)
}

/// `disk_usage` of each directory directly under `dir` (e.g. `wal`, `datasets`), as `name B/event` pairs.
fn disk_breakdown(dir: &Path, n_events: u64) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.metadata()?.is_dir() {
            let usage = disk_usage(&entry.path())?;
            parts.push(format!(
                "{} {:.0}",
                entry.file_name().to_string_lossy(),
                usage.allocated as f64 / n_events.max(1) as f64
            ));
        }
    }
    parts.sort();
    Ok(parts.join(", "))
}

/// Creates `dir` if needed and checks that it is empty: the benchmarks start from a fresh store.
fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!("{} is not empty: the benchmark needs a fresh directory (remove it first)", dir.display());
    }
    Ok(())
}

/// A directory for one run when none was given; removed when dropped.
#[derive(Debug)]
struct ScratchDir {
    path: PathBuf,
    remove: bool,
}

impl ScratchDir {
    fn new(given: Option<PathBuf>, label: &str) -> ScratchDir {
        match given {
            Some(path) => ScratchDir { path, remove: false },
            None => {
                let unique =
                    format!("cairn-bench-{label}-{}-{}", std::process::id(), Timestamp::now().as_millisecond());
                ScratchDir { path: std::env::temp_dir().join(unique), remove: true }
            }
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The command line this process was started with, as `cairn …`.
fn command_line() -> String {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    words.insert(0, "cairn".to_owned());
    words.join(" ")
}

/// The 1-minute load average: other work on the machine shares its cores with the benchmark.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// `nproc` and the CPU model, for the report header.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')).map(|(_, m)| m.trim()))
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(String::from("?"), |kb| format!("{:.1} GiB", kb as f64 / (1024.0 * 1024.0)));
    format!("{cores} cores ({model}), {memory} RAM")
}
