//! What a target receives: the event, or a target's `Input`, `InputPath` or `InputTransformer`
//! applied to it (EventBridge's `Target` members; at most one of the three is set).

use std::collections::BTreeMap;

use cairn_store::rules::RuleTarget;
use serde_json::Value;

/// A target's input settings that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("Only one of Input, InputPath, or InputTransformer must be provided.")]
    SeveralInputs,
    #[error("Input is not valid JSON.")]
    InputNotJson,
    #[error("The JSON path {0} is not valid; cairn supports $, $.a.b and $.a[0].b")]
    BadPath(String),
    #[error("InputPathsMap may not name the predefined variable {0}")]
    ReservedVariable(String),
}

/// A JSON path of the subset EventBridge users write: `$`, `$.a.b`, `$.a[0].b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, InputError> {
        let bad = || InputError::BadPath(cairn_model::error::truncate_for_message(text));
        let rest = text.strip_prefix('$').ok_or_else(bad)?;
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut name = String::new();
                    while let Some(&next) = chars.peek() {
                        if next == '.' || next == '[' {
                            break;
                        }
                        name.push(next);
                        chars.next();
                    }
                    if name.is_empty() {
                        return Err(bad());
                    }
                    steps.push(Step::Member(name));
                }
                '[' => {
                    let mut digits = String::new();
                    for next in chars.by_ref() {
                        if next == ']' {
                            break;
                        }
                        digits.push(next);
                    }
                    steps.push(Step::Index(digits.parse().map_err(|_| bad())?));
                }
                _ => return Err(bad()),
            }
        }
        Ok(JsonPath { steps })
    }

    /// The value at this path in `event`, if there is one.
    pub fn select<'a>(&self, event: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(event, |value, step| match step {
            Step::Member(name) => value.get(name.as_str()),
            Step::Index(index) => value.get(*index),
        })
    }
}

/// The rule a delivery is made for, for the predefined `aws.events.*` variables.
#[derive(Debug, Clone, Copy)]
pub struct RuleNames<'a> {
    pub name: &'a str,
    pub arn: &'a str,
}

/// Checks a target's input settings (at `PutTargets`).
pub fn check_target_input(target: &RuleTarget) -> Result<(), InputError> {
    let n_set = [target.input.is_some(), target.input_path.is_some(), target.input_transformer.is_some()]
        .into_iter()
        .filter(|set| *set)
        .count();
    if n_set > 1 {
        return Err(InputError::SeveralInputs);
    }
    if let Some(input) = &target.input
        && serde_json::from_str::<Value>(input).is_err()
    {
        return Err(InputError::InputNotJson);
    }
    if let Some(path) = &target.input_path {
        JsonPath::parse(path)?;
    }
    if let Some(transformer) = &target.input_transformer {
        for (name, path) in &transformer.input_paths_map {
            if name.starts_with("aws.events.") {
                return Err(InputError::ReservedVariable(name.clone()));
            }
            JsonPath::parse(path)?;
        }
    }
    Ok(())
}

/// The body a target receives for `event`. Settings are checked at `PutTargets`; a path that no
/// longer parses (an older record) selects nothing.
pub fn target_input(target: &RuleTarget, event: &Value, rule: RuleNames<'_>) -> String {
    if let Some(input) = &target.input {
        return input.clone();
    }
    if let Some(path) = &target.input_path {
        let selected = JsonPath::parse(path).ok().and_then(|path| path.select(event).cloned());
        return selected.unwrap_or(Value::Null).to_string();
    }
    if let Some(transformer) = &target.input_transformer {
        let mut values: BTreeMap<&str, Value> = transformer
            .input_paths_map
            .iter()
            .map(|(name, path)| {
                let value = JsonPath::parse(path).ok().and_then(|path| path.select(event).cloned());
                (name.as_str(), value.unwrap_or(Value::Null))
            })
            .collect();
        values.insert("aws.events.rule-name", Value::String(rule.name.to_owned()));
        values.insert("aws.events.rule-arn", Value::String(rule.arn.to_owned()));
        values.insert("aws.events.event", event.clone());
        values.insert("aws.events.event.json", event.clone());
        if let Some(time) = event.get("time") {
            values.insert("aws.events.event.ingestion-time", time.clone());
        }
        return fill_template(&transformer.input_template, &values);
    }
    event.to_string()
}

/// Replaces each `<name>` of `template` that `values` defines. Inside a JSON string literal a value
/// goes in as string content (strings bare, other values as their JSON text, escaped); elsewhere as
/// JSON (EventBridge's rule: `"<name>"` quotes, `<name>` does not).
fn fill_template(template: &str, values: &BTreeMap<&str, Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && let Some(name) = rest.get(1..end)
            && let Some(value) = values.get(name)
        {
            if in_string {
                let content = match value {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                let quoted = Value::String(content).to_string();
                out.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
            } else {
                out.push_str(&value.to_string());
            }
            rest = rest.get(end + 1..).unwrap_or("");
            escaped = false;
            continue;
        }
        if in_string && escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests;
