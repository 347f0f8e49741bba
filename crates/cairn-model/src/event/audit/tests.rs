//! Every PutAuditEvents rule at its boundary, the error code and message of each failure, the stored record's
//! exact text, and that it reads back as an ActivityAuditLog [`EventRecord`].

use serde_json::{Value, json};

use super::*;
use crate::event::EventError;

const OWNER: &str = "123456789012";
const REGION: &str = "eu-west-1";
const CHANNEL: &str = "arn:aws:cloudtrail:eu-west-1:123456789012:channel/6a2b7c4e-1d3f-4e5a-8b9c-0d1e2f3a4b5c";
const EVENT_ID: &str = "0f1e2d3c-4b5a-4968-8776-655443322110";

fn context() -> IngestContext<'static> {
    IngestContext {
        owner_account_id: OWNER,
        region: REGION,
        channel_arn: CHANNEL,
        ingestion_time: ts("2024-05-06T07:08:09.750Z"),
        event_id: EVENT_ID,
    }
}

fn ts(s: &str) -> Timestamp {
    match s.parse() {
        Ok(t) => t,
        Err(e) => panic!("bad test timestamp {s}: {e}"),
    }
}

/// An event with every member of the schema.
fn full() -> Value {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "alice@example.com", "details": {"team": "ops", "level": 3}},
        "userAgent": "ticketing/2.1",
        "eventSource": "ticketing.example.com",
        "eventName": "CloseTicket",
        "eventTime": "2024-05-06T07:00:00Z",
        "UID": "req-0001",
        "requestParameters": {"ticket": "T-42", "force": true},
        "responseElements": {"status": "closed"},
        "errorCode": "Conflict",
        "errorMessage": "already closed",
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": OWNER,
        "additionalEventData": {"queue": "support"}
    })
}

/// The required members only.
fn minimal() -> Value {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "alice"},
        "eventSource": "ticketing.example.com",
        "eventName": "OpenTicket",
        "eventTime": "2024-05-06T07:00:00Z",
        "UID": "req-0002",
        "recipientAccountId": OWNER
    })
}

/// `full()` with `changes` applied at `path` (a member of eventData, or of `userIdentity` when it starts with
/// `userIdentity.`): `Some(value)` sets it, `None` removes it.
fn with(changes: &[(&str, Option<Value>)]) -> String {
    let mut data = full();
    for (path, change) in changes {
        let (object, key) = match path.strip_prefix("userIdentity.") {
            Some(key) => (&mut data["userIdentity"], key),
            None => (&mut data, *path),
        };
        let Some(object) = object.as_object_mut() else { panic!("{path}: parent is not an object") };
        match change {
            Some(value) => object.insert(key.to_owned(), value.clone()),
            None => object.remove(key),
        };
    }
    data.to_string()
}

fn check(event_data: &str) -> Result<AcceptedAuditEvent, AuditEventError> {
    validate(&AuditEventInput { id: "evt-1", event_data, event_data_checksum: None }, &context())
}

fn accepted(event_data: &str) -> AcceptedAuditEvent {
    match check(event_data) {
        Ok(event) => event,
        Err(e) => panic!("refused ({}): {e}\n{event_data}", e.error_code().as_str()),
    }
}

fn refused(event_data: &str) -> AuditEventError {
    match check(event_data) {
        Ok(event) => panic!("accepted: {}", event.record.text()),
        Err(e) => e,
    }
}

