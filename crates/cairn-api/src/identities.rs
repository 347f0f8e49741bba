//! Who signs a request: access keys mapped to principals, compared in constant time.

use std::collections::HashMap;

use cairn_model::arn::is_account_id;
use cairn_model::identity::Principal;

use crate::settings::Credential;

/// The outcome of looking up an access key.
#[derive(Debug)]
pub(crate) enum KeyLookup<'a> {
    /// A known key: verify the signature with this secret.
    Known(&'a Credential),
    /// Unknown key, but any credentials are accepted: act as this principal.
    Anyone(Principal),
    Unknown,
}

#[derive(Debug)]
pub(crate) struct Identities {
    by_access_key: HashMap<String, Credential>,
    accept_any_credentials: bool,
    default_account_id: String,
}

impl Identities {
    pub(crate) fn new(
        credentials: &[Credential],
        accept_any_credentials: bool,
        default_account_id: &str,
    ) -> Identities {
        let by_access_key =
            credentials.iter().map(|c| (c.principal.access_key_id.clone(), c.clone())).collect::<HashMap<_, _>>();
        Identities { by_access_key, accept_any_credentials, default_account_id: default_account_id.to_owned() }
    }

    pub(crate) fn lookup(&self, access_key_id: &str) -> KeyLookup<'_> {
        if let Some(credential) = self.by_access_key.get(access_key_id) {
            return KeyLookup::Known(credential);
        }
        if !self.accept_any_credentials {
            return KeyLookup::Unknown;
        }
        // As LocalStack and moto do, a 12-digit key names the account it acts as.
        let account_id = if is_account_id(access_key_id) { access_key_id } else { &self.default_account_id };
        KeyLookup::Anyone(Principal::root(account_id, access_key_id))
    }
}
