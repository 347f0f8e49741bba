//! A dataset: immutable columnar segments (Parquet) plus a versioned manifest, on an object store.
//!
//! Event history keeps its flushed events here (design.md §2, "columnar segments"); the WAL holds only
//! what is not yet flushed. [`Dataset::write_segment`] stores a segment object built by
//! [`SegmentWriter`]; [`Dataset::commit`] then writes the next manifest version (a conditional put, so
//! two writers cannot both commit one version), and only then does the segment exist. A crash between
//! the two leaves an orphan object that [`Dataset::open`] ignores and deletes. Objects a commit drops
//! (compaction, retention) are retired: deleted once no [`Snapshot`] names them any more, so a reader
//! holding an older snapshot (a query) never finds a file gone under it. Formats: `manifest.rs`, `paths.rs`, `schema.rs`,
//! `directory.rs`.
//!
//! Invariants: a committed manifest only names segments whose objects were completely written (and,
//! on a local directory, fsynced) before the commit; manifest versions only grow; a segment that
//! fails its checks is reported by id and skipped, never fatal to the rest. Tests: `tests.rs`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod directory;
mod manifest;
mod matcher;
mod object_reader;
pub mod paths;
mod schema;
pub(crate) mod segment;
mod writer;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

pub use manifest::{MANIFEST_FORMAT_VERSION, Manifest, SegmentEntry};
pub use paths::{ManifestVersion, SegmentId};
pub use schema::SegmentFormat;
pub use writer::{SegmentWriter, WrittenSegment};

pub(crate) use schema::{attribute_column, history_partition};
pub(crate) use segment::Segment;

use crate::wal::Lsn;

/// Segment footers read concurrently on open.
const SEGMENTS_OPENED_AT_ONCE: usize = 16;
/// Older manifest versions kept after a commit, as fallbacks for a damaged newest one.
const KEPT_MANIFESTS: u64 = 8;

/// Where an event sits in history order within its partition: event time, then arrival (LSN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub event_time_ms: i64,
    pub lsn: u64,
}

/// A failure of a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("object store at {path}: {source}")]
    ObjectStore { path: String, source: object_store::Error },
    #[error("segment {path} is corrupt: {reason}")]
    CorruptSegment { id: SegmentId, path: String, reason: String },
    #[error("manifest {path} is unreadable: {reason}")]
    CorruptManifest { path: String, reason: String },
    #[error("manifest version {version} was already committed by another writer")]
    Conflict { version: ManifestVersion },
    #[error("encoding a segment: {0}")]
    Encode(String),
    #[error("dataset io: {0}")]
    Io(#[from] std::io::Error),
}

impl DatasetError {
    pub(crate) fn encode(error: impl std::fmt::Display) -> DatasetError {
        DatasetError::Encode(error.to_string())
    }

    pub(crate) fn object_store(path: &Path, error: impl std::fmt::Display) -> DatasetError {
        DatasetError::ObjectStore {
            path: path.to_string(),
            source: object_store::Error::Generic { store: "dataset", source: error.to_string().into() },
        }
    }
}

/// One committed state of a dataset: the manifest and its opened segments. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub manifest: Arc<Manifest>,
    pub(crate) segments: Arc<Vec<Arc<Segment>>>,
}

impl Snapshot {
    /// The segments that failed their checks or a read: one [`DatasetError::CorruptSegment`] each.
    pub fn broken_segments(&self) -> Vec<DatasetError> {
        self.segments.iter().filter_map(|s| s.broken_error()).collect()
    }
}

/// A change [`Dataset::commit`] makes: segments added (already written) and removed, and the new
/// persisted LSN (`None` keeps the current one).
#[derive(Debug, Default)]
pub struct Commit {
    pub(crate) add: Vec<Arc<Segment>>,
    pub remove: Vec<SegmentId>,
    pub persisted_lsn: Option<Lsn>,
}

impl Commit {
    /// Adds a segment returned by [`Dataset::write_segment`].
    pub fn add(&mut self, segment: WrittenSegmentHandle) {
        self.add.push(segment.0);
    }
}

