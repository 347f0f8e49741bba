//! One event data store's events: committed Parquet segments (a [`Dataset`] of the Lake schema under
//! `datasets/eds-<id>/`) plus an in-memory tail of events copied from the write-ahead log since the
//! last flush.
//!
//! Invariant: every event of the store with an LSN below `cursor` is in exactly one of a committed
//! segment (LSN ≤ the manifest's persisted LSN) and the tail, and a query sees the snapshot and the
//! tail of one moment (both change under one lock), so it never counts an event twice.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use bytes::Bytes;
use cairn_store::dataset::{Commit, Dataset, DatasetError, SegmentKind, Snapshot, WrittenSegment};
use cairn_store::wal::Lsn;
use datafusion::arrow::compute;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::schema::{EVENT_ID, EVENT_TIME, StoreKind};

/// Rows per Parquet row group of a Lake segment: large enough for fast scans, small enough that
/// time-range pruning skips most of a segment.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A failure to read or write a store's data.
#[derive(Debug, thiserror::Error)]
pub enum StoreDataError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("encoding Lake events: {0}")]
    Encode(String),
}

fn encode_error(error: impl std::fmt::Display) -> StoreDataError {
    StoreDataError::Encode(error.to_string())
}

/// What a query reads: the committed segment files and the tail, taken together.
#[derive(Debug, Clone)]
pub struct TableData {
    pub schema: SchemaRef,
    pub files: Vec<SegmentFile>,
    pub tail: Vec<RecordBatch>,
    /// The snapshot `files` come from: while it is held, a compaction or retention rewrite that drops
    /// them leaves their objects in place (the dataset deletes a dropped segment once no snapshot
    /// names it), so a query that holds this never finds a file gone.
    pub pin: Option<Snapshot>,
}

/// A committed segment as a query sees it.
#[derive(Debug, Clone)]
pub struct SegmentFile {
    pub path: PathBuf,
    pub n_bytes: u64,
    /// The event time range of its rows (ms since the epoch), from the manifest.
    pub min_event_time_ms: i64,
    pub max_event_time_ms: i64,
}

#[derive(Debug)]
struct State {
    snapshot: Snapshot,
    tail: Vec<RecordBatch>,
    tail_rows: usize,
    // Invariant: every log record below it has been considered for this store.
    cursor: Lsn,
}

/// The data of one event data store.
pub struct StoreData {
    pub id: String,
    pub kind: StoreKind,
    dataset: Dataset,
    root: PathBuf,
    state: RwLock<State>,
    // Serialises flushes and retention sweeps: each commits a manifest built from the current one.
    maintenance: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for StoreData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreData").field("id", &self.id).finish_non_exhaustive()
    }
}

impl StoreData {
    /// Opens (creating if needed) the store's dataset in `dir`. The tail starts empty at the
    /// manifest's replay point; the feeder fills it from the log.
    pub async fn open(id: &str, kind: StoreKind, dir: &Path) -> Result<StoreData, StoreDataError> {
        let (dataset, report) = Dataset::open_local_of(dir, SegmentKind::Plain(kind.schema())).await?;
        if !report.orphans_deleted.is_empty() || report.n_unreadable_manifests > 0 {
            tracing::warn!(store = id, ?report, "event data store dataset needed repair on open");
        }
        let snapshot = dataset.snapshot();
        let cursor = snapshot.manifest.replay_from();
        Ok(StoreData {
            id: id.to_owned(),
            kind,
            root: dir.to_path_buf(),
            dataset,
            state: RwLock::new(State { snapshot, tail: Vec::new(), tail_rows: 0, cursor }),
            maintenance: tokio::sync::Mutex::new(()),
        })
    }

    /// Every log record below this LSN has been considered.
    pub fn cursor(&self) -> Lsn {
        self.read().cursor
    }

    /// The first LSN not yet in a committed segment: the log must be kept from here.
    pub fn persisted_next(&self) -> Lsn {
        self.read().snapshot.manifest.replay_from()
    }

    /// Rows waiting in the tail.
    pub fn tail_rows(&self) -> usize {
        self.read().tail_rows
    }

    /// Adds the store's events among the log records below `end` (all of them at or above the cursor).
    pub fn append(&self, batch: Option<RecordBatch>, end: Lsn) {
        let mut state = self.write();
        if let Some(batch) = batch.filter(|b| b.num_rows() > 0) {
            state.tail_rows += batch.num_rows();
            state.tail.push(batch);
        }
        state.cursor = state.cursor.max(end);
    }

    /// The files and tail rows a query reads now.
    pub fn table_data(&self) -> TableData {
        let state = self.read();
        let files = state
            .snapshot
            .manifest
            .segments
            .iter()
            .map(|entry| SegmentFile {
                path: self.root.join(&entry.path),
                n_bytes: entry.n_bytes,
                min_event_time_ms: entry.min_event_time_ms,
                max_event_time_ms: entry.max_event_time_ms,
            })
            .collect();
        TableData { schema: self.kind.schema(), files, tail: state.tail.clone(), pin: Some(state.snapshot.clone()) }
    }

