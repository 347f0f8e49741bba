//! The embedded S3-compatible endpoint, path-style (design.md §5): CreateBucket,
//! DeleteBucket, HeadBucket and ListBuckets, so trails have somewhere to deliver
//! and `aws s3 mb s3://b --endpoint-url …` works. Buckets keep their objects
//! under `<data dir>/buckets/<bucket>/`.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cairn_model::clock::iso_seconds;
use cairn_model::names::validate_bucket_name;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::Change;
use cairn_store::records::BucketRecord;
use http::{Method, StatusCode};
use quick_xml::escape::escape;

use crate::caller::Caller;
use crate::state::AppState;

/// An S3 error: its own codes and statuses, rendered as S3's XML.
#[derive(Debug)]
struct S3Error {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl S3Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> S3Error {
        S3Error { status, code, message: message.into() }
    }

    fn no_such_bucket(bucket: &str) -> S3Error {
        S3Error::new(StatusCode::NOT_FOUND, "NoSuchBucket", format!("The specified bucket does not exist: {bucket}"))
    }

    fn into_response(self, request_id: &str) -> Response {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
            self.code,
            escape(&self.message),
            request_id
        );
        (self.status, [("content-type", "application/xml"), ("x-amz-request-id", request_id)], body).into_response()
    }
}

impl From<ApiError> for S3Error {
    fn from(error: ApiError) -> S3Error {
        let (status, code) = match error.code {
            ErrorCode::MissingAuthenticationToken => (StatusCode::FORBIDDEN, "AccessDenied"),
            ErrorCode::UnrecognizedClient => (StatusCode::FORBIDDEN, "InvalidAccessKeyId"),
            ErrorCode::InvalidSignature if error.message.starts_with("Signature") => {
                (StatusCode::FORBIDDEN, "RequestTimeTooSkewed")
            }
            ErrorCode::InvalidSignature => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
            ErrorCode::IncompleteSignature => (StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed"),
            ErrorCode::RequestEntityTooLarge => (StatusCode::BAD_REQUEST, "EntityTooLarge"),
            ErrorCode::InvalidS3BucketName => (StatusCode::BAD_REQUEST, "InvalidBucketName"),
            ErrorCode::UnknownOperation => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        };
        S3Error::new(status, code, error.message)
    }
}

impl From<cairn_store::StoreError> for S3Error {
    fn from(error: cairn_store::StoreError) -> S3Error {
        S3Error::from(ApiError::from(error))
    }
}

/// Renders an error met before the request reached S3 (authentication, body size).
pub(crate) fn error_response(error: &ApiError, request_id: &str) -> Response {
    S3Error::from(error.clone()).into_response(request_id)
}

/// What came of one S3 call, for the response and for its event.
#[derive(Debug)]
pub(crate) struct S3Outcome {
    pub(crate) operation: &'static str,
    /// The bucket the path names; empty for service-level calls.
    pub(crate) bucket: String,
    /// `(code, message)` of a failed call.
    pub(crate) error: Option<(String, String)>,
    pub(crate) response: Response,
}

/// Serves one S3 request.
pub(crate) async fn serve(
    state: Arc<AppState>,
    caller: &Caller,
    parts: &http::request::Parts,
    body: Bytes,
) -> S3Outcome {
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let bucket = path.trim_start_matches('/').split('/').next().unwrap_or("").chars().take(255).collect::<String>();
    let worker_caller = caller.clone();
    let request_id = caller.request_id.clone();
    // Bucket operations touch the metadata store and the file system.
    let outcome = tokio::task::spawn_blocking(move || route(&state, &worker_caller, &method, &path, &body)).await;
    let (operation, result) = outcome.unwrap_or_else(|_| ("unknown", Err(S3Error::from(ApiError::internal()))));
    match result {
        Ok(response) => S3Outcome { operation, bucket, error: None, response: with_request_id(response, &request_id) },
        Err(error) => S3Outcome {
            operation,
            bucket,
            error: Some((error.code.to_owned(), error.message.clone())),
            response: error.into_response(&request_id),
        },
    }
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    response
}

fn route(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    path: &str,
    body: &[u8],
) -> (&'static str, Result<Response, S3Error>) {
    let bucket = path.trim_start_matches('/');
    if bucket.is_empty() {
        return match *method {
            Method::GET => ("ListBuckets", Ok(list_buckets(state, caller))),
            _ => ("unknown", Err(not_implemented(method, path))),
        };
    }
    if bucket.contains('/') {
        return ("unknown", Err(not_implemented(method, path)));
    }
    match *method {
        Method::PUT => ("CreateBucket", create_bucket(state, caller, bucket, body)),
        Method::DELETE => ("DeleteBucket", delete_bucket(state, caller, bucket)),
        Method::HEAD => ("HeadBucket", head_bucket(state, caller, bucket)),
        _ => ("unknown", Err(not_implemented(method, path))),
    }
}

fn not_implemented(method: &Method, path: &str) -> S3Error {
    S3Error::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        format!(
            "cairn's embedded S3 serves CreateBucket, DeleteBucket, HeadBucket and ListBuckets; not {method} {}",
            cairn_model::error::truncate_for_message(path)
        ),
    )
}

