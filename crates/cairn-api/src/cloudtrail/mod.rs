//! The CloudTrail 2013-11-01 operations: an `X-Amz-Target` → handler table.
//!
//! Boundary: handlers take the caller and the parsed JSON input and return the
//! JSON output or an [`ApiError`]; they never see HTTP.

pub(crate) mod channels;
mod dashboards;
mod destinations;
mod event_data_stores;
mod event_selectors;
mod imports;
mod input;
mod insight_selectors;
mod insights_metrics;
mod logging;
mod lookup_events;
mod public_keys;
mod queries;
mod resolve;
mod resource_policies;
mod sample_queries;
mod shapes;
mod tags;
mod trails;

use std::sync::Arc;

use cairn_model::{ApiError, ErrorCode};
use serde_json::Value;

use crate::caller::Caller;
use crate::state::AppState;
use crate::{json11, recorder};

/// What a handler sees: shared state and who is calling.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) caller: &'a Caller,
}

impl Ctx<'_> {
    pub(crate) fn account_id(&self) -> &str {
        self.caller.account_id()
    }

    pub(crate) fn region(&self) -> &str {
        &self.caller.region
    }

    pub(crate) fn now(&self) -> jiff::Timestamp {
        self.state.clock.now()
    }
}

type Handler = fn(&Ctx<'_>, Value) -> Result<Value, ApiError>;

const OPERATIONS: &[(&str, Handler)] = &[
    ("CreateTrail", trails::create_trail),
    ("UpdateTrail", trails::update_trail),
    ("DeleteTrail", trails::delete_trail),
    ("GetTrail", trails::get_trail),
    ("DescribeTrails", trails::describe_trails),
    ("ListTrails", trails::list_trails),
    ("StartLogging", logging::start_logging),
    ("StopLogging", logging::stop_logging),
    ("GetTrailStatus", logging::get_trail_status),
    ("PutEventSelectors", event_selectors::put_event_selectors),
    ("GetEventSelectors", event_selectors::get_event_selectors),
    ("PutEventConfiguration", event_selectors::put_event_configuration),
    ("GetEventConfiguration", event_selectors::get_event_configuration),
    ("PutInsightSelectors", insight_selectors::put_insight_selectors),
    ("GetInsightSelectors", insight_selectors::get_insight_selectors),
    ("LookupEvents", lookup_events::lookup_events),
    ("ListPublicKeys", public_keys::list_public_keys),
    ("StartQuery", queries::start_query),
    ("DescribeQuery", queries::describe_query),
    ("GetQueryResults", queries::get_query_results),
    ("ListQueries", queries::list_queries),
    ("CancelQuery", queries::cancel_query),
    ("SearchSampleQueries", sample_queries::search_sample_queries),
    ("CreateDashboard", dashboards::create_dashboard),
    ("GetDashboard", dashboards::get_dashboard),
    ("UpdateDashboard", dashboards::update_dashboard),
    ("DeleteDashboard", dashboards::delete_dashboard),
    ("ListDashboards", dashboards::list_dashboards),
    ("StartDashboardRefresh", dashboards::start_dashboard_refresh),
    ("AddTags", tags::add_tags),
    ("RemoveTags", tags::remove_tags),
    ("ListTags", tags::list_tags),
    ("CreateEventDataStore", event_data_stores::create_event_data_store),
    ("GetEventDataStore", event_data_stores::get_event_data_store),
    ("UpdateEventDataStore", event_data_stores::update_event_data_store),
    ("DeleteEventDataStore", event_data_stores::delete_event_data_store),
    ("RestoreEventDataStore", event_data_stores::restore_event_data_store),
    ("ListEventDataStores", event_data_stores::list_event_data_stores),
    ("StartEventDataStoreIngestion", event_data_stores::start_event_data_store_ingestion),
    ("StopEventDataStoreIngestion", event_data_stores::stop_event_data_store_ingestion),
    ("CreateChannel", channels::create_channel),
    ("GetChannel", channels::get_channel),
    ("UpdateChannel", channels::update_channel),
    ("DeleteChannel", channels::delete_channel),
    ("ListChannels", channels::list_channels),
    ("PutResourcePolicy", resource_policies::put_resource_policy),
    ("GetResourcePolicy", resource_policies::get_resource_policy),
    ("DeleteResourcePolicy", resource_policies::delete_resource_policy),
    ("StartImport", imports::start_import),
    ("GetImport", imports::get_import),
    ("ListImports", imports::list_imports),
    ("ListImportFailures", imports::list_import_failures),
    ("StopImport", imports::stop_import),
    ("ListInsightsMetricData", insights_metrics::list_insights_metric_data),
    ("ListInsightsData", insights_metrics::list_insights_data),
];

/// Operations of the API that later work will serve; until then they say so
/// plainly instead of pretending to succeed.
const NOT_YET_SERVED: &[&str] = &[
    "DeregisterOrganizationDelegatedAdmin",
    "DisableFederation",
    "EnableFederation",
    "GenerateQuery",
    "RegisterOrganizationDelegatedAdmin",
];

/// What came of one CloudTrail call, for the response and for its event.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The operation the target names, if it has CloudTrail's prefix (known or not).
    pub(crate) operation: Option<String>,
    /// The parsed input, if the body was a JSON object.
    pub(crate) input: Option<Value>,
    pub(crate) result: Result<Value, ApiError>,
}

