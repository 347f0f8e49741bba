"""EventBridge rules (issue 9): the rules API on the `events` service through boto3, and the dispatcher
that sends recorded events to webhook and log-file targets (spec/formats.md §4.2).

Webhook targets are `http://…` URLs used as the target `Arn`; log-file targets are
`arn:cairn:logfile:::NAME` (`<data dir>/rules/logs/NAME.ndjson`). A small HTTP server in this process
receives the webhooks."""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers import ACCOUNT, HOME, ROOT_ENV, SESSION_CONFIG, CairnServer, create_bucket, http_get, unique

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "patterns"
# A valid pattern no recorded event matches (event-ruler refuses an empty one).
NOTHING = '{"source": ["cairn.test.nothing"]}'


class Receiver:
    """Webhook receiver on 127.0.0.1: records every POST; paths starting with /fail answer 500."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.requests.append({
                        "path": self.path, "headers": dict(self.headers), "body": body, "at": time.monotonic(),
                    })
                self.send_response(500 if self.path.startswith("/fail") else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"].split("?")[0] == path]

    def wait(self, path: str, n: int = 1, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= n:
                return got
            time.sleep(0.01)
        return self.at(path)

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = CairnServer(tmp_path_factory.mktemp("rules"), config=SESSION_CONFIG, env=ROOT_ENV)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def events(server):
    return server.client("events")


def error_of(excinfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def webhook_rule(events, receiver, pattern: dict, state: str = "ENABLED", **target) -> tuple[str, str]:
    """A rule with one webhook target at a fresh path; returns (rule name, path)."""
    name = unique("rule")
    path = "/" + name
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    out = events.put_targets(Rule=name, Targets=[{"Id": "hook", "Arn": receiver.url(path), **target}])
    assert out["FailedEntryCount"] == 0
    return name, path


# -- the rules API -----------------------------------------------------------------------------------


def test_rule_lifecycle(events):
    name = unique("life")
    pattern = json.dumps({"source": ["aws.cloudtrail"]})
    arn = events.put_rule(Name=name, EventPattern=pattern, Description="first")["RuleArn"]
    assert arn == f"arn:aws:events:{HOME}:{ACCOUNT}:rule/{name}"
    described = events.describe_rule(Name=name)
    assert described["Name"] == name and described["Arn"] == arn
    assert described["EventPattern"] == pattern
    assert described["State"] == "ENABLED"
    assert described["Description"] == "first"
    assert described["EventBusName"] == "default"
    # PutRule on an existing rule updates it.
    events.put_rule(Name=name, EventPattern=pattern, State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    assert events.describe_rule(Name=name)["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    events.put_targets(Rule=name, Targets=[{"Id": "log", "Arn": "arn:cairn:logfile:::lifecycle"}])
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=name)
    assert error_of(e) == ("ValidationException", "Rule can't be deleted since it has targets.")
    events.remove_targets(Rule=name, Ids=["log"])
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []
    events.delete_rule(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    assert error_of(e) == ("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    events.delete_rule(Name=name)  # idempotent, as in EventBridge
    for call in (events.enable_rule, events.disable_rule):
        with pytest.raises(ClientError) as e:
            call(Name=name)
        assert error_of(e)[0] == "ResourceNotFoundException"


def test_list_rules_pages_by_prefix(events):
    prefix = unique("list") + "-"
    names = [f"{prefix}{i}" for i in range(5)]
    for name in names:
        events.put_rule(Name=name, EventPattern='{"source":["aws.s3"]}')
    got, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = events.list_rules(NamePrefix=prefix, Limit=2, **kw)
        assert len(page["Rules"]) <= 2
        got += [rule["Name"] for rule in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert got == names
    assert events.list_rules(NamePrefix=prefix + "3")["Rules"][0]["Arn"].endswith(f"rule/{prefix}3")
    with pytest.raises(ClientError) as e:
        events.list_rules(NextToken="bogus")
    assert error_of(e) == ("ValidationException", "The NextToken is not valid.")


def test_put_rule_errors(events):
    cases = [
        ({"Name": "bad", "EventPattern": '{"source": "aws.s3"}'}, "InvalidEventPatternException",
         "Event pattern is not valid. Reason: "),
        ({"Name": "bad", "EventPattern": "{"}, "InvalidEventPatternException", "Event pattern is not valid. Reason: "),
        ({"Name": "bad", "ScheduleExpression": "rate(5 minutes)"}, "ValidationException", "cairn does not support"),
        ({"Name": "bad"}, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified."),
        ({"Name": "bad/name", "EventPattern": NOTHING}, "ValidationException", "1 validation error detected"),
        ({"Name": "bad", "EventPattern": NOTHING, "State": "ON"}, "ValidationException", "1 validation error detected"),
        ({"Name": "bad", "EventPattern": NOTHING, "EventBusName": "custom"}, "ResourceNotFoundException",
         "Event bus custom does not exist."),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as e:
            events.put_rule(**params)
        assert error_of(e)[0] == code, params
        assert error_of(e)[1].startswith(message), (params, error_of(e))
    # The default bus by name or ARN is fine.
    events.put_rule(Name=unique("bus"), EventPattern=NOTHING, EventBusName=f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default")


def test_targets(events):
    name = unique("targets")
    events.put_rule(Name=name, EventPattern='{"source":["aws.cloudtrail"]}')
    targets = [
        {"Id": "hook", "Arn": "https://example.invalid/hook", "HttpParameters": {"HeaderParameters": {"X-Key": "v"}},
         "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}},
        {"Id": "log", "Arn": "arn:cairn:logfile:::targets", "InputPath": "$.detail"},
        {"Id": "sqs", "Arn": "arn:aws:sqs:us-east-1:111111111111:queue"},
    ]
    out = events.put_targets(Rule=name, Targets=targets)
    assert out["FailedEntryCount"] == 1
    assert out["FailedEntries"][0]["TargetId"] == "sqs"
    assert out["FailedEntries"][0]["ErrorCode"] == "ValidationException"
    listed = events.list_targets_by_rule(Rule=name)["Targets"]
    assert listed == targets[:2]
    first = events.list_targets_by_rule(Rule=name, Limit=1)
    assert first["Targets"] == targets[:1]
    second = events.list_targets_by_rule(Rule=name, Limit=1, NextToken=first["NextToken"])
    assert second["Targets"] == targets[1:2] and "NextToken" not in second
    # Same Id replaces the target.
    events.put_targets(Rule=name, Targets=[{"Id": "log", "Arn": "arn:cairn:logfile:::targets", "Input": '{"a":1}'}])
    assert events.list_targets_by_rule(Rule=name)["Targets"][1] == {"Id": "log", "Arn": "arn:cairn:logfile:::targets",
                                                                     "Input": '{"a":1}'}
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": "arn:cairn:logfile:::x"} for i in range(4)])
    assert error_of(e)[0] == "LimitExceededException"
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, Targets=[{"Id": "two", "Arn": "arn:cairn:logfile:::x", "Input": "{}",
                                                "InputPath": "$"}])
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=unique("missing"), Targets=[{"Id": "a", "Arn": "arn:cairn:logfile:::x"}])
    assert error_of(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        events.list_targets_by_rule(Rule=unique("missing"))
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_event_pattern_agrees_with_event_ruler(events):
    """TestEventPattern on 200 (rule, event) pairs of the CloudTrail corpus, with event-ruler's outcomes."""
    rules = json.loads((CORPUS / "ct_rules.json").read_text())["rules"]
    rng = random.Random(9)
    lines = (CORPUS / "ct_cases.ndjson").read_text().splitlines()
    cases = [json.loads(line) for line in rng.sample(lines, 100)]
    names = sorted(rules)
    n_matches = 0
    for case in cases:
        matched = set(case["expected_matches"])
        # One rule the event matches (when there is one) and one drawn at random.
        picks = [rng.choice(sorted(matched))] if matched else [rng.choice(names)]
        picks.append(rng.choice(names))
        for rule in picks:
            got = events.test_event_pattern(EventPattern=json.dumps(rules[rule]), Event=json.dumps(case["event"]))
            assert got["Result"] == (rule in matched), (rule, case["id"])
            n_matches += got["Result"]
    assert n_matches > 50
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern='{"a": []}', Event=json.dumps(cases[0]["event"]))
    assert error_of(e) == ("InvalidEventPatternException", "Event pattern is not valid. Reason: Empty arrays are not allowed")
    for bad_event in ["{", "[]", '{"source": "aws.s3"}']:
        with pytest.raises(ClientError) as e:
            events.test_event_pattern(EventPattern=NOTHING, Event=bad_event)
        assert error_of(e) == ("ValidationException", "Parameter Event is not valid.")