fn create_bucket(state: &AppState, caller: &Caller, bucket: &str, body: &[u8]) -> Result<Response, S3Error> {
    validate_bucket_name(bucket)?;
    let region = location_constraint(body)?.unwrap_or_else(|| caller.region.clone());
    let record = BucketRecord {
        name: bucket.to_owned(),
        owner_account_id: caller.account_id().to_owned(),
        region,
        created_at: state.clock.now(),
    };
    let directory = state.bucket_root.join(bucket);
    state.buckets.transact(|buckets| {
        if let Some(existing) = buckets.get(bucket) {
            return Err(if existing.owner_account_id == caller.account_id() {
                S3Error::new(
                    StatusCode::CONFLICT,
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                )
            } else {
                S3Error::new(
                    StatusCode::CONFLICT,
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                )
            });
        }
        // The directory exists before the record: a crash between the two leaves
        // an empty directory, never a bucket without one.
        std::fs::create_dir_all(&directory).map_err(|e| {
            tracing::error!(error = %e, "cannot create bucket directory");
            S3Error::from(ApiError::internal())
        })?;
        Ok(((), vec![Change::Put(record)]))
    })?;
    Ok((StatusCode::OK, [("location", format!("/{bucket}"))]).into_response())
}

fn delete_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<Response, S3Error> {
    let directory = state.bucket_root.join(bucket);
    state.buckets.transact(|buckets| {
        let record = buckets.get(bucket).ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        if record.owner_account_id != caller.account_id() {
            return Err(S3Error::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"));
        }
        let is_empty = match std::fs::read_dir(&directory) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                tracing::error!(error = %e, "cannot read bucket directory");
                return Err(S3Error::from(ApiError::internal()));
            }
        };
        if !is_empty {
            return Err(S3Error::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            ));
        }
        Ok(((), vec![Change::Delete(bucket.to_owned())]))
    })?;
    // The record is gone; a leftover empty directory is harmless and reused on re-creation.
    let _ = std::fs::remove_dir(&directory);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn head_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<Response, S3Error> {
    let Some(record) = state.buckets.get(bucket) else {
        return Err(S3Error::no_such_bucket(bucket));
    };
    if record.owner_account_id != caller.account_id() {
        return Err(S3Error::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"));
    }
    Ok((StatusCode::OK, [("x-amz-bucket-region", record.region)]).into_response())
}

fn list_buckets(state: &AppState, caller: &Caller) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    xml.push_str(&format!("<Owner><ID>{0}</ID><DisplayName>{0}</DisplayName></Owner><Buckets>", caller.account_id()));
    for bucket in state.buckets.all().iter().filter(|b| b.owner_account_id == caller.account_id()) {
        xml.push_str(&format!(
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
            escape(&bucket.name),
            iso_seconds(bucket.created_at).replace('Z', ".000Z"),
            escape(&bucket.region)
        ));
    }
    xml.push_str("</Buckets></ListAllMyBucketsResult>");
    ([("content-type", "application/xml")], xml).into_response()
}

/// The `LocationConstraint` of a CreateBucket body, if any.
fn location_constraint(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let malformed =
        || S3Error::new(StatusCode::BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed");
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut in_constraint = false;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).map_err(|_| malformed())? {
            quick_xml::events::Event::Start(start) => {
                in_constraint = start.local_name().as_ref() == b"LocationConstraint"
            }
            quick_xml::events::Event::Text(text) if in_constraint => {
                let region = text.decode().map_err(|_| malformed())?.trim().to_owned();
                return Ok((!region.is_empty()).then_some(region));
            }
            quick_xml::events::Event::End(_) => in_constraint = false,
            quick_xml::events::Event::Eof => return Ok(None),
            _ => {}
        }
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_are_read_from_xml() {
        let body = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
        assert_eq!(location_constraint(body).unwrap().as_deref(), Some("eu-west-1"));
        assert_eq!(location_constraint(b"").unwrap(), None);
        assert_eq!(location_constraint(b"<a><b></a>").unwrap_err().code, "MalformedXML");
    }
}
