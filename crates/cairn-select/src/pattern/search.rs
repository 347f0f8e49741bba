//! Matching one event against a [`RuleMatcher`]'s trie (see `matcher.rs` for its shape).
//!
//! The event's leaves that rules name are gathered first (`paths.rs`), grouped by field. The
//! walk starts at the root: at a node, each field it has edges on is looked up among those
//! leaves, the value index gives the edges a leaf takes, and the walk goes on from their ends
//! carrying the array elements chosen so far; an edge that accepts absence is taken when no
//! leaf of its field is consistent with them. Reaching a node records the rules whose branches
//! end there. A node reached again with the same chosen elements is not walked again.

use std::ops::Range;

use serde_json::{Map, Value};

use super::FastSet;
use super::index::EdgeId;
use super::matcher::{FieldEdges, NodeId, ROOT, RuleMatcher, Slot};
use super::paths::{FieldId, FlattenBuffers, Occurrence, flatten};

/// The slots of the rules `root` matches, each once (borrowed from `scratch`).
pub(super) fn matched_slots<'s, K>(
    matcher: &RuleMatcher<K>,
    root: &Map<String, Value>,
    scratch: &'s mut MatchScratch,
) -> &'s [Slot] {
    scratch.begin(matcher.nodes.len(), matcher.slots.len(), matcher.paths.id_bound());
    let mut occurrences = Vec::new();
    flatten(&matcher.paths, root, &mut scratch.flatten, &mut occurrences);
    occurrences.sort_unstable_by_key(|o| o.field);
    let generation = scratch.generation;
    let mut start = 0;
    while start < occurrences.len() {
        let field = occurrences[start].field;
        let end = start + occurrences[start..].iter().take_while(|o| o.field == field).count();
        scratch.field_at[field as usize] = (generation, start as u32, (end - start) as u32);
        start = end;
    }
    let mut search = Search { matcher, occurrences: &occurrences, scratch: &mut *scratch };
    search.visit(ROOT, 0..0);
    &scratch.matched
}

/// Buffers a match reuses: per-node and per-rule marks (stamped with a generation, so nothing
/// is cleared between events), the event's leaves, and the search stacks.
#[derive(Debug, Default)]
pub struct MatchScratch {
    generation: u32,
    /// Generation in which a node was reached with no array elements chosen.
    node_seen: Vec<u32>,
    slot_seen: Vec<u32>,
    /// By field id: (generation, first occurrence, count).
    field_at: Vec<(u32, u32, u32)>,
    flatten: FlattenBuffers,
    /// Chosen array elements of the search states, each a sorted run.
    chosen: Vec<(u32, u32)>,
    edges: Vec<EdgeId>,
    lower: String,
    seen_with_elements: FastSet<(NodeId, Vec<(u32, u32)>)>,
    matched: Vec<Slot>,
}

impl MatchScratch {
    fn begin(&mut self, nodes: usize, slots: usize, fields: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old stamps could collide with new generations.
            self.node_seen.iter_mut().for_each(|s| *s = 0);
            self.slot_seen.iter_mut().for_each(|s| *s = 0);
            self.field_at.iter_mut().for_each(|s| s.0 = 0);
            self.generation = 1;
        }
        if self.node_seen.len() < nodes {
            self.node_seen.resize(nodes, 0);
        }
        if self.slot_seen.len() < slots {
            self.slot_seen.resize(slots, 0);
        }
        if self.field_at.len() < fields {
            self.field_at.resize(fields, (0, 0, 0));
        }
        self.chosen.clear();
        self.edges.clear();
        self.seen_with_elements.clear();
        self.matched.clear();
    }
}

struct Search<'m, 'o, 'e, 's, K> {
    matcher: &'m RuleMatcher<K>,
    occurrences: &'o [Occurrence<'e>],
    scratch: &'s mut MatchScratch,
}

