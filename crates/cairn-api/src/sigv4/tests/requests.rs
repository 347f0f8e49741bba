//! The time window, unsigned and malformed requests, and the payload-hash rules.

use cairn_model::error::{ApiError, ErrorCode};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::super::canonical::{self, Request, Rules};
use super::super::parse::parse_amz_date;
use super::super::{Claims, SignatureLocation, amz_date, extract_claims, verify};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "example.amazonaws.com";

fn at(text: &str) -> Timestamp {
    parse_amz_date(text).unwrap()
}

/// A request ready to be verified.
struct Signed {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Signed {
    fn claims(&self) -> Result<Option<Claims>, ApiError> {
        extract_claims(&self.method, &self.uri, &self.headers)
    }

    fn verify_at(&self, now: &str) -> Result<(), ApiError> {
        let claims = self.claims()?.expect("the request is signed");
        verify(&claims, SECRET, &self.method, &self.uri, &self.headers, &self.body, at(now))
    }
}

/// How a test request should be signed.
struct Spec<'a> {
    method: &'a str,
    target: &'a str,
    service: &'a str,
    time: &'a str,
    location: SignatureLocation,
    /// Use the `Date` header instead of `X-Amz-Date` (header form only).
    date_header: bool,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            method: "POST",
            target: "/",
            service: "cloudtrail",
            time: "20150830T123600Z",
            location: SignatureLocation::Header,
            date_header: false,
            headers: &[],
            body: b"{}",
        }
    }
}

/// Signs with this module's own canonicalization: these tests are about
/// everything but canonicalization, which the AWS suite and the oracle cover.
fn sign(spec: &Spec<'_>) -> Signed {
    let method: Method = spec.method.parse().unwrap();
    let request_time = at(spec.time);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(HOST));
    if spec.location == SignatureLocation::Header {
        if spec.date_header {
            let date = request_time.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
            headers.insert("date", HeaderValue::from_str(&date).unwrap());
        } else {
            headers.insert("x-amz-date", HeaderValue::from_str(spec.time).unwrap());
        }
    }
    for (name, value) in spec.headers {
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    let mut signed_headers: Vec<String> = headers.keys().map(|name| name.as_str().to_owned()).collect();
    signed_headers.sort();
    let scope_date = spec.time[..8].to_owned();
    let credential = format!("{AKID}/{scope_date}/us-east-1/{}/aws4_request", spec.service);
    let mut target = spec.target.to_owned();
    if spec.location == SignatureLocation::Query {
        let separator = if target.contains('?') { '&' } else { '?' };
        target.push_str(&format!(
            "{separator}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires=3600\
             &X-Amz-SignedHeaders={}",
            credential.replace('/', "%2F"),
            spec.time,
            signed_headers.join("%3B")
        ));
    }
    let mut claims = Claims {
        access_key_id: AKID.to_owned(),
        scope_date,
        region: "us-east-1".to_owned(),
        service: spec.service.to_owned(),
        request_time,
        signed_headers,
        signature: String::new(),
        location: spec.location,
        session_token: None,
        expires_in_seconds: (spec.location == SignatureLocation::Query).then_some(3600),
    };
    let uri: Uri = target.parse().unwrap();
    let rules = Rules::for_service(spec.service);
    // The declared hash is signed as is, so that tests can send a wrong one.
    let payload = match headers.get("x-amz-content-sha256") {
        Some(value) => value.to_str().unwrap().to_owned(),
        None if spec.location == SignatureLocation::Query && rules.s3_payload => "UNSIGNED-PAYLOAD".to_owned(),
        None => hex::encode(Sha256::digest(spec.body)),
    };
    let req = Request { method: &method, uri: &uri, headers: &headers, body: spec.body };
    let canonical_request = canonical::canonical_request(&req, &claims, &payload, rules);
    let string_to_sign = canonical::string_to_sign(&claims, &canonical_request);
    claims.signature = hex::encode(canonical::signature(SECRET, &claims, &string_to_sign).unwrap());
    let uri = match spec.location {
        SignatureLocation::Header => {
            let authorization = format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={}, Signature={}",
                claims.signed_headers.join(";"),
                claims.signature
            );
            headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
            uri
        }
        SignatureLocation::Query => format!("{target}&X-Amz-Signature={}", claims.signature).parse().unwrap(),
    };
    Signed { method, uri, headers, body: spec.body.to_vec() }
}