/// A stored segment not yet committed.
#[derive(Debug)]
pub struct WrittenSegmentHandle(Arc<Segment>);

impl WrittenSegmentHandle {
    pub fn entry(&self) -> &SegmentEntry {
        self.0.entry()
    }
}

/// What [`Dataset::open`] found besides the manifest.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Newer manifest versions that could not be read (the newest readable one was used).
    pub n_unreadable_manifests: usize,
    /// Segment objects no manifest names (a crash between write and commit), deleted.
    pub orphans_deleted: Vec<SegmentId>,
}

/// What a dataset's segments hold, and so how their footers are checked on open.
#[derive(Debug, Clone)]
pub enum SegmentKind {
    /// Event history segments (`schema.rs`), with their partition directory.
    History,
    /// Segments of another fixed Arrow schema (an event data store's Lake columns); the columns and the
    /// row count are checked, and the segment is read with a general Parquet reader.
    Plain(arrow_schema::SchemaRef),
}

/// A dataset on an object store.
pub struct Dataset {
    store: Arc<dyn ObjectStore>,
    kind: SegmentKind,
    // Set for a local directory: objects are fsynced there before a commit relies on them.
    local_root: Option<PathBuf>,
    current: Mutex<Snapshot>,
    // Segments a commit dropped whose objects may still be read through an older snapshot.
    retired: Mutex<Vec<Arc<Segment>>>,
    // Serializes commits: each reads the current manifest and writes the next version.
    commit_lock: tokio::sync::Mutex<()>,
    // Invariant: above every segment id in any manifest or object this process has written.
    next_segment_id: AtomicU64,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset").field("version", &self.snapshot().manifest.version).finish_non_exhaustive()
    }
}

impl Dataset {
    /// Opens (creating if needed) the history dataset in local directory `dir`.
    pub async fn open_local(dir: impl Into<PathBuf>) -> Result<(Dataset, OpenReport), DatasetError> {
        Dataset::open_local_of(dir, SegmentKind::History).await
    }

