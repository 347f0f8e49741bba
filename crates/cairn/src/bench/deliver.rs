//! `cairn bench deliver`: trail delivery throughput and latency, with DuckDB and `gzip` timed on the same events
//! in the same run.
//!
//! One organization trail (multi-region, global service events, the new-trail default selectors, log file
//! validation on) whose organization lists the generator's accounts, so that it takes every generated event; the
//! report gives the fraction it selected. Delivery is wired as `cairn serve` wires it: `Deliverer::hold_log`, the
//! event store, the embedded buckets (`ObjectIndex`) behind `Destinations`, `Deliverer::start`. The event store is
//! opened here rather than through `store::BenchStore`, because the delivery service shares it as an `Arc`.
//!
//! - *Live*: the N events (`--events`) are written to `events.ndjson` first (not timed); then they are read back,
//!   parsed and appended with `append_durable` by `--concurrency` tasks while the trail delivers every
//!   `--interval`. Timed from the first append until the trail's cursor reaches the end of the log.
//! - *Catch-up*: the delivery service is stopped, the same N events are appended again, and a new delivery service
//!   on the same data directory (the cursor is durable) delivers them. Timed from its start until the cursor
//!   reaches the end: the rate of delivery alone.
//! - *Latency*: in a second data directory, events are appended at `--rate` per second for `--duration` seconds,
//!   each one's acknowledgement time kept by its eventID. A poller lists the bucket every `--poll-ms`, reads each
//!   log file it has not seen, and takes for every record the time the listing first showed the file minus the
//!   time its append was acknowledged. Target: p99 ≤ interval + 2 s.
//! - *Peers*: `bench/duckdb_peer.py --mode deliver` times DuckDB writing the NDJSON as gzip JSON (one file, and one
//!   file per account and region), and `gzip -5` over the same bytes is the floor.
//!
//! After the timed part every delivered log file is read back: the run fails if an appended event was not delivered
//! (the trail is built to take them all) or was delivered twice, in any of the runs.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_deliver::destination::Destinations;
use cairn_deliver::state::{ChainFileRecord, DeliveryRecord};
use cairn_deliver::{Deliverer, DeliveryConfig, DeliveryParts, OrganizationScope};
use cairn_model::clock::{Clock, SystemClock};
use cairn_model::event::EventRecord;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::objects::{ListQuery, ObjectIndex};
use cairn_store::records::{LoggingState, TrailRecord};
use cairn_store::wal::Lsn;
use cairn_store::{Change, MetaStore, Registry, StoreError};
use flate2::read::GzDecoder;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::task::JoinHandle;

