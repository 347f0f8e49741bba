//! Reading records back in LSN order while the writer keeps appending.
//!
//! A replay reads the segment files through its own file handles, up to the durable end it saw when it
//! started: every record below that end is wholly written, so it never meets a record being written.
//! Damage below that end is [`WalError::Corrupt`]; recovery has already cut any torn tail.

use std::ops::ControlFlow;
use std::path::PathBuf;

use super::segment::{HeaderRead, RecordError, SegmentEntry, SegmentReader};
use super::{Lsn, ReadPosition, WalError, io_error};

/// Opens every segment that may hold records in `from..end`. The caller holds the segment-list lock,
/// so no segment can be removed between listing and opening; an open file stays readable after
/// [`super::Wal::remove_segments_before`] unlinks it.
pub(crate) fn open_segments(
    segments: &[SegmentEntry],
    from: Lsn,
    end: Lsn,
) -> Result<Vec<(SegmentEntry, SegmentReader)>, WalError> {
    if let Some(first) = segments.first()
        && first.first_lsn > from
    {
        return Err(WalError::NotRetained { from, first_retained: first.first_lsn });
    }
    let mut readers = Vec::new();
    for (segment_idx, entry) in segments.iter().enumerate() {
        let successor_first = segments.get(segment_idx + 1).map(|successor| successor.first_lsn);
        let ends_before_from = successor_first.is_some_and(|successor_first| successor_first <= from);
        if ends_before_from || entry.first_lsn >= end {
            continue;
        }
        readers.push((entry.clone(), SegmentReader::open(&entry.path)?));
    }
    Ok(readers)
}

/// Calls `visit` for every record in `from..end`, in LSN order, checking framing and continuity, until
/// `visit` breaks (after the record it was given). Returns the LSN after the last record visited and
/// where reading stopped. A `start` from an earlier read of the same segment at or before `from` skips
/// the records before it instead of reading them again.
pub(crate) fn visit_records(
    readers: Vec<(SegmentEntry, SegmentReader)>,
    from: Lsn,
    end: Lsn,
    start: Option<ReadPosition>,
    visit: &mut impl FnMut(Lsn, &[u8]) -> Result<ControlFlow<()>, WalError>,
) -> Result<(Lsn, Option<ReadPosition>), WalError> {
    let mut payload = Vec::new();
    let mut position: Option<(PathBuf, u64, Lsn)> = None;
    let mut last = None;
    for (entry, mut reader) in readers {
        let corrupt = |offset: u64, reason: String| WalError::Corrupt { segment: entry.path.clone(), offset, reason };
        match reader.read_header()? {
            HeaderRead::Valid(first_lsn) if first_lsn == entry.first_lsn => {}
            HeaderRead::Valid(first_lsn) => {
                let reason = format!("header says the first lsn is {first_lsn}, the file name {}", entry.first_lsn);
                return Err(corrupt(0, reason));
            }
            HeaderRead::Short(file_len) => {
                return Err(corrupt(0, format!("file of {file_len} bytes is shorter than its header")));
            }
        }
        if let Some((_, _, expected)) = &position
            && *expected != entry.first_lsn
        {
            let reason =
                format!("segment starts at lsn {}, but the previous one ends before {expected}", entry.first_lsn);
            return Err(corrupt(0, reason));
        }
        let mut next_lsn = entry.first_lsn;
        if let Some(start) = start.filter(|s| s.segment == entry.first_lsn && s.lsn <= from && s.lsn >= next_lsn) {
            reader.seek_to(start.offset)?;
            next_lsn = start.lsn;
        }
        while next_lsn < end {
            let record_offset = reader.offset();
            match reader.next_record(&mut payload) {
                Ok(Some(lsn)) if lsn == next_lsn => {
                    next_lsn = next_lsn.next();
                    if lsn >= from && visit(lsn, &payload)?.is_break() {
                        let here = ReadPosition { segment: entry.first_lsn, offset: reader.offset(), lsn: next_lsn };
                        return Ok((next_lsn, Some(here)));
                    }
                }
                Ok(Some(lsn)) => {
                    return Err(corrupt(record_offset, format!("record has lsn {lsn}, expected {next_lsn}")));
                }
                Ok(None) => break,
                Err(RecordError::Bad { offset, reason }) => return Err(corrupt(offset, reason)),
                Err(RecordError::Io(error)) => return Err(io_error(&entry.path, error)),
            }
        }
        position = Some((entry.path.clone(), reader.offset(), next_lsn));
        last = Some(ReadPosition { segment: entry.first_lsn, offset: reader.offset(), lsn: next_lsn });
    }
    match position {
        Some((segment, offset, reached)) if reached < end => Err(WalError::Corrupt {
            segment,
            offset,
            reason: format!("the log ends before lsn {reached}, but everything before {end} is durable"),
        }),
        _ => Ok((end, last)),
    }
}
