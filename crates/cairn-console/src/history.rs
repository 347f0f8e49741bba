//! Event history: the newest events first, filtered by one lookup attribute and a time range, with
//! LookupEvents' own semantics (the page calls it).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::html::{escape, page};
use crate::{Console, caller, session_of, to_sign_in, user_name};

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

/// `value` percent-encoded for a query string.
fn percent(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let Some((_, session)) = session_of(&console, &headers) else { return to_sign_in() };
    let mut body = filter_form(&filter);
    match filter.input() {
        Err(message) => {
            let _ = write!(body, r#"<p class="error" role="alert">{}</p>"#, escape(&message));
        }
        Ok(input) => {
            let caller = caller(&console, &session, peer, &headers);
            match cairn_api::console::call(&console.api, &caller, "LookupEvents", input).await {
                Ok(output) => body.push_str(&events_table(&output, &filter)),
                Err(error) => {
                    let _ = write!(
                        body,
                        r#"<p class="error" role="alert">{}: {}</p>"#,
                        escape(error.code.as_str()),
                        escape(&error.message)
                    );
                }
            }
        }
    }
    Html(page("Event history", &body, Some((user_name(&session), &session.csrf)))).into_response()
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
<p><button type="submit">Filter</button></p></form>"#,
        value = escape(&filter.value),
        start = escape(&filter.start),
        end = escape(&filter.end),
    )
}

fn events_table(output: &Value, filter: &Filter) -> String {
    let events = output.get("Events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out = String::from(
        r#"<table><thead><tr><th scope="col">Event time</th><th scope="col">Event name</th><th scope="col">User name</th><th scope="col">Event source</th><th scope="col">Resource type</th><th scope="col">Resource name</th><th scope="col">AWS access key</th><th scope="col">Source IP address</th><th scope="col">AWS region</th><th scope="col">Read-only</th></tr></thead><tbody>"#,
    );
    for event in events {
        let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("");
        let record: Value = serde_json::from_str(text("CloudTrailEvent")).unwrap_or(Value::Null);
        let from_record = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let time = event
            .get("EventTime")
            .and_then(Value::as_f64)
            .and_then(|seconds| jiff::Timestamp::from_second(seconds as i64).ok())
            .map(|at| at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let resources = event.get("Resources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let joined = |key: &str| {
            resources.iter().filter_map(|r| r.get(key).and_then(Value::as_str)).collect::<Vec<_>>().join(", ")
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&time),
            escape(text("EventName")),
            escape(text("Username")),
            escape(text("EventSource")),
            escape(&joined("ResourceType")),
            escape(&joined("ResourceName")),
            escape(text("AccessKeyId")),
            escape(&from_record("sourceIPAddress")),
            escape(&from_record("awsRegion")),
            escape(text("ReadOnly")),
        );
    }
    out.push_str("</tbody></table>");
    if events.is_empty() {
        out.push_str("<p>No events match.</p>");
    }
    if let Some(next) = output.get("NextToken").and_then(Value::as_str) {
        let _ = write!(out, r#"<p><a href="/history?{}">Older events</a></p>"#, escape(&filter.query(next)));
    }
    out
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
