//! Retried PutAuditEvents calls must not store an event twice. An event's `eventID` is a UUID (v5)
//! of its channel, the caller's `id` and its exact bytes, so the same event always gets the same
//! eventID; [`RecentAuditEvents`] remembers the eventIDs stored recently and the handler skips those.
//!
//! The memory is rebuilt at start from the channel events still in the write-ahead log, so a call
//! retried after a crash (its answer lost, its events durable) is recognised too. The window is the
//! log's retention plus [`WINDOW`] in memory, at most [`MAX_REMEMBERED`] events.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use cairn_model::event::EventRecord;
use cairn_model::event::audit::EVENT_CATEGORY;
use cairn_store::events::EventStore;
use jiff::{SignedDuration, Timestamp};

/// How long a stored event is remembered in memory.
const WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// Upper bound of remembered events (about 100 MB at most).
const MAX_REMEMBERED: usize = 1_000_000;

/// The namespace of audit event IDs (a fixed random UUID).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2d4e_8a3b_4c5d_9e7f_0a1b_2c3d_4e5f);

/// The eventID of an audit event: the same channel, id and bytes give the same ID.
pub(crate) fn event_id(channel_arn: &str, id: &str, event_data: &str) -> String {
    let mut name = Vec::with_capacity(channel_arn.len() + id.len() + event_data.len() + 2);
    for part in [channel_arn, id, event_data] {
        name.extend_from_slice(part.as_bytes());
        name.push(0);
    }
    uuid::Uuid::new_v5(&NAMESPACE, &name).to_string()
}

/// The eventIDs of recently stored audit events.
#[derive(Debug, Default)]
pub(crate) struct RecentAuditEvents {
    inner: Mutex<Recent>,
}

#[derive(Debug, Default)]
struct Recent {
    ids: HashSet<String>,
    /// Insertion order, for expiry.
    order: VecDeque<(Timestamp, String)>,
}

impl Recent {
    /// Remembers `event_ids` as stored at `now`, forgetting what is older than [`WINDOW`] or beyond
    /// [`MAX_REMEMBERED`].
    fn insert_all(&mut self, event_ids: Vec<String>, now: Timestamp) {
        let horizon = now.checked_sub(WINDOW).unwrap_or(now);
        while let Some((at, _)) = self.order.front() {
            if *at >= horizon && self.order.len() + event_ids.len() <= MAX_REMEMBERED {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.ids.remove(&id);
            }
        }
        for id in event_ids {
            if self.ids.insert(id.clone()) {
                self.order.push_back((now, id));
            }
        }
    }
}

impl RecentAuditEvents {
    /// Remembers the channel events in `events`' write-ahead log.
    pub(crate) fn from_log(events: &EventStore, now: Timestamp) -> RecentAuditEvents {
        let recent = RecentAuditEvents::default();
        let mut found = Vec::new();
        let from = events.first_retained_lsn();
        let read = events.read_log(from, events.next_lsn(), None, |_, payload| {
            // Most records are CloudTrail's own: only parse those that can be channel events.
            if memchr::memmem::find(payload, EVENT_CATEGORY.as_bytes()).is_some()
                && let Ok(record) = EventRecord::parse(payload)
                && record.fields().event_category == EVENT_CATEGORY
            {
                found.push(record.fields().event_id.clone());
            }
            std::ops::ControlFlow::Continue(())
        });
        if let Err(error) = read {
            tracing::warn!(%error, "could not read the log for recent audit events; retries may store duplicates");
        }
        recent.insert_all(found, now);
        recent
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, event_id: &str) -> bool {
        self.lock().ids.contains(event_id)
    }

    /// Claims `event_ids` for storing: returns those that no earlier or concurrent call has stored or
    /// is storing, now remembered. Checking and remembering under one lock is what keeps two
    /// concurrent retries of a call from both storing its events. If the append then fails,
    /// [`Self::release`] forgets the claims so that a retry stores them.
    pub(crate) fn claim(&self, event_ids: Vec<String>, now: Timestamp) -> Vec<String> {
        let mut recent = self.lock();
        let fresh: Vec<String> = event_ids.into_iter().filter(|id| !recent.ids.contains(id)).collect();
        recent.insert_all(fresh.clone(), now);
        fresh
    }

    /// Forgets claims whose events were not stored.
    pub(crate) fn release(&self, event_ids: &[String]) {
        let mut recent = self.lock();
        for id in event_ids {
            recent.ids.remove(id);
        }
        recent.order.retain(|(_, id)| !event_ids.contains(id));
    }

    pub(crate) fn insert_all(&self, event_ids: Vec<String>, now: Timestamp) {
        self.lock().insert_all(event_ids, now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
