//! Tests of `matching`.
use serde_json::{Value, json};

use super::*;

/// `selectors` is a trail's selectors in their on-disk form (`{"Basic": [...]}` or
/// `{"Advanced": [...]}`); checks whether `event` is taken. Advanced rows also go
/// through [`advanced_matches`] directly.
fn check(selectors: Value, event: EventView, expected: bool) {
    let parsed: TrailSelectors = serde_json::from_value(selectors.clone()).expect("selectors are disk JSON");
    assert_eq!(parsed.matches(&event), expected, "selectors {selectors}\nevent {event:?}");
    if let TrailSelectors::Advanced(advanced) = &parsed {
        assert_eq!(advanced_matches(advanced, &event), expected);
    }
}

fn management(source: &'static str, name: &'static str, read_only: bool) -> EventView<'static> {
    EventView {
        event_category: "Management",
        read_only: Some(read_only),
        event_source: source,
        event_name: name,
        event_type: "AwsApiCall",
        resources: &[],
        user_identity_arn: Some("arn:aws:iam::111111111111:user/alice"),
        error_code: None,
        vpc_endpoint_id: None,
        session_credential_from_console: None,
        management_event: true,
    }
}

fn data(name: &'static str, read_only: bool, resources: &'static [(&'static str, &'static str)]) -> EventView<'static> {
    EventView {
        event_category: "Data",
        event_source: "s3.amazonaws.com",
        management_event: false,
        resources,
        ..management("", name, read_only)
    }
}

fn network(source: &'static str, error_code: Option<&'static str>) -> EventView<'static> {
    EventView {
        event_category: "NetworkActivity",
        event_type: "AwsVpceEvent",
        error_code,
        vpc_endpoint_id: Some("vpce-1"),
        management_event: false,
        ..management(source, "Decrypt", true)
    }
}

const OBJECT: &[(&str, &str)] = &[("AWS::S3::Object", "arn:aws:s3:::bkt/logs/a.txt")];
const OTHER_OBJECT: &[(&str, &str)] = &[("AWS::S3::Object", "arn:aws:s3:::other/a.txt")];
const FUNCTION: &[(&str, &str)] = &[("AWS::Lambda::Function", "arn:aws:lambda:us-east-1:111111111111:function:f")];
const TABLE: &[(&str, &str)] = &[("AWS::DynamoDB::Table", "arn:aws:dynamodb:us-east-1:111111111111:table/T")];

fn basic(selectors: Value) -> Value {
    json!({"Basic": selectors})
}

fn advanced(selectors: Value) -> Value {
    json!({"Advanced": selectors})
}

#[test]
fn basic_management_events() {
    let default = serde_json::to_value(TrailSelectors::default_for_trail()).unwrap_or_default();
    check(default.clone(), management("ec2.amazonaws.com", "RunInstances", false), true);
    check(default.clone(), management("ec2.amazonaws.com", "DescribeInstances", true), true);
    check(default.clone(), data("GetObject", true, OBJECT), false);
    check(default, network("kms.amazonaws.com", None), false);
    check(basic(json!([{}])), management("iam.amazonaws.com", "CreateUser", false), true);
    check(basic(json!([{"ReadWriteType": "ReadOnly"}])), management("ec2.amazonaws.com", "RunInstances", false), false);
    check(
        basic(json!([{"ReadWriteType": "ReadOnly"}])),
        management("ec2.amazonaws.com", "DescribeInstances", true),
        true,
    );
    check(basic(json!([{"ReadWriteType": "WriteOnly"}])), management("ec2.amazonaws.com", "RunInstances", false), true);
    check(
        basic(json!([{"ReadWriteType": "WriteOnly"}])),
        management("ec2.amazonaws.com", "DescribeInstances", true),
        false,
    );
    check(
        basic(json!([{"ReadWriteType": "WriteOnly"}])),
        EventView { read_only: None, ..management("signin.amazonaws.com", "ConsoleLogin", false) },
        false,
    );
    check(
        basic(json!([{"IncludeManagementEvents": false}])),
        management("ec2.amazonaws.com", "RunInstances", false),
        false,
    );
    let no_kms = basic(json!([{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}]));
    check(no_kms.clone(), management("kms.amazonaws.com", "Decrypt", true), false);
    check(no_kms, management("ec2.amazonaws.com", "RunInstances", false), true);
    // Any selector is enough.
    check(
        basic(json!([{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}])),
        management("ec2.amazonaws.com", "RunInstances", false),
        true,
    );
}

