//! The embedded buckets' objects: [`ObjectIndex`], a durable key → object map per bucket that the S3
//! endpoint serves and trail delivery writes into.
//!
//! Layout under the bucket root (`<data dir>/buckets`): one redb file, `_objects.redb` (a bucket name
//! cannot start with `_`, so it never collides with a bucket directory), whose `objects` table maps
//! `bucket \0 key` to a small versioned record (size, MD5, time, content type, user metadata, blob
//! id); and the bytes of each object in `<bucket>/blobs/<blob id>`, a file written once and never
//! changed. The key's byte order is S3's listing order, so a listing is one range scan.
//!
//! A put writes a fresh blob, fsyncs it and its directory, then commits the index (redb fsyncs), and
//! only then removes the blob it replaced; a crash in between leaves an unreferenced blob, which
//! [`ObjectIndex::open`] removes. So the index never names a missing or partial blob, and a reader
//! sees the old object or the new one, never a mix: a blob that disappears between the index lookup
//! and its open (a concurrent overwrite) makes the reader look again.
//!
//! Blob ids come from one counter that starts past every id found on disk at open. Tests: `tests.rs`.

mod list;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// `bucket \0 key` → [`FORMAT_VERSION`] then the JSON of a [`StoredObject`].
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
const TABLE_NAME: &str = "objects";
/// Every value starts with this byte; a later format bumps it and migrates.
const FORMAT_VERSION: u8 = 1;
/// The index file, inside the bucket root.
const INDEX_FILE: &str = "_objects.redb";
/// Each bucket's blob directory, inside `<root>/<bucket>`.
const BLOB_DIR: &str = "blobs";
/// How often a reader looks again when the blob it was sent to has just been replaced.
const READ_ATTEMPTS: usize = 64;

/// The objects of every embedded bucket. `Send + Sync`; share it as `Arc<ObjectIndex>`.
pub struct ObjectIndex {
    root: PathBuf,
    db: Database,
    next_blob: AtomicU64,
}

impl std::fmt::Debug for ObjectIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectIndex").field("root", &self.root).finish_non_exhaustive()
    }
}

/// What a put stores besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct PutObject {
    /// `None`: S3 answers `binary/octet-stream`.
    pub content_type: Option<String>,
    /// `x-amz-meta-<name>` pairs; names are stored lower-case.
    pub user_metadata: Vec<(String, String)>,
}

/// One stored object, without its bytes.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// `"<md5 hex>"`, quotes included, as S3 sends it.
    pub etag: String,
    pub last_modified: Timestamp,
    pub content_type: Option<String>,
    /// Names lower-case, in the order they were put.
    pub user_metadata: Vec<(String, String)>,
}

/// A listing request, S3 style.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Only keys (and common prefixes) strictly after this.
    pub start_after: Option<String>,
    /// Keys that contain it after `prefix` are rolled up into one common prefix (up to and including
    /// its first occurrence). `None` or empty: no grouping.
    pub delimiter: Option<String>,
    /// At most this many keys and common prefixes together.
    pub max_keys: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub objects: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    /// More keys or common prefixes follow the last one returned.
    pub is_truncated: bool,
}

/// The stored form of an object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredObject {
    size: u64,
    md5: String,
    last_modified: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    user_metadata: Vec<(String, String)>,
    blob: u64,
}

impl StoredObject {
    fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let mut out = vec![FORMAT_VERSION];
        serde_json::to_writer(&mut out, self).map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(out)
    }

    fn decode(index_key: &[u8], bytes: &[u8]) -> Result<StoredObject, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            table: TABLE_NAME,
            key: String::from_utf8_lossy(index_key).replace('\0', "/"),
            reason,
        };
        match bytes.split_first() {
            Some((&FORMAT_VERSION, json)) => serde_json::from_slice(json).map_err(|e| corrupt(e.to_string())),
            Some((version, _)) => Err(corrupt(format!("unknown format version {version}"))),
            None => Err(corrupt("empty value".to_owned())),
        }
    }

    fn info(&self, key: &str) -> ObjectInfo {
        ObjectInfo {
            key: key.to_owned(),
            size: self.size,
            etag: format!("\"{}\"", self.md5),
            last_modified: self.last_modified,
            content_type: self.content_type.clone(),
            user_metadata: self.user_metadata.clone(),
        }
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn invalid(message: String) -> StoreError {
    StoreError::Io(std::io::Error::new(ErrorKind::InvalidInput, message))
}

/// `bucket \0`: the start of a bucket's keys in the index.
fn bucket_start(bucket: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bucket.len() + 1);
    out.extend_from_slice(bucket.as_bytes());
    out.push(0);
    out
}

fn index_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut out = bucket_start(bucket);
    out.extend_from_slice(key.as_bytes());
    out
}

fn blob_name(id: u64) -> String {
    format!("{id:016x}")
}

