//! Deciding whether an event is taken by a trail's or an event data store's selectors.

use crate::arns::{BasicType, is_all_prefix};
use crate::trail::TrailSelectors;
use crate::types::{AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector};

/// The parts of an event record that selectors look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventView<'a> {
    /// `eventCategory`: `Management`, `Data`, `NetworkActivity`, `Insight`, …
    pub event_category: &'a str,
    /// `readOnly`; `None` when the record has none.
    pub read_only: Option<bool>,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub event_type: &'a str,
    /// `resources[]` as (type, ARN) pairs.
    pub resources: &'a [(&'a str, &'a str)],
    pub user_identity_arn: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub vpc_endpoint_id: Option<&'a str>,
    pub session_credential_from_console: Option<bool>,
    /// `managementEvent`.
    pub management_event: bool,
}

impl EventView<'_> {
    fn is_management(&self) -> bool {
        self.event_category == "Management" || (self.event_category.is_empty() && self.management_event)
    }

    fn is_data(&self) -> bool {
        self.event_category == "Data"
    }
}

impl TrailSelectors {
    /// Whether the trail logs `event`: it matches any of the selectors.
    pub fn matches(&self, event: &EventView) -> bool {
        match self {
            TrailSelectors::Basic(selectors) => selectors.iter().any(|s| basic_matches(s, event)),
            TrailSelectors::Advanced(selectors) => advanced_matches(selectors, event),
        }
    }
}

/// One basic selector: management events by `ReadWriteType`, `IncludeManagementEvents`
/// and `ExcludeManagementEventSources`; data events by `ReadWriteType` and `DataResources`.
/// Absent members take their defaults.
fn basic_matches(selector: &EventSelector, event: &EventView) -> bool {
    let rw_ok = match selector.read_write_type.as_deref().unwrap_or("All") {
        "ReadOnly" => event.read_only == Some(true),
        "WriteOnly" => event.read_only == Some(false),
        _ => true,
    };
    if !rw_ok {
        return false;
    }
    if event.is_management() {
        let excluded = selector.exclude_management_event_sources.iter().flatten().any(|s| s == event.event_source);
        return selector.include_management_events.unwrap_or(true) && !excluded;
    }
    event.is_data()
        && selector
            .data_resources
            .iter()
            .flatten()
            .any(|resource| event.resources.iter().any(|&(ty, arn)| data_resource_matches(resource, ty, arn)))
}

/// Whether a basic data resource takes a resource of type `ty` with ARN `arn`.
///
/// An "all" value (`arn:aws:s3`, `arn:aws:s3:::`, `arn:aws:lambda`, …) takes every
/// resource of the type in its partition; an S3 value is a bucket-and-key prefix
/// (`arn:aws:s3:::bkt/` is the whole bucket); Lambda and DynamoDB values are exact ARNs.
fn data_resource_matches(resource: &DataResource, ty: &str, arn: &str) -> bool {
    let Some(basic) = resource.r#type.as_deref().filter(|t| *t == ty).and_then(BasicType::parse) else {
        return false;
    };
    let service = basic.service();
    resource.values.iter().flatten().any(|value| {
        if is_all_prefix(service, value) {
            return arn.strip_prefix(value.as_str()).is_some_and(|rest| value.ends_with(':') || rest.starts_with(':'));
        }
        match basic {
            BasicType::S3Object => arn.starts_with(value.as_str()),
            BasicType::LambdaFunction | BasicType::DynamoDbTable => arn == value,
        }
    })
}

/// Whether `event` matches any of the advanced `selectors`.
///
/// Within a selector every field selector must hold. Within a field selector,
/// positive operators (`Equals`, `StartsWith`, `EndsWith`) are OR-ed and one must hit
/// if any is present; negative operators (`Not…`) must all hold. A field the event
/// lacks fails positive operators and passes negative ones. `resources.type` and
/// `resources.ARN` are evaluated together against each resource in turn; one
/// resource satisfying both is enough.
pub fn advanced_matches(selectors: &[AdvancedEventSelector], event: &EventView) -> bool {
    selectors.iter().any(|s| selector_matches(s, event))
}

/// One selector; allocation-free, as it runs for every delivered event.
fn selector_matches(selector: &AdvancedEventSelector, event: &EventView) -> bool {
    let fields = &selector.field_selectors;
    let resource_fields = || fields.iter().filter(|fs| is_resource_field(&fs.field));
    let event_fields_hold = fields
        .iter()
        .filter(|fs| !is_resource_field(&fs.field))
        .all(|fs| field_holds(fs, event_field(event, &fs.field)));
    if !event_fields_hold {
        return false;
    }
    if resource_fields().next().is_none() {
        return true;
    }
    if event.resources.is_empty() {
        return resource_fields().all(|fs| field_holds(fs, None));
    }
    event
        .resources
        .iter()
        .any(|resource| resource_fields().all(|fs| field_holds(fs, resource_field(*resource, &fs.field))))
}

fn is_resource_field(field: &str) -> bool {
    matches!(field, "resources.type" | "resources.ARN")
}

fn resource_field<'a>((ty, arn): (&'a str, &'a str), field: &str) -> Option<&'a str> {
    match field {
        "resources.type" => Some(ty),
        "resources.ARN" => Some(arn),
        _ => None,
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// The event's value for a non-resource field; `None` when absent or unknown.
fn event_field<'a>(event: &EventView<'a>, field: &str) -> Option<&'a str> {
    match field {
        "eventCategory" => Some(event.event_category),
        "readOnly" => event.read_only.map(bool_text),
        "eventSource" => Some(event.event_source),
        "eventName" => Some(event.event_name),
        "eventType" => Some(event.event_type),
        "userIdentity.arn" => event.user_identity_arn,
        "errorCode" => event.error_code,
        "vpcEndpointId" => event.vpc_endpoint_id,
        "sessionCredentialFromConsole" => event.session_credential_from_console.map(bool_text),
        _ => None,
    }
}

/// One field selector against one field value.
fn field_holds(field_selector: &AdvancedFieldSelector, value: Option<&str>) -> bool {
    let mut any_positive = false;
    let mut positive_hit = false;
    for (op, patterns) in field_selector.operators() {
        let hit = value.is_some_and(|v| patterns.iter().any(|p| op.hits(p, v)));
        if op.is_negative() {
            if hit {
                return false;
            }
        } else {
            any_positive = true;
            positive_hit |= hit;
        }
    }
    !any_positive || positive_hit
}

#[cfg(test)]
mod tests;
