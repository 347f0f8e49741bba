//! What the web console needs of the API: signing in with an access key and its secret (each attempt
//! recorded as an `AwsConsoleSignIn` `ConsoleLogin` event), and making CloudTrail calls as the signed-in
//! principal, recorded as the calls they are with `sessionCredentialFromConsole: "true"`.

use std::net::IpAddr;

use cairn_model::event::{NewEvent, SignIn};
use cairn_model::identity::{Principal, PrincipalType};
use cairn_model::{ApiError, ErrorCode};
use subtle::ConstantTimeEq as _;

use crate::caller::Caller;
use crate::identities::KeyLookup;
use crate::state::AppState;
use crate::{cloudtrail, json11, recorder};

/// AWS's `userName` for a sign-in attempt by someone it does not know.
pub const HIDDEN_USER: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Where a sign-in came from, as its event records it.
#[derive(Debug, Clone)]
pub struct Origin {
    pub region: String,
    pub source_ip: IpAddr,
    pub user_agent: Option<String>,
    /// `additionalEventData.LoginTo`: the page signed in to.
    pub login_to: String,
}

/// Checks `secret` for `access_key_id` and records the attempt; the principal when it succeeded. A
/// failed attempt is recorded too (with the user hidden when the key is unknown), and an attempt that
/// cannot be recorded is refused with the recorder's error.
pub async fn sign_in(
    state: &AppState,
    access_key_id: &str,
    secret: &str,
    origin: &Origin,
) -> Result<Option<Principal>, ApiError> {
    let (principal, outcome) = match state.identities.lookup(access_key_id) {
        KeyLookup::Known(credential) => {
            let matches: bool = credential.secret_access_key.as_bytes().ct_eq(secret.as_bytes()).into();
            if matches {
                (credential.principal.clone(), SignIn::Success)
            } else {
                // AWS names the user who failed, but not the key or its ARN.
                let principal =
                    Principal { arn: String::new(), access_key_id: String::new(), ..credential.principal.clone() };
                (principal, SignIn::Failure)
            }
        }
        KeyLookup::Anyone(principal) => (principal, SignIn::Success),
        KeyLookup::Unknown => (unknown_user(&state.settings.default_account_id), SignIn::Failure),
    };
    let mut event = NewEvent::console_login(
        principal.clone(),
        state.clock.now(),
        origin.region.clone(),
        origin.source_ip.to_string(),
        outcome,
        &origin.login_to,
        false,
    );
    event.user_agent = origin.user_agent.clone();
    recorder::record_event(state, &event, "ConsoleLogin").await?;
    Ok((outcome == SignIn::Success).then_some(principal))
}

fn unknown_user(account_id: &str) -> Principal {
    Principal {
        principal_type: PrincipalType::IAMUser,
        account_id: account_id.to_owned(),
        arn: String::new(),
        principal_id: String::new(),
        user_name: Some(HIDDEN_USER.to_owned()),
        access_key_id: String::new(),
    }
}

/// Runs the CloudTrail operation `operation` with `input` as `caller`, recorded as a call from the
/// console; its output, or the AWS error a client would have had.
pub async fn call(
    state: &std::sync::Arc<AppState>,
    caller: &Caller,
    operation: &str,
    input: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let target = format!("{}{operation}", json11::CLOUDTRAIL_TARGET_PREFIX);
    let body = serde_json::to_vec(&input).map_err(|_| ApiError::internal())?;
    let outcome = cloudtrail::serve_blocking(state, caller, Some(target), body.into()).await;
    let Some(call) = outcome.recorded(caller, true) else {
        return Err(ApiError::new(ErrorCode::UnknownOperation, "The console asked for no operation."));
    };
    recorder::record_call(state, call).await?;
    outcome.result
}
