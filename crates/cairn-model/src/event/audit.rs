//! Events that outside systems send with the CloudTrail Data API `PutAuditEvents` (spec/api.md §1.8, §2.10):
//! the checks of one audit event, the ActivityAuditLog record cairn stores for it, the per-event result
//! entries, and the whole-call checks that do not depend on the channel.
//!
//! Sources. The record shape and the `eventData` rules are AWS's "CloudTrail Lake integrations event schema"
//! (userguide/query-integration-event-schema.html): CloudTrail writes `eventVersion`, `eventCategory`
//! (`ActivityAuditLog`), `eventType` (`ActivityLog`), `eventID`, `eventTime`, `awsRegion` (where PutAuditEvents
//! was called), `recipientAccountId`, `metadata{ingestionTime, channelARN}` and the caller's `eventData`, in that
//! order (`addendum` is only for events CloudTrail re-processes, which cairn never does). The `AuditEvent`
//! rules (`id` 1–128 of `[-_A-Za-z0-9]`, `eventDataChecksum` = base64 of the SHA-256 of `eventData`) are the
//! cloudtrail-data API reference; the per-event error codes are its `ResultErrorEntry.errorCode` list.
//! Inferences, not documented by AWS: the value of `eventVersion`, which rule `InvalidEventSource` enforces
//! (cairn: an `eventSource` in AWS's own `*.amazonaws.com` namespace), and the error code of each rule.
//!
//! The stored `eventData` is the caller's text unchanged (only JSON whitespace around it is dropped), so
//! `eventjson` in the Lake shows exactly what was sent.

use std::collections::HashSet;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{EventRecord, MAX_EVENT_BYTES};
use crate::error::truncate_for_message;

/// `eventCategory` of every record made from an audit event.
pub const EVENT_CATEGORY: &str = "ActivityAuditLog";

/// `eventType` of every record made from an audit event.
pub const EVENT_TYPE: &str = "ActivityLog";

/// The `eventVersion` cairn writes on audit event records (AWS documents the member, not its value).
pub const AUDIT_EVENT_VERSION: &str = "1.0";

/// At most this many events per PutAuditEvents call.
pub const MAX_EVENTS_PER_CALL: usize = 100;

/// At most this many bytes of events per call (ids, `eventData` and checksums together): AWS's "1 MB".
pub const MAX_CALL_BYTES: usize = 1024 * 1024;

/// `id` is 1 to this many characters.
pub const MAX_ID_CHARS: usize = 128;

/// `requestParameters` and `responseElements`, as compact JSON, are at most this many bytes (AWS's "100 kB").
pub const MAX_PAYLOAD_JSON_BYTES: usize = 100 * 1024;

/// `additionalEventData`, as compact JSON, is at most this many bytes (AWS's "28 kB").
pub const MAX_ADDITIONAL_DATA_JSON_BYTES: usize = 28 * 1024;

/// One entry of `auditEvents`, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditEventInput<'a> {
    /// The caller's original event id.
    pub id: &'a str,
    /// The event's JSON text (a JSON string member on the wire).
    pub event_data: &'a str,
    pub event_data_checksum: Option<&'a str>,
}

/// What the channel and the call add to an accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestContext<'a> {
    /// The account that owns the channel; `eventData.recipientAccountId` must be this account.
    pub owner_account_id: &'a str,
    /// The region PutAuditEvents was called in (`awsRegion`).
    pub region: &'a str,
    /// `metadata.channelARN`.
    pub channel_arn: &'a str,
    /// `metadata.ingestionTime`, written to whole seconds.
    pub ingestion_time: Timestamp,
    /// The `eventID` CloudTrail assigns (a UUID), chosen by the caller.
    pub event_id: &'a str,
}

/// An event that passed every check: the caller's id and the record to store.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedAuditEvent {
    pub id: String,
    /// `record.text()` is the stored JSON; `record.event_source` / `event_name` come from `eventData`.
    pub record: EventRecord,
}

