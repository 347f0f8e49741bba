//! CloudTrail's domain vocabulary: names, ARNs, regions, identities and AWS errors.
//!
//! Brief overview: input is parsed once at the edge into newtypes
//! ([`names::TrailName`], [`names::TrailRef`], [`arn::TrailArn`]) whose
//! constructors return the exact AWS error ([`error::ApiError`]) for bad input,
//! so handlers never see raw strings. [`identity::Principal`] is who made a call.
//!
//! Invariants: this crate does no IO and knows nothing of HTTP or storage.
//! Every error a client can see is an [`error::ErrorCode`] defined here.
//!
//! Place in the DAG: a leaf; every other cairn crate depends on it.
//! Tests: `names/tests.rs` holds the name rules as (input, message) rows.

pub mod arn;
pub mod clock;
pub mod error;
pub mod event;
pub mod identity;
pub mod names;
pub mod region;
pub mod trail;

pub use error::{ApiError, ErrorCode};
