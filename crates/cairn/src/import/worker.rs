//! The server's import worker: runs the imports StartImport records (spec/api.md §1.9), one at a time, oldest
//! first, and keeps each import's record up to date as it goes.
//!
//! An import lists every log file under its `s3://bucket/prefix` (an embedded bucket or an external one), takes
//! the files in key order and writes their records into the destination store in batches, each batch one segment.
//! Exactly once across crashes: before a batch's segment is committed, the batch (its files, event count and
//! failures) is recorded in the import as pending, and the segment is tagged `import:<id>:<batch>`. After a crash
//! the worker looks for that tag in the store: found, the batch is applied to the record; not found, its files are
//! read again. StopImport is seen between batches. Files that cannot be read are recorded as failures; retrying
//! the import (StartImport with its ID) reads them again.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairn_deliver::destination::{DestinationError, Destinations};
use cairn_lake::Lake;
use cairn_model::clock::Clock;
use cairn_model::event::EventRecord;
use cairn_store::records::{ImportBatch, ImportFailure, ImportFailureStatus, ImportRecord, ImportStatus};
use cairn_store::{Change, Registry, StoreError};
use jiff::Timestamp;
use tokio::sync::Notify;

use super::discover::{is_digest, known_suffix};
use super::pipeline::{Pending, Read, read_bytes};

/// Events per batch (one segment each): large enough for good segments, small enough that StopImport and the
/// statistics follow closely.
const BATCH_EVENTS: usize = 32 * 1024;
/// Files per batch at most, so that a batch of small files is recorded in a record of bounded size.
const BATCH_FILES: usize = 500;
/// Failures kept per import; further ones are counted in `FailedEntries` only.
const MAX_FAILURES: usize = 10_000;
/// How often the worker looks for work when nobody wakes it (imports left over from before a restart are
/// found at once).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// What stops an import from going on. The import is marked FAILED when its source cannot be listed; any other
/// error leaves it as it is, to be resumed (the worker tries again after a pause).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    #[error("the import record could not be written: {0}")]
    Record(#[from] StoreError),
    #[error("the event data store could not be written: {0}")]
    Store(String),
    #[error("a reading task stopped unexpectedly")]
    Reader,
}

pub(crate) struct ImportWorker {
    pub(crate) imports: Arc<Registry<ImportRecord>>,
    pub(crate) lake: Arc<Lake>,
    pub(crate) destinations: Arc<Destinations>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) wakeup: Arc<Notify>,
}

/// Why the worker stepped out of an import.
enum Ended {
    /// Every file has been gone through.
    Done,
    /// StopImport (or the import vanished).
    Stopped,
}

/// One file in a batch being filled.
struct FileOutcome {
    key: String,
    n_events: u64,
    failure: Option<ImportFailure>,
}

