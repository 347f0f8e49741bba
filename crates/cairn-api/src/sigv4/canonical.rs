//! Canonical request, string to sign and signature computation for SigV4.
//!
//! Everything here is a pure function of the request and its claims; the
//! rules that differ between S3 and the other services are passed in as a
//! [`Rules`] value so that the AWS test suite can select them per case.

use cairn_model::error::{ApiError, ErrorCode, truncate_for_message};
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};

use super::{ALGORITHM, Claims, SignatureLocation, amz_date};

/// RFC 3986 unreserved characters stay as they are; everything else is escaped.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Path encoding keeps the segment separator.
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// The payload marker S3 accepts in place of a body hash.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The header that carries the client's own hash of the payload.
const CONTENT_SHA256: &str = "x-amz-content-sha256";

/// How the request path becomes the canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathStyle {
    /// Every service but S3: dot segments and repeated slashes are removed,
    /// then the path as sent on the wire is percent-encoded again.
    Normalized,
    /// S3: the path keeps its exact shape and each segment is encoded once.
    Literal,
}

/// The service-dependent parts of the signing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    pub(crate) path: PathStyle,
    /// Whether `UNSIGNED-PAYLOAD` is allowed and used for presigned URLs, as S3 does.
    pub(crate) s3_payload: bool,
}

impl Rules {
    /// The rules AWS applies for the named service.
    pub(crate) fn for_service(service: &str) -> Rules {
        if service == "s3" {
            Rules { path: PathStyle::Literal, s3_payload: true }
        } else {
            Rules { path: PathStyle::Normalized, s3_payload: false }
        }
    }
}

/// The parts of an HTTP request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// The hashed-payload line of the canonical request.
///
/// A declared `x-amz-content-sha256` is checked against the body because the
/// signature only covers the declared value, not the bytes themselves.
pub(crate) fn payload_hash(claims: &Claims, req: &Request<'_>, rules: Rules) -> Result<String, ApiError> {
    let declared = match req.headers.get(CONTENT_SHA256) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| content_sha_mismatch())?.trim()),
    };
    if let Some(declared) = declared {
        if declared.starts_with("STREAMING-") {
            return Err(ApiError::new(
                ErrorCode::IncompleteSignature,
                format!(
                    "Streaming payload signing ('{}') is not supported; send the payload in one piece \
                     with x-amz-content-sha256 set to its SHA-256 hex digest.",
                    truncate_for_message(declared)
                ),
            ));
        }
        if declared == UNSIGNED_PAYLOAD {
            if !rules.s3_payload {
                return Err(ApiError::new(
                    ErrorCode::InvalidSignature,
                    format!("x-amz-content-sha256 '{UNSIGNED_PAYLOAD}' is only accepted by the s3 service."),
                ));
            }
        } else if !declared.eq_ignore_ascii_case(&hex::encode(Sha256::digest(req.body))) {
            return Err(content_sha_mismatch());
        }
    }
    // Presigned S3 URLs never know their payload, so AWS fixes the marker
    // whatever headers the request carries.
    if claims.location == SignatureLocation::Query && rules.s3_payload {
        return Ok(UNSIGNED_PAYLOAD.to_owned());
    }
    Ok(match declared {
        Some(declared) => declared.to_owned(),
        None => hex::encode(Sha256::digest(req.body)),
    })
}

fn content_sha_mismatch() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidSignature,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
}

