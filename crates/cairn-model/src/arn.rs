//! Amazon Resource Names: the generic form and the trail ARN.

use crate::error::{ApiError, ErrorCode, truncate_for_message};
use crate::names::TrailName;
use crate::region::is_region_name;

/// The six colon-separated parts of any ARN; `resource` keeps its own colons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(input: &'a str) -> Option<Arn<'a>> {
        let mut parts = input.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        let partition_ok = matches!(arn.partition, "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b");
        (partition_ok && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }
}

/// Whether `account` is a 12-digit AWS account ID.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:<partition>:cloudtrail:<home region>:<account>:trail/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: TrailName,
}

impl TrailArn {
    pub fn new(region: &str, account: &str, name: TrailName) -> TrailArn {
        TrailArn { partition: "aws".to_owned(), region: region.to_owned(), account: account.to_owned(), name }
    }

    pub fn parse(input: &str) -> Result<TrailArn, ApiError> {
        let invalid = || {
            ApiError::new(
                ErrorCode::CloudTrailArnInvalid,
                format!("The ARN {} is not valid. Specify a valid trail ARN.", truncate_for_message(input)),
            )
        };
        let arn = Arn::parse(input).ok_or_else(invalid)?;
        let name = arn.resource.strip_prefix("trail/").ok_or_else(invalid)?;
        if arn.service != "cloudtrail" || !is_region_name(arn.region) || !is_account_id(arn.account) {
            return Err(invalid());
        }
        Ok(TrailArn {
            partition: arn.partition.to_owned(),
            region: arn.region.to_owned(),
            account: arn.account.to_owned(),
            name: TrailName::parse(name)?,
        })
    }
}

impl std::fmt::Display for TrailArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "arn:{}:cloudtrail:{}:{}:trail/{}", self.partition, self.region, self.account, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_arn_round_trips() {
        let text = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t-1";
        let arn = TrailArn::parse(text).unwrap();
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.to_string(), text);
    }

    #[test]
    fn malformed_trail_arns_are_rejected() {
        for bad in [
            "arn:aws:cloudtrail:eu-west-1:123456789012:bucket/t-1",
            "arn:aws:s3:eu-west-1:123456789012:trail/t-1",
            "arn:aws:cloudtrail:mars:123456789012:trail/t-1",
            "arn:aws:cloudtrail:eu-west-1:12345678901:trail/t-1",
            "arn:aws:cloudtrail",
            "arn:x:cloudtrail:eu-west-1:123456789012:trail/t-1",
        ] {
            assert_eq!(TrailArn::parse(bad).unwrap_err().code, ErrorCode::CloudTrailArnInvalid, "{bad}");
        }
    }
}
