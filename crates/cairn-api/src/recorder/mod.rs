//! The recorder: every call to cairn becomes an `AwsApiCall` event, durable
//! before the call is answered (write-ahead audit; issue 3).
//!
//! Handlers never see the recorder: `http` hands it what the call was (caller,
//! operation, input) and what came of it (output or error), and sends the
//! response only once [`record_call`] has returned `Ok`. Bucket calls and CloudTrail calls are
//! management events; S3 object calls are data events ([`record_data_call`], `data.rs`), which
//! Event history leaves out.

mod data;
mod parameters;

use cairn_model::event::{EventRecord, NewEvent, NewResource};
use cairn_model::{ApiError, ErrorCode};
use serde_json::Value;

use crate::caller::Caller;
use crate::state::AppState;

pub(crate) use data::DataEvent;
pub(crate) use parameters::recorded_form;

/// What one call was and what came of it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) caller: &'a Caller,
    /// `cloudtrail.amazonaws.com`, `s3.amazonaws.com`.
    pub(crate) event_source: &'static str,
    pub(crate) operation: &'a str,
    /// The request in its recorded form (lowerCamel members, secrets hidden); `None` records `null`.
    pub(crate) request_parameters: Option<Value>,
    /// The response in its recorded form; `None` records `null` (read-only calls, errors, empty outputs).
    pub(crate) response_elements: Option<Value>,
    /// `(errorCode, errorMessage)` of a failed call.
    pub(crate) error: Option<(String, String)>,
    pub(crate) read_only: bool,
    pub(crate) resources: Vec<NewResource>,
    /// Made from the web console (`sessionCredentialFromConsole: "true"`).
    pub(crate) from_console: bool,
}

/// Appends the call's event durably; the caller must not answer if this fails.
pub(crate) async fn record_call(state: &AppState, call: Call<'_>) -> Result<(), ApiError> {
    let operation = call.operation;
    record_event(state, &new_event(state, call), operation).await
}

/// Appends `event` (of `operation`) durably; the caller must not answer if this fails.
pub(crate) async fn record_event(state: &AppState, event: &NewEvent, operation: &str) -> Result<(), ApiError> {
    let record = event.to_record().map_err(|error| unreadable(&error, operation))?;
    append(state, record, operation).await
}

/// Appends a data event for the call (`eventCategory: "Data"`, `managementEvent: false`) durably;
/// the caller must not answer if this fails.
pub(crate) async fn record_data_call(state: &AppState, call: Call<'_>, data: DataEvent) -> Result<(), ApiError> {
    let operation = call.operation;
    let json = new_event(state, call).to_json();
    let json = data::as_data_event(&json, &data).map_err(|error| unreadable(&error, operation))?;
    let record = EventRecord::parse(json.as_bytes()).map_err(|error| unreadable(&error, operation))?;
    append(state, record, operation).await
}

fn new_event(state: &AppState, call: Call<'_>) -> NewEvent {
    let caller = call.caller;
    let mut event = NewEvent::new(
        caller.principal.clone(),
        state.clock.now(),
        call.event_source,
        call.operation,
        caller.region.clone(),
        caller.source_ip.to_string(),
    );
    event.user_agent = caller.user_agent.clone();
    event.request_id = Some(caller.request_id.clone());
    event.request_parameters = call.request_parameters;
    event.response_elements = if call.read_only || call.error.is_some() { None } else { call.response_elements };
    if let Some((code, message)) = call.error {
        event.error_code = Some(code);
        event.error_message = Some(message);
    }
    event.read_only = call.read_only;
    event.resources = call.resources;
    event.session_credential_from_console = call.from_console;
    event
}

fn unreadable(error: &dyn std::fmt::Display, operation: &str) -> ApiError {
    tracing::error!(%error, operation, "cairn made an event it cannot read back");
    ApiError::internal()
}

async fn append(state: &AppState, record: EventRecord, operation: &str) -> Result<(), ApiError> {
    state.events.append_durable(vec![record]).await.map_err(|error| {
        tracing::error!(%error, operation, "cannot make the call's event durable; refusing the call");
        metrics::counter!("cairn_recorder_failures_total").increment(1);
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The call could not be recorded durably, so it was not answered. Retry later.",
        )
    })?;
    Ok(())
}