fn assert_error(result: Result<impl std::fmt::Debug, ApiError>, code: ErrorCode, message: &str) {
    let err = result.expect_err(message);
    assert_eq!((err.code, err.message.as_str()), (code, message));
}

#[test]
fn header_time_window_is_fifteen_minutes() {
    let signed = sign(&Spec::default());
    signed.verify_at("20150830T123600Z").unwrap();
    signed.verify_at("20150830T125000Z").unwrap();
    signed.verify_at("20150830T122200Z").unwrap();
    signed.verify_at("20150830T125100Z").unwrap();
    signed.verify_at("20150830T122100Z").unwrap();
    assert_error(
        signed.verify_at("20150830T125200Z"),
        ErrorCode::InvalidSignature,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)",
    );
    assert_error(
        signed.verify_at("20150830T125600Z"),
        ErrorCode::InvalidSignature,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T125600Z - 15 min.)",
    );
    assert_error(
        signed.verify_at("20150830T122000Z"),
        ErrorCode::InvalidSignature,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)",
    );

    let future = sign(&Spec { time: "20150830T130000Z", ..Spec::default() });
    future.verify_at("20150830T124600Z").unwrap();
    assert_error(
        future.verify_at("20150830T123600Z"),
        ErrorCode::InvalidSignature,
        "Signature not yet current: 20150830T130000Z is still later than 20150830T125100Z (20150830T123600Z + 15 min.)",
    );
}

#[test]
fn presigned_urls_expire_after_x_amz_expires() {
    let signed = sign(&Spec {
        method: "GET",
        target: "/bucket/key",
        service: "s3",
        location: SignatureLocation::Query,
        body: b"",
        ..Spec::default()
    });
    let claims = signed.claims().unwrap().unwrap();
    assert_eq!((claims.location, claims.expires_in_seconds), (SignatureLocation::Query, Some(3600)));
    signed.verify_at("20150830T123600Z").unwrap();
    signed.verify_at("20150830T133600Z").unwrap();
    signed.verify_at("20150830T122100Z").unwrap();
    assert_error(
        signed.verify_at("20150830T133601Z"),
        ErrorCode::InvalidSignature,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T133601Z - 3600 sec.)",
    );
    assert_error(
        signed.verify_at("20150830T122000Z"),
        ErrorCode::InvalidSignature,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)",
    );
}

#[test]
fn date_header_stands_in_for_x_amz_date() {
    let signed = sign(&Spec { date_header: true, ..Spec::default() });
    assert!(!signed.headers.contains_key("x-amz-date"));
    signed.verify_at("20150830T124000Z").unwrap();
}

#[test]
fn scope_date_must_match_request_date() {
    let signed = sign(&Spec::default());
    let mut claims = signed.claims().unwrap().unwrap();
    claims.scope_date = "20150831".to_owned();
    assert_error(
        verify(&claims, SECRET, &signed.method, &signed.uri, &signed.headers, &signed.body, at("20150830T123600Z")),
        ErrorCode::InvalidSignature,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20150831' != '20150830', from '20150830T123600Z'.",
    );
}

#[test]
fn unsigned_requests_have_no_claims() {
    let headers = HeaderMap::new();
    for target in ["/", "/?X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z", "/path?a=b"] {
        let uri: Uri = target.parse().unwrap();
        assert_eq!(extract_claims(&Method::GET, &uri, &headers).unwrap(), None, "{target}");
    }
}

/// The claims a lone Authorization header yields, with `X-Amz-Date` present.
fn claims_for_authorization(authorization: &str) -> Result<Option<Claims>, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(HOST));
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    headers.insert("authorization", HeaderValue::from_str(authorization).unwrap());
    extract_claims(&Method::POST, &Uri::from_static("/"), &headers)
}

