//! Persisting history: flushing the tail to a segment, compacting small segments, dropping expired ones.
//!
//! A flush covers every WAL record from the persisted LSN + 1 up to the WAL's durable end when it
//! starts. Records whose append is still being acknowledged (or whose caller went away) are not in the
//! tail yet; the flush reads those from the WAL, and `Inner::index` skips them afterwards because they
//! are below the new persisted LSN. Order of a flush: write the segment object, commit the manifest,
//! swap the snapshot and trim the tail under one lock, then trim the WAL. A crash before the commit
//! leaves an orphan (deleted on open) and the WAL still holds every event; after it, replay starts past
//! the segment.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use cairn_model::event::EventRecord;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use super::Inner;
use super::history::HISTORY_RETENTION;
use crate::StoreError;
use crate::dataset::history_partition;
use crate::dataset::segment::ReadError;
use crate::dataset::{Commit, Segment, SegmentFormat, SegmentId, SegmentWriter, Snapshot, WrittenSegment};
use crate::wal::{Lsn, Wal, WalError};

/// How long the background flusher waits after a failed flush before it tries again.
const FLUSH_RETRY_AFTER: SignedDuration = SignedDuration::from_secs(10);
/// Segments below this fraction of `flush_events` rows are small (restarts and explicit flushes make
/// them); compaction merges runs of them into segments of at most [`COMPACT_MAX_FLUSHES`] flushes' rows.
const SMALL_SEGMENT_DIVISOR: u64 = 2;
const COMPACT_MAX_FLUSHES: u64 = 2;
/// The background flusher compacts once a flush leaves this many small segments.
const COMPACT_AT_SMALL_SEGMENTS: usize = 4;

/// What a flush did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlushReport {
    /// History events written to the new segment.
    pub n_events: usize,
    /// The new segment; `None` when no history event was pending (the persisted LSN may still move).
    pub segment: Option<SegmentId>,
    /// The persisted LSN committed; `None` when there was nothing to flush.
    pub persisted_lsn: Option<Lsn>,
}

/// What a compaction did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactReport {
    /// Segments merged away.
    pub merged: Vec<SegmentId>,
    /// Segments written in their place.
    pub written: Vec<SegmentId>,
}

/// LSN ranges that have been indexed (shown in history or skipped as not history events).
#[derive(Debug, Default)]
pub(super) struct IndexedRanges {
    // Invariant: disjoint, non-adjacent, non-empty `start -> end` ranges.
    ranges: BTreeMap<u64, u64>,
}

