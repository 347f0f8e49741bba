//! The live Insights service, the one part of this crate that does IO: it counts every management
//! event of the write-ahead log in LSN order from its cursor, judges each minute once it is complete
//! (a minute is judged [`ServiceConfig::lateness`] after it ends), and appends the insight events of
//! the series someone wants (insight selectors) to the log, from where Event history, event data
//! stores and trails take them like any event.
//!
//! Counting has a fast path: the event store tells the service of each appended batch with its
//! records already parsed ([`EventStore::observe_appends`]); the records wait in an inbox, bounded
//! in size, and are counted once every batch before them has been. Whatever the inbox lacks
//! (the log before the service started, a batch dropped when the inbox was full, one straddling the
//! cursor) is read back from the log, which stays the truth.
//!
//! Counters, detector and cursor are saved together in one file (`insights/state.json.gz`, written
//! to a temporary file, synced and renamed), and the log is held from the saved cursor, so a restart
//! replays exactly the events the saved counters lack. Minutes judged after the last save are judged
//! again; the records are the same (their IDs are derived), and an insight event already in Event
//! history is not appended twice.

use std::io::{Read as _, Write as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_model::clock::Clock;
use cairn_model::event::{EventFields, EventRecord, LookupAttributeKey};
use cairn_store::StoreError;
use std::collections::BTreeMap;

use cairn_store::events::{EventStore, LookupQuery};
use cairn_store::wal::{Lsn, WalHolds};
use serde::{Deserialize, Serialize};

use crate::counters::{Counters, DAY};
use crate::detector::{Config, Detector, Finding};
use crate::key::{Observation, SeriesKey, Tally};
use crate::record::insight_record;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub detector: Config,
    /// How often the log is read and complete minutes judged.
    pub interval: Duration,
    /// How long after a minute ends it is judged: events of that minute may still be arriving.
    pub lateness: Duration,
    /// How often the state is saved.
    pub save_every: Duration,
    /// The most log records one pass reads.
    pub max_records_per_pass: usize,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        ServiceConfig {
            detector: Config::default(),
            interval: Duration::from_secs(5),
            lateness: Duration::from_secs(30),
            save_every: Duration::from_secs(60),
            max_records_per_pass: 200_000,
        }
    }
}

/// Whether insight events of a series are wanted: some trail's insight selectors cover its
/// account, region and insight type.
pub type Wanted = Arc<dyn Fn(&SeriesKey) -> bool + Send + Sync>;

/// A trail that asked for Insights on data events, and whether it logs a data event: its data
/// events are counted in series of its own.
pub struct DataTrail {
    pub arn: String,
    pub takes: Box<dyn Fn(&EventFields) -> bool + Send + Sync>,
}

/// The trails whose data events Insights counts, as they are now (asked once a pass).
pub type DataTrails = Arc<dyn Fn() -> Vec<DataTrail> + Send + Sync>;

/// Tallies what `fields` counts toward: its API's management series, or for a data event the
/// series of each trail in `trails` that logs it.
fn tally_event<'a>(tally: &mut Tally<'a>, fields: &'a EventFields, trails: &'a [DataTrail]) {
    if fields.event_category == "Data" {
        for trail in trails.iter().filter(|trail| (trail.takes)(fields)) {
            tally.add_data(fields, &trail.arn);
        }
    } else {
        tally.add(fields);
    }
}

/// The name of the service's hold on the log.
const HOLD: &str = "insights";
/// The state file's format.
const STATE_VERSION: u32 = 2;
/// Days of per-minute counts kept: ListInsightsMetricData serves 60-second points for 15 days.
const MINUTE_DAYS: i64 = 15;
/// The most records the inbox holds; batches past it are dropped and read back from the log.
const INBOX_LIMIT: usize = 500_000;

/// Appended batches told by the event store and not yet counted: first LSN → (end LSN, records).
/// The records are the ones the store parsed (shared, not copied); they are counted off the append path.
#[derive(Debug, Default)]
struct Inbox {
    batches: BTreeMap<u64, (u64, Vec<Arc<EventRecord>>)>,
    n_records: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct State {
    version: u32,
    /// The first log record the counters have not counted.
    cursor: u64,
    counters: Counters,
    detector: Detector,
}

/// The live Insights service.
pub struct InsightsService {
    events: Arc<EventStore>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    wanted: Wanted,
    data_trails: DataTrails,
    path: PathBuf,
    state: tokio::sync::Mutex<State>,
    inbox: Arc<Mutex<Inbox>>,
    last_save: Mutex<Instant>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for InsightsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InsightsService").field("path", &self.path).finish_non_exhaustive()
    }
}

