//! Resource policy ARNs and documents: which resources take a policy, and what a document must say.

use cairn_model::ErrorCode;
use serde_json::json;

use super::PolicyResource;
use super::document::{PolicyTarget, check};

const CHANNEL: &str = "arn:aws:cloudtrail:us-east-1:111111111111:channel/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
const STORE: &str = "arn:aws:cloudtrail:us-east-1:111111111111:eventdatastore/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";

fn code_of(arn: &str) -> Option<ErrorCode> {
    PolicyResource::parse(arn).err().map(|e| e.code)
}

#[test]
fn only_stores_dashboards_and_channels_take_policies() {
    assert!(matches!(PolicyResource::parse(CHANNEL), Ok(PolicyResource::Channel(_))));
    assert!(matches!(PolicyResource::parse(STORE), Ok(PolicyResource::EventDataStore(_))));
    assert!(matches!(
        PolicyResource::parse("arn:aws:cloudtrail:us-east-1:111111111111:dashboard/my-dash"),
        Ok(PolicyResource::Dashboard { .. })
    ));
    assert_eq!(code_of("arn:aws:cloudtrail:us-east-1:111111111111:trail/t"), Some(ErrorCode::ResourceTypeNotSupported));
    assert_eq!(code_of("arn:aws:s3:::bucket"), Some(ErrorCode::ResourceTypeNotSupported));
    assert_eq!(code_of("not-an-arn"), Some(ErrorCode::ResourceArnNotValid));
    assert_eq!(code_of("arn:aws:cloudtrail:us-east-1:111111111111:channel/"), Some(ErrorCode::ResourceArnNotValid));
    assert_eq!(code_of("arn:aws:cloudtrail:moon-1:111111111111:dashboard/abc"), Some(ErrorCode::ResourceArnNotValid));
    assert_eq!(code_of("ab"), Some(ErrorCode::InvalidParameter));
    assert_eq!(code_of("arn:aws:cloudtrail:us-east-1:111111111111:channel/a b"), Some(ErrorCode::InvalidParameter));
}

fn channel_policy(action: serde_json::Value, resource: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:role/partner"]},
            "Action": action,
            "Resource": resource,
        }]
    })
    .to_string()
}

fn why(policy: &str, target: PolicyTarget) -> String {
    let resource = if target == PolicyTarget::Channel { CHANNEL } else { STORE };
    match check(policy, resource, target) {
        Ok(()) => String::new(),
        Err(error) => {
            assert_eq!(error.code, ErrorCode::ResourcePolicyNotValid);
            error.message
        }
    }
}

#[test]
fn a_channel_policy_allows_put_audit_events_on_the_channel_only() {
    assert_eq!(why(&channel_policy(json!("cloudtrail-data:PutAuditEvents"), CHANNEL), PolicyTarget::Channel), "");
    assert_eq!(why(&channel_policy(json!("cloudtrail-data:PutAuditEvents"), "*"), PolicyTarget::Channel), "");
    assert!(
        why(&channel_policy(json!("cloudtrail:StartQuery"), CHANNEL), PolicyTarget::Channel)
            .contains("allows only the action cloudtrail-data:PutAuditEvents")
    );
}

#[test]
fn store_policies_name_cloudtrail_actions() {
    let policy = |action: serde_json::Value| {
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": STORE}})
            .to_string()
    };
    assert_eq!(why(&policy(json!(["cloudtrail:StartQuery", "cloudtrail:Get*"])), PolicyTarget::EventDataStore), "");
    assert!(why(&policy(json!("s3:GetObject")), PolicyTarget::EventDataStore).contains("is not a CloudTrail action"));
}

#[test]
fn malformed_documents_say_what_is_wrong() {
    let cases = [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (r#"{"Version":"2012-10-17"}"#, "has no Statement"),
        (r#"{"Version":"2012-10-17","Statement":[]}"#, "at least one"),
        (r#"{"Version":"1999-01-01","Statement":[]}"#, "Version must be"),
        (r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"*"}]}"#, "Effect must be"),
        (r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}"#, "needs a Principal"),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"*"}]}"#,
            "is not a valid AWS principal",
        ),
        (r#"{"Version":"2012-10-17","Extra":1,"Statement":[]}"#, "unknown policy member"),
    ];
    for (policy, words) in cases {
        let message = why(policy, PolicyTarget::EventDataStore);
        assert!(message.contains(words), "{policy}: {message:?} lacks {words:?}");
    }
}
