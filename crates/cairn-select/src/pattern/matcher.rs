//! Many patterns compiled into one trie of conditions; `search.rs` walks it for an event.
//!
//! Each branch of each rule is a path from the root: one edge per condition (a field and its
//! test), the rule recorded at the node the path ends on. Branches that begin with the same
//! conditions share their beginning, so ten thousand rules that all ask for
//! `detail-type = "AWS API Call via CloudTrail"` cross one edge, and the ten thousand
//! `eventName`s behind it are one hash lookup away. Matching walks from the root: at a node,
//! each field it has edges on is looked up among the event's leaves, the value index gives the
//! edges a leaf takes, and the walk goes on from their ends carrying the array elements chosen
//! so far (array consistency); an edge that accepts absence is taken when no leaf of its field
//! is consistent with them. A node reached twice with the same array elements is not walked
//! again, which bounds the work by the number of distinct (node, elements) states.
//!
//! Where the conditions of a branch go on the path is free when it has no `exists: false`
//! (which leaves are chosen does not depend on the order they are chosen in): exact tests go
//! first, then prefix-like ones, `exists`, and the scanned operators last, so a walk narrows
//! down as early as it can. A branch with an absence keeps event-ruler's field order, because
//! there absence is judged against the fields before it.

use std::cell::RefCell;
use std::hash::Hash;

use serde_json::Value;

use super::FastMap;
use super::index::{EdgeId, ValueIndex};
use super::paths::{FieldId, Paths};
use super::search::{self, MatchScratch};
use super::value::ValueMatcher;
use super::{Branch, Condition, EventPattern, Test};

pub(super) type NodeId = u32;
pub(super) type Slot = u32;

pub(super) const ROOT: NodeId = 0;

/// A set of event patterns under ids of the caller's choosing (rule names, ARNs), matched
/// against events all at once.
///
/// Rules are added and removed one at a time; each change touches only the trie paths of that
/// rule. Matching takes `&self`, so a matcher behind a lock or an `Arc` serves many threads.
#[derive(Debug)]
pub struct RuleMatcher<K> {
    pub(super) paths: Paths,
    pub(super) nodes: Vec<Node>,
    free_nodes: Vec<NodeId>,
    pub(super) edges: Vec<Edge>,
    free_edges: Vec<EdgeId>,
    rules: FastMap<K, Installed>,
    /// The id of the rule in each slot (`None`: free); slots are what nodes record.
    pub(super) slots: Vec<Option<K>>,
    free_slots: Vec<Slot>,
}

#[derive(Debug)]
struct Installed {
    slot: Slot,
    pattern: EventPattern,
}

#[derive(Debug, Default)]
pub(super) struct Node {
    /// The node's edges by field, each field's found through its value index.
    pub(super) fields: Vec<FieldEdges>,
    edge_of: FastMap<EdgeKey, EdgeId>,
    /// Rules a branch of which ends here (a rule twice if two of its branches do).
    pub(super) rules: Vec<Slot>,
}

#[derive(Debug)]
pub(super) struct FieldEdges {
    pub(super) field: FieldId,
    pub(super) values: ValueIndex,
    /// Edges taken when the field is absent.
    pub(super) absent: Vec<EdgeId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EdgeKey {
    field: FieldId,
    test: Test,
}

#[derive(Debug)]
pub(super) struct Edge {
    pub(super) to: NodeId,
    key: EdgeKey,
    /// How many branches cross this edge.
    branches: u32,
}

impl<K> Default for RuleMatcher<K> {
    fn default() -> Self {
        RuleMatcher {
            paths: Paths::default(),
            nodes: vec![Node::default()],
            free_nodes: Vec::new(),
            edges: Vec::new(),
            free_edges: Vec::new(),
            rules: FastMap::default(),
            slots: Vec::new(),
            free_slots: Vec::new(),
        }
    }
}

impl<K: Clone + Eq + Hash> RuleMatcher<K> {
    /// An empty matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many rules the matcher holds.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn contains(&self, id: &K) -> bool {
        self.rules.contains_key(id)
    }