impl AcceptedAuditEvent {
    /// The `successful[]` entry for this event.
    pub fn result_entry(&self) -> AuditEventResultEntry {
        AuditEventResultEntry { id: self.id.clone(), event_id: self.record.event_id.clone() }
    }
}

/// The per-event `errorCode`s of PutAuditEvents (`ResultErrorEntry.errorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AuditErrorCode {
    FieldTooLong,
    FieldNotFound,
    InvalidChecksum,
    InvalidData,
    InvalidRecipient,
    InvalidEventSource,
    AccountNotSubscribed,
    Throttling,
    InternalFailure,
}

impl AuditErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditErrorCode::FieldTooLong => "FieldTooLong",
            AuditErrorCode::FieldNotFound => "FieldNotFound",
            AuditErrorCode::InvalidChecksum => "InvalidChecksum",
            AuditErrorCode::InvalidData => "InvalidData",
            AuditErrorCode::InvalidRecipient => "InvalidRecipient",
            AuditErrorCode::InvalidEventSource => "InvalidEventSource",
            AuditErrorCode::AccountNotSubscribed => "AccountNotSubscribed",
            AuditErrorCode::Throttling => "Throttling",
            AuditErrorCode::InternalFailure => "InternalFailure",
        }
    }
}

/// Why one audit event was not accepted. The message is the `errorMessage`; it names the field and the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditEventError {
    #[error("required field {field} was not found")]
    MissingField { field: &'static str },
    #[error("required field {field} is empty")]
    EmptyField { field: &'static str },
    #[error("field {field} is {length} {unit} long, more than the limit of {max} {unit}")]
    TooLong { field: &'static str, length: usize, max: usize, unit: &'static str },
    #[error("the stored event would be {size} bytes, more than the limit of {max} bytes; shorten eventData")]
    RecordTooLarge { size: usize, max: usize },
    #[error("id {value:?} may contain only letters, digits, '-' and '_'")]
    InvalidId { value: String },
    #[error("eventDataChecksum {given:?} does not match the base64-encoded SHA-256 digest of eventData")]
    ChecksumMismatch { given: String },
    #[error("eventData is not valid JSON: {reason}")]
    NotJson { reason: String },
    #[error("field {field} must be {expected}, found {found}")]
    WrongType { field: &'static str, expected: &'static str, found: &'static str },
    #[error("field eventData.eventTime {value:?} is not a UTC time in the format yyyy-MM-ddTHH:mm:ssZ")]
    InvalidEventTime { value: String },
    #[error("field eventData.sourceIPAddress {value:?} is not an IPv4 or IPv6 address")]
    InvalidIpAddress { value: String },
    #[error("field eventData.recipientAccountId {given:?} is not the account that owns the channel ({owner})")]
    WrongRecipient { given: String, owner: String },
    #[error("field eventData.eventSource {value:?} is in the amazonaws.com namespace, which is reserved for AWS")]
    ReservedEventSource { value: String },
    /// The stored record was refused by [`EventRecord::parse`] (e.g. `eventName` twice in `eventData`).
    #[error("eventData is not accepted: {reason}")]
    UnreadableRecord { reason: String },
}

impl AuditEventError {
    pub fn error_code(&self) -> AuditErrorCode {
        match self {
            AuditEventError::MissingField { .. } | AuditEventError::EmptyField { .. } => AuditErrorCode::FieldNotFound,
            AuditEventError::TooLong { .. } | AuditEventError::RecordTooLarge { .. } => AuditErrorCode::FieldTooLong,
            AuditEventError::ChecksumMismatch { .. } => AuditErrorCode::InvalidChecksum,
            AuditEventError::InvalidId { .. }
            | AuditEventError::NotJson { .. }
            | AuditEventError::WrongType { .. }
            | AuditEventError::InvalidEventTime { .. }
            | AuditEventError::InvalidIpAddress { .. }
            | AuditEventError::UnreadableRecord { .. } => AuditErrorCode::InvalidData,
            AuditEventError::WrongRecipient { .. } => AuditErrorCode::InvalidRecipient,
            AuditEventError::ReservedEventSource { .. } => AuditErrorCode::InvalidEventSource,
        }
    }

    /// The `failed[]` entry for the event with this `id`.
    pub fn result_entry(&self, id: &str) -> ResultErrorEntry {
        ResultErrorEntry { id: id.to_owned(), error_code: self.error_code(), error_message: self.to_string() }
    }
}

/// One `successful[]` entry: `{"id", "eventID"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEventResultEntry {
    pub id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
}

/// One `failed[]` entry: `{"id", "errorCode", "errorMessage"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultErrorEntry {
    pub id: String,
    pub error_code: AuditErrorCode,
    pub error_message: String,
}

