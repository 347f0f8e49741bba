//! Record parsing rules and errors, `NewEvent` snapshots and round trips, and the LookupEvents derivations.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::identity::{Principal, PrincipalType};

const ACCT: &str = "123456789012";

fn ts(s: &str) -> Timestamp {
    match s.parse() {
        Ok(t) => t,
        Err(e) => panic!("bad test timestamp {s}: {e}"),
    }
}

fn base() -> Value {
    json!({
        "eventVersion": "1.11",
        "eventTime": "2024-07-31T13:06:24Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "eventID": "8d6c1e0a-0000-4000-8000-000000000001",
    })
}

/// The base record with `changes` applied: `Some(value)` sets a key, `None` removes it.
fn with(changes: &[(&str, Option<Value>)]) -> String {
    let mut value = base();
    if let Some(object) = value.as_object_mut() {
        for (key, change) in changes {
            match change {
                Some(v) => object.insert((*key).to_owned(), v.clone()),
                None => object.remove(*key),
            };
        }
    }
    value.to_string()
}

fn parse(text: &str) -> EventRecord {
    match EventRecord::parse(text.as_bytes()) {
        Ok(record) => record,
        Err(e) => panic!("rejected {text}: {e}"),
    }
}

fn reject(text: &str) -> EventError {
    match EventRecord::parse(text.as_bytes()) {
        Ok(record) => panic!("accepted {text}: {record:?}"),
        Err(e) => e,
    }
}

#[test]
fn rejections_name_the_field_and_cause() {
    let missing = |field: &'static str| EventError::MissingField { field };
    let wrong = |field: &'static str, expected: &'static str, found: &'static str| EventError::WrongType {
        field,
        expected,
        found,
    };
    let rows: Vec<(String, EventError)> = vec![
        ("[1,2]".to_owned(), EventError::NotAnObject { found: "array" }),
        ("\"x\"".to_owned(), EventError::NotAnObject { found: "string" }),
        ("null".to_owned(), EventError::NotAnObject { found: "null" }),
        (with(&[("eventVersion", None)]), missing("eventVersion")),
        (with(&[("eventTime", None)]), missing("eventTime")),
        (with(&[("eventSource", None)]), missing("eventSource")),
        (with(&[("eventName", None)]), missing("eventName")),
        (with(&[("eventID", None)]), missing("eventID")),
        (with(&[("awsRegion", None)]), missing("awsRegion")),
        (with(&[("eventTime", Some(json!(null)))]), wrong("eventTime", "a string", "null")),
        (with(&[("eventTime", Some(json!(1_690_000_000)))]), wrong("eventTime", "a string", "number")),
        (with(&[("eventName", Some(json!(["a"])))]), wrong("eventName", "a string", "array")),
        (
            with(&[("eventID", Some(json!(""))), ("eventName", Some(json!("x")))]),
            EventError::EmptyField { field: "eventID" },
        ),
        (with(&[("readOnly", Some(json!(1)))]), wrong("readOnly", "a boolean", "number")),
        (
            with(&[("readOnly", Some(json!("yes")))]),
            EventError::InvalidValue { field: "readOnly", value: "yes".to_owned() },
        ),
        (with(&[("errorCode", Some(json!({})))]), wrong("errorCode", "a string", "object")),
        (with(&[("userIdentity", Some(json!("me")))]), wrong("userIdentity", "an object", "string")),
        (with(&[("userIdentity", Some(json!({"arn": 5})))]), wrong("userIdentity.arn", "a string", "number")),
        (
            with(&[("userIdentity", Some(json!({"sessionContext": {"sessionIssuer": []}})))]),
            wrong("userIdentity.sessionContext.sessionIssuer", "an object", "array"),
        ),
        (with(&[("resources", Some(json!({})))]), wrong("resources", "an array", "object")),
        (with(&[("resources", Some(json!(["arn:aws:s3:::b"])))]), wrong("resources[]", "an object", "string")),
        (with(&[("resources", Some(json!([{"ARN": true}])))]), wrong("resources[].ARN", "a string", "boolean")),
        (
            with(&[("eventTime", Some(json!("yesterday")))]),
            EventError::InvalidEventTime { value: "yesterday".to_owned() },
        ),
        (
            with(&[("eventTime", Some(json!("2024-07-31")))]),
            EventError::InvalidEventTime { value: "2024-07-31".to_owned() },
        ),
        (
            r#"{"eventVersion":"1.11","eventID":"a","eventID":"b"}"#.to_owned(),
            EventError::DuplicateField { field: "eventID" },
        ),
        (
            with(&[]).replacen('{', r#"{"userIdentity":{"arn":"a","arn":"b"},"#, 1),
            EventError::DuplicateField { field: "userIdentity.arn" },
        ),
    ];
    for (text, expected) in rows {
        assert_eq!(reject(&text), expected, "{text}");
    }
    assert!(matches!(reject("{\"eventVersion\":"), EventError::NotJson { .. }));
    assert!(matches!(reject(""), EventError::NotJson { .. }));
    assert!(matches!(reject(&format!("{} x", with(&[]))), EventError::NotJson { .. }));
    assert_eq!(EventRecord::parse(b"{\"a\":\"\xff\"}"), Err(EventError::NotUtf8));
    let big = with(&[("requestParameters", Some(json!({"x": "y".repeat(MAX_EVENT_BYTES)})))]);
    assert_eq!(reject(&big), EventError::TooLarge { size: big.len(), max: MAX_EVENT_BYTES });
    assert_eq!(missing("eventTime").to_string(), "missing field eventTime");
    assert_eq!(wrong("readOnly", "a boolean", "number").to_string(), "field readOnly must be a boolean, found number");
}

