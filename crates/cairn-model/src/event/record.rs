//! [`EventRecord`]: an ingested or stored record, its exact text plus the typed fields indexing and selection need.

use std::ops::Deref;
use std::sync::Arc;

use jiff::Timestamp;

use super::de::{Kind, Loose, LooseSeq, RawIdentity, RawRecord, RawResource, Scalar};
use super::{EventError, MAX_EVENT_BYTES};
use crate::error::truncate_for_message;

/// A CloudTrail record: the JSON text exactly as received, and the fields read from it.
///
/// Dereferences to [`EventFields`], so `record.event_name` and `record.username()` work directly.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    text: Arc<str>,
    fields: EventFields,
}

/// The fields of a record that cairn indexes, filters and selects on. Unknown fields are not read (they are
/// still in [`EventRecord::text`]). Optional JSON fields that are absent or `null` are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFields {
    pub event_version: String,
    pub event_id: String,
    pub event_time: Timestamp,
    /// For Insights records (no top-level `eventSource`), `insightDetails.eventSource`; for ActivityAuditLog
    /// records (PutAuditEvents), `eventData.eventSource`.
    pub event_source: String,
    /// For Insights records (no top-level `eventName`), `insightDetails.eventName`; for ActivityAuditLog
    /// records, `eventData.eventName`.
    pub event_name: String,
    pub aws_region: String,
    /// `eventType`; absent before eventVersion 1.02.
    pub event_type: Option<String>,
    /// `eventCategory`, or when absent (before 1.07): `Insight` for `AwsCloudTrailInsight`, `NetworkActivity`
    /// for `AwsVpceEvent`, `ActivityAuditLog` for `ActivityLog`, `Data` when `managementEvent` is `false`, else
    /// `Management`.
    pub event_category: String,
    /// `readOnly`; the strings `"true"` / `"false"` (any case) are accepted too.
    pub read_only: Option<bool>,
    /// `managementEvent`; the strings `"true"` / `"false"` (any case) are accepted too.
    pub management_event: Option<bool>,
    pub error_code: Option<String>,
    /// `userAgent` (Insights attributes call rates to it).
    pub user_agent: Option<String>,
    /// `insightDetails.insightType` of an Insights record.
    pub insight_type: Option<String>,
    /// `insightDetails.insightSource` of an Insights record on data events: the trail whose data
    /// events it is about.
    pub insight_trail_arn: Option<String>,
    pub recipient_account_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    /// `sessionCredentialFromConsole` (AWS writes the string `"true"`; a JSON boolean is accepted too).
    pub session_credential_from_console: Option<bool>,
    /// Empty when `userIdentity` is absent or `null` (Insights records).
    pub user_identity: UserIdentity,
    /// Empty when `resources` is absent or `null`.
    pub resources: Vec<Resource>,
}

/// The `userIdentity` fields cairn reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIdentity {
    /// `type`: `Root`, `IAMUser`, `AssumedRole`, …; absent in AwsServiceEvent records.
    pub identity_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    /// `sessionContext.sessionIssuer.userName` (the role name of an assumed-role session).
    pub session_issuer_user_name: Option<String>,
}

/// One element of `resources[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    /// `type`, e.g. `AWS::S3::Bucket`.
    pub resource_type: Option<String>,
    /// `ARN`; when absent, a lower-case `arn` key, then `ARNPrefix` (older S3 data events).
    pub arn: Option<String>,
    pub account_id: Option<String>,
}

impl EventRecord {
    /// Reads one record. `bytes` is the record's JSON object; JSON whitespace around it is dropped and
    /// everything else is kept exactly. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<EventRecord, EventError> {
        let bytes = trim_json_whitespace(bytes);
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge { size: bytes.len(), max: MAX_EVENT_BYTES });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| EventError::NotUtf8)?;
        let fields = EventFields::from_text(text)?;
        Ok(EventRecord { text: Arc::from(text), fields })
    }

    /// The record exactly as received: LookupEvents' `CloudTrailEvent` and what log files contain.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The kept text, shared.
    pub fn shared_text(&self) -> &Arc<str> {
        &self.text
    }

    pub fn fields(&self) -> &EventFields {
        &self.fields
    }

    pub fn into_parts(self) -> (Arc<str>, EventFields) {
        (self.text, self.fields)
    }
}

impl Deref for EventRecord {
    type Target = EventFields;

    fn deref(&self) -> &EventFields {
        &self.fields
    }
}

