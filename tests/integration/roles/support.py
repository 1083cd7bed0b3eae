"""What the role tests share: the network a builder instance needs, and leftovers of interrupted runs."""
from __future__ import annotations

import sys

from tests.conftest import REPO_ROOT

if str(REPO_ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / ".collections"))

from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth  # noqa: E402
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient  # noqa: E402

SOURCE_IMAGE = "aliyun_3_x64_20G_alibase_20240101.vhd"
ROLE_TAG = "alicloud.oos:role"


def ecs(emulator) -> AlicloudClient:
    """A client of the emulator, for test set-up only (the roles are always run through ansible-playbook)."""
    return AlicloudClient(resolve_auth({}, emulator.env), "ecs", region=emulator.region, endpoint=emulator.url)


def network(emulator) -> dict:
    """Security group and vSwitch of the seeded fleet: what the update_image role needs for its builder."""
    first = ecs(emulator).call("DescribeInstances", {})["Instances"]["Instance"][0]
    return {"ecs_update_image_security_group_id": first["SecurityGroupIds"]["SecurityGroupId"][0],
            "ecs_update_image_vswitch_id": first["VpcAttributes"]["VSwitchId"]}


def run_instance(emulator, name: str, tags: dict) -> str:
    """An instance as RunInstances creates it: a leftover builder when the tags are the role's."""
    body = ecs(emulator).call("RunInstances", {
        "ImageId": SOURCE_IMAGE, "InstanceType": "ecs.g6.large", "InstanceName": name, "Amount": 1,
        "Tag": [{"Key": key, "Value": value} for key, value in tags.items()]})
    return body["InstanceIdSets"]["InstanceIdSet"][0]


def leftover_builder(emulator, image_name: str, run_id: str = "interrupted0001") -> str:
    """What a run of ecs_update_image killed together with its watcher leaves: a tagged builder."""
    return run_instance(emulator, f"{image_name}-builder", {
        ROLE_TAG: "ecs_update_image", "alicloud.oos:image": image_name, "alicloud.oos:run": run_id})


def instance_ids(emulator) -> set:
    return {i["InstanceId"] for i in emulator.instances()}
