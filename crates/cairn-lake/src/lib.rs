//! CloudTrail Lake: event data stores kept as datasets of Lake-schema Parquet segments, and the
//! SQL that queries them (DataFusion, with Trino's functions).
//!
//! Data flow: [`Lake`]'s feeder copies recorded events from the write-ahead log into each store
//! ([`store::StoreData`]: segments plus an in-memory tail; [`convert`] builds the columns of
//! [`schema`]); StartQuery [`sql::prepare`]s a statement (one SELECT, store IDs quoted),
//! [`engine`] plans it over the stores' tables and runs it in the background; [`render`] turns
//! values into Lake's strings, kept as [`results::QueryResult`]s.
//!
//! This crate is the only one that depends on DataFusion, and the ingest path does not depend on it.

pub mod activity;
pub mod convert;
mod count_by_text;
pub mod engine;
pub mod export;
pub mod functions;
mod json;
mod lake;
pub mod render;
pub mod results;
pub mod schema;
mod segment_table;
pub mod sql;
pub mod store;

pub use cairn_store::records::QueryRequest;
pub use lake::{Lake, LakeConfig, LakeParts, QUERY_KEEP_DAYS, RESTORE_DAYS, ResultSink};
pub use results::QueryResult;
