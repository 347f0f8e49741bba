//! Holds on the write-ahead log: each consumer that reads the log from its own cursor (a trail's
//! deliverer, later rules and insights) names the oldest LSN it still needs, and segments at or
//! after the oldest hold are kept when the event store trims the log.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::Lsn;

/// The LSNs consumers still need, by consumer name.
#[derive(Debug, Default)]
pub struct WalHolds {
    holds: Mutex<BTreeMap<String, Lsn>>,
}

impl WalHolds {
    /// Records that `consumer` needs every record from `lsn` on (replacing its previous hold).
    pub fn set(&self, consumer: &str, lsn: Lsn) {
        self.lock().insert(consumer.to_owned(), lsn);
    }

    /// Forgets `consumer` (a deleted trail, say).
    pub fn release(&self, consumer: &str) {
        self.lock().remove(consumer);
    }

    /// The oldest LSN any consumer needs.
    pub fn oldest(&self) -> Option<Lsn> {
        self.lock().values().min().copied()
    }

    /// `up_to`, lowered to the oldest hold: the LSN below which the log may be trimmed.
    pub fn trim_point(&self, up_to: Lsn) -> Lsn {
        self.oldest().map_or(up_to, |oldest| oldest.min(up_to))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Lsn>> {
        // Each change is one map operation, so a panic elsewhere cannot leave the map half-changed.
        self.holds.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_hold_bounds_the_trim_point() {
        let holds = WalHolds::default();
        assert_eq!(holds.trim_point(Lsn(100)), Lsn(100));
        holds.set("trail-a", Lsn(40));
        holds.set("trail-b", Lsn(70));
        assert_eq!(holds.trim_point(Lsn(100)), Lsn(40));
        assert_eq!(holds.trim_point(Lsn(10)), Lsn(10));
        holds.set("trail-a", Lsn(90));
        assert_eq!(holds.trim_point(Lsn(100)), Lsn(70));
        holds.release("trail-b");
        assert_eq!(holds.trim_point(Lsn(100)), Lsn(90));
    }
}
