//! Lake queries (spec/api.md §1.7, §2.9): StartQuery, DescribeQuery, GetQueryResults, ListQueries,
//! CancelQuery. Planning happens in StartQuery, so a statement that cannot run is refused there with
//! `InvalidQueryStatementException`; running and results belong to `cairn_lake::Lake`.

use cairn_model::clock::epoch_seconds;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::{EventDataStoreRecord, QueryRecord, QueryRequest, QueryStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::destinations::{check_bucket, check_prefix};
use super::event_data_stores::{EventDataStoreRef, Use, find};
use super::input::epoch_timestamp;
use crate::json11::input;
use crate::pagination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartQueryInput {
    query_statement: Option<String>,
    #[serde(rename = "DeliveryS3Uri")]
    delivery_s3_uri: Option<String>,
    query_alias: Option<String>,
    query_parameters: Option<Vec<String>>,
    event_data_store_owner_account_id: Option<String>,
}

pub(crate) fn start_query(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: StartQueryInput = input(raw)?;
    if request.query_alias.is_some() || request.query_parameters.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "QueryAlias and QueryParameters are for managed dashboards; specify a QueryStatement.",
        ));
    }
    if let Some(owner) = &request.event_data_store_owner_account_id
        && owner != ctx.account_id()
    {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreNotFound,
            format!("No event data store of account {owner} is shared with this account."),
        ));
    }
    let Some(statement) = request.query_statement.filter(|s| !s.is_empty()) else {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "A QueryStatement is required."));
    };
    if let Some(uri) = &request.delivery_s3_uri {
        check_delivery_uri(ctx, uri)?;
    }
    let query = ctx.state.lake.start_query(QueryRequest {
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        statement,
        delivery_s3_uri: request.delivery_s3_uri,
    })?;
    Ok(json!({ "QueryId": query.id }))
}

