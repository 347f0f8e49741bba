"""Event selectors, insight selectors and event configuration (spec/api.md §1.3, §1.5, §2.4)."""

from __future__ import annotations

import uuid

import pytest

from helpers import OTHER, aws_error, make_trail, trail_arn

BASIC = [
    {
        "ReadWriteType": "ReadOnly",
        "IncludeManagementEvents": True,
        "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/", "arn:aws:s3:::other-bucket/prefix"]},
            {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda:us-east-1:111111111111:function:fn"]},
        ],
        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
    },
    {
        "ReadWriteType": "WriteOnly",
        "IncludeManagementEvents": False,
        "DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb"]}],
        "ExcludeManagementEventSources": [],
    },
]

ADVANCED = [
    {
        "Name": "S3 writes in one bucket",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::some-bucket/"]},
            {"Field": "readOnly", "Equals": ["false"]},
        ],
    },
    {
        "Name": "Management without KMS",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
        ],
    },
]


@pytest.fixture
def trail(ct, bucket):
    return make_trail(ct(), bucket)["Name"]


def norm_basic(sels):
    out = []
    for s in sels:
        out.append(
            {
                "ReadWriteType": s.get("ReadWriteType", "All"),
                "IncludeManagementEvents": s.get("IncludeManagementEvents", True),
                "DataResources": [
                    {"Type": d["Type"], "Values": list(d.get("Values", []))} for d in s.get("DataResources", [])
                ],
                "ExcludeManagementEventSources": list(s.get("ExcludeManagementEventSources", [])),
            }
        )
    return out


# ------------------------------------------------------------ event selectors


def test_default_event_selectors(ct, trail):
    resp = ct().get_event_selectors(TrailName=trail)
    assert resp["TrailARN"] == trail_arn(trail)
    sels = resp["EventSelectors"]
    assert len(sels) == 1, sels
    assert sels[0]["ReadWriteType"] == "All"
    assert sels[0]["IncludeManagementEvents"] is True
    assert sels[0].get("DataResources", []) == []
    assert sels[0].get("ExcludeManagementEventSources", []) == []
    assert resp.get("AdvancedEventSelectors", []) == []


def test_has_custom_event_selectors_flips(ct, trail):
    assert ct().get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is False
    ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC)
    assert ct().get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is True
    described = ct().describe_trails(trailNameList=[trail])["trailList"][0]
    assert described["HasCustomEventSelectors"] is True


def test_basic_round_trip(ct, trail):
    resp = ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC)
    assert resp["TrailARN"] == trail_arn(trail)
    assert norm_basic(resp["EventSelectors"]) == norm_basic(BASIC)
    assert resp.get("AdvancedEventSelectors", []) == []
    got = ct().get_event_selectors(TrailName=trail)
    assert got["TrailARN"] == trail_arn(trail)
    assert norm_basic(got["EventSelectors"]) == norm_basic(BASIC)
    assert got.get("AdvancedEventSelectors", []) == []


def test_basic_selector_defaults_filled(ct, trail):
    ct().put_event_selectors(TrailName=trail, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    got = ct().get_event_selectors(TrailName=trail)["EventSelectors"]
    assert len(got) == 1
    assert got[0]["ReadWriteType"] == "WriteOnly"
    assert got[0]["IncludeManagementEvents"] is True


def test_put_event_selectors_by_arn(ct, trail):
    resp = ct().put_event_selectors(TrailName=trail_arn(trail), EventSelectors=BASIC[:1])
    assert resp["TrailARN"] == trail_arn(trail)
    assert norm_basic(ct().get_event_selectors(TrailName=trail_arn(trail))["EventSelectors"]) == norm_basic(BASIC[:1])


def test_advanced_round_trip(ct, trail):
    resp = ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=ADVANCED)
    assert resp["TrailARN"] == trail_arn(trail)
    assert resp["AdvancedEventSelectors"] == ADVANCED
    assert resp.get("EventSelectors", []) == []
    got = ct().get_event_selectors(TrailName=trail)
    assert got["AdvancedEventSelectors"] == ADVANCED
    assert got.get("EventSelectors", []) == []
    assert ct().get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is True


