//! Tests of `events`: durable append, history lookup over the tail and segments, pagination, retention,
//! restart, crashes between segment write and commit, damaged segments, compaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::persist::IndexedRanges;
use super::*;
use crate::dataset::{Dataset, SegmentWriter};

const T0: &str = "2026-11-01T12:00:00Z";
const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

/// What a generated event looks like; `event` turns it into a record.
#[derive(Debug, Clone)]
struct Spec {
    n: u64,
    seconds_after_t0: i64,
    account: String,
    region: String,
    name: String,
    source: String,
    user: Option<String>,
    access_key: Option<String>,
    read_only: Option<bool>,
    resources: Vec<(Option<String>, Option<String>)>,
    category: String,
}

impl Spec {
    fn new(n: u64, seconds_after_t0: i64, name: &str, category: &str) -> Spec {
        Spec {
            n,
            seconds_after_t0,
            account: ACCOUNT.to_owned(),
            region: REGION.to_owned(),
            name: name.to_owned(),
            source: "cloudtrail.amazonaws.com".to_owned(),
            user: Some("alice".to_owned()),
            access_key: Some("AKIAALICE".to_owned()),
            read_only: Some(true),
            resources: Vec::new(),
            category: category.to_owned(),
        }
    }

    fn event(&self) -> EventRecord {
        let time = t0().checked_add(SignedDuration::from_secs(self.seconds_after_t0)).unwrap();
        let mut identity = json!({"type": "IAMUser", "principalId": "AIDA1", "accountId": self.account});
        if let Some(user) = &self.user {
            identity["userName"] = json!(user);
            identity["arn"] = json!(format!("arn:aws:iam::{}:user/{user}", self.account));
        }
        if let Some(key) = &self.access_key {
            identity["accessKeyId"] = json!(key);
        }
        let mut record = json!({
            "eventVersion": "1.11",
            "userIdentity": identity,
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": self.region,
            "sourceIPAddress": "127.0.0.1",
            "requestParameters": {"filterSet": {}},
            "responseElements": null,
            "requestID": format!("r{}", self.n),
            "eventID": format!("00000000-0000-4000-8000-{:012}", self.n),
            "eventType": "AwsApiCall",
            "managementEvent": self.category != "Data",
            "recipientAccountId": self.account,
            "eventCategory": self.category,
        });
        if let Some(read_only) = self.read_only {
            record["readOnly"] = json!(read_only);
        }
        if !self.resources.is_empty() {
            let resources: Vec<_> = self
                .resources
                .iter()
                .map(|(kind, arn)| {
                    let mut resource = json!({"accountId": self.account});
                    if let Some(kind) = kind {
                        resource["type"] = json!(kind);
                    }
                    if let Some(arn) = arn {
                        resource["ARN"] = json!(arn);
                    }
                    resource
                })
                .collect();
            record["resources"] = json!(resources);
        }
        EventRecord::parse(record.to_string().as_bytes()).unwrap()
    }
}

fn record(n: u64, seconds_after_t0: i64, event_name: &str, category: &str) -> EventRecord {
    Spec::new(n, seconds_after_t0, event_name, category).event()
}

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn query() -> LookupQuery {
    LookupQuery {
        account_id: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        attribute: None,
        start: None,
        end: None,
        insights: false,
        max_results: 50,
        after: None,
    }
}

fn clock_at(seconds_after_t0: i64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(t0().checked_add(SignedDuration::from_secs(seconds_after_t0)).unwrap()))
}

/// An event store with the runtime its lookups and background flushes run on.
struct Harness {
    store: EventStore,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn open(dir: &Path, clock: Arc<ManualClock>) -> Harness {
        Harness::open_with(EventStoreConfig::test_config(dir), clock)
    }

    /// Flushes only when a test says so.
    fn open_manual(dir: &Path, clock: Arc<ManualClock>) -> Harness {
        Harness::open_with(EventStoreConfig { flush_events: 1 << 40, ..EventStoreConfig::test_config(dir) }, clock)
    }

