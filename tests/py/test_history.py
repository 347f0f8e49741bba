"""Event history (issue 3): every authenticated call is recorded as an `AwsApiCall`
event before it is answered, and LookupEvents shows it (spec/api.md §1.4, §2.5).

Every test runs against its own cairn (the session server's cleanup sweep would add
events), so a test knows every call its server has seen: each call goes through a
`CapturingClient` that keeps the headers and body boto3 actually sent and the raw
response, and the expected history is computed from that log — including the
LookupEvents calls the test itself made, which are recorded too.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from helpers import (
    ACCOUNT,
    ALICE,
    HOME,
    LONER,
    MEMBER,
    OTHER,
    ROOT,
    HISTORY_CONFIG,
    SESSION_CONFIG,
    THIRD,
    CapturingClient,
    Creds,
    assert_raw_error,
    lookup_pages,
    lower_camel,
    raw_call,
    record_of,
    request_ids,
    send,
    set_header,
    sign_request,
    trail_arn,
    unique,
)

CT_SOURCE = "cloudtrail.amazonaws.com"
S3_SOURCE = "s3.amazonaws.com"
ALICE_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
ALICE_PRINCIPAL = "AIDAEXAMPLEALICE01"
VISIBILITY_BUDGET = 1.0  # seconds from the response to the event showing in LookupEvents
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Lookup", "Head")

# Record members listed in spec/api.md §2.6 that an AwsApiCall record may carry.
REQUIRED_KEYS = {
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "requestParameters", "responseElements", "requestID", "eventID",
    "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory",
}
OPTIONAL_KEYS = {
    "userAgent", "errorCode", "errorMessage", "resources", "additionalEventData", "apiVersion",
    "serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "addendum",
    "sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails",
}

# Latencies measured by the visibility checks: (label, seconds).
LATENCIES: list[tuple[str, float]] = []


# --------------------------------------------------------------------------
# Fixture and the model of what a call's event must be
# --------------------------------------------------------------------------


@pytest.fixture
def hist(new_server):
    """A fresh cairn (session config: alice, org, accounts 222/333; LookupEvents not
    rate-limited) and a factory of capturing clients that share one chronological log."""
    srv = new_server(config=HISTORY_CONFIG)
    ns = SimpleNamespace(srv=srv, log=[], _clients={})

    def client(service="cloudtrail", region=HOME, creds=ROOT, ua=None) -> CapturingClient:
        key = (service, region, creds.access_key, ua, srv.endpoint)
        if key not in ns._clients:
            ns._clients[key] = CapturingClient(service, srv.endpoint, region, creds, log=ns.log, user_agent_extra=ua)
        return ns._clients[key]

    def ct(region=HOME, creds=ROOT, ua=None) -> CapturingClient:
        return client("cloudtrail", region, creds, ua)

    def s3(region=HOME, creds=ROOT, ua=None) -> CapturingClient:
        return client("s3", region, creds, ua)

    def poller(creds=ROOT, region=HOME):
        """A plain boto3 client (calls not logged) for polling; make it before the call
        being measured so that its creation does not count as latency."""
        return hist_poller(srv, creds, region)

    ns.client, ns.ct, ns.s3, ns.poller = client, ct, s3, poller
    ns.host = urlsplit(srv.endpoint).netloc
    return ns


def is_read_only(operation: str) -> bool:
    return operation.startswith(READ_ONLY_PREFIXES)


def identity_of(creds: Creds) -> dict:
    if creds.access_key == ALICE.access_key:
        return {
            "type": "IAMUser",
            "principalId": ALICE_PRINCIPAL,
            "arn": ALICE_ARN,
            "accountId": ACCOUNT,
            "accessKeyId": ALICE.access_key,
            "userName": "alice",
        }
    return {
        "type": "Root",
        "principalId": creds.account,
        "arn": f"arn:aws:iam::{creds.account}:root",
        "accountId": creds.account,
        "accessKeyId": creds.access_key,
    }


def username_of(creds: Creds) -> str:
    return "alice" if creds.access_key == ALICE.access_key else "root"


def resources_of(ex) -> list:
    """resources[] of a call: the trail it names (Name / TrailName / ResourceId, a name
    taken in the caller's account and region), or the bucket of an S3 bucket call."""
    params = ex.params or {}
    if ex.service == "s3":
        bucket = params.get("Bucket")
        if not bucket:
            return []
        return [{"accountId": ex.creds.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    for member in ("Name", "TrailName", "ResourceId"):
        name = params.get(member)
        if name:
            arn = name if name.startswith("arn:") else trail_arn(name, ex.region, ex.creds.account)
            return [{"accountId": arn.split(":")[4], "type": "AWS::CloudTrail::Trail", "ARN": arn}]
    return []


def expected_record(ex, host: str) -> dict:
    """Every record member that the request and its response determine."""
    read_only = is_read_only(ex.operation)
    if ex.service == "cloudtrail":
        sent = ex.sent_json()
        request_parameters = lower_camel(sent) if sent else None
        response_elements = None
        if ex.ok and not read_only:
            body = ex.response_json()
            response_elements = lower_camel(body) if body else None
        source = CT_SOURCE
    else:
        request_parameters = {"Host": host}
        if (ex.params or {}).get("Bucket"):
            request_parameters["bucketName"] = ex.params["Bucket"]
        response_elements = None
        source = S3_SOURCE
    rec = {
        "eventVersion": "1.11",
        "userIdentity": identity_of(ex.creds),
        "eventSource": source,
        "eventName": ex.operation,
        "awsRegion": ex.region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": ex.user_agent,
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": ex.request_id,
        "readOnly": read_only,
        "resources": resources_of(ex),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ex.creds.account,
        "eventCategory": "Management",
    }
    if not ex.ok:
        rec["errorCode"] = ex.error_code
        rec["errorMessage"] = ex.error_message
    return rec


def parse_event_time(text: str) -> float:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), f"eventTime {text!r} is not YYYY-MM-DDTHH:MM:SSZ"
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def assert_record(rec: dict, ex, host: str) -> None:
    """The record of `ex`, member by member."""
    keys = set(rec)
    assert REQUIRED_KEYS <= keys, f"record lacks {sorted(REQUIRED_KEYS - keys)}: {rec}"
    assert keys <= REQUIRED_KEYS | OPTIONAL_KEYS, f"record has unknown members {sorted(keys - REQUIRED_KEYS - OPTIONAL_KEYS)}"
    want = expected_record(ex, host)
    got = {k: rec.get(k) for k in want}
    if got.get("resources") is None and want["resources"] == []:
        got["resources"] = []  # an empty resources[] may be omitted
    for k in want:
        assert got[k] == want[k], f"{ex.operation} record member {k}: {got[k]!r} != expected {want[k]!r}"
    if ex.ok:
        assert "errorCode" not in rec and "errorMessage" not in rec, f"successful call has an error: {rec}"
    # eventTime: whole seconds, UTC, within the call.
    t = parse_event_time(rec["eventTime"])
    assert int(ex.t_start) <= t <= ex.t_end + 0.001, f"eventTime {rec['eventTime']} outside the call {ex.t_start}..{ex.t_end}"
    # eventID: a canonical UUID, distinct from the request ID.
    assert str(uuid.UUID(rec["eventID"])) == rec["eventID"], f"eventID {rec['eventID']!r} is not a canonical UUID"
    assert rec["eventID"] != rec["requestID"]
    assert isinstance(rec["readOnly"], bool) and rec["managementEvent"] is True
    if rec.get("userAgent") is not None:
        assert len(rec["userAgent"].encode()) <= 1024


def assert_event_matches_record(event: dict, rec: dict, creds: Creds) -> None:
    """LookupEvents' `Event` is derived from its record."""
    assert event["EventId"] == rec["eventID"]
    assert event["EventName"] == rec["eventName"]
    assert event["ReadOnly"] == ("true" if rec["readOnly"] else "false"), f"ReadOnly {event.get('ReadOnly')!r}"
    assert event["AccessKeyId"] == rec["userIdentity"]["accessKeyId"] == creds.access_key
    assert event["EventTime"].timestamp() == parse_event_time(rec["eventTime"])
    assert event["EventSource"] == rec["eventSource"]
    assert event["Username"] == username_of(creds)
    assert event["Resources"] == [
        {"ResourceType": r["type"], "ResourceName": r["ARN"]} for r in rec.get("resources", [])
    ]
    assert set(event) <= {
        "EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime", "EventSource", "Username",
        "Resources", "CloudTrailEvent",
    }, f"unknown Event members {sorted(event)}"


def await_event(poller, ex, label: str) -> tuple[dict, float]:
    """Polls LookupEvents (by EventName, in the caller's account and region) until the
    event with ex.request_id appears; fails if that takes longer than VISIBILITY_BUDGET
    after the response. Returns (Event, seconds from the response to seeing it)."""
    assert ex.request_id, f"{ex.operation}: no request ID in the response"
    deadline = ex.t_end + VISIBILITY_BUDGET
    polls = 0
    while True:
        polls += 1
        resp = poller.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": ex.operation}], MaxResults=50
        )
        seen = time.time()
        hits = [e for e in resp["Events"] if record_of(e).get("requestID") == ex.request_id]
        assert len(hits) <= 1, f"{label}: {len(hits)} events for request {ex.request_id}"
        if hits:
            latency = seen - ex.t_end
            LATENCIES.append((label, latency))
            print(f"visibility {label}: {latency * 1000:.1f} ms after the response ({polls} polls)")
            assert latency <= VISIBILITY_BUDGET
            return hits[0], latency
        if seen > deadline:
            raise AssertionError(
                f"{label}: event for request {ex.request_id} not in LookupEvents {VISIBILITY_BUDGET}s after the "
                f"response ({polls} polls)"
            )
        time.sleep(0.01)


def hist_poller(srv, creds=ROOT, region=HOME):
    return srv.client("cloudtrail", region, creds)


def poller_for(hist, creds=ROOT, region=HOME):
    return hist.poller(creds, region)


def check_call(hist, ex, label, creds=None, region=None):
    creds = creds or ex.creds
    event, _ = await_event(poller_for(hist, creds, region or ex.region), ex, label)
    rec = record_of(event)
    assert_record(rec, ex, hist.host)
    assert_event_matches_record(event, rec, creds)
    return event, rec


def listing(hist, client: CapturingClient, **params) -> list:
    events, _ = lookup_pages(client, **params)
    return events


# --------------------------------------------------------------------------
# (a) Field by field
# --------------------------------------------------------------------------


def test_create_trail_success_event(hist):
    hist.poller()
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("hist")
    ex = hist.ct(ua="cairn-history-tests/1.0").must(
        "create_trail", Name=name, S3BucketName=bucket, S3KeyPrefix="logs", IsMultiRegionTrail=True,
        TagsList=[{"Key": "team", "Value": "sec"}],
    )
    assert ex.user_agent and ex.user_agent.endswith("cairn-history-tests/1.0")
    event, rec = check_call(hist, ex, "CreateTrail")
    assert rec["requestParameters"] == {
        "name": name, "s3BucketName": bucket, "s3KeyPrefix": "logs", "isMultiRegionTrail": True,
        "tagsList": [{"key": "team", "value": "sec"}],
    }
    assert rec["responseElements"]["trailARN"] == trail_arn(name)
    assert rec["responseElements"]["name"] == name
    assert rec["resources"] == [{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail", "ARN": trail_arn(name)}]
    assert rec["readOnly"] is False and event["ReadOnly"] == "false"
    assert event["Username"] == "root"


def test_get_trail_read_only_event(hist):
    hist.poller()
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("hist")
    hist.ct().must("create_trail", Name=name, S3BucketName=bucket)
    ex = hist.ct().must("get_trail", Name=name)
    event, rec = check_call(hist, ex, "GetTrail")
    assert rec["readOnly"] is True and event["ReadOnly"] == "true"
    assert rec["responseElements"] is None
    assert rec["requestParameters"] == {"name": name}
    assert event["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": trail_arn(name)}]
    # A read-only call with an empty request body `{}`: requestParameters null, no resources.
    ex = hist.ct().must("list_trails")
    assert ex.sent_body == b"{}"
    event, rec = check_call(hist, ex, "ListTrails")
    assert rec["requestParameters"] is None and rec["responseElements"] is None
    assert event["Resources"] == []


def test_empty_output_mutation_event(hist):
    """A mutating call whose output is `{}`: responseElements null, readOnly false."""
    hist.poller()
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("hist")
    hist.ct().must("create_trail", Name=name, S3BucketName=bucket)
    ex = hist.ct().must("start_logging", Name=trail_arn(name))
    assert ex.response_json() == {}
    _, rec = check_call(hist, ex, "StartLogging")
    assert rec["responseElements"] is None and rec["readOnly"] is False
    assert rec["requestParameters"] == {"name": trail_arn(name)}


def test_validation_error_event(hist):
    hist.poller()
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    ex = hist.ct().call("create_trail", Name="-bad", S3BucketName=bucket)
    assert ex.error_code == "InvalidTrailNameException" and ex.status == 400
    event, rec = check_call(hist, ex, "CreateTrail (InvalidTrailNameException)")
    assert rec["errorCode"] == "InvalidTrailNameException"
    assert rec["errorMessage"] == ex.error_message and rec["errorMessage"]
    assert rec["responseElements"] is None
    assert rec["requestParameters"] == {"name": "-bad", "s3BucketName": bucket}
    assert rec["readOnly"] is False


def test_access_error_event_is_recorded_in_the_callers_account(hist):
    """A member account changing the management account's organization trail."""
    hist.poller(MEMBER)
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("org")
    arn = hist.ct().must("create_trail", Name=name, S3BucketName=bucket, IsOrganizationTrail=True,
                         IsMultiRegionTrail=True).parsed["TrailARN"]
    ex = hist.ct(creds=MEMBER).call("stop_logging", Name=arn)
    assert ex.error_code == "NotOrganizationMasterAccountException", ex.error_code
    event, rec = check_call(hist, ex, "StopLogging (NotOrganizationMasterAccountException)")
    assert rec["recipientAccountId"] == MEMBER.account
    assert rec["userIdentity"]["accountId"] == MEMBER.account
    assert rec["resources"] == [{"accountId": ACCOUNT, "type": "AWS::CloudTrail::Trail", "ARN": arn}]
    # Recorded for the caller, not for the trail's owner.
    mine = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])
    assert mine == []


