//! The delivery service: one worker task per trail, started and stopped by a supervisor that follows
//! the trail registry; status and public keys for the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_model::clock::Clock;
use cairn_store::events::EventStore;
use cairn_store::records::TrailRecord;
use cairn_store::wal::{Lsn, WalHolds};
use cairn_store::{Change, MetaStore, Registry, StoreError};
use jiff::Timestamp;
use tokio::task::JoinHandle;

use crate::destination::Destinations;
use crate::notify::{Notifier, SnsTopic};
use crate::signing::{KeyRing, SigningKeyRecord};
use crate::state::{ChainFileRecord, DeliveryRecord, RegionStatus};
use crate::stream::LogStreaming;
use crate::worker;

/// The hold that keeps the log for trails the supervisor has not seen yet.
const NEW_TRAILS_HOLD: &str = "delivery:new-trails";

/// How often and how much trails deliver.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Log files are cut this often (AWS: about every 5 minutes).
    pub delivery_interval: Duration,
    /// Digest period (AWS: one hour).
    pub digest_interval: Duration,
    /// Signing keys rotate this often (AWS: 30 days).
    pub key_rotation: Duration,
    pub max_batch_bytes: usize,
    pub max_file_bytes: usize,
    /// Backoff after a failed delivery, doubling up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> DeliveryConfig {
        DeliveryConfig {
            delivery_interval: Duration::from_secs(300),
            digest_interval: Duration::from_secs(3600),
            key_rotation: Duration::from_secs(30 * 24 * 3600),
            max_batch_bytes: crate::batch::MAX_BATCH_BYTES,
            max_file_bytes: crate::batch::MAX_FILE_BYTES,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
        }
    }
}

/// The organization whose member accounts organization trails log.
#[derive(Debug, Clone)]
pub struct OrganizationScope {
    pub id: String,
    /// The management account and every member.
    pub accounts: Vec<String>,
}

/// What the workers share.
pub(crate) struct Shared {
    pub(crate) events: Arc<EventStore>,
    pub(crate) trails: Arc<Registry<TrailRecord>>,
    pub(crate) states: Registry<DeliveryRecord>,
    /// Delivered log files waiting for their digest.
    pub(crate) files: Registry<ChainFileRecord>,
    pub(crate) keys: KeyRing,
    pub(crate) destinations: Arc<Destinations>,
    pub(crate) notifier: Notifier,
    pub(crate) topics: Vec<SnsTopic>,
    pub(crate) organization: Option<OrganizationScope>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: DeliveryConfig,
    pub(crate) streaming: LogStreaming,
}

impl Shared {
    pub(crate) fn organization_accounts(&self, trail: &TrailRecord) -> Option<&[String]> {
        trail.organization_id.as_ref().and(self.organization.as_ref()).map(|o| o.accounts.as_slice())
    }

    pub(crate) fn holds(&self) -> &WalHolds {
        self.events.holds()
    }
}

/// Everything the delivery service is built from.
pub struct DeliveryParts {
    pub events: Arc<EventStore>,
    pub trails: Arc<Registry<TrailRecord>>,
    pub meta: Arc<MetaStore>,
    pub destinations: Arc<Destinations>,
    pub topics: Vec<SnsTopic>,
    pub organization: Option<OrganizationScope>,
    pub clock: Arc<dyn Clock>,
    pub config: DeliveryConfig,
}

/// Trail delivery for the whole server.
pub struct Deliverer {
    shared: Arc<Shared>,
    workers: Mutex<HashMap<String, JoinHandle<()>>>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
    // Set by `stop`: a supervisor pass in flight starts no worker after it.
    stopped: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

/// Why the delivery service could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryStartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notifier(#[from] crate::notify::NotifyError),
}

/// The consumer name of a trail's hold on the log.
pub(crate) fn hold_name(trail_arn: &str) -> String {
    format!("delivery:{trail_arn}")
}

impl Deliverer {
    /// Before the event store opens: keeps the log from every trail's cursor (and everything, until the
    /// supervisor's first pass, for trails it has not seen yet).
    pub fn hold_log(meta: &Arc<MetaStore>, holds: &WalHolds) -> Result<(), StoreError> {
        let states: Registry<DeliveryRecord> = Registry::load(meta.clone())?;
        for state in states.all() {
            holds.set(&hold_name(&state.trail_arn), state.cursor);
        }
        holds.set(NEW_TRAILS_HOLD, Lsn(0));
        Ok(())
    }

