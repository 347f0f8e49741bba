"""PutAuditEvents through boto3's unmodified `cloudtrail-data` client (spec/api.md §1.8, §2.10): events sent to
a channel land in its ActivityAuditLog event data stores with the Lake's columns and answer SQL within a second;
each per-event failure code, the call limits, checksums, duplicate ids, retries that must not store twice, and
durability across a restart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from helpers import ACCOUNT, ROOT_ENV, SESSION_CONFIG, CairnServer, unique

TERMINAL = {"FINISHED", "FAILED", "CANCELLED", "TIMED_OUT"}
ACTIVITY_SELECTORS = [
    {"Name": "channel events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}
]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = CairnServer(tmp_path_factory.mktemp("cairn-audit"), config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    yield server
    server.close()


def make_channel(srv, n_stores: int = 1) -> tuple[str, list[str]]:
    ct = srv.ct()
    stores = []
    for _ in range(n_stores):
        arn = ct.create_event_data_store(
            Name=unique("audit"),
            AdvancedEventSelectors=ACTIVITY_SELECTORS,
            MultiRegionEnabled=False,
            TerminationProtectionEnabled=False,
        )["EventDataStoreArn"]
        stores.append(arn)
    # One channel per source: each gets a partner source of its own.
    channel = ct.create_channel(
        Name=unique("channel"),
        Source=unique("Partner"),
        Destinations=[{"Type": "EVENT_DATA_STORE", "Location": arn} for arn in stores],
    )["ChannelArn"]
    return channel, [arn.rsplit("/", 1)[1] for arn in stores]


@pytest.fixture(scope="module")
def channel(srv):
    return make_channel(srv)


def event_data(uid: str, **overrides) -> dict:
    data = {
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "alice", "details": {"team": "blue", "level": 3}},
        "userAgent": "partner-agent/1.0",
        "eventSource": "app.example.com",
        "eventName": "SignIn",
        "eventTime": "2026-11-20T10:00:00Z",
        "UID": uid,
        "requestParameters": {"user": "alice", "attempt": 1},
        "responseElements": {"result": "ok"},
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": ACCOUNT,
        "additionalEventData": {"mfa": True},
    }
    data.update(overrides)
    return data


def entry(id_: str, data, checksum: bool = True) -> dict:
    text = data if isinstance(data, str) else json.dumps(data)
    item = {"id": id_, "eventData": text}
    if checksum:
        item["eventDataChecksum"] = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return item


def run(ct, statement: str) -> list[list[dict]]:
    query_id = ct.start_query(QueryStatement=statement)["QueryId"]
    deadline = time.time() + 30
    while True:
        described = ct.describe_query(QueryId=query_id)
        if described["QueryStatus"] in TERMINAL or time.time() > deadline:
            break
        time.sleep(0.05)
    assert described["QueryStatus"] == "FINISHED", described
    return ct.get_query_results(QueryId=query_id)["QueryResultRows"]


def values(rows) -> list[list[str | None]]:
    return [[next(iter(cell.values())) for cell in row] for row in rows]


def wait_for_count(ct, store: str, where: str, expected: int, timeout: float = 5.0) -> float:
    """Seconds until `SELECT COUNT(*)` over `where` reaches `expected`; fails if it passes it or never does."""
    started = time.time()
    while True:
        count = int(values(run(ct, f"SELECT COUNT(*) FROM {store} WHERE {where}"))[0][0])
        assert count <= expected, f"{count} events, more than the {expected} sent"
        if count == expected:
            return time.time() - started
        assert time.time() - started < timeout, f"{count} of {expected} events after {timeout} s"
        time.sleep(0.05)


def test_events_land_in_the_store_with_lake_columns_within_a_second(srv, channel):
    channel_arn, (store,) = channel
    data = srv.client("cloudtrail-data")
    uid = unique("uid")
    sent = time.time()
    out = data.put_audit_events(
        channelArn=channel_arn,
        auditEvents=[entry("e1", event_data(uid + "-1")), entry("e2", event_data(uid + "-2", eventName="SignOut"))],
    )
    assert out["failed"] == []
    assert [s["id"] for s in out["successful"]] == ["e1", "e2"]
    assert len({s["eventID"] for s in out["successful"]}) == 2
    assert time.time() - sent + wait_for_count(srv.ct(), store, f"eventData.uid LIKE '{uid}%'", 2) < 1.5
    rows = values(
        run(
            srv.ct(),
            "SELECT eventData.eventName, eventData.userIdentity.principalId, element_at(eventData.requestParameters, "
            "'user'), element_at(eventData.userIdentity.details, 'level'), eventCategory, eventType, "
            f"metadata.channelArn, eventId, recipientAccountId, eventTime FROM {store} "
            f"WHERE eventData.uid LIKE '{uid}%' ORDER BY eventData.uid",
        )
    )
    ids = {s["id"]: s["eventID"] for s in out["successful"]}
    assert rows == [
        ["SignIn", "alice", "alice", "3", "ActivityAuditLog", "ActivityLog", channel_arn, ids["e1"], ACCOUNT,
         "2026-11-20 10:00:00.000"],
        ["SignOut", "alice", "alice", "3", "ActivityAuditLog", "ActivityLog", channel_arn, ids["e2"], ACCOUNT,
         "2026-11-20 10:00:00.000"],
    ]
    status = srv.ct().get_channel(Channel=channel_arn)["IngestionStatus"]
    assert status["LatestIngestionSuccessEventID"] == ids["e2"]
    assert "LatestIngestionSuccessTime" in status


def test_the_stored_record_keeps_the_event_data_unchanged(srv, channel):
    channel_arn, (store,) = channel
    uid = unique("raw")
    text = json.dumps(event_data(uid), indent=1)
    out = srv.client("cloudtrail-data").put_audit_events(channelArn=channel_arn, auditEvents=[entry("r1", text)])
    assert out["failed"] == []
    wait_for_count(srv.ct(), store, f"eventData.uid = '{uid}'", 1)
    (row,) = values(run(srv.ct(), f"SELECT eventJson FROM {store} WHERE eventData.uid = '{uid}'"))
    stored = json.loads(row[0])
    assert stored["eventData"] == json.loads(text)
    assert stored["eventCategory"] == "ActivityAuditLog"
    assert stored["metadata"]["channelARN"] == channel_arn
    assert stored["eventID"] == out["successful"][0]["eventID"]


def test_events_go_to_every_destination_and_only_there(srv):
    channel_arn, stores = make_channel(srv, n_stores=2)
    other_channel, (other_store,) = make_channel(srv)
    uid = unique("fan")
    out = srv.client("cloudtrail-data").put_audit_events(channelArn=channel_arn, auditEvents=[entry("f", event_data(uid))])
    assert out["failed"] == []
    for store in stores:
        wait_for_count(srv.ct(), store, f"eventData.uid = '{uid}'", 1)
    time.sleep(0.5)
    assert values(run(srv.ct(), f"SELECT COUNT(*) FROM {other_store}")) == [["0"]]
    assert other_channel != channel_arn


@pytest.mark.parametrize(
    "overrides, code, words",
    [
        ({"eventSource": None}, "FieldNotFound", ["eventSource"]),
        ({"UID": None}, "FieldNotFound", ["UID"]),
        ({"userIdentity": {"type": "CustomUser"}}, "FieldNotFound", ["principalId"]),
        ({"eventName": "x" * 1025}, "FieldTooLong", ["eventName", "1024"]),
        ({"errorCode": "x" * 257}, "FieldTooLong", ["errorCode", "256"]),
        ({"requestParameters": {"blob": "x" * (100 * 1024)}}, "FieldTooLong", ["requestParameters"]),
        ({"additionalEventData": {"blob": "x" * (28 * 1024)}}, "FieldTooLong", ["additionalEventData"]),
        ({"eventTime": "2026-11-20 10:00:00"}, "InvalidData", ["eventTime"]),
        ({"sourceIPAddress": "not-an-ip"}, "InvalidData", ["sourceIPAddress"]),
        ({"recipientAccountId": "999999999999"}, "InvalidRecipient", ["recipientAccountId"]),
        ({"eventSource": "s3.amazonaws.com"}, "InvalidEventSource", ["eventSource"]),
    ],
)
def test_each_bad_event_fails_with_its_code_while_the_others_succeed(srv, channel, overrides, code, words):
    channel_arn, _ = channel
    data = event_data(unique("bad"))
    for key, value in overrides.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    out = srv.client("cloudtrail-data").put_audit_events(
        channelArn=channel_arn, auditEvents=[entry("good", event_data(unique("good"))), entry("bad", data)]
    )
    assert [s["id"] for s in out["successful"]] == ["good"]
    (failed,) = out["failed"]
    assert failed["id"] == "bad" and failed["errorCode"] == code, failed
    for word in words:
        assert word in failed["errorMessage"], failed


@pytest.mark.parametrize(
    "text, code",
    [("not json", "InvalidData"), ("[1, 2]", "InvalidData"), ('"a string"', "InvalidData")],
)
def test_event_data_that_is_not_a_json_object_is_invalid(srv, channel, text, code):
    out = srv.client("cloudtrail-data").put_audit_events(channelArn=channel[0], auditEvents=[entry("x", text)])
    assert out["successful"] == [] and out["failed"][0]["errorCode"] == code


def test_a_checksum_mismatch_fails_the_event(srv, channel):
    item = entry("c", event_data(unique("sum")))
    item["eventDataChecksum"] = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    out = srv.client("cloudtrail-data").put_audit_events(channelArn=channel[0], auditEvents=[item])
    assert out["successful"] == []
    assert out["failed"][0]["errorCode"] == "InvalidChecksum"
    # Without a checksum the same event is taken.
    out = srv.client("cloudtrail-data").put_audit_events(
        channelArn=channel[0], auditEvents=[entry("c", event_data(unique("sum")), checksum=False)]
    )
    assert out["failed"] == [] and len(out["successful"]) == 1


def test_call_limits_100_events_and_1_mb(srv, channel):
    channel_arn, (store,) = channel
    data = srv.client("cloudtrail-data")
    uid = unique("hundred")
    out = data.put_audit_events(
        channelArn=channel_arn, auditEvents=[entry(f"e{i}", event_data(f"{uid}-{i}"), checksum=False) for i in range(100)]
    )
    assert len(out["successful"]) == 100 and out["failed"] == []
    wait_for_count(srv.ct(), store, f"eventData.uid LIKE '{uid}-%'", 100)
    with pytest.raises(ClientError) as raised:
        data.put_audit_events(
            channelArn=channel_arn, auditEvents=[entry(f"e{i}", event_data(f"x{i}"), checksum=False) for i in range(101)]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "100" in raised.value.response["Error"]["Message"]
    # Eleven events of about 95 kB each: more than 1 MB in one call.
    big = [entry(f"b{i}", event_data(f"big{i}", errorMessage="m", requestParameters={"p": "x" * 96_000}), checksum=False)
           for i in range(11)]
    with pytest.raises(ClientError) as raised:
        data.put_audit_events(channelArn=channel_arn, auditEvents=big)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "1048576" in raised.value.response["Error"]["Message"]


def test_duplicate_ids_in_one_call_are_refused_whole(srv, channel):
    channel_arn, (store,) = channel
    uid = unique("dup")
    with pytest.raises(ClientError) as raised:
        srv.client("cloudtrail-data").put_audit_events(
            channelArn=channel_arn, auditEvents=[entry("same", event_data(uid)), entry("same", event_data(uid + "b"))]
        )
    assert raised.value.response["Error"]["Code"] == "DuplicatedAuditEventId"
    assert "same" in raised.value.response["Error"]["Message"]
    time.sleep(0.5)
    assert values(run(srv.ct(), f"SELECT COUNT(*) FROM {store} WHERE eventData.uid LIKE '{uid}%'")) == [["0"]]


def test_a_retried_call_does_not_store_its_events_twice(srv, channel):
    channel_arn, (store,) = channel
    data = srv.client("cloudtrail-data")
    uid = unique("retry")
    events = [entry(f"r{i}", event_data(f"{uid}-{i}")) for i in range(5)]
    first = data.put_audit_events(channelArn=channel_arn, auditEvents=events)
    again = data.put_audit_events(channelArn=channel_arn, auditEvents=events)
    assert first["successful"] == again["successful"]
    # A retry that adds a new event stores only that one.
    more = data.put_audit_events(channelArn=channel_arn, auditEvents=events + [entry("r5", event_data(f"{uid}-5"))])
    assert more["successful"][:5] == first["successful"]
    wait_for_count(srv.ct(), store, f"eventData.uid LIKE '{uid}-%'", 6)
    time.sleep(0.5)
    wait_for_count(srv.ct(), store, f"eventData.uid LIKE '{uid}-%'", 6)


def test_unknown_foreign_and_malformed_channels(srv):
    data = srv.client("cloudtrail-data")
    missing = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:channel/01234567-89ab-cdef-0123-456789abcdef"
    for channel_arn, code in [
        (missing, "ChannelNotFound"),
        ("arn:aws:cloudtrail:us-east-1:999999999999:channel/01234567-89ab-cdef-0123-456789abcdef",
         "ChannelInsufficientPermission"),
        ("arn:aws:s3:::not-a-channel", "InvalidChannelARN"),
    ]:
        with pytest.raises(ClientError) as raised:
            data.put_audit_events(channelArn=channel_arn, auditEvents=[entry("x", event_data("x"))])
        assert raised.value.response["Error"]["Code"] == code, (channel_arn, raised.value.response)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_call_is_recorded_as_a_data_event_on_the_channel(srv, channel):
    channel_arn, _ = channel
    ct = srv.ct()
    # Data events are not in Event history; a Lake store of data events sees them.
    store = ct.create_event_data_store(
        Name=unique("data"),
        AdvancedEventSelectors=[{"Name": "channel data events", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::CloudTrail::Channel"]},
        ]}],
        TerminationProtectionEnabled=False,
    )["EventDataStoreArn"].rsplit("/", 1)[1]
    srv.client("cloudtrail-data").put_audit_events(channelArn=channel_arn, auditEvents=[entry("y", event_data("rec2"))])
    wait_for_count(ct, store, "eventName = 'PutAuditEvents'", 1)
    (row,) = values(
        run(ct, f"SELECT eventSource, readOnly, managementEvent, eventJson FROM {store} WHERE eventName = 'PutAuditEvents'")
    )
    assert row[:3] == ["cloudtrail-data.amazonaws.com", "false", "false"]
    record = json.loads(row[3])
    assert record["eventCategory"] == "Data"
    assert {"type": "AWS::CloudTrail::Channel", "ARN": channel_arn} in [
        {k: r[k] for k in ("type", "ARN") if k in r} for r in record["resources"]
    ]
    assert record["requestParameters"]["channelArn"] == channel_arn


def test_acknowledged_events_survive_a_restart_and_retries_after_it_are_not_stored_twice(tmp_path):
    server = CairnServer(tmp_path, config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    try:
        channel_arn, (store,) = make_channel(server)
        events = [entry(f"k{i}", event_data(f"keep-{i}")) for i in range(20)]
        first = server.client("cloudtrail-data").put_audit_events(channelArn=channel_arn, auditEvents=events)
        assert len(first["successful"]) == 20
        server.kill9()
        server.start()
        again = server.client("cloudtrail-data").put_audit_events(channelArn=channel_arn, auditEvents=events)
        assert again["successful"] == first["successful"]
        wait_for_count(server.ct(), store, "eventData.uid LIKE 'keep-%'", 20)
        time.sleep(0.5)
        wait_for_count(server.ct(), store, "eventData.uid LIKE 'keep-%'", 20)
    finally:
        server.close()
