//! Tests of `basic`.
use serde_json::{Value, json};

use super::*;
use cairn_model::ErrorCode;

/// Validates `input` (the `EventSelectors` JSON) and compares the normalised result
/// (as JSON) or the `InvalidEventSelectorsException` message.
fn check(input: Value, expected: Result<Value, &str>) {
    let selectors: Vec<EventSelector> = serde_json::from_value(input.clone()).expect("input is wire JSON");
    let actual =
        validate_trail_event_selectors(selectors).map(|s| serde_json::to_value(s).expect("serialises")).map_err(|e| {
            assert_eq!(e.code, ErrorCode::InvalidEventSelectors, "input {input}");
            e.message
        });
    assert_eq!(actual, expected.map_err(str::to_owned), "input {input}");
}

fn full(rw: &str, mgmt: bool, resources: Value, excluded: Value) -> Value {
    json!({"ReadWriteType": rw, "IncludeManagementEvents": mgmt, "DataResources": resources, "ExcludeManagementEventSources": excluded})
}

/// One selector logging `values` of resource type `ty`.
fn data(ty: &str, values: &[&str]) -> Value {
    json!([{"DataResources": [{"Type": ty, "Values": values}]}])
}

/// `data` after normalisation.
fn data_ok(ty: &str, values: &[&str]) -> Result<Value, &'static str> {
    Ok(json!([full("All", true, json!([{"Type": ty, "Values": values}]), json!([]))]))
}

const BAD_VALUE: &str = "for DataResources.Values is invalid.";

