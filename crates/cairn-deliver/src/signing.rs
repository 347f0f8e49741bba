//! Digest signing keys (spec/formats.md §3.3, §3.4): one RSA-2048 key pair per region at a time,
//! rotated after a fixed period, with overlapping validity windows so that every digest stays
//! verifiable through ListPublicKeys.
//!
//! A [`SigningKey`] is the usable key; a [`SigningKeyRecord`] is its persisted form in the metadata
//! store (private key included: it never leaves the data directory); a [`KeyRing`] hands out each
//! region's current key, creating and persisting a new one before first use, and answers
//! ListPublicKeys.
//!
//! Public keys are DER `RSAPublicKey` (PKCS#1, base64 starting `MIIBCgKCAQEA`), never
//! SubjectPublicKeyInfo: both AWS CLIs refuse the latter. A key's fingerprint is the lowercase hex
//! MD5 of exactly those DER bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cairn_store::{Change, Record, Registry, StoreError};
use jiff::Timestamp;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// A failure to create, load or use a signing key.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("RSA signing failed")]
    Sign,
    #[error("private key rejected: {0}")]
    PrivateKeyRejected(String),
    #[error("public key rejected: {0}")]
    PublicKeyRejected(String),
    #[error("private key could not be encoded")]
    Encode,
    #[error("stored key is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("stored key {expected} does not match its private key (fingerprint {actual})")]
    FingerprintMismatch { expected: String, actual: String },
    #[error("key validity window does not fit the time range")]
    TimeOutOfRange,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An RSA-2048 key pair that signs digests with RSASSA-PKCS1-v1_5 and SHA-256 ("SHA256withRSA").
///
/// Cloning is cheap (the key pair is shared). `Debug` shows the fingerprint only.
#[derive(Clone)]
pub struct SigningKey {
    pair: Arc<RsaKeyPair>,
    public_der: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches a log line.
        f.debug_struct("SigningKey").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh RSA-2048 key pair (e = 65537). Takes tens to hundreds of milliseconds.
    pub fn generate() -> Result<SigningKey, SigningError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningError::Generate)?;
        Ok(SigningKey::from_pair(pair))
    }

    /// Loads a private key from DER: PKCS#8 `PrivateKeyInfo` or PKCS#1 `RSAPrivateKey`.
    pub fn from_private_der(der: &[u8]) -> Result<SigningKey, SigningError> {
        let pair = match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => pair,
            Err(pkcs8_error) => RsaKeyPair::from_der(der).map_err(|pkcs1_error| {
                SigningError::PrivateKeyRejected(format!("as PKCS#8: {pkcs8_error}; as PKCS#1: {pkcs1_error}"))
            })?,
        };
        Ok(SigningKey::from_pair(pair))
    }

    fn from_pair(pair: RsaKeyPair) -> SigningKey {
        let public_der = pair.public_key().as_ref().to_vec();
        let fingerprint = fingerprint_of(&public_der);
        SigningKey { pair: Arc::new(pair), public_der, fingerprint }
    }

    /// The private key as PKCS#8 DER, for persistence in the metadata store only.
    pub fn private_der(&self) -> Result<Vec<u8>, SigningError> {
        let der = self.pair.as_der().map_err(|_| SigningError::Encode)?;
        Ok(der.as_ref().to_vec())
    }

    /// The public key as DER `RSAPublicKey` (PKCS#1; starts `30 82 01 0a`).
    pub fn public_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The public key as ListPublicKeys' `Value`: base64 of [`SigningKey::public_der`].
    pub fn public_key_b64(&self) -> String {
        BASE64.encode(&self.public_der)
    }

    /// Lowercase hex MD5 of [`SigningKey::public_der`]: `digestPublicKeyFingerprint`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The RSASSA-PKCS1-v1_5 SHA-256 signature of `msg` (deterministic).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut signature).map_err(|_| SigningError::Sign)?;
        Ok(signature)
    }
}

/// The fingerprint of a public key: lowercase hex MD5 of its DER bytes.
pub fn fingerprint_of(public_der: &[u8]) -> String {
    hex::encode(Md5::digest(public_der))
}

/// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `msg` under the PKCS#1
/// (or SubjectPublicKeyInfo) DER public key `public_der`. A key that does not parse is an error; a
/// wrong signature is `Ok(false)`.
pub fn verify_signature(public_der: &[u8], msg: &[u8], signature: &[u8]) -> Result<bool, SigningError> {
    aws_lc_rs::rsa::PublicKey::from_der(public_der).map_err(|e| SigningError::PublicKeyRejected(e.to_string()))?;
    Ok(UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_der).verify(msg, signature).is_ok())
}

