//! The one integration-test binary: tidy checks over the source tree and
//! process-level tests of the real `cairn` executable.

mod corpus;
mod server;
mod tidy;
