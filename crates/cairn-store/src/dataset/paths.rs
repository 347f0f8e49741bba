//! Object names of a dataset: every segment and manifest key is built and parsed here, and nowhere else.
//!
//! Numbers are zero-padded to 20 digits so that a lexicographic listing comes back in numeric order:
//!
//! | object   | key                                          |
//! | -------- | -------------------------------------------- |
//! | manifest | `manifests/manifest-{version:020}.json`      |
//! | segment  | `segments/segment-{segment_id:020}.parquet`  |
//!
//! Names are deterministic: a segment rewritten after a crash (same id, not yet in any manifest)
//! replaces the orphan instead of adding a second copy.

use object_store::path::Path;

/// The folder of manifest objects.
pub const MANIFESTS_DIR: &str = "manifests";
/// The folder of segment objects.
pub const SEGMENTS_DIR: &str = "segments";

const MANIFEST_PREFIX: &str = "manifest-";
const MANIFEST_SUFFIX: &str = ".json";
const SEGMENT_PREFIX: &str = "segment-";
const SEGMENT_SUFFIX: &str = ".parquet";
const DIGITS: usize = 20;

/// The number of one segment of a dataset, allocated from the manifest's `next_segment_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SegmentId(pub u64);

/// The version of a manifest: each commit writes the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ManifestVersion(pub u64);

impl ManifestVersion {
    pub fn next(self) -> ManifestVersion {
        ManifestVersion(self.0.saturating_add(1))
    }
}

impl std::fmt::Display for SegmentId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

impl std::fmt::Display for ManifestVersion {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// `manifests/manifest-{version:020}.json`.
pub fn manifest_path(version: ManifestVersion) -> Path {
    Path::from(format!("{MANIFESTS_DIR}/{MANIFEST_PREFIX}{:020}{MANIFEST_SUFFIX}", version.0))
}

/// `segments/segment-{id:020}.parquet`.
pub fn segment_path(id: SegmentId) -> Path {
    Path::from(format!("{SEGMENTS_DIR}/{SEGMENT_PREFIX}{:020}{SEGMENT_SUFFIX}", id.0))
}

/// The version named by a manifest key, or `None` if `path` is not one.
pub fn parse_manifest_path(path: &Path) -> Option<ManifestVersion> {
    parse(path, MANIFESTS_DIR, MANIFEST_PREFIX, MANIFEST_SUFFIX).map(ManifestVersion)
}

/// The segment id named by a segment key, or `None` if `path` is not one.
pub fn parse_segment_path(path: &Path) -> Option<SegmentId> {
    parse(path, SEGMENTS_DIR, SEGMENT_PREFIX, SEGMENT_SUFFIX).map(SegmentId)
}

fn parse(path: &Path, dir: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let name = path.as_ref().strip_prefix(dir)?.strip_prefix('/')?;
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
