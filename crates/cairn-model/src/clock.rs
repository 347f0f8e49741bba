//! Injected time: every timer and timestamp in cairn reads a [`Clock`], so tests
//! can move time instead of sleeping.

use std::sync::Mutex;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> jiff::Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<jiff::Timestamp>,
}

impl ManualClock {
    pub fn new(start: jiff::Timestamp) -> ManualClock {
        ManualClock { now: Mutex::new(start) }
    }

    pub fn set(&self, to: jiff::Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> jiff::Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// AWS JSON timestamps: epoch seconds as a number, with milliseconds.
pub fn epoch_seconds(at: jiff::Timestamp) -> f64 {
    at.as_millisecond() as f64 / 1000.0
}

/// The ISO form of the deprecated GetTrailStatus strings: `2021-10-13T15:02:21Z`.
pub fn iso_seconds(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
