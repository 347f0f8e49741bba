//! `cairn bench lake`: CloudTrail Lake queries over one event data store of N generated events, the same
//! queries in DuckDB (over the store's own Parquet segments and over the same events as gzip JSON log files)
//! in the same run, and the ingest rate of the event store with and without queries running.
//!
//! The data directory is a cairn data directory (`meta/`, `wal/`, `datasets/`) with one event data store whose
//! events are imported straight into it, `--chunk` records per segment, plus `json/` (the same events as
//! `{"Records":[…]}` gzip JSON files) and `lake-cases.json` (the query parameters and cairn's row counts), which
//! `bench/duckdb_peer.py --mode lake` reads; it writes `lake-peer-results.json`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_lake::{Lake, LakeConfig, LakeParts};
use cairn_model::clock::{Clock, SystemClock};
use cairn_model::event::EventRecord;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, IngestionRange};
use cairn_store::wal::Lsn;
use cairn_store::{Change, MetaStore, Registry, StoreError};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::generator::{Generator, GeneratorConfig};
use super::{DataArgs, Samples, command_line, disk_usage, load_average, machine, memory, mib, ms, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct LakeArgs {
    /// Events in the event data store.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Records per `import_records` call (each becomes one Parquet segment).
    #[arg(long, default_value_t = 500_000)]
    chunk: usize,
    /// Records per gzip JSON log file written for the DuckDB peer.
    #[arg(long, default_value_t = 20_000)]
    records_per_file: usize,
    /// Runs of each query (cairn and DuckDB over Parquet); the median is reported.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Runs of each query over the gzip JSON, which DuckDB parses whole every time [default: --reps].
    #[arg(long)]
    json_reps: Option<usize>,
    /// Events appended (batches of 100 from 16 tasks) alone and again while the queries run.
    #[arg(long, default_value_t = 400_000)]
    ingest_events: usize,
    /// A quick run for the test script: 20,000 events, 1 repetition, 10,000 events per ingest phase.
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

/// The event data store's ID (any UUID; queries name it after FROM).
const STORE_ID: &str = "5e1f0a2b-7c3d-4e8f-9a0b-1c2d3e4f5a6b";
/// Every this many generated records, one is parsed to pick query values.
const SAMPLE_EVERY: u64 = 97;
/// Batch size and tasks of the ingest phases, as `cairn bench ingest`'s default.
const INGEST_BATCH: usize = 100;
const INGEST_TASKS: usize = 16;

/// Values the queries ask for, picked from the generated events; written for the peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Params {
    n_events: u64,
    store_id: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC) bounds.
    last_7_days: (String, String),
    a_day: (String, String),
    last_hour: (String, String),
    user_arn: String,
    event_id: String,
    having_min: u64,
}

/// One query shape: its name and its Lake SQL.
struct Shape {
    name: &'static str,
    sql: String,
}

