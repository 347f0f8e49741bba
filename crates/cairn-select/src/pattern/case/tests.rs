//! Tests of `case`: event-ruler's per-unit lower/upper spellings.
use super::*;

#[test]
fn ascii_patterns_compare_ascii_case_insensitively() {
    let p = Caseless::new("EC2");
    assert!(p.equals("ec2") && p.equals("Ec2") && p.equals("EC2"));
    assert!(!p.equals("ec22") && !p.equals("ec"));
    assert!(p.is_prefix_of("ec2.amazonaws.com") && !p.is_prefix_of("aws.ec2"));
    assert!(p.is_suffix_of("aws.Ec2") && !p.is_suffix_of("ec2.aws"));
    // The Kelvin sign lower-cases to "k", but "k" does not spell it.
    assert!(!Caseless::new("k").equals("\u{212A}"));
}

#[test]
fn other_patterns_accept_each_units_lower_or_upper_spelling() {
    let p = Caseless::new("straße");
    assert!(p.equals("STRASSE"), "ß upper-cases to SS");
    assert!(p.equals("straße"));
    assert!(p.equals("STRAßE"));
    assert!(!p.equals("strasse"), "ss is neither spelling of ß");
    assert!(p.is_prefix_of("STRASSEN"));
    assert!(Caseless::new("éTÉ").equals("ÉtÉ"));
    assert!(Caseless::new("éTÉ").is_suffix_of("l'ÉTÉ"));
    assert!(!Caseless::new("éTÉ").is_suffix_of("ÉTÉ!"));
    assert!(Caseless::new("ß").is_suffix_of("GROSS"));
}

#[test]
fn characters_outside_the_bmp_only_match_question_marks_as_in_java() {
    let p = Caseless::new("a😀");
    assert!(!p.equals("a😀"));
    assert!(p.equals("A??"));
}