/// The PutAuditEvents response body; both lists are always present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PutAuditEventsOutput {
    pub successful: Vec<AuditEventResultEntry>,
    pub failed: Vec<ResultErrorEntry>,
}

/// Why a whole PutAuditEvents call is refused before any event is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("auditEvents must contain at least 1 event")]
    NoEvents,
    #[error("auditEvents has {count} events, more than the limit of {max}")]
    TooManyEvents { count: usize, max: usize },
    #[error("auditEvents is {size} bytes, more than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("Duplicated audit event id: {id}")]
    DuplicatedAuditEventId { id: String },
}

impl CallError {
    /// The error type on the wire: `DuplicatedAuditEventId` is in the cloudtrail-data model; the limits are
    /// constraint violations, which restJson1 services report as `ValidationException`.
    pub fn error_code(&self) -> &'static str {
        match self {
            CallError::DuplicatedAuditEventId { .. } => "DuplicatedAuditEventId",
            CallError::NoEvents | CallError::TooManyEvents { .. } | CallError::TooLarge { .. } => "ValidationException",
        }
    }
}

/// The checks of a whole call that do not depend on the channel: 1 to 100 events, at most 1 MB of ids,
/// `eventData` and checksums together, and no `id` twice (the first repeated id is named).
pub fn check_call(events: &[AuditEventInput<'_>]) -> Result<(), CallError> {
    if events.is_empty() {
        return Err(CallError::NoEvents);
    }
    if events.len() > MAX_EVENTS_PER_CALL {
        return Err(CallError::TooManyEvents { count: events.len(), max: MAX_EVENTS_PER_CALL });
    }
    let size: usize =
        events.iter().map(|e| e.id.len() + e.event_data.len() + e.event_data_checksum.map_or(0, str::len)).sum();
    if size > MAX_CALL_BYTES {
        return Err(CallError::TooLarge { size, max: MAX_CALL_BYTES });
    }
    let mut seen = HashSet::with_capacity(events.len());
    for event in events {
        if !seen.insert(event.id) {
            return Err(CallError::DuplicatedAuditEventId { id: truncate_for_message(event.id) });
        }
    }
    Ok(())
}

/// `id`: 1 to 128 characters of `[-_A-Za-z0-9]`.
pub fn validate_id(id: &str) -> Result<(), AuditEventError> {
    if id.is_empty() {
        return Err(AuditEventError::MissingField { field: "id" });
    }
    let length = id.chars().count();
    if length > MAX_ID_CHARS {
        return Err(AuditEventError::TooLong { field: "id", length, max: MAX_ID_CHARS, unit: "characters" });
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(AuditEventError::InvalidId { value: truncate_for_message(id) });
    }
    Ok(())
}

/// `eventDataChecksum`: the base64 of the SHA-256 of the `eventData` bytes (surrounding whitespace, as a
/// shell pipeline may leave, is ignored).
pub fn verify_checksum(event_data: &str, checksum: &str) -> Result<(), AuditEventError> {
    let expected = BASE64.encode(Sha256::digest(event_data.as_bytes()));
    if checksum.trim() == expected {
        Ok(())
    } else {
        Err(AuditEventError::ChecksumMismatch { given: truncate_for_message(checksum) })
    }
}

/// Checks one audit event against every rule of the integration event schema and builds its stored record.
pub fn validate(
    event: &AuditEventInput<'_>,
    context: &IngestContext<'_>,
) -> Result<AcceptedAuditEvent, AuditEventError> {
    validate_id(event.id)?;
    if let Some(checksum) = event.event_data_checksum {
        verify_checksum(event.event_data, checksum)?;
    }
    let data = match serde_json::from_str::<Value>(event.event_data) {
        Ok(Value::Object(data)) => data,
        Ok(other) => {
            return Err(AuditEventError::WrongType {
                field: "eventData",
                expected: "a JSON object",
                found: kind(&other),
            });
        }
        Err(e) => return Err(AuditEventError::NotJson { reason: e.to_string() }),
    };
    let event_time = check_event_data(&data, context)?;
    let text = stored_record(event.event_data, &event_time, context)?;
    let record =
        EventRecord::parse(text.as_bytes()).map_err(|e| AuditEventError::UnreadableRecord { reason: e.to_string() })?;
    Ok(AcceptedAuditEvent { id: event.id.to_owned(), record })
}

/// The field rules, in the schema's order; returns `eventTime` normalised to `yyyy-MM-ddTHH:mm:ssZ`.
fn check_event_data(data: &Map<String, Value>, context: &IngestContext<'_>) -> Result<String, AuditEventError> {
    required_text(data, "version", "eventData.version", 256)?;
    let identity = match data.get("userIdentity") {
        None | Some(Value::Null) => return Err(AuditEventError::MissingField { field: "eventData.userIdentity" }),
        Some(Value::Object(identity)) => identity,
        Some(other) => {
            return Err(AuditEventError::WrongType {
                field: "eventData.userIdentity",
                expected: "a JSON object",
                found: kind(other),
            });
        }
    };
    required_text(identity, "type", "eventData.userIdentity.type", 128)?;
    required_text(identity, "principalId", "eventData.userIdentity.principalId", 1024)?;
    optional_object(identity, "details", "eventData.userIdentity.details", None)?;
    optional_text(data, "userAgent", "eventData.userAgent", 1024)?;
    let source = required_text(data, "eventSource", "eventData.eventSource", 1024)?;
    if is_aws_namespace(source) {
        return Err(AuditEventError::ReservedEventSource { value: truncate_for_message(source) });
    }
    required_text(data, "eventName", "eventData.eventName", 1024)?;
    let time = required_text(data, "eventTime", "eventData.eventTime", usize::MAX)?;
    let event_time = normalised_event_time(time)
        .ok_or_else(|| AuditEventError::InvalidEventTime { value: truncate_for_message(time) })?;
    required_text(data, "UID", "eventData.UID", 1024)?;
    optional_object(data, "requestParameters", "eventData.requestParameters", Some(MAX_PAYLOAD_JSON_BYTES))?;
    optional_object(data, "responseElements", "eventData.responseElements", Some(MAX_PAYLOAD_JSON_BYTES))?;
    optional_text(data, "errorCode", "eventData.errorCode", 256)?;
    optional_text(data, "errorMessage", "eventData.errorMessage", 256)?;
    if let Some(address) = optional_text(data, "sourceIPAddress", "eventData.sourceIPAddress", usize::MAX)?
        && address.parse::<IpAddr>().is_err()
    {
        return Err(AuditEventError::InvalidIpAddress { value: truncate_for_message(address) });
    }
    let recipient = required_text(data, "recipientAccountId", "eventData.recipientAccountId", usize::MAX)?;
    if recipient != context.owner_account_id {
        return Err(AuditEventError::WrongRecipient {
            given: truncate_for_message(recipient),
            owner: context.owner_account_id.to_owned(),
        });
    }
    optional_object(
        data,
        "additionalEventData",
        "eventData.additionalEventData",
        Some(MAX_ADDITIONAL_DATA_JSON_BYTES),
    )?;
    Ok(event_time)
}

/// The members CloudTrail adds, in the documented order; `eventData` is appended as received.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredHeader<'a> {
    event_version: &'a str,
    event_category: &'a str,
    event_type: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    event_time: &'a str,
    aws_region: &'a str,
    recipient_account_id: &'a str,
    metadata: Metadata<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata<'a> {
    ingestion_time: &'a str,
    #[serde(rename = "channelARN")]
    channel_arn: &'a str,
}