#[test]
fn deep_nesting_and_mangled_input_are_rejected_without_panicking() {
    // Values cairn does not read are skipped without recursion, so deep nesting cannot overflow the stack.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep = with(&[]).replacen('{', &format!("{{\"requestParameters\":{nested},"), 1);
    assert_eq!(parse(&deep).text(), deep);
    let deep = with(&[("eventName", None)]).replacen('{', &format!("{{\"eventName\":{nested},"), 1);
    assert_eq!(reject(&deep), EventError::WrongType { field: "eventName", expected: "a string", found: "array" });
    let deep = with(&[]).replacen('{', &format!("{{\"userIdentity\":{{\"sessionContext\":{nested}}},"), 1);
    assert!(matches!(reject(&deep), EventError::WrongType { field: "userIdentity.sessionContext", .. }));
    let text = with(&[
        ("userIdentity", Some(json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/é", "userName": "é"}))),
        ("resources", Some(json!([{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]))),
    ]);
    for end in 0..text.len() {
        if let Some(prefix) = text.get(..end) {
            assert!(EventRecord::parse(prefix.as_bytes()).is_err(), "{prefix}");
        }
    }
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        for replacement in [b'"', b'{', b']', b'\\', 0xC3, b'0'] {
            let mut mangled = bytes.to_vec();
            mangled[i] = replacement;
            let _ = EventRecord::parse(&mangled);
        }
    }
}

#[test]
fn tolerated_variations() {
    let record = parse(&with(&[
        ("readOnly", Some(json!("True"))),
        ("managementEvent", Some(json!("false"))),
        ("sessionCredentialFromConsole", Some(json!("true"))),
        ("errorCode", Some(json!(null))),
        ("userAgent", Some(json!(null))),
        ("resources", Some(json!(null))),
        ("userIdentity", Some(json!(null))),
        ("vpcEndpointId", Some(json!("vpce-1"))),
    ]));
    assert_eq!(record.read_only, Some(true));
    assert_eq!(record.management_event, Some(false));
    assert_eq!(record.session_credential_from_console, Some(true));
    assert_eq!(record.error_code, None);
    assert_eq!(record.vpc_endpoint_id.as_deref(), Some("vpce-1"));
    assert!(record.resources.is_empty());
    assert_eq!(record.user_identity, UserIdentity::default());
    assert_eq!(
        parse(&with(&[("sessionCredentialFromConsole", Some(json!(true)))])).session_credential_from_console,
        Some(true)
    );

    // Escaped strings are unescaped; the kept text is not touched; surrounding whitespace is dropped.
    let text = with(&[("eventName", Some(json!("Put\"Object\u{e9}")))]).replace('\u{e9}', "\\u00e9");
    let record = parse(&format!(" \n{text}\r\n"));
    assert_eq!(record.event_name, "Put\"Object\u{e9}");
    assert_eq!(record.text(), text);

    let times = [
        ("2024-07-31T13:06:24Z", "2024-07-31T13:06:24Z"),
        ("2024-07-31T13:06:24.250Z", "2024-07-31T13:06:24.25Z"),
        ("2024-07-31T15:06:24+02:00", "2024-07-31T13:06:24Z"),
        ("2024-07-31 13:06:24.000000000", "2024-07-31T13:06:24Z"),
        ("2024-07-31 13:06:24", "2024-07-31T13:06:24Z"),
        ("2024-07-31T13:06:24", "2024-07-31T13:06:24Z"),
    ];
    for (input, expected) in times {
        assert_eq!(parse(&with(&[("eventTime", Some(json!(input)))])).event_time, ts(expected), "{input}");
    }
}

#[test]
fn event_category_defaults_for_old_records() {
    let category = |changes: &[(&str, Option<Value>)]| parse(&with(changes)).event_category.clone();
    assert_eq!(category(&[]), "Management");
    assert_eq!(category(&[("managementEvent", Some(json!(false)))]), "Data");
    assert_eq!(category(&[("eventType", Some(json!("AwsVpceEvent")))]), "NetworkActivity");
    assert_eq!(category(&[("eventCategory", Some(json!("Data"))), ("managementEvent", Some(json!(true)))]), "Data");
}

#[test]
fn insights_records_take_source_and_name_from_insight_details() {
    let record = parse(&with(&[
        ("eventSource", None),
        ("eventName", None),
        ("eventType", Some(json!("AwsCloudTrailInsight"))),
        (
            "insightDetails",
            Some(json!({"state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances"})),
        ),
    ]));
    assert_eq!((record.event_source.as_str(), record.event_name.as_str()), ("ec2.amazonaws.com", "RunInstances"));
    assert_eq!(record.event_category, "Insight");
    assert_eq!(record.username(), None);
}

fn iam_user() -> Principal {
    Principal {
        principal_type: PrincipalType::IAMUser,
        account_id: ACCT.to_owned(),
        arn: format!("arn:aws:iam::{ACCT}:user/Alice"),
        principal_id: "AIDAJ45Q7YFFAREXAMPLE".to_owned(),
        user_name: Some("Alice".to_owned()),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
    }
}

fn new_event(principal: Principal, name: &str) -> NewEvent {
    let mut event = NewEvent::new(
        principal,
        ts("2024-07-31T13:06:24.75Z"),
        "cloudtrail.amazonaws.com",
        name,
        "us-east-1",
        "192.0.2.1",
    );
    event.request_id = Some("9d478fc1-4f10-490f-a26b-000000000001".to_owned());
    event.event_id = "eae87c48-d421-4626-94f5-000000000002".to_owned();
    event
}

/// The fields [`EventRecord::parse`] must read back from `event.to_json()`.
fn expected_fields(event: &NewEvent) -> EventFields {
    let p = &event.principal;
    EventFields {
        event_version: "1.11".to_owned(),
        event_id: event.event_id.clone(),
        event_time: Timestamp::from_second(event.event_time.as_second()).unwrap_or(event.event_time),
        event_source: event.event_source.clone(),
        event_name: event.event_name.clone(),
        aws_region: event.aws_region.clone(),
        event_type: Some("AwsApiCall".to_owned()),
        event_category: "Management".to_owned(),
        read_only: Some(event.read_only),
        management_event: Some(true),
        error_code: event.error_code.clone(),
        user_agent: event.user_agent.clone(),
        insight_type: None,
        insight_trail_arn: None,
        recipient_account_id: Some(event.recipient_account_id.clone()),
        vpc_endpoint_id: None,
        session_credential_from_console: None,
        user_identity: UserIdentity {
            identity_type: Some(p.principal_type.as_str().to_owned()),
            principal_id: Some(p.principal_id.clone()),
            arn: Some(p.arn.clone()),
            account_id: Some(p.account_id.clone()),
            access_key_id: Some(p.access_key_id.clone()),
            user_name: p.user_name.clone(),
            invoked_by: None,
            session_issuer_user_name: None,
        },
        resources: event
            .resources
            .iter()
            .map(|r| Resource {
                resource_type: Some(r.resource_type.clone()),
                arn: Some(r.arn.clone()),
                account_id: r.account_id.clone(),
            })
            .collect(),
    }
}

fn assert_round_trip(event: &NewEvent) {
    match event.to_record() {
        Ok(record) => {
            assert_eq!(record.fields(), &expected_fields(event));
            assert_eq!(record.text(), event.to_json());
        }
        Err(e) => panic!("to_json output rejected: {e}"),
    }
}

#[test]
fn new_event_root_success_snapshot() {
    let mut event = new_event(Principal::root(ACCT, "ASIA4MI2KBUM7XH2IUSC"), "CreateTrail");
    event.user_agent = Some("aws-cli/2.15.34".to_owned());
    event.request_parameters = Some(json!({"name": "t1", "s3BucketName": "b"}));
    event.response_elements = Some(json!({"name": "t1"}));
    event.resources = vec![NewResource {
        account_id: Some(ACCT.to_owned()),
        resource_type: "AWS::CloudTrail::Trail".to_owned(),
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t1"),
    }];
    event.tls_details = Some(TlsDetails {
        tls_version: "TLSv1.3".to_owned(),
        cipher_suite: "TLS_AES_128_GCM_SHA256".to_owned(),
        client_provided_host_header: "cloudtrail.us-east-1.amazonaws.com".to_owned(),
    });
    let expected = concat!(
        r#"{"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":"123456789012","#,
        r#""arn":"arn:aws:iam::123456789012:root","accountId":"123456789012","accessKeyId":"ASIA4MI2KBUM7XH2IUSC"},"#,
        r#""eventTime":"2024-07-31T13:06:24Z","eventSource":"cloudtrail.amazonaws.com","eventName":"CreateTrail","#,
        r#""awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2.15.34","#,
        r#""requestParameters":{"name":"t1","s3BucketName":"b"},"responseElements":{"name":"t1"},"#,
        r#""requestID":"9d478fc1-4f10-490f-a26b-000000000001","eventID":"eae87c48-d421-4626-94f5-000000000002","#,
        r#""readOnly":false,"resources":[{"accountId":"123456789012","type":"AWS::CloudTrail::Trail","#,
        r#""ARN":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t1"}],"eventType":"AwsApiCall","#,
        r#""managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","#,
        r#""tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","#,
        r#""clientProvidedHostHeader":"cloudtrail.us-east-1.amazonaws.com"}}"#,
    );
    assert_eq!(event.to_json(), expected);
    assert_round_trip(&event);
    let record = parse(expected);
    assert_eq!(record.username(), Some("root"));
    assert_eq!(
        record.lookup_attribute_values(LookupAttributeKey::AccessKeyId).collect::<Vec<_>>(),
        ["ASIA4MI2KBUM7XH2IUSC"]
    );
}

#[test]
fn new_event_iam_user_read_only_error_snapshot() {
    let mut event = new_event(iam_user(), "GetTrailStatus");
    event.read_only = true;
    event.error_code = Some("TrailNotFoundException".to_owned());
    event.error_message = Some("Unknown trail: t2 for the user: 123456789012".to_owned());
    event.request_parameters = Some(json!({"name": "t2"}));
    let expected = concat!(
        r#"{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDAJ45Q7YFFAREXAMPLE","#,
        r#""arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","#,
        r#""accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},"eventTime":"2024-07-31T13:06:24Z","#,
        r#""eventSource":"cloudtrail.amazonaws.com","eventName":"GetTrailStatus","awsRegion":"us-east-1","#,
        r#""sourceIPAddress":"192.0.2.1","errorCode":"TrailNotFoundException","#,
        r#""errorMessage":"Unknown trail: t2 for the user: 123456789012","requestParameters":{"name":"t2"},"#,
        r#""responseElements":null,"requestID":"9d478fc1-4f10-490f-a26b-000000000001","#,
        r#""eventID":"eae87c48-d421-4626-94f5-000000000002","readOnly":true,"eventType":"AwsApiCall","#,
        r#""managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}"#,
    );
    assert_eq!(event.to_json(), expected);
    assert_round_trip(&event);

    // Nothing to show on either side: both keys are still written, as null.
    let mut bare = new_event(iam_user(), "DescribeTrails");
    bare.read_only = true;
    let json = bare.to_json();
    assert!(json.contains(r#""sourceIPAddress":"192.0.2.1","requestParameters":null,"responseElements":null,"#));
    assert_round_trip(&bare);
}

#[test]
fn new_event_defaults() {
    let event = NewEvent::new(iam_user(), ts("2024-07-31T13:06:24.9Z"), "s", "n", "r", "ip");
    assert_eq!(event.event_time, ts("2024-07-31T13:06:24Z"));
    assert_eq!(event.recipient_account_id, ACCT);
    let request_id = event.request_id.clone().unwrap_or_default();
    assert_ne!(event.event_id, request_id);
    for id in [&event.event_id, &request_id] {
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes().get(14), Some(&b'4'), "uuid v4: {id}");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)), "{id}");
    }
}

