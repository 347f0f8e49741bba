//! CloudTrail Lake channels (spec/api.md §1.8, §2.10): CreateChannel, GetChannel, UpdateChannel,
//! DeleteChannel and ListChannels, plus what PutAuditEvents needs of them ([`find_for_ingestion`],
//! [`record_ingestion`]).
//!
//! A channel belongs to one account and region and carries events from outside AWS into the
//! ActivityAuditLog event data stores it names. The Lake decides which stores take a channel's event
//! from the stores' own channel ranges (`EventDataStoreRecord::channels`, stretches of the write-ahead
//! log), never from the channel record, so a replay after a crash decides as the first pass did.
//! Creating, updating and deleting a channel open and close those ranges at the log's next LSN.
//!
//! Channels and event data stores live in two registries that cannot commit together. Lock order is
//! channels, then event data stores, then resource policies, everywhere. [`stores`] explains which
//! registry is written first and why a crash between the two commits is harmless.

mod reference;
mod rules;
mod stores;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use cairn_model::clock::epoch_seconds;
use cairn_model::trail::Tag;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::{ChannelIngestionStatus, ChannelRecord, EventDataStoreRecord};
use cairn_store::{Change, Record};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub(crate) use self::reference::ChannelRef;
use self::rules::{DestinationInput, check_clashes, check_quota, parse_destinations, validate_name, validate_source};
pub(crate) use self::stores::close_all;
use super::input::required;
use super::{Ctx, resource_policies, tags};
use crate::json11::input;
use crate::pagination;
use crate::state::AppState;

