//! SigV4 signing of one AWS JSON request (the `cloudwatch_logs` sink's PutLogEvents). Signs
//! `content-type`, `host`, `x-amz-date` and `x-amz-target`; the payload hash is of the body.

use aws_lc_rs::hmac;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// Credentials and scope of a request.
#[derive(Debug, Clone)]
pub(crate) struct SigningScope<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) secret_access_key: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

/// The headers to send: `(name, value)` of every signed header plus `authorization`. `headers`
/// are the request's own, names in lowercase (`host` included).
pub(crate) fn sign(
    scope: &SigningScope<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: Timestamp,
) -> Vec<(String, String)> {
    let amz_date = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut signed: Vec<(String, String)> =
        headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned())).collect();
    signed.push(("x-amz-date".to_owned(), amz_date.clone()));
    signed.sort();
    let names: Vec<&str> = signed.iter().map(|(name, _)| name.as_str()).collect();
    let signed_headers = names.join(";");
    let canonical_headers: String = signed.iter().map(|(name, value)| format!("{name}:{value}\n")).collect();
    let canonical_request =
        format!("{method}\n{path}\n\n{canonical_headers}\n{signed_headers}\n{}", hex::encode(Sha256::digest(body)));
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac_sha256(format!("AWS4{}", scope.secret_access_key).as_bytes(), date.as_bytes());
    for part in [scope.region, scope.service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        scope.access_key_id
    );
    signed.push(("authorization".to_owned(), authorization));
    signed
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}
