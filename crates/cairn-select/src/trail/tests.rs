//! Tests of `trail`.
use serde_json::{Value, json};

use super::*;
use cairn_model::ErrorCode;

/// A `PutEventSelectors` request's selector members (JSON, `null` for absent) and
/// the disk form of the resulting [`TrailSelectors`] or the error message.
fn check(basic: Value, advanced: Value, expected: Result<Value, &str>) {
    let basic_in: Option<Vec<EventSelector>> = serde_json::from_value(basic.clone()).expect("basic JSON");
    let advanced_in: Option<Vec<AdvancedEventSelector>> =
        serde_json::from_value(advanced.clone()).expect("advanced JSON");
    let actual = validate_put_event_selectors(basic_in, advanced_in)
        .map(|s| serde_json::to_value(s).expect("serialises"))
        .map_err(|e| {
            assert_eq!(e.code, ErrorCode::InvalidEventSelectors);
            e.message
        });
    assert_eq!(actual, expected.map_err(str::to_owned), "basic {basic} advanced {advanced}");
}

const DEFAULT_BASIC: &str =
    r#"{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}"#;

fn default_basic() -> Value {
    serde_json::from_str(DEFAULT_BASIC).unwrap_or_default()
}

#[test]
fn put_event_selectors_takes_one_form() {
    let management = json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]);
    check(json!([{}]), Value::Null, Ok(json!({"Basic": [default_basic()]})));
    check(Value::Null, management.clone(), Ok(json!({"Advanced": management})));
    check(
        json!([{}]),
        management,
        Err("You can select events by using either EventSelectors or AdvancedEventSelectors, but not both."),
    );
    check(Value::Null, Value::Null, Err("Specify either EventSelectors or AdvancedEventSelectors."));
    check(json!([{"ReadWriteType": "Bogus"}]), Value::Null, Err("Value Bogus for ReadWriteType is invalid."));
    check(
        Value::Null,
        json!([{"FieldSelectors": []}]),
        Err("Each advanced event selector must contain at least one field selector."),
    );
}

#[test]
fn defaults_and_custom_selectors() {
    let default = TrailSelectors::default_for_trail();
    assert_eq!(serde_json::to_value(&default).ok(), Some(json!({"Basic": [default_basic()]})));
    assert_eq!(default.basic().map(<[EventSelector]>::len), Some(1));
    assert_eq!(default.advanced(), None);
    for (disk, is_default) in [
        (json!({"Basic": [default_basic()]}), true),
        (json!({"Basic": [{}]}), true),
        (json!({"Basic": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}), true),
        (json!({"Basic": [{"ReadWriteType": "ReadOnly"}]}), false),
        (json!({"Basic": [{}, {}]}), false),
        (json!({"Basic": []}), false),
        (json!({"Basic": [{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}), false),
        (json!({"Advanced": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}), false),
    ] {
        let selectors: TrailSelectors = serde_json::from_value(disk.clone()).expect("disk JSON");
        assert_eq!(selectors.is_default(), is_default, "{disk}");
        // The disk form round-trips.
        let again: TrailSelectors =
            serde_json::from_value(serde_json::to_value(&selectors).expect("serialises")).expect("parses");
        assert_eq!(again, selectors);
    }
}

#[test]
fn event_data_store_default_is_management_events() {
    let selectors = default_event_data_store_selectors();
    assert_eq!(
        serde_json::to_value(&selectors).ok(),
        Some(
            json!([{"Name": "Default management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
        )
    );
    assert_eq!(crate::validate_event_data_store_advanced_event_selectors(selectors.clone()), Ok(selectors));
}
