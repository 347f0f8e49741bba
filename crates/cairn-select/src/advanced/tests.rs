//! Tests of `advanced`.
use serde_json::{Value, json};

use super::*;
use cairn_model::ErrorCode;

const TRAIL: Target = Target::Trail;
const EDS: Target = Target::EventDataStore;

/// Validates `input` (the `AdvancedEventSelectors` JSON) under `target`'s rules;
/// valid input comes back unchanged, invalid input gives this message.
fn check(target: Target, input: Value, expected: Result<(), &str>) {
    let selectors: Vec<AdvancedEventSelector> = serde_json::from_value(input.clone()).expect("input is wire JSON");
    let result = match target {
        Target::Trail => validate_trail_advanced_event_selectors(selectors.clone()),
        Target::EventDataStore => validate_event_data_store_advanced_event_selectors(selectors.clone()),
    };
    let actual = result.map(|out| assert_eq!(out, selectors, "valid selectors come back unchanged")).map_err(|e| {
        assert_eq!(e.code, ErrorCode::InvalidEventSelectors, "input {input}");
        e.message
    });
    assert_eq!(actual, expected.map_err(str::to_owned), "{target:?} input {input}");
}

/// One selector of `category` with extra field selectors.
fn one(category: &str, extra: Value) -> Value {
    let mut fields = vec![json!({"Field": "eventCategory", "Equals": [category]})];
    fields.extend(extra.as_array().cloned().unwrap_or_default());
    json!([{"Name": "s", "FieldSelectors": fields}])
}

/// A data selector for `ty` with extra field selectors.
fn data(ty: &str, extra: Value) -> Value {
    let mut fields = vec![json!({"Field": "resources.type", "Equals": [ty]})];
    fields.extend(extra.as_array().cloned().unwrap_or_default());
    one("Data", Value::Array(fields))
}

fn network(source: &str, extra: Value) -> Value {
    let mut fields = vec![json!({"Field": "eventSource", "Equals": [source]})];
    fields.extend(extra.as_array().cloned().unwrap_or_default());
    one("NetworkActivity", Value::Array(fields))
}

#[test]
fn management_selectors() {
    check(TRAIL, one("Management", json!([])), Ok(()));
    check(TRAIL, json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]), Ok(()));
    check(TRAIL, one("Management", json!([{"Field": "readOnly", "Equals": ["true"]}])), Ok(()));
    check(TRAIL, one("Management", json!([{"Field": "readOnly", "Equals": ["false", "true"]}])), Ok(()));
    check(
        TRAIL,
        one("Management", json!([{"Field": "readOnly", "Equals": ["yes"]}])),
        Err("Value yes for field readOnly is invalid. Specify true or false."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "readOnly", "StartsWith": ["t"]}])),
        Err("Operator StartsWith is not supported for field readOnly; use Equals."),
    );
    check(
        TRAIL,
        one(
            "Management",
            json!([{"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]),
        ),
        Ok(()),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "eventSource", "Equals": ["kms.amazonaws.com"]}])),
        Err("Operator Equals is not supported for field eventSource; use NotEquals."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "eventSource", "NotEquals": ["s3.amazonaws.com"]}])),
        Err(
            "Value s3.amazonaws.com for field eventSource is invalid. Supported values: kms.amazonaws.com, rdsdata.amazonaws.com.",
        ),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "eventName", "Equals": ["CreateTrail"]}])),
        Err("Field eventName is not supported for Management events on a trail."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}])),
        Err("Field resources.type is not supported for Management events on a trail."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "foo", "Equals": ["x"]}])),
        Err("Field foo is not supported for Management events on a trail."),
    );
}

#[test]
fn event_data_store_management_selectors_filter_more() {
    check(
        EDS,
        one(
            "Management",
            json!([
                {"Field": "eventSource", "StartsWith": ["iam."], "NotEquals": ["kms.amazonaws.com"]},
                {"Field": "eventName", "NotStartsWith": ["Describe", "List"]},
                {"Field": "eventType", "Equals": ["AwsApiCall"]},
                {"Field": "userIdentity.arn", "EndsWith": ["/admin"]},
                {"Field": "sessionCredentialFromConsole", "NotEquals": ["true"]},
            ]),
        ),
        Ok(()),
    );
    check(
        EDS,
        one("Management", json!([{"Field": "sessionCredentialFromConsole", "StartsWith": ["t"]}])),
        Err("Operator StartsWith is not supported for field sessionCredentialFromConsole; use Equals or NotEquals."),
    );
    check(
        EDS,
        one("Management", json!([{"Field": "resources.ARN", "StartsWith": ["arn:"]}])),
        Err("Field resources.ARN is not supported for Management events in an event data store."),
    );
}

