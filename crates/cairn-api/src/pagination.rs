//! Opaque `NextToken`s: the last key of a page, bound to the operation that made it.

use cairn_model::{ApiError, ErrorCode};

pub(crate) fn encode(last_key: &str, operation: &str) -> String {
    hex::encode(format!("{operation}\n{last_key}"))
}

/// The key a page ended at; a token from another operation or a forged one is refused.
pub(crate) fn decode(token: &str, operation: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidNextToken, "The NextToken is not valid.");
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (token_operation, key) = text.split_once('\n').ok_or_else(invalid)?;
    if token_operation != operation {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_round_trip_and_refuse_forgeries() {
        let token = super::encode("111111111111/us-east-1/t", "ListTrails");
        assert_eq!(super::decode(&token, "ListTrails").unwrap(), "111111111111/us-east-1/t");
        assert!(super::decode(&token, "ListTags").is_err());
        assert!(super::decode("zz", "ListTrails").is_err());
        assert!(super::decode("", "ListTrails").is_err());
    }
}
