"""The console in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from helpers import ALICE, HISTORY_CONFIG, ROOT_ENV, CairnServer, create_bucket, unique

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = CairnServer(tmp_path_factory.mktemp("console-browser"), config=HISTORY_CONFIG, env=ROOT_ENV)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("the browser tests need Debian's chromium: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_a_user_signs_in_filters_opens_downloads_creates_a_trail_queries_the_lake_and_signs_out(server, browser, ct, s3, tmp_path):
    bucket = create_bucket(s3)
    ct(creds=ALICE).describe_trails()
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(server.console + "/")
    expect(page).to_have_url(server.console + "/signin")
    page.get_by_label("Access key ID").fill(ALICE.access_key)
    page.get_by_label("Secret access key").fill(ALICE.secret_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Event history")).to_be_visible()

    # Filter by user name.
    page.get_by_label("Lookup attribute").select_option("Username")
    page.get_by_label("Value").fill("alice")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_be_visible()
    users = rows.locator("td:nth-child(3)").all_inner_texts()
    assert users and set(users) == {"alice"}
    assert "DescribeTrails" in rows.locator("td:nth-child(2)").all_inner_texts()

    # A time range before any event shows none.
    page.get_by_label("From (UTC)").fill("2001-01-01T00:00")
    page.get_by_label("To (UTC)").fill("2001-01-02T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events match.")).to_be_visible()
    page.get_by_label("From (UTC)").fill("")
    page.get_by_label("To (UTC)").fill("")
    page.get_by_role("button", name="Filter").click()

    # Open an event.
    page.get_by_role("link", name="DescribeTrails").first.click()
    record = json.loads(page.get_by_label("Event record").inner_text())
    assert record["eventName"] == "DescribeTrails" and record["userIdentity"]["userName"] == "alice"
    page.go_back()

    # Download the filtered events as CSV.
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    path = tmp_path / "history.csv"
    download.value.save_as(path)
    csv_rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert csv_rows and {row["User name"] for row in csv_rows} == {"alice"}
    assert record["eventID"] in {row["Event ID"] for row in csv_rows}

    # Create a trail and see it logging.
    name = unique("browser-trail")
    page.get_by_role("navigation").get_by_role("link", name="Trails", exact=True).click()
    page.get_by_label("Trail name").fill(name)
    page.get_by_label("S3 bucket").fill(bucket)
    page.get_by_role("button", name="Create trail").click()
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("Logging")
    assert ct().get_trail_status(Name=name)["IsLogging"] is True
    row.get_by_role("button", name=f"Delete {name}").click()
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)

    # Run a sample Lake query on a new event data store and check the result table.
    page.get_by_role("navigation").get_by_role("link", name="Lake", exact=True).click()
    store_name = unique("browser-eds")
    page.get_by_label("Name", exact=True).fill(store_name)
    page.get_by_label("Termination protection").uncheck()
    page.get_by_role("button", name="Create event data store").click()
    store_row = page.locator("tbody tr", has_text=store_name)
    expect(store_row).to_contain_text("ENABLED")
    for _ in range(5):
        ct(creds=ALICE).list_trails()
    store_row.get_by_role("link", name=f"Query {store_name}").click()
    page.get_by_label("Search the sample queries").fill("most frequent API calls")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Most frequent API calls").click()
    expect(page.get_by_label("SQL (the store's ID is its table name)")).to_contain_text("GROUP BY")
    page.get_by_role("button", name="Run query").click()
    expect(page.locator("#query-status")).to_have_text("FINISHED", timeout=30_000)
    query_id = page.url.rsplit("/", 1)[1]
    table = page.get_by_role("table", name="Query results")
    expect(table).to_be_visible()
    headers = table.locator("thead th").all_inner_texts()
    shown = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    expected = ct(creds=ALICE).get_query_results(QueryId=query_id)["QueryResultRows"]
    assert headers == [list(cell)[0] for cell in expected[0]]
    assert shown == [[list(cell.values())[0] for cell in row] for row in expected]
    assert "ListTrails" in [row[headers.index("eventname")] for row in shown]

    # Sign out: the session is gone.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.console + "/signin")
    page.goto(server.console + "/history")
    expect(page).to_have_url(server.console + "/signin")
    context.close()