    /// Opens (creating if needed) a dataset of segments of `kind` in local directory `dir`.
    pub async fn open_local_of(
        dir: impl Into<PathBuf>,
        kind: SegmentKind,
    ) -> Result<(Dataset, OpenReport), DatasetError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(|source| DatasetError::ObjectStore { path: dir.display().to_string(), source })?;
        remove_staging_files(&dir);
        Dataset::open(Arc::new(store), Some(dir), kind).await
    }

    /// Opens the dataset in `store`: the newest readable manifest wins; orphan segments are deleted; every
    /// segment's footer is read and checked (a bad one is reported, not fatal).
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        local_root: Option<PathBuf>,
        kind: SegmentKind,
    ) -> Result<(Dataset, OpenReport), DatasetError> {
        let mut report = OpenReport::default();
        let mut versions: Vec<ManifestVersion> =
            list(&store, paths::MANIFESTS_DIR).await?.iter().filter_map(paths::parse_manifest_path).collect();
        versions.sort_unstable_by(|a, b| b.cmp(a));
        let mut manifest = None;
        let mut last_error = None;
        for version in &versions {
            let path = paths::manifest_path(*version);
            let bytes = match store.get(&path).await {
                Ok(result) => result.bytes().await,
                Err(error) => Err(error),
            };
            let bytes = bytes.map_err(|source| DatasetError::ObjectStore { path: path.to_string(), source })?;
            match Manifest::decode(&bytes, *version) {
                Ok(decoded) => {
                    manifest = Some(decoded);
                    break;
                }
                Err(reason) => {
                    tracing::error!(manifest = %path, %reason, "unreadable dataset manifest; trying an older one");
                    report.n_unreadable_manifests += 1;
                    last_error = Some(DatasetError::CorruptManifest { path: path.to_string(), reason });
                }
            }
        }
        let manifest = match (manifest, last_error) {
            (Some(manifest), _) => manifest,
            (None, Some(error)) => return Err(error),
            (None, None) => Manifest::empty(),
        };

        let named: HashSet<SegmentId> = manifest.segments.iter().map(|entry| entry.id).collect();
        let stored: Vec<SegmentId> =
            list(&store, paths::SEGMENTS_DIR).await?.iter().filter_map(paths::parse_segment_path).collect();
        let max_stored = stored.iter().max().map_or(0, |id| id.0.saturating_add(1));
        // Deleting orphans is only safe when no newer (unreadable) manifest might name them.
        if report.n_unreadable_manifests == 0 {
            for id in stored.into_iter().filter(|id| !named.contains(id)) {
                tracing::warn!(segment = id.0, "deleting a segment no manifest names (written, never committed)");
                delete(&store, &paths::segment_path(id)).await?;
                report.orphans_deleted.push(id);
            }
        }

        let segments: Vec<Arc<Segment>> = futures::stream::iter(manifest.segments.iter().cloned())
            .map(|entry| Segment::open(Arc::clone(&store), entry, &kind))
            .buffered(SEGMENTS_OPENED_AT_ONCE)
            .map_ok(Arc::new)
            .try_collect()
            .await?;
        let next_segment_id = manifest.next_segment_id.0.max(max_stored);
        tracing::info!(
            version = manifest.version.0,
            n_segments = segments.len(),
            persisted_lsn = ?manifest.persisted_lsn,
            "opened dataset"
        );
        let snapshot = Snapshot { manifest: Arc::new(manifest), segments: Arc::new(segments) };
        let dataset = Dataset {
            store,
            kind,
            local_root,
            current: Mutex::new(snapshot),
            retired: Mutex::new(Vec::new()),
            commit_lock: tokio::sync::Mutex::new(()),
            next_segment_id: AtomicU64::new(next_segment_id),
        };
        Ok((dataset, report))
    }

    /// The current committed state.
    pub fn snapshot(&self) -> Snapshot {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The local directory the dataset lives in, if it is on a local file system.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// The object store the dataset lives in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Stores a written segment under a fresh id. It is not part of the dataset until committed.
    pub async fn write_segment(&self, written: WrittenSegment) -> Result<WrittenSegmentHandle, DatasetError> {
        let id = SegmentId(self.next_segment_id.fetch_add(1, Ordering::AcqRel));
        let path = paths::segment_path(id);
        let entry = SegmentEntry {
            id,
            path: path.to_string(),
            n_rows: written.n_rows,
            n_bytes: written.bytes.len() as u64,
            min_event_time_ms: written.min_event_time_ms,
            max_event_time_ms: written.max_event_time_ms,
            min_lsn: written.min_lsn,
            max_lsn: written.max_lsn,
            origins: written.origins,
        };
        let segment = Segment::from_bytes(Arc::clone(&self.store), entry, &written.bytes, &self.kind)?;
        // A name is never reused once committed, so overwriting can only replace an orphan.
        self.put(&path, written.bytes, PutMode::Overwrite).await?;
        Ok(WrittenSegmentHandle(Arc::new(segment)))
    }

    /// Commits `change` as the next manifest version and returns the new state. Objects of removed
    /// segments are deleted afterwards (a failure to delete is logged, not returned).
    pub async fn commit(&self, change: Commit) -> Result<Snapshot, DatasetError> {
        let _commit = self.commit_lock.lock().await;
        let current = self.snapshot();
        let removed: HashSet<SegmentId> = change.remove.iter().copied().collect();
        let mut segments: Vec<Arc<Segment>> =
            current.segments.iter().filter(|s| !removed.contains(&s.entry().id)).cloned().collect();
        segments.extend(change.add);
        segments.sort_by_key(|s| s.entry().id);
        let next_segment_id = segments
            .iter()
            .map(|s| s.entry().id.0.saturating_add(1))
            .max()
            .unwrap_or(0)
            .max(current.manifest.next_segment_id.0);
        let manifest = Manifest {
            format_version: MANIFEST_FORMAT_VERSION,
            version: current.manifest.version.next(),
            persisted_lsn: current.manifest.persisted_lsn.max(change.persisted_lsn),
            next_segment_id: SegmentId(next_segment_id),
            segments: segments.iter().map(|s| s.entry().clone()).collect(),
        };
        let path = paths::manifest_path(manifest.version);
        self.put(&path, Bytes::from(manifest.encode()), PutMode::Create).await.map_err(|error| match error {
            DatasetError::ObjectStore { source: object_store::Error::AlreadyExists { .. }, .. } => {
                DatasetError::Conflict { version: manifest.version }
            }
            other => other,
        })?;
        let version = manifest.version;
        let snapshot = Snapshot { manifest: Arc::new(manifest), segments: Arc::new(segments) };
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = snapshot.clone();
        tracing::debug!(version = version.0, n_segments = snapshot.segments.len(), "committed dataset manifest");

        let dropped = current.segments.iter().filter(|s| removed.contains(&s.entry().id)).cloned();
        self.retired.lock().unwrap_or_else(|p| p.into_inner()).extend(dropped);
        drop(current);
        self.delete_unreferenced().await;
        if let Some(old) = version.0.checked_sub(KEPT_MANIFESTS).filter(|old| *old > 0) {
            let _ = delete(&self.store, &paths::manifest_path(ManifestVersion(old))).await;
        }
        Ok(snapshot)
    }

    /// Deletes the objects of retired segments that no snapshot names any more (each is then held only
    /// by the retired list). Returns how many remain retired. Callers that replace a snapshot they held
    /// call this after, so that files are not kept until the next commit.
    pub async fn delete_unreferenced(&self) -> usize {
        let unreferenced: Vec<Arc<Segment>> = {
            let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
            let (free, held): (Vec<_>, Vec<_>) = retired.drain(..).partition(|s| Arc::strong_count(s) == 1);
            *retired = held;
            free
        };
        for segment in &unreferenced {
            let id = segment.entry().id;
            if let Err(error) = delete(&self.store, &paths::segment_path(id)).await {
                tracing::warn!(segment = id.0, %error, "could not delete a segment dropped from the dataset");
            }
        }
        self.retired.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    async fn put(&self, path: &Path, bytes: Bytes, mode: PutMode) -> Result<(), DatasetError> {
        let options = PutOptions { mode, ..PutOptions::default() };
        self.store
            .put_opts(path, PutPayload::from_bytes(bytes), options)
            .await
            .map_err(|source| DatasetError::ObjectStore { path: path.to_string(), source })?;
        if let Some(root) = &self.local_root {
            let root = root.clone();
            let relative = path.to_string();
            tokio::task::spawn_blocking(move || sync_local(&root, &relative))
                .await
                .map_err(|error| DatasetError::Io(std::io::Error::other(error)))??;
        }
        Ok(())
    }
}

async fn list(store: &Arc<dyn ObjectStore>, dir: &str) -> Result<Vec<Path>, DatasetError> {
    let prefix = Path::from(dir);
    let listed: Vec<_> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|source| DatasetError::ObjectStore { path: dir.to_owned(), source })?;
    Ok(listed.into_iter().map(|meta| meta.location).collect())
}

async fn delete(store: &Arc<dyn ObjectStore>, path: &Path) -> Result<(), DatasetError> {
    match store.delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(source) => Err(DatasetError::ObjectStore { path: path.to_string(), source }),
    }
}

/// Makes a just-written local object durable: the file, its directory and the dataset root.
fn sync_local(root: &std::path::Path, relative: &str) -> Result<(), DatasetError> {
    let file = root.join(relative);
    std::fs::File::open(&file)?.sync_all()?;
    if let Some(parent) = file.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    std::fs::File::open(root)?.sync_all()?;
    Ok(())
}

/// Removes the staging files (`name#n`) an interrupted local put leaves behind.
fn remove_staging_files(root: &std::path::Path) {
    for dir in [paths::MANIFESTS_DIR, paths::SEGMENTS_DIR] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_staging = name
                .to_str()
                .and_then(|n| n.rsplit_once('#'))
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if is_staging {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