#[test]
fn selector_count_and_defaults() {
    check(json!([{}]), Ok(json!([full("All", true, json!([]), json!([]))])));
    check(
        json!([{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": false}, {"ReadWriteType": "WriteOnly"}]),
        Ok(json!([full("ReadOnly", false, json!([]), json!([])), full("WriteOnly", true, json!([]), json!([]))])),
    );
    check(json!([]), Err("Specify a valid number of EventSelectors (1 to 5) for your trail; got 0."));
    check(json!([{}, {}, {}, {}, {}]), Ok(json!(vec![full("All", true, json!([]), json!([])); 5])));
    check(
        json!([{}, {}, {}, {}, {}, {}]),
        Err("Specify a valid number of EventSelectors (1 to 5) for your trail; got 6."),
    );
}

#[test]
fn read_write_type_is_an_enum() {
    check(json!([{"ReadWriteType": "All"}]), Ok(json!([full("All", true, json!([]), json!([]))])));
    check(json!([{"ReadWriteType": "ReadOnlyX"}]), Err("Value ReadOnlyX for ReadWriteType is invalid."));
    check(json!([{"ReadWriteType": "read-only"}]), Err("Value read-only for ReadWriteType is invalid."));
    check(json!([{"ReadWriteType": ""}]), Err("Value  for ReadWriteType is invalid."));
}

#[test]
fn s3_values() {
    for ok in
        ["arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:::bkt/", "arn:aws:s3:::my.bucket-1/logs/2024/", "arn:aws-cn:s3"]
    {
        check(data("AWS::S3::Object", &[ok]), data_ok("AWS::S3::Object", &[ok]));
    }
    for bad in [
        "arn:aws:s3:::bkt",
        "arn:aws:s3:::*",
        "arn:aws:s3:::*/*",
        "arn:aws:s3:::cg-*/*",
        "arn:aws:s3:::Bad_Bucket/",
        "arn:aws:s3:us-east-1:123456789012:bkt/",
        "arn:aws:lambda",
        "arn:aws:s3:",
        "arn:xyz:s3",
        "s3://bkt/",
        "",
    ] {
        check(data("AWS::S3::Object", &[bad]), Err(&format!("Value {bad} {BAD_VALUE}")));
    }
}

#[test]
fn lambda_and_dynamodb_values() {
    let function = "arn:aws:lambda:us-west-2:111111111111:function:helloworld";
    for ok in ["arn:aws:lambda", function, "arn:aws:lambda:us-west-2:111111111111:function:hello-world_2:PROD"] {
        check(data("AWS::Lambda::Function", &[ok]), data_ok("AWS::Lambda::Function", &[ok]));
    }
    for bad in [
        "arn:aws:lambda:*",
        "arn:aws:lambda:us-west-2:111111111111:function",
        "arn:aws:lambda:us-west-2:1111:function:f",
        "arn:aws:lambda:mars:111111111111:function:f",
        "arn:aws:s3",
    ] {
        check(data("AWS::Lambda::Function", &[bad]), Err(&format!("Value {bad} {BAD_VALUE}")));
    }
    let table = "arn:aws:dynamodb:eu-west-1:111111111111:table/Orders";
    for ok in ["arn:aws:dynamodb", table] {
        check(data("AWS::DynamoDB::Table", &[ok]), data_ok("AWS::DynamoDB::Table", &[ok]));
    }
    for bad in ["arn:aws:dynamodb:eu-west-1:111111111111:table/x", "arn:aws:dynamodb:eu-west-1:111111111111:Orders"] {
        check(data("AWS::DynamoDB::Table", &[bad]), Err(&format!("Value {bad} {BAD_VALUE}")));
    }
}

#[test]
fn data_resource_shape() {
    check(
        json!([{"DataResources": [{"Values": ["arn:aws:s3"]}]}]),
        Err("DataResources.Type must be specified for every data resource."),
    );
    check(data("AWS::S3::Bucket", &["arn:aws:s3"]), Err("Value AWS::S3::Bucket for DataResources.Type is invalid."));
    check(
        data("AWS::S3::Object", &[]),
        Err("DataResources.Values must contain at least one value for AWS::S3::Object."),
    );
    check(
        json!([{"DataResources": [{"Type": "AWS::S3::Object"}]}]),
        Err("DataResources.Values must contain at least one value for AWS::S3::Object."),
    );
    check(json!([{"DataResources": []}]), Ok(json!([full("All", true, json!([]), json!([]))])));
}

#[test]
fn at_most_250_specific_values() {
    let buckets: Vec<String> = (0..251).map(|i| format!("arn:aws:s3:::bucket-{i:03}/")).collect();
    let refs: Vec<&str> = buckets.iter().map(String::as_str).collect();
    let (first, rest) = refs.split_at(250);
    check(data("AWS::S3::Object", first), data_ok("AWS::S3::Object", first));
    let too_many = "Specify a valid number of DataResources.Values (0 to 250) for all your selectors; got 251.";
    check(data("AWS::S3::Object", &refs), Err(too_many));
    // The quota is across selectors.
    let split = json!([
        {"DataResources": [{"Type": "AWS::S3::Object", "Values": first}]},
        {"DataResources": [{"Type": "AWS::S3::Object", "Values": rest}]},
    ]);
    check(split, Err(too_many));
    // "All" prefixes are not counted.
    let mut with_all = first.to_vec();
    with_all.extend(["arn:aws:s3", "arn:aws:s3:::"]);
    check(data("AWS::S3::Object", &with_all), data_ok("AWS::S3::Object", &with_all));
}

#[test]
fn excluded_management_sources() {
    check(
        json!([{"ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]),
        Ok(json!([full("All", true, json!([]), json!(["kms.amazonaws.com", "rdsdata.amazonaws.com"]))])),
    );
    check(
        json!([{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]),
        Err("Value s3.amazonaws.com for ExcludeManagementEventSources is invalid."),
    );
}

#[test]
fn echoes_are_bounded() {
    let long = format!("arn:aws:s3:::{}", "b".repeat(400));
    let echoed: String = long.chars().take(256).collect();
    check(data("AWS::S3::Object", &[&long]), Err(&format!("Value {echoed}... {BAD_VALUE}")));
}