/// `s3://bucket[/prefix]` naming a bucket cairn can write to.
fn check_delivery_uri(ctx: &Ctx<'_>, uri: &str) -> Result<(), ApiError> {
    let Some((bucket, prefix)) = cairn_model::names::s3_uri_parts(uri).filter(|_| uri.len() <= 1024) else {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "DeliveryS3Uri must look like s3://bucket/prefix: {}",
                cairn_model::error::truncate_for_message(uri)
            ),
        ));
    };
    check_bucket(ctx, bucket)?;
    if !prefix.is_empty() {
        check_prefix(prefix)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueryIdInput {
    query_id: Option<String>,
    query_alias: Option<String>,
    refresh_id: Option<String>,
    event_data_store: Option<String>,
    next_token: Option<String>,
    max_query_results: Option<i64>,
}

fn find_query(ctx: &Ctx<'_>, request: &QueryIdInput) -> Result<QueryRecord, ApiError> {
    let id = match (request.query_id.as_deref(), request.query_alias.as_deref()) {
        (Some(id), _) => id.to_owned(),
        // A dashboard widget's query of a refresh.
        (None, Some(alias)) => super::dashboards::query_id_of_alias(ctx, alias, request.refresh_id.as_deref())?,
        (None, None) => return Err(ApiError::new(ErrorCode::InvalidParameter, "A QueryId is required.")),
    };
    let query = ctx.state.lake.query(ctx.account_id(), &id)?;
    if let Some(store) = &request.event_data_store {
        check_store_of(ctx, store, &query)?;
    }
    Ok(query)
}

/// The deprecated `EventDataStore` member must name a store of the query, and an active one.
fn check_store_of(ctx: &Ctx<'_>, store: &str, query: &QueryRecord) -> Result<(), ApiError> {
    let record = active_store(ctx, store)?;
    if !query.event_data_stores.contains(&record.id) {
        return Err(ApiError::new(
            ErrorCode::QueryIdNotFound,
            format!("The query {} does not read the event data store {}.", query.id, record.arn()),
        ));
    }
    Ok(())
}

/// The caller's active store that `reference` (an ARN or ID) names, with the event data store
/// operations' errors.
fn active_store(ctx: &Ctx<'_>, reference: &str) -> Result<EventDataStoreRecord, ApiError> {
    let reference = EventDataStoreRef::parse(reference)?;
    ctx.state.event_data_stores.read(|stores| find(ctx, stores, &reference, Use::Active).cloned())
}

fn statistics(query: &QueryRecord) -> Value {
    json!({
        "EventsMatched": query.statistics.events_matched,
        "EventsScanned": query.statistics.events_scanned,
        "BytesScanned": query.statistics.bytes_scanned,
        "ExecutionTimeInMillis": query.statistics.execution_time_ms,
        "CreationTime": epoch_seconds(query.created_at),
    })
}

pub(crate) fn describe_query(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: QueryIdInput = input(raw)?;
    let query = find_query(ctx, &request)?;
    let mut out = json!({
        "QueryId": query.id,
        "QueryString": query.statement,
        "QueryStatus": query.status.as_str(),
        "QueryStatistics": statistics(&query),
    });
    if let Some(message) = &query.error_message {
        out["ErrorMessage"] = json!(message);
    }
    if let Some(uri) = &query.delivery_s3_uri {
        out["DeliveryS3Uri"] = json!(uri);
    }
    if let Some(status) = &query.delivery_status {
        out["DeliveryStatus"] = json!(status);
    }
    Ok(out)
}

pub(crate) fn get_query_results(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: QueryIdInput = input(raw)?;
    let max = request.max_query_results.unwrap_or(1000);
    if !(1..=1000).contains(&max) {
        return Err(ApiError::new(
            ErrorCode::InvalidMaxResults,
            format!("MaxQueryResults must be between 1 and 1000; it was {max}."),
        ));
    }
    let query = find_query(ctx, &request)?;
    let start = match request.next_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => pagination::decode_offset(token, "GetQueryResults", &query.id, "query")?,
    };
    let results = ctx.state.lake.results(&query)?;
    let mut out = json!({
        "QueryStatus": query.status.as_str(),
        "QueryStatistics": {
            "ResultsCount": 0,
            "TotalResultsCount": query.statistics.results_count,
            "BytesScanned": query.statistics.bytes_scanned,
        },
        "QueryResultRows": [],
    });
    if let Some(message) = &query.error_message {
        out["ErrorMessage"] = json!(message);
    }
    let Some(results) = results else { return Ok(out) };
    let end = start.saturating_add(max as usize).min(results.rows.len());
    let page: Vec<Value> = results
        .rows
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|row| {
            Value::Array(results.columns.iter().zip(row).map(|(column, value)| json!({ column: value })).collect())
        })
        .collect();
    out["QueryStatistics"]["ResultsCount"] = json!(page.len());
    out["QueryResultRows"] = Value::Array(page);
    if end < results.rows.len() {
        out["NextToken"] = json!(pagination::encode_offset(&query.id, end, "GetQueryResults"));
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQueriesInput {
    event_data_store: Option<String>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    query_status: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(crate) fn list_queries(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListQueriesInput = input(raw)?;
    let Some(store) = request.event_data_store.as_deref() else {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "An EventDataStore is required."));
    };
    let record = active_store(ctx, store)?;
    let max = request.max_results.unwrap_or(1000);
    if !(1..=1000).contains(&max) {
        return Err(ApiError::new(
            ErrorCode::InvalidMaxResults,
            format!("MaxResults must be between 1 and 1000; it was {max}."),
        ));
    }
    let status = match request.query_status.as_deref() {
        None => None,
        Some(text) => Some(QueryStatus::parse(text).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQueryStatus,
                format!("{} is not a query status.", cairn_model::error::truncate_for_message(text)),
            )
        })?),
    };
    let start = request.start_time.map(epoch_timestamp).transpose()?;
    let end = request.end_time.map(epoch_timestamp).transpose()?;
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(ApiError::new(ErrorCode::InvalidDateRange, "The StartTime must be before the EndTime."));
    }
    let after = request
        .next_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| pagination::decode(t, "ListQueries"))
        .transpose()?;
    let mut queries: Vec<QueryRecord> = ctx
        .state
        .lake
        .queries_of(ctx.account_id())
        .into_iter()
        .filter(|q| q.event_data_stores.contains(&record.id))
        .filter(|q| status.is_none_or(|s| q.status == s))
        .filter(|q| start.is_none_or(|s| q.created_at >= s) && end.is_none_or(|e| q.created_at <= e))
        .collect();
    // Newest first; the key orders ties.
    queries.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    let key = |q: &QueryRecord| format!("{:020}/{}", i64::MAX - q.created_at.as_millisecond(), q.id);
    let mut page: Vec<&QueryRecord> = queries.iter().filter(|q| after.as_ref().is_none_or(|a| key(q) > *a)).collect();
    let more = page.len() > max as usize;
    page.truncate(max as usize);
    let mut out = json!({
        "Queries": page.iter().map(|q| json!({
            "QueryId": q.id,
            "QueryStatus": q.status.as_str(),
            "CreationTime": epoch_seconds(q.created_at),
        })).collect::<Vec<_>>(),
    });
    if more && let Some(last) = page.last() {
        out["NextToken"] = json!(pagination::encode(&key(last), "ListQueries"));
    }
    Ok(out)
}

pub(crate) fn cancel_query(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: QueryIdInput = input(raw)?;
    let query = find_query(ctx, &request)?;
    let cancelled = ctx.state.lake.cancel(ctx.account_id(), &query.id)?;
    Ok(json!({ "QueryId": cancelled.id, "QueryStatus": cancelled.status.as_str() }))
}
