"""Alarms and the other rule targets (issue 9): a rule tagged `cairn:alarm:threshold` counts its matches
over a window and sends CloudWatch-shaped "Alarm State Change" events (ALARM once, OK after quiet); the
starter CIS alarms come with one flag; SNS topics and configured commands receive events like webhooks."""

from __future__ import annotations

import json
import time

import pytest

from helpers import LONER, ROOT_ENV, SESSION_CONFIG, CairnServer, create_bucket, unique
from test_rules import Receiver

ALERTS_TOPIC = "arn:aws:sns:us-east-1:111111111111:alerts"
UNAUTHORIZED = {"detail": {"errorCode": [{"wildcard": "*UnauthorizedOperation"}, {"prefix": "AccessDenied"}]}}


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, receiver):
    workdir = tmp_path_factory.mktemp("rule-alarms")
    config = SESSION_CONFIG + f"""
[[sns_topics]]
arn = "{ALERTS_TOPIC}"
endpoint = "{receiver.url('/sns')}"

[[rule_commands]]
name = "append"
argv = ["sh", "-c", "cat >> {workdir}/command.out; echo >> {workdir}/command.out"]
timeout = "5s"
"""
    srv = CairnServer(workdir, config=config, env=ROOT_ENV,
                      args=["--security-alarms", receiver.url("/security")])
    srv.workdir_path = workdir
    srv.start()
    yield srv
    srv.close()


def alarm_changes(receiver, path: str) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.at(path)]


def test_unauthorized_calls_fire_the_alarm_once_then_ok_after_quiet(server, receiver):
    # The rule is the intruder's account's: its refused calls are recorded there.
    events = server.client("events", creds=LONER)
    path = f"/{unique('alarm')}"
    name = unique("unauthorized")
    # Refused reads count too: the rule takes read-only management events.
    events.put_rule(Name=name, EventPattern=json.dumps(UNAUTHORIZED), State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                    Tags=[{"Key": "cairn:alarm:threshold", "Value": "3"},
                          {"Key": "cairn:alarm:window-seconds", "Value": "10"}])
    events.put_targets(Rule=name, Targets=[{"Id": "page", "Arn": receiver.url(path)}])
    bucket = create_bucket(server.client("s3"))
    intruder = server.client("s3", creds=LONER)
    for _ in range(2):
        with pytest.raises(Exception):
            intruder.get_bucket_location(Bucket=bucket)
    time.sleep(1.5)
    assert alarm_changes(receiver, path) == [], "two matches are under the threshold"
    for _ in range(3):
        with pytest.raises(Exception):
            intruder.get_bucket_location(Bucket=bucket)
    changes = receiver.wait(path, 1, timeout=5)
    time.sleep(1.0)
    changes = alarm_changes(receiver, path)
    assert [c["detail"]["state"]["value"] for c in changes] == ["ALARM"], "fired once, not per call"
    alarm = changes[0]
    assert alarm["detail-type"] == "CloudWatch Alarm State Change" and alarm["source"] == "aws.cloudwatch"
    assert alarm["detail"]["alarmName"] == name and alarm["detail"]["previousState"]["value"] == "OK"
    assert alarm["resources"] == [f"arn:aws:cloudwatch:us-east-1:{LONER.account}:alarm:{name}"]
    # Quiet for longer than the window: back to OK, once.
    receiver.wait(path, 2, timeout=20)
    time.sleep(1.5)
    states = [c["detail"]["state"]["value"] for c in alarm_changes(receiver, path)]
    assert states == ["ALARM", "OK"]


def test_a_malformed_alarm_is_refused(server):
    events = server.client("events")
    with pytest.raises(Exception) as error:
        events.put_rule(Name=unique("bad"), EventPattern=json.dumps(UNAUTHORIZED),
                        Tags=[{"Key": "cairn:alarm:threshold", "Value": "0"}])
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "cairn:alarm:threshold" in error.value.response["Error"]["Message"]


def test_the_starter_security_alarms_come_with_one_flag(server, receiver):
    events = server.client("events")
    names = {rule["Name"] for rule in events.list_rules(NamePrefix="cis-", Limit=100)["Rules"]}
    assert {"cis-unauthorized-api-calls", "cis-root-account-usage", "cis-console-sign-in-without-mfa",
            "cis-iam-policy-changes", "cis-cloudtrail-configuration-changes"} <= names
    assert len(names) == 15
    targets = events.list_targets_by_rule(Rule="cis-cloudtrail-configuration-changes")["Targets"]
    assert [t["Arn"] for t in targets] == [receiver.url("/security")]
    # A trail change fires its alarm.
    server.client().create_trail(Name=unique("watched"), S3BucketName=create_bucket(server.client("s3")))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        fired = [json.loads(r["body"]) for r in receiver.at("/security")]
        if any(c["detail"]["alarmName"] == "cis-cloudtrail-configuration-changes" for c in fired):
            break
        time.sleep(0.05)
    fired = [json.loads(r["body"]) for r in receiver.at("/security")]
    trail_alarm = [c for c in fired if c["detail"]["alarmName"] == "cis-cloudtrail-configuration-changes"]
    assert trail_alarm and trail_alarm[0]["detail"]["state"]["value"] == "ALARM", fired


def test_sns_topics_and_configured_commands_are_targets(server, receiver):
    events = server.client("events")
    name = unique("fanout")
    marker = unique("marker")
    events.put_rule(Name=name, EventPattern=json.dumps(
        {"detail": {"eventName": ["AddTags"], "requestParameters": {"tagsList": {"key": [marker]}}}}))
    failed = events.put_targets(Rule=name, Targets=[
        {"Id": "sns", "Arn": ALERTS_TOPIC},
        {"Id": "cmd", "Arn": "arn:cairn:command:::append", "InputPath": "$.detail.eventName"},
    ])
    assert failed["FailedEntryCount"] == 0, failed
    ct = server.client()
    trail_arn = ct.create_trail(Name=unique("tagged"), S3BucketName=create_bucket(server.client("s3")))["TrailARN"]
    ct.add_tags(ResourceId=trail_arn, TagsList=[{"Key": marker, "Value": "v"}])
    notifications = receiver.wait("/sns", 1, timeout=5)
    ours = [json.loads(r["body"]) for r in notifications]
    ours = [n for n in ours if marker in n["Message"]]
    assert len(ours) == 1
    assert ours[0]["Type"] == "Notification" and ours[0]["TopicArn"] == ALERTS_TOPIC
    assert json.loads(ours[0]["Message"])["detail"]["eventName"] == "AddTags"
    out = server.workdir_path / "command.out"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (out.exists() and "AddTags" in out.read_text()):
        time.sleep(0.05)
    assert out.read_text().strip() == '"AddTags"'
