"""Unit tests for plugins/module_utils/ecs_instances.py: filters, paging, normalization, OOS Targets.

``FakeEcs`` stands in for the cloud (the DescribeInstances API), not for our client layer: it
answers ``call(action, params)`` the way the real API pages and filters.
"""
from __future__ import annotations

import json
import math

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import (
    FILTER_KEYS, HOSTVAR_NAMES, describe_instances, describe_params, filters_from_targets, normalize_instance,
    region_from_targets, resolve_targets, validate_filters)


def raw_instance(n, region="cn-hangzhou", status="Running", tags=None, public=True):
    return {
        "InstanceId": f"i-{region[-3:]}{n:06d}", "InstanceName": f"web-{n}", "HostName": f"web-{n}",
        "Status": status, "RegionId": region, "ZoneId": f"{region}-g", "InstanceType": "ecs.g6.large",
        "OSType": "linux", "OSName": "Alibaba Cloud Linux 3", "ImageId": "m-abc", "CreationTime": "2024-01-01T00:00Z",
        "ResourceGroupId": "rg-1",
        "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1", "PrivateIpAddress": {"IpAddress": [f"172.16.0.{n % 250}"]}},
        "PublicIpAddress": {"IpAddress": [f"47.0.0.{n % 250}"] if public else []},
        "EipAddress": {"AllocationId": "", "IpAddress": "", "Bandwidth": 0},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-1", "sg-2"]},
        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in (tags or {}).items()]},
    }


class FakeEcs:
    """DescribeInstances with PageNumber/PageSize/TotalCount, InstanceIds, Status and Tag.N filters."""

    def __init__(self, instances, region="cn-hangzhou"):
        self.instances = instances
        self.region = region
        self.calls = []

    def call(self, action, params=None, method="POST", **_):
        assert action == "DescribeInstances"
        self.calls.append(dict(params))
        params = params or {}
        assert 1 <= int(params["PageSize"]) <= 100
        selected = self.instances
        if "InstanceIds" in params:
            ids = json.loads(params["InstanceIds"])
            assert len(ids) <= 100
            selected = [i for i in selected if i["InstanceId"] in ids]
        if "Status" in params:
            selected = [i for i in selected if i["Status"] == params["Status"]]
        n = 1
        while f"Tag.{n}.Key" in params:
            key, value = params[f"Tag.{n}.Key"], params.get(f"Tag.{n}.Value")
            selected = [i for i in selected if any(t["TagKey"] == key and (value is None or t["TagValue"] == value)
                                                   for t in i["Tags"]["Tag"])]
            n += 1
        size, page = int(params["PageSize"]), int(params["PageNumber"])
        chunk = selected[(page - 1) * size: page * size]
        return {"RequestId": "R", "TotalCount": len(selected), "PageNumber": page, "PageSize": size,
                "Instances": {"Instance": chunk}}


@pytest.mark.parametrize("page_workers", [1, 4])
@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 1000])
def test_paging_costs_ceil_n_over_100_calls(count, page_workers):
    ecs = FakeEcs([raw_instance(n) for n in range(count)])
    instances = describe_instances(ecs, {}, page_workers=page_workers)
    assert [i["instance_id"] for i in instances] == [f"i-hou{n:06d}" for n in range(count)]  # API order
    assert len(ecs.calls) == max(1, math.ceil(count / 100))
    assert all(c["PageSize"] == 100 for c in ecs.calls)


def test_normalized_hostvars():
    instance = normalize_instance(raw_instance(7, region="cn-shanghai", tags={"Env": "dev", "Name": "web"}))
    assert set(HOSTVAR_NAMES) <= set(instance)
    assert instance["region_id"] == "cn-shanghai"          # the region, not the zone
    assert instance["zone_id"] == "cn-shanghai-g"
    assert instance["tags"] == {"Env": "dev", "Name": "web"}
    assert instance["private_ip"] == "172.16.0.7" and instance["public_ip"] == "47.0.0.7"
    assert instance["eip"] is None                           # empty string means no EIP
    assert instance["security_group_ids"] == ["sg-1", "sg-2"]
    assert instance["vpc_id"] == "vpc-1" and instance["vswitch_id"] == "vsw-1"
    assert instance["os_type"] == "linux" and instance["creation_time"] == "2024-01-01T00:00Z"


