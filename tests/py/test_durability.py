"""Restart durability, startup time and generated credentials."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from pathlib import Path

import pytest

from helpers import (
    ACCOUNT,
    CWL_GROUP_ARN,
    CWL_ROLE_ARN,
    HOME,
    KMS_KEY_ARN,
    OTHER,
    ROOT,
    SESSION_CONFIG,
    TOPIC_ARN,
    Creds,
    CairnServer,
    create_bucket,
    http_get,
    strip_meta,
    unique,
)

ADVANCED = [
    {
        "Name": "s3 data",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        ],
    }
]


def build_state(srv: CairnServer) -> dict:
    s3 = srv.s3()
    ct = srv.ct()
    buckets = [create_bucket(s3), create_bucket(s3)]
    t1 = unique("dur-one")
    t2 = unique("dur-multi")
    t3 = unique("dur-west")
    ct.create_trail(
        Name=t1,
        S3BucketName=buckets[0],
        S3KeyPrefix="p/q",
        SnsTopicName=TOPIC_ARN,
        KmsKeyId=KMS_KEY_ARN,
        CloudWatchLogsLogGroupArn=CWL_GROUP_ARN,
        CloudWatchLogsRoleArn=CWL_ROLE_ARN,
        TagsList=[{"Key": "created", "Value": "yes"}],
    )
    ct.create_trail(Name=t2, S3BucketName=buckets[1], IsMultiRegionTrail=True, EnableLogFileValidation=True)
    srv.ct(OTHER).create_trail(Name=t3, S3BucketName=buckets[0])
    ct.put_event_selectors(
        TrailName=t1,
        EventSelectors=[
            {
                "ReadWriteType": "ReadOnly",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/"]}],
            }
        ],
    )
    ct.put_event_selectors(TrailName=t2, AdvancedEventSelectors=ADVANCED)
    ct.put_insight_selectors(TrailName=t1, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct.put_event_configuration(
        TrailName=t2, AggregationConfigurations=[{"EventCategory": "Data", "Templates": ["API_ACTIVITY"]}]
    )
    ct.add_tags(ResourceId=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{t1}", TagsList=[{"Key": "k", "Value": "v"}])
    ct.add_tags(ResourceId=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{t2}", TagsList=[{"Key": "m"}])
    ct.remove_tags(ResourceId=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{t1}", TagsList=[{"Key": "created"}])
    ct.start_logging(Name=t1)
    ct.start_logging(Name=t2)
    ct.stop_logging(Name=t2)
    # A trail created and deleted must stay deleted.
    gone = unique("dur-gone")
    ct.create_trail(Name=gone, S3BucketName=buckets[0])
    ct.delete_trail(Name=gone)
    return {"trails": [t1, t2], "west": t3, "gone": gone, "buckets": buckets}


def snapshot(srv: CairnServer, state: dict) -> dict:
    ct = srv.ct()
    snap: dict = {}
    for name in state["trails"]:
        arn = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{name}"
        st = ct.get_trail_status(Name=name)
        snap[name] = {
            "trail": ct.get_trail(Name=name)["Trail"],
            "status": {k: st.get(k) for k in ("IsLogging", "StartLoggingTime", "StopLoggingTime", "TimeLoggingStarted", "TimeLoggingStopped")},
            "selectors": strip_meta(ct.get_event_selectors(TrailName=name)),
            "tags": ct.list_tags(ResourceIdList=[arn])["ResourceTagList"],
        }
        try:
            snap[name]["insights"] = strip_meta(ct.get_insight_selectors(TrailName=name))
        except Exception as e:  # noqa: BLE001 - InsightNotEnabled is part of the state
            snap[name]["insights"] = type(e).__name__ + str(getattr(e, "response", {}).get("Error", {}).get("Code"))
        try:
            snap[name]["evconf"] = strip_meta(ct.get_event_configuration(TrailName=name))
        except Exception as e:  # noqa: BLE001
            snap[name]["evconf"] = str(getattr(e, "response", {}).get("Error", {}).get("Code"))
    snap["list_home"] = sorted(t["TrailARN"] for t in ct.list_trails()["Trails"])
    snap["list_other"] = sorted(t["TrailARN"] for t in srv.ct(OTHER).list_trails()["Trails"])
    snap["west"] = srv.ct(OTHER).get_trail(Name=state["west"])["Trail"]
    snap["buckets"] = sorted(b["Name"] for b in srv.s3().list_buckets()["Buckets"])
    return snap


def check_state(before: dict, after: dict, state: dict):
    for key in before:
        assert after[key] == before[key], f"{key} changed across restart:\nbefore={before[key]}\nafter={after[key]}"
    # Sanity: the snapshot captured what was built.
    t1, t2 = state["trails"]
    assert before[t1]["status"]["IsLogging"] is True
    assert before[t2]["status"]["IsLogging"] is False
    assert before[t1]["trail"]["HasInsightSelectors"] is True
    assert before[t2]["selectors"]["AdvancedEventSelectors"] == ADVANCED
    assert set(state["buckets"]) <= set(before["buckets"])
    assert state["gone"] not in str(before["list_home"])


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
def test_state_survives_restart(new_server, how):
    srv = new_server(config=SESSION_CONFIG)
    state = build_state(srv)
    before = snapshot(srv, state)
    if how == "kill9":
        srv.kill9()
        assert srv.proc.returncode == -signal.SIGKILL
    else:
        code = srv.stop(timeout=10)
        assert code == 0, f"graceful shutdown exited with {code}\n{srv.stderr()[-2000:]}"
    srv.start()
    after = snapshot(srv, state)
    check_state(before, after, state)
    # The restarted server keeps working: quotas and names still enforced.
    ct = srv.ct()
    with pytest.raises(Exception) as exc:
        ct.create_trail(Name=state["trails"][0], S3BucketName=state["buckets"][0])
    assert "TrailAlreadyExistsException" in str(exc.value)
    ct.create_trail(Name=state["gone"], S3BucketName=state["buckets"][0])


def test_kill9_right_after_write(new_server):
    """An acknowledged write is durable even when the process dies immediately afterwards."""
    srv = new_server(config=SESSION_CONFIG)
    bucket = create_bucket(srv.s3())
    names = []
    for i in range(4):
        name = unique(f"ack{i}")
        srv.ct().create_trail(Name=name, S3BucketName=bucket)
        names.append(name)
    srv.ct().start_logging(Name=names[-1])
    srv.kill9()
    srv.start()
    got = {t["Name"] for t in srv.ct().list_trails()["Trails"]}
    assert set(names) <= got
    assert srv.ct().get_trail_status(Name=names[-1])["IsLogging"] is True
    assert bucket in {b["Name"] for b in srv.s3().list_buckets()["Buckets"]}


def test_sigint_shuts_down(new_server):
    srv = new_server()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(timeout=10) == 0


def test_startup_under_one_second(new_server):
    srv = new_server(env={}, start=False)
    srv.start()
    assert srv.ready_seconds is not None
    assert srv.ready_seconds < 1.0, f"first start took {srv.ready_seconds:.3f}s to answer /health"
    srv.stop()
    srv.start()
    assert srv.ready_seconds < 1.0, f"restart took {srv.ready_seconds:.3f}s to answer /health"


EXPORT_RE = re.compile(r"^export (AWS_[A-Z_]+)=(.*)$", re.M)


def exports(text: str) -> dict:
    return {k: v.strip().strip("'\"") for k, v in EXPORT_RE.findall(text)}


def wait_for_exports(srv: CairnServer, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = exports(srv.stdout())
        if "AWS_SECRET_ACCESS_KEY" in found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_generated_credentials(new_server):
    srv = new_server(env={})
    found = wait_for_exports(srv)
    assert set(found) >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}, srv.stdout()
    assert found["AWS_DEFAULT_REGION"] == "us-east-1"
    key, secret = found["AWS_ACCESS_KEY_ID"], found["AWS_SECRET_ACCESS_KEY"]
    assert key and secret and key != secret
    creds = Creds(key, secret, "")
    assert srv.ct(creds=creds).list_trails()["Trails"] == []
    bucket = create_bucket(srv.s3(creds=creds))
    arn = srv.ct(creds=creds).create_trail(Name="gen-creds", S3BucketName=bucket)["TrailARN"]
    account = arn.split(":")[4]
    assert re.fullmatch(r"\d{12}", account), arn

    # Restart on the same directory: the same credentials keep working.
    srv.stop()
    srv.start()
    again = exports(srv.stdout())
    if again:
        assert again.get("AWS_ACCESS_KEY_ID") == key and again.get("AWS_SECRET_ACCESS_KEY") == secret
    assert [t["TrailARN"] for t in srv.ct(creds=creds).list_trails()["Trails"]] == [arn]

    # The secret is stored somewhere under the data dir, and only owner-readable.
    holders = []
    for path in Path(srv.data_dir).rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if secret.encode() in path.read_bytes():
                    holders.append(path)
            except OSError:
                continue
    assert holders, "generated secret not found under the data dir"
    for path in holders:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & 0o077 == 0, f"{path} holds the secret with mode {oct(mode)}"


def test_generated_credentials_differ_per_data_dir(new_server):
    a = new_server(env={}, name="gen-a")
    b = new_server(env={}, name="gen-b")
    ea, eb = wait_for_exports(a), wait_for_exports(b)
    assert ea.get("AWS_SECRET_ACCESS_KEY") and eb.get("AWS_SECRET_ACCESS_KEY")
    assert ea["AWS_SECRET_ACCESS_KEY"] != eb["AWS_SECRET_ACCESS_KEY"]


def test_env_credentials_not_printed(new_server):
    srv = new_server()
    time.sleep(0.2)
    assert ROOT.secret_key not in srv.stdout(), "configured secrets must not be echoed"
    status, _, _ = http_get(srv.addr, "/health")
    assert status == 200
