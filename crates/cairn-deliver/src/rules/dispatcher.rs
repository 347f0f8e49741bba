//! The rule dispatcher: a consumer of the write-ahead log like a trail. It reads the log in LSN
//! order from its durable cursor, wraps each record in its EventBridge envelope, finds the enabled
//! rules of the event's account and region whose patterns match, and hands each of their targets
//! its input, retrying with doubling backoff; what still fails goes to the dead-letter folder. The
//! cursor is saved (and the log held from it) only once every delivery of a read is done, so a
//! crash sends some events again and loses none: delivery is at least once, and an event sent
//! again keeps its envelope `id`. An alarm rule (`alarm.rs`) sends no event itself: its matches are
//! counted, and its targets get the alarm's state changes; alarm states live in memory, so a
//! restart starts every alarm at OK.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_model::clock::Clock;
use cairn_select::{EventPattern, RuleMatcher};
use cairn_store::events::EventStore;
use cairn_store::rules::{RuleRecord, RuleState, RuleTarget};
use cairn_store::wal::{Lsn, WalHolds};
use cairn_store::{Registry, StoreError};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::alarm::{Alarm, AlarmOf, AlarmSpec, state_change_event};
use super::envelope::{Envelope, Skipped, envelope};
use super::input::{RuleNames, target_input};
use super::sinks::{SendError, Sinks, append_line};

/// How the dispatcher runs and retries.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// The longest wait between passes when no append wakes the dispatcher.
    pub interval: Duration,
    /// The most log records one read takes (and so the most deliveries waiting on one cursor save).
    pub max_records_per_read: usize,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Retries when a target sets no `RetryPolicy.MaximumRetryAttempts`. AWS's default is 185 over
    /// 24 hours; a self-hosted receiver that is down that long is better served by the dead-letter
    /// folder, and the cursor does not wait a day on one event.
    pub default_retry_attempts: u32,
    /// How long an event is retried when a target sets no `MaximumEventAgeInSeconds`.
    pub default_max_event_age: Duration,
    /// The first retry's wait; each further one doubles, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Commands targets may name (`arn:cairn:command:::NAME`); none unless the configuration declares them.
    pub commands: Vec<super::command::RuleCommand>,
    /// SNS topics targets may name, with their endpoints (the configuration's `[[sns_topics]]`).
    pub sns_topics: Vec<crate::notify::SnsTopic>,
}

impl Default for DispatchConfig {
    fn default() -> DispatchConfig {
        DispatchConfig {
            interval: Duration::from_secs(1),
            max_records_per_read: 1_000,
            concurrency: 16,
            default_retry_attempts: 8,
            default_max_event_age: Duration::from_secs(300),
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
            commands: Vec::new(),
            sns_topics: Vec::new(),
        }
    }
}

/// Deliveries to one target so far (since the server started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetStats {
    pub delivered: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// How often the cursor is saved when it moves past events no rule took (a delivered read saves it
/// at once): often enough that a restart reads little again, rarely enough that a busy log without
/// rules costs no fsync per append.
const IDLE_SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// Where dispatching stands.
#[derive(Debug)]
struct Cursor {
    /// The first log record not yet dispatched.
    next: u64,
    /// The cursor on disk (the log is held from it).
    saved: u64,
    saved_at: Instant,
}

/// The name of the dispatcher's hold on the log.
const HOLD: &str = "rules";
const CURSOR_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct SavedCursor {
    version: u32,
    /// The first log record not yet dispatched.
    cursor: u64,
}

/// The enabled rules, compiled: one matcher per account and region.
#[derive(Debug, Default)]
struct Compiled {
    matchers: HashMap<(String, String), RuleMatcher<String>>,
    rules: HashMap<String, Arc<RuleRecord>>,
    /// Rule key → its alarm, for the rules that are alarms.
    alarms: HashMap<String, AlarmSpec>,
}

