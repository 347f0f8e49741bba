//! The on-disk format of a WAL segment file: naming, header, record framing, and a sequential reader.
//!
//! # Format (version 1)
//!
//! A WAL is a directory of segment files. Each is named `wal-{first_lsn:020}.seg`: the LSN of its first
//! record, zero-padded to 20 digits, so that a sorted listing is in LSN order. Other file names in the
//! directory are ignored (the directory also holds a `LOCK` file).
//!
//! A segment starts with a 24-byte header, all integers little-endian:
//!
//! | offset | size | field                                      |
//! | ------ | ---- | ------------------------------------------ |
//! | 0      | 8    | magic `CAIRNWAL`                           |
//! | 8      | 4    | format version, `1`                        |
//! | 12     | 8    | LSN of the segment's first record          |
//! | 20     | 4    | CRC32C of bytes 0..20                      |
//!
//! Records follow back to back until the end of the file, each framed as:
//!
//! | offset | size | field                                             |
//! | ------ | ---- | ------------------------------------------------- |
//! | 0      | 4    | payload length `n` (at most [`MAX_PAYLOAD_BYTES`]) |
//! | 4      | 4    | CRC32C of the LSN bytes followed by the payload    |
//! | 8      | 8    | LSN                                               |
//! | 16     | n    | payload                                           |
//!
//! Records have consecutive LSNs, within a segment and across segments: a segment's first LSN is one
//! past the last record of the segment before it. A record never straddles two files. The length field
//! is not covered by the CRC directly, but a damaged length frames the wrong bytes, which then fail the
//! CRC (or claim more bytes than the file holds).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Lsn, WalError, io_error};

/// The 8 bytes every segment file starts with.
pub(crate) const MAGIC: &[u8; 8] = b"CAIRNWAL";
/// The format version this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Length of a segment header in bytes.
pub(crate) const HEADER_LEN: u64 = 24;
/// Length of a record's framing (length, CRC, LSN) in bytes.
pub(crate) const RECORD_HEADER_LEN: usize = 16;
/// The largest payload a record may carry. Events are at most 256 KB (design.md §2, "Bounded
/// everything"); the margin allows for a small envelope around one.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

const SEGMENT_PREFIX: &str = "wal-";
const SEGMENT_SUFFIX: &str = ".seg";
const SEGMENT_DIGITS: usize = 20;

/// One segment file of the WAL, as the WAL knows it while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentEntry {
    pub(crate) first_lsn: Lsn,
    pub(crate) path: PathBuf,
}

/// The file name of the segment whose first record is `first_lsn`.
pub(crate) fn segment_file_name(first_lsn: Lsn) -> String {
    format!("{SEGMENT_PREFIX}{:0width$}{SEGMENT_SUFFIX}", first_lsn.0, width = SEGMENT_DIGITS)
}

/// Parses a segment file name: `None` if `name` is not a segment's name at all, `Some(Err)` if it looks
/// like one but its number is malformed (never silently ignored).
fn parse_segment_file_name(name: &str) -> Option<Result<Lsn, String>> {
    let digits = name.strip_prefix(SEGMENT_PREFIX)?.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != SEGMENT_DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(Err(format!("malformed segment file name {name:?}")));
    }
    Some(digits.parse::<u64>().map(Lsn).map_err(|error| format!("segment file name {name:?}: {error}")))
}

/// Every segment file in `dir`, in LSN order.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<SegmentEntry>, WalError> {
    let mut segments = Vec::new();
    for dir_entry in std::fs::read_dir(dir).map_err(|error| io_error(dir, error))? {
        let dir_entry = dir_entry.map_err(|error| io_error(dir, error))?;
        let file_name = dir_entry.file_name();
        let Some(name) = file_name.to_str() else { continue };
        match parse_segment_file_name(name) {
            None => {}
            Some(Ok(first_lsn)) => segments.push(SegmentEntry { first_lsn, path: dir_entry.path() }),
            Some(Err(reason)) => return Err(WalError::Corrupt { segment: dir_entry.path(), offset: 0, reason }),
        }
    }
    segments.sort_by_key(|segment| segment.first_lsn);
    Ok(segments)
}

/// The header of a segment whose first record is `first_lsn`.
pub(crate) fn encode_header(first_lsn: Lsn) -> Vec<u8> {
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&first_lsn.0.to_le_bytes());
    let crc = crc32c::crc32c(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header
}