fn stored_record(event_data: &str, event_time: &str, context: &IngestContext<'_>) -> Result<String, AuditEventError> {
    let ingestion_time = context.ingestion_time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let header = StoredHeader {
        event_version: AUDIT_EVENT_VERSION,
        event_category: EVENT_CATEGORY,
        event_type: EVENT_TYPE,
        event_id: context.event_id,
        event_time,
        aws_region: context.region,
        recipient_account_id: context.owner_account_id,
        metadata: Metadata { ingestion_time: &ingestion_time, channel_arn: context.channel_arn },
    };
    let mut text =
        serde_json::to_string(&header).map_err(|e| AuditEventError::UnreadableRecord { reason: e.to_string() })?;
    // The header serialises to an object, so it ends with its closing brace; eventData goes before it.
    text.pop();
    text.push_str(",\"eventData\":");
    text.push_str(event_data.trim_matches([' ', '\t', '\n', '\r']));
    text.push('}');
    if text.len() > MAX_EVENT_BYTES {
        return Err(AuditEventError::RecordTooLarge { size: text.len(), max: MAX_EVENT_BYTES });
    }
    Ok(text)
}

/// `yyyy-MM-ddTHH:mm:ss` in UTC, with the trailing `Z` (as CloudTrail writes times) or without it (as AWS's
/// schema table spells the format), normalised to carry the `Z`. Fractions and offsets are refused.
fn normalised_event_time(value: &str) -> Option<String> {
    let body = value.strip_suffix('Z').unwrap_or(value);
    let shaped = body.len() == 19
        && body.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    // A calendar check: month 13 or February 30 are shaped right but not times.
    let civil = body.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
    Some(format!("{body}Z"))
}

