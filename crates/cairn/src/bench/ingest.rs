//! `cairn bench ingest`: durable ingest throughput through the event store's append path.
//!
//! Records are generated and parsed up front (not timed; both rates are reported on their own), then `C`
//! concurrent tasks append batches of `B` with `append_durable`, as PutAuditEvents handlers or an import would,
//! on a runtime with one worker per core. Reported: events/s and MB/s over the whole run, the slowest and median
//! one-second window (sustained rate), batch latency p50/p99, bytes per event on disk after a flush, the time to
//! reopen the store, and peak RSS.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_deliver::rules::{DispatchConfig, RuleDispatcher};
use cairn_insights::{InsightsService, ServiceConfig};
use cairn_model::event::EventRecord;
use cairn_store::rules::{RuleRecord, RuleState, RuleTarget};
use jiff::Timestamp;

use super::generator::Generator;
use super::store::BenchStore;
use super::{
    DataArgs, Samples, ScratchDir, command_line, disk_breakdown, disk_usage, fresh_dir, load_average, machine, memory,
    mib, ms, runtime,
};

#[derive(Debug, clap::Args)]
pub(crate) struct IngestArgs {
    /// Events to ingest.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Events per `append_durable` call (PutAuditEvents takes at most 100).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Concurrent appending tasks.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// A fresh (absent or empty) directory for the store [default: a temporary directory, removed afterwards].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Run the Insights service beside the appends (counting every 200 ms what the store told it of), as
    /// `cairn serve` does, to measure what its counters cost.
    #[arg(long)]
    insights: bool,
    /// Run the rule dispatcher beside the appends with this many enabled rules (EventBridge patterns
    /// shaped like users' rules, few of which match), as `cairn serve` does, to measure what matching
    /// every recorded event costs.
    #[arg(long, default_value_t = 0)]
    rules: usize,
    #[command(flatten)]
    data: DataArgs,
}

