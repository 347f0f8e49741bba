"""Log streaming for trails (CloudWatchLogsLogGroupArn): each record a trail delivers is also one
log event in stream ACCOUNT_CloudTrail_REGION of its group, in the embedded CloudWatch Logs store
(read back with boto3's `logs` client), in an external CloudWatch Logs endpoint (a second cairn,
which checks the SigV4 signature) and in the generic sinks of the config: NDJSON over HTTP and
RFC 5424 syslog over UDP. A failing sink shows in GetTrailStatus and does not stop log files.

One cairn per module, delivering every second.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading

import pytest
from botocore.exceptions import ClientError

from delivery import FAST_ARGS, delivered_records, wait_for
from helpers import ACCOUNT, ROOT, ROOT_ENV, CairnServer, delete_all_trails, unique

STREAMED = "CloudTrail/streamed"
FAILING = "CloudTrail/failing"
STREAM = f"{ACCOUNT}_CloudTrail_us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role"


def group_arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}:*"


class NdjsonSink:
    """An HTTP endpoint on 127.0.0.1 that keeps every POSTed line and the request headers."""

    def __init__(self):
        self.lines: list[str] = []
        self.headers: list[dict] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.headers.append({k.lower(): v for k, v in self.headers.items()})
                sink.lines.extend(body.decode().splitlines())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ingest"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in list(self.lines)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SyslogReceiver:
    """A UDP socket on 127.0.0.1 that keeps every datagram."""

    def __init__(self):
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while self.running:
            try:
                data, _ = self.sock.recvfrom(70_000)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode())

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def ndjson():
    s = NdjsonSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def syslog():
    s = SyslogReceiver()
    yield s
    s.close()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A second cairn: the external CloudWatch Logs endpoint."""
    srv = CairnServer(tmp_path_factory.mktemp("cairn-mirror"), env=ROOT_ENV)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def lserver(tmp_path_factory, ndjson, syslog, mirror):
    config = f"""
[[log_sinks]]
kind = "cloudwatch_logs"
endpoint = "{mirror.endpoint}"
access_key_id = "{ROOT.access_key}"
secret_access_key = "{ROOT.secret_key}"
log_groups = ["{STREAMED}"]

[[log_sinks]]
kind = "http"
url = "{ndjson.url}"
headers = {{ X-Token = "secret" }}
log_groups = ["{STREAMED}"]

[[log_sinks]]
kind = "syslog"
address = "127.0.0.1:{syslog.port}"
hostname = "cairn-test"
log_groups = ["{STREAMED}"]

[[log_sinks]]
kind = "http"
url = "http://127.0.0.1:9/refused"
log_groups = ["{FAILING}"]
"""
    srv = CairnServer(tmp_path_factory.mktemp("cairn-logs"), config=config, env=ROOT_ENV, args=FAST_ARGS)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _delete_trails(lserver):
    yield
    delete_all_trails(lserver.endpoint)


def streaming_trail(srv, group: str) -> str:
    """A logging trail streaming to `group`; returns its name."""
    ct, s3 = srv.ct(), srv.s3()
    bucket = unique("logs")
    s3.create_bucket(Bucket=bucket)
    name = unique("trail")
    ct.create_trail(Name=name, S3BucketName=bucket, CloudWatchLogsLogGroupArn=group_arn(group), CloudWatchLogsRoleArn=ROLE)
    ct.start_logging(Name=name)
    return name


