//! Every record in `shared/corpora/cloudtrail` either parses, keeping its exact text, or is rejected with a
//! specific reason; the counts per folder are pinned. Each record is cut out of its file as the raw JSON slice.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{EventRecord, LookupAttributeKey};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/cloudtrail");

#[derive(Debug, Default, PartialEq)]
struct Tally {
    accepted: usize,
    rejected: BTreeMap<String, usize>,
}

impl Tally {
    fn check(&mut self, raw: &str) {
        match EventRecord::parse(raw.as_bytes()) {
            Ok(record) => {
                assert_eq!(record.text(), raw.trim(), "kept text differs from the input record");
                cross_check(&record, raw);
                self.accepted += 1;
            }
            Err(e) => *self.rejected.entry(e.to_string()).or_default() += 1,
        }
    }

    fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }
}

/// The typed fields agree with a generic JSON reading of the same text.
fn cross_check(record: &EventRecord, raw: &str) {
    let value: Value = match serde_json::from_str(raw) {
        Ok(value) => value,
        Err(e) => panic!("accepted a record serde_json rejects: {e}"),
    };
    let s = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    assert_eq!(Some(record.event_id.as_str()), s("/eventID"));
    assert_eq!(Some(record.event_version.as_str()), s("/eventVersion"));
    assert_eq!(Some(record.aws_region.as_str()), s("/awsRegion"));
    assert_eq!(Some(record.event_name.as_str()), s("/eventName").or_else(|| s("/insightDetails/eventName")));
    assert_eq!(Some(record.event_source.as_str()), s("/eventSource").or_else(|| s("/insightDetails/eventSource")));
    assert_eq!(record.event_type.as_deref(), s("/eventType"));
    assert_eq!(record.error_code.as_deref(), s("/errorCode"));
    assert_eq!(record.recipient_account_id.as_deref(), s("/recipientAccountId"));
    if let Some(category) = s("/eventCategory") {
        assert_eq!(record.event_category, category);
    }
    let identity = &record.user_identity;
    assert_eq!(identity.identity_type.as_deref(), s("/userIdentity/type"));
    assert_eq!(identity.arn.as_deref(), s("/userIdentity/arn"));
    assert_eq!(identity.principal_id.as_deref(), s("/userIdentity/principalId"));
    assert_eq!(identity.account_id.as_deref(), s("/userIdentity/accountId"));
    assert_eq!(identity.access_key_id.as_deref(), s("/userIdentity/accessKeyId"));
    assert_eq!(identity.user_name.as_deref(), s("/userIdentity/userName"));
    assert_eq!(identity.invoked_by.as_deref(), s("/userIdentity/invokedBy"));
    assert_eq!(identity.session_issuer_user_name.as_deref(), s("/userIdentity/sessionContext/sessionIssuer/userName"));
    if let Some(Value::Bool(b)) = value.get("readOnly") {
        assert_eq!(record.read_only, Some(*b));
    }
    let n_resources = value.get("resources").and_then(Value::as_array).map_or(0, Vec::len);
    assert_eq!(record.resources.len(), n_resources);
    for (i, resource) in record.resources.iter().enumerate() {
        assert_eq!(resource.resource_type.as_deref(), s(&format!("/resources/{i}/type")));
        if let Some(arn) = s(&format!("/resources/{i}/ARN")) {
            assert_eq!(resource.arn.as_deref(), Some(arn));
        }
    }
    let _ = record.event_time.as_second();
    for key in LookupAttributeKey::ALL {
        assert!(record.lookup_attribute_values(key).all(|v| !v.is_empty()));
    }
}

fn dir(name: &str) -> Vec<PathBuf> {
    let path = Path::new(CORPUS).join(name);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&path) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !name.starts_with("LICENSE") && name != "SOURCE.md"
    });
    files.sort();
    files
}

fn read(path: &Path) -> String {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        if let Err(e) = flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text) {
            panic!("cannot inflate {}: {e}", path.display());
        }
        return text;
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => panic!("{} is not utf-8: {e}", path.display()),
    }
}

