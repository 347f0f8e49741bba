//! CreateTrail, UpdateTrail, DeleteTrail, GetTrail, DescribeTrails, ListTrails (spec/api.md §1.1, §2.2).

use std::collections::{BTreeMap, BTreeSet};

use cairn_model::names::{TrailName, TrailRef};
use cairn_model::region::KNOWN_REGIONS;
use cairn_model::trail::{MAX_TRAILS_PER_REGION, Tag};
use cairn_model::{ApiError, ErrorCode};
use cairn_select::TrailSelectors;
use cairn_store::records::{LoggingState, TrailRecord};
use cairn_store::{Change, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use super::input::required;
use super::resolve::{self, Access};
use super::{Ctx, destinations, shapes, tags};
use crate::json11::input;
use crate::pagination;

/// The settings CreateTrail and UpdateTrail share; `None` leaves a setting as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrailSettings {
    s3_bucket_name: Option<String>,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    include_global_service_events: Option<bool>,
    is_multi_region_trail: Option<bool>,
    enable_log_file_validation: Option<bool>,
    cloud_watch_logs_log_group_arn: Option<String>,
    cloud_watch_logs_role_arn: Option<String>,
    kms_key_id: Option<String>,
    is_organization_trail: Option<bool>,
    recursive_logging: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateTrailInput {
    name: Option<String>,
    tags_list: Option<Vec<Tag>>,
    #[serde(flatten)]
    settings: TrailSettings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTrailInput {
    name: Option<String>,
    #[serde(flatten)]
    settings: TrailSettings,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    name: Option<String>,
}

pub(crate) fn create_trail(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: CreateTrailInput = input(raw)?;
    let name = TrailName::parse(&required(request.name, "name")?)?;
    let bucket = required(request.settings.s3_bucket_name.clone(), "s3BucketName")?;
    let mut trail = TrailRecord {
        account_id: ctx.account_id().to_owned(),
        home_region: ctx.region().to_owned(),
        name: name.as_str().to_owned(),
        s3_bucket_name: bucket,
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        log_file_validation_enabled: false,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        kms_key_id: None,
        organization_id: None,
        recursive_logging: true,
        selectors: TrailSelectors::default_for_trail(),
        insight_selectors: Vec::new(),
        aggregation_configurations: Vec::new(),
        tags: Vec::new(),
        logging: LoggingState::default(),
        created_at: ctx.now(),
    };
    apply_settings(ctx, &mut trail, request.settings, Apply::Create)?;
    if let Some(tag_list) = request.tags_list {
        trail.tags = tags::merged(&[], &tag_list)?;
    }
    ctx.state.trails.transact(|trails| {
        check_name_free(ctx, trails, &trail, None)?;
        check_quota(ctx, trails, &trail, None)?;
        Ok::<_, ApiError>((shapes::trail_change_output(&trail), vec![Change::Put(trail.clone())]))
    })
}

pub(crate) fn update_trail(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: UpdateTrailInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.name, "name")?)?;
    ctx.state.trails.transact(|trails| {
        let current = resolve::find(ctx, trails, &reference, Access::Mutate)?;
        let mut trail = current.clone();
        apply_settings(ctx, &mut trail, request.settings, Apply::Update)?;
        let own_key = Some(current.key());
        if trail.is_multi_region_trail && !current.is_multi_region_trail {
            // Becoming multi-region puts the trail into every region: its name and
            // the 5-trail quota must hold in all of them.
            check_name_free(ctx, trails, &trail, own_key.as_deref())?;
            check_quota(ctx, trails, &trail, own_key.as_deref())?;
        }
        Ok::<_, ApiError>((shapes::trail_change_output(&trail), vec![Change::Put(trail)]))
    })
}

pub(crate) fn delete_trail(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: NameInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.name, "name")?)?;
    ctx.state.trails.transact(|trails| {
        let trail = resolve::find(ctx, trails, &reference, Access::Mutate)?;
        Ok::<_, ApiError>((json!({}), vec![Change::Delete(trail.key())]))
    })
}

