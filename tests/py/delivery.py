"""Helpers for the trail delivery tests: waiting for objects, reading delivered log files and
digests, running the real `aws cloudtrail validate-logs`, and an HTTP sink for SNS notifications.

Imported by test_delivery.py and test_delivery_faults.py.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

from helpers import ACCOUNT, ROOT, Creds

AWS = Path(sys.executable).parent / "aws"

# Fast schedules so that a test sees files within seconds.
FAST_ARGS = ["--delivery-interval", "1s", "--digest-interval", "4s"]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.25, what: str = "condition"):
    """Polls `predicate` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def list_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def log_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    return [k for k in list_keys(s3, bucket, prefix) if "/CloudTrail/" in k]


def digest_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    return [k for k in list_keys(s3, bucket, prefix) if "/CloudTrail-Digest/" in k]


def single_member_gunzip(data: bytes) -> bytes:
    """Inflates `data`, asserting it is exactly one gzip member (as validate-logs requires)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = inflater.decompress(data) + inflater.flush()
    assert inflater.eof, "gzip stream is truncated"
    assert inflater.unused_data == b"", "data after the end of the gzip member"
    return out


def read_object(s3, bucket: str, key: str) -> tuple[bytes, dict]:
    obj = s3.get_object(Bucket=bucket, Key=key)
    return obj["Body"].read(), obj.get("Metadata", {})


def log_file_records(s3, bucket: str, key: str) -> tuple[bytes, list[dict]]:
    raw, _ = read_object(s3, bucket, key)
    text = single_member_gunzip(raw)
    return text, json.loads(text)["Records"]


def delivered_records(s3, bucket: str, prefix: str = "") -> list[tuple[str, dict]]:
    """Every record in every delivered log file, as (key, record)."""
    out = []
    for key in log_keys(s3, bucket, prefix):
        _, records = log_file_records(s3, bucket, key)
        out.extend((key, r) for r in records)
    return out


def digests(s3, bucket: str, prefix: str = "") -> list[tuple[str, dict, dict]]:
    """Every digest as (key, inflated JSON, metadata), oldest first."""
    out = []
    for key in sorted(digest_keys(s3, bucket, prefix)):
        raw, metadata = read_object(s3, bucket, key)
        out.append((key, json.loads(gzip.decompress(raw)), metadata))
    return out


def validate_logs(
    cloudtrail_endpoint: str,
    s3_endpoint: str,
    trail_arn: str,
    start: str,
    region: str = "us-east-1",
    creds: Creds = ROOT,
    extra: tuple[str, ...] = (),
    organizations_endpoint: str | None = None,
) -> subprocess.CompletedProcess:
    """Runs the real `aws cloudtrail validate-logs`, with CloudTrail and S3 (and Organizations, for
    organization trails) at the given endpoints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_ENDPOINT_URL_CLOUDTRAIL=cloudtrail_endpoint,
        AWS_ENDPOINT_URL_S3=s3_endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    if organizations_endpoint:
        env["AWS_ENDPOINT_URL_ORGANIZATIONS"] = organizations_endpoint
    command = [
        str(AWS),
        "cloudtrail",
        "validate-logs",
        "--trail-arn",
        trail_arn,
        "--start-time",
        start,
        "--region",
        region,
        "--verbose",
        *extra,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class NotificationSink:
    """An HTTP endpoint on 127.0.0.1 that keeps every POST (an SNS topic's subscriber)."""

    def __init__(self):
        self.messages: list[dict] = []
        self.headers: list[dict] = []
        self.fail = False
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if sink.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                sink.headers.append({k.lower(): v for k, v in self.headers.items()})
                sink.messages.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def topic_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sns:us-east-1:{account}:{name}"
