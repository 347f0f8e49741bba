//! Tests of `logs`: persistence across reopen, bounding, filtering.
use super::*;

fn key(name: &str) -> GroupKey {
    GroupKey { account_id: "111111111111".to_owned(), region: "us-east-1".to_owned(), name: name.to_owned() }
}

fn events(range: std::ops::Range<i64>) -> Vec<(i64, String)> {
    range.map(|i| (i, format!("event {i}"))).collect()
}

#[test]
fn groups_streams_and_events_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let group = key("CloudTrail/logs#1");
    {
        let logs = LogGroups::open(dir.path(), 10).unwrap();
        logs.create_group(&group, 5).unwrap();
        assert!(matches!(logs.create_group(&group, 6), Err(LogsError::AlreadyExists("group"))));
        logs.create_stream(&group, "a:b c", 7).unwrap();
        logs.put(&group, "a:b c", &events(0..3), 8).unwrap();
        assert!(matches!(logs.put(&group, "missing", &events(0..1), 8), Err(LogsError::NotFound("stream"))));
    }
    let logs = LogGroups::open(dir.path(), 10).unwrap();
    assert_eq!(logs.groups("111111111111", "us-east-1", "Cloud")[0].creation_time, 5);
    let read = logs.stream_events(&group, "a:b c").unwrap();
    assert_eq!(read.events.len(), 3);
    assert_eq!(read.events[2].message, "event 2");
    assert_eq!(read.events[2].ingestion_time, 8);
    assert_eq!(logs.streams(&group, "").unwrap()[0].creation_time, 7);
}

#[test]
fn a_stream_keeps_only_its_newest_events_on_disk_too() {
    let dir = tempfile::tempdir().unwrap();
    let group = key("g");
    {
        let logs = LogGroups::open(dir.path(), 4).unwrap();
        logs.put_creating(&group, "s", &events(0..3), 1).unwrap();
        logs.put_creating(&group, "s", &events(3..9), 1).unwrap();
        let read = logs.stream_events(&group, "s").unwrap();
        assert_eq!((read.first_seq, read.events[0].timestamp, read.events.len()), (5, 5, 4));
    }
    let logs = LogGroups::open(dir.path(), 4).unwrap();
    let read = logs.stream_events(&group, "s").unwrap();
    assert_eq!(read.events.iter().map(|e| e.timestamp).collect::<Vec<_>>(), [5, 6, 7, 8]);
}

#[test]
fn filter_merges_streams_by_time_and_delete_forgets_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogGroups::open(dir.path(), 10).unwrap();
    let group = key("g");
    logs.put_creating(&group, "b", &[(2, "two".to_owned())], 1).unwrap();
    logs.put_creating(&group, "a", &[(1, "one".to_owned()), (3, "three".to_owned())], 1).unwrap();
    let found = logs.filter(&group, None, |e| e.message.contains('o')).unwrap();
    assert_eq!(found.iter().map(|(s, e)| (s.as_str(), e.timestamp)).collect::<Vec<_>>(), [("a", 1), ("b", 2)]);
    logs.delete_group(&group).unwrap();
    assert!(matches!(logs.stream_events(&group, "a"), Err(LogsError::NotFound("group"))));
    assert!(LogGroups::open(dir.path(), 10).unwrap().groups("111111111111", "us-east-1", "").is_empty());
}
