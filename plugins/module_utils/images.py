# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom images: the behaviour of ``ACS::ECS::CreateImage`` (check the instance, create, wait for
Available) and of the ACS-ECS-UpdateImage flow (stop the instance first), idempotent by name.

* An Available image with the same name is the result (``changed: false``); a Creating one is
  waited on instead of being created twice.
* The ClientToken is derived from the inputs, so a retried or concurrent identical request names the
  same image; once the image a token named is gone (deleted, or its creation failed), the token is
  derived anew (``client_tokens``) and a new image is made. ``InvalidImageName.Duplicated`` from a
  concurrent creator is resolved by waiting on that image.
* ``state: absent`` deletes only the image named by ``image_id``.
"""
from __future__ import annotations

import copy
import re
import time

from ansible_collections.alicloud.oos.plugins.module_utils.client_tokens import MAX_GENERATIONS, derive_client_token
from ansible_collections.alicloud.oos.plugins.module_utils import paging
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    find_instances,
    task_argument_spec,
)
from ansible_collections.alicloud.oos.plugins.module_utils.instance_power import set_power_state
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import wait_for

# Every status, so an image that is still Creating is visible (DescribeImages defaults to Available).
ALL_IMAGE_STATUSES = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
LIVE_STATUSES = ("Creating", "Waiting", "Available")
DEAD_STATUSES = ("CreateFailed", "UnAvailable")
TOKEN_PREFIX = "oos-image-"
# A just-created image is normally listed at once; give a slow listing this long before calling it gone.
VISIBLE_GRACE_SECONDS = 2.0
IMAGE_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5.:_-]{1,127}$")
MAX_TAGS = 20
IMAGES_PAGE_SIZE = 100

IMAGE_ARGUMENT_SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "instance_id": {"type": "str"},
    "snapshot_id": {"type": "str"},
    "disk_device_mapping": {"type": "list", "elements": "dict"},
    "image_id": {"type": "str"},
    "image_name": {"type": "str"},
    "image_version": {"type": "str"},
    "image_family": {"type": "str"},
    "description": {"type": "str"},
    "tags": {"type": "dict"},
    "stop_instance": {"type": "bool", "default": False},
    "force_delete": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 3600},
}


def validate_image_params(params: dict) -> None:
    """Every input check of oos_create_image, before any request."""
    if params.get("state", "present") == "absent":
        if not params.get("image_id"):
            raise AlicloudInputError("image_id", "state=absent deletes one image by its id: set image_id (m-...); "
                                     "images are never deleted by name")
        return
    sources = [name for name in ("instance_id", "snapshot_id", "disk_device_mapping") if params.get(name)]
    if len(sources) != 1:
        raise AlicloudInputError("instance_id", "set exactly one source: instance_id, snapshot_id or disk_device_mapping"
                                 + (f" (got {', '.join(sources)})" if sources else ""))
    name = params.get("image_name")
    if not name:
        raise AlicloudInputError("image_name", "image_name is required to create an image (it also makes the task "
                                 "idempotent)")
    if name.lower().startswith(("http://", "https://")) or not IMAGE_NAME.match(name):
        raise AlicloudInputError("image_name", f"image_name {name!r} is invalid: 2 to 128 characters, starting with a "
                                 "letter, then letters, digits, '.', ':', '_' or '-'")
    if params.get("stop_instance") and not params.get("instance_id"):
        raise AlicloudInputError("stop_instance", "stop_instance needs instance_id: it stops that instance first")
    tags = params.get("tags") or {}
    if len(tags) > MAX_TAGS:
        raise AlicloudInputError("tags", f"tags has {len(tags)} entries; an image takes at most {MAX_TAGS}")
    for index, mapping in enumerate(params.get("disk_device_mapping") or []):
        if not (mapping.get("SnapshotId") or mapping.get("snapshot_id") or mapping.get("Size") or mapping.get("size")):
            raise AlicloudInputError(f"disk_device_mapping[{index}]", f"disk_device_mapping[{index}] needs SnapshotId "
                                     "(or Size for an empty data disk)")
    timeout = params.get("wait_timeout")
    if timeout is not None and timeout < 1:
        raise AlicloudInputError("wait_timeout", f"wait_timeout is {timeout}: give a number of seconds >= 1")


def client_token(params: dict, region: str | None, gone: str | None = None) -> str:
    """The ClientToken of an image request: the same for the same inputs, derived anew past an image that
    is ``gone``."""
    keys = ("instance_id", "snapshot_id", "disk_device_mapping", "image_name", "image_version", "image_family",
            "description", "tags")
    return derive_client_token(TOKEN_PREFIX, [region] + [params.get(k) for k in keys], gone=gone)


def normalize_image(raw: dict) -> dict:
    return {
        "image_id": raw.get("ImageId"),
        "image_name": raw.get("ImageName"),
        "status": raw.get("Status"),
        "progress": raw.get("Progress"),
        "creation_time": raw.get("CreationTime"),
        "image_version": raw.get("ImageVersion") or None,
        "description": raw.get("Description") or None,
        "size": raw.get("Size"),
        "tags": {t.get("TagKey"): t.get("TagValue") for t in (raw.get("Tags") or {}).get("Tag") or []
                 if isinstance(t, dict)},
    }


def _describe(client, params: dict) -> list:
    def items_of(body):
        return (body.get("Images") or {}).get("Image") or [], body.get("TotalCount")

    images = paging.all_items(client, "DescribeImages", dict(params, Status=ALL_IMAGE_STATUSES), IMAGES_PAGE_SIZE, items_of)
    return [normalize_image(i) for i in images]


def find_image(client, image_id: str) -> dict | None:
    images = [i for i in _describe(client, {"ImageId": image_id}) if i["image_id"] == image_id]
    return images[0] if images else None


def find_by_name(client, name: str) -> dict | None:
    """The live (Creating, Waiting or Available) own image with exactly this name, if any.

    DescribeImages matches ImageName fuzzily, so the exact name is checked here.
    """
    images = [i for i in _describe(client, {"ImageName": name, "ImageOwnerAlias": "self"})
              if i["image_name"] == name and i["status"] in LIVE_STATUSES]
    images.sort(key=lambda i: (i["status"] != "Available", i["creation_time"] or ""))
    return images[0] if images else None


def wait_available(client, image: dict, timeout: float) -> dict:
    """ACS::WaitFor on DescribeImages until the image is Available (CreateFailed fails at once)."""
    if image["status"] == "Available":
        return image
    image_id = image["image_id"]

    def fetch():
        latest = find_image(client, image_id)
        if latest is None:
            raise AlicloudError(f"image {image_id} disappeared while being created", code="ImageNotFound",
                                product="ecs", action="DescribeImages")
        return latest

    def status(latest):
        return [latest["status"]]

    waited = wait_for(fetch, status, ["Available"], ["CreateFailed", "UnAvailable"], retries=100000, delay=0.5,
                      delay_type="Exponential", backoff=1.5, max_retry_interval=15, timeout=timeout,
                      field="wait_timeout")
    return waited.data


def _create_params(params: dict) -> dict:
    request = {"ImageName": params["image_name"]}
    if params.get("instance_id"):
        request["InstanceId"] = params["instance_id"]
    elif params.get("snapshot_id"):
        request["SnapshotId"] = params["snapshot_id"]
    else:
        request["DiskDeviceMapping"] = [{_camel(k): v for k, v in m.items()} for m in params["disk_device_mapping"]]
    for option, api_name in (("image_version", "ImageVersion"), ("image_family", "ImageFamily"),
                             ("description", "Description")):
        if params.get(option):
            request[api_name] = params[option]
    if params.get("tags"):
        request["Tag"] = [{"Key": k, "Value": "" if v is None else str(v)} for k, v in params["tags"].items()]
    return request


def _camel(key: str) -> str:
    """``snapshot_id`` -> ``SnapshotId`` (DiskDeviceMapping keys may be given either way)."""
    if "_" not in key and key[:1].isupper():
        return key
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def ensure_image(client, params: dict, check_mode: bool = False, region: str | None = None) -> dict:
    """Create the image ``params`` describe unless it exists; returns the module result."""
    wait = params.get("wait", True)
    timeout = params.get("wait_timeout") or 3600
    existing = find_by_name(client, params["image_name"])
    result = {"changed": False, "stopped_instance": False}
    if existing is not None:
        if existing["status"] != "Available" and wait and not check_mode:
            existing = wait_available(client, existing, timeout)
        result.update(existing)
        return result

    if params.get("instance_id"):
        instance = find_instances(client, "instance_id", [params["instance_id"]])[0]  # unknown id: input error, nothing sent
        if params.get("stop_instance") and instance["status"] != "Stopped":
            if check_mode:
                result["stopped_instance"] = True
            else:
                stop = set_power_state(client, [instance], "stopped", wait=True, wait_timeout=min(timeout, 900))
                if stop["failed_instances"]:
                    failure = stop["failed_instances"][0]
                    raise AlicloudError(f"could not stop instance {instance['instance_id']} before creating the image: "
                                        f"{failure['error_code']} {failure['error_message']}", code=failure["error_code"],
                                        product="ecs", action="StopInstances")
                result["stopped_instance"] = stop["changed"]
    if check_mode:
        result.update({"changed": True, "image_id": None, "image_name": params["image_name"], "status": None,
                       "progress": None, "creation_time": None})
        return result

    try:
        image = create(client, params, region)
        result["changed"] = True
    except AlicloudError as error:
        if error.code != "InvalidImageName.Duplicated":
            raise
        # A concurrent run created it between our lookup and our call: wait on that one.
        image = find_by_name(client, params["image_name"])
        if image is None:
            raise
    if wait:
        image = wait_available(client, image, timeout)
    result.update(image)
    return result


def create(client, params: dict, region: str | None, sleep=time.sleep) -> dict:
    """CreateImage with the derived ClientToken; a token answered with an image that is gone (an earlier
    run's image, deleted since) is derived anew, so that a new image is made."""
    token = client_token(params, region)
    for _generation in range(MAX_GENERATIONS):
        body = client.call("CreateImage", _create_params(params), client_token=token) or {}
        image_id = body.get("ImageId")
        image = _listed(client, image_id, sleep)
        if image is not None and image["status"] not in DEAD_STATUSES:
            return image
        token = client_token(params, region, gone=image_id)
    raise AlicloudError(f"CreateImage kept answering with images that no longer exist ({MAX_GENERATIONS} in a row)",
                        code="ImageNotFound", product="ecs", action="CreateImage")


def _listed(client, image_id, sleep):
    """The image as DescribeImages lists it, allowing a moment for a new image to appear; None if gone."""
    deadline = time.monotonic() + VISIBLE_GRACE_SECONDS
    while True:
        image = find_image(client, image_id) if image_id else None
        if image is not None or not image_id or time.monotonic() >= deadline:
            return image
        sleep(0.5)


def delete_image(client, image_id: str, force: bool = False, check_mode: bool = False) -> dict:
    """Delete exactly ``image_id``; an image that is already gone is ``changed: false``."""
    image = find_image(client, image_id)
    if image is None:
        return {"changed": False, "image_id": image_id, "status": "Deleted"}
    if not check_mode:
        client.call("DeleteImage", {"ImageId": image_id, "Force": bool(force)})
    result = dict(image)
    result.update({"changed": True, "status": "Deleted"})
    return result


def image_argument_spec() -> dict:
    spec = task_argument_spec()
    # An image has one source instance: the fleet options (and batching over them) do not apply; ``tags``
    # are the image's own tags.
    for name in ("instance_ids", "targets", "filters", "tags", "fail_on_no_match", "rate_control", "batch"):
        spec.pop(name, None)
    spec.update(copy.deepcopy(IMAGE_ARGUMENT_SPEC))
    return spec


def image_task(client, params: dict, check_mode: bool = False, instances: list | None = None) -> dict:
    """oos_create_image: validate, then create (idempotent by name) or delete by id.

    ``instances`` (the action plugin's host instance, normalized) replaces ``instance_id``.
    """
    if instances:
        params = dict(params, instance_id=instances[0]["instance_id"])
    validate_image_params(params)
    if params.get("state") == "absent":
        return delete_image(client, params["image_id"], force=params.get("force_delete", False), check_mode=check_mode)
    return ensure_image(client, params, check_mode=check_mode, region=getattr(client, "region", None))
