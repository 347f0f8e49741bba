//! Validation of advanced event selectors for trails and event data stores.

use cairn_model::ApiError;

use crate::arns::{is_event_source_name, is_resource_arn, is_resource_type_name};
use crate::errors::{bad_value, bad_value_because, echo, invalid};
use crate::fields::{Category, FieldRule, Target, Values, field_rule};
use crate::types::{AdvancedEventSelector, AdvancedFieldSelector, Operator};

/// Condition values across all advanced selectors of one trail or event data store.
pub(crate) const MAX_CONDITION_VALUES: usize = 500;
/// Event data stores take at most 5 advanced selectors.
pub(crate) const MAX_EDS_SELECTORS: usize = 5;
/// Trails have no own selector cap; every selector holds at least one value, so the
/// value quota bounds them at 500 too.
pub(crate) const MAX_TRAIL_SELECTORS: usize = MAX_CONDITION_VALUES;
const MAX_NAME_CHARS: usize = 1000;
const MAX_FIELD_CHARS: usize = 1000;
const MAX_VALUE_CHARS: usize = 2048;
const EVENT_CATEGORY: &str = "eventCategory";

/// Validates the `AdvancedEventSelectors` of `PutEventSelectors` (trail rules:
/// categories Management, Data and NetworkActivity; at most 500 condition values).
pub fn validate_trail_advanced_event_selectors(
    selectors: Vec<AdvancedEventSelector>,
) -> Result<Vec<AdvancedEventSelector>, ApiError> {
    validate(selectors, Target::Trail)
}

/// Validates the `AdvancedEventSelectors` of `CreateEventDataStore`/`UpdateEventDataStore`
/// (event data store rules: at most 5 selectors, the extra categories Insight,
/// ConfigurationItem, Evidence and ActivityAuditLog, more fields on management events).
pub fn validate_event_data_store_advanced_event_selectors(
    selectors: Vec<AdvancedEventSelector>,
) -> Result<Vec<AdvancedEventSelector>, ApiError> {
    validate(selectors, Target::EventDataStore)
}

fn validate(selectors: Vec<AdvancedEventSelector>, target: Target) -> Result<Vec<AdvancedEventSelector>, ApiError> {
    let max = match target {
        Target::Trail => MAX_TRAIL_SELECTORS,
        Target::EventDataStore => MAX_EDS_SELECTORS,
    };
    if selectors.is_empty() || selectors.len() > max {
        return Err(invalid(format!(
            "Specify a valid number of AdvancedEventSelectors (1 to {max}) {}; got {}.",
            target.place(),
            selectors.len()
        )));
    }
    let values: usize = selectors.iter().flat_map(|s| &s.field_selectors).map(AdvancedFieldSelector::value_count).sum();
    if values > MAX_CONDITION_VALUES {
        return Err(invalid(format!(
            "Specify up to {MAX_CONDITION_VALUES} values for all conditions in all advanced event selectors {}; \
             got {values}.",
            target.place()
        )));
    }
    let mut categories: Vec<Category> = Vec::new();
    for selector in &selectors {
        let category = validate_selector(selector, target)?;
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    if let [first, second, ..] = categories.as_slice()
        && (!first.is_cloudtrail_event() || !second.is_cloudtrail_event())
    {
        return Err(invalid(format!(
            "An event data store cannot select {} events together with {} events.",
            first.as_str(),
            second.as_str()
        )));
    }
    Ok(selectors)
}

/// Checks one selector and returns its event category.
fn validate_selector(selector: &AdvancedEventSelector, target: Target) -> Result<Category, ApiError> {
    if let Some(name) = &selector.name
        && name.chars().count() > MAX_NAME_CHARS
    {
        return Err(bad_value_because(name, "Name", "Name can be at most 1000 characters."));
    }
    if selector.field_selectors.is_empty() {
        return Err(invalid("Each advanced event selector must contain at least one field selector."));
    }
    for (index, field_selector) in selector.field_selectors.iter().enumerate() {
        check_shape(field_selector)?;
        if selector.field_selectors.iter().take(index).any(|earlier| earlier.field == field_selector.field) {
            return Err(invalid(format!(
                "Field {} appears more than once in one advanced event selector.",
                echo(&field_selector.field)
            )));
        }
    }
    let category = event_category(selector, target)?;
    let resource_type = selector
        .field_selectors
        .iter()
        .find(|fs| fs.field == "resources.type")
        .and_then(|fs| fs.equals.as_deref())
        .and_then(<[String]>::first)
        .map(String::as_str);
    for field_selector in selector.field_selectors.iter().filter(|fs| fs.field != EVENT_CATEGORY) {
        let Some(rule) = field_rule(target, category, &field_selector.field) else {
            return Err(invalid(format!(
                "Field {} is not supported for {} events {}.",
                echo(&field_selector.field),
                category.as_str(),
                target.place()
            )));
        };
        check_field(field_selector, rule, resource_type)?;
    }
    for required in category.required_fields() {
        if !selector.field_selectors.iter().any(|fs| fs.field == *required) {
            return Err(invalid(format!(
                "Field {required} is required in advanced event selectors for {} events.",
                category.as_str()
            )));
        }
    }
    Ok(category)
}

/// Model constraints every field selector meets, whatever its field.
fn check_shape(field_selector: &AdvancedFieldSelector) -> Result<(), ApiError> {
    let field = &field_selector.field;
    let field_ok = (1..=MAX_FIELD_CHARS).contains(&field.chars().count())
        && field.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '|'));
    if !field_ok {
        return Err(bad_value(field, "Field"));
    }
    if field_selector.operators().next().is_none() {
        return Err(invalid(format!(
            "Field selector for {field} must use at least one operator: Equals, StartsWith, EndsWith, NotEquals, \
             NotStartsWith or NotEndsWith."
        )));
    }
    for (op, values) in field_selector.operators() {
        if values.is_empty() {
            return Err(invalid(format!("Operator {} for field {field} must have at least one value.", op.as_str())));
        }
        for value in values {
            let length = value.chars().count();
            if length == 0 || length > MAX_VALUE_CHARS {
                return Err(bad_value_because(
                    value,
                    &format!("field {field}"),
                    "Values must be 1 to 2048 characters long.",
                ));
            }
            if value.contains('*') {
                return Err(bad_value_because(
                    value,
                    &format!("field {field}"),
                    "Wildcards (*) are not supported; use StartsWith, EndsWith, NotStartsWith or NotEndsWith.",
                ));
            }
        }
    }
    Ok(())
}