#[test]
fn data_selectors() {
    check(TRAIL, data("AWS::S3::Object", json!([])), Ok(()));
    check(
        TRAIL,
        data(
            "AWS::S3::Object",
            json!([
                {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::bkt/"], "NotEquals": ["arn:aws:s3:::bkt/secret.txt"]},
                {"Field": "eventName", "Equals": ["PutObject", "DeleteObject"]},
                {"Field": "readOnly", "Equals": ["false"]},
                {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]},
                {"Field": "eventType", "Equals": ["AwsApiCall"]},
                {"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:sts::111111111111:assumed-role/ci"]},
                {"Field": "sessionCredentialFromConsole", "Equals": ["true"]},
            ]),
        ),
        Ok(()),
    );
    check(
        TRAIL,
        one("Data", json!([])),
        Err("Field resources.type is required in advanced event selectors for Data events."),
    );
    check(
        TRAIL,
        one("Data", json!([{"Field": "eventName", "Equals": ["GetObject"]}])),
        Err("Field resources.type is required in advanced event selectors for Data events."),
    );
    check(
        TRAIL,
        one("Data", json!([{"Field": "resources.type", "Equals": ["AWS::S3::Object", "AWS::Lambda::Function"]}])),
        Err(
            "Field resources.type must have exactly one value with Equals; use a separate advanced event selector for each value.",
        ),
    );
    check(
        TRAIL,
        one("Data", json!([{"Field": "resources.type", "StartsWith": ["AWS::S3"]}])),
        Err("Operator StartsWith is not supported for field resources.type; use Equals."),
    );
    check(TRAIL, data("S3Object", json!([])), Err("Value S3Object for field resources.type is invalid."));
    check(TRAIL, data("AWS::S3Express::Object", json!([])), Ok(()));
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "sessionCredentialFromConsole", "Equals": ["maybe"]}])),
        Err("Value maybe for field sessionCredentialFromConsole is invalid. Specify true or false."),
    );
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "errorCode", "Equals": ["VpceAccessDenied"]}])),
        Err("Field errorCode is not supported for Data events on a trail."),
    );
}

#[test]
fn resource_arn_values() {
    let arn_rule = |value: &str, ty: &str| {
        format!(
            "Value {value} for field resources.ARN is invalid. With Equals, specify the exact ARN of a resource of type {ty}."
        )
    };
    for (ty, ok) in [
        ("AWS::S3::Object", "arn:aws:s3:::bkt/key.txt"),
        ("AWS::Lambda::Function", "arn:aws:lambda:us-east-1:111111111111:function:f"),
        ("AWS::DynamoDB::Table", "arn:aws:dynamodb:us-east-1:111111111111:table/Orders"),
        (
            "AWS::DynamoDB::Stream",
            "arn:aws:dynamodb:us-east-1:111111111111:table/Orders/stream/2024-01-01T00:00:00.000",
        ),
        ("AWS::S3::AccessPoint", "arn:aws:s3:us-east-1:111111111111:accesspoint/ap"),
        ("AWS::SNS::Topic", "arn:aws:sns:us-east-1:111111111111:topic"),
    ] {
        check(TRAIL, data(ty, json!([{"Field": "resources.ARN", "Equals": [ok]}])), Ok(()));
    }
    for (ty, bad) in [
        ("AWS::S3::Object", "arn:aws:s3:::bkt/"),
        ("AWS::S3::Object", "arn:aws:s3:::bkt"),
        ("AWS::S3::Object", "bkt/key"),
        ("AWS::Lambda::Function", "arn:aws:dynamodb:us-east-1:111111111111:table/Orders"),
        ("AWS::SNS::Topic", "not-an-arn"),
    ] {
        check(TRAIL, data(ty, json!([{"Field": "resources.ARN", "Equals": [bad]}])), Err(&arn_rule(bad, ty)));
    }
    // Prefix operators take partial ARNs.
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::b"]}])),
        Ok(()),
    );
    check(TRAIL, data("AWS::S3::Object", json!([{"Field": "resources.ARN", "NotEndsWith": [".tmp"]}])), Ok(()));
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::bkt"]}])),
        Err(
            "Value arn:aws:s3:::bkt for field resources.ARN is invalid. With NotEquals, specify the exact ARN of a resource of type AWS::S3::Object.",
        ),
    );
}