/// A region's signing key as stored in the metadata store, keyed by region, validity start and
/// fingerprint (so a region's keys sort oldest first). `Debug` omits the private key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub region: String,
    pub fingerprint: String,
    /// ListPublicKeys' `Value`: base64 of the PKCS#1 DER public key.
    pub public_key_der_b64: String,
    /// Base64 of the PKCS#8 DER private key.
    pub private_key_der_b64: String,
    pub validity_start: Timestamp,
    pub validity_end: Timestamp,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches a log line.
        f.debug_struct("SigningKeyRecord")
            .field("region", &self.region)
            .field("fingerprint", &self.fingerprint)
            .field("public_key_der_b64", &self.public_key_der_b64)
            .field("validity_start", &self.validity_start)
            .field("validity_end", &self.validity_end)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Record for SigningKeyRecord {
    const TABLE: &'static str = "signing_keys";
    fn key(&self) -> String {
        SigningKeyRecord::key_of(&self.region, self.validity_start, &self.fingerprint)
    }
}

impl SigningKeyRecord {
    /// `region/<validity start, epoch seconds, 20 digits>/fingerprint`.
    pub fn key_of(region: &str, validity_start: Timestamp, fingerprint: &str) -> String {
        format!("{region}/{:020}/{fingerprint}", validity_start.as_second())
    }

    /// A record for `key`, valid over `[validity_start, validity_end]`.
    pub fn new(
        region: &str,
        key: &SigningKey,
        validity_start: Timestamp,
        validity_end: Timestamp,
        created_at: Timestamp,
    ) -> Result<SigningKeyRecord, SigningError> {
        Ok(SigningKeyRecord {
            region: region.to_owned(),
            fingerprint: key.fingerprint().to_owned(),
            public_key_der_b64: key.public_key_b64(),
            private_key_der_b64: BASE64.encode(key.private_der()?),
            validity_start,
            validity_end,
            created_at,
        })
    }

    /// The PKCS#1 DER public key.
    pub fn public_der(&self) -> Result<Vec<u8>, SigningError> {
        Ok(BASE64.decode(&self.public_key_der_b64)?)
    }

    /// The usable key, checked against the stored public key and fingerprint.
    pub fn signing_key(&self) -> Result<SigningKey, SigningError> {
        let key = SigningKey::from_private_der(&BASE64.decode(&self.private_key_der_b64)?)?;
        if key.fingerprint() != self.fingerprint || key.public_der() != self.public_der()?.as_slice() {
            return Err(SigningError::FingerprintMismatch {
                expected: self.fingerprint.clone(),
                actual: key.fingerprint().to_owned(),
            });
        }
        Ok(key)
    }

    /// Whether `[validity_start, validity_end]` overlaps `[start, end]` (bounds included).
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.validity_start <= end && self.validity_end >= start
    }
}

/// Every region's signing keys: hands out the current one, rotates, and lists public keys.
///
/// A key is used for signing from its creation until `rotation` has passed; it stays valid (for
/// verification) for `rotation + overlap`, so consecutive keys' windows overlap. A new key is
/// committed durably before it signs anything. Key generation for one region is serialised, so
/// concurrent callers never create two keys.
#[derive(Debug)]
pub struct KeyRing {
    registry: Arc<Registry<SigningKeyRecord>>,
    rotation: Duration,
    overlap: Duration,
    /// One lock per region, held while that region's key is generated and committed.
    generating: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Parsed keys by fingerprint (parsing checks the RSA key, which is not free).
    parsed: Mutex<HashMap<String, SigningKey>>,
}

impl KeyRing {
    /// AWS's rotation period: every sample key is valid for 30 days.
    pub const DEFAULT_ROTATION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// The shortest overlap of consecutive keys' validity windows.
    pub const MIN_OVERLAP: Duration = Duration::from_secs(60);

    /// A key ring over `registry`, rotating each region's key every `rotation`; the overlap is a
    /// tenth of the rotation period, at least [`KeyRing::MIN_OVERLAP`].
    pub fn new(registry: impl Into<Arc<Registry<SigningKeyRecord>>>, rotation: Duration) -> KeyRing {
        KeyRing {
            registry: registry.into(),
            rotation,
            overlap: (rotation / 10).max(KeyRing::MIN_OVERLAP),
            generating: Mutex::new(HashMap::new()),
            parsed: Mutex::new(HashMap::new()),
        }
    }

