//! Event history: management and Insights events per (account, region), ordered
//! by event time, searchable by one lookup attribute and a time window
//! (spec/api.md §2.5).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use cairn_model::event::{EventRecord, LookupAttributeKey};
use jiff::{SignedDuration, Timestamp};

use crate::wal::Lsn;

/// Event history keeps 90 days (spec/api.md §2.5).
pub const HISTORY_RETENTION: SignedDuration = SignedDuration::from_hours(90 * 24);

/// Where an event sits in history order: event time, then arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub event_time_ms: i64,
    pub lsn: u64,
}

/// One LookupEvents request, validated.
#[derive(Debug, Clone)]
pub struct LookupQuery {
    pub account_id: String,
    pub region: String,
    pub attribute: Option<(LookupAttributeKey, String)>,
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
    /// Set when more events may follow: the key of the last event returned.
    pub next: Option<EventKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PartitionKey {
    account_id: String,
    region: String,
}

/// Lookup scans newest first from the end of the window; this bounds the work
/// one request does before it answers with a NextToken.
const MAX_SCANNED_PER_PAGE: usize = 1_000_000;

#[derive(Debug, Default)]
pub(super) struct HistoryIndex {
    partitions: RwLock<HashMap<PartitionKey, BTreeMap<EventKey, Arc<EventRecord>>>>,
}

impl HistoryIndex {
    /// Indexes `record` if Event history shows it: management and Insights events,
    /// never data or network-activity events.
    pub(super) fn insert(&self, lsn: Lsn, record: Arc<EventRecord>) {
        let fields = record.fields();
        if !matches!(fields.event_category.as_str(), "Management" | "Insight") {
            return;
        }
        let Some(account_id) = fields.recipient_account_id.clone().or_else(|| fields.user_identity.account_id.clone())
        else {
            return;
        };
        let partition = PartitionKey { account_id, region: fields.aws_region.clone() };
        let key = EventKey { event_time_ms: fields.event_time.as_millisecond(), lsn: lsn.0 };
        let mut partitions = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        partitions.entry(partition).or_default().insert(key, record);
    }

    pub(super) fn lookup(&self, query: &LookupQuery, now: Timestamp) -> LookupPage {
        let empty = LookupPage { events: Vec::new(), next: None };
        let oldest = now.saturating_sub(HISTORY_RETENTION).unwrap_or(now);
        let start = query.start.map_or(oldest, |s| s.max(oldest));
        let end = query.end.unwrap_or(now);
        if start > end {
            return empty;
        }
        let low = EventKey { event_time_ms: start.as_millisecond(), lsn: 0 };
        let mut high = EventKey { event_time_ms: end.as_millisecond(), lsn: u64::MAX };
        if let Some(after) = query.after {
            match after.lsn.checked_sub(1) {
                Some(lsn) => high = high.min(EventKey { event_time_ms: after.event_time_ms, lsn }),
                None => {
                    high = high.min(EventKey { event_time_ms: after.event_time_ms.saturating_sub(1), lsn: u64::MAX })
                }
            }
        }
        if low > high {
            return empty;
        }
        let partitions = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        let partition = PartitionKey { account_id: query.account_id.clone(), region: query.region.clone() };
        let Some(events) = partitions.get(&partition) else {
            return empty;
        };
        let mut page = Vec::with_capacity(query.max_results.min(64));
        let mut last_key = None;
        for (n_scanned, (key, record)) in events.range(low..=high).rev().enumerate() {
            if page.len() == query.max_results || n_scanned == MAX_SCANNED_PER_PAGE {
                // More may follow: continue after the last key looked at.
                return LookupPage { events: page, next: last_key.or(Some(*key)) };
            }
            last_key = Some(*key);
            if matches(record, query) {
                page.push(record.clone());
            }
        }
        LookupPage { events: page, next: None }
    }

    pub(super) fn sweep(&self, now: Timestamp) -> usize {
        let oldest = now.saturating_sub(HISTORY_RETENTION).unwrap_or(now);
        let boundary = EventKey { event_time_ms: oldest.as_millisecond(), lsn: 0 };
        let mut partitions = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        let mut n_dropped = 0;
        for events in partitions.values_mut() {
            let kept = events.split_off(&boundary);
            n_dropped += events.len();
            *events = kept;
        }
        partitions.retain(|_, events| !events.is_empty());
        n_dropped
    }
}

fn matches(record: &EventRecord, query: &LookupQuery) -> bool {
    let is_insight = record.fields().event_category == "Insight";
    if is_insight != query.insights {
        return false;
    }
    match &query.attribute {
        None => true,
        Some((key, value)) => record.fields().lookup_attribute_values(*key).any(|v| v == value),
    }
}
