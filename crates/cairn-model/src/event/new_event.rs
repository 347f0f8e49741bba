//! [`NewEvent`]: the `AwsApiCall` record cairn writes for each API call it serves (spec/formats.md §1.1–1.2).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;

use super::record::EventRecord;
use super::{EVENT_VERSION, EventError, MAX_EVENT_BYTES, MAX_PAYLOAD_BYTES, MAX_SHORT_FIELD_BYTES};
use crate::identity::Principal;

/// A management event for one API call. Build it with [`NewEvent::new`], set what applies, then
/// [`NewEvent::to_json`]. Size rules are applied when writing: `userAgent`, `errorCode`, `errorMessage` and
/// `requestID` are cut to 1 KB at a character boundary, and `requestParameters` / `responseElements` larger than
/// 100 KB are written as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub principal: Principal,
    /// Written to whole seconds (`YYYY-MM-DDTHH:MM:SSZ`); [`NewEvent::new`] drops the fraction already.
    pub event_time: Timestamp,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    pub source_ip_address: String,
    /// Omitted when `None`.
    pub user_agent: Option<String>,
    /// Omitted when `None`.
    pub error_code: Option<String>,
    /// Omitted when `None`.
    pub error_message: Option<String>,
    /// Always written; `null` when `None`.
    pub request_parameters: Option<serde_json::Value>,
    /// Always written; `null` when `None` (read-only calls).
    pub response_elements: Option<serde_json::Value>,
    /// Omitted when `None` (console sign-in events carry none).
    pub additional_event_data: Option<serde_json::Value>,
    /// Omitted when `None`, as in console sign-in events.
    pub request_id: Option<String>,
    /// A lowercase hyphenated UUID v4.
    pub event_id: String,
    pub read_only: bool,
    /// Omitted when empty.
    pub resources: Vec<NewResource>,
    pub recipient_account_id: String,
    pub event_type: EventType,
    /// Written as `"sessionCredentialFromConsole": "true"` for a call made from the console; omitted
    /// otherwise, as AWS does.
    pub session_credential_from_console: bool,
    /// Omitted when `None`.
    pub tls_details: Option<TlsDetails>,
}

/// `eventType` of the records cairn writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    AwsApiCall,
    AwsConsoleSignIn,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AwsApiCall => "AwsApiCall",
            EventType::AwsConsoleSignIn => "AwsConsoleSignIn",
        }
    }
}

/// How a console sign-in ended (`responseElements.ConsoleLogin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    Success,
    Failure,
}

/// One element of `resources[]`: `{"accountId"?, "type", "ARN"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewResource {
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    #[serde(rename = "ARN")]
    pub arn: String,
}

/// `tlsDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// `TLSv1.2` or `TLSv1.3`.
    pub tls_version: String,
    /// OpenSSL name for TLS 1.2, IANA name for TLS 1.3.
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

/// A fresh event (or request) ID: a lowercase hyphenated UUID v4.
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

impl NewEvent {
    /// A successful, mutating call with no parameters, no response and no resources; `event_id` and
    /// `request_id` are fresh UUIDs and `recipient_account_id` is the principal's account.
    pub fn new(
        principal: Principal,
        event_time: Timestamp,
        event_source: impl Into<String>,
        event_name: impl Into<String>,
        aws_region: impl Into<String>,
        source_ip_address: impl Into<String>,
    ) -> NewEvent {
        let recipient_account_id = principal.account_id.clone();
        NewEvent {
            principal,
            event_time: whole_seconds(event_time),
            event_source: event_source.into(),
            event_name: event_name.into(),
            aws_region: aws_region.into(),
            source_ip_address: source_ip_address.into(),
            user_agent: None,
            error_code: None,
            error_message: None,
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            request_id: Some(new_event_id()),
            event_id: new_event_id(),
            read_only: false,
            resources: Vec::new(),
            recipient_account_id,
            event_type: EventType::AwsApiCall,
            session_credential_from_console: false,
            tls_details: None,
        }
    }

    /// A `ConsoleLogin` sign-in event (formats.md §1.6 C): `signin.amazonaws.com`, no request ID, the
    /// outcome in `responseElements`, and `errorMessage: "Failed authentication"` when it failed.
    pub fn console_login(
        principal: Principal,
        event_time: Timestamp,
        aws_region: impl Into<String>,
        source_ip_address: impl Into<String>,
        outcome: SignIn,
        login_to: &str,
        mfa_used: bool,
    ) -> NewEvent {
        let mut event =
            NewEvent::new(principal, event_time, "signin.amazonaws.com", "ConsoleLogin", aws_region, source_ip_address);
        event.event_type = EventType::AwsConsoleSignIn;
        event.request_id = None;
        let outcome_text = match outcome {
            SignIn::Success => "Success",
            SignIn::Failure => "Failure",
        };
        event.response_elements = Some(serde_json::json!({ "ConsoleLogin": outcome_text }));
        if outcome == SignIn::Failure {
            event.error_message = Some("Failed authentication".to_owned());
        }
        event.additional_event_data = Some(serde_json::json!({
            "LoginTo": login_to,
            "MobileVersion": "No",
            "MFAUsed": if mfa_used { "Yes" } else { "No" },
        }));
        event
    }

