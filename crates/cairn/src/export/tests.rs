//! `cairn export`'s own parts: times as users write them, finding the store, and the CloudTrail log
//! files (layout, names, exact bodies, parts, determinism).

use std::io::Read;

use cairn_lake::export::ExportedRecord;
use cairn_store::records::{BillingMode, EventDataStoreStatus};

use super::log_files::{LogFileError, LogFiles, RECORDS_PER_FILE};
use super::*;

#[test]
fn times_are_iso_8601_or_a_utc_date_and_time() {
    let expected: Timestamp = "2025-03-01T10:00:00Z".parse().unwrap();
    for text in [
        "2025-03-01T10:00:00Z",
        "2025-03-01T11:00:00+01:00",
        "2025-03-01 10:00:00",
        "2025-03-01T10:00:00",
        " 2025-03-01 10:00 ",
    ] {
        assert_eq!(parse_time(text), Ok(expected), "{text}");
    }
    assert_eq!(parse_time("2025-03-01"), Ok("2025-03-01T00:00:00Z".parse().unwrap()));
    assert_eq!(parse_time("2025-03-01T10:00:00.250Z"), Ok("2025-03-01T10:00:00.25Z".parse().unwrap()));
    for bad in ["yesterday", "2025-13-01", "", "1700000000"] {
        let error = parse_time(bad).unwrap_err();
        assert!(error.contains("is not a time"), "{bad}: {error}");
    }
}

fn store(id: &str, name: &str) -> EventDataStoreRecord {
    let now: Timestamp = "2025-03-01T00:00:00Z".parse().unwrap();
    EventDataStoreRecord {
        id: id.to_owned(),
        account_id: "111122223333".to_owned(),
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
        status: EventDataStoreStatus::Enabled,
        advanced_event_selectors: Vec::new(),
        multi_region_enabled: true,
        organization_enabled: false,
        retention_period: 2557,
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
    }
}

#[test]
fn a_store_is_found_by_id_arn_or_name() {
    let a = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";
    let b = "1f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";
    let stores = vec![store(a, "audit"), store(b, "archive")];
    let dir = Path::new("data");
    assert_eq!(find_store(&stores, "archive", dir).unwrap().id, b);
    assert_eq!(find_store(&stores, &a.to_uppercase(), dir).unwrap().id, a);
    assert_eq!(find_store(&stores, &stores[1].arn(), dir).unwrap().id, b);
    let error = find_store(&stores, "nope", dir).unwrap_err().to_string();
    assert_eq!(error, format!("the event data store nope does not exist in data: it has audit ({a}), archive ({b})"));
    assert!(find_store(&[], "nope", dir).unwrap_err().to_string().ends_with("it has none"));
    let twice = vec![store(a, "audit"), store(b, "audit")];
    assert!(
        find_store(&twice, "audit", dir).unwrap_err().to_string().starts_with("2 event data stores are named audit")
    );
}

const STORE_ID: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn text(n: usize) -> String {
    // Deliberately not serde's spacing: the body must keep each record's text as it is.
    format!("{{ \"eventID\" : \"e-{n}\",\"eventName\":\"X\" }}")
}

/// Every file under `dir` by path relative to it, with its decompressed body.
fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let mut body = String::new();
                let bytes = std::fs::read(&path).unwrap();
                let mut decoder = flate2::read::GzDecoder::new(bytes.as_slice());
                decoder.read_to_string(&mut body).unwrap();
                // Exactly one gzip member, nothing after it.
                let mut rest = Vec::new();
                decoder.into_inner().read_to_end(&mut rest).unwrap();
                assert!(rest.is_empty(), "{}", path.display());
                out.push((path.strip_prefix(root).unwrap().to_string_lossy().into_owned(), body));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn export_to(dir: &Path, records: &[(i64, Option<&str>, Option<&str>, String)]) -> Written {
    let mut files = LogFiles::new(dir, STORE_ID, "111122223333", "us-east-1");
    for (time, account, region, text) in records {
        files.add(ExportedRecord { event_time_ms: *time, account_id: *account, region: *region, text }).unwrap();
    }
    files.finish().unwrap()
}

