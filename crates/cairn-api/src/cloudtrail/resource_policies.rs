//! PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy (spec/api.md §1.11, §2.11):
//! resource-based policies on the caller's own event data stores, dashboards and channels. Other
//! resource types, trails included, are `ResourceTypeNotSupportedException`.
//!
//! A policy is kept as the caller wrote it, keyed by the resource's ARN, and dropped when its resource
//! is deleted. cairn checks the document ([`document`]) but does not evaluate it: every caller of an
//! account may act on that account's resources.
//!
//! Lock order: the resource's registry (channels, event data stores, dashboards), then the policies,
//! so a policy is never put on a resource being deleted.

mod document;

#[cfg(test)]
mod tests;

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::error::truncate_for_message;
use cairn_model::region::is_region_name;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::records::{DashboardRecord, ResourcePolicyRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use self::document::PolicyTarget;
use super::Ctx;
use super::channels::{self, ChannelRef};
use super::event_data_stores::{self, EventDataStoreRef, Use};
use super::input::required;
use crate::json11::input;
use crate::state::AppState;

/// The longest policy document, in characters (the model's `ResourcePolicy`).
const MAX_POLICY_CHARS: usize = 8192;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutInput {
    resource_arn: Option<String>,
    resource_policy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    resource_arn: Option<String>,
}

pub(crate) fn put_resource_policy(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: PutInput = input(raw)?;
    let given = required(request.resource_arn, "resourceArn")?;
    let resource = PolicyResource::parse(&given)?;
    let policy = required(request.resource_policy, "resourcePolicy")?;
    let n_chars = policy.chars().count();
    if !(1..=MAX_POLICY_CHARS).contains(&n_chars) {
        return Err(ApiError::new(
            ErrorCode::ResourcePolicyNotValid,
            format!("The resource policy has {n_chars} characters; it must have between 1 and {MAX_POLICY_CHARS}."),
        ));
    }
    with_resource(ctx, &given, &resource, |resource_arn| {
        document::check(&policy, resource_arn, resource.target())?;
        let record = ResourcePolicyRecord {
            resource_arn: resource_arn.to_owned(),
            account_id: ctx.account_id().to_owned(),
            policy: policy.clone(),
        };
        ctx.state.resource_policies.transact(|_| {
            let output = json!({"ResourceArn": record.resource_arn, "ResourcePolicy": record.policy});
            Ok::<_, ApiError>((output, vec![Change::Put(record)]))
        })
    })
}

pub(crate) fn get_resource_policy(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let (given, resource) = arn_input(raw)?;
    with_resource(ctx, &given, &resource, |resource_arn| {
        let record = ctx.state.resource_policies.get(resource_arn).ok_or_else(|| no_policy(resource_arn))?;
        Ok(json!({"ResourceArn": record.resource_arn, "ResourcePolicy": record.policy}))
    })
}

pub(crate) fn delete_resource_policy(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let (given, resource) = arn_input(raw)?;
    with_resource(ctx, &given, &resource, |resource_arn| {
        ctx.state.resource_policies.transact(|policies| {
            if !policies.contains_key(resource_arn) {
                return Err(no_policy(resource_arn));
            }
            Ok::<_, ApiError>((json!({}), vec![Change::Delete(resource_arn.to_owned())]))
        })
    })
}

/// Drops the policy of a deleted resource, if it had one. A failure leaves an orphan policy that no
/// call can reach until a resource of the same ARN exists again, so it is logged, not returned.
pub(crate) fn drop_policy(state: &AppState, resource_arn: &str) {
    let dropped = state.resource_policies.transact(|policies| {
        let changes = if policies.contains_key(resource_arn) {
            vec![Change::Delete(resource_arn.to_owned())]
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>(((), changes))
    });
    if let Err(error) = dropped {
        tracing::warn!(
            resource = resource_arn,
            code = error.code.as_str(),
            "could not drop a deleted resource's policy"
        );
    }
}

/// The `ResourceArn` as sent, and what it names.
fn arn_input(raw: Value) -> Result<(String, PolicyResource), ApiError> {
    let request: ArnInput = input(raw)?;
    let given = required(request.resource_arn, "resourceArn")?;
    let resource = PolicyResource::parse(&given)?;
    Ok((given, resource))
}

fn no_policy(resource_arn: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourcePolicyNotFound, format!("No resource policy is attached to {resource_arn}."))
}

/// A resource that takes a policy, as its ARN names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PolicyResource {
    EventDataStore(EventDataStoreRef),
    Dashboard { region: String, account: String, name: String },
    Channel(ChannelRef),
}

