"""Trail CRUD and validation (spec/api.md §1.1, §2.1, §2.2, §2.12)."""

from __future__ import annotations

import pytest

from helpers import (
    ACCOUNT,
    CWL_GROUP_ARN,
    CWL_ROLE_ARN,
    EXTERNAL_BUCKET,
    FIFO_TOPIC_ARN,
    HOME,
    KMS_KEY_ARN,
    LONER,
    MEMBER,
    MEMBER_ACCOUNT,
    OPTIONAL_TRAIL_STRINGS,
    OTHER,
    THIRD,
    TOPIC_ARN,
    TOPIC_NAME,
    aws_error,
    create_bucket,
    make_trail,
    names_of,
    trail_arn,
    unique,
)

MULTI_NOT_GLOBAL = "Multi-Region trail must include global service events."


def unknown_trail_message(name_or_arn: str, account: str = ACCOUNT) -> str:
    return f"Unknown trail: {name_or_arn} for the user: {account}"


# ---------------------------------------------------------------- CreateTrail


def test_create_trail_defaults(ct, bucket):
    name = unique("defaults")
    resp = ct().create_trail(Name=name, S3BucketName=bucket)
    assert resp["Name"] == name
    assert resp["S3BucketName"] == bucket
    assert resp["TrailARN"] == trail_arn(name)
    assert resp["IncludeGlobalServiceEvents"] is True
    assert resp["IsMultiRegionTrail"] is False
    assert resp["LogFileValidationEnabled"] is False
    assert resp["IsOrganizationTrail"] is False
    assert resp.get("RecursiveLogging", True) is True
    assert "HomeRegion" not in resp, "CreateTrail's response has no HomeRegion member"
    for key in OPTIONAL_TRAIL_STRINGS:
        assert key not in resp, f"unset optional member {key} must be omitted, got {resp.get(key)!r}"


def test_get_trail_defaults(ct, bucket):
    name = unique("get")
    ct().create_trail(Name=name, S3BucketName=bucket)
    trail = ct().get_trail(Name=name)["Trail"]
    assert trail["Name"] == name
    assert trail["S3BucketName"] == bucket
    assert trail["TrailARN"] == trail_arn(name)
    assert trail["HomeRegion"] == HOME
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["IsMultiRegionTrail"] is False
    assert trail["LogFileValidationEnabled"] is False
    assert trail["IsOrganizationTrail"] is False
    assert trail["HasCustomEventSelectors"] is False
    assert trail["HasInsightSelectors"] is False
    for key in OPTIONAL_TRAIL_STRINGS:
        assert key not in trail, f"unset optional member {key} must be omitted"
    # GetTrail by ARN returns the same trail.
    assert ct().get_trail(Name=trail_arn(name))["Trail"] == trail


