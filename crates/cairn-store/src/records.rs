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

    /// What the trail's configuration says about which events it takes; `organization_accounts`
    /// are the organization's accounts (management included), used for an organization trail only.
    pub fn scope<'a>(&'a self, organization_accounts: &'a [String]) -> cairn_select::TrailScope<'a> {
        cairn_select::TrailScope {
            account_id: &self.account_id,
            home_region: &self.home_region,
            is_multi_region: self.is_multi_region_trail,
            include_global_service_events: self.include_global_service_events,
            organization_accounts: self.is_organization_trail().then_some(organization_accounts),
            selectors: &self.selectors,
        }
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

/// A CloudTrail Lake event data store, keyed by its ID (the UUID at the end of its ARN, and the
/// table name in SQL). Its events live in the dataset `datasets/eds-<id>/` (spec/api.md §1.6, §2.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDataStoreRecord {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub status: EventDataStoreStatus,
    pub advanced_event_selectors: Vec<cairn_select::AdvancedEventSelector>,
    pub multi_region_enabled: bool,
    pub organization_enabled: bool,
    /// Days an event is kept, counted from its `eventTime`.
    pub retention_period: u32,
    pub termination_protection_enabled: bool,
    pub kms_key_id: Option<String>,
    pub billing_mode: BillingMode,
    pub tags: Vec<Tag>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    /// When DeleteEventDataStore moved it to `PENDING_DELETION`; purged 7 days later.
    pub deleted_at: Option<jiff::Timestamp>,
    /// The stretches of the write-ahead log the store copies from: one per StartIngestion (or the
    /// creation), closed by StopEventDataStoreIngestion. Replays after a crash use the same ranges.
    pub ingestion: Vec<IngestionRange>,
    /// The stretches of the write-ahead log during which the store was a destination of a channel
    /// (ActivityAuditLog stores): opened when a channel names it, closed when the channel drops it or
    /// is deleted.
    #[serde(default)]
    pub channels: Vec<ChannelRange>,
    /// Insights on the store's events (PutInsightSelectors with an `EventDataStore`).
    #[serde(default)]
    pub insights: Option<EventDataStoreInsights>,
}

/// What Insights an event data store asks for, and the store its insight events go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDataStoreInsights {
    pub selectors: Vec<cairn_model::trail::InsightSelector>,
    /// The ARN of the event data store that collects the insight events.
    pub destination: String,
}

impl EventDataStoreRecord {
    pub fn arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:eventdatastore/{}", self.region, self.account_id, self.id)
    }

    /// Whether the store copies the event at `lsn` (its ingestion ranges; status aside).
    pub fn ingests_at(&self, lsn: crate::wal::Lsn) -> bool {
        self.ingestion.iter().any(|range| range.start <= lsn && range.end.is_none_or(|end| lsn < end))
    }

    /// Whether the store takes the event at `lsn` that arrived through the channel `channel_arn`:
    /// the store was one of the channel's destinations when the event was written.
    pub fn takes_channel_event(&self, channel_arn: &str, lsn: crate::wal::Lsn) -> bool {
        self.channels.iter().any(|range| range.channel_arn == channel_arn && range.covers(lsn))
    }

    /// Whether the store is taking new events now.
    pub fn is_ingesting(&self) -> bool {
        self.status == EventDataStoreStatus::Enabled && self.ingestion.last().is_some_and(|r| r.end.is_none())
    }
}

impl Record for EventDataStoreRecord {
    const TABLE: &'static str = "event_data_stores";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// The lifecycle states of an event data store that persist (the transitional `CREATED`,
/// `STARTING_INGESTION` and `STOPPING_INGESTION` are only ever reported by responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventDataStoreStatus {
    Enabled,
    StoppedIngestion,
    PendingDeletion,
}