def test_both_kinds_in_one_call(ct, trail):
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC, AdvancedEventSelectors=ADVANCED)
    assert ct().get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is False


def test_neither_kind(ct, trail):
    with aws_error(("InvalidEventSelectorsException", "InvalidParameterCombinationException", "InvalidParameterException")):
        ct().put_event_selectors(TrailName=trail)


def test_advanced_replaces_basic(ct, trail):
    ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC)
    ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=ADVANCED)
    got = ct().get_event_selectors(TrailName=trail)
    assert got.get("EventSelectors", []) == []
    assert got["AdvancedEventSelectors"] == ADVANCED


def test_basic_replaces_advanced(ct, trail):
    ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=ADVANCED)
    ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC[:1])
    got = ct().get_event_selectors(TrailName=trail)
    assert got.get("AdvancedEventSelectors", []) == []
    assert norm_basic(got["EventSelectors"]) == norm_basic(BASIC[:1])


def test_put_replaces_not_appends(ct, trail):
    ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC)
    ct().put_event_selectors(TrailName=trail, EventSelectors=BASIC[1:])
    assert norm_basic(ct().get_event_selectors(TrailName=trail)["EventSelectors"]) == norm_basic(BASIC[1:])


def test_invalid_read_write_type(ct, trail):
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=[{"ReadWriteType": "Sometimes"}])


def test_too_many_basic_selectors(ct, trail):
    six = [{"ReadWriteType": "All", "IncludeManagementEvents": True}] * 6
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=six)
    five = [{"ReadWriteType": "All", "IncludeManagementEvents": True}] * 5
    ct().put_event_selectors(TrailName=trail, EventSelectors=five)
    assert len(ct().get_event_selectors(TrailName=trail)["EventSelectors"]) == 5


def test_invalid_data_resource_type(ct, trail):
    sel = [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::Bogus::Thing", "Values": ["arn:aws:s3"]}]}]
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=sel)


def test_too_many_data_resources(ct, trail):
    values = [f"arn:aws:s3:::bucket-{i:03d}/" for i in range(251)]
    sel = [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=sel)


def test_data_resources_limit_boundary(ct, trail):
    values = [f"arn:aws:s3:::bucket-{i:03d}/" for i in range(250)]
    sel = [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]
    resp = ct().put_event_selectors(TrailName=trail, EventSelectors=sel)
    assert len(resp["EventSelectors"][0]["DataResources"][0]["Values"]) == 250


def test_too_many_advanced_values(ct, trail):
    values = [f"arn:aws:s3:::bucket-{i:03d}/" for i in range(501)]
    sel = [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": values},
    ]}]
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=sel)


def test_network_activity_selector(ct, trail):
    sel = [{"Name": "vpce", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
        {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com"]},
    ]}]
    assert ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=sel)["AdvancedEventSelectors"] == sel


def test_invalid_exclude_management_source(ct, trail):
    sel = [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["s3.amazonaws.com"]}]
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, EventSelectors=sel)


BAD_ADVANCED = {
    "unknown-field": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "bogusField", "Equals": ["x"]},
    ]}],
    "eventCategory-startswith": [{"FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Manage"]}]}],
    "bad-eventCategory-value": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Everything"]}]}],
    "missing-eventCategory": [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}],
    "readOnly-not-bool": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["maybe"]},
    ]}],
    "data-without-resources-type": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}],
    "network-without-eventSource": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}]}],
    "management-eventName-on-trail": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventName", "Equals": ["CreateTrail"]},
    ]}],
    "management-eventSource-equals-on-trail": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]},
    ]}],
    "eds-only-category-on-trail": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Insight"]}]}],
    "resources-type-notequals": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "NotEquals": ["AWS::S3::Object"]},
    ]}],
}


@pytest.mark.parametrize("case", sorted(BAD_ADVANCED))
def test_invalid_advanced_selectors(ct, trail, case):
    with aws_error("InvalidEventSelectorsException"):
        ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=BAD_ADVANCED[case])
    assert ct().get_trail(Name=trail)["Trail"]["HasCustomEventSelectors"] is False


