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

/// The client's address for `sourceIPAddress`: the peer, unless the peer is a
/// trusted proxy, in which case the nearest untrusted hop of `X-Forwarded-For`.
pub(crate) fn source_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let Some(forwarded_for) = forwarded_for else {
        return peer;
    };
    let hops: Vec<IpAddr> = forwarded_for.split(',').filter_map(|hop| hop.trim().parse().ok()).collect();
    hops.iter().rev().find(|hop| !trusted_proxies.contains(hop)).or(hops.first()).copied().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(source_ip(ip("192.0.2.9"), Some("203.0.113.5"), &trusted), ip("192.0.2.9"));
        assert_eq!(source_ip(ip("10.0.0.1"), None, &trusted), ip("10.0.0.1"));
        assert_eq!(source_ip(ip("10.0.0.1"), Some("203.0.113.5"), &trusted), ip("203.0.113.5"));
        assert_eq!(source_ip(ip("10.0.0.1"), Some("198.51.100.1, 203.0.113.5, 10.0.0.2"), &trusted), ip("203.0.113.5"));
        assert_eq!(source_ip(ip("10.0.0.1"), Some("10.0.0.2"), &trusted), ip("10.0.0.2"));
        assert_eq!(source_ip(ip("10.0.0.1"), Some("garbage"), &trusted), ip("10.0.0.1"));
    }
}
