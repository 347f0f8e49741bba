//! Output shapes built from a trail record (botocore `Trail`, `CreateTrailResponse`,
//! `TrailInfo`) and from an event data store record (`CreateEventDataStoreResponse`,
//! `GetEventDataStoreResponse`, `EventDataStore`). Optional strings are omitted when unset
//! (spec/api.md §2.2, §2.8).

use cairn_model::clock::epoch_seconds;
use cairn_store::records::{EventDataStoreRecord, TrailRecord};
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

/// Which response an event data store is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventDataStoreShape {
    /// `CreateEventDataStoreResponse`: status `CREATED`, with `TagsList`.
    Create,
    /// `GetEventDataStoreResponse` / `UpdateEventDataStoreResponse`: with `FederationStatus`.
    Full,
    /// `RestoreEventDataStoreResponse`: neither tags nor federation.
    Restore,
}

/// An event data store, members in the order botocore's shapes declare them.
pub(crate) fn event_data_store_output(store: &EventDataStoreRecord, shape: EventDataStoreShape) -> Value {
    let status = match shape {
        // The transitional status AWS answers a creation with; the store is ENABLED (or
        // STOPPED_INGESTION) from then on.
        EventDataStoreShape::Create => "CREATED",
        EventDataStoreShape::Full | EventDataStoreShape::Restore => store.status.as_str(),
    };
    let mut out = Map::new();
    out.insert("EventDataStoreArn".into(), json!(store.arn()));
    out.insert("Name".into(), json!(store.name));
    out.insert("Status".into(), json!(status));
    out.insert("AdvancedEventSelectors".into(), json!(store.advanced_event_selectors));
    out.insert("MultiRegionEnabled".into(), json!(store.multi_region_enabled));
    out.insert("OrganizationEnabled".into(), json!(store.organization_enabled));
    out.insert("RetentionPeriod".into(), json!(store.retention_period));
    out.insert("TerminationProtectionEnabled".into(), json!(store.termination_protection_enabled));
    if shape == EventDataStoreShape::Create {
        out.insert("TagsList".into(), json!(store.tags));
    }
    out.insert("CreatedTimestamp".into(), json!(epoch_seconds(store.created_at)));
    out.insert("UpdatedTimestamp".into(), json!(epoch_seconds(store.updated_at)));
    if let Some(key) = &store.kms_key_id {
        out.insert("KmsKeyId".into(), json!(key));
    }
    out.insert("BillingMode".into(), json!(store.billing_mode.as_str()));
    if shape == EventDataStoreShape::Full {
        // Lake federation (Glue) is not offered, so it is always off.
        out.insert("FederationStatus".into(), json!("DISABLED"));
    }
    Value::Object(out)
}

/// An item of ListEventDataStores: the other members of `EventDataStore` are deprecated and
/// no longer returned (spec/api.md §1.6).
pub(crate) fn event_data_store_info(store: &EventDataStoreRecord) -> Value {
    json!({"EventDataStoreArn": store.arn(), "Name": store.name})
}
