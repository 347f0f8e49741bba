//! Placeholder: signing keys (filled in by its own change).
