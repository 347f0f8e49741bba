//! Tests of `scope`: a table of which events each kind of trail delivers.
//!
//! Every row is (trail configuration as compact JSON, event as record JSON, taken?).
//! The configuration keys are `home` (default `eu-west-1`), `multi` (default false),
//! `global` (IncludeGlobalServiceEvents, default true), `org` (member accounts of an
//! organization trail) and `selectors` in their on-disk form (default: the new-trail
//! selectors), validated and stored as `PutEventSelectors` would unless `raw` is true. The trail's
//! account is always [`ACCOUNT`]. Events start from [`base_event`] (a write management
//! event in `eu-west-1` of [`ACCOUNT`]) with some members replaced; `null` removes one.
use cairn_model::event::EventRecord;
use serde_json::{Value, json};

use super::*;
use crate::validate_put_event_selectors;

const ACCOUNT: &str = "111111111111";
const MEMBER: &str = "222222222222";
const OUTSIDER: &str = "333333333333";

/// A trail configuration owning its strings, so a [`TrailScope`] can borrow it.
struct Config {
    home: String,
    multi: bool,
    global: bool,
    org: Option<Vec<String>>,
    selectors: TrailSelectors,
}

fn config(spec: &Value) -> Config {
    let text = |key: &str, default: &str| spec.get(key).and_then(Value::as_str).unwrap_or(default).to_owned();
    let flag = |key: &str, default: bool| spec.get(key).and_then(Value::as_bool).unwrap_or(default);
    let selectors = match spec.get("selectors") {
        None => TrailSelectors::default_for_trail(),
        Some(disk) => {
            let parsed: TrailSelectors = serde_json::from_value(disk.clone()).expect("selectors are disk JSON");
            if flag("raw", false) {
                parsed
            } else {
                let (basic, advanced) = (parsed.basic().map(<[_]>::to_vec), parsed.advanced().map(<[_]>::to_vec));
                match validate_put_event_selectors(basic, advanced) {
                    Ok(stored) => stored,
                    Err(e) => panic!("selectors {disk} are not valid for a trail: {}", e.message),
                }
            }
        }
    };
    Config {
        home: text("home", "eu-west-1"),
        multi: flag("multi", false),
        global: flag("global", true),
        org: spec.get("org").map(|members| serde_json::from_value(members.clone()).expect("org is a list")),
        selectors,
    }
}

/// A write management event of [`ACCOUNT`] in `eu-west-1`, with `changes` applied
/// (`null` removes a member).
fn event(changes: Value) -> Value {
    let mut record = base_event();
    if let (Some(target), Some(changes)) = (record.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            if value.is_null() {
                target.remove(key);
            } else {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    record
}

fn base_event() -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111111111111:user/alice",
            "accountId": ACCOUNT,
            "userName": "alice"
        },
        "eventTime": "2024-07-31T13:06:24Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "192.0.2.1",
        "userAgent": "aws-cli/2",
        "requestParameters": null,
        "responseElements": null,
        "requestID": "req-1",
        "eventID": "0f6a1c2e-1b2c-4d5e-8f90-0123456789ab",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management"
    })
}

/// A read management event (`DescribeInstances`).
fn read() -> Value {
    event(json!({"eventName": "DescribeInstances", "readOnly": true}))
}

/// An S3 object data event on `arn:aws:s3:::bkt/logs/a.txt` (with the bucket as a
/// second resource, as AWS writes them), plus `changes`.
fn s3_data(name: &str, read_only: bool, changes: Value) -> Value {
    let mut record = event(json!({
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "readOnly": read_only,
        "managementEvent": false,
        "eventCategory": "Data",
        "resources": [
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bkt/logs/a.txt"},
            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::bkt"}
        ]
    }));
    if let (Some(target), Some(changes)) = (record.as_object_mut(), changes.as_object()) {
        target.extend(changes.clone());
    }
    record
}

fn lambda_invoke(function: &str) -> Value {
    let arn = format!("arn:aws:lambda:eu-west-1:111111111111:function:{function}");
    event(json!({
        "eventSource": "lambda.amazonaws.com",
        "eventName": "Invoke",
        "managementEvent": false,
        "eventCategory": "Data",
        "resources": [{"type": "AWS::Lambda::Function", "ARN": arn}]
    }))
}