impl<K> Search<'_, '_, '_, '_, K> {
    /// Walks on from `node`; `chosen` is the range of `scratch.chosen` holding the array
    /// elements the leaves chosen so far are in.
    fn visit(&mut self, node: NodeId, chosen: Range<usize>) {
        if chosen.is_empty() {
            let seen = &mut self.scratch.node_seen[node as usize];
            if *seen == self.scratch.generation {
                return;
            }
            *seen = self.scratch.generation;
        } else {
            let key = (node, self.scratch.chosen[chosen.clone()].to_vec());
            if !self.scratch.seen_with_elements.insert(key) {
                return;
            }
        }
        let matcher = self.matcher;
        let node = &matcher.nodes[node as usize];
        for &slot in &node.rules {
            let seen = &mut self.scratch.slot_seen[slot as usize];
            if *seen != self.scratch.generation {
                *seen = self.scratch.generation;
                self.scratch.matched.push(slot);
            }
        }
        for field_edges in &node.fields {
            let occurrences = self.occurrences_of(field_edges.field);
            if !field_edges.values.is_empty() {
                for occurrence in occurrences.clone() {
                    self.take_value_edges(field_edges, occurrence, chosen.clone());
                }
            }
            if !field_edges.absent.is_empty() && !occurrences.clone().any(|o| self.consistent(chosen.clone(), o)) {
                for &edge in &field_edges.absent {
                    self.visit(matcher.edges[edge as usize].to, chosen.clone());
                }
            }
        }
    }

    fn take_value_edges(&mut self, field_edges: &FieldEdges, occurrence: usize, chosen: Range<usize>) {
        if !self.consistent(chosen.clone(), occurrence) {
            return;
        }
        let leaf = self.occurrences[occurrence].leaf;
        let start = self.scratch.edges.len();
        field_edges.values.collect(&leaf, &mut self.scratch.edges, &mut self.scratch.lower);
        if self.scratch.edges.len() == start {
            return;
        }
        self.scratch.edges[start..].sort_unstable();
        let mut kept = start;
        for i in start..self.scratch.edges.len() {
            if i == start || self.scratch.edges[i] != self.scratch.edges[kept - 1] {
                self.scratch.edges[kept] = self.scratch.edges[i];
                kept += 1;
            }
        }
        self.scratch.edges.truncate(kept);
        let chosen_before = self.scratch.chosen.len();
        let next = self.choose(chosen, occurrence);
        for i in start..kept {
            let edge = self.scratch.edges[i];
            self.visit(self.matcher.edges[edge as usize].to, next.clone());
        }
        self.scratch.edges.truncate(start);
        self.scratch.chosen.truncate(chosen_before);
    }

    /// The occurrences (indexes) of `field` in the event.
    fn occurrences_of(&self, field: FieldId) -> Range<usize> {
        match self.scratch.field_at.get(field as usize) {
            Some(&(generation, start, len)) if generation == self.scratch.generation => {
                start as usize..(start + len) as usize
            }
            _ => 0..0,
        }
    }

    fn elements_of(&self, occurrence: usize) -> &[(u32, u32)] {
        let (start, len) = self.occurrences[occurrence].membership;
        &self.scratch.flatten.arena[start as usize..(start + len) as usize]
    }

    /// Whether the occurrence's array elements agree with the chosen ones on every shared array.
    fn consistent(&self, chosen: Range<usize>, occurrence: usize) -> bool {
        let chosen = &self.scratch.chosen[chosen];
        let elements = self.elements_of(occurrence);
        if chosen.is_empty() || elements.is_empty() {
            return true;
        }
        let (mut i, mut j) = (0, 0);
        while i < chosen.len() && j < elements.len() {
            let (a, b) = (chosen[i], elements[j]);
            match a.0.cmp(&b.0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal if a.1 != b.1 => return false,
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
        }
        true
    }

    /// The chosen elements once `occurrence` is chosen too: the same range when it adds none,
    /// otherwise a new sorted run pushed on `scratch.chosen` (the caller truncates it away).
    fn choose(&mut self, chosen: Range<usize>, occurrence: usize) -> Range<usize> {
        let (start, len) = self.occurrences[occurrence].membership;
        let elements = start as usize..(start + len) as usize;
        if elements.is_empty() {
            return chosen;
        }
        let at = self.scratch.chosen.len();
        let (mut i, mut j) = (chosen.start, elements.start);
        while i < chosen.end || j < elements.end {
            let a = (i < chosen.end).then(|| self.scratch.chosen[i]);
            let b = (j < elements.end).then(|| self.scratch.flatten.arena[j]);
            let next = match (a, b) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    i += 1;
                    j += 1;
                    a
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    i += 1;
                    a
                }
                (Some(_), Some(b)) | (None, Some(b)) => {
                    j += 1;
                    b
                }
                (Some(a), None) => {
                    i += 1;
                    a
                }
                (None, None) => break,
            };
            self.scratch.chosen.push(next);
        }
        at..self.scratch.chosen.len()
    }
}
