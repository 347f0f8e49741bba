//! Log streaming: a trail with `CloudWatchLogsLogGroupArn` also sends each record it delivers as one
//! log event (the record itself, no `{"Records":[…]}` wrapper) to stream `ACCOUNT_CloudTrail_REGION`
//! of its group (spec/formats.md §4.1). Where the events go is configured: the embedded CloudWatch
//! Logs store (`cairn_store::logs`, served by the `logs` API), and any number of generic sinks
//! (`cloudwatch_logs`: PutLogEvents on an external endpoint, SigV4-signed; `http`: NDJSON POSTs;
//! `syslog`: RFC 5424 over UDP or TCP).
//!
//! A batch is streamed after its log files are written and before the trail's cursor moves, so a
//! crash sends it again (at least once). A failing sink never holds up log files: the failure is
//! shown as `LatestCloudWatchLogsDeliveryError` and the events it missed are dropped.

mod cloudwatch;
mod http;
mod sigv4;
mod syslog;

use std::sync::Arc;

use cairn_model::arn::Arn;
use cairn_store::logs::{GroupKey, LogGroups};
use jiff::Timestamp;

use crate::batch::LogFile;
pub use cloudwatch::CloudWatchLogsSink;
pub use http::HttpSink;
pub use syslog::{SyslogSink, SyslogTransport, octet_counted, rfc5424};

/// CloudWatch Logs' limit for one event; CloudTrail sends nothing larger.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// One log event: the record's text and its event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedEvent {
    pub timestamp_ms: i64,
    pub message: String,
}

/// The events of one log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamBatch {
    pub account_id: String,
    pub region: String,
    pub stream: String,
    pub events: Vec<StreamedEvent>,
}

/// CloudTrail's stream name for the events of one account and region.
pub fn stream_name(account_id: &str, region: &str) -> String {
    format!("{account_id}_CloudTrail_{region}")
}

/// The log group a trail's `CloudWatchLogsLogGroupArn` names (`…:log-group:NAME:*` or without `:*`).
pub fn log_group_of(arn: &str) -> Option<GroupKey> {
    let arn = Arn::parse(arn)?;
    let rest = arn.resource.strip_prefix("log-group:")?;
    let name = rest.strip_suffix(":*").unwrap_or(rest);
    (arn.service == "logs" && !name.is_empty()).then(|| GroupKey {
        account_id: arn.account.to_owned(),
        region: arn.region.to_owned(),
        name: name.to_owned(),
    })
}

/// A batch's records grouped by stream, oldest first within each; records over
/// [`MAX_EVENT_BYTES`] are left out and counted.
pub fn stream_batches(files: &[LogFile]) -> (Vec<StreamBatch>, usize) {
    let mut batches: Vec<StreamBatch> = Vec::new();
    let mut n_skipped = 0;
    for file in files {
        let idx = match batches.iter().position(|b| b.account_id == file.account_id && b.region == file.region) {
            Some(idx) => idx,
            None => {
                batches.push(StreamBatch {
                    account_id: file.account_id.clone(),
                    region: file.region.clone(),
                    stream: stream_name(&file.account_id, &file.region),
                    events: Vec::new(),
                });
                batches.len() - 1
            }
        };
        for (text, event_time) in file.record_texts() {
            if text.len() > MAX_EVENT_BYTES {
                n_skipped += 1;
                continue;
            }
            // Records come from the write-ahead log as UTF-8 JSON.
            let message = String::from_utf8_lossy(text).into_owned();
            batches[idx].events.push(StreamedEvent { timestamp_ms: event_time.as_millisecond(), message });
        }
    }
    for batch in &mut batches {
        // PutLogEvents wants events in time order; the sort is stable, so log order breaks ties.
        batch.events.sort_by_key(|e| e.timestamp_ms);
    }
    batches.retain(|b| !b.events.is_empty());
    (batches, n_skipped)
}

