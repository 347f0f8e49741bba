//! The CloudWatch Logs operations cairn serves, with AWS's limits and error codes.

use cairn_model::ApiError;
use cairn_store::logs::LogEvent;
use serde::Deserialize;
use serde_json::{Value, json};

use super::filter::FilterPattern;
use super::{LogsCtx, store_error};
use crate::json11;

const MAX_PUT_EVENTS: usize = 10_000;
const MAX_GET_EVENTS: usize = 10_000;
const MAX_DESCRIBE: usize = 50;

/// `[A-Za-z0-9_\-/.#]{1,512}` (spec/formats.md §4.1).
fn check_group_name(name: &str) -> Result<(), ApiError> {
    let valid = (1..=512).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'#'));
    if valid {
        return Ok(());
    }
    Err(ApiError::invalid_parameter(format!(
        "1 validation error detected: Value '{}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        cairn_model::error::truncate_for_message(name)
    )))
}

/// 1–512 characters, neither `:` nor `*`.
fn check_stream_name(name: &str) -> Result<(), ApiError> {
    if (1..=512).contains(&name.len()) && !name.contains([':', '*']) {
        return Ok(());
    }
    Err(ApiError::invalid_parameter(format!(
        "1 validation error detected: Value '{}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
        cairn_model::error::truncate_for_message(name)
    )))
}

/// `logGroupName`, or `logGroupIdentifier` (a name or an ARN).
fn group_name(name: Option<String>, identifier: Option<String>) -> Result<String, ApiError> {
    let name = match (name, identifier) {
        (Some(name), None) => name,
        (None, Some(identifier)) => match identifier.split_once(":log-group:") {
            Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest).to_owned(),
            None => identifier,
        },
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_parameter(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid_parameter(
                "Either the log group name or the log group ARN must be specified.",
            ));
        }
    };
    check_group_name(&name)?;
    Ok(name)
}

fn group_arn(ctx: &LogsCtx<'_>, name: &str) -> String {
    format!("arn:aws:logs:{}:{}:log-group:{name}", ctx.region, ctx.account_id)
}

/// An offset token of the list operations.
fn offset_of(token: Option<&str>) -> Result<usize, ApiError> {
    token.map_or(Ok(0), |t| t.parse().map_err(|_| ApiError::invalid_parameter("The specified nextToken is not valid.")))
}

