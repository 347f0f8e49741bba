//! Data events: an `AwsApiCall` record turned into what AWS writes for S3 object-level calls
//! (spec/formats.md §1.4–1.6 example B): `managementEvent: false`, `eventCategory: "Data"`,
//! `additionalEventData` after `responseElements`, and `resources[]` entries that name an ARN
//! prefix (`{"type":"AWS::S3::Object","ARNPrefix":"arn:aws:s3:::bucket/prefix"}`, ListObjects) ahead
//! of the others. The record keeps AWS's key order; only these members change.

use serde_json::{Map, Value};

/// What makes a call's event a data event, beyond the record every call gets.
#[derive(Debug, Clone, Default)]
pub(crate) struct DataEvent {
    /// `(type, ARN prefix)` entries written first in `resources[]`.
    pub(crate) arn_prefixes: Vec<(String, String)>,
    /// `additionalEventData`, written after `responseElements` when set.
    pub(crate) additional_event_data: Option<Value>,
}

/// `record` (a management event's JSON) as a data event.
pub(crate) fn as_data_event(record: &str, data: &DataEvent) -> Result<String, serde_json::Error> {
    let members: Map<String, Value> = serde_json::from_str(record)?;
    let prefixes: Vec<Value> = data
        .arn_prefixes
        .iter()
        .map(|(resource_type, prefix)| {
            let mut entry = Map::new();
            entry.insert("type".to_owned(), Value::String(resource_type.clone()));
            entry.insert("ARNPrefix".to_owned(), Value::String(prefix.clone()));
            Value::Object(entry)
        })
        .collect();
    let has_resources = members.contains_key("resources");
    let mut out = Map::with_capacity(members.len() + 2);
    for (name, value) in members {
        let value = match name.as_str() {
            "managementEvent" => Value::Bool(false),
            "eventCategory" => Value::String("Data".to_owned()),
            "resources" => match value {
                Value::Array(existing) => Value::Array(prefixes.iter().cloned().chain(existing).collect()),
                other => other,
            },
            _ => value,
        };
        let after = name.clone();
        out.insert(name, value);
        if after == "responseElements"
            && let Some(additional) = &data.additional_event_data
        {
            out.insert("additionalEventData".to_owned(), additional.clone());
        }
        if after == "readOnly" && !has_resources && !prefixes.is_empty() {
            out.insert("resources".to_owned(), Value::Array(prefixes.clone()));
        }
    }
    serde_json::to_string(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MANAGEMENT: &str = r#"{"eventVersion":"1.11","eventSource":"s3.amazonaws.com","eventName":"ListObjects","requestParameters":{"bucketName":"b","Host":"h","prefix":"AWSLogs/"},"responseElements":null,"requestID":"r","eventID":"e","readOnly":true,"resources":[{"accountId":"111111111111","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111","eventCategory":"Management"}"#;

    #[test]
    fn a_management_record_becomes_a_data_record_in_aws_key_order() {
        let data = DataEvent {
            arn_prefixes: vec![("AWS::S3::Object".to_owned(), "arn:aws:s3:::b/AWSLogs/".to_owned())],
            additional_event_data: Some(json!({"SignatureVersion": "SigV4", "bytesTransferredOut": 12})),
        };
        let out = as_data_event(MANAGEMENT, &data).unwrap();
        assert_eq!(
            out,
            r#"{"eventVersion":"1.11","eventSource":"s3.amazonaws.com","eventName":"ListObjects","requestParameters":{"bucketName":"b","Host":"h","prefix":"AWSLogs/"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","bytesTransferredOut":12},"requestID":"r","eventID":"e","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARNPrefix":"arn:aws:s3:::b/AWSLogs/"},{"accountId":"111111111111","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111111111111","eventCategory":"Data"}"#
        );
    }

    #[test]
    fn nothing_else_changes_without_extras() {
        let out = as_data_event(MANAGEMENT, &DataEvent::default()).unwrap();
        let expected = MANAGEMENT
            .replace(r#""managementEvent":true"#, r#""managementEvent":false"#)
            .replace(r#""eventCategory":"Management""#, r#""eventCategory":"Data""#);
        assert_eq!(out, expected);
    }

    #[test]
    fn prefixes_make_resources_when_there_were_none() {
        let record = r#"{"responseElements":null,"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"}"#;
        let data = DataEvent {
            arn_prefixes: vec![("AWS::S3::Object".to_owned(), "arn:aws:s3:::b/".to_owned())],
            ..DataEvent::default()
        };
        assert_eq!(
            as_data_event(record, &data).unwrap(),
            r#"{"responseElements":null,"readOnly":true,"resources":[{"type":"AWS::S3::Object","ARNPrefix":"arn:aws:s3:::b/"}],"eventType":"AwsApiCall","managementEvent":false,"eventCategory":"Data"}"#
        );
    }
}
