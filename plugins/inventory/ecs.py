# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: ecs
short_description: Alibaba Cloud ECS instances as a dynamic inventory
version_added: 0.1.0
description:
  - Loads ECS instances from one or more regions with C(DescribeInstances) (100 instances per call, regions
    queried concurrently) and makes them Ansible hosts.
  - "The configuration file name must end with C(.ecs.yml) or C(.ecs.yaml) and contain C(plugin: alicloud.oos.ecs)."
  - Options set in the file win over the environment variables (C(ALICLOUD_*), C(ALIBABA_CLOUD_*)).
  - "Host variables: C(instance_id), C(instance_name), C(host_name), C(region_id) (the region, never the zone),
    C(zone_id), C(status), C(instance_type), C(os_type), C(os_name), C(private_ip), C(public_ip), C(eip),
    C(vpc_id), C(vswitch_id), C(security_group_ids) (list), C(resource_group_id), C(ecs_tags) (dict),
    C(image_id), C(creation_time), C(start_time); missing values are V(null)."
  - "The tags are the host variable C(ecs_tags), not C(tags): C(tags) is a reserved name in Ansible, and a host
    variable of that name makes every playbook run warn. O(compose), O(groups) and O(keyed_groups) expressions
    read them as C(ecs_tags), for example C(ecs_tags.Env) (with O(hostvars_prefix) or O(hostvars_suffix), as
    C(<prefix>tags<suffix>)). The tag filter of O(filters) is still the key C(tags)
    (it is sent to the API), and O(hostnames) entries are still C(tag:KEY)."
  - "Default groups: C(region_<region>), C(zone_<zone>), C(status_<Status>), C(resource_group_<id>) and
    C(tag_<Key>_<Value>) (C(tag_<Key>) for an empty value)."
  - Every group name (default groups, O(groups), O(keyed_groups)) has the characters that are invalid in group
    names replaced by C(_), always and without a warning, for example C(region_cn_hangzhou).
  - The inventory fails when it cannot be trusted to be complete, with one message naming each failed region
    and its error - as C(amazon.aws.aws_ec2) does - so that a scheduled run or an AWX inventory update (which
    would drop the hosts of a missing region) does not go on with an incomplete inventory. A region fails when
    throttling outlasts the retries, or on service or network errors.
  - With O(strict_regions=false) the failed regions are skipped with a warning and the others load. Credentials
    that are refused (wrong, expired, or without permission) and an inventory that could read no region always
    fail, as does a region id that does not exist.
  - "C(ansible-playbook) and C(ansible-inventory) only warn about an inventory source that fails, unless
    C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) (C([inventory] unparsed_is_failed = true)); set it for scheduled
    runs. AWX sets it for inventory updates."
  - A cache entry that is not a list of instance records (valid JSON of another shape, or a corrupt file) is
    discarded with a warning and the instances are loaded again.