def test_shadow_trail_mutation_error_event(hist):
    """InvalidHomeRegionException: recorded in the region called, not the trail's home."""
    hist.poller(ROOT, OTHER)
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("multi")
    hist.ct().must("create_trail", Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)
    ex = hist.ct(OTHER).call("stop_logging", Name=trail_arn(name))
    assert ex.error_code == "InvalidHomeRegionException", ex.error_code
    _, rec = check_call(hist, ex, "StopLogging (InvalidHomeRegionException)")
    assert rec["awsRegion"] == OTHER
    home = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}])
    assert home == []


def test_s3_create_bucket_event(hist):
    hist.poller()
    name = unique("hist-bkt")
    ex = hist.s3(ua="cairn-history-tests/s3").must("create_bucket", Bucket=name)
    event, rec = check_call(hist, ex, "CreateBucket", creds=ROOT, region=HOME)
    assert rec["eventSource"] == S3_SOURCE and event["EventSource"] == S3_SOURCE
    assert rec["requestParameters"]["bucketName"] == name
    assert rec["responseElements"] is None
    assert rec["readOnly"] is False
    assert event["Resources"] == [{"ResourceType": "AWS::S3::Bucket", "ResourceName": f"arn:aws:s3:::{name}"}]
    # An S3 failure is recorded with the S3 error code and message.
    ex = hist.s3().call("delete_bucket", Bucket=unique("missing-bkt"))
    assert ex.error_code == "NoSuchBucket", ex.error_code
    _, rec = check_call(hist, ex, "DeleteBucket (NoSuchBucket)")
    assert rec["errorCode"] == "NoSuchBucket" and rec["errorMessage"] == ex.error_message
    # A read-only S3 call.
    ex = hist.s3().must("list_buckets")
    _, rec = check_call(hist, ex, "ListBuckets")
    assert rec["readOnly"] is True and rec["responseElements"] is None


