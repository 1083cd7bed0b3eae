# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host variables that send a host through the ``alicloud.oos.cloud_assistant`` connection
(set by the ``alicloud.oos.ecs`` inventory with ``use_cloud_assistant: true``)."""
from __future__ import annotations

CONNECTION = "alicloud.oos.cloud_assistant"
VARS_PREFIX = "ansible_cloud_assistant_"


def cloud_assistant_hostvars(instance: dict) -> dict:
    """``ansible_connection`` and the instance id and region the connection reads, for one instance record."""
    return {"ansible_connection": CONNECTION, f"{VARS_PREFIX}instance_id": instance["instance_id"],
            f"{VARS_PREFIX}region": instance.get("region_id")}
