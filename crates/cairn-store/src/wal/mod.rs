//! The write-ahead log: every accepted event is in an fsynced record here before its caller is answered.
//!
//! [`Wal::append_durable`] hands payloads to a dedicated writer thread (`writer.rs`) that group-commits:
//! everything queued while the previous fdatasync ran is written and synced together, and then every
//! waiter gets the [`Lsn`] range of its records. Records live in segment files (`segment.rs` documents
//! the format) framed with CRC32C. [`Wal::open`] checks the whole log and cuts a torn tail
//! (`recovery.rs`); [`Wal::replay`] reads records back in order for consumers (`replay.rs`), and
//! [`Wal::remove_segments_before`] drops segments whose records are persisted elsewhere.
//!
//! Invariants: an acknowledged record is durable and is never cut by recovery; LSNs are consecutive;
//! damage anywhere but the tail of the last segment is reported as [`WalError::Corrupt`], never skipped.
//! One process at a time opens a WAL directory (a `LOCK` file holds an advisory lock). Tests: `tests.rs`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod holds;
mod recovery;
mod replay;
mod segment;
mod writer;

#[cfg(test)]
mod tests;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub use holds::WalHolds;
pub use segment::MAX_PAYLOAD_BYTES;
use segment::{HEADER_LEN, SegmentEntry, create_segment, sync_dir};
use writer::{ActiveSegment, AppendRequest, Command, Writer};

/// Default size at which a new segment is started.
pub const DEFAULT_SEGMENT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default cap on the records written under one fsync.
pub const DEFAULT_MAX_BATCH_RECORDS: usize = 10_000;

/// Log sequence number: the position of a record in the WAL. The first record of a new WAL is `Lsn(0)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Lsn(pub u64);

impl Lsn {
    /// The LSN after this one.
    pub fn next(self) -> Lsn {
        Lsn(self.0 + 1)
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// Where a read of the log stopped: the segment, the byte offset of the next record in it, and that
/// record's LSN. Only meaningful to the [`Wal`] that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPosition {
    segment: Lsn,
    offset: u64,
    lsn: Lsn,
}

/// Where the WAL lives and how it cuts segments and batches.
#[derive(Debug, Clone)]
pub struct WalConfig {
    pub dir: PathBuf,
    /// A new segment is started before a record that would take the current one past this size.
    pub segment_max_bytes: u64,
    /// At most this many records are written under one fsync (a single larger request is not split).
    pub max_batch_records: usize,
}

impl WalConfig {
    pub fn new(dir: impl Into<PathBuf>) -> WalConfig {
        WalConfig {
            dir: dir.into(),
            segment_max_bytes: DEFAULT_SEGMENT_MAX_BYTES,
            max_batch_records: DEFAULT_MAX_BATCH_RECORDS,
        }
    }

    /// Tiny segments and batches, so that tests exercise rollover and batch splitting.
    pub fn test_config(dir: impl Into<PathBuf>) -> WalConfig {
        WalConfig { dir: dir.into(), segment_max_bytes: 4 * 1024, max_batch_records: 64 }
    }
}

/// What [`Wal::open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Records in the log after recovery.
    pub n_records: u64,
    /// The LSN the next appended record gets.
    pub next_lsn: Lsn,
    /// The unacknowledged tail that was cut off, if any.
    pub torn_tail: Option<TornTail>,
}

/// A torn tail cut off the last segment: bytes of a write that never completed its fsync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub segment: PathBuf,
    /// The file was truncated to this length (0: the segment file was removed).
    pub offset: u64,
    pub bytes_cut: u64,
    pub reason: String,
}

/// A failure of the WAL. Every variant but `RecordTooLarge` means the WAL cannot take the event.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("wal io: {0}")]
    Io(#[from] io::Error),
    #[error("wal segment {} is corrupt at offset {offset}: {reason}", segment.display())]
    Corrupt { segment: PathBuf, offset: u64, reason: String },
    #[error("wal record of {len} bytes exceeds the maximum of {max} bytes")]
    RecordTooLarge { len: usize, max: usize },
    #[error("wal is closed")]
    Closed,
    /// A write or fsync failed; the WAL refuses every append until it is reopened.
    #[error("wal refuses appends after a failed write: {reason}")]
    Failed { reason: String },
    /// A replay asked for records in segments already removed.
    #[error("wal records from lsn {from} were removed; the oldest retained is {first_retained}")]
    NotRetained { from: Lsn, first_retained: Lsn },
}

/// An I/O error with the path it concerns in its message.
fn io_error(path: &Path, error: io::Error) -> WalError {
    WalError::Io(io::Error::new(error.kind(), format!("{}: {error}", path.display())))
}