def test_iam_user_event(hist):
    hist.poller(), hist.poller(ALICE)
    bucket = hist.s3(creds=ALICE).must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    name = unique("alice")
    ex = hist.ct(creds=ALICE).must("create_trail", Name=name, S3BucketName=bucket)
    event, rec = check_call(hist, ex, "CreateTrail (IAM user)")
    assert rec["userIdentity"] == {
        "type": "IAMUser",
        "principalId": ALICE_PRINCIPAL,
        "arn": ALICE_ARN,
        "accountId": ACCOUNT,
        "accessKeyId": ALICE.access_key,
        "userName": "alice",
    }
    assert event["Username"] == "alice"
    assert event["AccessKeyId"] == ALICE.access_key
    # alice's calls are in her account's history, which root sees too.
    ex2 = hist.ct(creds=ALICE).must("get_trail", Name=name)
    event2, _ = await_event(poller_for(hist, ROOT), ex2, "GetTrail (IAM user, seen by root)")
    assert event2["Username"] == "alice"


def test_long_user_agent_is_cut_to_1kb(hist):
    ua = "cairn-long-agent/" + "x" * 3000
    req = sign_request(hist.srv.endpoint, "ListTrails", {})
    set_header(req, "User-Agent", ua)
    t0 = time.time()
    resp = send(req)
    assert resp.status == 200
    rid = resp.header("x-amzn-RequestId")
    assert rid
    events = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListTrails"}])
    [rec] = [record_of(e) for e in events if record_of(e)["requestID"] == rid]
    got = rec["userAgent"]
    assert 0 < len(got.encode()) <= 1024, len(got.encode())
    assert ua.startswith(got) and len(got) >= 1000
    assert parse_event_time(rec["eventTime"]) >= int(t0)