impl ImportWorker {
    /// Runs imports until the runtime shuts down (a batch cut short is redone on the next start).
    pub(crate) async fn run(self) {
        loop {
            let next = self.imports.read(|imports| {
                imports.values().filter(|r| r.status.is_ongoing()).min_by_key(|r| (r.created_at, r.id.clone())).cloned()
            });
            let Some(record) = next else {
                let _ = tokio::time::timeout(IDLE_POLL, self.wakeup.notified()).await;
                continue;
            };
            if let Err(error) = self.run_import(record).await {
                tracing::error!(%error, "an import stopped; it is resumed shortly");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }

    async fn run_import(&self, record: ImportRecord) -> Result<(), WorkerError> {
        let id = record.id.clone();
        if !self.change(&id, |r| r.status = ImportStatus::InProgress)? {
            return Ok(());
        }
        let Some(store_id) = record.destinations.first().and_then(|arn| arn.rsplit('/').next()).map(str::to_owned)
        else {
            self.finish(&id, ImportStatus::Failed)?;
            return Ok(());
        };
        let uri = record.source.s3_location_uri.clone();
        let (bucket, prefix) = split_uri(&uri);
        let files = match self.destinations.list(bucket, prefix).await {
            Ok(listed) => log_files(listed),
            Err(error) => {
                self.listing_failed(&id, &uri, &error)?;
                return Ok(());
            }
        };
        let folders = folders(&files);
        let now = self.clock.now();
        self.change(&id, |r| {
            r.statistics.prefixes_found = folders.len() as u64;
            // The source can be listed again: a listing failure being retried is over.
            for failure in r.failures.iter_mut().filter(|f| f.status == ImportFailureStatus::Retry && f.location == uri)
            {
                failure.status = ImportFailureStatus::Succeeded;
                failure.last_updated = now;
            }
            recount_failures(r);
        })?;
        if let Some(pending) = record.progress.pending.clone() {
            self.settle_pending(&id, &store_id, pending, &folders).await?;
        }
        let window = (record.start_event_time, record.end_event_time);
        let job = Job { id: &id, store_id: &store_id, bucket, window, folders: &folders };

        // The listing, from where the import stopped.
        if !record.progress.listing_done {
            let done_through = self.imports.get(&id).and_then(|r| r.progress.done_through);
            let todo: Vec<&str> =
                files.iter().map(|(key, _)| key.as_str()).filter(|key| done_through.as_deref() < Some(*key)).collect();
            if let Ended::Stopped = self.import_files(&job, &todo, false).await? {
                return Ok(());
            }
            self.change(&id, |r| r.progress.listing_done = true)?;
        }
        // Failed files the user asked to read again.
        let retries: Vec<String> = self.imports.get(&id).map_or_else(Vec::new, |r| {
            r.failures
                .iter()
                .filter(|f| f.status == ImportFailureStatus::Retry && f.location != uri)
                .filter_map(|f| key_of_location(&f.location, bucket).map(str::to_owned))
                .collect()
        });
        let retries: Vec<&str> = retries.iter().map(String::as_str).collect();
        if let Ended::Stopped = self.import_files(&job, &retries, true).await? {
            return Ok(());
        }
        self.finish(&id, ImportStatus::Completed)?;
        Ok(())
    }

    /// Reads `keys` in batches and writes each; returns early when the import is stopped.
    async fn import_files(&self, job: &Job<'_>, keys: &[&str], retried: bool) -> Result<Ended, WorkerError> {
        let mut pending = Pending::default();
        let mut outcomes: Vec<FileOutcome> = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            if !self.is_ongoing(job.id) {
                return Ok(Ended::Stopped);
            }
            outcomes.push(self.read_file(job, key, &mut pending).await?);
            let last = index + 1 == keys.len();
            if last || pending.len() >= BATCH_EVENTS || outcomes.len() >= BATCH_FILES {
                self.write_batch(job, &mut pending, std::mem::take(&mut outcomes), retried).await?;
            }
        }
        Ok(if self.is_ongoing(job.id) { Ended::Done } else { Ended::Stopped })
    }

    /// Fetches and reads one file, adding its wanted records to `pending`.
    async fn read_file(&self, job: &Job<'_>, key: &str, pending: &mut Pending) -> Result<FileOutcome, WorkerError> {
        let location = format!("s3://{}/{key}", job.bucket);
        let failed = |error_type: &str, message: String| FileOutcome {
            key: key.to_owned(),
            n_events: 0,
            failure: Some(self.failure(&location, error_type, message, true)),
        };
        let bytes = match self.destinations.get(job.bucket, key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(failed("FileNotFound", "The file was deleted before it could be read.".to_owned())),
            Err(error) => return Ok(failed("FileReadError", format!("The file could not be read: {error}"))),
        };
        let lines = known_suffix(Path::new(key)).unwrap_or(false);
        let (start, end) = job.window;
        let keep = move |record: &EventRecord| {
            let time = record.fields().event_time;
            start.is_none_or(|start| time >= start) && end.is_none_or(|end| time <= end)
        };
        let read = tokio::task::spawn_blocking(move || read_bytes(bytes, lines, keep))
            .await
            .map_err(|_| WorkerError::Reader)?;
        Ok(match read {
            Err(failure) => failed("InvalidLogFile", format!("The file is not a CloudTrail log file: {failure}")),
            Ok(Read::Digest) => FileOutcome { key: key.to_owned(), n_events: 0, failure: None },
            Ok(Read::Records { text, accepted, refused }) => {
                let n_events = accepted.len() as u64;
                pending.add(text, accepted);
                // Some records refused: the others are imported, so the file is not read again on a retry.
                let failure = refused.first().map(|first| {
                    let message = format!(
                        "{} of the file's records were refused (they are not CloudTrail records); the first, record \
                         {}: {}",
                        refused.len(),
                        first.record,
                        first.reason
                    );
                    self.failure(&location, "InvalidRecord", message, false)
                });
                FileOutcome { key: key.to_owned(), n_events, failure }
            }
        })
    }

    /// Records the batch as pending, commits its segment (tagged), then applies it to the import.
    async fn write_batch(
        &self,
        job: &Job<'_>,
        pending: &mut Pending,
        outcomes: Vec<FileOutcome>,
        retried: bool,
    ) -> Result<(), WorkerError> {
        let number = self.imports.get(job.id).map_or(0, |r| r.progress.next_batch);
        let batch = ImportBatch {
            number,
            files: outcomes.iter().map(|o| o.key.clone()).collect(),
            retried,
            n_events: outcomes.iter().map(|o| o.n_events).sum(),
            failures: outcomes.into_iter().filter_map(|o| o.failure).collect(),
        };
        let n_records = pending.len();
        if n_records > 0 {
            let records = pending.take_batch(n_records).map_err(|e| WorkerError::Store(e.to_string()))?;
            self.change(job.id, |r| {
                r.progress.pending = Some(batch.clone());
                r.progress.next_batch = number + 1;
            })?;
            let origin = ImportBatch::origin(job.id, number);
            self.lake
                .import_tagged(job.store_id, &[records], Some(&origin))
                .await
                .map_err(|e| WorkerError::Store(e.to_string()))?;
        }
        self.apply(job.id, &batch, job.folders)
    }

    /// After a restart: the pending batch either landed (apply it) or did not (its files are read again).
    async fn settle_pending(
        &self,
        id: &str,
        store_id: &str,
        pending: ImportBatch,
        folders: &BTreeMap<String, String>,
    ) -> Result<(), WorkerError> {
        let origin = ImportBatch::origin(id, pending.number);
        let landed = self.lake.has_origin(store_id, &origin).await.map_err(|e| WorkerError::Store(e.to_string()))?;
        if landed {
            tracing::info!(import = id, batch = pending.number, "an import batch committed before a restart");
            self.apply(id, &pending, folders)
        } else {
            self.change(id, |r| r.progress.pending = None).map(drop)
        }
    }

    /// Counts a written batch into the import: statistics, failures, progress.
    fn apply(&self, id: &str, batch: &ImportBatch, folders: &BTreeMap<String, String>) -> Result<(), WorkerError> {
        let now = self.clock.now();
        self.change(id, |r| {
            r.progress.pending = None;
            r.statistics.events_completed += batch.n_events;
            // Files that could not be read at all are not completed; those with some refused records are.
            let n_unread = batch.failures.iter().filter(|f| f.retryable).count();
            r.statistics.files_completed += batch.files.len().saturating_sub(n_unread) as u64;
            if batch.retried {
                // A file read again succeeded, unless it failed anew (its new failure replaces the entry below).
                let (bucket, _) = split_uri(&r.source.s3_location_uri);
                let bucket = bucket.to_owned();
                for failure in r.failures.iter_mut().filter(|f| f.status == ImportFailureStatus::Retry) {
                    let key = key_of_location(&failure.location, &bucket);
                    if batch.files.iter().any(|file| Some(file.as_str()) == key) {
                        failure.status = ImportFailureStatus::Succeeded;
                        failure.last_updated = now;
                    }
                }
            } else if let Some(last) = batch.files.last() {
                r.progress.done_through = Some(last.clone());
            }
            for failure in &batch.failures {
                record_failure(r, failure);
            }
            recount_failures(r);
            if let Some(done) = &r.progress.done_through {
                // A folder is complete when its last file is.
                r.statistics.prefixes_completed = folders.values().filter(|last| *last <= done).count() as u64;
            }
        })
        .map(drop)
    }

    fn listing_failed(&self, id: &str, uri: &str, error: &DestinationError) -> Result<(), WorkerError> {
        let failure =
            self.failure(uri, "ListingFailed", format!("The import source could not be listed: {error}"), true);
        self.change(id, |r| record_failure(r, &failure))?;
        self.finish(id, ImportStatus::Failed)
    }

    fn failure(&self, location: &str, error_type: &str, message: String, retryable: bool) -> ImportFailure {
        ImportFailure {
            location: location.to_owned(),
            status: ImportFailureStatus::Failed,
            error_type: error_type.to_owned(),
            error_message: message,
            last_updated: self.clock.now(),
            retryable,
        }
    }

    fn is_ongoing(&self, id: &str) -> bool {
        self.imports.get(id).is_some_and(|r| r.status.is_ongoing())
    }

    /// Ends an ongoing import with `status` (a stopped one stays stopped).
    fn finish(&self, id: &str, status: ImportStatus) -> Result<(), WorkerError> {
        self.change(id, |r| {
            if r.status.is_ongoing() {
                r.status = status;
            }
        })
        .map(drop)
    }

    /// Changes import `id` durably; false when it no longer exists or is no longer ongoing (the change is then
    /// still made, except a status change, which the user's StopImport overrides).
    fn change(&self, id: &str, change: impl FnOnce(&mut ImportRecord)) -> Result<bool, WorkerError> {
        let now = self.clock.now();
        let ongoing = self.imports.transact(|imports| {
            let Some(current) = imports.get(id) else { return Ok::<_, StoreError>((false, Vec::new())) };
            let mut record = current.clone();
            change(&mut record);
            if !current.status.is_ongoing() {
                record.status = current.status;
            }
            record.updated_at = now;
            Ok((current.status.is_ongoing(), vec![Change::Put(record)]))
        })?;
        Ok(ongoing)
    }
}

/// Adds `failure` to the import, replacing an earlier entry of the same location, and recounts `FailedEntries`.
fn record_failure(record: &mut ImportRecord, failure: &ImportFailure) {
    if let Some(existing) = record.failures.iter_mut().find(|f| f.location == failure.location) {
        *existing = failure.clone();
    } else if record.failures.len() < MAX_FAILURES {
        record.failures.push(failure.clone());
    }
    recount_failures(record);
}

/// `FailedEntries`: the failures that still stand.
fn recount_failures(record: &mut ImportRecord) {
    record.statistics.failed_entries =
        record.failures.iter().filter(|f| f.status == ImportFailureStatus::Failed).count() as u64;
}

/// What every batch of one import needs.
struct Job<'a> {
    id: &'a str,
    store_id: &'a str,
    bucket: &'a str,
    window: (Option<Timestamp>, Option<Timestamp>),
    /// Each folder (`key` up to its last `/`) and its last file, for PrefixesCompleted.
    folders: &'a BTreeMap<String, String>,
}

