//! The event store: every event is appended to the write-ahead log and, once durable, shown in Event
//! history (LookupEvents).
//!
//! The WAL is the one copy of truth (design.md §2). History is derived from it in two parts: the
//! *tail*, an in-memory index (`history.rs`) of events not yet persisted elsewhere, and the history
//! [`Dataset`], immutable Parquet segments under `datasets/history/`. When the WAL holds
//! `flush_events` records past the last flush (or on [`EventStore::flush`]) the tail is written as a
//! segment, the manifest commit records the persisted LSN, the flushed events leave the tail and the
//! WAL drops the segments below it (`persist.rs`). On open, the WAL is replayed from just past the
//! persisted LSN, so every event is in exactly one of a committed segment and the tail.
//! [`EventStore::lookup`] merges both, newest first (`lookup.rs`).
//!
//! Invariants: an event is visible to LookupEvents before its append is acknowledged; the tail holds
//! exactly the history events with an LSN at or above the manifest's persisted LSN + 1, and a segment
//! swap and the matching tail trim happen under one lock, so no lookup sees an event twice or misses it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod history;
mod lookup;
mod persist;

use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cairn_model::clock::Clock;
use cairn_model::event::EventRecord;
use tokio::sync::Notify;

pub use crate::dataset::EventKey;
pub use history::{HISTORY_RETENTION, LookupPage, LookupQuery};
pub use persist::{CompactReport, FlushReport};

use crate::StoreError;
use crate::dataset::{Dataset, DatasetError, SegmentFormat, Snapshot};
use crate::wal::{Lsn, ReadPosition, Recovery, Wal, WalConfig, WalHolds};
use history::{HistoryIndex, PartitionKey};
use persist::IndexedRanges;

/// Where the event store keeps its data and when it flushes.
#[derive(Debug, Clone)]
pub struct EventStoreConfig {
    pub wal: WalConfig,
    /// The history dataset's directory (`datasets/history` under the data directory).
    pub dataset_dir: PathBuf,
    /// The tail is flushed to a segment once the WAL holds this many records past the last flush.
    pub flush_events: usize,
    /// Rows per Parquet row group in history segments.
    pub row_group_rows: usize,
    /// What the log's other consumers still need: trimming after a flush keeps it.
    pub holds: Arc<WalHolds>,
}

impl EventStoreConfig {
    /// The defaults under `data_dir`: `wal/` and `datasets/history/`.
    pub fn new(data_dir: impl AsRef<Path>) -> EventStoreConfig {
        let data_dir = data_dir.as_ref();
        EventStoreConfig {
            wal: WalConfig::new(data_dir.join("wal")),
            dataset_dir: data_dir.join("datasets").join("history"),
            flush_events: 200_000,
            row_group_rows: 65_536,
            holds: Arc::default(),
        }
    }

    /// Tiny WAL segments, flushes and row groups, so that tests cross every boundary.
    pub fn test_config(data_dir: impl AsRef<Path>) -> EventStoreConfig {
        let data_dir = data_dir.as_ref();
        EventStoreConfig {
            wal: WalConfig::test_config(data_dir.join("wal")),
            dataset_dir: data_dir.join("datasets").join("history"),
            flush_events: 64,
            row_group_rows: 8,
            holds: Arc::default(),
        }
    }
}

/// The tail and the committed segments, swapped together.
#[derive(Debug)]
struct State {
    tail: HistoryIndex,
    // Invariant: covers every LSN at or above `persisted_next` that has been indexed (shown in history or not).
    indexed: IndexedRanges,
    // Invariant: the manifest's persisted LSN + 1; the tail holds no event below it.
    persisted_next: Lsn,
    snapshot: Snapshot,
}

#[derive(Debug)]
struct Inner {
    wal: Arc<Wal>,
    dataset: Dataset,
    state: RwLock<State>,
    clock: Arc<dyn Clock>,
    format: SegmentFormat,
    flush_events: usize,
    // Serializes flush, compaction and retention: each commits a manifest built from the current one.
    maintenance: tokio::sync::Mutex<()>,
    flush_wanted: Arc<Notify>,
    holds: Arc<WalHolds>,
    closed: AtomicBool,
    // Segment rows one lookup page reads at most (a constant; tests lower it).
    scan_budget: AtomicUsize,
    observers: Observers,
}

/// The append observers ([`EventStore::observe_appends`]).
#[derive(Default)]
struct Observers(RwLock<Vec<AppendObserver>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} append observers", self.0.read().map_or(0, |observers| observers.len()))
    }
}

/// Told of every batch of records appended (with their LSNs) as it is indexed, so a consumer can use
/// records already parsed instead of reading them back from the log (Insights counts from it).
pub type AppendObserver = Arc<dyn Fn(Range<Lsn>, &[Arc<EventRecord>]) + Send + Sync>;