/// Checks a segment header and returns the first LSN it declares.
pub(crate) fn decode_header(header: &[u8; HEADER_LEN as usize]) -> Result<Lsn, String> {
    let mut rest: &[u8] = header;
    let magic = take::<8>(&mut rest);
    let version = take::<4>(&mut rest).map(u32::from_le_bytes);
    let first_lsn = take::<8>(&mut rest).map(u64::from_le_bytes);
    let stored_crc = take::<4>(&mut rest).map(u32::from_le_bytes);
    let (Some(magic), Some(version), Some(first_lsn), Some(stored_crc)) = (magic, version, first_lsn, stored_crc)
    else {
        return Err("segment header is too short".to_owned());
    };
    if &magic != MAGIC {
        return Err("segment header does not start with the magic CAIRNWAL".to_owned());
    }
    let computed_crc = header.split_first_chunk::<20>().map(|(covered, _)| crc32c::crc32c(covered));
    if computed_crc != Some(stored_crc) {
        return Err("segment header checksum mismatch".to_owned());
    }
    if version != FORMAT_VERSION {
        return Err(format!("unsupported segment format version {version} (this build reads {FORMAT_VERSION})"));
    }
    Ok(Lsn(first_lsn))
}

/// The CRC32C stored in a record: over the LSN's little-endian bytes, then the payload.
pub(crate) fn record_crc(lsn: Lsn, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.0.to_le_bytes()), payload)
}

/// Appends a record's framing to `out`; the payload itself follows it.
pub(crate) fn encode_record_header(lsn: Lsn, payload: &[u8], out: &mut Vec<u8>) {
    debug_assert!(payload.len() <= MAX_PAYLOAD_BYTES, "callers check the payload length first");
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&record_crc(lsn, payload).to_le_bytes());
    out.extend_from_slice(&lsn.0.to_le_bytes());
}

/// A record's framing, parsed but not yet checked against its payload.
struct RecordHeader {
    payload_len: usize,
    crc: u32,
    lsn: Lsn,
}

fn parse_record_header(bytes: &[u8]) -> Option<RecordHeader> {
    let mut rest = bytes;
    let payload_len = u32::from_le_bytes(take::<4>(&mut rest)?);
    let crc = u32::from_le_bytes(take::<4>(&mut rest)?);
    let lsn = Lsn(u64::from_le_bytes(take::<8>(&mut rest)?));
    Some(RecordHeader { payload_len: usize::try_from(payload_len).ok()?, crc, lsn })
}

/// Takes the first `N` bytes off `rest`.
fn take<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    let (head, tail) = rest.split_first_chunk::<N>()?;
    *rest = tail;
    Some(*head)
}

/// Creates the segment file for `first_lsn` in `dir` and makes it durable: the header is written and the
/// file and the directory are fsynced, so that a crash can leave the file only complete or absent (or,
/// if the crash hits before the fsync, shorter than its header, which recovery removes).
pub(crate) fn create_segment(dir: &Path, first_lsn: Lsn) -> Result<(File, PathBuf), WalError> {
    let path = dir.join(segment_file_name(first_lsn));
    let mut file =
        OpenOptions::new().append(true).create_new(true).open(&path).map_err(|error| io_error(&path, error))?;
    file.write_all(&encode_header(first_lsn)).map_err(|error| io_error(&path, error))?;
    file.sync_all().map_err(|error| io_error(&path, error))?;
    sync_dir(dir)?;
    Ok((file, path))
}

/// Fsyncs a directory, making file creations and removals in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir).and_then(|handle| handle.sync_all()).map_err(|error| io_error(dir, error))
}

/// Why a record could not be read.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// The bytes at `offset` are not a whole, intact record.
    Bad {
        offset: u64,
        reason: String,
    },
    Io(io::Error),
}

/// Reads a segment file front to back. It trusts nothing it reads: every length is checked against
/// [`MAX_PAYLOAD_BYTES`] before anything is allocated, and every record against its CRC.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    reader: BufReader<File>,
    path: PathBuf,
    // Offset in the file of the next unread byte; the start of the next record once the header is read.
    offset: u64,
}

/// What reading a segment header found.
pub(crate) enum HeaderRead {
    /// A valid header declaring this first LSN.
    Valid(Lsn),
    /// The file ends before a whole header: it holds this many bytes.
    Short(u64),
}

