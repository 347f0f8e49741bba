//! A registry: all records of one type in memory, written through to the metadata store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;
use crate::meta::{MetaStore, RECORD_FORMAT_VERSION, Write};

/// A record type kept in a [`Registry`].
pub trait Record: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// The metadata-store table holding this type.
    const TABLE: &'static str;
    /// The record's unique key within its table.
    fn key(&self) -> String;
}

/// One change a transaction makes.
#[derive(Debug, Clone)]
pub enum Change<T> {
    Put(T),
    Delete(String),
}

/// Every record of type `T`, readable from memory, changed only through
/// [`Registry::transact`].
#[derive(Debug)]
pub struct Registry<T> {
    meta: Arc<MetaStore>,
    // Invariant: equal to the table's content in `meta` whenever the lock is free.
    items: Mutex<BTreeMap<String, T>>,
}

impl<T: Record> Registry<T> {
    /// Loads every record of `T::TABLE`.
    pub fn load(meta: Arc<MetaStore>) -> Result<Registry<T>, StoreError> {
        let mut items = BTreeMap::new();
        for (key, bytes) in meta.scan(T::TABLE)? {
            let record = decode::<T>(&key, &bytes)?;
            items.insert(key, record);
        }
        Ok(Registry { meta, items: Mutex::new(items) })
    }

    pub fn get(&self, key: &str) -> Option<T> {
        self.lock().get(key).cloned()
    }

    /// A copy of every record, in key order.
    pub fn all(&self) -> Vec<T> {
        self.lock().values().cloned().collect()
    }

    /// Runs `read` on the current records, consistent with every committed transaction.
    pub fn read<R>(&self, read: impl FnOnce(&BTreeMap<String, T>) -> R) -> R {
        read(&self.lock())
    }

    /// Runs `decide` on the current records and commits the changes it returns,
    /// durably, before any reader can see them. Transactions are serialised, so
    /// a check made in `decide` (a quota, a name clash) still holds at commit.
    pub fn transact<R, E: From<StoreError>>(
        &self,
        decide: impl FnOnce(&BTreeMap<String, T>) -> Result<(R, Vec<Change<T>>), E>,
    ) -> Result<R, E> {
        let mut items = self.lock();
        let (result, changes) = decide(&items)?;
        if changes.is_empty() {
            return Ok(result);
        }
        let mut writes = Vec::with_capacity(changes.len());
        for change in &changes {
            writes.push(match change {
                Change::Put(record) => Write { table: T::TABLE, key: record.key(), value: Some(encode(record)?) },
                Change::Delete(key) => Write { table: T::TABLE, key: key.clone(), value: None },
            });
        }
        self.meta.commit_durable(&writes)?;
        for change in changes {
            match change {
                Change::Put(record) => {
                    items.insert(record.key(), record);
                }
                Change::Delete(key) => {
                    items.remove(&key);
                }
            }
        }
        Ok(result)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, T>> {
        // A panic while holding the lock cannot leave the map half-changed:
        // it is only mutated after a successful commit, with no fallible step.
        self.items.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn encode<T: Record>(record: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![RECORD_FORMAT_VERSION];
    serde_json::to_writer(&mut bytes, record).map_err(|e| StoreError::Corrupt {
        table: T::TABLE,
        key: record.key(),
        reason: e.to_string(),
    })?;
    Ok(bytes)
}

fn decode<T: Record>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { table: T::TABLE, key: key.to_owned(), reason };
    match bytes.split_first() {
        Some((&RECORD_FORMAT_VERSION, json)) => serde_json::from_slice(json).map_err(|e| corrupt(e.to_string())),
        Some((version, _)) => Err(corrupt(format!("unknown record format version {version}"))),
        None => Err(corrupt("empty value".to_owned())),
    }
}

#[cfg(test)]
mod tests;
