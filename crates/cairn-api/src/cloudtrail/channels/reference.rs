//! A `Channel` input: a channel's ARN or its ID (the UUID at the end of the ARN).

use cairn_model::arn::{Arn, is_account_id};
use cairn_model::error::truncate_for_message;
use cairn_model::region::is_region_name;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::ChannelRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChannelRef {
    Id(String),
    Arn { region: String, account: String, id: String },
}

impl ChannelRef {
    /// Parses a `Channel` member (3–256 characters of `[a-zA-Z0-9._/\-:]`); anything with a colon or
    /// a slash must be a channel ARN.
    pub(crate) fn parse(value: &str) -> Result<ChannelRef, ApiError> {
        let shown = truncate_for_message(value);
        let length = value.chars().count();
        if !(3..=256).contains(&length) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'channel' failed to satisfy constraint: \
                 Member must have length between 3 and 256"
            )));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-:".contains(&b)) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown}' at 'channel' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: ^[a-zA-Z0-9._/\\-:]+$"
            )));
        }
        if value.contains([':', '/']) {
            return ChannelRef::parse_arn(value);
        }
        Ok(ChannelRef::Id(value.to_owned()))
    }

    /// Parses `arn:<partition>:cloudtrail:<region>:<account>:channel/<id>`.
    pub(crate) fn parse_arn(value: &str) -> Result<ChannelRef, ApiError> {
        let invalid = || {
            ApiError::new(
                ErrorCode::ChannelArnInvalid,
                format!(
                    "The channel ARN {} is not valid; expected arn:aws:cloudtrail:<region>:<account>:channel/<id>.",
                    truncate_for_message(value)
                ),
            )
        };
        let arn = Arn::parse(value).ok_or_else(invalid)?;
        let id = arn.resource.strip_prefix("channel/").ok_or_else(invalid)?;
        let id_ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if arn.service != "cloudtrail" || !is_region_name(arn.region) || !is_account_id(arn.account) || !id_ok {
            return Err(invalid());
        }
        Ok(ChannelRef::Arn { region: arn.region.to_owned(), account: arn.account.to_owned(), id: id.to_owned() })
    }

    /// The channel's ID, its registry key.
    pub(crate) fn id(&self) -> &str {
        match self {
            ChannelRef::Id(id) | ChannelRef::Arn { id, .. } => id,
        }
    }

    /// Whether `channel` (found by ID) is the one the reference names: an ARN must match its
    /// account and region too.
    pub(crate) fn may_name(&self, channel: &ChannelRecord) -> bool {
        match self {
            ChannelRef::Id(_) => true,
            ChannelRef::Arn { region, account, .. } => *region == channel.region && *account == channel.account_id,
        }
    }

    /// The ARN the reference names, as seen from `account_id` in `region`.
    pub(crate) fn shown(&self, account_id: &str, region: &str) -> String {
        let (region, account_id, id) = match self {
            ChannelRef::Id(id) => (region, account_id, id),
            ChannelRef::Arn { region, account, id } => (region.as_str(), account.as_str(), id),
        };
        truncate_for_message(&format!("arn:aws:cloudtrail:{region}:{account_id}:channel/{id}"))
    }
}