#[derive(Deserialize)]
struct LogFile<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct PantherCase<'a> {
    #[serde(borrow)]
    event: &'a RawValue,
}

/// A log file `{"Records":[…]}`; a file that is not one is offered whole as a record.
fn log_file(tally: &mut Tally, text: &str) {
    match serde_json::from_str::<LogFile<'_>>(text) {
        Ok(file) => file.records.iter().for_each(|r| tally.check(r.get())),
        Err(_) => tally.check(text),
    }
}

fn ndjson(tally: &mut Tally, text: &str) {
    text.lines().filter(|l| !l.trim().is_empty()).for_each(|line| tally.check(line));
}

fn tally_of(folder: &str, read_file: impl Fn(&mut Tally, &str)) -> Tally {
    let mut tally = Tally::default();
    for path in dir(folder) {
        read_file(&mut tally, &read(&path));
    }
    eprintln!("{folder}: {tally:#?}");
    tally
}

fn reasons(rows: &[(&str, usize)]) -> BTreeMap<String, usize> {
    rows.iter().map(|(reason, n)| ((*reason).to_owned(), *n)).collect()
}

#[test]
fn invictus_log_files_all_parse() {
    let tally = tally_of("invictus", log_file);
    assert_eq!(tally, Tally { accepted: 2900, rejected: BTreeMap::new() });
}

#[test]
fn awsdocs_examples_parse_including_insights() {
    let mut tally = Tally::default();
    ndjson(&mut tally, &read(&Path::new(CORPUS).join("awsdocs-examples.ndjson")));
    // The five eventVersion 1.0 examples predate eventID (added in 1.01).
    assert_eq!(tally, Tally { accepted: 19, rejected: reasons(&[("missing field eventID", 5)]) });
}

#[test]
fn otrf_records_lack_event_time() {
    let tally = tally_of("otrf", ndjson);
    assert_eq!(tally, Tally { accepted: 0, rejected: reasons(&[("missing field eventTime", 103)]) });
}

#[test]
fn stratus_arrays() {
    let tally = tally_of("stratus", |tally, text| match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(records) => records.iter().for_each(|r| tally.check(r.get())),
        Err(e) => panic!("stratus file is not a json array: {e}"),
    });
    assert_eq!(tally, Tally { accepted: 310, rejected: BTreeMap::new() });
}

#[test]
fn panther_rule_test_events() {
    let tally = tally_of("panther", |tally, text| {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<PantherCase<'_>>(line) {
                Ok(case) => tally.check(case.event.get()),
                Err(e) => panic!("panther line without event: {e}"),
            }
        }
    });
    assert_eq!(tally.accepted + tally.rejected_total(), 461);
    // Panther's tests trim records: 52 have no eventVersion, 13 more no eventID; one has eventTime "redacted"
    // and one a resources element that is a string (a Python repr).
    let expected = reasons(&[
        ("field eventTime \"redacted\" is not an ISO-8601 timestamp", 1),
        ("field resources[] must be an object, found string", 1),
        ("missing field eventID", 13),
        ("missing field eventVersion", 52),
    ]);
    assert_eq!(tally, Tally { accepted: 394, rejected: expected });
}

#[test]
fn elastic_samples() {
    let tally = tally_of("elastic-samples", ndjson);
    // The digest file is not an event record.
    assert_eq!(tally, Tally { accepted: 3, rejected: reasons(&[("missing field eventVersion", 1)]) });
}

#[test]
fn processing_library_fixtures() {
    let tally = tally_of("processing-library", log_file);
    // The library's fixtures have no eventID at all; the SQS bodies and renamed-field files have no eventVersion;
    // one file is not JSON; the all-null record is caught at eventSource (checked before eventID).
    let expected = reasons(&[
        ("event record is not valid json: key must be a string at line 37 column 9", 1),
        ("field eventSource must be a string, found null", 1),
        ("missing field eventID", 38),
        ("missing field eventVersion", 4),
    ]);
    assert_eq!(tally, Tally { accepted: 0, rejected: expected });
}