fn shapes(p: &Params) -> Vec<Shape> {
    let eds = &p.store_id;
    let (w0, w1) = &p.last_7_days;
    let (d0, d1) = &p.a_day;
    let (h0, h1) = &p.last_hour;
    let shape = |name, sql: String| Shape { name, sql };
    vec![
        shape(
            "top event names",
            format!("SELECT eventName, COUNT(*) AS n FROM {eds} GROUP BY eventName ORDER BY n DESC LIMIT 10"),
        ),
        shape(
            "errors by code, 7 days",
            format!(
                "SELECT errorCode, COUNT(*) AS n FROM {eds} WHERE errorCode IS NOT NULL \
                 AND eventTime >= '{w0}' AND eventTime < '{w1}' GROUP BY errorCode ORDER BY n DESC"
            ),
        ),
        shape(
            "one user's activity",
            format!(
                "SELECT eventTime, eventSource, eventName, awsRegion, sourceIPAddress, errorCode FROM {eds} \
                 WHERE userIdentity.arn = '{}' AND eventTime >= '{w0}' AND eventTime < '{w1}' \
                 ORDER BY eventTime DESC LIMIT 1000",
                p.user_arn
            ),
        ),
        shape(
            "events per hour, one day",
            format!(
                "SELECT date_trunc('hour', eventTime) AS hour, COUNT(*) AS n FROM {eds} \
                 WHERE eventTime >= '{d0}' AND eventTime < '{d1}' GROUP BY date_trunc('hour', eventTime) ORDER BY hour"
            ),
        ),
        shape(
            "distinct source IPs per user",
            format!(
                "SELECT userIdentity.arn AS arn, COUNT(DISTINCT sourceIPAddress) AS ips FROM {eds} \
                 WHERE userIdentity.arn IS NOT NULL GROUP BY userIdentity.arn ORDER BY ips DESC LIMIT 20"
            ),
        ),
        shape(
            "console logins without MFA",
            format!(
                "SELECT eventTime, userIdentity.arn AS arn, sourceIPAddress FROM {eds} \
                 WHERE eventName = 'ConsoleLogin' AND element_at(additionalEventData, 'MFAUsed') = 'No' \
                 ORDER BY eventTime DESC"
            ),
        ),
        shape(
            "one eventID",
            format!("SELECT eventTime, eventName, eventJson FROM {eds} WHERE eventID = '{}'", p.event_id),
        ),
        shape(
            "top S3 buckets",
            format!(
                "SELECT element_at(requestParameters, 'bucketName') AS bucket, COUNT(*) AS n FROM {eds} \
                 WHERE eventSource = 's3.amazonaws.com' AND element_at(requestParameters, 'bucketName') IS NOT NULL \
                 GROUP BY element_at(requestParameters, 'bucketName') ORDER BY n DESC LIMIT 10"
            ),
        ),
        shape(
            "errors by user and service",
            format!(
                "SELECT userIdentity.arn AS arn, eventSource, COUNT(*) AS errors FROM {eds} \
                 WHERE errorCode IS NOT NULL GROUP BY userIdentity.arn, eventSource \
                 HAVING COUNT(*) >= {} ORDER BY errors DESC",
                p.having_min
            ),
        ),
        shape(
            "last hour, newest 100",
            format!(
                "SELECT eventTime, eventSource, eventName, awsRegion, sourceIPAddress, userIdentity.arn AS arn, errorCode \
                 FROM {eds} WHERE eventTime >= '{h0}' AND eventTime < '{h1}' ORDER BY eventTime DESC LIMIT 100"
            ),
        ),
    ]
}

/// What the peer reads: the parameters, the inputs, and cairn's row count per shape.
#[derive(Debug, Serialize)]
struct Cases<'a> {
    params: &'a Params,
    parquet_glob: String,
    json_glob: String,
    reps: usize,
    json_reps: usize,
    rows: HashMap<&'static str, usize>,
}

pub(super) fn run(mut args: LakeArgs) -> anyhow::Result<()> {
    let load_at_start = load_average();
    if args.smoke {
        args.events = 20_000;
        args.reps = 1;
        args.chunk = args.chunk.min(8_000);
        args.records_per_file = args.records_per_file.min(5_000);
        args.ingest_events = 10_000;
    }
    anyhow::ensure!(
        args.events > 0 && args.reps > 0 && args.chunk > 0 && args.records_per_file > 0 && args.ingest_events > 0,
        "--events, --reps, --chunk, --records-per-file and --ingest-events must be positive"
    );
    let json_reps = args.json_reps.unwrap_or(args.reps);
    let scratch = super::ScratchDir::new(args.data_dir.clone(), "lake");
    let dir = scratch.path.clone();
    super::fresh_dir(&dir)?;
    let runtime = runtime()?;
    let site = runtime.block_on(Site::open(&dir))?;

    // 1 and 2: the store and the gzip JSON.
    let (params, built) = build(&args, &dir, &site, &runtime)?;
    let after_build = memory();
    let store_usage = disk_usage(&dir.join("datasets").join(format!("eds-{STORE_ID}")))?;
    let json_usage = disk_usage(&dir.join("json"))?;

    // 3: the queries, warm.
    let shapes = shapes(&params);
    let checked = runtime.block_on(site.lake.query_now(&format!("SELECT COUNT(*) FROM {STORE_ID}")));
    let total = checked.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
    let total = total.rows.first().and_then(|r| r.first()).cloned().flatten().unwrap_or_default();
    anyhow::ensure!(total == args.events.to_string(), "the store holds {total} events, {} were imported", args.events);
    eprintln!("running {} query shapes × {} (after one warm-up run each) …", shapes.len(), args.reps);
    let mut results = Vec::with_capacity(shapes.len());
    for shape in &shapes {
        results.push(runtime.block_on(time_shape(&site.lake, shape, args.reps))?);
    }
    check_results(&params, &shapes, &results)?;
    let after_queries = memory();

    let peer = if args.no_peer {
        None
    } else {
        let cases = Cases {
            params: &params,
            parquet_glob: dir
                .join("datasets")
                .join(format!("eds-{STORE_ID}"))
                .join("segments")
                .join("*.parquet")
                .display()
                .to_string(),
            json_glob: dir.join("json").join("*.json.gz").display().to_string(),
            reps: args.reps,
            json_reps,
            rows: shapes.iter().zip(&results).map(|(s, r)| (s.name, r.rows)).collect(),
        };
        std::fs::write(dir.join("lake-cases.json"), serde_json::to_vec_pretty(&cases)?)?;
        Some(run_peer(&args, &dir)?)
    };

    // 4: ingest alone, then while the queries run in a loop.
    let ingest = runtime.block_on(ingest_phases(&site, &shapes, &args))?;
    site.close(&runtime);

    let n_differ = report(
        &args,
        &params,
        &shapes,
        &results,
        peer.as_ref(),
        &Figures { built, ingest, store_usage, json_usage, after_build, after_queries, load_at_start, json_reps },
    );
    drop(scratch);
    anyhow::ensure!(
        n_differ == 0,
        "cairn and DuckDB returned different row counts for {n_differ} shapes (listed above)"
    );
    Ok(())
}

