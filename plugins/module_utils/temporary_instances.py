# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Temporary instances: instances a role creates for its own use (the builder of ``ecs_update_image``),
found by their tags and deleted, now or when the Ansible run that created them ends.

* Only instances tagged ``alicloud.oos:role`` can be selected: ``tags`` must name that key, so a
  user's instance is never selected, whatever else the tags say.
* An instance tagged ``alicloud.oos:image=NAME`` is the source of the image NAME: while that image is
  still ``Creating`` the instance is kept (ECS: do not change an instance while its image is created),
  and deleted once the image is Available or failed.
* Deleting waits out the transitional statuses (``Pending``, ``Starting``, ``Stopping``) in which ECS
  refuses DeleteInstance; an instance that is already gone counts as deleted.
* Check mode reports what would be deleted and sends only Describe calls.

``mode: delete_on_exit`` hands the same deletion to a watcher (:mod:`run_watch`) that runs it if the
Ansible run ends (Ctrl-C, kill, crash) before ``mode: release``.
"""
from __future__ import annotations

import hashlib
import json
import time

from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.images import find_by_name, wait_available
from ansible_collections.alicloud.oos.plugins.module_utils.run_watch import release_watch, start_watch
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import WaitFailed

OWNER_TAG = "alicloud.oos:role"
IMAGE_TAG = "alicloud.oos:image"
MODES = ("delete", "delete_on_exit", "release")
# ECS refuses DeleteInstance in these statuses (even with Force): wait for the transition to end.
TRANSITIONAL_STATUSES = ("Pending", "Starting", "Stopping")
RETRY_CODES = ("IncorrectInstanceStatus", "IncorrectInstanceStatus.Initializing")
GONE_CODES = ("InvalidInstanceId.NotFound",)
POLL_SECONDS = 1.0

TEMPORARY_INSTANCES_ARGUMENT_SPEC = {
    "tags": {"type": "dict", "required": True},
    "instance_ids": {"type": "list", "elements": "str", "default": []},
    "mode": {"type": "str", "default": "delete", "choices": list(MODES)},
    "wait_timeout": {"type": "int", "default": 1800},
}


def validate_tags(tags) -> dict:
    """The selecting tags: a mapping that names ``alicloud.oos:role``, every value a non-empty string."""
    if not isinstance(tags, dict) or not tags:
        raise AlicloudInputError("tags", f"tags must be a mapping that includes {OWNER_TAG}, such as "
                                 f"{{'{OWNER_TAG}': ecs_update_image}}")
    if not tags.get(OWNER_TAG):
        raise AlicloudInputError("tags", f"tags must include {OWNER_TAG} with the role's name: only instances a role "
                                 "of this collection created and tagged are temporary; got "
                                 f"{', '.join(sorted(map(str, tags)))}")
    selected = {}
    for key, value in tags.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
            raise AlicloudInputError(f"tags.{key}", f"tags.{key} must be a non-empty string, got {value!r}")
        selected[str(key)] = str(value)
    return selected


def find_temporary_instances(client, tags: dict) -> list:
    """Instances that carry every one of ``tags`` (checked again here: the selection must be exact)."""
    found = describe_instances(client, {"tags": tags}, field_name="tags")
    return [i for i in found if all((i.get("tags") or {}).get(k) == v for k, v in tags.items())]


def _summary(instance: dict) -> dict:
    return {"instance_id": instance["instance_id"], "instance_name": instance.get("instance_name"),
            "status": instance.get("status"), "image_name": (instance.get("tags") or {}).get(IMAGE_TAG)}


def _wait_for_image(client, name: str, deadline: float, clock) -> None:
    """Let an image that is still being created from the instance finish (a failed one, or one that cannot be
    described, is no reason to keep the instance)."""
    try:
        image = find_by_name(client, name)
        if image is not None and image["status"] != "Available":
            wait_available(client, image, timeout=max(1.0, deadline - clock()))
    except (WaitFailed, AlicloudError):
        pass


def _wait_settled(client, instance_id: str, deadline: float, sleep, clock) -> None:
    """Wait while the instance is in a status where ECS refuses to delete it (or until it is gone). When it
    cannot be described, deleting is tried all the same (and retried while ECS refuses)."""
    while clock() + POLL_SECONDS <= deadline:
        try:
            found = describe_instances(client, {"InstanceIds": [instance_id]})
        except AlicloudError:
            return
        if not found or found[0].get("status") not in TRANSITIONAL_STATUSES:
            return
        sleep(POLL_SECONDS)


def _delete_one(client, instance_id: str, deadline: float, sleep, clock) -> None:
    _wait_settled(client, instance_id, deadline, sleep, clock)
    while True:
        try:
            client.call("DeleteInstance", {"InstanceId": instance_id, "Force": True}, idempotent=True)
            return
        except AlicloudError as error:
            if error.code in GONE_CODES:
                return
            if error.code not in RETRY_CODES or clock() + POLL_SECONDS > deadline:
                raise
        sleep(POLL_SECONDS)


def delete_temporary_instances(client, tags: dict, check_mode: bool = False, wait_timeout: float = 1800,
                               instance_ids=(), sleep=time.sleep, clock=time.monotonic) -> dict:
    """Delete every instance that carries ``tags``; ``{"changed", "instances"}`` (what was, or would be, deleted).

    ``instance_ids`` are the run's own instances (from its RunInstances answer). When the instances can be
    described, only those that carry ``tags`` are deleted, as any other; when DescribeInstances fails, they are
    deleted all the same - an outage must not keep the run's own instance alive - and the error is raised after.
    """
    search_error = None
    try:
        instances = find_temporary_instances(client, tags)
    except AlicloudError as error:
        if not instance_ids:
            raise
        search_error = error
        instances = [{"instance_id": i, "status": None, "tags": dict(tags)} for i in dict.fromkeys(instance_ids)]
    result = {"changed": bool(instances), "instances": [_summary(i) for i in instances]}
    if check_mode:
        return result
    deadline = clock() + wait_timeout
    for instance in instances:
        image_name = (instance.get("tags") or {}).get(IMAGE_TAG)
        if image_name:
            _wait_for_image(client, image_name, deadline, clock)
        _delete_one(client, instance["instance_id"], deadline, sleep, clock)
    if search_error is not None:
        raise AlicloudError(f"deleted this run's instance(s) {', '.join(i['instance_id'] for i in instances)}, but "
                            f"could not look for other instances tagged {json.dumps(tags, sort_keys=True)}: "
                            f"{search_error}", code=search_error.code, request_id=search_error.request_id)
    return result


def watch_key(tags: dict, region: str | None) -> str:
    """Names the watcher of these tags in this region (the same tags given to ``release`` find it)."""
    text = json.dumps({"tags": tags, "region": region or ""}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def temporary_instances_task(module) -> dict:
    """What ``alicloud.oos.oos_temporary_instances`` does with its parameters."""
    params = module.params
    tags = validate_tags(params["tags"])
    mode = params["mode"]
    key = watch_key(tags, module.region)
    if mode == "release":
        released = False if module.check_mode else release_watch(key)
        return {"changed": False, "released": released, "instances": []}
    if mode == "delete_on_exit":
        if module.check_mode:
            # A check run creates nothing, so there is nothing to watch for.
            return {"changed": False, "watch": None, "instances": []}
        auth, timeout, known = module.auth, params["wait_timeout"], params["instance_ids"]

        def cleanup():
            # Runs in the watcher, after this module has returned: everything it needs is imported already.
            return delete_temporary_instances(AlicloudClient(auth, "ecs"), tags, wait_timeout=timeout,
                                              instance_ids=known)

        watch = start_watch(key, cleanup, description=f"instances tagged {json.dumps(tags, sort_keys=True)}")
        if watch.get("warning"):
            module.warn(watch["warning"])
        return {"changed": False, "watch": watch, "instances": []}
    result = delete_temporary_instances(module.client("ecs"), tags, check_mode=module.check_mode,
                                        wait_timeout=params["wait_timeout"], instance_ids=params["instance_ids"])
    result["request_ids"] = module.request_ids
    return result