/// `s3://bucket/prefix` → (`bucket`, `prefix`); StartImport admitted no other form.
fn split_uri(uri: &str) -> (&str, &str) {
    cairn_model::names::s3_uri_parts(uri).unwrap_or((uri, ""))
}

/// The key of a failure's `s3://bucket/key` location in `bucket`.
fn key_of_location<'a>(location: &'a str, bucket: &str) -> Option<&'a str> {
    location.strip_prefix("s3://")?.strip_prefix(bucket)?.strip_prefix('/').filter(|key| !key.is_empty())
}

/// The keys that name CloudTrail log files (json, json.gz, NDJSON), digests left out, in key order.
fn log_files(listed: Vec<(String, u64)>) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = listed
        .into_iter()
        .filter(|(key, _)| !is_digest(Path::new(key)) && known_suffix(Path::new(key)).is_some())
        .collect();
    files.sort();
    files
}

/// Each folder of `files` and its last file in key order.
fn folders(files: &[(String, u64)]) -> BTreeMap<String, String> {
    let mut folders = BTreeMap::new();
    for (key, _) in files {
        let folder = key.rsplit_once('/').map_or("", |(folder, _)| folder);
        let last = folders.entry(folder.to_owned()).or_insert_with(|| key.clone());
        if key > last {
            *last = key.clone();
        }
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::clock::SystemClock;
    use cairn_store::objects::{ObjectIndex, PutObject};
    use cairn_store::records::{ImportProgress, ImportSource, ImportStatistics};

    use crate::offline::Offline;

    const N_FILES: usize = 6;
    const PER_FILE: usize = 50;

    /// A data directory with a store and a bucket of `N_FILES` log files, and a worker over them.
    struct Site {
        offline: Offline,
        worker: ImportWorker,
        store_arn: String,
        keys: Vec<String>,
        _dir: tempfile::TempDir,
    }

    fn site() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let offline = Offline::open(&dir.path().join("data"), "test").unwrap();
        let store_id =
            super::super::find_or_create(&offline.stores, "archive", "111111111111", offline.clock.now()).unwrap();
        let store_arn = offline.stores.get(&store_id).unwrap().arn();
        let lake = Arc::new(offline.runtime.block_on(offline.lake()).unwrap());
        let objects = Arc::new(ObjectIndex::open(&dir.path().join("buckets")).unwrap());
        let mut keys = Vec::new();
        for file in 0..N_FILES {
            let records: Vec<String> = (0..PER_FILE)
                .map(|n| {
                    format!(
                        r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventTime":"2026-11-01T10:00:00Z","eventID":"e-{file}-{n}","recipientAccountId":"111111111111"}}"#
                    )
                })
                .collect();
            let key = format!("AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/01/f{file}.json");
            let body = format!(r#"{{"Records":[{}]}}"#, records.join(","));
            objects.put("logs", &key, body.as_bytes(), &PutObject::default()).unwrap();
            keys.push(key);
        }
        let destinations = Arc::new(Destinations::new(Some(objects), &[]).unwrap());
        let worker = ImportWorker {
            imports: Arc::new(Registry::load(offline.meta.clone()).unwrap()),
            lake,
            destinations,
            clock: Arc::new(SystemClock),
            wakeup: Arc::new(Notify::new()),
        };
        Site { offline, worker, store_arn, keys, _dir: dir }
    }

    fn import(site: &Site, pending: Option<ImportBatch>) -> ImportRecord {
        let now = site.offline.clock.now();
        let record = ImportRecord {
            id: "0b3c1d2e-0000-4000-8000-000000000001".to_owned(),
            account_id: "111111111111".to_owned(),
            region: "us-east-1".to_owned(),
            destinations: vec![site.store_arn.clone()],
            source: ImportSource {
                s3_location_uri: "s3://logs/AWSLogs".to_owned(),
                s3_bucket_region: "us-east-1".to_owned(),
                s3_bucket_access_role_arn: "arn:aws:iam::111111111111:role/r".to_owned(),
            },
            start_event_time: None,
            end_event_time: None,
            status: ImportStatus::InProgress,
            created_at: now,
            updated_at: now,
            statistics: ImportStatistics::default(),
            failures: Vec::new(),
            progress: ImportProgress { next_batch: u64::from(pending.is_some()), pending, ..ImportProgress::default() },
        };
        site.worker.imports.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(record.clone())]))).unwrap();
        record
    }

    fn stored_rows(site: &Site) -> (String, String) {
        let result = site
            .offline
            .runtime
            .block_on(site.worker.lake.query_now("SELECT COUNT(*), COUNT(DISTINCT eventid) FROM archive"))
            .unwrap();
        let row = &result.rows[0];
        (row[0].clone().unwrap(), row[1].clone().unwrap())
    }

    /// The first two files as the batch a killed worker had recorded as pending.
    fn pending_batch(site: &Site) -> ImportBatch {
        ImportBatch {
            number: 0,
            files: site.keys[..2].to_vec(),
            retried: false,
            n_events: 2 * PER_FILE as u64,
            failures: Vec::new(),
        }
    }

    #[test]
    fn a_batch_committed_before_a_crash_is_counted_and_not_written_again() {
        let site = site();
        let record = import(&site, Some(pending_batch(&site)));
        // The kill came after the segment was committed, before the import record was updated.
        let job = Job {
            id: &record.id,
            store_id: site.store_arn.rsplit('/').next().unwrap(),
            bucket: "logs",
            window: (None, None),
            folders: &BTreeMap::new(),
        };
        site.offline.runtime.block_on(async {
            let mut pending = Pending::default();
            for key in &site.keys[..2] {
                site.worker.read_file(&job, key, &mut pending).await.unwrap();
            }
            let batch = pending.take_batch(pending.len()).unwrap();
            let origin = ImportBatch::origin(&record.id, 0);
            site.worker.lake.import_tagged(job.store_id, &[batch], Some(&origin)).await.unwrap();
        });
        site.offline.runtime.block_on(site.worker.run_import(record.clone())).unwrap();
        let done = site.worker.imports.get(&record.id).unwrap();
        assert_eq!(done.status, ImportStatus::Completed);
        let total = (N_FILES * PER_FILE).to_string();
        assert_eq!(done.statistics.events_completed.to_string(), total);
        assert_eq!(done.statistics.files_completed, N_FILES as u64);
        assert_eq!(done.statistics.prefixes_completed, 1);
        assert_eq!(stored_rows(&site), (total.clone(), total));
    }

    #[test]
    fn a_batch_not_committed_before_a_crash_is_read_again() {
        let site = site();
        let record = import(&site, Some(pending_batch(&site)));
        site.offline.runtime.block_on(site.worker.run_import(record.clone())).unwrap();
        let done = site.worker.imports.get(&record.id).unwrap();
        assert_eq!(done.status, ImportStatus::Completed);
        let total = (N_FILES * PER_FILE).to_string();
        assert_eq!(done.statistics.events_completed.to_string(), total);
        assert_eq!(stored_rows(&site), (total.clone(), total));
        assert_eq!(done.progress.pending, None);
        assert_eq!(done.progress.done_through.as_deref(), site.keys.last().map(String::as_str));
    }

    #[test]
    fn a_stopped_import_is_left_stopped() {
        let site = site();
        let mut record = import(&site, None);
        record.status = ImportStatus::Stopped;
        site.worker.imports.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(record.clone())]))).unwrap();
        site.offline.runtime.block_on(site.worker.run_import(record.clone())).unwrap();
        let after = site.worker.imports.get(&record.id).unwrap();
        assert_eq!(after.status, ImportStatus::Stopped);
        assert_eq!(after.statistics.events_completed, 0);
    }

    #[test]
    fn only_log_files_are_read_in_key_order() {
        let listed = vec![
            ("AWSLogs/1/CloudTrail/us-east-1/2024/01/02/b.json.gz".to_owned(), 1),
            ("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/02/1_CloudTrail-Digest_x.json.gz".to_owned(), 1),
            ("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/a.json".to_owned(), 1),
            ("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/notes.txt".to_owned(), 1),
        ];
        let keys: Vec<String> = log_files(listed).into_iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            ["AWSLogs/1/CloudTrail/us-east-1/2024/01/01/a.json", "AWSLogs/1/CloudTrail/us-east-1/2024/01/02/b.json.gz"]
        );
    }

    #[test]
    fn a_folder_is_known_by_its_last_file() {
        let files = vec![("d/1/a.json".to_owned(), 1), ("d/1/b.json".to_owned(), 1), ("d/2/a.json".to_owned(), 1)];
        let found = folders(&files);
        assert_eq!(found.get("d/1").map(String::as_str), Some("d/1/b.json"));
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn locations_give_back_their_keys() {
        assert_eq!(split_uri("s3://bucket/AWSLogs/1"), ("bucket", "AWSLogs/1"));
        assert_eq!(split_uri("s3://bucket"), ("bucket", ""));
        assert_eq!(key_of_location("s3://bucket/a/b.json", "bucket"), Some("a/b.json"));
        assert_eq!(key_of_location("s3://other/a/b.json", "bucket"), None);
        assert_eq!(key_of_location("s3://bucket", "bucket"), None);
    }
}
