"""`cairn insights --store`: Insights over an imported archive after the fact. A generated archive of
management events holds a burst by one user and an error storm at known minutes; the run writes Start
and End insight events for them into the store, in AWS's shape, and a second run writes nothing new."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import uuid
from pathlib import Path

from helpers import CAIRN_BIN

ACCOUNT = "123456789012"
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
BURST = (150, 156)  # minutes after START, end exclusive
STORM = (200, 204)


def record(minute: int, second: int, name: str, user: str, error: str | None = None, read_only: bool = False) -> dict:
    event = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA" + user.upper(), "accountId": ACCOUNT,
                         "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "userName": user},
        "eventTime": (START + dt.timedelta(minutes=minute, seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": f"agent-of-{user}",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        event["errorCode"] = error
        event["errorMessage"] = "denied"
    return event


def archive(path: Path) -> None:
    rng = random.Random(5)
    records = []
    for minute in range(260):
        for _ in range(rng.choice([1, 2, 2, 3])):
            records.append(record(minute, rng.randrange(60), "RunInstances", rng.choice(["ann", "bob"])))
            if rng.random() < 0.3:
                records.append(record(minute, rng.randrange(60), "DescribeInstances", "ann", read_only=True))
        if BURST[0] <= minute < BURST[1]:
            records += [record(minute, s, "RunInstances", "mallory") for s in range(0, 60, 2)]
        if STORM[0] <= minute < STORM[1]:
            records += [record(minute, s, "DescribeInstances", "eve", error="UnauthorizedOperation", read_only=True)
                        for s in range(0, 60, 4)]
    path.write_text(json.dumps({"Records": records}))


def run(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([CAIRN_BIN, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def test_an_imported_archive_is_judged_and_its_insight_events_written_into_the_store(tmp_path):
    data_dir = tmp_path / "data"
    archive(tmp_path / "archive.json")
    run("import", str(tmp_path / "archive.json"), "--store", "archive", "--data-dir", str(data_dir))
    out = run("insights", "--store", "archive", "--learning", "60m", "--data-dir", str(data_dir))
    assert "insights" in out.stdout and "written" in out.stdout, out.stdout
    rows = json.loads(run("query", "--data-dir", str(data_dir), "--format", "json",
                          "SELECT eventjson FROM archive WHERE eventtype = 'AwsCloudTrailInsight' "
                          "ORDER BY eventtime").stdout)
    events = [json.loads(row["eventjson"]) for row in rows]
    found = {(e["insightDetails"]["eventName"], e["insightDetails"]["insightType"], e["insightDetails"]["state"]): e
             for e in events}
    minute = lambda m: (START + dt.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    start = found[("RunInstances", "ApiCallRateInsight", "Start")]
    end = found[("RunInstances", "ApiCallRateInsight", "End")]
    assert (start["eventTime"], end["eventTime"]) == (minute(BURST[0]), minute(BURST[1]))
    assert start["sharedEventID"] == end["sharedEventID"]
    assert start["recipientAccountId"] == ACCOUNT and start["awsRegion"] == "eu-west-1"
    statistics = end["insightDetails"]["insightContext"]["statistics"]
    assert statistics["insightDuration"] == BURST[1] - BURST[0] and statistics["baselineDuration"] == 60
    assert statistics["insight"]["average"] >= 30 and statistics["baseline"]["average"] < 3
    users = end["insightDetails"]["insightContext"]["attributions"][0]
    assert users["attribute"] == "userIdentityArn"
    assert users["insight"][0] == {"value": f"arn:aws:iam::{ACCOUNT}:user/mallory", "average": 30}
    assert {v["value"] for v in users["baseline"]} == {f"arn:aws:iam::{ACCOUNT}:user/ann",
                                                      f"arn:aws:iam::{ACCOUNT}:user/bob"}
    storm = found[("DescribeInstances", "ApiErrorRateInsight", "Start")]
    assert storm["eventTime"] == minute(STORM[0])
    assert storm["insightDetails"]["errorCode"] == "UnauthorizedOperation"
    # Nothing else was unusual, and reads never count toward call rates.
    assert set(found) <= {("RunInstances", "ApiCallRateInsight", "Start"), ("RunInstances", "ApiCallRateInsight", "End"),
                          ("DescribeInstances", "ApiErrorRateInsight", "Start"),
                          ("DescribeInstances", "ApiErrorRateInsight", "End")}, sorted(found)
    # Derived IDs: a second run finds the same insights and writes none again.
    again = run("insights", "--store", "archive", "--learning", "60m", "--data-dir", str(data_dir))
    assert again.stdout.rstrip().endswith(" 0 written"), again.stdout
    total = json.loads(run("query", "--data-dir", str(data_dir), "--format", "json",
                           "SELECT count(*) AS n FROM archive WHERE eventtype = 'AwsCloudTrailInsight'").stdout)
    assert int(total[0]["n"]) == len(events)


def test_an_unknown_store_or_learning_period_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    archive(tmp_path / "archive.json")
    run("import", str(tmp_path / "archive.json"), "--store", "archive", "--data-dir", str(data_dir))
    for args, message in [(["--store", "nope"], "no event data store is named"),
                          (["--store", "archive", "--learning", "90s"], "whole minutes")]:
        out = subprocess.run([CAIRN_BIN, "insights", *args, "--data-dir", str(data_dir)], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode != 0 and message in out.stderr, out.stderr
