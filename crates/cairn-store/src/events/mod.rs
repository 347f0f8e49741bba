//! The event store: every event is appended to the write-ahead log and, once
//! durable, indexed for Event history (LookupEvents).
//!
//! The WAL is the one copy of truth (design.md §2). The history index is derived
//! from it: rebuilt by replay on open, updated after each durable append, so an
//! event is visible to LookupEvents as soon as its call is acknowledged.

mod history;

use std::ops::Range;
use std::sync::Arc;

use cairn_model::clock::Clock;
use cairn_model::event::EventRecord;

pub use history::{EventKey, HISTORY_RETENTION, LookupPage, LookupQuery};

use crate::StoreError;
use crate::wal::{Lsn, Recovery, Wal, WalConfig};
use history::HistoryIndex;

/// Durable event log plus the Event history derived from it.
pub struct EventStore {
    wal: Wal,
    history: HistoryIndex,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore").field("next_lsn", &self.wal.next_lsn()).finish_non_exhaustive()
    }
}

impl EventStore {
    /// Opens the WAL (cutting a torn tail) and rebuilds the history index from it.
    pub fn open(config: WalConfig, clock: Arc<dyn Clock>) -> Result<(EventStore, Recovery), StoreError> {
        let (wal, recovery) = Wal::open(config)?;
        let history = HistoryIndex::default();
        let mut n_unreadable = 0u64;
        wal.replay(wal.first_lsn(), |lsn, payload| {
            match EventRecord::parse(payload) {
                Ok(record) => history.insert(lsn, Arc::new(record)),
                // Only records that parsed are ever appended, so this is damage
                // that the checksum did not catch; it is reported, not hidden.
                Err(error) => {
                    n_unreadable += 1;
                    tracing::error!(lsn = lsn.0, %error, "unreadable event in the write-ahead log");
                }
            }
            Ok(())
        })?;
        if n_unreadable > 0 {
            return Err(StoreError::Corrupt {
                table: "wal",
                key: String::new(),
                reason: format!("{n_unreadable} records in the write-ahead log are not valid events"),
            });
        }
        Ok((EventStore { wal, history, clock }, recovery))
    }

    /// Appends `records` durably (group commit), then makes them visible in Event history.
    pub async fn append_durable(&self, records: Vec<EventRecord>) -> Result<Range<Lsn>, StoreError> {
        let payloads = records.iter().map(|r| r.text().as_bytes().to_vec()).collect();
        let lsns = self.wal.append_durable(payloads).await?;
        self.index(lsns.clone(), records);
        Ok(lsns)
    }

    /// [`EventStore::append_durable`] for callers outside an async runtime.
    pub fn append_durable_blocking(&self, records: Vec<EventRecord>) -> Result<Range<Lsn>, StoreError> {
        let payloads = records.iter().map(|r| r.text().as_bytes().to_vec()).collect();
        let lsns = self.wal.append_durable_blocking(payloads)?;
        self.index(lsns.clone(), records);
        Ok(lsns)
    }

    fn index(&self, lsns: Range<Lsn>, records: Vec<EventRecord>) {
        for (lsn, record) in (lsns.start.0..lsns.end.0).zip(records) {
            self.history.insert(Lsn(lsn), Arc::new(record));
        }
    }

    /// One page of Event history, newest first, within the 90-day window.
    pub fn lookup(&self, query: &LookupQuery) -> LookupPage {
        self.history.lookup(query, self.clock.now())
    }

    /// Drops history older than the retention window; returns how many events went.
    pub fn sweep_history(&self) -> usize {
        self.history.sweep(self.clock.now())
    }

    /// Answers every queued append, then stops the WAL writer (ordered shutdown).
    pub fn close(&self) {
        self.wal.close();
    }
}

#[cfg(test)]
mod tests;
