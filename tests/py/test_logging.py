"""StartLogging / StopLogging / GetTrailStatus (spec/api.md §1.2, §2.3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from helpers import (
    DEPRECATED_STATUS_FIELDS,
    OTHER,
    THIRD,
    aws_error,
    make_trail,
    trail_arn,
)

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def now():
    return dt.datetime.now(dt.timezone.utc)


def parse_iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def assert_recent(when: dt.datetime, what: str, slack: float = 120.0):
    assert isinstance(when, dt.datetime), f"{what} is {type(when).__name__}, expected a timestamp"
    delta = abs((now() - when).total_seconds())
    assert delta < slack, f"{what}={when} is {delta:.0f}s away from now"


def test_never_started_status(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    st = ct().get_trail_status(Name=name)
    assert st["IsLogging"] is False
    for field in DEPRECATED_STATUS_FIELDS:
        assert field in st, f"deprecated field {field} must be present"
        assert st[field] == "", f"{field} must be '' on a never-started trail, got {st[field]!r}"
    assert "StartLoggingTime" not in st
    assert "StopLoggingTime" not in st


def test_start_logging(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    resp = ct().start_logging(Name=name)
    assert set(resp) == {"ResponseMetadata"}
    st = ct().get_trail_status(Name=name)
    assert st["IsLogging"] is True
    assert_recent(st["StartLoggingTime"], "StartLoggingTime")
    assert isinstance(st["TimeLoggingStarted"], str) and ISO_Z.match(st["TimeLoggingStarted"]), st["TimeLoggingStarted"]
    assert abs((parse_iso(st["TimeLoggingStarted"]) - st["StartLoggingTime"]).total_seconds()) < 2
    assert "StopLoggingTime" not in st
    assert st.get("TimeLoggingStopped", "") == ""


def test_stop_logging(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    ct().start_logging(Name=name)
    resp = ct().stop_logging(Name=name)
    assert set(resp) == {"ResponseMetadata"}
    st = ct().get_trail_status(Name=name)
    assert st["IsLogging"] is False
    assert_recent(st["StartLoggingTime"], "StartLoggingTime")
    assert_recent(st["StopLoggingTime"], "StopLoggingTime")
    assert st["StopLoggingTime"] >= st["StartLoggingTime"]
    assert isinstance(st["TimeLoggingStopped"], str) and ISO_Z.match(st["TimeLoggingStopped"]), st["TimeLoggingStopped"]
    assert isinstance(st["TimeLoggingStarted"], str) and ISO_Z.match(st["TimeLoggingStarted"])


def test_restart_logging(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    ct().start_logging(Name=name)
    ct().stop_logging(Name=name)
    ct().start_logging(Name=name)
    st = ct().get_trail_status(Name=name)
    assert st["IsLogging"] is True
    assert_recent(st["StartLoggingTime"], "StartLoggingTime")
    if "StopLoggingTime" in st:
        assert st["StartLoggingTime"] >= st["StopLoggingTime"]


def test_start_stop_by_arn(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    arn = trail_arn(name)
    ct().start_logging(Name=arn)
    assert ct().get_trail_status(Name=arn)["IsLogging"] is True
    assert ct().get_trail_status(Name=name)["IsLogging"] is True
    ct().stop_logging(Name=arn)
    assert ct().get_trail_status(Name=arn)["IsLogging"] is False


def test_start_logging_twice_keeps_logging(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    ct().start_logging(Name=name)
    ct().start_logging(Name=name)
    assert ct().get_trail_status(Name=name)["IsLogging"] is True


def test_status_readable_from_shadow_region(ct, bucket):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    arn = trail_arn(name)
    assert ct(OTHER).get_trail_status(Name=arn)["IsLogging"] is False
    ct().start_logging(Name=name)
    for region in (OTHER, THIRD):
        st = ct(region).get_trail_status(Name=arn)
        assert st["IsLogging"] is True, f"shadow in {region} not logging"
    ct().stop_logging(Name=name)
    assert ct(OTHER).get_trail_status(Name=arn)["IsLogging"] is False


@pytest.mark.parametrize("op", ["start_logging", "stop_logging"])
def test_start_stop_from_non_home_region(ct, bucket, op):
    name = make_trail(ct(), bucket, IsMultiRegionTrail=True)["Name"]
    arn = trail_arn(name)
    if op == "stop_logging":
        ct().start_logging(Name=name)
    with aws_error("InvalidHomeRegionException"):
        getattr(ct(OTHER), op)(Name=arn)
    assert ct().get_trail_status(Name=name)["IsLogging"] is (op == "stop_logging")


def test_logging_state_independent_per_trail(ct, bucket):
    a = make_trail(ct(), bucket)["Name"]
    b = make_trail(ct(), bucket)["Name"]
    ct().start_logging(Name=a)
    assert ct().get_trail_status(Name=a)["IsLogging"] is True
    assert ct().get_trail_status(Name=b)["IsLogging"] is False


def test_status_after_delete_and_recreate(ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    ct().start_logging(Name=name)
    ct().delete_trail(Name=name)
    make_trail(ct(), bucket, name=name)
    st = ct().get_trail_status(Name=name)
    assert st["IsLogging"] is False, "a re-created trail starts with logging off"
    assert "StartLoggingTime" not in st
