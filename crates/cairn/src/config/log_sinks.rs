//! `[[log_sinks]]`: where trails' log streaming sends records besides the embedded CloudWatch Logs
//! store. Each sink takes every trail with `CloudWatchLogsLogGroupArn`, or only the groups named in
//! `log_groups`.
//!
//! ```toml
//! [[log_sinks]]
//! kind = "cloudwatch_logs"           # PutLogEvents, SigV4-signed in the group's region
//! endpoint = "https://logs.eu-west-1.amazonaws.com"
//! access_key_id = "AKIA…"
//! secret_access_key = "…"
//!
//! [[log_sinks]]
//! kind = "http"                      # NDJSON POSTs, one record a line
//! url = "http://127.0.0.1:8686/cloudtrail"
//! headers = { Authorization = "Bearer …" }
//!
//! [[log_sinks]]
//! kind = "syslog"                    # RFC 5424, the record as MSG
//! address = "127.0.0.1:514"
//! transport = "udp"                  # or "tcp" (octet counting, RFC 6587)
//! facility = 13                      # log audit [default]
//! severity = 6                       # informational [default]
//! app_name = "cairn"                 # [default]
//! hostname = "audit-1"               # [default: the machine's host name]
//! log_groups = ["CloudTrail/audit"]  # [default: all]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, config_error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLogSink {
    pub(crate) kind: String,
    pub(crate) url: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) address: Option<String>,
    pub(crate) transport: Option<String>,
    pub(crate) facility: Option<u8>,
    pub(crate) severity: Option<u8>,
    pub(crate) app_name: Option<String>,
    pub(crate) hostname: Option<String>,
    #[serde(default)]
    pub(crate) log_groups: Vec<String>,
}

/// A validated sink; the server builds its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogSinkConfig {
    CloudWatchLogs { endpoint: String, access_key_id: String, secret_access_key: String, log_groups: Vec<String> },
    Http { url: String, headers: Vec<(String, String)>, log_groups: Vec<String> },
    Syslog(SyslogConfig),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyslogConfig {
    pub(crate) address: String,
    pub(crate) tcp: bool,
    pub(crate) facility: u8,
    pub(crate) severity: u8,
    pub(crate) app_name: String,
    /// `None`: the machine's host name, read when the server starts.
    pub(crate) hostname: Option<String>,
    pub(crate) log_groups: Vec<String>,
}

/// Facility 13 is "log audit" (RFC 5424 §6.2.1), severity 6 "informational".
const DEFAULT_FACILITY: u8 = 13;
const DEFAULT_SEVERITY: u8 = 6;

pub(crate) fn resolve_log_sink(raw: RawLogSink) -> Result<LogSinkConfig, ConfigError> {
    let unused = |fields: &[(&str, bool)]| match fields.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(config_error(format!("log sink of kind {:?} takes no {name}", raw.kind))),
        None => Ok(()),
    };
    let keys = [
        ("endpoint", raw.endpoint.is_some()),
        ("access_key_id", raw.access_key_id.is_some()),
        ("secret_access_key", raw.secret_access_key.is_some()),
    ];
    match raw.kind.as_str() {
        "cloudwatch_logs" => {
            unused(&[
                ("url", raw.url.is_some()),
                ("headers", !raw.headers.is_empty()),
                ("address", raw.address.is_some()),
                ("transport", raw.transport.is_some()),
                ("facility", raw.facility.is_some()),
                ("severity", raw.severity.is_some()),
                ("app_name", raw.app_name.is_some()),
                ("hostname", raw.hostname.is_some()),
            ])?;
            let endpoint = raw.endpoint.ok_or_else(|| config_error("cloudwatch_logs log sink needs an endpoint"))?;
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(config_error(format!("cloudwatch_logs endpoint {endpoint:?} must be an http(s) URL")));
            }
            let (Some(access_key_id), Some(secret_access_key)) = (raw.access_key_id, raw.secret_access_key) else {
                return Err(config_error("cloudwatch_logs log sink needs access_key_id and secret_access_key"));
            };
            Ok(LogSinkConfig::CloudWatchLogs { endpoint, access_key_id, secret_access_key, log_groups: raw.log_groups })
        }
        "http" => {
            unused(&keys)?;
            unused(&[
                ("address", raw.address.is_some()),
                ("transport", raw.transport.is_some()),
                ("facility", raw.facility.is_some()),
                ("severity", raw.severity.is_some()),
                ("app_name", raw.app_name.is_some()),
                ("hostname", raw.hostname.is_some()),
            ])?;
            let url = raw.url.ok_or_else(|| config_error("http log sink needs a url"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(config_error(format!("http log sink url {url:?} must be an http(s) URL")));
            }
            Ok(LogSinkConfig::Http { url, headers: raw.headers.into_iter().collect(), log_groups: raw.log_groups })
        }
        "syslog" => {
            unused(&keys)?;
            unused(&[("url", raw.url.is_some()), ("headers", !raw.headers.is_empty())])?;
            let address = raw.address.ok_or_else(|| config_error("syslog log sink needs an address (host:port)"))?;
            if address.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err()) {
                return Err(config_error(format!("syslog log sink address {address:?} is not host:port")));
            }
            let tcp = match raw.transport.as_deref().unwrap_or("udp") {
                "udp" => false,
                "tcp" => true,
                other => return Err(config_error(format!("syslog transport {other:?} is not udp or tcp"))),
            };
            let facility = raw.facility.unwrap_or(DEFAULT_FACILITY);
            let severity = raw.severity.unwrap_or(DEFAULT_SEVERITY);
            if facility > 23 || severity > 7 {
                return Err(config_error("syslog facility must be 0–23 and severity 0–7"));
            }
            Ok(LogSinkConfig::Syslog(SyslogConfig {
                address,
                tcp,
                facility,
                severity,
                app_name: raw.app_name.unwrap_or_else(|| "cairn".to_owned()),
                hostname: raw.hostname,
                log_groups: raw.log_groups,
            }))
        }
        other => Err(config_error(format!("log sink kind {other:?} is not cloudwatch_logs, http or syslog"))),
    }
}
