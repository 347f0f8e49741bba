//! Exports of a real Lake in a temporary directory: every event once, in time order, across windows;
//! time and SQL filters; the planner's error for a bad condition; Parquet files that read back.

use std::sync::Arc;

use cairn_model::ErrorCode;
use cairn_model::clock::{Clock, ManualClock};
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus};
use cairn_store::{Change, MetaStore, Registry, StoreError};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::{LakeConfig, LakeParts};

const STORE: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";

fn record(n: usize, time: &str, account: Option<&str>, region: &str, name: &str) -> String {
    let mut value = serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA1", "accountId": "999988887777"},
        "eventTime": time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "test",
        "requestID": format!("req-{n}"),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "eventCategory": "Management",
    });
    if let (Some(account), Some(object)) = (account, value.as_object_mut()) {
        object.insert("recipientAccountId".to_owned(), account.into());
    }
    value.to_string()
}

/// Ten events over four hours (one of them before 1970; the clock stands in 1970 so that retention keeps
/// it), two accounts, two regions, in no order.
fn events() -> Vec<String> {
    vec![
        record(1, "2025-03-01T10:59:59Z", Some("111122223333"), "us-east-1", "RunInstances"),
        record(2, "2025-03-01T10:00:00Z", Some("111122223333"), "us-east-1", "DescribeInstances"),
        record(3, "2025-03-01T10:30:00Z", None, "eu-west-1", "RunInstances"),
        record(4, "2025-03-01T11:00:00Z", Some("111122223333"), "eu-west-1", "StopInstances"),
        record(5, "2025-03-01T10:30:00Z", Some("111122223333"), "us-east-1", "RunInstances"),
        record(6, "2025-03-01T12:15:00Z", Some("444455556666"), "us-east-1", "RunInstances"),
        record(7, "2025-03-01T12:15:00Z", Some("444455556666"), "us-east-1", "RunInstances"),
        record(8, "2025-03-01T11:45:00Z", Some("111122223333"), "us-east-1", "DescribeInstances"),
        record(9, "2025-03-01T12:59:59.999Z", Some("444455556666"), "eu-west-1", "TerminateInstances"),
        record(10, "1969-12-31T23:30:00Z", Some("111122223333"), "us-east-1", "RunInstances"),
    ]
}

struct Harness {
    _dir: tempfile::TempDir,
    lake: Lake,
}

