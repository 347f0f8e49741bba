//! Tests of the delivery service in one process, on a manual clock: digest chains across key
//! rotations and downtime, checked the way `aws cloudtrail validate-logs` checks them.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use cairn_model::clock::ManualClock;
use cairn_model::event::EventRecord;
use cairn_select::TrailSelectors;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::objects::{ListQuery, ObjectIndex};
use cairn_store::records::{LoggingState, TrailRecord};
use cairn_store::{Change, MetaStore, Record, Registry, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::*;
use crate::destination::Destinations;

const ACCOUNT: &str = "123456789012";
const BUCKET: &str = "logs";

struct Rig {
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    events: Arc<EventStore>,
    meta: Arc<MetaStore>,
    trails: Arc<Registry<TrailRecord>>,
    objects: Arc<ObjectIndex>,
    n_events: usize,
}

fn trail() -> TrailRecord {
    TrailRecord {
        account_id: ACCOUNT.to_owned(),
        home_region: "us-east-1".to_owned(),
        name: "audit".to_owned(),
        s3_bucket_name: BUCKET.to_owned(),
        s3_key_prefix: Some("p".to_owned()),
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
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
        logging: LoggingState { is_logging: true, ..LoggingState::default() },
        created_at: "2026-01-01T00:00:00Z".parse().expect("time"),
    }
}

fn config(rotation: Duration) -> DeliveryConfig {
    DeliveryConfig {
        delivery_interval: Duration::from_millis(20),
        digest_interval: Duration::from_secs(600),
        key_rotation: rotation,
        retry_min: Duration::from_millis(20),
        ..DeliveryConfig::default()
    }
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        let clock = Arc::new(ManualClock::new("2026-03-01T00:00:00Z".parse().expect("time")));
        let config = EventStoreConfig::test_config(dir.path());
        let events = Arc::new(runtime.block_on(EventStore::open(config, clock.clone())).expect("store").0);
        let meta = Arc::new(MetaStore::open(&dir.path().join("meta.redb")).expect("meta"));
        let trails = Arc::new(Registry::load(meta.clone()).expect("trails"));
        trails.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(trail())]))).expect("trail");
        let objects = Arc::new(ObjectIndex::open(&dir.path().join("buckets")).expect("objects"));
        Rig { runtime, dir, clock, events, meta, trails, objects, n_events: 0 }
    }

    fn deliverer(&self, config: DeliveryConfig) -> Arc<Deliverer> {
        self.deliverer_to(config, Destinations::new(Some(self.objects.clone()), &[]).expect("destinations"))
    }

    fn deliverer_to(&self, config: DeliveryConfig, destinations: Destinations) -> Arc<Deliverer> {
        let _guard = self.runtime.enter();
        let deliverer = Arc::new(
            Deliverer::new(DeliveryParts {
                events: self.events.clone(),
                trails: self.trails.clone(),
                meta: self.meta.clone(),
                destinations: Arc::new(destinations),
                topics: Vec::new(),
                organization: None,
                clock: self.clock.clone(),
                config,
            })
            .expect("deliverer"),
        );
        deliverer.start();
        deliverer
    }

    fn record(&mut self) {
        self.n_events += 1;
        let record = json!({
            "eventVersion": "1.11",
            "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT},
            "eventTime": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "UpdateTrail",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "127.0.0.1",
            "userAgent": "test",
            "requestParameters": null,
            "responseElements": null,
            "requestID": format!("req-{}", self.n_events),
            "eventID": format!("00000000-0000-0000-0000-{:012}", self.n_events),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        });
        let record = EventRecord::parse(record.to_string().as_bytes()).expect("record");
        self.runtime.block_on(self.events.append_durable(vec![record])).expect("append");
    }

    fn keys(&self, part: &str) -> Vec<String> {
        let query = ListQuery { prefix: String::new(), start_after: None, delimiter: None, max_keys: 100_000 };
        let listing = self.objects.list(BUCKET, &query).expect("list");
        listing.objects.into_iter().map(|o| o.key).filter(|k| k.contains(part)).collect()
    }

    /// Every digest, oldest first: (key, inflated JSON text, signature hex).
    fn digests(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for key in self.keys("/CloudTrail-Digest/") {
            let (info, bytes) = self.objects.get(BUCKET, &key).expect("get").expect("present");
            let mut text = String::new();
            flate2::read::GzDecoder::new(bytes.as_slice()).read_to_string(&mut text).expect("gunzip");
            let signature = info.user_metadata.iter().find(|(n, _)| n == "signature").expect("signature").1.clone();
            out.push((key, text, signature));
        }
        out
    }

    fn wait_until(&self, what: &str, mut done: impl FnMut(&Rig) -> bool) {
        for _ in 0..500 {
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}");
    }

    fn advance(&self, minutes: i64) {
        self.clock.advance(SignedDuration::from_mins(minutes));
    }
}

fn time(value: &Value) -> Timestamp {
    value.as_str().expect("a time").parse().expect("ISO time")
}