impl SegmentReader {
    pub(crate) fn open(path: &Path) -> Result<SegmentReader, WalError> {
        let file = File::open(path).map_err(|error| io_error(path, error))?;
        Ok(SegmentReader { reader: BufReader::with_capacity(256 * 1024, file), path: path.to_owned(), offset: 0 })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Offset of the next record; after a clean end of file, the length of the valid part of the file.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads and checks the header; must be called first.
    pub(crate) fn read_header(&mut self) -> Result<HeaderRead, WalError> {
        let mut header = [0u8; HEADER_LEN as usize];
        let n_read = read_full(&mut self.reader, &mut header).map_err(|error| io_error(&self.path, error))?;
        if n_read < header.len() {
            return Ok(HeaderRead::Short(n_read as u64));
        }
        self.offset = HEADER_LEN;
        decode_header(&header).map(HeaderRead::Valid).map_err(|reason| WalError::Corrupt {
            segment: self.path.clone(),
            offset: 0,
            reason,
        })
    }

    /// Reads the next record into `payload` and returns its LSN, or `None` at a clean end of file.
    pub(crate) fn next_record(&mut self, payload: &mut Vec<u8>) -> Result<Option<Lsn>, RecordError> {
        let offset = self.offset;
        let bad = |reason: String| RecordError::Bad { offset, reason };
        let mut header_bytes = [0u8; RECORD_HEADER_LEN];
        let n_read = read_full(&mut self.reader, &mut header_bytes).map_err(RecordError::Io)?;
        if n_read == 0 {
            return Ok(None);
        }
        let header = match parse_record_header(&header_bytes) {
            Some(header) if n_read == RECORD_HEADER_LEN => header,
            _ => return Err(bad(format!("partial record header: {n_read} of {RECORD_HEADER_LEN} bytes"))),
        };
        if header.payload_len > MAX_PAYLOAD_BYTES {
            return Err(bad(format!(
                "record length {} exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes",
                header.payload_len
            )));
        }
        payload.clear();
        let n_payload =
            (&mut self.reader).take(header.payload_len as u64).read_to_end(payload).map_err(RecordError::Io)?;
        if n_payload < header.payload_len {
            return Err(bad(format!(
                "incomplete record: its header claims {} payload bytes, the file holds {n_payload}",
                header.payload_len
            )));
        }
        if record_crc(header.lsn, payload) != header.crc {
            return Err(bad(format!("record checksum mismatch (lsn field {})", header.lsn)));
        }
        self.offset += (RECORD_HEADER_LEN + header.payload_len) as u64;
        Ok(Some(header.lsn))
    }

    /// Continues reading at `offset`, the start of a record found by an earlier read of this segment.
    pub(crate) fn seek_to(&mut self, offset: u64) -> Result<(), WalError> {
        self.reader.seek(SeekFrom::Start(offset)).map_err(|error| io_error(&self.path, error))?;
        self.offset = offset;
        Ok(())
    }

    /// Reads at most `max_bytes` from `offset` to the end of the file.
    pub(crate) fn read_rest_from(&mut self, offset: u64, max_bytes: u64) -> Result<Vec<u8>, WalError> {
        let mut rest = Vec::new();
        self.reader.seek(SeekFrom::Start(offset)).map_err(|error| io_error(&self.path, error))?;
        (&mut self.reader).take(max_bytes).read_to_end(&mut rest).map_err(|error| io_error(&self.path, error))?;
        Ok(rest)
    }
}

/// The offset in `bytes` (past 0) of the first intact record with an LSN in `lsn_at_least..`, if any.
///
/// Recovery uses this to tell a torn tail (a damaged record with nothing intact after it) from damage in
/// the middle of the log. The LSN bound keeps the scan cheap: at nearly every offset the bytes are
/// not a plausible framing, so the CRC is rarely computed.
pub(crate) fn find_intact_record(bytes: &[u8], lsn_at_least: Lsn) -> Option<usize> {
    let max_n_records = (bytes.len() / RECORD_HEADER_LEN) as u64;
    (1..bytes.len()).find(|&start| {
        let Some(candidate) = bytes.get(start..) else { return false };
        let Some(header) = parse_record_header(candidate) else { return false };
        let plausible_lsn = header.lsn >= lsn_at_least && header.lsn.0 - lsn_at_least.0 <= max_n_records;
        if !plausible_lsn || header.payload_len > MAX_PAYLOAD_BYTES {
            return false;
        }
        let payload = candidate.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + header.payload_len);
        payload.is_some_and(|payload| record_crc(header.lsn, payload) == header.crc)
    })
}

/// Reads until `buf` is full or the end of the file; returns the number of bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n_read = 0;
    while let Some(unfilled) = buf.get_mut(n_read..) {
        if unfilled.is_empty() {
            break;
        }
        match reader.read(unfilled) {
            Ok(0) => break,
            Ok(n) => n_read += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(n_read)
}