/// `value` if it is an object with members: an empty input or output is recorded as `null`.
pub(crate) fn non_empty(value: &serde_json::Value) -> Option<&serde_json::Value> {
    value.as_object().filter(|members| !members.is_empty()).map(|_| value)
}

/// Whether an operation only reads (`readOnly: true`, `responseElements: null`).
pub(crate) fn is_read_only(operation: &str) -> bool {
    ["Get", "Describe", "List", "Lookup", "Head", "Search"].iter().any(|prefix| operation.starts_with(prefix))
}

/// `resources[]` for a CloudTrail call that names a trail (its ARN, from the response when the
/// handler resolved it, else from the request) or an event data store or channel (from the
/// response). Lake operations name no trail, even when their input has a `Name`.
pub(crate) fn trail_resources(
    caller: &Caller,
    operation: &str,
    input: &Value,
    output: Option<&Value>,
) -> Vec<NewResource> {
    for (member, resource_type) in
        [("EventDataStoreArn", "AWS::CloudTrail::EventDataStore"), ("ChannelArn", "AWS::CloudTrail::Channel")]
    {
        if let Some(arn) = output.and_then(|o| o.get(member)).and_then(Value::as_str) {
            let account_id = cairn_model::arn::Arn::parse(arn).map(|a| a.account.to_owned());
            return vec![NewResource { account_id, resource_type: resource_type.to_owned(), arn: arn.to_owned() }];
        }
    }
    // Calls that answer `{}` (DeleteChannel, DeleteEventDataStore, …) name the resource in their input.
    for (member, kind, resource_type) in [
        ("EventDataStore", "eventdatastore", "AWS::CloudTrail::EventDataStore"),
        ("Channel", "channel", "AWS::CloudTrail::Channel"),
    ] {
        let Some(given) = input.get(member).and_then(Value::as_str).filter(|v| (3..=256).contains(&v.len())) else {
            continue;
        };
        let arn = if given.starts_with("arn:") {
            given.to_owned()
        } else {
            format!("arn:aws:cloudtrail:{}:{}:{kind}/{given}", caller.region, caller.account_id())
        };
        let account_id = cairn_model::arn::Arn::parse(&arn).map(|a| a.account.to_owned());
        return vec![NewResource { account_id, resource_type: resource_type.to_owned(), arn }];
    }
    let lake = ["EventDataStore", "Dashboard", "Query", "Queries", "Channel", "Import"];
    if lake.iter().any(|word| operation.contains(word)) {
        return Vec::new();
    }
    let from_output = output.and_then(|o| o.get("TrailARN")).and_then(Value::as_str).map(str::to_owned);
    let from_input = ["Name", "TrailName", "ResourceId"]
        .iter()
        .find_map(|member| input.get(*member).and_then(Value::as_str))
        .filter(|name| !name.is_empty() && name.len() <= 2048)
        .map(|name| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                format!("arn:aws:cloudtrail:{}:{}:trail/{name}", caller.region, caller.account_id())
            }
        });
    let Some(arn) = from_output.or(from_input).filter(|arn| arn.contains(":trail/")) else {
        return Vec::new();
    };
    let account_id = cairn_model::arn::Arn::parse(&arn).map(|a| a.account.to_owned());
    vec![NewResource { account_id, resource_type: "AWS::CloudTrail::Trail".to_owned(), arn }]
}

/// `resources[]` for an S3 object call: the object (no account, as S3 writes it), then its bucket.
pub(crate) fn object_resources(caller: &Caller, bucket: &str, key: &str) -> Vec<NewResource> {
    let mut resources = vec![NewResource {
        account_id: None,
        resource_type: "AWS::S3::Object".to_owned(),
        arn: format!("arn:aws:s3:::{bucket}/{key}"),
    }];
    resources.extend(bucket_resources(caller, bucket));
    resources
}

/// `resources[]` for an S3 bucket call.
pub(crate) fn bucket_resources(caller: &Caller, bucket: &str) -> Vec<NewResource> {
    if bucket.is_empty() {
        return Vec::new();
    }
    vec![NewResource {
        account_id: Some(caller.account_id().to_owned()),
        resource_type: "AWS::S3::Bucket".to_owned(),
        arn: format!("arn:aws:s3:::{bucket}"),
    }]
}
