//! The writer thread: group commit of queued appends into segment files, one fdatasync per batch.
//!
//! The thread owns the active segment file; nothing else writes to the WAL directory except
//! [`super::Wal::remove_segments_before`], which never touches the active segment. Each turn of its loop
//! takes every request queued while the previous batch was being synced (up to
//! [`super::WalConfig::max_batch_records`] records), writes them, syncs once, publishes the new durable
//! end and only then answers every waiter. The queue needs no bound of its own: each caller waits for
//! its reply, so it never holds more requests than there are concurrent callers, which the layers above
//! bound (design.md §2, "Bounded everything").
//!
//! If a write or sync fails, the batch's records may be partly on disk, so nobody in the batch gets an
//! acknowledgement, and the writer refuses every later append with [`WalError::Failed`]: after a failed
//! fsync the kernel may have dropped dirty pages, so carrying on could acknowledge records behind a
//! hole. Records of a failed batch may still be found after a restart; their callers were told the
//! append failed, not that it did not happen.

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use tokio::sync::oneshot;

use super::segment::{
    HEADER_LEN, MAX_PAYLOAD_BYTES, RECORD_HEADER_LEN, SegmentEntry, create_segment, encode_record_header,
};
use super::{Lsn, Shared, WalConfig, WalError, io_error};

/// Small payloads are copied into one buffer, written when it reaches this size.
const BUFFER_FLUSH_BYTES: usize = 256 * 1024;

/// What the writer thread is asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    Append(AppendRequest),
    /// Answer everything queued before this, then stop.
    Close,
}

/// Payloads to append as consecutive records, and where to send their LSNs once they are durable.
#[derive(Debug)]
pub(crate) struct AppendRequest {
    pub(crate) payloads: Vec<Vec<u8>>,
    pub(crate) reply: oneshot::Sender<Result<Range<Lsn>, WalError>>,
}

/// The segment file being appended to.
#[derive(Debug)]
pub(crate) struct ActiveSegment {
    pub(crate) file: File,
    pub(crate) path: PathBuf,
    /// Length of the file, header included.
    pub(crate) n_bytes: u64,
    pub(crate) n_records: u64,
}

/// State owned by the writer thread.
#[derive(Debug)]
pub(crate) struct Writer {
    config: WalConfig,
    shared: Arc<Shared>,
    segment: ActiveSegment,
    // Invariant: the LSN the next record written gets; equal to the shared durable end between batches
    // unless `failure` is set.
    next_lsn: Lsn,
    buffer: Vec<u8>,
    failure: Option<String>,
}

impl Writer {
    pub(crate) fn new(config: WalConfig, shared: Arc<Shared>, segment: ActiveSegment, next_lsn: Lsn) -> Writer {
        Writer { config, shared, segment, next_lsn, buffer: Vec::with_capacity(BUFFER_FLUSH_BYTES), failure: None }
    }

    /// The thread's body: runs until [`Command::Close`] or until every sender is gone.
    pub(crate) fn run(mut self, commands: Receiver<Command>) {
        let mut batch = Vec::new();
        while let Ok(command) = commands.recv() {
            let mut closing = false;
            let mut n_records = 0;
            let mut next_command = Some(command);
            while let Some(command) = next_command.take() {
                match command {
                    Command::Close => {
                        closing = true;
                        break;
                    }
                    Command::Append(request) => {
                        n_records += request.payloads.len();
                        batch.push(request);
                    }
                }
                if n_records < self.config.max_batch_records {
                    next_command = commands.try_recv().ok();
                }
            }
            self.commit(&mut batch);
            if closing {
                break;
            }
        }
        // Appends that raced with `close` get an answer too; any sent after this drain find the
        // receiver dropped, which their callers also report as `Closed`.
        while let Ok(command) = commands.try_recv() {
            if let Command::Append(request) = command {
                let _ = request.reply.send(Err(WalError::Closed));
            }
        }
    }

    /// Writes and syncs `batch`, then answers every request in it (and empties it).
    fn commit(&mut self, batch: &mut Vec<AppendRequest>) {
        if batch.is_empty() {
            return;
        }
        if let Some(reason) = &self.failure {
            for request in batch.drain(..) {
                let _ = request.reply.send(Err(WalError::Failed { reason: reason.clone() }));
            }
            return;
        }
        let first_lsn = self.next_lsn;
        match self.write_batch(batch) {
            Ok(()) => {
                // Published before any reply, so an acknowledged caller's replay sees its records.
                self.shared.durable_next_lsn.store(self.next_lsn.0, Ordering::Release);
                let mut start = first_lsn;
                for request in batch.drain(..) {
                    let end = Lsn(start.0 + request.payloads.len() as u64);
                    // A caller that stopped waiting (a dropped future) still has its records in the WAL.
                    let _ = request.reply.send(Ok(start..end));
                    start = end;
                }
            }
            Err(error) => {
                let reason = error.to_string();
                tracing::error!(%reason, "wal write failed; refusing further appends");
                self.shared.set_failure(reason.clone());
                self.failure = Some(reason.clone());
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(WalError::Failed { reason: reason.clone() }));
                }
            }
        }
    }

    fn write_batch(&mut self, batch: &[AppendRequest]) -> Result<(), WalError> {
        for payload in batch.iter().flat_map(|request| &request.payloads) {
            debug_assert!(payload.len() <= MAX_PAYLOAD_BYTES, "Wal::submit checks payload lengths");
            let record_len = (RECORD_HEADER_LEN + payload.len()) as u64;
            // A batch may straddle segments; a record never does. A segment exceeds the maximum only
            // when it holds a single record larger than the maximum.
            if self.segment.n_records > 0 && self.segment.n_bytes + record_len > self.config.segment_max_bytes {
                self.roll_over()?;
            }
            encode_record_header(self.next_lsn, payload, &mut self.buffer);
            if payload.len() >= BUFFER_FLUSH_BYTES {
                self.flush_buffer()?;
                self.segment.file.write_all(payload).map_err(|error| io_error(&self.segment.path, error))?;
            } else {
                self.buffer.extend_from_slice(payload);
                if self.buffer.len() >= BUFFER_FLUSH_BYTES {
                    self.flush_buffer()?;
                }
            }
            self.segment.n_bytes += record_len;
            self.segment.n_records += 1;
            self.next_lsn = self.next_lsn.next();
        }
        self.flush_buffer()?;
        self.sync_segment()
    }

    /// Finishes the active segment and starts the next one at `next_lsn`.
    fn roll_over(&mut self) -> Result<(), WalError> {
        // The finished segment is made durable before its successor exists: recovery trusts that only
        // the last segment can have a torn tail.
        self.flush_buffer()?;
        self.sync_segment()?;
        let (file, path) = create_segment(&self.config.dir, self.next_lsn)?;
        self.shared.lock_segments().push(SegmentEntry { first_lsn: self.next_lsn, path: path.clone() });
        self.segment = ActiveSegment { file, path, n_bytes: HEADER_LEN, n_records: 0 };
        Ok(())
    }

    fn flush_buffer(&mut self) -> Result<(), WalError> {
        if !self.buffer.is_empty() {
            self.segment.file.write_all(&self.buffer).map_err(|error| io_error(&self.segment.path, error))?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// fdatasync: the file's data and the metadata needed to read it back (its length), not its times.
    fn sync_segment(&mut self) -> Result<(), WalError> {
        self.segment.file.sync_data().map_err(|error| io_error(&self.segment.path, error))?;
        self.shared.n_syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