    /// The record as compact JSON in AWS's key order, eventVersion `1.11`.
    ///
    /// If the record would still exceed 256 KB (only possible with very many resources or two payloads near
    /// 100 KB), `responseElements` and then `requestParameters` are written as `null`.
    pub fn to_json(&self) -> String {
        let mut request_parameters = payload(self.request_parameters.as_ref());
        let mut response_elements = payload(self.response_elements.as_ref());
        let mut json = self.write(request_parameters.as_deref(), response_elements.as_deref());
        if json.len() > MAX_EVENT_BYTES && response_elements.is_some() {
            response_elements = None;
            json = self.write(request_parameters.as_deref(), None);
        }
        if json.len() > MAX_EVENT_BYTES && request_parameters.is_some() {
            request_parameters = None;
            json = self.write(request_parameters.as_deref(), response_elements.as_deref());
        }
        json
    }

    /// [`NewEvent::to_json`] read back as a record.
    pub fn to_record(&self) -> Result<EventRecord, EventError> {
        EventRecord::parse(self.to_json().as_bytes())
    }

    fn write(&self, request_parameters: Option<&RawValue>, response_elements: Option<&RawValue>) -> String {
        let additional_event_data = payload(self.additional_event_data.as_ref());
        let p = &self.principal;
        let wire = Wire {
            event_version: EVENT_VERSION,
            user_identity: WireIdentity {
                identity_type: p.principal_type.as_str(),
                principal_id: &p.principal_id,
                arn: &p.arn,
                account_id: &p.account_id,
                access_key_id: &p.access_key_id,
                user_name: p.user_name.as_deref(),
            },
            event_time: whole_seconds(self.event_time).strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            event_source: &self.event_source,
            event_name: &self.event_name,
            aws_region: &self.aws_region,
            source_ip_address: &self.source_ip_address,
            user_agent: self.user_agent.as_deref().map(short),
            error_code: self.error_code.as_deref().map(short),
            error_message: self.error_message.as_deref().map(short),
            request_parameters,
            response_elements,
            additional_event_data: additional_event_data.as_deref(),
            request_id: self.request_id.as_deref().map(short),
            event_id: &self.event_id,
            read_only: self.read_only,
            resources: &self.resources,
            event_type: self.event_type.as_str(),
            management_event: true,
            recipient_account_id: &self.recipient_account_id,
            event_category: "Management",
            session_credential_from_console: self.session_credential_from_console.then_some("true"),
            tls_details: self.tls_details.as_ref(),
        };
        // Cannot fail: every field is a string, a boolean or already-serialised JSON.
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

/// The record's keys, declared in AWS's order (formats.md §1.1).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    event_version: &'static str,
    user_identity: WireIdentity<'a>,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    request_parameters: Option<&'a RawValue>,
    response_elements: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<&'a RawValue>,
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    resources: &'a [NewResource],
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_credential_from_console: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_details: Option<&'a TlsDetails>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireIdentity<'a> {
    #[serde(rename = "type")]
    identity_type: &'static str,
    // Empty only for a failed console sign-in, whose record names no principal ID or ARN.
    #[serde(skip_serializing_if = "str::is_empty")]
    principal_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    arn: &'a str,
    account_id: &'a str,
    access_key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
}

/// The serialised payload, or `None` (written as `null`) when absent or larger than 100 KB.
fn payload(value: Option<&serde_json::Value>) -> Option<Box<RawValue>> {
    let raw = serde_json::value::to_raw_value(value?).ok()?;
    (raw.get().len() <= MAX_PAYLOAD_BYTES).then_some(raw)
}

/// `value` cut to at most 1 KB, at a character boundary.
fn short(value: &str) -> &str {
    truncate_at_char_boundary(value, MAX_SHORT_FIELD_BYTES)
}

pub(crate) fn truncate_at_char_boundary(value: &str, max_bytes: usize) -> &str {
    value.get(..value.floor_char_boundary(max_bytes)).unwrap_or(value)
}

fn whole_seconds(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}