    pub fn new(parts: DeliveryParts) -> Result<Deliverer, DeliveryStartError> {
        let keys = KeyRing::new(Registry::load(parts.meta.clone())?, parts.config.key_rotation);
        let shared = Shared {
            events: parts.events,
            trails: parts.trails,
            states: Registry::load(parts.meta.clone())?,
            files: Registry::load(parts.meta)?,
            keys,
            destinations: parts.destinations,
            notifier: Notifier::new(parts.clock.clone())?,
            topics: parts.topics,
            organization: parts.organization,
            clock: parts.clock,
            config: parts.config,
            streaming: LogStreaming::default(),
        };
        Ok(Deliverer {
            shared: Arc::new(shared),
            workers: Mutex::new(HashMap::new()),
            supervisor: Mutex::new(None),
            stopped: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Streams trails' records to `streaming`'s sinks (none by default). Called before `start`.
    pub fn with_log_streaming(mut self, streaming: LogStreaming) -> Deliverer {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.streaming = streaming;
        }
        self
    }

    /// The embedded CloudWatch Logs store, when log streaming writes there (the `logs` API's data).
    pub fn log_groups(&self) -> Option<&Arc<cairn_store::logs::LogGroups>> {
        self.shared.streaming.embedded()
    }

    /// Starts the supervisor, which runs until [`Deliverer::stop`].
    pub fn start(self: &Arc<Deliverer>) {
        let deliverer = Arc::clone(self);
        let supervisor = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let supervising = Arc::clone(&deliverer);
                match tokio::task::spawn_blocking(move || supervising.supervise()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::error!(%error, "trail delivery supervisor failed a pass"),
                    Err(error) => tracing::error!(%error, "trail delivery supervisor panicked"),
                }
            }
        });
        *self.supervisor.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(supervisor);
    }

    /// Stops the supervisor and every worker (a batch cut short is redone on the next start).
    pub fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::Release);
        if let Some(supervisor) = self.supervisor.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            supervisor.abort();
        }
        for (_, worker) in self.lock_workers().drain() {
            worker.abort();
        }
    }

    fn lock_workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<()>>> {
        self.workers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One supervisor pass: a state and a worker for every trail, and workers for deleted trails until
    /// they have finished.
    fn supervise(&self) -> Result<(), StoreError> {
        let shared = &self.shared;
        // Read before the registry: a trail started after this point has its start LSN at or after it.
        let floor = shared.events.next_lsn();
        for trail in shared.trails.all() {
            let arn = trail.arn();
            let fresh = match shared.states.get(&arn) {
                None => true,
                // Deleted and created again under the same name: a new trail.
                Some(state) => state.trail.created_at != trail.created_at && state.deleted,
            };
            if fresh {
                let state = self.initial_state(&trail);
                shared.holds().set(&hold_name(&arn), state.cursor);
                shared.states.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(state)])))?;
            }
        }
        shared.holds().set(NEW_TRAILS_HOLD, floor);
        let mut workers = self.lock_workers();
        if self.stopped.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(());
        }
        workers.retain(|_, worker| !worker.is_finished());
        for state in shared.states.all() {
            if let std::collections::hash_map::Entry::Vacant(slot) = workers.entry(state.trail_arn.clone()) {
                let worker = worker::run(Arc::clone(&self.shared), state.trail_arn);
                slot.insert(tokio::runtime::Handle::current().spawn(worker));
            }
        }
        Ok(())
    }

    /// Where a newly seen trail starts reading: where it last started logging (its StartLogging event
    /// turns it on), or the end of the log if it never did.
    fn initial_state(&self, trail: &TrailRecord) -> DeliveryRecord {
        let events = &self.shared.events;
        let (cursor, logging) = match trail.logging.start_lsn {
            Some(start) if start >= events.first_retained_lsn() => (start, false),
            // Started before the log we still hold (a data directory from before delivery existed).
            _ => (events.next_lsn(), trail.logging.is_logging),
        };
        DeliveryRecord {
            trail_arn: trail.arn(),
            trail: trail.clone(),
            cursor,
            logging,
            deleted: false,
            pending: None,
            chains: Default::default(),
            status: Default::default(),
            unannounced: Vec::new(),
        }
    }

    /// How far the trail has read the write-ahead log (everything before it is delivered or was not
    /// selected); `None` for a trail the supervisor has not seen yet.
    pub fn cursor(&self, trail_arn: &str) -> Option<Lsn> {
        self.shared.states.get(trail_arn).filter(|s| s.pending.is_none()).map(|s| s.cursor)
    }

    /// GetTrailStatus's delivery members for `region`.
    pub fn status(&self, trail_arn: &str, region: &str) -> RegionStatus {
        self.shared.states.get(trail_arn).and_then(|s| s.status.get(region).cloned()).unwrap_or_default()
    }

    /// ListPublicKeys: every key of `region` valid at some moment of `start..=end`. When the window
    /// includes `now` (the request's time), the current key is created if the region has none yet.
    pub fn public_keys(
        &self,
        region: &str,
        start: Timestamp,
        end: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<SigningKeyRecord>, crate::signing::SigningError> {
        if start <= now && now <= end {
            self.shared.keys.signing_key(region, now)?;
        }
        Ok(self.shared.keys.public_keys(region, start, end))
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.shared.config
    }
}

#[cfg(test)]
mod tests;
