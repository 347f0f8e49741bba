//! AWS JSON 1.1: `POST /` with `X-Amz-Target: <prefix>.<Operation>`, JSON in and out,
//! errors as `{"__type": Code, "Message": …}` (spec/api.md §0).

use axum::response::{IntoResponse, Response};
use cairn_model::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The target prefix of CloudTrail 2013-11-01.
pub(crate) const CLOUDTRAIL_TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The operation an `X-Amz-Target` names, if it has the service's prefix.
pub(crate) fn operation_of<'a>(target: Option<&'a str>, prefix: &str) -> Result<&'a str, ApiError> {
    let unknown =
        || ApiError::new(ErrorCode::UnknownOperation, format!("Unknown operation: {}", target.unwrap_or("(none)")));
    let target = target.ok_or_else(unknown)?;
    target.strip_prefix(prefix).filter(|op| !op.is_empty()).ok_or_else(unknown)
}

/// Parses a request body; an empty body is an empty input structure.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::Serialization, format!("Request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::new(ErrorCode::Serialization, "Request body must be a JSON object"));
    }
    Ok(value)
}

/// Deserialises an operation's input structure; a member of the wrong type is a
/// `SerializationException`, as from AWS.
pub(crate) fn input<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::new(ErrorCode::Serialization, e.to_string()))
}

pub(crate) fn success(output: &Value, request_id: &str) -> Response {
    let body = serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec());
    ([("content-type", CONTENT_TYPE), ("x-amzn-requestid", request_id)], body).into_response()
}

pub(crate) fn error(error: &ApiError, request_id: &str) -> Response {
    let status = http::StatusCode::from_u16(error.code.http_status()).unwrap_or(http::StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"__type": error.code.as_str(), "Message": error.message});
    (status, [("content-type", CONTENT_TYPE), ("x-amzn-requestid", request_id)], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_operations() {
        let target = format!("{CLOUDTRAIL_TARGET_PREFIX}CreateTrail");
        assert_eq!(operation_of(Some(&target), CLOUDTRAIL_TARGET_PREFIX).unwrap(), "CreateTrail");
        for bad in [None, Some("CreateTrail"), Some(CLOUDTRAIL_TARGET_PREFIX), Some("com.amazonaws.s3.CreateTrail")] {
            assert_eq!(operation_of(bad, CLOUDTRAIL_TARGET_PREFIX).unwrap_err().code, ErrorCode::UnknownOperation);
        }
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert_eq!(parse_body(b"").unwrap(), serde_json::json!({}));
        assert_eq!(parse_body(b" \n").unwrap(), serde_json::json!({}));
        assert_eq!(parse_body(b"{").unwrap_err().code, ErrorCode::Serialization);
        assert_eq!(parse_body(b"[1]").unwrap_err().code, ErrorCode::Serialization);
    }
}
