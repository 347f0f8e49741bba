"""Takes the README's screenshots of the web console: starts cairn on a fresh data directory, makes a
little activity, and photographs each page in headless Chromium (Debian's `chromium`, Playwright).

    .venv/bin/python scripts/console-screenshots.py [--cairn target/debug/cairn] [--out docs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "py"))

from playwright.sync_api import sync_playwright  # noqa: E402

from delivery import FAST_ARGS, wait_for  # noqa: E402
from helpers import ALICE, HISTORY_CONFIG, ROOT, ROOT_ENV, CairnServer, create_bucket, raw_call  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cairn", default=os.environ.get("CAIRN_BIN", "target/debug/cairn"))
    parser.add_argument("--out", default="docs")
    args = parser.parse_args()
    os.environ["CAIRN_BIN"] = args.cairn
    import helpers

    helpers.CAIRN_BIN = args.cairn
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        server = CairnServer(Path(work), config=HISTORY_CONFIG, env=ROOT_ENV, args=FAST_ARGS).start()
        try:
            bucket = create_bucket(server.s3())
            ct = server.ct()
            ct.create_trail(Name="org-audit", S3BucketName=bucket, IsMultiRegionTrail=True,
                            EnableLogFileValidation=True)
            ct.start_logging(Name="org-audit")
            store = ct.create_event_data_store(Name="audit-lake", TerminationProtectionEnabled=False)
            store_id = store["EventDataStoreArn"].rsplit("/", 1)[1]
            alice = server.ct(creds=ALICE)
            for _ in range(5):
                alice.describe_trails()
                alice.list_trails()
            raw_call(server.endpoint, "DescribeTrial", creds=ALICE)
            wait_for(lambda: ct.get_trail_status(Name="org-audit").get("LatestDeliveryTime"), what="a delivery")
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=["--no-sandbox"])
                page = chromium.new_page(viewport={"width": 1280, "height": 720})
                page.goto(server.console + "/signin")
                page.screenshot(path=out / "console-signin.png")
                page.get_by_label("Access key ID").fill(ROOT.access_key)
                page.get_by_label("Secret access key").fill(ROOT.secret_key)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/history")
                page.screenshot(path=out / "console-history.png", full_page=True)
                page.get_by_role("link", name="CreateTrail").first.click()
                page.screenshot(path=out / "console-event.png", full_page=True)
                page.goto(server.console + "/history/live")
                page.screenshot(path=out / "console-live.png", full_page=True)
                page.goto(server.console + "/overview")
                page.screenshot(path=out / "console-overview.png", full_page=True)
                page.goto(server.console + "/trails")
                page.screenshot(path=out / "console-trails.png", full_page=True)
                page.get_by_role("link", name="Edit org-audit").click()
                page.screenshot(path=out / "console-trail-edit.png", full_page=True)
                page.goto(server.console + "/trails")
                page.get_by_role("link", name="Files of org-audit").click()
                page.screenshot(path=out / "console-trail-files.png", full_page=True)
                page.goto(server.console + "/lake")
                page.screenshot(path=out / "console-lake.png", full_page=True)
                page.goto(server.console + f"/lake/query?store={store_id}")
                page.get_by_label("Search the sample queries").fill("most frequent API calls")
                page.get_by_role("button", name="Search").click()
                page.get_by_role("link", name="Most frequent API calls").click()
                page.screenshot(path=out / "console-lake-editor.png", full_page=True)
                page.get_by_role("button", name="Run query").click()
                page.wait_for_selector("text=FINISHED")
                page.screenshot(path=out / "console-lake-results.png", full_page=True)
                page.goto(server.console + "/lake/queries")
                page.screenshot(path=out / "console-lake-history.png", full_page=True)
                chromium.close()
        finally:
            server.close()
    print(f"screenshots written to {out}/console-*.png")


if __name__ == "__main__":
    main()