/// The blob id a file name stands for; `None` for anything that is not a blob.
fn blob_id(name: &str) -> Option<u64> {
    (name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| u64::from_str_radix(name, 16).ok())
        .flatten()
}

/// A bucket name the file layout can hold: one plain path component.
fn check_bucket(bucket: &str) -> Result<(), StoreError> {
    let plain = !bucket.is_empty()
        && bucket != "."
        && bucket != ".."
        && !bucket.starts_with('_')
        && !bucket.contains(['/', '\\', '\0']);
    if plain { Ok(()) } else { Err(invalid(format!("{bucket:?} cannot be a bucket name"))) }
}

/// Makes a directory entry change (a new file, a new subdirectory) durable.
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path)?.sync_all()?;
    Ok(())
}

impl ObjectIndex {
    /// Opens the objects under `root` (`<data dir>/buckets`, created if missing) and removes blobs
    /// that no object names (left by a crash between a blob write and its index commit, or before
    /// a replaced blob was removed).
    pub fn open(root: &Path) -> Result<ObjectIndex, StoreError> {
        fs::create_dir_all(root)?;
        let db = Database::create(root.join(INDEX_FILE)).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(OBJECTS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;

        let mut referenced: HashSet<(String, u64)> = HashSet::new();
        let mut max_id = 0u64;
        {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(OBJECTS).map_err(db_err)?;
            for row in table.iter().map_err(db_err)? {
                let (key, value) = row.map_err(db_err)?;
                let key = key.value();
                let stored = StoredObject::decode(key, value.value())?;
                let bucket_len = key.iter().position(|&b| b == 0).unwrap_or(key.len());
                let bucket = String::from_utf8_lossy(&key[..bucket_len]).into_owned();
                max_id = max_id.max(stored.blob);
                referenced.insert((bucket, stored.blob));
            }
        }
        let mut removed = 0usize;
        for entry in fs::read_dir(root)? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let Ok(bucket) = entry.file_name().into_string() else { continue };
            let blobs = entry.path().join(BLOB_DIR);
            let files = match fs::read_dir(&blobs) {
                Ok(files) => files,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for file in files {
                let file = file?;
                let Some(id) = file.file_name().to_str().and_then(blob_id) else { continue };
                max_id = max_id.max(id);
                if !referenced.contains(&(bucket.clone(), id)) {
                    fs::remove_file(file.path())?;
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed object blobs that no object names");
        }
        Ok(ObjectIndex { root: root.to_owned(), db, next_blob: AtomicU64::new(max_id.saturating_add(1)) })
    }

    /// Stores `body` under `key`, replacing any object there atomically. Durable (blob fsynced,
    /// index committed) before `Ok`. Putting the same content again is harmless: same ETag, newer
    /// `last_modified`.
    pub fn put(&self, bucket: &str, key: &str, body: &[u8], options: &PutObject) -> Result<ObjectInfo, StoreError> {
        check_bucket(bucket)?;
        let blobs = self.ensure_blob_dir(bucket)?;
        let id = self.next_blob.fetch_add(1, Ordering::Relaxed);
        let path = blobs.join(blob_name(id));
        if let Err(e) = write_blob(&path, body).and_then(|()| sync_dir(&blobs)) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        let stored = StoredObject {
            size: body.len() as u64,
            md5: etag_md5(body),
            last_modified: Timestamp::now(),
            content_type: options.content_type.clone(),
            user_metadata: options
                .user_metadata
                .iter()
                .map(|(name, value)| (name.to_lowercase(), value.clone()))
                .collect(),
            blob: id,
        };
        let replaced = match self.commit_put(bucket, key, &stored) {
            Ok(replaced) => replaced,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        };
        if let Some(old) = replaced {
            self.remove_blob(bucket, old.blob);
        }
        Ok(stored.info(key))
    }

    /// The object and its bytes, or `None` if there is no such key.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Option<(ObjectInfo, Vec<u8>)>, StoreError> {
        check_bucket(bucket)?;
        let mut missing_once: Option<u64> = None;
        for _ in 0..READ_ATTEMPTS {
            let Some(stored) = self.lookup(bucket, key)? else { return Ok(None) };
            match fs::read(self.blob_path(bucket, stored.blob)) {
                Ok(bytes) if bytes.len() as u64 == stored.size => return Ok(Some((stored.info(key), bytes))),
                Ok(bytes) => {
                    return Err(StoreError::Corrupt {
                        table: TABLE_NAME,
                        key: format!("{bucket}/{key}"),
                        reason: format!(
                            "blob {} has {} bytes, not {}",
                            blob_name(stored.blob),
                            bytes.len(),
                            stored.size
                        ),
                    });
                }
                // Replaced or deleted since the lookup: look again. The same blob missing twice is damage.
                Err(e) if e.kind() == ErrorKind::NotFound && missing_once != Some(stored.blob) => {
                    missing_once = Some(stored.blob);
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Err(StoreError::Corrupt {
                        table: TABLE_NAME,
                        key: format!("{bucket}/{key}"),
                        reason: format!("blob {} is missing", blob_name(stored.blob)),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Database(format!("{bucket}/{key} kept changing while being read")))
    }

    /// The object without its bytes, or `None`.
    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        check_bucket(bucket)?;
        Ok(self.lookup(bucket, key)?.map(|stored| stored.info(key)))
    }

    /// Removes the object; `false` if there was none. Durable before `Ok`.
    pub fn delete(&self, bucket: &str, key: &str) -> Result<bool, StoreError> {
        check_bucket(bucket)?;
        let index_key = index_key(bucket, key);
        let txn = self.db.begin_write().map_err(db_err)?;
        let removed = {
            let mut table = txn.open_table(OBJECTS).map_err(db_err)?;
            let removed = table.remove(index_key.as_slice()).map_err(db_err)?;
            match removed {
                Some(value) => Some(StoredObject::decode(&index_key, value.value())?),
                None => None,
            }
        };
        let Some(removed) = removed else {
            // Nothing changed: nothing to commit.
            txn.abort().map_err(db_err)?;
            return Ok(false);
        };
        txn.commit().map_err(db_err)?;
        self.remove_blob(bucket, removed.blob);
        Ok(true)
    }

    /// Keys in byte order, strictly after `query.start_after`, starting with `query.prefix`, at most
    /// `query.max_keys` keys and common prefixes, keys grouped by `query.delimiter` as S3 does.
    pub fn list(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StoreError> {
        check_bucket(bucket)?;
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(OBJECTS).map_err(db_err)?;
        list::list(&table, bucket, query)
    }

    /// Whether the bucket holds no object.
    pub fn is_empty(&self, bucket: &str) -> Result<bool, StoreError> {
        check_bucket(bucket)?;
        let start = bucket_start(bucket);
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(OBJECTS).map_err(db_err)?;
        let mut range = table.range::<&[u8]>(start.as_slice()..).map_err(db_err)?;
        match range.next() {
            Some(row) => {
                let (key, _) = row.map_err(db_err)?;
                Ok(!key.value().starts_with(&start))
            }
            None => Ok(true),
        }
    }

    fn lookup(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let index_key = index_key(bucket, key);
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(OBJECTS).map_err(db_err)?;
        let Some(value) = table.get(index_key.as_slice()).map_err(db_err)? else { return Ok(None) };
        StoredObject::decode(&index_key, value.value()).map(Some)
    }

    /// Commits `stored` under the key; returns the object it replaced.
    fn commit_put(&self, bucket: &str, key: &str, stored: &StoredObject) -> Result<Option<StoredObject>, StoreError> {
        let index_key = index_key(bucket, key);
        let value = stored.encode()?;
        let txn = self.db.begin_write().map_err(db_err)?;
        let replaced = {
            let mut table = txn.open_table(OBJECTS).map_err(db_err)?;
            let old = table.insert(index_key.as_slice(), value.as_slice()).map_err(db_err)?;
            // An unreadable old value only loses its blob to the next open's cleanup.
            old.and_then(|old| StoredObject::decode(&index_key, old.value()).ok())
        };
        txn.commit().map_err(db_err)?;
        Ok(replaced)
    }

    fn blob_path(&self, bucket: &str, id: u64) -> PathBuf {
        self.root.join(bucket).join(BLOB_DIR).join(blob_name(id))
    }

    /// `<root>/<bucket>/blobs`, created (durably) if missing.
    fn ensure_blob_dir(&self, bucket: &str) -> Result<PathBuf, StoreError> {
        let bucket_dir = self.root.join(bucket);
        let blobs = bucket_dir.join(BLOB_DIR);
        if !blobs.is_dir() {
            let bucket_dir_existed = bucket_dir.is_dir();
            fs::create_dir_all(&blobs)?;
            sync_dir(&bucket_dir)?;
            if !bucket_dir_existed {
                sync_dir(&self.root)?;
            }
        }
        Ok(blobs)
    }

    /// Removes a blob no object names any more; a failure only leaves it to the next open.
    fn remove_blob(&self, bucket: &str, id: u64) {
        match fs::remove_file(self.blob_path(bucket, id)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%error, bucket, blob = id, "cannot remove a replaced object blob"),
        }
    }
}

/// Writes a new blob file and fsyncs it.
fn write_blob(path: &Path, body: &[u8]) -> Result<(), StoreError> {
    let mut file = File::create_new(path)?;
    file.write_all(body)?;
    file.sync_all()?;
    Ok(())
}

/// An S3 ETag's digest: the hex MD5 of the object's bytes (clients such as the AWS CLI compare it with
/// their own; nothing here relies on MD5's collision resistance).
fn etag_md5(body: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(body))
}
