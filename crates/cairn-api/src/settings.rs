//! Resolved settings the API serves with: identities, organization and the
//! destinations trails may name. The binary builds them from flags, environment
//! and the TOML config; nothing here reads files.

use cairn_model::identity::Principal;

/// A principal and the secret that signs its requests.
#[derive(Clone)]
pub struct Credential {
    pub principal: Principal,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log line.
        f.debug_struct("Credential").field("principal", &self.principal).finish_non_exhaustive()
    }
}

/// The organization declared in the config (spec/api.md §2.2, organization trails).
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub management_account_id: String,
    pub member_account_ids: Vec<String>,
}

impl Organization {
    pub fn contains(&self, account_id: &str) -> bool {
        self.management_account_id == account_id || self.member_account_ids.iter().any(|m| m == account_id)
    }
}

// The destinations trails may name are defined where deliveries use them.
pub use cairn_deliver::destination::ExternalBucket;
pub use cairn_deliver::notify::SnsTopic;

/// Everything the API needs to know that is not stored state.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The account of the bootstrap root user; `--accept-any-credentials` maps
    /// unknown keys here.
    pub default_account_id: String,
    pub credentials: Vec<Credential>,
    /// Accept any well-formed SigV4 request whatever its key and secret (local testing).
    pub accept_any_credentials: bool,
    pub organization: Option<Organization>,
    pub sns_topics: Vec<SnsTopic>,
    pub external_buckets: Vec<ExternalBucket>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Proxies whose `X-Forwarded-For` is believed when recording `sourceIPAddress`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// LookupEvents calls per account and region (AWS: 2 per second).
    pub lookup_events_rate: crate::throttle::RateLimit,
}