/// Durable event log plus the Event history derived from it.
pub struct EventStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").field("next_lsn", &self.inner.wal.next_lsn()).finish_non_exhaustive()
    }
}

impl EventStore {
    /// Opens the WAL (cutting a torn tail) and the history dataset, then replays the WAL records not yet
    /// in a segment into the tail. Inside a tokio runtime, a background task flushes the tail when due.
    pub async fn open(config: EventStoreConfig, clock: Arc<dyn Clock>) -> Result<(EventStore, Recovery), StoreError> {
        let (wal, recovery) = Wal::open(config.wal)?;
        let (dataset, report) = Dataset::open_local(&config.dataset_dir).await?;
        if !report.orphans_deleted.is_empty() || report.n_unreadable_manifests > 0 {
            tracing::warn!(?report, "history dataset needed repair on open");
        }
        let snapshot = dataset.snapshot();
        let persisted_next = snapshot.manifest.replay_from();
        if wal.next_lsn() < persisted_next {
            return Err(StoreError::Corrupt {
                table: "history",
                key: String::new(),
                reason: format!(
                    "the write-ahead log ends before lsn {} but history has persisted everything below {persisted_next}",
                    wal.next_lsn()
                ),
            });
        }
        // A crash after a commit but before the WAL trim leaves segments the dataset already holds.
        wal.remove_segments_before(config.holds.trim_point(persisted_next))?;
        let mut tail = HistoryIndex::default();
        persist::replay_events(&wal, persisted_next, |lsn, record| tail.insert(lsn, Arc::new(record)))?;
        let mut indexed = IndexedRanges::default();
        indexed.insert(persisted_next.0..wal.next_lsn().0);
        let format = SegmentFormat::new(config.row_group_rows);
        let inner = Arc::new(Inner {
            wal: Arc::new(wal),
            dataset,
            state: RwLock::new(State { tail, indexed, persisted_next, snapshot }),
            clock,
            format,
            flush_events: config.flush_events.max(1),
            maintenance: tokio::sync::Mutex::new(()),
            flush_wanted: Arc::new(Notify::new()),
            holds: config.holds,
            closed: AtomicBool::new(false),
            scan_budget: AtomicUsize::new(lookup::SCAN_BUDGET),
            observers: Observers::default(),
        });
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(persist::run_flusher(Arc::downgrade(&inner), Arc::clone(&inner.flush_wanted)));
                // Replay may already have filled the tail past the threshold.
                inner.flush_wanted.notify_one();
            }
            Err(_) => tracing::warn!("event store opened outside a tokio runtime: the tail is flushed only by flush()"),
        }
        Ok((EventStore { inner }, recovery))
    }

    /// Appends `records` durably (group commit), then makes them visible in Event history.
    pub async fn append_durable(&self, records: Vec<EventRecord>) -> Result<Range<Lsn>, StoreError> {
        let payloads = records.iter().map(|r| r.text().as_bytes().to_vec()).collect();
        let lsns = self.inner.wal.append_durable(payloads).await?;
        self.inner.index(lsns.clone(), records);
        Ok(lsns)
    }

    /// [`EventStore::append_durable`] for callers outside an async runtime.
    pub fn append_durable_blocking(&self, records: Vec<EventRecord>) -> Result<Range<Lsn>, StoreError> {
        let payloads = records.iter().map(|r| r.text().as_bytes().to_vec()).collect();
        let lsns = self.inner.wal.append_durable_blocking(payloads)?;
        self.inner.index(lsns.clone(), records);
        Ok(lsns)
    }

    /// One page of Event history, newest first, within the 90-day window.
    pub async fn lookup(&self, query: &LookupQuery) -> Result<LookupPage, StoreError> {
        let Some((low, high)) = lookup::key_range(query, self.inner.clock.now()) else {
            return Ok(LookupPage { events: Vec::new(), next: None });
        };
        let partition = PartitionKey { account_id: query.account_id.clone(), region: query.region.clone() };
        let limit = query.max_results.saturating_add(1);
        let mut n_attempts = 0;
        loop {
            let (tail, snapshot) = {
                let state = self.inner.read_state();
                let tail = state
                    .tail
                    .scan(&partition, low, high, limit, lookup::SCAN_BUDGET, |record| lookup::matches(record, query));
                (tail, state.snapshot.clone())
            };
            let limits = lookup::Limits {
                scan_budget: self.inner.scan_budget.load(Ordering::Relaxed),
                window_rows: self.inner.format.page_rows,
            };
            match lookup::page(tail, &snapshot, query, low, high, limits).await {
                Ok(page) => return Ok(page),
                // Each retry follows a segment newly found broken or dropped by a commit.
                Err(lookup::Failure::Retry) if n_attempts <= snapshot.segments.len() + 2 => n_attempts += 1,
                Err(lookup::Failure::Retry) => {
                    return Err(StoreError::Corrupt {
                        table: "history",
                        key: String::new(),
                        reason: "history segments kept changing during a lookup".to_owned(),
                    });
                }
                Err(lookup::Failure::Store(error)) => return Err(error),
            }
        }
    }

    /// Reads the log from `from` (a consumer's cursor) up to `end` or the durable end, in order, until
    /// `visit` breaks after the record it was given; each record is the event's exact text. Starts at
    /// `position` (where the consumer's previous read stopped) when it applies. Returns the LSN to read
    /// from next and where this read stopped. Blocking: call it off the async workers.
    pub fn read_log(
        &self,
        from: Lsn,
        end: Lsn,
        position: Option<ReadPosition>,
        mut visit: impl FnMut(Lsn, &[u8]) -> ControlFlow<()>,
    ) -> Result<(Lsn, Option<ReadPosition>), StoreError> {
        Ok(self.inner.wal.read_at(from, end, position, |lsn, payload| Ok(visit(lsn, payload)))?)
    }

    /// Tells `observer` of every batch appended from now on, as it is indexed. Batches may be told out of
    /// LSN order (appends complete concurrently); a batch appended before this call is not told.
    pub fn observe_appends(&self, observer: AppendObserver) {
        self.inner.observers.0.write().unwrap_or_else(|p| p.into_inner()).push(observer);
    }

    /// One past the last durable event.
    pub fn next_lsn(&self) -> Lsn {
        self.inner.wal.next_lsn()
    }

    /// The oldest LSN the log still holds.
    pub fn first_retained_lsn(&self) -> Lsn {
        self.inner.wal.first_lsn()
    }

    /// The holds of the log's consumers (see [`WalHolds`]).
    pub fn holds(&self) -> &Arc<WalHolds> {
        &self.inner.holds
    }

    /// Writes every event of the tail to a new segment and commits it (see `persist.rs`).
    pub async fn flush(&self) -> Result<FlushReport, StoreError> {
        self.inner.flush().await
    }

    /// Merges small segments into one; lookups answer the same before and after.
    pub async fn compact(&self) -> Result<CompactReport, StoreError> {
        self.inner.compact().await
    }

    /// Drops history older than the retention window: tail events, and segments wholly older (their
    /// objects are deleted after the manifest commit). Returns how many events went.
    pub async fn sweep_history(&self) -> Result<usize, StoreError> {
        self.inner.sweep_history().await
    }

    /// Segments that failed their checks or a read (one [`DatasetError::CorruptSegment`] each, naming the
    /// segment); lookups answer without them.
    pub fn broken_segments(&self) -> Vec<DatasetError> {
        self.inner.read_state().snapshot.broken_segments()
    }

    /// The committed state of the history dataset.
    pub fn history_snapshot(&self) -> Snapshot {
        self.inner.read_state().snapshot.clone()
    }

    /// Events in the in-memory tail (not yet in a segment).
    pub fn tail_len(&self) -> usize {
        self.inner.read_state().tail.len()
    }

    /// Stops background flushing and the WAL writer after answering every queued append (ordered
    /// shutdown). Outside an async context, it first waits for a flush or compaction in progress.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.flush_wanted.notify_one();
        if tokio::runtime::Handle::try_current().is_err() {
            drop(self.inner.maintenance.blocking_lock());
        }
        self.inner.wal.close();
    }
}