impl PolicyResource {
    /// Parses a `ResourceArn` (3–256 characters of `[a-zA-Z0-9._/\-:]`).
    fn parse(value: &str) -> Result<PolicyResource, ApiError> {
        let shown = truncate_for_message(value);
        if !(3..=256).contains(&value.chars().count()) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'resourceArn' failed to satisfy constraint: \
                 Member must have length between 3 and 256"
            )));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-:".contains(&b)) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'resourceArn' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: ^[a-zA-Z0-9._/\\-:]+$"
            )));
        }
        let not_valid = || {
            ApiError::new(
                ErrorCode::ResourceArnNotValid,
                format!(
                    "The ARN {shown} is not valid. Specify the ARN of an event data store \
                     (arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>), a dashboard \
                     (arn:aws:cloudtrail:<region>:<account>:dashboard/<name>) or a channel \
                     (arn:aws:cloudtrail:<region>:<account>:channel/<id>)."
                ),
            )
        };
        let not_supported = || {
            ApiError::new(
                ErrorCode::ResourceTypeNotSupported,
                format!(
                    "Resource type of {shown} is not supported; resource policies apply to event data stores, \
                     dashboards and channels."
                ),
            )
        };
        let arn = Arn::parse(value).ok_or_else(not_valid)?;
        if arn.service != "cloudtrail" {
            return Err(not_supported());
        }
        let Some((kind, rest)) = arn.resource.split_once('/') else {
            return Err(not_valid());
        };
        let resource = match kind {
            "eventdatastore" => {
                PolicyResource::EventDataStore(EventDataStoreRef::parse_arn(value).map_err(|_| not_valid())?)
            }
            "channel" => PolicyResource::Channel(ChannelRef::parse_arn(value).map_err(|_| not_valid())?),
            "dashboard" => {
                let name_ok = (3..=128).contains(&rest.len())
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
                if !name_ok || !is_region_name(arn.region) || !is_account_id(arn.account) {
                    return Err(not_valid());
                }
                PolicyResource::Dashboard {
                    region: arn.region.to_owned(),
                    account: arn.account.to_owned(),
                    name: rest.to_owned(),
                }
            }
            _ => return Err(not_supported()),
        };
        Ok(resource)
    }

    fn target(&self) -> PolicyTarget {
        match self {
            PolicyResource::EventDataStore(_) => PolicyTarget::EventDataStore,
            PolicyResource::Dashboard { .. } => PolicyTarget::Dashboard,
            PolicyResource::Channel(_) => PolicyTarget::Channel,
        }
    }
}

/// Runs `act` with the ARN of the caller's resource `resource` names (`given` as sent), holding that
/// resource's registry lock, or fails with `ResourceNotFoundException`.
fn with_resource<R>(
    ctx: &Ctx<'_>,
    given: &str,
    resource: &PolicyResource,
    act: impl FnOnce(&str) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let not_found =
        || ApiError::new(ErrorCode::ResourceNotFound, format!("Resource not found: {}", truncate_for_message(given)));
    match resource {
        PolicyResource::EventDataStore(reference) => ctx.state.event_data_stores.read(|stores| {
            // A store pending deletion takes no new policy; its old one was dropped with it.
            let store = event_data_stores::find(ctx, stores, reference, Use::Active).map_err(|_| not_found())?;
            act(&store.arn())
        }),
        PolicyResource::Channel(reference) => {
            channels::read(ctx, reference, |channel| act(&channel.arn())).map_err(|_| not_found())?
        }
        PolicyResource::Dashboard { region, account, name } => ctx.state.dashboards.read(|dashboards| {
            let own = region == ctx.region() && account == ctx.account_id();
            let key = DashboardRecord::key_of(account, region, name);
            match dashboards.get(&key).filter(|_| own) {
                Some(dashboard) => act(&dashboard.arn()),
                None => Err(not_found()),
            }
        }),
    }
}