    fn open_with(config: EventStoreConfig, clock: Arc<ManualClock>) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let store = runtime.block_on(EventStore::open(config, clock)).unwrap().0;
        Harness { store, runtime }
    }

    fn append(&self, records: Vec<EventRecord>) {
        self.store.append_durable_blocking(records).unwrap();
    }

    fn lookup(&self, query: &LookupQuery) -> LookupPage {
        self.runtime.block_on(self.store.lookup(query)).unwrap()
    }

    /// Every page of `query`, checking that keys strictly decrease across pages.
    fn lookup_all(&self, query: &LookupQuery) -> Vec<Arc<EventRecord>> {
        let mut events = Vec::new();
        let mut after = None;
        loop {
            let page = self.lookup(&LookupQuery { after, ..query.clone() });
            events.extend(page.events);
            match page.next {
                Some(next) => {
                    assert_ne!(Some(next), after, "a NextToken must make progress");
                    after = Some(next);
                }
                None => return events,
            }
        }
    }

    fn flush(&self) -> FlushReport {
        self.runtime.block_on(self.store.flush()).unwrap()
    }

    fn n_segments(&self) -> usize {
        self.store.history_snapshot().manifest.segments.len()
    }

    fn close(self) {
        self.store.close();
    }
}

fn names(events: &[Arc<EventRecord>]) -> Vec<String> {
    events.iter().map(|e| e.fields().event_name.clone()).collect()
}

fn ids(events: &[Arc<EventRecord>]) -> Vec<String> {
    events.iter().map(|e| e.fields().event_id.clone()).collect()
}

#[test]
fn history_is_newest_first_and_filters_by_attribute_and_category() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open(dir.path(), clock_at(100));
    let records = vec![
        record(1, 1, "GetTrail", "Management"),
        record(2, 3, "CreateTrail", "Management"),
        record(3, 2, "GetTrail", "Management"),
        record(4, 4, "PutObject", "Data"),
        record(5, 5, "ApiCallRateInsight", "Insight"),
    ];
    store.append(records);
    for flushed in [false, true] {
        if flushed {
            store.flush();
            assert_eq!(store.store.tail_len(), 0);
        }
        assert_eq!(names(&store.lookup(&query()).events), ["CreateTrail", "GetTrail", "GetTrail"]);
        let by_name =
            LookupQuery { attribute: Some((LookupAttributeKey::EventName, "GetTrail".to_owned())), ..query() };
        assert_eq!(names(&store.lookup(&by_name).events), ["GetTrail", "GetTrail"]);
        let insights = LookupQuery { insights: true, ..query() };
        assert_eq!(store.lookup(&insights).events.len(), 1);
        let other_region = LookupQuery { region: "eu-west-1".to_owned(), ..query() };
        assert!(store.lookup(&other_region).events.is_empty());
    }
}

#[test]
fn pages_cover_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open(dir.path(), clock_at(10_000));
    // Several events share a second: paging must not lose or repeat them.
    let records: Vec<_> = (0..57).map(|n| record(n, (n / 4) as i64, &format!("Op{n}"), "Management")).collect();
    store.append(records);
    let seen = names(&store.lookup_all(&LookupQuery { max_results: 5, ..query() }));
    assert_eq!(seen.len(), 57);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 57);
}

#[test]
fn time_windows_are_inclusive() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open(dir.path(), clock_at(100));
    store.append((0..10).map(|n| record(n, n as i64, &format!("Op{n}"), "Management")).collect());
    let window = LookupQuery {
        start: Some(t0().checked_add(SignedDuration::from_secs(3)).unwrap()),
        end: Some(t0().checked_add(SignedDuration::from_secs(5)).unwrap()),
        ..query()
    };
    assert_eq!(names(&store.lookup(&window).events), ["Op5", "Op4", "Op3"]);
    store.flush();
    assert_eq!(names(&store.lookup(&window).events), ["Op5", "Op4", "Op3"]);
}

