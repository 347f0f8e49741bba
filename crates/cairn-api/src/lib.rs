//! cairn's HTTP surface: SigV4 authentication, the AWS protocols, the CloudTrail
//! operation handlers and the embedded S3 endpoint.
//!
//! Brief overview: [`router`] builds the axum `Router`. Every request except
//! `GET /health` and `GET /metrics` is authenticated by `auth` (SigV4 via
//! [`sigv4`], keys looked up in `identities`), which yields a [`Caller`]. The
//! credential scope's service routes it: `cloudtrail` to the AWS JSON 1.1
//! dispatcher (`json11`, then the `X-Amz-Target` table in `cloudtrail`), `s3` to
//! the embedded bucket endpoint (`s3`). Handlers read and change stored state
//! through the registries in [`AppState`]; then `recorder` turns the call into a
//! CloudTrail event and appends it to the event store.
//!
//! Invariants: every failure a client sees is an AWS-shaped error (JSON
//! `{"__type","Message"}` or S3 XML), never a panic or an HTML page; secrets never
//! appear in responses or logs; a handler that changed state returns only after
//! the change is durable; no response is sent before the call's event is durable.
//!
//! Place in the DAG: depends on cairn-model, cairn-select and cairn-store; the
//! `cairn` binary builds an [`AppState`] from its configuration and serves
//! [`router`]. Tests: unit tests beside each module; the operation behaviour is
//! covered end to end by `tests/py` through boto3 and the AWS CLI.

mod auth;
mod caller;
mod cloudtrail;
mod cloudtrail_data;
pub mod console;
mod events;
mod http;
mod identities;
mod json11;
pub mod lake;
mod logs;
mod organizations;
mod pagination;
mod recorder;
mod s3;
pub mod settings;
pub mod sigv4;
mod state;
pub mod throttle;

pub use caller::Caller;
pub use http::router;
pub use lake::LakeQueries;
pub use state::{AppState, MetricsRenderer, StateParts};
