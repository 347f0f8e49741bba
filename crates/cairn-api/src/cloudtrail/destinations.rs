//! Destinations a trail names must exist and be usable (spec/api.md §2.2):
//! the S3 bucket, the SNS topic, the KMS key and the CloudWatch Logs ARNs.

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::error::truncate_for_message;
use cairn_model::names::{validate_bucket_name, validate_s3_prefix};
use cairn_model::region::is_region_name;
use cairn_model::{ApiError, ErrorCode};

use super::Ctx;

/// The bucket must be an embedded bucket of the caller's account or an
/// external bucket declared in the config.
pub(crate) fn check_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<(), ApiError> {
    validate_bucket_name(bucket)?;
    if ctx.state.settings.external_buckets.iter().any(|b| b.name == bucket) {
        return Ok(());
    }
    let Some(record) = ctx.state.buckets.get(bucket) else {
        return Err(ApiError::new(ErrorCode::S3BucketDoesNotExist, format!("S3 bucket {bucket} does not exist!")));
    };
    // Embedded buckets have no bucket policies, so only the owner's trails may write to one.
    if record.owner_account_id != ctx.account_id() {
        return Err(ApiError::new(
            ErrorCode::InsufficientS3BucketPolicy,
            format!("Incorrect S3 bucket policy is detected for bucket: {bucket}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_prefix(prefix: &str) -> Result<(), ApiError> {
    validate_s3_prefix(prefix)
}

/// Resolves `SnsTopicName` (a name or an ARN, ≤256) to a declared topic's ARN.
pub(crate) fn resolve_sns_topic(ctx: &Ctx<'_>, topic: &str) -> Result<String, ApiError> {
    let shown = truncate_for_message(topic);
    let name = topic.rsplit(':').next().unwrap_or(topic);
    if topic.chars().count() > 256 || name.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidSnsTopicName, format!("SNS topic name is not valid: {shown}")));
    }
    if name.ends_with(".fifo") {
        return Err(ApiError::new(
            ErrorCode::InvalidSnsTopicName,
            format!(
                "The SNS topic {shown} is a FIFO topic; CloudTrail delivers notifications only to standard topics."
            ),
        ));
    }
    let wanted_arn = if topic.starts_with("arn:") {
        topic.to_owned()
    } else {
        format!("arn:aws:sns:{}:{}:{}", ctx.region(), ctx.account_id(), topic)
    };
    // A topic must be in the trail's region: CloudTrail cannot publish across regions.
    let found = ctx
        .state
        .settings
        .sns_topics
        .iter()
        .find(|t| t.arn == wanted_arn && t.parts().is_some_and(|(region, _, _)| region == ctx.region()));
    match found {
        Some(topic) => Ok(topic.arn.clone()),
        None => Err(ApiError::new(
            ErrorCode::InsufficientSnsTopicPolicy,
            "SNS Topic does not exist or the topic policy is incorrect!",
        )),
    }
}

/// `KmsKeyId`: a key ID, key ARN, alias name or alias ARN; answered as a full ARN.
pub(crate) fn resolve_kms_key(ctx: &Ctx<'_>, key: &str) -> Result<String, ApiError> {
    let invalid =
        || ApiError::new(ErrorCode::InvalidKmsKeyId, format!("Invalid KmsKeyId: {}", truncate_for_message(key)));
    if key.chars().count() > 350 {
        return Err(invalid());
    }
    if let Some(alias) = key.strip_prefix("alias/") {
        return if is_alias_name(alias) {
            Ok(format!("arn:aws:kms:{}:{}:alias/{alias}", ctx.region(), ctx.account_id()))
        } else {
            Err(invalid())
        };
    }
    if is_key_id(key) {
        return Ok(format!("arn:aws:kms:{}:{}:key/{key}", ctx.region(), ctx.account_id()));
    }
    let arn = Arn::parse(key).ok_or_else(invalid)?;
    let resource_ok = match arn.resource.split_once('/') {
        Some(("key", id)) => is_key_id(id),
        Some(("alias", alias)) => is_alias_name(alias),
        _ => false,
    };
    if arn.service != "kms" || !is_region_name(arn.region) || !is_account_id(arn.account) || !resource_ok {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

fn is_key_id(id: &str) -> bool {
    // A UUID, or a multi-Region key ID (`mrk-` and 32 hex digits).
    let is_uuid = id.len() == 36
        && id.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() });
    let is_mrk =
        id.strip_prefix("mrk-").is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    is_uuid || is_mrk
}

fn is_alias_name(alias: &str) -> bool {
    (1..=250).contains(&alias.len())
        && !alias.starts_with("aws/")
        && alias.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'))
}

/// `CloudWatchLogsLogGroupArn`: `arn:aws:logs:<region>:<account>:log-group:<name>:*`.
pub(crate) fn check_log_group_arn(arn_text: &str) -> Result<(), ApiError> {
    let valid = Arn::parse(arn_text).is_some_and(|arn| {
        arn.service == "logs"
            && is_region_name(arn.region)
            && is_account_id(arn.account)
            && arn.resource.strip_prefix("log-group:").is_some_and(|rest| {
                let name = rest.strip_suffix(":*").unwrap_or(rest);
                (1..=512).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'#'))
            })
    });
    if valid {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidCloudWatchLogsLogGroupArn,
        format!("CloudWatch Logs log group ARN is not valid: {}", truncate_for_message(arn_text)),
    ))
}

/// `CloudWatchLogsRoleArn`: `arn:aws:iam::<account>:role/<name>`.
pub(crate) fn check_log_role_arn(arn_text: &str) -> Result<(), ApiError> {
    let valid = Arn::parse(arn_text).is_some_and(|arn| {
        arn.service == "iam"
            && arn.region.is_empty()
            && is_account_id(arn.account)
            && arn.resource.strip_prefix("role/").is_some_and(|name| !name.is_empty())
    });
    if valid {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidCloudWatchLogsRoleArn,
        format!("CloudWatch Logs role ARN is not valid: {}", truncate_for_message(arn_text)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_arns_have_aws_forms() {
        assert!(check_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*").is_ok());
        assert!(check_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:g").is_ok());
        for bad in ["g", "arn:aws:logs:us-east-1:123456789012:g", "arn:aws:s3:us-east-1:123456789012:log-group:g"] {
            assert_eq!(check_log_group_arn(bad).unwrap_err().code, ErrorCode::InvalidCloudWatchLogsLogGroupArn);
        }
        assert!(check_log_role_arn("arn:aws:iam::123456789012:role/CloudTrail_CWL").is_ok());
        for bad in ["role", "arn:aws:iam:us-east-1:123456789012:role/x", "arn:aws:iam::123456789012:user/x"] {
            assert_eq!(check_log_role_arn(bad).unwrap_err().code, ErrorCode::InvalidCloudWatchLogsRoleArn);
        }
    }

    #[test]
    fn key_ids() {
        assert!(is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!is_key_id("1234abcd-12ab-34cd-56ef-1234567890"));
        assert!(!is_key_id("not-a-key"));
    }
}