    /// Number of events in committed segments.
    pub fn committed_rows(&self) -> u64 {
        self.read().snapshot.manifest.segments.iter().map(|s| s.n_rows).sum()
    }

    /// Writes the tail as a segment and commits it with the cursor as the persisted point, then drops
    /// the flushed batches from the tail. With an empty tail, only moves the persisted point (so the
    /// log can be trimmed) when the cursor moved.
    pub async fn flush(&self) -> Result<usize, StoreDataError> {
        let _maintenance = self.maintenance.lock().await;
        let (batches, cursor, persisted_next) = {
            let state = self.read();
            (state.tail.clone(), state.cursor, state.snapshot.manifest.replay_from())
        };
        if cursor <= persisted_next {
            return Ok(0);
        }
        let mut commit = Commit::default();
        commit.persisted_lsn = Some(Lsn(cursor.0 - 1));
        let n_rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if n_rows > 0 {
            let written = encode_segment(self.kind, &batches, persisted_next, Lsn(cursor.0 - 1))?;
            commit.add(self.dataset.write_segment(written).await?);
        }
        let snapshot = self.dataset.commit(commit).await?;
        let mut state = self.write();
        state.snapshot = snapshot;
        let n_flushed = batches.len().min(state.tail.len());
        state.tail.drain(..n_flushed);
        state.tail_rows = state.tail.iter().map(RecordBatch::num_rows).sum();
        tracing::debug!(store = %self.id, n_rows, "flushed an event data store's tail");
        Ok(n_rows)
    }

    /// Adds `batches` as a committed segment of their own, outside the log (imports and tests):
    /// durable when this returns. The segment carries `origin`, if given, so that a writer can tell
    /// after a crash whether this write was committed ([`Self::has_origin`]). Returns the number of
    /// events added.
    pub async fn import(&self, batches: &[RecordBatch], origin: Option<&str>) -> Result<usize, StoreDataError> {
        let n_rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if n_rows == 0 {
            return Ok(0);
        }
        let _maintenance = self.maintenance.lock().await;
        let persisted = self.read().snapshot.manifest.persisted_lsn.unwrap_or(Lsn(0));
        let mut written = encode_segment(self.kind, batches, persisted, persisted)?;
        written.origins = origin.map(str::to_owned).into_iter().collect();
        let mut commit = Commit::default();
        commit.add(self.dataset.write_segment(written).await?);
        self.install(self.dataset.commit(commit).await?).await;
        Ok(n_rows)
    }

    /// Whether a committed segment carries `origin` (see [`Self::import`]).
    pub fn has_origin(&self, origin: &str) -> bool {
        self.read().snapshot.manifest.segments.iter().any(|entry| entry.origins.iter().any(|o| o == origin))
    }

    /// Removes every event whose `eventTime` is before `cutoff_ms`: segments entirely older are
    /// dropped, segments that straddle it are rewritten without those events, and the tail is filtered.
    /// Returns the number of events removed.
    pub async fn drop_before(&self, cutoff_ms: i64) -> Result<u64, StoreDataError> {
        let _maintenance = self.maintenance.lock().await;
        let manifest = self.read().snapshot.manifest.clone();
        let mut commit = Commit::default();
        let mut removed = 0u64;
        for entry in &manifest.segments {
            if entry.min_event_time_ms >= cutoff_ms {
                continue;
            }
            commit.remove.push(entry.id);
            if entry.max_event_time_ms < cutoff_ms {
                removed += entry.n_rows;
                continue;
            }
            let bytes = Bytes::from(tokio::fs::read(self.root.join(&entry.path)).await.map_err(DatasetError::Io)?);
            let kept =
                read_segment(bytes)?.iter().map(|batch| keep_from(batch, cutoff_ms)).collect::<Result<Vec<_>, _>>()?;
            let n_kept: usize = kept.iter().map(RecordBatch::num_rows).sum();
            removed += entry.n_rows - n_kept as u64;
            if n_kept > 0 {
                let mut written = encode_segment(self.kind, &kept, entry.min_lsn, entry.max_lsn)?;
                written.origins = entry.origins.clone();
                commit.add(self.dataset.write_segment(written).await?);
            }
        }
        if !commit.remove.is_empty() {
            self.install(self.dataset.commit(commit).await?).await;
        }
        let mut state = self.write();
        let mut tail = Vec::with_capacity(state.tail.len());
        for batch in &state.tail {
            let kept = keep_from(batch, cutoff_ms)?;
            removed += (batch.num_rows() - kept.num_rows()) as u64;
            tail.push(kept);
        }
        state.tail_rows = tail.iter().map(RecordBatch::num_rows).sum();
        state.tail = tail;
        Ok(removed)
    }

