//! Tests of `wal`: restart-twice, rollover, removal, group commit, close and failure (damage: `recovery/tests.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use super::*;

pub(crate) type Records = Vec<(Lsn, Vec<u8>)>;

/// Records that fill several segments of `WalConfig::test_config`.
pub(crate) const N_MULTI_SEGMENT: u64 = 300;

pub(crate) fn payload(idx: u64) -> Vec<u8> {
    format!("event-{idx:06}-{}", "x".repeat((idx % 37) as usize)).into_bytes()
}

pub(crate) fn open(config: &WalConfig) -> (Wal, Recovery) {
    Wal::open(config.clone()).unwrap()
}

pub(crate) fn replay_all(wal: &Wal, from: Lsn) -> Records {
    let mut records = Vec::new();
    wal.replay(from, |lsn, bytes| {
        records.push((lsn, bytes.to_vec()));
        Ok(())
    })
    .unwrap();
    records
}

/// Appends records `first_idx..first_idx + n` one request each, checking their LSNs; returns them.
pub(crate) fn append_one_by_one(wal: &Wal, first_idx: u64, n: u64) -> Records {
    (first_idx..first_idx + n)
        .map(|idx| {
            let lsns = wal.append_durable_blocking(vec![payload(idx)]).unwrap();
            assert_eq!(lsns, Lsn(idx)..Lsn(idx + 1));
            (Lsn(idx), payload(idx))
        })
        .collect()
}

pub(crate) fn segment_files(dir: &Path) -> Vec<PathBuf> {
    segment::list_segments(dir).unwrap().into_iter().map(|entry| entry.path).collect()
}

pub(crate) fn copy_segments(from_dir: &Path, to_dir: &Path) {
    for path in segment_files(from_dir) {
        fs::copy(&path, to_dir.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn wal_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
}

#[test]
fn appends_survive_reopening_twice() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let mut expected = Records::new();
    for round in 0..3 {
        let (wal, recovery) = open(&config);
        let n_expected = expected.len() as u64;
        assert_eq!(recovery, Recovery { n_records: n_expected, next_lsn: Lsn(n_expected), torn_tail: None });
        assert_eq!(wal.next_lsn(), Lsn(n_expected));
        assert_eq!(replay_all(&wal, Lsn(0)), expected, "round {round}");
        if round < 2 {
            expected.extend(append_one_by_one(&wal, n_expected, 30));
            let batch: Vec<Vec<u8>> = (n_expected + 30..n_expected + 100).map(payload).collect();
            let lsns = wal.append_durable_blocking(batch.clone()).unwrap();
            assert_eq!(lsns, Lsn(n_expected + 30)..Lsn(n_expected + 100));
            expected.extend((n_expected + 30..).map(Lsn).zip(batch));
            assert_eq!(replay_all(&wal, Lsn(0)), expected);
        }
    }
}

#[test]
fn fresh_and_header_only_wal_opens_empty() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::new(dir.path().join("wal"));
    for _ in 0..2 {
        let (wal, recovery) = open(&config);
        assert_eq!(recovery, Recovery { n_records: 0, next_lsn: Lsn(0), torn_tail: None });
        assert_eq!(replay_all(&wal, Lsn(0)), Records::new());
        assert_eq!(wal.first_lsn(), Lsn(0));
    }
    let files = segment_files(&config.dir);
    assert_eq!(files.len(), 1);
    assert_eq!(fs::metadata(&files[0]).unwrap().len(), HEADER_LEN);
    assert!(files[0].ends_with("wal-00000000000000000000.seg"));
}