impl IndexedRanges {
    pub(super) fn insert(&mut self, range: Range<u64>) {
        if range.is_empty() {
            return;
        }
        let (mut start, mut end) = (range.start, range.end);
        let touching: Vec<(u64, u64)> =
            self.ranges.range(..=end).rev().take_while(|(_, e)| **e >= start).map(|(s, e)| (*s, *e)).collect();
        for (s, e) in touching {
            self.ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
    }

    /// The parts of `from..to` not indexed.
    pub(super) fn gaps(&self, from: u64, to: u64) -> Vec<Range<u64>> {
        let mut gaps = Vec::new();
        let mut cursor = from;
        for (start, end) in &self.ranges {
            if *end <= cursor {
                continue;
            }
            if *start >= to {
                break;
            }
            if *start > cursor {
                gaps.push(cursor..*start);
            }
            cursor = cursor.max(*end);
        }
        if cursor < to {
            gaps.push(cursor..to);
        }
        gaps
    }

    pub(super) fn remove_below(&mut self, end: u64) {
        let mut kept = self.ranges.split_off(&end);
        if let Some((start, range_end)) = self.ranges.pop_last()
            && range_end > end
        {
            debug_assert!(start < end);
            kept.insert(end, range_end);
        }
        self.ranges = kept;
    }
}

/// The background flusher: flushes whenever an append finds the tail due. It holds the store only
/// while it flushes, so dropping the [`super::EventStore`] closes the WAL.
pub(super) async fn run_flusher(inner: Weak<Inner>, flush_wanted: Arc<Notify>) {
    let mut retry_after: Option<Timestamp> = None;
    loop {
        flush_wanted.notified().await;
        let Some(inner) = inner.upgrade() else {
            break;
        };
        if inner.closed.load(Ordering::Acquire) {
            break;
        }
        if retry_after.is_some_and(|at| inner.clock.now() < at) {
            continue;
        }
        while !inner.closed.load(Ordering::Acquire) && inner.flush_due(&inner.read_state()) {
            match inner.flush().await {
                Ok(report) => {
                    retry_after = None;
                    tracing::debug!(?report, "flushed event history");
                    let n_small: usize =
                        compaction_groups(&inner.read_state().snapshot, inner.flush_events).iter().map(Vec::len).sum();
                    if n_small >= COMPACT_AT_SMALL_SEGMENTS
                        && let Err(error) = inner.compact().await
                    {
                        tracing::error!(%error, "compacting event history failed");
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "flushing event history failed; the WAL keeps every event");
                    retry_after = inner.clock.now().checked_add(FLUSH_RETRY_AFTER).ok();
                    break;
                }
            }
        }
    }
}

impl Inner {
    pub(super) async fn flush(&self) -> Result<FlushReport, StoreError> {
        let _maintenance = self.maintenance.lock().await;
        if self.closed.load(Ordering::Acquire) {
            return Ok(FlushReport::default());
        }
        let end = self.wal.next_lsn();
        let (start, mut events, gaps) = {
            let state = self.read_state();
            let start = state.persisted_next;
            (start, state.tail.events_below(end), state.indexed.gaps(start.0, end.0))
        };
        if end <= start {
            return Ok(FlushReport::default());
        }
        if !gaps.is_empty() {
            let wal = Arc::clone(&self.wal);
            let missing = spawn_blocking(move || read_from_wal(&wal, &gaps)).await??;
            events.extend(missing);
            events.sort_by(|a, b| history_order(&a.1, a.0).cmp(&history_order(&b.1, b.0)));
        }
        let n_events = events.len();
        let format = self.format.clone();
        let written = spawn_blocking(move || encode(&format, &events)).await??;
        let persisted_lsn = Lsn(end.0 - 1);
        let mut commit = Commit { persisted_lsn: Some(persisted_lsn), ..Commit::default() };
        let mut segment = None;
        if let Some(written) = written {
            let handle = self.dataset.write_segment(written).await?;
            segment = Some(handle.entry().id);
            commit.add(handle);
        }
        let snapshot = self.dataset.commit(commit).await?;
        {
            let mut state = self.write_state();
            state.snapshot = snapshot;
            state.tail.remove_below(end);
            state.indexed.remove_below(end.0);
            state.persisted_next = end;
        }
        let wal = Arc::clone(&self.wal);
        let trim_point = self.holds.trim_point(end);
        spawn_blocking(move || wal.remove_segments_before(trim_point)).await??;
        Ok(FlushReport { n_events, segment, persisted_lsn: Some(persisted_lsn) })
    }

    pub(super) async fn compact(&self) -> Result<CompactReport, StoreError> {
        let _maintenance = self.maintenance.lock().await;
        let mut report = CompactReport::default();
        if self.closed.load(Ordering::Acquire) {
            return Ok(report);
        }
        let groups = compaction_groups(&self.read_state().snapshot, self.flush_events);
        for group in groups {
            let ids: Vec<SegmentId> = group.iter().map(|s| s.entry().id).collect();
            let format = self.format.clone();
            let runtime = tokio::runtime::Handle::current();
            // Decoding and encoding are CPU-bound: they run on a blocking thread that drives its own reads.
            let written = spawn_blocking(move || runtime.block_on(merge(group, &format))).await??;
            let mut commit = Commit { remove: ids.clone(), ..Commit::default() };
            if let Some(written) = written {
                let handle = self.dataset.write_segment(written).await?;
                report.written.push(handle.entry().id);
                commit.add(handle);
            }
            let snapshot = self.dataset.commit(commit).await?;
            self.write_state().snapshot = snapshot;
            self.dataset.delete_unreferenced().await;
            report.merged.extend(ids);
        }
        Ok(report)
    }

