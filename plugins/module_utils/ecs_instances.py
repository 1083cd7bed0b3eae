# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ECS instances does a filter, or an OOS ``Targets`` value, mean?

One implementation for the inventory plugin, the instance modules (``targets`` option) and the
filter plugins: user-facing filters are validated before any request, DescribeInstances is paged
at 100 instances per call, and every instance is normalized to the inventory's hostvar names.
"""
from __future__ import annotations

import json

from ansible_collections.alicloud.oos.plugins.module_utils import paging
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError

PAGE_SIZE = 100          # DescribeInstances maximum page size
MAX_IDS_PER_CALL = 100   # InstanceIds / *IpAddresses JSON arrays hold at most 100 entries
MAX_TAGS = 20            # Tag.N with N <= 20
STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")

# User-facing filter key -> DescribeInstances parameter, for plain string filters.
STRING_FILTERS = {
    "Status": "Status",
    "VpcId": "VpcId",
    "VSwitchId": "VSwitchId",
    "ZoneId": "ZoneId",
    "InstanceName": "InstanceName",
    "InstanceType": "InstanceType",
    "ImageId": "ImageId",
    "SecurityGroupId": "SecurityGroupId",
    "ResourceGroupId": "ResourceGroupId",
}
# Filters that DescribeInstances takes as a JSON array string of at most 100 entries.
LIST_FILTERS = ("InstanceIds", "PrivateIpAddresses", "PublicIpAddresses", "EipAddresses")
TAGS_FILTER = "tags"
FILTER_KEYS = tuple(STRING_FILTERS) + LIST_FILTERS + (TAGS_FILTER,)

# OOS Targets
TARGET_TYPES = ("ResourceIds", "Tags", "ResourceGroup", "All")
TARGET_KEYS = ("Type", "ResourceIds", "Tags", "ResourceGroupId", "RegionId")

# Keys of an instance record (normalize_instance): module results and, with ``tags`` exposed as
# ``ecs_tags`` (``tags`` is reserved by ansible-core), the host variables of the alicloud.oos.ecs inventory.
HOSTVAR_NAMES = ("instance_id", "instance_name", "host_name", "region_id", "zone_id", "status", "instance_type",
                 "os_type", "os_name", "private_ip", "public_ip", "eip", "vpc_id", "vswitch_id",
                 "security_group_ids", "resource_group_id", "tags", "image_id", "creation_time", "start_time")


# --------------------------------------------------------------------------------------------------
# filters -> DescribeInstances parameters

def _valid_keys_message() -> str:
    return ", ".join(FILTER_KEYS)


def validate_filters(filters, field_name: str = "filters") -> dict:
    """Check user-facing filters; returns a normalized copy. Raises AlicloudInputError."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise AlicloudInputError(field_name, f"{field_name} must be a mapping such as {{Status: Running, tags: {{Env: dev}}}}, "
                                 f"got {type(filters).__name__}")
    normalized = {}
    for key, value in filters.items():
        where = f"{field_name}.{key}"
        if key in STRING_FILTERS:
            if value is None or value == "":
                continue
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise AlicloudInputError(where, f"{where} must be a string, got {type(value).__name__}")
            value = str(value)
            if key == "Status" and value not in STATUSES:
                match = {s.lower(): s for s in STATUSES}.get(value.lower())
                if match is None:
                    raise AlicloudInputError(where, f"{where} is {value!r}; use one of {', '.join(STATUSES)}")
                value = match
            normalized[key] = value
        elif key in LIST_FILTERS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
                raise AlicloudInputError(where, f"{where} must be a list of non-empty strings")
            if not value:
                raise AlicloudInputError(where, f"{where} is an empty list: list at least one value or remove the filter")
            normalized[key] = list(dict.fromkeys(value))
        elif key == TAGS_FILTER:
            normalized[key] = _validate_tags(value, where)
        else:
            hint = ""
            lowered = {k.lower(): k for k in FILTER_KEYS}
            if str(key).lower() in lowered:
                hint = f" (did you mean {lowered[str(key).lower()]}?)"
            raise AlicloudInputError(where, f"unknown filter key {key!r}{hint}; valid keys are {_valid_keys_message()}")
    chunked = [k for k in LIST_FILTERS if len(normalized.get(k, ())) > MAX_IDS_PER_CALL]
    if len(chunked) > 1:
        raise AlicloudInputError(field_name, f"{field_name}: only one of {', '.join(chunked)} may hold more than "
                                 f"{MAX_IDS_PER_CALL} values")
    return normalized


