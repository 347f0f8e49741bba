//! The Lake service: copies recorded events into event data stores, keeps them for their retention,
//! purges deleted stores after 7 days, and runs queries.
//!
//! A feeder task reads the write-ahead log from the lowest store cursor, gives each store the events
//! its configuration takes (`cairn_select::event_data_store_takes`, within its ingestion ranges), and
//! flushes a store's tail to a Parquet segment when it is large or old enough. Each store holds the log
//! from its persisted point (`WalHolds`), so a crash replays the tail from the log and loses nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use cairn_model::clock::Clock;
use cairn_model::event::EventRecord;
use cairn_model::event::audit::EVENT_CATEGORY as ACTIVITY_CATEGORY;
use cairn_model::{ApiError, ErrorCode};
use cairn_select::{EventDataStoreScope, event_data_store_takes};
use cairn_store::events::EventStore;
use cairn_store::records::{
    EventDataStoreRecord, EventDataStoreStatus, QueryRecord, QueryRequest, QueryStatistics, QueryStatus,
};
use cairn_store::wal::{Lsn, WalHolds};
use cairn_store::{Change, MetaStore, Registry, StoreError};
use futures::future::BoxFuture;

use crate::convert::records_to_batch;
use crate::engine::{self, StoreTable};
use crate::render;
use crate::results::{self, QueryResult, csv_gzip, result_key};
use crate::schema::StoreKind;
use crate::sql::{self, Named};
use crate::store::StoreData;

/// Segments with fewer events than this are merged by the sweeper...
const COMPACT_BELOW_ROWS: u64 = 50_000;
/// ... once there are this many of them.
const COMPACT_AT_COUNT: usize = 8;

/// How many days a deleted store can be restored.
pub const RESTORE_DAYS: i64 = 7;
/// How long queries (and their results) are kept.
pub const QUERY_KEEP_DAYS: i64 = 7;

/// Writes query results to a bucket (`DeliveryS3Uri`): the embedded buckets or an external endpoint.
pub trait ResultSink: Send + Sync {
    fn put(&self, bucket: String, key: String, body: Vec<u8>) -> BoxFuture<'static, Result<(), String>>;
}

/// Tunables; the defaults are the production ones.
#[derive(Debug, Clone)]
pub struct LakeConfig {
    /// How often the feeder reads new events from the log (events are queryable within it).
    pub feed_interval: Duration,
    /// A store's tail becomes a segment at this many events...
    pub flush_rows: usize,
    /// ... or when its oldest event waited this long.
    pub flush_age: Duration,
    /// How often retention, purges of deleted stores and expiry of old queries run.
    pub sweep_interval: Duration,
    pub query_timeout: Duration,
    /// Queued and running queries per account (spec/api.md §2.9).
    pub max_concurrent_queries: usize,
    /// Result rows kept per query; more make the query fail with a clear message.
    pub max_result_rows: usize,
    /// Log records read per feeder pass at most (bounds memory).
    pub max_records_per_pass: usize,
}

impl Default for LakeConfig {
    fn default() -> LakeConfig {
        LakeConfig {
            feed_interval: Duration::from_millis(200),
            // About 3 KB of Arrow memory per event (the record text included): ~300 MB per store at most.
            flush_rows: 100_000,
            flush_age: Duration::from_secs(300),
            sweep_interval: Duration::from_secs(60),
            query_timeout: Duration::from_secs(3600),
            max_concurrent_queries: 10,
            max_result_rows: 1_000_000,
            max_records_per_pass: 100_000,
        }
    }
}

/// What the Lake is built from.
pub struct LakeParts {
    pub data_dir: PathBuf,
    pub events: Arc<EventStore>,
    pub stores: Arc<Registry<EventDataStoreRecord>>,
    pub meta: Arc<MetaStore>,
    /// The organization's accounts, for organization stores.
    pub organization_accounts: Option<Vec<String>>,
    pub sink: Option<Arc<dyn ResultSink>>,
    pub clock: Arc<dyn Clock>,
    pub config: LakeConfig,
}

/// Which stores a statement may name.
#[derive(Debug, Clone, Copy)]
enum Visibility<'a> {
    /// The caller's: by ID, in its account and region.
    Caller { account_id: &'a str, region: &'a str },
    /// Every store, by ID or name (the `cairn query` command on a data directory).
    Everything,
}

