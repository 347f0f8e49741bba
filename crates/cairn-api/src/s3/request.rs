//! Reading an S3 request: which bucket and key it addresses (path style `/bucket/key`, or virtual-host
//! style `bucket.localhost/key`), its query parameters, `Range` headers and HTTP dates; and the
//! encodings S3 answers with (`encoding-type=url`, HTTP dates).

use http::StatusCode;
use jiff::Timestamp;
use jiff::fmt::rfc2822;
use percent_encoding::percent_decode_str;

use super::error::S3Error;

/// The longest key S3 accepts, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// What a request addresses: the service (no bucket), a bucket, or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    /// Empty for service-level calls (ListBuckets).
    pub(crate) bucket: String,
    /// `None` for bucket-level calls; keys are percent-decoded and may hold any character.
    pub(crate) key: Option<String>,
}

/// Reads the bucket and key from the `Host` header and the raw (still percent-encoded) path.
/// A host `<bucket>.localhost[:port]` names the bucket, and the whole path is then the key;
/// otherwise the first path segment is the bucket and the rest the key.
pub(crate) fn address(host: Option<&str>, raw_path: &str) -> Result<Address, S3Error> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    if let Some(bucket) = host.and_then(virtual_host_bucket) {
        let key = (!path.is_empty()).then(|| decode_path(path)).transpose()?;
        return Ok(Address { bucket, key });
    }
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) => (bucket, (!key.is_empty()).then_some(key)),
        None => (path, None),
    };
    Ok(Address { bucket: decode_path(bucket)?, key: key.map(decode_path).transpose()? })
}

/// `bucket` from `bucket.localhost` or `bucket.localhost:port` (any case).
fn virtual_host_bucket(host: &str) -> Option<String> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    let bucket = name.strip_suffix(".localhost")?;
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

fn decode_path(segment: &str) -> Result<String, S3Error> {
    percent_decode_str(segment).decode_utf8().map(|text| text.into_owned()).map_err(|_| invalid_uri())
}

fn invalid_uri() -> S3Error {
    S3Error::new(StatusCode::BAD_REQUEST, "InvalidURI", "Couldn't parse the specified URI.")
}

/// Query parameters in request order, names and values percent-decoded (`+` is a space).
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Result<Query, S3Error> {
        let mut pairs = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|part| !part.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode_query(name)?, decode_query(value)?));
        }
        Ok(Query { pairs })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Whether the request is a presigned URL (signature in the query).
    pub(crate) fn is_presigned(&self) -> bool {
        self.has("X-Amz-Signature")
    }

    /// The parameters an event records: all but the presigned URL's signing members.
    pub(crate) fn recorded(&self) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(name, _)| !name.starts_with("X-Amz-")).cloned().collect()
    }
}

fn decode_query(text: &str) -> Result<String, S3Error> {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8().map(|text| text.into_owned()).map_err(|_| invalid_uri())
}

/// What a `Range` header asks of an object of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// No range, or one S3 ignores (malformed, several ranges): the whole object.
    Whole,
    /// Bytes `first..=last`.
    Part { first: u64, last: u64 },
    /// Well-formed but outside the object: 416 InvalidRange.
    Unsatisfiable,
}

/// Reads `bytes=a-b`, `bytes=a-` and `bytes=-n` against an object of `size` bytes.
pub(crate) fn range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return RangeRequest::Whole };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part { first: size.saturating_sub(n), last: size - 1 },
            None => RangeRequest::Whole,
        },
        // bytes=a-: from a to the end.
        (false, true) => match number(first) {
            Some(a) if a >= size => RangeRequest::Unsatisfiable,
            Some(a) => RangeRequest::Part { first: a, last: size - 1 },
            None => RangeRequest::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a > b => RangeRequest::Whole,
            (Some(a), Some(_)) if a >= size => RangeRequest::Unsatisfiable,
            (Some(a), Some(b)) => RangeRequest::Part { first: a, last: b.min(size - 1) },
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(time: Timestamp) -> String {
    rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&time).unwrap_or_default()
}

/// An HTTP date from a conditional header; `None` if unreadable (the condition is then ignored).
pub(crate) fn parse_http_date(text: &str) -> Option<Timestamp> {
    rfc2822::DateTimeParser::new().parse_timestamp(text.trim()).ok()
}

/// `2009-10-12T17:50:30.000Z`, as listings write `LastModified`.
pub(crate) fn iso_millis(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A key, prefix or marker as S3 writes it for `encoding-type=url`: letters, digits and `-_.*/`
/// as they are, a space as `+`, every other byte `%XX`.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
