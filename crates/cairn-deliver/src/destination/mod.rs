//! Where trail deliveries go (design.md §2): [`Destinations`] writes log and digest files to an
//! embedded bucket (cairn's own S3, [`ObjectIndex`]) or to an external S3-compatible bucket declared
//! in the config ([`ExternalBucket`]), through `object_store`'s S3 client. A name the config declares
//! external is always the external bucket.
//!
//! A failure is a [`DestinationError`] whose `Display` is a short message fit for GetTrailStatus's
//! `LatestDeliveryError`: the S3 error code the store answered (`NoSuchBucket`, `AccessDenied`), or
//! what went wrong on the way there (`connection refused to http://…`). The S3 client retries only
//! briefly (two retries within a few seconds): the deliverer keeps its own backoff and cursor.
//!
//! Embedded writes are blocking (fsync) and run on tokio's blocking pool. Tests: `tests.rs` (embedded
//! put/get, a fake S3 endpoint on 127.0.0.1 for the request shape and error codes, an endpoint where
//! nothing listens).

#[cfg(test)]
pub(crate) mod fake_http;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use cairn_store::objects::{ListQuery, ObjectIndex, PutObject};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};

/// An external S3-compatible bucket trails may deliver to.
#[derive(Clone)]
pub struct ExternalBucket {
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub path_style: bool,
}

impl std::fmt::Debug for ExternalBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalBucket")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Why a put or get did not happen. `Display` is the short message GetTrailStatus shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// The store refused the request with this S3 error code (`NoSuchBucket`, `AccessDenied`,
    /// `SlowDown`, …). A bucket that is neither external nor embedded is `NoSuchBucket` too.
    #[error("{code}")]
    Refused { code: String },
    /// The store answered with an error status but named no S3 error code.
    #[error("HTTP {status} from {endpoint}")]
    Status { status: u16, endpoint: String },
    /// The endpoint could not be reached or stopped answering (`connection refused to http://…`).
    #[error("{message}")]
    Unreachable { message: String },
    /// Anything else: a local store failure, a key or metadata value that cannot be sent.
    #[error("{message}")]
    Failed { message: String },
    /// The S3 client rejected an external bucket's configuration ([`Destinations::new`]).
    #[error("external bucket {bucket}: {message}")]
    InvalidConfig { bucket: String, message: String },
}

impl DestinationError {
    fn no_such_bucket() -> DestinationError {
        DestinationError::Refused { code: "NoSuchBucket".to_owned() }
    }

    /// The S3 error code the store answered, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            DestinationError::Refused { code } => Some(code),
            _ => None,
        }
    }
}

/// Whether an embedded bucket exists; see [`Destinations::with_embedded_buckets`].
type BucketExists = dyn Fn(&str) -> bool + Send + Sync;

/// Every bucket a trail may deliver to. `Send + Sync`; share it in an `Arc`.
pub struct Destinations {
    embedded: Option<Arc<ObjectIndex>>,
    embedded_exists: Option<Arc<BucketExists>>,
    external: HashMap<String, External>,
}

/// One external bucket's client.
struct External {
    /// The endpoint as configured, without query or fragment: what error messages show.
    endpoint: String,
    store: AmazonS3,
}

impl std::fmt::Debug for Destinations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut external: Vec<_> = self.external.keys().collect();
        external.sort();
        f.debug_struct("Destinations")
            .field("embedded", &self.embedded.is_some())
            .field("external", &external)
            .finish_non_exhaustive()
    }
}

/// Signs requests to an external bucket that declares no credentials (a store that accepts any).
const ANONYMOUS_ACCESS_KEY_ID: &str = "cairn";
const ANONYMOUS_SECRET_ACCESS_KEY: &str = "cairn";
/// Connection set-up; an endpoint that takes longer is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One whole request, body included (a log file is at most 50 MB, spec/formats.md §2.2).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The client's own retries of connection failures and 5xx; the deliverer backs off on top.
const MAX_RETRIES: usize = 2;
const RETRY_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys per page when listing an embedded bucket.
const LIST_PAGE_KEYS: usize = 1000;

impl Destinations {
    /// Embedded buckets go to `embedded` (none: only external buckets exist); each of `external`
    /// gets its own S3 client. Builds no connection yet.
    pub fn new(
        embedded: Option<Arc<ObjectIndex>>,
        external: &[ExternalBucket],
    ) -> Result<Destinations, DestinationError> {
        let external = external
            .iter()
            .map(|bucket| Ok((bucket.name.clone(), External::new(bucket)?)))
            .collect::<Result<HashMap<_, _>, DestinationError>>()?;
        Ok(Destinations { embedded, embedded_exists: None, external })
    }

    /// Tells which embedded buckets exist, so that a delivery to a deleted one fails with
    /// `NoSuchBucket`. Without it every name that is not external counts as an embedded bucket.
    pub fn with_embedded_buckets(mut self, exists: impl Fn(&str) -> bool + Send + Sync + 'static) -> Destinations {
        self.embedded_exists = Some(Arc::new(exists));
        self
    }