#[test]
fn retention_hides_and_sweeps_events_older_than_90_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock_at(10);
    let store = Harness::open(dir.path(), clock.clone());
    store.append(vec![record(1, 0, "Old", "Management"), record(2, 5, "Newer", "Management")]);
    clock.advance(HISTORY_RETENTION.checked_add(SignedDuration::from_secs(-7)).unwrap());
    assert_eq!(names(&store.lookup(&query()).events), ["Newer"]);
    assert_eq!(store.runtime.block_on(store.store.sweep_history()).unwrap(), 1);
    assert_eq!(names(&store.lookup(&query()).events), ["Newer"]);
}

#[test]
fn retention_drops_segments_wholly_older_than_90_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock_at(0);
    let store = Harness::open_manual(dir.path(), clock.clone());
    let day = 24 * 3600;
    store.append((0..10).map(|n| record(n, n as i64, "Old", "Management")).collect());
    let old = store.flush().segment.unwrap();
    store.append((10..20).map(|n| record(n, 80 * day + n as i64, "Newer", "Management")).collect());
    store.flush();
    store.append(vec![record(20, 85 * day, "Tail", "Management")]);
    clock.set(t0().checked_add(SignedDuration::from_secs(91 * day)).unwrap());
    let old_path = dir.path().join("datasets/history").join(crate::dataset::paths::segment_path(old).as_ref());
    assert!(old_path.exists());
    assert_eq!(store.runtime.block_on(store.store.sweep_history()).unwrap(), 10);
    assert!(!old_path.exists(), "the expired segment's object is deleted after the commit");
    assert_eq!(store.n_segments(), 1);
    let all = store.lookup_all(&query());
    assert_eq!(all.len(), 11);
    store.close();
    let store = Harness::open_manual(dir.path(), clock);
    assert_eq!(store.lookup_all(&query()).len(), 11);
}

#[test]
fn a_reopened_store_has_the_same_history_twice() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Harness::open(dir.path(), clock_at(100));
        store.append((0..30).map(|n| record(n, n as i64, &format!("Op{n}"), "Management")).collect());
        store.close();
    }
    for _ in 0..2 {
        let store = Harness::open(dir.path(), clock_at(100));
        let page = store.lookup(&query());
        assert_eq!(page.events.len(), 30);
        assert_eq!(page.events[0].fields().event_name, "Op29");
        store.close();
    }
}

/// The lookups compared across restarts, compaction and damage.
fn sample_lookups() -> Vec<LookupQuery> {
    vec![
        query(),
        LookupQuery { max_results: 7, ..query() },
        LookupQuery { attribute: Some((LookupAttributeKey::EventName, "Even".to_owned())), ..query() },
        LookupQuery {
            attribute: Some((LookupAttributeKey::EventId, format!("00000000-0000-4000-8000-{:012}", 42))),
            ..query()
        },
        LookupQuery {
            start: Some(t0().checked_add(SignedDuration::from_secs(40)).unwrap()),
            end: Some(t0().checked_add(SignedDuration::from_secs(120)).unwrap()),
            max_results: 9,
            ..query()
        },
    ]
}

fn answers(store: &Harness) -> Vec<Vec<String>> {
    sample_lookups().iter().map(|q| ids(&store.lookup_all(q))).collect()
}

fn even_odd(n: u64) -> EventRecord {
    // Event times go back and forth, so segments overlap in time.
    let seconds = ((n * 37) % 150) as i64;
    record(n, seconds, if n.is_multiple_of(2) { "Even" } else { "Odd" }, "Management")
}

