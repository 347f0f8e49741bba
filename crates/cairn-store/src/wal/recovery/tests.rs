//! Tests of `recovery`: torn tails at every byte offset, flipped bytes, bad headers, LSN gaps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fs;
use std::path::{Path, PathBuf};

use crate::wal::segment::{
    self, FORMAT_VERSION, HEADER_LEN, MAGIC, RECORD_HEADER_LEN, encode_header, encode_record_header, segment_file_name,
};
use crate::wal::tests::{N_MULTI_SEGMENT, Records, append_one_by_one, copy_segments, open, payload, replay_all};
use crate::wal::{Lsn, Recovery, TornTail, Wal, WalConfig, WalError};

fn expect_corrupt(config: &WalConfig) -> (PathBuf, u64, String) {
    match Wal::open(config.clone()) {
        Err(WalError::Corrupt { segment, offset, reason }) => (segment, offset, reason),
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok((_, recovery)) => panic!("expected Corrupt, opened with {recovery:?}"),
    }
}

/// Writes a segment file by hand: a header declaring `first_lsn`, then records with the given LSNs.
fn write_segment(dir: &Path, first_lsn: Lsn, lsns: &[u64]) -> PathBuf {
    let mut bytes = encode_header(first_lsn);
    for &lsn in lsns {
        encode_record_header(Lsn(lsn), &payload(lsn), &mut bytes);
        bytes.extend_from_slice(&payload(lsn));
    }
    let path = dir.join(segment_file_name(first_lsn));
    fs::write(&path, bytes).unwrap();
    path
}

/// A WAL written by `append_one_by_one`, kept as a template: each damage case works on a fresh copy.
struct DamageFixture {
    template: tempfile::TempDir,
    config: WalConfig,
    expected: Records,
    /// Offsets of every record in the last segment.
    record_offsets: Vec<u64>,
    last_segment: PathBuf,
}

impl DamageFixture {
    fn new(config: fn(PathBuf) -> WalConfig, n_records: u64) -> DamageFixture {
        let template = tempfile::tempdir().unwrap();
        let config = config(template.path().to_owned());
        let (wal, _) = open(&config);
        let expected = append_one_by_one(&wal, 0, n_records);
        drop(wal);
        let entries = segment::list_segments(template.path()).unwrap();
        let last = entries.last().unwrap();
        let mut record_offsets = vec![HEADER_LEN];
        for lsn in last.first_lsn.0..n_records - 1 {
            let previous = *record_offsets.last().unwrap();
            record_offsets.push(previous + (RECORD_HEADER_LEN + payload(lsn).len()) as u64);
        }
        let last_segment = PathBuf::from(last.path.file_name().unwrap());
        DamageFixture { template, config, expected, record_offsets, last_segment }
    }

    /// A fresh copy of the template's segments, and the config to open it.
    fn copy(&self) -> (tempfile::TempDir, WalConfig) {
        let dir = tempfile::tempdir().unwrap();
        copy_segments(self.template.path(), dir.path());
        let config = WalConfig { dir: dir.path().to_owned(), ..self.config.clone() };
        (dir, config)
    }
}

fn flip_byte(path: &Path, offset: u64, mask: u8) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= mask;
    fs::write(path, bytes).unwrap();
}

/// Opening after a cut tail: the earlier records replay, the cut is reported, and appending resumes.
fn check_torn_tail_recovery(fixture: &DamageFixture, config: &WalConfig, expected_torn: Option<(u64, u64)>) {
    let n_kept = fixture.expected.len() as u64 - 1;
    let (wal, recovery) = open(config);
    let torn = recovery.torn_tail.as_ref().map(|torn| (torn.offset, torn.bytes_cut));
    assert_eq!(torn, expected_torn);
    assert_eq!((recovery.n_records, recovery.next_lsn), (n_kept, Lsn(n_kept)));
    let kept = &fixture.expected[..n_kept as usize];
    assert_eq!(replay_all(&wal, Lsn(0)), kept);
    assert_eq!(wal.append_durable_blocking(vec![b"after".to_vec()]).unwrap(), Lsn(n_kept)..Lsn(n_kept + 1));
    drop(wal);
    let (wal, recovery) = open(config);
    assert_eq!(recovery, Recovery { n_records: n_kept + 1, next_lsn: Lsn(n_kept + 1), torn_tail: None });
    let mut expected = kept.to_vec();
    expected.push((Lsn(n_kept), b"after".to_vec()));
    assert_eq!(replay_all(&wal, Lsn(0)), expected);
}

