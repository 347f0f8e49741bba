//! The import's two stages, pipelined so that every core works: reading threads take files one at a time (read,
//! gunzip, split into records, check each record as the ingest path does, convert batches of checked records to
//! Arrow), and the calling thread gathers the batches into segments and writes each (sort, Parquet encoding,
//! commit) while the readers go on with the next.
//!
//! Memory stays bounded: the channel between the stages holds at most one segment's worth of batches, and a
//! reader holds less than one batch of records besides the file it is reading.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use cairn_model::event::EventRecord;

use super::discover::InputFile;
use super::report::{FileReport, Refusal, Reporter};
use super::split::{self, FileFailure};

/// How the work is divided.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Reading threads.
    pub(crate) readers: usize,
    /// Records per Arrow batch a reader converts.
    pub(crate) batch_rows: usize,
    /// Records per segment written (the last may be smaller).
    pub(crate) segment_rows: usize,
}

/// Why the import stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PipelineError<E: std::error::Error + 'static> {
    #[error("writing to the event data store: {0}")]
    Write(#[source] E),
    #[error("converting records to the Lake's columns: {0}")]
    Convert(#[source] ArrowError),
    #[error("a reading thread stopped unexpectedly")]
    ReaderPanicked,
}

/// Reads `files` and writes their records with `write_segment` (which returns how many it wrote). Returns the
/// number of records written. A file that cannot be read is reported and skipped; only a failure to convert or
/// to write stops the import.
pub(crate) fn run<E: std::error::Error + Send + 'static>(
    files: &[InputFile],
    shape: Shape,
    reporter: &Reporter,
    mut write_segment: impl FnMut(&[RecordBatch]) -> Result<usize, E>,
) -> Result<u64, PipelineError<E>> {
    let next_file = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let queued = shape.segment_rows.div_ceil(shape.batch_rows.max(1)).max(1);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<RecordBatch>(queued);
        let readers: Vec<_> = (0..shape.readers.max(1))
            .map(|_| {
                let sender = sender.clone();
                let (next_file, stop) = (&next_file, &stop);
                scope.spawn(move || read_files(files, next_file, stop, reporter, shape.batch_rows, &sender))
            })
            .collect();
        drop(sender);
        let written = write_all(&receiver, shape.segment_rows, &mut write_segment);
        if written.is_err() {
            // Readers blocked on a full channel wake up when it closes.
            stop.store(true, Ordering::Relaxed);
        }
        drop(receiver);
        let mut outcome = written.map_err(PipelineError::Write);
        for reader in readers {
            let result = match reader.join() {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(PipelineError::Convert(error)),
                Err(_) => Err(PipelineError::ReaderPanicked),
            };
            if let (Ok(_), Err(error)) = (&outcome, result) {
                outcome = Err(error);
            }
        }
        outcome
    })
}

/// Gathers batches into segments of at least `segment_rows` records and writes them.
fn write_all<E>(
    receiver: &mpsc::Receiver<RecordBatch>,
    segment_rows: usize,
    write_segment: &mut impl FnMut(&[RecordBatch]) -> Result<usize, E>,
) -> Result<u64, E> {
    let mut segment = Vec::new();
    let mut n_rows = 0;
    let mut written = 0u64;
    for batch in receiver {
        n_rows += batch.num_rows();
        segment.push(batch);
        if n_rows >= segment_rows {
            written += write_segment(&segment)? as u64;
            segment.clear();
            n_rows = 0;
        }
    }
    if n_rows > 0 {
        written += write_segment(&segment)? as u64;
    }
    Ok(written)
}

