//! ListPublicKeys: the keys that verify digest signatures in the called region (spec/formats.md §3.4).
//!
//! `Value` is base64 of the PKCS#1 `RSAPublicKey` DER (both AWS CLIs load PKCS#1 only) and the
//! fingerprint is the MD5 of those bytes. Every key valid in the window comes back in one page: the
//! CLI never pages.

use cairn_model::clock::epoch_seconds;
use cairn_model::{ApiError, ErrorCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::input::epoch_timestamp;
use crate::json11::input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPublicKeysInput {
    start_time: Option<f64>,
    end_time: Option<f64>,
    next_token: Option<String>,
}

pub(crate) fn list_public_keys(ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    let request: ListPublicKeysInput = input(raw)?;
    if request.next_token.is_some_and(|token| !token.is_empty()) {
        // Reserved by AWS: every key comes back in one page, so no token is ever valid.
        return Err(ApiError::new(ErrorCode::InvalidToken, "Reserved for future use."));
    }
    let now = ctx.now();
    let start = request.start_time.map(epoch_timestamp).transpose()?;
    let end = request.end_time.map(epoch_timestamp).transpose()?;
    let (start, end) = match (start, end) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, now.max(start)),
        (None, Some(end)) => (end.min(now), end),
        (None, None) => (now, now),
    };
    if start > end {
        return Err(ApiError::new(ErrorCode::InvalidTimeRange, "Start time must be before end time."));
    }
    let keys = ctx.state.delivery.public_keys(ctx.region(), start, end, now).map_err(|error| {
        tracing::error!(%error, region = ctx.region(), "signing keys unavailable");
        ApiError::internal()
    })?;
    let list: Vec<Value> = keys
        .iter()
        .map(|key| {
            json!({
                "Value": key.public_key_der_b64,
                "ValidityStartTime": epoch_seconds(key.validity_start),
                "ValidityEndTime": epoch_seconds(key.validity_end),
                "Fingerprint": key.fingerprint,
            })
        })
        .collect();
    Ok(json!({ "PublicKeyList": list }))
}
