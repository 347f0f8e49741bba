"""Trail delivery under faults, against an external S3-compatible server started here (moto's S3,
behind a TCP proxy that can be stopped and restarted on the same port) and against the embedded
buckets:

* the real `aws cloudtrail validate-logs` over a trail delivering to the external bucket: all valid,
  then exactly the modified log file, the deleted log file, the removed digest reported;
* a bucket the external endpoint does not have: `LatestDeliveryError` is `NoSuchBucket`;
* the endpoint down for ~5 s: the error shows, `LatestDeliveryTime` stands still, then clears;
* SIGKILLs at random moments while client threads call and the trail delivers to an embedded
  bucket (`CAIRN_SLOW=1`: 10 kills instead of 3; the seed is printed and
  `CAIRN_DELIVERY_CRASH_SEED=<seed>` replays the schedule, though not the exact moments);
* SIGKILLs at chosen points of an external PUT (the store never got the file; the store has it
  but cairn never heard back), for a log file and for a digest.

Every fault test ends with the same check: each event recorded from the trail's StartLogging event
to its StopLogging event (what LookupEvents shows for that window) is in exactly one delivered
record, every acknowledged call is among them, and validate-logs finds every file valid.

The window is cut by event time: the test makes no call for over a second before StartLogging and
after StopLogging (`quiet_second`), so those two seconds hold the window's events only. A call's
event is recorded before it is answered, so its time is before the client saw the answer.
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import http.client
import json
import os
import random
import signal
import socket
import threading
import time
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from delivery import (
    FAST_ARGS,
    delivered_records,
    digest_keys,
    digests,
    iso,
    log_keys,
    read_object,
    validate_logs,
    wait_for,
)
from helpers import ACCOUNT, ROOT_ENV, CairnServer, delete_all_trails, send, sign_request, trail_arn, unique
from s3peer import S3Peer, TcpProxy

SLOW = os.environ.get("CAIRN_SLOW") == "1"
KILLS = 10 if SLOW else 3
MISSING_BUCKET = "missing-logs"  # declared in cairn's config, unknown to moto


# --------------------------------------------------------------------------
# Fixtures: moto behind a stoppable proxy, and one cairn that knows two external buckets
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    with S3Peer(bucket="archive", log_dir=tmp_path_factory.mktemp("moto")) as p:
        yield p


@pytest.fixture(scope="module")
def xserver(tmp_path_factory, peer):
    config = peer.config_block() + "\n" + peer.config_block(name=MISSING_BUCKET)
    srv = CairnServer(tmp_path_factory.mktemp("cairn-faults"), config=config, env=ROOT_ENV, args=FAST_ARGS)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _delete_trails(request):
    yield
    if "xserver" in request.fixturenames:
        srv = request.getfixturevalue("xserver")
        if srv.proc is not None and srv.proc.poll() is None:
            delete_all_trails(srv.endpoint)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def quiet_second() -> None:
    """Makes no call for over a second: events before and after fall in different seconds."""
    time.sleep(1.1)


def request_id(response: dict) -> str:
    return response["ResponseMetadata"]["RequestId"]


def call(ct, method: str, acknowledged: list[str], **kw):
    """A boto3 call whose request ID (also of an AWS error answer) goes to `acknowledged`."""
    try:
        response = getattr(ct, method)(**kw)
    except ClientError as e:
        acknowledged.append(e.response["ResponseMetadata"]["RequestId"])
        return e.response
    acknowledged.append(request_id(response))
    return response


def lookup_all(ct, start: float, end: float) -> list[dict]:
    """Every record LookupEvents shows between `start` and `end` (epoch seconds), paging and
    waiting out LookupEvents' rate limit."""
    records, token = [], None
    deadline = time.monotonic() + 60
    while True:
        kw = {"StartTime": start, "EndTime": end, "MaxResults": 50}
        if token:
            kw["NextToken"] = token
        try:
            page = ct.lookup_events(**kw)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ThrottlingException" or time.monotonic() > deadline:
                raise
            time.sleep(0.6)
            continue
        records += [json.loads(event["CloudTrailEvent"]) for event in page.get("Events", [])]
        token = page.get("NextToken")
        if not token:
            return records