/// State shared by [`Wal`] handles and the writer thread.
#[derive(Debug)]
struct Shared {
    // Invariant: every segment file of the WAL, in LSN order, never empty while the WAL is open.
    segments: Mutex<Vec<SegmentEntry>>,
    // Invariant: every record below this LSN is fsynced; it only grows.
    durable_next_lsn: AtomicU64,
    n_syncs: AtomicU64,
    failure: Mutex<Option<String>>,
}

impl Shared {
    fn lock_segments(&self) -> MutexGuard<'_, Vec<SegmentEntry>> {
        // Each change to the list is a single push or drain, so a panic elsewhere cannot leave it half-done.
        self.segments.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn set_failure(&self, reason: String) {
        *self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
    }
}

/// The write-ahead log. `Send + Sync`: share it through an `Arc`. Dropping it closes it.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    closed: AtomicBool,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    // Held for the advisory lock on the directory; released when the WAL is dropped.
    _lock_file: File,
}

/// An append handed to the writer, or answered without it.
enum Submission {
    Done(Range<Lsn>),
    Queued(oneshot::Receiver<Result<Range<Lsn>, WalError>>),
}

impl Wal {
    /// Opens (creating if needed) the WAL in `config.dir`, checks every segment and cuts a torn tail,
    /// then starts the writer thread.
    pub fn open(config: WalConfig) -> Result<(Wal, Recovery), WalError> {
        let dir = config.dir.clone();
        fs::create_dir_all(&dir).map_err(|error| io_error(&dir, error))?;
        let lock_file = lock_dir(&dir)?;
        let recovered = recovery::recover(&dir, config.segment_max_bytes)?;
        let mut segments = recovered.segments;
        let active = match recovered.last_segment {
            Some(last) => {
                let path = last.entry.path;
                let file = OpenOptions::new().append(true).open(&path).map_err(|error| io_error(&path, error))?;
                ActiveSegment { file, path, n_bytes: last.n_bytes, n_records: last.n_records }
            }
            None => {
                debug_assert!(segments.is_empty());
                let (file, path) = create_segment(&dir, recovered.next_lsn)?;
                segments.push(SegmentEntry { first_lsn: recovered.next_lsn, path: path.clone() });
                ActiveSegment { file, path, n_bytes: HEADER_LEN, n_records: 0 }
            }
        };
        let recovery =
            Recovery { n_records: recovered.n_records, next_lsn: recovered.next_lsn, torn_tail: recovered.torn_tail };
        tracing::info!(
            dir = %dir.display(),
            n_records = recovery.n_records,
            next_lsn = recovery.next_lsn.0,
            n_segments = segments.len(),
            "opened wal"
        );

        let shared = Arc::new(Shared {
            segments: Mutex::new(segments),
            durable_next_lsn: AtomicU64::new(recovered.next_lsn.0),
            n_syncs: AtomicU64::new(0),
            failure: Mutex::new(None),
        });
        let (commands, command_receiver) = mpsc::channel();
        let writer = Writer::new(config, Arc::clone(&shared), active, recovered.next_lsn);
        let writer_thread = std::thread::Builder::new()
            .name("cairn-wal-writer".to_owned())
            .spawn(move || writer.run(command_receiver))
            .map_err(|error| io_error(&dir, error))?;
        let wal = Wal {
            dir,
            shared,
            commands,
            closed: AtomicBool::new(false),
            writer_thread: Mutex::new(Some(writer_thread)),
            _lock_file: lock_file,
        };
        Ok((wal, recovery))
    }

    /// Appends `payloads` as consecutive records and returns their LSNs once they are fsynced.
    ///
    /// Group commit: a writer thread drains every request queued while the previous sync ran, writes
    /// them all, syncs once, then answers every waiter. Dropping the future does not cancel the append.
    pub async fn append_durable(&self, payloads: Vec<Vec<u8>>) -> Result<Range<Lsn>, WalError> {
        match self.submit(payloads)? {
            Submission::Done(lsns) => Ok(lsns),
            Submission::Queued(reply) => reply.await.unwrap_or(Err(WalError::Closed)),
        }
    }

    /// [`Wal::append_durable`] for threads outside an async runtime (inside one, this panics).
    pub fn append_durable_blocking(&self, payloads: Vec<Vec<u8>>) -> Result<Range<Lsn>, WalError> {
        match self.submit(payloads)? {
            Submission::Done(lsns) => Ok(lsns),
            Submission::Queued(reply) => reply.blocking_recv().unwrap_or(Err(WalError::Closed)),
        }
    }