    pub(super) async fn sweep_history(&self) -> Result<usize, StoreError> {
        let _maintenance = self.maintenance.lock().await;
        let now = self.clock.now();
        let oldest = now.saturating_sub(HISTORY_RETENTION).unwrap_or(now);
        let mut n_dropped = self.write_state().tail.sweep(oldest);
        let manifest = self.read_state().snapshot.manifest.clone();
        let expired: Vec<_> =
            manifest.segments.iter().filter(|entry| entry.max_event_time_ms < oldest.as_millisecond()).collect();
        if expired.is_empty() || self.closed.load(Ordering::Acquire) {
            return Ok(n_dropped);
        }
        let n_rows: u64 = expired.iter().map(|entry| entry.n_rows).sum();
        let commit = Commit { remove: expired.iter().map(|entry| entry.id).collect(), ..Commit::default() };
        let snapshot = self.dataset.commit(commit).await?;
        self.write_state().snapshot = snapshot;
        self.dataset.delete_unreferenced().await;
        n_dropped += usize::try_from(n_rows).unwrap_or(usize::MAX);
        Ok(n_dropped)
    }
}

/// Runs of small, readable segments (in id order) to merge, each of at least two segments.
fn compaction_groups(snapshot: &Snapshot, flush_events: usize) -> Vec<Vec<Arc<Segment>>> {
    let small = flush_events as u64 / SMALL_SEGMENT_DIVISOR;
    let max_rows = (flush_events as u64).saturating_mul(COMPACT_MAX_FLUSHES);
    let mut groups: Vec<Vec<Arc<Segment>>> = vec![Vec::new()];
    let mut group_rows = 0u64;
    for segment in snapshot.segments.iter().filter(|s| s.broken().is_none() && s.entry().n_rows < small) {
        let n_rows = segment.entry().n_rows;
        if group_rows + n_rows > max_rows {
            groups.push(Vec::new());
            group_rows = 0;
        }
        group_rows += n_rows;
        if let Some(group) = groups.last_mut() {
            group.push(Arc::clone(segment));
        }
    }
    groups.retain(|group| group.len() >= 2);
    groups
}

async fn spawn_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| StoreError::Io(std::io::Error::other(error)))
}

/// The history sort key of an event: (account, region, event time, LSN).
fn history_order(record: &EventRecord, lsn: Lsn) -> (&str, &str, i64, u64) {
    let (account, region) = history_partition(record.fields()).unwrap_or(("", ""));
    (account, region, record.fields().event_time.as_millisecond(), lsn.0)
}

/// Parses every WAL record from `from` on and hands it to `visit`. Only records
/// that parsed are ever appended, so one that does not is damage the checksum did
/// not catch: it is logged, and the replay ends in `StoreError::Corrupt`.
pub(super) fn replay_events(wal: &Wal, from: Lsn, mut visit: impl FnMut(Lsn, EventRecord)) -> Result<(), StoreError> {
    let mut n_unreadable = 0u64;
    wal.replay(from, |lsn, payload| {
        match EventRecord::parse(payload) {
            Ok(record) => visit(lsn, record),
            Err(error) => {
                n_unreadable += 1;
                tracing::error!(lsn = lsn.0, %error, "unreadable event in the write-ahead log");
            }
        }
        Ok::<(), WalError>(())
    })?;
    if n_unreadable > 0 {
        return Err(StoreError::Corrupt {
            table: "wal",
            key: String::new(),
            reason: format!("{n_unreadable} records in the write-ahead log are not valid events"),
        });
    }
    Ok(())
}

