//! HTTP surface.

pub mod sigv4;
