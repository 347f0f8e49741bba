//! Tests of the embedded CloudWatch Logs operations and filter patterns.
use cairn_store::logs::LogGroups;
use serde_json::{Value, json};

use super::LogsCtx;
use super::filter::FilterPattern;
use super::operations::*;

fn check(
    ctx: &LogsCtx<'_>,
    op: fn(&LogsCtx<'_>, Value) -> Result<Value, cairn_model::ApiError>,
    input: Value,
) -> Result<Value, String> {
    op(ctx, input).map_err(|e| e.code.as_str().to_owned())
}

#[test]
fn groups_streams_and_events_round_trip_with_aws_errors() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogGroups::open(dir.path(), 100).unwrap();
    let ctx = LogsCtx { logs: &logs, account_id: "111111111111", region: "us-east-1", now_ms: 5_000 };
    let group = json!({"logGroupName": "CloudTrail/g"});
    let stream = json!({"logGroupName": "CloudTrail/g", "logStreamName": "s"});
    assert_eq!(check(&ctx, create_log_stream, stream.clone()), Err("ResourceNotFoundException".to_owned()));
    check(&ctx, create_log_group, group.clone()).unwrap();
    assert_eq!(check(&ctx, create_log_group, group.clone()), Err("ResourceAlreadyExistsException".to_owned()));
    assert_eq!(
        check(&ctx, create_log_group, json!({"logGroupName": "bad name"})),
        Err("InvalidParameterException".to_owned())
    );
    check(&ctx, create_log_stream, stream).unwrap();
    let events = json!([{"timestamp": 1, "message": "{\"eventName\":\"A\"}"}, {"timestamp": 2, "message": "{\"eventName\":\"B\"}"}, {"timestamp": 3, "message": "plain ERROR text"}]);
    check(&ctx, put_log_events, json!({"logGroupName": "CloudTrail/g", "logStreamName": "s", "logEvents": events}))
        .unwrap();
    let got = check(
        &ctx,
        get_log_events,
        json!({"logGroupName": "CloudTrail/g", "logStreamName": "s", "limit": 2, "startFromHead": true}),
    )
    .unwrap();
    assert_eq!(got["events"].as_array().unwrap().len(), 2);
    assert_eq!(
        (got["nextForwardToken"].as_str(), got["events"][0]["ingestionTime"].as_i64()),
        (Some("f/2"), Some(5_000))
    );
    let next =
        check(&ctx, get_log_events, json!({"logGroupName": "CloudTrail/g", "logStreamName": "s", "nextToken": "f/2"}))
            .unwrap();
    assert_eq!(next["events"][0]["message"], "plain ERROR text");
    let tail = check(&ctx, get_log_events, json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:111111111111:log-group:CloudTrail/g:*", "logStreamName": "s", "limit": 1})).unwrap();
    assert_eq!(tail["events"][0]["timestamp"], 3);
    let filtered = check(
        &ctx,
        filter_log_events,
        json!({"logGroupName": "CloudTrail/g", "filterPattern": "{ $.eventName = \"B\" }"}),
    )
    .unwrap();
    assert_eq!(
        filtered["events"].as_array().unwrap().iter().map(|e| e["timestamp"].clone()).collect::<Vec<_>>(),
        [json!(2)]
    );
    let described = check(&ctx, describe_log_streams, json!({"logGroupName": "CloudTrail/g"})).unwrap();
    assert_eq!(described["logStreams"][0]["lastEventTimestamp"], 3);
    check(&ctx, delete_log_group, group.clone()).unwrap();
    assert_eq!(check(&ctx, delete_log_group, group), Err("ResourceNotFoundException".to_owned()));
}

#[test]
fn filter_patterns_take_terms_and_one_json_comparison() {
    let record = r#"{"eventName":"CreateTrail","userIdentity":{"type":"Root"},"readOnly":false}"#;
    let rows = [
        ("", true),
        ("CreateTrail", true),
        ("CreateTrail \"type\":\"Root\"", true),
        ("CreateTrail Missing", false),
        ("{ $.eventName = \"CreateTrail\" }", true),
        ("{$.eventName=Create*}", true),
        ("{ $.eventName != \"CreateTrail\" }", false),
        ("{ $.userIdentity.type = \"Root\" }", true),
        ("{ $.readOnly = false }", true),
        ("{ $.missing != \"x\" }", false),
    ];
    for (pattern, expected) in rows {
        assert_eq!(FilterPattern::parse(pattern).unwrap().matches(record), expected, "{pattern}");
    }
    for bad in ["{ $.eventName = \"x\"", "{ eventName = x }", "\"open", "{ $. = x }"] {
        assert!(FilterPattern::parse(bad).is_err(), "{bad}");
    }
}
