//! `cairn import PATH… --store NAME`: CloudTrail records from local files into an event data store of a
//! data directory that no server holds (created, with the store, if missing).
//!
//! [`discover`] lists the files (folders recursively: the S3 layout `AWSLogs/<account>/CloudTrail/<region>/…`,
//! digests skipped); [`split`] reads log files as delivered (`{"Records":[…]}`, `.json` or `.json.gz`), arrays of
//! records and NDJSON, keeping each record's text byte for byte; [`pipeline`] checks every record as the ingest
//! path does and writes the accepted ones straight into the store's segments (not through the write-ahead log),
//! reading on every core while it writes; [`report`] shows progress, refused records and failed files. A bad
//! record or file never stops the import: only a failure of the data directory does, and the command fails when
//! nothing at all was imported.

mod discover;
mod pipeline;
mod report;
mod split;
mod worker;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, RootCredentialRecord};
use cairn_store::{Change, Registry, StoreError};

pub(crate) use discover::Skipped;
pub(crate) use report::Tallies;
pub(crate) use worker::ImportWorker;

use crate::offline::Offline;

/// Records per Arrow batch a reading thread converts.
const BATCH_ROWS: usize = 8 * 1024;
/// Records per segment: one Parquet row group of a Lake segment.
const SEGMENT_ROWS: usize = 128 * 1024;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// Files or folders (read recursively, e.g. the S3 layout AWSLogs/…) of CloudTrail log files (.json, .json.gz)
    /// or NDJSON (.ndjson, .jsonl, optionally .gz).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The event data store (by name) to import into; created if missing.
    #[arg(long)]
    store: String,
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Write every refused record and failed file to this file, one JSON object per line:
    /// {"file": …, "record": N (null for a whole file), "reason": …}.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
}

/// What to import; `cairn bench import` asks for the same as the command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) store: &'a str,
    pub(crate) data_dir: &'a Path,
    pub(crate) errors: Option<&'a Path>,
    /// Draw the progress bar on stderr.
    pub(crate) progress: bool,
}

/// How an import went.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) store_id: Option<String>,
    /// Events written into the store.
    pub(crate) n_events: u64,
    pub(crate) tallies: Tallies,
    /// Files found by name but not read.
    pub(crate) skipped: Skipped,
    /// From listing the files to the last segment committed.
    pub(crate) seconds: f64,
    /// Writing the `--errors` file failed (the import went on).
    pub(crate) errors_file_failure: Option<std::io::Error>,
}

