//! Checks a resource-based policy document: IAM policy grammar as far as a resource policy needs it
//! (`Version`, `Statement` with `Effect`, `Principal`, `Action`, `Resource`), plus CloudTrail's rules
//! for channel policies (one action, `cloudtrail-data:PutAuditEvents`; at most 20 statements of at
//! most 50 principals; the resource is the channel). Every failure is `ResourcePolicyNotValidException`
//! saying what is wrong.

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// The kind of resource a policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyTarget {
    EventDataStore,
    Dashboard,
    Channel,
}

/// The only action a channel policy may name.
const CHANNEL_ACTION: &str = "cloudtrail-data:PutAuditEvents";
const MAX_CHANNEL_STATEMENTS: usize = 20;
const MAX_CHANNEL_PRINCIPALS: usize = 50;
const POLICY_VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];
const STATEMENT_MEMBERS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

/// Checks `policy` for the resource `resource_arn` of kind `target`.
pub(crate) fn check(policy: &str, resource_arn: &str, target: PolicyTarget) -> Result<(), ApiError> {
    let document: Value =
        serde_json::from_str(policy).map_err(|error| not_valid(format!("the policy is not valid JSON ({error}).")))?;
    let Value::Object(document) = document else {
        return Err(not_valid("the policy must be a JSON object.".to_owned()));
    };
    for key in document.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(not_valid(format!("unknown policy member {}.", truncate_for_message(key))));
        }
    }
    match document.get("Version") {
        None => {}
        Some(Value::String(version)) if POLICY_VERSIONS.contains(&version.as_str()) => {}
        Some(other) => {
            return Err(not_valid(format!("Version must be 2012-10-17 or 2008-10-17, not {}.", shown(other))));
        }
    }
    let statements: Vec<&Value> = match document.get("Statement") {
        None => return Err(not_valid("the policy has no Statement.".to_owned())),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(other) => return Err(not_valid(format!("Statement must be an object or a list, not {}.", shown(other)))),
    };
    if statements.is_empty() {
        return Err(not_valid("the policy has no statements; it needs at least one.".to_owned()));
    }
    if target == PolicyTarget::Channel && statements.len() > MAX_CHANNEL_STATEMENTS {
        return Err(not_valid(format!(
            "a channel policy has at most {MAX_CHANNEL_STATEMENTS} statements; this one has {}.",
            statements.len()
        )));
    }
    for (idx, statement) in statements.into_iter().enumerate() {
        let Value::Object(statement) = statement else {
            return Err(not_valid(format!("statement {} is not a JSON object.", idx + 1)));
        };
        check_statement(statement, resource_arn, target)
            .map_err(|why| not_valid(format!("statement {}: {why}", idx + 1)))?;
    }
    Ok(())
}

fn check_statement(statement: &Map<String, Value>, resource_arn: &str, target: PolicyTarget) -> Result<(), String> {
    if let Some(key) = statement.keys().find(|key| !STATEMENT_MEMBERS.contains(&key.as_str())) {
        return Err(format!("unknown member {}.", truncate_for_message(key)));
    }
    match statement.get("Effect") {
        Some(Value::String(effect)) if effect == "Allow" || effect == "Deny" => {}
        Some(other) => return Err(format!("Effect must be Allow or Deny, not {}.", shown(other))),
        None => return Err("Effect is missing.".to_owned()),
    }
    let principal = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(principal), None) | (None, Some(principal)) => principal,
        (Some(_), Some(_)) => return Err("give Principal or NotPrincipal, not both.".to_owned()),
        (None, None) => return Err("a resource policy statement needs a Principal.".to_owned()),
    };
    let n_principals = check_principal(principal)?;
    if target == PolicyTarget::Channel && n_principals > MAX_CHANNEL_PRINCIPALS {
        return Err(format!(
            "a channel policy statement has at most {MAX_CHANNEL_PRINCIPALS} principals; this one has {n_principals}."
        ));
    }
    let actions = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), None) => strings(actions, "Action")?,
        (None, Some(actions)) if target != PolicyTarget::Channel => strings(actions, "NotAction")?,
        (None, Some(_)) => return Err(format!("a channel policy names its one action, {CHANNEL_ACTION}, in Action.")),
        (Some(_), Some(_)) => return Err("give Action or NotAction, not both.".to_owned()),
        (None, None) => return Err("Action is missing.".to_owned()),
    };
    for action in &actions {
        check_action(action, target)?;
    }
    if let Some(resources) = statement.get("Resource") {
        for resource in strings(resources, "Resource")? {
            if !names_resource(resource, resource_arn) {
                return Err(format!(
                    "Resource {} does not name {resource_arn}, the resource the policy is attached to.",
                    truncate_for_message(resource)
                ));
            }
        }
    } else if statement.contains_key("NotResource") && target == PolicyTarget::Channel {
        return Err("a channel policy cannot use NotResource.".to_owned());
    }
    if let Some(condition) = statement.get("Condition")
        && !condition.is_object()
    {
        return Err(format!("Condition must be an object, not {}.", shown(condition)));
    }
    Ok(())
}