#[test]
fn torn_tail_at_every_offset_of_the_last_record_is_cut() {
    for (config, n_records) in
        [(WalConfig::new as fn(PathBuf) -> WalConfig, 5), (WalConfig::test_config, N_MULTI_SEGMENT)]
    {
        let fixture = DamageFixture::new(config, n_records);
        let last_start = *fixture.record_offsets.last().unwrap();
        let file_len = fs::metadata(fixture.template.path().join(&fixture.last_segment)).unwrap().len();
        assert!(file_len - last_start > RECORD_HEADER_LEN as u64);
        for cut_len in last_start..file_len {
            let (dir, config) = fixture.copy();
            let path = dir.path().join(&fixture.last_segment);
            fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(cut_len).unwrap();
            // Cutting exactly at the record's start leaves a clean log without it.
            let expected_torn = (cut_len > last_start).then_some((last_start, cut_len - last_start));
            check_torn_tail_recovery(&fixture, &config, expected_torn);
            assert!(fs::metadata(&path).unwrap().len() > last_start);
        }
    }
}

#[test]
fn flipped_byte_anywhere_in_the_last_record_is_cut_as_torn_tail() {
    let fixture = DamageFixture::new(WalConfig::new, 5);
    let last_start = *fixture.record_offsets.last().unwrap();
    let file_len = fs::metadata(fixture.template.path().join(&fixture.last_segment)).unwrap().len();
    for offset in last_start..file_len {
        for mask in [0x01, 0x80, 0xff] {
            let (dir, config) = fixture.copy();
            flip_byte(&dir.path().join(&fixture.last_segment), offset, mask);
            check_torn_tail_recovery(&fixture, &config, Some((last_start, file_len - last_start)));
        }
    }
}

#[test]
fn flipped_byte_in_a_middle_record_is_corrupt() {
    let fixture = DamageFixture::new(WalConfig::new, 5);
    let (record_start, record_end) = (fixture.record_offsets[2], fixture.record_offsets[3]);
    for offset in record_start..record_end {
        for mask in [0x01, 0x80, 0xff] {
            let (dir, config) = fixture.copy();
            let path = dir.path().join(&fixture.last_segment);
            flip_byte(&path, offset, mask);
            let before = fs::read(&path).unwrap();
            let (segment, corrupt_offset, reason) = expect_corrupt(&config);
            assert_eq!((segment, corrupt_offset), (path.clone(), record_start), "byte {offset} ^ {mask:#x}: {reason}");
            assert!(reason.contains("intact record follows"), "{reason}");
            assert_eq!(fs::read(&path).unwrap(), before, "a corrupt segment is never modified");
        }
    }
}

#[test]
fn damage_in_a_non_last_segment_is_corrupt() {
    let fixture = DamageFixture::new(WalConfig::test_config, N_MULTI_SEGMENT);
    let first = segment::list_segments(fixture.template.path()).unwrap()[0].path.clone();
    let first_name = PathBuf::from(first.file_name().unwrap());
    let first_len = fs::metadata(&first).unwrap().len();
    let second_record = HEADER_LEN + (RECORD_HEADER_LEN + payload(0).len()) as u64;
    let last_record = first_len - (RECORD_HEADER_LEN + payload(segment_n_records(&first) - 1).len()) as u64;

    // (damage, offset reported)
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(Damage, u64)> = vec![
        (Box::new(move |path| flip_byte(path, second_record + 20, 0x01)), second_record),
        (Box::new(move |path| flip_byte(path, last_record + 20, 0x01)), last_record),
        (Box::new(move |path| flip_byte(path, first_len - 1, 0x01)), last_record),
        (Box::new(move |path| truncate(path, first_len - 1)), last_record),
        (Box::new(move |path| truncate(path, last_record + 3)), last_record),
        (Box::new(move |path| truncate(path, HEADER_LEN - 1)), 0),
        (Box::new(move |path| flip_byte(path, 0, 0x01)), 0),
    ];
    for (case_idx, (damage, expected_offset)) in cases.into_iter().enumerate() {
        let (dir, config) = fixture.copy();
        let path = dir.path().join(&first_name);
        damage(&path);
        let (segment, offset, reason) = expect_corrupt(&config);
        assert_eq!((segment, offset), (path, expected_offset), "case {case_idx}: {reason}");
    }
}