fn dynamodb_get(table: &str) -> Value {
    let arn = format!("arn:aws:dynamodb:eu-west-1:111111111111:table/{table}");
    event(json!({
        "eventSource": "dynamodb.amazonaws.com",
        "eventName": "GetItem",
        "readOnly": true,
        "managementEvent": false,
        "eventCategory": "Data",
        "resources": [{"type": "AWS::DynamoDB::Table", "ARN": arn}]
    }))
}

/// A network activity event: a KMS call through VPC endpoint `vpce-0abc`.
fn network(error_code: Option<&str>) -> Value {
    event(json!({
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "readOnly": true,
        "eventType": "AwsVpceEvent",
        "managementEvent": false,
        "eventCategory": "NetworkActivity",
        "vpcEndpointId": "vpce-0abc",
        "errorCode": error_code.map_or(Value::Null, |code| json!(code))
    }))
}

/// A global-service event: `source`/`name` recorded in `region`.
fn global(source: &str, name: &str, region: &str) -> Value {
    event(json!({"eventSource": source, "eventName": name, "awsRegion": region}))
}

/// An Insights record: no top-level source or name, no identity.
fn insight() -> Value {
    event(json!({
        "userIdentity": null,
        "eventSource": null,
        "eventName": null,
        "readOnly": null,
        "managementEvent": null,
        "eventType": "AwsCloudTrailInsight",
        "eventCategory": "Insight",
        "insightDetails": {
            "state": "Start",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight"
        }
    }))
}

fn basic(selectors: Value) -> Value {
    json!({"selectors": {"Basic": selectors}})
}

/// A trail with one advanced selector made of these field selectors.
fn advanced(field_selectors: Value) -> Value {
    json!({"selectors": {"Advanced": [{"Name": "s", "FieldSelectors": field_selectors}]}})
}

/// Basic selectors logging S3 object data events for these `Values` (and no management events).
fn s3_values(values: Value) -> Value {
    basic(json!([{
        "ReadWriteType": "All",
        "IncludeManagementEvents": false,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": values}],
        "ExcludeManagementEventSources": []
    }]))
}

/// `DataResources` taking every S3 object.
fn all_s3_objects() -> Value {
    json!([{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}])
}

/// Advanced data selector for S3 objects with one more field selector on `field`.
fn s3_field(field: &str, operator: &str, values: Value) -> Value {
    advanced(json!([
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": field, operator: values}
    ]))
}

/// Checks every row: `(label, trail configuration, event record, taken?)`.
fn check(rows: &[(&str, Value, Value, bool)]) {
    for (label, spec, record, expected) in rows {
        let config = config(spec);
        let scope = TrailScope {
            account_id: ACCOUNT,
            home_region: &config.home,
            is_multi_region: config.multi,
            include_global_service_events: config.global,
            organization_accounts: config.org.as_deref(),
            selectors: &config.selectors,
        };
        let bytes = serde_json::to_vec(record).expect("record serialises");
        let parsed = EventRecord::parse(&bytes).expect("record parses");
        assert_eq!(trail_takes(&scope, &parsed), *expected, "{label}\ntrail {spec}\nevent {record}");
    }
}

#[test]
fn management_events_by_read_write_type() {
    let rw = |ty: &str| basic(json!([{"ReadWriteType": ty}]));
    check(&[
        ("default trail takes writes", json!({}), event(json!({})), true),
        ("default trail takes reads", json!({}), read(), true),
        ("All takes writes", rw("All"), event(json!({})), true),
        ("All takes reads", rw("All"), read(), true),
        ("ReadOnly drops writes", rw("ReadOnly"), event(json!({})), false),
        ("ReadOnly takes reads", rw("ReadOnly"), read(), true),
        ("WriteOnly takes writes", rw("WriteOnly"), event(json!({})), true),
        ("WriteOnly drops reads", rw("WriteOnly"), read(), false),
        ("WriteOnly drops events without readOnly", rw("WriteOnly"), event(json!({"readOnly": null})), false),
        ("All takes events without readOnly", rw("All"), event(json!({"readOnly": null})), true),
        (
            "two selectors: either is enough",
            basic(json!([{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}])),
            event(json!({})),
            true,
        ),
        ("IncludeManagementEvents false", basic(json!([{"IncludeManagementEvents": false}])), read(), false),
        (
            "old record without eventCategory",
            json!({}),
            event(json!({"eventCategory": null, "eventVersion": "1.05"})),
            true,
        ),
    ]);
}