#[test]
fn basic_data_events() {
    let s3 = |values: Value| {
        basic(
            json!([{"IncludeManagementEvents": false, "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]),
        )
    };
    check(s3(json!(["arn:aws:s3:::bkt/"])), data("GetObject", true, OBJECT), true);
    check(s3(json!(["arn:aws:s3:::bkt/logs/"])), data("GetObject", true, OBJECT), true);
    check(s3(json!(["arn:aws:s3:::bkt/img/"])), data("GetObject", true, OBJECT), false);
    check(s3(json!(["arn:aws:s3:::bkt/"])), data("GetObject", true, OTHER_OBJECT), false);
    check(s3(json!(["arn:aws:s3"])), data("GetObject", true, OTHER_OBJECT), true);
    check(s3(json!(["arn:aws:s3:::"])), data("GetObject", true, OTHER_OBJECT), true);
    // "All" values are per partition.
    check(s3(json!(["arn:aws-cn:s3"])), data("GetObject", true, OTHER_OBJECT), false);
    check(s3(json!(["arn:aws:s3"])), data("Invoke", false, FUNCTION), false);
    check(s3(json!(["arn:aws:s3"])), management("s3.amazonaws.com", "CreateBucket", false), false);
    let rw = basic(
        json!([{"ReadWriteType": "WriteOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]),
    );
    check(rw.clone(), data("GetObject", true, OBJECT), false);
    check(rw, data("PutObject", false, OBJECT), true);

    let lambda =
        |value: &str| basic(json!([{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": [value]}]}]));
    check(lambda("arn:aws:lambda"), data("Invoke", false, FUNCTION), true);
    check(lambda("arn:aws:lambda:us-east-1:111111111111:function:f"), data("Invoke", false, FUNCTION), true);
    check(lambda("arn:aws:lambda:us-east-1:111111111111:function:f2"), data("Invoke", false, FUNCTION), false);
    check(lambda("arn:aws:lambda:us-east-1:111111111111:function:"), data("Invoke", false, FUNCTION), false);
    let dynamo = |value: &str| basic(json!([{"DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": [value]}]}]));
    check(dynamo("arn:aws:dynamodb"), data("GetItem", true, TABLE), true);
    check(dynamo("arn:aws:dynamodb:us-east-1:111111111111:table/T"), data("GetItem", true, TABLE), true);
    check(dynamo("arn:aws:dynamodb:us-east-1:111111111111:table/U"), data("GetItem", true, TABLE), false);
}

#[test]
fn advanced_categories_and_fields() {
    let management_only = advanced(json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]));
    check(management_only.clone(), management("ec2.amazonaws.com", "RunInstances", false), true);
    check(management_only, data("GetObject", true, OBJECT), false);
    let writes_no_kms = advanced(json!([{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["false"]},
        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
    ]}]));
    check(writes_no_kms.clone(), management("ec2.amazonaws.com", "RunInstances", false), true);
    check(writes_no_kms.clone(), management("ec2.amazonaws.com", "DescribeInstances", true), false);
    check(writes_no_kms, management("kms.amazonaws.com", "CreateKey", false), false);
    let console = advanced(json!([{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "sessionCredentialFromConsole", "Equals": ["true"]},
    ]}]));
    check(console.clone(), management("ec2.amazonaws.com", "RunInstances", false), false);
    check(
        console,
        EventView {
            session_credential_from_console: Some(true),
            ..management("ec2.amazonaws.com", "RunInstances", false)
        },
        true,
    );
    let vpce = advanced(json!([{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
        {"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},
        {"Field": "errorCode", "Equals": ["VpceAccessDenied"]},
    ]}]));
    check(vpce.clone(), network("kms.amazonaws.com", Some("VpceAccessDenied")), true);
    check(vpce.clone(), network("kms.amazonaws.com", None), false);
    check(vpce, network("ec2.amazonaws.com", Some("VpceAccessDenied")), false);
}

#[test]
fn advanced_operators() {
    let names = |ops: Value| {
        let mut name = json!({"Field": "eventName"});
        if let (Some(target), Some(source)) = (name.as_object_mut(), ops.as_object()) {
            target.extend(source.clone());
        }
        advanced(json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, name]}]))
    };
    let event = |name: &'static str| management("ec2.amazonaws.com", name, true);
    check(names(json!({"Equals": ["DescribeInstances", "RunInstances"]})), event("RunInstances"), true);
    check(names(json!({"Equals": ["DescribeInstances"]})), event("RunInstances"), false);
    check(names(json!({"StartsWith": ["Describe"]})), event("DescribeVpcs"), true);
    check(names(json!({"EndsWith": ["Vpcs"]})), event("DescribeVpcs"), true);
    // Positive operators are OR-ed together.
    check(names(json!({"Equals": ["RunInstances"], "StartsWith": ["Describe"]})), event("DescribeVpcs"), true);
    check(names(json!({"Equals": ["RunInstances"], "StartsWith": ["List"]})), event("DescribeVpcs"), false);
    // Negative operators must all hold.
    check(names(json!({"NotStartsWith": ["Describe", "List"]})), event("RunInstances"), true);
    check(names(json!({"NotStartsWith": ["Describe", "List"]})), event("ListTags"), false);
    check(names(json!({"NotEquals": ["RunInstances"], "NotEndsWith": ["Vpcs"]})), event("DescribeVpcs"), false);
    check(names(json!({"NotEquals": ["RunInstances"], "NotEndsWith": ["Vpcs"]})), event("DescribeSubnets"), true);
    // Positive and negative together.
    check(names(json!({"StartsWith": ["Describe"], "NotEquals": ["DescribeVpcs"]})), event("DescribeVpcs"), false);
    check(names(json!({"StartsWith": ["Describe"], "NotEquals": ["DescribeVpcs"]})), event("DescribeSubnets"), true);
}