author:
  - alicloud.oos contributors (!UNKNOWN)
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    type: str
    required: true
    choices: [alicloud.oos.ecs]
  regions:
    description:
      - Regions to load. Empty means every region that C(DescribeRegions) lists (one extra call).
      - When given, the ids are checked against C(DescribeRegions) (one call) so a wrong id is an error naming it.
    type: list
    elements: str
    default: []
  filters:
    description:
      - Filters sent to C(DescribeInstances) in every region.
      - "Keys: C(Status), C(VpcId), C(VSwitchId), C(ZoneId), C(InstanceName) (C(*) wildcard), C(InstanceType),
        C(ImageId), C(SecurityGroupId), C(ResourceGroupId), C(InstanceIds), C(PrivateIpAddresses),
        C(PublicIpAddresses), C(EipAddresses) (lists) and C(tags) (a mapping C({Key: Value}); a V(null) value
        matches any value of the key)."
      - An unknown key is an error that lists the valid ones.
    type: dict
    default: {}
  include_filters:
    description:
      - More filter sets (same keys as O(filters)); instances matching any of them are added to those that match
        O(filters). Each set costs its own C(DescribeInstances) calls.
    type: list
    elements: dict
    default: []
  exclude_filters:
    description:
      - Filter sets (same keys as O(filters)); instances matching any of them are removed.
    type: list
    elements: dict
    default: []
  hostnames:
    description:
      - Ordered preference for the inventory host name. Each entry is a host variable name (C(instance_id),
        C(instance_name), C(host_name), C(private_ip), C(public_ip), C(eip), ...), C(tag:KEY), or a mapping with
        O(hostnames.name), O(hostnames.prefix) and O(hostnames.separator) as in C(amazon.aws.aws_ec2).
      - An entry with no value for an instance, or whose value another instance already uses, falls through to
        the next one; the instance id is used when none is left.
    type: list
    elements: raw
    default: [instance_id]
    suboptions:
      name:
        description: Host variable name or C(tag:KEY) giving the name.
        type: str
        required: true
      prefix:
        description:
          - Put before the name, with O(hostnames.separator) between them. A host variable name or C(tag:KEY)
            (the instance's value), or any other text (itself), for example V(prod).
          - When the prefix has no value for an instance, the name alone is used; when the name has none, the
            entry falls through.
        type: str
        default: ''
      separator:
        description: Between O(hostnames.prefix) and O(hostnames.name).
        type: str
        default: _
  ansible_host:
    description:
      - Ordered preference for C(ansible_host), host variable names or C(tag:KEY) as in O(hostnames) (no
        mappings). Entries without a value fall through. An empty list leaves C(ansible_host) unset.
    type: list
    elements: str
    default: [public_ip, eip, private_ip]
  hostvars_prefix:
    description:
      - Prefix for the names of the host variables set by this plugin (not C(ansible_host)), for example V(ecs_),
        which gives C(ecs_instance_id), C(ecs_region_id), ... and C(ecs_tags). O(compose), O(groups) and
        O(keyed_groups) see the prefixed names.
    type: str
    default: ''
  hostvars_suffix:
    description:
      - Suffix for the names of the host variables set by this plugin (not C(ansible_host)), for example V(_ecs),
        which gives C(instance_id_ecs), ... and C(tags_ecs). Combines with O(hostvars_prefix).
      - Without prefix and suffix the tags are C(ecs_tags), because C(tags) is a reserved name in Ansible.
    type: str
    default: ''
    version_added: 0.1.0
  default_groups:
    description: Create the default region, zone, status and tag groups.
    type: bool
    default: true
  use_cloud_assistant:
    description:
      - Reach the hosts through Cloud Assistant instead of SSH (the M(alicloud.oos.cloud_assistant) connection), with
        no public IP, bastion or key. Sets C(ansible_connection), C(ansible_cloud_assistant_instance_id) and
        C(ansible_cloud_assistant_region) for every host; O(compose) can still override them per host.
      - The collection's instance modules keep working on the same hosts (they call the API from the controller).
    type: bool
    default: false
  strict_regions:
    description:
      - If V(true), a region that fails to load fails the inventory.
      - If V(false), it is skipped with a warning and the other regions load; nothing is cached then. Refused
        credentials and a failure of every region still fail the inventory.
    type: bool
    default: true
    version_added: 0.1.0
  strict:
    description:
      - If V(true), an invalid entry in O(compose), O(groups) or O(keyed_groups) is an error (otherwise such
        entries are skipped). Failed regions are governed by O(strict_regions).
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.oos.auth.plugins
  - constructed
  - inventory_cache
"""

EXAMPLES = r"""
# demo.ecs.yml - credentials come from ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY (or set them here)
plugin: alicloud.oos.ecs
regions: [cn-hangzhou, cn-shanghai]
filters:
  Status: Running
  tags: {Env: dev}
exclude_filters:
  - tags: {Maintenance: "true"}
hostnames:
  - tag:Name
  - {name: instance_name, prefix: region_id, separator: "-"}   # cn-hangzhou-web-01
  - instance_id
ansible_host: [private_ip]
keyed_groups:
  - key: instance_type
    prefix: type
  - key: ecs_tags.App         # the tags are the host variable ecs_tags
    prefix: app
groups:
  web_dev: ecs_tags.App == 'web' and ecs_tags.Env == 'dev'
compose:
  ansible_user: "'ecs-user' if os_type == 'linux' else 'Administrator'"
use_cloud_assistant: true     # no SSH: tasks run through Cloud Assistant (alicloud.oos.cloud_assistant)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/alicloud-ecs-inventory
cache_timeout: 600

# Then: ansible-inventory -i demo.ecs.yml --graph
#       ansible-playbook -i demo.ecs.yml site.yml --limit tag_Env_dev
"""

import difflib

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import validate_filters
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.retries import is_permanent
from ansible_collections.alicloud.oos.plugins.plugin_utils.base import auth_settings_from_options, check_plugin_option_types
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_hostvars import cloud_assistant_hostvars
from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import (
    InventoryLoadError, cache_problem, choose_hostname, compiled_once, credentials_refused, default_group_names,
    host_variables,
    hostvar_names, is_bad_region_error, is_credentials_error, list_regions, load_failure, load_fleet, preferred_value,
    sanitize_group_name, validate_filter_sets, validate_preferences, validate_regions)

display = Display()

# Keys every inventory file may hold besides the documented options.
_ALWAYS_ALLOWED = ("plugin",)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "alicloud.oos.ecs"
    # Every group (default, groups, keyed_groups) goes through the same forced, silent sanitizer.
    _sanitize_group_name = staticmethod(sanitize_group_name)

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".ecs.yml", ".ecs.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        try:
            self._check_option_names(config)
            check_plugin_option_types(self, config, AnsibleParserError)  # e.g. strict: maybe, read as false
            settings = self._settings()
            cache_key = self.get_cache_key(path)
            use_cache = self.get_option("cache")
            instances = self._cached(cache_key) if use_cache and cache else None
            if instances is None:
                instances, complete = self._fetch(settings)
                if use_cache and complete:
                    self._cache[cache_key] = instances
            self._populate(instances, settings)
        except AlicloudInputError as error:
            raise AnsibleParserError(f"{self.NAME}: invalid option {error.field}: {error.message} (in {path})") from None
        except (AlicloudError, InventoryLoadError) as error:
            raise AnsibleParserError(f"{self.NAME}: {error} (in {path})") from None

    def _cached(self, cache_key):
        """The cached fleet, or None to load it: a missing, corrupt or wrongly shaped entry is never used."""
        try:
            value = self._cache[cache_key]
        except KeyError:
            return None
        except Exception as error:  # a corrupt file or payload: the cache only saves calls, never fail for it
            display.warning(f"{self.NAME}: the inventory cache entry {cache_key} could not be read, loading the "
                            f"instances again: {error}")
            return None
        problem = cache_problem(value)
        if problem:
            display.warning(f"{self.NAME}: discarded the inventory cache entry {cache_key} ({problem}); "
                            "loading the instances again")
            return None
        return value

    # ------------------------------------------------------------------------------------- options

    def _check_option_names(self, config):
        """An unknown key in the file is an error naming it (Ansible itself ignores it silently)."""
        known = set(self._options) | set(_ALWAYS_ALLOWED)
        for option in AUTH_OPTIONS.values():
            known.update(option.get("aliases", ()))
        unknown = sorted(str(k) for k in config if k not in known)
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
            raise AlicloudInputError(unknown[0], f"unknown option(s) {', '.join(hints)}; valid options are "
                                     f"{', '.join(sorted(k for k in self._options if not k.startswith('_')))}")

    def _text_option(self, name: str) -> str:
        value = self.get_option(name)
        if value is not None and not isinstance(value, str):
            raise AlicloudInputError(name, f"{name} must be a string such as ecs_, got {value!r}")
        return value or ""

    def _settings(self) -> dict:
        return {
            # The file's values win; the environment is the fallback (same resolution as lookups).
            "auth": auth_settings_from_options(self.get_option),
            "regions": validate_regions(self.get_option("regions")),
            "filters": validate_filters(self.get_option("filters"), "filters"),
            "include_filters": validate_filter_sets(self.get_option("include_filters"), "include_filters"),
            "exclude_filters": validate_filter_sets(self.get_option("exclude_filters"), "exclude_filters"),
            "hostnames": validate_preferences(self.get_option("hostnames"), "hostnames", allow_mappings=True),
            "ansible_host": validate_preferences(self.get_option("ansible_host"), "ansible_host", allow_empty=True),
            "hostvar_names": hostvar_names(self._text_option("hostvars_prefix"), self._text_option("hostvars_suffix")),
            "strict": bool(self.get_option("strict")),
            "use_cloud_assistant": bool(self.get_option("use_cloud_assistant")),
            "strict_regions": bool(self.get_option("strict_regions")),
        }

    # ------------------------------------------------------------------------------------- loading

    def _client(self, auth, region):
        return AlicloudClient(auth, "ecs", region)

    def _regions(self, settings) -> list:
        auth, wanted = settings["auth"], settings["regions"]
        try:
            available = list_regions(self._client(auth, auth.region or (wanted[0] if wanted else "cn-hangzhou")))
        except AlicloudError as error:
            if is_credentials_error(error):
                raise credentials_refused(error) from None
            if is_permanent(error):
                raise  # an unusable endpoint (TLS, DNS, refused): its message says what to fix
            # Only a check when the regions are listed: they may load all the same.
            if not wanted:
                raise AlicloudError(f"cannot list regions (DescribeRegions): {error}; set the regions option "
                                    "or fix the cause", code=error.code, request_id=error.request_id) from None
            display.warning(f"{self.NAME}: could not check the regions option against DescribeRegions ({error}); "
                            "loading the listed regions anyway")
            return wanted
        if not wanted:
            return available
        unknown = [r for r in wanted if r not in available]
        if unknown:
            raise AlicloudInputError("regions", f"region(s) {', '.join(unknown)} do not exist; available regions: "
                                     f"{', '.join(available)}")
        return wanted

    def _fetch(self, settings) -> tuple:
        """``(instances, complete)``: complete is False when a region failed (then nothing is cached)."""
        regions = self._regions(settings)
        instances, failures = load_fleet(regions, lambda region: self._client(settings["auth"], region),
                                         settings["filters"], settings["include_filters"], settings["exclude_filters"])
        for region, error in failures.items():
            if is_bad_region_error(error):
                raise AlicloudInputError("regions", f"region {region} does not exist: {error}")
            if is_permanent(error) and not is_credentials_error(error):
                # An unusable endpoint: no region can load; skipping them would be silent.
                raise error
        failure = load_failure(failures, regions, settings["strict_regions"])
        if failure:
            raise failure
        for region, error in failures.items():
            display.warning(f"{self.NAME}: region {region} skipped (strict_regions is false), the other regions "
                            f"are loaded: {error}")
        return instances, not failures

    # ---------------------------------------------------------------------------------- populating

    def _populate(self, instances, settings):
        with compiled_once(self.templar):
            self._add_hosts(instances, settings)

    def _add_hosts(self, instances, settings):
        names, strict = settings["hostvar_names"], settings["strict"]
        compose, groups, keyed_groups = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        default_groups = self.get_option("default_groups")
        taken, known_groups = {}, set()
        for instance in instances:
            hostname = choose_hostname(instance, settings["hostnames"], taken)
            self.inventory.add_host(hostname)
            hostvars = host_variables(instance, names)
            ansible_host = preferred_value(instance, settings["ansible_host"])
            if ansible_host:
                hostvars["ansible_host"] = ansible_host
            if settings["use_cloud_assistant"]:
                hostvars.update(cloud_assistant_hostvars(instance))
            for key, value in hostvars.items():
                self.inventory.set_variable(hostname, key, value)
            if default_groups:
                for name in default_group_names(instance):
                    if name not in known_groups:
                        self.inventory.add_group(name)
                        known_groups.add(name)
                    self.inventory.add_child(name, hostname)
            if compose:
                self._set_composite_vars(compose, hostvars, hostname, strict=strict)
            if groups:
                self._add_host_to_composed_groups(groups, hostvars, hostname, strict=strict)
            if keyed_groups:
                self._add_host_to_keyed_groups(keyed_groups, hostvars, hostname, strict=strict)
