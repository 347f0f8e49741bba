"""Shared helpers for the cairn integration tests: the server process, clients,
raw SigV4-signed requests and error assertions.

Imported by conftest.py and by the test modules (`from helpers import ...`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import http.client
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
CAIRN_BIN = os.environ.get("CAIRN_BIN") or str(REPO / "target" / "debug" / "cairn")

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
JSON_CT = "application/x-amz-json-1.1"

# Regions the suite uses; the cleanup fixture sweeps all of them.
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
HOME = "us-east-1"
OTHER = "us-west-2"
THIRD = "eu-west-1"


@dataclass(frozen=True)
class Creds:
    access_key: str
    secret_key: str
    account: str
    label: str = ""


# The default account (set through CAIRN_ACCOUNT_ID & co.) and its root user.
ACCOUNT = "111111111111"
ROOT = Creds("AKIAROOT111EXAMPLE01", "root-secret-key-111111111111", ACCOUNT, "root")
# IAM user alice in the default account (config [[identities]]).
ALICE = Creds("AKIAALICEEXAMPLE0001", "alice-secret-key", ACCOUNT, "alice")
# Root of a member account of the organization.
MEMBER_ACCOUNT = "222222222222"
MEMBER = Creds("AKIAMEMBER22EXAMPLE1", "member-secret-key-222222222222", MEMBER_ACCOUNT, "member")
# Root of an account that belongs to no organization.
LONER_ACCOUNT = "333333333333"
LONER = Creds("AKIALONER333EXAMPLE1", "loner-secret-key-333333333333", LONER_ACCOUNT, "loner")
ALL_CREDS = (ROOT, MEMBER, LONER)

ORG_ID = "o-a1b2c3d4e5"
TOPIC_NAME = "trail-topic"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC_NAME}"
FIFO_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:t.fifo"
EXTERNAL_BUCKET = "ext-logs"
KMS_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/12345678-1234-1234-1234-123456789012"
CWL_GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:CloudTrail/cairn-tests:*"
CWL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role"

# The member account, an account outside the organization, and the organization itself.
ORGANIZATION_CONFIG = f"""
[[identities]]
type = "Root"
account_id = "{MEMBER_ACCOUNT}"
arn = "arn:aws:iam::{MEMBER_ACCOUNT}:root"
principal_id = "{MEMBER_ACCOUNT}"
access_key_id = "{MEMBER.access_key}"
secret_access_key = "{MEMBER.secret_key}"

[[identities]]
type = "Root"
account_id = "{LONER_ACCOUNT}"
arn = "arn:aws:iam::{LONER_ACCOUNT}:root"
principal_id = "{LONER_ACCOUNT}"
access_key_id = "{LONER.access_key}"
secret_access_key = "{LONER.secret_key}"

[organization]
id = "{ORG_ID}"
management_account_id = "{ACCOUNT}"
member_account_ids = ["{MEMBER_ACCOUNT}"]
"""

SESSION_CONFIG = f"""
[[identities]]
type = "IAMUser"
account_id = "{ACCOUNT}"
arn = "arn:aws:iam::{ACCOUNT}:user/alice"
principal_id = "AIDAEXAMPLEALICE01"
user_name = "alice"
access_key_id = "{ALICE.access_key}"
secret_access_key = "{ALICE.secret_key}"
{ORGANIZATION_CONFIG}
[[sns_topics]]
arn = "{TOPIC_ARN}"
endpoint = "http://127.0.0.1:9/"

[[sns_topics]]
arn = "{FIFO_TOPIC_ARN}"
endpoint = "http://127.0.0.1:9/"

