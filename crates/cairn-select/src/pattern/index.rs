//! Which of a trie node's edges on one field a value takes.
//!
//! An edge (one condition of one or more rules) is listed under each of its value tests. Exact
//! strings and numbers are found by hashing; prefixes and suffixes by hashing the value's
//! prefixes (suffixes) of the lengths some pattern has; ASCII ignore-case tests the same way on
//! the value's ASCII-lower-cased form. The rest (wildcards, ranges, CIDR blocks, anything-but,
//! non-ASCII ignore-case) are few per field in real rule sets and are tried one by one.

use std::borrow::Borrow;
use std::hash::Hash;

use super::FastMap;
use super::cidr::{IpAddress, parse_ip};
use super::value::{Leaf, ValueMatcher};

pub(crate) type EdgeId = u32;

#[derive(Debug, Default)]
pub(crate) struct ValueIndex {
    exact: FastMap<Box<str>, Vec<EdgeId>>,
    numbers: FastMap<i64, Vec<EdgeId>>,
    /// Everything else, boxed: most indexes only ever hold exact values.
    rare: Option<Box<Rare>>,
    entries: usize,
}

#[derive(Debug, Default)]
struct Rare {
    ips: FastMap<IpAddress, Vec<EdgeId>>,
    /// `true`, `false`, `null` and numbers without a comparable value, by text.
    literals: FastMap<Box<str>, Vec<EdgeId>>,
    prefixes: Affixes,
    suffixes: Affixes,
    /// ASCII ignore-case tests, keyed by their lower-cased text.
    prefixes_ci: Affixes,
    suffixes_ci: Affixes,
    equals_ci: FastMap<Box<str>, Vec<EdgeId>>,
    exists: Vec<EdgeId>,
    scan: Vec<(ValueMatcher, EdgeId)>,
}

/// Prefix or suffix texts, and the distinct lengths among them (with how many texts have each).
#[derive(Debug, Default)]
struct Affixes {
    by_text: FastMap<Box<str>, Vec<EdgeId>>,
    lengths: Vec<(usize, u32)>,
}

impl ValueIndex {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    pub(crate) fn insert(&mut self, matcher: &ValueMatcher, edge: EdgeId) {
        self.entries += 1;
        match matcher {
            ValueMatcher::Exact(text) => push(&mut self.exact, text.clone(), edge),
            ValueMatcher::Number(micros) => push(&mut self.numbers, *micros, edge),
            _ => {
                let rare = self.rare.get_or_insert_with(Box::default);
                match matcher {
                    ValueMatcher::ExactIp(ip) => push(&mut rare.ips, *ip, edge),
                    ValueMatcher::Literal(text) => push(&mut rare.literals, text.clone(), edge),
                    ValueMatcher::Prefix(text) => rare.prefixes.insert(text, edge),
                    ValueMatcher::Suffix(text) => rare.suffixes.insert(text, edge),
                    ValueMatcher::PrefixIgnoreCase(p) if p.is_ascii() => {
                        rare.prefixes_ci.insert(&p.text().to_ascii_lowercase(), edge)
                    }
                    ValueMatcher::SuffixIgnoreCase(p) if p.is_ascii() => {
                        rare.suffixes_ci.insert(&p.text().to_ascii_lowercase(), edge)
                    }
                    ValueMatcher::EqualsIgnoreCase(p) if p.is_ascii() => {
                        push(&mut rare.equals_ci, p.text().to_ascii_lowercase().into(), edge)
                    }
                    ValueMatcher::Exists => rare.exists.push(edge),
                    _ => rare.scan.push((matcher.clone(), edge)),
                }
            }
        }
    }

    /// Undoes one [`ValueIndex::insert`] of the same arguments.
    pub(crate) fn remove(&mut self, matcher: &ValueMatcher, edge: EdgeId) {
        let removed = match matcher {
            ValueMatcher::Exact(text) => pull(&mut self.exact, &**text, edge),
            ValueMatcher::Number(micros) => pull(&mut self.numbers, micros, edge),
            _ => {
                let Some(rare) = self.rare.as_deref_mut() else { return };
                match matcher {
                    ValueMatcher::ExactIp(ip) => pull(&mut rare.ips, ip, edge),
                    ValueMatcher::Literal(text) => pull(&mut rare.literals, &**text, edge),
                    ValueMatcher::Prefix(text) => rare.prefixes.remove(text, edge),
                    ValueMatcher::Suffix(text) => rare.suffixes.remove(text, edge),
                    ValueMatcher::PrefixIgnoreCase(p) if p.is_ascii() => {
                        rare.prefixes_ci.remove(&p.text().to_ascii_lowercase(), edge)
                    }
                    ValueMatcher::SuffixIgnoreCase(p) if p.is_ascii() => {
                        rare.suffixes_ci.remove(&p.text().to_ascii_lowercase(), edge)
                    }
                    ValueMatcher::EqualsIgnoreCase(p) if p.is_ascii() => {
                        pull(&mut rare.equals_ci, p.text().to_ascii_lowercase().as_str(), edge)
                    }
                    ValueMatcher::Exists => pull_from(&mut rare.exists, |&e| e == edge),
                    _ => pull_from(&mut rare.scan, |(m, e)| *e == edge && m == matcher),
                }
            }
        };
        if removed {
            self.entries -= 1;
            if self.entries == 0 {
                *self = ValueIndex::default();
            }
        }
    }

