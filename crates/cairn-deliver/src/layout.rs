//! Where delivered objects go: the S3 keys of log files and digest files (spec/formats.md §2.1).
//!
//! Every key is a pure function of its inputs. Log file names end in 16 characters derived from the
//! batch that produced them, not drawn at random, so redoing an interrupted delivery writes the same
//! keys again instead of second copies.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

/// The part of a key shared by a trail's objects for one account: `[prefix/]AWSLogs/[o-org/]<account>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRoot {
    pub key_prefix: Option<String>,
    pub organization_id: Option<String>,
    pub account_id: String,
}

impl AccountRoot {
    fn folder(&self, kind: &str, region: &str, at: Timestamp) -> String {
        let date = at.to_zoned(TimeZone::UTC);
        let mut key = String::new();
        if let Some(prefix) = self.key_prefix.as_deref().filter(|p| !p.is_empty()) {
            key.push_str(prefix);
            key.push('/');
        }
        key.push_str("AWSLogs/");
        if let Some(organization_id) = &self.organization_id {
            key.push_str(organization_id);
            key.push('/');
        }
        key.push_str(&format!(
            "{}/{kind}/{region}/{:04}/{:02}/{:02}/",
            self.account_id,
            date.year(),
            date.month(),
            date.day()
        ));
        key
    }

    /// `…/CloudTrail/<region>/Y/M/D/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`, dated by
    /// the delivery time.
    pub fn log_file_key(&self, region: &str, delivered_at: Timestamp, unique: &str) -> String {
        self.named_log_key("CloudTrail", region, delivered_at, unique)
    }

    /// The same layout under `CloudTrail-Insight/`.
    pub fn insight_file_key(&self, region: &str, delivered_at: Timestamp, unique: &str) -> String {
        self.named_log_key("CloudTrail-Insight", region, delivered_at, unique)
    }

    fn named_log_key(&self, kind: &str, region: &str, delivered_at: Timestamp, unique: &str) -> String {
        let stamp = delivered_at.strftime("%Y%m%dT%H%MZ");
        format!(
            "{}{}_{kind}_{region}_{stamp}_{unique}.json.gz",
            self.folder(kind, region, delivered_at),
            self.account_id
        )
    }

    /// `…/CloudTrail-Digest/<region>/Y/M/D/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHmmssZ>.json.gz`,
    /// named and dated by the digest's end time.
    pub fn digest_key(&self, region: &str, trail_name: &str, home_region: &str, end: Timestamp) -> String {
        let stamp = end.strftime("%Y%m%dT%H%M%SZ");
        format!(
            "{}{}_CloudTrail-Digest_{region}_{trail_name}_{home_region}_{stamp}.json.gz",
            self.folder("CloudTrail-Digest", region, end),
            self.account_id
        )
    }
}

/// 16 characters of `[A-Za-z0-9]` determined by `seed` (the batch, account, region and part).
pub fn unique_suffix(seed: &str) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    Sha256::digest(seed.as_bytes()).iter().take(16).map(|byte| char::from(ALPHABET[usize::from(*byte) % 62])).collect()
}

#[cfg(test)]
mod tests;
