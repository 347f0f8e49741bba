"""CloudTrail Lake event data stores: the control plane (spec/api.md §1.6, §2.1, §2.8, §2.11).

Stores pending deletion count toward the 10-store quota until they are purged, days later,
so every test here runs on a server of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from helpers import (
    ACCOUNT,
    HOME,
    KMS_KEY_ARN,
    LONER,
    MEMBER,
    OTHER,
    ROOT,
    SESSION_CONFIG,
    assert_raw_error,
    aws_error,
    create_bucket,
    make_trail,
    raw_call,
    unique,
)
from test_conformance import assert_conforms

DEFAULT_SELECTORS = [
    {"Name": "Default management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
]
DATA_SELECTORS = [
    {
        "Name": "s3 objects",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        ],
    }
]
CHANNEL_SELECTORS = [{"Name": "partner", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]
ARN_RE = re.compile(
    r"^arn:aws:cloudtrail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):eventdatastore/"
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$"
)
FULL_MEMBERS = {
    "EventDataStoreArn",
    "Name",
    "Status",
    "AdvancedEventSelectors",
    "MultiRegionEnabled",
    "OrganizationEnabled",
    "RetentionPeriod",
    "TerminationProtectionEnabled",
    "CreatedTimestamp",
    "UpdatedTimestamp",
    "BillingMode",
    "FederationStatus",
}


@pytest.fixture
def srv(new_server):
    return new_server(config=SESSION_CONFIG)


@pytest.fixture
def ct(srv):
    """Overrides the suite's `ct`: clients of this test's own server."""

    def factory(region: str = HOME, creds=ROOT):
        return srv.ct(region, creds)

    return factory


def make_eds(client, name: str | None = None, **kw) -> dict:
    return client.create_event_data_store(Name=name or unique("eds"), **kw)


def unprotected(client, **kw) -> dict:
    return make_eds(client, TerminationProtectionEnabled=False, **kw)


def eds_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def status_of(client, ref: str) -> str:
    return client.get_event_data_store(EventDataStore=ref)["Status"]


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def all_stores(client, **kw) -> tuple[list, int]:
    stores, pages, token = [], 0, None
    while True:
        resp = client.list_event_data_stores(**kw, **({"NextToken": token} if token else {}))
        pages += 1
        stores += resp["EventDataStores"]
        token = resp.get("NextToken")
        if not token:
            return stores, pages


# ------------------------------------------------------------ CreateEventDataStore


def test_create_defaults(ct):
    name = unique("defaults")
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    resp = ct().create_event_data_store(Name=name)
    m = ARN_RE.match(resp["EventDataStoreArn"])
    assert m, resp["EventDataStoreArn"]
    assert (m["region"], m["account"]) == (HOME, ACCOUNT)
    assert uuid.UUID(m["id"]).version == 4
    assert resp["Name"] == name
    assert resp["Status"] == "CREATED"
    assert resp["AdvancedEventSelectors"] == DEFAULT_SELECTORS
    assert resp["MultiRegionEnabled"] is True
    assert resp["OrganizationEnabled"] is False
    assert resp["TerminationProtectionEnabled"] is True
    assert resp["BillingMode"] == "EXTENDABLE_RETENTION_PRICING"
    assert resp["RetentionPeriod"] == 366
    assert resp.get("TagsList", []) == []
    assert "KmsKeyId" not in resp
    assert resp["CreatedTimestamp"] >= before
    assert resp["UpdatedTimestamp"] == resp["CreatedTimestamp"]


def test_created_then_enabled(ct):
    created = make_eds(ct())
    arn = created["EventDataStoreArn"]
    got = ct().get_event_data_store(EventDataStore=arn)
    assert set(strip(got)) == FULL_MEMBERS
    assert got["Status"] == "ENABLED"
    assert got["FederationStatus"] == "DISABLED"
    for key in FULL_MEMBERS - {"Status", "FederationStatus"}:
        assert got[key] == created[key], key
    # The bare ID names the same store.
    assert strip(ct().get_event_data_store(EventDataStore=eds_id(arn))) == strip(got)


def test_fixed_pricing_keeps_seven_years_by_default(ct):
    resp = make_eds(ct(), BillingMode="FIXED_RETENTION_PRICING")
    assert resp["BillingMode"] == "FIXED_RETENTION_PRICING"
    assert resp["RetentionPeriod"] == 2557


def test_create_without_ingestion_is_stopped(ct):
    arn = make_eds(ct(), StartIngestion=False)["EventDataStoreArn"]
    assert status_of(ct(), arn) == "STOPPED_INGESTION"


def test_create_with_every_setting(ct):
    name = unique("full")
    tags = [{"Key": "env", "Value": "test"}, {"Key": "flag"}]
    resp = ct().create_event_data_store(
        Name=name,
        AdvancedEventSelectors=DATA_SELECTORS,
        MultiRegionEnabled=False,
        OrganizationEnabled=True,
        RetentionPeriod=30,
        TerminationProtectionEnabled=False,
        TagsList=tags,
        KmsKeyId=KMS_KEY_ARN,
        BillingMode="FIXED_RETENTION_PRICING",
    )
    assert resp["TagsList"] == tags
    got = ct().get_event_data_store(EventDataStore=resp["EventDataStoreArn"])
    assert got["AdvancedEventSelectors"] == DATA_SELECTORS
    assert got["MultiRegionEnabled"] is False
    assert got["OrganizationEnabled"] is True
    assert got["RetentionPeriod"] == 30
    assert got["TerminationProtectionEnabled"] is False
    assert got["KmsKeyId"] == KMS_KEY_ARN
    assert got["BillingMode"] == "FIXED_RETENTION_PRICING"


def test_kms_key_id_is_answered_as_an_arn(ct):
    key_id = "12345678-1234-1234-1234-123456789012"
    resp = make_eds(ct(), KmsKeyId=key_id)
    assert resp["KmsKeyId"] == f"arn:aws:kms:{HOME}:{ACCOUNT}:key/{key_id}"


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "InvalidParameterException"),
        ({"Name": "ab"}, "InvalidParameterException"),
        ({"Name": "x" * 129}, "InvalidParameterException"),
        ({"Name": "has space"}, "InvalidParameterException"),
        ({"Name": "slash/name"}, "InvalidParameterException"),
        ({"RetentionPeriod": 6}, "InvalidParameterException"),
        ({"RetentionPeriod": 3654}, "InvalidParameterException"),
        ({"RetentionPeriod": 2558, "BillingMode": "FIXED_RETENTION_PRICING"}, "InvalidParameterException"),
        ({"BillingMode": "CHEAP"}, "InvalidParameterException"),
        ({"AdvancedEventSelectors": []}, "InvalidEventSelectorsException"),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Nope"]}]}]},
            "InvalidEventSelectorsException",
        ),
        ({"AdvancedEventSelectors": DEFAULT_SELECTORS * 6}, "InvalidEventSelectorsException"),
        ({"AdvancedEventSelectors": CHANNEL_SELECTORS}, "InvalidParameterException"),
        ({"TagsList": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}, "InvalidTagParameterException"),
        ({"TagsList": [{"Key": f"k{i}"} for i in range(51)]}, "TagsLimitExceededException"),
        ({"KmsKeyId": "not-a-key"}, "InvalidKmsKeyIdException"),
        ({"RetentionPeriod": "long"}, "SerializationException"),
    ],
)
def test_create_validation(srv, body, code):
    if body:
        body = {"Name": unique("bad"), **body}
    resp = raw_call(srv.endpoint, "CreateEventDataStore", body)
    assert_raw_error(resp, code)
    # Nothing was created.
    assert raw_call(srv.endpoint, "ListEventDataStores", {}).json()["EventDataStores"] == []


def test_channel_store_is_single_region(ct):
    arn = make_eds(ct(), AdvancedEventSelectors=CHANNEL_SELECTORS, MultiRegionEnabled=False)["EventDataStoreArn"]
    assert status_of(ct(), arn) == "ENABLED"
    with aws_error("InvalidParameterException"):
        make_eds(ct(), AdvancedEventSelectors=CHANNEL_SELECTORS, MultiRegionEnabled=False, OrganizationEnabled=True)


def test_organization_store_needs_the_management_account(ct):
    with aws_error("NotOrganizationMasterAccountException"):
        make_eds(ct(creds=MEMBER), OrganizationEnabled=True)
    with aws_error("OrganizationsNotInUseException"):
        make_eds(ct(creds=LONER), OrganizationEnabled=True)
    assert make_eds(ct(), OrganizationEnabled=True)["OrganizationEnabled"] is True


def test_names_are_unique_per_account_and_region(ct):
    name = unique("same")
    make_eds(ct(), name)
    with aws_error("EventDataStoreAlreadyExistsException", contains=name):
        make_eds(ct(), name)
    make_eds(ct(OTHER), name)
    make_eds(ct(creds=MEMBER), name)


def test_quota_counts_stores_pending_deletion(ct):
    arns = [unprotected(ct())["EventDataStoreArn"] for _ in range(10)]
    ct().delete_event_data_store(EventDataStore=arns[0])
    with aws_error("EventDataStoreMaxLimitExceededException"):
        make_eds(ct())
    # Other regions and accounts have quotas of their own.
    make_eds(ct(OTHER))
    make_eds(ct(creds=MEMBER))
    # Restoring does not add a store.
    assert ct().restore_event_data_store(EventDataStore=arns[0])["Status"] == "ENABLED"
    stores, _ = all_stores(ct())
    assert len(stores) == 10


# ------------------------------------------------------------ finding a store


def test_unknown_stores_are_not_found(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    missing = str(uuid.uuid4())
    with aws_error("EventDataStoreNotFoundException", contains=missing):
        ct().get_event_data_store(EventDataStore=missing)
    with aws_error("EventDataStoreNotFoundException"):
        ct().get_event_data_store(EventDataStore=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:eventdatastore/{missing}")
    # Another region's or account's view of an existing store.
    with aws_error("EventDataStoreNotFoundException"):
        ct(OTHER).get_event_data_store(EventDataStore=arn)
    with aws_error("EventDataStoreNotFoundException"):
        ct(OTHER).get_event_data_store(EventDataStore=eds_id(arn))
    with aws_error("EventDataStoreNotFoundException"):
        ct(creds=MEMBER).get_event_data_store(EventDataStore=arn)
    # An ARN naming the right ID with the wrong region or account.
    with aws_error("EventDataStoreNotFoundException"):
        ct().get_event_data_store(EventDataStore=arn.replace(HOME, OTHER))
    with aws_error("EventDataStoreNotFoundException"):
        ct().get_event_data_store(EventDataStore=arn.replace(ACCOUNT, "999999999999"))


@pytest.mark.parametrize(
    "ref",
    [
        f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/some-trail",
        f"arn:aws:s3:{HOME}:{ACCOUNT}:eventdatastore/0b9d9a9e-1234-4c3b-9d0e-0123456789ab",
        f"arn:aws:cloudtrail:{HOME}:12345:eventdatastore/0b9d9a9e-1234-4c3b-9d0e-0123456789ab",
        f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:eventdatastore/",
        "arn:aws:cloudtrail",
        "no/such/thing",
    ],
)
@pytest.mark.parametrize(
    "op",
    [
        "get_event_data_store",
        "delete_event_data_store",
        "restore_event_data_store",
        "start_event_data_store_ingestion",
        "stop_event_data_store_ingestion",
    ],
)
def test_malformed_arns(ct, ref, op):
    with aws_error("EventDataStoreARNInvalidException"):
        getattr(ct(), op)(EventDataStore=ref)


def test_reference_constraints(srv):
    for ref in ["ab", "x" * 257, "has space"]:
        assert_raw_error(raw_call(srv.endpoint, "GetEventDataStore", {"EventDataStore": ref}), "InvalidParameterException")
    assert_raw_error(raw_call(srv.endpoint, "GetEventDataStore", {}), "InvalidParameterException")
    assert_raw_error(raw_call(srv.endpoint, "GetEventDataStore", {"EventDataStore": 7}), "SerializationException")


# ------------------------------------------------------------ ingestion


def test_stop_start_state_machine(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    with aws_error("InvalidEventDataStoreStatusException", contains="ENABLED"):
        ct().start_event_data_store_ingestion(EventDataStore=arn)
    assert strip(ct().stop_event_data_store_ingestion(EventDataStore=arn)) == {}
    assert status_of(ct(), arn) == "STOPPED_INGESTION"
    with aws_error("InvalidEventDataStoreStatusException", contains="STOPPED_INGESTION"):
        ct().stop_event_data_store_ingestion(EventDataStore=arn)
    assert strip(ct().start_event_data_store_ingestion(EventDataStore=eds_id(arn))) == {}
    assert status_of(ct(), arn) == "ENABLED"
    ct().stop_event_data_store_ingestion(EventDataStore=eds_id(arn))
    assert status_of(ct(), arn) == "STOPPED_INGESTION"


def test_ingestion_control_needs_a_cloudtrail_category(ct):
    arn = make_eds(ct(), AdvancedEventSelectors=CHANNEL_SELECTORS, MultiRegionEnabled=False)["EventDataStoreArn"]
    with aws_error("InvalidEventDataStoreCategoryException"):
        ct().stop_event_data_store_ingestion(EventDataStore=arn)
    with aws_error("InvalidEventDataStoreCategoryException"):
        ct().start_event_data_store_ingestion(EventDataStore=arn)
    with aws_error("InvalidEventDataStoreCategoryException"):
        make_eds(ct(), AdvancedEventSelectors=CHANNEL_SELECTORS, MultiRegionEnabled=False, StartIngestion=False)
    # Data and configuration-item stores can stop.
    data = make_eds(ct(), AdvancedEventSelectors=DATA_SELECTORS)["EventDataStoreArn"]
    ct().stop_event_data_store_ingestion(EventDataStore=data)
    config_items = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ConfigurationItem"]}]}]
    items = make_eds(ct(), AdvancedEventSelectors=config_items)["EventDataStoreArn"]
    ct().stop_event_data_store_ingestion(EventDataStore=items)


# ------------------------------------------------------------ UpdateEventDataStore


def test_update_returns_the_full_store(ct):
    created = make_eds(ct())
    arn = created["EventDataStoreArn"]
    new_name = unique("renamed")
    resp = ct().update_event_data_store(
        EventDataStore=arn,
        Name=new_name,
        AdvancedEventSelectors=DATA_SELECTORS,
        MultiRegionEnabled=False,
        RetentionPeriod=90,
        TerminationProtectionEnabled=False,
    )
    assert set(strip(resp)) == FULL_MEMBERS
    assert resp["EventDataStoreArn"] == arn
    assert resp["Name"] == new_name
    assert resp["Status"] == "ENABLED"
    assert resp["AdvancedEventSelectors"] == DATA_SELECTORS
    assert resp["MultiRegionEnabled"] is False
    assert resp["RetentionPeriod"] == 90
    assert resp["TerminationProtectionEnabled"] is False
    assert resp["CreatedTimestamp"] == created["CreatedTimestamp"]
    assert resp["UpdatedTimestamp"] >= created["UpdatedTimestamp"]
    assert strip(ct().get_event_data_store(EventDataStore=arn)) == strip(resp)


def test_update_needs_a_change(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=arn)


def test_update_name_must_stay_unique(ct):
    taken = make_eds(ct())["Name"]
    arn = make_eds(ct())["EventDataStoreArn"]
    with aws_error("EventDataStoreAlreadyExistsException"):
        ct().update_event_data_store(EventDataStore=arn, Name=taken)
    # Renaming to its own name is fine.
    own = ct().get_event_data_store(EventDataStore=arn)["Name"]
    ct().update_event_data_store(EventDataStore=arn, Name=own)


def test_update_billing_and_retention(ct):
    extendable = make_eds(ct())["EventDataStoreArn"]
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=extendable, BillingMode="FIXED_RETENTION_PRICING")
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=extendable, RetentionPeriod=3654)
    assert ct().update_event_data_store(EventDataStore=extendable, RetentionPeriod=3653)["RetentionPeriod"] == 3653

    fixed = make_eds(ct(), BillingMode="FIXED_RETENTION_PRICING")["EventDataStoreArn"]
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=fixed, RetentionPeriod=2558)
    resp = ct().update_event_data_store(
        EventDataStore=fixed, BillingMode="EXTENDABLE_RETENTION_PRICING", RetentionPeriod=3000
    )
    assert (resp["BillingMode"], resp["RetentionPeriod"]) == ("EXTENDABLE_RETENTION_PRICING", 3000)


def test_update_kms_key_is_set_once(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    assert ct().update_event_data_store(EventDataStore=arn, KmsKeyId=KMS_KEY_ARN)["KmsKeyId"] == KMS_KEY_ARN
    ct().update_event_data_store(EventDataStore=arn, KmsKeyId=KMS_KEY_ARN)
    other = KMS_KEY_ARN[:-2] + "99"
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=arn, KmsKeyId=other)
    with aws_error("InvalidKmsKeyIdException"):
        ct().update_event_data_store(EventDataStore=arn, KmsKeyId="bogus")
    assert ct().get_event_data_store(EventDataStore=arn)["KmsKeyId"] == KMS_KEY_ARN


def test_update_validates_selectors_and_organization(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    with aws_error("InvalidEventSelectorsException"):
        ct().update_event_data_store(EventDataStore=arn, AdvancedEventSelectors=[])
    with aws_error("InvalidParameterException"):
        ct().update_event_data_store(EventDataStore=arn, AdvancedEventSelectors=CHANNEL_SELECTORS)
    assert ct().update_event_data_store(EventDataStore=arn, OrganizationEnabled=True)["OrganizationEnabled"] is True
    member_arn = make_eds(ct(creds=MEMBER))["EventDataStoreArn"]
    with aws_error("NotOrganizationMasterAccountException"):
        ct(creds=MEMBER).update_event_data_store(EventDataStore=member_arn, OrganizationEnabled=True)


# ------------------------------------------------------------ delete and restore


def test_termination_protection_blocks_delete(ct):
    arn = make_eds(ct())["EventDataStoreArn"]
    with aws_error("EventDataStoreTerminationProtectedException"):
        ct().delete_event_data_store(EventDataStore=arn)
    assert status_of(ct(), arn) == "ENABLED"
    ct().update_event_data_store(EventDataStore=arn, TerminationProtectionEnabled=False)
    assert strip(ct().delete_event_data_store(EventDataStore=arn)) == {}
    assert status_of(ct(), arn) == "PENDING_DELETION"


def test_delete_then_restore(ct):
    created = unprotected(ct(), StartIngestion=False)
    arn = created["EventDataStoreArn"]
    with aws_error("InvalidEventDataStoreStatusException"):
        ct().restore_event_data_store(EventDataStore=arn)
    ct().delete_event_data_store(EventDataStore=eds_id(arn))
    got = ct().get_event_data_store(EventDataStore=arn)
    assert got["Status"] == "PENDING_DELETION"
    # Still listed while pending deletion.
    assert arn in {s["EventDataStoreArn"] for s in all_stores(ct())[0]}
    restored = ct().restore_event_data_store(EventDataStore=arn)
    assert restored["Status"] == "ENABLED"
    assert restored["Name"] == created["Name"]
    assert "FederationStatus" not in restored
    assert "TagsList" not in restored
    assert status_of(ct(), arn) == "ENABLED"
    # Usable again.
    ct().stop_event_data_store_ingestion(EventDataStore=arn)
    assert status_of(ct(), arn) == "STOPPED_INGESTION"


def test_pending_deletion_store_is_inactive(ct):
    arn = unprotected(ct(), TagsList=[{"Key": "a", "Value": "1"}])["EventDataStoreArn"]
    ct().delete_event_data_store(EventDataStore=arn)
    calls = [
        lambda c: c.update_event_data_store(EventDataStore=arn, RetentionPeriod=30),
        lambda c: c.delete_event_data_store(EventDataStore=arn),
        lambda c: c.start_event_data_store_ingestion(EventDataStore=arn),
        lambda c: c.stop_event_data_store_ingestion(EventDataStore=arn),
        lambda c: c.add_tags(ResourceId=arn, TagsList=[{"Key": "b"}]),
        lambda c: c.remove_tags(ResourceId=arn, TagsList=[{"Key": "a"}]),
        lambda c: c.list_tags(ResourceIdList=[arn]),
    ]
    for call in calls:
        with aws_error("InactiveEventDataStoreException"):
            call(ct())
    assert status_of(ct(), arn) == "PENDING_DELETION"


# ------------------------------------------------------------ ListEventDataStores


def test_list_pages(ct):
    arns = {make_eds(ct())["EventDataStoreArn"] for _ in range(5)}
    make_eds(ct(OTHER))
    make_eds(ct(creds=MEMBER))
    stores, pages = all_stores(ct(), MaxResults=2)
    assert pages == 3
    assert {s["EventDataStoreArn"] for s in stores} == arns
    for item in stores:
        assert set(item) == {"EventDataStoreArn", "Name"}
    one_page, pages = all_stores(ct())
    assert pages == 1 and len(one_page) == 5
    assert all_stores(ct(), MaxResults=5)[1] == 1


def test_list_limits(srv, ct):
    make_eds(ct())
    with aws_error("InvalidMaxResultsException"):
        ct().list_event_data_stores(MaxResults=1001)
    assert_raw_error(raw_call(srv.endpoint, "ListEventDataStores", {"MaxResults": 0}), "InvalidMaxResultsException")
    assert_raw_error(raw_call(srv.endpoint, "ListEventDataStores", {"MaxResults": -1}), "InvalidMaxResultsException")
    with aws_error("InvalidNextTokenException"):
        ct().list_event_data_stores(NextToken="not-a-token")
    # Trails are not event data stores.
    make_trail(ct(), create_bucket(srv.s3()))
    assert len(ct().list_event_data_stores()["EventDataStores"]) == 1


# ------------------------------------------------------------ tags


def test_tags_on_event_data_store_arns(srv, ct):
    arn = make_eds(ct(), TagsList=[{"Key": "env", "Value": "test"}])["EventDataStoreArn"]

    def tags():
        (entry,) = ct().list_tags(ResourceIdList=[arn])["ResourceTagList"]
        assert entry["ResourceId"] == arn
        return {t["Key"]: t.get("Value") for t in entry.get("TagsList", [])}

    assert tags() == {"env": "test"}
    ct().add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "sec"}, {"Key": "env", "Value": "prod"}])
    assert tags() == {"env": "prod", "team": "sec"}
    ct().remove_tags(ResourceId=arn, TagsList=[{"Key": "env"}])
    assert tags() == {"team": "sec"}
    with aws_error("InvalidTagParameterException"):
        ct().add_tags(ResourceId=arn, TagsList=[{"Key": "x"}, {"Key": "x"}])
    with aws_error("TagsLimitExceededException"):
        ct().add_tags(ResourceId=arn, TagsList=[{"Key": f"k{i}"} for i in range(50)])
    # Trails and stores in one ListTags call.
    trail = make_trail(ct(), create_bucket(srv.s3()), TagsList=[{"Key": "t", "Value": "1"}])["TrailARN"]
    listed = ct().list_tags(ResourceIdList=[trail, arn])["ResourceTagList"]
    assert [e["ResourceId"] for e in listed] == [trail, arn]
    missing = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:eventdatastore/{uuid.uuid4()}"
    with aws_error("EventDataStoreNotFoundException"):
        ct().list_tags(ResourceIdList=[missing])
    with aws_error("EventDataStoreNotFoundException"):
        ct().add_tags(ResourceId=missing, TagsList=[{"Key": "a"}])
    with aws_error("EventDataStoreARNInvalidException"):
        ct().add_tags(ResourceId=f"arn:aws:cloudtrail:{HOME}:nope:eventdatastore/x", TagsList=[{"Key": "a"}])
    # Another account's store is not found.
    with aws_error("EventDataStoreNotFoundException"):
        ct(creds=MEMBER).list_tags(ResourceIdList=[arn])


# ------------------------------------------------------------ the wire, and durability


def test_responses_conform_to_the_model(srv):
    ep = srv.endpoint
    body = {
        "Name": unique("wire"),
        "TagsList": [{"Key": "a", "Value": "1"}, {"Key": "novalue"}],
        "KmsKeyId": KMS_KEY_ARN,
        "TerminationProtectionEnabled": False,
    }
    created = assert_conforms("CreateEventDataStore", raw_call(ep, "CreateEventDataStore", body))
    arn = created["EventDataStoreArn"]
    assert_conforms("GetEventDataStore", raw_call(ep, "GetEventDataStore", {"EventDataStore": arn}))
    update = {"EventDataStore": arn, "RetentionPeriod": 100}
    assert_conforms("UpdateEventDataStore", raw_call(ep, "UpdateEventDataStore", update))
    assert_conforms("ListEventDataStores", raw_call(ep, "ListEventDataStores", {"MaxResults": 1}))
    for op in ("StopEventDataStoreIngestion", "StartEventDataStoreIngestion", "DeleteEventDataStore"):
        assert_conforms(op, raw_call(ep, op, {"EventDataStore": arn}))
    assert_conforms("RestoreEventDataStore", raw_call(ep, "RestoreEventDataStore", {"EventDataStore": arn}))


@pytest.mark.parametrize("graceful", [True, False], ids=["sigterm", "kill9"])
def test_stores_survive_restart(srv, graceful):
    client = srv.ct()
    kept = make_eds(client, TagsList=[{"Key": "k", "Value": "v"}], KmsKeyId=KMS_KEY_ARN)["EventDataStoreArn"]
    stopped = make_eds(client)["EventDataStoreArn"]
    client.stop_event_data_store_ingestion(EventDataStore=stopped)
    deleted = unprotected(client)["EventDataStoreArn"]
    client.delete_event_data_store(EventDataStore=deleted)
    before = {arn: strip(client.get_event_data_store(EventDataStore=arn)) for arn in (kept, stopped, deleted)}
    tags_before = client.list_tags(ResourceIdList=[kept])["ResourceTagList"]

    srv.restart(graceful=graceful)
    client = srv.ct()
    after = {arn: strip(client.get_event_data_store(EventDataStore=arn)) for arn in (kept, stopped, deleted)}
    assert after == before
    assert client.list_tags(ResourceIdList=[kept])["ResourceTagList"] == tags_before
    # The restored server keeps enforcing the rules and the state machine.
    with aws_error("EventDataStoreAlreadyExistsException"):
        make_eds(client, before[kept]["Name"])
    client.start_event_data_store_ingestion(EventDataStore=stopped)
    assert client.restore_event_data_store(EventDataStore=deleted)["Status"] == "ENABLED"