def test_events_calls_are_recorded(server, events):
    name = unique("recorded")
    events.put_rule(Name=name, EventPattern=NOTHING)
    found = server.ct().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutRule"}])
    records = [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]
    record = next(r for r in records if r["requestParameters"]["name"] == name)
    assert record["eventSource"] == "events.amazonaws.com"
    assert record["readOnly"] is False
    assert record["responseElements"] == {"ruleArn": f"arn:aws:events:{HOME}:{ACCOUNT}:rule/{name}"}
    assert record["resources"] == [{"accountId": ACCOUNT, "type": "AWS::Events::Rule",
                                    "ARN": f"arn:aws:events:{HOME}:{ACCOUNT}:rule/{name}"}]
    # Header values (API keys of receivers) are not recorded.
    events.put_targets(Rule=name, Targets=[{"Id": "hook", "Arn": "https://example.invalid/",
                                            "HttpParameters": {"HeaderParameters": {"X-Api-Key": "s3cr3t"}}}])
    found = server.ct().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutTargets"}])
    record = next(json.loads(e["CloudTrailEvent"]) for e in found["Events"]
                  if json.loads(e["CloudTrailEvent"])["requestParameters"]["rule"] == name)
    target = record["requestParameters"]["targets"][0]
    assert list(target["httpParameters"]["headerParameters"].values()) == ["HIDDEN_DUE_TO_SECURITY_REASONS"]
    assert "s3cr3t" not in json.dumps(record)
    events.remove_targets(Rule=name, Ids=["hook"])