/// One event for one target.
#[derive(Debug)]
struct Delivery {
    rule: Arc<RuleRecord>,
    target: RuleTarget,
    event: Arc<Value>,
}

/// Sends recorded events to the targets of matching rules.
pub struct RuleDispatcher {
    events: Arc<EventStore>,
    rules: Arc<Registry<RuleRecord>>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    dir: PathBuf,
    sinks: Sinks,
    cursor: tokio::sync::Mutex<Cursor>,
    generation: AtomicU64,
    compiled: Mutex<(u64, Arc<Compiled>)>,
    wakeup: Arc<tokio::sync::Notify>,
    stats: Mutex<HashMap<(String, String), TargetStats>>,
    /// Rule key → the live state of its alarm.
    alarms: Mutex<HashMap<String, Alarm>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for RuleDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleDispatcher").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn io(error: impl std::fmt::Display) -> StoreError {
    StoreError::Io(std::io::Error::other(error.to_string()))
}

impl RuleDispatcher {
    /// Keeps the whole log until [`RuleDispatcher::open`] has read the saved cursor. Call before
    /// opening the event store, whose open trims the log.
    pub fn hold_log(holds: &WalHolds) {
        holds.set(HOLD, Lsn(0));
    }

    /// Loads the cursor from `data_dir/rules` (a first start dispatches from the log's end: events
    /// recorded before rules existed are not sent) and holds the log from it.
    pub fn open(
        data_dir: &Path,
        events: Arc<EventStore>,
        rules: Arc<Registry<RuleRecord>>,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> Result<RuleDispatcher, StoreError> {
        let dir = data_dir.join("rules");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("cursor.json");
        let cursor = match load_cursor(&path)? {
            Some(cursor) => cursor.max(events.first_retained_lsn().0),
            None => {
                // Saved at once: a crash before the first save must not make the next start skip,
                // as another first start would, the events recorded meanwhile.
                let cursor = events.next_lsn().0;
                let bytes = serde_json::to_vec(&SavedCursor { version: CURSOR_VERSION, cursor }).map_err(io)?;
                write_atomically(&path, &bytes)?;
                cursor
            }
        };
        events.holds().set(HOLD, Lsn(cursor));
        let wakeup = Arc::new(tokio::sync::Notify::new());
        let told = Arc::downgrade(&wakeup);
        events.observe_appends(Arc::new(move |_, _| {
            if let Some(wakeup) = told.upgrade() {
                wakeup.notify_one();
            }
        }));
        let sinks = Sinks::new(&dir, config.commands.clone(), config.sns_topics.clone(), clock.clone()).map_err(io)?;
        Ok(RuleDispatcher {
            events,
            rules,
            clock,
            config,
            dir,
            sinks,
            cursor: tokio::sync::Mutex::new(Cursor { next: cursor, saved: cursor, saved_at: Instant::now() }),
            generation: AtomicU64::new(1),
            compiled: Mutex::new((0, Arc::new(Compiled::default()))),
            wakeup,
            stats: Mutex::new(HashMap::new()),
            alarms: Mutex::new(HashMap::new()),
            task: Mutex::new(None),
        })
    }

    /// Tells the dispatcher that rules or targets changed; the next pass compiles them again.
    pub fn rules_changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Starts the background passes: one after every append, and at least every `interval`.
    pub fn start(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let (interval, wakeup) = (self.config.interval, self.wakeup.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = wakeup.notified() => {}
                }
                let Some(dispatcher) = weak.upgrade() else { return };
                if let Err(error) = dispatcher.pass().await {
                    tracing::warn!(%error, "a rule dispatch pass failed; the next one retries");
                }
            }
        });
        *self.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }

    /// Stops the passes and saves the cursor. Deliveries cut short are made again after a restart.
    pub async fn stop(&self) -> Result<(), StoreError> {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            // The task ends aborted (or already ended); either way it no longer runs.
            let _ = task.await;
        }
        let mut cursor = self.cursor.lock().await;
        self.save_cursor(&mut cursor).await
    }

    /// One pass: dispatches the log from the cursor to its end. Returns the deliveries attempted.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let mut cursor = self.cursor.lock().await;
        let mut n_deliveries = self.clear_quiet_alarms().await;
        loop {
            let from = Lsn(cursor.next).max(self.events.first_retained_lsn());
            let end = self.events.next_lsn();
            if from >= end {
                break;
            }
            let compiled = self.compiled();
            let mut delivered = false;
            let next = if compiled.rules.is_empty() {
                // No enabled rule has a target: nothing to read.
                end
            } else {
                let events = self.events.clone();
                let limit = self.config.max_records_per_read;
                let (records, next) =
                    tokio::task::spawn_blocking(move || read(&events, from, end, limit)).await.map_err(io)??;
                let deliveries = {
                    let mut alarms = self.alarms.lock().unwrap_or_else(|p| p.into_inner());
                    deliveries_for(&compiled, &records, &mut alarms, self.clock.now().as_millisecond())
                };
                n_deliveries += deliveries.len();
                delivered = !deliveries.is_empty();
                futures::stream::iter(deliveries)
                    .for_each_concurrent(self.config.concurrency.max(1), |delivery| self.deliver(delivery))
                    .await;
                next
            };
            if next <= Lsn(cursor.next) {
                break;
            }
            cursor.next = next.0;
            if delivered || cursor.saved_at.elapsed() >= IDLE_SAVE_INTERVAL {
                self.save_cursor(&mut cursor).await?;
            }
        }
        if cursor.next != cursor.saved && cursor.saved_at.elapsed() >= IDLE_SAVE_INTERVAL {
            self.save_cursor(&mut cursor).await?;
        }
        Ok(n_deliveries)
    }

    /// Sends the OK state change of each alarm whose window has too few matches left. Returns the
    /// deliveries attempted.
    async fn clear_quiet_alarms(&self) -> usize {
        let compiled = self.compiled();
        let now_ms = self.clock.now().as_millisecond();
        let deliveries: Vec<Delivery> = {
            let mut alarms = self.alarms.lock().unwrap_or_else(|p| p.into_inner());
            // Alarms of rules that are gone, disabled or no longer alarms are forgotten.
            alarms.retain(|key, alarm| compiled.alarms.get(key) == Some(&alarm.spec()));
            alarms
                .iter_mut()
                .filter_map(|(key, alarm)| Some((compiled.rules.get(key)?, alarm.tick(now_ms)?)))
                .flat_map(|(rule, transition)| alarm_deliveries(rule, alarm_spec(&compiled, rule), transition))
                .collect()
        };
        let n = deliveries.len();
        futures::stream::iter(deliveries)
            .for_each_concurrent(self.config.concurrency.max(1), |delivery| self.deliver(delivery))
            .await;
        n
    }

    /// Deliveries to a target since the server started.
    pub fn target_stats(&self, rule_key: &str, target_id: &str) -> TargetStats {
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.get(&(rule_key.to_owned(), target_id.to_owned())).cloned().unwrap_or_default()
    }

    /// The first log record not yet dispatched.
    pub async fn cursor(&self) -> Lsn {
        Lsn(self.cursor.lock().await.next)
    }

    /// The compiled rules, compiled again if they changed since.
    fn compiled(&self) -> Arc<Compiled> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if compiled.0 != generation {
            *compiled = (generation, Arc::new(compile(&self.rules.all())));
        }
        compiled.1.clone()
    }

    async fn deliver(&self, delivery: Delivery) {
        let rule_arn = delivery.rule.arn();
        let names = RuleNames { name: &delivery.rule.name, arn: &rule_arn };
        let body = target_input(&delivery.target, &delivery.event, names);
        let policy = delivery.target.retry_policy.as_ref();
        let max_retries = policy.and_then(|p| p.maximum_retry_attempts).unwrap_or(self.config.default_retry_attempts);
        let max_age = policy
            .and_then(|p| p.maximum_event_age_in_seconds)
            .map_or(self.config.default_max_event_age, |seconds| Duration::from_secs(u64::from(seconds)));
        let started = Instant::now();
        let mut attempts = 0u32;
        let error = loop {
            attempts += 1;
            match self.sinks.send(&delivery.target, &body).await {
                Ok(()) => {
                    self.count(&delivery, None);
                    return;
                }
                Err(SendError::Permanent(message)) => break message,
                Err(SendError::Transient(message)) => {
                    let backoff = self
                        .config
                        .backoff_base
                        .saturating_mul(1 << (attempts - 1).min(16))
                        .min(self.config.backoff_max);
                    if attempts > max_retries || started.elapsed() + backoff > max_age {
                        break message;
                    }
                    tokio::time::sleep(backoff).await;
                }
            }
        };
        tracing::warn!(rule = %rule_arn, target = %delivery.target.id, attempts, %error, "rule target failed; the event goes to the dead-letter folder");
        let line = json!({
            "time": self.clock.now().to_string(),
            "ruleArn": rule_arn,
            "targetId": delivery.target.id,
            "targetArn": delivery.target.arn,
            "attempts": attempts,
            "error": error,
            "event": *delivery.event,
        })
        .to_string();
        let rule = &delivery.rule;
        let path =
            self.dir.join("dead-letter").join(format!("{}_{}_{}.ndjson", rule.account_id, rule.region, rule.name));
        match tokio::task::spawn_blocking(move || append_line(&path, &line)).await {
            Ok(Ok(())) => {}
            Ok(Err(write_error)) => tracing::error!(%write_error, "could not write to the dead-letter folder"),
            Err(join_error) => tracing::error!(%join_error, "could not write to the dead-letter folder"),
        }
        self.count(&delivery, Some(error));
    }

    fn count(&self, delivery: &Delivery, error: Option<String>) {
        let rule_key = cairn_store::Record::key(&*delivery.rule);
        let outcome = if error.is_some() { "failed" } else { "delivered" };
        metrics::counter!("cairn_rule_deliveries_total", "rule" => rule_key.clone(), "target" => delivery.target.id.clone(), "outcome" => outcome)
            .increment(1);
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        let entry = stats.entry((rule_key, delivery.target.id.clone())).or_default();
        match error {
            None => entry.delivered += 1,
            Some(error) => {
                entry.failed += 1;
                entry.last_error = Some(error);
            }
        }
    }

    async fn save_cursor(&self, cursor: &mut Cursor) -> Result<(), StoreError> {
        let next = cursor.next;
        let bytes = serde_json::to_vec(&SavedCursor { version: CURSOR_VERSION, cursor: next }).map_err(io)?;
        let path = self.dir.join("cursor.json");
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes)).await.map_err(io)??;
        self.events.holds().set(HOLD, Lsn(next));
        cursor.saved = next;
        cursor.saved_at = Instant::now();
        Ok(())
    }
}

