//! cairn's durable state: the event log and Event history, and the control-plane
//! records (credentials, trails, embedded buckets).
//!
//! Brief overview: [`wal::Wal`] is the write-ahead log every event enters first
//! (segments, CRC32C per record, group-commit fsync). [`events::EventStore`] owns it
//! and derives Event history: an in-memory tail of recent events plus a
//! [`dataset::Dataset`] of immutable Parquet segments and a versioned manifest on an
//! `object_store`. [`meta::MetaStore`] is an embedded transactional key-value store
//! (redb) of versioned control-plane records; a [`registry::Registry`] keeps every
//! record of one [`registry::Record`] type in memory and writes each change through
//! before it becomes visible. [`records`] defines those record types.
//!
//! Invariants: an append or a `Registry::transact` that returned `Ok` is on disk;
//! a torn WAL tail is cut, any other damage is reported, never skipped silently;
//! an event is in exactly one of a committed segment and the replayed WAL. This
//! crate knows nothing of HTTP; errors it returns are [`StoreError`].
//!
//! Place in the DAG: depends on cairn-model and cairn-select; used by cairn-api
//! and the `cairn` binary. Tests: `wal/tests.rs` and `wal/recovery/tests.rs`
//! (torn tails at every offset), `events/tests.rs` (restart twice, tail and
//! segments agree with a brute-force filter), `registry/tests.rs`.

pub mod dataset;
pub mod events;
pub mod logs;
pub mod meta;
pub mod objects;
pub mod records;
pub mod registry;
pub mod rules;
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
    #[error("history dataset: {0}")]
    Dataset(#[from] crate::dataset::DatasetError),
}

impl From<StoreError> for cairn_model::ApiError {
    /// Clients see only `InternalFailure`; the cause goes to the log.
    fn from(error: StoreError) -> cairn_model::ApiError {
        tracing::error!(%error, "metadata store failure");
        cairn_model::ApiError::internal()
    }
}
