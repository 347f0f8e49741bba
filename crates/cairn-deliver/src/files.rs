//! Turning a batch's log files into objects: gzip (one member), SHA-256 of the uncompressed bytes
//! for the digest, and the deterministic key.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_store::records::TrailRecord;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::batch::LogFile;
use crate::digest::LogFileEntry;
use crate::layout::{AccountRoot, unique_suffix};
use crate::state::PendingBatch;

/// A log file ready to write.
#[derive(Debug, Clone)]
pub(crate) struct PreparedFile {
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) key: String,
    pub(crate) gzipped: Vec<u8>,
    pub(crate) n_events: usize,
    /// What the digest says of it.
    pub(crate) entry: LogFileEntry,
    /// An Insights file: under `CloudTrail-Insight/`, and in no digest.
    pub(crate) insight: bool,
}

/// The account root of a trail's objects for `account_id` (organization trails add the org ID).
pub(crate) fn account_root(trail: &TrailRecord, account_id: &str) -> AccountRoot {
    AccountRoot {
        key_prefix: trail.s3_key_prefix.clone(),
        organization_id: trail.organization_id.clone(),
        account_id: account_id.to_owned(),
    }
}

/// Compresses and names every file of the batch `pending` of `trail`, on up to one thread per core
/// (gzip is most of delivery's work).
pub(crate) fn prepare(
    trail: &TrailRecord,
    pending: &PendingBatch,
    files: &[LogFile],
) -> std::io::Result<Vec<PreparedFile>> {
    let trail_arn = trail.arn();
    let n_threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len()).max(1);
    if n_threads == 1 {
        return files.iter().map(|file| prepare_one(trail, &trail_arn, pending, file)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut prepared: Vec<(usize, std::io::Result<PreparedFile>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n_threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let idx = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(idx) else { return done };
                        done.push((idx, prepare_one(trail, &trail_arn, pending, file)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap_or_default()).collect()
    });
    if prepared.len() != files.len() {
        return Err(std::io::Error::other("a compression thread failed"));
    }
    prepared.sort_by_key(|(idx, _)| *idx);
    prepared.into_iter().map(|(_, file)| file).collect()
}

fn prepare_one(
    trail: &TrailRecord,
    trail_arn: &str,
    pending: &PendingBatch,
    file: &LogFile,
) -> std::io::Result<PreparedFile> {
    let kind = if file.insight { "insight/" } else { "" };
    let seed = format!("{trail_arn}/{kind}{}/{}/{}/{}", pending.from, file.account_id, file.region, file.part);
    let root = account_root(trail, &file.account_id);
    let key = if file.insight {
        root.insight_file_key(&file.region, pending.delivered_at, &unique_suffix(&seed))
    } else {
        root.log_file_key(&file.region, pending.delivered_at, &unique_suffix(&seed))
    };
    Ok(PreparedFile {
        account_id: file.account_id.clone(),
        region: file.region.clone(),
        gzipped: gzip(&file.body)?,
        n_events: file.n_events,
        insight: file.insight,
        entry: LogFileEntry {
            s3_bucket: trail.s3_bucket_name.clone(),
            s3_object: key.clone(),
            hash_value: hex::encode(Sha256::digest(&file.body)),
            newest_event_time: file.newest,
            oldest_event_time: file.oldest,
        },
        key,
    })
}

/// One gzip member and nothing after it (`validate-logs` rejects trailing data).
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 8 + 64), Compression::new(5));
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Whole seconds: keys and digests name times to the second.
pub(crate) fn whole_seconds(at: Timestamp) -> Timestamp {
    Timestamp::from_second(at.as_second()).unwrap_or(at)
}
