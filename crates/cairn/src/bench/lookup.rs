//! `cairn bench lookup`: LookupEvents latency for each lookup attribute and for time windows, and the
//! equivalent queries in DuckDB over the same events in the same run.
//!
//! The data directory holds `store/` (the event store), `json/` (the same events as CloudTrail log files,
//! `{"Records":[…]}` gzip JSON, one (account, region) per file), `manifest.json` (what was generated and the
//! query cases with the values to ask for), and, written by `bench/duckdb_peer.py`, `events.parquet` and
//! `peer-results.json`. All queries ask about the largest (account, region) partition, the worst case for a
//! store that partitions by them. Each case runs `--reps` lookups (cycling over its values) with MaxResults 50;
//! a cairn query follows NextTokens until it has 50 events or none are left, which is what the peer's
//! `LIMIT 50` answers in one statement.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context as _;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use cairn_store::events::LookupQuery;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use super::generator::{ACCOUNTS, Generator, GeneratorConfig, REGIONS};
use super::store::{BenchStore, Flushed, Opened};
use super::{DataArgs, Samples, command_line, disk_usage, load_average, machine, memory, mib, ms, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct LookupArgs {
    /// Events in the store.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Where the store, the gzip JSON and the Parquet file live [default: ./bench-data/lookup-<events>].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Reuse the data directory of an earlier run with the same --events and --seed instead of building it.
    #[arg(long)]
    reuse: bool,
    /// Lookups per case (cairn, and DuckDB over Parquet and in memory).
    #[arg(long, default_value_t = 50)]
    reps: usize,
    /// Queries per case for DuckDB over Parquet and in memory [default: --reps].
    #[arg(long)]
    peer_reps: Option<usize>,
    /// Queries per case over the gzip JSON, which DuckDB reads whole each time (0: skip that peer).
    #[arg(long, default_value_t = 3)]
    json_reps: usize,
    /// Events per durable append while building the store.
    #[arg(long, default_value_t = 5_000)]
    build_batch: usize,
    /// Skip the DuckDB peer.
    #[arg(long)]
    no_peer: bool,
    /// Also time DuckDB over an in-memory table loaded from the Parquet file (default: up to 2 M events).
    #[arg(long)]
    peer_memory: Option<bool>,
    /// The Python that has `duckdb` (bench/requirements.txt).
    #[arg(long, env = "CAIRN_BENCH_PYTHON", default_value = ".venv/bin/python")]
    python: PathBuf,
    /// The peer script [default: bench/duckdb_peer.py in the working directory, else in the source tree].
    #[arg(long)]
    peer_script: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
}

/// Records per gzip JSON file (CloudTrail writes one file per account, region and ~5 minutes).
const RECORDS_PER_FILE: usize = 5_000;
/// MaxResults of every lookup, the API's maximum.
const MAX_RESULTS: usize = 50;
/// A cairn query stops following NextTokens after this many pages.
const MAX_PAGES: usize = 10_000;
const MANIFEST_FORMAT: u32 = 1;

/// What a data directory holds, and the cases to run against it; read by the peer script too.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    n_events: u64,
    seed: u64,
    window_days: u32,
    start_ms: i64,
    end_ms: i64,
    /// The partition every query asks about.
    account: String,
    region: String,
    partition_events: u64,
    build_seconds: f64,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Case {
    name: String,
    /// The LookupAttributes key, or none for a time window alone.
    attribute: Option<String>,
    start_ms: i64,
    end_ms: i64,
    /// Values to ask for, cycled over the repetitions, with how many events in the partition and window have
    /// each (empty string for a time window alone).
    values: Vec<(String, u64)>,
}

pub(super) fn run(args: LookupArgs) -> anyhow::Result<()> {
    let load_at_start = load_average();
    anyhow::ensure!(
        args.events > 0 && args.reps > 0 && args.build_batch > 0,
        "--events, --reps and --build-batch must be positive"
    );
    let dir = args.data_dir.clone().unwrap_or_else(|| PathBuf::from(format!("bench-data/lookup-{}", args.events)));
    let manifest_path = dir.join("manifest.json");
    let runtime = runtime()?;

    let existing = if args.reuse { read_manifest(&manifest_path)? } else { None };
    let reused = existing
        .as_ref()
        .is_some_and(|m| m.format == MANIFEST_FORMAT && m.n_events == args.events && m.seed == args.data.seed);
    let (store, manifest, built) = if reused {
        let manifest = existing.context("manifest vanished")?;
        eprintln!("reusing {} ({} events)", dir.display(), manifest.n_events);
        let (store, opened) = runtime.block_on(BenchStore::open(&dir.join("store")))?;
        let (in_segments, in_tail) = store.n_events();
        anyhow::ensure!(
            in_segments + in_tail as u64 == manifest.n_events,
            "the store in {} has {} events, the manifest says {}",
            dir.display(),
            in_segments + in_tail as u64,
            manifest.n_events
        );
        (store, manifest, Built::Reused(opened))
    } else {
        if args.reuse {
            eprintln!(
                "nothing to reuse in {} for --events {} --seed {}: building",
                dir.display(),
                args.events,
                args.data.seed
            );
        }
        // Never removes anything: a directory holding something else is the user's to clear.
        super::fresh_dir(&dir)?;
        let (store, manifest, flushed) = build(&args, &dir, &runtime)?;
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
        (store, manifest, Built::Now(flushed))
    };
    let after_open = memory();
    let store_usage = disk_usage(&dir.join("store"))?;
    let store_breakdown = super::disk_breakdown(&dir.join("store"), manifest.n_events)?;
    let json_usage = disk_usage(&dir.join("json"))?;

    eprintln!("running {} cases × {} lookups …", manifest.cases.len(), args.reps);
    let mut results = Vec::with_capacity(manifest.cases.len());
    for case in &manifest.cases {
        results.push(runtime.block_on(measure(&store, &manifest, case, args.reps))?);
    }
    let after_lookups = memory();
    store.close();
    check_rows(&manifest, &results)?;

    let peer = if args.no_peer { None } else { Some(run_peer(&args, &dir, &manifest)?) };
    let n_differ = report(
        &args,
        &manifest,
        &results,
        peer.as_ref(),
        Report { store_usage, store_breakdown, json_usage, after_open, after_lookups, built, load_at_start },
    );
    anyhow::ensure!(n_differ == 0, "cairn and DuckDB returned different events for {n_differ} queries (listed above)");
    Ok(())
}

fn read_manifest(path: &Path) -> anyhow::Result<Option<Manifest>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// Generates the events into the store and the gzip JSON files, and picks the query cases from what it saw.
fn build(
    args: &LookupArgs,
    dir: &Path,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(BenchStore, Manifest, Flushed)> {
    let end = Timestamp::now();
    let config = args.data.generator_config(args.events, end);
    let json_dir = dir.join("json");
    std::fs::create_dir_all(&json_dir)?;
    let (store, _) = runtime.block_on(BenchStore::open(&dir.join("store")))?;
    eprintln!(
        "building {}: {} events (seed {}) into the store and gzip JSON …",
        dir.display(),
        args.events,
        args.data.seed
    );
    let started = Instant::now();

    // Generation, parsing and gzip run on their own thread; this one appends, so the two cores overlap.
    let (sender, receiver) = mpsc::sync_channel::<Vec<EventRecord>>(4);
    let batch = args.build_batch;
    let producer_config = config.clone();
    let producer = std::thread::spawn(move || produce(producer_config, json_dir, batch, sender));
    let appended = runtime.block_on(async {
        let mut n = 0u64;
        while let Ok(chunk) = receiver.recv() {
            n += chunk.len() as u64;
            store.append_durable(chunk).await?;
            if n % 1_000_000 < batch as u64 {
                eprintln!("  {n} events, {:.0} s", started.elapsed().as_secs_f64());
            }
        }
        let flushed = store.flush().await?;
        anyhow::Ok((n, flushed))
    });
    let counts = producer.join().map_err(|_| anyhow::anyhow!("the generator thread panicked"))??;
    let (appended, flushed) = appended?;
    anyhow::ensure!(appended == args.events, "appended {appended} of {} events", args.events);
    let build_seconds = started.elapsed().as_secs_f64();
    eprintln!("built in {build_seconds:.1} s");
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        n_events: args.events,
        seed: args.data.seed,
        window_days: args.data.window_days,
        start_ms: config.start.as_millisecond(),
        end_ms: config.end.as_millisecond(),
        account: counts.account.clone(),
        region: counts.region.clone(),
        partition_events: counts.partition,
        build_seconds,
        cases: counts.cases(),
    };
    Ok((store, manifest, flushed))
}

fn produce(
    config: GeneratorConfig,
    json_dir: PathBuf,
    batch: usize,
    sender: mpsc::SyncSender<Vec<EventRecord>>,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::new(&config);
    let mut generator = Generator::new(config.clone());
    let mut files = JsonFiles::new(json_dir);
    let mut chunk = Vec::with_capacity(batch);
    for i in 0..config.n_events {
        let text = generator.next_record();
        let record =
            EventRecord::parse(text.as_bytes()).with_context(|| format!("generated record {i} does not parse"))?;
        files.write(&record)?;
        counts.observe(&record);
        chunk.push(record);
        if chunk.len() == batch {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(batch));
            if sender.send(full).is_err() {
                anyhow::bail!("the store stopped taking events");
            }
        }
    }
    if !chunk.is_empty() && sender.send(chunk).is_err() {
        anyhow::bail!("the store stopped taking events");
    }
    files.finish()?;
    Ok(counts)
}

