//! The EventBridge envelope of a CloudTrail record (spec/formats.md §4.2).

use serde_json::{Value, json};

/// Events larger than this are not sent to rules (spec/formats.md §4.2: "events over 256 KB are
/// dropped").
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

/// A record wrapped for rules, with what the read-only rule needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub value: Value,
    /// A read-only management event reaches only `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` rules.
    pub read_only_management: bool,
}

impl Envelope {
    pub fn account(&self) -> &str {
        self.value.get("account").and_then(Value::as_str).unwrap_or("")
    }

    pub fn region(&self) -> &str {
        self.value.get("region").and_then(Value::as_str).unwrap_or("")
    }
}

/// Why a record is not sent to rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Not a JSON object.
    Unreadable,
    /// An event type EventBridge has no `detail-type` for (network activity).
    NoDetailType,
    /// Larger than [`MAX_ENVELOPE_BYTES`].
    TooLarge,
}

/// Wraps one CloudTrail record (the log's exact text) in its EventBridge envelope.
pub fn envelope(record_text: &[u8]) -> Result<Envelope, Skipped> {
    let Ok(Value::Object(mut record)) = serde_json::from_slice::<Value>(record_text) else {
        return Err(Skipped::Unreadable);
    };
    let Some(detail_type) = record.get("eventType").and_then(Value::as_str).and_then(detail_type) else {
        return Err(Skipped::NoDetailType);
    };
    record.remove("eventContext");
    let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    // Insight records name no event source; they are CloudTrail's own events.
    let source = match record.get("eventSource").and_then(Value::as_str) {
        Some(event_source) => format!("aws.{}", event_source.strip_suffix(".amazonaws.com").unwrap_or(event_source)),
        None => "aws.cloudtrail".to_owned(),
    };
    let account = match record.get("recipientAccountId").and_then(Value::as_str) {
        Some(account) => account.to_owned(),
        None => record
            .get("userIdentity")
            .and_then(|identity| identity.get("accountId"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    let read_only_management = record.get("readOnly").and_then(Value::as_bool) == Some(true)
        && record.get("managementEvent").and_then(Value::as_bool) != Some(false)
        && record.get("eventCategory").and_then(Value::as_str).is_none_or(|category| category == "Management");
    let id = envelope_id(&account, &text("eventID"));
    let value = json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": text("eventTime"),
        "region": text("awsRegion"),
        "resources": [],
        "detail": Value::Object(std::mem::take(&mut record)),
    });
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_ENVELOPE_BYTES {
        return Err(Skipped::TooLarge);
    }
    Ok(Envelope { value, read_only_management })
}

/// `detail-type` by `eventType` (spec/formats.md §4.2; the sign-in spelling is the one rules use).
fn detail_type(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "AwsApiCall" => "AWS API Call via CloudTrail",
        "AwsConsoleSignIn" => "AWS Console Sign In via CloudTrail",
        "AwsConsoleAction" => "AWS Console Action via CloudTrail",
        "AwsServiceEvent" => "AWS Service Event via CloudTrail",
        "AwsCloudTrailInsight" => "AWS Insight via CloudTrail",
        _ => return None,
    })
}

/// The envelope's `id`: derived from the record's eventID, so that an event sent again after a
/// restart (delivery is at least once) carries the same id and receivers can drop the copy.
fn envelope_id(account: &str, event_id: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6361_6972_6e2d_7275_6c65_7300_0000_0001);
    uuid::Uuid::new_v5(&NAMESPACE, format!("{account}\n{event_id}").as_bytes()).to_string()
}

#[cfg(test)]
mod tests;
