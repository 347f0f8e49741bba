//! Tests of `layout`: keys as AWS writes them.

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn root(prefix: Option<&str>, organization_id: Option<&str>) -> AccountRoot {
    AccountRoot {
        key_prefix: prefix.map(str::to_owned),
        organization_id: organization_id.map(str::to_owned),
        account_id: "123456789012".to_owned(),
    }
}

#[test]
fn log_file_keys_follow_the_aws_layout() {
    let key = root(None, None).log_file_key("us-east-2", at("2019-06-20T03:45:59Z"), "bH47qE9U25f69VXX");
    assert_eq!(
        key,
        "AWSLogs/123456789012/CloudTrail/us-east-2/2019/06/20/123456789012_CloudTrail_us-east-2_20190620T0345Z_bH47qE9U25f69VXX.json.gz"
    );
    // The processing library's pattern for log files.
    let name = key.rsplit('/').next().expect("a file name");
    assert!(name.ends_with(".json.gz") && name.contains("_CloudTrail_us-east-2_20190620T0345Z_"));
}

#[test]
fn prefixes_and_organizations_come_first() {
    let key = root(Some("team/logs"), Some("o-fxozgwu6rc")).insight_file_key(
        "ca-central-1",
        at("2020-09-23T05:16:00Z"),
        "KL5e9VCV2SS7IqzB",
    );
    assert_eq!(
        key,
        "team/logs/AWSLogs/o-fxozgwu6rc/123456789012/CloudTrail-Insight/ca-central-1/2020/09/23/123456789012_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz"
    );
    assert!(root(Some(""), None).log_file_key("us-east-1", at("2020-01-01T00:00:00Z"), "x").starts_with("AWSLogs/"));
}

#[test]
fn digest_keys_carry_the_end_time_to_the_second() {
    let key = root(None, None).digest_key("us-east-1", "mytrail", "us-east-1", at("2025-01-15T10:01:31Z"));
    assert_eq!(
        key,
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2025/01/15/123456789012_CloudTrail-Digest_us-east-1_mytrail_us-east-1_20250115T100131Z.json.gz"
    );
}

#[test]
fn unique_suffixes_are_deterministic_alphanumerics() {
    let a = unique_suffix("trail/42/123456789012/us-east-1/0");
    assert_eq!(a.len(), 16);
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(a, unique_suffix("trail/42/123456789012/us-east-1/0"));
    assert_ne!(a, unique_suffix("trail/42/123456789012/us-east-1/1"));
}