# ---------------------------------------------------------- insight selectors


def test_get_insight_selectors_when_none(ct, trail):
    with aws_error("InsightNotEnabledException"):
        ct().get_insight_selectors(TrailName=trail)


def test_insight_selectors_round_trip(ct, trail):
    resp = ct().put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    assert resp["TrailARN"] == trail_arn(trail)
    assert [s["InsightType"] for s in resp["InsightSelectors"]] == ["ApiCallRateInsight"]
    got = ct().get_insight_selectors(TrailName=trail)
    assert got["TrailARN"] == trail_arn(trail)
    assert [s["InsightType"] for s in got["InsightSelectors"]] == ["ApiCallRateInsight"]
    assert ct().get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is True


def test_insight_selectors_with_categories(ct, trail):
    sels = [
        {"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Data"]},
        {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management"]},
    ]
    resp = ct().put_insight_selectors(TrailName=trail, InsightSelectors=sels)
    assert resp["InsightSelectors"] == sels
    assert ct().get_insight_selectors(TrailName=trail)["InsightSelectors"] == sels


def test_insight_selectors_replace_not_append(ct, trail):
    ct().put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct().put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    got = ct().get_insight_selectors(TrailName=trail)["InsightSelectors"]
    assert [s["InsightType"] for s in got] == ["ApiErrorRateInsight"]


def test_empty_insight_selectors_disable(ct, trail):
    ct().put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct().put_insight_selectors(TrailName=trail, InsightSelectors=[])
    with aws_error("InsightNotEnabledException"):
        ct().get_insight_selectors(TrailName=trail)
    assert ct().get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is False


def test_invalid_insight_type(ct, trail):
    with aws_error("InvalidInsightSelectorsException"):
        ct().put_insight_selectors(TrailName=trail, InsightSelectors=[{"InsightType": "Bogus"}])
    assert ct().get_trail(Name=trail)["Trail"]["HasInsightSelectors"] is False


def test_invalid_insight_event_category(ct, trail):
    with aws_error("InvalidInsightSelectorsException"):
        ct().put_insight_selectors(
            TrailName=trail, InsightSelectors=[{"InsightType": "ApiCallRateInsight", "EventCategories": ["Network"]}]
        )