    /// `bucket` is one of the external buckets of the config.
    pub fn is_external(&self, bucket: &str) -> bool {
        self.external.contains_key(bucket)
    }

    /// Writes one object, replacing any object under `key`. Metadata names are sent lower-case as
    /// `x-amz-meta-<name>`. Durable on the store (for the embedded one: fsynced) before `Ok`.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        metadata: &[(&str, &str)],
    ) -> Result<(), DestinationError> {
        if let Some(external) = self.external.get(bucket) {
            return external.put(key, body, content_type, metadata).await;
        }
        let index = self.embedded_index(bucket)?;
        let options = PutObject {
            content_type: (!content_type.is_empty()).then(|| content_type.to_owned()),
            user_metadata: metadata
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), (*value).to_owned()))
                .collect(),
        };
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        tokio::task::spawn_blocking(move || index.put(&bucket, &key, &body, &options))
            .await
            .map_err(|e| DestinationError::Failed { message: format!("embedded store: {e}") })?
            .map(drop)
            .map_err(embedded_error)
    }

    /// The bytes under `key`, or `None` if there is no such object (a missing bucket is an error).
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, DestinationError> {
        if let Some(external) = self.external.get(bucket) {
            return external.get(key).await;
        }
        let index = self.embedded_index(bucket)?;
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        let found = tokio::task::spawn_blocking(move || index.get(&bucket, &key))
            .await
            .map_err(|e| DestinationError::Failed { message: format!("embedded store: {e}") })?
            .map_err(embedded_error)?;
        Ok(found.map(|(_, bytes)| bytes))
    }

    /// Every object under `prefix`, as `(key, size)` in key order (imports read whole prefixes).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<(String, u64)>, DestinationError> {
        if let Some(external) = self.external.get(bucket) {
            return external.list(prefix).await;
        }
        let index = self.embedded_index(bucket)?;
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            let mut start_after = None;
            loop {
                let query =
                    ListQuery { prefix: prefix.clone(), start_after, delimiter: None, max_keys: LIST_PAGE_KEYS };
                let page = index.list(&bucket, &query).map_err(embedded_error)?;
                found.extend(page.objects.into_iter().map(|object| (object.key, object.size)));
                match (page.is_truncated, found.last()) {
                    (true, Some((last, _))) => start_after = Some(last.clone()),
                    _ => return Ok(found),
                }
            }
        })
        .await
        .map_err(|e| DestinationError::Failed { message: format!("embedded store: {e}") })?
    }

    fn embedded_index(&self, bucket: &str) -> Result<Arc<ObjectIndex>, DestinationError> {
        let exists = self.embedded_exists.as_ref().is_none_or(|exists| exists(bucket));
        match &self.embedded {
            Some(index) if exists => Ok(Arc::clone(index)),
            _ => Err(DestinationError::no_such_bucket()),
        }
    }
}

fn embedded_error(error: cairn_store::StoreError) -> DestinationError {
    tracing::warn!(%error, "embedded bucket write or read failed");
    DestinationError::Failed { message: format!("embedded store: {error}") }
}

