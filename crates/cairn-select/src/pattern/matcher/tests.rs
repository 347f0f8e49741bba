//! Tests of `matcher`: the trie's sharing and clean-up, and the array cases the walk must get
//! right (the property tests in `tests/patterns_property.rs` cover the rest).
use serde_json::{Value, json};

use super::*;

fn pattern(text: &str) -> EventPattern {
    EventPattern::parse(text).expect("a valid pattern")
}

fn matches(matcher: &RuleMatcher<&'static str>, event: Value) -> Vec<&'static str> {
    let mut ids = matcher.matching(&event);
    ids.sort_unstable();
    ids
}

#[test]
fn rules_sharing_conditions_share_the_path_to_them() {
    let mut matcher = RuleMatcher::new();
    for (id, name) in [("a", "CreateUser"), ("b", "DeleteUser"), ("c", "CreateUser")] {
        let text = format!(
            r#"{{"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {{"eventName": ["{name}"]}}}}"#
        );
        matcher.insert(id, &pattern(&text));
    }
    // Root → detail-type → two eventNames → source: the root has one edge.
    assert_eq!(matcher.nodes[ROOT as usize].edge_of.len(), 1);
    assert_eq!(matcher.nodes.len() - matcher.free_nodes.len(), 6);
    let event = |name: &str| json!({"source": "aws.iam", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": name}});
    assert_eq!(matches(&matcher, event("CreateUser")), ["a", "c"]);
    assert_eq!(matches(&matcher, event("DeleteUser")), ["b"]);
    assert!(matches(&matcher, event("GetUser")).is_empty());
}

#[test]
fn removing_every_rule_leaves_an_empty_trie() {
    let mut matcher = RuleMatcher::new();
    let texts = [
        r#"{"a": ["x"], "b": [{"prefix": "y"}]}"#,
        r#"{"a": ["x"], "$or": [{"c": [{"exists": false}]}, {"d": [{"numeric": [">", 1]}]}]}"#,
        r#"{"a": [{"anything-but": "x"}], "e": {"f": [{"wildcard": "*z"}]}}"#,
    ];
    for (i, text) in texts.iter().enumerate() {
        matcher.insert(i, &pattern(text));
    }
    // a, b, c, d, e, e.f
    assert_eq!(matcher.paths.live_segments(), 7);
    // Replacing a rule by itself changes nothing.
    matcher.insert(0, &pattern(texts[0]));
    assert_eq!(matcher.len(), 3);
    for i in 0..texts.len() {
        assert!(matcher.remove(&i));
    }
    assert!(!matcher.remove(&0));
    assert_eq!(matcher.nodes.len() - matcher.free_nodes.len(), 1, "only the root is left");
    assert!(matcher.nodes[ROOT as usize].fields.is_empty() && matcher.nodes[ROOT as usize].edge_of.is_empty());
    assert_eq!(matcher.edges.len(), matcher.free_edges.len());
    assert_eq!(matcher.paths.get("a"), None);
    assert_eq!(matcher.paths.live_segments(), 1, "only the empty path is left");
}

#[test]
fn a_node_reached_from_two_array_elements_is_walked_for_each() {
    let mut matcher = RuleMatcher::new();
    matcher.insert("r", &pattern(r#"{"a": {"b": ["x"], "c": ["y"]}}"#));
    // Element 0 satisfies "b" but not "c"; element 1 satisfies both.
    assert_eq!(matches(&matcher, json!({"a": [{"b": "x"}, {"b": "x", "c": "y"}]})), ["r"]);
    assert!(matches(&matcher, json!({"a": [{"b": "x"}, {"c": "y"}]})).is_empty());
}

#[test]
fn elements_chosen_deeper_stay_chosen_after_a_shallower_field() {
    let mut matcher = RuleMatcher::new();
    // Trie order: a.e.b and a.f (exact) before a.e.c (prefix); a.e.c must come from the
    // element of a.e that a.e.b came from.
    matcher.insert("r", &pattern(r#"{"a": {"e": {"b": ["x"], "c": [{"prefix": "y"}]}, "f": ["z"]}}"#));
    assert!(matches(&matcher, json!({"a": [{"f": "z", "e": [{"b": "x"}, {"c": "y"}]}]})).is_empty());
    assert_eq!(matches(&matcher, json!({"a": [{"f": "z", "e": [{"b": "x"}, {"b": "x", "c": "yy"}]}]})), ["r"]);
}

#[test]
fn absence_is_judged_against_the_fields_before_it_in_event_ruler_order() {
    let mut matcher = RuleMatcher::new();
    // ARN < accountId < type (upper case sorts first): absence of accountId is judged within
    // the element the ARN came from, and type must come from that element too.
    matcher.insert(
        "r",
        &pattern(r#"{"resources": {"type": ["User"], "ARN": [{"prefix": "arn:"}], "accountId": [{"exists": false}]}}"#),
    );
    let resources = |items: Value| json!({"resources": items});
    assert_eq!(matches(&matcher, resources(json!([{"ARN": "arn:1", "type": "User"}]))), ["r"]);
    assert!(matches(&matcher, resources(json!([{"ARN": "arn:1", "type": "User", "accountId": "1"}]))).is_empty());
    assert_eq!(
        matches(&matcher, resources(json!([{"ARN": "arn:1", "accountId": "1"}, {"ARN": "arn:2", "type": "User"}]))),
        ["r"]
    );
    // Absence only looks back: "b" sorts after "a", so the "a" chosen is not constrained by it.
    let mut later = RuleMatcher::new();
    later.insert("r", &pattern(r#"{"d": {"a": [{"exists": false}], "b": ["x"]}}"#));
    assert!(matches(&later, json!({"d": [{"a": 1, "b": "y"}, {"b": "x"}]})).is_empty());
    assert_eq!(matches(&later, json!({"d": [{"b": "x"}]})), ["r"]);
}

#[test]
fn one_scratch_serves_several_matchers() {
    let mut first = RuleMatcher::new();
    first.insert(1, &pattern(r#"{"a": ["x"]}"#));
    let mut second = RuleMatcher::new();
    second.insert(2, &pattern(r#"{"b": ["y"]}"#));
    second.insert(3, &pattern(r#"{"a": ["x"]}"#));
    let mut scratch = MatchScratch::default();
    let event = json!({"a": "x", "b": "y"});
    for _ in 0..3 {
        let mut found = Vec::new();
        first.for_each_match(&event, &mut scratch, |id| found.push(*id));
        second.for_each_match(&event, &mut scratch, |id| found.push(*id));
        found.sort_unstable();
        assert_eq!(found, [1, 2, 3]);
    }
    assert!(first.matching(&json!(["not", "an", "object"])).is_empty());
    assert_eq!(second.matching_json(r#"{"b": "y"}"#).expect("JSON"), [2]);
    assert!(second.matching_json("{").is_err());
}
