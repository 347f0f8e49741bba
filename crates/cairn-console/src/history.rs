//! Event history: the newest events first, filtered by one lookup attribute and a time range, with
//! LookupEvents' own semantics (the page calls it).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::html::{alert, api_error, attachment, escape, percent, utc_time};
use crate::{Console, Visit};

/// LookupEvents' attribute keys, as the filter offers them.
const ATTRIBUTES: &[&str] =
    &["Username", "EventName", "EventSource", "ResourceType", "ResourceName", "ReadOnly", "AccessKeyId", "EventId"];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    attribute: String,
    #[serde(default)]
    value: String,
    /// `YYYY-MM-DDTHH:MM` in UTC, as a `datetime-local` input sends it.
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    /// Free text the raw record must contain (ASCII case ignored).
    #[serde(default)]
    text: String,
    #[serde(default)]
    next: String,
}

impl Filter {
    /// The LookupEvents input for this filter, or why it cannot be one.
    fn input(&self) -> Result<Value, String> {
        let mut input = json!({ "MaxResults": 50 });
        if !self.value.is_empty() {
            if !ATTRIBUTES.contains(&self.attribute.as_str()) {
                return Err(format!("Choose one of the lookup attributes, not {:?}.", self.attribute));
            }
            input["LookupAttributes"] = json!([{ "AttributeKey": self.attribute, "AttributeValue": self.value }]);
        }
        for (member, text) in [("StartTime", &self.start), ("EndTime", &self.end)] {
            if !text.is_empty() {
                input[member] = json!(epoch_seconds(text)?);
            }
        }
        if !self.next.is_empty() {
            input["NextToken"] = json!(self.next);
        }
        Ok(input)
    }

