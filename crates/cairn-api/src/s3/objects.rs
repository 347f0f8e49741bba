//! Object operations: PutObject, GetObject (ranges, conditions, `response-*` overrides), HeadObject
//! and DeleteObject, over the `ObjectIndex` in `AppState`. User metadata travels as lower-case
//! `x-amz-meta-<name>` headers both ways.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use cairn_store::objects::{ObjectInfo, PutObject};
use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::buckets::{object_write_gate, owned_bucket};
use super::error::S3Error;
use super::request::{self, MAX_KEY_BYTES, Query, RangeRequest};
use crate::caller::Caller;
use crate::state::AppState;

/// The most user metadata S3 takes: names and values together, in bytes.
const MAX_USER_METADATA_BYTES: usize = 2048;
const META_PREFIX: &str = "x-amz-meta-";
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// `response-<header>` query parameters of GetObject and the headers they set.
const RESPONSE_OVERRIDES: &[(&str, &str)] = &[
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(StatusCode::BAD_REQUEST, "KeyTooLongError", "Your key is too long")
            .with("MaxSizeAllowed", MAX_KEY_BYTES.to_string())
            .with("Size", key.len().to_string()));
    }
    Ok(())
}

/// Objects are not versioned: only the `null` version exists.
fn check_version(query: &Query) -> Result<(), S3Error> {
    match query.get("versionId") {
        None | Some("null") => Ok(()),
        Some(other) => Err(S3Error::invalid_argument("Invalid version id specified", "versionId", other)),
    }
}

pub(super) fn put_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, S3Error> {
    check_key(key)?;
    let options = PutObject {
        content_type: headers
            .get(http::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .filter(|v| !v.is_empty()),
        user_metadata: user_metadata(headers)?,
    };
    let _gate = object_write_gate();
    owned_bucket(state, caller, bucket)?;
    let info = state.objects.put(bucket, key, body, &options)?;
    Ok((StatusCode::OK, [("etag", info.etag)]).into_response())
}

/// `x-amz-meta-*` headers as `(name, value)` with lower-case names, in request order; repeated
/// headers are joined with `,` as HTTP allows.
pub(super) fn user_metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut metadata: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        // Header names arrive lower-case.
        let Some(meta_name) = name.as_str().strip_prefix(META_PREFIX) else { continue };
        let value = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
        match metadata.iter_mut().find(|(n, _)| n == meta_name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => metadata.push((meta_name.to_owned(), value)),
        }
    }
    let size: usize = metadata.iter().map(|(n, v)| n.len() + v.len()).sum();
    if size > MAX_USER_METADATA_BYTES {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .with("Size", size.to_string())
        .with("MaxSizeAllowed", MAX_USER_METADATA_BYTES.to_string()));
    }
    Ok(metadata)
}

/// GetObject (`with_body`) or HeadObject.
pub(super) fn get_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
    query: &Query,
    headers: &HeaderMap,
    with_body: bool,
) -> Result<Response, S3Error> {
    owned_bucket(state, caller, bucket)?;
    check_version(query)?;
    let (info, body) = if with_body {
        match state.objects.get(bucket, key)? {
            Some((info, body)) => (info, Some(body)),
            None => return Err(S3Error::no_such_key(key)),
        }
    } else {
        (state.objects.head(bucket, key)?.ok_or_else(|| S3Error::no_such_key(key))?, None)
    };
    let mut out = object_headers(&info);
    if let Some(status) = precondition(&info, headers)? {
        // 304 Not Modified: the validators, no body.
        let mut response = status.into_response();
        for name in ["etag", "last-modified"] {
            if let Some(value) = out.get(name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
        return Ok(response);
    }
    for (parameter, header) in RESPONSE_OVERRIDES {
        if let Some(value) = query.get(parameter).and_then(|v| HeaderValue::from_str(v).ok()) {
            out.insert(*header, value);
        }
    }
    let range_header = headers.get(http::header::RANGE).and_then(|v| v.to_str().ok());
    let (status, first, last) = match request::range(range_header, info.size) {
        RangeRequest::Whole => (StatusCode::OK, 0, info.size.checked_sub(1)),
        RangeRequest::Part { first, last } => {
            let content_range = format!("bytes {first}-{last}/{}", info.size);
            out.insert(http::header::CONTENT_RANGE, header_value(&content_range));
            (StatusCode::PARTIAL_CONTENT, first, Some(last))
        }
        RangeRequest::Unsatisfiable => {
            return Err(S3Error::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range is not satisfiable",
            )
            .with("RangeRequested", range_header.unwrap_or_default())
            .with("ActualObjectSize", info.size.to_string()));
        }
    };
    let length = last.map_or(0, |last| last + 1 - first);
    out.insert(http::header::CONTENT_LENGTH, header_value(&length.to_string()));
    let body = match body {
        Some(mut bytes) => {
            // Both ends are within the object: `range` clamps them to its size.
            let end = usize::try_from(first + length).unwrap_or(bytes.len()).min(bytes.len());
            let start = usize::try_from(first).unwrap_or(end).min(end);
            bytes.truncate(end);
            bytes.drain(..start);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = out;
    Ok(response)
}

pub(super) fn delete_object(state: &AppState, caller: &Caller, bucket: &str, key: &str) -> Result<Response, S3Error> {
    let _gate = object_write_gate();
    owned_bucket(state, caller, bucket)?;
    // S3 answers 204 whether or not the key existed.
    state.objects.delete(bucket, key)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The headers GetObject and HeadObject describe an object with.
fn object_headers(info: &ObjectInfo) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::ETAG, header_value(&info.etag));
    headers.insert(http::header::LAST_MODIFIED, header_value(&request::http_date(info.last_modified)));
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_bytes(info.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE).as_bytes())
            .unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_CONTENT_TYPE)),
    );
    headers.insert(http::header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    for (name, value) in &info.user_metadata {
        let name = HeaderName::from_bytes(format!("{META_PREFIX}{name}").as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(value.as_bytes())) {
            headers.append(name, value);
        }
    }
    headers
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// RFC 9110 conditional GET: `Some(304)` when the client's copy is current, `Err(412)` when a
/// precondition fails, `None` to serve the object.
fn precondition(info: &ObjectInfo, headers: &HeaderMap) -> Result<Option<StatusCode>, S3Error> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let modified = info.last_modified.as_second();
    let failed = |condition: &str| {
        S3Error::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
        .with("Condition", condition)
    };
    if let Some(tags) = text("if-match") {
        if !etag_matches(tags, &info.etag) {
            return Err(failed("If-Match"));
        }
    } else if let Some(since) = text("if-unmodified-since").and_then(request::parse_http_date)
        && modified > since.as_second()
    {
        return Err(failed("If-Unmodified-Since"));
    }
    if let Some(tags) = text("if-none-match") {
        if etag_matches(tags, &info.etag) {
            return Ok(Some(StatusCode::NOT_MODIFIED));
        }
    } else if let Some(since) = text("if-modified-since").and_then(request::parse_http_date)
        && modified <= since.as_second()
    {
        return Ok(Some(StatusCode::NOT_MODIFIED));
    }
    Ok(None)
}

/// Whether a list of entity tags (`"a", W/"b"`, `*`) names `etag`.
pub(super) fn etag_matches(tags: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == bare)
}
