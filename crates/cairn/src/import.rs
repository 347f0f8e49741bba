//! `cairn import PATH… --store NAME`: CloudTrail records from local files into an event data store of a
//! data directory that no server holds (created, with the store, if missing).
//!
//! Reads log files as delivered (`{"Records":[…]}`, `.json` or `.json.gz`, in folders such as the S3
//! layout) and NDJSON (one record, or one `{"Records":…}` object, per line). Each record is checked as
//! the ingest path checks it; refused records are counted and the first ones shown with the reason.
//! Records go straight into the store's segments, not through the write-ahead log.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cairn_lake::Lake;
use cairn_model::event::EventRecord;
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, RootCredentialRecord};
use cairn_store::{Change, Registry, StoreError};

use crate::offline::Offline;

/// Records written per segment.
const CHUNK: usize = 200_000;
/// Refused records shown in full; the rest are counted.
const SHOWN_ERRORS: usize = 10;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// Files or folders of CloudTrail log files (.json, .json.gz) or NDJSON (.ndjson, .jsonl, optionally .gz).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The event data store (by name) to import into; created if missing.
    #[arg(long)]
    store: String,
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
}

pub(crate) fn run(args: ImportArgs) -> anyhow::Result<()> {
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        anyhow::bail!("no .json, .json.gz, .ndjson or .jsonl files under the given paths");
    }
    let offline = Offline::open(&args.data_dir, "import")?;
    let account_id = Registry::<RootCredentialRecord>::load(offline.meta.clone())?
        .all()
        .first()
        .map_or_else(|| "000000000000".to_owned(), |r| r.account_id.clone());
    let store_id = find_or_create(&offline.stores, &args.store, &account_id, offline.clock.now())?;
    let started = Instant::now();
    let summary = offline.runtime.block_on(async {
        let lake = offline.lake().await?;
        import_files(&lake, &store_id, &files).await
    });
    offline.close();
    let summary = summary?;
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "imported {} events from {} files ({:.1} MB) into {} ({store_id}) in {seconds:.1} s: {:.0} events/s, {:.1} MB/s; {} records refused",
        summary.n_events,
        files.len(),
        summary.n_bytes as f64 / 1e6,
        args.store,
        summary.n_events as f64 / seconds,
        summary.n_bytes as f64 / 1e6 / seconds,
        summary.n_refused,
    );
    Ok(())
}

#[derive(Debug, Default)]
struct Summary {
    n_events: usize,
    n_refused: usize,
    n_bytes: u64,
}

async fn import_files(lake: &Lake, store_id: &str, files: &[PathBuf]) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending: Vec<String> = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        summary.n_bytes += bytes.len() as u64;
        let text = match file.extension().and_then(|e| e.to_str()) {
            Some("gz") => {
                let mut text = String::new();
                flate2::read::MultiGzDecoder::new(bytes.as_slice())
                    .read_to_string(&mut text)
                    .with_context(|| format!("decompressing {}", file.display()))?;
                text
            }
            _ => String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", file.display()))?,
        };
        for (position, record) in records_of(&text).into_iter().enumerate() {
            let checked = record.and_then(|text| match EventRecord::parse(text.as_bytes()) {
                Ok(_) => Ok(text),
                Err(error) => Err(error.to_string()),
            });
            match checked {
                Ok(text) => pending.push(text),
                Err(reason) => {
                    summary.n_refused += 1;
                    if summary.n_refused <= SHOWN_ERRORS {
                        eprintln!("{} record {}: {reason}", file.display(), position + 1);
                    }
                }
            }
        }
        if pending.len() >= CHUNK {
            summary.n_events += write(lake, store_id, &mut pending).await?;
        }
    }
    summary.n_events += write(lake, store_id, &mut pending).await?;
    Ok(summary)
}

async fn write(lake: &Lake, store_id: &str, pending: &mut Vec<String>) -> anyhow::Result<usize> {
    if pending.is_empty() {
        return Ok(0);
    }
    let texts: Vec<&str> = pending.iter().map(String::as_str).collect();
    let n = lake.import_records(store_id, &texts).await?;
    pending.clear();
    Ok(n)
}

/// The records of a file's text: a log file's `Records`, or one record (or log file) per line.
fn records_of(text: &str) -> Vec<Result<String, String>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(trimmed)
    {
        return expand(serde_json::Value::Object(object));
    }
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(value) => out.extend(expand(value)),
            Err(error) => out.push(Err(format!("not JSON: {error}"))),
        }
    }
    out
}

fn expand(value: serde_json::Value) -> Vec<Result<String, String>> {
    match value {
        serde_json::Value::Object(mut object) => match object.remove("Records") {
            Some(serde_json::Value::Array(records)) => records.into_iter().map(|r| Ok(r.to_string())).collect(),
            Some(_) => vec![Err("Records is not an array".to_owned())],
            None => vec![Ok(serde_json::Value::Object(object).to_string())],
        },
        _ => vec![Err("not a JSON object".to_owned())],
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
        };
        Ok((record.id.clone(), vec![Change::Put(record)]))
    })?;
    Ok(id)
}

fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        visit(path, &mut files).with_context(|| format!("reading {}", path.display()))?;
    }
    files.sort();
    Ok(files)
}

fn visit(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            visit(&entry?.path(), files)?;
        }
    } else {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let known = [".json", ".json.gz", ".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz"];
        if known.iter().any(|suffix| name.ends_with(suffix)) {
            files.push(path.to_path_buf());
        }
    }
    Ok(())
}
