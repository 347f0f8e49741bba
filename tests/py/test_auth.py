"""SigV4 authentication, protocol errors and identities (spec/api.md §0)."""

from __future__ import annotations

import datetime as dt

from helpers import (
    ACCOUNT,
    ALICE,
    MEMBER,
    ROOT,
    Creds,
    assert_raw_error,
    aws_error,
    create_bucket,
    http_get,
    make_trail,
    raw_call,
    send,
    set_header,
    sign_request,
    trail_arn,
    unique,
)

AUTH_STATUS = (400, 403)


def test_valid_signature(server):
    resp = raw_call(server.endpoint, "ListTrails", {})
    assert resp.status == 200, resp.body
    assert "Trails" in resp.json()


def test_wrong_secret(server):
    creds = Creds(ROOT.access_key, "not-the-secret", ACCOUNT)
    resp = raw_call(server.endpoint, "ListTrails", {}, creds=creds)
    assert_raw_error(resp, "InvalidSignatureException", status=AUTH_STATUS)


def test_unknown_access_key(server):
    creds = Creds("AKIAUNKNOWNKEY000000", "whatever", ACCOUNT)
    resp = raw_call(server.endpoint, "ListTrails", {}, creds=creds)
    assert_raw_error(resp, "UnrecognizedClientException", status=AUTH_STATUS)


def test_missing_authorization(server):
    req = sign_request(server.endpoint, "ListTrails", {})
    resp = send(req, drop_headers=("Authorization",))
    assert_raw_error(resp, "MissingAuthenticationTokenException", status=AUTH_STATUS)


def test_authorization_without_signature(server):
    req = sign_request(server.endpoint, "ListTrails", {})
    auth = req.headers["Authorization"]
    set_header(req, "Authorization", ", ".join(p for p in auth.split(", ") if not p.startswith("Signature=")))
    assert "Signature=" not in req.headers["Authorization"]
    resp = send(req)
    assert_raw_error(resp, "IncompleteSignatureException", status=AUTH_STATUS)


def test_authorization_without_credential(server):
    req = sign_request(server.endpoint, "ListTrails", {})
    auth = req.headers["Authorization"]
    sig = auth.split("Signature=")[1]
    set_header(req, "Authorization", f"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={sig}")
    resp = send(req)
    assert_raw_error(resp, "IncompleteSignatureException", status=AUTH_STATUS)


def test_signature_expired(server):
    req = sign_request(server.endpoint, "ListTrails", {}, time_offset=dt.timedelta(minutes=-20))
    resp = send(req)
    assert_raw_error(resp, "InvalidSignatureException", contains="Signature expired", status=AUTH_STATUS)


def test_signature_not_yet_current(server):
    req = sign_request(server.endpoint, "ListTrails", {}, time_offset=dt.timedelta(minutes=20))
    resp = send(req)
    assert_raw_error(resp, "InvalidSignatureException", contains="Signature not yet current", status=AUTH_STATUS)


def test_small_clock_skew_accepted(server):
    for minutes in (-5, 5):
        resp = send(sign_request(server.endpoint, "ListTrails", {}, time_offset=dt.timedelta(minutes=minutes)))
        assert resp.status == 200, (minutes, resp.body)


def test_body_tampered_after_signing(server):
    req = sign_request(server.endpoint, "ListTrails", {})
    resp = send(req, body_override=b'{"NextToken": "x"}')
    assert_raw_error(resp, "InvalidSignatureException", status=AUTH_STATUS)


def test_signed_for_other_service(server):
    req = sign_request(server.endpoint, "ListTrails", {})
    # Re-sign the same request as if for another service's scope.
    import botocore.auth
    import botocore.credentials

    del req.headers["Authorization"]
    del req.headers["X-Amz-Date"]
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(ROOT.access_key, ROOT.secret_key), "dynamodb", "us-east-1"
    ).add_auth(req)
    resp = send(req)
    assert resp.status != 200, "a signature scoped to another service must not be accepted for cloudtrail"


def test_unknown_operation(server):
    resp = raw_call(server.endpoint, "NoSuchOperation", {})
    assert_raw_error(resp, "UnknownOperationException")


def test_wrong_target_prefix(server):
    resp = send(sign_request(server.endpoint, None, {}, target="com.amazonaws.other.v1.Service.ListTrails"))
    assert_raw_error(resp, "UnknownOperationException")


def test_malformed_json(server):
    resp = raw_call(server.endpoint, "ListTrails", b'{"NextToken": ')
    assert_raw_error(resp, "SerializationException")