async fn harness(texts: &[String]) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    std::fs::create_dir_all(data_dir.join("meta")).unwrap();
    let meta = Arc::new(MetaStore::open(&data_dir.join("meta").join("cairn.redb")).unwrap());
    let clock = Arc::new(ManualClock::new("1970-01-02T00:00:00Z".parse().unwrap()));
    let config = EventStoreConfig::test_config(&data_dir);
    Lake::hold_log(&config.holds);
    let (events, _) = EventStore::open(config, clock.clone() as Arc<dyn Clock>).await.unwrap();
    let stores: Arc<Registry<EventDataStoreRecord>> = Arc::new(Registry::load(meta.clone()).unwrap());
    let now = clock.now();
    let store = EventDataStoreRecord {
        id: STORE.to_owned(),
        account_id: "111122223333".to_owned(),
        region: "us-east-1".to_owned(),
        name: "archive".to_owned(),
        status: EventDataStoreStatus::Enabled,
        advanced_event_selectors: cairn_select::default_event_data_store_selectors(),
        multi_region_enabled: true,
        organization_enabled: false,
        retention_period: BillingMode::ExtendableRetentionPricing.max_retention(),
        termination_protection_enabled: false,
        kms_key_id: None,
        billing_mode: BillingMode::ExtendableRetentionPricing,
        tags: Vec::new(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        ingestion: Vec::new(),
        channels: Vec::new(),
        insights: None,
    };
    stores.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(store)]))).unwrap();
    let lake = Lake::open(LakeParts {
        data_dir,
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
    // Two segments, so windows read from both.
    let (first, second) = texts.split_at(texts.len() / 2);
    for part in [first, second] {
        let part: Vec<&str> = part.iter().map(String::as_str).collect();
        lake.import_records(STORE, &part).await.unwrap();
    }
    Harness { _dir: dir, lake }
}

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn selection() -> Selection {
    Selection { store_id: STORE.to_owned(), ..Selection::default() }
}

/// (event time, account, region, event ID) of every exported record, in order.
async fn exported(export: &Export) -> Vec<(i64, Option<String>, Option<String>, String)> {
    let mut out = Vec::new();
    let n = export
        .for_each_record(|record| {
            let value: serde_json::Value = serde_json::from_str(record.text).unwrap();
            let id = value["eventID"].as_str().unwrap().to_owned();
            out.push((
                record.event_time_ms,
                record.account_id.map(str::to_owned),
                record.region.map(str::to_owned),
                id,
            ));
            Ok::<_, ExportError>(())
        })
        .await
        .unwrap();
    assert_eq!(n as usize, out.len());
    out
}

fn id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[test]
fn buckets_pack_into_windows_up_to_the_limit() {
    assert_eq!(pack(&[], 10), vec![]);
    let buckets = [(0, 10, 4), (10, 10, 6), (30, 10, 1), (40, 10, 25), (50, 5, 2), (55, 5, 2)];
    assert_eq!(
        pack(&buckets, 10),
        vec![
            Window { start_ms: 0, end_ms: 20 },
            Window { start_ms: 30, end_ms: 40 },
            Window { start_ms: 40, end_ms: 50 },
            Window { start_ms: 50, end_ms: 60 },
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_comes_out_once_in_time_order_whatever_the_window_size() {
    let harness = harness(&events()).await;
    let mut export = Export::plan(&harness.lake, &selection()).unwrap();
    let whole = exported(&export).await;
    assert_eq!(whole.len(), 10);
    let order: Vec<String> = whole.iter().map(|(_, _, _, id)| id.clone()).collect();
    assert_eq!(order, [10, 2, 3, 5, 1, 4, 8, 6, 7, 9].map(id));
    assert_eq!(whole[0].0, ms("1969-12-31T23:30:00Z"));
    // Account: recipientAccountId, else userIdentity.accountId.
    assert_eq!(whole[2].1.as_deref(), Some("999988887777"));
    assert_eq!(whole[2].2.as_deref(), Some("eu-west-1"));

    // Small windows: hours split into minutes, several queries, the same events in the same order.
    export.window_events = 2;
    let windows = export.windows().await.unwrap();
    assert!(windows.len() >= 5, "{windows:?}");
    assert!(windows.windows(2).all(|w| w[0].end_ms <= w[1].start_ms), "{windows:?}");
    assert_eq!(exported(&export).await, whole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_range_and_condition_select_events() {
    let harness = harness(&events()).await;
    let window = Selection {
        start_ms: Some(ms("2025-03-01T10:30:00Z")),
        end_ms: Some(ms("2025-03-01T12:15:00Z")),
        ..selection()
    };
    let ids: Vec<String> =
        exported(&Export::plan(&harness.lake, &window).unwrap()).await.into_iter().map(|r| r.3).collect();
    assert_eq!(ids, [3, 5, 1, 4, 8].map(id));

    let condition = Selection {
        condition: Some("eventName = 'RunInstances' AND awsRegion = 'us-east-1' -- a comment".to_owned()),
        ..window
    };
    let ids: Vec<String> =
        exported(&Export::plan(&harness.lake, &condition).unwrap()).await.into_iter().map(|r| r.3).collect();
    assert_eq!(ids, [5, 1].map(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_condition_is_the_planners_error() {
    let harness = harness(&events()).await;
    for condition in ["nosuchcolumn = 1", "eventname = ", "1=1) OR (1=1; DROP TABLE x"] {
        let bad = Selection { condition: Some(condition.to_owned()), ..selection() };
        match Export::plan(&harness.lake, &bad) {
            Err(ExportError::Query(error)) => assert_eq!(error.code, ErrorCode::InvalidQueryStatement, "{condition}"),
            other => panic!("{condition}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_files_hold_every_row_in_time_order() {
    let harness = harness(&events()).await;
    let out = tempfile::tempdir().unwrap();
    let mut export = Export::plan(&harness.lake, &selection()).unwrap();
    export.window_events = 3;
    let written = export.write_parquet(out.path(), 4).await.unwrap();
    assert_eq!(written.n_events, 10);
    let names: Vec<String> =
        written.files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["events-00000.parquet", "events-00001.parquet", "events-00002.parquet"]);
    let mut ids = Vec::new();
    let mut n_bytes = 0;
    for path in &written.files {
        n_bytes += std::fs::metadata(path).unwrap().len();
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
        assert_eq!(reader.schema().fields().len(), crate::schema::lake_schema().fields().len());
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            let column = batch.column_by_name(EVENT_ID).unwrap().as_string::<i32>().clone();
            ids.extend(column.iter().map(|v| v.unwrap().to_owned()));
        }
    }
    assert_eq!(ids, [10, 2, 3, 5, 1, 4, 8, 6, 7, 9].map(id));
    assert_eq!(written.n_bytes, n_bytes);
    // Only the finished files: no temporary names left behind.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 3);
}
