"""Raw response bodies checked against botocore's cloudtrail model (output shapes).

Each operation is driven to a response with as many members populated as possible,
then the raw JSON is walked against `operation_model(op).output_shape`: no undeclared
members, no nulls, declared types (timestamps as epoch numbers), enum membership and
required members.
"""

from __future__ import annotations

import base64
import json
import math

import botocore.session
import pytest

from helpers import (
    ACCOUNT,
    CWL_GROUP_ARN,
    CWL_ROLE_ARN,
    HOME,
    KMS_KEY_ARN,
    OTHER,
    TOPIC_ARN,
    RawResponse,
    create_bucket,
    raw_call,
    unique,
)

MODEL = botocore.session.get_session().get_service_model("cloudtrail")


def shape_errors(value, shape, path="$") -> list[str]:
    errs: list[str] = []
    t = shape.type_name
    if value is None:
        return [f"{path}: null (optional members must be omitted)"]
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected object for {shape.name}, got {type(value).__name__}"]
        for k, v in value.items():
            if k not in shape.members:
                errs.append(f"{path}.{k}: not a member of {shape.name}")
            else:
                errs += shape_errors(v, shape.members[k], f"{path}.{k}")
        for req in shape.required_members:
            if req not in value:
                errs.append(f"{path}.{req}: required member of {shape.name} missing")
    elif t == "list":
        if not isinstance(value, list):
            return [f"{path}: expected array, got {type(value).__name__}"]
        for i, item in enumerate(value):
            errs += shape_errors(item, shape.member, f"{path}[{i}]")
    elif t == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected object (map), got {type(value).__name__}"]
        for k, v in value.items():
            errs += shape_errors(k, shape.key, f"{path}<key {k!r}>")
            errs += shape_errors(v, shape.value, f"{path}[{k!r}]")
    elif t == "string":
        if not isinstance(value, str):
            return [f"{path}: expected string, got {type(value).__name__} {value!r}"]
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            errs.append(f"{path}: {value!r} not in enum {shape.name} {enum}")
    elif t == "boolean":
        if not isinstance(value, bool):
            errs.append(f"{path}: expected boolean, got {type(value).__name__} {value!r}")
    elif t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errs.append(f"{path}: expected integer, got {type(value).__name__} {value!r}")
    elif t in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errs.append(f"{path}: expected number, got {type(value).__name__} {value!r}")
    elif t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            errs.append(f"{path}: timestamp must be epoch seconds as a JSON number, got {type(value).__name__} {value!r}")
        elif not (1_000_000_000 < value < 10_000_000_000):
            errs.append(f"{path}: timestamp {value!r} is not plausible epoch seconds")
    elif t == "blob":
        if not isinstance(value, str):
            errs.append(f"{path}: blob must be a base64 string, got {type(value).__name__}")
        else:
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                errs.append(f"{path}: blob is not valid base64")
    else:
        errs.append(f"{path}: unhandled shape type {t}")
    return errs


def assert_conforms(op: str, resp: RawResponse) -> dict:
    assert resp.status == 200, f"{op}: HTTP {resp.status} {resp.body[:1000]!r}"
    ctype = resp.header("Content-Type") or ""
    assert ctype.startswith(("application/x-amz-json-1.1", "application/json")), f"{op}: Content-Type {ctype!r}"
    try:
        body = json.loads(resp.body.decode("utf-8"))
    except ValueError as e:
        raise AssertionError(f"{op}: body is not JSON: {resp.body[:500]!r}") from e
    assert isinstance(body, dict), f"{op}: body must be a JSON object"
    out = MODEL.operation_model(op).output_shape
    if out is None:
        assert body == {}, f"{op}: empty output must be {{}}, got {body}"
        return body
    errs = shape_errors(body, out)
    assert not errs, f"{op} response violates the model:\n  " + "\n  ".join(errs) + f"\nbody: {json.dumps(body)[:2000]}"
    return body


# ------------------------------------------------------------------ fixtures

ADVANCED = [
    {
        "Name": "s3 data",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::some-bucket/"]},
        ],
    }
]
BASIC = [
    {
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/"]}],
        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
    }
]


