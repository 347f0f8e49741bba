"""Trail delivery to the embedded buckets: log files, digests accepted by the real
`aws cloudtrail validate-logs`, tampering reported exactly, files equal to LookupEvents,
selection, SNS notifications, GetTrailStatus and ListPublicKeys.

One cairn per module, delivering every second with 4-second digests.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from delivery import (
    AWS,
    FAST_ARGS,
    NotificationSink,
    delivered_records,
    digest_keys,
    digests,
    iso,
    log_file_records,
    log_keys,
    read_object,
    topic_arn,
    validate_logs,
    wait_for,
)
from helpers import (
    ACCOUNT,
    LONER,
    LONER_ACCOUNT,
    MEMBER,
    MEMBER_ACCOUNT,
    ORG_ID,
    ORGANIZATION_CONFIG,
    ROOT,
    ROOT_ENV,
    CairnServer,
    delete_all_trails,
    unique,
)

UNREACHABLE_BUCKET = "unreachable-logs"


@pytest.fixture(scope="module")
def sink():
    s = NotificationSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def dserver(tmp_path_factory, sink):
    config = f"""
{ORGANIZATION_CONFIG}
[[sns_topics]]
arn = "{topic_arn('deliveries')}"
endpoint = "{sink.url}"

[[s3_buckets]]
name = "{UNREACHABLE_BUCKET}"
endpoint = "http://127.0.0.1:9/"
region = "us-east-1"
path_style = true
"""
    srv = CairnServer(tmp_path_factory.mktemp("cairn-delivery"), config=config, env=ROOT_ENV, args=FAST_ARGS)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _delete_trails(dserver):
    yield
    delete_all_trails(dserver.endpoint)


@pytest.fixture
def ct(dserver):
    return dserver.ct()


@pytest.fixture
def s3(dserver):
    return dserver.s3()


def new_trail(ct, s3, **kw) -> tuple[str, str, str]:
    """A bucket and a logging trail delivering to it; returns (name, arn, bucket)."""
    bucket = unique("dlv")
    s3.create_bucket(Bucket=bucket)
    name = unique("trail")
    arn = ct.create_trail(Name=name, S3BucketName=bucket, **kw)["TrailARN"]
    ct.start_logging(Name=name)
    return name, arn, bucket


def stop_and_settle(ct, s3, name: str, bucket: str):
    """Stops logging and waits until the final digest lists the file holding the StopLogging event."""
    ct.stop_logging(Name=name)

    def stop_file():
        for key, record in delivered_records(s3, bucket):
            if record["eventName"] == "StopLogging":
                return key
        return None

    key = wait_for(stop_file, what="the StopLogging event in a log file")
    wait_for(
        lambda: any(key in {f["s3Object"] for f in d["logFiles"]} for _, d, _ in digests(s3, bucket)),
        what="a digest listing the last log file",
    )


def test_validate_logs_accepts_every_file_and_reports_each_tampering(dserver, ct, s3):
    started = time.time() - 60
    name, arn, bucket = new_trail(ct, s3, EnableLogFileValidation=True)
    for _ in range(5):
        ct.get_trail_status(Name=name)
        ct.describe_trails()
    wait_for(lambda: len(digest_keys(s3, bucket)) >= 2, what="two digests")
    ct.list_trails()
    stop_and_settle(ct, s3, name, bucket)
    logs, digest_list = log_keys(s3, bucket), digest_keys(s3, bucket)
    assert logs and len(digest_list) >= 2

    def run():
        result = validate_logs(dserver.endpoint, dserver.endpoint, arn, iso(started))
        # INVALID lines go to stderr, the rest to stdout.
        result.output = result.stdout + result.stderr
        return result

    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{len(digest_list)}/{len(digest_list)} digest files valid" in ok.stdout
    assert f"{len(logs)}/{len(logs)} log files valid" in ok.stdout

    # A modified log file: its hash no longer matches the digest.
    victim = logs[len(logs) // 2]
    original, _ = read_object(s3, bucket, victim)
    text = gzip.decompress(original).replace(b'"eventName":"', b'"eventName":"X', 1)
    s3.put_object(Bucket=bucket, Key=victim, Body=gzip.compress(text))
    bad = run()
    assert bad.returncode == 1
    assert f"s3://{bucket}/{victim}\tINVALID: hash value doesn't match" in bad.output
    assert f"{len(logs) - 1}/{len(logs)} log files valid, 1/{len(logs)} log files INVALID" in bad.stdout
    assert f"{len(digest_list)}/{len(digest_list)} digest files valid" in bad.stdout

    # A deleted log file.
    s3.put_object(Bucket=bucket, Key=victim, Body=original)
    assert run().returncode == 0
    s3.delete_object(Bucket=bucket, Key=victim)
    gone = run()
    assert gone.returncode == 1
    assert f"s3://{bucket}/{victim}\tINVALID: not found" in gone.output
    s3.put_object(Bucket=bucket, Key=victim, Body=original)

    # A removed digest in the middle of the chain.
    middle = sorted(digest_list)[len(digest_list) // 2 - 1] if len(digest_list) > 2 else sorted(digest_list)[0]
    digest_bytes, metadata = read_object(s3, bucket, middle)
    s3.delete_object(Bucket=bucket, Key=middle)
    missing = run()
    assert missing.returncode == 1
    assert f"s3://{bucket}/{middle}\tINVALID: not found" in missing.output
    s3.put_object(Bucket=bucket, Key=middle, Body=digest_bytes, Metadata=metadata)
    assert run().returncode == 0


def test_digest_chain_links_and_signs_each_digest(dserver, ct, s3):
    name, arn, bucket = new_trail(ct, s3, EnableLogFileValidation=True)
    ct.get_trail(Name=name)
    wait_for(lambda: len(digest_keys(s3, bucket)) >= 3, what="three digests")
    chain = digests(s3, bucket)
    first_key, first, _ = chain[0]
    # A starting digest: every previousDigest* member is null.
    for member in ("S3Bucket", "S3Object", "HashValue", "HashAlgorithm", "Signature"):
        assert first[f"previousDigest{member}"] is None
    keys = ct.list_public_keys()["PublicKeyList"]
    fingerprints = {k["Fingerprint"] for k in keys}
    for (prev_key, prev, prev_meta), (key, digest, meta) in zip(chain, chain[1:]):
        assert digest["digestStartTime"] == prev["digestEndTime"]
        assert digest["previousDigestS3Bucket"] == bucket
        assert digest["previousDigestS3Object"] == prev_key
        assert digest["previousDigestSignature"] == prev_meta["signature"]
        raw, _ = read_object(s3, bucket, prev_key)
        assert digest["previousDigestHashValue"] == hashlib.sha256(gzip.decompress(raw)).hexdigest()
        assert digest["previousDigestHashAlgorithm"] == "SHA-256"
    for key, digest, meta in chain:
        # Metadata names come back lower-case, as botocore needs them.
        assert set(meta) >= {"signature", "signature-algorithm"}
        assert meta["signature-algorithm"] == "SHA256withRSA"
        assert len(meta["signature"]) == 512
        assert digest["digestS3Bucket"] == bucket and digest["digestS3Object"] == key
        assert digest["digestPublicKeyFingerprint"] in fingerprints
        assert key.endswith(f"_{name}_us-east-1_" + digest["digestEndTime"].replace("-", "").replace(":", "") + ".json.gz")
        for log in digest["logFiles"]:
            text, _ = log_file_records(s3, bucket, log["s3Object"])
            assert log["hashValue"] == hashlib.sha256(text).hexdigest()
    # Logging again starts a new chain.
    stop_and_settle(ct, s3, name, bucket)
    n_before = len(digest_keys(s3, bucket))
    ct.start_logging(Name=name)
    wait_for(lambda: len(digest_keys(s3, bucket)) > n_before, what="a digest after StartLogging")
    restarted = [d for _, d, _ in digests(s3, bucket) if d["previousDigestS3Object"] is None]
    assert len(restarted) == 2, "the first chain and the new one each begin with a starting digest"
    ct.stop_logging(Name=name)


def test_log_files_have_the_aws_layout_and_equal_lookup_events(dserver, ct, s3, tmp_path):
    name, arn, bucket = new_trail(ct, s3, S3KeyPrefix="team/audit")
    for _ in range(3):
        ct.get_trail_status(Name=name)
    keys = wait_for(lambda: log_keys(s3, bucket), what="a log file")
    key = keys[0]
    prefix = f"team/audit/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
    assert key.startswith(prefix), key
    file_name = key.rsplit("/", 1)[1]
    stamp, unique16 = file_name[: -len(".json.gz")].split("_")[-2:]
    assert file_name.startswith(f"{ACCOUNT}_CloudTrail_us-east-1_") and len(stamp) == len("20260101T0000Z")
    assert len(unique16) == 16 and unique16.isalnum()
    assert key[len(prefix) : len(prefix) + 10] == f"{stamp[0:4]}/{stamp[4:6]}/{stamp[6:8]}"

    # `aws s3 cp` a delivered file; its records are what LookupEvents returns for the same events.
    env = {
        "AWS_ACCESS_KEY_ID": ROOT.access_key,
        "AWS_SECRET_ACCESS_KEY": ROOT.secret_key,
        "AWS_ENDPOINT_URL_S3": dserver.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
    }
    local = tmp_path / "file.json.gz"
    subprocess.run([str(AWS), "s3", "cp", f"s3://{bucket}/{key}", str(local)], env=env, check=True, capture_output=True)
    text = gzip.decompress(local.read_bytes())
    assert text.startswith(b'{"Records":[') and text.endswith(b"]}")
    records = json.loads(text)["Records"]
    assert records
    for record in records:
        found = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": record["eventID"]}])
        (event,) = found["Events"]
        assert json.loads(event["CloudTrailEvent"]) == record
        # Byte for byte: the file holds the record text LookupEvents shows.
        assert event["CloudTrailEvent"].encode() in text
    ct.stop_logging(Name=name)


def test_trails_deliver_what_their_selectors_and_regions_choose(dserver, ct, s3):
    # A single-region write-only trail, a multi-region trail, and a data-event trail on one bucket.
    writes, writes_arn, writes_bucket = new_trail(ct, s3)
    ct.put_event_selectors(TrailName=writes, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    everywhere, _, everywhere_bucket = new_trail(ct, s3, IsMultiRegionTrail=True)
    data_bucket = unique("data")
    s3.create_bucket(Bucket=data_bucket)
    objects, _, objects_bucket = new_trail(ct, s3)
    ct.put_event_selectors(
        TrailName=objects,
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{data_bucket}/in/"]}],
            }
        ],
    )
    west = dserver.ct("us-west-2")
    marker = unique("marker")
    west.list_trails()
    ct.get_trail(Name=writes)
    ct.add_tags(ResourceId=writes_arn, TagsList=[{"Key": "marker", "Value": marker}])
    s3.put_object(Bucket=data_bucket, Key="in/selected.txt", Body=b"x")
    s3.put_object(Bucket=data_bucket, Key="out/ignored.txt", Body=b"x")
    s3.get_object(Bucket=data_bucket, Key="in/selected.txt")

    def names(bucket, prefix=""):
        return [(r["eventName"], r["awsRegion"]) for _, r in delivered_records(s3, bucket, prefix)]

    wait_for(lambda: ("AddTags", "us-east-1") in names(writes_bucket), what="AddTags delivered")
    wait_for(lambda: ("ListTrails", "us-west-2") in names(everywhere_bucket), what="us-west-2 events delivered")
    wait_for(lambda: len(names(objects_bucket)) >= 2, what="data events delivered")
    delivered = names(writes_bucket)
    assert all(not n.startswith(("Get", "List", "Describe")) for n, _ in delivered), delivered
    assert all(region == "us-east-1" for _, region in delivered)
    # Each region under its own prefix.
    west_keys = log_keys(s3, everywhere_bucket, f"AWSLogs/{ACCOUNT}/CloudTrail/us-west-2/")
    assert west_keys
    for key in west_keys:
        _, records = log_file_records(s3, everywhere_bucket, key)
        assert {r["awsRegion"] for r in records} == {"us-west-2"}
    data = [r for _, r in delivered_records(s3, objects_bucket)]
    assert {r["eventName"] for r in data} == {"PutObject", "GetObject"}
    assert all(r["eventCategory"] == "Data" and r["managementEvent"] is False for r in data)
    assert all(r["requestParameters"]["key"] == "in/selected.txt" for r in data)
    for trail in (writes, everywhere, objects):
        ct.stop_logging(Name=trail)


def test_each_delivery_is_announced_to_the_trails_topic(dserver, ct, s3, sink):
    name, arn, bucket = new_trail(ct, s3, SnsTopicName="deliveries")
    ct.get_trail(Name=name)
    key = wait_for(lambda: log_keys(s3, bucket), what="a log file")[0]

    def announced():
        for message in sink.messages:
            body = json.loads(message["Message"])
            if body["s3Bucket"] == bucket:
                return message, body
        return None

    message, body = wait_for(announced, what="a notification")
    assert message["Type"] == "Notification"
    assert message["TopicArn"] == topic_arn("deliveries")
    assert isinstance(body["s3ObjectKey"], list) and key in [k for m in sink.messages for k in json.loads(m["Message"])["s3ObjectKey"]]
    status = wait_for(lambda: (s := ct.get_trail_status(Name=name)).get("LatestNotificationTime") and s, what="status")
    assert "LatestNotificationError" not in status
    assert status["LatestNotificationAttemptSucceeded"] != ""
    # A subscriber that fails shows in the status; the next delivery that gets through clears it.
    sink.fail = True
    try:
        ct.get_trail(Name=name)
        status = wait_for(
            lambda: (s := ct.get_trail_status(Name=name)).get("LatestNotificationError") and s, what="an error"
        )
        assert status["LatestNotificationError"].startswith("HTTP 500 from http://127.0.0.1:")
    finally:
        sink.fail = False
    ct.get_trail(Name=name)
    wait_for(lambda: "LatestNotificationError" not in ct.get_trail_status(Name=name), what="the error cleared")
    ct.stop_logging(Name=name)


def test_status_reports_delivery_times_and_errors(dserver, ct, s3):
    name, arn, bucket = new_trail(ct, s3, EnableLogFileValidation=True)
    ct.get_trail(Name=name)
    status = wait_for(
        lambda: (s := ct.get_trail_status(Name=name)).get("LatestDigestDeliveryTime") and s, what="a digest delivery"
    )
    assert status["LatestDeliveryTime"].timestamp() <= time.time() + 1
    assert "LatestDeliveryError" not in status and "LatestDigestDeliveryError" not in status
    assert status["LatestDeliveryAttemptTime"].endswith("Z")
    ct.stop_logging(Name=name)

    # A destination that refuses connections: the error shows, with the attempt time.
    broken = unique("trail")
    ct.create_trail(Name=broken, S3BucketName=UNREACHABLE_BUCKET)
    ct.start_logging(Name=broken)
    ct.get_trail(Name=broken)
    status = wait_for(
        lambda: (s := ct.get_trail_status(Name=broken)).get("LatestDeliveryError") and s, what="a delivery error"
    )
    assert "127.0.0.1:9" in status["LatestDeliveryError"], status["LatestDeliveryError"]
    assert status["LatestDeliveryAttemptTime"] != ""
    assert "LatestDeliveryTime" not in status
    ct.stop_logging(Name=broken)
    ct.delete_trail(Name=broken)


def test_list_public_keys_returns_pkcs1_keys_per_region(dserver, ct):
    now = time.time()
    keys = ct.list_public_keys()["PublicKeyList"]
    assert len(keys) >= 1
    for key in keys:
        der = key["Value"]
        assert der[:4] == b"\x30\x82\x01\x0a", "PKCS#1 RSAPublicKey DER"
        assert key["Fingerprint"] == hashlib.md5(der).hexdigest()
        assert key["ValidityStartTime"].timestamp() <= now + 1 <= key["ValidityEndTime"].timestamp()
        span = key["ValidityEndTime"].timestamp() - key["ValidityStartTime"].timestamp()
        assert 30 * 86400 <= span <= 34 * 86400
    again = ct.list_public_keys(StartTime=now - 3600, EndTime=now + 3600)["PublicKeyList"]
    assert {k["Fingerprint"] for k in again} >= {k["Fingerprint"] for k in keys}
    west = dserver.ct("us-west-2").list_public_keys()["PublicKeyList"]
    assert {k["Fingerprint"] for k in west}.isdisjoint(k["Fingerprint"] for k in keys)
    # Long before any key existed.
    assert ct.list_public_keys(StartTime=0, EndTime=1000)["PublicKeyList"] == []
    with pytest.raises(ClientError) as error:
        ct.list_public_keys(StartTime=now, EndTime=now - 10)
    assert error.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    assert base64.b64encode(keys[0]["Value"]).startswith(b"MIIBCgKCAQEA")


def test_stop_logging_delivers_up_to_and_including_its_own_event(dserver, ct, s3):
    name, arn, bucket = new_trail(ct, s3)
    before = ct.get_trail(Name=name)["ResponseMetadata"]["RequestId"]
    stop = ct.stop_logging(Name=name)["ResponseMetadata"]["RequestId"]
    after = ct.get_trail(Name=name)["ResponseMetadata"]["RequestId"]

    def request_ids():
        return [r["requestID"] for _, r in delivered_records(s3, bucket)]

    wait_for(lambda: stop in request_ids(), what="the StopLogging event delivered")
    time.sleep(3)  # three more delivery intervals
    delivered = request_ids()
    assert before in delivered and stop in delivered
    assert after not in delivered
    assert len(delivered) == len(set(delivered))


def test_an_organization_trail_delivers_each_member_account_under_the_org_id(dserver, ct, s3):
    name, arn, bucket = new_trail(ct, s3, IsOrganizationTrail=True, EnableLogFileValidation=True)
    member = dserver.ct(creds=MEMBER)
    outsider = dserver.ct(creds=LONER)
    member_call = member.list_trails()["ResponseMetadata"]["RequestId"]
    outsider_call = outsider.list_trails()["ResponseMetadata"]["RequestId"]
    own_call = ct.list_trails()["ResponseMetadata"]["RequestId"]
    root = f"AWSLogs/{ORG_ID}/"

    def by_request():
        return {r["requestID"]: key for key, r in delivered_records(s3, bucket)}

    delivered = wait_for(lambda: (d := by_request()) and member_call in d and own_call in d and d, what="both accounts")
    assert delivered[member_call].startswith(f"{root}{MEMBER_ACCOUNT}/CloudTrail/us-east-1/")
    assert f"/{MEMBER_ACCOUNT}_CloudTrail_us-east-1_" in delivered[member_call]
    assert delivered[own_call].startswith(f"{root}{ACCOUNT}/CloudTrail/us-east-1/")
    assert outsider_call not in delivered
    assert not log_keys(s3, bucket, f"AWSLogs/{LONER_ACCOUNT}/")
    # The member account's files get their own digest chain under the org prefix, which the real
    # validate-logs finds through Organizations' DescribeOrganization.
    started = time.time() - 60
    member_digests = f"{root}{MEMBER_ACCOUNT}/CloudTrail-Digest/us-east-1/"
    wait_for(lambda: len(digest_keys(s3, bucket, member_digests)) >= 2, what="member digests")
    result = validate_logs(
        dserver.endpoint,
        dserver.endpoint,
        arn,
        iso(started),
        extra=("--account-id", MEMBER_ACCOUNT),
        organizations_endpoint=dserver.endpoint,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"s3://{bucket}/{member_digests}" in output
    assert "INVALID" not in output
    # Outside the organization, DescribeOrganization says so.
    with pytest.raises(ClientError) as error:
        dserver.client("organizations", creds=LONER).describe_organization()
    assert error.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"
    org = dserver.client("organizations", creds=MEMBER).describe_organization()["Organization"]
    assert org["Id"] == ORG_ID and org["MasterAccountId"] == ACCOUNT
    ct.stop_logging(Name=name)
