//! Opening the data directory: the metadata store and the default account's
//! root credentials, generated on first start (design.md §6).

use std::path::Path;
use std::sync::Arc;

use cairn_api::settings::{ApiSettings, Credential};
use cairn_model::identity::Principal;
use cairn_store::records::RootCredentialRecord;
use cairn_store::{Change, MetaStore, Registry, StoreError};
use rand::Rng;

use crate::config::ServeConfig;

/// The default account's root credentials, and whether this start generated any.
#[derive(Debug)]
pub(crate) struct RootCredentials {
    pub(crate) record: RootCredentialRecord,
    pub(crate) generated: bool,
}

/// Creates the data directory (owner-only) and opens its metadata store.
pub(crate) fn open_data_dir(data_dir: &Path) -> anyhow::Result<Arc<MetaStore>> {
    std::fs::create_dir_all(data_dir.join("meta"))?;
    restrict_to_owner(data_dir)?;
    Ok(Arc::new(MetaStore::open(&data_dir.join("meta").join("cairn.redb"))?))
}

/// Settings from flags and environment win; what they leave open comes from the
/// stored record, or is generated and stored so that a restart keeps it.
pub(crate) fn root_credentials(config: &ServeConfig, meta: Arc<MetaStore>) -> Result<RootCredentials, StoreError> {
    let registry: Registry<RootCredentialRecord> = Registry::load(meta)?;
    registry.transact(|stored| {
        let previous = stored.values().next();
        let mut generated = false;
        let account_id =
            config.account_id.clone().or_else(|| previous.map(|p| p.account_id.clone())).unwrap_or_else(|| {
                generated = true;
                generate_account_id()
            });
        let (access_key_id, secret_access_key) = match (&config.root_keys, previous) {
            (Some((key, secret)), _) => (key.clone(), secret.clone()),
            (None, Some(previous)) => (previous.access_key_id.clone(), previous.secret_access_key.clone()),
            (None, None) => {
                generated = true;
                generate_keys()
            }
        };
        let record = RootCredentialRecord { account_id, access_key_id, secret_access_key };
        let mut changes: Vec<Change<RootCredentialRecord>> =
            stored.keys().filter(|key| **key != record.account_id).map(|key| Change::Delete(key.clone())).collect();
        if previous != Some(&record) {
            changes.push(Change::Put(record.clone()));
        }
        Ok::<_, StoreError>((RootCredentials { record, generated }, changes))
    })
}

/// The API's settings: the configured identities plus the default root user.
pub(crate) fn api_settings(config: &ServeConfig, root: &RootCredentialRecord) -> ApiSettings {
    let mut credentials = vec![Credential {
        principal: Principal::root(&root.account_id, &root.access_key_id),
        secret_access_key: root.secret_access_key.clone(),
    }];
    credentials.extend(
        config
            .identities
            .iter()
            .map(|(principal, secret)| Credential { principal: principal.clone(), secret_access_key: secret.clone() }),
    );
    ApiSettings {
        default_account_id: root.account_id.clone(),
        credentials,
        accept_any_credentials: config.accept_any_credentials,
        organization: config.organization.clone(),
        sns_topics: config.sns_topics.clone(),
        external_buckets: config.external_buckets.clone(),
        max_body_bytes: config.max_body_bytes,
        trusted_proxies: config.trusted_proxies.clone(),
        lookup_events_rate: config.lookup_events_rate,
    }
}

fn generate_account_id() -> String {
    let mut rng = rand::rng();
    // AWS account IDs do not start with 0 in practice; keeping that avoids tools
    // that parse them as numbers.
    let first = rng.random_range(1..=9u8);
    let rest: String = (0..11).map(|_| char::from(b'0' + rng.random_range(0..=9u8))).collect();
    format!("{first}{rest}")
}

fn generate_keys() -> (String, String) {
    const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let mut pick = |alphabet: &[u8], n: usize| -> String {
        (0..n).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
    };
    let access_key_id = format!("AKIA{}", pick(KEY_ALPHABET, 16));
    let secret_access_key = pick(SECRET_ALPHABET, 40);
    (access_key_id, secret_access_key)
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