#[test]
fn segments_roll_over_and_replay_crosses_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let (wal, _) = open(&config);
    let mut expected = append_one_by_one(&wal, 0, 150);
    // A record larger than a whole segment gets a segment of its own.
    let big = vec![7u8; 5000];
    assert_eq!(wal.append_durable_blocking(vec![big.clone()]).unwrap(), Lsn(150)..Lsn(151));
    expected.push((Lsn(150), big));
    // One request straddling several segments.
    let batch: Vec<Vec<u8>> = (151..400).map(payload).collect();
    assert_eq!(wal.append_durable_blocking(batch.clone()).unwrap(), Lsn(151)..Lsn(400));
    expected.extend((151..).map(Lsn).zip(batch));

    let entries = segment::list_segments(dir.path()).unwrap();
    assert!(entries.len() >= 6, "{} segments", entries.len());
    for pair in entries.windows(2) {
        let len = fs::metadata(&pair[0].path).unwrap().len();
        let n_records = pair[1].first_lsn.0 - pair[0].first_lsn.0;
        assert!(len <= config.segment_max_bytes || n_records == 1, "{:?} has {len} bytes", pair[0].path);
    }
    assert!(entries.iter().any(|entry| entry.first_lsn == Lsn(150)));

    let boundary = entries[2].first_lsn;
    let froms = [Lsn(0), Lsn(1), boundary, Lsn(boundary.0 - 1), Lsn(150), Lsn(151), Lsn(399), Lsn(400), Lsn(9999)];
    let check_replays = |wal: &Wal| {
        for from in froms {
            let suffix: Records = expected.iter().filter(|(lsn, _)| *lsn >= from).cloned().collect();
            assert_eq!(replay_all(wal, from), suffix, "from {from}");
        }
    };
    check_replays(&wal);
    drop(wal);
    let (wal, recovery) = open(&config);
    assert_eq!(recovery.n_records, 400);
    check_replays(&wal);
}

#[test]
fn remove_segments_before_deletes_only_whole_older_segments() {
    const N: u64 = N_MULTI_SEGMENT;
    let template = tempfile::tempdir().unwrap();
    let (wal, _) = open(&WalConfig::test_config(template.path()));
    let expected = append_one_by_one(&wal, 0, N);
    drop(wal);
    let firsts: Vec<Lsn> = segment::list_segments(template.path()).unwrap().iter().map(|e| e.first_lsn).collect();
    let n_segments = firsts.len();
    assert!(n_segments >= 4);

    // (cut, segments removed)
    let cases = [
        (Lsn(0), 0),
        (Lsn(firsts[1].0 - 1), 0),
        (firsts[1], 1),
        (Lsn(firsts[2].0 + 1), 2),
        (Lsn(N), n_segments - 1),
        (Lsn(u64::MAX), n_segments - 1),
    ];
    for (cut, n_removed) in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_segments(template.path(), dir.path());
        let config = WalConfig::test_config(dir.path());
        let (wal, _) = open(&config);
        assert_eq!(wal.remove_segments_before(cut).unwrap(), n_removed, "cut {cut}");
        assert_eq!(wal.remove_segments_before(cut).unwrap(), 0, "cut {cut}, again");
        let first = firsts[n_removed];
        assert_eq!(wal.first_lsn(), first);
        assert_eq!(segment_files(dir.path()).len(), n_segments - n_removed);
        let retained: Records = expected.iter().filter(|(lsn, _)| *lsn >= first).cloned().collect();
        assert_eq!(replay_all(&wal, first), retained);
        if n_removed > 0 {
            let result = wal.replay(Lsn(0), |_, _| Ok(()));
            assert!(
                matches!(result, Err(WalError::NotRetained { from: Lsn(0), first_retained }) if first_retained == first)
            );
        }
        drop(wal);
        let (wal, recovery) = open(&config);
        assert_eq!(recovery, Recovery { n_records: N - first.0, next_lsn: Lsn(N), torn_tail: None });
        assert_eq!(wal.append_durable_blocking(vec![payload(N)]).unwrap(), Lsn(N)..Lsn(N + 1));
    }
}

#[test]
fn a_wal_directory_is_opened_once_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::new(dir.path());
    let (wal, _) = open(&config);
    let second = Wal::open(config.clone());
    assert!(matches!(second, Err(WalError::Io(ref error)) if error.kind() == io::ErrorKind::WouldBlock));
    drop(wal);
    open(&config);
}

