"""The console's Lake, overview, trail editing, delivered files, free-text search and live view over
HTTP: each page against what the API says, with CSRF, escaping and account isolation."""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import re
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from console_client import Browser, hidden, table_rows
from delivery import FAST_ARGS, wait_for
from helpers import (ALICE, HISTORY_CONFIG, MEMBER, ROOT, ROOT_ENV, TOPIC_ARN, CairnServer, create_bucket, raw_call,
                     unique)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server: LookupEvents unthrottled, log files delivered every second."""
    srv = CairnServer(tmp_path_factory.mktemp("console-pages"), config=HISTORY_CONFIG, env=ROOT_ENV, args=FAST_ARGS)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def root(server):
    browser = Browser(server.console)
    assert browser.sign_in(ROOT.access_key, ROOT.secret_key)[0] == 303
    return browser


def cells(row: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]


def store_row(page: str, name: str) -> str | None:
    found = [r for r in table_rows(page) if f"<td>{name}</td>" in r]
    return found[0] if found else None


def create_store(root: Browser, name: str, **fields) -> str:
    csrf = hidden(root.get("/lake")[2], "csrf")
    form = {"csrf": csrf, "name": name, "retention": "30", "multi_region": "on", **fields}
    status, headers, page, _ = root.post("/lake/stores/create", form)
    assert status == 303 and headers["location"] == "/lake", page
    row = store_row(root.get("/lake")[2], name)
    assert row
    return cells(row)[1]


def run_query(root: Browser, store: str, sql: str) -> tuple[str, str]:
    """Posts `sql` from the editor and follows the results page until the query ends."""
    csrf = hidden(root.get(f"/lake/query?store={store}")[2], "csrf")
    status, headers, page, _ = root.post("/lake/query", {"csrf": csrf, "store": store, "sql": sql})
    assert status == 303, page
    location = headers["location"]
    query_id = location.rsplit("/", 1)[1]
    for _ in range(300):
        status, _, page, _ = root.get(location)
        if 'http-equiv="refresh"' not in page:
            return query_id, page
        time.sleep(0.1)
    raise AssertionError(f"query {query_id} did not finish: {page}")


def test_event_data_stores_are_created_edited_deleted_and_restored(server, ct, root):
    name = unique("console-eds")
    store = create_store(root, name, termination_protection="on")
    described = ct().get_event_data_store(EventDataStore=store)
    assert described["Name"] == name and described["RetentionPeriod"] == 30
    assert described["TerminationProtectionEnabled"] is True and described["MultiRegionEnabled"] is True
    page = root.get("/lake")[2]
    csrf = hidden(page, "csrf")
    assert root.post(f"/lake/stores/{store}/delete", {"csrf": "stale"})[0] == 403

    # Protected: the refusal is AWS's, shown on the page.
    status, _, page, _ = root.post(f"/lake/stores/{store}/delete", {"csrf": csrf})
    assert status == 400 and "EventDataStoreTerminationProtectedException" in page

    # Edit: the form shows the store's settings; saving changes retention, protection and selectors.
    status, _, page, _ = root.get(f"/lake/stores/{store}")
    assert status == 200 and 'name="termination_protection" value="on" checked' in page
    assert "eventCategory" in html.unescape(page), "the store's selectors fill the form"
    selectors = [{"Name": "writes", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                        {"Field": "readOnly", "Equals": ["false"]}]}]
    form = {"csrf": csrf, "name": name, "retention": "90", "multi_region": "on", "selectors": json.dumps(selectors)}
    status, headers, page, _ = root.post(f"/lake/stores/{store}/update", form)
    assert status == 303, page
    described = ct().get_event_data_store(EventDataStore=store)
    assert described["RetentionPeriod"] == 90 and described["TerminationProtectionEnabled"] is False
    assert described["AdvancedEventSelectors"][0]["Name"] == "writes"
    status, _, page, _ = root.post(f"/lake/stores/{store}/update", {**form, "retention": "1"})
    assert status == 400 and "InvalidParameter" in page
    status, _, page, _ = root.post(f"/lake/stores/{store}/update", {**form, "selectors": "{not json"})
    assert status == 400 and "not JSON" in page

    # Delete, then restore.
    assert root.post(f"/lake/stores/{store}/delete", {"csrf": csrf})[0] == 303
    assert ct().get_event_data_store(EventDataStore=store)["Status"] == "PENDING_DELETION"
    row = store_row(root.get("/lake")[2], name)
    assert "PENDING_DELETION" in row and "Restore" in row and "Query" not in row
    assert root.post(f"/lake/stores/{store}/restore", {"csrf": csrf})[0] == 303
    assert ct().get_event_data_store(EventDataStore=store)["Status"] == "ENABLED"

    # All of it went through the API, recorded as calls from the console.
    arn = described["EventDataStoreArn"]
    wanted = {"CreateEventDataStore", "UpdateEventDataStore", "DeleteEventDataStore", "RestoreEventDataStore"}
    found = {}
    for _ in range(50):
        out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])
        found = {e["EventName"]: json.loads(e["CloudTrailEvent"]) for e in out["Events"]}
        if wanted <= set(found):
            break
        time.sleep(0.1)
    assert wanted <= set(found)
    assert all(found[name].get("sessionCredentialFromConsole") == "true" for name in wanted)


def test_a_sample_query_runs_and_its_results_page_and_download(server, ct, root):
    store = create_store(root, unique("console-query"), termination_protection="")
    for _ in range(60):
        ct().list_trails()
    # The editor offers the sample queries, each ready for the chosen store.
    status, _, page, _ = root.get(f"/lake/query?store={store}&search=most+frequent+API+calls")
    assert status == 200
    links = re.findall(r'<a href="(/lake/query\?store=[^"]+)">([^<]+)</a>', page)
    sample = dict((html.unescape(text), html.unescape(href)) for href, text in links)["Most frequent API calls"]
    sql = urllib.parse.parse_qs(urllib.parse.urlparse(sample).query)["sql"][0]
    assert f"FROM {store}" in sql and "<EDS_ID>" not in sql
    status, _, page, _ = root.get(sample)
    assert html.escape(sql, quote=False) in page.replace("&#39;", "'").replace("&quot;", '"')

    # A query with more rows than a page: the table pages through them, the CSV holds them all.
    deadline = time.time() + 10
    while True:
        query_id, page = run_query(root, store, f"SELECT eventid, eventname FROM {store} "
                                                f"WHERE eventname = 'ListTrails' ORDER BY eventid")
        if "60 rows" in page or time.time() > deadline:
            break
        time.sleep(0.2)
    assert "FINISHED" in page and "60 rows" in page, page
    expected = [[list(cell.values())[0] for cell in row]
                for row in ct().get_query_results(QueryId=query_id, MaxQueryResults=1000)["QueryResultRows"]]
    first = [cells(row) for row in table_rows(page)]
    assert first == expected[:50]
    next_link = html.unescape(re.search(r'<a href="([^"]+)">Next 50 rows</a>', page).group(1))
    second = [cells(row) for row in table_rows(root.get(next_link)[2])]
    assert second == expected[50:]
    status, headers, text, _ = root.get(f"/lake/queries/{query_id}/results.csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(text))) == [["eventid", "eventname"], *expected]

    # The history lists it with its statement; a bad statement is refused with Lake's error, escaped.
    status, _, page, _ = root.get("/lake/queries")
    assert status == 200 and f'href="/lake/queries/{query_id}"' in page and "ORDER BY eventid" in page
    csrf = hidden(root.get("/lake/query")[2], "csrf")
    status, _, page, _ = root.post("/lake/query", {"csrf": csrf, "store": store, "sql": "SELECT '<b>' FROM nowhere"})
    assert status == 400 and ("InvalidQueryStatementException" in page or "EventDataStoreNotFound" in page)
    assert "<b>" not in page.split("</textarea>")[-1], "the statement and error are text"
    assert root.post("/lake/query", {"csrf": "stale", "store": store, "sql": "SELECT 1"})[0] == 403


def test_another_account_sees_none_of_the_stores_or_queries(server, root):
    name = unique("root-eds")
    store = create_store(root, name, termination_protection="")
    query_id, _ = run_query(root, store, f"SELECT count(*) FROM {store}")
    member = Browser(server.console)
    assert member.sign_in(MEMBER.access_key, MEMBER.secret_key)[0] == 303
    assert name not in member.get("/lake")[2]
    status, _, page, _ = member.get(f"/lake/queries/{query_id}")
    assert status == 404 and "QueryIdNotFound" in page
    assert member.get(f"/lake/queries/{query_id}/results.csv")[0] == 400
    assert query_id not in member.get("/lake/queries")[2]
    assert member.get(f"/lake/stores/{store}")[0] == 404
    # Pages need a session.
    for path in ("/lake", "/lake/query", "/lake/queries", f"/lake/queries/{query_id}", "/overview"):
        assert Browser(server.console).get(path)[0] == 303, path


def test_the_overview_counts_the_last_day_and_shows_every_trail(server, ct, s3, root):
    hostile = "<i>overview</i>"
    for _ in range(3):
        assert raw_call(server.endpoint, hostile, creds=ALICE).status == 400
    bucket = create_bucket(s3)
    trail = unique("overview-trail")
    ct().create_trail(Name=trail, S3BucketName=bucket)
    ct().start_logging(Name=trail)
    status, _, page, _ = root.get("/overview")
    assert status == 200 and "<svg" in page and hostile not in page
    totals = re.search(r"<strong>(\d+)</strong> events, <strong>(\d+)</strong> with an error", page)
    events, errors = int(totals.group(1)), int(totals.group(2))
    assert events >= 5 and errors >= 3
    tables = page.split("<h2>")
    names = dict(cells(r)[:2] for r in table_rows(next(t for t in tables if t.startswith("Top event names"))))
    assert int(names[hostile]) == 3
    users = dict(cells(r)[:2] for r in table_rows(next(t for t in tables if t.startswith("Top users"))))
    assert int(users["alice"]) >= 3
    codes = dict(cells(r)[:2] for r in table_rows(next(t for t in tables if t.startswith("Top error codes"))))
    assert int(codes["UnknownOperationException"]) >= 3
    hours = [cells(r) for r in table_rows(page.split("<details>", 1)[1])]
    assert len(hours) == 24 and sum(int(h[1]) for h in hours) == events
    [row] = [r for r in table_rows(tables[-1]) if f"<td>{trail}</td>" in r]
    assert "<td>Logging</td>" in row
    ct().delete_trail(Name=trail)


def test_a_trail_is_edited_and_its_delivered_files_listed_and_downloaded(server, ct, s3, root):
    bucket = create_bucket(s3)
    name = unique("edited")
    csrf = hidden(root.get("/trails")[2], "csrf")
    form = {"csrf": csrf, "name": name, "bucket": bucket, "multi_region": "on", "global_events": "on",
            "validation": "on", "start": "on"}
    assert root.post("/trails/create", form)[0] == 303
    arn = ct().get_trail(Name=name)["Trail"]["TrailARN"]
    status, _, page, _ = root.get("/trails/edit?" + urllib.parse.urlencode({"name": arn}))
    assert status == 200 and f'value="{bucket}"' in page
    selectors = {"AdvancedEventSelectors": [
        {"Name": "s3 data", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                               {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]},
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}
    edit = {"csrf": csrf, "name": arn, "bucket": bucket, "prefix": "edited", "sns_topic": TOPIC_ARN,
            "multi_region": "on", "global_events": "on", "selectors": json.dumps(selectors)}
    assert root.post("/trails/update", {**edit, "csrf": "stale"})[0] == 403
    status, headers, page, _ = root.post("/trails/update", edit)
    assert status == 303, page
    trail = ct().get_trail(Name=name)["Trail"]
    assert trail["S3KeyPrefix"] == "edited" and trail["LogFileValidationEnabled"] is False
    assert trail["SnsTopicARN"] == TOPIC_ARN
    got = ct().get_event_selectors(TrailName=name)["AdvancedEventSelectors"]
    assert [s["Name"] for s in got] == ["s3 data", "management"]
    # The edit form shows what was saved; clearing the prefix and topic removes them.
    page = root.get("/trails/edit?" + urllib.parse.urlencode({"name": arn}))[2]
    assert 'value="edited"' in page and "s3 data" in page
    status, _, page, _ = root.post("/trails/update", {**edit, "selectors": "[]"})
    assert status == 400 and "EventSelectors" in html.unescape(page)
    assert root.post("/trails/update", {**edit, "prefix": "", "sns_topic": "", "selectors": ""})[0] == 303
    trail = ct().get_trail(Name=name)["Trail"]
    assert "S3KeyPrefix" not in trail and "SnsTopicARN" not in trail

    # Files: the trail's delivered log files, listed and downloaded as stored.
    ct().list_trails()
    wait_for(lambda: ct().get_trail_status(Name=name).get("LatestDeliveryTime"), what="a delivery")
    status, _, page, _ = root.get("/trails/files?" + urllib.parse.urlencode({"name": arn}))
    assert status == 200
    links = [html.unescape(h) for h in re.findall(r'<a href="(/trails/file\?[^"]+)" download>', page)]
    logs = [link for link in links if "CloudTrail%2F" in link or "/CloudTrail/" in urllib.parse.unquote(link)]
    assert logs, page
    status, headers, data = root.get_bytes(logs[0])
    assert status == 200 and "attachment" in headers["content-disposition"]
    assert "Records" in json.loads(gzip.decompress(data))
    key = urllib.parse.parse_qs(urllib.parse.urlparse(logs[0]).query)["key"][0]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    # Another account can neither list nor read the bucket.
    member = Browser(server.console)
    member.sign_in(MEMBER.access_key, MEMBER.secret_key)
    assert member.get("/trails/files?" + urllib.parse.urlencode({"name": arn}))[0] == 404
    assert member.get_bytes(logs[0])[0] == 404
    ct().delete_trail(Name=name)


def test_free_text_search_and_the_live_view(server, ct, root):
    marker = unique("needle")
    with pytest.raises(ClientError):
        ct().get_trail(Name=marker)
    for _ in range(30):
        ct().list_trails()
    status, _, page, _ = root.get("/history?" + urllib.parse.urlencode({"text": marker.upper()}))
    assert status == 200
    rows = [cells(r) for r in table_rows(page)]
    assert [r[1] for r in rows] == ["GetTrail"], "only the event whose record holds the text, in any case"
    # Free text narrows a lookup attribute too.
    query = {"attribute": "EventName", "value": "ListTrails", "text": marker}
    assert "No events match." in root.get("/history?" + urllib.parse.urlencode(query))[2]
    # The live view reloads itself and shows the newest events.
    status, _, page, _ = root.get("/history/live")
    assert status == 200 and '<meta http-equiv="refresh" content="2">' in page
    assert cells(table_rows(page)[0])[1] in {"LookupEvents", "ListTrails", "GetTrail"}
    ct().describe_trails()
    page = root.get("/history/live?attribute=ReadOnly&value=true")[2]
    assert "DescribeTrails" in [cells(r)[1] for r in table_rows(page)]