fn truncate(path: &Path, len: u64) {
    fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

/// Records in a segment written by `append_one_by_one` from LSN 0.
fn segment_n_records(path: &Path) -> u64 {
    let (mut offset, mut lsn, len) = (HEADER_LEN, 0, fs::metadata(path).unwrap().len());
    while offset < len {
        offset += (RECORD_HEADER_LEN + payload(lsn).len()) as u64;
        lsn += 1;
    }
    assert_eq!(offset, len);
    lsn
}

#[test]
fn bad_segment_headers_are_corrupt_in_every_segment() {
    let fixture = DamageFixture::new(WalConfig::test_config, N_MULTI_SEGMENT);
    let entries = segment::list_segments(fixture.template.path()).unwrap();
    let names: Vec<PathBuf> = entries.iter().map(|entry| PathBuf::from(entry.path.file_name().unwrap())).collect();
    for name in [&names[0], &names[1], names.last().unwrap()] {
        for offset in 0..HEADER_LEN {
            let (dir, config) = fixture.copy();
            let path = dir.path().join(name);
            flip_byte(&path, offset, 0x01);
            let (segment, corrupt_offset, reason) = expect_corrupt(&config);
            assert_eq!((segment, corrupt_offset), (path, 0), "{name:?} byte {offset}: {reason}");
        }
    }

    // A header with a valid checksum but a future version.
    let (dir, config) = fixture.copy();
    let path = dir.path().join(names.last().unwrap());
    let mut bytes = fs::read(&path).unwrap();
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    header.extend_from_slice(&bytes[12..20]);
    header.extend_from_slice(&crc32c::crc32c(&header).to_le_bytes());
    bytes.splice(..24, header);
    fs::write(&path, bytes).unwrap();
    let (_, offset, reason) = expect_corrupt(&config);
    assert_eq!(offset, 0);
    assert!(reason.contains("unsupported segment format version 2"), "{reason}");
}

#[test]
fn last_segment_with_a_torn_header_is_removed() {
    const N: u64 = N_MULTI_SEGMENT;
    let fixture = DamageFixture::new(WalConfig::test_config, N);
    let entries = segment::list_segments(fixture.template.path()).unwrap();
    let n_before_last = entries.last().unwrap().first_lsn.0;
    for header_len in 0..HEADER_LEN {
        let (dir, config) = fixture.copy();
        // A crash while creating the segment after the last one.
        let next_path = dir.path().join(segment_file_name(Lsn(N)));
        fs::write(&next_path, &encode_header(Lsn(N))[..header_len as usize]).unwrap();
        let (wal, recovery) = open(&config);
        let expected_torn = TornTail {
            segment: next_path.clone(),
            offset: 0,
            bytes_cut: header_len,
            reason: format!("segment file of {header_len} bytes is shorter than its header; removed it"),
        };
        assert_eq!(recovery, Recovery { n_records: N, next_lsn: Lsn(N), torn_tail: Some(expected_torn) });
        assert_eq!(replay_all(&wal, Lsn(n_before_last)), fixture.expected[n_before_last as usize..]);
        assert_eq!(wal.append_durable_blocking(vec![payload(N)]).unwrap(), Lsn(N)..Lsn(N + 1));
        drop(wal);
        let (_, recovery) = open(&config);
        assert_eq!(recovery, Recovery { n_records: N + 1, next_lsn: Lsn(N + 1), torn_tail: None });
    }

    // The only segment, torn while the WAL was first created: it is created again.
    for header_len in [0, 10, HEADER_LEN - 1] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(segment_file_name(Lsn(0)));
        fs::write(&path, &encode_header(Lsn(0))[..header_len as usize]).unwrap();
        let (wal, recovery) = open(&WalConfig::new(dir.path()));
        assert_eq!((recovery.next_lsn, recovery.torn_tail.map(|torn| torn.bytes_cut)), (Lsn(0), Some(header_len)));
        assert_eq!(wal.append_durable_blocking(vec![payload(0)]).unwrap(), Lsn(0)..Lsn(1));
        assert_eq!(fs::metadata(&path).unwrap().len(), HEADER_LEN + (RECORD_HEADER_LEN + payload(0).len()) as u64);
    }
}

