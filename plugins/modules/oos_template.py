#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_template
short_description: Publish, update and delete OOS templates
version_added: 0.1.0
description:
  - Creates an Operation Orchestration Service (OOS) template from a file or inline content (YAML or JSON),
    updates it, or deletes it.
  - The content is checked with C(ValidateTemplateContent) first; its error message is the task's failure message.
  - A new template version is created only when the content really changed. The current and desired
    contents are compared B(parsed), so comments, key order, quoting and JSON versus YAML do not count.
  - The content is data. It is parsed with a safe YAML loader, never evaluated, and C({{ }}) references in it
    are sent to OOS unchanged. Pass it with O(src) or as a string. A C(lookup('file', ...)) value would be
    templated by Ansible first.
options:
  name:
    description:
      - Name of the template. Use 1 to 200 letters, digits, C(-) or C(_).
      - Names starting with C(ALIYUN), C(ACS), C(ALIBABA) or C(ALICLOUD) are reserved by OOS.
    type: str
    required: true
    aliases: [template_name]
  state:
    description: V(present) creates or updates the template, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  src:
    description:
      - Path of a YAML or JSON template file, read on the host that runs the module (usually C(localhost)).
      - Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The template as YAML or JSON text, or as a mapping (sent as JSON).
      - Mark text that holds C({{ }}) with C(!unsafe), or load it from O(src), so Ansible does not template it.
    type: raw
  validate:
    description: Check the content with C(ValidateTemplateContent) before anything is created or updated.
    type: bool
    default: true
  version_name:
    description: Name of the new version (only used when a version is created).
    type: str
  tags:
    description:
      - Tags of the template. When set, they replace the current tags. When unset, the tags are left as they are.
    type: dict
  resource_group_id:
    description: Resource group of the template.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
attributes:
  check_mode:
    support: full
    details: Validates the content and reports what would change. Nothing is created, updated or deleted.
  diff_mode:
    support: full
    details: Shows the current and desired template text.
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Publish a runbook from git
  alicloud.oos.oos_template:
    name: restart-web
    src: "{{ playbook_dir }}/templates/oos/restart-web.yml"
    tags: {team: web}
  register: published

- name: Inline content (JSON or YAML text)
  alicloud.oos.oos_template:
    name: describe-running
    content: !unsafe |
      FormatVersion: OOS-2019-06-01
      Tasks:
        - Name: describe
          Action: ACS::ExecuteAPI
          Properties:
            Service: ECS
            API: DescribeInstances
            Parameters: {Status: Running}

- name: Remove it
  alicloud.oos.oos_template:
    name: describe-running
    state: absent
"""

RETURN = r"""
template_name:
  description: Name of the template.
  returned: always
  type: str
  sample: restart-web
template_id:
  description: Id of the template. It is null in check mode when the template would be created.
  returned: when the template exists
  type: str
  sample: t-94753deed38
template_version:
  description: Current version of the template.
  returned: when the template exists
  type: str
  sample: v2
hash:
  description: SHA-256 of the template content.
  returned: when state=present
  type: str
  sample: 4bc7d7a21b3e0b5d5b4d1f7e3a9c2b1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b
template_format:
  description: C(YAML) or C(JSON).
  returned: when state=present
  type: str
  sample: YAML
created:
  description: Whether the template was created (rather than updated or left unchanged).
  returned: when state=present
  type: bool
  sample: false
tags:
  description: Tags of the template.
  returned: when state=present
  type: dict
  sample: {team: web}
"""

from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule
from ansible_collections.alicloud.oos.plugins.module_utils.oos_templates import template_task


def main():
    module = AlicloudModule(
        argument_spec=dict(
            name=dict(type="str", required=True, aliases=["template_name"]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            src=dict(type="path"),
            content=dict(type="raw"),
            validate=dict(type="bool", default=True),
            version_name=dict(type="str"),
            tags=dict(type="dict"),
            resource_group_id=dict(type="str"),
        ),
        mutually_exclusive=[("src", "content")],
        required_if=[("state", "present", ("src", "content"), True)],
        supports_check_mode=True,
    )
    module.run(template_task)


if __name__ == "__main__":
    main()