#[test]
fn network_activity_selectors() {
    check(TRAIL, network("ec2.amazonaws.com", json!([])), Ok(()));
    check(
        TRAIL,
        network(
            "kms.amazonaws.com",
            json!([
                {"Field": "errorCode", "Equals": ["VpceAccessDenied"]},
                {"Field": "vpcEndpointId", "NotEquals": ["vpce-123"]},
                {"Field": "eventName", "StartsWith": ["Decrypt"]},
                {"Field": "userIdentity.arn", "StartsWith": ["arn:aws:iam::111111111111:"]},
            ]),
        ),
        Ok(()),
    );
    check(
        EDS,
        network("kms.amazonaws.com", json!([{"Field": "userIdentity.arn", "StartsWith": ["arn:"]}])),
        Err("Field userIdentity.arn is not supported for NetworkActivity events in an event data store."),
    );
    check(
        TRAIL,
        one("NetworkActivity", json!([])),
        Err("Field eventSource is required in advanced event selectors for NetworkActivity events."),
    );
    check(
        TRAIL,
        one("NetworkActivity", json!([{"Field": "eventSource", "Equals": ["ec2.amazonaws.com", "kms.amazonaws.com"]}])),
        Err(
            "Field eventSource must have exactly one value with Equals; use a separate advanced event selector for each value.",
        ),
    );
    check(
        TRAIL,
        one("NetworkActivity", json!([{"Field": "eventSource", "NotEquals": ["ec2.amazonaws.com"]}])),
        Err("Operator NotEquals is not supported for field eventSource; use Equals."),
    );
    check(
        TRAIL,
        network("ec2", json!([])),
        Err("Value ec2 for field eventSource is invalid. Specify an event source such as ec2.amazonaws.com."),
    );
    check(
        TRAIL,
        network("ec2.amazonaws.com", json!([{"Field": "errorCode", "Equals": ["AccessDenied"]}])),
        Err("Value AccessDenied for field errorCode is invalid. Supported values: VpceAccessDenied."),
    );
    check(
        TRAIL,
        network("ec2.amazonaws.com", json!([{"Field": "readOnly", "Equals": ["true"]}])),
        Err("Field readOnly is not supported for NetworkActivity events on a trail."),
    );
}

#[test]
fn event_category_rules() {
    check(
        TRAIL,
        json!([{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]),
        Err("Field eventCategory is required in every advanced event selector."),
    );
    check(
        TRAIL,
        json!([{"FieldSelectors": [{"Field": "eventCategory", "NotEquals": ["Data"]}]}]),
        Err("Operator NotEquals is not supported for field eventCategory; use Equals."),
    );
    check(
        TRAIL,
        json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management", "Data"]}]}]),
        Err(
            "Field eventCategory must have exactly one value with Equals; use a separate advanced event selector for each value.",
        ),
    );
    check(
        TRAIL,
        one("management", json!([])),
        Err("Value management for field eventCategory is invalid. It is not a valid category on a trail."),
    );
    check(
        TRAIL,
        one("Insight", json!([])),
        Err("Value Insight for field eventCategory is invalid. It is not a valid category on a trail."),
    );
    for category in ["Insight", "ConfigurationItem", "Evidence", "ActivityAuditLog"] {
        check(EDS, one(category, json!([])), Ok(()));
        check(
            EDS,
            one(category, json!([{"Field": "eventName", "Equals": ["x"]}])),
            Err(&format!("Field eventName is not supported for {category} events in an event data store.")),
        );
    }
    check(
        EDS,
        one("Bogus", json!([])),
        Err("Value Bogus for field eventCategory is invalid. It is not a valid category in an event data store."),
    );
}

#[test]
fn field_selector_shape() {
    check(
        TRAIL,
        json!([{"Name": "empty", "FieldSelectors": []}]),
        Err("Each advanced event selector must contain at least one field selector."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "readOnly"}])),
        Err(
            "Field selector for readOnly must use at least one operator: Equals, StartsWith, EndsWith, NotEquals, NotStartsWith or NotEndsWith.",
        ),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "readOnly", "Equals": []}])),
        Err("Operator Equals for field readOnly must have at least one value."),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "readOnly", "Equals": [""]}])),
        Err("Value  for field readOnly is invalid. Values must be 1 to 2048 characters long."),
    );
    check(TRAIL, data("AWS::S3::Object", json!([{"Field": "eventName", "Equals": ["e".repeat(2048)]}])), Ok(()));
    let long = "e".repeat(2049);
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "eventName", "Equals": [long]}])),
        Err(&format!(
            "Value {}... for field eventName is invalid. Values must be 1 to 2048 characters long.",
            "e".repeat(256)
        )),
    );
    check(
        TRAIL,
        data("AWS::S3::Object", json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::*"]}])),
        Err(
            "Value arn:aws:s3:::* for field resources.ARN is invalid. Wildcards (*) are not supported; use StartsWith, EndsWith, NotStartsWith or NotEndsWith.",
        ),
    );
    check(
        TRAIL,
        one("Management", json!([{"Field": "event Name", "Equals": ["x"]}])),
        Err("Value event Name for Field is invalid."),
    );
    check(TRAIL, one("Management", json!([{"Field": "", "Equals": ["x"]}])), Err("Value  for Field is invalid."));
    check(
        TRAIL,
        one(
            "Management",
            json!([{"Field": "readOnly", "Equals": ["true"]}, {"Field": "readOnly", "Equals": ["false"]}]),
        ),
        Err("Field readOnly appears more than once in one advanced event selector."),
    );
    check(
        TRAIL,
        json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventCategory", "Equals": ["Data"]}]}]),
        Err("Field eventCategory appears more than once in one advanced event selector."),
    );
}