#[test]
fn lsns_must_be_consecutive() {
    let record_len = |lsn: u64| (RECORD_HEADER_LEN + payload(lsn).len()) as u64;
    // (segments, index of the segment reported, offset reported)
    // Each segment as (first lsn, record lsns).
    type Segments = Vec<(u64, Vec<u64>)>;
    let cases: Vec<(Segments, usize, u64)> = vec![
        (vec![(0, vec![0, 1, 3])], 0, HEADER_LEN + record_len(0) + record_len(1)),
        (vec![(0, vec![0, 1, 1, 2])], 0, HEADER_LEN + record_len(0) + record_len(1)),
        (vec![(5, vec![4, 5])], 0, HEADER_LEN),
        (vec![(0, vec![0, 1]), (3, vec![3, 4])], 1, 0),
        (vec![(0, vec![0, 1]), (1, vec![1, 2])], 1, 0),
        (vec![(0, vec![0, 1, 2]), (2, vec![2, 3]), (4, vec![4])], 1, 0),
        // An empty segment in the middle is fine only if the next one continues it.
        (vec![(0, vec![0]), (1, vec![]), (2, vec![2])], 2, 0),
    ];
    for (case_idx, (segments, bad_segment_idx, bad_offset)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> =
            segments.iter().map(|(first, lsns)| write_segment(dir.path(), Lsn(*first), lsns)).collect();
        let (segment, offset, reason) = expect_corrupt(&WalConfig::new(dir.path()));
        assert_eq!((&segment, offset), (&paths[bad_segment_idx], bad_offset), "case {case_idx}: {reason}");
    }

    // The header's first LSN must match the file name.
    let dir = tempfile::tempdir().unwrap();
    let path = write_segment(dir.path(), Lsn(0), &[0, 1]);
    fs::rename(&path, dir.path().join(segment_file_name(Lsn(7)))).unwrap();
    let (_, offset, reason) = expect_corrupt(&WalConfig::new(dir.path()));
    assert_eq!(offset, 0);
    assert!(reason.contains("file name"), "{reason}");

    // A WAL whose older segments were removed starts wherever its oldest segment does; an empty last
    // segment is fine.
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), Lsn(10), &[10, 11]);
    write_segment(dir.path(), Lsn(12), &[12]);
    write_segment(dir.path(), Lsn(13), &[]);
    let (wal, recovery) = open(&WalConfig::new(dir.path()));
    assert_eq!(recovery, Recovery { n_records: 3, next_lsn: Lsn(13), torn_tail: None });
    assert_eq!(replay_all(&wal, Lsn(10)).len(), 3);
    assert_eq!(wal.append_durable_blocking(vec![payload(13)]).unwrap(), Lsn(13)..Lsn(14));
}

#[test]
fn directory_listing_rules() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), Lsn(0), &[0, 1]);
    for name in ["notes.txt", "wal-1.tmp", "wal-00000000000000000002.seg.bak", "LOCK"] {
        fs::write(dir.path().join(name), b"ignored").unwrap();
    }
    let (wal, recovery) = open(&WalConfig::new(dir.path()));
    assert_eq!(recovery.n_records, 2);
    drop(wal);

    fs::write(dir.path().join("wal-12.seg"), b"").unwrap();
    let (segment, _, reason) = expect_corrupt(&WalConfig::new(dir.path()));
    assert!(segment.ends_with("wal-12.seg"), "{reason}");
}
