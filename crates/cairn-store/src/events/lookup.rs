//! One LookupEvents page over the in-memory tail and the committed segments, newest first.
//!
//! The tail gives its best `max_results + 1` matches. Segment chunks (one partition inside one row
//! group) that meet the query's account, region, time window and category are then visited in order of
//! their newest possible key, so the scan stops as soon as no unvisited chunk can beat the page; bloom
//! filters skip row groups that cannot hold the attribute value. Only the rows that make the page have
//! their record text read. A page that would scan more than [`SCAN_BUDGET`] rows ends early
//! with a NextToken at the point it reached, as AWS's pages may.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::event::{EventRecord, LookupAttributeKey};
use jiff::Timestamp;

use super::history::{HISTORY_RETENTION, LookupPage, LookupQuery, TailHits};
use crate::StoreError;
use crate::dataset::segment::{AttributeFilter, ReadError, RowFilter};
use crate::dataset::{EventKey, Snapshot, attribute_column};

/// Events of the tail, and rows of segments, one page examines at most before it answers with a
/// NextToken.
pub(super) const SCAN_BUDGET: usize = 1_000_000;

/// How much one page reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Segment rows whose key columns one page reads at most.
    pub(super) scan_budget: usize,
    /// Rows read at a time from a chunk, newest first: the writer's page row limit, so that windows
    /// skip whole pages.
    pub(super) window_rows: usize,
}

/// Why a page could not be answered from this snapshot.
#[derive(Debug)]
pub(super) enum Failure {
    /// A segment broke or vanished during the lookup: plan again from a fresh snapshot.
    Retry,
    Store(StoreError),
}

/// The inclusive key bounds of `query` at `now` (the 90-day window, the time range, the NextToken), or
/// `None` if nothing can match.
pub(super) fn key_range(query: &LookupQuery, now: Timestamp) -> Option<(EventKey, EventKey)> {
    let oldest = now.saturating_sub(HISTORY_RETENTION).unwrap_or(now);
    let start = query.start.map_or(oldest, |s| s.max(oldest));
    let end = query.end.unwrap_or(now);
    if start > end {
        return None;
    }
    let low = EventKey { event_time_ms: start.as_millisecond(), lsn: 0 };
    let mut high = EventKey { event_time_ms: end.as_millisecond(), lsn: u64::MAX };
    if let Some(after) = query.after {
        let before_after = match after.lsn.checked_sub(1) {
            Some(lsn) => EventKey { event_time_ms: after.event_time_ms, lsn },
            None => EventKey { event_time_ms: after.event_time_ms.saturating_sub(1), lsn: u64::MAX },
        };
        high = high.min(before_after);
    }
    (low <= high).then_some((low, high))
}

/// Whether a tail record passes the query's category and attribute.
pub(super) fn matches(record: &EventRecord, query: &LookupQuery) -> bool {
    let is_insight = record.fields().event_category == "Insight";
    if is_insight != query.insights {
        return false;
    }
    match &query.attribute {
        None => true,
        Some((key, value)) => record.fields().lookup_attribute_values(*key).any(|v| v == value),
    }
}

/// Where a page entry comes from.
enum Located {
    Tail(Arc<EventRecord>),
    Segment { segment: usize, row_group: usize, row: usize },
}

struct Planned {
    upper: EventKey,
    segment: usize,
    chunk: usize,
}

/// Answers `query` from `tail` (the tail's scan, taken with `snapshot` under one lock) and `snapshot`.
pub(super) async fn page(
    tail: TailHits,
    snapshot: &Snapshot,
    query: &LookupQuery,
    low: EventKey,
    high: EventKey,
    limits: Limits,
) -> Result<LookupPage, Failure> {
    let mut best: Vec<(EventKey, Located)> = tail.hits.into_iter().map(|(key, r)| (key, Located::Tail(r))).collect();
    let mut cut = tail.cut;
    if let Some(attribute) = attribute_filter(query) {
        let filter = RowFilter { low, high, insights: query.insights, attribute };
        scan_segments(snapshot, query, &filter, limits, &mut best, &mut cut).await?;
    }
    best.sort_by_key(|entry| Reverse(entry.0));
    best.dedup_by_key(|entry| entry.0);
    if let Some(cut) = cut {
        best.retain(|(key, _)| *key > cut);
    }
    let next = if best.len() > query.max_results {
        best.truncate(query.max_results);
        best.last().map(|(key, _)| *key)
    } else {
        cut.map(|c| EventKey { event_time_ms: c.event_time_ms, lsn: c.lsn.saturating_add(1) })
    };
    let events = load_records(snapshot, best).await?;
    Ok(LookupPage { events, next })
}