pub(crate) fn get_trail(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: NameInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.name, "name")?)?;
    ctx.state.trails.read(|trails| {
        let trail = resolve::find(ctx, trails, &reference, Access::Read)?;
        Ok(json!({"Trail": shapes::trail_output(trail)}))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeTrailsInput {
    trail_name_list: Option<Vec<String>>,
    include_shadow_trails: Option<bool>,
}

pub(crate) fn describe_trails(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: DescribeTrailsInput = input(raw)?;
    let include_shadow_trails = request.include_shadow_trails.unwrap_or(true);
    let references = request
        .trail_name_list
        .unwrap_or_default()
        .iter()
        .map(|n| TrailRef::parse(n))
        .collect::<Result<Vec<_>, _>>()?;
    ctx.state.trails.read(|trails| {
        let is_shadow = |t: &TrailRecord| t.home_region != ctx.region();
        let listed: Vec<&TrailRecord> = if references.is_empty() {
            resolve::visible(ctx, trails).filter(|t| include_shadow_trails || !is_shadow(t)).collect()
        } else {
            let mut listed = Vec::new();
            for reference in &references {
                // Names match only trails homed in this region; other regions' trails need their ARN.
                let found = match reference {
                    TrailRef::Name(name) => {
                        trails.get(&TrailRecord::key_of(ctx.account_id(), ctx.region(), name.as_str()))
                    }
                    TrailRef::Arn(arn) => trails
                        .get(&TrailRecord::key_of(&arn.account, &arn.region, arn.name.as_str()))
                        .filter(|t| resolve::is_visible(ctx, t)),
                };
                if let Some(trail) = found.filter(|t| include_shadow_trails || !is_shadow(t))
                    && !listed.iter().any(|l: &&TrailRecord| l.key() == trail.key())
                {
                    listed.push(trail);
                }
            }
            listed
        };
        let trail_list: Vec<Value> = listed.into_iter().map(shapes::trail_output).collect();
        Ok(json!({"trailList": trail_list}))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTrailsInput {
    next_token: Option<String>,
}

/// Trails per ListTrails page.
const LIST_TRAILS_PAGE_SIZE: usize = 50;

pub(crate) fn list_trails(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListTrailsInput = input(raw)?;
    let after = request.next_token.as_deref().map(|token| pagination::decode(token, "ListTrails")).transpose()?;
    ctx.state.trails.read(|trails| {
        let mut page: Vec<(&String, &TrailRecord)> = trails
            .iter()
            .filter(|(key, trail)| after.as_ref().is_none_or(|after| *key > after) && resolve::is_visible(ctx, trail))
            .take(LIST_TRAILS_PAGE_SIZE + 1)
            .collect();
        let has_more = page.len() > LIST_TRAILS_PAGE_SIZE;
        page.truncate(LIST_TRAILS_PAGE_SIZE);
        let mut output = json!({"Trails": page.iter().map(|(_, t)| shapes::trail_info(t)).collect::<Vec<_>>()});
        if has_more && let Some((last_key, _)) = page.last() {
            output["NextToken"] = json!(pagination::encode(last_key, "ListTrails"));
        }
        Ok(output)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Apply {
    Create,
    Update,
}

/// Validates `settings` and applies them to `trail`. On update an empty string
/// clears an optional setting, as on AWS.
fn apply_settings(
    ctx: &Ctx<'_>,
    trail: &mut TrailRecord,
    settings: TrailSettings,
    mode: Apply,
) -> Result<(), ApiError> {
    let clear_empty = |value: Option<String>| -> Option<Option<String>> {
        value.map(|v| if v.is_empty() && mode == Apply::Update { None } else { Some(v) })
    };
    if let Some(global) = settings.include_global_service_events {
        trail.include_global_service_events = global;
    }
    if let Some(multi_region) = settings.is_multi_region_trail {
        trail.is_multi_region_trail = multi_region;
    }
    // Checked before any destination, as AWS does (spec/api.md §2.2).
    if trail.is_multi_region_trail && !trail.include_global_service_events {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterCombination,
            "Multi-Region trail must include global service events.",
        ));
    }
    if let Some(bucket) = settings.s3_bucket_name {
        destinations::check_bucket(ctx, &bucket)?;
        trail.s3_bucket_name = bucket;
    }
    if let Some(prefix) = clear_empty(settings.s3_key_prefix) {
        if let Some(prefix) = &prefix {
            destinations::check_prefix(prefix)?;
        }
        trail.s3_key_prefix = prefix;
    }
    if let Some(topic) = clear_empty(settings.sns_topic_name) {
        trail.sns_topic_arn = topic.map(|t| destinations::resolve_sns_topic(ctx, &t)).transpose()?;
    }
    if let Some(validation) = settings.enable_log_file_validation {
        trail.log_file_validation_enabled = validation;
    }
    if let Some(key) = clear_empty(settings.kms_key_id) {
        trail.kms_key_id = key.map(|k| destinations::resolve_kms_key(ctx, &k)).transpose()?;
    }
    if let Some(group) = clear_empty(settings.cloud_watch_logs_log_group_arn) {
        if let Some(group) = &group {
            destinations::check_log_group_arn(group)?;
        }
        trail.cloud_watch_logs_log_group_arn = group;
    }
    if let Some(role) = clear_empty(settings.cloud_watch_logs_role_arn) {
        if let Some(role) = &role {
            destinations::check_log_role_arn(role)?;
        }
        trail.cloud_watch_logs_role_arn = role;
    }
    match (&trail.cloud_watch_logs_log_group_arn, &trail.cloud_watch_logs_role_arn) {
        (None, Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidCloudWatchLogsLogGroupArn,
                "You must specify a CloudWatchLogsLogGroupArn together with CloudWatchLogsRoleArn.",
            ));
        }
        (Some(_), None) => {
            return Err(ApiError::new(
                ErrorCode::InvalidCloudWatchLogsRoleArn,
                "You must specify a CloudWatchLogsRoleArn together with CloudWatchLogsLogGroupArn.",
            ));
        }
        _ => {}
    }
    if let Some(organization_trail) = settings.is_organization_trail
        && organization_trail != trail.is_organization_trail()
    {
        // Only the management account creates organization trails or converts them.
        let organization_id = management_organization(ctx)?;
        trail.organization_id = organization_trail.then_some(organization_id);
    }
    if let Some(recursive) = settings.recursive_logging {
        trail.recursive_logging = recursive;
    }
    Ok(())
}

/// The caller's organization, if the caller is its management account.
pub(crate) fn management_organization(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    match &ctx.state.settings.organization {
        Some(organization) if organization.management_account_id == ctx.account_id() => Ok(organization.id.clone()),
        Some(organization) if organization.contains(ctx.account_id()) => Err(ApiError::new(
            ErrorCode::NotOrganizationMasterAccount,
            format!(
                "The request was rejected because account {} is not the management account of organization {}.",
                ctx.account_id(),
                organization.id
            ),
        )),
        _ => Err(ApiError::new(
            ErrorCode::OrganizationsNotInUse,
            format!("Account {} is not a member of an organization.", ctx.account_id()),
        )),
    }
}

/// A trail's name is unique among the trails of its account that share a region with it.
fn check_name_free(
    ctx: &Ctx<'_>,
    trails: &BTreeMap<String, TrailRecord>,
    trail: &TrailRecord,
    except_key: Option<&str>,
) -> Result<(), ApiError> {
    let clash = trails.values().any(|other| {
        Some(other.key().as_str()) != except_key
            && other.account_id == trail.account_id
            && other.name == trail.name
            && (other.home_region == trail.home_region || other.is_multi_region_trail || trail.is_multi_region_trail)
    });
    if clash {
        return Err(ApiError::new(
            ErrorCode::TrailAlreadyExists,
            format!("Trail {} already exists for customer: {}", trail.name, ctx.account_id()),
        ));
    }
    Ok(())
}

/// At most 5 trails log in any region; a multi-region trail counts in each region.
fn check_quota(
    ctx: &Ctx<'_>,
    trails: &BTreeMap<String, TrailRecord>,
    trail: &TrailRecord,
    except_key: Option<&str>,
) -> Result<(), ApiError> {
    let own: Vec<&TrailRecord> =
        trails.values().filter(|t| t.account_id == trail.account_id && Some(t.key().as_str()) != except_key).collect();
    let mut regions: BTreeSet<&str> = BTreeSet::from([trail.home_region.as_str()]);
    if trail.is_multi_region_trail {
        regions.extend(KNOWN_REGIONS.iter().copied());
        regions.extend(own.iter().map(|t| t.home_region.as_str()));
    }
    for region in regions {
        let n_in_region = own.iter().filter(|t| t.home_region == region || t.is_multi_region_trail).count();
        if n_in_region >= MAX_TRAILS_PER_REGION {
            return Err(ApiError::new(
                ErrorCode::MaximumNumberOfTrailsExceeded,
                format!("User: {} already has {MAX_TRAILS_PER_REGION} trails in {region}.", ctx.account_id()),
            ));
        }
    }
    Ok(())
}
