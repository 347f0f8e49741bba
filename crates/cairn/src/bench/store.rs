//! The benchmark's only contact with the event store: open, durable append, lookup, flush and close, through
//! `cairn_store::events`' public API, as `cairn serve` uses it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_model::clock::SystemClock;
use cairn_model::event::EventRecord;
use cairn_store::events::{EventStore, EventStoreConfig, LookupPage, LookupQuery};

/// An open event store under a benchmark's data directory.
#[derive(Debug)]
pub(super) struct BenchStore {
    inner: Arc<EventStore>,
}

/// What opening found.
#[derive(Debug, Clone, Copy)]
pub(super) struct Opened {
    /// Records in the WAL after recovery; those past the last flush are replayed into the tail.
    pub(super) n_wal_records: u64,
    /// How long opening (WAL recovery, the dataset's manifest, replaying into the tail) took.
    pub(super) took: Duration,
}

/// What a flush (and the compaction after it) did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Flushed {
    pub(super) n_events: usize,
    pub(super) flush_took: Duration,
    pub(super) n_merged: usize,
    pub(super) compact_took: Duration,
}

impl BenchStore {
    /// Opens (or creates) the store in `dir`, laid out as `cairn serve` lays out its data directory.
    pub(super) async fn open(dir: &Path) -> anyhow::Result<(BenchStore, Opened)> {
        let started = Instant::now();
        let (inner, recovery) = EventStore::open(EventStoreConfig::new(dir), Arc::new(SystemClock))
            .await
            .with_context(|| format!("opening the event store in {}", dir.display()))?;
        let opened = Opened { n_wal_records: recovery.n_records, took: started.elapsed() };
        Ok((BenchStore { inner: Arc::new(inner) }, opened))
    }

    /// Appends `records` durably: they are on disk and visible to lookups when this returns.
    pub(super) async fn append_durable(&self, records: Vec<EventRecord>) -> anyhow::Result<()> {
        self.inner.append_durable(records).await.context("durable append")?;
        Ok(())
    }

    /// The event store itself, for consumers that run beside the appends (Insights).
    pub(super) fn event_store(&self) -> Arc<EventStore> {
        self.inner.clone()
    }

    /// One LookupEvents page.
    pub(super) async fn lookup(&self, query: &LookupQuery) -> anyhow::Result<LookupPage> {
        self.inner.lookup(query).await.context("lookup")
    }

    /// Writes the in-memory tail to a history segment, then compacts segments: the store's resting form,
    /// after which bytes per event are measured.
    pub(super) async fn flush(&self) -> anyhow::Result<Flushed> {
        let started = Instant::now();
        let flushed = self.inner.flush().await.context("flush")?;
        let flush_took = started.elapsed();
        let started = Instant::now();
        let compacted = self.inner.compact().await.context("compaction")?;
        Ok(Flushed {
            n_events: flushed.n_events,
            flush_took,
            n_merged: compacted.merged.len(),
            compact_took: started.elapsed(),
        })
    }

    /// Events in history segments and in the in-memory tail.
    pub(super) fn n_events(&self) -> (u64, usize) {
        let snapshot = self.inner.history_snapshot();
        let in_segments = snapshot.manifest.segments.iter().map(|s| s.n_rows).sum();
        (in_segments, self.inner.tail_len())
    }

    /// Ordered shutdown.
    pub(super) fn close(self) {
        self.inner.close();
    }
}
