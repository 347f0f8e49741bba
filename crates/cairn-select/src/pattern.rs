//! EventBridge event patterns: validation, and matching events against many rules at once.
//!
//! **Semantics.** Those of aws/event-ruler, the engine behind EventBridge, with array-consistent
//! matching (its `rulesForJSONEvent`). A pattern is a JSON object whose leaves are arrays of
//! accepted values: exact strings, numbers, `true`/`false`/`null`, or match expressions
//! (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `cidr`,
//! `exists`), with `$or` for alternatives. An event matches when, for every field of some
//! alternative, one of the field's values in the event passes one of the accepted values —
//! and all the values chosen come from the same element of any array of objects they share.
//! Field names are `.`-joined paths (a dotted key in a pattern or an event is the same as
//! nesting); only scalars are field values, so `{"exists": true}` never holds for an object
//! and `{"exists": false}` always does. `reference.rs` spells the rules out.
//!
//! **Principal types and data flow.** [`EventPattern::parse`] reads and validates a pattern
//! (errors: [`PatternError`], EventBridge's `InvalidEventPatternException` with event-ruler's
//! message) into its alternatives ("branches"), each a list of conditions (field, value tests,
//! whether absence is accepted) in event-ruler's field order. [`RuleMatcher`] holds many
//! patterns under caller-chosen ids, added and removed one at a time (`PutRule`,
//! `DeleteRule`), compiled into one shared trie of conditions (`matcher.rs`, walked by
//! `search.rs`) whose edges are
//! found through per-field value indexes (`index.rs`: hash maps for exact values, length-keyed
//! maps for prefixes and suffixes, lists for the rarer operators). Matching an event flattens
//! only the fields some rule names and walks the trie from the root, so its cost follows the
//! conditions the event satisfies, not the number of rules (`paths.rs` finds the leaves rules
//! name without looking at the rest of the event). [`EventPattern::matches`] tests one pattern
//! directly, without an index (`reference.rs`).
//!
//! **Invariants.** No IO, no global state; matching never panics on any JSON. An event that is
//! not a JSON object matches nothing (event-ruler refuses it). A rule's outcome never depends
//! on the other rules in the same matcher. A pattern expands to at most 1,000 branches (a cairn
//! limit; see `parse.rs`).

/// Equality, hashing and order of a compiled operand by the pattern text it was compiled from
/// (the compiled form follows from the text).
macro_rules! identity_is_source {
    ($type:ty) => {
        impl PartialEq for $type {
            fn eq(&self, other: &Self) -> bool {
                self.source == other.source
            }
        }

        impl Eq for $type {}

        impl std::hash::Hash for $type {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.source.hash(state);
            }
        }

        impl PartialOrd for $type {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $type {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.source.cmp(&other.source)
            }
        }
    };
}

mod case;
mod cidr;
mod error;
mod index;
mod json;
mod matcher;
mod numeric;
mod operators;
mod parse;
mod paths;
mod reference;
mod search;
mod value;
mod wildcard;

use std::str::FromStr;

pub use error::PatternError;
pub use matcher::RuleMatcher;
pub use search::MatchScratch;

use json::{Json, ReadError};

/// The matcher's hash maps: foldhash is several times faster than SipHash on the short keys
/// matching looks up (field names, values), and seeded at random per map like std's.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
use value::ValueMatcher;

/// A validated event pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPattern {
    branches: Vec<Branch>,
}

/// One alternative of a pattern (`$or` makes several): conditions in event-ruler's field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Branch {
    pub(crate) conditions: Vec<Condition>,
}

/// What a branch asks of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    pub(crate) path: Box<str>,
    pub(crate) test: Test,
}

/// The accepted values of a field: any of `matchers` (sorted, distinct), or, when `absent`,
/// the field missing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Test {
    pub(crate) matchers: Vec<ValueMatcher>,
    pub(crate) absent: bool,
}

impl EventPattern {
    /// Reads and validates a pattern document, as `PutRule`'s `EventPattern` carries it.
    pub fn parse(text: &str) -> Result<EventPattern, PatternError> {
        match json::read_object(text) {
            Ok(object) => EventPattern::compile(&object),
            Err(ReadError::NotAnObject) => Err(PatternError::new("Filter is not an object")),
            Err(ReadError::Syntax(message)) => Err(PatternError::new(message)),
        }
    }

    /// Validates a pattern already parsed as JSON.
    ///
    /// [`EventPattern::parse`] is the faithful entry point: a `Value` has lost repeated keys
    /// and the written form of its numbers.
    pub fn from_value(value: &serde_json::Value) -> Result<EventPattern, PatternError> {
        EventPattern::compile(&json::from_value(value))
    }

    fn compile(object: &Json) -> Result<EventPattern, PatternError> {
        let Json::Object(members) = object else {
            return Err(PatternError::new("Filter is not an object"));
        };
        Ok(EventPattern { branches: parse::compile(members)? })
    }

    /// Whether `event` matches this pattern, tested directly (no index): the reference
    /// semantics. Use a [`RuleMatcher`] to test many patterns.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        reference::matches(self, event)
    }

    /// How many alternatives `$or` expands this pattern into.
    pub fn branch_count(&self) -> usize {
        self.branches.len()
    }
}

impl FromStr for EventPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<EventPattern, PatternError> {
        EventPattern::parse(text)
    }
}
