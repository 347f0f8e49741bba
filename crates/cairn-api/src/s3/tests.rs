//! Tests of `s3`: addressing (path and virtual-host style), query decoding, `Range` headers,
//! the encodings S3 answers with, continuation tokens, ETag conditions and error XML.

use super::buckets::location_constraint;
use super::error::S3Error;
use super::listing::{continuation_token, read_continuation_token};
use super::objects::{etag_matches, user_metadata};
use super::request::{self, Address, Query, RangeRequest};

fn addr(bucket: &str, key: Option<&str>) -> Address {
    Address { bucket: bucket.to_owned(), key: key.map(str::to_owned) }
}

#[test]
fn location_constraints_are_read_from_xml() {
    let body = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
    assert_eq!(location_constraint(body).unwrap().as_deref(), Some("eu-west-1"));
    assert_eq!(location_constraint(b"").unwrap(), None);
    assert_eq!(location_constraint(b"<a><b></a>").unwrap_err().code, "MalformedXML");
}

#[test]
fn path_style_addresses() {
    let cases: &[(&str, Address)] = &[
        ("/", addr("", None)),
        ("/bkt", addr("bkt", None)),
        ("/bkt/", addr("bkt", None)),
        ("/bkt/key", addr("bkt", Some("key"))),
        ("/bkt/a/b/c.json.gz", addr("bkt", Some("a/b/c.json.gz"))),
        ("/bkt//lead", addr("bkt", Some("/lead"))),
        ("/bkt/a//b/", addr("bkt", Some("a//b/"))),
        ("/bkt/a%20b%2Bc+d", addr("bkt", Some("a b+c+d"))),
        ("/bkt/%C3%A9t%C3%A9", addr("bkt", Some("été"))),
        ("/bkt/a%25b", addr("bkt", Some("a%b"))),
        ("/bkt/a%2Fb", addr("bkt", Some("a/b"))),
    ];
    for (path, expected) in cases {
        assert_eq!(&request::address(Some("127.0.0.1:4566"), path).unwrap(), expected, "{path}");
        assert_eq!(&request::address(None, path).unwrap(), expected, "{path}");
    }
    assert_eq!(request::address(None, "/bkt/%FF").unwrap_err().code, "InvalidURI");
}

#[test]
fn virtual_host_style_addresses() {
    let cases: &[(&str, &str, Address)] = &[
        ("bkt.localhost:4566", "/", addr("bkt", None)),
        ("bkt.localhost", "/key", addr("bkt", Some("key"))),
        ("my.dotted.bkt.localhost:1", "/a/b", addr("my.dotted.bkt", Some("a/b"))),
        ("BKT.LOCALHOST:80", "/a%20b", addr("bkt", Some("a b"))),
        // The whole path is the key: its first segment is not a bucket.
        ("bkt.localhost:4566", "/other/key", addr("bkt", Some("other/key"))),
        // Not virtual-host style: plain localhost, other hosts.
        ("localhost:4566", "/bkt/key", addr("bkt", Some("key"))),
        (".localhost", "/bkt/key", addr("bkt", Some("key"))),
        ("bkt.example.com", "/b2/key", addr("b2", Some("key"))),
        ("bkt.localhost.example.com", "/b2", addr("b2", None)),
    ];
    for (host, path, expected) in cases {
        assert_eq!(&request::address(Some(host), path).unwrap(), expected, "{host} {path}");
    }
}

#[test]
fn query_parameters_are_decoded_in_order() {
    let q = Query::parse(Some("list-type=2&prefix=AWSLogs%2F123&delimiter=%2F&encoding-type=url&location&a+b=c+d"))
        .unwrap();
    assert_eq!(q.get("list-type"), Some("2"));
    assert_eq!(q.get("prefix"), Some("AWSLogs/123"));
    assert_eq!(q.get("delimiter"), Some("/"));
    assert_eq!(q.get("location"), Some(""));
    assert!(q.has("location") && !q.has("marker"));
    assert_eq!(q.get("a b"), Some("c d"));
    let names: Vec<&str> = q.pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["list-type", "prefix", "delimiter", "encoding-type", "location", "a b"]);
    assert!(Query::parse(None).unwrap().pairs.is_empty());
    let presigned = Query::parse(Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab&prefix=p")).unwrap();
    assert!(presigned.is_presigned());
    assert_eq!(presigned.recorded(), vec![("prefix".to_owned(), "p".to_owned())]);
}

