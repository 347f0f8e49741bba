//! `requestParameters` and `responseElements` as CloudTrail records them: the
//! operation's JSON with member names in lowerCamel case (`S3BucketName` →
//! `s3BucketName`), secrets redacted, and nothing over 100 KB.

use serde_json::{Map, Value};

/// Members whose values never reach a record.
const REDACTED_MEMBERS: &[&str] = &["secretAccessKey", "password", "sessionToken", "privateKey"];
const REDACTED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// `value` with every object key in lowerCamel case and secrets redacted.
pub(crate) fn recorded_form(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut out = Map::with_capacity(members.len());
            for (key, member) in members {
                let key = lower_camel(key);
                let member = if REDACTED_MEMBERS.contains(&key.as_str()) {
                    Value::String(REDACTED.to_owned())
                } else {
                    recorded_form(member)
                };
                out.insert(key, member);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(recorded_form).collect()),
        other => other.clone(),
    }
}

/// `S3BucketName` → `s3BucketName`, `TrailARN` → `trailARN`, `trailNameList` unchanged.
pub(crate) fn lower_camel(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_become_lower_camel_and_secrets_are_hidden() {
        let input = json!({
            "Name": "t",
            "S3BucketName": "b",
            "EventSelectors": [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["x"]}]}],
            "trailNameList": ["t"],
            "SecretAccessKey": "s3cr3t"
        });
        let expected = json!({
            "name": "t",
            "s3BucketName": "b",
            "eventSelectors": [{"readWriteType": "All", "dataResources": [{"type": "AWS::S3::Object", "values": ["x"]}]}],
            "trailNameList": ["t"],
            "secretAccessKey": "HIDDEN_DUE_TO_SECURITY_REASONS"
        });
        assert_eq!(recorded_form(&input), expected);
    }
}
