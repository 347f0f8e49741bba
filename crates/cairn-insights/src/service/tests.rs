//! The service over a real event store and a manual clock: counting the log, recording insight events in
//! Event history, and a restart from the saved state that records nothing twice.

use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_store::events::EventStoreConfig;
use jiff::{SignedDuration, Timestamp};

use super::*;

const T0: i64 = 1_772_445_600; // 2026-03-02T10:00:00Z

fn call(minute: i64, second: i64, user: &str, n: usize) -> String {
    let time = Timestamp::from_second(T0 + minute * 60 + second).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/{user}","accountId":"111111111111"}},"eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","userAgent":"cli","eventID":"{minute}-{second}-{user}-{n}","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111","eventCategory":"Management"}}"#
    )
}

/// A read of an object of `bucket`: a data event.
fn get_object(minute: i64, second: i64, bucket: &str, n: usize) -> String {
    let time = Timestamp::from_second(T0 + minute * 60 + second).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/eve","accountId":"111111111111"}},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","userAgent":"cli","eventID":"{bucket}-{minute}-{second}-{n}","readOnly":true,"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/k"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111111111111","eventCategory":"Data"}}"#
    )
}

fn no_data_trails() -> DataTrails {
    Arc::new(Vec::new)
}

fn config() -> ServiceConfig {
    ServiceConfig {
        detector: Config { learning_minutes: 10, ..Config::default() },
        lateness: Duration::from_secs(1),
        save_every: Duration::ZERO,
        ..ServiceConfig::default()
    }
}

async fn insight_events(events: &EventStore) -> Vec<serde_json::Value> {
    let query = LookupQuery {
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        attribute: None,
        start: None,
        end: None,
        insights: true,
        max_results: 50,
        after: None,
    };
    let page = events.lookup(&query).await.unwrap();
    page.events.iter().map(|record| serde_json::from_str(record.text()).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_in_the_log_is_recorded_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(T0).unwrap()));
    let (events, _) = EventStore::open(EventStoreConfig::test_config(dir.path()), clock.clone()).await.unwrap();
    let events = Arc::new(events);
    let wanted: Wanted = Arc::new(|key: &SeriesKey| key.account_id == "111111111111");
    let mut records = Vec::new();
    for minute in 0..24 {
        for (second, user) in [(10, "ann"), (40, "bob")] {
            records.push(call(minute, second, user, 0));
        }
        if (15..18).contains(&minute) {
            records.extend((0..30).map(|n| call(minute, 1 + n as i64, "mallory", n)));
        }
    }
    // The first minutes are in the log before the service opens (read back from it); the rest are
    // told by the store as they are appended, in batches completing out of order.
    let mut parsed: Vec<EventRecord> =
        records.iter().map(|text| EventRecord::parse(text.as_bytes()).unwrap()).collect();
    let later = parsed.split_off(10);
    events.append_durable(parsed).await.unwrap();
    let service =
        InsightsService::open(dir.path(), events.clone(), clock.clone(), config(), wanted.clone(), no_data_trails())
            .unwrap();
    let appends: Vec<_> = later
        .chunks(7)
        .map(|chunk| {
            let (events, chunk) = (events.clone(), chunk.to_vec());
            tokio::spawn(async move { events.append_durable(chunk).await.unwrap() })
        })
        .collect();
    for append in appends {
        append.await.unwrap();
    }
    clock.advance(SignedDuration::from_mins(25));

    let appended = service.pass().await.unwrap();
    let found = insight_events(&events).await;
    assert_eq!(appended, 2, "a Start and an End: {found:#?}");
    let found = insight_events(&events).await;
    let states: Vec<&str> = found.iter().map(|e| e["insightDetails"]["state"].as_str().unwrap()).collect();
    assert_eq!(states.len(), 2, "{found:#?}");
    assert!(states.contains(&"Start") && states.contains(&"End"));
    let start = found.iter().find(|e| e["insightDetails"]["state"] == "Start").unwrap();
    assert_eq!(start["eventTime"], "2026-03-02T10:15:00Z");
    let users = &start["insightDetails"]["insightContext"]["attributions"][0];
    assert_eq!(users["insight"][0]["value"], "arn:aws:iam::111111111111:user/mallory");
    assert_eq!(service.points(&found_key(), 1, 0, i64::MAX / 2).await.len(), 24, "every minute of the log");

    // A restart loads the saved counters and cursor: nothing is counted or recorded twice.
    service.stop().await.unwrap();
    drop(service);
    let again =
        InsightsService::open(dir.path(), events.clone(), clock.clone(), config(), wanted, no_data_trails()).unwrap();
    clock.advance(SignedDuration::from_mins(5));
    assert_eq!(again.pass().await.unwrap(), 0);
    assert_eq!(again.cursor().await, events.next_lsn(), "the insight events it wrote are read back, not counted");
    assert_eq!(insight_events(&events).await.len(), 2);
    let minute = (T0 + 16 * 60) / 60;
    assert_eq!(again.points(&found_key(), 1, minute, minute + 1).await, [(minute, 32)]);
}

