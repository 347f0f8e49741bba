//! Digest files (spec/formats.md §3.1–§3.3): the hourly JSON that lists a trail's log files with
//! their SHA-256 hashes and chains to the previous digest, and its SHA256withRSA signature.
//!
//! [`DigestFile::to_json`] writes the inflated digest in AWS's key order; [`string_to_sign`] reads
//! the signed fields back out of those exact bytes, as `aws cloudtrail validate-logs` does;
//! [`sign_digest`] produces everything a delivery writes: the gzip object body (one gzip member),
//! the hash for the next digest's `previousDigestHashValue`, and the hex signature for the
//! `x-amz-meta-signature` metadata.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::signing::{SigningError, SigningKey, verify_signature};

/// `digestSignatureAlgorithm`, and the `x-amz-meta-signature-algorithm` value.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// `hashAlgorithm` of log files and `previousDigestHashAlgorithm`.
pub const HASH_ALGORITHM: &str = "SHA-256";

/// A failure to sign or verify a digest.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("digest is not a JSON object: {0}")]
    InvalidJson(String),
    #[error("digest field {0} is missing")]
    MissingField(&'static str),
    #[error("digest field {0} is not a string")]
    NotAString(&'static str),
    #[error("signature is not hex: {0}")]
    SignatureNotHex(#[from] hex::FromHexError),
    #[error("digest names key {in_digest} but is signed with key {signing}")]
    FingerprintMismatch { in_digest: String, signing: String },
    #[error("gzip: {0}")]
    Gzip(#[from] std::io::Error),
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// One digest file's content. Serde uses the Rust field names (for persistence by callers);
/// the AWS wire form is [`DigestFile::to_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestFile {
    pub aws_account_id: String,
    pub digest_start_time: Timestamp,
    pub digest_end_time: Timestamp,
    pub digest_s3_bucket: String,
    /// The digest's full object key, prefix included.
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    /// Newest event over all log files; `None` when there are none.
    pub newest_event_time: Option<Timestamp>,
    pub oldest_event_time: Option<Timestamp>,
    /// `None` in a starting digest.
    pub previous: Option<PreviousDigest>,
    pub log_files: Vec<LogFileEntry>,
}

/// The digest a non-starting digest chains to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousDigest {
    pub s3_bucket: String,
    pub s3_object: String,
    /// Lowercase hex SHA-256 of the previous *inflated* digest.
    pub hash_value: String,
    /// Lowercase hex signature of the previous digest (its `x-amz-meta-signature`).
    pub signature: String,
}

/// One log file a digest covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFileEntry {
    pub s3_bucket: String,
    /// The log file's full object key.
    pub s3_object: String,
    /// Lowercase hex SHA-256 of the *uncompressed* log file.
    pub hash_value: String,
    pub newest_event_time: Timestamp,
    pub oldest_event_time: Timestamp,
}

/// The wire form, fields in AWS's order (formats.md §3.1).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDigest<'a> {
    aws_account_id: &'a str,
    digest_start_time: String,
    digest_end_time: String,
    #[serde(rename = "digestS3Bucket")]
    digest_s3_bucket: &'a str,
    #[serde(rename = "digestS3Object")]
    digest_s3_object: &'a str,
    digest_public_key_fingerprint: &'a str,
    digest_signature_algorithm: &'static str,
    newest_event_time: Option<String>,
    oldest_event_time: Option<String>,
    #[serde(rename = "previousDigestS3Bucket")]
    previous_digest_s3_bucket: Option<&'a str>,
    #[serde(rename = "previousDigestS3Object")]
    previous_digest_s3_object: Option<&'a str>,
    previous_digest_hash_value: Option<&'a str>,
    previous_digest_hash_algorithm: Option<&'static str>,
    previous_digest_signature: Option<&'a str>,
    log_files: Vec<WireLogFile<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireLogFile<'a> {
    #[serde(rename = "s3Bucket")]
    s3_bucket: &'a str,
    #[serde(rename = "s3Object")]
    s3_object: &'a str,
    hash_value: &'a str,
    hash_algorithm: &'static str,
    newest_event_time: String,
    oldest_event_time: String,
}

