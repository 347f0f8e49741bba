//! Opening a WAL directory: checks every segment, cuts a torn tail, and finds where appending resumes.
//!
//! The rules (design.md §2: "a torn tail record is detected by its checksum and cut off, never
//! trusted"; style.md §3.3: unlike influxdb, never skip a damaged file):
//!
//! - Every segment must have a valid header naming the LSN in its file name, and records must carry
//!   consecutive LSNs within and across segments. Anything else is [`WalError::Corrupt`].
//! - Only the *last* segment may end in a torn tail: a record that is incomplete or fails its CRC, with
//!   no intact record anywhere after it. The file is truncated at that record's start and fsynced, and
//!   the cut is reported. A damaged record followed by an intact one is corruption, not a torn write.
//! - A last segment shorter than its header was being created when the process died (creation fsyncs
//!   the header before any record goes in), so it is removed. The segment before it was fsynced before
//!   its successor was created, so it must then be intact to its end.

use std::fs::{self, OpenOptions};
use std::path::Path;

use super::segment::{
    HEADER_LEN, HeaderRead, MAX_PAYLOAD_BYTES, RECORD_HEADER_LEN, RecordError, SegmentEntry, SegmentReader,
    find_intact_record, list_segments, sync_dir,
};
use super::{DEFAULT_SEGMENT_MAX_BYTES, Lsn, TornTail, WalError, io_error};

#[cfg(test)]
mod tests;

/// What recovery found, with the directory repaired so that appending can resume.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Every remaining segment, in LSN order.
    pub(crate) segments: Vec<SegmentEntry>,
    pub(crate) next_lsn: Lsn,
    pub(crate) n_records: u64,
    pub(crate) torn_tail: Option<TornTail>,
    /// The segment to resume appending to; `None` exactly when `segments` is empty.
    pub(crate) last_segment: Option<LastSegment>,
}

/// The newest segment's valid extent.
#[derive(Debug)]
pub(crate) struct LastSegment {
    pub(crate) entry: SegmentEntry,
    pub(crate) n_bytes: u64,
    pub(crate) n_records: u64,
}

/// Whether a segment's tail may be torn (and so be cut) or must be intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TailPolicy {
    MayBeTorn,
    MustBeIntact,
}

/// Checks and repairs the WAL in `dir`; see the module doc for the rules.
pub(crate) fn recover(dir: &Path, segment_max_bytes: u64) -> Result<Recovered, WalError> {
    let mut segments = list_segments(dir)?;
    let mut torn_tail = None;
    let mut next_lsn = Lsn(0);
    let mut last_policy = TailPolicy::MayBeTorn;
    if let Some(last) = segments.last() {
        let file_len = fs::metadata(&last.path).map_err(|error| io_error(&last.path, error))?.len();
        if file_len < HEADER_LEN {
            fs::remove_file(&last.path).map_err(|error| io_error(&last.path, error))?;
            sync_dir(dir)?;
            let reason = format!("segment file of {file_len} bytes is shorter than its header; removed it");
            tracing::warn!(segment = %last.path.display(), %reason, "cut a torn tail off the wal");
            torn_tail = Some(TornTail { segment: last.path.clone(), offset: 0, bytes_cut: file_len, reason });
            next_lsn = last.first_lsn;
            segments.pop();
            last_policy = TailPolicy::MustBeIntact;
        }
    }

    // A torn tail is at most the unsynced part of one segment, which never exceeds a segment's size
    // (with a margin in case the configured size shrank since the files were written).
    let max_torn_bytes =
        segment_max_bytes.max(DEFAULT_SEGMENT_MAX_BYTES) + (RECORD_HEADER_LEN + MAX_PAYLOAD_BYTES) as u64;
    let mut n_records = 0;
    let mut last_segment = None;
    let mut expected_first = None;
    let n_segments = segments.len();
    for (segment_idx, entry) in segments.iter().enumerate() {
        let policy = if segment_idx + 1 == n_segments { last_policy } else { TailPolicy::MustBeIntact };
        let scan = scan_segment(entry, expected_first, policy, max_torn_bytes)?;
        n_records += scan.n_records;
        next_lsn = scan.next_lsn;
        expected_first = Some(scan.next_lsn);
        if scan.torn_tail.is_some() {
            torn_tail = scan.torn_tail;
        }
        last_segment = Some(LastSegment { entry: entry.clone(), n_bytes: scan.valid_len, n_records: scan.n_records });
    }
    Ok(Recovered { segments, next_lsn, n_records, torn_tail, last_segment })
}