    fn submit(&self, payloads: Vec<Vec<u8>>) -> Result<Submission, WalError> {
        if let Some(payload) = payloads.iter().find(|payload| payload.len() > MAX_PAYLOAD_BYTES) {
            return Err(WalError::RecordTooLarge { len: payload.len(), max: MAX_PAYLOAD_BYTES });
        }
        if let Some(reason) = self.shared.failure() {
            return Err(WalError::Failed { reason });
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(WalError::Closed);
        }
        if payloads.is_empty() {
            let next_lsn = self.next_lsn();
            return Ok(Submission::Done(next_lsn..next_lsn));
        }
        let (reply, reply_receiver) = oneshot::channel();
        self.commands.send(Command::Append(AppendRequest { payloads, reply })).map_err(|_| WalError::Closed)?;
        Ok(Submission::Queued(reply_receiver))
    }

    /// Calls `visit` for every record with an LSN of at least `from`, strictly in order. Safe while
    /// appends continue: it visits everything durable when it started (and nothing after). Fails with
    /// [`WalError::NotRetained`] if records from `from` on were already removed.
    pub fn replay(&self, from: Lsn, mut visit: impl FnMut(Lsn, &[u8]) -> Result<(), WalError>) -> Result<(), WalError> {
        self.read(from, self.next_lsn(), |lsn, payload| visit(lsn, payload).map(|()| ControlFlow::Continue(())))?;
        Ok(())
    }

    /// Calls `visit` for the durable records in `from..end`, in order, until it breaks (after the record
    /// it was given); consumers read the log this way from their own cursors. Returns the LSN to read
    /// from next. Fails with [`WalError::NotRetained`] if records from `from` on were already removed.
    pub fn read(
        &self,
        from: Lsn,
        end: Lsn,
        visit: impl FnMut(Lsn, &[u8]) -> Result<ControlFlow<()>, WalError>,
    ) -> Result<Lsn, WalError> {
        Ok(self.read_at(from, end, None, visit)?.0)
    }

    /// [`Wal::read`] that starts at `position`, where an earlier read stopped, when it is at or before
    /// `from` (a consumer that keeps it never scans its segment from the beginning again), and returns
    /// where this read stopped.
    pub fn read_at(
        &self,
        from: Lsn,
        end: Lsn,
        position: Option<ReadPosition>,
        mut visit: impl FnMut(Lsn, &[u8]) -> Result<ControlFlow<()>, WalError>,
    ) -> Result<(Lsn, Option<ReadPosition>), WalError> {
        let end = end.min(self.next_lsn());
        if from >= end {
            return Ok((from, position));
        }
        let readers = replay::open_segments(&self.shared.lock_segments(), from, end)?;
        replay::visit_records(readers, from, end, position, &mut visit)
    }

    /// Deletes whole segments whose every record is below `lsn` (call it once their contents are
    /// persisted elsewhere). The active segment is never deleted. Returns the number deleted.
    pub fn remove_segments_before(&self, lsn: Lsn) -> Result<usize, WalError> {
        let mut segments = self.shared.lock_segments();
        let n_removable =
            segments.windows(2).take_while(|pair| matches!(pair, [_, successor] if successor.first_lsn <= lsn)).count();
        // Oldest first, so a crash part-way leaves a contiguous log.
        let mut n_removed = 0;
        let mut result = Ok(());
        for entry in segments.iter().take(n_removable) {
            if let Err(error) = fs::remove_file(&entry.path) {
                result = Err(io_error(&entry.path, error));
                break;
            }
            n_removed += 1;
        }
        segments.drain(..n_removed);
        drop(segments);
        result?;
        if n_removed > 0 {
            sync_dir(&self.dir)?;
            tracing::debug!(n_removed, before = lsn.0, "removed wal segments");
        }
        Ok(n_removed)
    }

    /// One past the last durable record: the LSN the next append gets if none is in flight.
    pub fn next_lsn(&self) -> Lsn {
        Lsn(self.shared.durable_next_lsn.load(Ordering::Acquire))
    }

    /// The oldest LSN still retained (records before it were removed).
    pub fn first_lsn(&self) -> Lsn {
        self.shared.lock_segments().first().map_or_else(|| self.next_lsn(), |entry| entry.first_lsn)
    }

    /// How many times segment data was fdatasynced since opening (for tests and metrics).
    pub fn n_syncs(&self) -> u64 {
        self.shared.n_syncs.load(Ordering::Relaxed)
    }

    /// Stops the writer thread after answering every request queued before this call; later appends
    /// fail with [`WalError::Closed`]. Returns once the thread has stopped. Idempotent.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.commands.send(Command::Close);
        }
        let mut writer_thread = self.writer_thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = writer_thread.take()
            && handle.join().is_err()
        {
            tracing::error!("wal writer thread panicked");
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}

/// Takes the advisory lock that keeps a second process (or a second `Wal`) out of `dir`.
fn lock_dir(dir: &Path) -> Result<File, WalError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| io_error(&path, error))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(WalError::Io(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("{}: the wal directory is open elsewhere", dir.display()),
        ))),
        Err(fs::TryLockError::Error(error)) => Err(io_error(&path, error)),
    }
}
