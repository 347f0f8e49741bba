//! Issue 3: every record of `shared/corpora/cloudtrail` goes through the ingest
//! path (parse, then a durable append to the event store); Event history returns
//! each accepted record's text unchanged, from the in-memory tail and, after a
//! flush and a reopen, from the columnar segments. Malformed records are refused
//! one by one with a reason, and the loader goes on.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use cairn_store::events::{EventStore, EventStoreConfig, LookupQuery};
use serde_json::value::RawValue;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/cloudtrail");

/// The record texts in one corpus file, cut out as exact JSON slices: log files
/// (`{"Records":[…]}`), JSON arrays, Panther's `{"event": …}` lines or NDJSON.
fn record_texts(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    };
    #[derive(serde::Deserialize)]
    struct LogFile<'a> {
        #[serde(borrow, rename = "Records")]
        records: Vec<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct PantherCase<'a> {
        #[serde(borrow)]
        event: &'a RawValue,
    }
    if let Ok(file) = serde_json::from_str::<LogFile<'_>>(&text) {
        return file.records.iter().map(|r| r.get().to_owned()).collect();
    }
    if let Ok(records) = serde_json::from_str::<Vec<&RawValue>>(&text) {
        return records.iter().map(|r| r.get().to_owned()).collect();
    }
    if serde_json::from_str::<&RawValue>(&text).is_ok() {
        return vec![text];
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let is_ndjson = lines.len() > 1 && lines.iter().all(|line| serde_json::from_str::<&RawValue>(line).is_ok());
    if is_ndjson {
        return lines
            .iter()
            .map(|line| match serde_json::from_str::<PantherCase<'_>>(line) {
                Ok(case) => case.event.get().to_owned(),
                Err(_) => (*line).to_owned(),
            })
            .collect();
    }
    vec![text]
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(CORPUS)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.starts_with("LICENSE") && !name.ends_with(".md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_corpus_record_is_ingested_or_refused_with_a_reason() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let mut accepted: Vec<EventRecord> = Vec::new();
    let mut n_refused = 0;
    for path in corpus_files() {
        for text in record_texts(&path) {
            match EventRecord::parse(text.as_bytes()) {
                Ok(record) => {
                    assert_eq!(record.text(), text.trim(), "{}", path.display());
                    accepted.push(record);
                }
                Err(error) => {
                    // Refused one by one, with a reason that names the problem.
                    assert!(!error.to_string().is_empty());
                    n_refused += 1;
                }
            }
        }
    }
    // The counts pinned per folder by cairn-model's corpus tests, summed.
    assert_eq!(accepted.len(), 2900 + 19 + 310 + 394 + 3, "accepted");
    assert_eq!(n_refused, 5 + 103 + 67 + 1 + 44, "refused");

    let in_history: Vec<EventRecord> = accepted
        .iter()
        .filter(|r| {
            matches!(r.fields().event_category.as_str(), "Management" | "Insight")
                && (r.fields().recipient_account_id.is_some() || r.fields().user_identity.account_id.is_some())
        })
        .cloned()
        .collect();
    assert!(in_history.len() > 3000, "{} records in history", in_history.len());

    let check_history = |store: &EventStore| {
        for record in &in_history {
            let fields = record.fields();
            // Event history shows 90 days back from now: look from just after the event.
            clock.set(fields.event_time.checked_add(jiff::SignedDuration::from_secs(1)).unwrap());
            let query = LookupQuery {
                account_id: fields
                    .recipient_account_id
                    .clone()
                    .or_else(|| fields.user_identity.account_id.clone())
                    .unwrap(),
                region: fields.aws_region.clone(),
                attribute: Some((LookupAttributeKey::EventId, fields.event_id.clone())),
                start: None,
                end: None,
                insights: fields.event_category == "Insight",
                max_results: 50,
                after: None,
            };
            // Panther's fixtures reuse event IDs (97 records have eventID "1"): page through them all.
            let mut query = query;
            let mut found = false;
            loop {
                let page = runtime.block_on(store.lookup(&query)).unwrap();
                found |= page.events.iter().any(|e| e.text() == record.text());
                match page.next {
                    Some(next) if !found => query.after = Some(next),
                    _ => break,
                }
            }
            assert!(found, "event {} not returned unchanged", fields.event_id);
        }
    };

    let config = || EventStoreConfig::test_config(dir.path());
    {
        let (store, _) = runtime.block_on(EventStore::open(config(), clock.clone())).unwrap();
        for batch in accepted.chunks(500) {
            runtime.block_on(store.append_durable(batch.to_vec())).unwrap();
        }
        check_history(&store);
        runtime.block_on(store.flush()).unwrap();
        store.close();
    }
    let (store, recovery) = runtime.block_on(EventStore::open(config(), clock.clone())).unwrap();
    assert!(recovery.torn_tail.is_none());
    check_history(&store);
    store.close();
}
