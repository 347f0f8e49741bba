//! Tests of `destination`: embedded buckets, the request an external bucket receives, and the
//! messages failures become.

use std::sync::Arc;

use cairn_store::objects::ObjectIndex;

use super::fake_http::{Answer, FakeHttp, refusing_url};
use super::*;

const KEY: &str = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/01/02/111111111111_CloudTrail_us-east-1_20260102T0304Z_abcdEFGH12345678.json.gz";

fn external(name: &str, endpoint: &str) -> ExternalBucket {
    ExternalBucket {
        name: name.to_owned(),
        endpoint: endpoint.to_owned(),
        region: "us-east-1".to_owned(),
        access_key_id: None,
        secret_access_key: None,
        path_style: true,
    }
}

fn s3_error(status: u16, code: &str) -> Answer {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>refused</Message></Error>"
    );
    (status, vec![("content-type", "application/xml".to_owned())], body)
}

fn ok_put() -> Answer {
    (200, vec![("etag", "\"0123456789abcdef0123456789abcdef\"".to_owned())], String::new())
}

#[tokio::test]
async fn embedded_put_then_get() {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(ObjectIndex::open(dir.path()).unwrap());
    let destinations = Destinations::new(Some(Arc::clone(&index)), &[]).unwrap();
    assert!(!destinations.is_external("logs"));

    let metadata = [("Signature", "abc123"), ("signature-algorithm", "SHA256withRSA")];
    destinations.put("logs", KEY, b"gzip bytes".to_vec(), "application/x-gzip", &metadata).await.unwrap();

    assert_eq!(destinations.get("logs", KEY).await.unwrap().as_deref(), Some(&b"gzip bytes"[..]));
    assert_eq!(destinations.get("logs", "AWSLogs/other.json.gz").await.unwrap(), None);
    let (info, _) = index.get("logs", KEY).unwrap().unwrap();
    assert_eq!(info.content_type.as_deref(), Some("application/x-gzip"));
    assert_eq!(
        info.user_metadata,
        vec![
            ("signature".to_owned(), "abc123".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_bucket_that_is_nowhere_is_no_such_bucket() {
    let no_embedded = Destinations::new(None, &[]).unwrap();
    let error = no_embedded.put("logs", KEY, vec![1], "application/x-gzip", &[]).await.unwrap_err();
    assert_eq!(error.to_string(), "NoSuchBucket");
    assert_eq!(error.code(), Some("NoSuchBucket"));

    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(ObjectIndex::open(dir.path()).unwrap());
    let destinations = Destinations::new(Some(index), &[]).unwrap().with_embedded_buckets(|name| name == "logs");
    destinations.put("logs", KEY, vec![1], "application/x-gzip", &[]).await.unwrap();
    let error = destinations.put("deleted", KEY, vec![1], "application/x-gzip", &[]).await.unwrap_err();
    assert_eq!(error.to_string(), "NoSuchBucket");
    assert_eq!(destinations.get("deleted", KEY).await.unwrap_err().to_string(), "NoSuchBucket");
}

#[tokio::test]
async fn external_put_sends_path_style_signed_request_with_lower_case_metadata() {
    let s3 = FakeHttp::start(|_| ok_put()).await;
    let destinations = Destinations::new(None, &[external("archive", &s3.url)]).unwrap();
    assert!(destinations.is_external("archive"));

    let metadata = [("Signature", "abc123"), ("signature-algorithm", "SHA256withRSA")];
    destinations.put("archive", KEY, b"gzip bytes".to_vec(), "application/x-gzip", &metadata).await.unwrap();

    let requests = s3.requests();
    assert_eq!(requests.len(), 1);
    let put = &requests[0];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.uri.path(), format!("/archive/{KEY}"));
    assert_eq!(put.body, b"gzip bytes");
    assert_eq!(put.header("content-type"), Some("application/x-gzip"));
    assert_eq!(put.header("x-amz-meta-signature"), Some("abc123"));
    assert_eq!(put.header("x-amz-meta-signature-algorithm"), Some("SHA256withRSA"));
    // No credentials configured: signed all the same, with placeholder keys, for this region.
    let authorization = put.header("authorization").unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=cairn/") && authorization.contains("/us-east-1/s3/"),
        "{authorization}"
    );
    assert!(authorization.contains("x-amz-meta-signature"), "metadata is signed: {authorization}");
}

#[tokio::test]
async fn external_put_uses_configured_credentials() {
    let s3 = FakeHttp::start(|_| ok_put()).await;
    let bucket = ExternalBucket {
        access_key_id: Some("AKIAEXTERNAL0000001".to_owned()),
        secret_access_key: Some("external-secret".to_owned()),
        ..external("archive", &s3.url)
    };
    assert!(!format!("{bucket:?}").contains("external-secret"));
    let destinations = Destinations::new(None, &[bucket]).unwrap();
    destinations.put("archive", KEY, vec![1], "application/json", &[]).await.unwrap();
    let authorization = s3.requests()[0].header("authorization").unwrap().to_owned();
    assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIAEXTERNAL0000001/"), "{authorization}");
}

#[tokio::test]
async fn external_refusals_become_their_s3_error_code() {
    for (status, code) in [(404, "NoSuchBucket"), (403, "AccessDenied"), (400, "InvalidBucketName")] {
        let s3 = FakeHttp::start(move |_| s3_error(status, code)).await;
        let destinations = Destinations::new(None, &[external("archive", &s3.url)]).unwrap();
        let error = destinations.put("archive", KEY, vec![1], "application/x-gzip", &[]).await.unwrap_err();
        assert_eq!(error.to_string(), code);
        assert_eq!(error, DestinationError::Refused { code: code.to_owned() });
    }
}

#[tokio::test]
async fn external_server_error_without_code_names_the_status_after_retries() {
    let s3 = FakeHttp::start(|_| (503, vec![], String::new())).await;
    let destinations = Destinations::new(None, &[external("archive", &s3.url)]).unwrap();
    let error = destinations.put("archive", KEY, vec![1], "application/x-gzip", &[]).await.unwrap_err();
    assert_eq!(error.to_string(), format!("HTTP 503 from {}", s3.url));
    assert_eq!(error, DestinationError::Status { status: 503, endpoint: s3.url.clone() });
    assert_eq!(s3.requests().len(), 1 + MAX_RETRIES);
}

#[tokio::test]
async fn external_get_tells_missing_key_from_missing_bucket() {
    let s3 = FakeHttp::start(|request| match request.uri.path() {
        "/archive/present.json.gz" => (
            200,
            vec![
                ("etag", "\"0123456789abcdef0123456789abcdef\"".to_owned()),
                ("last-modified", "Fri, 02 Jan 2026 03:04:05 GMT".to_owned()),
            ],
            "content".to_owned(),
        ),
        "/archive/missing.json.gz" => s3_error(404, "NoSuchKey"),
        _ => s3_error(404, "NoSuchBucket"),
    })
    .await;
    let destinations = Destinations::new(None, &[external("archive", &s3.url), external("gone", &s3.url)]).unwrap();
    assert_eq!(destinations.get("archive", "present.json.gz").await.unwrap().as_deref(), Some(&b"content"[..]));
    assert_eq!(destinations.get("archive", "missing.json.gz").await.unwrap(), None);
    assert_eq!(destinations.get("gone", "present.json.gz").await.unwrap_err().to_string(), "NoSuchBucket");
}

#[tokio::test]
async fn external_endpoint_where_nothing_listens_is_connection_refused() {
    let url = refusing_url().await;
    let destinations = Destinations::new(None, &[external("archive", &format!("{url}/"))]).unwrap();
    let error = destinations.put("archive", KEY, vec![1], "application/x-gzip", &[]).await.unwrap_err();
    assert_eq!(error.to_string(), format!("connection refused to {url}"));
    assert!(matches!(error, DestinationError::Unreachable { .. }));
    let error = destinations.get("archive", KEY).await.unwrap_err();
    assert_eq!(error.to_string(), format!("connection refused to {url}"));
}

#[tokio::test]
async fn keys_the_s3_client_would_change_are_refused_before_sending() {
    let s3 = FakeHttp::start(|_| ok_put()).await;
    let destinations = Destinations::new(None, &[external("archive", &s3.url)]).unwrap();
    for key in ["", "/leading", "trailing/", "a//b", "a/../b"] {
        let error = destinations.put("archive", key, vec![1], "application/x-gzip", &[]).await.unwrap_err();
        assert!(matches!(error, DestinationError::Failed { .. }), "{key:?}: {error:?}");
    }
    assert!(s3.requests().is_empty());
}

#[test]
fn destinations_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let destinations = Destinations::new(None, &[external("archive", "http://127.0.0.1:9")]).unwrap();
    send_sync(&destinations);
    send(&destinations.put("archive", KEY, Vec::new(), "application/x-gzip", &[("signature", "x")]));
    send(&destinations.get("archive", KEY));
}

#[test]
fn invalid_external_endpoint_is_a_configuration_error() {
    let bucket = ExternalBucket { path_style: false, ..external("archive", "s3.example.com") };
    let error = Destinations::new(None, &[bucket]).unwrap_err();
    assert!(matches!(error, DestinationError::InvalidConfig { ref bucket, .. } if bucket == "archive"), "{error:?}");
}

#[test]
fn virtual_hosted_endpoints_name_the_bucket_in_the_host() {
    let cases = [
        ("https://s3.example.com", Some("https://archive.s3.example.com")),
        ("http://127.0.0.1:9000", Some("http://archive.127.0.0.1:9000")),
        ("https://archive.s3.example.com", Some("https://archive.s3.example.com")),
        ("https://archived.example.com", Some("https://archive.archived.example.com")),
        ("ftp://s3.example.com", None),
        ("s3.example.com", None),
        ("https://", None),
    ];
    for (endpoint, expected) in cases {
        assert_eq!(virtual_hosted_endpoint(endpoint, "archive").as_deref(), expected, "{endpoint}");
    }
}

#[test]
fn error_text_parsing() {
    let text = "Object at location k not found: Error performing PUT http://h/b/k in 2ms - Server returned \
                non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code></Error>";
    assert_eq!(s3_error_code(text), Some("NoSuchBucket"));
    assert_eq!(http_status(text), Some(404));
    assert_eq!(s3_error_code("<Code>not a code</Code>"), None);
    assert_eq!(s3_error_code("no xml"), None);
    assert_eq!(http_status("status code: 5"), None);
    assert_eq!(shown_url("https://h/p?token=secret#x"), "https://h/p");
}
