# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.oos.oos_create_image: runs on the controller; over inventory hosts, each host
images its own instance (from hostvars, or found by IP with the shared per-run IP cache)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils.images import image_argument_spec, image_task
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_batch import InstanceActionBase


class ActionModule(InstanceActionBase):
    MODULE = "alicloud.oos.oos_create_image"
    BATCHABLE = False  # one image per host: nothing to share but the instance lookup
    REQUIRED_IF = (("state", "absent", ("image_id",)),)

    def selection_options(self):
        return ("instance_id", "snapshot_id", "disk_device_mapping", "image_id")

    def argument_spec(self) -> dict:
        return image_argument_spec()

    def task(self, client, params, check_mode, instances):
        if instances is not None:
            params = dict(params, instance_id=instances[0]["instance_id"])
        return image_task(client, params, check_mode=check_mode)

    def split(self, output, instance_id, batch_size):
        return output
