//! EventBridge rules on the default event bus, with their targets (issue 9). A disk format: change
//! it only with a migration. The target members keep EventBridge's wire names, so `PutTargets`
//! input and `ListTargetsByRule` output are these types as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::Record;

/// A rule, keyed by account, region and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The pattern as the client wrote it (validated by `cairn_select::EventPattern::parse`).
    pub event_pattern: String,
    pub state: RuleState,
    pub description: Option<String>,
    pub targets: Vec<RuleTarget>,
    pub created_at: jiff::Timestamp,
    /// PutRule's `Tags`; `cairn:alarm:*` tags make the rule an alarm (`cairn_deliver::rules::alarm`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<RuleTag>,
}

/// A tag of a rule (EventBridge's `Tag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleTag {
    pub key: String,
    pub value: String,
}

impl RuleRecord {
    /// The rule's tags as (key, value).
    pub fn tag_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|tag| (tag.key.as_str(), tag.value.as_str()))
    }
}

impl RuleRecord {
    pub fn key_of(account_id: &str, region: &str, name: &str) -> String {
        format!("{account_id}/{region}/{name}")
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:events:{}:{}:rule/{}", self.region, self.account_id, self.name)
    }

    /// Whether the rule takes events at all.
    pub fn is_enabled(&self) -> bool {
        self.state != RuleState::Disabled
    }
}

impl Record for RuleRecord {
    const TABLE: &'static str = "event_rules";
    fn key(&self) -> String {
        RuleRecord::key_of(&self.account_id, &self.region, &self.name)
    }
}

/// `State` of a rule (botocore `events` 2015-10-07 `RuleState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleState {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "DISABLED")]
    Disabled,
    /// Also takes read-only management events (spec/formats.md §4.2).
    #[serde(rename = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")]
    EnabledWithAllCloudTrailManagementEvents,
}

impl RuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudTrailManagementEvents => "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
        }
    }

    pub fn parse(value: &str) -> Option<RuleState> {
        [RuleState::Enabled, RuleState::Disabled, RuleState::EnabledWithAllCloudTrailManagementEvents]
            .into_iter()
            .find(|state| state.as_str() == value)
    }
}

/// One target of a rule, in EventBridge's wire shape (members cairn does not use are dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleTarget {
    pub id: String,
    /// What receives the events; its form decides the kind of target (see `cairn_deliver::rules`).
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_parameters: Option<HttpParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
}

impl RuleTarget {
    /// A target that gets each event as it is, with the default retries.
    pub fn plain(id: &str, arn: &str) -> RuleTarget {
        RuleTarget {
            id: id.to_owned(),
            arn: arn.to_owned(),
            input: None,
            input_path: None,
            input_transformer: None,
            http_parameters: None,
            retry_policy: None,
            dead_letter_config: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputTransformer {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub input_paths_map: BTreeMap<String, String>,
    pub input_template: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpParameters {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub header_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_string_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}
