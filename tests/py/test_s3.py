"""The embedded S3 endpoint (path-style CreateBucket, HeadBucket, ListBuckets, DeleteBucket)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from helpers import aws_error, create_bucket, make_trail, unique


def test_bucket_lifecycle(s3):
    name = unique("cairn-life")
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    assert name in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    s3.delete_bucket(Bucket=name)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    else:
        raise AssertionError("HeadBucket on a deleted bucket succeeded")
    assert name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_create_existing_bucket(s3):
    name = create_bucket(s3)
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
    # Either way the bucket is still there.
    s3.head_bucket(Bucket=name)


def test_list_buckets_has_creation_date(s3):
    name = create_bucket(s3)
    entry = [b for b in s3.list_buckets()["Buckets"] if b["Name"] == name]
    assert len(entry) == 1 and "CreationDate" in entry[0]


def test_deleted_bucket_cannot_take_new_trails(ct, s3):
    name = create_bucket(s3)
    s3.delete_bucket(Bucket=name)
    with aws_error("S3BucketDoesNotExistException"):
        make_trail(ct(), name)
