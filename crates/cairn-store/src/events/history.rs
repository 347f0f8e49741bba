//! The in-memory tail of Event history: management and Insights events not yet in a committed segment,
//! per (account, region), ordered by event time then LSN (spec/api.md §2.5).

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::event::EventRecord;
use jiff::{SignedDuration, Timestamp};

use crate::dataset::{EventKey, history_partition};
use crate::wal::Lsn;

/// Event history keeps 90 days (spec/api.md §2.5).
pub const HISTORY_RETENTION: SignedDuration = SignedDuration::from_hours(90 * 24);

/// One LookupEvents request, validated.
#[derive(Debug, Clone)]
pub struct LookupQuery {
    pub account_id: String,
    pub region: String,
    pub attribute: Option<(cairn_model::event::LookupAttributeKey, String)>,
    /// Inclusive bounds.
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// `EventCategory=insight`: Insights events instead of management events.
    pub insights: bool,
    pub max_results: usize,
    /// Continue strictly after (older than) this key.
    pub after: Option<EventKey>,
}

#[derive(Debug)]
pub struct LookupPage {
    pub events: Vec<Arc<EventRecord>>,
    /// Set when more events may follow: continue strictly after (older than) this key.
    pub next: Option<EventKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct PartitionKey {
    pub(super) account_id: String,
    pub(super) region: String,
}

/// The tail's events, by partition. Partitions are ordered, so iterating gives history order.
#[derive(Debug, Default)]
pub(super) struct HistoryIndex {
    partitions: BTreeMap<PartitionKey, BTreeMap<EventKey, Arc<EventRecord>>>,
    n_events: usize,
}

/// What a tail scan found: matches newest first, and where it stopped if it ran out of budget.
#[derive(Debug, Default)]
pub(super) struct TailHits {
    pub(super) hits: Vec<(EventKey, Arc<EventRecord>)>,
    /// Every key above this was examined; this key and older ones were not.
    pub(super) cut: Option<EventKey>,
}

impl HistoryIndex {
    /// Indexes `record` if Event history shows it: management and Insights events with an account.
    pub(super) fn insert(&mut self, lsn: Lsn, record: Arc<EventRecord>) {
        let Some((account, region)) = history_partition(record.fields()) else {
            return;
        };
        let partition = PartitionKey { account_id: account.to_owned(), region: region.to_owned() };
        let key = EventKey { event_time_ms: record.fields().event_time.as_millisecond(), lsn: lsn.0 };
        if self.partitions.entry(partition).or_default().insert(key, record).is_none() {
            self.n_events += 1;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.n_events
    }

    /// Up to `limit` events of one partition with keys in `low..=high` that pass `matches`, newest first.
    /// Examines at most `budget` events.
    pub(super) fn scan(
        &self,
        partition: &PartitionKey,
        low: EventKey,
        high: EventKey,
        limit: usize,
        budget: usize,
        matches: impl Fn(&EventRecord) -> bool,
    ) -> TailHits {
        let mut found = TailHits::default();
        let Some(events) = self.partitions.get(partition) else {
            return found;
        };
        for (n_scanned, (key, record)) in events.range(low..=high).rev().enumerate() {
            if found.hits.len() == limit {
                break;
            }
            if n_scanned == budget {
                found.cut = Some(*key);
                break;
            }
            if matches(record) {
                found.hits.push((*key, Arc::clone(record)));
            }
        }
        found
    }

    /// Every event with an LSN below `end`, in history order (partition, event time, LSN).
    pub(super) fn events_below(&self, end: Lsn) -> Vec<(Lsn, Arc<EventRecord>)> {
        let mut out = Vec::new();
        for events in self.partitions.values() {
            out.extend(events.iter().filter(|(key, _)| key.lsn < end.0).map(|(key, r)| (Lsn(key.lsn), Arc::clone(r))));
        }
        out
    }

    /// Drops every event with an LSN below `end` (they are in a committed segment now).
    pub(super) fn remove_below(&mut self, end: Lsn) {
        let mut n_removed = 0;
        for events in self.partitions.values_mut() {
            let before = events.len();
            events.retain(|key, _| key.lsn >= end.0);
            n_removed += before - events.len();
        }
        self.partitions.retain(|_, events| !events.is_empty());
        self.n_events -= n_removed;
    }

    /// Drops events older than `oldest`; returns how many went.
    pub(super) fn sweep(&mut self, oldest: Timestamp) -> usize {
        let boundary = EventKey { event_time_ms: oldest.as_millisecond(), lsn: 0 };
        let mut n_dropped = 0;
        for events in self.partitions.values_mut() {
            let kept = events.split_off(&boundary);
            n_dropped += events.len();
            *events = kept;
        }
        self.partitions.retain(|_, events| !events.is_empty());
        self.n_events -= n_dropped;
        n_dropped
    }
}