#[test]
fn advanced_absent_fields() {
    let with = |field: Value| {
        advanced(json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, field]}]))
    };
    let no_identity = EventView { user_identity_arn: None, ..management("ec2.amazonaws.com", "RunInstances", false) };
    check(with(json!({"Field": "userIdentity.arn", "StartsWith": ["arn:"]})), no_identity, false);
    check(
        with(json!({"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:iam::111111111111:role/"]})),
        no_identity,
        true,
    );
    check(with(json!({"Field": "readOnly", "Equals": ["true"]})), EventView { read_only: None, ..no_identity }, false);
}

#[test]
fn advanced_resources_are_matched_per_resource() {
    let s3 = |extra: Value| {
        let mut fields = vec![
            json!({"Field": "eventCategory", "Equals": ["Data"]}),
            json!({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
        ];
        fields.extend(extra.as_array().cloned().unwrap_or_default());
        advanced(json!([{"FieldSelectors": fields}]))
    };
    check(s3(json!([])), data("GetObject", true, OBJECT), true);
    check(s3(json!([])), data("Invoke", false, FUNCTION), false);
    check(
        s3(json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bkt/"]}])),
        data("GetObject", true, OBJECT),
        true,
    );
    check(
        s3(json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bkt/"]}])),
        data("GetObject", true, OTHER_OBJECT),
        false,
    );
    check(
        s3(json!([{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::bkt/logs/a.txt"]}])),
        data("GetObject", true, OBJECT),
        false,
    );
    check(
        s3(json!([{"Field": "eventName", "Equals": ["PutObject"]}, {"Field": "readOnly", "Equals": ["false"]}])),
        data("PutObject", false, OBJECT),
        true,
    );
    check(s3(json!([{"Field": "eventName", "Equals": ["PutObject"]}])), data("GetObject", true, OBJECT), false);
    // Type and ARN must hold for the same resource.
    const MIXED: &[(&str, &str)] = &[
        ("AWS::S3::Object", "arn:aws:s3:::other/a.txt"),
        ("AWS::S3::AccessPoint", "arn:aws:s3:us-east-1:111111111111:accesspoint/bkt/x"),
    ];
    check(
        s3(json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::other/"]}])),
        data("GetObject", true, MIXED),
        true,
    );
    check(s3(json!([{"Field": "resources.ARN", "EndsWith": ["bkt/x"]}])), data("GetObject", true, MIXED), false);
    check(s3(json!([])), data("GetObject", true, &[]), false);
}

#[test]
fn any_advanced_selector_is_enough() {
    let two = advanced(json!([
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]},
        {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}]},
    ]));
    check(two.clone(), management("ec2.amazonaws.com", "RunInstances", false), true);
    check(two.clone(), data("Invoke", false, FUNCTION), true);
    check(two.clone(), management("ec2.amazonaws.com", "DescribeInstances", true), false);
    check(two, data("GetObject", true, OBJECT), false);
    check(advanced(json!([])), management("ec2.amazonaws.com", "RunInstances", false), false);
}