impl EventFields {
    fn from_text(text: &str) -> Result<EventFields, EventError> {
        if !text.starts_with('{') {
            return Err(match serde_json::from_str::<Scalar<'_>>(text) {
                Ok(value) => EventError::NotAnObject { found: kind_of(&value).as_str() },
                Err(e) => EventError::NotJson { reason: e.to_string() },
            });
        }
        let raw = match serde_json::from_str::<Loose<RawRecord<'_>>>(text) {
            Ok(Loose::Obj(raw)) => raw,
            Ok(Loose::Other(kind)) => return Err(EventError::NotAnObject { found: kind.as_str() }),
            Err(e) => return Err(EventError::NotJson { reason: e.to_string() }),
        };
        EventFields::from_raw(raw)
    }

    fn from_raw(raw: RawRecord<'_>) -> Result<EventFields, EventError> {
        if let Some(field) = raw.duplicate {
            return Err(EventError::DuplicateField { field });
        }
        let event_version = required(raw.event_version, "eventVersion")?;
        let (insight_source, insight_name, insight_type, insight_trail) = match raw.insight_details {
            Some(Loose::Obj(details)) => {
                if let Some(field) = details.duplicate {
                    return Err(EventError::DuplicateField { field });
                }
                (details.event_source, details.event_name, details.insight_type, details.insight_source)
            }
            Some(Loose::Other(_)) | None => (None, None, None, None),
        };
        let (data_source, data_name) = match raw.event_data {
            Some(Loose::Obj(data)) => {
                if let Some(field) = data.duplicate {
                    return Err(EventError::DuplicateField { field });
                }
                (data.event_source, data.event_name)
            }
            Some(Loose::Other(_)) | None => (None, None),
        };
        let event_source = match raw.event_source {
            None if insight_source.is_some() => required(insight_source, "insightDetails.eventSource")?,
            None if data_source.is_some() => required(data_source, "eventData.eventSource")?,
            value => required(value, "eventSource")?,
        };
        let event_name = match raw.event_name {
            None if insight_name.is_some() => required(insight_name, "insightDetails.eventName")?,
            None if data_name.is_some() => required(data_name, "eventData.eventName")?,
            value => required(value, "eventName")?,
        };
        let event_id = required(raw.event_id, "eventID")?;
        let event_time = match raw.event_time {
            None => return Err(EventError::MissingField { field: "eventTime" }),
            Some(Scalar::Str(s)) => parse_event_time(&s)?,
            Some(other) => return Err(wrong_type("eventTime", "a string", &other)),
        };
        let aws_region = required(raw.aws_region, "awsRegion")?;
        let event_type = optional(raw.event_type, "eventType")?;
        let read_only = optional_bool(raw.read_only, "readOnly")?;
        let management_event = optional_bool(raw.management_event, "managementEvent")?;
        let event_category = match optional(raw.event_category, "eventCategory")? {
            Some(category) => category,
            None => default_category(event_type.as_deref(), management_event).to_owned(),
        };
        Ok(EventFields {
            event_version,
            event_id,
            event_time,
            event_source,
            event_name,
            aws_region,
            event_type,
            event_category,
            read_only,
            management_event,
            error_code: optional(raw.error_code, "errorCode")?,
            user_agent: optional(raw.user_agent, "userAgent")?,
            insight_type: optional(insight_type, "insightDetails.insightType")?,
            insight_trail_arn: optional(insight_trail, "insightDetails.insightSource")?,
            recipient_account_id: optional(raw.recipient_account_id, "recipientAccountId")?,
            vpc_endpoint_id: optional(raw.vpc_endpoint_id, "vpcEndpointId")?,
            session_credential_from_console: optional_bool(
                raw.session_credential_from_console,
                "sessionCredentialFromConsole",
            )?,
            user_identity: user_identity(raw.user_identity)?,
            resources: resources(raw.resources)?,
        })
    }
}

fn user_identity(raw: Option<Loose<RawIdentity<'_>>>) -> Result<UserIdentity, EventError> {
    let raw = match raw {
        None | Some(Loose::Other(Kind::Null)) => return Ok(UserIdentity::default()),
        Some(Loose::Other(kind)) => {
            return Err(EventError::WrongType { field: "userIdentity", expected: "an object", found: kind.as_str() });
        }
        Some(Loose::Obj(raw)) => raw,
    };
    if let Some(field) = raw.duplicate {
        return Err(EventError::DuplicateField { field });
    }
    let session_issuer_user_name = match raw.session_context {
        None | Some(Loose::Other(Kind::Null)) => None,
        Some(Loose::Other(kind)) => {
            return Err(EventError::WrongType {
                field: "userIdentity.sessionContext",
                expected: "an object",
                found: kind.as_str(),
            });
        }
        Some(Loose::Obj(context)) => {
            if let Some(field) = context.duplicate {
                return Err(EventError::DuplicateField { field });
            }
            match context.session_issuer {
                None | Some(Loose::Other(Kind::Null)) => None,
                Some(Loose::Other(kind)) => {
                    return Err(EventError::WrongType {
                        field: "userIdentity.sessionContext.sessionIssuer",
                        expected: "an object",
                        found: kind.as_str(),
                    });
                }
                Some(Loose::Obj(issuer)) => {
                    if let Some(field) = issuer.duplicate {
                        return Err(EventError::DuplicateField { field });
                    }
                    optional(issuer.user_name, "userIdentity.sessionContext.sessionIssuer.userName")?
                }
            }
        }
    };
    Ok(UserIdentity {
        identity_type: optional(raw.identity_type, "userIdentity.type")?,
        principal_id: optional(raw.principal_id, "userIdentity.principalId")?,
        arn: optional(raw.arn, "userIdentity.arn")?,
        account_id: optional(raw.account_id, "userIdentity.accountId")?,
        access_key_id: optional(raw.access_key_id, "userIdentity.accessKeyId")?,
        user_name: optional(raw.user_name, "userIdentity.userName")?,
        invoked_by: optional(raw.invoked_by, "userIdentity.invokedBy")?,
        session_issuer_user_name,
    })
}