#[test]
fn partial_authorization_headers_are_incomplete() {
    let incomplete = ErrorCode::IncompleteSignature;
    assert_error(
        claims_for_authorization("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date"),
        incomplete,
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' \
         parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date",
    );
    assert_error(
        claims_for_authorization("Bearer abc"),
        incomplete,
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' \
         parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc",
    );
    let good_scope = "Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail/aws4_request";
    let rest = "SignedHeaders=host;x-amz-date, Signature=abcd";
    let cases = [
        (
            format!("AWS4-HMAC-SHA512 {good_scope}, {rest}"),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Only 'AWS4-HMAC-SHA256' is supported.",
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail/aws5_request, {rest}"),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/cloudtrail/aws4_request, {rest}"),
            "Credential should be scoped to a valid date in yyyyMMdd format, not '2015083'.",
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150231/us-east-1/cloudtrail/aws4_request, {rest}"),
            "Credential should be scoped to a valid date in yyyyMMdd format, not '20150231'.",
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, {rest}"),
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, \
             got 'AKIDEXAMPLE/20150830/us-east-1/aws4_request'",
        ),
        (
            format!("AWS4-HMAC-SHA256 {good_scope}, SignedHeaders=x-amz-date, Signature=abcd"),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            format!("AWS4-HMAC-SHA256 {good_scope}, SignedHeaders=host;;x-amz-date, Signature=abcd"),
            "SignedHeaders contains an invalid header name: ''.",
        ),
        (
            format!("AWS4-HMAC-SHA256 {good_scope}, {good_scope}, {rest}"),
            "Authorization header contains the 'Credential' parameter more than once.",
        ),
        (
            format!("AWS4-HMAC-SHA256 {good_scope}, {rest}, junk"),
            "Invalid key=value pair (missing equal-sign) in Authorization header: 'junk'.",
        ),
    ];
    for (authorization, message) in cases {
        assert_error(claims_for_authorization(&authorization), incomplete, message);
    }

    let oversized = format!("AWS4-HMAC-SHA256 {good_scope}, {rest}{}", "0".repeat(8 * 1024));
    assert_error(
        claims_for_authorization(&oversized),
        incomplete,
        "Authorization header exceeds the maximum size of 8192 bytes.",
    );
}

#[test]
fn authorization_needs_a_date_header() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(HOST));
    let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail/aws4_request, \
                         SignedHeaders=host, Signature=abcd";
    headers.insert("authorization", HeaderValue::from_static(authorization));
    let uri = Uri::from_static("/");
    assert_error(
        extract_claims(&Method::POST, &uri, &headers),
        ErrorCode::IncompleteSignature,
        &format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization={authorization}"
        ),
    );
    headers.insert("x-amz-date", HeaderValue::from_static("2015-08-30T12:36:00Z"));
    assert_error(
        extract_claims(&Method::POST, &uri, &headers),
        ErrorCode::IncompleteSignature,
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123660Z"));
    assert!(extract_claims(&Method::POST, &uri, &headers).is_err());
}

#[test]
fn malformed_presigned_queries_are_incomplete() {
    let incomplete = ErrorCode::IncompleteSignature;
    let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
                &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request\
                &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd";
    let claims = |query: &str| {
        let uri: Uri = format!("/bucket/key?{query}").parse().unwrap();
        extract_claims(&Method::GET, &uri, &HeaderMap::new())
    };
    assert_error(
        claims("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z"),
        incomplete,
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include \
         'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string \
         parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters.",
    );
    assert_error(
        claims(&format!("{base}&X-Amz-Expires=604801")),
        incomplete,
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    );
    assert_error(claims(&format!("{base}&X-Amz-Expires=-1")), incomplete, "X-Amz-Expires should be a number");
    assert_error(
        claims(&format!("{base}&X-Amz-Expires=60&X-Amz-Expires=60")),
        incomplete,
        "The query parameter 'X-Amz-Expires' may appear only once.",
    );
    assert_error(
        claims(&format!("{}&X-Amz-Expires=60", base.replace("HMAC-SHA256", "HMAC-SHA1"))),
        incomplete,
        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
    );
    let ok = claims(&format!("{base}&X-Amz-Expires=604800&X-Amz-Security-Token=tok%2Ben")).unwrap().unwrap();
    assert_eq!((ok.expires_in_seconds, ok.session_token.as_deref()), (Some(604_800), Some("tok+en")));

    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"));
    let uri: Uri = format!("/bucket/key?{base}&X-Amz-Expires=60").parse().unwrap();
    assert_error(
        extract_claims(&Method::GET, &uri, &headers),
        incomplete,
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header \
         should be specified.",
    );
}

