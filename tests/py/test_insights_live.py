"""Insights on a live server: with a one-minute learning period, a burst of write calls by one user and
a storm of errors become Start and End insight events in LookupEvents (EventCategory=insight), in an
event data store that selects them, and in ListInsightsMetricData. A trail's insight selectors ask for
the call-rate ones, an event data store's (PutInsightSelectors with InsightsDestination) for the
error-rate ones. Minutes are real, so this module takes about six minutes."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from delivery import FAST_ARGS, single_member_gunzip, wait_for
from helpers import ALICE, ROOT_ENV, SESSION_CONFIG, CairnServer, create_bucket, unique

INSIGHTS_CONFIG = 'insights_learning = "1m"\ninsights_interval = "1s"\ninsights_lateness = "1s"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = CairnServer(tmp_path_factory.mktemp("insights-live"), config=INSIGHTS_CONFIG + SESSION_CONFIG, env=ROOT_ENV,
                      args=FAST_ARGS)
    srv.started_at = time.time()
    srv.start()
    yield srv
    srv.close()


def insight_events(ct, since: float) -> list[dict]:
    events, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        out = ct().lookup_events(EventCategory="insight", StartTime=since, **kw)
        events += [json.loads(e["CloudTrailEvent"]) for e in out["Events"]]
        token = out.get("NextToken")
        if not token:
            return events


def wait_for_insights(ct, since: float, wanted, timeout: float) -> list[dict]:
    deadline = time.time() + timeout
    while True:
        events = insight_events(ct, since)
        if wanted(events) or time.time() > deadline:
            return events
        time.sleep(2)


@pytest.mark.timeout(600)
def test_a_burst_and_an_error_storm_become_insight_events(server, ct, s3):
    bucket = create_bucket(s3)
    trail = unique("insights")
    arn = ct().create_trail(Name=trail, S3BucketName=bucket, IsMultiRegionTrail=True)["TrailARN"]
    # The trail asks for call-rate Insights on management and data events (it logs the bucket's object
    # calls); error-rate ones come only from an event data store's selectors.
    ct().put_event_selectors(TrailName=trail, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    ct().put_insight_selectors(TrailName=trail, InsightSelectors=[
        {"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Data"]}])
    ct().start_logging(Name=trail)
    store = ct().create_event_data_store(
        Name=unique("insights-eds"), TerminationProtectionEnabled=False,
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Insight"]}]}],
    )["EventDataStoreArn"].rsplit("/", 1)[1]
    source = ct().create_event_data_store(
        Name=unique("insights-source"), TerminationProtectionEnabled=False,
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}],
    )["EventDataStoreArn"]
    ct().put_insight_selectors(EventDataStore=source, InsightsDestination=store,
                               InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    # Nothing is judged until the learning minute and a three-minute window have passed.
    first_judged = (int(server.started_at) // 60 + 4) * 60
    time.sleep(max(0.0, first_judged - time.time()) + 1)
    burst_minute = int(time.time()) // 60
    alice = ct(creds=ALICE)
    for i in range(40):
        alice.add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i % 5}", "Value": str(i)}])
    for _ in range(20):
        with pytest.raises(ClientError):
            alice.delete_trail(Name="no-such-trail-for-insights")
    for i in range(30):
        s3.put_object(Bucket=bucket, Key=f"burst/{i}", Body=b"x")
    assert int(time.time()) // 60 == burst_minute, "the burst must fit in one minute"

    def complete(events):
        states = {(e["insightDetails"]["eventName"], e["insightDetails"]["insightType"], e["insightDetails"]["state"])
                  for e in events}
        return {("AddTags", "ApiCallRateInsight", "Start"), ("AddTags", "ApiCallRateInsight", "End"),
                ("DeleteTrail", "ApiErrorRateInsight", "Start"), ("PutObject", "ApiCallRateInsight", "Start"),
                ("PutObject", "ApiCallRateInsight", "End")} <= states

    events = wait_for_insights(ct, server.started_at, complete, timeout=330)
    assert complete(events), json.dumps(events, indent=1)
    by_state = {(e["insightDetails"]["eventName"], e["insightDetails"]["insightType"], e["insightDetails"]["state"]): e
                for e in events}
    start = by_state[("AddTags", "ApiCallRateInsight", "Start")]
    end = by_state[("AddTags", "ApiCallRateInsight", "End")]
    assert list(start) == ["eventVersion", "eventTime", "awsRegion", "eventID", "eventType", "recipientAccountId",
                           "sharedEventID", "insightDetails", "eventCategory"]
    assert start["eventType"] == "AwsCloudTrailInsight" and start["eventCategory"] == "Insight"
    assert start["sharedEventID"] == end["sharedEventID"] and start["eventID"] != end["eventID"]
    assert start["eventTime"] == time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(burst_minute * 60))
    assert end["eventTime"] == time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(burst_minute * 60 + 60))
    details = start["insightDetails"]
    assert details["eventSource"] == "cloudtrail.amazonaws.com" and details["sourceEventCategory"] == "Management"
    statistics = details["insightContext"]["statistics"]
    assert statistics["insight"]["average"] == 40 and statistics["baselineDuration"] == 1
    assert end["insightDetails"]["insightContext"]["statistics"]["insightDuration"] == 1
    attributions = {a["attribute"]: a for a in details["insightContext"]["attributions"]}
    assert list(attributions) == ["userIdentityArn", "userAgent", "errorCode"]
    assert attributions["userIdentityArn"]["insight"] == [{"value": "arn:aws:iam::111111111111:user/alice",
                                                           "average": 40}]
    assert attributions["errorCode"]["insight"] == [{"value": "null", "average": 40}]
    errors = by_state[("DeleteTrail", "ApiErrorRateInsight", "Start")]["insightDetails"]
    assert errors["errorCode"] == "TrailNotFoundException"
    assert [a["attribute"] for a in errors["insightContext"]["attributions"]] == ["userIdentityArn", "userAgent"]
    # Insights on the trail's data events: a series of the trail's own.
    objects = by_state[("PutObject", "ApiCallRateInsight", "Start")]["insightDetails"]
    assert (objects["eventSource"], objects["sourceEventCategory"], objects["insightSource"]) == (
        "s3.amazonaws.com", "Data", arn)
    assert objects["insightContext"]["statistics"]["insight"]["average"] == 30
    assert details["sourceEventCategory"] == "Management" and "insightSource" not in details

    # The series behind them.
    metric = ct().list_insights_metric_data(EventSource="cloudtrail.amazonaws.com", EventName="AddTags",
                                            InsightType="ApiCallRateInsight", Period=60,
                                            StartTime=burst_minute * 60 - 300, EndTime=burst_minute * 60 + 120)
    assert dict(zip([int(t.timestamp()) for t in metric["Timestamps"]], metric["Values"])) == {burst_minute * 60: 40.0}
    filled = ct().list_insights_metric_data(EventSource="cloudtrail.amazonaws.com", EventName="DeleteTrail",
                                            InsightType="ApiErrorRateInsight", ErrorCode="TrailNotFoundException",
                                            Period=60, DataType="FillWithZeros",
                                            StartTime=burst_minute * 60 - 120, EndTime=burst_minute * 60 + 120)
    assert filled["Values"] == [0.0, 0.0, 20.0, 0.0] and filled["ErrorCode"] == "TrailNotFoundException"
    objects_metric = ct().list_insights_metric_data(TrailName=trail, EventSource="s3.amazonaws.com",
                                                    EventName="PutObject", InsightType="ApiCallRateInsight",
                                                    Period=60, StartTime=burst_minute * 60 - 300,
                                                    EndTime=burst_minute * 60 + 120)
    assert dict(zip([int(t.timestamp()) for t in objects_metric["Timestamps"]], objects_metric["Values"])) == {
        burst_minute * 60: 30.0}
    assert objects_metric["TrailARN"] == arn

    # ListInsightsData: the insight events on the trail's data events (as AWS's), by one dimension.
    data_ids = {by_state[("PutObject", "ApiCallRateInsight", state)]["eventID"] for state in ("Start", "End")}
    listed = ct().list_insights_data(InsightSource=arn, DataType="InsightsEvents")
    assert {e["EventId"] for e in listed["Events"]} == data_ids
    by_name = ct().list_insights_data(InsightSource=arn, DataType="InsightsEvents", Dimensions={"EventName": "AddTags"})
    assert by_name["Events"] == [], "management insights are not the trail's data-event Insights"

    # The trail delivers them to its CloudTrail-Insight/ folder, and its log files hold none of them.
    prefix = "AWSLogs/111111111111/CloudTrail-Insight/us-east-1/"

    def delivered():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
        records = [r for key in keys
                   for r in json.loads(single_member_gunzip(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))["Records"]]
        return records if {r["eventID"] for r in records} >= {e["eventID"] for e in call_rate} else None

    call_rate = [e for e in events if e["insightDetails"]["insightType"] == "ApiCallRateInsight"]
    records = wait_for(delivered, timeout=30, what="the insight files")
    assert all(r["eventCategory"] == "Insight" for r in records)
    assert all(r["insightDetails"]["insightType"] == "ApiCallRateInsight" for r in records), "the trail's type only"
    logs = s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/111111111111/CloudTrail/").get("Contents", [])
    assert logs, "log files were delivered too"
    for key in (o["Key"] for o in logs):
        body = json.loads(single_member_gunzip(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        assert all(r.get("eventCategory") != "Insight" for r in body["Records"]), key

    # The event data store that selects Insights events holds them all (the error-rate ones recorded
    # because the source store asked for them).
    deadline = time.time() + 30
    while True:
        query = ct().start_query(QueryStatement=f"SELECT eventid, eventtype FROM {store} "
                                                f"WHERE eventcategory = 'Insight'")["QueryId"]
        while ct().describe_query(QueryId=query)["QueryStatus"] in {"QUEUED", "RUNNING"}:
            time.sleep(0.2)
        rows = ct().get_query_results(QueryId=query)["QueryResultRows"]
        if len(rows) >= len(events) or time.time() > deadline:
            break
        time.sleep(1)
    assert {row[0]["eventid"] for row in rows} == {e["eventID"] for e in events}


def test_list_insights_metric_data_refuses_what_aws_refuses(ct):
    for kw, message in [
        ({"InsightType": "ApiErrorRateInsight"}, "ErrorCode is required"),
        ({"InsightType": "ApiCallRateInsight", "ErrorCode": "AccessDenied"}, "only when"),
        ({"InsightType": "ApiCallRateInsight", "Period": 120}, "Period 120"),
        ({"InsightType": "ApiCallRateInsight", "DataType": "Everything"}, "DataType"),
        ({"InsightType": "Bogus"}, "InsightType"),
    ]:
        with pytest.raises(ClientError) as error:
            ct().list_insights_metric_data(EventSource="ec2.amazonaws.com", EventName="RunInstances", **kw)
        assert error.value.response["Error"]["Code"] == "InvalidParameterException", kw
        assert message in error.value.response["Error"]["Message"], error.value.response["Error"]["Message"]
    out = ct().list_insights_metric_data(EventSource="ec2.amazonaws.com", EventName="RunInstances",
                                         InsightType="ApiCallRateInsight")
    assert out["Timestamps"] == [] and out["Values"] == [] and "NextToken" not in out


def test_list_insights_data_refuses_what_aws_refuses(ct, s3):
    trail = unique("insights-data")
    arn = ct().create_trail(Name=trail, S3BucketName=create_bucket(s3))["TrailARN"]
    for kw, code in [
        ({"InsightSource": arn, "DataType": "Metrics"}, "InvalidParameterException"),
        ({"InsightSource": arn, "DataType": "InsightsEvents", "Dimensions": {"Username": "x"}},
         "InvalidParameterException"),
        ({"InsightSource": arn, "DataType": "InsightsEvents", "Dimensions": {"EventId": "a", "EventName": "b"}},
         "InvalidParameterException"),
        ({"InsightSource": "no-such-trail", "DataType": "InsightsEvents"}, "TrailNotFoundException"),
    ]:
        with pytest.raises(ClientError) as error:
            ct().list_insights_data(**kw)
        assert error.value.response["Error"]["Code"] == code, (kw, error.value.response["Error"])
    # The trail's account and region: whatever insight events this module's server recorded, and only those.
    listed = ct().list_insights_data(InsightSource=arn, DataType="InsightsEvents")["Events"]
    assert all(json.loads(e["CloudTrailEvent"])["eventCategory"] == "Insight" for e in listed)