/// The canonical request, as bytes because header values may hold non-ASCII octets.
pub(crate) fn canonical_request(req: &Request<'_>, claims: &Claims, payload_hash: &str, rules: Rules) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.uri.path(), rules.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(req.uri.query(), claims.location).as_bytes());
    out.push(b'\n');
    for name in &claims.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        append_header_values(&mut out, req, name);
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(claims.signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// The canonical URI for a path as it appears on the wire (still percent-encoded).
pub(crate) fn canonical_uri(path: &str, style: PathStyle) -> String {
    match style {
        PathStyle::Normalized => percent_encode(normalize_path(path).as_bytes(), UNRESERVED_AND_SLASH).to_string(),
        PathStyle::Literal => {
            if path.is_empty() {
                return "/".to_owned();
            }
            // Decoding per segment keeps an encoded slash (%2F) inside a key
            // distinct from a real separator.
            let segments: Vec<String> = path
                .split('/')
                .map(|segment| {
                    let decoded: Vec<u8> = percent_decode(segment.as_bytes()).collect();
                    percent_encode(&decoded, UNRESERVED).to_string()
                })
                .collect();
            segments.join("/")
        }
    }
}

/// Removes dot segments (RFC 3986 section 5.2.4) and empty segments, which
/// AWS requires for every service but S3.
fn normalize_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&kept.join("/"));
    // A trailing separator, or a trailing dot segment that stands for one,
    // survives normalization as the RFC prescribes.
    let trailing = ["/", "/.", "/.."].iter().any(|suffix| path.ends_with(suffix));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Splits a raw query string into decoded key/value pairs, in order.
///
/// A `+` stands for a space, as in form encoding, which is how AWS reads it.
pub(crate) fn decode_query(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

fn decode_component(raw: &str) -> Vec<u8> {
    let spaced: Vec<u8> = raw.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&spaced).collect()
}

/// The canonical query string: decoded, re-encoded, sorted by key then value.
pub(crate) fn canonical_query(query: Option<&str>, location: SignatureLocation) -> String {
    let mut pairs: Vec<(String, String)> = decode_query(query.unwrap_or(""))
        .into_iter()
        .filter(|(key, _)| !(location == SignatureLocation::Query && key == b"X-Amz-Signature"))
        .map(|(key, value)| {
            (percent_encode(&key, UNRESERVED).to_string(), percent_encode(&value, UNRESERVED).to_string())
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.into_iter().map(|(key, value)| format!("{key}={value}")).collect();
    joined.join("&")
}

/// Appends the values of one signed header, trimmed and joined with commas.
fn append_header_values(out: &mut Vec<u8>, req: &Request<'_>, name: &str) {
    let mut first = true;
    for value in req.headers.get_all(name) {
        if !first {
            out.push(b',');
        }
        append_trimmed(out, value.as_bytes());
        first = false;
    }
    // HTTP/2 carries the host in the request target rather than a header.
    if first
        && name == "host"
        && let Some(authority) = req.uri.authority()
    {
        append_trimmed(out, authority.as_str().as_bytes());
    }
}

/// Trims a header value and collapses inner runs of whitespace to one space.
fn append_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let mut pending_space = false;
    let mut wrote_any = false;
    for &byte in value {
        if byte == b' ' || byte == b'\t' {
            pending_space = wrote_any;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(byte);
            wrote_any = true;
        }
    }
}

/// The string to sign for a canonical request.
pub(crate) fn string_to_sign(claims: &Claims, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        amz_date(claims.request_time),
        claims.scope(),
        hex::encode(Sha256::digest(canonical_request))
    )
}

/// The raw HMAC signature of a string to sign under the claims' scope.
pub(crate) fn signature(secret_access_key: &str, claims: &Claims, string_to_sign: &str) -> Result<[u8; 32], ApiError> {
    let mut secret = Vec::with_capacity(secret_access_key.len() + 4);
    secret.extend_from_slice(b"AWS4");
    secret.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac(&secret, claims.scope_date.as_bytes())?;
    let k_region = hmac(&k_date, claims.region.as_bytes())?;
    let k_service = hmac(&k_region, claims.service.as_bytes())?;
    let k_signing = hmac(&k_service, b"aws4_request")?;
    hmac(&k_signing, string_to_sign.as_bytes())
}

fn hmac(key: &[u8], data: &[u8]) -> Result<[u8; 32], ApiError> {
    // HMAC takes keys of any length, so this error cannot happen; it is
    // mapped rather than unwrapped all the same.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| ApiError::internal())?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}