/// Channels per account and region, not counting service-linked ones (spec/api.md §2.12).
pub(crate) const MAX_CHANNELS_PER_REGION: usize = 25;
/// The event category every channel carries, and its stores collect.
pub(crate) const CHANNEL_CATEGORY: &str = "ActivityAuditLog";
/// Channels per ListChannels page when `MaxResults` is not given.
const DEFAULT_PAGE_SIZE: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    name: Option<String>,
    source: Option<String>,
    destinations: Option<Vec<DestinationInput>>,
    tags: Option<Vec<Tag>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    channel: Option<String>,
    destinations: Option<Vec<DestinationInput>>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChannelInput {
    channel: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

pub(crate) fn create_channel(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: CreateInput = input(raw)?;
    let name = required(request.name, "name")?;
    validate_name(&name)?;
    let source = required(request.source, "source")?;
    validate_source(&source)?;
    let wanted = parse_destinations(required(request.destinations, "destinations")?)?;
    let tags = match request.tags {
        Some(tag_list) => tags::merged(&[], &tag_list)?,
        None => Vec::new(),
    };
    let now = ctx.now();
    let mut channel = ChannelRecord {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        name,
        source,
        destinations: Vec::new(),
        tags,
        created_at: now,
        updated_at: now,
        ingestion_status: ChannelIngestionStatus::default(),
    };
    ctx.state.channels.transact(|channels| {
        check_clashes(channels, &channel, None)?;
        check_quota(channels, &channel.account_id, &channel.region)?;
        channel.destinations = stores::attach(ctx, &channel.arn(), &wanted)?;
        let mut output = change_output(&channel);
        output.insert("Tags".into(), json!(channel.tags));
        Ok::<_, ApiError>((Value::Object(output), vec![Change::Put(channel)]))
    })
}

pub(crate) fn get_channel(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = channel_reference(raw)?;
    read(ctx, &reference, get_output)
}

pub(crate) fn update_channel(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: UpdateInput = input(raw)?;
    let reference = ChannelRef::parse(&required(request.channel, "channel")?)?;
    if let Some(name) = &request.name {
        validate_name(name)?;
    }
    let wanted = request.destinations.map(parse_destinations).transpose()?;
    ctx.state.channels.transact(|channels| {
        let current = find(ctx, channels, &reference)?;
        let mut channel = current.clone();
        if let Some(name) = request.name {
            channel.name = name;
            check_clashes(channels, &channel, Some(&current.id))?;
        }
        if let Some(wanted) = &wanted {
            channel.destinations = stores::attach(ctx, &channel.arn(), wanted)?;
        }
        if channel == *current {
            return Ok((Value::Object(change_output(&channel)), Vec::new()));
        }
        channel.updated_at = ctx.now();
        let output = change_output(&channel);
        Ok::<_, ApiError>((Value::Object(output), vec![Change::Put(channel)]))
    })
}

pub(crate) fn delete_channel(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let reference = channel_reference(raw)?;
    let deleted = ctx.state.channels.transact(|channels| {
        let channel = find(ctx, channels, &reference)?;
        Ok::<_, ApiError>((channel.clone(), vec![Change::Delete(channel.key())]))
    })?;
    // The channel is gone, so no new event names it; its stores' ranges end here.
    let arn = deleted.arn();
    if let Err(error) = stores::detach_all(ctx, &arn) {
        tracing::warn!(channel = arn, code = error.code.as_str(), "could not close a deleted channel's store ranges");
    }
    resource_policies::drop_policy(ctx.state, &arn);
    Ok(json!({}))
}

pub(crate) fn list_channels(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListInput = input(raw)?;
    let page_size = match request.max_results {
        Some(max) => rules::check_max_results(max)?,
        None => DEFAULT_PAGE_SIZE,
    };
    let after = request.next_token.as_deref().map(|token| pagination::decode(token, "ListChannels")).transpose()?;
    ctx.state.channels.read(|channels| {
        let mut page: Vec<&ChannelRecord> = channels
            .iter()
            .filter(|(key, channel)| after.as_ref().is_none_or(|after| *key > after) && is_own(ctx, channel))
            .map(|(_, channel)| channel)
            .take(page_size + 1)
            .collect();
        let has_more = page.len() > page_size;
        page.truncate(page_size);
        let items: Vec<Value> =
            page.iter().map(|channel| json!({"ChannelArn": channel.arn(), "Name": channel.name})).collect();
        let mut output = json!({"Channels": items});
        if has_more && let Some(last) = page.last() {
            output["NextToken"] = json!(pagination::encode(&last.key(), "ListChannels"));
        }
        Ok(output)
    })
}

// ---------------------------------------------------------------------------------------------
// For PutAuditEvents, tags and event data stores

/// The channel `channel` (an ARN or the ID at its end) names, as the caller `caller_account` in
/// `region` sees it: `ChannelARNInvalidException` for a malformed ARN, `ChannelNotFoundException`
/// for one that is not the caller's there.
pub(crate) fn find_for_ingestion(
    state: &AppState,
    caller_account: &str,
    region: &str,
    channel: &str,
) -> Result<ChannelRecord, ApiError> {
    let reference = ChannelRef::parse(channel)?;
    state.channels.read(|channels| find_in(channels, caller_account, region, &reference).cloned())
}

/// Records a PutAuditEvents call's outcome in the channel's `IngestionStatus`. Members `status`
/// leaves unset keep their previous value: the latest success stays shown after a failed call.
pub(crate) fn record_ingestion(
    state: &AppState,
    channel_id: &str,
    status: ChannelIngestionStatus,
) -> Result<(), ApiError> {
    state.channels.transact(|channels| {
        let Some(current) = channels.get(channel_id) else {
            return Err(ApiError::new(ErrorCode::ChannelNotFound, format!("Channel {channel_id} not found.")));
        };
        let mut channel = current.clone();
        merge_status(&mut channel.ingestion_status, status);
        Ok::<_, ApiError>(((), vec![Change::Put(channel)]))
    })
}

/// Changes the caller's channel `reference` names and commits it durably (tags).
pub(crate) fn update<R>(
    ctx: &Ctx<'_>,
    reference: &ChannelRef,
    change: impl FnOnce(&mut ChannelRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    ctx.state.channels.transact(|channels| {
        let mut channel = find(ctx, channels, reference)?.clone();
        let result = change(&mut channel)?;
        Ok::<_, ApiError>((result, vec![Change::Put(channel)]))
    })
}

/// Reads the caller's channel `reference` names.
pub(crate) fn read<R>(
    ctx: &Ctx<'_>,
    reference: &ChannelRef,
    read: impl FnOnce(&ChannelRecord) -> R,
) -> Result<R, ApiError> {
    ctx.state.channels.read(|channels| find(ctx, channels, reference).map(read))
}

/// `ChannelExistsForEDSException` if a channel delivers to `store`. The caller holds the channels
/// lock (`channels` is its view) while it deletes the store, so no channel can name it in between.
pub(crate) fn refuse_if_destination(
    channels: &BTreeMap<String, ChannelRecord>,
    store: &EventDataStoreRecord,
) -> Result<(), ApiError> {
    let store_arn = store.arn();
    let user = channels.values().find(|channel| {
        channel.account_id == store.account_id
            && channel.region == store.region
            && channel.destinations.iter().any(|destination| destination.location == store_arn)
    });
    match user {
        Some(channel) => Err(ApiError::new(
            ErrorCode::ChannelExistsForEds,
            format!(
                "Event data store {store_arn} cannot be deleted because it is in use by channel {}. Delete the \
                 channel or remove the event data store from its destinations first.",
                channel.arn()
            ),
        )),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Finding a channel

fn channel_reference(raw: Value) -> Result<ChannelRef, ApiError> {
    let request: ChannelInput = input(raw)?;
    ChannelRef::parse(&required(request.channel, "channel")?)
}

/// Whether `channel` is the caller's own, in the caller's region: the only channels it sees.
fn is_own(ctx: &Ctx<'_>, channel: &ChannelRecord) -> bool {
    channel.account_id == ctx.account_id() && channel.region == ctx.region()
}

fn find<'c>(
    ctx: &Ctx<'_>,
    channels: &'c BTreeMap<String, ChannelRecord>,
    reference: &ChannelRef,
) -> Result<&'c ChannelRecord, ApiError> {
    find_in(channels, ctx.account_id(), ctx.region(), reference)
}

fn find_in<'c>(
    channels: &'c BTreeMap<String, ChannelRecord>,
    account_id: &str,
    region: &str,
    reference: &ChannelRef,
) -> Result<&'c ChannelRecord, ApiError> {
    channels
        .get(reference.id())
        .filter(|channel| channel.account_id == account_id && channel.region == region && reference.may_name(channel))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ChannelNotFound,
                format!("Channel {} not found.", reference.shown(account_id, region)),
            )
        })
}