type Gzip = GzEncoder<BufWriter<File>>;

/// The gzip JSON log files being written, one open file per (account, region).
struct JsonFiles {
    dir: PathBuf,
    /// Per (account, region): the file being written and how many records it has.
    open: HashMap<(String, String), (Gzip, usize)>,
    n_files: u64,
}

impl JsonFiles {
    fn new(dir: PathBuf) -> JsonFiles {
        JsonFiles { dir, open: HashMap::new(), n_files: 0 }
    }

    fn write(&mut self, record: &EventRecord) -> anyhow::Result<()> {
        let account = record.recipient_account_id.clone().unwrap_or_else(|| "000000000000".into());
        let key = (account, record.aws_region.clone());
        let full = self.open.get(&key).is_some_and(|(_, n)| *n >= RECORDS_PER_FILE);
        if full && let Some((encoder, _)) = self.open.remove(&key) {
            finish(encoder)?;
        }
        if !self.open.contains_key(&key) {
            self.n_files += 1;
            let name = format!(
                "{}_CloudTrail_{}_{}_{:06}.json.gz",
                key.0,
                key.1,
                record.event_time.strftime("%Y%m%dT%H%MZ"),
                self.n_files
            );
            let file = File::create(self.dir.join(&name)).with_context(|| format!("creating {name}"))?;
            // Level 1: these files are the peer's input, and compressing them must not dominate the build.
            let mut encoder = GzEncoder::new(BufWriter::new(file), Compression::fast());
            encoder.write_all(b"{\"Records\":[\n")?;
            self.open.insert(key.clone(), (encoder, 0));
        }
        let (encoder, n) = self.open.get_mut(&key).context("json file vanished")?;
        if *n > 0 {
            encoder.write_all(b",\n")?;
        }
        encoder.write_all(record.text().as_bytes())?;
        *n += 1;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        for (_, (encoder, _)) in self.open {
            finish(encoder)?;
        }
        Ok(())
    }
}

