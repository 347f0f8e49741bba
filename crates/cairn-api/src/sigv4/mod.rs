//! SigV4 request verification.
