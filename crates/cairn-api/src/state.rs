//! The state every request handler shares.

use std::path::PathBuf;
use std::sync::Arc;

use cairn_model::clock::Clock;
use cairn_store::events::EventStore;
use cairn_store::records::{BucketRecord, TrailRecord};
use cairn_store::{MetaStore, Registry, StoreError};

use crate::identities::Identities;
use crate::settings::ApiSettings;
use crate::throttle::Throttle;

/// Renders the Prometheus text for `GET /metrics`.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// Shared by all handlers: settings, stored state and the clock.
pub struct AppState {
    pub(crate) settings: ApiSettings,
    pub(crate) identities: Identities,
    pub(crate) trails: Registry<TrailRecord>,
    pub(crate) buckets: Registry<BucketRecord>,
    /// Every recorded event: the write-ahead log and Event history.
    pub(crate) events: Arc<EventStore>,
    /// Where the embedded buckets keep their objects: `<data dir>/buckets`.
    pub(crate) bucket_root: PathBuf,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) render_metrics: MetricsRenderer,
    pub(crate) lookup_events_throttle: Throttle,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AppState {
    /// Loads stored state from `meta`; `bucket_root` is created if missing.
    pub fn open(
        settings: ApiSettings,
        meta: Arc<MetaStore>,
        events: Arc<EventStore>,
        bucket_root: PathBuf,
        clock: Arc<dyn Clock>,
        render_metrics: MetricsRenderer,
    ) -> Result<AppState, StoreError> {
        std::fs::create_dir_all(&bucket_root)?;
        let identities =
            Identities::new(&settings.credentials, settings.accept_any_credentials, &settings.default_account_id);
        Ok(AppState {
            identities,
            trails: Registry::load(meta.clone())?,
            buckets: Registry::load(meta)?,
            events,
            lookup_events_throttle: Throttle::new(settings.lookup_events_rate),
            settings,
            bucket_root,
            clock,
            render_metrics,
        })
    }
}
