//! ListInsightsMetricData (spec/api.md §1.5, §2.7): the per-period counts Insights keeps for one API
//! (and for error rates one error code) of the caller's account and region; and ListInsightsData,
//! a trail's insight events.

use cairn_insights::{InsightType, SeriesKey};
use cairn_model::error::truncate_for_message;
use cairn_model::names::TrailRef;
use cairn_model::{ApiError, ErrorCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::input::{epoch_timestamp, required};
use super::resolve::{self, Access};
use crate::json11::input;
use crate::pagination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInsightsMetricDataInput {
    trail_name: Option<String>,
    event_source: Option<String>,
    event_name: Option<String>,
    insight_type: Option<String>,
    error_code: Option<String>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    period: Option<i64>,
    data_type: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Days each period's points are kept.
fn retention_days(period_seconds: i64) -> i64 {
    match period_seconds {
        60 => 15,
        300 => 63,
        _ => 90,
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, message)
}

pub(crate) fn list_insights_metric_data(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListInsightsMetricDataInput = input(raw)?;
    let event_source = required(request.event_source, "eventSource")?;
    let event_name = required(request.event_name, "eventName")?;
    let type_name = required(request.insight_type, "insightType")?;
    let source_ok = event_source.strip_suffix(".amazonaws.com").is_some_and(|s| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    });
    if !source_ok || event_source.len() > 256 {
        return Err(invalid(format!(
            "EventSource {} is not valid: it must look like service.amazonaws.com.",
            truncate_for_message(&event_source)
        )));
    }
    if event_name.is_empty()
        || event_name.len() > 128
        || !event_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(invalid(format!("EventName {} is not valid.", truncate_for_message(&event_name))));
    }
    let Some(insight_type) = InsightType::parse(&type_name) else {
        return Err(invalid(format!(
            "InsightType {} is not valid; use ApiCallRateInsight or ApiErrorRateInsight.",
            truncate_for_message(&type_name)
        )));
    };
    let error_code = match (insight_type, request.error_code) {
        (InsightType::ApiErrorRate, None) => {
            return Err(invalid("ErrorCode is required when InsightType is ApiErrorRateInsight.".to_owned()));
        }
        (InsightType::ApiCallRate, Some(_)) => {
            return Err(invalid("ErrorCode applies only when InsightType is ApiErrorRateInsight.".to_owned()));
        }
        (_, code) => code,
    };
    let trail_arn = match request.trail_name {
        None => None,
        Some(name) => {
            let reference = TrailRef::parse(&name)?;
            Some(
                ctx.state
                    .trails
                    .read(|trails| resolve::find(ctx, trails, &reference, Access::Read).map(|t| t.arn()))?,
            )
        }
    };
    let period = request.period.unwrap_or(3600);
    if ![60, 300, 3600].contains(&period) {
        return Err(invalid(format!("Period {period} is not valid; use 60, 300 or 3600 seconds.")));
    }
    let fill = match request.data_type.as_deref() {
        None | Some("NonZeroData") => false,
        Some("FillWithZeros") => true,
        Some(other) => {
            return Err(invalid(format!(
                "DataType {} is not valid; use FillWithZeros or NonZeroData.",
                truncate_for_message(other)
            )));
        }
    };
    let max_results = request.max_results.unwrap_or(21_600);
    if !(1..=21_600).contains(&max_results) {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("MaxResults {max_results} is not valid; it must be between 1 and 21600."),
        ));
    }
    let now = ctx.now().as_second();
    let end = match request.end_time {
        Some(seconds) => epoch_timestamp(seconds)?.as_second(),
        None => now,
    };
    let oldest = now - retention_days(period) * 86_400;
    let start = match request.start_time {
        Some(seconds) => epoch_timestamp(seconds)?.as_second(),
        None => now - 90 * 86_400,
    }
    .max(oldest);
    if request.start_time.is_some() && request.end_time.is_some() && start > end {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "StartTime must be before EndTime."));
    }
    let key = SeriesKey {
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        insight_type,
        event_source: event_source.clone(),
        event_name: event_name.clone(),
        error_code: error_code.clone(),
        // With a TrailName, the trail's Insights on data events.
        trail: trail_arn.clone(),
    };
    let period_minutes = period / 60;
    // Periods that start within [start, end): the first boundary at or after start.
    let first = start.div_euclid(60).div_euclid(period_minutes) * period_minutes
        + if start.rem_euclid(period) == 0 { 0 } else { period_minutes };
    let last = end.div_euclid(60) - if end.rem_euclid(60) == 0 { 1 } else { 0 };
    let counted =
        tokio::runtime::Handle::current().block_on(ctx.state.insights.points(&key, period_minutes, first, last + 1));
    let points: Vec<(i64, u64)> = if fill {
        let counted: std::collections::HashMap<i64, u64> = counted.into_iter().collect();
        (0..)
            .map(|k: i64| first + k * period_minutes)
            .take_while(|minute| minute * 60 < end)
            .map(|minute| (minute, counted.get(&minute).copied().unwrap_or(0)))
            .collect()
    } else {
        counted
    };
    let fingerprint = format!("{event_source}|{event_name}|{type_name}|{error_code:?}|{start}|{end}|{period}|{fill}");
    let offset = match request.next_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => pagination::decode_offset(token, "ListInsightsMetricData", &fingerprint, "metric request")?,
    };
    let page_end = offset.saturating_add(max_results as usize).min(points.len());
    let page = points.get(offset.min(page_end)..page_end).unwrap_or_default();
    let mut output = json!({
        "EventSource": event_source,
        "EventName": event_name,
        "InsightType": type_name,
        "Timestamps": page.iter().map(|(minute, _)| minute * 60).collect::<Vec<_>>(),
        "Values": page.iter().map(|(_, count)| *count as f64).collect::<Vec<_>>(),
    });
    if let Some(arn) = trail_arn {
        output["TrailARN"] = json!(arn);
    }
    if let Some(code) = error_code {
        output["ErrorCode"] = json!(code);
    }
    if page_end < points.len() {
        output["NextToken"] = json!(pagination::encode_offset(&fingerprint, page_end, "ListInsightsMetricData"));
    }
    Ok(output)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInsightsDataInput {
    insight_source: Option<String>,
    data_type: Option<String>,
    dimensions: Option<std::collections::BTreeMap<String, String>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// ListInsightsData: the insight events on the data events of the trail `InsightSource` names (as
/// AWS's, which lists Insights of trails that log data events), from Event history (LookupEvents of
/// `EventCategory` `insight`, with its paging, 90 days and rate limit), narrowed by one of `EventId`,
/// `EventName` or `EventSource`.
pub(crate) fn list_insights_data(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListInsightsDataInput = input(raw)?;
    let source = required(request.insight_source, "insightSource")?;
    let data_type = required(request.data_type, "dataType")?;
    if data_type != "InsightsEvents" {
        return Err(invalid(format!(
            "DataType {} is not valid; use InsightsEvents.",
            truncate_for_message(&data_type)
        )));
    }
    let reference = TrailRef::parse(&source)?;
    let trail_arn =
        ctx.state.trails.read(|trails| resolve::find(ctx, trails, &reference, Access::Read).map(|t| t.arn()))?;
    let mut lookup = json!({ "EventCategory": "insight", "MaxResults": request.max_results.unwrap_or(50) });
    match request.dimensions.unwrap_or_default().into_iter().collect::<Vec<_>>().as_slice() {
        [] => {}
        [(key, value)] if ["EventId", "EventName", "EventSource"].contains(&key.as_str()) => {
            lookup["LookupAttributes"] = json!([{ "AttributeKey": key, "AttributeValue": value }]);
        }
        [(key, _)] => {
            return Err(invalid(format!(
                "Dimensions key {} is not valid; use EventId, EventName or EventSource.",
                truncate_for_message(key)
            )));
        }
        _ => return Err(invalid("Dimensions takes exactly one entry.".to_owned())),
    }
    for (member, value) in [("StartTime", request.start_time), ("EndTime", request.end_time)] {
        if let Some(value) = value {
            lookup[member] = json!(value);
        }
    }
    if let Some(token) = request.next_token {
        lookup["NextToken"] = json!(token);
    }
    super::lookup_events::lookup_where(ctx, lookup, |record| {
        record.fields().insight_trail_arn.as_deref() == Some(trail_arn.as_str())
    })
}