/// `"*"`, or an object of `AWS`, `Service`, `Federated` or `CanonicalUser` principals; returns how
/// many principals it names.
fn check_principal(principal: &Value) -> Result<usize, String> {
    let entries = match principal {
        Value::String(star) if star == "*" => return Ok(1),
        Value::Object(entries) if !entries.is_empty() => entries,
        other => return Err(format!("Principal must be \"*\" or an object of principals, not {}.", shown(other))),
    };
    let mut n_principals = 0;
    for (kind, values) in entries {
        let values = strings(values, &format!("Principal.{kind}"))?;
        for value in &values {
            let valid = match kind.as_str() {
                "AWS" => is_aws_principal(value),
                "Service" => value.ends_with(".amazonaws.com") && value.len() > ".amazonaws.com".len(),
                "Federated" | "CanonicalUser" => !value.is_empty(),
                _ => return Err(format!("unknown principal type {}.", truncate_for_message(kind))),
            };
            if !valid {
                return Err(format!("{} is not a valid {kind} principal.", truncate_for_message(value)));
            }
        }
        n_principals += values.len();
    }
    Ok(n_principals)
}

/// `*`, a 12-digit account ID, or an IAM or STS ARN.
fn is_aws_principal(value: &str) -> bool {
    if value == "*" || is_account_id(value) {
        return true;
    }
    Arn::parse(value)
        .is_some_and(|arn| matches!(arn.service, "iam" | "sts") && arn.region.is_empty() && is_account_id(arn.account))
}

fn check_action(action: &str, target: PolicyTarget) -> Result<(), String> {
    let shown_action = truncate_for_message(action);
    match target {
        PolicyTarget::Channel if action != CHANNEL_ACTION => {
            Err(format!("a channel policy allows only the action {CHANNEL_ACTION}, not {shown_action}."))
        }
        PolicyTarget::Channel => Ok(()),
        PolicyTarget::EventDataStore | PolicyTarget::Dashboard => {
            let valid = action == "*"
                || action.strip_prefix("cloudtrail:").is_some_and(|name| {
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
                });
            if valid {
                Ok(())
            } else {
                Err(format!("{shown_action} is not a CloudTrail action (cloudtrail:<Operation>)."))
            }
        }
    }
}

/// Whether a statement's `Resource` names the resource the policy is attached to (`*` and wildcards
/// that match it do).
fn names_resource(pattern: &str, resource_arn: &str) -> bool {
    wildcard_match(pattern.as_bytes(), resource_arn.as_bytes())
}

/// IAM-style matching: `*` any run of characters, `?` any one.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A string, or a non-empty list of strings.
fn strings<'v>(value: &'v Value, member: &str) -> Result<Vec<&'v str>, String> {
    match value {
        Value::String(one) => Ok(vec![one]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().ok_or_else(|| format!("{member} must list strings, not {}.", shown(item))))
            .collect(),
        other => Err(format!("{member} must be a string or a non-empty list of strings, not {}.", shown(other))),
    }
}

fn shown(value: &Value) -> String {
    truncate_for_message(&value.to_string())
}

fn not_valid(why: String) -> ApiError {
    ApiError::new(ErrorCode::ResourcePolicyNotValid, format!("The resource policy is not valid: {why}"))
}
