//! Tests of `security_alarms`: every alarm is a valid rule, takes the events its control names, and
//! fires on the real records of the pattern corpus.
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::{EventPattern, RuleMatcher};

fn envelope(detail_type: &str, detail: Value) -> Value {
    json!({"version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38", "detail-type": detail_type,
           "source": "aws.cloudtrail", "account": "111111111111", "time": "2026-12-08T10:00:00Z",
           "region": "us-east-1", "resources": [], "detail": detail})
}

fn matcher() -> RuleMatcher<&'static str> {
    let mut matcher = RuleMatcher::new();
    for alarm in SECURITY_ALARMS {
        let pattern = EventPattern::parse(alarm.pattern).unwrap_or_else(|e| panic!("{}: {}", alarm.name, e.message()));
        matcher.insert(alarm.name, &pattern);
    }
    matcher
}

fn matching(event: &Value) -> Vec<&'static str> {
    let mut found = matcher().matching(event);
    found.sort_unstable();
    found
}

#[test]
fn every_alarm_is_a_valid_rule_with_a_unique_name() {
    let mut names: Vec<&str> = SECURITY_ALARMS.iter().map(|alarm| alarm.name).collect();
    assert!(names.iter().all(
        |name| name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    ));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SECURITY_ALARMS.len());
    assert!(SECURITY_ALARMS.iter().all(|alarm| alarm.threshold >= 1 && alarm.window_seconds >= 60));
    assert_eq!(matcher().len(), SECURITY_ALARMS.len());
}

#[test]
fn each_alarm_takes_the_events_its_control_names() {
    let call = |name: &str, extra: Value| {
        let mut detail = json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": name, "eventType": "AwsApiCall",
                                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/alice"}});
        if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            detail.extend(extra.clone());
        }
        envelope("AWS API Call via CloudTrail", detail)
    };
    assert_eq!(matching(&call("CreateTrail", json!({}))), ["cis-cloudtrail-configuration-changes"]);
    assert_eq!(matching(&call("DescribeTrails", json!({}))), Vec::<&str>::new());
    assert_eq!(
        matching(&call("StopLogging", json!({"errorCode": "AccessDenied"}))),
        ["cis-cloudtrail-configuration-changes", "cis-unauthorized-api-calls"]
    );
    let ec2 = json!({"eventSource": "ec2.amazonaws.com", "errorCode": "Client.UnauthorizedOperation"});
    assert_eq!(matching(&call("CreateRoute", ec2)), ["cis-route-table-changes", "cis-unauthorized-api-calls"]);
    let root = json!({"userIdentity": {"type": "Root", "arn": "arn:aws:iam::111111111111:root"}});
    assert_eq!(matching(&call("ListBuckets", root)), ["cis-root-account-usage"]);
    let by_service = json!({"userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"}});
    assert_eq!(matching(&call("ListBuckets", by_service)), Vec::<&str>::new());
    let iam = json!({"eventSource": "iam.amazonaws.com"});
    assert_eq!(matching(&call("AttachUserPolicy", iam)), ["cis-iam-policy-changes"]);

    let sign_in = |mfa: Option<&str>, outcome: &str| {
        let mut detail = json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
                                "eventType": "AwsConsoleSignIn", "userIdentity": {"type": "IAMUser"},
                                "responseElements": {"ConsoleLogin": outcome}});
        if let Some(mfa) = mfa {
            detail["additionalEventData"] = json!({"MFAUsed": mfa});
        }
        if outcome == "Failure" {
            detail["errorMessage"] = json!("Failed authentication");
        }
        envelope("AWS Console Sign In via CloudTrail", detail)
    };
    assert_eq!(matching(&sign_in(Some("No"), "Success")), ["cis-console-sign-in-without-mfa"]);
    assert_eq!(matching(&sign_in(None, "Success")), ["cis-console-sign-in-without-mfa"], "CIS's != holds when absent");
    assert_eq!(matching(&sign_in(Some("Yes"), "Success")), Vec::<&str>::new());
    assert_eq!(matching(&sign_in(Some("No"), "Failure")), ["cis-console-authentication-failures"]);
}

/// Over the real CloudTrail records of the pattern corpus, the alarms whose events occur there fire.
#[test]
fn real_records_fire_the_alarms_their_events_call_for() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/patterns/ct_cases.ndjson");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let matcher = matcher();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("a corpus line is JSON");
        for name in matcher.matching(&case["event"]) {
            *counts.entry(name).or_default() += 1;
        }
    }
    for name in [
        "cis-unauthorized-api-calls",
        "cis-root-account-usage",
        "cis-iam-policy-changes",
        "cis-cloudtrail-configuration-changes",
        "cis-console-sign-in-without-mfa",
        "cis-security-group-changes",
    ] {
        assert!(counts.get(name).copied().unwrap_or(0) > 0, "{name} fired on no record: {counts:?}");
    }
}
