//! The advanced-selector field table: which fields, operators and values each event category allows.

use crate::basic::EXCLUDABLE_SOURCES;

/// What the selectors are for; trails and event data stores allow different fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Trail,
    EventDataStore,
}

impl Target {
    /// Suffix for messages: where the rule applies.
    pub(crate) fn place(self) -> &'static str {
        match self {
            Target::Trail => "on a trail",
            Target::EventDataStore => "in an event data store",
        }
    }
}

/// The value of the required `eventCategory` field selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Management,
    Data,
    NetworkActivity,
    Insight,
    ConfigurationItem,
    Evidence,
    ActivityAuditLog,
}

impl Category {
    pub(crate) fn parse(value: &str) -> Option<Category> {
        Some(match value {
            "Management" => Category::Management,
            "Data" => Category::Data,
            "NetworkActivity" => Category::NetworkActivity,
            "Insight" => Category::Insight,
            "ConfigurationItem" => Category::ConfigurationItem,
            "Evidence" => Category::Evidence,
            "ActivityAuditLog" => Category::ActivityAuditLog,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Category::Management => "Management",
            Category::Data => "Data",
            Category::NetworkActivity => "NetworkActivity",
            Category::Insight => "Insight",
            Category::ConfigurationItem => "ConfigurationItem",
            Category::Evidence => "Evidence",
            Category::ActivityAuditLog => "ActivityAuditLog",
        }
    }

    /// CloudTrail's own events (management, data, network activity); the other
    /// categories exist only in event data stores and allow no filtering.
    pub(crate) fn is_cloudtrail_event(self) -> bool {
        matches!(self, Category::Management | Category::Data | Category::NetworkActivity)
    }

    pub(crate) fn allowed_in(self, target: Target) -> bool {
        self.is_cloudtrail_event() || target == Target::EventDataStore
    }

    /// Field selectors a selector of this category must contain besides `eventCategory`.
    pub(crate) fn required_fields(self) -> &'static [&'static str] {
        match self {
            Category::Data => &["resources.type"],
            Category::NetworkActivity => &["eventSource"],
            _ => &[],
        }
    }
}

/// Operators a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ops {
    Any,
    EqualsOnly,
    EqualsOrNotEquals,
    NotEqualsOnly,
}

impl Ops {
    pub(crate) fn allows(self, op: crate::types::Operator) -> bool {
        use crate::types::Operator::{Equals, NotEquals};
        match self {
            Ops::Any => true,
            Ops::EqualsOnly => op == Equals,
            Ops::EqualsOrNotEquals => matches!(op, Equals | NotEquals),
            Ops::NotEqualsOnly => op == NotEquals,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Ops::Any => "any operator",
            Ops::EqualsOnly => "Equals",
            Ops::EqualsOrNotEquals => "Equals or NotEquals",
            Ops::NotEqualsOnly => "NotEquals",
        }
    }
}

/// What each value of a field must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Values {
    Any,
    /// `true` or `false`.
    Bool,
    OneOf(&'static [&'static str]),
    /// `<service>.amazonaws.com`.
    EventSource,
    /// `AWS::Service::Type`.
    ResourceType,
    /// With `Equals`/`NotEquals`, an exact ARN of the selector's `resources.type`.
    ResourceArn,
}

/// The rule for one field in one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldRule {
    pub(crate) ops: Ops,
    pub(crate) values: Values,
    /// Exactly one value (separate selectors for more).
    pub(crate) single_value: bool,
}

const fn rule(ops: Ops, values: Values) -> FieldRule {
    FieldRule { ops, values, single_value: false }
}

const ANY: FieldRule = rule(Ops::Any, Values::Any);
const READ_ONLY: FieldRule = rule(Ops::EqualsOnly, Values::Bool);
const CONSOLE: FieldRule = rule(Ops::EqualsOrNotEquals, Values::Bool);

/// The rule for `field` in a selector of `category` for `target`, or `None` if the
/// field is not allowed there (spec/api.md §2.4 field table). `eventCategory` itself
/// is checked separately.
pub(crate) fn field_rule(target: Target, category: Category, field: &str) -> Option<FieldRule> {
    let eds = target == Target::EventDataStore;
    match (category, field) {
        (Category::Management, "readOnly") => Some(READ_ONLY),
        (Category::Management, "eventSource") if !eds => {
            Some(rule(Ops::NotEqualsOnly, Values::OneOf(EXCLUDABLE_SOURCES)))
        }
        (Category::Management, "eventSource" | "eventName" | "eventType" | "userIdentity.arn") if eds => Some(ANY),
        (Category::Management, "sessionCredentialFromConsole") if eds => Some(CONSOLE),

        (Category::Data, "readOnly") => Some(READ_ONLY),
        (Category::Data, "eventSource" | "eventName" | "eventType" | "userIdentity.arn") => Some(ANY),
        (Category::Data, "resources.type") => {
            Some(FieldRule { ops: Ops::EqualsOnly, values: Values::ResourceType, single_value: true })
        }
        (Category::Data, "resources.ARN") => Some(rule(Ops::Any, Values::ResourceArn)),
        (Category::Data, "sessionCredentialFromConsole") => Some(CONSOLE),

        (Category::NetworkActivity, "eventSource") => {
            Some(FieldRule { ops: Ops::EqualsOnly, values: Values::EventSource, single_value: true })
        }
        (Category::NetworkActivity, "eventName" | "vpcEndpointId") => Some(ANY),
        (Category::NetworkActivity, "errorCode") => Some(rule(Ops::EqualsOnly, Values::OneOf(&["VpceAccessDenied"]))),
        (Category::NetworkActivity, "userIdentity.arn") if !eds => Some(ANY),

        _ => None,
    }
}