# -- the dispatcher --------------------------------------------------------------------------------


def test_webhook_receives_create_trail_within_a_second(server, events, receiver):
    name, path = webhook_rule(
        events, receiver, {"source": ["aws.cloudtrail"], "detail": {"eventName": ["CreateTrail"]}},
        HttpParameters={"HeaderParameters": {"X-Rule-Key": "secret-1"}},
    )
    bucket = create_bucket(server.s3())
    trail = unique("hooked")
    server.ct().create_trail(Name=trail, S3BucketName=bucket)
    called = time.monotonic()
    try:
        got = receiver.wait(path, timeout=1.0)
        assert got, "no webhook within 1 s of CreateTrail"
        assert got[0]["at"] - called <= 1.0
        envelope = json.loads(got[0]["body"])
        assert list(envelope) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                                  "detail"]
        assert envelope["version"] == "0"
        assert envelope["detail-type"] == "AWS API Call via CloudTrail"
        assert envelope["source"] == "aws.cloudtrail"
        assert envelope["account"] == ACCOUNT and envelope["region"] == HOME
        assert envelope["resources"] == []
        assert envelope["time"] == envelope["detail"]["eventTime"]
        assert envelope["detail"]["eventName"] == "CreateTrail"
        assert envelope["detail"]["requestParameters"]["name"] == trail
        assert "eventContext" not in envelope["detail"]
        headers = {name.lower(): value for name, value in got[0]["headers"].items()}
        assert headers.get("x-rule-key") == "secret-1"
        assert headers.get("content-type", "").startswith("application/json")
    finally:
        server.ct().delete_trail(Name=trail)