#[test]
fn history_split_between_segments_and_tail_survives_two_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        store.append((0..80).map(even_odd).collect());
        assert_eq!(store.flush().n_events, 80);
        store.append((80..120).map(even_odd).collect());
        assert_eq!(store.flush().n_events, 40);
        store.append((120..150).map(even_odd).collect());
        assert_eq!(store.store.tail_len(), 30);
        assert_eq!(store.n_segments(), 2);
        let answers = answers(&store);
        assert_eq!(answers[0].len(), 150);
        assert_eq!(store.lookup(&query()).events.len(), 50);
        store.close();
        answers
    };
    for _ in 0..2 {
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        assert_eq!(store.store.tail_len(), 30, "only events after the persisted lsn are replayed");
        assert_eq!(answers(&store), before);
        store.close();
    }
}

#[test]
fn a_crash_between_segment_write_and_commit_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<EventRecord> = (0..40).map(even_odd).collect();
    let before = {
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        store.append(events[..20].to_vec());
        store.flush();
        store.append(events[20..].to_vec());
        let before = answers(&store);
        store.close();
        before
    };
    // The crash: the tail's events were written as the next segment object, but no manifest names it.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let orphan = runtime.block_on(async {
        let (dataset, _) = Dataset::open_local(dir.path().join("datasets/history")).await.unwrap();
        let mut tail: Vec<(Lsn, &EventRecord)> = (20..40u64).map(|n| (Lsn(n), &events[n as usize])).collect();
        tail.sort_by_key(|(lsn, e)| (e.fields().event_time.as_millisecond(), lsn.0));
        let mut writer = SegmentWriter::new(&SegmentFormat::new(8)).unwrap();
        for (lsn, event) in tail {
            writer.push(lsn, event).unwrap();
        }
        dataset.write_segment(writer.finish().unwrap().unwrap()).await.unwrap().entry().id
    });
    for _ in 0..2 {
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        assert!(store.store.history_snapshot().manifest.segments.iter().all(|s| s.id != orphan));
        assert_eq!(store.lookup_all(&query()).len(), 40);
        assert_eq!(answers(&store), before);
        store.flush();
        assert_eq!(answers(&store), before);
        store.close();
    }
    let store = Harness::open_manual(dir.path(), clock_at(1000));
    assert_eq!(store.store.tail_len(), 0);
    assert_eq!(answers(&store), before);
}

#[test]
fn pages_cross_the_tail_segment_boundary_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open_manual(dir.path(), clock_at(1000));
    // Four events per second; the tail's seconds interleave with the segments'.
    let all: Vec<EventRecord> =
        (0..90).map(|n| record(n, ((n * 7) % 30) as i64, &format!("Op{n}"), "Management")).collect();
    store.append(all[..30].to_vec());
    store.flush();
    store.append(all[30..60].to_vec());
    store.flush();
    store.append(all[60..].to_vec());
    let mut expected: Vec<(i64, u64)> =
        (0..90u64).map(|n| (all[n as usize].fields().event_time.as_millisecond(), n)).collect();
    expected.sort_by(|a, b| b.cmp(a));
    for max_results in [1, 4, 5, 50] {
        let seen = store.lookup_all(&LookupQuery { max_results, ..query() });
        let seen: Vec<String> = names(&seen);
        let want: Vec<String> = expected.iter().map(|(_, n)| format!("Op{n}")).collect();
        assert_eq!(seen, want, "max_results {max_results}");
    }
}

#[test]
fn events_whose_indexing_never_ran_are_flushed_from_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open_manual(dir.path(), clock_at(1000));
    store.append(vec![record(0, 0, "Indexed", "Management")]);
    // An append whose caller went away after the WAL write: in the WAL, not in the tail.
    let lost = record(1, 1, "NeverIndexed", "Management");
    store.store.inner.wal.append_durable_blocking(vec![lost.text().as_bytes().to_vec()]).unwrap();
    store.append(vec![record(2, 2, "IndexedToo", "Management")]);
    assert_eq!(names(&store.lookup(&query()).events), ["IndexedToo", "Indexed"]);
    assert_eq!(store.flush().n_events, 3);
    assert_eq!(names(&store.lookup(&query()).events), ["IndexedToo", "NeverIndexed", "Indexed"]);
    // Indexing that arrives after the flush is skipped: no duplicate.
    store.store.inner.index(Lsn(1)..Lsn(2), vec![lost]);
    assert_eq!(store.store.tail_len(), 0);
    assert_eq!(store.lookup(&query()).events.len(), 3);
}