fn limit_of(limit: Option<i64>, max: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(max),
        Some(n) if n >= 1 && n as u64 <= max as u64 => Ok(n as usize),
        Some(n) => Err(ApiError::invalid_parameter(format!("limit {n} is not between 1 and {max}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInput {
    log_group_name: String,
}

pub(super) fn create_log_group(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: GroupInput = json11::input(input)?;
    check_group_name(&input.log_group_name)?;
    ctx.logs.create_group(&ctx.group(&input.log_group_name), ctx.now_ms).map_err(store_error)?;
    Ok(json!({}))
}

pub(super) fn delete_log_group(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: GroupInput = json11::input(input)?;
    check_group_name(&input.log_group_name)?;
    ctx.logs.delete_group(&ctx.group(&input.log_group_name)).map_err(store_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeGroupsInput {
    log_group_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn describe_log_groups(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: DescribeGroupsInput = json11::input(input)?;
    let (offset, limit) = (offset_of(input.next_token.as_deref())?, limit_of(input.limit, MAX_DESCRIBE)?);
    let groups = ctx.logs.groups(ctx.account_id, ctx.region, input.log_group_name_prefix.as_deref().unwrap_or(""));
    let page: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(limit)
        .map(|g| {
            let arn = group_arn(ctx, &g.name);
            json!({
                "logGroupName": g.name,
                "creationTime": g.creation_time,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": g.stored_bytes,
            })
        })
        .collect();
    let mut out = json!({ "logGroups": page });
    if offset + limit < groups.len() {
        out["nextToken"] = json!((offset + limit).to_string());
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamInput {
    log_group_name: String,
    log_stream_name: String,
}

pub(super) fn create_log_stream(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: StreamInput = json11::input(input)?;
    check_group_name(&input.log_group_name)?;
    check_stream_name(&input.log_stream_name)?;
    ctx.logs
        .create_stream(&ctx.group(&input.log_group_name), &input.log_stream_name, ctx.now_ms)
        .map_err(store_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn describe_log_streams(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: DescribeStreamsInput = json11::input(input)?;
    let name = group_name(input.log_group_name, input.log_group_identifier)?;
    let (offset, limit) = (offset_of(input.next_token.as_deref())?, limit_of(input.limit, MAX_DESCRIBE)?);
    let mut streams = ctx
        .logs
        .streams(&ctx.group(&name), input.log_stream_name_prefix.as_deref().unwrap_or(""))
        .map_err(store_error)?;
    if input.order_by.as_deref() == Some("LastEventTime") {
        streams.sort_by_key(|s| s.last_event_timestamp);
    }
    if input.descending == Some(true) {
        streams.reverse();
    }
    let page: Vec<Value> = streams
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| {
            let mut stream = json!({
                "logStreamName": s.name,
                "creationTime": s.creation_time,
                "arn": format!("arn:aws:logs:{}:{}:log-group:{name}:log-stream:{}", ctx.region, ctx.account_id, s.name),
                "storedBytes": s.stored_bytes,
            });
            for (member, value) in [
                ("firstEventTimestamp", s.first_event_timestamp),
                ("lastEventTimestamp", s.last_event_timestamp),
                ("lastIngestionTime", s.last_ingestion_time),
            ] {
                if let Some(value) = value {
                    stream[member] = json!(value);
                }
            }
            stream
        })
        .collect();
    let mut out = json!({ "logStreams": page });
    if offset + limit < streams.len() {
        out["nextToken"] = json!((offset + limit).to_string());
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutInput {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputEvent>,
}

#[derive(Deserialize)]
struct InputEvent {
    timestamp: i64,
    message: String,
}

pub(super) fn put_log_events(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: PutInput = json11::input(input)?;
    check_group_name(&input.log_group_name)?;
    check_stream_name(&input.log_stream_name)?;
    if input.log_events.is_empty() || input.log_events.len() > MAX_PUT_EVENTS {
        return Err(ApiError::invalid_parameter(format!(
            "logEvents must hold 1 to {MAX_PUT_EVENTS} events, not {}",
            input.log_events.len()
        )));
    }
    if input.log_events.windows(2).any(|pair| pair[1].timestamp < pair[0].timestamp) {
        return Err(ApiError::invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let events: Vec<(i64, String)> = input.log_events.into_iter().map(|e| (e.timestamp, e.message)).collect();
    ctx.logs
        .put(&ctx.group(&input.log_group_name), &input.log_stream_name, &events, ctx.now_ms)
        .map_err(store_error)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

/// GetLogEvents' tokens: `f/N` reads forward from position N, `b/N` backward from before it.
enum Direction {
    Forward(u64),
    Backward(u64),
}

fn direction_of(token: &str) -> Result<Direction, ApiError> {
    let invalid = || ApiError::invalid_parameter("The specified nextToken is not valid.");
    let (kind, position) = token.split_once('/').ok_or_else(invalid)?;
    let position: u64 = position.parse().map_err(|_| invalid())?;
    match kind {
        "f" => Ok(Direction::Forward(position)),
        "b" => Ok(Direction::Backward(position)),
        _ => Err(invalid()),
    }
}

pub(super) fn get_log_events(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: GetInput = json11::input(input)?;
    let name = group_name(input.log_group_name, input.log_group_identifier)?;
    check_stream_name(&input.log_stream_name)?;
    let limit = limit_of(input.limit, MAX_GET_EVENTS)?;
    let stored = ctx.logs.stream_events(&ctx.group(&name), &input.log_stream_name).map_err(store_error)?;
    let in_window = |e: &LogEvent| {
        input.start_time.is_none_or(|start| e.timestamp >= start) && input.end_time.is_none_or(|end| e.timestamp < end)
    };
    let positioned: Vec<(u64, &LogEvent)> = stored
        .events
        .iter()
        .enumerate()
        .map(|(idx, e)| (stored.first_seq + idx as u64, e))
        .filter(|(_, e)| in_window(e))
        .collect();
    let direction = match input.next_token.as_deref() {
        Some(token) => direction_of(token)?,
        None if input.start_from_head == Some(true) => Direction::Forward(0),
        None => Direction::Backward(u64::MAX),
    };
    let (page, empty_at): (&[(u64, &LogEvent)], u64) = match direction {
        Direction::Forward(from) => {
            let start = positioned.partition_point(|(seq, _)| *seq < from);
            (&positioned[start..positioned.len().min(start + limit)], from)
        }
        Direction::Backward(before) => {
            let end = positioned.partition_point(|(seq, _)| *seq < before);
            (&positioned[end.saturating_sub(limit)..end], before.min(stored.first_seq + stored.events.len() as u64))
        }
    };
    let forward = page.last().map_or(empty_at, |(seq, _)| seq + 1);
    let backward = page.first().map_or(empty_at, |(seq, _)| *seq);
    let events: Vec<Value> = page
        .iter()
        .map(|(_, e)| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time}))
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": format!("f/{forward}"),
        "nextBackwardToken": format!("b/{backward}"),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn filter_log_events(ctx: &LogsCtx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: FilterInput = json11::input(input)?;
    let name = group_name(input.log_group_name, input.log_group_identifier)?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(ApiError::invalid_parameter("logStreamNames and logStreamNamePrefix are mutually exclusive"));
    }
    let pattern = FilterPattern::parse(input.filter_pattern.as_deref().unwrap_or(""))?;
    let (offset, limit) = (offset_of(input.next_token.as_deref())?, limit_of(input.limit, MAX_GET_EVENTS)?);
    let group = ctx.group(&name);
    let streams: Option<Vec<String>> = match (input.log_stream_names, input.log_stream_name_prefix) {
        (Some(names), _) => Some(names),
        (None, Some(prefix)) => {
            Some(ctx.logs.streams(&group, &prefix).map_err(store_error)?.into_iter().map(|s| s.name).collect())
        }
        (None, None) => None,
    };
    let found = ctx
        .logs
        .filter(&group, streams.as_deref(), |e| {
            input.start_time.is_none_or(|start| e.timestamp >= start)
                && input.end_time.is_none_or(|end| e.timestamp <= end)
                && pattern.matches(&e.message)
        })
        .map_err(store_error)?;
    let events: Vec<Value> = found
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(idx, (stream, e))| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_time,
                "eventId": format!("{:020}{idx:016}", e.timestamp),
            })
        })
        .collect();
    let mut out = json!({ "events": events, "searchedLogStreams": [] });
    if offset + limit < found.len() {
        out["nextToken"] = json!((offset + limit).to_string());
    }
    Ok(out)
}