#[test]
fn excluded_management_sources() {
    let excluding = |sources: Value| basic(json!([{"ExcludeManagementEventSources": sources}]));
    let kms = event(json!({"eventSource": "kms.amazonaws.com", "eventName": "CreateKey"}));
    let rds = event(json!({"eventSource": "rdsdata.amazonaws.com", "eventName": "ExecuteStatement"}));
    check(&[
        ("kms excluded", excluding(json!(["kms.amazonaws.com"])), kms.clone(), false),
        ("kms excluded, rdsdata kept", excluding(json!(["kms.amazonaws.com"])), rds.clone(), true),
        ("kms excluded, ec2 kept", excluding(json!(["kms.amazonaws.com"])), event(json!({})), true),
        ("rdsdata excluded", excluding(json!(["rdsdata.amazonaws.com"])), rds.clone(), false),
        ("both excluded", excluding(json!(["kms.amazonaws.com", "rdsdata.amazonaws.com"])), kms.clone(), false),
        ("nothing excluded", excluding(json!([])), kms, true),
        (
            "advanced NotEquals kms",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}
            ])),
            event(json!({"eventSource": "kms.amazonaws.com"})),
            false,
        ),
        (
            "advanced NotEquals both drops rdsdata",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}
            ])),
            rds.clone(),
            false,
        ),
        (
            "advanced NotEquals both, ec2 event",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}
            ])),
            event(json!({})),
            true,
        ),
    ]);
}

