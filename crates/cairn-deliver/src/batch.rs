//! Cutting a batch: reading a trail's range of the write-ahead log into log files.
//!
//! A batch is a pure function of (the log range, the trail as snapshotted, whether it was logging at
//! the start, the organization's accounts), so redoing one after a crash yields the same files. The
//! trail's own StartLogging, StopLogging and DeleteTrail events switch logging on and off at their
//! place in the log: a StopLogging event is the last one delivered, a StartLogging event the first.

use std::ops::ControlFlow;

use cairn_model::event::EventRecord;
use cairn_select::{TrailScope, event_owner_account, trail_takes, trail_takes_insight};
use cairn_store::StoreError;
use cairn_store::events::EventStore;
use cairn_store::records::TrailRecord;
use cairn_store::wal::{Lsn, ReadPosition};
use jiff::Timestamp;

/// Largest uncompressed log file: gzip never grows JSON past this, so files stay under AWS's 50 MB.
pub const MAX_FILE_BYTES: usize = 48 * 1024 * 1024;
/// Largest uncompressed batch held in memory.
pub const MAX_BATCH_BYTES: usize = 128 * 1024 * 1024;

const OPEN: &[u8] = b"{\"Records\":[";
const CLOSE: &[u8] = b"]}";

/// What a batch reads with.
#[derive(Debug, Clone, Copy)]
pub struct BatchInput<'a> {
    pub trail: &'a TrailRecord,
    pub organization_accounts: Option<&'a [String]>,
    pub from: Lsn,
    /// Read up to here (exclusive) or until the batch is full.
    pub end: Lsn,
    pub logging: bool,
    /// Where this trail's previous read stopped, if it is to go on from there.
    pub position: Option<ReadPosition>,
    pub max_batch_bytes: usize,
    pub max_file_bytes: usize,
}

/// The log files of one batch and how the trail's state changed within it.
#[derive(Debug, Default)]
pub struct Batch {
    /// The next LSN after the batch.
    pub end: Lsn,
    /// Where the read stopped (for the next batch's [`BatchInput::position`]).
    pub position: Option<ReadPosition>,
    pub files: Vec<LogFile>,
    /// Whether the trail logs after the batch.
    pub logging_after: bool,
    /// The trail's StopLogging (or DeleteTrail) event is in the batch: its digest chains end.
    pub stopped: bool,
    pub deleted: bool,
}

impl Batch {
    pub fn n_events(&self) -> usize {
        self.files.iter().map(|f| f.n_events).sum()
    }
}

/// One log file being built: `{"Records":[…]}` for one account and region.
#[derive(Debug)]
pub struct LogFile {
    pub account_id: String,
    pub region: String,
    /// Which file of this account and region in the batch (a batch may need several).
    pub part: usize,
    pub body: Vec<u8>,
    pub n_events: usize,
    pub newest: Timestamp,
    pub oldest: Timestamp,
    /// Insights events, for the `CloudTrail-Insight/` folder (and no digest).
    pub insight: bool,
    /// Where each record sits in `body`, with its event time (log streaming sends records one by one).
    pub records: Vec<RecordSpan>,
}

/// One record of a [`LogFile`]: `body[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    pub start: usize,
    pub end: usize,
    pub event_time: Timestamp,
}

impl LogFile {
    /// The file's records, each with its event time.
    pub fn record_texts(&self) -> impl Iterator<Item = (&[u8], Timestamp)> {
        self.records.iter().map(|span| (&self.body[span.start..span.end], span.event_time))
    }
}

impl LogFile {
    fn new(account_id: &str, region: &str, part: usize, time: Timestamp, insight: bool) -> LogFile {
        LogFile {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            insight,
            part,
            body: OPEN.to_vec(),
            n_events: 0,
            newest: time,
            oldest: time,
            records: Vec::new(),
        }
    }

    fn push(&mut self, text: &[u8], time: Timestamp) {
        if self.n_events > 0 {
            self.body.push(b',');
        }
        let start = self.body.len();
        self.body.extend_from_slice(text);
        self.records.push(RecordSpan { start, end: self.body.len(), event_time: time });
        self.n_events += 1;
        self.newest = self.newest.max(time);
        self.oldest = self.oldest.min(time);
    }

    /// Closes the record array: the body is then the file's uncompressed bytes. Called once.
    fn finish(&mut self) {
        self.body.extend_from_slice(CLOSE);
    }
}