#[test]
fn names_and_counts() {
    let name = |n: usize| json!([{"Name": "n".repeat(n), "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]);
    check(TRAIL, name(1000), Ok(()));
    check(
        TRAIL,
        name(1001),
        Err(&format!("Value {}... for Name is invalid. Name can be at most 1000 characters.", "n".repeat(256))),
    );
    check(TRAIL, json!([]), Err("Specify a valid number of AdvancedEventSelectors (1 to 500) on a trail; got 0."));
    check(
        EDS,
        json!([]),
        Err("Specify a valid number of AdvancedEventSelectors (1 to 5) in an event data store; got 0."),
    );
    let management = one("Management", json!([])).as_array().and_then(|a| a.first()).cloned().unwrap_or_default();
    check(TRAIL, Value::Array(vec![management.clone(); 6]), Ok(()));
    check(EDS, Value::Array(vec![management.clone(); 5]), Ok(()));
    check(
        EDS,
        Value::Array(vec![management; 6]),
        Err("Specify a valid number of AdvancedEventSelectors (1 to 5) in an event data store; got 6."),
    );
}

#[test]
fn at_most_500_condition_values() {
    // eventCategory + resources.type + n eventName values.
    let names =
        |n: usize| json!([{"Field": "eventName", "Equals": (0..n).map(|i| format!("Op{i}")).collect::<Vec<_>>()}]);
    check(TRAIL, data("AWS::S3::Object", names(498)), Ok(()));
    check(EDS, data("AWS::S3::Object", names(498)), Ok(()));
    check(
        TRAIL,
        data("AWS::S3::Object", names(499)),
        Err("Specify up to 500 values for all conditions in all advanced event selectors on a trail; got 501."),
    );
    check(
        EDS,
        data("AWS::S3::Object", names(499)),
        Err(
            "Specify up to 500 values for all conditions in all advanced event selectors in an event data store; got 501.",
        ),
    );
}

#[test]
fn event_data_store_categories_do_not_mix() {
    let selector = |c: &str| one(c, json!([])).as_array().and_then(|a| a.first()).cloned().unwrap_or_default();
    check(EDS, json!([selector("Management"), data("AWS::S3::Object", json!([]))[0].clone()]), Ok(()));
    check(
        EDS,
        json!([selector("Management"), selector("Insight")]),
        Err("An event data store cannot select Management events together with Insight events."),
    );
    check(
        EDS,
        json!([selector("ActivityAuditLog"), selector("Evidence")]),
        Err("An event data store cannot select ActivityAuditLog events together with Evidence events."),
    );
    check(EDS, json!([selector("Insight"), selector("Insight")]), Ok(()));
}
