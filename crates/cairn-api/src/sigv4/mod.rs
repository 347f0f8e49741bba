//! SigV4 request verification, as AWS services perform it for the AWS CLI, boto3 and the SDKs.
//!
//! Flow: [`extract_claims`] reads the `Authorization` header or the presigned
//! `X-Amz-*` query parameters without any secret. The caller looks the access
//! key up, then [`verify`] checks the credential scope against the request
//! time, the time window, the payload hash, and finally the signature itself,
//! compared in constant time.
//!
//! Service rules: S3 signs its path literally (no normalization, each segment
//! encoded once) and may declare `UNSIGNED-PAYLOAD`; every other service
//! normalizes the path and percent-encodes the wire path a second time.
//!
//! Invariants: nothing reachable from request bytes panics, and no message
//! ever contains the secret key. Tests: `tests.rs` runs the AWS SigV4 test
//! suite from `shared/corpora/sigv4`; `oracle_tests.rs` verifies requests
//! signed by the `aws-sigv4` crate.

mod canonical;
pub(crate) use canonical::decode_query;
mod parse;

#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use cairn_model::error::{ApiError, ErrorCode, truncate_for_message};
use http::{HeaderMap, Method, Uri};
use jiff::Timestamp;
use subtle::ConstantTimeEq;

use canonical::{Request, Rules};

/// The only signing algorithm accepted.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a header-signed request's time may be from the server's clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The message AWS returns for any signature that does not match.
pub(crate) const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you \
     provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Where a request carries its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned `X-Amz-*` query parameters.
    Query,
}

/// What a request claims about itself before its access key is looked up.
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    pub access_key_id: String,
    /// `yyyymmdd` from the credential scope.
    pub scope_date: String,
    /// From the credential scope.
    pub region: String,
    /// From the credential scope (cloudtrail, cloudtrail-data, s3, ...).
    pub service: String,
    /// `X-Amz-Date` (or `Date` header) / `X-Amz-Date` query parameter.
    pub request_time: Timestamp,
    /// Lower-cased, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Hex, as the client sent it.
    pub signature: String,
    pub location: SignatureLocation,
    pub session_token: Option<String>,
    /// Presigned `X-Amz-Expires`; `None` for header signatures.
    pub expires_in_seconds: Option<u64>,
}

impl Claims {
    /// The credential scope, `yyyymmdd/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.scope_date, self.region, self.service)
    }
}

impl fmt::Debug for Claims {
    // The session token is a credential in its own right, so logs never see it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("request_time", &self.request_time)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("location", &self.location)
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

/// Reads the SigV4 claims of a request.
///
/// Returns `Ok(None)` when the request carries no SigV4 auth at all (no
/// `Authorization` header and no `X-Amz-Algorithm` query parameter), and
/// `IncompleteSignatureException` when it carries a malformed one.
pub fn extract_claims(_method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Option<Claims>, ApiError> {
    parse::extract(uri, headers)
}

/// Verifies the signature, payload hash and time window of a request.
///
/// `now` is injected so that callers choose the clock and tests never use the wall clock.
pub fn verify(
    claims: &Claims,
    secret_access_key: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<(), ApiError> {
    let req = Request { method, uri, headers, body };
    verify_with_rules(claims, secret_access_key, &req, now, Rules::for_service(&claims.service))
}

/// [`verify`] with the service rules chosen by the caller, which the AWS test
/// suite needs because its cases pick path normalization independently of
/// the service name.
pub(crate) fn verify_with_rules(
    claims: &Claims,
    secret_access_key: &str,
    req: &Request<'_>,
    now: Timestamp,
    rules: Rules,
) -> Result<(), ApiError> {
    check_scope_date(claims)?;
    check_time(claims, now)?;
    let payload_hash = canonical::payload_hash(claims, req, rules)?;
    let canonical_request = canonical::canonical_request(req, claims, &payload_hash, rules);
    let string_to_sign = canonical::string_to_sign(claims, &canonical_request);
    let expected = canonical::signature(secret_access_key, claims, &string_to_sign)?;
    let mut provided = [0u8; 32];
    if hex::decode_to_slice(&claims.signature, &mut provided).is_err() {
        return Err(ApiError::new(ErrorCode::InvalidSignature, SIGNATURE_MISMATCH));
    }
    if bool::from(expected.ct_eq(&provided)) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvalidSignature, SIGNATURE_MISMATCH))
    }
}

/// `yyyymmddThhmmssZ`, the form used in the string to sign and in AWS messages.
pub(crate) fn amz_date(time: Timestamp) -> String {
    time.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The scope must name the same day as the request time, or the derived
/// signing key would be for another day.
fn check_scope_date(claims: &Claims) -> Result<(), ApiError> {
    let day = claims.request_time.strftime("%Y%m%d").to_string();
    if claims.scope_date == day {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidSignature,
        format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{}' != '{day}', from '{}'.",
            truncate_for_message(&claims.scope_date),
            amz_date(claims.request_time)
        ),
    ))
}

/// Header signatures are valid for 15 minutes either side of `now`; presigned
/// URLs from their date until it plus `X-Amz-Expires`, and not before the
/// same 15-minute allowance for clock skew.
fn check_time(claims: &Claims, now: Timestamp) -> Result<(), ApiError> {
    let request = claims.request_time.as_second();
    let now_second = now.as_second();
    let latest = now_second.saturating_add(MAX_SKEW_SECONDS);
    if request > latest {
        return Err(ApiError::new(
            ErrorCode::InvalidSignature,
            format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                amz_date(claims.request_time),
                amz_date(at_second(latest, now)),
                amz_date(now)
            ),
        ));
    }
    match (claims.location, claims.expires_in_seconds) {
        (SignatureLocation::Query, Some(expires)) => {
            let expires = i64::try_from(expires).unwrap_or(i64::MAX);
            if now_second > request.saturating_add(expires) {
                let earliest = now_second.saturating_sub(expires);
                return Err(ApiError::new(
                    ErrorCode::InvalidSignature,
                    format!(
                        "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                        amz_date(claims.request_time),
                        amz_date(at_second(earliest, now)),
                        amz_date(now)
                    ),
                ));
            }
        }
        _ => {
            let earliest = now_second.saturating_sub(MAX_SKEW_SECONDS);
            if request < earliest {
                return Err(ApiError::new(
                    ErrorCode::InvalidSignature,
                    format!(
                        "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                        amz_date(claims.request_time),
                        amz_date(at_second(earliest, now)),
                        amz_date(now)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The timestamp at `second`, or `fallback` where that lies outside jiff's range.
fn at_second(second: i64, fallback: Timestamp) -> Timestamp {
    Timestamp::from_second(second).unwrap_or(fallback)
}
