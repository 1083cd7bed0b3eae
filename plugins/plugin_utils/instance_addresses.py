# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which instance is a host known only by its IP address? 100 addresses per DescribeInstances call,
private addresses first, the answers cached for the run."""
from __future__ import annotations

import ipaddress
import os

from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.plugin_utils.batch_cache import digest, read_json, write_json, file_lock


def looks_like_ip(value) -> bool:
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def resolve_ips(client, ips: list, root: str | None, timeout: float = 600) -> dict:
    """``{ip: instance id}`` for the addresses that belong to an instance of the client's region.

    Private addresses first, then public ones, 100 addresses per DescribeInstances call. The mapping
    is cached for the run in ``root`` (shared by every worker and task), so each address costs one
    lookup per run.
    """
    region = getattr(client, "region", None) or "default"
    found = {}
    wanted = list(dict.fromkeys(str(ip) for ip in ips))
    if root is None:
        return _describe_ips(client, wanted)
    # One map per region, endpoint and account: a task environment may point elsewhere.
    account = (getattr(getattr(client, "endpoint", None), "host", None),
               getattr(getattr(client, "auth", None), "access_key", None))
    path = os.path.join(root, f"ipmap-{digest(region, account)}.json")
    with file_lock(path + ".lock", timeout):
        cached = read_json(path) or {}
        missing = [ip for ip in wanted if ip not in cached]
        if missing:
            resolved = _describe_ips(client, missing)
            for ip in missing:
                cached[ip] = resolved.get(ip)  # None: known not to match, not asked again
            write_json(path, cached)
    for ip in wanted:
        if cached.get(ip):
            found[ip] = cached[ip]
    return found


def _describe_ips(client, ips: list) -> dict:
    found = {}
    for filter_name, attribute in (("PrivateIpAddresses", "private_ip"), ("PublicIpAddresses", "public_ip")):
        remaining = [ip for ip in ips if ip not in found]
        if not remaining:
            break
        for instance in describe_instances(client, {filter_name: remaining}):
            if instance.get(attribute) in remaining:
                found[instance[attribute]] = instance["instance_id"]
    return found
