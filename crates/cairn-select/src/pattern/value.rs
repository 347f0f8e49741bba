//! What one value of a field is compared with: the matchers of a pattern's value array, and
//! the event leaf they test.
//!
//! Strings and the other JSON scalars never meet: event-ruler keeps strings with their quotes,
//! so a string pattern (`"1000"`, a prefix, a wildcard) only matches strings and a number
//! pattern only numbers (`[1000]` does not match `"1000"`; `numeric` never matches `"1.08"`).
//! `anything-but` is the exception that proves it: a value it cannot compare is not excluded.

use std::borrow::Cow;

use serde_json::{Number, Value};

use super::case::Caseless;
use super::cidr::{CidrRange, IpAddress, parse_ip};
use super::numeric::{NumericRange, comparable};
use super::wildcard::Wildcard;

/// One scalar of an event, with its numeric value worked out once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf<'e> {
    Str(&'e str),
    /// `micros` is the comparable value (see `numeric`), if the number has one.
    Num {
        number: &'e Number,
        micros: Option<i64>,
    },
    Bool(bool),
    Null,
}

impl<'e> Leaf<'e> {
    /// The leaf a scalar value is; `None` for arrays and objects.
    pub(crate) fn of(value: &'e Value) -> Option<Leaf<'e>> {
        Some(match value {
            Value::String(s) => Leaf::Str(s),
            Value::Number(number) => Leaf::Num { number, micros: number_micros(number) },
            Value::Bool(b) => Leaf::Bool(*b),
            Value::Null => Leaf::Null,
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    /// The text a non-string leaf has in the event (`true`, `null`, `12.5`).
    pub(crate) fn literal_text(&self) -> Option<Cow<'static, str>> {
        match self {
            Leaf::Str(_) => None,
            Leaf::Num { number, .. } => Some(Cow::Owned(number.to_string())),
            Leaf::Bool(true) => Some(Cow::Borrowed("true")),
            Leaf::Bool(false) => Some(Cow::Borrowed("false")),
            Leaf::Null => Some(Cow::Borrowed("null")),
        }
    }

    pub(crate) fn micros(&self) -> Option<i64> {
        match self {
            Leaf::Num { micros, .. } => *micros,
            _ => None,
        }
    }
}

/// An event number's comparable value. serde_json keeps integers exactly; a float is taken at
/// its shortest round-trip text, which is the text it was written with in all but odd cases
/// (`1.50` is read as `1.5`: the same decimal).
fn number_micros(number: &Number) -> Option<i64> {
    const LIMIT: i64 = 500_000_000_000;
    if let Some(i) = number.as_i64() {
        return (-LIMIT..=LIMIT).contains(&i).then(|| i * 1_000_000);
    }
    if number.is_u64() {
        return None; // beyond i64, so beyond 5.0E11
    }
    comparable(&number.to_string()).ok()
}

/// One element of a pattern's value array, after validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ValueMatcher {
    /// A string (or `{"exactly": ...}`) that is not read as an IP address.
    Exact(Box<str>),
    /// A plain string that is an IP address: it matches any spelling of that address.
    ExactIp(IpAddress),
    /// A number with a comparable value (also what `{"numeric": ["=", n]}` is).
    Number(i64),
    /// `true`, `false`, `null`, or a number without a comparable value (matched by its text).
    Literal(Box<str>),
    Prefix(Box<str>),
    PrefixIgnoreCase(Caseless),
    Suffix(Box<str>),
    SuffixIgnoreCase(Caseless),
    EqualsIgnoreCase(Caseless),
    Wildcard(Wildcard),
    Numeric(NumericRange),
    Cidr(CidrRange),
    AnythingBut(AnythingBut),
    /// `{"exists": true}`: any value at all, `null` included.
    Exists,
}

/// The values `anything-but` excludes; a value matches when it is not one of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum AnythingBut {
    Strings(Vec<Box<str>>),
    Numbers(Vec<i64>),
    Prefixes(Vec<Box<str>>),
    Suffixes(Vec<Box<str>>),
    IgnoreCase(Vec<Caseless>),
    Wildcards(Vec<Wildcard>),
}

impl ValueMatcher {
    pub(crate) fn matches(&self, leaf: &Leaf<'_>) -> bool {
        match self {
            ValueMatcher::Exists => true,
            ValueMatcher::AnythingBut(excluded) => !excluded.excludes(leaf),
            ValueMatcher::Number(n) => leaf.micros() == Some(*n),
            ValueMatcher::Numeric(range) => leaf.micros().is_some_and(|v| range.contains(v)),
            ValueMatcher::Literal(text) => leaf.literal_text().is_some_and(|t| *t == **text),
            _ => match leaf {
                Leaf::Str(s) => self.matches_string(s),
                _ => false,
            },
        }
    }

    fn matches_string(&self, s: &str) -> bool {
        match self {
            ValueMatcher::Exact(text) => s == &**text,
            ValueMatcher::ExactIp(ip) => parse_ip(s) == Some(*ip),
            ValueMatcher::Prefix(p) => s.starts_with(&**p),
            ValueMatcher::PrefixIgnoreCase(p) => p.is_prefix_of(s),
            ValueMatcher::Suffix(p) => s.ends_with(&**p),
            ValueMatcher::SuffixIgnoreCase(p) => p.is_suffix_of(s),
            ValueMatcher::EqualsIgnoreCase(p) => p.equals(s),
            ValueMatcher::Wildcard(w) => w.matches(s),
            ValueMatcher::Cidr(range) => parse_ip(s).is_some_and(|ip| range.contains(ip)),
            ValueMatcher::Number(_)
            | ValueMatcher::Literal(_)
            | ValueMatcher::Numeric(_)
            | ValueMatcher::AnythingBut(_)
            | ValueMatcher::Exists => false,
        }
    }
}

impl AnythingBut {
    fn excludes(&self, leaf: &Leaf<'_>) -> bool {
        if let AnythingBut::Numbers(numbers) = self {
            return leaf.micros().is_some_and(|v| numbers.contains(&v));
        }
        let Leaf::Str(s) = leaf else { return false };
        match self {
            AnythingBut::Strings(values) => values.iter().any(|v| **v == **s),
            AnythingBut::Prefixes(values) => values.iter().any(|v| s.starts_with(&**v)),
            AnythingBut::Suffixes(values) => values.iter().any(|v| s.ends_with(&**v)),
            AnythingBut::IgnoreCase(values) => values.iter().any(|v| v.equals(s)),
            AnythingBut::Wildcards(values) => values.iter().any(|v| v.matches(s)),
            AnythingBut::Numbers(_) => false,
        }
    }
}