/// The event store and the Lake over a data directory, as `cairn serve` wires them.
struct Site {
    events: Arc<EventStore>,
    lake: Arc<Lake>,
}

impl Site {
    async fn open(dir: &Path) -> anyhow::Result<Site> {
        std::fs::create_dir_all(dir.join("meta")).with_context(|| format!("creating {}", dir.display()))?;
        let meta = Arc::new(MetaStore::open(&dir.join("meta").join("cairn.redb")).context("opening the metadata")?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let config = EventStoreConfig::new(dir);
        Lake::hold_log(&config.holds);
        let (events, _) = EventStore::open(config, clock.clone()).await.context("opening the event store")?;
        let events = Arc::new(events);
        let stores: Arc<Registry<EventDataStoreRecord>> =
            Arc::new(Registry::load(meta.clone()).context("loading event data stores")?);
        let record = store_record(clock.now());
        stores
            .transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(record)])))
            .context("creating the event data store")?;
        let lake = Lake::open(LakeParts {
            data_dir: dir.to_path_buf(),
            events: events.clone(),
            stores,
            meta,
            organization_accounts: None,
            sink: None,
            clock,
            config: LakeConfig::default(),
        })
        .await
        .context("opening the Lake")?;
        Ok(Site { events, lake: Arc::new(lake) })
    }

    fn close(self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(self.lake.stop());
        drop(self.lake);
        if let Some(events) = Arc::into_inner(self.events) {
            events.close();
        }
    }
}

