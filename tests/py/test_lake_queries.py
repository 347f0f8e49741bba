"""Lake queries through boto3 (spec/api.md §1.7, §2.9): events recorded by cairn reach an event data
store within a second and answer SQL; the query lifecycle, statistics, paging, errors, results
delivered to a bucket as CSV, and survival of a restart.
"""

from __future__ import annotations

import csv
import gzip
import io
import time

import pytest
from botocore.exceptions import ClientError

from helpers import ROOT_ENV, SESSION_CONFIG, CairnServer

TERMINAL = {"FINISHED", "FAILED", "CANCELLED", "TIMED_OUT"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = CairnServer(tmp_path_factory.mktemp("cairn-lake"), config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def store(srv):
    arn = srv.ct().create_event_data_store(Name="queries", TerminationProtectionEnabled=False)["EventDataStoreArn"]
    return arn.rsplit("/", 1)[1]


def run(ct, statement: str, **kw) -> tuple[str, dict]:
    query_id = ct.start_query(QueryStatement=statement, **kw)["QueryId"]
    deadline = time.time() + 30
    while True:
        described = ct.describe_query(QueryId=query_id)
        if described["QueryStatus"] in TERMINAL or time.time() > deadline:
            return query_id, described
        time.sleep(0.05)


def rows(ct, query_id: str, **kw) -> list[list[dict]]:
    return ct.get_query_results(QueryId=query_id, **kw)["QueryResultRows"]


def test_recorded_calls_are_queryable_within_a_second(srv, store):
    ct = srv.ct()
    marker = f"lake-{time.time_ns()}"
    try:
        ct.get_trail(Name=marker)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "TrailNotFoundException"
    started = time.time()
    while True:
        query_id, described = run(
            ct,
            f"SELECT eventName, errorCode, userIdentity.arn, requestParameters FROM {store} "
            f"WHERE element_at(requestParameters, 'name') = '{marker}'",
        )
        assert described["QueryStatus"] == "FINISHED", described
        found = rows(ct, query_id)
        if found or time.time() - started > 1.0:
            break
    assert found, "the GetTrail call was not queryable within a second"
    assert found[0][0] == {"eventname": "GetTrail"}
    assert found[0][1] == {"errorcode": "TrailNotFoundException"}
    assert found[0][2]["arn"].startswith("arn:aws:iam::")
    assert marker in found[0][3]["requestparameters"]


def test_statistics_paging_and_listing(srv, store):
    ct = srv.ct()
    for _ in range(5):
        ct.list_trails()
    time.sleep(0.5)
    query_id, described = run(ct, f"SELECT eventID, eventTime FROM {store} ORDER BY eventTime")
    assert described["QueryStatus"] == "FINISHED"
    stats = described["QueryStatistics"]
    assert stats["EventsScanned"] >= 5 and stats["EventsMatched"] >= 5
    assert described["QueryString"].startswith("SELECT eventID")
    first = ct.get_query_results(QueryId=query_id, MaxQueryResults=2)
    assert first["QueryStatistics"]["ResultsCount"] == 2
    assert first["QueryStatistics"]["TotalResultsCount"] >= 5
    assert "NextToken" in first
    everything = []
    token = None
    while True:
        page = ct.get_query_results(QueryId=query_id, MaxQueryResults=2, **({"NextToken": token} if token else {}))
        everything.extend(page["QueryResultRows"])
        token = page.get("NextToken")
        if not token:
            break
    assert len(everything) == first["QueryStatistics"]["TotalResultsCount"]
    times = [row[1]["eventtime"] for row in everything]
    assert times == sorted(times) and len(times[0]) == len("2026-01-01 00:00:00.000")
    listed = ct.list_queries(EventDataStore=store)["Queries"]
    assert query_id in [q["QueryId"] for q in listed]
    assert all(q["QueryStatus"] in TERMINAL for q in listed)
    finished = ct.list_queries(EventDataStore=store, QueryStatus="FINISHED")["Queries"]
    assert query_id in [q["QueryId"] for q in finished]


@pytest.mark.parametrize(
    "statement,code,message",
    [
        ("DELETE FROM {store}", "InvalidQueryStatementException", "Only SELECT statements are supported"),
        ("SELECT nosuchcolumn FROM {store}", "InvalidQueryStatementException", "nosuchcolumn"),
        ("SELECT * FROM {store} WHERE", "InvalidQueryStatementException", "not valid SQL"),
        ("SELECT 1", "InvalidQueryStatementException", "must read an event data store"),
        ("SELECT * FROM 11111111-2222-4333-8444-555555555555", "EventDataStoreNotFoundException", "does not exist"),
    ],
)
def test_bad_statements_are_refused_at_start(srv, store, statement, code, message):
    with pytest.raises(ClientError) as raised:
        srv.ct().start_query(QueryStatement=statement.format(store=store))
    assert raised.value.response["Error"]["Code"] == code
    assert message in raised.value.response["Error"]["Message"]


def test_query_errors(srv, store):
    ct = srv.ct()
    for call, code in [
        (lambda: ct.describe_query(QueryId="00000000-0000-4000-8000-000000000000"), "QueryIdNotFoundException"),
        (lambda: ct.get_query_results(QueryId="00000000-0000-4000-8000-000000000000"), "QueryIdNotFoundException"),
        (lambda: ct.list_queries(EventDataStore="00000000-0000-4000-8000-000000000000"), "EventDataStoreNotFoundException"),
        (lambda: ct.list_queries(EventDataStore=store, QueryStatus="DONE"), "InvalidQueryStatusException"),
        (lambda: ct.list_queries(EventDataStore=store, StartTime=2000, EndTime=1000), "InvalidDateRangeException"),
    ]:
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == code
    query_id, _ = run(ct, f"SELECT count(*) FROM {store}")
    with pytest.raises(ClientError) as raised:
        ct.cancel_query(QueryId=query_id)
    assert raised.value.response["Error"]["Code"] == "InactiveQueryException"
    with pytest.raises(ClientError) as raised:
        ct.get_query_results(QueryId=query_id, MaxQueryResults=1001)
    assert raised.value.response["Error"]["Code"] == "InvalidMaxResultsException"


def test_a_running_query_can_be_cancelled_and_ten_at_most_run(srv, store):
    ct = srv.ct()
    slow = f"SELECT count(*) FROM {store} CROSS JOIN (SELECT * FROM generate_series(1, 30000000)) AS g(n)"
    started = [ct.start_query(QueryStatement=slow)["QueryId"] for _ in range(10)]
    with pytest.raises(ClientError) as raised:
        ct.start_query(QueryStatement=slow)
    assert raised.value.response["Error"]["Code"] == "MaxConcurrentQueriesException"
    for query_id in started:
        cancelled = ct.cancel_query(QueryId=query_id)
        assert cancelled["QueryStatus"] == "CANCELLED"
    assert ct.describe_query(QueryId=started[0])["QueryStatus"] == "CANCELLED"
    run(ct, f"SELECT count(*) FROM {store}")


def test_results_are_delivered_to_a_bucket_as_csv(srv, store):
    s3 = srv.s3()
    s3.create_bucket(Bucket="lake-results")
    ct = srv.ct()
    query_id, described = run(
        ct, f"SELECT eventName, count(*) AS n FROM {store} GROUP BY eventName", DeliveryS3Uri="s3://lake-results/out"
    )
    assert described["QueryStatus"] == "FINISHED"
    assert described["DeliveryStatus"] == "SUCCESS" and described["DeliveryS3Uri"] == "s3://lake-results/out"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake-results").get("Contents", [])]
    key = next(k for k in keys if query_id in k)
    assert key.startswith("out/AWSLogs/") and "/CloudTrail-Lake/Query/" in key and key.endswith("/result_1.csv.gz")
    body = gzip.decompress(s3.get_object(Bucket="lake-results", Key=key)["Body"].read()).decode()
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == ["eventname", "n"]
    api_rows = rows(ct, query_id)
    assert sorted(table[1:]) == sorted([[r[0]["eventname"], r[1]["n"]] for r in api_rows])
    with pytest.raises(ClientError) as raised:
        ct.start_query(QueryStatement=f"SELECT 1 AS x FROM {store}", DeliveryS3Uri="s3://no-such-bucket-here/x")
    assert raised.value.response["Error"]["Code"] == "S3BucketDoesNotExistException"


def test_queries_and_events_survive_a_restart(srv, store):
    ct = srv.ct()
    query_id, _ = run(ct, f"SELECT count(*) AS n FROM {store}")
    before = int(rows(ct, query_id)[0][0]["n"])
    srv.kill9()
    srv.start()
    ct = srv.ct()
    assert ct.describe_query(QueryId=query_id)["QueryStatus"] == "FINISHED"
    assert int(rows(ct, query_id)[0][0]["n"]) == before
    _, described = run(ct, f"SELECT count(*) AS n FROM {store}")
    again = ct.get_query_results(QueryId=described["QueryId"])["QueryResultRows"]
    assert int(again[0][0]["n"]) > before, "the tail was replayed from the log, and the new calls were added"
