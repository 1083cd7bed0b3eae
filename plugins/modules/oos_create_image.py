#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_create_image
short_description: Create a custom ECS image, idempotent by name (ACS::ECS::CreateImage)
version_added: 0.1.0
description:
  - Creates a custom image from an instance, a snapshot or disk mappings, the way the OOS cloud product
    action C(ACS::ECS::CreateImage) does (check the source, create, wait until C(Available)); with
    O(stop_instance) it first stops the instance and waits, as the ACS-ECS-UpdateImage flow does.
  - Idempotent by O(image_name). An C(Available) image with that name is returned with
    C(changed=false); one that is still C(Creating) is waited on instead of being created twice.
  - The C(ClientToken) is derived from the inputs, so a retried request cannot create a second image. Once the
    image it made is deleted (or its creation failed), the token is derived anew, so the next run makes a new image.
  - With O(state=absent) the image O(image_id) is deleted. Images are never deleted by name.
  - Over inventory hosts without O(instance_id), O(snapshot_id) or O(disk_device_mapping), the action plugin
    takes the host's instance from its hostvars; each host creates its own image (use a per-host
    O(image_name)). O(state=absent) never involves the host's instance.
options:
  state:
    description: V(present) creates the image, V(absent) deletes O(image_id).
    type: str
    choices: [present, absent]
    default: present
  instance_id:
    description:
      - Instance to image (all its disks). Must be C(Running) or C(Stopped).
      - Set exactly one of O(instance_id), O(snapshot_id) and O(disk_device_mapping).
    type: str
  snapshot_id:
    description: System disk snapshot to create the image from.
    type: str
  disk_device_mapping:
    description:
      - Disks of the image, as the API's C(DiskDeviceMapping) (keys C(SnapshotId), C(Size), C(Device),
        C(DiskType); snake_case keys are accepted too).
    type: list
    elements: dict
  image_id:
    description: Image to delete with O(state=absent).
    type: str
  image_name:
    description:
      - Name of the image, 2 to 128 characters starting with a letter. Required for O(state=present).
    type: str
  image_version:
    description: Version label of the image.
    type: str
  image_family:
    description: Image family the image belongs to.
    type: str
  description:
    description: Description of the image.
    type: str
  tags:
    description: Tags of the image (at most 20).
    type: dict
  stop_instance:
    description:
      - Stop O(instance_id) first and wait until it is C(Stopped), for a consistent image. It is not
        started again (use M(alicloud.oos.oos_instance)).
    type: bool
    default: false
  force_delete:
    description: With O(state=absent), delete even if instances use the image (C(Force)).
    type: bool
    default: false
  wait:
    description: Wait until the image is C(Available).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the instance to stop and the image to become C(Available).
    type: int
    default: 3600
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
  - alicloud.oos.instance_selection.action_plugin
attributes:
  check_mode:
    support: full
    details: Reports whether an image would be created or deleted; sends no mutating request.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Image a web server after stopping it (ACS-ECS-UpdateImage flow)
  alicloud.oos.oos_create_image:
    instance_id: i-bp1aaaaaaaaaaaaaaaaa
    image_name: web-2024-06-01
    image_version: "1.4"
    tags: {Role: web}
    stop_instance: true
  register: image

- name: Start the instance again
  alicloud.oos.oos_instance:
    instance_id: i-bp1aaaaaaaaaaaaaaaaa
    state: running

- name: Delete an old image by id
  alicloud.oos.oos_create_image:
    state: absent
    image_id: m-bp1oldoldoldoldoldol
"""

RETURN = r"""
image_id:
  description: Id of the image (null in check mode when it would be created).
  returned: always
  type: str
  sample: m-bp1aaaaaaaaaaaaaaaaa
image_name:
  description: Name of the image.
  returned: when state=present
  type: str
  sample: web-2024-06-01
status:
  description: Image status (C(Available), C(Creating), ...; C(Deleted) after O(state=absent)).
  returned: always
  type: str
  sample: Available
progress:
  description: Creation progress.
  returned: when state=present
  type: str
  sample: 100%
creation_time:
  description: When the image was created (UTC).
  returned: when state=present
  type: str
  sample: "2024-06-01T00:00:00Z"
stopped_instance:
  description: Whether O(instance_id) was stopped by this task (predicted in check mode).
  returned: when state=present
  type: bool
request_ids:
  description:
    - Request ids of every successful API request the task sent (to correlate with ActionTrail).
    - Over inventory hosts, the requests that concerned this host's instance (a batched call serves several hosts).
  returned: always
  type: list
  elements: str
  sample: [4C6B9E1A-2F3D-4E5F-8A9B-0C1D2E3F4A5B]
"""

from ansible_collections.alicloud.oos.plugins.module_utils.images import image_argument_spec, image_task
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import run_instance_module


def main():
    run_instance_module(image_argument_spec(), image_task)


if __name__ == "__main__":
    main()