def _validate_tags(value, where: str) -> dict:
    if isinstance(value, list):
        # OOS style [{Key: k, Value: v}] is accepted too.
        value = tags_list_to_dict(value, where)
    if not isinstance(value, dict):
        raise AlicloudInputError(where, f"{where} must be a mapping of tag key to value, such as {{Env: dev}}")
    if not value:
        # An empty selection would select every instance of the region.
        raise AlicloudInputError(where, f"{where} is empty: give at least one tag, such as {{Env: dev}}, or remove it")
    if len(value) > MAX_TAGS:
        raise AlicloudInputError(where, f"{where} has {len(value)} tags; DescribeInstances accepts at most {MAX_TAGS}")
    tags = {}
    for key, tag_value in value.items():
        if not isinstance(key, str) or not key:
            raise AlicloudInputError(where, f"{where} has an empty or non-string tag key {key!r}")
        if isinstance(tag_value, bool) or (tag_value is not None and not isinstance(tag_value, (str, int, float))):
            raise AlicloudInputError(f"{where}.{key}", f"{where}.{key} must be a string (or null to match any value)")
        if tag_value == "":
            raise AlicloudInputError(f"{where}.{key}", f"{where}.{key} is an empty string: give the value to match, or null "
                                     "to match any value of the key")
        tags[key] = None if tag_value is None else str(tag_value)
    return tags


def tags_list_to_dict(tags, where: str = "tags") -> dict:
    """``[{Key: k, Value: v}]`` (OOS/API request form) -> ``{k: v}``."""
    result = {}
    for index, item in enumerate(tags):
        if not isinstance(item, dict) or "Key" not in item:
            raise AlicloudInputError(f"{where}[{index}]", f"{where}[{index}] must be a mapping with Key and Value")
        result[item["Key"]] = item.get("Value")
    return result


def describe_params(filters: dict) -> list:
    """Validated filters -> the DescribeInstances parameter sets (one per 100-value chunk)."""
    params = {STRING_FILTERS[k]: v for k, v in filters.items() if k in STRING_FILTERS}
    for index, (key, value) in enumerate(filters.get(TAGS_FILTER, {}).items(), start=1):
        params[f"Tag.{index}.Key"] = key
        if value is not None:
            params[f"Tag.{index}.Value"] = value
    chunk_key = next((k for k in LIST_FILTERS if len(filters.get(k, ())) > MAX_IDS_PER_CALL), None)
    for key in LIST_FILTERS:
        if key in filters and key != chunk_key:
            params[key] = json.dumps(filters[key])
    if chunk_key is None:
        return [params]
    values = filters[chunk_key]
    return [dict(params, **{chunk_key: json.dumps(values[i:i + MAX_IDS_PER_CALL])})
            for i in range(0, len(values), MAX_IDS_PER_CALL)]


# --------------------------------------------------------------------------------------------------
# DescribeInstances

def _collection(value, inner: str) -> list:
    """``{"IpAddress": [..]}`` -> list (also tolerates a bare list or a missing value)."""
    if isinstance(value, dict):
        value = value.get(inner)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(values) -> str | None:
    return next((v for v in values if v), None)


def instance_tags(raw) -> dict:
    """API ``{"Tag": [{"TagKey","TagValue"}]}`` (or a plain map) -> ``{key: value}``."""
    if isinstance(raw, dict) and "Tag" not in raw:
        return {str(k): v for k, v in raw.items()}
    tags = {}
    for item in _collection(raw, "Tag"):
        if isinstance(item, dict):
            key = item.get("TagKey", item.get("Key"))
            if key is not None:
                tags[key] = item.get("TagValue", item.get("Value", ""))
    return tags


def normalize_instance(raw: dict) -> dict:
    """One DescribeInstances ``Instance`` -> an instance record (snake_case names; the inventory's host
    variables, except that the inventory exposes ``tags`` as ``ecs_tags``)."""
    vpc = raw.get("VpcAttributes") or {}
    private_ips = _collection(vpc.get("PrivateIpAddress"), "IpAddress") or _collection(raw.get("InnerIpAddress"), "IpAddress")
    if not private_ips:
        interfaces = _collection(raw.get("NetworkInterfaces"), "NetworkInterface")
        private_ips = [i.get("PrimaryIpAddress") for i in interfaces if isinstance(i, dict)]
    eip = raw.get("EipAddress") or {}
    eip_address = eip.get("IpAddress") if isinstance(eip, dict) else eip
    return {
        "instance_id": raw.get("InstanceId"),
        "instance_name": raw.get("InstanceName") or None,
        "host_name": raw.get("HostName") or None,
        "region_id": raw.get("RegionId"),
        "zone_id": raw.get("ZoneId") or None,
        "status": raw.get("Status"),
        "instance_type": raw.get("InstanceType") or None,
        "os_type": raw.get("OSType") or None,
        "os_name": raw.get("OSName") or None,
        "private_ip": _first(private_ips),
        "public_ip": _first(_collection(raw.get("PublicIpAddress"), "IpAddress")),
        "eip": eip_address or None,
        "vpc_id": vpc.get("VpcId") or None,
        "vswitch_id": vpc.get("VSwitchId") or None,
        "security_group_ids": [g for g in _collection(raw.get("SecurityGroupIds"), "SecurityGroupId") if g],
        "resource_group_id": raw.get("ResourceGroupId") or None,
        "tags": instance_tags(raw.get("Tags")),
        "image_id": raw.get("ImageId") or None,
        "creation_time": raw.get("CreationTime") or None,
        "start_time": raw.get("StartTime") or None,
    }


