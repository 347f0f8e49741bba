"""`cairn import` from the command line (the real binary, `CAIRN_BIN`), then `cairn query` on the data directory.

Every CloudTrail set in shared/corpora is imported as found (log files, JSON arrays, NDJSON, gzip): the test counts
the records of each set itself, decides which are acceptable CloudTrail records (required members present and
strings, an ISO-8601 eventTime), and checks that exactly those are imported, the others reported, and that the Lake
then returns each record unchanged. The S3 folder layout (digests and other files skipped), bad files and records
(`--errors`), and NDJSON are built in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import subprocess
from pathlib import Path

from helpers import CAIRN_BIN, assert_same_records

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "cloudtrail"
REQUIRED = ("eventVersion", "eventSource", "eventName", "eventID", "eventTime", "awsRegion")
# Stores created by `cairn import` keep events this many days (ExtendableRetentionPricing's maximum); the Lake hides
# older ones.
RETENTION_DAYS = 3653
SUMMARY = re.compile(
    r"imported (\d+) events from (\d+) files \(.*\) into .* in .*; (\d+) records refused, (\d+) files failed, "
    r"(\d+) files skipped"
)


def cairn_import(*args, data_dir: Path, store: str = "archive", check: bool = True):
    out = subprocess.run([CAIRN_BIN, "import", *map(str, args), "--store", store, "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def summary(out) -> dict:
    found = SUMMARY.search(out.stdout)
    assert found, out.stdout + out.stderr
    imported, files, refused, failed, skipped = map(int, found.groups())
    return {"imported": imported, "files": files, "refused": refused, "failed": failed, "skipped": skipped}


def lake(data_dir: Path, sql: str) -> list[dict]:
    out = subprocess.run([CAIRN_BIN, "query", "--data-dir", str(data_dir), "--format", "json", sql],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def event_time(value):
    if not isinstance(value, str) or len(value) < 19 or value[10] not in "Tt ":
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def acceptable(record) -> bool:
    """Whether cairn's ingest path takes the record: an object whose required members are non-empty strings
    (Insights records carry eventSource and eventName in insightDetails), whose eventTime is a timestamp and whose
    resources, if any, are a list of objects."""
    if not isinstance(record, dict):
        return False
    details = record.get("insightDetails") if isinstance(record.get("insightDetails"), dict) else {}
    for field in REQUIRED:
        value = record.get(field)
        if value is None and field in ("eventSource", "eventName"):
            value = details.get(field)
        if not isinstance(value, str) or not value:
            return False
    resources = record.get("resources")
    if resources is not None and not (isinstance(resources, list) and all(isinstance(r, dict) for r in resources)):
        return False
    return event_time(record["eventTime"]) is not None


def records_in(path: Path) -> list:
    """The values of a file that should each count as one record: a log file's Records, an array's elements, or
    one value per line. None when the file is not JSON at all."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    try:
        document = json.loads(text)
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            return None
        document = None
        values = []
        for line in lines:
            try:
                values.append(json.loads(line))
            except ValueError:
                values.append(ValueError)
        return values
    if isinstance(document, dict) and "Records" in document:
        return document["Records"]
    return document if isinstance(document, list) else [document]


def in_retention(record) -> bool:
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=RETENTION_DAYS)
    return event_time(record["eventTime"]) >= cutoff


def assert_lake_holds(data_dir: Path, store: str, records: list):
    """The Lake returns exactly the records in the retention window, each parsing to the input record."""
    expected = [r for r in records if in_retention(r)]
    assert lake(data_dir, f"SELECT COUNT(*) AS n FROM {store}") == [{"n": str(len(expected))}]
    rows = lake(data_dir, f"SELECT eventjson FROM {store}")
    assert_same_records([json.loads(row["eventjson"]) for row in rows], expected)


