//! AddTags, RemoveTags and ListTags on trails, event data stores and channels (spec/api.md §1.11,
//! §2.11). Tags address resources by ARN only.

use cairn_model::arn::{Arn, TrailArn};
use cairn_model::error::truncate_for_message;
use cairn_model::names::TrailRef;
use cairn_model::trail::{MAX_TAGS_PER_RESOURCE, Tag};
use cairn_model::{ApiError, ErrorCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::channels::{self, ChannelRef};
use super::event_data_stores::{self, EventDataStoreRef, Use};
use super::input::{check_count, required};
use super::resolve;
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsInput {
    resource_id: Option<String>,
    tags_list: Option<Vec<Tag>>,
}

pub(crate) fn add_tags(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: TagsInput = input(raw)?;
    let resource = resource_of(&required(request.resource_id, "resourceId")?)?;
    let added = required(request.tags_list, "tagsList")?;
    match resource {
        Resource::Trail(reference) => resolve::update(ctx, &reference, |trail| {
            trail.tags = merged(&trail.tags, &added)?;
            Ok(json!({}))
        })
        .map_err(|e| not_found_as_resource(e, &reference)),
        Resource::EventDataStore(reference) => event_data_stores::update(ctx, &reference, |store| {
            store.tags = merged(&store.tags, &added)?;
            Ok(json!({}))
        }),
        Resource::Channel(reference) => channels::update(ctx, &reference, |channel| {
            channel.tags = merged(&channel.tags, &added)?;
            Ok(json!({}))
        }),
    }
}

pub(crate) fn remove_tags(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: TagsInput = input(raw)?;
    let resource = resource_of(&required(request.resource_id, "resourceId")?)?;
    let removed = required(request.tags_list, "tagsList")?;
    check_tags(&removed)?;
    match resource {
        Resource::Trail(reference) => resolve::update(ctx, &reference, |trail| {
            trail.tags.retain(|tag| !removed.iter().any(|r| r.key == tag.key));
            Ok(json!({}))
        })
        .map_err(|e| not_found_as_resource(e, &reference)),
        Resource::EventDataStore(reference) => event_data_stores::update(ctx, &reference, |store| {
            store.tags.retain(|tag| !removed.iter().any(|r| r.key == tag.key));
            Ok(json!({}))
        }),
        Resource::Channel(reference) => channels::update(ctx, &reference, |channel| {
            channel.tags.retain(|tag| !removed.iter().any(|r| r.key == tag.key));
            Ok(json!({}))
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    resource_id_list: Option<Vec<String>>,
}

pub(crate) fn list_tags(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListTagsInput = input(raw)?;
    let resource_ids = required(request.resource_id_list, "resourceIdList")?;
    check_count(&resource_ids, "resourceIdList", 1, 20)?;
    let mut resource_tag_list = Vec::with_capacity(resource_ids.len());
    for resource_id in &resource_ids {
        let tags = match resource_of(resource_id)? {
            Resource::Trail(reference) => resolve::read(ctx, &reference, |trail| trail.tags.clone())
                .map_err(|e| not_found_as_resource(e, &reference))?,
            Resource::EventDataStore(reference) => {
                event_data_stores::read(ctx, &reference, Use::Active, |store| store.tags.clone())?
            }
            // ListTags answers an unknown resource with ResourceNotFoundException.
            Resource::Channel(reference) => channels::read(ctx, &reference, |channel| channel.tags.clone())
                .map_err(|e| channel_not_found_as_resource(e, resource_id))?,
        };
        resource_tag_list.push(json!({"ResourceId": resource_id, "TagsList": tags}));
    }
    Ok(json!({"ResourceTagList": resource_tag_list}))
}

/// `existing` with `added` applied: a key already there takes the new value.
pub(crate) fn merged(existing: &[Tag], added: &[Tag]) -> Result<Vec<Tag>, ApiError> {
    check_tags(added)?;
    let mut tags = existing.to_vec();
    for tag in added {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(current) => current.value = tag.value.clone(),
            None => tags.push(tag.clone()),
        }
    }
    if tags.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::new(
            ErrorCode::TagsLimitExceeded,
            format!(
                "The number of tags on the resource would be {}; a resource can have at most {MAX_TAGS_PER_RESOURCE} tags.",
                tags.len()
            ),
        ));
    }
    Ok(tags)
}

/// Keys are 1–128 characters and unique within a request; values at most 256.
fn check_tags(tags: &[Tag]) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidTagParameter, message);
    for (tag_idx, tag) in tags.iter().enumerate() {
        if !(1..=128).contains(&tag.key.chars().count()) {
            return Err(invalid(format!(
                "Tag key must be 1 to 128 characters long: {}",
                truncate_for_message(&tag.key)
            )));
        }
        if tag.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(invalid(format!(
                "The value of tag {} is longer than 256 characters.",
                truncate_for_message(&tag.key)
            )));
        }
        if tags.iter().take(tag_idx).any(|earlier| earlier.key == tag.key) {
            return Err(invalid(format!("Duplicate tag key in request: {}", truncate_for_message(&tag.key))));
        }
    }
    Ok(())
}

/// A resource that takes tags.
enum Resource {
    Trail(TrailRef),
    EventDataStore(EventDataStoreRef),
    Channel(ChannelRef),
}

/// The resource a tag request's ARN names. Dashboards do not take tags here yet, so none exists.
fn resource_of(resource_id: &str) -> Result<Resource, ApiError> {
    let shown = truncate_for_message(resource_id);
    let Some(arn) = Arn::parse(resource_id) else {
        return Err(ApiError::new(
            ErrorCode::CloudTrailArnInvalid,
            format!("Tags require a resource ARN; {shown} is not an ARN."),
        ));
    };
    if arn.service != "cloudtrail" {
        return Err(ApiError::new(
            ErrorCode::ResourceTypeNotSupported,
            format!(
                "Resource type of {shown} is not supported; tag trails, event data stores, channels or dashboards."
            ),
        ));
    }
    match arn.resource.split_once('/') {
        Some(("trail", _)) => Ok(Resource::Trail(TrailRef::Arn(TrailArn::parse(resource_id)?))),
        Some(("eventdatastore", _)) => Ok(Resource::EventDataStore(EventDataStoreRef::parse_arn(resource_id)?)),
        Some(("channel", _)) => Ok(Resource::Channel(ChannelRef::parse_arn(resource_id)?)),
        Some(("dashboard", _)) => {
            Err(ApiError::new(ErrorCode::ResourceNotFound, format!("Resource not found: {shown}")))
        }
        _ => Err(ApiError::new(ErrorCode::CloudTrailArnInvalid, format!("The ARN {shown} is not valid."))),
    }
}

fn not_found_as_resource(error: ApiError, reference: &TrailRef) -> ApiError {
    if error.code != ErrorCode::TrailNotFound {
        return error;
    }
    let shown = match reference {
        TrailRef::Arn(arn) => arn.to_string(),
        TrailRef::Name(name) => name.to_string(),
    };
    ApiError::new(ErrorCode::ResourceNotFound, format!("Resource not found: {shown}"))
}

fn channel_not_found_as_resource(error: ApiError, resource_id: &str) -> ApiError {
    if error.code != ErrorCode::ChannelNotFound {
        return error;
    }
    ApiError::new(ErrorCode::ResourceNotFound, format!("Resource not found: {}", truncate_for_message(resource_id)))
}
