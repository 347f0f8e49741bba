//! Put/GetEventSelectors and Put/GetEventConfiguration (spec/api.md §1.3, §2.4).

use cairn_model::names::TrailRef;
use cairn_model::trail::{AGGREGATION_TEMPLATES, AggregationConfiguration};
use cairn_model::{ApiError, ErrorCode};
use cairn_select::{AdvancedEventSelector, EventSelector, TrailSelectors};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::input::{check_count, required};
use super::resolve;
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventSelectorsInput {
    trail_name: Option<String>,
    event_selectors: Option<Vec<EventSelector>>,
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
}

pub(crate) fn put_event_selectors(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: PutEventSelectorsInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.trail_name, "trailName")?)?;
    let selectors =
        cairn_select::validate_put_event_selectors(request.event_selectors, request.advanced_event_selectors)?;
    resolve::update(ctx, &reference, |trail| {
        trail.selectors = selectors;
        Ok(selectors_output(&trail.arn(), &trail.selectors))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetEventSelectorsInput {
    trail_name: Option<String>,
}

pub(crate) fn get_event_selectors(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: GetEventSelectorsInput = input(raw)?;
    let reference = TrailRef::parse(&required(request.trail_name, "trailName")?)?;
    resolve::read(ctx, &reference, |trail| selectors_output(&trail.arn(), &trail.selectors))
        .map_err(|e| resolve::echo_arn(ctx, &reference, e))
}

fn selectors_output(trail_arn: &str, selectors: &TrailSelectors) -> Value {
    match selectors {
        TrailSelectors::Basic(basic) => json!({"TrailARN": trail_arn, "EventSelectors": basic}),
        TrailSelectors::Advanced(advanced) => json!({"TrailARN": trail_arn, "AdvancedEventSelectors": advanced}),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventConfigurationInput {
    trail_name: Option<String>,
    event_data_store: Option<String>,
    max_event_size: Option<String>,
    context_key_selectors: Option<Vec<Value>>,
    aggregation_configurations: Option<Vec<AggregationConfiguration>>,
}

pub(crate) fn put_event_configuration(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: PutEventConfigurationInput = input(raw)?;
    let trail_name = trail_xor_event_data_store(request.trail_name, request.event_data_store)?;
    if request.max_event_size.is_some() || request.context_key_selectors.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterCombination,
            "MaxEventSize and ContextKeySelectors apply only to event data stores, not to trails.",
        ));
    }
    let reference = TrailRef::parse(&trail_name)?;
    let configurations = request.aggregation_configurations.unwrap_or_default();
    validate_aggregation_configurations(&configurations)?;
    resolve::update(ctx, &reference, |trail| {
        trail.aggregation_configurations = configurations;
        Ok(json!({"TrailARN": trail.arn(), "AggregationConfigurations": trail.aggregation_configurations}))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetEventConfigurationInput {
    trail_name: Option<String>,
    event_data_store: Option<String>,
}

pub(crate) fn get_event_configuration(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: GetEventConfigurationInput = input(raw)?;
    let trail_name = trail_xor_event_data_store(request.trail_name, request.event_data_store)?;
    let reference = TrailRef::parse(&trail_name)?;
    resolve::read(
        ctx,
        &reference,
        |trail| json!({"TrailARN": trail.arn(), "AggregationConfigurations": trail.aggregation_configurations}),
    )
}

/// A request names a trail or an event data store, never both. Event data
/// stores arrive with the Lake; until then none exists.
pub(crate) fn trail_xor_event_data_store(
    trail_name: Option<String>,
    event_data_store: Option<String>,
) -> Result<String, ApiError> {
    match (trail_name, event_data_store) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::new(
            ErrorCode::InvalidParameterCombination,
            "You must specify either a TrailName or an EventDataStore, but not both.",
        )),
        (Some(trail_name), None) => Ok(trail_name),
        (None, Some(event_data_store)) => Err(ApiError::new(
            ErrorCode::EventDataStoreNotFound,
            format!(
                "The specified event data store {} was not found.",
                cairn_model::error::truncate_for_message(&event_data_store)
            ),
        )),
    }
}

fn validate_aggregation_configurations(configurations: &[AggregationConfiguration]) -> Result<(), ApiError> {
    check_count(configurations, "aggregationConfigurations", 0, 1)?;
    for configuration in configurations {
        if configuration.event_category != "Data" {
            return Err(ApiError::invalid_parameter(format!(
                "Value {} for EventCategory is invalid. Valid values: [Data]",
                cairn_model::error::truncate_for_message(&configuration.event_category)
            )));
        }
        check_count(&configuration.templates, "templates", 1, 50)?;
        if let Some(bad) = configuration.templates.iter().find(|t| !AGGREGATION_TEMPLATES.contains(&t.as_str())) {
            return Err(ApiError::invalid_parameter(format!(
                "Value {} for Templates is invalid. Valid values: [{}]",
                cairn_model::error::truncate_for_message(bad),
                AGGREGATION_TEMPLATES.join(", ")
            )));
        }
    }
    Ok(())
}
