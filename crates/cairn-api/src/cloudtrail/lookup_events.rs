//! LookupEvents: Event history, newest first (spec/api.md §1.4, §2.5).

use std::sync::Arc;

use cairn_model::clock::epoch_seconds;
use cairn_model::error::truncate_for_message;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use cairn_model::{ApiError, ErrorCode};
use cairn_store::events::{EventKey, LookupPage, LookupQuery};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Ctx;
use super::input::epoch_timestamp;
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsInput {
    lookup_attributes: Option<Vec<LookupAttributeInput>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttributeInput {
    attribute_key: Option<String>,
    attribute_value: Option<String>,
}

const DEFAULT_MAX_RESULTS: i64 = 50;

pub(crate) fn lookup_events(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    ctx.state.lookup_events_throttle.take(ctx.account_id(), ctx.region(), ctx.now().as_millisecond())?;
    let (query, fingerprint) = parse(ctx, raw)?;
    let page = lookup(ctx, &query)?;
    Ok(output(&page.events, page.next, &fingerprint))
}

/// The most events one free-text search examines before it answers with what it found so far.
const SEARCH_BUDGET: usize = 5_000;

/// LookupEvents narrowed by free text, for the console's Event history: up to `MaxResults` events of
/// the lookup whose record contains `text` (ASCII case ignored).
pub(crate) fn search(ctx: &Ctx<'_>, raw: Value, text: &str) -> Result<Value, ApiError> {
    let needle = text.to_ascii_lowercase();
    lookup_where(ctx, raw, |record| contains_ignoring_case(record.text(), &needle))
}

/// LookupEvents narrowed to the events `keep` accepts: up to `MaxResults` of them, examining at most
/// [`SEARCH_BUDGET`] events; `NextToken` continues right after the last event examined, so no match
/// is skipped.
pub(crate) fn lookup_where(ctx: &Ctx<'_>, raw: Value, keep: impl Fn(&EventRecord) -> bool) -> Result<Value, ApiError> {
    ctx.state.lookup_events_throttle.take(ctx.account_id(), ctx.region(), ctx.now().as_millisecond())?;
    let (mut query, fingerprint) = parse(ctx, raw)?;
    let wanted = query.max_results;
    let mut found = Vec::new();
    let mut examined = 0;
    loop {
        // A page no longer than the matches still wanted ends where the answer may end, so its
        // continuation key is the answer's.
        query.max_results = wanted - found.len();
        let page = lookup(ctx, &query)?;
        examined += page.events.len();
        found.extend(page.events.into_iter().filter(|record| keep(record)));
        query.after = page.next;
        if query.after.is_none() || found.len() >= wanted || examined >= SEARCH_BUDGET {
            return Ok(output(&found, query.after, &fingerprint));
        }
    }
}

fn contains_ignoring_case(haystack: &str, lowercase_needle: &str) -> bool {
    lowercase_needle.is_empty()
        || haystack
            .as_bytes()
            .windows(lowercase_needle.len())
            .any(|window| window.eq_ignore_ascii_case(lowercase_needle.as_bytes()))
}

/// The request as a store query (its `after` from the NextToken) and the fingerprint its tokens carry.
fn parse(ctx: &Ctx<'_>, raw: Value) -> Result<(LookupQuery, String), ApiError> {
    let request: LookupEventsInput = input(raw)?;
    let insights = match request.event_category.as_deref() {
        None => false,
        Some("insight") => true,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidEventCategory,
                format!(
                    "Event category {} is not valid. The only valid value is insight.",
                    truncate_for_message(other)
                ),
            ));
        }
    };
    let attribute = lookup_attribute(request.lookup_attributes.unwrap_or_default(), insights)?;
    let start = request.start_time.map(epoch_timestamp).transpose()?;
    let end = request.end_time.map(epoch_timestamp).transpose()?;
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(ApiError::new(ErrorCode::InvalidTimeRange, "Start time must be before end time."));
    }
    let max_results = request.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    if !(1..=50).contains(&max_results) {
        return Err(ApiError::new(
            ErrorCode::InvalidMaxResults,
            format!("MaxResults {max_results} is not valid; it must be between 1 and 50."),
        ));
    }
    let mut query = LookupQuery {
        account_id: ctx.account_id().to_owned(),
        region: ctx.region().to_owned(),
        attribute,
        start,
        end,
        insights,
        max_results: usize::try_from(max_results).unwrap_or(50),
        after: None,
    };
    let fingerprint = query_fingerprint(&query);
    query.after = request.next_token.as_deref().map(|token| decode_token(token, &fingerprint)).transpose()?;
    Ok((query, fingerprint))
}

fn lookup(ctx: &Ctx<'_>, query: &LookupQuery) -> Result<LookupPage, ApiError> {
    // Handlers run on the blocking pool, where waiting on the runtime is allowed.
    Ok(tokio::runtime::Handle::current().block_on(ctx.state.events.lookup(query))?)
}

fn output(events: &[Arc<EventRecord>], next: Option<EventKey>, fingerprint: &str) -> Value {
    let events: Vec<Value> = events.iter().map(|record| event_output(record)).collect();
    let mut output = json!({"Events": events});
    if let Some(next) = next {
        output["NextToken"] = json!(encode_token(fingerprint, next));
    }
    output
}