#[test]
fn data_events_by_arn() {
    let get = || s3_data("GetObject", true, json!({}));
    check(&[
        ("default trail: no data events", json!({}), get(), false),
        ("all S3 objects (arn:aws:s3)", s3_values(json!(["arn:aws:s3"])), get(), true),
        ("all S3 objects (arn:aws:s3:::)", s3_values(json!(["arn:aws:s3:::"])), get(), true),
        ("all S3 objects of another partition", s3_values(json!(["arn:aws-cn:s3"])), get(), false),
        ("whole bucket", s3_values(json!(["arn:aws:s3:::bkt/"])), get(), true),
        ("key prefix", s3_values(json!(["arn:aws:s3:::bkt/logs/"])), get(), true),
        ("exact key", s3_values(json!(["arn:aws:s3:::bkt/logs/a.txt"])), get(), true),
        ("other key prefix", s3_values(json!(["arn:aws:s3:::bkt/img/"])), get(), false),
        ("other bucket", s3_values(json!(["arn:aws:s3:::other/"])), get(), false),
        (
            "bucket whose name starts with the selected one",
            s3_values(json!(["arn:aws:s3:::bkt/"])),
            s3_data(
                "GetObject",
                true,
                json!({"resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bkt2/a"}]}),
            ),
            false,
        ),
        ("any value is enough", s3_values(json!(["arn:aws:s3:::other/", "arn:aws:s3:::bkt/logs/"])), get(), true),
        ("S3 selector drops management events", s3_values(json!(["arn:aws:s3"])), event(json!({})), false),
        ("S3 selector drops Lambda events", s3_values(json!(["arn:aws:s3"])), lambda_invoke("f"), false),
        (
            "WriteOnly data selector drops GetObject",
            basic(json!([{"ReadWriteType": "WriteOnly", "DataResources": all_s3_objects()}])),
            get(),
            false,
        ),
        (
            "WriteOnly data selector takes PutObject",
            basic(json!([{"ReadWriteType": "WriteOnly", "DataResources": all_s3_objects()}])),
            s3_data("PutObject", false, json!({})),
            true,
        ),
        (
            "management plus data: management event",
            basic(json!([{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bkt/"]}]}])),
            event(json!({})),
            true,
        ),
        (
            "resource without a type is not an object",
            s3_values(json!(["arn:aws:s3"])),
            s3_data("GetObject", true, json!({"resources": [{"ARN": "arn:aws:s3:::bkt/logs/a.txt"}]})),
            false,
        ),
    ]);
    let lambda =
        |value: &str| basic(json!([{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": [value]}]}]));
    let dynamodb =
        |value: &str| basic(json!([{"DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": [value]}]}]));
    check(&[
        ("all functions", lambda("arn:aws:lambda"), lambda_invoke("f"), true),
        ("exact function", lambda("arn:aws:lambda:eu-west-1:111111111111:function:f"), lambda_invoke("f"), true),
        (
            "function ARNs are exact, not prefixes",
            lambda("arn:aws:lambda:eu-west-1:111111111111:function:f"),
            lambda_invoke("f2"),
            false,
        ),
        ("all tables", dynamodb("arn:aws:dynamodb"), dynamodb_get("orders"), true),
        ("exact table", dynamodb("arn:aws:dynamodb:eu-west-1:111111111111:table/orders"), dynamodb_get("orders"), true),
        ("other table", dynamodb("arn:aws:dynamodb:eu-west-1:111111111111:table/users"), dynamodb_get("orders"), false),
        ("table selector drops functions", dynamodb("arn:aws:dynamodb"), lambda_invoke("f"), false),
    ]);
}

#[test]
fn advanced_operators_on_resource_arns() {
    let get = || s3_data("GetObject", true, json!({}));
    let arn = |op: &str, values: Value| s3_field("resources.ARN", op, values);
    check(&[
        (
            "type only",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}
            ])),
            get(),
            true,
        ),
        (
            "type of another resource",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}
            ])),
            get(),
            false,
        ),
        ("Equals hit", arn("Equals", json!(["arn:aws:s3:::bkt/logs/a.txt"])), get(), true),
        ("Equals miss", arn("Equals", json!(["arn:aws:s3:::bkt/logs/b.txt"])), get(), false),
        (
            "Equals: any value",
            arn("Equals", json!(["arn:aws:s3:::bkt/logs/b.txt", "arn:aws:s3:::bkt/logs/a.txt"])),
            get(),
            true,
        ),
        ("StartsWith hit (whole bucket)", arn("StartsWith", json!(["arn:aws:s3:::bkt/"])), get(), true),
        ("StartsWith miss", arn("StartsWith", json!(["arn:aws:s3:::other/"])), get(), false),
        (
            "StartsWith: any value",
            arn("StartsWith", json!(["arn:aws:s3:::other/", "arn:aws:s3:::bkt/logs/"])),
            get(),
            true,
        ),
        ("EndsWith hit", arn("EndsWith", json!([".txt"])), get(), true),
        ("EndsWith miss", arn("EndsWith", json!([".png"])), get(), false),
        ("NotEquals hit excludes", arn("NotEquals", json!(["arn:aws:s3:::bkt/logs/a.txt"])), get(), false),
        ("NotEquals miss keeps", arn("NotEquals", json!(["arn:aws:s3:::bkt/logs/b.txt"])), get(), true),
        (
            "NotEquals: every value must miss",
            arn("NotEquals", json!(["arn:aws:s3:::bkt/logs/b.txt", "arn:aws:s3:::bkt/logs/a.txt"])),
            get(),
            false,
        ),
        ("NotStartsWith hit excludes", arn("NotStartsWith", json!(["arn:aws:s3:::bkt/"])), get(), false),
        ("NotStartsWith miss keeps", arn("NotStartsWith", json!(["arn:aws:s3:::other/"])), get(), true),
        ("NotEndsWith hit excludes", arn("NotEndsWith", json!([".txt"])), get(), false),
        ("NotEndsWith miss keeps", arn("NotEndsWith", json!([".png"])), get(), true),
        (
            "type and ARN must hold for one resource (bucket ARN is not an object)",
            arn("EndsWith", json!([":::bkt"])),
            get(),
            false,
        ),
        (
            "any of several object resources",
            arn("StartsWith", json!(["arn:aws:s3:::dst/"])),
            s3_data(
                "CopyObject",
                false,
                json!({"resources": [
                    {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::src/a"},
                    {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::dst/a"}
                ]}),
            ),
            true,
        ),
        (
            "many resources (beyond the inline ones)",
            arn("Equals", json!(["arn:aws:s3:::bkt/k9"])),
            s3_data(
                "DeleteObjects",
                false,
                json!({"resources": (0..10)
                .map(|i| json!({"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::bkt/k{i}")}))
                .collect::<Vec<_>>()}),
            ),
            true,
        ),
    ]);
}