/// `YYYY-MM-DDTHH:MM:SSZ`, UTC, fraction dropped.
fn format_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl DigestFile {
    /// The inflated digest: compact JSON in AWS's key order, `null` for absent values. These are
    /// the bytes that are hashed, signed and gzipped.
    pub fn to_json(&self) -> String {
        let previous = self.previous.as_ref();
        let wire = WireDigest {
            aws_account_id: &self.aws_account_id,
            digest_start_time: format_time(self.digest_start_time),
            digest_end_time: format_time(self.digest_end_time),
            digest_s3_bucket: &self.digest_s3_bucket,
            digest_s3_object: &self.digest_s3_object,
            digest_public_key_fingerprint: &self.digest_public_key_fingerprint,
            digest_signature_algorithm: SIGNATURE_ALGORITHM,
            newest_event_time: self.newest_event_time.map(format_time),
            oldest_event_time: self.oldest_event_time.map(format_time),
            previous_digest_s3_bucket: previous.map(|p| p.s3_bucket.as_str()),
            previous_digest_s3_object: previous.map(|p| p.s3_object.as_str()),
            previous_digest_hash_value: previous.map(|p| p.hash_value.as_str()),
            previous_digest_hash_algorithm: previous.map(|_| HASH_ALGORITHM),
            previous_digest_signature: previous.map(|p| p.signature.as_str()),
            log_files: self
                .log_files
                .iter()
                .map(|f| WireLogFile {
                    s3_bucket: &f.s3_bucket,
                    s3_object: &f.s3_object,
                    hash_value: &f.hash_value,
                    hash_algorithm: HASH_ALGORITHM,
                    newest_event_time: format_time(f.newest_event_time),
                    oldest_event_time: format_time(f.oldest_event_time),
                })
                .collect(),
        };
        // Serialising plain strings, options and vectors into a String cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The string a digest's signature covers (formats.md §3.3), built from the values in the
/// inflated digest itself:
/// `digestEndTime \n digestS3Bucket/digestS3Object \n sha256(inflated) \n previousDigestSignature`,
/// the last being the four characters `null` in a starting digest. No trailing newline.
pub fn string_to_sign(inflated: &str) -> Result<String, DigestError> {
    let value: serde_json::Value =
        serde_json::from_str(inflated).map_err(|e| DigestError::InvalidJson(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| DigestError::InvalidJson("not an object".to_owned()))?;
    let field = |name: &'static str| object.get(name).ok_or(DigestError::MissingField(name));
    let string = |name: &'static str| field(name)?.as_str().ok_or(DigestError::NotAString(name));
    let previous_signature = match field("previousDigestSignature")? {
        serde_json::Value::Null => "null",
        other => other.as_str().ok_or(DigestError::NotAString("previousDigestSignature"))?,
    };
    Ok(format!(
        "{}\n{}/{}\n{}\n{}",
        string("digestEndTime")?,
        string("digestS3Bucket")?,
        string("digestS3Object")?,
        sha256_hex(inflated.as_bytes()),
        previous_signature,
    ))
}

/// Everything a delivery needs to write one digest object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDigest {
    /// The inflated digest (what is hashed and signed).
    pub inflated: String,
    /// The object body: `inflated` as exactly one gzip member.
    pub gzipped: Vec<u8>,
    /// Lowercase hex SHA-256 of `inflated`: the next digest's `previousDigestHashValue`.
    pub sha256_hex: String,
    /// Lowercase hex signature: `x-amz-meta-signature`, and the next digest's
    /// `previousDigestSignature`.
    pub signature_hex: String,
}

/// Serialises, signs and compresses `file` with `key`, which must be the key its
/// `digest_public_key_fingerprint` names.
pub fn sign_digest(file: &DigestFile, key: &SigningKey) -> Result<SignedDigest, DigestError> {
    if file.digest_public_key_fingerprint != key.fingerprint() {
        return Err(DigestError::FingerprintMismatch {
            in_digest: file.digest_public_key_fingerprint.clone(),
            signing: key.fingerprint().to_owned(),
        });
    }
    let inflated = file.to_json();
    let signature = key.sign(string_to_sign(&inflated)?.as_bytes())?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(inflated.as_bytes())?;
    let gzipped = encoder.finish()?;
    Ok(SignedDigest {
        sha256_hex: sha256_hex(inflated.as_bytes()),
        signature_hex: hex::encode(signature),
        gzipped,
        inflated,
    })
}

/// Whether `signature_hex` is a valid signature of the inflated digest under the PKCS#1 DER public
/// key `public_key_der`, checked the way `aws cloudtrail validate-logs` checks it.
pub fn verify(inflated: &str, signature_hex: &str, public_key_der: &[u8]) -> Result<bool, DigestError> {
    let signature = hex::decode(signature_hex)?;
    Ok(verify_signature(public_key_der, string_to_sign(inflated)?.as_bytes(), &signature)?)
}

#[cfg(test)]
mod tests;