/// One segment's valid content.
#[derive(Debug)]
struct SegmentScan {
    next_lsn: Lsn,
    n_records: u64,
    valid_len: u64,
    torn_tail: Option<TornTail>,
}

fn scan_segment(
    entry: &SegmentEntry,
    expected_first: Option<Lsn>,
    policy: TailPolicy,
    max_torn_bytes: u64,
) -> Result<SegmentScan, WalError> {
    let corrupt = |offset: u64, reason: String| WalError::Corrupt { segment: entry.path.clone(), offset, reason };
    let mut reader = SegmentReader::open(&entry.path)?;
    let first_lsn = match reader.read_header()? {
        HeaderRead::Valid(first_lsn) => first_lsn,
        HeaderRead::Short(file_len) => {
            return Err(corrupt(0, format!("file of {file_len} bytes is shorter than the {HEADER_LEN}-byte header")));
        }
    };
    if first_lsn != entry.first_lsn {
        return Err(corrupt(0, format!("header says the first lsn is {first_lsn}, the file name {}", entry.first_lsn)));
    }
    if let Some(expected) = expected_first
        && first_lsn != expected
    {
        return Err(corrupt(
            0,
            format!("segment starts at lsn {first_lsn}, but the previous one ends before {expected}"),
        ));
    }

    let mut next_lsn = first_lsn;
    let mut n_records = 0;
    let mut payload = Vec::new();
    loop {
        let record_offset = reader.offset();
        match reader.next_record(&mut payload) {
            Ok(None) => return Ok(SegmentScan { next_lsn, n_records, valid_len: reader.offset(), torn_tail: None }),
            Ok(Some(lsn)) if lsn == next_lsn => {
                next_lsn = next_lsn.next();
                n_records += 1;
            }
            Ok(Some(lsn)) => return Err(corrupt(record_offset, format!("record has lsn {lsn}, expected {next_lsn}"))),
            Err(RecordError::Io(error)) => return Err(io_error(&entry.path, error)),
            Err(RecordError::Bad { offset, reason }) => {
                if policy == TailPolicy::MustBeIntact {
                    return Err(corrupt(offset, reason));
                }
                let torn_tail = cut_torn_tail(&mut reader, offset, next_lsn, reason, max_torn_bytes)?;
                return Ok(SegmentScan { next_lsn, n_records, valid_len: offset, torn_tail: Some(torn_tail) });
            }
        }
    }
}

/// Truncates the last segment at the damaged record at `offset`, unless an intact record follows it.
fn cut_torn_tail(
    reader: &mut SegmentReader,
    offset: u64,
    next_lsn: Lsn,
    reason: String,
    max_torn_bytes: u64,
) -> Result<TornTail, WalError> {
    let path = reader.path().to_owned();
    let file_len = fs::metadata(&path).map_err(|error| io_error(&path, error))?.len();
    let bytes_cut = file_len.saturating_sub(offset);
    if bytes_cut > max_torn_bytes {
        let reason = format!("{reason}; {bytes_cut} bytes follow, more than a torn write can leave");
        return Err(WalError::Corrupt { segment: path, offset, reason });
    }
    let rest = reader.read_rest_from(offset, max_torn_bytes)?;
    if let Some(intact_idx) = find_intact_record(&rest, next_lsn) {
        let reason = format!("{reason}; an intact record follows at offset {}", offset + intact_idx as u64);
        return Err(WalError::Corrupt { segment: path, offset, reason });
    }

    let file = OpenOptions::new().write(true).open(&path).map_err(|error| io_error(&path, error))?;
    file.set_len(offset).map_err(|error| io_error(&path, error))?;
    file.sync_all().map_err(|error| io_error(&path, error))?;
    tracing::warn!(segment = %path.display(), offset, bytes_cut, %reason, "cut a torn tail off the wal");
    Ok(TornTail { segment: path, offset, bytes_cut, reason })
}
