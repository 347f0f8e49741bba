//! The `syslog` sink: each record as the MSG of an RFC 5424 message, over UDP (one datagram each)
//! or TCP with octet-counting framing (RFC 6587 §3.4.1: `LEN SP MESSAGE`).

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::StreamBatch;

/// A UDP datagram's largest payload over IPv4; larger records cannot go over UDP.
const MAX_UDP_BYTES: usize = 65_507;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    Udp,
    Tcp,
}

#[derive(Debug, Clone)]
pub struct SyslogSink {
    /// `host:port`.
    pub address: String,
    pub transport: SyslogTransport,
    /// RFC 5424 facility (0–23) and severity (0–7).
    pub facility: u8,
    pub severity: u8,
    pub hostname: String,
    pub app_name: String,
    /// The groups this sink takes (empty: all).
    pub log_groups: Vec<String>,
}

/// An RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`. The structured
/// data names the group and stream under the documentation enterprise number 32473 (RFC 5612).
pub fn rfc5424(sink: &SyslogSink, timestamp_ms: i64, group: &str, stream: &str, message: &str) -> String {
    let pri = u16::from(sink.facility) * 8 + u16::from(sink.severity);
    let time = jiff::Timestamp::from_millisecond(timestamp_ms)
        .map_or_else(|_| "-".to_owned(), |t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    format!(
        "<{pri}>1 {time} {} {} - CloudTrail [cairn@32473 logGroup=\"{}\" logStream=\"{}\"] {message}",
        header_field(&sink.hostname, 255),
        header_field(&sink.app_name, 48),
        param_value(group),
        param_value(stream),
    )
}

/// RFC 6587 octet counting: the message's length in bytes, a space, the message.
pub fn octet_counted(message: &str) -> Vec<u8> {
    let mut frame = format!("{} ", message.len()).into_bytes();
    frame.extend_from_slice(message.as_bytes());
    frame
}

/// A header field: printable ASCII without spaces, at most `max` characters, `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if field.is_empty() { "-".to_owned() } else { field }
}

/// A PARAM-VALUE escapes `"`, `\` and `]` (RFC 5424 §6.3.3).
fn param_value(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

impl SyslogSink {
    pub(super) async fn send(&self, group: &str, batch: &StreamBatch) -> Result<(), String> {
        let messages = batch.events.iter().map(|e| rfc5424(self, e.timestamp_ms, group, &batch.stream, &e.message));
        match self.transport {
            SyslogTransport::Udp => {
                let socket = tokio::net::UdpSocket::bind(("0.0.0.0", 0)).await.map_err(|e| e.to_string())?;
                socket.connect(&self.address).await.map_err(|e| format!("syslog {}: {e}", self.address))?;
                let mut n_too_large = 0;
                for message in messages {
                    if message.len() > MAX_UDP_BYTES {
                        n_too_large += 1;
                        continue;
                    }
                    socket.send(message.as_bytes()).await.map_err(|e| format!("syslog udp {}: {e}", self.address))?;
                }
                if n_too_large > 0 {
                    return Err(format!("{n_too_large} records are too large for a UDP datagram; use tcp"));
                }
                Ok(())
            }
            SyslogTransport::Tcp => {
                let connect = tokio::net::TcpStream::connect(&self.address);
                let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
                    .await
                    .map_err(|_| format!("syslog tcp {}: connect timed out", self.address))?
                    .map_err(|e| format!("syslog tcp {}: {e}", self.address))?;
                let mut frames = Vec::new();
                for message in messages {
                    frames.extend_from_slice(&octet_counted(&message));
                }
                let written = async {
                    stream.write_all(&frames).await?;
                    stream.shutdown().await
                };
                tokio::time::timeout(WRITE_TIMEOUT, written)
                    .await
                    .map_err(|_| format!("syslog tcp {}: write timed out", self.address))?
                    .map_err(|e| format!("syslog tcp {}: {e}", self.address))
            }
        }
    }
}