#[test]
fn declared_payload_hash_must_match_the_body() {
    let body_hash = hex::encode(Sha256::digest(b"{}"));
    let good = sign(&Spec { headers: &[("x-amz-content-sha256", body_hash.as_str())], ..Spec::default() });
    good.verify_at("20150830T123600Z").unwrap();

    let wrong = hex::encode(Sha256::digest(b"other"));
    let bad = sign(&Spec { headers: &[("x-amz-content-sha256", wrong.as_str())], ..Spec::default() });
    assert_error(
        bad.verify_at("20150830T123600Z"),
        ErrorCode::InvalidSignature,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );

    let unsigned = [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    let s3 =
        sign(&Spec { method: "PUT", target: "/bucket/my%20key", service: "s3", headers: &unsigned, ..Spec::default() });
    s3.verify_at("20150830T123600Z").unwrap();
    let cloudtrail = sign(&Spec { headers: &unsigned, ..Spec::default() });
    assert_error(
        cloudtrail.verify_at("20150830T123600Z"),
        ErrorCode::InvalidSignature,
        "x-amz-content-sha256 'UNSIGNED-PAYLOAD' is only accepted by the s3 service.",
    );

    let streaming = [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")];
    let s3_streaming = sign(&Spec { method: "PUT", service: "s3", headers: &streaming, ..Spec::default() });
    let err = s3_streaming.verify_at("20150830T123600Z").unwrap_err();
    assert_eq!(err.code, ErrorCode::IncompleteSignature, "{err}");
    assert!(err.message.contains("Streaming payload signing"), "{err}");
}

#[test]
fn body_is_covered_by_the_signature() {
    let signed = sign(&Spec::default());
    let tampered = Signed { body: b"{\"a\":1}".to_vec(), ..signed };
    let err = tampered.verify_at("20150830T123600Z").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidSignature);
}

#[test]
fn malformed_signatures_fail_as_mismatch() {
    let signed = sign(&Spec::default());
    let mut claims = signed.claims().unwrap().unwrap();
    for signature in ["", "zz", "abcd", &"g".repeat(64), &format!("{}00", claims.signature)] {
        claims.signature = signature.to_owned();
        let err =
            verify(&claims, SECRET, &signed.method, &signed.uri, &signed.headers, &signed.body, at("20150830T123600Z"))
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidSignature, "{signature}");
    }
}

#[test]
fn debug_output_hides_the_session_token() {
    let signed = sign(&Spec { headers: &[("x-amz-security-token", "SECRET-TOKEN")], ..Spec::default() });
    let claims = signed.claims().unwrap().unwrap();
    assert_eq!(claims.session_token.as_deref(), Some("SECRET-TOKEN"));
    signed.verify_at("20150830T123600Z").unwrap();
    assert!(!format!("{claims:?}").contains("SECRET-TOKEN"));
}

#[test]
fn amz_date_round_trips() {
    for text in ["20150830T123600Z", "19700101T000000Z", "20991231T235959Z"] {
        assert_eq!(amz_date(at(text)), text);
    }
    for text in ["20150830T123600", "20151330T123600Z", "2015083OT123600Z", "20150830T240000Z", ""] {
        assert_eq!(parse_amz_date(text), None, "{text}");
    }
}
