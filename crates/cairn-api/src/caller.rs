//! The authenticated caller of one request.

use std::net::IpAddr;

use cairn_model::identity::Principal;

/// Who called, where (region and service from the SigV4 credential scope) and from where.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub region: String,
    pub service: String,
    pub source_ip: IpAddr,
    pub user_agent: Option<String>,
    pub request_id: String,
}

impl Caller {
    pub fn account_id(&self) -> &str {
        &self.principal.account_id
    }
}
