//! The metadata store: one redb file of versioned records, one table per record type.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

use crate::StoreError;

/// Every value starts with this byte; a later format bumps it and migrates.
pub(crate) const RECORD_FORMAT_VERSION: u8 = 1;

/// The embedded transactional store behind every [`crate::Registry`].
pub struct MetaStore {
    db: Database,
}

impl std::fmt::Debug for MetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaStore").finish_non_exhaustive()
    }
}

/// One write of a transaction: a whole encoded value or a deletion.
#[derive(Debug)]
pub struct Write {
    pub table: &'static str,
    pub key: String,
    /// `None` deletes the key.
    pub value: Option<Vec<u8>>,
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

impl MetaStore {
    /// Opens (or creates) `path`, readable by its owner only: it holds secrets.
    pub fn open(path: &Path) -> Result<MetaStore, StoreError> {
        let db = Database::create(path).map_err(db_err)?;
        restrict_to_owner(path)?;
        Ok(MetaStore { db })
    }

    /// All `(key, value)` pairs of `table`, in key order.
    pub fn scan(&self, table: &'static str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let definition: TableDefinition<&str, &[u8]> = TableDefinition::new(table);
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = match txn.open_table(definition) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(db_err(e)),
        };
        let mut rows = Vec::new();
        for row in table.iter().map_err(db_err)? {
            let (key, value) = row.map_err(db_err)?;
            rows.push((key.value().to_owned(), value.value().to_vec()));
        }
        Ok(rows)
    }

    /// Applies `writes` atomically; returns once they are durable.
    pub fn commit_durable(&self, writes: &[Write]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        for write in writes {
            let definition: TableDefinition<&str, &[u8]> = TableDefinition::new(write.table);
            let mut table = txn.open_table(definition).map_err(db_err)?;
            match &write.value {
                Some(value) => {
                    table.insert(write.key.as_str(), value.as_slice()).map_err(db_err)?;
                }
                None => {
                    table.remove(write.key.as_str()).map_err(db_err)?;
                }
            }
        }
        txn.commit().map_err(db_err)
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}