def describe_raw_pages(client, params: dict, page_workers: int = 1):
    """Yield the instance list of each DescribeInstances page (PageSize 100), in page order.

    N instances cost ceil(N/100) calls (one call when there are none): the first page's TotalCount says how
    many pages follow; with ``page_workers`` > 1 they are fetched concurrently (the client must be safe to
    share between threads).
    """
    def items_of(body):
        return _collection(body.get("Instances"), "Instance"), body.get("TotalCount")

    for _unused, page in paging.pages(client, "DescribeInstances", dict(params, PageNumber=1), items_of, page_size=PAGE_SIZE,
                                      page_workers=page_workers):
        yield page


def describe_instances(client, filters: dict | None = None, field_name: str = "filters", page_workers: int = 1) -> list:
    """DescribeInstances in the client's region with user-facing ``filters``, normalized.

    Bad filters raise AlicloudInputError before any request. Instances are returned once each,
    in API order. ``page_workers``: see describe_raw_pages.
    """
    validated = validate_filters(filters, field_name)
    instances = {}
    for params in describe_params(validated):
        for page in describe_raw_pages(client, params, page_workers):
            for raw in page:
                if isinstance(raw, dict) and raw.get("InstanceId"):
                    instances.setdefault(raw["InstanceId"], normalize_instance(raw))
    return list(instances.values())


# --------------------------------------------------------------------------------------------------
# OOS Targets

def _targets_mapping(targets, field_name: str) -> dict:
    if isinstance(targets, str):
        try:
            targets = json.loads(targets)
        except ValueError:
            raise AlicloudInputError(field_name, f"{field_name} is a string that is not JSON: give a mapping such as "
                                     "{Type: ResourceIds, ResourceIds: [i-...]}") from None
    if isinstance(targets, list):
        # SelectTargets takes Filters: ['{{ targets }}']: a one-element list is the same target.
        if len(targets) != 1:
            raise AlicloudInputError(field_name, f"{field_name} is a list of {len(targets)} targets; give exactly one "
                                     "target mapping such as {Type: Tags, Tags: [{Key: Env, Value: dev}]}")
        targets = targets[0]
    if not isinstance(targets, dict) or not targets:
        raise AlicloudInputError(field_name, f"{field_name} must be a non-empty mapping with Type "
                                 f"({', '.join(TARGET_TYPES)}), such as {{Type: ResourceIds, ResourceIds: [i-...]}}")
    unknown = sorted(str(k) for k in targets if k not in TARGET_KEYS)
    if unknown:
        raise AlicloudInputError(field_name, f"{field_name} has unknown key(s) {', '.join(unknown)}; "
                                 f"valid keys are {', '.join(TARGET_KEYS)}")
    return targets


def _target_tags(value, where: str) -> dict:
    if isinstance(value, dict):
        tags = value
    elif isinstance(value, list):
        tags = tags_list_to_dict(value, where)
    else:
        raise AlicloudInputError(where, f"{where} must be a list of {{Key, Value}} or a mapping {{key: value}}")
    if not tags:
        raise AlicloudInputError(where, f"{where} is empty: give at least one tag, such as [{{Key: Env, Value: dev}}]")
    return _validate_tags(tags, where)