    /// Merges small segments (fewer than `small_rows` events each) into one once at least `min_count`
    /// of them exist, so that a quiet store flushing every few minutes does not end up with thousands of
    /// tiny files. Returns the number of segments merged.
    pub async fn compact(&self, small_rows: u64, min_count: usize) -> Result<usize, StoreDataError> {
        let _maintenance = self.maintenance.lock().await;
        let small: Vec<_> =
            self.read().snapshot.manifest.segments.iter().filter(|s| s.n_rows < small_rows).cloned().collect();
        if small.len() < min_count {
            return Ok(0);
        }
        let mut batches = Vec::new();
        for entry in &small {
            let bytes = Bytes::from(tokio::fs::read(self.root.join(&entry.path)).await.map_err(DatasetError::Io)?);
            batches.extend(read_segment(bytes)?);
        }
        let min_lsn = small.iter().map(|s| s.min_lsn).min().unwrap_or(Lsn(0));
        let max_lsn = small.iter().map(|s| s.max_lsn).max().unwrap_or(Lsn(0));
        let mut written = encode_segment(self.kind, &batches, min_lsn, max_lsn)?;
        written.origins = small.iter().flat_map(|s| s.origins.iter().cloned()).collect();
        let mut commit = Commit::default();
        commit.add(self.dataset.write_segment(written).await?);
        commit.remove = small.iter().map(|s| s.id).collect();
        self.install(self.dataset.commit(commit).await?).await;
        Ok(small.len())
    }

    /// Makes `snapshot` (just committed) the store's state, then deletes the segments it dropped unless
    /// a query still reads them.
    async fn install(&self, snapshot: Snapshot) {
        self.write().snapshot = snapshot;
        self.dataset.delete_unreferenced().await;
    }

    /// Deletes the segments that compaction or retention dropped and that no query reads any more.
    pub async fn delete_unreferenced(&self) -> usize {
        self.dataset.delete_unreferenced().await
    }

    /// The directory of the store's dataset (removed when the store is purged).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The rows of `batch` whose event time is at or after `cutoff_ms`.
fn keep_from(batch: &RecordBatch, cutoff_ms: i64) -> Result<RecordBatch, StoreDataError> {
    let times = event_times(batch)?;
    let keep: BooleanArray = times.iter().map(|t| Some(t.is_some_and(|t| t >= cutoff_ms))).collect();
    compute::filter_record_batch(batch, &keep).map_err(encode_error)
}

fn event_times(batch: &RecordBatch) -> Result<&arrow_array::PrimitiveArray<TimestampMillisecondType>, StoreDataError> {
    batch
        .column_by_name(EVENT_TIME)
        .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
        .ok_or_else(|| StoreDataError::Encode("a Lake batch has no eventtime column".to_owned()))
}

/// Sorts `batches` (of `kind`'s schema) by event time and encodes them as one Parquet segment.
pub fn encode_segment(
    kind: StoreKind,
    batches: &[RecordBatch],
    min_lsn: Lsn,
    max_lsn: Lsn,
) -> Result<WrittenSegment, StoreDataError> {
    let schema = kind.schema();
    let all = compute::concat_batches(&schema, batches).map_err(encode_error)?;
    let times = event_times(&all)?;
    let order = compute::sort_to_indices(times, None, None).map_err(encode_error)?;
    let sorted = compute::take_record_batch(&all, &order).map_err(encode_error)?;
    let times = event_times(&sorted)?;
    let (min, max) = match (times.iter().flatten().next(), times.iter().flatten().last()) {
        (Some(min), Some(max)) => (min, max),
        _ => (0, 0),
    };
    let properties = WriterProperties::builder()
        .set_created_by("cairn".to_owned())
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(encode_error)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        // Looking up one event by its ID is common, and random IDs defeat min/max statistics.
        .set_column_bloom_filter_enabled(ColumnPath::from(EVENT_ID), true)
        .set_column_bloom_filter_max_ndv(ColumnPath::from(EVENT_ID), ROW_GROUP_ROWS as u64)
        .set_column_bloom_filter_fpp(ColumnPath::from(EVENT_ID), 0.01)
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(properties)).map_err(encode_error)?;
    writer.write(&sorted).map_err(encode_error)?;
    let bytes = writer.into_inner().map_err(encode_error)?;
    Ok(WrittenSegment {
        bytes: Bytes::from(bytes),
        n_rows: sorted.num_rows() as u64,
        min_event_time_ms: min,
        max_event_time_ms: max,
        min_lsn,
        max_lsn,
        origins: Vec::new(),
    })
}

fn read_segment(bytes: Bytes) -> Result<Vec<RecordBatch>, StoreDataError> {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(encode_error)?.build().map_err(encode_error)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(encode_error)
}
