//! Reads what a request claims about its SigV4 signature, before any secret is known.
//!
//! Both forms are handled: the `Authorization` header and the presigned
//! `X-Amz-*` query parameters. Errors use the wording AWS services return.

use cairn_model::error::{ApiError, ErrorCode, truncate_for_message};
use http::header::{AUTHORIZATION, DATE};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::canonical::decode_query;
use super::{ALGORITHM, Claims, SignatureLocation};

/// AWS rejects larger Authorization headers; the bound also caps parsing work.
const MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;
/// Far more than any SDK signs; bounds the canonical request we build.
const MAX_SIGNED_HEADERS: usize = 128;
/// Bounds each element of the credential scope echoed in messages and signed.
const MAX_CREDENTIAL_BYTES: usize = 1024;
/// The longest validity AWS allows for a presigned URL: seven days.
pub(crate) const MAX_EXPIRES_SECONDS: u64 = 604_800;

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";

/// The presigned-URL parameters, in the order AWS lists them when missing.
const QUERY_ALGORITHM: &str = "X-Amz-Algorithm";
const QUERY_CREDENTIAL: &str = "X-Amz-Credential";
const QUERY_SIGNATURE: &str = "X-Amz-Signature";
const QUERY_DATE: &str = "X-Amz-Date";
const QUERY_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const QUERY_EXPIRES: &str = "X-Amz-Expires";
const QUERY_SECURITY_TOKEN: &str = "X-Amz-Security-Token";

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::IncompleteSignature, message)
}

/// See [`super::extract_claims`].
pub(crate) fn extract(uri: &Uri, headers: &HeaderMap) -> Result<Option<Claims>, ApiError> {
    let mut authorizations = headers.get_all(AUTHORIZATION).iter();
    let authorization = authorizations.next();
    if authorization.is_some() && authorizations.next().is_some() {
        return Err(incomplete("Only one Authorization header may be specified."));
    }
    let params = decode_query(uri.query().unwrap_or(""));
    let query_auth = params.iter().any(|(key, _)| key == QUERY_ALGORITHM.as_bytes());
    match (authorization, query_auth) {
        (None, false) => Ok(None),
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the \
             Authorization header should be specified.",
        )),
        (Some(value), false) => from_header(value, headers).map(Some),
        (None, true) => from_query(&params).map(Some),
    }
}

fn from_header(value: &HeaderValue, headers: &HeaderMap) -> Result<Claims, ApiError> {
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(incomplete(format!(
            "Authorization header exceeds the maximum size of {MAX_AUTHORIZATION_BYTES} bytes."
        )));
    }
    let text = value
        .to_str()
        .map_err(|_| incomplete("Authorization header must contain only visible ASCII characters."))?
        .trim();
    let (algorithm, rest) = text.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((text, ""));

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut malformed = None;
    // SDKs separate parameters with ", " but some clients use a bare comma or
    // only spaces; none of the values can contain either.
    for part in rest.split(|c: char| c == ',' || c.is_ascii_whitespace()).filter(|part| !part.is_empty()) {
        match part.split_once('=') {
            Some(("Credential", v)) => set_once(&mut credential, v, "Credential")?,
            Some(("SignedHeaders", v)) => set_once(&mut signed_headers, v, "SignedHeaders")?,
            Some(("Signature", v)) => set_once(&mut signature, v, "Signature")?,
            // AWS ignores parameters it does not know.
            Some(_) => {}
            None => {
                malformed.get_or_insert(part);
            }
        }
    }

    let has_date = headers.contains_key(X_AMZ_DATE) || headers.contains_key(DATE);
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if !has_date {
        missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        return Err(incomplete(format!("{} Authorization={}", missing.join(" "), truncate_for_message(text))));
    };
    if let Some(part) = malformed {
        return Err(incomplete(format!(
            "Invalid key=value pair (missing equal-sign) in Authorization header: '{}'.",
            truncate_for_message(part)
        )));
    }
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'. Only '{ALGORITHM}' is supported.",
            truncate_for_message(algorithm)
        )));
    }

    let scope = parse_credential(credential)?;
    let request_time = header_time(headers)?;
    let session_token = match headers.get(X_AMZ_SECURITY_TOKEN) {
        None => None,
        Some(token) => Some(
            token
                .to_str()
                .map_err(|_| incomplete("X-Amz-Security-Token must contain only visible ASCII characters."))?
                .to_owned(),
        ),
    };
    Ok(Claims {
        access_key_id: scope.access_key_id,
        scope_date: scope.date,
        region: scope.region,
        service: scope.service,
        request_time,
        signed_headers: parse_signed_headers(signed_headers)?,
        signature: signature.to_owned(),
        location: SignatureLocation::Header,
        session_token,
        expires_in_seconds: None,
    })
}

