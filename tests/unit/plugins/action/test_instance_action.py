"""Unit tests of the request-id attribution and task-environment helpers of plugin_utils/call_recorder.py and plugin_utils/instance_action.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.plugin_utils.call_recorder import CallRecorder
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_action import (
    InstanceActionBase,
    environment_variant,
    option_seconds,
)


class AnsweringClient:
    """Answers each call with the next canned body, recording request ids like AlicloudClient."""

    region = "cn-hangzhou"

    def __init__(self, bodies):
        self.bodies = list(bodies)
        self.request_ids = []

    def call(self, action, params=None, **kwargs):
        body = self.bodies.pop(0)
        self.request_ids.append(body["RequestId"])
        return body


def test_each_instance_gets_the_request_ids_of_the_calls_that_concerned_it():
    client = CallRecorder(AnsweringClient([
        {"RequestId": "R-describe", "Instances": {"Instance": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}},
        {"RequestId": "R-stop-1", "InstanceResponses": {"InstanceResponse": []}},
        {"RequestId": "R-image"},                      # names no instance: it served all of them
        {"RequestId": "R-poll-2", "Instances": {"Instance": [{"InstanceId": "i-2", "Status": "Stopped"}]}},
    ]))
    client.call("DescribeInstances", {"InstanceIds": '["i-1", "i-2"]'})
    client.call("StopInstances", {"InstanceId": ["i-1"]})
    client.call("DescribeImages", {"ImageName": "web"})
    client.call("DescribeInstances", {"InstanceIds": '["i-2"]'})
    assert client.request_ids_for("i-1") == ["R-describe", "R-stop-1", "R-image"]
    assert client.request_ids_for("i-2") == ["R-describe", "R-image", "R-poll-2"]
    assert client.request_ids == ["R-describe", "R-stop-1", "R-image", "R-poll-2"]
    assert client.region == "cn-hangzhou"  # everything else is the wrapped client's


def test_calls_made_around_the_recorder_serve_every_instance():
    inner = AnsweringClient([{"RequestId": "R-1", "Instances": {"Instance": [{"InstanceId": "i-1"}]}}])
    client = CallRecorder(inner)
    client.call("DescribeInstances", {})
    inner.request_ids.append("R-paginated")  # e.g. a paginate() of the wrapped client
    assert client.request_ids_for("i-1") == ["R-1", "R-paginated"]
    assert client.request_ids_for("i-9") == ["R-paginated"]


class IdentityTemplar:
    def template(self, value):
        return value


def action_with_environment(environment):
    action = InstanceActionBase.__new__(InstanceActionBase)
    action._task = SimpleNamespace(environment=environment)
    return action


def test_task_environment_merges_levels_in_order():
    action = action_with_environment([{"ALICLOUD_REGION": "cn-hangzhou", "OTHER": 1},
                                      {"ALICLOUD_REGION": "cn-shanghai", "UNSET": None}])
    assert action.task_environment(IdentityTemplar()) == {"ALICLOUD_REGION": "cn-shanghai", "OTHER": "1"}
    # Ansible hands the action an already templated mapping for the current host.
    assert action_with_environment({"ALICLOUD_REGION": "cn-beijing"}).task_environment(IdentityTemplar()) == \
        {"ALICLOUD_REGION": "cn-beijing"}
    assert action_with_environment(None).task_environment(IdentityTemplar()) == {}


def test_an_environment_that_is_not_a_mapping_is_one_clear_error_without_its_value():
    action = action_with_environment(["ALICLOUD_SECRET_KEY=s3cr3t"])
    with pytest.raises(AlicloudInputError) as caught:
        action.task_environment(IdentityTemplar())
    assert caught.value.field == "environment" and "s3cr3t" not in str(caught.value)


def test_environment_variant_names_account_endpoint_and_region_never_secrets():
    base = {"ALICLOUD_ACCESS_KEY": "LTAI1", "ALICLOUD_REGION": "cn-hangzhou", "PATH": "/bin"}
    assert environment_variant(base) == environment_variant(dict(base, PATH="/usr/bin", ALICLOUD_SECRET_KEY="x"))
    assert environment_variant(base) != environment_variant(dict(base, ALICLOUD_REGION="cn-shanghai"))
    assert environment_variant(base) != environment_variant(dict(base, ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI2"))


@pytest.mark.parametrize("value,expected", [(None, 60), ("", 60), ("120", 120), (30, 30), ("soon", 60)])
def test_option_seconds_before_validation(value, expected):
    assert option_seconds(value, 60) == expected
