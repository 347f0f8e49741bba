//! Reading a whole event data store out, for `cairn export`: its events in event-time order, with
//! bounded memory however large the store.
//!
//! The selection (store, time range, SQL condition) is planned once by the Lake's own planner, so a bad
//! condition fails before anything is read. A histogram of event times (hours, refined to minutes
//! where an hour is large) cuts the range into windows of at most [`WINDOW_EVENTS`] events; each window
//! runs as its own sorted query (`execute_stream`), and segment statistics keep it to the row groups of
//! its time range. Only one window's rows are in memory at a time.

mod parquet_files;

use std::path::PathBuf;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType};
use cairn_model::ApiError;
use cairn_store::dataset::Snapshot;
use datafusion::common::ScalarValue;
use datafusion::functions::core::expr_fn::{coalesce, get_field};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::{DataFrame, col, lit};
use futures::StreamExt;

use crate::Lake;
use crate::engine::describe;
use crate::schema::{EVENT_ID, EVENT_TIME};

pub use parquet_files::{PARQUET_ROWS_PER_FILE, ParquetWritten};

/// Events per window at most (unless one minute holds more): what one sorted query keeps in memory.
pub const WINDOW_EVENTS: u64 = 50_000;

const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// What to export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The store's ID.
    pub store_id: String,
    /// Events at or after this time (ms since the epoch).
    pub start_ms: Option<i64>,
    /// Events before this time (ms since the epoch).
    pub end_ms: Option<i64>,
    /// A Lake SQL condition on the store's columns, as after `WHERE`.
    pub condition: Option<String>,
}

/// A failure to export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The selection does not plan: the planner's own error.
    #[error("{}: {}", .0.code, .0.message)]
    Query(ApiError),
    #[error("reading the event data store: {0}")]
    Read(String),
    #[error("writing {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("encoding Parquet: {0}")]
    Encode(String),
}

fn read_error(error: impl std::fmt::Display) -> ExportError {
    ExportError::Read(error.to_string())
}

/// One exported event, as the CloudTrail log file writer needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportedRecord<'a> {
    pub event_time_ms: i64,
    /// `recipientAccountId`, else `userIdentity.accountId`.
    pub account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The record's exact text.
    pub text: &'a str,
}

/// A half-open range of event times `[start_ms, end_ms)` that one query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A planned export.
pub struct Export {
    frame: DataFrame,
    window_events: u64,
    // The snapshots `frame` reads, held so that its segments stay in place while it runs.
    _pins: Vec<Snapshot>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export").field("window_events", &self.window_events).finish_non_exhaustive()
    }
}

impl Export {
    /// Plans `selection` against the Lake's current data (call [`Lake::catch_up`] first for events still
    /// in the log). Nothing is read yet.
    pub fn plan(lake: &Lake, selection: &Selection) -> Result<Export, ExportError> {
        let mut statement = format!("SELECT * FROM {}", selection.store_id);
        if let Some(condition) = selection.condition.as_deref().filter(|c| !c.trim().is_empty()) {
            // The line break ends a trailing `--` comment inside the condition.
            statement.push_str(&format!(" WHERE ({condition}\n)"));
        }
        let planned = lake.plan_now(&statement).map_err(ExportError::Query)?;
        let mut frame = planned.frame;
        if let Some(start) = selection.start_ms {
            frame = frame.filter(col(EVENT_TIME).gt_eq(time(start))).map_err(read_error)?;
        }
        if let Some(end) = selection.end_ms {
            frame = frame.filter(col(EVENT_TIME).lt(time(end))).map_err(read_error)?;
        }
        Ok(Export { frame, window_events: WINDOW_EVENTS, _pins: planned.pins })
    }

