"""Channels and resource policies (spec/api.md §1.8, §1.11, §2.10, §2.11): CreateChannel, GetChannel,
UpdateChannel, DeleteChannel and ListChannels with their limits and errors, channels as destinations that keep
a store from being deleted, and Put/Get/DeleteResourcePolicy on channels, event data stores and dashboards.

One server for the module; each test names its channels uniquely and uses its own sources (one channel per
source). Event data stores are few (10 per region, pending deletion included), so the module makes three.
"""

from __future__ import annotations

import json

import pytest

from helpers import (
    ACCOUNT,
    HOME,
    MEMBER,
    OTHER,
    ROOT_ENV,
    SESSION_CONFIG,
    CairnServer,
    assert_raw_error,
    aws_error,
    raw_call,
    unique,
)
from test_conformance import assert_conforms

ACTIVITY_SELECTORS = [
    {"Name": "channel events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}
]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = CairnServer(tmp_path_factory.mktemp("cairn-channels"), config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def stores(srv):
    """Two ActivityAuditLog stores and one CloudTrail management store, by ARN."""
    ct = srv.ct()

    def create(selectors=None):
        kw = {"AdvancedEventSelectors": selectors} if selectors else {}
        return ct.create_event_data_store(
            Name=unique("eds"), MultiRegionEnabled=False, TerminationProtectionEnabled=False, **kw
        )["EventDataStoreArn"]

    return {"a": create(ACTIVITY_SELECTORS), "b": create(ACTIVITY_SELECTORS), "management": create()}


def all_channels(ct, page_size=None) -> list[list[dict]]:
    """Every page of ListChannels (botocore has no paginator for it)."""
    pages, token = [], None
    while True:
        kw = {"MaxResults": page_size} if page_size else {}
        if token:
            kw["NextToken"] = token
        page = ct.list_channels(**kw)
        pages.append(page["Channels"])
        token = page.get("NextToken")
        if not token:
            return pages


def dest(*arns):
    return [{"Type": "EVENT_DATA_STORE", "Location": arn} for arn in arns]


def create(srv, stores, source=None, **kw):
    params = {"Name": unique("ch"), "Source": source or unique("Partner"), "Destinations": dest(stores["a"])}
    params.update(kw)
    return srv.ct().create_channel(**params)


def test_create_get_and_list_a_channel(srv, stores):
    ct = srv.ct()
    name, source = unique("ch"), unique("Partner")
    created = ct.create_channel(Name=name, Source=source, Destinations=dest(stores["a"]), Tags=[{"Key": "team", "Value": "blue"}])
    arn = created["ChannelArn"]
    assert arn.startswith(f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:channel/")
    assert (created["Name"], created["Source"]) == (name, source)
    assert created["Destinations"] == dest(stores["a"])
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]

    channel_id = arn.rsplit("/", 1)[1]
    for reference in (arn, channel_id):
        got = ct.get_channel(Channel=reference)
        assert got["ChannelArn"] == arn and got["Name"] == name and got["Source"] == source
        assert got["Destinations"] == dest(stores["a"])
        assert got["SourceConfig"]["ApplyToAllRegions"] is False
        assert got["SourceConfig"]["AdvancedEventSelectors"][0]["FieldSelectors"] == [
            {"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}
        ]
        assert got["IngestionStatus"] == {}, "nothing was sent yet"
    listed = [c for page in all_channels(ct) for c in page]
    assert {"ChannelArn": arn, "Name": name} in listed
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"] == [
        {"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "blue"}]}
    ]
    ct.delete_channel(Channel=arn)


def test_responses_conform_to_the_model(srv, stores):
    body = {"Name": unique("ch"), "Source": unique("Partner"), "Destinations": dest(stores["a"])}
    created = assert_conforms("CreateChannel", raw_call(srv.endpoint, "CreateChannel", body))
    arn = created["ChannelArn"]
    assert_conforms("GetChannel", raw_call(srv.endpoint, "GetChannel", {"Channel": arn}))
    assert_conforms("UpdateChannel", raw_call(srv.endpoint, "UpdateChannel", {"Channel": arn, "Name": unique("ch")}))
    assert_conforms("ListChannels", raw_call(srv.endpoint, "ListChannels", {"MaxResults": 1}))
    assert_conforms("DeleteChannel", raw_call(srv.endpoint, "DeleteChannel", {"Channel": arn}))


def test_one_channel_per_source_and_unique_names(srv, stores):
    ct = srv.ct()
    first = create(srv, stores, source="ExamplePartnerOne")
    with aws_error("ChannelAlreadyExistsException", contains="A maximum of one channel is allowed per source"):
        create(srv, stores, source="ExamplePartnerOne")
    with aws_error("ChannelAlreadyExistsException", contains=f"A channel named {first['Name']} already exists"):
        create(srv, stores, Name=first["Name"])
    # Another region is another namespace.
    other = srv.ct(OTHER).create_event_data_store(
        Name=unique("eds"), AdvancedEventSelectors=ACTIVITY_SELECTORS, MultiRegionEnabled=False,
        TerminationProtectionEnabled=False,
    )["EventDataStoreArn"]
    elsewhere = srv.ct(OTHER).create_channel(Name=first["Name"], Source="ExamplePartnerOne", Destinations=dest(other))
    srv.ct(OTHER).delete_channel(Channel=elsewhere["ChannelArn"])
    srv.ct(OTHER).delete_event_data_store(EventDataStore=other)
    ct.delete_channel(Channel=first["ChannelArn"])
    # Once deleted, the source is free again.
    again = create(srv, stores, source="ExamplePartnerOne")
    ct.delete_channel(Channel=again["ChannelArn"])


def test_at_most_25_channels_per_region(srv, stores):
    ct = srv.ct()
    existing = [c for page in all_channels(ct) for c in page]
    made = [create(srv, stores)["ChannelArn"] for _ in range(25 - len(existing))]
    try:
        with aws_error("ChannelMaxLimitExceededException", contains="the limit is 25"):
            create(srv, stores)
        assert [len(page) for page in all_channels(ct, page_size=10)] == [10, 10, 5]
    finally:
        for arn in made:
            ct.delete_channel(Channel=arn)


@pytest.mark.parametrize(
    "params, code, words",
    [
        ({"Name": "ab"}, "InvalidParameterException", "Member must have length between 3 and 128"),
        ({"Name": "has space"}, "InvalidParameterException", "regular expression pattern"),
        ({"Source": ""}, "InvalidSourceException", "specify Custom or the name of a partner"),
        ({"Source": "custom"}, "InvalidSourceException", "spelled Custom"),
        ({"Destinations": []}, "InvalidParameterException", "destinations"),
        ({"Destinations": [{"Type": "QUEUE", "Location": "somewhere"}]}, "InvalidParameterException",
         "[EVENT_DATA_STORE, AWS_SERVICE]"),
        ({"Destinations": [{"Type": "EVENT_DATA_STORE"}]}, "InvalidParameterException", "Member must not be null"),
        ({"Destinations": dest("arn:aws:cloudtrail:us-east-1:111111111111:eventdatastore/00000000-0000-4000-8000-000000000000")},
         "EventDataStoreNotFoundException", "00000000-0000-4000-8000-000000000000"),
        ({"Destinations": dest("arn:aws:cloudtrail:us-east-1:111111111111:trail/nope")},
         "EventDataStoreARNInvalidException", None),
    ],
)
def test_create_channel_errors(srv, stores, params, code, words):
    # Raw calls: botocore would refuse some of these before sending them.
    body = {"Name": unique("ch"), "Source": unique("Partner"), "Destinations": dest(stores["a"])}
    body.update(params)
    assert_raw_error(raw_call(srv.endpoint, "CreateChannel", body), code, contains=words)


def test_destinations_must_be_activity_stores_listed_once(srv, stores):
    with aws_error("InvalidEventDataStoreCategoryException", contains="only to event data stores of eventCategory ActivityAuditLog"):
        create(srv, stores, Destinations=dest(stores["management"]))
    with aws_error("InvalidParameterException", contains="more than once"):
        create(srv, stores, Destinations=dest(stores["a"], stores["a"]))
    store_id = stores["a"].rsplit("/", 1)[1]
    with aws_error("InvalidParameterException", contains="more than once"):
        create(srv, stores, Destinations=dest(stores["a"]) + [{"Type": "EVENT_DATA_STORE", "Location": store_id}])


def test_update_renames_and_changes_destinations_but_not_the_source(srv, stores):
    ct = srv.ct()
    channel = create(srv, stores)
    arn = channel["ChannelArn"]
    new_name = unique("renamed")
    updated = ct.update_channel(Channel=arn, Name=new_name, Destinations=dest(stores["a"], stores["b"]))
    assert updated["ChannelArn"] == arn and updated["Name"] == new_name and updated["Source"] == channel["Source"]
    assert updated["Destinations"] == dest(stores["a"], stores["b"])
    assert ct.get_channel(Channel=arn)["Destinations"] == dest(stores["a"], stores["b"])
    # Only what is given changes.
    assert ct.update_channel(Channel=arn)["Name"] == new_name
    with aws_error("InvalidEventDataStoreCategoryException"):
        ct.update_channel(Channel=arn, Destinations=dest(stores["management"]))
    assert ct.get_channel(Channel=arn)["Destinations"] == dest(stores["a"], stores["b"]), "a refused update changes nothing"
    other = create(srv, stores)
    with aws_error("ChannelAlreadyExistsException", contains=f"A channel named {other['Name']} already exists"):
        ct.update_channel(Channel=arn, Name=other["Name"])
    ct.delete_channel(Channel=other["ChannelArn"])
    ct.delete_channel(Channel=arn)


def test_unknown_malformed_and_foreign_channels(srv, stores):
    ct = srv.ct()
    missing = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:channel/00000000-0000-4000-8000-000000000000"
    for call in (ct.get_channel, ct.delete_channel, ct.update_channel):
        with aws_error("ChannelNotFoundException", contains="00000000-0000-4000-8000-000000000000"):
            call(Channel=missing)
    with aws_error("ChannelARNInvalidException", contains="expected arn:aws:cloudtrail:<region>:<account>:channel/<id>"):
        ct.get_channel(Channel=f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/x")
    assert_raw_error(raw_call(srv.endpoint, "GetChannel", {"Channel": "ab"}), "InvalidParameterException",
                     contains="Member must have length between 3 and 256")
    channel = create(srv, stores)
    # Another account, and another region, do not see it.
    with aws_error("ChannelNotFoundException"):
        srv.ct(creds=MEMBER).get_channel(Channel=channel["ChannelArn"])
    with aws_error("ChannelNotFoundException"):
        srv.ct(OTHER).get_channel(Channel=channel["ChannelArn"].rsplit("/", 1)[1])
    assert channel["ChannelArn"] not in [c["ChannelArn"] for c in srv.ct(creds=MEMBER).list_channels()["Channels"]]
    ct.delete_channel(Channel=channel["ChannelArn"])
    with aws_error("ChannelNotFoundException"):
        ct.get_channel(Channel=channel["ChannelArn"])


def test_list_channels_paging_errors(srv):
    ct = srv.ct()
    for bad in (0, 1001):
        assert_raw_error(raw_call(srv.endpoint, "ListChannels", {"MaxResults": bad}), "InvalidParameterException",
                         contains="Member must have value between 1 and 1000")
    with aws_error("InvalidNextTokenException"):
        ct.list_channels(NextToken="not-a-token")


def test_a_store_a_channel_delivers_to_cannot_be_deleted(srv, stores):
    ct = srv.ct()
    channel = create(srv, stores, Destinations=dest(stores["b"]))
    with aws_error("ChannelExistsForEDSException", contains=channel["ChannelArn"]):
        ct.delete_event_data_store(EventDataStore=stores["b"])
    ct.delete_channel(Channel=channel["ChannelArn"])
    assert ct.get_event_data_store(EventDataStore=stores["b"])["Status"] == "ENABLED"


def test_channel_calls_are_recorded_in_event_history(srv, stores):
    ct = srv.ct()
    channel = create(srv, stores)
    arn = channel["ChannelArn"]
    ct.delete_channel(Channel=arn)
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])["Events"]
    assert sorted(e["EventName"] for e in events) == ["CreateChannel", "DeleteChannel"]
    created = next(json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "CreateChannel")
    assert created["requestParameters"]["name"] == channel["Name"]
    assert created["responseElements"]["channelArn"] == arn


# --------------------------------------------------------------------------
# Resource policies
# --------------------------------------------------------------------------


def channel_policy(arn: str, action: str = "cloudtrail-data:PutAuditEvents") -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "partner",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::444444444444:root"]},
            "Action": action,
            "Resource": arn,
            "Condition": {"StringEquals": {"cloudtrail:ExternalId": "example-external-id"}},
        }],
    })