    pub fn rotation(&self) -> Duration {
        self.rotation
    }

    pub fn overlap(&self) -> Duration {
        self.overlap
    }

    pub fn registry(&self) -> &Arc<Registry<SigningKeyRecord>> {
        &self.registry
    }

    /// The region's key to sign with at `now`: its newest key unless that was created `rotation`
    /// or more before `now`, else a new key, committed to the metadata store before it is returned.
    pub fn signing_key(&self, region: &str, now: Timestamp) -> Result<(SigningKeyRecord, SigningKey), SigningError> {
        if let Some(record) = self.usable(region, now)? {
            return self.with_key(record);
        }
        let region_lock = {
            let mut generating = lock(&self.generating);
            Arc::clone(generating.entry(region.to_owned()).or_default())
        };
        let _generating = lock(&region_lock);
        // Another caller may have created the key while this one waited.
        if let Some(record) = self.usable(region, now)? {
            return self.with_key(record);
        }
        let key = SigningKey::generate()?;
        let validity_end = now
            .checked_add(self.rotation)
            .and_then(|t| t.checked_add(self.overlap))
            .map_err(|_| SigningError::TimeOutOfRange)?;
        let fresh = SigningKeyRecord::new(region, &key, now, validity_end, now)?;
        let record = self.registry.transact(|records| {
            // Keys are only created under the region lock, so this finds none; checked anyway.
            match newest_usable(records.values(), region, now, self.rotation)? {
                Some(existing) => Ok::<_, SigningError>((existing.clone(), Vec::new())),
                None => Ok((fresh.clone(), vec![Change::Put(fresh)])),
            }
        })?;
        if record.fingerprint == key.fingerprint() {
            tracing::info!(region, fingerprint = key.fingerprint(), %validity_end, "created a digest signing key");
            lock(&self.parsed).insert(key.fingerprint().to_owned(), key.clone());
            return Ok((record, key));
        }
        self.with_key(record)
    }

    /// The region's newest key, if it has any; never creates one.
    pub fn newest(&self, region: &str) -> Option<SigningKeyRecord> {
        self.registry.read(|records| newest(records.values(), region).cloned())
    }

    /// Every key of `region` whose validity window overlaps `[start, end]`, oldest first
    /// (ListPublicKeys returns them all in one page).
    pub fn public_keys(&self, region: &str, start: Timestamp, end: Timestamp) -> Vec<SigningKeyRecord> {
        let mut keys: Vec<SigningKeyRecord> = self.registry.read(|records| {
            records.values().filter(|r| r.region == region && r.overlaps(start, end)).cloned().collect()
        });
        keys.sort_by(|a, b| (a.validity_start, &a.fingerprint).cmp(&(b.validity_start, &b.fingerprint)));
        keys
    }

    fn usable(&self, region: &str, now: Timestamp) -> Result<Option<SigningKeyRecord>, SigningError> {
        self.registry.read(|records| newest_usable(records.values(), region, now, self.rotation).map(|r| r.cloned()))
    }

    fn with_key(&self, record: SigningKeyRecord) -> Result<(SigningKeyRecord, SigningKey), SigningError> {
        if let Some(key) = lock(&self.parsed).get(&record.fingerprint) {
            return Ok((record, key.clone()));
        }
        let key = record.signing_key()?;
        lock(&self.parsed).insert(record.fingerprint.clone(), key.clone());
        Ok((record, key))
    }
}

fn newest<'a>(records: impl Iterator<Item = &'a SigningKeyRecord>, region: &str) -> Option<&'a SigningKeyRecord> {
    records.filter(|r| r.region == region).max_by_key(|r| (r.created_at, r.validity_start))
}

/// The region's newest key if it may still sign at `now`. A key created after `now` (the clock
/// went back) is still used rather than replaced.
fn newest_usable<'a>(
    records: impl Iterator<Item = &'a SigningKeyRecord>,
    region: &str,
    now: Timestamp,
    rotation: Duration,
) -> Result<Option<&'a SigningKeyRecord>, SigningError> {
    let Some(record) = newest(records, region) else { return Ok(None) };
    let retire_at = record.created_at.checked_add(rotation).map_err(|_| SigningError::TimeOutOfRange)?;
    Ok((now < retire_at).then_some(record))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves its data consistent at each step.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