impl EventDataStoreStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventDataStoreStatus::Enabled => "ENABLED",
            EventDataStoreStatus::StoppedIngestion => "STOPPED_INGESTION",
            EventDataStoreStatus::PendingDeletion => "PENDING_DELETION",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    ExtendableRetentionPricing,
    FixedRetentionPricing,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::ExtendableRetentionPricing => "EXTENDABLE_RETENTION_PRICING",
            BillingMode::FixedRetentionPricing => "FIXED_RETENTION_PRICING",
        }
    }

    pub fn parse(value: &str) -> Option<BillingMode> {
        match value {
            "EXTENDABLE_RETENTION_PRICING" => Some(BillingMode::ExtendableRetentionPricing),
            "FIXED_RETENTION_PRICING" => Some(BillingMode::FixedRetentionPricing),
            _ => None,
        }
    }

    /// The longest retention the mode allows, in days.
    pub fn max_retention(self) -> u32 {
        match self {
            BillingMode::ExtendableRetentionPricing => 3653,
            BillingMode::FixedRetentionPricing => 2557,
        }
    }

    /// The retention of a store created without one, in days.
    pub fn default_retention(self) -> u32 {
        match self {
            BillingMode::ExtendableRetentionPricing => 366,
            BillingMode::FixedRetentionPricing => 2557,
        }
    }
}

/// `[start, end)` of the write-ahead log; `end` is `None` while ingestion continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestionRange {
    pub start: crate::wal::Lsn,
    pub end: Option<crate::wal::Lsn>,
}

/// A Lake query (spec/api.md §1.7), kept 7 days. Its result rows are in the data directory's
/// `queries/<id>.json` once it finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    pub id: String,
    pub account_id: String,
    pub region: String,
    /// The event data stores named in `FROM`, by ID.
    pub event_data_stores: Vec<String>,
    pub statement: String,
    pub status: QueryStatus,
    pub error_message: Option<String>,
    pub delivery_s3_uri: Option<String>,
    pub delivery_status: Option<String>,
    pub created_at: jiff::Timestamp,
    pub statistics: QueryStatistics,
}

impl Record for QueryRecord {
    const TABLE: &'static str = "lake_queries";
    fn key(&self) -> String {
        self.id.clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryStatus {
    Queued,
    Running,
    Finished,
    Failed,
    Cancelled,
    TimedOut,
}

impl QueryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Queued => "QUEUED",
            QueryStatus::Running => "RUNNING",
            QueryStatus::Finished => "FINISHED",
            QueryStatus::Failed => "FAILED",
            QueryStatus::Cancelled => "CANCELLED",
            QueryStatus::TimedOut => "TIMED_OUT",
        }
    }

    pub fn parse(value: &str) -> Option<QueryStatus> {
        [
            QueryStatus::Queued,
            QueryStatus::Running,
            QueryStatus::Finished,
            QueryStatus::Failed,
            QueryStatus::Cancelled,
            QueryStatus::TimedOut,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, QueryStatus::Queued | QueryStatus::Running)
    }
}

/// DescribeQuery's and GetQueryResults' statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryStatistics {
    pub events_matched: u64,
    pub events_scanned: u64,
    pub bytes_scanned: u64,
    pub execution_time_ms: u64,
    pub results_count: u64,
}

/// A finished Lake query's results: column names and rows of values rendered as CloudTrail Lake
/// shows them (`None` is NULL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A StartQuery request, as the Lake takes it.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    pub account_id: String,
    pub region: String,
    pub statement: String,
    pub delivery_s3_uri: Option<String>,
}

/// A CloudTrail Lake dashboard, keyed by account, region and name (spec/api.md §1.10, §2.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardRecord {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub dashboard_type: DashboardType,
    pub status: DashboardStatus,
    pub widgets: Vec<DashboardWidget>,
    pub refresh_schedule: Option<DashboardRefreshSchedule>,
    pub termination_protection_enabled: bool,
    pub tags: Vec<Tag>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    /// The latest refreshes, oldest first (a few are kept, so their widget queries stay reachable
    /// by `QueryAlias` and `RefreshId`).
    pub refreshes: Vec<DashboardRefresh>,
    /// Why the last scheduled refresh could not start; cleared by the next one that starts.
    pub last_refresh_failure_reason: Option<String>,
    /// When the enabled refresh schedule next refreshes the dashboard.
    pub next_scheduled_refresh: Option<jiff::Timestamp>,
}

impl DashboardRecord {
    pub fn key_of(account_id: &str, region: &str, name: &str) -> String {
        format!("{account_id}/{region}/{name}")
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:dashboard/{}", self.region, self.account_id, self.name)
    }

    /// The newest refresh, if the dashboard was ever refreshed.
    pub fn last_refresh(&self) -> Option<&DashboardRefresh> {
        self.refreshes.last()
    }
}

