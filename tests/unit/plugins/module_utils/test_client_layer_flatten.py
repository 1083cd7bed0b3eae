"""Parameter flattening must match the SDK byte for byte, except the JSON parameters the API docs name."""
from __future__ import annotations

import pytest
from alibabacloud_tea_openapi.utils import Utils

from ansible_collections.alicloud.oos.plugins.module_utils.client import find_list_paths, flatten_parameters
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError

SAMPLES = [
    {"RegionId": "cn-hangzhou", "PageSize": 100},
    {"InstanceId": ["i-1", "i-2", "i-3"]},
    {"Tag": [{"Key": "env", "Value": "prod test"}, {"Key": "team", "Value": "ops"}]},
    {"DryRun": True, "ForceStop": False, "Amount": 3, "Ratio": 1.5},
    {"Filter": {"Name": "x", "Values": ["a", "b"]}, "Skip": None},
    {"Nested": [[1, 2], [3]]},
]


@pytest.mark.parametrize("params", SAMPLES)
def test_flatten_matches_the_sdk(params):
    assert flatten_parameters(params) == Utils.query(params)


def test_booleans_are_sent_as_the_sdk_sends_them():
    assert flatten_parameters({"DryRun": True}) == {"DryRun": "True"}


def test_json_parameters_are_json_encoded_for_known_actions():
    flat = flatten_parameters({"Parameters": {"regionId": "cn-hangzhou", "ids": ["i-1"]}, "Tags": {"k": "v"},
                               "TemplateName": "t"}, "oos", "StartExecution")
    assert flat == {"Parameters": '{"regionId":"cn-hangzhou","ids":["i-1"]}', "Tags": '{"k":"v"}', "TemplateName": "t"}
    ecs = flatten_parameters({"InstanceIds": ["i-1", "i-2"], "Tag": [{"Key": "a", "Value": "b"}]}, "ecs", "DescribeInstances")
    assert ecs == {"InstanceIds": '["i-1","i-2"]', "Tag.1.Key": "a", "Tag.1.Value": "b"}


def test_json_parameter_given_as_string_passes_through():
    assert flatten_parameters({"InstanceIds": '["i-1"]'}, "ecs", "DescribeInstances") == {"InstanceIds": '["i-1"]'}


def test_unknown_action_flattens_everything():
    assert flatten_parameters({"Parameters": {"a": 1}}, "ros", "CreateStack") == {"Parameters.a": "1"}


@pytest.mark.parametrize("bad", [["RegionId", "cn-hangzhou"], "RegionId=cn-hangzhou", 3])
def test_non_dict_parameters_name_the_option_and_the_fix(bad):
    with pytest.raises(AlicloudInputError) as info:
        flatten_parameters(bad)
    assert info.value.field == "parameters"
    assert "must be a dict" in str(info.value)


def test_find_list_paths_finds_wrapped_and_top_level_lists():
    body = {"RequestId": "r", "Instances": {"Instance": []}, "Executions": [], "Invocation": {"InvocationResults": {"InvocationResult": []}}}
    assert sorted(find_list_paths(body)) == [("Executions",), ("Instances", "Instance"),
                                             ("Invocation", "InvocationResults", "InvocationResult")]


@pytest.mark.parametrize("name", ["Instance Id", "", " ", "Id\n", "Region/Id", 3])
def test_a_parameter_name_no_api_has_is_refused_naming_it(name):
    """Sent, such a name makes the service answer a signature mismatch that blames the AccessKey secret."""
    with pytest.raises(AlicloudInputError) as info:
        flatten_parameters({name: "x"})
    assert info.value.field == "parameters" and repr(name) in info.value.message


def test_nested_keys_are_data_and_pass_as_given():
    assert flatten_parameters({"Tag": [{"Key": "acs:owner", "Value": "Red Hat"}]}) == {
        "Tag.1.Key": "acs:owner", "Tag.1.Value": "Red Hat"}


@pytest.mark.parametrize("key", ["a/b", "a b", "a*b", "a=b", "a&b"])
def test_a_nested_key_that_becomes_no_parameter_name_is_refused_before_sending(key):
    """Found by the #13 review: such nested keys were flattened into names the service cannot verify, and it
    answered SignatureDoesNotMatch, blaming the AccessKey secret."""
    with pytest.raises(AlicloudInputError) as info:
        flatten_parameters({"Jp": {key: "x"}, "Tag": [{"Key": "k", "Value": "v w"}]})
    assert info.value.field == "parameters" and repr(f"Jp.{key}") in info.value.message


@pytest.mark.parametrize("params, named", [({"Jp": {"a.b": 1, "a": {"b": 2}}}, "Jp.a.b"),
                                           ({"Jp": {"": 1}}, "Jp."), ({"Jp": {"a": {"": {"": 3}}}}, "Jp.a..")])
def test_nested_keys_that_collide_or_are_empty_are_refused_naming_them(params, named):
    """Found by the third #13 review: one of two values for one name was lost; empty keys were sent."""
    with pytest.raises(AlicloudInputError) as info:
        flatten_parameters(params)
    assert info.value.field == "parameters" and repr(named) in info.value.message