[[s3_buckets]]
name = "{EXTERNAL_BUCKET}"
endpoint = "http://127.0.0.1:9/"
region = "us-east-1"
path_style = true
"""

ROOT_ENV = {
    "CAIRN_ACCOUNT_ID": ACCOUNT,
    "CAIRN_ROOT_ACCESS_KEY_ID": ROOT.access_key,
    "CAIRN_ROOT_SECRET_ACCESS_KEY": ROOT.secret_key,
}

# The six deprecated string members of GetTrailStatus.
DEPRECATED_STATUS_FIELDS = (
    "LatestDeliveryAttemptTime",
    "LatestNotificationAttemptTime",
    "LatestNotificationAttemptSucceeded",
    "LatestDeliveryAttemptSucceeded",
    "TimeLoggingStarted",
    "TimeLoggingStopped",
)

# Optional string members of a trail that must be omitted when unset.
OPTIONAL_TRAIL_STRINGS = (
    "S3KeyPrefix",
    "SnsTopicName",
    "SnsTopicARN",
    "KmsKeyId",
    "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn",
)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def trail_arn(name: str, region: str = HOME, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------


def _clean_env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "AWS_"))}
    env.setdefault("RUST_BACKTRACE", "1")
    if extra:
        env.update(extra)
    return env


def http_get(addr: str, path: str, timeout: float = 2.0):
    """GET http://addr/path → (status, headers, body). Never raises on HTTP errors."""
    try:
        with urllib.request.urlopen(f"http://{addr}{path}", timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class CairnServer:
    """One cairn process on a data directory; restartable on the same directory."""

    def __init__(
        self,
        workdir: Path,
        config: str | None = None,
        env: dict | None = None,
        args: list[str] | None = None,
        region: str | None = "us-east-1",
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.address_file = self.workdir / "address"
        self.console_address_file = self.workdir / "console-address"
        self.config_file = None
        if config is not None:
            self.config_file = self.workdir / "cairn.toml"
            self.config_file.write_text(config)
        self.env = dict(env or {})
        self.args = list(args or [])
        self.region = region
        self.proc: subprocess.Popen | None = None
        self.addr: str | None = None
        self.starts = 0
        self.stdout_path: Path | None = None
        self.stderr_path: Path | None = None
        self.ready_seconds: float | None = None

    # -- lifecycle ---------------------------------------------------------

    def command(self) -> list[str]:
        cmd = [
            CAIRN_BIN,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(self.data_dir),
            "--address-file",
            str(self.address_file),
            "--console-listen",
            "127.0.0.1:0",
            "--console-address-file",
            str(self.console_address_file),
        ]
        if self.config_file is not None:
            cmd += ["--config", str(self.config_file)]
        if self.region:
            cmd += ["--region", self.region]
        return cmd + self.args

    def start(self, timeout: float = 10.0) -> "CairnServer":
        if not Path(CAIRN_BIN).is_file():
            raise RuntimeError(f"cairn binary not found at {CAIRN_BIN} (set CAIRN_BIN or run cargo build)")
        if self.address_file.exists():
            self.address_file.unlink()
        self.starts += 1
        self.stdout_path = self.workdir / f"stdout.{self.starts}.log"
        self.stderr_path = self.workdir / f"stderr.{self.starts}.log"
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=_clean_env(self.env),
                start_new_session=True,
            )
        finally:
            out.close()
            err.close()
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"cairn exited with {self.proc.returncode} during startup\n"
                    f"cmd: {self.command()}\nstdout: {self.stdout()}\nstderr: {self.stderr()[-4000:]}"
                )
            if time.monotonic() > deadline:
                self.kill9()
                raise RuntimeError(
                    f"cairn not healthy within {timeout}s\nstdout: {self.stdout()}\nstderr: {self.stderr()[-4000:]}"
                )
            addr = self._read_address()
            if addr:
                try:
                    status, _, _ = http_get(addr, "/health", timeout=1.0)
                except (OSError, http.client.HTTPException):
                    status = None
                if status == 200:
                    self.addr = addr
                    self.ready_seconds = time.monotonic() - t0
                    return self
            time.sleep(0.005)

    def _read_address(self) -> str | None:
        try:
            text = self.address_file.read_text().strip()
        except FileNotFoundError:
            return None
        if not text or ":" not in text:
            return None
        return text.replace("http://", "").rstrip("/")

    def stop(self, timeout: float = 10.0) -> int | None:
        """Graceful stop (SIGTERM); falls back to SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise RuntimeError(f"cairn did not exit within {timeout}s of SIGTERM")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self, graceful: bool = True) -> "CairnServer":
        if graceful:
            self.stop()
        else:
            self.kill9()
        return self.start()

    def close(self) -> None:
        """Always leaves no process behind."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop(timeout=5)
            except RuntimeError:
                pass
        self.kill9()

    def __enter__(self) -> "CairnServer":
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- accessors -----------------------------------------------------------

    @property
    def console(self) -> str:
        """The web console's base URL (its address is written before the API's)."""
        return "http://" + self.console_address_file.read_text().strip()

    @property
    def endpoint(self) -> str:
        assert self.addr, "server not started"
        return f"http://{self.addr}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path and self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path and self.stderr_path.exists() else ""

    # -- clients ---------------------------------------------------------------

    def client(self, service: str = "cloudtrail", region: str = HOME, creds: Creds = ROOT):
        return make_client(service, self.endpoint, region, creds)

    def ct(self, region: str = HOME, creds: Creds = ROOT):
        return self.client("cloudtrail", region, creds)

    def s3(self, region: str = HOME, creds: Creds = ROOT):
        return self.client("s3", region, creds)


