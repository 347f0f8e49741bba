//! Validation and normalisation of basic event selectors (`EventSelectors`).

use cairn_model::ApiError;

use crate::arns::{BasicType, Scope, basic_value_scope};
use crate::errors::{bad_value, invalid};
use crate::types::{DataResource, EventSelector};

/// A trail has 1 to 5 basic event selectors (spec/api.md §2.12).
pub(crate) const MAX_EVENT_SELECTORS: usize = 5;
/// Data-resource values across all selectors of a trail, "all" prefixes excepted.
pub(crate) const MAX_DATA_RESOURCE_VALUES: usize = 250;
/// The only management event sources a basic selector may exclude.
pub(crate) const EXCLUDABLE_SOURCES: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];
pub(crate) const READ_WRITE_TYPES: &[&str] = &["ReadOnly", "WriteOnly", "All"];

/// Validates the `EventSelectors` of `PutEventSelectors` and returns them normalised:
/// every selector carries all four members, absent ones filled with their defaults
/// (`All`, `true`, `[]`, `[]`).
///
/// Every failure is `InvalidEventSelectorsException`.
pub fn validate_trail_event_selectors(selectors: Vec<EventSelector>) -> Result<Vec<EventSelector>, ApiError> {
    if selectors.is_empty() || selectors.len() > MAX_EVENT_SELECTORS {
        return Err(invalid(format!(
            "Specify a valid number of EventSelectors (1 to {MAX_EVENT_SELECTORS}) for your trail; got {}.",
            selectors.len()
        )));
    }
    let mut counted_values = 0usize;
    for selector in &selectors {
        if let Some(rw) = &selector.read_write_type
            && !READ_WRITE_TYPES.contains(&rw.as_str())
        {
            return Err(bad_value(rw, "ReadWriteType"));
        }
        for resource in selector.data_resources.iter().flatten() {
            counted_values += validate_data_resource(resource)?;
        }
        for source in selector.exclude_management_event_sources.iter().flatten() {
            if !EXCLUDABLE_SOURCES.contains(&source.as_str()) {
                return Err(bad_value(source, "ExcludeManagementEventSources"));
            }
        }
    }
    if counted_values > MAX_DATA_RESOURCE_VALUES {
        return Err(invalid(format!(
            "Specify a valid number of DataResources.Values (0 to {MAX_DATA_RESOURCE_VALUES}) for all your \
             selectors; got {counted_values}."
        )));
    }
    Ok(selectors.into_iter().map(normalize).collect())
}

/// Checks one data resource; returns how many of its values count against the quota.
fn validate_data_resource(resource: &DataResource) -> Result<usize, ApiError> {
    let Some(type_name) = &resource.r#type else {
        return Err(invalid("DataResources.Type must be specified for every data resource."));
    };
    let ty = BasicType::parse(type_name).ok_or_else(|| bad_value(type_name, "DataResources.Type"))?;
    let values = match &resource.values {
        Some(values) if !values.is_empty() => values,
        _ => return Err(invalid(format!("DataResources.Values must contain at least one value for {type_name}."))),
    };
    let mut counted = 0;
    for value in values {
        match basic_value_scope(ty, value) {
            Some(Scope::All) => {}
            Some(Scope::Specific) => counted += 1,
            None => return Err(bad_value(value, "DataResources.Values")),
        }
    }
    Ok(counted)
}

/// The selector with every absent member set to its AWS default.
pub(crate) fn normalize(selector: EventSelector) -> EventSelector {
    EventSelector {
        read_write_type: Some(selector.read_write_type.unwrap_or_else(|| "All".to_owned())),
        include_management_events: Some(selector.include_management_events.unwrap_or(true)),
        data_resources: Some(selector.data_resources.unwrap_or_default()),
        exclude_management_event_sources: Some(selector.exclude_management_event_sources.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests;
