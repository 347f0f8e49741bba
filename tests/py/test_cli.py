"""The AWS CLI (from this venv) against cairn with --endpoint-url."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, unique

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture
def aws(server, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ROOT.access_key,
        AWS_SECRET_ACCESS_KEY=ROOT.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )

    def run(*args, check=True, region=None):
        cmd = [str(AWS), *args, "--endpoint-url", server.endpoint]
        if region:
            cmd += ["--region", region]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr}\n{p.stdout}"
        return p

    def run_json(*args, region=None):
        out = run(*args, region=region).stdout
        return json.loads(out) if out.strip() else {}

    run.json = run_json
    return run


def test_cli_is_installed():
    assert AWS.is_file(), f"aws CLI missing at {AWS}; pip install -r tests/py/requirements.txt"


def test_cli_trail_lifecycle(aws):
    bucket = unique("cli-bkt")
    name = unique("cli-trail")

    out = aws("s3", "mb", f"s3://{bucket}").stdout
    assert f"make_bucket: {bucket}" in out
    assert bucket in aws("s3", "ls").stdout

    created = aws.json("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket)
    assert created["Name"] == name
    assert created["TrailARN"] == f"arn:aws:cloudtrail:us-east-1:{ROOT.account}:trail/{name}"
    assert created["IsMultiRegionTrail"] is False

    described = aws.json("cloudtrail", "describe-trails")
    assert name in {t["Name"] for t in described["trailList"]}
    one = aws.json("cloudtrail", "describe-trails", "--trail-name-list", name)
    assert [t["Name"] for t in one["trailList"]] == [name]
    assert one["trailList"][0]["HomeRegion"] == "us-east-1"

    status = aws.json("cloudtrail", "get-trail-status", "--name", name)
    assert status["IsLogging"] is False

    aws("cloudtrail", "start-logging", "--name", name)
    status = aws.json("cloudtrail", "get-trail-status", "--name", name)
    assert status["IsLogging"] is True
    assert "StartLoggingTime" in status

    aws("cloudtrail", "stop-logging", "--name", name)
    assert aws.json("cloudtrail", "get-trail-status", "--name", name)["IsLogging"] is False

    aws("cloudtrail", "delete-trail", "--name", name)
    assert name not in {t["Name"] for t in aws.json("cloudtrail", "describe-trails")["trailList"]}


def test_cli_error_reporting(aws):
    name = unique("ghost")
    p = aws("cloudtrail", "get-trail-status", "--name", name, check=False)
    assert p.returncode != 0
    assert "TrailNotFoundException" in p.stderr
    assert "Unknown trail:" in p.stderr


def test_cli_selectors_and_tags(aws):
    bucket = unique("cli-bkt")
    name = unique("cli-trail")
    aws("s3", "mb", f"s3://{bucket}")
    arn = aws.json(
        "cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket, "--tags-list", "Key=env,Value=cli"
    )["TrailARN"]
    sel = aws.json(
        "cloudtrail",
        "put-event-selectors",
        "--trail-name",
        name,
        "--event-selectors",
        '[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]',
    )
    assert sel["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    tags = aws.json("cloudtrail", "list-tags", "--resource-id-list", arn)
    assert tags["ResourceTagList"][0]["TagsList"] == [{"Key": "env", "Value": "cli"}]
    listed = aws.json("cloudtrail", "list-trails")
    assert arn in {t["TrailARN"] for t in listed["Trails"]}
