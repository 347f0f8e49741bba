//! Tests of `objects`: the MD5 used for ETags, put/get/head/delete, listing checked against a
//! brute-force model, durability across reopening, orphan blob cleanup and concurrent overwrites.

use std::sync::Arc;

use super::*;

fn open(dir: &Path) -> ObjectIndex {
    ObjectIndex::open(dir).unwrap()
}

fn put(index: &ObjectIndex, bucket: &str, key: &str, body: &[u8]) -> ObjectInfo {
    index.put(bucket, key, body, &PutObject::default()).unwrap()
}

fn query(prefix: &str, start_after: Option<&str>, delimiter: Option<&str>, max_keys: usize) -> ListQuery {
    ListQuery {
        prefix: prefix.to_owned(),
        start_after: start_after.map(str::to_owned),
        delimiter: delimiter.map(str::to_owned),
        max_keys,
    }
}

fn keys(listing: &Listing) -> Vec<&str> {
    listing.objects.iter().map(|o| o.key.as_str()).collect()
}

fn blob_files(root: &Path, bucket: &str) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(root.join(bucket).join(BLOB_DIR)) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn etags_are_the_hex_md5_of_the_bytes() {
    assert_eq!(etag_md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(etag_md5(b"The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
}

#[test]
fn put_get_head_overwrite_delete() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let options = PutObject {
        content_type: Some("application/json".to_owned()),
        user_metadata: vec![
            ("Signature".to_owned(), "abc".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
        ],
    };
    let info = index.put("bkt", "AWSLogs/x.json.gz", b"hello", &options).unwrap();
    assert_eq!(info.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
    assert_eq!(info.size, 5);
    assert_eq!(info.key, "AWSLogs/x.json.gz");
    assert_eq!(
        info.user_metadata,
        vec![
            ("signature".to_owned(), "abc".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned())
        ]
    );
    let (got, body) = index.get("bkt", "AWSLogs/x.json.gz").unwrap().unwrap();
    assert_eq!(body, b"hello");
    assert_eq!(got.etag, info.etag);
    assert_eq!(got.content_type.as_deref(), Some("application/json"));
    assert_eq!(got.user_metadata, info.user_metadata);
    assert_eq!(got.last_modified, info.last_modified);
    let head = index.head("bkt", "AWSLogs/x.json.gz").unwrap().unwrap();
    assert_eq!((head.size, head.etag.as_str()), (5, info.etag.as_str()));
    assert!(index.get("bkt", "AWSLogs/missing").unwrap().is_none());
    assert!(index.head("other", "AWSLogs/x.json.gz").unwrap().is_none());

    // Overwrite: new bytes, new ETag, the old blob is gone; no metadata now.
    let info2 = put(&index, "bkt", "AWSLogs/x.json.gz", b"hello, world");
    assert_ne!(info2.etag, info.etag);
    let (got, body) = index.get("bkt", "AWSLogs/x.json.gz").unwrap().unwrap();
    assert_eq!(body, b"hello, world");
    assert!(got.user_metadata.is_empty() && got.content_type.is_none());
    assert_eq!(blob_files(dir.path(), "bkt").len(), 1);

    // Identical content again: same ETag, still one blob.
    let info3 = put(&index, "bkt", "AWSLogs/x.json.gz", b"hello, world");
    assert_eq!(info3.etag, info2.etag);
    assert_eq!(blob_files(dir.path(), "bkt").len(), 1);

    // An empty object.
    let empty = put(&index, "bkt", "empty", b"");
    assert_eq!(empty.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    assert_eq!(index.get("bkt", "empty").unwrap().unwrap().1, b"");

    assert!(!index.is_empty("bkt").unwrap());
    assert!(index.delete("bkt", "AWSLogs/x.json.gz").unwrap());
    assert!(!index.delete("bkt", "AWSLogs/x.json.gz").unwrap());
    assert!(index.get("bkt", "AWSLogs/x.json.gz").unwrap().is_none());
    assert!(index.delete("bkt", "empty").unwrap());
    assert!(index.is_empty("bkt").unwrap());
    assert!(blob_files(dir.path(), "bkt").is_empty());
}

#[test]
fn buckets_are_separate_even_when_one_name_prefixes_another() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    put(&index, "ab", "k", b"1");
    put(&index, "a", "bk", b"2");
    assert!(index.is_empty("abc").unwrap());
    assert!(index.is_empty("b").unwrap());
    assert!(!index.is_empty("a").unwrap());
    assert_eq!(keys(&index.list("a", &query("", None, None, 1000)).unwrap()), vec!["bk"]);
    assert_eq!(keys(&index.list("ab", &query("", None, None, 1000)).unwrap()), vec!["k"]);
    assert_eq!(index.get("a", "bk").unwrap().unwrap().1, b"2");
    assert!(index.get("a", "b\0k").unwrap().is_none());
}

#[test]
fn unusable_bucket_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for bucket in ["", ".", "..", "a/b", "_objects.redb", "a\0b"] {
        assert!(index.put(bucket, "k", b"x", &PutObject::default()).is_err(), "{bucket:?}");
        assert!(index.get(bucket, "k").is_err(), "{bucket:?}");
    }
}

#[test]
fn keys_list_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let mut all = vec![
        "a/b",
        "a-b",
        "a_b",
        "a%b",
        "a b",
        "a+b",
        "a~b",
        "é",
        "z",
        "Z",
        "a",
        "a/",
        "a//b",
        "/lead",
        "日本",
        "\u{1F600}",
    ];
    for key in &all {
        put(&index, "bkt", key, key.as_bytes());
    }
    all.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    let listing = index.list("bkt", &query("", None, None, 1000)).unwrap();
    assert_eq!(keys(&listing), all);
    assert!(!listing.is_truncated);
    // Spelled out for the keys the CLI and CloudTrail care about.
    let some: Vec<&str> =
        keys(&listing).into_iter().filter(|k| ["a/b", "a-b", "a_b", "a%b", "é"].contains(k)).collect();
    assert_eq!(some, vec!["a%b", "a-b", "a/b", "a_b", "é"]);
}

#[test]
fn prefix_delimiter_start_after_and_max_keys() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    for key in [
        "photos/2006/jan/a.jpg",
        "photos/2006/feb/b.jpg",
        "photos/2007/c.jpg",
        "photos/d.jpg",
        "photos.txt",
        "readme",
        "x/y/z",
    ] {
        put(&index, "bkt", key, b"");
    }
    let l = index.list("bkt", &query("", None, Some("/"), 1000)).unwrap();
    assert_eq!(keys(&l), vec!["photos.txt", "readme"]);
    assert_eq!(l.common_prefixes, vec!["photos/", "x/"]);

    let l = index.list("bkt", &query("photos/", None, Some("/"), 1000)).unwrap();
    assert_eq!(keys(&l), vec!["photos/d.jpg"]);
    assert_eq!(l.common_prefixes, vec!["photos/2006/", "photos/2007/"]);

    let l = index.list("bkt", &query("photos/2006/", None, None, 1000)).unwrap();
    assert_eq!(keys(&l), vec!["photos/2006/feb/b.jpg", "photos/2006/jan/a.jpg"]);

    // A prefix that is not a "directory", and one that matches nothing.
    let l = index.list("bkt", &query("photos", None, Some("/"), 1000)).unwrap();
    assert_eq!(keys(&l), vec!["photos.txt"]);
    assert_eq!(l.common_prefixes, vec!["photos/"]);
    assert!(index.list("bkt", &query("nothing", None, None, 1000)).unwrap().objects.is_empty());

    // max_keys counts keys and common prefixes together.
    let l = index.list("bkt", &query("", None, Some("/"), 2)).unwrap();
    assert_eq!(keys(&l), vec!["photos.txt"]);
    assert_eq!(l.common_prefixes, vec!["photos/"]);
    assert!(l.is_truncated);
    // The next page starts after the common prefix, which is not repeated.
    let l = index.list("bkt", &query("", Some("photos/"), Some("/"), 2)).unwrap();
    assert_eq!(keys(&l), vec!["readme"]);
    assert_eq!(l.common_prefixes, vec!["x/"]);
    assert!(!l.is_truncated);
    // A marker inside a common prefix: that prefix was listed already.
    let l = index.list("bkt", &query("", Some("photos/2006/jan/a.jpg"), Some("/"), 1000)).unwrap();
    assert_eq!(keys(&l), vec!["readme"]);
    assert_eq!(l.common_prefixes, vec!["x/"]);

    // start_after is exclusive, and may name a key that does not exist.
    let l = index.list("bkt", &query("", Some("photos/2007/c.jpg"), None, 1000)).unwrap();
    assert_eq!(keys(&l), vec!["photos/d.jpg", "readme", "x/y/z"]);
    let l = index.list("bkt", &query("", Some("q"), None, 1000)).unwrap();
    assert_eq!(keys(&l), vec!["readme", "x/y/z"]);
    // A start_after before the prefix changes nothing.
    let l = index.list("bkt", &query("x/", Some("a"), None, 1000)).unwrap();
    assert_eq!(keys(&l), vec!["x/y/z"]);
    // Exactly max_keys keys: not truncated.
    let l = index.list("bkt", &query("photos/2006/", None, None, 2)).unwrap();
    assert_eq!(l.objects.len(), 2);
    assert!(!l.is_truncated);
    let l = index.list("bkt", &query("photos/2006/", None, None, 1)).unwrap();
    assert!(l.is_truncated);
    // max_keys 0: nothing, not truncated.
    let l = index.list("bkt", &query("", None, None, 0)).unwrap();
    assert!(l.objects.is_empty() && l.common_prefixes.is_empty() && !l.is_truncated);
    // A multi-character delimiter; an empty delimiter means none.
    let l = index.list("bkt", &query("", None, Some("/2006/"), 1000)).unwrap();
    assert_eq!(l.common_prefixes, vec!["photos/2006/"]);
    let l = index.list("bkt", &query("", None, Some(""), 1000)).unwrap();
    assert_eq!(l.objects.len(), 7);
    // A missing bucket lists nothing.
    assert!(index.list("nobucket", &query("", None, None, 1000)).unwrap().objects.is_empty());
}

/// The brute-force model of a listing: every entry (key or common prefix) after `start_after`.
fn model_entries(all: &[String], q: &ListQuery) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in all {
        if !key.starts_with(&q.prefix) || q.start_after.as_ref().is_some_and(|a| key.as_str() <= a.as_str()) {
            continue;
        }
        let entry = match q.delimiter.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => list::common_prefix(key, q.prefix.len(), d).unwrap_or(key).to_owned(),
            None => key.clone(),
        };
        if q.start_after.as_ref().is_some_and(|a| entry.as_str() <= a.as_str()) {
            continue;
        }
        if out.last() != Some(&entry) {
            out.push(entry);
        }
    }
    out
}