/// For each store of a feeder pass, the texts of the records it takes.
type PerStoreTexts = Vec<Vec<Arc<str>>>;

/// The log hold taken before the event store opens, until the Lake knows each store's own.
const OPENING_HOLD: &str = "lake:opening";
/// Held at the end of the feeder's last pass: a store created later starts after it.
const FEED_HOLD: &str = "lake:feed";

fn store_hold(id: &str) -> String {
    format!("lake:{id}")
}

/// The Lake.
pub struct Lake {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    events: Arc<EventStore>,
    stores: Arc<Registry<EventDataStoreRecord>>,
    queries: Registry<QueryRecord>,
    organization_accounts: Option<Vec<String>>,
    sink: Option<Arc<dyn ResultSink>>,
    clock: Arc<dyn Clock>,
    config: LakeConfig,
    data: Mutex<HashMap<String, Arc<StoreData>>>,
    last_flush: Mutex<HashMap<String, Instant>>,
    running: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    results: Mutex<HashMap<String, Arc<QueryResult>>>,
    // Serialises feeder passes (the background task and explicit catch-ups).
    feeding: tokio::sync::Mutex<()>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("data_dir", &self.inner.data_dir).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Lake {
    /// Keeps the whole log until [`Lake::open`] has read each store's persisted point. Call before
    /// opening the event store, whose open trims the log.
    pub fn hold_log(holds: &WalHolds) {
        holds.set(OPENING_HOLD, Lsn(0));
    }

    /// Opens every store's dataset, fails queries a previous run left unfinished, and sets the log
    /// holds. Does not start the background tasks ([`Lake::start`]).
    pub async fn open(parts: LakeParts) -> Result<Lake, StoreError> {
        let queries: Registry<QueryRecord> = Registry::load(parts.meta.clone())?;
        let unfinished: Vec<QueryRecord> = queries.all().into_iter().filter(|q| !q.status.is_terminal()).collect();
        for mut query in unfinished {
            query.status = QueryStatus::Failed;
            query.error_message = Some("The query was interrupted by a restart of cairn; run it again.".to_owned());
            queries.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(query)])))?;
        }
        let inner = Arc::new(Inner {
            data_dir: parts.data_dir,
            events: parts.events,
            stores: parts.stores,
            queries,
            organization_accounts: parts.organization_accounts,
            sink: parts.sink,
            clock: parts.clock,
            config: parts.config,
            data: Mutex::new(HashMap::new()),
            last_flush: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            results: Mutex::new(HashMap::new()),
            feeding: tokio::sync::Mutex::new(()),
            tasks: Mutex::new(Vec::new()),
        });
        inner.events.holds().set(FEED_HOLD, inner.events.next_lsn());
        inner.sync_stores().await?;
        inner.events.holds().release(OPENING_HOLD);
        Ok(Lake { inner })
    }

    /// Starts the feeder and the sweeper.
    pub fn start(&self) {
        let feeder = tokio::spawn(run_feeder(Arc::downgrade(&self.inner)));
        let sweeper = tokio::spawn(run_sweeper(Arc::downgrade(&self.inner)));
        lock(&self.inner.tasks).extend([feeder, sweeper]);
    }

    /// Stops the background tasks and flushes every tail (so a clean stop replays nothing).
    pub async fn stop(&self) {
        for task in lock(&self.inner.tasks).drain(..) {
            task.abort();
        }
        let data: Vec<Arc<StoreData>> = lock(&self.inner.data).values().cloned().collect();
        for store in data {
            if let Err(error) = store.flush().await {
                tracing::warn!(store = %store.id, %error, "could not flush an event data store on stop");
            }
        }
    }

    /// Reads the log to its end into every store now (tests and `cairn query`).
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        loop {
            let end = self.inner.events.next_lsn();
            self.inner.feed_once().await?;
            let behind = lock(&self.inner.data).values().any(|s| s.cursor() < end);
            if !behind {
                return Ok(());
            }
        }
    }

    /// Flushes every store's tail to a segment now.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let data: Vec<Arc<StoreData>> = lock(&self.inner.data).values().cloned().collect();
        for store in data {
            store.flush().await.map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
        }
        Ok(())
    }

    /// Runs retention, purges and query expiry now.
    pub async fn sweep(&self) -> Result<(), StoreError> {
        self.inner.sweep().await
    }

    /// Writes records (their exact texts) straight into store `id` as a segment, bypassing the log:
    /// for imports of archives and for tests. Texts that are not records are skipped.
    pub async fn import_records(&self, id: &str, texts: &[&str]) -> Result<usize, StoreError> {
        let batch = records_to_batch(texts.iter().copied())
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
        self.import_batches(id, &[batch]).await
    }

    /// Writes batches already converted with [`records_to_batch`] into store `id` as one segment,
    /// bypassing the log: `cairn import` converts on its reading threads and writes here. Durable
    /// when this returns; returns the number of events added.
    pub async fn import_batches(&self, id: &str, batches: &[arrow_array::RecordBatch]) -> Result<usize, StoreError> {
        self.import_tagged(id, batches, None).await
    }

    /// [`Self::import_batches`], the segment tagged with `origin` so that [`Self::has_origin`] tells
    /// after a crash whether the write was committed.
    pub async fn import_tagged(
        &self,
        id: &str,
        batches: &[arrow_array::RecordBatch],
        origin: Option<&str>,
    ) -> Result<usize, StoreError> {
        let store = self.open_store(id).await?;
        store.import(batches, origin).await.map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))
    }

    /// Whether store `id` holds a segment written by [`Self::import_tagged`] with `origin`.
    pub async fn has_origin(&self, id: &str, origin: &str) -> Result<bool, StoreError> {
        Ok(self.open_store(id).await?.has_origin(origin))
    }

    async fn open_store(&self, id: &str) -> Result<Arc<StoreData>, StoreError> {
        self.inner.sync_stores().await?;
        self.store_data(id).ok_or_else(|| StoreError::Io(std::io::Error::other(format!("no event data store {id}"))))
    }

    /// The data of a store, if open.
    pub fn store_data(&self, id: &str) -> Option<Arc<StoreData>> {
        lock(&self.inner.data).get(id).cloned()
    }

    /// Validates and plans `request`, then runs it in the background. Returns the new query.
    pub fn start_query(&self, request: QueryRequest) -> Result<QueryRecord, ApiError> {
        let inner = &self.inner;
        let active = inner
            .queries
            .read(|all| all.values().filter(|q| q.account_id == request.account_id && !q.status.is_terminal()).count());
        if active >= inner.config.max_concurrent_queries {
            return Err(ApiError::new(
                ErrorCode::MaxConcurrentQueries,
                format!(
                    "You have exceeded the maximum number of concurrent queries ({}). Wait for a query to finish or cancel one.",
                    inner.config.max_concurrent_queries
                ),
            ));
        }
        let visibility = Visibility::Caller { account_id: &request.account_id, region: &request.region };
        let (prepared, planned) = inner.plan(&request.statement, visibility)?;
        let query = QueryRecord {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: request.account_id,
            region: request.region,
            event_data_stores: prepared.store_ids,
            statement: request.statement,
            status: QueryStatus::Running,
            error_message: None,
            delivery_s3_uri: request.delivery_s3_uri,
            delivery_status: None,
            created_at: inner.clock.now(),
            statistics: QueryStatistics::default(),
        };
        inner.put_query(query.clone()).map_err(store_failure)?;
        let task_inner = Arc::clone(inner);
        let id = query.id.clone();
        // The handle is registered before the task can finish, so its removal cannot come first.
        let mut running = lock(&inner.running);
        let task = tokio::spawn(async move { task_inner.run_query(id, planned).await });
        running.insert(query.id.clone(), task.abort_handle());
        Ok(query)
    }

    /// Runs `statement` to completion against every store of the data directory, named by ID or name.
    pub async fn query_now(&self, statement: &str) -> Result<QueryResult, ApiError> {
        let (_, planned) = self.inner.plan(statement, Visibility::Everything)?;
        let executed = engine::execute(planned.frame, planned.tail_rows)
            .await
            .map_err(|message| ApiError::new(ErrorCode::InvalidQueryStatement, message))?;
        let rows = render::rows(&executed.batches)
            .map_err(|e| ApiError::new(ErrorCode::InternalFailure, format!("rendering results: {e}")))?;
        Ok(QueryResult { columns: planned.columns, rows })
    }

    /// Plans `statement` like [`Lake::query_now`] without running it, for callers that run it their own
    /// way (`cairn export` reads it window by window as a stream).
    pub fn plan_now(&self, statement: &str) -> Result<engine::Planned, ApiError> {
        self.inner.plan(statement, Visibility::Everything).map(|(_, planned)| planned)
    }

    /// A query of `account_id`, or `QueryIdNotFoundException`.
    pub fn query(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError> {
        self.inner.queries.get(id).filter(|q| q.account_id == account_id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::QueryIdNotFound,
                format!("The query ID {} does not exist or has expired.", cairn_model::error::truncate_for_message(id)),
            )
        })
    }

    /// Every query of `account_id` (ListQueries filters further).
    pub fn queries_of(&self, account_id: &str) -> Vec<QueryRecord> {
        self.inner.queries.read(|all| all.values().filter(|q| q.account_id == account_id).cloned().collect())
    }

    /// The results of a finished query.
    pub fn results(&self, query: &QueryRecord) -> Result<Option<Arc<QueryResult>>, ApiError> {
        if query.status != QueryStatus::Finished {
            return Ok(None);
        }
        if let Some(found) = lock(&self.inner.results).get(&query.id) {
            return Ok(Some(Arc::clone(found)));
        }
        let loaded = results::load(&self.inner.result_path(&query.id))
            .map_err(|e| ApiError::new(ErrorCode::InternalFailure, format!("The query results cannot be read: {e}")))?;
        let loaded = Arc::new(loaded);
        lock(&self.inner.results).insert(query.id.clone(), Arc::clone(&loaded));
        Ok(Some(loaded))
    }

    /// Cancels a queued or running query.
    pub fn cancel(&self, account_id: &str, id: &str) -> Result<QueryRecord, ApiError> {
        let mut query = self.query(account_id, id)?;
        if query.status.is_terminal() {
            return Err(ApiError::new(
                ErrorCode::InactiveQuery,
                format!("The query {id} is {} and cannot be cancelled.", query.status.as_str()),
            ));
        }
        if let Some(task) = lock(&self.inner.running).remove(id) {
            task.abort();
        }
        query.status = QueryStatus::Cancelled;
        self.inner.put_query(query.clone()).map_err(store_failure)?;
        Ok(query)
    }
}