fn set_once<'a>(slot: &mut Option<&'a str>, value: &'a str, name: &str) -> Result<(), ApiError> {
    if slot.replace(value).is_some() {
        return Err(incomplete(format!("Authorization header contains the '{name}' parameter more than once.")));
    }
    Ok(())
}

/// The request time of a header-signed request: `X-Amz-Date`, else `Date`.
fn header_time(headers: &HeaderMap) -> Result<Timestamp, ApiError> {
    if let Some(value) = headers.get(X_AMZ_DATE) {
        let text = value.to_str().unwrap_or("");
        return parse_amz_date(text).ok_or_else(|| bad_amz_date(text));
    }
    let text = headers.get(DATE).and_then(|value| value.to_str().ok()).unwrap_or("");
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text.trim()).map_err(|_| {
        incomplete(format!(
            "Date header must be an RFC 1123 date such as 'Sun, 30 Aug 2015 12:36:00 GMT'. Got '{}'.",
            truncate_for_message(text)
        ))
    })
}

fn bad_amz_date(text: &str) -> ApiError {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
        truncate_for_message(text)
    ))
}

/// Parses `yyyymmddThhmmssZ` exactly, so that formatting the result gives back the same text.
pub(crate) fn parse_amz_date(text: &str) -> Option<Timestamp> {
    let bytes: &[u8; 16] = text.as_bytes().try_into().ok()?;
    let [y0, y1, y2, y3, mo0, mo1, d0, d1, b'T', h0, h1, mi0, mi1, s0, s1, b'Z'] = *bytes else {
        return None;
    };
    let date = Date::new(digits(&[y0, y1, y2, y3])?, digits(&[mo0, mo1])?, digits(&[d0, d1])?).ok()?;
    let time = DateTime::new(
        date.year(),
        date.month(),
        date.day(),
        digits(&[h0, h1])?,
        digits(&[mi0, mi1])?,
        digits(&[s0, s1])?,
        0,
    )
    .ok()?;
    TimeZone::UTC.to_timestamp(time).ok()
}

/// The value of a run of ASCII digits, for the small fixed-width fields of a date.
fn digits<T: TryFrom<u32>>(bytes: &[u8]) -> Option<T> {
    let mut value: u32 = 0;
    for &byte in bytes {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(byte - b'0'))?;
    }
    T::try_from(value).ok()
}

/// The five elements of `AKID/yyyymmdd/region/service/aws4_request`.
struct Scope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

fn parse_credential(credential: &str) -> Result<Scope, ApiError> {
    let malformed = || {
        incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            truncate_for_message(credential)
        ))
    };
    if credential.len() > MAX_CREDENTIAL_BYTES {
        return Err(malformed());
    }
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(malformed());
    };
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err(malformed());
    }
    if *terminator != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            truncate_for_message(terminator)
        )));
    }
    if !valid_scope_date(date) {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid date in yyyyMMdd format, not '{}'.",
            truncate_for_message(date)
        )));
    }
    Ok(Scope {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
    })
}

