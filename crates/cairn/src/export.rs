//! `cairn export --store NAME_OR_ID --out DIR`: an event data store's events leave a data directory as
//! CloudTrail log files in the S3 layout (what `cairn import`, StartImport and CloudTrail tools read)
//! or as Parquet files of the Lake schema.
//!
//! The data directory is read as `cairn query` reads it, events still in the write-ahead log included.
//! `--start` (inclusive) and `--end` (exclusive) select by event time, `--where` by a Lake SQL
//! condition; the Lake's planner checks the selection before anything is written. Events stream out
//! in event-time windows ([`cairn_lake::export`]), so memory stays bounded however large the store.

mod log_files;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cairn_lake::export::{Export, PARQUET_ROWS_PER_FILE, Selection};
use cairn_store::records::EventDataStoreRecord;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::offline::Offline;
use log_files::{LogFiles, Written};

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The event data store: its name, ID or ARN.
    #[arg(long)]
    store: String,
    /// Data directory [default: ./cairn-data].
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Folder to write into (created if missing); files of an earlier export of the same events are overwritten.
    #[arg(long)]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Cloudtrail)]
    format: Format,
    /// Only events at or after this time, UTC unless an offset is given: 2025-03-01T10:00:00Z,
    /// "2025-03-01 10:00:00" or 2025-03-01.
    #[arg(long, value_parser = parse_time)]
    start: Option<Timestamp>,
    /// Only events before this time (the forms of --start).
    #[arg(long, value_parser = parse_time)]
    end: Option<Timestamp>,
    /// Only events matching this Lake SQL condition, e.g. "eventName = 'ConsoleLogin'".
    #[arg(long = "where", value_name = "CONDITION")]
    condition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// CloudTrail log files, `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`: one per account,
    /// region and hour of event time, at most 10,000 records each.
    Cloudtrail,
    /// Parquet files of the Lake schema (zstd), `events-00000.parquet`, … of at most 1,000,000 rows.
    Parquet,
}

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<()> {
    if let (Some(start), Some(end)) = (args.start, args.end)
        && start >= end
    {
        anyhow::bail!("--start ({start}) must be before --end ({end})");
    }
    if !args.data_dir.join("meta").exists() {
        anyhow::bail!("{} is not a cairn data directory (it has no meta/)", args.data_dir.display());
    }
    if args.out.exists() && !args.out.is_dir() {
        anyhow::bail!("--out {} exists and is not a folder", args.out.display());
    }
    let offline = Offline::open(&args.data_dir, "export")?;
    let started = Instant::now();
    let outcome = export(&offline, &args);
    offline.close();
    let (store, written) = outcome?;
    let what = match args.format {
        Format::Cloudtrail => "CloudTrail log files (hourly)",
        Format::Parquet => "Parquet files",
    };
    println!(
        "exported {} events of {} ({}) to {}: {} {what}, {:.1} MB, in {:.1} s",
        written.n_events,
        store.name,
        store.id,
        args.out.display(),
        written.n_files,
        written.n_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn export(offline: &Offline, args: &ExportArgs) -> anyhow::Result<(EventDataStoreRecord, Written)> {
    let store = find_store(&offline.stores.all(), &args.store, &args.data_dir)?;
    let selection = Selection {
        store_id: store.id.clone(),
        start_ms: args.start.map(|t| t.as_millisecond()),
        end_ms: args.end.map(|t| t.as_millisecond()),
        condition: args.condition.clone(),
    };
    let written = offline.runtime.block_on(async {
        let lake = offline.lake().await?;
        lake.catch_up().await?;
        // Planned (and a bad condition refused) before the output folder exists.
        let export = Export::plan(&lake, &selection)?;
        std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
        let written = match args.format {
            Format::Cloudtrail => {
                let mut files = LogFiles::new(&args.out, &store.id, &store.account_id, &store.region);
                export.for_each_record(|record| files.add(record)).await?;
                files.finish()?
            }
            Format::Parquet => {
                let parquet = export.write_parquet(&args.out, PARQUET_ROWS_PER_FILE).await?;
                Written { n_events: parquet.n_events, n_files: parquet.files.len() as u64, n_bytes: parquet.n_bytes }
            }
        };
        anyhow::Ok(written)
    })?;
    Ok((store, written))
}

/// The store named `wanted` by ID, ARN or name.
fn find_store(stores: &[EventDataStoreRecord], wanted: &str, data_dir: &Path) -> anyhow::Result<EventDataStoreRecord> {
    let by_id: Vec<&EventDataStoreRecord> =
        stores.iter().filter(|r| r.id.eq_ignore_ascii_case(wanted) || r.arn() == wanted).collect();
    let found = if by_id.is_empty() { stores.iter().filter(|r| r.name == wanted).collect() } else { by_id };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let known: Vec<String> = stores.iter().map(|r| format!("{} ({})", r.name, r.id)).collect();
            let known =
                if known.is_empty() { "it has none".to_owned() } else { format!("it has {}", known.join(", ")) };
            anyhow::bail!(
                "the event data store {} does not exist in {}: {known}",
                cairn_model::error::truncate_for_message(wanted),
                data_dir.display()
            )
        }
        several => {
            let ids: Vec<&str> = several.iter().map(|r| r.id.as_str()).collect();
            anyhow::bail!("{} event data stores are named {wanted}; name one by ID: {}", ids.len(), ids.join(", "))
        }
    }
}

/// An instant from ISO 8601 with an offset, or a date and time (or a date alone) taken as UTC.
fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| text.parse::<jiff::civil::Date>().map(|date| date.to_datetime(jiff::civil::Time::midnight())));
    match civil.and_then(|civil| civil.to_zoned(TimeZone::UTC)) {
        Ok(zoned) => Ok(zoned.timestamp()),
        Err(_) => Err(format!(
            "'{text}' is not a time: use ISO 8601 (2025-03-01T10:00:00Z), \"2025-03-01 10:00:00\" (UTC) or 2025-03-01"
        )),
    }
}

#[cfg(test)]
mod tests;