impl External {
    fn new(bucket: &ExternalBucket) -> Result<External, DestinationError> {
        let invalid = |message: String| DestinationError::InvalidConfig { bucket: bucket.name.clone(), message };
        let endpoint = bucket.endpoint.trim_end_matches('/');
        let request_endpoint = if bucket.path_style {
            endpoint.to_owned()
        } else {
            virtual_hosted_endpoint(endpoint, &bucket.name)
                .ok_or_else(|| invalid(format!("endpoint {endpoint:?} is not an http(s) URL")))?
        };
        let client_options = ClientOptions::new()
            .with_allow_http(true)
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        };
        let store = AmazonS3Builder::new()
            .with_bucket_name(&bucket.name)
            .with_endpoint(request_endpoint)
            .with_region(&bucket.region)
            .with_access_key_id(bucket.access_key_id.as_deref().unwrap_or(ANONYMOUS_ACCESS_KEY_ID))
            .with_secret_access_key(bucket.secret_access_key.as_deref().unwrap_or(ANONYMOUS_SECRET_ACCESS_KEY))
            .with_virtual_hosted_style_request(!bucket.path_style)
            .with_allow_http(true)
            .with_client_options(client_options)
            .with_retry(retry)
            .build()
            .map_err(|e| invalid(innermost(&e)))?;
        Ok(External { endpoint: shown_url(endpoint).to_owned(), store })
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        metadata: &[(&str, &str)],
    ) -> Result<(), DestinationError> {
        let path = object_path(key)?;
        let mut attributes = Attributes::new();
        if !content_type.is_empty() {
            attributes.insert(Attribute::ContentType, AttributeValue::from(content_type.to_owned()));
        }
        for (name, value) in metadata {
            attributes.insert(
                Attribute::Metadata(name.to_ascii_lowercase().into()),
                AttributeValue::from((*value).to_owned()),
            );
        }
        self.store
            .put_opts(&path, PutPayload::from(body), PutOptions::from(attributes))
            .await
            .map(drop)
            .map_err(|e| self.error(&e))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DestinationError> {
        let path = object_path(key)?;
        let result = match self.store.get(&path).await {
            Ok(result) => result,
            Err(e) => {
                let error = self.error(&e);
                // A 404 is a missing key unless the store says the bucket is missing.
                let missing_key = matches!(e, object_store::Error::NotFound { .. })
                    && error.code().is_none_or(|code| code != "NoSuchBucket");
                return if missing_key { Ok(None) } else { Err(error) };
            }
        };
        let bytes = result.bytes().await.map_err(|e| self.error(&e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, DestinationError> {
        use futures::TryStreamExt as _;
        let prefix = prefix.trim_end_matches('/');
        let prefix = if prefix.is_empty() { None } else { Some(object_path(prefix)?) };
        let mut found: Vec<(String, u64)> = self
            .store
            .list(prefix.as_ref())
            .map_ok(|meta| (meta.location.to_string(), meta.size))
            .try_collect()
            .await
            .map_err(|e| self.error(&e))?;
        found.sort();
        Ok(found)
    }

    /// A short message for what the S3 client reported.
    fn error(&self, error: &object_store::Error) -> DestinationError {
        let endpoint = &self.endpoint;
        if let Some(http) = causes(error).find_map(|e| e.downcast_ref::<HttpError>()) {
            let refused = connection_refused(error);
            let message = match http.kind() {
                _ if refused => format!("connection refused to {endpoint}"),
                HttpErrorKind::Timeout => format!("timed out reaching {endpoint}"),
                HttpErrorKind::Connect => format!("cannot connect to {endpoint}: {}", innermost(error)),
                HttpErrorKind::Request | HttpErrorKind::Interrupted => {
                    format!("connection to {endpoint} was interrupted")
                }
                _ => format!("bad answer from {endpoint}: {}", innermost(error)),
            };
            return DestinationError::Unreachable { message };
        }
        // An S3 error answer: the client's message carries the status and the XML body.
        let text = error.to_string();
        if let Some(code) = s3_error_code(&text) {
            return DestinationError::Refused { code: code.to_owned() };
        }
        if let Some(status) = http_status(&text) {
            return DestinationError::Status { status, endpoint: endpoint.clone() };
        }
        tracing::warn!(%error, "external bucket request failed");
        DestinationError::Failed { message: innermost(error) }
    }
}

/// The key as an `object_store` path, which must spell the same key: no leading, trailing or
/// doubled `/`, no `.` or `..` segment.
fn object_path(key: &str) -> Result<Path, DestinationError> {
    match Path::parse(key) {
        Ok(path) if path.as_ref() == key && !key.is_empty() => Ok(path),
        _ => Err(DestinationError::Failed { message: format!("object key {key:?} cannot be sent to S3") }),
    }
}

/// `https://s3.example.com` → `https://<bucket>.s3.example.com`: with virtual-hosted addressing the
/// S3 client wants the bucket's own endpoint. An endpoint already naming the bucket stays as it is.
fn virtual_hosted_endpoint(endpoint: &str, bucket: &str) -> Option<String> {
    let (scheme, rest) = endpoint.split_once("://")?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() {
        return None;
    }
    if rest.strip_prefix(bucket).is_some_and(|after| after.starts_with('.')) {
        return Some(endpoint.to_owned());
    }
    Some(format!("{scheme}://{bucket}.{rest}"))
}

/// A URL as messages show it: without query string or fragment, which may carry tokens.
pub(crate) fn shown_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The `<Code>` of an S3 XML error body inside `text`.
fn s3_error_code(text: &str) -> Option<&str> {
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    let code = text[start..start + len].trim();
    (!code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        .then_some(code)
}

/// The status of the client's "non-2xx status code: 503 Service Unavailable" message.
fn http_status(text: &str) -> Option<u16> {
    let marker = "status code: ";
    let start = text.find(marker)? + marker.len();
    let status = text[start..].split(|c: char| !c.is_ascii_digit()).next()?;
    if status.len() == 3 { status.parse().ok() } else { None }
}

/// `error` and its sources, outermost first.
fn causes<'a>(error: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

/// Somewhere down the chain, the operating system refused the connection.
pub(crate) fn connection_refused(error: &(dyn StdError + 'static)) -> bool {
    causes(error)
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// The deepest cause's message, which is usually the shortest that still says what happened.
pub(crate) fn innermost(error: &(dyn StdError + 'static)) -> String {
    causes(error).last().map(|e| e.to_string()).unwrap_or_default()
}
