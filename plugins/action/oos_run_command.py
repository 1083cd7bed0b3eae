# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.oos.oos_run_command: runs on the controller; over inventory hosts, the hosts
of a play batch share RunCommand/DescribeInvocationResults calls (see plugin_utils/instance_action.py)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils import cloud_assistant
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_action import InstanceActionBase, option_seconds


class ActionModule(InstanceActionBase):
    MODULE = "alicloud.oos.oos_run_command"
    ARGUMENT_SPEC = staticmethod(cloud_assistant.run_command_argument_spec)
    TASK = staticmethod(cloud_assistant.run_command_task)
    SECRETS = staticmethod(cloud_assistant.command_secrets)
    DESCRIBE_FAILURE = staticmethod(cloud_assistant.describe_failure)
    LIST_KEY = "results"

    def wait_budget(self, args):
        # Every wave may take the command timeout; the batch has at most one wave per host.
        return float(option_seconds(args.get("timeout"), cloud_assistant.DEFAULT_TIMEOUT) + cloud_assistant.WAIT_GRACE) * 2

    def add_host_fields(self, result, output, entry):
        result["changed"] = entry.get("invoke_id") is not None
        result["invoke_ids"] = [entry["invoke_id"]] if entry.get("invoke_id") else []
        result["counts"] = {"total": 1, "failed": len(result["failed_instances"]), "by_status": {entry["status"]: 1}}
        result.update(cloud_assistant.shell_fields(entry))
        # Ansible counts a result with a non-zero `rc` and no `failed` key as failed: say it explicitly.
        result.setdefault("failed", False)
