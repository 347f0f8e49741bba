//! Digest chains: one signed digest per (trail, account, region) per digest period, also when no
//! file was delivered, each naming the previous one (spec/formats.md §3).
//!
//! A chain starts (with a *starting* digest whose `previousDigest*` fields are null) when a logging
//! trail has validation on, or when a file is delivered for a new account or region; it ends with a
//! final digest when logging stops, validation is turned off or the trail is deleted. Periods are
//! contiguous: each digest starts where the previous ended. After downtime, the missed periods are
//! delivered one by one. Every digest is a function of committed state, so a digest redone after a
//! crash has the same key and covers the same files.

use std::sync::Arc;

use cairn_store::records::TrailRecord;
use cairn_store::{Change, StoreError};
use jiff::{SignedDuration, Timestamp};

use crate::digest::{DigestFile, PreviousDigest, sign_digest};
use crate::files::{account_root, whole_seconds};
use crate::service::Shared;
use crate::state::{DeliveryRecord, DigestChain, chain_files_prefix, chain_key};
use crate::worker::{DeliveryError, blocking, commit};

/// Delivers every digest that is due, oldest first, committing after each.
pub(crate) async fn deliver_due(
    shared: &Arc<Shared>,
    record: &mut DeliveryRecord,
    current: Option<&TrailRecord>,
) -> Result<(), DeliveryError> {
    let now = whole_seconds(shared.clock.now());
    if update_chains(record, current, now) {
        commit(shared, record.clone()).await?;
    }
    let period = SignedDuration::try_from(shared.config.digest_interval)
        .unwrap_or(SignedDuration::from_hours(1))
        .max(SignedDuration::from_secs(1));
    let keys: Vec<String> = record.chains.keys().cloned().collect();
    for key in keys {
        while let Some(chain) = record.chains.get(&key) {
            let Some((end, last)) = due(chain, now, period) else { break };
            deliver_one(shared, record, &key, end, last).await?;
            if last {
                break;
            }
        }
    }
    Ok(())
}

/// Opens and closes chains as the trail's state requires; returns whether anything changed.
fn update_chains(record: &mut DeliveryRecord, current: Option<&TrailRecord>, now: Timestamp) -> bool {
    let validating = record.logging && !record.deleted && current.is_some_and(|t| t.log_file_validation_enabled);
    let mut changed = false;
    if !validating {
        for chain in record.chains.values_mut().filter(|c| c.closing_at.is_none()) {
            chain.closing_at = Some(now.max(chain.period_start));
            changed = true;
        }
        return changed;
    }
    // A logging, validating trail always has a chain in its home account and region.
    let (account, region) = (record.trail.account_id.clone(), record.trail.home_region.clone());
    let key = chain_key(&account, &region);
    let open = record.chains.get(&key).is_some_and(|c| c.closing_at.is_none());
    if !open && !record.chains.contains_key(&key) {
        record.chains.insert(
            key,
            DigestChain { account_id: account, region, period_start: now, previous: None, closing_at: None },
        );
        changed = true;
    }
    changed
}

/// The end of the chain's next digest, and whether it is the chain's last.
fn due(chain: &DigestChain, now: Timestamp, period: SignedDuration) -> Option<(Timestamp, bool)> {
    let period_end = chain.period_start.checked_add(period).ok()?;
    match chain.closing_at {
        // A closing chain first delivers the whole periods before its end.
        Some(closing) if closing > period_end => Some((period_end, false)),
        Some(closing) => Some((closing.max(chain.period_start), true)),
        None if now >= period_end => Some((period_end, false)),
        None => None,
    }
}