#[test]
fn log_files_follow_the_s3_layout_one_per_account_region_and_hour() {
    let dir = tempfile::tempdir().unwrap();
    let records = vec![
        (ms("2025-03-01T23:10:00Z"), Some("444455556666"), Some("eu-west-1"), text(1)),
        (ms("2025-03-01T23:20:00Z"), Some("444455556666"), Some("eu-west-1"), text(2)),
        (ms("2025-03-01T23:30:00Z"), None, None, text(3)),
        (ms("2025-03-01T23:59:59.999Z"), Some("444455556666"), Some("eu-west-1"), text(4)),
        (ms("2025-03-02T00:00:00Z"), Some("444455556666"), Some("eu-west-1"), text(5)),
        (ms("2025-03-02T00:00:01Z"), Some("../../etc"), Some("us-east-1"), text(6)),
    ];
    let written = export_to(dir.path(), &records);
    assert_eq!((written.n_events, written.n_files), (6, 4));
    let found = files(dir.path());
    let pattern = |key: &str| {
        let name = key.rsplit('/').next().unwrap();
        let parts: Vec<&str> = name.strip_suffix(".json.gz").unwrap().split('_').collect();
        let suffix = parts.last().unwrap();
        assert!(suffix.len() == 16 && suffix.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
        format!("{}_{}", key.rsplit_once('_').unwrap().0, "*")
    };
    let keys: Vec<String> = found.iter().map(|(key, _)| pattern(key)).collect();
    assert_eq!(
        keys,
        [
            // Dated by the end of the hour: 23:xx events are in the next day's folder, as CloudTrail delivers them.
            "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/02/111122223333_CloudTrail_us-east-1_20250302T0000Z_*",
            "AWSLogs/444455556666/CloudTrail/eu-west-1/2025/03/02/444455556666_CloudTrail_eu-west-1_20250302T0000Z_*",
            "AWSLogs/444455556666/CloudTrail/eu-west-1/2025/03/02/444455556666_CloudTrail_eu-west-1_20250302T0100Z_*",
            "AWSLogs/______etc/CloudTrail/us-east-1/2025/03/02/______etc_CloudTrail_us-east-1_20250302T0100Z_*",
        ]
    );
    let bodies: Vec<&str> = found.iter().map(|(_, body)| body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            format!("{{\"Records\":[{}]}}", text(3)),
            format!("{{\"Records\":[{},{},{}]}}", text(1), text(2), text(4)),
            format!("{{\"Records\":[{}]}}", text(5)),
            format!("{{\"Records\":[{}]}}", text(6)),
        ]
    );
    assert_eq!(
        written.n_bytes,
        found.iter().map(|(k, _)| std::fs::metadata(dir.path().join(k)).unwrap().len()).sum::<u64>()
    );
}

#[test]
fn a_full_file_continues_in_a_new_part_and_names_repeat_on_a_rerun() {
    let records: Vec<_> = (0..RECORDS_PER_FILE * 2 + 1)
        .map(|n| (ms("2025-03-01T10:00:00Z") + n as i64, Some("111122223333"), Some("us-east-1"), text(n)))
        .collect();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let written = export_to(first.path(), &records);
    assert_eq!((written.n_events, written.n_files), (records.len() as u64, 3));
    let (a, b) = (files(first.path()), files(second.path()));
    assert!(b.is_empty());
    export_to(second.path(), &records);
    let b = files(second.path());
    assert_eq!(a, b, "the same events give the same names and bodies");
    let counts: Vec<usize> = a.iter().map(|(_, body)| body.matches("eventID").count()).collect();
    let mut sorted = counts.clone();
    sorted.sort();
    assert_eq!(sorted, [1, RECORDS_PER_FILE, RECORDS_PER_FILE]);
    // Exporting again into the same folder overwrites: still three files, no temporary ones.
    export_to(first.path(), &records);
    assert_eq!(files(first.path()), a);
}

#[test]
fn records_out_of_time_order_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = LogFiles::new(dir.path(), STORE_ID, "111122223333", "us-east-1");
    let one = text(1);
    let at = |time: &str| ExportedRecord { event_time_ms: ms(time), account_id: None, region: None, text: &one };
    files.add(at("2025-03-01T11:00:00Z")).unwrap();
    assert!(matches!(files.add(at("2025-03-01T10:59:00Z")), Err(LogFileError::OutOfOrder { .. })));
}
