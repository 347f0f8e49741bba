//! From a pattern document to validated branches, as event-ruler's `JsonRuleCompiler` does it.
//!
//! Fields nest by joining their names with `.` (so `{"detail.state": [...]}` and
//! `{"detail": {"state": [...]}}` name the same field). Each `$or` forks every branch built so
//! far into one per alternative; a field written after an `$or` is put into all of them,
//! replacing any value the alternative gave it. The messages are event-ruler's, checked in the
//! order its streaming parser meets them.
//!
//! event-ruler's `addRule` retries a rule its `$or`-aware compiler rejects with the older
//! compiler, for which `$or` is an ordinary field name: `{"$or": [{"cidr": "10.0.0.0/24"}]}`
//! is the field `$or` holding a CIDR. When both refuse a rule, the older one's message is
//! the one reported. Errors that are not parse errors in event-ruler (a bad CIDR, a number that
//! overflows) are reported at once, without the retry. The value arrays themselves, and their
//! match expressions, are read by `operators.rs`.

use std::cmp::Ordering;

use super::json::Json;
use super::operators::value_array;
use super::value::ValueMatcher;
use super::{Branch, Condition, PatternError, Test};

/// event-ruler's cap on the fields of one branch.
const MAX_FIELDS: usize = 256;

/// cairn's cap on the branches `$or`s expand a pattern into: each `$or` multiplies them, so a
/// few hundred characters could otherwise ask for millions. event-ruler has no such cap.
pub(crate) const MAX_BRANCHES: usize = 1000;

const OR: &str = "$or";

/// Field names event-ruler refuses inside an `$or` alternative: its operators, and words it
/// keeps for later ones.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// How a rule failed, which decides whether event-ruler retries it.
pub(super) enum Failure {
    /// A `JsonParseException`: the older compiler gets a go.
    Parse(String),
    /// Any other exception: reported as it is.
    Fatal(String),
}

pub(super) type Step<T> = Result<T, Failure>;

pub(super) fn parse_error<T>(message: impl Into<String>) -> Step<T> {
    Err(Failure::Parse(message.into()))
}

/// One element of a field's value array: a value test, or `{"exists": false}`.
#[derive(Clone)]
pub(super) enum Element {
    Value(ValueMatcher),
    Absent,
}

/// A branch as it is built: fields in the order first written, later writes replacing.
type Draft = Vec<(String, Vec<Element>)>;

/// The branches of the pattern object `members`.
pub(crate) fn compile(members: &[(Box<str>, Json)]) -> Result<Vec<Branch>, PatternError> {
    let drafts = match compile_with(members, true) {
        Ok(drafts) => drafts,
        Err(Failure::Fatal(message)) => return Err(PatternError::new(message)),
        // Without an `$or` anywhere the older compiler reads the rule the same way.
        Err(Failure::Parse(message)) if !mentions_or(members) => return Err(PatternError::new(message)),
        Err(Failure::Parse(_)) => match compile_with(members, false) {
            Ok(drafts) => drafts,
            Err(Failure::Parse(message) | Failure::Fatal(message)) => return Err(PatternError::new(message)),
        },
    };
    drafts.into_iter().map(finish).collect()
}

fn mentions_or(members: &[(Box<str>, Json)]) -> bool {
    fn walk(json: &Json) -> bool {
        match json {
            Json::Object(members) => members.iter().any(|(k, v)| &**k == OR || walk(v)),
            Json::Array(items) => items.iter().any(walk),
            _ => false,
        }
    }
    members.iter().any(|(k, v)| &**k == OR || walk(v))
}

/// `with_or` false is the older compiler: `$or` is a field name like any other.
fn compile_with(members: &[(Box<str>, Json)], with_or: bool) -> Step<Vec<Draft>> {
    let mut compiler = Compiler { with_or, path: Vec::new() };
    let mut drafts = Vec::new();
    compiler.object(&mut drafts, members, false)?;
    Ok(drafts)
}