def test_missing_public_ip_is_none():
    assert normalize_instance(raw_instance(1, public=False))["public_ip"] is None


def test_filters_become_api_parameters():
    (params,) = describe_params(validate_filters({"Status": "running", "VpcId": "vpc-1",
                                                  "tags": {"Env": "dev", "Team": None},
                                                  "InstanceIds": ["i-1", "i-2", "i-1"]}))
    assert params["Status"] == "Running"
    assert params["VpcId"] == "vpc-1"
    assert params["Tag.1.Key"] == "Env" and params["Tag.1.Value"] == "dev"
    assert params["Tag.2.Key"] == "Team" and "Tag.2.Value" not in params
    assert json.loads(params["InstanceIds"]) == ["i-1", "i-2"]


def test_more_than_100_ids_are_chunked():
    ecs = FakeEcs([raw_instance(n) for n in range(250)])
    ids = [f"i-hou{n:06d}" for n in range(250)]
    instances = describe_instances(ecs, {"InstanceIds": ids})
    assert len(instances) == 250
    assert len(ecs.calls) == 3
    assert all(len(json.loads(c["InstanceIds"])) <= 100 for c in ecs.calls)


def test_tag_filter_is_applied():
    fleet = [raw_instance(n, tags={"Env": "dev" if n % 2 else "prod"}) for n in range(20)]
    ecs = FakeEcs(fleet)
    assert {i["tags"]["Env"] for i in describe_instances(ecs, {"tags": {"Env": "dev"}})} == {"dev"}


@pytest.mark.parametrize("filters,field,words", [
    ({"Colour": "red"}, "filters.Colour", ["unknown filter key", "valid keys are", "Status"]),
    ({"status": "Running"}, "filters.status", ["did you mean Status"]),
    ({"Status": "Sleeping"}, "filters.Status", ["Pending, Running"]),
    ({"InstanceIds": []}, "filters.InstanceIds", ["empty list"]),
    ({"InstanceIds": [1, 2]}, "filters.InstanceIds", ["list of non-empty strings"]),
    ({"tags": ["Env"]}, "filters.tags[0]", ["Key and Value"]),
    ({"tags": {"Env": ["a"]}}, "filters.tags.Env", ["string"]),
    ({"tags": {f"k{n}": "v" for n in range(21)}}, "filters.tags", ["at most 20"]),
    ("Status=Running", "filters", ["mapping"]),
])
def test_bad_filters_fail_before_any_request(filters, field, words):
    ecs = FakeEcs([raw_instance(1)])
    with pytest.raises(AlicloudInputError) as info:
        describe_instances(ecs, filters)
    assert info.value.field == field
    for word in words:
        assert word in str(info.value)
    assert ecs.calls == []


def test_every_documented_filter_key_is_accepted():
    sample = {k: (["x"] if k.endswith(("Ids", "Addresses")) else {"k": "v"} if k == "tags" else "Running")
              for k in FILTER_KEYS}
    validate_filters(sample)


# ---------------------------------------------------------------------------------------------- targets

@pytest.mark.parametrize("targets,expected", [
    ({"Type": "ResourceIds", "ResourceIds": ["i-1", "i-2"], "RegionId": "cn-hangzhou"}, {"InstanceIds": ["i-1", "i-2"]}),
    ({"Type": "Tags", "Tags": [{"Key": "Env", "Value": "dev"}]}, {"tags": {"Env": "dev"}}),
    ({"Type": "Tags", "Tags": {"Env": "dev", "Role": "web"}}, {"tags": {"Env": "dev", "Role": "web"}}),
    ({"Type": "ResourceGroup", "ResourceGroupId": "rg-1"}, {"ResourceGroupId": "rg-1"}),
    ({"Type": "ResourceGroup", "ResourceGroupId": "rg-1", "Tags": [{"Key": "Env", "Value": "dev"}]},
     {"ResourceGroupId": "rg-1", "tags": {"Env": "dev"}}),
    ({"Type": "All", "RegionId": "cn-hangzhou"}, {}),
    ('{"Type": "ResourceIds", "ResourceIds": ["i-9"]}', {"InstanceIds": ["i-9"]}),
    ([{"Type": "ResourceIds", "ResourceIds": ["i-9"]}], {"InstanceIds": ["i-9"]}),
])
def test_filters_from_targets(targets, expected):
    assert filters_from_targets(targets) == expected