impl Record for DashboardRecord {
    const TABLE: &'static str = "dashboards";
    fn key(&self) -> String {
        DashboardRecord::key_of(&self.account_id, &self.region, &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardType {
    Custom,
    Managed,
}

impl DashboardType {
    pub fn as_str(self) -> &'static str {
        match self {
            DashboardType::Custom => "CUSTOM",
            DashboardType::Managed => "MANAGED",
        }
    }

    pub fn parse(value: &str) -> Option<DashboardType> {
        [DashboardType::Custom, DashboardType::Managed].into_iter().find(|t| t.as_str() == value)
    }
}

/// The states of a dashboard that persist (`CREATING`, `UPDATING` and `DELETING` pass within a call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardStatus {
    Created,
    Updated,
}

impl DashboardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DashboardStatus::Created => "CREATED",
            DashboardStatus::Updated => "UPDATED",
        }
    }
}

/// One widget: a Lake query whose `?` placeholders take `query_parameters` in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardWidget {
    /// Names the widget's query of a refresh in DescribeQuery and GetQueryResults.
    pub query_alias: String,
    pub query_statement: String,
    pub query_parameters: Option<Vec<String>>,
    pub view_properties: std::collections::BTreeMap<String, String>,
}

/// When a dashboard refreshes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardRefreshSchedule {
    pub frequency: Option<RefreshFrequency>,
    pub enabled: bool,
    /// `HH:MM`, UTC.
    pub time_of_day: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFrequency {
    pub unit: RefreshFrequencyUnit,
    pub value: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshFrequencyUnit {
    Hours,
    Days,
}

impl RefreshFrequencyUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshFrequencyUnit::Hours => "HOURS",
            RefreshFrequencyUnit::Days => "DAYS",
        }
    }

    pub fn parse(value: &str) -> Option<RefreshFrequencyUnit> {
        [RefreshFrequencyUnit::Hours, RefreshFrequencyUnit::Days].into_iter().find(|u| u.as_str() == value)
    }
}

/// One refresh of a dashboard: the Lake query it started for each widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardRefresh {
    /// 10–20 digits (spec/api.md §2.1).
    pub id: String,
    pub started_at: jiff::Timestamp,
    pub scheduled: bool,
    pub queries: Vec<WidgetQuery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetQuery {
    pub query_alias: String,
    pub query_id: String,
}

/// A CloudTrail Lake channel (spec/api.md §1.8, §2.10), keyed by its ID: the way events from outside
/// AWS (PutAuditEvents) reach ActivityAuditLog event data stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRecord {
    /// A UUID, the end of the ARN.
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// `Custom` or a partner's source name; fixed at creation.
    pub source: String,
    pub destinations: Vec<ChannelDestination>,
    pub tags: Vec<Tag>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    /// GetChannel's `IngestionStatus`, kept by PutAuditEvents.
    #[serde(default)]
    pub ingestion_status: ChannelIngestionStatus,
}

impl ChannelRecord {
    pub fn arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:channel/{}", self.region, self.account_id, self.id)
    }
}

impl Record for ChannelRecord {
    const TABLE: &'static str = "channels";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// Where a channel's events go: an event data store (`location` is its ARN) or, for service-linked
/// channels, an AWS service (`location` is the service's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelDestination {
    pub kind: ChannelDestinationType,
    pub location: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelDestinationType {
    EventDataStore,
    AwsService,
}

impl ChannelDestinationType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelDestinationType::EventDataStore => "EVENT_DATA_STORE",
            ChannelDestinationType::AwsService => "AWS_SERVICE",
        }
    }

    pub fn parse(value: &str) -> Option<ChannelDestinationType> {
        [ChannelDestinationType::EventDataStore, ChannelDestinationType::AwsService]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// The latest PutAuditEvents outcomes on a channel (GetChannel's `IngestionStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelIngestionStatus {
    pub latest_success_time: Option<jiff::Timestamp>,
    pub latest_success_event_id: Option<String>,
    pub latest_error_code: Option<String>,
    pub latest_attempt_time: Option<jiff::Timestamp>,
    pub latest_attempt_event_id: Option<String>,
}

/// `[start, end)` of the write-ahead log during which a store was a destination of the channel
/// `channel_arn`; `end` is `None` while it still is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRange {
    pub channel_arn: String,
    pub start: crate::wal::Lsn,
    pub end: Option<crate::wal::Lsn>,
}