pub(super) fn run(args: IngestArgs) -> anyhow::Result<()> {
    let load_at_start = load_average();
    anyhow::ensure!(
        args.events > 0 && args.batch > 0 && args.concurrency > 0,
        "--events, --batch and --concurrency must be positive"
    );
    let scratch = ScratchDir::new(args.data_dir.clone(), "ingest");
    let dir = scratch.path.clone();
    fresh_dir(&dir)?;

    eprintln!("generating {} records (seed {}) …", args.events, args.data.seed);
    let started = Instant::now();
    let mut generator = Generator::new(args.data.generator_config(args.events, Timestamp::now()));
    let texts: Vec<String> = (0..args.events).map(|_| generator.next_record()).collect();
    let generate_took = started.elapsed();
    let payload_bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();

    let started = Instant::now();
    let mut records = Vec::with_capacity(texts.len());
    for (i, text) in texts.into_iter().enumerate() {
        records
            .push(EventRecord::parse(text.as_bytes()).with_context(|| format!("generated record {i} does not parse"))?);
    }
    let parse_took = started.elapsed();

    // Batches are taken from the back; reversed so that appends go roughly in event-time order, as they arrive.
    let mut batches: Vec<Vec<EventRecord>> = Vec::new();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        batches.push(records.by_ref().take(args.batch).collect());
    }
    batches.reverse();
    let n_batches = batches.len();
    let before = memory();

    let runtime = runtime()?;
    let (store, _) = runtime.block_on(BenchStore::open(&dir))?;
    let store = Arc::new(store);
    let insights = if args.insights {
        let config = ServiceConfig { interval: Duration::from_millis(200), ..ServiceConfig::default() };
        let wanted: cairn_insights::Wanted = Arc::new(|_| true);
        let service = Arc::new(InsightsService::open(
            &dir,
            store.event_store(),
            Arc::new(cairn_model::clock::SystemClock),
            config,
            wanted,
            Arc::new(Vec::new),
        )?);
        runtime.block_on(async { service.start() });
        Some(service)
    } else {
        None
    };
    let dispatcher = if args.rules > 0 {
        let meta = Arc::new(cairn_store::MetaStore::open(&dir.join("rules-meta.redb"))?);
        let registry: Arc<cairn_store::Registry<RuleRecord>> = Arc::new(cairn_store::Registry::load(meta)?);
        registry.transact(|_| Ok::<_, cairn_store::StoreError>(((), bench_rules(args.rules))))?;
        let dispatcher = Arc::new(RuleDispatcher::open(
            &dir,
            store.event_store(),
            registry,
            Arc::new(cairn_model::clock::SystemClock),
            DispatchConfig::default(),
        )?);
        runtime.block_on(async { dispatcher.start() });
        Some(dispatcher)
    } else {
        None
    };
    let queue = Arc::new(Mutex::new(batches));
    eprintln!("appending {} batches of {} from {} tasks …", n_batches, args.batch, args.concurrency);
    let started = Instant::now();
    let outcomes = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(args.concurrency);
        for _ in 0..args.concurrency {
            let store = store.clone();
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                // (latency, completion time since the start, events)
                let mut done: Vec<(Duration, Duration, usize)> = Vec::new();
                loop {
                    let batch = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some(batch) = batch else { break };
                    let n = batch.len();
                    let sent = Instant::now();
                    store.append_durable(batch).await?;
                    done.push((sent.elapsed(), started.elapsed(), n));
                }
                anyhow::Ok(done)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.context("append task panicked")??);
        }
        anyhow::Ok(all)
    })?;
    let elapsed = started.elapsed();
    if let Some(service) = &insights {
        // Until Insights has counted every appended event: how far behind it ran.
        let caught_up = Instant::now();
        runtime.block_on(async {
            while service.cursor().await < store.event_store().next_lsn() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            service.stop().await
        })?;
        println!("Insights counted every event {:.0} ms after the last append returned.\n", ms(caught_up.elapsed()));
    }
    if let Some(dispatcher) = &dispatcher {
        let caught_up = Instant::now();
        runtime.block_on(async {
            while dispatcher.cursor().await < store.event_store().next_lsn() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            dispatcher.stop().await
        })?;
        println!(
            "The rule dispatcher matched every event against {} rules {:.0} ms after the last append returned.\n",
            args.rules,
            ms(caught_up.elapsed())
        );
    }
    drop(insights);
    let flushed = runtime.block_on(store.flush())?;
    let store = Arc::into_inner(store).context("append tasks still hold the store")?;
    store.close();
    let after = memory();
    let usage = disk_usage(&dir)?;
    let breakdown = disk_breakdown(&dir, args.events)?;

    let (reopened, opened) = runtime.block_on(BenchStore::open(&dir))?;
    let (in_segments, in_tail) = reopened.n_events();
    anyhow::ensure!(
        in_segments + in_tail as u64 == args.events,
        "the reopened store has {in_segments} events in segments and {in_tail} in the tail; {} were appended",
        args.events
    );
    reopened.close();

    let mut latencies = Samples::default();
    let mut per_second: Vec<u64> = vec![0; elapsed.as_secs() as usize + 1];
    for (latency, at, n) in &outcomes {
        latencies.push(*latency);
        if let Some(bucket) = per_second.get_mut(at.as_secs() as usize) {
            *bucket += *n as u64;
        }
    }
    // Only whole seconds count for the sustained rate; the last one is partial.
    let whole: Vec<u64> = per_second[..per_second.len().saturating_sub(1)].to_vec();
    let mut sorted = whole.clone();
    sorted.sort_unstable();
    let n = args.events as f64;
    let secs = elapsed.as_secs_f64();
    println!("## cairn bench ingest\n");
    println!("command: `{}`  ", command_line());
    println!(
        "machine: {}; 1-minute load average {load_at_start} at the start, {} at the end  ",
        machine(),
        load_average()
    );
    println!("date: {}\n", Timestamp::now().strftime("%Y-%m-%d"));
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| events | {} ({:.0} MiB of JSON, mean {:.0} B/record) |",
        args.events,
        mib(payload_bytes),
        payload_bytes as f64 / n
    );
    println!(
        "| durable ingest | **{:.0} events/s**, {:.1} MB/s ({:.2} s) |",
        n / secs,
        payload_bytes as f64 / 1e6 / secs,
        secs
    );
    let with_flush = secs + flushed.flush_took.as_secs_f64();
    println!(
        "| durable ingest, final flush included | {:.0} events/s ({with_flush:.2} s): every event in a segment |",
        n / with_flush
    );
    if whole.is_empty() {
        println!("| sustained (1 s windows) | run shorter than 2 s |");
    } else {
        println!(
            "| sustained (1 s windows) | slowest {} events/s, median {}, fastest {} over {} s; by second: {} |",
            sorted[0],
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1],
            sorted.len(),
            whole.iter().map(|n| format!("{}k", n / 1000)).collect::<Vec<_>>().join(" ")
        );
        // The slowest run of w consecutive whole seconds: how long a dip lasts.
        let slowest = |w: usize| whole.windows(w).map(|s| s.iter().sum::<u64>() / w as u64).min();
        let windows: Vec<String> = [2, 3, 5, 10]
            .into_iter()
            .filter_map(|w| slowest(w).map(|rate| format!("{w} s: {rate} events/s")))
            .collect();
        if !windows.is_empty() {
            println!("| slowest window of | {} |", windows.join(", "));
        }
    }
    println!(
        "| batch latency ({} × {}) | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms |",
        latencies.len(),
        args.batch,
        ms(latencies.percentile(0.5)),
        ms(latencies.percentile(0.99)),
        ms(latencies.percentile(1.0))
    );
    println!(
        "| flush, then compaction (not timed above) | {:.2} s for the last {} events; {:.2} s merging {} segments |",
        flushed.flush_took.as_secs_f64(),
        flushed.n_events,
        flushed.compact_took.as_secs_f64(),
        flushed.n_merged
    );
    println!(
        "| on disk | {:.0} bytes/event ({breakdown}; {:.1} MiB allocated, {:.1} MiB apparent, {} files) |",
        usage.allocated as f64 / n,
        mib(usage.allocated),
        mib(usage.apparent),
        usage.files
    );
    println!(
        "| reopen | {:.2} s (the WAL held {} records; {in_segments} events in segments, {in_tail} in the tail) |",
        opened.took.as_secs_f64(),
        opened.n_wal_records
    );
    println!(
        "| memory | RSS {:.0} MiB with the records generated, before the store opened; peak (VmHWM) {:.0} MiB |",
        mib(before.rss),
        mib(after.peak)
    );
    println!(
        "| generator / parser (not timed above) | {:.0} records/s / {:.0} records/s (one core) |",
        n / generate_took.as_secs_f64(),
        n / parse_took.as_secs_f64()
    );
    Ok(())
}