/// One configured destination of log events.
#[derive(Debug, Clone)]
pub enum LogSink {
    /// The embedded CloudWatch Logs store (creates a missing group and stream).
    Embedded(Arc<LogGroups>),
    /// An external CloudWatch Logs-compatible endpoint.
    CloudWatchLogs(CloudWatchLogsSink),
    Http(HttpSink),
    Syslog(SyslogSink),
}

impl LogSink {
    pub fn kind(&self) -> &'static str {
        match self {
            LogSink::Embedded(_) => "embedded",
            LogSink::CloudWatchLogs(_) => "cloudwatch_logs",
            LogSink::Http(_) => "http",
            LogSink::Syslog(_) => "syslog",
        }
    }

    async fn send(&self, group: &GroupKey, batch: &StreamBatch, now: Timestamp) -> Result<(), String> {
        match self {
            LogSink::Embedded(logs) => {
                let (logs, group) = (Arc::clone(logs), group.clone());
                let (stream, now_ms) = (batch.stream.clone(), now.as_millisecond());
                let events: Vec<(i64, String)> =
                    batch.events.iter().map(|e| (e.timestamp_ms, e.message.clone())).collect();
                tokio::task::spawn_blocking(move || logs.put_creating(&group, &stream, &events, now_ms))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())
            }
            LogSink::CloudWatchLogs(sink) => sink.send(group, batch, now).await,
            LogSink::Http(sink) => sink.send(&group.name, batch).await,
            LogSink::Syslog(sink) => sink.send(&group.name, batch).await,
        }
    }

    fn wants(&self, group: &str) -> bool {
        let named = match self {
            LogSink::Embedded(_) => return true,
            LogSink::CloudWatchLogs(sink) => &sink.log_groups,
            LogSink::Http(sink) => &sink.log_groups,
            LogSink::Syslog(sink) => &sink.log_groups,
        };
        named.is_empty() || named.iter().any(|g| g == group)
    }
}

/// Every configured sink.
#[derive(Debug, Clone, Default)]
pub struct LogStreaming {
    sinks: Vec<LogSink>,
}

/// What came of streaming one account and region's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOutcome {
    pub region: String,
    /// The failures, one line per failed sink.
    pub error: Option<String>,
}

impl LogStreaming {
    pub fn new(sinks: Vec<LogSink>) -> LogStreaming {
        LogStreaming { sinks }
    }

    pub fn is_off(&self) -> bool {
        self.sinks.is_empty()
    }

    /// The embedded store, when events go there.
    pub fn embedded(&self) -> Option<&Arc<LogGroups>> {
        self.sinks.iter().find_map(|sink| match sink {
            LogSink::Embedded(logs) => Some(logs),
            _ => None,
        })
    }

    /// Sends a batch's records to every sink that wants `group`. Each sink is tried once; its
    /// failure is reported and does not stop the others.
    pub async fn stream(&self, group: &GroupKey, files: &[LogFile], now: Timestamp) -> Vec<StreamOutcome> {
        let (batches, n_skipped) = stream_batches(files);
        if n_skipped > 0 {
            metrics::counter!("cairn_log_streaming_skipped_total").increment(n_skipped as u64);
        }
        let mut outcomes = Vec::new();
        for batch in &batches {
            let mut errors = Vec::new();
            for sink in self.sinks.iter().filter(|sink| sink.wants(&group.name)) {
                let n_events = batch.events.len() as u64;
                match sink.send(group, batch, now).await {
                    Ok(()) => {
                        metrics::counter!("cairn_log_streaming_events_total", "sink" => sink.kind()).increment(n_events)
                    }
                    Err(error) => {
                        metrics::counter!("cairn_log_streaming_failures_total", "sink" => sink.kind()).increment(1);
                        tracing::warn!(sink = sink.kind(), group = %group.name, stream = %batch.stream, %error, "log streaming failed");
                        errors.push(format!("{} sink: {error}", sink.kind()));
                    }
                }
            }
            let error = (!errors.is_empty()).then(|| errors.join("; "));
            outcomes.push(StreamOutcome { region: batch.region.clone(), error });
        }
        outcomes
    }
}

#[cfg(test)]
mod tests;