fn checksum_of(text: &str) -> String {
    BASE64.encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn stored_record_has_aws_members_in_order_around_the_unchanged_event_data() {
    let event_data = "  {\"version\": \"1.0\", \"userIdentity\": {\"type\": \"CustomUser\", \"principalId\": \"alice\"},\n \
                      \"eventSource\": \"ticketing.example.com\", \"eventName\": \"OpenTicket\", \"amount\": 1.50,\n \
                      \"eventTime\": \"2024-05-06T07:00:00Z\", \"UID\": \"req-0002\", \"recipientAccountId\": \"123456789012\"}\n";
    let event = accepted(event_data);
    let expected = format!(
        "{{\"eventVersion\":\"1.0\",\"eventCategory\":\"ActivityAuditLog\",\"eventType\":\"ActivityLog\",\
         \"eventID\":\"{EVENT_ID}\",\"eventTime\":\"2024-05-06T07:00:00Z\",\"awsRegion\":\"{REGION}\",\
         \"recipientAccountId\":\"{OWNER}\",\"metadata\":{{\"ingestionTime\":\"2024-05-06T07:08:09Z\",\
         \"channelARN\":\"{CHANNEL}\"}},\"eventData\":{}}}",
        event_data.trim()
    );
    assert_eq!(event.record.text(), expected);
    assert_eq!(event.id, "evt-1");
}

#[test]
fn stored_record_reads_back_as_an_activity_audit_log_event() {
    let event = accepted(&full().to_string());
    let reread = match EventRecord::parse(event.record.text().as_bytes()) {
        Ok(record) => record,
        Err(e) => panic!("stored record does not parse: {e}"),
    };
    assert_eq!(reread, event.record);
    assert_eq!(reread.event_source, "ticketing.example.com");
    assert_eq!(reread.event_name, "CloseTicket");
    assert_eq!(reread.event_time, ts("2024-05-06T07:00:00Z"));
    assert_eq!(reread.event_category, "ActivityAuditLog");
    assert_eq!(reread.event_type.as_deref(), Some("ActivityLog"));
    assert_eq!(reread.event_id, EVENT_ID);
    assert_eq!(reread.event_version, AUDIT_EVENT_VERSION);
    assert_eq!(reread.aws_region, REGION);
    assert_eq!(reread.recipient_account_id.as_deref(), Some(OWNER));
    assert_eq!(event.result_entry(), AuditEventResultEntry { id: "evt-1".to_owned(), event_id: EVENT_ID.to_owned() });
}

#[test]
fn minimal_event_and_unknown_members_are_accepted() {
    accepted(&minimal().to_string());
    let mut data = minimal();
    data["customField"] = json!({"kept": true});
    let event = accepted(&data.to_string());
    assert!(event.record.text().contains(r#""customField":{"kept":true}"#));
}

#[test]
fn missing_null_or_empty_required_members_are_field_not_found() {
    let required = [
        ("version", "eventData.version"),
        ("userIdentity", "eventData.userIdentity"),
        ("userIdentity.type", "eventData.userIdentity.type"),
        ("userIdentity.principalId", "eventData.userIdentity.principalId"),
        ("eventSource", "eventData.eventSource"),
        ("eventName", "eventData.eventName"),
        ("eventTime", "eventData.eventTime"),
        ("UID", "eventData.UID"),
        ("recipientAccountId", "eventData.recipientAccountId"),
    ];
    for (path, field) in required {
        for change in [None, Some(Value::Null)] {
            let error = refused(&with(&[(path, change.clone())]));
            assert_eq!(error.error_code(), AuditErrorCode::FieldNotFound, "{path} = {change:?}");
            assert_eq!(error.to_string(), format!("required field {field} was not found"));
        }
        if path != "userIdentity" {
            let error = refused(&with(&[(path, Some(json!("")))]));
            assert_eq!(error.error_code(), AuditErrorCode::FieldNotFound, "{path} empty");
            assert_eq!(error.to_string(), format!("required field {field} is empty"));
        }
    }
}

#[test]
fn optional_members_may_be_absent_or_null() {
    let optional = [
        "userIdentity.details",
        "userAgent",
        "requestParameters",
        "responseElements",
        "errorCode",
        "errorMessage",
        "sourceIPAddress",
        "additionalEventData",
    ];
    for path in optional {
        accepted(&with(&[(path, None)]));
        accepted(&with(&[(path, Some(Value::Null))]));
    }
}

#[test]
fn string_lengths_pass_at_the_limit_and_fail_one_over() {
    let limits = [
        ("version", "eventData.version", 256),
        ("userIdentity.type", "eventData.userIdentity.type", 128),
        ("userIdentity.principalId", "eventData.userIdentity.principalId", 1024),
        ("userAgent", "eventData.userAgent", 1024),
        ("eventSource", "eventData.eventSource", 1024),
        ("eventName", "eventData.eventName", 1024),
        ("UID", "eventData.UID", 1024),
        ("errorCode", "eventData.errorCode", 256),
        ("errorMessage", "eventData.errorMessage", 256),
    ];
    for (path, field, max) in limits {
        // Characters are counted, not bytes: 'é' is two bytes.
        accepted(&with(&[(path, Some(json!("é".repeat(max))))]));
        let error = refused(&with(&[(path, Some(json!("é".repeat(max + 1))))]));
        assert_eq!(error.error_code(), AuditErrorCode::FieldTooLong, "{path}");
        assert_eq!(
            error.to_string(),
            format!("field {field} is {} characters long, more than the limit of {max} characters", max + 1)
        );
    }
}

/// A JSON object whose compact text is exactly `size` bytes.
fn object_of_size(size: usize) -> Value {
    let overhead = r#"{"k":""}"#.len();
    json!({"k": "x".repeat(size - overhead)})
}

#[test]
fn json_member_sizes_pass_at_the_limit_and_fail_one_over() {
    let limits = [
        ("requestParameters", MAX_PAYLOAD_JSON_BYTES),
        ("responseElements", MAX_PAYLOAD_JSON_BYTES),
        ("additionalEventData", MAX_ADDITIONAL_DATA_JSON_BYTES),
    ];
    assert_eq!(MAX_PAYLOAD_JSON_BYTES, 102_400);
    assert_eq!(MAX_ADDITIONAL_DATA_JSON_BYTES, 28_672);
    for (path, max) in limits {
        let at_limit = object_of_size(max);
        assert_eq!(at_limit.to_string().len(), max);
        accepted(&with(&[(path, Some(at_limit))]));
        let error = refused(&with(&[(path, Some(object_of_size(max + 1)))]));
        assert_eq!(error.error_code(), AuditErrorCode::FieldTooLong, "{path}");
        assert_eq!(
            error.to_string(),
            format!("field eventData.{path} is {} bytes long, more than the limit of {max} bytes", max + 1)
        );
    }
}

#[test]
fn json_member_size_ignores_the_senders_whitespace() {
    let max = MAX_ADDITIONAL_DATA_JSON_BYTES;
    let compact = object_of_size(max).to_string();
    let spaced = compact.replacen("{\"k\":", "{ \"k\" :   ", 1);
    let mut text = full().to_string();
    text =
        text.replacen(r#""additionalEventData":{"queue":"support"}"#, &format!("\"additionalEventData\":{spaced}"), 1);
    assert!(text.contains(&spaced));
    accepted(&text);
}

#[test]
fn stored_record_is_at_most_256_kb() {
    // userIdentity.details has no limit of its own; the record as a whole has CloudTrail's.
    let probe = accepted(&with(&[("userIdentity.details", Some(json!({"pad": ""})))]));
    let room = MAX_EVENT_BYTES - probe.record.text().len();
    let fits = accepted(&with(&[("userIdentity.details", Some(json!({"pad": "x".repeat(room)})))]));
    assert_eq!(fits.record.text().len(), MAX_EVENT_BYTES);
    let error = refused(&with(&[("userIdentity.details", Some(json!({"pad": "x".repeat(room + 1)})))]));
    assert_eq!(error.error_code(), AuditErrorCode::FieldTooLong);
    assert_eq!(
        error.to_string(),
        format!(
            "the stored event would be {} bytes, more than the limit of {MAX_EVENT_BYTES} bytes; shorten eventData",
            MAX_EVENT_BYTES + 1
        )
    );
}

#[test]
fn event_time_is_yyyy_mm_dd_t_hh_mm_ss_in_utc() {
    for (given, stored) in [
        ("2024-05-06T07:00:00Z", "2024-05-06T07:00:00Z"),
        ("2024-05-06T07:00:00", "2024-05-06T07:00:00Z"),
        ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
    ] {
        let event = accepted(&with(&[("eventTime", Some(json!(given)))]));
        assert!(event.record.text().contains(&format!(",\"eventTime\":\"{stored}\",")), "{given}");
        assert!(event.record.text().contains(&format!("\"eventTime\":\"{given}\"")), "eventData keeps {given}");
    }
    for bad in [
        "2024-05-06T07:00:00.123Z",
        "2024-05-06 07:00:00Z",
        "2024-05-06T07:00:00+01:00",
        "2024-05-06t07:00:00z",
        "2024-5-6T7:00:00Z",
        "2024-13-06T07:00:00Z",
        "2023-02-29T07:00:00Z",
        "2024-05-06",
        "1714978800",
    ] {
        let error = refused(&with(&[("eventTime", Some(json!(bad)))]));
        assert_eq!(error.error_code(), AuditErrorCode::InvalidData, "{bad}");
        assert_eq!(
            error.to_string(),
            format!("field eventData.eventTime {bad:?} is not a UTC time in the format yyyy-MM-ddTHH:mm:ssZ")
        );
    }
    let error = refused(&with(&[("eventTime", Some(json!(1714978800)))]));
    assert_eq!(error.to_string(), "field eventData.eventTime must be a string, found number");
}

#[test]
fn recipient_must_be_the_channel_owner() {
    let error = refused(&with(&[("recipientAccountId", Some(json!("210987654321")))]));
    assert_eq!(error.error_code(), AuditErrorCode::InvalidRecipient);
    assert_eq!(
        error.to_string(),
        "field eventData.recipientAccountId \"210987654321\" is not the account that owns the channel (123456789012)"
    );
}

#[test]
fn source_ip_address_is_ipv4_or_ipv6() {
    for good in ["203.0.113.7", "0.0.0.0", "2001:db8::1", "::1", "::ffff:192.0.2.1"] {
        accepted(&with(&[("sourceIPAddress", Some(json!(good)))]));
    }
    for bad in ["", "example.com", "256.1.1.1", "203.0.113.7:443", "[2001:db8::1]", "AWS Internal"] {
        let error = refused(&with(&[("sourceIPAddress", Some(json!(bad)))]));
        assert_eq!(error.error_code(), AuditErrorCode::InvalidData, "{bad:?}");
        assert_eq!(
            error.to_string(),
            format!("field eventData.sourceIPAddress {bad:?} is not an IPv4 or IPv6 address")
        );
    }
}

#[test]
fn event_source_in_the_aws_namespace_is_invalid_event_source() {
    for reserved in ["s3.amazonaws.com", "Custom.AmazonAWS.COM"] {
        let error = refused(&with(&[("eventSource", Some(json!(reserved)))]));
        assert_eq!(error.error_code(), AuditErrorCode::InvalidEventSource, "{reserved}");
        assert_eq!(
            error.to_string(),
            format!(
                "field eventData.eventSource {reserved:?} is in the amazonaws.com namespace, which is reserved for AWS"
            )
        );
    }
    for allowed in ["amazonaws.com", "amazonaws.com.example.org", "my-app"] {
        accepted(&with(&[("eventSource", Some(json!(allowed)))]));
    }
}

#[test]
fn event_data_that_is_not_a_json_object_is_invalid_data() {
    for (text, found) in
        [("[1]", "array"), ("\"text\"", "string"), ("42", "number"), ("null", "null"), ("true", "boolean")]
    {
        let error = refused(text);
        assert_eq!(error.error_code(), AuditErrorCode::InvalidData, "{text}");
        assert_eq!(error.to_string(), format!("field eventData must be a JSON object, found {found}"));
    }
    for text in ["", "{", "{\"version\":\"1.0\",}", "{} {}", "\u{feff}{}"] {
        let error = refused(text);
        assert_eq!(error.error_code(), AuditErrorCode::InvalidData, "{text:?}");
        assert!(error.to_string().starts_with("eventData is not valid JSON: "), "{error}");
    }
}

#[test]
fn members_of_the_wrong_type_are_invalid_data() {
    let cases = [
        ("version", json!(1), "eventData.version", "a string", "number"),
        ("userIdentity", json!("alice"), "eventData.userIdentity", "a JSON object", "string"),
        ("userIdentity.principalId", json!(["a"]), "eventData.userIdentity.principalId", "a string", "array"),
        ("userIdentity.details", json!("x"), "eventData.userIdentity.details", "a JSON object", "string"),
        ("eventSource", json!(true), "eventData.eventSource", "a string", "boolean"),
        ("requestParameters", json!(["a"]), "eventData.requestParameters", "a JSON object", "array"),
        ("responseElements", json!("ok"), "eventData.responseElements", "a JSON object", "string"),
        ("additionalEventData", json!(7), "eventData.additionalEventData", "a JSON object", "number"),
        ("sourceIPAddress", json!(1), "eventData.sourceIPAddress", "a string", "number"),
        ("recipientAccountId", json!(123456789012_u64), "eventData.recipientAccountId", "a string", "number"),
    ];
    for (path, value, field, expected, found) in cases {
        let error = refused(&with(&[(path, Some(value))]));
        assert_eq!(error.error_code(), AuditErrorCode::InvalidData, "{path}");
        assert_eq!(error.to_string(), format!("field {field} must be {expected}, found {found}"));
    }
}

#[test]
fn a_repeated_event_source_or_name_in_event_data_is_invalid_data() {
    let text = with(&[]).replacen('{', "{\"eventName\":\"Other\",", 1);
    let error = refused(&text);
    assert_eq!(error.error_code(), AuditErrorCode::InvalidData);
    assert_eq!(error.to_string(), "eventData is not accepted: field eventData.eventName appears more than once");
}

#[test]
fn checksum_is_base64_of_sha256_of_the_event_data_bytes() {
    // printf %s '{"a":1}' | openssl dgst -binary -sha256 | base64
    assert_eq!(verify_checksum(r#"{"a":1}"#, "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI="), Ok(()));
    assert_eq!(verify_checksum(r#"{"a":1}"#, "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=\n"), Ok(()));
    for wrong in ["AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GJ=", "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI", ""] {
        let error = verify_checksum(r#"{"a":1}"#, wrong).err();
        assert_eq!(error.as_ref().map(AuditEventError::error_code), Some(AuditErrorCode::InvalidChecksum), "{wrong}");
    }
    // The bytes as sent count: the same JSON with a space has another digest.
    assert!(verify_checksum(r#"{"a": 1}"#, "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=").is_err());
}

#[test]
fn validate_checks_the_checksum_when_given_and_before_the_data() {
    let text = full().to_string();
    let good = checksum_of(&text);
    let input = AuditEventInput { id: "evt-1", event_data: &text, event_data_checksum: Some(&good) };
    assert!(validate(&input, &context()).is_ok());

    let other = checksum_of("{}");
    let input = AuditEventInput { id: "evt-1", event_data: &text, event_data_checksum: Some(&other) };
    let error = validate(&input, &context()).err();
    assert_eq!(error.as_ref().map(AuditEventError::error_code), Some(AuditErrorCode::InvalidChecksum));
    assert_eq!(
        error.map(|e| e.to_string()),
        Some(format!("eventDataChecksum {other:?} does not match the base64-encoded SHA-256 digest of eventData"))
    );

    // A matching checksum of data that breaks a field rule: the field rule answers.
    let input = AuditEventInput {
        id: "evt-1",
        event_data: r#"{"a":1}"#,
        event_data_checksum: Some(&checksum_of(r#"{"a":1}"#)),
    };
    let error = validate(&input, &context()).err();
    assert_eq!(error.map(|e| e.error_code()), Some(AuditErrorCode::FieldNotFound));
}

#[test]
fn id_is_1_to_128_letters_digits_dashes_and_underscores() {
    assert_eq!(validate_id("a"), Ok(()));
    assert_eq!(validate_id("Order_42-b"), Ok(()));
    assert_eq!(validate_id(&"x".repeat(128)), Ok(()));
    let long = validate_id(&"x".repeat(129)).err();
    assert_eq!(long.as_ref().map(AuditEventError::error_code), Some(AuditErrorCode::FieldTooLong));
    assert_eq!(
        long.map(|e| e.to_string()),
        Some("field id is 129 characters long, more than the limit of 128 characters".to_owned())
    );
    let empty = validate_id("").err();
    assert_eq!(
        empty.map(|e| (e.error_code(), e.to_string())),
        Some((AuditErrorCode::FieldNotFound, "required field id was not found".to_owned()))
    );
    for bad in ["a b", "a.b", "é", "a/b", "a\n"] {
        let error = validate_id(bad).err();
        assert_eq!(error.as_ref().map(AuditEventError::error_code), Some(AuditErrorCode::InvalidData), "{bad:?}");
        assert_eq!(
            error.map(|e| e.to_string()),
            Some(format!("id {bad:?} may contain only letters, digits, '-' and '_'"))
        );
    }
    let text = full().to_string();
    let input = AuditEventInput { id: "not ok", event_data: &text, event_data_checksum: None };
    assert_eq!(validate(&input, &context()).err().map(|e| e.error_code()), Some(AuditErrorCode::InvalidData));
}

#[test]
fn ingestion_time_is_written_to_whole_seconds() {
    let event = accepted(&minimal().to_string());
    assert!(event.record.text().contains(r#""metadata":{"ingestionTime":"2024-05-06T07:08:09Z","channelARN":"#));
}

fn inputs<'a>(ids: &'a [String], data: &'a str) -> Vec<AuditEventInput<'a>> {
    ids.iter().map(|id| AuditEventInput { id, event_data: data, event_data_checksum: None }).collect()
}

#[test]
fn a_call_has_1_to_100_events() {
    assert_eq!(check_call(&[]), Err(CallError::NoEvents));
    let ids: Vec<String> = (0..101).map(|i| format!("e{i}")).collect();
    assert_eq!(check_call(&inputs(&ids[..100], "{}")), Ok(()));
    let error = check_call(&inputs(&ids, "{}"));
    assert_eq!(error, Err(CallError::TooManyEvents { count: 101, max: 100 }));
    assert_eq!(error.as_ref().err().map(CallError::error_code), Some("ValidationException"));
    assert_eq!(
        error.err().map(|e| e.to_string()),
        Some("auditEvents has 101 events, more than the limit of 100".to_owned())
    );
}

#[test]
fn a_call_carries_at_most_1_mb() {
    assert_eq!(MAX_CALL_BYTES, 1_048_576);
    let ids: Vec<String> = (0..4).map(|i| format!("e{i}")).collect();
    let checksum = "c".repeat(44);
    // Four events of ids (2 bytes), checksums (44) and data summing to exactly the limit.
    let data = "d".repeat(MAX_CALL_BYTES / 4 - 2 - 44);
    let events: Vec<_> =
        ids.iter().map(|id| AuditEventInput { id, event_data: &data, event_data_checksum: Some(&checksum) }).collect();
    assert_eq!(check_call(&events), Ok(()));
    let one_more = format!("{data}d");
    let mut over = events.clone();
    over[3].event_data = &one_more;
    let error = check_call(&over);
    assert_eq!(error, Err(CallError::TooLarge { size: MAX_CALL_BYTES + 1, max: MAX_CALL_BYTES }));
    assert_eq!(error.err().map(|e| e.error_code()), Some("ValidationException"));
}

#[test]
fn a_repeated_id_is_duplicated_audit_event_id_naming_it() {
    let ids: Vec<String> = ["a", "b", "c", "b", "a"].map(str::to_owned).to_vec();
    let error = check_call(&inputs(&ids, "{}"));
    assert_eq!(error, Err(CallError::DuplicatedAuditEventId { id: "b".to_owned() }));
    assert_eq!(error.as_ref().err().map(CallError::error_code), Some("DuplicatedAuditEventId"));
    assert_eq!(error.err().map(|e| e.to_string()), Some("Duplicated audit event id: b".to_owned()));
}

#[test]
fn result_entries_serialize_with_the_wire_names() {
    let error = refused(&with(&[("eventName", None)]));
    let failed = error.result_entry("evt-9");
    let ok = AuditEventResultEntry { id: "evt-1".to_owned(), event_id: EVENT_ID.to_owned() };
    let output = PutAuditEventsOutput { successful: vec![ok], failed: vec![failed] };
    assert_eq!(
        serde_json::to_value(&output).ok(),
        Some(json!({
            "successful": [{"id": "evt-1", "eventID": EVENT_ID}],
            "failed": [{"id": "evt-9", "errorCode": "FieldNotFound", "errorMessage": "required field eventData.eventName was not found"}]
        }))
    );
    assert_eq!(
        serde_json::to_string(&PutAuditEventsOutput::default()).ok().as_deref(),
        Some(r#"{"successful":[],"failed":[]}"#)
    );
    let all = [
        AuditErrorCode::FieldTooLong,
        AuditErrorCode::FieldNotFound,
        AuditErrorCode::InvalidChecksum,
        AuditErrorCode::InvalidData,
        AuditErrorCode::InvalidRecipient,
        AuditErrorCode::InvalidEventSource,
        AuditErrorCode::AccountNotSubscribed,
        AuditErrorCode::Throttling,
        AuditErrorCode::InternalFailure,
    ];
    for code in all {
        assert_eq!(serde_json::to_value(code).ok(), Some(json!(code.as_str())));
    }
}

#[test]
fn record_parse_takes_source_and_name_from_event_data_only_when_the_top_level_lacks_them() {
    let parse = |text: &str| EventRecord::parse(text.as_bytes());
    let base = r#""eventVersion":"1.0","eventType":"ActivityLog","eventID":"e","eventTime":"2024-05-06T07:00:00Z","awsRegion":"eu-west-1""#;
    let record = parse(&format!(r#"{{{base},"eventData":{{"eventSource":"app","eventName":"Do"}}}}"#));
    let record = match record {
        Ok(record) => record,
        Err(e) => panic!("{e}"),
    };
    assert_eq!((record.event_source.as_str(), record.event_name.as_str()), ("app", "Do"));
    assert_eq!(record.event_category, "ActivityAuditLog", "eventType ActivityLog without eventCategory");
    let top = parse(&format!(
        r#"{{{base},"eventSource":"top","eventName":"Top","eventData":{{"eventSource":"app","eventName":"Do"}}}}"#
    ));
    assert_eq!(
        top.map(|r| (r.event_source.clone(), r.event_name.clone())).ok(),
        Some(("top".to_owned(), "Top".to_owned()))
    );
    let missing = parse(&format!(r#"{{{base},"eventData":{{"eventName":"Do"}}}}"#));
    assert_eq!(missing.err(), Some(EventError::MissingField { field: "eventSource" }));
    let wrong = parse(&format!(r#"{{{base},"eventData":{{"eventSource":7,"eventName":"Do"}}}}"#));
    assert_eq!(
        wrong.err(),
        Some(EventError::WrongType { field: "eventData.eventSource", expected: "a string", found: "number" })
    );
}