fn is_aws_namespace(source: &str) -> bool {
    const SUFFIX: &str = ".amazonaws.com";
    source.len() >= SUFFIX.len()
        && source.get(source.len() - SUFFIX.len()..).is_some_and(|tail| tail.eq_ignore_ascii_case(SUFFIX))
}

fn required_text<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
    max_chars: usize,
) -> Result<&'v str, AuditEventError> {
    match optional_text(object, key, field, max_chars)? {
        None => Err(AuditEventError::MissingField { field }),
        Some("") => Err(AuditEventError::EmptyField { field }),
        Some(text) => Ok(text),
    }
}

/// A string member, or `None` when absent or `null`; lengths count characters.
fn optional_text<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    field: &'static str,
    max_chars: usize,
) -> Result<Option<&'v str>, AuditEventError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            if max_chars != usize::MAX {
                let length = text.chars().count();
                if length > max_chars {
                    return Err(AuditEventError::TooLong { field, length, max: max_chars, unit: "characters" });
                }
            }
            Ok(Some(text))
        }
        Some(other) => Err(AuditEventError::WrongType { field, expected: "a string", found: kind(other) }),
    }
}

/// A JSON object member (absent or `null` is fine), at most `max_bytes` as compact JSON.
fn optional_object(
    object: &Map<String, Value>,
    key: &str,
    field: &'static str,
    max_bytes: Option<usize>,
) -> Result<(), AuditEventError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(value @ Value::Object(_)) => match max_bytes {
            Some(max) => {
                let length = compact_json_len(value);
                if length > max {
                    return Err(AuditEventError::TooLong { field, length, max, unit: "bytes" });
                }
                Ok(())
            }
            None => Ok(()),
        },
        Some(other) => Err(AuditEventError::WrongType { field, expected: "a JSON object", found: kind(other) }),
    }
}

fn compact_json_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value to a writer that never fails cannot fail; if it did, count it as too large.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests;
