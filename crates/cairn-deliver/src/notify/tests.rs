//! Tests of `notify`: the exact message and envelope bytes, and what an HTTP endpoint receives.

use std::sync::Arc;

use cairn_model::clock::ManualClock;

use super::*;
use crate::destination::fake_http::{FakeHttp, refusing_url};

const ARN: &str = "arn:aws:sns:us-east-1:111111111111:trail-topic";

fn topic(endpoint: String) -> SnsTopic {
    SnsTopic { arn: ARN.to_owned(), endpoint }
}

fn notifier(at: &str) -> Notifier {
    Notifier::new(Arc::new(ManualClock::new(at.parse().unwrap()))).unwrap()
}

#[test]
fn log_delivery_message_is_cloudtrails_bytes() {
    // The example of spec/formats.md §2.4.
    let keys = [
        "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz",
        "AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2210Z_zqDkyQv3TK8ZdLr0.json.gz",
    ]
    .map(String::from);
    assert_eq!(
        log_delivery_message("your-bucket-name", &keys),
        r#"{"s3Bucket":"your-bucket-name","s3ObjectKey":["AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2215Z_kpaMYavMQA9Ahp7L.json.gz","AWSLogs/123456789012/CloudTrail/us-east-2/2016/08/11/123456789012_CloudTrail_us-east-2_20160811T2210Z_zqDkyQv3TK8ZdLr0.json.gz"]}"#
    );
    assert_eq!(log_delivery_message("b", &[]), r#"{"s3Bucket":"b","s3ObjectKey":[]}"#);
    assert_eq!(log_delivery_message("b", &["a\"b".to_owned()]), r#"{"s3Bucket":"b","s3ObjectKey":["a\"b"]}"#);
}

#[test]
fn notification_envelope_bytes() {
    let message = log_delivery_message("logs", &["k.json.gz".to_owned()]);
    assert_eq!(
        notification_json("0b4e4c6e-1f7c-4b1e-9a70-2f1d9b0a6c11", ARN, None, &message, "2026-01-02T03:04:05.006Z"),
        r#"{"Type":"Notification","MessageId":"0b4e4c6e-1f7c-4b1e-9a70-2f1d9b0a6c11","TopicArn":"arn:aws:sns:us-east-1:111111111111:trail-topic","Message":"{\"s3Bucket\":\"logs\",\"s3ObjectKey\":[\"k.json.gz\"]}","Timestamp":"2026-01-02T03:04:05.006Z","SignatureVersion":"1","Signature":"","SigningCertURL":"","UnsubscribeURL":""}"#
    );
    assert_eq!(
        notification_json("id", ARN, Some("Subject line"), "CloudTrail validation message.", "t"),
        r#"{"Type":"Notification","MessageId":"id","TopicArn":"arn:aws:sns:us-east-1:111111111111:trail-topic","Subject":"Subject line","Message":"CloudTrail validation message.","Timestamp":"t","SignatureVersion":"1","Signature":"","SigningCertURL":"","UnsubscribeURL":""}"#
    );
}

#[test]
fn timestamps_have_milliseconds() {
    for (at, expected) in [
        ("2016-08-11T22:15:30Z", "2016-08-11T22:15:30.000Z"),
        ("2016-08-11T22:15:30.123456Z", "2016-08-11T22:15:30.123Z"),
        ("2016-08-11T22:15:30.5Z", "2016-08-11T22:15:30.500Z"),
    ] {
        assert_eq!(sns_timestamp(at.parse().unwrap()), expected);
    }
}

#[test]
fn topic_parts() {
    assert_eq!(topic(String::new()).parts(), Some(("us-east-1", "111111111111", "trail-topic")));
    assert_eq!(SnsTopic { arn: "nope".to_owned(), endpoint: String::new() }.parts(), None);
}

#[tokio::test]
async fn publish_posts_an_sns_notification() {
    let endpoint = FakeHttp::start(|_| (200, vec![], String::new())).await;
    let notifier = notifier("2026-01-02T03:04:05.678Z");
    let message = log_delivery_message("logs", &["k.json.gz".to_owned()]);
    notifier.publish(&topic(format!("{}/notify", endpoint.url)), None, &message).await.unwrap();
    notifier.publish(&topic(format!("{}/notify", endpoint.url)), Some("About"), "second").await.unwrap();

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 2);
    let post = &requests[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.uri.path(), "/notify");
    assert_eq!(post.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(post.header("x-amz-sns-message-type"), Some("Notification"));
    assert_eq!(post.header("x-amz-sns-topic-arn"), Some(ARN));
    let message_id = post.header("x-amz-sns-message-id").unwrap();
    assert!(uuid::Uuid::parse_str(message_id).is_ok(), "{message_id}");
    let expected = notification_json(message_id, ARN, None, &message, "2026-01-02T03:04:05.678Z");
    assert_eq!(String::from_utf8(post.body.clone()).unwrap(), expected);

    let second: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(second["Subject"], "About");
    assert_eq!(second["Message"], "second");
    assert_ne!(second["MessageId"].as_str(), Some(message_id), "each notification has its own id");
}

#[tokio::test]
async fn non_2xx_is_an_error_naming_status_and_endpoint() {
    let endpoint = FakeHttp::start(|_| (500, vec![], "boom".to_owned())).await;
    let notifier = notifier("2026-01-02T03:04:05Z");
    let error = notifier.publish(&topic(format!("{}/fail?token=secret", endpoint.url)), None, "m").await.unwrap_err();
    assert_eq!(error.to_string(), format!("HTTP 500 from {}/fail", endpoint.url));

    // Redirects are not followed: a 3xx is not a delivery.
    let endpoint =
        FakeHttp::start(|_| (302, vec![("location", "http://127.0.0.1:1/".to_owned())], String::new())).await;
    let error = notifier.publish(&topic(format!("{}/moved", endpoint.url)), None, "m").await.unwrap_err();
    assert_eq!(error, NotifyError::Status { status: 302, endpoint: format!("{}/moved", endpoint.url) });
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    let url = refusing_url().await;
    let notifier = notifier("2026-01-02T03:04:05Z");
    let error = notifier.publish(&topic(format!("{url}/notify")), None, "m").await.unwrap_err();
    assert_eq!(error.to_string(), format!("connection refused to {url}/notify"));
}

#[tokio::test]
async fn an_endpoint_that_is_not_a_url_is_an_error() {
    let notifier = notifier("2026-01-02T03:04:05Z");
    let error = notifier.publish(&topic("not a url".to_owned()), None, "m").await.unwrap_err();
    assert!(matches!(error, NotifyError::Failed { .. }), "{error:?}");
}

#[test]
fn notifier_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let notifier = notifier("2026-01-02T03:04:05Z");
    send_sync(&notifier);
    send(&notifier.publish(&topic("http://127.0.0.1:9/".to_owned()), Some("s"), "m"));
}
