//! Tests of `signing`: key encodings, signatures, records, and the key ring's rotation, overlap,
//! window selection, persistence and concurrency, all on explicit timestamps.
use std::path::Path;

use cairn_store::MetaStore;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::Sha256;

use super::*;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn days(n: u64) -> Duration {
    DAY * u32::try_from(n).unwrap()
}

fn open_ring(path: &Path) -> KeyRing {
    let registry = Registry::<SigningKeyRecord>::load(Arc::new(MetaStore::open(path).unwrap())).unwrap();
    KeyRing::new(registry, KeyRing::DEFAULT_ROTATION)
}

#[test]
fn a_generated_key_is_pkcs1_rsa_2048_and_its_signatures_verify() {
    let key = SigningKey::generate().unwrap();
    assert_eq!(&key.public_der()[..4], &[0x30, 0x82, 0x01, 0x0a]);
    assert!(key.public_key_b64().starts_with("MIIBCgKCAQEA"), "{}", key.public_key_b64());
    assert_eq!(key.fingerprint(), hex::encode(Md5::digest(key.public_der())));
    assert_eq!(key.fingerprint().len(), 32);

    let msg = b"2025-01-15T10:01:31Z\nb/k\nabc\nnull";
    let signature = key.sign(msg).unwrap();
    assert_eq!(signature.len(), 256);
    assert!(verify_signature(key.public_der(), msg, &signature).unwrap());
    assert!(!verify_signature(key.public_der(), b"other", &signature).unwrap());

    // An independent implementation reads the same PKCS#1 key and accepts the signature.
    let public = RsaPublicKey::from_pkcs1_der(key.public_der()).unwrap();
    public.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), &signature).unwrap();
}

#[test]
fn a_key_survives_its_private_der() {
    let key = SigningKey::generate().unwrap();
    let der = key.private_der().unwrap();
    let again = SigningKey::from_private_der(&der).unwrap();
    assert_eq!(again.fingerprint(), key.fingerprint());
    assert_eq!(again.public_der(), key.public_der());
    // PKCS#1 v1.5 is deterministic: the same key gives the same bytes.
    assert_eq!(again.sign(b"m").unwrap(), key.sign(b"m").unwrap());
    assert!(matches!(SigningKey::from_private_der(b"junk"), Err(SigningError::PrivateKeyRejected(_))));
}