def import_set(tmp_path: Path, paths: list[Path], files: list[Path]):
    """Imports `paths`; the corpus files among `files` give the expected counts."""
    values = []
    for path in files:
        found = records_in(path)
        assert found is not None, path
        values.extend(found)
    good = [v for v in values if acceptable(v)]
    data_dir = tmp_path / "data"
    out = cairn_import(*paths, data_dir=data_dir, check=bool(good))
    counts = summary(out)
    assert counts["imported"] == len(good), out.stdout + out.stderr
    assert counts["refused"] == len(values) - len(good), out.stdout + out.stderr
    assert counts["failed"] == 0, out.stderr
    if good:
        assert_lake_holds(data_dir, "archive", good)
    else:
        assert out.returncode != 0
        assert "nothing was imported" in out.stderr
    return counts, out


def test_invictus_log_files_are_imported_whole(tmp_path):
    files = sorted((CORPORA / "invictus").glob("*.json"))
    counts, _ = import_set(tmp_path, [CORPORA / "invictus"], files)
    assert counts["imported"] == 2900
    assert counts["files"] == 55
    assert counts["skipped"] == 1, "LICENSE"


def test_aws_docs_examples_ndjson(tmp_path):
    path = CORPORA / "awsdocs-examples.ndjson"
    counts, out = import_set(tmp_path, [path], [path])
    assert (counts["imported"], counts["refused"]) == (19, 5), "five 2014 examples have no eventID"
    assert "record 12: missing field eventID" in out.stderr
    # NDJSON lines are kept byte for byte.
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    rows = lake(tmp_path / "data", "SELECT eventjson FROM archive WHERE eventname = 'UpdateTrail' OR eventname = 'RotateKey'")
    assert {row["eventjson"] for row in rows} <= set(lines)
    assert len(rows) == 1, "the 2016 UpdateTrail is past the store's retention; RotateKey is not"


def test_stratus_json_arrays(tmp_path):
    files = sorted((CORPORA / "stratus").glob("*.json"))
    counts, _ = import_set(tmp_path, [CORPORA / "stratus"], files)
    assert counts["imported"] + counts["refused"] == 310


def test_panther_events_as_ndjson(tmp_path):
    source = CORPORA / "panther" / "panther_cloudtrail_rule_tests.ndjson"
    events = [json.loads(line)["event"] for line in source.read_text().splitlines() if line.strip()]
    assert len(events) == 461
    path = tmp_path / "panther-events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    counts, _ = import_set(tmp_path, [path], [path])
    assert counts["imported"] == sum(1 for e in events if acceptable(e))


def test_the_panther_test_cases_themselves_are_not_records(tmp_path):
    source = CORPORA / "panther" / "panther_cloudtrail_rule_tests.ndjson"
    out = cairn_import(source, data_dir=tmp_path / "data", check=False)
    assert out.returncode != 0
    assert summary(out)["refused"] == 461
    assert f"{source}: record 1: missing field eventVersion" in out.stderr


def test_otrf_records_without_event_time_are_all_refused(tmp_path):
    files = sorted((CORPORA / "otrf").glob("*.json"))
    counts, out = import_set(tmp_path, [CORPORA / "otrf"], files)
    assert counts["refused"] == 103
    assert f"{files[0]}: record 1: missing field eventTime" in out.stderr
    assert len(re.findall(r": record \d+: ", out.stderr)) == 10, "the first 10 refusals are shown"
    assert "93 more" in out.stderr


def test_elastic_samples_named_one_by_one(tmp_path):
    folder = CORPORA / "elastic-samples"
    logs = sorted(p for p in folder.glob("*.log") if "digest" not in p.name)
    counts, _ = import_set(tmp_path, sorted(folder.glob("*.log")), logs)
    assert counts["imported"] == 3
    assert counts["skipped"] == 1, "the digest file, known by its content"


