//! The manifest: which segments make up a dataset at one version, and how far the WAL is persisted.
//!
//! # Format (version 1)
//!
//! One JSON object per version, stored at `manifests/manifest-{version:020}.json` (`paths.rs`) and
//! never rewritten: a commit creates the next version with a conditional put, so two writers cannot
//! both commit the same version. The newest readable version is the dataset.
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "version": 7,
//!   "persisted_lsn": 199999,
//!   "next_segment_id": 3,
//!   "segments": [
//!     {"id": 2, "path": "segments/segment-00000000000000000002.parquet", "n_rows": 200000,
//!      "n_bytes": 31000000, "min_event_time_ms": 1700000000000, "max_event_time_ms": 1700000900000,
//!      "min_lsn": 0, "max_lsn": 199999}
//!   ]
//! }
//! ```
//!
//! `format_version` comes first and is checked before anything else is read. `persisted_lsn` is the
//! highest WAL LSN whose event is reflected in the segments (`null` before the first flush): every
//! event at or below it is in exactly one segment (or was never shown in history), and every event
//! above it is only in the WAL. Segments are listed oldest id first.

use serde::{Deserialize, Serialize};

use super::paths::{ManifestVersion, SegmentId, segment_path};
use crate::wal::Lsn;

/// The manifest format this code writes and reads.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// One version of a dataset's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub version: ManifestVersion,
    /// The highest WAL LSN reflected in the segments; `None` before anything was persisted.
    pub persisted_lsn: Option<Lsn>,
    /// The id the next written segment gets.
    pub next_segment_id: SegmentId,
    pub segments: Vec<SegmentEntry>,
}

/// What the manifest records about one segment object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    pub id: SegmentId,
    /// The object key, `segments/segment-{id:020}.parquet`.
    pub path: String,
    pub n_rows: u64,
    /// The object's size; a segment of another size is reported as corrupt.
    pub n_bytes: u64,
    pub min_event_time_ms: i64,
    pub max_event_time_ms: i64,
    pub min_lsn: Lsn,
    pub max_lsn: Lsn,
    /// Tags of the writes whose rows the segment holds, for writers outside the log that must know
    /// after a crash whether their write was committed (an import's batches); merged segments keep
    /// the tags of all they replace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

#[derive(Deserialize)]
struct FormatProbe {
    format_version: u32,
}

impl Manifest {
    /// The manifest of a dataset that has never been committed (version 0 is never written).
    pub fn empty() -> Manifest {
        Manifest {
            format_version: MANIFEST_FORMAT_VERSION,
            version: ManifestVersion(0),
            persisted_lsn: None,
            next_segment_id: SegmentId(1),
            segments: Vec::new(),
        }
    }

    /// The first WAL LSN not reflected in the segments: replay starts here.
    pub fn replay_from(&self) -> Lsn {
        self.persisted_lsn.map_or(Lsn(0), Lsn::next)
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serializing plain structs of numbers and strings cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads the manifest stored as version `expected`, checking its format and consistency.
    pub fn decode(bytes: &[u8], expected: ManifestVersion) -> Result<Manifest, String> {
        let probe: FormatProbe = serde_json::from_slice(bytes).map_err(|error| format!("not a manifest: {error}"))?;
        if probe.format_version != MANIFEST_FORMAT_VERSION {
            return Err(format!(
                "manifest format version {} is not supported (this build reads {MANIFEST_FORMAT_VERSION})",
                probe.format_version
            ));
        }
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|error| format!("malformed manifest: {error}"))?;
        if manifest.version != expected {
            return Err(format!("the object of version {expected} holds version {}", manifest.version));
        }
        let mut previous = None;
        for entry in &manifest.segments {
            if entry.path != segment_path(entry.id).as_ref() {
                return Err(format!("segment {} has the unexpected path {}", entry.id, entry.path));
            }
            if entry.id >= manifest.next_segment_id || previous.is_some_and(|p| p >= entry.id) {
                return Err(format!("segment ids are not increasing below next_segment_id at {}", entry.id));
            }
            previous = Some(entry.id);
        }
        Ok(manifest)
    }
}
