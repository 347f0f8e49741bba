//! Tests of `stream`: stream naming, record splitting, the 256 KB limit, NDJSON batching, RFC 5424.
use jiff::Timestamp;

use super::http::ndjson_bodies;
use super::*;
use crate::batch::{LogFile, RecordSpan};

fn file(account: &str, region: &str, records: &[(&str, i64)]) -> LogFile {
    let mut body = b"{\"Records\":[".to_vec();
    let mut spans = Vec::new();
    for (idx, (text, second)) in records.iter().enumerate() {
        if idx > 0 {
            body.push(b',');
        }
        let start = body.len();
        body.extend_from_slice(text.as_bytes());
        spans.push(RecordSpan { start, end: body.len(), event_time: Timestamp::from_second(*second).unwrap() });
    }
    body.extend_from_slice(b"]}");
    LogFile {
        account_id: account.to_owned(),
        region: region.to_owned(),
        part: 0,
        body,
        n_events: records.len(),
        newest: Timestamp::UNIX_EPOCH,
        oldest: Timestamp::UNIX_EPOCH,
        insight: false,
        records: spans,
    }
}

#[test]
fn stream_names_and_log_groups_follow_cloudtrail() {
    assert_eq!(stream_name("111111111111", "eu-west-1"), "111111111111_CloudTrail_eu-west-1");
    let group = log_group_of("arn:aws:logs:us-east-1:111111111111:log-group:CloudTrail/audit:*").unwrap();
    assert_eq!(
        (group.account_id.as_str(), group.region.as_str(), group.name.as_str()),
        ("111111111111", "us-east-1", "CloudTrail/audit")
    );
    assert_eq!(log_group_of("arn:aws:logs:us-east-1:111111111111:log-group:g").unwrap().name, "g");
    assert!(log_group_of("arn:aws:s3:us-east-1:111111111111:log-group:g").is_none());
    assert!(log_group_of("arn:aws:logs:us-east-1:111111111111:log-group::*").is_none());
}

#[test]
fn records_become_events_per_account_and_region_without_the_wrapper() {
    let files = [
        file("111111111111", "us-east-1", &[(r#"{"eventName":"B"}"#, 20), (r#"{"eventName":"A"}"#, 10)]),
        file("222222222222", "us-east-1", &[(r#"{"eventName":"C"}"#, 30)]),
        file("111111111111", "us-east-1", &[(r#"{"eventName":"I"}"#, 15)]),
    ];
    let (batches, n_skipped) = stream_batches(&files);
    assert_eq!(n_skipped, 0);
    let summary: Vec<(&str, Vec<(i64, &str)>)> = batches
        .iter()
        .map(|b| (b.stream.as_str(), b.events.iter().map(|e| (e.timestamp_ms, e.message.as_str())).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "111111111111_CloudTrail_us-east-1",
                vec![
                    (10_000, r#"{"eventName":"A"}"#),
                    (15_000, r#"{"eventName":"I"}"#),
                    (20_000, r#"{"eventName":"B"}"#)
                ]
            ),
            ("222222222222_CloudTrail_us-east-1", vec![(30_000, r#"{"eventName":"C"}"#)]),
        ]
    );
}

#[test]
fn records_over_256_kb_are_not_streamed() {
    let large = format!(r#"{{"eventName":"{}"}}"#, "x".repeat(MAX_EVENT_BYTES));
    let files = [file("111111111111", "us-east-1", &[(&large, 1), (r#"{"eventName":"small"}"#, 2)])];
    let (batches, n_skipped) = stream_batches(&files);
    assert_eq!(n_skipped, 1);
    assert_eq!(batches[0].events.len(), 1);
    let (batches, n_skipped) = stream_batches(&[file("111111111111", "us-east-1", &[(&large, 1)])]);
    assert_eq!((batches.len(), n_skipped), (0, 1));
}

#[test]
fn ndjson_bodies_hold_one_record_a_line_and_stay_under_the_limit() {
    let events = ["aaaa", "bbbb", "cccc", "dddddddddddd"]
        .iter()
        .map(|m| StreamedEvent { timestamp_ms: 0, message: (*m).to_owned() })
        .collect();
    let batch = StreamBatch { account_id: String::new(), region: String::new(), stream: String::new(), events };
    let bodies: Vec<String> = ndjson_bodies(&batch, 10).into_iter().map(|b| String::from_utf8(b).unwrap()).collect();
    assert_eq!(bodies, ["aaaa\nbbbb\n", "cccc\n", "dddddddddddd\n"]);
}

fn syslog_sink() -> SyslogSink {
    SyslogSink {
        address: "127.0.0.1:514".to_owned(),
        transport: SyslogTransport::Udp,
        facility: 13,
        severity: 6,
        hostname: "cairn host".to_owned(),
        app_name: "cairn".to_owned(),
        log_groups: Vec::new(),
    }
}

#[test]
fn rfc5424_messages_carry_the_record_as_msg() {
    let message =
        rfc5424(&syslog_sink(), 1_700_000_000_123, "CloudTrail/a\"b]", "1_CloudTrail_us-east-1", r#"{"a":1}"#);
    assert_eq!(
        message,
        r#"<110>1 2023-11-14T22:13:20.123Z cairnhost cairn - CloudTrail [cairn@32473 logGroup="CloudTrail/a\"b\]" logStream="1_CloudTrail_us-east-1"] {"a":1}"#
    );
    let empty = SyslogSink { hostname: String::new(), ..syslog_sink() };
    assert!(rfc5424(&empty, 0, "g", "s", "m").starts_with("<110>1 1970-01-01T00:00:00.000Z - cairn - "));
}

#[test]
fn tcp_frames_count_octets() {
    assert_eq!(octet_counted("héllo"), b"6 h\xc3\xa9llo");
}

#[test]
fn sigv4_signs_like_the_aws_test_suite() {
    // aws-sig-v4-test-suite `get-vanilla`.
    let scope = sigv4::SigningScope {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
        service: "service",
    };
    let now: Timestamp = "2015-08-30T12:36:00Z".parse().unwrap();
    let headers = sigv4::sign(&scope, "GET", "/", &[("host", "example.amazonaws.com")], b"", now);
    let authorization = headers.iter().find(|(name, _)| name == "authorization").map(|(_, v)| v.as_str());
    assert_eq!(
        authorization,
        Some(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    );
}

#[test]
fn put_log_events_calls_stay_within_aws_limits() {
    let event = |n: usize| StreamedEvent { timestamp_ms: 0, message: "x".repeat(n) };
    let many = StreamBatch {
        account_id: String::new(),
        region: String::new(),
        stream: String::new(),
        events: (0..10_001).map(|_| event(1)).collect(),
    };
    assert_eq!(cloudwatch::put_chunks(&many).iter().map(|c| c.len()).collect::<Vec<_>>(), [10_000, 1]);
    let large = StreamBatch { events: (0..5).map(|_| event(256 * 1024 - 26)).collect(), ..many };
    assert_eq!(cloudwatch::put_chunks(&large).iter().map(|c| c.len()).collect::<Vec<_>>(), [4, 1]);
}