fn found_key() -> SeriesKey {
    SeriesKey {
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        insight_type: crate::key::InsightType::ApiCallRate,
        event_source: "ec2.amazonaws.com".into(),
        event_name: "RunInstances".into(),
        error_code: None,
        trail: None,
    }
}

/// Insights on data events: a trail's data events (reads included) are counted in series of the
/// trail's own, and their insight events say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trails_data_events_make_insights_of_their_own() {
    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111111111111:trail/objects";
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(T0).unwrap()));
    let (events, _) = EventStore::open(EventStoreConfig::test_config(dir.path()), clock.clone()).await.unwrap();
    let events = Arc::new(events);
    let wanted: Wanted = Arc::new(|key: &SeriesKey| key.trail.as_deref() == Some(TRAIL));
    // The trail logs the data events of bucket "watched" only.
    let data_trails: DataTrails = Arc::new(|| {
        vec![DataTrail {
            arn: TRAIL.to_owned(),
            takes: Box::new(|fields: &EventFields| {
                fields.resources.iter().any(|r| r.arn.as_deref().is_some_and(|arn| arn.contains(":::watched/")))
            }),
        }]
    });
    let mut records = Vec::new();
    for minute in 0..24 {
        records.push(get_object(minute, 5, "watched", 0));
        records.push(get_object(minute, 6, "other", 0));
        if (15..18).contains(&minute) {
            records.extend((0..30).map(|n| get_object(minute, 10 + n as i64, "watched", n + 1)));
            records.extend((0..30).map(|n| get_object(minute, 10 + n as i64, "other", n + 1)));
        }
    }
    let parsed: Vec<EventRecord> = records.iter().map(|text| EventRecord::parse(text.as_bytes()).unwrap()).collect();
    events.append_durable(parsed).await.unwrap();
    let service =
        InsightsService::open(dir.path(), events.clone(), clock.clone(), config(), wanted, data_trails).unwrap();
    clock.advance(SignedDuration::from_mins(25));
    assert_eq!(service.pass().await.unwrap(), 2, "one Start and one End, for the watched bucket's reads");
    let found = insight_events(&events).await;
    for event in &found {
        let details = &event["insightDetails"];
        assert_eq!(
            (details["eventName"].as_str(), details["sourceEventCategory"].as_str()),
            (Some("GetObject"), Some("Data"))
        );
        assert_eq!(details["insightSource"], TRAIL);
    }
    let key = SeriesKey {
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        insight_type: crate::key::InsightType::ApiCallRate,
        event_source: "s3.amazonaws.com".into(),
        event_name: "GetObject".into(),
        error_code: None,
        trail: Some(TRAIL.into()),
    };
    let minute = (T0 + 16 * 60) / 60;
    assert_eq!(service.points(&key, 1, minute, minute + 1).await, [(minute, 31)], "the watched bucket's reads only");
    let management = SeriesKey { trail: None, ..key };
    assert!(service.points(&management, 1, 0, i64::MAX / 2).await.is_empty(), "data events make no management series");
}
