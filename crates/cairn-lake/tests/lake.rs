//! The Lake end to end through its public API, on a real event store and metadata store, with an
//! injected clock: ingestion by selectors and ranges, queries over segments and tail, retention by
//! event time, and deletion with 7 days to restore.

use std::sync::Arc;

use cairn_lake::{Lake, LakeConfig, LakeParts};
use cairn_model::clock::{Clock, ManualClock};
use cairn_model::event::EventRecord;
use cairn_store::events::{EventStore, EventStoreConfig};
use cairn_store::records::{BillingMode, EventDataStoreRecord, EventDataStoreStatus, IngestionRange, QueryRequest};
use cairn_store::{Change, MetaStore, Registry, StoreError};
use jiff::{SignedDuration, Timestamp};

const ACCOUNT: &str = "111122223333";
const STORE: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";

struct Harness {
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
    clock: Arc<ManualClock>,
    events: Arc<EventStore>,
    stores: Arc<Registry<EventDataStoreRecord>>,
    lake: Lake,
}

fn event(id: usize, time: Timestamp, name: &str, category: &str) -> EventRecord {
    let text = serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA1", "arn": format!("arn:aws:iam::{ACCOUNT}:user/alice"), "accountId": ACCOUNT, "userName": "alice"},
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "test",
        "requestParameters": {"instanceId": format!("i-{id}")},
        "responseElements": null,
        "requestID": format!("req-{id}"),
        "eventID": format!("00000000-0000-4000-8000-{id:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": ACCOUNT,
        "eventCategory": category,
    })
    .to_string();
    EventRecord::parse(text.as_bytes()).unwrap()
}

impl Harness {
    async fn open(dir: tempfile::TempDir, clock: Arc<ManualClock>) -> Harness {
        let data_dir = dir.path().to_path_buf();
        std::fs::create_dir_all(data_dir.join("meta")).unwrap();
        let meta = Arc::new(MetaStore::open(&data_dir.join("meta").join("cairn.redb")).unwrap());
        let config = EventStoreConfig::test_config(&data_dir);
        Lake::hold_log(&config.holds);
        let (events, _) = EventStore::open(config, clock.clone() as Arc<dyn Clock>).await.unwrap();
        let events = Arc::new(events);
        let stores = Arc::new(Registry::load(meta.clone()).unwrap());
        let lake = Lake::open(LakeParts {
            data_dir: data_dir.clone(),
            events: events.clone(),
            stores: Arc::clone(&stores),
            meta,
            organization_accounts: None,
            sink: None,
            clock: clock.clone(),
            config: LakeConfig { flush_rows: 10, ..LakeConfig::default() },
        })
        .await
        .unwrap();
        Harness { _dir: dir, data_dir, clock, events, stores, lake }
    }

    fn create_store(&self, retention: u32) {
        let now = self.clock.now();
        let record = EventDataStoreRecord {
            id: STORE.to_owned(),
            account_id: ACCOUNT.to_owned(),
            region: "us-east-1".to_owned(),
            name: "audit".to_owned(),
            status: EventDataStoreStatus::Enabled,
            advanced_event_selectors: cairn_select::default_event_data_store_selectors(),
            multi_region_enabled: true,
            organization_enabled: false,
            retention_period: retention,
            termination_protection_enabled: false,
            kms_key_id: None,
            billing_mode: BillingMode::ExtendableRetentionPricing,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            ingestion: vec![IngestionRange { start: self.events.next_lsn(), end: None }],
            channels: Vec::new(),
            insights: None,
        };
        self.update(|_| Some(record.clone()));
    }

    fn update(&self, change: impl FnOnce(Option<EventDataStoreRecord>) -> Option<EventDataStoreRecord>) {
        self.stores
            .transact(|all| {
                let changed = change(all.get(STORE).cloned());
                let changes = match changed {
                    Some(record) => vec![Change::Put(record)],
                    None => vec![Change::Delete(STORE.to_owned())],
                };
                Ok::<_, StoreError>(((), changes))
            })
            .unwrap();
    }

    async fn count(&self, sql_where: &str) -> usize {
        self.lake.catch_up().await.unwrap();
        let result = self.lake.query_now(&format!("SELECT count(*) AS n FROM {STORE} {sql_where}")).await.unwrap();
        result.rows[0][0].as_deref().unwrap().parse().unwrap()
    }
}