#[test]
fn record_size_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let (wal, _) = open(&config);
    let too_large = vec![vec![1u8; 3], vec![0u8; MAX_PAYLOAD_BYTES + 1]];
    let result = wal.append_durable_blocking(too_large);
    assert!(matches!(
        result,
        Err(WalError::RecordTooLarge { len, max }) if len == MAX_PAYLOAD_BYTES + 1 && max == MAX_PAYLOAD_BYTES
    ));
    assert_eq!(wal.next_lsn(), Lsn(0), "a rejected request writes nothing");
    let largest = vec![9u8; MAX_PAYLOAD_BYTES];
    assert_eq!(wal.append_durable_blocking(vec![largest.clone(), Vec::new()]).unwrap(), Lsn(0)..Lsn(2));
    assert_eq!(wal.append_durable_blocking(Vec::new()).unwrap(), Lsn(2)..Lsn(2));
    drop(wal);
    let (wal, recovery) = open(&config);
    assert_eq!(recovery.n_records, 2);
    assert_eq!(replay_all(&wal, Lsn(0)), vec![(Lsn(0), largest), (Lsn(1), Vec::new())]);
}

#[test]
fn group_commit_acknowledges_every_append_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::new(dir.path());
    let (wal, _) = open(&config);
    let wal = Arc::new(wal);
    let (n_threads, n_per_thread) = (8u64, 500u64);
    let threads: Vec<_> = (0..n_threads)
        .map(|thread_idx| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                (0..n_per_thread)
                    .map(|append_idx| {
                        let bytes = format!("thread {thread_idx} append {append_idx}").into_bytes();
                        let lsns = wal.append_durable_blocking(vec![bytes.clone()]).unwrap();
                        assert_eq!(lsns.end, lsns.start.next());
                        (lsns.start, bytes)
                    })
                    .collect::<Records>()
            })
        })
        .collect();
    let mut acknowledged = Records::new();
    for thread in threads {
        let records = thread.join().unwrap();
        assert!(records.windows(2).all(|pair| pair[0].0 < pair[1].0), "a thread's appends stay in order");
        acknowledged.extend(records);
    }
    acknowledged.sort();
    let n_appends = n_threads * n_per_thread;
    assert_eq!(acknowledged.iter().map(|(lsn, _)| lsn.0).collect::<Vec<_>>(), (0..n_appends).collect::<Vec<_>>());
    assert_eq!(replay_all(&wal, Lsn(0)), acknowledged);
    let distinct: BTreeSet<&Vec<u8>> = acknowledged.iter().map(|(_, bytes)| bytes).collect();
    assert_eq!(distinct.len() as u64, n_appends);
    assert!(wal.n_syncs() < n_appends, "{} syncs for {n_appends} appends", wal.n_syncs());
    drop(wal);
    let (wal, recovery) = open(&config);
    assert_eq!(recovery.n_records, n_appends);
    assert_eq!(replay_all(&wal, Lsn(0)), acknowledged);
}

#[test]
fn async_appends_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let (wal, _) = open(&config);
    let wal = Arc::new(wal);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let mut acknowledged: Records = runtime.block_on(async {
        let tasks: Vec<_> = (0..4u64)
            .map(|task_idx| {
                let wal = Arc::clone(&wal);
                tokio::spawn(async move {
                    let mut records = Records::new();
                    for append_idx in 0..100u64 {
                        let payloads = vec![payload(task_idx * 1000 + append_idx); 3];
                        let lsns = wal.append_durable(payloads.clone()).await.unwrap();
                        assert_eq!(lsns.end.0 - lsns.start.0, 3);
                        records.extend((lsns.start.0..).map(Lsn).zip(payloads));
                    }
                    records
                })
            })
            .collect();
        let mut acknowledged = Records::new();
        for task in tasks {
            acknowledged.extend(task.await.unwrap());
        }
        acknowledged
    });
    acknowledged.sort();
    assert_eq!(replay_all(&wal, Lsn(0)), acknowledged);
    assert_eq!(acknowledged.len(), 1200);
}

