#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_instance_info
short_description: Gather facts about ECS instances by ids, OOS Targets, filters or tags
version_added: 0.2.0
description:
  - Lists the ECS instances of a region that an instance selection means, with the same record per
    instance as the C(alicloud.oos.ecs) inventory's host variables (C(tags) instead of C(ecs_tags)).
  - Without a selection, every instance of the region.
  - Read-only, one C(DescribeInstances) call per 100 instances.
  - Runs where the task runs; over inventory hosts use C(delegate_to=localhost) (or C(run_once)).
options:
  instance_id:
    description:
      - One ECS instance id. An unknown id is an error.
    type: str
  instance_ids:
    description:
      - ECS instance ids. Unknown ids are an error.
    type: list
    elements: str
  targets:
    description:
      - An OOS C(Targets) value, as in OOS templates.
    type: raw
  filters:
    description:
      - DescribeInstances filters, the same keys as the C(alicloud.oos.ecs) inventory's C(filters).
    type: dict
  tags:
    description:
      - "The instances that carry every one of these tags, such as V({Env: prod}) (a V(null) value matches any
        value of the key). Combines with O(filters)."
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Every running instance tagged Env=prod
  alicloud.oos.oos_instance_info:
    tags: {Env: prod}
    filters: {Status: Running}
  register: prod

- name: Their private addresses
  ansible.builtin.debug:
    msg: "{{ prod.instances | map(attribute='private_ip') | list }}"

- name: Two instances by id
  alicloud.oos.oos_instance_info:
    instance_ids: [i-bp1aaaaaaaaaaaaaaaaa, i-bp1bbbbbbbbbbbbbbbbb]
  register: two
"""

RETURN = r"""
instances:
  description: One record per instance.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: Instance id.
      type: str
      sample: i-bp1aaaaaaaaaaaaaaaaa
    instance_name:
      description: Instance name.
      type: str
    status:
      description: C(Running), C(Stopped), C(Starting), C(Stopping) or C(Pending).
      type: str
      sample: Running
    region_id:
      description: Region.
      type: str
      sample: cn-hangzhou
    zone_id:
      description: Zone.
      type: str
    private_ip:
      description: First private IP address.
      type: str
    public_ip:
      description: First public IP address.
      type: str
    tags:
      description: Tags as a mapping.
      type: dict
      sample: {Env: prod}
instance_ids:
  description: The ids of RV(instances), in order.
  returned: always
  type: list
  elements: str
request_ids:
  description: Request ids of the API requests the task sent.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import run_instance_module
from ansible_collections.alicloud.oos.plugins.module_utils.instance_info import (
    instance_info_argument_spec,
    instance_info_task,
)


def main():
    run_instance_module(instance_info_argument_spec(), instance_info_task)


if __name__ == "__main__":
    main()