/// The history events of the WAL records in `gaps`.
fn read_from_wal(wal: &Wal, gaps: &[Range<u64>]) -> Result<Vec<(Lsn, Arc<EventRecord>)>, StoreError> {
    let (Some(first), Some(last)) = (gaps.first(), gaps.last()) else {
        return Ok(Vec::new());
    };
    let mut events = Vec::new();
    replay_events(wal, Lsn(first.start), |lsn, record| {
        let wanted = lsn.0 < last.end && gaps.iter().any(|gap| gap.contains(&lsn.0));
        if wanted && history_partition(record.fields()).is_some() {
            events.push((lsn, Arc::new(record)));
        }
    })?;
    Ok(events)
}

fn encode(format: &SegmentFormat, events: &[(Lsn, Arc<EventRecord>)]) -> Result<Option<WrittenSegment>, StoreError> {
    let mut writer = SegmentWriter::new(format)?;
    for (lsn, record) in events {
        writer.push(*lsn, record)?;
    }
    Ok(writer.finish()?)
}

/// Rows a merge input decodes at a time: bounds compaction's memory to a few MB per input.
const MERGE_READ_ROWS: usize = 4096;

/// One input of a merge: the rows of its current slice not yet merged.
struct Cursor {
    segment: Arc<Segment>,
    row_group: usize,
    next_row: usize,
    rows: VecDeque<(Lsn, EventRecord)>,
}

impl Cursor {
    /// Loads slices until there is a row or none are left.
    async fn fill(&mut self) -> Result<(), StoreError> {
        while self.rows.is_empty() && self.row_group < self.segment.n_row_groups() {
            let n_rows = self.segment.row_group_rows(self.row_group);
            if self.next_row >= n_rows {
                self.row_group += 1;
                self.next_row = 0;
                continue;
            }
            let end = (self.next_row + MERGE_READ_ROWS).min(n_rows);
            let rows = self.segment.read_rows(self.row_group, self.next_row..end).await.map_err(|e| self.failed(e))?;
            self.next_row = end;
            for (lsn, text) in rows {
                let record = EventRecord::parse(text.as_bytes())
                    .map_err(|error| self.failed(self.segment.report_corrupt(format!("lsn {lsn}: {error}"))))?;
                self.rows.push_back((Lsn(lsn), record));
            }
        }
        Ok(())
    }

    fn failed(&self, error: ReadError) -> StoreError {
        StoreError::Dataset(match error {
            ReadError::Corrupt(reason) => self.segment.corrupt(reason),
            ReadError::Vanished => self.segment.corrupt("the object is missing".to_owned()),
            ReadError::Io(error) => error,
        })
    }

    fn head_key(&self) -> Option<(String, String, i64, u64)> {
        let (lsn, record) = self.rows.front()?;
        let (account, region, time, lsn) = history_order(record, *lsn);
        Some((account.to_owned(), region.to_owned(), time, lsn))
    }
}

/// Merges segments (each in history order) into one new segment.
async fn merge(segments: Vec<Arc<Segment>>, format: &SegmentFormat) -> Result<Option<WrittenSegment>, StoreError> {
    let mut cursors: Vec<Cursor> = segments
        .into_iter()
        .map(|segment| Cursor { segment, row_group: 0, next_row: 0, rows: VecDeque::new() })
        .collect();
    let mut heap = BinaryHeap::new();
    for (index, cursor) in cursors.iter_mut().enumerate() {
        cursor.fill().await?;
        if let Some(key) = cursor.head_key() {
            heap.push(Reverse((key, index)));
        }
    }
    let mut writer = SegmentWriter::new(format)?;
    let mut last_lsn = None;
    while let Some(Reverse((_, index))) = heap.pop() {
        let Some(cursor) = cursors.get_mut(index) else { continue };
        let Some((lsn, record)) = cursor.rows.pop_front() else { continue };
        // The same event in two segments (never expected) is written once.
        if last_lsn != Some(lsn) {
            writer.push(lsn, &record)?;
            last_lsn = Some(lsn);
        }
        cursor.fill().await?;
        if let Some(key) = cursor.head_key() {
            heap.push(Reverse((key, index)));
        }
    }
    Ok(writer.finish()?)
}
