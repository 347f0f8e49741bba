//! Names a client passes in, parsed once at the edge (spec/api.md §2.1).

use crate::arn::TrailArn;
use crate::error::{ApiError, ErrorCode, truncate_for_message};

/// A valid trail name: 3–128 ASCII letters, digits, `.`, `_`, `-`, starting and
/// ending with a letter or digit, no two separators in a row, not an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrailName(String);

impl TrailName {
    /// Checks in the order AWS does, so that each bad name gets AWS's message.
    pub fn parse(name: &str) -> Result<TrailName, ApiError> {
        let invalid = |message: String| Err(ApiError::new(ErrorCode::InvalidTrailName, message));
        let n_chars = name.chars().count();
        if n_chars < 3 {
            return invalid(format!(
                "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {n_chars} characters."
            ));
        }
        if n_chars > 128 {
            return invalid(format!(
                "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {n_chars} characters."
            ));
        }
        let is_alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !is_alnum(name.chars().next()) {
            return invalid("Trail name must starts with a letter or number.".to_owned());
        }
        if !is_alnum(name.chars().last()) {
            return invalid("Trail name must ends with a letter or number.".to_owned());
        }
        let is_separator = |c: char| matches!(c, '.' | '_' | '-');
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || is_separator(c)) {
            return invalid(
                "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_)."
                    .to_owned(),
            );
        }
        let bytes = name.as_bytes();
        if bytes.windows(2).any(|pair| is_separator(pair[0] as char) && is_separator(pair[1] as char)) {
            return invalid(
                "Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_); for example, my-_namespace or my--namespace are not valid."
                    .to_owned(),
            );
        }
        if looks_like_ip_address(name) {
            return invalid(
                "Trail name cannot be formatted as an IP address; for example, 192.168.5.4 is not valid.".to_owned(),
            );
        }
        Ok(TrailName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TrailName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn looks_like_ip_address(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// How a request names a trail: every trail-name input accepts a name or an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailRef {
    Name(TrailName),
    Arn(TrailArn),
}

impl TrailRef {
    pub fn parse(input: &str) -> Result<TrailRef, ApiError> {
        if input.starts_with("arn:") {
            return Ok(TrailRef::Arn(TrailArn::parse(input)?));
        }
        Ok(TrailRef::Name(TrailName::parse(input)?))
    }

    pub fn name(&self) -> &TrailName {
        match self {
            TrailRef::Name(name) => name,
            TrailRef::Arn(arn) => &arn.name,
        }
    }
}

/// Validates an S3 bucket name by S3's rules (3–63 chars, lowercase letters,
/// digits, `.` and `-`, starting and ending with a letter or digit, not an IP).
pub fn validate_bucket_name(name: &str) -> Result<(), ApiError> {
    let valid = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes().first().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.as_bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && !looks_like_ip_address(name);
    if valid {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::InvalidS3BucketName,
        format!("Bucket name is not valid: {}", truncate_for_message(name)),
    ))
}

/// `S3KeyPrefix`: at most 200 characters (spec/api.md §2.2).
pub fn validate_s3_prefix(prefix: &str) -> Result<(), ApiError> {
    if prefix.chars().count() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidS3Prefix,
            format!("S3 key prefix is too long: {} characters; the maximum is 200.", prefix.chars().count()),
        ));
    }
    if prefix.starts_with('/') || prefix.contains("//") {
        return Err(ApiError::new(
            ErrorCode::InvalidS3Prefix,
            format!("Invalid S3 key prefix: {}", truncate_for_message(prefix)),
        ));
    }
    Ok(())
}

/// `s3://bucket[/prefix]` → (`bucket`, `prefix`), the prefix empty when absent; `None` unless the URI starts
/// with `s3://` and names a bucket. What the bucket and prefix may be is checked by their users.
pub fn s3_uri_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://").filter(|rest| !rest.is_empty())?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

#[cfg(test)]
mod tests;
