//! The field names a matcher's rules use, and the leaves of an event that carry them.
//!
//! Only leaves whose `.`-joined path is a rule's field name take part in matching, so an event
//! is walked only where some field name continues. Names are kept as a trie of their
//! `.`-separated segments: two paths join to the same name exactly when their keys, split at
//! every `.`, give the same segments, so an event key is looked up by itself at the node its
//! object is at, and only a key with a `.` in it (`{"detail.state": ...}`) is split and walked
//! segment by segment. A CloudTrail record has a hundred leaves or more; typical rules name
//! three or four of them.

use serde_json::{Map, Value};

use super::FastMap;
use super::value::Leaf;

pub(crate) type FieldId = u32;
type PathNode = u32;

const ROOT: PathNode = 0;

/// Containers nested deeper than this are not looked into. serde_json refuses documents past
/// 128 levels, so only a `Value` built in code can reach it; the bound keeps the walk's
/// recursion finite.
pub(crate) const MAX_EVENT_DEPTH: usize = 1000;

/// The interned field names of a matcher's rules, counted by use.
#[derive(Debug)]
pub(crate) struct Paths {
    ids: FastMap<Box<str>, FieldId>,
    /// By field id: the name and how many conditions use it (0: the id is free).
    fields: Vec<(Box<str>, u32)>,
    free: Vec<FieldId>,
    /// The segment trie; node 0 is the empty path.
    nodes: Vec<Segment>,
    free_nodes: Vec<PathNode>,
}

#[derive(Debug, Default)]
struct Segment {
    children: FastMap<Box<str>, PathNode>,
    /// The field whose name ends here, if any.
    field: Option<FieldId>,
    /// How many field names end here or pass through.
    names: u32,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            ids: FastMap::default(),
            fields: Vec::new(),
            free: Vec::new(),
            nodes: vec![Segment::default()],
            free_nodes: Vec::new(),
        }
    }
}

impl Paths {
    /// The id of `name`, counting one more use.
    pub(crate) fn acquire(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.ids.get(name) {
            self.fields[id as usize].1 += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.fields[id as usize] = (name.into(), 1);
                id
            }
            None => {
                self.fields.push((name.into(), 1));
                (self.fields.len() - 1) as FieldId
            }
        };
        self.ids.insert(name.into(), id);
        let mut node = ROOT;
        for segment in name.split('.') {
            let existing = self.nodes[node as usize].children.get(segment).copied();
            node = match existing {
                Some(child) => child,
                None => {
                    let child = self.new_node();
                    self.nodes[node as usize].children.insert(segment.into(), child);
                    child
                }
            };
            self.nodes[node as usize].names += 1;
        }
        self.nodes[node as usize].field = Some(id);
        id
    }

    fn new_node(&mut self) -> PathNode {
        match self.free_nodes.pop() {
            Some(id) => id,
            None => {
                self.nodes.push(Segment::default());
                (self.nodes.len() - 1) as PathNode
            }
        }
    }

    /// Counts one use of `id` less, forgetting the name with its last use.
    pub(crate) fn release(&mut self, id: FieldId) {
        let Some((name, uses)) = self.fields.get_mut(id as usize) else { return };
        if *uses == 0 {
            return;
        }
        *uses -= 1;
        if *uses > 0 {
            return;
        }
        let name = std::mem::take(name);
        self.ids.remove(&name);
        self.free.push(id);
        let mut node = ROOT;
        for segment in name.split('.') {
            let Some(&child) = self.nodes[node as usize].children.get(segment) else { return };
            let remaining = &mut self.nodes[child as usize].names;
            *remaining -= 1;
            if *remaining == 0 {
                // Nothing else passes here: drop the whole branch below.
                self.nodes[node as usize].children.remove(segment);
                self.free_subtree(child);
                return;
            }
            node = child;
        }
        self.nodes[node as usize].field = None;
    }

    /// Frees `node` and everything below it (without recursion: a name may have any number of
    /// segments).
    fn free_subtree(&mut self, node: PathNode) {
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            let segment = std::mem::take(&mut self.nodes[node as usize]);
            pending.extend(segment.children.into_values());
            self.free_nodes.push(node);
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<FieldId> {
        self.ids.get(name).copied()
    }

    /// How many segment nodes are in use (the empty path's included).
    #[cfg(test)]
    pub(crate) fn live_segments(&self) -> usize {
        self.nodes.len() - self.free_nodes.len()
    }

    /// One more than the largest field id in use.
    pub(crate) fn id_bound(&self) -> usize {
        self.fields.len()
    }

    /// The node an event key leads to from `node`.
    fn step(&self, node: PathNode, key: &str) -> Option<PathNode> {
        let children = &self.nodes[node as usize].children;
        if let Some(&child) = children.get(key) {
            return Some(child);
        }
        // Segments have no dots, so only a dotted key can still lead somewhere.
        if !key.contains('.') {
            return None;
        }
        key.split('.').try_fold(node, |at, segment| self.nodes[at as usize].children.get(segment).copied())
    }
}