def test_create_trail_is_not_logging(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    assert ct().get_trail_status(Name=name)["IsLogging"] is False


def test_create_trail_all_options(ct, bucket):
    name = unique("full")
    resp = ct().create_trail(
        Name=name,
        S3BucketName=bucket,
        S3KeyPrefix="some/prefix",
        SnsTopicName=TOPIC_ARN,
        IncludeGlobalServiceEvents=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=CWL_GROUP_ARN,
        CloudWatchLogsRoleArn=CWL_ROLE_ARN,
        KmsKeyId=KMS_KEY_ARN,
    )
    assert resp["S3KeyPrefix"] == "some/prefix"
    assert resp["SnsTopicARN"] == TOPIC_ARN
    assert resp["IsMultiRegionTrail"] is True
    assert resp["LogFileValidationEnabled"] is True
    assert resp["CloudWatchLogsLogGroupArn"] == CWL_GROUP_ARN
    assert resp["CloudWatchLogsRoleArn"] == CWL_ROLE_ARN
    assert resp["KmsKeyId"] == KMS_KEY_ARN
    trail = ct().get_trail(Name=name)["Trail"]
    for key in ("S3KeyPrefix", "SnsTopicARN", "IsMultiRegionTrail", "LogFileValidationEnabled",
                "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "KmsKeyId"):
        assert trail[key] == resp[key], key


def test_sns_topic_by_name_returns_arn(ct, bucket):
    resp = make_trail(ct(), bucket, SnsTopicName=TOPIC_NAME)
    assert resp["SnsTopicARN"] == TOPIC_ARN
    assert ct().get_trail(Name=resp["Name"])["Trail"]["SnsTopicARN"] == TOPIC_ARN


def test_external_bucket_accepted(ct):
    resp = make_trail(ct(), EXTERNAL_BUCKET)
    assert resp["S3BucketName"] == EXTERNAL_BUCKET


def test_iam_user_creates_trail_in_account(ct, bucket):
    from helpers import ALICE

    resp = make_trail(ct(creds=ALICE), bucket)
    assert resp["TrailARN"] == trail_arn(resp["Name"])
    # Same account: the root sees alice's trail.
    assert ct().get_trail(Name=resp["Name"])["Trail"]["TrailARN"] == resp["TrailARN"]


# ------------------------------------------------------------- name validation

NAME_CASES = [
    ("a", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 1 characters."),
    ("aa", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
    ("a" * 129, "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters."),
    ("trail!", "Trail name must ends with a letter or number."),
    ("-trail", "Trail name must starts with a letter or number."),
    ("my#trail", "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_)."),
]


@pytest.mark.parametrize("name,message", NAME_CASES, ids=["a", "aa", "129a", "trail!", "-trail", "my#trail"])
def test_create_trail_invalid_name(ct, bucket, name, message):
    with aws_error("InvalidTrailNameException", message):
        ct().create_trail(Name=name, S3BucketName=bucket)


@pytest.mark.parametrize("name", ["my--trail", "my-_trail", "my..trail", "192.168.5.4", "trail-"])
def test_create_trail_invalid_name_other_rules(ct, bucket, name):
    with aws_error("InvalidTrailNameException"):
        ct().create_trail(Name=name, S3BucketName=bucket)


@pytest.mark.parametrize("name", ["abc", "a" * 128, "My_Trail.v1-2"])
def test_create_trail_valid_name_boundaries(ct, bucket, name):
    assert ct().create_trail(Name=name, S3BucketName=bucket)["Name"] == name


@pytest.mark.parametrize("op", ["get_trail", "get_trail_status"])
def test_read_ops_validate_name_length(ct, op):
    message = "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 1 characters."
    with aws_error("InvalidTrailNameException", message):
        getattr(ct(), op)(Name="?")


# ------------------------------------------------------- uniqueness and quota


def test_duplicate_trail_name(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    with aws_error("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {ACCOUNT}"):
        ct().create_trail(Name=name, S3BucketName=bucket)


def test_same_name_in_another_region_is_allowed(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    resp = ct(OTHER).create_trail(Name=name, S3BucketName=bucket)
    assert resp["TrailARN"] == trail_arn(name, OTHER)
    assert ct().get_trail(Name=name)["Trail"]["TrailARN"] == trail_arn(name, HOME)
    assert ct(OTHER).get_trail(Name=name)["Trail"]["TrailARN"] == trail_arn(name, OTHER)


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_sixth_trail_exceeds_quota(ct, bucket, region):
    client = ct(region)
    for i in range(5):
        make_trail(client, bucket, name=unique(f"q{i}"))
    with aws_error(
        "MaximumNumberOfTrailsExceededException", f"User: {ACCOUNT} already has 5 trails in {region}."
    ):
        make_trail(client, bucket, name=unique("q6"))
    assert len(client.describe_trails(includeShadowTrails=False)["trailList"]) == 5
    # Deleting one frees a slot.
    first = client.describe_trails(includeShadowTrails=False)["trailList"][0]["Name"]
    client.delete_trail(Name=first)
    make_trail(client, bucket, name=unique("q7"))


# ------------------------------------------ multi-region needs global events


def test_create_multi_region_without_global_events(ct, bucket):
    with aws_error("InvalidParameterCombinationException", MULTI_NOT_GLOBAL):
        make_trail(ct(), bucket, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)


def test_multi_region_check_precedes_bucket_check(ct):
    with aws_error("InvalidParameterCombinationException", MULTI_NOT_GLOBAL):
        make_trail(ct(), unique("no-such-bucket"), IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)


def test_update_global_events_off_on_multi_region(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    with aws_error("InvalidParameterCombinationException", MULTI_NOT_GLOBAL):
        ct().update_trail(Name=name, IncludeGlobalServiceEvents=False)
    assert ct().get_trail(Name=name)["Trail"]["IncludeGlobalServiceEvents"] is True


def test_update_to_multi_region_without_global_events(ct, bucket):
    name = make_trail(ct(), bucket, IncludeGlobalServiceEvents=False)["Name"]
    with aws_error("InvalidParameterCombinationException", MULTI_NOT_GLOBAL):
        ct().update_trail(Name=name, IsMultiRegionTrail=True)
    with aws_error("InvalidParameterCombinationException", MULTI_NOT_GLOBAL):
        ct().update_trail(Name=name, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)
    assert ct().get_trail(Name=name)["Trail"]["IsMultiRegionTrail"] is False
    # Both together is fine.
    resp = ct().update_trail(Name=name, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    assert resp["IsMultiRegionTrail"] is True and resp["IncludeGlobalServiceEvents"] is True


def test_single_region_without_global_events_is_fine(ct, bucket):
    resp = make_trail(ct(), bucket, IncludeGlobalServiceEvents=False)
    assert resp["IncludeGlobalServiceEvents"] is False
    assert resp["IsMultiRegionTrail"] is False


# ------------------------------------------------------------ S3 destination


def test_missing_bucket(ct):
    missing = unique("missing-bucket")
    with aws_error("S3BucketDoesNotExistException", contains=missing):
        make_trail(ct(), missing)


@pytest.mark.parametrize("bad", ["Bad_Bucket", "ab", "-leading", "UPPER", "a..b"])
def test_invalid_bucket_name(ct, bad):
    with aws_error("InvalidS3BucketNameException"):
        make_trail(ct(), bad)


def test_s3_prefix_too_long(ct, bucket):
    with aws_error("InvalidS3PrefixException"):
        make_trail(ct(), bucket, S3KeyPrefix="p" * 201)
    # 200 is the maximum and is accepted.
    assert make_trail(ct(), bucket, S3KeyPrefix="p" * 200)["S3KeyPrefix"] == "p" * 200


def test_update_trail_validates_bucket(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    with aws_error("S3BucketDoesNotExistException"):
        ct().update_trail(Name=name, S3BucketName=unique("missing-bucket"))
    with aws_error("InvalidS3PrefixException"):
        ct().update_trail(Name=name, S3KeyPrefix="x" * 201)
    assert ct().get_trail(Name=name)["Trail"]["S3BucketName"] == bucket


# ---------------------------------------------------------------- ARN inputs

BAD_ARNS = [
    "arn:aws:cloudtrail:us-east-1:111:trail/short-account",
    f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:bucket/not-a-trail",
    f"arn:aws:s3:us-east-1:{ACCOUNT}:trail/wrong-service",
    f"arn:aws:cloudtrail:mars-north-9:{ACCOUNT}:trail/bad-region",
]


@pytest.mark.parametrize("op", ["get_trail", "get_trail_status", "delete_trail", "start_logging"])
@pytest.mark.parametrize("arn", BAD_ARNS, ids=["account", "resource", "service", "region"])
def test_malformed_trail_arn(ct, op, arn):
    with aws_error("CloudTrailARNInvalidException"):
        getattr(ct(), op)(Name=arn)


# ----------------------------------------------------------------------- SNS


def test_unknown_sns_topic(ct, bucket):
    with aws_error("InsufficientSnsTopicPolicyException"):
        make_trail(ct(), bucket, SnsTopicName=f"arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic")
    with aws_error("InsufficientSnsTopicPolicyException"):
        make_trail(ct(), bucket, SnsTopicName="no-such-topic")


def test_sns_topic_name_resolves_in_trail_region_only(ct, bucket):
    # The configured topic lives in us-east-1; by name from us-west-2 it does not exist.
    with aws_error("InsufficientSnsTopicPolicyException"):
        make_trail(ct(OTHER), bucket, SnsTopicName=TOPIC_NAME)


@pytest.mark.parametrize("topic", [FIFO_TOPIC_ARN, "t.fifo"], ids=["arn", "name"])
def test_fifo_sns_topic(ct, bucket, topic):
    with aws_error("InvalidSnsTopicNameException"):
        make_trail(ct(), bucket, SnsTopicName=topic)


# ---------------------------------------------------------------- KMS and CWL


@pytest.mark.parametrize(
    "key", ["arn:aws:s3:::not-a-kms-key", f"arn:aws:kms:us-east-1:{ACCOUNT}:bogus/1234"], ids=["s3-arn", "bad-resource"]
)
def test_malformed_kms_key(ct, bucket, key):
    with aws_error("InvalidKmsKeyIdException"):
        make_trail(ct(), bucket, KmsKeyId=key)


@pytest.mark.parametrize(
    "key",
    [
        "alias/MyAliasName",
        f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/MyAliasName",
        "12345678-1234-1234-1234-123456789012",
        KMS_KEY_ARN,
    ],
    ids=["alias", "alias-arn", "key-id", "key-arn"],
)
def test_kms_key_forms_accepted(ct, bucket, key):
    resp = make_trail(ct(), bucket, KmsKeyId=key)
    assert resp["KmsKeyId"], "KmsKeyId must be echoed"
    assert ct().get_trail(Name=resp["Name"])["Trail"]["KmsKeyId"] == resp["KmsKeyId"]


def test_malformed_cloudwatch_log_group_arn(ct, bucket):
    with aws_error("InvalidCloudWatchLogsLogGroupArnException"):
        make_trail(ct(), bucket, CloudWatchLogsLogGroupArn="not-an-arn", CloudWatchLogsRoleArn=CWL_ROLE_ARN)


def test_malformed_cloudwatch_role_arn(ct, bucket):
    with aws_error("InvalidCloudWatchLogsRoleArnException"):
        make_trail(ct(), bucket, CloudWatchLogsLogGroupArn=CWL_GROUP_ARN, CloudWatchLogsRoleArn="not-an-arn")


def test_cloudwatch_role_without_log_group(ct, bucket):
    # §2.2: the log group is required when a role is given. The spec names no code;
    # both the combination error and the log-group error are acceptable.
    with aws_error(("InvalidParameterCombinationException", "InvalidCloudWatchLogsLogGroupArnException")):
        make_trail(ct(), bucket, CloudWatchLogsRoleArn=CWL_ROLE_ARN)


def test_cloudwatch_log_group_without_role(ct, bucket):
    # Observed AWS behaviour (hashicorp/terraform-provider-aws#148, pulumi/docs#5117):
    # "InvalidCloudWatchLogsRoleArnException: You must specify a role ARN as well as a log group."
    with aws_error(("InvalidCloudWatchLogsRoleArnException", "InvalidParameterCombinationException")):
        make_trail(ct(), bucket, CloudWatchLogsLogGroupArn=CWL_GROUP_ARN)


# --------------------------------------------------------------- UpdateTrail


def test_update_trail_patches_subset(ct, bucket):
    name = make_trail(ct(), bucket, S3KeyPrefix="keep/me", SnsTopicName=TOPIC_ARN)["Name"]
    resp = ct().update_trail(Name=name, EnableLogFileValidation=True)
    assert resp["Name"] == name
    assert resp["TrailARN"] == trail_arn(name)
    assert resp["LogFileValidationEnabled"] is True
    assert resp["S3KeyPrefix"] == "keep/me"
    assert resp["SnsTopicARN"] == TOPIC_ARN
    assert resp["S3BucketName"] == bucket
    assert resp["IncludeGlobalServiceEvents"] is True
    assert "HomeRegion" not in resp
    trail = ct().get_trail(Name=name)["Trail"]
    assert trail["LogFileValidationEnabled"] is True
    assert trail["S3KeyPrefix"] == "keep/me"

    # By ARN, changing another member keeps the earlier patch.
    resp = ct().update_trail(Name=trail_arn(name), S3KeyPrefix="new/prefix")
    assert resp["S3KeyPrefix"] == "new/prefix"
    assert resp["LogFileValidationEnabled"] is True
    assert resp["SnsTopicARN"] == TOPIC_ARN
    assert ct().get_trail(Name=name)["Trail"]["S3KeyPrefix"] == "new/prefix"


def test_update_trail_bucket(ct, s3, bucket):
    from helpers import create_bucket

    name = make_trail(ct(), bucket)["Name"]
    other = create_bucket(s3)
    assert ct().update_trail(Name=name, S3BucketName=other)["S3BucketName"] == other
    assert ct().get_trail(Name=name)["Trail"]["S3BucketName"] == other


def test_update_unknown_trail(ct):
    name = unique("ghost")
    with aws_error("TrailNotFoundException", startswith="Unknown trail:", contains=ACCOUNT):
        ct().update_trail(Name=name, EnableLogFileValidation=True)


def test_multi_region_toggle_controls_shadow_visibility(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    arn = trail_arn(name)

    def visible_in(region):
        listed = {t["TrailARN"]: t for t in ct(region).list_trails()["Trails"]}
        described = {t["TrailARN"]: t for t in ct(region).describe_trails()["trailList"]}
        return listed, described

    listed, described = visible_in(OTHER)
    assert arn not in listed and arn not in described

    resp = ct().update_trail(Name=name, IsMultiRegionTrail=True)
    assert resp["IsMultiRegionTrail"] is True
    for region in (OTHER, THIRD):
        listed, described = visible_in(region)
        assert arn in listed, f"shadow of {name} missing from ListTrails in {region}"
        assert listed[arn] == {"TrailARN": arn, "Name": name, "HomeRegion": HOME}
        assert arn in described, f"shadow of {name} missing from DescribeTrails in {region}"
        assert described[arn]["HomeRegion"] == HOME
        assert described[arn]["IsMultiRegionTrail"] is True
        shadow = ct(region).get_trail(Name=arn)["Trail"]
        assert shadow["TrailARN"] == arn and shadow["HomeRegion"] == HOME and shadow["Name"] == name

    ct().update_trail(Name=name, IsMultiRegionTrail=False)
    for region in (OTHER, THIRD):
        listed, described = visible_in(region)
        assert arn not in listed and arn not in described
    assert ct().get_trail(Name=name)["Trail"]["IsMultiRegionTrail"] is False


# --------------------------------------------------------------- DeleteTrail


def test_delete_trail_by_name(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    resp = ct().delete_trail(Name=name)
    assert set(resp) == {"ResponseMetadata"}
    with aws_error("TrailNotFoundException"):
        ct().get_trail(Name=name)
    assert name not in names_of(ct().list_trails()["Trails"])


def test_delete_trail_by_arn(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    ct().delete_trail(Name=trail_arn(name))
    with aws_error("TrailNotFoundException"):
        ct().get_trail(Name=name)
    # Shadows disappear with it.
    assert name not in names_of(ct(OTHER).list_trails()["Trails"])


def test_delete_unknown_trail(ct):
    name = unique("ghost")
    with aws_error("TrailNotFoundException", startswith="Unknown trail:", contains=ACCOUNT):
        ct().delete_trail(Name=name)
    arn = trail_arn(name)
    with aws_error("TrailNotFoundException", startswith="Unknown trail:", contains=ACCOUNT):
        ct().delete_trail(Name=arn)


def test_delete_leaves_bucket(ct, s3, bucket):
    name = make_trail(ct(), bucket)["Name"]
    ct().delete_trail(Name=name)
    s3.head_bucket(Bucket=bucket)


# --------------------------------------------------------- unknown trail msgs


def test_get_trail_unknown_by_name(ct):
    name = unique("ghost")
    with aws_error("TrailNotFoundException", startswith="Unknown trail:", contains=(name, ACCOUNT)):
        ct().get_trail(Name=name)


def test_get_trail_unknown_by_arn(ct):
    arn = trail_arn(unique("ghost"))
    with aws_error("TrailNotFoundException", unknown_trail_message(arn)):
        ct().get_trail(Name=arn)


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_get_trail_status_unknown_echoes_regional_arn(ct, region):
    name = unique("ghost")
    with aws_error("TrailNotFoundException", unknown_trail_message(trail_arn(name, region))):
        ct(region).get_trail_status(Name=name)


def test_get_event_selectors_unknown_echoes_regional_arn(ct):
    name = unique("ghost")
    with aws_error("TrailNotFoundException", unknown_trail_message(trail_arn(name, OTHER))):
        ct(OTHER).get_event_selectors(TrailName=name)


UNKNOWN_OPS = {
    "GetTrail": lambda c, n: c.get_trail(Name=n),
    "UpdateTrail": lambda c, n: c.update_trail(Name=n, EnableLogFileValidation=True),
    "DeleteTrail": lambda c, n: c.delete_trail(Name=n),
    "GetTrailStatus": lambda c, n: c.get_trail_status(Name=n),
    "StartLogging": lambda c, n: c.start_logging(Name=n),
    "StopLogging": lambda c, n: c.stop_logging(Name=n),
    "GetEventSelectors": lambda c, n: c.get_event_selectors(TrailName=n),
    "PutEventSelectors": lambda c, n: c.put_event_selectors(
        TrailName=n, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    ),
    "GetInsightSelectors": lambda c, n: c.get_insight_selectors(TrailName=n),
    "PutInsightSelectors": lambda c, n: c.put_insight_selectors(
        TrailName=n, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
    ),
    "GetEventConfiguration": lambda c, n: c.get_event_configuration(TrailName=n),
}


@pytest.mark.parametrize("by", ["name", "arn"])
@pytest.mark.parametrize("op", sorted(UNKNOWN_OPS))
def test_unknown_trail_everywhere(ct, op, by):
    name = unique("ghost")
    ref = name if by == "name" else trail_arn(name)
    with aws_error("TrailNotFoundException", startswith="Unknown trail:", contains=(name, ACCOUNT)):
        UNKNOWN_OPS[op](ct(), ref)


# ----------------------------------------- home region and shadow trail rules

SHADOW_MUTATIONS = {
    "UpdateTrail": lambda c, arn: c.update_trail(Name=arn, EnableLogFileValidation=True),
    "DeleteTrail": lambda c, arn: c.delete_trail(Name=arn),
    "StartLogging": lambda c, arn: c.start_logging(Name=arn),
    "StopLogging": lambda c, arn: c.stop_logging(Name=arn),
    "PutEventSelectors": lambda c, arn: c.put_event_selectors(
        TrailName=arn, EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]
    ),
    "PutInsightSelectors": lambda c, arn: c.put_insight_selectors(
        TrailName=arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
    ),
    "AddTags": lambda c, arn: c.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}]),
}


@pytest.mark.parametrize("op", sorted(SHADOW_MUTATIONS))
def test_shadow_trail_mutation_is_rejected(ct, bucket, op):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    arn = trail_arn(name)
    with aws_error("InvalidHomeRegionException"):
        SHADOW_MUTATIONS[op](ct(OTHER), arn)
    # Nothing changed in the home region.
    trail = ct().get_trail(Name=name)["Trail"]
    assert trail["LogFileValidationEnabled"] is False
    assert trail["HasCustomEventSelectors"] is False
    assert trail["HasInsightSelectors"] is False
    assert ct().get_trail_status(Name=name)["IsLogging"] is False
    tags = ct().list_tags(ResourceIdList=[arn])["ResourceTagList"][0].get("TagsList", [])
    assert tags == []


def test_shadow_trail_readable_in_other_regions(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True, S3KeyPrefix="pfx")["Name"]
    arn = trail_arn(name)
    home = ct().get_trail(Name=name)["Trail"]
    for region in (OTHER, THIRD):
        shadow = ct(region).get_trail(Name=arn)["Trail"]
        assert shadow == home, f"shadow in {region} differs from home trail"
        status = ct(region).get_trail_status(Name=arn)
        assert status["IsLogging"] is False


def test_single_region_trail_invisible_elsewhere(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    arn = trail_arn(name)
    for region in (OTHER, THIRD):
        assert arn not in {t["TrailARN"] for t in ct(region).list_trails()["Trails"]}
        assert arn not in {t["TrailARN"] for t in ct(region).describe_trails()["trailList"]}
        with aws_error("TrailNotFoundException"):
            ct(region).get_trail(Name=name)
        with aws_error(("TrailNotFoundException", "CloudTrailARNInvalidException")):
            ct(region).get_trail(Name=arn)


# ------------------------------------------------- DescribeTrails / ListTrails


@pytest.fixture
def four_trails(ct, bucket):
    """A: single-region us-east-1, B: multi-region us-east-1,
    C: single-region us-west-2, D: multi-region us-west-2."""
    t = {
        "A": make_trail(ct(HOME), bucket, name=unique("a")),
        "B": make_trail(ct(HOME), bucket, name=unique("b"), IsMultiRegionTrail=True),
        "C": make_trail(ct(OTHER), bucket, name=unique("c")),
        "D": make_trail(ct(OTHER), bucket, name=unique("d"), IsMultiRegionTrail=True),
    }
    return t


def test_describe_trails_default_includes_shadows(ct, four_trails):
    t = four_trails
    trails = ct(HOME).describe_trails()["trailList"]
    by_name = {x["Name"]: x for x in trails}
    assert set(by_name) == {t["A"]["Name"], t["B"]["Name"], t["D"]["Name"]}
    assert by_name[t["D"]["Name"]]["HomeRegion"] == OTHER
    assert by_name[t["D"]["Name"]]["TrailARN"] == t["D"]["TrailARN"]
    assert by_name[t["A"]["Name"]]["HomeRegion"] == HOME
    for x in trails:
        for key in OPTIONAL_TRAIL_STRINGS:
            assert key not in x, f"{x['Name']}: unset {key} must be omitted"
    # THIRD sees only the two multi-region trails.
    assert names_of(ct(THIRD).describe_trails()["trailList"]) == {t["B"]["Name"], t["D"]["Name"]}


def test_describe_trails_without_shadows(ct, four_trails):
    t = four_trails
    assert names_of(ct(HOME).describe_trails(includeShadowTrails=False)["trailList"]) == {
        t["A"]["Name"],
        t["B"]["Name"],
    }
    assert names_of(ct(OTHER).describe_trails(includeShadowTrails=False)["trailList"]) == {
        t["C"]["Name"],
        t["D"]["Name"],
    }
    assert ct(THIRD).describe_trails(includeShadowTrails=False)["trailList"] == []


def test_describe_trails_empty_name_list_means_all(ct, four_trails):
    t = four_trails
    assert names_of(ct(HOME).describe_trails(trailNameList=[])["trailList"]) == {
        t["A"]["Name"],
        t["B"]["Name"],
        t["D"]["Name"],
    }


def test_describe_trails_by_names_and_arns(ct, four_trails):
    t = four_trails
    got = ct(HOME).describe_trails(trailNameList=[t["A"]["Name"], t["D"]["TrailARN"]])["trailList"]
    assert names_of(got) == {t["A"]["Name"], t["D"]["Name"]}
    got = ct(HOME).describe_trails(trailNameList=[t["B"]["TrailARN"]])["trailList"]
    assert [x["TrailARN"] for x in got] == [t["B"]["TrailARN"]]
    assert got[0]["IsMultiRegionTrail"] is True


def test_describe_trails_names_resolve_in_current_region_only(ct, four_trails):
    t = four_trails
    # D lives in us-west-2: its bare name does not resolve from us-east-1, its ARN does.
    got = ct(HOME).describe_trails(trailNameList=[t["D"]["Name"]])["trailList"]
    assert t["D"]["Name"] not in names_of(got)
    # C is single-region in us-west-2: invisible from us-east-1 by name.
    got = ct(HOME).describe_trails(trailNameList=[t["C"]["Name"]])["trailList"]
    assert got == []


def test_list_trails(ct, four_trails):
    t = four_trails
    resp = ct(HOME).list_trails()
    infos = {x["Name"]: x for x in resp["Trails"]}
    assert set(infos) == {t["A"]["Name"], t["B"]["Name"], t["D"]["Name"]}
    for key in "ABD":
        info = infos[t[key]["Name"]]
        assert set(info) == {"TrailARN", "Name", "HomeRegion"}
        assert info["TrailARN"] == t[key]["TrailARN"]
        assert info["HomeRegion"] == (OTHER if key == "D" else HOME)
    assert names_of(ct(OTHER).list_trails()["Trails"]) == {t["B"]["Name"], t["C"]["Name"], t["D"]["Name"]}
    assert names_of(ct(THIRD).list_trails()["Trails"]) == {t["B"]["Name"], t["D"]["Name"]}


def test_list_trails_paginator(ct, bucket):
    # Multi-region trails count toward the 5-trail quota of every region (their shadows),
    # so at most 5 trails are visible per account and region.
    made = {
        "B1": make_trail(ct(HOME), bucket, name=unique("p-b1"), IsMultiRegionTrail=True),
        "B2": make_trail(ct(HOME), bucket, name=unique("p-b2"), IsMultiRegionTrail=True),
        "D1": make_trail(ct(OTHER), bucket, name=unique("p-d1"), IsMultiRegionTrail=True),
        "D2": make_trail(ct(OTHER), bucket, name=unique("p-d2"), IsMultiRegionTrail=True),
        "E": make_trail(ct(THIRD), bucket, name=unique("p-e")),
    }
    multi = {made[k]["TrailARN"] for k in ("B1", "B2", "D1", "D2")}
    expected = {HOME: multi, OTHER: multi, THIRD: multi | {made["E"]["TrailARN"]}}
    for region in (HOME, OTHER, THIRD):
        seen = []
        pages = 0
        for page in ct(region).get_paginator("list_trails").paginate():
            pages += 1
            seen += [x["TrailARN"] for x in page["Trails"]]
            assert pages < 50, "paginator does not terminate"
        assert len(seen) == len(set(seen)), f"duplicates across pages in {region}"
        assert set(seen) == expected[region], f"{region}: paginated ListTrails differs"
        # If the server paginates, a NextToken must continue the listing.
        first = ct(region).list_trails()
        if "NextToken" in first:
            assert isinstance(first["NextToken"], str) and first["NextToken"]
            second = ct(region).list_trails(NextToken=first["NextToken"])
            assert not ({x["TrailARN"] for x in first["Trails"]} & {x["TrailARN"] for x in second["Trails"]})


def test_multi_region_trail_counts_toward_quota_in_every_region(ct, bucket):
    for i in range(4):
        make_trail(ct(OTHER), bucket, name=unique(f"own{i}"))
    make_trail(ct(HOME), bucket, name=unique("everywhere"), IsMultiRegionTrail=True)
    # us-west-2 now holds 4 own trails + 1 shadow.
    with aws_error("MaximumNumberOfTrailsExceededException", f"User: {ACCOUNT} already has 5 trails in {OTHER}."):
        make_trail(ct(OTHER), bucket, name=unique("own5"))


def test_list_trails_empty(ct):
    assert ct(THIRD, creds=LONER).list_trails()["Trails"] == []
    assert ct(THIRD, creds=LONER).describe_trails()["trailList"] == []


def test_accounts_are_isolated(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    assert name not in names_of(ct(creds=LONER).list_trails()["Trails"])
    with aws_error("TrailNotFoundException", contains=LONER.account):
        ct(creds=LONER).get_trail(Name=name)


# -------------------------------------------------------- organization trails


def test_organization_trail_from_management_account(ct, bucket):
    resp = make_trail(ct(), bucket, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    assert resp["IsOrganizationTrail"] is True
    trail = ct().get_trail(Name=resp["Name"])["Trail"]
    assert trail["IsOrganizationTrail"] is True


def test_organization_trail_visible_to_member_by_arn(ct, bucket):
    resp = make_trail(ct(), bucket, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    trail = ct(creds=MEMBER).get_trail(Name=resp["TrailARN"])["Trail"]
    assert trail["TrailARN"] == resp["TrailARN"]
    assert trail["IsOrganizationTrail"] is True


def test_organization_trail_outside_any_org(ct, server):
    bucket = create_bucket(server.s3(creds=LONER))
    with aws_error("OrganizationsNotInUseException"):
        make_trail(ct(creds=LONER), bucket, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    assert ct(creds=LONER).list_trails()["Trails"] == []


def test_organization_trail_from_member(ct, server):
    bucket = create_bucket(server.s3(creds=MEMBER))
    with aws_error("NotOrganizationMasterAccountException"):
        make_trail(ct(creds=MEMBER), bucket, IsOrganizationTrail=True, IsMultiRegionTrail=True)
    assert [t for t in ct(creds=MEMBER).list_trails()["Trails"] if f":{MEMBER_ACCOUNT}:" in t["TrailARN"]] == []


def test_update_to_organization_trail(ct, server, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    assert ct().update_trail(Name=name, IsOrganizationTrail=True)["IsOrganizationTrail"] is True
    assert ct().get_trail(Name=name)["Trail"]["IsOrganizationTrail"] is True
    assert ct().update_trail(Name=name, IsOrganizationTrail=False)["IsOrganizationTrail"] is False

    member_trail = make_trail(ct(creds=MEMBER), create_bucket(server.s3(creds=MEMBER)))["Name"]
    with aws_error("NotOrganizationMasterAccountException"):
        ct(creds=MEMBER).update_trail(Name=member_trail, IsOrganizationTrail=True)
    loner_trail = make_trail(ct(creds=LONER), create_bucket(server.s3(creds=LONER)))["Name"]
    with aws_error("OrganizationsNotInUseException"):
        ct(creds=LONER).update_trail(Name=loner_trail, IsOrganizationTrail=True)
