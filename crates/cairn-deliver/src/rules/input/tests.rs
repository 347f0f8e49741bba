//! Target inputs: `Input`, `InputPath` and `InputTransformer`, data-driven through `check`.

use std::collections::BTreeMap;

use cairn_store::rules::{InputTransformer, RuleTarget};
use serde_json::{Value, json};

use super::{InputError, JsonPath, RuleNames, check_target_input, target_input};

fn event() -> Value {
    json!({
        "version": "0", "id": "e1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.cloudtrail",
        "account": "111111111111", "time": "2026-01-02T03:04:05Z", "region": "us-east-1", "resources": [],
        "detail": {"eventName": "CreateTrail", "readOnly": false, "requestParameters": {"name": "t1"},
                   "resources": [{"ARN": "arn:a"}, {"ARN": "arn:b"}]}
    })
}

fn target() -> RuleTarget {
    RuleTarget::plain("t", "https://example.invalid/")
}

fn transformer(paths: &[(&str, &str)], template: &str) -> RuleTarget {
    let input_paths_map: BTreeMap<String, String> =
        paths.iter().map(|(name, path)| ((*name).to_owned(), (*path).to_owned())).collect();
    RuleTarget {
        input_transformer: Some(InputTransformer { input_paths_map, input_template: template.to_owned() }),
        ..target()
    }
}

fn check(target: RuleTarget, expected: &str) {
    let names = RuleNames { name: "r1", arn: "arn:aws:events:us-east-1:111111111111:rule/r1" };
    assert_eq!(check_target_input(&target), Ok(()));
    assert_eq!(target_input(&target, &event(), names), expected);
}

#[test]
fn the_event_itself_by_default() {
    check(target(), &event().to_string());
}

#[test]
fn constant_input_and_input_path() {
    check(RuleTarget { input: Some(r#"{"fixed":1}"#.into()), ..target() }, r#"{"fixed":1}"#);
    check(RuleTarget { input_path: Some("$.detail.eventName".into()), ..target() }, r#""CreateTrail""#);
    check(RuleTarget { input_path: Some("$.detail.resources[1].ARN".into()), ..target() }, r#""arn:b""#);
    check(RuleTarget { input_path: Some("$.detail.requestParameters".into()), ..target() }, r#"{"name":"t1"}"#);
    check(RuleTarget { input_path: Some("$.nothing.here".into()), ..target() }, "null");
    check(RuleTarget { input_path: Some("$".into()), ..target() }, &event().to_string());
}

#[test]
fn transformer_quotes_inside_strings_only() {
    check(
        transformer(&[("name", "$.detail.eventName"), ("ro", "$.detail.readOnly")], r#"{"n": <name>, "ro": <ro>}"#),
        r#"{"n": "CreateTrail", "ro": false}"#,
    );
    check(
        transformer(&[("name", "$.detail.eventName"), ("ro", "$.detail.readOnly")], r#""<name> (read-only <ro>)""#),
        r#""CreateTrail (read-only false)""#,
    );
    check(
        transformer(&[("p", "$.detail.requestParameters")], r#"{"p": <p>, "s": "<p>"}"#),
        r#"{"p": {"name":"t1"}, "s": "{\"name\":\"t1\"}"}"#,
    );
    // Predefined variables, a missing value, and a placeholder the map does not define.
    check(
        transformer(
            &[("gone", "$.detail.nothing")],
            r#"{"rule": <aws.events.rule-name>, "g": <gone>, "x": "<other>"}"#,
        ),
        r#"{"rule": "r1", "g": null, "x": "<other>"}"#,
    );
    check(
        transformer(&[], r#"{"arn": "<aws.events.rule-arn>"}"#),
        r#"{"arn": "arn:aws:events:us-east-1:111111111111:rule/r1"}"#,
    );
}

#[test]
fn bad_settings_are_refused() {
    let several = RuleTarget { input: Some("{}".into()), input_path: Some("$".into()), ..target() };
    assert_eq!(check_target_input(&several), Err(InputError::SeveralInputs));
    let not_json = RuleTarget { input: Some("{".into()), ..target() };
    assert_eq!(check_target_input(&not_json), Err(InputError::InputNotJson));
    for bad in ["detail", "$.", "$..a", "$.a[x]", "$a"] {
        assert!(JsonPath::parse(bad).is_err(), "{bad}");
    }
    let reserved = transformer(&[("aws.events.rule-name", "$.a")], "<x>");
    assert!(matches!(check_target_input(&reserved), Err(InputError::ReservedVariable(_))));
}
