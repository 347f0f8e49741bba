//! CloudTrail event records: the ones cairn ingests or stores ([`EventRecord`]) and the ones it makes itself for
//! every API call ([`NewEvent`]) (spec/formats.md §1).
//!
//! Invariants: an [`EventRecord`] keeps the record's JSON text exactly as it was given (only the JSON whitespace
//! around it is dropped), so LookupEvents' `CloudTrailEvent`, delivered log files and the Lake all see the input
//! byte for byte; the typed [`EventFields`] are read from that text once and never change. [`NewEvent::to_json`]
//! writes AWS's key order and size rules, and its output parses back to the same fields.
//! LookupEvents' view of a record (`Username`, `Resources`, the eight lookup attributes) is in [`lookup`].
//!
//! No IO here; tests read the corpora in `shared/corpora/cloudtrail`.

pub mod audit;
mod de;
pub mod lookup;
mod new_event;
mod record;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

pub use lookup::{AttributeValues, LookupAttributeKey, LookupResource};
pub use new_event::{EventType, NewEvent, NewResource, SignIn, TlsDetails, new_event_id};
pub use record::{EventFields, EventRecord, Resource, UserIdentity, parse_event_time};

/// The largest record CloudTrail writes (256 KB since eventVersion 1.05); larger input is rejected.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// The `eventVersion` cairn writes.
pub const EVENT_VERSION: &str = "1.11";

/// `userAgent`, `errorCode`, `errorMessage` and `requestID` are truncated to this many bytes.
pub const MAX_SHORT_FIELD_BYTES: usize = 1024;

/// `requestParameters` and `responseElements` larger than this (serialised) are written as `null`.
pub const MAX_PAYLOAD_BYTES: usize = 100 * 1024;

/// Why a record was not accepted. Messages name the field and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event record is {size} bytes, more than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("event record is not valid utf-8")]
    NotUtf8,
    #[error("event record is not valid json: {reason}")]
    NotJson { reason: String },
    #[error("event record is a json {found}, not an object")]
    NotAnObject { found: &'static str },
    #[error("missing field {field}")]
    MissingField { field: &'static str },
    #[error("field {field} must be {expected}, found {found}")]
    WrongType { field: &'static str, expected: &'static str, found: &'static str },
    #[error("field {field} is empty")]
    EmptyField { field: &'static str },
    #[error("field {field} appears more than once")]
    DuplicateField { field: &'static str },
    #[error("field {field} has an invalid value {value:?}")]
    InvalidValue { field: &'static str, value: String },
    #[error("field eventTime {value:?} is not an ISO-8601 timestamp")]
    InvalidEventTime { value: String },
}