#[test]
fn advanced_operators_on_event_fields() {
    let get = || s3_data("GetObject", true, json!({}));
    let name = |op: &str, values: Value| s3_field("eventName", op, values);
    check(&[
        ("eventName Equals hit", name("Equals", json!(["PutObject", "GetObject"])), get(), true),
        ("eventName Equals miss", name("Equals", json!(["PutObject"])), get(), false),
        ("eventName StartsWith hit", name("StartsWith", json!(["Get"])), get(), true),
        ("eventName StartsWith miss", name("StartsWith", json!(["Put"])), get(), false),
        ("eventName EndsWith hit", name("EndsWith", json!(["Object"])), get(), true),
        ("eventName EndsWith miss", name("EndsWith", json!(["Acl"])), get(), false),
        ("eventName NotEquals hit", name("NotEquals", json!(["GetObject"])), get(), false),
        ("eventName NotEquals miss", name("NotEquals", json!(["PutObject"])), get(), true),
        ("eventName NotStartsWith hit", name("NotStartsWith", json!(["List", "Get"])), get(), false),
        ("eventName NotStartsWith miss", name("NotStartsWith", json!(["List", "Put"])), get(), true),
        ("eventName NotEndsWith hit", name("NotEndsWith", json!(["Object"])), get(), false),
        ("eventName NotEndsWith miss", name("NotEndsWith", json!(["Acl"])), get(), true),
        (
            "positive and negative in one field selector",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "eventName", "StartsWith": ["Get"], "NotEquals": ["GetObject"]}
            ])),
            get(),
            false,
        ),
        ("eventSource Equals", s3_field("eventSource", "Equals", json!(["s3.amazonaws.com"])), get(), true),
        ("eventSource NotEquals", s3_field("eventSource", "NotEquals", json!(["s3.amazonaws.com"])), get(), false),
        ("readOnly true", s3_field("readOnly", "Equals", json!(["true"])), get(), true),
        ("readOnly false", s3_field("readOnly", "Equals", json!(["false"])), get(), false),
        ("eventType Equals", s3_field("eventType", "Equals", json!(["AwsApiCall"])), get(), true),
        ("eventType NotEquals", s3_field("eventType", "NotEquals", json!(["AwsApiCall"])), get(), false),
        (
            "userIdentity.arn StartsWith",
            s3_field("userIdentity.arn", "StartsWith", json!(["arn:aws:iam::111111111111:user/"])),
            get(),
            true,
        ),
        (
            "userIdentity.arn NotStartsWith",
            s3_field("userIdentity.arn", "NotStartsWith", json!(["arn:aws:iam::111111111111:user/"])),
            get(),
            false,
        ),
        (
            "userIdentity.arn StartsWith, identity without ARN",
            s3_field("userIdentity.arn", "StartsWith", json!(["arn:"])),
            s3_data(
                "GetObject",
                true,
                json!({"userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}}),
            ),
            false,
        ),
        (
            "userIdentity.arn NotEndsWith, identity without ARN",
            s3_field("userIdentity.arn", "NotEndsWith", json!(["/alice"])),
            s3_data(
                "GetObject",
                true,
                json!({"userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"}}),
            ),
            true,
        ),
        (
            "sessionCredentialFromConsole Equals, absent",
            s3_field("sessionCredentialFromConsole", "Equals", json!(["true"])),
            get(),
            false,
        ),
        (
            "sessionCredentialFromConsole Equals, present",
            s3_field("sessionCredentialFromConsole", "Equals", json!(["true"])),
            s3_data("GetObject", true, json!({"sessionCredentialFromConsole": "true"})),
            true,
        ),
        (
            "sessionCredentialFromConsole NotEquals, present",
            s3_field("sessionCredentialFromConsole", "NotEquals", json!(["true"])),
            s3_data("GetObject", true, json!({"sessionCredentialFromConsole": "true"})),
            false,
        ),
        (
            "all field selectors must hold",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "readOnly", "Equals": ["true"]},
                {"Field": "eventName", "Equals": ["PutObject"]}
            ])),
            get(),
            false,
        ),
    ]);
}

