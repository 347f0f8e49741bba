//! Wire and disk shapes a trail carries besides its selectors: tags, Insights
//! selectors and event aggregation (botocore `Tag`, `InsightSelector`,
//! `AggregationConfiguration`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    /// A key without a value is allowed (spec/api.md §2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insight_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_categories: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AggregationConfiguration {
    pub event_category: String,
    pub templates: Vec<String>,
}

/// The Insights types CloudTrail knows.
pub const INSIGHT_TYPES: &[&str] = &["ApiCallRateInsight", "ApiErrorRateInsight"];
/// Aggregation templates for data events (spec/api.md §1.3).
pub const AGGREGATION_TEMPLATES: &[&str] = &["API_ACTIVITY", "RESOURCE_ACCESS", "USER_ACTIONS"];
/// Tags per resource (spec/api.md §2.11).
pub const MAX_TAGS_PER_RESOURCE: usize = 50;
/// Trails per region, not raisable (spec/api.md §2.12).
pub const MAX_TRAILS_PER_REGION: usize = 5;
