//! Configuration in two stages: [`RawConfig`] is what the TOML file says,
//! merged with flags and environment into [`ServeConfig`], validated without IO.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cairn_api::settings::{ExternalBucket, Organization, SnsTopic};
use cairn_api::throttle::RateLimit;
use cairn_deliver::rules::command::RuleCommand;
use cairn_model::arn::{Arn, is_account_id};
use cairn_model::identity::{Principal, PrincipalType};
use cairn_model::region::is_region_name;
use serde::Deserialize;

mod log_sinks;
pub(crate) use log_sinks::{LogSinkConfig, RawLogSink, resolve_log_sink};

/// The TOML config file (`--config FILE`); every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) listen: Option<String>,
    /// The web console's address [default: the API's port + 1, or any free port when that is 0].
    pub(crate) console_listen: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) region: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) accept_any_credentials: Option<bool>,
    pub(crate) max_body_bytes: Option<usize>,
    /// Proxies whose `X-Forwarded-For` header is believed (IP addresses).
    #[serde(default)]
    pub(crate) trusted_proxies: Vec<String>,
    /// LookupEvents calls per second per account and region (AWS: 2), and the burst allowed.
    pub(crate) lookup_events_per_second: Option<f64>,
    pub(crate) lookup_events_burst: Option<f64>,
    #[serde(default)]
    pub(crate) identities: Vec<RawIdentity>,
    pub(crate) organization: Option<RawOrganization>,
    #[serde(default)]
    pub(crate) sns_topics: Vec<RawSnsTopic>,
    #[serde(default)]
    pub(crate) s3_buckets: Vec<RawS3Bucket>,
    /// How often trails deliver log files (`"5m"`, `"1s"`, …).
    pub(crate) delivery_interval: Option<String>,
    /// The digest period (`"1h"`, `"60s"`, …).
    pub(crate) digest_interval: Option<String>,
    /// How often digest signing keys rotate (`"30d"`).
    pub(crate) signing_key_rotation: Option<String>,
    /// Insights' learning period and baseline window (`"7d"`; shorter for tests and small deployments).
    pub(crate) insights_learning: Option<String>,
    /// How often Insights reads new events and judges complete minutes (`"5s"`).
    pub(crate) insights_interval: Option<String>,
    /// How long after a minute ends Insights judges it (`"30s"`).
    pub(crate) insights_lateness: Option<String>,
    /// Whether trails' log streaming writes to the embedded CloudWatch Logs store, served as the
    /// `logs` API [default: true].
    pub(crate) embedded_cloudwatch_logs: Option<bool>,
    /// How many events each embedded log stream keeps (the oldest go first) [default: 100000].
    pub(crate) cloudwatch_logs_max_events_per_stream: Option<usize>,
    /// Generic destinations of trails' log streaming (`config/log_sinks.rs`).
    #[serde(default)]
    pub(crate) log_sinks: Vec<RawLogSink>,
    /// Commands rule targets may run (`arn:cairn:command:::NAME`), each with the event on standard
    /// input; none unless declared here.
    #[serde(default)]
    pub(crate) rule_commands: Vec<RawRuleCommand>,
    /// Where the starter security alarms send their state changes (a rule target: a webhook URL,
    /// `arn:cairn:logfile:::NAME`, …); set, cairn keeps the alarms as rules of the root account in the
    /// default region.
    pub(crate) security_alarms_target: Option<String>,
}

/// A command rule targets may run (`[[rule_commands]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuleCommand {
    pub(crate) name: String,
    /// The program and its arguments (no shell unless the program is one).
    pub(crate) argv: Vec<String>,
    /// How long one run may take before it is killed [default: 10s].
    pub(crate) timeout: Option<String>,
}

/// A principal with an access key (`[[identities]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIdentity {
    #[serde(rename = "type")]
    pub(crate) principal_type: Option<String>,
    pub(crate) account_id: String,
    pub(crate) arn: Option<String>,
    pub(crate) principal_id: Option<String>,
    pub(crate) user_name: Option<String>,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrganization {
    pub(crate) id: String,
    pub(crate) management_account_id: String,
    #[serde(default)]
    pub(crate) member_account_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnsTopic {
    pub(crate) arn: String,
    pub(crate) endpoint: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawS3Bucket {
    pub(crate) name: String,
    pub(crate) endpoint: String,
    pub(crate) region: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    #[serde(default = "default_true")]
    pub(crate) path_style: bool,
}

fn default_true() -> bool {
    true
}

/// What flags and environment say; each overrides the config file.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    pub(crate) listen: Option<String>,
    pub(crate) console_listen: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) region: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) root_access_key_id: Option<String>,
    pub(crate) root_secret_access_key: Option<String>,
    pub(crate) accept_any_credentials: bool,
    pub(crate) delivery_interval: Option<String>,
    pub(crate) digest_interval: Option<String>,
    pub(crate) signing_key_rotation: Option<String>,
    pub(crate) insights_learning: Option<String>,
    pub(crate) security_alarms_target: Option<String>,
}

