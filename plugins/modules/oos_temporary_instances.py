#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_temporary_instances
short_description: Delete the temporary instances of a role, now or if the Ansible run is interrupted
version_added: 0.1.0
description:
  - A role that creates an instance for its own use (the builder instance of the C(alicloud.oos.ecs_update_image)
    role) tags it with C(alicloud.oos:role) and the id of its run. This module deletes the instances that carry
    all of O(tags), and makes sure they are deleted when the run is interrupted.
  - Only instances a role of this collection tagged can be selected, O(tags) must include C(alicloud.oos:role).
  - An instance tagged C(alicloud.oos:image=NAME) is the source of the image NAME. It is deleted only once that
    image is no longer C(Creating), so that the image is not lost.
  - Deleting waits while the instance is C(Pending), C(Starting) or C(Stopping) (ECS refuses to delete it
    then), up to O(wait_timeout). An instance that is already gone counts as deleted.
  - "O(mode=delete_on_exit) starts a watcher process on the controller that deletes the instances when the
    Ansible run ends (Ctrl-C, SIGTERM, a killed C(ansible-playbook), a crash) unless O(mode=release) is
    called with the same O(tags) first. The watcher lives in its own session, so it outlives the run; what
    it does is written to the log file it returns. The task must run on the controller (connection
    C(local) or C(delegate_to: localhost)); elsewhere it warns and starts nothing."
options:
  tags:
    description:
      - The instances to delete carry all these tags. Must include C(alicloud.oos:role).
    type: dict
    required: true
  instance_ids:
    description:
      - The run's own instances, as its C(RunInstances) answered. When the instances can be described, only those
        that carry O(tags) are deleted, like any other; when C(DescribeInstances) fails, these are deleted all the
        same (an outage must not keep the run's own instance alive) and the task then fails with the error.
    type: list
    elements: str
    default: []
  mode:
    description:
      - V(delete) deletes the instances now.
      - V(delete_on_exit) deletes them when this Ansible run ends without V(release).
      - V(release) ends the watcher started by V(delete_on_exit) with the same O(tags), deleting nothing.
    type: str
    choices: [delete, delete_on_exit, release]
    default: delete
  wait_timeout:
    description: Seconds to wait for an image being created from an instance and for transitional statuses.
    type: int
    default: 1800
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
attributes:
  check_mode:
    support: full
    details: V(delete) reports the instances it would delete and sends only Describe requests; no watcher starts.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Make sure the builder is deleted even if this run is interrupted
  alicloud.oos.oos_temporary_instances:
    tags: {"alicloud.oos:role": my_role, "alicloud.oos:run": "{{ run_id }}"}
    mode: delete_on_exit

- name: Create the builder
  alicloud.oos.oos_execute_api:
    service: ecs
    api: RunInstances
    parameters:
      ImageId: aliyun_3_x64_20G_alibase_20240101.vhd
      InstanceType: ecs.g6.large
      Tag: [{Key: "alicloud.oos:role", Value: my_role}, {Key: "alicloud.oos:run", Value: "{{ run_id }}"}]

- name: Delete it, then release the watcher (in the always section of the block that used it)
  alicloud.oos.oos_temporary_instances:
    tags: {"alicloud.oos:role": my_role, "alicloud.oos:run": "{{ run_id }}"}
    mode: "{{ item }}"
  loop: [delete, release]

- name: Delete what interrupted runs of my_role left behind
  alicloud.oos.oos_temporary_instances:
    tags: {"alicloud.oos:role": my_role}
"""

RETURN = r"""
instances:
  description: The instances deleted (or, in check mode, that would be deleted).
  returned: always
  type: list
  elements: dict
  contains:
    instance_id: {description: Instance id., type: str}
    instance_name: {description: Instance name., type: str}
    status: {description: Status when it was found., type: str}
    image_name:
      description: The image created from it (tag C(alicloud.oos:image)), if any.
      type: str
watch:
  description: The watcher (O(mode=delete_on_exit)); C(pid) is null when none could start.
  returned: when mode=delete_on_exit
  type: dict
  contains:
    pid: {description: Process id of the watcher., type: int}
    controller_pid: {description: Process id of the Ansible run it watches., type: int}
    log:
      description: What the watcher did, once it acted.
      type: str
released:
  description: Whether a watcher was released.
  returned: when mode=release
  type: bool
request_ids:
  description: Request ids of every successful API request the task sent.
  returned: when mode=delete
  type: list
  elements: str
"""

from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule
from ansible_collections.alicloud.oos.plugins.module_utils.temporary_instances import (
    TEMPORARY_INSTANCES_ARGUMENT_SPEC,
    temporary_instances_task,
)


def main():
    module = AlicloudModule(argument_spec=dict(TEMPORARY_INSTANCES_ARGUMENT_SPEC), supports_check_mode=True)
    module.run(temporary_instances_task)


if __name__ == "__main__":
    main()
