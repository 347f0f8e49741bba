"""The embedded S3 endpoint's objects: PutObject, GetObject (ranges, conditions), HeadObject,
DeleteObject, ListObjects v1/v2, GetBucketLocation, path- and virtual-host-style addressing,
through boto3 and the AWS CLI (`AWS_ENDPOINT_URL_S3`, spec/formats.md §3.5–3.6); and how those
calls are recorded: object calls as data events (in the write-ahead log, never in LookupEvents),
bucket calls as management events.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from helpers import (
    ACCOUNT,
    HISTORY_CONFIG,
    HOME,
    ROOT,
    THIRD,
    aws_error,
    create_bucket,
    lookup_pages,
    make_client,
    record_of,
    send,
    sign_request,
    unique,
)

AWS = Path(sys.executable).parent / "aws"
# Keys whose byte order differs from most collations: '%' < '-' < '/' < '_' < 'é'.
ORDER_KEYS = ["a/b", "a-b", "a_b", "a%b", "é", "a b", "a+b", "a~b", "Z", "z"]


def md5_etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


def status_of(info) -> int:
    return info.response["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------
# Objects
# --------------------------------------------------------------------------


def test_put_get_head_delete(s3, bucket):
    body = b'{"Records":[]}'
    put = s3.put_object(Bucket=bucket, Key="AWSLogs/1/x.json", Body=body, ContentType="application/json")
    assert put["ETag"] == md5_etag(body)

    got = s3.get_object(Bucket=bucket, Key="AWSLogs/1/x.json")
    assert got["Body"].read() == body
    assert got["ETag"] == md5_etag(body)
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/json"
    assert got["AcceptRanges"] == "bytes"
    assert abs(got["LastModified"].timestamp() - time.time()) < 120
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-request-id"] == got["ResponseMetadata"]["RequestId"]
    assert headers["last-modified"].endswith(" GMT")

    head = s3.head_object(Bucket=bucket, Key="AWSLogs/1/x.json")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == md5_etag(body)
    assert head["LastModified"] == got["LastModified"]

    deleted = s3.delete_object(Bucket=bucket, Key="AWSLogs/1/x.json")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with aws_error("NoSuchKey", status=404) as info:
        s3.get_object(Bucket=bucket, Key="AWSLogs/1/x.json")
    assert info.response["Error"]["Key"] == "AWSLogs/1/x.json"
    with aws_error("404", status=404):
        s3.head_object(Bucket=bucket, Key="AWSLogs/1/x.json")
    # Deleting a missing key is not an error.
    assert s3.delete_object(Bucket=bucket, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_default_content_type_overwrite_and_empty_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"a": "1"})
    assert s3.get_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"
    s3.put_object(Bucket=bucket, Key="k", Body=b"second, longer")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second, longer"
    assert got["Metadata"] == {}
    assert got["ETag"] == md5_etag(b"second, longer")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ETag"] == md5_etag(b"")
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0


def test_keys_with_any_characters_round_trip(s3, bucket):
    keys = ["a b", "a+b", "a%b", "é/日本/ü", "x?y", "x#y", "a&b=c;d", "~tilde", "/leading", "a//b", "trailing/",
            "*star*", "quote'\"", "<tag>"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode(), key
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    listed = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())


def test_ranges(s3, bucket):
    body = bytes(range(10))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = {
        "bytes=0-4": (body[0:5], "bytes 0-4/10"),
        "bytes=5-": (body[5:], "bytes 5-9/10"),
        "bytes=-3": (body[7:], "bytes 7-9/10"),
        "bytes=8-100": (body[8:], "bytes 8-9/10"),
        "bytes=3-3": (body[3:4], "bytes 3-3/10"),
    }
    for header, (part, content_range) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, header
        assert got["Body"].read() == part, header
        assert got["ContentRange"] == content_range, header
        assert got["ContentLength"] == len(part), header
    for header in ("bytes=10-", "bytes=10-20", "bytes=-0"):
        with aws_error("InvalidRange", status=416) as info:
            s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert info.response["Error"]["ActualObjectSize"] == "10"
    # A range S3 ignores: the whole object.
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=0-1,4-5")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["Body"].read() == body
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with aws_error("InvalidRange", status=416):
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-")


def test_larger_object_and_its_tail(s3, bucket):
    # Larger than an API request may be (2 MB), as large as the AWS CLI sends in one PUT (8 MB).
    body = os.urandom(7_900_000)
    assert s3.put_object(Bucket=bucket, Key="big.bin", Body=body)["ETag"] == md5_etag(body)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="big.bin", Range="bytes=-100")["Body"].read() == body[-100:]
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == len(body)


def test_user_metadata_comes_back_lower_case(s3, bucket):
    """`aws cloudtrail validate-logs` reads `signature` and `signature-algorithm` (formats.md §3.2)."""
    s3.put_object(
        Bucket=bucket, Key="digest.json.gz", Body=b"x",
        Metadata={"Signature": "0a1b2c", "Signature-Algorithm": "SHA256withRSA"},
    )
    got = s3.get_object(Bucket=bucket, Key="digest.json.gz")
    assert got["Metadata"] == {"signature": "0a1b2c", "signature-algorithm": "SHA256withRSA"}
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-meta-signature"] == "0a1b2c"
    assert s3.head_object(Bucket=bucket, Key="digest.json.gz")["Metadata"] == got["Metadata"]
    # Header names on the wire are lower-case (botocore keeps their case in Metadata).
    raw = send(sign_request(_endpoint(s3), None, b"", service="s3", method="GET", path=f"/{bucket}/digest.json.gz"))
    assert raw.status == 200
    assert "x-amz-meta-signature" in raw.headers and "x-amz-meta-signature-algorithm" in raw.headers
    with aws_error("MetadataTooLarge"):
        s3.put_object(Bucket=bucket, Key="m", Body=b"", Metadata={"big": "x" * 3000})


def test_conditional_gets(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=put["ETag"])["Body"].read() == b"cond"
    with aws_error("PreconditionFailed", status=412):
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    with aws_error("304", status=304):
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=put["ETag"])
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0000"')["Body"].read() == b"cond"


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"o")
    got = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="text/plain",
                        ResponseContentDisposition="attachment; filename=o.txt")
    assert got["ContentType"] == "text/plain"
    assert got["ContentDisposition"] == "attachment; filename=o.txt"


# --------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------


def test_list_objects_v1_byte_order_marker_delimiter_and_url_encoding(s3, bucket):
    for key in ORDER_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    in_byte_order = sorted(ORDER_KEYS, key=lambda k: k.encode())
    # botocore adds EncodingType=url itself and decodes the answer.
    resp = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in resp["Contents"]] == in_byte_order
    assert resp["IsTruncated"] is False and resp["MaxKeys"] == 1000
    first = resp["Contents"][0]
    assert first["Size"] == 0 and first["ETag"] == md5_etag(b"") and first["StorageClass"] == "STANDARD"
    assert first["Owner"]["ID"] == ACCOUNT

    # Asked for explicitly, the encoding is left for the caller to undo: keys come as S3 writes them.
    resp = s3.list_objects(Bucket=bucket, EncodingType="url", Prefix="a", Marker="a b")
    assert resp["EncodingType"] == "url"
    raw_keys = [o["Key"] for o in resp["Contents"]]
    assert raw_keys == ["a%25b", "a%2Bb", "a-b", "a/b", "a_b", "a%7Eb"]
    assert [urllib.parse.unquote_plus(k) for k in raw_keys] == [k for k in in_byte_order if k.startswith("a") and k > "a b"]
    assert resp["Marker"] == "a+b"  # "a b", encoded

    # Marker is exclusive.
    resp = s3.list_objects(Bucket=bucket, Marker="a-b")
    assert [o["Key"] for o in resp["Contents"]] == [k for k in in_byte_order if k.encode() > b"a-b"]

    # Delimiter: common prefixes, NextMarker when truncated.
    resp = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == ["Z", "a b", "a%b"]
    assert resp["IsTruncated"] is True and resp["NextMarker"] == "a%b"
    resp = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="a-b")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/"]
    assert [o["Key"] for o in resp["Contents"]] == ["a_b", "a~b", "z", "é"]


def test_list_objects_v1_digest_style_query(s3, bucket):
    """What validate-logs sends: Prefix, a Marker that is not a key, EncodingType=url (formats.md §3.5)."""
    base = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2025/01/15/{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_"
    stamps = ["20250115T090131Z", "20250115T100131Z", "20250115T110131Z"]
    for stamp in stamps:
        s3.put_object(Bucket=bucket, Key=f"{base}{stamp}.json.gz", Body=b"d")
    s3.put_object(Bucket=bucket, Key=f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2025/01/15/log.json.gz", Body=b"l")
    pages = s3.get_paginator("list_objects").paginate(
        Bucket=bucket, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1", Marker=f"{base}20250115T085900Z.json.gz",
    )
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert keys == [f"{base}{stamp}.json.gz" for stamp in stamps]


def test_paginators_v1_and_v2(s3, bucket):
    keys = sorted({f"p/{i % 3}/{i:03d}" for i in range(23)} | {f"top{i}" for i in range(4)}, key=str.encode)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    for paginator in ("list_objects", "list_objects_v2"):
        pages = list(s3.get_paginator(paginator).paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}))
        got = [o["Key"] for page in pages for o in page.get("Contents", [])]
        assert got == keys, paginator
        assert len(pages) == 7, paginator
        # With a delimiter, common prefixes count towards a page and are not repeated.
        pages = list(s3.get_paginator(paginator).paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}))
        prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        tops = [o["Key"] for page in pages for o in page.get("Contents", [])]
        assert prefixes == ["p/"] and tops == [f"top{i}" for i in range(4)], paginator
        pages = list(s3.get_paginator(paginator).paginate(Bucket=bucket, Prefix="p/", Delimiter="/", PaginationConfig={"PageSize": 1}))
        assert [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])] == ["p/0/", "p/1/", "p/2/"]


def test_list_objects_v2_members(s3, bucket):
    for key in ("a", "b", "c/d", "c/e"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"xy")
    resp = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert resp["KeyCount"] == 2 and resp["IsTruncated"] is True and resp["MaxKeys"] == 2
    assert "Owner" not in resp["Contents"][0]
    token = resp["NextContinuationToken"]
    resp = s3.list_objects_v2(Bucket=bucket, ContinuationToken=token, FetchOwner=True)
    assert resp["ContinuationToken"] == token
    assert [o["Key"] for o in resp["Contents"]] == ["c/d", "c/e"]
    assert resp["Contents"][0]["Owner"]["ID"] == ACCOUNT and resp["Contents"][0]["Size"] == 2
    assert resp["KeyCount"] == 2 and resp["IsTruncated"] is False and "NextContinuationToken" not in resp
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="b", Delimiter="/")
    assert resp["StartAfter"] == "b" and resp["KeyCount"] == 1
    assert resp["CommonPrefixes"] == [{"Prefix": "c/"}] and "Contents" not in resp
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="nothing")
    assert resp["KeyCount"] == 0 and "Contents" not in resp
    with aws_error("InvalidArgument"):
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="not-a-token")
    raw = send(sign_request(_endpoint(s3), None, b"", service="s3", method="GET", path=f"/{bucket}?list-type=2&max-keys=-1"))
    assert raw.status == 400 and b"<Code>InvalidArgument</Code>" in raw.body
    raw = send(sign_request(_endpoint(s3), None, b"", service="s3", method="GET", path=f"/{bucket}?encoding-type=base64"))
    assert raw.status == 400 and b"<Code>InvalidArgument</Code>" in raw.body


# --------------------------------------------------------------------------
# Buckets
# --------------------------------------------------------------------------


def test_get_bucket_location(server, s3, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    eu = server.s3(THIRD)
    name = unique("cairn-eu")
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": THIRD})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == THIRD
    with aws_error("NoSuchBucket", status=404):
        s3.get_bucket_location(Bucket=unique("missing"))


def test_error_codes(s3, bucket):
    missing = unique("missing")
    with aws_error("NoSuchBucket", status=404) as info:
        s3.put_object(Bucket=missing, Key="k", Body=b"x")
    assert info.response["Error"]["BucketName"] == missing
    with aws_error("NoSuchBucket", status=404):
        s3.get_object(Bucket=missing, Key="k")
    with aws_error("NoSuchBucket", status=404):
        s3.list_objects(Bucket=missing)
    with aws_error("NoSuchBucket", status=404):
        s3.list_objects_v2(Bucket=missing)
    with aws_error("NoSuchBucket", status=404):
        s3.delete_object(Bucket=missing, Key="k")
    with aws_error("KeyTooLongError"):
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    with aws_error("NotImplemented", status=501):
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    with aws_error("NotImplemented", status=501):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_delete_bucket_refuses_a_bucket_with_objects(s3):
    name = create_bucket(s3)
    s3.put_object(Bucket=name, Key="a/b", Body=b"x")
    with aws_error("BucketNotEmpty", status=409):
        s3.delete_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    s3.delete_object(Bucket=name, Key="a/b")
    s3.delete_bucket(Bucket=name)
    with aws_error("NoSuchBucket", status=404):
        s3.list_objects_v2(Bucket=name)
    # Re-created, it starts empty.
    s3.create_bucket(Bucket=name)
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    s3.delete_bucket(Bucket=name)


def test_another_accounts_bucket_is_off_limits(server, s3, bucket):
    from helpers import LONER

    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    other = server.s3(creds=LONER)
    for call in (
        lambda: other.get_object(Bucket=bucket, Key="k"),
        lambda: other.put_object(Bucket=bucket, Key="k", Body=b"y"),
        lambda: other.list_objects(Bucket=bucket),
        lambda: other.delete_object(Bucket=bucket, Key="k"),
    ):
        with aws_error("AccessDenied", status=403):
            call()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# --------------------------------------------------------------------------
# Virtual-host style
# --------------------------------------------------------------------------


@pytest.fixture
def localhost_subdomains(monkeypatch):
    """`<bucket>.localhost` resolves to 127.0.0.1 in this process, as RFC 6761 says it should."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_virtual_host_style(server, s3, bucket, localhost_subdomains):
    port = server.addr.rsplit(":", 1)[1]
    session = boto3.session.Session(aws_access_key_id=ROOT.access_key, aws_secret_access_key=ROOT.secret_key, region_name=HOME)
    vh = session.client("s3", endpoint_url=f"http://localhost:{port}",
                        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    urls = []
    vh.meta.events.register("before-send", lambda request, **_: urls.append(request.url))
    vh.put_object(Bucket=bucket, Key="dir/a b.txt", Body=b"virtual", Metadata={"Signature": "s"})
    assert urls[-1] == f"http://{bucket}.localhost:{port}/dir/a%20b.txt"
    got = vh.get_object(Bucket=bucket, Key="dir/a b.txt")
    assert got["Body"].read() == b"virtual" and got["Metadata"] == {"signature": "s"}
    assert [o["Key"] for o in vh.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/a b.txt"]
    assert [o["Key"] for o in vh.list_objects(Bucket=bucket, Prefix="dir/")["Contents"]] == ["dir/a b.txt"]
    assert vh.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    # The same object through path style.
    assert s3.get_object(Bucket=bucket, Key="dir/a b.txt")["Body"].read() == b"virtual"
    vh.delete_object(Bucket=bucket, Key="dir/a b.txt")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with aws_error("NoSuchBucket", status=404):
        vh.get_object(Bucket=unique("missing"), Key="k")
    # botocore sends GetBucketLocation path style whatever the addressing style; both are served.
    assert f"http://localhost:{port}/{bucket}?location" in urls
    others = [url for url in urls if not url.endswith("?location")]
    assert all(f"{bucket}.localhost" in url or ".localhost" in url and "missing" in url for url in others), urls


# --------------------------------------------------------------------------
# The AWS CLI
# --------------------------------------------------------------------------


@pytest.fixture
def aws_s3(server, tmp_path):
    """Runs `aws …` with S3 pointed at cairn through AWS_ENDPOINT_URL_S3 (no --endpoint-url)."""
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\noutput = json\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ROOT.access_key,
        AWS_SECRET_ACCESS_KEY=ROOT.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_ENDPOINT_URL_S3=server.endpoint,
    )

    def run(*args, check=True):
        p = subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        if check:
            assert p.returncode == 0, f"aws {' '.join(args)} failed ({p.returncode}):\n{p.stderr}\n{p.stdout}"
        return p

    return run


def test_aws_cli_cp_ls_rm(aws_s3, s3, bucket, tmp_path):
    src = tmp_path / "report.json"
    src.write_bytes(b'{"Records": [1, 2, 3]}\n')
    odd = tmp_path / "odd name é.txt"
    odd.write_bytes(b"odd")
    aws_s3("s3", "cp", str(src), f"s3://{bucket}/AWSLogs/{ACCOUNT}/report.json")
    aws_s3("s3", "cp", str(odd), f"s3://{bucket}/AWSLogs/{ACCOUNT}/odd name é.txt")
    aws_s3("s3", "cp", str(src), f"s3://{bucket}/top.json")

    listing = aws_s3("s3", "ls", f"s3://{bucket}/", "--recursive").stdout
    lines = [line.split(None, 3) for line in listing.splitlines() if line.strip()]
    assert [parts[3] for parts in lines] == [f"AWSLogs/{ACCOUNT}/odd name é.txt", f"AWSLogs/{ACCOUNT}/report.json", "top.json"]
    assert [int(parts[2]) for parts in lines] == [3, src.stat().st_size, src.stat().st_size]
    shallow = aws_s3("s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE AWSLogs/" in shallow and "top.json" in shallow

    dst = tmp_path / "downloaded.json"
    aws_s3("s3", "cp", f"s3://{bucket}/AWSLogs/{ACCOUNT}/report.json", str(dst))
    assert dst.read_bytes() == src.read_bytes()
    dst2 = tmp_path / "downloaded.txt"
    aws_s3("s3", "cp", f"s3://{bucket}/AWSLogs/{ACCOUNT}/odd name é.txt", str(dst2))
    assert dst2.read_bytes() == b"odd"

    aws_s3("s3", "rm", f"s3://{bucket}/top.json")
    aws_s3("s3", "rm", f"s3://{bucket}/AWSLogs/", "--recursive")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    missing = aws_s3("s3", "cp", f"s3://{bucket}/gone.json", str(tmp_path / "gone"), check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    # s3api spells the same calls out.
    aws_s3("s3api", "put-object", "--bucket", bucket, "--key", "d.json.gz", "--body", str(src),
           "--metadata", "signature=ab,signature-algorithm=SHA256withRSA")
    head = json.loads(aws_s3("s3api", "head-object", "--bucket", bucket, "--key", "d.json.gz").stdout)
    assert head["Metadata"] == {"signature": "ab", "signature-algorithm": "SHA256withRSA"}
    location = json.loads(aws_s3("s3api", "get-bucket-location", "--bucket", bucket).stdout)
    assert location.get("LocationConstraint") is None


# --------------------------------------------------------------------------
# Durability
# --------------------------------------------------------------------------


def test_objects_survive_kill_9(new_server):
    srv = new_server(config=HISTORY_CONFIG)
    s3 = srv.s3()
    name = create_bucket(s3)
    bodies = {f"k{i}": os.urandom(1000 + i) for i in range(20)}
    for key, body in bodies.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    s3.delete_object(Bucket=name, Key="k0")
    s3.put_object(Bucket=name, Key="k1", Body=b"replaced")
    srv.restart(graceful=False)
    s3 = make_client("s3", srv.endpoint, HOME, ROOT)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == sorted(set(bodies) - {"k0"})
    assert s3.get_object(Bucket=name, Key="k1")["Body"].read() == b"replaced"
    for key in sorted(set(bodies) - {"k0", "k1"}):
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == bodies[key]
    with aws_error("BucketNotEmpty", status=409):
        s3.delete_bucket(Bucket=name)


# --------------------------------------------------------------------------
# Recording: data events for objects, management events for buckets
# --------------------------------------------------------------------------


def wal_records(srv) -> list[dict]:
    """Every event record in the server's write-ahead log (records are JSON text inside frames)."""
    records = []
    decoder = json.JSONDecoder()
    for path in sorted((srv.data_dir / "wal").iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        at = data.find(b'{"eventVersion"')
        while at != -1:
            try:
                text = data[at:].decode("utf-8", errors="ignore")
                record, _ = decoder.raw_decode(text)
                records.append(record)
            except ValueError:
                pass
            at = data.find(b'{"eventVersion"', at + 1)
    return records


def test_object_calls_are_data_events_and_stay_out_of_lookup_events(new_server):
    srv = new_server(config=HISTORY_CONFIG)
    s3 = srv.s3()
    ct = srv.ct()
    host = srv.addr
    name = unique("cairn-data")
    s3.create_bucket(Bucket=name)
    calls = {}

    def rid(resp):
        return resp["ResponseMetadata"]["RequestId"]

    calls["PutObject"] = rid(s3.put_object(Bucket=name, Key="AWSLogs/a b.json", Body=b"12345"))
    calls["GetObject"] = rid(s3.get_object(Bucket=name, Key="AWSLogs/a b.json"))
    calls["HeadObject"] = rid(s3.head_object(Bucket=name, Key="AWSLogs/a b.json"))
    calls["ListObjects"] = rid(s3.list_objects_v2(Bucket=name, Prefix="AWSLogs/"))
    calls["ListObjectsV1"] = rid(s3.list_objects(Bucket=name, Prefix="AWSLogs/", Marker="A"))
    with aws_error("NoSuchKey", status=404) as info:
        s3.get_object(Bucket=name, Key="missing")
    calls["GetObjectMissing"] = info.response["ResponseMetadata"]["RequestId"]
    calls["DeleteObject"] = rid(s3.delete_object(Bucket=name, Key="AWSLogs/a b.json"))
    calls["GetBucketLocation"] = rid(s3.get_bucket_location(Bucket=name))

    by_request = {r.get("requestID"): r for r in wal_records(srv)}
    for label, request_id in calls.items():
        assert request_id in by_request, f"{label}: no event for request {request_id}"
    object_arn = f"arn:aws:s3:::{name}/AWSLogs/a b.json"
    bucket_resource = {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{name}"}
    for label, event_name, read_only in [
        ("PutObject", "PutObject", False),
        ("GetObject", "GetObject", True),
        ("HeadObject", "HeadObject", True),
        ("DeleteObject", "DeleteObject", False),
    ]:
        rec = by_request[calls[label]]
        assert rec["eventName"] == event_name and rec["eventSource"] == "s3.amazonaws.com"
        assert rec["eventCategory"] == "Data" and rec["managementEvent"] is False
        assert rec["readOnly"] is read_only
        assert rec["requestParameters"] == {"bucketName": name, "Host": host, "key": "AWSLogs/a b.json"}
        assert rec["responseElements"] is None
        assert rec["resources"] == [{"type": "AWS::S3::Object", "ARN": object_arn}, bucket_resource]
        extra = rec["additionalEventData"]
        assert extra["SignatureVersion"] == "SigV4" and extra["AuthenticationMethod"] == "AuthHeader"
        assert rec["eventType"] == "AwsApiCall" and rec["recipientAccountId"] == ACCOUNT
        assert "errorCode" not in rec
    assert by_request[calls["PutObject"]]["additionalEventData"]["bytesTransferredIn"] == 5
    assert by_request[calls["GetObject"]]["additionalEventData"]["bytesTransferredOut"] == 5
    # Listings: one event name for both versions, the prefix as an ARNPrefix resource.
    for label in ("ListObjects", "ListObjectsV1"):
        rec = by_request[calls[label]]
        assert rec["eventName"] == "ListObjects" and rec["eventCategory"] == "Data" and rec["managementEvent"] is False
        assert rec["readOnly"] is True
        assert rec["resources"] == [{"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{name}/AWSLogs/"}, bucket_resource]
        params = rec["requestParameters"]
        assert params["bucketName"] == name and params["Host"] == host and params["prefix"] == "AWSLogs/"
        assert params["encoding-type"] == "url"
    assert by_request[calls["ListObjects"]]["requestParameters"]["list-type"] == "2"
    assert by_request[calls["ListObjectsV1"]]["requestParameters"]["marker"] == "A"
    failed = by_request[calls["GetObjectMissing"]]
    assert failed["eventCategory"] == "Data" and failed["errorCode"] == "NoSuchKey"
    assert failed["errorMessage"] == "The specified key does not exist."
    location = by_request[calls["GetBucketLocation"]]
    assert location["eventCategory"] == "Management" and location["managementEvent"] is True
    assert location["readOnly"] is True
    assert location["requestParameters"] == {"bucketName": name, "Host": host, "location": ""}
    assert location["resources"] == [bucket_resource]

    s3.delete_bucket(Bucket=name)
    # LookupEvents shows the bucket's management events and none of its data events.
    wanted = {"CreateBucket", "GetBucketLocation", "DeleteBucket"}
    deadline = time.monotonic() + 5
    while True:
        events, _ = lookup_pages(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:s3:::{name}"}])
        names = {e["EventName"] for e in events}
        if wanted <= names or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert names == wanted, names
    assert all(record_of(e)["eventCategory"] == "Management" for e in events)
    for event_name in ("PutObject", "GetObject", "HeadObject", "DeleteObject", "ListObjects"):
        events, _ = lookup_pages(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}])
        assert events == [], event_name


def test_virtual_host_data_events_record_the_host(new_server, localhost_subdomains):
    srv = new_server(config=HISTORY_CONFIG)
    port = srv.addr.rsplit(":", 1)[1]
    name = create_bucket(srv.s3())
    session = boto3.session.Session(aws_access_key_id=ROOT.access_key, aws_secret_access_key=ROOT.secret_key, region_name=HOME)
    vh = session.client("s3", endpoint_url=f"http://localhost:{port}", config=Config(s3={"addressing_style": "virtual"}))
    request_id = vh.put_object(Bucket=name, Key="k", Body=b"x")["ResponseMetadata"]["RequestId"]
    rec = next(r for r in wal_records(srv) if r.get("requestID") == request_id)
    assert rec["requestParameters"] == {"bucketName": name, "Host": f"{name}.localhost:{port}", "key": "k"}
    assert rec["resources"][0] == {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{name}/k"}


def _endpoint(client) -> str:
    return client.meta.endpoint_url