fn io(error: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(error.to_string()))
}

impl InsightsService {
    /// Keeps the whole log until [`InsightsService::open`] has read the saved cursor. Call before
    /// opening the event store, whose open trims the log.
    pub fn hold_log(holds: &WalHolds) {
        holds.set(HOLD, Lsn(0));
    }

    /// Loads the saved state from `data_dir/insights` (or starts counting from the oldest record
    /// the log still holds) and holds the log from its cursor.
    pub fn open(
        data_dir: &Path,
        events: Arc<EventStore>,
        clock: Arc<dyn Clock>,
        config: ServiceConfig,
        wanted: Wanted,
        data_trails: DataTrails,
    ) -> Result<InsightsService, StoreError> {
        let path = data_dir.join("insights").join("state.json.gz");
        let keep_days = MINUTE_DAYS.max(config.detector.learning_minutes / DAY + 2);
        let state = match load(&path)? {
            Some(mut state) => {
                state.detector.reconfigure(config.detector.clone());
                state
            }
            None => State {
                version: STATE_VERSION,
                cursor: events.first_retained_lsn().0,
                counters: Counters::new(keep_days, DAY),
                detector: Detector::new(config.detector.clone(), clock.now().as_second().div_euclid(60)),
            },
        };
        events.holds().set(HOLD, Lsn(state.cursor));
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let told = Arc::downgrade(&inbox);
        events.observe_appends(Arc::new(move |lsns, records| {
            let Some(inbox) = told.upgrade() else { return };
            let mut inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
            if inbox.n_records + records.len() <= INBOX_LIMIT {
                inbox.n_records += records.len();
                inbox.batches.insert(lsns.start.0, (lsns.end.0, records.to_vec()));
            }
        }));
        Ok(InsightsService {
            events,
            clock,
            config,
            wanted,
            data_trails,
            path,
            state: tokio::sync::Mutex::new(state),
            inbox,
            last_save: Mutex::new(Instant::now()),
            task: Mutex::new(None),
        })
    }