impl Drop for EventStore {
    fn drop(&mut self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.flush_wanted.notify_one();
    }
}

impl Inner {
    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        // Every change to the state is made whole under the lock, so a panic elsewhere cannot leave it half-done.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn index(&self, lsns: Range<Lsn>, records: Vec<EventRecord>) {
        let records: Vec<Arc<EventRecord>> = records.into_iter().map(Arc::new).collect();
        for observer in self.observers.0.read().unwrap_or_else(|p| p.into_inner()).iter() {
            observer(lsns.clone(), &records);
        }
        let due = {
            let mut state = self.write_state();
            // A flush may already have read these records from the WAL (see `persist.rs`).
            let start = lsns.start.max(state.persisted_next);
            for (lsn, record) in (lsns.start.0..lsns.end.0).zip(records) {
                if lsn >= start.0 {
                    state.tail.insert(Lsn(lsn), record);
                }
            }
            state.indexed.insert(start.0..lsns.end.0);
            self.flush_due(&state)
        };
        if due {
            self.flush_wanted.notify_one();
        }
    }

    fn flush_due(&self, state: &State) -> bool {
        let pending = self.wal.next_lsn().0.saturating_sub(state.persisted_next.0);
        pending >= self.flush_events as u64
    }
}

#[cfg(test)]
mod tests;
