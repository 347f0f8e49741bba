"""The web console over HTTP: sign-in recorded as ConsoleLogin events, sessions, CSRF, escaping, and
Event history through LookupEvents, trails. Lake and overview pages: test_console_pages.py; a real
browser: test_console_browser.py."""

from __future__ import annotations

import csv
import html
import io
import json
import time
import urllib.parse

import pytest

from console_client import Browser, hidden, table_rows
from helpers import (ACCOUNT, ALICE, HISTORY_CONFIG, MEMBER, MEMBER_ACCOUNT, ROOT, ROOT_ENV, CairnServer, create_bucket,
                     raw_call, unique)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server, with LookupEvents unthrottled: the tests read history often."""
    srv = CairnServer(tmp_path_factory.mktemp("console"), config=HISTORY_CONFIG, env=ROOT_ENV)
    srv.start()
    yield srv
    srv.close()


def console_logins(ct, since: float) -> list[dict]:
    events = []
    for _ in range(50):
        out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"}],
                                 StartTime=since)
        events = [json.loads(e["CloudTrailEvent"]) for e in out["Events"]]
        if events:
            return events
        time.sleep(0.1)
    return events


def test_sign_in_opens_a_strict_http_only_session_and_is_recorded(server, ct):
    since = time.time() - 1
    browser = Browser(server.console)
    status, headers, _, raw = browser.sign_in(ALICE.access_key, ALICE.secret_key)
    assert status == 303 and headers["location"] == "/history"
    session_cookie = [v for k, v in raw if k.lower() == "set-cookie" and v.startswith("cairn_session=")]
    assert session_cookie and "HttpOnly" in session_cookie[0] and "SameSite=Strict" in session_cookie[0]
    status, _, page, _ = browser.get("/history")
    assert status == 200 and "Event history" in page and "alice" in page

    logins = [e for e in console_logins(ct, since) if e["userIdentity"].get("userName") == "alice"]
    assert len(logins) == 1
    login = logins[0]
    assert login["eventSource"] == "signin.amazonaws.com" and login["eventType"] == "AwsConsoleSignIn"
    assert login["responseElements"] == {"ConsoleLogin": "Success"}
    assert login["additionalEventData"]["MFAUsed"] == "No"
    assert login["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert login["userAgent"] == "console-test/1.0" and login["sourceIPAddress"] == "127.0.0.1"
    assert "requestID" not in login and "errorMessage" not in login


def test_failed_sign_ins_are_recorded_with_unknown_users_hidden(server, ct):
    since = time.time() - 1
    browser = Browser(server.console)
    status, _, page, _ = browser.sign_in(ALICE.access_key, "not-her-secret")
    assert status == 401 and "Sign-in failed" in page
    status, _, page, _ = browser.sign_in("AKIANOBODY0000000000", "whatever")
    assert status == 401
    assert "cairn_session" not in browser.cookies
    assert browser.get("/history")[0] == 303

    failures = []
    for _ in range(50):
        failures = [e for e in console_logins(ct, since) if e["responseElements"] == {"ConsoleLogin": "Failure"}]
        if len(failures) == 2:
            break
        time.sleep(0.1)
    by_user = {e["userIdentity"].get("userName"): e for e in failures}
    assert set(by_user) == {"alice", "HIDDEN_DUE_TO_SECURITY_REASONS"}
    for event in failures:
        assert event["errorMessage"] == "Failed authentication"
        assert "arn" not in event["userIdentity"] and event["userIdentity"]["accessKeyId"] == ""


def test_pages_need_a_session_and_forms_need_their_token(server):
    anonymous = Browser(server.console)
    status, headers, _, _ = anonymous.get("/history")
    assert status == 303 and headers["location"] == "/signin"
    status, headers, _, _ = anonymous.get("/signin")
    assert "default-src 'none'" in headers["content-security-policy"], "no page may run a script"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    # A sign-in posted without the token of the page it came from is refused, and not recorded.
    status, _, _, _ = anonymous.post("/signin", {"csrf": "forged", "access_key_id": ROOT.access_key,
                                                 "secret_access_key": ROOT.secret_key})
    assert status == 403 and "cairn_session" not in anonymous.cookies

    browser = Browser(server.console)
    assert browser.sign_in(ROOT.access_key, ROOT.secret_key)[0] == 303
    status, _, page, _ = browser.get("/history")
    csrf = hidden(page, "csrf")
    assert browser.post("/signout", {"csrf": "wrong"})[0] == 403
    assert browser.get("/history")[0] == 200, "a refused sign-out leaves the session open"
    status, headers, _, _ = browser.post("/signout", {"csrf": csrf})
    assert status == 303 and headers["location"] == "/signin"
    assert browser.get("/history")[0] == 303


def test_history_filters_by_user_and_escapes_what_it_shows(server, ct):
    hostile = "<script>alert(1)</script>"
    # An unknown operation is recorded under the name it was called by: stored text a page must escape.
    assert raw_call(server.endpoint, hostile, creds=ALICE).status == 400
    ct(creds=ROOT).describe_trails()
    browser = Browser(server.console)
    browser.sign_in(ALICE.access_key, ALICE.secret_key)
    query = urllib.parse.urlencode({"attribute": "Username", "value": "alice"})
    status, page = None, ""
    for _ in range(50):
        status, _, page, _ = browser.get(f"/history?{query}")
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in page:
            break
        time.sleep(0.1)
    assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert hostile not in page
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert rows and all("<td>alice</td>" in row for row in rows), "only alice's events"
    assert not any("DescribeTrails" in row for row in rows)
    # The filter's own text is echoed escaped too.
    status, _, page, _ = browser.get("/history?" + urllib.parse.urlencode({"attribute": "Username", "value": hostile}))
    assert status == 200 and hostile not in page and "No events match." in page
    # A time range before any event shows none; a bad time says why.
    status, _, page, _ = browser.get("/history?" + urllib.parse.urlencode({"end": "2001-01-01T00:00"}))
    assert status == 200 and "No events match." in page
    status, _, page, _ = browser.get("/history?" + urllib.parse.urlencode({"start": "yesterday"}))
    assert status == 200 and "is not a date and time" in page


def test_console_calls_are_recorded_as_api_calls_from_the_console(server, ct):
    since = time.time() - 1
    browser = Browser(server.console)
    browser.sign_in(ALICE.access_key, ALICE.secret_key)
    assert browser.get("/history")[0] == 200
    found = []
    for _ in range(50):
        out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}],
                                 StartTime=since)
        found = [json.loads(e["CloudTrailEvent"]) for e in out["Events"]]
        found = [e for e in found if e.get("sessionCredentialFromConsole") == "true"]
        if found:
            break
        time.sleep(0.1)
    assert found and found[0]["userIdentity"]["userName"] == "alice"
    assert found[0]["eventType"] == "AwsApiCall" and found[0]["readOnly"] is True


def test_an_event_opens_as_its_pretty_printed_record(server, ct):
    browser = Browser(server.console)
    browser.sign_in(ALICE.access_key, ALICE.secret_key)
    hostile = "<img src=x onerror=alert(2)>"
    assert raw_call(server.endpoint, hostile, creds=ALICE).status == 400
    event_id = None
    for _ in range(50):
        out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": hostile}])
        if out["Events"]:
            event_id = out["Events"][0]["EventId"]
            break
        time.sleep(0.1)
    assert event_id
    status, _, page, _ = browser.get("/history?" + urllib.parse.urlencode({"attribute": "Username", "value": "alice"}))
    assert f'href="/history/event/{event_id}"' in page
    status, _, page, _ = browser.get(f"/history/event/{event_id}")
    assert status == 200 and hostile not in page
    shown = html.unescape(page.split("<pre", 1)[1].split(">", 1)[1].split("</pre>", 1)[0])
    record = json.loads(shown)
    assert record["eventID"] == event_id and record["eventName"] == hostile
    assert "\n  " in shown, "pretty-printed"
    status, _, page, _ = browser.get("/history/event/00000000-0000-4000-8000-000000000000")
    assert status == 404 and "No event" in page
    assert Browser(server.console).get(f"/history/event/{event_id}")[0] == 303, "a session is needed"


def test_the_filtered_events_download_as_csv_and_json(server, ct):
    browser = Browser(server.console)
    browser.sign_in(ALICE.access_key, ALICE.secret_key)
    for _ in range(3):
        ct(creds=ALICE).describe_trails()
    expected = []
    for _ in range(50):
        out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}],
                                 MaxResults=50)
        expected = out["Events"]
        if sum(e["EventName"] == "DescribeTrails" for e in expected) >= 3:
            break
        time.sleep(0.1)
    query = urllib.parse.urlencode({"attribute": "Username", "value": "alice"})
    status, headers, text, _ = browser.get(f"/history.csv?{query}")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(row["User name"] == "alice" for row in rows)
    by_id = {row["Event ID"]: row for row in rows}
    for event in expected:
        row = by_id.get(event["EventId"])
        assert row is not None, f"{event['EventName']} {event['EventId']} missing from the CSV"
        assert row["Event name"] == event["EventName"] and row["Event source"] == event["EventSource"]
    status, headers, text, _ = browser.get(f"/history.json?{query}")
    assert status == 200 and headers["content-type"] == "application/json"
    records = json.loads(text)["Records"]
    newer = [r for r in records if r["eventID"] not in by_id]
    assert {r["eventID"] for r in records} >= set(by_id)
    # Only what the CSV download itself recorded came in between.
    assert all(r["eventName"] == "LookupEvents" and r["sessionCredentialFromConsole"] == "true" for r in newer)
    assert all(r["userIdentity"]["userName"] == "alice" for r in records)


def test_a_trail_is_created_seen_logging_stopped_and_deleted(server, ct, s3):
    bucket = create_bucket(s3)
    name = unique("console-trail")
    browser = Browser(server.console)
    browser.sign_in(ROOT.access_key, ROOT.secret_key)
    status, _, page, _ = browser.get("/trails")
    csrf = hidden(page, "csrf")
    form = {"csrf": csrf, "name": name, "bucket": bucket, "prefix": "", "multi_region": "on", "global_events": "on",
            "validation": "on", "start": "on"}
    assert browser.post("/trails/create", {**form, "csrf": "stale"})[0] == 403
    status, headers, _, _ = browser.post("/trails/create", form)
    assert status == 303 and headers["location"] == "/trails"
    assert ct().get_trail_status(Name=name)["IsLogging"] is True
    described = ct().get_trail(Name=name)["Trail"]
    assert described["IsMultiRegionTrail"] and described["LogFileValidationEnabled"]
    [row] = [r for r in table_rows(browser.get("/trails")[2]) if f"<td>{name}</td>" in r]
    assert "<td>Logging</td>" in row and f"<td>{bucket}</td>" in row

    arn = described["TrailARN"]
    assert browser.post("/trails/stop", {"csrf": csrf, "name": arn})[0] == 303
    assert ct().get_trail_status(Name=name)["IsLogging"] is False
    [row] = [r for r in table_rows(browser.get("/trails")[2]) if f"<td>{name}</td>" in r]
    assert "<td>Off</td>" in row
    assert browser.post("/trails/rename", {"csrf": csrf, "name": arn})[0] == 404
    assert browser.post("/trails/delete", {"csrf": "stale", "name": arn})[0] == 403
    assert browser.post("/trails/delete", {"csrf": csrf, "name": arn})[0] == 303
    assert not [r for r in table_rows(browser.get("/trails")[2]) if f"<td>{name}</td>" in r]

    # The console's calls are the API's, recorded as made from the console.
    out = ct().lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])
    names = {e["EventName"] for e in out["Events"]}
    assert {"CreateTrail", "StartLogging", "StopLogging", "DeleteTrail"} <= names
    assert all(json.loads(e["CloudTrailEvent"]).get("sessionCredentialFromConsole") == "true"
               for e in out["Events"] if e["EventName"] in {"CreateTrail", "DeleteTrail"})


def test_a_refused_trail_shows_the_aws_error_escaped(server):
    browser = Browser(server.console)
    browser.sign_in(ROOT.access_key, ROOT.secret_key)
    csrf = hidden(browser.get("/trails")[2], "csrf")
    status, _, page, _ = browser.post("/trails/create", {"csrf": csrf, "name": "<b>bad</b>", "bucket": "no-such-bucket-x"})
    assert status == 400 and "InvalidTrailNameException" in page and "<b>bad</b>" not in page
    status, _, page, _ = browser.post("/trails/create", {"csrf": csrf, "name": unique("t"), "bucket": "no-such-bucket-x"})
    assert status == 400 and "S3BucketDoesNotExistException" in page


def test_a_session_of_one_account_never_shows_another_accounts_events_or_trails(server, ct, s3):
    bucket = create_bucket(s3)
    name = unique("root-only")
    ct().create_trail(Name=name, S3BucketName=bucket)
    ct(creds=ALICE).describe_trails()
    member = Browser(server.console)
    assert member.sign_in(MEMBER.access_key, MEMBER.secret_key)[0] == 303
    for query in ({"attribute": "Username", "value": "alice"}, {"attribute": "ResourceName", "value": name}):
        status, _, page, _ = member.get("/history?" + urllib.parse.urlencode(query))
        assert status == 200 and "No events match." in page, query
    status, _, page, _ = member.get("/history")
    rows = table_rows(page)
    assert status == 200 and rows, "the member's own sign-in at least"
    assert all(f"<td>{MEMBER.access_key}</td>" in row for row in rows), rows
    status, _, text, _ = member.get("/history.json")
    assert {r["recipientAccountId"] for r in json.loads(text)["Records"]} == {MEMBER_ACCOUNT}
    assert name not in member.get("/trails")[2]
    ct().delete_trail(Name=name)
