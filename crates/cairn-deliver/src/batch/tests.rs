//! Tests of `batch`: what a trail's range of the log becomes.

use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_model::event::EventRecord;
use cairn_select::TrailSelectors;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::{LoggingState, TrailRecord};
use serde_json::{Value, json};

use super::*;

const ACCOUNT: &str = "123456789012";

fn trail(home: &str, multi_region: bool) -> TrailRecord {
    TrailRecord {
        account_id: ACCOUNT.to_owned(),
        home_region: home.to_owned(),
        name: "audit".to_owned(),
        s3_bucket_name: "logs".to_owned(),
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: multi_region,
        log_file_validation_enabled: true,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        kms_key_id: None,
        organization_id: None,
        recursive_logging: false,
        selectors: TrailSelectors::default_for_trail(),
        insight_selectors: Vec::new(),
        aggregation_configurations: Vec::new(),
        tags: Vec::new(),
        logging: LoggingState::default(),
        created_at: "2026-01-01T00:00:00Z".parse().expect("time"),
    }
}

fn event(n: usize, name: &str, region: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT},
        "eventTime": format!("2026-01-01T00:{:02}:{:02}Z", n / 60 % 60, n % 60),
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "test",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{n}"),
        "eventID": format!("00000000-0000-0000-0000-{n:012}"),
        "readOnly": name.starts_with("Get") || name.starts_with("List"),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    })
}

/// A control event of the trail (StartLogging, StopLogging, DeleteTrail), failed or not.
fn control_event(n: usize, name: &str, error: Option<&str>) -> Value {
    let mut event = event(n, name, "us-east-1");
    event["resources"] =
        json!([{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail", "ARN": trail("us-east-1", false).arn()}]);
    if let Some(error) = error {
        event["errorCode"] = json!(error);
    }
    event
}

struct Log {
    store: EventStore,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn log_of(events: &[Value]) -> Log {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let clock = Arc::new(ManualClock::new("2026-01-01T01:00:00Z".parse().expect("time")));
    let (store, _) =
        runtime.block_on(EventStore::open(EventStoreConfig::test_config(dir.path()), clock)).expect("open store");
    let records: Vec<EventRecord> =
        events.iter().map(|e| EventRecord::parse(e.to_string().as_bytes()).expect("record")).collect();
    runtime.block_on(store.append_durable(records)).expect("append");
    Log { store, _runtime: runtime, _dir: dir }
}

fn input<'a>(trail: &'a TrailRecord, log: &Log, logging: bool) -> BatchInput<'a> {
    BatchInput {
        trail,
        organization_accounts: None,
        from: Lsn(0),
        end: log.store.next_lsn(),
        logging,
        position: None,
        max_batch_bytes: MAX_BATCH_BYTES,
        max_file_bytes: MAX_FILE_BYTES,
    }
}

fn names(file: &LogFile) -> Vec<String> {
    let body: Value = serde_json::from_slice(&file.body).expect("file body is JSON");
    body["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| r["eventName"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn a_logging_trail_gets_one_file_per_region_with_the_exact_records() {
    let events =
        [event(1, "CreateTrail", "us-east-1"), event(2, "GetTrail", "eu-west-1"), event(3, "UpdateTrail", "us-east-1")];
    let log = log_of(&events);
    let multi = trail("us-east-1", true);
    let batch = read_batch(&log.store, &input(&multi, &log, true)).expect("batch");
    assert_eq!(batch.end, Lsn(3));
    let regions: Vec<&str> = batch.files.iter().map(|f| f.region.as_str()).collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    let us = &batch.files[1];
    assert_eq!(names(us), ["CreateTrail", "UpdateTrail"]);
    // The body is the records' exact text in the compact wrapper.
    let expected = format!("{{\"Records\":[{},{}]}}", events[0], events[2]);
    assert_eq!(String::from_utf8(us.body.clone()).expect("utf-8"), expected);
    assert_eq!(us.oldest.to_string(), "2026-01-01T00:00:01Z");
    assert_eq!(us.newest.to_string(), "2026-01-01T00:00:03Z");

    let single = trail("us-east-1", false);
    let batch = read_batch(&log.store, &input(&single, &log, true)).expect("batch");
    assert_eq!(batch.files.len(), 1);
    assert_eq!(names(&batch.files[0]), ["CreateTrail", "UpdateTrail"]);
}

#[test]
fn logging_starts_at_the_start_event_and_ends_after_the_stop_event() {
    let events = [
        event(1, "CreateTrail", "us-east-1"),
        control_event(2, "StartLogging", Some("InvalidHomeRegionException")),
        control_event(3, "StartLogging", None),
        event(4, "UpdateTrail", "us-east-1"),
        control_event(5, "StopLogging", None),
        event(6, "DeleteBucket", "us-east-1"),
    ];
    let log = log_of(&events);
    let trail = trail("us-east-1", false);
    let batch = read_batch(&log.store, &input(&trail, &log, false)).expect("batch");
    assert_eq!(names(&batch.files[0]), ["StartLogging", "UpdateTrail", "StopLogging"]);
    assert!(batch.stopped && !batch.logging_after && !batch.deleted);

    // A StopLogging of another trail changes nothing.
    let mut other = trail.clone();
    other.name = "other".to_owned();
    let batch = read_batch(&log.store, &input(&other, &log, true)).expect("batch");
    assert_eq!(batch.n_events(), 6);
    assert!(!batch.stopped && batch.logging_after);
}

#[test]
fn nothing_after_the_trail_is_deleted() {
    let events =
        [event(1, "GetTrail", "us-east-1"), control_event(2, "DeleteTrail", None), event(3, "GetTrail", "us-east-1")];
    let log = log_of(&events);
    let trail = trail("us-east-1", false);
    let batch = read_batch(&log.store, &input(&trail, &log, true)).expect("batch");
    assert_eq!(names(&batch.files[0]), ["GetTrail", "DeleteTrail"]);
    assert!(batch.deleted && batch.stopped);
}

#[test]
fn full_files_split_and_full_batches_stop_early_without_losing_an_event() {
    let events: Vec<Value> = (0..40).map(|n| event(n, "UpdateTrail", "us-east-1")).collect();
    let log = log_of(&events);
    let trail = trail("us-east-1", false);
    let one = events[0].to_string().len();
    let mut small = input(&trail, &log, true);
    small.max_file_bytes = one * 5;
    let batch = read_batch(&log.store, &small).expect("batch");
    assert_eq!(batch.n_events(), 40);
    assert!(batch.files.len() >= 8, "{} files", batch.files.len());
    assert!(batch.files.iter().all(|f| f.body.len() <= small.max_file_bytes));
    let parts: Vec<usize> = batch.files.iter().map(|f| f.part).collect();
    assert_eq!(parts, (0..parts.len()).collect::<Vec<_>>());

    // A batch cap cuts the range; reading on from its end yields the rest, each event once.
    let mut capped = input(&trail, &log, true);
    capped.max_batch_bytes = one * 15;
    let mut seen = Vec::new();
    while capped.from < capped.end {
        let batch = read_batch(&log.store, &capped).expect("batch");
        assert!(batch.end > capped.from);
        for file in &batch.files {
            let body: Value = serde_json::from_slice(&file.body).expect("JSON");
            seen.extend(body["Records"].as_array().expect("Records").iter().map(|r| r["requestID"].clone()));
        }
        capped.from = batch.end;
        capped.position = batch.position;
    }
    let expected: Vec<Value> = events.iter().map(|e| e["requestID"].clone()).collect();
    assert_eq!(seen, expected);
}

fn insight(n: usize, kind: &str, region: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "eventTime": format!("2026-01-01T00:{:02}:00Z", n % 60),
        "awsRegion": region,
        "eventID": format!("00000000-0000-0000-0001-{n:012}"),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": ACCOUNT,
        "sharedEventID": "00000000-0000-0000-0002-000000000000",
        "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
                           "insightType": kind, "sourceEventCategory": "Management"},
        "eventCategory": "Insight",
    })
}