#[test]
fn advanced_categories() {
    let management = |extra: Value| {
        let mut fields = vec![json!({"Field": "eventCategory", "Equals": ["Management"]})];
        fields.extend(extra.as_array().cloned().unwrap_or_default());
        advanced(Value::Array(fields))
    };
    let vpce = |extra: Value| {
        let mut fields = vec![
            json!({"Field": "eventCategory", "Equals": ["NetworkActivity"]}),
            json!({"Field": "eventSource", "Equals": ["kms.amazonaws.com"]}),
        ];
        fields.extend(extra.as_array().cloned().unwrap_or_default());
        advanced(Value::Array(fields))
    };
    let writes_or_functions = json!({"selectors": {"Advanced": [
        {"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["false"]}
        ]},
        {"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}
        ]}
    ]}});
    check(&[
        ("Management takes writes", management(json!([])), event(json!({})), true),
        ("Management takes reads", management(json!([])), read(), true),
        ("Management drops data", management(json!([])), s3_data("GetObject", true, json!({})), false),
        ("Management drops network activity", management(json!([])), network(None), false),
        (
            "Management readOnly true drops writes",
            management(json!([{"Field": "readOnly", "Equals": ["true"]}])),
            event(json!({})),
            false,
        ),
        (
            "Management readOnly true takes reads",
            management(json!([{"Field": "readOnly", "Equals": ["true"]}])),
            read(),
            true,
        ),
        (
            "Management readOnly false takes writes",
            management(json!([{"Field": "readOnly", "Equals": ["false"]}])),
            event(json!({})),
            true,
        ),
        ("default basic drops network activity", json!({}), network(None), false),
        ("NetworkActivity by source", vpce(json!([])), network(None), true),
        (
            "NetworkActivity other source",
            advanced(json!([
                {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
                {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}
            ])),
            network(None),
            false,
        ),
        (
            "errorCode VpceAccessDenied, denied",
            vpce(json!([{"Field": "errorCode", "Equals": ["VpceAccessDenied"]}])),
            network(Some("VpceAccessDenied")),
            true,
        ),
        (
            "errorCode VpceAccessDenied, allowed",
            vpce(json!([{"Field": "errorCode", "Equals": ["VpceAccessDenied"]}])),
            network(None),
            false,
        ),
        (
            "vpcEndpointId StartsWith",
            vpce(json!([{"Field": "vpcEndpointId", "StartsWith": ["vpce-0a"]}])),
            network(None),
            true,
        ),
        (
            "vpcEndpointId NotEquals",
            vpce(json!([{"Field": "vpcEndpointId", "NotEquals": ["vpce-0abc"]}])),
            network(None),
            false,
        ),
        (
            "vpcEndpointId EndsWith miss",
            vpce(json!([{"Field": "vpcEndpointId", "EndsWith": ["fff"]}])),
            network(None),
            false,
        ),
        ("any selector is enough", writes_or_functions.clone(), lambda_invoke("f"), true),
        ("no selector holds", writes_or_functions.clone(), read(), false),
    ]);
}

