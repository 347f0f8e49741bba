"""Fixtures for the cairn integration suite.

* `server`       — one cairn for the whole session (config: alice, org 111…/222…,
                   account 333… outside the org, SNS topics incl. FIFO, external bucket).
* `ct`           — factory `ct(region="us-east-1", creds=ROOT)` → boto3 cloudtrail client.
* `s3`           — boto3 S3 client (path style) on the session server.
* `bucket`       — a fresh bucket in the session server's embedded S3.
* `new_server`   — factory for function-scoped servers (auth modes, durability).

After every test that used the session server, all its trails in every account and
region the suite touches are deleted (5-trail quota).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helpers  # noqa: E402
from helpers import (  # noqa: E402
    HOME,
    ROOT,
    ROOT_ENV,
    SESSION_CONFIG,
    CairnServer,
    create_bucket,
    delete_all_trails,
)

# Keep the developer's own AWS configuration out of every client this process makes.
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = CairnServer(tmp_path_factory.mktemp("cairn-session"), config=SESSION_CONFIG, env=ROOT_ENV)
    try:
        srv.start()
    except RuntimeError as e:
        srv.close()
        pytest.fail(str(e), pytrace=False)
    yield srv
    srv.close()


@pytest.fixture
def ct(server):
    def factory(region: str = HOME, creds=ROOT):
        return server.ct(region, creds)

    return factory


@pytest.fixture
def s3(server):
    return server.s3()


@pytest.fixture
def bucket(s3):
    return create_bucket(s3)


@pytest.fixture(autouse=True)
def _cleanup_trails(request):
    yield
    if "server" not in request.fixturenames:
        return
    srv = request.getfixturevalue("server")
    if srv.proc is None or srv.proc.poll() is not None:
        return
    delete_all_trails(srv.endpoint)


@pytest.fixture
def new_server(tmp_path):
    """Factory: new_server(config=None, env=ROOT_ENV, args=(), start=True) → CairnServer.
    Every server made here is killed at teardown."""
    made: list[CairnServer] = []

    def factory(config=None, env=ROOT_ENV, args=(), start=True, name=None):
        workdir = tmp_path / (name or f"srv{len(made)}")
        srv = CairnServer(workdir, config=config, env=env, args=list(args))
        made.append(srv)
        if start:
            try:
                srv.start()
            except RuntimeError as e:
                pytest.fail(str(e), pytrace=False)
        return srv

    yield factory
    for srv in made:
        srv.close()


def pytest_report_header(config):
    return f"cairn binary: {helpers.CAIRN_BIN}"