use super::generator::{ACCOUNTS, Generator};
use super::{DataArgs, Samples, ScratchDir, command_line, fresh_dir, load_average, machine, memory, mib, ms, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct DeliverArgs {
    /// Events of each throughput run (live and catch-up); 0 skips both.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Events per durable append in the throughput runs.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Concurrent appending tasks in the throughput runs.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// The trail's delivery interval, in seconds.
    #[arg(long, default_value_t = 1.0)]
    interval: f64,
    /// Latency run: events appended per second; 0 skips the run.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    /// Latency run: seconds of appending.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Latency run: how often the bucket is listed, in milliseconds.
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
    /// A fresh (absent or empty) directory for the stores and files [default: a temporary directory, removed
    /// afterwards].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Skip the peers (DuckDB and gzip).
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

/// The embedded bucket the trail delivers to. Without `with_embedded_buckets`, any name is an embedded bucket.
const BUCKET: &str = "cairn-bench-deliver";
const TRAIL_NAME: &str = "bench-deliver";
const ORGANIZATION_ID: &str = "o-cairnbench01";
/// How often a timed run looks at the trail's cursor.
const CURSOR_POLL: Duration = Duration::from_millis(10);
/// Appends of the latency run are made this often, each with the events due by then.
const LATENCY_TICK: Duration = Duration::from_millis(10);
/// The latency target over the delivery interval (the issue: p99 ≤ interval + 2 s).
const LATENCY_SLACK: Duration = Duration::from_secs(2);

pub(super) fn run(args: DeliverArgs) -> anyhow::Result<()> {
    let load_at_start = load_average();
    anyhow::ensure!(args.batch > 0 && args.concurrency > 0, "--batch and --concurrency must be positive");
    anyhow::ensure!(args.events > 0 || args.rate > 0, "--events and --rate are both 0: nothing to measure");
    anyhow::ensure!(args.poll_ms > 0, "--poll-ms must be positive");
    let interval = Duration::try_from_secs_f64(args.interval)
        .ok()
        .filter(|d| !d.is_zero())
        .context("--interval must be a positive number of seconds")?;
    let scratch = ScratchDir::new(args.data_dir.clone(), "deliver");
    let dir = scratch.path.clone();
    fresh_dir(&dir)?;
    // Delivery reports failed passes through tracing; show them.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = runtime()?;

    let throughput = if args.events > 0 { Some(throughput(&args, &dir, interval, &runtime)?) } else { None };
    let latency = if args.rate > 0 && args.duration > 0 {
        Some(latency(&args, &dir.join("latency"), interval, &runtime)?)
    } else {
        None
    };
    let peers = match &throughput {
        Some(t) if !args.no_peer => Some(peers(&args, &dir, t)?),
        _ => None,
    };
    report(&args, interval, &load_at_start, throughput.as_ref(), latency.as_ref(), peers.as_ref());
    if let Some(latency) = &latency {
        anyhow::ensure!(latency.n_missing == 0, "{} appended events never became visible", latency.n_missing);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

/// One data directory wired as `cairn serve` wires delivery.
struct Site {
    meta: Arc<MetaStore>,
    events: Arc<EventStore>,
    objects: Arc<ObjectIndex>,
    trails: Arc<Registry<TrailRecord>>,
    clock: Arc<dyn Clock>,
}

/// A running delivery service.
struct Running {
    deliverer: Arc<Deliverer>,
}

impl Site {
    fn open(dir: &Path, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Site> {
        std::fs::create_dir_all(dir.join("meta")).with_context(|| format!("creating {}", dir.display()))?;
        let meta = Arc::new(MetaStore::open(&dir.join("meta").join("cairn.redb")).context("opening the metadata")?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let config = EventStoreConfig::new(dir);
        Deliverer::hold_log(&meta, &config.holds).context("reading trail delivery cursors")?;
        let (events, _) =
            runtime.block_on(EventStore::open(config, clock.clone())).context("opening the event store")?;
        let objects = Arc::new(ObjectIndex::open(&dir.join("buckets")).context("opening the embedded buckets")?);
        let trails = Arc::new(Registry::load(meta.clone()).context("loading trails")?);
        Ok(Site { meta, events: Arc::new(events), objects, trails, clock })
    }

    /// Creates the benchmark's trail, logging since "now": the supervisor starts it at the log's end when it
    /// first sees it. Returns its ARN.
    fn create_trail(&self) -> anyhow::Result<String> {
        let trail = bench_trail()?;
        let arn = trail.arn();
        self.trails.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(trail)]))).context("creating the trail")?;
        Ok(arn)
    }

    fn start(&self, runtime: &tokio::runtime::Runtime, interval: Duration) -> anyhow::Result<Running> {
        let destinations = Destinations::new(Some(self.objects.clone()), &[]).context("configuring destinations")?;
        let deliverer = Arc::new(
            Deliverer::new(DeliveryParts {
                events: self.events.clone(),
                trails: self.trails.clone(),
                meta: self.meta.clone(),
                destinations: Arc::new(destinations),
                topics: Vec::new(),
                organization: Some(OrganizationScope {
                    id: ORGANIZATION_ID.to_owned(),
                    accounts: ACCOUNTS.iter().map(|(id, _)| (*id).to_owned()).collect(),
                }),
                clock: self.clock.clone(),
                config: DeliveryConfig { delivery_interval: interval, ..DeliveryConfig::default() },
            })
            .context("starting trail delivery")?,
        );
        {
            let _entered = runtime.enter();
            deliverer.start();
        }
        Ok(Running { deliverer })
    }

    /// The size of the trail's committed delivery record (read afresh from the metadata store).
    fn delivery_state(&self, trail_arn: &str) -> anyhow::Result<StateSize> {
        let states: Registry<DeliveryRecord> = Registry::load(self.meta.clone()).context("loading delivery states")?;
        let Some(state) = states.get(trail_arn) else { return Ok(StateSize::default()) };
        let files: Registry<ChainFileRecord> = Registry::load(self.meta.clone()).context("loading chain files")?;
        Ok(StateSize {
            bytes: serde_json::to_vec(&state).map_or(0, |json| json.len() as u64),
            n_chain_files: files.all().iter().filter(|f| f.trail_arn == trail_arn).count() as u64,
        })
    }
}

/// The trail's durable delivery record at the end of a run: every commit of the trail's delivery rewrites it whole.
#[derive(Debug, Clone, Copy, Default)]
struct StateSize {
    /// Its stored JSON, in bytes.
    bytes: u64,
    /// Log files waiting in its digest chains for the next digest.
    n_chain_files: u64,
}

impl Running {
    /// Waits until the supervisor has seen the trail (it looks every 250 ms); returns its cursor.
    async fn until_seen(&self, trail_arn: &str) -> anyhow::Result<Lsn> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(cursor) = self.deliverer.cursor(trail_arn) {
                return Ok(cursor);
            }
            anyhow::ensure!(Instant::now() < deadline, "the delivery supervisor did not take up the trail within 10 s");
            tokio::time::sleep(CURSOR_POLL).await;
        }
    }

    /// Stops the supervisor and every worker.
    async fn stop(self) {
        self.deliverer.stop();
    }
}