class Rich:
    """A trail with every optional member set, selectors, insights, tags and logging history."""

    def __init__(self, server):
        self.server = server
        self.ep = server.endpoint
        self.bucket = create_bucket(server.s3())
        self.name = unique("rich")
        self.arn = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{self.name}"
        self.create_body = {
            "Name": self.name,
            "S3BucketName": self.bucket,
            "S3KeyPrefix": "rich/prefix",
            "SnsTopicName": TOPIC_ARN,
            "IncludeGlobalServiceEvents": True,
            "IsMultiRegionTrail": True,
            "EnableLogFileValidation": True,
            "CloudWatchLogsLogGroupArn": CWL_GROUP_ARN,
            "CloudWatchLogsRoleArn": CWL_ROLE_ARN,
            "KmsKeyId": KMS_KEY_ARN,
            "TagsList": [{"Key": "a", "Value": "1"}, {"Key": "novalue"}],
        }

    def call(self, op, body, region=HOME):
        return raw_call(self.ep, op, body, region=region)

    def create(self) -> RawResponse:
        return self.call("CreateTrail", self.create_body)

    def setup(self, selectors="advanced", logging="stopped"):
        r = self.create()
        assert r.status == 200, r.body
        ok = lambda r: r.status == 200 or pytest.fail(f"setup failed: {r.body!r}")  # noqa: E731
        if selectors == "advanced":
            ok(self.call("PutEventSelectors", {"TrailName": self.name, "AdvancedEventSelectors": ADVANCED}))
        elif selectors == "basic":
            ok(self.call("PutEventSelectors", {"TrailName": self.name, "EventSelectors": BASIC}))
        ok(
            self.call(
                "PutInsightSelectors",
                {
                    "TrailName": self.name,
                    "InsightSelectors": [
                        {"InsightType": "ApiCallRateInsight", "EventCategories": ["Management"]},
                        {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management"]},
                    ],
                },
            )
        )
        if logging in ("started", "stopped"):
            ok(self.call("StartLogging", {"Name": self.name}))
        if logging == "stopped":
            ok(self.call("StopLogging", {"Name": self.name}))
        return self


@pytest.fixture
def rich(server):
    return Rich(server)


# ------------------------------------------------------------------ drivers


def d_create_trail(rich):
    body = assert_conforms("CreateTrail", rich.create())
    for key in ("S3KeyPrefix", "SnsTopicARN", "KmsKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "TrailARN"):
        assert key in body, f"CreateTrail response lacks {key}"


def d_update_trail(rich):
    rich.setup()
    body = assert_conforms(
        "UpdateTrail", rich.call("UpdateTrail", {"Name": rich.name, "S3KeyPrefix": "other", "EnableLogFileValidation": False})
    )
    assert body["S3KeyPrefix"] == "other" and "TrailARN" in body


def d_delete_trail(rich):
    rich.setup(selectors=None, logging=None)
    assert_conforms("DeleteTrail", rich.call("DeleteTrail", {"Name": rich.name}))


def d_get_trail(rich):
    rich.setup()
    body = assert_conforms("GetTrail", rich.call("GetTrail", {"Name": rich.name}))
    t = body["Trail"]
    assert t["HasCustomEventSelectors"] is True and t["HasInsightSelectors"] is True
    # And from a shadow region.
    assert_conforms("GetTrail", rich.call("GetTrail", {"Name": rich.arn}, region=OTHER))


def d_describe_trails(rich):
    rich.setup()
    plain = create_bucket(rich.server.s3())
    assert rich.call("CreateTrail", {"Name": unique("plain"), "S3BucketName": plain}).status == 200
    body = assert_conforms("DescribeTrails", rich.call("DescribeTrails", {}))
    assert len(body["trailList"]) == 2
    assert_conforms("DescribeTrails", rich.call("DescribeTrails", {"includeShadowTrails": True}, region=OTHER))
    assert_conforms("DescribeTrails", rich.call("DescribeTrails", {"trailNameList": [rich.arn]}))


def d_list_trails(rich):
    rich.setup(selectors=None, logging=None)
    body = assert_conforms("ListTrails", rich.call("ListTrails", {}))
    assert body["Trails"]
    assert_conforms("ListTrails", rich.call("ListTrails", {}, region=OTHER))


def d_start_logging(rich):
    rich.setup(logging=None)
    assert_conforms("StartLogging", rich.call("StartLogging", {"Name": rich.name}))


def d_stop_logging(rich):
    rich.setup(logging="started")
    assert_conforms("StopLogging", rich.call("StopLogging", {"Name": rich.name}))


def d_get_trail_status(rich):
    rich.setup(logging=None)
    never = assert_conforms("GetTrailStatus", rich.call("GetTrailStatus", {"Name": rich.name}))
    assert never["IsLogging"] is False
    assert rich.call("StartLogging", {"Name": rich.name}).status == 200
    started = assert_conforms("GetTrailStatus", rich.call("GetTrailStatus", {"Name": rich.name}))
    assert isinstance(started.get("StartLoggingTime"), (int, float))
    assert rich.call("StopLogging", {"Name": rich.name}).status == 200
    stopped = assert_conforms("GetTrailStatus", rich.call("GetTrailStatus", {"Name": rich.name}))
    assert isinstance(stopped.get("StopLoggingTime"), (int, float))
    assert_conforms("GetTrailStatus", rich.call("GetTrailStatus", {"Name": rich.arn}, region=OTHER))


def d_put_event_selectors(rich):
    rich.setup(selectors=None, logging=None)
    basic = assert_conforms("PutEventSelectors", rich.call("PutEventSelectors", {"TrailName": rich.name, "EventSelectors": BASIC}))
    assert basic["EventSelectors"]
    adv = assert_conforms(
        "PutEventSelectors", rich.call("PutEventSelectors", {"TrailName": rich.name, "AdvancedEventSelectors": ADVANCED})
    )
    assert adv["AdvancedEventSelectors"]


def d_get_event_selectors(rich):
    rich.setup(selectors=None, logging=None)
    default = assert_conforms("GetEventSelectors", rich.call("GetEventSelectors", {"TrailName": rich.name}))
    assert default["EventSelectors"]
    assert rich.call("PutEventSelectors", {"TrailName": rich.name, "EventSelectors": BASIC}).status == 200
    assert_conforms("GetEventSelectors", rich.call("GetEventSelectors", {"TrailName": rich.name}))
    assert rich.call("PutEventSelectors", {"TrailName": rich.name, "AdvancedEventSelectors": ADVANCED}).status == 200
    adv = assert_conforms("GetEventSelectors", rich.call("GetEventSelectors", {"TrailName": rich.name}))
    assert adv["AdvancedEventSelectors"]


def d_put_insight_selectors(rich):
    rich.setup(selectors=None, logging=None)
    body = assert_conforms(
        "PutInsightSelectors",
        rich.call(
            "PutInsightSelectors",
            {"TrailName": rich.name, "InsightSelectors": [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Data"]}]},
        ),
    )
    assert body["InsightSelectors"] and body["TrailARN"] == rich.arn


def d_get_insight_selectors(rich):
    rich.setup(logging=None)
    body = assert_conforms("GetInsightSelectors", rich.call("GetInsightSelectors", {"TrailName": rich.name}))
    assert len(body["InsightSelectors"]) == 2


def d_put_event_configuration(rich):
    rich.setup(logging=None)
    body = assert_conforms(
        "PutEventConfiguration",
        rich.call(
            "PutEventConfiguration",
            {"TrailName": rich.name, "AggregationConfigurations": [{"EventCategory": "Data", "Templates": ["API_ACTIVITY", "USER_ACTIONS"]}]},
        ),
    )
    assert body["AggregationConfigurations"]


def d_get_event_configuration(rich):
    rich.setup(logging=None)
    assert rich.call(
        "PutEventConfiguration",
        {"TrailName": rich.name, "AggregationConfigurations": [{"EventCategory": "Data", "Templates": ["RESOURCE_ACCESS"]}]},
    ).status == 200
    body = assert_conforms("GetEventConfiguration", rich.call("GetEventConfiguration", {"TrailName": rich.name}))
    assert body["AggregationConfigurations"]


def d_add_tags(rich):
    rich.setup(selectors=None, logging=None)
    assert_conforms("AddTags", rich.call("AddTags", {"ResourceId": rich.arn, "TagsList": [{"Key": "b", "Value": "2"}]}))


def d_remove_tags(rich):
    rich.setup(selectors=None, logging=None)
    assert_conforms("RemoveTags", rich.call("RemoveTags", {"ResourceId": rich.arn, "TagsList": [{"Key": "a"}]}))


def d_list_tags(rich):
    rich.setup(selectors=None, logging=None)
    other = create_bucket(rich.server.s3())
    r = rich.call("CreateTrail", {"Name": unique("untagged"), "S3BucketName": other})
    untagged = json.loads(r.body)["TrailARN"]
    body = assert_conforms("ListTags", rich.call("ListTags", {"ResourceIdList": [rich.arn, untagged]}))
    assert len(body["ResourceTagList"]) == 2


def d_lookup_events(rich):
    rich.setup(selectors="basic", logging="started")
    body = assert_conforms("LookupEvents", rich.call("LookupEvents", {"MaxResults": 2}))
    # A full page with more behind it: both Events (with Resources) and NextToken are exercised.
    assert len(body["Events"]) == 2 and body.get("NextToken"), body
    assert any(event["Resources"] for event in body["Events"]), body


def d_list_public_keys(rich):
    rich.setup(selectors=None, logging=None)
    body = assert_conforms("ListPublicKeys", rich.call("ListPublicKeys", {}))
    assert len(body["PublicKeyList"]) >= 1, body


DRIVERS = {
    "CreateTrail": d_create_trail,
    "UpdateTrail": d_update_trail,
    "DeleteTrail": d_delete_trail,
    "GetTrail": d_get_trail,
    "DescribeTrails": d_describe_trails,
    "ListTrails": d_list_trails,
    "StartLogging": d_start_logging,
    "StopLogging": d_stop_logging,
    "GetTrailStatus": d_get_trail_status,
    "PutEventSelectors": d_put_event_selectors,
    "GetEventSelectors": d_get_event_selectors,
    "PutInsightSelectors": d_put_insight_selectors,
    "GetInsightSelectors": d_get_insight_selectors,
    "PutEventConfiguration": d_put_event_configuration,
    "GetEventConfiguration": d_get_event_configuration,
    "AddTags": d_add_tags,
    "RemoveTags": d_remove_tags,
    "ListTags": d_list_tags,
    "LookupEvents": d_lookup_events,
    "ListPublicKeys": d_list_public_keys,
}


@pytest.mark.parametrize("op", list(DRIVERS))
def test_response_conforms_to_model(rich, op):
    DRIVERS[op](rich)


# ------------------------------------------------------------- error bodies

ERROR_CASES = {
    "TrailNotFound": ("GetTrail", {"Name": "no-such-trail"}, "TrailNotFoundException"),
    "InvalidTrailName": ("CreateTrail", {"Name": "a", "S3BucketName": "whatever"}, "InvalidTrailNameException"),
    "InsightNotEnabled": (None, None, "InsightNotEnabledException"),
    "UnknownOperation": ("NoSuchOp", {}, "UnknownOperationException"),
    "Serialization": ("ListTrails", b"{not json", "SerializationException"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_error_body_format(rich, case):
    op, body, code = ERROR_CASES[case]
    if op is None:
        rich.setup(selectors=None, logging=None)
        assert rich.call("PutInsightSelectors", {"TrailName": rich.name, "InsightSelectors": []}).status == 200
        op, body = "GetInsightSelectors", {"TrailName": rich.name}
    resp = rich.call(op, body)
    assert resp.status == 400, f"{case}: HTTP {resp.status}"
    data = json.loads(resp.body)
    assert isinstance(data, dict)
    assert data.get("__type", "").split("#")[-1] == code, data
    msg = data.get("Message", data.get("message"))
    assert isinstance(msg, str) and msg, f"{case}: error without a message: {data}"
    extra = set(data) - {"__type", "Message", "message"}
    assert not extra, f"{case}: unexpected members in error body: {extra}"
