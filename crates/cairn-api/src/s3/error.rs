//! S3 errors: S3's own codes and statuses, rendered as S3's XML `<Error>` document.

use axum::response::{IntoResponse, Response};
use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};
use http::StatusCode;
use quick_xml::escape::escape;

/// An S3 error: its code, status, message and the extra members S3 adds for some codes
/// (`<Key>` for NoSuchKey, `<BucketName>` for NoSuchBucket, …).
#[derive(Debug)]
pub(crate) struct S3Error {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) details: Vec<(&'static str, String)>,
}

impl S3Error {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> S3Error {
        S3Error { status, code, message: message.into(), details: Vec::new() }
    }

    pub(crate) fn with(mut self, member: &'static str, value: impl Into<String>) -> S3Error {
        self.details.push((member, value.into()));
        self
    }

    pub(crate) fn no_such_bucket(bucket: &str) -> S3Error {
        S3Error::new(StatusCode::NOT_FOUND, "NoSuchBucket", format!("The specified bucket does not exist: {bucket}"))
            .with("BucketName", bucket)
    }

    pub(crate) fn no_such_key(key: &str) -> S3Error {
        S3Error::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    pub(crate) fn access_denied() -> S3Error {
        S3Error::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    pub(crate) fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> S3Error {
        S3Error::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", truncate_for_message(value))
    }

    pub(crate) fn internal() -> S3Error {
        S3Error::from(ApiError::internal())
    }

    pub(crate) fn not_implemented(what: &str) -> S3Error {
        S3Error::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!(
                "cairn's embedded S3 serves bucket create/delete/head/list/location and object \
                 put/get/head/delete/list; not {}",
                truncate_for_message(what)
            ),
        )
    }

    pub(crate) fn into_response(self, request_id: &str) -> Response {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
            self.code,
            escape(&self.message)
        );
        for (member, value) in &self.details {
            body.push_str(&format!("<{member}>{}</{member}>", escape(value.as_str())));
        }
        body.push_str(&format!("<RequestId>{request_id}</RequestId></Error>"));
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
            ErrorCode::ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
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