fn store_record(now: Timestamp) -> EventDataStoreRecord {
    EventDataStoreRecord {
        id: STORE_ID.to_owned(),
        account_id: super::generator::ACCOUNTS[0].0.to_owned(),
        region: super::generator::REGIONS[0].0.to_owned(),
        name: "bench".to_owned(),
        status: EventDataStoreStatus::Enabled,
        // Events are imported straight into the store and the feeder is not started: no selector is consulted.
        advanced_event_selectors: Vec::new(),
        multi_region_enabled: true,
        organization_enabled: false,
        retention_period: 3653,
        termination_protection_enabled: false,
        kms_key_id: None,
        billing_mode: BillingMode::ExtendableRetentionPricing,
        tags: Vec::new(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        ingestion: vec![IngestionRange { start: Lsn(0), end: None }],
        channels: Vec::new(),
        insights: None,
    }
}

/// How the build went.
struct Built {
    seconds: f64,
    /// Time spent inside `import_records` (conversion, sort, Parquet encoding, commit).
    import_seconds: f64,
    n_segments: usize,
    json_bytes: u64,
}

/// Generates the events on one thread (texts, gzip JSON, samples) and imports them in chunks on this one.
fn build(
    args: &LakeArgs,
    dir: &Path,
    site: &Site,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(Params, Built)> {
    let config = args.data.generator_config(args.events, Timestamp::now());
    let json_dir = dir.join("json");
    std::fs::create_dir_all(&json_dir)?;
    eprintln!(
        "building {}: {} events (seed {}) imported {} per segment, and gzip JSON …",
        dir.display(),
        args.events,
        args.data.seed,
        args.chunk
    );
    let started = Instant::now();
    let (sender, receiver) = mpsc::sync_channel::<Vec<String>>(1);
    let producer_config = config.clone();
    let (chunk, per_file) = (args.chunk, args.records_per_file);
    let producer = std::thread::spawn(move || produce(producer_config, json_dir, chunk, per_file, sender));
    let mut import_seconds = 0.0;
    let mut n_segments = 0;
    let mut imported = 0u64;
    while let Ok(texts) = receiver.recv() {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let import_started = Instant::now();
        let n = runtime.block_on(site.lake.import_records(STORE_ID, &refs)).context("importing records")?;
        import_seconds += import_started.elapsed().as_secs_f64();
        anyhow::ensure!(n == texts.len(), "imported {n} of {} records", texts.len());
        imported += n as u64;
        n_segments += 1;
        eprintln!("  {imported} events, {:.0} s", started.elapsed().as_secs_f64());
    }
    let sampled = producer.join().map_err(|_| anyhow::anyhow!("the generator thread panicked"))??;
    anyhow::ensure!(imported == args.events, "imported {imported} of {} events", args.events);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("built in {seconds:.1} s ({import_seconds:.1} s in import_records)");
    let params = sampled.params(args.events, &config)?;
    Ok((params, Built { seconds, import_seconds, n_segments, json_bytes: sampled.json_bytes }))
}

/// What the generator thread saw: a sample of the records, for the query values.
#[derive(Default)]
struct Sampled {
    arns: HashMap<String, u64>,
    event_ids: Vec<String>,
    json_bytes: u64,
}

impl Sampled {
    fn observe(&mut self, text: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
        if let Some(arn) = value.pointer("/userIdentity/arn").and_then(|v| v.as_str()) {
            *self.arns.entry(arn.to_owned()).or_default() += 1;
        }
        if let Some(id) = value.get("eventID").and_then(|v| v.as_str()) {
            self.event_ids.push(id.to_owned());
        }
    }

    fn params(&self, n_events: u64, config: &GeneratorConfig) -> anyhow::Result<Params> {
        let format = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M:%S").to_string();
        let day = SignedDuration::from_hours(24);
        let end = config.end.checked_add(SignedDuration::from_secs(1))?;
        let middle = Timestamp::from_second((config.start.as_second() + config.end.as_second()) / 2 / 86_400 * 86_400)?;
        // The most frequent user in the sample whose ARN names a user or a role session, not a service.
        let user_arn = self
            .arns
            .iter()
            .filter(|(arn, _)| arn.contains(":user/") || arn.contains(":assumed-role/"))
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(arn, _)| arn.clone())
            .context("no user ARN among the sampled records")?;
        let event_id =
            self.event_ids.get(self.event_ids.len() / 2).cloned().context("no eventID among the sampled records")?;
        Ok(Params {
            n_events,
            store_id: STORE_ID.to_owned(),
            last_7_days: (format(end.checked_sub(day * 7)?), format(end)),
            a_day: (format(middle), format(middle.checked_add(day)?)),
            last_hour: (format(end.checked_sub(SignedDuration::from_hours(1))?), format(end)),
            user_arn,
            event_id,
            having_min: (n_events / 200_000).max(2),
        })
    }
}

fn produce(
    config: GeneratorConfig,
    json_dir: PathBuf,
    chunk: usize,
    per_file: usize,
    sender: mpsc::SyncSender<Vec<String>>,
) -> anyhow::Result<Sampled> {
    let mut generator = Generator::new(config.clone());
    let mut sampled = Sampled::default();
    let mut texts = Vec::with_capacity(chunk);
    let mut file: Option<(GzEncoder<BufWriter<File>>, usize)> = None;
    let mut n_files = 0u64;
    for i in 0..config.n_events {
        let text = generator.next_record();
        if i % SAMPLE_EVERY == 0 {
            sampled.observe(&text);
        }
        let (encoder, n) = match file.as_mut() {
            Some(open) => open,
            None => {
                n_files += 1;
                let path = json_dir.join(format!("{n_files:06}.json.gz"));
                let created = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
                // Level 1, as `bench lookup` writes them: compressing must not dominate the build.
                let mut encoder = GzEncoder::new(BufWriter::new(created), Compression::fast());
                encoder.write_all(b"{\"Records\":[\n")?;
                file.insert((encoder, 0))
            }
        };
        if *n > 0 {
            encoder.write_all(b",\n")?;
        }
        encoder.write_all(text.as_bytes())?;
        *n += 1;
        if *n >= per_file
            && let Some((encoder, _)) = file.take()
        {
            sampled.json_bytes += finish(encoder)?;
        }
        texts.push(text);
        if texts.len() == chunk {
            let full = std::mem::replace(&mut texts, Vec::with_capacity(chunk));
            if sender.send(full).is_err() {
                anyhow::bail!("the import stopped taking events");
            }
        }
    }
    if let Some((encoder, _)) = file.take() {
        sampled.json_bytes += finish(encoder)?;
    }
    if !texts.is_empty() && sender.send(texts).is_err() {
        anyhow::bail!("the import stopped taking events");
    }
    Ok(sampled)
}

/// Closes a log file; returns its compressed length.
fn finish(mut encoder: GzEncoder<BufWriter<File>>) -> anyhow::Result<u64> {
    encoder.write_all(b"\n]}\n")?;
    let mut writer = encoder.finish()?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(file.metadata()?.len())
}

/// One shape's timings and result size.
struct ShapeResult {
    rows: usize,
    runs: Samples,
    warmup: Duration,
    /// The sum of the last column over all rows, when it is a count.
    sum_last: u64,
}

async fn time_shape(lake: &Lake, shape: &Shape, reps: usize) -> anyhow::Result<ShapeResult> {
    let run = || async {
        let started = Instant::now();
        let result = lake
            .query_now(&shape.sql)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}: {}\n{}", shape.name, e.code, e.message, shape.sql))?;
        anyhow::Ok((started.elapsed(), result))
    };
    let (warmup, first) = run().await?;
    let mut runs = Samples::default();
    let mut rows = first.rows.len();
    for _ in 0..reps {
        let (took, result) = run().await?;
        anyhow::ensure!(result.rows.len() == rows, "{}: {} rows, then {}", shape.name, rows, result.rows.len());
        rows = result.rows.len();
        runs.push(took);
    }
    let sum_last =
        first.rows.iter().filter_map(|row| row.last().cloned().flatten().and_then(|v| v.parse::<u64>().ok())).sum();
    Ok(ShapeResult { rows, runs, warmup, sum_last })
}

