//! CloudTrail log files from exported events, laid out as CloudTrail delivers them to S3
//! (spec/formats.md §2): `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
//! <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz`, one gzip member holding
//! `{"Records":[…]}` with each record's exact text.
//!
//! One file per account (`recipientAccountId`, else `userIdentity.accountId`, else the store's), region
//! and hour of event time. A log file's time is its delivery time, after its events, so a file is dated
//! by the end of its hour. A file takes at most [`RECORDS_PER_FILE`] records and [`TEXT_BYTES_PER_FILE`]
//! of text; more make further parts. Names end in 16 characters derived from the store, account,
//! region, hour and part, so exporting the same events again writes the same names over the old files.
//! Events arrive in time order, so only the current hour's files are open; each is compressed as it
//! grows under a temporary name and renamed once complete and synced.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_deliver::layout::{AccountRoot, unique_suffix};
use cairn_lake::export::{ExportError, ExportedRecord};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;

/// Records per log file at most.
pub(crate) const RECORDS_PER_FILE: usize = 10_000;
/// Uncompressed bytes per log file at most (AWS's limit is 50 MB compressed; delivery splits at 48 MB).
pub(crate) const TEXT_BYTES_PER_FILE: usize = 48 * 1024 * 1024;
const HOUR_MS: i64 = 3_600_000;
/// Account IDs and regions longer than this are cut in paths (the name stays under 255 bytes).
const MAX_PATH_PART: usize = 64;

/// A failure to write log files.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogFileError {
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("writing {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("events arrived out of event-time order (hour {hour} after {current})")]
    OutOfOrder { hour: i64, current: i64 },
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> LogFileError + '_ {
    move |source| LogFileError::Write { path: path.to_path_buf(), source }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) n_events: u64,
    pub(crate) n_files: u64,
    pub(crate) n_bytes: u64,
}

struct OpenFile {
    temp: PathBuf,
    path: PathBuf,
    encoder: GzEncoder<BufWriter<File>>,
    part: u32,
    n_records: usize,
    n_text_bytes: usize,
}

/// The log files of one export, written as records arrive in event-time order.
pub(crate) struct LogFiles {
    out: PathBuf,
    store_id: String,
    fallback_account: Arc<str>,
    fallback_region: Arc<str>,
    records_per_file: usize,
    /// The hour (ms since the epoch) whose files are open.
    hour: Option<i64>,
    /// The open files by account, then region.
    open: HashMap<String, HashMap<String, OpenFile>>,
    /// Folders created, to sync once their entries are final.
    folders: BTreeSet<PathBuf>,
    written: Written,
}

impl LogFiles {
    /// Log files under `out` for store `store_id`; records without an account or region get the store's.
    pub(crate) fn new(out: &Path, store_id: &str, fallback_account: &str, fallback_region: &str) -> LogFiles {
        LogFiles {
            out: out.to_path_buf(),
            store_id: store_id.to_owned(),
            fallback_account: fallback_account.into(),
            fallback_region: fallback_region.into(),
            records_per_file: RECORDS_PER_FILE,
            hour: None,
            open: HashMap::new(),
            folders: BTreeSet::new(),
            written: Written::default(),
        }
    }

    /// Adds one record; records come in event-time order.
    pub(crate) fn add(&mut self, record: ExportedRecord<'_>) -> Result<(), LogFileError> {
        let hour = record.event_time_ms.div_euclid(HOUR_MS) * HOUR_MS;
        match self.hour {
            Some(current) if hour < current => return Err(LogFileError::OutOfOrder { hour, current }),
            Some(current) if hour == current => {}
            _ => {
                self.close_all()?;
                self.hour = Some(hour);
            }
        }
        let (fallback_account, fallback_region) =
            (Arc::clone(&self.fallback_account), Arc::clone(&self.fallback_region));
        let account = record.account_id.unwrap_or(&fallback_account);
        let region = record.region.unwrap_or(&fallback_region);
        let text = record.text.as_bytes();
        let full = |file: &OpenFile| {
            file.n_records >= self.records_per_file || file.n_text_bytes + text.len() + 1 > TEXT_BYTES_PER_FILE
        };
        let by_region = self.open.entry(account.to_owned()).or_default();
        match by_region.get_mut(region) {
            Some(file) if !full(file) => append(file, text)?,
            Some(file) => {
                let next = create(&self.out, &self.store_id, &mut self.folders, account, region, hour, file.part + 1)?;
                close(std::mem::replace(file, next), &mut self.written)?;
                append(file, text)?;
            }
            None => {
                let mut file = create(&self.out, &self.store_id, &mut self.folders, account, region, hour, 0)?;
                append(&mut file, text)?;
                by_region.insert(region.to_owned(), file);
            }
        }
        self.written.n_events += 1;
        Ok(())
    }

