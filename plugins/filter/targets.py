# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OOS Targets <-> the ``alicloud.oos.ecs`` inventory: targets_to_filters, targets_to_pattern, hosts_to_targets.

Documentation: the sidecar files targets_to_filters.yml, targets_to_pattern.yml, hosts_to_targets.yml.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import (
    TAGS_FILTER, filters_from_targets, region_from_targets)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.plain_data import plain
from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import sanitize_group_name, tag_group_name


def _filter_error(name: str, error: AlicloudInputError) -> AnsibleFilterError:
    return AnsibleFilterError(f"{name}: {error.field}: {error.message}")


def targets_to_filters(targets):
    """OOS Targets -> inventory/DescribeInstances filters (the ``filters`` of ``alicloud.oos.ecs``)."""
    try:
        return filters_from_targets(plain(targets))
    except AlicloudInputError as error:
        raise _filter_error("targets_to_filters", error) from None


def targets_to_pattern(targets):
    """OOS Targets -> a host pattern over the default groups of the ``alicloud.oos.ecs`` inventory.

    ResourceIds -> the instance ids (hosts are named by instance id by default); Tags -> the
    intersection of the ``tag_<Key>_<Value>`` groups; ResourceGroup -> ``resource_group_<id>``;
    All -> ``all``. A RegionId narrows the pattern to ``region_<id>``.
    """
    try:
        targets = plain(targets)
        filters = filters_from_targets(targets)
        region = region_from_targets(targets)
    except AlicloudInputError as error:
        raise _filter_error("targets_to_pattern", error) from None
    if "InstanceIds" in filters:
        parts = list(filters["InstanceIds"])
        if region:
            return ",".join(parts) + f",&{sanitize_group_name('region_' + region)}"
        return ",".join(parts)
    groups = []
    if filters.get("ResourceGroupId"):
        groups.append(sanitize_group_name(f"resource_group_{filters['ResourceGroupId']}"))
    for key, value in filters.get(TAGS_FILTER, {}).items():
        groups.append(tag_group_name(key, value))
    if region:
        groups.append(sanitize_group_name(f"region_{region}"))
    if not groups:
        return "all"
    return ":".join([groups[0]] + [f"&{g}" for g in groups[1:]])


def hosts_to_targets(hosts, region=None):
    """Instance ids, or host variable mappings of the inventory, -> ``{Type: ResourceIds, ...}``."""
    if isinstance(hosts, (str, Mapping)):
        hosts = [hosts]
    if not isinstance(hosts, (list, tuple)) or not hosts:
        raise AnsibleFilterError("hosts_to_targets: give a non-empty list of instance ids or of host variables "
                                 "(for example ansible_play_hosts | map('extract', hostvars))")
    ids, regions = [], set()
    for index, host in enumerate(hosts):
        if isinstance(host, Mapping):
            # Read only the two keys: hostvars mappings template every value they are asked for.
            instance_id = host.get("instance_id")
            host_region = host.get("region_id")
            if host_region:
                regions.add(str(host_region))
        else:
            instance_id = host
        if not isinstance(instance_id, str) or not instance_id.startswith("i-"):
            shown = instance_id if isinstance(host, Mapping) else host
            raise AnsibleFilterError(f"hosts_to_targets: entry {index} has no instance id (i-...): {shown!r}; "
                                     "pass instance ids or host variables that contain instance_id")
        instance_id = str(instance_id)
        if instance_id not in ids:
            ids.append(instance_id)
    if region is None and len(regions) > 1:
        raise AnsibleFilterError(f"hosts_to_targets: the hosts are in {len(regions)} regions ({', '.join(sorted(regions))}) "
                                 "but Targets names one region: group them by region_id first")
    targets = {"Type": "ResourceIds", "ResourceIds": ids}
    region = str(region) if region else (regions.pop() if regions else None)
    if region:
        targets["RegionId"] = region
    return targets


class FilterModule:
    def filters(self):
        return {
            "targets_to_filters": targets_to_filters,
            "targets_to_pattern": targets_to_pattern,
            "hosts_to_targets": hosts_to_targets,
        }