/// Answers the build can vouch for: the eventID matches one event, the day has 24 hours of events that add up to
/// about a thirtieth of the total, and the top-10 lists are full.
fn check_results(params: &Params, shapes: &[Shape], results: &[ShapeResult]) -> anyhow::Result<()> {
    for (shape, result) in shapes.iter().zip(results) {
        match shape.name {
            "one eventID" => {
                anyhow::ensure!(result.rows == 1, "eventID {} matched {} events", params.event_id, result.rows)
            }
            "top event names" | "top S3 buckets" => {
                anyhow::ensure!(result.rows == 10, "{}: {} rows, 10 expected", shape.name, result.rows)
            }
            "events per hour, one day" => {
                anyhow::ensure!(
                    result.rows == 24 || params.n_events < 100_000,
                    "{}: {} hours, 24 expected",
                    shape.name,
                    result.rows
                );
                anyhow::ensure!(result.sum_last > 0, "{}: no events in the day", shape.name);
            }
            "one user's activity" | "console logins without MFA" | "last hour, newest 100" => {
                anyhow::ensure!(result.rows > 0, "{}: no rows", shape.name)
            }
            _ => {}
        }
    }
    Ok(())
}

/// The ingest rate with nothing else running, and while the query shapes run in a loop.
struct Ingest {
    alone: Phase,
    with_queries: Phase,
    queries_done: u64,
}

struct Phase {
    n: usize,
    took: Duration,
    latencies: Samples,
}

