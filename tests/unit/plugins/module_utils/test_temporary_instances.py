"""Unit tests of temporary-instance deletion and of the run watcher's process checks (the behaviour end to end,
with signals sent to ansible-playbook, is in tests/integration/test_roles_interrupted.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import run_watch
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.temporary_instances import (
    delete_temporary_instances,
    validate_tags,
    watch_key,
)

ROLE = {"alicloud.oos:role": "ecs_update_image"}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeEcs:
    """DescribeInstances (by tags or ids), DescribeImages and DeleteInstance, with statuses that move on each poll."""

    def __init__(self, instances, images=(), pending_polls=0, down=()):
        self.instances = {i["InstanceId"]: dict(i) for i in instances}
        self.images = [dict(i) for i in images]
        self.pending_polls = pending_polls
        self.down = down
        self.calls = []

    def call(self, action, params=None, method="POST", client_token=None, idempotent=None):
        params = params or {}
        self.calls.append(action)
        if action in self.down:
            raise AlicloudError("temporary failure", code="ServiceUnavailable", http_status=503)
        if action == "DescribeInstances":
            wanted = {params[f"Tag.{n}.Key"]: params[f"Tag.{n}.Value"] for n in range(1, 21) if f"Tag.{n}.Key" in params}
            ids = json.loads(params.get("InstanceIds", "null") or "null")
            if ids:
                if self.pending_polls:
                    self.pending_polls -= 1
                else:
                    for instance in self.instances.values():
                        instance["Status"] = "Running"
            found = [i for i in self.instances.values() if (not ids or i["InstanceId"] in ids)
                     and all(t in {(x["TagKey"], x["TagValue"]) for x in i["Tags"]["Tag"]} for t in wanted.items())]
            return {"TotalCount": len(found), "PageNumber": 1, "PageSize": 100, "Instances": {"Instance": found}}
        if action == "DescribeImages":
            for image in self.images:
                image["Status"] = "Available"      # done by the next poll
            return {"TotalCount": len(self.images), "Images": {"Image": self.images}}
        if action == "DeleteInstance":
            instance = self.instances.pop(params["InstanceId"], None)
            if instance is None:
                raise AlicloudError("gone", code="InvalidInstanceId.NotFound")
            return {}
        raise AssertionError(action)


def instance(instance_id, status="Running", **tags):
    tags = dict(ROLE, **tags)
    return {"InstanceId": instance_id, "Status": status, "RegionId": "cn-hangzhou",
            "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}}


@pytest.mark.parametrize("tags", [None, {}, {"Env": "dev"}, {"alicloud.oos:role": ""}, {**ROLE, "x": True}])
def test_tags_must_name_the_role(tags):
    with pytest.raises(AlicloudInputError) as raised:
        validate_tags(tags)
    assert raised.value.field.startswith("tags")


def test_check_mode_only_describes():
    ecs = FakeEcs([instance("i-1")])
    result = delete_temporary_instances(ecs, validate_tags(ROLE), check_mode=True)
    assert result["changed"] and [i["instance_id"] for i in result["instances"]] == ["i-1"]
    assert ecs.calls == ["DescribeInstances"] and "i-1" in ecs.instances


def test_waits_out_pending_then_deletes_only_the_tagged_instances():
    clock = Clock()
    ecs = FakeEcs([instance("i-1", "Pending", **{"alicloud.oos:run": "a"}), instance("i-2", **{"alicloud.oos:run": "b"})],
                  pending_polls=2)
    result = delete_temporary_instances(ecs, validate_tags(dict(ROLE, **{"alicloud.oos:run": "a"})),
                                        sleep=clock.sleep, clock=clock)
    assert [i["instance_id"] for i in result["instances"]] == ["i-1"]
    assert set(ecs.instances) == {"i-2"}
    assert ecs.calls.count("DeleteInstance") == 1 and clock.now >= 2


def test_an_image_being_created_from_the_instance_is_waited_for_first():
    clock = Clock()
    ecs = FakeEcs([instance("i-1", "Stopped", **{"alicloud.oos:image": "golden"})],
                  images=[{"ImageId": "m-1", "ImageName": "golden", "Status": "Creating"}])
    delete_temporary_instances(ecs, validate_tags(ROLE), sleep=clock.sleep, clock=clock)
    assert ecs.calls.index("DeleteInstance") > max(i for i, c in enumerate(ecs.calls) if c == "DescribeImages")
    assert not ecs.instances


def test_the_runs_own_instance_is_deleted_when_it_cannot_be_described():
    """DescribeInstances down: the instance the run created (known by id) is deleted anyway, then the task fails."""
    run = dict(ROLE, **{"alicloud.oos:run": "a"})
    ecs = FakeEcs([instance("i-1", "Starting", **{"alicloud.oos:run": "a"})], down=("DescribeInstances",))
    with pytest.raises(AlicloudError) as raised:
        delete_temporary_instances(ecs, validate_tags(run), instance_ids=["i-1"], sleep=Clock().sleep, clock=Clock())
    assert "deleted this run's instance(s) i-1" in str(raised.value) and not ecs.instances
    # Without an id to fall back on, the search error is the answer and nothing is deleted.
    ecs = FakeEcs([instance("i-1", **{"alicloud.oos:run": "a"})], down=("DescribeInstances",))
    with pytest.raises(AlicloudError):
        delete_temporary_instances(ecs, validate_tags(run))
    assert "DeleteInstance" not in ecs.calls


def test_an_id_without_the_tags_is_not_deleted_when_instances_can_be_described():
    ecs = FakeEcs([instance("i-1", **{"alicloud.oos:run": "other"})])
    result = delete_temporary_instances(ecs, validate_tags(dict(ROLE, **{"alicloud.oos:run": "a"})),
                                        instance_ids=["i-1"])
    assert result["instances"] == [] and "i-1" in ecs.instances


def test_watch_key_depends_on_tags_and_region():
    assert watch_key(ROLE, "cn-hangzhou") == watch_key(dict(ROLE), "cn-hangzhou")
    assert watch_key(ROLE, "cn-hangzhou") != watch_key(ROLE, "cn-shanghai")


def test_process_reads_this_process_and_a_finished_one_is_not_running():
    me = run_watch.process(os.getpid())
    assert me.pid == os.getpid() and me.ppid == os.getppid() and me.state not in ("Z", "X")
    assert run_watch.is_running(me)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    seen = run_watch.process(child.pid)
    child.wait()
    assert seen is None or not run_watch.is_running(seen)


def test_no_controller_outside_an_ansible_worker():
    """Under pytest the session leader is not a process forked from an ansible command: nothing to watch."""
    assert run_watch.controller_process() is None
    assert run_watch.start_watch("k", lambda: None, "nothing")["pid"] is None
    assert run_watch.release_watch("k") is False