/// A leaf of an event whose field a rule names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occurrence<'e> {
    pub(crate) field: FieldId,
    pub(crate) leaf: Leaf<'e>,
    /// `(start, len)` in the membership arena: `(array, element)` for each enclosing array
    /// of objects or arrays, outermost (lowest array number) first.
    pub(crate) membership: (u32, u32),
}

/// Reusable buffers of [`flatten`].
#[derive(Debug, Default)]
pub(crate) struct FlattenBuffers {
    open: Vec<(u32, u32)>,
    /// The memberships of the occurrences, read by the search afterwards.
    pub(crate) arena: Vec<(u32, u32)>,
}

/// Appends to `out` the leaves of `root` that carry a rule's field.
pub(crate) fn flatten<'e>(
    paths: &Paths,
    root: &'e Map<String, Value>,
    buffers: &mut FlattenBuffers,
    out: &mut Vec<Occurrence<'e>>,
) {
    buffers.open.clear();
    buffers.arena.clear();
    let mut walker = Walker { paths, buffers, arrays: 0, out };
    walker.object(root, ROOT, 0);
}

struct Walker<'p, 'b, 'o, 'e> {
    paths: &'p Paths,
    buffers: &'b mut FlattenBuffers,
    arrays: u32,
    out: &'o mut Vec<Occurrence<'e>>,
}

impl<'e> Walker<'_, '_, '_, 'e> {
    fn object(&mut self, object: &'e Map<String, Value>, at: PathNode, depth: usize) {
        for (key, value) in object {
            if let Some(next) = self.paths.step(at, key) {
                self.value(value, next, depth + 1);
            }
        }
    }

    fn value(&mut self, value: &'e Value, at: PathNode, depth: usize) {
        if depth > MAX_EVENT_DEPTH {
            return;
        }
        let segment = &self.paths.nodes[at as usize];
        match value {
            Value::Object(object) => {
                if !segment.children.is_empty() {
                    self.object(object, at, depth);
                }
            }
            Value::Array(items) => {
                let array = self.arrays;
                self.arrays += 1;
                for (index, item) in items.iter().enumerate() {
                    if let Value::Object(_) | Value::Array(_) = item {
                        self.buffers.open.push((array, index as u32));
                        self.value(item, at, depth + 1);
                        self.buffers.open.pop();
                    } else {
                        self.leaf(item, segment.field);
                    }
                }
            }
            scalar => self.leaf(scalar, segment.field),
        }
    }

    fn leaf(&mut self, value: &'e Value, field: Option<FieldId>) {
        let (Some(field), Some(leaf)) = (field, Leaf::of(value)) else { return };
        let membership = if self.buffers.open.is_empty() {
            (0, 0)
        } else {
            let start = self.buffers.arena.len() as u32;
            self.buffers.arena.extend_from_slice(&self.buffers.open);
            (start, self.buffers.open.len() as u32)
        };
        self.out.push(Occurrence { field, leaf, membership });
    }
}
