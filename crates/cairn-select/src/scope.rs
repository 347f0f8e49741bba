//! Which recorded events a trail delivers: the event's account, its region, global-service
//! events and Insights events, then the trail's selectors.
//!
//! This is the one place that turns a parsed record ([`EventFields`]) into the
//! [`EventView`] selectors read ([`with_event_view`]), so delivery, the Lake and rules
//! evaluate selectors the same way. [`trail_takes`] answers for one trail and one record;
//! [`event_owner_account`] names the account whose log files an event goes to (delivery
//! groups files per account and `awsRegion`, each region under its own key prefix).

use cairn_model::event::{EventFields, Resource};
use cairn_model::region::GLOBAL_SERVICE_REGION;

use crate::matching::EventView;
use crate::trail::TrailSelectors;

/// Event sources CloudTrail treats as global services: their events from the global
/// endpoint are recorded in us-east-1 and reach a trail only with
/// `IncludeGlobalServiceEvents` (spec/api.md §2.2; AWS names CloudFront, IAM, AWS STS
/// and the console sign-in as its global services).
pub const GLOBAL_SERVICE_SOURCES: &[&str] =
    &["iam.amazonaws.com", "sts.amazonaws.com", "cloudfront.amazonaws.com", "signin.amazonaws.com"];

/// What a trail's configuration says about which events it takes.
#[derive(Debug, Clone, Copy)]
pub struct TrailScope<'a> {
    /// The account that owns the trail.
    pub account_id: &'a str,
    /// The region the trail was created in.
    pub home_region: &'a str,
    pub is_multi_region: bool,
    pub include_global_service_events: bool,
    /// Member accounts (incl. management) when an organization trail.
    pub organization_accounts: Option<&'a [String]>,
    pub selectors: &'a TrailSelectors,
}

/// Whether the trail described by `scope` delivers `record`.
///
/// In order: Insights records are never taken here (they have their own folder and
/// path); the event's owner account ([`event_owner_account`]) must be the trail's, or a
/// member of its organization for an organization trail; a global-service event
/// ([`is_global_service_event`]) needs `IncludeGlobalServiceEvents` and a multi-region
/// trail or one homed in us-east-1; any other event needs a multi-region trail or
/// `awsRegion` equal to the home region; finally the selectors must take it.
///
/// Accepts `&EventRecord` too (it dereferences to [`EventFields`]).
pub fn trail_takes(scope: &TrailScope, record: &EventFields) -> bool {
    if is_insight(record) || !account_in_scope(scope, record) || !region_in_scope(scope, record) {
        return false;
    }
    with_event_view(record, |view| scope.selectors.matches(view))
}

/// Whether the trail `trail_arn` of `scope` whose insight selectors name `insight_types` delivers the
/// Insights record `record` (to its own `CloudTrail-Insight/` folder): the record's account and
/// region must be the trail's, as for any event, and its `insightType` one the trail selects; an
/// insight on data events (`insightDetails.insightSource`) goes to its own trail only.
pub fn trail_takes_insight(scope: &TrailScope, trail_arn: &str, insight_types: &[&str], record: &EventFields) -> bool {
    is_insight(record)
        && record.insight_trail_arn.as_deref().is_none_or(|source| source == trail_arn)
        && account_in_scope(scope, record)
        && (scope.is_multi_region || record.aws_region == scope.home_region)
        && record.insight_type.as_deref().is_some_and(|kind| insight_types.contains(&kind))
}

/// What an event data store's configuration says about which events it copies.
#[derive(Debug, Clone, Copy)]
pub struct EventDataStoreScope<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub multi_region_enabled: bool,
    /// Member accounts (incl. management) when an organization store.
    pub organization_accounts: Option<&'a [String]>,
    pub selectors: &'a [crate::AdvancedEventSelector],
}

