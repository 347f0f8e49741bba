//! cairn's durable control-plane state: accounts' credentials, trails and embedded buckets.
//!
//! Brief overview: [`meta::MetaStore`] is an embedded transactional key-value
//! store (redb) holding versioned records. A [`registry::Registry`] keeps every
//! record of one [`registry::Record`] type in memory and writes each change
//! through to the `MetaStore` before it becomes visible, so readers never see
//! state that a crash could take back. [`records`] defines the record types.
//!
//! Invariants: a `Registry::transact` that returns `Ok` has committed its
//! changes durably (redb's immediate durability, fsync before return). This
//! crate knows nothing of HTTP; errors it returns are [`StoreError`].
//!
//! Place in the DAG: depends on cairn-model and cairn-select; used by cairn-api
//! and the `cairn` binary. Tests: `registry/tests.rs` (restart-twice).

pub mod events;
pub mod meta;
pub mod records;
pub mod registry;
pub mod wal;

pub use meta::MetaStore;
pub use registry::{Change, Record, Registry};

/// A failure of the metadata store; always an internal failure to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("metadata database: {0}")]
    Database(String),
    #[error("record {table}/{key} is unreadable: {reason}")]
    Corrupt { table: &'static str, key: String, reason: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("write-ahead log: {0}")]
    Wal(#[from] crate::wal::WalError),
}

impl From<StoreError> for cairn_model::ApiError {
    /// Clients see only `InternalFailure`; the cause goes to the log.
    fn from(error: StoreError) -> cairn_model::ApiError {
        tracing::error!(%error, "metadata store failure");
        cairn_model::ApiError::internal()
    }
}
