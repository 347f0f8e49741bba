//! ListObjects (v1: `prefix`, `marker`, `delimiter`, `max-keys`, `encoding-type`) and ListObjectsV2
//! (`list-type=2`: `continuation-token`, `start-after`, `fetch-owner`, `KeyCount`). Keys come in
//! byte order from the `ObjectIndex`; with `encoding-type=url` every key, prefix, delimiter and
//! marker in the answer is URL-encoded as S3 does (botocore asks for it and decodes).

use axum::response::{IntoResponse, Response};
use cairn_store::objects::{ListQuery, Listing};
use quick_xml::escape::escape;

use super::buckets::owned_bucket;
use super::error::S3Error;
use super::request::{Query, iso_millis, url_encode};
use super::{S3_XMLNS, XML_DECLARATION};
use crate::caller::Caller;
use crate::state::AppState;

/// The most keys one page returns, whatever `max-keys` asks for.
const MAX_KEYS: usize = 1000;
/// The first character of every continuation token: its format.
const TOKEN_FORMAT: char = '1';

/// What a listing request asks for, read and checked.
#[derive(Debug)]
struct Request<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    url_encoded: bool,
    max_keys: usize,
}

impl<'a> Request<'a> {
    fn parse(query: &'a Query) -> Result<Request<'a>, S3Error> {
        let url_encoded = match query.get("encoding-type") {
            None => false,
            Some("url") => true,
            Some(other) => {
                return Err(S3Error::invalid_argument(
                    "Invalid Encoding Method specified in Request",
                    "encoding-type",
                    other,
                ));
            }
        };
        let max_keys = match query.get("max-keys") {
            None => MAX_KEYS,
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => usize::try_from(n).unwrap_or(MAX_KEYS).min(MAX_KEYS),
                _ => {
                    return Err(S3Error::invalid_argument(
                        "Provided max-keys not an integer or within integer range",
                        "max-keys",
                        text,
                    ));
                }
            },
        };
        Ok(Request {
            prefix: query.get("prefix").unwrap_or(""),
            delimiter: query.get("delimiter").filter(|d| !d.is_empty()),
            url_encoded,
            max_keys,
        })
    }

    /// A key, prefix or marker as the answer writes it.
    fn text(&self, value: &str) -> String {
        if self.url_encoded { escape(url_encode(value)).into_owned() } else { escape(value).into_owned() }
    }
}

/// The last key or common prefix of a page: where the next page starts.
fn last_entry(listing: &Listing) -> Option<&str> {
    let last_key = listing.objects.last().map(|o| o.key.as_str());
    let last_prefix = listing.common_prefixes.last().map(String::as_str);
    match (last_key, last_prefix) {
        (Some(k), Some(p)) => Some(if k.as_bytes() > p.as_bytes() { k } else { p }),
        (k, p) => k.or(p),
    }
}

pub(super) fn continuation_token(last: &str) -> String {
    format!("{TOKEN_FORMAT}{}", hex::encode(last.as_bytes()))
}

