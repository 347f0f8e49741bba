//! Model constraints botocore does not check (spec/api.md §0): required members,
//! lengths and list sizes, enforced here with AWS's validation wording.

use cairn_model::{ApiError, ErrorCode};

/// A required member; absent → `InvalidParameterException`.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A list member's length must lie in `min..=max`.
pub(crate) fn check_count<T>(items: &[T], member: &str, min: usize, max: usize) -> Result<(), ApiError> {
    if items.len() < min || items.len() > max {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have between {min} and {max} items, but has {}",
            items.len()
        )));
    }
    Ok(())
}

/// A request timestamp (epoch seconds, possibly fractional); out of range is InvalidTimeRangeException.
pub(crate) fn epoch_timestamp(epoch_seconds: f64) -> Result<jiff::Timestamp, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidTimeRange, format!("Time {epoch_seconds} is out of range."));
    if !epoch_seconds.is_finite() {
        return Err(invalid());
    }
    let millis = (epoch_seconds * 1000.0).round();
    if millis.abs() > 1.0e15 {
        return Err(invalid());
    }
    jiff::Timestamp::from_millisecond(millis as i64).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_name_the_member() {
        assert!(check_count(&[1; 21], "resourceIdList", 1, 20).is_err());
        assert_eq!(required::<u8>(None, "trailName").unwrap_err().code, cairn_model::ErrorCode::InvalidParameter);
    }
}
