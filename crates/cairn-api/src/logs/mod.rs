//! The embedded CloudWatch Logs endpoint (issue 9): requests whose SigV4 scope names `logs`, AWS
//! JSON 1.1 with `X-Amz-Target: Logs_20140328.<Operation>`, over `cairn_store::logs::LogGroups`,
//! where trails' log streaming writes. Enough for `aws logs` and boto3 to create groups and
//! streams, put, read and filter events. Calls are not recorded as CloudTrail events.
//!
//! Boundary: handlers take the store, the caller's account and region and the JSON input, and
//! return the JSON output or an [`ApiError`]; they never see HTTP.

mod filter;
mod operations;

use std::sync::Arc;

use cairn_model::{ApiError, ErrorCode};
use cairn_store::logs::{GroupKey, LogGroups, LogsError};
use serde_json::Value;

use crate::caller::Caller;
use crate::json11;
use crate::state::AppState;

pub(crate) const TARGET_PREFIX: &str = "Logs_20140328.";

/// What a handler works on.
pub(crate) struct LogsCtx<'a> {
    pub(crate) logs: &'a LogGroups,
    pub(crate) account_id: &'a str,
    pub(crate) region: &'a str,
    pub(crate) now_ms: i64,
}

impl LogsCtx<'_> {
    fn group(&self, name: &str) -> GroupKey {
        GroupKey { account_id: self.account_id.to_owned(), region: self.region.to_owned(), name: name.to_owned() }
    }
}

type Handler = fn(&LogsCtx<'_>, Value) -> Result<Value, ApiError>;

const OPERATIONS: &[(&str, Handler)] = &[
    ("CreateLogGroup", operations::create_log_group),
    ("DeleteLogGroup", operations::delete_log_group),
    ("DescribeLogGroups", operations::describe_log_groups),
    ("CreateLogStream", operations::create_log_stream),
    ("DescribeLogStreams", operations::describe_log_streams),
    ("PutLogEvents", operations::put_log_events),
    ("GetLogEvents", operations::get_log_events),
    ("FilterLogEvents", operations::filter_log_events),
];

/// Serves one call off the async workers (appends fsync); returns the operation's name and result.
pub(crate) async fn serve_blocking(
    state: &Arc<AppState>,
    caller: &Caller,
    target: Option<String>,
    body: bytes::Bytes,
) -> (Option<&'static str>, Result<Value, ApiError>) {
    let (state, caller) = (state.clone(), caller.clone());
    tokio::task::spawn_blocking(move || serve(&state, &caller, target.as_deref(), &body))
        .await
        .unwrap_or_else(|_| (None, Err(ApiError::internal())))
}

fn serve(
    state: &AppState,
    caller: &Caller,
    target: Option<&str>,
    body: &[u8],
) -> (Option<&'static str>, Result<Value, ApiError>) {
    let operation = match json11::operation_of(target, TARGET_PREFIX) {
        Ok(operation) => operation,
        Err(error) => return (None, Err(error)),
    };
    let Some((name, handler)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
        let message = format!(
            "cairn serves only log groups, streams and events of CloudWatch Logs, not {}",
            cairn_model::error::truncate_for_message(operation)
        );
        return (None, Err(ApiError::new(ErrorCode::UnknownOperation, message)));
    };
    let Some(logs) = state.delivery.log_groups() else {
        let message = "the embedded CloudWatch Logs endpoint is off (embedded_cloudwatch_logs = false)";
        return (Some(name), Err(ApiError::new(ErrorCode::UnsupportedOperation, message)));
    };
    let input = match json11::parse_body(body) {
        Ok(input) => input,
        Err(error) => return (Some(name), Err(error)),
    };
    let ctx = LogsCtx {
        logs,
        account_id: caller.account_id(),
        region: &caller.region,
        now_ms: state.clock.now().as_millisecond(),
    };
    (Some(name), handler(&ctx, input))
}

/// The store's errors in CloudWatch Logs' words.
fn store_error(error: LogsError) -> ApiError {
    match error {
        LogsError::NotFound(_) => ApiError::new(ErrorCode::ResourceNotFound, error.to_string()),
        LogsError::AlreadyExists(_) => ApiError::new(ErrorCode::ResourceAlreadyExists, error.to_string()),
        LogsError::Io(_) | LogsError::Corrupt { .. } => {
            tracing::error!(%error, "embedded CloudWatch Logs store failed");
            ApiError::internal()
        }
    }
}

#[cfg(test)]
mod tests;
