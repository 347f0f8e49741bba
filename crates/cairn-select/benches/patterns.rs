//! Event-pattern matching throughput: `cargo bench -p cairn-select --bench patterns`.
//!
//! Matches the 3,695 CloudTrail events of `shared/corpora/patterns/ct_cases.ndjson` (EventBridge
//! envelopes) against rule sets of 1, 100, 1,000 and 10,000 rules shaped like users' rules —
//! nine in ten `{"source": [...], "detail-type": ["AWS API Call via CloudTrail"], "detail":
//! {"eventName": [...]}}` (real pairs from the corpus first, then made-up names), one in ten
//! with a prefix, anything-but, numeric range or wildcard — on one thread, and prints events per
//! second (per core), the time to build each matcher and to add/remove one rule in it. For
//! comparison it times the one-pattern-at-a-time reference matcher at 1,000 rules.
//!
//! Optional argument: seconds to spend matching per rule count (default 2).

use std::hint::black_box;
use std::time::{Duration, Instant};

use cairn_select::{EventPattern, MatchScratch, RuleMatcher};
use serde_json::{Value, json};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/patterns/ct_cases.ndjson");

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2.0);
    let Ok(text) = std::fs::read_to_string(CORPUS) else {
        println!("corpus not found at {CORPUS}; nothing to measure");
        return;
    };
    let events: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|mut case| case["event"].take())
        .collect();
    let pairs = source_name_pairs(&events);
    println!(
        "{} events, {} distinct (source, eventName) pairs; {seconds} s per measurement\n",
        events.len(),
        pairs.len()
    );
    // What reading the events costs at all: the bytes of each top-level and `detail` key, the
    // part of the tree any rule here looks at. Cycling through all events, they do not stay in
    // cache ("cold"); a server matches a record it has just parsed, which the "hot" columns
    // (the first 32 events, over and over) are closer to.
    let hot = &events[..32.min(events.len())];
    let read_keys = |event: &Value| {
        let mut n = 0usize;
        if let Value::Object(top) = event {
            for (key, value) in top {
                n += key.bytes().map(usize::from).sum::<usize>();
                if let (true, Value::Object(detail)) = (key == "detail", value) {
                    n += detail.keys().flat_map(|k| k.bytes()).map(usize::from).sum::<usize>();
                }
            }
        }
        n
    };
    let (_, cold) = measure(seconds, &events, read_keys);
    let (_, warm) = measure(seconds, hot, read_keys);
    println!(
        "baseline, reading the keys a rule could name: {:.0} ns/event cold, {:.0} ns/event hot\n",
        1e9 / cold,
        1e9 / warm
    );
    println!(
        "{:>7} {:>11} {:>14} {:>16} {:>10} {:>16} {:>10} {:>9}",
        "rules", "build (ms)", "insert+remove", "cold events/s", "ns/event", "hot events/s", "ns/event", "matches"
    );

    for count in [1usize, 100, 1_000, 10_000] {
        let rules = rule_set(count, &pairs);
        let parsed: Vec<EventPattern> = rules.iter().map(|r| EventPattern::parse(r).expect("a valid rule")).collect();

        let started = Instant::now();
        let mut matcher = RuleMatcher::new();
        for (id, pattern) in parsed.iter().enumerate() {
            matcher.insert(id, pattern);
        }
        let build = started.elapsed();

        // One more rule in and out again, averaged.
        let extra = EventPattern::parse(&rule(count + 1, &pairs)).expect("a valid rule");
        let rounds = 200;
        let started = Instant::now();
        for _ in 0..rounds {
            matcher.insert(usize::MAX, &extra);
            matcher.remove(&usize::MAX);
        }
        let churn = started.elapsed() / rounds;

        let mut scratch = MatchScratch::default();
        let mut match_one = |event: &Value| {
            let mut n = 0;
            matcher.for_each_match(event, &mut scratch, |_| n += 1);
            n
        };
        let (matched, cold) = measure(seconds, &events, &mut match_one);
        let (_, warm) = measure(seconds, hot, &mut match_one);
        println!(
            "{count:>7} {:>11.1} {:>11.1} µs {cold:>16.0} {:>10.0} {warm:>16.0} {:>10.0} {:>9}",
            build.as_secs_f64() * 1e3,
            churn.as_secs_f64() * 1e6,
            1e9 / cold,
            1e9 / warm,
            matched
        );
    }

    // The reference matcher tests each pattern alone: time it on a sample of the events.
    let rules = rule_set(1_000, &pairs);
    let parsed: Vec<EventPattern> = rules.iter().map(|r| EventPattern::parse(r).expect("a valid rule")).collect();
    let sample = &events[..events.len().min(200)];
    let (_, rate) = measure(seconds, sample, |event| parsed.iter().filter(|p| p.matches(event)).count());
    println!(
        "\nreference matcher (EventPattern::matches, one pattern at a time), 1000 rules, first {} events: {rate:.0} events/s ({:.0} ns/event)",
        sample.len(),
        1e9 / rate
    );
}