#[test]
fn debug_shows_no_private_material() {
    let key = SigningKey::generate().unwrap();
    let private_b64 = BASE64.encode(key.private_der().unwrap());
    let shown = format!("{key:?}");
    assert!(shown.contains(key.fingerprint()), "{shown}");
    assert!(!shown.contains(&private_b64[40..80]), "{shown}");

    let record = SigningKeyRecord::new(
        "us-east-1",
        &key,
        ts("2025-01-01T00:00:00Z"),
        ts("2025-02-03T00:00:00Z"),
        ts("2025-01-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(record.private_key_der_b64, private_b64);
    let shown = format!("{record:?}");
    assert!(shown.contains(key.fingerprint()), "{shown}");
    for chunk in private_b64.as_bytes().chunks(32).skip(2) {
        assert!(!shown.contains(std::str::from_utf8(chunk).unwrap()), "{shown}");
    }
    assert!(!shown.contains("private_key_der_b64"), "{shown}");
}

#[test]
fn records_are_keyed_by_region_start_and_fingerprint_and_check_their_key() {
    let key = SigningKey::generate().unwrap();
    let start = ts("2025-01-15T09:00:00Z");
    let record = SigningKeyRecord::new("eu-west-1", &key, start, ts("2025-02-17T09:00:00Z"), start).unwrap();
    assert_eq!(record.key(), format!("eu-west-1/00000000001736931600/{}", key.fingerprint()));
    assert_eq!(record.public_der().unwrap(), key.public_der());
    assert_eq!(record.signing_key().unwrap().fingerprint(), key.fingerprint());

    let other = SigningKey::generate().unwrap();
    let mut forged = record.clone();
    forged.private_key_der_b64 = BASE64.encode(other.private_der().unwrap());
    assert!(matches!(forged.signing_key(), Err(SigningError::FingerprintMismatch { .. })));
    let mut garbled = record;
    garbled.private_key_der_b64 = "!!".to_owned();
    assert!(matches!(garbled.signing_key(), Err(SigningError::Base64(_))));
}

#[test]
fn the_overlap_is_a_tenth_of_the_rotation_and_at_least_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Arc::new(
        Registry::<SigningKeyRecord>::load(Arc::new(MetaStore::open(&dir.path().join("m.redb")).unwrap())).unwrap(),
    );
    assert_eq!(KeyRing::new(Arc::clone(&registry), KeyRing::DEFAULT_ROTATION).overlap(), days(3));
    assert_eq!(KeyRing::new(Arc::clone(&registry), Duration::from_secs(100)).overlap(), Duration::from_secs(60));
}

#[test]
fn keys_rotate_overlap_and_are_listed_by_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.redb");
    let t0 = ts("2025-01-01T00:00:00Z");
    let at = |d: u64| t0.checked_add(days(d)).unwrap();

    let ring = open_ring(&path);
    assert!(ring.newest("us-east-1").is_none());
    assert!(ring.public_keys("us-east-1", t0, at(1)).is_empty());

    let (first, first_key) = ring.signing_key("us-east-1", t0).unwrap();
    assert_eq!(first.fingerprint, first_key.fingerprint());
    assert_eq!((first.validity_start, first.validity_end, first.created_at), (t0, at(33), t0));

    // Within the rotation period the same key signs.
    let (same, _) = ring.signing_key("us-east-1", at(29)).unwrap();
    assert_eq!(same, first);

    // Another region has its own key.
    let (west, _) = ring.signing_key("us-west-2", at(1)).unwrap();
    assert_ne!(west.fingerprint, first.fingerprint);

    // After the period, a new key, whose window overlaps the old one's.
    let (second, second_key) = ring.signing_key("us-east-1", at(30)).unwrap();
    assert_ne!(second.fingerprint, first.fingerprint);
    assert_eq!((second.validity_start, second.validity_end), (at(30), at(63)));
    assert!(second.validity_start < first.validity_end);
    assert_eq!(ring.signing_key("us-east-1", at(31)).unwrap().0, second);

    let fingerprints = |keys: Vec<SigningKeyRecord>| keys.into_iter().map(|k| k.fingerprint).collect::<Vec<_>>();
    let both = vec![first.fingerprint.clone(), second.fingerprint.clone()];
    assert_eq!(fingerprints(ring.public_keys("us-east-1", at(31), at(32))), both);
    assert_eq!(fingerprints(ring.public_keys("us-east-1", t0, at(70))), both);
    assert_eq!(fingerprints(ring.public_keys("us-east-1", at(1), at(2))), vec![first.fingerprint.clone()]);
    // Bounds are inclusive.
    assert_eq!(fingerprints(ring.public_keys("us-east-1", at(33), at(33))), both);
    assert_eq!(fingerprints(ring.public_keys("us-east-1", at(34), at(40))), vec![second.fingerprint.clone()]);
    assert!(ring.public_keys("us-east-1", at(64), at(65)).is_empty());
    assert!(ring.public_keys("us-east-1", ts("2024-01-01T00:00:00Z"), ts("2024-12-31T23:59:59Z")).is_empty());
    assert_eq!(fingerprints(ring.public_keys("us-west-2", t0, at(70))), vec![west.fingerprint.clone()]);
    assert_eq!(ring.newest("us-east-1").unwrap(), second);

    // Everything is on disk: a fresh ring over the reopened store signs with the same key.
    drop(ring);
    let ring = open_ring(&path);
    assert_eq!(fingerprints(ring.public_keys("us-east-1", t0, at(70))), both);
    let (again, again_key) = ring.signing_key("us-east-1", at(45)).unwrap();
    assert_eq!(again, second);
    assert_eq!(again_key.sign(b"m").unwrap(), second_key.sign(b"m").unwrap());
    assert_eq!(ring.registry().all().len(), 3);
    let shown = format!("{ring:?}");
    assert!(shown.contains(&second.fingerprint), "{shown}");
    for record in ring.registry().all() {
        assert!(!shown.contains(&record.private_key_der_b64[64..128]), "{shown}");
    }
}

#[test]
fn a_clock_that_went_back_keeps_the_newest_key() {
    let dir = tempfile::tempdir().unwrap();
    let ring = open_ring(&dir.path().join("meta.redb"));
    let (first, _) = ring.signing_key("us-east-1", ts("2025-06-01T00:00:00Z")).unwrap();
    let (earlier, _) = ring.signing_key("us-east-1", ts("2025-05-31T23:00:00Z")).unwrap();
    assert_eq!(earlier, first);
}

#[test]
fn concurrent_callers_create_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let ring = open_ring(&dir.path().join("meta.redb"));
    let now = ts("2025-01-01T00:00:00Z");
    let fingerprints: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..8).map(|_| scope.spawn(|| ring.signing_key("us-east-1", now).unwrap().0.fingerprint)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(fingerprints.iter().all(|f| *f == fingerprints[0]), "{fingerprints:?}");
    assert_eq!(ring.registry().all().len(), 1);
}