/// A validated configuration; opening the data directory comes next.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    pub(crate) listen: SocketAddr,
    pub(crate) console_listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) region: String,
    pub(crate) account_id: Option<String>,
    /// Both or neither, checked here.
    pub(crate) root_keys: Option<(String, String)>,
    pub(crate) accept_any_credentials: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    pub(crate) lookup_events_rate: RateLimit,
    pub(crate) identities: Vec<(Principal, String)>,
    pub(crate) organization: Option<Organization>,
    pub(crate) sns_topics: Vec<SnsTopic>,
    pub(crate) external_buckets: Vec<ExternalBucket>,
    pub(crate) delivery_interval: Duration,
    pub(crate) digest_interval: Duration,
    pub(crate) signing_key_rotation: Duration,
    pub(crate) insights_learning: Duration,
    pub(crate) insights_interval: Duration,
    pub(crate) insights_lateness: Duration,
    pub(crate) embedded_cloudwatch_logs: bool,
    pub(crate) cloudwatch_logs_max_events_per_stream: usize,
    pub(crate) log_sinks: Vec<LogSinkConfig>,
    pub(crate) rule_commands: Vec<RuleCommand>,
    pub(crate) security_alarms_target: Option<String>,
}

/// AWS's baseline: the seven days before an insight (spec/formats.md §5.2).
pub(crate) const DEFAULT_INSIGHTS_LEARNING: Duration = Duration::from_secs(7 * 24 * 3600);

/// Defaults of design.md §6.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:4590";
pub(crate) const DEFAULT_DATA_DIR: &str = "./cairn-data";
pub(crate) const DEFAULT_REGION: &str = "us-east-1";
/// Request bodies above this are refused; PutAuditEvents' 1 MB batch fits.
const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// AWS delivers log files about every 5 minutes, digests hourly, and rotates keys every 30 days.
const DEFAULT_DELIVERY_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_DIGEST_INTERVAL: Duration = Duration::from_secs(3600);
const DEFAULT_SIGNING_KEY_ROTATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// A configuration mistake, named precisely.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ConfigError(String);

fn config_error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

