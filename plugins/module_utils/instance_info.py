# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""oos_instance_info: the instances a selection means, as instance records (read-only)."""
from __future__ import annotations

import copy

from ansible_collections.alicloud.oos.plugins.module_utils.auth import auth_argument_spec
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    SELECTION_ARGUMENT_SPEC,
    SELECTION_OPTIONS,
    find_instances,
    selection_from_params,
)

INFO_SELECTION = ("instance_id", "instance_ids", "targets", "filters", "tags")


def instance_info_argument_spec() -> dict:
    spec = auth_argument_spec()
    spec.update(copy.deepcopy({name: SELECTION_ARGUMENT_SPEC[name] for name in INFO_SELECTION}))
    return spec


def instance_info_task(client, params: dict, check_mode: bool = False, instances: list | None = None) -> dict:
    """Every instance of the selection (all instances of the region without one). A query that matches
    nothing gives an empty list; unknown instance ids are an error naming the option."""
    if instances is None:
        if any(params.get(name) is not None for name in SELECTION_OPTIONS):
            field_name, value = selection_from_params(params)
            instances = find_instances(client, field_name, value, allow_empty=True)
        else:
            instances = describe_instances(client, {})
    return {"changed": False, "instances": instances, "instance_ids": [i["instance_id"] for i in instances]}