/// One reading thread: takes the next file until none is left, sends a batch whenever `batch_rows` records
/// are waiting.
fn read_files(
    files: &[InputFile],
    next_file: &AtomicUsize,
    stop: &AtomicBool,
    reporter: &Reporter,
    batch_rows: usize,
    sender: &mpsc::SyncSender<RecordBatch>,
) -> Result<(), ArrowError> {
    let mut pending = Pending::default();
    while !stop.load(Ordering::Relaxed) {
        let Some(file) = files.get(next_file.fetch_add(1, Ordering::Relaxed)) else { break };
        match read_file(file) {
            Ok(Read::Records { text, accepted, refused }) => {
                reporter.file(&file.path, file.size, FileReport::Read { accepted: accepted.len(), refused: &refused });
                pending.add(text, accepted);
            }
            Ok(Read::Digest) => reporter.file(&file.path, file.size, FileReport::Digest),
            Err(failure) => reporter.file(&file.path, file.size, FileReport::Failed { reason: failure.to_string() }),
        }
        while pending.spans.len() >= batch_rows {
            if sender.send(pending.take_batch(batch_rows)?).is_err() {
                return Ok(());
            }
        }
    }
    if !pending.spans.is_empty() && !stop.load(Ordering::Relaxed) {
        // An error here means the writer stopped; it reports why.
        let _ = sender.send(pending.take_batch(batch_rows)?);
    }
    Ok(())
}

/// What a file held.
#[derive(Debug)]
pub(crate) enum Read {
    /// The file's text; the spans of the records that passed the check, and the others.
    Records {
        text: String,
        accepted: Vec<Range<usize>>,
        refused: Vec<Refusal>,
    },
    Digest,
}

fn read_file(file: &InputFile) -> Result<Read, FileFailure> {
    let bytes = std::fs::read(&file.path).map_err(FileFailure::Read)?;
    read_bytes(bytes, file.lines, |_| true)
}

/// Splits a file's bytes into records and checks each as the ingest path does; `keep` then decides which of the
/// valid records are wanted (the others are left out without counting as refused).
pub(crate) fn read_bytes(
    bytes: Vec<u8>,
    lines: bool,
    keep: impl Fn(&EventRecord) -> bool,
) -> Result<Read, FileFailure> {
    let text = split::decode(bytes)?;
    let split = split::split(&text, lines)?;
    if split.digest {
        return Ok(Read::Digest);
    }
    let mut accepted = Vec::with_capacity(split.pieces.len());
    let mut refused = Vec::new();
    for (index, piece) in split.pieces.into_iter().enumerate() {
        let checked = piece.and_then(|span| match EventRecord::parse(text[span.clone()].as_bytes()) {
            Ok(record) => Ok(keep(&record).then_some(span)),
            Err(error) => Err(error.to_string()),
        });
        match checked {
            Ok(Some(span)) => accepted.push(span),
            Ok(None) => {}
            Err(reason) => refused.push(Refusal { record: index + 1, reason }),
        }
    }
    Ok(Read::Records { text, accepted, refused })
}

/// Checked records waiting to be converted: the texts of the files they came from and their spans.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    texts: Vec<String>,
    // Invariant: in the order added, so the texts a batch has used up are at the front.
    spans: Vec<(usize, Range<usize>)>,
}

impl Pending {
    /// Records waiting.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn add(&mut self, text: String, accepted: Vec<Range<usize>>) {
        if accepted.is_empty() {
            return;
        }
        let index = self.texts.len();
        self.spans.extend(accepted.into_iter().map(|span| (index, span)));
        self.texts.push(text);
    }

    /// Converts the first `limit` records (all, if fewer) and forgets them.
    pub(crate) fn take_batch(&mut self, limit: usize) -> Result<RecordBatch, ArrowError> {
        let n = limit.min(self.spans.len());
        let records = self.spans[..n].iter().map(|(index, span)| &self.texts[*index][span.clone()]);
        let batch = cairn_lake::convert::records_to_batch(records);
        self.spans.drain(..n);
        let used_up = self.spans.first().map_or(self.texts.len(), |(index, _)| *index);
        if used_up > 0 {
            self.texts.drain(..used_up);
            for (index, _) in &mut self.spans {
                *index -= used_up;
            }
        }
        batch
    }
}
