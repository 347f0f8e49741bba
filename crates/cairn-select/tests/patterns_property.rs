//! Property: a `RuleMatcher` holding several patterns matches an event exactly when each
//! pattern, tested alone by the reference matcher (`EventPattern::matches`), does — also after
//! rules are removed and replaced.
//!
//! Patterns and events are drawn from a small vocabulary (a few keys, including the dotted
//! `a.b`; values that collide with each other's prefixes, cases, wildcards, numbers, CIDR
//! blocks) so that matches, near-misses, arrays of objects and `exists: false` meet often.

use std::collections::BTreeSet;

use cairn_select::{EventPattern, RuleMatcher};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &["a", "b", "c"];
/// Values that collide: equal, one a prefix or case variant of another.
const COMMON: &[&str] = &["x", "y", "xy", "X", "xY"];
const STRINGS: &[&str] = &["x", "X", "xy", "yx", "y", "", "10.0.0.1", "10.0.1.9", "a*b", "Straße", "STRASSE"];
const NUMBERS: &[f64] = &[0.0, 1.0, 1.5, -2.0, 100.0, 0.1234567];
const WILDCARDS: &[&str] = &["*", "x*", "*y", "x*y", "*\\**", "10.*", "*.*.*"];
const CIDRS: &[&str] = &["10.0.0.0/24", "10.0.0.0/8", "0.0.0.0/1", "::/0"];

fn number(n: f64) -> Value {
    if n.fract() == 0.0 { json!(n as i64) } else { json!(n) }
}

/// Mostly the plain keys; sometimes the dotted `a.b`, which names the same field as `a` → `b`.
fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![9 => select(KEYS), 1 => Just("a.b")]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => select(COMMON).prop_map(|s| json!(s)),
        2 => select(STRINGS).prop_map(|s| json!(s)),
        2 => select(NUMBERS).prop_map(number),
        1 => prop_oneof![Just(json!(true)), Just(json!(false)), Just(Value::Null)],
    ]
}

fn object_of<S: Strategy<Value = Value>>(values: S, sizes: std::ops::Range<usize>) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), values), sizes)
        .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>()))
}

/// Events: objects of scalars, objects and arrays, arrays of objects being frequent so that
/// array consistency decides often.
fn event() -> impl Strategy<Value = Value> {
    let value = scalar().prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            2 => prop::collection::vec(object_of(inner.clone(), 1..4), 1..4).prop_map(Value::Array),
            2 => object_of(inner, 1..4),
        ]
    });
    object_of(value, 1..4)
}

/// One element of a field's value array.
fn value_test() -> impl Strategy<Value = Value> {
    let string = || select(STRINGS);
    prop_oneof![
        4 => select(COMMON).prop_map(|s| json!(s)),
        2 => scalar(),
        4 => any::<bool>().prop_map(|b| json!({"exists": b})),
        1 => string().prop_map(|s| json!({"prefix": s})),
        1 => string().prop_map(|s| json!({"suffix": s})),
        1 => string().prop_map(|s| json!({"equals-ignore-case": s})),
        1 => string().prop_map(|s| json!({"prefix": {"equals-ignore-case": s}})),
        1 => string().prop_map(|s| json!({"suffix": {"equals-ignore-case": s}})),
        1 => select(WILDCARDS).prop_map(|w| json!({"wildcard": w})),
        2 => prop::collection::vec(select(COMMON), 1..3).prop_map(|v| json!({"anything-but": v})),
        1 => prop::collection::vec(select(NUMBERS), 1..3)
            .prop_map(|v| json!({"anything-but": v.into_iter().map(number).collect::<Vec<_>>()})),
        1 => (select(&["prefix", "suffix", "equals-ignore-case", "wildcard"][..]), select(WILDCARDS))
            .prop_map(|(op, s)| json!({"anything-but": {op: s}})),
        1 => (select(&["=", "<", "<=", ">", ">="][..]), select(NUMBERS))
            .prop_map(|(op, n)| json!({"numeric": [op, number(n)]})),
        1 => (select(&[">", ">="][..]), select(NUMBERS), select(&["<", "<="][..]), select(NUMBERS))
            .prop_map(|(low_op, low, high_op, high)| json!({"numeric": [low_op, number(low), high_op, number(high)]})),
        1 => select(CIDRS).prop_map(|c| json!({"cidr": c})),
    ]
}

/// Patterns: objects whose leaves are value arrays, often two or three fields under one key
/// (the shape array consistency is about), sometimes with an `$or`.
fn pattern() -> impl Strategy<Value = Value> {
    let field = prop::collection::vec(value_test(), 1..3).prop_map(Value::Array);
    let body = field.prop_recursive(2, 12, 3, |inner| object_of(inner, 1..4));
    let plain = object_of(body.clone(), 1..4);
    (plain, prop::option::weighted(0.25, prop::collection::vec(object_of(body, 1..3), 2..4))).prop_map(
        |(mut pattern, alternatives)| {
            if let (Value::Object(members), Some(alternatives)) = (&mut pattern, alternatives) {
                members.insert("$or".to_owned(), Value::Array(alternatives));
            }
            pattern
        },
    )
}