fn finish(mut encoder: Gzip) -> anyhow::Result<()> {
    encoder.write_all(b"\n]}\n")?;
    let mut writer = encoder.finish()?;
    writer.flush()?;
    Ok(())
}

/// What the build saw of the queried partition: value counts per attribute, a sample of event IDs, and how
/// many events fall in each time window.
struct Counts {
    account: String,
    region: String,
    partition: u64,
    windows: Vec<(&'static str, i64, i64, u64)>,
    values: HashMap<LookupAttributeKey, HashMap<String, u64>>,
    event_ids: Vec<String>,
    rng: StdRng,
}

/// Event IDs sampled for the EventId case.
const N_EVENT_IDS: usize = 50;

impl Counts {
    fn new(config: &GeneratorConfig) -> Counts {
        let start = config.start.as_millisecond();
        let end = config.end.as_millisecond();
        let hour = SignedDuration::from_hours(1).as_millis() as i64;
        let middle = start + (end - start) / 2;
        Counts {
            account: ACCOUNTS[0].0.to_owned(),
            region: REGIONS[0].0.to_owned(),
            partition: 0,
            windows: vec![
                ("last hour", end - hour, end, 0),
                ("a day in the middle", middle - 12 * hour, middle + 12 * hour, 0),
                ("whole range", start, end, 0),
            ],
            values: HashMap::new(),
            event_ids: Vec::new(),
            rng: StdRng::seed_from_u64(config.seed ^ 0x5eed),
        }
    }

