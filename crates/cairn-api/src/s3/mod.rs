//! The embedded S3-compatible endpoint (design.md §5): what trails deliver into and what
//! `aws s3 ls|cp|rm` and `aws cloudtrail validate-logs` read back (spec/formats.md §3.5–3.6).
//!
//! Buckets: CreateBucket, DeleteBucket (409 BucketNotEmpty unless empty), HeadBucket, ListBuckets,
//! GetBucketLocation (`buckets.rs`). Objects: PutObject, GetObject (ranges, conditions),
//! HeadObject, DeleteObject (`objects.rs`), ListObjects v1 and v2 (`listing.rs`). Requests are
//! path-style (`/bucket/key`) or virtual-host style (`Host: bucket.localhost[:port]`); keys are
//! percent-decoded and may hold any character (`request.rs`). Errors are S3's XML (`error.rs`).
//!
//! Everything that touches the metadata store or the `ObjectIndex` runs on the blocking pool. The
//! [`S3Outcome`] says what the call was, for its CloudTrail event: bucket calls are management
//! events, object calls (and listings) data events. Tests: `tests.rs`.

mod buckets;
mod error;
mod listing;
mod objects;
mod request;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::body::HttpBody;
use axum::response::Response;
use bytes::Bytes;
use cairn_model::ApiError;
use http::Method;

use self::error::S3Error;
use self::request::{Address, Query};
use crate::caller::Caller;
use crate::state::AppState;

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Query parameters that select S3 sub-resources or operations cairn does not serve; a request
/// carrying one is refused (NotImplemented) rather than mistaken for a plain bucket or object call.
const UNSERVED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    "website",
];

/// Renders an error met before the request reached S3 (authentication, body size).
pub(crate) fn error_response(error: &ApiError, request_id: &str) -> Response {
    S3Error::from(error.clone()).into_response(request_id)
}

/// What came of one S3 call, for the response and for its event.
#[derive(Debug)]
pub(crate) struct S3Outcome {
    /// The S3 API operation (`ListObjectsV2`, …); `unknown` for requests cairn does not serve.
    pub(crate) operation: &'static str,
    /// The bucket the request names; empty for service-level calls.
    pub(crate) bucket: String,
    /// The object key, for object calls.
    pub(crate) key: Option<String>,
    /// Query parameters the event records besides `bucketName`, `Host` and `key`.
    pub(crate) parameters: Vec<(String, String)>,
    /// Signed in the query string (a presigned URL) rather than the `Authorization` header.
    pub(crate) presigned: bool,
    /// `(code, message)` of a failed call.
    pub(crate) error: Option<(String, String)>,
    pub(crate) response: Response,
}

impl S3Outcome {
    /// The event's `eventName`: CloudTrail records ListObjectsV2 as `ListObjects` (spec corpus).
    pub(crate) fn event_name(&self) -> &'static str {
        match self.operation {
            "ListObjectsV2" => "ListObjects",
            other => other,
        }
    }

    /// Object-level calls are data events (`eventCategory: Data`); bucket calls are management events.
    pub(crate) fn is_data_event(&self) -> bool {
        matches!(
            self.operation,
            "PutObject" | "GetObject" | "HeadObject" | "DeleteObject" | "ListObjects" | "ListObjectsV2"
        )
    }

    /// The key prefix a listing covers (its `resources[]` names `arn:aws:s3:::bucket/<prefix>`).
    pub(crate) fn listed_prefix(&self) -> Option<&str> {
        matches!(self.operation, "ListObjects" | "ListObjectsV2")
            .then(|| self.parameters.iter().find(|(name, _)| name == "prefix").map_or("", |(_, value)| value.as_str()))
    }

    /// Bytes of the response body, for `additionalEventData.bytesTransferredOut`.
    pub(crate) fn bytes_out(&self) -> u64 {
        self.response.body().size_hint().exact().unwrap_or(0)
    }
}

/// One request as the handlers see it.
struct S3Request<'a> {
    method: &'a Method,
    address: &'a Address,
    query: &'a Query,
    headers: &'a http::HeaderMap,
    body: &'a [u8],
}