def test_wrong_member_type(server):
    resp = raw_call(server.endpoint, "GetTrail", {"Name": 42})
    assert_raw_error(resp, ("SerializationException", "InvalidParameterException", "ValidationException"))


def test_missing_required_member(server):
    resp = raw_call(server.endpoint, "GetTrail", {})
    assert resp.status == 400, resp.body
    assert resp.error_code, resp.body


def test_error_body_shape(server):
    name = unique("ghost")
    resp = raw_call(server.endpoint, "GetTrail", {"Name": name})
    assert resp.status == 400
    body = resp.json()
    assert body.get("__type", "").split("#")[-1] == "TrailNotFoundException"
    message = body.get("Message", body.get("message"))
    assert isinstance(message, str) and message.startswith("Unknown trail:")
    assert (resp.header("Content-Type") or "").startswith(("application/x-amz-json-1.1", "application/json"))


def test_empty_output_is_empty_object(server, ct, bucket):
    name = make_trail(ct(), bucket)["Name"]
    resp = raw_call(server.endpoint, "StartLogging", {"Name": name})
    assert resp.status == 200
    assert resp.json() == {}


def test_iam_user_works(ct, bucket):
    resp = make_trail(ct(creds=ALICE), bucket)
    assert resp["TrailARN"] == trail_arn(resp["Name"], account=ACCOUNT)
    assert resp["Name"] in {t["Name"] for t in ct(creds=ALICE).list_trails()["Trails"]}


def test_config_root_identity_works(ct, server):
    s3 = server.s3(creds=MEMBER)
    bucket = create_bucket(s3)
    resp = make_trail(ct(creds=MEMBER), bucket)
    assert resp["TrailARN"] == trail_arn(resp["Name"], account=MEMBER.account)
    # The default account does not see it.
    assert resp["Name"] not in {t["Name"] for t in ct().list_trails()["Trails"]}


def test_health_and_metrics(server):
    status, _, _ = http_get(server.addr, "/health")
    assert status == 200
    raw_call(server.endpoint, "ListTrails", {})
    status, headers, body = http_get(server.addr, "/metrics")
    assert status == 200
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert ctype.startswith("text/plain"), ctype
    text = body.decode()
    assert "# TYPE" in text, "Prometheus exposition format expected"


# ------------------------------------------------------------ other servers


def test_accept_any_credentials(new_server):
    srv = new_server(args=["--accept-any-credentials"])
    random = Creds("AKIARANDOMKEY9999999", "any-secret-at-all", ACCOUNT)
    assert srv.ct(creds=random).list_trails()["Trails"] == []
    # A 12-digit access key acts as that account.
    acct = "444455556666"
    as_acct = Creds(acct, "whatever", acct)
    bucket = create_bucket(srv.s3(creds=as_acct))
    resp = make_trail(srv.ct(creds=as_acct), bucket)
    assert resp["TrailARN"] == trail_arn(resp["Name"], account=acct)
    assert f":{acct}:" in srv.ct(creds=as_acct).get_trail(Name=resp["Name"])["Trail"]["TrailARN"]
    with aws_error("TrailNotFoundException", contains=acct):
        srv.ct(creds=as_acct).get_trail(Name=unique("ghost"))
    # The configured root still works too.
    assert srv.ct().list_trails()["Trails"] == []


def test_strict_server_rejects_random_keys(new_server):
    srv = new_server()
    with aws_error("UnrecognizedClientException", status=AUTH_STATUS):
        srv.ct(creds=Creds("AKIARANDOMKEY9999999", "x", ACCOUNT)).list_trails()


def test_account_and_keys_from_flags(new_server):
    acct = "999988887777"
    creds = Creds("AKIAFLAGKEYEXAMPLE01", "flag-secret", acct)
    srv = new_server(
        env={},
        args=["--account-id", acct, "--root-access-key-id", creds.access_key, "--root-secret-access-key", creds.secret_key],
    )
    bucket = create_bucket(srv.s3(creds=creds))
    resp = make_trail(srv.ct(creds=creds), bucket)
    assert resp["TrailARN"] == trail_arn(resp["Name"], account=acct)


def test_region_from_credential_scope(ct, bucket, server):
    resp = make_trail(ct("eu-west-1"), bucket)
    assert resp["TrailARN"].startswith("arn:aws:cloudtrail:eu-west-1:")
    raw = raw_call(server.endpoint, "GetTrail", {"Name": resp["Name"]}, region="eu-west-1")
    assert raw.status == 200 and raw.json()["Trail"]["HomeRegion"] == "eu-west-1"
