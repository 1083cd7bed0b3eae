#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_execution_info
short_description: List OOS executions, or show one with its tasks and logs
version_added: 0.1.0
description:
  - Lists Operation Orchestration Service (OOS) executions, filtered by template, status, time range,
    tags and more. It pages through C(ListExecutions) up to O(limit).
  - With O(execution_id), it returns that one execution with its task executions and, optionally, its logs.
options:
  execution_id:
    description: Show only this execution. An unknown id gives an empty list.
    type: str
  template_name:
    description: Only executions of templates whose name contains this text.
    type: str
  status:
    description: Only executions in this status.
    type: str
    choices: [Started, Queued, Running, Waiting, Success, Failed, Cancelled]
  mode:
    description: Only executions in this mode.
    type: str
    choices: [Automatic, Debug, FailurePause]
  start_date_after:
    description: Only executions started at or after this UTC time (V(2024-06-01T00:00:00Z) or V(2024-06-01)).
    type: str
  start_date_before:
    description: Only executions started at or before this UTC time.
    type: str
  end_date_after:
    description: Only executions that ended at or after this UTC time.
    type: str
  end_date_before:
    description: Only executions that ended at or before this UTC time.
    type: str
  tags:
    description: Only executions that have all these tags.
    type: dict
  parent_execution_id:
    description: Only the child executions of this execution.
    type: str
  include_child_executions:
    description: Also list child executions (nested templates and cloud product actions).
    type: bool
    default: false
  resource_group_id:
    description: Only executions in this resource group.
    type: str
  sort_field:
    description: Sort key.
    type: str
    choices: [StartDate, EndDate, Status]
    default: StartDate
  sort_order:
    description: Sort order.
    type: str
    choices: [Ascending, Descending]
    default: Descending
  limit:
    description: Return at most this many executions. The default is all of them.
    type: int
  next_token:
    description: Return one page starting at this token, the RV(next_token) of an earlier call.
    type: str
  secret_parameters:
    description:
      - "Names of execution parameters whose values are secret (for example V(DbPassword)): they are masked in the
        parameters and outputs of every execution returned."
    type: list
    elements: str
  include_tasks:
    description:
      - Add the task executions of each execution.
      - The default is to add them only with O(execution_id).
    type: bool
  include_child_tasks:
    description: With O(execution_id), also list the iterations of loop tasks.
    type: bool
    default: false
  include_logs:
    description: With O(execution_id), add the execution logs (C(ListExecutionLogs)).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
attributes:
  check_mode:
    support: full
    details: Read only. It runs the same way in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Failed executions of the restart runbook since June
  alicloud.oos.oos_execution_info:
    template_name: restart-web
    status: Failed
    start_date_after: "2024-06-01"
  register: failed

- name: One execution with its tasks and logs
  alicloud.oos.oos_execution_info:
    execution_id: exec-44d32b45d2a449e
    include_logs: true
  register: one
"""

RETURN = r"""
executions:
  description: The executions, in snake_case, with C(outputs) and C(parameters) parsed.
  returned: always
  type: list
  elements: dict
  contains:
    execution_id:
      description: Id.
      type: str
      returned: always
    template_name:
      description: Template name.
      type: str
      returned: always
    status:
      description: Status.
      type: str
      returned: always
    status_message:
      description: Status message.
      type: str
      returned: always
    outputs:
      description: Template outputs.
      type: dict
      returned: always
    parameters:
      description: Parameters of the execution.
      type: dict
      returned: always
    task_executions:
      description: Task executions (see O(include_tasks)).
      type: list
      returned: when requested
    logs:
      description: Execution logs (timestamp, message, log_type, task_execution_id).
      type: list
      returned: when requested
next_token:
  description: Token of the next page. It is empty when there are no more executions.
  returned: when execution_id is not set
  type: str
"""

from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule
from ansible_collections.alicloud.oos.plugins.module_utils.oos_executions import (
    MODES,
    STATUS_FILTERS,
    execution_info_task,
)


def main():
    module = AlicloudModule(
        argument_spec=dict(
            execution_id=dict(type="str"),
            template_name=dict(type="str"),
            status=dict(type="str", choices=list(STATUS_FILTERS)),
            mode=dict(type="str", choices=list(MODES)),
            start_date_after=dict(type="str"),
            start_date_before=dict(type="str"),
            end_date_after=dict(type="str"),
            end_date_before=dict(type="str"),
            tags=dict(type="dict"),
            parent_execution_id=dict(type="str"),
            include_child_executions=dict(type="bool", default=False),
            resource_group_id=dict(type="str"),
            sort_field=dict(type="str", choices=["StartDate", "EndDate", "Status"], default="StartDate"),
            sort_order=dict(type="str", choices=["Ascending", "Descending"], default="Descending"),
            limit=dict(type="int"),
            next_token=dict(type="str", no_log=False),
            secret_parameters=dict(type="list", elements="str", no_log=False),
            include_tasks=dict(type="bool"),
            include_child_tasks=dict(type="bool", default=False),
            include_logs=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    module.run(execution_info_task)


if __name__ == "__main__":
    main()