def filters_from_targets(targets, field_name: str = "targets") -> dict:
    """An OOS Targets value -> user-facing DescribeInstances filters (see describe_instances).

    ``RegionId`` in the target is not a filter: read it with region_from_targets().
    """
    data = _targets_mapping(targets, field_name)
    target_type = data.get("Type")
    if target_type is None:
        # Tolerate the type being implied by the only selector present.
        implied = [t for t, k in (("ResourceIds", "ResourceIds"), ("Tags", "Tags"), ("ResourceGroup", "ResourceGroupId"))
                   if k in data]
        if len(implied) != 1:
            raise AlicloudInputError(f"{field_name}.Type", f"{field_name}.Type is missing; use one of {', '.join(TARGET_TYPES)}")
        target_type = implied[0]
    if target_type not in TARGET_TYPES:
        raise AlicloudInputError(f"{field_name}.Type", f"{field_name}.Type is {target_type!r}; use one of {', '.join(TARGET_TYPES)}")

    if target_type == "ResourceIds":
        ids = data.get("ResourceIds")
        where = f"{field_name}.ResourceIds"
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids:
            raise AlicloudInputError(where, f"{where} is empty or missing: list at least one instance id (i-...)")
        if not all(isinstance(i, str) and i.strip() for i in ids):
            raise AlicloudInputError(where, f"{where} must hold non-empty instance id strings, got {ids!r}")
        extra = sorted(k for k in ("Tags", "ResourceGroupId") if k in data)
        if extra:
            raise AlicloudInputError(field_name, f"{field_name} of Type ResourceIds cannot also set {', '.join(extra)}")
        return {"InstanceIds": list(dict.fromkeys(i.strip() for i in ids))}

    if target_type == "Tags":
        if "ResourceIds" in data:
            raise AlicloudInputError(field_name, f"{field_name} of Type Tags cannot also set ResourceIds")
        filters = {TAGS_FILTER: _target_tags(data.get("Tags"), f"{field_name}.Tags")}
        if data.get("ResourceGroupId"):
            filters["ResourceGroupId"] = str(data["ResourceGroupId"])
        return filters

    if target_type == "ResourceGroup":
        group = data.get("ResourceGroupId")
        where = f"{field_name}.ResourceGroupId"
        if not isinstance(group, str) or not group.strip():
            raise AlicloudInputError(where, f"{where} is missing: give the resource group id (rg-...)")
        filters = {"ResourceGroupId": group.strip()}
        if data.get("Tags"):
            filters[TAGS_FILTER] = _target_tags(data["Tags"], f"{field_name}.Tags")
        return filters

    # All: every instance of the region.
    extra = sorted(k for k in ("ResourceIds", "Tags", "ResourceGroupId") if k in data)
    if extra:
        raise AlicloudInputError(field_name, f"{field_name} of Type All cannot also set {', '.join(extra)}")
    return {}


def region_from_targets(targets, field_name: str = "targets") -> str | None:
    """The ``RegionId`` a Targets value names, or None."""
    region = _targets_mapping(targets, field_name).get("RegionId")
    if region is None or region == "":
        return None
    if not isinstance(region, str):
        raise AlicloudInputError(f"{field_name}.RegionId", f"{field_name}.RegionId must be a region id string such as cn-hangzhou")
    return region


def resolve_targets(client, targets, field_name: str = "targets", allow_empty: bool = False) -> list:
    """The instances an OOS Targets value means, in the client's region.

    Raises AlicloudInputError for malformed targets (before any request), for ResourceIds that do
    not exist, and (unless ``allow_empty``) for a Tags/ResourceGroup target that matches no instance.
    """
    filters = filters_from_targets(targets, field_name)
    region = region_from_targets(targets, field_name)
    client_region = getattr(client, "region", None)
    if region and client_region and region != client_region:
        raise AlicloudInputError(f"{field_name}.RegionId", f"{field_name}.RegionId is {region} but the request goes to "
                                 f"{client_region}: set the region option to {region} or remove RegionId")
    instances = describe_instances(client, filters, field_name)
    where = client_region or "the region"
    if "InstanceIds" in filters:
        found = {i["instance_id"] for i in instances}
        missing = [i for i in filters["InstanceIds"] if i not in found]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise AlicloudInputError(f"{field_name}.ResourceIds", f"{field_name}.ResourceIds: instance(s) not found in "
                                     f"{where}: {shown}")
        order = {iid: n for n, iid in enumerate(filters["InstanceIds"])}
        instances.sort(key=lambda i: order[i["instance_id"]])
    elif not instances and filters and not allow_empty:
        raise AlicloudInputError(field_name, f"{field_name} matches no instance in {where} ({describe_filters(filters)})")
    return instances


def describe_filters(filters: dict) -> str:
    """Short human text for filters, for error messages."""
    parts = []
    for key, value in filters.items():
        if key == TAGS_FILTER:
            parts.extend(f"tag {k}={v}" if v is not None else f"tag {k}" for k, v in value.items())
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "no filter"