/// What validate-logs checks of a chain: links, contiguity, signatures by a key that ListPublicKeys
/// returns for the window the CLI asks for ([digest start, digest end + 2h]).
fn check_chain(rig: &Rig, deliverer: &Deliverer) -> usize {
    let digests = rig.digests();
    let mut previous: Option<(String, Value, String)> = None;
    let mut fingerprints = std::collections::BTreeSet::new();
    for (object, text, signature) in &digests {
        let digest: Value = serde_json::from_str(text).expect("digest JSON");
        let (start, end) = (time(&digest["digestStartTime"]), time(&digest["digestEndTime"]));
        let window_end = end.checked_add(SignedDuration::from_hours(2)).expect("time");
        let keys = deliverer.shared.keys.public_keys("us-east-1", start, window_end);
        let fingerprint = digest["digestPublicKeyFingerprint"].as_str().expect("fingerprint");
        let key = keys.iter().find(|k| k.fingerprint == fingerprint).expect("key listed for the digest's window");
        let der = key.public_der().expect("der");
        assert!(crate::digest::verify(text, signature, &der).expect("verify"), "signature of {key:?}");
        fingerprints.insert(fingerprint.to_owned());
        match &previous {
            None => assert!(digest["previousDigestSignature"].is_null()),
            Some((prev_key, prev, prev_signature)) => {
                assert_eq!(digest["previousDigestS3Object"], json!(prev_key));
                assert_eq!(digest["previousDigestSignature"], json!(prev_signature));
                assert_eq!(digest["digestStartTime"], prev["digestEndTime"]);
            }
        }
        previous = Some((object.clone(), digest, signature.clone()));
    }
    fingerprints.len()
}

#[test]
fn digests_chain_and_verify_across_key_rotations() {
    let mut rig = Rig::new();
    let deliverer = rig.deliverer(config(Duration::from_secs(3600)));
    rig.wait_until("the trail's state", |r| deliverer.cursor(&trail().arn()).is_some() && r.keys("").is_empty());
    for round in 0..20 {
        rig.record();
        let end = rig.events.next_lsn();
        rig.wait_until("delivery", |_| deliverer.cursor(&trail().arn()) == Some(end));
        rig.advance(10);
        rig.wait_until("a digest", |r| r.keys("/CloudTrail-Digest/").len() > round);
    }
    let n_keys = check_chain(&rig, &deliverer);
    assert!(n_keys >= 3, "the key rotated every hour over 200 minutes: {n_keys} keys");
    assert_eq!(rig.keys("/CloudTrail/").len(), 20);
    // Every log file is listed by exactly one digest.
    let mut listed: Vec<String> = rig
        .digests()
        .iter()
        .flat_map(|(_, text, _)| {
            let digest: Value = serde_json::from_str(text).expect("JSON");
            digest["logFiles"]
                .as_array()
                .expect("logFiles")
                .iter()
                .map(|f| f["s3Object"].as_str().expect("key").to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    listed.sort();
    assert_eq!(listed, rig.keys("/CloudTrail/"));
    deliverer.stop();
    drop(rig.dir);
}

#[test]
fn missed_digest_periods_are_delivered_one_by_one_after_downtime() {
    let mut rig = Rig::new();
    let first = rig.deliverer(config(Duration::from_secs(30 * 86_400)));
    rig.wait_until("the trail's state", |_| first.cursor(&trail().arn()).is_some());
    rig.record();
    rig.advance(10);
    rig.wait_until("the first digest", |r| r.keys("/CloudTrail-Digest/").len() == 1);
    first.stop();
    drop(first);
    // Down for an hour, with events recorded meanwhile (as a restarted server replays them).
    rig.record();
    rig.advance(60);
    let second = rig.deliverer(config(Duration::from_secs(30 * 86_400)));
    rig.wait_until("six more digests", |r| r.keys("/CloudTrail-Digest/").len() == 7);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rig.keys("/CloudTrail-Digest/").len(), 7, "one digest per missed period, no more");
    check_chain(&rig, &second);
    let starts: Vec<Timestamp> = rig
        .digests()
        .iter()
        .map(|(_, text, _)| time(&serde_json::from_str::<Value>(text).expect("JSON")["digestStartTime"]))
        .collect();
    for pair in starts.windows(2) {
        assert_eq!(pair[1].duration_since(pair[0]), SignedDuration::from_mins(10));
    }
    assert_eq!(rig.keys("/CloudTrail/").len(), 2);
    second.stop();
}

#[test]
fn a_deleted_trail_whose_bucket_is_gone_gives_up_and_releases_the_log() {
    let mut rig = Rig::new();
    let nowhere =
        Destinations::new(Some(rig.objects.clone()), &[]).expect("destinations").with_embedded_buckets(|_| false);
    let deliverer = rig.deliverer_to(config(Duration::from_secs(86_400)), nowhere);
    let arn = trail().arn();
    let hold = hold_name(&arn);
    rig.wait_until("the trail's state", |_| deliverer.cursor(&arn).is_some());
    rig.record();
    rig.wait_until("a failed delivery", |_| deliverer.status(&arn, "us-east-1").latest_delivery_error.is_some());
    assert_eq!(deliverer.status(&arn, "us-east-1").latest_delivery_error.as_deref(), Some("NoSuchBucket"));
    // While the trail exists, nothing is given up: the log stays held at the undelivered event.
    std::thread::sleep(Duration::from_millis(300));
    assert!(rig.events.holds().oldest().is_some());
    assert!(deliverer.shared.states.get(&arn).is_some_and(|s| s.pending.is_some()));
    rig.trails.transact(|_| Ok::<_, StoreError>(((), vec![Change::Delete(trail().key())]))).expect("delete");
    rig.wait_until("the state to go", |_| deliverer.shared.states.get(&arn).is_none());
    rig.wait_until("the hold to go", |r| {
        // The supervisor's own hold for new trails remains; the trail's is released.
        r.events.holds().oldest() == Some(r.events.next_lsn()) || r.events.holds().oldest().is_none()
    });
    assert!(!format!("{:?}", rig.events.holds()).contains(&hold));
    deliverer.stop();
}