def stream_records(logs, group: str) -> list[dict]:
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=STREAM, startFromHead=True)["events"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    return [json.loads(e["message"]) for e in events]


def test_calls_arrive_as_log_events_in_the_embedded_store_and_every_sink(lserver, ndjson, syslog, mirror):
    ct, logs = lserver.ct(), lserver.client("logs")
    name = streaming_trail(lserver, STREAMED)
    arn = ct.get_trail(Name=name)["Trail"]["TrailARN"]
    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "audit"}])

    def has_add_tags(records):
        return [r for r in records if r["eventName"] == "AddTags" and r["requestParameters"]["resourceId"] == arn]

    # The embedded store: the record itself is the message, in stream ACCOUNT_CloudTrail_REGION.
    streamed = wait_for(lambda: has_add_tags(stream_records(logs, STREAMED)), what="AddTags in the log stream")
    assert streamed[0]["eventSource"] == "cloudtrail.amazonaws.com"
    assert "Records" not in streamed[0]
    assert any(r["eventName"] == "StartLogging" for r in stream_records(logs, STREAMED))
    streams = logs.describe_log_streams(logGroupName=STREAMED)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [STREAM]
    groups = logs.describe_log_groups(logGroupNamePrefix="CloudTrail/")["logGroups"]
    assert STREAMED in [g["logGroupName"] for g in groups]
    found = logs.filter_log_events(logGroupName=STREAMED, filterPattern='{ $.eventName = "AddTags" }')["events"]
    assert found and all(json.loads(e["message"])["eventName"] == "AddTags" for e in found)

    status = ct.get_trail_status(Name=name)
    assert "LatestCloudWatchLogsDeliveryTime" in status
    assert "LatestCloudWatchLogsDeliveryError" not in status

    # The external endpoint: the group and stream were created there, the events put.
    assert wait_for(lambda: has_add_tags(stream_records(mirror.client("logs"), STREAMED)), what="AddTags in the mirror")

    # The http sink: one record per line, with the configured header and the stream named.
    assert wait_for(lambda: has_add_tags(ndjson.records()), what="AddTags in the NDJSON sink")
    assert ndjson.headers[-1]["x-token"] == "secret"
    assert ndjson.headers[-1]["content-type"] == "application/x-ndjson"
    assert ndjson.headers[-1]["x-cairn-log-stream"] == STREAM

    # The syslog sink: RFC 5424, facility log audit (13), severity informational (6).
    pattern = re.compile(
        r'^<110>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cairn-test cairn - CloudTrail '
        rf'\[cairn@32473 logGroup="{STREAMED}" logStream="{STREAM}"\] (\{{.*\}})$'
    )

    def syslog_records():
        return [json.loads(m.group(1)) for m in map(pattern.match, list(syslog.messages)) if m]

    assert wait_for(lambda: has_add_tags(syslog_records()), what="AddTags over syslog")
    assert all(pattern.match(m) for m in syslog.messages)


def test_a_failing_sink_shows_in_the_status_and_log_files_keep_coming(lserver):
    ct, s3 = lserver.ct(), lserver.s3()
    name = streaming_trail(lserver, FAILING)
    bucket = ct.get_trail(Name=name)["Trail"]["S3BucketName"]
    status = wait_for(
        lambda: (s := ct.get_trail_status(Name=name)).get("LatestCloudWatchLogsDeliveryError") and s,
        what="a CloudWatch Logs delivery error",
    )
    assert "http sink" in status["LatestCloudWatchLogsDeliveryError"]
    assert "LatestDeliveryError" not in status
    ct.describe_trails(trailNameList=[name])
    wait_for(
        lambda: any(r["eventName"] == "DescribeTrails" for _, r in delivered_records(s3, bucket)),
        what="a later call in a log file",
    )
    # The embedded store took the same events.
    assert any(r["eventName"] == "StartLogging" for r in stream_records(lserver.client("logs"), FAILING))


def test_the_logs_api_creates_puts_reads_and_filters(lserver):
    logs = lserver.client("logs")
    group = unique("app/")
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName=group)
    assert err.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as err:
        logs.put_log_events(logGroupName=group, logStreamName="none", logEvents=[{"timestamp": 1, "message": "x"}])
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName="has space")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    events = [
        {"timestamp": 1_700_000_000_000, "message": '{"eventName":"A"}'},
        {"timestamp": 1_700_000_001_000, "message": "plain ERROR line"},
    ]
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=events)
    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == [e["message"] for e in events]
    assert got["nextForwardToken"].startswith("f/")
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]] == [
        "plain ERROR line"
    ]
    logs.delete_log_group(logGroupName=group)
    assert group not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