/// The selector's `eventCategory`: required, `Equals` only, exactly one allowed value.
fn event_category(selector: &AdvancedEventSelector, target: Target) -> Result<Category, ApiError> {
    let Some(field_selector) = selector.field_selectors.iter().find(|fs| fs.field == EVENT_CATEGORY) else {
        return Err(invalid("Field eventCategory is required in every advanced event selector."));
    };
    if let Some((op, _)) = field_selector.operators().find(|(op, _)| *op != Operator::Equals) {
        return Err(unsupported_operator(op, EVENT_CATEGORY, "Equals"));
    }
    let value = match field_selector.equals.as_deref() {
        Some([value]) => value,
        _ => return Err(single_value_required(EVENT_CATEGORY)),
    };
    match Category::parse(value) {
        Some(category) if category.allowed_in(target) => Ok(category),
        _ => Err(bad_value_because(
            value,
            "field eventCategory",
            &format!("It is not a valid category {}.", target.place()),
        )),
    }
}

/// The per-category rule for one non-`eventCategory` field selector.
fn check_field(
    field_selector: &AdvancedFieldSelector,
    rule: FieldRule,
    resource_type: Option<&str>,
) -> Result<(), ApiError> {
    let field = field_selector.field.as_str();
    for (op, values) in field_selector.operators() {
        if !rule.ops.allows(op) {
            return Err(unsupported_operator(op, field, rule.ops.describe()));
        }
        if rule.single_value && values.len() != 1 {
            return Err(single_value_required(field));
        }
        for value in values {
            check_value(rule.values, op, field, value, resource_type)?;
        }
    }
    Ok(())
}

fn check_value(
    rule: Values,
    op: Operator,
    field: &str,
    value: &str,
    resource_type: Option<&str>,
) -> Result<(), ApiError> {
    let what = format!("field {field}");
    match rule {
        Values::Any => Ok(()),
        Values::Bool if matches!(value, "true" | "false") => Ok(()),
        Values::Bool => Err(bad_value_because(value, &what, "Specify true or false.")),
        Values::OneOf(allowed) if allowed.contains(&value) => Ok(()),
        Values::OneOf(allowed) => {
            Err(bad_value_because(value, &what, &format!("Supported values: {}.", allowed.join(", "))))
        }
        Values::EventSource if is_event_source_name(value) => Ok(()),
        Values::EventSource => {
            Err(bad_value_because(value, &what, "Specify an event source such as ec2.amazonaws.com."))
        }
        Values::ResourceType if is_resource_type_name(value) => Ok(()),
        Values::ResourceType => Err(bad_value(value, &what)),
        Values::ResourceArn => {
            let exact = matches!(op, Operator::Equals | Operator::NotEquals);
            let ty = resource_type.unwrap_or("");
            if !exact || is_resource_arn(ty, value) {
                return Ok(());
            }
            Err(bad_value_because(
                value,
                &what,
                &format!("With {}, specify the exact ARN of a resource of type {}.", op.as_str(), echo(ty)),
            ))
        }
    }
}

fn unsupported_operator(op: Operator, field: &str, supported: &str) -> ApiError {
    invalid(format!("Operator {} is not supported for field {field}; use {supported}.", op.as_str()))
}

fn single_value_required(field: &str) -> ApiError {
    invalid(format!(
        "Field {field} must have exactly one value with Equals; use a separate advanced event selector for each value."
    ))
}

#[cfg(test)]
mod tests;