fn valid_scope_date(date: &str) -> bool {
    let Ok(&[y0, y1, y2, y3, m0, m1, d0, d1]) = <&[u8; 8]>::try_from(date.as_bytes()) else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (digits::<i16>(&[y0, y1, y2, y3]), digits(&[m0, m1]), digits(&[d0, d1]))
    else {
        return false;
    };
    Date::new(year, month, day).is_ok()
}

/// Lower-cased, `;`-separated header names that must include `host`.
fn parse_signed_headers(list: &str) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = list.split(';').map(str::to_ascii_lowercase).collect();
    if names.len() > MAX_SIGNED_HEADERS {
        return Err(incomplete(format!("SignedHeaders may name at most {MAX_SIGNED_HEADERS} headers.")));
    }
    if let Some(bad) = names.iter().find(|name| name.is_empty() || HeaderName::from_bytes(name.as_bytes()).is_err()) {
        return Err(incomplete(format!(
            "SignedHeaders contains an invalid header name: '{}'.",
            truncate_for_message(bad)
        )));
    }
    if !names.iter().any(|name| name == "host") {
        return Err(incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
    }
    Ok(names)
}

fn from_query(params: &[(Vec<u8>, Vec<u8>)]) -> Result<Claims, ApiError> {
    const NAMES: [&str; 7] = [
        QUERY_ALGORITHM,
        QUERY_CREDENTIAL,
        QUERY_SIGNATURE,
        QUERY_DATE,
        QUERY_SIGNED_HEADERS,
        QUERY_EXPIRES,
        QUERY_SECURITY_TOKEN,
    ];
    let mut found: [Option<String>; 7] = Default::default();
    for (key, value) in params {
        let Some(index) = NAMES.iter().position(|name| name.as_bytes() == key.as_slice()) else {
            continue;
        };
        let (Some(name), Some(slot)) = (NAMES.get(index), found.get_mut(index)) else {
            continue;
        };
        if slot.is_some() {
            return Err(incomplete(format!("The query parameter '{name}' may appear only once.")));
        }
        let text = String::from_utf8(value.clone())
            .map_err(|_| incomplete(format!("The query parameter '{name}' must be valid UTF-8.")))?;
        *slot = Some(text);
    }
    let [algorithm, credential, signature, date, signed_headers, expires, session_token] = found;

    let missing: Vec<String> = [
        (QUERY_CREDENTIAL, credential.is_none()),
        (QUERY_SIGNATURE, signature.is_none()),
        (QUERY_DATE, date.is_none()),
        (QUERY_SIGNED_HEADERS, signed_headers.is_none()),
        (QUERY_EXPIRES, expires.is_none()),
    ]
    .iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| format!("AWS query-string parameters must include '{name}'."))
    .collect();
    let (Some(algorithm), Some(credential), Some(signature), Some(date), Some(signed_headers), Some(expires)) =
        (algorithm, credential, signature, date, signed_headers, expires)
    else {
        return Err(incomplete(format!("{} Re-examine the query-string parameters.", missing.join(" "))));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(format!("X-Amz-Algorithm only supports \"{ALGORITHM}\"")));
    }
    let scope = parse_credential(&credential)?;
    let request_time = parse_amz_date(&date).ok_or_else(|| bad_amz_date(&date))?;
    let expires_in_seconds = parse_expires(&expires)?;
    Ok(Claims {
        access_key_id: scope.access_key_id,
        scope_date: scope.date,
        region: scope.region,
        service: scope.service,
        request_time,
        signed_headers: parse_signed_headers(&signed_headers)?,
        signature,
        location: SignatureLocation::Query,
        session_token,
        expires_in_seconds: Some(expires_in_seconds),
    })
}

fn parse_expires(text: &str) -> Result<u64, ApiError> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete("X-Amz-Expires should be a number"));
    }
    let seconds: u64 = text.parse().map_err(|_| incomplete("X-Amz-Expires should be a number"))?;
    if seconds > MAX_EXPIRES_SECONDS {
        return Err(incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_SECONDS}"
        )));
    }
    Ok(seconds)
}
