//! What a trail's deliverer keeps durably (one [`DeliveryRecord`] per trail, in the metadata store).
//!
//! The cursor says how far the trail has read the write-ahead log; everything before it has been
//! delivered or was not selected. A batch is first written down as a [`PendingBatch`] (its end and its
//! delivery time, which names its files), then its files are written, then the cursor moves past it in
//! the same commit that clears the intent. A crash in between redoes the batch with the same inputs,
//! so it writes the same keys with the same bytes: nothing is lost and nothing is delivered twice.

use std::collections::BTreeMap;

use cairn_store::Record;
use cairn_store::records::TrailRecord;
use cairn_store::wal::Lsn;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::digest::{LogFileEntry, PreviousDigest};

/// A trail's delivery state, keyed by trail ARN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub trail_arn: String,
    /// The trail as last seen: what a batch is cut with, and what finishes a deleted trail's delivery.
    pub trail: TrailRecord,
    /// The next LSN to read.
    pub cursor: Lsn,
    /// Whether the trail was logging at the cursor (it flips at its StartLogging/StopLogging events).
    pub logging: bool,
    /// Set once a successful DeleteTrail for this trail has been read: nothing after it is delivered.
    pub deleted: bool,
    pub pending: Option<PendingBatch>,
    /// Open digest chains by `account/region`.
    pub chains: BTreeMap<String, DigestChain>,
    /// GetTrailStatus members by region.
    pub status: BTreeMap<String, RegionStatus>,
    /// Delivered files whose SNS notification has not been attempted yet: committed with the cursor,
    /// so a crash before the notification goes out only delays it.
    #[serde(default)]
    pub unannounced: Vec<Unannounced>,
}

/// A delivered file to announce to the trail's SNS topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unannounced {
    pub bucket: String,
    pub key: String,
    pub region: String,
}

impl Record for DeliveryRecord {
    const TABLE: &'static str = "trail_delivery";
    fn key(&self) -> String {
        self.trail_arn.clone()
    }
}

/// A batch whose files are being written: the log range `from..end` cut at `delivered_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingBatch {
    pub from: Lsn,
    pub end: Lsn,
    pub delivered_at: Timestamp,
}

/// One digest chain: a trail's digests for one account and region (spec/formats.md §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestChain {
    pub account_id: String,
    pub region: String,
    /// Start of the open digest period (the previous digest's end, or when the chain began).
    pub period_start: Timestamp,
    /// The last digest delivered in this chain; `None` until the first (a starting digest).
    pub previous: Option<PreviousDigest>,
    /// When set, the chain ends with a final digest at this time (logging stopped, validation
    /// disabled, trail deleted).
    pub closing_at: Option<Timestamp>,
}

/// A delivered log file waiting for its digest, one record each (a chain's files are not part of
/// the trail's [`DeliveryRecord`], which is rewritten on every commit: at a 1 s delivery interval an
/// hour's files would make it megabytes). Written before the cursor moves past its batch, under a
/// key that a redone batch writes again; removed once a digest covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainFileRecord {
    pub trail_arn: String,
    /// The chain's [`chain_key`].
    pub chain: String,
    pub delivered_at: Timestamp,
    pub entry: LogFileEntry,
}

impl Record for ChainFileRecord {
    const TABLE: &'static str = "trail_delivery_files";
    fn key(&self) -> String {
        format!(
            "{}{:020}|{}",
            chain_files_prefix(&self.trail_arn, &self.chain),
            self.delivered_at.as_second(),
            self.entry.s3_object
        )
    }
}

/// The key prefix of a chain's file records (`chain` empty: all of a trail's).
pub fn chain_files_prefix(trail_arn: &str, chain: &str) -> String {
    if chain.is_empty() { format!("{trail_arn}|") } else { format!("{trail_arn}|{chain}|") }
}

/// The delivery members of GetTrailStatus for one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionStatus {
    pub latest_delivery_time: Option<Timestamp>,
    pub latest_delivery_attempt_time: Option<Timestamp>,
    pub latest_delivery_attempt_succeeded: Option<Timestamp>,
    pub latest_delivery_error: Option<String>,
    pub latest_digest_delivery_time: Option<Timestamp>,
    pub latest_digest_delivery_error: Option<String>,
    pub latest_notification_time: Option<Timestamp>,
    pub latest_notification_attempt_time: Option<Timestamp>,
    pub latest_notification_attempt_succeeded: Option<Timestamp>,
    pub latest_notification_error: Option<String>,
    /// Log streaming (the trail's CloudWatch Logs group).
    #[serde(default)]
    pub latest_cloud_watch_logs_delivery_time: Option<Timestamp>,
    #[serde(default)]
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
}

/// The key of a chain in [`DeliveryRecord::chains`].
pub fn chain_key(account_id: &str, region: &str) -> String {
    format!("{account_id}/{region}")
}