impl ServeConfig {
    pub(crate) fn resolve(raw: RawConfig, overrides: Overrides) -> Result<ServeConfig, ConfigError> {
        let listen_text = overrides.listen.or(raw.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|e| config_error(format!("listen address {listen_text:?} is not ADDRESS:PORT: {e}")))?;
        let console_listen = match overrides.console_listen.or(raw.console_listen) {
            Some(text) => text
                .parse::<SocketAddr>()
                .map_err(|e| config_error(format!("console address {text:?} is not ADDRESS:PORT: {e}")))?,
            None => SocketAddr::new(listen.ip(), if listen.port() == 0 { 0 } else { listen.port().wrapping_add(1) }),
        };
        let region = overrides.region.or(raw.region).unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if !is_region_name(&region) {
            return Err(config_error(format!("region {region:?} is not a region name such as us-east-1")));
        }
        let account_id = overrides.account_id.or(raw.account_id);
        if let Some(account_id) = &account_id
            && !is_account_id(account_id)
        {
            return Err(config_error(format!("account ID {account_id:?} must be 12 digits")));
        }
        let root_keys = match (overrides.root_access_key_id, overrides.root_secret_access_key) {
            (Some(key), Some(secret)) => {
                check_key_pair(&key, &secret, "root")?;
                Some((key, secret))
            }
            (None, None) => None,
            _ => {
                return Err(config_error(
                    "set both CAIRN_ROOT_ACCESS_KEY_ID and CAIRN_ROOT_SECRET_ACCESS_KEY, or neither",
                ));
            }
        };
        let identities = raw.identities.into_iter().map(resolve_identity).collect::<Result<Vec<_>, _>>()?;
        let mut seen_keys = std::collections::HashSet::new();
        for (principal, _) in &identities {
            if !seen_keys.insert(principal.access_key_id.clone()) {
                return Err(config_error(format!("access key {} is declared twice", principal.access_key_id)));
            }
        }
        let interval = |name: &str, value: Option<String>, default: Duration, max: Duration| match value {
            None => Ok(default),
            Some(text) => {
                parse_interval(&text).filter(|d| *d >= Duration::from_secs(1) && *d <= max).ok_or_else(|| {
                    config_error(format!("{name} {text:?} must be a duration from 1s to {}", describe(max)))
                })
            }
        };
        let day = Duration::from_secs(24 * 3600);
        let delivery_interval = interval(
            "delivery interval",
            overrides.delivery_interval.or(raw.delivery_interval),
            DEFAULT_DELIVERY_INTERVAL,
            day,
        )?;
        let digest_interval = interval(
            "digest interval",
            overrides.digest_interval.or(raw.digest_interval),
            DEFAULT_DIGEST_INTERVAL,
            day,
        )?;
        let signing_key_rotation = interval(
            "signing key rotation",
            overrides.signing_key_rotation.or(raw.signing_key_rotation),
            DEFAULT_SIGNING_KEY_ROTATION,
            day * 3650,
        )?;
        let insights_learning = interval(
            "insights learning period",
            overrides.insights_learning.or(raw.insights_learning),
            DEFAULT_INSIGHTS_LEARNING,
            day * 30,
        )?;
        if insights_learning.as_secs() % 60 != 0 {
            return Err(config_error(format!(
                "insights learning period must be whole minutes, not {}s",
                insights_learning.as_secs()
            )));
        }
        let insights_interval =
            interval("insights interval", raw.insights_interval, Duration::from_secs(5), Duration::from_secs(3600))?;
        let insights_lateness =
            interval("insights lateness", raw.insights_lateness, Duration::from_secs(30), Duration::from_secs(3600))?;
        Ok(ServeConfig {
            delivery_interval,
            digest_interval,
            signing_key_rotation,
            insights_learning,
            insights_interval,
            insights_lateness,
            listen,
            console_listen,
            data_dir: overrides.data_dir.or(raw.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            region,
            account_id,
            root_keys,
            accept_any_credentials: overrides.accept_any_credentials || raw.accept_any_credentials.unwrap_or(false),
            max_body_bytes: raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            trusted_proxies: raw
                .trusted_proxies
                .iter()
                .map(|text| {
                    text.parse().map_err(|_| config_error(format!("trusted proxy {text:?} is not an IP address")))
                })
                .collect::<Result<_, _>>()?,
            lookup_events_rate: resolve_rate(raw.lookup_events_per_second, raw.lookup_events_burst)?,
            identities,
            organization: raw.organization.map(resolve_organization).transpose()?,
            sns_topics: raw.sns_topics.into_iter().map(resolve_sns_topic).collect::<Result<_, _>>()?,
            external_buckets: raw.s3_buckets.into_iter().map(resolve_bucket).collect::<Result<_, _>>()?,
            embedded_cloudwatch_logs: raw.embedded_cloudwatch_logs.unwrap_or(true),
            cloudwatch_logs_max_events_per_stream: match raw.cloudwatch_logs_max_events_per_stream {
                None => cairn_store::logs::DEFAULT_MAX_EVENTS_PER_STREAM,
                Some(0) => return Err(config_error("cloudwatch_logs_max_events_per_stream must be at least 1")),
                Some(n) => n,
            },
            log_sinks: raw.log_sinks.into_iter().map(resolve_log_sink).collect::<Result<_, _>>()?,
            rule_commands: raw.rule_commands.into_iter().map(resolve_rule_command).collect::<Result<_, _>>()?,
            security_alarms_target: match overrides.security_alarms_target.or(raw.security_alarms_target) {
                Some(target) => {
                    cairn_deliver::rules::TargetKind::of(&target)
                        .map_err(|e| config_error(format!("security alarms: {e}")))?;
                    Some(target)
                }
                None => None,
            },
        })
    }
}

/// A declared command: a name targets can use, a program, a timeout of 1 s to 1 h.
fn resolve_rule_command(raw: RawRuleCommand) -> Result<RuleCommand, ConfigError> {
    let named = cairn_deliver::rules::TargetKind::of(&format!("arn:cairn:command:::{}", raw.name));
    if !matches!(named, Ok(cairn_deliver::rules::TargetKind::Command { .. })) {
        return Err(config_error(format!(
            "rule command name {:?} must be 1-64 letters, digits, '.', '-' or '_'",
            raw.name
        )));
    }
    if raw.argv.first().is_none_or(|program| program.is_empty()) {
        return Err(config_error(format!("rule command {} needs argv with a program", raw.name)));
    }
    let timeout = match raw.timeout {
        None => Duration::from_secs(10),
        Some(text) => parse_interval(&text)
            .filter(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_secs(3600))
            .ok_or_else(|| config_error(format!("rule command {} timeout {text:?} must be from 1s to 1h", raw.name)))?,
    };
    Ok(RuleCommand { name: raw.name, argv: raw.argv, timeout })
}

/// LookupEvents' limit: AWS allows 2 calls per second; a burst of 10 lets
/// scripts page through results without waiting.
fn resolve_rate(per_second: Option<f64>, burst: Option<f64>) -> Result<RateLimit, ConfigError> {
    let limit = RateLimit { per_second: per_second.unwrap_or(2.0), burst: burst.unwrap_or(10.0) };
    let valid = limit.per_second > 0.0 && limit.per_second.is_finite() && limit.burst >= 1.0 && limit.burst.is_finite();
    if !valid {
        return Err(config_error("lookup_events_per_second must be > 0 and lookup_events_burst >= 1"));
    }
    Ok(limit)
}

fn check_key_pair(access_key_id: &str, secret: &str, whose: &str) -> Result<(), ConfigError> {
    if !(3..=128).contains(&access_key_id.len()) || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(config_error(format!("{whose} access key ID must be 3–128 letters and digits")));
    }
    if secret.is_empty() {
        return Err(config_error(format!("{whose} secret access key is empty")));
    }
    Ok(())
}

