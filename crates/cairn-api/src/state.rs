//! The state every request handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use cairn_deliver::Deliverer;
use cairn_deliver::rules::RuleDispatcher;
use cairn_insights::InsightsService;
use cairn_model::clock::Clock;
use cairn_store::events::EventStore;
use cairn_store::objects::ObjectIndex;
use cairn_store::records::{
    BucketRecord, ChannelRecord, DashboardRecord, EventDataStoreRecord, ImportRecord, ResourcePolicyRecord, TrailRecord,
};
use cairn_store::rules::RuleRecord;
use cairn_store::{Registry, StoreError};

use crate::identities::Identities;
use crate::lake::LakeQueries;
use crate::settings::ApiSettings;
use crate::throttle::Throttle;

/// Renders the Prometheus text for `GET /metrics`.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// Shared by all handlers: settings, stored state and the clock.
pub struct AppState {
    pub(crate) settings: ApiSettings,
    pub(crate) identities: Identities,
    /// Shared with trail delivery, which follows every change.
    pub(crate) trails: Arc<Registry<TrailRecord>>,
    pub(crate) buckets: Arc<Registry<BucketRecord>>,
    /// Shared with the Lake, which copies events into each store and purges deleted ones.
    pub(crate) event_data_stores: Arc<Registry<EventDataStoreRecord>>,
    /// CloudTrail Lake dashboards and their refreshes.
    pub(crate) dashboards: Arc<Registry<DashboardRecord>>,
    /// CloudTrail Lake channels (PutAuditEvents reads them and keeps their ingestion status).
    pub(crate) channels: Arc<Registry<ChannelRecord>>,
    /// Resource-based policies on event data stores, dashboards and channels.
    pub(crate) resource_policies: Arc<Registry<ResourcePolicyRecord>>,
    /// Lake imports; the binary's import worker runs them and keeps their progress here.
    pub(crate) imports: Arc<Registry<ImportRecord>>,
    /// Tells the import worker that an import was started.
    pub(crate) import_wakeup: Arc<tokio::sync::Notify>,
    /// Lake queries over the event data stores.
    pub(crate) lake: Arc<dyn LakeQueries>,
    /// Every recorded event: the write-ahead log and Event history.
    pub(crate) events: Arc<EventStore>,
    /// Where the embedded buckets keep their objects: `<data dir>/buckets`.
    pub(crate) bucket_root: PathBuf,
    /// The embedded buckets' objects (under `bucket_root`).
    pub(crate) objects: Arc<ObjectIndex>,
    /// Trail delivery: GetTrailStatus's delivery members and ListPublicKeys.
    pub(crate) delivery: Arc<Deliverer>,
    /// Insights' counters (ListInsightsMetricData).
    pub(crate) insights: Arc<InsightsService>,
    /// EventBridge rules on the default bus, per account and region.
    pub(crate) rules: Arc<Registry<RuleRecord>>,
    /// Sends recorded events to rule targets; told of every rule change.
    pub(crate) rule_dispatcher: Arc<RuleDispatcher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) render_metrics: MetricsRenderer,
    pub(crate) lookup_events_throttle: Throttle,
    /// The audit events PutAuditEvents stored lately, so that retries do not store them twice.
    pub(crate) recent_audit_events: crate::cloudtrail_data::RecentAuditEvents,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// What the server state is built from: settings, and the stores the binary opened (shared with trail
/// delivery, so each is opened once).
pub struct StateParts {
    pub settings: ApiSettings,
    pub events: Arc<EventStore>,
    pub trails: Arc<Registry<TrailRecord>>,
    pub buckets: Arc<Registry<BucketRecord>>,
    pub event_data_stores: Arc<Registry<EventDataStoreRecord>>,
    pub dashboards: Arc<Registry<DashboardRecord>>,
    pub channels: Arc<Registry<ChannelRecord>>,
    pub resource_policies: Arc<Registry<ResourcePolicyRecord>>,
    pub imports: Arc<Registry<ImportRecord>>,
    pub import_wakeup: Arc<tokio::sync::Notify>,
    pub lake: Arc<dyn LakeQueries>,
    pub objects: Arc<ObjectIndex>,
    pub delivery: Arc<Deliverer>,
    pub insights: Arc<InsightsService>,
    pub rules: Arc<Registry<RuleRecord>>,
    pub rule_dispatcher: Arc<RuleDispatcher>,
    pub bucket_root: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub render_metrics: MetricsRenderer,
}

impl AppState {
    /// Assembles the state from its parts.
    pub fn open(parts: StateParts) -> Result<AppState, StoreError> {
        std::fs::create_dir_all(&parts.bucket_root)?;
        let settings = parts.settings;
        let identities =
            Identities::new(&settings.credentials, settings.accept_any_credentials, &settings.default_account_id);
        Ok(AppState {
            identities,
            trails: parts.trails,
            buckets: parts.buckets,
            event_data_stores: parts.event_data_stores,
            dashboards: parts.dashboards,
            channels: parts.channels,
            resource_policies: parts.resource_policies,
            imports: parts.imports,
            import_wakeup: parts.import_wakeup,
            lake: parts.lake,
            events: parts.events.clone(),
            lookup_events_throttle: Throttle::new(settings.lookup_events_rate),
            recent_audit_events: crate::cloudtrail_data::RecentAuditEvents::from_log(&parts.events, parts.clock.now()),
            settings,
            objects: parts.objects,
            delivery: parts.delivery,
            insights: parts.insights,
            rules: parts.rules,
            rule_dispatcher: parts.rule_dispatcher,
            bucket_root: parts.bucket_root,
            clock: parts.clock,
            render_metrics: parts.render_metrics,
        })
    }
}
