#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_instance
short_description: Describe, start, stop or restart ECS instances in batches (ACS::ECS::StartInstance/StopInstance/RebootInstance)
version_added: 0.1.0
description:
  - Brings a set of ECS instances to a power state the way the OOS cloud product actions
    C(ACS::ECS::StartInstance), C(ACS::ECS::StopInstance) and C(ACS::ECS::RebootInstance) do (read the
    status, act only when needed, wait for the desired status), for a whole fleet at once.
  - Uses the batch APIs (C(StartInstances), C(StopInstances), C(RebootInstances), 100 instances a call)
    and polls the status of every moving instance with one C(DescribeInstances) call per 100 instances.
  - Idempotent. Instances already in the desired state are not touched; transitional states
    (C(Starting), C(Stopping), C(Pending)) are awaited before acting.
  - A batch call whose answer is lost (connection reset, timeout, 5xx) is not repeated blindly. The statuses
    are read back, the instances it changed count as changed by this run (C(changed), handlers), and only
    the ones it did not reach are sent again. No instance is rebooted twice.
  - Over inventory hosts (C(hosts=web)) without an instance option, the action plugin takes each
    host's instance from its hostvars and handles all hosts of the play batch with shared batched calls.
options:
  state:
    description:
      - V(running) starts stopped instances, V(stopped) stops running ones, V(restarted) reboots running
        instances (and starts stopped ones); V(present) only describes them.
      - V(rebooted) reboots running instances and fails for stopped ones (C(IncorrectInstanceStatus), nothing sent
        for them), as C(RebootInstance) and the OOS action C(ACS::ECS::RebootInstance) do.
    type: str
    choices: [running, stopped, restarted, rebooted, present]
    default: present
  force:
    description:
      - Force the stop or reboot (C(ForceStop)/C(ForceReboot)), like pulling the power cord.
    type: bool
    default: false
  stopped_mode:
    description:
      - For O(state=stopped) of pay-as-you-go instances, whether stopped instances keep being charged.
    type: str
    choices: [KeepCharging, StopCharging]
  wait:
    description:
      - Wait until every instance shows the desired status. Without it the task returns once every
        needed call was accepted (waves of O(rate_control) are still awaited, except the last one).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait in total. Instances not in the desired state by then are reported as failed
        with C(error_code=WaitTimeout).
    type: int
    default: 600
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
  - alicloud.oos.instance_selection
  - alicloud.oos.instance_selection.action_plugin
attributes:
  check_mode:
    support: full
    details: Reports which instances would change; sends no mutating request.
  diff_mode:
    support: full
    details: Shows the status of each instance before and after.
  platform:
    platforms: posix
notes:
  - The per-host (inventory) pattern and the C(run_once) fleet pattern send the same batched calls; use the
    P(alicloud.oos.per_host#filter) filter to hand each host its own entry of a C(run_once) result.
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Stop two instances and wait until they are Stopped
  alicloud.oos.oos_instance:
    instance_ids: [i-bp1aaaaaaaaaaaaaaaaa, i-bp1bbbbbbbbbbbbbbbbb]
    state: stopped
    stopped_mode: StopCharging

- name: Stop the running dev web servers (nothing to do when none matches)
  alicloud.oos.oos_instance:
    tags: {Env: dev, App: web}
    filters: {Status: Running}
    state: stopped

- name: Restart every instance tagged Env=prod, 30% at a time, tolerating one failure
  alicloud.oos.oos_instance:
    targets: {Type: Tags, Tags: [{Key: Env, Value: prod}]}
    state: restarted
    rate_control: {Mode: Concurrency, Concurrency: "30%", MaxErrors: 1}

# Inventory-driven: each host's instance comes from hostvars (instance_id, or its IP address);
# all hosts of the play batch share one StartInstances call per 100 instances.
- hosts: web
  gather_facts: false
  tasks:
    - name: Make sure the web servers run
      alicloud.oos.oos_instance:
        state: running

# Fleet pattern: one task for the whole play, then each host picks its own result.
- hosts: web
  gather_facts: false
  tasks:
    - name: Stop the fleet
      alicloud.oos.oos_instance:
        instance_ids: "{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}"
        state: stopped
      run_once: true
      delegate_to: localhost
      register: fleet
    - name: Keep this host's own status
      ansible.builtin.set_fact:
        power: "{{ fleet | alicloud.oos.per_host(instance_id) }}"
"""

RETURN = r"""
instances:
  description: One entry per instance, in the order selected.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: Instance id.
      type: str
      returned: always
      sample: i-bp1aaaaaaaaaaaaaaaaa
    before:
      description: Status before the task.
      type: str
      returned: always
      sample: Running
    after:
      description: Status after the task (predicted in check mode).
      type: str
      returned: always
      sample: Stopped
    changed:
      description: Whether a start, stop or reboot was sent for this instance.
      type: bool
      returned: always
    action:
      description: The action sent (start, stop, reboot) or null.
      type: str
      returned: always
      sample: stop
    error_code:
      description: Why this instance failed, or null.
      type: str
      returned: always
      sample: WaitTimeout
    error_message:
      description: Details of the failure, or null.
      type: str
      returned: always
instance_ids:
  description: The selected instance ids.
  returned: always
  type: list
  elements: str
counts:
  description: Number of instances in total, changed, unchanged and failed.
  returned: always
  type: dict
  sample: {total: 3, changed: 2, unchanged: 1, failed: 0}
failed_instances:
  description: The entries of RV(instances) that failed.
  returned: always
  type: list
  elements: dict
max_errors:
  description: How many failed instances O(rate_control) tolerates (0 without rate control).
  returned: always
  type: int
request_ids:
  description:
    - Request ids of every successful API request the task sent (to correlate with ActionTrail).
    - Over inventory hosts, the requests that concerned this host's instance (a batched call serves several hosts).
  returned: always
  type: list
  elements: str
  sample: [4C6B9E1A-2F3D-4E5F-8A9B-0C1D2E3F4A5B]
"""

from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import run_instance_module
from ansible_collections.alicloud.oos.plugins.module_utils.instance_power import instance_argument_spec, instance_task


def main():
    run_instance_module(instance_argument_spec(), instance_task)


if __name__ == "__main__":
    main()
