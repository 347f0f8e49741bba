//! Tests of `dataset`: object names, the manifest format, commits and their conflicts, recovery from a
//! damaged manifest and from orphans, segment reads and bloom-filter pruning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cairn_model::event::EventRecord;

use super::directory;
use super::segment::{AttributeFilter, RowFilter};
use super::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// An event at `second` after 2026-11-01T12:00:00Z, in (account, region), named `name`, with user `user`.
fn event(n: u64, second: i64, region: &str, name: &str, user: &str) -> EventRecord {
    let text = format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::111111111111:user/{user}","accountId":"111111111111","userName":"{user}"}},"eventTime":"2026-11-01T12:{:02}:{:02}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"127.0.0.1","requestID":"r{n}","eventID":"id-{n}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111111111111","eventCategory":"Management"}}"#,
        second / 60,
        second % 60
    );
    EventRecord::parse(text.as_bytes()).unwrap()
}

/// A segment of `n` events over two regions, `row_group_rows` rows per row group.
fn written(n: u64, row_group_rows: usize) -> WrittenSegment {
    let mut events: Vec<(Lsn, EventRecord)> = (0..n)
        .map(|i| {
            let region = if i % 3 == 0 { "eu-west-1" } else { "us-east-1" };
            (Lsn(i), event(i, (i % 50) as i64, region, &format!("Op{}", i % 7), &format!("user{i}")))
        })
        .collect();
    events.sort_by_key(|(lsn, e)| (e.fields().aws_region.clone(), e.fields().event_time, *lsn));
    let mut writer = SegmentWriter::new(&SegmentFormat::new(row_group_rows)).unwrap();
    for (lsn, event) in &events {
        writer.push(*lsn, event).unwrap();
    }
    writer.finish().unwrap().unwrap()
}

#[test]
fn object_names_are_zero_padded_and_parse_back() {
    let manifest = paths::manifest_path(ManifestVersion(7));
    assert_eq!(manifest.as_ref(), "manifests/manifest-00000000000000000007.json");
    assert_eq!(paths::parse_manifest_path(&manifest), Some(ManifestVersion(7)));
    let segment = paths::segment_path(SegmentId(12));
    assert_eq!(segment.as_ref(), "segments/segment-00000000000000000012.parquet");
    assert_eq!(paths::parse_segment_path(&segment), Some(SegmentId(12)));
    for other in [
        "segments/segment-12.parquet",
        "segments/segment-0000000000000000001x.parquet",
        "manifests/segment-00000000000000000012.parquet",
        "segments/segment-00000000000000000012.parquet#1",
    ] {
        assert_eq!(paths::parse_segment_path(&Path::from(other)), None, "{other}");
    }
}