fn store_failure(error: StoreError) -> ApiError {
    ApiError::new(ErrorCode::InternalFailure, format!("The query could not be saved: {error}"))
}

impl Inner {
    fn result_path(&self, id: &str) -> PathBuf {
        self.data_dir.join("lake").join("queries").join(format!("{id}.json"))
    }

    fn store_dir(&self, id: &str) -> PathBuf {
        self.data_dir.join("datasets").join(format!("eds-{id}"))
    }

    fn put_query(&self, query: QueryRecord) -> Result<(), StoreError> {
        self.queries.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(query)])))
    }

    /// Prepares and plans `statement` against the stores `visibility` allows.
    fn plan(&self, statement: &str, visibility: Visibility<'_>) -> Result<(sql::Prepared, engine::Planned), ApiError> {
        let records = self.stores.all();
        let visible: Vec<&EventDataStoreRecord> = records
            .iter()
            .filter(|r| match visibility {
                Visibility::Caller { account_id, region } => r.account_id == account_id && r.region == region,
                Visibility::Everything => true,
            })
            .collect();
        let by_name = matches!(visibility, Visibility::Everything);
        let prepared = sql::prepare(statement, |word| {
            let found = visible.iter().find(|r| r.id.eq_ignore_ascii_case(word) || (by_name && r.name == word));
            match found {
                Some(record) => Named::Store(record.id.clone()),
                None if sql::is_store_id_shaped(word) => Named::Unknown,
                None => Named::Other,
            }
        })?;
        let now_ms = self.clock.now().as_millisecond();
        let mut tables = Vec::with_capacity(prepared.store_ids.len());
        for id in &prepared.store_ids {
            let Some(record) = visible.iter().find(|r| &r.id == id) else { continue };
            if record.status == EventDataStoreStatus::PendingDeletion {
                return Err(ApiError::new(
                    ErrorCode::InactiveEventDataStore,
                    format!("The event data store {} is pending deletion and cannot be queried.", record.arn()),
                ));
            }
            let data = lock(&self.data).get(id).map(|s| s.table_data()).unwrap_or_else(|| crate::store::TableData {
                schema: StoreKind::of(record).schema(),
                files: Vec::new(),
                tail: Vec::new(),
                pin: None,
            });
            let cutoff = now_ms - i64::from(record.retention_period) * 86_400_000;
            tables.push(StoreTable { id: id.clone(), data, retention_cutoff_ms: cutoff });
        }
        let planned = engine::plan_over(tables, &prepared.sql)?;
        Ok((prepared, planned))
    }

    async fn run_query(self: Arc<Self>, id: String, planned: engine::Planned) {
        let started = Instant::now();
        let columns = planned.columns;
        // Held until the scan is done, so that the segments it reads stay in place.
        let pins = planned.pins;
        let outcome =
            tokio::time::timeout(self.config.query_timeout, engine::execute(planned.frame, planned.tail_rows)).await;
        drop(pins);
        let elapsed = started.elapsed().as_millis() as u64;
        let Some(mut query) = self.queries.get(&id) else { return };
        if query.status.is_terminal() {
            // Cancelled meanwhile.
            return;
        }
        query.statistics.execution_time_ms = elapsed;
        match outcome {
            Err(_) => {
                query.status = QueryStatus::TimedOut;
                query.error_message = Some(format!(
                    "The query ran longer than {} seconds and was stopped.",
                    self.config.query_timeout.as_secs()
                ));
            }
            Ok(Err(message)) => {
                query.status = QueryStatus::Failed;
                query.error_message = Some(message);
            }
            Ok(Ok(executed)) => {
                query.statistics.events_scanned = executed.events_scanned;
                query.statistics.events_matched = executed.events_matched;
                query.statistics.bytes_scanned = executed.bytes_scanned;
                let n_rows: usize = executed.batches.iter().map(|b| b.num_rows()).sum();
                if n_rows > self.config.max_result_rows {
                    query.status = QueryStatus::Failed;
                    query.error_message = Some(format!(
                        "The query returned {n_rows} rows; at most {} can be kept. Add a LIMIT or narrow the query.",
                        self.config.max_result_rows
                    ));
                } else {
                    match self.keep_results(&query, columns, &executed.batches).await {
                        Ok((result, delivery)) => {
                            query.statistics.results_count = result.rows.len() as u64;
                            query.status = QueryStatus::Finished;
                            query.delivery_status = delivery;
                            lock(&self.results).insert(id.clone(), result);
                        }
                        Err(message) => {
                            query.status = QueryStatus::Failed;
                            query.error_message = Some(message);
                        }
                    }
                }
            }
        }
        lock(&self.running).remove(&id);
        if let Err(error) = self.put_query(query) {
            tracing::error!(query = %id, %error, "could not save a query's outcome");
        }
    }

    /// Writes the results file and, if asked, the CSV to the delivery bucket. Returns the results and
    /// the delivery status.
    async fn keep_results(
        &self,
        query: &QueryRecord,
        columns: Vec<String>,
        batches: &[arrow_array::RecordBatch],
    ) -> Result<(Arc<QueryResult>, Option<String>), String> {
        let rows = render::rows(batches).map_err(|e| format!("The results cannot be rendered: {e}"))?;
        let result = Arc::new(QueryResult { columns, rows });
        let path = self.result_path(&query.id);
        let saved = Arc::clone(&result);
        tokio::task::spawn_blocking(move || results::save(&saved, &path))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("The results cannot be saved: {e}"))?;
        let delivery = match (&query.delivery_s3_uri, &self.sink) {
            (Some(uri), Some(sink)) => {
                let (bucket, key) = result_key(uri, &query.account_id, &query.id, query.created_at);
                let body = csv_gzip(&result).map_err(|e| format!("The results cannot be written as CSV: {e}"))?;
                match sink.put(bucket, key, body).await {
                    Ok(()) => Some("SUCCESS".to_owned()),
                    Err(error) => {
                        tracing::warn!(query = %query.id, %error, "could not deliver query results");
                        Some("FAILED".to_owned())
                    }
                }
            }
            (Some(_), None) => Some("FAILED".to_owned()),
            (None, _) => None,
        };
        Ok((result, delivery))
    }

    /// Opens the data of new stores and forgets purged ones.
    async fn sync_stores(&self) -> Result<(), StoreError> {
        let records = self.stores.all();
        let missing: Vec<&EventDataStoreRecord> = {
            let data = lock(&self.data);
            records.iter().filter(|r| !data.contains_key(&r.id)).collect()
        };
        for record in missing {
            let store = StoreData::open(&record.id, StoreKind::of(record), &self.store_dir(&record.id))
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
            if let Some(first) = record.ingestion.first() {
                store.append(None, first.start);
            }
            // An import and the feeder may open a new store at once: the first one in is the store's
            // data, so everyone writes and reads through one.
            let mut data = lock(&self.data);
            if let std::collections::hash_map::Entry::Vacant(slot) = data.entry(record.id.clone()) {
                self.events.holds().set(&store_hold(&record.id), store.persisted_next());
                slot.insert(Arc::new(store));
            }
        }
        let gone: Vec<String> =
            lock(&self.data).keys().filter(|id| !records.iter().any(|r| &r.id == *id)).cloned().collect();
        for id in gone {
            lock(&self.data).remove(&id);
            self.events.holds().release(&store_hold(&id));
        }
        Ok(())
    }

    /// One feeder pass: new events into the stores' tails, then due flushes.
    async fn feed_once(self: &Arc<Self>) -> Result<(), StoreError> {
        let _feeding = self.feeding.lock().await;
        self.sync_stores().await?;
        let records = self.stores.all();
        let data: Vec<(EventDataStoreRecord, Arc<StoreData>)> = {
            let data = lock(&self.data);
            records.into_iter().filter_map(|r| data.get(&r.id).cloned().map(|s| (r, s))).collect()
        };
        let end = self.events.next_lsn();
        let from = data.iter().map(|(_, s)| s.cursor()).min().unwrap_or(end).max(self.events.first_retained_lsn());
        if from < end {
            let this = Arc::clone(self);
            let limit = self.config.max_records_per_pass;
            let data_for_read = data.clone();
            let (texts, next) =
                tokio::task::spawn_blocking(move || this.read_for_stores(&data_for_read, from, end, limit))
                    .await
                    .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))??;
            for ((_, store), texts) in data.iter().zip(texts) {
                if store.cursor() >= next {
                    continue;
                }
                let batch = if texts.is_empty() {
                    None
                } else {
                    match store.kind.records_to_batch(texts.iter().map(|t| t.as_ref())) {
                        Ok(batch) => Some(batch),
                        Err(error) => {
                            tracing::error!(store = %store.id, %error, "could not convert events for an event data store");
                            None
                        }
                    }
                };
                store.append(batch, next);
            }
            self.events.holds().set(FEED_HOLD, next);
        } else {
            self.events.holds().set(FEED_HOLD, end);
        }
        for (_, store) in &data {
            let due = store.tail_rows() >= self.config.flush_rows || {
                let last = *lock(&self.last_flush).entry(store.id.clone()).or_insert_with(Instant::now);
                last.elapsed() >= self.config.flush_age
            };
            if due {
                match store.flush().await {
                    Ok(_) => {
                        lock(&self.last_flush).insert(store.id.clone(), Instant::now());
                        self.events.holds().set(&store_hold(&store.id), store.persisted_next());
                    }
                    Err(error) => tracing::warn!(store = %store.id, %error, "could not flush an event data store"),
                }
            }
        }
        Ok(())
    }

    /// Reads log records `[from, end)` (at most `limit`) and sorts each into the stores that take it.
    /// Returns each store's record texts and the LSN the read stopped before.
    fn read_for_stores(
        &self,
        data: &[(EventDataStoreRecord, Arc<StoreData>)],
        from: Lsn,
        end: Lsn,
        limit: usize,
    ) -> Result<(PerStoreTexts, Lsn), StoreError> {
        let cursors: Vec<Lsn> = data.iter().map(|(_, s)| s.cursor()).collect();
        let mut texts: Vec<Vec<Arc<str>>> = vec![Vec::new(); data.len()];
        let mut n = 0usize;
        let mut last = from;
        let organization = self.organization_accounts.as_deref();
        let (next, _) = self.events.read_log(from, end, None, |lsn, payload| {
            n += 1;
            last = lsn.next();
            if let Ok(record) = EventRecord::parse(payload) {
                for (index, ((store, data), cursor)) in data.iter().zip(&cursors).enumerate() {
                    if lsn < *cursor || store.status == EventDataStoreStatus::PendingDeletion || !store.ingests_at(lsn)
                    {
                        continue;
                    }
                    let takes = match data.kind {
                        // Channel events go to the stores their channel named when they were written.
                        StoreKind::Activity => {
                            record.fields().event_category == ACTIVITY_CATEGORY
                                && channel_arn(record.text())
                                    .is_some_and(|channel| store.takes_channel_event(&channel, lsn))
                        }
                        StoreKind::CloudTrail => {
                            let scope = EventDataStoreScope {
                                account_id: &store.account_id,
                                region: &store.region,
                                multi_region_enabled: store.multi_region_enabled,
                                organization_accounts: if store.organization_enabled { organization } else { None },
                                selectors: &store.advanced_event_selectors,
                            };
                            event_data_store_takes(&scope, &record)
                        }
                    };
                    if takes && let Some(list) = texts.get_mut(index) {
                        list.push(record.shared_text().clone());
                    }
                }
            }
            if n >= limit { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
        })?;
        Ok((texts, next.max(last)))
    }

    async fn sweep(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        for record in self.stores.all() {
            if let Some(deleted_at) =
                record.deleted_at.filter(|_| record.status == EventDataStoreStatus::PendingDeletion)
            {
                if now.as_second() - deleted_at.as_second() >= RESTORE_DAYS * 86_400 {
                    self.purge(&record).await?;
                }
                continue;
            }
            let Some(store) = lock(&self.data).get(&record.id).cloned() else { continue };
            let cutoff = now.as_millisecond() - i64::from(record.retention_period) * 86_400_000;
            // Segments dropped while queries still read them go now, if those queries are done.
            store.delete_unreferenced().await;
            match store.drop_before(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(store = %record.id, n, "removed events past the event data store's retention"),
                Err(error) => tracing::warn!(store = %record.id, %error, "retention sweep failed"),
            }
            if let Err(error) = store.compact(COMPACT_BELOW_ROWS, COMPACT_AT_COUNT).await {
                tracing::warn!(store = %record.id, %error, "compaction of small segments failed");
            }
        }
        let expired: Vec<String> = self.queries.read(|all| {
            all.values()
                .filter(|q| {
                    q.status.is_terminal() && now.as_second() - q.created_at.as_second() >= QUERY_KEEP_DAYS * 86_400
                })
                .map(|q| q.id.clone())
                .collect()
        });
        for id in expired {
            self.queries.transact(|_| Ok::<_, StoreError>(((), vec![Change::Delete(id.clone())])))?;
            lock(&self.results).remove(&id);
            let _ = std::fs::remove_file(self.result_path(&id));
        }
        Ok(())
    }

    /// Deletes a store for good: its record, then its data.
    async fn purge(&self, record: &EventDataStoreRecord) -> Result<(), StoreError> {
        let id = record.id.clone();
        // A restore may have come first: purge only what is still pending deletion.
        let purged = self.stores.transact(|all| {
            let pending = all.get(&id).is_some_and(|r| r.status == EventDataStoreStatus::PendingDeletion);
            let changes = if pending { vec![Change::Delete(id.clone())] } else { Vec::new() };
            Ok::<_, StoreError>((pending, changes))
        })?;
        if !purged {
            return Ok(());
        }
        lock(&self.data).remove(&id);
        self.events.holds().release(&store_hold(&id));
        remove_dir(&self.store_dir(&id));
        tracing::info!(store = %id, "purged an event data store 7 days after its deletion");
        Ok(())
    }
}

fn remove_dir(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(dir = %dir.display(), %error, "could not remove a purged store's data"),
    }
}

async fn run_feeder(inner: Weak<Inner>) {
    loop {
        let Some(lake) = inner.upgrade() else { return };
        if let Err(error) = lake.feed_once().await {
            tracing::warn!(%error, "Lake feeder pass failed");
        }
        let interval = lake.config.feed_interval;
        drop(lake);
        tokio::time::sleep(interval).await;
    }
}

async fn run_sweeper(inner: Weak<Inner>) {
    loop {
        let Some(lake) = inner.upgrade() else { return };
        if let Err(error) = lake.sweep().await {
            tracing::warn!(%error, "Lake sweep failed");
        }
        let interval = lake.config.sweep_interval;
        drop(lake);
        tokio::time::sleep(interval).await;
    }
}

/// The channel a stored channel event arrived through (`metadata.channelARN`).
fn channel_arn(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Stored {
        metadata: Option<Metadata>,
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[serde(rename = "channelARN")]
        channel_arn: Option<String>,
    }
    serde_json::from_str::<Stored>(text).ok()?.metadata?.channel_arn
}
