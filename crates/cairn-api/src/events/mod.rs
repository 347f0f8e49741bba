//! Amazon EventBridge's rules API on the default event bus (issue 9): requests whose SigV4 scope
//! names `events`, AWS JSON 1.1 with `X-Amz-Target: AWSEvents.<Operation>`. Rules are
//! `cairn_store::rules::RuleRecord`s per account and region; `cairn_deliver::rules::RuleDispatcher`
//! sends recorded events to their targets and is told of every change.
//!
//! Boundary: handlers take the caller and the parsed JSON input and return the JSON output or an
//! [`ApiError`]; they never see HTTP.

mod rules;
mod targets;

use std::sync::Arc;

use cairn_model::event::NewResource;
use cairn_model::{ApiError, ErrorCode};
use serde_json::Value;

use crate::caller::Caller;
use crate::cloudtrail::Ctx;
use crate::state::AppState;
use crate::{json11, recorder};

pub(crate) const TARGET_PREFIX: &str = "AWSEvents.";
pub(crate) const EVENT_SOURCE: &str = "events.amazonaws.com";

type Handler = fn(&Ctx<'_>, Value) -> Result<Value, ApiError>;

const OPERATIONS: &[(&str, Handler)] = &[
    ("PutRule", rules::put_rule),
    ("DescribeRule", rules::describe_rule),
    ("ListRules", rules::list_rules),
    ("DeleteRule", rules::delete_rule),
    ("EnableRule", rules::enable_rule),
    ("DisableRule", rules::disable_rule),
    ("TestEventPattern", rules::test_event_pattern),
    ("PutTargets", targets::put_targets),
    ("RemoveTargets", targets::remove_targets),
    ("ListTargetsByRule", targets::list_targets_by_rule),
];

/// What came of one EventBridge call, for the response and for its event.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) operation: Option<String>,
    pub(crate) input: Option<Value>,
    pub(crate) result: Result<Value, ApiError>,
}

impl Outcome {
    /// The event to record for this call, if the request named an operation.
    pub(crate) fn recorded<'a>(&'a self, caller: &'a Caller) -> Option<recorder::Call<'a>> {
        let operation = self.operation.as_deref()?;
        let input = self.input.as_ref().unwrap_or(&Value::Null);
        let read_only = recorder::is_read_only(operation) || operation == "TestEventPattern";
        Some(recorder::Call {
            caller,
            event_source: EVENT_SOURCE,
            operation,
            request_parameters: recorder::non_empty(input).map(recorder::recorded_form).map(hide_header_values),
            response_elements: self.result.as_ref().ok().and_then(recorder::non_empty).map(recorder::recorded_form),
            error: self.result.as_ref().err().map(|e| (e.code.as_str().to_owned(), e.message.clone())),
            read_only,
            from_console: false,
            resources: rule_resources(caller, input),
        })
    }
}

/// PutTargets' header values often carry a receiver's API key; the record keeps only their names.
fn hide_header_values(mut parameters: Value) -> Value {
    let targets = parameters.get_mut("targets").and_then(Value::as_array_mut);
    for target in targets.into_iter().flatten() {
        let headers = target.pointer_mut("/httpParameters/headerParameters").and_then(Value::as_object_mut);
        for value in headers.into_iter().flat_map(|headers| headers.values_mut()) {
            *value = Value::String("HIDDEN_DUE_TO_SECURITY_REASONS".to_owned());
        }
    }
    parameters
}

/// The rule a call names (`Name` or `Rule`), as CloudTrail lists it in `resources`.
fn rule_resources(caller: &Caller, input: &Value) -> Vec<NewResource> {
    let name = ["Name", "Rule"].iter().find_map(|member| input.get(*member).and_then(Value::as_str));
    match name.filter(|name| rules::valid_name(name)) {
        Some(name) => vec![NewResource {
            account_id: Some(caller.account_id().to_owned()),
            resource_type: "AWS::Events::Rule".to_owned(),
            arn: format!("arn:aws:events:{}:{}:rule/{name}", caller.region, caller.account_id()),
        }],
        None => Vec::new(),
    }
}

/// [`serve`] off the async workers: handlers commit to the metadata store (fsync).
pub(crate) async fn serve_blocking(
    state: &Arc<AppState>,
    caller: &Caller,
    target: Option<String>,
    body: bytes::Bytes,
) -> Outcome {
    let (state, caller) = (state.clone(), caller.clone());
    tokio::task::spawn_blocking(move || serve(&state, &caller, target.as_deref(), &body))
        .await
        .unwrap_or_else(|_| Outcome { operation: None, input: None, result: Err(ApiError::internal()) })
}

/// Operation names longer than this are not echoed into events or metrics.
const MAX_OPERATION_NAME: usize = 128;

fn serve(state: &AppState, caller: &Caller, target: Option<&str>, body: &[u8]) -> Outcome {
    let operation = match json11::operation_of(target, TARGET_PREFIX) {
        Ok(operation) => operation,
        Err(error) => return Outcome { operation: None, input: None, result: Err(error) },
    };
    let named = (operation.len() <= MAX_OPERATION_NAME).then(|| operation.to_owned());
    let input = match json11::parse_body(body) {
        Ok(input) => input,
        Err(error) => return Outcome { operation: named, input: None, result: Err(error) },
    };
    let Some((name, handler)) = OPERATIONS.iter().find(|(name, _)| *name == operation) else {
        let error = ApiError::new(
            ErrorCode::UnknownOperation,
            format!(
                "cairn serves only the rules API of EventBridge, not {}",
                cairn_model::error::truncate_for_message(operation)
            ),
        );
        return Outcome { operation: named, input: Some(input), result: Err(error) };
    };
    let result = handler(&Ctx { state, caller }, input.clone());
    if let Err(error) = &result
        && error.code == ErrorCode::InternalFailure
    {
        tracing::error!(operation = name, request_id = caller.request_id, "internal failure");
    }
    Outcome { operation: Some((*name).to_owned()), input: Some(input), result }
}
