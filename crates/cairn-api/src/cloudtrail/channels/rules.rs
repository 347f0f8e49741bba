//! The checks on a channel's input that need no stores: the model's constraints botocore leaves to
//! the server (spec/api.md §0), one channel per source and name, and the quota.

use std::collections::BTreeMap;

use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::{ChannelDestinationType, ChannelRecord};
use serde::Deserialize;

use super::MAX_CHANNELS_PER_REGION;
use crate::cloudtrail::event_data_stores::EventDataStoreRef;
use crate::cloudtrail::input::check_count;

/// The `Source` of channels for events of the caller's own applications.
pub(crate) const CUSTOM_SOURCE: &str = "Custom";

/// One `Destinations` item as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DestinationInput {
    #[serde(rename = "Type")]
    kind: Option<String>,
    location: Option<String>,
}

/// A destination the request asks for, checked as far as it can be without the stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WantedDestination {
    /// An event data store, by ARN or ID.
    Store(EventDataStoreRef),
    /// An AWS service (service-linked channels), by name.
    Service(String),
}

/// `Name`: 3–128 characters of `[a-zA-Z0-9._\-]`.
pub(crate) fn validate_name(name: &str) -> Result<(), ApiError> {
    let shown = truncate_for_message(name);
    if !(3..=128).contains(&name.chars().count()) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'name' failed to satisfy constraint: \
             Member must have length between 3 and 128"
        )));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'name' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9._\\-]+$"
        )));
    }
    Ok(())
}

/// `Source`: `Custom` or a partner's source name, 1–256 characters on one line (the model's `.*`).
pub(crate) fn validate_source(source: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidSource,
            format!("The source {} is not valid: {why}", truncate_for_message(source)),
        )
    };
    if source.trim().is_empty() {
        return Err(invalid("specify Custom or the name of a partner event source."));
    }
    if source.chars().count() > 256 {
        return Err(invalid("a source name has at most 256 characters."));
    }
    if source.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        return Err(invalid("a source name cannot contain line breaks or control characters."));
    }
    if source != CUSTOM_SOURCE && source.eq_ignore_ascii_case(CUSTOM_SOURCE) {
        return Err(invalid("the source for your own events is spelled Custom."));
    }
    Ok(())
}

/// `Destinations`: 1–200 items, each a type and a location, none twice.
pub(crate) fn parse_destinations(items: Vec<DestinationInput>) -> Result<Vec<WantedDestination>, ApiError> {
    check_count(&items, "destinations", 1, 200)?;
    let mut wanted: Vec<WantedDestination> = Vec::with_capacity(items.len());
    for (idx, item) in items.into_iter().enumerate() {
        let member = |name: &str| format!("destinations.{}.member.{name}", idx + 1);
        let kind = item.kind.ok_or_else(|| null_member(&member("type")))?;
        let location = item.location.ok_or_else(|| null_member(&member("location")))?;
        let Some(kind) = ChannelDestinationType::parse(&kind) else {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: \
                 Member must satisfy enum value set: [EVENT_DATA_STORE, AWS_SERVICE]",
                truncate_for_message(&kind),
                member("type")
            )));
        };
        check_location(&location, &member("location"))?;
        let destination = match kind {
            ChannelDestinationType::EventDataStore => WantedDestination::Store(EventDataStoreRef::parse(&location)?),
            ChannelDestinationType::AwsService => WantedDestination::Service(location),
        };
        if wanted.contains(&destination) {
            return Err(ApiError::invalid_parameter(format!(
                "Destinations lists {} more than once.",
                truncate_for_message(location_of(&destination))
            )));
        }
        wanted.push(destination);
    }
    Ok(wanted)
}

/// The location a wanted destination was given as.
fn location_of(destination: &WantedDestination) -> &str {
    match destination {
        WantedDestination::Store(EventDataStoreRef::Id(id)) => id,
        WantedDestination::Store(EventDataStoreRef::Arn { id, .. }) => id,
        WantedDestination::Service(name) => name,
    }
}

/// `Location`: 3–1024 characters of `[a-zA-Z0-9._/\-:*]`.
fn check_location(location: &str, member: &str) -> Result<(), ApiError> {
    let shown = truncate_for_message(location);
    if !(3..=1024).contains(&location.chars().count()) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: \
             Member must have length between 3 and 1024"
        )));
    }
    if !location.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-:*".contains(&b)) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9._/\\-:*]+$"
        )));
    }
    Ok(())
}

fn null_member(member: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A channel's name, and its source, are unique among the channels of its account and region.
pub(crate) fn check_clashes(
    channels: &BTreeMap<String, ChannelRecord>,
    channel: &ChannelRecord,
    except_id: Option<&str>,
) -> Result<(), ApiError> {
    let others = channels.values().filter(|other| {
        Some(other.id.as_str()) != except_id
            && other.id != channel.id
            && other.account_id == channel.account_id
            && other.region == channel.region
    });
    for other in others {
        if other.name == channel.name {
            return Err(ApiError::new(
                ErrorCode::ChannelAlreadyExists,
                format!("A channel named {} already exists in {}: {}.", channel.name, channel.region, other.arn()),
            ));
        }
        if other.source == channel.source {
            return Err(ApiError::new(
                ErrorCode::ChannelAlreadyExists,
                format!(
                    "A channel for source {} already exists in {}: {}. A maximum of one channel is allowed per \
                     source.",
                    truncate_for_message(&channel.source),
                    channel.region,
                    other.arn()
                ),
            ));
        }
    }
    Ok(())
}

/// At most 25 channels per account and region.
pub(crate) fn check_quota(
    channels: &BTreeMap<String, ChannelRecord>,
    account_id: &str,
    region: &str,
) -> Result<(), ApiError> {
    let count = channels.values().filter(|c| c.account_id == account_id && c.region == region).count();
    if count >= MAX_CHANNELS_PER_REGION {
        return Err(ApiError::new(
            ErrorCode::ChannelMaxLimitExceeded,
            format!(
                "Account {account_id} already has {count} channels in {region}; the limit is {MAX_CHANNELS_PER_REGION}."
            ),
        ));
    }
    Ok(())
}

/// `MaxResults` of ListChannels: 1–1000.
pub(crate) fn check_max_results(max: i64) -> Result<usize, ApiError> {
    match usize::try_from(max) {
        Ok(max) if (1..=1000).contains(&max) => Ok(max),
        _ => Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: \
             Member must have value between 1 and 1000"
        ))),
    }
}