async fn ingest_phases(site: &Site, shapes: &[Shape], args: &LakeArgs) -> anyhow::Result<Ingest> {
    eprintln!("generating 2 × {} events for the ingest phases …", args.ingest_events);
    let end = Timestamp::now();
    let data = DataArgs { seed: args.data.seed.wrapping_add(1), window_days: 1 };
    let mut generator = Generator::new(data.generator_config(2 * args.ingest_events as u64, end));
    let mut batches = |n: usize| -> anyhow::Result<Vec<Vec<EventRecord>>> {
        let mut out = Vec::new();
        let mut batch = Vec::with_capacity(INGEST_BATCH);
        for _ in 0..n {
            let text = generator.next_record();
            batch.push(EventRecord::parse(text.as_bytes()).context("a generated record does not parse")?);
            if batch.len() == INGEST_BATCH {
                out.push(std::mem::replace(&mut batch, Vec::with_capacity(INGEST_BATCH)));
            }
        }
        if !batch.is_empty() {
            out.push(batch);
        }
        out.reverse();
        Ok(out)
    };
    let first = batches(args.ingest_events)?;
    let second = batches(args.ingest_events)?;

    eprintln!("appending {} events alone …", args.ingest_events);
    let alone = append_all(&site.events, first).await?;

    eprintln!("appending {} events while the queries run …", args.ingest_events);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let queries = {
        let lake = site.lake.clone();
        let statements: Vec<String> = shapes.iter().map(|s| s.sql.clone()).collect();
        let (stop, done) = (stop.clone(), done.clone());
        tokio::spawn(async move {
            'outer: loop {
                for sql in &statements {
                    if stop.load(Ordering::Relaxed) {
                        break 'outer;
                    }
                    lake.query_now(sql).await.map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        })
    };
    // Let the first query start, so that appends meet running queries from the beginning.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let with_queries = append_all(&site.events, second).await;
    stop.store(true, Ordering::Relaxed);
    queries.await.context("the query loop panicked")??;
    Ok(Ingest { alone, with_queries: with_queries?, queries_done: done.load(Ordering::Relaxed) })
}

async fn append_all(events: &Arc<EventStore>, batches: Vec<Vec<EventRecord>>) -> anyhow::Result<Phase> {
    let n = batches.iter().map(Vec::len).sum();
    let queue = Arc::new(Mutex::new(batches));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(INGEST_TASKS);
    for _ in 0..INGEST_TASKS {
        let (events, queue) = (events.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let batch = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some(batch) = batch else { break };
                let sent = Instant::now();
                events.append_durable(batch).await.context("durable append")?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Samples::default();
    for task in tasks {
        for latency in task.await.context("an append task panicked")?? {
            latencies.push(latency);
        }
    }
    Ok(Phase { n, took: started.elapsed(), latencies })
}

fn run_peer(args: &LakeArgs, dir: &Path) -> anyhow::Result<serde_json::Value> {
    let mode = ["--mode".to_owned(), "lake".to_owned()];
    super::run_duckdb_peer(&args.python, args.peer_script.as_deref(), &mode, dir, "lake-peer-results.json")
}

struct Figures {
    built: Built,
    ingest: Ingest,
    store_usage: super::DiskUsage,
    json_usage: super::DiskUsage,
    after_build: super::Memory,
    after_queries: super::Memory,
    load_at_start: String,
    json_reps: usize,
}

/// Prints the markdown report; returns how many shapes' row counts differ between cairn and DuckDB.
fn report(
    args: &LakeArgs,
    params: &Params,
    shapes: &[Shape],
    results: &[ShapeResult],
    peer: Option<&serde_json::Value>,
    figures: &Figures,
) -> usize {
    let n = params.n_events as f64;
    println!("## cairn bench lake\n");
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
        "data: {} events over {} days in one event data store ({} segments); medians of {} warm runs \
         ({} over gzip JSON)\n",
        params.n_events, args.data.window_days, figures.built.n_segments, args.reps, figures.json_reps
    );
    println!(
        "| shape | rows | cairn | DuckDB Parquet | DuckDB gzip JSON | cairn/DuckDB-Parquet (≤ 1.5) | DuckDB-JSON/cairn (≥ 10) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut mismatches = Vec::new();
    for (shape, result) in shapes.iter().zip(results) {
        let cairn = ms(result.runs.percentile(0.5));
        let engine =
            |key: &str| peer.and_then(|p| p.get("engines")).and_then(|e| e.get(key)).and_then(|e| e.get(shape.name));
        let median = |key: &str| engine(key).and_then(|f| f.get("median_ms")).and_then(|v| v.as_f64());
        for key in ["parquet", "json"] {
            if let Some(rows) = engine(key).and_then(|f| f.get("rows")).and_then(|v| v.as_u64())
                && rows != result.rows as u64
            {
                mismatches.push(format!("{}, DuckDB {key}: cairn {} rows, DuckDB {rows}", shape.name, result.rows));
            }
        }
        let parquet = median("parquet");
        let json = median("json");
        let show = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), duration);
        let cairn_over_parquet =
            parquet.map_or_else(|| "–".to_owned(), |p| flag(cairn / p.max(1e-9), cairn / p.max(1e-9) <= 1.5));
        let json_over_cairn =
            json.map_or_else(|| "–".to_owned(), |j| flag(j / cairn.max(1e-9), j / cairn.max(1e-9) >= 10.0));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            shape.name,
            result.rows,
            duration(cairn),
            show(parquet),
            show(json),
            cairn_over_parquet,
            json_over_cairn
        );
    }
    if !mismatches.is_empty() {
        println!("\n**Row counts differ:**\n");
        for mismatch in &mismatches {
            println!("- {mismatch}");
        }
    }
    println!("\nLake SQL (cairn):\n");
    for shape in shapes {
        println!("- {}: `{}`", shape.name, shape.sql.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let built = &figures.built;
    let ingest = &figures.ingest;
    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| build (generate + gzip JSON ∥ import) | {:.1} s ({:.0} events/s); {:.1} s inside import_records ({:.0} events/s) |",
        built.seconds,
        n / built.seconds.max(1e-9),
        built.import_seconds,
        n / built.import_seconds.max(1e-9)
    );
    println!(
        "| event data store on disk | {:.0} bytes/event ({:.1} MiB, {} files) |",
        figures.store_usage.allocated as f64 / n,
        mib(figures.store_usage.allocated),
        figures.store_usage.files
    );
    println!(
        "| gzip JSON (level 1) on disk | {:.0} bytes/event ({:.1} MiB, {} files) |",
        figures.json_usage.allocated as f64 / n,
        mib(built.json_bytes),
        figures.json_usage.files
    );
    let warmups: Vec<String> =
        shapes.iter().zip(results).map(|(s, r)| format!("{} {}", s.name, duration(ms(r.warmup)))).collect();
    println!("| cairn first (cold-ish) runs | {} |", warmups.join("; "));
    let rate = |phase: &Phase| phase.n as f64 / phase.took.as_secs_f64().max(1e-9);
    println!(
        "| durable ingest alone ({INGEST_BATCH} × {INGEST_TASKS} tasks) | {:.0} events/s; batch p50 / p99 / max {:.1} / {:.1} / {:.0} ms |",
        rate(&ingest.alone),
        ms(ingest.alone.latencies.percentile(0.5)),
        ms(ingest.alone.latencies.percentile(0.99)),
        ms(ingest.alone.latencies.percentile(1.0))
    );
    println!(
        "| durable ingest while the queries loop | {:.0} events/s ({:.0}% of alone); batch p50 / p99 / max {:.1} / {:.1} / {:.0} ms; {} queries completed meanwhile |",
        rate(&ingest.with_queries),
        100.0 * rate(&ingest.with_queries) / rate(&ingest.alone).max(1e-9),
        ms(ingest.with_queries.latencies.percentile(0.5)),
        ms(ingest.with_queries.latencies.percentile(0.99)),
        ms(ingest.with_queries.latencies.percentile(1.0)),
        ingest.queries_done
    );
    println!(
        "| cairn memory | RSS {:.0} MiB after the build, {:.0} MiB after the queries; peak (VmHWM) {:.0} MiB |",
        mib(figures.after_build.rss),
        mib(figures.after_queries.rss),
        mib(memory().peak)
    );
    if let Some(seconds) = peer.and_then(|p| p.get("setup_seconds")).and_then(|v| v.as_f64()) {
        println!("| DuckDB setup (views) | {seconds:.2} s |");
    }
    mismatches.len()
}

/// A ratio, marked when it misses its target.
fn flag(ratio: f64, met: bool) -> String {
    if met { format!("{ratio:.2}") } else { format!("**{ratio:.2}** (missed)") }
}

/// A latency in milliseconds, in the unit that keeps three significant digits readable.
fn duration(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1e3)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{:.1} µs", ms * 1e3)
    }
}
