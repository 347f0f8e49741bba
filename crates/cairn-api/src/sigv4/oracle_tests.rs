//! Verifies requests signed by the `aws-sigv4` crate, the Rust SDK's signer, as an independent oracle.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation as OracleLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use cairn_model::error::{ApiError, ErrorCode};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{SIGNATURE_MISMATCH, SignatureLocation, extract_claims, verify};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z.
const SIGNED_AT: i64 = 1_440_938_160;
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One request for the oracle to sign.
struct Case<'a> {
    service: &'a str,
    method: &'a str,
    host: &'a str,
    /// Path and query as sent on the wire.
    target: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
    unsigned_payload: bool,
    session_token: Option<&'a str>,
    settings: SigningSettings,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            service: "cloudtrail",
            method: "POST",
            host: "cloudtrail.us-east-1.amazonaws.com",
            target: "/",
            headers: &[],
            body: b"",
            unsigned_payload: false,
            session_token: None,
            settings: SigningSettings::default(),
        }
    }
}

/// A request as the server receives it: an origin-form URI and all headers.
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn verify_after(&self, seconds: i64) -> Result<(), ApiError> {
        let claims = extract_claims(&self.method, &self.uri, &self.headers)?.expect("the oracle signed it");
        let now = Timestamp::from_second(SIGNED_AT + seconds).unwrap();
        verify(&claims, SECRET, &self.method, &self.uri, &self.headers, &self.body, now)
    }
}

fn sign_with_oracle(case: Case<'_>) -> Received {
    let identity = Credentials::new(AKID, SECRET, case.session_token.map(str::to_owned), None, "oracle").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(case.service)
        .time(UNIX_EPOCH + Duration::from_secs(SIGNED_AT as u64))
        .settings(case.settings)
        .build()
        .unwrap()
        .into();
    let mut sent: Vec<(&str, &str)> = vec![("host", case.host)];
    sent.extend_from_slice(case.headers);
    let body = if case.unsigned_payload { SignableBody::UnsignedPayload } else { SignableBody::Bytes(case.body) };
    let url = format!("https://{}{}", case.host, case.target);
    let signable = SignableRequest::new(case.method, Cow::Owned(url), sent.iter().copied(), body).unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();

    let mut headers = HeaderMap::new();
    let added = instructions.headers().map(|(name, value)| (name.to_owned(), value.to_owned()));
    for (name, value) in sent.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).chain(added) {
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(&value).unwrap());
    }
    let mut target = case.target.to_owned();
    for (name, value) in instructions.params() {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(&format!("{name}={}", utf8_percent_encode(value, QUERY_VALUE)));
    }
    Received { method: case.method.parse().unwrap(), uri: target.parse().unwrap(), headers, body: case.body.to_vec() }
}

fn assert_mismatch(result: Result<(), ApiError>) {
    let err = result.unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::InvalidSignature, SIGNATURE_MISMATCH));
}

#[test]
fn cloudtrail_json_post() {
    let body = br#"{"trailNameList":[],"includeShadowTrails":false}"#;
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails"),
        ("content-length", "49"),
    ];
    let received = sign_with_oracle(Case { headers: &headers, body, ..Case::default() });
    let claims = extract_claims(&received.method, &received.uri, &received.headers).unwrap().unwrap();
    assert_eq!(claims.location, SignatureLocation::Header);
    assert_eq!(claims.service, "cloudtrail");
    assert!(claims.signed_headers.iter().any(|name| name == "x-amz-target"), "{:?}", claims.signed_headers);
    received.verify_after(0).unwrap();
    received.verify_after(14 * 60).unwrap();
    assert_eq!(received.verify_after(16 * 60).unwrap_err().code, ErrorCode::InvalidSignature);

    let tampered = Received { body: br#"{"trailNameList":["x"],"includeShadowTrails":false}"#.to_vec(), ..received };
    assert_mismatch(tampered.verify_after(0));
}

#[test]
fn cloudtrail_json_post_with_session_token() {
    let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "CloudTrail_20131101.ListTrails")];
    let token = "FwoGZXIvYXdzEBYaDH/token+with/slashes==";
    let received =
        sign_with_oracle(Case { headers: &headers, body: b"{}", session_token: Some(token), ..Case::default() });
    let claims = extract_claims(&received.method, &received.uri, &received.headers).unwrap().unwrap();
    assert_eq!(claims.session_token.as_deref(), Some(token));
    received.verify_after(0).unwrap();
}

#[test]
fn get_with_query_and_unnormalized_path() {
    // The oracle normalizes and double-encodes the path like AWS does for
    // every service but S3; the server receives the path as sent.
    let received = sign_with_oracle(Case {
        method: "GET",
        target: "/some%20path/./a//b/../c?b=2&a=1&c=%20x%2By&empty=&a=0&arn=arn%3Aaws%3Acloudtrail%3A%2F",
        ..Case::default()
    });
    received.verify_after(0).unwrap();
    let claims = extract_claims(&received.method, &received.uri, &received.headers).unwrap().unwrap();
    let now = Timestamp::from_second(SIGNED_AT).unwrap();
    assert_mismatch(verify(
        &claims,
        "not-the-secret",
        &received.method,
        &received.uri,
        &received.headers,
        &received.body,
        now,
    ));
}

#[test]
fn cloudtrail_data_put_audit_events() {
    let body = br#"{"auditEvents":[{"id":"1","eventData":"{}"}]}"#;
    let received = sign_with_oracle(Case {
        service: "cloudtrail-data",
        host: "cloudtrail-data.us-east-1.amazonaws.com",
        target: "/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2Fabc\
                 &externalId=ext%20id",
        headers: &[("content-type", "application/json")],
        body,
        ..Case::default()
    });
    received.verify_after(0).unwrap();
}

fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

#[test]
fn s3_presigned_get() {
    let mut settings = s3_settings();
    settings.signature_location = OracleLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(900));
    let received = sign_with_oracle(Case {
        service: "s3",
        method: "GET",
        host: "bucket.s3.us-east-1.amazonaws.com",
        target: "/photos//my%20cat%2Fdog.jpg?versionId=3%2B1",
        unsigned_payload: true,
        session_token: Some("session/token=="),
        settings,
        ..Case::default()
    });
    let claims = extract_claims(&received.method, &received.uri, &received.headers).unwrap().unwrap();
    assert_eq!(claims.location, SignatureLocation::Query);
    assert_eq!(claims.expires_in_seconds, Some(900));
    assert_eq!(claims.session_token.as_deref(), Some("session/token=="));
    received.verify_after(0).unwrap();
    received.verify_after(900).unwrap();
    let err = received.verify_after(901).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidSignature);
    assert!(err.message.starts_with("Signature expired: 20150830T123600Z"), "{err}");
}

#[test]
fn s3_header_signed_put() {
    let mut settings = s3_settings();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let case = |settings, unsigned_payload| Case {
        service: "s3",
        method: "PUT",
        host: "bucket.s3.us-east-1.amazonaws.com",
        target: "/dir/key%20with%20spaces.txt",
        body: b"hello world",
        unsigned_payload,
        settings,
        ..Case::default()
    };
    let hashed = sign_with_oracle(case(settings.clone(), false));
    assert_eq!(
        hashed.headers.get("x-amz-content-sha256").unwrap(),
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    hashed.verify_after(0).unwrap();

    let unsigned = sign_with_oracle(case(settings, true));
    assert_eq!(unsigned.headers.get("x-amz-content-sha256").unwrap(), "UNSIGNED-PAYLOAD");
    unsigned.verify_after(0).unwrap();
}