# --------------------------------------------------------------------------
# (b) Newest first
# --------------------------------------------------------------------------


def run_workload(hist) -> dict:
    """A mix of calls by root and alice, CloudTrail and S3, successes and failures."""
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    t1, t2, t3 = unique("one"), unique("two"), unique("three")
    hist.ct().must("create_trail", Name=t1, S3BucketName=bucket)
    hist.ct().must("create_trail", Name=t2, S3BucketName=bucket)
    hist.ct().must("get_trail", Name=t1)
    hist.ct().must("start_logging", Name=t1)
    hist.ct().must("get_trail_status", Name=trail_arn(t1))
    hist.ct().must("describe_trails")
    hist.ct().must("list_trails")
    hist.ct().must("put_event_selectors", TrailName=t2, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    hist.ct().call("get_trail", Name=unique("missing"))
    hist.ct(creds=ALICE).must("get_trail", Name=t2)
    hist.ct(creds=ALICE).must("create_trail", Name=t3, S3BucketName=bucket)
    hist.ct(creds=ALICE).must("add_tags", ResourceId=trail_arn(t3), TagsList=[{"Key": "k", "Value": "v"}])
    hist.ct(creds=ALICE).call("delete_trail", Name=unique("missing"))
    hist.s3().must("head_bucket", Bucket=bucket)
    hist.s3().must("list_buckets")
    hist.s3(creds=ALICE).call("delete_bucket", Bucket=unique("missing-bkt"))
    return {"bucket": bucket, "trails": (t1, t2, t3)}


def expected_ids(log, account=ACCOUNT, region=HOME, where=lambda ex: True) -> list:
    """Request IDs of the logged calls in one account and region, newest first."""
    return [
        ex.request_id for ex in reversed(log)
        if ex.creds.account == account and ex.region == region and ex.request_id and where(ex)
    ]


def test_newest_first(hist):
    run_workload(hist)
    before = list(hist.log)
    events = listing(hist, hist.ct())
    assert request_ids(events) == expected_ids(before), "LookupEvents is not every call, newest first"
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    # Every call of the workload has a record matching it, field by field.
    by_id = {record_of(e)["requestID"]: (e, record_of(e)) for e in events}
    for ex in before:
        event, rec = by_id[ex.request_id]
        assert_record(rec, ex, hist.host)
        assert_event_matches_record(event, rec, ex.creds)
    assert len({e["EventId"] for e in events}) == len(events)


# --------------------------------------------------------------------------
# (c) The eight lookup attributes
# --------------------------------------------------------------------------


def attribute_values(ex) -> dict:
    """What each lookup attribute is for the event of `ex` (by the recording rules)."""
    res = resources_of(ex)
    return {
        "EventName": {ex.operation},
        "ReadOnly": {"true" if is_read_only(ex.operation) else "false"},
        "Username": {username_of(ex.creds)},
        "ResourceType": {r["type"] for r in res},
        "ResourceName": {r["ARN"] for r in res},
        "EventSource": {CT_SOURCE if ex.service == "cloudtrail" else S3_SOURCE},
        "AccessKeyId": {ex.creds.access_key},
    }


def queries_for(state) -> dict:
    t1, t2, t3 = state["trails"]
    return {
        "EventName": ["CreateTrail", "GetTrail", "CreateBucket", "LookupEvents", "DeleteTrail", "NoSuchOperation"],
        "ReadOnly": ["true", "false"],
        "Username": ["root", "alice", "bob"],
        "ResourceType": ["AWS::CloudTrail::Trail", "AWS::S3::Bucket", "AWS::EC2::Instance"],
        "ResourceName": [trail_arn(t1), trail_arn(t3), f"arn:aws:s3:::{state['bucket']}", trail_arn("nothing-here")],
        "EventSource": [CT_SOURCE, S3_SOURCE, "iam.amazonaws.com"],
        "AccessKeyId": [ROOT.access_key, ALICE.access_key, "AKIANOBODY0000000000"],
    }


@pytest.mark.parametrize(
    "key", ["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"]
)
def test_lookup_attribute(hist, key):
    state = run_workload(hist)
    if key == "EventId":
        everything = listing(hist, hist.ct())
        for pick in (everything[0], everything[len(everything) // 2], everything[-1]):
            got = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": pick["EventId"]}])
            assert got == [pick], f"EventId {pick['EventId']}: {request_ids(got)}"
        got = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": str(uuid.uuid4())}])
        assert got == []
        return
    nonempty = 0
    for value in queries_for(state)[key]:
        before = list(hist.log)
        want = expected_ids(before, where=lambda ex: value in attribute_values(ex)[key])
        events = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
        got = request_ids(events)
        assert got == want, (
            f"{key}={value}: got {len(got)} events, expected {len(want)}; "
            f"unexpected {[record_of(e)['eventName'] for e in events if record_of(e)['requestID'] not in want]}, "
            f"missing {[ex.operation for ex in before if ex.request_id in set(want) - set(got)]}"
        )
        nonempty += bool(want)
    assert nonempty >= 2, "the workload does not exercise this attribute"


def test_lookup_attribute_is_case_sensitive_on_keys(hist):
    hist.ct().must("list_trails")
    r = raw_call(hist.srv.endpoint, "LookupEvents",
                 {"LookupAttributes": [{"AttributeKey": "eventName", "AttributeValue": "ListTrails"}]})
    assert_raw_error(r, "InvalidLookupAttributesException")


# --------------------------------------------------------------------------
# (d) Time windows
# --------------------------------------------------------------------------


def sleep_into_next_second():
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.05)


def test_time_window_is_inclusive(hist):
    calls = []
    for i in range(3):
        if i:
            sleep_into_next_second()
        calls.append(hist.ct().must("describe_trails"))
    by_name = [{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]
    events = listing(hist, hist.ct(), LookupAttributes=by_name)
    assert request_ids(events) == [c.request_id for c in reversed(calls)]
    tc, tb, ta = (e["EventTime"].timestamp() for e in events)
    assert ta < tb < tc, "the three calls were made in three different seconds"
    a, b, c = (x.request_id for x in calls)

    def window(start=None, end=None, attrs=by_name):
        kw = {}
        if start is not None:
            kw["StartTime"] = start
        if end is not None:
            kw["EndTime"] = end
        if attrs:
            kw["LookupAttributes"] = attrs
        return request_ids(listing(hist, hist.ct(), **kw))

    assert window(tb, tb) == [b], "StartTime and EndTime are both inclusive"
    assert window(tb, None) == [c, b]
    assert window(None, tb) == [b, a]
    assert window(tb + 0.001, None) == [c]
    assert window(None, tb - 0.001) == [a]
    assert window(ta, tc) == [c, b, a]
    assert window(tb + 0.001, tc - 0.001) == []
    assert window(time.time() + 3600, None) == []
    assert window(None, 1_000_000) == []
    assert window(dt.datetime.fromtimestamp(tb, dt.timezone.utc), dt.datetime.fromtimestamp(tb, dt.timezone.utc)) == [b]
    # Without an attribute: only the call in that second (everything else came later).
    assert window(tb, tb, attrs=None) == [b]
    # Within 90 days, an early StartTime is no restriction.
    assert window(time.time() - 89 * 86400, None) == [c, b, a]


def test_time_range_errors(hist):
    now = time.time()
    ex = hist.ct().call("lookup_events", StartTime=now, EndTime=now - 60)
    assert ex.error_code == "InvalidTimeRangeException" and ex.status == 400, (ex.error_code, ex.status)
    ex = hist.ct().call("lookup_events", StartTime=now, EndTime=now - 0.5)
    assert ex.error_code == "InvalidTimeRangeException", ex.error_code
    # Equal times are a valid (one-instant) window.
    assert hist.ct().call("lookup_events", StartTime=int(now), EndTime=int(now)).ok


# --------------------------------------------------------------------------
# (e) Pagination
# --------------------------------------------------------------------------


@pytest.mark.parametrize("max_results", [1, 2, 3, 4, 5])
def test_pagination_returns_every_event_once(hist, max_results):
    run_workload(hist)
    for attrs in (None, [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]):
        before = list(hist.log)
        kw = {"LookupAttributes": attrs} if attrs else {}
        events, pages = lookup_pages(hist.ct(), max_results=max_results, **kw)
        want = expected_ids(before, where=(lambda ex: not is_read_only(ex.operation)) if attrs else (lambda ex: True))
        got = request_ids(events)
        assert len(got) == len(set(got)), f"MaxResults={max_results}: duplicates across pages"
        assert got == want, f"MaxResults={max_results} attrs={attrs}: {len(got)} events, expected {len(want)}"
        assert all(len(p["Events"]) <= max_results for p in pages)
        assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
        assert len(pages) >= len(want) // max_results


def test_boto3_paginator(hist):
    state = run_workload(hist)
    paginator = hist.ct().client.get_paginator("lookup_events")
    before = list(hist.log)
    got = [e for page in paginator.paginate(PaginationConfig={"PageSize": 3}) for e in page["Events"]]
    assert request_ids(got) == expected_ids(before)
    # Filtered, with MaxItems and a resume from the paginator's NextToken.
    t1 = state["trails"][0]
    attrs = [{"AttributeKey": "ResourceName", "AttributeValue": trail_arn(t1)}]
    before = list(hist.log)
    want = expected_ids(before, where=lambda ex: trail_arn(t1) in attribute_values(ex)["ResourceName"])
    assert len(want) >= 4
    first = paginator.paginate(LookupAttributes=attrs, PaginationConfig={"PageSize": 2, "MaxItems": 3}).build_full_result()
    assert request_ids(first["Events"]) == want[:3]
    assert first.get("NextToken")
    rest = paginator.paginate(
        LookupAttributes=attrs, PaginationConfig={"PageSize": 2, "StartingToken": first["NextToken"]}
    ).build_full_result()
    assert request_ids(rest["Events"]) == want[3:]


def test_next_token_is_stable_while_new_events_arrive(hist):
    run_workload(hist)
    before = list(hist.log)
    want = expected_ids(before)
    seen, token = [], None
    while True:
        kw = {"MaxResults": 2}
        if token:
            kw["NextToken"] = token
        resp = hist.ct().must("lookup_events", **kw).parsed
        seen += request_ids(resp["Events"])
        hist.ct().must("list_trails")  # newer events between pages
        token = resp.get("NextToken")
        if not token:
            break
    assert seen == want


def test_next_token_with_changed_parameters(hist):
    run_workload(hist)
    attrs = [{"AttributeKey": "EventSource", "AttributeValue": CT_SOURCE}]
    start = time.time() - 3600
    first = hist.ct().must("lookup_events", LookupAttributes=attrs, StartTime=start, MaxResults=2).parsed
    token = first["NextToken"]
    # Same parameters: fine.
    assert hist.ct().call("lookup_events", LookupAttributes=attrs, StartTime=start, MaxResults=2, NextToken=token).ok
    changed = {
        "other attribute value": dict(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": S3_SOURCE}], StartTime=start),
        "other attribute key": dict(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}], StartTime=start),
        "no attribute": dict(StartTime=start),
        "other StartTime": dict(LookupAttributes=attrs, StartTime=start - 60),
        "no StartTime": dict(LookupAttributes=attrs),
        "added EndTime": dict(LookupAttributes=attrs, StartTime=start, EndTime=time.time() + 60),
    }
    for label, kw in changed.items():
        ex = hist.ct().call("lookup_events", MaxResults=2, NextToken=token, **kw)
        assert ex.error_code == "InvalidNextTokenException", f"{label}: {ex.error_code or 'accepted'}"
    for bogus in ("not-a-token", token[:-1], "00" + token, token + "3a31"):
        ex = hist.ct().call("lookup_events", LookupAttributes=attrs, StartTime=start, MaxResults=2, NextToken=bogus)
        assert ex.error_code == "InvalidNextTokenException", f"token {bogus!r}: {ex.error_code or 'accepted'}"


# --------------------------------------------------------------------------
# (f) Regions and accounts
# --------------------------------------------------------------------------


def test_region_isolation(hist):
    bucket = hist.s3().must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    hist.ct().must("create_trail", Name=unique("east"), S3BucketName=bucket)
    west = unique("west")
    hist.ct(OTHER).must("create_trail", Name=west, S3BucketName=bucket)
    hist.ct(OTHER).must("list_trails")
    hist.ct(OTHER).must("get_trail", Name=west)
    hist.ct().must("list_trails")
    hist.ct(OTHER).call("get_trail", Name=unique("missing"))
    for region in (HOME, OTHER, THIRD):
        before = list(hist.log)
        events = listing(hist, hist.ct(region))
        assert request_ids(events) == expected_ids(before, region=region), f"history of {region}"
        assert all(record_of(e)["awsRegion"] == region for e in events)
    west_ids = set(expected_ids(hist.log, region=OTHER))
    east = listing(hist, hist.ct(HOME), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": trail_arn(west, OTHER)}])
    assert east == []
    assert len(west_ids) >= 4


def test_account_isolation(hist):
    bucket = hist.s3(creds=ALICE).must("create_bucket", Bucket=unique("hist-bkt")).params["Bucket"]
    hist.ct(creds=ALICE).must("create_trail", Name=unique("alice"), S3BucketName=bucket)
    hist.ct().must("list_trails")
    lb = hist.s3(creds=LONER).must("create_bucket", Bucket=unique("loner-bkt")).params["Bucket"]
    hist.ct(creds=LONER).must("create_trail", Name=unique("loner"), S3BucketName=lb)
    hist.ct(creds=LONER).call("get_trail", Name=unique("missing"))
    hist.ct(creds=MEMBER).must("list_trails")
    for creds in (ROOT, ALICE, LONER, MEMBER):
        before = list(hist.log)
        events = listing(hist, hist.ct(creds=creds))
        assert request_ids(events) == expected_ids(before, account=creds.account), f"history seen by {creds.label}"
        assert all(record_of(e)["recipientAccountId"] == creds.account for e in events)
    # alice's and root's calls share account 111's history; 333 sees none of them.
    alice_ids = {ex.request_id for ex in hist.log if ex.creds is ALICE}
    assert alice_ids <= set(request_ids(listing(hist, hist.ct())))
    assert not alice_ids & set(request_ids(listing(hist, hist.ct(creds=LONER))))
    assert listing(hist, hist.ct(creds=LONER), LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}]) == []


# --------------------------------------------------------------------------
# (g) Validation errors (each one is itself recorded)
# --------------------------------------------------------------------------

VALIDATION_CASES = {
    "two attributes": ({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"},
        {"AttributeKey": "Username", "AttributeValue": "root"},
    ]}, "InvalidLookupAttributesException"),
    "two equal attributes": ({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"},
        {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"},
    ]}, "InvalidLookupAttributesException"),
    "unknown key": ({"LookupAttributes": [{"AttributeKey": "EventCategory", "AttributeValue": "x"}]},
                    "InvalidLookupAttributesException"),
    "key in other case": ({"LookupAttributes": [{"AttributeKey": "USERNAME", "AttributeValue": "root"}]},
                          "InvalidLookupAttributesException"),
    "start after end": ({"StartTime": 1_700_000_100, "EndTime": 1_700_000_000}, "InvalidTimeRangeException"),
    "MaxResults 51": ({"MaxResults": 51}, "InvalidMaxResultsException"),
    "MaxResults 1000": ({"MaxResults": 1000}, "InvalidMaxResultsException"),
    "MaxResults 0": ({"MaxResults": 0}, "InvalidMaxResultsException"),
    "MaxResults -1": ({"MaxResults": -1}, "InvalidMaxResultsException"),
    "EventCategory Insight": ({"EventCategory": "Insight"}, "InvalidEventCategoryException"),
    "EventCategory management": ({"EventCategory": "management"}, "InvalidEventCategoryException"),
    "EventCategory empty": ({"EventCategory": ""}, "InvalidEventCategoryException"),
    "garbage NextToken": ({"NextToken": "garbage"}, "InvalidNextTokenException"),
}