fn expected(patterns: &[(usize, EventPattern)], event: &Value) -> BTreeSet<usize> {
    patterns.iter().filter(|(_, p)| p.matches(event)).map(|(id, _)| *id).collect()
}

fn compiled(matcher: &RuleMatcher<usize>, event: &Value) -> BTreeSet<usize> {
    let ids = matcher.matching(event);
    let set: BTreeSet<usize> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "a rule reported twice");
    set
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn compiled_matching_equals_one_pattern_at_a_time(
        drawn in prop::collection::vec(pattern(), 1..8),
        events in prop::collection::vec(event(), 1..10),
    ) {
        // Drawn patterns the engine rejects (a range with its ends reversed, ...) are left out.
        let mut patterns: Vec<(usize, EventPattern)> = drawn
            .iter()
            .enumerate()
            .filter_map(|(id, p)| EventPattern::from_value(p).ok().map(|parsed| (id, parsed)))
            .collect();
        let mut matcher = RuleMatcher::new();
        for (id, pattern) in &patterns {
            matcher.insert(*id, pattern);
        }
        for event in &events {
            prop_assert_eq!(compiled(&matcher, event), expected(&patterns, event), "event {}\npatterns {:?}", event, drawn);
        }

        // Remove every other rule; the rest must still match as before.
        let removed: Vec<(usize, EventPattern)> = patterns.iter().filter(|(id, _)| id % 2 == 0).cloned().collect();
        for (id, _) in &removed {
            prop_assert!(matcher.remove(id));
        }
        patterns.retain(|(id, _)| id % 2 == 1);
        for event in &events {
            prop_assert_eq!(compiled(&matcher, event), expected(&patterns, event), "after removals: event {}", event);
        }

        // Put the removed rules back under other ids, and replace one rule's pattern with another's.
        for (id, pattern) in removed {
            matcher.insert(id + 100, &pattern);
            patterns.push((id + 100, pattern));
        }
        if patterns.len() >= 2 {
            let replacement = patterns[0].1.clone();
            let target = patterns[1].0;
            matcher.insert(target, &replacement);
            patterns[1].1 = replacement;
        }
        prop_assert_eq!(matcher.len(), patterns.len());
        for event in &events {
            prop_assert_eq!(compiled(&matcher, event), expected(&patterns, event), "after re-inserts: event {}", event);
        }

        // Emptied, the matcher matches nothing and holds no trie state that could leak into new rules.
        for (id, _) in &patterns {
            prop_assert!(matcher.remove(id));
        }
        prop_assert!(matcher.is_empty());
        for event in &events {
            prop_assert!(matcher.matching(event).is_empty());
        }
    }
}

/// Patterns of two to four fields under one key, and events where that key holds an array of
/// objects: the shape where the fields must be satisfied within one element, and where the
/// walk reaches the same trie node from different elements.
fn element_pattern() -> impl Strategy<Value = Value> {
    let test = prop_oneof![
        3 => select(COMMON).prop_map(|s| json!(s)),
        2 => any::<bool>().prop_map(|b| json!({"exists": b})),
        1 => select(COMMON).prop_map(|s| json!({"anything-but": s})),
        1 => select(COMMON).prop_map(|s| json!({"prefix": s})),
    ];
    let fields =
        prop::collection::btree_map(select(&["b", "c", "d"][..]), prop::collection::vec(test.clone(), 1..3), 2..4);
    (fields, 0..3u8, prop::collection::vec(test, 1..3)).prop_map(|(fields, shape, outer)| {
        let inner = Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), Value::Array(v))).collect());
        match shape {
            0 => json!({"a": inner}),
            1 => json!({"a": {"e": inner}}),
            // A field of the outer element too: the elements chosen for inner fields must
            // survive choosing it.
            _ => json!({"a": {"e": inner, "f": outer}}),
        }
    })
}

fn element_event() -> impl Strategy<Value = Value> {
    let element = prop::collection::btree_map(select(&["b", "c", "d"][..]), select(COMMON), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect()));
    let elements = prop::collection::vec(element, 0..5);
    let outer = prop::option::of(select(COMMON));
    (elements.clone(), elements, 0..3u8, outer.clone(), outer).prop_map(|(first, second, shape, f1, f2)| match shape {
        0 => json!({"a": first}),
        1 => json!({"a": {"e": first}}),
        _ => json!({"a": [{"e": first, "f": f1}, {"e": second, "f": f2}]}),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn array_elements_are_matched_as_the_reference_does(
        drawn in prop::collection::vec(element_pattern(), 1..6),
        events in prop::collection::vec(element_event(), 1..8),
    ) {
        let patterns: Vec<(usize, EventPattern)> = drawn
            .iter()
            .enumerate()
            .filter_map(|(id, p)| EventPattern::from_value(p).ok().map(|parsed| (id, parsed)))
            .collect();
        let mut matcher = RuleMatcher::new();
        for (id, pattern) in &patterns {
            matcher.insert(*id, pattern);
        }
        for event in &events {
            prop_assert_eq!(compiled(&matcher, event), expected(&patterns, event), "event {}\npatterns {:?}", event, drawn);
        }
    }
}
