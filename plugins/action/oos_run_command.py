# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.oos.oos_run_command: runs on the controller; over inventory hosts, the hosts
of a play batch share RunCommand/DescribeInvocationResults calls (see plugin_utils/instance_batch.py)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils.cloud_assistant import (
    WAIT_GRACE,
    run_command_argument_spec,
    run_command_task,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_batch import InstanceActionBase


class ActionModule(InstanceActionBase):
    MODULE = "alicloud.oos.oos_run_command"
    LIST_KEY = "results"

    def argument_spec(self) -> dict:
        return run_command_argument_spec()

    def task(self, client, params, check_mode, instances):
        return run_command_task(client, params, check_mode=check_mode, instances=instances)

    def wait_budget(self, params):
        # Every wave may take the command timeout; the batch has at most one wave per host.
        return float((params.get("timeout") or 60) + WAIT_GRACE) * 2

    def add_host_fields(self, result, output, entry):
        result["changed"] = entry.get("invoke_id") is not None
        result["invoke_ids"] = [entry["invoke_id"]] if entry.get("invoke_id") else []
        result["counts"] = {"total": 1, "failed": len(result["failed_instances"]), "by_status": {entry["status"]: 1}}

    def failure_text(self, entry):
        detail = entry.get("error_code") or ""
        if entry.get("exit_code") not in (None, 0):
            detail = f"{detail} exit code {entry['exit_code']}".strip()
        if entry.get("error_info"):
            detail = f"{detail}: {entry['error_info']}" if detail else entry["error_info"]
        return f"the command {entry['status']} on {entry['instance_id']}" + (f" ({detail})" if detail else "")
