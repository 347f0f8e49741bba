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

/// A token for the next page of one resource's items (a query's results, an import's failures): its ID and
/// the offset of the first item not yet returned.
pub(crate) fn encode_offset(owner: &str, offset: usize, operation: &str) -> String {
    encode(&format!("{owner}/{offset}"), operation)
}

/// The offset an [`encode_offset`] token holds; a token made for another resource (`what` names its kind in
/// the message) is refused.
pub(crate) fn decode_offset(token: &str, operation: &str, owner: &str, what: &str) -> Result<usize, ApiError> {
    let key = decode(token, operation)?;
    let (token_owner, offset) = key.split_once('/').unwrap_or(("", ""));
    if token_owner != owner {
        return Err(ApiError::new(ErrorCode::InvalidNextToken, format!("The NextToken belongs to another {what}.")));
    }
    offset.parse::<usize>().map_err(|_| ApiError::new(ErrorCode::InvalidNextToken, "The NextToken is not valid."))
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

    #[test]
    fn offset_tokens_belong_to_one_resource() {
        let token = super::encode_offset("q1", 200, "GetQueryResults");
        assert_eq!(super::decode_offset(&token, "GetQueryResults", "q1", "query").unwrap(), 200);
        let other = super::decode_offset(&token, "GetQueryResults", "q2", "query").unwrap_err();
        assert_eq!(other.message, "The NextToken belongs to another query.");
        assert!(super::decode_offset(&token, "ListImportFailures", "q1", "import").is_err());
        let forged = super::encode("q1/x", "GetQueryResults");
        assert!(super::decode_offset(&forged, "GetQueryResults", "q1", "query").is_err());
    }
}
