//! PutTargets, RemoveTargets and ListTargetsByRule. A target's `Arn` decides its kind (see
//! `cairn_deliver::rules::TargetKind`): one cairn cannot deliver to is a failed entry, as EventBridge
//! reports targets it refuses.

use cairn_deliver::rules::{TargetKind, check_target_input};
use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::rules::{RuleRecord, RuleTarget};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rules::{check_bus, checked_name, constraint, invalid_token, list_limit, not_found, valid_name};
use crate::cloudtrail::Ctx;
use crate::{json11, pagination};

/// Targets per rule (EventBridge's quota).
const MAX_TARGETS_PER_RULE: usize = 5;
/// Targets per PutTargets or RemoveTargets call (the API model's bound).
const MAX_TARGETS_PER_CALL: usize = 10;
/// The longest `Input` or `InputTemplate` (the API model's bounds).
const MAX_INPUT_CHARS: usize = 8192;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutTargetsInput {
    rule: Option<String>,
    event_bus_name: Option<String>,
    #[serde(default)]
    targets: Vec<RuleTarget>,
}

pub(super) fn put_targets(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: PutTargetsInput = json11::input(input)?;
    let name = checked_name(input.rule.as_deref(), "rule")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    if input.targets.is_empty() || input.targets.len() > MAX_TARGETS_PER_CALL {
        return Err(constraint(
            &input.targets.len().to_string(),
            "targets",
            "Member must have length between 1 and 10",
        ));
    }
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for target in input.targets {
        check_target(&target)?;
        match TargetKind::of(&target.arn) {
            Ok(_) => accepted.push(target),
            Err(error) => failed.push(json!({
                "TargetId": target.id,
                "ErrorCode": "ValidationException",
                "ErrorMessage": error.to_string(),
            })),
        }
    }
    let key = RuleRecord::key_of(ctx.account_id(), ctx.region(), name);
    ctx.state.rules.transact(|rules| {
        let mut rule = rules.get(&key).cloned().ok_or_else(|| not_found(name))?;
        for target in accepted {
            match rule.targets.iter_mut().find(|existing| existing.id == target.id) {
                Some(existing) => *existing = target,
                None => rule.targets.push(target),
            }
        }
        if rule.targets.len() > MAX_TARGETS_PER_RULE {
            return Err(ApiError::new(
                ErrorCode::LimitExceeded,
                format!("The requested resource exceeds the maximum number allowed ({MAX_TARGETS_PER_RULE} targets per rule)."),
            ));
        }
        Ok::<_, ApiError>(((), vec![Change::Put(rule)]))
    })?;
    ctx.state.rule_dispatcher.rules_changed();
    Ok(json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed }))
}

/// A target's members, checked as the API model and EventBridge check them.
fn check_target(target: &RuleTarget) -> Result<(), ApiError> {
    if !valid_name(&target.id) {
        return Err(constraint(
            &target.id,
            "targets.member.id",
            r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+ and have length between 1 and 64",
        ));
    }
    if target.arn.is_empty() || target.arn.len() > 1600 {
        return Err(constraint(&target.arn, "targets.member.arn", "Member must have length between 1 and 1600"));
    }
    let template = target.input_transformer.as_ref().map(|t| t.input_template.as_str());
    for text in [target.input.as_deref(), template].into_iter().flatten() {
        if text.chars().count() > MAX_INPUT_CHARS {
            return Err(constraint("…", "targets.member.input", "Member must have length less than or equal to 8192"));
        }
    }
    check_target_input(target).map_err(|error| ApiError::new(ErrorCode::Validation, error.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RemoveTargetsInput {
    rule: Option<String>,
    event_bus_name: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
}

pub(super) fn remove_targets(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: RemoveTargetsInput = json11::input(input)?;
    let name = checked_name(input.rule.as_deref(), "rule")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    if input.ids.is_empty() || input.ids.len() > MAX_TARGETS_PER_CALL {
        return Err(constraint(&input.ids.len().to_string(), "ids", "Member must have length between 1 and 10"));
    }
    let key = RuleRecord::key_of(ctx.account_id(), ctx.region(), name);
    ctx.state.rules.transact(|rules| {
        let mut rule = rules.get(&key).cloned().ok_or_else(|| not_found(name))?;
        rule.targets.retain(|target| !input.ids.contains(&target.id));
        Ok::<_, ApiError>(((), vec![Change::Put(rule)]))
    })?;
    ctx.state.rule_dispatcher.rules_changed();
    Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTargetsInput {
    rule: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn list_targets_by_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: ListTargetsInput = json11::input(input)?;
    let name = checked_name(input.rule.as_deref(), "rule")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    let limit = list_limit(input.limit)?;
    let rule = super::rules::find(ctx, name)?;
    let start = match input.next_token.as_deref() {
        Some(token) => {
            pagination::decode_offset(token, "ListTargetsByRule", &rule.name, "rule").map_err(invalid_token)?
        }
        None => 0,
    };
    let page: Vec<&RuleTarget> = rule.targets.iter().skip(start).take(limit).collect();
    let mut output = json!({ "Targets": page });
    if start + page.len() < rule.targets.len()
        && let Some(members) = output.as_object_mut()
    {
        let token = pagination::encode_offset(&rule.name, start + page.len(), "ListTargetsByRule");
        members.insert("NextToken".into(), token.into());
    }
    Ok(output)
}