    /// Calls `each` for every selected event, in order of event time (then event ID). Returns how many.
    pub async fn for_each_record<E: From<ExportError>>(
        &self,
        mut each: impl FnMut(ExportedRecord<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut n = 0u64;
        for window in self.windows().await? {
            let account =
                coalesce(vec![col("recipientaccountid"), get_field(col("useridentity"), "accountid")]).alias("account");
            let frame = self
                .window_frame(window)?
                .select(vec![col(EVENT_TIME), account, col("awsregion"), col("eventjson")])
                .map_err(read_error)?;
            let mut stream = frame.execute_stream().await.map_err(|e| ExportError::Read(describe(&e)))?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(|e| ExportError::Read(describe(&e)))?;
                let columns = RecordColumns::of(&batch).map_err(read_error)?;
                for row in 0..batch.num_rows() {
                    let Some(record) = columns.record(row) else { continue };
                    each(record)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// The selected events, sorted by event time, window after window, as batches of the Lake schema.
    async fn for_each_batch(
        &self,
        mut each: impl FnMut(&RecordBatch) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        for window in self.windows().await? {
            let mut stream =
                self.window_frame(window)?.execute_stream().await.map_err(|e| ExportError::Read(describe(&e)))?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(|e| ExportError::Read(describe(&e)))?;
                each(&crate::engine::as_stored(&batch).map_err(read_error)?)?;
            }
        }
        Ok(())
    }

    /// The selection within `window`, sorted.
    fn window_frame(&self, window: Window) -> Result<DataFrame, ExportError> {
        self.frame
            .clone()
            .filter(col(EVENT_TIME).gt_eq(time(window.start_ms)).and(col(EVENT_TIME).lt(time(window.end_ms))))
            .and_then(|frame| frame.sort(vec![col(EVENT_TIME).sort(true, false), col(EVENT_ID).sort(true, true)]))
            .map_err(read_error)
    }

    /// Windows covering every selected event, in time order.
    pub async fn windows(&self) -> Result<Vec<Window>, ExportError> {
        let mut buckets = Vec::new();
        for (hour, n) in histogram(self.frame.clone(), HOUR_MS).await? {
            if n <= self.window_events {
                buckets.push((hour, HOUR_MS, n));
                continue;
            }
            let within = col(EVENT_TIME).gt_eq(time(hour)).and(col(EVENT_TIME).lt(time(hour + HOUR_MS)));
            let hour_frame = self.frame.clone().filter(within).map_err(read_error)?;
            buckets.extend(histogram(hour_frame, MINUTE_MS).await?.into_iter().map(|(m, n)| (m, MINUTE_MS, n)));
        }
        Ok(pack(&buckets, self.window_events))
    }
}

/// A timestamp literal of the event time column's type.
fn time(ms: i64) -> Expr {
    lit(ScalarValue::TimestampMillisecond(Some(ms), Some("UTC".into())))
}

/// Event counts per bucket of `width_ms` (bucket start, count), in time order.
async fn histogram(frame: DataFrame, width_ms: i64) -> Result<Vec<(i64, u64)>, ExportError> {
    let ms = cast(col(EVENT_TIME), DataType::Int64);
    // Floor, not truncation toward zero: events before 1970 fall in the right bucket too.
    let offset = ((ms.clone() % lit(width_ms)) + lit(width_ms)) % lit(width_ms);
    let batches = frame
        .aggregate(vec![(ms - offset).alias("bucket")], vec![count(lit(1)).alias("n")])
        .and_then(|frame| frame.sort(vec![col("bucket").sort(true, false)]))
        .map_err(read_error)?
        .collect()
        .await
        .map_err(|e| ExportError::Read(describe(&e)))?;
    let mut out = Vec::new();
    for batch in &batches {
        let (Some(starts), Some(counts)) =
            (batch.column(0).as_primitive_opt::<Int64Type>(), batch.column(1).as_primitive_opt::<Int64Type>())
        else {
            return Err(ExportError::Read("the event time histogram has unexpected types".to_owned()));
        };
        out.extend(starts.iter().zip(counts.iter()).filter_map(|(s, n)| Some((s?, u64::try_from(n?).ok()?))));
    }
    Ok(out)
}

/// Packs consecutive `(start, width, count)` buckets into windows of at most `limit` events; a bucket
/// above the limit is a window of its own.
pub fn pack(buckets: &[(i64, i64, u64)], limit: u64) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    let mut current: Option<(Window, u64)> = None;
    for &(start, width, n) in buckets {
        let end = start.saturating_add(width);
        current = match current {
            Some((window, total)) if total + n <= limit => Some((Window { end_ms: end, ..window }, total + n)),
            Some((window, _)) => {
                windows.push(window);
                Some((Window { start_ms: start, end_ms: end }, n))
            }
            None => Some((Window { start_ms: start, end_ms: end }, n)),
        };
    }
    windows.extend(current.map(|(window, _)| window));
    windows
}

/// The columns of a window's batch that a log file needs.
struct RecordColumns {
    times: arrow_array::PrimitiveArray<TimestampMillisecondType>,
    accounts: StringArray,
    regions: StringArray,
    texts: StringArray,
}

impl RecordColumns {
    fn of(batch: &RecordBatch) -> Result<RecordColumns, ArrowError> {
        let strings = |index: usize| -> Result<StringArray, ArrowError> {
            datafusion::arrow::compute::cast(batch.column(index), &DataType::Utf8)?
                .as_string_opt::<i32>()
                .cloned()
                .ok_or_else(|| ArrowError::SchemaError("an exported column is not text".to_owned()))
        };
        let times = batch
            .column(0)
            .as_primitive_opt::<TimestampMillisecondType>()
            .cloned()
            .ok_or_else(|| ArrowError::SchemaError("eventtime is not a millisecond timestamp".to_owned()))?;
        Ok(RecordColumns { times, accounts: strings(1)?, regions: strings(2)?, texts: strings(3)? })
    }

    fn record(&self, row: usize) -> Option<ExportedRecord<'_>> {
        fn value(array: &StringArray, row: usize) -> Option<&str> {
            (!array.is_null(row)).then(|| array.value(row)).filter(|v| !v.is_empty())
        }
        if self.times.is_null(row) || self.texts.is_null(row) {
            return None;
        }
        Some(ExportedRecord {
            event_time_ms: self.times.value(row),
            account_id: value(&self.accounts, row),
            region: value(&self.regions, row),
            text: self.texts.value(row),
        })
    }
}

#[cfg(test)]
mod tests;
