//! Tests of `types`.
use serde_json::{Value, json};

use crate::{AdvancedEventSelector, EventSelector};

/// Wire JSON parses into `T` and serialises back to `expected`
/// (`None` members omitted, names in PascalCase); `Err` rows must not parse.
fn check<T>(input: Value, expected: Result<Value, ()>)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let actual = serde_json::from_value::<T>(input.clone())
        .map(|parsed| serde_json::to_value(parsed).expect("serialises"))
        .map_err(|_| ());
    assert_eq!(actual, expected, "input {input}");
}

#[test]
fn event_selector_wire_shape() {
    check::<EventSelector>(json!({}), Ok(json!({})));
    check::<EventSelector>(json!({"ReadWriteType": "All"}), Ok(json!({"ReadWriteType": "All"})));
    check::<EventSelector>(json!({"ReadWriteType": null}), Ok(json!({})));
    let full = json!({
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": false,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}, {"Type": "AWS::Lambda::Function"}],
        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
    });
    check::<EventSelector>(full.clone(), Ok(full));
    // Unknown members are ignored, as AWS does.
    check::<EventSelector>(json!({"Bogus": 1}), Ok(json!({})));
    check::<EventSelector>(json!({"ReadWriteType": 5}), Err(()));
}

#[test]
fn advanced_selector_wire_shape() {
    let full = json!({
        "Name": "n",
        "FieldSelectors": [{
            "Field": "eventName",
            "Equals": ["a"], "StartsWith": ["b"], "EndsWith": ["c"],
            "NotEquals": ["d"], "NotStartsWith": ["e"], "NotEndsWith": ["f"],
        }],
    });
    check::<AdvancedEventSelector>(full.clone(), Ok(full));
    check::<AdvancedEventSelector>(
        json!({"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}),
        Ok(json!({"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]})),
    );
    check::<AdvancedEventSelector>(json!({"Name": "n"}), Err(()));
    check::<AdvancedEventSelector>(json!({"FieldSelectors": [{"Equals": ["x"]}]}), Err(()));
}
