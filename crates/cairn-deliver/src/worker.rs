//! One trail's delivery loop: finish a pending batch, cut the next one when the interval is up,
//! deliver due digests, and back off while the destination fails.
//!
//! Order of durable steps for a batch: (1) commit the intent (`PendingBatch`: the log range and the
//! delivery time that names the files) together with the trail snapshot it was cut with; (2) write
//! every file, then stream the batch to the trail's CloudWatch Logs group (`stream`); (3) commit the
//! cursor past the batch, the files into their digest chains, and the status, clearing the intent.
//! After a crash or a failed write, the intent is redone with the same inputs and so the same keys
//! and bytes; a batch streamed before a crash is streamed again (log streaming is at least once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_store::records::TrailRecord;
use cairn_store::wal::ReadPosition;
use cairn_store::{Change, Record, StoreError};
use jiff::Timestamp;

use crate::batch::{Batch, BatchInput, read_batch};
use crate::digests;
use crate::files::{PreparedFile, prepare, whole_seconds};
use crate::notify::log_delivery_message;
use crate::service::{Shared, hold_name};
use crate::state::{
    ChainFileRecord, DeliveryRecord, DigestChain, PendingBatch, Unannounced, chain_files_prefix, chain_key,
};
use crate::stream::log_group_of;

/// Why a pass did not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Destination(String),
    #[error("signing: {0}")]
    Signing(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("a delivery task failed: {0}")]
    Task(String),
}

/// What the loop does next.
enum Next {
    Wait(Duration),
    Finished,
}

/// Worker-local memory across passes.
#[derive(Default)]
struct Local {
    last_cut: Option<Instant>,
    /// A pending batch's files, kept across retries so they are not cut again.
    prepared: Option<(PendingBatch, Arc<Prepared>)>,
    /// Failed passes since the trail was deleted.
    failures_after_delete: u32,
    /// Where the last batch's read of the log stopped: the next one starts there.
    position: Option<ReadPosition>,
}

/// A batch ready to write.
struct Prepared {
    batch: Batch,
    files: Vec<PreparedFile>,
}

pub(crate) async fn run(shared: Arc<Shared>, trail_arn: String) {
    let mut local = Local::default();
    let mut backoff = shared.config.retry_min;
    loop {
        match pass(&shared, &trail_arn, &mut local).await {
            Ok(Next::Finished) => {
                shared.holds().release(&hold_name(&trail_arn));
                tracing::info!(trail = %trail_arn, "trail delivery finished");
                return;
            }
            Ok(Next::Wait(wait)) => {
                backoff = shared.config.retry_min;
                tokio::time::sleep(wait).await;
            }
            Err(error) => {
                tracing::warn!(trail = %trail_arn, %error, retry_in = ?backoff, "trail delivery failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(shared.config.retry_max);
            }
        }
    }
}

/// Runs blocking work (log reads, gzip, metadata commits) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DeliveryError> + Send + 'static,
) -> Result<T, DeliveryError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| DeliveryError::Task(e.to_string()))?
}

pub(crate) async fn commit(shared: &Arc<Shared>, record: DeliveryRecord) -> Result<(), DeliveryError> {
    let shared = Arc::clone(shared);
    blocking(move || {
        shared.states.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(record)])))?;
        Ok(())
    })
    .await
}

/// Attempts a deleted trail gets to deliver what it had left before it gives up.
const ATTEMPTS_AFTER_DELETE: u32 = 3;