def logging_window(ct, start_request: str, stop_request: str, t_start: float, t_stop: float) -> dict[str, dict]:
    """The events recorded from the trail's StartLogging event to its StopLogging event, inclusive,
    by eventID (the calls were made so that those two seconds hold nothing else)."""
    records = lookup_all(ct, t_start - 5, t_stop + 5)
    ids = collections.Counter(r["eventID"] for r in records)
    assert all(n == 1 for n in ids.values()), "LookupEvents lists an event twice"
    by_request = {r["requestID"]: r for r in records}
    assert start_request in by_request and stop_request in by_request, "StartLogging/StopLogging not in LookupEvents"
    first, last = by_request[start_request]["eventTime"], by_request[stop_request]["eventTime"]
    return {r["eventID"]: r for r in records if first <= r["eventTime"] <= last}


def describe(record: dict) -> str:
    return f"{record['eventName']} {record['eventTime']} request {record['requestID']} event {record['eventID']}"


def assert_exactly_once(delivered: list[tuple[str, dict]], expected: dict[str, dict], tag: str = "") -> None:
    """Every expected event in exactly one delivered record, and nothing else delivered."""
    where: dict[str, list[str]] = collections.defaultdict(list)
    by_id: dict[str, dict] = {}
    for key, record in delivered:
        where[record["eventID"]].append(key)
        by_id[record["eventID"]] = record
    problems = []
    for event_id, keys in where.items():
        if len(keys) > 1:
            problems.append(f"delivered {len(keys)} times: {describe(by_id[event_id])} in {keys}")
    for event_id in expected.keys() - where.keys():
        problems.append(f"never delivered: {describe(expected[event_id])}")
    for event_id in where.keys() - expected.keys():
        problems.append(f"delivered but outside the logging window: {describe(by_id[event_id])}")
    n_files = len({key for key, _ in delivered})
    summary = f"{tag} {len(expected)} events in the window, {len(delivered)} records delivered in {n_files} files"
    assert not problems, f"{summary}\n{len(problems)} problems:\n" + "\n".join(problems[:40])


def assert_acknowledged_delivered(delivered: list[tuple[str, dict]], acknowledged: list[str], tag: str = "") -> None:
    requests = collections.Counter(r["requestID"] for _, r in delivered)
    missing = [rid for rid in acknowledged if requests[rid] == 0]
    twice = [rid for rid in acknowledged if requests[rid] > 1]
    assert not missing and not twice, (
        f"{tag} of {len(acknowledged)} acknowledged calls, {len(missing)} not delivered "
        f"({missing[:10]}), {len(twice)} delivered more than once ({twice[:10]})"
    )


def settle(s3, bucket: str, prefix: str, timeout: float = 60) -> str:
    """Waits until the StopLogging event is in a log file under `prefix` and a digest lists that
    file; returns its key. `s3` reads the bucket without going through cairn's API."""

    def stop_file():
        for key, record in delivered_records(s3, bucket, prefix):
            if record["eventName"] == "StopLogging":
                return key
        return None

    key = wait_for(stop_file, timeout=timeout, what="the StopLogging event in a log file")
    wait_for(
        lambda: any(key in {f["s3Object"] for f in d["logFiles"]} for _, d, _ in digests(s3, bucket, prefix)),
        timeout=timeout,
        what="a digest listing the last log file",
    )
    return key


def run_validate(cloudtrail_endpoint: str, s3_endpoint: str, arn: str, since: float):
    result = validate_logs(cloudtrail_endpoint, s3_endpoint, arn, iso(since))
    # INVALID lines go to stderr, the rest to stdout.
    result.output = result.stdout + result.stderr
    result.invalid = sorted(line for line in result.output.splitlines() if "\tINVALID" in line)
    return result


def assert_all_valid(result, n_digests: int, n_logs: int) -> None:
    assert result.returncode == 0, result.output
    assert not result.invalid, result.output
    assert f"{n_digests}/{n_digests} digest files valid" in result.stdout, result.output
    assert f"{n_logs}/{n_logs} log files valid" in result.stdout, result.output


def status(ct, name: str) -> dict:
    return ct.get_trail_status(Name=name)


# --------------------------------------------------------------------------
# An external bucket: validate-logs, and a bucket the endpoint does not have
# --------------------------------------------------------------------------


