//! Placeholder: the digest file format (filled in by its own change).
