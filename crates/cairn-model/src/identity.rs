//! Who makes a call: accounts and principals with their CloudTrail identity fields.

use serde::{Deserialize, Serialize};

/// `userIdentity.type` values cairn's own principals can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalType {
    Root,
    IAMUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Root => "Root",
            PrincipalType::IAMUser => "IAMUser",
        }
    }
}

/// The identity behind an access key, as recorded in `userIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub principal_type: PrincipalType,
    pub account_id: String,
    pub arn: String,
    pub principal_id: String,
    /// `None` for the root user: CloudTrail omits `userName` there.
    pub user_name: Option<String>,
    pub access_key_id: String,
}

impl Principal {
    /// The root user of `account_id`, signing with `access_key_id`.
    pub fn root(account_id: &str, access_key_id: &str) -> Principal {
        Principal {
            principal_type: PrincipalType::Root,
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            principal_id: account_id.to_owned(),
            user_name: None,
            access_key_id: access_key_id.to_owned(),
        }
    }
}