    /// Starts the background passes.
    pub fn start(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let interval = self.config.interval;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(service) = weak.upgrade() else { return };
                if let Err(error) = service.pass().await {
                    tracing::warn!(%error, "an Insights pass failed; the next one retries");
                }
            }
        });
        *self.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    /// Stops the passes and saves the state.
    pub async fn stop(&self) -> Result<(), StoreError> {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        let state = self.state.lock().await;
        self.save(&state).await
    }

    /// One pass: counts the log from the cursor, judges the minutes that are complete, appends the
    /// wanted insight events, and saves the state when it is due. Returns the insight events appended.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let mut state = self.state.lock().await;
        let mut read_back = 0;
        let trails: Arc<Vec<DataTrail>> = Arc::new((self.data_trails)());
        loop {
            let ready = self.take_ready(&mut state.cursor);
            let mut tally = Tally::default();
            for record in &ready {
                tally_event(&mut tally, record.fields(), &trails);
            }
            for (observation, n) in tally.observations() {
                state.counters.add_ref(observation, n);
            }
            // What the inbox lacks up to its next batch (or the log's end) is read from the log.
            let end = self.events.next_lsn();
            let gap_end = self.first_waiting().map_or(end, |start| Lsn(start).min(end));
            let from = Lsn(state.cursor).max(self.events.first_retained_lsn());
            if from >= gap_end || read_back >= self.config.max_records_per_pass {
                if ready.is_empty() {
                    break;
                }
                continue;
            }
            let events = self.events.clone();
            let limit = self.config.max_records_per_pass - read_back;
            let read_trails = trails.clone();
            let (found, next) = tokio::task::spawn_blocking(move || read(&events, &read_trails, from, gap_end, limit))
                .await
                .map_err(io)??;
            if next <= from {
                break;
            }
            read_back += usize::try_from(next.0 - from.0).unwrap_or(usize::MAX);
            for (observation, n) in &found {
                state.counters.add(observation, *n);
            }
            state.cursor = next.0;
        }
        let judged_until = self.clock.now().as_second() - self.config.lateness.as_secs() as i64;
        let through = judged_until.div_euclid(60) - 1;
        let State { counters, detector, .. } = &mut *state;
        let findings: Vec<Finding> =
            detector.advance(counters, through).into_iter().filter(|finding| (self.wanted)(&finding.key)).collect();
        let appended = self.append(findings).await?;
        let due = self.last_save.lock().unwrap_or_else(|p| p.into_inner()).elapsed() >= self.config.save_every;
        if due {
            self.save(&state).await?;
        }
        Ok(appended)
    }

    /// Takes the inbox's batches that continue `cursor` (advancing it), dropping those it has passed;
    /// their records.
    fn take_ready(&self, cursor: &mut u64) -> Vec<Arc<EventRecord>> {
        let mut ready = Vec::new();
        {
            let mut inbox = self.inbox.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(entry) = inbox.batches.first_entry() {
                let start = *entry.key();
                if start > *cursor {
                    break;
                }
                let (end, records) = entry.remove();
                inbox.n_records -= records.len();
                // A batch the log was read past (wholly or in part) was counted from the log.
                if start == *cursor {
                    *cursor = end;
                    ready.extend(records);
                }
            }
        }
        ready
    }

    /// The first LSN of the earliest batch waiting in the inbox.
    fn first_waiting(&self) -> Option<u64> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).batches.first_key_value().map(|(start, _)| *start)
    }

    /// Appends the insight events of `findings` that Event history does not hold yet.
    async fn append(&self, findings: Vec<Finding>) -> Result<usize, StoreError> {
        let mut records = Vec::new();
        for finding in findings {
            let text = insight_record(&finding);
            let record = EventRecord::parse(text.as_bytes()).map_err(io)?;
            let query = LookupQuery {
                account_id: finding.key.account_id.clone(),
                region: finding.key.region.clone(),
                attribute: Some((LookupAttributeKey::EventId, record.fields().event_id.clone())),
                start: None,
                end: None,
                insights: true,
                max_results: 1,
                after: None,
            };
            if self.events.lookup(&query).await?.events.is_empty() {
                records.push(record);
            }
        }
        let n = records.len();
        if n > 0 {
            self.events.append_durable(records).await?;
            tracing::info!(n_events = n, "Insights events recorded");
        }
        Ok(n)
    }

    /// The first log record not yet counted.
    pub async fn cursor(&self) -> Lsn {
        Lsn(self.state.lock().await.cursor)
    }

    /// The non-zero counts of `key` per `period` minutes (1, 5 or 60) starting in `from..to`.
    pub async fn points(&self, key: &SeriesKey, period: i64, from: i64, to: i64) -> Vec<(i64, u64)> {
        self.state.lock().await.counters.points(key, period, from, to)
    }

    async fn save(&self, state: &State) -> Result<(), StoreError> {
        let bytes = encode(state)?;
        let (path, cursor) = (self.path.clone(), state.cursor);
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes)).await.map_err(io)??;
        self.events.holds().set(HOLD, Lsn(cursor));
        *self.last_save.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        Ok(())
    }
}

/// The observations of log records `[from, end)`, each with its number of events, at most `limit`
/// records, and where the read stopped.
fn read(
    events: &EventStore,
    trails: &[DataTrail],
    from: Lsn,
    end: Lsn,
    limit: usize,
) -> Result<(Vec<(Observation, u32)>, Lsn), StoreError> {
    /// Records parsed before they are tallied (a bound on the memory a read back holds).
    const CHUNK: usize = 4_096;
    let tally = |records: &mut Vec<EventRecord>, found: &mut Vec<(Observation, u32)>| {
        {
            let mut tally = Tally::default();
            for record in records.iter() {
                tally_event(&mut tally, record.fields(), trails);
            }
            found.extend(tally.observations().map(|(observation, n)| (observation.to_observation(), n)));
        }
        records.clear();
    };
    let (mut found, mut records) = (Vec::new(), Vec::new());
    let mut n = 0;
    let (next, _) = events.read_log(from, end, None, |_, payload| {
        if let Ok(record) = EventRecord::parse(payload) {
            records.push(record);
            if records.len() == CHUNK {
                tally(&mut records, &mut found);
            }
        }
        n += 1;
        if n >= limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    tally(&mut records, &mut found);
    Ok((found, next))
}

fn encode(state: &State) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(state).map_err(io)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&json)?;
    Ok(gzip.finish()?)
}

fn load(path: &Path) -> Result<Option<State>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let corrupt = |reason: String| StoreError::Corrupt { table: "insights", key: path.display().to_string(), reason };
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut json).map_err(|e| corrupt(e.to_string()))?;
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let Version { version } = serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))?;
    if version != STATE_VERSION {
        // Counters of another layout are not read: counting starts again from the oldest event the
        // log holds.
        tracing::warn!(path = %path.display(), version, "Insights state of another format; counting again from the log");
        return Ok(None);
    }
    let state: State = serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))?;
    Ok(Some(state))
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a mix.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or_else(|| io("the state file has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests;