struct Compiler {
    with_or: bool,
    path: Vec<String>,
}

impl Compiler {
    /// `inside_or`: within an `$or` alternative, where operator names are refused as fields.
    fn object(&mut self, drafts: &mut Vec<Draft>, members: &[(Box<str>, Json)], inside_or: bool) -> Step<()> {
        if members.is_empty() {
            return parse_error("Empty objects are not allowed");
        }
        for (name, value) in members {
            if self.with_or && &**name == OR {
                self.or(drafts, value)?;
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&&**name) {
                return parse_error(format!("{name} is Ruler reserved fieldName which cannot be used inside {OR}."));
            }
            match value {
                Json::Object(inner) => {
                    self.path.push(name.to_string());
                    self.object(drafts, inner, inside_or)?;
                    self.path.pop();
                }
                Json::Array(items) => {
                    let field = self.extended_name(name);
                    let elements = value_array(items)?;
                    put(drafts, field, elements);
                }
                _ => return parse_error(format!("\"{name}\" must be an object or an array")),
            }
        }
        Ok(())
    }

    fn or(&mut self, drafts: &mut Vec<Draft>, value: &Json) -> Step<()> {
        let before = std::mem::take(drafts);
        let Json::Array(alternatives) = value else {
            return parse_error(format!("It must be an Array followed with {OR}."));
        };
        for alternative in alternatives {
            let Json::Object(members) = alternative else {
                return parse_error(format!("Only JSON object is allowed in array of {OR} relationship."));
            };
            let mut forked = before.clone();
            if forked.is_empty() {
                forked.push(Draft::new());
            }
            self.object(&mut forked, members, true)?;
            drafts.extend(forked);
            if drafts.len() > MAX_BRANCHES {
                return Err(Failure::Fatal(format!(
                    "Event pattern expands to more than {MAX_BRANCHES} combinations of {OR} alternatives"
                )));
            }
        }
        if alternatives.len() < 2 {
            return parse_error(format!("There must have at least 2 Objects in {OR} relationship."));
        }
        Ok(())
    }

    /// event-ruler's `Path.extendedName`: an empty leading path adds no separator, so a first
    /// step named "" disappears.
    fn extended_name(&self, last: &str) -> String {
        let base = self.path.join(".");
        if base.is_empty() { last.to_owned() } else { format!("{base}.{last}") }
    }
}

fn put(drafts: &mut Vec<Draft>, field: String, elements: Vec<Element>) {
    if drafts.is_empty() {
        drafts.push(Draft::new());
    }
    for draft in drafts.iter_mut() {
        match draft.iter_mut().find(|(name, _)| *name == field) {
            Some(entry) => entry.1 = elements.clone(),
            None => draft.push((field.clone(), elements.clone())),
        }
    }
}

/// A finished branch: fields in event-ruler's order (Java `String` order, UTF-16 units),
/// value tests sorted and deduplicated so equal conditions compare equal.
fn finish(draft: Draft) -> Result<Branch, PatternError> {
    if draft.len() > MAX_FIELDS {
        return Err(PatternError::new(format!("Size of rule exceeds max value of {MAX_FIELDS}")));
    }
    let mut conditions: Vec<Condition> = draft
        .into_iter()
        .map(|(path, elements)| {
            let absent = elements.iter().any(|e| matches!(e, Element::Absent));
            let mut matchers: Vec<ValueMatcher> = elements
                .into_iter()
                .filter_map(|e| match e {
                    Element::Value(m) => Some(m),
                    Element::Absent => None,
                })
                .collect();
            matchers.sort();
            matchers.dedup();
            Condition { path: path.into(), test: Test { matchers, absent } }
        })
        .collect();
    conditions.sort_by(|a, b| java_order(&a.path, &b.path));
    Ok(Branch { conditions })
}

/// `String.compareTo`: by UTF-16 code units, which differs from `str`'s order only between
/// characters above U+FFFF and those in U+E000..U+FFFF.
pub(crate) fn java_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests;
