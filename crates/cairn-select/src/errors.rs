//! Building `InvalidEventSelectorsException` errors with bounded echoes of input.

use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};

/// An `InvalidEventSelectorsException` carrying `message`.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidEventSelectors, message)
}

/// Client input as it may appear in a message: at most 256 characters.
pub(crate) fn echo(input: &str) -> String {
    truncate_for_message(input)
}

/// `Value <v> for <what> is invalid.` — the AWS phrasing for a bad member value.
pub(crate) fn bad_value(value: &str, what: &str) -> ApiError {
    invalid(format!("Value {} for {what} is invalid.", echo(value)))
}

/// `Value <v> for <what> is invalid. <reason>`
pub(crate) fn bad_value_because(value: &str, what: &str, reason: &str) -> ApiError {
    invalid(format!("Value {} for {what} is invalid. {reason}", echo(value)))
}