/// An organization trail of the generator's first account, multi-region, with the new-trail defaults.
fn bench_trail() -> anyhow::Result<TrailRecord> {
    Ok(TrailRecord {
        account_id: ACCOUNTS[0].0.to_owned(),
        home_region: "us-east-1".to_owned(),
        name: TRAIL_NAME.to_owned(),
        s3_bucket_name: BUCKET.to_owned(),
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: true,
        log_file_validation_enabled: true,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        kms_key_id: None,
        organization_id: Some(ORGANIZATION_ID.to_owned()),
        recursive_logging: false,
        // The new-trail default selectors (all management events), in their stored form: the binary reaches
        // selectors only through the records that hold them.
        selectors: serde_json::from_value(serde_json::json!({"Basic": [{
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": [],
            "ExcludeManagementEventSources": [],
        }]}))
        .context("the default selectors")?,
        insight_selectors: Vec::new(),
        aggregation_configurations: Vec::new(),
        tags: Vec::new(),
        logging: LoggingState {
            is_logging: true,
            start_logging_time: Some(Timestamp::now()),
            stop_logging_time: None,
            start_lsn: None,
        },
        created_at: Timestamp::now(),
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput

/// Both throughput runs and what they had in common.
struct Throughput {
    n_events: u64,
    ndjson: PathBuf,
    ndjson_bytes: u64,
    generate_took: Duration,
    live: Run,
    catch_up: Run,
    /// Appending the catch-up run's events with no delivery running.
    ingest_alone: Duration,
}

/// One timed throughput run.
struct Run {
    progress: Progress,
    /// Live run: when the last append was acknowledged, since the start.
    appended_at: Option<Duration>,
    /// RSS at the start of the run, and the peak during it (VmHWM reset at its start when the kernel allows it).
    rss_at_start: u64,
    peak: u64,
    peak_reset: bool,
    delivered: Delivered,
}

fn throughput(
    args: &DeliverArgs,
    dir: &Path,
    interval: Duration,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Throughput> {
    let ndjson = dir.join("events.ndjson");
    eprintln!("generating {} records (seed {}) into {} …", args.events, args.data.seed, ndjson.display());
    let started = Instant::now();
    let ndjson_bytes = write_ndjson(&args.data, args.events, &ndjson)?;
    let generate_took = started.elapsed();

    let site = Site::open(&dir.join("throughput"), runtime)?;
    let arn = site.create_trail()?;
    let stall_limit = (interval * 20).max(Duration::from_secs(30));

    // Live: appends and delivery at once.
    let running = site.start(runtime, interval)?;
    let from = runtime.block_on(running.until_seen(&arn))?;
    eprintln!("live run: appending {} events while the trail delivers every {:?} …", args.events, interval);
    let peak_reset = reset_peak();
    let rss_at_start = memory().rss;
    let started = Instant::now();
    let appends = {
        let _entered = runtime.enter();
        tokio::spawn(append_ndjson(site.events.clone(), ndjson.clone(), args.batch, args.concurrency, started))
    };
    let (progress, appended_at) =
        runtime.block_on(follow(&running.deliverer, &arn, &site.events, from, started, Some(appends), stall_limit))?;
    let peak = memory().peak;
    runtime.block_on(running.stop());
    let live_files = list_log_files(&site.objects)?;
    eprintln!(
        "  delivered in {:.1} s; reading {} log files back …",
        progress.caught_up.as_secs_f64(),
        live_files.len()
    );
    let live = Run {
        progress,
        appended_at,
        rss_at_start,
        peak,
        peak_reset,
        delivered: read_delivered(&site.objects, &live_files)?,
    };

    // Catch-up: the events are in the log before delivery starts.
    eprintln!("catch-up run: appending {} events with delivery stopped …", args.events);
    let started = Instant::now();
    let from = site.events.next_lsn();
    runtime.block_on(append_ndjson(site.events.clone(), ndjson.clone(), args.batch, args.concurrency, started))?;
    let ingest_alone = started.elapsed();
    eprintln!("  appended in {:.1} s; starting a new delivery service …", ingest_alone.as_secs_f64());
    let peak_reset = reset_peak();
    let rss_at_start = memory().rss;
    let started = Instant::now();
    let running = site.start(runtime, interval)?;
    let (progress, _) =
        runtime.block_on(follow(&running.deliverer, &arn, &site.events, from, started, None, stall_limit))?;
    let peak = memory().peak;
    runtime.block_on(running.stop());
    let seen: HashSet<&str> = live_files.iter().map(|(key, _)| key.as_str()).collect();
    let catch_up_files: Vec<(String, u64)> =
        list_log_files(&site.objects)?.into_iter().filter(|(key, _)| !seen.contains(key.as_str())).collect();
    eprintln!(
        "  delivered in {:.1} s; reading {} log files back …",
        progress.caught_up.as_secs_f64(),
        catch_up_files.len()
    );
    let catch_up = Run {
        progress,
        appended_at: None,
        rss_at_start,
        peak,
        peak_reset,
        delivered: read_delivered(&site.objects, &catch_up_files)?,
    };
    site.events.close();

    for (name, run) in [("live", &live), ("catch-up", &catch_up)] {
        anyhow::ensure!(run.delivered.n_events > 0, "the {name} run delivered no events");
        anyhow::ensure!(
            run.delivered.n_duplicates == 0,
            "the {name} run delivered {} events twice",
            run.delivered.n_duplicates
        );
    }
    anyhow::ensure!(
        live.delivered.n_events == args.events,
        "the trail delivered {} of the {} events appended; it is built to take every generated event",
        live.delivered.n_events,
        args.events
    );
    anyhow::ensure!(
        live.delivered.n_events == catch_up.delivered.n_events,
        "the same events gave {} delivered events live and {} in the catch-up run",
        live.delivered.n_events,
        catch_up.delivered.n_events
    );
    Ok(Throughput { n_events: args.events, ndjson, ndjson_bytes, generate_took, live, catch_up, ingest_alone })
}

/// Writes `n` generated records to `path`, one per line; returns the bytes written.
fn write_ndjson(data: &DataArgs, n: u64, path: &Path) -> anyhow::Result<u64> {
    let mut generator = Generator::new(data.generator_config(n, Timestamp::now()));
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut bytes = 0u64;
    for _ in 0..n {
        let text = generator.next_record();
        anyhow::ensure!(!text.contains('\n'), "a generated record spans lines");
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        bytes += text.len() as u64 + 1;
    }
    out.flush()?;
    Ok(bytes)
}

/// Reads `path` on a thread of its own (parsing every line, as the API path parses what it records) and appends it
/// in batches of `batch` from `concurrency` tasks. Returns when the last append is acknowledged, since `started`.
async fn append_ndjson(
    events: Arc<EventStore>,
    path: PathBuf,
    batch: usize,
    concurrency: usize,
    started: Instant,
) -> anyhow::Result<Duration> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<EventRecord>>(2 * concurrency);
    let reader = std::thread::spawn(move || read_ndjson(&path, batch, |chunk| sender.blocking_send(chunk).is_ok()));
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (events, receiver) = (events.clone(), receiver.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let chunk = receiver.lock().await.recv().await;
                let Some(chunk) = chunk else { break };
                events.append_durable(chunk).await.context("durable append")?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("an append task panicked")??;
    }
    let acknowledged = started.elapsed();
    reader.join().map_err(|_| anyhow::anyhow!("the NDJSON reader panicked"))??;
    Ok(acknowledged)
}

fn read_ndjson(path: &Path, batch: usize, mut send: impl FnMut(Vec<EventRecord>) -> bool) -> anyhow::Result<u64> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut chunk = Vec::with_capacity(batch);
    let mut n = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.is_empty() {
            continue;
        }
        let record =
            EventRecord::parse(text).with_context(|| format!("line {} of {} does not parse", n + 1, path.display()))?;
        chunk.push(record);
        n += 1;
        if chunk.len() == batch && !send(std::mem::replace(&mut chunk, Vec::with_capacity(batch))) {
            anyhow::bail!("the appending tasks stopped taking events");
        }
    }
    if !chunk.is_empty() && !send(chunk) {
        anyhow::bail!("the appending tasks stopped taking events");
    }
    Ok(n)
}

/// How a trail's cursor moved during a timed run.
#[derive(Debug, Default)]
struct Progress {
    /// When the cursor reached the end of the log (every append acknowledged), since the start.
    caught_up: Duration,
    /// The longest time the cursor stood still while events were waiting for it.
    longest_wait: Duration,
    /// The most events appended but not yet delivered at one moment.
    max_lag: u64,
    /// Events delivered in each whole second since the start.
    per_second: Vec<u64>,
    /// How many times the cursor moved (committed batches).
    n_batches: u64,
}

/// Follows the trail's cursor from `from` until it reaches the end of the log after `appends` (if any) finished.
/// Fails if the cursor stands still for `stall_limit` while events wait.
async fn follow(
    deliverer: &Deliverer,
    trail_arn: &str,
    events: &EventStore,
    from: Lsn,
    started: Instant,
    mut appends: Option<JoinHandle<anyhow::Result<Duration>>>,
    stall_limit: Duration,
) -> anyhow::Result<(Progress, Option<Duration>)> {
    let mut progress = Progress::default();
    let mut cursor = from;
    let mut last_move = Instant::now();
    let mut appended_at = None;
    let mut target = None;
    // Events delivered by the end of each whole second.
    let mut marks: Vec<u64> = vec![0];
    loop {
        if appends.as_ref().is_none_or(|handle| handle.is_finished()) && target.is_none() {
            if let Some(handle) = appends.take() {
                appended_at = Some(handle.await.context("the appending task panicked")??);
            }
            target = Some(events.next_lsn());
        }
        let end = events.next_lsn();
        let now = Instant::now();
        if let Some(current) = deliverer.cursor(trail_arn)
            && current > cursor
        {
            progress.longest_wait = progress.longest_wait.max(now - last_move);
            progress.n_batches += 1;
            cursor = current;
            last_move = now;
        }
        if cursor >= end {
            // Nothing waiting: standing still is not a stall.
            last_move = now;
        }
        progress.max_lag = progress.max_lag.max(end.0.saturating_sub(cursor.0));
        let delivered = cursor.0.saturating_sub(from.0);
        while started.elapsed() >= Duration::from_secs(marks.len() as u64) {
            marks.push(delivered);
        }
        if let Some(target) = target
            && cursor >= target
        {
            progress.caught_up = started.elapsed();
            break;
        }
        anyhow::ensure!(
            last_move.elapsed() < stall_limit,
            "delivery stalled: the trail's cursor stood at {} with the log at {} for {:.0} s",
            cursor.0,
            end.0,
            last_move.elapsed().as_secs_f64()
        );
        tokio::time::sleep(CURSOR_POLL).await;
    }
    progress.per_second = marks.windows(2).map(|w| w[1] - w[0]).collect();
    Ok((progress, appended_at))
}

/// What a set of delivered log files holds, read back after a run.
#[derive(Debug, Default)]
struct Delivered {
    n_files: u64,
    compressed: u64,
    uncompressed: u64,
    n_events: u64,
    n_duplicates: u64,
    /// Per file: compressed bytes, and events.
    sizes: Vec<u64>,
    events_per_file: Vec<u64>,
}

/// The part of a log file the benchmark reads.
#[derive(Deserialize)]
struct LogFileBody {
    #[serde(rename = "Records")]
    records: Vec<LogRecord>,
}

#[derive(Deserialize)]
struct LogRecord {
    #[serde(rename = "eventID")]
    event_id: String,
}

/// Every log file (not digest) in the bucket, with its size.
fn list_log_files(objects: &ObjectIndex) -> anyhow::Result<Vec<(String, u64)>> {
    let mut files = Vec::new();
    let mut start_after = None;
    loop {
        let query = ListQuery { prefix: String::new(), start_after, delimiter: None, max_keys: 1000 };
        let listing = objects.list(BUCKET, &query).context("listing the bucket")?;
        start_after = listing.objects.last().map(|o| o.key.clone());
        files.extend(listing.objects.into_iter().filter(|o| o.key.contains("_CloudTrail_")).map(|o| (o.key, o.size)));
        if !listing.is_truncated || start_after.is_none() {
            return Ok(files);
        }
    }
}

/// A log file's uncompressed length and its records' event IDs.
fn read_log_file(objects: &ObjectIndex, key: &str) -> anyhow::Result<(u64, Vec<String>)> {
    let (_, gzipped) = objects.get(BUCKET, key)?.with_context(|| format!("{key} was listed but is gone"))?;
    let mut body = Vec::with_capacity(gzipped.len() * 6);
    GzDecoder::new(gzipped.as_slice()).read_to_end(&mut body).with_context(|| format!("gunzipping {key}"))?;
    let parsed: LogFileBody = serde_json::from_slice(&body).with_context(|| format!("{key} is not a log file"))?;
    Ok((body.len() as u64, parsed.records.into_iter().map(|r| r.event_id).collect()))
}

fn read_delivered(objects: &ObjectIndex, files: &[(String, u64)]) -> anyhow::Result<Delivered> {
    let mut delivered = Delivered::default();
    let mut ids = HashSet::new();
    for (key, size) in files {
        let (uncompressed, events) = read_log_file(objects, key)?;
        delivered.n_files += 1;
        delivered.compressed += size;
        delivered.uncompressed += uncompressed;
        delivered.sizes.push(*size);
        delivered.events_per_file.push(events.len() as u64);
        for id in events {
            delivered.n_events += 1;
            if !ids.insert(id) {
                delivered.n_duplicates += 1;
            }
        }
    }
    Ok(delivered)
}

/// Resets the peak RSS (VmHWM) to the current RSS, so that a run reports its own peak (Linux 4.0 and later).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------------------------------------------
// Latency

struct Latency {
    /// Per delivered event: visible in the bucket minus append acknowledged.
    samples: Samples,
    /// The same by `LATENCY_WINDOW` of acknowledgement.
    windows: Vec<Samples>,
    n_appended: u64,
    /// How long appending at `--rate` took (the achieved rate is n_appended over it).
    append_took: Duration,
    /// Per append call (`LATENCY_TICK` apart): how long the acknowledgement took.
    ack: Samples,
    n_files: u64,
    events_per_file: Vec<u64>,
    sizes: Vec<u64>,
    n_duplicates: u64,
    /// Appended events not seen in the bucket by the end.
    n_missing: u64,
    rss_at_start: u64,
    peak: u64,
    state: StateSize,
}

fn latency(
    args: &DeliverArgs,
    dir: &Path,
    interval: Duration,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Latency> {
    let total = args.rate.saturating_mul(args.duration);
    eprintln!("latency run: generating {total} records …");
    let mut generator = Generator::new(args.data.generator_config(total, Timestamp::now()));
    let mut records = VecDeque::with_capacity(total as usize);
    for i in 0..total {
        let text = generator.next_record();
        records.push_back(
            EventRecord::parse(text.as_bytes()).with_context(|| format!("generated record {i} does not parse"))?,
        );
    }
    let site = Site::open(dir, runtime)?;
    let arn = site.create_trail()?;
    let running = site.start(runtime, interval)?;
    runtime.block_on(running.until_seen(&arn))?;
    eprintln!(
        "  appending {} events/s for {} s, listing the bucket every {} ms …",
        args.rate, args.duration, args.poll_ms
    );
    reset_peak();
    let rss_at_start = memory().rss;

    let acks: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(total as usize)));
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let poller = {
        let (objects, acks, done) = (site.objects.clone(), acks.clone(), done.clone());
        let poll = Duration::from_millis(args.poll_ms);
        // After the last append: the next cut, its files, and generous slack before giving up.
        let give_up = interval * 3 + Duration::from_secs(30);
        let n_windows = args.duration.div_ceil(LATENCY_WINDOW.as_secs()).max(1) as usize;
        let plan = PollPlan { expected: total, poll, give_up, started, n_windows };
        std::thread::spawn(move || poll_bucket(&objects, &acks, &done, &plan))
    };

    let appended = runtime.block_on(async {
        let mut tick = tokio::time::interval(LATENCY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ack = Samples::default();
        let mut sent = 0u64;
        while sent < total {
            tick.tick().await;
            let due = ((started.elapsed().as_secs_f64() * args.rate as f64) as u64).min(total);
            if due <= sent {
                continue;
            }
            let chunk: Vec<EventRecord> = records.drain(..(due - sent) as usize).collect();
            let ids: Vec<String> = chunk.iter().map(|r| r.event_id.clone()).collect();
            let sent_at = Instant::now();
            site.events.append_durable(chunk).await.context("durable append")?;
            let acknowledged = Instant::now();
            ack.push(acknowledged - sent_at);
            let mut acks = lock(&acks);
            for id in ids {
                acks.insert(id, acknowledged);
            }
            sent = due;
        }
        anyhow::Ok((started.elapsed(), ack))
    });
    done.store(true, Ordering::Release);
    let polled = poller.join().map_err(|_| anyhow::anyhow!("the bucket poller panicked"))?;
    let peak = memory().peak;
    runtime.block_on(running.stop());
    site.events.close();
    let state = site.delivery_state(&arn)?;
    let (append_took, ack) = appended?;
    let polled = polled?;
    anyhow::ensure!(polled.samples.len() != 0, "the latency run delivered no events");
    Ok(Latency {
        // Every event seen once has one sample (duplicates are counted apart).
        n_missing: total.saturating_sub(polled.samples.len() as u64),
        samples: polled.samples,
        windows: polled.windows,
        n_appended: total,
        append_took,
        ack,
        n_files: polled.n_files,
        events_per_file: polled.events_per_file,
        sizes: polled.sizes,
        n_duplicates: polled.n_duplicates,
        rss_at_start,
        peak,
        state,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the bucket poller looks for.
struct PollPlan {
    /// Events appended in all.
    expected: u64,
    /// How often the bucket is listed.
    poll: Duration,
    /// How long to keep looking after the last append.
    give_up: Duration,
    /// When appending started: latencies are also grouped by when their event was acknowledged.
    started: Instant,
    /// How many `LATENCY_WINDOW`s appending lasts; the last one takes any late stragglers.
    n_windows: usize,
}

/// Latencies are grouped by when their event was acknowledged, in windows of this length.
const LATENCY_WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Polled {
    samples: Samples,
    /// The same samples by `LATENCY_WINDOW` of acknowledgement: does latency drift as the run goes on?
    windows: Vec<Samples>,
    n_files: u64,
    events_per_file: Vec<u64>,
    sizes: Vec<u64>,
    n_duplicates: u64,
}

impl Polled {
    fn record(&mut self, plan: &PollPlan, acknowledged: Instant, visible: Instant) {
        let latency = visible.saturating_duration_since(acknowledged);
        self.samples.push(latency);
        let since = acknowledged.saturating_duration_since(plan.started);
        let window = ((since.as_secs() / LATENCY_WINDOW.as_secs()) as usize).min(plan.n_windows.saturating_sub(1));
        if self.windows.len() <= window {
            self.windows.resize_with(window + 1, Samples::default);
        }
        self.windows[window].push(latency);
    }
}

/// Lists the bucket every `plan.poll`; for every log file not seen before, reads it and takes each record's
/// latency from the moment the listing showed the file. Ends once `done` is set and every appended event was seen,
/// or `plan.give_up` after `done`.
fn poll_bucket(
    objects: &ObjectIndex,
    acks: &Mutex<HashMap<String, Instant>>,
    done: &AtomicBool,
    plan: &PollPlan,
) -> anyhow::Result<Polled> {
    let mut polled = Polled::default();
    let mut seen_files = HashSet::new();
    let mut seen_events = HashSet::new();
    // Records whose acknowledgement was not yet noted when their file was read, with when it became visible.
    let mut early: Vec<(String, Instant)> = Vec::new();
    let mut done_at = None;
    loop {
        std::thread::sleep(plan.poll);
        let listing = list_log_files(objects)?;
        let visible = Instant::now();
        for (key, size) in listing {
            if !seen_files.insert(key.clone()) {
                continue;
            }
            let (_, ids) = read_log_file(objects, &key)?;
            polled.n_files += 1;
            polled.sizes.push(size);
            polled.events_per_file.push(ids.len() as u64);
            let acks = lock(acks);
            for id in ids {
                if !seen_events.insert(id.clone()) {
                    polled.n_duplicates += 1;
                    continue;
                }
                match acks.get(&id) {
                    Some(acknowledged) => polled.record(plan, *acknowledged, visible),
                    None => early.push((id, visible)),
                }
            }
        }
        if done.load(Ordering::Acquire) {
            let since = *done_at.get_or_insert_with(Instant::now);
            if seen_events.len() as u64 >= plan.expected || since.elapsed() > plan.give_up {
                break;
            }
        }
    }
    let acks = lock(acks);
    for (id, visible) in early {
        // Visible before its append returned: latency 0 at this resolution.
        if let Some(acknowledged) = acks.get(&id) {
            polled.record(plan, *acknowledged, visible);
        }
    }
    Ok(polled)
}

// ---------------------------------------------------------------------------------------------------------------
// Peers

struct Peers {
    /// DuckDB's results (`peer-deliver.json`), if it ran.
    duckdb: Option<serde_json::Value>,
    /// `gzip -5` over the NDJSON: time and output bytes.
    gzip: Option<(Duration, u64)>,
}

fn peers(args: &DeliverArgs, dir: &Path, throughput: &Throughput) -> anyhow::Result<Peers> {
    eprintln!("gzip -5 over {} …", throughput.ndjson.display());
    let gzip = match gzip_floor(&throughput.ndjson, &dir.join("events.ndjson.gz")) {
        Ok(figures) => Some(figures),
        Err(error) => {
            eprintln!("  gzip did not run: {error:#}");
            None
        }
    };
    let mode = ["--mode".to_owned(), "deliver".to_owned()];
    let duckdb = super::run_duckdb_peer(&args.python, args.peer_script.as_deref(), &mode, dir, "peer-deliver.json")?;
    Ok(Peers { duckdb: Some(duckdb), gzip })
}

/// `gzip -5 -c` (one thread) over `input` into `output`: the time it took and the bytes it wrote.
fn gzip_floor(input: &Path, output: &Path) -> anyhow::Result<(Duration, u64)> {
    let out = File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let started = Instant::now();
    let status = Command::new("gzip").arg("-5").arg("-c").arg(input).stdout(out).status().context("running gzip")?;
    let took = started.elapsed();
    anyhow::ensure!(status.success(), "gzip failed: {status}");
    let bytes = std::fs::metadata(output)?.len();
    std::fs::remove_file(output)?;
    Ok((took, bytes))
}

// ---------------------------------------------------------------------------------------------------------------
// Report

/// The nearest-rank percentile of `values` (`q` in 0..=1); 0 when empty.
fn percentile(values: &[u64], q: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn spread(values: &[u64], unit: impl Fn(u64) -> String) -> String {
    format!("{} / {} / {}", unit(percentile(values, 0.0)), unit(percentile(values, 0.5)), unit(percentile(values, 1.0)))
}

fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", mib(n))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn thousands(n: u64) -> String {
    if n >= 10_000 { format!("{}k", n / 1000) } else { n.to_string() }
}

/// `cairn / peer` of two rates: above 1, cairn is faster.
fn ratio(cairn: f64, peer: f64) -> String {
    format!("{:.2}", cairn / peer.max(1e-9))
}

fn report(
    args: &DeliverArgs,
    interval: Duration,
    load_at_start: &str,
    throughput: Option<&Throughput>,
    latency: Option<&Latency>,
    peers: Option<&Peers>,
) {
    println!("## cairn bench deliver\n");
    println!("command: `{}`  ", command_line());
    println!(
        "machine: {}; 1-minute load average {load_at_start} at the start, {} at the end  ",
        machine(),
        load_average()
    );
    println!("date: {}  ", Timestamp::now().strftime("%Y-%m-%d"));
    if let Some(duckdb) = peers.and_then(|p| p.duckdb.as_ref()) {
        println!(
            "peer: DuckDB {} (Python, {} threads), same machine, same run  ",
            duckdb.get("duckdb_version").and_then(|v| v.as_str()).unwrap_or("?"),
            duckdb.get("threads").map_or_else(|| "?".to_owned(), |v| v.to_string())
        );
    }
    println!(
        "trail: organization trail over {} accounts, multi-region, default selectors, delivery interval {:.3} s\n",
        ACCOUNTS.len(),
        interval.as_secs_f64()
    );
    if let Some(t) = throughput {
        report_throughput(args, t, peers);
    }
    if let Some(l) = latency {
        report_latency(args, interval, l);
    }
}

fn report_throughput(args: &DeliverArgs, t: &Throughput, peers: Option<&Peers>) {
    let n = t.n_events as f64;
    let rate = |run: &Run| run.delivered.n_events as f64 / run.progress.caught_up.as_secs_f64().max(1e-9);
    let mbps = |run: &Run| run.delivered.uncompressed as f64 / 1e6 / run.progress.caught_up.as_secs_f64().max(1e-9);
    println!(
        "### Throughput: {} events ({:.0} MiB of NDJSON, mean {:.0} B/record; generated in {:.1} s, not timed)\n",
        t.n_events,
        mib(t.ndjson_bytes),
        t.ndjson_bytes as f64 / n,
        t.generate_took.as_secs_f64()
    );
    println!("| figure | live (append ∥ deliver) | catch-up (deliver only) |");
    println!("| --- | --- | --- |");
    let both = |label: &str, f: &dyn Fn(&Run) -> String| {
        println!("| {label} | {} | {} |", f(&t.live), f(&t.catch_up));
    };
    both("delivered", &|run| {
        format!(
            "**{:.0} events/s**, {:.1} MB/s of log ({} events in {:.2} s)",
            rate(run),
            mbps(run),
            run.delivered.n_events,
            run.progress.caught_up.as_secs_f64()
        )
    });
    both("selected by the trail", &|run| {
        format!("{:.2}% of the events appended", 100.0 * run.delivered.n_events as f64 / n)
    });
    println!(
        "| appends ({} × {} tasks, parse included) | all acknowledged at {} | before the start, no delivery running: {:.2} s ({:.0} events/s) |",
        args.batch,
        args.concurrency,
        t.live.appended_at.map_or_else(
            || "?".to_owned(),
            |d| format!("{:.2} s ({:.0} events/s)", d.as_secs_f64(), n / d.as_secs_f64())
        ),
        t.ingest_alone.as_secs_f64(),
        n / t.ingest_alone.as_secs_f64().max(1e-9)
    );
    both("log files", &|run| {
        format!(
            "{} in {} batches, {} gzip ({:.0} B/event), {} uncompressed",
            run.delivered.n_files,
            run.progress.n_batches,
            bytes(run.delivered.compressed),
            run.delivered.compressed as f64 / run.delivered.n_events.max(1) as f64,
            bytes(run.delivered.uncompressed)
        )
    });
    both("file size (gzip) min / p50 / max", &|run| spread(&run.delivered.sizes, bytes));
    both("events per file min / p50 / max", &|run| spread(&run.delivered.events_per_file, |n| n.to_string()));
    both("longest cursor wait while events waited", &|run| format!("{:.2} s", run.progress.longest_wait.as_secs_f64()));
    both("most events waiting", &|run| run.progress.max_lag.to_string());
    both("RSS at the start → peak (VmHWM)", &|run| {
        format!(
            "{:.0} → {:.0} MiB{}",
            mib(run.rss_at_start),
            mib(run.peak),
            if run.peak_reset { "" } else { " (peak of the whole process: no reset)" }
        )
    });
    both("delivered by second", &|run| {
        run.progress.per_second.iter().map(|n| thousands(*n)).collect::<Vec<_>>().join(" ")
    });
    println!();

    // cairn against its peers on the same events.
    let live = rate(&t.live);
    let catch_up = rate(&t.catch_up);
    let mut rows: Vec<(String, f64, f64, Option<u64>)> = vec![
        (
            "cairn live: append ∥ deliver (per account and region, gzip level 5)".to_owned(),
            live,
            mbps(&t.live),
            Some(t.live.delivered.compressed),
        ),
        (
            "cairn catch-up: deliver only (per account and region, gzip level 5)".to_owned(),
            catch_up,
            mbps(&t.catch_up),
            Some(t.catch_up.delivered.compressed),
        ),
    ];
    let duckdb = peers.and_then(|p| p.duckdb.as_ref());
    for (key, label) in [
        ("single", "DuckDB: NDJSON → one gzip JSON array"),
        ("partitioned", "DuckDB: NDJSON → gzip JSON per account and region"),
    ] {
        let seconds = duckdb.and_then(|d| d.pointer(&format!("/runs/{key}/seconds"))).and_then(|v| v.as_f64());
        let out = duckdb.and_then(|d| d.pointer(&format!("/runs/{key}/bytes"))).and_then(|v| v.as_u64());
        if let Some(seconds) = seconds {
            rows.push((label.to_owned(), n / seconds.max(1e-9), t.ndjson_bytes as f64 / 1e6 / seconds.max(1e-9), out));
        }
    }
    if let Some((took, out)) = peers.and_then(|p| p.gzip) {
        let seconds = took.as_secs_f64().max(1e-9);
        rows.push((
            "gzip -5 (one thread) over the NDJSON".to_owned(),
            n / seconds,
            t.ndjson_bytes as f64 / 1e6 / seconds,
            Some(out),
        ));
    }
    println!("| writer | events/s | MB/s in | output | cairn live ÷ this | cairn catch-up ÷ this |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (label, events_per_second, mb, out) in &rows {
        println!(
            "| {label} | {events_per_second:.0} | {mb:.1} | {} | {} | {} |",
            out.map_or_else(|| "–".to_owned(), |b| format!("{} ({:.0} B/event)", bytes(b), b as f64 / n)),
            ratio(live, *events_per_second),
            ratio(catch_up, *events_per_second)
        );
    }
    println!();
}

fn report_latency(args: &DeliverArgs, interval: Duration, l: &Latency) {
    let target = interval + LATENCY_SLACK;
    let p99 = l.samples.percentile(0.99);
    println!(
        "### Latency: append acknowledged → log file listed, {} events/s for {} s, bucket listed every {} ms\n",
        args.rate, args.duration, args.poll_ms
    );
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| latency p50 / p99 / max ({} events) | {:.0} / **{:.0}** / {:.0} ms |",
        l.samples.len(),
        ms(l.samples.percentile(0.5)),
        ms(p99),
        ms(l.samples.percentile(1.0))
    );
    println!(
        "| target p99 ≤ interval + 2 s = {:.1} s | **{}** |",
        target.as_secs_f64(),
        if p99 <= target { "PASS" } else { "FAIL" }
    );
    println!(
        "| appended | {} events in {:.2} s ({:.0} events/s); append p50 / p99 / max {:.1} / {:.1} / {:.1} ms |",
        l.n_appended,
        l.append_took.as_secs_f64(),
        l.n_appended as f64 / l.append_took.as_secs_f64().max(1e-9),
        ms(l.ack.percentile(0.5)),
        ms(l.ack.percentile(0.99)),
        ms(l.ack.percentile(1.0))
    );
    println!(
        "| p99 by {} s of appending | {} s |",
        LATENCY_WINDOW.as_secs(),
        l.windows.iter().map(|w| format!("{:.2}", w.percentile(0.99).as_secs_f64())).collect::<Vec<_>>().join(" ")
    );
    println!("| not seen by the end / seen twice | {} / {} |", l.n_missing, l.n_duplicates);
    println!(
        "| log files | {}; events per file min / p50 / max {}; size (gzip) {} |",
        l.n_files,
        spread(&l.events_per_file, |n| n.to_string()),
        spread(&l.sizes, bytes)
    );
    println!("| RSS at the start → peak (VmHWM) | {:.0} → {:.0} MiB |", mib(l.rss_at_start), mib(l.peak));
    println!(
        "| the trail's delivery record at the end (rewritten by every commit) | {} ({} log files waiting for their digest) |",
        bytes(l.state.bytes),
        l.state.n_chain_files
    );
    println!();
}
