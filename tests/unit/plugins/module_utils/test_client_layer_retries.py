"""Retry classification, backoff bounds, and the client's retry/paging loops over a fake transport."""
from __future__ import annotations

import random

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_NOT_SENT,
    FAILURE_UNKNOWN,
    AlicloudError,
    OutcomeUnknown,
    from_sdk_exception,
)
from ansible_collections.alicloud.oos.plugins.module_utils.retries import RetryPolicy, is_retryable


def api_error(code, status):
    return AlicloudError("x", code=code, http_status=status)


@pytest.mark.parametrize("error, safe, expected", [
    (api_error("Throttling.User", 400), False, True),
    (api_error("Throttling", 400), False, True),
    (api_error("ServiceUnavailable", 503), True, True),
    (api_error("ServiceUnavailable", 503), False, False),
    (api_error("InternalError", 500), True, True),
    (api_error("InvalidInstanceId.NotFound", 404), True, False),
    (api_error("IncorrectInstanceStatus", 403), True, False),
    (AlicloudError("refused", failure=FAILURE_NOT_SENT), False, True),
    (AlicloudError("reset", failure=FAILURE_UNKNOWN), False, False),
    (AlicloudError("reset", failure=FAILURE_UNKNOWN), True, True),
])
def test_is_retryable(error, safe, expected):
    assert is_retryable(error, safe) is expected


def test_delay_is_jittered_exponential_and_bounded():
    policy = RetryPolicy(base_delay=1, max_delay=8)
    rng = random.Random(7)
    for n in range(1, 8):
        ceiling = min(8, 2 ** (n - 1))
        for _unused in range(20):
            assert ceiling / 2 <= policy.delay(n, rng=rng) <= ceiling
    assert policy.delay(1, retry_after=5, rng=rng) >= 5


def test_sdk_exception_mapping_and_secret_redaction():
    from alibabacloud_tea_openapi.exceptions import ClientException

    exc = ClientException(code="InvalidAccessKeyId.NotFound", status_code=404, request_id="RID",
                          message="code: 404, Specified access key is not found. TOPSECRET request id: RID",
                          data={"Code": "InvalidAccessKeyId.NotFound", "RequestId": "RID",
                                "Message": "Specified access key is not found. TOPSECRET"})
    error = from_sdk_exception(exc, "ecs", "DescribeInstances", redact=("TOPSECRET",))
    assert (error.code, error.http_status, error.request_id) == ("InvalidAccessKeyId.NotFound", 404, "RID")
    assert "TOPSECRET" not in str(error) and "TOPSECRET" not in repr(error.to_dict())
    assert error.to_dict()["error"]["action"] == "DescribeInstances"


class FakeTransport(AlicloudClient):
    """AlicloudClient whose HTTP send is scripted: each answer is a body dict or an exception."""

    def __init__(self, answers, product="ecs", **kwargs):
        auth = resolve_auth({"access_key": "id", "secret_key": "secret", "region": "cn-hangzhou",
                             "api_retry_delay": 0.001}, {})
        super().__init__(auth, product, sleep=lambda s: None, **kwargs)
        self.answers = list(answers)
        self.sent = []

    def _send(self, action, query, method):
        self.sent.append((action, dict(query)))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"body": answer, "headers": {}, "statusCode": 200}


def sdk_error(code, status):
    from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

    cls = ServerException if status >= 500 else ClientException
    return cls(code=code, status_code=status, request_id="R", message=code, data={"Code": code, "RequestId": "R"})


def test_throttled_mutating_call_is_retried():
    client = FakeTransport([sdk_error("Throttling.User", 400), sdk_error("Throttling", 400), {"RequestId": "ok"}])
    assert client.call("StopInstance", {"InstanceId": "i-1"})["RequestId"] == "ok"
    assert client.attempts == 3 and client.request_ids == ["ok"]


def test_503_on_mutating_call_that_is_not_harmless_to_repeat_is_not_repeated():
    client = FakeTransport([sdk_error("ServiceUnavailable", 503), {"RequestId": "never"}])
    with pytest.raises(OutcomeUnknown) as info:
        client.call("RebootInstance", {"InstanceId": "i-1"})
    assert info.value.cause.code == "ServiceUnavailable" and len(client.sent) == 1
    assert "may or may not have been applied" in str(info.value) and "StartTime" in str(info.value)


def test_503_on_client_token_call_is_retried_with_the_same_token():
    client = FakeTransport([sdk_error("ServiceUnavailable", 503), sdk_error("InternalError", 500), {"RequestId": "ok"}])
    client.call("RunCommand", {"InstanceId": ["i-1"], "Type": "RunShellScript", "CommandContent": "true"})
    tokens = {query["ClientToken"] for _unused, query in client.sent}
    assert len(client.sent) == 3 and len(tokens) == 1 and tokens != {None}


def test_503_on_idempotent_or_read_only_call_is_retried():
    client = FakeTransport([sdk_error("ServiceUnavailable", 503), {"RequestId": "ok"}])
    client.call("StopInstances", {"InstanceId": ["i-1"]}, idempotent=True)
    client = FakeTransport([sdk_error("ServiceUnavailable", 503), {"RequestId": "ok"}])
    client.call("DescribeInstances")
    assert len(client.sent) == 2


def test_attempts_are_bounded():
    client = FakeTransport([sdk_error("Throttling", 400)] * 5, retry=RetryPolicy(attempts=3, base_delay=0.001))
    with pytest.raises(AlicloudError) as info:
        client.call("DescribeInstances")
    assert len(client.sent) == 3 and info.value.details["attempts"] == 3


def test_region_id_is_added_unless_given():
    client = FakeTransport([{"RequestId": "a"}, {"RequestId": "b"}])
    client.call("DescribeInstances")
    client.call("DescribeInstances", {"RegionId": "cn-shanghai"})
    assert [q["RegionId"] for _unused, q in client.sent] == ["cn-hangzhou", "cn-shanghai"]


def page(number, size, total, ids):
    return {"RequestId": f"r{number}", "PageNumber": number, "PageSize": size, "TotalCount": total,
            "Instances": {"Instance": [{"InstanceId": i} for i in ids]}}


def test_paginate_page_number_style_uses_the_api_maximum():
    client = FakeTransport([page(1, 100, 250, range(100)), page(2, 100, 250, range(100, 200)),
                            page(3, 100, 250, range(200, 250))])
    body, pages = client.paginate("DescribeInstances")
    assert pages == 3
    assert [i["InstanceId"] for i in body["Instances"]["Instance"]] == list(range(250))
    assert [q.get("PageNumber") for _unused, q in client.sent] == [None, "2", "3"]
    assert {q["PageSize"] for _unused, q in client.sent} == {"100"}


def test_paginate_next_token_style_merges_top_level_lists():
    answers = [{"RequestId": "a", "NextToken": "t1", "Executions": [1, 2]},
               {"RequestId": "b", "NextToken": "t2", "Executions": [3]},
               {"RequestId": "c", "NextToken": "", "Executions": [4]}]
    client = FakeTransport(answers, product="oos")
    body, pages = client.paginate("ListExecutions", {"MaxResults": 2})
    assert pages == 3 and body["Executions"] == [1, 2, 3, 4] and body["NextToken"] == ""
    assert [q.get("NextToken") for _unused, q in client.sent] == [None, "t1", "t2"]
