"""CloudTrail Lake imports through boto3 (spec/api.md §1.9, §2.11): StartImport from an `s3://bucket/prefix` of an
embedded bucket or an external S3 endpoint, GetImport's statistics, ListImports, ListImportFailures, StopImport,
and retries.

Every CloudTrail set in shared/corpora is uploaded in the S3 layout (`AWSLogs/<account>/CloudTrail/<region>/…`,
each file byte for byte, every other one gzipped) and imported into a store of its own: GetImport must report
exactly the records the test itself counts as acceptable (the same rule as test_import_cli), and the Lake must then
return each record unchanged. Files that are not log files are listed by ListImportFailures with a reason, and a
retry reads them again without importing anything twice.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers import (
    ACCOUNT, ROOT_ENV, SESSION_CONFIG, CairnServer, assert_raw_error, assert_same_records, create_bucket, raw_call, unique,
)
from s3peer import S3Peer
from test_import_cli import CORPORA, acceptable, in_retention, records_in
from test_put_audit_events import ACTIVITY_SELECTORS
from test_put_audit_events_crash import all_rows

ROLE = f"arn:aws:iam::{ACCOUNT}:role/cairn-import"
ONGOING = ("INITIALIZING", "IN_PROGRESS")
LAYOUT = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2023/07/10"


@pytest.fixture
def srv(tmp_path):
    # A server per test: each makes several stores, and an account may have 10.
    server = CairnServer(tmp_path, config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    yield server
    server.close()


def make_store(ct, **kw) -> str:
    """A store for imports only (ingestion off, so cairn's own API calls are not copied into it) that keeps ten
    years (the corpora reach back to 2013) and can be deleted."""
    return ct.create_event_data_store(
        Name=unique("imports"), RetentionPeriod=3653, BillingMode="EXTENDABLE_RETENTION_PRICING",
        TerminationProtectionEnabled=False, StartIngestion=False, **kw,
    )["EventDataStoreArn"]


def source(bucket: str, prefix: str = "") -> dict:
    return {"S3": {"S3LocationUri": f"s3://{bucket}/{prefix}".rstrip("/"), "S3BucketRegion": "us-east-1",
                   "S3BucketAccessRoleArn": ROLE}}


def start(ct, store_arn: str, bucket: str, prefix: str = "", **kw) -> str:
    return ct.start_import(Destinations=[store_arn], ImportSource=source(bucket, prefix), **kw)["ImportId"]


def wait(ct, import_id: str, timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    while (got := ct.get_import(ImportId=import_id))["ImportStatus"] in ONGOING:
        assert time.time() < deadline, got
        time.sleep(0.1)
    return got


def failures(ct, import_id: str) -> list[dict]:
    return ct.get_paginator("list_import_failures").paginate(ImportId=import_id).build_full_result()["Failures"]


def layout_key(index: int, gzipped: bool, prefix: str = LAYOUT) -> str:
    name = f"{prefix}/{ACCOUNT}_CloudTrail_us-east-1_20230710T1200Z_{index:05d}.json"
    return name + ".gz" if gzipped else name


def upload(s3, bucket: str, blobs: list[bytes], prefix: str = LAYOUT) -> list[str]:
    """Puts each blob under a log file key of `prefix`, every other one gzipped (those that are not already).
    Returns the keys."""
    keys = []
    for index, blob in enumerate(blobs):
        if blob[:2] != b"\x1f\x8b" and index % 2 == 1:
            blob = gzip.compress(blob)
        key = layout_key(index, blob[:2] == b"\x1f\x8b", prefix)
        s3.put_object(Bucket=bucket, Key=key, Body=blob)
        keys.append(key)
    return keys


def assert_store_holds(ct, store_arn: str, records: list):
    """The store returns exactly the records within its retention, each parsing to the input record."""
    store = store_arn.rsplit("/", 1)[1]
    expected = [r for r in records if in_retention(r)]
    rows = all_rows(ct, f"SELECT eventJson FROM {store}")
    assert_same_records([json.loads(row[0]) for row in rows], expected)


def panther_events() -> bytes:
    source_file = CORPORA / "panther" / "panther_cloudtrail_rule_tests.ndjson"
    events = [json.loads(line)["event"] for line in source_file.read_text().splitlines() if line.strip()]
    return "".join(json.dumps(event) + "\n" for event in events).encode()


# The corpus files that are not JSON at all: failed files (test_import_cli finds the same).
UNREADABLE = {"SerializerTestFileBadJsonFormat.json"}


def corpus_sets() -> dict:
    """Each set's files as (name, bytes)."""
    def files(folder, pattern):
        return [(p.name, p.read_bytes()) for p in sorted((CORPORA / folder).glob(pattern))]

    return {
        "invictus": files("invictus", "*.json"),
        "awsdocs-examples": [("awsdocs-examples.ndjson", (CORPORA / "awsdocs-examples.ndjson").read_bytes())],
        "stratus": files("stratus", "*.json"),
        "otrf": files("otrf", "*.json"),
        "elastic-samples": files("elastic-samples", "*.log"),
        "processing-library": files("processing-library", "*.json*"),
        "panther": [("panther-events.jsonl", panther_events())],
    }


def records_from_blob(blob: bytes) -> list:
    """What test_import_cli's `records_in` finds in a file's bytes; a digest file holds no records."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blob"
        path.write_bytes(blob)
        found = records_in(path)
    assert found is not None
    return [] if is_digest(blob) else found


def is_digest(blob: bytes) -> bool:
    try:
        document = json.loads(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob)
    except ValueError:
        return False
    return isinstance(document, dict) and "logFiles" in document and "Records" not in document


@pytest.mark.parametrize("name", list(corpus_sets()))
def test_each_corpus_set_is_imported_exactly(srv, name):
    ct, s3 = srv.ct(), srv.s3()
    files = corpus_sets()[name]
    values, refusing, n_unreadable = [], set(), 0
    for index, (file_name, blob) in enumerate(files):
        if file_name in UNREADABLE:
            n_unreadable += 1
            continue
        found = records_from_blob(blob)
        values.extend(found)
        if any(not acceptable(v) for v in found):
            refusing.add(index)
    good = [v for v in values if acceptable(v)]

    bucket = create_bucket(s3)
    keys = upload(s3, bucket, [blob for _, blob in files])
    store = make_store(ct)
    import_id = start(ct, store, bucket, "AWSLogs/")
    done = wait(ct, import_id)
    assert done["ImportStatus"] == "COMPLETED", done
    stats = done["ImportStatistics"]
    assert stats["EventsCompleted"] == len(good)
    assert stats["FilesCompleted"] == len(keys) - n_unreadable
    assert stats["PrefixesFound"] == stats["PrefixesCompleted"] == 1
    listed = failures(ct, import_id)
    assert stats["FailedEntries"] == len(listed) == n_unreadable + len(refusing)
    assert len([f for f in listed if f["ErrorType"] == "InvalidLogFile"]) == n_unreadable
    assert {f["Location"] for f in listed if f["ErrorType"] == "InvalidRecord"} == {
        f"s3://{bucket}/{keys[index]}" for index in refusing
    }
    for failure in listed:
        assert failure["Status"] == "FAILED" and failure["ErrorMessage"], failure
    assert_store_holds(ct, store, good)


def invictus_records(n_files: int) -> list[list[dict]]:
    return [json.loads(p.read_text())["Records"] for p in sorted((CORPORA / "invictus").glob("*.json"))[:n_files]]


def test_malformed_files_are_listed_and_a_retry_reads_them_again(srv):
    ct, s3 = srv.ct(), srv.s3()
    first, second = invictus_records(2)
    without_time = {k: v for k, v in first[0].items() if k != "eventTime"}
    bucket = create_bucket(s3)
    good_key = layout_key(0, True)
    mixed_key = layout_key(1, False)
    truncated_key = layout_key(2, True)
    html_key = layout_key(3, False)
    s3.put_object(Bucket=bucket, Key=good_key, Body=gzip.compress(json.dumps({"Records": first}).encode()))
    s3.put_object(Bucket=bucket, Key=mixed_key, Body=json.dumps({"Records": [second[0], without_time]}).encode())
    truncated_body = gzip.compress(json.dumps({"Records": second}).encode())
    s3.put_object(Bucket=bucket, Key=truncated_key, Body=truncated_body[:200])
    s3.put_object(Bucket=bucket, Key=html_key, Body=b"<html>403 Forbidden</html>\n")
    store = make_store(ct)

    import_id = start(ct, store, bucket)
    done = wait(ct, import_id)
    assert done["ImportStatus"] == "COMPLETED"
    stats = done["ImportStatistics"]
    assert stats["EventsCompleted"] == len(first) + 1
    assert stats["FilesCompleted"] == 2
    assert stats["FailedEntries"] == 3
    by_location = {f["Location"]: f for f in failures(ct, import_id)}
    assert set(by_location) == {f"s3://{bucket}/{k}" for k in (mixed_key, truncated_key, html_key)}
    truncated = by_location[f"s3://{bucket}/{truncated_key}"]
    assert (truncated["Status"], truncated["ErrorType"]) == ("FAILED", "InvalidLogFile")
    assert "not a valid gzip file" in truncated["ErrorMessage"]
    assert "not valid JSON" in by_location[f"s3://{bucket}/{html_key}"]["ErrorMessage"]
    mixed = by_location[f"s3://{bucket}/{mixed_key}"]
    assert mixed["ErrorType"] == "InvalidRecord"
    assert "1 of the file's records were refused" in mixed["ErrorMessage"]
    assert "record 2: missing field eventTime" in mixed["ErrorMessage"]

    # The truncated file is replaced by a whole one; a retry reads the two unreadable files again, not the others.
    s3.put_object(Bucket=bucket, Key=truncated_key, Body=truncated_body)
    retried = ct.start_import(ImportId=import_id)
    assert retried["ImportStatus"] == "INITIALIZING"
    assert "ImportStatistics" not in retried
    done = wait(ct, import_id)
    assert done["ImportStatus"] == "COMPLETED"
    assert done["ImportStatistics"]["EventsCompleted"] == len(first) + 1 + len(second)
    assert done["ImportStatistics"]["FilesCompleted"] == 3
    assert done["ImportStatistics"]["FailedEntries"] == 2
    by_location = {f["Location"]: f for f in failures(ct, import_id)}
    assert by_location[f"s3://{bucket}/{truncated_key}"]["Status"] == "SUCCEEDED"
    assert by_location[f"s3://{bucket}/{html_key}"]["Status"] == "FAILED"
    assert by_location[f"s3://{bucket}/{mixed_key}"]["Status"] == "FAILED"
    assert_store_holds(ct, store, [*first, second[0], *second])


def many_files(n_files: int, per_file: int, tag: str) -> tuple[list[bytes], list[str]]:
    """`n_files` log files of `per_file` records each with unique eventIDs (from one invictus record)."""
    template = invictus_records(1)[0][0]
    blobs, ids = [], []
    for f in range(n_files):
        records = []
        for r in range(per_file):
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}/{f}/{r}"))
            records.append({**template, "eventID": event_id})
            ids.append(event_id)
        blobs.append(json.dumps({"Records": records}).encode())
    return blobs, ids


def test_a_stopped_import_resumes_on_retry_without_duplicates(srv):
    ct, s3 = srv.ct(), srv.s3()
    bucket = create_bucket(s3)
    blobs, ids = many_files(600, 20, "stop")
    upload(s3, bucket, blobs)
    store = make_store(ct)
    import_id = start(ct, store, bucket)
    stopped = ct.stop_import(ImportId=import_id)
    assert stopped["ImportStatus"] == "STOPPED"
    assert "ImportStatistics" in stopped
    time.sleep(0.5)
    got = ct.get_import(ImportId=import_id)
    assert got["ImportStatus"] == "STOPPED"
    assert got["ImportStatistics"]["EventsCompleted"] < len(ids)
    # Stopping a stopped import changes nothing.
    assert ct.stop_import(ImportId=import_id)["ImportStatus"] == "STOPPED"

    ct.start_import(ImportId=import_id)
    done = wait(ct, import_id)
    assert done["ImportStatus"] == "COMPLETED"
    assert done["ImportStatistics"]["EventsCompleted"] == len(ids)
    assert done["ImportStatistics"]["FilesCompleted"] == len(blobs)
    table = store.rsplit("/", 1)[1]
    assert all_rows(ct, f"SELECT COUNT(*), COUNT(DISTINCT eventID) FROM {table}") == [[str(len(ids))] * 2]
    # A completed import retried finds nothing new to do.
    ct.start_import(ImportId=import_id)
    assert wait(ct, import_id)["ImportStatistics"]["EventsCompleted"] == len(ids)
    assert all_rows(ct, f"SELECT COUNT(*) FROM {table}") == [[str(len(ids))]]


def test_the_event_time_window_selects_records(srv):
    ct, s3 = srv.ct(), srv.s3()
    records = [r for batch in invictus_records(10) for r in batch]
    bucket = create_bucket(s3)
    upload(s3, bucket, [json.dumps({"Records": records}).encode()])
    times = sorted({r["eventTime"] for r in records})
    low, high = times[len(times) // 4], times[3 * len(times) // 4]
    epoch = lambda text: time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone  # noqa: E731
    store = make_store(ct)
    import_id = start(ct, store, bucket, StartEventTime=epoch(low), EndEventTime=epoch(high))
    done = wait(ct, import_id)
    wanted = [r for r in records if low <= r["eventTime"] <= high]
    assert 0 < len(wanted) < len(records)
    assert done["ImportStatistics"]["EventsCompleted"] == len(wanted)
    assert done["StartEventTime"].timestamp() == epoch(low)
    assert_store_holds(ct, store, wanted)


def test_list_imports_filters_and_pages(srv):
    ct, s3 = srv.ct(), srv.s3()
    bucket = create_bucket(s3)
    upload(s3, bucket, [json.dumps({"Records": invictus_records(1)[0]}).encode()])
    store_a, store_b = make_store(ct), make_store(ct)
    ids = []
    for store in (store_a, store_b, store_a):
        ids.append(start(ct, store, bucket))
        wait(ct, ids[-1])
    mine = [i["ImportId"] for i in ct.list_imports(Destination=store_a)["Imports"]]
    assert mine == [ids[0], ids[2]], "oldest first"
    assert ids[1] not in mine
    completed = {i["ImportId"] for i in ct.list_imports(ImportStatus="COMPLETED")["Imports"]}
    assert set(ids) <= completed
    assert not {i["ImportId"] for i in ct.list_imports(ImportStatus="FAILED")["Imports"]} & set(ids)
    pages = list(ct.get_paginator("list_imports").paginate(Destination=store_a, PaginationConfig={"PageSize": 1}))
    assert [i["ImportId"] for page in pages for i in page["Imports"]] == [ids[0], ids[2]]
    listed = ct.list_imports(Destination=store_b)["Imports"][0]
    assert set(listed) == {"ImportId", "ImportStatus", "Destinations", "CreatedTimestamp", "UpdatedTimestamp"}
    assert listed["Destinations"] == [store_b]
    with pytest.raises(ClientError) as caught:
        ct.list_imports(NextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_failures_page(srv):
    ct, s3 = srv.ct(), srv.s3()
    bucket = create_bucket(s3)
    upload(s3, bucket, [b"not json %d" % i for i in range(5)])
    import_id = start(ct, make_store(ct), bucket)
    assert wait(ct, import_id)["ImportStatistics"]["FailedEntries"] == 5
    page = ct.list_import_failures(ImportId=import_id, MaxResults=2)
    assert len(page["Failures"]) == 2 and page["NextToken"]
    assert len(failures(ct, import_id)) == 5
    other = start(ct, make_store(ct), bucket)
    wait(ct, other)
    with pytest.raises(ClientError) as caught:
        ct.list_import_failures(ImportId=other, NextToken=page["NextToken"])
    assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def client_error(call, **kw) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kw)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_errors_are_aws_shaped(srv):
    ct, s3 = srv.ct(), srv.s3()
    bucket = create_bucket(s3)
    store = make_store(ct)
    missing = str(uuid.uuid4())
    assert client_error(ct.get_import, ImportId=missing)[0] == "ImportNotFoundException"
    assert client_error(ct.stop_import, ImportId=missing)[0] == "ImportNotFoundException"
    assert client_error(ct.start_import, ImportId=missing)[0] == "ImportNotFoundException"
    assert client_error(ct.list_import_failures, ImportId=missing)[0] == "ImportNotFoundException"
    assert client_error(ct.get_import, ImportId="x" * 36)[0] == "InvalidParameterException"

    code, message = client_error(ct.start_import, Destinations=[store], ImportSource=source("no-such-bucket-here"))
    assert code == "InvalidImportSourceException" and "no-such-bucket-here" in message
    bad_uri = {"S3": {**source(bucket)["S3"], "S3LocationUri": f"https://{bucket}/x"}}
    assert client_error(ct.start_import, Destinations=[store], ImportSource=bad_uri)[0] == "InvalidImportSourceException"
    bad_role = {"S3": {**source(bucket)["S3"], "S3BucketAccessRoleArn": "not-a-role"}}
    code, message = client_error(ct.start_import, Destinations=[store], ImportSource=bad_role)
    assert code == "InvalidParameterException" and "IAM role" in message
    code, message = client_error(ct.start_import, Destinations=[store], ImportSource=source(bucket),
                                 StartEventTime=2000, EndEventTime=1000)
    assert code == "InvalidParameterException" and "EndEventTime" in message
    unknown_store = store.rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    assert client_error(ct.start_import, Destinations=[unknown_store],
                        ImportSource=source(bucket))[0] == "EventDataStoreNotFoundException"
    activity = ct.create_event_data_store(Name=unique("activity"), AdvancedEventSelectors=ACTIVITY_SELECTORS,
                                          MultiRegionEnabled=False,
                                          TerminationProtectionEnabled=False)["EventDataStoreArn"]
    code, message = client_error(ct.start_import, Destinations=[activity], ImportSource=source(bucket))
    assert code == "InvalidEventDataStoreCategoryException" and "ActivityAuditLog" in message
    deleted = make_store(ct)
    ct.delete_event_data_store(EventDataStore=deleted)
    assert client_error(ct.start_import, Destinations=[deleted],
                        ImportSource=source(bucket))[0] == "InactiveEventDataStoreException"
    # botocore checks required members and list sizes itself; the raw API must too.
    resp = raw_call(srv.endpoint, "StartImport", {"Destinations": [store, store], "ImportSource": source(bucket)})
    assert_raw_error(resp, "InvalidParameterException", contains="between 1 and 1 items")
    resp = raw_call(srv.endpoint, "StartImport", {"Destinations": [store]})
    assert_raw_error(resp, "InvalidParameterException", contains="importSource")
    resp = raw_call(srv.endpoint, "StartImport", {"ImportId": missing, "Destinations": [store]})
    assert_raw_error(resp, "InvalidParameterException", contains="only its ImportId")
    resp = raw_call(srv.endpoint, "ListImports", {"ImportStatus": "DONE"})
    assert_raw_error(resp, "InvalidParameterException", contains="importStatus")
    resp = raw_call(srv.endpoint, "ListImports", {"MaxResults": 0})
    assert_raw_error(resp, "InvalidMaxResultsException")

    # While an import runs: no second one in the account, and its store cannot be changed or deleted.
    blobs, _ = many_files(600, 20, "busy")
    upload(s3, bucket, blobs)
    running = start(ct, store, bucket)
    code, message = client_error(ct.start_import, Destinations=[store], ImportSource=source(bucket))
    assert code == "AccountHasOngoingImportException" and running in message
    assert client_error(ct.start_import, ImportId=running)[0] == "AccountHasOngoingImportException"
    assert client_error(ct.delete_event_data_store,
                        EventDataStore=store)[0] == "EventDataStoreHasOngoingImportException"
    assert client_error(ct.update_event_data_store, EventDataStore=store,
                        RetentionPeriod=400)[0] == "EventDataStoreHasOngoingImportException"
    ct.stop_import(ImportId=running)
    ct.update_event_data_store(EventDataStore=store, RetentionPeriod=3000)


def test_a_source_that_cannot_be_listed_fails_the_import(tmp_path):
    """An external bucket whose endpoint is down: the import FAILS with the reason; once the endpoint is back, a
    retry lists it and imports everything."""
    with S3Peer(bucket="trail-archive") as peer:
        config = SESSION_CONFIG + peer.config_block()
        server = CairnServer(tmp_path, config=config, env=ROOT_ENV)
        server.start()
        try:
            ct = server.ct()
            records = invictus_records(3)
            keys = upload(peer.s3(), "trail-archive", [json.dumps({"Records": r}).encode() for r in records])
            store = make_store(ct)
            peer.proxy.stop()
            import_id = start(ct, store, "trail-archive", "AWSLogs")
            failed = wait(ct, import_id)
            assert failed["ImportStatus"] == "FAILED"
            [failure] = failures(ct, import_id)
            assert failure["Location"] == "s3://trail-archive/AWSLogs"
            assert failure["ErrorType"] == "ListingFailed"
            assert "connection refused" in failure["ErrorMessage"]

            peer.proxy.start()
            ct.start_import(ImportId=import_id)
            done = wait(ct, import_id)
            assert done["ImportStatus"] == "COMPLETED", done
            flat = [r for batch in records for r in batch]
            assert done["ImportStatistics"]["EventsCompleted"] == len(flat)
            assert done["ImportStatistics"]["FilesCompleted"] == len(keys)
            assert done["ImportStatistics"]["FailedEntries"] == 0
            assert [f["Status"] for f in failures(ct, import_id)] == ["SUCCEEDED"]
            assert_store_holds(ct, store, flat)
        finally:
            server.close()