#[test]
fn the_manifest_format_is_pinned() {
    let manifest = Manifest {
        format_version: MANIFEST_FORMAT_VERSION,
        version: ManifestVersion(3),
        persisted_lsn: Some(Lsn(41)),
        next_segment_id: SegmentId(3),
        segments: vec![SegmentEntry {
            id: SegmentId(2),
            path: "segments/segment-00000000000000000002.parquet".to_owned(),
            n_rows: 40,
            n_bytes: 5000,
            min_event_time_ms: 1,
            max_event_time_ms: 2,
            min_lsn: Lsn(2),
            max_lsn: Lsn(41),
            origins: Vec::new(),
        }],
    };
    let expected = r#"{"format_version":1,"version":3,"persisted_lsn":41,"next_segment_id":3,"segments":[{"id":2,"path":"segments/segment-00000000000000000002.parquet","n_rows":40,"n_bytes":5000,"min_event_time_ms":1,"max_event_time_ms":2,"min_lsn":2,"max_lsn":41}]}"#;
    let encoded = manifest.encode();
    let compact: serde_json::Value = serde_json::from_slice(&encoded).unwrap();
    assert_eq!(compact.to_string(), expected);
    assert_eq!(Manifest::decode(&encoded, ManifestVersion(3)).unwrap(), manifest);
    assert!(Manifest::decode(&encoded, ManifestVersion(4)).unwrap_err().contains("holds version 3"));
    let future = expected.replace(r#""format_version":1"#, r#""format_version":2"#);
    assert!(Manifest::decode(future.as_bytes(), ManifestVersion(3)).unwrap_err().contains("not supported"));
    let renamed = expected.replace("segment-00000000000000000002", "segment-00000000000000000009");
    assert!(Manifest::decode(renamed.as_bytes(), ManifestVersion(3)).unwrap_err().contains("unexpected path"));
    assert!(Manifest::decode(b"{\"format_version\":1", ManifestVersion(3)).is_err());
    // Origins are written only when a segment has some; manifests without them read as before.
    let mut tagged = manifest.clone();
    tagged.segments[0].origins = vec!["import:abc:1".to_owned()];
    let encoded = tagged.encode();
    let compact: serde_json::Value = serde_json::from_slice(&encoded).unwrap();
    assert_eq!(compact["segments"][0]["origins"], serde_json::json!(["import:abc:1"]));
    assert_eq!(Manifest::decode(&encoded, ManifestVersion(3)).unwrap(), tagged);
}

#[test]
fn the_partition_directory_must_cover_every_row() {
    let chunk = |row_group, first_row, n_rows| directory::Chunk {
        account: "a".to_owned(),
        region: "r".to_owned(),
        row_group,
        first_row,
        n_rows,
        min_time_ms: 0,
        max_time_ms: 0,
        max_lsn: 0,
        n_insights: 0,
    };
    let good = directory::encode(vec![chunk(0, 0, 3), chunk(0, 3, 1), chunk(1, 0, 2)]);
    assert_eq!(directory::decode(&good, &[4, 2]).unwrap().len(), 3);
    for (chunks, rows) in [
        (vec![chunk(0, 0, 3), chunk(1, 0, 2)], vec![4, 2]),
        (vec![chunk(0, 0, 4)], vec![4, 2]),
        (vec![chunk(0, 0, 5)], vec![4]),
        (vec![chunk(0, 1, 3)], vec![4]),
        (vec![], vec![4]),
    ] {
        assert!(directory::decode(&directory::encode(chunks.clone()), &rows).is_err(), "{chunks:?} {rows:?}");
    }
}

#[test]
fn two_writers_cannot_commit_the_same_version() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (first, _) = Dataset::open_local(dir.path()).await.unwrap();
        let (second, _) = Dataset::open_local(dir.path()).await.unwrap();
        first.commit(Commit { persisted_lsn: Some(Lsn(1)), ..Commit::default() }).await.unwrap();
        let error = second.commit(Commit { persisted_lsn: Some(Lsn(2)), ..Commit::default() }).await.unwrap_err();
        assert!(matches!(error, DatasetError::Conflict { version: ManifestVersion(1) }), "{error}");
        let (reopened, _) = Dataset::open_local(dir.path()).await.unwrap();
        assert_eq!(reopened.snapshot().manifest.persisted_lsn, Some(Lsn(1)));
    });
}

#[test]
fn a_dropped_segment_is_deleted_only_once_no_snapshot_names_it() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (dataset, _) = Dataset::open_local(dir.path()).await.unwrap();
        let mut commit = Commit::default();
        commit.add(dataset.write_segment(written(10, 4)).await.unwrap());
        let held = dataset.commit(commit).await.unwrap();
        let id = held.manifest.segments[0].id;
        let object = dir.path().join(paths::segment_path(id).as_ref());

        // A reader (a query) still holds the snapshot that names it: the object stays.
        dataset.commit(Commit { remove: vec![id], ..Commit::default() }).await.unwrap();
        assert!(dataset.snapshot().manifest.segments.is_empty());
        assert!(object.exists());
        assert_eq!(dataset.delete_unreferenced().await, 1);
        assert!(object.exists());

        drop(held);
        assert_eq!(dataset.delete_unreferenced().await, 0);
        assert!(!object.exists());
    });
}