/// `n` enabled rules spread over the generator's accounts and regions, shaped like users' rules: a service's source and
/// detail-type with one event name each (names the generator never records, so they match nothing),
/// and one rule in a hundred on refused calls, which match now and then and go to a log file.
fn bench_rules(n: usize) -> Vec<cairn_store::Change<RuleRecord>> {
    const SOURCES: [&str; 6] = ["aws.ec2", "aws.s3", "aws.iam", "aws.sts", "aws.lambda", "aws.cloudtrail"];
    const VERBS: [&str; 6] = ["Create", "Delete", "Update", "Put", "Attach", "Describe"];
    (0..n)
        .map(|i| {
            let pattern = if i % 100 == 99 {
                r#"{"detail":{"errorCode":[{"prefix":"AccessDenied"},{"wildcard":"*UnauthorizedOperation"}]}}"#.to_owned()
            } else {
                format!(
                    r#"{{"source":["{}"],"detail-type":["AWS API Call via CloudTrail"],"detail":{{"eventName":["{}Bench{i}"]}}}}"#,
                    SOURCES[i % SOURCES.len()],
                    VERBS[i % VERBS.len()]
                )
            };
            cairn_store::Change::Put(RuleRecord {
                account_id: super::generator::ACCOUNTS[i % super::generator::ACCOUNTS.len()].0.to_owned(),
                region: super::generator::REGIONS[(i / 3) % super::generator::REGIONS.len()].0.to_owned(),
                name: format!("bench-{i}"),
                event_pattern: pattern,
                state: RuleState::Enabled,
                description: None,
                targets: vec![RuleTarget::plain("log", "arn:cairn:logfile:::bench")],
                created_at: jiff::Timestamp::now(),
                tags: Vec::new(),
            })
        })
        .collect()
}