def test_read_only_events_reach_only_all_management_rules(server, events, receiver):
    marker = unique("ro")
    pattern = {"source": ["aws.cloudtrail"],
               "detail": {"eventName": ["DescribeTrails"], "requestParameters": {"trailNameList": [marker]}}}
    _, plain = webhook_rule(events, receiver, pattern, state="ENABLED")
    _, everything = webhook_rule(events, receiver, pattern, state="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    server.ct().describe_trails(trailNameList=[marker])
    got = receiver.wait(everything, timeout=3.0)
    assert len(got) == 1
    assert json.loads(got[0]["body"])["detail"]["readOnly"] is True
    time.sleep(0.5)
    assert receiver.at(plain) == []


def test_disabled_rules_get_nothing(events, receiver):
    marker = unique("marker")
    pattern = {"source": ["aws.events"], "detail": {"requestParameters": {"name": [marker]}}}
    _, control = webhook_rule(events, receiver, pattern)
    _, disabled = webhook_rule(events, receiver, pattern, state="DISABLED")
    events.put_rule(Name=marker, EventPattern=NOTHING)
    assert len(receiver.wait(control, timeout=3.0)) == 1
    time.sleep(0.5)
    assert receiver.at(disabled) == []


def test_failing_webhook_is_retried_then_dead_lettered(server, events, receiver):
    marker = unique("dead")
    name = unique("failing")
    events.put_rule(Name=name, EventPattern=json.dumps({"detail": {"requestParameters": {"name": [marker]}}}))
    events.put_targets(Rule=name, Targets=[{
        "Id": "hook", "Arn": receiver.url("/fail-" + name),
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
    }])
    events.put_rule(Name=marker, EventPattern=NOTHING)
    dead_letter = server.data_dir / "rules" / "dead-letter" / f"{ACCOUNT}_{HOME}_{name}.ndjson"
    deadline = time.monotonic() + 10
    while not dead_letter.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dead_letter.exists()
    assert len(receiver.at("/fail-" + name)) == 3  # the first attempt and two retries
    lines = [json.loads(line) for line in dead_letter.read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["attempts"] == 3 and "500" in lines[0]["error"]
    assert lines[0]["targetId"] == "hook"
    assert lines[0]["event"]["detail"]["requestParameters"]["name"] == marker
    _, _, metrics = http_get(server.addr, "/metrics")
    text = metrics.decode() if isinstance(metrics, bytes) else metrics
    assert any("cairn_rule_deliveries_total" in line and name in line and 'outcome="failed"' in line
               for line in text.splitlines())


def test_log_file_target_with_input_transformer(server, events):
    marker = unique("logged")
    name = unique("logrule")
    sink = unique("sink")
    events.put_rule(Name=name, EventPattern=json.dumps({"detail": {"requestParameters": {"name": [marker]}}}))
    events.put_targets(Rule=name, Targets=[{
        "Id": "log", "Arn": f"arn:cairn:logfile:::{sink}",
        "InputTransformer": {
            "InputPathsMap": {"op": "$.detail.eventName", "who": "$.detail.userIdentity.arn"},
            "InputTemplate": '{"op": <op>, "text": "<who> called <op>", "rule": <aws.events.rule-name>}',
        },
    }])
    events.put_rule(Name=marker, EventPattern=NOTHING)
    log = server.data_dir / "rules" / "logs" / f"{sink}.ndjson"
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{"op": "PutRule", "text": f"arn:aws:iam::{ACCOUNT}:root called PutRule", "rule": name}]


def test_restart_neither_loses_nor_repeats(tmp_path, receiver):
    srv = CairnServer(tmp_path / "restart", config=SESSION_CONFIG, env=ROOT_ENV)
    srv.start()
    try:
        events = srv.client("events")
        prefix = unique("restart") + "-"
        _, path = webhook_rule(events, receiver, {"detail": {"eventName": ["PutRule"],
                                                             "requestParameters": {"name": [{"prefix": prefix}]}}})
        for i in range(3):
            events.put_rule(Name=f"{prefix}{i}", EventPattern=NOTHING)
        assert len(receiver.wait(path, 3)) == 3
        time.sleep(0.3)  # the cursor is saved once the deliveries are done
        srv.restart()
        events = srv.client("events")
        for i in range(3, 5):
            events.put_rule(Name=f"{prefix}{i}", EventPattern=NOTHING)
        got = receiver.wait(path, 5)
        time.sleep(0.5)
        got = receiver.at(path)
        names = [json.loads(r["body"])["detail"]["requestParameters"]["name"] for r in got]
        assert sorted(names) == [f"{prefix}{i}" for i in range(5)]
        assert len({json.loads(r["body"])["id"] for r in got}) == 5
    finally:
        srv.close()


def test_kill_9_sends_again_rather_than_loses(tmp_path, receiver):
    """After a crash every event still arrives; one sent again carries the same envelope id."""
    srv = CairnServer(tmp_path / "crash", config=SESSION_CONFIG, env=ROOT_ENV)
    srv.start()
    try:
        events = srv.client("events")
        prefix = unique("crash") + "-"
        _, path = webhook_rule(events, receiver, {"detail": {"eventName": ["PutRule"],
                                                             "requestParameters": {"name": [{"prefix": prefix}]}}})
        for i in range(3):
            events.put_rule(Name=f"{prefix}{i}", EventPattern=NOTHING)
        srv.restart(graceful=False)
        events = srv.client("events")
        events.put_rule(Name=f"{prefix}3", EventPattern=NOTHING)
        receiver.wait(path, 4)
        time.sleep(0.5)
        bodies = [json.loads(r["body"]) for r in receiver.at(path)]
        by_name: dict[str, set] = {}
        for body in bodies:
            by_name.setdefault(body["detail"]["requestParameters"]["name"], set()).add(body["id"])
        assert sorted(by_name) == [f"{prefix}{i}" for i in range(4)]
        assert all(len(ids) == 1 for ids in by_name.values())
    finally:
        srv.close()
