//! Output shapes built from a trail record (botocore `Trail`, `CreateTrailResponse`,
//! `TrailInfo`). Optional strings are omitted when unset (spec/api.md §2.2).

use cairn_store::records::TrailRecord;
use serde_json::{Map, Value, json};

/// `CreateTrailResponse` / `UpdateTrailResponse`: the trail without `HomeRegion`
/// and the `Has*` flags.
pub(crate) fn trail_change_output(trail: &TrailRecord) -> Value {
    trail_shape(trail, false)
}

/// The `Trail` structure of GetTrail and DescribeTrails.
pub(crate) fn trail_output(trail: &TrailRecord) -> Value {
    trail_shape(trail, true)
}

/// Members in the order botocore's shapes declare them.
fn trail_shape(trail: &TrailRecord, full: bool) -> Value {
    let mut out = Map::new();
    out.insert("Name".into(), json!(trail.name));
    out.insert("S3BucketName".into(), json!(trail.s3_bucket_name));
    insert_optional_strings(&mut out, trail);
    out.insert("IncludeGlobalServiceEvents".into(), json!(trail.include_global_service_events));
    out.insert("IsMultiRegionTrail".into(), json!(trail.is_multi_region_trail));
    if full {
        out.insert("HomeRegion".into(), json!(trail.home_region));
    }
    out.insert("TrailARN".into(), json!(trail.arn()));
    out.insert("LogFileValidationEnabled".into(), json!(trail.log_file_validation_enabled));
    if full {
        out.insert("HasCustomEventSelectors".into(), json!(!trail.selectors.is_default()));
        out.insert("HasInsightSelectors".into(), json!(!trail.insight_selectors.is_empty()));
    }
    out.insert("IsOrganizationTrail".into(), json!(trail.is_organization_trail()));
    out.insert("RecursiveLogging".into(), json!(trail.recursive_logging));
    Value::Object(out)
}

/// `TrailInfo` of ListTrails.
pub(crate) fn trail_info(trail: &TrailRecord) -> Value {
    json!({"TrailARN": trail.arn(), "Name": trail.name, "HomeRegion": trail.home_region})
}

fn insert_optional_strings(out: &mut Map<String, Value>, trail: &TrailRecord) {
    if let Some(prefix) = &trail.s3_key_prefix {
        out.insert("S3KeyPrefix".into(), json!(prefix));
    }
    if let Some(topic_arn) = &trail.sns_topic_arn {
        // `SnsTopicName` is deprecated but still returned beside the ARN.
        let topic_name = topic_arn.rsplit(':').next().unwrap_or(topic_arn);
        out.insert("SnsTopicName".into(), json!(topic_name));
        out.insert("SnsTopicARN".into(), json!(topic_arn));
    }
    if let Some(arn) = &trail.cloud_watch_logs_log_group_arn {
        out.insert("CloudWatchLogsLogGroupArn".into(), json!(arn));
    }
    if let Some(arn) = &trail.cloud_watch_logs_role_arn {
        out.insert("CloudWatchLogsRoleArn".into(), json!(arn));
    }
    if let Some(key) = &trail.kms_key_id {
        out.insert("KmsKeyId".into(), json!(key));
    }
}