    /// Closes the open files and makes the new names durable. Returns what was written.
    pub(crate) fn finish(mut self) -> Result<Written, LogFileError> {
        self.close_all()?;
        for folder in self.folders.iter().rev() {
            File::open(folder).and_then(|f| f.sync_all()).map_err(write_error(folder))?;
        }
        Ok(self.written)
    }

    fn close_all(&mut self) -> Result<(), LogFileError> {
        let open: Vec<OpenFile> = self.open.drain().flat_map(|(_, by_region)| by_region.into_values()).collect();
        for file in open {
            close(file, &mut self.written)?;
        }
        Ok(())
    }
}

/// Opens part `part` of the log file of `account`, `region` and `hour` under a temporary name.
fn create(
    out: &Path,
    store_id: &str,
    folders: &mut BTreeSet<PathBuf>,
    account: &str,
    region: &str,
    hour: i64,
    part: u32,
) -> Result<OpenFile, LogFileError> {
    let root = AccountRoot { key_prefix: None, organization_id: None, account_id: path_part(account) };
    // The raw values seed the suffix: two accounts that read the same in a path still get two names.
    let seed = format!("cairn export/{}/{account}/{region}/{hour}/{part}", store_id);
    let delivered = Timestamp::from_millisecond(hour.saturating_add(HOUR_MS)).unwrap_or(Timestamp::MAX);
    let key = root.log_file_key(&path_part(region), delivered, &unique_suffix(&seed));
    let path = out.join(&key);
    let folder = path.parent().map_or_else(|| out.to_path_buf(), Path::to_path_buf);
    if !folders.contains(&folder) {
        std::fs::create_dir_all(&folder).map_err(write_error(&folder))?;
        let mut at = folder.as_path();
        while at.starts_with(out) && folders.insert(at.to_path_buf()) {
            match at.parent() {
                Some(parent) => at = parent,
                None => break,
            }
        }
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = folder.join(format!(".{name}.tmp"));
    let file = File::create(&temp).map_err(write_error(&temp))?;
    // Level 5, as trail delivery uses: most of the ratio for much less time than 9.
    let encoder = GzEncoder::new(BufWriter::with_capacity(256 * 1024, file), Compression::new(5));
    Ok(OpenFile { temp, path, encoder, part, n_records: 0, n_text_bytes: 0 })
}

/// Ends `file`'s JSON and gzip member, syncs it and gives it its name.
fn close(mut file: OpenFile, written: &mut Written) -> Result<(), LogFileError> {
    file.encoder.write_all(b"]}").map_err(write_error(&file.temp))?;
    let buffered = file.encoder.finish().map_err(write_error(&file.temp))?;
    let handle =
        buffered.into_inner().map_err(|e| LogFileError::Write { path: file.temp.clone(), source: e.into_error() })?;
    handle.sync_all().map_err(write_error(&file.temp))?;
    written.n_bytes += handle.metadata().map_err(write_error(&file.temp))?.len();
    drop(handle);
    std::fs::rename(&file.temp, &file.path).map_err(write_error(&file.path))?;
    written.n_files += 1;
    Ok(())
}

/// Appends one record's text to `file`.
fn append(file: &mut OpenFile, text: &[u8]) -> Result<(), LogFileError> {
    let separator: &[u8] = if file.n_records == 0 { b"{\"Records\":[" } else { b"," };
    file.encoder.write_all(separator).and_then(|()| file.encoder.write_all(text)).map_err(write_error(&file.temp))?;
    file.n_records += 1;
    file.n_text_bytes += text.len() + 1;
    Ok(())
}

/// `value` as one folder or file name part: letters, digits, `-` and `_` kept, anything else `_`.
fn path_part(value: &str) -> String {
    value
        .chars()
        .take(MAX_PATH_PART)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}