def test_region_from_targets():
    assert region_from_targets({"Type": "All", "RegionId": "cn-beijing"}) == "cn-beijing"
    assert region_from_targets({"Type": "All"}) is None


@pytest.mark.parametrize("targets,field,words", [
    ({"Type": "ResourceIds", "ResourceIds": []}, "targets.ResourceIds", ["at least one instance id"]),
    ({"Type": "ResourceIds", "ResourceIds": [""]}, "targets.ResourceIds", ["non-empty"]),
    ({"Type": "Tags", "Tags": []}, "targets.Tags", ["at least one tag"]),
    ({"Type": "Tags", "Tags": "Env=dev"}, "targets.Tags", ["Key, Value"]),
    ({"Type": "ResourceGroup"}, "targets.ResourceGroupId", ["rg-"]),
    ({"Type": "Everything"}, "targets.Type", ["ResourceIds, Tags, ResourceGroup, All"]),
    ({"ResourceIds": ["i-1"], "Tags": {"a": "b"}}, "targets.Type", ["missing"]),
    ({"Type": "ResourceIds", "ResourceIds": ["i-1"], "Filters": 1}, "targets", ["unknown key", "Filters"]),
    ({}, "targets", ["non-empty mapping"]),
    ("{oops", "targets", ["not JSON"]),
    ([{"Type": "All"}, {"Type": "All"}], "targets", ["exactly one"]),
])
def test_bad_targets(targets, field, words):
    with pytest.raises(AlicloudInputError) as info:
        filters_from_targets(targets)
    assert info.value.field == field
    for word in words:
        assert word in str(info.value)


def test_resolve_targets_by_ids_keeps_the_given_order():
    ecs = FakeEcs([raw_instance(n) for n in range(5)])
    ids = ["i-hou000003", "i-hou000001"]
    assert [i["instance_id"] for i in resolve_targets(ecs, {"Type": "ResourceIds", "ResourceIds": ids})] == ids


def test_resolve_targets_unknown_id_is_named():
    ecs = FakeEcs([raw_instance(n) for n in range(3)])
    with pytest.raises(AlicloudInputError) as info:
        resolve_targets(ecs, {"Type": "ResourceIds", "ResourceIds": ["i-hou000001", "i-nope"]})
    assert info.value.field == "targets.ResourceIds"
    assert "i-nope" in str(info.value) and "i-hou000001" not in str(info.value)


def test_resolve_targets_tags_matching_nothing():
    ecs = FakeEcs([raw_instance(n, tags={"Env": "prod"}) for n in range(3)])
    with pytest.raises(AlicloudInputError, match="matches no instance in cn-hangzhou .*tag Env=dev"):
        resolve_targets(ecs, {"Type": "Tags", "Tags": [{"Key": "Env", "Value": "dev"}]})


def test_resolve_targets_region_mismatch_sends_nothing():
    ecs = FakeEcs([raw_instance(1)])
    with pytest.raises(AlicloudInputError) as info:
        resolve_targets(ecs, {"Type": "All", "RegionId": "cn-beijing"})
    assert info.value.field == "targets.RegionId" and ecs.calls == []


def test_resolve_targets_tags():
    fleet = [raw_instance(n, tags={"Env": "dev" if n < 3 else "prod"}) for n in range(10)]
    found = resolve_targets(FakeEcs(fleet), {"Type": "Tags", "Tags": {"Env": "dev"}})
    assert len(found) == 3


def test_rebooted_reboots_running_instances_and_refuses_stopped_ones_as_reboot_instance_does():
    from ansible_collections.alicloud.oos.plugins.module_utils import instance_power
    assert instance_power.action_for("Running", "rebooted") == "reboot"
    assert instance_power.action_for("Stopped", "rebooted") == "refuse"
    assert instance_power.action_for("Stopped", "restarted") == "start"
    assert instance_power.plan({"i-1": "Running", "i-2": "Stopped"}, "rebooted") == ["i-1", "i-2"]
