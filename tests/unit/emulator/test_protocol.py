"""The wire protocol as the real SDK speaks it: V3 and V2 signatures, STS, errors, RequestId."""
from __future__ import annotations

import json
import urllib.request

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils

from tests.emulator import DEFAULT_ACCESS_KEY_ID, OOS_VERSION

from .conftest import SdkClient


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_signed_call_round_trips(emu, v2):
    client = SdkClient(emu, v2=v2)
    response = client.raw("DescribeInstances", {"RegionId": "cn-hangzhou", "Tag": [{"Key": "Env", "Value": "prod"}],
                                                "InstanceName": "web-*"})
    body = response["body"]
    assert response["statusCode"] == 200
    assert response["headers"]["x-acs-request-id"] == body["RequestId"]
    assert response["headers"]["content-type"] == "application/json;charset=utf-8"
    names = [i["InstanceName"] for i in body["Instances"]["Instance"]]
    assert names and all(n.startswith("web-prod-") for n in names)


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_form_body_parameters_are_signed_and_merged(emu, v2):
    client = SdkClient(emu, v2=v2)
    body = client.call("DescribeInstances", {"RegionId": "cn-hangzhou"}, body={"PageSize": "3", "Status": "Running"})
    assert body["PageSize"] == 3 and len(body["Instances"]["Instance"]) == 3


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_wrong_secret_is_signature_does_not_match(emu, v2):
    client = SdkClient(emu, v2=v2, access_key_secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        client.ecs("DescribeRegions")
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.status_code == 400
    assert "server string to sign is:" in caught.value.data["Message"]
    assert emu.stats()["total_calls"] == 0   # rejected before dispatch


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_unknown_key_is_invalid_access_key_id(emu, v2):
    client = SdkClient(emu, v2=v2, access_key_id="LTAI-unknown")
    with pytest.raises(ClientException) as caught:
        client.ecs("DescribeRegions")
    assert (caught.value.code, caught.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_error_body_has_the_documented_fields(sdk):
    with pytest.raises(ClientException) as caught:
        sdk.ecs("StartInstance", InstanceId="i-doesnotexist")
    error = caught.value
    assert (error.code, error.status_code) == ("InvalidInstanceId.NotFound", 404)
    assert error.data["Message"] == "The specified InstanceId does not exist."
    assert error.request_id == error.data["RequestId"]
    assert set(error.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_missing_required_parameter(sdk):
    with pytest.raises(ClientException) as caught:
        sdk.ecs("DescribeInstances")
    assert (caught.value.code, caught.value.status_code) == ("MissingParameter", 400)
    assert '"RegionId"' in caught.value.data["Message"]


def test_unknown_action_and_version(sdk):
    with pytest.raises(ClientException) as caught:
        sdk.ecs("DescribeUnicorns", RegionId="cn-hangzhou")
    assert (caught.value.code, caught.value.status_code) == ("InvalidAction.NotFound", 404)
    with pytest.raises(ClientException) as caught:
        sdk.call("DescribeRegions", {}, version="2099-01-01")
    assert caught.value.code == "InvalidVersion"


def test_unknown_region(sdk):
    with pytest.raises(ClientException) as caught:
        sdk.ecs("DescribeInstances", RegionId="mars-north-1")
    assert (caught.value.code, caught.value.status_code) == ("InvalidRegionId.NotFound", 404)


def test_same_action_name_dispatches_on_version(sdk):
    """TagResources exists in ECS and OOS: the version decides. OOS ListExecutions is not an ECS action."""
    with pytest.raises(ClientException) as caught:
        sdk.ecs("ListExecutions")
    assert caught.value.code == "InvalidAction.NotFound"
    assert sdk.call("ListExecutions", {}, version=OOS_VERSION)["Executions"] == []


def test_reused_nonce_is_refused(emu, monkeypatch):
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "0123456789abcdef0123456789abcdef"))
    client = SdkClient(emu)
    client.ecs("DescribeRegions")
    with pytest.raises(ClientException) as caught:
        client.ecs("DescribeRegions")
    assert caught.value.code == "SignatureNonceUsed"


def test_unsigned_request_is_refused(emu):
    request = urllib.request.Request(f"{emu.url}/?Action=DescribeRegions&Version=2014-05-26", method="POST", data=b"")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=10)
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["Code"] == "IncompleteSignature"


def test_booleans_are_parsed_case_insensitively(sdk, emu):
    instance = emu.instances()[0]["InstanceId"]
    with pytest.raises(ClientException) as caught:
        sdk.ecs("StopInstance", InstanceId=instance, DryRun=True)   # the SDK sends "True"
    assert caught.value.code == "DryRunOperation"
    with pytest.raises(ClientException) as caught:
        sdk.ecs("StopInstance", InstanceId=instance, DryRun="maybe")
    assert caught.value.code == "InvalidParameter"


@pytest.fixture(scope="module")
def sts_emulator():
    from tests.conftest import start_emulator
    emu = start_emulator("--instances", "2", "--security-token", "sts-token-123",
                         "--access-key-id", "STS.EmulatorTemporaryKey")
    emu.access_key_id = "STS.EmulatorTemporaryKey"
    yield emu
    emu.stop()


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_sts_token_is_required_and_checked(sts_emulator, v2):
    good = SdkClient(sts_emulator, v2=v2, security_token="sts-token-123")
    assert good.ecs("DescribeInstances", RegionId="cn-hangzhou")["TotalCount"] == 2
    for token, code in ((None, "InvalidSecurityToken.Malformed"),
                        ("other-token", "InvalidSecurityToken.MismatchWithAccessKey")):
        with pytest.raises(ClientException) as caught:
            SdkClient(sts_emulator, v2=v2, security_token=token).ecs("DescribeRegions")
        assert caught.value.code == code


def test_expired_sts_token(emulator_factory):
    emu = emulator_factory("--instances", "1", "--security-token", "sts-token-123", "--security-token-expired")
    with pytest.raises(ClientException) as caught:
        SdkClient(emu, security_token="sts-token-123").ecs("DescribeRegions")
    assert (caught.value.code, caught.value.status_code) == ("InvalidSecurityToken.Expired", 400)


def test_tls_with_the_given_certificate(emulator_factory, tmp_path):
    import ssl
    import urllib.error

    from tests.reliability.test_fast_failures import self_signed_certificate
    cert, key = self_signed_certificate(tmp_path)
    emu = emulator_factory("--instances", "1", "--tls-cert", cert, "--tls-key", key)
    assert emu.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=cert)
    with urllib.request.urlopen(f"{emu.url}/_emulator/stats", context=context, timeout=10) as answer:
        assert json.loads(answer.read())["total_calls"] == 0
    with pytest.raises(urllib.error.URLError) as caught:   # the system CAs do not know it
        urllib.request.urlopen(f"{emu.url}/_emulator/stats", context=ssl.create_default_context(), timeout=10)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_default_key_pair_is_documented_constant(emu):
    assert emu.access_key_id == DEFAULT_ACCESS_KEY_ID


def test_malformed_json_string_parameter(sdk):
    with pytest.raises(ClientException) as caught:
        sdk.call("DescribeInstances", {"RegionId": "cn-hangzhou", "InstanceIds": "not json"})
    assert caught.value.code == "InvalidParameter"
    assert '"InstanceIds"' in caught.value.data["Message"]