#[test]
fn listing_agrees_with_a_brute_force_model_and_pages_cover_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let alphabet = ["a", "b", "/", "-", "_", "é", "%", "ab/"];
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut all: Vec<String> = Vec::new();
    for _ in 0..300 {
        let mut key = String::new();
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = 1 + (seed >> 60) as usize % 6;
        for _ in 0..len {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            key.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        all.push(key);
    }
    all.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    all.dedup();
    for key in &all {
        put(&index, "bkt", key, b"");
    }
    for prefix in ["", "a", "a/", "b", "é", "zz"] {
        for delimiter in [None, Some("/"), Some("b"), Some("ab/")] {
            for max_keys in [1, 3, 1000] {
                let mut start_after: Option<String> = None;
                let mut seen: Vec<String> = Vec::new();
                for _ in 0..1000 {
                    let q = ListQuery {
                        prefix: prefix.to_owned(),
                        start_after: start_after.clone(),
                        delimiter: delimiter.map(str::to_owned),
                        max_keys,
                    };
                    let page = index.list("bkt", &q).unwrap();
                    let mut entries: Vec<String> = page
                        .objects
                        .iter()
                        .map(|o| o.key.clone())
                        .chain(page.common_prefixes.iter().cloned())
                        .collect();
                    entries.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
                    let model = model_entries(&all, &q);
                    assert_eq!(entries, model.iter().take(max_keys).cloned().collect::<Vec<_>>(), "{q:?}");
                    assert_eq!(page.is_truncated, model.len() > max_keys, "{q:?}");
                    seen.extend(entries.iter().cloned());
                    if !page.is_truncated {
                        break;
                    }
                    start_after = entries.last().cloned();
                }
                let whole = model_entries(&all, &query(prefix, None, delimiter, usize::MAX));
                assert_eq!(seen, whole, "prefix {prefix:?} delimiter {delimiter:?} max_keys {max_keys}");
            }
        }
    }
}