#[test]
fn global_service_events() {
    let iam = || global("iam.amazonaws.com", "CreateUser", "us-east-1");
    let single_use1 = |include: bool| json!({"home": "us-east-1", "global": include});
    let single_euw1 = |include: bool| json!({"home": "eu-west-1", "global": include});
    let multi = |include: bool| json!({"home": "eu-west-1", "multi": true, "global": include});
    check(&[
        ("single-region us-east-1 with global events", single_use1(true), iam(), true),
        ("single-region us-east-1 without global events", single_use1(false), iam(), false),
        ("single-region eu-west-1 with global events", single_euw1(true), iam(), false),
        ("single-region eu-west-1 without global events", single_euw1(false), iam(), false),
        ("multi-region with global events", multi(true), iam(), true),
        ("multi-region without global events", multi(false), iam(), false),
        ("STS global endpoint", multi(true), global("sts.amazonaws.com", "AssumeRole", "us-east-1"), true),
        (
            "STS global endpoint, no global events",
            single_use1(false),
            global("sts.amazonaws.com", "AssumeRole", "us-east-1"),
            false,
        ),
        (
            "STS regional endpoint is regional",
            single_euw1(false),
            global("sts.amazonaws.com", "AssumeRole", "eu-west-1"),
            true,
        ),
        ("CloudFront", single_use1(true), global("cloudfront.amazonaws.com", "CreateDistribution", "us-east-1"), true),
        (
            "CloudFront, no global events",
            single_use1(false),
            global("cloudfront.amazonaws.com", "CreateDistribution", "us-east-1"),
            false,
        ),
        ("console sign-in", multi(true), global("signin.amazonaws.com", "ConsoleLogin", "us-east-1"), true),
        (
            "console sign-in, no global events",
            multi(false),
            global("signin.amazonaws.com", "ConsoleLogin", "us-east-1"),
            false,
        ),
        (
            "other services in us-east-1 are regional",
            single_use1(false),
            global("route53.amazonaws.com", "ChangeResourceRecordSets", "us-east-1"),
            true,
        ),
        (
            "selectors still apply to global events",
            json!({"home": "us-east-1", "selectors": {"Basic": [{"ReadWriteType": "ReadOnly"}]}}),
            iam(),
            false,
        ),
    ]);
}

#[test]
fn regions() {
    let in_region = |region: &str| event(json!({"awsRegion": region}));
    check(&[
        ("single-region: home region", json!({"home": "eu-west-1"}), in_region("eu-west-1"), true),
        ("single-region: other region", json!({"home": "eu-west-1"}), in_region("eu-west-2"), false),
        ("single-region us-east-1: other region", json!({"home": "us-east-1"}), in_region("eu-west-1"), false),
        ("multi-region: home region", json!({"home": "eu-west-1", "multi": true}), in_region("eu-west-1"), true),
        ("multi-region: other region", json!({"home": "eu-west-1", "multi": true}), in_region("ap-southeast-2"), true),
        ("multi-region: us-east-1", json!({"home": "eu-west-1", "multi": true}), in_region("us-east-1"), true),
        (
            "single-region data events: other region",
            json!({"home": "us-east-1", "selectors": {"Basic": [{"DataResources": all_s3_objects()}]}}),
            s3_data("GetObject", true, json!({})),
            false,
        ),
        (
            "multi-region data events: other region",
            json!({"home": "us-east-1", "multi": true, "selectors": {"Basic": [{"DataResources": all_s3_objects()}]}}),
            s3_data("GetObject", true, json!({})),
            true,
        ),
    ]);
}

#[test]
fn accounts_and_organizations() {
    let owned = |recipient: Value, identity_account: Value| {
        let mut record = event(json!({"recipientAccountId": recipient}));
        if let Some(identity) = record.get_mut("userIdentity").and_then(Value::as_object_mut) {
            if identity_account.is_null() {
                identity.remove("accountId");
            } else {
                identity.insert("accountId".to_owned(), identity_account);
            }
        }
        record
    };
    let org = json!({"org": [ACCOUNT, MEMBER]});
    check(&[
        ("own account", json!({}), owned(json!(ACCOUNT), json!(ACCOUNT)), true),
        ("other account", json!({}), owned(json!(MEMBER), json!(MEMBER)), false),
        ("recipient decides over the caller's account", json!({}), owned(json!(ACCOUNT), json!(OUTSIDER)), true),
        ("a caller from this account acting in another", json!({}), owned(json!(OUTSIDER), json!(ACCOUNT)), false),
        ("no recipient: the caller's account", json!({}), owned(Value::Null, json!(ACCOUNT)), true),
        ("no recipient: another caller account", json!({}), owned(Value::Null, json!(MEMBER)), false),
        ("no account at all", json!({}), owned(Value::Null, Value::Null), false),
        ("organization trail: management account", org.clone(), owned(json!(ACCOUNT), json!(ACCOUNT)), true),
        ("organization trail: member", org.clone(), owned(json!(MEMBER), json!(MEMBER)), true),
        ("organization trail: outsider", org.clone(), owned(json!(OUTSIDER), json!(OUTSIDER)), false),
        (
            "organization trail: member in another region of a single-region trail",
            org,
            event(json!({"recipientAccountId": MEMBER, "awsRegion": "eu-west-2"})),
            false,
        ),
    ]);
}

