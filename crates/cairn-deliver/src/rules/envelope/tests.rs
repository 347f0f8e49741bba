//! The envelope of spec/formats.md §4.2, checked on its own example and on each event type.

use serde_json::{Value, json};

use super::{MAX_ENVELOPE_BYTES, Skipped, envelope};

/// spec/formats.md §1 example A (StartLogging), with an `eventContext` that must not reach `detail`.
const START_LOGGING: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"EXAMPLE6E4XEGITWATV6R","arn":"arn:aws:iam::123456789012:user/Mary_Major","accountId":"123456789012","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Mary_Major"},"eventTime":"2023-07-19T21:33:41Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.0","userAgent":"aws-cli/2.13.5","requestParameters":{"name":"myTrail"},"responseElements":null,"requestID":"9d478fc1-4f10-490f-a26b-EXAMPLE0e932","eventID":"eae87c48-d421-4626-94f5-EXAMPLEac994","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","eventContext":{"x":1}}"#;

fn with(changes: &[(&str, Value)]) -> Vec<u8> {
    let mut record: serde_json::Map<String, Value> = serde_json::from_str(START_LOGGING).unwrap();
    for (key, value) in changes {
        if value.is_null() {
            record.remove(*key);
        } else {
            record.insert((*key).to_owned(), value.clone());
        }
    }
    serde_json::to_vec(&record).unwrap()
}

#[test]
fn envelope_follows_the_spec_example() {
    let wrapped = envelope(START_LOGGING.as_bytes()).unwrap();
    let value = &wrapped.value;
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]);
    assert_eq!(value["version"], "0");
    assert_eq!(value["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(value["source"], "aws.cloudtrail");
    assert_eq!(value["account"], "123456789012");
    assert_eq!(value["time"], "2023-07-19T21:33:41Z");
    assert_eq!(value["region"], "us-east-1");
    assert_eq!(value["resources"], json!([]));
    assert!(uuid::Uuid::parse_str(value["id"].as_str().unwrap()).is_ok());
    let mut detail: Value = serde_json::from_str(START_LOGGING).unwrap();
    detail.as_object_mut().unwrap().remove("eventContext");
    assert_eq!(value["detail"], detail);
    assert!(!wrapped.read_only_management);
    // The same record gives the same id (an event sent again can be recognised).
    assert_eq!(envelope(START_LOGGING.as_bytes()).unwrap().value["id"], value["id"]);
}

#[test]
fn detail_type_and_source_follow_the_event_type() {
    let check = |changes: &[(&str, Value)], detail_type: &str, source: &str| {
        let wrapped = envelope(&with(changes)).unwrap();
        assert_eq!(wrapped.value["detail-type"], detail_type);
        assert_eq!(wrapped.value["source"], source);
    };
    check(
        &[("eventType", json!("AwsConsoleSignIn")), ("eventSource", json!("signin.amazonaws.com"))],
        "AWS Console Sign In via CloudTrail",
        "aws.signin",
    );
    check(&[("eventType", json!("AwsConsoleAction"))], "AWS Console Action via CloudTrail", "aws.cloudtrail");
    check(
        &[("eventType", json!("AwsServiceEvent")), ("eventSource", json!("kms.amazonaws.com"))],
        "AWS Service Event via CloudTrail",
        "aws.kms",
    );
    check(
        &[("eventType", json!("AwsCloudTrailInsight")), ("eventSource", Value::Null)],
        "AWS Insight via CloudTrail",
        "aws.cloudtrail",
    );
    assert_eq!(envelope(&with(&[("eventType", json!("AwsVpceEvent"))])).unwrap_err(), Skipped::NoDetailType);
    assert_eq!(envelope(b"[1]").unwrap_err(), Skipped::Unreadable);
}

#[test]
fn read_only_management_events_are_marked() {
    assert!(envelope(&with(&[("readOnly", json!(true))])).unwrap().read_only_management);
    let data = with(&[("readOnly", json!(true)), ("managementEvent", json!(false)), ("eventCategory", json!("Data"))]);
    assert!(!envelope(&data).unwrap().read_only_management);
}

#[test]
fn events_over_256_kb_are_skipped() {
    let big = "x".repeat(MAX_ENVELOPE_BYTES);
    assert_eq!(envelope(&with(&[("userAgent", json!(big))])).unwrap_err(), Skipped::TooLarge);
}