async fn pass(shared: &Arc<Shared>, trail_arn: &str, local: &mut Local) -> Result<Next, DeliveryError> {
    let Some(mut record) = shared.states.get(trail_arn) else {
        return Ok(Next::Finished);
    };
    // The trail as it is now, unless it was deleted (or deleted and created again).
    let current = shared.trails.get(&record.trail.key()).filter(|t| t.created_at == record.trail.created_at);
    let caught_up = match deliver(shared, &mut record, current.as_ref(), local).await {
        Ok(caught_up) => caught_up,
        Err(error) if current.is_none() => {
            // A deleted trail whose destination keeps failing would otherwise hold the log forever.
            local.failures_after_delete += 1;
            if local.failures_after_delete < ATTEMPTS_AFTER_DELETE {
                return Err(error);
            }
            tracing::warn!(trail = %trail_arn, %error, "the trail was deleted and its last deliveries keep failing; giving them up");
            forget(shared, trail_arn).await?;
            return Ok(Next::Finished);
        }
        Err(error) => return Err(error),
    };
    if current.is_none() && caught_up && record.pending.is_none() && record.chains.is_empty() {
        forget(shared, trail_arn).await?;
        return Ok(Next::Finished);
    }
    let interval = shared.config.delivery_interval;
    let until_cut = local.last_cut.map_or(Duration::ZERO, |at| interval.saturating_sub(at.elapsed()));
    Ok(Next::Wait(until_cut.min(Duration::from_secs(1))))
}

/// One pass's work: a pending batch, a new batch when due, due digests. Returns whether the cursor
/// reached the end of the log as it was when the batch was cut.
async fn deliver(
    shared: &Arc<Shared>,
    record: &mut DeliveryRecord,
    current: Option<&TrailRecord>,
    local: &mut Local,
) -> Result<bool, DeliveryError> {
    // Left over from before a restart.
    announce(shared, record).await?;
    if let Some(pending) = record.pending.clone() {
        finish_batch(shared, record, pending, local).await?;
    }
    let due = local.last_cut.is_none_or(|at| at.elapsed() >= shared.config.delivery_interval);
    let mut caught_up = false;
    if due {
        local.last_cut = Some(Instant::now());
        let end = shared.events.next_lsn();
        // A full batch stops short of `end`: keep cutting, so a backlog drains at the delivery rate
        // rather than one batch per interval.
        while record.cursor < end {
            cut_batch(shared, record, current, end, local).await?;
        }
        caught_up = true;
    }
    digests::deliver_due(shared, record, current).await?;
    Ok(caught_up)
}

/// Drops a finished (deleted) trail's delivery state and any file records it left.
async fn forget(shared: &Arc<Shared>, trail_arn: &str) -> Result<(), DeliveryError> {
    let (shared, arn) = (Arc::clone(shared), trail_arn.to_owned());
    blocking(move || {
        shared.states.transact(|_| Ok::<_, StoreError>(((), vec![Change::Delete(arn.clone())])))?;
        let prefix = chain_files_prefix(&arn, "");
        shared.files.transact(|rows| {
            let gone = rows.range(prefix.clone()..).take_while(|(key, _)| key.starts_with(&prefix));
            Ok::<_, StoreError>(((), gone.map(|(key, _)| Change::Delete(key.clone())).collect()))
        })?;
        Ok(())
    })
    .await
}

/// Reads the log from the cursor to `end` and delivers what the trail selects.
async fn cut_batch(
    shared: &Arc<Shared>,
    record: &mut DeliveryRecord,
    current: Option<&TrailRecord>,
    end: cairn_store::wal::Lsn,
    local: &mut Local,
) -> Result<(), DeliveryError> {
    if let Some(current) = current {
        record.trail = current.clone();
    }
    let batch = {
        let shared = Arc::clone(shared);
        let (trail, from, logging, position) = (record.trail.clone(), record.cursor, record.logging, local.position);
        blocking(move || read(&shared, &trail, from, end, logging, position)).await?
    };
    local.position = batch.position;
    if batch.files.is_empty() {
        // Nothing to write: move the cursor, and apply any StartLogging/StopLogging seen.
        let now = whole_seconds(shared.clock.now());
        apply_flags(record, &batch, now);
        record.cursor = batch.end;
        commit(shared, record.clone()).await?;
        shared.holds().set(&hold_name(&record.trail_arn), record.cursor);
        return Ok(());
    }
    let pending = PendingBatch { from: record.cursor, end: batch.end, delivered_at: whole_seconds(shared.clock.now()) };
    record.pending = Some(pending.clone());
    commit(shared, record.clone()).await?;
    let prepared = {
        let trail = record.trail.clone();
        let pending = pending.clone();
        blocking(move || {
            let files = prepare(&trail, &pending, &batch.files)?;
            Ok(Prepared { batch, files })
        })
        .await?
    };
    local.prepared = Some((pending.clone(), Arc::new(prepared)));
    finish_batch(shared, record, pending, local).await
}

