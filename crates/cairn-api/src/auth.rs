//! Authentication: every request but `/health` and `/metrics` must carry a valid SigV4 signature.

use cairn_model::identity::Principal;
use cairn_model::{ApiError, ErrorCode};

use crate::identities::KeyLookup;
use crate::sigv4;
use crate::state::AppState;

/// What authentication establishes: the principal and the credential scope.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) principal: Principal,
    pub(crate) region: String,
    pub(crate) service: String,
}

pub(crate) fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Authenticated, ApiError> {
    let Some(claims) = sigv4::extract_claims(&parts.method, &parts.uri, &parts.headers)? else {
        return Err(ApiError::new(ErrorCode::MissingAuthenticationToken, "Missing Authentication Token"));
    };
    let principal = match state.identities.lookup(&claims.access_key_id) {
        KeyLookup::Known(credential) => {
            sigv4::verify(
                &claims,
                &credential.secret_access_key,
                &parts.method,
                &parts.uri,
                &parts.headers,
                body,
                state.clock.now(),
            )?;
            credential.principal.clone()
        }
        KeyLookup::Anyone(principal) => principal,
        KeyLookup::Unknown => {
            return Err(ApiError::new(
                ErrorCode::UnrecognizedClient,
                "The security token included in the request is invalid.",
            ));
        }
    };
    Ok(Authenticated { principal, region: claims.region, service: claims.service })
}
