# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.oos.oos_instance: runs on the controller; over inventory hosts, the hosts
of a play batch share batched Start/Stop/RebootInstances calls (see plugin_utils/instance_action.py)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils import instance_power
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_action import InstanceActionBase


class ActionModule(InstanceActionBase):
    MODULE = "alicloud.oos.oos_instance"
    ARGUMENT_SPEC = staticmethod(instance_power.instance_argument_spec)
    TASK = staticmethod(instance_power.instance_task)
    DESCRIBE_FAILURE = staticmethod(instance_power.describe_failure)
    LIST_KEY = "instances"

    def add_host_fields(self, result, output, entry):
        result["instance_ids"] = [entry["instance_id"]]
        result["counts"] = {"total": 1, "changed": int(entry["changed"]), "failed": int(bool(entry["error_code"])),
                            "unchanged": int(not entry["changed"] and not entry["error_code"])}
        result["diff"] = instance_power.power_diff(result)