// ---------------------------------------------------------------------------------------------
// Output shapes

/// `CreateChannelResponse` / `UpdateChannelResponse` (Create adds `Tags`).
fn change_output(channel: &ChannelRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("ChannelArn".into(), json!(channel.arn()));
    out.insert("Name".into(), json!(channel.name));
    out.insert("Source".into(), json!(channel.source));
    out.insert("Destinations".into(), destinations_output(channel));
    out
}

/// `GetChannelResponse`.
fn get_output(channel: &ChannelRecord) -> Value {
    let mut out = Map::new();
    out.insert("ChannelArn".into(), json!(channel.arn()));
    out.insert("Name".into(), json!(channel.name));
    out.insert("Source".into(), json!(channel.source));
    // Channels created through the API take ActivityAuditLog events in their own region.
    out.insert(
        "SourceConfig".into(),
        json!({
            "ApplyToAllRegions": false,
            "AdvancedEventSelectors": [
                {"FieldSelectors": [{"Field": "eventCategory", "Equals": [CHANNEL_CATEGORY]}]}
            ],
        }),
    );
    out.insert("Destinations".into(), destinations_output(channel));
    out.insert("IngestionStatus".into(), Value::Object(ingestion_status_output(&channel.ingestion_status)));
    Value::Object(out)
}

fn destinations_output(channel: &ChannelRecord) -> Value {
    channel
        .destinations
        .iter()
        .map(|destination| json!({"Type": destination.kind.as_str(), "Location": destination.location}))
        .collect()
}

/// Only the members that are set, timestamps in epoch seconds.
fn ingestion_status_output(status: &ChannelIngestionStatus) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(at) = status.latest_success_time {
        out.insert("LatestIngestionSuccessTime".into(), json!(epoch_seconds(at)));
    }
    if let Some(id) = &status.latest_success_event_id {
        out.insert("LatestIngestionSuccessEventID".into(), json!(id));
    }
    if let Some(code) = &status.latest_error_code {
        out.insert("LatestIngestionErrorCode".into(), json!(code));
    }
    if let Some(at) = status.latest_attempt_time {
        out.insert("LatestIngestionAttemptTime".into(), json!(epoch_seconds(at)));
    }
    if let Some(id) = &status.latest_attempt_event_id {
        out.insert("LatestIngestionAttemptEventID".into(), json!(id));
    }
    out
}

/// `current` with every member `new` sets.
fn merge_status(current: &mut ChannelIngestionStatus, new: ChannelIngestionStatus) {
    let ChannelIngestionStatus {
        latest_success_time,
        latest_success_event_id,
        latest_error_code,
        latest_attempt_time,
        latest_attempt_event_id,
    } = new;
    if latest_success_time.is_some() {
        current.latest_success_time = latest_success_time;
    }
    if latest_success_event_id.is_some() {
        current.latest_success_event_id = latest_success_event_id;
    }
    if latest_error_code.is_some() {
        current.latest_error_code = latest_error_code;
    }
    if latest_attempt_time.is_some() {
        current.latest_attempt_time = latest_attempt_time;
    }
    if latest_attempt_event_id.is_some() {
        current.latest_attempt_event_id = latest_attempt_event_id;
    }
}