/// Serves one S3 request.
pub(crate) async fn serve(
    state: Arc<AppState>,
    caller: &Caller,
    parts: &http::request::Parts,
    body: Bytes,
) -> S3Outcome {
    let request_id = caller.request_id.clone();
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
    let parsed =
        request::address(host, parts.uri.path()).and_then(|address| Ok((address, Query::parse(parts.uri.query())?)));
    let (address, query) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return S3Outcome {
                operation: "unknown",
                bucket: String::new(),
                key: None,
                parameters: Vec::new(),
                presigned: false,
                error: Some((error.code.to_owned(), error.message.clone())),
                response: error.into_response(&request_id),
            };
        }
    };
    let (method, headers) = (parts.method.clone(), parts.headers.clone());
    let (worker_caller, worker_address, worker_query) = (caller.clone(), address.clone(), query.clone());
    // Bucket and object operations touch the metadata store, the object index and the file system.
    let outcome = tokio::task::spawn_blocking(move || {
        let request = S3Request {
            method: &method,
            address: &worker_address,
            query: &worker_query,
            headers: &headers,
            body: &body,
        };
        route(&state, &worker_caller, &request)
    })
    .await;
    let (operation, result) = outcome.unwrap_or_else(|_| ("unknown", Err(S3Error::internal())));
    let parameters = match operation {
        "ListObjects" | "ListObjectsV2" => query.recorded(),
        "GetBucketLocation" => vec![("location".to_owned(), String::new())],
        _ => Vec::new(),
    };
    let mut outcome = S3Outcome {
        operation,
        bucket: address.bucket.chars().take(255).collect(),
        key: address.key.clone(),
        parameters,
        presigned: query.is_presigned(),
        error: None,
        response: Response::default(),
    };
    match result {
        Ok(response) => outcome.response = with_request_id(response, &request_id),
        Err(error) => {
            outcome.error = Some((error.code.to_owned(), error.message.clone()));
            outcome.response = error.into_response(&request_id);
        }
    }
    outcome
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    response
}

/// The operation a request asks for and its result.
fn route(state: &AppState, caller: &Caller, request: &S3Request<'_>) -> (&'static str, Result<Response, S3Error>) {
    let S3Request { method, address, query, headers, body } = request;
    let bucket = address.bucket.as_str();
    let what = || format!("{method} with {}", describe(address, query));
    if bucket.is_empty() {
        return match **method {
            Method::GET => ("ListBuckets", Ok(buckets::list_buckets(state, caller))),
            _ => ("unknown", Err(S3Error::not_implemented(&what()))),
        };
    }
    if let Some(subresource) = UNSERVED_SUBRESOURCES.iter().find(|name| query.has(name)) {
        return ("unknown", Err(S3Error::not_implemented(&format!("the '{subresource}' sub-resource ({})", what()))));
    }
    let Some(key) = address.key.as_deref() else {
        return match **method {
            Method::PUT => ("CreateBucket", buckets::create_bucket(state, caller, bucket, body)),
            Method::DELETE => ("DeleteBucket", buckets::delete_bucket(state, caller, bucket)),
            Method::HEAD => ("HeadBucket", buckets::head_bucket(state, caller, bucket)),
            Method::GET if query.has("location") => {
                ("GetBucketLocation", buckets::get_bucket_location(state, caller, bucket))
            }
            Method::GET => match query.get("list-type") {
                None => ("ListObjects", listing::list_objects(state, caller, bucket, query)),
                Some("2") => ("ListObjectsV2", listing::list_objects_v2(state, caller, bucket, query)),
                Some(other) => (
                    "ListObjectsV2",
                    Err(S3Error::invalid_argument("Invalid List Type specified in Request", "list-type", other)),
                ),
            },
            _ => ("unknown", Err(S3Error::not_implemented(&what()))),
        };
    };
    match **method {
        Method::PUT if headers.contains_key("x-amz-copy-source") => {
            ("unknown", Err(S3Error::not_implemented(&format!("CopyObject ({})", what()))))
        }
        Method::PUT => ("PutObject", objects::put_object(state, caller, bucket, key, headers, body)),
        Method::GET => ("GetObject", objects::get_object(state, caller, bucket, key, query, headers, true)),
        Method::HEAD => ("HeadObject", objects::get_object(state, caller, bucket, key, query, headers, false)),
        Method::DELETE => ("DeleteObject", objects::delete_object(state, caller, bucket, key)),
        _ => ("unknown", Err(S3Error::not_implemented(&what()))),
    }
}

/// `bucket 'b' key 'k'` for messages.
fn describe(address: &Address, query: &Query) -> String {
    let mut out =
        if address.bucket.is_empty() { "no bucket".to_owned() } else { format!("bucket '{}'", address.bucket) };
    if let Some(key) = &address.key {
        out.push_str(&format!(" key '{key}'"));
    }
    if !query.pairs.is_empty() {
        let names: Vec<&str> = query.pairs.iter().map(|(name, _)| name.as_str()).collect();
        out.push_str(&format!(" query '{}'", names.join("&")));
    }
    out
}