def test_processing_library_fixtures(tmp_path):
    folder = CORPORA / "processing-library"
    data_dir = tmp_path / "data"
    readable = [p for p in sorted(folder.glob("*.json*")) if p.name != "SerializerTestFileBadJsonFormat.json"]
    values = [v for p in readable for v in records_in(p)]
    good = [v for v in values if acceptable(v)]
    out = cairn_import(folder, data_dir=data_dir, check=bool(good))
    counts = summary(out)
    assert counts["imported"] == len(good)
    assert counts["refused"] == len(values) - len(good)
    assert counts["failed"] == 1
    assert counts["files"] == len(readable)
    assert counts["skipped"] == 3, "LICENSE.txt and the two SQS message bodies have no log file name"
    assert re.search(r"SerializerTestFileBadJsonFormat\.json: not valid JSON: .* line \d+ column \d+", out.stderr)
    # The fixtures date from 2013: imported, but past the store's retention.
    assert_lake_holds(data_dir, "archive", good)


def gz(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_the_s3_layout_with_digests_and_other_files(tmp_path):
    root = tmp_path / "bucket"
    account, region = "218007301253", "us-east-1"
    day = root / "AWSLogs" / account / "CloudTrail" / region / "2023" / "07" / "10"
    sources = sorted((CORPORA / "invictus").glob("*.json"))[:5]
    records = []
    for source in sources:
        text = source.read_text()
        records.extend(json.loads(text)["Records"])
        gz(day / source.name.replace(".json", ".json.gz"), text)
    digest = (CORPORA / "elastic-samples" / "test-cloudtrail-digest-json.log").read_text()
    gz(root / "AWSLogs" / account / "CloudTrail-Digest" / region / "2023" / "07" / "10" /
       f"{account}_CloudTrail-Digest_{region}_t_{region}_20230710T120000Z.json.gz", digest)
    (root / "AWSLogs" / account / "CloudTrail" / "ConfigWritabilityCheckFile").write_text("")

    data_dir = tmp_path / "data"
    out = cairn_import(root, data_dir=data_dir)
    counts = summary(out)
    assert counts == {"imported": len(records), "files": 5, "refused": 0, "failed": 0, "skipped": 2}
    assert "(1 digest files, 1 not named as log files)" in out.stdout
    assert_lake_holds(data_dir, "archive", records)
    # Log files are kept byte for byte: a compact record's text is the Lake's eventjson.
    one = records[0]
    row = lake(data_dir, f"SELECT eventjson FROM archive WHERE eventid = '{one['eventID']}'")
    assert json.loads(row[0]["eventjson"]) == one

    # Importing into the same store again adds the events again (an import is not deduplicated).
    again = summary(cairn_import(day, data_dir=data_dir))
    assert again["imported"] == len(records)
    assert lake(data_dir, "SELECT COUNT(*) AS n FROM archive") == [{"n": str(2 * len(records))}]


def test_bad_files_and_records_are_reported_and_the_rest_imported(tmp_path):
    folder = tmp_path / "logs"
    good = json.loads(sorted((CORPORA / "invictus").glob("*.json"))[0].read_text())["Records"]
    without_time = {k: v for k, v in good[0].items() if k != "eventTime"}
    mixed = gz(folder / "a-mixed.json.gz", json.dumps({"Records": [good[0], without_time, good[1]]}))
    truncated = folder / "b-truncated.json.gz"
    truncated.write_bytes(gzip.compress(json.dumps({"Records": good}).encode())[:200])
    not_json = folder / "c-not-json.json"
    not_json.write_text("<html>403 Forbidden</html>\n")
    intact = gz(folder / "d-intact.json.gz", json.dumps({"Records": good}))
    errors = tmp_path / "errors.ndjson"

    out = cairn_import(folder, "--errors", errors, data_dir=tmp_path / "data")
    assert summary(out) == {"imported": 2 + len(good), "files": 2, "refused": 1, "failed": 2, "skipped": 0}
    assert f"{mixed}: record 2: missing field eventTime" in out.stderr
    assert f"{truncated}: not a valid gzip file" in out.stderr
    assert f"{not_json}: not valid JSON" in out.stderr
    assert "ETA" not in out.stderr and "\r" not in out.stderr, "no progress bar when stderr is not a terminal"
    lines = [json.loads(line) for line in errors.read_text().splitlines()]
    assert sorted(lines, key=lambda l: l["file"]) == [
        {"file": str(mixed), "record": 2, "reason": "missing field eventTime"},
        {"file": str(truncated), "record": None, "reason": lines_reason(lines, truncated)},
        {"file": str(not_json), "record": None, "reason": lines_reason(lines, not_json)},
    ]
    assert lines_reason(lines, truncated).startswith("not a valid gzip file")
    assert lines_reason(lines, not_json).startswith("not valid JSON")
    assert_lake_holds(tmp_path / "data", "archive", [good[0], good[1], *good])
    assert intact.name in {p.name for p in folder.iterdir()}


def lines_reason(lines: list[dict], path: Path) -> str:
    return next(line["reason"] for line in lines if line["file"] == str(path))


def test_ndjson_plain_and_gzip_with_a_bad_line(tmp_path):
    records = json.loads(sorted((CORPORA / "invictus").glob("*.json"))[1].read_text())["Records"][:6]
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    plain = tmp_path / "in" / "events.ndjson"
    plain.parent.mkdir()
    plain.write_text("\n".join(lines[:3]) + "\n{\"eventVersion\": \n\n" + lines[3] + "\n")
    packed = gz(tmp_path / "in" / "more.jsonl.gz", "\r\n".join(lines[4:]) + "\r\n")

    out = cairn_import(plain, packed, data_dir=tmp_path / "data")
    assert summary(out) == {"imported": 6, "files": 2, "refused": 1, "failed": 0, "skipped": 0}
    assert re.search(rf"{re.escape(str(plain))}: record 4: not valid JSON", out.stderr)
    rows = lake(tmp_path / "data", "SELECT eventjson FROM archive")
    assert sorted(row["eventjson"] for row in rows) == sorted(lines), "each line's text, byte for byte"


def test_nothing_to_import_fails(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no logs here")
    out = cairn_import(empty, data_dir=tmp_path / "data", check=False)
    assert out.returncode != 0
    assert summary(out)["skipped"] == 1
    out = cairn_import(tmp_path / "missing", data_dir=tmp_path / "data", check=False)
    assert out.returncode != 0
    assert "missing" in out.stderr


def test_help_names_the_errors_file():
    out = subprocess.run([CAIRN_BIN, "import", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "--errors <FILE>" in out.stdout


def test_query_repeat_times_the_statement_and_answers_once(tmp_path):
    data_dir = tmp_path / "data"
    cairn_import(CORPORA / "invictus", data_dir=data_dir)
    sql = "SELECT eventName, COUNT(*) AS n FROM archive GROUP BY eventName ORDER BY n DESC, eventName"
    once = lake(data_dir, sql)
    out = subprocess.run([CAIRN_BIN, "query", "--data-dir", str(data_dir), "--format", "json", "--repeat", "3", sql],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == once
    assert re.search(r"after one warm-up run, 2 runs: median [\d.]+ ms \(min [\d.]+, max [\d.]+\)", out.stderr), out.stderr
    refused = subprocess.run([CAIRN_BIN, "query", "--data-dir", str(data_dir), "--repeat", "0", sql],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "--repeat" in refused.stderr


def test_a_relative_data_dir_reads_the_same_segments(tmp_path):
    data_dir = tmp_path / "data"
    cairn_import(CORPORA / "invictus", data_dir=data_dir)
    sql = ("SELECT userIdentity.arn AS arn, eventSource, COUNT(*) AS n FROM archive "
           "GROUP BY userIdentity.arn, eventSource ORDER BY n DESC, arn, eventSource")
    absolute = lake(data_dir, sql)
    assert sum(int(row["n"]) for row in absolute) == 2900
    out = subprocess.run([CAIRN_BIN, "query", "--data-dir", "data", "--format", "json", sql],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == absolute