pub(super) fn read_continuation_token(token: &str) -> Result<String, S3Error> {
    let invalid =
        || S3Error::invalid_argument("The continuation token provided is incorrect", "continuation-token", token);
    let encoded = token.strip_prefix(TOKEN_FORMAT).ok_or_else(invalid)?;
    let bytes = hex::decode(encoded).map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// ListObjects (v1).
pub(super) fn list_objects(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    query: &Query,
) -> Result<Response, S3Error> {
    let record = owned_bucket(state, caller, bucket)?;
    let request = Request::parse(query)?;
    let marker = query.get("marker").unwrap_or("");
    let listing = state.objects.list(
        bucket,
        &ListQuery {
            prefix: request.prefix.to_owned(),
            start_after: (!marker.is_empty()).then(|| marker.to_owned()),
            delimiter: request.delimiter.map(str::to_owned),
            max_keys: request.max_keys,
        },
    )?;
    let mut xml = format!("{XML_DECLARATION}<ListBucketResult xmlns=\"{S3_XMLNS}\">");
    xml.push_str(&format!("<Name>{}</Name>", escape(bucket)));
    xml.push_str(&format!("<Prefix>{}</Prefix>", request.text(request.prefix)));
    xml.push_str(&format!("<Marker>{}</Marker>", request.text(marker)));
    // S3 sends NextMarker only when a delimiter is given; otherwise clients continue from the last key.
    if listing.is_truncated
        && request.delimiter.is_some()
        && let Some(last) = last_entry(&listing)
    {
        xml.push_str(&format!("<NextMarker>{}</NextMarker>", request.text(last)));
    }
    xml.push_str(&format!("<MaxKeys>{}</MaxKeys>", request.max_keys));
    if let Some(delimiter) = request.delimiter {
        xml.push_str(&format!("<Delimiter>{}</Delimiter>", request.text(delimiter)));
    }
    if request.url_encoded {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    xml.push_str(&format!("<IsTruncated>{}</IsTruncated>", listing.is_truncated));
    push_entries(&mut xml, &request, &listing, Some(&record.owner_account_id));
    xml.push_str("</ListBucketResult>");
    Ok(([("content-type", "application/xml")], xml).into_response())
}

/// ListObjectsV2.
pub(super) fn list_objects_v2(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    query: &Query,
) -> Result<Response, S3Error> {
    let record = owned_bucket(state, caller, bucket)?;
    let request = Request::parse(query)?;
    let token = query.get("continuation-token");
    let start_after = query.get("start-after").filter(|s| !s.is_empty());
    let resume = match token {
        Some(token) => Some(read_continuation_token(token)?),
        None => start_after.map(str::to_owned),
    };
    let listing = state.objects.list(
        bucket,
        &ListQuery {
            prefix: request.prefix.to_owned(),
            start_after: resume,
            delimiter: request.delimiter.map(str::to_owned),
            max_keys: request.max_keys,
        },
    )?;
    let key_count = listing.objects.len() + listing.common_prefixes.len();
    let mut xml = format!("{XML_DECLARATION}<ListBucketResult xmlns=\"{S3_XMLNS}\">");
    xml.push_str(&format!("<Name>{}</Name>", escape(bucket)));
    xml.push_str(&format!("<Prefix>{}</Prefix>", request.text(request.prefix)));
    xml.push_str(&format!("<KeyCount>{key_count}</KeyCount>"));
    xml.push_str(&format!("<MaxKeys>{}</MaxKeys>", request.max_keys));
    if let Some(delimiter) = request.delimiter {
        xml.push_str(&format!("<Delimiter>{}</Delimiter>", request.text(delimiter)));
    }
    if request.url_encoded {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    xml.push_str(&format!("<IsTruncated>{}</IsTruncated>", listing.is_truncated));
    if let Some(token) = token {
        xml.push_str(&format!("<ContinuationToken>{}</ContinuationToken>", escape(token)));
    }
    if listing.is_truncated
        && let Some(last) = last_entry(&listing)
    {
        xml.push_str(&format!("<NextContinuationToken>{}</NextContinuationToken>", continuation_token(last)));
    }
    if let Some(start_after) = start_after {
        xml.push_str(&format!("<StartAfter>{}</StartAfter>", request.text(start_after)));
    }
    let owner = (query.get("fetch-owner") == Some("true")).then_some(record.owner_account_id.as_str());
    push_entries(&mut xml, &request, &listing, owner);
    xml.push_str("</ListBucketResult>");
    Ok(([("content-type", "application/xml")], xml).into_response())
}

/// `<Contents>` for each key, then `<CommonPrefixes>`.
fn push_entries(xml: &mut String, request: &Request<'_>, listing: &Listing, owner: Option<&str>) {
    for object in &listing.objects {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size>",
            request.text(&object.key),
            iso_millis(object.last_modified),
            escape(&object.etag),
            object.size
        ));
        if let Some(owner) = owner {
            xml.push_str(&format!("<Owner><ID>{0}</ID><DisplayName>{0}</DisplayName></Owner>", escape(owner)));
        }
        xml.push_str("<StorageClass>STANDARD</StorageClass></Contents>");
    }
    for prefix in &listing.common_prefixes {
        xml.push_str(&format!("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", request.text(prefix)));
    }
}