    /// Appends the edges `leaf` takes; an edge with several passing tests appears once per test.
    /// `lower` is a reusable buffer.
    pub(crate) fn collect(&self, leaf: &Leaf<'_>, out: &mut Vec<EdgeId>, lower: &mut String) {
        match leaf {
            Leaf::Str(s) => extend(out, self.exact.get(*s)),
            Leaf::Num { micros: Some(micros), .. } => extend(out, self.numbers.get(micros)),
            _ => {}
        }
        let Some(rare) = self.rare.as_deref() else { return };
        match leaf {
            Leaf::Str(s) => {
                if !rare.ips.is_empty()
                    && let Some(ip) = parse_ip(s)
                {
                    extend(out, rare.ips.get(&ip));
                }
                rare.prefixes.prefixes_of(s, out);
                rare.suffixes.suffixes_of(s, out);
                if !(rare.prefixes_ci.is_empty() && rare.suffixes_ci.is_empty() && rare.equals_ci.is_empty()) {
                    lower.clear();
                    lower.push_str(s);
                    lower.make_ascii_lowercase();
                    rare.prefixes_ci.prefixes_of(lower, out);
                    rare.suffixes_ci.suffixes_of(lower, out);
                    extend(out, rare.equals_ci.get(lower.as_str()));
                }
            }
            _ => {
                if !rare.literals.is_empty()
                    && let Some(text) = leaf.literal_text()
                {
                    extend(out, rare.literals.get(&*text));
                }
            }
        }
        out.extend_from_slice(&rare.exists);
        for (matcher, edge) in &rare.scan {
            if matcher.matches(leaf) {
                out.push(*edge);
            }
        }
    }
}

impl Affixes {
    fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    fn insert(&mut self, text: &str, edge: EdgeId) {
        let edges = self.by_text.entry(text.into()).or_default();
        if edges.is_empty() {
            match self.lengths.binary_search_by_key(&text.len(), |&(len, _)| len) {
                Ok(at) => self.lengths[at].1 += 1,
                Err(at) => self.lengths.insert(at, (text.len(), 1)),
            }
        }
        edges.push(edge);
    }

    fn remove(&mut self, text: &str, edge: EdgeId) -> bool {
        let present = self.by_text.contains_key(text);
        if !pull(&mut self.by_text, text, edge) {
            return false;
        }
        if present
            && !self.by_text.contains_key(text)
            && let Ok(at) = self.lengths.binary_search_by_key(&text.len(), |&(len, _)| len)
        {
            self.lengths[at].1 -= 1;
            if self.lengths[at].1 == 0 {
                self.lengths.remove(at);
            }
        }
        true
    }

    fn prefixes_of(&self, value: &str, out: &mut Vec<EdgeId>) {
        for &(len, _) in &self.lengths {
            if len > value.len() {
                break;
            }
            if value.is_char_boundary(len) {
                extend(out, self.by_text.get(&value[..len]));
            }
        }
    }

    fn suffixes_of(&self, value: &str, out: &mut Vec<EdgeId>) {
        for &(len, _) in &self.lengths {
            if len > value.len() {
                break;
            }
            let start = value.len() - len;
            if value.is_char_boundary(start) {
                extend(out, self.by_text.get(&value[start..]));
            }
        }
    }
}

fn extend(out: &mut Vec<EdgeId>, edges: Option<&Vec<EdgeId>>) {
    if let Some(edges) = edges {
        out.extend_from_slice(edges);
    }
}

fn push<K: Hash + Eq>(map: &mut FastMap<K, Vec<EdgeId>>, key: K, edge: EdgeId) {
    map.entry(key).or_default().push(edge);
}

/// Removes one `edge` under `key`, and the key with its last edge; whether one was there.
fn pull<K, Q>(map: &mut FastMap<K, Vec<EdgeId>>, key: &Q, edge: EdgeId) -> bool
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
{
    let Some(edges) = map.get_mut(key) else { return false };
    if !pull_from(edges, |&e| e == edge) {
        return false;
    }
    if edges.is_empty() {
        map.remove(key);
    }
    true
}

fn pull_from<T>(items: &mut Vec<T>, is_it: impl Fn(&T) -> bool) -> bool {
    match items.iter().position(is_it) {
        Some(at) => {
            items.swap_remove(at);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
