//! SNS-style notifications (spec/formats.md §2.4): after a delivery, a trail with an SNS topic tells
//! the topic's endpoint which objects were written. [`Notifier::publish`] POSTs the standard SNS
//! HTTP(S) notification JSON to the endpoint the config declares for the topic;
//! [`log_delivery_message`] builds CloudTrail's `Message` for a log delivery.
//!
//! cairn does not sign SNS messages: `SignatureVersion` is `"1"` as in every SNS notification, but
//! `Signature`, `SigningCertURL` and `UnsubscribeURL` are empty strings, so a subscriber that
//! verifies signatures must be told not to.
//!
//! Tests: `tests.rs` (a local HTTP endpoint on 127.0.0.1 checking headers and body, exact bytes).

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use cairn_model::clock::Clock;
use serde::Serialize;

use crate::destination::{connection_refused, innermost, shown_url};

/// An SNS topic trails may notify; a topic whose name ends in `.fifo` is FIFO. `endpoint` is the
/// HTTP(S) URL that receives its notifications.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    pub arn: String,
    pub endpoint: String,
}

impl SnsTopic {
    /// `arn:aws:sns:<region>:<account>:<name>` split into its parts.
    pub fn parts(&self) -> Option<(&str, &str, &str)> {
        let arn = cairn_model::arn::Arn::parse(&self.arn)?;
        Some((arn.region, arn.account, arn.resource))
    }
}

/// Why a notification was not accepted. `Display` is a short message fit for GetTrailStatus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The endpoint answered, but not with a 2xx status.
    #[error("HTTP {status} from {endpoint}")]
    Status { status: u16, endpoint: String },
    /// The endpoint could not be reached or did not answer in time.
    #[error("{message}")]
    Unreachable { message: String },
    /// Anything else (no HTTP client, a URL or header that cannot be sent).
    #[error("{message}")]
    Failed { message: String },
}

/// Connection set-up and one whole notification.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends notifications; holds one HTTP client (connection pool) for every topic.
#[derive(Debug)]
pub struct Notifier {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl Notifier {
    /// `clock` stamps each notification's `Timestamp`.
    pub fn new(clock: Arc<dyn Clock>) -> Result<Notifier, NotifyError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Failed { message: format!("HTTP client: {}", innermost(&e)) })?;
        Ok(Notifier { client, clock })
    }

    /// POSTs one SNS `Notification` carrying `message` (and `subject`, if any) to the topic's
    /// endpoint. `Ok` once the endpoint answered 2xx.
    pub async fn publish(&self, topic: &SnsTopic, subject: Option<&str>, message: &str) -> Result<(), NotifyError> {
        let message_id = uuid::Uuid::new_v4().to_string();
        let timestamp = sns_timestamp(self.clock.now());
        let body = notification_json(&message_id, &topic.arn, subject, message, &timestamp);
        let endpoint = shown_url(&topic.endpoint);
        let response = self
            .client
            .post(&topic.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .header("x-amz-sns-message-id", &message_id)
            .header("x-amz-sns-topic-arn", &topic.arn)
            .body(body)
            .send()
            .await
            .map_err(|e| request_error(endpoint, &e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Status { status: status.as_u16(), endpoint: endpoint.to_owned() })
        }
    }
}

fn request_error(endpoint: &str, error: &reqwest::Error) -> NotifyError {
    if connection_refused(error) {
        NotifyError::Unreachable { message: format!("connection refused to {endpoint}") }
    } else if error.is_timeout() {
        NotifyError::Unreachable { message: format!("timed out notifying {endpoint}") }
    } else if error.is_connect() {
        NotifyError::Unreachable { message: format!("cannot connect to {endpoint}: {}", innermost(error)) }
    } else if error.is_builder() {
        NotifyError::Failed { message: format!("cannot notify {endpoint}: {}", innermost(error)) }
    } else {
        NotifyError::Unreachable { message: format!("notifying {endpoint} failed: {}", innermost(error)) }
    }
}

/// The SNS HTTP notification body, keys in SNS's order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Notification<'a> {
    #[serde(rename = "Type")]
    kind: &'a str,
    message_id: &'a str,
    topic_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    message: &'a str,
    timestamp: &'a str,
    signature_version: &'a str,
    signature: &'a str,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: &'a str,
    #[serde(rename = "UnsubscribeURL")]
    unsubscribe_url: &'a str,
}

fn notification_json(
    message_id: &str,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    timestamp: &str,
) -> String {
    let notification = Notification {
        kind: "Notification",
        message_id,
        topic_arn,
        subject,
        message,
        timestamp,
        // Unsigned (see the module doc): the fields are there because subscribers expect them.
        signature_version: "1",
        signature: "",
        signing_cert_url: "",
        unsubscribe_url: "",
    };
    serde_json::to_string(&notification).unwrap_or_default()
}

/// SNS's `Timestamp`: UTC to the millisecond, `2016-08-11T22:15:30.123Z`.
fn sns_timestamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// CloudTrail's `Message` for a log delivery: `{"s3Bucket":"…","s3ObjectKey":["…",…]}`, compact.
pub fn log_delivery_message(bucket: &str, keys: &[String]) -> String {
    #[derive(Serialize)]
    struct LogDelivery<'a> {
        #[serde(rename = "s3Bucket")]
        bucket: &'a str,
        #[serde(rename = "s3ObjectKey")]
        keys: &'a [String],
    }
    serde_json::to_string(&LogDelivery { bucket, keys }).unwrap_or_default()
}
