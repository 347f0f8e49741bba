//! Event selectors: which events a trail or event data store takes.
//!
//! **What this crate owns.** The event-selector vocabulary of CloudTrail: the wire
//! shapes of basic selectors ([`EventSelector`], [`DataResource`]) and advanced
//! selectors ([`AdvancedEventSelector`], [`AdvancedFieldSelector`]); the rules that
//! `PutEventSelectors`, `CreateEventDataStore` and `UpdateEventDataStore` enforce on
//! them (spec/api.md §2.4, quotas §2.12); and matching an event against them.
//!
//! **Principal types and data flow.** The API layer deserialises request members into
//! the wire types and passes them to [`validate_put_event_selectors`] (or directly to
//! [`validate_trail_event_selectors`] / [`validate_trail_advanced_event_selectors`]),
//! or to [`validate_event_data_store_advanced_event_selectors`] for event data stores.
//! A trail's result is a [`TrailSelectors`] — basic XOR advanced — which the store
//! persists as it is and `GetEventSelectors` echoes ([`TrailSelectors::basic`],
//! [`TrailSelectors::advanced`]). Delivery builds an [`EventView`] of each recorded
//! event and asks [`TrailSelectors::matches`] or [`advanced_matches`].
//!
//! **Invariants.** No IO, no clocks, no global state: every function is pure.
//! Every validation failure is an `ApiError` with code
//! `InvalidEventSelectorsException`, and a message that names the offending member
//! and echoes at most 256 characters of client input. Validated basic selectors
//! always carry all four members (defaults filled), so stored selectors compare and
//! serialise the same way; `None` members are omitted on the wire.
//!
//! **Place in the DAG.** Depends only on `cairn-model` (errors, ARN and name
//! helpers) and serde. Used by `cairn-store` (persists [`TrailSelectors`] and event
//! data store selectors), `cairn-api` (validation, `GetEventSelectors`,
//! `HasCustomEventSelectors`) and `cairn-deliver` (matching).
//!
//! **Tests.** Each module has a sibling `tests.rs` driven by one `check` helper over
//! (input JSON, expected result or message) rows: `basic/tests.rs`,
//! `advanced/tests.rs`, `matching/tests.rs`, `trail/tests.rs`, `types/tests.rs`,
//! `arns/tests.rs`.

mod advanced;
mod arns;
mod basic;
mod errors;
mod fields;
mod matching;
mod trail;
mod types;

pub use advanced::{validate_event_data_store_advanced_event_selectors, validate_trail_advanced_event_selectors};
pub use basic::validate_trail_event_selectors;
pub use matching::{EventView, advanced_matches};
pub use trail::{TrailSelectors, default_event_data_store_selectors, validate_put_event_selectors};
pub use types::{AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector};