/// At most one attribute, with a known key and a value of 1–2000 characters, where
/// `_`, space, `,` and newline count twice (spec/api.md §2.5).
fn lookup_attribute(
    attributes: Vec<LookupAttributeInput>,
    insights: bool,
) -> Result<Option<(LookupAttributeKey, String)>, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidLookupAttributes, message);
    if attributes.len() > 1 {
        return Err(invalid("You can specify only one lookup attribute per request.".to_owned()));
    }
    let Some(attribute) = attributes.into_iter().next() else {
        return Ok(None);
    };
    let (Some(key_name), Some(value)) = (attribute.attribute_key, attribute.attribute_value) else {
        return Err(invalid("A lookup attribute needs both an AttributeKey and an AttributeValue.".to_owned()));
    };
    let Some(key) = LookupAttributeKey::from_name(&key_name) else {
        let valid: Vec<&str> = LookupAttributeKey::ALL.iter().map(|k| k.as_str()).collect();
        return Err(invalid(format!(
            "Lookup attribute key {} is not valid. Valid keys: {}.",
            truncate_for_message(&key_name),
            valid.join(", ")
        )));
    };
    if insights && !key.applies_to_insights() {
        return Err(invalid(format!(
            "Lookup attribute key {} does not apply to Insights events; use EventId, EventName or EventSource.",
            key.as_str()
        )));
    }
    let weighted_len: usize = value.chars().map(|c| if matches!(c, '_' | ' ' | ',' | '\n') { 2 } else { 1 }).sum();
    if !(1..=2000).contains(&weighted_len) {
        return Err(invalid(format!(
            "Lookup attribute value must be 1 to 2000 characters long; it is {weighted_len}."
        )));
    }
    Ok(Some((key, value)))
}

/// The `Event` shape: AWS's LookupEvents view of a record.
fn event_output(record: &EventRecord) -> Value {
    let fields = record.fields();
    let mut event = json!({
        "EventId": fields.event_id,
        "EventName": fields.event_name,
        "EventTime": epoch_seconds(fields.event_time),
        "EventSource": fields.event_source,
        "Resources": fields
            .lookup_resources()
            .map(|r| json!({"ResourceType": r.resource_type, "ResourceName": r.resource_name}))
            .collect::<Vec<_>>(),
        "CloudTrailEvent": record.text(),
    });
    if let Some(read_only) = fields.read_only_str() {
        event["ReadOnly"] = json!(read_only);
    }
    if let Some(access_key_id) = fields.access_key_id() {
        event["AccessKeyId"] = json!(access_key_id);
    }
    if let Some(username) = fields.username() {
        event["Username"] = json!(username);
    }
    event
}

/// Binds a NextToken to the parameters it was issued for: a token replayed with
/// other parameters is refused (spec/api.md §0).
fn query_fingerprint(query: &LookupQuery) -> String {
    let canonical = format!(
        "{}|{}|{:?}|{:?}|{:?}|{}",
        query.account_id,
        query.region,
        query.attribute.as_ref().map(|(k, v)| (k.as_str(), v)),
        query.start.map(|t| t.as_millisecond()),
        query.end.map(|t| t.as_millisecond()),
        query.insights
    );
    hex::encode(&Sha256::digest(canonical.as_bytes())[..8])
}

fn encode_token(fingerprint: &str, key: EventKey) -> String {
    hex::encode(format!("{fingerprint}:{}:{}", key.event_time_ms, key.lsn))
}

fn decode_token(token: &str, fingerprint: &str) -> Result<EventKey, ApiError> {
    let invalid =
        || ApiError::new(ErrorCode::InvalidNextToken, "The NextToken is not valid for this request's parameters.");
    let text = String::from_utf8(hex::decode(token).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    let (Some(token_fingerprint), Some(time), Some(lsn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if token_fingerprint != fingerprint {
        return Err(invalid());
    }
    Ok(EventKey { event_time_ms: time.parse().map_err(|_| invalid())?, lsn: lsn.parse().map_err(|_| invalid())? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(key: &str, value: &str) -> LookupAttributeInput {
        LookupAttributeInput { attribute_key: Some(key.to_owned()), attribute_value: Some(value.to_owned()) }
    }

    #[test]
    fn lookup_attributes_are_validated() {
        assert!(lookup_attribute(vec![], false).unwrap().is_none());
        assert_eq!(
            lookup_attribute(vec![attribute("EventName", "GetTrail")], false).unwrap(),
            Some((LookupAttributeKey::EventName, "GetTrail".to_owned()))
        );
        for (attributes, insights) in [
            (vec![attribute("EventName", "a"), attribute("EventSource", "b")], false),
            (vec![attribute("Bogus", "a")], false),
            (vec![attribute("eventname", "a")], false),
            (vec![attribute("Username", "a")], true),
            (vec![attribute("EventName", "")], false),
            (vec![attribute("EventName", &"_".repeat(1001))], false),
        ] {
            let error = lookup_attribute(attributes, insights).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidLookupAttributes);
        }
        assert!(lookup_attribute(vec![attribute("EventName", &"_".repeat(1000))], false).is_ok());
    }

    #[test]
    fn free_text_ignores_ascii_case() {
        let record = r#"{"eventName":"CreateTrail","requestParameters":{"name":"Audit-Main"}}"#;
        assert!(contains_ignoring_case(record, "audit-main"));
        assert!(contains_ignoring_case(record, "createtrail"));
        assert!(contains_ignoring_case(record, ""));
        assert!(!contains_ignoring_case(record, "deletetrail"));
    }

    #[test]
    fn tokens_are_bound_to_their_parameters() {
        let key = EventKey { event_time_ms: 1_700_000_000_000, lsn: 42 };
        let token = encode_token("abcd", key);
        assert_eq!(decode_token(&token, "abcd").unwrap(), key);
        assert_eq!(decode_token(&token, "ffff").unwrap_err().code, ErrorCode::InvalidNextToken);
        assert_eq!(decode_token("nothex", "abcd").unwrap_err().code, ErrorCode::InvalidNextToken);
    }
}
