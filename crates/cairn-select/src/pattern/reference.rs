//! One pattern against one event, the plain way: the semantics written out, and the oracle the
//! compiled [`RuleMatcher`](super::RuleMatcher) is property-tested against.
//!
//! The event is flattened into its leaves: a field's name is the `.`-joined path of object keys
//! (arrays add nothing), and each leaf remembers, for every array of objects or arrays it sits
//! in, which element it is in. Two leaves are *consistent* when they agree on every array they
//! share. A branch matches when its conditions, taken in event-ruler's field order, can be
//! satisfied one after the other: a value test by some leaf of that field that passes it and is
//! consistent with the leaves chosen so far; `{"exists": false}` when no leaf of that field is
//! consistent with them. (So absence is judged against the fields before it in that order only,
//! exactly as event-ruler's state machine does.)

use serde_json::{Map, Value};

use super::paths::MAX_EVENT_DEPTH;
use super::value::Leaf;
use super::{Branch, EventPattern};

/// `(array number, element index)` for each enclosing array, outermost first.
type Membership = Vec<(u32, u32)>;

struct Flat<'e> {
    path: String,
    leaf: Leaf<'e>,
    membership: Membership,
}

pub(crate) fn matches(pattern: &EventPattern, event: &Value) -> bool {
    let Value::Object(root) = event else { return false };
    let mut flattener = Flattener::default();
    flattener.object(root, 0);
    pattern.branches.iter().any(|branch| branch_matches(branch, 0, &flattener.leaves, &Vec::new()))
}

#[derive(Default)]
struct Flattener<'e> {
    path: Vec<&'e str>,
    membership: Membership,
    arrays: u32,
    leaves: Vec<Flat<'e>>,
}

impl<'e> Flattener<'e> {
    fn object(&mut self, object: &'e Map<String, Value>, depth: usize) {
        for (key, value) in object {
            self.path.push(key);
            self.value(value, depth + 1);
            self.path.pop();
        }
    }

    fn value(&mut self, value: &'e Value, depth: usize) {
        if depth > MAX_EVENT_DEPTH {
            return;
        }
        match value {
            Value::Object(object) => self.object(object, depth),
            Value::Array(items) => {
                let array = self.arrays;
                self.arrays += 1;
                for (index, item) in items.iter().enumerate() {
                    // Only elements that are objects or arrays are told apart; the scalars of
                    // one array are all equally consistent with everything.
                    if let Value::Object(_) | Value::Array(_) = item {
                        self.membership.push((array, index as u32));
                        self.value(item, depth + 1);
                        self.membership.pop();
                    } else {
                        self.leaf(item);
                    }
                }
            }
            scalar => self.leaf(scalar),
        }
    }

    fn leaf(&mut self, value: &'e Value) {
        if let Some(leaf) = Leaf::of(value) {
            self.leaves.push(Flat { path: self.path.join("."), leaf, membership: self.membership.clone() });
        }
    }
}

fn consistent(a: &Membership, b: &Membership) -> bool {
    a.iter().all(|(array, index)| b.iter().all(|(other, other_index)| array != other || index == other_index))
}

fn union(a: &Membership, b: &Membership) -> Membership {
    let mut merged = a.clone();
    for entry in b {
        if !merged.contains(entry) {
            merged.push(*entry);
        }
    }
    merged
}

fn branch_matches(branch: &Branch, at: usize, leaves: &[Flat<'_>], chosen: &Membership) -> bool {
    let Some(condition) = branch.conditions.get(at) else { return true };
    let named = || leaves.iter().filter(|l| *l.path == *condition.path);
    for leaf in named() {
        if consistent(chosen, &leaf.membership)
            && condition.test.matchers.iter().any(|m| m.matches(&leaf.leaf))
            && branch_matches(branch, at + 1, leaves, &union(chosen, &leaf.membership))
        {
            return true;
        }
    }
    condition.test.absent
        && named().all(|l| !consistent(chosen, &l.membership))
        && branch_matches(branch, at + 1, leaves, chosen)
}
