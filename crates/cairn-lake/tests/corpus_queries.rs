//! Every query of `../shared/corpora/queries/` (placeholders replaced by a store's ID) either
//! finishes or is refused with a precise reason, as `corpus_queries.expected` lists. The store holds
//! the CloudTrail corpus records, so the queries read real events.
//!
//! `CAIRN_BLESS=1 cargo test -p cairn-lake --test corpus_queries -- --nocapture` prints the
//! outcomes in the list's format instead of comparing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_lake::{Lake, LakeConfig, LakeParts};
use cairn_model::clock::{Clock, ManualClock};
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, IngestionRange};
use cairn_store::wal::Lsn;
use cairn_store::{Change, MetaStore, Registry, StoreError};

pub const STORE: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";
const SECOND_STORE: &str = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

/// Every record text of the CloudTrail corpora that the Lake takes (invictus, the AWS docs examples,
/// Panther's labelled events).
fn corpus_records() -> Vec<String> {
    let root = corpora().join("cloudtrail");
    let mut texts = Vec::new();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(root.join("invictus")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        // The set includes a few files that are not log files; they are not records.
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&std::fs::read(&file).unwrap()) else { continue };
        for record in value["Records"].as_array().into_iter().flatten() {
            texts.push(record.to_string());
        }
    }
    for line in std::fs::read_to_string(root.join("awsdocs-examples.ndjson")).unwrap().lines() {
        if !line.trim().is_empty() {
            texts.push(line.to_owned());
        }
    }
    for line in std::fs::read_to_string(root.join("panther/panther_cloudtrail_rule_tests.ndjson")).unwrap().lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if value["event"].is_object() {
            texts.push(value["event"].to_string());
        }
    }
    texts
}

fn store_record(id: &str, name: &str, now: jiff::Timestamp) -> EventDataStoreRecord {
    EventDataStoreRecord {
        id: id.to_owned(),
        account_id: "111122223333".to_owned(),
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
        status: EventDataStoreStatus::Enabled,
        advanced_event_selectors: cairn_select::default_event_data_store_selectors(),
        multi_region_enabled: true,
        organization_enabled: false,
        retention_period: 3653,
        termination_protection_enabled: false,
        kms_key_id: None,
        billing_mode: BillingMode::ExtendableRetentionPricing,
        tags: Vec::new(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        ingestion: vec![IngestionRange { start: Lsn(0), end: None }],
        channels: Vec::new(),
        insights: None,
    }
}

/// A Lake over a fresh data directory with the corpus records in two stores.
pub async fn corpus_lake(dir: &Path) -> Lake {
    let now: jiff::Timestamp = "2024-06-01T00:00:00Z".parse().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now));
    std::fs::create_dir_all(dir.join("meta")).unwrap();
    let meta = Arc::new(MetaStore::open(&dir.join("meta").join("cairn.redb")).unwrap());
    let config = EventStoreConfig::test_config(dir);
    let (events, _) = EventStore::open(config, clock.clone()).await.unwrap();
    let stores: Arc<Registry<EventDataStoreRecord>> = Arc::new(Registry::load(meta.clone()).unwrap());
    stores
        .transact(|_| {
            Ok::<_, StoreError>((
                (),
                vec![
                    Change::Put(store_record(STORE, "corpus", now)),
                    Change::Put(store_record(SECOND_STORE, "corpus-copy", now)),
                ],
            ))
        })
        .unwrap();
    let lake = Lake::open(LakeParts {
        data_dir: dir.to_path_buf(),
        events: Arc::new(events),
        stores,
        meta,
        organization_accounts: None,
        sink: None,
        clock,
        config: LakeConfig::default(),
    })
    .await
    .unwrap();
    let records = corpus_records();
    let texts: Vec<&str> = records.iter().map(String::as_str).collect();
    for id in [STORE, SECOND_STORE] {
        let n = lake.import_records(id, &texts).await.unwrap();
        assert!(n > 3000, "{n} corpus records imported");
    }
    lake
}

/// The query text with every placeholder the corpora use replaced.
fn fill(text: &str) -> String {
    let mut sql = text.to_owned();
    for placeholder in [
        "<EDS ID>",
        "$EDS_ID",
        "<event_data_store_id>",
        "<event_data_store_ID>",
        "<Event data store Id>",
        "<event-data-store-ID>",
        "<EDS_ID>",
        "event_data_store_ID",
        "eds-ID",
        "EDS1",
        "EDS2",
        "EDS3",
        "eds1",
        "eds2",
    ] {
        sql = sql.replace(placeholder, STORE);
    }
    for (placeholder, value) in [
        ("${date_filter}", "2023-01-01 00:00:00"),
        ("${timestamp}", "2023-01-01 00:00:00"),
        ("<instance id such as i-123456789012>", "i-123456789012"),
        ("<instance id>", "i-123456789012"),
        ("<alice@example.com>", "alice@example.com"),
        ("<AKIAIOSFODNN7EXAMPLE>", "AKIAIOSFODNN7EXAMPLE"),
        ("<region>", "us-east-1"),
        ("<accountid>", "111122223333"),
        ("<arn:aws:iam::555555555555:role/alice>", "arn:aws:iam::555555555555:role/alice"),
        ("<i-b188560f>", "i-b188560f"),
        ("<555555555555>", "555555555555"),
        ("<3270e016-59a1-4448-8dd1-d27a4796502d>", "3270e016-59a1-4448-8dd1-d27a4796502d"),
        ("<192.0.2.76>", "192.0.2.76"),
    ] {
        sql = sql.replace(placeholder, value);
    }
    sql
}

fn query_files() -> Vec<(String, String)> {
    let root = corpora().join("queries");
    let mut out = Vec::new();
    for folder in ["athena", "lake-docs", "lake-samples"] {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(root.join(folder)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let name = format!("{folder}/{}", file.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&file).unwrap()));
        }
    }
    out
}

/// `(file, "runs" | "rejected: <code>: <message>")` from `corpus_queries.expected`.
fn expected() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_queries.expected")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (file, outcome) = line.split_once(" => ").unwrap_or_else(|| panic!("bad line: {line}"));
            // A trailing `  # why` explains the outcome; it is not compared.
            let outcome = outcome.split("  # ").next().unwrap_or(outcome);
            (file.trim().to_owned(), outcome.trim().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_query_runs_or_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = corpus_lake(dir.path()).await;
    let bless = std::env::var_os("CAIRN_BLESS").is_some();
    let expected = expected();
    let mut failures = Vec::new();
    let mut n_runs = 0;
    for (file, text) in query_files() {
        let outcome = match lake.query_now(&fill(&text)).await {
            Ok(_) => {
                n_runs += 1;
                "runs".to_owned()
            }
            Err(error) => format!("rejected: {}: {}", error.code, error.message),
        };
        if bless {
            println!("{file} => {outcome}");
            continue;
        }
        match expected.iter().find(|(f, _)| f == &file) {
            None => failures.push(format!("{file}: not in corpus_queries.expected (outcome: {outcome})")),
            Some((_, want)) if want != &outcome => failures.push(format!("{file}:\n  want {want}\n  got  {outcome}")),
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(bless || n_runs >= 60, "only {n_runs} queries ran");
}