fn start() -> Timestamp {
    "2026-01-10T00:00:00Z".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_take_what_their_selectors_and_ranges_say() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.events.append_durable(vec![event(0, start(), "BeforeCreation", "Management")]).await.unwrap();
    h.create_store(30);
    let mut batch: Vec<EventRecord> = (1..=25).map(|i| event(i, start(), "RunInstances", "Management")).collect();
    batch.push(event(26, start(), "GetObject", "Data"));
    h.events.append_durable(batch).await.unwrap();
    assert_eq!(h.count("").await, 25, "management events after creation only");
    // 25 rows with flush_rows 10 went to segments; the rest stayed in the tail; both are read.
    let data = h.lake.store_data(STORE).unwrap();
    assert!(data.committed_rows() > 0);
    // Stop ingestion: events in between are not copied; start again: they are.
    let stop_at = h.events.next_lsn();
    h.update(|r| {
        let mut r = r.unwrap();
        r.status = EventDataStoreStatus::StoppedIngestion;
        r.ingestion.last_mut().unwrap().end = Some(stop_at);
        Some(r)
    });
    h.events.append_durable(vec![event(27, start(), "WhileStopped", "Management")]).await.unwrap();
    let restart_at = h.events.next_lsn();
    h.update(|r| {
        let mut r = r.unwrap();
        r.status = EventDataStoreStatus::Enabled;
        r.ingestion.push(IngestionRange { start: restart_at, end: None });
        Some(r)
    });
    h.events.append_durable(vec![event(28, start(), "AfterRestart", "Management")]).await.unwrap();
    assert_eq!(h.count("WHERE eventName = 'WhileStopped'").await, 0);
    assert_eq!(h.count("WHERE eventName = 'AfterRestart'").await, 1);
    assert_eq!(h.count("WHERE eventName = 'BeforeCreation'").await, 0);
    assert!(h.events.holds().oldest().is_some_and(|held| held <= data.persisted_next()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_segments_are_merged_without_losing_an_event() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    for round in 0..9 {
        h.events
            .append_durable((0..3).map(|i| event(round * 10 + i, start(), "RunInstances", "Management")).collect())
            .await
            .unwrap();
        h.lake.catch_up().await.unwrap();
        h.lake.flush().await.unwrap();
    }
    let data = h.lake.store_data(STORE).unwrap();
    assert_eq!(data.table_data().files.len(), 9);
    assert_eq!(data.compact(50_000, 8).await.unwrap(), 9);
    assert_eq!(data.table_data().files.len(), 1);
    assert_eq!(h.count("").await, 27);
    assert_eq!(h.count("WHERE eventID = '00000000-0000-4000-8000-000000000081'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_tag_survives_merging_and_retention_rewrites() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    let text = |n: u32, days_back: i64| {
        let time = (start() - SignedDuration::from_hours(24 * days_back)).strftime("%Y-%m-%dT%H:%M:%SZ");
        format!(
            r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventTime":"{time}","eventID":"e-{n}"}}"#
        )
    };
    // Tagged segments straddling the retention cutoff (rewritten by the sweep) and small ones (merged).
    for batch in 0..8u32 {
        let texts = [text(batch * 2, 0), text(batch * 2 + 1, 40)];
        let rows = cairn_lake::convert::records_to_batch(texts.iter().map(String::as_str)).unwrap();
        h.lake.import_tagged(STORE, &[rows], Some(&format!("import:x:{batch}"))).await.unwrap();
    }
    assert!(!h.lake.has_origin(STORE, "import:x:8").await.unwrap());
    let data = h.lake.store_data(STORE).unwrap();
    h.lake.sweep().await.unwrap();
    assert_eq!(h.count("").await, 8, "the events older than 30 days are gone");
    data.compact(50_000, 2).await.unwrap();
    assert_eq!(data.table_data().files.len(), 1);
    for batch in 0..8 {
        assert!(h.lake.has_origin(STORE, &format!("import:x:{batch}")).await.unwrap(), "batch {batch}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_grouped_by_a_text_column_equal_the_general_aggregate() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    let names = ["Decrypt", "DescribeInstancesWithAVeryLongName", "AssumeRole", "GetObject"];
    let codes = [None, Some("AccessDenied"), None, Some("ThrottlingExceptionOfSomeLength"), Some("AccessDenied")];
    let texts: Vec<String> = (0..3_000usize)
        .map(|n| {
            let code = codes[n % codes.len()].map_or(String::new(), |c| format!(r#","errorCode":"{c}""#));
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"{}","awsRegion":"us-east-1","eventTime":"{}","eventID":"e-{n}"{code}}}"#,
                names[n % 7 % names.len()],
                start().strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        })
        .collect();
    // Three segments, and recorded events in the tail as well.
    for chunk in texts.chunks(1_000) {
        h.lake.import_records(STORE, &chunk.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
    }
    h.events
        .append_durable((0..5).map(|i| event(90_000 + i, start(), "Decrypt", "Management")).collect())
        .await
        .unwrap();
    h.lake.catch_up().await.unwrap();
    for column in ["errorCode", "eventName"] {
        let fast = format!(
            "SELECT {column}, COUNT(*) AS n, COUNT(1) AS m FROM {STORE} GROUP BY {column} ORDER BY {column} NULLS FIRST"
        );
        let general = fast.replace("COUNT(*)", "SUM(1)").replace("COUNT(1)", "SUM(1)");
        let planned = h.lake.plan_now(&fast).unwrap();
        let physical = planned.frame.create_physical_plan().await.unwrap();
        let shown = datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string();
        assert!(shown.contains("CountByTextExec"), "{shown}");
        let counted = h.lake.query_now(&fast).await.unwrap();
        assert_eq!(counted.rows, h.lake.query_now(&general).await.unwrap().rows, "{column}");
        assert!(counted.rows.len() >= 3, "{:?}", counted.rows);
    }
    // A high-cardinality column keeps DataFusion's own grouping.
    let planned = h.lake.plan_now(&format!("SELECT eventID, COUNT(*) FROM {STORE} GROUP BY eventID")).unwrap();
    let physical = planned.frame.create_physical_plan().await.unwrap();
    assert!(
        !datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string().contains("CountByText")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_is_exact_by_event_time() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(7);
    // One event per day for 10 days, then one more each hour of the last day.
    let mut batch = Vec::new();
    for day in 0..10 {
        batch.push(event(day, start() - SignedDuration::from_hours(24 * day as i64), "Daily", "Management"));
    }
    h.events.append_durable(batch).await.unwrap();
    h.lake.catch_up().await.unwrap();
    h.lake.flush().await.unwrap();
    // Events at day 0..=7 back are within 7 days of `start()` (the boundary is inclusive).
    assert_eq!(h.count("").await, 8);
    clock.advance(SignedDuration::from_hours(12));
    assert_eq!(h.count("").await, 7, "the event 7 days back is now older than the retention");
    h.lake.sweep().await.unwrap();
    let data = h.lake.store_data(STORE).unwrap();
    assert_eq!(data.committed_rows() as usize + data.tail_rows(), 7, "the sweep removed expired events for good");
    assert_eq!(h.count("").await, 7);
    let oldest = h.lake.query_now(&format!("SELECT min(eventTime) FROM {STORE}")).await.unwrap();
    assert_eq!(oldest.rows[0][0].as_deref(), Some("2026-01-04 00:00:00.000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_store_is_restorable_for_7_days_then_gone() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    h.events.append_durable((0..12).map(|i| event(i, start(), "RunInstances", "Management")).collect()).await.unwrap();
    assert_eq!(h.count("").await, 12);
    let deleted_at = clock.now();
    h.update(|r| {
        let mut r = r.unwrap();
        r.status = EventDataStoreStatus::PendingDeletion;
        r.deleted_at = Some(deleted_at);
        Some(r)
    });
    let error = h.lake.start_query(QueryRequest {
        account_id: ACCOUNT.to_owned(),
        region: "us-east-1".to_owned(),
        statement: format!("SELECT * FROM {STORE}"),
        delivery_s3_uri: None,
    });
    assert_eq!(error.unwrap_err().code, cairn_model::ErrorCode::InactiveEventDataStore);
    clock.advance(SignedDuration::from_hours(24 * 7) - SignedDuration::from_secs(1));
    h.lake.sweep().await.unwrap();
    assert!(h.stores.get(STORE).is_some(), "still restorable just before 7 days");
    h.update(|r| {
        let mut r = r.unwrap();
        r.status = EventDataStoreStatus::Enabled;
        r.deleted_at = None;
        Some(r)
    });
    assert_eq!(h.count("").await, 12, "a restored store has its events");
    // Delete again and let 7 days pass: the record and the data are gone.
    let deleted_at = clock.now();
    h.update(|r| {
        let mut r = r.unwrap();
        r.status = EventDataStoreStatus::PendingDeletion;
        r.deleted_at = Some(deleted_at);
        Some(r)
    });
    clock.advance(SignedDuration::from_hours(24 * 7));
    h.lake.sweep().await.unwrap();
    assert!(h.stores.get(STORE).is_none());
    assert!(!h.data_dir.join("datasets").join(format!("eds-{STORE}")).exists());
    assert!(h.lake.store_data(STORE).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_replays_the_tail_from_the_log() {
    let clock = Arc::new(ManualClock::new(start()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let h = Harness::open(dir, clock.clone()).await;
    h.create_store(30);
    h.events.append_durable((0..15).map(|i| event(i, start(), "RunInstances", "Management")).collect()).await.unwrap();
    assert_eq!(h.count("").await, 15);
    // No flush of the tail on this "crash": drop everything.
    let Harness { _dir, events, lake, stores, .. } = h;
    drop(lake);
    drop(stores);
    events.close();
    drop(events);
    let h = Harness::open(_dir, clock).await;
    assert_eq!(h.data_dir, path);
    assert_eq!(h.count("").await, 15, "segments plus the tail replayed from the log, each event once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_reads_every_segment_it_planned_even_if_a_sweep_rewrites_them() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    let texts: Vec<String> = (0..10)
        .map(|n| {
            // Half inside the 30 days, half older: the segment straddles the cutoff and the sweep rewrites it.
            let time = (start() - SignedDuration::from_hours(24 * if n % 2 == 0 { 1 } else { 40 }))
                .strftime("%Y-%m-%dT%H:%M:%SZ");
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventTime":"{time}","eventID":"e-{n}"}}"#
            )
        })
        .collect();
    let rows = cairn_lake::convert::records_to_batch(texts.iter().map(String::as_str)).unwrap();
    h.lake.import_tagged(STORE, &[rows], None).await.unwrap();
    let segment_files = || {
        std::fs::read_dir(h.data_dir.join("datasets").join(format!("eds-{STORE}")).join("segments"))
            .map(|dir| dir.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "parquet")).count())
            .unwrap_or(0)
    };

    let planned = h.lake.plan_now(&format!("SELECT count(*) AS n FROM {STORE}")).unwrap();
    h.lake.sweep().await.unwrap();
    assert_eq!(segment_files(), 2, "the rewritten segment is written and the one the query reads is kept");
    let executed = cairn_lake::engine::execute(planned.frame, planned.tail_rows).await.unwrap();
    let rows = cairn_lake::render::rows(&executed.batches).unwrap();
    assert_eq!(rows, vec![vec![Some("5".to_owned())]], "the query counts what it planned to read, none lost");
    drop(planned.pins);

    h.lake.sweep().await.unwrap();
    assert_eq!(segment_files(), 1, "once no query reads it, the dropped segment is deleted");
    assert_eq!(h.count("").await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_read_with_text_members_as_views_and_tails_agree() {
    let clock = Arc::new(ManualClock::new(start()));
    let h = Harness::open(tempfile::tempdir().unwrap(), clock.clone()).await;
    h.create_store(30);
    let texts: Vec<String> = (0..20)
        .map(|n| {
            format!(
                r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/r/s{}","sessionContext":{{"sessionIssuer":{{"arn":"arn:aws:iam::{ACCOUNT}:role/r"}}}}}},"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventTime":"{}","eventID":"e-{n}","requestParameters":{{"bucketName":"b{}"}}}}"#,
                n % 3,
                start().strftime("%Y-%m-%dT%H:%M:%SZ"),
                n % 2,
            )
        })
        .collect();
    h.lake.import_records(STORE, &texts.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
    // The same shapes of record in the tail.
    h.events
        .append_durable((0..4).map(|i| event(90_000 + i, start(), "GetObject", "Management")).collect())
        .await
        .unwrap();
    h.lake.catch_up().await.unwrap();

    let types = h
        .lake
        .query_now(&format!(
            "SELECT DISTINCT arrow_typeof(userIdentity.arn), arrow_typeof(userIdentity.sessionContext.sessionIssuer.arn), \
             arrow_typeof(eventName), arrow_typeof(element_at(requestParameters, 'bucketName')) FROM {STORE}"
        ))
        .await
        .unwrap();
    let view = Some("Utf8View".to_owned());
    assert_eq!(types.rows, vec![vec![view.clone(), view.clone(), view, Some("Utf8".to_owned())]]);

    let grouped = h
        .lake
        .query_now(&format!(
            "SELECT userIdentity.arn AS arn, userIdentity.sessionContext.sessionIssuer.arn AS issuer, COUNT(*) AS n \
             FROM {STORE} GROUP BY 1, 2 ORDER BY n DESC, arn"
        ))
        .await
        .unwrap();
    let row = |arn: &str, issuer: Option<&str>, n: usize| {
        vec![Some(arn.to_owned()), issuer.map(str::to_owned), Some(n.to_string())]
    };
    let issuer = format!("arn:aws:iam::{ACCOUNT}:role/r");
    assert_eq!(
        grouped.rows,
        vec![
            row(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/s0"), Some(&issuer), 7),
            row(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/s1"), Some(&issuer), 7),
            row(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/s2"), Some(&issuer), 6),
            row(&format!("arn:aws:iam::{ACCOUNT}:user/alice"), None, 4),
        ]
    );
}