def store_policy(arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["cloudtrail:StartQuery", "cloudtrail:GetQueryResults"],
            "Resource": arn,
        }],
    })


def test_policies_on_a_channel_a_store_and_a_dashboard(srv, stores):
    ct = srv.ct()
    channel = create(srv, stores)["ChannelArn"]
    dashboard = ct.create_dashboard(Name=unique("dash"))["DashboardArn"]
    for arn, policy in ((channel, channel_policy(channel)), (stores["a"], store_policy(stores["a"])),
                        (dashboard, store_policy(dashboard))):
        with aws_error("ResourcePolicyNotFoundException", contains=arn):
            ct.get_resource_policy(ResourceArn=arn)
        put = ct.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy)
        assert (put["ResourceArn"], put["ResourcePolicy"]) == (arn, policy)
        got = ct.get_resource_policy(ResourceArn=arn)
        assert json.loads(got["ResourcePolicy"]) == json.loads(policy)
        ct.delete_resource_policy(ResourceArn=arn)
        with aws_error("ResourcePolicyNotFoundException"):
            ct.delete_resource_policy(ResourceArn=arn)
    # A deleted resource takes its policy with it: a new one of the same name starts without.
    ct.put_resource_policy(ResourceArn=dashboard, ResourcePolicy=store_policy(dashboard))
    ct.delete_dashboard(DashboardId=dashboard)
    with aws_error("ResourceNotFoundException"):
        ct.get_resource_policy(ResourceArn=dashboard)
    ct.delete_channel(Channel=channel)


