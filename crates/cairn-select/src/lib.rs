//! Event selectors: which events a trail or event data store takes.
