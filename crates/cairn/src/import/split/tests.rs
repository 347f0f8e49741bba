//! Splitting files into records: log files, arrays and NDJSON, compressed or not, byte for byte.

use std::io::Write as _;
use std::path::Path;

use super::*;

/// The records `split` finds in `text`: their texts, or the reason.
fn records(text: &str, lines: bool) -> Vec<Result<&str, String>> {
    let split = split(text, lines).unwrap();
    assert!(!split.digest);
    split.pieces.into_iter().map(|piece| piece.map(|span| &text[span])).collect()
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

const A: &str = r#"{"eventVersion":"1.08","eventID":"a"}"#;
const B: &str = "{\n      \"eventVersion\" : \"1.08\",\n      \"eventID\": \"b\\u00e9\", \"n\": 1.50\n    }";

#[test]
fn a_log_file_yields_each_record_byte_for_byte() {
    let text = format!("{{\n  \"Records\": [\n    {A},\n    {B}\n  ]\n}}\n");
    assert_eq!(records(&text, false), [Ok(A), Ok(B)]);
    let compact = format!(r#"{{"Records":[{A},{B}],"other":{{"x":[1]}}}}"#);
    assert_eq!(records(&compact, false), [Ok(A), Ok(B)]);
}

#[test]
fn an_array_of_records_and_an_empty_file() {
    assert_eq!(records(&format!("[{A}, {B}]"), false), [Ok(A), Ok(B)]);
    assert_eq!(records("", false), []);
    assert_eq!(records(" \n", false), []);
    assert_eq!(records(r#"{"Records":[]}"#, false), []);
}

#[test]
fn ndjson_is_one_record_or_log_file_per_line() {
    let text = format!("{A}\n\n{{\"Records\":[{A},{A}]}}\r\n{A}");
    assert_eq!(records(&text, false), [Ok(A), Ok(A), Ok(A), Ok(A)]);
    assert_eq!(records(&text, true), [Ok(A), Ok(A), Ok(A), Ok(A)]);
}

#[test]
fn a_line_that_is_not_json_is_a_refused_record_and_the_others_are_kept() {
    let bad_middle = format!("{A}\n{{\"eventVersion\": \n{A}\n");
    let found = records(&bad_middle, false);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0], Ok(A));
    assert!(found[1].as_ref().is_err_and(|reason| reason.starts_with("not valid JSON: ")), "{:?}", found[1]);
    assert_eq!(found[2], Ok(A));

    // A bad first line: the second line alone shows the file is NDJSON, whatever its name.
    let bad_first = format!("{{oops\n{A}\n");
    let found = records(&bad_first, false);
    assert!(found[0].is_err());
    assert_eq!(found[1], Ok(A));
}

#[test]
fn other_values_are_refused_in_place() {
    let text = format!("{A}\n{{\"Records\": {{\"a\": 1}}}}\n42\n\"text\"\nnull\n[{A}]\n");
    let found = records(&text, true);
    assert_eq!(
        found,
        [
            Ok(A),
            Err("Records is an object, not an array of records".to_owned()),
            Err("a JSON number, not a record".to_owned()),
            Err("a JSON string, not a record".to_owned()),
            Err("a JSON null, not a record".to_owned()),
            Ok(A),
        ]
    );
}

#[test]
fn a_file_that_is_not_json_fails_as_a_whole() {
    let broken = "{\n  \"Records\": [\n    {\"eventVersion\": \"1.0\"\n  ]\n}\n";
    let failure = split(broken, false).unwrap_err();
    assert!(matches!(failure, FileFailure::NotJson(_)));
    assert!(failure.to_string().starts_with("not valid JSON: "), "{failure}");
    assert!(matches!(split("{\"Records\": [", false), Err(FileFailure::NotJson(_))));
    assert!(matches!(split("this is not json", false), Err(FileFailure::NotJson(_))));
}

#[test]
fn a_digest_file_is_recognised_by_its_members() {
    let digest = r#"{"awsAccountId":"1","digestStartTime":"2020-09-11T18:36:49Z","digestS3Object":"AWSLogs/1/CloudTrail-Digest/x.json.gz","logFiles":[]}"#;
    assert!(split(digest, false).unwrap().digest);
    // A record that happens to be alone in its file is not a digest.
    assert!(!split(A, false).unwrap().digest);
}

#[test]
fn decode_gunzips_by_magic_bytes_and_drops_a_byte_order_mark() {
    let text = format!("{{\"Records\":[{A}]}}");
    assert_eq!(decode(gzip(text.as_bytes())).unwrap(), text);
    let mut two_members = gzip(b"{\"Records\":[");
    two_members.extend(gzip(format!("{A}]}}").as_bytes()));
    assert_eq!(decode(two_members).unwrap(), text);
    assert_eq!(decode(text.clone().into_bytes()).unwrap(), text);
    assert_eq!(decode(format!("\u{feff}{text}").into_bytes()).unwrap(), text);
}

#[test]
fn decode_fails_on_broken_gzip_and_on_bytes_that_are_not_utf8() {
    let mut truncated = gzip(A.as_bytes());
    truncated.truncate(truncated.len() / 2);
    let failure = decode(truncated).unwrap_err();
    assert!(matches!(failure, FileFailure::Gzip(_)), "{failure:?}");
    assert!(failure.to_string().starts_with("not a valid gzip file"), "{failure}");
    let failure = decode(b"{\"a\":\"\xff\"}".to_vec()).unwrap_err();
    assert_eq!(failure.to_string(), "not UTF-8 text (invalid byte at offset 6)");
}

#[test]
fn the_corpora_split_into_the_records_they_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/cloudtrail");
    let read = |relative: &str| decode(std::fs::read(root.join(relative)).unwrap()).unwrap();
    // A log file as delivered: as many records as Python's json module finds, each parsing to the same value.
    let text = read("invictus/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json");
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = document["Records"].as_array().unwrap();
    let found = records(&text, false);
    assert_eq!(found.len(), expected.len());
    for (record, value) in found.iter().zip(expected) {
        assert_eq!(&serde_json::from_str::<serde_json::Value>(record.as_ref().unwrap()).unwrap(), value);
    }
    // A JSON array (stratus), NDJSON named .json (otrf), gzip (processing-library).
    assert_eq!(records(&read("stratus/aws.defense-evasion.cloudtrail-delete.json"), false).len(), 1);
    assert_eq!(records(&read("otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json"), false).len(), 103);
    let compact = read("processing-library/SerializerTestFileCompact.json.gz");
    assert_eq!(records(&compact, false), records(&read("processing-library/SerializerTestFileCompact.json"), false));
    let broken = read("processing-library/SerializerTestFileBadJsonFormat.json");
    assert!(matches!(split(&broken, false), Err(FileFailure::NotJson(_))));
    assert!(split(&read("elastic-samples/test-cloudtrail-digest-json.log"), false).unwrap().digest);
}
