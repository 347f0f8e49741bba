"""`cairn export`: a store's events leave as CloudTrail log files in the S3 layout, or as Parquet.

The CloudTrail corpora (read in place; the Panther and Stratus sets unwrapped into NDJSON first) are
imported with `cairn import`, exported, and checked against what the store holds (`cairn query`): every
record once, its text byte for byte, in keys of CloudTrail's layout; the export imports again; time and
SQL filters select what a Python filter over the same records selects; Parquet reads in DuckDB; errors
are clear and write nothing. A last test exports events a killed server left in its write-ahead log.
"""

import collections
import gzip
import json
import re
import subprocess
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from helpers import CAIRN_BIN, HOME, ROOT

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "cloudtrail"

KEY = re.compile(
    r"^AWSLogs/(?P<account>[\w-]+)/CloudTrail/(?P<region>[\w-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)
# The pattern the CloudTrail processing library accepts as a log file (spec/formats.md §2.1).
LIBRARY = re.compile(r".+_CloudTrail_[\w\-]+_\d{8}T\d{4}Z_[\w]+\.json\.gz")


def cairn(*args, check=True, timeout=120):
    out = subprocess.run([CAIRN_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def query(data_dir, sql):
    return json.loads(cairn("query", "--data-dir", data_dir, "--format", "json", sql).stdout)


def canonical(record) -> str:
    return json.dumps(record, sort_keys=True)


def exact_records(body: str) -> list[str]:
    """The exact text of each record of a log file body `{"Records":[…]}`."""
    prefix = '{"Records":['
    assert body.startswith(prefix) and body.endswith("]}"), body[:80]
    decoder = json.JSONDecoder()
    texts, at = [], len(prefix)
    while body[at] != "]":
        _, end = decoder.raw_decode(body, at)
        texts.append(body[at:end])
        at = end + 1 if body[end] == "," else end
    assert at == len(body) - 2
    return texts


def log_files(out: Path) -> dict[str, list[str]]:
    """Every exported log file by key, with its records' exact texts; checks single-member gzip."""
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)  # as `aws cloudtrail validate-logs` reads them
        body = inflate.decompress(raw) + inflate.flush()
        assert inflate.unused_data == b"", f"{path}: more than one gzip member"
        files[path.relative_to(out).as_posix()] = exact_records(body.decode("utf-8"))
    return files


def event_time(record: dict) -> datetime:
    """As cairn reads eventTime: a time without an offset is UTC."""
    parsed = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A data directory with the corpora imported into store `corpus`, and what the store holds."""
    work = tmp_path_factory.mktemp("export")
    unwrapped = work / "unwrapped.ndjson"
    lines = []
    for line in (CORPORA / "panther" / "panther_cloudtrail_rule_tests.ndjson").read_text().splitlines():
        if line.strip():
            lines.append(json.dumps(json.loads(line)["event"]))
    for path in sorted((CORPORA / "stratus").glob("*.json")):
        lines.extend(json.dumps(record) for record in json.loads(path.read_text()))
    unwrapped.write_text("\n".join(lines) + "\n")
    data_dir = work / "data"
    cairn("import", CORPORA / "invictus", CORPORA / "awsdocs-examples.ndjson", unwrapped,
          "--store", "corpus", "--data-dir", data_dir)
    held = [row["eventjson"] for row in query(data_dir, "SELECT eventjson FROM corpus")]
    assert len(held) > 3000
    return work, data_dir, held


@pytest.fixture(scope="module")
def exported(corpus):
    work, data_dir, _ = corpus
    out = work / "exported"
    result = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out)
    return out, log_files(out), result.stdout


def test_every_record_is_exported_once_byte_for_byte(corpus, exported):
    _, _, held = corpus
    _, files, summary = exported
    texts = [text for records in files.values() for text in records]
    assert collections.Counter(texts) == collections.Counter(held)
    assert len(texts) == len(held)
    # The same records as parsed JSON as the corpus files hold (invictus: every one of its 2,900).
    invictus = [r for p in (CORPORA / "invictus").glob("*.json") for r in json.loads(p.read_text())["Records"]]
    exported_parsed = collections.Counter(canonical(json.loads(t)) for t in texts)
    assert all(exported_parsed[canonical(r)] >= 1 for r in invictus)
    assert re.search(rf"exported {len(held)} events of corpus \(\S+\) to .*: {len(files)} CloudTrail log files", summary), summary


def test_keys_follow_the_cloudtrail_layout(exported):
    _, files, _ = exported
    assert len(files) > 10
    for key, texts in files.items():
        m = KEY.match(key)
        assert m, key
        assert LIBRARY.fullmatch(key.rsplit("/", 1)[1]), key
        stamp = datetime.strptime(m["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)
        assert (m["y"], m["m"], m["d"]) == (stamp.strftime("%Y"), stamp.strftime("%m"), stamp.strftime("%d")), key
        assert stamp.minute == 0, "hourly files"
        assert 1 <= len(texts) <= 10_000
        for text in texts:
            record = json.loads(text)
            account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId")
            if account and re.fullmatch(r"[\w-]+", account):
                assert account == m["account"], key
            if re.fullmatch(r"[\w-]+", record.get("awsRegion") or ""):
                assert record["awsRegion"] == m["region"], key
            # Dated by the end of the event's hour, like a delivery after the events.
            assert stamp - timedelta(hours=1) <= event_time(record) < stamp, (key, record["eventTime"])


def test_a_rerun_overwrites_the_same_files(corpus, exported):
    work, data_dir, _ = corpus
    out, files, _ = exported
    again = work / "again"
    cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", again)
    assert log_files(again) == files
    cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out)
    assert log_files(out) == files, "no second copies, no temporary files left"


def test_the_export_imports_again_with_the_same_count(corpus, exported):
    work, _, held = corpus
    out, _, _ = exported
    second = work / "second"
    cairn("import", out, "--store", "again", "--data-dir", second)
    assert query(second, "SELECT count(*) AS n FROM again") == [{"n": str(len(held))}]
    texts = [row["eventjson"] for row in query(second, "SELECT eventjson FROM again")]
    assert collections.Counter(canonical(json.loads(t)) for t in texts) == \
        collections.Counter(canonical(json.loads(t)) for t in held)


def test_time_range_and_condition_select_what_they_say(corpus):
    work, data_dir, held = corpus
    records = [json.loads(t) for t in held]
    start = datetime(2023, 7, 10, 12, 0, tzinfo=timezone.utc)
    end = datetime(2023, 7, 10, 12, 30, tzinfo=timezone.utc)
    in_range = [r for r in records if start <= event_time(r) < end]
    errors = [r for r in in_range if r.get("errorCode") is not None]
    assert 0 < len(errors) < len(in_range) < len(records)

    out = work / "window"
    cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
          "--start", "2023-07-10 12:00:00", "--end", "2023-07-10T12:30:00Z")
    got = [json.loads(t) for texts in log_files(out).values() for t in texts]
    assert collections.Counter(map(canonical, got)) == collections.Counter(map(canonical, in_range))

    out = work / "errors"
    cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
          "--start", "2023-07-10T12:00:00Z", "--end", "2023-07-10T14:30:00+02:00", "--where", "errorCode IS NOT NULL")
    got = [json.loads(t) for texts in log_files(out).values() for t in texts]
    assert collections.Counter(map(canonical, got)) == collections.Counter(map(canonical, errors))

    out = work / "logins"
    cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
          "--where", "eventName = 'ConsoleLogin' AND userIdentity.type IN ('Root', 'IAMUser')")
    got = [json.loads(t) for texts in log_files(out).values() for t in texts]
    expected = [r for r in records if r.get("eventName") == "ConsoleLogin"
                and (r.get("userIdentity") or {}).get("type") in ("Root", "IAMUser")]
    assert expected and collections.Counter(map(canonical, got)) == collections.Counter(map(canonical, expected))


def test_parquet_export_reads_in_duckdb(corpus):
    work, data_dir, held = corpus
    out = work / "parquet"
    result = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out, "--format", "parquet")
    files = sorted(p.name for p in out.iterdir())
    assert files == ["events-00000.parquet"], files
    assert re.search(rf"exported {len(held)} events .*: 1 Parquet files", result.stdout), result.stdout
    con = duckdb.connect()
    pattern = f"{out}/*.parquet"
    assert con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchone()[0] == len(held)
    texts = [row[0] for row in con.execute(f"SELECT eventjson FROM read_parquet('{pattern}')").fetchall()]
    assert collections.Counter(texts) == collections.Counter(held)
    codecs = {row[0] for row in con.execute(f"SELECT DISTINCT compression FROM parquet_metadata('{pattern}')").fetchall()}
    assert codecs == {"ZSTD"}
    # The Lake schema: lowercase columns, the identity a struct; rows in event-time order.
    row = con.execute(f"SELECT useridentity.type, eventname FROM read_parquet('{pattern}') "
                      "WHERE eventname = 'ConsoleLogin' LIMIT 1").fetchone()
    assert row[1] == "ConsoleLogin" and row[0]
    times = [r[0] for r in con.execute(f"SELECT eventtime FROM read_parquet('{pattern}')").fetchall()]
    assert times == sorted(times)


def test_errors_are_clear_and_write_nothing(corpus):
    work, data_dir, _ = corpus
    out = work / "never"
    bad = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
                "--where", "nosuchcolumn = 1", check=False)
    assert bad.returncode != 0
    assert "InvalidQueryStatement" in bad.stderr and "nosuchcolumn" in bad.stderr, bad.stderr
    assert not out.exists()

    bad = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
                "--where", "eventName = 'x' LIMIT 5", check=False)
    assert bad.returncode != 0 and "InvalidQueryStatement" in bad.stderr, bad.stderr
    assert not out.exists()

    missing = cairn("export", "--store", "nosuchstore", "--data-dir", data_dir, "--out", out, check=False)
    assert missing.returncode != 0
    assert "the event data store nosuchstore does not exist" in missing.stderr, missing.stderr
    assert "corpus (" in missing.stderr, "the message names the stores there are"
    assert not out.exists()

    backwards = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
                      "--start", "2023-07-11", "--end", "2023-07-10", check=False)
    assert backwards.returncode != 0 and "must be before --end" in backwards.stderr, backwards.stderr
    assert not out.exists()

    not_a_time = cairn("export", "--store", "corpus", "--data-dir", data_dir, "--out", out,
                       "--start", "last tuesday", check=False)
    assert not_a_time.returncode != 0 and "is not a time" in not_a_time.stderr, not_a_time.stderr

    nowhere = cairn("export", "--store", "corpus", "--data-dir", work / "no-data", "--out", out, check=False)
    assert nowhere.returncode != 0 and "is not a cairn data directory" in nowhere.stderr, nowhere.stderr
    assert not (work / "no-data").exists() and not out.exists()


def test_events_still_in_the_log_are_exported(new_server, tmp_path):
    srv = new_server()
    ct = srv.ct(HOME, ROOT)
    ct.create_event_data_store(Name="live")
    for _ in range(5):
        ct.describe_trails()
    # Killed: the Lake's tail is never flushed, so these events are only in the write-ahead log.
    srv.kill9()
    srv.proc.wait(timeout=10)
    out = tmp_path / "live"
    cairn("export", "--store", "live", "--data-dir", srv.data_dir, "--out", out,
          "--where", "eventName = 'DescribeTrails'")
    files = log_files(out)
    records = [json.loads(t) for texts in files.values() for t in texts]
    assert len(records) == 5
    assert all(key.startswith(f"AWSLogs/{records[0]['recipientAccountId']}/CloudTrail/{HOME}/") for key in files)
