"""The mutating-API table and what the client does after a lost answer; transport errors named in words."""
from __future__ import annotations

import socket
import ssl

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import mutating_apis, products
from ansible_collections.alicloud.oos.plugins.module_utils.client_tokens import derive_client_token
from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_CONNECTION,
    FAILURE_CREDENTIALS,
    FAILURE_NOT_SENT,
    FAILURE_REFUSED,
    FAILURE_UNKNOWN,
    AlicloudError,
    OutcomeUnknown,
    from_sdk_exception,
)
from ansible_collections.alicloud.oos.plugins.module_utils.instance_power import was_applied
from ansible_collections.alicloud.oos.plugins.module_utils.retries import RetryPolicy, is_permanent, time_budget

from test_client_layer_retries import FakeTransport, sdk_error


def reset():
    return ConnectionResetError(104, "Connection reset by peer")


# ---- the table -------------------------------------------------------------------------------------

def test_client_token_claims_match_the_api_docs():
    for api in mutating_apis.MUTATING_APIS:
        if api.product in ("ecs", "oos"):  # the products whose API docs the generated table covers
            assert api.client_token == products.accepts_client_token(api.product, api.action), api.action


def test_every_mutating_call_of_the_collection_is_in_the_table():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[4]
    called = set()
    for path in list((root / "plugins").rglob("*.py")) + list((root / "roles").rglob("*.yml")):
        text = path.read_text()
        called |= set(re.findall(r'\.call(?:_roa)?\(\s*"([A-Z][A-Za-z]+)"', text))
        called |= set(re.findall(r"\bapi: ([A-Z][A-Za-z]+)", text))           # roles, module examples
        called |= set(re.findall(r'"api": "([A-Z][A-Za-z]+)"', text))         # the converter's mappings
    called |= {"StartInstances", "StopInstances", "RebootInstances"}  # instance_power names them in a dict
    mutating = {a for a in called if not products.is_read_only(a)}
    assert mutating <= {a.action for a in mutating_apis.MUTATING_APIS}, mutating


@pytest.mark.parametrize("action, kwargs, policy", [
    ("DescribeInstances", {}, mutating_apis.RETRY),
    ("RunCommand", {"client_token": True}, mutating_apis.RETRY),
    ("StopInstances", {}, mutating_apis.RETRY),                       # harmless
    ("StopInstances", {"read_back": True}, mutating_apis.READ_BACK),  # the caller reads back instead
    ("RebootInstances", {}, mutating_apis.FAIL),
    ("TagResources", {}, mutating_apis.FAIL),                         # unknown
    ("TagResources", {"idempotent": True}, mutating_apis.RETRY),      # declared harmless by the user
])
def test_lost_answer_policy(action, kwargs, policy):
    assert mutating_apis.lost_answer_policy("ecs", action, **kwargs) == policy


# ---- the client after a lost answer ----------------------------------------------------------------

def test_unknown_mutating_action_is_not_repeated_and_says_how_to_check():
    client = FakeTransport([reset(), {"RequestId": "never"}])
    with pytest.raises(OutcomeUnknown) as info:
        client.call("TagResources", {"ResourceType": "instance", "ResourceId": ["i-1"]})
    assert len(client.sent) == 1 and info.value.cause.failure == FAILURE_UNKNOWN
    assert "Check with the matching Describe" in str(info.value) and "idempotent: true" in str(info.value)


def test_read_back_caller_gets_outcome_unknown_even_for_a_harmless_action():
    client = FakeTransport([sdk_error("ServiceUnavailable", 503), {"RequestId": "never"}])
    with pytest.raises(OutcomeUnknown):
        client.call("StopInstances", {"InstanceId": ["i-1"]}, read_back=True)
    assert len(client.sent) == 1


def test_harmless_repeat_whose_answer_says_done_is_a_success():
    client = FakeTransport([reset(), sdk_error("InvalidInstanceId.NotFound", 404)])
    body = client.call("DeleteInstance", {"InstanceId": "i-1", "Force": True})
    assert body["RequestId"] == "R" and len(client.sent) == 2


def test_harmless_repeat_that_fails_names_the_lost_answer():
    client = FakeTransport([reset(), sdk_error("IncorrectInstanceStatus", 403)])
    with pytest.raises(AlicloudError) as info:
        client.call("InstallCloudAssistant", {"InstanceId": ["i-1"]})
    assert info.value.code == "IncorrectInstanceStatus" and "an earlier attempt's answer was lost" in str(info.value)


def test_harmless_repeat_answered_with_a_done_code_is_the_lost_call_s_doing():
    client = FakeTransport([reset(), sdk_error("IncorrectInstanceStatus", 403)])
    assert client.call("StopInstance", {"InstanceId": "i-1"})["RequestId"] == "R" and len(client.sent) == 2


def test_throttling_after_a_lost_answer_is_still_retried():
    client = FakeTransport([reset(), sdk_error("Throttling.User", 400), sdk_error("InvalidInstanceId.NotFound", 404)])
    assert client.call("DeleteInstance", {"InstanceId": "i-1"})["RequestId"] == "R" and len(client.sent) == 3


def test_read_whose_answer_was_lost_reports_its_own_error_plainly():
    client = FakeTransport([reset(), sdk_error("InvalidInstanceId.NotFound", 404)])
    with pytest.raises(AlicloudError) as info:
        client.call("DescribeInstanceAttribute", {"InstanceId": "i-1"})
    assert "answer was lost" not in str(info.value)


def test_client_token_call_is_repeated_with_the_same_token():
    client = FakeTransport([reset(), reset(), {"RequestId": "ok", "InvokeId": "t-1"}])
    assert client.call("RunCommand", {"InstanceId": ["i-1"], "CommandContent": "true"})["InvokeId"] == "t-1"
    assert len({q["ClientToken"] for _unused, q in client.sent}) == 1 and len(client.sent) == 3