_CLIENTS: dict = {}


def make_client(service: str, endpoint: str, region: str, creds: Creds):
    key = (service, endpoint, region, creds.access_key, creds.secret_key)
    c = _CLIENTS.get(key)
    if c is None:
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            region_name=region,
        )
        kw = dict(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        if service == "s3":
            kw["s3"] = {"addressing_style": "path"}
        c = session.client(service, endpoint_url=endpoint, config=Config(**kw))
        _CLIENTS[key] = c
    return c


# --------------------------------------------------------------------------
# Raw SigV4-signed requests
# --------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def error_code(self) -> str | None:
        try:
            t = self.json().get("__type")
        except (ValueError, AttributeError):
            return None
        if t is None:
            return None
        return t.split("#")[-1]

    @property
    def error_message(self) -> str | None:
        try:
            d = self.json()
        except ValueError:
            return None
        return d.get("Message", d.get("message"))

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


def sign_request(
    endpoint: str,
    op: str | None,
    body: bytes | str | dict | None,
    creds: Creds = ROOT,
    region: str = HOME,
    service: str = "cloudtrail",
    method: str = "POST",
    path: str = "/",
    headers: dict | None = None,
    time_offset: _dt.timedelta | None = None,
    target: str | None = None,
) -> botocore.awsrequest.AWSRequest:
    """Build and SigV4-sign a request like botocore does for awsJson1.1."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    hdrs = {}
    if service == "cloudtrail":
        hdrs["Content-Type"] = JSON_CT
        if target is not None:
            hdrs["X-Amz-Target"] = target
        elif op is not None:
            hdrs["X-Amz-Target"] = TARGET_PREFIX + op
    hdrs.update(headers or {})
    req = botocore.awsrequest.AWSRequest(method=method, url=endpoint.rstrip("/") + path, data=body or b"", headers=hdrs)
    signer = botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(creds.access_key, creds.secret_key), service, region
    )
    if time_offset is None:
        signer.add_auth(req)
    else:
        when = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None) + time_offset
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
            signer.add_auth(req)
    return req


def set_header(req: botocore.awsrequest.AWSRequest, name: str, value: str) -> None:
    """Replaces a header (AWSRequest headers append on assignment)."""
    del req.headers[name]
    req.headers[name] = value


def send(req: botocore.awsrequest.AWSRequest, body_override: bytes | None = None, drop_headers=(), timeout=30.0) -> RawResponse:
    prepared = req.prepare()
    url = urllib.parse.urlsplit(prepared.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        headers = {k: v for k, v in prepared.headers.items() if k.lower() not in {h.lower() for h in drop_headers}}
        body = prepared.body if body_override is None else body_override
        if isinstance(body, str):
            body = body.encode()
        conn.request(prepared.method, url.path + (("?" + url.query) if url.query else ""), body=body or b"", headers=headers)
        r = conn.getresponse()
        return RawResponse(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


def raw_call(endpoint: str, op: str, body: dict | str | bytes | None = None, creds: Creds = ROOT, region: str = HOME, **kw) -> RawResponse:
    if body is None:
        body = {}
    return send(sign_request(endpoint, op, body, creds=creds, region=region, **kw))


# --------------------------------------------------------------------------
# Error assertions
# --------------------------------------------------------------------------


@contextlib.contextmanager
def aws_error(code, message=None, *, startswith=None, contains=(), status=400):
    """Asserts the block raises a botocore ClientError with `code` (a str or a tuple
    of acceptable codes), optional exact `message`, prefix, substrings and HTTP status.
    Yields a namespace filled with .code, .message, .response after the block."""
    info = SimpleNamespace(code=None, message=None, response=None)
    codes = (code,) if isinstance(code, str) else tuple(code)
    try:
        yield info
    except ClientError as e:
        info.response = e.response
        info.code = e.response.get("Error", {}).get("Code")
        info.message = e.response.get("Error", {}).get("Message")
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert info.code in codes, f"expected {codes}, got {info.code}: {info.message!r}"
        if status is not None:
            statuses = (status,) if isinstance(status, int) else tuple(status)
            assert got_status in statuses, f"{info.code}: HTTP status {got_status}, expected {statuses}"
        if message is not None:
            assert info.message == message, f"{info.code} message {info.message!r} != {message!r}"
        if startswith is not None:
            assert (info.message or "").startswith(startswith), f"{info.code} message {info.message!r} does not start with {startswith!r}"
        for part in (contains,) if isinstance(contains, str) else contains:
            assert part in (info.message or ""), f"{info.code} message {info.message!r} lacks {part!r}"
        return
    raise AssertionError(f"expected {codes} but the call succeeded")


def assert_raw_error(resp: RawResponse, code, contains=None, status=(400,)):
    codes = (code,) if isinstance(code, str) else tuple(code)
    statuses = (status,) if isinstance(status, int) else tuple(status)
    assert resp.error_code in codes, f"expected {codes}, got HTTP {resp.status} {resp.body[:500]!r}"
    assert resp.status in statuses, f"{resp.error_code}: HTTP {resp.status}, expected {statuses}"
    if contains is not None:
        assert contains in (resp.error_message or ""), f"message {resp.error_message!r} lacks {contains!r}"


# --------------------------------------------------------------------------
# Cleanup and small conveniences
# --------------------------------------------------------------------------


def delete_all_trails(endpoint: str, creds_list=ALL_CREDS, regions=REGIONS) -> list[str]:
    """Deletes every trail whose home is one of `regions` in every account of `creds_list`.
    Returns a list of problems (never raises)."""
    problems = []
    for creds in creds_list:
        for region in regions:
            client = make_client("cloudtrail", endpoint, region, creds)
            arns = set()
            try:
                for page in client.get_paginator("list_trails").paginate():
                    for t in page.get("Trails", []):
                        if t.get("HomeRegion") == region:
                            arns.add(t["TrailARN"])
            except Exception as e:  # noqa: BLE001 - cleanup must not raise
                problems.append(f"ListTrails {creds.label}/{region}: {e}")
            try:
                for t in client.describe_trails(includeShadowTrails=False).get("trailList", []):
                    if t.get("HomeRegion", region) == region:
                        arns.add(t["TrailARN"])
            except Exception as e:  # noqa: BLE001
                problems.append(f"DescribeTrails {creds.label}/{region}: {e}")
            for arn in sorted(arns):
                if f":{creds.account}:" not in arn:
                    continue  # an organization trail seen from a member account
                try:
                    client.delete_trail(Name=arn)
                except Exception as e:  # noqa: BLE001
                    problems.append(f"DeleteTrail {arn}: {e}")
    return problems


def create_bucket(s3_client, name: str | None = None) -> str:
    name = name or unique("cairn-bkt")
    s3_client.create_bucket(Bucket=name)
    return name


def make_trail(ct_client, bucket: str, name: str | None = None, **kw) -> dict:
    name = name or unique("trail")
    return ct_client.create_trail(Name=name, S3BucketName=bucket, **kw)


def strip_meta(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def names_of(trails) -> set:
    return {t["Name"] for t in trails}


# --------------------------------------------------------------------------
# Event history: clients that keep what they sent and got, and LookupEvents
# --------------------------------------------------------------------------


@dataclass
class Exchange:
    """One API call as the client saw it: what was sent, what came back."""

    service: str
    region: str
    creds: Creds
    operation: str
    sent_headers: dict
    sent_body: bytes
    t_start: float = 0.0  # wall clock (time.time) just before the call
    t_end: float = 0.0  # wall clock just after the response was parsed
    status: int | None = None
    response_body: bytes | None = None
    request_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    parsed: dict | None = None
    params: dict | None = None  # the keyword arguments of the boto3 call

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        for k, v in self.sent_headers.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def user_agent(self) -> str | None:
        return self.header("User-Agent")

    def sent_json(self):
        return json.loads(self.sent_body.decode("utf-8")) if self.sent_body else None

    def response_json(self):
        return json.loads(self.response_body.decode("utf-8")) if self.response_body else None


class CapturingClient:
    """A fresh (uncached) boto3 client whose calls are appended to `log` as `Exchange`s,
    with the headers and body actually sent (a `before-send` hook) and the raw response
    (an `after-call` hook). Several clients may share one `log` (single-threaded use)."""

    def __init__(self, service: str, endpoint: str, region: str = HOME, creds: Creds = ROOT,
                 log: list | None = None, user_agent_extra: str | None = None):
        self.service, self.region, self.creds = service, region, creds
        self.log: list[Exchange] = [] if log is None else log
        self._pending: Exchange | None = None
        session = boto3.session.Session(
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key, region_name=region
        )
        # No retries: every attempt would be a call of its own in the history.
        kw = dict(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        if service == "s3":
            kw["s3"] = {"addressing_style": "path"}
        if user_agent_extra:
            kw["user_agent_extra"] = user_agent_extra
        self.client = session.client(service, endpoint_url=endpoint, config=Config(**kw))
        self.client.meta.events.register("before-send", self._before_send)
        self.client.meta.events.register("after-call", self._after_call)

    def _before_send(self, request, **_):
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = b""  # streaming bodies are not used by these tests
        headers = {k: (v.decode("utf-8") if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        if self._pending is not None:
            self._pending.sent_headers = headers
            self._pending.sent_body = bytes(body)

    def _after_call(self, http_response, parsed, model, **_):
        ex = self._pending
        if ex is None:
            return
        ex.operation = model.name
        ex.status = http_response.status_code
        ex.response_body = http_response.content
        ex.request_id = (parsed or {}).get("ResponseMetadata", {}).get("RequestId")

    def call(self, method: str, **kwargs) -> Exchange:
        """Calls `method` (snake_case); never raises ClientError (see .error_code)."""
        op = self.client.meta.method_to_api_mapping.get(method, method)
        ex = Exchange(self.service, self.region, self.creds, op, {}, b"", params=dict(kwargs))
        self._pending = ex
        ex.t_start = time.time()
        try:
            try:
                ex.parsed = getattr(self.client, method)(**kwargs)
            except ClientError as e:
                ex.parsed = e.response
                ex.error_code = e.response.get("Error", {}).get("Code")
                ex.error_message = e.response.get("Error", {}).get("Message")
            ex.t_end = time.time()
            meta = ex.parsed.get("ResponseMetadata", {})
            ex.request_id = meta.get("RequestId") or ex.request_id
            ex.status = meta.get("HTTPStatusCode", ex.status)
        finally:
            self._pending = None
        self.log.append(ex)
        return ex

    def must(self, method: str, **kwargs) -> Exchange:
        ex = self.call(method, **kwargs)
        assert ex.ok, f"{ex.operation} failed: {ex.error_code}: {ex.error_message}"
        return ex


def lower_camel(value):
    """CloudTrail's recorded form of a JSON request/response: member names lowerCamel."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): lower_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_camel(v) for v in value]
    return value


def lookup_pages(client, max_results: int | None = None, max_pages: int = 10_000, **params):
    """Follows NextToken to the end → (events, pages). `client` is a boto3 cloudtrail client
    or a CapturingClient. Raises on errors."""
    events, pages, token = [], [], None
    for _ in range(max_pages):
        kw = dict(params)
        if max_results is not None:
            kw["MaxResults"] = max_results
        if token:
            kw["NextToken"] = token
        if isinstance(client, CapturingClient):
            ex = client.must("lookup_events", **kw)
            resp = ex.parsed
        else:
            resp = client.lookup_events(**kw)
        pages.append(resp)
        events.extend(resp.get("Events", []))
        token = resp.get("NextToken")
        if not token:
            return events, pages
    raise AssertionError(f"LookupEvents did not finish within {max_pages} pages")


def record_of(event: dict) -> dict:
    """The CloudTrail record of a LookupEvents `Event`."""
    return json.loads(event["CloudTrailEvent"])


def request_ids(events) -> list:
    return [record_of(e).get("requestID") for e in events]


# LookupEvents is rate-limited like AWS (2/s per account and region, burst 10); tests that
# page through history a lot lift the limit.
UNTHROTTLED = "lookup_events_per_second = 100000.0\nlookup_events_burst = 100000.0\n"
HISTORY_CONFIG = UNTHROTTLED + SESSION_CONFIG


def assert_same_records(got: list, expected: list) -> None:
    """The same records, as many times each (compared as parsed JSON), with a failure that says how many are
    missing or extra and names a few, instead of printing every record."""
    def canonical(records):
        return Counter(json.dumps(r, sort_keys=True) for r in records)

    have, want = canonical(got), canonical(expected)
    if have == want:
        return
    missing, extra = want - have, have - want

    def sample(counter):
        return [(r.get("eventID"), r.get("eventName"), r.get("eventTime"))
                for r in map(json.loads, list(counter)[:5])]

    raise AssertionError(
        f"{len(got)} records, {len(expected)} expected: {sum(missing.values())} missing (e.g. {sample(missing)}), "
        f"{sum(extra.values())} extra (e.g. {sample(extra)})"
    )
