//! Builds trails' log streaming sinks from the configuration: the embedded CloudWatch Logs store
//! (`<data dir>/logs/`, unless `embedded_cloudwatch_logs = false`) and the `[[log_sinks]]`.

use std::sync::Arc;

use anyhow::Context;
use cairn_deliver::stream::{CloudWatchLogsSink, HttpSink, LogSink, LogStreaming, SyslogSink, SyslogTransport};
use cairn_store::logs::LogGroups;

use crate::config::{LogSinkConfig, ServeConfig};

pub(crate) fn log_streaming(config: &ServeConfig) -> anyhow::Result<LogStreaming> {
    let mut sinks = Vec::new();
    if config.embedded_cloudwatch_logs {
        let root = config.data_dir.join("logs");
        let logs = LogGroups::open(&root, config.cloudwatch_logs_max_events_per_stream)
            .with_context(|| format!("opening the embedded CloudWatch Logs store {}", root.display()))?;
        sinks.push(LogSink::Embedded(Arc::new(logs)));
    }
    for sink in &config.log_sinks {
        sinks.push(match sink.clone() {
            LogSinkConfig::CloudWatchLogs { endpoint, access_key_id, secret_access_key, log_groups } => {
                LogSink::CloudWatchLogs(
                    CloudWatchLogsSink::new(&endpoint, access_key_id, secret_access_key, log_groups)
                        .map_err(anyhow::Error::msg)?,
                )
            }
            LogSinkConfig::Http { url, headers, log_groups } => {
                LogSink::Http(HttpSink::new(url, headers, log_groups).map_err(anyhow::Error::msg)?)
            }
            LogSinkConfig::Syslog(syslog) => LogSink::Syslog(SyslogSink {
                address: syslog.address,
                transport: if syslog.tcp { SyslogTransport::Tcp } else { SyslogTransport::Udp },
                facility: syslog.facility,
                severity: syslog.severity,
                hostname: syslog.hostname.unwrap_or_else(host_name),
                app_name: syslog.app_name,
                log_groups: syslog.log_groups,
            }),
        });
    }
    Ok(LogStreaming::new(sinks))
}

/// The machine's host name for syslog's HOSTNAME, or RFC 5424's nil value.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}