#[test]
fn insights_events_go_to_their_own_files_for_trails_that_select_their_type() {
    let events = [
        event(1, "CreateTrail", "us-east-1"),
        insight(2, "ApiCallRateInsight", "us-east-1"),
        insight(3, "ApiErrorRateInsight", "us-east-1"),
        insight(4, "ApiCallRateInsight", "eu-west-1"),
    ];
    let log = log_of(&events);
    let plain = trail("us-east-1", false);
    let batch = read_batch(&log.store, &input(&plain, &log, true)).expect("batch");
    assert_eq!(batch.files.len(), 1, "without insight selectors a trail takes no Insights events");
    assert!(!batch.files[0].insight);

    let mut watching = trail("us-east-1", false);
    watching.insight_selectors = vec![cairn_model::trail::InsightSelector {
        insight_type: Some("ApiCallRateInsight".into()),
        event_categories: None,
    }];
    let batch = read_batch(&log.store, &input(&watching, &log, true)).expect("batch");
    let kinds: Vec<(bool, usize)> = batch.files.iter().map(|f| (f.insight, f.n_events)).collect();
    assert_eq!(kinds, [(false, 1), (true, 1)], "its region's call-rate insight, in a file of its own");
    let body: Value = serde_json::from_slice(&batch.files[1].body).expect("JSON");
    assert_eq!(body["Records"][0]["eventID"], "00000000-0000-0000-0001-000000000002");

    watching.is_multi_region_trail = true;
    let batch = read_batch(&log.store, &input(&watching, &log, true)).expect("batch");
    let insight_regions: Vec<&str> = batch.files.iter().filter(|f| f.insight).map(|f| f.region.as_str()).collect();
    assert_eq!(insight_regions, ["eu-west-1", "us-east-1"]);
}