    fn observe(&mut self, record: &EventRecord) {
        let account = record.recipient_account_id.as_deref().or(record.user_identity.account_id.as_deref());
        if account != Some(self.account.as_str())
            || record.aws_region != self.region
            || record.event_category != "Management"
        {
            return;
        }
        self.partition += 1;
        let t = record.event_time.as_millisecond();
        for (_, start, end, n) in &mut self.windows {
            if (*start..=*end).contains(&t) {
                *n += 1;
            }
        }
        for key in LookupAttributeKey::ALL {
            if key == LookupAttributeKey::EventId {
                continue;
            }
            let counts = self.values.entry(key).or_default();
            for value in record.lookup_attribute_values(key) {
                match counts.get_mut(value) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(value.to_owned(), 1);
                    }
                }
            }
        }
        // Reservoir sampling: every event of the partition is equally likely to be asked for.
        if self.event_ids.len() < N_EVENT_IDS {
            self.event_ids.push(record.event_id.clone());
        } else {
            let slot = self.rng.random_range(0..self.partition) as usize;
            if let Some(id) = self.event_ids.get_mut(slot) {
                *id = record.event_id.clone();
            }
        }
    }

    /// Common values (the three most frequent) and rare ones (the five nearest to a handful of events, about
    /// one in 100,000 of the partition) for each attribute, then the time windows alone.
    fn cases(&self) -> Vec<Case> {
        let (start, end) = self.windows.iter().find(|w| w.0 == "whole range").map_or((0, 0), |w| (w.1, w.2));
        let rare_target = (self.partition / 100_000).max(3);
        let mut cases = Vec::new();
        for key in LookupAttributeKey::ALL {
            let attribute = Some(key.as_str().to_owned());
            let case = |name: String, values: Vec<(String, u64)>| Case {
                name,
                attribute: attribute.clone(),
                start_ms: start,
                end_ms: end,
                values,
            };
            if key == LookupAttributeKey::EventId {
                cases.push(case(
                    "EventId (one event)".into(),
                    self.event_ids.iter().map(|id| (id.clone(), 1)).collect(),
                ));
                continue;
            }
            let mut values: Vec<(String, u64)> =
                self.values.get(&key).map(|m| m.iter().map(|(v, n)| (v.clone(), *n)).collect()).unwrap_or_default();
            if values.is_empty() {
                continue;
            }
            if key == LookupAttributeKey::ReadOnly {
                for value in ["true", "false"] {
                    if let Some(found) = values.iter().find(|(v, _)| v == value) {
                        cases.push(case(format!("ReadOnly={value}"), vec![found.clone()]));
                    }
                }
                continue;
            }
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            cases.push(case(format!("{key}, common"), values.iter().take(3).cloned().collect()));
            values.sort_by_key(|(v, n)| (n.abs_diff(rare_target), v.clone()));
            cases.push(case(format!("{key}, rare"), values.iter().take(5).cloned().collect()));
        }
        for (name, start, end, n) in &self.windows {
            cases.push(Case {
                name: format!("time window: {name}"),
                attribute: None,
                start_ms: *start,
                end_ms: *end,
                values: vec![(String::new(), *n)],
            });
        }
        cases
    }
}