impl ChannelRange {
    /// Whether the event at `lsn` falls in the range.
    pub fn covers(&self, lsn: crate::wal::Lsn) -> bool {
        self.start <= lsn && self.end.is_none_or(|end| lsn < end)
    }
}

/// A resource-based policy on an event data store, dashboard or channel, keyed by the resource's ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicyRecord {
    pub resource_arn: String,
    pub account_id: String,
    /// The policy document as the caller gave it.
    pub policy: String,
}

impl Record for ResourcePolicyRecord {
    const TABLE: &'static str = "resource_policies";
    fn key(&self) -> String {
        self.resource_arn.clone()
    }
}

/// A CloudTrail Lake import (spec/api.md §1.9, §2.11): CloudTrail log files under an S3 prefix copied
/// into one event data store, by a worker that survives restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: String,
    pub account_id: String,
    pub region: String,
    /// The destination event data store's ARN (AWS allows exactly one).
    pub destinations: Vec<String>,
    pub source: ImportSource,
    pub start_event_time: Option<jiff::Timestamp>,
    pub end_event_time: Option<jiff::Timestamp>,
    pub status: ImportStatus,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    pub statistics: ImportStatistics,
    pub failures: Vec<ImportFailure>,
    pub progress: ImportProgress,
}

impl Record for ImportRecord {
    const TABLE: &'static str = "lake_imports";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// `ImportSource.S3` as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSource {
    pub s3_location_uri: String,
    pub s3_bucket_region: String,
    pub s3_bucket_access_role_arn: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    Initializing,
    InProgress,
    Failed,
    Stopped,
    Completed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 5] = [
        ImportStatus::Initializing,
        ImportStatus::InProgress,
        ImportStatus::Failed,
        ImportStatus::Stopped,
        ImportStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Initializing => "INITIALIZING",
            ImportStatus::InProgress => "IN_PROGRESS",
            ImportStatus::Failed => "FAILED",
            ImportStatus::Stopped => "STOPPED",
            ImportStatus::Completed => "COMPLETED",
        }
    }

    pub fn parse(value: &str) -> Option<ImportStatus> {
        ImportStatus::ALL.into_iter().find(|status| status.as_str() == value)
    }

    /// Waiting for or in the hands of the import worker.
    pub fn is_ongoing(self) -> bool {
        matches!(self, ImportStatus::Initializing | ImportStatus::InProgress)
    }
}

/// GetImport's `ImportStatistics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatistics {
    pub prefixes_found: u64,
    pub prefixes_completed: u64,
    pub files_completed: u64,
    pub events_completed: u64,
    pub failed_entries: u64,
}

/// One entry of ListImportFailures: a file that could not be imported, or whose records were
/// partly refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    /// `s3://bucket/key` of the file.
    pub location: String,
    pub status: ImportFailureStatus,
    pub error_type: String,
    pub error_message: String,
    pub last_updated: jiff::Timestamp,
    /// Nothing of the file was imported, so a retry reads it again; a file whose records were only
    /// partly refused is not read again (its good records are already in the store).
    pub retryable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportFailureStatus {
    Failed,
    Retry,
    Succeeded,
}

impl ImportFailureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFailureStatus::Failed => "FAILED",
            ImportFailureStatus::Retry => "RETRY",
            ImportFailureStatus::Succeeded => "SUCCEEDED",
        }
    }
}

/// Where the worker is. Files are taken in key order and written in batches, each batch one segment
/// tagged `import:<id>:<batch>`; the batch is recorded here (with what it found) before its segment
/// is committed, so that after a crash the worker can tell from the store whether it landed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    /// Every file with a key up to this one (in key order) is done.
    pub done_through: Option<String>,
    /// The listing under the prefix has been gone through to its end.
    pub listing_done: bool,
    /// The number the next batch gets.
    pub next_batch: u64,
    pub pending: Option<ImportBatch>,
}

/// A batch written (or being written) as one segment, with everything the import learnt from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBatch {
    pub number: u64,
    /// The keys of the files read, in order.
    pub files: Vec<String>,
    /// Read again after a failure (a retry), rather than the next files of the listing.
    pub retried: bool,
    pub n_events: u64,
    pub failures: Vec<ImportFailure>,
}

impl ImportBatch {
    /// The segment tag of batch `number` of import `id`.
    pub fn origin(id: &str, number: u64) -> String {
        format!("import:{id}:{number}")
    }
}
