# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``per_host``: one instance's entry of a fleet result of oos_run_command or oos_instance.

A ``run_once`` task over the whole play registers the same result on every host; each host then
takes its own entry with ``fleet | alicloud.oos.per_host(instance_id)``.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

LIST_KEYS = ("results", "instances")


def per_host(result, instance_id, default=None, strict=True):
    """The entry of ``result.results`` (oos_run_command) or ``result.instances`` (oos_instance) whose
    ``instance_id`` is ``instance_id``."""
    if not isinstance(result, dict):
        raise AnsibleFilterError(f"per_host: expected a registered oos_run_command/oos_instance result, got "
                                 f"{type(result).__name__}")
    entries = next((result[key] for key in LIST_KEYS if isinstance(result.get(key), list)), None)
    if entries is None:
        raise AnsibleFilterError("per_host: the result has no 'results' or 'instances' list; register the result of "
                                 "alicloud.oos.oos_run_command or alicloud.oos.oos_instance")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("instance_id") == instance_id:
            return entry
    if default is not None or not strict:
        return default
    raise AnsibleFilterError(f"per_host: instance {instance_id!r} is not in the result ({len(entries)} instance(s)); "
                             "pass default=... to allow that")


class FilterModule:
    def filters(self):
        return {"per_host": per_host}
