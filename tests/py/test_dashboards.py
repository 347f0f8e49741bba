"""CloudTrail Lake dashboards and sample queries (spec/api.md §1.7, §1.10, §2.11).

One server for the module: dashboards are named uniquely per test, and the widgets read one
event data store (created once; stores pending deletion count toward a quota of 10).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import (
    ACCOUNT,
    HOME,
    MEMBER,
    OTHER,
    ROOT,
    ROOT_ENV,
    SESSION_CONFIG,
    CairnServer,
    assert_raw_error,
    aws_error,
    raw_call,
)
from test_conformance import assert_conforms

REFRESH_ID_RE = re.compile(r"^\d{10,20}$")
TERMINAL = {"FINISHED", "FAILED", "CANCELLED", "TIMED_OUT"}
VIEW = {"Height": "2", "Width": "4", "Title": "Events", "View": "Table"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = CairnServer(tmp_path_factory.mktemp("cairn-dashboards"), config=SESSION_CONFIG, env=ROOT_ENV)
    try:
        server.start()
    except RuntimeError as e:
        server.close()
        pytest.fail(str(e), pytrace=False)
    yield server
    server.close()


@pytest.fixture
def ct(srv):
    """Overrides the suite's `ct`: clients of this module's own server."""

    def factory(region: str = HOME, creds=ROOT):
        return srv.ct(region, creds)

    return factory


@pytest.fixture(scope="module")
def store(srv):
    """The ID of an event data store the widgets read; skips when stores are not served yet."""
    client = srv.ct()
    try:
        arn = client.create_event_data_store(Name="dashboards-eds", TerminationProtectionEnabled=False)[
            "EventDataStoreArn"
        ]
    except ClientError as e:
        if e.response["Error"]["Code"] in ("UnsupportedOperationException", "UnknownOperationException"):
            pytest.skip("CreateEventDataStore is not served by this cairn build; widget queries need a store")
        raise
    return arn.rsplit("/", 1)[1]


def name(prefix: str = "dash") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def widget(store_id: str, **kw) -> dict:
    statement = (
        f"SELECT eventname, count(*) AS n FROM {store_id} WHERE eventtime > '?' AND eventtime < '?' "
        "GROUP BY eventname ORDER BY n DESC"
    )
    return {"QueryStatement": statement, "QueryParameters": ["$StartTime$", "$EndTime$"], "ViewProperties": VIEW, **kw}


def period_widget(store_id: str) -> dict:
    statement = (
        f"SELECT date_trunc('?', eventtime) AS t, count(*) AS n FROM {store_id} "
        "WHERE eventtime > '?' AND eventtime < '?' GROUP BY date_trunc('?', eventtime) ORDER BY t"
    )
    return {
        "QueryStatement": statement,
        "QueryParameters": ["$Period$", "$StartTime$", "$EndTime$", "$Period$"],
        "ViewProperties": {"Height": "2", "Width": "6", "Title": "Timeline", "View": "LineChart"},
    }


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def wait_query(client, timeout: float = 30.0, **ref) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_query(**ref)
        if described["QueryStatus"] in TERMINAL or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def dashboard_arn(dashboard: str, region: str = HOME, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:dashboard/{dashboard}"


# ------------------------------------------------------------------ create / get


def test_create_and_get(ct, srv, store):
    dashboard = name()
    body = {
        "Name": dashboard,
        "Widgets": [widget(store), period_widget(store)],
        "RefreshSchedule": {"Frequency": {"Unit": "HOURS", "Value": 6}, "Status": "ENABLED", "TimeOfDay": "02:30"},
        "TagsList": [{"Key": "team", "Value": "secops"}],
    }
    created = assert_conforms("CreateDashboard", raw_call(srv.endpoint, "CreateDashboard", body))
    assert created["DashboardArn"] == dashboard_arn(dashboard)
    assert created["Name"] == dashboard
    assert created["Type"] == "CUSTOM"
    assert created["TerminationProtectionEnabled"] is False
    assert created["TagsList"] == [{"Key": "team", "Value": "secops"}]
    assert created["RefreshSchedule"] == body["RefreshSchedule"]
    aliases = [w["QueryAlias"] for w in created["Widgets"]]
    assert len(set(aliases)) == 2 and all(re.match(r"^[a-zA-Z][a-zA-Z0-9._\-]*$", a) for a in aliases)
    for sent, got in zip(body["Widgets"], created["Widgets"]):
        assert got["QueryStatement"] == sent["QueryStatement"]
        assert got["QueryParameters"] == sent["QueryParameters"]
        assert got["ViewProperties"] == sent["ViewProperties"]

    got = assert_conforms("GetDashboard", raw_call(srv.endpoint, "GetDashboard", {"DashboardId": dashboard}))
    assert got["Status"] == "CREATED"
    assert got["Widgets"] == created["Widgets"]
    assert got["CreatedTimestamp"] == got["UpdatedTimestamp"]
    assert "LastRefreshId" not in got and "LastRefreshFailureReason" not in got
    # By ARN, the same dashboard.
    by_arn = strip(ct().get_dashboard(DashboardId=created["DashboardArn"]))
    assert by_arn["DashboardArn"] == created["DashboardArn"]
    assert isinstance(by_arn["CreatedTimestamp"], dt.datetime)


def test_create_defaults_and_an_empty_dashboard(ct, store):
    dashboard = name()
    created = strip(ct().create_dashboard(Name=dashboard))
    assert created["Widgets"] == [] and created["TagsList"] == []
    assert created["TerminationProtectionEnabled"] is False
    assert "RefreshSchedule" not in created
    # A schedule with a frequency but no status is enabled and refreshes at midnight UTC.
    other = strip(ct().create_dashboard(Name=name(), RefreshSchedule={"Frequency": {"Unit": "DAYS", "Value": 1}}))
    assert other["RefreshSchedule"] == {"Frequency": {"Unit": "DAYS", "Value": 1}, "Status": "ENABLED", "TimeOfDay": "00:00"}


def test_create_errors(ct, srv, store):
    client = ct()
    taken = name()
    client.create_dashboard(Name=taken)
    with aws_error("ConflictException", contains=taken):
        client.create_dashboard(Name=taken)
    # botocore checks only the minimum length; the server checks the rest.
    for bad, fragment in [("ab", "length between 3 and 128"), ("x" * 129, "length between 3 and 128"), ("my.dash", "pattern")]:
        assert_raw_error(raw_call(srv.endpoint, "CreateDashboard", {"Name": bad}), "InvalidParameterException", fragment)
    assert_raw_error(raw_call(srv.endpoint, "CreateDashboard", {}), "InvalidParameterException", "Value null at 'name'")
    with aws_error("UnsupportedOperationException"):
        client.create_dashboard(Name="AWSCloudTrail-Highlights", RefreshSchedule={"Frequency": {"Unit": "HOURS", "Value": 6}, "Status": "ENABLED"})
    missing = "11111111-2222-3333-4444-555555555555"
    with aws_error("EventDataStoreNotFoundException", contains=missing):
        client.create_dashboard(Name=name(), Widgets=[widget(missing)])
    with aws_error("InvalidQueryStatementException", contains="name its ID after FROM"):
        client.create_dashboard(Name=name(), Widgets=[{"QueryStatement": "SELECT 1 FROM eds", "ViewProperties": VIEW}])
    with aws_error("InvalidQueryStatementException", message=(
        "Widget 1: The query statement has 2 '?' placeholders but 1 QueryParameters; give one parameter for each placeholder."
    )):
        client.create_dashboard(Name=name(), Widgets=[widget(store, QueryParameters=["$StartTime$"])])
    with aws_error("InvalidParameterException", contains="$Yesterday$"):
        client.create_dashboard(Name=name(), Widgets=[widget(store, QueryParameters=["$Yesterday$", "$EndTime$"])])
    with aws_error("ServiceQuotaExceededException", contains="at most 10 widgets"):
        client.create_dashboard(Name=name(), Widgets=[widget(store)] * 11)
    with aws_error("InvalidParameterException", contains="cannot have the value 2"):
        client.create_dashboard(Name=name(), RefreshSchedule={"Frequency": {"Unit": "HOURS", "Value": 2}})
    with aws_error("InvalidParameterException", contains="HH:MM"):
        client.create_dashboard(Name=name(), RefreshSchedule={"Frequency": {"Unit": "DAYS", "Value": 1}, "TimeOfDay": "25:00"})
    with aws_error("InvalidParameterException", contains="needs a Frequency"):
        client.create_dashboard(Name=name(), RefreshSchedule={"Status": "ENABLED"})
    with aws_error("InvalidParameterException", contains="ViewProperties"):
        client.create_dashboard(Name=name(), Widgets=[widget(store, ViewProperties={"Title": "a/b"})])
    with aws_error("InvalidTagParameterException"):
        client.create_dashboard(Name=name(), TagsList=[{"Key": "k"}, {"Key": "k"}])
    with aws_error("TagsLimitExceededException"):
        client.create_dashboard(Name=name(), TagsList=[{"Key": f"k{i}"} for i in range(51)])
    # Another account's store is not the caller's.
    with aws_error("EventDataStoreNotFoundException"):
        ct(creds=MEMBER).create_dashboard(Name=name(), Widgets=[widget(store)])
    # A store pending deletion is inactive.
    doomed = client.create_event_data_store(Name=name("doomed"), TerminationProtectionEnabled=False)["EventDataStoreArn"]
    client.delete_event_data_store(EventDataStore=doomed)
    with aws_error("InactiveEventDataStoreException", contains="pending deletion"):
        client.create_dashboard(Name=name(), Widgets=[widget(doomed.rsplit("/", 1)[1])])


def test_dashboards_are_seen_only_in_their_account_and_region(ct, store):
    dashboard = name()
    ct().create_dashboard(Name=dashboard)
    for client, ref in [
        (ct(OTHER), dashboard),
        (ct(OTHER), dashboard_arn(dashboard)),
        (ct(creds=MEMBER), dashboard),
        (ct(), dashboard_arn(dashboard, region=OTHER)),
        (ct(), name("never")),
    ]:
        with aws_error("ResourceNotFoundException"):
            client.get_dashboard(DashboardId=ref)
    with aws_error("InvalidParameterException", contains="not a dashboard ARN"):
        ct().get_dashboard(DashboardId=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{dashboard}")


# ------------------------------------------------------------------ update / delete / list


def test_update(ct, srv, store):
    client = ct()
    dashboard = name()
    client.create_dashboard(Name=dashboard, Widgets=[widget(store)])
    time.sleep(0.01)
    body = {
        "DashboardId": dashboard_arn(dashboard),
        "Widgets": [period_widget(store), widget(store)],
        "RefreshSchedule": {"Frequency": {"Unit": "HOURS", "Value": 1}, "Status": "DISABLED", "TimeOfDay": "00:45"},
        "TerminationProtectionEnabled": True,
    }
    updated = assert_conforms("UpdateDashboard", raw_call(srv.endpoint, "UpdateDashboard", body))
    assert updated["Name"] == dashboard
    assert [w["QueryStatement"] for w in updated["Widgets"]] == [w["QueryStatement"] for w in body["Widgets"]]
    assert updated["RefreshSchedule"]["Status"] == "DISABLED"
    assert updated["TerminationProtectionEnabled"] is True
    assert updated["UpdatedTimestamp"] > updated["CreatedTimestamp"]
    got = strip(client.get_dashboard(DashboardId=dashboard))
    assert got["Status"] == "UPDATED"
    assert got["Widgets"] == updated["Widgets"]
    # Leaving members out keeps them.
    kept = strip(client.update_dashboard(DashboardId=dashboard, TerminationProtectionEnabled=False))
    assert kept["Widgets"] == updated["Widgets"] and kept["RefreshSchedule"] == updated["RefreshSchedule"]
    with aws_error("ResourceNotFoundException"):
        client.update_dashboard(DashboardId=name("never"), TerminationProtectionEnabled=False)
    with aws_error("EventDataStoreNotFoundException"):
        client.update_dashboard(DashboardId=dashboard, Widgets=[widget("11111111-2222-3333-4444-555555555555")])


def test_delete_respects_termination_protection(ct, store):
    client = ct()
    dashboard = name()
    client.create_dashboard(Name=dashboard, TerminationProtectionEnabled=True)
    with aws_error("ConflictException", contains="termination protection"):
        client.delete_dashboard(DashboardId=dashboard)
    client.update_dashboard(DashboardId=dashboard, TerminationProtectionEnabled=False)
    assert strip(client.delete_dashboard(DashboardId=dashboard_arn(dashboard))) == {}
    with aws_error("ResourceNotFoundException"):
        client.get_dashboard(DashboardId=dashboard)
    with aws_error("ResourceNotFoundException"):
        client.delete_dashboard(DashboardId=dashboard)
    # The name is free again.
    client.create_dashboard(Name=dashboard)


def test_list(ct, srv, store):
    client = ct()
    prefix = f"lst{uuid.uuid4().hex[:6]}"
    made = sorted(f"{prefix}-{i}" for i in range(3))
    for dashboard in made:
        client.create_dashboard(Name=dashboard)
    listed = assert_conforms("ListDashboards", raw_call(srv.endpoint, "ListDashboards", {"NamePrefix": prefix}))
    assert listed["Dashboards"] == [{"DashboardArn": dashboard_arn(d), "Type": "CUSTOM"} for d in made]
    assert client.list_dashboards(NamePrefix=prefix, Type="MANAGED")["Dashboards"] == []
    pages, token = [], None
    while True:
        resp = client.list_dashboards(NamePrefix=prefix, MaxResults=1, **({"NextToken": token} if token else {}))
        pages.append([d["DashboardArn"] for d in resp["Dashboards"]])
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == [[dashboard_arn(d)] for d in made]
    assert ct(OTHER).list_dashboards(NamePrefix=prefix)["Dashboards"] == []
    assert_raw_error(raw_call(srv.endpoint, "ListDashboards", {"Type": "SHARED"}), "InvalidParameterException", "MANAGED, CUSTOM")
    assert_raw_error(raw_call(srv.endpoint, "ListDashboards", {"MaxResults": 1001}), "InvalidParameterException")
    assert_raw_error(raw_call(srv.endpoint, "ListDashboards", {"NextToken": "zz"}), "InvalidNextTokenException")


# ------------------------------------------------------------------ refresh


def test_refresh_runs_widget_queries(ct, srv, store):
    client = ct()
    dashboard = name()
    created = client.create_dashboard(Name=dashboard, Widgets=[widget(store), period_widget(store)])
    aliases = [w["QueryAlias"] for w in created["Widgets"]]
    refresh = assert_conforms(
        "StartDashboardRefresh",
        raw_call(
            srv.endpoint,
            "StartDashboardRefresh",
            {
                "DashboardId": dashboard,
                "QueryParameterValues": {
                    "$StartTime$": "2020-01-01T00:00:00Z",
                    "$EndTime$": "2099-01-01",
                    "$Period$": "hour",
                },
            },
        ),
    )
    refresh_id = refresh["RefreshId"]
    assert REFRESH_ID_RE.match(refresh_id), refresh_id
    assert client.get_dashboard(DashboardId=dashboard)["LastRefreshId"] == refresh_id
    for alias in aliases:
        described = wait_query(client, QueryAlias=alias, RefreshId=refresh_id)
        assert described["QueryStatus"] == "FINISHED", described
        assert "'2020-01-01 00:00:00'" in described["QueryString"] and "'2099-01-01 00:00:00'" in described["QueryString"]
        assert "?" not in described["QueryString"]
        # GetQueryResults takes the alias and refresh too (boto3 insists on a QueryId, so raw).
        results = raw_call(srv.endpoint, "GetQueryResults", {"QueryAlias": alias, "RefreshId": refresh_id})
        assert results.status == 200, results.body
        body = results.json()
        assert body["QueryStatus"] == "FINISHED"
        by_id = strip(client.get_query_results(QueryId=described["QueryId"]))
        assert by_id["QueryResultRows"] == body["QueryResultRows"]
        assert body["QueryResultRows"], "the store holds at least its own CreateEventDataStore event"
    timeline = client.describe_query(QueryAlias=aliases[1], RefreshId=refresh_id)
    assert "date_trunc('hour', eventtime)" in timeline["QueryString"]
    # Without a RefreshId the alias means the latest refresh.
    assert client.describe_query(QueryAlias=aliases[0])["QueryId"] == wait_query(client, QueryAlias=aliases[0], RefreshId=refresh_id)["QueryId"]


def test_refresh_defaults_to_the_last_day(ct, store):
    client = ct()
    dashboard = name()
    created = client.create_dashboard(Name=dashboard, Widgets=[period_widget(store)])
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    refresh_id = client.start_dashboard_refresh(DashboardId=dashboard_arn(dashboard))["RefreshId"]
    described = wait_query(client, QueryAlias=created["Widgets"][0]["QueryAlias"], RefreshId=refresh_id)
    assert described["QueryStatus"] == "FINISHED", described
    times = re.findall(r"'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)'", described["QueryString"])
    start, end = (dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc) for t in times)
    assert end - start == dt.timedelta(hours=24)
    assert abs((end - before).total_seconds()) < 60
    assert "date_trunc('day', eventtime)" in described["QueryString"]


def test_one_refresh_at_a_time(ct, store):
    client = ct()
    dashboard = name()
    slow = {
        "QueryStatement": f"SELECT count(*) AS n FROM {store} UNION ALL SELECT count(*) FROM generate_series(1, 50000000000)",
        "ViewProperties": VIEW,
    }
    created = client.create_dashboard(Name=dashboard, Widgets=[slow])
    alias = created["Widgets"][0]["QueryAlias"]
    first = client.start_dashboard_refresh(DashboardId=dashboard)["RefreshId"]
    query_id = client.describe_query(QueryAlias=alias, RefreshId=first)["QueryId"]
    try:
        with aws_error("ServiceQuotaExceededException", contains="one refresh at a time"):
            client.start_dashboard_refresh(DashboardId=dashboard)
    finally:
        client.cancel_query(QueryId=query_id)
    assert wait_query(client, QueryId=query_id)["QueryStatus"] == "CANCELLED"
    second = client.start_dashboard_refresh(DashboardId=dashboard)["RefreshId"]
    assert int(second) > int(first)
    client.cancel_query(QueryId=client.describe_query(QueryAlias=alias, RefreshId=second)["QueryId"])
    # The first refresh's query is still found by its refresh ID.
    assert client.describe_query(QueryAlias=alias, RefreshId=first)["QueryId"] == query_id


def test_refresh_errors(ct, srv, store):
    client = ct()
    dashboard = name()
    client.create_dashboard(Name=dashboard, Widgets=[widget(store)])
    with aws_error("ResourceNotFoundException"):
        client.start_dashboard_refresh(DashboardId=name("never"))
    for values, fragment in [
        ({"$Tomorrow$": "1"}, "not a query parameter"),
        ({"$EventDataStoreId$": store}, "managed dashboards"),
        ({"$Period$": "fortnight"}, "$Period$ must be one of"),
        ({"$StartTime$": "soon"}, "is not a time"),
        ({"$StartTime$": "2030-01-01", "$EndTime$": "2029-01-01"}, "must not be after"),
    ]:
        with aws_error("InvalidParameterException", contains=fragment):
            client.start_dashboard_refresh(DashboardId=dashboard, QueryParameterValues=values)
    with aws_error("QueryIdNotFoundException"):
        client.describe_query(QueryAlias="Widget1-nothing-here", RefreshId="1234567890")
    assert_raw_error(
        raw_call(srv.endpoint, "DescribeQuery", {"QueryAlias": "Widget1-x", "RefreshId": "12"}),
        "InvalidParameterException",
        "10 to 20 digits",
    )
    assert_raw_error(raw_call(srv.endpoint, "GetQueryResults", {"QueryAlias": "Widget1-x"}), "QueryIdNotFoundException")
    # An empty dashboard refreshes to nothing.
    empty = name()
    client.create_dashboard(Name=empty)
    assert REFRESH_ID_RE.match(client.start_dashboard_refresh(DashboardId=empty)["RefreshId"])


# ------------------------------------------------------------------ SearchSampleQueries


def all_samples(client, phrase: str, page_size: int = 50) -> list[dict]:
    results, token = [], None
    while True:
        resp = client.search_sample_queries(SearchPhrase=phrase, MaxResults=page_size, **({"NextToken": token} if token else {}))
        results += resp["SearchResults"]
        token = resp.get("NextToken")
        if not token:
            return results


def test_search_sample_queries(ct, srv):
    client = ct()
    found = assert_conforms(
        "SearchSampleQueries", raw_call(srv.endpoint, "SearchSampleQueries", {"SearchPhrase": "console login"})
    )
    results = found["SearchResults"]
    assert 1 <= len(results) <= 10
    assert results[0]["Name"] == "Console login activity"
    assert "ConsoleLogin" in results[0]["SQL"] and "<EDS_ID>" in results[0]["SQL"]
    relevances = [r["Relevance"] for r in results]
    assert relevances == sorted(relevances, reverse=True)
    assert all(0 < r <= 1 for r in relevances)
    assert client.search_sample_queries(SearchPhrase="s3 bucket policy changes")["SearchResults"][0]["Name"] == (
        "S3 bucket policy and ACL changes"
    )
    paged = all_samples(client, "console login", page_size=2)
    assert [r["Name"] for r in paged[:10]] == [r["Name"] for r in results]
    assert client.search_sample_queries(SearchPhrase="zzz qqq")["SearchResults"] == []
    for body, fragment in [
        ({"SearchPhrase": "a"}, "length between 2 and 1000"),
        ({"SearchPhrase": "x" * 1001}, "length between 2 and 1000"),
        ({"SearchPhrase": "console", "MaxResults": 51}, "between 1 and 50"),
        ({"SearchPhrase": "console", "MaxResults": 0}, "between 1 and 50"),
        ({}, "Value null at 'searchPhrase'"),
    ]:
        assert_raw_error(raw_call(srv.endpoint, "SearchSampleQueries", body), "InvalidParameterException", fragment)
    token = client.search_sample_queries(SearchPhrase="console login", MaxResults=1)["NextToken"]
    with aws_error("InvalidParameterException", contains="NextToken"):
        client.search_sample_queries(SearchPhrase="root user", NextToken=token)


def test_every_sample_query_runs_on_the_lake(ct, store):
    """The catalogue is written for cairn's Lake: each query, given a store, runs to FINISHED."""
    client = ct()
    samples = all_samples(client, "select from eds id")
    assert len(samples) >= 40
    failures = []
    for sample in samples:
        statement = sample["SQL"].replace("<EDS_ID>", store)
        try:
            query_id = client.start_query(QueryStatement=statement)["QueryId"]
        except ClientError as e:
            failures.append(f"{sample['Name']}: {e.response['Error']['Code']}: {e.response['Error']['Message']}")
            continue
        described = wait_query(client, QueryId=query_id)
        if described["QueryStatus"] != "FINISHED":
            failures.append(f"{sample['Name']}: {described['QueryStatus']}: {described.get('ErrorMessage')}")
    assert not failures, "\n".join(failures)
