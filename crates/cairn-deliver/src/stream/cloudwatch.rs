//! The `cloudwatch_logs` sink: PutLogEvents on an external CloudWatch Logs-compatible endpoint
//! (CloudWatch Logs itself, LocalStack, another cairn), SigV4-signed with configured keys in the
//! group's region. A missing group or stream is created and the call made again (CloudTrail
//! requires the group to exist; a mirror may start empty).

use std::time::Duration;

use cairn_store::logs::GroupKey;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::StreamBatch;
use super::sigv4::{SigningScope, sign};

/// PutLogEvents' limits: 10,000 events and 1,048,576 bytes, counting 26 bytes an event.
const MAX_PUT_EVENTS: usize = 10_000;
const MAX_PUT_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct CloudWatchLogsSink {
    endpoint: reqwest::Url,
    access_key_id: String,
    secret_access_key: String,
    /// The groups this sink takes (empty: all).
    pub log_groups: Vec<String>,
    client: reqwest::Client,
}

/// An error answer: its code (after any `…#`) and message.
struct Refusal {
    code: String,
    message: String,
}

impl CloudWatchLogsSink {
    pub fn new(
        endpoint: &str,
        access_key_id: String,
        secret_access_key: String,
        log_groups: Vec<String>,
    ) -> Result<CloudWatchLogsSink, String> {
        let endpoint =
            reqwest::Url::parse(endpoint).map_err(|e| format!("cloudwatch_logs endpoint {endpoint:?}: {e}"))?;
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cloudwatch_logs client: {e}"))?;
        Ok(CloudWatchLogsSink { endpoint, access_key_id, secret_access_key, log_groups, client })
    }

    pub(super) async fn send(&self, group: &GroupKey, batch: &StreamBatch, now: Timestamp) -> Result<(), String> {
        for chunk in put_chunks(batch) {
            let events: Vec<Value> =
                chunk.iter().map(|e| json!({"timestamp": e.timestamp_ms, "message": e.message})).collect();
            let put = json!({"logGroupName": group.name, "logStreamName": batch.stream, "logEvents": events});
            match self.call(group, "PutLogEvents", &put, now).await {
                Ok(()) => {}
                Err(Some(refusal)) if refusal.code == "ResourceNotFoundException" => {
                    self.create(group, "CreateLogGroup", json!({"logGroupName": group.name}), now).await?;
                    let stream = json!({"logGroupName": group.name, "logStreamName": batch.stream});
                    self.create(group, "CreateLogStream", stream, now).await?;
                    self.call(group, "PutLogEvents", &put, now).await.map_err(|e| self.describe(e))?;
                }
                Err(error) => return Err(self.describe(error)),
            }
        }
        Ok(())
    }

    async fn create(&self, group: &GroupKey, operation: &str, input: Value, now: Timestamp) -> Result<(), String> {
        match self.call(group, operation, &input, now).await {
            Ok(()) => Ok(()),
            Err(Some(refusal)) if refusal.code == "ResourceAlreadyExistsException" => Ok(()),
            Err(error) => Err(self.describe(error)),
        }
    }

    /// One signed call; `Err(None)` when no answer came.
    async fn call(
        &self,
        group: &GroupKey,
        operation: &str,
        input: &Value,
        now: Timestamp,
    ) -> Result<(), Option<Refusal>> {
        let body = input.to_string().into_bytes();
        let host = match (self.endpoint.host_str(), self.endpoint.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(None),
        };
        let target = format!("Logs_20140328.{operation}");
        let scope = SigningScope {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            region: &group.region,
            service: "logs",
        };
        let own = [
            ("content-type", "application/x-amz-json-1.1"),
            ("host", host.as_str()),
            ("x-amz-target", target.as_str()),
        ];
        let mut request = self.client.post(self.endpoint.clone());
        for (name, value) in sign(&scope, "POST", self.endpoint.path(), &own, &body, now) {
            // reqwest writes Host from the URL, the same value that was signed.
            if name != "host" {
                request = request.header(name, value);
            }
        }
        let response = request.body(body).send().await.map_err(|e| {
            tracing::debug!(error = %e, "cloudwatch_logs request failed");
            None
        })?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        let answer: Value =
            response.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
        let code = answer.get("__type").and_then(Value::as_str).unwrap_or("");
        let code = code.rsplit('#').next().unwrap_or(code);
        let message = ["message", "Message"].iter().find_map(|m| answer.get(*m).and_then(Value::as_str)).unwrap_or("");
        Err(Some(Refusal {
            code: if code.is_empty() { status.to_string() } else { code.to_owned() },
            message: message.to_owned(),
        }))
    }

    fn describe(&self, error: Option<Refusal>) -> String {
        match error {
            None => format!("{} did not answer", self.endpoint),
            Some(refusal) => format!("{} refused: {} {}", self.endpoint, refusal.code, refusal.message),
        }
    }
}

/// The batch cut into PutLogEvents calls within AWS's limits.
pub(super) fn put_chunks(batch: &StreamBatch) -> Vec<&[super::StreamedEvent]> {
    let mut chunks = Vec::new();
    let (mut start, mut n_bytes) = (0, 0);
    for (idx, event) in batch.events.iter().enumerate() {
        let size = event.message.len() + EVENT_OVERHEAD;
        if idx > start && (idx - start == MAX_PUT_EVENTS || n_bytes + size > MAX_PUT_BYTES) {
            chunks.push(&batch.events[start..idx]);
            (start, n_bytes) = (idx, 0);
        }
        n_bytes += size;
    }
    if start < batch.events.len() {
        chunks.push(&batch.events[start..]);
    }
    chunks
}