async fn deliver_one(
    shared: &Arc<Shared>,
    record: &mut DeliveryRecord,
    key: &str,
    end: Timestamp,
    last: bool,
) -> Result<(), DeliveryError> {
    let Some(chain) = record.chains.get(key).cloned() else { return Ok(()) };
    let trail = record.trail.clone();
    let bucket = trail.s3_bucket_name.clone();
    let object =
        account_root(&trail, &chain.account_id).digest_key(&chain.region, &trail.name, &trail.home_region, end);
    // The chain's files delivered in the period (records before it are leftovers of a crash between
    // a digest's commit and their removal; a final digest takes everything after its start).
    let prefix = chain_files_prefix(&record.trail_arn, key);
    let (covered_keys, log_files): (Vec<String>, Vec<_>) = shared.files.read(|rows| {
        rows.range(prefix.clone()..)
            .take_while(|(row_key, _)| row_key.starts_with(&prefix))
            .filter(|(_, row)| row.delivered_at < chain.period_start || last || row.delivered_at < end)
            .map(|(row_key, row)| {
                (row_key.clone(), (row.delivered_at >= chain.period_start).then(|| row.entry.clone()))
            })
            .unzip()
    });
    let log_files: Vec<_> = log_files.into_iter().flatten().collect();
    let signed = {
        let shared = Arc::clone(shared);
        let (bucket, object, chain) = (bucket.clone(), object.clone(), chain.clone());
        blocking(move || {
            let signing = |e: crate::signing::SigningError| DeliveryError::Signing(e.to_string());
            // The key that was current at the digest's end, so ListPublicKeys finds it for that time
            // even when the digest is delivered late (after downtime across a rotation).
            // Rotates the region's key when due.
            let current = shared.keys.signing_key(&chain.region, shared.clock.now()).map_err(signing)?;
            let (key_record, signing_key) = match shared.keys.public_keys(&chain.region, end, end).pop() {
                Some(record) if record.fingerprint != current.0.fingerprint => {
                    let key = record.signing_key().map_err(signing)?;
                    (record, key)
                }
                _ => current,
            };
            let file = DigestFile {
                aws_account_id: chain.account_id.clone(),
                digest_start_time: chain.period_start,
                digest_end_time: end,
                digest_s3_bucket: bucket,
                digest_s3_object: object,
                digest_public_key_fingerprint: key_record.fingerprint.clone(),
                newest_event_time: log_files.iter().map(|f| f.newest_event_time).max(),
                oldest_event_time: log_files.iter().map(|f| f.oldest_event_time).min(),
                previous: chain.previous.clone(),
                log_files,
            };
            sign_digest(&file, &signing_key).map_err(|e| DeliveryError::Signing(e.to_string()))
        })
        .await?
    };
    let metadata = [("signature", signed.signature_hex.as_str()), ("signature-algorithm", "SHA256withRSA")];
    let written = shared
        .destinations
        .put(&bucket, &object, signed.gzipped.clone(), "application/x-gzip", &metadata)
        .await
        .map_err(|e| DeliveryError::Destination(e.to_string()));
    let now = shared.clock.now();
    let status = record.status.entry(chain.region.clone()).or_default();
    if let Err(error) = written {
        status.latest_digest_delivery_error = Some(error.to_string());
        commit(shared, record.clone()).await?;
        return Err(error);
    }
    status.latest_digest_delivery_time = Some(now);
    status.latest_digest_delivery_error = None;
    if last {
        record.chains.remove(key);
    } else if let Some(chain) = record.chains.get_mut(key) {
        chain.previous = Some(PreviousDigest {
            s3_bucket: bucket,
            s3_object: object,
            hash_value: signed.sha256_hex.clone(),
            signature: signed.signature_hex.clone(),
        });
        chain.period_start = end;
    }
    commit(shared, record.clone()).await?;
    // The covered files are done with (a crash before this leaves them to the next digest's sweep).
    let shared_files = Arc::clone(shared);
    blocking(move || {
        let gone = covered_keys.into_iter().map(Change::Delete).collect();
        shared_files.files.transact(|_| Ok::<_, StoreError>(((), gone)))?;
        Ok(())
    })
    .await?;
    metrics::counter!("cairn_delivery_digests_total").increment(1);
    Ok(())
}