fn resolve_identity(raw: RawIdentity) -> Result<(Principal, String), ConfigError> {
    if !is_account_id(&raw.account_id) {
        return Err(config_error(format!("identity account_id {:?} must be 12 digits", raw.account_id)));
    }
    check_key_pair(&raw.access_key_id, &raw.secret_access_key, &format!("identity {}", raw.access_key_id))?;
    let principal_type = match raw.principal_type.as_deref().unwrap_or("IAMUser") {
        "IAMUser" => PrincipalType::IAMUser,
        "Root" => PrincipalType::Root,
        other => return Err(config_error(format!("identity type {other:?} is not IAMUser or Root"))),
    };
    let principal = match principal_type {
        PrincipalType::Root => {
            let mut root = Principal::root(&raw.account_id, &raw.access_key_id);
            if let Some(arn) = raw.arn {
                root.arn = arn;
            }
            root
        }
        PrincipalType::IAMUser => {
            let user_name = raw
                .user_name
                .ok_or_else(|| config_error(format!("IAMUser identity {} needs a user_name", raw.access_key_id)))?;
            Principal {
                principal_type,
                arn: raw.arn.unwrap_or_else(|| format!("arn:aws:iam::{}:user/{user_name}", raw.account_id)),
                principal_id: raw
                    .principal_id
                    .unwrap_or_else(|| format!("AIDA{}", raw.access_key_id.trim_start_matches("AKIA"))),
                account_id: raw.account_id,
                user_name: Some(user_name),
                access_key_id: raw.access_key_id,
            }
        }
    };
    if Arn::parse(&principal.arn).is_none_or(|arn| arn.service != "iam" || arn.account != principal.account_id) {
        return Err(config_error(format!("identity arn {:?} is not an IAM ARN of its account", principal.arn)));
    }
    Ok((principal, raw.secret_access_key))
}

fn resolve_organization(raw: RawOrganization) -> Result<Organization, ConfigError> {
    let id_ok = raw.id.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !id_ok {
        return Err(config_error(format!("organization id {:?} is not of the form o-xxxxxxxxxx", raw.id)));
    }
    for account in std::iter::once(&raw.management_account_id).chain(&raw.member_account_ids) {
        if !is_account_id(account) {
            return Err(config_error(format!("organization account {account:?} must be 12 digits")));
        }
    }
    Ok(Organization {
        id: raw.id,
        management_account_id: raw.management_account_id,
        member_account_ids: raw.member_account_ids,
    })
}

fn resolve_sns_topic(raw: RawSnsTopic) -> Result<SnsTopic, ConfigError> {
    let topic = SnsTopic { arn: raw.arn, endpoint: raw.endpoint };
    match topic.parts() {
        Some((region, account, name)) if is_region_name(region) && is_account_id(account) && !name.is_empty() => {
            Ok(topic)
        }
        _ => Err(config_error(format!("sns topic arn {:?} is not arn:aws:sns:REGION:ACCOUNT:NAME", topic.arn))),
    }
}

fn resolve_bucket(raw: RawS3Bucket) -> Result<ExternalBucket, ConfigError> {
    cairn_model::names::validate_bucket_name(&raw.name).map_err(|e| config_error(e.message))?;
    if !(raw.endpoint.starts_with("http://") || raw.endpoint.starts_with("https://")) {
        return Err(config_error(format!("bucket {} endpoint must be an http(s) URL", raw.name)));
    }
    Ok(ExternalBucket {
        name: raw.name,
        endpoint: raw.endpoint,
        region: raw.region.unwrap_or_else(|| DEFAULT_REGION.to_owned()),
        access_key_id: raw.access_key_id,
        secret_access_key: raw.secret_access_key,
        path_style: raw.path_style,
    })
}

/// `500ms`, `90s`, `5m`, `1h`, `30d`: a whole number and one unit.
pub(crate) fn parse_interval(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(number.checked_mul(unit_ms)?))
}

fn describe(duration: Duration) -> String {
    match duration.as_secs() {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests;
