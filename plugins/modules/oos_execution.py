#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_execution
short_description: Start, approve, reject or cancel OOS executions and wait for the outcome
version_added: 0.1.0
description:
  - Starts an Operation Orchestration Service (OOS) execution of a stored template (by name and version)
    or of inline content, with parameters. By default it waits until the execution ends.
  - A retried task does not start a second execution. The C(ClientToken) defaults to a hash of every input,
    and OOS answers a repeated token with the execution the token already started. Once that execution has been
    deleted, the token is derived anew and the same inputs start a new execution.
  - An approval or rejection whose answer is lost is not sent twice, because a second Approve could answer a later
    approval. The execution is read back instead.
  - Approves or rejects an execution that is C(Waiting) (for example on C(ACS::Approve) or on a high-risk
    action), or cancels one. The optional O(pending_task) makes the module act only when that task is the
    one waiting.
  - A C(Failed) execution fails the task. The message names the failing task and gives its reason.
options:
  state:
    description:
      - V(started) starts an execution.
      - V(approved) and V(rejected) answer a C(Waiting) execution (C(NotifyExecution) Approve or Reject).
        A rejected execution ends C(Cancelled).
      - V(cancelled) cancels a running execution.
      - With V(approved), V(rejected) and V(cancelled), an execution that is not waiting, or is already
        finished, is left as is (C(changed=false)).
    type: str
    choices: [started, approved, rejected, cancelled]
    default: started
  template_name:
    description: Name of the stored template to run (V(state=started)).
    type: str
  template_version:
    description: Version of the template, such as V(v2). The default is the latest version.
    type: str
  template_content:
    description:
      - Template to run without storing it, as YAML or JSON text or a mapping. Mutually exclusive with O(template_name).
      - Template text is data and is sent unchanged. Use C(!unsafe) for text that holds C({{ }}) references.
    type: raw
  parameters:
    description:
      - Template parameters. List and Json parameters take YAML lists and mappings.
      - Shown in output like any option, except the secret ones (see O(secret_parameters)).
    type: dict
    default: {}
  secret_parameters:
    description:
      - Names of template parameters whose values are secret. Their values are masked in everything the task
        returns (the invocation, the execution's parameters and outputs, error messages), and nothing else is.
      - Also secret without being named, the parameters that O(template_content) declares C(NoEcho) or with the
        C(ALIYUN::OOS::SecretParameter::Value) association, and those whose value is a C({{ oos-secret:name }})
        reference (the reference stays readable; what OOS returns under that name is masked).
      - With O(template_name), name the stored template's secret parameters here.
      - A secret value shorter than 6 characters is masked where it stands as a parameter value but not inside
        other text, where it would match inside ids and words; the task warns about it.
    type: list
    elements: str
  mode:
    description: Execution mode. V(Debug) and V(FailurePause) leave the execution C(Waiting) for notifications.
    type: str
    choices: [Automatic, Debug, FailurePause]
    default: Automatic
  loop_mode:
    description: How loop batches run.
    type: str
    choices: [Automatic, FirstBatchPause, EveryBatchPause]
    default: Automatic
  safety_check:
    description:
      - V(Skip) runs high-risk actions without asking. The playbook run is the operator's confirmation.
      - V(ConfirmEveryHighRiskAction) (the OOS API default) leaves the execution C(Waiting) before every
        high-risk action. Use V(state=approved) to confirm, and O(wait_until=waiting) to get the task back.
    type: str
    choices: [Skip, ConfirmEveryHighRiskAction]
    default: Skip
  tags:
    description: Tags of the execution.
    type: dict
  description:
    description: Description of the execution.
    type: str
  resource_group_id:
    description: Resource group of the execution.
    type: str
  client_token:
    description:
      - Idempotency token of C(StartExecution). The default is derived from the template, version, content,
        parameters, modes, tags, description and resource group.
      - The same inputs therefore return the same execution, as long as it exists. Set a token, for example one
        that includes a date, to deliberately start a new execution with identical inputs.
      - A token given here that started an execution which was deleted since fails the task; the default token
        moves on to a new execution instead.
    type: str
  execution_id:
    description: The execution to approve, reject or cancel. Required unless V(state=started).
    type: str
  pending_task:
    description:
      - With V(state=approved) or V(state=rejected), act only when a task with this name or action
        (such as V(ACS::Approve)) is one of the execution's current tasks.
    type: str
  notify_note:
    description: Note recorded with the approval or rejection.
    type: str
  wait:
    description: Wait for the execution to end (see O(wait_until)).
    type: bool
    default: true
  wait_until:
    description:
      - V(finished) waits for C(Success), C(Failed) or C(Cancelled).
      - V(waiting) also returns as soon as the execution is C(Waiting), for example for an approval given by a later task.
        After V(state=approved) or V(state=rejected), only a wait on another task counts (a further approval),
        because OOS takes a moment to leave C(Waiting) after an answer.
    type: str
    choices: [finished, waiting]
    default: finished
  wait_timeout:
    description: Seconds to wait before the task fails. The execution keeps running.
    type: int
    default: 1800
  cancel_on_interrupt:
    description:
      - Cancel the execution when C(ansible-playbook) is interrupted (Ctrl-C, SIGTERM) while this task waits for it.
      - By default an interrupted wait leaves the execution running in OOS, as it would be without Ansible.
        Converted templates set it for the tasks they hand to OOS, which are part of the playbook's own run.
    type: bool
    default: false
  poll_interval:
    description: Seconds between two status polls while waiting.
    type: float
    default: 5
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
attributes:
  check_mode:
    support: full
    details: Reports whether an execution would be started, approved, rejected or cancelled. Sends no change.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
notes:
  - Outputs are returned parsed. The template's C(Outputs) JSON string becomes a mapping, and so do every
    task's C(Outputs) and C(Properties).
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Run a stored runbook and wait for it
  alicloud.oos.oos_execution:
    template_name: restart-web
    parameters:
      targets: {Type: Tags, Tags: [{Key: App, Value: web}]}
  register: run

- name: Use its outputs
  ansible.builtin.debug:
    var: run.outputs

- name: Start an execution that needs approval, return once it waits
  alicloud.oos.oos_execution:
    template_name: delete-old-instances
    wait_until: waiting
  register: pending

- name: Approve it (only if the approval task is what it waits on), then wait for the end
  alicloud.oos.oos_execution:
    state: approved
    execution_id: "{{ pending.execution_id }}"
    pending_task: ACS::Approve
    notify_note: approved by the change board

- name: Cancel an execution
  alicloud.oos.oos_execution:
    state: cancelled
    execution_id: "{{ pending.execution_id }}"
"""

RETURN = r"""
execution_id:
  description: Id of the execution. It is null in check mode with V(state=started).
  returned: always
  type: str
  sample: exec-44d32b45d2a449e
status:
  description: Status of the execution (Started, Queued, Running, Waiting, Success, Failed, Cancelled).
  returned: always
  type: str
  sample: Success
status_reason:
  description: Why the execution is in its status (empty on success).
  returned: when not in check mode
  type: str
  sample: "Task stopInstance failed: ECS StopInstance failed: IncorrectInstanceStatus: ..."
outputs:
  description: The template outputs, parsed.
  returned: when not in check mode
  type: dict
  sample: {instanceIds: [i-bp1aaaaaaaaaaaaaaaaa]}
task_executions:
  description: The top-level task executions, in order.
  returned: when not in check mode
  type: list
  elements: dict
  contains:
    task_name:
      description: Task name.
      type: str
      returned: always
    task_action:
      description: Task action.
      type: str
      returned: always
    status:
      description: Task status (Success, Failed, Skipped, Waiting...).
      type: str
      returned: always
    status_message:
      description: Why the task failed or was skipped.
      type: str
      returned: always
    outputs:
      description: Task outputs, parsed.
      type: dict
      returned: always
    properties:
      description: The task properties as resolved by OOS.
      type: dict
      returned: always
    child_execution_id:
      description: Child execution of a nested template or cloud product action.
      type: str
      returned: always
waiting_tasks:
  description:
    - The tasks the execution waits on (same keys as the items of RV(task_executions)), found in its child
      executions too (an C(ACS::Approve) inside a nested template or cloud product action).
  returned: when the execution is Waiting
  type: list
  elements: dict
failed_task:
  description: The failing task (same keys as the items of RV(task_executions)) when the execution failed.
  returned: when the execution failed
  type: dict
execution:
  description: The whole execution as C(ListExecutions) returns it, in snake_case, with outputs and parameters parsed.
  returned: when not in check mode
  type: dict
client_token:
  description: The C(ClientToken) sent with C(StartExecution).
  returned: when state=started
  type: str
  sample: ansible-5d41402abc4b2a76b9719d911017c592ae2b3c4d5e6f7a8b
"""

from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule
from ansible_collections.alicloud.oos.plugins.module_utils.oos_executions import (
    LOOP_MODES,
    MODES,
    SAFETY_CHECKS,
    execution_task,
)


def main():
    module = AlicloudModule(
        argument_spec=dict(
            state=dict(type="str", choices=["started", "approved", "rejected", "cancelled"], default="started"),
            template_name=dict(type="str"),
            template_version=dict(type="str"),
            template_content=dict(type="raw"),
            parameters=dict(type="dict", default={}),
            secret_parameters=dict(type="list", elements="str", no_log=False),
            mode=dict(type="str", choices=list(MODES), default="Automatic"),
            loop_mode=dict(type="str", choices=list(LOOP_MODES), default="Automatic"),
            safety_check=dict(type="str", choices=list(SAFETY_CHECKS), default="Skip"),
            tags=dict(type="dict"),
            description=dict(type="str"),
            resource_group_id=dict(type="str"),
            client_token=dict(type="str", no_log=False),
            execution_id=dict(type="str"),
            pending_task=dict(type="str"),
            notify_note=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_until=dict(type="str", choices=["finished", "waiting"], default="finished"),
            wait_timeout=dict(type="int", default=1800),
            cancel_on_interrupt=dict(type="bool", default=False),
            poll_interval=dict(type="float", default=5),
        ),
        mutually_exclusive=[("template_name", "template_content")],
        required_if=[("state", "approved", ("execution_id",)), ("state", "rejected", ("execution_id",)),
                     ("state", "cancelled", ("execution_id",))],
        supports_check_mode=True,
    )
    module.run(execution_task)


if __name__ == "__main__":
    main()