pub(crate) fn run(args: ImportArgs) -> anyhow::Result<()> {
    let request = Request {
        paths: &args.paths,
        store: &args.store,
        data_dir: &args.data_dir,
        errors: args.errors.as_deref(),
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = execute(&request)?;
    println!("{}", outcome.summary(&args.store));
    if let (Some(failure), Some(path)) = (&outcome.errors_file_failure, &args.errors) {
        eprintln!("warning: {} is incomplete: {failure}", path.display());
    }
    if outcome.n_events == 0 {
        anyhow::bail!("nothing was imported");
    }
    Ok(())
}

/// Imports the files of `request`. Errors are those of the data directory (or a path that does not exist); bad
/// files and records are counted in the outcome.
pub(crate) fn execute(request: &Request<'_>) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let discovery = discover::discover(request.paths)?;
    let reporter = report::Reporter::new(
        discovery.files.len() as u64 + discovery.unreadable.len() as u64,
        discovery.total_bytes(),
        request.errors,
        request.progress,
    )
    .with_context(|| format!("creating {}", request.errors.map_or_else(String::new, |p| p.display().to_string())))?;
    for (path, reason) in &discovery.unreadable {
        reporter.file(path, 0, report::FileReport::Failed { reason: reason.clone() });
    }
    let (store_id, n_events) = if discovery.files.is_empty() {
        (None, 0)
    } else {
        match write_files(request, &discovery.files, &reporter) {
            Ok((store_id, n_events)) => (Some(store_id), n_events),
            Err(error) => {
                reporter.finish();
                return Err(error);
            }
        }
    };
    let (tallies, errors_file_failure) = reporter.finish();
    Ok(Outcome {
        store_id,
        n_events,
        tallies,
        skipped: discovery.skipped,
        seconds: started.elapsed().as_secs_f64(),
        errors_file_failure,
    })
}

/// Opens the data directory and the store, and runs the pipeline into it. Returns the store's ID and the number
/// of events written.
fn write_files(
    request: &Request<'_>,
    files: &[discover::InputFile],
    reporter: &report::Reporter,
) -> anyhow::Result<(String, u64)> {
    let offline = Offline::open(request.data_dir, "import")?;
    let written = write_into(&offline, request.store, files, reporter);
    offline.close();
    written
}

fn write_into(
    offline: &Offline,
    store: &str,
    files: &[discover::InputFile],
    reporter: &report::Reporter,
) -> anyhow::Result<(String, u64)> {
    let account_id = Registry::<RootCredentialRecord>::load(offline.meta.clone())?
        .all()
        .first()
        .map_or_else(|| "000000000000".to_owned(), |r| r.account_id.clone());
    let store_id = find_or_create(&offline.stores, store, &account_id, offline.clock.now())?;
    let lake = offline.runtime.block_on(offline.lake())?;
    let shape = pipeline::Shape {
        readers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        batch_rows: BATCH_ROWS,
        segment_rows: SEGMENT_ROWS,
    };
    let write =
        |batches: &[arrow_array::RecordBatch]| offline.runtime.block_on(lake.import_batches(&store_id, batches));
    let n_events = pipeline::run(files, shape, reporter, write)?;
    Ok((store_id, n_events))
}

impl Outcome {
    /// The line printed at the end.
    pub(crate) fn summary(&self, store: &str) -> String {
        let t = &self.tallies;
        let seconds = self.seconds.max(1e-9);
        let into = match &self.store_id {
            Some(id) => format!("{store} ({id})"),
            None => store.to_owned(),
        };
        let skipped = self.skipped.total() + t.digests;
        let mut line = format!(
            "imported {} events from {} files ({:.1} MB) into {into} in {:.1} s: {:.0} events/s, {:.1} MB/s; \
             {} records refused, {} files failed, {skipped} files skipped",
            self.n_events,
            t.files_read,
            t.bytes as f64 / 1e6,
            self.seconds,
            self.n_events as f64 / seconds,
            t.bytes as f64 / 1e6 / seconds,
            t.refused,
            t.files_failed,
        );
        if skipped > 0 {
            line.push_str(&format!(
                " ({} digest files, {} not named as log files)",
                self.skipped.digests + t.digests,
                self.skipped.other
            ));
        }
        line
    }
}

fn find_or_create(
    stores: &Registry<EventDataStoreRecord>,
    name: &str,
    account_id: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<String> {
    let id = stores.transact(|all| {
        if let Some(existing) = all.values().find(|r| r.name == name) {
            return Ok::<_, StoreError>((existing.id.clone(), Vec::new()));
        }
        let record = EventDataStoreRecord {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_owned(),
            region: "us-east-1".to_owned(),
            name: name.to_owned(),
            status: EventDataStoreStatus::Enabled,
            advanced_event_selectors: cairn_select::default_event_data_store_selectors(),
            multi_region_enabled: true,
            organization_enabled: false,
            retention_period: BillingMode::ExtendableRetentionPricing.max_retention(),
            termination_protection_enabled: true,
            kms_key_id: None,
            billing_mode: BillingMode::ExtendableRetentionPricing,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            // Fed by imports only, not by events recorded later.
            ingestion: Vec::new(),
            channels: Vec::new(),
            insights: None,
        };
        Ok((record.id.clone(), vec![Change::Put(record)]))
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_count() {
        let outcome = Outcome {
            store_id: Some("abc".to_owned()),
            n_events: 2_000,
            tallies: Tallies {
                files_read: 4,
                files_failed: 1,
                digests: 1,
                bytes: 2_500_000,
                accepted: 2_000,
                refused: 3,
            },
            skipped: Skipped { digests: 2, other: 5 },
            seconds: 2.0,
            errors_file_failure: None,
        };
        assert_eq!(
            outcome.summary("archive"),
            "imported 2000 events from 4 files (2.5 MB) into archive (abc) in 2.0 s: 1000 events/s, 1.2 MB/s; \
             3 records refused, 1 files failed, 8 files skipped (3 digest files, 5 not named as log files)"
        );
    }
}