/// The attribute as a column test, or `None` when no stored row can match (a `ReadOnly` value other
/// than `true` or `false`).
fn attribute_filter(query: &LookupQuery) -> Option<AttributeFilter> {
    match &query.attribute {
        None => Some(AttributeFilter::Any),
        Some((LookupAttributeKey::ReadOnly, value)) => match value.as_str() {
            "true" => Some(AttributeFilter::ReadOnly(true)),
            "false" => Some(AttributeFilter::ReadOnly(false)),
            _ => None,
        },
        Some((key, value)) => Some(AttributeFilter::Text { column: attribute_column(*key), value: value.clone() }),
    }
}

async fn scan_segments(
    snapshot: &Snapshot,
    query: &LookupQuery,
    filter: &RowFilter,
    limits: Limits,
    best: &mut Vec<(EventKey, Located)>,
    cut: &mut Option<EventKey>,
) -> Result<(), Failure> {
    let (low, high) = (filter.low, filter.high);
    let limit = query.max_results.saturating_add(1);
    let mut plan = Vec::new();
    for (segment_idx, segment) in snapshot.segments.iter().enumerate() {
        let entry = segment.entry();
        if entry.max_event_time_ms < low.event_time_ms || entry.min_event_time_ms > high.event_time_ms {
            continue;
        }
        for (chunk_idx, chunk) in segment.chunks().iter().enumerate() {
            let wanted = chunk.account == query.account_id
                && chunk.region == query.region
                && chunk.max_time_ms >= low.event_time_ms
                && chunk.min_time_ms <= high.event_time_ms
                && if query.insights { chunk.n_insights > 0 } else { chunk.n_insights < chunk.n_rows };
            if wanted {
                let upper = EventKey { event_time_ms: chunk.max_time_ms, lsn: chunk.max_lsn }.min(high);
                plan.push(Planned { upper, segment: segment_idx, chunk: chunk_idx });
            }
        }
    }
    plan.sort_by_key(|planned| Reverse(planned.upper));
    best.sort_by_key(|entry| Reverse(entry.0));
    let mut n_scanned = 0usize;
    for (plan_idx, planned) in plan.iter().enumerate() {
        if cut.is_some_and(|c| planned.upper <= c) {
            break;
        }
        if best.len() >= limit && best.get(limit - 1).is_some_and(|(worst, _)| planned.upper < *worst) {
            break;
        }
        // A cut must leave the next page less to do, so the budget yields to chunks that reach `high`.
        if n_scanned >= limits.scan_budget && planned.upper < high {
            *cut = Some(cut.map_or(planned.upper, |c| c.max(planned.upper)));
            break;
        }
        let (Some(segment), Some(chunk)) = (
            snapshot.segments.get(planned.segment),
            snapshot.segments.get(planned.segment).and_then(|s| s.chunks().get(planned.chunk)),
        ) else {
            return Err(Failure::Retry);
        };
        if let AttributeFilter::Text { column, value } = &filter.attribute
            && !segment.may_contain(chunk.row_group, *column, value).await.map_err(read_failure)?
        {
            continue;
        }
        // Rows are read newest window first; once the page is full of keys above a window's lowest
        // key, the older windows cannot contribute.
        let page_rows = limits.window_rows.max(1);
        // An event id matches one event (rarely a few): no window can settle the page, so read the chunk
        // at once.
        let by_event_id = matches!(&filter.attribute, AttributeFilter::Text { column, .. }
            if *column == attribute_column(LookupAttributeKey::EventId));
        let mut window_rows = if by_event_id { chunk.n_rows.max(page_rows) } else { page_rows };
        let mut window_end = chunk.first_row + chunk.n_rows;
        while window_end > chunk.first_row {
            // The first window is the chunk's last (partial) page; each further one doubles (fewer,
            // larger reads when matches are rare). Windows start on page boundaries.
            let window_start =
                (window_end.saturating_sub(window_rows).div_ceil(page_rows) * page_rows).max(chunk.first_row);
            window_rows = window_rows.saturating_mul(2);
            let budget_reached = n_scanned + (window_end - window_start) >= limits.scan_budget;
            let need_lowest = best.len() >= limit || budget_reached || chunk.min_time_ms < low.event_time_ms;
            let (hits, lowest) =
                segment.read_keys(chunk, window_start..window_end, filter, need_lowest).await.map_err(read_failure)?;
            n_scanned += window_end - window_start;
            window_end = window_start;
            // Hits come in ascending key order: the newest are last.
            let located = hits.into_iter().rev().take(limit).map(|hit| {
                (hit.key, Located::Segment { segment: planned.segment, row_group: hit.row_group, row: hit.row })
            });
            best.extend(located);
            best.sort_by_key(|entry| Reverse(entry.0));
            best.dedup_by_key(|entry| entry.0);
            best.truncate(limit);
            let page_is_settled = best.len() >= limit
                && lowest.is_some_and(|lowest| best.get(limit - 1).is_some_and(|(worst, _)| *worst > lowest));
            if page_is_settled || lowest.is_some_and(|lowest| lowest < low) {
                break;
            }
            if n_scanned >= limits.scan_budget && window_end > chunk.first_row {
                // Keys of this chunk at or above `lowest` were all seen, older ones were not, and the
                // chunks not visited yet hold nothing above the next one's newest key.
                let mut not_seen = lowest.map_or(planned.upper, |lowest| EventKey {
                    event_time_ms: lowest.event_time_ms,
                    lsn: lowest.lsn.saturating_sub(1),
                });
                if let Some(next) = plan.get(plan_idx + 1) {
                    not_seen = not_seen.max(next.upper);
                }
                if not_seen < high {
                    *cut = Some(cut.map_or(not_seen, |c| c.max(not_seen)));
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// The records of the page entries, in order: tail records as they are, segment records read (text
/// only) row group by row group.
async fn load_records(
    snapshot: &Snapshot,
    entries: Vec<(EventKey, Located)>,
) -> Result<Vec<Arc<EventRecord>>, Failure> {
    let mut wanted: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (_, located) in &entries {
        if let Located::Segment { segment, row_group, row } = located {
            wanted.entry((*segment, *row_group)).or_default().push(*row);
        }
    }
    let mut texts: BTreeMap<(usize, usize, usize), (u64, String)> = BTreeMap::new();
    for ((segment_idx, row_group), mut rows) in wanted {
        rows.sort_unstable();
        rows.dedup();
        let Some(segment) = snapshot.segments.get(segment_idx) else {
            return Err(Failure::Retry);
        };
        let records = segment.read_records(row_group, &rows).await.map_err(read_failure)?;
        texts.extend(rows.into_iter().zip(records).map(|(row, record)| ((segment_idx, row_group, row), record)));
    }
    let mut events = Vec::with_capacity(entries.len());
    for (key, located) in entries {
        match located {
            Located::Tail(record) => events.push(record),
            Located::Segment { segment, row_group, row } => {
                let Some((lsn, text)) = texts.remove(&(segment, row_group, row)) else {
                    return Err(Failure::Retry);
                };
                let parsed = EventRecord::parse(text.as_bytes());
                let Some(owner) = snapshot.segments.get(segment) else {
                    return Err(Failure::Retry);
                };
                match parsed {
                    Ok(record) if lsn == key.lsn => events.push(Arc::new(record)),
                    Ok(_) => {
                        return Err(read_failure(
                            owner.report_corrupt(format!("row {row} has lsn {lsn}, not {}", key.lsn)),
                        ));
                    }
                    Err(error) => return Err(read_failure(owner.report_corrupt(format!("row {row}: {error}")))),
                }
            }
        }
    }
    Ok(events)
}

fn read_failure(error: ReadError) -> Failure {
    match error {
        ReadError::Corrupt(_) | ReadError::Vanished => Failure::Retry,
        ReadError::Io(error) => Failure::Store(StoreError::Dataset(error)),
    }
}