fn resources(raw: Option<LooseSeq<Loose<RawResource<'_>>>>) -> Result<Vec<Resource>, EventError> {
    let items = match raw {
        None | Some(LooseSeq::Other(Kind::Null)) => return Ok(Vec::new()),
        Some(LooseSeq::Other(kind)) => {
            return Err(EventError::WrongType { field: "resources", expected: "an array", found: kind.as_str() });
        }
        Some(LooseSeq::Seq(items)) => items,
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let raw = match item {
            Loose::Obj(raw) => raw,
            Loose::Other(kind) => {
                return Err(EventError::WrongType {
                    field: "resources[]",
                    expected: "an object",
                    found: kind.as_str(),
                });
            }
        };
        if let Some(field) = raw.duplicate {
            return Err(EventError::DuplicateField { field });
        }
        let arn = match optional(raw.arn_upper, "resources[].ARN")? {
            Some(arn) => Some(arn),
            None => match optional(raw.arn_lower, "resources[].arn")? {
                Some(arn) => Some(arn),
                None => optional(raw.arn_prefix, "resources[].ARNPrefix")?,
            },
        };
        out.push(Resource {
            resource_type: optional(raw.resource_type, "resources[].type")?,
            arn,
            account_id: optional(raw.account_id, "resources[].accountId")?,
        });
    }
    Ok(out)
}

/// What `eventCategory` would have been, for records written before it existed (eventVersion < 1.07).
fn default_category(event_type: Option<&str>, management_event: Option<bool>) -> &'static str {
    match (event_type, management_event) {
        (Some("AwsCloudTrailInsight"), _) => "Insight",
        (Some("AwsVpceEvent"), _) => "NetworkActivity",
        (Some("ActivityLog"), _) => "ActivityAuditLog",
        (_, Some(false)) => "Data",
        _ => "Management",
    }
}

/// Reads `eventTime`: AWS writes `YYYY-MM-DDTHH:MM:SSZ`; fractional seconds, numeric offsets, a space instead of
/// `T`, and (as some exporters write) no offset at all, which is taken as UTC, are accepted.
pub fn parse_event_time(value: &str) -> Result<Timestamp, EventError> {
    if let Ok(ts) = value.parse::<Timestamp>() {
        return Ok(ts);
    }
    let has_time = matches!(value.as_bytes().get(10), Some(b'T' | b't' | b' '));
    if has_time && let Ok(civil) = value.parse::<jiff::civil::DateTime>() {
        // A local time without an offset only fails to convert at the edges of jiff's range.
        if let Ok(ts) = jiff::tz::TimeZone::UTC.to_timestamp(civil) {
            return Ok(ts);
        }
    }
    Err(EventError::InvalidEventTime { value: truncate_for_message(value) })
}

fn required(value: Option<Scalar<'_>>, field: &'static str) -> Result<String, EventError> {
    match value {
        None => Err(EventError::MissingField { field }),
        Some(Scalar::Str(s)) if s.is_empty() => Err(EventError::EmptyField { field }),
        Some(Scalar::Str(s)) => Ok(s.into_owned()),
        Some(other) => Err(wrong_type(field, "a string", &other)),
    }
}

fn optional(value: Option<Scalar<'_>>, field: &'static str) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Scalar::Other(Kind::Null)) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s.into_owned())),
        Some(other) => Err(wrong_type(field, "a string", &other)),
    }
}

fn optional_bool(value: Option<Scalar<'_>>, field: &'static str) -> Result<Option<bool>, EventError> {
    match value {
        None | Some(Scalar::Other(Kind::Null)) => Ok(None),
        Some(Scalar::Bool(b)) => Ok(Some(b)),
        Some(Scalar::Str(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Scalar::Str(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(Scalar::Str(s)) => Err(EventError::InvalidValue { field, value: truncate_for_message(&s) }),
        Some(other) => Err(wrong_type(field, "a boolean", &other)),
    }
}

fn wrong_type(field: &'static str, expected: &'static str, found: &Scalar<'_>) -> EventError {
    EventError::WrongType { field, expected, found: kind_of(found).as_str() }
}

fn kind_of(value: &Scalar<'_>) -> Kind {
    match value {
        Scalar::Str(_) => Kind::String,
        Scalar::Bool(_) => Kind::Bool,
        Scalar::Other(kind) => *kind,
    }
}

fn trim_json_whitespace(mut bytes: &[u8]) -> &[u8] {
    const WS: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];
    while let [first, rest @ ..] = bytes
        && WS.contains(first)
    {
        bytes = rest;
    }
    while let [rest @ .., last] = bytes
        && WS.contains(last)
    {
        bytes = rest;
    }
    bytes
}
