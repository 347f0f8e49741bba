//! Listing as S3 does it: one range scan over `bucket \0 prefix…` in byte order, with keys that
//! contain the delimiter after the prefix rolled up into common prefixes. After a common prefix the
//! scan jumps past every key that starts with it (seek to `prefix + 0xFF`: no UTF-8 text contains
//! that byte), so a page costs `max_keys` seeks at most, however many keys a prefix hides.
//!
//! `start_after` applies to common prefixes too: a common prefix at or before it is not returned
//! again (it was on an earlier page), which is what lets `NextMarker` be a common prefix.

use std::ops::Bound;

use redb::ReadOnlyTable;

use super::{ListQuery, Listing, StoredObject, TABLE_NAME, bucket_start, db_err};
use crate::StoreError;

/// What one pass of the scan ended with.
enum Step {
    /// The page is complete (or the prefix has no more keys).
    Done,
    /// Seek to this index key and scan on.
    SeekTo(Vec<u8>),
}

pub(super) fn list(
    table: &ReadOnlyTable<&[u8], &[u8]>,
    bucket: &str,
    query: &ListQuery,
) -> Result<Listing, StoreError> {
    let mut listing = Listing::default();
    if query.max_keys == 0 {
        return Ok(listing);
    }
    let base = bucket_start(bucket);
    let mut scan_prefix = base.clone();
    scan_prefix.extend_from_slice(query.prefix.as_bytes());
    let start_after = query.start_after.as_deref();
    let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());

    let mut lower = match start_after {
        Some(after) if after.as_bytes() >= query.prefix.as_bytes() => {
            let mut key = base.clone();
            key.extend_from_slice(after.as_bytes());
            Bound::Excluded(key)
        }
        _ => Bound::Included(scan_prefix.clone()),
    };
    let mut count = 0usize;
    loop {
        let step = {
            let range = table.range::<&[u8]>((lower.as_ref().map(Vec::as_slice), Bound::Unbounded)).map_err(db_err)?;
            let mut step = Step::Done;
            for row in range {
                let (index_key, value) = row.map_err(db_err)?;
                let index_key = index_key.value();
                if !index_key.starts_with(&scan_prefix) {
                    break;
                }
                let key = std::str::from_utf8(&index_key[base.len()..]).map_err(|e| StoreError::Corrupt {
                    table: TABLE_NAME,
                    key: String::from_utf8_lossy(index_key).replace('\0', "/"),
                    reason: e.to_string(),
                })?;
                if let Some(common) = delimiter.and_then(|d| common_prefix(key, query.prefix.len(), d)) {
                    if start_after.is_none_or(|after| common > after) {
                        if count == query.max_keys {
                            listing.is_truncated = true;
                            break;
                        }
                        listing.common_prefixes.push(common.to_owned());
                        count += 1;
                    }
                    let mut next = base.clone();
                    next.extend_from_slice(common.as_bytes());
                    next.push(0xFF);
                    step = Step::SeekTo(next);
                    break;
                }
                if count == query.max_keys {
                    listing.is_truncated = true;
                    break;
                }
                listing.objects.push(StoredObject::decode(index_key, value.value())?.info(key));
                count += 1;
            }
            step
        };
        match step {
            Step::Done => return Ok(listing),
            Step::SeekTo(next) => lower = Bound::Included(next),
        }
    }
}

/// The common prefix `key` rolls up into: up to and including the first `delimiter` after the
/// first `prefix_len` bytes.
pub(super) fn common_prefix<'k>(key: &'k str, prefix_len: usize, delimiter: &str) -> Option<&'k str> {
    let rest = key.get(prefix_len..)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix_len + at + delimiter.len())
}
