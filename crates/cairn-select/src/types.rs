//! The AWS wire shapes of event selectors, shared by the API and on-disk state.

use serde::{Deserialize, Serialize};

/// A basic event selector (`EventSelector` in the CloudTrail model).
///
/// Every member is optional on the wire; [`crate::validate_trail_event_selectors`]
/// fills the defaults so stored selectors always carry all four.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_write_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_management_events: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_resources: Option<Vec<DataResource>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_management_event_sources: Option<Vec<String>>,
}

/// One data-event resource type and the ARNs (or ARN prefixes) logged for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// An advanced event selector: all of its field selectors must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

/// One condition on one event field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedFieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

/// The six operators of an [`AdvancedFieldSelector`], named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Equals,
    StartsWith,
    EndsWith,
    NotEquals,
    NotStartsWith,
    NotEndsWith,
}

impl Operator {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "Equals",
            Operator::StartsWith => "StartsWith",
            Operator::EndsWith => "EndsWith",
            Operator::NotEquals => "NotEquals",
            Operator::NotStartsWith => "NotStartsWith",
            Operator::NotEndsWith => "NotEndsWith",
        }
    }

    /// Negative operators exclude; positive ones include.
    pub(crate) fn is_negative(self) -> bool {
        matches!(self, Operator::NotEquals | Operator::NotStartsWith | Operator::NotEndsWith)
    }

    /// Whether `candidate` satisfies the operator's test against `value`
    /// (for negative operators: whether it hits the excluded pattern).
    pub(crate) fn hits(self, value: &str, candidate: &str) -> bool {
        match self {
            Operator::Equals | Operator::NotEquals => candidate == value,
            Operator::StartsWith | Operator::NotStartsWith => candidate.starts_with(value),
            Operator::EndsWith | Operator::NotEndsWith => candidate.ends_with(value),
        }
    }
}

impl AdvancedFieldSelector {
    /// The operators present on this field selector, with their values, in wire order.
    pub(crate) fn operators(&self) -> impl Iterator<Item = (Operator, &[String])> {
        [
            (Operator::Equals, &self.equals),
            (Operator::StartsWith, &self.starts_with),
            (Operator::EndsWith, &self.ends_with),
            (Operator::NotEquals, &self.not_equals),
            (Operator::NotStartsWith, &self.not_starts_with),
            (Operator::NotEndsWith, &self.not_ends_with),
        ]
        .into_iter()
        .filter_map(|(op, values)| values.as_deref().map(|v| (op, v)))
    }

    /// How many condition values this field selector carries (the 500-value quota unit).
    pub(crate) fn value_count(&self) -> usize {
        self.operators().map(|(_, values)| values.len()).sum()
    }
}

#[cfg(test)]
mod tests;
