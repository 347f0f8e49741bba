//! Put/GetInsightSelectors on trails (spec/api.md §1.5): the list replaces the
//! previous one; an empty list turns Insights off.

use cairn_model::names::TrailRef;
use cairn_model::trail::{INSIGHT_TYPES, InsightSelector};
use cairn_model::{ApiError, ErrorCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::event_selectors::trail_xor_event_data_store;
use super::input::required;
use super::resolve;
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInsightSelectorsInput {
    trail_name: Option<String>,
    insight_selectors: Option<Vec<InsightSelector>>,
    event_data_store: Option<String>,
    insights_destination: Option<String>,
}

/// Insights can watch management events (default) and, on trails, data events.
const INSIGHT_EVENT_CATEGORIES: &[&str] = &["Management", "Data"];

pub(crate) fn put_insight_selectors(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: PutInsightSelectorsInput = input(raw)?;
    let selectors = required(request.insight_selectors, "insightSelectors")?;
    if request.insights_destination.is_some() && request.trail_name.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterCombination,
            "InsightsDestination applies only to event data stores, not to trails.",
        ));
    }
    let trail_name = trail_xor_event_data_store(request.trail_name, request.event_data_store)?;
    let reference = TrailRef::parse(&trail_name)?;
    let selectors = validate(selectors)?;
    resolve::update(ctx, &reference, |trail| {
        trail.insight_selectors = selectors;
        Ok(json!({"TrailARN": trail.arn(), "InsightSelectors": trail.insight_selectors}))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInsightSelectorsInput {
    trail_name: Option<String>,
    event_data_store: Option<String>,
}

pub(crate) fn get_insight_selectors(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: GetInsightSelectorsInput = input(raw)?;
    let trail_name = trail_xor_event_data_store(request.trail_name, request.event_data_store)?;
    let reference = TrailRef::parse(&trail_name)?;
    let (arn, selectors) = resolve::read(ctx, &reference, |trail| (trail.arn(), trail.insight_selectors.clone()))?;
    if selectors.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InsightNotEnabled,
            format!("Trail {arn} does not have Insights events enabled."),
        ));
    }
    Ok(json!({"TrailARN": arn, "InsightSelectors": selectors}))
}

/// Each selector names a known type once; categories default to Management.
fn validate(selectors: Vec<InsightSelector>) -> Result<Vec<InsightSelector>, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidInsightSelectors, message);
    let mut seen_types: Vec<String> = Vec::new();
    let mut validated = Vec::with_capacity(selectors.len());
    for selector in selectors {
        let Some(insight_type) = selector.insight_type else {
            return Err(invalid("Each insight selector must specify an InsightType.".to_owned()));
        };
        if !INSIGHT_TYPES.contains(&insight_type.as_str()) {
            return Err(invalid(format!(
                "Value {} for InsightType is invalid. Valid values: [{}]",
                cairn_model::error::truncate_for_message(&insight_type),
                INSIGHT_TYPES.join(", ")
            )));
        }
        if seen_types.contains(&insight_type) {
            return Err(invalid(format!("InsightType {insight_type} is specified more than once.")));
        }
        let categories = selector.event_categories.unwrap_or_else(|| vec!["Management".to_owned()]);
        if let Some(bad) = categories.iter().find(|c| !INSIGHT_EVENT_CATEGORIES.contains(&c.as_str())) {
            return Err(invalid(format!(
                "Value {} for EventCategories is invalid. Valid values: [Management, Data]",
                cairn_model::error::truncate_for_message(bad)
            )));
        }
        seen_types.push(insight_type.clone());
        validated.push(InsightSelector { insight_type: Some(insight_type), event_categories: Some(categories) });
    }
    Ok(validated)
}
