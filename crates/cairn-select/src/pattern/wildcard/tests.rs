//! Tests of `wildcard`.
use super::*;

fn wildcard(text: &str) -> Wildcard {
    Wildcard::parse(text).expect("a valid wildcard")
}

#[test]
fn stars_match_any_run_including_none() {
    for (pattern, value, expected) in [
        ("*", "", true),
        ("*", "anything", true),
        ("init*", "init", true),
        ("init*", "initializing", true),
        ("init*", "stopped", false),
        ("*.jpg", "a.jpg", true),
        ("*.jpg", "a.jpeg", false),
        ("/usr/*/bin", "/usr/local/bin", true),
        ("/usr/*/bin", "/usr/bin", false),
        ("/usr/*/bin", "/usr/local/lib", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "acb", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("*stratus-red-team*", "stratus-red-team_8f7c", true),
        ("arn:aws:sts::*:assumed-role/*", "arn:aws:sts::123:assumed-role/r/s", true),
        ("arn:aws:sts::*:assumed-role/*", "arn:aws:iam::123:role/r", false),
        ("Simple*Service", "SimpleQueueService", true),
        ("Simple*Service", "simpleQueueService", false),
        ("exact", "exact", true),
        ("exact", "exactly", false),
        ("*é*", "café", true),
    ] {
        assert_eq!(wildcard(pattern).matches(value), expected, "{pattern} ~ {value}");
    }
}

#[test]
fn escapes_stand_for_themselves() {
    assert!(wildcard(r"a\*b").matches("a*b"));
    assert!(!wildcard(r"a\*b").matches("acb"));
    // quamina's example: a, two literal stars, a backslash, then ".b".
    assert!(wildcard(r"a\*\*\\.b").matches(r"a**\.b"));
    // Contains a star: `*`, literal `*`, `*`.
    assert!(wildcard(r"*\**").matches("arn:aws:lambda:layer:*"));
    assert!(!wildcard(r"*\**").matches("no star"));
    assert!(wildcard(r"\**").matches("*x"));
}

#[test]
fn bad_wildcards_get_event_ruler_messages_and_positions() {
    for (text, message) in [
        ("a**b", "Consecutive wildcard characters at pos 2"),
        ("**", "Consecutive wildcard characters at pos 1"),
        (r"\\**", "Consecutive wildcard characters at pos 3"),
        (r"a\b", "Invalid escape character at pos 2"),
        (r"ab\", "Invalid escape character at pos 3"),
        ("é\\x", "Invalid escape character at pos 3"),
    ] {
        assert_eq!(Wildcard::parse(text), Err(message.to_owned()), "{text}");
    }
    assert!(Wildcard::parse(r"\**").is_ok(), "an escaped star before a star is not two wildcards");
}