    /// Adds the rule `id`, replacing the pattern it had if it was there already.
    pub fn insert(&mut self, id: K, pattern: &EventPattern) {
        self.remove(&id);
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(id.clone());
                slot
            }
            None => {
                self.slots.push(Some(id.clone()));
                (self.slots.len() - 1) as Slot
            }
        };
        for branch in &pattern.branches {
            self.insert_branch(slot, branch);
        }
        self.rules.insert(id, Installed { slot, pattern: pattern.clone() });
    }

    /// Removes the rule `id`; whether it was there.
    pub fn remove(&mut self, id: &K) -> bool {
        let Some(installed) = self.rules.remove(id) else { return false };
        for branch in &installed.pattern.branches {
            self.remove_branch(installed.slot, branch);
        }
        self.slots[installed.slot as usize] = None;
        self.free_slots.push(installed.slot);
        true
    }

    /// The ids of the rules `event` matches, each once, in no particular order.
    pub fn matching(&self, event: &Value) -> Vec<K> {
        thread_local! {
            static SCRATCH: RefCell<MatchScratch> = RefCell::new(MatchScratch::default());
        }
        let mut out = Vec::new();
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.for_each_match(event, &mut scratch, |id| out.push(id.clone())),
            // Called again from inside a callback of the same thread: use a fresh scratch.
            Err(_) => self.for_each_match(event, &mut MatchScratch::default(), |id| out.push(id.clone())),
        });
        out
    }

    /// [`RuleMatcher::matching`] for an event given as JSON text (a CloudTrail record wrapped
    /// in its EventBridge envelope, say).
    pub fn matching_json(&self, event: &str) -> Result<Vec<K>, serde_json::Error> {
        Ok(self.matching(&serde_json::from_str(event)?))
    }

    /// Calls `found` with the id of each rule `event` matches, once per rule, reusing the
    /// buffers in `scratch` (which may be shared by any matchers, one call at a time).
    pub fn for_each_match(&self, event: &Value, scratch: &mut MatchScratch, mut found: impl FnMut(&K)) {
        let Value::Object(root) = event else { return };
        if self.rules.is_empty() {
            return;
        }
        for &slot in search::matched_slots(self, root, scratch) {
            if let Some(Some(id)) = self.slots.get(slot as usize) {
                found(id);
            }
        }
    }

    fn insert_branch(&mut self, slot: Slot, branch: &Branch) {
        let mut node = ROOT;
        for condition in trie_order(branch) {
            let field = self.paths.acquire(&condition.path);
            let key = EdgeKey { field, test: condition.test.clone() };
            let edge = match self.nodes[node as usize].edge_of.get(&key) {
                Some(&edge) => edge,
                None => self.add_edge(node, key),
            };
            self.edges[edge as usize].branches += 1;
            node = self.edges[edge as usize].to;
        }
        self.nodes[node as usize].rules.push(slot);
    }

    fn add_edge(&mut self, from: NodeId, key: EdgeKey) -> EdgeId {
        let to = match self.free_nodes.pop() {
            Some(id) => id,
            None => {
                self.nodes.push(Node::default());
                (self.nodes.len() - 1) as NodeId
            }
        };
        let edge = Edge { to, key: key.clone(), branches: 0 };
        let id = match self.free_edges.pop() {
            Some(id) => {
                self.edges[id as usize] = edge;
                id
            }
            None => {
                self.edges.push(edge);
                (self.edges.len() - 1) as EdgeId
            }
        };
        let node = &mut self.nodes[from as usize];
        let at = match node.fields.iter().position(|f| f.field == key.field) {
            Some(at) => at,
            None => {
                node.fields.push(FieldEdges { field: key.field, values: ValueIndex::default(), absent: Vec::new() });
                node.fields.len() - 1
            }
        };
        let field_edges = &mut node.fields[at];
        for matcher in &key.test.matchers {
            field_edges.values.insert(matcher, id);
        }
        if key.test.absent {
            field_edges.absent.push(id);
        }
        node.edge_of.insert(key, id);
        id
    }

    fn remove_branch(&mut self, slot: Slot, branch: &Branch) {
        let mut crossed = Vec::new();
        let mut node = ROOT;
        for condition in trie_order(branch) {
            let Some(field) = self.paths.get(&condition.path) else { break };
            let key = EdgeKey { field, test: condition.test.clone() };
            let Some(&edge) = self.nodes[node as usize].edge_of.get(&key) else { break };
            crossed.push((node, edge));
            node = self.edges[edge as usize].to;
        }
        let rules = &mut self.nodes[node as usize].rules;
        if let Some(at) = rules.iter().position(|&s| s == slot) {
            rules.swap_remove(at);
        }
        for (from, edge) in crossed.into_iter().rev() {
            let field = self.edges[edge as usize].key.field;
            self.edges[edge as usize].branches -= 1;
            if self.edges[edge as usize].branches == 0 {
                self.drop_edge(from, edge);
            }
            self.paths.release(field);
        }
    }

    /// Unlinks an edge no branch crosses any more, and the (now empty) node it led to.
    fn drop_edge(&mut self, from: NodeId, edge: EdgeId) {
        let key = self.edges[edge as usize].key.clone();
        let to = self.edges[edge as usize].to;
        let node = &mut self.nodes[from as usize];
        node.edge_of.remove(&key);
        if let Some(at) = node.fields.iter().position(|f| f.field == key.field) {
            let field_edges = &mut node.fields[at];
            for matcher in &key.test.matchers {
                field_edges.values.remove(matcher, edge);
            }
            field_edges.absent.retain(|&e| e != edge);
            if field_edges.values.is_empty() && field_edges.absent.is_empty() {
                node.fields.swap_remove(at);
            }
        }
        self.nodes[to as usize] = Node::default();
        self.free_nodes.push(to);
        self.free_edges.push(edge);
    }
}

/// The order of a branch's conditions on its trie path (see the module documentation).
fn trie_order(branch: &Branch) -> Vec<&Condition> {
    let mut order: Vec<&Condition> = branch.conditions.iter().collect();
    if !order.iter().any(|c| c.test.absent) {
        // Stable: within a rank, event-ruler's field order, so equal branches share paths.
        order.sort_by_key(|c| rank(&c.test));
    }
    order
}

/// How early a condition goes on its path: the most selective, cheapest tests first.
fn rank(test: &Test) -> u8 {
    test.matchers
        .iter()
        .map(|m| match m {
            ValueMatcher::Exact(_) | ValueMatcher::ExactIp(_) | ValueMatcher::Number(_) | ValueMatcher::Literal(_) => 0,
            ValueMatcher::EqualsIgnoreCase(p) if p.is_ascii() => 0,
            ValueMatcher::Prefix(_) | ValueMatcher::Suffix(_) => 1,
            ValueMatcher::PrefixIgnoreCase(p) | ValueMatcher::SuffixIgnoreCase(p) if p.is_ascii() => 1,
            ValueMatcher::Exists => 2,
            _ => 3,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
