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
//! [`TrailSelectors::advanced`]). Delivery asks [`trail_takes`] whether a trail
//! delivers a recorded event: the event's owner account ([`event_owner_account`],
//! also the key log files are grouped by, with `awsRegion`) must be the trail's or in
//! its organization; a single-region trail takes only its home region; global-service
//! events ([`is_global_service_event`]) need `IncludeGlobalServiceEvents` and a
//! multi-region trail or one homed in us-east-1; Insights events are never selected;
//! then the selectors decide. Delivery, the Lake and rules all evaluate selectors the
//! same way: [`with_event_view`] builds the [`EventView`] of a parsed record (without
//! allocating for up to eight resources) and [`TrailSelectors::matches`] or
//! [`advanced_matches`] judges it.
//!
//! **Event patterns.** EventBridge's pattern language, for rules (`pattern`, its module doc
//! has the semantics): [`EventPattern`] parses and validates one (errors: [`PatternError`],
//! event-ruler's messages), [`RuleMatcher`] compiles many into one index and returns the rules an
//! event in EventBridge's envelope matches. [`SECURITY_ALARMS`] is the starter set of CIS
//! monitoring alarms as patterns (`security_alarms.rs`).
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
//! `arns/tests.rs`, and `scope/tests.rs` (which events each kind of trail delivers:
//! trail configuration and record JSON → taken or not).

mod advanced;
mod arns;
mod basic;
mod errors;
mod fields;
mod matching;
mod pattern;
mod scope;
mod security_alarms;
mod trail;
mod types;

pub use advanced::{validate_event_data_store_advanced_event_selectors, validate_trail_advanced_event_selectors};
pub use basic::validate_trail_event_selectors;
pub use matching::{EventView, advanced_matches};
pub use pattern::{EventPattern, MatchScratch, PatternError, RuleMatcher};
pub use scope::{
    EventDataStoreScope, GLOBAL_SERVICE_SOURCES, TrailScope, event_data_store_takes, event_owner_account,
    is_global_service_event, trail_takes, trail_takes_insight, with_event_view,
};
pub use security_alarms::{SECURITY_ALARMS, SecurityAlarm};
pub use trail::{TrailSelectors, default_event_data_store_selectors, validate_put_event_selectors};
pub use types::{AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector};