/// Compiles the enabled rules that have targets; a stored pattern that no longer parses (it was
/// checked at PutRule) is left out and logged.
fn compile(rules: &[RuleRecord]) -> Compiled {
    let mut compiled = Compiled::default();
    for rule in rules.iter().filter(|rule| rule.is_enabled() && !rule.targets.is_empty()) {
        let key = cairn_store::Record::key(rule);
        match EventPattern::parse(&rule.event_pattern) {
            Ok(pattern) => {
                let matcher = compiled.matchers.entry((rule.account_id.clone(), rule.region.clone())).or_default();
                matcher.insert(key.clone(), &pattern);
                // Tags were checked at PutRule; a tag that no longer reads leaves a plain rule.
                if let Ok(Some(spec)) = AlarmSpec::from_tags(rule.tag_pairs()) {
                    compiled.alarms.insert(key.clone(), spec);
                }
                compiled.rules.insert(key, Arc::new(rule.clone()));
            }
            Err(error) => {
                tracing::warn!(rule = %rule.arn(), error = error.message(), "stored rule pattern is not valid")
            }
        }
    }
    compiled
}

/// The alarm of `rule` (a rule of `compiled.alarms`).
fn alarm_spec(compiled: &Compiled, rule: &RuleRecord) -> AlarmSpec {
    let key = cairn_store::Record::key(rule);
    compiled.alarms.get(&key).copied().unwrap_or(AlarmSpec { threshold: 1, window_seconds: 300 })
}