#[test]
fn the_newest_readable_manifest_wins_and_orphans_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (dataset, report) = Dataset::open_local(dir.path()).await.unwrap();
        assert_eq!(report, OpenReport::default());
        let mut commit = Commit { persisted_lsn: Some(Lsn(9)), ..Commit::default() };
        commit.add(dataset.write_segment(written(10, 4)).await.unwrap());
        dataset.commit(commit).await.unwrap();
        let orphan = dataset.write_segment(written(5, 4)).await.unwrap().entry().id;
        drop(dataset);

        // A damaged newer manifest: the older one is used, and the orphan is kept (it might be named there).
        std::fs::write(dir.path().join(paths::manifest_path(ManifestVersion(2)).as_ref()), b"{\"format_v").unwrap();
        let (dataset, report) = Dataset::open_local(dir.path()).await.unwrap();
        assert_eq!(report.n_unreadable_manifests, 1);
        assert!(report.orphans_deleted.is_empty());
        assert_eq!(dataset.snapshot().manifest.version, ManifestVersion(1));
        assert_eq!(dataset.snapshot().manifest.segments.len(), 1);
        drop(dataset);

        std::fs::remove_file(dir.path().join(paths::manifest_path(ManifestVersion(2)).as_ref())).unwrap();
        std::fs::write(dir.path().join("segments/segment-00000000000000000009.parquet#3"), b"staging").unwrap();
        let (dataset, report) = Dataset::open_local(dir.path()).await.unwrap();
        assert_eq!(report.orphans_deleted, vec![orphan]);
        assert!(!dir.path().join(paths::segment_path(orphan).as_ref()).exists());
        assert!(!dir.path().join("segments/segment-00000000000000000009.parquet#3").exists());
        // A new segment never reuses a name a manifest may have seen.
        let next = dataset.write_segment(written(3, 4)).await.unwrap().entry().id;
        assert!(next > orphan);
    });
}

#[test]
fn bloom_filters_skip_row_groups_and_reads_find_exact_rows() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (dataset, _) = Dataset::open_local(dir.path()).await.unwrap();
        let mut commit = Commit::default();
        commit.add(dataset.write_segment(written(300, 16)).await.unwrap());
        let snapshot = dataset.commit(commit).await.unwrap();
        drop(dataset);
        let (dataset, _) = Dataset::open_local(dir.path()).await.unwrap();
        assert_eq!(dataset.snapshot().manifest, snapshot.manifest);
        let segment = &dataset.snapshot().segments[0];
        assert_eq!(segment.n_row_groups(), 19);
        let username = attribute_column(cairn_model::event::LookupAttributeKey::Username);
        let mut n_maybe = 0;
        for row_group in 0..segment.n_row_groups() {
            n_maybe += usize::from(segment.may_contain(row_group, username, "user123").await.unwrap());
        }
        assert!((1..=2).contains(&n_maybe), "user123 is in one row group; {n_maybe} may hold it");

        let filter = RowFilter {
            low: EventKey { event_time_ms: 0, lsn: 0 },
            high: EventKey { event_time_ms: i64::MAX, lsn: u64::MAX },
            insights: false,
            attribute: AttributeFilter::Text { column: username, value: "user123".to_owned() },
        };
        let mut hits = Vec::new();
        for chunk in segment.chunks() {
            let rows = chunk.first_row..chunk.first_row + chunk.n_rows;
            hits.extend(segment.read_keys(chunk, rows, &filter, false).await.unwrap().0);
        }
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].key.lsn, 123);
        let records = segment.read_records(hits[0].row_group, &[hits[0].row]).await.unwrap();
        assert_eq!(records[0].0, 123);
        assert!(records[0].1.contains(r#""eventID":"id-123""#));
        let chunks = segment.chunks();
        assert_eq!(chunks.iter().map(|c| c.n_rows).sum::<usize>(), 300);
        assert!(chunks.iter().all(|c| c.account == "111111111111"));
        assert_eq!(chunks[0].region, "eu-west-1");
    });
}

#[test]
fn events_must_be_pushed_in_history_order() {
    let mut writer = SegmentWriter::new(&SegmentFormat::new(4)).unwrap();
    writer.push(Lsn(1), &event(1, 5, "us-east-1", "A", "u")).unwrap();
    assert!(writer.push(Lsn(2), &event(2, 4, "us-east-1", "A", "u")).is_err(), "older time");
    assert!(writer.push(Lsn(0), &event(0, 5, "us-east-1", "A", "u")).is_err(), "same time, lower lsn");
    assert!(writer.push(Lsn(3), &event(3, 9, "eu-west-1", "A", "u")).is_err(), "earlier region");
    writer.push(Lsn(4), &event(4, 1, "us-west-2", "A", "u")).unwrap();
    assert_eq!(writer.finish().unwrap().unwrap().n_rows, 2);
    assert!(SegmentWriter::new(&SegmentFormat::new(4)).unwrap().finish().unwrap().is_none());
}
