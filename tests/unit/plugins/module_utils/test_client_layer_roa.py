"""ROA-style ExecuteAPI options (uri, method, body, headers) and wait_for.stop_retry_values, before anything is sent."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import products
from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient, roa_headers, roa_path
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.execute_api import parse_request
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import WaitFailed, wait_for

ENDPOINT = "http://127.0.0.1:9"


def request(**options):
    return parse_request(options, region="cn-hangzhou", endpoint=ENDPOINT)


def input_error(**options) -> AlicloudInputError:
    with pytest.raises(AlicloudInputError) as info:
        request(**options)
    return info.value


def test_cs_is_a_roa_product_in_the_table():
    assert products.resolve_endpoint("CS", "cn-beijing") == ("cs.cn-beijing.aliyuncs.com", "https", "2015-12-15")
    assert products.api_style("cs") == "ROA" and products.api_style("ack") == "ROA"
    assert products.api_style("ecs") == "RPC" and products.api_style("unlisted") is None


def test_uri_selects_roa_with_get_as_the_default_method():
    parsed = request(service="CS", api="DescribeClusterDetail", uri="/clusters/c1",
                     headers={"Content-Type": "application/json"}, parameters={"detail": True})
    assert parsed.roa and parsed.method == "GET" and parsed.read_only
    assert parsed.headers == {"content-type": "application/json"}
    rpc = request(service="ecs", api="DescribeInstances")
    assert not rpc.roa and rpc.method == "POST" and rpc.read_only


def test_roa_read_only_follows_the_http_method_not_the_name():
    assert not request(service="cs", api="DescribeClusterNodes", method="POST", uri="/clusters/c1/nodes",
                       body={"nodes": ["n1"]}).read_only
    assert request(service="cs", api="DescribeTaskInfo", method="GET", uri="/tasks/T-1").read_only


@pytest.mark.parametrize("options, field, text", [
    ({"service": "cs", "api": "DescribeClusterDetail", "uri": "clusters/c1"}, "uri", "must start with '/'"),
    ({"service": "cs", "api": "GetBucketAcl", "uri": "?acl"}, "uri", "?acl"),
    ({"service": "oss", "api": "GetBucketAcl", "uri": "?acl", "version": "2019-05-17"}, "service", "oos_execution"),
    ({"service": "cs", "api": "DescribeClusterDetail"}, "uri", "CS APIs are ROA style"),
    ({"service": "ecs", "api": "DescribeInstances", "uri": "/instances"}, "uri", "ECS APIs are RPC style"),
    ({"service": "ecs", "api": "DescribeInstances", "body": {"a": 1}}, "body", "only for ROA calls"),
    ({"service": "ecs", "api": "DescribeInstances", "headers": {"x": "1"}}, "headers", "only for ROA calls"),
    ({"service": "ecs", "api": "StopInstance", "method": "PUT"}, "method", "only for ROA calls"),
    ({"service": "cs", "api": "X", "uri": "/x", "method": "TRACE"}, "method", "GET, POST, PUT, DELETE, PATCH"),
    ({"service": "cs", "api": "X", "uri": "/x", "body": {"a": 1}}, "body", "not sent with GET"),
    ({"service": "cs", "api": "X", "uri": "/x", "method": "PUT", "body": "{a: 1"}, "body", "not JSON text"),
    ({"service": "cs", "api": "X", "uri": "/x", "method": "PUT", "body": 3}, "body", "dict, a list or JSON text"),
    ({"service": "cs", "api": "X", "uri": "/x", "headers": {"X-Acs-Date": "now"}}, "headers.X-Acs-Date", "signed"),
    ({"service": "cs", "api": "X", "uri": "/x", "headers": ["a"]}, "headers", "must be a dict"),
    ({"service": "cs", "api": "X", "uri": "/x", "headers": {"a": "b\nc"}}, "headers.a", "single line"),
    ({"service": "cs", "api": "X", "uri": "/x", "list_path": "clusters"}, "list_path", "not paged"),
    ({"service": "cs", "api": "X", "uri": "/x", "method": "PUT",
      "wait_for": {"property_selector": ".a", "desired_values": ["b"]}}, "wait_for", "PUT /x"),
    ({"service": "cs", "api": "X", "uri": "/x",
      "wait_for": {"property_selector": ".a", "desired_values": ["b"], "stop_retry_values": {"a": 1}}},
     "wait_for.stop_retry_values", "list"),
])
def test_bad_roa_input_names_the_option(options, field, text):
    error = input_error(**options)
    assert error.field == field and text in error.message, (error.field, error.message)


def test_paths_are_encoded_like_the_sdk_and_query_parts_split_off():
    assert roa_path("/clusters/c-1/nodes") == ("/clusters/c-1/nodes", [])
    assert roa_path("/topics/my topic/messages?x=1&y=") == ("/topics/my%20topic/messages", [("x", "1"), ("y", "")])
    assert roa_path("/a/ü~")[0] == "/a/%C3%BC~"


def test_headers_are_lower_cased_and_none_dropped():
    assert roa_headers({"Content-Type": "application/json", "X-Flag": True, "Skip": None}) == \
        {"content-type": "application/json", "x-flag": "true"}


def test_prepare_roa_merges_uri_query_and_parameters():
    auth = resolve_auth({"access_key": "ak", "secret_key": "sk", "region": "cn-hangzhou", "endpoint": ENDPOINT},
                        environ={})
    client = AlicloudClient(auth, "cs")
    prepared = client.prepare_roa("DescribeClusterNodes", "/clusters/c1/nodes?pageSize=10", "GET",
                                  {"instanceIds": "i-1,i-2", "nodepool": {"id": "np"}})
    assert prepared["pathname"] == "/clusters/c1/nodes"
    assert prepared["query"] == {"pageSize": "10", "instanceIds": "i-1,i-2", "nodepool.id": "np"}
    assert "RegionId" not in prepared["query"] and "ClientToken" not in prepared["query"]
    with pytest.raises(AlicloudInputError) as info:
        client.prepare_roa("X", "/x?a=1", "GET", {"a": "2"})
    assert info.value.field == "parameters"
    assert client.attempts == 0


def _poll(spec, *responses):
    """Run the waiter over canned responses, as execute_api does, without sleeping."""
    answers = iter(responses)
    return wait_for(lambda: next(answers), spec["property_selector"], spec.get("desired_values"),
                    spec.get("not_desired_values"), retries=len(responses) - 1, delay=0, sleep=lambda _: None,
                    stop_retry_values=spec.get("stop_retry_values"))


def test_stop_retry_values_fail_at_once_and_only_on_a_match():
    spec = request(service="cs", api="DescribeTaskInfo", uri="/tasks/T-1",
                   wait_for={"property_selector": ".state", "desired_values": ["success"],
                             "stop_retry_values": ["fail"]}).wait_for
    assert spec["stop_retry_values"] == ["fail"] and spec["desired_values"] == ["success"]
    assert _poll(spec, {"state": "running"}, {}, {"state": "success"}).attempts == 3
    with pytest.raises(WaitFailed) as info:
        _poll(spec, {"state": "running"}, {"state": "running"}, {"state": "fail"}, {"state": "success"})
    assert info.value.code == "StopRetryValue" and info.value.attempts == 3 and "fail" in str(info.value)
    booleans = request(service="cs", api="X", uri="/x", wait_for={
        "property_selector": ".on", "desired_values": [True], "stop_retry_values": [False]}).wait_for
    with pytest.raises(WaitFailed):
        _poll(booleans, {"on": False}, {"on": True})


def test_not_desired_values_alone_wait_until_none_is_seen():
    """OOS WaitFor with only NotDesiredValues (ACS::ECS::RemoveEipFromCommonBandwidthPackage waits on [[]])."""
    spec = request(service="ecs", api="DescribeEipAddresses",
                   wait_for={"property_selector": ".EipAddresses.EipAddress", "not_desired_values": [[]]}).wait_for
    done = _poll(spec, {"EipAddresses": {"EipAddress": []}}, {"EipAddresses": {"EipAddress": [{"IpAddress": "1.2.3.4"}]}})
    assert done.attempts == 2
    with pytest.raises(WaitFailed) as info:
        _poll(spec, {"EipAddresses": {"EipAddress": []}}, {"EipAddresses": {"EipAddress": []}})
    assert info.value.code == "WaitRetriesExhausted"


def test_plural_names_of_repeat_lists_are_sent_as_the_documented_parameter():
    from ansible_collections.alicloud.oos.plugins.module_utils.client import flatten_parameters

    # As OOS templates write them: ACS::ECS::RunCommand, and TagResources in the public templates.
    assert flatten_parameters({"InstanceIds": ["i-1", "i-2"]}, "ecs", "RunCommand") == {
        "InstanceId.1": "i-1", "InstanceId.2": "i-2"}
    assert flatten_parameters({"ResourceIds": ["i-1"], "Tags": [{"Key": "k", "Value": "v"}]}, "ECS",
                              "TagResources") == {"ResourceId.1": "i-1", "Tag.1.Key": "k", "Tag.1.Value": "v"}
    # Real parameters keep their names: DescribeInstances InstanceIds is JSON, RunInstances SecurityGroupIds.N.
    assert flatten_parameters({"InstanceIds": ["i-1"]}, "ecs", "DescribeInstances") == {"InstanceIds": '["i-1"]'}
    assert flatten_parameters({"SecurityGroupIds": ["sg-1"]}, "ecs", "RunInstances") == {"SecurityGroupIds.1": "sg-1"}
    assert flatten_parameters({"InstanceIds": "i-1"}, "ecs", "RunCommand") == {"InstanceIds": "i-1"}
    assert flatten_parameters({"InstanceIds": ["i-1"]}) == {"InstanceIds.1": "i-1"}  # no product: no table
