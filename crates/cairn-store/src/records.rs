//! The record types of the metadata store (disk formats: change them only with a migration).

use cairn_model::trail::{AggregationConfiguration, InsightSelector, Tag};
use cairn_select::TrailSelectors;
use serde::{Deserialize, Serialize};

use crate::registry::Record;

/// A trail, keyed by account, home region and name (spec/api.md §1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailRecord {
    pub account_id: String,
    pub home_region: String,
    pub name: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_arn: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub log_file_validation_enabled: bool,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    /// The organization whose members see this trail; `Some` iff it is an organization trail.
    pub organization_id: Option<String>,
    pub recursive_logging: bool,
    pub selectors: TrailSelectors,
    pub insight_selectors: Vec<InsightSelector>,
    pub aggregation_configurations: Vec<AggregationConfiguration>,
    pub tags: Vec<Tag>,
    pub logging: LoggingState,
    pub created_at: jiff::Timestamp,
}

impl TrailRecord {
    pub fn key_of(account_id: &str, home_region: &str, name: &str) -> String {
        format!("{account_id}/{home_region}/{name}")
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:trail/{}", self.home_region, self.account_id, self.name)
    }

    pub fn is_organization_trail(&self) -> bool {
        self.organization_id.is_some()
    }
}

impl Record for TrailRecord {
    const TABLE: &'static str = "trails";
    fn key(&self) -> String {
        TrailRecord::key_of(&self.account_id, &self.home_region, &self.name)
    }
}

/// Whether a trail logs, and since when (GetTrailStatus).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggingState {
    pub is_logging: bool,
    pub start_logging_time: Option<jiff::Timestamp>,
    pub stop_logging_time: Option<jiff::Timestamp>,
    /// The end of the write-ahead log when logging last started: the trail's StartLogging event is at
    /// or after it, so delivery reads from here.
    #[serde(default)]
    pub start_lsn: Option<crate::wal::Lsn>,
}

/// An embedded S3 bucket (its objects live under `buckets/<name>/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    pub owner_account_id: String,
    pub region: String,
    pub created_at: jiff::Timestamp,
}

impl Record for BucketRecord {
    const TABLE: &'static str = "buckets";
    fn key(&self) -> String {
        self.name.clone()
    }
}

/// Credentials cairn generated or was given for an account's root user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCredentialRecord {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for RootCredentialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log line.
        f.debug_struct("RootCredentialRecord")
            .field("account_id", &self.account_id)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Record for RootCredentialRecord {
    const TABLE: &'static str = "root_credentials";
    fn key(&self) -> String {
        self.account_id.clone()
    }
}
