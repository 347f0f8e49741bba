//! What a trail logs: basic or advanced selectors, never both.

use cairn_model::ApiError;
use serde::{Deserialize, Serialize};

use crate::advanced::validate_trail_advanced_event_selectors;
use crate::basic::{normalize, validate_trail_event_selectors};
use crate::errors::invalid;
use crate::types::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector};

/// What a trail logs: basic XOR advanced (writing one form clears the other).
///
/// On disk this is externally tagged: `{"Basic": [...]}` or `{"Advanced": [...]}`,
/// the selectors inside in their wire shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrailSelectors {
    Basic(Vec<EventSelector>),
    Advanced(Vec<AdvancedEventSelector>),
}

impl TrailSelectors {
    /// A new trail's selectors: all read and write management events, no data events.
    pub fn default_for_trail() -> TrailSelectors {
        TrailSelectors::Basic(vec![normalize(EventSelector::default())])
    }

    /// Whether these are the new-trail defaults (`HasCustomEventSelectors` is the negation).
    /// Absent basic members count as their defaults.
    pub fn is_default(&self) -> bool {
        match self {
            TrailSelectors::Basic(selectors) => match selectors.as_slice() {
                [only] => normalize(only.clone()) == normalize(EventSelector::default()),
                _ => false,
            },
            TrailSelectors::Advanced(_) => false,
        }
    }

    /// The basic selectors, if this trail uses that form (`GetEventSelectors.EventSelectors`).
    pub fn basic(&self) -> Option<&[EventSelector]> {
        match self {
            TrailSelectors::Basic(selectors) => Some(selectors),
            TrailSelectors::Advanced(_) => None,
        }
    }

    /// The advanced selectors, if this trail uses that form (`GetEventSelectors.AdvancedEventSelectors`).
    pub fn advanced(&self) -> Option<&[AdvancedEventSelector]> {
        match self {
            TrailSelectors::Basic(_) => None,
            TrailSelectors::Advanced(selectors) => Some(selectors),
        }
    }
}

/// Validates the selector members of a `PutEventSelectors` request: exactly one of
/// `EventSelectors` and `AdvancedEventSelectors` must be given; the result replaces
/// whatever the trail had.
pub fn validate_put_event_selectors(
    event_selectors: Option<Vec<EventSelector>>,
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
) -> Result<TrailSelectors, ApiError> {
    match (event_selectors, advanced_event_selectors) {
        (Some(basic), None) => validate_trail_event_selectors(basic).map(TrailSelectors::Basic),
        (None, Some(advanced)) => validate_trail_advanced_event_selectors(advanced).map(TrailSelectors::Advanced),
        (Some(_), Some(_)) => Err(invalid(
            "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both.",
        )),
        (None, None) => Err(invalid("Specify either EventSelectors or AdvancedEventSelectors.")),
    }
}

/// The selectors of an event data store created without any (spec/api.md §2.8):
/// one selector named "Default management events" taking every management event.
pub fn default_event_data_store_selectors() -> Vec<AdvancedEventSelector> {
    vec![AdvancedEventSelector {
        name: Some("Default management events".to_owned()),
        field_selectors: vec![AdvancedFieldSelector {
            field: "eventCategory".to_owned(),
            equals: Some(vec!["Management".to_owned()]),
            ..AdvancedFieldSelector::default()
        }],
    }]
}

#[cfg(test)]
mod tests;
