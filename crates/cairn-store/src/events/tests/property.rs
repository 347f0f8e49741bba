//! Property-style check: every LookupEvents attribute through segments, bloom filters and the tail gives
//! exactly what a brute-force filter over the same events gives (seeded, so failures reproduce).

use super::*;

/// splitmix64: a small deterministic generator, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const NAMES: [&str; 6] = ["GetTrail", "CreateTrail", "DescribeTrails", "PutObject", "AssumeRole", "Decrypt"];
const SOURCES: [&str; 3] = ["cloudtrail.amazonaws.com", "s3.amazonaws.com", "kms.amazonaws.com"];
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", ""];
const KEYS: [&str; 4] = ["AKIA1", "AKIA2", "ASIA3", ""];
const TYPES: [&str; 4] = ["AWS::S3::Bucket", "AWS::KMS::Key", "AWS::IAM::Role", ""];
const ARNS: [&str; 5] =
    ["arn:aws:s3:::a", "arn:aws:s3:::b", "arn:aws:kms:us-east-1:111111111111:key/k", "arn:aws:iam::1:role/r", ""];

fn generate(rng: &mut Rng, n: u64) -> Spec {
    let category = match rng.below(10) {
        0 => "Insight",
        1 => "Data",
        _ => "Management",
    };
    let mut spec = Spec::new(n, rng.below(300) as i64, rng.pick(&NAMES), category);
    spec.account = rng.pick(&ACCOUNTS).to_owned();
    spec.region = rng.pick(&REGIONS).to_owned();
    spec.source = rng.pick(&SOURCES).to_owned();
    spec.user = (rng.below(6) != 0).then(|| rng.pick(&USERS).to_owned());
    spec.access_key = (rng.below(5) != 0).then(|| rng.pick(&KEYS).to_owned());
    spec.read_only = match rng.below(3) {
        0 => None,
        1 => Some(true),
        _ => Some(false),
    };
    spec.resources = (0..rng.below(4))
        .map(|_| {
            let kind = (rng.below(5) != 0).then(|| rng.pick(&TYPES).to_owned());
            let arn = (rng.below(5) != 0).then(|| rng.pick(&ARNS).to_owned());
            (kind, arn)
        })
        .collect();
    spec
}

/// The ids a brute-force filter finds, newest first.
fn brute_force(events: &[EventRecord], query: &LookupQuery, now: Timestamp) -> Vec<String> {
    let (low, high) = match lookup::key_range(query, now) {
        Some(range) => range,
        None => return Vec::new(),
    };
    let mut found: Vec<(EventKey, String)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            crate::dataset::history_partition(e.fields()) == Some((query.account_id.as_str(), query.region.as_str()))
        })
        .map(|(lsn, e)| (EventKey { event_time_ms: e.fields().event_time.as_millisecond(), lsn: lsn as u64 }, e))
        .filter(|(key, e)| low <= *key && *key <= high && lookup::matches(e, query))
        .map(|(key, e)| (key, e.fields().event_id.clone()))
        .collect();
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    found.into_iter().map(|(_, id)| id).collect()
}

fn queries(rng: &mut Rng, events: &[EventRecord]) -> Vec<LookupQuery> {
    let mut queries = Vec::new();
    for key in LookupAttributeKey::ALL {
        let mut values: Vec<String> = (0..4)
            .filter_map(|_| {
                let event = &events[rng.below(events.len() as u64) as usize];
                event.fields().lookup_attribute_values(key).next().map(str::to_owned)
            })
            .collect();
        values.push("no-such-value".to_owned());
        if key == LookupAttributeKey::ReadOnly {
            values.extend(["true".to_owned(), "false".to_owned(), "TRUE".to_owned()]);
        }
        for value in values {
            for insights in [false, true] {
                let (start, end) = match rng.below(3) {
                    0 => (Some(t0().checked_add(SignedDuration::from_secs(rng.below(150) as i64)).unwrap()), None),
                    1 => {
                        (None, Some(t0().checked_add(SignedDuration::from_secs(150 + rng.below(150) as i64)).unwrap()))
                    }
                    _ => (None, None),
                };
                queries.push(LookupQuery {
                    account_id: rng.pick(&ACCOUNTS).to_owned(),
                    region: rng.pick(&REGIONS).to_owned(),
                    attribute: Some((key, value.clone())),
                    start,
                    end,
                    insights,
                    max_results: 1 + rng.below(12) as usize,
                    after: None,
                });
            }
        }
    }
    queries.push(LookupQuery { max_results: 3, ..query() });
    queries
}

fn check_all(store: &Harness, events: &[EventRecord], queries: &[LookupQuery], stage: &str) {
    let now = store.store.inner.clock.now();
    let mut n_nonempty = 0;
    for query in queries {
        let expected = brute_force(events, query, now);
        n_nonempty += usize::from(!expected.is_empty());
        assert_eq!(ids(&store.lookup_all(query)), expected, "{stage}: {query:?}");
    }
    assert!(n_nonempty > queries.len() / 3, "{stage}: most queries should find something");
}

#[test]
fn attribute_lookups_equal_a_brute_force_filter() {
    for seed in [1u64, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng(seed);
        let events: Vec<EventRecord> = (0..600).map(|n| generate(&mut rng, n).event()).collect();
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        let mut appended = 0;
        while appended < events.len() {
            let n = (1 + rng.below(40) as usize).min(events.len() - appended);
            store.append(events[appended..appended + n].to_vec());
            appended += n;
            if rng.below(4) == 0 && appended < 550 {
                store.flush();
            }
        }
        assert!(store.n_segments() >= 2 && store.store.tail_len() > 0, "seed {seed}: segments and a tail");
        let queries = queries(&mut rng, &events);
        check_all(&store, &events, &queries, &format!("seed {seed}"));
        // Pages that stop at the scan budget still add up to the same sequence.
        store.store.inner.scan_budget.store(3, Ordering::Relaxed);
        check_all(&store, &events, &queries, &format!("seed {seed}, tiny scan budget"));
        store.store.inner.scan_budget.store(lookup::SCAN_BUDGET, Ordering::Relaxed);
        store.runtime.block_on(store.store.compact()).unwrap();
        check_all(&store, &events, &queries, &format!("seed {seed}, compacted"));
        store.close();
        let store = Harness::open_manual(dir.path(), clock_at(1000));
        check_all(&store, &events, &queries, &format!("seed {seed}, reopened"));
    }
}