#[test]
fn ranges() {
    use RangeRequest::{Part, Unsatisfiable, Whole};
    let cases: &[(Option<&str>, u64, RangeRequest)] = &[
        (None, 10, Whole),
        (Some("bytes=0-4"), 10, Part { first: 0, last: 4 }),
        (Some("bytes=2-2"), 10, Part { first: 2, last: 2 }),
        (Some("bytes=5-"), 10, Part { first: 5, last: 9 }),
        (Some("bytes=-3"), 10, Part { first: 7, last: 9 }),
        (Some("bytes=-30"), 10, Part { first: 0, last: 9 }),
        (Some("bytes=8-100"), 10, Part { first: 8, last: 9 }),
        (Some("bytes=9-9"), 10, Part { first: 9, last: 9 }),
        (Some("bytes=10-"), 10, Unsatisfiable),
        (Some("bytes=10-20"), 10, Unsatisfiable),
        (Some("bytes=-0"), 10, Unsatisfiable),
        (Some("bytes=0-"), 0, Unsatisfiable),
        (Some("bytes=-1"), 0, Unsatisfiable),
        // Ignored: malformed, reversed, several ranges, other units.
        (Some("bytes=5-2"), 10, Whole),
        (Some("bytes=a-b"), 10, Whole),
        (Some("bytes=-"), 10, Whole),
        (Some("bytes=0-1,3-4"), 10, Whole),
        (Some("items=0-1"), 10, Whole),
        (Some("bytes=+1-2"), 10, Whole),
    ];
    for (header, size, expected) in cases {
        assert_eq!(request::range(*header, *size), *expected, "{header:?} of {size}");
    }
}

#[test]
fn dates_and_encodings() {
    let t: jiff::Timestamp = "1994-11-06T08:49:37.123Z".parse().unwrap();
    assert_eq!(request::http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(request::iso_millis(t), "1994-11-06T08:49:37.123Z");
    assert_eq!(request::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap().as_second(), t.as_second());
    assert_eq!(request::parse_http_date("yesterday"), None);
    assert_eq!(request::url_encode("AWSLogs/1/a b+c%d_e-f.g*h~é"), "AWSLogs/1/a+b%2Bc%25d_e-f.g*h%7E%C3%A9");
}

#[test]
fn continuation_tokens_round_trip_and_bad_ones_are_refused() {
    for last in ["", "a/b", "é/日本 x%"] {
        assert_eq!(read_continuation_token(&continuation_token(last)).unwrap(), last);
    }
    for bad in ["", "zz", "1zz", "2616263", "1ff"] {
        let error = read_continuation_token(bad).unwrap_err();
        assert_eq!((error.code, error.status.as_u16()), ("InvalidArgument", 400), "{bad:?}");
    }
}

#[test]
fn entity_tags_match_quoted_weak_and_any() {
    let etag = "\"5d41402abc4b2a76b9719d911017c592\"";
    for tags in [
        "\"5d41402abc4b2a76b9719d911017c592\"",
        "5d41402abc4b2a76b9719d911017c592",
        "*",
        "\"x\", W/\"5d41402abc4b2a76b9719d911017c592\"",
    ] {
        assert!(etag_matches(tags, etag), "{tags}");
    }
    assert!(!etag_matches("\"x\"", etag));
}

#[test]
fn user_metadata_comes_from_x_amz_meta_headers() {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-amz-meta-signature", "abc".parse().unwrap());
    headers.insert("X-Amz-Meta-Signature-Algorithm", "SHA256withRSA".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.append("x-amz-meta-twice", "1".parse().unwrap());
    headers.append("x-amz-meta-twice", "2".parse().unwrap());
    let mut metadata = user_metadata(&headers).unwrap();
    metadata.sort();
    assert_eq!(
        metadata,
        vec![
            ("signature".to_owned(), "abc".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
            ("twice".to_owned(), "1,2".to_owned()),
        ]
    );
    let mut big = http::HeaderMap::new();
    big.insert("x-amz-meta-big", "x".repeat(2100).parse().unwrap());
    assert_eq!(user_metadata(&big).unwrap_err().code, "MetadataTooLarge");
}

#[test]
fn errors_render_as_s3_xml_with_their_extra_members() {
    let response = S3Error::no_such_key("a<b").into_response("req-1");
    assert_eq!(response.status(), 404);
    let body = futures_body(response);
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&lt;b</Key><RequestId>req-1</RequestId></Error>"
    );
}

fn futures_body(response: axum::response::Response) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}