impl Outcome {
    /// The event to record for this call, if the request named an operation; `from_console` marks a
    /// call the web console made.
    pub(crate) fn recorded<'a>(&'a self, caller: &'a Caller, from_console: bool) -> Option<recorder::Call<'a>> {
        let operation = self.operation.as_deref()?;
        let input = self.input.as_ref().unwrap_or(&Value::Null);
        Some(recorder::Call {
            caller,
            event_source: "cloudtrail.amazonaws.com",
            operation,
            request_parameters: recorder::non_empty(input).map(recorder::recorded_form),
            response_elements: self.result.as_ref().ok().and_then(recorder::non_empty).map(recorder::recorded_form),
            error: self.result.as_ref().err().map(|e| (e.code.as_str().to_owned(), e.message.clone())),
            read_only: recorder::is_read_only(operation),
            from_console,
            resources: recorder::trail_resources(caller, operation, input, self.result.as_ref().ok()),
        })
    }
}

/// [`serve`] off the async workers: handlers commit to the metadata store (fsync).
pub(crate) async fn serve_blocking(
    state: &Arc<AppState>,
    caller: &Caller,
    target: Option<String>,
    body: bytes::Bytes,
) -> Outcome {
    run_blocking(state, caller, move |state, caller| serve(state, caller, target.as_deref(), &body)).await
}

/// The console's free-text Event history search ([`lookup_events::search`]), off the async workers;
/// recorded as the LookupEvents call it narrows.
pub(crate) async fn search_history_blocking(
    state: &Arc<AppState>,
    caller: &Caller,
    input: Value,
    text: String,
) -> Outcome {
    run_blocking(state, caller, move |state, caller| {
        let result = lookup_events::search(&Ctx { state, caller }, input.clone(), &text);
        Outcome { operation: Some("LookupEvents".to_owned()), input: Some(input), result }
    })
    .await
}

async fn run_blocking(
    state: &Arc<AppState>,
    caller: &Caller,
    run: impl FnOnce(&AppState, &Caller) -> Outcome + Send + 'static,
) -> Outcome {
    let (state, caller) = (state.clone(), caller.clone());
    tokio::task::spawn_blocking(move || run(&state, &caller)).await.unwrap_or_else(|_| Outcome {
        operation: None,
        input: None,
        result: Err(ApiError::internal()),
    })
}

/// Operation names longer than this are not echoed into events or metrics.
const MAX_OPERATION_NAME: usize = 128;

/// Runs one CloudTrail call.
pub(crate) fn serve(state: &AppState, caller: &Caller, target: Option<&str>, body: &[u8]) -> Outcome {
    let operation = match json11::operation_of(target, json11::CLOUDTRAIL_TARGET_PREFIX) {
        Ok(operation) => operation,
        Err(error) => return Outcome { operation: None, input: None, result: Err(error) },
    };
    let named = (operation.len() <= MAX_OPERATION_NAME).then(|| operation.to_owned());
    let input = match json11::parse_body(body) {
        Ok(input) => input,
        Err(error) => return Outcome { operation: named, input: None, result: Err(error) },
    };
    let Some((name, handler)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
        let error = if NOT_YET_SERVED.contains(&operation) {
            ApiError::new(
                ErrorCode::UnsupportedOperation,
                format!("{operation} is not supported by this cairn version."),
            )
        } else {
            ApiError::new(
                ErrorCode::UnknownOperation,
                format!("Unknown operation: {}", cairn_model::error::truncate_for_message(operation)),
            )
        };
        return Outcome { operation: named, input: Some(input), result: Err(error) };
    };
    let result = handler(&Ctx { state, caller }, input.clone());
    if let Err(error) = &result
        && error.code == ErrorCode::InternalFailure
    {
        tracing::error!(operation = name, request_id = caller.request_id, "internal failure");
    }
    Outcome { operation: Some((*name).to_owned()), input: Some(input), result }
}
