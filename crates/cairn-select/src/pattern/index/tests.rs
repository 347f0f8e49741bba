//! Tests of `index`: each kind of test is found through its structure, and removal undoes
//! insertion exactly.
use serde_json::{Value, json};

use super::super::case::Caseless;
use super::super::value::Leaf;
use super::*;

fn edges(index: &ValueIndex, value: &Value) -> Vec<EdgeId> {
    let mut out = Vec::new();
    index.collect(&Leaf::of(value).expect("a scalar"), &mut out, &mut String::new());
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn affixes_are_found_by_the_lengths_present_and_forgotten_with_their_last_text() {
    let mut index = ValueIndex::default();
    let x = ValueMatcher::Prefix("x".into());
    let y = ValueMatcher::Prefix("y".into());
    let xyz = ValueMatcher::Prefix("xyz".into());
    index.insert(&x, 1);
    index.insert(&y, 2);
    index.insert(&xyz, 3);
    assert_eq!(edges(&index, &json!("xyzzy")), [1, 3]);
    assert_eq!(edges(&index, &json!("yes")), [2]);
    // "x" and "y" share a length: removing one must keep the other findable.
    index.remove(&x, 1);
    assert_eq!(edges(&index, &json!("yes")), [2]);
    assert_eq!(edges(&index, &json!("xyzzy")), [3]);
    index.remove(&y, 2);
    index.remove(&xyz, 3);
    assert!(index.is_empty());
    assert_eq!(edges(&index, &json!("xyzzy")), [] as [EdgeId; 0]);
}

#[test]
fn suffixes_and_prefixes_respect_character_boundaries() {
    let mut index = ValueIndex::default();
    index.insert(&ValueMatcher::Suffix("é".into()), 1);
    index.insert(&ValueMatcher::Prefix("é".into()), 2);
    index.insert(&ValueMatcher::Prefix("".into()), 3);
    assert_eq!(edges(&index, &json!("café")), [1, 3]);
    assert_eq!(edges(&index, &json!("été")), [1, 2, 3]);
    assert_eq!(edges(&index, &json!("e")), [3]);
    assert_eq!(edges(&index, &json!(1)), [] as [EdgeId; 0], "prefixes only match strings");
}

#[test]
fn ascii_ignore_case_tests_are_looked_up_lower_cased() {
    let mut index = ValueIndex::default();
    index.insert(&ValueMatcher::EqualsIgnoreCase(Caseless::new("Ec2")), 1);
    index.insert(&ValueMatcher::PrefixIgnoreCase(Caseless::new("DeLeTe")), 2);
    index.insert(&ValueMatcher::SuffixIgnoreCase(Caseless::new("SecretValue")), 3);
    index.insert(&ValueMatcher::EqualsIgnoreCase(Caseless::new("straße")), 4);
    assert_eq!(edges(&index, &json!("EC2")), [1]);
    assert_eq!(edges(&index, &json!("deleteUser")), [2]);
    assert_eq!(edges(&index, &json!("GetSECRETVALUE")), [3]);
    assert_eq!(edges(&index, &json!("STRASSE")), [4]);
    assert_eq!(edges(&index, &json!("strasse")), [] as [EdgeId; 0]);
}

#[test]
fn scalars_of_each_kind_find_their_own_tests() {
    let mut index = ValueIndex::default();
    index.insert(&ValueMatcher::Exact("1000".into()), 1);
    index.insert(&ValueMatcher::Number(1_000_000_000), 2);
    index.insert(&ValueMatcher::Literal("null".into()), 3);
    index.insert(&ValueMatcher::Literal("true".into()), 4);
    index.insert(&ValueMatcher::Exists, 5);
    index.insert(&ValueMatcher::ExactIp(super::super::cidr::parse_ip("10.0.0.1").expect("ip")), 6);
    assert_eq!(edges(&index, &json!("1000")), [1, 5]);
    assert_eq!(edges(&index, &json!(1000)), [2, 5]);
    assert_eq!(edges(&index, &json!(1000.0)), [2, 5]);
    assert_eq!(edges(&index, &json!(1e3)), [2, 5]);
    assert_eq!(edges(&index, &Value::Null), [3, 5]);
    assert_eq!(edges(&index, &json!(true)), [4, 5]);
    assert_eq!(edges(&index, &json!("true")), [5]);
    assert_eq!(edges(&index, &json!("10.0.0.1")), [5, 6]);
    for (matcher, edge) in [
        (ValueMatcher::Exact("1000".into()), 1),
        (ValueMatcher::Number(1_000_000_000), 2),
        (ValueMatcher::Literal("null".into()), 3),
        (ValueMatcher::Literal("true".into()), 4),
        (ValueMatcher::Exists, 5),
    ] {
        index.remove(&matcher, edge);
    }
    assert_eq!(edges(&index, &json!("10.0.0.1")), [6]);
}
