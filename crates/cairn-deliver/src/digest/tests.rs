//! Tests of `digest`: the test vector of spec/formats.md §3.3 (read in place from
//! `shared/corpora/digest-test-vector.json`) reproduced bit for bit, chained digests, gzip framing,
//! and verification, cross-checked with an independent RSA implementation.
use std::io::Read as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};

use super::*;

const VECTOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/digest-test-vector.json");

struct Vector {
    inflated: String,
    sha256_hex: String,
    string_to_sign: String,
    signature_hex: String,
    public_key_b64: String,
    fingerprint: String,
    private_key_der: Vec<u8>,
}

fn vector() -> Vector {
    let text = std::fs::read_to_string(VECTOR).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let field = |name: &str| json[name].as_str().unwrap().to_owned();
    let pem = field("private_key_pem");
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    Vector {
        inflated: field("inflated_digest_utf8"),
        sha256_hex: field("sha256_hex"),
        string_to_sign: serde_json::from_str(&field("string_to_sign_json_escaped")).unwrap(),
        signature_hex: field("signature_hex"),
        public_key_b64: field("public_key_value_b64"),
        fingerprint: field("fingerprint_md5_hex"),
        private_key_der: BASE64.decode(body).unwrap(),
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const OBJECT: &str = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2025/01/15/123456789012_CloudTrail-Digest_us-east-1_mytrail_us-east-1_20250115T100131Z.json.gz";

/// The digest of the test vector: a starting digest with no log files.
fn vector_digest() -> DigestFile {
    DigestFile {
        aws_account_id: "123456789012".to_owned(),
        digest_start_time: ts("2025-01-15T09:01:31Z"),
        digest_end_time: ts("2025-01-15T10:01:31Z"),
        digest_s3_bucket: "ct-bucket".to_owned(),
        digest_s3_object: OBJECT.to_owned(),
        digest_public_key_fingerprint: "c3575f484f6f1bc95b5ebc018bf083e9".to_owned(),
        newest_event_time: None,
        oldest_event_time: None,
        previous: None,
        log_files: Vec::new(),
    }
}

fn vector_key() -> SigningKey {
    SigningKey::from_private_der(&vector().private_key_der).unwrap()
}

#[test]
fn the_test_vector_json_is_reproduced_byte_for_byte() {
    assert_eq!(vector_digest().to_json(), vector().inflated);
}

#[test]
fn the_test_vector_hash_and_string_to_sign_are_reproduced() {
    let v = vector();
    assert_eq!(sha256_hex(v.inflated.as_bytes()), v.sha256_hex);
    assert_eq!(string_to_sign(&v.inflated).unwrap(), v.string_to_sign);
}

#[test]
fn the_test_vector_key_and_signature_are_reproduced() {
    let v = vector();
    let key = vector_key();
    assert_eq!(key.public_key_b64(), v.public_key_b64);
    assert_eq!(key.fingerprint(), v.fingerprint);

    let signed = sign_digest(&vector_digest(), &key).unwrap();
    assert_eq!(signed.inflated, v.inflated);
    assert_eq!(signed.sha256_hex, v.sha256_hex);
    assert_eq!(signed.signature_hex, v.signature_hex);
    assert_eq!(signed.signature_hex.len(), 512);
    assert!(verify(&v.inflated, &v.signature_hex, key.public_der()).unwrap());
}

#[test]
fn an_independent_implementation_agrees_on_the_test_vector() {
    let v = vector();
    let hashed = Sha256::digest(v.string_to_sign.as_bytes());
    let public = RsaPublicKey::from_pkcs1_der(&BASE64.decode(&v.public_key_b64).unwrap()).unwrap();
    let signature = hex::decode(&v.signature_hex).unwrap();
    public.verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, &signature).unwrap();
    let private = RsaPrivateKey::from_pkcs1_der(&v.private_key_der).unwrap();
    assert_eq!(private.sign(Pkcs1v15Sign::new::<Sha256>(), &hashed).unwrap(), signature);
}

fn chained_digest() -> DigestFile {
    DigestFile {
        aws_account_id: "111122223333".to_owned(),
        digest_start_time: ts("2015-08-17T14:01:31Z"),
        // A fraction is dropped, not rounded.
        digest_end_time: ts("2015-08-17T15:01:31.999Z"),
        digest_s3_bucket: "bucket".to_owned(),
        digest_s3_object: "p/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz".to_owned(),
        digest_public_key_fingerprint: "c3575f484f6f1bc95b5ebc018bf083e9".to_owned(),
        newest_event_time: Some(ts("2015-08-17T15:00:02Z")),
        oldest_event_time: Some(ts("2015-08-17T13:58:00Z")),
        previous: Some(PreviousDigest {
            s3_bucket: "bucket".to_owned(),
            s3_object: "p/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T140131Z.json.gz".to_owned(),
            hash_value: "aa".repeat(32),
            signature: "0b".repeat(256),
        }),
        log_files: vec![
            LogFileEntry {
                s3_bucket: "bucket".to_owned(),
                s3_object: "p/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/a.json.gz".to_owned(),
                hash_value: "bb".repeat(32),
                newest_event_time: ts("2015-08-17T14:20:00Z"),
                oldest_event_time: ts("2015-08-17T13:58:00Z"),
            },
            LogFileEntry {
                s3_bucket: "bucket".to_owned(),
                s3_object: "p/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/b.json.gz".to_owned(),
                hash_value: "cc".repeat(32),
                newest_event_time: ts("2015-08-17T15:00:02Z"),
                oldest_event_time: ts("2015-08-17T14:30:00Z"),
            },
        ],
    }
}

#[test]
fn a_chained_digest_has_aws_key_order_and_names_its_predecessor() {
    let digest = chained_digest();
    let previous = digest.previous.clone().unwrap();
    let expected = format!(
        concat!(
            r#"{{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z","#,
            r#""digestS3Bucket":"bucket","digestS3Object":"{object}","#,
            r#""digestPublicKeyFingerprint":"c3575f484f6f1bc95b5ebc018bf083e9","digestSignatureAlgorithm":"SHA256withRSA","#,
            r#""newestEventTime":"2015-08-17T15:00:02Z","oldestEventTime":"2015-08-17T13:58:00Z","#,
            r#""previousDigestS3Bucket":"bucket","previousDigestS3Object":"{previous}","#,
            r#""previousDigestHashValue":"{hash}","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"{signature}","#,
            r#""logFiles":[{{"s3Bucket":"bucket","s3Object":"{log_a}","hashValue":"{hash_a}","hashAlgorithm":"SHA-256","#,
            r#""newestEventTime":"2015-08-17T14:20:00Z","oldestEventTime":"2015-08-17T13:58:00Z"}},"#,
            r#"{{"s3Bucket":"bucket","s3Object":"{log_b}","hashValue":"{hash_b}","hashAlgorithm":"SHA-256","#,
            r#""newestEventTime":"2015-08-17T15:00:02Z","oldestEventTime":"2015-08-17T14:30:00Z"}}]}}"#,
        ),
        object = digest.digest_s3_object,
        previous = previous.s3_object,
        hash = previous.hash_value,
        signature = previous.signature,
        log_a = digest.log_files[0].s3_object,
        hash_a = digest.log_files[0].hash_value,
        log_b = digest.log_files[1].s3_object,
        hash_b = digest.log_files[1].hash_value,
    );
    let json = digest.to_json();
    assert_eq!(json, expected);

    let to_sign = string_to_sign(&json).unwrap();
    assert_eq!(
        to_sign,
        format!(
            "2015-08-17T15:01:31Z\nbucket/{}\n{}\n{}",
            digest.digest_s3_object,
            sha256_hex(json.as_bytes()),
            previous.signature
        )
    );
}

#[test]
fn a_signed_chain_verifies_and_links() {
    let key = vector_key();
    let first = sign_digest(&vector_digest(), &key).unwrap();
    let mut next = chained_digest();
    next.previous = Some(PreviousDigest {
        s3_bucket: "ct-bucket".to_owned(),
        s3_object: OBJECT.to_owned(),
        hash_value: first.sha256_hex.clone(),
        signature: first.signature_hex.clone(),
    });
    let second = sign_digest(&next, &key).unwrap();
    assert!(verify(&second.inflated, &second.signature_hex, key.public_der()).unwrap());
    assert!(string_to_sign(&second.inflated).unwrap().ends_with(&format!("\n{}", first.signature_hex)));
    assert_ne!(first.signature_hex, second.signature_hex);
}

#[test]
fn the_object_body_is_exactly_one_gzip_member() {
    let signed = sign_digest(&chained_digest(), &vector_key()).unwrap();
    let mut decoder = flate2::bufread::GzDecoder::new(signed.gzipped.as_slice());
    let mut inflated = String::new();
    decoder.read_to_string(&mut inflated).unwrap();
    assert_eq!(inflated, signed.inflated);
    assert!(decoder.into_inner().is_empty(), "bytes after the first gzip member");
}

#[test]
fn tampering_or_a_wrong_key_fails_verification() {
    let v = vector();
    let tampered = v.inflated.replace("123456789012\",\"digestStartTime", "123456789013\",\"digestStartTime");
    assert_ne!(tampered, v.inflated);
    let key = vector_key();
    assert!(!verify(&tampered, &v.signature_hex, key.public_der()).unwrap());

    let other = SigningKey::generate().unwrap();
    assert!(!verify(&v.inflated, &v.signature_hex, other.public_der()).unwrap());

    let mut flipped = hex::decode(&v.signature_hex).unwrap();
    flipped[100] ^= 1;
    assert!(!verify(&v.inflated, &hex::encode(flipped), key.public_der()).unwrap());

    assert!(matches!(verify(&v.inflated, "zz", key.public_der()), Err(DigestError::SignatureNotHex(_))));
    assert!(matches!(
        verify(&v.inflated, &v.signature_hex, b"not a key"),
        Err(DigestError::Signing(SigningError::PublicKeyRejected(_)))
    ));
}

#[test]
fn signing_with_a_key_the_digest_does_not_name_is_refused() {
    let other = SigningKey::generate().unwrap();
    assert!(matches!(
        sign_digest(&vector_digest(), &other),
        Err(DigestError::FingerprintMismatch { in_digest, signing })
            if in_digest == "c3575f484f6f1bc95b5ebc018bf083e9" && signing == other.fingerprint()
    ));
}

#[test]
fn string_to_sign_needs_the_signed_fields_as_strings() {
    assert!(matches!(string_to_sign("not json"), Err(DigestError::InvalidJson(_))));
    assert!(matches!(string_to_sign("[]"), Err(DigestError::InvalidJson(_))));
    let full = vector().inflated;
    for name in ["digestEndTime", "digestS3Bucket", "digestS3Object", "previousDigestSignature"] {
        let mut value: serde_json::Value = serde_json::from_str(&full).unwrap();
        value.as_object_mut().unwrap().shift_remove(name);
        assert!(matches!(string_to_sign(&value.to_string()), Err(DigestError::MissingField(n)) if n == name), "{name}");
        value[name] = serde_json::json!(7);
        assert!(matches!(string_to_sign(&value.to_string()), Err(DigestError::NotAString(n)) if n == name), "{name}");
    }
}

#[test]
fn string_to_sign_uses_the_json_values_verbatim() {
    // Values are taken as written, not reformatted: a time with a fraction stays as it is.
    let inflated = r#"{"digestEndTime":"2025-01-15T10:01:31.5Z","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":"ab"}"#;
    assert_eq!(
        string_to_sign(inflated).unwrap(),
        format!("2025-01-15T10:01:31.5Z\nb/k\n{}\nab", sha256_hex(inflated.as_bytes()))
    );
}

#[test]
fn digest_files_round_trip_through_serde() {
    let digest = chained_digest();
    let text = serde_json::to_string(&digest).unwrap();
    assert_eq!(serde_json::from_str::<DigestFile>(&text).unwrap(), digest);
}