#[test]
fn objects_survive_reopening_and_new_blobs_do_not_reuse_ids() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        put(&index, "bkt", "a", b"first");
        put(&index, "bkt", "b", b"second");
        index
            .put(
                "bkt",
                "c",
                b"third",
                &PutObject {
                    content_type: Some("text/plain".to_owned()),
                    user_metadata: vec![("k".to_owned(), "v".to_owned())],
                },
            )
            .unwrap();
        index.delete("bkt", "b").unwrap();
    }
    let before = blob_files(dir.path(), "bkt");
    for _ in 0..2 {
        let index = open(dir.path());
        assert_eq!(index.get("bkt", "a").unwrap().unwrap().1, b"first");
        assert!(index.get("bkt", "b").unwrap().is_none());
        let (info, body) = index.get("bkt", "c").unwrap().unwrap();
        assert_eq!(body, b"third");
        assert_eq!(info.content_type.as_deref(), Some("text/plain"));
        assert_eq!(info.user_metadata, vec![("k".to_owned(), "v".to_owned())]);
        assert_eq!(keys(&index.list("bkt", &query("", None, None, 1000)).unwrap()), vec!["a", "c"]);
    }
    let index = open(dir.path());
    put(&index, "bkt", "d", b"fourth");
    let after = blob_files(dir.path(), "bkt");
    let new: Vec<&String> = after.iter().filter(|name| !before.contains(name)).collect();
    assert_eq!(new.len(), 1);
    assert!(before.iter().all(|old| old < new[0]), "{before:?} then {new:?}");
}