/// Matches every event in turn, over and over, for about `seconds`; (matches in the first
/// pass, events per second).
fn measure(seconds: f64, events: &[Value], mut match_one: impl FnMut(&Value) -> usize) -> (usize, f64) {
    // Passes of at least ~10 ms between clock reads, so the clock costs nothing.
    let passes = (2_000 / events.len()).max(1);
    let first_pass: usize = events.iter().map(|e| match_one(black_box(e))).sum();
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < budget {
        for _ in 0..passes {
            for event in events {
                black_box(match_one(black_box(event)));
            }
        }
        done += events.len() * passes;
    }
    (first_pass, done as f64 / started.elapsed().as_secs_f64())
}

/// The corpus's (source, eventName) pairs, most frequent first.
fn source_name_pairs(events: &[Value]) -> Vec<(String, String)> {
    let mut counts: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for event in events {
        if let (Some(source), Some(name)) = (event["source"].as_str(), event["detail"]["eventName"].as_str()) {
            *counts.entry((source.to_owned(), name.to_owned())).or_default() += 1;
        }
    }
    let mut pairs: Vec<_> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    pairs.into_iter().map(|(pair, _)| pair).collect()
}

fn rule_set(count: usize, pairs: &[(String, String)]) -> Vec<String> {
    (0..count).map(|i| rule(i, pairs)).collect()
}

/// Rule `i`: mostly source + detail-type + eventName; every tenth one of the rarer shapes.
fn rule(i: usize, pairs: &[(String, String)]) -> String {
    let (source, name) = &pairs[i % pairs.len()];
    let name = if i < pairs.len() { name.clone() } else { format!("{name}{i}") };
    let service = source.trim_start_matches("aws.");
    let event_source = format!("{service}.amazonaws.com");
    let prefix = ["Describe", "List", "Get", "Create"][i % 4];
    let identity = ["IAMUser", "AssumedRole", "Root"][i % 3];
    let agent = format!("*{}*", ["Boto3", "aws-cli", "S3 Browser", "Terraform"][i % 4]);
    let arn = format!("arn:aws:*:{i}*");
    let (low, high) = (i % 1000, i % 1000 + 5000);
    let pattern = match (i % 10, i / 10 % 4) {
        (9, 0) => json!({"source": [source], "detail": {"eventName": [{"prefix": prefix}],
            "userIdentity": {"type": [identity]}}}),
        (9, 1) => json!({"source": [source], "detail": {"awsRegion": [{"anything-but": ["us-east-1", "us-west-2"]}],
            "readOnly": [false]}}),
        (9, 2) => json!({"detail": {"eventSource": [event_source],
            "additionalEventData": {"bytesTransferredOut": [{"numeric": [">", low, "<=", high]}]}}}),
        (9, _) => json!({"detail": {"userAgent": [{"wildcard": agent}], "eventSource": [event_source],
            "userIdentity": {"arn": [{"wildcard": arn}]}}}),
        _ => {
            json!({"source": [source], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": [name]}})
        }
    };
    pattern.to_string()
}