def test_insight_selectors_readable_from_shadow(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    ct().put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    got = ct(OTHER).get_insight_selectors(TrailName=trail_arn(name))
    assert [s["InsightType"] for s in got["InsightSelectors"]] == ["ApiErrorRateInsight"]


def create_store(ct, categories: list[str]) -> str:
    selectors = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": categories}]}]
    return ct().create_event_data_store(Name=f"eds-{uuid.uuid4().hex[:10]}", AdvancedEventSelectors=selectors,
                                        TerminationProtectionEnabled=False)["EventDataStoreArn"]


def test_insight_selectors_on_an_event_data_store(ct):
    source, destination = create_store(ct, ["Management"]), create_store(ct, ["Insight"])
    with aws_error("InsightNotEnabledException", contains=("does not have Insights events enabled",)):
        ct().get_insight_selectors(EventDataStore=source)
    selectors = [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management"]}]
    # By ID suffix; the answer names both stores by ARN.
    resp = ct().put_insight_selectors(EventDataStore=source.rsplit("/", 1)[1], InsightSelectors=selectors,
                                      InsightsDestination=destination.rsplit("/", 1)[1])
    assert (resp["EventDataStoreArn"], resp["InsightsDestination"], resp["InsightSelectors"]) == (
        source, destination, selectors)
    assert "TrailARN" not in resp
    got = ct().get_insight_selectors(EventDataStore=source)
    assert (got["EventDataStoreArn"], got["InsightsDestination"], got["InsightSelectors"]) == (
        source, destination, selectors)
    # An empty list turns them off, with only the source named.
    ct().put_insight_selectors(EventDataStore=source, InsightSelectors=[])
    with aws_error("InsightNotEnabledException"):
        ct().get_insight_selectors(EventDataStore=source)


def test_event_data_store_insight_selectors_are_checked(ct, trail):
    source, destination = create_store(ct, ["Management"]), create_store(ct, ["Insight"])
    calls = [{"InsightType": "ApiCallRateInsight"}]
    with aws_error("InvalidParameterCombinationException", contains=("InsightsDestination",)):
        ct().put_insight_selectors(EventDataStore=source, InsightSelectors=calls)
    with aws_error("InvalidParameterCombinationException", contains=("another event data store",)):
        ct().put_insight_selectors(EventDataStore=source, InsightSelectors=calls, InsightsDestination=source)
    with aws_error("InvalidEventDataStoreCategoryException", contains=("does not collect Insight events",)):
        ct().put_insight_selectors(EventDataStore=source, InsightSelectors=calls,
                                   InsightsDestination=create_store(ct, ["Management"]))
    with aws_error("InvalidEventDataStoreCategoryException", contains=("does not collect Management events",)):
        ct().put_insight_selectors(EventDataStore=destination, InsightSelectors=calls,
                                   InsightsDestination=create_store(ct, ["Insight"]))
    with aws_error("InvalidInsightSelectorsException", contains=("trails only",)):
        ct().put_insight_selectors(EventDataStore=source, InsightsDestination=destination,
                                   InsightSelectors=[{"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}])
    with aws_error("EventDataStoreNotFoundException"):
        ct().put_insight_selectors(EventDataStore=source, InsightSelectors=calls,
                                   InsightsDestination="0" * 8 + "-0000-0000-0000-" + "0" * 12)
    with aws_error("InvalidParameterCombinationException", contains=("not both",)):
        ct().put_insight_selectors(TrailName=trail, EventDataStore=source, InsightSelectors=calls)
    with aws_error("InsightNotEnabledException"):
        ct().get_insight_selectors(EventDataStore=source)


# --------------------------------------------------------- event configuration

AGG = [{"EventCategory": "Data", "Templates": ["API_ACTIVITY", "RESOURCE_ACCESS"]}]


def test_event_configuration_round_trip(ct, trail):
    ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=ADVANCED[:1])
    resp = ct().put_event_configuration(TrailName=trail, AggregationConfigurations=AGG)
    assert resp["TrailARN"] == trail_arn(trail)
    assert resp["AggregationConfigurations"] == AGG
    assert "EventDataStoreArn" not in resp
    got = ct().get_event_configuration(TrailName=trail)
    assert got["TrailARN"] == trail_arn(trail)
    assert got["AggregationConfigurations"] == AGG
    # By ARN, too.
    assert ct().get_event_configuration(TrailName=trail_arn(trail))["AggregationConfigurations"] == AGG


def test_event_configuration_replaced(ct, trail):
    ct().put_event_selectors(TrailName=trail, AdvancedEventSelectors=ADVANCED[:1])
    ct().put_event_configuration(TrailName=trail, AggregationConfigurations=AGG)
    new = [{"EventCategory": "Data", "Templates": ["USER_ACTIONS"]}]
    ct().put_event_configuration(TrailName=trail, AggregationConfigurations=new)
    assert ct().get_event_configuration(TrailName=trail)["AggregationConfigurations"] == new


def test_event_configuration_trail_and_event_data_store(ct, trail):
    eds = "arn:aws:cloudtrail:us-east-1:111111111111:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
    with aws_error("InvalidParameterCombinationException"):
        ct().put_event_configuration(TrailName=trail, EventDataStore=eds, AggregationConfigurations=AGG)
    with aws_error("InvalidParameterCombinationException"):
        ct().get_event_configuration(TrailName=trail, EventDataStore=eds)


def test_event_configuration_from_shadow_region(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    ct().put_event_selectors(TrailName=name, AdvancedEventSelectors=ADVANCED[:1])
    with aws_error("InvalidHomeRegionException"):
        ct(OTHER).put_event_configuration(TrailName=trail_arn(name), AggregationConfigurations=AGG)
