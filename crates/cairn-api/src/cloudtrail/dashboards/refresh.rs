//! Dashboard refreshes: one Lake query per widget, remembered in the dashboard's record under a
//! `RefreshId`, one refresh at a time per dashboard (spec/api.md §1.10, §2.12); and the scheduler that
//! refreshes dashboards whose enabled schedule is due.

use std::sync::Arc;
use std::time::Duration;

use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::records::{DashboardRecord, DashboardRefresh, QueryRequest, WidgetQuery};

use super::schedule::{next_refresh, parameter_values};
use super::statement::{ParameterValues, substitute};
use crate::state::AppState;

/// Refreshes kept per dashboard: their widget queries stay reachable by alias.
const MAX_KEPT_REFRESHES: usize = 10;
/// How often the scheduler looks for due dashboards.
const SCHEDULER_PERIOD: Duration = Duration::from_secs(60);

/// What started a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    Manual,
    Schedule,
}

/// Starts a refresh of the dashboard stored under `key`: every widget's query, with `values` in its
/// placeholders. Returns the `RefreshId`. If any query cannot start, those already started are
/// cancelled and nothing is recorded.
pub(crate) fn refresh(
    state: &AppState,
    key: &str,
    values: &ParameterValues,
    trigger: Trigger,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    let mut started: Vec<(String, String)> = Vec::new();
    let outcome = state.dashboards.transact(|dashboards| {
        let Some(current) = dashboards.get(key) else {
            return Err(ApiError::new(ErrorCode::ResourceNotFound, format!("The dashboard {key} was not found.")));
        };
        if is_refreshing(state, current) {
            return Err(ApiError::new(
                ErrorCode::ServiceQuotaExceeded,
                format!(
                    "Dashboard {} is already refreshing (refresh {}); a dashboard runs one refresh at a time.",
                    current.arn(),
                    current.last_refresh().map_or("", |r| r.id.as_str())
                ),
            ));
        }
        let mut queries = Vec::with_capacity(current.widgets.len());
        for widget in &current.widgets {
            let parameters = widget.query_parameters.as_deref().unwrap_or_default();
            let request = QueryRequest {
                account_id: current.account_id.clone(),
                region: current.region.clone(),
                statement: substitute(&widget.query_statement, parameters, values)
                    .map_err(|e| of_widget(&widget.query_alias, e))?,
                delivery_s3_uri: None,
            };
            let query = state.lake.start_query(request).map_err(|e| of_widget(&widget.query_alias, e))?;
            started.push((current.account_id.clone(), query.id.clone()));
            queries.push(WidgetQuery { query_alias: widget.query_alias.clone(), query_id: query.id });
        }
        let refresh_id = next_refresh_id(current, now);
        let mut record = current.clone();
        record.refreshes.push(DashboardRefresh {
            id: refresh_id.clone(),
            started_at: now,
            scheduled: trigger == Trigger::Schedule,
            queries,
        });
        let n_dropped = record.refreshes.len().saturating_sub(MAX_KEPT_REFRESHES);
        record.refreshes.drain(..n_dropped);
        if trigger == Trigger::Schedule {
            record.last_refresh_failure_reason = None;
            record.next_scheduled_refresh = record.refresh_schedule.as_ref().and_then(|s| next_refresh(s, now));
        }
        Ok::<_, ApiError>((refresh_id, vec![Change::Put(record)]))
    });
    if outcome.is_err() {
        for (account_id, query_id) in &started {
            // A query that already finished cannot be cancelled; that is fine.
            let _ = state.lake.cancel(account_id, query_id);
        }
    }
    outcome
}

/// Whether a query of the dashboard's last refresh is still queued or running.
pub(crate) fn is_refreshing(state: &AppState, dashboard: &DashboardRecord) -> bool {
    dashboard.last_refresh().is_some_and(|refresh| {
        refresh.queries.iter().any(|widget_query| {
            state
                .lake
                .query(&dashboard.account_id, &widget_query.query_id)
                .is_ok_and(|query| !query.status.is_terminal())
        })
    })
}

/// A refresh ID: the start time in epoch milliseconds, made larger than the last one if the clock did
/// not move; 10 to 20 digits.
pub(crate) fn next_refresh_id(dashboard: &DashboardRecord, now: jiff::Timestamp) -> String {
    let now_ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let last = dashboard.last_refresh().and_then(|r| r.id.parse::<u64>().ok());
    format!("{:010}", last.map_or(now_ms, |last| now_ms.max(last.saturating_add(1))))
}

fn of_widget(alias: &str, error: ApiError) -> ApiError {
    ApiError::new(error.code, format!("Widget {alias}: {}", error.message))
}

impl AppState {
    /// Refreshes dashboards whose enabled schedule is due, checking once a minute; runs until the
    /// server stops. Refreshes use the default window (the last 24 hours, by day).
    pub async fn run_refresh_schedules(state: Arc<AppState>) {
        let mut interval = tokio::time::interval(SCHEDULER_PERIOD);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            let pass_state = Arc::clone(&state);
            // Refreshes commit to the metadata store (fsync): blocking work.
            if let Err(error) = tokio::task::spawn_blocking(move || refresh_due_dashboards(&pass_state)).await {
                tracing::error!(%error, "the dashboard refresh scheduler failed");
            }
        }
    }
}

/// One pass of the scheduler: each dashboard due now is refreshed, or its failure recorded.
pub(crate) fn refresh_due_dashboards(state: &AppState) {
    let now = state.clock.now();
    let due: Vec<String> = state.dashboards.read(|dashboards| {
        dashboards
            .iter()
            .filter(|(_, d)| d.refresh_schedule.as_ref().is_some_and(|s| s.enabled))
            .filter(|(_, d)| d.next_scheduled_refresh.is_some_and(|at| at <= now))
            .map(|(key, _)| key.clone())
            .collect()
    });
    for key in due {
        let outcome = parameter_values(None, now).and_then(|values| refresh(state, &key, &values, Trigger::Schedule));
        match outcome {
            Ok(refresh_id) => tracing::info!(dashboard = key, refresh_id, "scheduled dashboard refresh started"),
            Err(error) => {
                tracing::warn!(
                    dashboard = key,
                    code = error.code.as_str(),
                    message = error.message,
                    "scheduled dashboard refresh failed"
                );
                if let Err(store_error) = record_failure(state, &key, &error.message, now) {
                    tracing::error!(
                        dashboard = key,
                        message = store_error.message,
                        "recording a refresh failure failed"
                    );
                }
            }
        }
    }
}

/// Keeps why a scheduled refresh could not start, and moves the schedule to its next time.
fn record_failure(state: &AppState, key: &str, reason: &str, now: jiff::Timestamp) -> Result<(), ApiError> {
    state.dashboards.transact(|dashboards| {
        let Some(current) = dashboards.get(key) else { return Ok(((), Vec::new())) };
        let mut record = current.clone();
        record.last_refresh_failure_reason = Some(reason.to_owned());
        record.next_scheduled_refresh = record.refresh_schedule.as_ref().and_then(|s| next_refresh(s, now));
        Ok::<_, ApiError>(((), vec![Change::Put(record)]))
    })
}