#[test]
fn the_background_flusher_keeps_the_tail_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = EventStoreConfig { flush_events: 20, ..EventStoreConfig::test_config(dir.path()) };
    let store = Harness::open_with(config, clock_at(100_000));
    for n in 0..200 {
        store.append(vec![record(n, n as i64, &format!("Op{n}"), "Management")]);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store.store.tail_len() >= 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(store.store.tail_len() < 20);
    // How many segments depends on how appends and flushes interleave; every event is in one place.
    let snapshot = store.store.history_snapshot();
    let n_in_segments: u64 = snapshot.manifest.segments.iter().map(|s| s.n_rows).sum();
    assert!(snapshot.manifest.segments.len() >= 2);
    assert_eq!(n_in_segments as usize + store.store.tail_len(), 200);
    assert_eq!(store.lookup_all(&query()).len(), 200);
    store.close();
    let store = Harness::open(dir.path(), clock_at(100_000));
    assert_eq!(store.lookup_all(&query()).len(), 200);
}

#[test]
fn compaction_preserves_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let store = Harness::open_manual(dir.path(), clock_at(1000));
    for first in (0..100).step_by(20) {
        store.append((first..first + 20).map(even_odd).collect());
        store.flush();
    }
    store.append((100..110).map(even_odd).collect());
    let before = answers(&store);
    let old: Vec<_> = store.store.history_snapshot().manifest.segments.clone();
    assert_eq!(old.len(), 5);
    let report = store.runtime.block_on(store.store.compact()).unwrap();
    assert_eq!(report.merged.len(), 5);
    assert_eq!(store.n_segments(), 1);
    for entry in &old {
        assert!(!dir.path().join("datasets/history").join(&entry.path).exists(), "{} deleted", entry.path);
    }
    assert_eq!(answers(&store), before);
    store.close();
    let store = Harness::open_manual(dir.path(), clock_at(1000));
    assert_eq!(answers(&store), before);
}

#[test]
fn a_damaged_segment_is_reported_and_the_others_still_answer() {
    for damage in ["truncate", "flip_footer", "delete"] {
        let dir = tempfile::tempdir().unwrap();
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        let mut damaged = None;
        for first in (0..60).step_by(20) {
            store.append((first..first + 20).map(even_odd).collect());
            let segment = store.flush().segment.unwrap();
            if first == 20 {
                damaged = Some(segment);
            }
        }
        store.append((60..70).map(even_odd).collect());
        store.close();
        let damaged = damaged.unwrap();
        let path = dir.path().join("datasets/history").join(crate::dataset::paths::segment_path(damaged).as_ref());
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            "truncate" => bytes.truncate(bytes.len() / 2),
            "flip_footer" => {
                let at = bytes.len() - 12;
                bytes[at] ^= 0xff;
                bytes[at - 100] ^= 0xff;
            }
            _ => {}
        }
        if damage == "delete" {
            std::fs::remove_file(&path).unwrap();
        } else {
            std::fs::write(&path, &bytes).unwrap();
        }
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        let broken = store.store.broken_segments();
        assert_eq!(broken.len(), 1, "{damage}");
        let crate::dataset::DatasetError::CorruptSegment { id, path, .. } = &broken[0] else {
            panic!("{damage}: {:?}", broken[0]);
        };
        assert_eq!(*id, damaged, "{damage}");
        assert!(broken[0].to_string().contains(path.as_str()), "{damage}: the error names the segment");
        let found = store.lookup_all(&query());
        let expected: Vec<u64> = (0..20).chain(40..70).collect();
        let mut found_ns: Vec<u64> =
            found.iter().map(|e| e.fields().event_id.rsplit('-').next().unwrap().parse().unwrap()).collect();
        found_ns.sort_unstable();
        assert_eq!(found_ns, expected, "{damage}");
    }
}

