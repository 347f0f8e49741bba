//! Tests of `events`: durable append, history lookup, pagination, retention, restart.

use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use jiff::{SignedDuration, Timestamp};

use super::*;

const T0: &str = "2026-11-01T12:00:00Z";

fn record(n: u64, seconds_after_t0: i64, event_name: &str, category: &str) -> EventRecord {
    let time: Timestamp = T0.parse().unwrap();
    let time = time.checked_add(SignedDuration::from_secs(seconds_after_t0)).unwrap();
    let text = format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111","accessKeyId":"AKIAALICE","userName":"alice"}},"eventTime":"{}","eventSource":"cloudtrail.amazonaws.com","eventName":"{event_name}","awsRegion":"us-east-1","sourceIPAddress":"127.0.0.1","requestParameters":null,"responseElements":null,"requestID":"r{n}","eventID":"00000000-0000-4000-8000-{n:012}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111","eventCategory":"{category}"}}"#,
        time.strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    EventRecord::parse(text.as_bytes()).unwrap()
}

fn query() -> LookupQuery {
    LookupQuery {
        account_id: "111111111111".to_owned(),
        region: "us-east-1".to_owned(),
        attribute: None,
        start: None,
        end: None,
        insights: false,
        max_results: 50,
        after: None,
    }
}

fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> EventStore {
    EventStore::open(WalConfig::test_config(dir), clock).unwrap().0
}

fn names(page: &LookupPage) -> Vec<String> {
    page.events.iter().map(|e| e.fields().event_name.clone()).collect()
}

fn clock_at(seconds_after_t0: i64) -> Arc<ManualClock> {
    let t0: Timestamp = T0.parse().unwrap();
    Arc::new(ManualClock::new(t0.checked_add(SignedDuration::from_secs(seconds_after_t0)).unwrap()))
}

#[test]
fn history_is_newest_first_and_filters_by_attribute_and_category() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), clock_at(100));
    let records = vec![
        record(1, 1, "GetTrail", "Management"),
        record(2, 3, "CreateTrail", "Management"),
        record(3, 2, "GetTrail", "Management"),
        record(4, 4, "PutObject", "Data"),
        record(5, 5, "ApiCallRateInsight", "Insight"),
    ];
    store.append_durable_blocking(records).unwrap();
    assert_eq!(names(&store.lookup(&query())), ["CreateTrail", "GetTrail", "GetTrail"]);
    let by_name = LookupQuery { attribute: Some((LookupAttributeKey::EventName, "GetTrail".to_owned())), ..query() };
    assert_eq!(names(&store.lookup(&by_name)), ["GetTrail", "GetTrail"]);
    let insights = LookupQuery { insights: true, ..query() };
    assert_eq!(store.lookup(&insights).events.len(), 1);
    let other_region = LookupQuery { region: "eu-west-1".to_owned(), ..query() };
    assert!(store.lookup(&other_region).events.is_empty());
}

#[test]
fn pages_cover_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), clock_at(10_000));
    // Several events share a second: paging must not lose or repeat them.
    let records: Vec<_> = (0..57).map(|n| record(n, (n / 4) as i64, &format!("Op{n}"), "Management")).collect();
    store.append_durable_blocking(records).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.lookup(&LookupQuery { max_results: 5, after, ..query() });
        seen.extend(names(&page));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 57);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 57);
}

#[test]
fn time_windows_are_inclusive() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), clock_at(100));
    store
        .append_durable_blocking((0..10).map(|n| record(n, n as i64, &format!("Op{n}"), "Management")).collect())
        .unwrap();
    let t0: Timestamp = T0.parse().unwrap();
    let window = LookupQuery {
        start: Some(t0.checked_add(SignedDuration::from_secs(3)).unwrap()),
        end: Some(t0.checked_add(SignedDuration::from_secs(5)).unwrap()),
        ..query()
    };
    assert_eq!(names(&store.lookup(&window)), ["Op5", "Op4", "Op3"]);
}

#[test]
fn retention_hides_and_sweeps_events_older_than_90_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock_at(10);
    let store = open(dir.path(), clock.clone());
    store
        .append_durable_blocking(vec![record(1, 0, "Old", "Management"), record(2, 5, "Newer", "Management")])
        .unwrap();
    clock.advance(HISTORY_RETENTION.checked_add(SignedDuration::from_secs(-7)).unwrap());
    assert_eq!(names(&store.lookup(&query())), ["Newer"]);
    assert_eq!(store.sweep_history(), 1);
    assert_eq!(names(&store.lookup(&query())), ["Newer"]);
}

#[test]
fn a_reopened_store_has_the_same_history_twice() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), clock_at(100));
        store
            .append_durable_blocking((0..30).map(|n| record(n, n as i64, &format!("Op{n}"), "Management")).collect())
            .unwrap();
        store.close();
    }
    for _ in 0..2 {
        let store = open(dir.path(), clock_at(100));
        let page = store.lookup(&query());
        assert_eq!(page.events.len(), 30);
        assert_eq!(page.events[0].fields().event_name, "Op29");
        store.close();
    }
}