fn read(
    shared: &Shared,
    trail: &TrailRecord,
    from: cairn_store::wal::Lsn,
    end: cairn_store::wal::Lsn,
    logging: bool,
    position: Option<ReadPosition>,
) -> Result<Batch, DeliveryError> {
    let input = BatchInput {
        trail,
        organization_accounts: shared.organization_accounts(trail),
        from,
        end,
        logging,
        position,
        max_batch_bytes: shared.config.max_batch_bytes,
        max_file_bytes: shared.config.max_file_bytes,
    };
    Ok(read_batch(&shared.events, &input)?)
}

/// Writes the files of `pending` and commits the cursor past it.
async fn finish_batch(
    shared: &Arc<Shared>,
    record: &mut DeliveryRecord,
    pending: PendingBatch,
    local: &mut Local,
) -> Result<(), DeliveryError> {
    let prepared = match local.prepared.take() {
        Some((cached, prepared)) if cached == pending => prepared,
        _ => {
            // After a restart: cut the same range again with the trail as it was.
            let shared = Arc::clone(shared);
            let (trail, logging, pending) = (record.trail.clone(), record.logging, pending.clone());
            Arc::new(
                blocking(move || {
                    let batch = read(&shared, &trail, pending.from, pending.end, logging, None)?;
                    let files = prepare(&trail, &pending, &batch.files)?;
                    Ok(Prepared { batch, files })
                })
                .await?,
            )
        }
    };
    let bucket = record.trail.s3_bucket_name.clone();
    for file in &prepared.files {
        let written = shared
            .destinations
            .put(&bucket, &file.key, file.gzipped.clone(), "application/x-gzip", &[])
            .await
            .map_err(|e| DeliveryError::Destination(e.to_string()));
        if let Err(error) = written {
            let now = shared.clock.now();
            let status = record.status.entry(file.region.clone()).or_default();
            status.latest_delivery_attempt_time = Some(now);
            status.latest_delivery_error = Some(error.to_string());
            commit(shared, record.clone()).await?;
            local.prepared = Some((pending, prepared));
            return Err(error);
        }
    }
    stream_logs(shared, record, &prepared.batch).await;
    let now = shared.clock.now();
    if record.trail.log_file_validation_enabled {
        // First the files, under keys a redone batch writes again; then the cursor.
        // Digests cover log files only, as CloudTrail's do; Insights files have none.
        let rows: Vec<Change<ChainFileRecord>> = prepared
            .files
            .iter()
            .filter(|file| !file.insight)
            .map(|file| {
                Change::Put(ChainFileRecord {
                    trail_arn: record.trail_arn.clone(),
                    chain: chain_key(&file.account_id, &file.region),
                    delivered_at: pending.delivered_at,
                    entry: file.entry.clone(),
                })
            })
            .collect();
        let shared = Arc::clone(shared);
        blocking(move || {
            shared.files.transact(|_| Ok::<_, StoreError>(((), rows)))?;
            Ok(())
        })
        .await?;
    }
    apply_flags(record, &prepared.batch, pending.delivered_at);
    for file in &prepared.files {
        if record.trail.log_file_validation_enabled {
            let key = chain_key(&file.account_id, &file.region);
            record.chains.entry(key).or_insert_with(|| DigestChain {
                account_id: file.account_id.clone(),
                region: file.region.clone(),
                period_start: pending.delivered_at,
                previous: None,
                closing_at: prepared.batch.stopped.then_some(pending.delivered_at),
            });
        }
        let status = record.status.entry(file.region.clone()).or_default();
        status.latest_delivery_time = Some(now);
        status.latest_delivery_attempt_time = Some(now);
        status.latest_delivery_attempt_succeeded = Some(now);
        status.latest_delivery_error = None;
    }
    if record.trail.sns_topic_arn.is_some() {
        record.unannounced.extend(prepared.files.iter().map(|file| Unannounced {
            bucket: record.trail.s3_bucket_name.clone(),
            key: file.key.clone(),
            region: file.region.clone(),
        }));
    }
    record.cursor = pending.end;
    record.pending = None;
    commit(shared, record.clone()).await?;
    shared.holds().set(&hold_name(&record.trail_arn), record.cursor);
    let n_events: usize = prepared.files.iter().map(|f| f.n_events).sum();
    metrics_delivered(n_events, prepared.files.len());
    announce(shared, record).await
}

