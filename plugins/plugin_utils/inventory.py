# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side logic of the ``alicloud.oos.ecs`` inventory, kept apart from the plugin class so
it can be unit tested: loading a fleet from several regions at once, host names, default groups.
"""
from __future__ import annotations

import contextlib
import functools
import re
from concurrent.futures import ThreadPoolExecutor

from ansible.inventory.group import to_safe_group_name

from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import (
    HOSTVAR_NAMES, describe_instances, validate_filters)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_CREDENTIALS, AlicloudError, AlicloudInputError)

TAG_PREFIX = "tag:"
DEFAULT_HOSTNAMES = ("instance_id",)
DEFAULT_ANSIBLE_HOST = ("public_ip", "eip", "private_ip")
# Hostvars that can name a host or be its ansible_host: single strings only.
NAME_SOURCES = tuple(n for n in HOSTVAR_NAMES if n not in ("security_group_ids", "tags"))
# Record keys exposed under another host variable name. ``tags`` is reserved by ansible-core
# (ansible.vars.reserved): a host variable of that name warns on every playbook run.
HOSTVAR_RENAMES = {"tags": "ecs_tags"}
REGION_ID = re.compile(r"^[a-z]{2,4}(-[a-z0-9]+)+$")
# API error codes that mean "this region id is wrong", not "this region is having trouble".
BAD_REGION_CODES = ("InvalidRegionId.NotFound", "InvalidRegionId.Malformed", "InvalidRegionId")
# Codes that mean "these credentials cannot read this account": the same answer in every region.
CREDENTIAL_CODE_PREFIXES = ("InvalidAccessKeyId", "InvalidAccessKeySecret", "SignatureDoesNotMatch",
                            "IncompleteSignature", "InvalidSecurityToken", "InvalidTimeStamp", "Forbidden",
                            "NoPermission", "InvalidCredentials")
MAX_REGION_WORKERS = 8
PAGE_WORKERS = 4   # concurrent DescribeInstances pages per region once the first page gave TotalCount


NAME_ENTRY_KEYS = ("name", "prefix", "separator")


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)


def _value_source(entry, option: str, where: str, allow_literal: bool = False):
    """``instance -> str | None`` for a host variable name or ``tag:KEY`` (with ``allow_literal``, any other
    text is itself the value, as a ``hostnames`` prefix may be in amazon.aws aws_ec2)."""
    if not isinstance(entry, str) or not entry:
        raise AlicloudInputError(option, f"{where} must be a non-empty string, got {entry!r}")
    if entry.startswith(TAG_PREFIX):
        key = entry[len(TAG_PREFIX):]
        if not key:
            raise AlicloudInputError(option, f"{where} {entry!r} needs a tag key, such as tag:Name")
        return lambda instance: _text((instance.get("tags") or {}).get(key))
    if entry in NAME_SOURCES:
        return lambda instance: _text(instance.get(entry))
    if allow_literal:
        return lambda instance: entry
    raise AlicloudInputError(option, f"{where} {entry!r} is unknown; use one of {', '.join(NAME_SOURCES)} or tag:KEY")


def _composed_source(entry: dict, option: str, where: str):
    """A ``{name, prefix, separator}`` entry: ``<prefix><separator><name>``, just the name when the prefix has no
    value, and no value when the name has none (the entry then falls through)."""
    unknown = sorted(str(k) for k in entry if k not in NAME_ENTRY_KEYS)
    if unknown:
        raise AlicloudInputError(option, f"{where} has unknown key(s) {', '.join(unknown)}; valid keys are "
                                 f"{', '.join(NAME_ENTRY_KEYS)}")
    if "name" not in entry:
        raise AlicloudInputError(option, f"{where} needs a name (a host variable such as instance_name, or tag:KEY)")
    name = _value_source(entry["name"], option, f"{where}.name")
    separator = entry.get("separator", "_")
    if not isinstance(separator, str):
        raise AlicloudInputError(option, f"{where}.separator must be a string, got {separator!r}")
    if entry.get("prefix") in (None, ""):
        return name
    prefix = _value_source(entry["prefix"], option, f"{where}.prefix", allow_literal=True)

    def composed(instance):
        value = name(instance)
        if value is None:
            return None
        head = prefix(instance)
        return f"{head}{separator}{value}" if head else value
    return composed


def validate_preferences(value, option: str, allow_empty: bool = False, allow_mappings: bool = False) -> tuple:
    """``hostnames`` / ``ansible_host``: an ordered list of host variable names or ``tag:KEY``, and for
    ``hostnames`` (``allow_mappings``) also ``{name, prefix, separator}`` mappings. Returns one function
    ``instance -> str | None`` per entry."""
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise AlicloudInputError(option, f"{option} must be a list such as [instance_name, private_ip, 'tag:Name']")
    if not value and not allow_empty:
        raise AlicloudInputError(option, f"{option} is empty: list at least one of {', '.join(NAME_SOURCES)} or tag:KEY")
    sources = []
    for index, entry in enumerate(value):
        if isinstance(entry, dict) and allow_mappings:
            sources.append(_composed_source(entry, option, f"{option}[{index}]"))
        elif isinstance(entry, str) and entry:
            sources.append(_value_source(entry, option, f"{option} entry"))
        else:
            kinds = "strings or mappings with name, prefix and separator" if allow_mappings else "strings"
            raise AlicloudInputError(option, f"{option} entries must be {kinds}, got {entry!r}")
    return tuple(sources)


def preferred_value(instance: dict, preferences) -> str | None:
    """The first preference with a non-empty value for this instance (missing values fall through)."""
    for value in candidate_values(instance, preferences):
        return value
    return None


def candidate_values(instance: dict, preferences):
    for source in preferences:
        value = source(instance)
        if value is not None:
            yield value


def choose_hostname(instance: dict, preferences, taken: dict) -> str:
    """Inventory name for ``instance``: the first preference that is set and not already used by
    another instance; the instance id when none is. ``taken`` maps name -> instance id."""
    for value in candidate_values(instance, preferences):
        owner = taken.get(value)
        if owner is None or owner == instance["instance_id"]:
            taken[value] = instance["instance_id"]
            return value
    taken[instance["instance_id"]] = instance["instance_id"]
    return instance["instance_id"]


@functools.lru_cache(maxsize=8192)  # the same region/zone/tag names come back for every host
def sanitize_group_name(name: str) -> str:
    """Ansible's own group name sanitizer, always applied and silent: ``region_cn-hangzhou`` ->
    ``region_cn_hangzhou`` whatever TRANSFORM_INVALID_GROUP_CHARS says, so names are predictable
    and ``targets_to_pattern`` can compute them."""
    return to_safe_group_name(name, force=True, silent=True)


def tag_group_name(key, value) -> str:
    return sanitize_group_name(f"tag_{key}_{value}" if value not in (None, "") else f"tag_{key}")


def default_group_names(instance: dict) -> list:
    """Sanitized names of the default groups of an instance: region, zone, status, resource group, tags."""
    names = []
    for prefix, key in (("region", "region_id"), ("zone", "zone_id"), ("status", "status"),
                        ("resource_group", "resource_group_id")):
        if instance.get(key):
            names.append(sanitize_group_name(f"{prefix}_{instance[key]}"))
    names.extend(tag_group_name(key, value) for key, value in sorted((instance.get("tags") or {}).items()))
    return names


_RECORD_KEYS = frozenset(HOSTVAR_NAMES)


def cache_problem(value) -> str | None:
    """Why a cache entry cannot be this plugin's fleet (a list of instance records), or None when it can.

    A valid JSON entry of another shape (written by an older version, another tool or by hand) would otherwise
    break every run until it expired."""
    if not isinstance(value, list):
        return f"a {type(value).__name__}, not a list of instances"
    for index, record in enumerate(value):
        if not isinstance(record, dict):
            return f"item {index} is a {type(record).__name__}, not an instance"
        if record.keys() != _RECORD_KEYS:
            missing, unknown = sorted(_RECORD_KEYS - record.keys()), sorted(map(str, record.keys() - _RECORD_KEYS))
            return f"item {index} has missing keys {missing} or unknown keys {unknown}"
        if not isinstance(record["instance_id"], str) or not record["instance_id"]:
            return f"item {index} has no instance_id"
        tags = record["tags"]
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, (str, type(None)))
                                                 for k, v in tags.items()):
            return f"item {index} has tags that are not a mapping of strings"
        if not isinstance(record["security_group_ids"], list):
            return f"item {index} has security_group_ids that are not a list"
        for key in NAME_SOURCES:
            if not isinstance(record[key], (str, type(None))):
                return f"item {index} has a {type(record[key]).__name__} as {key}"
    return None


def hostvar_names(prefix: str = "", suffix: str = "") -> dict:
    """Record key -> host variable name: ``<prefix><key><suffix>``. Only the bare name ``tags``, reserved by
    ansible-core, becomes ``ecs_tags``: with a prefix or a suffix the name is free (``ecs_`` gives ``ecs_tags``)."""
    names = {}
    for key in HOSTVAR_NAMES:
        name = f"{prefix}{key}{suffix}"
        names[key] = HOSTVAR_RENAMES.get(name, name)
    return names


DEFAULT_HOSTVAR_NAMES = hostvar_names()


def host_variables(instance: dict, names: dict | None = None) -> dict:
    """The host variables of an instance record, named by ``names`` (see ``hostvar_names``)."""
    names = DEFAULT_HOSTVAR_NAMES if names is None else names
    return {names[key]: value for key, value in instance.items()}


@contextlib.contextmanager
def compiled_once(templar):
    """Within the block, ``templar`` compiles each distinct expression once instead of once per evaluation.

    ansible-core's Constructable evaluates every ``compose``, ``groups`` and ``keyed_groups`` expression for each
    host, and ansible-core 2.19 compiles the expression again every time: with five expressions, compiling was 80%
    of loading 10,000 hosts. A compiled expression is a pure function of its variables, so the same expression
    text may be compiled once. This wraps the engine's compile step (``TemplateEngine._compile_expression``,
    ansible-core 2.19) on this plugin's own templar only, and does nothing where that step does not exist.
    """
    engine = getattr(templar, "_engine", None)
    compile_expression = getattr(engine, "_compile_expression", None)
    if compile_expression is None:
        yield
        return
    compiled = {}

    def compile_once(expression, options):
        key = (str(expression), options)
        if key not in compiled:
            compiled[key] = compile_expression(expression, options)
        return compiled[key]

    shadowed = "_compile_expression" in vars(engine)
    engine._compile_expression = compile_once
    try:
        yield
    finally:
        if shadowed:
            engine._compile_expression = compile_expression
        else:
            del engine._compile_expression


def validate_regions(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise AlicloudInputError("regions", "regions must be a list of region ids such as [cn-hangzhou, cn-shanghai]")
    regions = []
    for region in value:
        if not isinstance(region, str) or not REGION_ID.match(region):
            raise AlicloudInputError("regions", f"regions entry {region!r} is not a region id; use ids such as cn-hangzhou")
        if region not in regions:
            regions.append(region)
    return regions


def validate_filter_sets(value, option: str) -> list:
    """``include_filters`` / ``exclude_filters``: a list of filter mappings."""
    if value in (None, []):
        return []
    if not isinstance(value, (list, tuple)):
        raise AlicloudInputError(option, f"{option} must be a list of filter mappings, such as [{{tags: {{Env: dev}}}}]")
    return [validate_filters(item, f"{option}[{index}]") for index, item in enumerate(value)]


def list_regions(client) -> list:
    """Region ids from ECS DescribeRegions (one call)."""
    body = client.call("DescribeRegions", {}, method="POST") or {}
    regions = body.get("Regions") or {}
    items = regions.get("Region") if isinstance(regions, dict) else regions
    return [r["RegionId"] for r in items or () if isinstance(r, dict) and r.get("RegionId")]


def load_region(client, region: str, filters: dict, include_filters: list, exclude_filters: list) -> list:
    """Instances of one region: ``filters``, plus any ``include_filters`` match, minus ``exclude_filters`` matches."""
    found = {}
    for filter_set in [filters] + list(include_filters):
        for instance in describe_instances(client, filter_set, page_workers=PAGE_WORKERS):
            found.setdefault(instance["instance_id"], instance)
    for filter_set in exclude_filters:
        if not found:
            break
        for instance in describe_instances(client, filter_set, page_workers=PAGE_WORKERS):
            found.pop(instance["instance_id"], None)
    for instance in found.values():
        # The region we asked is authoritative (the API's RegionId, never the zone).
        instance["region_id"] = instance.get("region_id") or region
    return list(found.values())


def is_bad_region_error(error: AlicloudError) -> bool:
    return bool(error.code) and any(str(error.code).startswith(code) for code in BAD_REGION_CODES)


def is_credentials_error(error: AlicloudError) -> bool:
    """Wrong, expired or unauthorised credentials (or none): no region can be read with them."""
    return error.failure == FAILURE_CREDENTIALS or (
        bool(error.code) and str(error.code).startswith(CREDENTIAL_CODE_PREFIXES))


class InventoryLoadError(Exception):
    """The inventory cannot be trusted to be complete: it fails rather than give fewer hosts."""


def credentials_refused(error: AlicloudError) -> InventoryLoadError:
    return InventoryLoadError(f"the credentials were refused, no region can be read: {error}. Check access_key and "
                              "secret_key (or ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY), the security token and the "
                              "RAM permissions (ecs:DescribeRegions, ecs:DescribeInstances)")


def load_failure(failures: dict, regions: list, strict_regions: bool) -> InventoryLoadError | None:
    """The error that fails the inventory, given ``failures`` (region -> AlicloudError) out of ``regions``;
    None when the failed regions are only to be skipped with a warning (``strict_regions`` off).

    Credentials that are refused, and an inventory that could read no region at all, always fail.
    """
    if not failures:
        return None
    summary = "; ".join(f"{region}: {error}" for region, error in failures.items())
    refused = [error for error in failures.values() if is_credentials_error(error)]
    if refused:
        return credentials_refused(refused[0])
    if len(failures) == len(regions):
        return InventoryLoadError(f"could not read any region ({len(failures)} of {len(regions)} failed), so the "
                                  f"inventory would be empty: {summary}")
    if strict_regions:
        return InventoryLoadError(f"{len(failures)} of {len(regions)} region(s) failed to load: {summary}. Set "
                                  "strict_regions: false to load the other regions and only warn")
    return None


def load_fleet(regions: list, make_client, filters: dict, include_filters=(), exclude_filters=()) -> tuple:
    """Load every region concurrently (one client per region and thread).

    Returns ``(instances, failures)``: instances in region order, then API order; ``failures``
    maps region -> AlicloudError for the regions that could not be loaded.
    """
    def work(region):
        try:
            return region, load_region(make_client(region), region, filters, include_filters, exclude_filters), None
        except AlicloudError as error:
            return region, [], error

    instances, failures = [], {}
    workers = max(1, min(MAX_REGION_WORKERS, len(regions)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alicloud-ecs-inventory") as pool:
        for region, region_instances, error in pool.map(work, regions):
            if error is not None:
                failures[region] = error
            instances.extend(region_instances)
    return instances, failures
