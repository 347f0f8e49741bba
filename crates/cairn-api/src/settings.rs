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

/// An SNS topic trails may notify; a topic whose name ends in `.fifo` is FIFO.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    pub arn: String,
    pub endpoint: String,
}

impl SnsTopic {
    /// `arn:aws:sns:<region>:<account>:<name>` split into its parts.
    pub fn parts(&self) -> Option<(&str, &str, &str)> {
        let arn = cairn_model::arn::Arn::parse(&self.arn)?;
        Some((arn.region, arn.account, arn.resource))
    }
}

/// An external S3-compatible bucket trails may deliver to.
#[derive(Clone)]
pub struct ExternalBucket {
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub path_style: bool,
}

impl std::fmt::Debug for ExternalBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalBucket")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

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
