//! Trail delivery (design.md §2): each logging trail reads the write-ahead log from its own durable
//! cursor, keeps the events its selectors choose, and writes them as gzip log files to S3-compatible
//! storage, with hourly signed digest files and SNS-style notifications.
//!
//! Modules: `signing` (per-region RSA keys, rotation, ListPublicKeys), `digest` (the digest file and
//! its signature, spec/formats.md §3), `layout` (object keys, §2.1), `destination` (embedded buckets
//! and external S3-compatible endpoints), `notify` (SNS-format notifications), `worker` (the per-trail
//! delivery loop with its cursor and intents).
//!
//! Place in the DAG: depends on cairn-model, cairn-select and cairn-store; used by cairn-api (status,
//! ListPublicKeys) and the binary (wiring). Knows nothing of HTTP serving.

pub mod batch;
pub mod destination;
pub mod digest;
mod digests;
mod files;
pub mod layout;
pub mod notify;
pub mod rules;
mod service;
pub mod signing;
pub mod state;
pub mod stream;
mod worker;

pub use service::{Deliverer, DeliveryConfig, DeliveryParts, DeliveryStartError, OrganizationScope};