/// One case's cairn figures.
#[derive(Debug)]
struct CaseResult {
    /// Per query: until 50 events or the end, following NextTokens.
    queries: Samples,
    /// Per LookupEvents page (the API call whose p99 the target is about).
    pages: Samples,
    /// Events returned (at most 50) for each value asked for.
    rows_by_value: HashMap<String, usize>,
}

async fn measure(store: &BenchStore, manifest: &Manifest, case: &Case, reps: usize) -> anyhow::Result<CaseResult> {
    let mut result =
        CaseResult { queries: Samples::default(), pages: Samples::default(), rows_by_value: HashMap::new() };
    let key = match &case.attribute {
        Some(name) => Some(LookupAttributeKey::from_name(name).with_context(|| format!("unknown attribute {name}"))?),
        None => None,
    };
    for rep in 0..reps {
        let (value, _) = &case.values[rep % case.values.len()];
        let mut query = LookupQuery {
            account_id: manifest.account.clone(),
            region: manifest.region.clone(),
            attribute: key.map(|key| (key, value.clone())),
            start: Some(Timestamp::from_millisecond(case.start_ms)?),
            end: Some(Timestamp::from_millisecond(case.end_ms)?),
            insights: false,
            max_results: MAX_RESULTS,
            after: None,
        };
        let started = Instant::now();
        let mut rows = 0;
        for _ in 0..MAX_PAGES {
            let page_started = Instant::now();
            let page = store.lookup(&query).await?;
            result.pages.push(page_started.elapsed());
            rows += page.events.len();
            match page.next {
                Some(next) if rows < MAX_RESULTS => query.after = Some(next),
                _ => break,
            }
        }
        result.queries.push(started.elapsed());
        result.rows_by_value.insert(value.clone(), rows.min(MAX_RESULTS));
    }
    Ok(result)
}

/// Every query must have returned min(50, the events the build counted with its value): the benchmark
/// measures correct answers, and the smoke run (`--events 20000 --no-peer`) checks them.
fn check_rows(manifest: &Manifest, results: &[CaseResult]) -> anyhow::Result<()> {
    for (case, result) in manifest.cases.iter().zip(results) {
        for (value, expected) in &case.values {
            let expected = (*expected).min(MAX_RESULTS as u64);
            let got = result.rows_by_value.get(value).map(|n| *n as u64);
            anyhow::ensure!(
                got.is_none_or(|got| got == expected),
                "{}, {value:?}: LookupEvents returned {got:?} events, {expected} were expected",
                case.name
            );
        }
    }
    Ok(())
}

fn run_peer(args: &LookupArgs, dir: &Path, manifest: &Manifest) -> anyhow::Result<serde_json::Value> {
    let memory = args.peer_memory.unwrap_or(manifest.n_events <= 2_000_000);
    let peer_args = [
        "--reps".to_owned(),
        args.peer_reps.unwrap_or(args.reps).to_string(),
        "--json-reps".to_owned(),
        args.json_reps.to_string(),
        (if memory { "--memory" } else { "--no-memory" }).to_owned(),
    ];
    super::run_duckdb_peer(&args.python, args.peer_script.as_deref(), &peer_args, dir, "peer-results.json")
}