def test_policies_survive_a_restart(tmp_path):
    server = CairnServer(tmp_path, config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    try:
        ct = server.ct()
        store = ct.create_event_data_store(Name=unique("eds"), AdvancedEventSelectors=ACTIVITY_SELECTORS,
                                           MultiRegionEnabled=False, TerminationProtectionEnabled=False)["EventDataStoreArn"]
        channel = ct.create_channel(Name=unique("ch"), Source="Custom", Destinations=dest(store))["ChannelArn"]
        ct.put_resource_policy(ResourceArn=channel, ResourcePolicy=channel_policy(channel))
        server.kill9()
        server.start()
        ct = server.ct()
        assert ct.get_channel(Channel=channel)["Destinations"] == dest(store)
        assert json.loads(ct.get_resource_policy(ResourceArn=channel)["ResourcePolicy"]) == json.loads(channel_policy(channel))
    finally:
        server.close()


@pytest.mark.parametrize(
    "arn, code",
    [
        (f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/my-trail", "ResourceTypeNotSupportedException"),
        (f"arn:aws:s3:::bucket", "ResourceTypeNotSupportedException"),
        ("not-an-arn", "ResourceARNNotValidException"),
        (f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:channel/", "ResourceARNNotValidException"),
        (f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:channel/00000000-0000-4000-8000-000000000000", "ResourceNotFoundException"),
        (f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:dashboard/nothing-here", "ResourceNotFoundException"),
    ],
)
def test_policy_resource_errors(srv, arn, code):
    ct = srv.ct()
    with aws_error(code):
        ct.put_resource_policy(ResourceArn=arn, ResourcePolicy=store_policy(arn))
    with aws_error(code):
        ct.get_resource_policy(ResourceArn=arn)


@pytest.mark.parametrize(
    "make_policy, words",
    [
        (lambda arn: "not json", "not valid JSON"),
        (lambda arn: "[]", "must be a JSON object"),
        (lambda arn: json.dumps({"Version": "2012-10-17"}), "has no Statement"),
        (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": []}), "at least one"),
        (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudtrail-data:PutAuditEvents", "Resource": arn}]}), "needs a Principal"),
        (lambda arn: channel_policy(arn, action="cloudtrail:StartQuery"), "cloudtrail-data:PutAuditEvents"),
        (lambda arn: json.dumps({"Version": "1999-01-01", "Statement": []}), "Version must be"),
    ],
)
def test_bad_channel_policies_are_refused(srv, stores, make_policy, words):
    ct = srv.ct()
    channel = create(srv, stores)["ChannelArn"]
    try:
        with aws_error("ResourcePolicyNotValidException", contains=words):
            ct.put_resource_policy(ResourceArn=channel, ResourcePolicy=make_policy(channel))
        with aws_error("ResourcePolicyNotFoundException"):
            ct.get_resource_policy(ResourceArn=channel)
    finally:
        ct.delete_channel(Channel=channel)


def test_another_accounts_resource_is_not_found(srv, stores):
    with aws_error("ResourceNotFoundException"):
        srv.ct(creds=MEMBER).put_resource_policy(ResourceArn=stores["a"], ResourcePolicy=store_policy(stores["a"]))