    /// The query string of this filter with `next` as the page token.
    fn query(&self, next: &str) -> String {
        let pairs = [
            ("attribute", self.attribute.as_str()),
            ("value", &self.value),
            ("start", &self.start),
            ("end", &self.end),
            ("text", &self.text),
            ("next", next),
        ];
        pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| format!("{key}={}", percent(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]` in UTC as seconds since the epoch.
fn epoch_seconds(text: &str) -> Result<i64, String> {
    let civil: jiff::civil::DateTime =
        text.parse().map_err(|_| format!("{text:?} is not a date and time (YYYY-MM-DDTHH:MM, UTC)."))?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|zoned| zoned.timestamp().as_second())
        .map_err(|_| format!("{text:?} is out of range."))
}

pub(crate) async fn show(State(console): State<Arc<Console>>, visit: Visit, Query(filter): Query<Filter>) -> Response {
    let mut body = filter_form(&filter);
    match filter.input() {
        Err(message) => {
            body.push_str(&alert(&message));
        }
        Ok(input) => match lookup_page(&console, &visit, &filter, input).await {
            Ok(output) => body.push_str(&events_table(&output, &filter)),
            Err(error) => body.push_str(&alert(&api_error(&error))),
        },
    }
    Html(visit.page("Event history", &body)).into_response()
}

/// Seconds between reloads of the live view.
const LIVE_REFRESH: u32 = 2;

/// The live view: the newest events of the filter, reloaded every [`LIVE_REFRESH`] seconds.
pub(crate) async fn live(State(console): State<Arc<Console>>, visit: Visit, Query(filter): Query<Filter>) -> Response {
    let mut body = format!(
        r#"<p>The newest events, updated every {LIVE_REFRESH} seconds. <a href="/history?{query}">Pause</a> · <a href="/history/live?attribute=ReadOnly&amp;value=false">Only write events</a> · <a href="/history/live">All events</a></p>"#,
        query = escape(&filter.query("")),
    );
    let live = Filter { next: String::new(), start: String::new(), end: String::new(), ..filter };
    match live.input() {
        Err(message) => body.push_str(&alert(&message)),
        Ok(input) => match lookup_page(&console, &visit, &live, input).await {
            Ok(output) => body.push_str(&rows_table(&output)),
            Err(error) => body.push_str(&alert(&api_error(&error))),
        },
    }
    visit.respond_refreshing(StatusCode::OK, "Event history: live", &body, LIVE_REFRESH)
}

fn filter_form(filter: &Filter) -> String {
    let options: String = ATTRIBUTES
        .iter()
        .map(|key| {
            let selected = if *key == filter.attribute { " selected" } else { "" };
            format!(r#"<option value="{key}"{selected}>{key}</option>"#)
        })
        .collect();
    format!(
        r#"<form method="get" action="/history" role="search">
<label for="attribute">Lookup attribute</label><select id="attribute" name="attribute">{options}</select>
<label for="value">Value</label><input id="value" name="value" value="{value}">
<label for="start">From (UTC)</label><input id="start" name="start" type="datetime-local" value="{start}">
<label for="end">To (UTC)</label><input id="end" name="end" type="datetime-local" value="{end}">
<label for="text">Text in the event record (optional)</label><input id="text" name="text" value="{text}">
<p><button type="submit">Filter</button> <a href="/history/live?{query}">Live view</a></p></form>"#,
        value = escape(&filter.value),
        start = escape(&filter.start),
        end = escape(&filter.end),
        text = escape(&filter.text),
        query = escape(&filter.query("")),
    )
}

/// The events of a LookupEvents output as the table AWS shows.
fn rows_table(output: &Value) -> String {
    let events = output.get("Events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Event time</th><th scope="col">Event name</th><th scope="col">User name</th><th scope="col">Event source</th><th scope="col">Resource type</th><th scope="col">Resource name</th><th scope="col">AWS access key</th><th scope="col">Source IP address</th><th scope="col">AWS region</th><th scope="col">Read-only</th></tr></thead><tbody>"#,
    );
    for event in events {
        let row = Row::of(event);
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td><a href="/history/event/{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&row.time),
            percent(&row.id),
            escape(&row.name),
            escape(&row.user),
            escape(&row.source),
            escape(&row.resource_types),
            escape(&row.resource_names),
            escape(&row.access_key),
            escape(&row.source_ip),
            escape(&row.region),
            escape(&row.read_only),
        );
    }
    out.push_str("</tbody></table>");
    if events.is_empty() {
        out.push_str("<p>No events match.</p>");
    }
    out
}

fn events_table(output: &Value, filter: &Filter) -> String {
    let mut out = rows_table(output);
    let whole = escape(&filter.query(""));
    let _ = write!(
        out,
        r#"<p>Download the filtered events (newest {MAX_DOWNLOAD} at most): <a href="/history.csv?{whole}" download>CSV</a> · <a href="/history.json?{whole}" download>JSON</a></p>"#
    );
    if let Some(next) = output.get("NextToken").and_then(Value::as_str) {
        if !filter.text.is_empty() {
            out.push_str(r#"<p class="help">A text search looks through a few thousand events per page; older events may match too.</p>"#);
        }
        let _ = write!(out, r#"<p><a href="/history?{}">Older events</a></p>"#, escape(&filter.query(next)));
    }
    out
}

/// The most events one download holds.
const MAX_DOWNLOAD: usize = 5_000;

/// One page of LookupEvents for `input`, narrowed by the filter's free text when it has some, waiting
/// out throttling (a download reads many pages, and LookupEvents allows two calls a second).
async fn lookup_page(
    console: &Console,
    visit: &Visit,
    filter: &Filter,
    input: Value,
) -> Result<Value, cairn_model::ApiError> {
    let mut waits = 0;
    loop {
        let answer = if filter.text.is_empty() {
            visit.call(console, "LookupEvents", input.clone()).await
        } else {
            cairn_api::console::search_history(&console.api, &visit.caller, input.clone(), filter.text.clone()).await
        };
        match answer {
            Err(error) if error.code == cairn_model::ErrorCode::Throttling && waits < 20 => {
                waits += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// One event's record, pretty-printed.
pub(crate) async fn event(
    State(console): State<Arc<Console>>,
    visit: Visit,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let input = json!({ "LookupAttributes": [{ "AttributeKey": "EventId", "AttributeValue": id }], "MaxResults": 1 });
    let found = lookup_page(&console, &visit, &Filter::default(), input).await;
    let record = found.as_ref().ok().and_then(|output| {
        let text = output.get("Events")?.as_array()?.first()?.get("CloudTrailEvent")?.as_str()?;
        serde_json::from_str::<Value>(text).ok()
    });
    match (found, record) {
        (Ok(_), Some(record)) => {
            let pretty = serde_json::to_string_pretty(&record).unwrap_or_default();
            let name = record.get("eventName").and_then(Value::as_str).unwrap_or("Event");
            let body = format!(
                r#"<p><a href="/history">Back to Event history</a></p><pre aria-label="Event record">{}</pre>"#,
                escape(&pretty)
            );
            visit.respond(StatusCode::OK, name, &body)
        }
        (Ok(_), None) => {
            let body = format!("<p>No event {} in the last 90 days of this region.</p>", escape(&id));
            visit.respond(StatusCode::NOT_FOUND, "Event not found", &body)
        }
        (Err(error), _) => visit.respond(StatusCode::BAD_REQUEST, "Event", &alert(&api_error(&error))),
    }
}

pub(crate) async fn csv(State(console): State<Arc<Console>>, visit: Visit, Query(filter): Query<Filter>) -> Response {
    download(&console, &visit, filter, true).await
}

pub(crate) async fn json(State(console): State<Arc<Console>>, visit: Visit, Query(filter): Query<Filter>) -> Response {
    download(&console, &visit, filter, false).await
}

/// The filtered events as a file: CSV with the table's columns, or JSON (`{"Records": [...]}`, as
/// CloudTrail log files hold them).
async fn download(console: &Console, visit: &Visit, filter: Filter, as_csv: bool) -> Response {
    let mut input = match filter.input() {
        Ok(input) => input,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let mut events: Vec<Value> = Vec::new();
    loop {
        let output = match lookup_page(console, visit, &filter, input.clone()).await {
            Ok(output) => output,
            Err(error) => {
                return (StatusCode::BAD_REQUEST, api_error(&error)).into_response();
            }
        };
        events.extend(output.get("Events").and_then(Value::as_array).cloned().unwrap_or_default());
        match output.get("NextToken").and_then(Value::as_str) {
            Some(next) if events.len() < MAX_DOWNLOAD => input["NextToken"] = json!(next),
            _ => break,
        }
    }
    events.truncate(MAX_DOWNLOAD);
    if as_csv {
        attachment("event-history.csv", "text/csv; charset=utf-8", events_csv(&events))
    } else {
        let records: Vec<Value> = events
            .iter()
            .filter_map(|event| serde_json::from_str(event.get("CloudTrailEvent")?.as_str()?).ok())
            .collect();
        let body = serde_json::to_string_pretty(&json!({ "Records": records })).unwrap_or_default();
        attachment("event-history.json", "application/json", body)
    }
}

/// The events as CSV: one header row, then a row per event with the table's columns, the event ID and
/// the error code.
fn events_csv(events: &[Value]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "Event ID",
        "Event time",
        "Event name",
        "User name",
        "Event source",
        "Resource type",
        "Resource name",
        "AWS access key",
        "Source IP address",
        "AWS region",
        "Error code",
        "Read-only",
    ];
    let _ = writer.write_record(header);
    for event in events {
        let row = Row::of(event);
        let _ = writer.write_record([
            row.id,
            row.time,
            row.name,
            row.user,
            row.source,
            row.resource_types,
            row.resource_names,
            row.access_key,
            row.source_ip,
            row.region,
            row.error_code,
            row.read_only,
        ]);
    }
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

/// One LookupEvents event as the table and the CSV show it.
struct Row {
    id: String,
    time: String,
    name: String,
    user: String,
    source: String,
    resource_types: String,
    resource_names: String,
    access_key: String,
    source_ip: String,
    region: String,
    error_code: String,
    read_only: String,
}

impl Row {
    fn of(event: &Value) -> Row {
        let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let record: Value = serde_json::from_str(&text("CloudTrailEvent")).unwrap_or(Value::Null);
        let from_record = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let resources = event.get("Resources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let joined = |key: &str| {
            resources.iter().filter_map(|r| r.get(key).and_then(Value::as_str)).collect::<Vec<_>>().join(", ")
        };
        Row {
            id: text("EventId"),
            time: utc_time(event.get("EventTime").and_then(Value::as_f64)).unwrap_or_default(),
            name: text("EventName"),
            user: text("Username"),
            source: text("EventSource"),
            resource_types: joined("ResourceType"),
            resource_names: joined("ResourceName"),
            access_key: text("AccessKeyId"),
            source_ip: from_record("sourceIPAddress"),
            region: from_record("awsRegion"),
            error_code: from_record("errorCode"),
            read_only: text("ReadOnly"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_becomes_lookup_events_input() {
        let filter = Filter {
            attribute: "Username".to_owned(),
            value: "alice".to_owned(),
            start: "2026-12-07T10:00".to_owned(),
            ..Filter::default()
        };
        assert_eq!(
            filter.input(),
            Ok(
                json!({"MaxResults": 50, "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "alice"}], "StartTime": 1_796_637_600})
            )
        );
        let bad = Filter { attribute: "Colour".to_owned(), value: "x".to_owned(), ..Filter::default() };
        assert!(bad.input().is_err());
        let late = Filter { end: "yesterday".to_owned(), ..Filter::default() };
        assert!(late.input().is_err());
        assert_eq!(filter.query("a b&c"), "attribute=Username&value=alice&start=2026-12-07T10%3A00&next=a%20b%26c");
    }
}