#[test]
fn insights_events_are_never_selected() {
    let insight_selector = json!({
        "raw": true,
        "selectors": {"Advanced": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Insight"]}]}]}
    });
    check(&[
        ("default trail", json!({}), insight(), false),
        ("multi-region trail", json!({"multi": true}), insight(), false),
        ("a selector naming the Insight category", insight_selector, insight(), false),
    ]);
}

#[test]
fn owner_account_and_global_classification() {
    let parse = |record: Value| {
        let bytes = serde_json::to_vec(&record).expect("record serialises");
        EventRecord::parse(&bytes).expect("record parses")
    };
    let recipient = parse(event(json!({"recipientAccountId": MEMBER})));
    assert_eq!(event_owner_account(&recipient), Some(MEMBER));
    let caller = parse(event(json!({"recipientAccountId": null})));
    assert_eq!(event_owner_account(&caller), Some(ACCOUNT));
    let nobody = parse(event(json!({"recipientAccountId": null, "userIdentity": null})));
    assert_eq!(event_owner_account(&nobody), None);

    assert!(is_global_service_event(&parse(global("iam.amazonaws.com", "CreateUser", "us-east-1"))));
    assert!(!is_global_service_event(&parse(global("sts.amazonaws.com", "AssumeRole", "eu-west-1"))));
    assert!(!is_global_service_event(&parse(global("ec2.amazonaws.com", "RunInstances", "us-east-1"))));
}

#[test]
fn event_view_reads_the_record() {
    let record = s3_data(
        "GetObject",
        true,
        json!({
            "sessionCredentialFromConsole": "true",
            "vpcEndpointId": "vpce-1",
            "errorCode": "AccessDenied",
            "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bkt/k"}, {"ARN": "arn:aws:s3:::bkt"}]
        }),
    );
    let bytes = serde_json::to_vec(&record).expect("record serialises");
    let parsed = EventRecord::parse(&bytes).expect("record parses");
    let seen = with_event_view(&parsed, |view| {
        *view
            == EventView {
                event_category: "Data",
                read_only: Some(true),
                event_source: "s3.amazonaws.com",
                event_name: "GetObject",
                event_type: "AwsApiCall",
                resources: &[("AWS::S3::Object", "arn:aws:s3:::bkt/k"), ("", "arn:aws:s3:::bkt")],
                user_identity_arn: Some("arn:aws:iam::111111111111:user/alice"),
                error_code: Some("AccessDenied"),
                vpc_endpoint_id: Some("vpce-1"),
                session_credential_from_console: Some(true),
                management_event: false,
            }
    });
    assert!(seen);
}

#[test]
fn insights_on_data_events_go_to_their_own_trail_only() {
    const TRAIL: &str = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/objects";
    let config = config(&json!({}));
    let scope = TrailScope {
        account_id: ACCOUNT,
        home_region: &config.home,
        is_multi_region: false,
        include_global_service_events: true,
        organization_accounts: None,
        selectors: &config.selectors,
    };
    let insight = |source: Option<&str>| {
        let mut details = json!({"state": "Start", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                                 "insightType": "ApiCallRateInsight"});
        if let Some(source) = source {
            details["insightSource"] = json!(source);
            details["sourceEventCategory"] = json!("Data");
        }
        let record = json!({"eventVersion": "1.08", "eventTime": "2026-12-08T10:00:00Z", "awsRegion": "eu-west-1",
                            "eventID": "e", "eventType": "AwsCloudTrailInsight", "recipientAccountId": ACCOUNT,
                            "sharedEventID": "s", "insightDetails": details, "eventCategory": "Insight"});
        EventRecord::parse(&serde_json::to_vec(&record).expect("serialises")).expect("parses")
    };
    let types = ["ApiCallRateInsight"];
    assert!(trail_takes_insight(&scope, TRAIL, &types, &insight(Some(TRAIL))));
    let other = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/another";
    assert!(!trail_takes_insight(&scope, other, &types, &insight(Some(TRAIL))), "another trail's data insight");
    assert!(trail_takes_insight(&scope, other, &types, &insight(None)), "management insights are the account's");
    assert!(!trail_takes_insight(&scope, TRAIL, &["ApiErrorRateInsight"], &insight(Some(TRAIL))));
}
