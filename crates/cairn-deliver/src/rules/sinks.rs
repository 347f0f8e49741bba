//! Where a rule's target sends events, decided by the target's `Arn` (cairn's forms; AWS's own
//! targets such as SQS or Lambda are not served):
//!
//! - `https://…` or `http://…`: a **webhook**. The body is POSTed as `application/json` with the
//!   target's `HttpParameters` (headers, query string). boto3 does not check an `Arn`'s form, so
//!   the URL itself is the Arn.
//! - `arn:cairn:logfile:::NAME`: a **log file**, one JSON line per event appended to
//!   `<data dir>/rules/logs/NAME.ndjson`.
//! - `arn:aws:sns:REGION:ACCOUNT:NAME`: an **SNS topic** the configuration declares (`[[sns_topics]]`,
//!   as for trails' notifications): an SNS `Notification` whose `Message` is the input, POSTed to the
//!   topic's endpoint.
//! - `arn:cairn:command:::NAME`: a **command** the configuration declares (`[[rule_commands]]`), run
//!   with the input on its standard input (`command.rs`); off unless declared.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cairn_model::clock::Clock;
use cairn_store::rules::RuleTarget;

use super::command::RuleCommand;
use crate::notify::{Notifier, NotifyError, SnsTopic};

const LOGFILE_PREFIX: &str = "arn:cairn:logfile:::";
const COMMAND_PREFIX: &str = "arn:cairn:command:::";
const SNS_PREFIX: &str = "arn:aws:sns:";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The kind of a target, from its `Arn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Webhook { url: String },
    LogFile { name: String },
    Sns { arn: String },
    Command { name: String },
}

/// A target `Arn` cairn cannot deliver to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cairn cannot deliver to {arn}: use an http(s):// URL (webhook), arn:cairn:logfile:::NAME, arn:cairn:command:::NAME (NAME of letters, digits, '.', '-', '_', at most 64) or arn:aws:sns:REGION:ACCOUNT:TOPIC"
)]
pub struct UnsupportedTarget {
    pub arn: String,
}

impl TargetKind {
    pub fn of(arn: &str) -> Result<TargetKind, UnsupportedTarget> {
        let unsupported = || UnsupportedTarget { arn: cairn_model::error::truncate_for_message(arn) };
        if arn.starts_with("https://") || arn.starts_with("http://") {
            let url = reqwest::Url::parse(arn).map_err(|_| unsupported())?;
            return Ok(TargetKind::Webhook { url: url.to_string() });
        }
        let valid_name = |name: &str| {
            !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                && !name.starts_with('.')
        };
        if let Some(name) = arn.strip_prefix(LOGFILE_PREFIX) {
            return if valid_name(name) {
                Ok(TargetKind::LogFile { name: name.to_owned() })
            } else {
                Err(unsupported())
            };
        }
        if let Some(name) = arn.strip_prefix(COMMAND_PREFIX) {
            return if valid_name(name) {
                Ok(TargetKind::Command { name: name.to_owned() })
            } else {
                Err(unsupported())
            };
        }
        if arn.starts_with(SNS_PREFIX) && cairn_model::arn::Arn::parse(arn).is_some_and(|a| !a.resource.is_empty()) {
            return Ok(TargetKind::Sns { arn: arn.to_owned() });
        }
        Err(unsupported())
    }
}

/// Why one attempt to deliver failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: the receiver is down, slow, or answered 5xx/429.
    #[error("{0}")]
    Transient(String),
    /// Trying again would give the same answer (a 4xx, an unusable target).
    #[error("{0}")]
    Permanent(String),
}

/// Sends target inputs: one HTTP client (connection pool) for every webhook, and the log files'
/// folder.
#[derive(Debug, Clone)]
pub struct Sinks {
    client: reqwest::Client,
    logs_dir: PathBuf,
    /// The commands and SNS topics the configuration declares.
    commands: Vec<RuleCommand>,
    topics: Vec<SnsTopic>,
    notifier: Arc<Notifier>,
}

impl Sinks {
    pub fn new(
        rules_dir: &Path,
        commands: Vec<RuleCommand>,
        topics: Vec<SnsTopic>,
        clock: Arc<dyn Clock>,
    ) -> Result<Sinks, SendError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SendError::Permanent(format!("HTTP client: {e}")))?;
        let notifier = Notifier::new(clock).map_err(|e| SendError::Permanent(e.to_string()))?;
        Ok(Sinks { client, logs_dir: rules_dir.join("logs"), commands, topics, notifier: Arc::new(notifier) })
    }

    /// One attempt to hand `body` to `target`.
    pub async fn send(&self, target: &RuleTarget, body: &str) -> Result<(), SendError> {
        match TargetKind::of(&target.arn) {
            Ok(TargetKind::Webhook { url }) => self.post(target, &url, body).await,
            Ok(TargetKind::LogFile { name }) => {
                let path = self.logs_dir.join(format!("{name}.ndjson"));
                let line = one_line(body);
                tokio::task::spawn_blocking(move || append_line(&path, &line))
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?
                    .map_err(|e| SendError::Transient(format!("writing the log file: {e}")))
            }
            Ok(TargetKind::Command { name }) => match self.commands.iter().find(|command| command.name == name) {
                Some(command) => command.run(body).await,
                None => Err(SendError::Permanent(format!(
                    "no command {name} is declared in the configuration ([[rule_commands]])"
                ))),
            },
            Ok(TargetKind::Sns { arn }) => {
                let Some(topic) = self.topics.iter().find(|topic| topic.arn == arn) else {
                    return Err(SendError::Permanent(format!(
                        "the SNS topic {arn} is not declared in the configuration ([[sns_topics]])"
                    )));
                };
                self.notifier.publish(topic, None, body).await.map_err(|error| match error {
                    NotifyError::Status { status, .. } if status < 500 && status != 429 => {
                        SendError::Permanent(error.to_string())
                    }
                    NotifyError::Failed { .. } => SendError::Permanent(error.to_string()),
                    NotifyError::Status { .. } | NotifyError::Unreachable { .. } => {
                        SendError::Transient(error.to_string())
                    }
                })
            }
            Err(error) => Err(SendError::Permanent(error.to_string())),
        }
    }

    async fn post(&self, target: &RuleTarget, url: &str, body: &str) -> Result<(), SendError> {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_owned());
        if let Some(parameters) = &target.http_parameters {
            for (name, value) in &parameters.header_parameters {
                request = request.header(name.as_str(), value.as_str());
            }
            if !parameters.query_string_parameters.is_empty() {
                request = request.query(&parameters.query_string_parameters);
            }
        }
        let response = request.send().await.map_err(|e| {
            if e.is_builder() {
                SendError::Permanent(format!("cannot build the request to {url}: {e}"))
            } else {
                SendError::Transient(format!("POST {url} failed: {e}"))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(SendError::Transient(format!("POST {url} answered {}", status.as_u16())))
        } else {
            Err(SendError::Permanent(format!("POST {url} answered {}", status.as_u16())))
        }
    }
}

/// `body` as one NDJSON line: compact JSON when it is JSON, else a JSON string.
pub(super) fn one_line(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => value.to_string(),
        Err(_) => serde_json::Value::String(body.to_owned()).to_string(),
    }
}

/// Appends `line` and a newline to `path` in one write, synced: once this returns the line is on
/// disk, so the dispatcher may move its cursor past the event.
pub(super) fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    file.sync_data()
}
