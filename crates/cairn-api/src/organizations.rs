//! The one AWS Organizations call CloudTrail tools make: `DescribeOrganization`, with which
//! `aws cloudtrail validate-logs --account-id …` finds an organization trail's `o-…` key prefix
//! (spec/formats.md §3.5). The organization is the one declared in the configuration.

use cairn_model::{ApiError, ErrorCode};
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::json11;
use crate::state::AppState;

pub(crate) const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";

/// Serves one Organizations request: the operation it named (if any) and its result.
pub(crate) fn serve(
    state: &AppState,
    caller: &Caller,
    target: Option<&str>,
    body: &[u8],
) -> (Option<String>, Result<Value, ApiError>) {
    let operation = match json11::operation_of(target, TARGET_PREFIX) {
        Ok(operation) => operation.to_owned(),
        Err(error) => return (None, Err(error)),
    };
    let result = json11::parse_body(body).and_then(|_| match operation.as_str() {
        "DescribeOrganization" => describe_organization(state, caller),
        other => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!(
                "cairn serves only DescribeOrganization of AWS Organizations, not {}",
                cairn_model::error::truncate_for_message(other)
            ),
        )),
    });
    (Some(operation), result)
}

fn describe_organization(state: &AppState, caller: &Caller) -> Result<Value, ApiError> {
    let organization = state
        .settings
        .organization
        .as_ref()
        .filter(|organization| organization.contains(caller.account_id()))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::AwsOrganizationsNotInUse, "Your account is not a member of an organization.")
        })?;
    let management = &organization.management_account_id;
    Ok(json!({
        "Organization": {
            "Id": organization.id,
            "Arn": format!("arn:aws:organizations::{management}:organization/{}", organization.id),
            "FeatureSet": "ALL",
            "MasterAccountArn": format!("arn:aws:organizations::{management}:account/{}/{management}", organization.id),
            "MasterAccountId": management,
            "MasterAccountEmail": "",
            "AvailablePolicyTypes": [],
        }
    }))
}