/// Whether the event data store described by `scope` copies `record`: the event's owner account
/// must be the store's (or a member of its organization), its `awsRegion` the store's region
/// unless the store is multi-region, and the advanced selectors must take it. Unlike trails,
/// stores take Insights events when a selector asks for `eventCategory` `Insight`, and global-service
/// events need no flag (a store is either multi-region or sees them in its own region).
pub fn event_data_store_takes(scope: &EventDataStoreScope, record: &EventFields) -> bool {
    let Some(owner) = event_owner_account(record) else {
        return false;
    };
    let account_ok = owner == scope.account_id
        || scope.organization_accounts.is_some_and(|members| members.iter().any(|m| m == owner));
    if !account_ok || !(scope.multi_region_enabled || record.aws_region == scope.region) {
        return false;
    }
    with_event_view(record, |view| crate::advanced_matches(scope.selectors, view))
}

/// The account an event belongs to: `recipientAccountId`, else `userIdentity.accountId`.
/// Log files are grouped by this account and `awsRegion`. `None` when the record names
/// neither; such an event belongs to no trail.
pub fn event_owner_account(fields: &EventFields) -> Option<&str> {
    fields.recipient_account_id.as_deref().or(fields.user_identity.account_id.as_deref())
}

/// Whether `fields` is a global-service event: from one of [`GLOBAL_SERVICE_SOURCES`] and
/// recorded in us-east-1. The same sources recorded elsewhere (regional STS endpoints,
/// regional sign-in) are ordinary regional events.
pub fn is_global_service_event(fields: &EventFields) -> bool {
    fields.aws_region == GLOBAL_SERVICE_REGION && GLOBAL_SERVICE_SOURCES.contains(&fields.event_source.as_str())
}

/// Calls `f` with the selector view of `fields`. Borrows everything from `fields`;
/// allocates only for records with more than eight resources.
///
/// Absent optional members stay absent; a resource without a `type` or an ARN shows it
/// as the empty string, which no selector value equals or starts with.
pub fn with_event_view<R>(fields: &EventFields, f: impl FnOnce(&EventView) -> R) -> R {
    let mut inline = [("", ""); INLINE_RESOURCES];
    let heap: Vec<(&str, &str)>;
    let resources: &[(&str, &str)] = if fields.resources.len() <= INLINE_RESOURCES {
        for (slot, resource) in inline.iter_mut().zip(&fields.resources) {
            *slot = pair(resource);
        }
        &inline[..fields.resources.len()]
    } else {
        heap = fields.resources.iter().map(pair).collect();
        &heap
    };
    let view = EventView {
        event_category: &fields.event_category,
        read_only: fields.read_only,
        event_source: &fields.event_source,
        event_name: &fields.event_name,
        event_type: fields.event_type.as_deref().unwrap_or(""),
        resources,
        user_identity_arn: fields.user_identity.arn.as_deref(),
        error_code: fields.error_code.as_deref(),
        vpc_endpoint_id: fields.vpc_endpoint_id.as_deref(),
        session_credential_from_console: fields.session_credential_from_console,
        management_event: fields.management_event.unwrap_or(fields.event_category == "Management"),
    };
    f(&view)
}

/// `eventType` of CloudTrail Insights records.
const INSIGHT_EVENT_TYPE: &str = "AwsCloudTrailInsight";

/// How many resources [`with_event_view`] lays out without allocating.
const INLINE_RESOURCES: usize = 8;

/// A resource as the (type, ARN) pair [`EventView`] holds.
fn pair(resource: &Resource) -> (&str, &str) {
    (resource.resource_type.as_deref().unwrap_or(""), resource.arn.as_deref().unwrap_or(""))
}

fn is_insight(fields: &EventFields) -> bool {
    fields.event_type.as_deref() == Some(INSIGHT_EVENT_TYPE) || fields.event_category == "Insight"
}

fn account_in_scope(scope: &TrailScope, fields: &EventFields) -> bool {
    let Some(owner) = event_owner_account(fields) else {
        return false;
    };
    owner == scope.account_id || scope.organization_accounts.is_some_and(|members| members.iter().any(|m| m == owner))
}

fn region_in_scope(scope: &TrailScope, fields: &EventFields) -> bool {
    if is_global_service_event(fields) {
        return scope.include_global_service_events
            && (scope.is_multi_region || scope.home_region == GLOBAL_SERVICE_REGION);
    }
    scope.is_multi_region || fields.aws_region == scope.home_region
}

#[cfg(test)]
mod tests;
