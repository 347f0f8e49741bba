//! Put/GetInsightSelectors (spec/api.md §1.5) on trails, and on event data stores: a source store
//! whose management events Insights watches, and a destination store (`InsightsDestination`) that
//! selects `eventCategory = Insight` and collects the insight events. The list replaces the previous
//! one; an empty list turns Insights off.

use cairn_model::names::TrailRef;
use cairn_model::trail::{INSIGHT_TYPES, InsightSelector};
use cairn_model::{ApiError, ErrorCode};
use cairn_select::AdvancedEventSelector;
use cairn_store::Change;
use cairn_store::records::{EventDataStoreInsights, EventDataStoreRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::event_data_stores::{self, EventDataStoreRef, Use};
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
    if request.trail_name.is_none()
        && let Some(source) = &request.event_data_store
    {
        let selectors = validate(selectors, Target::EventDataStore)?;
        return put_on_event_data_store(ctx, source, request.insights_destination.as_deref(), selectors);
    }
    let trail_name = trail_xor_event_data_store(request.trail_name, request.event_data_store)?;
    let reference = TrailRef::parse(&trail_name)?;
    let selectors = validate(selectors, Target::Trail)?;
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
    if request.trail_name.is_none()
        && let Some(source) = &request.event_data_store
    {
        let reference = EventDataStoreRef::parse(source)?;
        let (arn, insights) =
            event_data_stores::read(ctx, &reference, Use::Active, |store| (store.arn(), store.insights.clone()))?;
        let Some(insights) = insights else {
            return Err(ApiError::new(
                ErrorCode::InsightNotEnabled,
                format!("Event data store {arn} does not have Insights events enabled."),
            ));
        };
        return Ok(json!({
            "EventDataStoreArn": arn,
            "InsightSelectors": insights.selectors,
            "InsightsDestination": insights.destination,
        }));
    }
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

/// Turns Insights on (or, with no selectors, off) for the source store `source`, its insight events
/// going to `destination`: a store of the same account and region that selects Insights events.
fn put_on_event_data_store(
    ctx: &Ctx<'_>,
    source: &str,
    destination: Option<&str>,
    selectors: Vec<InsightSelector>,
) -> Result<Value, ApiError> {
    let source = EventDataStoreRef::parse(source)?;
    let destination = destination.map(EventDataStoreRef::parse).transpose()?;
    ctx.state.event_data_stores.transact(|stores| {
        let current = event_data_stores::find(ctx, stores, &source, Use::Active)?;
        let mut store = current.clone();
        if selectors.is_empty() {
            store.insights = None;
            let output = json!({"EventDataStoreArn": store.arn(), "InsightSelectors": []});
            return Ok::<_, ApiError>((output, vec![Change::Put(store)]));
        }
        let Some(destination) = &destination else {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterCombination,
                "To enable Insights on an event data store, specify the source EventDataStore and its \
                 InsightsDestination.",
            ));
        };
        let target = event_data_stores::find(ctx, stores, destination, Use::Active)?;
        if target.id == current.id {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterCombination,
                "The InsightsDestination must be another event data store than the source EventDataStore.",
            ));
        }
        let category_error = |store: &EventDataStoreRecord, category: &str| {
            ApiError::new(
                ErrorCode::InvalidEventDataStoreCategory,
                format!("Event data store {} does not collect {category} events.", store.arn()),
            )
        };
        if !selects_category(&current.advanced_event_selectors, "Management") {
            return Err(category_error(current, "Management"));
        }
        if !selects_category(&target.advanced_event_selectors, "Insight") {
            return Err(category_error(target, "Insight"));
        }
        let insights = EventDataStoreInsights { selectors, destination: target.arn() };
        let output = json!({
            "EventDataStoreArn": store.arn(),
            "InsightSelectors": insights.selectors,
            "InsightsDestination": insights.destination,
        });
        store.insights = Some(insights);
        store.updated_at = ctx.now();
        Ok((output, vec![Change::Put(store)]))
    })
}

/// Whether some selector of a store takes events of `category` (its `eventCategory` selector
/// equals it).
fn selects_category(selectors: &[AdvancedEventSelector], category: &str) -> bool {
    selectors.iter().any(|selector| {
        selector.field_selectors.iter().any(|field| {
            field.field == "eventCategory"
                && field.equals.as_ref().is_some_and(|values| values.iter().any(|v| v == category))
        })
    })
}

/// What insight selectors are put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Trail,
    EventDataStore,
}

/// Each selector names a known type once; categories default to Management, and only trails watch
/// data events.
fn validate(selectors: Vec<InsightSelector>, target: Target) -> Result<Vec<InsightSelector>, ApiError> {
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
        if target == Target::EventDataStore && categories.iter().any(|c| c == "Data") {
            return Err(invalid(
                "Insights on data events are available on trails only; event data stores take EventCategories \
                 [Management]."
                    .to_owned(),
            ));
        }
        seen_types.push(insight_type.clone());
        validated.push(InsightSelector { insight_type: Some(insight_type), event_categories: Some(categories) });
    }
    Ok(validated)
}