#[test]
fn open_removes_blobs_no_object_names() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(dir.path());
        put(&index, "bkt", "kept", b"kept");
    }
    let kept = blob_files(dir.path(), "bkt");
    assert_eq!(kept.len(), 1);
    // As a crash would leave them: a blob written but never committed (in this bucket and in a
    // bucket with no objects at all), and a blob named by an object of another bucket.
    let orphan = dir.path().join("bkt").join(BLOB_DIR).join(blob_name(0x99));
    fs::write(&orphan, b"partial").unwrap();
    fs::create_dir_all(dir.path().join("empty").join(BLOB_DIR)).unwrap();
    fs::write(dir.path().join("empty").join(BLOB_DIR).join(blob_name(0x98)), b"x").unwrap();
    fs::create_dir_all(dir.path().join("other").join(BLOB_DIR)).unwrap();
    fs::write(dir.path().join("other").join(BLOB_DIR).join(&kept[0]), b"kept").unwrap();
    // Files that are not blobs are left alone.
    fs::write(dir.path().join("bkt").join(BLOB_DIR).join("README"), b"not a blob").unwrap();

    let index = open(dir.path());
    assert!(!orphan.exists());
    assert_eq!(blob_files(dir.path(), "bkt"), vec![kept[0].clone(), "README".to_owned()]);
    assert!(blob_files(dir.path(), "empty").is_empty());
    assert!(blob_files(dir.path(), "other").is_empty());
    assert_eq!(index.get("bkt", "kept").unwrap().unwrap().1, b"kept");
    // New blobs are numbered past the orphans that were found.
    put(&index, "bkt", "new", b"new");
    assert!(blob_files(dir.path(), "bkt").iter().any(|name| blob_id(name).is_some_and(|id| id > 0x99)));
}

#[test]
fn a_missing_blob_is_reported_not_served_empty() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    put(&index, "bkt", "k", b"bytes");
    for name in blob_files(dir.path(), "bkt") {
        fs::remove_file(dir.path().join("bkt").join(BLOB_DIR).join(name)).unwrap();
    }
    assert!(matches!(index.get("bkt", "k"), Err(StoreError::Corrupt { .. })));
}

#[test]
fn readers_see_the_old_or_the_new_object_during_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(open(dir.path()));
    let bodies: Vec<Vec<u8>> = (0..4u8).map(|n| vec![n; 4096 + usize::from(n)]).collect();
    put(&index, "bkt", "hot", &bodies[0]);
    let writer = {
        let (index, bodies) = (index.clone(), bodies.clone());
        std::thread::spawn(move || {
            for round in 0..60 {
                put(&index, "bkt", "hot", &bodies[round % bodies.len()]);
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (index, bodies) = (index.clone(), bodies.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let (info, body) = index.get("bkt", "hot").unwrap().unwrap();
                    assert!(bodies.contains(&body), "a mixed body of {} bytes", body.len());
                    assert_eq!(info.size, body.len() as u64);
                    assert_eq!(info.etag, format!("\"{}\"", etag_md5(&body)));
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(blob_files(dir.path(), "bkt").len(), 1);
}
