//! PutAuditEvents query parameters, external IDs and the eventIDs that make retries idempotent.

use jiff::Timestamp;

use super::dedupe::{RecentAuditEvents, event_id};
use super::{QueryParams, check_external_id};

#[test]
fn an_event_keeps_its_id_across_retries_and_changes_it_with_its_bytes() {
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef";
    let first = event_id(arn, "e1", r#"{"a":1}"#);
    assert_eq!(first, event_id(arn, "e1", r#"{"a":1}"#));
    assert_ne!(first, event_id(arn, "e2", r#"{"a":1}"#));
    assert_ne!(first, event_id(arn, "e1", r#"{"a": 1}"#));
    assert_ne!(first, event_id(&arn.replace("us-east-1", "eu-west-1"), "e1", r#"{"a":1}"#));
    // Parts cannot run into each other: ("ab", "c") is not ("a", "bc").
    assert_ne!(event_id(arn, "ab", "c"), event_id(arn, "a", "bc"));
    assert!(uuid::Uuid::parse_str(&first).is_ok());
}

#[test]
fn recent_events_are_remembered_for_a_day() {
    let recent = RecentAuditEvents::default();
    let start: Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
    recent.insert_all(vec!["a".to_owned(), "b".to_owned()], start);
    assert!(recent.contains("a") && recent.contains("b"));
    let later: Timestamp = "2026-11-21T23:59:00Z".parse().unwrap();
    recent.insert_all(vec!["c".to_owned()], later);
    assert!(recent.contains("a"), "within the day");
    let next_day: Timestamp = "2026-11-22T00:30:00Z".parse().unwrap();
    recent.insert_all(vec!["d".to_owned()], next_day);
    assert!(!recent.contains("a") && !recent.contains("b"), "a day old: forgotten");
    assert!(recent.contains("c") && recent.contains("d"));
}

#[test]
fn a_claim_goes_to_one_call_and_is_released_if_its_append_fails() {
    let recent = RecentAuditEvents::default();
    let now: Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
    let ids = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(recent.claim(ids(&["a", "b"]), now), ids(&["a", "b"]));
    // A concurrent retry of the same call finds them claimed, and stores only what is new.
    assert_eq!(recent.claim(ids(&["a", "b", "c"]), now), ids(&["c"]));
    recent.release(&ids(&["c"]));
    assert!(!recent.contains("c") && recent.contains("a"));
    assert_eq!(recent.claim(ids(&["c"]), now), ids(&["c"]), "a released event is stored by the next retry");
}

#[test]
fn query_parameters_are_decoded() {
    let params = QueryParams::parse(
        "channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2Fabc&externalId=ext%2B1&other=x",
    );
    assert_eq!(params.channel_arn.as_deref(), Some("arn:aws:cloudtrail:us-east-1:123456789012:channel/abc"));
    assert_eq!(params.external_id.as_deref(), Some("ext+1"));
    let none = QueryParams::parse("");
    assert!(none.channel_arn.is_none() && none.external_id.is_none());
}

#[test]
fn external_ids_follow_the_model() {
    assert!(check_external_id("ab").is_ok());
    assert!(check_external_id(&"a".repeat(1224)).is_ok());
    assert!(check_external_id("a").is_err());
    assert!(check_external_id(&"a".repeat(1225)).is_err());
    assert!(check_external_id("tenant=1,role:/x@y.z-_+").is_ok());
    assert!(check_external_id("has space").is_err());
}