/// How an event concerns the trail's own lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Start,
    Stop,
    Delete,
}

fn control(record: &EventRecord, trail_arn: &str) -> Option<Control> {
    let fields = record.fields();
    if fields.event_source != "cloudtrail.amazonaws.com" || fields.error_code.is_some() {
        return None;
    }
    let control = match fields.event_name.as_str() {
        "StartLogging" => Control::Start,
        "StopLogging" => Control::Stop,
        "DeleteTrail" => Control::Delete,
        _ => return None,
    };
    fields.resources.iter().any(|r| r.arn.as_deref() == Some(trail_arn)).then_some(control)
}

/// Reads `input.from..input.end` (or less, once the batch is full) into log files.
pub fn read_batch(events: &EventStore, input: &BatchInput<'_>) -> Result<Batch, StoreError> {
    let trail = input.trail;
    let trail_arn = trail.arn();
    let scope = TrailScope {
        account_id: &trail.account_id,
        home_region: &trail.home_region,
        is_multi_region: trail.is_multi_region_trail,
        include_global_service_events: trail.include_global_service_events,
        organization_accounts: input.organization_accounts,
        selectors: &trail.selectors,
    };
    let insight_types: Vec<&str> =
        trail.insight_selectors.iter().filter_map(|selector| selector.insight_type.as_deref()).collect();
    let mut batch = Batch { logging_after: input.logging, ..Batch::default() };
    // Files still open, by (account, region); closed ones move to `batch.files`.
    let mut open: Vec<LogFile> = Vec::new();
    let mut n_bytes = 0usize;
    let mut logging = input.logging;
    let mut deleted = false;
    let (end, position) = events.read_log(input.from, input.end, input.position, |_, payload| {
        if deleted {
            return ControlFlow::Continue(());
        }
        // A trail that is not logging only looks for its StartLogging event; skip the parse otherwise.
        if !logging && memchr::memmem::find(payload, b"StartLogging").is_none() {
            return ControlFlow::Continue(());
        }
        let Ok(record) = EventRecord::parse(payload) else {
            tracing::error!(trail = %trail_arn, "unreadable event in the write-ahead log; not delivered");
            return ControlFlow::Continue(());
        };
        let control = control(&record, &trail_arn);
        if control == Some(Control::Start) {
            logging = true;
        }
        let insight =
            logging && !insight_types.is_empty() && trail_takes_insight(&scope, &trail_arn, &insight_types, &record);
        if logging && (insight || trail_takes(&scope, &record)) {
            let fields = record.fields();
            let account = event_owner_account(fields).unwrap_or(&trail.account_id);
            let region = fields.aws_region.as_str();
            let text = record.text().as_bytes();
            let fits = |file: &LogFile| file.body.len() + text.len() + CLOSE.len() < input.max_file_bytes;
            let idx =
                match open.iter().position(|f| f.account_id == account && f.region == region && f.insight == insight) {
                    Some(idx) if fits(&open[idx]) => idx,
                    Some(idx) => {
                        let mut full = open.swap_remove(idx);
                        full.finish();
                        let part = full.part + 1;
                        batch.files.push(full);
                        open.push(LogFile::new(account, region, part, fields.event_time, insight));
                        open.len() - 1
                    }
                    None => {
                        open.push(LogFile::new(account, region, 0, fields.event_time, insight));
                        open.len() - 1
                    }
                };
            open[idx].push(text, fields.event_time);
            n_bytes += text.len() + 1;
        }
        match control {
            Some(Control::Stop) if logging => {
                logging = false;
                batch.stopped = true;
            }
            Some(Control::Delete) => {
                logging = false;
                deleted = true;
                batch.stopped = true;
                batch.deleted = true;
            }
            _ => {}
        }
        if n_bytes >= input.max_batch_bytes { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    for mut file in open {
        file.finish();
        batch.files.push(file);
    }
    // Files in a stable order: by account, region, kind and part.
    batch.files.sort_by(|a, b| {
        (&a.account_id, &a.region, a.insight, a.part).cmp(&(&b.account_id, &b.region, b.insight, b.part))
    });
    batch.end = end;
    batch.position = position;
    batch.logging_after = logging;
    Ok(batch)
}

#[cfg(test)]
mod tests;
