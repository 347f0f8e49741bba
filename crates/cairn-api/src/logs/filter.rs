//! FilterLogEvents' filter patterns, the two common forms: terms (`ERROR "access denied"`: every
//! term must occur, case-sensitively) and one JSON comparison (`{ $.eventName = "CreateTrail" }`,
//! `=` or `!=`, a string, a number or a `*`-ended prefix).

use cairn_model::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FilterPattern {
    Terms(Vec<String>),
    Json { path: Vec<String>, equal: bool, value: String },
}

impl FilterPattern {
    pub(super) fn parse(text: &str) -> Result<FilterPattern, ApiError> {
        let text = text.trim();
        let invalid = || {
            ApiError::invalid_parameter(format!(
                "Invalid filter pattern: {}",
                cairn_model::error::truncate_for_message(text)
            ))
        };
        if let Some(inner) = text.strip_prefix('{') {
            let inner = inner.strip_suffix('}').ok_or_else(invalid)?.trim();
            let (left, equal, right) = match inner.split_once("!=") {
                Some((left, right)) => (left, false, right),
                None => {
                    let (left, right) = inner.split_once('=').ok_or_else(invalid)?;
                    (left, true, right)
                }
            };
            let path = left.trim().strip_prefix("$.").ok_or_else(invalid)?;
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(invalid());
            }
            let right = right.trim();
            let value = match right.strip_prefix('"') {
                Some(quoted) => quoted.strip_suffix('"').ok_or_else(invalid)?,
                None if !right.is_empty() => right,
                None => return Err(invalid()),
            };
            return Ok(FilterPattern::Json {
                path: path.split('.').map(str::to_owned).collect(),
                equal,
                value: value.to_owned(),
            });
        }
        let mut terms = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            rest = &rest[start..];
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').ok_or_else(invalid)?;
                terms.push(quoted[..end].to_owned());
                rest = &quoted[end + 1..];
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                terms.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
        Ok(FilterPattern::Terms(terms))
    }

    pub(super) fn matches(&self, message: &str) -> bool {
        match self {
            FilterPattern::Terms(terms) => terms.iter().all(|term| message.contains(term.as_str())),
            FilterPattern::Json { path, equal, value } => {
                let Ok(json) = serde_json::from_str::<Value>(message) else { return false };
                let found = path.iter().try_fold(&json, |node, key| node.get(key));
                let text = match found {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::Bool(b)) => b.to_string(),
                    // A missing member matches neither `=` nor `!=`, as in CloudWatch Logs.
                    _ => return false,
                };
                let same = match value.strip_suffix('*') {
                    Some(prefix) => text.starts_with(prefix),
                    None => text == *value,
                };
                same == *equal
            }
        }
    }
}