# ---- causes in words ----------------------------------------------------------------------------------

class Wrapped(Exception):
    """What the SDK raises: the transport error as ``inner_exception``."""

    def __init__(self, inner):
        super().__init__("wrapped")
        self.inner_exception = inner


def chained(error, outer=OSError("HTTPSConnectionPool: Max retries exceeded")):
    try:
        raise outer from error
    except OSError as exc:
        return Wrapped(exc)


def test_https_to_a_plain_http_port():
    tls = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    tls.reason = "WRONG_VERSION_NUMBER"
    error = from_sdk_exception(chained(tls), "ecs", "DescribeRegions", url="https://127.0.0.1:8080")
    assert error.failure == FAILURE_CONNECTION and is_permanent(error)
    assert "does not answer TLS" in str(error) and "http://127.0.0.1:8080" in str(error)


def test_certificate_that_does_not_verify():
    bad = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    bad.verify_message = "self-signed certificate"
    error = from_sdk_exception(chained(bad), url="https://gw.example:443")
    assert error.failure == FAILURE_CONNECTION and "self-signed certificate" in str(error)
    assert "validate_certs" in str(error)


@pytest.mark.parametrize("code, failure", [(socket.EAI_NONAME, FAILURE_CONNECTION), (socket.EAI_AGAIN, FAILURE_NOT_SENT)])
def test_dns_failure_is_final_unless_temporary(code, failure):
    error = from_sdk_exception(chained(socket.gaierror(code, "name lookup")), url="https://ecs.cn-x.aliyuncs.com")
    assert error.failure == failure


def test_refused_connection_is_retried_briefly_and_not_at_all_on_loopback():
    error = from_sdk_exception(chained(ConnectionRefusedError(111, "Connection refused")), url="http://10.0.0.1:80")
    assert error.failure == FAILURE_REFUSED and "refused the connection" in str(error)
    policy = RetryPolicy()
    assert time_budget(error, "127.0.0.1:8080", policy) == 0 and time_budget(error, "[::1]:80", policy) == 0
    assert 0 < time_budget(error, "10.0.0.1:80", policy) <= 10


def test_no_credentials_is_not_a_network_error():
    class CredentialException(Exception):
        message = "unable to load credentials from any of the providers in the chain"

    error = from_sdk_exception(Wrapped(CredentialException()))
    assert (error.code, error.failure) == ("MissingCredentials", FAILURE_CREDENTIALS)
    assert "ALICLOUD_ACCESS_KEY" in str(error)


@pytest.mark.parametrize("http_code, failure", [("403", FAILURE_CREDENTIALS), ("503", FAILURE_NOT_SENT)])
def test_assume_role_failure_is_final_unless_sts_is_down(http_code, failure):
    class CredentialException(Exception):
        message = f"error refreshing credentials from ram_role_arn, http_code: {http_code}, result: {{}}"

    error = from_sdk_exception(Wrapped(CredentialException()))
    assert error.failure == failure and "ram_role_arn" in str(error) and "no Alibaba Cloud credentials" not in str(error)


@pytest.mark.parametrize("code, words", [
    ("SignatureDoesNotMatch", "The AccessKeySecret is incorrect"),
    ("InvalidAccessKeyId.NotFound", "The AccessKey ID LTAIkey does not exist"),
    ("InvalidSecurityToken.Expired", "security token has expired"),
    ("InvalidTimeStamp.Expired", "clock of this machine"),
])
def test_credential_errors_in_words_without_secrets(code, words):
    from alibabacloud_tea_openapi.exceptions import ClientException

    exc = ClientException(code=code, status_code=400, request_id="RID", message=f"{code} string to sign TOPSECRET",
                          data={"Code": code, "RequestId": "RID", "Message": "server string to sign is: TOPSECRET"})
    error = from_sdk_exception(exc, "ecs", "DescribeRegions", redact=("TOPSECRET",), access_key_id="LTAIkey")
    assert words in str(error) and "TOPSECRET" not in str(error) and "string to sign" not in str(error)
    assert error.code == code and error.failure == FAILURE_CREDENTIALS and is_permanent(error)


# ---- read-backs and derived tokens ---------------------------------------------------------------------

@pytest.mark.parametrize("action, before, after, applied", [
    ("stop", {"status": "Running"}, {"status": "Stopping"}, True),
    ("stop", {"status": "Running"}, {"status": "Running"}, False),
    ("start", {"status": "Stopped"}, {"status": "Running"}, True),
    ("start", {"status": "Stopped"}, {"status": "Stopped"}, False),
    ("reboot", {"status": "Running", "start_time": "t1"}, {"status": "Starting", "start_time": ""}, True),
    ("reboot", {"status": "Running", "start_time": "t1"}, {"status": "Running", "start_time": "t2"}, True),
    ("reboot", {"status": "Running", "start_time": "t1"}, {"status": "Running", "start_time": "t1"}, False),
])
def test_was_applied(action, before, after, applied):
    assert was_applied(action, before, after) is applied


def test_derived_token_is_stable_and_moves_past_a_gone_resource():
    first = derive_client_token("oos-image-", ["cn-hangzhou", "web"])
    assert first == derive_client_token("oos-image-", ["cn-hangzhou", "web"]) and len(first) <= 64
    after = derive_client_token("oos-image-", ["cn-hangzhou", "web"], gone="m-1")
    assert after != first and after == derive_client_token("oos-image-", ["cn-hangzhou", "web"], gone="m-1")
    assert after != derive_client_token("oos-image-", ["cn-hangzhou", "web"], gone="m-2")
