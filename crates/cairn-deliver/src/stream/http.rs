//! The `http` sink: records as newline-delimited JSON POSTed to a URL (Vector's `http_server`,
//! Loki's or OpenSearch's ingest pipelines behind a small adapter), at most [`MAX_BODY_BYTES`] a
//! request. The group and stream go in `X-Cairn-Log-Group` and `X-Cairn-Log-Stream`.

use std::time::Duration;

use super::StreamBatch;

/// A request body stays under this (CloudWatch Logs' own batch limit), unless one record is larger.
pub(super) const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct HttpSink {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The groups this sink takes (empty: all).
    pub log_groups: Vec<String>,
    client: reqwest::Client,
}

impl HttpSink {
    pub fn new(url: String, headers: Vec<(String, String)>, log_groups: Vec<String>) -> Result<HttpSink, String> {
        reqwest::Url::parse(&url).map_err(|e| format!("http sink url {url:?}: {e}"))?;
        for (name, value) in &headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("http sink header name {name:?} is not valid"))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("http sink header {name} has a value that is not valid"))?;
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("http sink client: {e}"))?;
        Ok(HttpSink { url, headers, log_groups, client })
    }

    pub(super) async fn send(&self, group: &str, batch: &StreamBatch) -> Result<(), String> {
        for body in ndjson_bodies(batch, MAX_BODY_BYTES) {
            let mut request = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
                .header("x-cairn-log-group", group)
                .header("x-cairn-log-stream", &batch.stream);
            for (name, value) in &self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let response = request.body(body).send().await.map_err(|e| format!("POST {}: {e}", self.url))?;
            if !response.status().is_success() {
                return Err(format!("POST {} answered {}", self.url, response.status()));
            }
        }
        Ok(())
    }
}

/// The batch's messages, one per line, cut into bodies of at most `max_bytes` (a larger record
/// goes alone).
pub(super) fn ndjson_bodies(batch: &StreamBatch, max_bytes: usize) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    for event in &batch.events {
        let line = event.message.len() + 1;
        if !body.is_empty() && body.len() + line > max_bytes {
            bodies.push(std::mem::take(&mut body));
        }
        body.extend_from_slice(event.message.as_bytes());
        body.push(b'\n');
    }
    if !body.is_empty() {
        bodies.push(body);
    }
    bodies
}