#[test]
fn new_event_truncates_short_fields_at_a_char_boundary() {
    let mut event = new_event(iam_user(), "CreateTrail");
    let agent = format!("a{}", "é".repeat(1024)); // 2,049 bytes; byte 1,024 is inside an `é`
    event.user_agent = Some(agent.clone());
    event.error_code = Some("E".repeat(3000));
    event.error_message = Some("ü".repeat(600));
    event.request_id = Some("r".repeat(1500));
    let record = match event.to_record() {
        Ok(record) => record,
        Err(e) => panic!("{e}"),
    };
    let value: Value = match serde_json::from_str(record.text()) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    let field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned).unwrap_or_default();
    assert_eq!(field("userAgent"), format!("a{}", "é".repeat(511)));
    assert_eq!(field("userAgent").len(), 1023);
    assert_eq!(field("errorCode"), "E".repeat(1024));
    assert_eq!(field("errorMessage"), "ü".repeat(512));
    assert_eq!(field("requestID"), "r".repeat(1024));
    assert_eq!(record.error_code.as_deref(), Some("E".repeat(1024).as_str()));
}

#[test]
fn new_event_oversize_payloads_become_null() {
    // `{"b":"…"}` serialises to 8 bytes plus the string.
    let sized = |n: usize| Some(json!({"b": "x".repeat(n)}));
    let mut event = new_event(iam_user(), "PutEventSelectors");
    event.request_parameters = sized(MAX_PAYLOAD_BYTES - 8);
    event.response_elements = sized(MAX_PAYLOAD_BYTES - 7);
    let json = event.to_json();
    assert!(json.contains(r#""requestParameters":{"b":"xxx"#));
    assert!(json.contains(r#""responseElements":null,"#));
    assert_round_trip(&event);

    // Both payloads just fit, but with many resources the record would pass 256 KB: responseElements goes first.
    event.response_elements = sized(MAX_PAYLOAD_BYTES - 8);
    event.resources = (0..1000)
        .map(|i| NewResource {
            account_id: Some(ACCT.to_owned()),
            resource_type: "AWS::S3::Bucket".to_owned(),
            arn: format!("arn:aws:s3:::bucket-with-a-long-name-{i:05}"),
        })
        .collect();
    let json = event.to_json();
    assert!(json.len() <= MAX_EVENT_BYTES);
    assert!(json.contains(r#""requestParameters":{"b":"xxx"#));
    assert!(json.contains(r#""responseElements":null,"#));
    assert_round_trip(&event);
}

fn identity_record(identity: Value) -> EventRecord {
    parse(&with(&[("userIdentity", Some(identity))]))
}

#[test]
fn username_by_identity_type() {
    let rows: [(Value, Option<&str>); 15] = [
        (json!({"type": "Root", "principalId": ACCT, "arn": "arn:aws:iam::123456789012:root"}), Some("root")),
        (json!({"type": "Root", "userName": "my-alias"}), Some("root")),
        (json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/Alice", "userName": "Alice"}), Some("Alice")),
        (json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops/Bob"}), Some("Bob")),
        (json!({"type": "IAMUser", "userName": ""}), None),
        (
            json!({"type": "AssumedRole", "principalId": "AROAX:app", "arn": "arn:aws:sts::1:assumed-role/AppRole/app",
                   "sessionContext": {"sessionIssuer": {"userName": "AppRole"}}}),
            Some("app"),
        ),
        (json!({"type": "AssumedRole", "principalId": "AROAX:i-0abc"}), Some("i-0abc")),
        (json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/bob"}), Some("bob")),
        (json!({"type": "FederatedUser", "principalId": "123456789012:carol"}), Some("carol")),
        (json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}), Some("ec2.amazonaws.com")),
        (json!({"accountId": ACCT, "invokedBy": "AWS Internal"}), None),
        (json!({"type": "WebIdentityUser", "userName": "user-id"}), Some("user-id")),
        (json!({"type": "IdentityCenterUser", "accountId": ACCT}), None),
        (json!({"type": "Unknown"}), None),
        (json!(null), None),
    ];
    for (identity, expected) in rows {
        let record = identity_record(identity.clone());
        assert_eq!(record.username(), expected, "{identity}");
        let values: Vec<&str> = record.lookup_attribute_values(LookupAttributeKey::Username).collect();
        assert_eq!(values, expected.into_iter().collect::<Vec<_>>(), "{identity}");
    }
    let issuer =
        identity_record(json!({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"userName": "R"}}}));
    assert_eq!(issuer.user_identity.session_issuer_user_name.as_deref(), Some("R"));
}

#[test]
fn lookup_resources_and_attribute_values() {
    let record = parse(&with(&[
        ("readOnly", Some(json!(false))),
        ("userIdentity", Some(json!({"type": "IAMUser", "userName": "Alice", "accessKeyId": "AKIAX"}))),
        (
            "resources",
            Some(json!([
                {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"},
                {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"},
                {"type": "AWS::S3::Object", "ARNPrefix": "arn:aws:s3:::b/logs/"},
                {"accountId": ACCT},
            ])),
        ),
    ]));
    let resources: Vec<LookupResource<'_>> = record.lookup_resources().collect();
    let lr = |t: Option<&'static str>, n: Option<&'static str>| LookupResource { resource_type: t, resource_name: n };
    assert_eq!(
        resources,
        [
            lr(Some("AWS::S3::Object"), Some("arn:aws:s3:::b/k")),
            lr(Some("AWS::S3::Bucket"), Some("arn:aws:s3:::b")),
            lr(Some("AWS::S3::Object"), Some("arn:aws:s3:::b/logs/")),
            lr(None, None),
        ]
    );
    let values = |key| record.lookup_attribute_values(key).collect::<Vec<_>>();
    assert_eq!(values(LookupAttributeKey::EventId), ["8d6c1e0a-0000-4000-8000-000000000001"]);
    assert_eq!(values(LookupAttributeKey::EventName), ["ListBuckets"]);
    assert_eq!(values(LookupAttributeKey::EventSource), ["s3.amazonaws.com"]);
    assert_eq!(values(LookupAttributeKey::ReadOnly), ["false"]);
    assert_eq!(values(LookupAttributeKey::Username), ["Alice"]);
    assert_eq!(values(LookupAttributeKey::AccessKeyId), ["AKIAX"]);
    assert_eq!(values(LookupAttributeKey::ResourceType), ["AWS::S3::Object", "AWS::S3::Bucket", "AWS::S3::Object"]);
    assert_eq!(
        values(LookupAttributeKey::ResourceName),
        ["arn:aws:s3:::b/k", "arn:aws:s3:::b", "arn:aws:s3:::b/logs/"]
    );

    let bare = parse(&with(&[("userIdentity", Some(json!({"type": "IAMUser", "accessKeyId": ""})))]));
    for key in [LookupAttributeKey::ReadOnly, LookupAttributeKey::Username, LookupAttributeKey::AccessKeyId] {
        assert_eq!(bare.lookup_attribute_values(key).next(), None, "{key}");
    }
    assert_eq!(parse(&with(&[("readOnly", Some(json!(true)))])).read_only_str(), Some("true"));
}

#[test]
fn lookup_attribute_keys() {
    for key in LookupAttributeKey::ALL {
        assert_eq!(LookupAttributeKey::from_name(key.as_str()), Some(key));
    }
    assert_eq!(LookupAttributeKey::from_name("eventname"), None);
    assert_eq!(LookupAttributeKey::from_name("EventCategory"), None);
    let insight_keys: Vec<_> = LookupAttributeKey::ALL.into_iter().filter(|k| k.applies_to_insights()).collect();
    assert_eq!(
        insight_keys,
        [LookupAttributeKey::EventId, LookupAttributeKey::EventName, LookupAttributeKey::EventSource]
    );
}

/// formats.md §1.6 C, the docs' ConsoleLogin example, without the `tlsDetails` cairn's own console does
/// not record, and with eventVersion 1.11.
const CONSOLE_LOGIN_EXAMPLE: &str = r#"{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/anaya","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"anaya"},"eventTime":"2022-11-10T16:24:34Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-2","sourceIPAddress":"192.0.2.0","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:62.0) Gecko/20100101 Firefox/62.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/sns","MobileVersion":"No","MFAUsed":"No"},"eventID":"3fcfb182-98f8-4744-bd45-10a395ab61cb","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}"#;

fn anaya() -> Principal {
    Principal {
        principal_type: PrincipalType::IAMUser,
        account_id: "111122223333".to_owned(),
        arn: "arn:aws:iam::111122223333:user/anaya".to_owned(),
        principal_id: "AIDACKCEVSQ6C2EXAMPLE".to_owned(),
        user_name: Some("anaya".to_owned()),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
    }
}

fn console_login(outcome: crate::event::SignIn) -> NewEvent {
    let mut event = NewEvent::console_login(
        anaya(),
        ts("2022-11-10T16:24:34Z"),
        "us-east-2",
        "192.0.2.0",
        outcome,
        "https://console.aws.amazon.com/sns",
        false,
    );
    event.user_agent =
        Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:62.0) Gecko/20100101 Firefox/62.0".to_owned());
    event.event_id = "3fcfb182-98f8-4744-bd45-10a395ab61cb".to_owned();
    event
}

#[test]
fn a_console_sign_in_is_written_as_the_docs_show_it_key_for_key() {
    let json = console_login(crate::event::SignIn::Success).to_json();
    assert_eq!(json, CONSOLE_LOGIN_EXAMPLE);
    let record = EventRecord::parse(json.as_bytes()).map_err(|e| e.to_string());
    let fields = record.as_ref().map(|r| r.fields().clone());
    assert_eq!(fields.as_ref().map(|f| f.event_type.clone()), Ok(Some("AwsConsoleSignIn".to_owned())));
}

#[test]
fn a_failed_console_sign_in_says_so_twice() {
    let value: Value =
        serde_json::from_str(&console_login(crate::event::SignIn::Failure).to_json()).unwrap_or_default();
    assert_eq!(value["responseElements"], serde_json::json!({"ConsoleLogin": "Failure"}));
    assert_eq!(value["errorMessage"], "Failed authentication");
    assert!(value.get("errorCode").is_none(), "AWS records no errorCode for a failed sign-in");
    assert!(value.get("requestID").is_none());
}

#[test]
fn a_call_from_the_console_says_so_after_the_category() {
    let mut event = new_event(iam_user(), "StartLogging");
    event.session_credential_from_console = true;
    let json = event.to_json();
    assert!(json.contains(r#""eventCategory":"Management","sessionCredentialFromConsole":"true"}"#), "{json}");
    let record = event.to_record().map_err(|e| e.to_string());
    assert_eq!(record.map(|r| r.fields().session_credential_from_console), Ok(Some(true)));
}