#[test]
fn indexed_ranges_merge_and_report_gaps() {
    let mut ranges = IndexedRanges::default();
    ranges.insert(10..12);
    ranges.insert(14..15);
    ranges.insert(12..13);
    assert_eq!(ranges.gaps(10, 20), vec![13..14, 15..20]);
    assert_eq!(ranges.gaps(0, 11), vec![0..10]);
    ranges.insert(13..14);
    assert_eq!(ranges.gaps(10, 15), vec![]);
    ranges.remove_below(12);
    assert_eq!(ranges.gaps(0, 15), vec![0..12]);
}

mod property;

#[test]
fn a_consumer_hold_keeps_the_log_through_flushes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let holds = Arc::new(crate::wal::WalHolds::default());
    holds.set("trail", Lsn(0));
    let config = || EventStoreConfig {
        flush_events: 1 << 40,
        holds: holds.clone(),
        ..EventStoreConfig::test_config(dir.path())
    };
    let all: Vec<EventRecord> = (0..300).map(even_odd).collect();
    let read_from = |store: &EventStore, from: Lsn| {
        let mut ids = Vec::new();
        let (next, _) = store
            .read_log(from, store.next_lsn(), None, |_, text| {
                ids.push(EventRecord::parse(text).unwrap().fields().event_id.clone());
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        (ids, next)
    };
    {
        let store = Harness::open_with(config(), clock_at(0));
        store.append(all.clone());
        store.runtime.block_on(store.store.flush()).unwrap();
        // History persisted everything, but the consumer still needs the whole log.
        assert_eq!(store.store.first_retained_lsn(), Lsn(0));
        let (ids, next) = read_from(&store.store, Lsn(0));
        assert_eq!(ids.len(), 300);
        assert_eq!(next, Lsn(300));
        // A visitor that breaks stops after the record it was given.
        let mut seen = 0;
        let (next, position) = store
            .store
            .read_log(Lsn(10), Lsn(300), None, |_, _| {
                seen += 1;
                if seen == 5 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
            })
            .unwrap();
        assert_eq!(next, Lsn(15));
        // Reading on from where it stopped, over segment boundaries, gives exactly the rest.
        let mut lsns = Vec::new();
        let mut position = position;
        let mut from = next;
        while from < Lsn(300) {
            let (next, stopped) = store
                .store
                .read_log(from, Lsn(300), position, |lsn, _| {
                    lsns.push(lsn.0);
                    if lsn.0 % 7 == 0 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
                })
                .unwrap();
            (from, position) = (next, stopped);
        }
        assert_eq!(lsns, (15..300).collect::<Vec<_>>());
        store.store.close();
    }
    // Reopening trims no further than the hold.
    let store = Harness::open_with(config(), clock_at(0));
    assert_eq!(store.store.first_retained_lsn(), Lsn(0));
    assert_eq!(read_from(&store.store, Lsn(250)).0.len(), 50);
    // Once the consumer moves on, the next flush drops what nobody needs.
    holds.set("trail", Lsn(300));
    store.append((300..600).map(even_odd).collect());
    store.runtime.block_on(store.store.flush()).unwrap();
    assert!(store.store.first_retained_lsn() > Lsn(0));
    assert!(matches!(
        store.store.read_log(Lsn(0), Lsn(10), None, |_, _| std::ops::ControlFlow::Continue(())),
        Err(StoreError::Wal(crate::wal::WalError::NotRetained { .. }))
    ));
    assert_eq!(read_from(&store.store, Lsn(300)).0.len(), 300);
}
