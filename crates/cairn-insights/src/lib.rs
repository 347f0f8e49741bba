//! Insights (spec/formats.md §5, spec/api.md §1.5, §2.7): per-minute counts of each API's write calls
//! and errors by event time (`counters`), a detector that compares each minute with a seasonal
//! baseline and reports the start and end of unusual activity (`detector`, rationale in
//! ARCHITECTURE.md), and those reports as CloudTrail insight events (`record`).
//!
//! `key::observations` says what an event counts toward; everything but `service` is pure
//! computation over counts, so live ingest (`service`, which reads the write-ahead log and appends
//! insight events to it), a retroactive run over an archive and the evaluation harness
//! (`evaluation`) share it. *Invariant: no IO outside `service`.*

pub mod counters;
pub mod detector;
pub mod evaluation;
pub mod key;
pub mod record;
pub mod service;
mod stats;

pub use counters::Counters;
pub use detector::{Config, Detector, Direction, Finding, State};
pub use key::{
    Call, Dimension, InsightType, Observation, ObservationRef, SeriesKey, SeriesRef, Tally, call_of, data_call_of,
    observation_refs, observations, observations_of,
};
pub use record::insight_record;
pub use service::{DataTrail, DataTrails, InsightsService, ServiceConfig, Wanted};