def test_validate_logs_over_an_external_bucket(xserver, peer):
    ct, s3 = xserver.ct(), peer.s3()
    since = time.time() - 60
    name, prefix = unique("ext"), unique("validated")
    arn = ct.create_trail(Name=name, S3BucketName=peer.bucket, S3KeyPrefix=prefix, EnableLogFileValidation=True)[
        "TrailARN"
    ]
    ct.start_logging(Name=name)
    for _ in range(3):
        ct.get_trail_status(Name=name)
        ct.describe_trails(trailNameList=[name])
    wait_for(lambda: len(digest_keys(s3, peer.bucket, prefix)) >= 2, what="two digests in moto")
    ct.list_trails()
    ct.stop_logging(Name=name)
    settle(s3, peer.bucket, prefix)
    logs, digest_list = log_keys(s3, peer.bucket, prefix), sorted(digest_keys(s3, peer.bucket, prefix))
    assert len(logs) >= 2 and len(digest_list) >= 2
    assert all(k.startswith(f"{prefix}/AWSLogs/{ACCOUNT}/") for k in logs + digest_list)

    def run():
        return run_validate(xserver.endpoint, peer.moto.url, arn, since)

    assert_all_valid(run(), len(digest_list), len(logs))

    # A modified log file: exactly that file's hash no longer matches.
    victim = logs[len(logs) // 2]
    original, _ = read_object(s3, peer.bucket, victim)
    text = gzip.decompress(original).replace(b'"eventName":"', b'"eventName":"X', 1)
    s3.put_object(Bucket=peer.bucket, Key=victim, Body=gzip.compress(text))
    bad = run()
    assert bad.returncode == 1, bad.output
    assert bad.invalid == [f"Log file\ts3://{peer.bucket}/{victim}\tINVALID: hash value doesn't match"], bad.output
    assert f"{len(logs) - 1}/{len(logs)} log files valid, 1/{len(logs)} log files INVALID" in bad.stdout, bad.output
    assert f"{len(digest_list)}/{len(digest_list)} digest files valid" in bad.stdout, bad.output
    s3.put_object(Bucket=peer.bucket, Key=victim, Body=original)
    assert_all_valid(run(), len(digest_list), len(logs))

    # A deleted log file.
    s3.delete_object(Bucket=peer.bucket, Key=victim)
    gone = run()
    assert gone.returncode == 1, gone.output
    assert gone.invalid == [f"Log file\ts3://{peer.bucket}/{victim}\tINVALID: not found"], gone.output
    s3.put_object(Bucket=peer.bucket, Key=victim, Body=original)
    assert_all_valid(run(), len(digest_list), len(logs))

    # A removed digest.
    middle = digest_list[len(digest_list) // 2 - 1] if len(digest_list) > 2 else digest_list[0]
    digest_bytes, metadata = read_object(s3, peer.bucket, middle)
    s3.delete_object(Bucket=peer.bucket, Key=middle)
    missing = run()
    assert missing.returncode == 1, missing.output
    assert missing.invalid == [f"Digest file\ts3://{peer.bucket}/{middle}\tINVALID: not found"], missing.output
    s3.put_object(Bucket=peer.bucket, Key=middle, Body=digest_bytes, Metadata=metadata)
    assert_all_valid(run(), len(digest_list), len(logs))


def test_a_bucket_the_endpoint_does_not_have_shows_no_such_bucket(xserver, peer):
    ct = xserver.ct()
    name = unique("nobucket")
    ct.create_trail(Name=name, S3BucketName=MISSING_BUCKET, EnableLogFileValidation=True)
    ct.start_logging(Name=name)
    ct.get_trail(Name=name)
    found = wait_for(
        lambda: (s := status(ct, name)).get("LatestDeliveryError") and s, timeout=30, what="a delivery error"
    )
    assert found["LatestDeliveryError"] == "NoSuchBucket", found
    assert "LatestDeliveryTime" not in found
    assert found["LatestDeliveryAttemptTime"] != ""
    assert found["IsLogging"] is True
    # Nothing was created on the way.
    assert MISSING_BUCKET not in {b["Name"] for b in peer.s3().list_buckets()["Buckets"]}
    ct.stop_logging(Name=name)


# --------------------------------------------------------------------------
# The external endpoint stopped for a while, then back
# --------------------------------------------------------------------------


def test_an_outage_of_the_external_endpoint_loses_and_repeats_nothing(xserver, peer):
    ct, s3 = xserver.ct(), peer.s3()
    since = time.time() - 60
    name, prefix = unique("outage"), unique("outage")
    arn = ct.create_trail(Name=name, S3BucketName=peer.bucket, S3KeyPrefix=prefix, EnableLogFileValidation=True)[
        "TrailARN"
    ]
    acknowledged: list[str] = []
    quiet_second()
    t_start = time.time()
    start_request = request_id(ct.start_logging(Name=name))
    acknowledged.append(start_request)

    # Before: files arrive.
    for _ in range(5):
        call(ct, "get_trail", acknowledged, Name=name)
        call(ct, "list_tags", acknowledged, ResourceIdList=[arn])
    call(ct, "create_trail", acknowledged, Name=name, S3BucketName=peer.bucket)  # an AWS error, recorded too
    wait_for(lambda: log_keys(s3, peer.bucket, prefix), what="a log file before the outage")
    wait_for(lambda: status(ct, name).get("LatestDeliveryTime"), what="LatestDeliveryTime")

    try:
        peer.proxy.stop()
        t_down = time.monotonic()
        for i in range(5):
            call(ct, "add_tags", acknowledged, ResourceId=arn, TagsList=[{"Key": f"down{i}", "Value": "x"}])

        def failing():
            s = status(ct, name)
            return "connection refused" in s.get("LatestDeliveryError", "") and s

        down = wait_for(failing, timeout=20, interval=0.2, what="LatestDeliveryError while the endpoint is down")
        assert time.monotonic() - t_down < 10, "the delivery error showed late"
        assert f"127.0.0.1:{peer.proxy.port}" in down["LatestDeliveryError"], down["LatestDeliveryError"]
        delivered_before = down["LatestDeliveryTime"]
        keys_before = set(peer.keys(prefix))
        # Down for about 5 s: the error stays, nothing is delivered, calls go on.
        while time.monotonic() - t_down < 5:
            s = status(ct, name)
            acknowledged.append(request_id(s))
            assert "connection refused" in s.get("LatestDeliveryError", ""), s
            assert s["LatestDeliveryTime"] == delivered_before, "LatestDeliveryTime advanced during the outage"
            call(ct, "describe_trails", acknowledged, trailNameList=[name])
            time.sleep(0.3)
        assert set(peer.keys(prefix)) == keys_before, "objects appeared while the endpoint was down"
    finally:
        peer.proxy.start()

    # After: the backlog is delivered and the error clears.
    for i in range(5):
        call(ct, "remove_tags", acknowledged, ResourceId=arn, TagsList=[{"Key": f"down{i}"}])
    recovered = wait_for(
        lambda: (s := status(ct, name)).get("LatestDeliveryTime", delivered_before) > delivered_before
        and "LatestDeliveryError" not in s
        and s,
        timeout=45,
        interval=0.5,
        what="a delivery after the endpoint came back",
    )
    assert "LatestDeliveryError" not in recovered
    call(ct, "get_trail", acknowledged, Name=name)
    stop_request = request_id(ct.stop_logging(Name=name))
    acknowledged.append(stop_request)
    t_stop = time.time()
    quiet_second()
    settle(s3, peer.bucket, prefix)

    delivered = delivered_records(s3, peer.bucket, prefix)
    expected = logging_window(ct, start_request, stop_request, t_start, t_stop)
    assert_exactly_once(delivered, expected)
    assert_acknowledged_delivered(delivered, acknowledged)
    final = status(ct, name)
    assert "LatestDeliveryError" not in final and "LatestDigestDeliveryError" not in final, final
    logs, digest_list = log_keys(s3, peer.bucket, prefix), digest_keys(s3, peer.bucket, prefix)
    assert_all_valid(run_validate(xserver.endpoint, peer.moto.url, arn, since), len(digest_list), len(logs))


# --------------------------------------------------------------------------
# The server killed while it delivers
# --------------------------------------------------------------------------


@dataclass
class Call:
    op: str
    request_id: str | None = None  # set once answered (2xx or an AWS error)
    failure: str = ""


class Load:
    """Client threads calling cairn until stopped; each follows the server across restarts."""

    OPS = ("GetTrail", "GetTrailStatus", "DescribeTrails", "ListTrails", "ListTags", "AddTags", "CreateTrail")
    WEIGHTS = (3, 3, 2, 1, 2, 3, 1)

    def __init__(self, srv: CairnServer, name: str, bucket: str, seed: int, n_threads: int = 3):
        self.srv, self.name, self.bucket, self.seed = srv, name, bucket, seed
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(n_threads)]

    def start(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a client thread hangs"
        assert not self.errors, self.errors

    def body(self, op: str, rng: random.Random, thread: int, n: int) -> dict:
        arn = trail_arn(self.name)
        if op in ("GetTrail", "GetTrailStatus"):
            return {"Name": self.name}
        if op == "DescribeTrails":
            return {"trailNameList": [self.name]}
        if op == "ListTrails":
            return {}
        if op == "ListTags":
            return {"ResourceIdList": [arn]}
        if op == "AddTags":
            # At most 50 tags: keys repeat.
            return {"ResourceId": arn, "TagsList": [{"Key": f"k{thread}-{rng.randrange(10)}", "Value": str(n)}]}
        return {"Name": self.name, "S3BucketName": self.bucket}  # TrailAlreadyExistsException

    def _run(self, thread: int) -> None:
        rng = random.Random(f"{self.seed}/{thread}")
        n = 0
        try:
            while not self.stopping.is_set():
                op = rng.choices(self.OPS, self.WEIGHTS)[0]
                c = Call(op)
                self.calls.append(c)
                addr = self.srv.addr
                try:
                    resp = send(sign_request(f"http://{addr}", op, self.body(op, rng, thread, n)), timeout=15)
                except (OSError, http.client.HTTPException, socket.timeout) as e:
                    c.failure = f"{type(e).__name__}: {e}"
                    time.sleep(0.05)  # the server is down; try again soon
                    continue
                n += 1
                if 200 <= resp.status < 300 or (400 <= resp.status < 500 and resp.error_code):
                    c.request_id = resp.header("x-amzn-RequestId")
                else:
                    c.failure = f"HTTP {resp.status} {resp.body[:200]!r}"
                time.sleep(rng.uniform(0.02, 0.06))
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.errors.append(f"thread {thread}: {type(e).__name__}: {e}")

    @property
    def acknowledged(self) -> list[str]:
        return [c.request_id for c in self.calls if c.request_id]


def kill(srv: CairnServer) -> None:
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=10)
    assert srv.proc.returncode == -signal.SIGKILL


def wait_for_new_blob(blobs, timeout: float = 30) -> str:
    """Polls the embedded bucket's blob directory (`<bucket>/blobs/<id>`, one file per object
    version) until a file appears that was not there at the call: an object is being written."""
    def names():
        try:
            return {e.name for e in os.scandir(blobs)}
        except FileNotFoundError:
            return set()

    before = names()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = names() - before
        if new:
            return min(new)
        time.sleep(0.0005)
    raise AssertionError(f"no object written under {blobs} within {timeout}s")


def stop_and_check(srv, name, arn, bucket, prefix, reader, s3_endpoint, load, since, t_start, start_request, tag):
    """Stops the load and logging, waits until delivery has settled and checks that every event of
    the logging window and every acknowledged call is in exactly one delivered record, and that
    validate-logs finds every file valid. `reader` is an S3 client that reads the bucket."""
    load.stop()
    quiet_second()
    ct = srv.ct()
    stop_request = request_id(ct.stop_logging(Name=name))
    t_stop = time.time()
    quiet_second()
    try:
        settle(reader(), bucket, prefix)
    except AssertionError as e:
        raise AssertionError(f"{tag}: {e}\n{srv.stderr()[-3000:]}") from None
    s3 = reader()
    delivered = delivered_records(s3, bucket, prefix)
    expected = logging_window(ct, start_request, stop_request, t_start, t_stop)
    acknowledged = [start_request, *load.acknowledged, stop_request]
    cut = sum(1 for c in load.calls if c.failure)
    summary = (
        f"{tag}; {len(load.calls)} calls, {len(acknowledged)} acknowledged, {cut} cut by kills; "
        f"{len(expected)} events in the window, {len(log_keys(s3, bucket, prefix))} log files"
    )
    print(summary)
    assert len(acknowledged) >= 50, f"{summary}: too few calls to test anything"
    assert_exactly_once(delivered, expected, summary)
    assert_acknowledged_delivered(delivered, acknowledged, summary)
    logs, digest_list = log_keys(s3, bucket, prefix), digest_keys(s3, bucket, prefix)
    result = run_validate(srv.endpoint, s3_endpoint, arn, since)
    try:
        assert_all_valid(result, len(digest_list), len(logs))
    except AssertionError as e:
        raise AssertionError(f"{summary}\n{e}") from None
    final = status(ct, name)
    assert "LatestDeliveryError" not in final and "LatestDigestDeliveryError" not in final, f"{summary}: {final}"
    return summary


KILL_KINDS = ("random", "after-log-file", "during-object-write")


@pytest.mark.timeout(600 if SLOW else 120)
def test_kills_during_delivery_lose_and_repeat_nothing(new_server):
    seed = int(os.environ.get("CAIRN_DELIVERY_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    tag = f"[seed={seed}]"
    print(f"delivery crash test seed: {seed} (CAIRN_DELIVERY_CRASH_SEED={seed} replays it); {KILLS} kills")
    rng = random.Random(seed)
    # Each kind at least once, in a seeded order; further kills pick at random.
    kinds = rng.sample(KILL_KINDS, len(KILL_KINDS)) + [rng.choice(KILL_KINDS) for _ in range(KILLS - len(KILL_KINDS))]
    started = time.monotonic()
    srv = new_server(args=FAST_ARGS, name="delivery-kills")
    ct, s3 = srv.ct(), srv.s3()
    bucket, name = unique("kills"), unique("kills")
    s3.create_bucket(Bucket=bucket)
    arn = ct.create_trail(Name=name, S3BucketName=bucket, EnableLogFileValidation=True)["TrailARN"]
    since = time.time() - 60
    quiet_second()
    t_start = time.time()
    start_request = request_id(ct.start_logging(Name=name))
    load = Load(srv, name, bucket, seed).start()
    schedule = []
    try:
        for kind in kinds:
            if kind == "random":
                delay = rng.uniform(0.2, 2.0)
                time.sleep(delay)
                what = f"after {delay:.2f}s"
            elif kind == "after-log-file":
                # Right after a log file shows in a listing: its cursor commit may still be to come.
                before = len(log_keys(srv.s3(), bucket))
                wait_for(lambda: len(log_keys(srv.s3(), bucket)) > before, interval=0.005, what=f"{tag} a new log file")
                what = kind
            else:
                # While a log file or digest is being written: its blob file exists, the object
                # index and the trail's cursor or chain may not be committed yet.
                wait_for_new_blob(srv.data_dir / "buckets" / bucket / "blobs")
                delay = rng.uniform(0, 0.01)
                time.sleep(delay)
                what = f"{kind} +{delay * 1000:.1f}ms"
            kill(srv)
            schedule.append(what)
            srv.start()
        time.sleep(1.0)  # calls on the last incarnation, with a delivery or two
    except BaseException:
        load.stop()
        raise
    summary = stop_and_check(
        srv, name, arn, bucket, "", srv.s3, srv.endpoint, load, since, t_start, start_request,
        f"{tag} kills {schedule}",
    )
    print(f"{summary}; {time.monotonic() - started:.1f}s")


# --------------------------------------------------------------------------
# The server killed between writing a file and committing that it did
# --------------------------------------------------------------------------


class TrappingProxy(TcpProxy):
    """A TcpProxy that catches the next PUT of a key containing `needle`: in mode "request" it
    holds the request (the store never sees it), in mode "answer" it forwards the request and
    holds the store's answer (the object is stored; the client never learns). `caught` is set
    then; `release()` drops what was held and cuts the connection."""

    def __init__(self, target):
        super().__init__(target)
        self._trap: tuple[bytes, str] | None = None
        self._holding: set[socket.socket] = set()  # client sockets whose next answer is held
        self.caught = threading.Event()
        self.caught_line = ""
        self._released = threading.Event()

    def arm(self, needle: str, mode: str) -> None:
        assert mode in ("request", "answer")
        self.caught.clear()
        self._released.clear()
        self._trap = (needle.encode(), mode)

    def release(self) -> None:
        self._trap = None
        self._released.set()

    def _hold(self) -> None:
        self.caught.set()
        self._released.wait(timeout=60)

    def _pump(self, src: socket.socket, dst: socket.socket, done: threading.Barrier) -> None:
        try:
            from_client = src.getsockname()[1] == self.port  # accepted sockets have the proxy's port
            while True:
                data = src.recv(65536)
                if not data:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    break
                if from_client:
                    line = data.split(b"\r\n", 1)[0]
                    with self._lock:
                        trap = self._trap
                        hit = trap is not None and line.startswith(b"PUT ") and trap[0] in line
                        if hit:
                            self._trap = None
                            self.caught_line = line.decode(errors="replace")
                            if trap[1] == "answer":
                                self._holding.add(src)
                    if hit and trap[1] == "request":
                        self._hold()
                        raise OSError("request dropped")
                elif dst in self._holding:
                    self._hold()
                    raise OSError("answer dropped")
                dst.sendall(data)
        except OSError:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(threading.BrokenBarrierError):
            done.wait()


@pytest.mark.timeout(180)
def test_a_kill_between_writing_a_file_and_committing_it_redoes_the_same_file(tmp_path, peer):
    """Deterministic kills around an external PUT: before the store gets the file, and after the
    store has it but before cairn hears so, for a log file and for a digest. The redone batch or
    digest must land under the same key: nothing twice, nothing missing, the chain intact."""
    proxy = TrappingProxy(("127.0.0.1", peer.moto.port)).start()
    prefix = unique("trapped")
    config = "\n".join(
        [
            "[[s3_buckets]]",
            f'name = "{peer.bucket}"',
            f'endpoint = "{proxy.url}"',
            f'region = "{peer.region}"',
            "path_style = true",
            'access_key_id = "testing"',
            'secret_access_key = "testing"',
        ]
    )
    srv = CairnServer(tmp_path / "trapped", config=config, env=ROOT_ENV, args=FAST_ARGS)
    load = None
    try:
        srv.start()
        ct = srv.ct()
        name = unique("trapped")
        arn = ct.create_trail(
            Name=name, S3BucketName=peer.bucket, S3KeyPrefix=prefix, EnableLogFileValidation=True
        )["TrailARN"]
        since = time.time() - 60
        quiet_second()
        t_start = time.time()
        start_request = request_id(ct.start_logging(Name=name))
        load = Load(srv, name, peer.bucket, seed=0).start()
        caught = []
        for kind, mode in (("CloudTrail", "answer"), ("CloudTrail", "request"),
                           ("CloudTrail-Digest", "answer"), ("CloudTrail-Digest", "request")):
            proxy.arm(f"/{peer.bucket}/{prefix}/AWSLogs/{ACCOUNT}/{kind}/", mode)
            assert proxy.caught.wait(timeout=30), f"no {kind} PUT within 30s"
            kill(srv)
            proxy.release()
            key = proxy.caught_line.split(" ")[1].split("?")[0][len(f"/{peer.bucket}/"):]
            caught.append((kind, mode, key))
            if mode == "answer":
                # The store has the object although cairn never heard back.
                assert key in peer.keys(prefix), (kind, mode, key)
            srv.start()
        time.sleep(1.0)
        stop_and_check(
            srv, name, arn, peer.bucket, prefix, peer.s3, peer.moto.url, load, since, t_start, start_request,
            f"trapped {[(k, m) for k, m, _ in caught]}",
        )
        # Each caught key was written (again) after the restart and is part of the chain.
        listed = {f["s3Object"] for _, d, _ in digests(peer.s3(), peer.bucket, prefix) for f in d["logFiles"]}
        digest_objects = set(digest_keys(peer.s3(), peer.bucket, prefix))
        for kind, mode, key in caught:
            assert key in (listed if kind == "CloudTrail" else digest_objects), (kind, mode, key)
    finally:
        if load is not None:
            load.stopping.set()
        proxy.release()
        srv.close()
        proxy.stop()