#[test]
fn close_answers_queued_appends_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let (wal, _) = open(&config);
    let wal = Arc::new(wal);
    let threads: Vec<_> = (0..4u64)
        .map(|thread_idx| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let mut acknowledged = Records::new();
                for append_idx in 0..1000u64 {
                    let bytes = payload(thread_idx * 10_000 + append_idx);
                    match wal.append_durable_blocking(vec![bytes.clone()]) {
                        Ok(lsns) => acknowledged.push((lsns.start, bytes)),
                        Err(WalError::Closed) => break,
                        Err(error) => panic!("{error}"),
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    wal.close();
    wal.close();
    assert!(matches!(wal.append_durable_blocking(vec![b"late".to_vec()]), Err(WalError::Closed)));
    let mut acknowledged = Records::new();
    for thread in threads {
        acknowledged.extend(thread.join().unwrap());
    }
    acknowledged.sort();
    drop(wal);
    let (wal, recovery) = open(&config);
    assert_eq!(recovery.n_records, acknowledged.len() as u64);
    assert_eq!(replay_all(&wal, Lsn(0)), acknowledged);
}

#[test]
fn a_failed_write_fails_its_batch_and_every_later_append() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path().join("wal"));
    let (wal, _) = open(&config);
    append_one_by_one(&wal, 0, 3);
    // With the directory gone, the next segment cannot be created.
    fs::remove_dir_all(&config.dir).unwrap();
    let result = wal.append_durable_blocking((3..200).map(payload).collect());
    assert!(matches!(result, Err(WalError::Failed { ref reason }) if reason.contains(".seg")), "{result:?}");
    assert_eq!(wal.next_lsn(), Lsn(3));
    for _ in 0..2 {
        assert!(matches!(wal.append_durable_blocking(vec![payload(3)]), Err(WalError::Failed { .. })));
    }
}

#[test]
fn replay_runs_while_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig::test_config(dir.path());
    let (wal, _) = open(&config);
    let wal = Arc::new(wal);
    let appender = {
        let wal = Arc::clone(&wal);
        std::thread::spawn(move || append_one_by_one(&wal, 0, 1500))
    };
    let mut n_replays = 0;
    while !appender.is_finished() || n_replays == 0 {
        let durable_before = wal.next_lsn();
        let replayed = replay_all(&wal, Lsn(0));
        assert!(replayed.len() as u64 >= durable_before.0);
        for (idx, (lsn, bytes)) in replayed.iter().enumerate() {
            assert_eq!((lsn.0, bytes), (idx as u64, &payload(idx as u64)));
        }
        n_replays += 1;
    }
    assert_eq!(replay_all(&wal, Lsn(0)), appender.join().unwrap());
}

#[test]
fn replay_stops_at_the_first_visit_error() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = open(&WalConfig::test_config(dir.path()));
    append_one_by_one(&wal, 0, 100);
    let mut visited = Vec::new();
    let result = wal.replay(Lsn(10), |lsn, _| {
        visited.push(lsn.0);
        if lsn == Lsn(50) { Err(WalError::Closed) } else { Ok(()) }
    });
    assert!(matches!(result, Err(WalError::Closed)));
    assert_eq!(visited, (10..=50).collect::<Vec<_>>());
}

/// Correctness at volume, not speed: 100k small records from four threads in batches of 100.
#[test]
fn hundred_thousand_small_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = WalConfig { segment_max_bytes: 1024 * 1024, ..WalConfig::new(dir.path()) };
    let (wal, _) = open(&config);
    let wal = Arc::new(wal);
    let threads: Vec<_> = (0..4u64)
        .map(|thread_idx| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let mut acknowledged = Records::new();
                for batch_idx in 0..250u64 {
                    let first_idx = (thread_idx * 250 + batch_idx) * 100;
                    let payloads: Vec<Vec<u8>> = (first_idx..first_idx + 100).map(payload).collect();
                    let lsns = wal.append_durable_blocking(payloads.clone()).unwrap();
                    acknowledged.extend((lsns.start.0..lsns.end.0).map(Lsn).zip(payloads));
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged = Records::new();
    for thread in threads {
        acknowledged.extend(thread.join().unwrap());
    }
    acknowledged.sort();
    assert_eq!(acknowledged.len(), 100_000);
    assert_eq!(acknowledged.last().map(|(lsn, _)| *lsn), Some(Lsn(99_999)));
    drop(wal);
    let (wal, recovery) = open(&config);
    assert_eq!(recovery, Recovery { n_records: 100_000, next_lsn: Lsn(100_000), torn_tail: None });
    assert_eq!(replay_all(&wal, Lsn(0)), acknowledged);
}