/// Streams the batch to the trail's CloudWatch Logs group, once: a failure is recorded in the
/// status (committed with the cursor) and the events are not sent again.
async fn stream_logs(shared: &Arc<Shared>, record: &mut DeliveryRecord, batch: &Batch) {
    if shared.streaming.is_off() {
        return;
    }
    let Some(group) = record.trail.cloud_watch_logs_log_group_arn.as_deref().and_then(log_group_of) else {
        return;
    };
    let outcomes = shared.streaming.stream(&group, &batch.files, shared.clock.now()).await;
    let now = shared.clock.now();
    for outcome in outcomes {
        let status = record.status.entry(outcome.region).or_default();
        match outcome.error {
            None => {
                status.latest_cloud_watch_logs_delivery_time = Some(now);
                status.latest_cloud_watch_logs_delivery_error = None;
            }
            Some(error) => status.latest_cloud_watch_logs_delivery_error = Some(error),
        }
    }
}

/// Applies the trail's StartLogging/StopLogging/DeleteTrail events read in `batch`: digest chains
/// end at `at` when logging stopped.
fn apply_flags(record: &mut DeliveryRecord, batch: &Batch, at: Timestamp) {
    record.logging = batch.logging_after;
    record.deleted |= batch.deleted;
    if batch.stopped {
        for chain in record.chains.values_mut() {
            chain.closing_at.get_or_insert(at.max(chain.period_start));
        }
    }
}

fn metrics_delivered(n_events: usize, n_files: usize) {
    metrics::counter!("cairn_delivery_events_total").increment(n_events as u64);
    metrics::counter!("cairn_delivery_files_total").increment(n_files as u64);
}

/// Tells the trail's SNS topic which files were delivered. Attempted once per file (a failure shows in
/// the status); files of a batch committed before a crash are announced after the restart.
async fn announce(shared: &Arc<Shared>, record: &mut DeliveryRecord) -> Result<(), DeliveryError> {
    if record.unannounced.is_empty() {
        return Ok(());
    }
    let files = std::mem::take(&mut record.unannounced);
    let topic = record.trail.sns_topic_arn.as_ref().and_then(|arn| shared.topics.iter().find(|t| &t.arn == arn));
    if let Some(topic) = topic {
        let mut buckets: Vec<&str> = files.iter().map(|f| f.bucket.as_str()).collect();
        buckets.sort_unstable();
        buckets.dedup();
        for bucket in buckets {
            let keys: Vec<String> = files.iter().filter(|f| f.bucket == bucket).map(|f| f.key.clone()).collect();
            let message = log_delivery_message(bucket, &keys);
            let result = shared.notifier.publish(topic, None, &message).await;
            let now = shared.clock.now();
            let regions: std::collections::BTreeSet<&str> =
                files.iter().filter(|f| f.bucket == bucket).map(|f| f.region.as_str()).collect();
            for region in regions {
                let status = record.status.entry(region.to_owned()).or_default();
                status.latest_notification_attempt_time = Some(now);
                match &result {
                    Ok(()) => {
                        status.latest_notification_time = Some(now);
                        status.latest_notification_attempt_succeeded = Some(now);
                        status.latest_notification_error = None;
                    }
                    Err(error) => status.latest_notification_error = Some(error.to_string()),
                }
            }
            if let Err(error) = &result {
                tracing::warn!(trail = %record.trail_arn, %error, "notification failed");
            }
        }
    }
    commit(shared, record.clone()).await
}
