//! The CloudTrail Data service (`cloudtrail-data`, restJson1): `PutAuditEvents`, which outside systems
//! use to send their activity into the ActivityAuditLog event data stores a channel names
//! (spec/api.md §1.8, §2.10).
//!
//! A call is checked whole first (channel, 1–100 events, 1 MB, duplicate ids), then event by event
//! (`cairn_model::event::audit`). Accepted events are appended to the write-ahead log together, so
//! they are durable before the answer; the Lake copies them into the channel's stores from there.
//! An event's `eventID` is derived from the channel, the caller's `id` and the event's bytes, so a
//! retried call finds the events it already delivered ([`dedupe`]) and reports them as successful
//! again without storing them twice.

mod dedupe;

#[cfg(test)]
mod tests;

use cairn_model::event::EventRecord;
use cairn_model::event::audit::{self, AuditEventInput, IngestContext, PutAuditEventsOutput};
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::ChannelIngestionStatus;
use serde::Deserialize;
use serde_json::Value;

pub(crate) use self::dedupe::RecentAuditEvents;
use crate::caller::Caller;
use crate::cloudtrail::channels;
use crate::state::AppState;

/// The only operation of the service, and its path.
pub(crate) const PUT_AUDIT_EVENTS: &str = "PutAuditEvents";
pub(crate) const PUT_AUDIT_EVENTS_PATH: &str = "/PutAuditEvents";

/// The request body: `{"auditEvents": [{"id", "eventData", "eventDataChecksum"}]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    audit_events: Option<Vec<Entry<'a>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    #[serde(borrow)]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    event_data: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    event_data_checksum: Option<std::borrow::Cow<'a, str>>,
}

/// What a PutAuditEvents call came to: the answer, and what its own event records.
pub(crate) struct Handled {
    pub(crate) result: Result<Value, ApiError>,
    /// The channel's ARN, once the call named one that exists.
    pub(crate) channel_arn: Option<String>,
    /// `channelArn` and `externalId` as given, for the call's event.
    pub(crate) request_parameters: Value,
}

/// Runs one PutAuditEvents call. `query` is the raw query string.
pub(crate) async fn put_audit_events(state: &AppState, caller: &Caller, query: &str, body: &[u8]) -> Handled {
    let params = QueryParams::parse(query);
    let mut request_parameters = serde_json::Map::new();
    if let Some(arn) = &params.channel_arn {
        request_parameters.insert("channelArn".to_owned(), Value::String(arn.clone()));
    }
    if let Some(external_id) = &params.external_id {
        request_parameters.insert("externalId".to_owned(), Value::String(external_id.clone()));
    }
    let mut handled =
        Handled { result: Ok(Value::Null), channel_arn: None, request_parameters: request_parameters.into() };
    handled.result = run(state, caller, &params, body, &mut handled.channel_arn).await;
    handled
}

