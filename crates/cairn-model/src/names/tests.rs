//! Tests of `names`.
use super::*;

fn check(name: &str, expected: Result<(), &str>) {
    let actual = TrailName::parse(name).map(|_| ()).map_err(|e| e.message);
    assert_eq!(actual, expected.map_err(str::to_owned), "name {name:?}");
}

#[test]
fn trail_names_get_aws_messages() {
    check("abc", Ok(()));
    check("my.trail_1-x", Ok(()));
    check("a", Err("Trail name too short. Minimum allowed length: 3 characters. Specified name length: 1 characters."));
    check(
        "aa",
        Err("Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
    );
    check(&"a".repeat(128), Ok(()));
    check(
        &"a".repeat(129),
        Err("Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters."),
    );
    check("trail!", Err("Trail name must ends with a letter or number."));
    check("-trail", Err("Trail name must starts with a letter or number."));
    check(
        "tr!ail",
        Err(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        ),
    );
    assert!(TrailName::parse("my-_namespace").is_err());
    assert!(TrailName::parse("my--namespace").is_err());
    assert!(TrailName::parse("192.168.5.4").is_err());
    assert!(TrailName::parse("192.168.5.4a").is_ok());
    assert!(TrailName::parse("ünïcode").is_err());
}

#[test]
fn trail_ref_takes_name_or_arn() {
    let by_arn = TrailRef::parse("arn:aws:cloudtrail:us-east-2:123456789012:trail/my-trail").unwrap();
    assert_eq!(by_arn.name().as_str(), "my-trail");
    assert!(matches!(by_arn, TrailRef::Arn(_)));
    assert_eq!(
        TrailRef::parse("arn:aws:cloudtrail:us-east-2:1234:trail/x").unwrap_err().code,
        ErrorCode::CloudTrailArnInvalid
    );
}

#[test]
fn bucket_names_follow_s3_rules() {
    assert!(validate_bucket_name("my-bucket.logs").is_ok());
    for bad in ["ab", "My-Bucket", "-bucket", "bucket-", "a..b", "10.0.0.1", &"b".repeat(64)] {
        assert_eq!(validate_bucket_name(bad).unwrap_err().code, ErrorCode::InvalidS3BucketName, "{bad}");
    }
}

#[test]
fn prefixes_are_bounded() {
    assert!(validate_s3_prefix(&"p".repeat(200)).is_ok());
    assert_eq!(validate_s3_prefix(&"p".repeat(201)).unwrap_err().code, ErrorCode::InvalidS3Prefix);
}

#[test]
fn s3_uris_give_their_bucket_and_prefix() {
    assert_eq!(s3_uri_parts("s3://b/p/q"), Some(("b", "p/q")));
    assert_eq!(s3_uri_parts("s3://b"), Some(("b", "")));
    assert_eq!(s3_uri_parts("s3://b/"), Some(("b", "")));
    assert_eq!(s3_uri_parts("s3://"), None);
    assert_eq!(s3_uri_parts("b/p"), None);
}