def test_validation_errors(hist):
    seen = []
    for label, (body, code) in VALIDATION_CASES.items():
        r = raw_call(hist.srv.endpoint, "LookupEvents", body)
        assert r.error_code == code and r.status == 400, f"{label}: expected {code}, got HTTP {r.status} {r.body[:300]!r}"
        assert r.error_message, f"{label}: empty message"
        seen.append((label, code, r.error_message, r.header("x-amzn-RequestId")))
    # Through boto3 too (botocore only checks MaxResults >= 1 on the client side).
    for method_kw, code in (
        (dict(MaxResults=51), "InvalidMaxResultsException"),
        (dict(EventCategory="Insights"), "InvalidEventCategoryException"),
        (dict(StartTime=dt.datetime(2030, 1, 2), EndTime=dt.datetime(2030, 1, 1)), "InvalidTimeRangeException"),
    ):
        ex = hist.ct().call("lookup_events", **method_kw)
        assert ex.error_code == code, f"{method_kw}: {ex.error_code or 'accepted'}"
        seen.append((str(method_kw), code, ex.error_message, ex.request_id))
    # Valid edge values.
    for kw in (dict(MaxResults=1), dict(MaxResults=50)):
        ex = hist.ct().call("lookup_events", **kw)
        assert ex.ok and 1 <= len(ex.parsed["Events"]) <= kw["MaxResults"], (kw, ex.error_code)
    # EventCategory=insight: Insights events only, and there are none (no trail has Insights).
    ex = hist.ct().call("lookup_events", EventCategory="insight")
    assert ex.ok and ex.parsed["Events"] == [], ex.error_code
    # Each failed LookupEvents is an event with its error.
    events = listing(hist, hist.ct(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    by_id = {record_of(e)["requestID"]: record_of(e) for e in events}
    for label, code, message, rid in seen:
        assert rid in by_id, f"{label}: the failed call (request {rid}) is not in the history"
        rec = by_id[rid]
        assert rec["errorCode"] == code and rec["errorMessage"] == message, f"{label}: {rec.get('errorCode')}"
        assert rec["readOnly"] is True and rec["responseElements"] is None


def test_auth_failures_are_not_recorded(hist):
    hist.ct().must("list_trails")
    stranger = Creds("AKIASTRANGER00000001", "not-a-known-secret", "999999999999", "stranger")
    r1 = raw_call(hist.srv.endpoint, "ListTrails", {}, creds=stranger)
    wrong_secret = Creds(ROOT.access_key, "wrong-secret", ROOT.account, "wrong")
    r2 = raw_call(hist.srv.endpoint, "ListTrails", {}, creds=wrong_secret)
    for r in (r1, r2):
        assert r.status in (400, 403), r.status
    before = list(hist.log)
    events = listing(hist, hist.ct())
    assert request_ids(events) == expected_ids(before)
    ids = set(request_ids(events))
    for r in (r1, r2):
        rid = r.header("x-amzn-RequestId")
        assert rid is None or rid not in ids


# --------------------------------------------------------------------------
# (h) kill -9
# --------------------------------------------------------------------------


def test_history_survives_kill9(hist):
    state = run_workload(hist)
    full, _ = lookup_pages(hist.ct())
    writes, _ = lookup_pages(hist.ct(), LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    last = hist.ct().must("create_trail", Name=unique("last"), S3BucketName=state["bucket"])
    hist.srv.kill9()
    hist.srv.start()
    hist._clients.clear()  # new port
    writes_after, _ = lookup_pages(hist.ct(), LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    assert request_ids(writes_after)[0] == last.request_id, "the call acknowledged just before kill -9 is lost"
    assert writes_after[1:] == writes, "write events differ after kill -9"
    full_after, _ = lookup_pages(hist.ct())
    # Newer than the first listing: its own LookupEvents calls, the second listing's and `last`.
    n_new = len(full_after) - len(full)
    assert full_after[n_new:] == full, "events (or their CloudTrailEvent strings) changed across kill -9"
    assert [e["CloudTrailEvent"] for e in full_after[n_new:]] == [e["CloudTrailEvent"] for e in full]
    assert {record_of(e)["eventName"] for e in full_after[:n_new]} == {"LookupEvents", "CreateTrail"}
    assert last.request_id in request_ids(full_after[:n_new])


# --------------------------------------------------------------------------
# Rate limit (spec/api.md §2.5: 2 TPS per account and region)
# --------------------------------------------------------------------------


def test_lookup_events_rate_limit(new_server):
    """Default limit: a burst is throttled with ThrottlingException in one account and
    region only, and the throttled call is recorded like any other failure."""
    srv = new_server(config=SESSION_CONFIG)
    ct = CapturingClient("cloudtrail", srv.endpoint)
    results = [ct.call("lookup_events", MaxResults=1) for _ in range(30)]
    throttled = [ex for ex in results if not ex.ok]
    assert throttled, "30 LookupEvents calls at once were all served (AWS allows 2 per second)"
    assert all(ex.error_code == "ThrottlingException" and ex.status == 400 for ex in throttled), \
        {(ex.error_code, ex.status) for ex in throttled}
    assert len(throttled) >= 10
    # Other accounts and regions have their own budget.
    assert CapturingClient("cloudtrail", srv.endpoint, OTHER).call("lookup_events", MaxResults=1).ok
    assert CapturingClient("cloudtrail", srv.endpoint, HOME, LONER).call("lookup_events", MaxResults=1).ok
    time.sleep(1.1)
    ex = ct.call("lookup_events", LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    assert ex.ok, ex.error_code
    recorded = {record_of(e)["requestID"]: record_of(e) for e in ex.parsed["Events"]}
    last = throttled[-1]
    assert last.request_id in recorded, "the throttled call is not in the history"
    assert recorded[last.request_id]["errorCode"] == "ThrottlingException"