async fn run(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    body: &[u8],
    channel_arn_out: &mut Option<String>,
) -> Result<Value, ApiError> {
    let Some(channel_ref) = params.channel_arn.as_deref().filter(|s| !s.is_empty()) else {
        return Err(ApiError::new(ErrorCode::Validation, "The channelArn query parameter is required."));
    };
    if let Some(external_id) = &params.external_id {
        check_external_id(external_id)?;
    }
    // A channel of another account: the caller may not write to it (there are no cross-account
    // channel policies here).
    if let Some(owner) = channel_ref.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(3))
        && !owner.is_empty()
        && owner != caller.account_id()
    {
        return Err(ApiError::new(
            ErrorCode::DataChannelInsufficientPermission,
            format!("The caller's account {} does not own the channel {channel_ref}.", caller.account_id()),
        ));
    }
    let channel = channels::find_for_ingestion(state, caller.account_id(), &caller.region, channel_ref)
        .map_err(data_plane_error)?;
    let channel_arn = channel.arn();
    *channel_arn_out = Some(channel_arn.clone());
    let body: Body<'_> = serde_json::from_slice(body).map_err(|error| {
        ApiError::new(ErrorCode::Serialization, format!("The request body is not valid JSON: {error}"))
    })?;
    let entries =
        body.audit_events.ok_or_else(|| ApiError::new(ErrorCode::Validation, "The auditEvents member is required."))?;
    let mut inputs = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let missing =
            |member: &str| ApiError::new(ErrorCode::Validation, format!("auditEvents[{index}].{member} is required."));
        inputs.push(AuditEventInput {
            id: entry.id.as_deref().ok_or_else(|| missing("id"))?,
            event_data: entry.event_data.as_deref().ok_or_else(|| missing("eventData"))?,
            event_data_checksum: entry.event_data_checksum.as_deref(),
        });
    }
    audit::check_call(&inputs).map_err(|error| {
        let code = match error {
            audit::CallError::DuplicatedAuditEventId { .. } => ErrorCode::DataDuplicatedAuditEventId,
            _ => ErrorCode::Validation,
        };
        ApiError::new(code, error.to_string())
    })?;

    let now = state.clock.now();
    let mut output = PutAuditEventsOutput::default();
    let mut accepted_events: Vec<(String, EventRecord)> = Vec::new();
    let mut last_error: Option<String> = None;
    for input in &inputs {
        let event_id = dedupe::event_id(&channel_arn, input.id, input.event_data);
        let context = IngestContext {
            owner_account_id: &channel.account_id,
            region: &channel.region,
            channel_arn: &channel_arn,
            ingestion_time: now,
            event_id: &event_id,
        };
        match audit::validate(input, &context) {
            Ok(accepted) => {
                output.successful.push(accepted.result_entry());
                accepted_events.push((event_id, accepted.record));
            }
            Err(error) => {
                let entry = error.result_entry(input.id);
                last_error = Some(entry.error_code.as_str().to_owned());
                output.failed.push(entry);
            }
        }
    }
    // Events this call or an earlier one already stored (a retry) are answered again, not stored again.
    let claimed = state.recent_audit_events.claim(accepted_events.iter().map(|(id, _)| id.clone()).collect(), now);
    let fresh: Vec<EventRecord> =
        accepted_events.into_iter().filter(|(id, _)| claimed.contains(id)).map(|(_, record)| record).collect();
    if !fresh.is_empty()
        && let Err(error) = state.events.append_durable(fresh).await
    {
        state.recent_audit_events.release(&claimed);
        tracing::error!(%error, "could not append audit events");
        return Err(ApiError::internal());
    }
    let status = ChannelIngestionStatus {
        latest_success_time: output.successful.last().map(|_| now),
        latest_success_event_id: output.successful.last().map(|entry| entry.event_id.clone()),
        latest_error_code: last_error,
        latest_attempt_time: Some(now),
        latest_attempt_event_id: output
            .successful
            .last()
            .map(|entry| entry.event_id.clone())
            .or_else(|| output.failed.last().map(|entry| entry.id.clone())),
    };
    if let Err(error) = channels::record_ingestion(state, &channel.id, status) {
        // The events are stored; only GetChannel's IngestionStatus misses this call.
        tracing::warn!(code = error.code.as_str(), "could not record a channel's ingestion status");
    }
    serde_json::to_value(&output).map_err(|_| ApiError::internal())
}

/// The query string members PutAuditEvents reads.
#[derive(Debug, Default)]
struct QueryParams {
    channel_arn: Option<String>,
    external_id: Option<String>,
}

impl QueryParams {
    fn parse(query: &str) -> QueryParams {
        let mut params = QueryParams::default();
        for (key, value) in crate::sigv4::decode_query(query) {
            let value = String::from_utf8_lossy(&value).into_owned();
            match key.as_slice() {
                b"channelArn" => params.channel_arn = Some(value),
                b"externalId" => params.external_id = Some(value),
                _ => {}
            }
        }
        params
    }
}

/// `externalId`: 2–1224 characters of `[\w+=,.@:\/-]`.
fn check_external_id(external_id: &str) -> Result<(), ApiError> {
    let length = external_id.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
    if !(2..=1224).contains(&length) || !external_id.chars().all(allowed) {
        return Err(ApiError::new(
            ErrorCode::Validation,
            format!(
                "externalId must be 2 to 1224 characters of letters, digits and _+=,.@:/- ; got {}.",
                cairn_model::error::truncate_for_message(external_id)
            ),
        ));
    }
    Ok(())
}

/// The control plane's channel errors under the names the data service uses.
fn data_plane_error(error: ApiError) -> ApiError {
    let code = match error.code {
        ErrorCode::ChannelNotFound => ErrorCode::DataChannelNotFound,
        ErrorCode::ChannelArnInvalid => ErrorCode::DataInvalidChannelArn,
        other => other,
    };
    ApiError::new(code, error.message)
}