/// The deliveries of an alarm's state change to each target of its rule.
fn alarm_deliveries(rule: &Arc<RuleRecord>, spec: AlarmSpec, transition: super::alarm::Transition) -> Vec<Delivery> {
    let alarm = AlarmOf {
        account_id: &rule.account_id,
        region: &rule.region,
        name: &rule.name,
        description: rule.description.as_deref(),
    };
    let event = Arc::new(state_change_event(alarm, spec, transition, &uuid::Uuid::new_v4().to_string()));
    tracing::info!(rule = %rule.arn(), state = transition.to.as_str(), matches = transition.count, "alarm state changed");
    rule.targets
        .iter()
        .map(|target| Delivery { rule: rule.clone(), target: target.clone(), event: event.clone() })
        .collect()
}

/// The deliveries `records` (log texts) give rise to at `now_ms`: the event to each target of each
/// matching rule, and for alarm rules the state changes their matches cause.
fn deliveries_for(
    compiled: &Compiled,
    records: &[Vec<u8>],
    alarms: &mut HashMap<String, Alarm>,
    now_ms: i64,
) -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for record in records {
        let envelope = match envelope(record) {
            Ok(envelope) => envelope,
            Err(skipped) => {
                if skipped == Skipped::TooLarge {
                    metrics::counter!("cairn_rule_events_skipped_total", "reason" => "too_large").increment(1);
                }
                continue;
            }
        };
        let Envelope { value, read_only_management } = &envelope;
        let Some(matcher) = compiled.matchers.get(&(envelope.account().to_owned(), envelope.region().to_owned()))
        else {
            continue;
        };
        let event = Arc::new(value.clone());
        for rule_key in matcher.matching(value) {
            let Some(rule) = compiled.rules.get(&rule_key) else { continue };
            if *read_only_management && rule.state != RuleState::EnabledWithAllCloudTrailManagementEvents {
                continue;
            }
            if let Some(spec) = compiled.alarms.get(&rule_key) {
                let alarm = alarms.entry(rule_key.clone()).or_insert_with(|| Alarm::new(*spec));
                if alarm.spec() != *spec {
                    *alarm = Alarm::new(*spec);
                }
                if let Some(transition) = alarm.record(now_ms) {
                    deliveries.extend(alarm_deliveries(rule, *spec, transition));
                }
                continue;
            }
            for target in &rule.targets {
                deliveries.push(Delivery { rule: rule.clone(), target: target.clone(), event: event.clone() });
            }
        }
    }
    deliveries
}

/// The texts of log records `[from, end)`, at most `limit`, and where the read stopped.
fn read(events: &EventStore, from: Lsn, end: Lsn, limit: usize) -> Result<(Vec<Vec<u8>>, Lsn), StoreError> {
    let mut records = Vec::new();
    let (next, _) = events.read_log(from, end, None, |_, payload| {
        records.push(payload.to_vec());
        if records.len() >= limit { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })?;
    Ok((records, next))
}

fn load_cursor(path: &Path) -> Result<Option<u64>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let corrupt = |reason: String| StoreError::Corrupt { table: "rules", key: path.display().to_string(), reason };
    let saved: SavedCursor = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if saved.version != CURSOR_VERSION {
        return Err(corrupt(format!("unknown cursor version {}", saved.version)));
    }
    Ok(Some(saved.cursor))
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a mix.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write as _;
    let dir = path.parent().ok_or_else(|| io("the cursor file has no directory"))?;
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