struct Report {
    store_usage: super::DiskUsage,
    store_breakdown: String,
    json_usage: super::DiskUsage,
    after_open: super::Memory,
    after_lookups: super::Memory,
    load_at_start: String,
    built: Built,
}

/// Whether this run built the store (and what its final flush did) or reopened an earlier one.
enum Built {
    Now(Flushed),
    Reused(Opened),
}

/// Prints the markdown report; returns how many (case, value) results differ between cairn and DuckDB.
fn report(
    args: &LookupArgs,
    manifest: &Manifest,
    results: &[CaseResult],
    peer: Option<&serde_json::Value>,
    figures: Report,
) -> usize {
    let n = manifest.n_events as f64;
    let engines = [("parquet", "DuckDB Parquet"), ("json", "DuckDB gzip JSON"), ("memory", "DuckDB in-memory")];
    let present: Vec<_> = engines
        .iter()
        .filter(|(key, _)| {
            peer.and_then(|p| p.get("engines"))
                .and_then(|e| e.get(*key))
                .is_some_and(|e| e.as_object().is_some_and(|o| !o.is_empty()))
        })
        .collect();
    println!("## cairn bench lookup\n");
    println!("command: `{}`  ", command_line());
    println!(
        "machine: {}; 1-minute load average {} at the start, {} at the end  ",
        machine(),
        figures.load_at_start,
        load_average()
    );
    println!("date: {}  ", Timestamp::now().strftime("%Y-%m-%d"));
    if let Some(version) = peer.and_then(|p| p.get("duckdb_version")).and_then(|v| v.as_str()) {
        println!("peer: DuckDB {version} (Python), same machine, same run  ");
    }
    println!(
        "data: {} events over {} days; queries ask about {} / {} ({} events); MaxResults {MAX_RESULTS}; {} lookups per case\n",
        manifest.n_events,
        manifest.window_days,
        manifest.account,
        manifest.region,
        manifest.partition_events,
        args.reps
    );
    print!("| case | matches | cairn p50 | cairn p99 | pages | cairn page p99 |");
    for (_, label) in &present {
        print!(" {label} p50 | p99 | cairn/DuckDB p50 |");
    }
    println!();
    print!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for _ in &present {
        print!(" ---: | ---: | ---: |");
    }
    println!();
    let mut worst_page_p99 = (0.0f64, String::new());
    let mut mismatches = Vec::new();
    for (case, result) in manifest.cases.iter().zip(results) {
        let matches: u64 = case.values.iter().map(|(_, n)| n).sum::<u64>() / case.values.len().max(1) as u64;
        let cairn_p50 = ms(result.queries.percentile(0.5));
        let page_p99 = ms(result.pages.percentile(0.99));
        if page_p99 > worst_page_p99.0 {
            worst_page_p99 = (page_p99, case.name.clone());
        }
        print!(
            "| {} | {} | {} | {} | {:.1} | {} |",
            case.name,
            matches,
            duration(cairn_p50),
            duration(ms(result.queries.percentile(0.99))),
            result.pages.len() as f64 / result.queries.len().max(1) as f64,
            duration(page_p99)
        );
        for (key, label) in &present {
            let figures = peer.and_then(|p| p.pointer(&format!("/engines/{key}/{}", json_pointer_escape(&case.name))));
            let p50 = figures.and_then(|f| f.get("p50_ms")).and_then(|v| v.as_f64());
            let p99 = figures.and_then(|f| f.get("p99_ms")).and_then(|v| v.as_f64());
            // The same value must give the same number of events (at most 50) in both. The engines may run
            // different numbers of repetitions, so a value only one of them asked for is not compared.
            if let Some(rows) = figures.and_then(|f| f.get("rows_by_value")).and_then(|v| v.as_object()) {
                for (value, n) in rows {
                    let Some(ours) = result.rows_by_value.get(value) else { continue };
                    if Some(*ours as u64) != n.as_u64() {
                        mismatches.push(format!("{label}, {}, {value:?}: cairn {ours}, DuckDB {n}", case.name));
                    }
                }
            }
            match (p50, p99) {
                (Some(p50), Some(p99)) => {
                    print!(" {} | {} | {} |", duration(p50), duration(p99), ratio(cairn_p50, p50))
                }
                _ => print!(" – | – | – |"),
            }
        }
        println!();
    }
    if !mismatches.is_empty() {
        println!("\n**Results differ** (events returned for the same query):\n");
        for mismatch in &mismatches {
            println!("- {mismatch}");
        }
    }
    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!("| worst LookupEvents page p99 (target ≤ 50 ms) | {:.2} ms ({}) |", worst_page_p99.0, worst_page_p99.1);
    println!(
        "| cairn store on disk | {:.0} bytes/event ({}; {:.1} MiB, {} files) |",
        figures.store_usage.allocated as f64 / n,
        figures.store_breakdown,
        mib(figures.store_usage.allocated),
        figures.store_usage.files
    );
    println!(
        "| gzip JSON (level 1) on disk | {:.0} bytes/event ({:.1} MiB, {} files) |",
        figures.json_usage.allocated as f64 / n,
        mib(figures.json_usage.allocated),
        figures.json_usage.files
    );
    if let Some(bytes) = peer.and_then(|p| p.pointer("/load/parquet_bytes")).and_then(|v| v.as_f64()) {
        println!(
            "| DuckDB Parquet (zstd) on disk | {:.0} bytes/event ({:.1} MiB) |",
            bytes / n,
            bytes / (1024.0 * 1024.0)
        );
    }
    if let Some(seconds) = peer.and_then(|p| p.pointer("/load/parquet_seconds")).and_then(|v| v.as_f64()) {
        println!("| DuckDB gzip JSON → Parquet | {seconds:.1} s ({:.0} events/s) |", n / seconds.max(1e-9));
    }
    if let Some(seconds) = peer.and_then(|p| p.pointer("/load/memory_seconds")).and_then(|v| v.as_f64()) {
        println!("| DuckDB Parquet → in-memory table | {seconds:.1} s |");
    }
    match &figures.built {
        Built::Reused(opened) => println!(
            "| cairn store open | {:.2} s (the WAL held {} records) |",
            opened.took.as_secs_f64(),
            opened.n_wal_records
        ),
        Built::Now(flushed) => {
            println!(
                "| cairn build (generate + parse + gzip ∥ durable append, final flush and compaction) | {:.1} s ({:.0} events/s) |",
                manifest.build_seconds,
                n / manifest.build_seconds.max(1e-9)
            );
            println!(
                "| cairn final flush, compaction | {:.2} s ({} events), {:.2} s ({} segments merged) |",
                flushed.flush_took.as_secs_f64(),
                flushed.n_events,
                flushed.compact_took.as_secs_f64(),
                flushed.n_merged
            );
        }
    }
    let memory_label = match figures.built {
        Built::Now(_) => "peak (VmHWM) of the whole run, generator and gzip writers included",
        Built::Reused(_) => "peak (VmHWM) of the whole run",
    };
    println!(
        "| cairn memory | RSS {:.0} MiB with the store open, {:.0} MiB after the lookups; {memory_label} {:.0} MiB |",
        mib(figures.after_open.rss),
        mib(figures.after_lookups.rss),
        mib(figures.after_lookups.peak)
    );
    mismatches.len()
}

/// A latency in milliseconds, in the unit that keeps three significant digits readable.
fn duration(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.1} µs", ms * 1e3)
    }
}

/// `cairn / peer`: below 1, cairn is faster (shown as `1/k`, cairn takes 1/k of the peer's time).
fn ratio(cairn: f64, peer: f64) -> String {
    let r = cairn / peer.max(1e-9);
    if r >= 0.1 || r == 0.0 { format!("{r:.2}") } else { format!("1/{:.0}", 1.0 / r) }
}

/// Escapes a JSON object key for a JSON pointer (RFC 6901).
fn json_pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
