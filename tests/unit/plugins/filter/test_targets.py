"""Unit tests for the filters targets_to_filters, targets_to_pattern and hosts_to_targets."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.filter.targets import (
    FilterModule, hosts_to_targets, targets_to_filters, targets_to_pattern)
from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import default_group_names


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"targets_to_filters", "targets_to_pattern", "hosts_to_targets"}


def test_targets_to_filters():
    assert targets_to_filters({"Type": "Tags", "Tags": [{"Key": "Env", "Value": "dev"}], "RegionId": "cn-hangzhou"}) \
        == {"tags": {"Env": "dev"}}


@pytest.mark.parametrize("targets,pattern", [
    ({"Type": "ResourceIds", "ResourceIds": ["i-1", "i-2"]}, "i-1,i-2"),
    ({"Type": "ResourceIds", "ResourceIds": ["i-1"], "RegionId": "cn-hangzhou"}, "i-1,&region_cn_hangzhou"),
    ({"Type": "Tags", "Tags": [{"Key": "Env", "Value": "dev"}]}, "tag_Env_dev"),
    ({"Type": "Tags", "Tags": {"Env": "dev", "app-name": "web.1"}, "RegionId": "cn-shanghai"},
     "tag_Env_dev:&tag_app_name_web_1:&region_cn_shanghai"),
    ({"Type": "ResourceGroup", "ResourceGroupId": "rg-aek2"}, "resource_group_rg_aek2"),
    ({"Type": "All"}, "all"),
    ({"Type": "All", "RegionId": "cn-hangzhou"}, "region_cn_hangzhou"),
])
def test_targets_to_pattern(targets, pattern):
    assert targets_to_pattern(targets) == pattern


def test_pattern_names_the_groups_the_inventory_creates():
    """The pattern of a Tags target is made of group names the inventory gives a matching host."""
    host = {"instance_id": "i-1", "region_id": "cn-shanghai", "zone_id": "cn-shanghai-b", "status": "Running",
            "tags": {"Env": "dev", "app-name": "web.1"}}
    pattern = targets_to_pattern({"Type": "Tags", "Tags": {"Env": "dev", "app-name": "web.1"}, "RegionId": "cn-shanghai"})
    assert {p.lstrip("&") for p in pattern.split(":")} <= set(default_group_names(host))


def test_bad_targets_raise_a_filter_error_naming_the_field():
    with pytest.raises(AnsibleFilterError, match=r"targets_to_pattern: targets.ResourceIds: .*at least one instance id"):
        targets_to_pattern({"Type": "ResourceIds", "ResourceIds": []})
    with pytest.raises(AnsibleFilterError, match="targets_to_filters: targets.Type"):
        targets_to_filters({"Type": "Nope"})


def test_hosts_to_targets():
    assert hosts_to_targets(["i-1", "i-2", "i-1"]) == {"Type": "ResourceIds", "ResourceIds": ["i-1", "i-2"]}
    hostvars = [{"instance_id": "i-1", "region_id": "cn-hangzhou"}, {"instance_id": "i-2", "region_id": "cn-hangzhou"}]
    assert hosts_to_targets(hostvars) == {"Type": "ResourceIds", "ResourceIds": ["i-1", "i-2"], "RegionId": "cn-hangzhou"}
    assert hosts_to_targets("i-9", region="cn-beijing") == {"Type": "ResourceIds", "ResourceIds": ["i-9"],
                                                            "RegionId": "cn-beijing"}
    # Round trip: the targets resolve back to the same filter.
    assert targets_to_filters(hosts_to_targets(hostvars)) == {"InstanceIds": ["i-1", "i-2"]}


def test_hosts_to_targets_errors():
    with pytest.raises(AnsibleFilterError, match="2 regions"):
        hosts_to_targets([{"instance_id": "i-1", "region_id": "a-1"}, {"instance_id": "i-2", "region_id": "b-1"}])
    with pytest.raises(AnsibleFilterError, match="no instance id"):
        hosts_to_targets(["web-1"])
    with pytest.raises(AnsibleFilterError, match="non-empty list"):
        hosts_to_targets([])
