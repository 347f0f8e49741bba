//! PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule and TestEventPattern.

use cairn_deliver::rules::alarm::AlarmSpec;
use cairn_model::{ApiError, ErrorCode};
use cairn_select::EventPattern;
use cairn_store::Change;
use cairn_store::rules::{RuleRecord, RuleState, RuleTag};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cloudtrail::Ctx;
use crate::{json11, pagination};

/// Rules per event bus (EventBridge's default quota).
const MAX_RULES: usize = 300;
const MAX_DESCRIPTION: usize = 512;
const MAX_LIST_LIMIT: usize = 100;
const NAME_PATTERN: &str = r"[\.\-_A-Za-z0-9]+";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRuleInput {
    name: Option<String>,
    event_pattern: Option<String>,
    schedule_expression: Option<String>,
    state: Option<String>,
    description: Option<String>,
    event_bus_name: Option<String>,
    tags: Option<Vec<RuleTag>>,
}

pub(super) fn put_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: PutRuleInput = json11::input(input)?;
    let name = checked_name(input.name.as_deref(), "name")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    if input.schedule_expression.is_some() {
        return Err(ApiError::new(
            ErrorCode::Validation,
            "cairn does not support ScheduleExpression: its rules match recorded events with an EventPattern.",
        ));
    }
    let pattern = input.event_pattern.ok_or_else(|| {
        ApiError::new(ErrorCode::Validation, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    })?;
    check_pattern(&pattern)?;
    let state = match input.state.as_deref() {
        None => RuleState::Enabled,
        Some(given) => RuleState::parse(given).ok_or_else(|| {
            constraint(
                given,
                "state",
                "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            )
        })?,
    };
    if let Some(description) = &input.description
        && description.chars().count() > MAX_DESCRIPTION
    {
        return Err(constraint(description, "description", "Member must have length less than or equal to 512"));
    }
    if let Some(tags) = &input.tags {
        // Tags may make the rule an alarm; a malformed alarm is refused here, not found later.
        AlarmSpec::from_tags(tags.iter().map(|tag| (tag.key.as_str(), tag.value.as_str())))
            .map_err(|message| ApiError::new(ErrorCode::Validation, message))?;
    }
    let (account, region) = (ctx.account_id().to_owned(), ctx.region().to_owned());
    let key = RuleRecord::key_of(&account, &region, name);
    let arn = ctx.state.rules.transact(|rules| {
        let existing = rules.get(&key);
        if existing.is_none()
            && rules.values().filter(|r| r.account_id == account && r.region == region).count() >= MAX_RULES
        {
            return Err(ApiError::new(
                ErrorCode::LimitExceeded,
                "The requested resource exceeds the maximum number allowed.",
            ));
        }
        let record = RuleRecord {
            account_id: account.clone(),
            region: region.clone(),
            name: name.to_owned(),
            event_pattern: pattern.clone(),
            state,
            description: input.description.clone(),
            targets: existing.map(|r| r.targets.clone()).unwrap_or_default(),
            created_at: existing.map_or_else(|| ctx.now(), |r| r.created_at),
            // Tags given replace the rule's (so an existing rule can become an alarm, or stop being one).
            tags: input.tags.clone().unwrap_or_else(|| existing.map(|r| r.tags.clone()).unwrap_or_default()),
        };
        Ok((record.arn(), vec![Change::Put(record)]))
    })?;
    ctx.state.rule_dispatcher.rules_changed();
    Ok(json!({ "RuleArn": arn }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NamedRuleInput {
    name: Option<String>,
    event_bus_name: Option<String>,
}

pub(super) fn describe_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: NamedRuleInput = json11::input(input)?;
    let name = checked_name(input.name.as_deref(), "name")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    let rule = find(ctx, name)?;
    let mut output = rule_shape(&rule);
    if let Some(members) = output.as_object_mut() {
        members.insert("CreatedBy".into(), rule.account_id.clone().into());
    }
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRulesInput {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn list_rules(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: ListRulesInput = json11::input(input)?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    let limit = list_limit(input.limit)?;
    let after = input
        .next_token
        .as_deref()
        .map(|token| pagination::decode(token, "ListRules").map_err(invalid_token))
        .transpose()?;
    let prefix = input.name_prefix.unwrap_or_default();
    let (account, region) = (ctx.account_id(), ctx.region());
    let mut page: Vec<RuleRecord> = ctx.state.rules.read(|rules| {
        rules
            .values()
            .filter(|r| r.account_id == account && r.region == region && r.name.starts_with(&prefix))
            .filter(|r| after.as_deref().is_none_or(|after| r.name.as_str() > after))
            .take(limit + 1)
            .cloned()
            .collect()
    });
    let more = page.len() > limit;
    page.truncate(limit);
    let mut output = json!({ "Rules": page.iter().map(rule_shape).collect::<Vec<_>>() });
    if more && let (Some(last), Some(members)) = (page.last(), output.as_object_mut()) {
        members.insert("NextToken".into(), pagination::encode(&last.name, "ListRules").into());
    }
    Ok(output)
}

pub(super) fn delete_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: NamedRuleInput = json11::input(input)?;
    let name = checked_name(input.name.as_deref(), "name")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    let key = RuleRecord::key_of(ctx.account_id(), ctx.region(), name);
    ctx.state.rules.transact(|rules| match rules.get(&key) {
        // Deleting a rule that is not there succeeds: EventBridge's DeleteRule is idempotent.
        None => Ok(((), Vec::new())),
        Some(rule) if !rule.targets.is_empty() => {
            Err(ApiError::new(ErrorCode::Validation, "Rule can't be deleted since it has targets."))
        }
        Some(_) => Ok(((), vec![Change::Delete(key.clone())])),
    })?;
    ctx.state.rule_dispatcher.rules_changed();
    Ok(json!({}))
}

pub(super) fn enable_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    set_state(ctx, input, |current| match current {
        RuleState::Disabled => RuleState::Enabled,
        enabled => enabled,
    })
}

pub(super) fn disable_rule(ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    set_state(ctx, input, |_| RuleState::Disabled)
}

fn set_state(ctx: &Ctx<'_>, input: Value, next: impl FnOnce(RuleState) -> RuleState) -> Result<Value, ApiError> {
    let input: NamedRuleInput = json11::input(input)?;
    let name = checked_name(input.name.as_deref(), "name")?;
    check_bus(ctx, input.event_bus_name.as_deref())?;
    let key = RuleRecord::key_of(ctx.account_id(), ctx.region(), name);
    ctx.state.rules.transact(|rules| {
        let mut rule = rules.get(&key).cloned().ok_or_else(|| not_found(name))?;
        rule.state = next(rule.state);
        Ok::<_, ApiError>(((), vec![Change::Put(rule)]))
    })?;
    ctx.state.rule_dispatcher.rules_changed();
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestEventPatternInput {
    event_pattern: Option<String>,
    event: Option<String>,
}

/// Members an event given to TestEventPattern must have (the operation's documentation).
const REQUIRED_EVENT_MEMBERS: &[&str] = &["id", "account", "source", "time", "region", "detail-type"];

pub(super) fn test_event_pattern(_ctx: &Ctx<'_>, input: Value) -> Result<Value, ApiError> {
    let input: TestEventPatternInput = json11::input(input)?;
    let pattern = check_pattern(input.event_pattern.as_deref().unwrap_or(""))?;
    let invalid_event = || ApiError::new(ErrorCode::Validation, "Parameter Event is not valid.");
    let event: Value = serde_json::from_str(input.event.as_deref().unwrap_or("")).map_err(|_| invalid_event())?;
    let members = event.as_object().ok_or_else(invalid_event)?;
    if REQUIRED_EVENT_MEMBERS.iter().any(|member| !members.contains_key(*member)) {
        return Err(invalid_event());
    }
    Ok(json!({ "Result": pattern.matches(&event) }))
}

/// A rule as DescribeRule and ListRules show it.
fn rule_shape(rule: &RuleRecord) -> Value {
    let mut shape = json!({
        "Name": rule.name,
        "Arn": rule.arn(),
        "EventPattern": rule.event_pattern,
        "State": rule.state.as_str(),
    });
    if let (Some(description), Some(members)) = (&rule.description, shape.as_object_mut()) {
        members.insert("Description".into(), description.clone().into());
    }
    if let Some(members) = shape.as_object_mut() {
        members.insert("EventBusName".into(), "default".into());
    }
    shape
}

/// Whether `name` is a valid rule name or target ID (1 to 64 of `[.\-_A-Za-z0-9]`).
pub(super) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `given` as a rule name (`member` names it in the message), or AWS's constraint error.
pub(super) fn checked_name<'a>(given: Option<&'a str>, member: &str) -> Result<&'a str, ApiError> {
    let given = given.unwrap_or("");
    if given.is_empty() || given.len() > 64 {
        return Err(constraint(given, member, "Member must have length between 1 and 64"));
    }
    if !valid_name(given) {
        return Err(constraint(
            given,
            member,
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ));
    }
    Ok(given)
}

/// The rule `name` of the caller's account and region.
pub(super) fn find(ctx: &Ctx<'_>, name: &str) -> Result<RuleRecord, ApiError> {
    ctx.state.rules.get(&RuleRecord::key_of(ctx.account_id(), ctx.region(), name)).ok_or_else(|| not_found(name))
}

pub(super) fn not_found(name: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound, format!("Rule {name} does not exist on EventBus default."))
}

/// Only the default event bus exists (by name or ARN).
pub(super) fn check_bus(ctx: &Ctx<'_>, bus: Option<&str>) -> Result<(), ApiError> {
    let default_arn = format!("arn:aws:events:{}:{}:event-bus/default", ctx.region(), ctx.account_id());
    match bus {
        None | Some("default") => Ok(()),
        Some(arn) if arn == default_arn => Ok(()),
        Some(other) => Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("Event bus {} does not exist.", cairn_model::error::truncate_for_message(other)),
        )),
    }
}

pub(super) fn list_limit(limit: Option<i64>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(MAX_LIST_LIMIT),
        Some(limit) if (1..=MAX_LIST_LIMIT as i64).contains(&limit) => Ok(limit as usize),
        Some(limit) => Err(constraint(&limit.to_string(), "limit", "Member must have value between 1 and 100")),
    }
}

/// EventBridge lists no `InvalidNextTokenException`: a token it did not make is a validation error.
pub(super) fn invalid_token(_: ApiError) -> ApiError {
    ApiError::new(ErrorCode::Validation, "The NextToken is not valid.")
}

fn check_pattern(text: &str) -> Result<EventPattern, ApiError> {
    EventPattern::parse(text).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidEventPattern,
            format!("Event pattern is not valid. Reason: {}", error.message()),
        )
    })
}

/// AWS's message for a member that breaks a constraint of the model.
pub(super) fn constraint(value: &str, member: &str, rule: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Validation,
        format!(
            "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: {rule}",
            cairn_model::error::truncate_for_message(value)
        ),
    )
}
