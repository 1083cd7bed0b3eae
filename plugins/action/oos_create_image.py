# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alicloud.oos.oos_create_image: runs on the controller; over inventory hosts, each host
images its own instance (from hostvars, or found by IP with the shared per-run IP cache)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils import images
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_action import InstanceActionBase


class ActionModule(InstanceActionBase):
    MODULE = "alicloud.oos.oos_create_image"
    ARGUMENT_SPEC = staticmethod(images.image_argument_spec)
    TASK = staticmethod(images.image_task)
    SELECTION_OPTIONS = ("instance_id", "snapshot_id", "disk_device_mapping")
    BATCHABLE = False  # one image per host: nothing to share but the instance lookup

    def instance_from_host(self, args):
        # Deleting names the image only: no host instance is involved.
        return args.get("state") != "absent" and super().instance_from_host(args)
